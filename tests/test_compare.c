/* The comparison harness must catch what it must: pairs of results with injected faults (a flipped mask
 * pixel, a renumbered label image, a 1-ULP change, a wrong or missing table row) fail with the right place
 * reported, identical results pass; the reports parse back; `compare --quick` without a GPU skips every
 * case with the reason (exit 77) and still writes its files; the hidden twin/perturb modes run the whole
 * harness on the CPU and find an injected fault in an op case and in a named pipeline stage. */
#include "cli/commands.h"
#include "compare/compare.h"
#include "tests/support/tp_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- building results by hand ---- */

static tp_result image_result(tp_dtype t, int ndim, const int64_t *shape, int channel_axis)
{
    tp_result r = tp_result_empty();
    r.kind = TP_OUT_IMAGE;
    if (tp_image_alloc(tp_test_ctx, &r.image, t, ndim, shape, channel_axis, TP_HOST) == TP_OK)
        memset(r.image.data, 0, (size_t)tp_image_count(&r.image) * tp_dtype_size(t));
    return r;
}

static tp_result copy_result(const tp_result *src)
{
    tp_result r = *src;
    r.image = tp_image_empty();
    r.table = tp_table_empty();
    if (src->kind != TP_OUT_TABLE) {
        CHECK_OK(tp_image_copy(tp_test_ctx, &src->image, &r.image, TP_HOST));
        return r;
    }
    r.table.nrows = src->table.nrows;
    for (int j = 0; j < src->table.ncols; j++) {
        CHECK_OK(tp_table_add_column(tp_test_ctx, &r.table, src->table.cols[j].name, src->table.cols[j].dtype));
        memcpy(r.table.cols[j].data, src->table.cols[j].data,
               (size_t)src->table.nrows * tp_dtype_size(src->table.cols[j].dtype));
    }
    return r;
}

/* A regionprops-like table: label, area (int64), intensity_mean, solidity (float64). */
static tp_result table_result(int n, const int64_t *labels)
{
    tp_result r = tp_result_empty();
    r.kind = TP_OUT_TABLE;
    r.table.nrows = n;
    CHECK_OK(tp_table_add_column(tp_test_ctx, &r.table, "label", TP_INT64));
    CHECK_OK(tp_table_add_column(tp_test_ctx, &r.table, "area", TP_INT64));
    CHECK_OK(tp_table_add_column(tp_test_ctx, &r.table, "intensity_mean", TP_FLOAT64));
    CHECK_OK(tp_table_add_column(tp_test_ctx, &r.table, "solidity", TP_FLOAT64));
    for (int i = 0; i < n; i++) {
        ((int64_t *)r.table.cols[0].data)[i] = labels[i];
        ((int64_t *)r.table.cols[1].data)[i] = 10 * labels[i] + 3;
        ((double *)r.table.cols[2].data)[i] = 0.1 * (double)labels[i] + 1.0 / 3.0;
        ((double *)r.table.cols[3].data)[i] = 1.0 - 1.0 / (double)(labels[i] + 7);
    }
    return r;
}

static const tp_op_desc *op(const char *name)
{
    const tp_op_desc *d = tp_op_find(name);
    CHECK_MSG(d != NULL, "op %s is not registered", name);
    return d;
}

/* ---- contracts ---- */

static int test_identical_results_pass(void)
{
    int64_t shape[2] = {5, 6};
    tp_result a = image_result(TP_FLOAT32, 2, shape, -1), b;
    for (int i = 0; i < 30; i++)
        ((float *)a.image.data)[i] = (float)i / 7.0f - 1.0f;
    ((float *)a.image.data)[4] = NAN; /* NaN against NaN is the same value */
    b = copy_result(&a);
    tp_case_metrics m;
    CHECK(tp_contract_eval(op("gaussian"), &a, &b, &m));
    CHECK(m.mismatches == 0 && m.compared == 30 && m.max_ulp == 0 && !m.has_first);
    tp_result_free(&b);
    tp_result_free(&a);

    int64_t labels[3] = {1, 4, 9};
    tp_result t = table_result(3, labels), u = copy_result(&t);
    CHECK(tp_contract_eval(op("regionprops_table"), &t, &u, &m));
    CHECK(m.is_table && m.rows_cpu == 3 && m.rows_gpu == 3 && m.compared == 12);
    /* equal infinities and NaNs are equal values; an infinity of the other sign is not */
    ((double *)t.table.cols[3].data)[0] = ((double *)u.table.cols[3].data)[0] = INFINITY;
    ((double *)t.table.cols[2].data)[1] = ((double *)u.table.cols[2].data)[1] = NAN;
    CHECK(tp_contract_eval(op("regionprops_table"), &t, &u, &m) && m.max_abs == 0 && m.max_rel == 0);
    ((double *)u.table.cols[3].data)[0] = -INFINITY;
    CHECK(!tp_contract_eval(op("regionprops_table"), &t, &u, &m) && m.first_row == 0);
    ((double *)u.table.cols[3].data)[0] = INFINITY;
    /* rows in another order are the same table: they are matched by label */
    int64_t tmp = ((int64_t *)u.table.cols[0].data)[0];
    for (int j = 0; j < u.table.ncols; j++) {
        char *d = u.table.cols[j].data;
        char x[8];
        memcpy(x, d, 8), memcpy(d, d + 16, 8), memcpy(d + 16, x, 8);
    }
    CHECK(((int64_t *)u.table.cols[0].data)[2] == tmp);
    CHECK(tp_contract_eval(op("regionprops_table"), &t, &u, &m));
    tp_result_free(&t);
    tp_result_free(&u);
    return 0;
}

static int test_flipped_mask_pixel_fails_at_its_place(void)
{
    int64_t shape[2] = {7, 9};
    tp_result a = image_result(TP_BOOL, 2, shape, -1);
    uint8_t *m0 = a.image.data;
    for (int i = 0; i < 63; i++)
        m0[i] = (i * 7) % 3 == 0;
    tp_result b = copy_result(&a);
    ((uint8_t *)b.image.data)[3 * 9 + 5] ^= 1;
    tp_case_metrics m;
    CHECK(!tp_contract_eval(op("binary_erosion"), &a, &b, &m));
    CHECK(m.mismatches == 1 && m.has_first);
    CHECK(m.first_ndim == 2 && m.first_index[0] == 3 && m.first_index[1] == 5);
    CHECK(m.first_cpu == (double)m0[32] && m.first_gpu == (double)!m0[32]);
    char line[512];
    tp_metrics_describe(&m, line, sizeof line);
    CHECK_MSG(strstr(line, "[3, 5]") != NULL, "%s", line);
    /* a 3D result with a channel axis reports the full index */
    int64_t s3[3] = {2, 3, 4};
    tp_result c = image_result(TP_UINT8, 3, s3, 2), d = copy_result(&c);
    ((uint8_t *)d.image.data)[1 * 12 + 2 * 4 + 3] = 9;
    CHECK(!tp_contract_eval(op("extract_channel"), &c, &d, &m));
    CHECK(m.first_ndim == 3 && m.first_index[0] == 1 && m.first_index[1] == 2 && m.first_index[2] == 3);
    CHECK(m.max_abs == 9 && m.first_gpu == 9);
    tp_result_free(&a);
    tp_result_free(&b);
    tp_result_free(&c);
    tp_result_free(&d);
    return 0;
}

static int test_label_renumbering_is_a_failure_with_same_partition(void)
{
    int64_t shape[2] = {4, 6};
    static const int32_t lab[24] = {1,      1, 0, 2, 2, 0, /**/ 1, 0, 0, 0, 2, 0, /**/ 0, 0, 3, 3, 0, 0,
                                    /**/ 4, 0, 3, 0, 0, 5};
    tp_result a = image_result(TP_INT32, 2, shape, -1);
    memcpy(a.image.data, lab, sizeof lab);
    tp_result b = copy_result(&a);
    int32_t *g = b.image.data;
    for (int i = 0; i < 24; i++) /* a permutation of the numbers: 1->3, 2->1, 3->2, 4 and 5 kept */
        g[i] = lab[i] == 1 ? 3 : lab[i] == 2 ? 1 : lab[i] == 3 ? 2 : lab[i];
    tp_case_metrics m;
    CHECK(!tp_contract_eval(op("label"), &a, &b, &m));
    CHECK(m.is_labels && m.same_partition && !m.same_numbering);
    CHECK(m.has_first && m.first_index[0] == 0 && m.first_index[1] == 0 && m.first_cpu == 1 && m.first_gpu == 3);
    CHECK(m.mismatches == 9); /* the pixels of labels 1, 2 and 3 */
    /* merging two regions is not a renumbering */
    memcpy(g, lab, sizeof lab);
    g[23] = 4;
    CHECK(!tp_contract_eval(op("label"), &a, &b, &m));
    CHECK(!m.same_partition && !m.same_numbering && m.mismatches == 1);
    CHECK(m.first_index[0] == 3 && m.first_index[1] == 5);
    /* nor is a background pixel turned into a region */
    memcpy(g, lab, sizeof lab);
    g[2] = 6;
    CHECK(!tp_contract_eval(op("label"), &a, &b, &m));
    CHECK(!m.same_partition);
    /* identical labels pass, and say so */
    memcpy(g, lab, sizeof lab);
    CHECK(tp_contract_eval(op("label"), &a, &b, &m));
    CHECK(m.same_partition && m.same_numbering);
    /* a different label dtype fails even with the same numbers */
    tp_result c = image_result(TP_INT64, 2, shape, -1);
    for (int i = 0; i < 24; i++)
        ((int64_t *)c.image.data)[i] = lab[i];
    CHECK(!tp_contract_eval(op("label"), &a, &c, &m));
    CHECK(m.same_numbering && m.same_partition && strstr(m.note, "dtype") != NULL);
    tp_result_free(&a);
    tp_result_free(&b);
    tp_result_free(&c);
    return 0;
}

static int test_one_ulp_fails_an_exact_contract(void)
{
    int64_t shape[2] = {3, 11};
    for (int t = 0; t < 2; t++) {
        tp_dtype dt = t ? TP_FLOAT32 : TP_FLOAT64;
        tp_result a = image_result(dt, 2, shape, -1);
        for (int i = 0; i < 33; i++)
            tp_set_f64(a.image.data, dt, i, 0.37 * i - 3.1);
        tp_result b = copy_result(&a);
        if (t)
            ((float *)b.image.data)[20] = nextafterf(((float *)b.image.data)[20], -INFINITY);
        else
            ((double *)b.image.data)[20] = nextafter(((double *)b.image.data)[20], INFINITY);
        tp_case_metrics m;
        CHECK(!tp_contract_eval(op("gaussian"), &a, &b, &m));
        CHECK_MSG(m.max_ulp == 1 && m.mismatches == 1, "%s: max_ulp %g", tp_dtype_name(dt), m.max_ulp);
        CHECK(m.first_index[0] == 1 && m.first_index[1] == 9);
        CHECK(m.max_abs > 0 && m.max_rel > 0 && m.max_rel < 1e-6);
        /* the same pair under an ULP contract of 1 passes, of 0 fails */
        tp_contract ulp1 = {TP_CONTRACT_ULP, 1, "test"}, ulp0 = {TP_CONTRACT_ULP, 0, "test"};
        CHECK(tp_contract_eval_with(&ulp1, &a, &b, &m) && m.max_ulp == 1);
        CHECK(!tp_contract_eval_with(&ulp0, &a, &b, &m));
        tp_contract rel = {TP_CONTRACT_REL, 1e-5, "test"};
        CHECK(tp_contract_eval_with(&rel, &a, &b, &m));
        /* +0 and -0 are 0 ULP apart but not the same bits: an exact contract sees it */
        tp_set_f64(a.image.data, dt, 0, 0.0);
        tp_set_f64(b.image.data, dt, 0, -0.0);
        CHECK(!tp_contract_eval(op("gaussian"), &a, &b, &m) && m.mismatches == 2 && m.first_index[1] == 0);
        tp_result_free(&a);
        tp_result_free(&b);
    }
    /* scalars (threshold_otsu's result) are judged the same way */
    int64_t one = 1;
    tp_result s = image_result(TP_FLOAT64, 1, &one, -1), u;
    s.kind = TP_OUT_SCALAR;
    ((double *)s.image.data)[0] = 120.5;
    u = copy_result(&s);
    ((double *)u.image.data)[0] = nextafter(120.5, 0);
    tp_case_metrics m;
    CHECK(!tp_contract_eval(op("threshold_otsu"), &s, &u, &m) && m.max_ulp == 1);
    tp_result_free(&s);
    tp_result_free(&u);
    return 0;
}

static int test_wrong_table_value_names_row_label_column(void)
{
    int64_t labels[4] = {2, 3, 5, 8};
    tp_result a = table_result(4, labels), b = copy_result(&a);
    ((int64_t *)b.table.cols[1].data)[2] += 1; /* area of label 5 */
    tp_case_metrics m;
    CHECK(!tp_contract_eval(op("regionprops_table"), &a, &b, &m));
    CHECK(m.is_table && m.has_first && m.mismatches == 1);
    CHECK(m.first_row == 2 && m.first_label == 5 && strcmp(m.first_column, "area") == 0 && !m.first_missing);
    CHECK(m.first_cpu == 53 && m.first_gpu == 54);
    ((int64_t *)b.table.cols[1].data)[2] -= 1;
    /* a float column within 1e-12 relative passes; beyond it fails, naming the column */
    double *mean = b.table.cols[2].data;
    mean[1] *= 1 + 1e-14;
    CHECK(tp_contract_eval(op("regionprops_table"), &a, &b, &m));
    mean[3] *= 1 + 1e-9;
    CHECK(!tp_contract_eval(op("regionprops_table"), &a, &b, &m));
    CHECK(m.first_row == 3 && m.first_label == 8 && strcmp(m.first_column, "intensity_mean") == 0);
    char line[512];
    tp_metrics_describe(&m, line, sizeof line);
    CHECK_MSG(strstr(line, "label 8") && strstr(line, "intensity_mean"), "%s", line);
    tp_result_free(&a);
    tp_result_free(&b);
    return 0;
}

static int test_missing_row_and_column_fail(void)
{
    int64_t labels[3] = {1, 2, 3}, fewer[2] = {1, 2};
    tp_result a = table_result(3, labels), b = table_result(2, fewer);
    tp_case_metrics m;
    CHECK(!tp_contract_eval(op("regionprops_table"), &a, &b, &m));
    CHECK(m.rows_cpu == 3 && m.rows_gpu == 2 && m.has_first);
    CHECK(m.first_missing == 1 && m.first_label == 3 && m.first_row == 2);
    /* the other way round: a row only on the GPU side */
    CHECK(!tp_contract_eval(op("regionprops_table"), &b, &a, &m));
    CHECK(m.first_missing == 2 && m.first_label == 3);
    cJSON *j = tp_metrics_to_json(&m);
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(j, "first_mismatch");
    CHECK(cJSON_IsObject(f) && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(f, "column")));
    CHECK(cJSON_GetObjectItemCaseSensitive(f, "label")->valuedouble == 3);
    cJSON_Delete(j);
    /* a missing column */
    tp_result c = copy_result(&a);
    strcpy(c.table.cols[3].name, "solidity_x");
    CHECK(!tp_contract_eval(op("regionprops_table"), &a, &c, &m));
    CHECK(strstr(m.note, "solidity") != NULL);
    tp_result_free(&a);
    tp_result_free(&b);
    tp_result_free(&c);
    return 0;
}

static int test_structural_differences(void)
{
    int64_t s1[2] = {4, 5}, s2[2] = {5, 4};
    tp_result a = image_result(TP_UINT8, 2, s1, -1), b = image_result(TP_UINT8, 2, s2, -1);
    tp_result c = image_result(TP_UINT16, 2, s1, -1);
    tp_case_metrics m;
    CHECK(!tp_contract_eval(op("gaussian"), &a, &b, &m) && strstr(m.note, "shape") != NULL);
    CHECK(!tp_contract_eval(op("gaussian"), &a, &c, &m) && strstr(m.note, "dtype") != NULL);
    int64_t labels[1] = {1};
    tp_result t = table_result(1, labels);
    CHECK(!tp_contract_eval(op("gaussian"), &a, &t, &m) && strstr(m.note, "kind") != NULL);
    tp_result_free(&a);
    tp_result_free(&b);
    tp_result_free(&c);
    tp_result_free(&t);
    return 0;
}

static int test_metrics_json_keys(void)
{
    int64_t shape[2] = {2, 2};
    tp_result a = image_result(TP_INT32, 2, shape, -1), b = copy_result(&a);
    ((int32_t *)a.image.data)[0] = 1;
    ((int32_t *)b.image.data)[0] = 2;
    tp_case_metrics m;
    tp_contract_eval(op("label"), &a, &b, &m);
    cJSON *j = tp_metrics_to_json(&m);
    static const char *keys[] = {"mismatches",     "max_abs",        "max_rel",       "max_ulp",
                                 "first_mismatch", "same_partition", "same_numbering"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        CHECK_MSG(cJSON_GetObjectItemCaseSensitive(j, keys[i]) != NULL, "missing %s", keys[i]);
    const cJSON *idx = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "first_mismatch"), "index");
    CHECK(cJSON_GetArraySize(idx) == 2);
    cJSON_Delete(j);
    tp_result_free(&a);
    tp_result_free(&b);
    return 0;
}

/* ---- matrix pieces ---- */

static int count_param(void *user, const char *name, const char *value)
{
    (void)name, (void)value;
    ++*(int *)user;
    return 0;
}

static int test_params_split_and_adapt(void)
{
    int n = 0;
    tp_cmp_params_each("colors=red;lime;blue;alpha=0.5", count_param, &n);
    CHECK(n == 2);
    cJSON *j = tp_cmp_params_json("colors=red;lime;blue;alpha=0.5");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "colors");
    CHECK(cJSON_IsString(c) && strcmp(c->valuestring, "red;lime;blue") == 0);
    cJSON_Delete(j);
    char out[256];
    tp_cmp_params_adapt(op("binary_erosion"), "footprint=disk:2;mode=min", 3, out, sizeof out);
    CHECK_MSG(strcmp(out, "footprint=ball:2;mode=min") == 0, "%s", out);
    tp_cmp_params_adapt(op("binary_erosion"), "footprint=rectangle:2x4", 3, out, sizeof out);
    CHECK_MSG(strcmp(out, "footprint=cuboid:2x2x4") == 0, "%s", out);
    tp_cmp_params_adapt(op("binary_erosion"), "footprint=disk:2", 2, out, sizeof out);
    CHECK(strcmp(out, "footprint=disk:2") == 0);
    tp_cmp_params_adapt(op("gaussian"), "sigma=1,3;truncate=3", 3, out, sizeof out);
    CHECK_MSG(strcmp(out, "sigma=1,1,3;truncate=3") == 0, "%s", out);
    tp_cmp_params_adapt(op("gaussian"), "sigma=5", 3, out, sizeof out);
    CHECK(strcmp(out, "sigma=5") == 0);
    return 0;
}

static int test_matrix_covers_every_op_from_the_registry(void)
{
    tp_cmp_options o;
    memset(&o, 0, sizeof o);
    o.quick = true;
    static tp_cmp_data data;
    memset(&data, 0, sizeof data);
    data.synthetic = true;
    tp_cmp_cases cs;
    CHECK_OK(tp_cmp_build_matrix(tp_test_ctx, &o, &data, &cs));
    for (int i = 0; i < tp_op_count(); i++) {
        const tp_op_desc *d = tp_op_at(i);
        int n = 0, ncases = 0, seen3d = 0, has1x1 = 0;
        unsigned dtypes = 0;
        while (d->cases && d->cases[ncases].params)
            ncases++;
        for (int64_t k = 0; k < cs.n; k++) {
            if (cs.v[k].op != d)
                continue;
            n++;
            dtypes |= TP_DT(cs.v[k].dtype);
            seen3d |= cs.v[k].ndim == 3;
            has1x1 |= cs.v[k].ndim == 2 && cs.v[k].shape[0] == 1 && cs.v[k].shape[1] == 1;
            CHECK(cs.v[k].case_index < (ncases ? ncases : 1));
        }
        CHECK_MSG(n >= ncases, "%s: %d cases for %d parameter sets", d->name, n, ncases);
        CHECK_MSG(dtypes == d->inputs[0].dtypes, "%s: dtypes 0x%x of 0x%x", d->name, dtypes, d->inputs[0].dtypes);
        CHECK_MSG(seen3d == !!(d->inputs[0].spatial_dims & TP_DIMS_3D), "%s: 3D", d->name);
        CHECK(has1x1);
    }
    /* --op and --size narrow it */
    tp_cmp_cases one;
    o.n_ops = 1;
    o.ops[0] = "gaussian";
    o.n_sizes = 1;
    o.sizes[0] = 31;
    CHECK_OK(tp_cmp_build_matrix(tp_test_ctx, &o, &data, &one));
    for (int64_t k = 0; k < one.n; k++)
        CHECK(strcmp(one.v[k].op->name, "gaussian") == 0 && one.v[k].shape[0] == 31);
    CHECK(one.n > 0);
    tp_cmp_cases_free(&one);
    tp_cmp_cases_free(&cs);
    return 0;
}

/* ---- pipelines ---- */

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = 0;
    fclose(f);
    return s;
}

static int test_seed_pipeline_file_matches_builtin(void)
{
    static tp_pipeline a[2], b[2];
    int na = 0, nb = 0;
    CHECK_OK(tp_pipeline_parse(tp_test_ctx, tp_pipeline_seed_json(), a, 2, &na));
    CHECK_OK(tp_pipeline_load(tp_test_ctx, TP_SOURCE_DIR "/compare/pipelines/seed.json", b, 2, &nb));
    CHECK(na == 1 && nb == 1);
    CHECK(a[0].n_steps == 8 && b[0].n_steps == 8);
    CHECK(memcmp(a[0].steps, b[0].steps, sizeof a[0].steps) == 0);
    CHECK(strcmp(a[0].name, "seed") == 0 && strcmp(a[0].description, b[0].description) == 0);
    static const char *ops[8] = {"extract_channel", "gaussian", "threshold_otsu", "threshold",
                                 "binary_erosion",  "label",    "label2rgb",      "regionprops_table"};
    for (int k = 0; k < 8; k++)
        CHECK(strcmp(a[0].steps[k].op, ops[k]) == 0);
    CHECK(strcmp(a[0].steps[3].pval[0], "$t") == 0);
    return 0;
}

static int test_pipeline_errors_are_precise(void)
{
    static tp_pipeline p[2];
    int n;
    static const struct {
        const char *json, *expect;
    } bad[] = {
        {"{\"name\": \"x\", \"steps\": [{\"op\": \"blur\", \"inputs\": [\"$input\"], \"as\": \"a\"}]}", "unknown op"},
        {"{\"name\": \"x\", \"steps\": [{\"op\": \"gaussian\", \"inputs\": [\"$nope\"], \"as\": \"a\"}]}", "$nope"},
        {"{\"name\": \"x\", \"steps\": [{\"op\": \"gaussian\", \"params\": {\"sigmaa\": 2}, \"inputs\": [\"$input\"], "
         "\"as\": \"a\"}]}",
         "sigmaa"},
        {"{\"name\": \"x\", \"steps\": [{\"op\": \"gaussian\", \"inputs\": [\"$input\"], \"as\": \"a\"}, {\"op\": "
         "\"label\", \"inputs\": [\"$a\"], \"as\": \"a\"}]}",
         "as"},
        {"{\"name\": \"x\", \"steps\": [{\"op\": \"threshold\", \"params\": {\"threshold\": \"$later\"}, \"inputs\": "
         "[\"$input\"], \"as\": \"a\"}]}",
         "$later"},
        {"{\"name\": \"x\", \"steps\": []}", "steps"},
        {"{\"name\": \"x\", \"steps\": [", "JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(tp_pipeline_parse(tp_test_ctx, bad[i].json, p, 2, &n) == TP_ERR_ARG);
        CHECK_MSG(strstr(tp_last_error(tp_test_ctx), bad[i].expect) != NULL, "%s", tp_last_error(tp_test_ctx));
    }
    /* numbers and booleans are accepted as parameter values; several pipelines in one file */
    const char *ok =
        "{\"pipelines\": [{\"name\": \"a\", \"steps\": [{\"op\": \"gaussian\", \"params\": {\"sigma\": 2.5, "
        "\"preserve_range\": true}, \"inputs\": [\"$input\"], \"as\": \"g\"}]}, {\"name\": \"b\", "
        "\"steps\": [{\"op\": \"threshold_otsu\", \"inputs\": [\"$input\"], \"as\": \"t\"}]}]}";
    CHECK_OK(tp_pipeline_parse(tp_test_ctx, ok, p, 2, &n));
    CHECK(n == 2 && strcmp(p[0].steps[0].pval[0], "2.5") == 0 && strcmp(p[0].steps[0].pval[1], "true") == 0);
    return 0;
}

/* ---- the whole command ---- */

static char tmpdir[256];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tp_compare_test_XXXXXX");
    if (!mkdtemp(tmpdir))
        tmpdir[0] = 0;
}

static void remove_tmpdir(void)
{
    static const char *names[] = {"compare.json", "compare.junit.xml", "compare.txt", "pipe.json"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", tmpdir, names[i]);
        unlink(p);
    }
    rmdir(tmpdir);
}

static cJSON *load_json(const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    char *s = read_text(p);
    CHECK_MSG(s != NULL, "%s not written", p);
    cJSON *j = s ? cJSON_Parse(s) : NULL;
    CHECK_MSG(j != NULL, "%s does not parse", p);
    free(s);
    return j;
}

/* A small well-formedness check of XML (tags nest, attributes quoted, no raw '<' or '&'), and how many
 * elements of one name it holds. */
static int xml_count(const char *s, const char *element, int *count)
{
    char stack[16][64];
    int depth = 0;
    *count = 0;
    while (*s) {
        if (*s == '&') {
            if (strncmp(s, "&amp;", 5) && strncmp(s, "&lt;", 4) && strncmp(s, "&gt;", 4) && strncmp(s, "&quot;", 6) &&
                strncmp(s, "&apos;", 6))
                return -1;
            s++;
            continue;
        }
        if (*s != '<') {
            s++;
            continue;
        }
        const char *end = strchr(s, '>');
        if (!end)
            return -1;
        int quotes = 0;
        for (const char *q = s + 1; q < end; q++) {
            quotes += *q == '"';
            if (*q == '<')
                return -1;
        }
        if (quotes % 2)
            return -1;
        if (s[1] == '?') {
            s = end + 1;
            continue;
        }
        bool closing = s[1] == '/', selfclose = end[-1] == '/';
        const char *name = s + 1 + closing;
        size_t nl = strcspn(name, " />");
        if (nl == 0 || nl >= 64)
            return -1;
        if (closing) {
            if (depth == 0 || strncmp(stack[depth - 1], name, nl) || stack[depth - 1][nl])
                return -1;
            depth--;
        } else {
            if (strlen(element) == nl && strncmp(name, element, nl) == 0)
                ++*count;
            if (!selfclose) {
                if (depth == 16)
                    return -1;
                memcpy(stack[depth], name, nl);
                stack[depth++][nl] = 0;
            }
        }
        s = end + 1;
    }
    return depth == 0 ? 0 : -1;
}

static int run_compare(int n, const char **args)
{
    char *argv[32];
    argv[0] = "compare";
    for (int i = 0; i < n && i < 30; i++)
        argv[i + 1] = (char *)args[i];
    argv[n + 1] = NULL;
    fflush(stdout);
    return tp_compare_main(n + 1, argv);
}

static void check_reports(const cJSON *doc, int *ncases, int *npipes)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "schema_version");
    CHECK(cJSON_IsString(v) && strcmp(v->valuestring, "twinpix.compare/1") == 0);
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(doc, "meta");
    static const char *mk[] = {"version", "git_commit", "build_flags", "host_cpu", "host_threads", "hostname", "gpu"};
    for (size_t i = 0; i < sizeof mk / sizeof mk[0]; i++)
        CHECK_MSG(cJSON_GetObjectItemCaseSensitive(meta, mk[i]) != NULL, "meta.%s", mk[i]);
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases"), *c;
    const cJSON *pipes = cJSON_GetObjectItemCaseSensitive(doc, "pipelines");
    CHECK(cJSON_IsArray(cases) && cJSON_IsArray(pipes));
    *ncases = cJSON_GetArraySize(cases);
    *npipes = cJSON_GetArraySize(pipes);
    static const char *ck[] = {"op", "dataset", "shape", "dtype", "params", "contract", "verdict", "time_ms"};
    cJSON_ArrayForEach (c, cases) {
        for (size_t i = 0; i < sizeof ck / sizeof ck[0]; i++)
            CHECK_MSG(cJSON_GetObjectItemCaseSensitive(c, ck[i]) != NULL, "case.%s", ck[i]);
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(c, "contract");
        CHECK(cJSON_GetObjectItemCaseSensitive(k, "kind") && cJSON_GetObjectItemCaseSensitive(k, "tol") &&
              cJSON_GetObjectItemCaseSensitive(k, "why"));
    }
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, "summary");
    int total = 0;
    static const char *sk[] = {"pass", "fail", "skip"};
    for (int i = 0; i < 3; i++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(s, sk[i]);
        CHECK(cJSON_IsNumber(x));
        total += x ? (int)x->valuedouble : 0;
    }
    CHECK(total == *ncases + *npipes);
}

static void check_junit(int expect_tests, int expect_failures)
{
    char p[512];
    snprintf(p, sizeof p, "%s/compare.junit.xml", tmpdir);
    char *x = read_text(p);
    CHECK_MSG(x != NULL, "%s not written", p);
    if (!x)
        return;
    int n = 0, nf = 0, dummy;
    CHECK_MSG(xml_count(x, "testcase", &n) == 0, "compare.junit.xml is not well-formed");
    xml_count(x, "failure", &nf);
    CHECK_MSG(n == expect_tests, "%d testcases, expected %d", n, expect_tests);
    CHECK_MSG(expect_failures < 0 || nf == expect_failures, "%d failures, expected %d", nf, expect_failures);
    CHECK(xml_count(x, "testsuites", &dummy) == 0 && dummy == 1);
    free(x);
    if (access("/usr/bin/python3", X_OK) == 0) {
        char cmd[700];
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' %s", p);
        CHECK_MSG(system(cmd) == 0, "python cannot parse %s", p);
    }
}

static int test_quick_without_gpu_skips_everything(void)
{
    char why[256];
    if (tp_backend_available(TP_BACKEND_CUDA, why, sizeof why)) {
        printf("  skipped: a GPU is present (this test is about its absence)\n");
        return TP_TEST_SKIP;
    }
    make_tmpdir();
    const char *args[] = {"--quick", "--threads", "2", "--out", tmpdir};
    int rc = run_compare(5, args);
    CHECK_MSG(rc == TP_EXIT_SKIPPED, "exit %d", rc);
    cJSON *doc = load_json("compare.json");
    int nc = 0, np = 0, cpu_timed = 0;
    if (doc) {
        check_reports(doc, &nc, &np);
        CHECK(nc > 50 && np >= 1);
        const cJSON *c, *meta = cJSON_GetObjectItemCaseSensitive(doc, "meta");
        CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(meta, "gpu")));
        CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(meta, "gpu_unavailable_reason")));
        cJSON_ArrayForEach (c, cJSON_GetObjectItemCaseSensitive(doc, "cases")) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "verdict");
            CHECK(cJSON_IsString(v) && strcmp(v->valuestring, "skip") == 0);
            const cJSON *r = cJSON_GetObjectItemCaseSensitive(c, "skip_reason");
            CHECK(cJSON_IsString(r) && strlen(r->valuestring) > 0);
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "time_ms"), "cpu");
            cpu_timed += cJSON_IsNumber(t);
        }
        CHECK_MSG(cpu_timed == nc, "the CPU side ran in %d of %d cases", cpu_timed, nc);
        cJSON_ArrayForEach (c, cJSON_GetObjectItemCaseSensitive(doc, "pipelines")) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "verdict");
            CHECK(cJSON_IsString(v) && strcmp(v->valuestring, "skip") == 0);
            CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c, "stages")) == 8);
        }
        cJSON_Delete(doc);
    }
    check_junit(nc + np, 0);
    char p[512];
    snprintf(p, sizeof p, "%s/compare.txt", tmpdir);
    char *txt = read_text(p);
    CHECK(txt && strstr(txt, "total") && strstr(txt, "skipped"));
    free(txt);
    /* --require-gpu turns the same run into a failure with exit 4 */
    const char *req[] = {"--quick", "--op", "threshold", "--dataset", "synthetic", "--require-gpu", "--out", tmpdir};
    CHECK(run_compare(8, req) == TP_EXIT_NO_DEVICE);
    doc = load_json("compare.json");
    if (doc) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, "summary");
        CHECK(cJSON_GetObjectItemCaseSensitive(s, "fail")->valuedouble > 0);
        CHECK(cJSON_GetObjectItemCaseSensitive(s, "skip")->valuedouble == 0);
        cJSON_Delete(doc);
    }
    remove_tmpdir();
    return 0;
}

static int test_usage_errors(void)
{
    const char *a[] = {"--op", "no_such_op"};
    CHECK(run_compare(2, a) == TP_EXIT_USAGE);
    const char *b[] = {"--size", "0"};
    CHECK(run_compare(2, b) == TP_EXIT_USAGE);
    const char *c[] = {"--frobnicate"};
    CHECK(run_compare(1, c) == TP_EXIT_USAGE);
    const char *d[] = {"--dataset", "no_such_dataset"};
    CHECK(run_compare(2, d) == TP_EXIT_USAGE);
    const char *e[] = {
        "--pipeline", "/nonexistent/pipe.json", "--no-pipelines", "--quick", "--op", "threshold", "--dataset",
        "synthetic"};
    CHECK(run_compare(8, e) != TP_EXIT_IO); /* --no-pipelines wins: the file is not read */
    const char *f[] = {"--pipeline", "/nonexistent/pipe.json", "--dataset", "synthetic", "--op", "threshold"};
    CHECK(run_compare(6, f) == TP_EXIT_IO);
    const char *h[] = {"--help"};
    CHECK(run_compare(1, h) == TP_EXIT_OK);
    return 0;
}

/* The case verdicts of a twin run over ops whose CPU side works (others are reported, not judged here). */
static void twin_verdicts(const cJSON *doc, int *pass, int *fail, int *with_first)
{
    const cJSON *c;
    *pass = *fail = *with_first = 0;
    cJSON_ArrayForEach (c, cJSON_GetObjectItemCaseSensitive(doc, "cases")) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "verdict");
        if (cJSON_GetObjectItemCaseSensitive(c, "error"))
            continue;
        *pass += strcmp(v->valuestring, "pass") == 0;
        *fail += strcmp(v->valuestring, "fail") == 0;
        const cJSON *f =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "metrics"), "first_mismatch");
        *with_first += cJSON_IsObject(f) && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(f, "index"));
    }
}

static int test_twin_and_perturbed_runs(void)
{
    make_tmpdir();
    /* threshold and extract_channel are the simplest ops: their CPU side is the least likely to be a placeholder */
    const char *twin[] = {"--inject-fault",  "twin",      "--quick",   "--op",  "threshold", "--op",
                          "extract_channel", "--dataset", "synthetic", "--out", tmpdir};
    int rc = run_compare(11, twin);
    cJSON *doc = load_json("compare.json");
    int pass = 0, fail = 0, first = 0, nc = 0, np = 0;
    if (doc) {
        check_reports(doc, &nc, &np);
        twin_verdicts(doc, &pass, &fail, &first);
        CHECK_MSG(fail == 0 && pass > 10, "twin run: %d pass, %d fail", pass, fail);
        CHECK(rc == (fail ? TP_EXIT_CHECK_FAILED : TP_EXIT_OK));
        cJSON_Delete(doc);
    }
    const char *bad[] = {"--inject-fault",  "perturb",   "--quick",   "--op",  "threshold", "--op",
                         "extract_channel", "--dataset", "synthetic", "--out", tmpdir};
    rc = run_compare(11, bad);
    CHECK(rc == TP_EXIT_CHECK_FAILED);
    doc = load_json("compare.json");
    if (doc) {
        check_reports(doc, &nc, &np);
        twin_verdicts(doc, &pass, &fail, &first);
        CHECK_MSG(pass == 0 && fail > 10 && first == fail, "perturbed run: %d pass, %d fail, %d located", pass, fail,
                  first);
        cJSON_Delete(doc);
    }
    check_junit(nc + np, -1);
    remove_tmpdir();
    return 0;
}

static int test_pipeline_names_the_first_differing_stage(void)
{
    make_tmpdir();
    char pipe[512];
    snprintf(pipe, sizeof pipe, "%s/pipe.json", tmpdir);
    FILE *f = fopen(pipe, "w");
    CHECK(f != NULL);
    if (!f)
        return 0;
    fputs(
        "{\"name\": \"mini\", \"steps\": [\n"
        " {\"op\": \"extract_channel\", \"when\": \"channels\", \"params\": {\"channel\": 1}, \"inputs\": [\"$input\"],"
        " \"as\": \"ch\"},\n"
        " {\"op\": \"threshold\", \"params\": {\"threshold\": 100}, \"inputs\": [\"$ch\"], \"as\": \"mask\"},\n"
        " {\"op\": \"threshold\", \"params\": {\"threshold\": 50.5}, \"inputs\": [\"$ch\"], \"as\": \"mask2\"}]}\n",
        f);
    fclose(f);
    const char *fault[3] = {"twin", "perturb:mask", "perturb"};
    const char *want[3] = {NULL, "mask", "ch"};
    for (int r = 0; r < 3; r++) {
        /* --op with --pipeline: the file's pipelines run beside that op's cases */
        const char *args[] = {"--inject-fault", fault[r],    "--quick", "--dataset", "synthetic", "--pipeline", pipe,
                              "--op",           "threshold", "--out",   tmpdir};
        int rc = run_compare(11, args);
        cJSON *doc = load_json("compare.json");
        if (!doc)
            continue;
        const cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "pipelines"), 0);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, "verdict");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(p, "first_differing_stage");
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "stages")) == 3);
        if (!want[r]) {
            CHECK_MSG(cJSON_IsString(v) && strcmp(v->valuestring, "pass") == 0, "twin pipeline: %s",
                      cJSON_IsString(v) ? v->valuestring : "?");
            CHECK(cJSON_IsNull(s));
        } else {
            CHECK(rc == TP_EXIT_CHECK_FAILED);
            CHECK(cJSON_IsString(v) && strcmp(v->valuestring, "fail") == 0);
            CHECK_MSG(cJSON_IsString(s) && strcmp(s->valuestring, want[r]) == 0,
                      "first differing stage %s, expected %s", cJSON_IsString(s) ? s->valuestring : "null", want[r]);
        }
        cJSON_Delete(doc);
    }
    remove_tmpdir();
    return 0;
}

TP_TESTS(T(test_identical_results_pass), T(test_flipped_mask_pixel_fails_at_its_place),
         T(test_label_renumbering_is_a_failure_with_same_partition), T(test_one_ulp_fails_an_exact_contract),
         T(test_wrong_table_value_names_row_label_column), T(test_missing_row_and_column_fail),
         T(test_structural_differences), T(test_metrics_json_keys), T(test_params_split_and_adapt),
         T(test_matrix_covers_every_op_from_the_registry), T(test_seed_pipeline_file_matches_builtin),
         T(test_pipeline_errors_are_precise), T(test_quick_without_gpu_skips_everything), T(test_usage_errors),
         T(test_twin_and_perturbed_runs), T(test_pipeline_names_the_first_differing_stage))

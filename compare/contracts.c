/* Evaluating a parity contract on two results. Images are compared element by element in C order, so the
 * first mismatch is the one a reader finds first in the array; label images are also checked for the same
 * partition up to renumbering (so a report can say "right regions, wrong numbers"); tables are matched row
 * by row on their "label" column, because row order is part of what a backend may get wrong. */
#include "compare/contracts.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *tp_contract_kind_name(tp_contract_kind k)
{
    switch (k) {
    case TP_CONTRACT_EXACT: return "exact";
    case TP_CONTRACT_ULP: return "ulp";
    case TP_CONTRACT_REL: return "relative";
    case TP_CONTRACT_LABELS: return "labels";
    case TP_CONTRACT_TABLE: return "table";
    }
    return "unknown";
}

/* ---- element access ---- */

static int64_t get_i64(const void *d, tp_dtype t, int64_t i)
{
    switch (t) {
    case TP_BOOL:
    case TP_UINT8: return ((const uint8_t *)d)[i];
    case TP_INT8: return ((const int8_t *)d)[i];
    case TP_UINT16: return ((const uint16_t *)d)[i];
    case TP_INT16: return ((const int16_t *)d)[i];
    case TP_UINT32: return ((const uint32_t *)d)[i];
    case TP_INT32: return ((const int32_t *)d)[i];
    case TP_INT64: return ((const int64_t *)d)[i];
    default: return (int64_t)tp_get_f64(d, t, i);
    }
}

/* Distance in representable values of the dtype; crossing zero adds both magnitudes (-0 and +0 are 0
 * apart). A NaN against a number is infinitely far. */
static double ulp_distance(tp_dtype t, double a, double b)
{
    if (isnan(a) || isnan(b))
        return (isnan(a) && isnan(b)) ? 0 : INFINITY;
    uint64_t ma, mb;
    bool na, nb;
    if (t == TP_FLOAT32) {
        float fa = (float)a, fb = (float)b;
        uint32_t ua, ub;
        memcpy(&ua, &fa, 4);
        memcpy(&ub, &fb, 4);
        na = ua >> 31, nb = ub >> 31;
        ma = ua & 0x7fffffffu, mb = ub & 0x7fffffffu;
    } else {
        uint64_t ua, ub;
        memcpy(&ua, &a, 8);
        memcpy(&ub, &b, 8);
        na = ua >> 63, nb = ub >> 63;
        ma = ua & 0x7fffffffffffffffull, mb = ub & 0x7fffffffffffffffull;
    }
    if (na == nb)
        return (double)(ma > mb ? ma - mb : mb - ma);
    return (double)ma + (double)mb;
}

static double rel_error(double c, double g)
{
    if (c == g) /* also equal infinities, whose difference is NaN */
        return 0;
    if (isnan(c) || isnan(g))
        return (isnan(c) && isnan(g)) ? 0 : INFINITY;
    double d = fabs(g - c), s = fmax(fabs(c), fabs(g));
    if (d == 0)
        return 0;
    return isinf(s) ? INFINITY : d / s;
}

/* |g - c|, 0 for equal values (infinities included) and for two NaNs, infinite for a NaN against a number */
static double abs_diff(double c, double g)
{
    if (c == g || (isnan(c) && isnan(g)))
        return 0;
    double d = fabs(g - c);
    return isnan(d) ? INFINITY : d;
}

bool tp_float_elem_same(tp_dtype t, const void *a, const void *b)
{
    if (t == TP_FLOAT32) {
        float x, y;
        memcpy(&x, a, sizeof x);
        memcpy(&y, b, sizeof y);
        return isnan(x) ? isnan(y) : memcmp(&x, &y, sizeof x) == 0;
    }
    double x, y;
    memcpy(&x, a, sizeof x);
    memcpy(&y, b, sizeof y);
    return isnan(x) ? isnan(y) : memcmp(&x, &y, sizeof x) == 0;
}

/* Does a float pair break the contract? Exact means the same bits, except that which NaN is unspecified
 * (docs/nonfinite.md): a NaN matches any NaN (sign, quiet bit and payload free), and only a NaN. */
static bool float_violates(const tp_contract *k, tp_dtype t, const void *cd, const void *gd, int64_t i, double c,
                           double g, double ulp, double rel)
{
    switch (k->kind) {
    case TP_CONTRACT_ULP: return !(ulp <= k->tol);
    case TP_CONTRACT_REL:
    case TP_CONTRACT_TABLE: return !(rel <= k->tol) && memcmp(&c, &g, sizeof c) != 0;
    default: {
        size_t es = tp_dtype_size(t);
        return !tp_float_elem_same(t, (const char *)cd + (size_t)i * es, (const char *)gd + (size_t)i * es);
    }
    }
}

static void unravel(int64_t flat, int ndim, const int64_t *shape, int64_t *idx)
{
    for (int d = ndim - 1; d >= 0; d--) {
        int64_t s = shape[d] > 0 ? shape[d] : 1;
        idx[d] = flat % s;
        flat /= s;
    }
}

static void note_first_element(tp_case_metrics *m, const tp_image *shape_of, int64_t i, double c, double g)
{
    if (m->has_first)
        return;
    m->has_first = true;
    m->first_ndim = shape_of->ndim;
    unravel(i, shape_of->ndim, shape_of->shape, m->first_index);
    m->first_cpu = c;
    m->first_gpu = g;
}

static void track(tp_case_metrics *m, double abs_d, double rel, double ulp)
{
    if (abs_d > m->max_abs || isnan(abs_d))
        m->max_abs = isnan(abs_d) ? INFINITY : abs_d;
    if (rel > m->max_rel)
        m->max_rel = rel;
    if (ulp > m->max_ulp)
        m->max_ulp = ulp;
}

/* ---- a small int64 -> int64 hash map (label correspondences) ---- */

typedef struct i64map {
    int64_t *key, *val;
    uint8_t *used;
    int64_t cap, n;
} i64map;

static uint64_t mix(int64_t k)
{
    uint64_t x = (uint64_t)k + 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void map_free(i64map *m)
{
    free(m->key);
    free(m->val);
    free(m->used);
    memset(m, 0, sizeof *m);
}

static bool map_init(i64map *m, int64_t cap)
{
    memset(m, 0, sizeof *m);
    m->cap = cap;
    m->key = malloc(sizeof(int64_t) * (size_t)cap);
    m->val = malloc(sizeof(int64_t) * (size_t)cap);
    m->used = calloc((size_t)cap, 1);
    if (!m->key || !m->val || !m->used) {
        map_free(m);
        return false;
    }
    return true;
}

/* Slot of k: where it is, or the empty slot where it would go. */
static int64_t map_slot(const i64map *m, int64_t k)
{
    int64_t s = (int64_t)(mix(k) & (uint64_t)(m->cap - 1));
    while (m->used[s] && m->key[s] != k)
        s = (s + 1) & (m->cap - 1);
    return s;
}

static bool map_grow(i64map *m)
{
    i64map g;
    if (!map_init(&g, m->cap * 2))
        return false;
    for (int64_t s = 0; s < m->cap; s++)
        if (m->used[s]) {
            int64_t t = map_slot(&g, m->key[s]);
            g.used[t] = 1, g.key[t] = m->key[s], g.val[t] = m->val[s];
            g.n++;
        }
    map_free(m);
    *m = g;
    return true;
}

/* Bind k to v if unbound. *ok is false when memory ran out. Returns the bound value. */
static int64_t map_bind(i64map *m, int64_t k, int64_t v, bool *ok)
{
    int64_t s = map_slot(m, k);
    if (m->used[s])
        return m->val[s];
    if (2 * (m->n + 1) > m->cap) {
        if (!map_grow(m)) {
            *ok = false;
            return v;
        }
        s = map_slot(m, k);
    }
    m->used[s] = 1, m->key[s] = k, m->val[s] = v;
    m->n++;
    return v;
}

static bool map_get(const i64map *m, int64_t k, int64_t *v)
{
    int64_t s = map_slot(m, k);
    if (!m->used[s])
        return false;
    *v = m->val[s];
    return true;
}

/* ---- images ---- */

static bool same_geometry(const tp_image *c, const tp_image *g, tp_case_metrics *m)
{
    if (c->ndim != g->ndim || c->channel_axis != g->channel_axis ||
        memcmp(c->shape, g->shape, sizeof(int64_t) * (size_t)(c->ndim > 0 ? c->ndim : 0)) != 0) {
        char a[96] = "", b[96] = "";
        for (int d = 0; d < c->ndim && d < TP_MAX_DIMS; d++)
            snprintf(a + strlen(a), sizeof a - strlen(a), "%s%lld", d ? "x" : "", (long long)c->shape[d]);
        for (int d = 0; d < g->ndim && d < TP_MAX_DIMS; d++)
            snprintf(b + strlen(b), sizeof b - strlen(b), "%s%lld", d ? "x" : "", (long long)g->shape[d]);
        snprintf(m->note, sizeof m->note, "shape differs: cpu %s (channel axis %d), gpu %s (channel axis %d)", a,
                 c->channel_axis, b, g->channel_axis);
        return false;
    }
    return true;
}

static void eval_elements(const tp_contract *k, const tp_image *c, const tp_image *g, tp_case_metrics *m)
{
    int64_t n = tp_image_count(c);
    bool fl = tp_dtype_is_float(c->dtype);
    m->compared = n;
    for (int64_t i = 0; i < n; i++) {
        double cv, gv, ulp, rel, ad;
        bool bad;
        if (fl) {
            cv = tp_get_f64(c->data, c->dtype, i);
            gv = tp_get_f64(g->data, g->dtype, i);
            ulp = ulp_distance(c->dtype, cv, gv);
            rel = rel_error(cv, gv);
            ad = abs_diff(cv, gv);
            bad = float_violates(k, c->dtype, c->data, g->data, i, cv, gv, ulp, rel);
        } else {
            int64_t ci = get_i64(c->data, c->dtype, i), gi = get_i64(g->data, g->dtype, i);
            cv = (double)ci, gv = (double)gi;
            ad = ulp = fabs((double)gi - (double)ci);
            rel = rel_error(cv, gv);
            bad = k->kind == TP_CONTRACT_ULP   ? !(ulp <= k->tol)
                  : k->kind == TP_CONTRACT_REL ? !(rel <= k->tol)
                                               : ci != gi;
        }
        track(m, ad, rel, ulp);
        if (bad) {
            m->mismatches++;
            note_first_element(m, c, i, cv, gv);
        }
    }
}

/* Same regions up to renumbering: a consistent one-to-one map between CPU and GPU labels, 0 <-> 0. */
static void eval_partition(const tp_image *c, const tp_image *g, tp_case_metrics *m)
{
    int64_t n = tp_image_count(c);
    i64map c2g, g2c;
    m->same_partition = false;
    if (!map_init(&c2g, 1024) || !map_init(&g2c, 1024)) {
        map_free(&c2g);
        snprintf(m->note, sizeof m->note, "out of host memory while comparing label partitions");
        return;
    }
    bool same = true, ok = true;
    for (int64_t i = 0; i < n && same && ok; i++) {
        int64_t a = get_i64(c->data, c->dtype, i), b = get_i64(g->data, g->dtype, i);
        if ((a == 0) != (b == 0))
            same = false;
        else if (a != 0)
            same = map_bind(&c2g, a, b, &ok) == b && map_bind(&g2c, b, a, &ok) == a;
    }
    if (!ok)
        snprintf(m->note, sizeof m->note, "out of host memory while comparing label partitions");
    m->same_partition = same && ok;
    map_free(&c2g);
    map_free(&g2c);
}

static void eval_image(const tp_contract *k, const tp_image *c, const tp_image *g, tp_case_metrics *m)
{
    if (!c->data || !g->data) {
        snprintf(m->note, sizeof m->note, "%s result has no image", !c->data ? "cpu" : "gpu");
        return;
    }
    if (c->location != TP_HOST || g->location != TP_HOST) {
        snprintf(m->note, sizeof m->note, "internal: results must be on the host to be compared");
        return;
    }
    if (!same_geometry(c, g, m))
        return;
    bool is_labels = k->kind == TP_CONTRACT_LABELS;
    bool ints_both = !tp_dtype_is_float(c->dtype) && !tp_dtype_is_float(g->dtype);
    if (c->dtype != g->dtype && !(is_labels && ints_both)) {
        snprintf(m->note, sizeof m->note, "dtype differs: cpu %s, gpu %s", tp_dtype_name(c->dtype),
                 tp_dtype_name(g->dtype));
        return;
    }
    if (is_labels) {
        if (!ints_both) {
            snprintf(m->note, sizeof m->note, "labels: expected integer images, got cpu %s, gpu %s",
                     tp_dtype_name(c->dtype), tp_dtype_name(g->dtype));
            return;
        }
        m->is_labels = true;
        /* integer comparison through get_i64 is exact whatever the two integer dtypes are */
        eval_elements(k, c, g, m);
        m->same_numbering = m->mismatches == 0;
        eval_partition(c, g, m);
        if (c->dtype != g->dtype)
            snprintf(m->note, sizeof m->note, "label dtype differs: cpu %s, gpu %s", tp_dtype_name(c->dtype),
                     tp_dtype_name(g->dtype));
        m->pass = m->same_numbering && c->dtype == g->dtype && !m->note[0];
        return;
    }
    eval_elements(k, c, g, m);
    m->pass = m->mismatches == 0;
}

/* ---- tables ---- */

static bool column_is_float(const tp_column *col) { return tp_dtype_is_float(col->dtype); }

static bool check_columns(const tp_table *c, const tp_table *g, tp_case_metrics *m, int *gcol)
{
    for (int j = 0; j < c->ncols; j++) {
        gcol[j] = -1;
        for (int q = 0; q < g->ncols; q++)
            if (strcmp(c->cols[j].name, g->cols[q].name) == 0)
                gcol[j] = q;
        if (gcol[j] < 0) {
            snprintf(m->note, sizeof m->note, "column '%s' missing on the gpu side", c->cols[j].name);
            return false;
        }
        if (c->cols[j].dtype != g->cols[gcol[j]].dtype) {
            snprintf(m->note, sizeof m->note, "column '%s': dtype differs: cpu %s, gpu %s", c->cols[j].name,
                     tp_dtype_name(c->cols[j].dtype), tp_dtype_name(g->cols[gcol[j]].dtype));
            return false;
        }
    }
    for (int q = 0; q < g->ncols; q++)
        if (!tp_table_find(c, g->cols[q].name)) {
            snprintf(m->note, sizeof m->note, "column '%s' present only on the gpu side", g->cols[q].name);
            return false;
        }
    return true;
}

static void note_first_row(tp_case_metrics *m, int64_t row, int64_t label, const char *column, int missing, double c,
                           double g)
{
    if (m->has_first)
        return;
    m->has_first = true;
    m->first_row = row;
    m->first_label = label;
    snprintf(m->first_column, sizeof m->first_column, "%s", column ? column : "");
    m->first_missing = missing;
    m->first_cpu = c;
    m->first_gpu = g;
}

static void compare_row(const tp_contract *k, const tp_table *c, const tp_table *g, const int *gcol, int64_t rc,
                        int64_t rg, int64_t label, tp_case_metrics *m)
{
    for (int j = 0; j < c->ncols; j++) {
        const tp_column *cc = &c->cols[j], *gc = &g->cols[gcol[j]];
        double cv, gv, ulp, rel, ad;
        bool bad;
        m->compared++;
        if (column_is_float(cc)) {
            cv = tp_get_f64(cc->data, cc->dtype, rc);
            gv = tp_get_f64(gc->data, gc->dtype, rg);
            ulp = ulp_distance(cc->dtype, cv, gv);
            rel = rel_error(cv, gv);
            ad = abs_diff(cv, gv);
            bad = !(rel <= k->tol) && !(isnan(cv) && isnan(gv));
        } else {
            int64_t ci = get_i64(cc->data, cc->dtype, rc), gi = get_i64(gc->data, gc->dtype, rg);
            cv = (double)ci, gv = (double)gi;
            ad = ulp = fabs(gv - cv);
            rel = rel_error(cv, gv);
            bad = ci != gi;
        }
        track(m, ad, rel, ulp);
        if (bad) {
            m->mismatches++;
            note_first_row(m, rc, label, cc->name, 0, cv, gv);
        }
    }
}

static void eval_table(const tp_contract *k, const tp_table *c, const tp_table *g, tp_case_metrics *m)
{
    m->is_table = true;
    m->rows_cpu = c->nrows;
    m->rows_gpu = g->nrows;
    int *gcol = malloc(sizeof(int) * (size_t)(c->ncols + 1));
    uint8_t *matched = calloc((size_t)(g->nrows + 1), 1);
    i64map rows;
    memset(&rows, 0, sizeof rows);
    if (!gcol || !matched || !map_init(&rows, 64)) {
        snprintf(m->note, sizeof m->note, "out of host memory while comparing tables");
        goto done;
    }
    if (!check_columns(c, g, m, gcol))
        goto done;
    const tp_column *lc = tp_table_find(c, "label"), *lg = tp_table_find(g, "label");
    bool by_label = lc && lg && !column_is_float(lc) && !column_is_float(lg), ok = true;
    for (int64_t r = 0; by_label && r < g->nrows && ok; r++)
        map_bind(&rows, get_i64(lg->data, lg->dtype, r), r, &ok);
    if (!ok) {
        snprintf(m->note, sizeof m->note, "out of host memory while comparing tables");
        goto done;
    }
    for (int64_t r = 0; r < c->nrows; r++) {
        int64_t label = by_label ? get_i64(lc->data, lc->dtype, r) : r, rg = r;
        bool found = by_label ? map_get(&rows, label, &rg) && !matched[rg] : r < g->nrows;
        if (!found) {
            m->mismatches++;
            note_first_row(m, r, label, NULL, 1, NAN, NAN);
            continue;
        }
        matched[rg] = 1;
        compare_row(k, c, g, gcol, r, rg, label, m);
    }
    for (int64_t r = 0; r < g->nrows; r++)
        if (!matched[r]) {
            m->mismatches++;
            note_first_row(m, r, by_label ? get_i64(lg->data, lg->dtype, r) : r, NULL, 2, NAN, NAN);
        }
    m->pass = m->mismatches == 0;
done:
    map_free(&rows);
    free(gcol);
    free(matched);
}

/* ---- entry points ---- */

bool tp_contract_eval_with(const tp_contract *k, const tp_result *cpu, const tp_result *gpu, tp_case_metrics *out)
{
    memset(out, 0, sizeof *out);
    out->first_row = -1;
    if (!k || !cpu || !gpu) {
        snprintf(out->note, sizeof out->note, "internal: missing contract or result");
        return false;
    }
    if (cpu->kind != gpu->kind) {
        snprintf(out->note, sizeof out->note, "result kind differs: cpu %d, gpu %d", (int)cpu->kind, (int)gpu->kind);
        return false;
    }
    if (cpu->kind == TP_OUT_TABLE)
        eval_table(k, &cpu->table, &gpu->table, out);
    else
        eval_image(k, &cpu->image, &gpu->image, out);
    return out->pass;
}

bool tp_contract_eval(const tp_op_desc *op, const tp_result *cpu, const tp_result *gpu, tp_case_metrics *out)
{
    if (!op) {
        memset(out, 0, sizeof *out);
        snprintf(out->note, sizeof out->note, "internal: no op descriptor");
        return false;
    }
    return tp_contract_eval_with(&op->contract, cpu, gpu, out);
}

/* ---- reporting ---- */

/* JSON has no infinity or NaN: write them as strings so a reader sees what happened. */
static void add_number(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddStringToObject(o, key, isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
}

static cJSON *first_json(const tp_case_metrics *m)
{
    cJSON *f = cJSON_CreateObject();
    if (!f)
        return NULL;
    if (m->is_table) {
        cJSON_AddNumberToObject(f, "row", (double)m->first_row);
        cJSON_AddNumberToObject(f, "label", (double)m->first_label);
        if (m->first_missing) {
            cJSON_AddNullToObject(f, "column");
            cJSON_AddStringToObject(f, "cpu", m->first_missing == 1 ? "present" : "missing");
            cJSON_AddStringToObject(f, "gpu", m->first_missing == 1 ? "missing" : "present");
            return f;
        }
        cJSON_AddStringToObject(f, "column", m->first_column);
    } else {
        cJSON *idx = cJSON_AddArrayToObject(f, "index");
        for (int d = 0; idx && d < m->first_ndim; d++)
            cJSON_AddItemToArray(idx, cJSON_CreateNumber((double)m->first_index[d]));
    }
    add_number(f, "cpu", m->first_cpu);
    add_number(f, "gpu", m->first_gpu);
    return f;
}

cJSON *tp_metrics_to_json(const tp_case_metrics *m)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "compared", (double)m->compared);
    cJSON_AddNumberToObject(o, "mismatches", (double)m->mismatches);
    add_number(o, "max_abs", m->max_abs);
    add_number(o, "max_rel", m->max_rel);
    add_number(o, "max_ulp", m->max_ulp);
    if (m->is_labels) {
        cJSON_AddBoolToObject(o, "same_partition", m->same_partition);
        cJSON_AddBoolToObject(o, "same_numbering", m->same_numbering);
    }
    if (m->is_table) {
        cJSON_AddNumberToObject(o, "rows_cpu", (double)m->rows_cpu);
        cJSON_AddNumberToObject(o, "rows_gpu", (double)m->rows_gpu);
    }
    if (m->note[0])
        cJSON_AddStringToObject(o, "note", m->note);
    if (m->has_first)
        cJSON_AddItemToObject(o, "first_mismatch", first_json(m));
    else
        cJSON_AddNullToObject(o, "first_mismatch");
    return o;
}

void tp_metrics_describe(const tp_case_metrics *m, char *buf, size_t len)
{
    size_t u = 0;
#define PUT(...) (u += (size_t)snprintf(buf + (u < len ? u : len), u < len ? len - u : 0, __VA_ARGS__))
    if (len)
        buf[0] = 0;
    if (m->note[0])
        PUT("%s", m->note);
    if (m->has_first && m->is_table) {
        PUT("%srow %lld (label %lld)", u ? "; " : "", (long long)m->first_row, (long long)m->first_label);
        if (m->first_missing)
            PUT(" %s", m->first_missing == 1 ? "missing on the gpu side" : "present only on the gpu side");
        else
            PUT(" column '%s': cpu %.17g, gpu %.17g", m->first_column, m->first_cpu, m->first_gpu);
    } else if (m->has_first) {
        PUT("%sfirst mismatch at [", u ? "; " : "");
        for (int d = 0; d < m->first_ndim; d++)
            PUT("%s%lld", d ? ", " : "", (long long)m->first_index[d]);
        PUT("]: cpu %.17g, gpu %.17g", m->first_cpu, m->first_gpu);
    }
    if (m->mismatches)
        PUT(" (%lld mismatching of %lld; max_abs %.3g, max_ulp %.3g)", (long long)m->mismatches, (long long)m->compared,
            m->max_abs, m->max_ulp);
    if (m->is_labels && !m->same_numbering)
        PUT("; same partition up to renumbering: %s", m->same_partition ? "yes" : "no");
#undef PUT
}

/* The case matrix of `twinpix compare`, built from the op descriptors alone: every op of the registry, each
 * of its parameter sets (op->cases), its declared dtypes and dimensions, synthetic sizes from 1x1 up to the
 * op's largest benchmark size (odd and prime sizes included), and the real images of the dataset manifest.
 * Also the inputs of a case: synthetic ones from tp_synth_input, real ones derived from a dataset (a grey
 * channel, a mask above the mean, connected labels of that mask) by simple host code that is not under test. */
#include "compare/compare.h"

#include <stdlib.h>
#include <string.h>

/* ---- sizes ---- */

/* --quick: small enough that every op's every case runs in well under a minute on 2 cores. */
static const int64_t quick_main_2d[2] = {37, 53};
static const int64_t quick_tiny_2d[2] = {1, 1};
static const int64_t quick_dtype_2d[2] = {17, 19};
static const int64_t quick_3d[3] = {5, 7, 9};

/* The full run: degenerate, odd and prime extents, then the op's benchmark sizes. */
static const int64_t full_small_2d[][2] = {{1, 1},   {1, 7},    {7, 1},     {2, 3},
                                           {17, 31}, {61, 127}, {127, 131}, {1031, 1031}};
static const int64_t full_dtype_2d[2] = {61, 127};
static const int64_t full_small_3d[][3] = {{1, 1, 1}, {3, 5, 7}, {17, 19, 23}};
static const int64_t full_dtype_3d[3] = {17, 19, 23};
/* Above these, one parameter set per op: the big sizes are for the GPU's grid and memory paths. */
#define FULL_ALL_CASES_MAX_2D 2048
#define FULL_ALL_CASES_MAX_3D 64
#define MAX_SIZE_3D 256
#define SYNTH_SEED 20240601u

/* ---- parameter strings ---- */

int tp_cmp_params_each(const char *params, tp_cmp_param_fn fn, void *user)
{
    char name[64] = "", value[TP_CMP_PARAMS_LEN] = "";
    bool have = false;
    const char *p = params ? params : "";
    while (*p) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        if (eq && (size_t)(eq - p) < sizeof name) {
            if (have) {
                int r = fn(user, name, value);
                if (r)
                    return r;
            }
            memcpy(name, p, (size_t)(eq - p));
            name[eq - p] = 0;
            snprintf(value, sizeof value, "%.*s", (int)(len - (size_t)(eq - p) - 1), eq + 1);
            have = true;
        } else if (have && len) { /* a ';' inside a value (colour lists) */
            size_t n = strlen(value);
            snprintf(value + n, sizeof value - n, ";%.*s", (int)len, p);
        }
        p += len + (end ? 1 : 0);
    }
    return have ? fn(user, name, value) : 0;
}

static const tp_param_desc *find_param(const tp_op_desc *op, const char *name)
{
    for (int i = 0; i < op->n_params; i++)
        if (strcmp(op->params[i].name, name) == 0)
            return &op->params[i];
    return NULL;
}

/* disk:R -> ball:R and the like; anything else (a file, a 3D spec) is kept. */
static void footprint_to_3d(const char *v, char *out, size_t len)
{
    static const struct {
        const char *from, *to;
    } map[] = {{"disk:", "ball:"}, {"square:", "cube:"}, {"diamond:", "octahedron:"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strncmp(v, map[i].from, strlen(map[i].from)) == 0) {
            snprintf(out, len, "%s%s", map[i].to, v + strlen(map[i].from));
            return;
        }
    long h, w;
    if (sscanf(v, "rectangle:%ldx%ld", &h, &w) == 2) {
        snprintf(out, len, "cuboid:%ldx%ldx%ld", h, h, w);
        return;
    }
    snprintf(out, len, "%s", strcmp(v, "cross") == 0 ? "cross3" : v);
}

/* A per-axis sequence of the wrong length: keep the last `ndim` values, or repeat the first in front. */
static void seq_to_ndim(const char *v, int ndim, char *out, size_t len)
{
    char buf[256], *tok[8];
    int n = 0;
    snprintf(buf, sizeof buf, "%s", v);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t && n < 8; t = strtok_r(NULL, ",", &save))
        tok[n++] = t;
    if (n <= 1 || n == ndim) {
        snprintf(out, len, "%s", v);
        return;
    }
    out[0] = 0;
    for (int k = 0; k < ndim; k++) {
        int src = n > ndim ? n - ndim + k : (k < ndim - n ? 0 : k - (ndim - n));
        size_t u = strlen(out);
        snprintf(out + u, len - u, "%s%s", k ? "," : "", tok[src]);
    }
}

typedef struct adapt_state {
    const tp_op_desc *op;
    int ndim;
    char *out;
    size_t len;
} adapt_state;

static int adapt_one(void *user, const char *name, const char *value)
{
    adapt_state *s = user;
    const tp_param_desc *d = find_param(s->op, name);
    char v[TP_CMP_PARAMS_LEN];
    if (d && d->type == TP_P_FOOTPRINT && s->ndim == 3)
        footprint_to_3d(value, v, sizeof v);
    else if (d && d->type == TP_P_FLOATSEQ)
        seq_to_ndim(value, s->ndim, v, sizeof v);
    else
        snprintf(v, sizeof v, "%s", value);
    size_t u = strlen(s->out);
    snprintf(s->out + u, s->len - u, "%s%s=%s", u ? ";" : "", name, v);
    return 0;
}

void tp_cmp_params_adapt(const tp_op_desc *op, const char *in, int ndim, char *out, size_t len)
{
    adapt_state s = {op, ndim, out, len};
    out[0] = 0;
    tp_cmp_params_each(in, adapt_one, &s);
}

/* ---- kinds and dtypes ---- */

static const char *kind_of(const tp_op_desc *op, int input)
{
    if (input == 0 && op->input_kind && *op->input_kind)
        return op->input_kind;
    return "gray";
}

static tp_dtype natural_dtype(const char *kind)
{
    if (strcmp(kind, "mask") == 0)
        return TP_BOOL;
    if (strcmp(kind, "labels") == 0)
        return TP_INT32;
    return TP_UINT8;
}

/* The dtype a kind is naturally generated in when the input accepts it; else the first accepted of a
 * preference order. */
static tp_dtype default_dtype(const tp_input_desc *in, const char *kind)
{
    static const tp_dtype pref[] = {TP_UINT8, TP_UINT16, TP_FLOAT32, TP_INT32, TP_FLOAT64,
                                    TP_INT16, TP_INT64,  TP_UINT32,  TP_INT8,  TP_BOOL};
    tp_dtype nat = natural_dtype(kind);
    if (in->dtypes & TP_DT(nat))
        return nat;
    for (size_t i = 0; i < sizeof pref / sizeof pref[0]; i++)
        if (in->dtypes & TP_DT(pref[i]))
            return pref[i];
    return nat;
}

bool tp_cmp_dataset_is_labels(const tp_dataset *d)
{
    return strstr(d->name, "label") != NULL || d->dtype == TP_INT32 || d->dtype == TP_INT64;
}

/* The dtype and geometry a dataset has as an input of `kind`; false when it cannot be that kind. */
static bool dataset_kind_geometry(const tp_dataset *d, const char *kind, tp_dtype *dtype, int *spatial, bool *channels)
{
    bool labels = tp_cmp_dataset_is_labels(d), has_ch = d->channel_axis >= 0;
    *spatial = d->ndim - (has_ch ? 1 : 0);
    *channels = false;
    if (strcmp(kind, "rgb") == 0) {
        *dtype = d->dtype;
        *channels = true;
        return has_ch && !labels;
    }
    if (strcmp(kind, "mask") == 0) {
        *dtype = TP_BOOL;
        return true;
    }
    if (strcmp(kind, "labels") == 0) {
        *dtype = labels ? d->dtype : TP_INT32;
        return !has_ch || !labels;
    }
    *dtype = d->dtype;
    return !labels;
}

/* ---- building ---- */

static tp_status push(tp_context *ctx, tp_cmp_cases *cs, const tp_cmp_case *c)
{
    if (cs->n == cs->cap) {
        int64_t cap = cs->cap ? cs->cap * 2 : 256;
        tp_cmp_case *v = realloc(cs->v, sizeof *v * (size_t)cap);
        if (!v)
            return tp_error(ctx, TP_ERR_NOMEM, "compare: out of host memory building the case list");
        cs->v = v;
        cs->cap = cap;
    }
    cs->v[cs->n++] = *c;
    return TP_OK;
}

void tp_cmp_cases_free(tp_cmp_cases *c)
{
    free(c->v);
    memset(c, 0, sizeof *c);
}

static int n_cases(const tp_op_desc *op)
{
    int n = 0;
    while (op->cases && op->cases[n].params)
        n++;
    return n;
}

/* Cases of one op on one input geometry: parameter sets [0, upto) for each dtype in `dtypes`. */
static tp_status add_cases(tp_context *ctx, tp_cmp_cases *cs, const tp_op_desc *op, int dataset, int ndim,
                           const int64_t *shape, unsigned dtypes, int upto)
{
    int nc = n_cases(op);
    if (nc == 0)
        nc = 1; /* an op without listed cases still runs with its defaults */
    if (upto > nc)
        upto = nc;
    for (int t = 0; t < TP_DTYPE_COUNT; t++) {
        if (!(dtypes & TP_DT(t)))
            continue;
        for (int k = 0; k < upto; k++) {
            tp_cmp_case c;
            memset(&c, 0, sizeof c);
            c.op = op;
            c.case_index = k;
            c.dataset = dataset;
            c.ndim = ndim;
            if (shape)
                memcpy(c.shape, shape, sizeof(int64_t) * (size_t)ndim);
            c.dtype = (tp_dtype)t;
            c.seed = SYNTH_SEED;
            tp_cmp_params_adapt(op, op->cases ? op->cases[k].params : "", ndim, c.params, sizeof c.params);
            tp_status st = push(ctx, cs, &c);
            if (st)
                return st;
        }
    }
    return TP_OK;
}

static bool supports(const tp_op_desc *op, int ndim)
{
    return op->n_inputs > 0 && (op->inputs[0].spatial_dims & (1u << ndim));
}

/* Synthetic cases of one op at one size: every case in the default dtype; `sweep`: the other declared
 * dtypes too (every case when sweep_all, else the first). */
static tp_status add_size(tp_context *ctx, tp_cmp_cases *cs, const tp_op_desc *op, int ndim, const int64_t *shape,
                          int upto, bool sweep, bool sweep_all)
{
    if (!supports(op, ndim))
        return TP_OK;
    const tp_input_desc *in = &op->inputs[0];
    tp_dtype def = default_dtype(in, kind_of(op, 0));
    tp_status st = add_cases(ctx, cs, op, -1, ndim, shape, TP_DT(def), upto);
    if (!st && sweep)
        st = add_cases(ctx, cs, op, -1, ndim, shape, in->dtypes & ~TP_DT(def), sweep_all ? 1 << 30 : 1);
    return st;
}

/* Ops left out of the non-finite cases: threshold_otsu's answer to NaN and inf is its own contract (the CPU
 * reports an error where CUDA returns NaN, README "What exact means"); add it here once both agree. */
static bool nonfinite_excluded(const tp_op_desc *op) { return strcmp(op->name, "threshold_otsu") == 0; }

/* Non-finite cases of one op at one size (docs/nonfinite.md): for float32 and float64, parameter sets
 * [0, upto), with NaN, +inf and -inf in the first input when it accepts that dtype, else in the later inputs
 * that do (label2rgb's image, regionprops_table's intensity image). Ops with no float input get none. */
static tp_status add_nonfinite(tp_context *ctx, tp_cmp_cases *cs, const tp_op_desc *op, int ndim,
                               const int64_t *shape, int upto)
{
    if (!supports(op, ndim) || nonfinite_excluded(op))
        return TP_OK;
    static const tp_dtype floats[2] = {TP_FLOAT32, TP_FLOAT64};
    int nc = n_cases(op);
    if (nc == 0)
        nc = 1;
    if (upto > nc)
        upto = nc;
    for (int f = 0; f < 2; f++) {
        bool first = op->inputs[0].dtypes & TP_DT(floats[f]), later = false;
        for (int i = 1; i < op->n_inputs && i < 4; i++)
            later |= (op->inputs[i].dtypes & TP_DT(floats[f])) != 0;
        if (!first && !later)
            continue;
        for (int k = 0; k < upto; k++) {
            tp_cmp_case c;
            memset(&c, 0, sizeof c);
            c.op = op;
            c.case_index = k;
            c.dataset = -1;
            c.ndim = ndim;
            memcpy(c.shape, shape, sizeof(int64_t) * (size_t)ndim);
            c.dtype = first ? floats[f] : default_dtype(&op->inputs[0], kind_of(op, 0));
            c.seed = SYNTH_SEED;
            c.nonfinite = true;
            c.nonfinite_dtype = floats[f];
            tp_cmp_params_adapt(op, op->cases ? op->cases[k].params : "", ndim, c.params, sizeof c.params);
            tp_status st = push(ctx, cs, &c);
            if (st)
                return st;
        }
    }
    return TP_OK;
}

static tp_status add_synthetic(tp_context *ctx, const tp_cmp_options *o, tp_cmp_cases *cs, const tp_op_desc *op)
{
    tp_status st = TP_OK;
    const int ALL = 1 << 30;
    if (o->n_sizes) {
        for (int i = 0; i < o->n_sizes && !st; i++) {
            int64_t n = o->sizes[i], s2[2] = {n, n}, s3[3] = {n, n, n};
            st = add_size(ctx, cs, op, 2, s2, ALL, true, false);
            if (!st)
                st = add_nonfinite(ctx, cs, op, 2, s2, 1);
            if (!st && n <= MAX_SIZE_3D)
                st = add_size(ctx, cs, op, 3, s3, ALL, true, false);
        }
        return st;
    }
    if (o->quick) {
        if (!st)
            st = add_size(ctx, cs, op, 2, quick_main_2d, ALL, false, false);
        if (!st)
            st = add_size(ctx, cs, op, 2, quick_dtype_2d, 1, true, false);
        if (!st)
            st = add_nonfinite(ctx, cs, op, 2, quick_dtype_2d, ALL);
        if (!st)
            st = add_size(ctx, cs, op, 2, quick_tiny_2d, 1, false, false);
        if (!st)
            st = add_size(ctx, cs, op, 3, quick_3d, ALL, false, false);
        if (!st)
            st = add_nonfinite(ctx, cs, op, 3, quick_3d, 1);
        return st;
    }
    for (size_t i = 0; i < sizeof full_small_2d / sizeof full_small_2d[0] && !st; i++)
        st = add_size(ctx, cs, op, 2, full_small_2d[i], ALL, false, false);
    if (!st)
        st = add_size(ctx, cs, op, 2, full_dtype_2d, ALL, true, true);
    for (size_t i = 0; i < sizeof full_small_2d / sizeof full_small_2d[0] && !st; i++)
        if (full_small_2d[i][0] * full_small_2d[i][1] <= 17 * 31)
            st = add_nonfinite(ctx, cs, op, 2, full_small_2d[i], 1);
    if (!st)
        st = add_nonfinite(ctx, cs, op, 2, full_dtype_2d, ALL);
    for (const int64_t *b = op->bench_sizes_2d; b && *b && !st; b++) {
        int64_t s[2] = {*b, *b};
        st = add_size(ctx, cs, op, 2, s, *b <= FULL_ALL_CASES_MAX_2D ? ALL : 1, false, false);
    }
    for (size_t i = 0; i < sizeof full_small_3d / sizeof full_small_3d[0] && !st; i++)
        st = add_size(ctx, cs, op, 3, full_small_3d[i], ALL, false, false);
    if (!st)
        st = add_size(ctx, cs, op, 3, full_dtype_3d, ALL, true, true);
    if (!st)
        st = add_nonfinite(ctx, cs, op, 3, full_dtype_3d, ALL);
    for (const int64_t *b = op->bench_sizes_3d; b && *b && !st; b++) {
        int64_t s[3] = {*b, *b, *b};
        if (*b <= MAX_SIZE_3D)
            st = add_size(ctx, cs, op, 3, s, *b <= FULL_ALL_CASES_MAX_3D ? ALL : 1, false, false);
    }
    return st;
}

/* Real images: every dataset that can be this op's input (kind, dtype, dimensions), every case. */
static tp_status add_real(tp_context *ctx, const tp_cmp_data *data, tp_cmp_cases *cs, const tp_op_desc *op)
{
    for (int i = 0; i < data->n; i++) {
        tp_dtype dt;
        int sd;
        bool ch;
        const char *kind = kind_of(op, 0);
        if (!dataset_kind_geometry(&data->ds[i], kind, &dt, &sd, &ch))
            continue;
        const tp_input_desc *in = &op->inputs[0];
        if (!(in->dtypes & TP_DT(dt)) || !(in->spatial_dims & (1u << sd)) || (ch && !in->channels))
            continue;
        tp_status st = add_cases(ctx, cs, op, i, sd, NULL, TP_DT(dt), 1 << 30);
        if (st)
            return st;
    }
    return TP_OK;
}

static bool op_selected(const tp_cmp_options *o, const char *name)
{
    if (o->n_ops == 0)
        return true;
    for (int i = 0; i < o->n_ops; i++)
        if (strcmp(o->ops[i], name) == 0)
            return true;
    return false;
}

tp_status tp_cmp_build_matrix(tp_context *ctx, const tp_cmp_options *o, const tp_cmp_data *data, tp_cmp_cases *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < tp_op_count(); i++) {
        const tp_op_desc *op = tp_op_at(i);
        if (!op || !op_selected(o, op->name))
            continue;
        tp_status st = data->synthetic ? add_synthetic(ctx, o, out, op) : TP_OK;
        if (!st)
            st = add_real(ctx, data, out, op);
        if (st) {
            tp_cmp_cases_free(out);
            return st;
        }
    }
    return TP_OK;
}

/* ---- host helpers for inputs (deliberately simple: they make inputs, they are not under test) ---- */

/* The value of a naturally generated element in another dtype: grey levels keep their order and fit the
 * range, masks stay 0/1, labels stay nonzero and fit the range. */
static double map_value(const char *kind, double v, tp_dtype to)
{
    bool labels = strcmp(kind, "labels") == 0, mask = strcmp(kind, "mask") == 0;
    if (to == TP_BOOL)
        return labels || mask ? v != 0 : v >= 128;
    if (mask)
        return v;
    if (labels) {
        double cap = to == TP_INT8 ? 127 : to == TP_UINT8 ? 255 : to == TP_INT16 ? 32767 : to == TP_UINT16 ? 65535 : 0;
        return (cap > 0 && v > 0) ? 1 + (double)(((int64_t)v - 1) % (int64_t)cap) : v;
    }
    switch (to) {
    case TP_INT8: return v - 128;
    case TP_UINT16: return v * 257;
    case TP_FLOAT32:
    case TP_FLOAT64: return v / 255.0;
    default: return v;
    }
}

static tp_status convert_kind(tp_context *ctx, const char *kind, const tp_image *src, tp_dtype to, tp_image *out)
{
    tp_status st = tp_image_alloc(ctx, out, to, src->ndim, src->shape, src->channel_axis, TP_HOST);
    if (st)
        return st;
    int64_t n = tp_image_count(src);
    for (int64_t i = 0; i < n; i++)
        tp_set_f64(out->data, to, i, map_value(kind, tp_get_f64(src->data, src->dtype, i), to));
    memcpy(out->spacing, src->spacing, sizeof out->spacing);
    return TP_OK;
}

static tp_status synth(tp_context *ctx, const char *kind, int ndim, const int64_t *shape, tp_dtype dtype, uint64_t seed,
                       tp_image *out)
{
    tp_status st = tp_synth_input(ctx, kind, ndim, shape, dtype, seed, out);
    tp_dtype nat = natural_dtype(kind);
    if ((st == TP_OK && out->dtype == dtype) || dtype == nat)
        return st;
    /* the generator does not make this dtype (an error, or another dtype): make the natural one and map it */
    tp_image_free(out);
    tp_image tmp = tp_image_empty();
    if ((st = tp_synth_input(ctx, kind, ndim, shape, nat, seed, &tmp)))
        return st;
    st = convert_kind(ctx, kind, &tmp, dtype, out);
    tp_image_free(&tmp);
    return st;
}

/* One channel of a host image (channel 1 when there are several, as the seed takes green). */
static tp_status take_channel(tp_context *ctx, const tp_image *src, tp_image *out)
{
    if (src->channel_axis < 0)
        return tp_image_copy(ctx, src, out, TP_HOST);
    int ax = src->channel_axis, nd = 0;
    int64_t shape[TP_MAX_DIMS], outer = 1, inner = 1, nch = src->shape[ax], ch = nch > 1 ? 1 : 0;
    for (int i = 0; i < src->ndim; i++) {
        if (i != ax)
            shape[nd++] = src->shape[i];
        if (i < ax)
            outer *= src->shape[i];
        if (i > ax)
            inner *= src->shape[i];
    }
    tp_status st = tp_image_alloc(ctx, out, src->dtype, nd, shape, -1, TP_HOST);
    if (st)
        return st;
    size_t es = tp_dtype_size(src->dtype);
    for (int64_t o = 0; o < outer; o++)
        memcpy((char *)out->data + (size_t)(o * inner) * es,
               (const char *)src->data + (size_t)((o * nch + ch) * inner) * es, (size_t)inner * es);
    memcpy(out->spacing, src->spacing, sizeof out->spacing);
    return TP_OK;
}

static tp_status mask_above_mean(tp_context *ctx, const tp_image *gray, tp_image *out)
{
    int64_t n = tp_image_count(gray);
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        sum += tp_get_f64(gray->data, gray->dtype, i);
    double mean = n ? sum / (double)n : 0;
    tp_status st = tp_image_alloc(ctx, out, TP_BOOL, gray->ndim, gray->shape, -1, TP_HOST);
    if (st)
        return st;
    uint8_t *m = out->data;
    for (int64_t i = 0; i < n; i++)
        m[i] = tp_get_f64(gray->data, gray->dtype, i) > mean;
    memcpy(out->spacing, gray->spacing, sizeof out->spacing);
    return TP_OK;
}

static int64_t uf_find(int64_t *p, int64_t x)
{
    while (p[x] != x) {
        p[x] = p[p[x]];
        x = p[x];
    }
    return x;
}

/* Face-connected components of a mask, int32, numbered in raster order (roots are the smallest index). */
static tp_status host_label(tp_context *ctx, const tp_image *mask, tp_image *out)
{
    int64_t n = tp_image_count(mask), stride[TP_MAX_DIMS];
    int nd = mask->ndim;
    int64_t *parent = tp_host_alloc(ctx, n, sizeof(int64_t));
    if (!parent)
        return TP_ERR_NOMEM;
    tp_status st = tp_image_alloc(ctx, out, TP_INT32, nd, mask->shape, -1, TP_HOST);
    if (st) {
        free(parent);
        return st;
    }
    stride[nd - 1] = 1;
    for (int d = nd - 2; d >= 0; d--)
        stride[d] = stride[d + 1] * mask->shape[d + 1];
    const uint8_t *m = mask->data;
    for (int64_t i = 0; i < n; i++) {
        parent[i] = i;
        if (!m[i])
            continue;
        for (int d = 0; d < nd; d++) {
            if ((i / stride[d]) % mask->shape[d] == 0 || !m[i - stride[d]])
                continue;
            int64_t a = uf_find(parent, i), b = uf_find(parent, i - stride[d]);
            if (a != b)
                parent[a > b ? a : b] = a < b ? a : b;
        }
    }
    int32_t *lab = out->data, next = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t r = m[i] ? uf_find(parent, i) : -1;
        lab[i] = r < 0 ? 0 : r == i ? ++next : lab[r];
    }
    free(parent);
    memcpy(out->spacing, mask->spacing, sizeof out->spacing);
    return TP_OK;
}

static tp_status load_dataset(tp_context *ctx, tp_cmp_data *data, int i)
{
    if (data->img[i].data)
        return TP_OK;
    if (data->load_error[i][0])
        return tp_error(ctx, TP_ERR_IO, "%s", data->load_error[i]);
    tp_status st = tp_dataset_load(ctx, &data->ds[i], &data->img[i]);
    if (st) {
        char msg[sizeof data->load_error[i]];
        snprintf(msg, sizeof msg, "dataset %s: %s", data->ds[i].name, tp_last_error(ctx));
        memcpy(data->load_error[i], msg, sizeof msg);
    }
    return st;
}

tp_status tp_cmp_dataset_as(tp_context *ctx, tp_cmp_data *data, int index, const char *kind, tp_image *out)
{
    *out = tp_image_empty();
    tp_status st = load_dataset(ctx, data, index);
    if (st)
        return st;
    const tp_image *src = &data->img[index];
    bool labels = tp_cmp_dataset_is_labels(&data->ds[index]);
    if (strcmp(kind, "rgb") == 0) {
        if (src->channel_axis < 0 || labels)
            return tp_error(ctx, TP_ERR_UNSUPPORTED, "dataset %s has no channel axis", data->ds[index].name);
        return tp_image_copy(ctx, src, out, TP_HOST);
    }
    if (labels) {
        if (strcmp(kind, "labels") == 0)
            return tp_image_copy(ctx, src, out, TP_HOST);
        if (strcmp(kind, "mask") == 0)
            return convert_kind(ctx, "labels", src, TP_BOOL, out);
        return tp_error(ctx, TP_ERR_UNSUPPORTED, "dataset %s holds labels, not intensities", data->ds[index].name);
    }
    tp_image gray = tp_image_empty(), mask = tp_image_empty();
    if ((st = take_channel(ctx, src, &gray)))
        return st;
    if (strcmp(kind, "mask") != 0 && strcmp(kind, "labels") != 0) {
        *out = gray;
        return TP_OK;
    }
    st = mask_above_mean(ctx, &gray, &mask);
    tp_image_free(&gray);
    if (st)
        return st;
    if (strcmp(kind, "mask") == 0) {
        *out = mask;
        return TP_OK;
    }
    st = host_label(ctx, &mask, out);
    tp_image_free(&mask);
    return st;
}

/* ---- non-finite inputs ---- */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void put_special(tp_image *im, int64_t i, int which)
{
    static const uint64_t f64[4] = {0x7ff8000000000000ull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
                                    0xfff8000000000123ull};
    static const uint32_t f32[4] = {0x7fc00000u, 0x7f800000u, 0xff800000u, 0xffc00123u};
    if (im->dtype == TP_FLOAT32)
        memcpy((char *)im->data + (size_t)i * 4, &f32[which & 3], 4);
    else
        memcpy((char *)im->data + (size_t)i * 8, &f64[which & 3], 8);
}

void tp_cmp_poison(tp_image *im, uint64_t seed)
{
    if (im->location != TP_HOST || (im->dtype != TP_FLOAT32 && im->dtype != TP_FLOAT64))
        return;
    int64_t n = tp_image_count(im);
    if (n == 0)
        return;
    uint64_t s = seed ^ 0x6e6f6e66696e6974ull;
    int which = 0;
    for (int64_t i = 1; i + 1 < n; i++)
        if (splitmix(&s) % 47 == 0)
            put_special(im, i, which++);
    put_special(im, n / 2, 2);
    put_special(im, n - 1, 1);
    put_special(im, 0, 0);
}

/* ---- the input cache: cases of one op (and ops of one kind) share their inputs ---- */

#define CACHE_SLOTS 6

typedef struct cache_entry {
    bool used;
    uint64_t last;
    int dataset;
    char kind[16];
    int ndim;
    int64_t shape[3];
    tp_dtype dtype;
    uint64_t seed;
    bool nonfinite;
    tp_image img;
} cache_entry;

struct tp_cmp_input_cache {
    cache_entry e[CACHE_SLOTS];
    uint64_t clock;
};

tp_cmp_input_cache *tp_cmp_input_cache_new(void) { return calloc(1, sizeof(tp_cmp_input_cache)); }

void tp_cmp_input_cache_free(tp_cmp_input_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < CACHE_SLOTS; i++)
        tp_image_free(&c->e[i].img);
    free(c);
}

static bool entry_is(const cache_entry *e, int dataset, const char *kind, int ndim, const int64_t *shape,
                     tp_dtype dtype, uint64_t seed, bool nonfinite)
{
    return e->used && e->dataset == dataset && strcmp(e->kind, kind) == 0 && e->dtype == dtype &&
           e->nonfinite == nonfinite &&
           (dataset >= 0 ||
            (e->ndim == ndim && e->seed == seed && memcmp(e->shape, shape, sizeof(int64_t) * (size_t)ndim) == 0));
}

static tp_status cached_input(tp_context *ctx, tp_cmp_input_cache *cache, tp_cmp_data *data, int dataset,
                              const char *kind, int ndim, const int64_t *shape, tp_dtype dtype, uint64_t seed,
                              bool nonfinite, const tp_image **out)
{
    cache_entry *victim = &cache->e[0];
    for (int i = 0; i < CACHE_SLOTS; i++) {
        cache_entry *e = &cache->e[i];
        if (entry_is(e, dataset, kind, ndim, shape, dtype, seed, nonfinite)) {
            e->last = ++cache->clock;
            *out = &e->img;
            return TP_OK;
        }
        if (!e->used || (victim->used && e->last < victim->last))
            victim = e;
    }
    tp_image_free(&victim->img);
    memset(victim, 0, sizeof *victim);
    victim->img = tp_image_empty();
    tp_status st;
    if (dataset >= 0) {
        tp_image tmp = tp_image_empty();
        st = tp_cmp_dataset_as(ctx, data, dataset, kind, &tmp);
        if (!st && tmp.dtype != dtype) { /* a secondary input in another dtype than the dataset's */
            st = tp_image_astype(ctx, &tmp, &victim->img, dtype);
            tp_image_free(&tmp);
        } else {
            victim->img = tmp;
        }
    } else {
        st = synth(ctx, kind, ndim, shape, dtype, seed, &victim->img);
    }
    if (st)
        return st;
    if (nonfinite)
        tp_cmp_poison(&victim->img, seed);
    victim->used = true;
    victim->nonfinite = nonfinite;
    victim->last = ++cache->clock;
    victim->dataset = dataset;
    snprintf(victim->kind, sizeof victim->kind, "%s", kind);
    victim->ndim = ndim;
    memcpy(victim->shape, shape, sizeof(int64_t) * (size_t)ndim);
    victim->dtype = dtype;
    victim->seed = seed;
    *out = &victim->img;
    return TP_OK;
}

tp_status tp_cmp_case_inputs(tp_context *ctx, tp_cmp_input_cache *cache, tp_cmp_data *data, const tp_cmp_case *c,
                             const tp_image *in[4], int *n_in)
{
    const tp_op_desc *op = c->op;
    *n_in = 0;
    for (int i = 0; i < 4; i++)
        in[i] = NULL;
    int n = op->n_inputs < 4 ? op->n_inputs : 4;
    for (int i = 0; i < n; i++) {
        const char *kind = kind_of(op, i);
        tp_dtype dt = i == 0 ? c->dtype : default_dtype(&op->inputs[i], kind);
        bool nonfinite = false;
        if (c->nonfinite && c->dataset < 0) {
            if (i > 0 && (op->inputs[i].dtypes & TP_DT(c->nonfinite_dtype)))
                dt = c->nonfinite_dtype;
            nonfinite = tp_dtype_is_float(dt);
        }
        if (i > 0 && c->dataset >= 0) {
            /* a real image's secondary input is the image itself, in its own dtype when accepted */
            tp_dtype own;
            int sd;
            bool ch;
            if (dataset_kind_geometry(&data->ds[c->dataset], kind, &own, &sd, &ch) &&
                (op->inputs[i].dtypes & TP_DT(own)))
                dt = own;
        }
        if (i > 0 && c->dataset >= 0 && tp_cmp_dataset_is_labels(&data->ds[c->dataset]))
            break; /* no intensities to go with a label dataset: leave the optional input out */
        /* when a secondary input fails for a real image, the primary input is not at fault: leave it out */
        tp_status st =
            cached_input(ctx, cache, data, c->dataset, kind, c->ndim, c->shape, dt, c->seed, nonfinite, &in[i]);
        if (st) {
            if (i > 0 && !op->inputs[i].required)
                break;
            return st;
        }
        *n_in = i + 1;
    }
    return TP_OK;
}

/* Binary erosion and dilation by horizontal runs.
 *
 * The footprint is cut into horizontal runs (per footprint row, each maximal stretch of ones). A run is
 * satisfied at output pixel x when every source pixel x+a .. x+a+len-1 of its source row is foreground.
 * For each source row we precompute R[x] = the number of consecutive foreground pixels starting at x
 * (capped at the longest run; past the right edge the border value continues), so each run costs one
 * compare per pixel whatever its length: erosion is O(pixels x footprint rows), independent of the width
 * of the footprint, and the per-run loop is a plain vectorisable compare-and-AND.
 *
 * Dilation is the dual: dilate(A, F, border) = NOT erode(NOT A, reflect(F), NOT border), so one kernel
 * serves both. Output rows are independent, so threads split rows and the result cannot depend on their
 * number. */
#include "cpu_ref/morphology.h"
#include "cpu_ref/cpu_ops.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* A footprint run as offsets from the output pixel: source row (z+dz, y+dy), pixels x+a .. x+a+len-1. */
typedef struct fp_run {
    int64_t dz, dy, a, len;
} fp_run;

typedef struct plan {
    fp_run *runs;
    int64_t n;
    int64_t maxlen; /* longest run: the cap of R */
} plan;

/* The work of one erosion (of the foreground or, for dilation, of the background). */
typedef struct job {
    const tp_image *in;
    int64_t nz, ny, nx;
    bool invert;     /* foreground = (pixel == 0): dilation through duality */
    bool border_fg;  /* is the outside foreground for this erosion */
    const plan *pl;
    uint8_t *out;
    void *r;         /* R, one entry per pixel, of the type chosen by maxlen */
    uint8_t *masks;  /* one row of foreground flags per thread */
    int threads;
} job;

bool tp_morph_border(tp_morph_kind kind, const char *mode)
{
    if (kind == TP_MORPH_ERODE)
        return strcmp(mode, "min") != 0;
    return strcmp(mode, "max") == 0;
}

static void fp_dims(const tp_footprint *fp, int64_t *fz, int64_t *fy, int64_t *fx)
{
    *fz = fp->ndim == 3 ? fp->shape[0] : 1;
    *fy = fp->ndim == 3 ? fp->shape[1] : fp->shape[0];
    *fx = fp->ndim == 3 ? fp->shape[2] : fp->shape[1];
}

/* Erosion offsets are k - size//2; the reflected footprint (dilation) uses size//2 - k on every axis. */
static tp_status build_plan(tp_context *ctx, const tp_footprint *fp, bool reflect, plan *pl)
{
    int64_t fz, fy, fx;
    fp_dims(fp, &fz, &fy, &fx);
    memset(pl, 0, sizeof *pl);
    pl->runs = tp_host_alloc(ctx, fz * fy * ((fx + 1) / 2), sizeof(fp_run));
    if (!pl->runs)
        return TP_ERR_NOMEM;
    for (int64_t kz = 0; kz < fz; kz++)
        for (int64_t ky = 0; ky < fy; ky++) {
            const uint8_t *row = fp->data + (kz * fy + ky) * fx;
            for (int64_t k0 = 0; k0 < fx; k0++) {
                if (!row[k0])
                    continue;
                int64_t k1 = k0;
                while (k1 + 1 < fx && row[k1 + 1])
                    k1++;
                fp_run *r = &pl->runs[pl->n++];
                r->len = k1 - k0 + 1;
                if (reflect) {
                    r->dz = fz / 2 - kz;
                    r->dy = fy / 2 - ky;
                    r->a = fx / 2 - k1;
                } else {
                    r->dz = kz - fz / 2;
                    r->dy = ky - fy / 2;
                    r->a = k0 - fx / 2;
                }
                if (r->len > pl->maxlen)
                    pl->maxlen = r->len;
                k0 = k1;
            }
        }
    if (pl->maxlen == 0)
        pl->maxlen = 1;
    return TP_OK;
}

/* Foreground flags of one row: nonzero (NaN included, -0.0 excluded) as numpy's bool conversion, or its
 * complement. */
static void row_mask(const void *src, tp_dtype t, int64_t n, bool invert, uint8_t *restrict m)
{
    const uint8_t flip = invert;
    switch (t) {
#define TP_MASK_CASE(E, T)                                                                                         \
    case E: {                                                                                                      \
        const T *restrict s = src;                                                                                 \
        for (int64_t i = 0; i < n; i++)                                                                            \
            m[i] = (uint8_t)((s[i] != 0) ^ flip);                                                                  \
    } break;
        TP_MASK_CASE(TP_BOOL, uint8_t)
        TP_MASK_CASE(TP_UINT8, uint8_t)
        TP_MASK_CASE(TP_INT8, int8_t)
        TP_MASK_CASE(TP_UINT16, uint16_t)
        TP_MASK_CASE(TP_INT16, int16_t)
        TP_MASK_CASE(TP_UINT32, uint32_t)
        TP_MASK_CASE(TP_INT32, int32_t)
        TP_MASK_CASE(TP_INT64, int64_t)
        TP_MASK_CASE(TP_FLOAT32, float)
        TP_MASK_CASE(TP_FLOAT64, double)
#undef TP_MASK_CASE
    default:
        memset(m, 0, (size_t)n);
    }
}

/* One kernel per width of R: 8 bits covers every footprint up to 255 wide (the usual case) and keeps R at
 * one byte per pixel. */
#define TP_DEFINE_ERODE(T, S)                                                                                      \
    static void build_r_##S(const uint8_t *restrict m, int64_t n, T cap, bool border_fg, T *restrict r)            \
    {                                                                                                              \
        T run = border_fg ? cap : 0;                                                                               \
        for (int64_t x = n - 1; x >= 0; x--) {                                                                     \
            run = m[x] ? (run < cap ? (T)(run + 1) : cap) : (T)0;                                                  \
            r[x] = run;                                                                                            \
        }                                                                                                          \
    }                                                                                                              \
    /* ok[x] &= all foreground in x+a .. x+a+len-1 of the row whose R is r */                                      \
    static void and_run_##S(uint8_t *restrict ok, const T *restrict r, int64_t n, int64_t a, int64_t len,          \
                            bool border_fg)                                                                        \
    {                                                                                                              \
        int64_t lo = a < 0 ? (-a < n ? -a : n) : 0;  /* below lo the run starts left of the image */              \
        int64_t hi = a > 0 ? (a < n ? n - a : 0) : n; /* from hi on it starts right of the image */                \
        for (int64_t x = 0; x < lo; x++) {                                                                         \
            int64_t inside = x + a + len; /* pixels 0 .. inside-1 lie in the image */                              \
            ok[x] &= (uint8_t)(border_fg && (inside <= 0 || (int64_t)r[0] >= inside));                             \
        }                                                                                                          \
        const T need = (T)len;                                                                                     \
        for (int64_t x = lo; x < hi; x++)                                                                          \
            ok[x] &= (uint8_t)(r[x + a] >= need);                                                                  \
        if (!border_fg)                                                                                            \
            for (int64_t x = hi; x < n; x++)                                                                       \
                ok[x] = 0;                                                                                         \
    }                                                                                                              \
    static void erode_row_##S(const job *j, int64_t q)                                                             \
    {                                                                                                              \
        int64_t z = q / j->ny, y = q % j->ny, nx = j->nx;                                                          \
        uint8_t *o = j->out + q * nx;                                                                              \
        const T *r = j->r;                                                                                         \
        bool dead = false;                                                                                         \
        memset(o, 1, (size_t)nx);                                                                                  \
        for (int64_t k = 0; k < j->pl->n && !dead; k++) {                                                          \
            const fp_run *u = &j->pl->runs[k];                                                                     \
            int64_t sz = z + u->dz, sy = y + u->dy;                                                                \
            if (sz < 0 || sz >= j->nz || sy < 0 || sy >= j->ny) {                                                  \
                dead = !j->border_fg; /* the whole run lies outside */                                             \
                continue;                                                                                          \
            }                                                                                                      \
            and_run_##S(o, r + (sz * j->ny + sy) * nx, nx, u->a, u->len, j->border_fg);                            \
        }                                                                                                          \
        if (dead)                                                                                                  \
            memset(o, 0, (size_t)nx);                                                                              \
        if (j->invert)                                                                                             \
            for (int64_t x = 0; x < nx; x++)                                                                       \
                o[x] ^= 1;                                                                                         \
    }                                                                                                              \
    static void erode_##S(const job *j)                                                                            \
    {                                                                                                              \
        const int64_t rows = j->nz * j->ny, nx = j->nx;                                                            \
        const size_t esz = tp_dtype_size(j->in->dtype);                                                            \
        const T cap = (T)j->pl->maxlen;                                                                            \
        T *r = j->r;                                                                                               \
        _Pragma("omp parallel num_threads(j->threads)")                                                            \
        {                                                                                                          \
            uint8_t *m = j->masks + (int64_t)omp_get_thread_num() * nx;                                            \
            _Pragma("omp for schedule(static)") for (int64_t q = 0; q < rows; q++)                                 \
            {                                                                                                      \
                row_mask((const char *)j->in->data + (size_t)(q * nx) * esz, j->in->dtype, nx, j->invert, m);      \
                build_r_##S(m, nx, cap, j->border_fg, r + q * nx);                                                 \
            }                                                                                                      \
            _Pragma("omp for schedule(static)") for (int64_t q = 0; q < rows; q++) erode_row_##S(j, q);            \
        }                                                                                                          \
    }

TP_DEFINE_ERODE(uint8_t, u8)
TP_DEFINE_ERODE(uint16_t, u16)
TP_DEFINE_ERODE(uint32_t, u32)
#undef TP_DEFINE_ERODE

tp_status tp_morph_apply(tp_context *ctx, const tp_image *in, uint8_t *out, const tp_footprint *fp,
                         tp_morph_kind kind, bool border_value)
{
    int sd = tp_image_spatial_ndim(in);
    if ((sd != 2 && sd != 3) || in->channel_axis >= 0 || fp->ndim != sd)
        return tp_error(ctx, TP_ERR_SHAPE,
                        "binary morphology: expected a 2D or 3D image and footprint, got %dD and %dD", sd, fp->ndim);
    job j = {.in = in, .out = out, .threads = ctx->threads > 0 ? ctx->threads : 1};
    j.nz = sd == 3 ? in->shape[0] : 1;
    j.ny = in->shape[sd - 2];
    j.nx = in->shape[sd - 1];
    j.invert = kind == TP_MORPH_DILATE;
    j.border_fg = j.invert ? !border_value : border_value;
    plan pl;
    tp_status st = build_plan(ctx, fp, j.invert, &pl);
    if (st)
        return st;
    j.pl = &pl;
    size_t rsz = pl.maxlen <= UINT8_MAX ? 1 : pl.maxlen <= UINT16_MAX ? 2 : 4;
    j.r = tp_host_alloc(ctx, tp_image_count(in), rsz);
    j.masks = tp_host_alloc(ctx, j.nx, (size_t)j.threads);
    if (!j.r || !j.masks) {
        st = TP_ERR_NOMEM;
    } else if (rsz == 1) {
        erode_u8(&j);
    } else if (rsz == 2) {
        erode_u16(&j);
    } else {
        erode_u32(&j);
    }
    free(j.masks);
    free(j.r);
    free(pl.runs);
    return st;
}

tp_status tp_morph_run_op(tp_context *ctx, const tp_call *c, const tp_morph_kind *steps, int n)
{
    const tp_image *in = c->in[0];
    const char *mode = tp_arg_str(c, "mode");
    const tp_footprint *fp = tp_arg_footprint(c, "footprint");
    tp_footprint cross;
    memset(&cross, 0, sizeof cross);
    tp_status st = TP_OK;
    if (!fp) {
        /* scikit-image's default: generate_binary_structure(ndim, 1) */
        if ((st = tp_footprint_parse(ctx, tp_image_spatial_ndim(in) == 3 ? "cross3" : "cross", &cross)))
            return st;
        fp = &cross;
    }
    uint8_t *tmp = NULL;
    if ((st = tp_out_image(ctx, c, TP_BOOL, in->ndim, in->shape, -1)))
        goto done;
    if (n > 1 && !(tmp = tp_host_alloc(ctx, tp_image_count(in), 1))) {
        st = TP_ERR_NOMEM;
        goto done;
    }
    uint8_t *out = c->out->image.data;
    const tp_image *src = in;
    tp_image between = tp_image_empty();
    for (int i = 0; i < n && !st; i++) {
        /* ping-pong so that the last step lands in the output and no step reads what it writes */
        uint8_t *dst = (n - 1 - i) % 2 == 0 ? out : tmp;
        st = tp_morph_apply(ctx, src, dst, fp, steps[i], tp_morph_border(steps[i], mode));
        between = tp_image_wrap(dst, TP_BOOL, in->ndim, in->shape, -1, TP_HOST);
        src = &between;
    }
done:
    free(tmp);
    tp_footprint_free(&cross);
    return st;
}

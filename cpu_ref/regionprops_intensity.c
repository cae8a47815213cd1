/* regionprops_table: intensity_min, intensity_max, intensity_mean, intensity_std, centroid_weighted.
 *
 * scikit-image takes np.min / np.max / np.mean (and, from 0.23, np.std) of the region's intensities in
 * raster order, and the weighted centroid from moments of the float64 intensities. To give the same
 * floats, the sums reproduce numpy's: integers are summed in float64 (exact here with integer sums while
 * they stay below 2^53), float32 in float32 and float64 in float64, both with numpy's pairwise summation
 * over chunks of 8192 elements. float32 means and standard deviations are rounded to float32 as numpy
 * returns them, and stored in the float64 column as scikit-image's table does.
 *
 * NaN and +-inf (docs/nonfinite.md): min and max are NaN when the region holds a NaN (np.min / np.max), the
 * sums carry NaN and infinities as numpy's do (inf - inf = NaN in the deviations), and centroid_weighted is
 * NaN when the region's bounding box holds a non-finite value anywhere, as scikit-image's moments over
 * intensity[bbox] * mask make it. */
#include "cpu_ref/regionprops_props.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef __int128 i128;

/* numpy's pairwise_sum (umath loops_utils): below 8 elements in order; up to 128 with 8 accumulators;
 * beyond, split at half rounded down to a multiple of 8. */
#define RP_PAIRWISE(NAME, T)                                                                                       \
    static T NAME(const T *a, int64_t n)                                                                           \
    {                                                                                                              \
        if (n < 8) {                                                                                               \
            T res = 0;                                                                                             \
            for (int64_t i = 0; i < n; i++)                                                                        \
                res += a[i];                                                                                       \
            return res;                                                                                            \
        }                                                                                                          \
        if (n <= 128) {                                                                                            \
            T r[8];                                                                                                \
            for (int k = 0; k < 8; k++)                                                                            \
                r[k] = a[k];                                                                                       \
            int64_t i;                                                                                             \
            for (i = 8; i < n - (n % 8); i += 8)                                                                   \
                for (int k = 0; k < 8; k++)                                                                        \
                    r[k] += a[i + k];                                                                              \
            T res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));                             \
            for (; i < n; i++)                                                                                     \
                res += a[i];                                                                                       \
            return res;                                                                                            \
        }                                                                                                          \
        int64_t n2 = n / 2;                                                                                        \
        n2 -= n2 % 8;                                                                                              \
        return NAME(a, n2) + NAME(a + n2, n - n2);                                                                 \
    }
RP_PAIRWISE(pairwise_f64, double)
RP_PAIRWISE(pairwise_f32, float)

#define RP_NP_BUFSIZE 8192

double rp_numpy_sum_f64(const double *a, int64_t n)
{
    double acc = 0;
    for (int64_t off = 0; off < n; off += RP_NP_BUFSIZE)
        acc += pairwise_f64(a + off, n - off < RP_NP_BUFSIZE ? n - off : RP_NP_BUFSIZE);
    return acc;
}

float rp_numpy_sum_f32(const float *a, int64_t n)
{
    float acc = 0;
    for (int64_t off = 0; off < n; off += RP_NP_BUFSIZE)
        acc += pairwise_f32(a + off, n - off < RP_NP_BUFSIZE ? n - off : RP_NP_BUFSIZE);
    return acc;
}

/* Per-region accumulations over the runs, each in its own loop so that the common ones (a sum, a min and
 * max) vectorise. Integer images sum exactly (8- and 16-bit values per run in 64 bits, wider ones in 128
 * bits); float images accumulate the weighted moments in double. */
typedef struct istats {
    double vmin, vmax;
    bool nan;
    i128 isum;           /* integer images: exact sum */
    i128 iw[3];          /* integer images: exact weighted moments (local coordinates) */
    double fw0, fw[3];   /* float images */
} istats;

enum { IS_SUM = 1, IS_MINMAX = 2, IS_WEIGHTED = 4 };

#define RP_ISTATS_FN(NAME, T, ACC, IS_FLOAT)                                                                  \
    static void NAME(const void *data, const rp_geom *g, const rp_region *r, const rp_run *runs, int what, \
                     istats *s)                                                                            \
    {                                                                                                      \
        const T *img = data;                                                                               \
        T lo = img[runs[r->first].line * g->W + runs[r->first].x0], hi = lo;                               \
        for (int64_t i = 0; i < r->nruns; i++) {                                                           \
            const rp_run *q = &runs[r->first + i];                                                         \
            const T *p = img + q->line * g->W + q->x0;                                                     \
            int64_t len = q->len;                                                                          \
            if (i + 4 < r->nruns) /* runs sit on different rows: fetch ahead */                            \
                __builtin_prefetch(img + q[4].line * g->W + q[4].x0);                                      \
            if (what & IS_MINMAX) {                                                                        \
                for (int64_t k = 0; k < len; k++) {                                                        \
                    lo = p[k] < lo ? p[k] : lo;                                                            \
                    hi = p[k] > hi ? p[k] : hi;                                                            \
                }                                                                                          \
                if (IS_FLOAT)                                                                              \
                    for (int64_t k = 0; k < len; k++)                                                      \
                        s->nan |= isnan((double)p[k]);                                                     \
            }                                                                                              \
            if (!IS_FLOAT && (what & (IS_SUM | IS_WEIGHTED))) {                                            \
                ACC sum = 0;                                                                               \
                for (int64_t k = 0; k < len; k++)                                                          \
                    sum += (ACC)p[k];                                                                      \
                s->isum += sum;                                                                            \
            }                                                                                              \
            if (what & IS_WEIGHTED) {                                                                      \
                int64_t z = q->line / g->H - r->lo[0], y = q->line % g->H - r->lo[1];                     \
                int64_t x0 = q->x0 - r->lo[2];                                                             \
                if (IS_FLOAT) {                                                                            \
                    for (int64_t k = 0; k < len; k++) {                                                    \
                        double d = (double)p[k];                                                           \
                        s->fw0 += d;                                                                       \
                        s->fw[0] += d * (double)z;                                                         \
                        s->fw[1] += d * (double)y;                                                         \
                        s->fw[2] += d * (double)(x0 + k);                                                  \
                    }                                                                                      \
                } else {                                                                                   \
                    i128 sum = 0, sx = 0;                                                                  \
                    for (int64_t k = 0; k < len; k++) {                                                    \
                        sum += (int64_t)p[k];                                                              \
                        sx += (i128)(int64_t)p[k] * (x0 + k);                                              \
                    }                                                                                      \
                    s->iw[0] += sum * z;                                                                   \
                    s->iw[1] += sum * y;                                                                   \
                    s->iw[2] += sx;                                                                        \
                }                                                                                          \
            }                                                                                              \
        }                                                                                                  \
        s->vmin = (double)lo;                                                                              \
        s->vmax = (double)hi;                                                                              \
    }
RP_ISTATS_FN(istats_u8, uint8_t, int64_t, 0)
RP_ISTATS_FN(istats_i8, int8_t, int64_t, 0)
RP_ISTATS_FN(istats_u16, uint16_t, int64_t, 0)
RP_ISTATS_FN(istats_i16, int16_t, int64_t, 0)
RP_ISTATS_FN(istats_u32, uint32_t, i128, 0)
RP_ISTATS_FN(istats_i32, int32_t, i128, 0)
RP_ISTATS_FN(istats_i64, int64_t, i128, 0)
RP_ISTATS_FN(istats_f32, float, double, 1)
RP_ISTATS_FN(istats_f64, double, double, 1)

/* The region's intensities in raster order, as double (or float for float32 images). */
#define RP_GATHER_FN(NAME, T, OUT_T)                                                                       \
    static void NAME(const void *data, const rp_geom *g, const rp_region *r, const rp_run *runs, OUT_T *out) \
    {                                                                                                      \
        const T *img = data;                                                                               \
        int64_t n = 0;                                                                                     \
        for (int64_t i = 0; i < r->nruns; i++) {                                                           \
            const rp_run *q = &runs[r->first + i];                                                         \
            const T *p = img + q->line * g->W + q->x0;                                                     \
            if (i + 4 < r->nruns)                                                                          \
                __builtin_prefetch(img + q[4].line * g->W + q[4].x0);                                      \
            for (int64_t k = 0; k < q->len; k++)                                                           \
                out[n++] = (OUT_T)p[k];                                                                    \
        }                                                                                                  \
    }
RP_GATHER_FN(gather_u8, uint8_t, double)
RP_GATHER_FN(gather_i8, int8_t, double)
RP_GATHER_FN(gather_u16, uint16_t, double)
RP_GATHER_FN(gather_i16, int16_t, double)
RP_GATHER_FN(gather_u32, uint32_t, double)
RP_GATHER_FN(gather_i32, int32_t, double)
RP_GATHER_FN(gather_i64, int64_t, double)
RP_GATHER_FN(gather_f64, double, double)
RP_GATHER_FN(gather_f32, float, float)

typedef void (*istats_fn)(const void *, const rp_geom *, const rp_region *, const rp_run *, int, istats *);
typedef void (*gather_fn)(const void *, const rp_geom *, const rp_region *, const rp_run *, double *);

static void dispatch(tp_dtype t, istats_fn *st, gather_fn *ga)
{
    switch (t) {
    case TP_BOOL: /* bytes 0/1: as uint8 */
    case TP_UINT8: *st = istats_u8; *ga = gather_u8; break;
    case TP_INT8: *st = istats_i8; *ga = gather_i8; break;
    case TP_UINT16: *st = istats_u16; *ga = gather_u16; break;
    case TP_INT16: *st = istats_i16; *ga = gather_i16; break;
    case TP_UINT32: *st = istats_u32; *ga = gather_u32; break;
    case TP_INT32: *st = istats_i32; *ga = gather_i32; break;
    case TP_INT64: *st = istats_i64; *ga = gather_i64; break;
    case TP_FLOAT32: *st = istats_f32; *ga = NULL; break;
    default: *st = istats_f64; *ga = gather_f64; break;
    }
}

/* Integer sums stay exact in numpy's float64 accumulation while every partial sum is below 2^53. */
static bool int_sum_exact(tp_dtype t, int64_t n)
{
    switch (t) {
    case TP_BOOL:
    case TP_UINT8:
    case TP_INT8:
    case TP_UINT16:
    case TP_INT16: return n < (INT64_C(1) << 36);
    case TP_UINT32:
    case TP_INT32: return n < (INT64_C(1) << 20);
    default: return false;
    }
}

/* np.mean and np.std of float32 values: float32 pairwise sums, quotients rounded to float32. */
static void moments_f32(float *v, int64_t n, unsigned needs, rp_values *out)
{
    float mean = (float)((double)rp_numpy_sum_f32(v, n) / (double)n);
    out->imean = mean;
    if (!(needs & RP_NEED_ISTD))
        return;
    for (int64_t i = 0; i < n; i++) {
        float d = v[i] - mean;
        v[i] = d * d;
    }
    float var = (float)((double)rp_numpy_sum_f32(v, n) / (double)n);
    out->istd = sqrtf(var);
}

/* np.mean and np.std of values numpy sums in float64. */
static void moments_f64(double *v, int64_t n, unsigned needs, rp_values *out)
{
    double mean = rp_numpy_sum_f64(v, n) / (double)n;
    out->imean = mean;
    if (!(needs & RP_NEED_ISTD))
        return;
    for (int64_t i = 0; i < n; i++) {
        double d = v[i] - mean;
        v[i] = d * d;
    }
    out->istd = sqrt(rp_numpy_sum_f64(v, n) / (double)n);
}

/* ---- non-finite values and the weighted centroid ----
 * scikit-image computes the weighted moments on intensity[bbox] * mask: a NaN or an infinity anywhere in the
 * bounding box, inside the region or not, turns M00 (NaN, +-inf) and the first moments (NaN * 0, inf * 0,
 * inf / inf) into NaN, and every coordinate of centroid_weighted with them. The image is scanned once per
 * call, line by line; a region then looks at the lines of its box, and reads pixels only on a line whose
 * non-finite values lie on both sides of the box and none at its edges. */
#define RP_NF_LINES(NAME, T)                                                                                       \
    static bool NAME(const T *img, int64_t lines, int64_t W, int64_t *lo, int64_t *hi, int threads)                \
    {                                                                                                              \
        bool any = false;                                                                                          \
        _Pragma("omp parallel for num_threads(threads) schedule(static) reduction(|| : any)")                      \
        for (int64_t l = 0; l < lines; l++) {                                                                      \
            const T *p = img + l * W;                                                                              \
            int64_t a = W, b = -1;                                                                                 \
            for (int64_t x = 0; x < W; x++)                                                                        \
                if (!isfinite(p[x])) {                                                                             \
                    a = a < x ? a : x;                                                                             \
                    b = x;                                                                                         \
                }                                                                                                  \
            lo[l] = a;                                                                                             \
            hi[l] = b;                                                                                             \
            any = any || b >= 0;                                                                                   \
        }                                                                                                          \
        return any;                                                                                                \
    }
RP_NF_LINES(nf_lines_f32, float)
RP_NF_LINES(nf_lines_f64, double)

tp_status rp_nonfinite_scan(tp_context *ctx, const rp_geom *g, const tp_image *inten, int threads, rp_nonfinite *nf)
{
    const int64_t lines = g->D * g->H;
    nf->any = false;
    nf->lo = tp_host_alloc(ctx, lines, sizeof(int64_t));
    nf->hi = tp_host_alloc(ctx, lines, sizeof(int64_t));
    if (!nf->lo || !nf->hi) {
        rp_nonfinite_free(nf);
        return TP_ERR_NOMEM;
    }
    if (inten->dtype == TP_FLOAT32)
        nf->any = nf_lines_f32(inten->data, lines, g->W, nf->lo, nf->hi, threads > 0 ? threads : 1);
    else
        nf->any = nf_lines_f64(inten->data, lines, g->W, nf->lo, nf->hi, threads > 0 ? threads : 1);
    return TP_OK;
}

void rp_nonfinite_free(rp_nonfinite *nf)
{
    free(nf->lo);
    free(nf->hi);
    nf->lo = nf->hi = NULL;
    nf->any = false;
}

bool rp_bbox_nonfinite(const rp_geom *g, const rp_region *r, const tp_image *inten, const rp_nonfinite *nf)
{
    if (!nf || !nf->lo || !nf->any)
        return false;
    const int64_t x0 = r->lo[2], x1 = r->hi[2];
    for (int64_t z = r->lo[0]; z <= r->hi[0]; z++)
        for (int64_t y = r->lo[1]; y <= r->hi[1]; y++) {
            const int64_t l = z * g->H + y, a = nf->lo[l], b = nf->hi[l];
            if (a > x1 || b < x0)
                continue; /* none on the line, or all of them left or right of the box */
            if (a >= x0 || b <= x1)
                return true; /* the first or the last one is inside */
            for (int64_t x = x0; x <= x1; x++) {
                const double d = inten->dtype == TP_FLOAT32 ? (double)((const float *)inten->data)[l * g->W + x]
                                                            : ((const double *)inten->data)[l * g->W + x];
                if (!isfinite(d))
                    return true;
            }
        }
    return false;
}

tp_status rp_intensity_props(const rp_geom *g, const rp_region *r, const rp_run *runs, const tp_image *inten,
                             const rp_nonfinite *nf, unsigned needs, rp_work *w, rp_values *v, rp_fail *f)
{
    if (!(needs & (RP_NEED_IMINMAX | RP_NEED_IMEAN | RP_NEED_ISTD | RP_NEED_IWEIGHTED)))
        return TP_OK;
    istats_fn stats;
    gather_fn gather;
    dispatch(inten->dtype, &stats, &gather);
    bool is_float = tp_dtype_is_float(inten->dtype);
    istats s = {0};
    int64_t n = r->area;
    bool exact_mean = !is_float && int_sum_exact(inten->dtype, n) && !(needs & RP_NEED_ISTD);
    int what = ((needs & RP_NEED_IMINMAX) ? IS_MINMAX : 0) | ((needs & RP_NEED_IWEIGHTED) ? IS_WEIGHTED : 0) |
               ((needs & RP_NEED_IMEAN) && exact_mean ? IS_SUM : 0);
    stats(inten->data, g, r, runs, what, &s);
    /* np.max / np.min propagate NaN */
    v->imin = s.nan ? NAN : s.vmin;
    v->imax = s.nan ? NAN : s.vmax;
    if (needs & RP_NEED_IWEIGHTED) {
        double m0 = is_float ? s.fw0 : (double)s.isum;
        int first = g->ndim == 3 ? 0 : 1;
        const bool poisoned = is_float && rp_bbox_nonfinite(g, r, inten, nf);
        for (int a = first; a < 3; a++) {
            double m1 = is_float ? s.fw[a] : (double)s.iw[a];
            v->centroid_weighted[a - first] = poisoned ? NAN : m1 / m0 + (double)r->lo[a];
        }
    }
    if (!(needs & (RP_NEED_IMEAN | RP_NEED_ISTD)))
        return TP_OK;
    if (exact_mean) {
        v->imean = (double)s.isum / (double)n;
        return TP_OK;
    }
    size_t elem = inten->dtype == TP_FLOAT32 ? sizeof(float) : sizeof(double);
    if (!rp_buf_reserve(&w->vals, (size_t)n * elem)) {
        f->code = TP_ERR_NOMEM;
        snprintf(f->msg, sizeof f->msg, "out of host memory (intensities of label %lld)", (long long)r->label);
        return f->code;
    }
    if (inten->dtype == TP_FLOAT32) {
        gather_f32(inten->data, g, r, runs, w->vals.p);
        moments_f32(w->vals.p, n, needs, v);
    } else {
        gather(inten->data, g, r, runs, w->vals.p);
        moments_f64(w->vals.p, n, needs, v);
    }
    return TP_OK;
}

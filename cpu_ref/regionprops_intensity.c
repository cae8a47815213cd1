/* regionprops_table: intensity_min, intensity_max, intensity_mean, intensity_std, centroid_weighted.
 *
 * scikit-image takes np.min / np.max / np.mean (and, from 0.23, np.std) of the region's intensities in
 * raster order, and the weighted centroid from moments of the float64 intensities. To give the same
 * floats, the sums reproduce numpy's: integers are summed in float64 (exact here with integer sums while
 * they stay below 2^53), float32 in float32 and float64 in float64, both with numpy's pairwise summation
 * over chunks of 8192 elements. float32 means and standard deviations are rounded to float32 as numpy
 * returns them, and stored in the float64 column as scikit-image's table does. */
#include "cpu_ref/regionprops_props.h"

#include <math.h>
#include <stdio.h>

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

tp_status rp_intensity_props(const rp_geom *g, const rp_region *r, const rp_run *runs, const tp_image *inten,
                             unsigned needs, rp_work *w, rp_values *v, rp_fail *f)
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
        for (int a = first; a < 3; a++) {
            double m1 = is_float ? s.fw[a] : (double)s.iw[a];
            v->centroid_weighted[a - first] = m1 / m0 + (double)r->lo[a];
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

/*
 * threshold_otsu: skimage.filters.threshold_otsu (0.26 on numpy 2); the rules are in cpu_ref/otsu.h. The
 * result is a 1-element float64 image holding the threshold (an integer bin's value for integer images, the
 * float32 centre widened to float64 for float32 images).
 *
 * Counting is integer, so threads count into private histograms (or one shared histogram with atomic
 * increments when the bins are many) and the merge is exact in any order; the float32 weights and the
 * class sums of the choice run sequentially over the bins, as numpy's cumsum does.
 */
#include "cpu_ref/cpu_ops.h"
#include "cpu_ref/otsu.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>

enum {
    CHUNK = 1 << 14,             /* elements per scheduling unit */
    PRIVATE_BINS_MAX = 1 << 18   /* above this, threads share one histogram with atomic adds */
};

/* ---- rules shared with the CUDA backend (cpu_ref/otsu.h) ---- */

int tp_otsu_edges_f64(double first, double last, int64_t nbins, double *edges)
{
    int bad = 0;
    for (int64_t i = 0; i <= nbins; i++) {
        edges[i] = tp_otsu_edge_f64(first, last, nbins, i);
        bad |= i > 0 && !(edges[i - 1] < edges[i]);
    }
    return bad ? -1 : 0;
}

int tp_otsu_edges_f32(float first, float last, int64_t nbins, float *edges)
{
    int bad = 0;
    for (int64_t i = 0; i <= nbins; i++) {
        edges[i] = tp_otsu_edge_f32(first, last, nbins, i);
        bad |= i > 0 && !(edges[i - 1] < edges[i]);
    }
    return bad ? -1 : 0;
}

/* np.argmax: the first NaN, else the first maximum. */
static inline int better(double v, double best)
{
    return !isnan(best) && (v > best || isnan(v));
}

/* The class weights (float32) and sums from the end, as numpy's cumsum over the reversed arrays. */
static void upper_sums(const int64_t *counts, const double *centres, int64_t n, int f32, float *w2, double *s2)
{
    float w = 0.0f, s32 = 0.0f;
    double s64 = 0.0;
    for (int64_t i = n - 1; i >= 0; i--) {
        const float c = (float)counts[i]; /* counts.astype(float32): rounds past 2^24 */
        w = i == n - 1 ? c : w + c;
        w2[i] = w;
        if (f32) {
            const float t = tp_otsu_term_f32(c, (float)centres[i]);
            s32 = i == n - 1 ? t : s32 + t;
            s2[i] = s32;
        } else {
            const double t = tp_otsu_term_f64(c, centres[i]);
            s64 = i == n - 1 ? t : s64 + t;
            s2[i] = s64;
        }
    }
}

int64_t tp_otsu_select(const int64_t *counts, const double *centres, int64_t n, int f32)
{
    float *w2 = malloc((size_t)n * sizeof(float));
    double *s2 = malloc((size_t)n * sizeof(double));
    if (!w2 || !s2) {
        free(w2);
        free(s2);
        return -1;
    }
    upper_sums(counts, centres, n, f32, w2, s2);
    /* the lower class from the start, and the variance of each split, keeping the first maximum */
    int64_t best = 0;
    double best_v = 0.0, s64 = 0.0;
    float w1 = 0.0f, s32 = 0.0f;
    for (int64_t i = 0; i < n - 1; i++) {
        const float c = (float)counts[i];
        w1 = i == 0 ? c : w1 + c;
        double v;
        if (f32) {
            const float t = tp_otsu_term_f32(c, (float)centres[i]);
            s32 = i == 0 ? t : s32 + t;
            v = (double)tp_otsu_variance_f32(w1, s32, w2[i + 1], (float)s2[i + 1]);
        } else {
            const double t = tp_otsu_term_f64(c, centres[i]);
            s64 = i == 0 ? t : s64 + t;
            v = tp_otsu_variance_f64(w1, s64, w2[i + 1], s2[i + 1]);
        }
        if (i == 0 || better(v, best_v)) {
            best = i;
            best_v = v;
        }
    }
    free(w2);
    free(s2);
    return best;
}

/* ---- scanning the image ---- */

typedef struct scan {
    double lo, hi;  /* min and max (exact for every dtype but int64 beyond 2^53, see int_range) */
    int nan;        /* a NaN was seen (float images) */
} scan;

/* Min and max lane by lane (16 independent lanes vectorise; min/max of a set does not depend on the
 * order, and a NaN is only flagged, never chosen: it makes the call fail). */
#define RANGE_LOOP(T, ISNAN)                                                                                          \
    do {                                                                                                              \
        enum { LANES = 16 };                                                                                          \
        const T *a = (const T *)data;                                                                                 \
        T mn = a[0], mx = a[0];                                                                                       \
        int bad = 0;                                                                                                  \
        _Pragma("omp parallel for num_threads(threads) reduction(min : mn) reduction(max : mx) reduction(| : bad)")   \
        for (int64_t c = 0; c < nchunks; c++) {                                                                       \
            int64_t i = c * CHUNK, end = i + CHUNK < n ? i + CHUNK : n;                                               \
            T lmn[LANES], lmx[LANES];                                                                                 \
            int lbad[LANES];                                                                                          \
            for (int q = 0; q < LANES; q++) {                                                                         \
                lmn[q] = lmx[q] = a[i];                                                                               \
                lbad[q] = 0;                                                                                          \
            }                                                                                                         \
            for (; i + LANES <= end; i += LANES)                                                                      \
                for (int q = 0; q < LANES; q++) {                                                                     \
                    T v = a[i + q];                                                                                   \
                    lbad[q] |= ISNAN(v);                                                                              \
                    lmn[q] = v < lmn[q] ? v : lmn[q];                                                                 \
                    lmx[q] = v > lmx[q] ? v : lmx[q];                                                                 \
                }                                                                                                     \
            for (; i < end; i++) {                                                                                    \
                lbad[0] |= ISNAN(a[i]);                                                                               \
                lmn[0] = a[i] < lmn[0] ? a[i] : lmn[0];                                                               \
                lmx[0] = a[i] > lmx[0] ? a[i] : lmx[0];                                                               \
            }                                                                                                         \
            for (int q = 0; q < LANES; q++) {                                                                         \
                bad |= lbad[q];                                                                                       \
                mn = lmn[q] < mn ? lmn[q] : mn;                                                                       \
                mx = lmx[q] > mx ? lmx[q] : mx;                                                                       \
            }                                                                                                         \
        }                                                                                                             \
        sc.lo = (double)mn;                                                                                           \
        sc.hi = (double)mx;                                                                                           \
        sc.nan = bad;                                                                                                 \
        *ilo = (int64_t)mn;                                                                                           \
        *ihi = (int64_t)mx;                                                                                           \
    } while (0)

#define NEVER_NAN(v) 0
#define IS_NAN(v) ((v) != (v))

/* min, max and NaN presence; integer images also get their exact integer range. */
static scan scan_range(const void *data, tp_dtype t, int64_t n, int threads, int64_t *ilo, int64_t *ihi)
{
    scan sc = {0, 0, 0};
    const int64_t nchunks = (n + CHUNK - 1) / CHUNK;
    switch (t) {
    case TP_UINT8: RANGE_LOOP(uint8_t, NEVER_NAN); break;
    case TP_INT8: RANGE_LOOP(int8_t, NEVER_NAN); break;
    case TP_UINT16: RANGE_LOOP(uint16_t, NEVER_NAN); break;
    case TP_INT16: RANGE_LOOP(int16_t, NEVER_NAN); break;
    case TP_UINT32: RANGE_LOOP(uint32_t, NEVER_NAN); break;
    case TP_INT32: RANGE_LOOP(int32_t, NEVER_NAN); break;
    case TP_INT64: RANGE_LOOP(int64_t, NEVER_NAN); break;
    case TP_FLOAT32: RANGE_LOOP(float, IS_NAN); break;
    case TP_FLOAT64: RANGE_LOOP(double, IS_NAN); break;
    default: break;
    }
    return sc;
}

typedef struct hist_job {
    const void *data;
    tp_dtype dtype;
    int64_t n, nbins;
    int64_t lo;                 /* integer images: the value of bin 0 */
    const double *e64;          /* float64 images: edges */
    const float *e32;           /* float32 images: edges */
    double flo;
    double span;                /* float images: max - min, rounded to the image dtype */
} hist_job;

static inline void bump(int64_t *h, int64_t b, int shared)
{
    if (shared)
        __atomic_fetch_add(&h[b], 1, __ATOMIC_RELAXED);
    else
        h[b]++;
}

#define INT_CHUNK(T)                                                                                                  \
    do {                                                                                                              \
        const T *a = (const T *)j->data;                                                                              \
        for (int64_t i = i0; i < i1; i++)                                                                             \
            bump(h, (int64_t)a[i] - j->lo, shared);                                                                   \
    } while (0)

/* Float samples: numpy 2's first guess (tp_otsu_guess_*: int((x - min) / span * nbins)) for a block at once
 * (vectorised; the guess is at most nbins <= 2^24, so int32 holds it), then numpy's corrections one sample
 * at a time. */
#define FLOAT_CHUNK(T, E, FIRST, SPAN, CORRECT)                                                                       \
    do {                                                                                                              \
        enum { BLOCK = 256 };                                                                                         \
        const T *a = (const T *)j->data;                                                                              \
        const T first = (FIRST), span = (SPAN), fnb = (T)j->nbins;                                                    \
        const int64_t nb = j->nbins;                                                                                  \
        int32_t guess[BLOCK];                                                                                         \
        for (int64_t b0 = i0; b0 < i1; b0 += BLOCK) {                                                                 \
            int m = i1 - b0 < BLOCK ? (int)(i1 - b0) : BLOCK;                                                         \
            for (int q = 0; q < m; q++) {                                                                             \
                T d = a[b0 + q] - first, r = d / span;                                                                \
                guess[q] = (int32_t)(r * fnb);                                                                        \
            }                                                                                                         \
            for (int q = 0; q < m; q++)                                                                               \
                bump(h, CORRECT(a[b0 + q], guess[q], (E), nb), shared);                                               \
        }                                                                                                             \
    } while (0)

/* Count elements [i0, i1) into h (atomically when h is shared between threads). */
static void count_chunk(const hist_job *j, int64_t i0, int64_t i1, int64_t *h, int shared)
{
    switch (j->dtype) {
    case TP_UINT8: INT_CHUNK(uint8_t); break;
    case TP_INT8: INT_CHUNK(int8_t); break;
    case TP_UINT16: INT_CHUNK(uint16_t); break;
    case TP_INT16: INT_CHUNK(int16_t); break;
    case TP_UINT32: INT_CHUNK(uint32_t); break;
    case TP_INT32: INT_CHUNK(int32_t); break;
    case TP_INT64: INT_CHUNK(int64_t); break;
    case TP_FLOAT32: FLOAT_CHUNK(float, j->e32, (float)j->flo, (float)j->span, tp_otsu_correct_f32); break;
    case TP_FLOAT64: FLOAT_CHUNK(double, j->e64, j->flo, j->span, tp_otsu_correct_f64); break;
    default: break;
    }
}

/* Private per-thread histograms merged afterwards, or, for many bins, one shared histogram. */
static tp_status count_bins(tp_context *ctx, const hist_job *j, int64_t *counts)
{
    const int64_t n = j->n, nbins = j->nbins, nchunks = (n + CHUNK - 1) / CHUNK;
    const int threads = ctx->threads;
    int64_t *priv = NULL;
    if (threads > 1 && nbins <= PRIVATE_BINS_MAX && !(priv = tp_host_calloc(ctx, nbins * threads, sizeof(int64_t))))
        return TP_ERR_NOMEM;
    const int shared = threads > 1 && !priv;
#pragma omp parallel num_threads(threads)
    {
        int64_t *h = priv ? priv + nbins * omp_get_thread_num() : counts;
#pragma omp for schedule(static)
        for (int64_t c = 0; c < nchunks; c++)
            count_chunk(j, c * CHUNK, (c + 1) * CHUNK < n ? (c + 1) * CHUNK : n, h, shared);
    }
    if (priv) {
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int64_t b = 0; b < nbins; b++) {
            int64_t s = 0;
            for (int t = 0; t < threads; t++)
                s += priv[(int64_t)t * nbins + b];
            counts[b] = s;
        }
        free(priv);
    }
    return TP_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Integer images whose value range is far wider than the image: the same selection over the distinct
 * values only. It is exact, not an approximation: an empty bin changes no cumulative sum (adding zero is
 * exact in float32 and float64), so every empty bin repeats the variance of the non-empty bin before it,
 * and the first maximum always falls on a non-empty bin. Memory stays O(pixels) instead of O(range)
 * (an int64 image of ten pixels would otherwise ask for gigabytes; found by fuzzing). */
static tp_status otsu_int_sparse(tp_context *ctx, const tp_image *in, double *thr)
{
    int64_t n = tp_image_count(in), nu = 0;
    int64_t *v = tp_host_alloc(ctx, n, sizeof(int64_t));
    int64_t *counts = v ? tp_host_alloc(ctx, n, sizeof(int64_t)) : NULL;
    double *centres = counts ? tp_host_alloc(ctx, n, sizeof(double)) : NULL;
    tp_status st = centres ? TP_OK : TP_ERR_NOMEM;
    if (!st) {
        for (int64_t i = 0; i < n; i++)
            v[i] = in->dtype == TP_INT64 ? ((const int64_t *)in->data)[i] : (int64_t)tp_get_f64(in->data, in->dtype, i);
        qsort(v, (size_t)n, sizeof *v, cmp_i64);
        for (int64_t i = 0; i < n; i++) {
            if (nu == 0 || v[i] != v[i - 1]) {
                centres[nu] = (double)v[i];
                counts[nu++] = 0;
            }
            counts[nu - 1]++;
        }
        int64_t k = tp_otsu_select(counts, centres, nu, 0);
        if (k < 0)
            st = tp_error(ctx, TP_ERR_NOMEM, "threshold_otsu: out of host memory");
        else
            *thr = centres[k];
    }
    free(v);
    free(counts);
    free(centres);
    return st;
}

/* Integer images: bins min..max, or the distinct values when that range is far wider than the image (the
 * criterion is tp_otsu_int_dense_bins, shared with the CUDA backend so both take the same path). */
static tp_status otsu_int(tp_context *ctx, const tp_image *in, int64_t lo, int64_t hi, double *thr)
{
    const int64_t nbins = tp_otsu_int_dense_bins(lo, hi, tp_image_count(in));
    if (nbins == 0)
        return otsu_int_sparse(ctx, in, thr);
    int64_t *counts = tp_host_calloc(ctx, nbins, sizeof(int64_t));
    double *centres = counts ? tp_host_alloc(ctx, nbins, sizeof(double)) : NULL;
    if (!centres) {
        free(counts);
        return TP_ERR_NOMEM;
    }
    hist_job j = {in->data, in->dtype, tp_image_count(in), nbins, lo, NULL, NULL, 0, 0};
    tp_status st = count_bins(ctx, &j, counts);
    for (int64_t i = 0; i < nbins && !st; i++)
        centres[i] = (double)(lo + i); /* np.arange(min, max + 1), an int64 array */
    int64_t k = st ? 0 : tp_otsu_select(counts, centres, nbins, 0);
    if (!st && k < 0)
        st = tp_error(ctx, TP_ERR_NOMEM, "threshold_otsu: out of host memory");
    if (!st)
        *thr = centres[k];
    free(counts);
    free(centres);
    return st;
}

/* Float images: np.histogram with nbins equal bins from min to max. */
static tp_status otsu_float(tp_context *ctx, const tp_image *in, double lo, double hi, int64_t nbins, double *thr)
{
    const int f32 = in->dtype == TP_FLOAT32;
    if (f32 ? !isfinite((float)hi - (float)lo) : !isfinite(hi - lo))
        return tp_error(ctx, TP_ERR_ARG, "threshold_otsu: image: expected max - min to be finite in %s, got %g - %g",
                        tp_dtype_name(in->dtype), hi, lo);
    int64_t *counts = tp_host_calloc(ctx, nbins, sizeof(int64_t));
    double *centres = counts ? tp_host_alloc(ctx, nbins, sizeof(double)) : NULL;
    void *edges = centres ? tp_host_alloc(ctx, nbins + 1, f32 ? sizeof(float) : sizeof(double)) : NULL;
    if (!edges) {
        free(counts);
        free(centres);
        return TP_ERR_NOMEM;
    }
    hist_job j = {in->data, in->dtype, tp_image_count(in), nbins, 0, NULL, NULL, lo, 0};
    int bad;
    if (f32) {
        float *e = edges;
        bad = tp_otsu_edges_f32((float)lo, (float)hi, nbins, e);
        for (int64_t i = 0; i < nbins; i++)
            centres[i] = (double)((e[i] + e[i + 1]) / 2.0f);
        j.e32 = e;
        j.span = (double)((float)hi - (float)lo);
    } else {
        double *e = edges;
        bad = tp_otsu_edges_f64(lo, hi, nbins, e);
        for (int64_t i = 0; i < nbins; i++)
            centres[i] = (e[i] + e[i + 1]) / 2.0;
        j.e64 = e;
        j.span = hi - lo;
    }
    /* numpy 2 refuses bins narrower than the dtype can tell apart */
    tp_status st = bad ? tp_error(ctx, TP_ERR_ARG, "threshold_otsu: nbins: expected at most as many bins as %s can "
                                  "split the range [%.9g, %.9g] into, got %lld", tp_dtype_name(in->dtype), lo, hi,
                                  (long long)nbins)
                       : count_bins(ctx, &j, counts);
    int64_t k = st ? 0 : tp_otsu_select(counts, centres, nbins, f32);
    if (!st && k < 0)
        st = tp_error(ctx, TP_ERR_NOMEM, "threshold_otsu: out of host memory");
    if (!st)
        *thr = centres[k];
    free(counts);
    free(centres);
    free(edges);
    return st;
}

tp_status tp_cpu_threshold_otsu(tp_context *ctx, const tp_call *c)
{
    const tp_image *in = c->in[0];
    const int64_t n = tp_image_count(in);
    int64_t ilo = 0, ihi = 0;
    scan sc = scan_range(in->data, in->dtype, n, ctx->threads, &ilo, &ihi);
    double thr = 0.0;
    tp_status st = TP_OK;
    if (!sc.nan && sc.lo == sc.hi && (tp_dtype_is_float(in->dtype) || ilo == ihi)) {
        thr = tp_get_f64(in->data, in->dtype, 0); /* np.all(image == first_pixel): return it */
    } else if (tp_dtype_is_float(in->dtype)) {
        /* scikit-image: np.histogram raises on a non-finite min or max (cpu_ref/otsu.h); a NaN, or an
         * infinity beside other values, is TP_ERR_ARG, worded as the CUDA backend words it */
        if (sc.nan || !isfinite(sc.lo) || !isfinite(sc.hi))
            return tp_error(ctx, TP_ERR_ARG, "threshold_otsu: image: expected finite values, got %s",
                            tp_otsu_nonfinite_what(sc.nan, sc.lo, sc.hi));
        st = otsu_float(ctx, in, sc.lo, sc.hi, tp_arg_i64(c, "nbins"), &thr);
    } else {
        st = otsu_int(ctx, in, ilo, ihi, &thr);
    }
    if (st)
        return st;
    int64_t one = 1;
    if ((st = tp_out_image(ctx, c, TP_FLOAT64, 1, &one, -1)))
        return st;
    *(double *)c->out->image.data = thr;
    return TP_OK;
}

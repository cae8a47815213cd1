/*
 * Otsu's threshold as scikit-image 0.26 computes it on numpy 2 (skimage/filters/thresholding.py
 * threshold_otsu + _validate_image_histogram, skimage.exposure.histogram, numpy 2.x np.histogram and
 * np.linspace), as rules the CPU reference and the CUDA backend share: the bin edges, the bin of a float
 * sample, and the arithmetic of the choice.
 *
 *  - Integer images: one bin per integer from min to max (np.bincount); nbins is ignored. The centres are
 *    np.arange(min, max + 1), an int64 array.
 *  - Float images: np.histogram(image, bins=nbins). Edges = np.linspace(min, max, nbins + 1, dtype=image
 *    dtype), which numpy 2 evaluates in the image dtype (float32 images: float32 arithmetic; numpy 1.x
 *    computed them in float64 and rounded, so scikit-image on numpy 1.x has other float32 edges); the
 *    last edge is max. numpy 2 refuses edges that do not strictly increase ("Too many bins for data
 *    range"). A sample's
 *    first guess is int((x - min) / (max - min) * nbins) in the image dtype, nbins moved to nbins - 1,
 *    then corrected by one against the edges; the last bin includes max. Centres (e[i] + e[i+1]) / 2 in
 *    the image dtype.
 *  - The choice (0.26: counts.astype(float32)): weight1 = cumsum(counts) and weight2 (the cumsum from the
 *    end) are sequential float32 sums of the float32 counts. The class sums are cumsums of counts *
 *    centres, whose dtype numpy's promotion decides: float32 * int64 and float32 * float64 are float64
 *    (integer and float64 images), float32 * float32 is float32 (float32 images). mean = sum / weight in
 *    that dtype; variance = (weight1[:-1] * weight2[1:]) * (mean1[:-1] - mean2[1:])^2 where the weight
 *    product is a float32 product (rounded) before it meets the float64 square. The threshold is the
 *    centre of the FIRST maximum (np.argmax; a NaN counts as the maximum).
 *    (0.19.3 cast the counts to float64 instead: see tests/oracle/test_threshold_otsu.py for images where
 *    the two disagree.)
 *  - Integer images whose range is far wider than the image (more bins than 4 * pixels + 2^20, or a range
 *    that int64 cannot count) use the distinct values and their counts instead of the dense histogram:
 *    exact, since an empty bin adds zero to every cumulative sum, so it repeats the variance of the
 *    occupied bin before it and the first maximum always lands on an occupied bin. Both backends decide
 *    with tp_otsu_int_dense_bins, so they take the same path.
 *  - Non-finite float values (scikit-image 0.26 threshold_otsu, then np.histogram's _get_outer_edges):
 *    threshold_otsu first returns image[0] when np.all(image == image[0]), so an image that is +inf (or
 *    -inf) throughout returns that infinity; otherwise np.histogram(image, bins=nbins, range=None) raises
 *    ValueError "autodetected range of [min, max] is not finite" when min or max is NaN or +/-inf. A NaN
 *    is never equal to the first pixel, so any NaN (even a NaN throughout) is an error, as is an infinity
 *    beside any other value. Both backends report TP_ERR_ARG, "threshold_otsu: image: expected finite
 *    values, got ..." (tp_otsu_nonfinite_what names what was found).
 */
#ifndef TP_CPU_OTSU_H
#define TP_CPU_OTSU_H

#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define TP_OTSU_HD __host__ __device__
#else
#define TP_OTSU_HD
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Edge i of np.linspace(first, last, nbins + 1) in float64: i * step + first, step = (last - first) / nbins
 * (a zero step, from a denormal range, divides first: i / nbins * delta); edge nbins is last itself. */
static inline TP_OTSU_HD double tp_otsu_edge_f64(double first, double last, int64_t nbins, int64_t i)
{
    if (i == nbins)
        return last;
    const double delta = last - first, step = delta / (double)nbins, y = (double)i;
    return (step == 0.0 ? y / (double)nbins * delta : y * step) + first;
}

/* The same in float32 arithmetic, as numpy 2 evaluates linspace for float32 bounds: delta, step, i * step
 * and + first are each rounded to float32 (nbins <= 2^24, so i and nbins are exact floats). */
static inline TP_OTSU_HD float tp_otsu_edge_f32(float first, float last, int64_t nbins, int64_t i)
{
    if (i == nbins)
        return last;
    const float delta = last - first, step = delta / (float)nbins, y = (float)i;
    return (step == 0.0f ? y / (float)nbins * delta : y * step) + first;
}

/* All nbins + 1 edges; returns 0 when they strictly increase, -1 where numpy would refuse them. */
int tp_otsu_edges_f64(double first, double last, int64_t nbins, double *edges);
int tp_otsu_edges_f32(float first, float last, int64_t nbins, float *edges);

/* numpy's correction of a first guess i: the value max lands in the last bin, and a guess one bin off
 * (the quotient is not exact) moves by one against the edges. */
static inline TP_OTSU_HD int64_t tp_otsu_correct_f64(double a, int64_t i, const double *edges, int64_t nbins)
{
    if (i == nbins)
        i--;
    if (a < edges[i])
        i--;
    if (a >= edges[i + 1] && i != nbins - 1)
        i++;
    return i;
}
static inline TP_OTSU_HD int64_t tp_otsu_correct_f32(float a, int64_t i, const float *edges, int64_t nbins)
{
    if (i == nbins)
        i--;
    if (a < edges[i])
        i--;
    if (a >= edges[i + 1] && i != nbins - 1)
        i++;
    return i;
}

/* numpy 2's first guess, ((a - first) / span) * nbins truncated, in the image dtype (span = last - first,
 * rounded to that dtype). */
static inline TP_OTSU_HD int64_t tp_otsu_guess_f64(double a, double first, double span, int64_t nbins)
{
    return (int64_t)((a - first) / span * (double)nbins);
}
static inline TP_OTSU_HD int64_t tp_otsu_guess_f32(float a, float first, float span, int64_t nbins)
{
    const float d = a - first, q = d / span;
    return (int64_t)(q * (float)nbins);
}

/* The bin of sample a, first <= a <= last. */
static inline TP_OTSU_HD int64_t tp_otsu_bin_f64(double a, double first, double span, const double *edges,
                                                  int64_t nbins)
{
    return tp_otsu_correct_f64(a, tp_otsu_guess_f64(a, first, span, nbins), edges, nbins);
}
static inline TP_OTSU_HD int64_t tp_otsu_bin_f32(float a, float first, float span, const float *edges, int64_t nbins)
{
    return tp_otsu_correct_f32(a, tp_otsu_guess_f32(a, first, span, nbins), edges, nbins);
}

/* ---- integer images: dense histogram or distinct values ---- */

/* Bins of the dense one-bin-per-integer histogram of n samples from lo to hi, or 0 when the distinct values
 * are used instead (the CPU and CUDA backends both decide here). */
static inline int64_t tp_otsu_int_dense_bins(int64_t lo, int64_t hi, int64_t n)
{
    int64_t bins, limit;
    if (__builtin_sub_overflow(hi, lo, &bins) || bins >= INT64_MAX / 16)
        return 0;
    bins += 1;
    if (__builtin_mul_overflow(n, (int64_t)4, &limit) || __builtin_add_overflow(limit, (int64_t)1 << 20, &limit))
        return bins; /* 4 * n + 2^20 exceeds int64: the dense histogram is the smaller */
    return bins > limit ? 0 : bins;
}

/* ---- non-finite float images ---- */

/* What the error message says was found, given the NaN flag and the NaN-free min and max of a float image
 * that is not constant (both backends word the error alike). */
static inline const char *tp_otsu_nonfinite_what(int nan, double lo, double hi)
{
    if (nan)
        return "NaN";
    const int neg = lo == -(double)INFINITY, pos = hi == (double)INFINITY;
    return neg && pos ? "-inf and +inf" : neg ? "-inf" : pos ? "+inf" : "a non-finite value";
}

/* ---- the choice ---- */

/* One bin's term of a class sum, counts * centres: float32 count times a float32 centre (float32 images)
 * is a float32 product; times an int64 or float64 centre (integer, float64 images) a float64 one. */
static inline TP_OTSU_HD float tp_otsu_term_f32(float count, float centre) { return count * centre; }
static inline TP_OTSU_HD double tp_otsu_term_f64(float count, double centre) { return (double)count * centre; }

/* Variance of a split: w1, s1 the float32 weight and the sum of the lower class, w2, s2 of the upper. */
static inline TP_OTSU_HD float tp_otsu_variance_f32(float w1, float s1, float w2, float s2)
{
    const float d = s1 / w1 - s2 / w2, w = w1 * w2;
    return w * (d * d);
}
static inline TP_OTSU_HD double tp_otsu_variance_f64(float w1, double s1, float w2, double s2)
{
    const double d = s1 / (double)w1 - s2 / (double)w2;
    const float w = w1 * w2; /* float32 * float32 stays float32 in numpy */
    return (double)w * (d * d);
}

/* Index of the threshold's bin among n >= 2 bins (counts[0] and counts[n-1] nonzero, as a histogram from
 * min to max has), centres[i] the bin centres as float64 (float32 centres widened when f32 is set: the
 * sums and variances are then float32). Returns -1 when scratch allocation fails. */
int64_t tp_otsu_select(const int64_t *counts, const double *centres, int64_t n, int f32);

#ifdef __cplusplus
}
#endif
#endif

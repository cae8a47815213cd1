/*
 * The Gaussian kernel and border rules of scipy.ndimage.gaussian_filter1d (scipy 1.10, called by
 * skimage.filters.gaussian), computed so that the weights are bit-identical to scipy's on the host that
 * runs the scikit-image oracle. The CUDA backend uploads these same host-computed weights.
 *
 * scipy computes (scipy/ndimage/_filters.py _gaussian_kernel1d):
 *   radius = int(truncate * sigma + 0.5)
 *   phi[k] = np.exp(-0.5 / (sigma * sigma) * x[k]**2),  x = -radius..radius (x**2 an int64)
 *   w = phi / phi.sum()
 * Two numpy details decide the last bits:
 *  - np.exp on float64 arrays: numpy 1.24 on x86-64 CPUs with AVX512_SKX calls Intel SVML's __svml_exp8,
 *    which is NOT glibc's exp (they differ by 1 ULP on about a quarter of arguments). tp_np_exp
 *    reproduces SVML's algorithm step by step (bit-exact on 3.3 million tested arguments, every kernel
 *    argument of sigma 0.05..40 included). Arguments below -707.70 take SVML's rare path; there glibc's
 *    exp is used (same result on all but ~6e-5 of them; such weights are below 2^-1020).
 *    On hosts where numpy has no AVX512_SKX it uses glibc's exp, so scipy itself differs by an ULP there.
 *  - phi.sum(): numpy's pairwise summation (blocks of 8192 added in order; within a block, fewer than 8
 *    values summed in order, up to 128 values with 8 accumulators combined ((0+1)+(2+3))+((4+5)+(6+7))
 *    then the leftovers, larger blocks split in two at a multiple of 8). tp_np_sum reproduces it.
 *
 * The 1-D correlation (scipy/ndimage/src/ni_filters.c NI_Correlate1D, symmetric branch), per output sample,
 * accumulated in double with no fused multiply-add:
 *   o = x[0] * w[0];  for j = radius .. 1:  o += (x[-j] + x[+j]) * w[j]
 * Borders (ni_support.c NI_ExtendLine), for an index i outside [0, n): see tp_border_index.
 */
#ifndef TP_CPU_GAUSS_WEIGHTS_H
#define TP_CPU_GAUSS_WEIGHTS_H

#include <stdint.h>

#ifdef __CUDACC__
#define TP_GW_HD __host__ __device__
#else
#define TP_GW_HD
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Largest radius twinpix accepts (the kernel then has 2^27+1 taps, 1 GiB of weights). */
#define TP_GAUSS_MAX_RADIUS (INT64_C(1) << 26)

/* scipy's radius int(truncate * sigma + 0.5); -1 when it exceeds TP_GAUSS_MAX_RADIUS or is not finite. */
int64_t tp_gauss_radius(double sigma, double truncate);

/* Fill w[0 .. 2*radius] with scipy's normalised kernel (w[radius] is the centre, w[radius + j] == w[radius - j]
 * bit for bit) and store the radius. w must hold 2 * tp_gauss_radius(sigma, truncate) + 1 doubles.
 * Returns 0, or -1 when the radius is out of range or sigma is not positive and finite. */
int tp_gauss_weights(double sigma, double truncate, double *w, int64_t *radius);

/* numpy's float64 exp as computed on an AVX512 host (SVML's algorithm; see above). */
double tp_np_exp(double x);

/* numpy's float64 sum (np.add.reduce) of a contiguous array: blocked pairwise summation. */
double tp_np_sum(const double *a, int64_t n);

/* ---- borders, as scipy.ndimage extends a line of n samples ---- */
typedef enum tp_border {
    TP_BORDER_NEAREST = 0, /* a a a | a b c d | d d d */
    TP_BORDER_REFLECT,     /* d c b a | a b c d | d c b a   (period 2n) */
    TP_BORDER_MIRROR,      /* d c b | a b c d | c b a      (period 2n-2; n == 1 behaves as nearest) */
    TP_BORDER_CONSTANT,    /* k k k | a b c d | k k k      (k = cval, in double) */
    TP_BORDER_WRAP         /* a b c d | a b c d | a b c d  (period n) */
} tp_border;

/* Parse scikit-image's mode name; returns -1 when unknown. */
int tp_border_from_name(const char *name);

/* The index in [0, n) that sample i of the extended line repeats, or -1 for constant (use cval).
 * The extension repeats as far as needed, so kernels longer than the line are handled. */
static inline TP_GW_HD int64_t tp_border_index(int64_t i, int64_t n, tp_border mode)
{
    if (i >= 0 && i < n)
        return i;
    switch (mode) {
    case TP_BORDER_NEAREST:
        return i < 0 ? 0 : n - 1;
    case TP_BORDER_CONSTANT:
        return -1;
    case TP_BORDER_WRAP: {
        int64_t m = i % n;
        return m < 0 ? m + n : m;
    }
    case TP_BORDER_REFLECT: {
        int64_t p = 2 * n, m = i % p;
        if (m < 0)
            m += p;
        return m < n ? m : p - 1 - m;
    }
    case TP_BORDER_MIRROR: {
        if (n == 1)
            return 0;
        int64_t p = 2 * n - 2, m = i % p;
        if (m < 0)
            m += p;
        return m < n ? m : p - m;
    }
    }
    return -1;
}

#ifdef __cplusplus
}
#endif
#endif

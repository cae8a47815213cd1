/*
 * Otsu's threshold as scikit-image 0.19.3 computes it (skimage/filters/thresholding.py threshold_otsu with
 * skimage.exposure.histogram and numpy 1.24's np.histogram), as rules the CPU reference and the CUDA
 * backend share: the bin of a float sample, the bin edges, and the choice of the threshold from the counts.
 *
 *  - Integer images: one bin per integer from min to max (np.bincount); nbins is ignored.
 *  - Float images: np.histogram(image, bins=nbins): edges = np.linspace(min, max, nbins + 1) computed in
 *    float64 and cast to the image dtype; a sample's bin is int((x - min) * norm), norm = nbins / (max - min),
 *    with the subtraction and the product in the image dtype (float32 images: float32 arithmetic, norm
 *    rounded to float32), index nbins moved to nbins - 1, then corrected by one against the edges; the last
 *    bin includes max. Bin centres (e[i] + e[i+1]) / 2 in the image dtype.
 *  - The choice (0.19.3: counts.astype(float), i.e. float64): weight1 = cumsum(counts), weight2 = the
 *    cumsum from the end, mean1 = cumsum(counts * centres) / weight1, mean2 likewise from the end, all
 *    sequential sums in float64; variance = (weight1[:-1] * weight2[1:]) * (mean1[:-1] - mean2[1:])^2; the
 *    threshold is the centre of the FIRST maximum (np.argmax).
 *    (scikit-image >= 0.20 casts the counts to float32 instead; the two agree except on near-ties, which
 *    large images make more likely. The oracle here is 0.19.3.)
 *  - A constant image returns its value; non-finite values (other than a constant image) are an error,
 *    as np.histogram raises on a non-finite range.
 */
#ifndef TP_CPU_OTSU_H
#define TP_CPU_OTSU_H

#include <stdint.h>

#ifdef __CUDACC__
#define TP_OTSU_HD __host__ __device__
#else
#define TP_OTSU_HD
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* np.linspace(first, last, nbins + 1) in float64 (edges[nbins] = last exactly). */
void tp_otsu_edges_f64(double first, double last, int64_t nbins, double *edges);
/* The same, cast to float32 (float32 images). */
void tp_otsu_edges_f32(float first, float last, int64_t nbins, float *edges);

/* np.histogram's scale factor: nbins / (last - first) in float64; for float32 images the difference is a
 * float32 and the factor is then used as a float32 (tp_otsu_norm_f32). */
static inline TP_OTSU_HD double tp_otsu_norm_f64(double first, double last, int64_t nbins)
{
    return (double)nbins / (last - first);
}
static inline TP_OTSU_HD float tp_otsu_norm_f32(float first, float last, int64_t nbins)
{
    float span = last - first;
    return (float)((double)nbins / (double)span);
}

/* numpy's correction of a first guess i = int((a - first) * norm): the value max lands in the last bin,
 * and a guess one bin off (the product is not exact) moves by one against the edges. */
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

/* The bin of sample a, first <= a <= last. */
static inline TP_OTSU_HD int64_t tp_otsu_bin_f64(double a, double first, double norm, const double *edges,
                                                  int64_t nbins)
{
    return tp_otsu_correct_f64(a, (int64_t)((a - first) * norm), edges, nbins);
}
static inline TP_OTSU_HD int64_t tp_otsu_bin_f32(float a, float first, float norm, const float *edges, int64_t nbins)
{
    float d = a - first;
    return tp_otsu_correct_f32(a, (int64_t)(d * norm), edges, nbins);
}

/* Index of the threshold's bin among n >= 2 bins (counts[0] and counts[n-1] nonzero, as a histogram from
 * min to max has), centres[i] the bin centres as float64. Returns -1 when scratch allocation fails. */
int64_t tp_otsu_select(const int64_t *counts, const double *centres, int64_t n);

#ifdef __cplusplus
}
#endif
#endif

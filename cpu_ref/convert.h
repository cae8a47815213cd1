/*
 * scikit-image's img_as_float (0.19.3 skimage/util/dtype.py _convert to np.floating), as pure scalar rules
 * that the CPU reference and the CUDA kernels share, plus host helpers that apply them.
 *
 * The rules, for an input of dtype T (values computed in float64, as numpy does):
 *   bool            -> 0.0 / 1.0                             (astype(float64))
 *   unsigned ints   -> x * (1.0 / max(T))                    (np.multiply by the reciprocal, one rounding)
 *   signed ints     -> max(x * (1.0 / max(T)), -1.0)         (so INT_MIN maps to -1, not below)
 *   float32/float64 -> unchanged, dtype kept
 * int64 values are first converted to float64 (round to nearest), exactly like numpy's cast.
 * With preserve_range (skimage's convert_to_float) the values are only cast: x.
 * The output dtype is float32 for float32 input and float64 for every other input
 * (skimage._shared.utils._supported_float_type).
 */
#ifndef TP_CPU_CONVERT_H
#define TP_CPU_CONVERT_H

#include "twinpix/twinpix.h"

#ifdef __CUDACC__
#define TP_HD __host__ __device__
#else
#define TP_HD
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Output dtype of img_as_float / gaussian for an input dtype. */
static inline TP_HD tp_dtype tp_float_dtype_for(tp_dtype in) { return in == TP_FLOAT32 ? TP_FLOAT32 : TP_FLOAT64; }

/* The factor img_as_float multiplies by: 1.0 / max(T) for integer types, 1 (no scaling) otherwise.
 * int64's maximum rounds to 2^63 in float64 before the division, as in Python's 1. / imax. */
static inline TP_HD double tp_img_as_float_scale(tp_dtype t)
{
    switch (t) {
    case TP_UINT8: return 1.0 / 255.0;
    case TP_INT8: return 1.0 / 127.0;
    case TP_UINT16: return 1.0 / 65535.0;
    case TP_INT16: return 1.0 / 32767.0;
    case TP_UINT32: return 1.0 / 4294967295.0;
    case TP_INT32: return 1.0 / 2147483647.0;
    case TP_INT64: return 1.0 / 9223372036854775807.0;
    default: return 1.0;
    }
}

/* Signed integer inputs are clamped at -1 after scaling (np.maximum(image, -1.0)). */
static inline TP_HD int tp_img_as_float_clamps(tp_dtype t)
{
    return t == TP_INT8 || t == TP_INT16 || t == TP_INT32 || t == TP_INT64;
}

/* One converted value: x is the input value already cast to float64. */
static inline TP_HD double tp_img_as_float_value(double x, double scale, int clamp)
{
    double v = x * scale;
    return clamp && v < -1.0 ? -1.0 : v;
}

/* How to turn elements of one dtype into the float64 values skimage computes with. */
typedef struct tp_float_conv {
    tp_dtype src;  /* element type read */
    double scale;  /* 1.0 when preserve_range or a float/bool input */
    int clamp;     /* clamp at -1 (signed integers, img_as_float only) */
} tp_float_conv;

/* The conversion of img_as_float (preserve_range = 0) or of a plain cast (preserve_range = 1). */
tp_float_conv tp_float_conv_make(tp_dtype src, int preserve_range);

/* dst[i] = converted value of element (first + i * stride) of base, for i in [0, n). Indices count
 * elements, not bytes. */
void tp_float_conv_load(const tp_float_conv *cv, const void *base, int64_t first, int64_t stride, int64_t n,
                        double *dst);

/* Store n doubles into an out-dtype buffer (float32: round to nearest; float64: copy) at element offset. */
void tp_float_store(void *base, tp_dtype out, int64_t first, const double *src, int64_t n);

/* Convert a whole contiguous host image into a contiguous buffer of dtype `out` (float32 or float64),
 * in parallel over `threads` OpenMP threads; element-wise, so the result does not depend on them. A float
 * source of the output's dtype is copied. */
void tp_float_convert(const tp_float_conv *cv, const void *src, int64_t count, void *dst, tp_dtype out, int threads);

#ifdef __cplusplus
}
#endif
#endif

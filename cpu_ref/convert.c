/* Host side of img_as_float's conversion rules (cpu_ref/convert.h). The loaders switch on the dtype once
 * per call so the inner loops stay typed: a contiguous source gets its own loop (unit stride, restrict
 * pointers: the compiler vectorises it), any other stride a plain strided loop. Every path computes the
 * same double expression per element as tp_img_as_float_value, so the results are identical bit for bit. */
#include "cpu_ref/convert.h"

#include "twinpix/internal.h"

#include <string.h>

tp_float_conv tp_float_conv_make(tp_dtype src, int preserve_range)
{
    tp_float_conv cv;
    cv.src = src;
    cv.scale = preserve_range ? 1.0 : tp_img_as_float_scale(src);
    cv.clamp = preserve_range ? 0 : tp_img_as_float_clamps(src);
    return cv;
}

/* A plain cast (floats, bool, preserve_range) needs no multiply: x * 1.0 == x, but skipping it keeps the
 * common float paths at memory speed. */
#define TP_DEFINE_LOADERS(S, T)                                                                                   \
    static void cast_##S(const T *restrict s, double *restrict d, int64_t n)                                      \
    {                                                                                                             \
        for (int64_t i = 0; i < n; i++)                                                                           \
            d[i] = (double)s[i];                                                                                  \
    }                                                                                                             \
    static void scale_##S(const T *restrict s, double *restrict d, int64_t n, double sc)                          \
    {                                                                                                             \
        for (int64_t i = 0; i < n; i++)                                                                           \
            d[i] = (double)s[i] * sc;                                                                             \
    }                                                                                                             \
    static void clamp_##S(const T *restrict s, double *restrict d, int64_t n, double sc)                          \
    {                                                                                                             \
        for (int64_t i = 0; i < n; i++) {                                                                         \
            double v = (double)s[i] * sc; /* tp_img_as_float_value(x, sc, 1), spelled out to vectorise */        \
            d[i] = v < -1.0 ? -1.0 : v;                                                                           \
        }                                                                                                         \
    }                                                                                                             \
    static void strided_##S(const tp_float_conv *cv, const T *s, int64_t stride, double *restrict d, int64_t n)   \
    {                                                                                                             \
        for (int64_t i = 0; i < n; i++)                                                                           \
            d[i] = tp_img_as_float_value((double)s[i * stride], cv->scale, cv->clamp);                            \
    }                                                                                                             \
    static void load_##S(const tp_float_conv *cv, const void *base, int64_t first, int64_t stride, int64_t n,     \
                         double *d)                                                                               \
    {                                                                                                             \
        const T *s = (const T *)base + first;                                                                     \
        if (stride != 1)                                                                                          \
            strided_##S(cv, s, stride, d, n);                                                                     \
        else if (cv->clamp)                                                                                       \
            clamp_##S(s, d, n, cv->scale);                                                                        \
        else if (cv->scale != 1.0)                                                                                \
            scale_##S(s, d, n, cv->scale);                                                                        \
        else                                                                                                      \
            cast_##S(s, d, n);                                                                                    \
    }

TP_DEFINE_LOADERS(u8, uint8_t)
TP_DEFINE_LOADERS(i8, int8_t)
TP_DEFINE_LOADERS(u16, uint16_t)
TP_DEFINE_LOADERS(i16, int16_t)
TP_DEFINE_LOADERS(u32, uint32_t)
TP_DEFINE_LOADERS(i32, int32_t)
TP_DEFINE_LOADERS(i64, int64_t)
TP_DEFINE_LOADERS(f32, float)
TP_DEFINE_LOADERS(f64, double)
#undef TP_DEFINE_LOADERS

void tp_float_conv_load(const tp_float_conv *cv, const void *base, int64_t first, int64_t stride, int64_t n,
                        double *dst)
{
    switch (cv->src) {
    case TP_BOOL: /* bool is a plain cast whatever the scale says (tp_float_conv_make gives 1) */
    case TP_UINT8: load_u8(cv, base, first, stride, n, dst); break;
    case TP_INT8: load_i8(cv, base, first, stride, n, dst); break;
    case TP_UINT16: load_u16(cv, base, first, stride, n, dst); break;
    case TP_INT16: load_i16(cv, base, first, stride, n, dst); break;
    case TP_UINT32: load_u32(cv, base, first, stride, n, dst); break;
    case TP_INT32: load_i32(cv, base, first, stride, n, dst); break;
    case TP_INT64: load_i64(cv, base, first, stride, n, dst); break;
    case TP_FLOAT32: load_f32(cv, base, first, stride, n, dst); break;
    case TP_FLOAT64: load_f64(cv, base, first, stride, n, dst); break;
    default: break;
    }
}

static void store_f32(float *restrict d, const double *restrict s, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        d[i] = (float)s[i];
}

void tp_float_store(void *base, tp_dtype out, int64_t first, const double *src, int64_t n)
{
    if (out == TP_FLOAT32)
        store_f32((float *)base + first, src, n);
    else
        memmove((double *)base + first, src, (size_t)n * sizeof(double));
}

void tp_float_convert(const tp_float_conv *cv, const void *src, int64_t count, void *dst, tp_dtype out, int threads)
{
    enum { CHUNK = 1 << 16 }; /* elements per task: large enough to amortise the dispatch */
    const int64_t nchunks = (count + CHUNK - 1) / CHUNK;
    const size_t esize = tp_dtype_size(cv->src);
    const int copy = cv->scale == 1.0 && !cv->clamp && tp_dtype_size(out) == esize &&
                     (cv->src == TP_FLOAT32 || cv->src == TP_FLOAT64) && (cv->src == out);
    /* Each task writes its own pages first, so the page faults of a fresh output are spread over threads. */
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t c = 0; c < nchunks; c++) {
        const int64_t first = c * CHUNK, n = count - first < CHUNK ? count - first : CHUNK;
        if (copy) {
            memcpy((char *)dst + first * (int64_t)esize, (const char *)src + first * (int64_t)esize, (size_t)n * esize);
        } else if (out == TP_FLOAT64) {
            tp_float_conv_load(cv, src, first, 1, n, (double *)dst + first);
        } else {
            enum { SUB = 2048 };
            double buf[SUB];
            for (int64_t k = 0; k < n; k += SUB) {
                const int64_t m = n - k < SUB ? n - k : SUB;
                tp_float_conv_load(cv, src, first + k, 1, m, buf);
                tp_float_store(dst, out, first + k, buf, m);
            }
        }
    }
}

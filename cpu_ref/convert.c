/* Host side of img_as_float's conversion rules (cpu_ref/convert.h). The loaders switch on the dtype once
 * per call so the inner loops stay typed and vectorisable. */
#include "cpu_ref/convert.h"

#include "twinpix/internal.h"

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
#define LOAD_CAST(T)                                                                                              \
    do {                                                                                                          \
        const T *s_ = (const T *)base + first;                                                                    \
        if (stride == 1)                                                                                          \
            for (int64_t i = 0; i < n; i++)                                                                       \
                dst[i] = (double)s_[i];                                                                           \
        else                                                                                                      \
            for (int64_t i = 0; i < n; i++)                                                                       \
                dst[i] = (double)s_[i * stride];                                                                  \
    } while (0)

#define LOAD_SCALED(T)                                                                                            \
    do {                                                                                                          \
        const T *s_ = (const T *)base + first;                                                                    \
        const double sc_ = cv->scale;                                                                             \
        if (cv->clamp)                                                                                            \
            for (int64_t i = 0; i < n; i++)                                                                       \
                dst[i] = tp_img_as_float_value((double)s_[i * stride], sc_, 1);                                   \
        else                                                                                                      \
            for (int64_t i = 0; i < n; i++)                                                                       \
                dst[i] = (double)s_[i * stride] * sc_;                                                            \
    } while (0)

#define LOAD(T)                                                                                                   \
    do {                                                                                                          \
        if (cv->scale == 1.0 && !cv->clamp)                                                                       \
            LOAD_CAST(T);                                                                                         \
        else                                                                                                      \
            LOAD_SCALED(T);                                                                                       \
    } while (0)

void tp_float_conv_load(const tp_float_conv *cv, const void *base, int64_t first, int64_t stride, int64_t n,
                        double *dst)
{
    switch (cv->src) {
    case TP_BOOL: LOAD_CAST(uint8_t); break;
    case TP_UINT8: LOAD(uint8_t); break;
    case TP_INT8: LOAD(int8_t); break;
    case TP_UINT16: LOAD(uint16_t); break;
    case TP_INT16: LOAD(int16_t); break;
    case TP_UINT32: LOAD(uint32_t); break;
    case TP_INT32: LOAD(int32_t); break;
    case TP_INT64: LOAD(int64_t); break;
    case TP_FLOAT32: LOAD_CAST(float); break;
    case TP_FLOAT64: LOAD_CAST(double); break;
    default: break;
    }
}

void tp_float_store(void *base, tp_dtype out, int64_t first, const double *src, int64_t n)
{
    if (out == TP_FLOAT32) {
        float *d = (float *)base + first;
        for (int64_t i = 0; i < n; i++)
            d[i] = (float)src[i];
    } else {
        double *d = (double *)base + first;
        for (int64_t i = 0; i < n; i++)
            d[i] = src[i];
    }
}

void tp_float_convert(const tp_float_conv *cv, const void *src, int64_t count, void *dst, tp_dtype out, int threads)
{
    enum { CHUNK = 4096 };
    int64_t nchunks = (count + CHUNK - 1) / CHUNK;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t c = 0; c < nchunks; c++) {
        double buf[CHUNK];
        int64_t first = c * CHUNK, n = count - first < CHUNK ? count - first : CHUNK;
        tp_float_conv_load(cv, src, first, 1, n, buf);
        tp_float_store(dst, out, first, buf, n);
    }
}

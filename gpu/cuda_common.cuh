/* Device helpers shared by the CUDA ops extract_channel, img_as_float, gaussian, threshold_otsu, threshold,
 * the binary morphology ops and label2rgb: dtype dispatch, element conversion with the CPU reference's own
 * rules (cpu_ref/convert.h), one-allocation scratch, and launch sizing. */
#ifndef TP_CUDA_COMMON_CUH
#define TP_CUDA_COMMON_CUH
#include "cpu_ref/convert.h"
#include "gpu/cuda_util.h"

#include <stdint.h>

namespace tpc {

/* ---- dtype dispatch: run the body (the macro's remaining arguments) with T the C type of a tp_dtype ----
 * bool is one byte holding 0 or 1, so it shares uint8's code. */
#define TPC_DISPATCH(dtype, T, ...)                                                                                \
    switch (dtype) {                                                                                               \
    case TP_BOOL:                                                                                                  \
    case TP_UINT8: { typedef uint8_t T; __VA_ARGS__; } break;                                                      \
    case TP_INT8: { typedef int8_t T; __VA_ARGS__; } break;                                                        \
    case TP_UINT16: { typedef uint16_t T; __VA_ARGS__; } break;                                                    \
    case TP_INT16: { typedef int16_t T; __VA_ARGS__; } break;                                                      \
    case TP_UINT32: { typedef uint32_t T; __VA_ARGS__; } break;                                                    \
    case TP_INT32: { typedef int32_t T; __VA_ARGS__; } break;                                                      \
    case TP_INT64: { typedef int64_t T; __VA_ARGS__; } break;                                                      \
    case TP_FLOAT32: { typedef float T; __VA_ARGS__; } break;                                                      \
    case TP_FLOAT64: { typedef double T; __VA_ARGS__; } break;                                                     \
    default: break;                                                                                                \
    }

/* Element 0 of a device image of any dtype, as float64 (what tp_get_f64 does on the host). */
__device__ __forceinline__ double load_f64(const void *p, int dtype)
{
    switch (dtype) {
    case TP_BOOL:
    case TP_UINT8:
        return (double)*(const uint8_t *)p;
    case TP_INT8:
        return (double)*(const int8_t *)p;
    case TP_UINT16:
        return (double)*(const uint16_t *)p;
    case TP_INT16:
        return (double)*(const int16_t *)p;
    case TP_UINT32:
        return (double)*(const uint32_t *)p;
    case TP_INT32:
        return (double)*(const int32_t *)p;
    case TP_INT64:
        return (double)*(const int64_t *)p;
    case TP_FLOAT32:
        return (double)*(const float *)p;
    default:
        return *(const double *)p;
    }
}

/* ---- img_as_float's rules, shared with the CPU reference (cpu_ref/convert.h): x * scale in float64, clamped
 * at -1 for signed integers; scale 1 and no clamp for bool, floats and preserve_range. ---- */
template <typename T> __device__ __forceinline__ double to_float(T x, double scale, int clamp)
{
    return tp_img_as_float_value((double)x, scale, clamp);
}

/* ---- one device allocation carved into aligned pieces (two passes: count, then hand out) ----
 * The destructor's tp_cuda_free is stream-ordered (cudaFreeAsync on the context's stream): it runs after the
 * kernels the op queued with the scratch, without waiting for them; the op returns with its work in flight. */
struct scratch {
    size_t bytes = 0;
    char *base = nullptr;
    scratch() = default;
    scratch(const scratch &) = delete;
    scratch &operator=(const scratch &) = delete;
    ~scratch() { tp_cuda_free(base); }
    template <typename U> U *take(size_t count)
    {
        size_t off = (bytes + 255) & ~(size_t)255;
        bytes = off + (count ? count : 1) * sizeof(U);
        return base ? (U *)(base + off) : nullptr;
    }
    tp_status alloc(tp_context *ctx)
    {
        size_t n = bytes;
        bytes = 0;
        void *p = nullptr;
        tp_status st = tp_cuda_alloc(ctx, n, &p);
        base = (char *)p;
        return st;
    }
};

/* Blocks for a grid-stride loop over n items: enough to fill the device several times over, never more
 * than the grid allows (the loops stride over the rest, so > 2^31 elements work). */
static inline unsigned grid_for(int64_t n, int threads)
{
    int64_t b = (n + threads - 1) / threads;
    const int64_t cap = 65536; /* 132 SMs x 2048 threads x ~60: plenty, and the loop covers the rest */
    return (unsigned)(b < 1 ? 1 : (b > cap ? cap : b));
}

} // namespace tpc

#endif

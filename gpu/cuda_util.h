/* Helpers shared by the CUDA op files: error checking that records detail in the context, the context's
 * stream, device allocation through the backend (so the memory cap and accounting apply). */
#ifndef TP_CUDA_UTIL_H
#define TP_CUDA_UTIL_H
#include "twinpix/internal.h"
#include <cuda_runtime.h>

extern "C" {
cudaStream_t tp_cuda_stream(tp_context *ctx);
/* The number of SMs of ctx's device (asked once per device; 1 if it cannot be read): for sizing grids. */
int tp_cuda_sm_count(tp_context *ctx);
/* Record a CUDA error in ctx; maps out-of-memory to TP_ERR_DEVICE_NOMEM. */
tp_status tp_cuda_error(tp_context *ctx, cudaError_t e, const char *what, const char *file, int line);
/* Device memory through the backend's accounted, stream-ordered caching allocator (gpu/backend.cu): the block
 * is allocated on ctx's stream and usable by work queued there from now on; tp_cuda_free queues its release on
 * that same stream (after every kernel queued before it: free right after the launches, never synchronise
 * for it), so it neither waits nor synchronises. Never cudaMalloc / cudaFree directly in an op. */
tp_status tp_cuda_alloc(tp_context *ctx, size_t bytes, void **ptr);
void tp_cuda_free(void *ptr);
}

#define TP_CUDA_CHECK(ctx, call)                                                                                   \
    do {                                                                                                           \
        cudaError_t e_ = (call);                                                                                   \
        if (e_ != cudaSuccess)                                                                                     \
            return tp_cuda_error((ctx), e_, #call, __FILE__, __LINE__);                                            \
    } while (0)

/* After a launch: catches configuration errors without synchronising. */
#define TP_CUDA_LAUNCHED(ctx) TP_CUDA_CHECK(ctx, cudaGetLastError())

static inline unsigned tp_blocks(int64_t n, int threads)
{
    int64_t b = (n + threads - 1) / threads;
    return (unsigned)(b > 2147483647 ? 2147483647 : (b < 1 ? 1 : b));
}
#endif

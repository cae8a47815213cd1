/* Device timing for bench/ (declared in bench/gpu_timing.h): CUDA events on the context's stream, the
 * device-to-device copy bandwidth that the reports use as the roofline, and the L2 size. */
#include "bench/gpu_timing.h"
#include "gpu/cuda_util.h"

#include <algorithm>
#include <stdlib.h>

struct tp_cuda_timer {
    int device;
    cudaEvent_t ev[TP_CUDA_TIMER_MARKS];
};

extern "C" {

void tp_cuda_timer_destroy(tp_cuda_timer *t)
{
    if (!t)
        return;
    cudaSetDevice(t->device);
    for (int i = 0; i < TP_CUDA_TIMER_MARKS; i++)
        if (t->ev[i])
            cudaEventDestroy(t->ev[i]);
    free(t);
}

tp_status tp_cuda_timer_create(tp_context *ctx, tp_cuda_timer **out)
{
    *out = NULL;
    char why[256];
    if (!tp_backend_available(TP_BACKEND_CUDA, why, sizeof why))
        return tp_error(ctx, TP_ERR_NO_DEVICE, "device timing: %s", why);
    tp_cuda_timer *t = (tp_cuda_timer *)calloc(1, sizeof *t);
    if (!t)
        return tp_error(ctx, TP_ERR_NOMEM, "device timing: out of host memory");
    t->device = ctx->device;
    cudaError_t e = cudaSetDevice(t->device);
    for (int i = 0; i < TP_CUDA_TIMER_MARKS && e == cudaSuccess; i++)
        e = cudaEventCreate(&t->ev[i]);
    if (e != cudaSuccess) {
        tp_cuda_timer_destroy(t);
        return tp_cuda_error(ctx, e, "cudaEventCreate", __FILE__, __LINE__);
    }
    *out = t;
    return TP_OK;
}

tp_status tp_cuda_timer_record(tp_context *ctx, tp_cuda_timer *t, int mark)
{
    if (!t || mark < 0 || mark >= TP_CUDA_TIMER_MARKS)
        return tp_error(ctx, TP_ERR_ARG, "device timing: mark: expected 0..%d, got %d", TP_CUDA_TIMER_MARKS - 1,
                        mark);
    TP_CUDA_CHECK(ctx, cudaEventRecord(t->ev[mark], tp_cuda_stream(ctx)));
    return TP_OK;
}

tp_status tp_cuda_timer_elapsed_ms(tp_context *ctx, tp_cuda_timer *t, int from, int to, double *ms)
{
    *ms = 0;
    if (!t || from < 0 || to < 0 || from >= TP_CUDA_TIMER_MARKS || to >= TP_CUDA_TIMER_MARKS)
        return tp_error(ctx, TP_ERR_ARG, "device timing: marks %d..%d out of range", from, to);
    TP_CUDA_CHECK(ctx, cudaEventSynchronize(t->ev[to]));
    float f = 0;
    TP_CUDA_CHECK(ctx, cudaEventElapsedTime(&f, t->ev[from], t->ev[to]));
    *ms = (double)f;
    return TP_OK;
}

static tp_status time_copies(tp_context *ctx, tp_cuda_timer *t, void *dst, const void *src, size_t bytes, double *gbs)
{
    cudaStream_t s = tp_cuda_stream(ctx);
    for (int i = 0; i < 3; i++) /* warm-up: first-touch page mapping and clocks */
        TP_CUDA_CHECK(ctx, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, s));
    enum { N = 15 };
    double ms[N];
    for (int i = 0; i < N; i++) {
        tp_status st = tp_cuda_timer_record(ctx, t, 0);
        if (!st)
            TP_CUDA_CHECK(ctx, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, s));
        if (!st)
            st = tp_cuda_timer_record(ctx, t, 1);
        if (!st)
            st = tp_cuda_timer_elapsed_ms(ctx, t, 0, 1, &ms[i]);
        if (st)
            return st;
    }
    std::sort(ms, ms + N);
    double med = ms[N / 2];
    if (med <= 0)
        return tp_error(ctx, TP_ERR_INTERNAL, "copy bandwidth: a copy of %zu bytes timed at 0 ms", bytes);
    *gbs = 2.0 * (double)bytes / (med * 1e-3) / 1e9;
    return TP_OK;
}

tp_status tp_cuda_measure_copy_bandwidth(tp_context *ctx, int64_t bytes, double *gbs)
{
    *gbs = 0;
    if (bytes <= 0)
        return tp_error(ctx, TP_ERR_ARG, "copy bandwidth: bytes: expected > 0, got %lld", (long long)bytes);
    tp_cuda_timer *t = NULL;
    tp_status st = tp_cuda_timer_create(ctx, &t);
    if (st)
        return st;
    void *src = NULL, *dst = NULL;
    st = tp_cuda_alloc(ctx, (size_t)bytes, &src);
    if (!st)
        st = tp_cuda_alloc(ctx, (size_t)bytes, &dst);
    /* a non-zero pattern: a copy of zeros could be shortcut by compressible-memory hardware */
    if (!st) {
        cudaError_t e = cudaMemsetAsync(src, 0x5a, (size_t)bytes, tp_cuda_stream(ctx));
        if (e != cudaSuccess)
            st = tp_cuda_error(ctx, e, "cudaMemsetAsync", __FILE__, __LINE__);
    }
    if (!st)
        st = time_copies(ctx, t, dst, src, (size_t)bytes, gbs);
    cudaStreamSynchronize(tp_cuda_stream(ctx));
    tp_cuda_free(src);
    tp_cuda_free(dst);
    tp_cuda_timer_destroy(t);
    return st;
}

int64_t tp_cuda_l2_bytes(tp_context *ctx)
{
    if (!tp_backend_available(TP_BACKEND_CUDA, NULL, 0))
        return 0;
    int v = 0;
    if (cudaDeviceGetAttribute(&v, cudaDevAttrL2CacheSize, ctx ? ctx->device : 0) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    return v;
}

} /* extern "C" */

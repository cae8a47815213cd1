/* The CUDA backend's memory table, streams, device facts and the device-memory cap. */
#include "gpu/cuda_util.h"

#include <atomic>
#include <mutex>
#include <stdlib.h>
#include <string.h>
#include <unordered_map>

static std::atomic<long long> g_used(0), g_peak(0);
static long long g_limit = -1; /* -1: not read yet; 0: no cap */

/* Sizes of live blocks, for the accounting (host side: no device round trip per allocation). */
static std::mutex g_mu;
static std::unordered_map<void *, size_t> g_sizes;

static long long mem_limit(void)
{
    if (g_limit < 0) {
        const char *s = getenv("TWINPIX_DEVICE_MEM_LIMIT");
        long long v = (s && *s) ? tp_parse_bytes(s) : 0;
        if (v < 0) {
            fprintf(stderr, "twinpix: warning: TWINPIX_DEVICE_MEM_LIMIT='%s' is not a size; ignored\n", s);
            v = 0;
        }
        g_limit = v;
    }
    return g_limit;
}

extern "C" {

int64_t tp_device_mem_current(void) { return g_used.load(); }
int64_t tp_device_mem_peak(void) { return g_peak.load(); }
void tp_device_mem_reset_peak(void) { g_peak.store(g_used.load()); }

tp_status tp_cuda_error(tp_context *ctx, cudaError_t e, const char *what, const char *file, int line)
{
    tp_status code = e == cudaErrorMemoryAllocation ? TP_ERR_DEVICE_NOMEM
                     : (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver) ? TP_ERR_NO_DEVICE
                                                                                     : TP_ERR_CUDA;
    cudaGetLastError(); /* clear a non-sticky error so the context stays usable */
    return tp_error(ctx, code, "CUDA: %s: %s (%s:%d)", what, cudaGetErrorString(e), file, line);
}

cudaStream_t tp_cuda_stream(tp_context *ctx)
{
    if (!ctx)
        return 0;
    if (ctx->stream)
        return (cudaStream_t)ctx->stream;
    if (!ctx->own_stream) {
        cudaStream_t s;
        cudaSetDevice(ctx->device);
        if (cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) == cudaSuccess)
            ctx->own_stream = (void *)s;
    }
    return (cudaStream_t)ctx->own_stream;
}

void tp_cuda_context_release(tp_context *ctx)
{
    if (ctx && ctx->own_stream) {
        cudaStreamSynchronize((cudaStream_t)ctx->own_stream);
        cudaStreamDestroy((cudaStream_t)ctx->own_stream);
        ctx->own_stream = NULL;
    }
}

tp_status tp_cuda_alloc(tp_context *ctx, size_t bytes, void **ptr)
{
    *ptr = NULL;
    size_t total = bytes ? bytes : 1;
    long long lim = mem_limit();
    long long now = g_used.fetch_add((long long)total) + (long long)total;
    if (lim > 0 && now > lim) {
        g_used.fetch_sub((long long)total);
        return tp_error(ctx, TP_ERR_DEVICE_NOMEM,
                        "out of device memory: %zu bytes requested, %lld in use, TWINPIX_DEVICE_MEM_LIMIT is %lld",
                        bytes, now - (long long)total, lim);
    }
    void *p = NULL;
    if (ctx)
        cudaSetDevice(ctx->device);
    cudaError_t e = cudaMalloc(&p, total);
    if (e != cudaSuccess) {
        g_used.fetch_sub((long long)total);
        cudaGetLastError();
        return tp_error(ctx, e == cudaErrorMemoryAllocation ? TP_ERR_DEVICE_NOMEM : TP_ERR_CUDA,
                        "cudaMalloc of %zu bytes failed: %s", bytes, cudaGetErrorString(e));
    }
    long long peak = g_peak.load();
    while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
    }
    {
        std::lock_guard<std::mutex> lock(g_mu);
        g_sizes[p] = total;
    }
    *ptr = p;
    return TP_OK;
}

void tp_cuda_free(void *ptr)
{
    if (!ptr)
        return;
    size_t sz = 0;
    {
        std::lock_guard<std::mutex> lock(g_mu);
        auto it = g_sizes.find(ptr);
        if (it != g_sizes.end()) {
            sz = it->second;
            g_sizes.erase(it);
        }
    }
    g_used.fetch_sub((long long)sz);
    cudaFree(ptr);
}

static int cuda_available(char *why, size_t n)
{
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        if (why && n)
            snprintf(why, n, "no usable CUDA device: %s",
                     e != cudaSuccess ? cudaGetErrorString(e) : "the driver reports 0 devices");
        cudaGetLastError();
        return 0;
    }
    if (why && n)
        why[0] = 0;
    return 1;
}

static tp_status cuda_alloc(tp_context *ctx, size_t bytes, void **ptr) { return tp_cuda_alloc(ctx, bytes, ptr); }

static void cuda_free(tp_context *ctx, void *ptr)
{
    (void)ctx;
    tp_cuda_free(ptr);
}

static tp_status cuda_copy(tp_context *ctx, void *dst, tp_location dl, const void *src, tp_location sl, size_t n)
{
    cudaMemcpyKind k = dl == TP_DEVICE ? (sl == TP_DEVICE ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                                       : (sl == TP_DEVICE ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
    cudaStream_t s = tp_cuda_stream(ctx);
    TP_CUDA_CHECK(ctx, cudaMemcpyAsync(dst, src, n, k, s));
    if (dl == TP_HOST || sl == TP_HOST) /* host buffers may be reused by the caller at once */
        TP_CUDA_CHECK(ctx, cudaStreamSynchronize(s));
    return TP_OK;
}

static tp_status cuda_memset0(tp_context *ctx, void *p, size_t n)
{
    TP_CUDA_CHECK(ctx, cudaMemsetAsync(p, 0, n, tp_cuda_stream(ctx)));
    return TP_OK;
}

static tp_status cuda_sync(tp_context *ctx)
{
    if (!ctx || (!ctx->stream && !ctx->own_stream))
        return TP_OK;
    TP_CUDA_CHECK(ctx, cudaStreamSynchronize(tp_cuda_stream(ctx)));
    return TP_OK;
}

const tp_backend tp_backend_cuda = {
    TP_BACKEND_CUDA, "cuda", TP_DEVICE, cuda_available, cuda_alloc, cuda_free, cuda_copy, cuda_memset0, cuda_sync,
};

int tp_cuda_devices(tp_device_info *out, int max, char *why, size_t n)
{
    if (!cuda_available(why, n))
        return 0;
    int count = 0;
    cudaGetDeviceCount(&count);
    int drv = 0, rt = 0;
    cudaDriverGetVersion(&drv);
    cudaRuntimeGetVersion(&rt);
    for (int i = 0; i < count && i < max; i++) {
        cudaDeviceProp p;
        if (cudaGetDeviceProperties(&p, i) != cudaSuccess)
            continue;
        memset(&out[i], 0, sizeof out[i]);
        memcpy(out[i].name, p.name, sizeof out[i].name - 1); /* both NUL-terminated; name is 128 */
        out[i].name[sizeof out[i].name - 1] = 0;
        out[i].total_mem = (int64_t)p.totalGlobalMem;
        out[i].sm_count = p.multiProcessorCount;
        out[i].cc_major = p.major;
        out[i].cc_minor = p.minor;
        out[i].driver_version = drv;
        out[i].runtime_version = rt;
        out[i].l2_bytes = p.l2CacheSize;
    }
    return count;
}

} /* extern "C" */

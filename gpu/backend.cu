/* The CUDA backend's memory table, streams, device facts, the device-memory cap, the stream-ordered caching
 * allocator and the pinned staging of host<->device copies.
 *
 * Device memory (tp_cuda_alloc / tp_cuda_free: images, op scratch, everything twinpix allocates):
 *  - Stream-ordered: cudaMallocFromPoolAsync / cudaFreeAsync on the allocating context's stream, from one
 *    twinpix-owned memory pool per device (cudaMemPoolCreate; the application's default pool is left alone).
 *    The pool keeps freed memory cached (cudaMemPoolAttrReleaseThreshold: TWINPIX_DEVICE_MEM_LIMIT when set,
 *    else unlimited), so an allocation costs microseconds and a free never synchronises anything.
 *    Blocks freed on another stream are reused once their free has completed (opportunistic reuse); the
 *    pool does not insert cross-stream waits (internal dependencies off), so contexts never wait on each
 *    other through the allocator.
 *  - TWINPIX_DEVICE_MEM_LIMIT caps the bytes of live blocks exactly as before (host-side accounting, checked
 *    before the device is asked). A device out-of-memory synchronises the context's own stream, trims the pool
 *    (cudaMemPoolTrimTo 0: cached blocks given back) and retries once before TP_ERR_DEVICE_NOMEM.
 *  - Lifetimes. Every block remembers (in g_blocks) the context that allocated it and that context's stream
 *    at the time. tp_cuda_free(p) (and so tp_image_free / tp_result_free, which take no context) enqueues
 *    cudaFreeAsync on that stream: the memory is released after everything the context enqueued before the
 *    free, and only then can another stream reuse it. The rules that follow for callers:
 *      * within one context everything is ordered by its stream: free when you like;
 *      * an image made by context A (an op's output, an upload, an allocation) is ready for another context B
 *        after tp_context_sync(A): its allocation, its contents and an upload's last chunks are ordered on A's
 *        stream only;
 *      * an image read by a context B (B's stream) must not be freed while B may still read it:
 *        tp_context_sync(B) first;
 *      * tp_context_set_stream moves the context's live blocks to the new stream (the new stream waits for
 *        the old one through an event), so later frees stay ordered after the work on the new stream;
 *      * tp_context_destroy synchronises the context's stream (its own or the caller's: a caller's stream must
 *        outlive the context) and "orphans" its live blocks: they stay valid; a later free goes on the calling
 *        thread's per-thread default stream (cudaStreamPerThread), with nothing of the destroyed context
 *        pending; other contexts reading such an image follow the cross-context rule above;
 *      * a device allocation without a context (ctx NULL) is made on cudaStreamPerThread and synchronised at
 *        once, and is an orphan from the start.
 *  - TWINPIX_DEVICE_POOL=0 (or a device without memory pools) falls back to cudaMalloc / cudaFree, which
 *    synchronise the device: for comparison and debugging only.
 *  - When the last context that used the device is destroyed, the pools are trimmed to 0: an idle twinpix
 *    holds no cached device memory.
 *
 * Host<->device copies (the backend's copy: tp_image_copy, the dispatcher's staging of host inputs, results
 * moved back to the host) go through a pinned staging buffer per context: two chunks of up to 8 MiB
 * (double-buffered, one CUDA event each). Upload: the host copies chunk k into pinned buffer k%2 (OpenMP,
 * up to 8 threads) while the DMA of chunk k-1 runs; the call returns when the last chunk is in pinned memory
 * and queued: the caller's buffer may be reused at once, the DMA finishes in stream order (no stream
 * synchronisation, and none of the one cudaMemcpyAsync from pageable memory may do before it starts). Download: DMA of chunk k+1 runs while the host copies chunk k out; the call returns when the data
 * is in the caller's buffer. Host memory that is already pinned (cudaHostAlloc, cudaHostRegister: tp_image_pin)
 * is copied directly (and waited for). Staging buffers are pooled process-wide and never freed (cudaFreeHost can
 * synchronise the device): a context takes one at its first transfer and gives it back when destroyed.
 * TWINPIX_PINNED_STAGING=0 restores the direct pageable copies (for comparison). */
#include "gpu/cuda_util.h"

#include <atomic>
#include <mutex>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unordered_map>

/* ---- environment, read once ---- */
static long long g_limit = 0; /* 0: no cap */
static bool g_pool_enabled = true, g_staging_enabled = true;
static std::once_flag g_env_once;

static bool env_off(const char *name)
{
    const char *s = getenv(name);
    return s && (!strcmp(s, "0") || !strcmp(s, "off") || !strcmp(s, "false") || !strcmp(s, "no"));
}

static void read_env(void)
{
    std::call_once(g_env_once, [] {
        const char *s = getenv("TWINPIX_DEVICE_MEM_LIMIT");
        long long v = (s && *s) ? tp_parse_bytes(s) : 0;
        if (v < 0) {
            fprintf(stderr, "twinpix: warning: TWINPIX_DEVICE_MEM_LIMIT='%s' is not a size; ignored\n", s);
            v = 0;
        }
        g_limit = v;
        g_pool_enabled = !env_off("TWINPIX_DEVICE_POOL");
        g_staging_enabled = !env_off("TWINPIX_PINNED_STAGING");
    });
}

static long long mem_limit(void)
{
    read_env();
    return g_limit;
}

/* ---- the accounting: live blocks, their size, owner and stream ---- */
static std::atomic<long long> g_used(0), g_peak(0);

struct blk {
    size_t size;
    cudaStream_t stream;     /* where its free goes */
    const tp_context *owner; /* NULL: orphan (freed on cudaStreamPerThread) */
    int device;
    bool pooled;             /* cudaMallocFromPoolAsync (else cudaMalloc) */
};
static std::mutex g_mu;
static std::unordered_map<void *, blk> g_blocks;

/* ---- one twinpix pool per device ---- */
enum { TP_MAX_DEVICES = 64 };
struct dev_pool {
    std::once_flag once;
    std::atomic<cudaMemPool_t> pool{nullptr}; /* stays NULL when pools are off or unsupported */
};
static dev_pool g_pools[TP_MAX_DEVICES];
static std::atomic<int> g_live_ctx(0); /* contexts that used the device and are not destroyed yet */

static cudaMemPool_t pool_for(int dev)
{
    read_env();
    if (!g_pool_enabled || dev < 0 || dev >= TP_MAX_DEVICES)
        return nullptr;
    dev_pool &d = g_pools[dev];
    std::call_once(d.once, [&d, dev] {
        int ok = 0;
        if (cudaDeviceGetAttribute(&ok, cudaDevAttrMemoryPoolsSupported, dev) != cudaSuccess || !ok) {
            cudaGetLastError();
            return;
        }
        cudaMemPoolProps props;
        memset(&props, 0, sizeof props);
        props.allocType = cudaMemAllocationTypePinned;
        props.handleTypes = cudaMemHandleTypeNone;
        props.location.type = cudaMemLocationTypeDevice;
        props.location.id = dev;
        cudaMemPool_t p = nullptr;
        if (cudaMemPoolCreate(&p, &props) != cudaSuccess) {
            cudaGetLastError();
            return;
        }
        /* keep freed memory cached: up to the cap when there is one, else all of it */
        unsigned long long keep = g_limit > 0 ? (unsigned long long)g_limit : UINT64_MAX;
        int no = 0;
        if (cudaMemPoolSetAttribute(p, cudaMemPoolAttrReleaseThreshold, &keep) != cudaSuccess ||
            cudaMemPoolSetAttribute(p, cudaMemPoolReuseAllowInternalDependencies, &no) != cudaSuccess) {
            cudaGetLastError();
            cudaMemPoolDestroy(p);
            return;
        }
        d.pool.store(p);
    });
    return d.pool.load();
}

static void trim_all_pools(void)
{
    for (int i = 0; i < TP_MAX_DEVICES; i++) {
        cudaMemPool_t p = g_pools[i].pool.load();
        if (p)
            cudaMemPoolTrimTo(p, 0);
    }
    cudaGetLastError();
}

/* Free on the block's device (the caller's current device is restored). */
static void release_block(void *p, const blk &b)
{
    int cur = -1;
    if (cudaGetDevice(&cur) != cudaSuccess)
        cur = -1;
    if (cur != b.device)
        cudaSetDevice(b.device);
    cudaError_t e = b.pooled ? cudaFreeAsync(p, b.owner ? b.stream : cudaStreamPerThread) : cudaFree(p);
    if (e != cudaSuccess)
        cudaGetLastError(); /* nothing to report to: tp_image_free has no context */
    if (cur >= 0 && cur != b.device)
        cudaSetDevice(cur);
}

/* ---- pinned staging buffers, pooled process-wide ---- */
static const size_t TP_STAGE_CHUNK = (size_t)8 << 20;

struct tp_staging {
    int device;
    char *buf[2];        /* one cudaHostAlloc of 2 x TP_STAGE_CHUNK */
    cudaEvent_t ev[2];   /* the last DMA from / into buf[i] */
    bool pending[2];     /* ev[i] recorded and not yet waited for */
    tp_staging *next;    /* in the free list */
};
static std::mutex g_stage_mu;
static tp_staging *g_stage_free = nullptr;
static std::atomic<bool> g_stage_failed(false); /* no pinned memory to be had: stop asking */

static tp_staging *staging_new(int dev)
{
    tp_staging *st = (tp_staging *)calloc(1, sizeof *st);
    if (!st)
        return nullptr;
    st->device = dev;
    cudaSetDevice(dev); /* the events belong to the context's device */
    void *p = nullptr;
    if (cudaHostAlloc(&p, 2 * TP_STAGE_CHUNK, cudaHostAllocPortable) != cudaSuccess) {
        cudaGetLastError();
        free(st);
        return nullptr;
    }
    st->buf[0] = (char *)p;
    st->buf[1] = (char *)p + TP_STAGE_CHUNK;
    for (int i = 0; i < 2; i++)
        if (cudaEventCreateWithFlags(&st->ev[i], cudaEventDisableTiming) != cudaSuccess) {
            cudaGetLastError();
            for (int j = 0; j < i; j++)
                cudaEventDestroy(st->ev[j]);
            cudaFreeHost(p); /* creation failed: nothing of ours is in flight */
            free(st);
            return nullptr;
        }
    return st;
}

/* The context's staging buffer (taken from the free list or made at its first transfer); NULL: copy
 * directly (staging off, or no pinned memory to be had). */
static tp_staging *staging_get(tp_context *ctx)
{
    read_env();
    if (!ctx || !g_staging_enabled || g_stage_failed.load())
        return nullptr;
    tp_staging *st = (tp_staging *)ctx->staging;
    if (st && st->device == ctx->device)
        return st;
    if (st) /* the context moved to another device (tp_context_set_device releases it; be safe anyway) */
        return nullptr;
    {
        std::lock_guard<std::mutex> lock(g_stage_mu);
        for (tp_staging **pp = &g_stage_free; *pp; pp = &(*pp)->next)
            if ((*pp)->device == ctx->device) {
                st = *pp;
                *pp = st->next;
                st->next = nullptr;
                break;
            }
    }
    if (!st && !(st = staging_new(ctx->device)))
        g_stage_failed.store(true);
    ctx->staging = st;
    return st;
}

static cudaError_t staging_wait(tp_staging *st, int b)
{
    if (!st->pending[b])
        return cudaSuccess;
    st->pending[b] = false;
    return cudaEventSynchronize(st->ev[b]);
}

static void staging_put(tp_context *ctx)
{
    tp_staging *st = (tp_staging *)ctx->staging;
    if (!st)
        return;
    ctx->staging = nullptr;
    staging_wait(st, 0); /* no DMA may still read or write it when another context takes it */
    staging_wait(st, 1);
    cudaGetLastError();
    std::lock_guard<std::mutex> lock(g_stage_mu);
    st->next = g_stage_free;
    g_stage_free = st;
}

/* Chunk size for n bytes: whole chunks up to 8 MiB, at least 4 of them from 4 MiB up (so that the host copy
 * and the DMA overlap), no chunk below 1 MiB. */
static size_t chunk_for(size_t n)
{
    size_t c = (n / 4 + 65535) & ~(size_t)65535;
    if (c < ((size_t)1 << 20))
        c = (size_t)1 << 20;
    return c > TP_STAGE_CHUNK ? TP_STAGE_CHUNK : c;
}

static int copy_threads(const tp_context *ctx) { return ctx->threads < 8 ? ctx->threads : 8; }

static tp_status staged_upload(tp_context *ctx, tp_staging *st, char *dst, const char *src, size_t n, cudaStream_t s)
{
    const size_t chunk = chunk_for(n);
    const int threads = copy_threads(ctx);
    for (size_t off = 0, k = 0; off < n; off += chunk, k++) {
        const int b = (int)(k & 1);
        const size_t len = n - off < chunk ? n - off : chunk;
        TP_CUDA_CHECK(ctx, staging_wait(st, b)); /* the DMA that last read buf[b] is done */
        tp_memcpy_par(st->buf[b], src + off, len, threads);
        TP_CUDA_CHECK(ctx, cudaMemcpyAsync(dst + off, st->buf[b], len, cudaMemcpyHostToDevice, s));
        TP_CUDA_CHECK(ctx, cudaEventRecord(st->ev[b], s));
        st->pending[b] = true;
    }
    return TP_OK; /* the source may be reused now; the last DMAs finish in stream order */
}

static tp_status staged_download(tp_context *ctx, tp_staging *st, char *dst, const char *src, size_t n, cudaStream_t s)
{
    const size_t chunk = chunk_for(n);
    const size_t nchunks = (n + chunk - 1) / chunk;
    const int threads = copy_threads(ctx);
    auto issue = [&](size_t k) -> tp_status {
        const int b = (int)(k & 1);
        const size_t off = k * chunk, len = n - off < chunk ? n - off : chunk;
        TP_CUDA_CHECK(ctx, staging_wait(st, b));
        TP_CUDA_CHECK(ctx, cudaMemcpyAsync(st->buf[b], src + off, len, cudaMemcpyDeviceToHost, s));
        TP_CUDA_CHECK(ctx, cudaEventRecord(st->ev[b], s));
        st->pending[b] = true;
        return TP_OK;
    };
    tp_status r;
    for (size_t k = 0; k < 2 && k < nchunks; k++)
        if ((r = issue(k)))
            return r;
    for (size_t k = 0; k < nchunks; k++) {
        const int b = (int)(k & 1);
        const size_t off = k * chunk, len = n - off < chunk ? n - off : chunk;
        TP_CUDA_CHECK(ctx, staging_wait(st, b)); /* chunk k is in buf[b] */
        tp_memcpy_par(dst + off, st->buf[b], len, threads);
        if (k + 2 < nchunks && (r = issue(k + 2)))
            return r;
    }
    return TP_OK;
}

static bool host_is_pinned(const void *p)
{
    cudaPointerAttributes a;
    if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
        cudaGetLastError();
        return false;
    }
    return a.type == cudaMemoryTypeHost;
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

int tp_cuda_sm_count(tp_context *ctx)
{
    constexpr int kDevices = 64;
    static std::atomic<int> cached[kDevices];
    const int dev = ctx ? ctx->device : 0;
    if (dev < 0 || dev >= kDevices)
        return 1;
    int n = cached[dev].load();
    if (n > 0)
        return n;
    if (cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess || n < 1) {
        cudaGetLastError();
        return 1;
    }
    cached[dev].store(n);
    return n;
}

cudaStream_t tp_cuda_stream(tp_context *ctx)
{
    if (!ctx)
        return 0;
    if (!ctx->cuda_active) {
        ctx->cuda_active = 1;
        g_live_ctx.fetch_add(1);
    }
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

/* The stream the context's work is on now, without creating one; 0 (legacy) when it has none yet. */
static cudaStream_t current_stream(const tp_context *ctx)
{
    return (cudaStream_t)(ctx->stream ? ctx->stream : ctx->own_stream);
}

void tp_cuda_context_release(tp_context *ctx)
{
    if (!ctx || !ctx->cuda_active)
        return; /* never touched the device: no CUDA call at all (CPU-only contexts, machines without GPU) */
    cudaSetDevice(ctx->device);
    staging_put(ctx);
    cudaStream_t s = current_stream(ctx);
    if (s)
        cudaStreamSynchronize(s); /* nothing of this context is pending once its blocks are orphans */
    {
        std::lock_guard<std::mutex> lock(g_mu);
        for (auto &kv : g_blocks)
            if (kv.second.owner == ctx) {
                kv.second.owner = nullptr;
                kv.second.stream = cudaStreamPerThread;
            }
    }
    if (ctx->own_stream) {
        cudaStreamDestroy((cudaStream_t)ctx->own_stream);
        ctx->own_stream = NULL;
    }
    cudaGetLastError();
    ctx->cuda_active = 0;
    if (g_live_ctx.fetch_sub(1) == 1)
        trim_all_pools(); /* the last context is gone: give the cached memory back */
}

void tp_cuda_context_set_stream(tp_context *ctx, void *stream)
{
    cudaStream_t old = current_stream(ctx);
    if (!ctx->cuda_active || (cudaStream_t)stream == old) {
        ctx->stream = stream;
        return; /* nothing allocated or queued yet, or no change */
    }
    ctx->stream = stream;
    cudaStream_t now = tp_cuda_stream(ctx);
    if (now == old)
        return;
    /* the new stream waits for everything queued on the old one; then the context's blocks move to it */
    cudaEvent_t ev;
    bool ordered = false;
    if (cudaEventCreateWithFlags(&ev, cudaEventDisableTiming) == cudaSuccess) {
        ordered = cudaEventRecord(ev, old) == cudaSuccess && cudaStreamWaitEvent(now, ev, 0) == cudaSuccess;
        cudaEventDestroy(ev);
    }
    if (!ordered)
        cudaStreamSynchronize(old);
    cudaGetLastError();
    std::lock_guard<std::mutex> lock(g_mu);
    for (auto &kv : g_blocks)
        if (kv.second.owner == ctx)
            kv.second.stream = now;
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
    int dev = 0;
    if (ctx) {
        dev = ctx->device;
        cudaSetDevice(dev);
    } else if (cudaGetDevice(&dev) != cudaSuccess) {
        cudaGetLastError();
        dev = 0;
    }
    cudaMemPool_t pool = pool_for(dev);
    cudaStream_t s = ctx ? tp_cuda_stream(ctx) : cudaStreamPerThread;
    void *p = NULL;
    cudaError_t e = pool ? cudaMallocFromPoolAsync(&p, total, pool, s) : cudaMalloc(&p, total);
    if (e == cudaErrorMemoryAllocation) {
        /* cached blocks may be what fills the device: let this stream's pending frees complete, give every
         * unused cached block back, and try once more */
        cudaGetLastError();
        if (pool) {
            cudaStreamSynchronize(s);
            cudaMemPoolTrimTo(pool, 0);
            cudaGetLastError();
            e = cudaMallocFromPoolAsync(&p, total, pool, s);
        }
    }
    if (e == cudaSuccess && pool && !ctx)
        e = cudaStreamSynchronize(s); /* no context, no stream to order by: usable anywhere once this returns */
    if (e != cudaSuccess) {
        if (p && pool)
            cudaFreeAsync(p, s);
        else if (p)
            cudaFree(p);
        g_used.fetch_sub((long long)total);
        cudaGetLastError();
        return tp_error(ctx, e == cudaErrorMemoryAllocation ? TP_ERR_DEVICE_NOMEM : TP_ERR_CUDA,
                        "%s of %zu bytes failed: %s", pool ? "cudaMallocFromPoolAsync" : "cudaMalloc", bytes,
                        cudaGetErrorString(e));
    }
    long long peak = g_peak.load();
    while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
    }
    {
        std::lock_guard<std::mutex> lock(g_mu);
        g_blocks[p] = blk{total, s, ctx, dev, pool != nullptr};
    }
    *ptr = p;
    return TP_OK;
}

void tp_cuda_free(void *ptr)
{
    if (!ptr)
        return;
    blk b;
    bool found = false;
    {
        std::lock_guard<std::mutex> lock(g_mu);
        auto it = g_blocks.find(ptr);
        if (it != g_blocks.end()) {
            b = it->second;
            g_blocks.erase(it);
            found = true;
        }
    }
    if (!found) {
        cudaFree(ptr); /* not twinpix's (an image the caller marked as owned): what cudaMalloc'd memory needs */
        cudaGetLastError();
        return;
    }
    g_used.fetch_sub((long long)b.size);
    release_block(ptr, b);
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
    if (n == 0)
        return TP_OK;
    if (k == cudaMemcpyHostToDevice || k == cudaMemcpyDeviceToHost) {
        const void *host = k == cudaMemcpyHostToDevice ? src : dst;
        tp_staging *st = host_is_pinned(host) ? nullptr : staging_get(ctx);
        if (st)
            return k == cudaMemcpyHostToDevice ? staged_upload(ctx, st, (char *)dst, (const char *)src, n, s)
                                               : staged_download(ctx, st, (char *)dst, (const char *)src, n, s);
    }
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

/* tp_image_pin: page-lock the caller's span so cuda_copy sees it as pinned (host_is_pinned) and copies it by
 * direct DMA. A span registered before (by an earlier pin or by the caller) is already what was asked for. */
static tp_status cuda_pin(tp_context *ctx, void *host, size_t bytes)
{
    /* Already page-locked (by an earlier pin, or the caller's cudaMallocHost): nothing to do. Asking first
     * keeps the expected "already registered" API error out of compute-sanitizer's reports. Portable: the
     * pages are pinned for every device, and the caller's current device is left alone. */
    if (host_is_pinned(host))
        return TP_OK;
    cudaError_t e = cudaHostRegister(host, bytes, cudaHostRegisterPortable);
    if (e == cudaErrorHostMemoryAlreadyRegistered) { /* a registration that covers part of the span */
        cudaGetLastError();
        return TP_OK;
    }
    if (e != cudaSuccess) {
        cudaGetLastError();
        return tp_error(ctx, TP_ERR_CUDA, "tp_image_pin: cudaHostRegister of %zu bytes failed: %s", bytes,
                        cudaGetErrorString(e));
    }
    return TP_OK;
}

/* tp_image_unpin: a span that is not page-locked has nothing to undo (and asking first leaves no API error
 * behind for the next CUDA call or the sanitizer to report). */
static void cuda_unpin(void *host)
{
    if (!host_is_pinned(host))
        return;
    if (cudaHostUnregister(host) != cudaSuccess) /* pinned by someone else (cudaMallocHost): theirs to free */
        cudaGetLastError();
}

const tp_backend tp_backend_cuda = {
    TP_BACKEND_CUDA, "cuda", TP_DEVICE, cuda_available, cuda_alloc, cuda_free, cuda_copy, cuda_memset0, cuda_sync,
    cuda_pin, cuda_unpin,
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

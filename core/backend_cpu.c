/* The CPU backend's memory table (host memory), and the backend list. */
#include "twinpix/internal.h"

#include <stdlib.h>
#include <string.h>

static int cpu_available(char *why, size_t n)
{
    if (why && n)
        why[0] = 0;
    return 1;
}

static tp_status cpu_alloc(tp_context *ctx, size_t bytes, void **ptr)
{
    *ptr = tp_host_malloc(bytes);
    if (!*ptr)
        return tp_error(ctx, TP_ERR_NOMEM, "out of host memory allocating %zu bytes", bytes);
    return TP_OK;
}

static void cpu_free(tp_context *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static tp_status cpu_copy(tp_context *ctx, void *dst, tp_location dl, const void *src, tp_location sl, size_t n)
{
    if (dl != TP_HOST || sl != TP_HOST)
        return tp_error(ctx, TP_ERR_NO_DEVICE, "copy to or from device memory needs the CUDA backend");
    memmove(dst, src, n);
    return TP_OK;
}

static tp_status cpu_memset0(tp_context *ctx, void *p, size_t n)
{
    (void)ctx;
    memset(p, 0, n);
    return TP_OK;
}

static tp_status cpu_sync(tp_context *ctx)
{
    (void)ctx;
    return TP_OK;
}

const tp_backend tp_backend_cpu = {
    .id = TP_BACKEND_CPU,
    .name = "cpu",
    .location = TP_HOST,
    .available = cpu_available,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .copy = cpu_copy,
    .memset0 = cpu_memset0,
    .sync = cpu_sync,
    .pin = NULL, /* host memory needs no page-locking for host copies */
    .unpin = NULL,
};

static const tp_backend *const backends[TP_BACKEND_COUNT] = {
    [TP_BACKEND_CPU] = &tp_backend_cpu,
#ifdef TP_HAVE_CUDA
    [TP_BACKEND_CUDA] = &tp_backend_cuda,
#endif
};

const tp_backend *tp_backend_get(tp_backend_id id)
{
    return (unsigned)id < TP_BACKEND_COUNT ? backends[id] : NULL;
}

const char *tp_backend_name(tp_backend_id b)
{
    return b == TP_BACKEND_CPU ? "cpu" : b == TP_BACKEND_CUDA ? "cuda" : "unknown";
}

static int g_fake_cuda = -1;

void tp_test_fake_cuda(int available) { g_fake_cuda = available; }

int tp_backend_available(tp_backend_id id, char *why, size_t n)
{
    if (id == TP_BACKEND_CUDA && g_fake_cuda >= 0) {
        if (why && n)
            snprintf(why, n, "%s", g_fake_cuda ? "" : "CUDA forced unavailable (test)");
        return g_fake_cuda;
    }
    const tp_backend *b = tp_backend_get(id);
    if (!b) {
        if (why && n)
            snprintf(why, n, "twinpix was built without CUDA (nvcc was not found at configure time)");
        return 0;
    }
    return b->available(why, n);
}

#ifndef TP_HAVE_CUDA
int tp_cuda_devices(tp_device_info *out, int max, char *why, size_t n)
{
    (void)out;
    (void)max;
    if (why && n)
        snprintf(why, n, "twinpix was built without CUDA (nvcc was not found at configure time)");
    return 0;
}

int64_t tp_device_mem_current(void) { return 0; }
int64_t tp_device_mem_peak(void) { return 0; }
void tp_device_mem_reset_peak(void) {}
#endif

/* Status codes, dtypes and the per-context error message. */
#include "twinpix/internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

const char *tp_status_str(tp_status s)
{
    switch (s) {
    case TP_OK: return "ok";
    case TP_ERR_ARG: return "invalid argument";
    case TP_ERR_SHAPE: return "unsupported shape";
    case TP_ERR_DTYPE: return "unsupported dtype";
    case TP_ERR_NOMEM: return "out of host memory";
    case TP_ERR_DEVICE_NOMEM: return "out of device memory";
    case TP_ERR_IO: return "I/O error";
    case TP_ERR_NO_DEVICE: return "no CUDA device";
    case TP_ERR_UNSUPPORTED: return "unsupported on this backend";
    case TP_ERR_CUDA: return "CUDA error";
    case TP_ERR_OVERFLOW: return "size overflow";
    case TP_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

static const struct {
    const char *name;
    size_t size;
} dtype_info[TP_DTYPE_COUNT] = {
    [TP_BOOL] = {"bool", 1},     [TP_UINT8] = {"uint8", 1},     [TP_INT8] = {"int8", 1},
    [TP_UINT16] = {"uint16", 2}, [TP_INT16] = {"int16", 2},     [TP_UINT32] = {"uint32", 4},
    [TP_INT32] = {"int32", 4},   [TP_INT64] = {"int64", 8},     [TP_FLOAT32] = {"float32", 4},
    [TP_FLOAT64] = {"float64", 8},
};

size_t tp_dtype_size(tp_dtype t) { return (unsigned)t < TP_DTYPE_COUNT ? dtype_info[t].size : 0; }

const char *tp_dtype_name(tp_dtype t) { return (unsigned)t < TP_DTYPE_COUNT ? dtype_info[t].name : "invalid"; }

int tp_dtype_from_name(const char *name, tp_dtype *out)
{
    for (int i = 0; i < TP_DTYPE_COUNT; i++)
        if (strcmp(name, dtype_info[i].name) == 0) {
            *out = (tp_dtype)i;
            return 0;
        }
    return -1;
}

int tp_dtype_is_float(tp_dtype t) { return t == TP_FLOAT32 || t == TP_FLOAT64; }

int tp_dtype_is_signed(tp_dtype t)
{
    return t == TP_INT8 || t == TP_INT16 || t == TP_INT32 || t == TP_INT64 || tp_dtype_is_float(t);
}

tp_status tp_error(tp_context *ctx, tp_status code, const char *fmt, ...)
{
    if (ctx) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void tp_debug(const tp_context *ctx, const char *fmt, ...)
{
    if (!ctx || !ctx->debug)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("twinpix: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

bool tp_shape_product(const int64_t *shape, int n, int64_t *out)
{
    int64_t p = 1;
    for (int i = 0; i < n; i++) {
        if (shape[i] < 0 || !tp_mul_i64(p, shape[i], &p))
            return false;
    }
    *out = p;
    return true;
}

void *tp_host_malloc(size_t bytes)
{
    const size_t huge = (size_t)2 << 20;
    if (bytes < 2 * huge)
        return malloc(bytes ? bytes : 1);
    const size_t rounded = (bytes + huge - 1) & ~(huge - 1);
    void *p = NULL;
    if (rounded < bytes || posix_memalign(&p, huge, rounded) != 0)
        return NULL;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    (void)madvise(p, rounded, MADV_HUGEPAGE); /* a hint: without transparent huge pages nothing changes */
#endif
    return p;
}

void *tp_host_alloc(tp_context *ctx, int64_t count, size_t elem)
{
    int64_t bytes;
    if (count < 0 || !tp_mul_i64(count, (int64_t)elem, &bytes)) {
        tp_error(ctx, TP_ERR_OVERFLOW, "host allocation of %lld x %zu bytes overflows", (long long)count, elem);
        return NULL;
    }
    void *p = tp_host_malloc((size_t)bytes);
    if (!p)
        tp_error(ctx, TP_ERR_NOMEM, "out of host memory allocating %lld bytes", (long long)bytes);
    return p;
}

void *tp_host_calloc(tp_context *ctx, int64_t count, size_t elem)
{
    int64_t bytes;
    if (count < 0 || !tp_mul_i64(count, (int64_t)elem, &bytes)) {
        tp_error(ctx, TP_ERR_OVERFLOW, "host allocation of %lld x %zu bytes overflows", (long long)count, elem);
        return NULL;
    }
    void *p = calloc(count ? (size_t)count : 1, elem);
    if (!p)
        tp_error(ctx, TP_ERR_NOMEM, "out of host memory allocating %lld bytes", (long long)bytes);
    return p;
}

double tp_get_f64(const void *d, tp_dtype t, int64_t i)
{
    switch (t) {
    case TP_BOOL:
    case TP_UINT8: return ((const uint8_t *)d)[i];
    case TP_INT8: return ((const int8_t *)d)[i];
    case TP_UINT16: return ((const uint16_t *)d)[i];
    case TP_INT16: return ((const int16_t *)d)[i];
    case TP_UINT32: return ((const uint32_t *)d)[i];
    case TP_INT32: return ((const int32_t *)d)[i];
    case TP_INT64: return (double)((const int64_t *)d)[i];
    case TP_FLOAT32: return ((const float *)d)[i];
    case TP_FLOAT64: return ((const double *)d)[i];
    default: return 0;
    }
}

void tp_set_f64(void *d, tp_dtype t, int64_t i, double v)
{
    switch (t) {
    case TP_BOOL: ((uint8_t *)d)[i] = v != 0; break;
    case TP_UINT8: ((uint8_t *)d)[i] = (uint8_t)(int64_t)v; break;
    case TP_INT8: ((int8_t *)d)[i] = (int8_t)(int64_t)v; break;
    case TP_UINT16: ((uint16_t *)d)[i] = (uint16_t)(int64_t)v; break;
    case TP_INT16: ((int16_t *)d)[i] = (int16_t)(int64_t)v; break;
    case TP_UINT32: ((uint32_t *)d)[i] = (uint32_t)(int64_t)v; break;
    case TP_INT32: ((int32_t *)d)[i] = (int32_t)(int64_t)v; break;
    case TP_INT64: ((int64_t *)d)[i] = (int64_t)v; break;
    case TP_FLOAT32: ((float *)d)[i] = (float)v; break;
    case TP_FLOAT64: ((double *)d)[i] = v; break;
    default: break;
    }
}

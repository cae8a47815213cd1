/* The context: backend choice, threads, device and stream, last error. Environment overrides are read
 * here: TWINPIX_DEBUG at creation; TWINPIX_BACKEND at each choice (core/choose.c). */
#include "twinpix/internal.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static int all_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

int64_t tp_parse_bytes(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0)
        return -1;
    double m = 1;
    switch (*end) {
    case 'k': case 'K': m = 1024.0; end++; break;
    case 'm': case 'M': m = 1024.0 * 1024; end++; break;
    case 'g': case 'G': m = 1024.0 * 1024 * 1024; end++; break;
    default: break;
    }
    if (*end == 'B' || *end == 'b')
        end++;
    return *end ? -1 : (int64_t)(v * m);
}

tp_status tp_context_create(tp_context **out)
{
    if (!out)
        return TP_ERR_ARG;
    *out = NULL;
    tp_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return TP_ERR_NOMEM;
    ctx->backend = TP_CHOOSE_CPU;
    ctx->threads = all_threads();
    const char *dbg = getenv("TWINPIX_DEBUG");
    ctx->debug = dbg && *dbg && strcmp(dbg, "0") != 0;
    *out = ctx;
    return TP_OK;
}

void tp_context_destroy(tp_context *ctx)
{
    if (!ctx)
        return;
#ifdef TP_HAVE_CUDA
    tp_cuda_context_release(ctx); /* waits for the context's stream; its device images stay valid */
#endif
    free(ctx);
}

tp_status tp_context_set_backend(tp_context *ctx, tp_backend_choice choice)
{
    if (!ctx)
        return TP_ERR_ARG;
    if (choice != TP_CHOOSE_CPU && choice != TP_CHOOSE_CUDA && choice != TP_CHOOSE_AUTO)
        return tp_error(ctx, TP_ERR_ARG, "backend: expected cpu, cuda or auto, got %d", (int)choice);
    ctx->backend = choice;
    return TP_OK;
}

tp_backend_choice tp_context_backend(const tp_context *ctx) { return ctx->backend; }

tp_status tp_context_set_threads(tp_context *ctx, int threads)
{
    if (!ctx)
        return TP_ERR_ARG;
    if (threads < 0)
        return tp_error(ctx, TP_ERR_ARG, "threads: expected >= 0 (0 = all), got %d", threads);
    ctx->threads = threads == 0 ? all_threads() : threads;
    return TP_OK;
}

int tp_context_threads(const tp_context *ctx) { return ctx->threads; }

tp_status tp_context_set_device(tp_context *ctx, int device)
{
    if (!ctx)
        return TP_ERR_ARG;
    if (device < 0)
        return tp_error(ctx, TP_ERR_ARG, "device: expected >= 0, got %d", device);
#ifdef TP_HAVE_CUDA
    if (device != ctx->device)
        tp_cuda_context_release(ctx); /* its own stream and staging buffer belong to the old device */
#endif
    ctx->device = device;
    return TP_OK;
}

tp_status tp_context_set_stream(tp_context *ctx, void *stream)
{
    if (!ctx)
        return TP_ERR_ARG;
#ifdef TP_HAVE_CUDA
    tp_cuda_context_set_stream(ctx, stream); /* orders the new stream after the old, moves the live blocks */
#else
    ctx->stream = stream;
#endif
    return TP_OK;
}

const char *tp_last_error(const tp_context *ctx) { return ctx ? ctx->errmsg : "no context"; }

tp_status tp_context_sync(tp_context *ctx)
{
    const tp_backend *b = tp_backend_get(TP_BACKEND_CUDA);
    return b ? b->sync(ctx) : TP_OK;
}

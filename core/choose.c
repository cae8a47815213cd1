/* Choosing the backend for a call: explicit (context), overridden by TWINPIX_BACKEND, or automatic.
 * auto: data already on the device stays there; no usable device -> CPU; otherwise the GPU from the op's
 * crossover size on (core/calibration.c), CPU below it. TWINPIX_DEBUG=1 logs every choice and why. */
#include "twinpix/internal.h"
#include "core/calibration.h"

#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

static int env_choice(tp_backend_choice *c)
{
    const char *e = getenv("TWINPIX_BACKEND");
    if (!e || !*e)
        return 0;
    if (!strcmp(e, "cpu"))
        *c = TP_CHOOSE_CPU;
    else if (!strcmp(e, "cuda"))
        *c = TP_CHOOSE_CUDA;
    else if (!strcmp(e, "auto"))
        *c = TP_CHOOSE_AUTO;
    else {
        static atomic_int warned; /* once per process, whichever thread sees it first */
        if (!atomic_fetch_add(&warned, 1))
            fprintf(stderr, "twinpix: warning: TWINPIX_BACKEND='%s' is not cpu, cuda or auto; ignored\n", e);
        return 0;
    }
    return 1;
}

tp_backend_id tp_choose_backend(tp_context *ctx, const tp_op_desc *op, const tp_image *const *in, int n_in)
{
    tp_backend_choice c = ctx->backend;
    const char *src = "context";
    if (env_choice(&c))
        src = "TWINPIX_BACKEND";
    int64_t pixels = n_in > 0 && in[0] ? tp_image_count(in[0]) : 0;
    const char *where = n_in > 0 && in[0] && in[0]->location == TP_DEVICE ? "device" : "host";
    if (c == TP_CHOOSE_CPU || c == TP_CHOOSE_CUDA) {
        tp_backend_id b = c == TP_CHOOSE_CPU ? TP_BACKEND_CPU : TP_BACKEND_CUDA;
        tp_debug(ctx, "%s: %lld px on %s -> %s (explicit, from %s)", op->name, (long long)pixels, where,
                 tp_backend_name(b), src);
        return b;
    }
    char why[256];
    if (!tp_backend_available(TP_BACKEND_CUDA, why, sizeof why) || !op->impl[TP_BACKEND_CUDA]) {
        tp_debug(ctx, "%s: %lld px on %s -> cpu (auto: %s)", op->name, (long long)pixels, where,
                 op->impl[TP_BACKEND_CUDA] ? why : "no CUDA implementation");
        return TP_BACKEND_CPU;
    }
    if (n_in > 0 && in[0] && in[0]->location == TP_DEVICE) {
        tp_debug(ctx, "%s: %lld px on device -> cuda (auto: data already on the device)", op->name,
                 (long long)pixels);
        return TP_BACKEND_CUDA;
    }
    /* one call from the host: the input goes up, an output of up to 4 bytes a pixel comes back */
    int64_t in_bytes = 0;
    for (int i = 0; i < n_in; i++)
        if (in[i])
            in_bytes += tp_image_count(in[i]) * (int64_t)tp_dtype_size(in[i]->dtype);
    const tp_calibration *cal = tp_calibration_get();
    double cpu = tp_predict_cpu_ms(cal, op->name, pixels);
    double gpu = tp_predict_cuda_ms(cal, op->name, pixels) + tp_predict_transfer_ms(cal, in_bytes, 1) +
                 tp_predict_transfer_ms(cal, 4 * pixels, 0);
    tp_backend_id b = gpu < cpu ? TP_BACKEND_CUDA : TP_BACKEND_CPU;
    const char *rule = "";
    int64_t cross = tp_calibration_crossover(op->name, &rule);
    tp_debug(ctx, "%s: %lld px on host -> %s (auto: predicted cpu %.3f ms vs cuda+transfers %.3f ms; crossover %lld px; %s)",
             op->name, (long long)pixels, tp_backend_name(b), cpu, gpu, (long long)cross, rule);
    return b;
}

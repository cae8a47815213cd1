/* Device timing when CUDA is not built: every call says there is no device (gpu/timing.cu otherwise). */
#include "bench/gpu_timing.h"

#ifndef TP_HAVE_CUDA
static tp_status no_device(tp_context *ctx)
{
    return tp_error(ctx, TP_ERR_NO_DEVICE, "device timing: twinpix was built without CUDA");
}

tp_status tp_cuda_timer_create(tp_context *ctx, tp_cuda_timer **timer)
{
    *timer = NULL;
    return no_device(ctx);
}

void tp_cuda_timer_destroy(tp_cuda_timer *timer) { (void)timer; }

tp_status tp_cuda_timer_record(tp_context *ctx, tp_cuda_timer *timer, int mark)
{
    (void)timer;
    (void)mark;
    return no_device(ctx);
}

tp_status tp_cuda_timer_elapsed_ms(tp_context *ctx, tp_cuda_timer *timer, int from, int to, double *ms)
{
    (void)timer;
    (void)from;
    (void)to;
    *ms = 0;
    return no_device(ctx);
}

tp_status tp_cuda_measure_copy_bandwidth(tp_context *ctx, int64_t bytes, double *gbs)
{
    (void)bytes;
    *gbs = 0;
    return no_device(ctx);
}

int64_t tp_cuda_l2_bytes(tp_context *ctx)
{
    (void)ctx;
    return 0;
}
#else
/* ISO C forbids an empty translation unit. */
typedef int tp_gpu_timing_stub_unused;
#endif

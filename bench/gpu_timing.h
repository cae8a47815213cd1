/*
 * Device timing for the benchmarks and the calibration, callable from C: CUDA events recorded on the
 * context's stream, the device-to-device copy bandwidth (the roofline the reports compare against) and the
 * L2 size (whether rotating input sets is needed). gpu/timing.cu implements them when CUDA is built;
 * bench/gpu_timing_stub.c answers TP_ERR_NO_DEVICE otherwise.
 */
#ifndef TP_BENCH_GPU_TIMING_H
#define TP_BENCH_GPU_TIMING_H

#include "twinpix/internal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Up to this many marks per timer: enough for a pipeline's stages plus transfers. */
#define TP_CUDA_TIMER_MARKS 16

typedef struct tp_cuda_timer tp_cuda_timer;

/* Create TP_CUDA_TIMER_MARKS events on ctx's device. Errors: TP_ERR_NO_DEVICE, TP_ERR_CUDA, TP_ERR_NOMEM. */
tp_status tp_cuda_timer_create(tp_context *ctx, tp_cuda_timer **timer);
void tp_cuda_timer_destroy(tp_cuda_timer *timer);
/* Record mark (0..TP_CUDA_TIMER_MARKS-1) on ctx's stream: it completes when the work queued before it does. */
tp_status tp_cuda_timer_record(tp_context *ctx, tp_cuda_timer *timer, int mark);
/* Milliseconds between two recorded marks; waits for mark `to` to complete. */
tp_status tp_cuda_timer_elapsed_ms(tp_context *ctx, tp_cuda_timer *timer, int from, int to, double *ms);

/* Device-to-device copy bandwidth in GB/s (1e9 bytes/s, bytes read + bytes written) for buffers of `bytes`:
 * the median of several timed cudaMemcpyAsync after a warm-up. Allocates 2 x bytes through the backend (so
 * TWINPIX_DEVICE_MEM_LIMIT applies). */
tp_status tp_cuda_measure_copy_bandwidth(tp_context *ctx, int64_t bytes, double *gbs);

/* L2 cache size of ctx's device in bytes, 0 when no device. */
int64_t tp_cuda_l2_bytes(tp_context *ctx);

#ifdef __cplusplus
}
#endif
#endif

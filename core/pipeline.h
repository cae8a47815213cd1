/* Pipelines as data: a list of steps, each an op with parameters and named inputs ("input" or an earlier
 * step's name). A parameter value "@step" passes that step's result as an image parameter (e.g. the
 * threshold stays on the device). One runner serves `twinpix run`, the harness and the benchmarks. */
#ifndef TP_CORE_PIPELINE_H
#define TP_CORE_PIPELINE_H
#include "twinpix/internal.h"

#define TP_PIPE_MAX_STEPS 32

typedef struct tp_pipe_step {
    char name[48];        /* the step's output name */
    char op[48];
    char inputs[4][48];   /* "input" or an earlier step name; "" = none */
    char params[512];     /* "k=v;k=v", values "@step" refer to earlier results */
    int only_if_channels; /* skip (pass input through) when the input has no channel axis */
} tp_pipe_step;

typedef struct tp_pipeline {
    char name[64];
    int n;
    tp_pipe_step steps[TP_PIPE_MAX_STEPS];
} tp_pipeline;

/* The seed tutorial's pipeline (../shared/seed): channel 1, gaussian sigma=5, Otsu, threshold,
 * binary_erosion disk(2), label, label2rgb, regionprops_table(label, area, mean_intensity, solidity). */
void tp_pipeline_seed(tp_pipeline *p);

/* Override one step's parameter: "step.param=value". */
tp_status tp_pipeline_set(tp_context *ctx, tp_pipeline *p, const char *assignment);

/* Called after each step; result is owned by the runner (valid until tp_pipeline_run returns). ms is the
 * step's wall time (device work synchronised). Return non-zero to stop. */
typedef int (*tp_pipe_cb)(void *user, int step, const tp_pipe_step *s, const tp_result *result, double ms);

/* Run on a backend. With TP_BACKEND_CUDA and a host input, the input is uploaded once (upload_ms) and every
 * intermediate stays on the device; results are passed to cb as they are (device-resident on CUDA). */
tp_status tp_pipeline_run(tp_context *ctx, const tp_pipeline *p, tp_backend_id backend, const tp_image *input,
                          tp_pipe_cb cb, void *user, double *upload_ms);

/* Decide the backend for the whole pipeline on this input (auto): one upload, one download, the sum of the
 * ops' predicted times (core/calibration.h). */
tp_backend_id tp_pipeline_choose(tp_context *ctx, const tp_pipeline *p, const tp_image *input, char *why,
                                 size_t why_len);
#endif

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
/* The peers' pipeline (../shared/PERFORMANCE.md: what cuCIM and OpenCV ran), "seed-core": the seed's steps and
 * parameters without label2rgb. Meant for one grey channel, where extract_channel passes the input through
 * (only_if_channels); an RGB input still gets channel 1. */
void tp_pipeline_seed_core(tp_pipeline *p);

/* Override one step's parameter: "step.param=value". */
tp_status tp_pipeline_set(tp_context *ctx, tp_pipeline *p, const char *assignment);

/* Called after each step with that step's result (NULL for a skipped step). The result is owned by the
 * runner and valid during the callback only: right after it returns, the runner frees every result that no
 * later step reads (as an input or through an "@step" parameter), this one included when nothing reads it;
 * a callback that needs data later copies it (or reduces it, e.g. to a digest). ms is the step's wall time
 * (device work synchronised; the callback's own time is not in it). Return non-zero to stop. */
typedef int (*tp_pipe_cb)(void *user, int step, const tp_pipe_step *s, const tp_result *result, double ms);

/* Called just before a step runs (after the runner freed what earlier steps no longer need), e.g. to reset
 * a peak-memory counter so that the callback reads the step's own peak. */
typedef void (*tp_pipe_before_cb)(void *user, int step, const tp_pipe_step *s);

/* What the runner held, per step (filled when tp_pipe_opts.stats is set). "Held" counts the bytes of the
 * pipeline's data: the input (the caller's image, or the runner's device copy of it) and every step result
 * not yet freed; the ops' own scratch is not in it (tp_device_mem_peak and the host RSS see that). */
typedef struct tp_pipe_stats {
    int64_t held_during[TP_PIPE_MAX_STEPS]; /* while step i ran: what it reads and what it wrote */
    int64_t held_after[TP_PIPE_MAX_STEPS];  /* after step i's callback and the frees that follow it */
    int results_live[TP_PIPE_MAX_STEPS];    /* step results still held after step i (input not counted) */
    int64_t peak_held;                      /* max of held_during */
    int freed;                              /* results freed before the run ended (liveness) */
    double wall_ms;                         /* the whole run: upload, steps, callbacks, frees */
} tp_pipe_stats;

typedef struct tp_pipe_opts {
    tp_pipe_cb cb;            /* may be NULL */
    tp_pipe_before_cb before; /* may be NULL */
    void *user;
    double *upload_ms;        /* may be NULL */
    tp_pipe_stats *stats;     /* may be NULL */
} tp_pipe_opts;

/* Run on a backend. With TP_BACKEND_CUDA and a host input, the input is uploaded once (upload_ms) and every
 * intermediate stays on the device; results are passed to cb as they are (device-resident on CUDA). Each
 * result is freed as soon as no later step reads it, so the peak is the largest set of results alive
 * together, not the sum of all of them (see tp_pipe_cb). */
tp_status tp_pipeline_run(tp_context *ctx, const tp_pipeline *p, tp_backend_id backend, const tp_image *input,
                          tp_pipe_cb cb, void *user, double *upload_ms);
/* The same with the before-step hook and the statistics. */
tp_status tp_pipeline_run_opts(tp_context *ctx, const tp_pipeline *p, tp_backend_id backend, const tp_image *input,
                               const tp_pipe_opts *opts);

/* Decide the backend for the whole pipeline on this input (auto): one upload, one download, the sum of the
 * ops' predicted times (core/calibration.h). */
tp_backend_id tp_pipeline_choose(tp_context *ctx, const tp_pipeline *p, const tp_image *input, char *why,
                                 size_t why_len);
#endif

/*
 * The benchmark suite's internals (`twinpix bench`): what one measurement is (a case: op, shape, backend),
 * how it is measured (a runner: inputs prepared once, a warm-up, then one sample per call), and the report
 * that collects the results and writes bench.json, report.md and report.html (bench/README.md describes
 * the schema). The measuring functions are plain C so `twinpix calibrate` can reuse them without Google
 * Benchmark.
 */
#ifndef TP_BENCH_BENCH_H
#define TP_BENCH_BENCH_H

#include "twinpix/internal.h"

#include <math.h>
#include <stdio.h>

#define TP_BENCH_SCHEMA "twinpix.bench/1"

/* ---- backends as the reports name them ---- */
typedef enum tp_bench_backend {
    TP_BENCH_CPU_1T = 0,        /* "cpu-1t": the CPU reference on one thread */
    TP_BENCH_CPU_NT,            /* "cpu-Nt": on all threads (or --threads N); the result says how many */
    TP_BENCH_CUDA,              /* "cuda": inputs already on the device, output left there */
    TP_BENCH_CUDA_TRANSFERS,    /* "cuda+transfers": host image in, host result out (H2D + compute + D2H); for the
                                 * pipelines: host image in, host table out (TP_BENCH_PIPE_IO_HOST_TABLE; seed-core:
                                 * TP_BENCH_PIPE_IO_PINNED_HOST_TABLE) */
    TP_BENCH_BACKEND_COUNT
} tp_bench_backend;

const char *tp_bench_backend_name(tp_bench_backend b);
/* Parse a report name ("cpu-1t", "cpu-Nt", "cuda", "cuda+transfers"); -1 when unknown. */
int tp_bench_backend_parse(const char *s, tp_bench_backend *out);
static inline int tp_bench_backend_is_cuda(tp_bench_backend b)
{
    return b == TP_BENCH_CUDA || b == TP_BENCH_CUDA_TRANSFERS;
}

/* ---- statistics of a set of samples (milliseconds) ---- */
typedef struct tp_bench_stats {
    double median_ms, min_ms, max_ms, stddev_ms; /* NAN when there are no samples */
    int64_t samples;
} tp_bench_stats;
/* Sorts ms in place. stddev is the sample standard deviation (n - 1), 0 for one sample. */
void tp_bench_stats_compute(double *ms, int64_t n, tp_bench_stats *out);

/* A growable array of samples. */
typedef struct tp_bench_samples {
    double *v;
    int64_t n, cap;
} tp_bench_samples;
int tp_bench_samples_push(tp_bench_samples *s, double ms); /* 0, or -1 when out of memory */
void tp_bench_samples_free(tp_bench_samples *s);

/* "640x640", "64x64x64" */
void tp_bench_shape_str(int ndim, const int64_t *shape, char *out, size_t n);
int64_t tp_bench_pixels(int ndim, const int64_t *shape);

/* ---- one op measurement ---- */
typedef struct tp_bench_case {
    const tp_op_desc *op;
    const char *params;     /* "name=value;name=value" (the op's first case) */
    int ndim;
    int64_t shape[3];
    tp_dtype gray_dtype;    /* dtype of "gray" inputs (uint8 unless --dtype) */
    tp_bench_backend backend;
    int threads;            /* threads of cpu-Nt */
    int device;             /* CUDA ordinal */
    uint64_t seed;
    int no_rotate;          /* "cuda": one input set even when it fits in L2 (hot-cache figures) */
    int64_t regions;        /* 0: the generator's nuclei; > 0: a "labels" input (and the gray intensity image
                             * beside it) drawn with the nucleus radius that gives about this many regions
                             * (tp_bench_radius_for_regions); the report names the case tp_bench_case_label */
} tp_bench_case;

/* numpy name of the dtype of the case's first input ("uint8", "bool", "int32") */
const char *tp_bench_case_dtype_name(const tp_bench_case *c);

typedef struct tp_bench_sample {
    double ms;              /* the whole measured region */
    double h2d_ms, d2h_ms;  /* cuda+transfers: the parts (device events); NAN otherwise */
} tp_bench_sample;

typedef struct tp_bench_runner tp_bench_runner;

/* Generate and place the inputs (uploaded once for "cuda"; several copies rotated when they fit in L2),
 * then run a warm-up call that also measures peak memory. Errors (the op's own: unsupported, no device,
 * out of memory...) are recorded in err_ctx. */
tp_status tp_bench_runner_create(tp_context *err_ctx, const tp_bench_case *c, tp_bench_runner **out);
/* One measured call. */
tp_status tp_bench_runner_once(tp_context *err_ctx, tp_bench_runner *r, tp_bench_sample *s);
void tp_bench_runner_destroy(tp_bench_runner *r);

typedef struct tp_bench_runner_facts {
    char dtype[16];             /* the first input's dtype */
    char params[256];           /* the case measured (another than asked when that one does not apply) */
    int64_t bytes_min;          /* inputs read once + outputs written once */
    int64_t peak_device_bytes;  /* -1 when not applicable */
    int64_t peak_host_bytes;    /* -1 when not measurable */
    int input_sets;             /* rotated input copies on the device (1 elsewhere) */
    int64_t regions;            /* regions (the largest label) of a "labels" first input; -1 for other kinds */
} tp_bench_runner_facts;
void tp_bench_runner_get_facts(const tp_bench_runner *r, tp_bench_runner_facts *f);

/* For `twinpix calibrate` and other C callers: measure op (first case's parameters, synthetic input of its
 * input_kind) on shape for at least min_time_s (0: 0.2 s) and at least 3 calls; the median in ms. ctx gives
 * the device and, for TP_BENCH_CPU_NT, the thread count; errors are recorded there. */
tp_status tp_bench_measure_op(tp_context *ctx, const tp_op_desc *op, int ndim, const int64_t *shape,
                              tp_bench_backend backend, double min_time_s, double *median_ms);

/* Host inputs are cached (keyed by kind, shape, dtype, seed) while consecutive cases share them. */
void tp_bench_input_cache_clear(void);

/* Split "a=1;colors=red;lime;b=2" into tp_params (a segment without '=' continues the previous value, for
 * ';'-separated lists); NULL or "" gives empty params. */
tp_status tp_bench_params_from_case(tp_context *ctx, const char *text, tp_params **out);

/* How peak host memory is measured here (for the report's meta). */
const char *tp_bench_peak_host_method(void);
/* Host-side peak measurement around a region: begin resets the high-water mark where the kernel allows it. */
typedef struct tp_bench_host_peak {
    int64_t base;
    int method; /* 1: VmHWM after clear_refs; 2: ru_maxrss delta; 0: none */
} tp_bench_host_peak;
void tp_bench_host_peak_begin(tp_bench_host_peak *p);
int64_t tp_bench_host_peak_end(const tp_bench_host_peak *p); /* bytes, -1 when unknown */

double tp_bench_now_ms(void);

/* ---- report ---- */
typedef struct tp_bench_result {
    char op[48];
    int ndim;
    int64_t shape[3];
    char dtype[16];
    tp_bench_backend backend;
    int threads;
    char params[256];
    int skipped;
    char skip_reason[512];
    tp_bench_stats t;
    int64_t bytes_min;          /* -1: unknown */
    double fraction_of_copy_bw; /* cuda only; NAN: null */
    double h2d_ms, d2h_ms;      /* cuda+transfers only (medians); NAN: null */
    int64_t peak_device_bytes;  /* -1: null */
    int64_t peak_host_bytes;    /* -1: null */
    int input_sets;
    int64_t regions;            /* regions in a "labels" input (its largest label); -1: null (other kinds) */
} tp_bench_result;

#define TP_BENCH_MAX_STAGES 16
typedef struct tp_bench_stage {
    char name[48];
    double ms; /* median over the samples */
} tp_bench_stage;

/* What crosses the bus in a pipeline's cuda+transfers case (the pipeline result's io, bench.json's "io"):
 * the host image goes up, the regionprops table comes back (regionprops_table returns it in host memory);
 * seed's label2rgb overlay stays on the device (overlay_d2h_ms says what downloading it would add). seed's
 * host image is pageable (uploaded through the pinned staging buffer); seed-core's is page-locked
 * (tp_image_pin) for the case's lifetime, as PERFORMANCE.md's target has it, so its upload is a direct DMA. */
#define TP_BENCH_PIPE_IO_HOST_TABLE "host image in, host table out"
#define TP_BENCH_PIPE_IO_PINNED_HOST_TABLE "pinned host image in, host table out"

typedef struct tp_bench_pipeline_result {
    char name[64]; /* "seed" (rgb input, with label2rgb) or "seed-core" (one grey channel, PERFORMANCE.md's) */
    int ndim;
    int64_t shape[3];
    char dtype[16];
    tp_bench_backend backend;
    int threads;
    int skipped;
    char skip_reason[512];
    int nstages;
    tp_bench_stage stages[TP_BENCH_MAX_STAGES];
    tp_bench_stats total;       /* of the whole pipeline per run */
    int64_t peak_device_bytes;  /* -1: null */
    int64_t peak_host_bytes;    /* -1: null */
    char io[64];                /* what crosses the bus ("" when nothing is said: cpu, cuda, older reports) */
    double overlay_d2h_ms;      /* cuda+transfers: median of downloading the device outputs nobody consumes (the
                                 * label2rgb overlay) into new host images, after the run and outside its total;
                                 * NAN: not measured */
    int64_t overlay_bytes;      /* their bytes; -1: null */
} tp_bench_pipeline_result;

typedef struct tp_bench_speedup {
    char op[48];
    int ndim;
    int64_t shape[3];
    char dtype[16];
    double cpu_ms, gpu_ms, gpu_with_transfers_ms; /* NAN: not measured */
    double speedup, speedup_with_transfers;       /* cpu_ms / gpu_ms; NAN when either is missing */
} tp_bench_speedup;

typedef struct tp_bench_crossover {
    char op[48];
    char dtype[16];
    int64_t pixels; /* -1: the GPU with transfers never wins from some measured size on (null) */
    int points;     /* sizes where both were measured */
} tp_bench_crossover;

typedef struct tp_bench_delta {
    char kind[16]; /* "op" or "pipeline" */
    char op[80];   /* the op, or "pipeline:NAME" */
    int ndim;
    int64_t shape[3];
    char dtype[16];
    char backend[24];
    double old_ms, new_ms, ratio; /* ratio = new / old: < 1 faster */
    int verdict;                  /* -1 faster, 0 within the noise band, +1 slower */
} tp_bench_delta;

typedef struct tp_bench_report {
    tp_meta meta;
    int gpu_available;      /* GPU columns present: a device was there and GPU backends were run */
    char gpu_reason[256];   /* why there are no GPU columns */
    double copy_bw_gbs;     /* NAN: not measured */
    char date[40];
    char argv[1024];
    int quick;
    double min_time_s;
    int cpu_threads;        /* threads of cpu-Nt */
    char peak_host_method[256];
    tp_bench_result *results;
    int nresults, cap_results;
    tp_bench_pipeline_result *pipelines;
    int npipelines, cap_pipelines;
    tp_bench_speedup *speedups;
    int nspeedups;
    tp_bench_crossover *crossovers;
    int ncrossovers;
    tp_bench_delta *deltas;
    int ndeltas;
    char compare_path[1024]; /* "" when no comparison */
    double compare_band;     /* relative band counted as unchanged (0.05) */
} tp_bench_report;

void tp_bench_report_init(tp_bench_report *r);
void tp_bench_report_free(tp_bench_report *r);
/* New zeroed entries with null markers set (NAN, -1); NULL when out of memory. */
tp_bench_result *tp_bench_report_add_result(tp_bench_report *r);
tp_bench_pipeline_result *tp_bench_report_add_pipeline(tp_bench_report *r);

/* Smallest pixel count from which the GPU (with transfers) beats the CPU at every larger measured size
 * too; -1 when it does not win at the largest. Entries with a NAN time are ignored. */
int64_t tp_bench_crossover_pixels(int n, const int64_t *pixels, const double *cpu_ms, const double *gpu_ms);
/* Fill speedups and crossovers from the results (cpu-Nt against cuda and cuda+transfers). */
tp_status tp_bench_report_derive(tp_bench_report *r);

/* Compare with an older bench.json: fills r->deltas (every op/shape/dtype/backend and pipeline present in
 * both with times). Errors: TP_ERR_IO (unreadable, not JSON, another schema). */
tp_status tp_bench_report_compare(tp_context *ctx, tp_bench_report *r, const char *old_json_path);
void tp_bench_print_comparison(const tp_bench_report *r, FILE *f);
/* Read a bench.json back (meta, results, pipeline, comparison) and derive speedups and crossovers, so its
 * Markdown and HTML can be written again. Errors: TP_ERR_IO (unreadable, not JSON, another schema). */
tp_status tp_bench_report_load(tp_context *ctx, tp_bench_report *r, const char *path);

/* ---- the performance targets of ../shared/PERFORMANCE.md (bench/targets.c) ----
 * Each target is data: PERFORMANCE.md's words, which result of a run it reads (an op's or a pipeline's, by
 * name, shape, dtype, backend, and for pipelines what crossed the bus), the figure and the rule, the peers'
 * figure for context and what bounds it. A report judges them on the results it holds, never on figures
 * written here: a target whose result the run does not have is "not in this run". */
typedef enum tp_bench_metric {
    TP_BENCH_METRIC_MS = 0,     /* an op's median_ms, a pipeline's total_ms */
    TP_BENCH_METRIC_DEVICE_BPP, /* a pipeline's peak_device_bytes per pixel */
    TP_BENCH_METRIC_HOST_BPP,   /* a pipeline's peak_host_bytes per pixel */
    TP_BENCH_METRIC_FLOOR_X     /* an op's time over its bytes floor: 1 / fraction_of_copy_bw (cuda) */
} tp_bench_metric;

typedef enum tp_bench_rule {
    TP_BENCH_RULE_AT_MOST = 0,  /* met when measured <= target ("<= 0.25 ms") */
    TP_BENCH_RULE_BELOW         /* met when measured < target ("faster than OpenCV's 433 ms") */
} tp_bench_rule;

typedef struct tp_bench_target {
    const char *what;           /* as PERFORMANCE.md words it */
    int pipeline;               /* 0: an op's result; 1: a pipeline's */
    const char *name;           /* the op or the pipeline */
    int64_t regions;            /* > 0: the op's region-count case, OP[regions=N] (tp_bench_case_label) */
    const char *params;         /* ops: the case the target is about (the result's params); NULL: any */
    int64_t side;               /* the square measured: side x side */
    const char *dtype;          /* of the first input */
    tp_bench_backend backend;
    const char *io;             /* pipelines: what crossed the bus (the result's io); NULL: any */
    tp_bench_metric metric;
    tp_bench_rule rule;
    double target;              /* ms, or bytes per pixel */
    const char *peer;           /* the peers' figure from PERFORMANCE.md, for context; "-" when none */
    const char *bound;          /* one line: what bounds it (floors, the contract, what the measurement holds) */
    const char *how;            /* the smallest `twinpix bench` that measures it */
    int ndim;                   /* 3: a cube, side^3; otherwise the square side x side */
} tp_bench_target;

typedef enum tp_bench_target_status {
    TP_BENCH_TARGET_ABSENT = 0, /* "not in this run": no result, a skipped one, or another case */
    TP_BENCH_TARGET_MET,
    TP_BENCH_TARGET_MISSED
} tp_bench_target_status;

typedef struct tp_bench_target_eval {
    tp_bench_target_status status;
    double measured;            /* ms or bytes per pixel; NAN when absent */
    double ratio;               /* measured / target; NAN when absent */
    int threads;                /* the result's threads (cpu-Nt: how many it ran on); 0 when not a CPU result */
    int64_t regions;            /* regions in the result's labels (region-count cases); -1 otherwise */
    char reason[680];           /* absent: why ("no result", "skipped: ...", "measured with params ..."); else "" */
} tp_bench_target_eval;

/* The targets, in PERFORMANCE.md's order; *count is set. */
const tp_bench_target *tp_bench_targets(int *count);
/* Judge one target on the report's results. */
void tp_bench_target_evaluate(const tp_bench_report *r, const tp_bench_target *t, tp_bench_target_eval *out);
const char *tp_bench_target_status_name(tp_bench_target_status s); /* "met", "missed", "not in this run" */
const char *tp_bench_metric_name(tp_bench_metric m);
int tp_bench_target_ndim(const tp_bench_target *t); /* 2 (side x side) or 3 (side^3) */  /* bench.json: "ms", "peak_device_bytes_per_pixel", ... */
/* What the target reads, as the reports name it: "gaussian 8192x8192 uint8 cuda",
 * "pipeline seed-core 8192x8192 cuda+transfers (pinned host image in, host table out)". */
void tp_bench_target_case(const tp_bench_target *t, char *out, size_t n);
/* "<= 0.25 ms", "< 433 ms", "<= 16 B/px" */
void tp_bench_target_rule_str(const tp_bench_target *t, char *out, size_t n);

tp_status tp_bench_write_json(tp_context *ctx, const tp_bench_report *r, const char *path);
tp_status tp_bench_write_markdown(tp_context *ctx, const tp_bench_report *r, const char *path);
tp_status tp_bench_write_html(tp_context *ctx, const tp_bench_report *r, const char *path);

/* ---- the suite (bench/cases.c, bench/pipeline.c): registration with Google Benchmark ---- */
typedef struct tp_bench_config {
    int quick;
    double min_time_s;
    int threads;                        /* cpu-Nt */
    int device;
    tp_dtype gray_dtype;
    int backends[TP_BENCH_BACKEND_COUNT]; /* which to run */
    const char **ops;                   /* NULL: all */
    int nops;
    int nsizes;                         /* 0: the descriptors' sizes (or quick sizes) */
    int size_ndim[16];
    int64_t sizes[16][3];
    int no_rotate;                      /* --no-rotate */
    int64_t regions;                    /* --regions N: labels-input ops also with ~N regions (0: none) */
    int pipeline;                       /* run the pipelines too (seed, seed-core) */
    int op_cases;                       /* run the op cases */
} tp_bench_config;

/* One registered benchmark: the active one keeps its inputs; activating another finishes it. */
typedef struct tp_bench_item tp_bench_item;
struct tp_bench_item {
    char name[192];
    int index;                          /* 0-based, in registration order */
    int done;
    double started_ms;
    void (*finish)(tp_bench_item *it);  /* release resources, fill the report entry, print progress */
    void (*destroy)(tp_bench_item *it); /* free the item */
};
/* Track an item (numbers it); tp_bench_items_release destroys them all. */
int tp_bench_items_add(tp_bench_item *it);
int tp_bench_items_count(void);
const tp_bench_item *tp_bench_item_at(int i);
void tp_bench_items_release(void);
void tp_bench_item_activate(tp_bench_item *it);
void tp_bench_item_finish_active(void);
/* Progress on stderr: "[ 3/78] name ..." when an item starts, " what (s; total s)" when it ends. */
void tp_bench_progress(const tp_bench_item *it, const char *what);
void tp_bench_set_progress_total(int total);

int tp_bench_op_selected(const tp_bench_config *cfg, const tp_op_desc *op);

/* ---- what a run holds beyond the descriptors' sizes (bench/plan.c; plain C, no Google Benchmark) ---- */
/* cpu-1t is not run above this many pixels (8192^2 = 2^26) unless the sizes were asked for with --size: at
 * 512^3 (2^27 voxels) one thread would take ~9 s a call for regionprops_table alone. */
#define TP_BENCH_CPU_1T_MAX_PIXELS ((int64_t)1 << 26)
/* 1 (and why) when the run leaves this backend out at this shape: the case is registered and reported as
 * skipped with that reason; 0 when it runs. */
int tp_bench_rule_skip(const tp_bench_config *cfg, tp_bench_backend be, int ndim, const int64_t *shape, char *why,
                       size_t why_len);
/* The region counts of the extra cases of op at this shape (a shape of the run that the op takes): the
 * built-in targets (regionprops_table at 8192^2 with ~2000 regions) and --regions N for ops whose input is
 * "labels". Returns how many were written to out (at most max). */
int tp_bench_region_variants(const tp_bench_config *cfg, const tp_op_desc *op, int ndim, const int64_t *shape,
                             int64_t *out, int max);
/* The mean nucleus radius (tp_synth_params.radius) that gives about `regions` labels at this shape: the
 * generator's labels per area (2D) or volume (3D) at a radius r is close to k / r^2 (k / r^3), k measured. */
double tp_bench_radius_for_regions(int ndim, const int64_t *shape, int64_t regions);
/* The op's name as results and reports give it: "regionprops_table", or "regionprops_table[regions=2000]". */
void tp_bench_case_label(const char *op, int64_t regions, char *out, size_t n);
/* Register the op cases / the seed pipelines with Google Benchmark; entries are appended to r as each
 * finishes. Return the count registered, -1 on error (message in ctx). */
int tp_bench_register_cases(tp_context *ctx, const tp_bench_config *cfg, tp_bench_report *r);
int tp_bench_register_pipelines(tp_context *ctx, const tp_bench_config *cfg, tp_bench_report *r);
void tp_bench_cases_release(void);
#endif

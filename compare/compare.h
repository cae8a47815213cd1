/* `twinpix compare` internals: the case matrix (matrix.c), running cases and pipelines on both backends
 * (run.c, pipeline.c), and the reports (report.c). The entry point is tp_compare_main (compare_cli.c). */
#ifndef TP_COMPARE_H
#define TP_COMPARE_H
#include "compare/contracts.h"
#include "datasets/datasets.h"

#include <cjson/cJSON.h>

#define TP_CMP_MAX_LIST 64
#define TP_CMP_MAX_DATASETS 64
#define TP_CMP_PARAMS_LEN 512

/* Hidden fault injection (tests only): the "GPU" side is a second CPU run on one thread, so the whole
 * harness can be exercised where there is no GPU; PERTURB also corrupts that second result slightly. */
typedef enum tp_cmp_fault { TP_FAULT_OFF = 0, TP_FAULT_TWIN = 1, TP_FAULT_PERTURB = 2 } tp_cmp_fault;

typedef struct tp_cmp_options {
    const char *ops[TP_CMP_MAX_LIST];
    int n_ops;
    const char *datasets[TP_CMP_MAX_LIST]; /* "synthetic" or dataset names; none given = all */
    int n_datasets;
    int64_t sizes[TP_CMP_MAX_LIST];
    int n_sizes;
    const char *pipeline_files[TP_CMP_MAX_LIST];
    int n_pipeline_files;
    bool quick, require_gpu, no_pipelines;
    int threads;         /* 0 = all */
    const char *out_dir; /* NULL: text summary on stdout only */
    tp_cmp_fault fault;
    char fault_stage[64]; /* PERTURB: pipeline stage to corrupt ("" = the first) */
} tp_cmp_options;

/* ---- the matrix ---- */
typedef struct tp_cmp_case {
    const tp_op_desc *op;
    int case_index;                 /* index into op->cases */
    char params[TP_CMP_PARAMS_LEN]; /* "name=value;..." adapted to the input's dimension */
    int dataset;                    /* -1: synthetic; else index into the dataset list */
    int ndim;                       /* spatial dimensions (synthetic) */
    int64_t shape[3];               /* spatial extents (synthetic) */
    tp_dtype dtype;                 /* dtype of the first input */
    uint64_t seed;
    bool nonfinite;                 /* the float inputs hold NaN, +inf and -inf (docs/nonfinite.md): the first
                                       input when dtype is float, else the later inputs that accept
                                       nonfinite_dtype, made in that dtype */
    tp_dtype nonfinite_dtype;       /* TP_FLOAT32 or TP_FLOAT64 when nonfinite */
} tp_cmp_case;

typedef struct tp_cmp_cases {
    tp_cmp_case *v;
    int64_t n, cap;
} tp_cmp_cases;

/* The real images the run may use, loaded once. */
typedef struct tp_cmp_data {
    tp_dataset ds[TP_CMP_MAX_DATASETS];
    tp_image img[TP_CMP_MAX_DATASETS]; /* empty until loaded */
    char load_error[TP_CMP_MAX_DATASETS][256];
    int n;
    bool synthetic; /* synthetic cases wanted */
} tp_cmp_data;

/* A dataset that holds labels (an integer image of labels, not intensities). */
bool tp_cmp_dataset_is_labels(const tp_dataset *d);

/* Cases for every op of the registry (filtered by --op), its cases, declared dtypes and dimensions, the
 * sizes, and the selected real images. */
tp_status tp_cmp_build_matrix(tp_context *ctx, const tp_cmp_options *o, const tp_cmp_data *data, tp_cmp_cases *out);
void tp_cmp_cases_free(tp_cmp_cases *c);

/* Split "a=1;b=2;colors=red;lime" into name/value pairs (a part without '=' continues the previous
 * value, so colour lists keep their ';'). Calls fn for each; stops and returns fn's nonzero result. */
typedef int (*tp_cmp_param_fn)(void *user, const char *name, const char *value);
int tp_cmp_params_each(const char *params, tp_cmp_param_fn fn, void *user);
/* Rewrite a parameter set written for 2D for an image of `ndim` spatial dimensions (footprints: disk ->
 * ball, square -> cube, diamond -> octahedron, rectangle -> cuboid, cross -> cross3; per-axis sequences
 * padded or trimmed). Driven by the parameter types of the descriptor, never by op names. */
void tp_cmp_params_adapt(const tp_op_desc *op, const char *in, int ndim, char *out, size_t len);

/* Inputs of a case, on the host: in[0] per the op's input_kind, further inputs intensity images of the
 * same spatial shape; for a nonfinite case the float inputs carry NaN, +inf and -inf (tp_cmp_poison).
 * Cached: the images belong to the cache (do not free). */
typedef struct tp_cmp_input_cache tp_cmp_input_cache;
tp_cmp_input_cache *tp_cmp_input_cache_new(void);
void tp_cmp_input_cache_free(tp_cmp_input_cache *c);
tp_status tp_cmp_case_inputs(tp_context *ctx, tp_cmp_input_cache *cache, tp_cmp_data *data, const tp_cmp_case *c,
                             const tp_image *in[4], int *n_in);
/* Put NaN, +inf and -inf into a float32 / float64 host image (other dtypes are left alone): NaN first, +inf
 * last, -inf in the middle, and about one element in 47 more (chosen by seed), cycling through NaN, +inf,
 * -inf and a NaN with its sign bit and a payload. */
void tp_cmp_poison(tp_image *im, uint64_t seed);
/* A real image as an input of a given kind ("gray", "mask", "labels", "rgb"); TP_ERR_UNSUPPORTED when the
 * image cannot serve as that kind (e.g. "rgb" from a single-channel image). */
tp_status tp_cmp_dataset_as(tp_context *ctx, tp_cmp_data *data, int index, const char *kind, tp_image *out);

/* ---- the run ---- */
typedef struct tp_cmp_report tp_cmp_report;

typedef struct tp_cmp_run {
    tp_context *ctx;  /* the reference's context (threads from --threads) */
    tp_context *twin; /* fault injection: the second CPU run's context (one thread) */
    const tp_cmp_options *o;
    bool gpu_ok;
    char gpu_why[256];
    tp_cmp_data *data;
    tp_cmp_input_cache *cache;
    tp_cmp_report *rep;
} tp_cmp_run;

double tp_cmp_now_ms(void);
/* Run one case on both backends and add it to the report. Never fails: errors are verdicts. */
void tp_cmp_run_case(tp_cmp_run *run, const tp_cmp_case *c);
/* Corrupt a result slightly (fault injection): one element or one cell. */
void tp_cmp_perturb(tp_result *r);
/* "parameters" object of a params string */
cJSON *tp_cmp_params_json(const char *params);
cJSON *tp_cmp_contract_json(const tp_contract *k);
/* The verdict of a case or stage from both sides' status, error text and (host) results; adds "verdict",
 * "skip_reason" or "error", and "metrics" to j. */
void tp_cmp_judge(const tp_op_desc *op, tp_status cst, const char *cerr, const tp_result *cres, tp_status gst,
                  const char *gerr, const tp_result *gres, cJSON *j);
void tp_cmp_set_verdict(cJSON *j, const char *verdict, const char *skip_reason, const char *error);
/* "time_ms": {"cpu": x, "cuda": y}; NaN is written as null (that side did not run) */
void tp_cmp_add_time(cJSON *j, double cpu_ms, double cuda_ms);
/* Does a status mean "this input or parameter is not accepted" (as opposed to a failure)? */
bool tp_cmp_is_rejection(tp_status st);

/* ---- pipelines ---- */
#define TP_PIPE_MAX_STEPS 32
#define TP_PIPE_MAX_PARAMS 16

typedef struct tp_pipe_step {
    char op[64];
    char as[64];
    char when[32]; /* "" or "channels": run only when the pipeline's input has channels */
    int n_inputs;
    char inputs[4][64]; /* "$input" or "$name" of an earlier step, without the '$' */
    int n_params;
    char pname[TP_PIPE_MAX_PARAMS][64];
    char pval[TP_PIPE_MAX_PARAMS][256]; /* text, or "$name": an earlier step's output (image or scalar) */
} tp_pipe_step;

typedef struct tp_pipeline {
    char name[64];
    char description[256];
    int n_steps;
    tp_pipe_step steps[TP_PIPE_MAX_STEPS];
} tp_pipeline;

/* The built-in seed pipeline (the same as compare/pipelines/seed.json). */
const char *tp_pipeline_seed_json(void);
/* Parse one pipeline object, an array of them, or {"pipelines": [...]}; validates ops, parameter names
 * and references. Returns the count in *n (at most max). TP_ERR_ARG with the place of the error. */
tp_status tp_pipeline_parse(tp_context *ctx, const char *json, tp_pipeline *out, int max, int *n);
tp_status tp_pipeline_load(tp_context *ctx, const char *path, tp_pipeline *out, int max, int *n);
/* Run a pipeline on one input (host image) on both backends, stage by stage, and add it to the report. */
void tp_cmp_run_pipeline(tp_cmp_run *run, const tp_pipeline *p, const char *dataset, const tp_image *input);

/* ---- the report ---- */
tp_cmp_report *tp_cmp_report_new(const tp_meta *meta, const tp_cmp_options *o, int argc, char **argv,
                                 const char *gpu_why);
void tp_cmp_report_free(tp_cmp_report *r);
/* Takes ownership of the case / pipeline object; counts its "verdict". */
void tp_cmp_report_add_case(tp_cmp_report *r, cJSON *c);
void tp_cmp_report_add_pipeline(tp_cmp_report *r, cJSON *p);
void tp_cmp_report_counts(const tp_cmp_report *r, int *pass, int *fail, int *skip);
const cJSON *tp_cmp_report_root(const tp_cmp_report *r);
/* Finish the summary block (call once, after the last case). */
void tp_cmp_report_finish(tp_cmp_report *r, double wall_ms);
tp_status tp_cmp_write_json(tp_context *ctx, const tp_cmp_report *r, const char *path);
tp_status tp_cmp_write_junit(tp_context *ctx, const tp_cmp_report *r, const char *path);
/* The one-screen summary. */
void tp_cmp_write_text(const tp_cmp_report *r, FILE *f);
tp_status tp_cmp_write_text_file(tp_context *ctx, const tp_cmp_report *r, const char *path);
#endif

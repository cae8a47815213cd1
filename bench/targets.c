/* The performance targets of ../shared/PERFORMANCE.md ("Targets (H100, median, device-resident unless said)"),
 * as data, and how a report judges them: each reads one result of the run (an op's median, a pipeline's total
 * or peak memory per pixel) and compares it with the target. Nothing here holds a measured figure: a target
 * whose result the run lacks is "not in this run", with the command that measures it. Plain C, no Google
 * Benchmark: tests/test_bench.c feeds it made-up results.
 *
 * Floors in the notes are docs/perf_gpu.md's: bytes at the H100's 2970 GB/s device copy (read + written),
 * float64 arithmetic at ~16.7 T instructions/s without FMA, pinned transfers at 54 GB/s. "CPU reference, one
 * thread, every op: faster than scikit-image" is not here: a twinpix run holds no scikit-image timing. */
#include "bench/bench.h"

#include <string.h>

#define SQ8K 8192
#define HOW_OP(op) "twinpix bench --op " op " --size 8192 --backend cuda"
/* "3D: the same ops at 256^3 and 512^3 uint8, each within 2x of its bandwidth floor": the pipeline's ops, the
 * first case of each that applies in 3D (params NULL: any), judged on time / (minimum bytes at the copy rate
 * this run measured). */
#define FLOOR3(op, dtype, side, bound)                                                                         \
    {"3D: " op " at " #side "^3 within 2x of its bandwidth floor", 0, op, 0, NULL, side, dtype, TP_BENCH_CUDA,   \
     NULL, TP_BENCH_METRIC_FLOOR_X, TP_BENCH_RULE_AT_MOST, 2.0, "-", bound,                                   \
     "twinpix bench --op " op " --size " #side "^3 --backend cuda", 3}

static const tp_bench_target g_targets[] = {
    {"gaussian sigma=5, 8192^2 uint8 -> float32", 0, "gaussian", 0, "sigma=5", SQ8K, "uint8", TP_BENCH_CUDA, NULL,
     TP_BENCH_METRIC_MS, TP_BENCH_RULE_AT_MOST, 0.25, "cuCIM 2.34 ms, OpenCV 147 ms",
     "uint8 in, float64 out as scikit-image returns (not the target's float32); exact float64 arithmetic (no FMA) "
     "floors it at 0.49 ms: 122 float64 operations per pixel at 16.7 T/s",
     HOW_OP("gaussian"), 2},
    {"threshold_otsu, 8192^2 float32", 0, "threshold_otsu", 0, "nbins=256", SQ8K, "float32", TP_BENCH_CUDA, NULL,
     TP_BENCH_METRIC_MS, TP_BENCH_RULE_AT_MOST, 0.15, "cuCIM 2.32 ms, OpenCV 66 ms (uint8)",
     "268 MB of float32 read once is 0.09 ms; the float path reads it twice (range, then histogram) and waits "
     "once for the range (NaN/Inf check). A default run benches grey inputs as uint8 only",
     "twinpix bench --op threshold_otsu --dtype float32 --size 8192 --backend cuda", 2},
    {"binary_erosion disk(2), 8192^2", 0, "binary_erosion", 0, "footprint=disk:2", SQ8K, "bool", TP_BENCH_CUDA,
     NULL, TP_BENCH_METRIC_MS, TP_BENCH_RULE_AT_MOST, 0.10, "cuCIM 0.58 ms, OpenCV 10.7 ms",
     "bool in, bool out: 134 MB, 0.045 ms of bytes", HOW_OP("binary_erosion"), 2},
    {"label, 8192^2, 8-connectivity", 0, "label", 0, "", SQ8K, "bool", TP_BENCH_CUDA, NULL, TP_BENCH_METRIC_MS,
     TP_BENCH_RULE_AT_MOST, 0.6, "cuCIM 3.24 ms, OpenCV 54 ms",
     "bool in, int32 out: 336 MB, 0.11 ms of bytes; connectivity None is scikit-image's full (8 in 2D)",
     HOW_OP("label"), 2},
    {"label2rgb, 8192^2", 0, "label2rgb", 0, "", SQ8K, "int32", TP_BENCH_CUDA, NULL, TP_BENCH_METRIC_MS,
     TP_BENCH_RULE_AT_MOST, 0.5, "cuCIM 9.2 ms",
     "24 bytes per pixel of float64 RGB written (scikit-image's dtype) and the int32 labels read: 0.63 ms floor, "
     "above the target; the bench's case is the seed's call, label2rgb(labels)",
     HOW_OP("label2rgb"), 2},
    {"regionprops_table (area, mean_intensity, solidity, bbox, centroid), 8192^2, ~2000 regions", 0,
     "regionprops_table", 2000, "properties=label,area,intensity_mean,solidity,bbox,centroid", SQ8K, "int32",
     TP_BENCH_CUDA, NULL,
     TP_BENCH_METRIC_MS, TP_BENCH_RULE_AT_MOST, 2.0, "cuCIM 4179 ms",
     "int32 labels and uint8 intensity read once: 0.11 ms of bytes; the convex hulls (solidity) dominate",
     "twinpix bench --op regionprops_table --size 8192 --backend cuda", 2},
    {"whole pipeline, 8192^2, host image in, host table out (pinned)", 1, "seed-core", 0, NULL, SQ8K, "uint8",
     TP_BENCH_CUDA_TRANSFERS, TP_BENCH_PIPE_IO_PINNED_HOST_TABLE, TP_BENCH_METRIC_MS, TP_BENCH_RULE_AT_MOST, 8.0,
     "cuCIM 4128 ms, OpenCV 433 ms (no solidity)",
     "the 67 MB grey upload is 1.24 ms pinned at 54 GB/s; the steps' floors add about 1.1 ms, gaussian's float64 "
     "arithmetic (0.49 ms) the largest",
     "twinpix bench --pipeline-only --size 8192 --backend cuda+transfers", 2},
    {"whole pipeline, 640^2 (the seed's size), host in, host out", 1, "seed-core", 0, NULL, 640, "uint8",
     TP_BENCH_CUDA_TRANSFERS, TP_BENCH_PIPE_IO_PINNED_HOST_TABLE, TP_BENCH_METRIC_MS, TP_BENCH_RULE_AT_MOST, 0.3,
     "cuCIM 26 ms, OpenCV 5.2 ms (no solidity)",
     "launch latency, not bytes: about 45 kernel launches and 5 host waits (Otsu's error check; "
     "regionprops_table's runs, regions and table), and the tall regions' serial hull chains; the 410 KB "
     "upload is 8 us pinned",
     "twinpix bench --pipeline-only --size 640 --backend cuda+transfers", 2},
    {"CPU reference, whole pipeline incl. solidity, 8192^2, 16 threads", 1, "seed-core", 0, NULL, SQ8K, "uint8",
     TP_BENCH_CPU_NT, NULL, TP_BENCH_METRIC_MS, TP_BENCH_RULE_BELOW, 433.0, "OpenCV 433 ms (no solidity)",
     "faster than OpenCV's 433 ms without solidity; judged on this run's cpu-Nt, whatever its thread count "
     "(shown with the figure): the target is for the H100 host's 16",
     "twinpix bench --pipeline-only --size 8192 --backend cpu-Nt --threads 16", 2},
    {"peak memory, whole pipeline without label2rgb's output: device", 1, "seed-core", 0, NULL, SQ8K, "uint8",
     TP_BENCH_CUDA, NULL, TP_BENCH_METRIC_DEVICE_BPP, TP_BENCH_RULE_AT_MOST, 16.0, "-",
     "twinpix's device high-water mark in the warm-up run over pixels; each result is freed after its last "
     "reader, as `twinpix run` does: the input (1 B/px) and the float64 blur (8) live until threshold has "
     "read it, then the bool masks, int32 labels (4) and regionprops_table's scratch",
     "twinpix bench --pipeline-only --size 8192 --backend cuda", 2},
    {"peak memory, whole pipeline without label2rgb's output: host", 1, "seed-core", 0, NULL, SQ8K, "uint8",
     TP_BENCH_CPU_NT, NULL, TP_BENCH_METRIC_HOST_BPP, TP_BENCH_RULE_AT_MOST, 16.0, "-",
     "resident host memory the warm-up run added at its peak, input excluded, over pixels; each result is freed "
     "after its last reader (float64 blur 8 B/px while threshold reads it, then masks and int32 labels 4)",
     "twinpix bench --pipeline-only --size 8192 --backend cpu-Nt", 2},
    FLOOR3("gaussian", "uint8", 256, "uint8 in, float64 out; the exact float64 arithmetic alone (3 passes x 61 "
                                     "operations a voxel, no FMA) is 3.6x the bytes floor; z pass, then y and x "
                                     "fused: 25 B a voxel moved, ~50% of the float64 pipes"),
    FLOOR3("gaussian", "uint8", 512, "as at 256^3"),
    FLOOR3("threshold_otsu", "uint8", 256, "one read of the volume (one shared atomic a voxel), then a one-block "
                                           "choice; at 256^3 (17 MB, 6 us of bytes) two launches and the call dominate"),
    FLOOR3("threshold_otsu", "uint8", 512, "as at 256^3"),
    FLOOR3("binary_erosion", "bool", 256, "bool in, bool out; one fused pass (shared-memory tiles of packed rows and planes)"),
    FLOOR3("binary_erosion", "bool", 512, "as at 256^3; rows of up to 16 words: several rows a warp"),
    FLOOR3("label", "bool", 256, "bool in, int32 out; the tile union-find is latency-bound (dependent atomics)"),
    FLOOR3("label", "bool", 512, "as at 256^3"),
    FLOOR3("label2rgb", "int32", 256, "int32 in, 24 bytes a voxel out"),
    FLOOR3("label2rgb", "int32", 512, "as at 256^3"),
    FLOOR3("regionprops_table", "int32", 256, "the 3D convex hulls (solidity): each region's quickhull is one "
                                              "warp's serial walk of dependent loads (~2/3 of the op at 512^3)"),
    FLOOR3("regionprops_table", "int32", 512, "as at 256^3"),
};

const tp_bench_target *tp_bench_targets(int *count)
{
    *count = (int)(sizeof g_targets / sizeof g_targets[0]);
    return g_targets;
}

const char *tp_bench_target_status_name(tp_bench_target_status s)
{
    return s == TP_BENCH_TARGET_MET ? "met" : s == TP_BENCH_TARGET_MISSED ? "missed" : "not in this run";
}

const char *tp_bench_metric_name(tp_bench_metric m)
{
    return m == TP_BENCH_METRIC_DEVICE_BPP ? "peak_device_bytes_per_pixel"
           : m == TP_BENCH_METRIC_HOST_BPP ? "peak_host_bytes_per_pixel"
           : m == TP_BENCH_METRIC_FLOOR_X  ? "times_bytes_floor"
                                           : "ms";
}

int tp_bench_target_ndim(const tp_bench_target *t) { return t->ndim == 3 ? 3 : 2; }

/* The result's shape is the target's: side x side, or side^3 for a 3D target. */
static int is_target_shape(int ndim, const int64_t *shape, const tp_bench_target *t)
{
    if (ndim != tp_bench_target_ndim(t))
        return 0;
    for (int i = 0; i < ndim; i++)
        if (shape[i] != t->side)
            return 0;
    return 1;
}

void tp_bench_target_case(const tp_bench_target *t, char *out, size_t n)
{
    char label[96];
    tp_bench_case_label(t->name, t->regions, label, sizeof label);
    int64_t shape[3] = {t->side, t->side, t->side};
    char sh[64];
    tp_bench_shape_str(tp_bench_target_ndim(t), shape, sh, sizeof sh);
    if (t->pipeline)
        snprintf(out, n, "pipeline %s %s %s%s%s%s", label, sh, tp_bench_backend_name(t->backend), t->io ? " (" : "",
                 t->io ? t->io : "", t->io ? ")" : "");
    else
        snprintf(out, n, "%s %s %s %s", label, sh, t->dtype, tp_bench_backend_name(t->backend));
}

void tp_bench_target_rule_str(const tp_bench_target *t, char *out, size_t n)
{
    const char *unit = t->metric == TP_BENCH_METRIC_MS        ? " ms"
                       : t->metric == TP_BENCH_METRIC_FLOOR_X ? "x the bytes floor"
                                                              : " B/px";
    snprintf(out, n, "%s %g%s", t->rule == TP_BENCH_RULE_BELOW ? "<" : "<=", t->target, unit);
}

/* The op result the target reads: a measured one first (a run may hold a skipped twin, e.g. from --render of
 * two merged runs); NULL when there is none. */
static const tp_bench_result *find_op(const tp_bench_report *r, const tp_bench_target *t)
{
    char label[96];
    tp_bench_case_label(t->name, t->regions, label, sizeof label);
    const tp_bench_result *skipped = NULL;
    for (int i = 0; i < r->nresults; i++) {
        const tp_bench_result *e = &r->results[i];
        if (strcmp(e->op, label) || !is_target_shape(e->ndim, e->shape, t) || strcmp(e->dtype, t->dtype) ||
            e->backend != t->backend)
            continue;
        if (!e->skipped)
            return e;
        if (!skipped)
            skipped = e;
    }
    return skipped;
}

/* No result for the target: say whether the run measured the same op or pipeline at that shape and backend
 * another way (another dtype, another io), the likeliest confusion. */
static void why_none(const tp_bench_report *r, const tp_bench_target *t, char *out, size_t n)
{
    char label[96];
    tp_bench_case_label(t->name, t->regions, label, sizeof label);
    snprintf(out, n, "no such result");
    for (int i = 0; !t->pipeline && i < r->nresults; i++) {
        const tp_bench_result *e = &r->results[i];
        if (!strcmp(e->op, label) && is_target_shape(e->ndim, e->shape, t) && e->backend == t->backend) {
            snprintf(out, n, "no %s result (this run measured it on %s)", t->dtype, e->dtype);
            return;
        }
    }
    for (int i = 0; t->pipeline && t->io && i < r->npipelines; i++) {
        const tp_bench_pipeline_result *p = &r->pipelines[i];
        if (!strcmp(p->name, t->name) && is_target_shape(p->ndim, p->shape, t) && p->backend == t->backend) {
            snprintf(out, n, "no result with %s (this run's: %s)", t->io, p->io[0] ? p->io : "not said");
            return;
        }
    }
}

static const tp_bench_pipeline_result *find_pipeline(const tp_bench_report *r, const tp_bench_target *t)
{
    const tp_bench_pipeline_result *skipped = NULL;
    for (int i = 0; i < r->npipelines; i++) {
        const tp_bench_pipeline_result *p = &r->pipelines[i];
        if (strcmp(p->name, t->name) || !is_target_shape(p->ndim, p->shape, t) || strcmp(p->dtype, t->dtype) ||
            p->backend != t->backend || (t->io && strcmp(p->io, t->io)))
            continue;
        if (!p->skipped)
            return p;
        if (!skipped)
            skipped = p;
    }
    return skipped;
}

static void absent(tp_bench_target_eval *out, const char *why, const char *detail)
{
    out->status = TP_BENCH_TARGET_ABSENT;
    out->measured = out->ratio = NAN;
    snprintf(out->reason, sizeof out->reason, "%.160s%.511s", why, detail ? detail : "");
}

/* A pipeline's figure for the target's metric; NAN when the run did not measure it. */
static double pipeline_metric(const tp_bench_pipeline_result *p, tp_bench_metric m)
{
    double px = (double)tp_bench_pixels(p->ndim, p->shape);
    int64_t bytes = m == TP_BENCH_METRIC_DEVICE_BPP ? p->peak_device_bytes : p->peak_host_bytes;
    if (m == TP_BENCH_METRIC_MS)
        return p->total.median_ms;
    return bytes < 0 || px <= 0 ? NAN : (double)bytes / px;
}

/* Find the result the target reads and its figure (*v), or say in out->reason why the run has none. */
static void judge_pipeline(const tp_bench_report *r, const tp_bench_target *t, tp_bench_target_eval *out, double *v)
{
    const tp_bench_pipeline_result *p = find_pipeline(r, t);
    char why[160];
    if (!p) {
        why_none(r, t, why, sizeof why);
        absent(out, why, NULL);
    } else if (p->skipped) {
        absent(out, "skipped: ", p->skip_reason);
    } else {
        out->threads = p->threads > 0 ? p->threads : 0;
        *v = pipeline_metric(p, t->metric);
        if (isnan(*v))
            absent(out, t->metric == TP_BENCH_METRIC_MS ? "no time" : "peak memory not measured", NULL);
    }
}

static void judge_op(const tp_bench_report *r, const tp_bench_target *t, tp_bench_target_eval *out, double *v)
{
    const tp_bench_result *e = find_op(r, t);
    char why[160];
    if (!e) {
        why_none(r, t, why, sizeof why);
        absent(out, why, NULL);
    } else if (e->skipped) {
        absent(out, "skipped: ", e->skip_reason);
    } else if (t->params && strcmp(e->params, t->params)) { /* another case of the op: not the target's */
        snprintf(why, sizeof why, "measured with params '%.40s', the target is about %s%.40s%s", e->params,
                 t->params[0] ? "'" : "the defaults", t->params, t->params[0] ? "'" : "");
        absent(out, why, NULL);
    } else {
        out->threads = e->threads > 0 ? e->threads : 0;
        out->regions = e->regions;
        if (t->metric == TP_BENCH_METRIC_FLOOR_X)
            *v = e->fraction_of_copy_bw > 0 ? 1.0 / e->fraction_of_copy_bw : NAN;
        else
            *v = e->t.median_ms;
        if (isnan(*v))
            absent(out, t->metric == TP_BENCH_METRIC_FLOOR_X ? "no bytes floor for this result" : "no time", NULL);
    }
}

void tp_bench_target_evaluate(const tp_bench_report *r, const tp_bench_target *t, tp_bench_target_eval *out)
{
    memset(out, 0, sizeof *out);
    out->status = TP_BENCH_TARGET_ABSENT;
    out->regions = -1;
    out->reason[0] = 0;
    double v = NAN;
    if (t->pipeline)
        judge_pipeline(r, t, out, &v);
    else
        judge_op(r, t, out, &v);
    if (out->reason[0])
        return;
    out->measured = v;
    out->ratio = t->target > 0 ? v / t->target : NAN;
    int met = t->rule == TP_BENCH_RULE_BELOW ? v < t->target : v <= t->target;
    out->status = met ? TP_BENCH_TARGET_MET : TP_BENCH_TARGET_MISSED;
}

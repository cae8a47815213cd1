/* The benchmark reports, fed made-up results: statistics, speedups and crossovers, the JSON schema, the
 * Markdown and HTML writers, --compare-with's faster/slower verdicts, and PERFORMANCE.md's targets judged
 * met, missed or not in this run. Then what a run holds (bench/plan.c): the cpu-1t size rule, the
 * region-count cases, one real runner on the 8192^2 ~2000-region labels, and the seed-core pipeline. No
 * timing is measured or asserted here: the benchmarks themselves only report. */
#include "tests/support/tp_test.h"

/* The report code is plain C without Google Benchmark; compiling it into the test keeps the suite's
 * build unchanged (bench/ is linked only into the twinpix command). */
#include "bench/report.c"
#include "bench/report_html.c"
#include "bench/report_json.c"
#include "bench/report_md.c"
#include "bench/targets.c"
/* the suite's plain-C parts: the run's rules, and the runner (device timing from the library when CUDA is
 * built, the stub otherwise) */
#include "bench/gpu_timing_stub.c"
#include "bench/measure.c"
#include "bench/plan.c"

#include "core/pipeline.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <unistd.h>

static char g_dir[64];

static const char *tmp_path(const char *name)
{
    static char path[256];
    if (!g_dir[0]) {
        snprintf(g_dir, sizeof g_dir, "/tmp/tp_test_bench_XXXXXX");
        if (!mkdtemp(g_dir))
            return NULL;
    }
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    return path;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = 0;
    fclose(f);
    return buf;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static tp_bench_result *add(tp_bench_report *r, const char *op, int side, tp_bench_backend be, double ms)
{
    tp_bench_result *e = tp_bench_report_add_result(r);
    if (!e)
        abort(); /* out of memory in a test */
    snprintf(e->op, sizeof e->op, "%s", op);
    e->ndim = 2;
    e->shape[0] = e->shape[1] = side;
    snprintf(e->dtype, sizeof e->dtype, "uint8");
    e->backend = be;
    e->threads = be == TP_BENCH_CPU_1T ? 1 : be == TP_BENCH_CPU_NT ? 16 : 0;
    if (isnan(ms)) {
        e->skipped = 1;
        snprintf(e->skip_reason, sizeof e->skip_reason, "%s: not implemented on the cuda backend <yet>", op);
        return e;
    }
    double v[3] = {ms * 1.1, ms, ms * 0.95};
    tp_bench_stats_compute(v, 3, &e->t);
    e->bytes_min = (int64_t)side * side * 5;
    if (be == TP_BENCH_CUDA)
        e->fraction_of_copy_bw = 0.42;
    if (be == TP_BENCH_CUDA_TRANSFERS) {
        e->h2d_ms = ms * 0.4;
        e->d2h_ms = ms * 0.3;
    }
    e->peak_host_bytes = 1000;
    return e;
}

static void add_pipeline(tp_bench_report *r, int side, tp_bench_backend be, double scale)
{
    static const char *const stages[] = {"extract_channel", "gaussian", "threshold_otsu", "threshold",
                                         "binary_erosion", "label", "label2rgb", "regionprops_table"};
    tp_bench_pipeline_result *p = tp_bench_report_add_pipeline(r);
    if (!p)
        return;
    snprintf(p->name, sizeof p->name, "seed");
    p->ndim = 2;
    p->shape[0] = p->shape[1] = side;
    snprintf(p->dtype, sizeof p->dtype, "uint8");
    p->backend = be;
    double total = 0;
    for (int k = 0; k < 8; k++) {
        snprintf(p->stages[k].name, sizeof p->stages[k].name, "%s", stages[k]);
        p->stages[k].ms = scale * (k + 1);
        total += p->stages[k].ms;
    }
    p->nstages = 8;
    double v[1] = {total};
    tp_bench_stats_compute(v, 1, &p->total);
}

/* gaussian: GPU with transfers wins from 640^2 on; label: CPU only; threshold: GPU never wins with
 * transfers; binary_erosion: GPU skipped (unsupported). */
static void fake_report(tp_bench_report *r, int with_gpu)
{
    tp_bench_report_init(r);
    snprintf(r->meta.version, sizeof r->meta.version, "0.1.0");
    snprintf(r->meta.git_commit, sizeof r->meta.git_commit, "abc123");
    snprintf(r->meta.host_cpu, sizeof r->meta.host_cpu, "Test CPU");
    r->meta.host_threads = 16;
    r->cpu_threads = 16;
    r->min_time_s = 0.5;
    snprintf(r->date, sizeof r->date, "2026-01-01T00:00:00");
    snprintf(r->argv, sizeof r->argv, "twinpix bench");
    snprintf(r->peak_host_method, sizeof r->peak_host_method, "test");
    if (with_gpu) {
        r->meta.gpu_count = 1;
        snprintf(r->meta.gpu.name, sizeof r->meta.gpu.name, "NVIDIA H100 80GB HBM3");
        r->meta.gpu.sm_count = 132;
        r->meta.gpu.total_mem = (int64_t)80 << 30;
        r->meta.gpu.driver_version = 13000;
        r->meta.gpu.runtime_version = 12080;
        r->gpu_available = 1;
        r->copy_bw_gbs = 2970;
    } else {
        snprintf(r->gpu_reason, sizeof r->gpu_reason, "no usable CUDA device: none here");
    }
    static const int sides[] = {256, 640, 2048};
    static const double cpu[] = {0.1, 0.6, 6.0}, gpu[] = {0.02, 0.05, 0.3}, gput[] = {0.2, 0.4, 2.0};
    for (int i = 0; i < 3; i++) {
        add(r, "gaussian", sides[i], TP_BENCH_CPU_1T, cpu[i] * 10);
        add(r, "gaussian", sides[i], TP_BENCH_CPU_NT, cpu[i]);
        add(r, "label", sides[i], TP_BENCH_CPU_NT, cpu[i] * 2);
        add(r, "threshold", sides[i], TP_BENCH_CPU_NT, cpu[i] / 10);
        add(r, "binary_erosion", sides[i], TP_BENCH_CPU_NT, cpu[i]);
        if (with_gpu) {
            add(r, "gaussian", sides[i], TP_BENCH_CUDA, gpu[i]);
            add(r, "gaussian", sides[i], TP_BENCH_CUDA_TRANSFERS, gput[i]);
            add(r, "threshold", sides[i], TP_BENCH_CUDA, gpu[i]);
            add(r, "threshold", sides[i], TP_BENCH_CUDA_TRANSFERS, gput[i]);
            add(r, "binary_erosion", sides[i], TP_BENCH_CUDA, NAN);
            add(r, "binary_erosion", sides[i], TP_BENCH_CUDA_TRANSFERS, NAN);
        }
    }
    add_pipeline(r, 640, TP_BENCH_CPU_NT, 1.0);
    if (with_gpu) {
        add_pipeline(r, 640, TP_BENCH_CUDA, 0.01);
        add_pipeline(r, 640, TP_BENCH_CUDA_TRANSFERS, 0.02);
    }
}

static int test_stats(void)
{
    double v[4] = {3, 1, 2, 4};
    tp_bench_stats t;
    tp_bench_stats_compute(v, 4, &t);
    CHECK(t.samples == 4 && t.median_ms == 2.5 && t.min_ms == 1 && t.max_ms == 4);
    CHECK(fabs(t.stddev_ms - sqrt(5.0 / 3.0)) < 1e-12);
    double one[1] = {7};
    tp_bench_stats_compute(one, 1, &t);
    CHECK(t.median_ms == 7 && t.stddev_ms == 0 && t.samples == 1);
    tp_bench_stats_compute(NULL, 0, &t);
    CHECK(isnan(t.median_ms) && t.samples == 0);
    return 0;
}

static int test_names_and_shapes(void)
{
    tp_bench_backend b;
    for (int i = 0; i < TP_BENCH_BACKEND_COUNT; i++)
        CHECK(tp_bench_backend_parse(tp_bench_backend_name((tp_bench_backend)i), &b) == 0 && b == (tp_bench_backend)i);
    CHECK(tp_bench_backend_parse("cuda+transfers", &b) == 0 && b == TP_BENCH_CUDA_TRANSFERS);
    CHECK(tp_bench_backend_parse("gpu", &b) == -1);
    char s[64];
    int64_t sh[3] = {64, 128, 256};
    tp_bench_shape_str(3, sh, s, sizeof s);
    CHECK(!strcmp(s, "64x128x256"));
    CHECK(tp_bench_pixels(3, sh) == 64 * 128 * 256);
    return 0;
}

static int test_crossover(void)
{
    const int64_t px[5] = {100, 1000, 10000, 100000, 1000000};
    const double cpu[5] = {1, 2, 3, 4, 5};
    const double all_win[5] = {0.5, 1, 1, 1, 1};
    CHECK(tp_bench_crossover_pixels(5, px, cpu, all_win) == 100);
    const double from_third[5] = {2, 3, 2, 1, 1};
    CHECK(tp_bench_crossover_pixels(5, px, cpu, from_third) == 10000);
    const double loses_large[5] = {0.5, 1, 1, 1, 9};
    CHECK(tp_bench_crossover_pixels(5, px, cpu, loses_large) == -1);
    const double never[5] = {2, 3, 4, 5, 6};
    CHECK(tp_bench_crossover_pixels(5, px, cpu, never) == -1);
    /* a win, a loss, then wins: the crossover is after the last loss */
    const double dip[5] = {0.5, 3, 1, 1, 1};
    CHECK(tp_bench_crossover_pixels(5, px, cpu, dip) == 10000);
    /* NAN points are ignored */
    const double gaps[5] = {NAN, 3, NAN, 1, 1};
    CHECK(tp_bench_crossover_pixels(5, px, cpu, gaps) == 100000);
    /* the order of the input does not matter */
    const int64_t px_rev[5] = {1000000, 100000, 10000, 1000, 100};
    const double cpu_rev[5] = {5, 4, 3, 2, 1}, gpu_rev[5] = {1, 1, 2, 3, 2};
    CHECK(tp_bench_crossover_pixels(5, px_rev, cpu_rev, gpu_rev) == 10000);
    /* two shapes of one pixel count (a 2D and a 3D one): a loss at that count pushes the crossover up */
    const int64_t tie_px[3] = {4096, 4096, 65536};
    const double tie_cpu[3] = {1, 1, 1}, tie_gpu[3] = {0.5, 2, 0.5};
    CHECK(tp_bench_crossover_pixels(3, tie_px, tie_cpu, tie_gpu) == 65536);
    CHECK(tp_bench_crossover_pixels(0, px, cpu, all_win) == -1);
    return 0;
}

static int test_derive(void)
{
    tp_bench_report r;
    fake_report(&r, 1);
    CHECK_OK(tp_bench_report_derive(&r));
    /* gaussian and threshold have both sides at 3 sizes; binary_erosion's GPU was skipped; label has no GPU */
    CHECK(r.nspeedups == 6);
    for (int i = 0; i < r.nspeedups; i++) {
        const tp_bench_speedup *s = &r.speedups[i];
        CHECK(!strcmp(s->op, "gaussian") || !strcmp(s->op, "threshold"));
        CHECK(fabs(s->speedup - s->cpu_ms / s->gpu_ms) < 1e-12);
        CHECK(fabs(s->speedup_with_transfers - s->cpu_ms / s->gpu_with_transfers_ms) < 1e-12);
        if (!strcmp(s->op, "gaussian") && s->shape[0] == 640)
            CHECK(s->cpu_ms == 0.6 && s->gpu_ms == 0.05 && s->gpu_with_transfers_ms == 0.4);
    }
    CHECK(r.ncrossovers == 2);
    for (int i = 0; i < r.ncrossovers; i++) {
        const tp_bench_crossover *c = &r.crossovers[i];
        CHECK(c->points == 3);
        if (!strcmp(c->op, "gaussian"))
            CHECK(c->pixels == 640 * 640);
        else
            CHECK(!strcmp(c->op, "threshold") && c->pixels == -1);
    }
    tp_bench_report_free(&r);
    /* without a GPU there is nothing to derive */
    fake_report(&r, 0);
    CHECK_OK(tp_bench_report_derive(&r));
    CHECK(r.nspeedups == 0 && r.ncrossovers == 0);
    tp_bench_report_free(&r);
    return 0;
}

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static const cJSON *find_result(const cJSON *results, const char *op, int side, const char *backend)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, results)
    {
        const cJSON *shape = get(e, "shape");
        if (!strcmp(get(e, "op")->valuestring, op) && !strcmp(get(e, "backend")->valuestring, backend) &&
            cJSON_GetArraySize(shape) == 2 && cJSON_GetArrayItem(shape, 0)->valuedouble == side)
            return e;
    }
    return NULL;
}

static int test_json(void)
{
    tp_bench_report r;
    fake_report(&r, 1);
    CHECK_OK(tp_bench_report_derive(&r));
    const char *path = tmp_path("bench.json");
    CHECK_OK(tp_bench_write_json(tp_test_ctx, &r, path));
    char *text = slurp(path);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    CHECK(root != NULL);
    if (!root) {
        free(text);
        tp_bench_report_free(&r);
        return 0;
    }
    CHECK(!strcmp(get(root, "schema_version")->valuestring, "twinpix.bench/1"));
    const cJSON *meta = get(root, "meta"), *gpu = get(meta, "gpu");
    CHECK(cJSON_IsObject(gpu) && !strcmp(get(gpu, "name")->valuestring, "NVIDIA H100 80GB HBM3"));
    CHECK(!strcmp(get(gpu, "driver")->valuestring, "13.0") && !strcmp(get(gpu, "runtime")->valuestring, "12.8"));
    CHECK(get(gpu, "sms")->valuedouble == 132 && get(gpu, "memory")->valuedouble == (double)((int64_t)80 << 30));
    CHECK(cJSON_IsNull(get(meta, "gpu_unavailable_reason")));
    CHECK(get(meta, "copy_bandwidth_gbs")->valuedouble == 2970);
    static const char *const meta_keys[] = {"version", "git_commit", "build_flags", "host_cpu", "host_threads"};
    for (size_t i = 0; i < sizeof meta_keys / sizeof *meta_keys; i++)
        CHECK_MSG(get(meta, meta_keys[i]) != NULL, "meta.%s", meta_keys[i]);

    const cJSON *results = get(root, "results");
    CHECK(cJSON_GetArraySize(results) == r.nresults);
    static const char *const keys[] = {"op", "shape", "dtype", "backend", "median_ms", "min_ms", "max_ms",
                                       "stddev_ms", "samples", "bytes_min", "fraction_of_copy_bw", "h2d_ms",
                                       "d2h_ms", "peak_device_bytes", "peak_host_bytes", "skipped", "skip_reason"};
    const cJSON *e;
    cJSON_ArrayForEach(e, results)
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        CHECK_MSG(get(e, keys[i]) != NULL, "results[].%s", keys[i]);
    const cJSON *g = find_result(results, "gaussian", 640, "cuda");
    CHECK(g && get(g, "median_ms")->valuedouble == 0.05 && get(g, "fraction_of_copy_bw")->valuedouble == 0.42);
    CHECK(g && get(g, "samples")->valuedouble == 3 && get(g, "min_ms")->valuedouble == 0.05 * 0.95);
    const cJSON *c = find_result(results, "gaussian", 640, "cpu-Nt");
    CHECK(c && cJSON_IsNull(get(c, "fraction_of_copy_bw")) && cJSON_IsNull(get(c, "h2d_ms")));
    CHECK(c && get(c, "threads")->valuedouble == 16);
    const cJSON *t = find_result(results, "gaussian", 2048, "cuda+transfers");
    CHECK(t && fabs(get(t, "h2d_ms")->valuedouble - 0.8) < 1e-12 && fabs(get(t, "d2h_ms")->valuedouble - 0.6) < 1e-12);
    const cJSON *s = find_result(results, "binary_erosion", 256, "cuda");
    CHECK(s && cJSON_IsTrue(get(s, "skipped")) && cJSON_IsNull(get(s, "median_ms")));
    CHECK(s && strstr(get(s, "skip_reason")->valuestring, "not implemented") != NULL);

    const cJSON *sp = get(root, "speedups");
    CHECK(cJSON_GetArraySize(sp) == 6);
    cJSON_ArrayForEach(e, sp)
    {
        CHECK(get(e, "cpu_ms") && get(e, "gpu_ms") && get(e, "gpu_with_transfers_ms") && get(e, "speedup") &&
              get(e, "speedup_with_transfers"));
    }
    int seen = 0;
    cJSON_ArrayForEach(e, get(root, "crossovers"))
    {
        if (!strcmp(get(e, "op")->valuestring, "gaussian"))
            seen += get(e, "pixels")->valuedouble == 640 * 640;
        if (!strcmp(get(e, "op")->valuestring, "threshold"))
            seen += cJSON_IsNull(get(e, "pixels"));
    }
    CHECK(seen == 2);
    const cJSON *pl = get(root, "pipeline");
    CHECK(cJSON_GetArraySize(pl) == 3);
    const cJSON *p0 = cJSON_GetArrayItem(pl, 0);
    CHECK(p0 && cJSON_GetArraySize(get(p0, "stages")) == 8);
    CHECK(p0 && !strcmp(get(cJSON_GetArrayItem(get(p0, "stages"), 1), "name")->valuestring, "gaussian"));
    CHECK(p0 && get(p0, "total_ms")->valuedouble == 36 && !strcmp(get(p0, "backend")->valuestring, "cpu-Nt"));
    CHECK(get(root, "comparison") == NULL);
    cJSON_Delete(root);
    free(text);
    tp_bench_report_free(&r);

    /* no GPU: gpu is null and the reason is given */
    fake_report(&r, 0);
    CHECK_OK(tp_bench_report_derive(&r));
    CHECK_OK(tp_bench_write_json(tp_test_ctx, &r, path));
    text = slurp(path);
    root = text ? cJSON_Parse(text) : NULL;
    CHECK(root && cJSON_IsNull(get(get(root, "meta"), "gpu")));
    CHECK(root && cJSON_IsNull(get(get(root, "meta"), "copy_bandwidth_gbs")));
    CHECK(root && strstr(get(get(root, "meta"), "gpu_unavailable_reason")->valuestring, "none here") != NULL);
    CHECK(root && cJSON_GetArraySize(get(root, "speedups")) == 0);
    cJSON_Delete(root);
    free(text);
    tp_bench_report_free(&r);
    return 0;
}

static int test_markdown(void)
{
    tp_bench_report r;
    fake_report(&r, 1);
    CHECK_OK(tp_bench_report_derive(&r));
    const char *path = tmp_path("report.md");
    CHECK_OK(tp_bench_write_markdown(tp_test_ctx, &r, path));
    char *md = slurp(path);
    CHECK(md != NULL);
    if (md) {
        CHECK(strncmp(md, "# twinpix benchmark report", 26) == 0);
        CHECK(strstr(md, "| op | shape | dtype | CPU 1t ms | CPU 16t ms | GPU ms | GPU+transfers ms |") != NULL);
        /* gaussian 640: CPU 0.6 ms, GPU 0.05 ms -> 12x, with transfers 0.4 ms -> 1.5x */
        CHECK(strstr(md, "| gaussian | 640x640 | uint8 | 6.000 | 0.6000 | 0.0500 | 0.4000 | 12.0x | 1.50x | 42.0% |"));
        CHECK(strstr(md, "| label | 640x640 | uint8 | - | 1.200 | - | - | - | - | - |") != NULL);
        CHECK(strstr(md, "## Crossovers") != NULL && strstr(md, "| gaussian | uint8 | 409600 | 3 |") != NULL);
        CHECK(strstr(md, "| threshold | uint8 | never") != NULL);
        CHECK(strstr(md, "## Pipelines, by stage") != NULL && strstr(md, "regionprops_table |") != NULL);
        CHECK(strstr(md, "| pipeline | shape | backend | extract_channel |") != NULL);
        CHECK(strstr(md, "| seed | 640x640 | cpu-Nt | 1.000 | 2.000 |") != NULL);
        /* the targets come first, all "not in this run" here (no 8192^2 result) */
        CHECK(strstr(md, "## Targets") != NULL && strstr(md, "## Targets") < strstr(md, "## Ops"));
        CHECK(strstr(md, "0 met, 0 missed, 23 not in this run, of 23") != NULL);
        CHECK(strstr(md, "## Skipped cases") != NULL);
        CHECK(strstr(md, "- binary_erosion (cuda, cuda+transfers; 6 cases):") != NULL);
        CHECK(strstr(md, "GPU columns are absent") == NULL);
        CHECK(strstr(md, "2970 GB/s") != NULL);
        /* every table row has as many cells as its header */
        int bad = 0, cols = -1;
        for (char *line = md, *next; line && *line; line = next) {
            next = strchr(line, '\n');
            size_t len = next ? (size_t)(next - line) : strlen(line);
            if (next)
                next++;
            if (line[0] != '|') {
                cols = -1;
                continue;
            }
            int n = 0;
            for (size_t i = 0; i < len; i++)
                n += line[i] == '|';
            if (cols < 0)
                cols = n;
            else
                bad += n != cols;
        }
        CHECK_MSG(bad == 0, "%d table rows with a wrong cell count", bad);
    }
    free(md);
    tp_bench_report_free(&r);

    fake_report(&r, 0);
    CHECK_OK(tp_bench_report_derive(&r));
    CHECK_OK(tp_bench_write_markdown(tp_test_ctx, &r, path));
    md = slurp(path);
    CHECK(md && strstr(md, "**GPU columns are absent**: no usable CUDA device: none here") != NULL);
    CHECK(md && strstr(md, "GPU ms") == NULL && strstr(md, "## Crossovers") == NULL);
    CHECK(md && strstr(md, "| gaussian | 2048x2048 | uint8 | 60.000 | 6.000 | 10.0x |") != NULL);
    free(md);
    tp_bench_report_free(&r);
    return 0;
}

static int test_html(void)
{
    tp_bench_report r;
    fake_report(&r, 1);
    CHECK_OK(tp_bench_report_derive(&r));
    const char *path = tmp_path("report.html");
    CHECK_OK(tp_bench_write_html(tp_test_ctx, &r, path));
    char *h = slurp(path);
    CHECK(h != NULL);
    if (h) {
        CHECK(strncmp(h, "<!DOCTYPE html>", 15) == 0 && strstr(h, "</html>") != NULL);
        /* self-contained: no script, no external stylesheet, no fetched resource */
        CHECK(strstr(h, "<script") == NULL && strstr(h, "<link") == NULL && strstr(h, "src=") == NULL);
        CHECK(strstr(h, "http://") == NULL && strstr(h, "https://") == NULL && strstr(h, "url(") == NULL);
        /* speedup (device-resident, with transfers), pipeline stages, fraction of copy bandwidth */
        CHECK(count_of(h, "<svg") == 4 && count_of(h, "</svg>") == 4);
        CHECK(count_of(h, "<table") == count_of(h, "</table>") && count_of(h, "<tr>") == count_of(h, "</tr>"));
        CHECK(count_of(h, "<ul>") == count_of(h, "</ul>") && count_of(h, "<li>") == count_of(h, "</li>"));
        CHECK(strstr(h, "<h1>twinpix benchmark report</h1>") != NULL);
        CHECK(strstr(h, "<td class=\"\"><b>36.000</b></td>") != NULL); /* the bold pipeline total */
        CHECK(strstr(h, "<polyline") != NULL && strstr(h, "gaussian 640x640: 12.00x") != NULL);
        CHECK(strstr(h, ">42.0%</text>") != NULL);
        /* the skip reason "<yet>" is escaped, never raw markup */
        CHECK(strstr(h, "&lt;yet&gt;") != NULL && strstr(h, "<yet>") == NULL);
    }
    free(h);
    tp_bench_report_free(&r);

    fake_report(&r, 0);
    CHECK_OK(tp_bench_report_derive(&r));
    path = tmp_path("report_cpu.html");
    CHECK_OK(tp_bench_write_html(tp_test_ctx, &r, path));
    h = slurp(path);
    CHECK(h && strstr(h, "GPU columns are absent: no usable CUDA device: none here") != NULL);
    CHECK(h && count_of(h, "<svg") == 1); /* the pipeline chart only */
    free(h);
    tp_bench_report_free(&r);
    return 0;
}

static void scale_backend(tp_bench_report *r, const char *op, tp_bench_backend be, double f)
{
    for (int i = 0; i < r->nresults; i++)
        if (!strcmp(r->results[i].op, op) && r->results[i].backend == be && !r->results[i].skipped)
            r->results[i].t.median_ms *= f;
}

static int test_compare(void)
{
    tp_bench_report old, now;
    fake_report(&old, 1);
    CHECK_OK(tp_bench_report_derive(&old));
    const char *p = tmp_path("old.json");
    char old_path[256];
    snprintf(old_path, sizeof old_path, "%s", p);
    CHECK_OK(tp_bench_write_json(tp_test_ctx, &old, old_path));

    fake_report(&now, 1);
    scale_backend(&now, "gaussian", TP_BENCH_CUDA, 0.5);    /* 2x faster */
    scale_backend(&now, "label", TP_BENCH_CPU_NT, 1.5);     /* slower */
    scale_backend(&now, "threshold", TP_BENCH_CPU_NT, 1.02); /* within the noise band */
    now.pipelines[1].total.median_ms *= 0.25;                /* cuda pipeline faster */
    CHECK_OK(tp_bench_report_derive(&now));
    CHECK_OK(tp_bench_report_compare(tp_test_ctx, &now, old_path));
    int measured = 0;
    for (int i = 0; i < now.nresults; i++)
        measured += !now.results[i].skipped;
    CHECK(now.ndeltas == measured + 3);
    int faster = 0, slower = 0, same = 0;
    for (int i = 0; i < now.ndeltas; i++) {
        const tp_bench_delta *d = &now.deltas[i];
        if (!strcmp(d->op, "gaussian") && !strcmp(d->backend, "cuda")) {
            CHECK(d->verdict == -1 && fabs(d->ratio - 0.5) < 1e-12);
            faster++;
        } else if (!strcmp(d->op, "label")) {
            CHECK(d->verdict == 1 && fabs(d->ratio - 1.5) < 1e-12);
            slower++;
        } else if (!strcmp(d->op, "pipeline:seed") && !strcmp(d->backend, "cuda")) {
            CHECK(!strcmp(d->kind, "pipeline") && d->verdict == -1 && fabs(d->ratio - 0.25) < 1e-12);
            faster++;
        } else {
            CHECK_MSG(d->verdict == 0, "%s %s: ratio %g", d->op, d->backend, d->ratio);
            same++;
        }
    }
    CHECK(faster == 4 && slower == 3 && same == now.ndeltas - 7);

    /* the stdout table */
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    tp_bench_print_comparison(&now, m);
    fclose(m);
    CHECK(buf && strstr(buf, "4 faster, 3 slower") != NULL);
    CHECK(buf && count_of(buf, " slower\n") == 3 && count_of(buf, " faster\n") == 4);
    free(buf);

    /* and in report.md and bench.json */
    CHECK_OK(tp_bench_write_markdown(tp_test_ctx, &now, tmp_path("cmp.md")));
    char *md = slurp(tmp_path("cmp.md"));
    CHECK(md && strstr(md, "## Compared with") && count_of(md, "**slower**") == 3 && count_of(md, "**faster**") == 4);
    free(md);
    CHECK_OK(tp_bench_write_json(tp_test_ctx, &now, tmp_path("cmp.json")));
    char *text = slurp(tmp_path("cmp.json"));
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    const cJSON *cmp = root ? get(root, "comparison") : NULL;
    CHECK(cmp && cJSON_GetArraySize(get(cmp, "entries")) == now.ndeltas);
    cJSON_Delete(root);
    free(text);

    /* unreadable, not JSON, or another schema: an I/O error with the reason */
    CHECK(tp_bench_report_compare(tp_test_ctx, &now, tmp_path("absent.json")) == TP_ERR_IO);
    FILE *f = fopen(tmp_path("junk.json"), "w");
    if (f) {
        fputs("{\"schema_version\": \"other/9\", \"results\": []}", f);
        fclose(f);
    }
    CHECK(tp_bench_report_compare(tp_test_ctx, &now, tmp_path("junk.json")) == TP_ERR_IO);
    CHECK(strstr(tp_last_error(tp_test_ctx), "schema_version") != NULL);
    tp_bench_report_free(&old);
    tp_bench_report_free(&now);
    return 0;
}

/* bench.json read back and written again is the same text: the loader misses no field (used by
 * `twinpix bench --render`). */
static int test_load_roundtrip(void)
{
    tp_bench_report r, back;
    fake_report(&r, 1);
    CHECK_OK(tp_bench_report_derive(&r));
    static const char *const names[2][2] = {{"rt_a.json", "rt_b.json"}, {"rt_c.json", "rt_d.json"}};
    for (int round = 0; round < 2; round++) {
        if (round == 1) { /* with a comparison block too */
            CHECK_OK(tp_bench_report_compare(tp_test_ctx, &r, tmp_path("rt_a.json")));
            CHECK(r.ndeltas > 0);
        }
        char a[256], b[256];
        snprintf(a, sizeof a, "%s", tmp_path(names[round][0]));
        snprintf(b, sizeof b, "%s", tmp_path(names[round][1]));
        CHECK_OK(tp_bench_write_json(tp_test_ctx, &r, a));
        CHECK_OK(tp_bench_report_load(tp_test_ctx, &back, a));
        CHECK(back.nresults == r.nresults && back.npipelines == r.npipelines && back.nspeedups == r.nspeedups);
        CHECK(back.ndeltas == r.ndeltas && back.gpu_available == r.gpu_available);
        CHECK_OK(tp_bench_write_json(tp_test_ctx, &back, b));
        char *ta = slurp(a), *tb = slurp(b);
        CHECK(ta && tb && strcmp(ta, tb) == 0);
        free(ta);
        free(tb);
        tp_bench_report_free(&back);
    }
    tp_bench_report_free(&r);
    /* no GPU: the reason survives, and the report says the columns are absent */
    fake_report(&r, 0);
    CHECK_OK(tp_bench_write_json(tp_test_ctx, &r, tmp_path("rt_e.json")));
    CHECK_OK(tp_bench_report_load(tp_test_ctx, &back, tmp_path("rt_e.json")));
    CHECK(!back.gpu_available && strstr(back.gpu_reason, "none here") != NULL);
    tp_bench_report_free(&back);
    tp_bench_report_free(&r);
    CHECK(tp_bench_report_load(tp_test_ctx, &back, tmp_path("absent.json")) == TP_ERR_IO);
    return 0;
}

/* The 512^3 cubes are in every op's sizes; a run from the descriptors' sizes leaves cpu-1t out above 8192^2
 * (registered, skipped with a reason), a run with --size does not. */
static int test_size_rule(void)
{
    int64_t cube512[3] = {512, 512, 512}, cube256[3] = {256, 256, 256}, sq8192[2] = {8192, 8192};
    for (int i = 0; i < tp_op_count(); i++) {
        const tp_op_desc *op = tp_op_at(i);
        int has512 = 0;
        for (const int64_t *b = op->bench_sizes_3d; b && *b; b++)
            has512 |= *b == 512;
        CHECK_MSG(has512 || !(op->inputs[0].spatial_dims & TP_DIMS_3D), "%s: no 512^3 bench size", op->name);
    }
    tp_bench_config cfg;
    memset(&cfg, 0, sizeof cfg);
    char why[512] = "";
    CHECK(tp_bench_rule_skip(&cfg, TP_BENCH_CPU_1T, 3, cube512, why, sizeof why) == 1);
    CHECK(strstr(why, "cpu-1t") && strstr(why, "--size") && strstr(why, "67108864"));
    why[0] = 0;
    CHECK(tp_bench_rule_skip(&cfg, TP_BENCH_CPU_1T, 2, sq8192, why, sizeof why) == 0 && !why[0]);
    CHECK(tp_bench_rule_skip(&cfg, TP_BENCH_CPU_1T, 3, cube256, why, sizeof why) == 0);
    for (int b = TP_BENCH_CPU_NT; b < TP_BENCH_BACKEND_COUNT; b++)
        CHECK(tp_bench_rule_skip(&cfg, (tp_bench_backend)b, 3, cube512, why, sizeof why) == 0);
    CHECK(tp_bench_pixels(3, cube512) > TP_BENCH_CPU_1T_MAX_PIXELS &&
          tp_bench_pixels(2, sq8192) == TP_BENCH_CPU_1T_MAX_PIXELS);
    cfg.nsizes = 1; /* --size 512^3: asked for, so measured */
    CHECK(tp_bench_rule_skip(&cfg, TP_BENCH_CPU_1T, 3, cube512, why, sizeof why) == 0);
    return 0;
}

/* Region-count cases: regionprops_table at 8192^2 with ~2000 regions whenever the run has it at 8192^2, and
 * --regions N for the ops on labels only. */
static int test_region_variants(void)
{
    const tp_op_desc *rp = tp_op_find("regionprops_table"), *l2r = tp_op_find("label2rgb"),
                     *lab = tp_op_find("label"), *gau = tp_op_find("gaussian");
    CHECK(rp && l2r && lab && gau);
    if (!rp || !l2r || !lab || !gau)
        return 0;
    tp_bench_config cfg;
    memset(&cfg, 0, sizeof cfg);
    int64_t sq8192[2] = {8192, 8192}, sq2048[2] = {2048, 2048}, cube64[3] = {64, 64, 64}, v[8];
    CHECK(tp_bench_region_variants(&cfg, rp, 2, sq8192, v, 8) == 1 && v[0] == 2000);
    CHECK(tp_bench_region_variants(&cfg, rp, 2, sq2048, v, 8) == 0);
    CHECK(tp_bench_region_variants(&cfg, l2r, 2, sq8192, v, 8) == 0);
    cfg.regions = 2000; /* the same count is not measured twice */
    CHECK(tp_bench_region_variants(&cfg, rp, 2, sq8192, v, 8) == 1 && v[0] == 2000);
    cfg.regions = 500;
    CHECK(tp_bench_region_variants(&cfg, rp, 2, sq8192, v, 8) == 2 && v[0] == 2000 && v[1] == 500);
    CHECK(tp_bench_region_variants(&cfg, rp, 3, cube64, v, 8) == 1 && v[0] == 500);
    CHECK(tp_bench_region_variants(&cfg, l2r, 2, sq2048, v, 8) == 1 && v[0] == 500);
    CHECK(tp_bench_region_variants(&cfg, lab, 2, sq2048, v, 8) == 0); /* a mask input */
    CHECK(tp_bench_region_variants(&cfg, gau, 2, sq2048, v, 8) == 0);
    CHECK(tp_bench_region_variants(&cfg, rp, 2, sq8192, v, 1) == 1);  /* max is kept */
    /* the radius: ~56 px for 2000 regions at 8192^2 (the default nuclei are ~10 px); scale-free */
    double r = tp_bench_radius_for_regions(2, sq8192, 2000);
    CHECK_MSG(r > 50 && r < 62, "radius %g", r);
    CHECK(fabs(tp_bench_radius_for_regions(2, sq2048, 125) - r) < 1e-9);
    CHECK(tp_bench_radius_for_regions(2, sq8192, 0) == 0);
    CHECK(tp_bench_radius_for_regions(2, sq2048, (int64_t)1 << 40) == 1.0);
    int64_t strip[2] = {16, 8192}; /* a nucleus is at most half the image's narrowest side */
    CHECK(tp_bench_radius_for_regions(2, strip, 1) == 8.0);
    r = tp_bench_radius_for_regions(3, cube64, 100);
    CHECK_MSG(r > 4 && r < 8, "radius %g", r);
    char label[96];
    tp_bench_case_label("regionprops_table", 2000, label, sizeof label);
    CHECK(!strcmp(label, "regionprops_table[regions=2000]"));
    tp_bench_case_label("regionprops_table", 0, label, sizeof label);
    CHECK(!strcmp(label, "regionprops_table"));
    return 0;
}

/* The issue #9 case for real: regionprops_table on 8192^2 labels drawn for ~2000 regions, on the CPU. The
 * runner generates the labels and the intensity image from the same nuclei, counts the regions, and a call
 * returns a table with one row per region. */
static int test_region_case_runner(void)
{
    tp_bench_case c;
    memset(&c, 0, sizeof c);
    c.op = tp_op_find("regionprops_table");
    CHECK(c.op != NULL);
    if (!c.op)
        return 0;
    c.params = c.op->cases[0].params;
    c.ndim = 2;
    c.shape[0] = c.shape[1] = 8192;
    c.gray_dtype = TP_UINT8;
    c.backend = TP_BENCH_CPU_NT;
    c.threads = tp_context_threads(tp_test_ctx);
    c.seed = 1;
    c.regions = 2000;
    tp_bench_runner *run = NULL;
    CHECK_OK(tp_bench_runner_create(tp_test_ctx, &c, &run));
    if (!run)
        return 0;
    tp_bench_runner_facts f;
    tp_bench_runner_get_facts(run, &f);
    CHECK_MSG(f.regions >= 1800 && f.regions <= 2200, "%lld regions", (long long)f.regions);
    CHECK(!strcmp(f.dtype, "int32") && !strcmp(f.params, c.params));
    /* the intensity image is drawn from the same nuclei: nonzero labels sit on bright pixels */
    const tp_image *lb = run->host[0][0], *gray = run->host[0][1];
    CHECK(lb->dtype == TP_INT32 && gray->dtype == TP_UINT8 && tp_image_count(lb) == tp_image_count(gray));
    const int32_t *l = lb->data;
    const uint8_t *g = gray->data;
    double fg = 0, bg = 0;
    int64_t nfg = 0, nbg = 0, n = tp_image_count(lb);
    for (int64_t i = 0; i < n; i += 97)
        if (l[i]) {
            fg += g[i];
            nfg++;
        } else {
            bg += g[i];
            nbg++;
        }
    CHECK(nfg > 0 && nbg > 0 && fg / (double)nfg > 2 * bg / (double)nbg);
    /* bytes_min counts the table: one row of 10 columns (label, area, intensity_mean, solidity, bbox-0..3,
     * centroid-0..1; 8 bytes each) per region, after both inputs */
    CHECK(f.bytes_min == n * 4 + n * 1 + f.regions * 10 * 8);
    tp_bench_sample smp;
    CHECK_OK(tp_bench_runner_once(tp_test_ctx, run, &smp));
    CHECK(smp.ms > 0 && isnan(smp.h2d_ms));
    tp_bench_runner_destroy(run);
    tp_bench_input_cache_clear();
    return 0;
}

/* The region count in bench.json ("regions", null for other inputs), in report.md's regions table, through
 * --render's loader; a region-count case is its own op/shape/dtype, never compared with the default one. */
static int test_regions_report(void)
{
    tp_bench_report r;
    fake_report(&r, 1);
    tp_bench_result *d = add(&r, "regionprops_table", 8192, TP_BENCH_CPU_NT, 86.0);
    d->regions = 63183;
    snprintf(d->dtype, sizeof d->dtype, "int32");
    tp_bench_result *v = add(&r, "regionprops_table[regions=2000]", 8192, TP_BENCH_CPU_NT, 40.0);
    v->regions = 2016;
    snprintf(v->dtype, sizeof v->dtype, "int32");
    tp_bench_result *vg = add(&r, "regionprops_table[regions=2000]", 8192, TP_BENCH_CUDA, 1.5);
    vg->regions = 2016;
    snprintf(vg->dtype, sizeof vg->dtype, "int32");
    CHECK_OK(tp_bench_report_derive(&r));
    int found = 0;
    for (int i = 0; i < r.nspeedups; i++)
        if (!strcmp(r.speedups[i].op, "regionprops_table[regions=2000]"))
            found += fabs(r.speedups[i].speedup - 40.0 / 1.5) < 1e-9;
        else
            CHECK(strcmp(r.speedups[i].op, "regionprops_table"));
    CHECK(found == 1);
    const char *path = tmp_path("regions.json");
    CHECK_OK(tp_bench_write_json(tp_test_ctx, &r, path));
    char *text = slurp(path);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    CHECK(root != NULL);
    if (root) {
        const cJSON *res = get(root, "results");
        const cJSON *a = find_result(res, "regionprops_table[regions=2000]", 8192, "cpu-Nt");
        const cJSON *b = find_result(res, "regionprops_table", 8192, "cpu-Nt");
        const cJSON *gs = find_result(res, "gaussian", 640, "cpu-Nt");
        CHECK(a && get(a, "regions")->valuedouble == 2016);
        CHECK(b && get(b, "regions")->valuedouble == 63183);
        CHECK(gs && cJSON_IsNull(get(gs, "regions")));
    }
    cJSON_Delete(root);
    free(text);
    tp_bench_report back;
    CHECK_OK(tp_bench_report_load(tp_test_ctx, &back, path));
    int kept = 0;
    for (int i = 0; i < back.nresults; i++)
        kept += back.results[i].regions == 2016 || back.results[i].regions == 63183;
    CHECK(kept == 3);
    /* compared with itself: the default and the region-count case each match only themselves */
    CHECK_OK(tp_bench_report_compare(tp_test_ctx, &back, path));
    int rp = 0;
    for (int i = 0; i < back.ndeltas; i++)
        if (strstr(back.deltas[i].op, "regionprops_table")) {
            rp++;
            CHECK(back.deltas[i].ratio == 1.0);
        }
    CHECK(rp == 3);
    tp_bench_report_free(&back);
    const char *mdp = tmp_path("regions.md");
    CHECK_OK(tp_bench_write_markdown(tp_test_ctx, &r, mdp));
    char *md = slurp(mdp);
    CHECK(md && strstr(md, "## Labels inputs: regions per image") != NULL);
    CHECK(md && strstr(md, "| regionprops_table[regions=2000] | 8192x8192 | int32 | 2016 | 33288 |") != NULL);
    CHECK(md && strstr(md, "| regionprops_table | 8192x8192 | int32 | 63183 | 1062 |") != NULL);
    CHECK(md && count_of(md, "| regionprops_table[regions=2000] | 8192x8192 | int32 | 2016 |") == 1);
    CHECK(md && strstr(md, "| regionprops_table[regions=2000] | 8192x8192 | int32 | - | 40.000 |") != NULL);
    free(md);
    CHECK_OK(tp_bench_write_html(tp_test_ctx, &r, tmp_path("regions.html")));
    char *html = slurp(tmp_path("regions.html"));
    CHECK(html && strstr(html, "<h2>Labels inputs: regions per image</h2>") != NULL);
    free(html);
    tp_bench_report_free(&r);
    /* without region counts, no such section */
    fake_report(&r, 0);
    CHECK_OK(tp_bench_write_markdown(tp_test_ctx, &r, mdp));
    md = slurp(mdp);
    CHECK(md && strstr(md, "regions per image") == NULL);
    free(md);
    tp_bench_report_free(&r);
    return 0;
}

/* ---- PERFORMANCE.md's targets, judged on made-up results ---- */

static const tp_bench_target *find_target(const char *name, int64_t side, tp_bench_backend be, tp_bench_metric m)
{
    int n;
    const tp_bench_target *t = tp_bench_targets(&n);
    for (int i = 0; i < n; i++)
        if (!strcmp(t[i].name, name) && t[i].side == side && t[i].backend == be && t[i].metric == m)
            return &t[i];
    return NULL;
}

static tp_bench_pipeline_result *add_pipe(tp_bench_report *r, const char *name, int side, tp_bench_backend be,
                                          double ms, const char *io)
{
    tp_bench_pipeline_result *p = tp_bench_report_add_pipeline(r);
    if (!p)
        abort(); /* out of memory in a test */
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = 2;
    p->shape[0] = p->shape[1] = side;
    snprintf(p->dtype, sizeof p->dtype, "uint8");
    p->backend = be;
    p->threads = be == TP_BENCH_CPU_NT ? 16 : 0;
    snprintf(p->io, sizeof p->io, "%s", io ? io : "");
    p->nstages = 1;
    snprintf(p->stages[0].name, sizeof p->stages[0].name, "gaussian");
    p->stages[0].ms = ms;
    double v[1] = {ms};
    tp_bench_stats_compute(v, 1, &p->total);
    return p;
}

static tp_bench_result *add_8k(tp_bench_report *r, const char *op, const char *dtype, const char *params,
                               tp_bench_backend be, double ms)
{
    tp_bench_result *e = add(r, op, 8192, be, ms);
    snprintf(e->dtype, sizeof e->dtype, "%s", dtype);
    snprintf(e->params, sizeof e->params, "%s", params);
    return e;
}

/* A run with one target met, one missed and the others absent in every way a run can lack one. */
static void targets_report(tp_bench_report *r)
{
    fake_report(r, 1);
    const int64_t px = (int64_t)8192 * 8192;
    add_8k(r, "gaussian", "uint8", "sigma=5", TP_BENCH_CUDA, 0.2);                     /* met: 0.2 <= 0.25 */
    add_8k(r, "label", "bool", "", TP_BENCH_CUDA, 1.27);                               /* missed: 1.27 > 0.6 */
    add_8k(r, "threshold_otsu", "uint8", "nbins=256", TP_BENCH_CUDA, 0.1);             /* uint8: not float32 */
    add_8k(r, "binary_erosion", "bool", "footprint=disk:2", TP_BENCH_CUDA, NAN);      /* skipped */
    add_8k(r, "label2rgb", "int32", "alpha=0.5;bg_label=1", TP_BENCH_CUDA, 0.4);      /* another case */
    const char *rp = "properties=label,area,intensity_mean,solidity,bbox,centroid";
    add_8k(r, "regionprops_table[regions=2000]", "int32", rp, TP_BENCH_CUDA, 1.14)->regions = 2016; /* met */
    add_8k(r, "regionprops_table", "int32", rp, TP_BENCH_CUDA, 2.78);
    add_pipe(r, "seed-core", 8192, TP_BENCH_CUDA_TRANSFERS, 13.4, TP_BENCH_PIPE_IO_PINNED_HOST_TABLE); /* missed */
    add_pipe(r, "seed", 8192, TP_BENCH_CUDA_TRANSFERS, 7.0, TP_BENCH_PIPE_IO_HOST_TABLE); /* not the target's */
    add_pipe(r, "seed-core", 640, TP_BENCH_CUDA_TRANSFERS, 0.2, TP_BENCH_PIPE_IO_HOST_TABLE); /* pageable: absent */
    add_pipe(r, "seed-core", 8192, TP_BENCH_CPU_NT, 433.0, NULL)->peak_host_bytes = 10 * px; /* 433 is not < 433 */
    add_pipe(r, "seed-core", 8192, TP_BENCH_CUDA, 6.0, NULL)->peak_device_bytes = 19 * px + px / 2;
    /* 3D rows read time over the bytes floor: 1 / fraction_of_copy_bw */
    tp_bench_result *e3 = add(r, "label", 256, TP_BENCH_CUDA, 0.6); /* 20x: missed */
    e3->ndim = 3;
    e3->shape[2] = 256;
    snprintf(e3->dtype, sizeof e3->dtype, "bool");
    e3->fraction_of_copy_bw = 0.05;
    e3 = add(r, "label2rgb", 512, TP_BENCH_CUDA, 1.8); /* 1.25x: met */
    e3->ndim = 3;
    e3->shape[2] = 512;
    snprintf(e3->dtype, sizeof e3->dtype, "int32");
    e3->fraction_of_copy_bw = 0.8;
    add(r, "gaussian", 256, TP_BENCH_CUDA, 0.1); /* 2D 256^2: not the 3D row's cube */
}

static int test_targets_table(void)
{
    int n;
    const tp_bench_target *t = tp_bench_targets(&n);
    CHECK(n == 23); /* 11 from PERFORMANCE.md's table, 12 for "3D: the same ops at 256^3 and 512^3" */
    for (int i = 0; i < n; i++) {
        CHECK_MSG(t[i].what && t[i].name && t[i].dtype && t[i].peer && t[i].bound && t[i].how, "target %d", i);
        CHECK_MSG(t[i].target > 0 && t[i].side > 0, "%s", t[i].what);
        CHECK_MSG(strstr(t[i].how, "twinpix bench") == t[i].how, "%s: how '%s'", t[i].what, t[i].how);
        CHECK_MSG(t[i].pipeline || tp_op_find(t[i].name), "%s: no op %s", t[i].what, t[i].name);
        CHECK_MSG(!t[i].pipeline || t[i].dtype[0], "%s", t[i].what); /* pipelines: the input's dtype */
        /* ops: the params named are a case of the descriptor's, the one the bench measures (cases[0]) */
        const tp_op_desc *op = t[i].pipeline ? NULL : tp_op_find(t[i].name);
        if (op && t[i].params)
            CHECK_MSG(!strcmp(op->cases[0].params, t[i].params), "%s: the bench measures '%s'", t[i].what,
                      op->cases[0].params);
    }
    char buf[192];
    tp_bench_target_case(find_target("regionprops_table", 8192, TP_BENCH_CUDA, TP_BENCH_METRIC_MS), buf, sizeof buf);
    CHECK(!strcmp(buf, "regionprops_table[regions=2000] 8192x8192 int32 cuda"));
    tp_bench_target_case(find_target("seed-core", 640, TP_BENCH_CUDA_TRANSFERS, TP_BENCH_METRIC_MS), buf, sizeof buf);
    CHECK(!strcmp(buf, "pipeline seed-core 640x640 cuda+transfers (pinned host image in, host table out)"));
    tp_bench_target_rule_str(find_target("seed-core", 8192, TP_BENCH_CPU_NT, TP_BENCH_METRIC_MS), buf, sizeof buf);
    CHECK(!strcmp(buf, "< 433 ms"));
    tp_bench_target_rule_str(find_target("seed-core", 8192, TP_BENCH_CUDA, TP_BENCH_METRIC_DEVICE_BPP), buf,
                             sizeof buf);
    CHECK(!strcmp(buf, "<= 16 B/px"));
    return 0;
}

static void expect_target(const tp_bench_report *r, const char *name, int64_t side, tp_bench_backend be,
                          tp_bench_metric m, tp_bench_target_status want, double measured, const char *reason)
{
    const tp_bench_target *t = find_target(name, side, be, m);
    CHECK_MSG(t != NULL, "no target %s %lld %s", name, (long long)side, tp_bench_backend_name(be));
    if (!t)
        return;
    tp_bench_target_eval e;
    tp_bench_target_evaluate(r, t, &e);
    CHECK_MSG(e.status == want, "%s: %s, expected %s (%s)", t->what, tp_bench_target_status_name(e.status),
              tp_bench_target_status_name(want), e.reason);
    if (want == TP_BENCH_TARGET_ABSENT) {
        CHECK_MSG(isnan(e.measured) && isnan(e.ratio), "%s", t->what);
        CHECK_MSG(reason && strstr(e.reason, reason), "%s: reason '%s'", t->what, e.reason);
    } else {
        CHECK_MSG(fabs(e.measured - measured) < 1e-9, "%s: measured %g", t->what, e.measured);
        CHECK_MSG(fabs(e.ratio - measured / t->target) < 1e-12, "%s: ratio %g", t->what, e.ratio);
        CHECK(!e.reason[0]);
    }
}

static int test_targets_judged(void)
{
    tp_bench_report r;
    targets_report(&r);
    const tp_bench_target_status MET = TP_BENCH_TARGET_MET, MISSED = TP_BENCH_TARGET_MISSED,
                                 ABSENT = TP_BENCH_TARGET_ABSENT;
    expect_target(&r, "gaussian", 8192, TP_BENCH_CUDA, TP_BENCH_METRIC_MS, MET, 0.2, NULL);
    expect_target(&r, "label", 8192, TP_BENCH_CUDA, TP_BENCH_METRIC_MS, MISSED, 1.27, NULL);
    expect_target(&r, "threshold_otsu", 8192, TP_BENCH_CUDA, TP_BENCH_METRIC_MS, ABSENT, 0,
                  "no float32 result (this run measured it on uint8)");
    expect_target(&r, "binary_erosion", 8192, TP_BENCH_CUDA, TP_BENCH_METRIC_MS, ABSENT, 0, "skipped: ");
    expect_target(&r, "label2rgb", 8192, TP_BENCH_CUDA, TP_BENCH_METRIC_MS, ABSENT, 0,
                  "measured with params 'alpha=0.5;bg_label=1', the target is about the defaults");
    expect_target(&r, "regionprops_table", 8192, TP_BENCH_CUDA, TP_BENCH_METRIC_MS, MET, 1.14, NULL);
    expect_target(&r, "seed-core", 8192, TP_BENCH_CUDA_TRANSFERS, TP_BENCH_METRIC_MS, MISSED, 13.4, NULL);
    expect_target(&r, "seed-core", 640, TP_BENCH_CUDA_TRANSFERS, TP_BENCH_METRIC_MS, ABSENT, 0,
                  "no result with pinned host image in, host table out (this run's: host image in, host table out)");
    expect_target(&r, "seed-core", 8192, TP_BENCH_CPU_NT, TP_BENCH_METRIC_MS, MISSED, 433.0, NULL);
    expect_target(&r, "seed-core", 8192, TP_BENCH_CUDA, TP_BENCH_METRIC_DEVICE_BPP, MISSED, 19.5, NULL);
    expect_target(&r, "seed-core", 8192, TP_BENCH_CPU_NT, TP_BENCH_METRIC_HOST_BPP, MET, 10.0, NULL);
    tp_bench_target_eval e;
    tp_bench_target_evaluate(&r, find_target("regionprops_table", 8192, TP_BENCH_CUDA, TP_BENCH_METRIC_MS), &e);
    CHECK(e.regions == 2016 && e.threads == 0);
    tp_bench_target_evaluate(&r, find_target("seed-core", 8192, TP_BENCH_CPU_NT, TP_BENCH_METRIC_MS), &e);
    CHECK(e.threads == 16);
    /* the rules move with the results: faster than 433 ms once below it; the skipped erosion measured */
    r.pipelines[r.npipelines - 2].total.median_ms = 296.0;
    expect_target(&r, "seed-core", 8192, TP_BENCH_CPU_NT, TP_BENCH_METRIC_MS, MET, 296.0, NULL);
    tp_bench_result *er = add_8k(&r, "binary_erosion", "bool", "footprint=disk:2", TP_BENCH_CUDA, 0.127);
    expect_target(&r, "binary_erosion", 8192, TP_BENCH_CUDA, TP_BENCH_METRIC_MS, MISSED, 0.127, NULL);
    er->t.median_ms = 0.1; /* exactly the target: "at most" is met */
    expect_target(&r, "binary_erosion", 8192, TP_BENCH_CUDA, TP_BENCH_METRIC_MS, MET, 0.1, NULL);
    /* a peak that was not measured is no figure */
    r.pipelines[r.npipelines - 1].peak_device_bytes = -1;
    expect_target(&r, "seed-core", 8192, TP_BENCH_CUDA, TP_BENCH_METRIC_DEVICE_BPP, ABSENT, 0, "not measured");
    tp_bench_report_free(&r);
    /* a run without any of them: every target is absent, none is judged on a figure written anywhere */
    tp_bench_report_init(&r);
    int n;
    const tp_bench_target *t = tp_bench_targets(&n);
    for (int i = 0; i < n; i++) {
        tp_bench_target_evaluate(&r, &t[i], &e);
        CHECK_MSG(e.status == ABSENT && !strcmp(e.reason, "no such result") && isnan(e.measured), "%s", t[i].what);
    }
    tp_bench_report_free(&r);
    return 0;
}

/* The targets in report.md (near the top), report.html (coloured status) and bench.json ("targets"), and
 * the same after --render's loader. */
static int test_targets_report(void)
{
    tp_bench_report r;
    targets_report(&r);
    CHECK_OK(tp_bench_report_derive(&r));
    CHECK_OK(tp_bench_write_markdown(tp_test_ctx, &r, tmp_path("targets.md")));
    char *md = slurp(tmp_path("targets.md"));
    CHECK(md != NULL);
    if (md) {
        const char *sec = strstr(md, "## Targets (../shared/PERFORMANCE.md)");
        CHECK(sec && sec < strstr(md, "## Ops"));
        CHECK(strstr(md, "4 met, 5 missed, 14 not in this run, of 23") != NULL);
        CHECK(strstr(md, "| label 256x256x256 bool cuda | <= 2x the bytes floor | 20.0x the floor | 10.0x | "
                         "**missed** |") != NULL);
        CHECK(strstr(md, "| label2rgb 512x512x512 int32 cuda | <= 2x the bytes floor | 1.2x the floor | 0.62x | "
                         "**met** |") != NULL);
        CHECK(strstr(md, "| gaussian 256x256x256 uint8 cuda | <= 2x the bytes floor | - | - | not in this run |"));
        CHECK(strstr(md, "| gaussian sigma=5, 8192^2 uint8 -> float32 | gaussian 8192x8192 uint8 cuda | <= 0.25 ms "
                         "| 0.2000 ms | 0.80x | **met** | cuCIM 2.34 ms") != NULL);
        CHECK(strstr(md, "| label 8192x8192 bool cuda | <= 0.6 ms | 1.270 ms | 2.12x | **missed** |") != NULL);
        CHECK(strstr(md, "| 1.140 ms (2016 regions) | 0.57x | **met** |") != NULL);
        CHECK(strstr(md, "| < 433 ms | 433.0 ms (16 threads) | 1.00x | **missed** |") != NULL);
        CHECK(strstr(md, "| <= 16 B/px | 19.5 B/px | 1.22x | **missed** |") != NULL);
        CHECK(strstr(md, "| threshold_otsu 8192x8192 float32 cuda | <= 0.15 ms | - | - | not in this run |") != NULL);
        CHECK(strstr(md, "- threshold_otsu, 8192^2 float32: no float32 result (this run measured it on uint8); "
                         "measure it with `twinpix bench --op threshold_otsu --dtype float32 --size 8192 --backend "
                         "cuda`") != NULL);
        CHECK(strstr(md, "- binary_erosion disk(2), 8192^2: skipped: binary_erosion: not implemented") != NULL);
        /* the pipeline rows say which pipeline */
        CHECK(strstr(md, "| seed-core | 8192x8192 | cuda+transfers (pinned host image in, host table out) |"));
        CHECK(strstr(md, "| seed | 8192x8192 | cuda+transfers (host image in, host table out) |") != NULL);
    }
    free(md);
    CHECK_OK(tp_bench_write_html(tp_test_ctx, &r, tmp_path("targets.html")));
    char *h = slurp(tmp_path("targets.html"));
    CHECK(h && strstr(h, "<h2>Targets (../shared/PERFORMANCE.md)</h2>") != NULL);
    CHECK(h && count_of(h, "<td class=\"l met\">met</td>") == 4);
    CHECK(h && count_of(h, "<td class=\"l missed\">missed</td>") == 5);
    CHECK(h && strstr(h, ">seed-core cuda+transfers (pinned in, table out)</text>") != NULL);
    free(h);

    const char *path = tmp_path("targets.json");
    CHECK_OK(tp_bench_write_json(tp_test_ctx, &r, path));
    char *text = slurp(path);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    const cJSON *ta = root ? get(root, "targets") : NULL;
    CHECK(cJSON_GetArraySize(ta) == 23);
    int met = 0, missed = 0, absent = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, ta)
    {
        const char *st = get(e, "status")->valuestring;
        met += !strcmp(st, "met");
        missed += !strcmp(st, "missed");
        absent += !strcmp(st, "not in this run");
        CHECK(get(e, "what") && get(e, "kind") && get(e, "name") && get(e, "shape") && get(e, "backend"));
        CHECK(get(e, "metric") && get(e, "rule") && get(e, "target") && get(e, "peer") && get(e, "bound"));
        CHECK(get(e, "how") && get(e, "threads") && get(e, "regions") && get(e, "io") && get(e, "params"));
        int judged = strcmp(st, "not in this run") != 0;
        CHECK(cJSON_IsNumber(get(e, "measured")) == judged && cJSON_IsNumber(get(e, "ratio")) == judged);
        CHECK(judged ? cJSON_IsNull(get(e, "reason")) : cJSON_IsString(get(e, "reason")));
        if (!strcmp(get(e, "name")->valuestring, "regionprops_table[regions=2000]"))
            CHECK(get(e, "regions")->valuedouble == 2016 && get(e, "measured")->valuedouble == 1.14 &&
                  !strcmp(get(e, "kind")->valuestring, "op") && !strcmp(get(e, "rule")->valuestring, "at_most"));
        if (!strcmp(get(e, "metric")->valuestring, "times_bytes_floor"))
            CHECK(cJSON_GetArraySize(get(e, "shape")) == 3 && get(e, "target")->valuedouble == 2.0);
        if (!strcmp(get(e, "metric")->valuestring, "peak_device_bytes_per_pixel"))
            CHECK(get(e, "measured")->valuedouble == 19.5 && !strcmp(get(e, "kind")->valuestring, "pipeline"));
    }
    CHECK(met == 4 && missed == 5 && absent == 14);
    cJSON_Delete(root);
    free(text);
    /* derived from the results, so --render writes them again the same */
    tp_bench_report back;
    CHECK_OK(tp_bench_report_load(tp_test_ctx, &back, path));
    CHECK_OK(tp_bench_write_json(tp_test_ctx, &back, tmp_path("targets2.json")));
    char *ta1 = slurp(path), *ta2 = slurp(tmp_path("targets2.json"));
    CHECK(ta1 && ta2 && !strcmp(ta1, ta2));
    free(ta1);
    free(ta2);
    tp_bench_report_free(&back);
    tp_bench_report_free(&r);
    return 0;
}

/* seed-core is the seed without label2rgb: the same steps, inputs and parameters otherwise, and on a grey
 * image the same results at every step the two share. */
typedef struct digests {
    tp_context *ctx;
    tp_digester dg;
    int n;
    char names[TP_PIPE_MAX_STEPS][48];
    uint64_t hash[TP_PIPE_MAX_STEPS];
} digests;

static int on_step(void *user, int i, const tp_pipe_step *s, const tp_result *res, double ms)
{
    (void)i;
    (void)ms;
    digests *d = user;
    snprintf(d->names[d->n], sizeof d->names[d->n], "%s", s->name);
    d->hash[d->n] = 0;
    if (res && tp_result_digest(d->ctx, &d->dg, res, &d->hash[d->n]))
        return 1;
    d->n++;
    return 0;
}

static int test_seed_core_pipeline(void)
{
    tp_pipeline seed, core;
    tp_pipeline_seed(&seed);
    tp_pipeline_seed_core(&core);
    CHECK(!strcmp(core.name, "seed-core") && core.n == seed.n - 1);
    for (int i = 0, j = 0; i < seed.n; i++) {
        if (!strcmp(seed.steps[i].op, "label2rgb"))
            continue;
        CHECK(j < core.n && !memcmp(&seed.steps[i], &core.steps[j], sizeof seed.steps[i]));
        j++;
    }
    for (int j = 0; j < core.n; j++)
        CHECK(strcmp(core.steps[j].op, "label2rgb"));
    tp_image gray = tp_image_empty();
    int64_t shape[2] = {160, 200};
    CHECK_OK(tp_synth_input(tp_test_ctx, "gray", 2, shape, TP_UINT8, 3, &gray));
    digests a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.ctx = b.ctx = tp_test_ctx;
    tp_digester_init(&a.dg, 1);
    tp_digester_init(&b.dg, 1);
    CHECK_OK(tp_pipeline_run(tp_test_ctx, &seed, TP_BACKEND_CPU, &gray, on_step, &a, NULL));
    CHECK_OK(tp_pipeline_run(tp_test_ctx, &core, TP_BACKEND_CPU, &gray, on_step, &b, NULL));
    CHECK(a.n == seed.n && b.n == core.n);
    int same = 0;
    for (int j = 0; j < b.n; j++)
        for (int i = 0; i < a.n; i++)
            if (!strcmp(a.names[i], b.names[j])) {
                CHECK_MSG(a.hash[i] == b.hash[j], "step %s differs", b.names[j]);
                same++;
            }
    CHECK(same == core.n);
    tp_digester_free(&a.dg);
    tp_digester_free(&b.dg);
    tp_image_free(&gray);
    return 0;
}

static int cleanup(void)
{
    if (!g_dir[0])
        return 0;
    if (getenv("TWINPIX_TEST_KEEP")) { /* keep the reports to look at them */
        printf("  kept %s\n", g_dir);
        return 0;
    }
    DIR *d = opendir(g_dir);
    struct dirent *e;
    char path[512];
    int leftovers = 0;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') {
            leftovers += strstr(e->d_name, ".tmp.") != NULL; /* an atomic write left behind */
            snprintf(path, sizeof path, "%s/%s", g_dir, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
    CHECK(leftovers == 0);
    CHECK(rmdir(g_dir) == 0);
    return 0;
}

TP_TESTS(T(test_stats), T(test_names_and_shapes), T(test_crossover), T(test_derive), T(test_json), T(test_markdown),
         T(test_html), T(test_compare), T(test_load_roundtrip), T(test_size_rule), T(test_region_variants),
         T(test_region_case_runner), T(test_regions_report), T(test_targets_table), T(test_targets_judged),
         T(test_targets_report), T(test_seed_core_pipeline), T(cleanup))

/* The benchmark report: results collected by the suite, what is derived from them (speedups, crossovers,
 * the comparison with an older run), and the three files written from them: bench.json (the schema in
 * bench/README.md), report.md and report.html (self-contained: inline CSS and SVG, no script, no link).
 * Plain C with no Google Benchmark dependency, so the tests can feed it made-up results. */
#include "bench/bench.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- small shared pieces ---- */

static const char *const g_backend_names[TP_BENCH_BACKEND_COUNT] = {"cpu-1t", "cpu-Nt", "cuda", "cuda+transfers"};

const char *tp_bench_backend_name(tp_bench_backend b)
{
    return (unsigned)b < TP_BENCH_BACKEND_COUNT ? g_backend_names[b] : "unknown";
}

int tp_bench_backend_parse(const char *s, tp_bench_backend *out)
{
    for (int i = 0; i < TP_BENCH_BACKEND_COUNT; i++)
        if (s && !strcmp(s, g_backend_names[i])) {
            *out = (tp_bench_backend)i;
            return 0;
        }
    return -1;
}

void tp_bench_shape_str(int ndim, const int64_t *shape, char *out, size_t n)
{
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < ndim && used < n; i++) {
        int w = snprintf(out + used, n - used, "%s%lld", i ? "x" : "", (long long)shape[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

int64_t tp_bench_pixels(int ndim, const int64_t *shape)
{
    int64_t p = 1;
    for (int i = 0; i < ndim; i++)
        p *= shape[i];
    return p;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void tp_bench_stats_compute(double *ms, int64_t n, tp_bench_stats *out)
{
    out->samples = n > 0 ? n : 0;
    out->median_ms = out->min_ms = out->max_ms = out->stddev_ms = NAN;
    if (n <= 0)
        return;
    qsort(ms, (size_t)n, sizeof *ms, cmp_double);
    out->min_ms = ms[0];
    out->max_ms = ms[n - 1];
    out->median_ms = n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
    double mean = 0, ss = 0;
    for (int64_t i = 0; i < n; i++)
        mean += ms[i];
    mean /= (double)n;
    for (int64_t i = 0; i < n; i++)
        ss += (ms[i] - mean) * (ms[i] - mean);
    out->stddev_ms = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
}

/* ---- the report's storage ---- */

void tp_bench_report_init(tp_bench_report *r)
{
    memset(r, 0, sizeof *r);
    r->copy_bw_gbs = NAN;
    r->compare_band = 0.05;
}

void tp_bench_report_free(tp_bench_report *r)
{
    free(r->results);
    free(r->pipelines);
    free(r->speedups);
    free(r->crossovers);
    free(r->deltas);
    tp_bench_report_init(r);
}

static void *grow(void *v, int n, int *cap, size_t elem)
{
    if (n < *cap)
        return v;
    int c = *cap ? *cap * 2 : 64;
    void *p = realloc(v, (size_t)c * elem);
    if (p)
        *cap = c;
    return p;
}

tp_bench_result *tp_bench_report_add_result(tp_bench_report *r)
{
    tp_bench_result *v = grow(r->results, r->nresults, &r->cap_results, sizeof *v);
    if (!v)
        return NULL;
    r->results = v;
    tp_bench_result *e = &v[r->nresults++];
    memset(e, 0, sizeof *e);
    e->t.median_ms = e->t.min_ms = e->t.max_ms = e->t.stddev_ms = NAN;
    e->bytes_min = e->peak_device_bytes = e->peak_host_bytes = -1;
    e->fraction_of_copy_bw = e->h2d_ms = e->d2h_ms = NAN;
    e->input_sets = 1;
    return e;
}

tp_bench_pipeline_result *tp_bench_report_add_pipeline(tp_bench_report *r)
{
    tp_bench_pipeline_result *v = grow(r->pipelines, r->npipelines, &r->cap_pipelines, sizeof *v);
    if (!v)
        return NULL;
    r->pipelines = v;
    tp_bench_pipeline_result *e = &v[r->npipelines++];
    memset(e, 0, sizeof *e);
    e->total.median_ms = e->total.min_ms = e->total.max_ms = e->total.stddev_ms = NAN;
    e->peak_device_bytes = e->peak_host_bytes = -1;
    return e;
}

/* ---- derived: speedups and crossovers ---- */

typedef struct point {
    int64_t pixels;
    int win;
} point;

static int cmp_point(const void *a, const void *b)
{
    const point *x = a, *y = b;
    if (x->pixels != y->pixels)
        return x->pixels < y->pixels ? -1 : 1;
    return y->win - x->win; /* at equal size a loss sorts last: it is met first walking down */
}

int64_t tp_bench_crossover_pixels(int n, const int64_t *pixels, const double *cpu_ms, const double *gpu_ms)
{
    point *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    if (!p)
        return -1;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(cpu_ms[i]) && !isnan(gpu_ms[i])) {
            p[m].pixels = pixels[i];
            p[m++].win = gpu_ms[i] < cpu_ms[i];
        }
    qsort(p, (size_t)m, sizeof *p, cmp_point);
    int64_t from = -1;
    for (int i = m - 1; i >= 0 && p[i].win; i--)
        from = p[i].pixels;
    free(p);
    return from;
}

static int same_case(const tp_bench_result *a, const tp_bench_result *b)
{
    return !strcmp(a->op, b->op) && a->ndim == b->ndim && !memcmp(a->shape, b->shape, sizeof a->shape) &&
           !strcmp(a->dtype, b->dtype);
}

static double median_of(const tp_bench_report *r, const tp_bench_result *like, tp_bench_backend be)
{
    for (int i = 0; i < r->nresults; i++) {
        const tp_bench_result *e = &r->results[i];
        if (e->backend == be && !e->skipped && same_case(e, like))
            return e->t.median_ms;
    }
    return NAN;
}

static tp_status derive_speedups(tp_bench_report *r)
{
    free(r->speedups);
    r->speedups = NULL;
    r->nspeedups = 0;
    r->speedups = calloc((size_t)(r->nresults ? r->nresults : 1), sizeof *r->speedups);
    if (!r->speedups)
        return TP_ERR_NOMEM;
    for (int i = 0; i < r->nresults; i++) {
        const tp_bench_result *e = &r->results[i];
        int first = 1; /* one entry per op/shape/dtype: at its first result */
        for (int j = 0; j < i && first; j++)
            first = !same_case(&r->results[j], e);
        if (!first)
            continue;
        double cpu = median_of(r, e, TP_BENCH_CPU_NT), gpu = median_of(r, e, TP_BENCH_CUDA),
               gput = median_of(r, e, TP_BENCH_CUDA_TRANSFERS);
        if (isnan(cpu) || (isnan(gpu) && isnan(gput)))
            continue;
        tp_bench_speedup *s = &r->speedups[r->nspeedups++];
        snprintf(s->op, sizeof s->op, "%s", e->op);
        s->ndim = e->ndim;
        memcpy(s->shape, e->shape, sizeof s->shape);
        snprintf(s->dtype, sizeof s->dtype, "%s", e->dtype);
        s->cpu_ms = cpu;
        s->gpu_ms = gpu;
        s->gpu_with_transfers_ms = gput;
        s->speedup = gpu > 0 ? cpu / gpu : NAN;
        s->speedup_with_transfers = gput > 0 ? cpu / gput : NAN;
    }
    return TP_OK;
}

static tp_status derive_crossovers(tp_bench_report *r)
{
    free(r->crossovers);
    r->crossovers = NULL;
    r->ncrossovers = 0;
    int n = r->nspeedups;
    r->crossovers = calloc((size_t)(n ? n : 1), sizeof *r->crossovers);
    int64_t *px = malloc((size_t)(n ? n : 1) * sizeof *px);
    double *cpu = malloc((size_t)(n ? n : 1) * sizeof *cpu), *gpu = malloc((size_t)(n ? n : 1) * sizeof *gpu);
    tp_status st = (r->crossovers && px && cpu && gpu) ? TP_OK : TP_ERR_NOMEM;
    for (int i = 0; i < n && !st; i++) {
        const tp_bench_speedup *s = &r->speedups[i];
        int first = 1;
        for (int j = 0; j < i && first; j++)
            first = strcmp(r->speedups[j].op, s->op) || strcmp(r->speedups[j].dtype, s->dtype);
        if (!first)
            continue;
        int m = 0;
        for (int j = i; j < n; j++) {
            const tp_bench_speedup *t = &r->speedups[j];
            if (strcmp(t->op, s->op) || strcmp(t->dtype, s->dtype) || isnan(t->gpu_with_transfers_ms))
                continue;
            px[m] = tp_bench_pixels(t->ndim, t->shape);
            cpu[m] = t->cpu_ms;
            gpu[m++] = t->gpu_with_transfers_ms;
        }
        if (!m)
            continue;
        tp_bench_crossover *c = &r->crossovers[r->ncrossovers++];
        snprintf(c->op, sizeof c->op, "%s", s->op);
        snprintf(c->dtype, sizeof c->dtype, "%s", s->dtype);
        c->points = m;
        c->pixels = tp_bench_crossover_pixels(m, px, cpu, gpu);
    }
    free(px);
    free(cpu);
    free(gpu);
    return st;
}

tp_status tp_bench_report_derive(tp_bench_report *r)
{
    tp_status st = derive_speedups(r);
    return st ? st : derive_crossovers(r);
}

/* ---- JSON ---- */

static cJSON *num(double v) { return isnan(v) || isinf(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v); }
static cJSON *count(int64_t v) { return v < 0 ? cJSON_CreateNull() : cJSON_CreateNumber((double)v); }
static cJSON *str_or_null(const char *s) { return s && *s ? cJSON_CreateString(s) : cJSON_CreateNull(); }

static cJSON *shape_json(int ndim, const int64_t *shape)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < ndim; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)shape[i]));
    return a;
}

static void version_str(int v, char *out, size_t n)
{
    if (v > 0)
        snprintf(out, n, "%d.%d", v / 1000, (v % 1000) / 10);
    else
        snprintf(out, n, "unknown");
}

static cJSON *meta_json(const tp_bench_report *r)
{
    const tp_meta *m = &r->meta;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "version", m->version);
    cJSON_AddStringToObject(o, "git_commit", m->git_commit);
    cJSON_AddStringToObject(o, "build_flags", m->build_flags);
    cJSON_AddStringToObject(o, "host_cpu", m->host_cpu);
    cJSON_AddNumberToObject(o, "host_threads", m->host_threads);
    cJSON_AddStringToObject(o, "hostname", m->hostname);
    cJSON_AddNumberToObject(o, "cpu_threads", r->cpu_threads);
    cJSON_AddStringToObject(o, "date", r->date);
    cJSON_AddStringToObject(o, "argv", r->argv);
    cJSON_AddBoolToObject(o, "quick", r->quick);
    cJSON_AddItemToObject(o, "min_time_s", num(r->min_time_s));
    if (m->gpu_count > 0) {
        cJSON *g = cJSON_CreateObject();
        char drv[32], rt[32], cc[16];
        version_str(m->gpu.driver_version, drv, sizeof drv);
        version_str(m->gpu.runtime_version, rt, sizeof rt);
        snprintf(cc, sizeof cc, "%d.%d", m->gpu.cc_major, m->gpu.cc_minor);
        cJSON_AddStringToObject(g, "name", m->gpu.name);
        cJSON_AddStringToObject(g, "driver", drv);
        cJSON_AddStringToObject(g, "runtime", rt);
        cJSON_AddNumberToObject(g, "sms", m->gpu.sm_count);
        cJSON_AddNumberToObject(g, "memory", (double)m->gpu.total_mem);
        cJSON_AddStringToObject(g, "compute_capability", cc);
        cJSON_AddNumberToObject(g, "l2_bytes", (double)m->gpu.l2_bytes);
        cJSON_AddNumberToObject(g, "count", m->gpu_count);
        cJSON_AddItemToObject(o, "gpu", g);
    } else {
        cJSON_AddNullToObject(o, "gpu");
    }
    cJSON_AddItemToObject(o, "gpu_unavailable_reason", str_or_null(r->gpu_available ? "" : r->gpu_reason));
    cJSON_AddItemToObject(o, "copy_bandwidth_gbs", num(r->copy_bw_gbs));
    cJSON_AddStringToObject(o, "peak_host_method", r->peak_host_method);
    cJSON_AddStringToObject(o, "timing",
                            "median of per-call samples after a warm-up; CPU: monotonic clock around the call; "
                            "cuda: CUDA events around the call, inputs already on the device (rotated copies "
                            "when one call's bytes fit in L2); cuda+transfers: events around H2D + call + D2H "
                            "from pageable host memory");
    return o;
}

static cJSON *result_json(const tp_bench_result *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "op", e->op);
    cJSON_AddItemToObject(o, "shape", shape_json(e->ndim, e->shape));
    cJSON_AddStringToObject(o, "dtype", e->dtype);
    cJSON_AddStringToObject(o, "backend", tp_bench_backend_name(e->backend));
    cJSON_AddItemToObject(o, "threads", e->threads > 0 ? cJSON_CreateNumber(e->threads) : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "params", e->params);
    cJSON_AddBoolToObject(o, "skipped", e->skipped);
    cJSON_AddItemToObject(o, "skip_reason", str_or_null(e->skipped ? e->skip_reason : ""));
    cJSON_AddItemToObject(o, "median_ms", num(e->t.median_ms));
    cJSON_AddItemToObject(o, "min_ms", num(e->t.min_ms));
    cJSON_AddItemToObject(o, "max_ms", num(e->t.max_ms));
    cJSON_AddItemToObject(o, "stddev_ms", num(e->t.stddev_ms));
    cJSON_AddNumberToObject(o, "samples", (double)e->t.samples);
    cJSON_AddItemToObject(o, "bytes_min", count(e->bytes_min));
    cJSON_AddItemToObject(o, "fraction_of_copy_bw", num(e->fraction_of_copy_bw));
    cJSON_AddItemToObject(o, "h2d_ms", num(e->h2d_ms));
    cJSON_AddItemToObject(o, "d2h_ms", num(e->d2h_ms));
    cJSON_AddItemToObject(o, "peak_device_bytes", count(e->peak_device_bytes));
    cJSON_AddItemToObject(o, "peak_host_bytes", count(e->peak_host_bytes));
    cJSON_AddNumberToObject(o, "input_sets", e->input_sets);
    return o;
}

static cJSON *speedup_json(const tp_bench_speedup *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "op", s->op);
    cJSON_AddItemToObject(o, "shape", shape_json(s->ndim, s->shape));
    cJSON_AddStringToObject(o, "dtype", s->dtype);
    cJSON_AddItemToObject(o, "cpu_ms", num(s->cpu_ms));
    cJSON_AddItemToObject(o, "gpu_ms", num(s->gpu_ms));
    cJSON_AddItemToObject(o, "gpu_with_transfers_ms", num(s->gpu_with_transfers_ms));
    cJSON_AddItemToObject(o, "speedup", num(s->speedup));
    cJSON_AddItemToObject(o, "speedup_with_transfers", num(s->speedup_with_transfers));
    return o;
}

static cJSON *pipeline_json(const tp_bench_pipeline_result *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", p->name);
    cJSON_AddItemToObject(o, "shape", shape_json(p->ndim, p->shape));
    cJSON_AddStringToObject(o, "dtype", p->dtype);
    cJSON_AddStringToObject(o, "backend", tp_bench_backend_name(p->backend));
    cJSON_AddItemToObject(o, "threads", p->threads > 0 ? cJSON_CreateNumber(p->threads) : cJSON_CreateNull());
    cJSON_AddBoolToObject(o, "skipped", p->skipped);
    cJSON_AddItemToObject(o, "skip_reason", str_or_null(p->skipped ? p->skip_reason : ""));
    cJSON *st = cJSON_AddArrayToObject(o, "stages");
    for (int k = 0; k < p->nstages; k++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "name", p->stages[k].name);
        cJSON_AddItemToObject(s, "ms", num(p->stages[k].ms));
        cJSON_AddItemToArray(st, s);
    }
    cJSON_AddItemToObject(o, "total_ms", num(p->total.median_ms));
    cJSON_AddItemToObject(o, "min_ms", num(p->total.min_ms));
    cJSON_AddItemToObject(o, "max_ms", num(p->total.max_ms));
    cJSON_AddItemToObject(o, "stddev_ms", num(p->total.stddev_ms));
    cJSON_AddNumberToObject(o, "samples", (double)p->total.samples);
    cJSON_AddItemToObject(o, "peak_device_bytes", count(p->peak_device_bytes));
    cJSON_AddItemToObject(o, "peak_host_bytes", count(p->peak_host_bytes));
    return o;
}

static const char *verdict_name(int v) { return v < 0 ? "faster" : v > 0 ? "slower" : "same"; }

static cJSON *comparison_json(const tp_bench_report *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "against", r->compare_path);
    cJSON_AddNumberToObject(o, "band", r->compare_band);
    cJSON *a = cJSON_AddArrayToObject(o, "entries");
    for (int i = 0; i < r->ndeltas; i++) {
        const tp_bench_delta *d = &r->deltas[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "kind", d->kind);
        cJSON_AddStringToObject(e, "op", d->op);
        cJSON_AddItemToObject(e, "shape", shape_json(d->ndim, d->shape));
        cJSON_AddStringToObject(e, "dtype", d->dtype);
        cJSON_AddStringToObject(e, "backend", d->backend);
        cJSON_AddItemToObject(e, "old_ms", num(d->old_ms));
        cJSON_AddItemToObject(e, "new_ms", num(d->new_ms));
        cJSON_AddItemToObject(e, "ratio", num(d->ratio));
        cJSON_AddStringToObject(e, "verdict", verdict_name(d->verdict));
        cJSON_AddItemToArray(a, e);
    }
    return o;
}

static cJSON *report_json(const tp_bench_report *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema_version", TP_BENCH_SCHEMA);
    cJSON_AddItemToObject(root, "meta", meta_json(r));
    cJSON *a = cJSON_AddArrayToObject(root, "results");
    for (int i = 0; i < r->nresults; i++)
        cJSON_AddItemToArray(a, result_json(&r->results[i]));
    a = cJSON_AddArrayToObject(root, "speedups");
    for (int i = 0; i < r->nspeedups; i++)
        cJSON_AddItemToArray(a, speedup_json(&r->speedups[i]));
    a = cJSON_AddArrayToObject(root, "crossovers");
    for (int i = 0; i < r->ncrossovers; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "op", r->crossovers[i].op);
        cJSON_AddStringToObject(c, "dtype", r->crossovers[i].dtype);
        cJSON_AddItemToObject(c, "pixels", count(r->crossovers[i].pixels));
        cJSON_AddNumberToObject(c, "points", r->crossovers[i].points);
        cJSON_AddStringToObject(c, "basis", "cuda+transfers vs cpu-Nt median");
        cJSON_AddItemToArray(a, c);
    }
    a = cJSON_AddArrayToObject(root, "pipeline");
    for (int i = 0; i < r->npipelines; i++)
        cJSON_AddItemToArray(a, pipeline_json(&r->pipelines[i]));
    if (r->compare_path[0])
        cJSON_AddItemToObject(root, "comparison", comparison_json(r));
    return root;
}

/* tp_atomic_open's temporary file is private (mkstemp: 0600); a report is for reading, like gbench.json. */
static tp_status open_report(tp_context *ctx, const char *path, tp_atomic_file *af)
{
    tp_status st = tp_atomic_open(ctx, path, af);
    if (st)
        return st;
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fileno(af->fp), 0666 & ~mask);
    return TP_OK;
}

static tp_status write_text(tp_context *ctx, const char *path, const char *text)
{
    tp_atomic_file af;
    tp_status st = open_report(ctx, path, &af);
    if (st)
        return st;
    if (fputs(text, af.fp) < 0) {
        tp_atomic_abort(&af);
        return tp_error(ctx, TP_ERR_IO, "cannot write '%s'", path);
    }
    return tp_atomic_commit(ctx, &af);
}

tp_status tp_bench_write_json(tp_context *ctx, const tp_bench_report *r, const char *path)
{
    cJSON *root = report_json(r);
    char *text = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return tp_error(ctx, TP_ERR_NOMEM, "bench: out of host memory writing %s", path);
    size_t n = strlen(text);
    char *withnl = malloc(n + 2);
    tp_status st;
    if (!withnl) {
        st = tp_error(ctx, TP_ERR_NOMEM, "bench: out of host memory writing %s", path);
    } else {
        memcpy(withnl, text, n);
        withnl[n] = '\n';
        withnl[n + 1] = 0;
        st = write_text(ctx, path, withnl);
    }
    free(withnl);
    cJSON_free(text);
    return st;
}

/* ---- comparison with an older bench.json ---- */

static int json_shape(const cJSON *a, int *ndim, int64_t *shape)
{
    int n = cJSON_GetArraySize(a);
    if (!cJSON_IsArray(a) || n < 1 || n > 3)
        return -1;
    for (int i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetArrayItem(a, i);
        if (!cJSON_IsNumber(v))
            return -1;
        shape[i] = (int64_t)v->valuedouble;
    }
    *ndim = n;
    return 0;
}

static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double json_num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static tp_bench_delta *add_delta(tp_bench_report *r, int *cap)
{
    tp_bench_delta *v = grow(r->deltas, r->ndeltas, cap, sizeof *v);
    if (!v)
        return NULL;
    r->deltas = v;
    tp_bench_delta *d = &v[r->ndeltas++];
    memset(d, 0, sizeof *d);
    return d;
}

static void set_ratio(tp_bench_delta *d, double band)
{
    d->ratio = d->new_ms / d->old_ms;
    d->verdict = d->ratio < 1.0 - band ? -1 : d->ratio > 1.0 + band ? 1 : 0;
}

static char *read_file(tp_context *ctx, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        tp_error(ctx, TP_ERR_IO, "compare-with: cannot read '%s'", path);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 + 1 > cap) {
            cap = cap ? cap * 2 : 131072;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                tp_error(ctx, TP_ERR_NOMEM, "compare-with: out of host memory reading '%s'", path);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, 65536, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    buf[len] = 0;
    return buf;
}

static tp_status compare_results(tp_bench_report *r, const cJSON *old, int *cap)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(old, "results"))
    {
        int ndim;
        int64_t shape[3] = {0, 0, 0};
        double old_ms = json_num(e, "median_ms");
        if (isnan(old_ms) || old_ms <= 0 || json_shape(cJSON_GetObjectItemCaseSensitive(e, "shape"), &ndim, shape))
            continue;
        for (int i = 0; i < r->nresults; i++) {
            const tp_bench_result *n = &r->results[i];
            if (n->skipped || isnan(n->t.median_ms) || strcmp(n->op, json_str(e, "op")) ||
                strcmp(n->dtype, json_str(e, "dtype")) || strcmp(tp_bench_backend_name(n->backend), json_str(e, "backend")) ||
                n->ndim != ndim || memcmp(n->shape, shape, (size_t)ndim * sizeof *shape))
                continue;
            tp_bench_delta *d = add_delta(r, cap);
            if (!d)
                return TP_ERR_NOMEM;
            snprintf(d->kind, sizeof d->kind, "op");
            snprintf(d->op, sizeof d->op, "%s", n->op);
            d->ndim = ndim;
            memcpy(d->shape, shape, sizeof d->shape);
            snprintf(d->dtype, sizeof d->dtype, "%s", n->dtype);
            snprintf(d->backend, sizeof d->backend, "%s", tp_bench_backend_name(n->backend));
            d->old_ms = old_ms;
            d->new_ms = n->t.median_ms;
            set_ratio(d, r->compare_band);
            break;
        }
    }
    return TP_OK;
}

static tp_status compare_pipelines(tp_bench_report *r, const cJSON *old, int *cap)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(old, "pipeline"))
    {
        int ndim;
        int64_t shape[3] = {0, 0, 0};
        double old_ms = json_num(e, "total_ms");
        if (isnan(old_ms) || old_ms <= 0 || json_shape(cJSON_GetObjectItemCaseSensitive(e, "shape"), &ndim, shape))
            continue;
        for (int i = 0; i < r->npipelines; i++) {
            const tp_bench_pipeline_result *n = &r->pipelines[i];
            if (n->skipped || isnan(n->total.median_ms) || strcmp(n->name, json_str(e, "name")) ||
                strcmp(tp_bench_backend_name(n->backend), json_str(e, "backend")) || n->ndim != ndim ||
                memcmp(n->shape, shape, (size_t)ndim * sizeof *shape))
                continue;
            tp_bench_delta *d = add_delta(r, cap);
            if (!d)
                return TP_ERR_NOMEM;
            snprintf(d->kind, sizeof d->kind, "pipeline");
            snprintf(d->op, sizeof d->op, "pipeline:%s", n->name);
            d->ndim = ndim;
            memcpy(d->shape, shape, sizeof d->shape);
            snprintf(d->dtype, sizeof d->dtype, "%s", n->dtype);
            snprintf(d->backend, sizeof d->backend, "%s", tp_bench_backend_name(n->backend));
            d->old_ms = old_ms;
            d->new_ms = n->total.median_ms;
            set_ratio(d, r->compare_band);
            break;
        }
    }
    return TP_OK;
}

tp_status tp_bench_report_compare(tp_context *ctx, tp_bench_report *r, const char *old_json_path)
{
    char *text = read_file(ctx, old_json_path);
    if (!text)
        return TP_ERR_IO;
    cJSON *old = cJSON_Parse(text);
    free(text);
    if (!old)
        return tp_error(ctx, TP_ERR_IO, "compare-with: '%s' is not JSON", old_json_path);
    if (strcmp(json_str(old, "schema_version"), TP_BENCH_SCHEMA)) {
        tp_error(ctx, TP_ERR_IO, "compare-with: '%s': expected schema_version %s, got '%s'", old_json_path,
                 TP_BENCH_SCHEMA, json_str(old, "schema_version"));
        cJSON_Delete(old);
        return TP_ERR_IO;
    }
    free(r->deltas);
    r->deltas = NULL;
    r->ndeltas = 0;
    int cap = 0;
    tp_status st = compare_results(r, old, &cap);
    if (!st)
        st = compare_pipelines(r, old, &cap);
    cJSON_Delete(old);
    if (st)
        return tp_error(ctx, st, "compare-with: out of host memory");
    snprintf(r->compare_path, sizeof r->compare_path, "%s", old_json_path);
    return TP_OK;
}

static void delta_counts(const tp_bench_report *r, int *faster, int *slower, int *same)
{
    *faster = *slower = *same = 0;
    for (int i = 0; i < r->ndeltas; i++) {
        int v = r->deltas[i].verdict;
        *(v < 0 ? faster : v > 0 ? slower : same) += 1;
    }
}

void tp_bench_print_comparison(const tp_bench_report *r, FILE *f)
{
    int faster, slower, same;
    delta_counts(r, &faster, &slower, &same);
    fprintf(f, "comparison with %s (ratio = new/old median; beyond +-%.0f%%: faster/slower)\n", r->compare_path,
            r->compare_band * 100);
    fprintf(f, "%-24s %-12s %-7s %-15s %11s %11s %7s  %s\n", "op", "shape", "dtype", "backend", "old ms", "new ms",
            "ratio", "verdict");
    for (int i = 0; i < r->ndeltas; i++) {
        const tp_bench_delta *d = &r->deltas[i];
        char shape[64];
        tp_bench_shape_str(d->ndim, d->shape, shape, sizeof shape);
        fprintf(f, "%-24s %-12s %-7s %-15s %11.4f %11.4f %7.3f  %s\n", d->op, shape, d->dtype, d->backend, d->old_ms,
                d->new_ms, d->ratio, verdict_name(d->verdict));
    }
    fprintf(f, "%d faster, %d slower, %d unchanged, of %d matching entries\n", faster, slower, same, r->ndeltas);
}

/* ---- text formatting shared by Markdown and HTML ---- */

static const char *fmt_ms(double v, char *buf, size_t n)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else if (v >= 100)
        snprintf(buf, n, "%.1f", v);
    else if (v >= 1)
        snprintf(buf, n, "%.3f", v);
    else if (v >= 0.01)
        snprintf(buf, n, "%.4f", v);
    else
        snprintf(buf, n, "%.5f", v);
    return buf;
}

static const char *fmt_x(double v, char *buf, size_t n)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, v >= 100 ? "%.0fx" : v >= 10 ? "%.1fx" : "%.2fx", v);
    return buf;
}

static const char *fmt_bytes(int64_t v, char *buf, size_t n)
{
    if (v < 0)
        snprintf(buf, n, "-");
    else if (v >= (int64_t)1 << 30)
        snprintf(buf, n, "%.2f GiB", (double)v / (double)((int64_t)1 << 30));
    else if (v >= (int64_t)1 << 20)
        snprintf(buf, n, "%.1f MiB", (double)v / (double)((int64_t)1 << 20));
    else if (v >= 1024)
        snprintf(buf, n, "%.1f KiB", (double)v / 1024.0);
    else
        snprintf(buf, n, "%lld B", (long long)v);
    return buf;
}

static const char *fmt_pct(double v, char *buf, size_t n)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.1f%%", v * 100);
    return buf;
}

/* A row of the headline table: one op/shape/dtype with every backend's median. */
typedef struct headline {
    const tp_bench_result *first;
    double ms[TP_BENCH_BACKEND_COUNT];
    double frac;
} headline;

/* Rows in op order, then by dimension and size; returns the count (rows has nresults entries). */
static int cmp_headline(const void *a, const void *b)
{
    const tp_bench_result *x = ((const headline *)a)->first, *y = ((const headline *)b)->first;
    int c = strcmp(x->op, y->op);
    if (c)
        return c;
    if (x->ndim != y->ndim)
        return x->ndim - y->ndim;
    int64_t px = tp_bench_pixels(x->ndim, x->shape), py = tp_bench_pixels(y->ndim, y->shape);
    if (px != py)
        return px < py ? -1 : 1;
    return strcmp(x->dtype, y->dtype);
}

static int build_headlines(const tp_bench_report *r, headline *rows)
{
    int n = 0;
    for (int i = 0; i < r->nresults; i++) {
        const tp_bench_result *e = &r->results[i];
        int k = 0;
        while (k < n && !same_case(rows[k].first, e))
            k++;
        if (k == n) {
            rows[n].first = e;
            for (int b = 0; b < TP_BENCH_BACKEND_COUNT; b++)
                rows[n].ms[b] = NAN;
            rows[n].frac = NAN;
            n++;
        }
        if (!e->skipped) {
            rows[k].ms[e->backend] = e->t.median_ms;
            if (e->backend == TP_BENCH_CUDA)
                rows[k].frac = e->fraction_of_copy_bw;
        }
    }
    qsort(rows, (size_t)n, sizeof *rows, cmp_headline);
    return n;
}

static int have_gpu_results(const tp_bench_report *r)
{
    for (int i = 0; i < r->nresults; i++)
        if (tp_bench_backend_is_cuda(r->results[i].backend))
            return 1;
    for (int i = 0; i < r->npipelines; i++)
        if (tp_bench_backend_is_cuda(r->pipelines[i].backend))
            return 1;
    return 0;
}

/* Stage names of all pipelines, in first-seen order. */
static int stage_columns(const tp_bench_report *r, const char **names, int max)
{
    int n = 0;
    for (int i = 0; i < r->npipelines; i++)
        for (int k = 0; k < r->pipelines[i].nstages; k++) {
            const char *s = r->pipelines[i].stages[k].name;
            int j = 0;
            while (j < n && strcmp(names[j], s))
                j++;
            if (j == n && n < max)
                names[n++] = s;
        }
    /* transfers belong at the ends */
    for (int j = 0; j < n; j++)
        if (!strcmp(names[j], "h2d") && j > 0) {
            const char *h = names[j];
            memmove(&names[1], &names[0], (size_t)j * sizeof *names);
            names[0] = h;
        }
    for (int j = 0; j < n - 1; j++)
        if (!strcmp(names[j], "d2h")) {
            const char *d = names[j];
            memmove(&names[j], &names[j + 1], (size_t)(n - 1 - j) * sizeof *names);
            names[n - 1] = d;
            break;
        }
    return n;
}

static double stage_ms(const tp_bench_pipeline_result *p, const char *name)
{
    for (int k = 0; k < p->nstages; k++)
        if (!strcmp(p->stages[k].name, name))
            return p->stages[k].ms;
    return NAN;
}

/* ---- Markdown ---- */

static void md_meta(FILE *f, const tp_bench_report *r, int gpu)
{
    const tp_meta *m = &r->meta;
    fprintf(f, "# twinpix benchmark report\n\n");
    fprintf(f, "- twinpix %s (git %s), build: %s\n", m->version, m->git_commit, m->build_flags);
    fprintf(f, "- host: %s, %d threads (cpu-Nt ran on %d)%s%s\n", m->host_cpu, m->host_threads, r->cpu_threads,
            m->hostname[0] ? ", " : "", m->hostname);
    if (gpu) {
        char drv[32], rt[32], bw[64];
        version_str(m->gpu.driver_version, drv, sizeof drv);
        version_str(m->gpu.runtime_version, rt, sizeof rt);
        if (isnan(r->copy_bw_gbs))
            snprintf(bw, sizeof bw, "not measured");
        else
            snprintf(bw, sizeof bw, "%.0f GB/s", r->copy_bw_gbs);
        fprintf(f, "- GPU: %s, %d SMs, %.1f GiB, driver %s, runtime %s; device-to-device copy bandwidth (read + "
                   "written) measured in this run: %s\n",
                m->gpu.name, m->gpu.sm_count, (double)m->gpu.total_mem / (double)((int64_t)1 << 30), drv, rt, bw);
    } else {
        fprintf(f, "- **GPU columns are absent**: %s\n", r->gpu_reason[0] ? r->gpu_reason : "no GPU results");
    }
    fprintf(f, "- date: %s; %s; minimum time per case %.3g s\n", r->date, r->quick ? "quick run" : "full run",
            r->min_time_s);
    fprintf(f, "- command: `%s`\n", r->argv);
    fprintf(f, "- times are medians of per-call samples after a warm-up; GPU times are CUDA events on the stream\n");
    fprintf(f, "- peak host memory: %s\n\n", r->peak_host_method);
}

static void md_headline(FILE *f, const tp_bench_report *r, int gpu)
{
    headline *rows = calloc((size_t)(r->nresults ? r->nresults : 1), sizeof *rows);
    if (!rows)
        return;
    int n = build_headlines(r, rows);
    char a[32], b[32], c[32], d[32], e[32], g[32], h[32];
    fprintf(f, "## Ops (median ms)\n\n");
    if (gpu) {
        fprintf(f, "| op | shape | dtype | CPU 1t ms | CPU %dt ms | GPU ms | GPU+transfers ms | speedup | speedup "
                   "with transfers | of copy BW |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n",
                r->cpu_threads);
    } else {
        fprintf(f, "| op | shape | dtype | CPU 1t ms | CPU %dt ms | threads speedup |\n|---|---|---|---:|---:|---:|\n",
                r->cpu_threads);
    }
    for (int i = 0; i < n; i++) {
        const headline *x = &rows[i];
        char shape[64];
        tp_bench_shape_str(x->first->ndim, x->first->shape, shape, sizeof shape);
        double cpu = x->ms[TP_BENCH_CPU_NT], g1 = x->ms[TP_BENCH_CUDA], g2 = x->ms[TP_BENCH_CUDA_TRANSFERS];
        fprintf(f, "| %s | %s | %s | %s | %s |", x->first->op, shape, x->first->dtype,
                fmt_ms(x->ms[TP_BENCH_CPU_1T], a, sizeof a), fmt_ms(cpu, b, sizeof b));
        if (gpu)
            fprintf(f, " %s | %s | %s | %s | %s |\n", fmt_ms(g1, c, sizeof c), fmt_ms(g2, d, sizeof d),
                    fmt_x(cpu / g1, e, sizeof e), fmt_x(cpu / g2, g, sizeof g), fmt_pct(x->frac, h, sizeof h));
        else
            fprintf(f, " %s |\n", fmt_x(x->ms[TP_BENCH_CPU_1T] / cpu, c, sizeof c));
    }
    fprintf(f, "\n");
    free(rows);
}

static void md_transfers(FILE *f, const tp_bench_report *r)
{
    int any = 0;
    char a[32], b[32], c[32], d[32];
    for (int i = 0; i < r->nresults; i++) {
        const tp_bench_result *e = &r->results[i];
        if (e->backend != TP_BENCH_CUDA_TRANSFERS || e->skipped)
            continue;
        if (!any++)
            fprintf(f, "## GPU with transfers, split (median ms)\n\n| op | shape | dtype | H2D | compute | D2H | "
                       "total |\n|---|---|---|---:|---:|---:|---:|\n");
        char shape[64];
        tp_bench_shape_str(e->ndim, e->shape, shape, sizeof shape);
        fprintf(f, "| %s | %s | %s | %s | %s | %s | %s |\n", e->op, shape, e->dtype, fmt_ms(e->h2d_ms, a, sizeof a),
                fmt_ms(e->t.median_ms - e->h2d_ms - e->d2h_ms, b, sizeof b), fmt_ms(e->d2h_ms, c, sizeof c),
                fmt_ms(e->t.median_ms, d, sizeof d));
    }
    if (any)
        fprintf(f, "\nThe parts are medians taken separately, so they need not add up to the total's median.\n\n");
}

static void md_crossovers(FILE *f, const tp_bench_report *r)
{
    if (!r->ncrossovers)
        return;
    fprintf(f, "## Crossovers: from how many pixels the GPU with transfers beats the CPU on all threads\n\n"
               "| op | dtype | from pixels | measured sizes |\n|---|---|---:|---:|\n");
    for (int i = 0; i < r->ncrossovers; i++) {
        const tp_bench_crossover *c = &r->crossovers[i];
        if (c->pixels < 0)
            fprintf(f, "| %s | %s | never (in the sizes measured) | %d |\n", c->op, c->dtype, c->points);
        else
            fprintf(f, "| %s | %s | %lld | %d |\n", c->op, c->dtype, (long long)c->pixels, c->points);
    }
    fprintf(f, "\n");
}

static void md_pipelines(FILE *f, const tp_bench_report *r)
{
    if (!r->npipelines)
        return;
    const char *cols[TP_BENCH_MAX_STAGES + 2];
    int nc = stage_columns(r, cols, TP_BENCH_MAX_STAGES + 2);
    char a[32];
    fprintf(f, "## Seed pipeline, by stage (median ms)\n\n| shape | backend |");
    for (int k = 0; k < nc; k++)
        fprintf(f, " %s |", cols[k]);
    fprintf(f, " total | peak device | peak host |\n|---|---|");
    for (int k = 0; k < nc + 3; k++)
        fprintf(f, "---:|");
    fprintf(f, "\n");
    for (int i = 0; i < r->npipelines; i++) {
        const tp_bench_pipeline_result *p = &r->pipelines[i];
        char shape[64];
        tp_bench_shape_str(p->ndim, p->shape, shape, sizeof shape);
        fprintf(f, "| %s | %s |", shape, tp_bench_backend_name(p->backend));
        if (p->skipped) {
            fprintf(f, " skipped: %s |", p->skip_reason);
            for (int k = 1; k < nc + 3; k++)
                fprintf(f, " |");
            fprintf(f, "\n");
            continue;
        }
        for (int k = 0; k < nc; k++)
            fprintf(f, " %s |", fmt_ms(stage_ms(p, cols[k]), a, sizeof a));
        char b[32], c[32];
        fprintf(f, " **%s** | %s | %s |\n", fmt_ms(p->total.median_ms, a, sizeof a),
                fmt_bytes(p->peak_device_bytes, b, sizeof b), fmt_bytes(p->peak_host_bytes, c, sizeof c));
    }
    fprintf(f, "\nStage times are medians taken stage by stage; the total is the median of whole runs.\n\n");
}

/* Skipped cases, grouped by op and reason (a missing CUDA op would otherwise fill a page). */
static void md_skipped(FILE *f, const tp_bench_report *r)
{
    int any = 0;
    for (int i = 0; i < r->nresults; i++) {
        const tp_bench_result *e = &r->results[i];
        if (!e->skipped)
            continue;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = r->results[j].skipped && !strcmp(r->results[j].op, e->op) &&
                   !strcmp(r->results[j].skip_reason, e->skip_reason);
        if (seen)
            continue;
        if (!any++)
            fprintf(f, "## Skipped cases\n\n");
        char backends[128] = "";
        int count = 0;
        for (int j = i; j < r->nresults; j++) {
            const tp_bench_result *o = &r->results[j];
            if (!o->skipped || strcmp(o->op, e->op) || strcmp(o->skip_reason, e->skip_reason))
                continue;
            count++;
            const char *bn = tp_bench_backend_name(o->backend);
            if (!strstr(backends, bn) && strlen(backends) + strlen(bn) + 3 < sizeof backends) {
                if (*backends)
                    strcat(backends, ", ");
                strcat(backends, bn);
            }
        }
        fprintf(f, "- %s (%s; %d case%s): %s\n", e->op, backends, count, count > 1 ? "s" : "", e->skip_reason);
    }
    for (int i = 0; i < r->npipelines; i++) {
        const tp_bench_pipeline_result *p = &r->pipelines[i];
        if (!p->skipped)
            continue;
        if (!any++)
            fprintf(f, "## Skipped cases\n\n");
        char shape[64];
        tp_bench_shape_str(p->ndim, p->shape, shape, sizeof shape);
        fprintf(f, "- pipeline %s %s %s: %s\n", p->name, shape, tp_bench_backend_name(p->backend), p->skip_reason);
    }
    if (any)
        fprintf(f, "\n");
}

static void md_details(FILE *f, const tp_bench_report *r)
{
    fprintf(f, "## All results\n\n| op | shape | dtype | backend | median ms | min | max | stddev | samples | "
               "bytes moved (min) | of copy BW | peak device | peak host |\n"
               "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < r->nresults; i++) {
        const tp_bench_result *e = &r->results[i];
        if (e->skipped)
            continue;
        char shape[64], a[32], b[32], c[32], d[32], g[32], h[32], k[32], m[32];
        tp_bench_shape_str(e->ndim, e->shape, shape, sizeof shape);
        fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s | %lld | %s | %s | %s | %s |\n", e->op, shape, e->dtype,
                tp_bench_backend_name(e->backend), fmt_ms(e->t.median_ms, a, sizeof a), fmt_ms(e->t.min_ms, b, sizeof b),
                fmt_ms(e->t.max_ms, c, sizeof c), fmt_ms(e->t.stddev_ms, d, sizeof d), (long long)e->t.samples,
                fmt_bytes(e->bytes_min, g, sizeof g), fmt_pct(e->fraction_of_copy_bw, h, sizeof h),
                fmt_bytes(e->peak_device_bytes, k, sizeof k), fmt_bytes(e->peak_host_bytes, m, sizeof m));
    }
    fprintf(f, "\n");
}

static void md_comparison(FILE *f, const tp_bench_report *r)
{
    if (!r->compare_path[0])
        return;
    int faster, slower, same;
    delta_counts(r, &faster, &slower, &same);
    fprintf(f, "## Compared with `%s`\n\n%d faster, %d slower, %d unchanged (within +-%.0f%%), of %d matching "
               "entries. Ratio = new / old median.\n\n",
            r->compare_path, faster, slower, same, r->compare_band * 100, r->ndeltas);
    if (!r->ndeltas)
        return;
    fprintf(f, "| op | shape | dtype | backend | old ms | new ms | ratio | verdict |\n"
               "|---|---|---|---|---:|---:|---:|---|\n");
    for (int i = 0; i < r->ndeltas; i++) {
        const tp_bench_delta *d = &r->deltas[i];
        char shape[64], a[32], b[32];
        tp_bench_shape_str(d->ndim, d->shape, shape, sizeof shape);
        fprintf(f, "| %s | %s | %s | %s | %s | %s | %.3f | %s |\n", d->op, shape, d->dtype, d->backend,
                fmt_ms(d->old_ms, a, sizeof a), fmt_ms(d->new_ms, b, sizeof b), d->ratio,
                d->verdict < 0 ? "**faster**" : d->verdict > 0 ? "**slower**" : "same");
    }
    fprintf(f, "\n");
}

tp_status tp_bench_write_markdown(tp_context *ctx, const tp_bench_report *r, const char *path)
{
    tp_atomic_file af;
    tp_status st = open_report(ctx, path, &af);
    if (st)
        return st;
    int gpu = have_gpu_results(r) && r->gpu_available;
    md_meta(af.fp, r, gpu);
    md_comparison(af.fp, r);
    md_headline(af.fp, r, gpu);
    md_crossovers(af.fp, r);
    md_pipelines(af.fp, r);
    if (gpu)
        md_transfers(af.fp, r);
    md_skipped(af.fp, r);
    md_details(af.fp, r);
    return tp_atomic_commit(ctx, &af);
}

/* ---- HTML: one self-contained file, inline CSS and SVG ---- */

static void html_esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static const char *const g_palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                                        "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#ad494a",
                                        "#637939", "#843c39", "#7b4173", "#3182bd"};
#define PALETTE_N ((int)(sizeof g_palette / sizeof g_palette[0]))

/* "1k", "4.2M", "0.5": compact labels for log axes */
static const char *fmt_si(double v, char *buf, size_t n)
{
    static const char *const suffix[] = {"", "k", "M", "G", "T"};
    int k = 0;
    while (v >= 1000 && k < 4) {
        v /= 1000;
        k++;
    }
    if (k == 0 && v < 1)
        snprintf(buf, n, "%g", v);
    else
        snprintf(buf, n, v >= 10 || v == floor(v) ? "%.0f%s" : "%.1f%s", v, suffix[k]);
    return buf;
}

typedef struct series {
    char name[64];
    int n;
    double x[64], y[64];
    char tip[64][96];
} series;

typedef struct log_axis {
    double lo, hi;  /* log10 of the ends */
    double p0, len; /* pixels */
    int flip;       /* y grows upwards */
} log_axis;

static void axis_range(log_axis *a, double vmin, double vmax)
{
    a->lo = floor(log10(vmin));
    a->hi = ceil(log10(vmax));
    if (a->hi - a->lo < 1)
        a->hi = a->lo + 1;
}

static double axis_px(const log_axis *a, double v)
{
    double t = (log10(v) - a->lo) / (a->hi - a->lo);
    return a->flip ? a->p0 + a->len * (1 - t) : a->p0 + a->len * t;
}

/* Gridlines and labels at 1, 2, 5 x 10^k when the range is short, at each decade otherwise. */
static void axis_ticks(FILE *f, const log_axis *a, int vertical, double other0, double other1, const char *unit)
{
    int fine = a->hi - a->lo <= 2;
    for (double e = a->lo; e <= a->hi + 1e-9; e++)
        for (int m = 1; m <= (fine ? 5 : 1); m += (m == 1 ? 1 : 3)) {
            double v = (double)m * pow(10, e);
            if (log10(v) > a->hi + 1e-9)
                break;
            double p = axis_px(a, v);
            char lab[32];
            fmt_si(v, lab, sizeof lab);
            if (vertical) {
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>", p, other0, p,
                        other1);
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s%s</text>\n", p, other1 + 14, lab,
                        unit);
            } else {
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>", other0, p,
                        other1, p);
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s%s</text>\n", other0 - 4, p + 4, lab,
                        unit);
            }
        }
}

static void svg_loglog(FILE *f, const char *title, const char *xlabel, const char *ylabel, const series *s, int ns)
{
    double xmin = INFINITY, xmax = 0, ymin = INFINITY, ymax = 0;
    for (int i = 0; i < ns; i++)
        for (int k = 0; k < s[i].n; k++) {
            xmin = fmin(xmin, s[i].x[k]);
            xmax = fmax(xmax, s[i].x[k]);
            ymin = fmin(ymin, s[i].y[k]);
            ymax = fmax(ymax, s[i].y[k]);
        }
    if (!(xmax > 0) || !(ymax > 0))
        return;
    ymin = fmin(ymin, 1.0); /* the break-even line is always in view */
    ymax = fmax(ymax, 1.0);
    const double W = 760, H = 400, L = 64, R = 190, T = 34, B = 48;
    log_axis ax = {0, 0, L, W - L - R, 0}, ay = {0, 0, T, H - T - B, 1};
    axis_range(&ax, xmin, xmax);
    axis_range(&ay, ymin, ymax);
    fprintf(f, "<svg width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n", W, H, W, H);
    fprintf(f, "<text x=\"%.0f\" y=\"20\" font-weight=\"bold\">", L);
    html_esc(f, title);
    fprintf(f, "</text>\n");
    axis_ticks(f, &ax, 1, T, H - B, "");
    axis_ticks(f, &ay, 0, L, W - R, "x");
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"#999\"/>\n", L, T,
            W - L - R, H - T - B);
    double one = axis_px(&ay, 1.0);
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#444\" stroke-dasharray=\"4 3\"/>\n", L,
            one, W - R, one);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">", L + (W - L - R) / 2, H - 10);
    html_esc(f, xlabel);
    fprintf(f, "</text>\n<text transform=\"translate(14 %.0f) rotate(-90)\" text-anchor=\"middle\">", T + (H - T - B) / 2);
    html_esc(f, ylabel);
    fprintf(f, "</text>\n");
    for (int i = 0; i < ns; i++) {
        const char *col = g_palette[i % PALETTE_N];
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" points=\"", col);
        for (int k = 0; k < s[i].n; k++)
            fprintf(f, "%.1f,%.1f ", axis_px(&ax, s[i].x[k]), axis_px(&ay, s[i].y[k]));
        fprintf(f, "\"/>\n");
        for (int k = 0; k < s[i].n; k++) {
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>", axis_px(&ax, s[i].x[k]),
                    axis_px(&ay, s[i].y[k]), col);
            html_esc(f, s[i].tip[k]);
            fprintf(f, "</title></circle>\n");
        }
        double ly = T + 8 + 16 * i;
        fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"10\" fill=\"%s\"/>", W - R + 12, ly - 9, col);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">", W - R + 30, ly);
        html_esc(f, s[i].name);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "</svg>\n");
}

/* One series per op: speedup (or with transfers) against pixels. */
static int speedup_series(const tp_bench_report *r, int with_transfers, series *out, int max)
{
    int ns = 0;
    for (int i = 0; i < r->nspeedups; i++) {
        const tp_bench_speedup *sp = &r->speedups[i];
        double y = with_transfers ? sp->speedup_with_transfers : sp->speedup;
        if (isnan(y) || y <= 0)
            continue;
        char name[64];
        snprintf(name, sizeof name, "%s%s", sp->op, sp->ndim == 3 ? " (3D)" : "");
        int k = 0;
        while (k < ns && strcmp(out[k].name, name))
            k++;
        if (k == ns) {
            if (ns == max)
                continue;
            memset(&out[ns], 0, sizeof out[ns]);
            snprintf(out[ns].name, sizeof out[ns].name, "%s", name);
            ns++;
        }
        series *s = &out[k];
        if (s->n == 64)
            continue;
        /* keep x increasing along the line */
        int at = s->n;
        double x = (double)tp_bench_pixels(sp->ndim, sp->shape);
        while (at > 0 && s->x[at - 1] > x) {
            s->x[at] = s->x[at - 1];
            s->y[at] = s->y[at - 1];
            memcpy(s->tip[at], s->tip[at - 1], sizeof s->tip[at]);
            at--;
        }
        char shape[64];
        tp_bench_shape_str(sp->ndim, sp->shape, shape, sizeof shape);
        s->x[at] = x;
        s->y[at] = y;
        snprintf(s->tip[at], sizeof s->tip[at], "%s %s: %.2fx", sp->op, shape, y);
        s->n++;
    }
    return ns;
}

static void html_speedups(FILE *f, const tp_bench_report *r)
{
    series *s = calloc(32, sizeof *s);
    if (!s)
        return;
    for (int t = 0; t < 2; t++) {
        int ns = speedup_series(r, t, s, 32);
        if (!ns) {
            fprintf(f, "<p class=\"note\">No %s speedups were measured.</p>\n", t ? "with-transfers" : "device-resident");
            continue;
        }
        svg_loglog(f, t ? "GPU with transfers (host in, host out) vs CPU, all threads"
                        : "GPU, data on the device, vs CPU, all threads",
                   "pixels (voxels)", "speedup", s, ns);
    }
    free(s);
}

static void html_pipeline_chart(FILE *f, const tp_bench_report *r)
{
    const char *cols[TP_BENCH_MAX_STAGES + 2];
    int nc = stage_columns(r, cols, TP_BENCH_MAX_STAGES + 2), rows = 0, groups = 0;
    for (int i = 0; i < r->npipelines; i++) {
        if (r->pipelines[i].skipped)
            continue;
        rows++;
        int first = 1;
        for (int j = 0; j < i && first; j++)
            first = r->pipelines[j].skipped || memcmp(r->pipelines[j].shape, r->pipelines[i].shape,
                                                      sizeof r->pipelines[i].shape);
        groups += first;
    }
    if (!rows) {
        fprintf(f, "<p class=\"note\">No pipeline run completed.</p>\n");
        return;
    }
    const double W = 860, L = 190, BAR = 520, RH = 24, GH = 22, TOP = 56;
    double H = TOP + rows * RH + groups * GH + 16;
    fprintf(f, "<svg width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n", W, H, W, H);
    fprintf(f, "<text x=\"10\" y=\"18\" font-weight=\"bold\">Seed pipeline: share of each stage in the run's time "
               "(the total at the end of each bar)</text>\n");
    for (int k = 0; k < nc; k++) { /* legend */
        double x = 10 + (k % 6) * 140, ly = 34 + (k / 6) * 14;
        fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%.0f\" y=\"%.0f\">",
                x, ly - 9, g_palette[k % PALETTE_N], x + 14, ly);
        html_esc(f, cols[k]);
        fprintf(f, "</text>\n");
    }
    double y = TOP + (nc > 6 ? 14 : 0);
    for (int i = 0; i < r->npipelines; i++) {
        const tp_bench_pipeline_result *p = &r->pipelines[i];
        if (p->skipped)
            continue;
        int first = 1;
        for (int j = 0; j < i && first; j++)
            first = r->pipelines[j].skipped || memcmp(r->pipelines[j].shape, p->shape, sizeof p->shape);
        char shape[64];
        tp_bench_shape_str(p->ndim, p->shape, shape, sizeof shape);
        /* each bar is its own 100%: GPU and CPU totals differ by orders of magnitude, the breakdown is the point */
        double sum = 0;
        for (int k = 0; k < p->nstages; k++)
            sum += isnan(p->stages[k].ms) ? 0 : p->stages[k].ms;
        if (first) {
            y += GH;
            fprintf(f, "<text x=\"10\" y=\"%.0f\" font-weight=\"bold\">%s</text>\n", y - 6, shape);
        }
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s</text>\n", L - 8, y + 15,
                tp_bench_backend_name(p->backend));
        double x = L;
        char a[32];
        for (int k = 0; k < nc; k++) {
            double ms = stage_ms(p, cols[k]);
            if (isnan(ms) || ms <= 0 || sum <= 0)
                continue;
            double w = BAR * ms / sum;
            fprintf(f, "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.2f\" height=\"18\" fill=\"%s\"><title>%s: %s ms "
                       "(%.1f%%)</title></rect>\n",
                    x, y + 2, w, g_palette[k % PALETTE_N], cols[k], fmt_ms(ms, a, sizeof a), 100 * ms / sum);
            x += w;
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\">%s ms</text>\n", L + BAR + 6, y + 15,
                fmt_ms(p->total.median_ms, a, sizeof a));
        y += RH;
    }
    fprintf(f, "</svg>\n");
}

static void html_bandwidth_chart(FILE *f, const tp_bench_report *r)
{
    int rows = 0;
    for (int i = 0; i < r->nresults; i++)
        rows += r->results[i].backend == TP_BENCH_CUDA && !r->results[i].skipped &&
                !isnan(r->results[i].fraction_of_copy_bw);
    if (!rows) {
        fprintf(f, "<p class=\"note\">No device-resident GPU result with a measured copy bandwidth.</p>\n");
        return;
    }
    headline *order = calloc((size_t)r->nresults, sizeof *order);
    if (!order)
        return;
    int n = 0;
    for (int i = 0; i < r->nresults; i++)
        if (r->results[i].backend == TP_BENCH_CUDA && !r->results[i].skipped &&
            !isnan(r->results[i].fraction_of_copy_bw))
            order[n++].first = &r->results[i];
    qsort(order, (size_t)n, sizeof *order, cmp_headline);
    const double W = 860, L = 250, BAR = 500, RH = 20, TOP = 40;
    double H = TOP + n * RH + 30;
    fprintf(f, "<svg width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n", W, H, W, H);
    fprintf(f, "<text x=\"10\" y=\"18\" font-weight=\"bold\">Fraction of the device copy bandwidth (%.0f GB/s) "
               "reached on the bytes each op must move</text>\n",
            r->copy_bw_gbs);
    for (int t = 0; t <= 4; t++) {
        double x = L + BAR * t / 4.0;
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#e5e5e5\"/><text x=\"%.0f\" "
                   "y=\"%.0f\" text-anchor=\"middle\">%d%%</text>\n",
                x, TOP - 6, x, TOP + n * RH, x, TOP + n * RH + 14, t * 25);
    }
    for (int i = 0; i < n; i++) {
        const tp_bench_result *e = order[i].first;
        char shape[64];
        tp_bench_shape_str(e->ndim, e->shape, shape, sizeof shape);
        double y = TOP + i * RH, frac = e->fraction_of_copy_bw, w = BAR * fmin(fmax(frac, 0), 1);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s %s</text>", L - 8, y + 14, e->op, shape);
        fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.1f\" height=\"14\" fill=\"%s\"/>", L, y + 3, w,
                frac > 1 ? "#d62728" : "#1f77b4");
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\">%.1f%%</text>\n", L + w + 6, y + 14, frac * 100);
    }
    fprintf(f, "</svg>\n");
    free(order);
}

/* Render a Markdown table section as an HTML table: the same numbers as report.md. */
static void html_table_from_md(FILE *f, void (*section)(FILE *, const tp_bench_report *, int),
                               const tp_bench_report *r, int gpu)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return;
    section(m, r, gpu);
    fclose(m);
    int in_table = 0, in_list = 0, row = 0;
    for (char *line = buf, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        if (in_list && strncmp(line, "- ", 2)) {
            fprintf(f, "</ul>\n");
            in_list = 0;
        }
        if (line[0] == '#') {
            int level = (int)strspn(line, "#");
            fprintf(f, "<h%d>", level);
            html_esc(f, line + level + (line[level] == ' '));
            fprintf(f, "</h%d>\n", level);
        } else if (line[0] == '|') {
            if (!in_table) {
                fprintf(f, "<table>\n");
                in_table = 1;
                row = 0;
            }
            if (row++ == 1) /* the |---| line */
                continue;
            fprintf(f, "<tr>");
            char *cell = line + 1;
            for (char *bar; (bar = strchr(cell, '|')); cell = bar + 1) {
                *bar = 0;
                while (*cell == ' ')
                    cell++;
                char *end = cell + strlen(cell);
                while (end > cell && end[-1] == ' ')
                    *--end = 0;
                const char *tag = row == 1 ? "th" : "td";
                const char *cls = !strcmp(cell, "**faster**") ? "faster" : !strcmp(cell, "**slower**") ? "slower" : "";
                int bold = !strncmp(cell, "**", 2) && end - cell > 4 && !strcmp(end - 2, "**");
                if (bold) {
                    end[-2] = 0;
                    cell += 2;
                }
                int left = row == 1 || (cell[0] && !strchr("0123456789-", cell[0]));
                fprintf(f, "<%s class=\"%s%s\">%s", tag, left ? "l " : "", cls, bold && !*cls ? "<b>" : "");
                html_esc(f, cell);
                fprintf(f, "%s</%s>", bold && !*cls ? "</b>" : "", tag);
            }
            fprintf(f, "</tr>\n");
        } else {
            if (in_table) {
                fprintf(f, "</table>\n");
                in_table = 0;
            }
            if (line[0] == '-' && line[1] == ' ') {
                if (!in_list++)
                    fprintf(f, "<ul>\n");
                fprintf(f, "<li>");
                html_esc(f, line + 2);
                fprintf(f, "</li>\n");
            } else if (line[0]) {
                fprintf(f, "<p>");
                html_esc(f, line);
                fprintf(f, "</p>\n");
            }
        }
    }
    if (in_table)
        fprintf(f, "</table>\n");
    if (in_list)
        fprintf(f, "</ul>\n");
    free(buf);
}

static void sec_headline(FILE *f, const tp_bench_report *r, int gpu) { md_headline(f, r, gpu); }
static void sec_crossovers(FILE *f, const tp_bench_report *r, int gpu)
{
    (void)gpu;
    md_crossovers(f, r);
}
static void sec_pipelines(FILE *f, const tp_bench_report *r, int gpu)
{
    (void)gpu;
    md_pipelines(f, r);
}
static void sec_transfers(FILE *f, const tp_bench_report *r, int gpu)
{
    (void)gpu;
    md_transfers(f, r);
}
static void sec_skipped(FILE *f, const tp_bench_report *r, int gpu)
{
    (void)gpu;
    md_skipped(f, r);
}
static void sec_details(FILE *f, const tp_bench_report *r, int gpu)
{
    (void)gpu;
    md_details(f, r);
}
static void sec_comparison(FILE *f, const tp_bench_report *r, int gpu)
{
    (void)gpu;
    md_comparison(f, r);
}
static void sec_meta(FILE *f, const tp_bench_report *r, int gpu) { md_meta(f, r, gpu); }

static const char g_css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1250px;color:#222;"
    "padding:0 1em}h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}"
    "table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:12.5px}th,td{border:1px solid #d0d0d0;"
    "padding:2px 7px;text-align:right;white-space:nowrap}th{background:#f2f4f7}.l{text-align:left}"
    "tr:nth-child(even) td{background:#fafafa}.note{background:#fff6db;padding:.5em .8em;border-left:4px solid "
    "#e0a800}.faster{color:#0a7a2f;font-weight:600}.slower{color:#b00020;font-weight:600}li{margin:.15em 0}"
    "svg{display:block;border:1px solid #e2e2e2;margin:.6em 0;background:#fff}svg text{font:11px sans-serif;"
    "fill:#222}";

tp_status tp_bench_write_html(tp_context *ctx, const tp_bench_report *r, const char *path)
{
    tp_atomic_file af;
    tp_status st = open_report(ctx, path, &af);
    if (st)
        return st;
    FILE *f = af.fp;
    int gpu = have_gpu_results(r) && r->gpu_available;
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>twinpix benchmark "
               "report</title>\n<style>%s</style>\n</head>\n<body>\n",
            g_css);
    html_table_from_md(f, sec_meta, r, gpu); /* the title and the facts, as in report.md */
    html_table_from_md(f, sec_comparison, r, gpu);
    fprintf(f, "<h2>Speedup against image size</h2>\n");
    if (gpu)
        html_speedups(f, r);
    else {
        fprintf(f, "<p class=\"note\">GPU columns are absent: ");
        html_esc(f, r->gpu_reason[0] ? r->gpu_reason : "no GPU results");
        fprintf(f, "</p>\n");
    }
    fprintf(f, "<h2>Seed pipeline by stage</h2>\n");
    html_pipeline_chart(f, r);
    fprintf(f, "<h2>Fraction of copy bandwidth</h2>\n");
    if (gpu)
        html_bandwidth_chart(f, r);
    else
        fprintf(f, "<p class=\"note\">No GPU: nothing to compare with the device copy bandwidth.</p>\n");
    html_table_from_md(f, sec_headline, r, gpu);
    html_table_from_md(f, sec_crossovers, r, gpu);
    html_table_from_md(f, sec_pipelines, r, gpu);
    if (gpu)
        html_table_from_md(f, sec_transfers, r, gpu);
    html_table_from_md(f, sec_skipped, r, gpu);
    html_table_from_md(f, sec_details, r, gpu);
    fprintf(f, "</body>\n</html>\n");
    return tp_atomic_commit(ctx, &af);
}

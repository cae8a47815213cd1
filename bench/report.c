/* The benchmark report's data: names, statistics, storage, what is derived from the results (speedups,
 * crossovers) and the comparison printed on stdout. The files are written by report_json.c, report_md.c
 * and report_html.c. Plain C with no Google Benchmark dependency, so the tests can feed it made-up results. */
#include "bench/report_util.h"

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

void *tp_bench_grow(void *v, int n, int *cap, size_t elem)
{
    if (n < *cap)
        return v;
    int c = *cap ? *cap * 2 : 64;
    void *p = realloc(v, (size_t)c * elem);
    if (p)
        *cap = c;
    return p;
}

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

tp_bench_result *tp_bench_report_add_result(tp_bench_report *r)
{
    tp_bench_result *v = tp_bench_grow(r->results, r->nresults, &r->cap_results, sizeof *v);
    if (!v)
        return NULL;
    r->results = v;
    tp_bench_result *e = &v[r->nresults++];
    memset(e, 0, sizeof *e);
    e->t.median_ms = e->t.min_ms = e->t.max_ms = e->t.stddev_ms = NAN;
    e->bytes_min = e->peak_device_bytes = e->peak_host_bytes = -1;
    e->fraction_of_copy_bw = e->h2d_ms = e->d2h_ms = NAN;
    e->input_sets = 1;
    e->regions = -1;
    return e;
}

tp_bench_pipeline_result *tp_bench_report_add_pipeline(tp_bench_report *r)
{
    tp_bench_pipeline_result *v = tp_bench_grow(r->pipelines, r->npipelines, &r->cap_pipelines, sizeof *v);
    if (!v)
        return NULL;
    r->pipelines = v;
    tp_bench_pipeline_result *e = &v[r->npipelines++];
    memset(e, 0, sizeof *e);
    e->total.median_ms = e->total.min_ms = e->total.max_ms = e->total.stddev_ms = NAN;
    e->peak_device_bytes = e->peak_host_bytes = -1;
    e->overlay_d2h_ms = NAN;
    e->overlay_bytes = -1;
    return e;
}

/* ---- derived: speedups and crossovers ---- */

int tp_bench_same_case(const tp_bench_result *a, const tp_bench_result *b)
{
    return !strcmp(a->op, b->op) && a->ndim == b->ndim && !memcmp(a->shape, b->shape, sizeof a->shape) &&
           !strcmp(a->dtype, b->dtype);
}

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

static double median_of(const tp_bench_report *r, const tp_bench_result *like, tp_bench_backend be)
{
    for (int i = 0; i < r->nresults; i++) {
        const tp_bench_result *e = &r->results[i];
        if (e->backend == be && !e->skipped && tp_bench_same_case(e, like))
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
            first = !tp_bench_same_case(&r->results[j], e);
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

/* ---- shared by the writers ---- */

void tp_bench_version_str(int v, char *out, size_t n)
{
    if (v > 0)
        snprintf(out, n, "%d.%d", v / 1000, (v % 1000) / 10);
    else
        snprintf(out, n, "unknown");
}

const char *tp_bench_verdict_name(int v) { return v < 0 ? "faster" : v > 0 ? "slower" : "same"; }

tp_bench_delta *tp_bench_add_delta(tp_bench_report *r, int *cap)
{
    tp_bench_delta *v = tp_bench_grow(r->deltas, r->ndeltas, cap, sizeof *v);
    if (!v)
        return NULL;
    r->deltas = v;
    tp_bench_delta *d = &v[r->ndeltas++];
    memset(d, 0, sizeof *d);
    return d;
}

/* tp_atomic_open's temporary file is private (mkstemp: 0600); a report is for reading, like gbench.json. */
tp_status tp_bench_open_report(tp_context *ctx, const char *path, tp_atomic_file *af)
{
    tp_status st = tp_atomic_open(ctx, path, af);
    if (st)
        return st;
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fileno(af->fp), 0666 & ~mask);
    return TP_OK;
}

void tp_bench_delta_counts(const tp_bench_report *r, int *faster, int *slower, int *same)
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
    tp_bench_delta_counts(r, &faster, &slower, &same);
    fprintf(f, "comparison with %s (ratio = new/old median; beyond +-%.0f%%: faster/slower)\n", r->compare_path,
            r->compare_band * 100);
    fprintf(f, "%-24s %-12s %-7s %-15s %11s %11s %7s  %s\n", "op", "shape", "dtype", "backend", "old ms", "new ms",
            "ratio", "verdict");
    for (int i = 0; i < r->ndeltas; i++) {
        const tp_bench_delta *d = &r->deltas[i];
        char shape[64];
        tp_bench_shape_str(d->ndim, d->shape, shape, sizeof shape);
        fprintf(f, "%-24s %-12s %-7s %-15s %11.4f %11.4f %7.3f  %s\n", d->op, shape, d->dtype, d->backend, d->old_ms,
                d->new_ms, d->ratio, tp_bench_verdict_name(d->verdict));
    }
    fprintf(f, "%d faster, %d slower, %d unchanged, of %d matching entries\n", faster, slower, same, r->ndeltas);
}

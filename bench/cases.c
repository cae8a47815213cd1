/* The op benchmarks, generated from the descriptors: every op (tp_op_at), its first case's parameters, its
 * benchmark sizes (bench_sizes_2d / bench_sizes_3d) and its input kind; nothing is listed by hand. Cases are
 * registered size by size (every op at one size, then the next size) so that consecutive cases share
 * their generated inputs. bench/plan.c adds the rules: cpu-1t left out at the largest sizes, and an op's
 * region-count cases (regionprops_table at 8192^2 with ~2000 regions) right after its own case. */
#include "bench/bench.h"
#include "bench/gbench.h"

#include <stdlib.h>
#include <string.h>

typedef struct case_item {
    tp_bench_item base; /* first: the progress machinery sees only this */
    tp_bench_case c;
    tp_bench_report *report;
    tp_context *err;
    tp_bench_runner *runner;
    tp_bench_runner_facts facts;
    int have_facts;
    tp_bench_samples ms, h2d, d2h;
    int skipped;
    char reason[512];
} case_item;

static tp_context *g_err_ctx;

static void skip(case_item *it, tp_gbench_state *s)
{
    if (!it->skipped) {
        it->skipped = 1;
        snprintf(it->reason, sizeof it->reason, "%s", tp_last_error(it->err));
    }
    tp_gbench_skip(s, it->reason);
}

static double median_of(tp_bench_samples *s)
{
    tp_bench_stats t;
    tp_bench_stats_compute(s->v, s->n, &t);
    return t.median_ms;
}

static void case_finish(tp_bench_item *base)
{
    case_item *it = (case_item *)base;
    if (it->runner) {
        tp_bench_runner_destroy(it->runner);
        it->runner = NULL;
    }
    tp_bench_result *res = tp_bench_report_add_result(it->report);
    char what[640];
    if (!res) {
        snprintf(what, sizeof what, "out of host memory for the report");
    } else {
        tp_bench_case_label(it->c.op->name, it->c.regions, res->op, sizeof res->op);
        res->ndim = it->c.ndim;
        memcpy(res->shape, it->c.shape, sizeof res->shape);
        snprintf(res->dtype, sizeof res->dtype, "%s",
                 it->have_facts ? it->facts.dtype : tp_bench_case_dtype_name(&it->c));
        res->backend = it->c.backend;
        res->threads = it->c.backend == TP_BENCH_CPU_1T ? 1 : it->c.backend == TP_BENCH_CPU_NT ? it->c.threads : 0;
        snprintf(res->params, sizeof res->params, "%s",
                 it->have_facts ? it->facts.params : it->c.params ? it->c.params : "");
        res->skipped = it->skipped || it->ms.n == 0;
        snprintf(res->skip_reason, sizeof res->skip_reason, "%s",
                 it->skipped ? it->reason : (it->ms.n == 0 ? "no sample was taken" : ""));
        if (it->have_facts) {
            res->bytes_min = it->facts.bytes_min;
            res->peak_device_bytes = it->facts.peak_device_bytes;
            res->peak_host_bytes = it->facts.peak_host_bytes;
            res->input_sets = it->facts.input_sets;
            res->regions = it->facts.regions;
        }
        if (!res->skipped) {
            tp_bench_stats_compute(it->ms.v, it->ms.n, &res->t);
            if (it->h2d.n) {
                res->h2d_ms = median_of(&it->h2d);
                res->d2h_ms = median_of(&it->d2h);
            }
            double bw = it->report->copy_bw_gbs;
            if (it->c.backend == TP_BENCH_CUDA && res->bytes_min > 0 && bw > 0 && res->t.median_ms > 0)
                res->fraction_of_copy_bw = (double)res->bytes_min / (res->t.median_ms * 1e-3) / (bw * 1e9);
            snprintf(what, sizeof what, "%.4g ms median of %lld", res->t.median_ms, (long long)res->t.samples);
        } else {
            snprintf(what, sizeof what, "skipped: %s", res->skip_reason);
        }
    }
    tp_bench_samples_free(&it->ms);
    tp_bench_samples_free(&it->h2d);
    tp_bench_samples_free(&it->d2h);
    tp_bench_progress(base, what);
}

static int run_case(const tp_gbench_def *def, tp_gbench_state *s)
{
    case_item *it = def->user_data;
    tp_bench_item_activate(&it->base);
    if (!it->skipped && !it->runner) {
        if (tp_bench_runner_create(it->err, &it->c, &it->runner)) {
            skip(it, s);
            return 0;
        }
        tp_bench_runner_get_facts(it->runner, &it->facts);
        it->have_facts = 1;
    }
    if (it->skipped) {
        tp_gbench_skip(s, it->reason);
        return 0;
    }
    double h2d = 0, d2h = 0;
    int64_t n = 0;
    while (tp_gbench_keep_running(s)) {
        tp_bench_sample smp;
        if (tp_bench_runner_once(it->err, it->runner, &smp)) {
            skip(it, s);
            return 0;
        }
        tp_gbench_set_iteration_time(s, smp.ms * 1e-3);
        int bad = tp_bench_samples_push(&it->ms, smp.ms);
        if (!isnan(smp.h2d_ms)) {
            bad |= tp_bench_samples_push(&it->h2d, smp.h2d_ms) | tp_bench_samples_push(&it->d2h, smp.d2h_ms);
            h2d += smp.h2d_ms;
            d2h += smp.d2h_ms;
        }
        if (bad) {
            tp_error(it->err, TP_ERR_NOMEM, "bench: out of host memory for the samples");
            skip(it, s);
            return 0;
        }
        n++;
    }
    if (it->facts.bytes_min > 0) {
        tp_gbench_set_bytes_processed(s, n * it->facts.bytes_min);
        tp_gbench_set_counter(s, "bytes_min", (double)it->facts.bytes_min, TP_GBENCH_COUNTER_DEFAULT);
    }
    tp_gbench_set_items_processed(s, n * tp_bench_pixels(it->c.ndim, it->c.shape));
    tp_gbench_set_counter(s, "input_sets", it->facts.input_sets, TP_GBENCH_COUNTER_DEFAULT);
    if (n && it->c.backend == TP_BENCH_CUDA_TRANSFERS) {
        tp_gbench_set_counter(s, "h2d_ms", h2d / (double)n, TP_GBENCH_COUNTER_DEFAULT);
        tp_gbench_set_counter(s, "d2h_ms", d2h / (double)n, TP_GBENCH_COUNTER_DEFAULT);
    }
    return 0;
}

static void case_destroy(tp_bench_item *base)
{
    case_item *it = (case_item *)base;
    tp_bench_runner_destroy(it->runner);
    tp_bench_samples_free(&it->ms);
    tp_bench_samples_free(&it->h2d);
    tp_bench_samples_free(&it->d2h);
    free(it);
}

/* ---- which sizes ---- */

typedef struct size_entry {
    int ndim;
    int64_t shape[3];
} size_entry;

static int cmp_size(const void *a, const void *b)
{
    const size_entry *x = a, *y = b;
    if (x->ndim != y->ndim)
        return x->ndim - y->ndim;
    int64_t px = tp_bench_pixels(x->ndim, x->shape), py = tp_bench_pixels(y->ndim, y->shape);
    return px < py ? -1 : px > py;
}

static int has_size(const size_entry *v, int n, int ndim, int64_t side)
{
    for (int i = 0; i < n; i++)
        if (v[i].ndim == ndim && v[i].shape[0] == side)
            return 1;
    return 0;
}

static int list_has(const int64_t *list, int64_t side)
{
    for (int i = 0; list && list[i]; i++)
        if (list[i] == side)
            return 1;
    return 0;
}

int tp_bench_op_selected(const tp_bench_config *cfg, const tp_op_desc *op)
{
    if (!cfg->ops || cfg->nops == 0)
        return 1;
    for (int i = 0; i < cfg->nops; i++)
        if (!strcmp(cfg->ops[i], op->name))
            return 1;
    return 0;
}

#define MAX_SIZES 64
#define MAX_VARIANTS 8
static int collect_sizes(const tp_bench_config *cfg, size_entry *out)
{
    int n = 0;
    if (cfg->nsizes) {
        for (int i = 0; i < cfg->nsizes && n < MAX_SIZES; i++, n++) {
            out[n].ndim = cfg->size_ndim[i];
            memcpy(out[n].shape, cfg->sizes[i], sizeof out[n].shape);
        }
    } else if (cfg->quick) {
        static const size_entry quick[] = {{2, {256, 256, 0}}, {2, {640, 640, 0}}, {3, {32, 32, 32}}};
        memcpy(out, quick, sizeof quick);
        n = 3;
    } else {
        for (int i = 0; i < tp_op_count(); i++) {
            const tp_op_desc *op = tp_op_at(i);
            if (!op || !tp_bench_op_selected(cfg, op))
                continue;
            for (int k = 0; op->bench_sizes_2d && op->bench_sizes_2d[k] && n < MAX_SIZES; k++)
                if (!has_size(out, n, 2, op->bench_sizes_2d[k])) {
                    out[n].ndim = 2;
                    out[n].shape[0] = out[n].shape[1] = op->bench_sizes_2d[k];
                    out[n].shape[2] = 0;
                    n++;
                }
            for (int k = 0; op->bench_sizes_3d && op->bench_sizes_3d[k] && n < MAX_SIZES; k++)
                if (!has_size(out, n, 3, op->bench_sizes_3d[k])) {
                    out[n].ndim = 3;
                    out[n].shape[0] = out[n].shape[1] = out[n].shape[2] = op->bench_sizes_3d[k];
                    n++;
                }
        }
    }
    qsort(out, (size_t)n, sizeof *out, cmp_size);
    return n;
}

static int op_takes(const tp_bench_config *cfg, const tp_op_desc *op, const size_entry *sz)
{
    if (!op->inputs || !(op->inputs[0].spatial_dims & (1u << sz->ndim)))
        return 0;
    if (cfg->nsizes || cfg->quick)
        return 1;
    return list_has(sz->ndim == 2 ? op->bench_sizes_2d : op->bench_sizes_3d, sz->shape[0]);
}

static int register_one(tp_context *ctx, const tp_bench_config *cfg, tp_bench_report *r, const tp_op_desc *op,
                        const size_entry *sz, int64_t regions, tp_bench_backend be)
{
    case_item *it = calloc(1, sizeof *it);
    if (!it) {
        tp_error(ctx, TP_ERR_NOMEM, "bench: out of host memory");
        return -1;
    }
    it->c.op = op;
    it->c.params = op->cases && op->cases[0].params ? op->cases[0].params : "";
    it->c.ndim = sz->ndim;
    memcpy(it->c.shape, sz->shape, sizeof it->c.shape);
    it->c.gray_dtype = cfg->gray_dtype;
    it->c.backend = be;
    it->c.threads = cfg->threads;
    it->c.device = cfg->device;
    it->c.seed = 1;
    it->c.no_rotate = cfg->no_rotate;
    it->c.regions = regions;
    it->report = r;
    it->err = g_err_ctx;
    /* left out by the run's rules (cpu-1t at the largest sizes): registered, reported as skipped with why */
    it->skipped = tp_bench_rule_skip(cfg, be, sz->ndim, sz->shape, it->reason, sizeof it->reason);
    char shape[64], label[96];
    tp_bench_shape_str(sz->ndim, sz->shape, shape, sizeof shape);
    tp_bench_case_label(op->name, regions, label, sizeof label);
    snprintf(it->base.name, sizeof it->base.name, "%s/%s/%s/%s", label, shape, tp_bench_case_dtype_name(&it->c),
             tp_bench_backend_name(be));
    it->base.finish = case_finish;
    it->base.destroy = case_destroy;
    tp_gbench_def def;
    memset(&def, 0, sizeof def);
    def.flags = TP_GBENCH_FLAG_USE_MANUAL_TIME;
    def.time_unit = TP_GBENCH_UNIT_MILLISECOND;
    def.minimum_duration_s = cfg->min_time_s;
    def.run = run_case;
    def.user_data = it;
    if (tp_bench_items_add(&it->base)) {
        free(it);
        tp_error(ctx, TP_ERR_NOMEM, "bench: out of host memory");
        return -1;
    }
    if (tp_gbench_register(it->base.name, &def)) {
        tp_error(ctx, TP_ERR_INTERNAL, "bench: cannot register %s", it->base.name);
        return -1;
    }
    return 0;
}

int tp_bench_register_cases(tp_context *ctx, const tp_bench_config *cfg, tp_bench_report *r)
{
    if (!g_err_ctx && tp_context_create(&g_err_ctx)) {
        tp_error(ctx, TP_ERR_NOMEM, "bench: cannot create a context");
        return -1;
    }
    size_entry sizes[MAX_SIZES];
    int nsizes = collect_sizes(cfg, sizes), count = 0;
    for (int s = 0; s < nsizes; s++)
        for (int i = 0; i < tp_op_count(); i++) {
            const tp_op_desc *op = tp_op_at(i);
            if (!op || !tp_bench_op_selected(cfg, op) || !op_takes(cfg, op, &sizes[s]))
                continue;
            /* the descriptor's case (regions 0: the generator's nuclei), then its region-count cases */
            int64_t regions[1 + MAX_VARIANTS] = {0};
            int nv = 1 + tp_bench_region_variants(cfg, op, sizes[s].ndim, sizes[s].shape, regions + 1, MAX_VARIANTS);
            for (int v = 0; v < nv; v++)
                for (int b = 0; b < TP_BENCH_BACKEND_COUNT; b++) {
                    if (!cfg->backends[b])
                        continue;
                    if (register_one(ctx, cfg, r, op, &sizes[s], regions[v], (tp_bench_backend)b))
                        return -1;
                    count++;
                }
        }
    return count;
}

void tp_bench_cases_release(void)
{
    if (g_err_ctx) {
        tp_context_destroy(g_err_ctx);
        g_err_ctx = NULL;
    }
}

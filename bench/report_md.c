/* report.md: the facts, the performance targets, the comparison, the headline table (op x size, CPU and GPU,
 * speedups), crossovers, the pipelines by stage, the transfers split, skipped cases and every result. The
 * sections are reused by report_html.c, so both files show the same numbers. */
#include "bench/report_util.h"

#include <stdlib.h>
#include <string.h>

/* ---- text formatting shared by Markdown and HTML ---- */

const char *tp_bench_fmt_ms(double v, char *buf, size_t n)
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

const char *tp_bench_fmt_x(double v, char *buf, size_t n)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, v >= 100 ? "%.0fx" : v >= 10 ? "%.1fx" : "%.2fx", v);
    return buf;
}

const char *tp_bench_fmt_bytes(int64_t v, char *buf, size_t n)
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

const char *tp_bench_fmt_pct(double v, char *buf, size_t n)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.1f%%", v * 100);
    return buf;
}

int tp_bench_cmp_headline(const void *a, const void *b)
{
    const tp_bench_result *x = ((const tp_bench_headline *)a)->first, *y = ((const tp_bench_headline *)b)->first;
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

int tp_bench_build_headlines(const tp_bench_report *r, tp_bench_headline *rows)
{
    int n = 0;
    for (int i = 0; i < r->nresults; i++) {
        const tp_bench_result *e = &r->results[i];
        int k = 0;
        while (k < n && !tp_bench_same_case(rows[k].first, e))
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
    qsort(rows, (size_t)n, sizeof *rows, tp_bench_cmp_headline);
    return n;
}

int tp_bench_have_gpu_results(const tp_bench_report *r)
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
int tp_bench_stage_columns(const tp_bench_report *r, const char **names, int max)
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

double tp_bench_stage_ms(const tp_bench_pipeline_result *p, const char *name)
{
    for (int k = 0; k < p->nstages; k++)
        if (!strcmp(p->stages[k].name, name))
            return p->stages[k].ms;
    return NAN;
}

const char *tp_bench_pipeline_label(const tp_bench_pipeline_result *p, char *buf, size_t n)
{
    if (p->io[0])
        snprintf(buf, n, "%s (%s)", tp_bench_backend_name(p->backend), p->io);
    else
        snprintf(buf, n, "%s", tp_bench_backend_name(p->backend));
    return buf;
}

/* ---- Markdown ---- */

void tp_bench_md_meta(FILE *f, const tp_bench_report *r, int gpu)
{
    const tp_meta *m = &r->meta;
    fprintf(f, "# twinpix benchmark report\n\n");
    fprintf(f, "- twinpix %s (git %s), build: %s\n", m->version, m->git_commit, m->build_flags);
    fprintf(f, "- host: %s, %d threads (cpu-Nt ran on %d)%s%s\n", m->host_cpu, m->host_threads, r->cpu_threads,
            m->hostname[0] ? ", " : "", m->hostname);
    if (gpu) {
        char drv[32], rt[32], bw[64];
        tp_bench_version_str(m->gpu.driver_version, drv, sizeof drv);
        tp_bench_version_str(m->gpu.runtime_version, rt, sizeof rt);
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

void tp_bench_md_headline(FILE *f, const tp_bench_report *r, int gpu)
{
    tp_bench_headline *rows = calloc((size_t)(r->nresults ? r->nresults : 1), sizeof *rows);
    if (!rows)
        return;
    int n = tp_bench_build_headlines(r, rows);
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
        const tp_bench_headline *x = &rows[i];
        char shape[64];
        tp_bench_shape_str(x->first->ndim, x->first->shape, shape, sizeof shape);
        double cpu = x->ms[TP_BENCH_CPU_NT], g1 = x->ms[TP_BENCH_CUDA], g2 = x->ms[TP_BENCH_CUDA_TRANSFERS];
        fprintf(f, "| %s | %s | %s | %s | %s |", x->first->op, shape, x->first->dtype,
                tp_bench_fmt_ms(x->ms[TP_BENCH_CPU_1T], a, sizeof a), tp_bench_fmt_ms(cpu, b, sizeof b));
        if (gpu)
            fprintf(f, " %s | %s | %s | %s | %s |\n", tp_bench_fmt_ms(g1, c, sizeof c), tp_bench_fmt_ms(g2, d, sizeof d),
                    tp_bench_fmt_x(cpu / g1, e, sizeof e), tp_bench_fmt_x(cpu / g2, g, sizeof g), tp_bench_fmt_pct(x->frac, h, sizeof h));
        else
            fprintf(f, " %s |\n", tp_bench_fmt_x(x->ms[TP_BENCH_CPU_1T] / cpu, c, sizeof c));
    }
    fprintf(f, "\n");
    free(rows);
}

/* How many regions the labels inputs held (one line per op and shape): the region-count cases say what they
 * measured, the descriptors' cases how many nuclei the generator drew. */
void tp_bench_md_regions(FILE *f, const tp_bench_report *r)
{
    int any = 0;
    for (int i = 0; i < r->nresults; i++) {
        const tp_bench_result *e = &r->results[i];
        if (e->regions < 0)
            continue;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = r->results[j].regions >= 0 && tp_bench_same_case(&r->results[j], e);
        if (seen)
            continue;
        if (!any++)
            fprintf(f, "## Labels inputs: regions per image\n\n| op | shape | dtype | regions | pixels per region "
                       "|\n|---|---|---|---:|---:|\n");
        char shape[64];
        tp_bench_shape_str(e->ndim, e->shape, shape, sizeof shape);
        int64_t px = tp_bench_pixels(e->ndim, e->shape);
        fprintf(f, "| %s | %s | %s | %lld | %lld |\n", e->op, shape, e->dtype, (long long)e->regions,
                (long long)(e->regions > 0 ? px / e->regions : px));
    }
    if (any)
        fprintf(f, "\nPixels per region: the image's pixels (background included) over its regions. "
                   "OP[regions=N] is the op on synthetic labels drawn with the nucleus radius that gives about N "
                   "regions at that size (bench/README.md).\n\n");
}

void tp_bench_md_transfers(FILE *f, const tp_bench_report *r)
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
        fprintf(f, "| %s | %s | %s | %s | %s | %s | %s |\n", e->op, shape, e->dtype, tp_bench_fmt_ms(e->h2d_ms, a, sizeof a),
                tp_bench_fmt_ms(e->t.median_ms - e->h2d_ms - e->d2h_ms, b, sizeof b), tp_bench_fmt_ms(e->d2h_ms, c, sizeof c),
                tp_bench_fmt_ms(e->t.median_ms, d, sizeof d));
    }
    if (any)
        fprintf(f, "\nThe parts are medians taken separately, so they need not add up to the total's median.\n\n");
}

void tp_bench_md_crossovers(FILE *f, const tp_bench_report *r)
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

void tp_bench_md_pipelines(FILE *f, const tp_bench_report *r)
{
    if (!r->npipelines)
        return;
    const char *cols[TP_BENCH_MAX_STAGES + 2];
    int nc = tp_bench_stage_columns(r, cols, TP_BENCH_MAX_STAGES + 2);
    char a[32];
    fprintf(f, "## Pipelines, by stage (median ms)\n\n| pipeline | shape | backend |");
    for (int k = 0; k < nc; k++)
        fprintf(f, " %s |", cols[k]);
    fprintf(f, " total | peak device | peak host |\n|---|---|---|");
    for (int k = 0; k < nc + 3; k++)
        fprintf(f, "---:|");
    fprintf(f, "\n");
    for (int i = 0; i < r->npipelines; i++) {
        const tp_bench_pipeline_result *p = &r->pipelines[i];
        char shape[64], label[160];
        tp_bench_shape_str(p->ndim, p->shape, shape, sizeof shape);
        fprintf(f, "| %s | %s | %s |", p->name, shape, tp_bench_pipeline_label(p, label, sizeof label));
        if (p->skipped) {
            fprintf(f, " skipped: %s |", p->skip_reason);
            for (int k = 1; k < nc + 3; k++)
                fprintf(f, " |");
            fprintf(f, "\n");
            continue;
        }
        for (int k = 0; k < nc; k++)
            fprintf(f, " %s |", tp_bench_fmt_ms(tp_bench_stage_ms(p, cols[k]), a, sizeof a));
        char b[32], c[32];
        fprintf(f, " **%s** | %s | %s |\n", tp_bench_fmt_ms(p->total.median_ms, a, sizeof a),
                tp_bench_fmt_bytes(p->peak_device_bytes, b, sizeof b), tp_bench_fmt_bytes(p->peak_host_bytes, c, sizeof c));
    }
    fprintf(f, "\nStage times are medians taken stage by stage; the total is the median of whole runs. seed: "
               "the tutorial's pipeline on an rgb uint8 image (extract_channel, ..., label2rgb, regionprops_table). "
               "seed-core: the peers' pipeline of PERFORMANCE.md on one grey uint8 channel, without "
               "extract_channel and label2rgb.\n\n");
    int said = 0;
    for (int i = 0; i < r->npipelines; i++) {
        const tp_bench_pipeline_result *p = &r->pipelines[i];
        if (p->skipped || p->backend != TP_BENCH_CUDA_TRANSFERS)
            continue;
        if (!said++)
            fprintf(f, "cuda+transfers is host image in, host table out: h2d uploads the image, "
                       "regionprops_table's stage includes bringing its table to host memory (no d2h stage). "
                       "seed's image is pageable (through the pinned staging buffer) and its label2rgb overlay "
                       "is produced but stays on the device; seed-core's image is pinned (tp_image_pin), so its "
                       "upload is a direct DMA.");
        if (!isnan(p->overlay_d2h_ms)) {
            char shape[64], b[32];
            tp_bench_shape_str(p->ndim, p->shape, shape, sizeof shape);
            fprintf(f, " Downloading %s's overlay too (%s, into a new host image) would add %s ms at %s (median, "
                       "not in the total).",
                    p->name, tp_bench_fmt_bytes(p->overlay_bytes, b, sizeof b),
                    tp_bench_fmt_ms(p->overlay_d2h_ms, a, sizeof a), shape);
        }
    }
    if (said)
        fprintf(f, "\n\n");
}

/* Skipped cases, grouped by op and reason (a missing CUDA op would otherwise fill a page). */
void tp_bench_md_skipped(FILE *f, const tp_bench_report *r)
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

void tp_bench_md_details(FILE *f, const tp_bench_report *r)
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
                tp_bench_backend_name(e->backend), tp_bench_fmt_ms(e->t.median_ms, a, sizeof a), tp_bench_fmt_ms(e->t.min_ms, b, sizeof b),
                tp_bench_fmt_ms(e->t.max_ms, c, sizeof c), tp_bench_fmt_ms(e->t.stddev_ms, d, sizeof d), (long long)e->t.samples,
                tp_bench_fmt_bytes(e->bytes_min, g, sizeof g), tp_bench_fmt_pct(e->fraction_of_copy_bw, h, sizeof h),
                tp_bench_fmt_bytes(e->peak_device_bytes, k, sizeof k), tp_bench_fmt_bytes(e->peak_host_bytes, m, sizeof m));
    }
    fprintf(f, "\n");
}

/* The measured figure as the targets table shows it: "0.9350 ms (16 threads)", "19.4 B/px". */
static void target_measured_str(const tp_bench_target *t, const tp_bench_target_eval *e, char *out, size_t n)
{
    char v[48], ms[32], extra[48] = "";
    if (e->status == TP_BENCH_TARGET_ABSENT) {
        snprintf(out, n, "-");
        return;
    }
    if (t->metric == TP_BENCH_METRIC_MS)
        snprintf(v, sizeof v, "%s ms", tp_bench_fmt_ms(e->measured, ms, sizeof ms));
    else if (t->metric == TP_BENCH_METRIC_FLOOR_X)
        snprintf(v, sizeof v, "%.1fx the floor", e->measured);
    else
        snprintf(v, sizeof v, "%.1f B/px", e->measured);
    if (e->threads > 0)
        snprintf(extra, sizeof extra, " (%d thread%s)", e->threads, e->threads > 1 ? "s" : "");
    else if (e->regions >= 0)
        snprintf(extra, sizeof extra, " (%lld regions)", (long long)e->regions);
    snprintf(out, n, "%s%s", v, extra);
}

/* PERFORMANCE.md's targets judged on this run: met, missed, or not in this run (with how to measure it). */
void tp_bench_md_targets(FILE *f, const tp_bench_report *r)
{
    int n;
    const tp_bench_target *t = tp_bench_targets(&n);
    tp_bench_target_eval e;
    int met = 0, missed = 0, absent = 0;
    for (int i = 0; i < n; i++) {
        tp_bench_target_evaluate(r, &t[i], &e);
        met += e.status == TP_BENCH_TARGET_MET;
        missed += e.status == TP_BENCH_TARGET_MISSED;
        absent += e.status == TP_BENCH_TARGET_ABSENT;
    }
    char on[160] = "";
    if (r->meta.gpu_count > 0)
        snprintf(on, sizeof on, " (GPU: %s)", r->meta.gpu.name);
    fprintf(f, "## Targets (../shared/PERFORMANCE.md)\n\n%d met, %d missed, %d not in this run, of %d. The targets "
               "are for the H100 (median; device-resident unless said), judged on this run's results%s; "
               "measured / target at or below 1 meets an \"at most\" target. Benchmarks report: nothing fails on "
               "a time.\n\n",
            met, missed, absent, n, on);
    fprintf(f, "| target (PERFORMANCE.md) | result read | target | measured | measured / target | status | peers "
               "(PERFORMANCE.md) | what bounds it |\n|---|---|---:|---:|---:|---|---|---|\n");
    for (int i = 0; i < n; i++) {
        char sel[192], rule[48], meas[96], x[32];
        tp_bench_target_evaluate(r, &t[i], &e);
        tp_bench_target_case(&t[i], sel, sizeof sel);
        tp_bench_target_rule_str(&t[i], rule, sizeof rule);
        target_measured_str(&t[i], &e, meas, sizeof meas);
        fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", t[i].what, sel, rule, meas,
                tp_bench_fmt_x(e.ratio, x, sizeof x),
                e.status == TP_BENCH_TARGET_MET      ? "**met**"
                : e.status == TP_BENCH_TARGET_MISSED ? "**missed**"
                                                     : "not in this run",
                t[i].peer, t[i].bound);
    }
    if (absent) {
        fprintf(f, "\nNot in this run:\n\n");
        for (int i = 0; i < n; i++) {
            tp_bench_target_evaluate(r, &t[i], &e);
            if (e.status == TP_BENCH_TARGET_ABSENT)
                fprintf(f, "- %s: %s; measure it with `%s`\n", t[i].what, e.reason, t[i].how);
        }
    }
    fprintf(f, "\nNot judged here: \"CPU reference, one thread, every op: faster than scikit-image\" (a twinpix run "
               "holds no scikit-image timing).\n\n");
}

void tp_bench_md_comparison(FILE *f, const tp_bench_report *r)
{
    if (!r->compare_path[0])
        return;
    int faster, slower, same;
    tp_bench_delta_counts(r, &faster, &slower, &same);
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
                tp_bench_fmt_ms(d->old_ms, a, sizeof a), tp_bench_fmt_ms(d->new_ms, b, sizeof b), d->ratio,
                d->verdict < 0 ? "**faster**" : d->verdict > 0 ? "**slower**" : "same");
    }
    fprintf(f, "\n");
}

tp_status tp_bench_write_markdown(tp_context *ctx, const tp_bench_report *r, const char *path)
{
    tp_atomic_file af;
    tp_status st = tp_bench_open_report(ctx, path, &af);
    if (st)
        return st;
    int gpu = tp_bench_have_gpu_results(r) && r->gpu_available;
    tp_bench_md_meta(af.fp, r, gpu);
    tp_bench_md_targets(af.fp, r);
    tp_bench_md_comparison(af.fp, r);
    tp_bench_md_headline(af.fp, r, gpu);
    tp_bench_md_regions(af.fp, r);
    tp_bench_md_crossovers(af.fp, r);
    tp_bench_md_pipelines(af.fp, r);
    if (gpu)
        tp_bench_md_transfers(af.fp, r);
    tp_bench_md_skipped(af.fp, r);
    tp_bench_md_details(af.fp, r);
    return tp_atomic_commit(ctx, &af);
}

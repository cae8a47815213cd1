/* report.html: one self-contained file (inline CSS and SVG, no script, no external resource): the
 * performance targets, the speedup against size per op on log axes, the pipelines' stage shares as stacked
 * bars, the fraction of copy bandwidth per op and size, then report.md's tables. */
#include "bench/report_util.h"

#include <stdlib.h>
#include <string.h>

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
    int color;  /* palette index: one per op */
    int dashed; /* 3D shapes */
    int n;
    double x[64], y[64];
    char tip[64][160];
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
            if (*unit)
                snprintf(lab, sizeof lab, "%g", v);
            else
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
    int nlegend = 0;
    for (int i = 0; i < ns; i++) {
        const char *col = g_palette[s[i].color % PALETTE_N];
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\"%s points=\"", col,
                s[i].dashed ? " stroke-dasharray=\"5 3\"" : "");
        for (int k = 0; k < s[i].n; k++)
            fprintf(f, "%.1f,%.1f ", axis_px(&ax, s[i].x[k]), axis_px(&ay, s[i].y[k]));
        fprintf(f, "\"/>\n");
        for (int k = 0; k < s[i].n; k++) {
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>", axis_px(&ax, s[i].x[k]),
                    axis_px(&ay, s[i].y[k]), col);
            html_esc(f, s[i].tip[k]);
            fprintf(f, "</title></circle>\n");
        }
        int shown = 0; /* one legend line per op: 2D and 3D share the colour */
        for (int j = 0; j < i && !shown; j++)
            shown = s[j].color == s[i].color;
        if (shown)
            continue;
        double ly = T + 8 + 16 * nlegend++;
        fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"10\" fill=\"%s\"/>", W - R + 12, ly - 9, col);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">", W - R + 30, ly);
        html_esc(f, s[i].name);
        fprintf(f, "</text>\n");
    }
    double ly = T + 8 + 16 * nlegend + 6;
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#444\" stroke-width=\"1.8\"/><text "
               "x=\"%.0f\" y=\"%.0f\">2D</text>",
            W - R + 10, ly - 4, W - R + 26, ly - 4, W - R + 30, ly);
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#444\" stroke-width=\"1.8\" "
               "stroke-dasharray=\"5 3\"/><text x=\"%.0f\" y=\"%.0f\">3D</text>\n",
            W - R + 60, ly - 4, W - R + 76, ly - 4, W - R + 80, ly);
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
        int k = 0;
        while (k < ns && (strcmp(out[k].name, sp->op) || out[k].dashed != (sp->ndim == 3)))
            k++;
        if (k == ns) {
            if (ns == max)
                continue;
            memset(&out[ns], 0, sizeof out[ns]);
            snprintf(out[ns].name, sizeof out[ns].name, "%s", sp->op);
            out[ns].dashed = sp->ndim == 3;
            int c = -1, next = 0; /* the op's colour: the same for its 2D and 3D lines */
            for (int j = 0; j < ns; j++) {
                if (!strcmp(out[j].name, sp->op))
                    c = out[j].color;
                next = out[j].color + 1 > next ? out[j].color + 1 : next;
            }
            out[ns].color = c >= 0 ? c : next;
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
    int nc = tp_bench_stage_columns(r, cols, TP_BENCH_MAX_STAGES + 2), rows = 0, groups = 0;
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
    const double W = 860, L = 250, BAR = 480, RH = 24, GH = 22, TOP = 56;
    double H = TOP + rows * RH + groups * GH + 16;
    fprintf(f, "<svg width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n", W, H, W, H);
    fprintf(f, "<text x=\"10\" y=\"18\" font-weight=\"bold\">Pipelines: share of each stage in the run's time "
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
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">", L - 8, y + 15);
        html_esc(f, p->name);
        fprintf(f, " %s%s</text>\n", tp_bench_backend_name(p->backend),
                !p->io[0]                                            ? ""
                : !strcmp(p->io, TP_BENCH_PIPE_IO_PINNED_HOST_TABLE) ? " (pinned in, table out)"
                                                                     : " (table out)");
        double x = L;
        char a[32];
        for (int k = 0; k < nc; k++) {
            double ms = tp_bench_stage_ms(p, cols[k]);
            if (isnan(ms) || ms <= 0 || sum <= 0)
                continue;
            double w = BAR * ms / sum;
            fprintf(f, "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.2f\" height=\"18\" fill=\"%s\"><title>%s: %s ms "
                       "(%.1f%%)</title></rect>\n",
                    x, y + 2, w, g_palette[k % PALETTE_N], cols[k], tp_bench_fmt_ms(ms, a, sizeof a), 100 * ms / sum);
            x += w;
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\">%s ms</text>\n", L + BAR + 6, y + 15,
                tp_bench_fmt_ms(p->total.median_ms, a, sizeof a));
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
    tp_bench_headline *order = calloc((size_t)r->nresults, sizeof *order);
    if (!order)
        return;
    int n = 0;
    for (int i = 0; i < r->nresults; i++)
        if (r->results[i].backend == TP_BENCH_CUDA && !r->results[i].skipped &&
            !isnan(r->results[i].fraction_of_copy_bw))
            order[n++].first = &r->results[i];
    qsort(order, (size_t)n, sizeof *order, tp_bench_cmp_headline);
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
                const char *cls = !strcmp(cell, "**faster**")   ? "faster"
                                  : !strcmp(cell, "**slower**") ? "slower"
                                  : !strcmp(cell, "**met**")    ? "met"
                                  : !strcmp(cell, "**missed**") ? "missed"
                                                                : "";
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

static void sec_headline(FILE *f, const tp_bench_report *r, int gpu) { tp_bench_md_headline(f, r, gpu); }
static void sec_crossovers(FILE *f, const tp_bench_report *r, int gpu)
{
    (void)gpu;
    tp_bench_md_crossovers(f, r);
}
static void sec_regions(FILE *f, const tp_bench_report *r, int gpu)
{
    (void)gpu;
    tp_bench_md_regions(f, r);
}
static void sec_pipelines(FILE *f, const tp_bench_report *r, int gpu)
{
    (void)gpu;
    tp_bench_md_pipelines(f, r);
}
static void sec_transfers(FILE *f, const tp_bench_report *r, int gpu)
{
    (void)gpu;
    tp_bench_md_transfers(f, r);
}
static void sec_skipped(FILE *f, const tp_bench_report *r, int gpu)
{
    (void)gpu;
    tp_bench_md_skipped(f, r);
}
static void sec_details(FILE *f, const tp_bench_report *r, int gpu)
{
    (void)gpu;
    tp_bench_md_details(f, r);
}
static void sec_comparison(FILE *f, const tp_bench_report *r, int gpu)
{
    (void)gpu;
    tp_bench_md_comparison(f, r);
}
static void sec_meta(FILE *f, const tp_bench_report *r, int gpu) { tp_bench_md_meta(f, r, gpu); }
static void sec_targets(FILE *f, const tp_bench_report *r, int gpu)
{
    (void)gpu;
    tp_bench_md_targets(f, r);
}

static const char g_css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1250px;color:#222;"
    "padding:0 1em}h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}"
    "table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:12.5px}th,td{border:1px solid #d0d0d0;"
    "padding:2px 7px;text-align:right;white-space:nowrap}th{background:#f2f4f7}.l{text-align:left}"
    "td.l{white-space:normal;max-width:30em}"
    "tr:nth-child(even) td{background:#fafafa}.note{background:#fff6db;padding:.5em .8em;border-left:4px solid "
    "#e0a800}.faster,.met{color:#0a7a2f;font-weight:600}.slower,.missed{color:#b00020;font-weight:600}"
    "li{margin:.15em 0}"
    "svg{display:block;border:1px solid #e2e2e2;margin:.6em 0;background:#fff}svg text{font:11px sans-serif;"
    "fill:#222}";

tp_status tp_bench_write_html(tp_context *ctx, const tp_bench_report *r, const char *path)
{
    tp_atomic_file af;
    tp_status st = tp_bench_open_report(ctx, path, &af);
    if (st)
        return st;
    FILE *f = af.fp;
    int gpu = tp_bench_have_gpu_results(r) && r->gpu_available;
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>twinpix benchmark "
               "report</title>\n<style>%s</style>\n</head>\n<body>\n",
            g_css);
    html_table_from_md(f, sec_meta, r, gpu); /* the title and the facts, as in report.md */
    html_table_from_md(f, sec_targets, r, gpu);
    html_table_from_md(f, sec_comparison, r, gpu);
    fprintf(f, "<h2>Speedup against image size</h2>\n");
    if (gpu)
        html_speedups(f, r);
    else {
        fprintf(f, "<p class=\"note\">GPU columns are absent: ");
        html_esc(f, r->gpu_reason[0] ? r->gpu_reason : "no GPU results");
        fprintf(f, "</p>\n");
    }
    fprintf(f, "<h2>Pipelines by stage</h2>\n");
    html_pipeline_chart(f, r);
    fprintf(f, "<h2>Fraction of copy bandwidth</h2>\n");
    if (gpu)
        html_bandwidth_chart(f, r);
    else
        fprintf(f, "<p class=\"note\">No GPU: nothing to compare with the device copy bandwidth.</p>\n");
    html_table_from_md(f, sec_headline, r, gpu);
    html_table_from_md(f, sec_regions, r, gpu);
    html_table_from_md(f, sec_crossovers, r, gpu);
    html_table_from_md(f, sec_pipelines, r, gpu);
    if (gpu)
        html_table_from_md(f, sec_transfers, r, gpu);
    html_table_from_md(f, sec_skipped, r, gpu);
    html_table_from_md(f, sec_details, r, gpu);
    fprintf(f, "</body>\n</html>\n");
    return tp_atomic_commit(ctx, &af);
}

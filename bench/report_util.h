/* What the report's files share (report.c, report_json.c, report_md.c, report_html.c); not for the rest of
 * the suite, which uses bench/bench.h. */
#ifndef TP_BENCH_REPORT_UTIL_H
#define TP_BENCH_REPORT_UTIL_H

#include "bench/bench.h"

/* ---- report.c ---- */
/* Grow an array of n used elements to hold one more; NULL when out of memory (v is kept). */
void *tp_bench_grow(void *v, int n, int *cap, size_t elem);
/* Same op, shape and dtype (any backend). */
int tp_bench_same_case(const tp_bench_result *a, const tp_bench_result *b);
/* CUDA's 13000 -> "13.0" ("unknown" for 0). */
void tp_bench_version_str(int v, char *out, size_t n);
const char *tp_bench_verdict_name(int v); /* "faster", "slower", "same" */
tp_bench_delta *tp_bench_add_delta(tp_bench_report *r, int *cap);
void tp_bench_delta_counts(const tp_bench_report *r, int *faster, int *slower, int *same);
/* tp_atomic_open, with the file readable like any report (mkstemp makes it private). */
tp_status tp_bench_open_report(tp_context *ctx, const char *path, tp_atomic_file *af);

/* ---- report_md.c: formatting and the sections the HTML writer reuses ---- */
const char *tp_bench_fmt_ms(double v, char *buf, size_t n);   /* "-" for NAN */
const char *tp_bench_fmt_x(double v, char *buf, size_t n);    /* "12.0x" */
const char *tp_bench_fmt_bytes(int64_t v, char *buf, size_t n); /* "1.5 MiB"; "-" for < 0 */
const char *tp_bench_fmt_pct(double v, char *buf, size_t n);  /* 0.42 -> "42.0%" */

/* A row of the headline table: one op/shape/dtype with every backend's median. */
typedef struct tp_bench_headline {
    const tp_bench_result *first;
    double ms[TP_BENCH_BACKEND_COUNT];
    double frac;
} tp_bench_headline;
/* Rows in op order, then by dimension and size; rows holds r->nresults entries; returns the count. */
int tp_bench_build_headlines(const tp_bench_report *r, tp_bench_headline *rows);
int tp_bench_cmp_headline(const void *a, const void *b); /* qsort order of tp_bench_headline */
int tp_bench_have_gpu_results(const tp_bench_report *r);
/* Stage names of every pipeline in first-seen order, h2d first and d2h last; returns the count. */
int tp_bench_stage_columns(const tp_bench_report *r, const char **names, int max);
double tp_bench_stage_ms(const tp_bench_pipeline_result *p, const char *name); /* NAN when absent */
/* The pipeline's backend as the tables name it: "cuda+transfers (host image in, host table out)" when io says. */
const char *tp_bench_pipeline_label(const tp_bench_pipeline_result *p, char *buf, size_t n);

void tp_bench_md_meta(FILE *f, const tp_bench_report *r, int gpu);
void tp_bench_md_headline(FILE *f, const tp_bench_report *r, int gpu);
void tp_bench_md_regions(FILE *f, const tp_bench_report *r);
void tp_bench_md_transfers(FILE *f, const tp_bench_report *r);
void tp_bench_md_crossovers(FILE *f, const tp_bench_report *r);
void tp_bench_md_pipelines(FILE *f, const tp_bench_report *r);
void tp_bench_md_skipped(FILE *f, const tp_bench_report *r);
void tp_bench_md_details(FILE *f, const tp_bench_report *r);
void tp_bench_md_comparison(FILE *f, const tp_bench_report *r);
void tp_bench_md_targets(FILE *f, const tp_bench_report *r);
#endif

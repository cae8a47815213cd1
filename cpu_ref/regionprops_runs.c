/* regionprops_table: the one pass over the label image. Each thread turns a contiguous block of lines into
 * runs of equal positive label; the blocks are concatenated in line order, so the run list does not
 * depend on the thread count. Labels (any integer up to int64) are then mapped to dense region indices in
 * ascending label order (a direct table when the label range is small, else a sort of the run labels),
 * and the runs are grouped by region with a stable counting sort. */
#include "cpu_ref/regionprops_props.h"

#include <stdlib.h>
#include <string.h>

bool rp_buf_reserve(rp_buf *b, size_t bytes)
{
    if (bytes <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < bytes)
        cap = cap > SIZE_MAX / 2 ? bytes : cap * 2;
    void *p = realloc(b->p, cap);
    if (!p)
        return false;
    b->p = p;
    b->cap = cap;
    return true;
}

void rp_buf_free(rp_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->cap = 0;
}

void rp_work_free(rp_work *w)
{
    rp_buf_free(&w->mask);
    rp_buf_free(&w->queue);
    rp_buf_free(&w->vals);
    rp_buf_free(&w->rows);
    rp_buf_free(&w->chain);
    rp_buf_free(&w->extra);
    rp_hull3_free(w->hull);
    w->hull = NULL;
}

typedef struct run_list {
    rp_run *r;
    int64_t n, cap;
    bool failed;
} run_list;

static inline void push_run(run_list *l, int64_t line, int64_t x0, int64_t len, int64_t label)
{
    if (l->n == l->cap) {
        int64_t cap = l->cap ? l->cap * 2 : 1024;
        rp_run *r = realloc(l->r, (size_t)cap * sizeof *r);
        if (!r) {
            l->failed = true;
            return;
        }
        l->r = r;
        l->cap = cap;
    }
    l->r[l->n++] = (rp_run){line, x0, len, label};
}

/* Labels <= 0 are background (scipy's find_objects ignores them). Bool images hold one label, 1. */
#define RP_SCAN_FN(NAME, T, LABEL_OF)                                                                              \
    static void NAME(const void *data, int64_t W, int64_t line0, int64_t line1, run_list *out)                    \
    {                                                                                                              \
        for (int64_t line = line0; line < line1 && !out->failed; line++) {                                         \
            const T *p = (const T *)data + line * W;                                                               \
            int64_t x = 0;                                                                                         \
            while (x < W) {                                                                                        \
                T v = p[x];                                                                                        \
                if (!(v > 0)) {                                                                                    \
                    x++;                                                                                           \
                    continue;                                                                                      \
                }                                                                                                  \
                int64_t s = x;                                                                                     \
                while (++x < W && p[x] == v) {                                                                     \
                }                                                                                                  \
                push_run(out, line, s, x - s, LABEL_OF(v));                                                        \
            }                                                                                                      \
        }                                                                                                          \
    }
#define RP_AS_I64(v) ((int64_t)(v))
#define RP_AS_ONE(v) ((int64_t)1)
RP_SCAN_FN(scan_bool, uint8_t, RP_AS_ONE)
RP_SCAN_FN(scan_u8, uint8_t, RP_AS_I64)
RP_SCAN_FN(scan_i8, int8_t, RP_AS_I64)
RP_SCAN_FN(scan_u16, uint16_t, RP_AS_I64)
RP_SCAN_FN(scan_i16, int16_t, RP_AS_I64)
RP_SCAN_FN(scan_u32, uint32_t, RP_AS_I64)
RP_SCAN_FN(scan_i32, int32_t, RP_AS_I64)
RP_SCAN_FN(scan_i64, int64_t, RP_AS_I64)

typedef void (*scan_fn)(const void *, int64_t, int64_t, int64_t, run_list *);

static scan_fn scanner_for(tp_dtype t)
{
    switch (t) {
    case TP_BOOL: return scan_bool;
    case TP_UINT8: return scan_u8;
    case TP_INT8: return scan_i8;
    case TP_UINT16: return scan_u16;
    case TP_INT16: return scan_i16;
    case TP_UINT32: return scan_u32;
    case TP_INT32: return scan_i32;
    case TP_INT64: return scan_i64;
    default: return NULL;
    }
}

/* Runs of the whole image in raster order. */
static tp_status scan_runs(tp_context *ctx, const tp_image *labels, const rp_geom *g, rp_run **out, int64_t *n_out)
{
    scan_fn scan = scanner_for(labels->dtype);
    if (!scan)
        return tp_error(ctx, TP_ERR_DTYPE, "regionprops_table: label_image: expected an integer dtype, got %s",
                        tp_dtype_name(labels->dtype));
    int64_t lines = g->D * g->H;
    int nt = ctx->threads > 0 ? ctx->threads : 1;
    if (nt > lines)
        nt = (int)lines;
    run_list *parts = calloc((size_t)nt, sizeof *parts);
    if (!parts)
        return tp_error(ctx, TP_ERR_NOMEM, "out of host memory");
#pragma omp parallel for num_threads(nt) schedule(static, 1)
    for (int t = 0; t < nt; t++) {
        int64_t l0 = lines * t / nt, l1 = lines * (t + 1) / nt;
        scan(labels->data, g->W, l0, l1, &parts[t]);
    }
    int64_t total = 0;
    bool failed = false;
    for (int t = 0; t < nt; t++) {
        total += parts[t].n;
        failed |= parts[t].failed;
    }
    rp_run *all = failed ? NULL : tp_host_alloc(ctx, total, sizeof *all);
    if (all) {
        int64_t off = 0;
        for (int t = 0; t < nt; t++) {
            if (parts[t].n)
                memcpy(all + off, parts[t].r, (size_t)parts[t].n * sizeof *all);
            off += parts[t].n;
        }
    }
    for (int t = 0; t < nt; t++)
        free(parts[t].r);
    free(parts);
    if (!all)
        return failed ? tp_error(ctx, TP_ERR_NOMEM, "out of host memory") : TP_ERR_NOMEM;
    *out = all;
    *n_out = total;
    return TP_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Replace each run's label by its region index (ascending label order); returns the region labels. */
static tp_status dense_labels(tp_context *ctx, rp_run *runs, int64_t n, int64_t **labels_out, int64_t *nreg_out)
{
    int64_t lo = INT64_MAX, hi = 0;
    for (int64_t i = 0; i < n; i++) {
        lo = runs[i].region < lo ? runs[i].region : lo;
        hi = runs[i].region > hi ? runs[i].region : hi;
    }
    if (n == 0) {
        *labels_out = tp_host_alloc(ctx, 1, sizeof(int64_t));
        *nreg_out = 0;
        return *labels_out ? TP_OK : TP_ERR_NOMEM;
    }
    uint64_t range = (uint64_t)hi - (uint64_t)lo + 1;
    if (range <= (uint64_t)(4 * n) + 65536) {
        /* a direct table over [lo, hi]: index + 1 of each present label, 0 when absent */
        int64_t *table = tp_host_calloc(ctx, (int64_t)range, sizeof *table);
        if (!table)
            return TP_ERR_NOMEM;
        for (int64_t i = 0; i < n; i++)
            table[runs[i].region - lo] = 1;
        int64_t k = 0;
        for (uint64_t j = 0; j < range; j++)
            if (table[j])
                table[j] = ++k;
        int64_t *labels = tp_host_alloc(ctx, k, sizeof *labels);
        if (!labels) {
            free(table);
            return TP_ERR_NOMEM;
        }
        for (uint64_t j = 0; j < range; j++)
            if (table[j])
                labels[table[j] - 1] = lo + (int64_t)j;
        for (int64_t i = 0; i < n; i++)
            runs[i].region = table[runs[i].region - lo] - 1;
        free(table);
        *labels_out = labels;
        *nreg_out = k;
        return TP_OK;
    }
    /* sparse labels: sort the run labels, keep the unique ones, and binary-search each run */
    int64_t *labels = tp_host_alloc(ctx, n, sizeof *labels);
    if (!labels)
        return TP_ERR_NOMEM;
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (m == 0 || runs[i].region != labels[m - 1])
            labels[m++] = runs[i].region;
    qsort(labels, (size_t)m, sizeof *labels, cmp_i64);
    int64_t k = 0;
    for (int64_t i = 0; i < m; i++)
        if (k == 0 || labels[i] != labels[k - 1])
            labels[k++] = labels[i];
    for (int64_t i = 0; i < n; i++) {
        int64_t a = 0, b = k - 1, v = runs[i].region;
        while (a < b) {
            int64_t mid = a + (b - a) / 2;
            if (labels[mid] < v)
                a = mid + 1;
            else
                b = mid;
        }
        runs[i].region = a;
    }
    *labels_out = labels;
    *nreg_out = k;
    return TP_OK;
}

tp_status rp_collect_regions(tp_context *ctx, const tp_image *labels, const rp_geom *g, rp_run **runs_out,
                             rp_region **regions_out, int64_t *nregions_out)
{
    rp_run *runs = NULL, *grouped = NULL;
    int64_t nruns = 0, nreg = 0, *labs = NULL, *start = NULL;
    rp_region *regs = NULL;
    tp_status st = scan_runs(ctx, labels, g, &runs, &nruns);
    if (!st)
        st = dense_labels(ctx, runs, nruns, &labs, &nreg);
    if (!st) {
        grouped = tp_host_alloc(ctx, nruns, sizeof *grouped);
        start = tp_host_calloc(ctx, nreg + 1, sizeof *start);
        regs = tp_host_calloc(ctx, nreg, sizeof *regs);
        st = grouped && start && regs ? TP_OK : TP_ERR_NOMEM;
    }
    if (!st) {
        for (int64_t i = 0; i < nruns; i++)
            start[runs[i].region + 1]++;
        for (int64_t r = 0; r < nreg; r++) {
            regs[r].label = labs[r];
            regs[r].first = start[r];
            regs[r].nruns = start[r + 1];
            start[r + 1] += start[r];
        }
        for (int64_t i = 0; i < nruns; i++)
            grouped[start[runs[i].region]++] = runs[i];
#pragma omp parallel for num_threads(ctx->threads) schedule(dynamic, 64)
        for (int64_t r = 0; r < nreg; r++) {
            rp_region *R = &regs[r];
            const rp_run *q = grouped + R->first;
            R->lo[0] = R->lo[1] = R->lo[2] = INT64_MAX;
            R->hi[0] = R->hi[1] = R->hi[2] = INT64_MIN;
            for (int64_t i = 0; i < R->nruns; i++) {
                int64_t c[3] = {q[i].line / g->H, q[i].line % g->H, q[i].x0};
                int64_t e[3] = {c[0], c[1], q[i].x0 + q[i].len - 1};
                for (int a = 0; a < 3; a++) {
                    R->lo[a] = c[a] < R->lo[a] ? c[a] : R->lo[a];
                    R->hi[a] = e[a] > R->hi[a] ? e[a] : R->hi[a];
                }
                R->area += q[i].len;
            }
        }
    }
    free(runs);
    free(labs);
    free(start);
    if (st) {
        free(grouped);
        free(regs);
        return st;
    }
    *runs_out = grouped;
    *regions_out = regs;
    *nregions_out = nreg;
    return TP_OK;
}

/*
 * gaussian: skimage.filters.gaussian (0.19.3): img_as_float (or a cast with preserve_range), then
 * scipy.ndimage.gaussian_filter: one 1-D correlation per axis in axis order, an axis skipped when its sigma
 * is <= 1e-15 (the channel axis always is), each pass stored in the output dtype (float32 for float32
 * input, float64 otherwise) before the next reads it. Weights and borders: cpu_ref/gauss_weights.h.
 *
 * Speed without changing a bit: every output sample is the same sequence of double operations as scipy's
 * (centre * w0, then pairs from the outermost tap inwards), and the loops are vectorised ACROSS output
 * samples (8 at a time, accumulators in registers), never across taps.
 *  - Along the last (contiguous) axis each line is copied once into a padded double buffer.
 *  - Along any other axis the image is seen as outer x len x inner; a task takes a block of columns of
 *    the inner axis and a run of output rows and keeps the 2r+1 input rows it needs in a ring of converted
 *    row segments, so each input row is converted once per task and read from cache thereafter.
 * The first pass reads the input dtype and converts on load (no img_as_float copy of the image).
 * Tasks split outputs only, so the result does not depend on the thread count. A thread's tasks along a
 * non-contiguous axis are whole bands of rows (column blocks vary fastest), so it first-touches the pages
 * the following pass along the rows gives to the same thread; the output and the scratch image come in
 * huge pages from tp_host_malloc (docs/notes_cpu_perf.md: the 4 KiB page faults of a fresh 512 MiB output
 * were a third of the time).
 */
#include "cpu_ref/cpu_ops.h"
#include "cpu_ref/convert.h"
#include "cpu_ref/gauss_weights.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

enum {
    COL_BLOCK = 128, /* inner-axis columns per task (ring of 2r+1 such rows stays in L1/L2 for small r) */
    ROW_BLOCK = 512  /* output rows per task along a non-contiguous axis */
};

/* One 1-D pass: the array as outer x len x inner, filtered along len. */
typedef struct gauss_pass {
    int64_t outer, len, inner;
    const double *w; /* w[0] centre, w[j] the weight of taps -j and +j */
    int64_t r;
    tp_border mode;
    double cval;
    void (*kern)(const double *const *row, int64_t n, const double *w, int64_t r, double *out); /* correlate */
} gauss_pass;

/* Four doubles; the compiler maps it to the widest vectors the target has (two SSE2 registers on
 * baseline x86-64). Lane-wise add and multiply round exactly like scalar code. The unaligned, aliasing
 * variant is only used to load and store through double pointers. */
typedef double vd4 __attribute__((vector_size(32)));
typedef double vd4u __attribute__((vector_size(32), aligned(8), may_alias));
#define LOAD4(p) (*(const vd4u *)(p))
#define STORE4(p, v) (*(vd4u *)(p) = (v))

/* The correlation kernels, compiled for the baseline and, where GCC can dispatch at load time, for AVX2,
 * plus an AVX-512 kernel with 8-double vectors picked at run time (wider vectors only: no FMA is emitted
 * under -ffp-contract=off, so the bits are the same). Not under ThreadSanitizer: the IFUNC resolver runs
 * during relocation, before TSan's runtime exists. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) &&                      \
    !defined(__SANITIZE_THREAD__)
#define TP_KERNEL_CLONES __attribute__((target_clones("avx2", "default")))
#define TP_KERNEL_AVX512 1
#else
#define TP_KERNEL_CLONES
#endif

/* row[j] (j = -r..r, through row[-j] and row[j]) holds the samples at offset j of output samples
 * [0, n): out[i] = row[0][i] * w[0] + sum over j = r..1 of (row[-j][i] + row[j][i]) * w[j], in that order.
 * For a contiguous line pass row[j] = x + j. Sixteen outputs at a time keep their sums in registers. */
TP_KERNEL_CLONES
static void correlate(const double *const *row, int64_t n, const double *w, int64_t r, double *out)
{
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const double *c = row[0] + i;
        vd4 a0 = LOAD4(c) * w[0], a1 = LOAD4(c + 4) * w[0], a2 = LOAD4(c + 8) * w[0], a3 = LOAD4(c + 12) * w[0];
        for (int64_t j = r; j >= 1; j--) {
            const double *lo = row[-j] + i, *hi = row[j] + i;
            const double wj = w[j];
            a0 += (LOAD4(lo) + LOAD4(hi)) * wj;
            a1 += (LOAD4(lo + 4) + LOAD4(hi + 4)) * wj;
            a2 += (LOAD4(lo + 8) + LOAD4(hi + 8)) * wj;
            a3 += (LOAD4(lo + 12) + LOAD4(hi + 12)) * wj;
        }
        STORE4(out + i, a0);
        STORE4(out + i + 4, a1);
        STORE4(out + i + 8, a2);
        STORE4(out + i + 12, a3);
    }
    for (; i + 4 <= n; i += 4) {
        vd4 a = LOAD4(row[0] + i) * w[0];
        for (int64_t j = r; j >= 1; j--)
            a += (LOAD4(row[-j] + i) + LOAD4(row[j] + i)) * w[j];
        STORE4(out + i, a);
    }
    for (; i < n; i++) {
        double o = row[0][i] * w[0];
        for (int64_t j = r; j >= 1; j--)
            o += (row[-j][i] + row[j][i]) * w[j];
        out[i] = o;
    }
}

#ifdef TP_KERNEL_AVX512
/* correlate with 512-bit vectors, for CPUs with AVX-512F: 32 outputs per step in four 8-double
 * accumulators (the same per-output operation sequence, lane by lane, so the same bits). Where AVX-512
 * runs on two full-width ports (Intel server cores) this does twice the lanes per instruction of the
 * 256-bit clone; where 512-bit operations are split in two (AMD Zen 4) it is as fast. */
typedef double vd8 __attribute__((vector_size(64)));
typedef double vd8u __attribute__((vector_size(64), aligned(8), may_alias));
#define LOAD8(p) (*(const vd8u *)(p))
#define STORE8(p, v) (*(vd8u *)(p) = (v))
__attribute__((target("avx512f"))) static void correlate_avx512(const double *const *row, int64_t n,
                                                                  const double *w, int64_t r, double *out)
{
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const double *c = row[0] + i;
        vd8 a0 = LOAD8(c) * w[0], a1 = LOAD8(c + 8) * w[0], a2 = LOAD8(c + 16) * w[0], a3 = LOAD8(c + 24) * w[0];
        for (int64_t j = r; j >= 1; j--) {
            const double *lo = row[-j] + i, *hi = row[j] + i;
            const double wj = w[j];
            a0 += (LOAD8(lo) + LOAD8(hi)) * wj;
            a1 += (LOAD8(lo + 8) + LOAD8(hi + 8)) * wj;
            a2 += (LOAD8(lo + 16) + LOAD8(hi + 16)) * wj;
            a3 += (LOAD8(lo + 24) + LOAD8(hi + 24)) * wj;
        }
        STORE8(out + i, a0);
        STORE8(out + i + 8, a1);
        STORE8(out + i + 16, a2);
        STORE8(out + i + 24, a3);
    }
    for (; i + 8 <= n; i += 8) {
        vd8 a = LOAD8(row[0] + i) * w[0];
        for (int64_t j = r; j >= 1; j--)
            a += (LOAD8(row[-j] + i) + LOAD8(row[j] + i)) * w[j];
        STORE8(out + i, a);
    }
    for (; i < n; i++) {
        double o = row[0][i] * w[0];
        for (int64_t j = r; j >= 1; j--)
            o += (row[-j][i] + row[j][i]) * w[j];
        out[i] = o;
    }
}
#undef LOAD8
#undef STORE8
#endif

/* The correlate of this CPU. */
static void (*pick_correlate(void))(const double *const *, int64_t, const double *, int64_t, double *)
{
#ifdef TP_KERNEL_AVX512
    if (__builtin_cpu_supports("avx512f"))
        return correlate_avx512;
#endif
    return correlate;
}

/* Fill x[-r..-1] and x[n..n+r-1] from x[0..n) as scipy's NI_ExtendLine does. */
static void extend_line(double *x, int64_t n, int64_t r, tp_border mode, double cval)
{
    for (int64_t i = 1; i <= r; i++) {
        int64_t a = tp_border_index(-i, n, mode), b = tp_border_index(n - 1 + i, n, mode);
        x[-i] = a < 0 ? cval : x[a];
        x[n - 1 + i] = b < 0 ? cval : x[b];
    }
}

/* Pass along the contiguous last axis (inner == 1). src may equal dst: a line is read whole first. */
static tp_status pass_lines(tp_context *ctx, const gauss_pass *p, const void *src, const tp_float_conv *cv,
                            void *dst, tp_dtype out)
{
    const int64_t len = p->len, r = p->r, per = 2 * len + 2 * r, nrow = 2 * r + 1;
    double *scratch = tp_host_alloc(ctx, per * ctx->threads, sizeof(double));
    const double **ptrs = tp_host_alloc(ctx, nrow * ctx->threads, sizeof(double *));
    if (!scratch || !ptrs) {
        free(scratch);
        free(ptrs);
        return TP_ERR_NOMEM;
    }
#pragma omp parallel num_threads(ctx->threads)
    {
        int t = omp_get_thread_num();
        double *x = scratch + per * t + r, *o = x + len + r;
        const double **row = ptrs + nrow * t + r;
        for (int64_t j = -r; j <= r; j++)
            row[j] = x + j;
#pragma omp for schedule(static)
        for (int64_t l = 0; l < p->outer; l++) {
            tp_float_conv_load(cv, src, l * len, 1, len, x);
            extend_line(x, len, r, p->mode, p->cval);
            if (out == TP_FLOAT64) { /* the line is buffered, so even in place the result can go straight out */
                p->kern(row, len, p->w, r, (double *)dst + l * len);
            } else {
                p->kern(row, len, p->w, r, o);
                tp_float_store(dst, out, l * len, o, len);
            }
        }
    }
    free(scratch);
    free(ptrs);
    return TP_OK;
}

/* Scratch of one thread for pass_rows. */
typedef struct ring {
    double *rows;        /* (2r+1) x cw converted row segments */
    const double **ptr;  /* 2r+1 row pointers for the current output row */
    double *out;         /* cw results, then cw copies of cval */
    int64_t cw;          /* segment width: COL_BLOCK, or the axis's inner extent when smaller (a huge radius on
                          * a narrow image would otherwise ask (2r+1) x COL_BLOCK doubles a thread) */
} ring;

/* Element offset in the source of virtual row v (any integer; borders map it into [0, len)) of slab o at
 * column c0, or -1 where the border is the constant. */
static int64_t row_offset(const gauss_pass *p, int64_t o, int64_t v, int64_t c0)
{
    int64_t s = tp_border_index(v, p->len, p->mode);
    return s < 0 ? -1 : (o * p->len + s) * p->inner + c0;
}

/* Ask for the source row a few rows ahead while the current ones are computed: the rows of a task are a
 * strided walk through memory that the hardware prefetcher follows poorly. */
static void prefetch_row(const gauss_pass *p, const void *src, size_t esize, int64_t o, int64_t v, int64_t c0,
                         int64_t nc)
{
    int64_t off = row_offset(p, o, v, c0);
    if (off < 0)
        return;
    const char *b = (const char *)src + off * (int64_t)esize;
    for (int64_t i = 0; i < nc * (int64_t)esize; i += 64)
        __builtin_prefetch(b + i);
}

/* One task of pass_rows: output rows [k0, k1) of slab o, columns [c0, c0+nc). Rows are converted into a
 * ring of 2r+1 segments, or, when the source already holds the float64 values, read in place. A kernel
 * wider than the axis (2r+1 > len: every tap lands on one of the len rows or the constant) converts each
 * source row once into a table indexed by source row instead: the same values, and len segments of scratch
 * instead of 2r+1 (a radius of 10^6 on a 10-row axis would otherwise ask 2 million segments a thread). */
static void rows_task(const gauss_pass *p, const void *src, const tp_float_conv *cv, void *dst, tp_dtype out,
                      int64_t o, int64_t k0, int64_t k1, int64_t c0, int64_t nc, ring *rg)
{
    enum { AHEAD = 4 };
    const int64_t r = p->r, nring = 2 * r + 1, first = k0 - r;
    const int direct = cv->src == TP_FLOAT64 && cv->scale == 1.0 && !cv->clamp;
    const int table = !direct && p->len < nring;
    const size_t esize = tp_dtype_size(cv->src);
    const int64_t cw = rg->cw;
    double *cval_row = rg->out + cw;
    for (int64_t i = 0; i < nc; i++)
        cval_row[i] = p->cval;
    for (int64_t sr = 0; table && sr < p->len; sr++)
        tp_float_conv_load(cv, src, (o * p->len + sr) * p->inner + c0, 1, nc, rg->rows + sr * cw);
    for (int64_t v = first; !direct && !table && v < k0 + r; v++) {
        int64_t off = row_offset(p, o, v, c0);
        if (off >= 0)
            tp_float_conv_load(cv, src, off, 1, nc, rg->rows + (v - first) % nring * cw);
    }
    for (int64_t k = k0; k < k1; k++) {
        if (!direct && !table) {
            prefetch_row(p, src, esize, o, k + r + AHEAD, c0, nc);
            int64_t off = row_offset(p, o, k + r, c0);
            if (off >= 0)
                tp_float_conv_load(cv, src, off, 1, nc, rg->rows + (k + r - first) % nring * cw);
        }
        for (int64_t j = -r; j <= r; j++) {
            int64_t off = row_offset(p, o, k + j, c0);
            rg->ptr[j + r] = off < 0 ? cval_row
                             : direct ? (const double *)src + off
                             : table  ? rg->rows + tp_border_index(k + j, p->len, p->mode) * cw
                                      : rg->rows + (k + j - first) % nring * cw;
        }
        const int64_t at = (o * p->len + k) * p->inner + c0;
        if (out == TP_FLOAT64) {
            p->kern(rg->ptr + r, nc, p->w, r, (double *)dst + at);
        } else {
            p->kern(rg->ptr + r, nc, p->w, r, rg->out);
            tp_float_store(dst, out, at, rg->out, nc);
        }
    }
}

/* Pass along a non-contiguous axis (inner > 1). src must differ from dst. */
static tp_status pass_rows(tp_context *ctx, const gauss_pass *p, const void *src, const tp_float_conv *cv,
                           void *dst, tp_dtype out)
{
    const int64_t nring = 2 * p->r + 1;
    const int64_t ncb = (p->inner + COL_BLOCK - 1) / COL_BLOCK, nkb = (p->len + ROW_BLOCK - 1) / ROW_BLOCK;
    const int64_t cw = p->inner < COL_BLOCK ? p->inner : COL_BLOCK;
    const int64_t segs = p->len < nring ? p->len : nring; /* the table, or the ring (rows_task) */
    const int64_t per = (segs + 2) * cw, ntasks = p->outer * ncb * nkb;
    double *scratch = tp_host_alloc(ctx, per * ctx->threads, sizeof(double));
    const double **ptrs = tp_host_alloc(ctx, nring * ctx->threads, sizeof(double *));
    if (!scratch || !ptrs) {
        free(scratch);
        free(ptrs);
        return TP_ERR_NOMEM;
    }
#pragma omp parallel num_threads(ctx->threads)
    {
        int t = omp_get_thread_num();
        ring rg = {scratch + per * t, ptrs + nring * t, scratch + per * t + segs * cw, cw};
#pragma omp for schedule(static)
        for (int64_t task = 0; task < ntasks; task++) {
            /* column blocks vary fastest: a thread's run of tasks covers whole bands of rows, so it first-touches
             * (and keeps in its NUMA node) the pages of those rows, which the next pass along the rows reads */
            int64_t cb = task % ncb, kb = task / ncb % nkb, o = task / ncb / nkb;
            int64_t k0 = kb * ROW_BLOCK, k1 = k0 + ROW_BLOCK < p->len ? k0 + ROW_BLOCK : p->len;
            int64_t c0 = cb * COL_BLOCK, nc = p->inner - c0 < COL_BLOCK ? p->inner - c0 : COL_BLOCK;
            rows_task(p, src, cv, dst, out, o, k0, k1, c0, nc, &rg);
        }
    }
    free(scratch);
    free(ptrs);
    return TP_OK;
}

/* The filtered axes, in the order scipy filters them. */
typedef struct gauss_plan {
    int n;
    int axis[TP_MAX_DIMS];
    double sigma[TP_MAX_DIMS];
} gauss_plan;

static gauss_plan make_plan(const tp_call *c)
{
    const tp_image *in = c->in[0];
    double s[TP_MAX_SEQ];
    tp_arg_seq(c, "sigma", tp_image_spatial_ndim(in), s);
    gauss_plan pl = {0, {0}, {0}};
    for (int a = 0, si = 0; a < in->ndim; a++) {
        if (a == in->channel_axis)
            continue; /* skimage inserts sigma 0 here, and scipy skips it */
        double sg = s[si++];
        if (sg > 1e-15) {
            pl.axis[pl.n] = a;
            pl.sigma[pl.n++] = sg;
        }
    }
    return pl;
}

/* Pick each pass's destination backwards from the output (which[i]: 0 = the output, 1 = a scratch image):
 * a pass along the last axis may run in place, any other needs the other buffer; the first pass reads the
 * input. Returns whether the scratch image is needed. */
static int assign_buffers(const gauss_plan *pl, int last_axis, int *which)
{
    int need = 0;
    which[pl->n - 1] = 0;
    for (int i = pl->n - 1; i >= 1; i--) {
        which[i - 1] = pl->axis[i] == last_axis ? which[i] : 1 - which[i];
        need |= which[i - 1];
    }
    return need;
}

static tp_status run_pass(tp_context *ctx, const tp_image *in, int axis, const double *w, int64_t r,
                          tp_border mode, double cval, const void *src, const tp_float_conv *cv, void *dst,
                          tp_dtype out)
{
    gauss_pass p = {1, in->shape[axis], 1, w + r, r, mode, cval, pick_correlate()};
    for (int a = 0; a < axis; a++)
        p.outer *= in->shape[a];
    for (int a = axis + 1; a < in->ndim; a++)
        p.inner *= in->shape[a];
    return p.inner == 1 ? pass_lines(ctx, &p, src, cv, dst, out) : pass_rows(ctx, &p, src, cv, dst, out);
}

tp_status tp_cpu_gaussian(tp_context *ctx, const tp_call *c)
{
    const tp_image *in = c->in[0];
    const tp_dtype out_dt = tp_float_dtype_for(in->dtype);
    const tp_float_conv in_cv = tp_float_conv_make(in->dtype, tp_arg_bool(c, "preserve_range"));
    const tp_float_conv mid_cv = tp_float_conv_make(out_dt, 1);
    const double truncate = tp_arg_f64(c, "truncate"), cval = tp_arg_f64(c, "cval");
    const int mode = tp_border_from_name(tp_arg_str(c, "mode"));
    if (mode < 0)
        return tp_error(ctx, TP_ERR_ARG, "gaussian: mode: expected nearest, reflect, mirror, constant or wrap, got %s",
                        tp_arg_str(c, "mode"));
    const gauss_plan pl = make_plan(c);
    for (int i = 0; i < pl.n; i++)
        if (tp_gauss_radius(pl.sigma[i], truncate) < 0)
            return tp_error(ctx, TP_ERR_ARG,
                            "gaussian: sigma: expected truncate * sigma + 0.5 <= %lld (the kernel radius), got "
                            "sigma %g with truncate %g",
                            (long long)TP_GAUSS_MAX_RADIUS, pl.sigma[i], truncate);
    tp_status st = tp_out_image(ctx, c, out_dt, in->ndim, in->shape, in->channel_axis);
    if (st)
        return st;
    void *out = c->out->image.data;
    const int64_t count = tp_image_count(in);
    if (pl.n == 0) { /* scipy: output[...] = input */
        tp_float_convert(&in_cv, in->data, count, out, out_dt, ctx->threads);
        return TP_OK;
    }
    int which[TP_MAX_DIMS];
    void *tmp = NULL;
    if (assign_buffers(&pl, in->ndim - 1, which)) {
        if (!(tmp = tp_host_alloc(ctx, count, tp_dtype_size(out_dt))))
            return TP_ERR_NOMEM;
    }
    const void *src = in->data;
    for (int i = 0; i < pl.n && !st; i++) {
        int64_t r = tp_gauss_radius(pl.sigma[i], truncate);
        double *w = tp_host_alloc(ctx, 2 * r + 1, sizeof(double));
        if (!w) {
            st = TP_ERR_NOMEM;
            break;
        }
        tp_gauss_weights(pl.sigma[i], truncate, w, &r);
        void *dst = which[i] ? tmp : out;
        st = run_pass(ctx, in, pl.axis[i], w, r, (tp_border)mode, cval, src, i == 0 ? &in_cv : &mid_cv, dst, out_dt);
        free(w);
        src = dst;
    }
    free(tmp);
    return st;
}

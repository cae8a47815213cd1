/* label: scikit-image's skimage.measure.label (bool images go through scipy.ndimage.label, other integer
 * images through skimage's own union-find; both number components 1..N in raster order of their first
 * pixel, and that order is the contract).
 *
 * Run-based union-find: each image row (a line along x) is cut into runs of equal, non-background value.
 * Runs are the union-find nodes, indexed in raster order, and a union always makes the smaller index the
 * root, so each component's root is the run holding its first pixel. Runs of a row only meet runs of the
 * rows before it (up, and in 3D the previous plane), so a two-pointer sweep over two sorted run lists
 * joins them. Because roots are canonical (the minimum), any order of unions gives the same forest roots
 * and the same numbering: threads label disjoint row blocks, the block borders are joined afterwards in
 * one thread, and the output does not depend on the thread count. */
#include "cpu_ref/cpu_ops.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* A run [x0, x1) of one value along x. */
typedef struct lrun {
    int64_t x0, x1, val;
} lrun;

typedef struct labeler {
    const void *data;
    tp_dtype dtype;
    int64_t nz, ny, nx;
    int64_t bg;            /* pixels equal to this (after the bool mapping) are background */
    bool bool_in;          /* values are (pixel != 0) */
    int conn;              /* 1..3: a neighbour differs in at most conn coordinates */
    int threads;
    int64_t *row_start;    /* runs of row q are row_start[q] .. row_start[q+1]-1 */
    lrun *runs;
    int64_t *parent;       /* union-find forest; parent[k] <= k always; later the label of run k */
} labeler;

/* Cut row q of an integer image into runs of one non-background value; with dst NULL only count them. */
#define TP_SCAN_ROW(T)                                                                                             \
    {                                                                                                              \
        const T *s = (const T *)L->data + q * nx;                                                                  \
        int64_t x = 0;                                                                                             \
        while (x < nx) {                                                                                           \
            int64_t v = (int64_t)s[x];                                                                             \
            if (v == bg) {                                                                                         \
                x++;                                                                                               \
                continue;                                                                                          \
            }                                                                                                      \
            int64_t x0 = x++;                                                                                      \
            while (x < nx && (int64_t)s[x] == v)                                                                   \
                x++;                                                                                               \
            if (dst)                                                                                               \
                dst[n] = (lrun){x0, x, v};                                                                         \
            n++;                                                                                                   \
        }                                                                                                          \
    }

/* Masks are mostly long stretches of one byte value: step over them eight bytes at a time. */
static int64_t next_nonzero(const uint8_t *s, int64_t x, int64_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (uint64_t w; x + 8 <= n; x += 8) {
        memcpy(&w, s + x, 8);
        if (w)
            return x + (__builtin_ctzll(w) >> 3);
    }
#endif
    while (x < n && !s[x])
        x++;
    return x;
}

static int64_t next_zero(const uint8_t *s, int64_t x, int64_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    for (uint64_t w; x + 8 <= n; x += 8) {
        memcpy(&w, s + x, 8);
        uint64_t zero_bytes = (w - ones) & ~w & highs; /* exact from the lowest zero byte up */
        if (zero_bytes)
            return x + (__builtin_ctzll(zero_bytes) >> 3);
    }
#endif
    while (x < n && s[x])
        x++;
    return x;
}

/* bool rows: foreground is the nonzero bytes (bg 0) or the zero ones (bg 1); all of it has one value. */
static int64_t scan_row_bool(const labeler *L, int64_t q, lrun *dst)
{
    const uint8_t *s = (const uint8_t *)L->data + q * L->nx;
    const int64_t nx = L->nx, val = L->bg == 0;
    int64_t n = 0, x = 0;
    while (x < nx) {
        x = val ? next_nonzero(s, x, nx) : next_zero(s, x, nx);
        if (x == nx)
            break;
        int64_t x0 = x;
        x = val ? next_zero(s, x, nx) : next_nonzero(s, x, nx);
        if (dst)
            dst[n] = (lrun){x0, x, val};
        n++;
    }
    return n;
}

static int64_t scan_row(const labeler *L, int64_t q, lrun *dst)
{
    const int64_t nx = L->nx, bg = L->bg;
    int64_t n = 0;
    switch (L->dtype) {
    case TP_BOOL: return scan_row_bool(L, q, dst);
    case TP_UINT8: TP_SCAN_ROW(uint8_t) break;
    case TP_INT8: TP_SCAN_ROW(int8_t) break;
    case TP_UINT16: TP_SCAN_ROW(uint16_t) break;
    case TP_INT16: TP_SCAN_ROW(int16_t) break;
    case TP_UINT32: TP_SCAN_ROW(uint32_t) break;
    case TP_INT32: TP_SCAN_ROW(int32_t) break;
    case TP_INT64: TP_SCAN_ROW(int64_t) break;
    default: break;
    }
    return n;
}
#undef TP_SCAN_ROW

static int64_t find_root(int64_t *p, int64_t a)
{
    while (p[a] != a) {
        p[a] = p[p[a]]; /* path halving */
        a = p[a];
    }
    return a;
}

static void unite(int64_t *p, int64_t a, int64_t b)
{
    a = find_root(p, a);
    b = find_root(p, b);
    if (a < b)
        p[b] = a;
    else if (b < a)
        p[a] = b;
}

/* Join the runs of row q with those of an earlier row qn; ext = 1 when diagonal steps along x count. */
static void join_rows(const labeler *L, int64_t q, int64_t qn, int64_t ext)
{
    const lrun *r = L->runs;
    int64_t j = L->row_start[qn], jend = L->row_start[qn + 1];
    for (int64_t i = L->row_start[q], iend = L->row_start[q + 1]; i < iend && j < jend; i++) {
        int64_t lo = r[i].x0 - ext, hi = r[i].x1 + ext; /* neighbour runs touching [lo, hi) */
        while (j < jend && r[j].x1 <= lo)
            j++;
        for (int64_t k = j; k < jend && r[k].x0 < hi; k++)
            if (r[k].val == r[i].val)
                unite(L->parent, i, k);
    }
}

/* The rows before row q that may hold neighbours: (dz, dy) with the x extension their hop count leaves. */
static const int64_t prev_rows[4][2] = {{0, -1}, {-1, -1}, {-1, 0}, {-1, 1}};

/* Join row q with its earlier neighbour rows whose index lies in [first, q) (first <= 0: all of them);
 * with only_before set, only those below `first` (the rows another block owns). */
static void join_row(const labeler *L, int64_t q, int64_t first, bool only_before)
{
    int64_t z = q / L->ny, y = q % L->ny;
    for (int k = 0; k < 4; k++) {
        int64_t dz = prev_rows[k][0], dy = prev_rows[k][1];
        int hops = (int)(-dz + (dy != 0));
        if (hops > L->conn || z + dz < 0 || y + dy < 0 || y + dy >= L->ny)
            continue;
        int64_t qn = (z + dz) * L->ny + (y + dy);
        if (only_before ? qn < first : qn >= first)
            join_rows(L, q, qn, hops < L->conn);
    }
}

static tp_status find_runs(tp_context *ctx, labeler *L)
{
    const int64_t rows = L->nz * L->ny;
    if (!(L->row_start = tp_host_alloc(ctx, rows + 1, sizeof(int64_t))))
        return TP_ERR_NOMEM;
#pragma omp parallel for num_threads(L->threads) schedule(static)
    for (int64_t q = 0; q < rows; q++)
        L->row_start[q + 1] = scan_row(L, q, NULL);
    L->row_start[0] = 0;
    for (int64_t q = 0; q < rows; q++)
        L->row_start[q + 1] += L->row_start[q];
    int64_t nruns = L->row_start[rows];
    L->runs = tp_host_alloc(ctx, nruns > 0 ? nruns : 1, sizeof(lrun));
    L->parent = tp_host_alloc(ctx, nruns > 0 ? nruns : 1, sizeof(int64_t));
    if (!L->runs || !L->parent)
        return TP_ERR_NOMEM;
#pragma omp parallel for num_threads(L->threads) schedule(static)
    for (int64_t q = 0; q < rows; q++) {
        scan_row(L, q, L->runs + L->row_start[q]);
        for (int64_t k = L->row_start[q]; k < L->row_start[q + 1]; k++)
            L->parent[k] = k; /* every run starts as its own root */
    }
    return TP_OK;
}

/* Union-find over the runs, then parent[k] becomes the label of run k. Returns the number of labels. */
static int64_t join_and_number(labeler *L)
{
    const int64_t rows = L->nz * L->ny, nruns = L->row_start[rows];
    int64_t *p = L->parent;
    const int nb = L->threads;
    /* each block of rows joins within itself: its unions touch only its own runs */
#pragma omp parallel for num_threads(L->threads) schedule(static, 1)
    for (int b = 0; b < nb; b++) {
        int64_t q0 = rows * b / nb, q1 = rows * (b + 1) / nb;
        for (int64_t q = q0; q < q1; q++)
            join_row(L, q, q0, false);
    }
    /* then the neighbours across block borders (earlier rows at most ny + 1 back) */
    for (int b = 1; b < nb; b++) {
        int64_t q0 = rows * b / nb, q1 = rows * (b + 1) / nb;
        for (int64_t q = q0; q < q1 && q <= q0 + L->ny; q++)
            join_row(L, q, q0, true);
    }
    /* roots are minima and parents point backwards, so one forward pass numbers roots in raster order */
    int64_t n = 0;
    for (int64_t k = 0; k < nruns; k++)
        p[k] = p[k] == k ? ++n : p[p[k]];
    return n;
}

static void write_labels(const labeler *L, void *out, tp_dtype out_dtype)
{
    const int64_t rows = L->nz * L->ny, nx = L->nx;
#pragma omp parallel for num_threads(L->threads) schedule(static)
    for (int64_t q = 0; q < rows; q++) {
        int64_t k0 = L->row_start[q], k1 = L->row_start[q + 1];
        if (out_dtype == TP_INT32) {
            int32_t *o = (int32_t *)out + q * nx;
            memset(o, 0, (size_t)nx * sizeof *o);
            for (int64_t k = k0; k < k1; k++)
                for (int64_t x = L->runs[k].x0; x < L->runs[k].x1; x++)
                    o[x] = (int32_t)L->parent[k];
        } else {
            int64_t *o = (int64_t *)out + q * nx;
            memset(o, 0, (size_t)nx * sizeof *o);
            for (int64_t k = k0; k < k1; k++)
                for (int64_t x = L->runs[k].x0; x < L->runs[k].x1; x++)
                    o[x] = L->parent[k];
        }
    }
}

/* Label a contiguous (nz, ny, nx) image into out (int32 or int64, same layout). */
static tp_status label_volume(tp_context *ctx, labeler *L, void *out, tp_dtype out_dtype)
{
    tp_status st = find_runs(ctx, L);
    if (!st) {
        join_and_number(L);
        write_labels(L, out, out_dtype);
    }
    free(L->row_start);
    free(L->runs);
    free(L->parent);
    return st;
}

/* skimage's Cython labeller swaps a trailing length-1 axis forward ((A, B, 1) -> (1, B, A)), which
 * transposes the scan, so its numbering follows x-major order there. Reproduce it on a transposed copy. */
static void transpose2(const void *src, void *dst, int64_t a, int64_t b, size_t esz)
{
    for (int64_t i = 0; i < a; i++)
        for (int64_t j = 0; j < b; j++)
            memcpy((char *)dst + (size_t)(j * a + i) * esz, (const char *)src + (size_t)(i * b + j) * esz, esz);
}

static tp_status label_transposed(tp_context *ctx, labeler *L, void *out, tp_dtype out_dtype)
{
    int64_t a = L->ny, b = L->nx; /* the (a, b, 1) image seen as a (a, b) plane */
    size_t isz = tp_dtype_size(L->dtype), osz = tp_dtype_size(out_dtype);
    void *tin = tp_host_alloc(ctx, a * b, isz), *tout = tp_host_alloc(ctx, a * b, osz);
    tp_status st = tin && tout ? TP_OK : TP_ERR_NOMEM;
    if (!st) {
        transpose2(L->data, tin, a, b, isz);
        L->data = tin;
        L->ny = b;
        L->nx = a;
        st = label_volume(ctx, L, tout, out_dtype);
        if (!st)
            transpose2(tout, out, b, a, osz);
    }
    free(tin);
    free(tout);
    return st;
}

tp_status tp_cpu_label(tp_context *ctx, const tp_call *c)
{
    const tp_image *in = c->in[0];
    int sd = tp_image_spatial_ndim(in);
    int64_t n = tp_image_count(in);
    labeler L;
    memset(&L, 0, sizeof L);
    L.data = in->data;
    L.dtype = in->dtype;
    L.threads = ctx->threads > 0 ? ctx->threads : 1;
    L.nz = sd == 3 ? in->shape[0] : 1;
    L.ny = in->shape[sd - 2];
    L.nx = in->shape[sd - 1];
    L.conn = tp_arg_is_none(c, "connectivity") ? sd : (int)tp_arg_i64(c, "connectivity");
    if (L.conn < 1 || L.conn > sd)
        return tp_error(ctx, TP_ERR_ARG, "label: connectivity: expected 1..%d for a %dD image, got %d", sd, sd,
                        L.conn);
    int64_t background = tp_arg_i64(c, "background");
    L.bool_in = in->dtype == TP_BOOL;
    /* bool images: scikit-image labels the True pixels, or the False ones when background == 1 */
    L.bg = L.bool_in ? (background == 1 ? 1 : 0) : background;
    /* scipy.ndimage.label answers int32 below 2**31 - 2 pixels; skimage's own path answers intp */
    tp_dtype out_dtype = L.bool_in && n < INT64_C(2147483646) ? TP_INT32 : TP_INT64;
    tp_status st = tp_out_image(ctx, c, out_dtype, in->ndim, in->shape, -1);
    if (st)
        return st;
    if (!L.bool_in && sd == 3 && in->shape[2] == 1 && in->shape[0] > 1 && in->shape[1] > 1) {
        L.ny = in->shape[0];
        L.nx = in->shape[1];
        L.nz = 1;
        return label_transposed(ctx, &L, c->out->image.data, out_dtype);
    }
    return label_volume(ctx, &L, c->out->image.data, out_dtype);
}

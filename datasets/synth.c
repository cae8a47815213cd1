/* Synthetic nuclei: elliptical blobs of varied size, orientation and brightness on a background gradient,
 * some in touching pairs, some with a dark hole (the label has a hole too), plus Gaussian-like noise; 2D
 * and 3D; with the ground-truth labels.
 *
 * Determinism: blobs come from one xoshiro256** stream seeded by splitmix64(seed), generated sequentially
 * (cheap: thousands to a few hundred thousand blobs); pixels are computed independently by rows, each
 * noise value from a counter-based hash of (seed, pixel index), so the bytes do not depend on the thread
 * count. Rasterisation: blobs are bucketed by bands of rows, and each row fills the x-span of each blob of
 * its band (solved from the blob's quadric), so the cost is pixels + blobs-per-band, never pixels x blobs.
 * Where blobs overlap, the later blob wins.
 *
 * Sizes: every index and count is 64-bit, so 3D volumes over 2^31 voxels work (1300^3 uint8, 2.2e9 voxels:
 * about 16 CPU-seconds, under 2 s on 16 cores; memory: the image plus a row buffer per thread). */
#include "datasets/datasets.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- random numbers ---- */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct xoshiro {
    uint64_t s[4];
} xoshiro;

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t xo_next(xoshiro *r)
{
    uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

static void xo_seed(xoshiro *r, uint64_t seed)
{
    uint64_t s = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&s);
}

/* uniform in [0, 1) with 53 bits */
static double xo_unif(xoshiro *r) { return (double)(xo_next(r) >> 11) * 0x1.0p-53; }
static double xo_range(xoshiro *r, double lo, double hi) { return lo + (hi - lo) * xo_unif(r); }

/* Noise of unit variance from one hash of the pixel index: the sum of four 16-bit uniforms (Irwin-Hall),
 * close enough to a Gaussian for images and far cheaper than Box-Muller. */
static float pixel_noise(uint64_t key, uint64_t idx)
{
    uint64_t s = key ^ (idx * 0xD1B54A32D192ED03ull);
    uint64_t h = splitmix64(&s);
    uint32_t sum = (uint32_t)(h & 0xFFFF) + (uint32_t)((h >> 16) & 0xFFFF) + (uint32_t)((h >> 32) & 0xFFFF) +
                   (uint32_t)(h >> 48);
    return (float)(((double)sum * (1.0 / 65536.0) - 2.0) * 1.7320508075688772);
}

/* ---- blobs ---- */

typedef struct blob {
    double c[3];    /* centre z, y, x */
    double A[6];    /* quadric (p-c)^T A (p-c) <= 1: zz, yy, xx, zy, zx, yx */
    double ext[3];  /* bounding-box half extents z, y, x */
    double rb;      /* bounding radius: the largest semi-axis */
    double level;   /* brightness above the background, 0..1 */
    double hole2;   /* squared scale of the hole (0: none) */
    double hc[3];   /* hole centre offset from c */
} blob;

/* A = R diag(1/a^2) R^T from the rotation R (rows = axes z, y, x) and the semi-axes a. */
static void set_shape(blob *b, const double R[3][3], const double a[3])
{
    double M[3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double s = 0;
            for (int k = 0; k < 3; k++)
                s += R[i][k] * R[j][k] / (a[k] * a[k]);
            M[i][j] = s;
        }
    b->A[0] = M[0][0], b->A[1] = M[1][1], b->A[2] = M[2][2];
    b->A[3] = M[0][1], b->A[4] = M[0][2], b->A[5] = M[1][2];
    b->rb = 0;
    for (int i = 0; i < 3; i++) {
        double e = 0;
        for (int k = 0; k < 3; k++)
            e += R[i][k] * R[i][k] * a[k] * a[k];
        b->ext[i] = sqrt(e);
        b->rb = a[i] > b->rb ? a[i] : b->rb;
    }
}

/* A random rotation: in 2D about z; in 3D from a uniform random unit quaternion. */
static void random_rotation(xoshiro *r, int ndim, double R[3][3])
{
    if (ndim == 2) {
        double t = xo_range(r, 0, 3.141592653589793), c = cos(t), s = sin(t);
        double M[3][3] = {{1, 0, 0}, {0, c, -s}, {0, s, c}};
        memcpy(R, M, sizeof M);
        return;
    }
    double u1 = xo_unif(r), u2 = xo_range(r, 0, 6.283185307179586), u3 = xo_range(r, 0, 6.283185307179586);
    double w = sqrt(1 - u1) * sin(u2), x = sqrt(1 - u1) * cos(u2), y = sqrt(u1) * sin(u3), z = sqrt(u1) * cos(u3);
    double M[3][3] = {{1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)},
                      {2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)},
                      {2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)}};
    memcpy(R, M, sizeof M);
}

/* Half-width of the blob along unit direction u through its centre: 1/sqrt(u^T A u). */
static double reach(const blob *b, const double u[3])
{
    const double *A = b->A;
    double q = A[0] * u[0] * u[0] + A[1] * u[1] * u[1] + A[2] * u[2] * u[2] +
               2 * (A[3] * u[0] * u[1] + A[4] * u[0] * u[2] + A[5] * u[1] * u[2]);
    return 1 / sqrt(q);
}

static void random_blob(xoshiro *r, int ndim, double radius, blob *b)
{
    double R[3][3], a[3];
    double size = radius * exp(xo_range(r, -0.45, 0.35)); /* varied sizes, a few small ones */
    double elong = xo_range(r, 1.0, 1.8);                  /* elliptical: long/short axis up to 1.8 */
    a[0] = ndim == 3 ? size * xo_range(r, 0.75, 1.25) : 1; /* 2D: a unit z axis that no row ever uses */
    a[1] = size * sqrt(elong);
    a[2] = size / sqrt(elong);
    random_rotation(r, ndim, R);
    set_shape(b, R, a);
    if (ndim == 2) {
        b->ext[0] = 0;
        b->rb = a[1] > a[2] ? a[1] : a[2];
    }
    b->level = xo_range(r, 0.45, 1.0);
    b->hole2 = 0;
    memset(b->hc, 0, sizeof b->hc);
    if (xo_unif(r) < 0.12) { /* some nuclei have a hole (ring-like): the label keeps it too */
        double h = xo_range(r, 0.3, 0.45);
        b->hole2 = h * h;
        for (int i = 3 - ndim; i < 3; i++)
            b->hc[i] = xo_range(r, -0.15, 0.15) * size;
    }
}

/* ---- placement ---- */

typedef struct grid {
    int64_t n[3];     /* cells per axis */
    double cell;
    int64_t *head;    /* first blob in the cell, -1 none */
    int64_t *next;    /* next blob in the same cell */
} grid;

static int64_t grid_cell(const grid *g, const double c[3])
{
    int64_t k[3];
    for (int i = 0; i < 3; i++) {
        k[i] = (int64_t)floor(c[i] / g->cell);
        k[i] = k[i] < 0 ? 0 : k[i] >= g->n[i] ? g->n[i] - 1 : k[i];
    }
    return (k[0] * g->n[1] + k[1]) * g->n[2] + k[2];
}

/* Does blob b stay clear of every placed blob except `partner`? (bounding spheres, slightly shrunk so that
 * a few random neighbours come close) */
static int clear_of_others(const grid *g, const blob *blobs, const blob *b, int64_t partner)
{
    int64_t k[3];
    for (int i = 0; i < 3; i++)
        k[i] = (int64_t)floor(b->c[i] / g->cell);
    for (int64_t dz = -1; dz <= 1; dz++)
        for (int64_t dy = -1; dy <= 1; dy++)
            for (int64_t dx = -1; dx <= 1; dx++) {
                int64_t z = k[0] + dz, y = k[1] + dy, x = k[2] + dx;
                if (z < 0 || y < 0 || x < 0 || z >= g->n[0] || y >= g->n[1] || x >= g->n[2])
                    continue;
                for (int64_t j = g->head[(z * g->n[1] + y) * g->n[2] + x]; j >= 0; j = g->next[j]) {
                    if (j == partner)
                        continue;
                    double d2 = 0;
                    for (int i = 0; i < 3; i++)
                        d2 += (b->c[i] - blobs[j].c[i]) * (b->c[i] - blobs[j].c[i]);
                    double m = 0.9 * (b->rb + blobs[j].rb);
                    if (d2 < m * m)
                        return 0;
                }
            }
    return 1;
}

static void grid_add(grid *g, const blob *b, int64_t j)
{
    int64_t cell = grid_cell(g, b->c);
    g->next[j] = g->head[cell];
    g->head[cell] = j;
}

static int inside(const int64_t *shape, const double c[3])
{
    for (int i = 0; i < 3; i++)
        if (c[i] < 0 || c[i] > (double)shape[i] - 1)
            return 0;
    return 1;
}

typedef struct blob_set {
    blob *b;
    int64_t n, cap;
} blob_set;

/* Place blobs until they cover `density` of the volume (by their nominal sizes) or attempts run out. A
 * placed blob gets a touching partner with probability 0.15, set along a random direction at the sum of
 * the two reaches, so that the pair shares a boundary as touching nuclei do. */
static tp_status place_blobs(tp_context *ctx, int ndim, const int64_t shape[3], double density, double radius,
                             uint64_t seed, blob_set *out)
{
    double vol = (double)shape[0] * (double)shape[1] * (double)shape[2];
    double unit = ndim == 3 ? 4.18879 * radius * radius * radius : 3.14159 * radius * radius;
    double target = density * vol;
    int64_t want = (int64_t)(target / unit) + 2, attempts = 4 * want + 64;
    grid g;
    memset(&g, 0, sizeof g);
    g.cell = 2 * 1.8 * radius * 1.5; /* >= twice the largest bounding radius */
    int64_t ncells = 1;
    for (int i = 0; i < 3; i++) {
        g.n[i] = (int64_t)((double)shape[i] / g.cell) + 1;
        ncells *= g.n[i];
    }
    out->cap = want + want / 4 + 8;
    out->n = 0;
    out->b = tp_host_alloc(ctx, out->cap, sizeof(blob));
    g.head = tp_host_alloc(ctx, ncells, sizeof(int64_t));
    g.next = tp_host_alloc(ctx, out->cap, sizeof(int64_t));
    if (!out->b || !g.head || !g.next) {
        free(out->b), free(g.head), free(g.next);
        out->b = NULL;
        return TP_ERR_NOMEM;
    }
    for (int64_t i = 0; i < ncells; i++)
        g.head[i] = -1;
    xoshiro r;
    xo_seed(&r, seed);
    double covered = 0;
    for (int64_t t = 0; t < attempts && covered < target && out->n + 2 <= out->cap; t++) {
        blob *b = &out->b[out->n];
        random_blob(&r, ndim, radius, b);
        for (int i = 0; i < 3; i++)
            b->c[i] = i < 3 - ndim ? 0 : xo_range(&r, 0, (double)shape[i] - 1);
        if (!clear_of_others(&g, out->b, b, -1))
            continue;
        grid_add(&g, b, out->n);
        covered += unit * pow(b->rb / radius, ndim) * 0.8;
        out->n++;
        if (xo_unif(&r) >= 0.15)
            continue;
        blob *p = &out->b[out->n];
        random_blob(&r, ndim, radius, p);
        double u[3] = {0, 0, 0}, len = 0;
        for (int i = 3 - ndim; i < 3; i++) {
            u[i] = xo_range(&r, -1, 1);
            len += u[i] * u[i];
        }
        len = sqrt(len > 1e-12 ? len : 1);
        double d = 0.97 * (reach(b, (double[3]){u[0] / len, u[1] / len, u[2] / len}) +
                           reach(p, (double[3]){u[0] / len, u[1] / len, u[2] / len}));
        for (int i = 0; i < 3; i++)
            p->c[i] = b->c[i] + d * u[i] / len;
        if (inside(shape, p->c) && clear_of_others(&g, out->b, p, out->n - 1)) {
            grid_add(&g, p, out->n);
            covered += unit * pow(p->rb / radius, ndim) * 0.8;
            out->n++;
        }
    }
    free(g.head);
    free(g.next);
    return TP_OK;
}

/* ---- rasterisation ---- */

#define BAND 16 /* rows (and planes) per bucket */

typedef struct buckets {
    int64_t nbz, nby;
    int64_t *start; /* blobs of bucket k: idx[start[k] .. start[k+1]) in blob order */
    int64_t *idx;
} buckets;

static void bucket_range(const blob *b, const int64_t shape[3], int axis, int64_t *lo, int64_t *hi)
{
    double a = floor(b->c[axis] - b->ext[axis]), e = ceil(b->c[axis] + b->ext[axis]);
    *lo = a < 0 ? 0 : (int64_t)a / BAND;
    *hi = e > (double)shape[axis] - 1 ? (shape[axis] - 1) / BAND : (int64_t)e / BAND;
}

static tp_status make_buckets(tp_context *ctx, const blob_set *bs, const int64_t shape[3], buckets *bk)
{
    bk->nbz = (shape[0] + BAND - 1) / BAND;
    bk->nby = (shape[1] + BAND - 1) / BAND;
    int64_t nb = bk->nbz * bk->nby, total = 0;
    bk->start = tp_host_calloc(ctx, nb + 1, sizeof(int64_t));
    if (!bk->start)
        return TP_ERR_NOMEM;
    for (int pass = 0; pass < 2; pass++) { /* count, then fill: a counting sort keeps blob order */
        for (int64_t j = 0; j < bs->n; j++) {
            int64_t z0, z1, y0, y1;
            bucket_range(&bs->b[j], shape, 0, &z0, &z1);
            bucket_range(&bs->b[j], shape, 1, &y0, &y1);
            for (int64_t z = z0; z <= z1; z++)
                for (int64_t y = y0; y <= y1; y++) {
                    int64_t k = z * bk->nby + y;
                    if (pass == 0)
                        bk->start[k + 1]++;
                    else
                        bk->idx[bk->start[k]++] = j;
                }
        }
        if (pass == 0) {
            for (int64_t k = 0; k < nb; k++)
                bk->start[k + 1] += bk->start[k];
            total = bk->start[nb];
            bk->idx = tp_host_alloc(ctx, total, sizeof(int64_t));
            if (!bk->idx) {
                free(bk->start);
                return TP_ERR_NOMEM;
            }
        }
    }
    /* the fill pass advanced each start to the next bucket's start: shift back */
    memmove(bk->start + 1, bk->start, sizeof(int64_t) * (size_t)nb);
    bk->start[0] = 0;
    (void)total;
    return TP_OK;
}

typedef struct synth_job {
    int64_t shape[3];
    const blob *blobs;
    const buckets *bk;
    double noise;
    uint64_t noise_key;
    tp_dtype dtype;
    void *img;
    int32_t *labels; /* may be NULL: then a per-row scratch is used */
} synth_job;

/* The background ramps linearly along each row: bg(x) = row_base + slope * x. */
typedef struct row_bg {
    double base, slope;
} row_bg;

static row_bg background(const synth_job *j, int64_t z, int64_t y)
{
    double fy = ((double)y + 0.5) / (double)j->shape[1], fz = ((double)z + 0.5) / (double)j->shape[0];
    row_bg r = {0.06 + 0.05 * fy + 0.03 * fz + 0.10 * 0.5 / (double)j->shape[2], 0.10 / (double)j->shape[2]};
    return r;
}

/* Fill the pixels of blob b on row (z, y): solve the quadric for the x-span, then test each pixel. */
static void raster_blob_row(const synth_job *j, const blob *b, int32_t label, int64_t z, int64_t y, row_bg bg,
                            double *val, int32_t *lab)
{
    const double *A = b->A;
    double dz = (double)z - b->c[0], dy = (double)y - b->c[1];
    double B = A[5] * dy + A[4] * dz, C0 = A[1] * dy * dy + A[0] * dz * dz + 2 * A[3] * dz * dy;
    double disc = B * B - A[2] * (C0 - 1);
    if (disc < 0)
        return;
    double sq = sqrt(disc);
    double lo = ceil(b->c[2] + (-B - sq) / A[2]), hi = floor(b->c[2] + (-B + sq) / A[2]);
    int64_t x0 = lo < 0 ? 0 : (int64_t)lo, x1 = hi > (double)j->shape[2] - 1 ? j->shape[2] - 1 : (int64_t)hi;
    double hz = dz - b->hc[0], hy = dy - b->hc[1];
    double hC0 = A[1] * hy * hy + A[0] * hz * hz + 2 * A[3] * hz * hy, hB = A[5] * hy + A[4] * hz;
    for (int64_t x = x0; x <= x1; x++) {
        double dx = (double)x - b->c[2];
        double q = A[2] * dx * dx + 2 * B * dx + C0;
        if (q > 1)
            continue;
        double hx = dx - b->hc[2], back = bg.base + bg.slope * (double)x, top = 1 - back - 0.12;
        if (b->hole2 > 0 && A[2] * hx * hx + 2 * hB * hx + hC0 < b->hole2) {
            lab[x] = 0; /* the hole: dim, and not part of the nucleus */
            val[x] = back + 0.12 * b->level * top;
            continue;
        }
        lab[x] = label;
        val[x] = back + b->level * top * (1 - 0.35 * q); /* brighter towards the centre */
    }
}

/* Add noise, clip to [0, 1] and quantise: uint8 to 0..255, uint16 to 12 bits (0..4095) as most microscope
 * cameras give, float32 as it is. */
static void store_row(const synth_job *j, int64_t row, double *val)
{
    int64_t w = j->shape[2], base = row * w;
    for (int64_t x = 0; x < w; x++) {
        double v = val[x] + j->noise * pixel_noise(j->noise_key, (uint64_t)(base + x));
        val[x] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
    if (j->dtype == TP_UINT8) {
        uint8_t *o = (uint8_t *)j->img + base;
        for (int64_t x = 0; x < w; x++)
            o[x] = (uint8_t)(val[x] * 255 + 0.5);
    } else if (j->dtype == TP_UINT16) {
        uint16_t *o = (uint16_t *)j->img + base;
        for (int64_t x = 0; x < w; x++)
            o[x] = (uint16_t)(val[x] * 4095 + 0.5);
    } else {
        float *o = (float *)j->img + base;
        for (int64_t x = 0; x < w; x++)
            o[x] = (float)val[x];
    }
}

static tp_status rasterise(tp_context *ctx, const synth_job *j)
{
    int64_t rows = j->shape[0] * j->shape[1], w = j->shape[2];
    int failed = 0;
#pragma omp parallel num_threads(ctx->threads) reduction(| : failed)
    {
        double *val = malloc(sizeof *val * (size_t)w);
        int32_t *scratch = j->labels ? NULL : malloc(sizeof *scratch * (size_t)w);
        if (!val || (!j->labels && !scratch))
            failed = 1;
#pragma omp for schedule(dynamic, 16)
        for (int64_t row = 0; row < rows; row++) {
            if (failed)
                continue;
            int64_t z = row / j->shape[1], y = row % j->shape[1];
            int32_t *lab = j->labels ? j->labels + row * w : scratch;
            row_bg bg = background(j, z, y);
            for (int64_t x = 0; x < w; x++)
                val[x] = bg.base + bg.slope * (double)x;
            memset(lab, 0, sizeof *lab * (size_t)w);
            int64_t k = (z / BAND) * j->bk->nby + y / BAND;
            for (int64_t t = j->bk->start[k]; t < j->bk->start[k + 1]; t++) {
                int64_t bi = j->bk->idx[t];
                raster_blob_row(j, &j->blobs[bi], (int32_t)(bi + 1), z, y, bg, val, lab);
            }
            store_row(j, row, val);
        }
        free(val);
        free(scratch);
    }
    return failed ? tp_error(ctx, TP_ERR_NOMEM, "synth: out of host memory for row buffers") : TP_OK;
}

/* Renumber the labels 1..n in blob order, dropping blobs that no pixel kept (clipped or overwritten). */
static tp_status relabel(tp_context *ctx, int32_t *labels, int64_t n, int64_t nblobs)
{
    int32_t *map = tp_host_calloc(ctx, nblobs + 1, sizeof(int32_t));
    if (!map)
        return TP_ERR_NOMEM;
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
    for (int64_t i = 0; i < n; i++)
        if (labels[i]) {
#pragma omp atomic write
            map[labels[i]] = 1;
        }
    int32_t next = 0;
    for (int64_t b = 1; b <= nblobs; b++)
        map[b] = map[b] ? ++next : 0;
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
    for (int64_t i = 0; i < n; i++)
        labels[i] = map[labels[i]];
    free(map);
    return TP_OK;
}

static tp_status check_params(tp_context *ctx, const tp_synth_params *p)
{
    if (!p)
        return tp_error(ctx, TP_ERR_ARG, "synth_nuclei: params must not be NULL");
    if (p->ndim != 2 && p->ndim != 3)
        return tp_error(ctx, TP_ERR_ARG, "synth_nuclei: ndim: expected 2 or 3, got %d", p->ndim);
    for (int i = 0; i < p->ndim; i++)
        if (p->shape[i] < 1)
            return tp_error(ctx, TP_ERR_SHAPE, "synth_nuclei: shape[%d]: expected >= 1, got %lld", i,
                            (long long)p->shape[i]);
    if (p->dtype != TP_UINT8 && p->dtype != TP_UINT16 && p->dtype != TP_FLOAT32)
        return tp_error(ctx, TP_ERR_DTYPE, "synth_nuclei: dtype: expected uint8, uint16 or float32, got %s",
                        tp_dtype_name(p->dtype));
    if (!(p->density >= 0 && p->density <= 0.9) || !(p->radius >= 0) || !(p->noise >= 0 && p->noise <= 1))
        return tp_error(ctx, TP_ERR_ARG, "synth_nuclei: expected density in [0, 0.9], radius >= 0, noise in [0, 1], got "
                        "%g, %g, %g", p->density, p->radius, p->noise);
    return TP_OK;
}

tp_status tp_synth_nuclei(tp_context *ctx, const tp_synth_params *p, tp_image *img, tp_image *labels)
{
    if (!img)
        return tp_error(ctx, TP_ERR_ARG, "synth_nuclei: img must not be NULL");
    *img = tp_image_empty();
    if (labels)
        *labels = tp_image_empty();
    tp_status st = check_params(ctx, p);
    if (st)
        return st;
    int64_t shape[3] = {1, 1, 1};
    for (int i = 0; i < p->ndim; i++)
        shape[3 - p->ndim + i] = p->shape[i];
    double mind = (double)(shape[1] < shape[2] ? shape[1] : shape[2]);
    if (p->ndim == 3 && (double)shape[0] < mind)
        mind = (double)shape[0];
    double radius = p->radius > 0 ? p->radius : fmin(10.0, fmax(2.0, mind / 12.0));
    double density = p->density > 0 ? p->density : 0.3;
    double noise = p->noise > 0 ? p->noise : 0.05;
    tp_image im = tp_image_empty(), lb = tp_image_empty();
    blob_set bs = {NULL, 0, 0};
    buckets bk = {0, 0, NULL, NULL};
    if ((st = tp_image_alloc(ctx, &im, p->dtype, p->ndim, p->shape, -1, TP_HOST)))
        goto fail;
    if (labels && (st = tp_image_alloc(ctx, &lb, TP_INT32, p->ndim, p->shape, -1, TP_HOST)))
        goto fail;
    uint64_t s = p->seed;
    uint64_t blob_seed = splitmix64(&s), noise_key = splitmix64(&s);
    if ((st = place_blobs(ctx, p->ndim, shape, density, radius, blob_seed, &bs)))
        goto fail;
    if (bs.n >= INT32_MAX) {
        st = tp_error(ctx, TP_ERR_OVERFLOW, "synth_nuclei: %lld blobs exceed int32 labels", (long long)bs.n);
        goto fail;
    }
    if ((st = make_buckets(ctx, &bs, shape, &bk)))
        goto fail;
    synth_job job = {{shape[0], shape[1], shape[2]}, bs.b, &bk, noise, noise_key, p->dtype, im.data,
                     labels ? lb.data : NULL};
    if ((st = rasterise(ctx, &job)))
        goto fail;
    if (labels && (st = relabel(ctx, lb.data, tp_image_count(&lb), bs.n)))
        goto fail;
    free(bs.b);
    free(bk.start);
    free(bk.idx);
    *img = im;
    if (labels)
        *labels = lb;
    return TP_OK;
fail:
    free(bs.b);
    free(bk.start);
    free(bk.idx);
    tp_image_free(&im);
    tp_image_free(&lb);
    return st;
}

/* ---- per-op inputs for the harness and the benchmarks ---- */

static tp_status gray_from_float(tp_context *ctx, const tp_image *f, tp_dtype dtype, tp_image *out)
{
    tp_status st = tp_image_alloc(ctx, out, dtype, f->ndim, f->shape, f->channel_axis, TP_HOST);
    if (st)
        return st;
    double scale;
    switch (dtype) {
    case TP_UINT8: scale = 255; break;
    case TP_INT8: scale = 127; break;
    case TP_UINT16:
    case TP_INT16: scale = 4095; break;
    case TP_UINT32:
    case TP_INT32:
    case TP_INT64: scale = 65535; break;
    default: scale = 0; break; /* floats keep [0, 1]; bool thresholds */
    }
    const float *src = f->data;
    int64_t n = tp_image_count(f);
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        double v = src[i];
        if (dtype == TP_BOOL)
            tp_set_f64(out->data, dtype, i, v > 0.5);
        else if (scale > 0)
            tp_set_f64(out->data, dtype, i, floor(v * scale + 0.5));
        else
            tp_set_f64(out->data, dtype, i, v);
    }
    return TP_OK;
}

/* Every kind guarantees a nonzero pixel: tiny images may hold no nucleus, so the centre is set. */
static void ensure_nonzero(tp_image *im)
{
    int64_t n = tp_image_count(im);
    for (int64_t i = 0; i < n; i++)
        if (tp_get_f64(im->data, im->dtype, i) != 0)
            return;
    tp_set_f64(im->data, im->dtype, n / 2, 1);
}

/* Labels are the ground truth itself (int32, one id per nucleus, touching nuclei distinct); the mask is
 * its foreground (bool). Both ignore the dtype asked for, as datasets.h says: a small integer type would
 * wrap the labels around and merge nuclei. */
static tp_status synth_mask_or_labels(tp_context *ctx, int labels_kind, const tp_synth_params *sp, tp_image *out)
{
    tp_image im = tp_image_empty(), lb = tp_image_empty();
    tp_status st = tp_synth_nuclei(ctx, sp, &im, &lb);
    tp_image_free(&im);
    if (st)
        return st;
    if (labels_kind) {
        *out = lb;
        ensure_nonzero(out);
        return TP_OK;
    }
    if ((st = tp_image_alloc(ctx, out, TP_BOOL, lb.ndim, lb.shape, -1, TP_HOST))) {
        tp_image_free(&lb);
        return st;
    }
    const int32_t *l = lb.data;
    uint8_t *m = out->data;
    int64_t n = tp_image_count(&lb);
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
    for (int64_t i = 0; i < n; i++)
        m[i] = l[i] != 0;
    tp_image_free(&lb);
    ensure_nonzero(out);
    return TP_OK;
}

/* Three channels like a fluorescence composite: two nuclei images from different seeds and a dim
 * counterstain; channel-last, uint8 unless a 16-bit or float dtype is asked for. */
static tp_status synth_rgb(tp_context *ctx, const tp_synth_params *sp, tp_dtype dtype, tp_image *out)
{
    tp_dtype t = dtype == TP_UINT16 || dtype == TP_FLOAT32 || dtype == TP_FLOAT64 ? dtype : TP_UINT8;
    tp_image ch[2] = {tp_image_empty(), tp_image_empty()};
    tp_synth_params q = *sp;
    tp_status st = tp_synth_nuclei(ctx, &q, &ch[0], NULL);
    q.seed = sp->seed ^ 0xA5A5A5A5DEADBEEFull;
    if (!st)
        st = tp_synth_nuclei(ctx, &q, &ch[1], NULL);
    int64_t shape[4];
    memcpy(shape, sp->shape, sizeof(int64_t) * (size_t)sp->ndim);
    shape[sp->ndim] = 3;
    if (!st)
        st = tp_image_alloc(ctx, out, t, sp->ndim + 1, shape, sp->ndim, TP_HOST);
    if (!st) {
        double scale = t == TP_UINT8 ? 255 : t == TP_UINT16 ? 4095 : 1;
        const float *a = ch[0].data, *b = ch[1].data;
        int64_t n = tp_image_count(&ch[0]);
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
        for (int64_t i = 0; i < n; i++) {
            double v[3] = {a[i], b[i], 0.15 + 0.5 * (a[i] + b[i]) * 0.3};
            for (int c = 0; c < 3; c++)
                tp_set_f64(out->data, t, 3 * i + c, scale > 1 ? floor(v[c] * scale + 0.5) : v[c]);
        }
    }
    tp_image_free(&ch[0]);
    tp_image_free(&ch[1]);
    return st;
}

tp_status tp_synth_input(tp_context *ctx, const char *kind, int ndim, const int64_t *shape, tp_dtype dtype,
                         uint64_t seed, tp_image *out)
{
    if (!out)
        return tp_error(ctx, TP_ERR_ARG, "synth_input: out must not be NULL");
    *out = tp_image_empty();
    if (!kind || !shape)
        return tp_error(ctx, TP_ERR_ARG, "synth_input: kind and shape must not be NULL");
    if ((unsigned)dtype >= TP_DTYPE_COUNT)
        return tp_error(ctx, TP_ERR_DTYPE, "synth_input: dtype: expected a twinpix dtype, got %d", (int)dtype);
    tp_synth_params sp;
    memset(&sp, 0, sizeof sp);
    sp.ndim = ndim;
    for (int i = 0; i < ndim && i < 3; i++)
        sp.shape[i] = shape[i];
    sp.dtype = TP_FLOAT32;
    sp.seed = seed;
    if (strcmp(kind, "gray") == 0) {
        if (dtype == TP_UINT8 || dtype == TP_UINT16 || dtype == TP_FLOAT32) {
            sp.dtype = dtype;
            return tp_synth_nuclei(ctx, &sp, out, NULL);
        }
        tp_image f = tp_image_empty();
        tp_status st = tp_synth_nuclei(ctx, &sp, &f, NULL);
        if (!st)
            st = gray_from_float(ctx, &f, dtype, out);
        tp_image_free(&f);
        if (!st && dtype == TP_BOOL)
            ensure_nonzero(out);
        return st;
    }
    if (strcmp(kind, "mask") == 0 || strcmp(kind, "labels") == 0)
        return synth_mask_or_labels(ctx, kind[0] == 'l', &sp, out);
    if (strcmp(kind, "rgb") == 0)
        return synth_rgb(ctx, &sp, dtype, out);
    return tp_error(ctx, TP_ERR_ARG, "synth_input: kind: expected gray, mask, labels or rgb, got '%s'", kind);
}

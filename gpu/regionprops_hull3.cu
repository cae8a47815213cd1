/* regionprops_table on the device: the 3D convex image (area_convex, solidity) and feret_diameter_max, with
 * cpu_ref/regionprops_hull.c's exact results.
 *
 * Both results depend on the hull's geometry only (the voxels inside every facet plane; the largest distance
 * between extreme points), not on which candidate points a hull algorithm is given beyond its vertices, nor
 * on their order. So the device thins the CPU's candidates and shares a region's work among many threads:
 *  - filter: candidates are grouped by their first (doubled) coordinate. Inside a group, a point strictly
 *    between the leftmost and rightmost point of its row is inside the hull, and so is a point off the
 *    group's own 2D hull. Each (group, row) keeps its extremes (atomic min/max into a grid), then each group
 *    keeps the two monotone chains of those extremes: a superset of the 3D hull's vertices, usually a few
 *    per cent of the candidates.
 *  - hull: one warp builds the exact quickhull of the survivors (regionprops_hull3_qh.cuh: a serial algorithm
 *    whose scans are split over the lanes); the planes come from its faces in parallel.
 *  - count: every (z, y) line of the box is clipped by the planes in parallel; per-line counts are summed
 *    with integer atomics (exact, order-free).
 *  - feret: the midpoints around the convex image go through the same filter, one warp builds their hull,
 *    and the farthest pair of its vertices is searched in parallel (squared distances fit int64: max atomics).
 * Coplanar voxel centres (Qhull refuses them: the convex image is empty) are found first, from the runs'
 * end voxels on one warp a region (k_flat). A region runs on one block for the filter and the count and
 * on one warp for the hull (k_filter, k_prep, k_qh, k_work), regions in batches whose scratch stays under a
 * limit; a region whose box has more than TWINPIX_HULL3_GIANT_LINES (z, y) lines (default 16384) runs on
 * the whole device, one kernel per step (its flatness by the centres through the filter and hull). More than TWINPIX_HULL3_REDUCE_MIN survivors (default 4096) are first reduced chunk by chunk: the
 * hulls of chunks of consecutive groups in parallel, only their vertices kept, chunks doubling per level. Scratch is sized from the box for the filter and from the surviving points for the hull; a hull
 * whose faces outgrow its scratch is redone with more. */
#include "gpu/regionprops_hull3_qh.cuh"

#include <climits>
#include <cstdlib>

namespace {

enum Mode { M_CENTRES = 0, M_FACES, M_MIDPOINTS };

constexpr int kBlock = 256;
constexpr long long kGiantLines = 16384; /* below, regions run concurrently, one block each: the hull is latency-bound */
constexpr long long kBatchLimit = (long long)1 << 30; /* filter scratch of one batch of block regions */
constexpr int kFirstFactor = 6, kLastFactor = 6 * 1024;
constexpr long long kChunk = 8;        /* groups per chunk at the reduction's first level */
constexpr long long kReduceMin = 4096; /* survivors above which the hull is reduced chunk by chunk first */

__host__ __device__ inline long long al16(long long b) { return (b + 15) & ~15LL; }

/* One region's box and filter scratch. Groups: first doubled coordinate -1 .. 2dz-1 (index + 1); rows: the
 * second, -1 .. 2hy-1. Layouts are [row][group] so that a warp's groups read adjacent cells. */
struct Reg {
    int64_t r;
    long long dz, hy, wx, lo0, lo1, lo2;
    long long ng, nrow;
    int2 *cells;             /* [nrow][ng]: (min x, max x) of the candidates in (group, row) */
    int2 *chain;             /* [2 nrow][ng]: the left chain's (row, x), then the right chain's */
    int2 *nchain;            /* [ng]: lengths of the two chains */
    long long *goff;         /* [ng + 1]: the group's first point */
    long long *goff2;        /* [ng + 1]: the same after an odd number of reduction levels */
    int2 *lohi;              /* [dz hy]: the convex image's x range per line (lo > hi: empty) */
    unsigned char *marks;    /* [nrow][ng]: bit 0 / 1: the cell's min / max x is a vertex of its row's hull */
    int *rstack;             /* [2 ng][nrow]: the row chains' groups (left, then right) */
    unsigned long long *acc; /* [5]: points, count or farthest squared distance, planes, vertices, faces */
};

/* The filter scratch of a dz x hy box: laid out from `base`, or only sized when base is null. */
__host__ __device__ inline long long reg_layout(long long dz, long long hy, char *base, Reg *g)
{
    const long long ng = 2 * dz + 1, nrow = 2 * hy + 1;
    long long m = 0;
    auto take = [&](long long bytes) {
        char *p = base ? base + m : nullptr;
        m += al16(bytes);
        return p;
    };
    char *cells = take(ng * nrow * 8), *chain = take(2 * nrow * ng * 8), *nchain = take(ng * 8),
         *goff = take((ng + 1) * 8), *goff2 = take((ng + 1) * 8), *lohi = take(dz * hy * 8), *acc = take(5 * 8),
         *marks = take(nrow * ng), *rstack = take(2 * ng * nrow * 4);
    if (g) {
        g->ng = ng;
        g->nrow = nrow;
        g->cells = (int2 *)cells;
        g->chain = (int2 *)chain;
        g->nchain = (int2 *)nchain;
        g->goff = (long long *)goff;
        g->goff2 = (long long *)goff2;
        g->lohi = (int2 *)lohi;
        g->acc = (unsigned long long *)acc;
        g->marks = (unsigned char *)marks;
        g->rstack = (int *)rstack;
    }
    return m;
}

/* Region r's box: its low corner and extents (z, y, x). */
__device__ void box_of(const rp_dev &R, int64_t r, long long lo[3], long long ext[3])
{
    for (int a = 0; a < 3; a++) {
        lo[a] = R.reg_lo[a * R.nreg + r];
        ext[a] = R.reg_hi[a * R.nreg + r] - lo[a] + 1;
    }
}

__device__ Reg reg_of(const rp_dev &R, int64_t r, char *base)
{
    Reg g;
    long long lo[3], ext[3];
    box_of(R, r, lo, ext);
    g.r = r;
    g.lo0 = lo[0];
    g.lo1 = lo[1];
    g.lo2 = lo[2];
    g.dz = ext[0];
    g.hy = ext[1];
    g.wx = ext[2];
    reg_layout(g.dz, g.hy, base, &g);
    return g;
}

/* The hull's scratch for np points: quickhull's arrays (faces: factor per point), or only the points. */
struct P2 {
    long long (*p)[3];
    long long (*p_alt)[3]; /* the points after an odd number of reduction levels */
    unsigned char *keep;   /* per point: a vertex of its chunk's hull */
    int factor;
    int *next, *ms, *me;
    unsigned *mstamp;
    Face *F;
    int *vis, *hor, *stack;
    Plane *planes;
    long long cap_f;
};

__host__ __device__ inline long long p2_layout(long long np, long long ng, int factor, int mode, char *base, P2 *q)
{
    /* faces: factor per point and 64 more per chunk of the reduction (at most one chunk per group) */
    const long long nf = mode == M_CENTRES ? 0 : (long long)factor * np + 64 * (ng + 1);
    long long m = 0;
    auto take = [&](long long bytes) {
        char *p = base ? base + m : nullptr;
        m += al16(bytes);
        return p;
    };
    char *p = take(np * 24);
    char *p_alt = nullptr, *keep = nullptr, *next = nullptr, *ms = nullptr, *me = nullptr, *mstamp = nullptr, *F = nullptr, *vis = nullptr,
         *hor = nullptr, *stack = nullptr, *planes = nullptr;
    if (nf) {
        p_alt = take(np * 24);
        keep = take(np);
        next = take(np * 4);
        ms = take(np * 4);
        me = take(np * 4);
        mstamp = take(np * 4);
        F = take(nf * (long long)sizeof(Face));
        vis = take(nf * 4);
        hor = take(nf * 4);
        stack = take(nf * 4);
        planes = take(mode == M_FACES ? nf * (long long)sizeof(Plane) : 0);
    }
    if (q) {
        q->p = (long long(*)[3])p;
        q->p_alt = (long long(*)[3])p_alt;
        q->keep = (unsigned char *)keep;
        q->factor = factor;
        q->next = (int *)next;
        q->ms = (int *)ms;
        q->me = (int *)me;
        q->mstamp = (unsigned *)mstamp;
        q->F = (Face *)F;
        q->vis = (int *)vis;
        q->hor = (int *)hor;
        q->stack = (int *)stack;
        q->planes = (Plane *)planes;
        q->cap_f = nf;
    }
    return m;
}

/* ---- the steps; each runs on threads t of nt (a block, or the whole grid for a giant region) ---- */

__device__ void s_init(const Reg &g, long long t, long long nt)
{
    for (long long i = t; i < g.ng * g.nrow; i += nt)
        g.cells[i] = make_int2(INT_MAX, INT_MIN);
    if (t < 5)
        g.acc[t] = 0;
}

__device__ __forceinline__ void upd(const Reg &g, long long c, long long row, long long a, long long b)
{
    int2 *cell = g.cells + (row + 1) * g.ng + (c + 1);
    atomicMin(&cell->x, (int)a);
    atomicMax(&cell->y, (int)b);
}

/* The CPU's candidates (voxel_candidates, convex_image_midpoints), folded into the grid. Points of a line
 * that are not its first or last run's fall between those two in their (group, row) and change nothing. */
__device__ void s_fill(const rp_dev &R, const Reg &g, int mode, long long t, long long nt)
{
    if (mode != M_MIDPOINTS) {
        const int64_t f = R.reg_first[g.r], nr = R.reg_nruns[g.r];
        for (long long i = t; i < nr; i += nt) {
            const int64_t line = R.run_line[f + i];
            const long long z = 2 * (line / R.H - g.lo0), y = 2 * (line % R.H - g.lo1);
            const long long x0 = 2 * (R.run_x0[f + i] - g.lo2), x1 = x0 + 2 * (R.run_len[f + i] - 1);
            if (mode == M_CENTRES) {
                upd(g, z, y, x0, x1);
                continue;
            }
            upd(g, z - 1, y, x0, x1);
            upd(g, z + 1, y, x0, x1);
            upd(g, z, y - 1, x0, x1);
            upd(g, z, y + 1, x0, x1);
            upd(g, z, y, x0 - 1, x1 + 1);
        }
        return;
    }
    const long long L = g.dz * g.hy, ZX = g.dz * g.wx, YX = g.hy * g.wx;
    for (long long i = t; i < L + ZX + YX; i += nt) {
        if (i < L) { /* each line's ends */
            const int2 v = g.lohi[i];
            if (v.x <= v.y)
                upd(g, 2 * (i / g.hy), 2 * (i % g.hy), 2LL * v.x - 1, 2LL * v.y + 1);
        } else if (i < L + ZX) { /* per plane z and column x: the first and last y */
            const long long z = (i - L) / g.wx, x = (i - L) % g.wx;
            long long y0 = -1, y1 = -1;
            for (long long y = 0; y < g.hy; y++) {
                const int2 v = g.lohi[z * g.hy + y];
                if (v.x <= x && x <= v.y) {
                    y0 = y0 < 0 ? y : y0;
                    y1 = y;
                }
            }
            if (y0 >= 0) {
                upd(g, 2 * z, 2 * y0 - 1, 2 * x, 2 * x);
                upd(g, 2 * z, 2 * y1 + 1, 2 * x, 2 * x);
            }
        } else { /* per (y, x): the first and last z */
            const long long y = (i - L - ZX) / g.wx, x = (i - L - ZX) % g.wx;
            long long z0 = -1, z1 = -1;
            for (long long z = 0; z < g.dz; z++) {
                const int2 v = g.lohi[z * g.hy + y];
                if (v.x <= x && x <= v.y) {
                    z0 = z0 < 0 ? z : z0;
                    z1 = z;
                }
            }
            if (z0 >= 0) {
                upd(g, 2 * z0 - 1, 2 * y, 2 * x, 2 * x);
                upd(g, 2 * z1 + 1, 2 * y, 2 * x, 2 * x);
            }
        }
    }
}

__device__ __forceinline__ long long cross2(int2 o, int2 a, int2 b)
{
    return (long long)(a.x - o.x) * (b.y - o.y) - (long long)(a.y - o.y) * (b.x - o.x);
}

/* Per row (second coordinate), groups in order: the same two chains in (group, x), marking the cells whose
 * min (bit 0) or max (bit 1) x is one of their vertices. A vertex of the 3D hull is a vertex of the hull of
 * every plane's points through it, so s_chain keeps only the group chains' vertices marked here as well:
 * fewer points for the quickhull (a ball's slices: about half). */
__device__ void s_rowchain(const Reg &g, long long t, long long nt)
{
    for (long long ri = t; ri < g.nrow; ri += nt) {
        const int2 *row = g.cells + ri * g.ng;
        int *L = g.rstack + ri, *Rt = g.rstack + g.ng * g.nrow + ri;
        const long long s = g.nrow;
        int nl = 0, nr = 0;
        for (long long c = 0; c < g.ng; c++) {
            const int2 v = row[c];
            g.marks[ri * g.ng + c] = 0;
            if (v.x > v.y)
                continue;
            const int2 pl = make_int2((int)c, v.x), pr = make_int2((int)c, v.y);
            while (nl >= 2 && cross2(make_int2(L[(nl - 2) * s], row[L[(nl - 2) * s]].x),
                                     make_int2(L[(nl - 1) * s], row[L[(nl - 1) * s]].x), pl) <= 0)
                nl--;
            L[nl++ * s] = (int)c;
            while (nr >= 2 && cross2(make_int2(Rt[(nr - 2) * s], row[Rt[(nr - 2) * s]].y),
                                     make_int2(Rt[(nr - 1) * s], row[Rt[(nr - 1) * s]].y), pr) >= 0)
                nr--;
            Rt[nr++ * s] = (int)c;
        }
        for (int k = 0; k < nl; k++)
            g.marks[ri * g.ng + L[k * s]] |= 1;
        for (int k = 0; k < nr; k++)
            g.marks[ri * g.ng + Rt[k * s]] |= 2;
    }
}

/* Per group, rows in order: the left extremes' lower chain and the right extremes' upper chain in
 * (row, x). Every vertex of the group's 2D hull is on one of them. Independent of s_rowchain (they run side
 * by side); s_keep then drops the vertices s_rowchain did not mark. */
__device__ void s_chain(const Reg &g, long long t, long long nt)
{
    for (long long c = t; c < g.ng; c += nt) {
        int2 *L = g.chain + c, *Rt = g.chain + g.nrow * g.ng + c;
        const long long s = g.ng;
        int nl = 0, nr = 0;
        for (long long ri = 0; ri < g.nrow; ri++) {
            const int2 v = g.cells[ri * s + c];
            if (v.x > v.y)
                continue;
            const int2 pl = make_int2((int)(ri - 1), v.x), pr = make_int2((int)(ri - 1), v.y);
            while (nl >= 2 && cross2(L[(nl - 2) * s], L[(nl - 1) * s], pl) <= 0)
                nl--;
            L[nl++ * s] = pl;
            while (nr >= 2 && cross2(Rt[(nr - 2) * s], Rt[(nr - 1) * s], pr) >= 0)
                nr--;
            Rt[nr++ * s] = pr;
        }
        g.nchain[c] = make_int2(nl, nr);
    }
}

/* Per group: its chains' vertices that are also vertices of their row's hull (after s_chain and s_rowchain). */
__device__ void s_keep(const Reg &g, long long t, long long nt)
{
    for (long long c = t; c < g.ng; c += nt) {
        int2 *L = g.chain + c, *Rt = g.chain + g.nrow * g.ng + c;
        const long long s = g.ng;
        const int2 n = g.nchain[c];
        int kl = 0, kr = 0;
        for (int k = 0; k < n.x; k++)
            if (g.marks[(L[k * s].x + 1) * s + c] & 1)
                L[kl++ * s] = L[k * s];
        for (int k = 0; k < n.y; k++)
            if (g.marks[(Rt[k * s].x + 1) * s + c] & 2)
                Rt[kr++ * s] = Rt[k * s];
        g.nchain[c] = make_int2(kl, kr);
    }
}

/* One thread: where each group's survivors go; returns their number. */
__device__ long long s_offsets(const Reg &g)
{
    long long s = 0;
    for (long long c = 0; c < g.ng; c++) {
        g.goff[c] = s;
        const int2 k = g.nchain[c];
        s += k.x + k.y;
    }
    g.goff[g.ng] = s;
    g.acc[0] = (unsigned long long)s;
    return s;
}

__device__ void s_points(const Reg &g, const P2 &q, long long t, long long nt)
{
    for (long long c = t; c < g.ng; c += nt) {
        long long o = g.goff[c];
        const int2 k = g.nchain[c];
        for (int side = 0; side < 2; side++) {
            const int2 *ch = g.chain + side * g.nrow * g.ng + c;
            for (int i = 0; i < (side ? k.y : k.x); i++, o++) {
                const int2 v = ch[(long long)i * g.ng];
                q.p[o][0] = c - 1;
                q.p[o][1] = v.x;
                q.p[o][2] = v.y;
            }
        }
    }
}

__device__ __forceinline__ long long (*pts_at(const P2 &q, int level))[3] { return level & 1 ? q.p_alt : q.p; }
__device__ __forceinline__ long long *off_at(const Reg &g, int level) { return level & 1 ? g.goff2 : g.goff; }

/* Quickhull state over points [s, s + n) of `pts`, with faces from index f0 (cap_f of them). */
__device__ H3 hull_of(const P2 &q, long long (*pts)[3], long long s, long long n, long long f0, long long cap_f)
{
    H3 H;
    H.p = pts + s;
    H.np = (int)n;
    H.cap_p = (int)n;
    H.next = q.next + s;
    H.ms = q.ms + s;
    H.me = q.me + s;
    H.mstamp = q.mstamp + s;
    H.F = q.F + f0;
    H.nf = 0;
    H.cap_f = (int)cap_f;
    H.vis = q.vis + f0;
    H.hor = q.hor + f0;
    H.stack = q.stack + f0;
    H.cap_list = (int)cap_f;
    H.mark = 0;
    return H;
}

/* ---- the reduction: a vertex of the region's hull is a vertex of the hull of any subset containing it,
 * so chunks of consecutive groups are hulled in parallel (a warp each) and only their vertices go on, chunks
 * twice as large at each level. A chunk that is flat or whose hull fails keeps every point. Level L reads
 * pts_at(L)/off_at(L) and writes level L + 1. Threads t of nt are whole warps. */
__device__ void s_chunks(const Reg &g, const P2 &q, int level, long long gc, long long t, long long nt)
{
    long long(*pts)[3] = pts_at(q, level);
    const long long *off = off_at(g, level), nch = (g.ng + gc - 1) / gc;
    const int lane = (int)(t & 31);
    for (long long k = t >> 5; k < nch; k += nt >> 5) {
        const long long s = off[k * gc], e = off[(k + 1) * gc < g.ng ? (k + 1) * gc : g.ng], n = e - s;
        H3 H = hull_of(q, pts, s, n, q.factor * s + 64 * k, q.factor * n + 64);
        const int res = n >= 4 ? quickhull(H) : (int)QH_FLAT;
        for (long long i = s + lane; i < e; i += 32)
            q.keep[i] = res != QH_OK;
        __syncwarp();
        if (res == QH_OK)
            for (int i = lane; i < H.nf; i += 32)
                for (int v = 0; H.F[i].alive && v < 3; v++)
                    q.keep[s + H.F[i].v[v]] = 1;
        __syncwarp();
    }
}

/* Per group: its kept points (counts into the next level's offsets, shifted by one). */
__device__ void s_keepcount(const Reg &g, const P2 &q, int level, long long t, long long nt)
{
    const long long *off = off_at(g, level);
    long long *nxt = off_at(g, level + 1);
    for (long long c = t; c < g.ng; c += nt) {
        long long k = 0;
        for (long long i = off[c]; i < off[c + 1]; i++)
            k += q.keep[i];
        nxt[c + 1] = k;
    }
}

__device__ void s_keepsum(const Reg &g, int level)
{
    long long *nxt = off_at(g, level + 1);
    nxt[0] = 0;
    for (long long c = 0; c < g.ng; c++)
        nxt[c + 1] += nxt[c];
}

__device__ void s_move(const Reg &g, const P2 &q, int level, long long t, long long nt)
{
    long long(*src)[3] = pts_at(q, level), (*dst)[3] = pts_at(q, level + 1);
    const long long *off = off_at(g, level), *nxt = off_at(g, level + 1);
    for (long long c = t; c < g.ng; c += nt)
        for (long long i = off[c], o = nxt[c]; i < off[c + 1]; i++)
            if (q.keep[i]) {
                dst[o][0] = src[i][0];
                dst[o][1] = src[i][1];
                dst[o][2] = src[i][2];
                o++;
            }
}

/* The reduction's levels for np survivors of ng groups. */
__host__ __device__ inline int levels_of(long long np, long long ng, int mode, long long reduce_min)
{
    int n = 0;
    if (mode != M_CENTRES && np > reduce_min)
        for (long long gc = kChunk; gc < ng; gc <<= 1)
            n++;
    return n;
}

/* One warp (every lane the same). Returns the parallel work that follows (planes to clip by, vertices to pair) or -1 when the
 * region is finished or failed in this mode. */
__device__ long long s_hull(const rp_dev &R, const Reg &g, const P2 &q, int level, int mode, bool feret,
                            unsigned char *done)
{
    long long(*pts)[3] = pts_at(q, level);
    const long long np = off_at(g, level)[g.ng];
    const int64_t r = g.r;
    R.fail[r] = RP_FAIL_NONE;
    if (mode == M_CENTRES) {
        /* scikit-image takes the hull of the voxel centres first; Qhull fails on a flat set and the convex
         * image is empty: solidity is area / 0, +inf, as on the CPU */
        int s[4];
        if (initial_simplex(pts, (int)np, s) == QH_FLAT) {
            put_i64(R, S_AREA_CONVEX, r, 0);
            put_f64(R, S_SOLIDITY, r, __longlong_as_double(0x7ff0000000000000LL));
            if (feret)
                R.fail[r] = RP_FAIL_FLAT_FERET;
            done[r] = 1;
        }
        return -1;
    }
    H3 H = hull_of(q, pts, 0, np, 0, q.cap_f);
    const int res = quickhull(H);
    if (res) {
        R.fail[r] = res == QH_NOMEM ? RP_FAIL_CAPACITY : RP_FAIL_INTERNAL;
        done[r] = res != QH_NOMEM;
        return -1;
    }
    g.acc[1] = 0;
    if (mode == M_FACES) { /* the planes come from the faces in parallel (s_planes) */
        g.acc[2] = 0;
        g.acc[4] = (unsigned long long)H.nf;
        return H.nf;
    }
    /* the hull's vertices, for the farthest pair */
    long long nv = 0;
    const unsigned mark = ++H.mark;
    for (int i = 0; i < H.nf; i++)
        for (int k = 0; H.F[i].alive && k < 3; k++)
            if (H.mstamp[H.F[i].v[k]] != mark) {
                H.mstamp[H.F[i].v[k]] = mark;
                q.ms[nv++] = H.F[i].v[k];
            }
    g.acc[3] = (unsigned long long)nv;
    return nv;
}

__device__ __forceinline__ unsigned long long warp_max_u64(unsigned long long v)
{
    for (int d = 16; d > 0; d >>= 1) {
        const unsigned long long o = __shfl_xor_sync(0xffffffffu, v, d);
        v = o > v ? o : v;
    }
    return v;
}

/* The planes to clip by, from the hull's acc[4] faces (threads t of nt, nt a multiple of 32, whole warps):
 * one per alive face, except a face with a coplanar neighbour of lower index (the neighbour's third vertex
 * on its plane). A coplanar patch keeps at least its lowest face; a duplicate plane would cost time, never
 * change a count, so no sort is needed. Appended to q.planes, their number in acc[2]. */
__device__ void s_planes(const Reg &g, const P2 &q, int level, long long t, long long nt)
{
    long long(*pts)[3] = pts_at(q, level);
    const long long nf = (long long)g.acc[4];
    const int lane = (int)(t & 31);
    for (long long i = t; i - lane < nf; i += nt) {
        bool keep = false;
        Plane pl;
        if (i < nf) {
            const Face &f = q.F[i];
            keep = f.alive;
            for (int e = 0; keep && e < 3; e++) {
                const int h = f.nb[e];
                if (h < 0 || h >= i)
                    continue;
                const Face &fh = q.F[h];
                int third = fh.v[0];
                for (int k = 0; k < 3; k++)
                    if (fh.v[k] != f.v[e] && fh.v[k] != f.v[(e + 1) % 3])
                        third = fh.v[k];
                keep = dist3(&f, pts[third]) != 0;
            }
            if (keep) {
                pl.n[0] = f.n[0];
                pl.n[1] = f.n[1];
                pl.n[2] = f.n[2];
                pl.d = f.d;
                pl.r = f.n[2] ? 1.0 / (2.0 * (double)f.n[2]) : 0.0;
            }
        }
        const unsigned m = __ballot_sync(0xffffffffu, keep);
        unsigned long long base = 0;
        if (lane == 0 && m)
            base = atomicAdd(g.acc + 2, (unsigned long long)__popc(m));
        base = __shfl_sync(0xffffffffu, base, 0);
        if (keep)
            q.planes[base + __popc(m & ((1u << lane) - 1))] = pl;
    }
}

/* The convex image's x range on every (z, y) line of the box; the voxel count summed into acc[1].
 * A plane n . (2z, 2y, 2x) <= d bounds x by K / (2 nx), K = d - 2 nz z - 2 ny y. K fits int64 (below 2^61:
 * normals are cross products of doubled coordinates below 2^19, d their dot products); a float64 estimate
 * K * r is within 2^-30 of the bound wherever the bound falls inside the line, so one integer product each
 * way makes it the exact floor (ceil): no division. */
__device__ void s_count(const Reg &g, const P2 &q, long long nplanes, long long t, long long nt)
{
    const Plane *P = q.planes;
    long long sum = 0;
    for (long long line = t; line < g.dz * g.hy; line += nt) {
        const long long z = line / g.hy, y = line % g.hy;
        long long lo = 0, hi = g.wx - 1;
        for (long long k = 0; k < nplanes && lo <= hi; k++) {
            const Plane p = P[k];
            const long long K = p.d - 2 * (p.n[0] * z + p.n[1] * y), n2 = 2 * p.n[2];
            const double e = (double)K * p.r;
            if (n2 > 0) { /* x <= floor(K / n2) */
                if (e >= (double)(hi + 1))
                    continue;
                if (e < (double)(lo - 1)) {
                    hi = lo - 1;
                    continue;
                }
                long long b = (long long)floor(e);
                if (n2 * (b + 1) <= K)
                    b++;
                else if (n2 * b > K)
                    b--;
                hi = b < hi ? b : hi;
            } else if (n2 < 0) { /* x >= ceil(K / n2) */
                if (e <= (double)(lo - 1))
                    continue;
                if (e > (double)(hi + 1)) {
                    hi = lo - 1;
                    continue;
                }
                long long b = (long long)ceil(e);
                if (n2 * (b - 1) <= K)
                    b--;
                else if (n2 * b > K)
                    b++;
                lo = b > lo ? b : lo;
            } else if (K < 0) {
                hi = lo - 1;
            }
        }
        g.lohi[line] = hi >= lo ? make_int2((int)lo, (int)hi) : make_int2(1, 0);
        if (hi >= lo)
            sum += hi - lo + 1;
    }
    sum = warp_sum_ll(sum);
    if ((threadIdx.x & 31) == 0 && sum)
        atomicAdd(g.acc + 1, (unsigned long long)sum);
}

/* The farthest pair of the hull's vertices: squared distances in doubled coordinates (< 2^41) into acc[1]. */
__device__ void s_pairs(const Reg &g, const P2 &q, int level, long long nv, long long t, long long nt)
{
    long long(*pts)[3] = pts_at(q, level);
    unsigned long long best = 0;
    for (long long i = t; i < nv; i += nt) {
        const long long *a = pts[q.ms[i]];
        for (long long j = i + 1; j < nv; j++) {
            const long long *b = pts[q.ms[j]];
            const long long d0 = a[0] - b[0], d1 = a[1] - b[1], d2 = a[2] - b[2];
            const unsigned long long d = (unsigned long long)(d0 * d0 + d1 * d1 + d2 * d2);
            best = d > best ? d : best;
        }
    }
    best = warp_max_u64(best);
    if ((threadIdx.x & 31) == 0 && best)
        atomicMax(g.acc + 1, best);
}

/* One thread: the region's values from the sums. */
__device__ void s_finish(const rp_dev &R, const Reg &g, int mode, bool feret, unsigned char *done)
{
    const int64_t r = g.r;
    if (mode == M_FACES) {
        const long long count = (long long)g.acc[1];
        put_i64(R, S_AREA_CONVEX, r, count);
        put_f64(R, S_SOLIDITY, r, (double)R.reg_area[r] / (double)count);
        done[r] = !feret;
    } else {
        put_f64(R, S_FERET, r, sqrt((double)g.acc[1] * 0.25));
        done[r] = 1;
    }
}

/* ---- block regions: one block per region ---- */

struct Batch {
    const int64_t *ids;    /* the batch's regions */
    const long long *off1; /* filter scratch of each, from base1 */
    char *base1;
    const long long *off2; /* hull scratch of each, from base2 */
    char *base2;
    long long *npts; /* per region: survivors of the filter (-1: not in this mode) and groups */
    long long *work; /* per region: the hull's parallel work (faces, vertices), -1 for none */
};

__global__ void __launch_bounds__(kBlock) k_filter(rp_dev R, Batch B, const unsigned char *done, int mode)
{
    const int64_t r = B.ids[blockIdx.x];
    if (done[r]) {
        if (threadIdx.x == 0)
            B.npts[2 * blockIdx.x] = -1;
        return;
    }
    const Reg g = reg_of(R, r, B.base1 + B.off1[blockIdx.x]);
    s_init(g, threadIdx.x, blockDim.x);
    __syncthreads();
    s_fill(R, g, mode, threadIdx.x, blockDim.x);
    __syncthreads();
    if (threadIdx.x < kBlock / 2) /* both walks are serial per line: half the block each, side by side */
        s_chain(g, threadIdx.x, kBlock / 2);
    else
        s_rowchain(g, threadIdx.x - kBlock / 2, kBlock / 2);
    __syncthreads();
    s_keep(g, threadIdx.x, blockDim.x);
    __syncthreads();
    if (threadIdx.x == 0) {
        B.npts[2 * blockIdx.x] = s_offsets(g);
        B.npts[2 * blockIdx.x + 1] = g.ng;
    }
}

/* Whether this attempt hulls region i of the batch (the filter found points, the region is not finished,
 * and it failed the way this attempt retries, if it is a retry). */
__device__ __forceinline__ bool goes(const rp_dev &R, const Batch &B, const unsigned char *done, int redo, int64_t i)
{
    const int64_t r = B.ids[i];
    return B.npts[2 * i] >= 0 && !done[r] && R.fail[r] == redo;
}

/* The survivors as hull points, reduced chunk by chunk when there are many: a block a region. */
__global__ void __launch_bounds__(kBlock) k_prep(rp_dev R, Batch B, const unsigned char *done, int mode, int redo,
                                                 int factor, long long reduce_min)
{
    if (!goes(R, B, done, redo, blockIdx.x))
        return;
    const long long np = B.npts[2 * blockIdx.x];
    const Reg g = reg_of(R, B.ids[blockIdx.x], B.base1 + B.off1[blockIdx.x]);
    P2 q;
    p2_layout(np, g.ng, factor, mode, B.base2 + B.off2[blockIdx.x], &q);
    s_points(g, q, threadIdx.x, blockDim.x);
    __syncthreads();
    const int nlev = levels_of(np, g.ng, mode, reduce_min);
    for (int L = 0; L < nlev; L++) {
        s_chunks(g, q, L, kChunk << L, threadIdx.x, blockDim.x);
        __syncthreads();
        s_keepcount(g, q, L, threadIdx.x, blockDim.x);
        __syncthreads();
        if (threadIdx.x == 0)
            s_keepsum(g, L);
        __syncthreads();
        s_move(g, q, L, threadIdx.x, blockDim.x);
        __syncthreads();
    }
}

/* The quickhull: a serial walk, latency-bound, with scans over the warp, so a region gets one warp (a
 * 256-thread block at 128 registers let two regions an SM run side by side; warps let about 25). */
__global__ void __launch_bounds__(32) k_qh(rp_dev R, Batch B, unsigned char *done, int mode, int redo, int factor,
                                           bool feret, long long reduce_min)
{
    long long work = -1;
    if (goes(R, B, done, redo, blockIdx.x)) {
        const long long np = B.npts[2 * blockIdx.x];
        const Reg g = reg_of(R, B.ids[blockIdx.x], B.base1 + B.off1[blockIdx.x]);
        P2 q;
        p2_layout(np, g.ng, factor, mode, B.base2 + B.off2[blockIdx.x], &q);
        work = s_hull(R, g, q, levels_of(np, g.ng, mode, reduce_min), mode, feret, done);
    }
    B.work[blockIdx.x] = work;
}

/* Planes and the count, or the farthest pair, and the region's values: a block a region. */
__global__ void __launch_bounds__(kBlock) k_work(rp_dev R, Batch B, unsigned char *done, int mode, int factor,
                                                 bool feret, long long reduce_min)
{
    if (B.work[blockIdx.x] < 0)
        return;
    const long long np = B.npts[2 * blockIdx.x];
    const Reg g = reg_of(R, B.ids[blockIdx.x], B.base1 + B.off1[blockIdx.x]);
    P2 q;
    p2_layout(np, g.ng, factor, mode, B.base2 + B.off2[blockIdx.x], &q);
    const int nlev = levels_of(np, g.ng, mode, reduce_min);
    if (mode == M_FACES) {
        s_planes(g, q, nlev, threadIdx.x, blockDim.x);
        __syncthreads();
        s_count(g, q, (long long)*(volatile unsigned long long *)(g.acc + 2), threadIdx.x, blockDim.x);
    } else {
        s_pairs(g, q, nlev, B.work[blockIdx.x], threadIdx.x, blockDim.x);
    }
    __syncthreads();
    if (threadIdx.x == 0)
        s_finish(R, g, mode, feret, done);
}

/* End voxel j % 2 of run j / 2 of a region (first run f), in coordinates local to its box (lo). */
struct run_ends {
    const rp_dev *R;
    int64_t f;
    long long lo[3];
    __device__ __forceinline__ void operator()(long long j, long long p[3]) const
    {
        const int64_t i = f + j / 2, line = R->run_line[i];
        p[0] = line / R->H - lo[0];
        p[1] = line % R->H - lo[1];
        p[2] = R->run_x0[i] - lo[2] + (j & 1 ? R->run_len[i] - 1 : 0);
    }
};

/* Whether region r's voxel centres are coplanar (scikit-image's Qhull refuses them and the convex image is
 * empty), from its runs' end voxels (the rest of a run lies between them), by the initial simplex's choices
 * over the ends on one warp. Replaces a block region's pass of the whole filter and hull over the centres.
 * Indices fit int: a block region has fewer than 2^30 runs. */
__device__ bool flat_runs(const rp_dev &R, int64_t r)
{
    run_ends at;
    long long ext[3];
    at.R = &R;
    at.f = R.reg_first[r];
    box_of(R, r, at.lo, ext);
    int s[4];
    return simplex_of(at, 2 * R.reg_nruns[r], s) == QH_FLAT;
}

/* The centres' flatness of each block region of the batch: a warp a region. */
__global__ void __launch_bounds__(32) k_flat(rp_dev R, Batch B, unsigned char *done, bool feret)
{
    const int64_t r = B.ids[blockIdx.x];
    if (done[r])
        return;
    const bool flat = flat_runs(R, r);
    if (threadIdx.x != 0)
        return;
    R.fail[r] = RP_FAIL_NONE;
    if (flat) { /* as s_hull's centres branch: solidity is area / 0, +inf, as on the CPU */
        put_i64(R, S_AREA_CONVEX, r, 0);
        put_f64(R, S_SOLIDITY, r, __longlong_as_double(0x7ff0000000000000LL));
        if (feret)
            R.fail[r] = RP_FAIL_FLAT_FERET;
        done[r] = 1;
    }
}

/* ---- giant regions: the same steps, each over the whole grid ---- */

enum Step { G_INIT, G_FILL, G_ROWCHAIN, G_CHAIN, G_KEEP, G_OFFSETS, G_POINTS, G_CHUNKS, G_KEEPCOUNT, G_KEEPSUM, G_MOVE, G_HULL, G_PLANES,
            G_WORK, G_FINISH };

/* np: the filter's survivors (the hull scratch's size); level: the reduction level the step works on. */
__global__ void __launch_bounds__(kBlock) k_giant(rp_dev R, int64_t r, char *base1, char *base2, long long np, int level,
                                                  int step, int mode, int factor, bool feret, unsigned char *done,
                                                  long long *out)
{
    const long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x, nt = (long long)gridDim.x * blockDim.x;
    const Reg g = reg_of(R, r, base1);
    P2 q = {};
    if (base2)
        p2_layout(np, g.ng, factor, mode, base2, &q);
    switch (step) {
    case G_INIT:
        s_init(g, t, nt);
        break;
    case G_FILL:
        s_fill(R, g, mode, t, nt);
        break;
    case G_ROWCHAIN:
        s_rowchain(g, t, nt);
        break;
    case G_CHAIN:
        s_chain(g, t, nt);
        break;
    case G_KEEP:
        s_keep(g, t, nt);
        break;
    case G_OFFSETS:
        if (t == 0) {
            out[0] = s_offsets(g);
            out[1] = g.ng;
        }
        break;
    case G_CHUNKS:
        s_chunks(g, q, level, kChunk << level, t, nt);
        break;
    case G_KEEPCOUNT:
        s_keepcount(g, q, level, t, nt);
        break;
    case G_KEEPSUM:
        if (t == 0)
            s_keepsum(g, level);
        break;
    case G_MOVE:
        s_move(g, q, level, t, nt);
        break;
    case G_POINTS:
        s_points(g, q, t, nt);
        break;
    case G_HULL: /* one warp */
        *out = s_hull(R, g, q, level, mode, feret, done);
        break;
    case G_PLANES:
        s_planes(g, q, level, t, nt);
        break;
    case G_WORK:
        if (mode == M_FACES)
            s_count(g, q, (long long)g.acc[2], t, nt);
        else
            s_pairs(g, q, level, (long long)g.acc[3], t, nt);
        break;
    case G_FINISH:
        if (t == 0)
            s_finish(R, g, mode, feret, done);
        break;
    }
}

/* Filter scratch per region (bytes), 0 for a box too large (failed here, as on the CPU); negative for a
 * giant region. */
__global__ void k_sizes(rp_dev R, long long giant_lines, long long *bytes, unsigned char *done)
{
    RP_LOOP(r, R.nreg)
    {
        long long lo[3], ext[3];
        box_of(R, r, lo, ext);
        const long long dz = ext[0], hy = ext[1], wx = ext[2];
        done[r] = 0;
        if (dz >= (1 << 18) || hy >= (1 << 18) || wx >= (1 << 18)) {
            /* doubled coordinates below 2^19 keep every plane evaluation inside int64 */
            R.fail[r] = RP_FAIL_TOO_LARGE;
            done[r] = 1;
            bytes[r] = 0;
            continue;
        }
        const long long b = reg_layout(dz, hy, nullptr, nullptr);
        bytes[r] = dz * hy > giant_lines ? -b : b;
    }
}

struct Hull3 {
    rp_call &C;
    bool feret;
    long long reduce_min;
    unsigned char *done;
    std::vector<int> fail;

    tp_status fetch_fail()
    {
        fail.resize((size_t)C.R.nreg);
        return rp_fetch(C, fail.data(), C.R.fail, fail.size());
    }

    /* One batch of block regions through every mode. */
    tp_status batch(const std::vector<int64_t> &ids, const std::vector<long long> &off1, long long total1)
    {
        const int64_t nb = (int64_t)ids.size();
        rp_arena A;
        A.ctx = C.ctx;
        int64_t *dids;
        long long *doff1, *doff2, *dnp, *dwork;
        char *base1;
        tp_status st;
        if ((st = A.get(&dids, nb)) || (st = A.get(&doff1, nb)) || (st = A.get(&doff2, nb)) ||
            (st = A.get(&dnp, 2 * nb)) || (st = A.get(&dwork, nb)) || (st = A.get(&base1, total1)))
            return st;
        TP_CUDA_CHECK(C.ctx, cudaMemcpyAsync(dids, ids.data(), 8 * nb, cudaMemcpyHostToDevice, C.s));
        TP_CUDA_CHECK(C.ctx, cudaMemcpyAsync(doff1, off1.data(), 8 * nb, cudaMemcpyHostToDevice, C.s));
        Batch B{dids, doff1, base1, doff2, nullptr, dnp, dwork};
        std::vector<long long> np(2 * (size_t)nb), off2((size_t)nb);
        k_flat<<<(unsigned)nb, 32, 0, C.s>>>(C.R, B, done, feret);
        TP_CUDA_LAUNCHED(C.ctx);
        for (int mode = M_FACES; mode <= (feret ? M_MIDPOINTS : M_FACES); mode++) {
            k_filter<<<(unsigned)nb, kBlock, 0, C.s>>>(C.R, B, done, mode);
            TP_CUDA_LAUNCHED(C.ctx);
            if ((st = rp_fetch(C, np.data(), dnp, np.size())))
                return st;
            int redo = RP_FAIL_NONE;
            for (int factor = kFirstFactor;; factor *= 4) {
                long long total2 = 0;
                for (int64_t i = 0; i < nb; i++) {
                    const long long n = np[2 * (size_t)i], ng = np[2 * (size_t)i + 1];
                    const bool go = n >= 0 && (redo == RP_FAIL_NONE || fail[(size_t)ids[(size_t)i]] == redo);
                    off2[(size_t)i] = total2;
                    total2 += go ? p2_layout(n, ng, factor, mode, nullptr, nullptr) : 0;
                }
                rp_arena A2; /* this attempt's hull scratch */
                A2.ctx = C.ctx;
                if ((st = A2.get(&B.base2, total2)))
                    return st;
                TP_CUDA_CHECK(C.ctx, cudaMemcpyAsync(doff2, off2.data(), 8 * nb, cudaMemcpyHostToDevice, C.s));
                k_prep<<<(unsigned)nb, kBlock, 0, C.s>>>(C.R, B, done, mode, redo, factor, reduce_min);
                TP_CUDA_LAUNCHED(C.ctx);
                k_qh<<<(unsigned)nb, 32, 0, C.s>>>(C.R, B, done, mode, redo, factor, feret, reduce_min);
                TP_CUDA_LAUNCHED(C.ctx);
                k_work<<<(unsigned)nb, kBlock, 0, C.s>>>(C.R, B, done, mode, factor, feret, reduce_min);
                TP_CUDA_LAUNCHED(C.ctx);
                if ((st = fetch_fail()))
                    return st;
                bool again = false;
                for (int64_t r : ids)
                    again |= fail[(size_t)r] == RP_FAIL_CAPACITY;
                if (!again || factor >= kLastFactor)
                    break;
                redo = RP_FAIL_CAPACITY;
            }
        }
        return TP_OK;
    }

    tp_status step(int64_t r, char *base1, char *base2, long long np, int level, Step s, int mode, int factor,
                   long long *out)
    {
        const bool one = s == G_OFFSETS || s == G_KEEPSUM || s == G_HULL || s == G_FINISH;
        k_giant<<<one ? 1 : 132 * 8, one ? 32 : kBlock, 0, C.s>>>(C.R, r, base1, base2, np, level, s, mode, factor,
                                                                   feret, done, out);
        TP_CUDA_LAUNCHED(C.ctx);
        return TP_OK;
    }

    /* One giant region through every mode, each step on the whole device. */
    tp_status giant(int64_t r, long long bytes1)
    {
        rp_arena A;
        A.ctx = C.ctx;
        char *base1;
        long long *dout;
        tp_status st;
        if ((st = A.get(&base1, bytes1)) || (st = A.get(&dout, 2)))
            return st;
        for (int mode = M_CENTRES; mode <= (feret ? M_MIDPOINTS : M_FACES); mode++) {
            unsigned char dn = 0;
            if ((st = rp_fetch(C, &dn, done + r, 1)) || dn)
                return st;
            long long npg[2] = {0, 0}, work = 0;
            if ((st = step(r, base1, nullptr, 0, 0, G_INIT, mode, 0, dout)) ||
                (st = step(r, base1, nullptr, 0, 0, G_FILL, mode, 0, dout)) ||
                (st = step(r, base1, nullptr, 0, 0, G_ROWCHAIN, mode, 0, dout)) ||
                (st = step(r, base1, nullptr, 0, 0, G_CHAIN, mode, 0, dout)) ||
                (st = step(r, base1, nullptr, 0, 0, G_KEEP, mode, 0, dout)) ||
                (st = step(r, base1, nullptr, 0, 0, G_OFFSETS, mode, 0, dout)) || (st = rp_fetch(C, npg, dout, 2)))
                return st;
            const long long np = npg[0];
            const int nlev = levels_of(np, npg[1], mode, reduce_min);
            for (int factor = kFirstFactor;; factor *= 4) {
                rp_arena A2;
                A2.ctx = C.ctx;
                char *base2;
                if ((st = A2.get(&base2, p2_layout(np, npg[1], factor, mode, nullptr, nullptr))) ||
                    (st = step(r, base1, base2, np, 0, G_POINTS, mode, factor, dout)))
                    return st;
                for (int L = 0; L < nlev; L++)
                    for (Step s : {G_CHUNKS, G_KEEPCOUNT, G_KEEPSUM, G_MOVE})
                        if ((st = step(r, base1, base2, np, L, s, mode, factor, dout)))
                            return st;
                if ((st = step(r, base1, base2, np, nlev, G_HULL, mode, factor, dout)) ||
                    (st = rp_fetch(C, &work, dout, 1)))
                    return st;
                if (work >= 0) {
                    if ((mode == M_FACES && (st = step(r, base1, base2, np, nlev, G_PLANES, mode, factor, dout))) ||
                        (st = step(r, base1, base2, np, nlev, G_WORK, mode, factor, dout)) ||
                        (st = step(r, base1, base2, np, nlev, G_FINISH, mode, factor, dout)))
                        return st;
                    break;
                }
                int f = 0;
                if ((st = rp_fetch(C, &f, C.R.fail + r, 1)))
                    return st;
                if (f != RP_FAIL_CAPACITY || factor >= kLastFactor)
                    break;
            }
        }
        return TP_OK;
    }
};

} // namespace

tp_status rp_cuda_hull3(rp_call &C)
{
    if (C.R.nreg == 0)
        return TP_OK;
    /* for tests: route small regions the giant way, reduce small hulls */
    long long giant_lines = kGiantLines, reduce_min = kReduceMin;
    if (const char *e = getenv("TWINPIX_HULL3_GIANT_LINES"))
        giant_lines = atoll(e);
    if (const char *e = getenv("TWINPIX_HULL3_REDUCE_MIN"))
        reduce_min = atoll(e);
    int lane_faces = 32;
    if (const char *e = getenv("TWINPIX_HULL3_LANE_FACES"))
        lane_faces = atoi(e) < 0 ? 0 : atoi(e) > 32 ? 32 : atoi(e);
    TP_CUDA_CHECK(C.ctx, cudaMemcpyToSymbolAsync(d_lane_faces, &lane_faces, sizeof lane_faces, 0,
                                                 cudaMemcpyHostToDevice, C.s));
    Hull3 h{C, (C.needs & RP_NEED_FERET) != 0, reduce_min, nullptr, {}};
    long long *dbytes;
    tp_status st;
    if ((st = C.mem.get(&h.done, C.R.nreg)) || (st = C.mem.get(&dbytes, C.R.nreg)))
        return st;
    k_sizes<<<rp_grid(C.R.nreg, 256), 256, 0, C.s>>>(C.R, giant_lines, dbytes, h.done);
    TP_CUDA_LAUNCHED(C.ctx);
    std::vector<long long> bytes((size_t)C.R.nreg);
    if ((st = rp_fetch(C, bytes.data(), dbytes, bytes.size())) || (st = h.fetch_fail()))
        return st;
    /* block regions in batches of consecutive regions (at least one each) */
    std::vector<int64_t> ids;
    std::vector<long long> off;
    long long total = 0;
    for (int64_t r = 0; r <= C.R.nreg && !st; r++) {
        const long long b = r < C.R.nreg ? bytes[(size_t)r] : 0;
        if (!ids.empty() && (r == C.R.nreg || total + b > kBatchLimit)) {
            st = h.batch(ids, off, total);
            ids.clear();
            off.clear();
            total = 0;
        }
        if (r < C.R.nreg && b > 0) {
            ids.push_back(r);
            off.push_back(total);
            total += al16(b);
        }
    }
    for (int64_t r = 0; r < C.R.nreg && !st; r++)
        if (bytes[(size_t)r] < 0)
            st = h.giant(r, -bytes[(size_t)r]);
    return st;
}

/* regionprops_table on the device: the exact 3D quickhull of cpu_ref/regionprops_hull.c, for one warp.
 * Points are doubled integer coordinates; every predicate is exact (64-bit products of coordinates below
 * 2^20, 128-bit where sums of them need it). Used by regionprops_hull3.cu, which feeds it candidates already
 * thinned slice by slice and counts the convex image in parallel.
 *
 * Every lane of the warp runs the same serial algorithm on the same values (its loads are broadcasts, its
 * stores write the same value to the same place), and the lanes split only the scans: a point tested
 * against many faces (lane k holds face k's plane in registers), the initial simplex's extreme points. So
 * every branch is warp-uniform and the result is the serial algorithm's, face for face. */
#ifndef TP_REGIONPROPS_HULL3_QH_CUH
#define TP_REGIONPROPS_HULL3_QH_CUH
#include "gpu/regionprops_cuda.cuh"

namespace {

struct Face {
    int v[3], nb[3];
    long long n[3], d;
    int outside, far;
    long long fardist;
    unsigned mark;
    bool alive;
};

/* A facet's plane for the count: n . p <= d inside; r = 1 / (2 n[2]) (0 when n[2] is 0) estimates the
 * bound along x, which the count then makes exact with integer products. */
struct Plane {
    long long n[3], d;
    double r;
};

enum { QH_OK = 0, QH_FLAT, QH_NOMEM, QH_INTERNAL };

/* One region's hull workspace (all in global scratch). */
struct H3 {
    long long (*p)[3];
    int np, cap_p;
    int *next, *ms, *me;
    unsigned *mstamp;
    Face *F;
    int nf, cap_f;
    int *vis, *hor, *stack, cap_list;
    unsigned mark;
};

__device__ long long dist3(const Face *f, const long long *p) { return f->n[0] * p[0] + f->n[1] * p[1] + f->n[2] * p[2] - f->d; }

__device__ void set_plane(Face *f, long long (*P)[3])
{
    const long long *a = P[f->v[0]], *b = P[f->v[1]], *c = P[f->v[2]];
    long long u[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]}, w[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
    f->n[0] = u[1] * w[2] - u[2] * w[1];
    f->n[1] = u[2] * w[0] - u[0] * w[2];
    f->n[2] = u[0] * w[1] - u[1] * w[0];
    f->d = f->n[0] * a[0] + f->n[1] * a[1] + f->n[2] * a[2];
}

/* Face i as the triangle (a, b, c), without neighbours or points. */
__device__ void init_face(H3 &H, int i, int a, int b, int c)
{
    Face *f = H.F + i;
    f->v[0] = a;
    f->v[1] = b;
    f->v[2] = c;
    f->nb[0] = f->nb[1] = f->nb[2] = -1;
    f->outside = f->far = -1;
    f->fardist = 0;
    f->mark = 0;
    f->alive = true;
    set_plane(f, H.p);
}

__device__ int new_face(H3 &H, int a, int b, int c)
{
    if (H.nf >= H.cap_f)
        return -1;
    init_face(H, H.nf, a, b, c);
    return H.nf++;
}

__device__ void add_outside(H3 &H, int fi, int q, long long dist)
{
    Face *f = H.F + fi;
    H.next[q] = f->outside;
    f->outside = q;
    if (f->far < 0 || dist > f->fardist) {
        f->far = q;
        f->fardist = dist;
    }
}

__device__ __forceinline__ int lane_id() { return (int)(threadIdx.x & 31); }

/* The most new faces whose planes the lanes keep in registers while points are handed to them (32; tests
 * lower it through TWINPIX_HULL3_LANE_FACES to run the other path, assign_point). */
__device__ int d_lane_faces = 32;

/* Up to 32 faces' planes, lane k holding faces[k]'s, for testing many points against the same faces. */
struct LanePlane {
    long long n0, n1, n2, d;
    int face; /* -1: no face on this lane */
};

__device__ LanePlane lane_plane(const H3 &H, const int *faces, int n)
{
    LanePlane L = {0, 0, 0, 0, -1};
    if (lane_id() < n) {
        L.face = faces[lane_id()];
        const Face *f = H.F + L.face;
        L.n0 = f->n[0];
        L.n1 = f->n[1];
        L.n2 = f->n[2];
        L.d = f->d;
    }
    return L;
}

/* Point q to the first face (in list order) it is outside of, if any: every lane gets the same answer. */
__device__ bool assign_lanes(H3 &H, const LanePlane &L, int q)
{
    const long long *p = H.p[q];
    const long long d = L.face >= 0 ? L.n0 * p[0] + L.n1 * p[1] + L.n2 * p[2] - L.d : 0;
    const unsigned m = __ballot_sync(0xffffffffu, d > 0);
    if (!m)
        return false;
    const int w = __ffs(m) - 1;
    add_outside(H, __shfl_sync(0xffffffffu, L.face, w), q, __shfl_sync(0xffffffffu, d, w));
    return true;
}

/* For a point (x, y, z) of each active lane: the first of the n <= 32 lanes' planes it is above (hit, -1 for
 * none) and its distance. Every lane runs the loop (the planes come by shuffles). */
__device__ __forceinline__ void first_above(const LanePlane &L, int n, bool act, long long x, long long y, long long z,
                                            int &hit, long long &hd)
{
    hit = -1;
    hd = 0;
    for (int j = 0; j < n; j++) {
        const long long n0 = __shfl_sync(0xffffffffu, L.n0, j), n1 = __shfl_sync(0xffffffffu, L.n1, j),
                        n2 = __shfl_sync(0xffffffffu, L.n2, j), d = __shfl_sync(0xffffffffu, L.d, j);
        if (act && hit < 0) {
            const long long v = n0 * x + n1 * y + n2 * z - d;
            if (v > 0) {
                hit = j;
                hd = v;
            }
        }
    }
}

/* q onto face f's outside list, lanes pushing onto one face at once; the caller keeps the farthest. */
__device__ __forceinline__ void push_outside(H3 &H, int f, int q) { H.next[q] = atomicExch(&H.F[f].outside, q); }

/* The same for any number of faces, 32 at a time. */
__device__ bool assign_point(H3 &H, const int *faces, int n, int q)
{
    for (int base = 0; base < n; base += 32)
        if (assign_lanes(H, lane_plane(H, faces + base, n - base), q))
            return true;
    return false;
}

__device__ int cmp_pt3(const long long *a, const long long *b)
{
    for (int k = 0; k < 3; k++)
        if (a[k] != b[k])
            return a[k] < b[k] ? -1 : 1;
    return 0;
}

/* The warp's best candidate: key k (three 64-bit words) of index idx, -1 for none; better(a, b) > 0 when a
 * is better, 0 when tied (the lower index wins, as the serial scan's first occurrence). Every lane gets it. */
template <class Better> __device__ int warp_best(long long k[3], int idx, Better better)
{
    for (int o = 16; o; o >>= 1) {
        const long long ok[3] = {__shfl_xor_sync(0xffffffffu, k[0], o), __shfl_xor_sync(0xffffffffu, k[1], o),
                                 __shfl_xor_sync(0xffffffffu, k[2], o)};
        const int oi = __shfl_xor_sync(0xffffffffu, idx, o);
        bool take = false;
        if (oi >= 0 && idx < 0) {
            take = true;
        } else if (oi >= 0) {
            const int c = better(ok, k);
            take = c > 0 || (c == 0 && oi < idx);
        }
        if (take) {
            k[0] = ok[0];
            k[1] = ok[1];
            k[2] = ok[2];
            idx = oi;
        }
    }
    return idx;
}

/* Point i of a point array, for simplex_of. */
struct array_points {
    long long (*P)[3];
    __device__ __forceinline__ void operator()(long long i, long long p[3]) const
    {
        p[0] = P[i][0];
        p[1] = P[i][1];
        p[2] = P[i][2];
    }
};

/* The serial scans' choices over n points (first lowest point, first highest, first farthest from their
 * line, first farthest from that plane), the points split over the lanes; at(i, p) gives point i. QH_FLAT
 * when the points are coplanar; else s holds the four, ordered so that the fourth is below the plane of the
 * first three (the initial simplex's orientation). Exact: coordinates below 2^20, normals below 2^41. */
template <class At> __device__ int simplex_of(const At &at, long long n, int s[4])
{
    if (n < 4)
        return QH_FLAT;
    const int lane = lane_id();
    long long p[3], lo[3] = {0, 0, 0}, hi[3] = {0, 0, 0}, k[3];
    int i0 = -1, i1 = -1;
    for (long long i = lane; i < n; i += 32) {
        at(i, p);
        if (i0 < 0 || cmp_pt3(p, lo) < 0) {
            i0 = (int)i;
            lo[0] = p[0], lo[1] = p[1], lo[2] = p[2];
        }
        if (i1 < 0 || cmp_pt3(p, hi) > 0) {
            i1 = (int)i;
            hi[0] = p[0], hi[1] = p[1], hi[2] = p[2];
        }
    }
    i0 = warp_best(lo, i0, [](const long long *a, const long long *b) { return cmp_pt3(b, a); });
    i1 = warp_best(hi, i1, [](const long long *a, const long long *b) { return cmp_pt3(a, b); });
    if (i0 == i1 || cmp_pt3(lo, hi) == 0)
        return QH_FLAT;
    const long long u[3] = {hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]};
    int i2 = -1;
    i128 best = 0;
    for (long long i = lane; i < n; i += 32) {
        at(i, p);
        const long long w[3] = {p[0] - lo[0], p[1] - lo[1], p[2] - lo[2]};
        const i128 c0 = (i128)u[1] * w[2] - (i128)u[2] * w[1], c1 = (i128)u[2] * w[0] - (i128)u[0] * w[2],
                   c2 = (i128)u[0] * w[1] - (i128)u[1] * w[0];
        const i128 m = c0 * c0 + c1 * c1 + c2 * c2;
        if (m > best) {
            best = m;
            i2 = (int)i;
        }
    }
    /* best >= 0: compared as (high word, low word unsigned) */
    k[0] = (long long)(best >> 64);
    k[1] = (long long)(unsigned long long)best;
    k[2] = 0;
    i2 = warp_best(k, i2, [](const long long *a, const long long *b) {
        if (a[0] != b[0])
            return a[0] > b[0] ? 1 : -1;
        if (a[1] != b[1])
            return (unsigned long long)a[1] > (unsigned long long)b[1] ? 1 : -1;
        return 0;
    });
    if (i2 < 0)
        return QH_FLAT;
    /* the plane through the three: normal u x v, distances n . (p - lo) */
    long long c[3];
    at(i2, c);
    const long long v[3] = {c[0] - lo[0], c[1] - lo[1], c[2] - lo[2]};
    const long long nn[3] = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
    int i3 = -1;
    long long bd = 0, sd = 0;
    for (long long i = lane; i < n; i += 32) {
        at(i, p);
        const long long d = nn[0] * (p[0] - lo[0]) + nn[1] * (p[1] - lo[1]) + nn[2] * (p[2] - lo[2]),
                        ad = d < 0 ? -d : d;
        if (ad > bd) {
            bd = ad;
            sd = d;
            i3 = (int)i;
        }
    }
    k[0] = bd;
    k[1] = sd;
    k[2] = 0;
    i3 = warp_best(k, i3, [](const long long *a, const long long *b) { return a[0] > b[0] ? 1 : a[0] < b[0] ? -1 : 0; });
    if (i3 < 0)
        return QH_FLAT;
    if (k[1] > 0) { /* the fourth above: swap so that it is below */
        const int t = i1;
        i1 = i2;
        i2 = t;
    }
    s[0] = i0;
    s[1] = i1;
    s[2] = i2;
    s[3] = i3;
    return QH_OK;
}

__device__ int initial_simplex(long long (*P)[3], int n, int s[4]) { return simplex_of(array_points{P}, n, s); }

__device__ void link_pair(Face *F, int fa, int fb)
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            if (F[fa].v[i] == F[fb].v[(j + 1) % 3] && F[fa].v[(i + 1) % 3] == F[fb].v[j]) {
                F[fa].nb[i] = fb;
                F[fb].nb[j] = fa;
            }
}

__device__ bool push(int *list, int cap, int *n, int v)
{
    if (*n >= cap)
        return false;
    list[(*n)++] = v;
    return true;
}

/* The lanes before this one in mask m. */
__device__ __forceinline__ int rank_in(unsigned m) { return __popc(m & ((1u << lane_id()) - 1)); }

/* Adds face fi's farthest point p: the faces it sees (a breadth-first search from fi, a round per level, the
 * lanes testing a level's neighbours together), the new faces on the horizon (a lane each), their links,
 * and the seen faces' points handed to the new faces. Lists grow in lane order, so every lane keeps the
 * same lists. */
__device__ int add_point(H3 &H, int fi, int *nstack)
{
    const int lane = lane_id(), p = H.F[fi].far;
    const long long p0 = H.p[p][0], p1 = H.p[p][1], p2 = H.p[p][2];
    const unsigned seen = ++H.mark, hidden = ++H.mark;
    int nvis = 0, nhor = 0;
    H.F[fi].mark = seen;
    if (!push(H.vis, H.cap_list, &nvis, fi))
        return QH_NOMEM;
    __syncwarp();
    for (int lo = 0, hi = 1; lo < hi; lo = hi, hi = nvis) { /* the level vis[lo, hi) */
        for (int base = 3 * lo; base < 3 * hi; base += 32) {
            const int j = base + lane;
            int h = -1;
            bool visible = false;
            if (j < 3 * hi) {
                h = H.F[H.vis[j / 3]].nb[j % 3];
                const Face *fh = H.F + h;
                if (fh->mark == seen || fh->mark == hidden)
                    h = -1;
                else
                    visible = fh->n[0] * p0 + fh->n[1] * p1 + fh->n[2] * p2 - fh->d > 0;
            }
            /* a face reached over two edges at once: its lowest lane decides (every lane joins the match) */
            const unsigned same = __match_any_sync(0xffffffffu, h);
            const bool lead = h >= 0 && __ffs(same) - 1 == lane;
            const unsigned add = __ballot_sync(0xffffffffu, lead && visible);
            if (nvis + __popc(add) > H.cap_list)
                return QH_NOMEM;
            if (lead)
                H.F[h].mark = visible ? seen : hidden;
            if (lead && visible)
                H.vis[nvis + rank_in(add)] = h;
            nvis += __popc(add);
            __syncwarp();
        }
    }
    bool bad = false;
    for (int base = 0; base < 3 * nvis; base += 32) { /* horizon edges: a seen face's edge to an unseen one */
        const int j = base + lane;
        int g = -1, e = 0, h = -1;
        if (j < 3 * nvis) {
            g = H.vis[j / 3];
            e = j % 3;
            h = H.F[g].nb[e];
            if (H.F[h].mark == seen)
                h = -1;
        }
        const unsigned edge = __ballot_sync(0xffffffffu, h >= 0);
        if (H.nf + __popc(edge) > H.cap_f || nhor + __popc(edge) > H.cap_list)
            return QH_NOMEM;
        int a = -1;
        if (h >= 0) {
            const int nf = H.nf + rank_in(edge), b = H.F[g].v[(e + 1) % 3];
            a = H.F[g].v[e];
            init_face(H, nf, a, b, p);
            H.F[nf].nb[0] = h;
            for (int k = 0; k < 3; k++) /* h's edges to other seen faces are other lanes' slots */
                if (H.F[h].nb[k] == g)
                    H.F[h].nb[k] = nf;
            H.hor[nhor + rank_in(edge)] = nf;
            bad |= H.mstamp[a] == seen; /* each horizon vertex starts one edge */
            H.ms[a] = nf;
            H.me[b] = nf;
        }
        const unsigned same = __match_any_sync(0xffffffffu, a); /* every lane joins */
        bad |= a >= 0 && __popc(same) > 1;
        if (h >= 0)
            H.mstamp[a] = seen;
        H.nf += __popc(edge);
        nhor += __popc(edge);
        __syncwarp();
    }
    for (int k = lane; k < nhor; k += 32) {
        Face *f = &H.F[H.hor[k]];
        if (H.mstamp[f->v[1]] != seen || H.mstamp[f->v[0]] != seen) {
            bad = true;
            continue;
        }
        f->nb[1] = H.ms[f->v[1]];
        f->nb[2] = H.me[f->v[0]];
    }
    if (__any_sync(0xffffffffu, bad))
        return QH_INTERNAL;
    __syncwarp();
    /* the seen faces' points to the new faces. With at most 32 new faces their planes stay in registers and
     * each lane walks one seen face's list, pushing its points concurrently; else one list after another */
    if (nhor <= d_lane_faces) {
        /* lane j holds new face hor[j]: its plane, its list's head and its farthest point (ties: the lowest
         * index, so the order in which lists are walked changes nothing) */
        const LanePlane L = lane_plane(H, H.hor, nhor);
        int head = -1, far = -1;
        long long fard = 0;
        for (int kb = 0; kb < nvis; kb += 32) {
            const int k = kb + lane;
            int q = k < nvis ? H.F[H.vis[k]].outside : -1;
            while (__any_sync(0xffffffffu, q >= 0)) { /* a point of each lane's list a round */
                const bool act = q >= 0 && q != p;
                const int nq = q >= 0 ? H.next[q] : -1;
                long long x = 0, y = 0, z = 0;
                if (act) {
                    x = H.p[q][0];
                    y = H.p[q][1];
                    z = H.p[q][2];
                }
                __syncwarp(); /* next[] is read before any lane rewrites it below */
                for (unsigned m = __ballot_sync(0xffffffffu, act); m; m &= m - 1) {
                    const int src = __ffs(m) - 1, qq = __shfl_sync(0xffffffffu, q, src);
                    const long long px = __shfl_sync(0xffffffffu, x, src), py = __shfl_sync(0xffffffffu, y, src),
                                    pz = __shfl_sync(0xffffffffu, z, src);
                    const long long d = L.face >= 0 ? L.n0 * px + L.n1 * py + L.n2 * pz - L.d : 0;
                    const unsigned above = __ballot_sync(0xffffffffu, d > 0);
                    if (above && lane == __ffs(above) - 1) {
                        H.next[qq] = head;
                        head = qq;
                        if (far < 0 || d > fard || (d == fard && qq < far)) {
                            far = qq;
                            fard = d;
                        }
                    }
                }
                q = nq;
            }
        }
        if (L.face >= 0) {
            Face *f = H.F + L.face;
            f->outside = head;
            f->far = far;
            f->fardist = fard;
        }
        for (int k = lane; k < nvis; k += 32) {
            Face *g = &H.F[H.vis[k]];
            g->alive = false;
            g->outside = -1;
        }
    } else {
        for (int k = 0; k < nvis; k++) {
            Face *g = &H.F[H.vis[k]];
            g->alive = false;
            for (int q = g->outside, nq; q >= 0; q = nq) {
                nq = H.next[q];
                if (q != p)
                    assign_point(H, H.hor, nhor, q);
            }
            g->outside = -1;
        }
    }
    __syncwarp();
    for (int base = 0; base < nhor; base += 32) { /* new faces with points, in horizon order */
        const int k = base + lane;
        const bool has = k < nhor && H.F[H.hor[k]].outside >= 0;
        const unsigned m = __ballot_sync(0xffffffffu, has);
        if (*nstack + __popc(m) > H.cap_list)
            return QH_NOMEM;
        if (has)
            H.stack[*nstack + rank_in(m)] = H.hor[k];
        *nstack += __popc(m);
    }
    __syncwarp();
    return QH_OK;
}

__device__ int quickhull(H3 &H)
{
    int s[4];
    H.nf = 0;
    int res = initial_simplex(H.p, H.np, s);
    if (res)
        return res;
    for (int i = lane_id(); i < H.np; i += 32)
        H.mstamp[i] = 0;
    __syncwarp();
    H.mark = 0;
    int f[4] = {new_face(H, s[0], s[1], s[2]), new_face(H, s[1], s[0], s[3]), new_face(H, s[2], s[1], s[3]),
                new_face(H, s[0], s[2], s[3])};
    if (f[0] < 0 || f[1] < 0 || f[2] < 0 || f[3] < 0)
        return QH_NOMEM;
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            link_pair(H.F, f[i], f[j]);
    for (int i = 0; i < 4; i++) {
        const Face *F = H.F + f[i];
        for (int k = 0; k < 4; k++)
            if (s[k] != F->v[0] && s[k] != F->v[1] && s[k] != F->v[2] && dist3(F, H.p[s[k]]) >= 0)
                return QH_INTERNAL;
    }
    /* every other point to the first of the four faces it is above, the lanes taking points; each lane keeps
     * its farthest point of each face (the lowest index of ties: its points come in increasing order) */
    const LanePlane L = lane_plane(H, f, 4);
    long long bd[4] = {0, 0, 0, 0};
    int bq[4] = {-1, -1, -1, -1};
    for (int qb = 0; qb < H.np; qb += 32) {
        const int q = qb + lane_id();
        const bool act = q < H.np && q != s[0] && q != s[1] && q != s[2] && q != s[3];
        long long x = 0, y = 0, z = 0;
        if (act) {
            x = H.p[q][0];
            y = H.p[q][1];
            z = H.p[q][2];
        }
        int hit;
        long long hd;
        first_above(L, 4, act, x, y, z, hit, hd);
        const int hf = __shfl_sync(0xffffffffu, L.face, hit < 0 ? 0 : hit);
        if (hit >= 0)
            push_outside(H, hf, q);
#pragma unroll
        for (int j = 0; j < 4; j++)
            if (hit == j && (bq[j] < 0 || hd > bd[j])) {
                bq[j] = q;
                bd[j] = hd;
            }
    }
#pragma unroll
    for (int j = 0; j < 4; j++) {
        long long k3[3] = {bd[j], 0, 0};
        const int w = warp_best(k3, bq[j], [](const long long *a, const long long *b) {
            return a[0] > b[0] ? 1 : a[0] < b[0] ? -1 : 0;
        });
        H.F[f[j]].far = w;
        H.F[f[j]].fardist = w >= 0 ? k3[0] : 0;
    }
    __syncwarp();
    int nstack = 0;
    for (int i = 0; i < 4; i++)
        if (H.F[f[i]].outside >= 0 && !push(H.stack, H.cap_list, &nstack, f[i]))
            return QH_NOMEM;
    while (nstack > 0) {
        int fi = H.stack[--nstack];
        Face *F = H.F + fi;
        if (!F->alive || F->outside < 0)
            continue;
        if ((res = add_point(H, fi, &nstack)))
            return res;
    }
    return QH_OK;
}

} // namespace

#endif

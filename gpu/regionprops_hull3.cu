/* regionprops_table on the device: the 3D convex image (area_convex, solidity) and feret_diameter_max,
 * following cpu_ref/regionprops_hull.c: quickhull over doubled integer coordinates with exact predicates,
 * one thread per region, in fixed-size scratch.
 *
 * Both results depend on the hull's geometry only (the voxels inside every facet plane; the largest
 * distance between extreme points), not on the order in which a hull algorithm meets its points, so a
 * device thread reproduces the CPU's numbers exactly. Scratch is sized per region from its run count and
 * bounding box; a region whose faces outgrow it is redone with more, and regions go in batches so that the
 * scratch stays bounded. */
#include "gpu/regionprops_cuda.cuh"

#include <climits>
#include <cub/cub.cuh>

namespace {

__device__ long long floor_div(i128 a, i128 b)
{
    if (a == (i128)(long long)a && b == (i128)(long long)b) { /* 64-bit division, much cheaper, same value */
        const long long x = (long long)a, y = (long long)b;
        long long q = x / y;
        if (x % y != 0 && x < 0)
            q--;
        return q;
    }
    i128 q = a / b;
    if (a % b != 0 && a < 0)
        q--;
    return (long long)q;
}
__device__ long long ceil_div(i128 a, i128 b) { return -floor_div(-a, b); }

struct Face {
    int v[3], nb[3];
    long long n[3], d;
    int outside, far;
    long long fardist;
    unsigned mark;
    bool alive;
};

struct Plane {
    long long n[3], d;
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

__device__ int new_face(H3 &H, int a, int b, int c)
{
    if (H.nf >= H.cap_f)
        return -1;
    Face *f = H.F + H.nf;
    f->v[0] = a;
    f->v[1] = b;
    f->v[2] = c;
    f->nb[0] = f->nb[1] = f->nb[2] = -1;
    f->outside = f->far = -1;
    f->fardist = 0;
    f->mark = 0;
    f->alive = true;
    set_plane(f, H.p);
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

__device__ bool assign_point(H3 &H, const int *faces, int n, int q)
{
    for (int i = 0; i < n; i++) {
        long long d = dist3(H.F + faces[i], H.p[q]);
        if (d > 0) {
            add_outside(H, faces[i], q, d);
            return true;
        }
    }
    return false;
}

__device__ int cmp_pt3(const long long *a, const long long *b)
{
    for (int k = 0; k < 3; k++)
        if (a[k] != b[k])
            return a[k] < b[k] ? -1 : 1;
    return 0;
}

__device__ int initial_simplex(long long (*P)[3], int n, int s[4])
{
    if (n < 4)
        return QH_FLAT;
    int i0 = 0, i1 = 0;
    for (int i = 1; i < n; i++) {
        if (cmp_pt3(P[i], P[i0]) < 0)
            i0 = i;
        if (cmp_pt3(P[i], P[i1]) > 0)
            i1 = i;
    }
    if (i0 == i1 || cmp_pt3(P[i0], P[i1]) == 0)
        return QH_FLAT;
    long long u[3] = {P[i1][0] - P[i0][0], P[i1][1] - P[i0][1], P[i1][2] - P[i0][2]};
    int i2 = -1;
    i128 best = 0;
    for (int i = 0; i < n; i++) {
        long long w[3] = {P[i][0] - P[i0][0], P[i][1] - P[i0][1], P[i][2] - P[i0][2]};
        i128 c0 = (i128)u[1] * w[2] - (i128)u[2] * w[1], c1 = (i128)u[2] * w[0] - (i128)u[0] * w[2],
             c2 = (i128)u[0] * w[1] - (i128)u[1] * w[0];
        i128 m = c0 * c0 + c1 * c1 + c2 * c2;
        if (m > best) {
            best = m;
            i2 = i;
        }
    }
    if (i2 < 0)
        return QH_FLAT;
    Face tmp;
    tmp.v[0] = i0;
    tmp.v[1] = i1;
    tmp.v[2] = i2;
    set_plane(&tmp, P);
    int i3 = -1;
    long long bd = 0;
    for (int i = 0; i < n; i++) {
        long long d = dist3(&tmp, P[i]);
        d = d < 0 ? -d : d;
        if (d > bd) {
            bd = d;
            i3 = i;
        }
    }
    if (i3 < 0)
        return QH_FLAT;
    if (dist3(&tmp, P[i3]) > 0) {
        int t = i1;
        i1 = i2;
        i2 = t;
    }
    s[0] = i0;
    s[1] = i1;
    s[2] = i2;
    s[3] = i3;
    return QH_OK;
}

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

__device__ int add_point(H3 &H, int fi, int *nstack)
{
    int p = H.F[fi].far, nvis = 0, nhor = 0;
    unsigned seen = ++H.mark, hidden = ++H.mark;
    H.F[fi].mark = seen;
    if (!push(H.vis, H.cap_list, &nvis, fi))
        return QH_NOMEM;
    for (int k = 0; k < nvis; k++) {
        int g = H.vis[k];
        for (int e = 0; e < 3; e++) {
            int h = H.F[g].nb[e];
            Face *fh = H.F + h;
            if (fh->mark == seen || fh->mark == hidden)
                continue;
            if (dist3(fh, H.p[p]) > 0) {
                fh->mark = seen;
                if (!push(H.vis, H.cap_list, &nvis, h))
                    return QH_NOMEM;
            } else {
                fh->mark = hidden;
            }
        }
    }
    for (int k = 0; k < nvis; k++) {
        int g = H.vis[k];
        for (int e = 0; e < 3; e++) {
            int h = H.F[g].nb[e];
            if (H.F[h].mark == seen)
                continue;
            int a = H.F[g].v[e], b = H.F[g].v[(e + 1) % 3];
            int nf = new_face(H, a, b, p);
            if (nf < 0 || !push(H.hor, H.cap_list, &nhor, nf))
                return QH_NOMEM;
            H.F[nf].nb[0] = h;
            for (int j = 0; j < 3; j++)
                if (H.F[h].nb[j] == g)
                    H.F[h].nb[j] = nf;
            if (H.mstamp[a] == seen)
                return QH_INTERNAL;
            H.mstamp[a] = seen;
            H.ms[a] = nf;
            H.me[b] = nf;
        }
    }
    for (int k = 0; k < nhor; k++) {
        Face *f = &H.F[H.hor[k]];
        if (H.mstamp[f->v[1]] != seen || H.mstamp[f->v[0]] != seen)
            return QH_INTERNAL;
        f->nb[1] = H.ms[f->v[1]];
        f->nb[2] = H.me[f->v[0]];
    }
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
    for (int k = 0; k < nhor; k++)
        if (H.F[H.hor[k]].outside >= 0 && !push(H.stack, H.cap_list, nstack, H.hor[k]))
            return QH_NOMEM;
    return QH_OK;
}

__device__ int quickhull(H3 &H)
{
    int s[4];
    H.nf = 0;
    int res = initial_simplex(H.p, H.np, s);
    if (res)
        return res;
    for (int i = 0; i < H.np; i++)
        H.mstamp[i] = 0;
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
    for (int q = 0; q < H.np; q++)
        if (q != s[0] && q != s[1] && q != s[2] && q != s[3])
            assign_point(H, f, 4, q);
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

__device__ bool add_pt3(H3 &H, long long z, long long y, long long x)
{
    if (H.np >= H.cap_p)
        return false;
    H.p[H.np][0] = z;
    H.p[H.np][1] = y;
    H.p[H.np][2] = x;
    H.np++;
    return true;
}

__device__ long long gcd64(long long a, long long b)
{
    a = a < 0 ? -a : a;
    b = b < 0 ? -b : b;
    while (b) {
        long long t = a % b;
        a = b;
        b = t;
    }
    return a;
}

__device__ bool plane_less(const Plane &p, const Plane &q)
{
    for (int k = 0; k < 3; k++)
        if (p.n[k] != q.n[k])
            return p.n[k] < q.n[k];
    return p.d < q.d;
}

__device__ bool plane_eq(const Plane &p, const Plane &q)
{
    return p.n[0] == q.n[0] && p.n[1] == q.n[1] && p.n[2] == q.n[2] && p.d == q.d;
}

/* Heap sort: coplanar triangles give equal planes, kept once (the counts do not depend on it). */
__device__ void sift(Plane *a, long long i, long long n)
{
    for (;;) {
        long long c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && plane_less(a[c], a[c + 1]))
            c++;
        if (!plane_less(a[i], a[c]))
            return;
        Plane t = a[i];
        a[i] = a[c];
        a[c] = t;
        i = c;
    }
}

__device__ long long hull_planes(const H3 &H, Plane *P)
{
    long long n = 0;
    for (int i = 0; i < H.nf; i++) {
        const Face &f = H.F[i];
        if (!f.alive)
            continue;
        long long g = gcd64(gcd64(f.n[0], f.n[1]), f.n[2]);
        P[n].n[0] = f.n[0] / g;
        P[n].n[1] = f.n[1] / g;
        P[n].n[2] = f.n[2] / g;
        P[n].d = f.d / g;
        n++;
    }
    for (long long i = n / 2 - 1; i >= 0; i--)
        sift(P, i, n);
    for (long long e = n - 1; e > 0; e--) {
        Plane t = P[0];
        P[0] = P[e];
        P[e] = t;
        sift(P, 0, e);
    }
    long long k = 0;
    for (long long i = 0; i < n; i++)
        if (k == 0 || !plane_eq(P[i], P[k - 1]))
            P[k++] = P[i];
    return k;
}

__device__ long long convex_lines_3d(const Plane *P, long long np, long long dz, long long hy, long long wx,
                                     long long *lohi)
{
    long long count = 0;
    for (long long z = 0; z < dz; z++)
        for (long long y = 0; y < hy; y++) {
            long long lo = 0, hi = wx - 1;
            for (long long k = 0; k < np && lo <= hi; k++) {
                i128 K = (i128)P[k].d - 2 * ((i128)P[k].n[0] * z + (i128)P[k].n[1] * y);
                long long nx = P[k].n[2];
                if (nx > 0) {
                    long long b = floor_div(K, 2 * (i128)nx);
                    hi = b < hi ? b : hi;
                } else if (nx < 0) {
                    long long b = ceil_div(-K, -2 * (i128)nx);
                    lo = b > lo ? b : lo;
                } else if (K < 0) {
                    hi = lo - 1;
                }
            }
            lohi[2 * (z * hy + y)] = lo;
            lohi[2 * (z * hy + y) + 1] = hi;
            if (hi >= lo)
                count += hi - lo + 1;
        }
    return count;
}

__device__ bool voxel_candidates(const rp_dev &R, int64_t r, H3 &H, bool centres)
{
    H.np = 0;
    const int64_t f = R.reg_first[r], nr = R.reg_nruns[r];
    const int64_t lo0 = R.reg_lo[r], lo1 = R.reg_lo[R.nreg + r], lo2 = R.reg_lo[2 * R.nreg + r];
    for (int64_t i = 0; i < nr; i++) {
        const int64_t line = R.run_line[f + i];
        bool first = i == 0 || R.run_line[f + i - 1] != line;
        bool last = i + 1 == nr || R.run_line[f + i + 1] != line;
        long long z = 2 * (line / R.H - lo0), y = 2 * (line % R.H - lo1);
        long long x0 = 2 * (R.run_x0[f + i] - lo2), x1 = x0 + 2 * (R.run_len[f + i] - 1);
        for (int e = 0; e < 2; e++) {
            if (!(e == 0 ? first : last))
                continue;
            long long x = e == 0 ? x0 : x1;
            if (centres) {
                if (!add_pt3(H, z, y, x))
                    return false;
                continue;
            }
            long long off[5][3] = {{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, e == 0 ? -1 : 1}};
            for (int k = 0; k < 5; k++)
                if (!add_pt3(H, z + off[k][0], y + off[k][1], x + off[k][2]))
                    return false;
        }
    }
    return true;
}

__device__ bool convex_image_midpoints(const long long *lohi, long long dz, long long hy, long long wx,
                                       long long *ymm, long long *zmm, H3 &H)
{
    for (long long k = 0; k < hy * wx; k++) {
        zmm[2 * k] = LLONG_MAX;
        zmm[2 * k + 1] = LLONG_MIN;
    }
    H.np = 0;
    for (long long z = 0; z < dz; z++) {
        for (long long x = 0; x < wx; x++) {
            ymm[2 * x] = LLONG_MAX;
            ymm[2 * x + 1] = LLONG_MIN;
        }
        for (long long y = 0; y < hy; y++) {
            long long lo = lohi[2 * (z * hy + y)], hi = lohi[2 * (z * hy + y) + 1];
            if (lo > hi)
                continue;
            if (!add_pt3(H, 2 * z, 2 * y, 2 * lo - 1) || !add_pt3(H, 2 * z, 2 * y, 2 * hi + 1))
                return false;
            for (long long x = lo; x <= hi; x++) {
                long long *Y = &ymm[2 * x], *Z = &zmm[2 * (y * wx + x)];
                Y[0] = y < Y[0] ? y : Y[0];
                Y[1] = y > Y[1] ? y : Y[1];
                Z[0] = z < Z[0] ? z : Z[0];
                Z[1] = z > Z[1] ? z : Z[1];
            }
        }
        for (long long x = 0; x < wx; x++)
            if (ymm[2 * x] <= ymm[2 * x + 1] &&
                (!add_pt3(H, 2 * z, 2 * ymm[2 * x] - 1, 2 * x) || !add_pt3(H, 2 * z, 2 * ymm[2 * x + 1] + 1, 2 * x)))
                return false;
    }
    for (long long y = 0; y < hy; y++)
        for (long long x = 0; x < wx; x++) {
            const long long *Z = &zmm[2 * (y * wx + x)];
            if (Z[0] <= Z[1] && (!add_pt3(H, 2 * Z[0] - 1, 2 * y, 2 * x) || !add_pt3(H, 2 * Z[1] + 1, 2 * y, 2 * x)))
                return false;
        }
    return true;
}

__device__ double hull_diameter(H3 &H)
{
    int *vert = H.ms, nv = 0;
    unsigned mark = ++H.mark;
    for (int i = 0; i < H.nf; i++)
        for (int k = 0; H.F[i].alive && k < 3; k++)
            if (H.mstamp[H.F[i].v[k]] != mark) {
                H.mstamp[H.F[i].v[k]] = mark;
                vert[nv++] = H.F[i].v[k];
            }
    i128 best = 0;
    for (int i = 0; i < nv; i++)
        for (int j = i + 1; j < nv; j++) {
            const long long *a = H.p[vert[i]], *b = H.p[vert[j]];
            i128 d = 0;
            for (int k = 0; k < 3; k++)
                d += (i128)(a[k] - b[k]) * (a[k] - b[k]);
            best = d > best ? d : best;
        }
    return sqrt(i128_to_double(best) * 0.25);
}

/* Sizes (in elements) of one region's scratch. */
struct Need {
    long long pts, faces, lohi, extra;
};

__host__ __device__ inline Need need_of(long long nruns, long long dz, long long hy, long long wx, int factor,
                                        bool feret)
{
    Need n;
    long long c = 10 * nruns + 8, m = feret ? 2 * dz * hy + 2 * dz * wx + 2 * hy * wx + 8 : 0;
    n.pts = c > m ? c : m;
    n.faces = (long long)factor * n.pts + 64;
    n.lohi = 2 * dz * hy;
    n.extra = feret ? 2 * wx + 2 * hy * wx : 0;
    return n;
}

/* Bytes of one region's scratch, each piece 16-byte aligned. */
__host__ __device__ inline long long bytes_of(const Need &n)
{
    auto al = [](long long b) { return (b + 15) & ~15LL; };
    return al(n.pts * 24) + 4 * al(n.pts * 4) + al(n.faces * (long long)sizeof(Face)) + 3 * al(n.faces * 4) +
           al(n.faces * (long long)sizeof(Plane)) + al(n.lohi * 8) + al(n.extra * 8);
}

__global__ void k_hull3_sizes(rp_dev R, int factor, bool feret, long long *bytes)
{
    RP_LOOP(r, R.nreg)
    {
        const int64_t n = R.nreg;
        const long long dz = R.reg_hi[r] - R.reg_lo[r] + 1, hy = R.reg_hi[n + r] - R.reg_lo[n + r] + 1,
                        wx = R.reg_hi[2 * n + r] - R.reg_lo[2 * n + r] + 1;
        bytes[r] = dz >= (1 << 18) || hy >= (1 << 18) || wx >= (1 << 18)
                       ? 0
                       : bytes_of(need_of(R.reg_nruns[r], dz, hy, wx, factor, feret));
    }
}

/* Regions [r0, r1) whose fail flag is `redo` (0 on the first pass), with scratch at base + off[r - r0]. */
__global__ void k_hull3(rp_dev R, int64_t r0, int64_t r1, const long long *off, char *base, int factor, bool feret,
                        int redo)
{
    for (int64_t r = r0 + blockIdx.x * (int64_t)blockDim.x + threadIdx.x; r < r1; r += (int64_t)gridDim.x * blockDim.x) {
        if (R.fail[r] != redo)
            continue;
        R.fail[r] = RP_FAIL_NONE;
        const int64_t n = R.nreg;
        const long long dz = R.reg_hi[r] - R.reg_lo[r] + 1, hy = R.reg_hi[n + r] - R.reg_lo[n + r] + 1,
                        wx = R.reg_hi[2 * n + r] - R.reg_lo[2 * n + r] + 1;
        if (dz >= (1 << 18) || hy >= (1 << 18) || wx >= (1 << 18)) {
            R.fail[r] = RP_FAIL_TOO_LARGE;
            continue;
        }
        const Need nd = need_of(R.reg_nruns[r], dz, hy, wx, factor, feret);
        char *m = base + off[r - r0];
        auto take = [&m](long long bytes) {
            char *p = m;
            m += (bytes + 15) & ~15LL;
            return p;
        };
        H3 H;
        H.p = (long long(*)[3])take(nd.pts * 24);
        H.cap_p = (int)nd.pts;
        H.next = (int *)take(nd.pts * 4);
        H.ms = (int *)take(nd.pts * 4);
        H.me = (int *)take(nd.pts * 4);
        H.mstamp = (unsigned *)take(nd.pts * 4);
        H.F = (Face *)take(nd.faces * (long long)sizeof(Face));
        H.cap_f = (int)nd.faces;
        H.vis = (int *)take(nd.faces * 4);
        H.hor = (int *)take(nd.faces * 4);
        H.stack = (int *)take(nd.faces * 4);
        H.cap_list = (int)nd.faces;
        H.mark = 0;
        H.nf = 0;
        Plane *planes = (Plane *)take(nd.faces * (long long)sizeof(Plane));
        long long *lohi = (long long *)take(nd.lohi * 8);
        long long *extra = (long long *)take(nd.extra * 8);
        int s[4];
        if (!voxel_candidates(R, r, H, true)) {
            R.fail[r] = RP_FAIL_CAPACITY;
            continue;
        }
        if (initial_simplex(H.p, H.np, s) == QH_FLAT) {
            /* the convex image is empty: solidity is area / 0, +inf, as on the CPU */
            put_i64(R, S_AREA_CONVEX, r, 0);
            put_f64(R, S_SOLIDITY, r, __longlong_as_double(0x7ff0000000000000LL));
            if (feret)
                R.fail[r] = RP_FAIL_FLAT_FERET;
            continue;
        }
        if (!voxel_candidates(R, r, H, false)) {
            R.fail[r] = RP_FAIL_CAPACITY;
            continue;
        }
        int res = quickhull(H);
        if (res) {
            R.fail[r] = res == QH_NOMEM ? RP_FAIL_CAPACITY : RP_FAIL_INTERNAL;
            continue;
        }
        const long long np = hull_planes(H, planes);
        const long long count = convex_lines_3d(planes, np, dz, hy, wx, lohi);
        put_i64(R, S_AREA_CONVEX, r, count);
        put_f64(R, S_SOLIDITY, r, (double)R.reg_area[r] / (double)count);
        if (!feret)
            continue;
        if (!convex_image_midpoints(lohi, dz, hy, wx, extra, extra + 2 * wx, H)) {
            R.fail[r] = RP_FAIL_CAPACITY;
            continue;
        }
        if ((res = quickhull(H))) {
            R.fail[r] = res == QH_NOMEM ? RP_FAIL_CAPACITY : RP_FAIL_INTERNAL;
            continue;
        }
        put_f64(R, S_FERET, r, hull_diameter(H));
    }
}

__global__ void k_count_fail(const int *fail, int64_t n, int what, unsigned long long *count)
{
    RP_LOOP(r, n) if (fail[r] == what) atomicAdd(count, 1ull);
}

/* Hulls of regions [r0, r1) whose flag is `redo`, in batches whose scratch stays under `limit` bytes. */
tp_status hull3_pass(rp_call &C, int factor, bool feret, int redo, long long limit)
{
    rp_dev &R = C.R;
    long long *dbytes;
    tp_status st;
    if ((st = C.mem.get(&dbytes, R.nreg)))
        return st;
    k_hull3_sizes<<<rp_grid(R.nreg, 256), 256, 0, C.s>>>(R, factor, feret, dbytes);
    TP_CUDA_LAUNCHED(C.ctx);
    std::vector<long long> bytes((size_t)R.nreg);
    std::vector<int> fail((size_t)R.nreg);
    if ((st = rp_fetch(C, bytes.data(), dbytes, bytes.size())) || (st = rp_fetch(C, fail.data(), R.fail, fail.size())))
        return st;
    int64_t r0 = 0;
    while (r0 < R.nreg) {
        /* a batch: consecutive regions whose scratch fits (at least one region) */
        std::vector<long long> off;
        long long total = 0;
        int64_t r1 = r0;
        while (r1 < R.nreg) {
            const long long b = fail[(size_t)r1] == redo ? bytes[(size_t)r1] : 0;
            if (r1 > r0 && total + b > limit)
                break;
            off.push_back(total);
            total += (b + 255) & ~255LL;
            r1++;
        }
        rp_arena batch; /* freed at the end of the batch */
        batch.ctx = C.ctx;
        long long *doff;
        char *base;
        if ((st = batch.get(&doff, (int64_t)off.size())) || (st = batch.get(&base, total)))
            return st;
        TP_CUDA_CHECK(C.ctx, cudaMemcpyAsync(doff, off.data(), sizeof(long long) * off.size(), cudaMemcpyHostToDevice, C.s));
        k_hull3<<<rp_grid(r1 - r0, 32), 32, 0, C.s>>>(R, r0, r1, doff, base, factor, feret, redo);
        TP_CUDA_LAUNCHED(C.ctx);
        TP_CUDA_CHECK(C.ctx, cudaStreamSynchronize(C.s));
        r0 = r1;
    }
    return TP_OK;
}

} // namespace

tp_status rp_cuda_hull3(rp_call &C)
{
    const bool feret = (C.needs & RP_NEED_FERET) != 0;
    const long long limit = (long long)1 << 30;
    tp_status st = hull3_pass(C, 6, feret, RP_FAIL_NONE, limit);
    /* regions whose faces outgrew their scratch: again with more */
    for (int factor = 24; !st && factor <= 6 * 1024; factor *= 4) {
        unsigned long long *cnt, n = 0;
        if ((st = C.mem.get(&cnt, 1)))
            return st;
        TP_CUDA_CHECK(C.ctx, cudaMemsetAsync(cnt, 0, sizeof *cnt, C.s));
        k_count_fail<<<rp_grid(C.R.nreg, 256), 256, 0, C.s>>>(C.R.fail, C.R.nreg, RP_FAIL_CAPACITY, cnt);
        TP_CUDA_LAUNCHED(C.ctx);
        if ((st = rp_fetch(C, &n, cnt, 1)) || n == 0)
            return st;
        st = hull3_pass(C, factor, feret, RP_FAIL_CAPACITY, limit);
    }
    return st;
}

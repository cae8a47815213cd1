/* regionprops_table on the device: the exact 3D quickhull of cpu_ref/regionprops_hull.c, for one thread.
 * Points are doubled integer coordinates; every predicate is exact (64-bit products of coordinates below
 * 2^20, 128-bit where sums of them need it). Used by regionprops_hull3.cu, which feeds it candidates already
 * thinned slice by slice and counts the convex image in parallel. */
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

} // namespace

#endif

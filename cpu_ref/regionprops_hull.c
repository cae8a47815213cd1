/* regionprops_table: the convex image (area_convex, solidity) and feret_diameter_max, in exact integer
 * arithmetic.
 *
 * scikit-image's convex image is the hull of every pixel's 2*ndim face centres (pixel +- 0.5 along one
 * axis); a pixel belongs to it when its centre is inside or on the hull (2D: measure.points_in_poly,
 * which reports edges and vertices as inside; 3D: every facet inequality within 1e-10, which with
 * half-integer vertices only admits points on or inside the facets). Coordinates are doubled here, so
 * every hull vertex and every pixel centre is an integer point and every test is exact.
 *
 * feret_diameter_max is the largest distance between the marching-squares (2D) or marching-cubes (3D)
 * vertices of the convex image at level 0.5, which for a binary image are the midpoints between each
 * foreground pixel and its background neighbours along the axes. The farthest pair lies on their hull,
 * and its squared distance is a multiple of 1/4, exact in double as scikit-image's pdist computes it. */
#include "cpu_ref/regionprops_props.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef __int128 i128;

static int64_t floor_div(i128 a, i128 b) /* b > 0 */
{
    if (a >= INT64_MIN && a <= INT64_MAX && b <= INT64_MAX) { /* the usual case: no 128-bit division */
        int64_t x = (int64_t)a, y = (int64_t)b, q = x / y;
        return q - (x % y != 0 && x < 0);
    }
    i128 q = a / b;
    if (a % b != 0 && a < 0)
        q--;
    return (int64_t)q;
}
static int64_t ceil_div(i128 a, i128 b) /* b > 0 */ { return -floor_div(-a, b); }

/* ======================================================================================================
 * 2D. Points are (X, Y) = (2 * row, 2 * column) in the region's bounding box.
 * ==================================================================================================== */
typedef struct pt2 {
    int64_t x, y;
} pt2;

static i128 cross2(pt2 o, pt2 a, pt2 b)
{
    return (i128)(a.x - o.x) * (b.y - o.y) - (i128)(a.y - o.y) * (b.x - o.x);
}

/* Andrew's monotone chain over points of strictly increasing X: the lower chain (least Y) keeps left
 * turns, the upper chain right turns; collinear points are dropped. Returns the chain length. */
static int64_t chain(const pt2 *p, int64_t n, bool lower, pt2 *out)
{
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        while (k >= 2) {
            i128 c = cross2(out[k - 2], out[k - 1], p[i]);
            if (lower ? c > 0 : c < 0)
                break;
            k--;
        }
        out[k++] = p[i];
    }
    return k;
}

/* Y of a chain at X as the fraction num / den (den > 0); *j walks forward as X grows. */
static void chain_at(const pt2 *c, int64_t n, int64_t *j, int64_t X, i128 *num, i128 *den)
{
    while (*j + 1 < n - 1 && c[*j + 1].x <= X)
        (*j)++;
    pt2 a = c[*j], b = c[*j + 1];
    *den = (i128)(b.x - a.x);
    *num = (i128)a.y * *den + (i128)(b.y - a.y) * (X - a.x);
}

/* Per X in [-1, 2h - 1] the least and greatest Y of the candidates (ylo > yhi when none), packed into the
 * two chains' inputs; returns the number of X that have candidates. */
static int64_t pack_columns(const int64_t *ylo, const int64_t *yhi, int64_t h, pt2 *lo_pts, pt2 *hi_pts)
{
    int64_t n = 0;
    for (int64_t k = 0; k <= 2 * h; k++)
        if (ylo[k] <= yhi[k]) {
            lo_pts[n] = (pt2){k - 1, ylo[k]};
            hi_pts[n] = (pt2){k - 1, yhi[k]};
            n++;
        }
    return n;
}

typedef struct hull2_bufs {
    int64_t *L, *R;     /* first and last column of each row, L > R when the row is empty */
    int64_t *clo, *chi; /* the convex image's columns per row */
    int64_t *ylo, *yhi; /* per X (index X + 1) */
    pt2 *plo, *phi, *clow, *cup;
} hull2_bufs;

static bool hull2_reserve(rp_work *w, int64_t h, hull2_bufs *b)
{
    size_t nx = (size_t)(2 * h + 1);
    if (!rp_buf_reserve(&w->rows, (size_t)h * 4 * sizeof(int64_t) + nx * 2 * sizeof(int64_t)) ||
        !rp_buf_reserve(&w->chain, nx * 4 * sizeof(pt2)))
        return false;
    int64_t *r = w->rows.p;
    b->L = r;
    b->R = r + h;
    b->clo = r + 2 * h;
    b->chi = r + 3 * h;
    b->ylo = r + 4 * h;
    b->yhi = b->ylo + nx;
    pt2 *c = w->chain.p;
    b->plo = c;
    b->phi = c + nx;
    b->clow = c + 2 * nx;
    b->cup = c + 3 * nx;
    return true;
}

/* area_convex in 2D; fills clo/chi with the convex image's rows. */
static int64_t convex_2d(const rp_region *r, const rp_run *runs, int64_t h, hull2_bufs *b)
{
    for (int64_t m = 0; m < h; m++) {
        b->L[m] = INT64_MAX;
        b->R[m] = INT64_MIN;
    }
    for (int64_t i = 0; i < r->nruns; i++) {
        const rp_run *q = &runs[r->first + i];
        int64_t m = q->line - r->lo[1], x0 = q->x0 - r->lo[2], x1 = x0 + q->len - 1;
        b->L[m] = x0 < b->L[m] ? x0 : b->L[m];
        b->R[m] = x1 > b->R[m] ? x1 : b->R[m];
    }
    /* candidates: each row's first and last pixel, each with its four edge centres */
    for (int64_t k = 0; k <= 2 * h; k++) {
        b->ylo[k] = INT64_MAX;
        b->yhi[k] = INT64_MIN;
    }
    for (int64_t m = 0; m < h; m++) {
        if (b->L[m] > b->R[m])
            continue;
        int64_t l = 2 * b->L[m], rr = 2 * b->R[m];
        int64_t ks[3] = {2 * m, 2 * m + 1, 2 * m + 2}; /* X = 2m - 1, 2m, 2m + 1 */
        for (int t = 0; t < 3; t++) {
            int64_t lo = t == 1 ? l - 1 : l, hi = t == 1 ? rr + 1 : rr;
            b->ylo[ks[t]] = lo < b->ylo[ks[t]] ? lo : b->ylo[ks[t]];
            b->yhi[ks[t]] = hi > b->yhi[ks[t]] ? hi : b->yhi[ks[t]];
        }
    }
    int64_t n = pack_columns(b->ylo, b->yhi, h, b->plo, b->phi);
    int64_t nl = chain(b->plo, n, true, b->clow), nu = chain(b->phi, n, false, b->cup);
    int64_t count = 0, jl = 0, ju = 0;
    for (int64_t m = 0; m < h; m++) {
        i128 num, den;
        chain_at(b->clow, nl, &jl, 2 * m, &num, &den);
        int64_t lo = ceil_div(num, 2 * den);
        chain_at(b->cup, nu, &ju, 2 * m, &num, &den);
        int64_t hi = floor_div(num, 2 * den);
        b->clo[m] = lo;
        b->chi[m] = hi;
        if (hi >= lo)
            count += hi - lo + 1;
    }
    return count;
}

/* Update [lo, hi] with the part of [a1, b1] outside [a2, b2]. */
static void add_difference(int64_t a1, int64_t b1, int64_t a2, int64_t b2, int64_t *lo, int64_t *hi)
{
    if (a1 > b1)
        return;
    int64_t parts[2][2] = {{a1, a2 <= b2 ? (b1 < a2 - 1 ? b1 : a2 - 1) : b1},
                           {a2 <= b2 ? (a1 > b2 + 1 ? a1 : b2 + 1) : a1, b1}};
    for (int k = 0; k < (a2 <= b2 ? 2 : 1); k++)
        if (parts[k][0] <= parts[k][1]) {
            *lo = parts[k][0] < *lo ? parts[k][0] : *lo;
            *hi = parts[k][1] > *hi ? parts[k][1] : *hi;
        }
}

static i128 max_dist2_2d(const pt2 *a, int64_t na, const pt2 *b, int64_t nb)
{
    i128 best = 0;
    for (int64_t i = 0; i < na; i++)
        for (int64_t j = 0; j < nb; j++) {
            i128 dx = a[i].x - b[j].x, dy = a[i].y - b[j].y, d = dx * dx + dy * dy;
            best = d > best ? d : best;
        }
    return best;
}

/* feret_diameter_max in 2D from the convex image's rows. */
static double feret_2d(int64_t h, hull2_bufs *b)
{
    for (int64_t k = 0; k <= 2 * h; k++) {
        b->ylo[k] = INT64_MAX;
        b->yhi[k] = INT64_MIN;
    }
    for (int64_t m = 0; m < h; m++)
        if (b->clo[m] <= b->chi[m]) { /* X = 2m: the midpoints left and right of the row */
            b->ylo[2 * m + 1] = 2 * b->clo[m] - 1;
            b->yhi[2 * m + 1] = 2 * b->chi[m] + 1;
        }
    for (int64_t m = -1; m < h; m++) { /* X = 2m + 1: midpoints between rows m and m + 1 */
        int64_t a1 = m >= 0 ? b->clo[m] : 1, b1 = m >= 0 ? b->chi[m] : 0;
        int64_t a2 = m + 1 < h ? b->clo[m + 1] : 1, b2 = m + 1 < h ? b->chi[m + 1] : 0;
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        add_difference(a1, b1, a2, b2, &lo, &hi);
        add_difference(a2, b2, a1, b1, &lo, &hi);
        if (lo <= hi) {
            b->ylo[2 * m + 2] = 2 * lo;
            b->yhi[2 * m + 2] = 2 * hi;
        }
    }
    int64_t n = pack_columns(b->ylo, b->yhi, h, b->plo, b->phi);
    int64_t nl = chain(b->plo, n, true, b->clow), nu = chain(b->phi, n, false, b->cup);
    i128 d2 = max_dist2_2d(b->clow, nl, b->cup, nu);
    i128 d2l = max_dist2_2d(b->clow, nl, b->clow, nl), d2u = max_dist2_2d(b->cup, nu, b->cup, nu);
    d2 = d2l > d2 ? d2l : d2;
    d2 = d2u > d2 ? d2u : d2;
    return sqrt((double)d2 * 0.25);
}

/* ======================================================================================================
 * 3D: quickhull on integer points (doubled local coordinates (z, y, x)) with exact predicates. A point
 * sees a facet only when strictly above it, so coplanar points never create facets; coplanar neighbouring
 * triangles may remain, which changes nothing for inside-or-on tests.
 * ==================================================================================================== */
typedef struct qh_face {
    int32_t v[3];  /* counter-clockwise seen from outside */
    int32_t nb[3]; /* neighbour across edge v[i] -> v[i + 1] */
    int64_t n[3], d; /* outside: n . p > d */
    int32_t outside, far;
    int64_t fardist;
    uint32_t mark;
    bool alive;
} qh_face;

typedef struct rp_hull3 {
    rp_buf pts, next, faces, stack, vis, horizon, map_start, map_end, map_stamp;
    int64_t (*p)[3];
    int32_t np, nf;
    uint32_t mark;
} rp_hull3;

void rp_hull3_free(rp_hull3 *H)
{
    if (!H)
        return;
    rp_buf *bufs[] = {&H->pts, &H->next, &H->faces, &H->stack, &H->vis, &H->horizon, &H->map_start, &H->map_end,
                      &H->map_stamp};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        rp_buf_free(bufs[i]);
    free(H);
}

typedef enum { QH_OK = 0, QH_FLAT, QH_NOMEM, QH_INTERNAL } qh_result;

static int64_t dist3(const qh_face *f, const int64_t *p)
{
    return f->n[0] * p[0] + f->n[1] * p[1] + f->n[2] * p[2] - f->d;
}

static void set_plane(qh_face *f, int64_t (*P)[3])
{
    const int64_t *a = P[f->v[0]], *b = P[f->v[1]], *c = P[f->v[2]];
    int64_t u[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]}, w[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
    f->n[0] = u[1] * w[2] - u[2] * w[1];
    f->n[1] = u[2] * w[0] - u[0] * w[2];
    f->n[2] = u[0] * w[1] - u[1] * w[0];
    f->d = f->n[0] * a[0] + f->n[1] * a[1] + f->n[2] * a[2];
}

static qh_face *faces_of(rp_hull3 *H) { return H->faces.p; }

static int32_t new_face(rp_hull3 *H, int32_t a, int32_t b, int32_t c)
{
    if (!rp_buf_reserve(&H->faces, (size_t)(H->nf + 1) * sizeof(qh_face)))
        return -1;
    qh_face *f = faces_of(H) + H->nf;
    memset(f, 0, sizeof *f);
    f->v[0] = a;
    f->v[1] = b;
    f->v[2] = c;
    f->nb[0] = f->nb[1] = f->nb[2] = -1;
    f->outside = f->far = -1;
    f->alive = true;
    set_plane(f, H->p);
    return H->nf++;
}

static void add_outside(rp_hull3 *H, int32_t fi, int32_t q, int64_t dist)
{
    qh_face *f = faces_of(H) + fi;
    int32_t *next = H->next.p;
    next[q] = f->outside;
    f->outside = q;
    if (f->far < 0 || dist > f->fardist) {
        f->far = q;
        f->fardist = dist;
    }
}

/* Put q on the first of faces[0..n) it is strictly above; false when it is above none. */
static bool assign_point(rp_hull3 *H, const int32_t *faces, int32_t n, int32_t q)
{
    for (int32_t i = 0; i < n; i++) {
        int64_t d = dist3(faces_of(H) + faces[i], H->p[q]);
        if (d > 0) {
            add_outside(H, faces[i], q, d);
            return true;
        }
    }
    return false;
}

static int cmp_pt3(const int64_t *a, const int64_t *b)
{
    for (int k = 0; k < 3; k++)
        if (a[k] != b[k])
            return a[k] < b[k] ? -1 : 1;
    return 0;
}

/* Four points spanning a tetrahedron (lexicographic extremes, farthest from their line, farthest from
 * that plane); QH_FLAT when the points lie in a plane. */
static qh_result initial_simplex(const int64_t (*P)[3], int32_t n, int32_t s[4])
{
    if (n < 4)
        return QH_FLAT;
    int32_t i0 = 0, i1 = 0;
    for (int32_t i = 1; i < n; i++) {
        if (cmp_pt3(P[i], P[i0]) < 0)
            i0 = i;
        if (cmp_pt3(P[i], P[i1]) > 0)
            i1 = i;
    }
    if (i0 == i1 || cmp_pt3(P[i0], P[i1]) == 0)
        return QH_FLAT;
    int64_t u[3] = {P[i1][0] - P[i0][0], P[i1][1] - P[i0][1], P[i1][2] - P[i0][2]};
    int32_t i2 = -1;
    i128 best = 0;
    for (int32_t i = 0; i < n; i++) {
        int64_t w[3] = {P[i][0] - P[i0][0], P[i][1] - P[i0][1], P[i][2] - P[i0][2]};
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
    qh_face tmp = {.v = {i0, i1, i2}};
    set_plane(&tmp, (int64_t(*)[3])P);
    int32_t i3 = -1;
    int64_t bd = 0;
    for (int32_t i = 0; i < n; i++) {
        int64_t d = dist3(&tmp, P[i]);
        d = d < 0 ? -d : d;
        if (d > bd) {
            bd = d;
            i3 = i;
        }
    }
    if (i3 < 0)
        return QH_FLAT;
    if (dist3(&tmp, P[i3]) > 0) { /* the apex must lie below the base */
        int32_t t = i1;
        i1 = i2;
        i2 = t;
    }
    s[0] = i0;
    s[1] = i1;
    s[2] = i2;
    s[3] = i3;
    return QH_OK;
}

static void link_pair(qh_face *F, int32_t fa, int32_t fb)
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            if (F[fa].v[i] == F[fb].v[(j + 1) % 3] && F[fa].v[(i + 1) % 3] == F[fb].v[j]) {
                F[fa].nb[i] = fb;
                F[fb].nb[j] = fa;
            }
}

static bool push_i32(rp_buf *b, int32_t *n, int32_t v)
{
    if (!rp_buf_reserve(b, (size_t)(*n + 1) * sizeof(int32_t)))
        return false;
    ((int32_t *)b->p)[(*n)++] = v;
    return true;
}

/* One quickhull step: add the farthest outside point of face fi. */
static qh_result add_point(rp_hull3 *H, int32_t fi, int32_t *nstack)
{
    int32_t p = faces_of(H)[fi].far, nvis = 0, nhor = 0;
    uint32_t seen = ++H->mark, hidden = ++H->mark;
    faces_of(H)[fi].mark = seen;
    if (!push_i32(&H->vis, &nvis, fi))
        return QH_NOMEM;
    for (int32_t k = 0; k < nvis; k++) { /* the visible faces, grown across edges */
        int32_t g = ((int32_t *)H->vis.p)[k];
        for (int e = 0; e < 3; e++) {
            int32_t h = faces_of(H)[g].nb[e];
            qh_face *fh = faces_of(H) + h;
            if (fh->mark == seen || fh->mark == hidden)
                continue;
            if (dist3(fh, H->p[p]) > 0) {
                fh->mark = seen;
                if (!push_i32(&H->vis, &nvis, h))
                    return QH_NOMEM;
            } else {
                fh->mark = hidden;
            }
        }
    }
    int32_t *ms = H->map_start.p, *me = H->map_end.p;
    uint32_t *mstamp = H->map_stamp.p;
    for (int32_t k = 0; k < nvis; k++) { /* horizon edges become faces with the new point */
        int32_t g = ((int32_t *)H->vis.p)[k];
        for (int e = 0; e < 3; e++) {
            int32_t h = faces_of(H)[g].nb[e];
            if (faces_of(H)[h].mark == seen)
                continue;
            int32_t a = faces_of(H)[g].v[e], b = faces_of(H)[g].v[(e + 1) % 3];
            int32_t nf = new_face(H, a, b, p);
            if (nf < 0 || !push_i32(&H->horizon, &nhor, nf))
                return QH_NOMEM;
            qh_face *F = faces_of(H);
            F[nf].nb[0] = h;
            for (int j = 0; j < 3; j++)
                if (F[h].nb[j] == g)
                    F[h].nb[j] = nf;
            if (mstamp[a] == seen)
                return QH_INTERNAL; /* the horizon is not a simple cycle */
            mstamp[a] = seen;
            ms[a] = nf;
            me[b] = nf;
        }
    }
    qh_face *F = faces_of(H);
    const int32_t *hor = H->horizon.p;
    for (int32_t k = 0; k < nhor; k++) {
        qh_face *f = &F[hor[k]];
        if (mstamp[f->v[1]] != seen || mstamp[f->v[0]] != seen)
            return QH_INTERNAL;
        f->nb[1] = ms[f->v[1]];
        f->nb[2] = me[f->v[0]];
    }
    int32_t *next = H->next.p;
    for (int32_t k = 0; k < nvis; k++) {
        qh_face *g = &F[((int32_t *)H->vis.p)[k]];
        g->alive = false;
        for (int32_t q = g->outside, nq; q >= 0; q = nq) {
            nq = next[q];
            if (q != p)
                assign_point(H, hor, nhor, q);
        }
        g->outside = -1;
    }
    for (int32_t k = 0; k < nhor; k++)
        if (F[hor[k]].outside >= 0 && !push_i32(&H->stack, nstack, hor[k]))
            return QH_NOMEM;
    return QH_OK;
}

/* The hull of H->p[0..np); alive faces in H->faces[0..nf). */
static qh_result quickhull(rp_hull3 *H)
{
    int32_t s[4];
    H->nf = 0;
    qh_result res = initial_simplex((const int64_t(*)[3])H->p, H->np, s);
    if (res)
        return res;
    size_t n = (size_t)H->np;
    if (!rp_buf_reserve(&H->next, n * sizeof(int32_t)) || !rp_buf_reserve(&H->map_start, n * sizeof(int32_t)) ||
        !rp_buf_reserve(&H->map_end, n * sizeof(int32_t)) || !rp_buf_reserve(&H->map_stamp, n * sizeof(uint32_t)))
        return QH_NOMEM;
    memset(H->map_stamp.p, 0, n * sizeof(uint32_t));
    H->mark = 0;
    int32_t f[4] = {new_face(H, s[0], s[1], s[2]), new_face(H, s[1], s[0], s[3]), new_face(H, s[2], s[1], s[3]),
                    new_face(H, s[0], s[2], s[3])};
    if (f[0] < 0 || f[1] < 0 || f[2] < 0 || f[3] < 0)
        return QH_NOMEM;
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            link_pair(faces_of(H), f[i], f[j]);
    for (int i = 0; i < 4; i++) { /* the vertex off each face lies strictly inside */
        const qh_face *F = faces_of(H) + f[i];
        for (int k = 0; k < 4; k++)
            if (s[k] != F->v[0] && s[k] != F->v[1] && s[k] != F->v[2] && dist3(F, H->p[s[k]]) >= 0)
                return QH_INTERNAL;
    }
    for (int32_t q = 0; q < H->np; q++)
        if (q != s[0] && q != s[1] && q != s[2] && q != s[3])
            assign_point(H, f, 4, q);
    int32_t nstack = 0;
    for (int i = 0; i < 4; i++)
        if (faces_of(H)[f[i]].outside >= 0 && !push_i32(&H->stack, &nstack, f[i]))
            return QH_NOMEM;
    while (nstack > 0) {
        int32_t fi = ((int32_t *)H->stack.p)[--nstack];
        qh_face *F = faces_of(H) + fi;
        if (!F->alive || F->outside < 0)
            continue;
        if ((res = add_point(H, fi, &nstack)))
            return res;
    }
    return QH_OK;
}

static rp_hull3 *hull_of(rp_work *w)
{
    if (!w->hull)
        w->hull = calloc(1, sizeof *w->hull);
    return w->hull;
}

static bool add_pt3(rp_hull3 *H, int64_t z, int64_t y, int64_t x)
{
    if (H->np == INT32_MAX || !rp_buf_reserve(&H->pts, (size_t)(H->np + 1) * sizeof(int64_t[3])))
        return false;
    H->p = H->pts.p;
    H->p[H->np][0] = z;
    H->p[H->np][1] = y;
    H->p[H->np][2] = x;
    H->np++;
    return true;
}

static int64_t gcd64(int64_t a, int64_t b)
{
    a = a < 0 ? -a : a;
    b = b < 0 ? -b : b;
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

typedef struct plane3 {
    int64_t n[3], d;
} plane3;

static int cmp_plane(const void *a, const void *b)
{
    const plane3 *p = a, *q = b;
    for (int k = 0; k < 3; k++)
        if (p->n[k] != q->n[k])
            return p->n[k] < q->n[k] ? -1 : 1;
    return (p->d > q->d) - (p->d < q->d);
}

/* The distinct facet planes of the hull, each reduced by the gcd of its normal, into out. */
static int64_t hull_planes(rp_hull3 *H, rp_buf *out)
{
    int64_t n = 0;
    if (!rp_buf_reserve(out, (size_t)H->nf * sizeof(plane3)))
        return -1;
    plane3 *P = out->p;
    const qh_face *F = faces_of(H);
    for (int32_t i = 0; i < H->nf; i++) {
        if (!F[i].alive)
            continue;
        int64_t g = gcd64(gcd64(F[i].n[0], F[i].n[1]), F[i].n[2]);
        P[n++] = (plane3){{F[i].n[0] / g, F[i].n[1] / g, F[i].n[2] / g}, F[i].d / g};
    }
    qsort(P, (size_t)n, sizeof *P, cmp_plane);
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (k == 0 || cmp_plane(&P[i], &P[k - 1]) != 0)
            P[k++] = P[i];
    return k;
}

/* Voxel ranges of the convex image along x for every (z, y) line of the box: lohi[2 * line + 0/1]. */
static int64_t convex_lines_3d(const plane3 *P, int64_t np, int64_t dz, int64_t hy, int64_t wx, int64_t *lohi)
{
    int64_t count = 0;
    for (int64_t z = 0; z < dz; z++)
        for (int64_t y = 0; y < hy; y++) {
            int64_t lo = 0, hi = wx - 1;
            for (int64_t k = 0; k < np && lo <= hi; k++) {
                /* n . (2z, 2y, 2x) <= d  <=>  2 nx x <= d - 2 nz z - 2 ny y */
                i128 K = (i128)P[k].d - 2 * ((i128)P[k].n[0] * z + (i128)P[k].n[1] * y);
                int64_t nx = P[k].n[2];
                if (nx > 0) {
                    int64_t b = floor_div(K, 2 * (i128)nx);
                    hi = b < hi ? b : hi;
                } else if (nx < 0) {
                    int64_t b = ceil_div(-K, -2 * (i128)nx);
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

static tp_status hull_fail(rp_fail *f, qh_result res, const rp_region *r)
{
    if (res == QH_NOMEM) {
        f->code = TP_ERR_NOMEM;
        snprintf(f->msg, sizeof f->msg, "out of host memory (3D convex hull of label %lld)", (long long)r->label);
    } else {
        f->code = TP_ERR_INTERNAL;
        snprintf(f->msg, sizeof f->msg, "regionprops_table: 3D convex hull of label %lld: inconsistent hull",
                 (long long)r->label);
    }
    return f->code;
}

/* Candidates of the 3D hull: the first and last voxel of each x line, with their face centres. */
static bool voxel_candidates(const rp_geom *g, const rp_region *r, const rp_run *runs, rp_hull3 *H, bool centres)
{
    H->np = 0;
    for (int64_t i = 0; i < r->nruns; i++) {
        const rp_run *q = &runs[r->first + i];
        bool first = i == 0 || runs[r->first + i - 1].line != q->line;
        bool last = i + 1 == r->nruns || runs[r->first + i + 1].line != q->line;
        int64_t z = 2 * (q->line / g->H - r->lo[0]), y = 2 * (q->line % g->H - r->lo[1]);
        int64_t x0 = 2 * (q->x0 - r->lo[2]), x1 = x0 + 2 * (q->len - 1);
        for (int e = 0; e < 2; e++) {
            if (!(e == 0 ? first : last))
                continue;
            int64_t x = e == 0 ? x0 : x1;
            if (centres) {
                if (!add_pt3(H, z, y, x))
                    return false;
                continue;
            }
            int64_t off[6][3] = {{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, e == 0 ? -1 : 1}, {0, 0, 0}};
            for (int k = 0; k < 5; k++)
                if (!add_pt3(H, z + off[k][0], y + off[k][1], x + off[k][2]))
                    return false;
        }
    }
    return true;
}

/* Midpoints around the convex image (given as x ranges per line), as hull candidates. */
static bool convex_image_midpoints(const int64_t *lohi, int64_t dz, int64_t hy, int64_t wx, rp_buf *extra,
                                   rp_hull3 *H)
{
    size_t cells = (size_t)(2 * wx + 2 * hy * wx);
    if (!rp_buf_reserve(extra, cells * sizeof(int64_t)))
        return false;
    int64_t *ymm = extra->p, *zmm = ymm + 2 * wx; /* per x: y range in this plane; per (y, x): z range */
    for (int64_t k = 0; k < hy * wx; k++) {
        zmm[2 * k] = INT64_MAX;
        zmm[2 * k + 1] = INT64_MIN;
    }
    H->np = 0;
    for (int64_t z = 0; z < dz; z++) {
        for (int64_t x = 0; x < wx; x++) {
            ymm[2 * x] = INT64_MAX;
            ymm[2 * x + 1] = INT64_MIN;
        }
        for (int64_t y = 0; y < hy; y++) {
            int64_t lo = lohi[2 * (z * hy + y)], hi = lohi[2 * (z * hy + y) + 1];
            if (lo > hi)
                continue;
            if (!add_pt3(H, 2 * z, 2 * y, 2 * lo - 1) || !add_pt3(H, 2 * z, 2 * y, 2 * hi + 1))
                return false;
            for (int64_t x = lo; x <= hi; x++) {
                int64_t *Y = &ymm[2 * x], *Z = &zmm[2 * (y * wx + x)];
                Y[0] = y < Y[0] ? y : Y[0];
                Y[1] = y > Y[1] ? y : Y[1];
                Z[0] = z < Z[0] ? z : Z[0];
                Z[1] = z > Z[1] ? z : Z[1];
            }
        }
        for (int64_t x = 0; x < wx; x++)
            if (ymm[2 * x] <= ymm[2 * x + 1] && (!add_pt3(H, 2 * z, 2 * ymm[2 * x] - 1, 2 * x) ||
                                                 !add_pt3(H, 2 * z, 2 * ymm[2 * x + 1] + 1, 2 * x)))
                return false;
    }
    for (int64_t y = 0; y < hy; y++)
        for (int64_t x = 0; x < wx; x++) {
            const int64_t *Z = &zmm[2 * (y * wx + x)];
            if (Z[0] <= Z[1] && (!add_pt3(H, 2 * Z[0] - 1, 2 * y, 2 * x) || !add_pt3(H, 2 * Z[1] + 1, 2 * y, 2 * x)))
                return false;
        }
    return true;
}

static double hull_diameter(rp_hull3 *H)
{
    /* the hull's vertices, each once */
    uint32_t *stamp = H->map_stamp.p;
    int32_t *vert = H->map_start.p, nv = 0;
    uint32_t mark = ++H->mark;
    const qh_face *F = faces_of(H);
    for (int32_t i = 0; i < H->nf; i++)
        for (int k = 0; F[i].alive && k < 3; k++)
            if (stamp[F[i].v[k]] != mark) {
                stamp[F[i].v[k]] = mark;
                vert[nv++] = F[i].v[k];
            }
    i128 best = 0;
    for (int32_t i = 0; i < nv; i++)
        for (int32_t j = i + 1; j < nv; j++) {
            const int64_t *a = H->p[vert[i]], *b = H->p[vert[j]];
            i128 d = 0;
            for (int k = 0; k < 3; k++)
                d += (i128)(a[k] - b[k]) * (a[k] - b[k]);
            best = d > best ? d : best;
        }
    return sqrt((double)best * 0.25);
}

static tp_status hull_props_3d(const rp_geom *g, const rp_region *r, const rp_run *runs, unsigned needs,
                               rp_work *w, rp_values *v, rp_fail *f)
{
    int64_t dz = r->hi[0] - r->lo[0] + 1, hy = r->hi[1] - r->lo[1] + 1, wx = r->hi[2] - r->lo[2] + 1;
    /* doubled coordinates below 2^19 keep every plane evaluation inside int64 */
    if (dz >= (1 << 18) || hy >= (1 << 18) || wx >= (1 << 18)) {
        f->code = TP_ERR_UNSUPPORTED;
        snprintf(f->msg, sizeof f->msg,
                 "regionprops_table: 3D convex hull of label %lld: bounding box extents must be < 262144",
                 (long long)r->label);
        return f->code;
    }
    rp_hull3 *H = hull_of(w);
    if (!H)
        return hull_fail(f, QH_NOMEM, r);
    /* scikit-image first takes the hull of the voxel centres; Qhull fails on a flat set and the convex
     * image is then empty */
    if (!voxel_candidates(g, r, runs, H, true))
        return hull_fail(f, QH_NOMEM, r);
    int32_t s[4];
    if (initial_simplex((const int64_t(*)[3])H->p, H->np, s) == QH_FLAT) {
        v->area_convex = 0;
        if (needs & RP_NEED_FERET) {
            f->code = TP_ERR_ARG;
            snprintf(f->msg, sizeof f->msg,
                     "regionprops_table: feret_diameter_max: label %lld is flat (its voxels lie in one plane), "
                     "so its 3D convex image is empty and scikit-image's marching_cubes raises",
                     (long long)r->label);
            return f->code;
        }
        return TP_OK;
    }
    qh_result res;
    if (!voxel_candidates(g, r, runs, H, false))
        return hull_fail(f, QH_NOMEM, r);
    if ((res = quickhull(H)))
        return hull_fail(f, res, r);
    int64_t np = hull_planes(H, &w->chain);
    if (np < 0 || !rp_buf_reserve(&w->rows, (size_t)(2 * dz * hy) * sizeof(int64_t)))
        return hull_fail(f, QH_NOMEM, r);
    int64_t *lohi = w->rows.p;
    v->area_convex = convex_lines_3d(w->chain.p, np, dz, hy, wx, lohi);
    if (!(needs & RP_NEED_FERET))
        return TP_OK;
    if (!convex_image_midpoints(lohi, dz, hy, wx, &w->extra, H))
        return hull_fail(f, QH_NOMEM, r);
    if ((res = quickhull(H)))
        return hull_fail(f, res, r);
    v->feret = hull_diameter(H);
    return TP_OK;
}

tp_status rp_hull_props(const rp_geom *g, const rp_region *r, const rp_run *runs, unsigned needs, rp_work *w,
                        rp_values *v, rp_fail *f)
{
    if (!(needs & (RP_NEED_HULL | RP_NEED_FERET)))
        return TP_OK;
    if (g->ndim == 3)
        return hull_props_3d(g, r, runs, needs, w, v, f);
    int64_t h = r->hi[1] - r->lo[1] + 1;
    hull2_bufs b;
    if (!hull2_reserve(w, h, &b)) {
        f->code = TP_ERR_NOMEM;
        snprintf(f->msg, sizeof f->msg, "out of host memory (convex hull of label %lld)", (long long)r->label);
        return f->code;
    }
    v->area_convex = convex_2d(r, runs, h, &b);
    if (needs & RP_NEED_FERET)
        v->feret = feret_2d(h, &b);
    return TP_OK;
}

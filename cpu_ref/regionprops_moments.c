/* regionprops_table: properties from image moments (centroid_local, eccentricity, orientation, axis
 * lengths, moments_hu).
 *
 * scikit-image computes central moments with floating-point dot products (BLAS), so its values carry
 * rounding noise that depends on the BLAS build. Here the raw moments of the local coordinates are exact
 * integer sums (closed-form power sums per run, in 128 bits), and each central moment is an exact rational
 * numerator divided once: the result is within an ulp or two of the true value. Where scikit-image's sums
 * happen to be exact (integer or half-integer centroids), both agree bit for bit, because the expressions
 * after the moments (inertia tensor, LAPACK's 2x2 eigenvalues, atan2, Hu's formulas) follow scikit-image's
 * order of operations. */
#include "cpu_ref/regionprops_props.h"

#include <math.h>
#include <string.h>

typedef __int128 i128;

/* raw[a][b][c] = sum over the region of z^a y^b x^c, local coordinates; only a + b + c <= order is set */
typedef struct raw_moments {
    i128 m[4][4][4];
    int order;
} raw_moments;

/* sum_{x=0}^{n} x^q, q <= 3 */
static i128 power_sum(i128 n, int q)
{
    if (n < 0)
        return 0;
    i128 s1 = n * (n + 1) / 2;
    switch (q) {
    case 0: return n + 1;
    case 1: return s1;
    case 2: return n * (n + 1) * (2 * n + 1) / 6;
    default: return s1 * s1;
    }
}

static void accumulate_raw(const rp_geom *g, const rp_region *r, const rp_run *runs, int order, raw_moments *M)
{
    memset(M, 0, sizeof *M);
    M->order = order;
    int amax = g->ndim == 3 ? order : 0;
    for (int64_t i = 0; i < r->nruns; i++) {
        const rp_run *q = &runs[r->first + i];
        i128 z = q->line / g->H - r->lo[0], y = q->line % g->H - r->lo[1];
        i128 x0 = q->x0 - r->lo[2], x1 = x0 + q->len - 1;
        i128 S[4], zp[4], yp[4];
        for (int k = 0; k <= order; k++) {
            S[k] = power_sum(x1, k) - power_sum(x0 - 1, k);
            zp[k] = k ? zp[k - 1] * z : 1;
            yp[k] = k ? yp[k - 1] * y : 1;
        }
        for (int a = 0; a <= amax; a++)
            for (int b = 0; a + b <= order; b++) {
                i128 zy = zp[a] * yp[b];
                for (int c = 0; a + b + c <= order; c++)
                    M->m[a][b][c] += zy * S[c];
            }
    }
}

/* The exponent triple of a product of axes (0 = z, 1 = y, 2 = x). */
static i128 raw_at(const raw_moments *M, const int *axes, int n)
{
    int e[3] = {0, 0, 0};
    for (int k = 0; k < n; k++)
        e[axes[k]]++;
    return M->m[e[0]][e[1]][e[2]];
}

static bool mul_ok(i128 a, i128 b, i128 *r) { return !__builtin_mul_overflow(a, b, r); }
static bool add_ok(i128 a, i128 b, i128 *r) { return !__builtin_add_overflow(a, b, r); }
static bool sub_ok(i128 a, i128 b, i128 *r) { return !__builtin_sub_overflow(a, b, r); }

/* mu_ij = (n M_ij - S_i S_j) / n */
static bool central2_exact(const raw_moments *M, int i, int j, double *out)
{
    int ai[1] = {i}, aj[1] = {j}, aij[2] = {i, j};
    i128 n = M->m[0][0][0], t1, t2, num;
    if (!mul_ok(n, raw_at(M, aij, 2), &t1) || !mul_ok(raw_at(M, ai, 1), raw_at(M, aj, 1), &t2) ||
        !sub_ok(t1, t2, &num))
        return false;
    *out = (double)num / (double)n;
    return true;
}

/* mu_ijk = (n^2 M_ijk - n (S_i M_jk + S_j M_ik + S_k M_ij) + 2 S_i S_j S_k) / n^2 */
static bool central3_exact(const raw_moments *M, int i, int j, int k, double *out)
{
    int a[3] = {i, j, k};
    i128 n = M->m[0][0][0], S[3], P[3], n2, t, u, v, num;
    for (int q = 0; q < 3; q++) {
        int one[1] = {a[q]}, two[2] = {a[(q + 1) % 3], a[(q + 2) % 3]};
        S[q] = raw_at(M, one, 1);
        P[q] = raw_at(M, two, 2); /* the pair without axis q */
    }
    if (!mul_ok(n, n, &n2) || !mul_ok(n2, raw_at(M, a, 3), &num))
        return false;
    i128 mix = 0;
    for (int q = 0; q < 3; q++)
        if (!mul_ok(S[q], P[q], &t) || !add_ok(mix, t, &mix))
            return false;
    if (!mul_ok(n, mix, &t) || !sub_ok(num, t, &num))
        return false;
    if (!mul_ok(S[0], S[1], &u) || !mul_ok(u, S[2], &u) || !mul_ok(u, 2, &v) || !add_ok(num, v, &num))
        return false;
    *out = (double)num / (double)n2;
    return true;
}

/* Central moments of the region, indexed by exponents like raw_moments (order <= 3). */
typedef struct central_moments {
    double mu[4][4][4];
    double n;
} central_moments;

/* Regions too large for the exact sums: two passes in double over the pixels (slow, exactness lost). */
static void central_fallback(const rp_geom *g, const rp_region *r, const rp_run *runs, int order,
                             central_moments *C)
{
    double s[3] = {0, 0, 0};
    for (int64_t i = 0; i < r->nruns; i++) {
        const rp_run *q = &runs[r->first + i];
        double z = (double)(q->line / g->H - r->lo[0]), y = (double)(q->line % g->H - r->lo[1]);
        double len = (double)q->len, x0 = (double)(q->x0 - r->lo[2]);
        s[0] += z * len;
        s[1] += y * len;
        s[2] += len * x0 + len * (len - 1) / 2;
    }
    double n = (double)r->area, c[3] = {s[0] / n, s[1] / n, s[2] / n};
    memset(C->mu, 0, sizeof C->mu);
    int amax = g->ndim == 3 ? order : 0;
    for (int64_t i = 0; i < r->nruns; i++) {
        const rp_run *q = &runs[r->first + i];
        double dz = (double)(q->line / g->H - r->lo[0]) - c[0], dy = (double)(q->line % g->H - r->lo[1]) - c[1];
        for (int64_t x = 0; x < q->len; x++) {
            double dx = (double)(q->x0 + x - r->lo[2]) - c[2];
            double pz = 1;
            for (int a = 0; a <= amax; a++, pz *= dz) {
                double py = pz;
                for (int b = 0; a + b <= order; b++, py *= dy) {
                    double px = py;
                    for (int cc = 0; a + b + cc <= order; cc++, px *= dx)
                        C->mu[a][b][cc] += px;
                }
            }
        }
    }
}

static void central_moments_of(const rp_geom *g, const rp_region *r, const rp_run *runs, int order,
                               central_moments *C)
{
    memset(C, 0, sizeof *C);
    C->n = (double)r->area;
    C->mu[0][0][0] = C->n;
    double ext = 0;
    for (int a = 0; a < 3; a++)
        ext = fmax(ext, (double)(r->hi[a] - r->lo[a] + 1));
    bool ok = (double)r->area * pow(ext, order) < 0x1p120;
    raw_moments M;
    if (ok)
        accumulate_raw(g, r, runs, order, &M);
    int first = g->ndim == 3 ? 0 : 1;
    for (int i = first; ok && i < 3; i++)
        for (int j = i; ok && j < 3; j++) {
            int e[3] = {0, 0, 0};
            e[i]++;
            e[j]++;
            ok = central2_exact(&M, i, j, &C->mu[e[0]][e[1]][e[2]]);
        }
    if (order >= 3)
        for (int i = first; ok && i < 3; i++)
            for (int j = i; ok && j < 3; j++)
                for (int k = j; ok && k < 3; k++) {
                    int e[3] = {0, 0, 0};
                    e[i]++;
                    e[j]++;
                    e[k]++;
                    ok = central3_exact(&M, i, j, k, &C->mu[e[0]][e[1]][e[2]]);
                }
    if (!ok)
        central_fallback(g, r, runs, order, C);
}

/* ---- eigenvalues ---- */

/* LAPACK's dlae2: eigenvalues of [[a, b], [b, c]], rt1 of larger absolute value. */
static void dlae2(double a, double b, double c, double *rt1, double *rt2)
{
    double sm = a + c, df = a - c, adf = fabs(df), tb = b + b, ab = fabs(tb);
    double acmx = fabs(a) > fabs(c) ? a : c, acmn = fabs(a) > fabs(c) ? c : a, rt;
    if (adf > ab) {
        double q = ab / adf;
        rt = adf * sqrt(1.0 + q * q);
    } else if (adf < ab) {
        double q = adf / ab;
        rt = ab * sqrt(1.0 + q * q);
    } else {
        rt = ab * sqrt(2.0);
    }
    if (sm < 0) {
        *rt1 = 0.5 * (sm - rt);
        *rt2 = (acmx / *rt1) * acmn - (b / *rt1) * b;
    } else if (sm > 0) {
        *rt1 = 0.5 * (sm + rt);
        *rt2 = (acmx / *rt1) * acmn - (b / *rt1) * b;
    } else {
        *rt1 = 0.5 * rt;
        *rt2 = -0.5 * rt;
    }
}

/* numpy.linalg.eigvalsh on a 2x2: dsyevd -> dsytrd (nothing to do at n = 2) -> dsterf, whose tests for a
 * negligible off-diagonal and whose squared-then-rooted off-diagonal are reproduced here. */
void rp_eig2_lapack(double a, double b, double c, double *lo, double *hi)
{
    const double eps = 0x1p-53, eps2 = eps * eps;
    double d1 = a, d2 = c;
    double tst = fabs(b);
    if (tst != 0 && !(tst <= (sqrt(fabs(d1)) * sqrt(fabs(d2))) * eps)) {
        double e = b * b, rt1, rt2;
        if (fabs(d2) < fabs(d1)) { /* QR iteration on the reversed block */
            if (!(fabs(e) <= eps2 * fabs(d2 * d1))) {
                dlae2(d2, sqrt(e), d1, &rt1, &rt2);
                d2 = rt1;
                d1 = rt2;
            }
        } else if (!(fabs(e) <= eps2 * fabs(d1 * d2))) {
            dlae2(d1, sqrt(e), d2, &rt1, &rt2);
            d1 = rt1;
            d2 = rt2;
        }
    }
    *lo = d1 < d2 ? d1 : d2;
    *hi = d1 < d2 ? d2 : d1;
}

void rp_eig3_sym(const double m[3][3], double ev[3])
{
    double a[3][3];
    memcpy(a, m, sizeof a);
    for (int sweep = 0; sweep < 64; sweep++) {
        double off = fabs(a[0][1]) + fabs(a[0][2]) + fabs(a[1][2]);
        if (off == 0)
            break;
        for (int p = 0; p < 2; p++)
            for (int q = p + 1; q < 3; q++) {
                double apq = a[p][q];
                if (apq == 0)
                    continue;
                double g = 100 * fabs(apq);
                /* negligible against both diagonal entries: drop it (Numerical Recipes' test) */
                if (sweep > 3 && fabs(a[p][p]) + g == fabs(a[p][p]) && fabs(a[q][q]) + g == fabs(a[q][q])) {
                    a[p][q] = a[q][p] = 0;
                    continue;
                }
                double theta = (a[q][q] - a[p][p]) / (2 * apq), t;
                if (fabs(theta) > 1e150)
                    t = 0.5 / theta;
                else
                    t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                int r = 3 - p - q; /* the third index */
                double arp = a[r][p], arq = a[r][q];
                a[p][p] -= t * apq;
                a[q][q] += t * apq;
                a[p][q] = a[q][p] = 0;
                a[r][p] = a[p][r] = c * arp - s * arq;
                a[r][q] = a[q][r] = s * arp + c * arq;
            }
    }
    double d[3] = {a[0][0], a[1][1], a[2][2]};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (d[j] < d[i]) {
                double t = d[i];
                d[i] = d[j];
                d[j] = t;
            }
    memcpy(ev, d, sizeof d);
}

/* np.clip(eigvals, 0, None) is np.maximum(eigvals, 0) */
static double clip0(double x) { return x >= 0 || isnan(x) ? x : 0.0; }

static void props_2d(const central_moments *C, unsigned needs, rp_values *v)
{
    double mu0 = C->n, mu20 = C->mu[0][2][0], mu02 = C->mu[0][0][2], mu11 = C->mu[0][1][1];
    /* scikit-image's inertia_tensor: diagonal (sum(mu[corners2]) - mu[corners2]) / mu0 */
    double s = mu20 + mu02;
    double a = (s - mu20) / mu0, c = (s - mu02) / mu0, b = -mu11 / mu0;
    double lo, hi;
    rp_eig2_lapack(a, b, c, &lo, &hi);
    double l1 = clip0(hi), l2 = clip0(lo);
    v->eccentricity = l1 == 0 ? 0.0 : sqrt(1 - l2 / l1);
    v->axis_major = 4 * sqrt(l1);
    v->axis_minor = 4 * sqrt(l2);
    if (a - c == 0)
        v->orientation = b < 0 ? -M_PI / 4.0 : M_PI / 4.0;
    else
        v->orientation = 0.5 * atan2(-2 * b, c - a);
    if (!(needs & RP_NEED_MOMENTS3))
        return;
    /* moments_normalized: mu / mu0 ** (order / 2 + 1), then Hu's invariants in _moments_cy's order */
    double p2 = pow(mu0, 2.0), p3 = pow(mu0, 2.5);
    double nu20 = mu20 / p2, nu02 = mu02 / p2, nu11 = mu11 / p2;
    double nu30 = C->mu[0][3][0] / p3, nu03 = C->mu[0][0][3] / p3;
    double nu21 = C->mu[0][2][1] / p3, nu12 = C->mu[0][1][2] / p3;
    double t0 = nu30 + nu12, t1 = nu21 + nu03;
    double q0 = t0 * t0, q1 = t1 * t1;
    double n4 = 4 * nu11, sm = nu20 + nu02, d = nu20 - nu02;
    v->hu[0] = sm;
    v->hu[1] = d * d + n4 * nu11;
    v->hu[3] = q0 + q1;
    v->hu[5] = d * (q0 - q1) + n4 * t0 * t1;
    t0 *= q0 - 3 * q1;
    t1 *= 3 * q0 - q1;
    q0 = nu30 - 3 * nu12;
    q1 = 3 * nu21 - nu03;
    v->hu[2] = q0 * q0 + q1 * q1;
    v->hu[4] = q0 * t0 + q1 * t1;
    v->hu[6] = q1 * t0 - q0 * t1;
}

static void props_3d(const central_moments *C, rp_values *v)
{
    const double mu0 = C->n;
    double d[3] = {C->mu[2][0][0], C->mu[0][2][0], C->mu[0][0][2]};
    double s = (d[0] + d[1]) + d[2];
    double T[3][3];
    for (int i = 0; i < 3; i++)
        T[i][i] = (s - d[i]) / mu0;
    T[0][1] = T[1][0] = -C->mu[1][1][0] / mu0;
    T[0][2] = T[2][0] = -C->mu[1][0][1] / mu0;
    T[1][2] = T[2][1] = -C->mu[0][1][1] / mu0;
    double ev[3];
    rp_eig3_sym(T, ev);
    double e0 = clip0(ev[2]), e1 = clip0(ev[1]), e2 = clip0(ev[0]); /* descending */
    /* scikit-image's math.sqrt raises on a negative rounding residue (flat regions); zero here */
    v->axis_major = sqrt(fmax(10 * ((e0 + e1) - e2), 0.0));
    v->axis_minor = sqrt(fmax(10 * ((-e0 + e1) + e2), 0.0));
}

void rp_moment_props(const rp_geom *g, const rp_region *r, const rp_run *runs, unsigned needs, rp_values *v)
{
    if (!(needs & (RP_NEED_MOMENTS2 | RP_NEED_MOMENTS3)))
        return;
    int order = (needs & RP_NEED_MOMENTS3) && g->ndim == 2 ? 3 : 2;
    central_moments C;
    central_moments_of(g, r, runs, order, &C);
    if (g->ndim == 2)
        props_2d(&C, needs, v);
    else
        props_3d(&C, v);
}

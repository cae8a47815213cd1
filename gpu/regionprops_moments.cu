/* regionprops_table on the device: the moment properties (cpu_ref/regionprops_moments.c, step for step).
 *
 * Raw moments of the local coordinates are exact 128-bit sums of closed-form per-run power sums, so the
 * warp that owns a region may add them in any order. Its lane 0 then forms the central moments (each an
 * exact numerator divided once, with the CPU's overflow tests and double fallback), LAPACK's 2x2 or the
 * cyclic Jacobi 3x3 eigenvalues, and the axis lengths and eccentricity. Orientation (atan2) and Hu's
 * moments (pow) are finished on the host from the central moments stored in S_MU: the device's atan2 and
 * pow are not glibc's. */
#include "gpu/regionprops_cuda.cuh"

namespace {

/* Exponent triples (z, y, x) with a <= AMAX and a + b + c <= ORDER, numbered in loop order. */
template <int ORDER, int AMAX> struct Triples {
    static constexpr int count()
    {
        int n = 0;
        for (int a = 0; a <= AMAX; a++)
            for (int b = 0; a + b <= ORDER; b++)
                for (int c = 0; a + b + c <= ORDER; c++)
                    n++;
        return n;
    }
    static constexpr int NM = count();
    static __host__ __device__ constexpr int index(int a, int b, int c)
    {
        int n = 0;
        for (int i = 0; i <= AMAX; i++)
            for (int j = 0; i + j <= ORDER; j++)
                for (int k = 0; i + j + k <= ORDER; k++) {
                    if (i == a && j == b && k == c)
                        return n;
                    n++;
                }
        return -1;
    }
};

__device__ i128 power_sum(i128 n, int q)
{
    if (n < 0)
        return 0;
    const i128 s1 = n * (n + 1) / 2;
    switch (q) {
    case 0: return n + 1;
    case 1: return s1;
    case 2: return n * (n + 1) * (2 * n + 1) / 6;
    default: return s1 * s1;
    }
}

struct Central {
    double mu[4][4][4];
    double n;
};

template <int ORDER, int AMAX> struct Raw {
    using TR = Triples<ORDER, AMAX>;
    i128 m[TR::NM];
    __device__ i128 at(const int *axes, int n) const
    {
        int e[3] = {0, 0, 0};
        for (int k = 0; k < n; k++)
            e[axes[k]]++;
        return m[TR::index(e[0], e[1], e[2])];
    }
};

template <int ORDER, int AMAX> __device__ bool central2_exact(const Raw<ORDER, AMAX> &M, int i, int j, double *out)
{
    const int ai[1] = {i}, aj[1] = {j}, aij[2] = {i, j};
    const i128 n = M.m[0];
    i128 t1, t2, num;
    if (!i128_mul_ok(n, M.at(aij, 2), &t1) || !i128_mul_ok(M.at(ai, 1), M.at(aj, 1), &t2) || !i128_sub_ok(t1, t2, &num))
        return false;
    *out = i128_to_double(num) / i128_to_double(n);
    return true;
}

template <int ORDER, int AMAX>
__device__ bool central3_exact(const Raw<ORDER, AMAX> &M, int i, int j, int k, double *out)
{
    const int a[3] = {i, j, k};
    const i128 n = M.m[0];
    i128 S[3], P[3], n2, t, u, v, num;
    for (int q = 0; q < 3; q++) {
        const int one[1] = {a[q]}, two[2] = {a[(q + 1) % 3], a[(q + 2) % 3]};
        S[q] = M.at(one, 1);
        P[q] = M.at(two, 2);
    }
    if (!i128_mul_ok(n, n, &n2) || !i128_mul_ok(n2, M.at(a, 3), &num))
        return false;
    i128 mix = 0;
    for (int q = 0; q < 3; q++)
        if (!i128_mul_ok(S[q], P[q], &t) || !i128_add_ok(mix, t, &mix))
            return false;
    if (!i128_mul_ok(n, mix, &t) || !i128_sub_ok(num, t, &num))
        return false;
    if (!i128_mul_ok(S[0], S[1], &u) || !i128_mul_ok(u, S[2], &u) || !i128_mul_ok(u, 2, &v) ||
        !i128_add_ok(num, v, &num))
        return false;
    *out = i128_to_double(num) / i128_to_double(n2);
    return true;
}

/* The CPU's two-pass double fallback for regions too large for the exact sums (sequential, run order). */
__device__ void central_fallback(const rp_dev &R, int64_t r, int order, Central *C)
{
    const int64_t f = R.reg_first[r], nr = R.reg_nruns[r];
    const int64_t lo0 = R.reg_lo[r], lo1 = R.reg_lo[R.nreg + r], lo2 = R.reg_lo[2 * R.nreg + r];
    double s[3] = {0, 0, 0};
    for (int64_t i = 0; i < nr; i++) {
        const int64_t line = R.run_line[f + i];
        const double z = (double)(line / R.H - lo0), y = (double)(line % R.H - lo1);
        const double len = (double)R.run_len[f + i], x0 = (double)(R.run_x0[f + i] - lo2);
        s[0] += z * len;
        s[1] += y * len;
        s[2] += len * x0 + len * (len - 1) / 2;
    }
    const double n = (double)R.reg_area[r], c[3] = {s[0] / n, s[1] / n, s[2] / n};
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++)
            for (int cc = 0; cc < 4; cc++)
                C->mu[a][b][cc] = 0;
    const int amax = R.ndim == 3 ? order : 0;
    for (int64_t i = 0; i < nr; i++) {
        const int64_t line = R.run_line[f + i];
        const double dz = (double)(line / R.H - lo0) - c[0], dy = (double)(line % R.H - lo1) - c[1];
        for (int64_t x = 0; x < R.run_len[f + i]; x++) {
            const double dx = (double)(R.run_x0[f + i] + x - lo2) - c[2];
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

/* LAPACK's dlae2, as cpu_ref/regionprops_moments.c has it. */
__device__ void dlae2(double a, double b, double c, double *rt1, double *rt2)
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

__device__ void eig2_lapack(double a, double b, double c, double *lo, double *hi)
{
    const double eps = 0x1p-53, eps2 = eps * eps;
    double d1 = a, d2 = c;
    double tst = fabs(b);
    if (tst != 0 && !(tst <= (sqrt(fabs(d1)) * sqrt(fabs(d2))) * eps)) {
        double e = b * b, rt1, rt2;
        if (fabs(d2) < fabs(d1)) {
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

__device__ void eig3_sym(const double m[3][3], double ev[3])
{
    double a[3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            a[i][j] = m[i][j];
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
                int r = 3 - p - q;
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
    ev[0] = d[0];
    ev[1] = d[1];
    ev[2] = d[2];
}

__device__ double clip0(double x) { return x >= 0 || isnan(x) ? x : 0.0; }

__device__ void props_2d(const rp_dev &R, int64_t r, const Central *C)
{
    double mu0 = C->n, mu20 = C->mu[0][2][0], mu02 = C->mu[0][0][2], mu11 = C->mu[0][1][1];
    double s = mu20 + mu02;
    double a = (s - mu20) / mu0, c = (s - mu02) / mu0, b = -mu11 / mu0;
    double lo, hi;
    eig2_lapack(a, b, c, &lo, &hi);
    double l1 = clip0(hi), l2 = clip0(lo);
    put_f64(R, S_ECCENTRICITY, r, l1 == 0 ? 0.0 : sqrt(1 - l2 / l1));
    put_f64(R, S_AXIS_MAJOR, r, 4 * sqrt(l1));
    put_f64(R, S_AXIS_MINOR, r, 4 * sqrt(l2));
    const double mu[8] = {mu0, mu20, mu02, mu11, C->mu[0][3][0], C->mu[0][0][3], C->mu[0][2][1], C->mu[0][1][2]};
    for (int k = 0; k < 8; k++)
        put_f64(R, S_MU + k, r, mu[k]);
}

__device__ void props_3d(const rp_dev &R, int64_t r, const Central *C)
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
    eig3_sym(T, ev);
    double e0 = clip0(ev[2]), e1 = clip0(ev[1]), e2 = clip0(ev[0]);
    put_f64(R, S_AXIS_MAJOR, r, sqrt(fmax(10 * ((e0 + e1) - e2), 0.0)));
    put_f64(R, S_AXIS_MINOR, r, sqrt(fmax(10 * ((-e0 + e1) + e2), 0.0)));
}

template <int ORDER, int AMAX> __global__ void k_moments(rp_dev R)
{
    using TR = Triples<ORDER, AMAX>;
    const int lane = threadIdx.x & 31;
    RP_WARP_LOOP(r, R.nreg)
    {
        const int64_t f = R.reg_first[r], nr = R.reg_nruns[r];
        const int64_t lo0 = R.reg_lo[r], lo1 = R.reg_lo[R.nreg + r], lo2 = R.reg_lo[2 * R.nreg + r];
        double ext = 0;
        for (int a = 0; a < 3; a++)
            ext = fmax(ext, (double)(R.reg_hi[a * R.nreg + r] - R.reg_lo[a * R.nreg + r] + 1));
        double pw = ext * ext;
        if (ORDER == 3)
            pw *= ext; /* pow(ext, order): exact while it matters (the test is far from 2^120 otherwise) */
        bool ok = (double)R.reg_area[r] * pw < 0x1p120;
        Raw<ORDER, AMAX> M;
#pragma unroll
        for (int k = 0; k < TR::NM; k++)
            M.m[k] = 0;
        if (ok) {
            for (int64_t i = lane; i < nr; i += 32) {
                const int64_t line = R.run_line[f + i];
                const i128 z = line / R.H - lo0, y = line % R.H - lo1;
                const i128 x0 = R.run_x0[f + i] - lo2, x1 = x0 + R.run_len[f + i] - 1;
                i128 S[4], zp[4], yp[4];
#pragma unroll
                for (int k = 0; k <= ORDER; k++) {
                    S[k] = power_sum(x1, k) - power_sum(x0 - 1, k);
                    zp[k] = k ? zp[k - 1] * z : 1;
                    yp[k] = k ? yp[k - 1] * y : 1;
                }
#pragma unroll
                for (int a = 0; a <= AMAX; a++)
#pragma unroll
                    for (int b = 0; a + b <= ORDER; b++) {
                        const i128 zy = zp[a] * yp[b];
#pragma unroll
                        for (int c = 0; a + b + c <= ORDER; c++)
                            M.m[TR::index(a, b, c)] += zy * S[c];
                    }
            }
#pragma unroll
            for (int k = 0; k < TR::NM; k++)
                M.m[k] = warp_sum_i128(M.m[k]);
        }
        if (lane == 0) {
            Central C;
            for (int a = 0; a < 4; a++)
                for (int b = 0; b < 4; b++)
                    for (int c = 0; c < 4; c++)
                        C.mu[a][b][c] = 0;
            C.n = (double)R.reg_area[r];
            C.mu[0][0][0] = C.n;
            const int first = R.ndim == 3 ? 0 : 1;
            for (int i = first; ok && i < 3; i++)
                for (int j = i; ok && j < 3; j++) {
                    int e[3] = {0, 0, 0};
                    e[i]++;
                    e[j]++;
                    ok = central2_exact(M, i, j, &C.mu[e[0]][e[1]][e[2]]);
                }
            if (ORDER >= 3)
                for (int i = first; ok && i < 3; i++)
                    for (int j = i; ok && j < 3; j++)
                        for (int k = j; ok && k < 3; k++) {
                            int e[3] = {0, 0, 0};
                            e[i]++;
                            e[j]++;
                            e[k]++;
                            ok = central3_exact(M, i, j, k, &C.mu[e[0]][e[1]][e[2]]);
                        }
            if (!ok)
                central_fallback(R, r, ORDER, &C);
            if (R.ndim == 2)
                props_2d(R, r, &C);
            else
                props_3d(R, r, &C);
        }
        __syncwarp();
    }
}

} // namespace

tp_status rp_cuda_moments(rp_call &C)
{
    if (!(C.needs & (RP_NEED_MOMENTS2 | RP_NEED_MOMENTS3)) || C.R.nreg == 0)
        return TP_OK;
    const unsigned grid = rp_grid(C.R.nreg * 32, 128);
    if (C.R.ndim == 3)
        k_moments<2, 2><<<grid, 128, 0, C.s>>>(C.R);
    else if (C.needs & RP_NEED_MOMENTS3)
        k_moments<3, 0><<<grid, 128, 0, C.s>>>(C.R);
    else
        k_moments<2, 0><<<grid, 128, 0, C.s>>>(C.R);
    TP_CUDA_LAUNCHED(C.ctx);
    return TP_OK;
}

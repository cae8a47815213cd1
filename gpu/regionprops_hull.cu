/* regionprops_table on the device: the convex image (area_convex, solidity) and feret_diameter_max, in the
 * exact integer arithmetic of cpu_ref/regionprops_hull.c.
 *
 * 2D: one warp per region. Its lanes find each row's first and last pixel from the runs (atomics on the
 * region's own rows); lane 0 then builds the two monotone chains over the doubled candidate coordinates and
 * counts the pixels between them row by row, exactly as the CPU does; the farthest pair of the convex
 * image's midpoints is searched by all lanes. 3D: see regionprops_hull3.cu. */
#include "gpu/regionprops_cuda.cuh"

#include <climits>
#include <cub/cub.cuh>

namespace {

struct pt2 {
    long long x, y;
};

__device__ long long floor_div(i128 a, i128 b)
{
    i128 q = a / b;
    if (a % b != 0 && a < 0)
        q--;
    return (long long)q;
}
__device__ long long ceil_div(i128 a, i128 b) { return -floor_div(-a, b); }

__device__ i128 cross2(pt2 o, pt2 a, pt2 b)
{
    return (i128)(a.x - o.x) * (b.y - o.y) - (i128)(a.y - o.y) * (b.x - o.x);
}

__device__ long long chain(const pt2 *p, long long n, bool lower, pt2 *out)
{
    long long k = 0;
    for (long long i = 0; i < n; i++) {
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

__device__ void chain_at(const pt2 *c, long long n, long long *j, long long X, i128 *num, i128 *den)
{
    while (*j + 1 < n - 1 && c[*j + 1].x <= X)
        (*j)++;
    pt2 a = c[*j], b = c[*j + 1];
    *den = (i128)(b.x - a.x);
    *num = (i128)a.y * *den + (i128)(b.y - a.y) * (X - a.x);
}

__device__ long long pack_columns(const long long *ylo, const long long *yhi, long long h, pt2 *lo_pts, pt2 *hi_pts)
{
    long long n = 0;
    for (long long k = 0; k <= 2 * h; k++)
        if (ylo[k] <= yhi[k]) {
            lo_pts[n] = pt2{k - 1, ylo[k]};
            hi_pts[n] = pt2{k - 1, yhi[k]};
            n++;
        }
    return n;
}

/* One region's rows: L/R (first and last column), clo/chi (the convex image's), and per X of the doubled
 * row coordinate: ylo/yhi, the chain inputs plo/phi and the chains clow/cup. */
struct Hull2 {
    long long *L, *R, *clo, *chi, *ylo, *yhi;
    pt2 *plo, *phi, *clow, *cup;
};

struct Hull2Mem {
    long long *rows; /* 4 per row */
    long long *xs;   /* 2 per X */
    pt2 *pts;        /* 4 per X */
    const int64_t *hoff; /* rows before region r */
    __device__ Hull2 at(int64_t r, long long h) const
    {
        const int64_t ro = hoff[r], xo = 2 * hoff[r] + r, nx = 2 * h + 1;
        Hull2 b;
        b.L = rows + 4 * ro;
        b.R = b.L + h;
        b.clo = b.L + 2 * h;
        b.chi = b.L + 3 * h;
        b.ylo = xs + 2 * xo;
        b.yhi = b.ylo + nx;
        b.plo = pts + 4 * xo;
        b.phi = b.plo + nx;
        b.clow = b.plo + 2 * nx;
        b.cup = b.plo + 3 * nx;
        return b;
    }
};

__device__ long long convex_2d(long long h, Hull2 &b)
{
    for (long long k = 0; k <= 2 * h; k++) {
        b.ylo[k] = LLONG_MAX;
        b.yhi[k] = LLONG_MIN;
    }
    for (long long m = 0; m < h; m++) {
        if (b.L[m] > b.R[m])
            continue;
        long long l = 2 * b.L[m], rr = 2 * b.R[m];
        long long ks[3] = {2 * m, 2 * m + 1, 2 * m + 2};
        for (int t = 0; t < 3; t++) {
            long long lo = t == 1 ? l - 1 : l, hi = t == 1 ? rr + 1 : rr;
            b.ylo[ks[t]] = lo < b.ylo[ks[t]] ? lo : b.ylo[ks[t]];
            b.yhi[ks[t]] = hi > b.yhi[ks[t]] ? hi : b.yhi[ks[t]];
        }
    }
    long long n = pack_columns(b.ylo, b.yhi, h, b.plo, b.phi);
    long long nl = chain(b.plo, n, true, b.clow), nu = chain(b.phi, n, false, b.cup);
    long long count = 0, jl = 0, ju = 0;
    for (long long m = 0; m < h; m++) {
        i128 num, den;
        chain_at(b.clow, nl, &jl, 2 * m, &num, &den);
        long long lo = ceil_div(num, 2 * den);
        chain_at(b.cup, nu, &ju, 2 * m, &num, &den);
        long long hi = floor_div(num, 2 * den);
        b.clo[m] = lo;
        b.chi[m] = hi;
        if (hi >= lo)
            count += hi - lo + 1;
    }
    return count;
}

__device__ void add_difference(long long a1, long long b1, long long a2, long long b2, long long *lo, long long *hi)
{
    if (a1 > b1)
        return;
    long long parts[2][2] = {{a1, a2 <= b2 ? (b1 < a2 - 1 ? b1 : a2 - 1) : b1},
                             {a2 <= b2 ? (a1 > b2 + 1 ? a1 : b2 + 1) : a1, b1}};
    for (int k = 0; k < (a2 <= b2 ? 2 : 1); k++)
        if (parts[k][0] <= parts[k][1]) {
            *lo = parts[k][0] < *lo ? parts[k][0] : *lo;
            *hi = parts[k][1] > *hi ? parts[k][1] : *hi;
        }
}

/* The convex image's midpoint chains (lane 0); returns n for the lanes' pair search. */
__device__ void feret_chains(long long h, Hull2 &b, long long *nl, long long *nu)
{
    for (long long k = 0; k <= 2 * h; k++) {
        b.ylo[k] = LLONG_MAX;
        b.yhi[k] = LLONG_MIN;
    }
    for (long long m = 0; m < h; m++)
        if (b.clo[m] <= b.chi[m]) {
            b.ylo[2 * m + 1] = 2 * b.clo[m] - 1;
            b.yhi[2 * m + 1] = 2 * b.chi[m] + 1;
        }
    for (long long m = -1; m < h; m++) {
        long long a1 = m >= 0 ? b.clo[m] : 1, b1 = m >= 0 ? b.chi[m] : 0;
        long long a2 = m + 1 < h ? b.clo[m + 1] : 1, b2 = m + 1 < h ? b.chi[m + 1] : 0;
        long long lo = LLONG_MAX, hi = LLONG_MIN;
        add_difference(a1, b1, a2, b2, &lo, &hi);
        add_difference(a2, b2, a1, b1, &lo, &hi);
        if (lo <= hi) {
            b.ylo[2 * m + 2] = 2 * lo;
            b.yhi[2 * m + 2] = 2 * hi;
        }
    }
    long long n = pack_columns(b.ylo, b.yhi, h, b.plo, b.phi);
    *nl = chain(b.plo, n, true, b.clow);
    *nu = chain(b.phi, n, false, b.cup);
}

__device__ i128 max_i128(i128 a, i128 b) { return a > b ? a : b; }

/* Largest squared distance over the pairs of (a x b), the lanes splitting a. */
__device__ i128 lanes_max_dist2(const pt2 *a, long long na, const pt2 *b, long long nb, int lane)
{
    i128 best = 0;
    for (long long i = lane; i < na; i += 32)
        for (long long j = 0; j < nb; j++) {
            i128 dx = a[i].x - b[j].x, dy = a[i].y - b[j].y, d = dx * dx + dy * dy;
            best = d > best ? d : best;
        }
    return best;
}

__global__ void k_hull2(rp_dev R, Hull2Mem mem, bool feret)
{
    const int lane = threadIdx.x & 31;
    RP_WARP_LOOP(r, R.nreg)
    {
        const long long lo1 = R.reg_lo[R.nreg + r], lo2 = R.reg_lo[2 * R.nreg + r];
        const long long h = R.reg_hi[R.nreg + r] - lo1 + 1;
        Hull2 b = mem.at(r, h);
        for (long long m = lane; m < h; m += 32) {
            b.L[m] = LLONG_MAX;
            b.R[m] = LLONG_MIN;
        }
        __syncwarp();
        const int64_t f = R.reg_first[r], nr = R.reg_nruns[r];
        for (int64_t i = lane; i < nr; i += 32) {
            const long long m = R.run_line[f + i] - lo1, x0 = R.run_x0[f + i] - lo2, x1 = x0 + R.run_len[f + i] - 1;
            atomicMin(b.L + m, x0);
            atomicMax(b.R + m, x1);
        }
        __syncwarp();
        if (lane == 0) {
            const long long count = convex_2d(h, b);
            put_i64(R, S_AREA_CONVEX, r, count);
            put_f64(R, S_SOLIDITY, r, (double)R.reg_area[r] / (double)count);
        }
        __syncwarp();
        if (!feret)
            continue;
        long long nl = 0, nu = 0;
        if (lane == 0)
            feret_chains(h, b, &nl, &nu);
        nl = __shfl_sync(0xffffffffu, nl, 0);
        nu = __shfl_sync(0xffffffffu, nu, 0);
        __syncwarp();
        i128 d2 = lanes_max_dist2(b.clow, nl, b.cup, nu, lane);
        d2 = max_i128(d2, lanes_max_dist2(b.clow, nl, b.clow, nl, lane));
        d2 = max_i128(d2, lanes_max_dist2(b.cup, nu, b.cup, nu, lane));
        for (int d = 16; d > 0; d >>= 1)
            d2 = max_i128(d2, shfl_down_i128(d2, d));
        if (lane == 0)
            put_f64(R, S_FERET, r, sqrt(i128_to_double(d2) * 0.25));
        __syncwarp();
    }
}

__global__ void k_heights(rp_dev R, int64_t *h)
{
    RP_LOOP(r, R.nreg) h[r] = R.reg_hi[R.nreg + r] - R.reg_lo[R.nreg + r] + 1;
}

tp_status hull_2d(rp_call &C)
{
    rp_dev &R = C.R;
    int64_t *h, *hoff, tail[2];
    tp_status st;
    if ((st = C.mem.get(&h, R.nreg)) || (st = C.mem.get(&hoff, R.nreg)))
        return st;
    k_heights<<<rp_grid(R.nreg, 256), 256, 0, C.s>>>(R, h);
    TP_CUDA_LAUNCHED(C.ctx);
    if ((st = rp_cub(C, [&](void *t, size_t &b) { return cub::DeviceScan::ExclusiveSum(t, b, h, hoff, R.nreg, C.s); })) ||
        (st = rp_fetch(C, &tail[0], hoff + R.nreg - 1, 1)) || (st = rp_fetch(C, &tail[1], h + R.nreg - 1, 1)))
        return st;
    const int64_t rows = tail[0] + tail[1], xs = 2 * rows + R.nreg;
    Hull2Mem mem;
    mem.hoff = hoff;
    if ((st = C.mem.get(&mem.rows, 4 * rows)) || (st = C.mem.get(&mem.xs, 2 * xs)) || (st = C.mem.get(&mem.pts, 4 * xs)))
        return st;
    k_hull2<<<rp_grid(R.nreg * 32, 128), 128, 0, C.s>>>(R, mem, (C.needs & RP_NEED_FERET) != 0);
    TP_CUDA_LAUNCHED(C.ctx);
    return TP_OK;
}

} // namespace

tp_status rp_cuda_hull3(rp_call &C); /* regionprops_hull3.cu */

tp_status rp_cuda_hull(rp_call &C)
{
    if (!(C.needs & (RP_NEED_HULL | RP_NEED_FERET)) || C.R.nreg == 0)
        return TP_OK;
    return C.R.ndim == 3 ? rp_cuda_hull3(C) : hull_2d(C);
}

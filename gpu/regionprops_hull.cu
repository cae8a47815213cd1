/* regionprops_table on the device: the convex image (area_convex, solidity) and feret_diameter_max, in the
 * exact integer arithmetic of cpu_ref/regionprops_hull.c.
 *
 * 2D: one warp per region, its work in shared memory. The lanes find each row's first and last pixel
 * from the runs, lay out the candidates per doubled row coordinate in order, and after lanes 0 and 1 have
 * built the lower and upper monotone chains (the CPU's sequential algorithm), count the pixels between the
 * chains row by row and search the farthest pair of the convex image's midpoints. 3D: regionprops_hull3.cu. */
#include "gpu/regionprops_cuda.cuh"

#include <climits>
#include <limits>
#include <cub/cub.cuh>

namespace {

template <typename C> struct pt2 {
    C x, y;
};

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

template <typename C> __device__ i128 cross2(pt2<C> o, pt2<C> a, pt2<C> b)
{
    return (i128)((long long)a.x - o.x) * ((long long)b.y - o.y) - (i128)((long long)a.y - o.y) * ((long long)b.x - o.x);
}

/* Andrew's monotone chain, the CPU's: points of strictly increasing X, collinear points dropped. */
template <typename C> __device__ long long chain(const pt2<C> *p, long long n, bool lower, pt2<C> *out)
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

/* The CPU walks its segment index j forward as X grows; where it stops is the last vertex at or before X
 * (at most n - 2), found here by bisection so that each lane can take any row. */
template <typename C> __device__ void chain_at(const pt2<C> *c, long long n, long long X, i128 *num, i128 *den)
{
    long long a = 0, b = n - 2;
    while (a < b) {
        const long long mid = a + (b - a + 1) / 2;
        if (c[mid].x <= X)
            a = mid;
        else
            b = mid - 1;
    }
    const pt2<C> p = c[a], q = c[a + 1];
    *den = (i128)((long long)q.x - p.x);
    *num = (i128)p.y * *den + (i128)((long long)q.y - p.y) * (X - p.x);
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

/* One region's rows (first/last pixel L/R, the convex image's clo/chi) and, per X of the doubled row
 * coordinate, the chain inputs plo/phi and the chains clow/cup. */
template <typename C> struct Work {
    C *L, *R, *clo, *chi;
    pt2<C> *plo, *phi, *clow, *cup;
};

template <typename C> __host__ __device__ inline long long work_bytes(long long h)
{
    return 4 * h * (long long)sizeof(C) + 4 * (2 * h + 1) * (long long)sizeof(pt2<C>) + 64;
}

template <typename C> __device__ Work<C> carve(char *m, long long h)
{
    Work<C> b;
    b.L = (C *)m;
    b.R = b.L + h;
    b.clo = b.L + 2 * h;
    b.chi = b.L + 3 * h;
    b.plo = (pt2<C> *)(((uintptr_t)(b.L + 4 * h) + 15) & ~(uintptr_t)15);
    b.phi = b.plo + 2 * h + 1;
    b.clow = b.phi + 2 * h + 1;
    b.cup = b.clow + 2 * h + 1;
    return b;
}

__device__ __forceinline__ void amin(int *p, long long v) { atomicMin(p, (int)v); }
__device__ __forceinline__ void amax(int *p, long long v) { atomicMax(p, (int)v); }
__device__ __forceinline__ void amin(long long *p, long long v) { atomicMin(p, v); }
__device__ __forceinline__ void amax(long long *p, long long v) { atomicMax(p, v); }

/* Candidates at X = k - 1, k in [0, nk), packed in order by the warp: what the CPU's ylo/yhi arrays and
 * pack_columns give. cand(k, &lo, &hi) says whether X has candidates. Returns their number. */
template <typename C, typename F> __device__ long long pack(Work<C> &b, long long nk, const F &cand, int lane)
{
    long long n = 0;
    for (long long base = 0; base < nk; base += 32) {
        const long long k = base + lane;
        long long lo = 0, hi = 0;
        const bool ok = k < nk && cand(k, &lo, &hi);
        const unsigned m = __ballot_sync(0xffffffffu, ok);
        if (ok) {
            const long long at = n + __popc(m & ((1u << lane) - 1));
            b.plo[at] = pt2<C>{(C)(k - 1), (C)lo};
            b.phi[at] = pt2<C>{(C)(k - 1), (C)hi};
        }
        n += __popc(m);
    }
    __syncwarp();
    return n;
}

/* Lane 0 builds the lower chain while lane 1 builds the upper one. */
template <typename C> __device__ void chains(Work<C> &b, long long n, int lane, long long *nl, long long *nu)
{
    long long k = 0;
    if (lane == 0)
        k = chain(b.plo, n, true, b.clow);
    else if (lane == 1)
        k = chain(b.phi, n, false, b.cup);
    *nl = __shfl_sync(0xffffffffu, k, 0);
    *nu = __shfl_sync(0xffffffffu, k, 1);
    __syncwarp();
}

__device__ i128 max_i128(i128 a, i128 b) { return a > b ? a : b; }

/* Largest squared distance over the pairs of (a x b), the lanes splitting a. */
template <typename C> __device__ i128 lanes_max_dist2(const pt2<C> *a, long long na, const pt2<C> *b, long long nb, int lane)
{
    i128 best = 0;
    for (long long i = lane; i < na; i += 32)
        for (long long j = 0; j < nb; j++) {
            i128 dx = (long long)a[i].x - b[j].x, dy = (long long)a[i].y - b[j].y, d = dx * dx + dy * dy;
            best = d > best ? d : best;
        }
    return best;
}

template <typename C> __device__ void hull_region(const rp_dev &R, int64_t r, char *mem, bool feret, int lane)
{
    const long long lo1 = R.reg_lo[R.nreg + r], lo2 = R.reg_lo[2 * R.nreg + r];
    const long long h = R.reg_hi[R.nreg + r] - lo1 + 1;
    Work<C> b = carve<C>(mem, h);
    for (long long m = lane; m < h; m += 32) {
        b.L[m] = std::numeric_limits<C>::max();
        b.R[m] = std::numeric_limits<C>::min();
    }
    __syncwarp();
    const int64_t f = R.reg_first[r], nr = R.reg_nruns[r];
    for (int64_t i = lane; i < nr; i += 32) {
        const long long m = R.run_line[f + i] - lo1, x0 = R.run_x0[f + i] - lo2, x1 = x0 + R.run_len[f + i] - 1;
        amin(b.L + m, x0);
        amax(b.R + m, x1);
    }
    __syncwarp();
    /* the candidates: each row's first and last pixel with their edge centres (X = 2m - 1, 2m, 2m + 1) */
    auto convex_cand = [&b, h](long long k, long long *lo, long long *hi) {
        const long long m = k >> 1;
        if (k & 1) {
            if (b.L[m] > b.R[m])
                return false;
            *lo = 2 * (long long)b.L[m] - 1;
            *hi = 2 * (long long)b.R[m] + 1;
            return true;
        }
        bool any = false;
        *lo = LLONG_MAX;
        *hi = LLONG_MIN;
        for (long long q = m - 1; q <= m; q++)
            if (q >= 0 && q < h && b.L[q] <= b.R[q]) {
                *lo = min(*lo, 2 * (long long)b.L[q]);
                *hi = max(*hi, 2 * (long long)b.R[q]);
                any = true;
            }
        return any;
    };
    long long n = pack(b, 2 * h + 1, convex_cand, lane), nl, nu;
    chains(b, n, lane, &nl, &nu);
    long long count = 0;
    for (long long m = lane; m < h; m += 32) {
        i128 num, den;
        chain_at(b.clow, nl, 2 * m, &num, &den);
        const long long lo = ceil_div(num, 2 * den);
        chain_at(b.cup, nu, 2 * m, &num, &den);
        const long long hi = floor_div(num, 2 * den);
        b.clo[m] = (C)lo;
        b.chi[m] = (C)hi;
        if (hi >= lo)
            count += hi - lo + 1;
    }
    count = warp_sum_ll(count);
    if (lane == 0) {
        put_i64(R, S_AREA_CONVEX, r, count);
        put_f64(R, S_SOLIDITY, r, (double)R.reg_area[r] / (double)count);
    }
    __syncwarp();
    if (!feret)
        return;
    /* feret: the midpoints around the convex image's rows (X = 2m) and between rows (X = 2m + 1) */
    auto feret_cand = [&b, h](long long k, long long *lo, long long *hi) {
        if (k & 1) {
            const long long m = k >> 1;
            if (b.clo[m] > b.chi[m])
                return false;
            *lo = 2 * (long long)b.clo[m] - 1;
            *hi = 2 * (long long)b.chi[m] + 1;
            return true;
        }
        const long long m = (k >> 1) - 1;
        long long a1 = m >= 0 ? b.clo[m] : 1, b1 = m >= 0 ? b.chi[m] : 0;
        long long a2 = m + 1 < h ? b.clo[m + 1] : 1, b2 = m + 1 < h ? b.chi[m + 1] : 0;
        long long l = LLONG_MAX, u = LLONG_MIN;
        add_difference(a1, b1, a2, b2, &l, &u);
        add_difference(a2, b2, a1, b1, &l, &u);
        if (l > u)
            return false;
        *lo = 2 * l;
        *hi = 2 * u;
        return true;
    };
    n = pack(b, 2 * h + 1, feret_cand, lane);
    chains(b, n, lane, &nl, &nu);
    i128 d2 = lanes_max_dist2(b.clow, nl, b.cup, nu, lane);
    d2 = max_i128(d2, lanes_max_dist2(b.clow, nl, b.clow, nl, lane));
    d2 = max_i128(d2, lanes_max_dist2(b.cup, nu, b.cup, nu, lane));
    for (int d = 16; d > 0; d >>= 1)
        d2 = max_i128(d2, shfl_down_i128(d2, d));
    if (lane == 0)
        put_f64(R, S_FERET, r, sqrt(i128_to_double(d2) * 0.25));
    __syncwarp();
}

constexpr int HULL_SMEM = 48 * 1024;

/* Does the region's work fit the block's shared memory (32-bit coordinates)? */
__host__ __device__ inline bool fits_shared(long long h, long long w)
{
    return h < (1 << 27) && w < (1 << 27) && work_bytes<int>(h) <= HULL_SMEM;
}

/* One warp (one block) per region; the work lives in shared memory, or in global scratch when too tall. */
__global__ void __launch_bounds__(32) k_hull2(rp_dev R, char *global, const int64_t *goff, bool feret)
{
    extern __shared__ __align__(16) char smem[];
    const int lane = threadIdx.x & 31;
    for (int64_t r = blockIdx.x; r < R.nreg; r += gridDim.x) {
        const long long h = R.reg_hi[R.nreg + r] - R.reg_lo[R.nreg + r] + 1;
        const long long w = R.reg_hi[2 * R.nreg + r] - R.reg_lo[2 * R.nreg + r] + 1;
        if (fits_shared(h, w))
            hull_region<int>(R, r, smem, feret, lane);
        else
            hull_region<long long>(R, r, global + goff[r], feret, lane);
        __syncwarp();
    }
}

__global__ void k_global_need(rp_dev R, int64_t *need, int64_t *sneed)
{
    RP_LOOP(r, R.nreg)
    {
        const long long h = R.reg_hi[R.nreg + r] - R.reg_lo[R.nreg + r] + 1;
        const long long w = R.reg_hi[2 * R.nreg + r] - R.reg_lo[2 * R.nreg + r] + 1;
        const bool fits = fits_shared(h, w);
        need[r] = fits ? 0 : (work_bytes<long long>(h) + 255) & ~255LL;
        sneed[r] = fits ? work_bytes<int>(h) : 0;
    }
}

tp_status hull_2d(rp_call &C)
{
    rp_dev &R = C.R;
    int64_t *need, *sneed, *goff, *smax, tail[3];
    tp_status st;
    if ((st = C.mem.get(&need, R.nreg)) || (st = C.mem.get(&sneed, R.nreg)) || (st = C.mem.get(&goff, R.nreg)) ||
        (st = C.mem.get(&smax, 1)))
        return st;
    k_global_need<<<rp_grid(R.nreg, 256), 256, 0, C.s>>>(R, need, sneed);
    TP_CUDA_LAUNCHED(C.ctx);
    if ((st = rp_cub(C, [&](void *t, size_t &b) { return cub::DeviceScan::ExclusiveSum(t, b, need, goff, R.nreg, C.s); })) ||
        (st = rp_cub(C, [&](void *t, size_t &b) { return cub::DeviceReduce::Max(t, b, sneed, smax, R.nreg, C.s); })))
        return st;
    TP_CUDA_CHECK(C.ctx, cudaMemcpyAsync(&tail[0], goff + R.nreg - 1, sizeof(int64_t), cudaMemcpyDeviceToHost, C.s));
    TP_CUDA_CHECK(C.ctx, cudaMemcpyAsync(&tail[1], need + R.nreg - 1, sizeof(int64_t), cudaMemcpyDeviceToHost, C.s));
    if ((st = rp_fetch(C, &tail[2], smax, 1)))
        return st;
    char *global = nullptr;
    if (tail[0] + tail[1] > 0 && (st = C.mem.get(&global, tail[0] + tail[1])))
        return st;
    /* shared memory for the tallest region that fits: more blocks per SM when regions are small */
    const size_t smem = (size_t)((tail[2] + 255) & ~255LL);
    const unsigned grid = (unsigned)(R.nreg < 65535 * 8 ? R.nreg : 65535 * 8);
    k_hull2<<<grid, 32, smem, C.s>>>(R, global, goff, (C.needs & RP_NEED_FERET) != 0);
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

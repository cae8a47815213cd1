/* regionprops_table on the device: the convex image (area_convex, solidity) and feret_diameter_max, in the
 * exact integer arithmetic of cpu_ref/regionprops_hull.c.
 *
 * 2D: one warp per region, its work in shared memory. The lanes find each row's first and last pixel
 * from the runs, lay out the candidates per doubled row coordinate in order, and after lanes 0 and 1 have
 * built the lower and upper monotone chains (the CPU's sequential algorithm), count the pixels between the
 * chains row by row and search the farthest pair of the convex image's midpoints. 3D: regionprops_hull3.cu.
 *
 * Speed: the chains are one lane's dependent loop, so what matters is how many regions an SM works on at
 * once and how long each step is. Regions are split in classes by the shared memory their work needs: the
 * usual small ones run several warps (regions) per block with a slot each sized by the largest of their
 * class (dozens of warps per SM), the tall ones one per block; one tall region no longer sizes every
 * block's shared memory. A chain of many points (a tall region) takes two rounds: every lane chains a
 * 32nd of the points, then one lane chains the survivors. With 32-bit coordinates (below 2^27, doubled below 2^28) every cross product,
 * chain intersection and squared distance fits in 64 bits (below 2^60), so those regions do their exact
 * integer arithmetic in long long instead of the emulated 128-bit type; the values are the same. */
#include "gpu/regionprops_cuda.cuh"

#include <climits>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <cub/cub.cuh>

namespace {

template <typename C> struct pt2 {
    C x, y;
};

/* The exact type of products of coordinate differences: 64 bits for 32-bit coordinates (see above). */
template <typename C> struct wide;
template <> struct wide<int> {
    typedef long long type;
};
template <> struct wide<long long> {
    typedef i128 type;
};

template <typename C> __device__ typename wide<C>::type cross2(pt2<C> o, pt2<C> a, pt2<C> b)
{
    typedef typename wide<C>::type W;
    return (W)((long long)a.x - o.x) * ((long long)b.y - o.y) - (W)((long long)a.y - o.y) * ((long long)b.x - o.x);
}

/* Andrew's monotone chain, the CPU's: points of strictly increasing X, collinear points dropped. The two
 * last vertices stay in registers (u = out[k - 2], v = out[k - 1]): a step that keeps them reads no shared
 * memory, and only a pop reloads one. */
template <typename C> __device__ long long chain(const pt2<C> *p, long long n, bool lower, pt2<C> *out)
{
    long long k = 0;
    pt2<C> u{0, 0}, v{0, 0};
    for (long long i = 0; i < n; i++) {
        const pt2<C> q = p[i];
        while (k >= 2) {
            const typename wide<C>::type c = cross2(u, v, q);
            if (lower ? c > 0 : c < 0)
                break;
            k--;
            v = u;
            if (k >= 2)
                u = out[k - 2];
        }
        out[k++] = q;
        u = v;
        v = q;
    }
    return k;
}

/* The CPU walks its segment index j forward as X grows; where it stops is the last vertex at or before X
 * (at most n - 2), found here by bisection so that each lane can take any row. */
template <typename C, typename W>
__device__ void chain_at(const pt2<C> *c, long long n, long long X, W *num, W *den)
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
    *den = (W)((long long)q.x - p.x);
    *num = (W)p.y * *den + (W)((long long)q.y - p.y) * (X - p.x);
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

/* Long chains in two rounds, the lower one on lanes 0-15 and the upper one on lanes 16-31 side by side:
 * each lane chains a 16th of its chain's points (into out at the same place), the survivors are packed back
 * into p in order, and lanes 0 and 16 chain them (one call site, so both run the same instructions). A point
 * off the hull of a subset is off the hull of the whole, so the second round sees every vertex and gives
 * exactly the serial chain (its vertices are unique: strictly increasing X, collinear points dropped).
 * plo and phi are overwritten. */
template <typename C> __device__ void chains_2round(Work<C> &b, long long n, int lane, long long *nl, long long *nu)
{
    const bool upper = lane >= 16;
    const int sub = lane & 15;
    pt2<C> *p = upper ? b.phi : b.plo, *out = upper ? b.cup : b.clow;
    const long long seg = (n + 15) / 16, a = min(n, sub * seg), e = min(n, a + seg);
    const long long k = chain(p + a, e - a, !upper, out + a);
    long long pre = k;
    for (int d = 1; d < 16; d <<= 1) {
        const long long t = __shfl_up_sync(0xffffffffu, pre, d, 16);
        if (sub >= d)
            pre += t;
    }
    const long long total = __shfl_sync(0xffffffffu, pre, 15, 16);
    __syncwarp();
    for (long long i = 0; i < k; i++)
        p[pre - k + i] = out[a + i];
    __syncwarp();
    const long long m = sub == 0 ? chain(p, total, !upper, out) : 0;
    *nl = __shfl_sync(0xffffffffu, m, 0);
    *nu = __shfl_sync(0xffffffffu, m, 16);
    __syncwarp();
}

/* From this many points a chain takes two rounds (a lane's serial loop is the region's critical path). */
constexpr long long kTwoRoundPoints = 192;

/* Lane 0 builds the lower chain while lane 1 builds the upper one; long ones take two rounds. */
template <typename C> __device__ void chains(Work<C> &b, long long n, int lane, long long *nl, long long *nu)
{
    if (n >= kTwoRoundPoints) {
        chains_2round(b, n, lane, nl, nu);
        return;
    }
    /* one call site for both lanes, so that they run the same instructions side by side (two calls would
     * be two divergent paths, run one after the other) */
    long long k = 0;
    if (lane < 2)
        k = chain(lane == 0 ? b.plo : b.phi, n, lane == 0, lane == 0 ? b.clow : b.cup);
    *nl = __shfl_sync(0xffffffffu, k, 0);
    *nu = __shfl_sync(0xffffffffu, k, 1);
    __syncwarp();
}

__device__ i128 max_i128(i128 a, i128 b) { return a > b ? a : b; }

/* Largest squared distance over the pairs of (a x b), the lanes splitting a. */
template <typename C>
__device__ i128 lanes_max_dist2(const pt2<C> *a, long long na, const pt2<C> *b, long long nb, int lane)
{
    typedef typename wide<C>::type W;
    W best = 0;
    for (long long i = lane; i < na; i += 32)
        for (long long j = 0; j < nb; j++) {
            const W dx = (long long)a[i].x - b[j].x, dy = (long long)a[i].y - b[j].y, d = dx * dx + dy * dy;
            best = d > best ? d : best;
        }
    return (i128)best;
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
        typename wide<C>::type num, den;
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

/* A region's work lives in shared memory up to HULL_SMEM (about 1200 rows; the tall class, one region a
 * block, opts in above 48 KB); the small classes pack several regions into HULL_BLOCK_SMEM a block. */
constexpr int HULL_SMEM = 96 * 1024;
constexpr int HULL_BLOCK_SMEM = 48 * 1024;
/* Classes of regions by the shared memory their work needs (work_bytes<int>, ~80 bytes a row): up to 2 KB
 * (25 rows), up to 8 KB (101 rows), and the rest. A launch per class, its slot sized by the class's
 * largest, so that a 100-row region does not cut the number of 20-row ones an SM holds. */
constexpr int HULL_CLASSES = 3;
__host__ __device__ constexpr long long class_bytes(int c) { return c == 0 ? 2 * 1024 : 8 * 1024; }
constexpr int HULL_MAX_WARPS = 8;

/* Does the region's work fit the block's shared memory (32-bit coordinates)? */
__host__ __device__ inline bool fits_shared(long long h, long long w)
{
    return h < (1 << 27) && w < (1 << 27) && work_bytes<int>(h) <= HULL_SMEM;
}

__device__ __forceinline__ int class_of(long long h, long long w)
{
    if (!fits_shared(h, w))
        return HULL_CLASSES - 1;
    const long long bytes = work_bytes<int>(h);
    int c = 0;
    while (c < HULL_CLASSES - 1 && bytes > class_bytes(c))
        c++;
    return c;
}

/* One warp per region, blockDim.x / 32 regions per block, each warp in its own slot of shared memory; the
 * work of a region too tall for shared memory lives in global scratch. A launch takes the regions of one
 * class (class_of), listed by k_global_need: a block of warps that only skipped other classes' regions
 * would still hold its shared memory until its slowest warp ended. */
template <int kClass>
__global__ void __launch_bounds__(32 * HULL_MAX_WARPS)
    k_hull2(rp_dev R, char *global, const int64_t *goff, bool feret, int slot, const int64_t *list,
            const int64_t *count)
{
    constexpr bool kSmall = kClass < HULL_CLASSES - 1;
    extern __shared__ __align__(16) char smem[];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, wpb = blockDim.x >> 5;
    char *mine = smem + (size_t)warp * slot;
    const int64_t m = count[kClass];
    for (int64_t i = (int64_t)blockIdx.x * wpb + warp; i < m; i += (int64_t)gridDim.x * wpb) {
        const int64_t r = list[kClass * R.nreg + i];
        const long long h = R.reg_hi[R.nreg + r] - R.reg_lo[R.nreg + r] + 1;
        const long long w = R.reg_hi[2 * R.nreg + r] - R.reg_lo[2 * R.nreg + r] + 1;
        if (kSmall || fits_shared(h, w)) /* the small kernel has no 128-bit path: fewer registers */
            hull_region<int>(R, r, mine, feret, lane);
        else
            hull_region<long long>(R, r, global + goff[r], feret, lane);
        __syncwarp();
    }
}

/* Per region: its global scratch (too tall for shared memory: goff[r], the offsets taken from info's total
 * by atomics, since no two regions share scratch and the order does not matter), its class's largest shared
 * need (info[c], atomicMax) and its place in its class's list (list[c * nreg + ...], info[HULL_CLASSES + c]).
 * info: zero on entry. Everything the launches need comes back in one wait. */
__global__ void k_global_need(rp_dev R, int64_t *goff, int64_t *list, int64_t *info)
{
    int64_t *smax = info, *count = info + HULL_CLASSES, *total = info + 2 * HULL_CLASSES;
    RP_LOOP(r, R.nreg)
    {
        const long long h = R.reg_hi[R.nreg + r] - R.reg_lo[R.nreg + r] + 1;
        const long long w = R.reg_hi[2 * R.nreg + r] - R.reg_lo[2 * R.nreg + r] + 1;
        const bool fits = fits_shared(h, w);
        const int c = class_of(h, w);
        goff[r] = fits ? 0
                       : (int64_t)atomicAdd((unsigned long long *)total,
                                            (unsigned long long)((work_bytes<long long>(h) + 255) & ~255LL));
        /* one atomic per class per warp: 63,000 regions on three counters queued for 27 us one by one */
        const unsigned act = __activemask(), lane = threadIdx.x & 31;
        for (int k = 0; k < HULL_CLASSES; k++) {
            const unsigned m = __ballot_sync(act, c == k);
            if (!m)
                continue;
            const int leader = __ffs(m) - 1;
            /* shared needs are at most HULL_SMEM: 32 bits */
            const unsigned need = __reduce_max_sync(act, c == k && fits ? (unsigned)work_bytes<int>(h) : 0u);
            unsigned long long at = 0;
            if (lane == (unsigned)leader) {
                at = atomicAdd((unsigned long long *)(count + k), (unsigned long long)__popc(m));
                if (need > 0)
                    atomicMax((unsigned long long *)(smax + k), (unsigned long long)need);
            }
            at = __shfl_sync(act, at, leader);
            if (c == k)
                list[k * R.nreg + (int64_t)at + __popc(m & ((1u << lane) - 1u))] = r;
        }
    }
}

template <int kClass>
tp_status launch_class(rp_call &C, cudaStream_t s, char *global, const int64_t *goff, bool feret, int64_t slot_bytes,
                       const int64_t *list, const int64_t *dcount, int64_t count)
{
    const rp_dev &R = C.R;
    if (count == 0)
        return TP_OK;
    const int slot = (int)((slot_bytes + 255) & ~255LL);
    if (kClass < HULL_CLASSES - 1) { /* several regions a block; a warp each */
        const int fit = slot > 0 ? HULL_BLOCK_SMEM / slot : HULL_MAX_WARPS;
        const int wpb = fit < HULL_MAX_WARPS ? fit : HULL_MAX_WARPS;
        const int64_t blocks = (count + wpb - 1) / wpb;
        k_hull2<kClass><<<(unsigned)(blocks < 65535 * 8 ? blocks : 65535 * 8), 32 * wpb, (size_t)slot * wpb, s>>>(
            R, global, goff, feret, slot, list, dcount);
    } else { /* one a block, looping: a few blocks per SM at most */
        if (slot > HULL_BLOCK_SMEM)
            TP_CUDA_CHECK(C.ctx, cudaFuncSetAttribute(k_hull2<kClass>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                                      HULL_SMEM));
        const int64_t cap = 8 * (int64_t)tp_cuda_sm_count(C.ctx);
        k_hull2<kClass><<<(unsigned)(count < cap ? count : cap), 32, (size_t)slot, s>>>(R, global, goff, feret, slot,
                                                                                     list, dcount);
    }
    TP_CUDA_LAUNCHED(C.ctx);
    return TP_OK;
}

/* Streams beside the context's, for running the classes side by side (each class is a few long warps
 * apart from the first): created once per device and kept, like the staging buffers; non-blocking. NULL
 * when the current device is not the context's or creation fails: the classes then run one after another. */
cudaStream_t side_stream(int device, int k)
{
    constexpr int kDevices = 64;
    static std::mutex mu;
    static cudaStream_t streams[kDevices][HULL_CLASSES - 1];
    int cur = -1;
    if (cudaGetDevice(&cur) != cudaSuccess || cur != device || device < 0 || device >= kDevices) {
        cudaGetLastError();
        return nullptr;
    }
    std::lock_guard<std::mutex> lock(mu);
    if (!streams[device][k] && cudaStreamCreateWithFlags(&streams[device][k], cudaStreamNonBlocking) != cudaSuccess) {
        cudaGetLastError();
        streams[device][k] = nullptr;
    }
    return streams[device][k];
}

/* The classes' kernels: the tall classes on side streams forked from the context's stream after everything
 * they read (the lists, the scratch), the small class on the context's stream, which then waits for both:
 * later work and the stream-ordered frees of the scratch follow all three. */
tp_status launch_classes(rp_call &C, char *global, const int64_t *goff, bool feret, const int64_t *slot,
                         const int64_t *list, const int64_t *dcount, const int64_t *ncls)
{
    static_assert(HULL_CLASSES == 3, "one launch per class below");
    cudaStream_t side[2] = {nullptr, nullptr};
    cudaEvent_t fork = nullptr, join[2] = {nullptr, nullptr};
    /* TWINPIX_HULL2_STREAMS=0: one stream (for measuring what the split gains) */
    const char *env = getenv("TWINPIX_HULL2_STREAMS");
    const bool split = (ncls[0] > 0) + (ncls[1] > 0) + (ncls[2] > 0) > 1 && !(env && !strcmp(env, "0"));
    if (split && (side[0] = side_stream(C.ctx->device, 0)) && (side[1] = side_stream(C.ctx->device, 1)) &&
        cudaEventCreateWithFlags(&fork, cudaEventDisableTiming) == cudaSuccess &&
        cudaEventCreateWithFlags(&join[0], cudaEventDisableTiming) == cudaSuccess &&
        cudaEventCreateWithFlags(&join[1], cudaEventDisableTiming) == cudaSuccess &&
        cudaEventRecord(fork, C.s) == cudaSuccess && cudaStreamWaitEvent(side[0], fork, 0) == cudaSuccess &&
        cudaStreamWaitEvent(side[1], fork, 0) == cudaSuccess) {
    } else {
        cudaGetLastError();
        side[0] = side[1] = C.s;
    }
    tp_status st = launch_class<2>(C, side[0], global, goff, feret, slot[2], list, dcount, ncls[2]);
    if (!st)
        st = launch_class<1>(C, side[1], global, goff, feret, slot[1], list, dcount, ncls[1]);
    if (!st)
        st = launch_class<0>(C, C.s, global, goff, feret, slot[0], list, dcount, ncls[0]);
    for (int k = 0; k < 2; k++) /* joined even after a failed launch: the scratch is freed on C.s */
        if (side[k] != C.s && join[k] && (cudaEventRecord(join[k], side[k]) != cudaSuccess ||
                                          cudaStreamWaitEvent(C.s, join[k], 0) != cudaSuccess)) {
            cudaGetLastError();
            cudaStreamSynchronize(side[k]);
        }
    for (cudaEvent_t e : {fork, join[0], join[1]})
        if (e)
            cudaEventDestroy(e); /* released once the work that uses them is done */
    return st;
}

tp_status hull_2d(rp_call &C)
{
    rp_dev &R = C.R;
    /* info: the largest shared bytes of each class, each class's count, the global scratch's total */
    int64_t *goff, *list, *info, got[2 * HULL_CLASSES + 1];
    tp_status st;
    if ((st = C.mem.get(&goff, R.nreg)) || (st = C.mem.get(&list, HULL_CLASSES * R.nreg)) ||
        (st = C.mem.get(&info, 2 * HULL_CLASSES + 1)))
        return st;
    int64_t *count = info + HULL_CLASSES;
    TP_CUDA_CHECK(C.ctx, cudaMemsetAsync(info, 0, sizeof(int64_t) * (2 * HULL_CLASSES + 1), C.s));
    k_global_need<<<rp_grid(R.nreg, 256), 256, 0, C.s>>>(R, goff, list, info);
    TP_CUDA_LAUNCHED(C.ctx);
    /* A small image whose every possible region fits shared memory (the image's own height bounds them:
     * 640^2, up to ~1200 rows) skips the wait: each class is launched for all regions at its class's bound
     * (2 KB, 8 KB, the image height's need), and the blocks past the class's count, read on the device,
     * return at once. The wait cost more than those empty blocks at the seed's size. */
    const bool no_wait = tp_image_count(C.lab) <= ((int64_t)1 << 22) && fits_shared(R.H, R.W);
    if (no_wait) {
        got[0] = class_bytes(0);
        got[1] = class_bytes(1);
        got[2] = work_bytes<int>(R.H);
        for (int k = 0; k < HULL_CLASSES; k++)
            got[HULL_CLASSES + k] = R.nreg;
        got[2 * HULL_CLASSES] = 0;
    } else if ((st = rp_fetch(C, got, info, 2 * HULL_CLASSES + 1))) {
        return st;
    }
    char *global = nullptr;
    const int64_t global_bytes = got[2 * HULL_CLASSES];
    if (global_bytes > 0 && (st = C.mem.get(&global, global_bytes)))
        return st;
    const bool feret = (C.needs & RP_NEED_FERET) != 0;
    return launch_classes(C, global, goff, feret, got, list, count, got + HULL_CLASSES);
}

} // namespace

tp_status rp_cuda_hull3(rp_call &C); /* regionprops_hull3.cu */

tp_status rp_cuda_hull(rp_call &C)
{
    if (!(C.needs & (RP_NEED_HULL | RP_NEED_FERET)) || C.R.nreg == 0)
        return TP_OK;
    return C.R.ndim == 3 ? rp_cuda_hull3(C) : hull_2d(C);
}

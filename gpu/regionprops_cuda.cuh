/* regionprops_table on the device: what the phases (gpu/regionprops_*.cu) share.
 *
 * The device follows cpu_ref/regionprops_*.c step by step, so that every column comes out bit for bit
 * the same: regions are made of runs (maximal stretches of one label along x) grouped by region in raster
 * order, integer sums are exact (128-bit), float sums keep the CPU's order, and every formula after the
 * sums is the CPU's, operation for operation (built with -fmad=false). */
#ifndef TP_REGIONPROPS_CUDA_CUH
#define TP_REGIONPROPS_CUDA_CUH
#include "gpu/cuda_util.h"
#include "gpu/scan_small.cuh"

extern "C" {
#include "cpu_ref/regionprops_props.h"
}

#include <cub/cub.cuh>
#include <stdint.h>
#include <vector>

typedef __int128 i128;
typedef unsigned __int128 u128;

/* ---- exact helpers, host and device ---- */

/* Round to nearest even, as libgcc's __floattidf does on the CPU side. */
__host__ __device__ inline double i128_to_double(i128 v)
{
    const bool neg = v < 0;
    const u128 u = neg ? (u128)0 - (u128)v : (u128)v;
    const uint64_t hi = (uint64_t)(u >> 64);
    double r;
    if (hi == 0) {
        r = (double)(uint64_t)u;
    } else {
#ifdef __CUDA_ARCH__
        const int lz = __clzll((long long)hi);
#else
        const int lz = __builtin_clzll(hi);
#endif
        const int sh = (127 - lz) - 53; /* keep 54 bits: 53 and the rounding bit */
        const uint64_t m = (uint64_t)(u >> sh);
        const bool sticky = (u & (((u128)1 << sh) - 1)) != 0;
        uint64_t q = m >> 1;
        if ((m & 1) && (sticky || (q & 1)))
            q++;
        r = ldexp((double)q, sh + 1);
    }
    return neg ? -r : r;
}

/* Python's // (floor division) and its ceiling twin, exact; the 128-bit form divides in 64 bits when both
 * operands fit (the same value, much cheaper). Device only: the 2D and 3D hulls' row bounds. */
__device__ inline long long floor_div(long long x, long long y)
{
    long long q = x / y;
    if (x % y != 0 && x < 0)
        q--;
    return q;
}
__device__ inline long long floor_div(i128 a, i128 b)
{
    if (a == (i128)(long long)a && b == (i128)(long long)b)
        return floor_div((long long)a, (long long)b);
    i128 q = a / b;
    if (a % b != 0 && a < 0)
        q--;
    return (long long)q;
}
__device__ inline long long ceil_div(long long a, long long b) { return -floor_div(-a, b); }
__device__ inline long long ceil_div(i128 a, i128 b) { return -floor_div(-a, b); }

/* Overflow-checked 128-bit arithmetic with __builtin_*_overflow's meaning (false on overflow). */
__host__ __device__ inline bool i128_mul_ok(i128 a, i128 b, i128 *r)
{
    const u128 ua = a < 0 ? (u128)0 - (u128)a : (u128)a, ub = b < 0 ? (u128)0 - (u128)b : (u128)b;
    if (ua == 0 || ub == 0) {
        *r = 0;
        return true;
    }
    if (ua > ~(u128)0 / ub)
        return false;
    const u128 p = ua * ub, lim = (u128)1 << 127;
    if ((a < 0) != (b < 0)) {
        if (p > lim)
            return false;
        *r = (i128)((u128)0 - p);
    } else {
        if (p >= lim)
            return false;
        *r = (i128)p;
    }
    return true;
}

__host__ __device__ inline bool i128_add_ok(i128 a, i128 b, i128 *r)
{
    const i128 s = (i128)((u128)a + (u128)b);
    if ((a < 0) == (b < 0) && (s < 0) != (a < 0))
        return false;
    *r = s;
    return true;
}

__host__ __device__ inline bool i128_sub_ok(i128 a, i128 b, i128 *r)
{
    const i128 s = (i128)((u128)a - (u128)b);
    if ((a < 0) != (b < 0) && (s < 0) != (a < 0))
        return false;
    *r = s;
    return true;
}

__device__ __forceinline__ i128 shfl_down_i128(i128 v, int d)
{
    const long long lo = (long long)(uint64_t)(u128)v, hi = (long long)(v >> 64);
    const long long l2 = __shfl_down_sync(0xffffffffu, lo, d), h2 = __shfl_down_sync(0xffffffffu, hi, d);
    return (i128)(((u128)(uint64_t)h2 << 64) | (u128)(uint64_t)l2);
}

/* Sum over the warp (every lane gets lane 0's total only; lane 0 holds it). */
__device__ __forceinline__ i128 warp_sum_i128(i128 v)
{
    for (int d = 16; d > 0; d >>= 1)
        v += shfl_down_i128(v, d);
    return v;
}

__device__ __forceinline__ long long warp_min_ll(long long v)
{
    for (int d = 16; d > 0; d >>= 1)
        v = min(v, __shfl_xor_sync(0xffffffffu, v, d));
    return v;
}

__device__ __forceinline__ long long warp_max_ll(long long v)
{
    for (int d = 16; d > 0; d >>= 1)
        v = max(v, __shfl_xor_sync(0xffffffffu, v, d));
    return v;
}

__device__ __forceinline__ long long warp_sum_ll(long long v)
{
    for (int d = 16; d > 0; d >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, d);
    return v;
}

/* ---- float arithmetic with the CPU's (x86 SSE) NaN results ----
 * The device makes a canonical NaN where x86 propagates the NaN operand (the first one when both are) or
 * makes its "indefinite" NaN (sign bit set) for an invalid operation such as 0/0 or inf - inf. NaN only
 * reaches the table from intensities (NaN or inf values, 0/0 weighted centroids), and these helpers give
 * those columns the CPU's bits too. Conversions keep the payload, as cvtss2sd and cvtsd2ss do. */
__device__ __forceinline__ double x86_quiet(double a)
{
    return __longlong_as_double(__double_as_longlong(a) | 0x0008000000000000LL);
}
__device__ __forceinline__ float x86_quiet(float a) { return __int_as_float(__float_as_int(a) | 0x00400000); }
__device__ __forceinline__ double x86_indefinite(double) { return __longlong_as_double((long long)0xfff8000000000000ULL); }
__device__ __forceinline__ float x86_indefinite(float) { return __int_as_float((int)0xffc00000u); }

#define RP_X86_OP(NAME, OP)                                                                                        \
    template <typename A> __device__ __forceinline__ A NAME(A a, A b)                                              \
    {                                                                                                              \
        if (isnan(a))                                                                                              \
            return x86_quiet(a);                                                                                   \
        if (isnan(b))                                                                                              \
            return x86_quiet(b);                                                                                   \
        const A r = a OP b;                                                                                        \
        return isnan(r) ? x86_indefinite(r) : r;                                                                   \
    }
RP_X86_OP(xadd, +)
RP_X86_OP(xsub, -)
RP_X86_OP(xmul, *)
RP_X86_OP(xdiv, /)
#undef RP_X86_OP

__device__ __forceinline__ double xsqrt(double a) { return isnan(a) ? x86_quiet(a) : a < 0 ? x86_indefinite(a) : sqrt(a); }
__device__ __forceinline__ float xsqrt(float a) { return isnan(a) ? x86_quiet(a) : a < 0 ? x86_indefinite(a) : sqrtf(a); }

__device__ __forceinline__ double f2d(float f)
{
    if (!isnan(f))
        return (double)f;
    const unsigned u = (unsigned)__float_as_int(f) | 0x00400000u;
    const unsigned long long d = ((unsigned long long)(u >> 31) << 63) | 0x7ff0000000000000ULL |
                                 ((unsigned long long)(u & 0x007fffffu) << 29);
    return __longlong_as_double((long long)d);
}

__device__ __forceinline__ float d2f(double d)
{
    if (!isnan(d))
        return (float)d;
    const unsigned long long u = (unsigned long long)__double_as_longlong(d) | 0x0008000000000000ULL;
    const unsigned f = ((unsigned)(u >> 63) << 31) | 0x7f800000u | (unsigned)((u >> 29) & 0x007fffffu);
    return __int_as_float((int)f);
}

/* ---- per-region results: one 8-byte slot per value (an int64 or a double's bits), slot-major ---- */
enum rp_slot {
    S_LABEL = 0,
    S_AREA,
    S_AREA_BBOX,
    S_AREA_CONVEX,
    S_AREA_FILLED,
    S_EULER,
    S_BBOX,                 /* 6: lo (z, y, x) then hi + 1, of the image's spatial axes */
    S_CENTROID = S_BBOX + 6, /* 3 */
    S_CENTROID_LOCAL = S_CENTROID + 3,
    S_CENTROID_WEIGHTED = S_CENTROID_LOCAL + 3,
    S_ECCENTRICITY = S_CENTROID_WEIGHTED + 3,
    S_EXTENT,
    S_FERET,
    S_IMAX,
    S_IMEAN,
    S_IMIN,
    S_ISTD,
    S_AXIS_MAJOR,
    S_AXIS_MINOR,
    S_PERIMETER,
    S_SOLIDITY,
    S_MU,                   /* 8 central moments for the host's finishing: mu0 mu20 mu02 mu11 mu30 mu03 mu21 mu12 */
    S_COUNT = S_MU + 8
};

/* Why a region failed (rp_dev.fail), in the order of the CPU's checks. */
enum { RP_FAIL_NONE = 0, RP_FAIL_FLAT_FERET, RP_FAIL_TOO_LARGE, RP_FAIL_INTERNAL, RP_FAIL_CAPACITY };

/* ---- device memory: a bump allocator over a few large blocks (cudaMalloc costs more than the kernels) ---- */
struct rp_arena {
    tp_context *ctx = nullptr;
    std::vector<void *> blocks;
    char *cur = nullptr;
    size_t left = 0;
    rp_arena() = default;
    rp_arena(const rp_arena &) = delete;
    rp_arena &operator=(const rp_arena &) = delete;
    ~rp_arena()
    {
        for (void *p : blocks)
            tp_cuda_free(p);
    }
    tp_status raw(size_t bytes, void **out)
    {
        bytes = (bytes + 255) & ~(size_t)255;
        if (bytes > left) {
            size_t blk = bytes > ((size_t)32 << 20) ? bytes : ((size_t)32 << 20);
            void *p = nullptr;
            tp_status st = tp_cuda_alloc(ctx, blk, &p);
            if (st)
                return st;
            blocks.push_back(p);
            cur = (char *)p;
            left = blk;
        }
        *out = cur;
        cur += bytes;
        left -= bytes;
        return TP_OK;
    }
    /* Make the next block at least `bytes` (one cudaMalloc for what a call is expected to need). */
    tp_status reserve(size_t bytes)
    {
        void *p = nullptr;
        tp_status st = tp_cuda_alloc(ctx, bytes, &p);
        if (st)
            return st;
        blocks.push_back(p);
        cur = (char *)p;
        left = bytes;
        return TP_OK;
    }
    template <typename U> tp_status get(U **p, int64_t n)
    {
        void *q = nullptr;
        tp_status st = raw(sizeof(U) * (size_t)(n > 0 ? n : 1), &q);
        *p = (U *)q;
        return st;
    }
};

/* The regions on the device, structure of arrays. Runs are grouped by region, raster order inside. */
struct rp_dev {
    int ndim;
    int64_t D, H, W;
    int64_t nruns, nreg;
    int64_t *run_line, *run_x0, *run_len, *run_pos; /* run_pos: offset of the run in the region-major pixel order */
    int64_t *run_reg;
    int64_t *reg_label, *reg_first, *reg_nruns, *reg_area;
    int64_t *reg_lo, *reg_hi; /* [3 * nreg]: axis a of region r at a * nreg + r; (z, y, x), z = 0 in 2D */
    uint64_t *vals;           /* [S_COUNT * nreg] */
    int *fail;                /* per region: RP_FAIL_* */
};

__device__ __forceinline__ void put_i64(const rp_dev &R, int slot, int64_t r, int64_t v)
{
    R.vals[(int64_t)slot * R.nreg + r] = (uint64_t)v;
}
__device__ __forceinline__ void put_f64(const rp_dev &R, int slot, int64_t r, double v)
{
    R.vals[(int64_t)slot * R.nreg + r] = (uint64_t)__double_as_longlong(v);
}
__device__ __forceinline__ int64_t get_i64(const rp_dev &R, int slot, int64_t r)
{
    return (int64_t)R.vals[(int64_t)slot * R.nreg + r];
}
__device__ __forceinline__ double get_f64(const rp_dev &R, int slot, int64_t r)
{
    return __longlong_as_double((long long)R.vals[(int64_t)slot * R.nreg + r]);
}

/* One call's state on the host side. */
struct rp_call {
    tp_context *ctx;
    cudaStream_t s;
    rp_arena mem;
    rp_dev R;
    unsigned needs;
    const tp_image *lab, *inten;
};

/* Copy n values from the device and wait for them. */
template <typename U> inline tp_status rp_fetch(rp_call &C, U *host, const U *dev, size_t n)
{
    TP_CUDA_CHECK(C.ctx, cudaMemcpyAsync(host, dev, sizeof(U) * n, cudaMemcpyDeviceToHost, C.s));
    TP_CUDA_CHECK(C.ctx, cudaStreamSynchronize(C.s));
    return TP_OK;
}

/* Several device scalars in one wait. Each wait costs the host's wake-up and the relaunch after it (10-15 us
 * on the H100), which at the seed's 640^2 was most of regionprops_table's time: a one-thread kernel gathers
 * the values (an int or an int64 each, sign-extended) into one array, one copy brings them back. */
constexpr int RP_MAX_SCALARS = 8;
struct rp_scalars {
    const void *p[RP_MAX_SCALARS];
    int wide[RP_MAX_SCALARS]; /* 1: int64, 0: int */
    int n;
};

template <int kUnused = 0> __global__ void k_gather_scalars(rp_scalars s, int64_t *out)
{
    for (int i = 0; i < s.n; i++)
        out[i] = s.wide[i] ? *(const int64_t *)s.p[i] : (int64_t) * (const int *)s.p[i];
}

inline void rp_scalar_add(rp_scalars &s, const int64_t *p)
{
    s.p[s.n] = p;
    s.wide[s.n++] = 1;
}
inline void rp_scalar_add(rp_scalars &s, const long long *p) { rp_scalar_add(s, (const int64_t *)p); }
inline void rp_scalar_add(rp_scalars &s, const unsigned long long *p) { rp_scalar_add(s, (const int64_t *)p); }
inline void rp_scalar_add(rp_scalars &s, const int *p)
{
    s.p[s.n] = p;
    s.wide[s.n++] = 0;
}

/* out[i] = *src_i, with one wait: rp_fetch_scalars(C, out, a, b, ...). */
template <typename... P> inline tp_status rp_fetch_scalars(rp_call &C, int64_t *out, P... src)
{
    static_assert(sizeof...(P) <= RP_MAX_SCALARS, "rp_fetch_scalars: too many values");
    rp_scalars s;
    s.n = 0;
    (rp_scalar_add(s, src), ...);
    int64_t *dev = nullptr;
    tp_status st = C.mem.get(&dev, s.n);
    if (st)
        return st;
    k_gather_scalars<<<1, 1, 0, C.s>>>(s, dev);
    TP_CUDA_LAUNCHED(C.ctx);
    return rp_fetch(C, out, dev, (size_t)s.n);
}

/* Run a CUB algorithm: ask its scratch size, take it from the arena, run. */
template <typename F> inline tp_status rp_cub(rp_call &C, F f)
{
    size_t bytes = 0;
    TP_CUDA_CHECK(C.ctx, f((void *)nullptr, bytes));
    void *tmp = nullptr;
    tp_status st = C.mem.raw(bytes ? bytes : 1, &tmp);
    if (st)
        return st;
    TP_CUDA_CHECK(C.ctx, f(tmp, bytes));
    return TP_OK;
}

/* out = exclusive sums of in (and bo of b when b is given), n items each. */
template <typename V> inline tp_status rp_scan(rp_call &C, const V *a, V *ao, int64_t n, const V *b = nullptr, V *bo = nullptr)
{
    if (n <= SCAN_SMALL_MAX) {
        k_scan_small<V><<<1, SCAN_SMALL_THREADS, 0, C.s>>>(a, ao, b, bo, n);
        TP_CUDA_LAUNCHED(C.ctx);
        return TP_OK;
    }
    tp_status st = rp_cub(C, [&](void *t, size_t &bytes) { return cub::DeviceScan::ExclusiveSum(t, bytes, a, ao, n, C.s); });
    if (!st && b)
        st = rp_cub(C, [&](void *t, size_t &bytes) { return cub::DeviceScan::ExclusiveSum(t, bytes, b, bo, n, C.s); });
    return st;
}

/* Grid for n threads of `threads` each, capped (kernels loop). */
inline unsigned rp_grid(int64_t n, int threads) { return tp_blocks(n, threads) > 65535u * 16 ? 65535u * 16 : tp_blocks(n, threads); }

#define RP_LOOP(i, n) for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)
/* One warp per item. */
#define RP_WARP_LOOP(i, n)                                                                                         \
    for (int64_t i = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5; i < (n);                               \
         i += ((int64_t)gridDim.x * blockDim.x) >> 5)

/* ---- the phases ---- */
tp_status rp_cuda_collect(rp_call &C);   /* runs, regions, area, bbox, label (regionprops_runs.cu) */
tp_status rp_cuda_moments(rp_call &C);   /* centroids and moment properties (regionprops_moments.cu) */
tp_status rp_cuda_hull(rp_call &C);      /* area_convex, solidity, feret_diameter_max (regionprops_hull.cu) */
tp_status rp_cuda_mask(rp_call &C);      /* euler_number, perimeter, area_filled (regionprops_mask.cu) */
tp_status rp_cuda_intensity(rp_call &C); /* intensity_* and centroid_weighted (regionprops_intensity.cu) */

#endif

/* threshold_otsu on the device, bit for bit the CPU reference (cpu_ref/threshold_otsu.c, rules in
 * cpu_ref/otsu.h). The result is a 1-element float64 device image, so `threshold` can read it without the
 * host.
 *
 * Steps, all on the context stream:
 *  1. Range. 8- and 16-bit integers skip it: their histogram spans the whole dtype (256 or 65536 bins) and
 *     the occupied range is read off the counts. Wider integers reduce min/max and bring them to the host
 *     (the one host round trip: the bin count sizes an allocation). Floats reduce min/max/NaN on the device
 *     and small kernels derive np.histogram's edges from them there.
 *  1b. Integer images whose range is far wider than the image (tp_otsu_int_dense_bins, the CPU's own
 *     criterion, says 0: e.g. ten int64 pixels spanning 2^62) use the distinct values instead of a dense
 *     histogram, as the CPU does: the values minus min (uint64, so any int64 range fits) are radix sorted
 *     over just the bits the range needs, cub::DeviceSelect::Unique keeps the distinct ones, and each one's
 *     count is the distance between the lower bounds of it and the next (binary searches in the sorted
 *     keys). Step 3 then runs over those bins, with min + key as the bin's value and the number of distinct
 *     values read from the device: the same sums in the same order as the CPU's tp_otsu_select over its
 *     qsorted distinct values, so the threshold is bit-identical, and it stays on the device.
 *  2. Counts: exact integers. Samples are read 16 bytes at a time and a thread adds each run of equal bins
 *     with one atomic (1-byte images: one atomic a sample), into per-warp (or per-block) u32 histograms in
 *     shared memory flushed into 64-bit global counts, or straight into the global counts when the bins do
 *     not fit on chip.
 *  3. Choice (one block): the class weights are float32 sums and the class sums float64 (float32 for
 *     float32 images) sums in bin order, as numpy's cumsum (cpu_ref/otsu.h). For integer images whose sums
 *     stay below 2^52 every class sum is an exact integer, and so is every weight up to 2^24, so a parallel
 *     int64 scan gives numpy's values; the weights past 2^24 (images of more samples), and every sum of
 *     float images or of huge integer values, are added in order by one thread per direction over bins
 *     staged in shared memory. The divisions, the variance and the first-maximum argmax are then
 *     parallel, elementwise.
 * Errors, as on the CPU, same status and message: a float image holding NaN, or an infinity beside other
 * values (scikit-image: np.histogram raises on a non-finite range; a constant image, +/-inf included,
 * returns its value first), max - min overflowing the dtype, or a range too narrow for nbins increasing
 * edges, are TP_ERR_ARG. The float path learns that from the device state, copied to the host after its
 * last kernel is queued (so its kernels still run back to back): one stream synchronisation per float call,
 * the price of reporting the error; the threshold itself never leaves the device. */
#include "cpu_ref/otsu.h"
#include "gpu/cuda_common.cuh"
#include "gpu/cuda_ops.h"

#include <cub/cub.cuh>
#include <math.h>
#include <string.h>
#include <type_traits>

namespace {

constexpr int kThreads = 256;
constexpr int kFinishThreads = 1024;
constexpr int kSharedBins = 12 * 1024; /* u32 counters per block in shared memory (48 KB) */
constexpr int kRangeBlocks = 1024;     /* partial min/max results, reduced by one block */

/* ---- 1. range ---- */
template <typename T> struct range_part {
    T lo, hi;
    int nan;
};

template <typename T> __device__ __forceinline__ bool is_nan(T v) { return v != v; }

template <typename T>
__global__ void __launch_bounds__(kThreads) range_partial(const T *__restrict__ x, int64_t n, range_part<T> *parts)
{
    __shared__ T s_lo[kThreads], s_hi[kThreads];
    __shared__ int s_nan[kThreads];
    T lo = x[0], hi = x[0];
    int nan = 0;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        T v = x[i];
        if (is_nan(v)) {
            nan = 1;
            continue;
        }
        lo = v < lo || is_nan(lo) ? v : lo;
        hi = v > hi || is_nan(hi) ? v : hi;
    }
    s_lo[threadIdx.x] = lo;
    s_hi[threadIdx.x] = hi;
    s_nan[threadIdx.x] = nan;
    __syncthreads();
    for (int step = kThreads / 2; step > 0; step >>= 1) {
        if ((int)threadIdx.x < step) {
            T a = s_lo[threadIdx.x + step], b = s_hi[threadIdx.x + step];
            T &l = s_lo[threadIdx.x], &h = s_hi[threadIdx.x];
            l = a < l || is_nan(l) ? a : l;
            h = b > h || is_nan(h) ? b : h;
            s_nan[threadIdx.x] |= s_nan[threadIdx.x + step];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        parts[blockIdx.x].lo = s_lo[0];
        parts[blockIdx.x].hi = s_hi[0];
        parts[blockIdx.x].nan = s_nan[0];
    }
}

/* Everything the float histogram needs, derived on the device from the range. */
enum float_status {
    FS_HIST = 0,     /* a histogram */
    FS_CONSTANT,     /* a constant image: the result is the first pixel */
    FS_NONFINITE,    /* errors (the host reports them; the device result is NaN): NaN or an infinity, */
    FS_SPAN,         /* max - min overflows the image dtype, */
    FS_EDGES         /* edges that do not strictly increase (numpy 2's "Too many bins for data range") */
};
struct float_state {
    int status; /* float_status */
    int nan;    /* a NaN was seen */
    double lo, hi; /* min and max of the non-NaN values */
};

/* A block of kRangeBlocks threads folds the partial results into s[0] (a serial loop would wait on each
 * load); every thread returns after the last barrier. */
template <typename T> __device__ void fold_parts(const range_part<T> *parts, int nparts, range_part<T> *s)
{
    const int t = threadIdx.x;
    /* field by field: a struct copy would also load the padding after `nan`, which nothing wrote
     * (compute-sanitizer initcheck reports such reads) */
    const range_part<T> *src = &parts[t < nparts ? t : 0];
    s[t].lo = src->lo;
    s[t].hi = src->hi;
    s[t].nan = src->nan;
    __syncthreads();
    for (int step = kRangeBlocks / 2; step > 0; step >>= 1) {
        if (t < step) {
            range_part<T> p = s[t + step], &r = s[t];
            r.lo = p.lo < r.lo || is_nan(r.lo) ? p.lo : r.lo;
            r.hi = p.hi > r.hi || is_nan(r.hi) ? p.hi : r.hi;
            r.nan |= p.nan;
        }
        __syncthreads();
    }
}

template <typename T>
__global__ void __launch_bounds__(kRangeBlocks) range_final(const range_part<T> *parts, int nparts, range_part<T> *out)
{
    __shared__ range_part<T> s[kRangeBlocks];
    const int t = threadIdx.x;
    fold_parts(parts, nparts, s);
    if (t == 0) {
        out->lo = s[0].lo;
        out->hi = s[0].hi;
        out->nan = s[0].nan;
    }
}

/* np.histogram's setup from the range (min and max of the non-NaN values, NaN seen), the CPU's rules. */
template <typename T> __device__ int setup_status(int nan, double lo, double hi)
{
    if (!nan && lo == hi)
        return FS_CONSTANT; /* np.all(image == first_pixel), +/-inf throughout included */
    if (nan || !isfinite(lo) || !isfinite(hi))
        return FS_NONFINITE;
    if (sizeof(T) == 4 ? !isfinite((float)hi - (float)lo) : !isfinite(hi - lo))
        return FS_SPAN;
    return FS_HIST;
}

/* Edge i and i + 1 (tp_otsu_edge_*, as the CPU; next = e for the last). */
template <typename T> __device__ void edge_pair(double lo, double hi, int64_t nbins, int64_t i, T *e, T *next)
{
    if (sizeof(T) == 4) {
        const float first = (float)lo, last = (float)hi;
        *e = (T)tp_otsu_edge_f32(first, last, nbins, i);
        *next = i < nbins ? (T)tp_otsu_edge_f32(first, last, nbins, i + 1) : *e;
    } else {
        *e = (T)tp_otsu_edge_f64(lo, hi, nbins, i);
        *next = i < nbins ? (T)tp_otsu_edge_f64(lo, hi, nbins, i + 1) : *e;
    }
}

/* np.histogram's setup from the range, the CPU's rules. */
template <typename T> __global__ void float_setup(const range_part<T> *range, float_state *st)
{
    if (threadIdx.x != 0 || blockIdx.x != 0)
        return;
    range_part<T> r;
    r.lo = range->lo;
    r.hi = range->hi;
    r.nan = range->nan;
    float_state s;
    s.lo = (double)r.lo;
    s.hi = (double)r.hi;
    s.nan = r.nan;
    s.status = setup_status<T>(r.nan, s.lo, s.hi);
    *st = s;
}

/* The edges (tp_otsu_edge_*, as the CPU); a pair that does not increase marks the state as numpy's refusal
 * (every thread that sees one writes the same value). */
template <typename T> __global__ void float_edges(float_state *st, int64_t nbins, T *__restrict__ edges)
{
    const float_state s = *st;
    if (s.status != FS_HIST)
        return;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i <= nbins; i += (int64_t)gridDim.x * blockDim.x) {
        T e, next;
        edge_pair<T>(s.lo, s.hi, nbins, i, &e, &next);
        edges[i] = e;
        if (i < nbins && !(e < next))
            atomicExch(&st->status, (int)FS_EDGES);
    }
}

/* range_final, float_setup and float_edges in one block, which also zeroes the counts: at the seed's 640^2
 * each launch cost about as much as the histogram itself. For nbins up to kSharedBins (the edges and counts
 * are a few loop rounds of the block); more bins take the three kernels and a memset. */
template <typename T>
__global__ void __launch_bounds__(kRangeBlocks)
    range_setup_edges(const range_part<T> *parts, int nparts, float_state *st, int64_t nbins, T *__restrict__ edges,
                      unsigned long long *counts)
{
    __shared__ range_part<T> s[kRangeBlocks];
    __shared__ float_state fs;
    __shared__ int bad_edges;
    const int t = threadIdx.x;
    if (t == 0)
        bad_edges = 0; /* seen by all after fold_parts' barriers */
    fold_parts(parts, nparts, s);
    if (t == 0) {
        fs.lo = (double)s[0].lo;
        fs.hi = (double)s[0].hi;
        fs.nan = s[0].nan;
        fs.status = setup_status<T>(s[0].nan, fs.lo, fs.hi);
    }
    __syncthreads();
    for (int64_t i = t; i < nbins; i += blockDim.x)
        counts[i] = 0;
    if (fs.status == FS_HIST) {
        for (int64_t i = t; i <= nbins; i += blockDim.x) {
            T e, next;
            edge_pair<T>(fs.lo, fs.hi, nbins, i, &e, &next);
            edges[i] = e;
            if (i < nbins && !(e < next))
                bad_edges = 1;
        }
    }
    __syncthreads();
    if (t == 0) {
        st->status = bad_edges ? (int)FS_EDGES : fs.status;
        st->nan = fs.nan;
        st->lo = fs.lo;
        st->hi = fs.hi;
    }
}

/* ---- 2. counts ---- */
/* Bin rules: every binner maps a sample to [0, nbins). */
template <typename T> struct bin_offset { /* integers: value - base */
    int64_t base;
    __device__ __forceinline__ int64_t operator()(T v) const { return (int64_t)v - base; }
};
/* tp_otsu_bin_f32, in 32-bit integers up to 2^24 bins: every sample lies in [first, last], so the guess
 * is at most nbins and truncates to int as to int64, and every index fits int (the 64-bit conversion,
 * compares and index arithmetic were many of the float histogram's instructions). */
struct bin_f32 {
    float first, span;
    const float *edges;
    int64_t nbins;
    __device__ __forceinline__ int64_t operator()(float v) const
    {
        if (nbins > (1 << 24))
            return tp_otsu_bin_f32(v, first, span, edges, nbins);
        const int n = (int)nbins;
        const float d = v - first, q = d / span;
        int i = (int)(q * (float)n);
        if (i == n)
            i--;
        if (v < edges[i])
            i--;
        if (v >= edges[i + 1] && i != n - 1)
            i++;
        return i;
    }
};
struct bin_f64 {
    double first, span;
    const double *edges;
    int64_t nbins;
    __device__ __forceinline__ int64_t operator()(double v) const
    {
        return tp_otsu_bin_f64(v, first, span, edges, nbins);
    }
};

/* Float binners read the setup from the device; integer binners are complete on the host. */
template <typename T, typename B> struct binner_maker {
    __device__ __forceinline__ static B make(const B &b, const float_state *, const void *, int64_t) { return b; }
};
template <> struct binner_maker<float, bin_f32> {
    __device__ __forceinline__ static bin_f32 make(const bin_f32 &, const float_state *st, const void *edges,
                                                   int64_t nbins)
    {
        float lo = (float)st->lo, hi = (float)st->hi;
        return bin_f32{lo, hi - lo, (const float *)edges, nbins};
    }
};
template <> struct binner_maker<double, bin_f64> {
    __device__ __forceinline__ static bin_f64 make(const bin_f64 &, const float_state *st, const void *edges,
                                                   int64_t nbins)
    {
        return bin_f64{st->lo, st->hi - st->lo, (const double *)edges, nbins};
    }
};

/* Samples are read 16 bytes at a time when aligned, and a thread adds a run of equal bins with one atomic:
 * images are piecewise constant, so most neighbours share a bin and hot bins see few atomics. */
template <typename T, bool VEC> struct sample_reader {
    static constexpr int V = VEC ? 16 / (int)sizeof(T) : 1;
    __device__ __forceinline__ static void load(const T *x, int64_t v, T *out)
    {
        if (VEC) {
            uint4 raw = __ldg((const uint4 *)x + v);
            memcpy(out, &raw, 16);
        } else {
            out[0] = x[v];
        }
    }
};

template <typename C, typename I> struct run_adder { /* I: the bin index type (int when bins fit on chip) */
    typedef I index;
    C *h;
    I prev = -1;
    unsigned cnt = 0;
    __device__ __forceinline__ void add(I bin)
    {
        if (bin == prev) {
            cnt++;
            return;
        }
        flush();
        prev = bin;
        cnt = 1;
    }
    __device__ __forceinline__ void flush()
    {
        if (cnt)
            atomicAdd(h + prev, (C)cnt);
        cnt = 0;
    }
};

/* One shared atomic a sample, no run test: for 1-byte images, whose bin costs one subtraction, the run
 * test's compare and branch were most of the instructions (the histogram was issue-bound at 1.2 TB/s on a
 * noisy 512^3 volume, where runs are short). */
struct direct_adder {
    typedef int index;
    unsigned *h;
    __device__ __forceinline__ void add(int bin) { atomicAdd(h + bin, 1u); }
    __device__ __forceinline__ void flush() {}
};

/* Every sample of x (vectors of V, then the tail) through bin into the adder. */
template <typename T, bool VEC, typename B, typename A>
__device__ __forceinline__ void scan_samples(const T *__restrict__ x, int64_t n, const B &bin, A &adder)
{
    typedef sample_reader<T, VEC> R;
    const int64_t nvec = n / R::V, stride = (int64_t)gridDim.x * blockDim.x;
    const int64_t first = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    for (int64_t v = first; v < nvec; v += stride) {
        T e[R::V];
        R::load(x, v, e);
#pragma unroll
        for (int k = 0; k < R::V; k++)
            adder.add((typename A::index)bin(e[k]));
    }
    for (int64_t i = nvec * R::V + first; i < n; i += stride)
        adder.add((typename A::index)bin(x[i]));
    adder.flush();
}

/* Histogram with u32 counters in shared memory: one copy per warp when small (less contention), else one
 * per block; flushed into the 64-bit global counts. The grid keeps every block under 2^31 samples. `st` is
 * null for integer images; float edges are staged beside the counters. 1-byte images take one atomic a
 * sample (direct_adder), the others add runs. (Four copies a warp, lane mod 4, padded against bank
 * conflicts, measured slower with either adder on a noisy 512^3 volume: 0.089 vs 0.075 ms direct.) */
template <typename T, bool VEC, typename B>
__global__ void __launch_bounds__(kThreads)
    hist_shared(const T *__restrict__ x, int64_t n, B b, int64_t nbins, int copies, const float_state *st,
                const T *__restrict__ edges, unsigned long long *__restrict__ counts)
{
    extern __shared__ unsigned long long sm_raw[];
    unsigned *h = (unsigned *)sm_raw;
    const int64_t hsize = ((nbins * copies + 1) & ~(int64_t)1); /* keeps the edges 8-byte aligned */
    T *se = (T *)(h + hsize);
    if (st && st->status != 0)
        return; /* constant or non-finite: no histogram (uniform across the grid) */
    for (int64_t i = threadIdx.x; i < nbins * copies; i += blockDim.x)
        h[i] = 0;
    if (edges)
        for (int64_t i = threadIdx.x; i <= nbins; i += blockDim.x)
            se[i] = edges[i];
    __syncthreads();
    const B bin = binner_maker<T, B>::make(b, st, se, nbins);
    unsigned *mine = h + (copies > 1 ? (int64_t)(threadIdx.x >> 5) * nbins : 0);
    if constexpr (sizeof(T) == 1) {
        direct_adder adder{mine};
        scan_samples<T, VEC>(x, n, bin, adder);
    } else {
        run_adder<unsigned, int> adder;
        adder.h = mine;
        scan_samples<T, VEC>(x, n, bin, adder);
    }
    __syncthreads();
    for (int64_t i = threadIdx.x; i < nbins; i += blockDim.x) {
        unsigned long long sum = 0;
        for (int c = 0; c < copies; c++)
            sum += h[c * nbins + i];
        if (sum)
            atomicAdd(counts + i, sum);
    }
}

/* Histogram straight into global 64-bit counts (too many bins for shared memory). */
template <typename T, bool VEC, typename B>
__global__ void __launch_bounds__(kThreads)
    hist_global(const T *__restrict__ x, int64_t n, B b, int64_t nbins, const float_state *st,
                const T *__restrict__ edges, unsigned long long *__restrict__ counts)
{
    if (st && st->status != 0)
        return;
    const B bin = binner_maker<T, B>::make(b, st, edges, nbins);
    run_adder<unsigned long long, int64_t> adder;
    adder.h = counts;
    scan_samples<T, VEC>(x, n, bin, adder);
}

/* ---- 3. the choice ---- */
enum centre_kind { C_INT = 0, C_F32, C_F64 };

struct finish_args {
    const unsigned long long *counts;
    int64_t nbins;     /* bins counted (distinct values: the most there can be) */
    int trim;          /* 8/16-bit integers: the occupied range is the first..last nonzero bin */
    int64_t base;      /* integers: value of bin 0 */
    int kind;          /* centre_kind */
    const void *edges; /* floats */
    const float_state *st;
    int exact;         /* integer images with every partial sum exact: parallel int64 scan */
    double *w1, *s1, *w2, *s2; /* scratch, nbins each: float32 weights, float64 or float32 sums, widened */
    const void *first_pixel;
    int dtype;
    double *out;
    /* distinct values (integers with a range far wider than the image): bin i holds the value base + offs[i]
     * (uint64 arithmetic, wrapping into int64), and there are *nvals bins; both null for dense bins */
    const unsigned long long *offs;
    const long long *nvals;
};

/* The integer value of bin i (integer images). */
__device__ __forceinline__ long long int_value(const finish_args &a, int64_t i)
{
    if (a.offs)
        return (long long)((unsigned long long)a.base + a.offs[i]);
    return (long long)(a.base + i);
}

__device__ __forceinline__ double centre_of(const finish_args &a, int64_t i)
{
    if (a.kind == C_INT)
        return (double)int_value(a, i); /* np.arange(min, max + 1), or the distinct values */
    if (a.kind == C_F32) {
        const float *e = (const float *)a.edges;
        return (double)((e[i] + e[i + 1]) / 2.0f);
    }
    const double *e = (const double *)a.edges;
    return (e[i] + e[i + 1]) / 2.0;
}

/* Is (v, i) a better argmax candidate than (bv, bi)? np.argmax: the first NaN, else the first maximum. */
__device__ __forceinline__ bool better(double v, int64_t i, double bv, int64_t bi)
{
    bool vn = v != v, bn = bv != bv;
    if (vn || bn)
        return vn && (!bn || i < bi);
    return v > bv || (v == bv && i < bi);
}

/* One direction's chain over a staged chunk, in place: c[k] (a float32 count) becomes the float32 weight
 * through bin k, x[k] (a centre) the class sum through it (unless w_only). Adding from 0 equals numpy's
 * cumsum starting with the first term: counts are >= 0 and the end bins' terms are never -0. Groups of B
 * bins are loaded into registers before the additions, so only the adds wait on each other. */
template <int B>
__device__ __forceinline__ void chain_group(float *__restrict__ c, double *__restrict__ x, int kind, bool w_only,
                                            float &w, float &s32, double &s64)
{
    float cv[B];
    double xv[B];
#pragma unroll
    for (int j = 0; j < B; j++) {
        cv[j] = c[j];
        xv[j] = w_only ? 0.0 : x[j];
    }
    if (w_only) {
#pragma unroll
        for (int j = 0; j < B; j++) {
            w = w + cv[j];
            cv[j] = w;
        }
    } else if (kind == C_F32) {
#pragma unroll
        for (int j = 0; j < B; j++) {
            const float ck = cv[j];
            w = w + ck;
            s32 = s32 + tp_otsu_term_f32(ck, (float)xv[j]);
            cv[j] = w;
            xv[j] = (double)s32;
        }
    } else {
#pragma unroll
        for (int j = 0; j < B; j++) {
            const float ck = cv[j];
            w = w + ck;
            s64 = s64 + tp_otsu_term_f64(ck, xv[j]);
            cv[j] = w;
            xv[j] = s64;
        }
    }
#pragma unroll
    for (int j = 0; j < B; j++) {
        c[j] = cv[j];
        if (!w_only)
            x[j] = xv[j];
    }
}

__device__ __forceinline__ void chain(float *__restrict__ c, double *__restrict__ x, int m, int kind, bool w_only,
                                      float &w, float &s32, double &s64)
{
    constexpr int B = 16;
    int k = 0;
    for (; k + B <= m; k += B)
        chain_group<B>(c + k, x + k, kind, w_only, w, s32, s64);
    for (; k < m; k++)
        chain_group<1>(c + k, x + k, kind, w_only, w, s32, s64);
}

/* numpy's cumsum order (tp_otsu_select), for the bins whose sums are not known exactly: thread 0 carries
 * the lower class forward over bins [f0, n - 1), thread 32 (another warp, so the two chains run side by
 * side) the upper class backward over bins g0 down to 1, each from the exact value before its first bin
 * (0 at the ends). Chunks of blockDim bins are staged in shared memory by the whole block, chained there in
 * place, and written back by the whole block, so the serial loops never wait on global memory. cf/xf hold
 * the forward chunk, cb/xb the backward one. w_only: the class sums are already exact (integer scan). */
__device__ void serial_sums(const finish_args &a, const unsigned long long *cnt, int64_t b0, int64_t n, int64_t f0,
                            int64_t g0, bool w_only, float *cf, double *xf, float *cb, double *xb)
{
    const int t = threadIdx.x, T = blockDim.x;
    const int64_t nf = n - 1 - f0 > 0 ? n - 1 - f0 : 0, nb = g0 > 0 ? g0 : 0;
    float w = 0.0f, s32 = 0.0f;
    double s64 = 0.0;
    if (t == 0 && f0 > 0) {
        w = (float)a.w1[f0 - 1];
        s32 = (float)a.s1[f0 - 1];
        s64 = a.s1[f0 - 1];
    } else if (t == 32 && g0 < n - 1) {
        w = (float)a.w2[g0 + 1];
        s32 = (float)a.s2[g0 + 1];
        s64 = a.s2[g0 + 1];
    }
    for (int64_t off = 0; off < nf || off < nb; off += T) {
        const int mf = nf - off < T ? (int)(nf - off > 0 ? nf - off : 0) : T;
        const int mb = nb - off < T ? (int)(nb - off > 0 ? nb - off : 0) : T;
        if (t < mf) {
            cf[t] = (float)cnt[f0 + off + t];
            if (!w_only)
                xf[t] = centre_of(a, b0 + f0 + off + t);
        }
        if (t < mb) {
            cb[t] = (float)cnt[g0 - off - t];
            if (!w_only)
                xb[t] = centre_of(a, b0 + g0 - off - t);
        }
        __syncthreads();
        if (t == 0)
            chain(cf, xf, mf, a.kind, w_only, w, s32, s64);
        else if (t == 32)
            chain(cb, xb, mb, a.kind, w_only, w, s32, s64);
        __syncthreads();
        if (t < mf) {
            a.w1[f0 + off + t] = (double)cf[t];
            if (!w_only)
                a.s1[f0 + off + t] = xf[t];
        }
        if (t < mb) {
            a.w2[g0 - off - t] = (double)cb[t];
            if (!w_only)
                a.s2[g0 - off - t] = xb[t];
        }
        __syncthreads();
    }
}

__global__ void __launch_bounds__(kFinishThreads) otsu_finish(finish_args a)
{
    __shared__ long long s_a[kFinishThreads], s_b[kFinishThreads];
    __shared__ double s_v[kFinishThreads];
    __shared__ int64_t s_i[kFinishThreads];
    typedef cub::BlockScan<long long, kFinishThreads, cub::BLOCK_SCAN_WARP_SCANS> Scan;
    __shared__ typename Scan::TempStorage s_scan;
    __shared__ int64_t s_f0, s_g0;
    const int t = threadIdx.x, T = blockDim.x;
    if (a.st) {
        int status = a.st->status;
        if (status == FS_CONSTANT) {
            if (t == 0)
                *a.out = tpc::load_f64(a.first_pixel, a.dtype);
            return;
        }
        if (status != FS_HIST) {
            if (t == 0) /* an error, which the host reports (the dispatcher then frees this output) */
                *a.out = __longlong_as_double(0x7ff8000000000000ll);
            return;
        }
    }
    /* the occupied bins [b0, b1] */
    const int64_t nb = a.nvals ? (int64_t)*a.nvals : a.nbins;
    int64_t b0 = 0, b1 = nb - 1;
    if (a.trim) {
        long long lo = nb, hi = -1;
        for (int64_t i = t; i < nb; i += T)
            if (a.counts[i]) {
                lo = lo < i ? lo : i;
                hi = hi > i ? hi : i;
            }
        s_a[t] = lo;
        s_b[t] = hi;
        __syncthreads();
        for (int step = T / 2; step > 0; step >>= 1) {
            if (t < step) {
                s_a[t] = s_a[t + step] < s_a[t] ? s_a[t + step] : s_a[t];
                s_b[t] = s_b[t + step] > s_b[t] ? s_b[t + step] : s_b[t];
            }
            __syncthreads();
        }
        b0 = s_a[0];
        b1 = s_b[0];
        __syncthreads();
    }
    if (b0 == b1) { /* a constant image */
        if (t == 0)
            *a.out = tpc::load_f64(a.first_pixel, a.dtype);
        return;
    }
    const int64_t n = b1 - b0 + 1;
    const unsigned long long *cnt = a.counts + b0;
    float *cnt32 = (float *)s_v; /* serial staging: s_v holds 2 x 1024 float32 counts, s_a and s_b centres */
    if (a.exact) {
        /* chunked scan: thread t owns bins [t*C, (t+1)*C); int64 sums of the float32 counts (integers) and of
         * count * value: exact, so equal to numpy's float64 class sums in any order */
        const int64_t C = (n + T - 1) / T, lo = t * C, hi = lo + C < n ? lo + C : n;
        long long sw = 0, ss = 0;
        for (int64_t i = lo; i < hi; i++) {
            const long long c = (long long)(float)cnt[i];
            sw += c;
            ss += c * int_value(a, b0 + i);
        }
        if (t == 0) {
            s_f0 = n - 1; /* no bin needs the serial pass unless a prefix crosses 2^24 */
            s_g0 = 0;
        }
        /* exclusive prefix over the chunk totals: a block scan (a serial loop over 1024 totals in shared
         * memory took 20 us, the whole kernel's time at 256 bins) */
        long long pw, ps, tw, ts;
        Scan(s_scan).ExclusiveSum(sw, pw, tw);
        __syncthreads(); /* s_scan is reused */
        Scan(s_scan).ExclusiveSum(ss, ps, ts);
        __syncthreads(); /* s_f0, s_g0 written before are seen by all */
        const long long lim = 1ll << 24;
        for (int64_t i = lo; i < hi; i++) {
            const long long c = (long long)(float)cnt[i], cs = c * int_value(a, b0 + i);
            /* forward inclusive; backward = total - forward exclusive */
            const long long up = tw - pw;
            a.w2[i] = (double)up;
            a.s2[i] = (double)(ts - ps);
            if (up > lim && up - c <= lim)
                s_g0 = i; /* the last bin whose upper weight passes 2^24 */
            if (pw <= lim && pw + c > lim)
                s_f0 = i; /* the first bin whose lower weight passes 2^24 */
            pw += c;
            ps += cs;
            a.w1[i] = (double)pw;
            a.s1[i] = (double)ps;
        }
        __syncthreads();
        /* float32 weights are exact integers up to 2^24; past it (more than 2^24 samples) they round, in
         * numpy's order */
        if (tw > lim)
            serial_sums(a, cnt, b0, n, s_f0, s_g0, true, cnt32, (double *)s_a, cnt32 + kFinishThreads,
                        (double *)s_b);
    } else {
        serial_sums(a, cnt, b0, n, 0, n - 1, false, cnt32, (double *)s_a, cnt32 + kFinishThreads, (double *)s_b);
    }
    __syncthreads();
    /* variance of each split (float32 for float32 images; a float32 value widened compares the same) and the
     * first maximum */
    double bv = 0.0;
    int64_t bi = -1;
    for (int64_t i = t; i < n - 1; i += T) {
        const float w1 = (float)a.w1[i], w2 = (float)a.w2[i + 1];
        const double v = a.kind == C_F32 ? (double)tp_otsu_variance_f32(w1, (float)a.s1[i], w2, (float)a.s2[i + 1])
                                         : tp_otsu_variance_f64(w1, a.s1[i], w2, a.s2[i + 1]);
        if (bi < 0 || better(v, i, bv, bi)) {
            bv = v;
            bi = i;
        }
    }
    s_v[t] = bv;
    s_i[t] = bi;
    __syncthreads();
    for (int step = T / 2; step > 0; step >>= 1) {
        if (t < step) {
            int64_t oi = s_i[t + step];
            if (oi >= 0 && (s_i[t] < 0 || better(s_v[t + step], oi, s_v[t], s_i[t]))) {
                s_v[t] = s_v[t + step];
                s_i[t] = oi;
            }
        }
        __syncthreads();
    }
    if (t == 0)
        *a.out = centre_of(a, b0 + s_i[0]);
}

__global__ void write_first_pixel(const void *px, int dtype, double *out) { *out = tpc::load_f64(px, dtype); }

/* ---- host side ---- */
static unsigned hist_blocks(int64_t n)
{
    /* enough blocks to fill the device, and at most 2^31 samples per block so u32 counters cannot wrap; at
     * least 16 samples a thread: every block flushes all its bins to global atomics, and at 640^2 a block of
     * one sample a thread flushed 256 counters for 256 samples */
    int64_t need = (n + ((int64_t)1 << 31) - 1) >> 31, b = (n + 16 * kThreads - 1) / (16 * kThreads);
    if (b > 1024)
        b = 1024;
    if (b < need)
        b = need;
    return (unsigned)(b < 1 ? 1 : b > 65535 ? 65535 : b);
}

template <typename T, bool VEC, typename B>
static tp_status count_as(tp_context *ctx, const T *x, int64_t n, const B &b, int64_t nbins, const float_state *st,
                          const T *edges, unsigned long long *counts)
{
    cudaStream_t s = tp_cuda_stream(ctx);
    unsigned blocks = hist_blocks(n);
    if (nbins <= kSharedBins) {
        const size_t edge_bytes = edges ? sizeof(T) * (size_t)(nbins + 1) : 0;
        int copies = kThreads / 32;
        if (sizeof(unsigned) * (size_t)(nbins * copies) + edge_bytes > 32 * 1024)
            copies = 1;
        size_t sh = sizeof(unsigned) * (size_t)((nbins * copies + 1) & ~(int64_t)1) + edge_bytes;
        if (sh > 48 * 1024)
            TP_CUDA_CHECK(ctx, cudaFuncSetAttribute(hist_shared<T, VEC, B>,
                                                    cudaFuncAttributeMaxDynamicSharedMemorySize, (int)sh));
        hist_shared<T, VEC, B><<<blocks, kThreads, sh, s>>>(x, n, b, nbins, copies, st, edges, counts);
    } else {
        hist_global<T, VEC, B><<<blocks, kThreads, 0, s>>>(x, n, b, nbins, st, edges, counts);
    }
    TP_CUDA_LAUNCHED(ctx);
    return TP_OK;
}

template <typename T, typename B>
static tp_status count(tp_context *ctx, const T *x, int64_t n, const B &b, int64_t nbins, const float_state *st,
                       const T *edges, unsigned long long *counts, bool zeroed = false)
{
    if (!zeroed)
        TP_CUDA_CHECK(ctx, cudaMemsetAsync(counts, 0, sizeof(unsigned long long) * (size_t)nbins, tp_cuda_stream(ctx)));
    if (((uintptr_t)x & 15) == 0) /* device allocations are; a wrapped pointer may not be */
        return count_as<T, true, B>(ctx, x, n, b, nbins, st, edges, counts);
    return count_as<T, false, B>(ctx, x, n, b, nbins, st, edges, counts);
}

template <typename T> static int64_t type_min()
{
    return std::is_signed<T>::value ? (sizeof(T) == 1 ? -128 : -32768) : 0;
}

/* range_partial's grid: a thread a sample, at most kRangeBlocks blocks (what one block folds). */
static int range_blocks(int64_t n)
{
    const int64_t b = (n + kThreads - 1) / kThreads;
    return (int)(b < 1 ? 1 : b > kRangeBlocks ? kRangeBlocks : b);
}

/* Range reduction into `range` (device). */
template <typename T>
static tp_status reduce_range(tp_context *ctx, const T *x, int64_t n, range_part<T> *parts, range_part<T> *range)
{
    cudaStream_t s = tp_cuda_stream(ctx);
    const int blocks = range_blocks(n);
    range_partial<T><<<blocks, kThreads, 0, s>>>(x, n, parts);
    TP_CUDA_LAUNCHED(ctx);
    range_final<T><<<1, kRangeBlocks, 0, s>>>(parts, blocks, range);
    TP_CUDA_LAUNCHED(ctx);
    return TP_OK;
}

/* Class sums are exact integers (so the parallel int64 scan gives numpy's float64 sums) when n * max|value|
 * < 2^52, values in [lo, hi] (the float32 counts may round up, by less than 2^-23; checked without
 * overflow). */
static int exact_sums(int64_t n, int64_t lo, int64_t hi)
{
    const double mag = fabs((double)lo) > fabs((double)hi) ? fabs((double)lo) : fabs((double)hi);
    return (double)n * (mag + 1.0) < 4503599627370496.0;
}

static tp_status finish(tp_context *ctx, const finish_args &a)
{
    otsu_finish<<<1, kFinishThreads, 0, tp_cuda_stream(ctx)>>>(a);
    TP_CUDA_LAUNCHED(ctx);
    return TP_OK;
}

/* The per-bin arrays every path hands to otsu_finish: the counts and its four scratch columns. */
struct bin_arrays {
    unsigned long long *counts = nullptr;
    double *w1 = nullptr, *s1 = nullptr, *w2 = nullptr, *s2 = nullptr;
    void take(tpc::scratch &sc, int64_t nbins)
    {
        counts = sc.take<unsigned long long>((size_t)nbins);
        w1 = sc.take<double>((size_t)nbins);
        s1 = sc.take<double>((size_t)nbins);
        w2 = sc.take<double>((size_t)nbins);
        s2 = sc.take<double>((size_t)nbins);
    }
};

/* A dense integer histogram, bin i for value base + i, then the choice. Values lie in [base, hi] (what
 * exact_sums bounds); trim: the occupied range is read off the counts (8/16-bit, no range pass). */
template <typename T>
static tp_status otsu_int_dense(tp_context *ctx, const tp_image *in, int64_t nbins, int64_t base, int64_t hi, int trim,
                                double *out)
{
    const int64_t n = tp_image_count(in);
    tpc::scratch sc;
    bin_arrays b;
    for (int carve = 0; carve < 2; carve++) {
        b.take(sc, nbins);
        tp_status st;
        if (carve == 0 && (st = sc.alloc(ctx)))
            return st;
    }
    tp_status st = count<T, bin_offset<T>>(ctx, (const T *)in->data, n, bin_offset<T>{base}, nbins, nullptr, nullptr,
                                           b.counts);
    if (st)
        return st;
    finish_args a{b.counts, nbins, trim, base, C_INT, nullptr, nullptr, exact_sums(n, base, hi), b.w1, b.s1, b.w2,
                  b.s2, in->data, (int)in->dtype, out, nullptr, nullptr};
    return finish(ctx, a);
}

/* 8- and 16-bit integers: the whole dtype range, no range pass, no host round trip. */
template <typename T> static tp_status otsu_small_int(tp_context *ctx, const tp_image *in, double *out)
{
    const int64_t nbins = (int64_t)1 << (8 * sizeof(T)), base = type_min<T>();
    return otsu_int_dense<T>(ctx, in, nbins, base, base + nbins - 1, 1, out);
}

/* Keys of the distinct-value path: value - min as uint64 (exact for any int64 range). */
template <typename T>
__global__ void __launch_bounds__(kThreads) sparse_keys(const T *__restrict__ x, int64_t n, long long lo,
                                                        unsigned long long *__restrict__ keys)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        keys[i] = (unsigned long long)(long long)x[i] - (unsigned long long)lo;
}

/* First index of sorted[0, n) not below v. */
__device__ __forceinline__ int64_t lower_bound(const unsigned long long *__restrict__ sorted, int64_t n,
                                               unsigned long long v)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* counts[j]: how often the j-th distinct key occurs (the sorted keys from its lower bound to the next's). */
__global__ void __launch_bounds__(kThreads)
    sparse_counts(const unsigned long long *__restrict__ sorted, int64_t n, const unsigned long long *__restrict__ uniq,
                  const long long *__restrict__ nuniq, unsigned long long *__restrict__ counts)
{
    const int64_t m = *nuniq;
    for (int64_t j = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; j < m; j += (int64_t)gridDim.x * blockDim.x) {
        const int64_t first = lower_bound(sorted, n, uniq[j]);
        const int64_t end = j + 1 < m ? lower_bound(sorted, n, uniq[j + 1]) : n;
        counts[j] = (unsigned long long)(end - first);
    }
}

/* Integer images whose range is far wider than the image (tp_otsu_int_dense_bins gave 0; the CPU's
 * otsu_int_sparse): Otsu over the distinct values, all on the device; lo < hi are the image's min and max.
 * Memory: 7 x 8 bytes per sample plus cub's scratch, O(pixels) whatever the range. */
template <typename T>
static tp_status otsu_int_sparse(tp_context *ctx, const T *x, int64_t n, int64_t lo, int64_t hi, const tp_image *in,
                                 double *out)
{
    cudaStream_t s = tp_cuda_stream(ctx);
    const unsigned long long span = (unsigned long long)hi - (unsigned long long)lo; /* > 0 */
    const int end_bit = 64 - __builtin_clzll(span); /* the keys are < 2^end_bit: sort only those bits */
    tpc::scratch sc;
    unsigned long long *keys = nullptr, *sorted = nullptr;
    long long *nuniq = nullptr;
    bin_arrays b; /* one bin per pixel: the most distinct values there can be */
    void *tmp = nullptr;
    size_t sort_bytes = 0, uniq_bytes = 0;
    TP_CUDA_CHECK(ctx, cub::DeviceRadixSort::SortKeys(nullptr, sort_bytes, keys, sorted, n, 0, end_bit, s));
    TP_CUDA_CHECK(ctx, cub::DeviceSelect::Unique(nullptr, uniq_bytes, sorted, keys, nuniq, n, s));
    const size_t tmp_bytes = sort_bytes > uniq_bytes ? sort_bytes : uniq_bytes;
    for (int carve = 0; carve < 2; carve++) {
        keys = sc.take<unsigned long long>((size_t)n); /* the keys, then the distinct keys */
        sorted = sc.take<unsigned long long>((size_t)n);
        nuniq = sc.take<long long>(1);
        b.take(sc, n);
        tmp = sc.take<char>(tmp_bytes);
        tp_status st;
        if (carve == 0 && (st = sc.alloc(ctx)))
            return st;
    }
    const unsigned blocks = tpc::grid_for(n, kThreads);
    sparse_keys<T><<<blocks, kThreads, 0, s>>>(x, n, (long long)lo, keys);
    TP_CUDA_LAUNCHED(ctx);
    size_t bytes = sort_bytes;
    TP_CUDA_CHECK(ctx, cub::DeviceRadixSort::SortKeys(tmp, bytes, keys, sorted, n, 0, end_bit, s));
    bytes = uniq_bytes;
    TP_CUDA_CHECK(ctx, cub::DeviceSelect::Unique(tmp, bytes, sorted, keys, nuniq, n, s));
    sparse_counts<<<blocks, kThreads, 0, s>>>(sorted, n, keys, nuniq, b.counts);
    TP_CUDA_LAUNCHED(ctx);
    finish_args a{b.counts, n, 0, lo, C_INT, nullptr, nullptr, exact_sums(n, lo, hi), b.w1, b.s1, b.w2, b.s2, in->data,
                  (int)in->dtype, out, keys, nuniq};
    return finish(ctx, a);
}

/* 32- and 64-bit integers: min and max come to the host to size the histogram. */
template <typename T> static tp_status otsu_wide_int(tp_context *ctx, const tp_image *in, double *out)
{
    const int64_t n = tp_image_count(in);
    cudaStream_t s = tp_cuda_stream(ctx);
    range_part<T> host_range;
    {
        tpc::scratch rs;
        range_part<T> *parts = nullptr, *range = nullptr;
        for (int carve = 0; carve < 2; carve++) {
            parts = rs.take<range_part<T>>(kRangeBlocks);
            range = rs.take<range_part<T>>(1);
            tp_status st;
            if (carve == 0 && (st = rs.alloc(ctx)))
                return st;
        }
        /* zeroed first: the copy to the host reads the struct's padding too (initcheck) */
        TP_CUDA_CHECK(ctx, cudaMemsetAsync(range, 0, sizeof *range, s));
        tp_status st = reduce_range<T>(ctx, (const T *)in->data, n, parts, range);
        if (st)
            return st;
        /* the op's one host round trip: the bin count decides an allocation */
        TP_CUDA_CHECK(ctx, cudaMemcpyAsync(&host_range, range, sizeof host_range, cudaMemcpyDeviceToHost, s));
        TP_CUDA_CHECK(ctx, cudaStreamSynchronize(s));
    }
    const int64_t lo = (int64_t)host_range.lo, hi = (int64_t)host_range.hi;
    if (lo == hi) {
        write_first_pixel<<<1, 1, 0, s>>>(in->data, (int)in->dtype, out);
        TP_CUDA_LAUNCHED(ctx);
        return TP_OK;
    }
    const int64_t nbins = tp_otsu_int_dense_bins(lo, hi, n); /* the CPU's criterion: same path */
    if (nbins == 0)
        return otsu_int_sparse<T>(ctx, (const T *)in->data, n, lo, hi, in, out);
    return otsu_int_dense<T>(ctx, in, nbins, lo, hi, 0, out);
}

/* float32 / float64: everything on the device. */
template <typename T, typename B> static tp_status otsu_float(tp_context *ctx, const tp_image *in, int64_t nbins,
                                                               double *out)
{
    const int64_t n = tp_image_count(in);
    cudaStream_t s = tp_cuda_stream(ctx);
    tpc::scratch sc;
    range_part<T> *parts = nullptr, *range = nullptr;
    float_state *fs = nullptr;
    T *edges = nullptr;
    bin_arrays b;
    for (int carve = 0; carve < 2; carve++) {
        parts = sc.take<range_part<T>>(kRangeBlocks);
        range = sc.take<range_part<T>>(1);
        fs = sc.take<float_state>(1);
        edges = sc.take<T>((size_t)nbins + 1);
        b.take(sc, nbins);
        tp_status st;
        if (carve == 0 && (st = sc.alloc(ctx)))
            return st;
    }
    const bool fused = nbins <= kSharedBins;
    tp_status st;
    if (fused) { /* range, state, edges and zeroed counts: two launches (every field of fs is written) */
        const int blocks = range_blocks(n);
        range_partial<T><<<blocks, kThreads, 0, s>>>((const T *)in->data, n, parts);
        TP_CUDA_LAUNCHED(ctx);
        range_setup_edges<T><<<1, kRangeBlocks, 0, s>>>(parts, blocks, fs, nbins, edges, b.counts);
        TP_CUDA_LAUNCHED(ctx);
    } else {
        /* zeroed first: the state comes back to the host whole, fields no kernel wrote included (initcheck) */
        TP_CUDA_CHECK(ctx, cudaMemsetAsync(fs, 0, sizeof *fs, s));
        if ((st = reduce_range<T>(ctx, (const T *)in->data, n, parts, range)))
            return st;
        float_setup<T><<<1, 32, 0, s>>>(range, fs);
        TP_CUDA_LAUNCHED(ctx);
        float_edges<T><<<tpc::grid_for(nbins + 1, kThreads), kThreads, 0, s>>>(fs, nbins, edges);
        TP_CUDA_LAUNCHED(ctx);
    }
    if ((st = count<T, B>(ctx, (const T *)in->data, n, B{}, nbins, fs, edges, b.counts, fused)))
        return st;
    finish_args a{b.counts, nbins, 0, 0, sizeof(T) == 4 ? C_F32 : C_F64, edges, fs, 0, b.w1, b.s1, b.w2, b.s2, in->data,
                  (int)in->dtype, out, nullptr, nullptr};
    if ((st = finish(ctx, a)))
        return st;
    /* the errors the CPU reports (NaN, infinities, an overflowing range, too many bins), reported alike: the
     * state comes to the host after the last kernel, so the kernels run back to back */
    float_state h;
    TP_CUDA_CHECK(ctx, cudaMemcpyAsync(&h, fs, sizeof h, cudaMemcpyDeviceToHost, s));
    TP_CUDA_CHECK(ctx, cudaStreamSynchronize(s));
    const char *dt = tp_dtype_name(in->dtype);
    switch (h.status) {
    case FS_HIST:
    case FS_CONSTANT:
        return TP_OK;
    case FS_NONFINITE:
        return tp_error(ctx, TP_ERR_ARG, "threshold_otsu: image: expected finite values, got %s",
                        tp_otsu_nonfinite_what(h.nan, h.lo, h.hi));
    case FS_SPAN:
        return tp_error(ctx, TP_ERR_ARG, "threshold_otsu: image: expected max - min to be finite in %s, got %g - %g",
                        dt, h.hi, h.lo);
    case FS_EDGES:
        return tp_error(ctx, TP_ERR_ARG, "threshold_otsu: nbins: expected at most as many bins as %s can split the "
                        "range [%.9g, %.9g] into, got %lld", dt, h.lo, h.hi, (long long)nbins);
    default:
        return tp_error(ctx, TP_ERR_INTERNAL, "threshold_otsu: unexpected device state %d", h.status);
    }
}

} // namespace

extern "C" tp_status tp_cuda_threshold_otsu(tp_context *ctx, const tp_call *c)
{
    const tp_image *in = c->in[0];
    int64_t one = 1;
    tp_status st = tp_out_image(ctx, c, TP_FLOAT64, 1, &one, -1);
    if (st)
        return st;
    double *out = (double *)c->out->image.data;
    switch (in->dtype) {
    case TP_UINT8:
        return otsu_small_int<uint8_t>(ctx, in, out);
    case TP_INT8:
        return otsu_small_int<int8_t>(ctx, in, out);
    case TP_UINT16:
        return otsu_small_int<uint16_t>(ctx, in, out);
    case TP_INT16:
        return otsu_small_int<int16_t>(ctx, in, out);
    case TP_UINT32:
        return otsu_wide_int<uint32_t>(ctx, in, out);
    case TP_INT32:
        return otsu_wide_int<int32_t>(ctx, in, out);
    case TP_INT64:
        return otsu_wide_int<int64_t>(ctx, in, out);
    case TP_FLOAT32:
        return otsu_float<float, bin_f32>(ctx, in, tp_arg_i64(c, "nbins"), out);
    case TP_FLOAT64:
        return otsu_float<double, bin_f64>(ctx, in, tp_arg_i64(c, "nbins"), out);
    default:
        return tp_error(ctx, TP_ERR_DTYPE, "threshold_otsu: image: unsupported dtype %s", tp_dtype_name(in->dtype));
    }
}

/* label2rgb on the device, bit for bit the CPU reference (cpu_ref/label2rgb.c, scikit-image 0.19.3's overlay):
 *  1. A colour index per pixel: the background label gets its own index; any other value v gets
 *     rank(v) % ncolors, rank(v) = the number of distinct non-background values below v. Dense values (the
 *     usual label image) use a presence bitmap over [min, max] and a prefix count of its words; sparse ones
 *     a radix sort, the distinct values and a binary search per pixel. 8- and 16-bit labels take the bitmap
 *     of their whole dtype and never wait for the host; wider ones bring min and max to the host once (the
 *     op's one host round trip: they size the bitmap or pick the sort).
 *  2. Paint: the CPU's float64 (or, for a float32 image, float32) expressions in the same order, no FMA.
 *     A block stages 256 pixels' 768 output doubles in shared memory so the writes are coalesced.
 * Bytes (8192^2 int32 labels, no image): the paint writes 24 bytes a pixel (1.6 GB, 0.54 ms at 2970 GB/s) and
 * dominates. Without an image and with dense labels (the usual case) the paint ranks each label itself from
 * the bitmap and its prefix (a few KB, in L1) instead of reading a colour index written by a pass of its own:
 * that pass read the labels and wrote a byte a pixel (0.2 ms at 8192^2). With an image underneath, the index
 * pass stays (ranking there too would instantiate the paint for every label type times every image type). */
#include "gpu/cuda_common.cuh"
#include "gpu/cuda_ops.h"

#include <cub/cub.cuh>
#include <math.h>
#include <string.h>
#include <type_traits>

namespace {

constexpr int kThreads = 256;
constexpr uint8_t kBgIndex = 255; /* colour index of the background (at most TP_MAX_COLORS = 64 colours) */

/* skimage.color.colorlabel.DEFAULT_COLORS with skimage.color.rgb_colors' values, as the CPU reference. */
const double kDefaultColors[10 * 3] = {
    1, 0, 0,     0, 0, 1,         1, 1, 0,     1, 0, 1,         0, 0.502, 0,
    0.294, 0, 0.51, 1, 0.549, 0, 0, 1, 1,    1, 0.753, 0.796, 0.604, 0.804, 0.196,
};

struct palette {
    double c[TP_MAX_COLORS * 3];
    double bg[3];
    int bg_none; /* bg_color None: the background shows the underlay */
};

/* ---- 1. colour indices ---- */
template <typename L>
__global__ void range_partial(const L *__restrict__ v, int64_t n, int64_t *lo_out, int64_t *hi_out)
{
    __shared__ int64_t s_lo[kThreads], s_hi[kThreads];
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t x = (int64_t)v[i];
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
    }
    s_lo[threadIdx.x] = lo;
    s_hi[threadIdx.x] = hi;
    __syncthreads();
    for (int step = kThreads / 2; step > 0; step >>= 1) {
        if ((int)threadIdx.x < step) {
            const int t = threadIdx.x;
            s_lo[t] = s_lo[t + step] < s_lo[t] ? s_lo[t + step] : s_lo[t];
            s_hi[t] = s_hi[t + step] > s_hi[t] ? s_hi[t + step] : s_hi[t];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        lo_out[blockIdx.x] = s_lo[0];
        hi_out[blockIdx.x] = s_hi[0];
    }
}

/* One block folds the partial results in parallel (a serial loop would wait on every load). */
constexpr int kRangeParts = 1024;
__global__ void __launch_bounds__(kRangeParts) range_final(const int64_t *lo, const int64_t *hi, int nparts,
                                                          int64_t *out)
{
    __shared__ int64_t s_lo[kRangeParts], s_hi[kRangeParts];
    const int t = threadIdx.x;
    s_lo[t] = t < nparts ? lo[t] : INT64_MAX;
    s_hi[t] = t < nparts ? hi[t] : INT64_MIN;
    __syncthreads();
    for (int step = kRangeParts / 2; step > 0; step >>= 1) {
        if (t < step) {
            s_lo[t] = s_lo[t + step] < s_lo[t] ? s_lo[t + step] : s_lo[t];
            s_hi[t] = s_hi[t + step] > s_hi[t] ? s_hi[t + step] : s_hi[t];
        }
        __syncthreads();
    }
    if (t == 0) {
        out[0] = s_lo[0];
        out[1] = s_hi[0];
    }
}

/* Presence bitmap of v - base, built per block in shared memory when it fits (kSharedWords) and ORed into
 * the global bitmap once per block: atomics on one global word from every pixel of the background would
 * queue in L2. A bit already set (the shared copy is coherent within the block) costs no atomic. */
constexpr int kSharedWords = 12 * 1024;
template <typename L>
__global__ void mark_present_shared(const L *__restrict__ v, int64_t n, int64_t base, int64_t words, uint32_t *bits)
{
    __shared__ uint32_t s_bits[kSharedWords];
    for (int64_t w = threadIdx.x; w < words; w += blockDim.x)
        s_bits[w] = 0;
    __syncthreads();
    /* four labels a thread per step, so that each thread has several loads in flight; consecutive repeats
     * (labels come in runs) are tested once */
    const int64_t nq = n / 4;
    for (int64_t q = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; q < nq; q += (int64_t)gridDim.x * blockDim.x) {
        L x[4];
#pragma unroll
        for (int j = 0; j < 4; j++)
            x[j] = v[4 * q + j];
#pragma unroll
        for (int j = 0; j < 4; j++) {
            if (j > 0 && x[j] == x[j - 1])
                continue;
            const uint64_t k = (uint64_t)((int64_t)x[j] - base);
            const uint32_t bit = 1u << (k & 31);
            if (!(s_bits[k >> 5] & bit))
                atomicOr(s_bits + (k >> 5), bit);
        }
    }
    for (int64_t i = 4 * nq + blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        const uint64_t k = (uint64_t)((int64_t)v[i] - base);
        const uint32_t bit = 1u << (k & 31);
        if (!(s_bits[k >> 5] & bit))
            atomicOr(s_bits + (k >> 5), bit);
    }
    __syncthreads();
    for (int64_t w = threadIdx.x; w < words; w += blockDim.x)
        if (s_bits[w])
            atomicOr(bits + w, s_bits[w]);
}

/* Wide ranges: straight to the global bitmap. A thread takes 8 consecutive labels and skips repeats (labels
 * come in regions); a stale cached 0 only costs a redundant atomicOr. */
constexpr int kMarkRun = 8;
template <typename L>
__global__ void mark_present(const L *__restrict__ v, int64_t n, int64_t base, uint32_t *bits)
{
    const int64_t nrun = (n + kMarkRun - 1) / kMarkRun;
    for (int64_t q = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; q < nrun; q += (int64_t)gridDim.x * blockDim.x) {
        int64_t prev = -1;
        const int64_t i0 = q * kMarkRun, i1 = i0 + kMarkRun < n ? i0 + kMarkRun : n;
        for (int64_t i = i0; i < i1; i++) {
            int64_t k = (int64_t)v[i] - base;
            if (k == prev)
                continue;
            prev = k;
            uint32_t bit = 1u << (k & 31);
            if (!(bits[k >> 5] & bit))
                atomicOr(bits + (k >> 5), bit);
        }
    }
}

/* The background takes no rank: clear its bit; then count each word's bits for the prefix. */
__global__ void word_counts(uint32_t *bits, int64_t words, int64_t base, uint64_t range, int64_t bg,
                            int64_t *counts)
{
    for (int64_t w = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; w < words; w += (int64_t)gridDim.x * blockDim.x) {
        uint32_t b = bits[w];
        uint64_t k = (uint64_t)bg - (uint64_t)base;
        if (k < range && (int64_t)(k >> 5) == w)
            b &= ~(1u << (k & 31));
        bits[w] = b;
        counts[w] = __popc(b);
    }
}

/* The colour index of a pixel from the dense bitmap and its prefix counts. */
template <typename L> struct dense_index {
    const L *__restrict__ v;
    int64_t base;
    const uint32_t *__restrict__ bits;
    const int64_t *__restrict__ prefix;
    int64_t bg;
    int ncolors;
    __device__ __forceinline__ uint8_t operator()(int64_t i) const
    {
        const int64_t x = (int64_t)v[i];
        if (x == bg)
            return kBgIndex;
        const uint64_t k = (uint64_t)(x - base);
        const int64_t rank = prefix[k >> 5] + __popc(bits[k >> 5] & ((1u << (k & 31)) - 1u));
        return (uint8_t)(rank % ncolors);
    }
};

/* The colour index written by an index pass. */
struct stored_index {
    const uint8_t *__restrict__ cidx;
    __device__ __forceinline__ uint8_t operator()(int64_t i) const { return cidx[i]; }
};

template <typename L>
__global__ void index_dense(dense_index<L> idx, int64_t n, uint8_t *__restrict__ cidx)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        cidx[i] = idx(i);
}

template <typename L> __global__ void widen(const L *__restrict__ v, int64_t n, int64_t *__restrict__ out)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        out[i] = (int64_t)v[i];
}

/* First index of uniq[0..k) not below x. */
__device__ __forceinline__ int64_t lower_bound(const int64_t *uniq, int64_t k, int64_t x)
{
    int64_t a = 0, b = k;
    while (a < b) {
        int64_t m = a + (b - a) / 2;
        if (uniq[m] < x)
            a = m + 1;
        else
            b = m;
    }
    return a;
}

template <typename L>
__global__ void index_sparse(const L *__restrict__ v, int64_t n, const int64_t *__restrict__ uniq,
                             const int64_t *__restrict__ nuniq, int64_t bg, int ncolors, uint8_t *__restrict__ cidx)
{
    __shared__ int s_bg_present;
    const int64_t k = *nuniq;
    if (threadIdx.x == 0) {
        int64_t j = lower_bound(uniq, k, bg);
        s_bg_present = j < k && uniq[j] == bg;
    }
    __syncthreads();
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        int64_t x = (int64_t)v[i];
        if (x == bg) {
            cidx[i] = kBgIndex;
            continue;
        }
        /* a smaller background value takes no rank */
        int64_t r = lower_bound(uniq, k, x) - (s_bg_present && bg < x);
        cidx[i] = (uint8_t)(r % ncolors);
    }
}

/* ---- 2. paint ---- */
__device__ __forceinline__ float fl(float x) { return floorf(x); }
__device__ __forceinline__ double fl(double x) { return floor(x); }
__device__ __forceinline__ float fm(float a, float b) { return fmodf(a, b); }
__device__ __forceinline__ double fm(double a, double b) { return fmod(a, b); }

/* numpy's a % 1.0 */
template <typename F> __device__ __forceinline__ F remainder1(F a)
{
    F m = fm(a, (F)1);
    if (m != 0) {
        if (m < 0)
            m += (F)1;
    } else {
        m = (F)0;
    }
    return m;
}

/* rgb2hsv, S *= saturation, hsv2rgb (skimage.color.colorconv), as the CPU reference's desaturate, non-finite
 * channels included (docs/nonfinite.md): numpy's max and ptp propagate NaN and rgb2hsv then sets every NaN of
 * H, S and V to 0, so a pixel with a NaN channel becomes V = 0, S = 0 and comes out black (its H is whatever
 * np.empty_like left there, which cannot matter with V = 0); infinities go through the same formulas, and
 * an H or S they make NaN (inf / inf, inf - inf) is zeroed too. */
template <typename F> __device__ __forceinline__ void desaturate(F *px, F saturation)
{
    F r = px[0], g = px[1], b = px[2];
    if (isnan(r) || isnan(g) || isnan(b)) {
        px[0] = px[1] = px[2] = (F)0;
        return;
    }
    F v = r > g ? r : g;
    v = v > b ? v : b;
    F mn = r < g ? r : g;
    mn = mn < b ? mn : b;
    F delta = v - mn;
    F s = 0, h = 0;
    if (delta != 0) {
        s = delta / v;
        F h0 = 0;
        if (b == v)
            h0 = (F)4 + (r - g) / delta;
        else if (g == v)
            h0 = (F)2 + (b - r) / delta;
        else
            h0 = (g - b) / delta;
        h = remainder1(h0 / (F)6);
        if (isnan(h))
            h = 0;
        if (isnan(s))
            s = 0;
    }
    s *= saturation;
    F hi = fl(h * (F)6);
    F f = h * (F)6 - hi;
    F p = v * ((F)1 - s);
    F q = v * ((F)1 - f * s);
    F t = v * ((F)1 - ((F)1 - f) * s);
    switch ((uint8_t)hi % 6) {
    case 0: px[0] = v, px[1] = t, px[2] = p; break;
    case 1: px[0] = q, px[1] = v, px[2] = p; break;
    case 2: px[0] = p, px[1] = v, px[2] = t; break;
    case 3: px[0] = p, px[1] = q, px[2] = v; break;
    case 4: px[0] = t, px[1] = p, px[2] = v; break;
    default: px[0] = v, px[1] = p, px[2] = q; break;
    }
}

/* Writes 3 doubles per pixel of the chunk through shared memory, coalesced. */
__device__ __forceinline__ void flush_chunk(const double *s_out, double *out, int64_t p0, int64_t n)
{
    const int64_t first = 3 * p0, end = 3 * n;
    for (int k = threadIdx.x; k < 3 * kThreads; k += blockDim.x)
        if (first + k < end)
            out[first + k] = s_out[k];
}

/* No image: alpha 1 and a zero underlay; numpy still computes colour * 1 + 0 * (1 - 1). */
template <typename Idx>
__global__ void __launch_bounds__(kThreads)
    paint_plain(const Idx cidx, int64_t n, const __grid_constant__ palette pal, double *__restrict__ out)
{
    __shared__ double s_out[3 * kThreads];
    const double one = 1.0, zero_times = 0.0 * (1.0 - 1.0);
    for (int64_t p0 = blockIdx.x * (int64_t)kThreads; p0 < n; p0 += (int64_t)gridDim.x * kThreads) {
        int64_t p = p0 + threadIdx.x;
        if (p < n) {
            const uint8_t ci = cidx(p);
            const double *col = ci == kBgIndex ? pal.bg : pal.c + 3 * ci;
            for (int c = 0; c < 3; c++)
                s_out[3 * threadIdx.x + c] = ci == kBgIndex && pal.bg_none ? 0.0 : col[c] * one + zero_times;
        }
        __syncthreads();
        flush_chunk(s_out, out, p0, n);
        __syncthreads();
    }
}

struct image_view {
    const void *data;
    int rgb;       /* a channel axis of 3 */
    int64_t inner; /* product of the image's axes after its channel axis */
    double scale;  /* img_as_float (cpu_ref/convert.h) */
    int clamp;
};

__device__ __forceinline__ int64_t elem_index(const image_view &im, int64_t p, int ch)
{
    if (!im.rgb)
        return p;
    if (im.inner == 1)
        return p * 3 + ch;
    return ((p / im.inner) * 3 + ch) * im.inner + p % im.inner;
}

/* The image's samples as the CPU loads them: float32 raw (and float32 maths), anything else img_as_float. */
template <typename T, typename F> __device__ __forceinline__ F sample(const image_view &im, int64_t i)
{
    return (F)tpc::to_float(((const T *)im.data)[i], im.scale, im.clamp);
}
template <> __device__ __forceinline__ float sample<float, float>(const image_view &im, int64_t i)
{
    return ((const float *)im.data)[i];
}

template <typename T, typename F>
__global__ void __launch_bounds__(kThreads)
    paint_image(const uint8_t *__restrict__ cidx, int64_t n, const __grid_constant__ palette pal, image_view im,
                double alpha, double image_alpha, double saturation, double *__restrict__ out)
{
    __shared__ double s_out[3 * kThreads];
    const F ia = (F)image_alpha, one_m_ia = (F)(1.0 - image_alpha), sat = (F)saturation;
    const F one_m_alpha = (F)(1.0 - alpha);
    for (int64_t p0 = blockIdx.x * (int64_t)kThreads; p0 < n; p0 += (int64_t)gridDim.x * kThreads) {
        int64_t p = p0 + threadIdx.x;
        if (p < n) {
            F px[3];
            if (im.rgb) {
                for (int ch = 0; ch < 3; ch++)
                    px[ch] = sample<T, F>(im, elem_index(im, p, ch));
                desaturate(px, sat);
            } else {
                px[0] = px[1] = px[2] = sample<T, F>(im, p);
            }
            uint8_t ci = cidx[p];
            const double *col = ci == kBgIndex ? pal.bg : pal.c + 3 * ci;
            for (int c = 0; c < 3; c++) {
                F under = px[c] * ia + one_m_ia;
                s_out[3 * threadIdx.x + c] = ci == kBgIndex && pal.bg_none
                                                 ? (double)under
                                                 : col[c] * alpha + (double)(F)(under * one_m_alpha);
            }
        }
        __syncthreads();
        flush_chunk(s_out, out, p0, n);
        __syncthreads();
    }
}

/* ---- host side ---- */
template <typename L> static int64_t dtype_base()
{
    return std::is_signed<L>::value ? (sizeof(L) == 1 ? -128 : -32768) : 0;
}

/* What the paint needs besides the colour indices. */
struct paint_args {
    palette pal;
    const tp_image *im; /* the image underneath, or NULL */
    image_view iv;
    double alpha, image_alpha, saturation;
    double *out;
};

/* Paint from colour indices already written (cidx, n bytes on the device). */
static tp_status paint_stored(tp_context *ctx, const uint8_t *cidx, int64_t n, const paint_args &a)
{
    cudaStream_t s = tp_cuda_stream(ctx);
    const unsigned blocks = tpc::grid_for(n, kThreads);
    if (!a.im) {
        paint_plain<<<blocks, kThreads, 0, s>>>(stored_index{cidx}, n, a.pal, a.out);
    } else if (a.im->dtype == TP_FLOAT32) {
        paint_image<float, float><<<blocks, kThreads, 0, s>>>(cidx, n, a.pal, a.iv, a.alpha, a.image_alpha,
                                                              a.saturation, a.out);
    } else {
        TPC_DISPATCH(a.im->dtype, T,
                     paint_image<T, double><<<blocks, kThreads, 0, s>>>(cidx, n, a.pal, a.iv, a.alpha, a.image_alpha,
                                                                        a.saturation, a.out))
    }
    TP_CUDA_LAUNCHED(ctx);
    return TP_OK;
}

/* Colour indices of labels of C type L, then the paint. Every scratch block lives until the paint is queued
 * (their stream-ordered frees come after it). */
template <typename L>
static tp_status label2rgb_typed(tp_context *ctx, const L *v, int64_t n, int64_t bg, int ncolors, const paint_args &a)
{
    cudaStream_t s = tp_cuda_stream(ctx);
    const unsigned blocks = tpc::grid_for(n, kThreads);
    int64_t base, hi;
    if constexpr (sizeof(L) <= 2) {
        base = dtype_base<L>();
        hi = base + ((int64_t)1 << (8 * sizeof(L))) - 1;
    } else {
        /* the op's one host round trip: min and max size the bitmap or choose the sort */
        tpc::scratch rs;
        int64_t *lo_p = nullptr, *hi_p = nullptr, *mm = nullptr;
        const int parts = kRangeParts;
        for (int carve = 0; carve < 2; carve++) {
            lo_p = rs.take<int64_t>(parts);
            hi_p = rs.take<int64_t>(parts);
            mm = rs.take<int64_t>(2);
            tp_status st;
            if (carve == 0 && (st = rs.alloc(ctx)))
                return st;
        }
        int nb = (int)((n + kThreads - 1) / kThreads < parts ? (n + kThreads - 1) / kThreads : parts);
        range_partial<L><<<nb, kThreads, 0, s>>>(v, n, lo_p, hi_p);
        TP_CUDA_LAUNCHED(ctx);
        range_final<<<1, kRangeParts, 0, s>>>(lo_p, hi_p, nb, mm);
        TP_CUDA_LAUNCHED(ctx);
        int64_t host_mm[2];
        TP_CUDA_CHECK(ctx, cudaMemcpyAsync(host_mm, mm, sizeof host_mm, cudaMemcpyDeviceToHost, s));
        TP_CUDA_CHECK(ctx, cudaStreamSynchronize(s));
        base = host_mm[0];
        hi = host_mm[1];
    }
    const uint64_t range = (uint64_t)hi - (uint64_t)base + 1; /* 0 when the values span all of int64 */
    const uint64_t dense_limit = (uint64_t)(n < (INT64_C(1) << 20) ? (INT64_C(1) << 20) : 2 * n);
    tpc::scratch sc;
    uint8_t *cidx = nullptr;
    if (range != 0 && range <= dense_limit) {
        const int64_t words = (int64_t)((range + 31) / 32);
        uint32_t *bits = nullptr;
        int64_t *counts = nullptr, *prefix = nullptr;
        void *tmp = nullptr;
        size_t tmp_bytes = 0;
        TP_CUDA_CHECK(ctx, cub::DeviceScan::ExclusiveSum(nullptr, tmp_bytes, counts, prefix, words, s));
        for (int carve = 0; carve < 2; carve++) {
            bits = sc.take<uint32_t>((size_t)words);
            counts = sc.take<int64_t>((size_t)words);
            prefix = sc.take<int64_t>((size_t)words);
            tmp = sc.take<char>(tmp_bytes);
            cidx = a.im ? sc.take<uint8_t>((size_t)n) : nullptr;
            tp_status st;
            if (carve == 0 && (st = sc.alloc(ctx)))
                return st;
        }
        TP_CUDA_CHECK(ctx, cudaMemsetAsync(bits, 0, sizeof(uint32_t) * (size_t)words, s));
        if (words <= kSharedWords) {
            int64_t mb = (n + kThreads - 1) / kThreads;
            mb = mb < 1 ? 1 : mb > 1056 ? 1056 : mb; /* about one wave: every block pays a flush of the bitmap */
            mark_present_shared<L><<<(unsigned)mb, kThreads, 0, s>>>(v, n, base, words, bits);
        } else {
            mark_present<L><<<blocks, kThreads, 0, s>>>(v, n, base, bits);
        }
        TP_CUDA_LAUNCHED(ctx);
        word_counts<<<tpc::grid_for(words, kThreads), kThreads, 0, s>>>(bits, words, base, range, bg, counts);
        TP_CUDA_LAUNCHED(ctx);
        TP_CUDA_CHECK(ctx, cub::DeviceScan::ExclusiveSum(tmp, tmp_bytes, counts, prefix, words, s));
        const dense_index<L> idx{v, base, bits, prefix, bg, ncolors};
        if (!a.im) { /* the paint ranks the labels itself */
            paint_plain<<<blocks, kThreads, 0, s>>>(idx, n, a.pal, a.out);
            TP_CUDA_LAUNCHED(ctx);
            return TP_OK;
        }
        index_dense<L><<<blocks, kThreads, 0, s>>>(idx, n, cidx);
        TP_CUDA_LAUNCHED(ctx);
        return paint_stored(ctx, cidx, n, a);
    }
    /* sparse: sort, keep the distinct values, search */
    int64_t *keys = nullptr, *sorted = nullptr, *uniq = nullptr, *nuniq = nullptr;
    void *tmp = nullptr;
    size_t sort_bytes = 0, uniq_bytes = 0;
    TP_CUDA_CHECK(ctx, cub::DeviceRadixSort::SortKeys(nullptr, sort_bytes, keys, sorted, n, 0, 64, s));
    TP_CUDA_CHECK(ctx, cub::DeviceSelect::Unique(nullptr, uniq_bytes, sorted, uniq, nuniq, n, s));
    size_t tmp_bytes = sort_bytes > uniq_bytes ? sort_bytes : uniq_bytes;
    for (int carve = 0; carve < 2; carve++) {
        keys = sc.take<int64_t>((size_t)n);
        sorted = sc.take<int64_t>((size_t)n);
        uniq = sc.take<int64_t>((size_t)n);
        nuniq = sc.take<int64_t>(1);
        tmp = sc.take<char>(tmp_bytes);
        cidx = sc.take<uint8_t>((size_t)n);
        tp_status st;
        if (carve == 0 && (st = sc.alloc(ctx)))
            return st;
    }
    widen<L><<<blocks, kThreads, 0, s>>>(v, n, keys);
    TP_CUDA_LAUNCHED(ctx);
    TP_CUDA_CHECK(ctx, cub::DeviceRadixSort::SortKeys(tmp, sort_bytes, keys, sorted, n, 0, 64, s));
    TP_CUDA_CHECK(ctx, cub::DeviceSelect::Unique(tmp, uniq_bytes, sorted, uniq, nuniq, n, s));
    index_sparse<L><<<blocks, kThreads, 0, s>>>(v, n, uniq, nuniq, bg, ncolors, cidx);
    TP_CUDA_LAUNCHED(ctx);
    return paint_stored(ctx, cidx, n, a);
}

} // namespace

extern "C" tp_status tp_cuda_label2rgb(tp_context *ctx, const tp_call *c)
{
    const tp_image *lab = c->in[0], *im = c->n_in > 1 ? c->in[1] : NULL;
    paint_args a;
    memset(&a, 0, sizeof a);
    a.im = im;
    image_view &iv = a.iv;
    if (im) {
        iv.data = im->data;
        iv.rgb = im->channel_axis >= 0;
        if (iv.rgb && im->shape[im->channel_axis] != 3)
            return tp_error(ctx, TP_ERR_SHAPE,
                            "label2rgb: image: expected 3 channels (RGB) on the channel axis, got %lld",
                            (long long)im->shape[im->channel_axis]);
        iv.inner = 1;
        for (int k = im->channel_axis + 1; iv.rgb && k < im->ndim; k++)
            iv.inner *= im->shape[k];
        iv.scale = tp_img_as_float_scale(im->dtype);
        iv.clamp = tp_img_as_float_clamps(im->dtype);
    }
    if (lab->ndim + 1 > TP_MAX_DIMS)
        return tp_error(ctx, TP_ERR_SHAPE, "label2rgb: label: expected at most %d axes, got %d", TP_MAX_DIMS - 1,
                        lab->ndim);
    switch (lab->dtype) {
    case TP_BOOL: case TP_UINT8: case TP_INT8: case TP_UINT16: case TP_INT16: case TP_UINT32: case TP_INT32:
    case TP_INT64: break;
    default:
        return tp_error(ctx, TP_ERR_DTYPE, "label2rgb: label: expected a bool or integer image, got %s",
                        tp_dtype_name(lab->dtype));
    }
    palette &pal = a.pal;
    int ncolors;
    const double *colors = tp_arg_colors(c, "colors", &ncolors);
    if (!colors) {
        colors = kDefaultColors;
        ncolors = 10;
    }
    memcpy(pal.c, colors, sizeof(double) * 3 * (size_t)ncolors);
    pal.bg_none = tp_arg_is_none(c, "bg_color");
    if (!pal.bg_none) {
        int nbg;
        memcpy(pal.bg, tp_arg_colors(c, "bg_color", &nbg), sizeof pal.bg);
    }
    a.alpha = im ? tp_arg_f64(c, "alpha") : 1.0;
    a.image_alpha = tp_arg_f64(c, "image_alpha");
    a.saturation = tp_arg_f64(c, "saturation");
    const int64_t bg = tp_arg_i64(c, "bg_label"), n = tp_image_count(lab);

    int64_t shape[TP_MAX_DIMS];
    memcpy(shape, lab->shape, sizeof(int64_t) * (size_t)lab->ndim);
    shape[lab->ndim] = 3;
    tp_status st = tp_out_image(ctx, c, TP_FLOAT64, lab->ndim + 1, shape, lab->ndim);
    if (st)
        return st;
    a.out = (double *)c->out->image.data;
    const void *v = lab->data;
    switch (lab->dtype) {
    case TP_BOOL:
    case TP_UINT8: return label2rgb_typed<uint8_t>(ctx, (const uint8_t *)v, n, bg, ncolors, a);
    case TP_INT8: return label2rgb_typed<int8_t>(ctx, (const int8_t *)v, n, bg, ncolors, a);
    case TP_UINT16: return label2rgb_typed<uint16_t>(ctx, (const uint16_t *)v, n, bg, ncolors, a);
    case TP_INT16: return label2rgb_typed<int16_t>(ctx, (const int16_t *)v, n, bg, ncolors, a);
    case TP_UINT32: return label2rgb_typed<uint32_t>(ctx, (const uint32_t *)v, n, bg, ncolors, a);
    case TP_INT32: return label2rgb_typed<int32_t>(ctx, (const int32_t *)v, n, bg, ncolors, a);
    default: return label2rgb_typed<int64_t>(ctx, (const int64_t *)v, n, bg, ncolors, a);
    }
}

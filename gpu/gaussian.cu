/* gaussian on the device, bit for bit the CPU reference (cpu_ref/gaussian.c): img_as_float (or a cast with
 * preserve_range) on load, one 1-D correlation per filtered axis in axis order, each pass rounded to the
 * output dtype before the next reads it. The weights are the host's (cpu_ref/gauss_weights.h), never
 * recomputed here; every output sample is scipy's sequence of double operations,
 *     o = x[0] * w[0];  for j = r .. 1:  o += (x[-j] + x[+j]) * w[j]
 * compiled without FMA contraction (-fmad=false), and the borders are tp_border_index, shared with the CPU.
 *
 * Kernels:
 *  - fused2: the last two axes filtered: the vertical pass reads global memory into rotating register
 *    windows (no input tile), into a shared intermediate tile; the horizontal pass walks that tile.
 *    Described at the kernel. A volume's z pass (any passes before the last two) runs first, alone, into a
 *    scratch image that fused2 then reads.
 *  - line: one pass along an axis whose elements are contiguous or close (inner stride < 8): a segment of a
 *    line plus its halo in shared memory.
 *  - vert: one pass along an axis with an inner stride of 8 or more: correlate_k along 32 adjacent lines.
 *  - direct: any radius, reads global memory per tap; only for radii whose tiles do not fit on chip.
 * Weights travel inside the launch parameters (radius < kInlineTaps) or, larger, as one small upload. */
#include "cpu_ref/gauss_weights.h"
#include "gpu/cuda_common.cuh"
#include "gpu/cuda_ops.h"

#include <limits>
#include <vector>

namespace {

constexpr int kInlineTaps = 128; /* w[0..r] by value when r < 128 (1 KB per axis) */
struct taps {
    double w[kInlineTaps];
};

constexpr int kThreads = 256;
constexpr int kLineSeg = 1024;            /* outputs per line task: 4 per thread */
constexpr int kLoadBatch = 8;             /* loads in flight per thread while staging a tile */
constexpr size_t kMaxShared = 200 * 1024; /* opt-in dynamic shared memory we allow ourselves (sm_90: 227 KB) */

/* The output type of an input type: float32 stays float32, everything else becomes float64. */
template <typename T> struct out_of {
    typedef double type;
};
template <> struct out_of<float> {
    typedef float type;
};

struct conv_args {
    double scale;
    int clamp;
};

/* Only signed integers ever clamp (tp_img_as_float_clamps); elsewhere the test is dropped at compile time. */
template <typename T> __device__ __forceinline__ double load(const T *p, int64_t i, conv_args cv)
{
    constexpr bool may_clamp = std::numeric_limits<T>::is_integer && std::numeric_limits<T>::is_signed;
    return tpc::to_float(p[i], cv.scale, may_clamp ? cv.clamp : 0);
}

/* Weights into shared memory: from the launch parameters or from the uploaded copy. */
__device__ __forceinline__ void stage_taps(double *dst, const taps &tw, const double *wdev, int64_t r)
{
    for (int64_t i = threadIdx.x; i <= r; i += blockDim.x)
        dst[i] = wdev ? wdev[i] : tw.w[i];
}

/* ---- line: lines (o, c) of `len` elements strided by `inner`, segments of kLineSeg outputs ---- */
template <typename T, typename O>
__global__ void __launch_bounds__(kThreads)
    gauss_line(const T *__restrict__ src, O *__restrict__ dst, int64_t outer, int64_t len, int64_t inner, int64_t r,
               const __grid_constant__ taps tw, const double *__restrict__ wdev, conv_args cv, int mode, double cval)
{
    extern __shared__ double sm[];
    double *w = sm, *x = sm + (r + 1);
    stage_taps(w, tw, wdev, r);
    const int64_t nseg = (len + kLineSeg - 1) / kLineSeg, ntask = outer * inner * nseg;
    for (int64_t task = blockIdx.x; task < ntask; task += gridDim.x) {
        int64_t line = task / nseg, i0 = (task % nseg) * kLineSeg;
        int64_t o = line / inner, c = line % inner, base = o * len * inner + c;
        int64_t n = len - i0 < kLineSeg ? len - i0 : kLineSeg;
        __syncthreads(); /* the previous task is done with x (and the taps are staged) */
        for (int64_t k0 = threadIdx.x; k0 < n + 2 * r; k0 += kLoadBatch * blockDim.x) {
            double v[kLoadBatch]; /* independent loads in flight */
#pragma unroll
            for (int u = 0; u < kLoadBatch; u++) {
                int64_t k = k0 + u * blockDim.x, m = tp_border_index(i0 - r + k, len, (tp_border)mode);
                v[u] = k < n + 2 * r && m >= 0 ? load(src, base + m * inner, cv) : cval;
            }
#pragma unroll
            for (int u = 0; u < kLoadBatch; u++)
                if (k0 + u * blockDim.x < n + 2 * r)
                    x[k0 + u * blockDim.x] = v[u];
        }
        __syncthreads();
        /* four independent outputs per thread keep the double pipeline busy */
        double acc[4];
        const double *cen = x + r + threadIdx.x;
#pragma unroll
        for (int q = 0; q < 4; q++)
            acc[q] = cen[q * kThreads] * w[0];
        for (int64_t j = r; j >= 1; j--) {
            const double wj = w[j];
#pragma unroll
            for (int q = 0; q < 4; q++)
                acc[q] += (cen[q * kThreads - j] + cen[q * kThreads + j]) * wj;
        }
#pragma unroll
        for (int q = 0; q < 4; q++) {
            int64_t k = threadIdx.x + q * kThreads;
            if (k < n)
                dst[base + (i0 + k) * inner] = (O)acc[q];
        }
    }
}

/* ---- direct: one output per thread, taps read from global memory; for radii too large to tile ---- */
template <typename T, typename O>
__global__ void gauss_direct(const T *__restrict__ src, O *__restrict__ dst, int64_t outer, int64_t len,
                             int64_t inner, int64_t r, const double *__restrict__ w, conv_args cv, int mode,
                             double cval)
{
    const int64_t total = outer * len * inner;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t c = i % inner, l = i / inner % len, o = i / inner / len, base = o * len * inner + c;
        int64_t m = tp_border_index(l, len, (tp_border)mode);
        double acc = load(src, base + m * inner, cv) * __ldg(w);
        for (int64_t j = r; j >= 1; j--) {
            int64_t a = tp_border_index(l - j, len, (tp_border)mode), b = tp_border_index(l + j, len, (tp_border)mode);
            double xa = a < 0 ? cval : load(src, base + a * inner, cv);
            double xb = b < 0 ? cval : load(src, base + b * inner, cv);
            acc += (xa + xb) * __ldg(w + j);
        }
        dst[i] = (O)acc;
    }
}

/* q = a / b for 0 <= a < 2^22 and 0 < b, by a float reciprocal and one correction each way: tile-local
 * indices must not pay for an integer division per element. */
__device__ __forceinline__ int div_small(int a, int b, float inv_b)
{
    int q = __float2int_rz((float)a * inv_b);
    q -= q * b > a;
    q += (q + 1) * b <= a;
    return q;
}

/* ---- fused2: (batch, H, W), axis H then axis W, tiles of kF2H x kF2W outputs, no input tile ----
 * The vertical pass reads the image straight from global memory (a tile's inputs are L1/L2 hits): a work
 * item is one column of the tile's extended width and kK consecutive rows, its kK + 2 ry inputs walked by a
 * rotating register window (correlate_k) and converted once each. Its results, rounded to the output dtype,
 * fill the transposed intermediate tile (pitch kF2H + 1: conflict-free both ways); the horizontal pass walks
 * that tile with the same routine, lanes on rows, and stores through a per-warp transpose buffer. Shared
 * memory holds no input: the intermediate tile (78 KB at rx = 20), 16 KB of transpose buffers and the row
 * map, 97 KB in all, so two blocks fit an SM (ptxas then caps registers at 128; unbounded it takes ~220).
 * Radii whose tile does not fit (rx above ~225) go pass by pass. */
constexpr int kK = 8;                        /* outputs per work item, both passes */
constexpr int kF2H = 32, kF2W = 256;         /* fused2 tile; kF2H == warp size: horizontal lanes are rows */
constexpr int kF2WNarrow = 64;               /* the tile width of small images (launch_fused2) */
constexpr int kF2VP = kF2H + 1;              /* pitch of the transposed intermediate tile */
constexpr int kF2Warps = kThreads / 32;
constexpr int kF2Stage = 32 * kK;            /* per-warp output transpose buffer, doubles */
static_assert((kK & (kK - 1)) == 0 && kF2H == 32 && kF2H % kK == 0 && kF2W % kK == 0, "fused2 tile");
static_assert(kF2H * (kF2W / kK) % kThreads == 0, "every warp takes part in every horizontal round");

/* Sample sources for correlate_k: at(i) reads position i (relative to output 0) anywhere, for the set-up;
 * a cursor reads one position and steps by one, for the taps. */
struct smem_src { /* the transposed tile: positions `s` doubles apart */
    const double *c;
    int s;
    struct cursor {
        const double *p;
        int s;
        __device__ double get() const { return *p; }
        __device__ void fwd() { p += s; }
        __device__ void back() { p -= s; }
    };
    __device__ double at(int i) const { return c[i * s]; }
    __device__ cursor cur(int i) const { return cursor{c + i * s, s}; }
};

template <typename T> struct gcol_src { /* an image column, every row inside the image: no mapping */
    const T *c;
    int64_t W;
    conv_args cv;
    struct cursor {
        const T *p;
        int64_t W;
        conv_args cv;
        __device__ double get() const { return load(p, 0, cv); }
        __device__ void fwd() { p += W; }
        __device__ void back() { p -= W; }
    };
    __device__ double at(int i) const { return load(c, i * W, cv); }
    __device__ cursor cur(int i) const { return cursor{c + i * W, W, cv}; }
};

template <typename T> struct gtab_src { /* an image column near the top or bottom: rows through the row map */
    const T *col;
    const int *row; /* row[i]: the image row of position i, -1 for cval (constant mode) */
    int64_t W;
    double cval;
    conv_args cv;
    __device__ double get(const int *p) const { return *p < 0 ? cval : load(col, (int64_t)*p * W, cv); }
    struct cursor {
        gtab_src s;
        const int *p;
        __device__ double get() const { return s.get(p); }
        __device__ void fwd() { p++; }
        __device__ void back() { p--; }
    };
    __device__ double at(int i) const { return get(row + i); }
    __device__ cursor cur(int i) const { return cursor{*this, row + i}; }
};

/* correlate_k: kK outputs of a line, each scipy's sequence (x[0] * w[0], then pairs j = r .. 1). Window A
 * holds x[-j .. kK-1-j] and B x[j .. kK-1+j]; position p always lives in slot p mod kK, so a step with
 * j = m (mod kK) has constant slots: it uses both windows and loads x[kK-j] into A and x[j-1] into B for
 * the next step (two loads per kK outputs). The steps run as: r mod kK guarded steps, whole chunks of kK
 * while j > kK, then, when r >= kK, the last kK steps with constant j reading the centre samples (kept
 * from the set-up) instead of loading them again: every input is read once. */
template <int m, typename Cur>
__device__ __forceinline__ void kstep(double (&acc)[kK], double (&A)[kK], double (&B)[kK], const double *w, int &j,
                                      Cur &L, Cur &R)
{
    const double wj = w[j];
#pragma unroll
    for (int q = 0; q < kK; q++)
        acc[q] += (A[(q - m + kK) % kK] + B[(q + m) % kK]) * wj;
    A[(kK - m) % kK] = L.get();
    B[(m - 1 + kK) % kK] = R.get();
    L.fwd();
    R.back();
    j--;
}

/* steps with j = m, m-1, .. 1 (mod kK); `all` false: only those with m <= h (the head) */
template <int m, typename Cur>
__device__ __forceinline__ void ksteps(bool all, int h, double (&acc)[kK], double (&A)[kK], double (&B)[kK],
                                       const double *w, int &j, Cur &L, Cur &R)
{
    if constexpr (m >= 1) {
        if (all || h >= m)
            kstep<m>(acc, A, B, w, j, L, R);
        ksteps<m - 1>(all, h, acc, A, B, w, j, L, R);
    }
}

/* the last steps, j = J .. 1, all samples in registers */
template <int J>
__device__ __forceinline__ void ktail(double (&acc)[kK], const double (&A)[kK], const double (&B)[kK],
                                      const double (&C)[kK], const double *w)
{
    if constexpr (J >= 1) {
        const double wj = w[J];
#pragma unroll
        for (int q = 0; q < kK; q++) {
            double l = q - J >= 0 ? C[(q - J + kK) % kK] : A[(q - J + kK) % kK];
            double r = q + J < kK ? C[(q + J) % kK] : B[(q + J) % kK];
            acc[q] += (l + r) * wj;
        }
        ktail<J - 1>(acc, A, B, C, w);
    }
}

template <typename S>
__device__ __forceinline__ void correlate_k(const S &src, const double *w, int r, double (&acc)[kK])
{
    double A[kK], B[kK], C[kK];
    const int h = r % kK;
#pragma unroll
    for (int q = 0; q < kK; q++) {
        C[q] = src.at(q);
        acc[q] = C[q] * w[0];
    }
#pragma unroll
    for (int s = 0; s < kK; s++) { /* slot s: the window position congruent to s */
        A[s] = src.at(-r + (s + h) % kK);
        B[s] = src.at(r + (s - h + kK) % kK);
    }
    typename S::cursor L = src.cur(kK - r), R = src.cur(r - 1);
    int j = r;
    ksteps<kK - 1>(false, h, acc, A, B, w, j, L, R);
    while (j > kK) { /* j = 0 (mod kK) */
        kstep<0>(acc, A, B, w, j, L, R);
        ksteps<kK - 1>(true, h, acc, A, B, w, j, L, R);
    }
    if (j == kK)
        ktail<kK>(acc, A, B, C, w);
}

template <typename T, typename O, int TW>
__global__ void __launch_bounds__(kThreads, 2)
    gauss_fused2(const T *__restrict__ src, O *__restrict__ dst, int64_t batch, int64_t H, int64_t W, int ry, int rx,
                 const __grid_constant__ taps twy, const __grid_constant__ taps twx, const double *__restrict__ wdy,
                 const double *__restrict__ wdx, conv_args cv, int mode, double cval)
{
    extern __shared__ double sm[];
    static_assert(TW % kK == 0 && kF2H * (TW / kK) % kThreads == 0, "every warp takes part in every horizontal round");
    const int P = TW + 2 * rx; /* columns of the intermediate tile */
    const float inv_p = 1.0f / (float)P;
    double *wy = sm, *wx = wy + (ry + 1), *tvt = wx + (rx + 1), *stage = tvt + P * kF2VP;
    int *rowmap = (int *)(stage + kF2Warps * kF2Stage); /* kF2H + 2 ry rows, from y0 - ry */
    const int lane = threadIdx.x & 31;
    double *my_stage = stage + (threadIdx.x >> 5) * kF2Stage;
    stage_taps(wy, twy, wdy, ry);
    stage_taps(wx, twx, wdx, rx);
    const bool constant = mode == TP_BORDER_CONSTANT;
    const int64_t nth = (H + kF2H - 1) / kF2H, ntw = (W + TW - 1) / TW, ntask = batch * nth * ntw;
    for (int64_t task = blockIdx.x; task < ntask; task += gridDim.x) {
        int64_t tw_ = task % ntw, rest = task / ntw, th = rest % nth, b = rest / nth;
        int64_t y0 = th * kF2H, x0 = tw_ * TW;
        const T *img = src + b * H * W;
        const bool interior = y0 - ry >= 0 && y0 + kF2H + ry <= H; /* no row of the tile needs a mapping */
        /* other tiles map each row once here (int64 divisions), not at every load; the previous task's
         * vertical pass is done with the map */
        if (!interior)
            for (int i = threadIdx.x; i < kF2H + 2 * ry; i += blockDim.x)
                rowmap[i] = (int)tp_border_index(y0 - ry + i, H, (tp_border)mode);
        __syncthreads(); /* the previous task's horizontal pass is done with tvt (and the taps are staged) */
        /* vertical: item k = column cc of x0-rx .. x0+TW+rx-1 (lanes on adjacent columns: coalesced),
         * rows kK g .. kK g + kK-1. A halo column that maps to column m yields m's vertical result, which is
         * what scipy's horizontal pass extends with; constant mode extends with cval instead. */
        for (int k = threadIdx.x; k < (kF2H / kK) * P; k += blockDim.x) {
            int g = div_small(k, P, inv_p), cc = k - g * P;
            int64_t gx = x0 - rx + cc;
            double acc[kK];
            if (constant && (gx < 0 || gx >= W)) {
#pragma unroll
                for (int q = 0; q < kK; q++)
                    acc[q] = cval;
            } else {
                int64_t mx = tp_border_index(gx, W, (tp_border)mode), yc = y0 + kK * g;
                if (interior)
                    correlate_k(gcol_src<T>{img + yc * W + mx, W, cv}, wy, ry, acc);
                else
                    correlate_k(gtab_src<T>{img + mx, rowmap + kK * g + ry, W, cval, cv}, wy, ry, acc);
#pragma unroll
                for (int q = 0; q < kK; q++)
                    acc[q] = (double)(O)acc[q];
            }
#pragma unroll
            for (int q = 0; q < kK; q++)
                tvt[cc * kF2VP + kK * g + q] = acc[q];
        }
        __syncthreads();
        /* horizontal: lane = row, a warp makes columns kK c .. kK c + kK-1 of all kF2H rows; the 32 x kK block
         * goes out through the warp's buffer as 4 rows of kK adjacent outputs per store (whole sectors). The
         * buffer is swizzled (column ^ (row/2 mod kK)) so both its writes and its reads are conflict-free. */
        for (int k = threadIdx.x; k < kF2H * (TW / kK); k += blockDim.x) {
            int c0 = kK * (k / kF2H);
            double acc[kK];
            correlate_k(smem_src{tvt + (c0 + rx) * kF2VP + lane, kF2VP}, wx, rx, acc);
#pragma unroll
            for (int q = 0; q < kK; q++)
                my_stage[lane * kK + (q ^ ((lane >> 1) & (kK - 1)))] = acc[q];
            __syncwarp();
#pragma unroll
            for (int i = 0; i < kK; i++) {
                int rr = (32 / kK) * i + lane / kK, cc = lane % kK;
                int64_t y = y0 + rr, x = x0 + c0 + cc;
                if (y < H && x < W)
                    dst[(b * H + y) * W + x] = (O)my_stage[rr * kK + (cc ^ ((rr >> 1) & (kK - 1)))];
            }
            __syncwarp(); /* read before the next item overwrites */
        }
    }
}

/* ---- vert: one pass along an axis of large inner stride (the z pass of a volume, or any axis before the
 * last two), with correlate_k's register windows: a thread makes kK consecutive outputs of one line, lanes
 * on adjacent lines (coalesced), each input loaded and converted once per thread; a block's kVGroups groups
 * share the lines' inputs through L1. (It replaced a kernel that staged 32 lines in shared memory and paid
 * two shared loads a tap an output: 3.3x its float64 floor on a 512^3 volume.) ---- */
constexpr int kVCols = 32, kVGroups = kThreads / kVCols, kVRows = kVGroups * kK; /* a block: 32 lines x 64 */

static size_t vert_shared(int64_t r) { return sizeof(double) * (size_t)(r + 1) + sizeof(int) * (size_t)(kVRows + 2 * r); }

template <typename T, typename O>
__global__ void __launch_bounds__(kThreads, 2)
    gauss_vert(const T *__restrict__ src, O *__restrict__ dst, int64_t outer, int64_t len, int64_t inner, int r,
               const __grid_constant__ taps tw, const double *__restrict__ wdev, conv_args cv, int mode, double cval)
{
    extern __shared__ double sm[];
    double *w = sm;
    int *rowmap = (int *)(w + r + 1); /* kVRows + 2r positions from y0 - r: their row, -1 for cval */
    stage_taps(w, tw, wdev, r);
    const int col = threadIdx.x % kVCols, g = threadIdx.x / kVCols;
    const int64_t nct = (inner + kVCols - 1) / kVCols, nrt = (len + kVRows - 1) / kVRows, ntask = outer * nrt * nct;
    for (int64_t task = blockIdx.x; task < ntask; task += gridDim.x) {
        const int64_t ct = task % nct, rest = task / nct, rt = rest % nrt, o = rest / nrt;
        const int64_t y0 = rt * kVRows, c = ct * kVCols + col, yc = y0 + kK * g;
        const bool interior = y0 - r >= 0 && y0 + kVRows + r <= len;
        __syncthreads(); /* the previous task is done with the row map (and the taps are staged) */
        if (!interior)
            for (int i = threadIdx.x; i < kVRows + 2 * r; i += blockDim.x)
                rowmap[i] = (int)tp_border_index(y0 - r + i, len, (tp_border)mode);
        __syncthreads();
        if (c >= inner || yc >= len)
            continue;
        const T *line = src + o * len * inner + c;
        double acc[kK];
        if (interior)
            correlate_k(gcol_src<T>{line + yc * inner, inner, cv}, w, r, acc);
        else
            correlate_k(gtab_src<T>{line, rowmap + kK * g + r, inner, cval, cv}, w, r, acc);
        O *out = dst + (o * len + yc) * inner + c;
#pragma unroll
        for (int q = 0; q < kK; q++)
            if (yc + q < len)
                out[q * inner] = (O)acc[q];
    }
}

/* No filtered axis: scipy copies the converted input. */
template <typename T, typename O>
__global__ void convert_only(const T *__restrict__ src, O *__restrict__ dst, int64_t n, conv_args cv)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        dst[i] = (O)load(src, i, cv);
}

/* One filtered axis: its host weights (w[0..r], centre first) and where they travel. */
struct axis_pass {
    int axis;
    int64_t r;
    std::vector<double> half; /* w[0..r] */
    taps inline_w;
    double *dev_w; /* device copy when r >= kInlineTaps, else nullptr */
};

struct shape3 {
    int64_t outer, len, inner;
};

static shape3 view_along(const tp_image *im, int axis)
{
    shape3 v{1, im->shape[axis], 1};
    for (int a = 0; a < axis; a++)
        v.outer *= im->shape[a];
    for (int a = axis + 1; a < im->ndim; a++)
        v.inner *= im->shape[a];
    return v;
}

template <typename K> static tp_status allow_shared(tp_context *ctx, K kernel, size_t bytes)
{
    if (bytes > 48 * 1024)
        TP_CUDA_CHECK(ctx, cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes));
    return TP_OK;
}

static unsigned task_blocks(int64_t ntask)
{
    return (unsigned)(ntask < 1 ? 1 : ntask > 1048576 ? 1048576 : ntask);
}

/* One 1-D pass from src (type T) to dst (type O), choosing the kernel by geometry and radius. */
template <typename T, typename O>
static tp_status run_pass(tp_context *ctx, const T *src, O *dst, shape3 v, const axis_pass &p, conv_args cv, int mode,
                          double cval)
{
    cudaStream_t s = tp_cuda_stream(ctx);
    const int64_t r = p.r;
    const size_t line_shared = sizeof(double) * (size_t)(r + 1 + kLineSeg + 2 * r);
    /* inner strides 8..31 leave lanes of vert idle, as any 32-line tile would; below 8 the line kernel */
    if (v.inner >= 8 && vert_shared(r) <= kMaxShared && v.len < INT32_MAX) {
        tp_status st = allow_shared(ctx, gauss_vert<T, O>, vert_shared(r));
        if (st)
            return st;
        int64_t ntask = v.outer * ((v.len + kVRows - 1) / kVRows) * ((v.inner + kVCols - 1) / kVCols);
        gauss_vert<T, O><<<task_blocks(ntask), kThreads, vert_shared(r), s>>>(src, dst, v.outer, v.len, v.inner, (int)r,
                                                                           p.inline_w, p.dev_w, cv, mode, cval);
    } else if (line_shared <= kMaxShared) {
        tp_status st = allow_shared(ctx, gauss_line<T, O>, line_shared);
        if (st)
            return st;
        int64_t ntask = v.outer * v.inner * ((v.len + kLineSeg - 1) / kLineSeg);
        gauss_line<T, O><<<task_blocks(ntask), kThreads, line_shared, s>>>(src, dst, v.outer, v.len, v.inner, r,
                                                                           p.inline_w, p.dev_w, cv, mode, cval);
    } else {
        int64_t n = v.outer * v.len * v.inner;
        gauss_direct<T, O><<<tpc::grid_for(n, kThreads), kThreads, 0, s>>>(src, dst, v.outer, v.len, v.inner, r,
                                                                           p.dev_w, cv, mode, cval);
    }
    TP_CUDA_LAUNCHED(ctx);
    return TP_OK;
}

static size_t fused2_shared(int64_t ry, int64_t rx, int tw = kF2W)
{
    return sizeof(double) * (size_t)(ry + 1 + rx + 1 + (tw + 2 * rx) * kF2VP + kF2Warps * kF2Stage) +
           sizeof(int) * (size_t)(kF2H + 2 * ry);
}

template <typename T, typename O, int TW>
static tp_status launch_fused2(tp_context *ctx, const T *src, O *out, int64_t batch, int64_t H, int64_t W,
                               const axis_pass *passes, conv_args in_cv, int mode, double cval)
{
    const size_t sh = fused2_shared(passes[0].r, passes[1].r, TW);
    tp_status st = allow_shared(ctx, gauss_fused2<T, O, TW>, sh);
    if (st)
        return st;
    const int64_t ntask = batch * ((H + kF2H - 1) / kF2H) * ((W + TW - 1) / TW);
    gauss_fused2<T, O, TW><<<task_blocks(ntask), kThreads, sh, tp_cuda_stream(ctx)>>>(
        src, out, batch, H, W, (int)passes[0].r, (int)passes[1].r, passes[0].inline_w, passes[1].inline_w,
        passes[0].dev_w, passes[1].dev_w, in_cv, mode, cval);
    TP_CUDA_LAUNCHED(ctx);
    return TP_OK;
}

/* fused2 takes the last two passes when they filter the last two axes and its intermediate tile fits on chip
 * (rx up to ~225 at any ry; H below 2^31 - 1: the row map holds int). Earlier passes (a volume's z) run
 * pass by pass before it. */
static bool fused_tail(const tp_image *in, const std::vector<axis_pass> &p)
{
    const int nd = in->ndim;
    const size_t np = p.size();
    return np >= 2 && p[np - 2].axis == nd - 2 && p[np - 1].axis == nd - 1 &&
           fused2_shared(p[np - 2].r, p[np - 1].r) <= kMaxShared && in->shape[nd - 2] < INT32_MAX;
}

/* Does the filter need the scratch image? (two or more passes, unless fused2 takes them all) */
static bool needs_tmp(const tp_image *in, const std::vector<axis_pass> &p)
{
    return p.size() >= 2 && !(p.size() == 2 && fused_tail(in, p));
}

template <typename T, typename O>
static tp_status fused2_of(tp_context *ctx, const tp_image *in, const T *src, O *out, const axis_pass *p2,
                           conv_args cv, int mode, double cval)
{
    const int nd = in->ndim;
    const int64_t H = in->shape[nd - 2], W = in->shape[nd - 1], batch = tp_image_count(in) / (H * W);
    const int64_t ntask = batch * ((H + kF2H - 1) / kF2H) * ((W + kF2W - 1) / kF2W);
    /* an image of fewer wide tiles than twice the SMs (the seed's 640^2: 60 tiles on 132 SMs) takes narrow
     * ones: more halo columns per output (rx = 20: 1.6x the vertical work instead of 1.16x), but four times
     * the blocks, so the float64 pipes of every SM share the work */
    if (ntask < 2 * (int64_t)tp_cuda_sm_count(ctx))
        return launch_fused2<T, O, kF2WNarrow>(ctx, src, out, batch, H, W, p2, cv, mode, cval);
    return launch_fused2<T, O, kF2W>(ctx, src, out, batch, H, W, p2, cv, mode, cval);
}

/* The whole filter for input type T: pass by pass through a scratch image, the last two fused when they can
 * be (a volume: z pass into the scratch, then fused2 from it into the output). */
template <typename T>
static tp_status run_all(tp_context *ctx, const tp_image *in, void *out_data, std::vector<axis_pass> &passes,
                         conv_args in_cv, int mode, double cval, void *tmp_data)
{
    typedef typename out_of<T>::type O;
    cudaStream_t s = tp_cuda_stream(ctx);
    const T *src = (const T *)in->data;
    O *out = (O *)out_data, *tmp = (O *)tmp_data;
    const int64_t n = tp_image_count(in);
    if (passes.empty()) {
        convert_only<T, O><<<tpc::grid_for(n, kThreads), kThreads, 0, s>>>(src, out, n, in_cv);
        TP_CUDA_LAUNCHED(ctx);
        return TP_OK;
    }
    const bool fused = fused_tail(in, passes);
    const int np = (int)passes.size(), nsingle = fused ? np - 2 : np;
    if (fused && nsingle == 0)
        return fused2_of<T, O>(ctx, in, src, out, &passes[0], in_cv, mode, cval);
    /* single passes alternate between out and tmp so that none reads what it writes, the last landing in
     * out, or in tmp when fused2 follows */
    const conv_args mid_cv{1.0, 0};
    const O *prev = nullptr;
    for (int i = 0; i < nsingle; i++) {
        const int from_end = nsingle - 1 - i + (fused ? 1 : 0);
        O *dst = from_end % 2 == 0 ? out : tmp;
        shape3 v = view_along(in, passes[i].axis);
        tp_status st = i == 0 ? run_pass<T, O>(ctx, src, dst, v, passes[i], in_cv, mode, cval)
                              : run_pass<O, O>(ctx, prev, dst, v, passes[i], mid_cv, mode, cval);
        if (st)
            return st;
        prev = dst;
    }
    if (fused)
        return fused2_of<O, O>(ctx, in, prev, out, &passes[nsingle], mid_cv, mode, cval);
    return TP_OK;
}

} // namespace

extern "C" tp_status tp_cuda_gaussian(tp_context *ctx, const tp_call *c)
{
    const tp_image *in = c->in[0];
    const tp_dtype out_dt = tp_float_dtype_for(in->dtype);
    const tp_float_conv fc = tp_float_conv_make(in->dtype, tp_arg_bool(c, "preserve_range"));
    const conv_args in_cv{fc.scale, fc.clamp};
    const double truncate = tp_arg_f64(c, "truncate"), cval = tp_arg_f64(c, "cval");
    const int mode = tp_border_from_name(tp_arg_str(c, "mode"));
    if (mode < 0)
        return tp_error(ctx, TP_ERR_ARG, "gaussian: mode: expected nearest, reflect, mirror, constant or wrap, got %s",
                        tp_arg_str(c, "mode"));

    /* the filtered axes, in scipy's order: spatial axes with sigma > 1e-15 (the channel axis never) */
    double sig[TP_MAX_SEQ];
    tp_arg_seq(c, "sigma", tp_image_spatial_ndim(in), sig);
    std::vector<axis_pass> passes;
    for (int a = 0, si = 0; a < in->ndim; a++) {
        if (a == in->channel_axis)
            continue;
        double sg = sig[si++];
        if (!(sg > 1e-15))
            continue;
        int64_t r = tp_gauss_radius(sg, truncate);
        if (r < 0)
            return tp_error(ctx, TP_ERR_ARG,
                            "gaussian: sigma: expected truncate * sigma + 0.5 <= %lld (the kernel radius), got "
                            "sigma %g with truncate %g",
                            (long long)TP_GAUSS_MAX_RADIUS, sg, truncate);
        std::vector<double> w((size_t)(2 * r + 1));
        if (tp_gauss_weights(sg, truncate, w.data(), &r) != 0)
            return tp_error(ctx, TP_ERR_ARG, "gaussian: sigma: cannot build a kernel for sigma %g", sg);
        axis_pass p;
        p.axis = a;
        p.r = r;
        p.half.assign(w.begin() + r, w.end());
        memset(&p.inline_w, 0, sizeof p.inline_w);
        if (r < kInlineTaps)
            memcpy(p.inline_w.w, p.half.data(), sizeof(double) * (size_t)(r + 1));
        p.dev_w = nullptr;
        passes.push_back(std::move(p));
    }

    tp_status st = tp_out_image(ctx, c, out_dt, in->ndim, in->shape, in->channel_axis);
    if (st)
        return st;

    /* one scratch allocation: the intermediate image (unfused, two or more passes) and large weights */
    const int64_t n = tp_image_count(in);
    const bool need_tmp = needs_tmp(in, passes);
    bool need_upload = false;
    for (const axis_pass &p : passes)
        need_upload |= p.r >= kInlineTaps;
    tpc::scratch sc;
    void *tmp = nullptr;
    for (int carve = 0; carve < 2 && (need_tmp || need_upload); carve++) {
        tmp = need_tmp ? (void *)sc.take<char>((size_t)n * tp_dtype_size(out_dt)) : nullptr;
        for (axis_pass &p : passes)
            p.dev_w = p.r >= kInlineTaps ? sc.take<double>((size_t)(p.r + 1)) : nullptr;
        if (carve == 0 && (st = sc.alloc(ctx)))
            return st;
    }
    cudaStream_t s = tp_cuda_stream(ctx);
    for (const axis_pass &p : passes)
        if (p.dev_w) /* a pageable upload: only radii >= kInlineTaps (sigma >= 32 at truncate 4) take it */
            TP_CUDA_CHECK(ctx, cudaMemcpyAsync(p.dev_w, p.half.data(), sizeof(double) * (size_t)(p.r + 1),
                                               cudaMemcpyHostToDevice, s));

    TPC_DISPATCH(in->dtype, T, st = run_all<T>(ctx, in, c->out->image.data, passes, in_cv, mode, cval, tmp))
    return st;
}

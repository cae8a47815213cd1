/* regionprops_table on the device: intensity_min/max/mean/std and centroid_weighted, with the CPU's
 * arithmetic (cpu_ref/regionprops_intensity.c).
 *
 *  - min / max: each run folds its pixels in raster order (v < lo ? v : lo keeps the first of equal values,
 *    which matters for -0.0 and +0.0), then the region's warp folds its runs in order, the lanes' partial
 *    results combined left to right. NaN anywhere gives NaN, as np.min does.
 *  - integer images: exact 128-bit sums (any order) for the mean and the weighted centroid.
 *  - float images: the weighted centroid's float64 sums run in raster order, one thread per region, as on
 *    the CPU, and it is NaN when a NaN or an infinity lies anywhere in the region's bounding box (as
 *    scikit-image's moments of intensity[bbox] * mask make it; docs/nonfinite.md); means and standard
 *    deviations use numpy's pairwise summation over chunks of 8192 values, whose tree depends only on the
 *    count: one warp per chunk computes the leaves in parallel and adds them up in the tree's order, and the
 *    chunks of a region are added in order. */
#include "gpu/regionprops_cuda.cuh"

#include <cub/cub.cuh>

namespace {

template <typename T> __device__ __forceinline__ bool is_nan_v(T v) { return false; }
template <> __device__ __forceinline__ bool is_nan_v<float>(float v) { return isnan(v); }
template <> __device__ __forceinline__ bool is_nan_v<double>(double v) { return isnan(v); }

template <typename T> struct is_float_t {
    static constexpr bool value = false;
};
template <> struct is_float_t<float> {
    static constexpr bool value = true;
};
template <> struct is_float_t<double> {
    static constexpr bool value = true;
};

/* Per run: first-tie min and max (as double: the conversion is monotonic, so the region's result is the
 * same double), NaN seen, exact sums. */
struct RunStats {
    double *mn, *mx;
    int *nan;
    i128 *isum, *iw; /* iw: 3 per run */
};

template <typename T>
__global__ void k_run_stats(rp_dev R, const T *__restrict__ img, bool weighted, RunStats S)
{
    RP_LOOP(k, R.nruns)
    {
        const int64_t r = R.run_reg[k], line = R.run_line[k], x0g = R.run_x0[k], len = R.run_len[k];
        const T *p = img + line * R.W + x0g;
        const int64_t z = line / R.H - R.reg_lo[r], y = line % R.H - R.reg_lo[R.nreg + r];
        const int64_t x0 = x0g - R.reg_lo[2 * R.nreg + r];
        T lo = p[0], hi = p[0];
        bool nan = false;
        i128 isum = 0, iw[3] = {0, 0, 0};
        for (int64_t j = 0; j < len; j++) {
            const T v = p[j];
            if (is_nan_v(v))
                nan = true;
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
            if (!is_float_t<T>::value) {
                const i128 w = (i128)(int64_t)v;
                isum += w;
                if (weighted) {
                    iw[0] += w * z;
                    iw[1] += w * y;
                    iw[2] += w * (x0 + j);
                }
            }
        }
        S.mn[k] = (double)lo;
        S.mx[k] = (double)hi;
        S.nan[k] = nan;
        S.isum[k] = isum;
        for (int a = 0; a < 3; a++)
            S.iw[3 * k + a] = iw[a];
    }
}

/* The ordered fold of (min, max) over lanes: lane i holds runs [i * c, (i + 1) * c). */
struct MinMax {
    double mn, mx;
    bool has;
};

__device__ MinMax fold(MinMax a, MinMax b)
{
    if (!b.has)
        return a;
    if (!a.has)
        return b;
    MinMax o;
    o.mn = b.mn < a.mn ? b.mn : a.mn;
    o.mx = b.mx > a.mx ? b.mx : a.mx;
    o.has = true;
    return o;
}

__global__ void k_reg_stats(rp_dev R, RunStats S, bool is_float, bool weighted, bool exact_mean, bool imean,
                            bool iminmax)
{
    const int lane = threadIdx.x & 31;
    RP_WARP_LOOP(r, R.nreg)
    {
        const int64_t f = R.reg_first[r], nr = R.reg_nruns[r], per = (nr + 31) / 32;
        const int64_t a0 = f + lane * per, a1 = min(f + nr, a0 + per);
        MinMax acc = {0, 0, false};
        bool nan = false;
        i128 isum = 0, iw[3] = {0, 0, 0};
        for (int64_t k = a0; k < a1; k++) {
            acc = fold(acc, MinMax{S.mn[k], S.mx[k], true});
            nan |= S.nan[k] != 0;
            isum += S.isum[k];
            for (int a = 0; a < 3; a++)
                iw[a] += S.iw[3 * k + a];
        }
        for (int d = 1; d < 32; d <<= 1) {
            MinMax o;
            o.mn = __shfl_down_sync(0xffffffffu, acc.mn, d);
            o.mx = __shfl_down_sync(0xffffffffu, acc.mx, d);
            o.has = __shfl_down_sync(0xffffffffu, (int)acc.has, d) != 0;
            if ((lane & (2 * d - 1)) == 0 && lane + d < 32)
                acc = fold(acc, o);
        }
        nan = __any_sync(0xffffffffu, nan);
        isum = warp_sum_i128(isum);
        for (int a = 0; a < 3; a++)
            iw[a] = warp_sum_i128(iw[a]);
        if (lane == 0) {
            if (iminmax) {
                put_f64(R, S_IMIN, r, nan ? (double)NAN : acc.mn);
                put_f64(R, S_IMAX, r, nan ? (double)NAN : acc.mx);
            }
            if (weighted && !is_float) {
                const double m0 = i128_to_double(isum);
                const int first = R.ndim == 3 ? 0 : 1;
                for (int a = first; a < 3; a++) /* 0 / 0 for an all-zero region: x86's NaN */
                    put_f64(R, S_CENTROID_WEIGHTED + a - first, r,
                            xadd(xdiv(i128_to_double(iw[a]), m0), (double)R.reg_lo[a * R.nreg + r]));
            }
            if (imean && exact_mean)
                put_f64(R, S_IMEAN, r, i128_to_double(isum) / (double)R.reg_area[r]);
        }
        __syncwarp();
    }
}

/* ---- non-finite values in a region's bounding box (cpu_ref/regionprops_intensity.c, rp_bbox_nonfinite) ----
 * scikit-image's weighted moments run over intensity[bbox] * mask, so a NaN or an infinity anywhere in the box
 * makes centroid_weighted NaN. Per line (z * H + y): the first and last x of a non-finite value (W and -1 when
 * none), a warp per line; then a warp per region over the lines of its box, reading pixels only where the
 * line's non-finite values straddle the box. */
template <typename T> __global__ void k_nf_lines(rp_dev R, const T *__restrict__ img, int64_t *lo, int64_t *hi)
{
    const int lane = threadIdx.x & 31;
    RP_WARP_LOOP(l, R.D * R.H)
    {
        const T *p = img + l * R.W;
        long long a = R.W, b = -1;
        for (int64_t x = lane; x < R.W; x += 32)
            if (!isfinite(p[x])) {
                a = min(a, (long long)x);
                b = x;
            }
        a = warp_min_ll(a);
        b = warp_max_ll(b);
        if (lane == 0) {
            lo[l] = a;
            hi[l] = b;
        }
        __syncwarp();
    }
}

template <typename T>
__global__ void k_nf_regions(rp_dev R, const T *__restrict__ img, const int64_t *lo, const int64_t *hi, int *poisoned)
{
    const int lane = threadIdx.x & 31;
    RP_WARP_LOOP(r, R.nreg)
    {
        const int64_t z0 = R.reg_lo[r], y0 = R.reg_lo[R.nreg + r], x0 = R.reg_lo[2 * R.nreg + r];
        const int64_t ny = R.reg_hi[R.nreg + r] - y0 + 1, x1 = R.reg_hi[2 * R.nreg + r];
        const int64_t nlines = (R.reg_hi[r] - z0 + 1) * ny;
        bool found = false;
        for (int64_t k = lane; k < nlines && !found; k += 32) {
            const int64_t l = (z0 + k / ny) * R.H + y0 + k % ny, a = lo[l], b = hi[l];
            if (a > x1 || b < x0)
                continue;
            if (a >= x0 || b <= x1) {
                found = true;
                break;
            }
            for (int64_t x = x0; x <= x1 && !found; x++)
                found = !isfinite(img[l * R.W + x]);
        }
        found = __any_sync(0xffffffffu, found);
        if (lane == 0)
            poisoned[r] = found;
        __syncwarp();
    }
}

/* centroid_weighted of float images: the CPU's float64 sums, in raster order, one thread per region; NaN
 * (the CPU's NAN, 0x7ff8...) when the box holds a non-finite value. */
template <typename T> __device__ __forceinline__ double as_double(T v) { return (double)v; }
template <> __device__ __forceinline__ double as_double<float>(float v) { return f2d(v); }

template <typename T> __global__ void k_weighted_float(rp_dev R, const T *__restrict__ img, const int *poisoned)
{
    RP_LOOP(r, R.nreg)
    {
        if (poisoned[r]) {
            const int first = R.ndim == 3 ? 0 : 1;
            for (int a = first; a < 3; a++)
                put_f64(R, S_CENTROID_WEIGHTED + a - first, r, __longlong_as_double(0x7ff8000000000000LL));
            continue;
        }
        const int64_t f = R.reg_first[r], nr = R.reg_nruns[r];
        const int64_t lo0 = R.reg_lo[r], lo1 = R.reg_lo[R.nreg + r], lo2 = R.reg_lo[2 * R.nreg + r];
        double fw0 = 0, fw[3] = {0, 0, 0};
        for (int64_t i = 0; i < nr; i++) {
            const int64_t line = R.run_line[f + i], len = R.run_len[f + i];
            const int64_t z = line / R.H - lo0, y = line % R.H - lo1, x0 = R.run_x0[f + i] - lo2;
            const T *p = img + line * R.W + R.run_x0[f + i];
            for (int64_t k = 0; k < len; k++) {
                const double d = as_double(p[k]);
                fw0 = xadd(fw0, d);
                fw[0] = xadd(fw[0], xmul(d, (double)z));
                fw[1] = xadd(fw[1], xmul(d, (double)y));
                fw[2] = xadd(fw[2], xmul(d, (double)(x0 + k)));
            }
        }
        const int first = R.ndim == 3 ? 0 : 1;
        for (int a = first; a < 3; a++)
            put_f64(R, S_CENTROID_WEIGHTED + a - first, r, xadd(xdiv(fw[a], fw0), (double)R.reg_lo[a * R.nreg + r]));
    }
}

/* The region's values in raster order (float32 stays float32; the rest become float64, as numpy sums them);
 * a warp per run, so that reads and writes are coalesced. */
template <typename T, typename A> __global__ void k_gather(rp_dev R, const T *__restrict__ img, A *out)
{
    const int lane = threadIdx.x & 31;
    RP_WARP_LOOP(k, R.nruns)
    {
        const T *p = img + R.run_line[k] * R.W + R.run_x0[k];
        A *o = out + R.run_pos[k];
        const int64_t len = R.run_len[k];
        for (int64_t j = lane; j < len; j += 32)
            o[j] = (A)p[j];
    }
}

/* ---- numpy's pairwise sum of one chunk (<= 8192 values), by a warp ---- */
constexpr int NP_BUF = 8192, MAX_LEAVES = 256, PW_WARPS = 4;

__device__ void pw_leaves(int64_t off, int64_t n, int *loff, int *llen, int *nl)
{
    if (n <= 128) {
        loff[*nl] = (int)off;
        llen[*nl] = (int)n;
        (*nl)++;
        return;
    }
    int64_t n2 = n / 2;
    n2 -= n2 % 8;
    pw_leaves(off, n2, loff, llen, nl);
    pw_leaves(off + n2, n - n2, loff, llen, nl);
}

template <typename A> __device__ A pw_combine(int64_t n, const A *lsum, int *idx)
{
    if (n <= 128)
        return lsum[(*idx)++];
    int64_t n2 = n / 2;
    n2 -= n2 % 8;
    const A l = pw_combine(n2, lsum, idx);
    const A r = pw_combine(n - n2, lsum, idx);
    return xadd(l, r);
}

/* The value numpy adds: the element, or for the deviation pass its squared difference from the mean. */
template <typename A> __device__ __forceinline__ A pw_value(const A *a, int64_t i, bool dev, A mean)
{
    if (!dev)
        return a[i];
    const A d = xsub(a[i], mean);
    return xmul(d, d);
}

template <typename A> __device__ A pw_leaf(const A *a, int64_t n, bool dev, A mean)
{
    if (n < 8) {
        A res = 0;
        for (int64_t i = 0; i < n; i++)
            res = xadd(res, pw_value(a, i, dev, mean));
        return res;
    }
    A r[8];
    for (int k = 0; k < 8; k++)
        r[k] = pw_value(a, k, dev, mean);
    int64_t i;
    for (i = 8; i < n - (n % 8); i += 8)
        for (int k = 0; k < 8; k++)
            r[k] = xadd(r[k], pw_value(a, i + k, dev, mean));
    A res = xadd(xadd(xadd(r[0], r[1]), xadd(r[2], r[3])), xadd(xadd(r[4], r[5]), xadd(r[6], r[7])));
    for (; i < n; i++)
        res = xadd(res, pw_value(a, i, dev, mean));
    return res;
}

/* Chunk c of all regions: region creg[c], index cidx[c] inside it. */
template <typename A>
__global__ void __launch_bounds__(PW_WARPS * 32)
    k_chunks(rp_dev R, const A *vals, const int64_t *coff, int64_t nchunks, bool dev, const A *mean, A *csum)
{
    __shared__ int loff[PW_WARPS][MAX_LEAVES], llen[PW_WARPS][MAX_LEAVES];
    __shared__ A lsum[PW_WARPS][MAX_LEAVES];
    __shared__ int nleaves[PW_WARPS];
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    RP_WARP_LOOP(c, nchunks)
    {
        int64_t a = 0, b = R.nreg - 1; /* the last region whose first chunk is <= c */
        while (a < b) {
            const int64_t mid = a + (b - a + 1) / 2;
            if (coff[mid] <= c)
                a = mid;
            else
                b = mid - 1;
        }
        const int64_t r = a, k = c - coff[r], area = R.reg_area[r];
        const int64_t n = min((int64_t)NP_BUF, area - k * NP_BUF);
        const A *base = vals + R.run_pos[R.reg_first[r]] + k * NP_BUF;
        const A m = dev ? mean[r] : A(0);
        if (n == NP_BUF) {
            /* a full chunk is a balanced tree over 64 leaves of 128: two leaves a lane, then a shuffle tree
             * that adds left + right at every level, in numpy's order */
            const A l0 = pw_leaf(base + 256 * lane, 128, dev, m), l1 = pw_leaf(base + 256 * lane + 128, 128, dev, m);
            A t = xadd(l0, l1);
            for (int d = 1; d < 32; d <<= 1) {
                const A o = __shfl_down_sync(0xffffffffu, t, d);
                if ((lane & (2 * d - 1)) == 0)
                    t = xadd(t, o);
            }
            if (lane == 0)
                csum[c] = t;
            __syncwarp();
            continue;
        }
        if (lane == 0) {
            int nl = 0;
            pw_leaves(0, n, loff[w], llen[w], &nl);
            nleaves[w] = nl;
        }
        __syncwarp();
        for (int j = lane; j < nleaves[w]; j += 32)
            lsum[w][j] = pw_leaf(base + loff[w][j], llen[w][j], dev, m);
        __syncwarp();
        if (lane == 0) {
            int idx = 0;
            csum[c] = pw_combine(n, lsum[w], &idx);
        }
        __syncwarp();
    }
}

/* numpy's mean (rounded to float32 for float32 values), or the deviation from the variance. */
__device__ void finish_value(const rp_dev &R, int64_t r, float acc, bool dev, float *mean, bool store)
{
    const float q = d2f(xdiv(f2d(acc), (double)R.reg_area[r]));
    if (!dev) {
        mean[r] = q;
        if (store)
            put_f64(R, S_IMEAN, r, f2d(q));
    } else {
        put_f64(R, S_ISTD, r, f2d(xsqrt(q)));
    }
}

__device__ void finish_value(const rp_dev &R, int64_t r, double acc, bool dev, double *mean, bool store)
{
    const double q = xdiv(acc, (double)R.reg_area[r]);
    if (!dev) {
        mean[r] = q;
        if (store)
            put_f64(R, S_IMEAN, r, q);
    } else {
        put_f64(R, S_ISTD, r, xsqrt(q));
    }
}

/* The chunks of a region added in order, then numpy's mean, or its variance and deviation. */
template <typename A>
__global__ void k_finish(rp_dev R, const int64_t *coff, const A *csum, bool dev, A *mean, bool store)
{
    RP_LOOP(r, R.nreg)
    {
        const int64_t c0 = coff[r], nc = (R.reg_area[r] + NP_BUF - 1) / NP_BUF;
        A acc = 0;
        for (int64_t c = 0; c < nc; c++)
            acc = xadd(acc, csum[c0 + c]);
        finish_value(R, r, acc, dev, mean, store);
    }
}

__global__ void k_nchunks(rp_dev R, int64_t *nc)
{
    RP_LOOP(r, R.nreg) nc[r] = (R.reg_area[r] + NP_BUF - 1) / NP_BUF;
}

template <typename T, typename A> tp_status numpy_moments(rp_call &C, const T *img, bool want_mean, bool want_std)
{
    rp_dev &R = C.R;
    const int64_t m = R.nreg;
    A *vals, *mean, *csum;
    int64_t *nc, *coff, tail[2], total = 0;
    tp_status st;
    if ((st = C.mem.get(&nc, m)) || (st = C.mem.get(&coff, m)) || (st = C.mem.get(&mean, m)))
        return st;
    /* every pixel of every region, region-major */
    if ((st = rp_fetch_scalars(C, tail, R.run_pos + R.nruns - 1, R.run_len + R.nruns - 1)))
        return st;
    total = tail[0] + tail[1];
    if ((st = C.mem.get(&vals, total)))
        return st;
    k_gather<T, A><<<rp_grid(R.nruns * 32, 256), 256, 0, C.s>>>(R, img, vals);
    TP_CUDA_LAUNCHED(C.ctx);
    k_nchunks<<<rp_grid(m, 256), 256, 0, C.s>>>(R, nc);
    TP_CUDA_LAUNCHED(C.ctx);
    if ((st = rp_scan(C, (const int64_t *)nc, coff, m)) ||
        (st = rp_fetch_scalars(C, tail, coff + m - 1, nc + m - 1)))
        return st;
    const int64_t nchunks = tail[0] + tail[1];
    if ((st = C.mem.get(&csum, nchunks)))
        return st;
    const unsigned grid = rp_grid(nchunks * 32, PW_WARPS * 32);
    k_chunks<A><<<grid, PW_WARPS * 32, 0, C.s>>>(R, vals, coff, nchunks, false, mean, csum);
    TP_CUDA_LAUNCHED(C.ctx);
    k_finish<A><<<rp_grid(m, 256), 256, 0, C.s>>>(R, coff, csum, false, mean, want_mean);
    TP_CUDA_LAUNCHED(C.ctx);
    if (!want_std)
        return TP_OK;
    k_chunks<A><<<grid, PW_WARPS * 32, 0, C.s>>>(R, vals, coff, nchunks, true, mean, csum);
    TP_CUDA_LAUNCHED(C.ctx);
    k_finish<A><<<rp_grid(m, 256), 256, 0, C.s>>>(R, coff, csum, true, mean, false);
    TP_CUDA_LAUNCHED(C.ctx);
    return TP_OK;
}

/* Integer sums stay exact in numpy's float64 accumulation while every partial sum is below 2^53. */
bool int_sum_exact(tp_dtype t, int64_t n)
{
    switch (t) {
    case TP_BOOL:
    case TP_UINT8:
    case TP_INT8:
    case TP_UINT16:
    case TP_INT16: return n < (INT64_C(1) << 36);
    case TP_UINT32:
    case TP_INT32: return n < (INT64_C(1) << 20);
    default: return false;
    }
}

/* centroid_weighted of a float image: where the non-finite values are, which boxes hold one, the sums. */
template <typename T> tp_status weighted_float(rp_call &C, const T *img)
{
    rp_dev &R = C.R;
    int64_t *nf_lo, *nf_hi;
    int *poisoned;
    tp_status st;
    if ((st = C.mem.get(&nf_lo, R.D * R.H)) || (st = C.mem.get(&nf_hi, R.D * R.H)) ||
        (st = C.mem.get(&poisoned, R.nreg)))
        return st;
    k_nf_lines<T><<<rp_grid(R.D * R.H * 32, 256), 256, 0, C.s>>>(R, img, nf_lo, nf_hi);
    TP_CUDA_LAUNCHED(C.ctx);
    k_nf_regions<T><<<rp_grid(R.nreg * 32, 128), 128, 0, C.s>>>(R, img, nf_lo, nf_hi, poisoned);
    TP_CUDA_LAUNCHED(C.ctx);
    k_weighted_float<T><<<rp_grid(R.nreg, 64), 64, 0, C.s>>>(R, img, poisoned);
    TP_CUDA_LAUNCHED(C.ctx);
    return TP_OK;
}

template <typename T> tp_status run_intensity(rp_call &C)
{
    rp_dev &R = C.R;
    const T *img = (const T *)C.inten->data;
    const bool is_float = is_float_t<T>::value;
    const bool weighted = C.needs & RP_NEED_IWEIGHTED, want_mean = C.needs & RP_NEED_IMEAN,
               want_std = C.needs & RP_NEED_ISTD, minmax = C.needs & RP_NEED_IMINMAX;
    /* the CPU decides per region; the regions that need the gathered path are those of large area. The
     * image's size bounds every area: only when that bound does not settle it is the largest one fetched. */
    int64_t maxarea = tp_image_count(C.lab);
    if (!is_float && !want_std && !int_sum_exact(C.inten->dtype, maxarea)) {
        int64_t *mx;
        tp_status st = C.mem.get(&mx, 1);
        if (st || (st = rp_cub(C, [&](void *t, size_t &b) { return cub::DeviceReduce::Max(t, b, R.reg_area, mx, R.nreg, C.s); })) ||
            (st = rp_fetch(C, &maxarea, mx, 1)))
            return st;
    }
    const bool exact_mean = !is_float && !want_std && int_sum_exact(C.inten->dtype, maxarea);
    RunStats S;
    tp_status st;
    if ((st = C.mem.get(&S.mn, R.nruns)) || (st = C.mem.get(&S.mx, R.nruns)) || (st = C.mem.get(&S.nan, R.nruns)) ||
        (st = C.mem.get(&S.isum, R.nruns)) || (st = C.mem.get(&S.iw, 3 * R.nruns)))
        return st;
    k_run_stats<T><<<rp_grid(R.nruns, 128), 128, 0, C.s>>>(R, img, weighted && !is_float, S);
    TP_CUDA_LAUNCHED(C.ctx);
    k_reg_stats<<<rp_grid(R.nreg * 32, 128), 128, 0, C.s>>>(R, S, is_float, weighted, exact_mean, want_mean, minmax);
    TP_CUDA_LAUNCHED(C.ctx);
    if constexpr (is_float_t<T>::value) {
        if (weighted && (st = weighted_float<T>(C, img)))
            return st;
    }
    if (!(want_mean || want_std) || exact_mean)
        return TP_OK;
    if (sizeof(T) == sizeof(float) && is_float)
        return numpy_moments<T, float>(C, img, want_mean, want_std);
    return numpy_moments<T, double>(C, img, want_mean, want_std);
}

} // namespace

tp_status rp_cuda_intensity(rp_call &C)
{
    if (!C.inten || !(C.needs & (RP_NEED_IMINMAX | RP_NEED_IMEAN | RP_NEED_ISTD | RP_NEED_IWEIGHTED)) || C.R.nreg == 0)
        return TP_OK;
    switch (C.inten->dtype) {
    case TP_BOOL:
    case TP_UINT8: return run_intensity<uint8_t>(C);
    case TP_INT8: return run_intensity<int8_t>(C);
    case TP_UINT16: return run_intensity<uint16_t>(C);
    case TP_INT16: return run_intensity<int16_t>(C);
    case TP_UINT32: return run_intensity<uint32_t>(C);
    case TP_INT32: return run_intensity<int32_t>(C);
    case TP_INT64: return run_intensity<long long>(C);
    case TP_FLOAT32: return run_intensity<float>(C);
    default: return run_intensity<double>(C);
    }
}

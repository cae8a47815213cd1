/* regionprops_table on the device: runs and regions (cpu_ref/regionprops_runs.c's job), then each region's
 * area, bounding box, label and centroids.
 *
 * A run starts where a positive label differs from its left neighbour (or at x = 0) and ends where it
 * differs from its right one: two bitmaps, and a scan of their word counts numbers the runs in raster
 * order with no atomics. Region indices are the ranks of the labels present (a presence table over the
 * label range when it is small, else a sort), and a stable radix sort by region groups the runs while
 * keeping each region's runs in raster order, exactly the CPU's grouping. */
#include "gpu/regionprops_cuda.cuh"

#include <climits>
#include <cub/cub.cuh>

namespace {

/* Run starts and ends, a bit per pixel. A thread takes 4 consecutive pixels (one 64-bit modulo for the
 * four, independent loads in flight) and 8 lanes OR their nibbles into a word: a thread per pixel issued
 * ~100 instructions per 32 pixels and was instruction-bound at 8192^2 (272 us for 67 M pixels). */
template <typename T, typename CT>
__global__ void k_marks(const T *__restrict__ lab, int64_t n, int64_t W, uint32_t *bs, uint32_t *be, CT *cs,
                        CT *ce, int64_t nwords, unsigned long long *lohi)
{
    const int64_t nq = nwords * 8, nq32 = (nq + 31) & ~(int64_t)31; /* whole warps: every lane shuffles */
    unsigned long long lo = ~0ull, nhi = ~0ull; /* the smallest and (as its complement) the largest label */
    RP_LOOP(q, nq32)
    {
        const int64_t p0 = q * 4;
        uint32_t s = 0, e = 0;
        if (q < nq && p0 < n) {
            T v[6]; /* pixels p0 - 1 .. p0 + 4 */
#pragma unroll
            for (int j = 0; j < 6; j++) {
                const int64_t i = p0 - 1 + j;
                v[j] = i >= 0 && i < n ? lab[i] : T(0);
            }
            const int64_t x0 = p0 % W;
#pragma unroll
            for (int j = 0; j < 4; j++) {
                int64_t x = x0 + j;
                while (x >= W)
                    x -= W;
                const T c = v[j + 1];
                if (p0 + j < n && c > 0) {
                    lo = min(lo, (unsigned long long)c);
                    nhi = min(nhi, ~(unsigned long long)c);
                    s |= (uint32_t)(x == 0 || v[j] != c) << j;
                    e |= (uint32_t)(x == W - 1 || v[j + 2] != c) << j;
                }
            }
        }
        const int sub = threadIdx.x & 7;
        s <<= 4 * sub;
        e <<= 4 * sub;
        for (int d = 1; d < 8; d <<= 1) {
            s |= __shfl_xor_sync(0xffffffffu, s, d);
            e |= __shfl_xor_sync(0xffffffffu, e, d);
        }
        if (sub == 0 && q < nq) {
            const int64_t w = q >> 3;
            bs[w] = s;
            be[w] = e;
            cs[w] = __popc(s);
            ce[w] = __popc(e);
        }
    }
    /* the label range for dense_regions, so that the run count and the range come back in one wait: a
     * block's minimum, then one atomic per block (the grid is capped at a few blocks per SM) */
    for (int d = 16; d > 0; d >>= 1) {
        lo = min(lo, __shfl_xor_sync(0xffffffffu, lo, d));
        nhi = min(nhi, __shfl_xor_sync(0xffffffffu, nhi, d));
    }
    __shared__ unsigned long long part[2][32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = blockDim.x >> 5;
    if (lane == 0) {
        part[0][warp] = lo;
        part[1][warp] = nhi;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int k = 1; k < nw; k++) {
            lo = min(lo, part[0][k]);
            nhi = min(nhi, part[1][k]);
        }
        if (lo != ~0ull) {
            atomicMin(lohi, lo);
            atomicMin(lohi + 1, nhi);
        }
    }
}

template <typename T, typename CT>
__global__ void k_runs(const T *__restrict__ lab, bool is_bool, const uint32_t *bs, const uint32_t *be,
                       const CT *ps, const CT *pe, int64_t nwords, int64_t *start, int64_t *end, int64_t *label)
{
    RP_LOOP(w, nwords)
    {
        uint32_t s = bs[w], e = be[w];
        int64_t k = ps[w];
        while (s) {
            const int b = __ffs(s) - 1;
            s &= s - 1;
            const int64_t p = w * 32 + b;
            start[k] = p;
            label[k] = is_bool ? 1 : (int64_t)lab[p]; /* bool images hold one label, 1 */
            k++;
        }
        k = pe[w];
        while (e) {
            const int b = __ffs(e) - 1;
            e &= e - 1;
            end[k++] = w * 32 + b;
        }
    }
}

__global__ void k_mark_present(const int64_t *label, int64_t n, int64_t lo, int64_t *flags)
{
    RP_LOOP(k, n) flags[label[k] - lo] = 1;
}

__global__ void k_map_table(const int64_t *label, int64_t n, int64_t lo, const int64_t *idx, int64_t *reg,
                            int64_t *reg_label, int64_t *ids)
{
    RP_LOOP(k, n)
    {
        const int64_t r = idx[label[k] - lo];
        reg[k] = r;
        reg_label[r] = label[k];
        ids[k] = k;
    }
}

__global__ void k_map_search(const int64_t *label, int64_t n, const int64_t *uniq, int64_t nreg, int64_t *reg,
                             int64_t *ids)
{
    RP_LOOP(k, n)
    {
        ids[k] = k;
        int64_t a = 0, b = nreg - 1;
        const int64_t v = label[k];
        while (a < b) {
            const int64_t mid = a + (b - a) / 2;
            if (uniq[mid] < v)
                a = mid + 1;
            else
                b = mid;
        }
        reg[k] = a;
    }
}

/* Runs in region order: fields from start/end, and each region's first run and run count. */
__global__ void k_group(const int64_t *perm, const int64_t *reg_sorted, const int64_t *start, const int64_t *end,
                        int64_t n, int64_t W, int64_t *line, int64_t *x0, int64_t *len, int64_t *first,
                        int64_t *nruns_r)
{
    RP_LOOP(k, n)
    {
        const int64_t j = perm[k], s = start[j];
        line[k] = s / W;
        x0[k] = s - line[k] * W;
        len[k] = end[j] - s + 1;
        const int64_t r = reg_sorted[k];
        if (k == 0 || reg_sorted[k - 1] != r)
            first[r] = k;
        if (k == n - 1 || reg_sorted[k + 1] != r)
            nruns_r[r] = k + 1; /* made a count below */
    }
}

__global__ void k_counts(const int64_t *first, int64_t *nruns_r, int64_t nreg)
{
    RP_LOOP(r, nreg) nruns_r[r] -= first[r];
}

/* Area, bounding box, label, bbox columns, extent and the centroids (exact coordinate sums). */
__global__ void k_basic(rp_dev R)
{
    const int lane = threadIdx.x & 31;
    RP_WARP_LOOP(r, R.nreg)
    {
        const int64_t f = R.reg_first[r], nr = R.reg_nruns[r];
        long long area = 0, lo[3] = {LLONG_MAX, LLONG_MAX, LLONG_MAX}, hi[3] = {LLONG_MIN, LLONG_MIN, LLONG_MIN};
        i128 s[3] = {0, 0, 0};
        for (int64_t i = lane; i < nr; i += 32) {
            const int64_t k = f + i, line = R.run_line[k], len = R.run_len[k], x0 = R.run_x0[k];
            const int64_t c[3] = {line / R.H, line % R.H, x0};
            const int64_t e[3] = {c[0], c[1], x0 + len - 1};
            for (int a = 0; a < 3; a++) {
                lo[a] = min(lo[a], (long long)c[a]);
                hi[a] = max(hi[a], (long long)e[a]);
            }
            area += len;
            const i128 L = len;
            s[0] += L * c[0];
            s[1] += L * c[1];
            s[2] += L * x0 + L * (len - 1) / 2;
        }
        area = warp_sum_ll(area);
        for (int a = 0; a < 3; a++) {
            lo[a] = warp_min_ll(lo[a]);
            hi[a] = warp_max_ll(hi[a]);
            s[a] = warp_sum_i128(s[a]);
        }
        if (lane == 0) {
            R.reg_area[r] = area;
            const int first = R.ndim == 3 ? 0 : 1, nd = R.ndim;
            int64_t abox = 1;
            for (int a = 0; a < 3; a++) {
                R.reg_lo[a * R.nreg + r] = lo[a];
                R.reg_hi[a * R.nreg + r] = hi[a];
            }
            const double n = (double)area;
            for (int a = first; a < 3; a++) {
                put_i64(R, S_BBOX + a - first, r, lo[a]);
                put_i64(R, S_BBOX + a - first + nd, r, hi[a] + 1);
                abox *= hi[a] - lo[a] + 1;
                put_f64(R, S_CENTROID + a - first, r, i128_to_double(s[a]) / n);
                put_f64(R, S_CENTROID_LOCAL + a - first, r, i128_to_double(s[a] - (i128)area * lo[a]) / n);
            }
            put_i64(R, S_LABEL, r, R.reg_label[r]);
            put_i64(R, S_AREA, r, area);
            put_i64(R, S_AREA_BBOX, r, abox);
            put_f64(R, S_EXTENT, r, (double)area / (double)abox);
        }
        __syncwarp();
    }
}

/* CT counts runs: int while the image has fewer than 2^31 pixels. */
/* The runs (start, end, label per run, raster order) and the range of the labels present (lohi: {lo, hi}). */
template <typename T, typename CT>
tp_status find_runs(rp_call &C, int64_t **start, int64_t **end, int64_t **label, int64_t lohi[2])
{
    const tp_image *lab = C.lab;
    const int64_t n = tp_image_count(lab), nwords = (n + 31) / 32;
    uint32_t *bs, *be;
    CT *cs, *ce, *ps, *pe;
    unsigned long long *range;
    tp_status st;
    if ((st = C.mem.get(&bs, nwords)) || (st = C.mem.get(&be, nwords)) || (st = C.mem.get(&cs, nwords)) ||
        (st = C.mem.get(&ce, nwords)) || (st = C.mem.get(&ps, nwords)) || (st = C.mem.get(&pe, nwords)) ||
        (st = C.mem.get(&range, 2)))
        return st;
    const T *img = (const T *)lab->data;
    TP_CUDA_CHECK(C.ctx, cudaMemsetAsync(range, 0xff, 2 * sizeof *range, C.s));
    /* a few blocks per SM, looping: one range atomic per block */
    const unsigned grid = rp_grid(nwords * 8, 256) < 2048 ? rp_grid(nwords * 8, 256) : 2048;
    k_marks<T, CT><<<grid, 256, 0, C.s>>>(img, n, C.R.W, bs, be, cs, ce, nwords, range);
    TP_CUDA_LAUNCHED(C.ctx);
    if ((st = rp_scan(C, cs, ps, nwords, ce, pe)))
        return st;
    int64_t got[4];
    if ((st = rp_fetch_scalars(C, got, ps + nwords - 1, cs + nwords - 1, range, range + 1)))
        return st;
    C.R.nruns = got[0] + got[1];
    lohi[0] = got[2];
    lohi[1] = (int64_t)~(uint64_t)got[3];
    if (lab->dtype == TP_BOOL)
        lohi[0] = lohi[1] = 1; /* bool images hold one label, 1 (k_runs), whatever byte is stored */
    if ((st = C.mem.get(start, C.R.nruns)) || (st = C.mem.get(end, C.R.nruns)) || (st = C.mem.get(label, C.R.nruns)))
        return st;
    if (C.R.nruns == 0)
        return TP_OK;
    k_runs<T, CT><<<rp_grid(nwords, 256), 256, 0, C.s>>>(img, lab->dtype == TP_BOOL, bs, be, ps, pe, nwords, *start,
                                                         *end, *label);
    TP_CUDA_LAUNCHED(C.ctx);
    return TP_OK;
}

/* Each run's region index (ascending label order), the region labels, and ids = 0, 1, ... (the sort's values).
 * lohi: the smallest and largest label present (find_runs). */
tp_status dense_regions(rp_call &C, const int64_t *label, const int64_t lohi[2], int64_t *reg, int64_t *ids)
{
    const int64_t n = C.R.nruns;
    tp_status st;
    const uint64_t range = (uint64_t)lohi[1] - (uint64_t)lohi[0] + 1;
    if (range <= (uint64_t)(4 * n) + 65536) {
        int64_t *flags, *idx;
        if ((st = C.mem.get(&flags, (int64_t)range)) || (st = C.mem.get(&idx, (int64_t)range)))
            return st;
        TP_CUDA_CHECK(C.ctx, cudaMemsetAsync(flags, 0, sizeof(int64_t) * range, C.s));
        k_mark_present<<<rp_grid(n, 256), 256, 0, C.s>>>(label, n, lohi[0], flags);
        TP_CUDA_LAUNCHED(C.ctx);
        if ((st = rp_scan(C, flags, idx, (int64_t)range)))
            return st;
        int64_t tail[2];
        if ((st = rp_fetch_scalars(C, tail, idx + range - 1, flags + range - 1)))
            return st;
        C.R.nreg = tail[0] + tail[1];
        if ((st = C.mem.get(&C.R.reg_label, C.R.nreg)))
            return st;
        k_map_table<<<rp_grid(n, 256), 256, 0, C.s>>>(label, n, lohi[0], idx, reg, C.R.reg_label, ids);
        TP_CUDA_LAUNCHED(C.ctx);
        return TP_OK;
    }
    int64_t *sorted, *uniq, *count;
    if ((st = C.mem.get(&sorted, n)) || (st = C.mem.get(&uniq, n)) || (st = C.mem.get(&count, 1)))
        return st;
    if ((st = rp_cub(C, [&](void *t, size_t &b) { return cub::DeviceRadixSort::SortKeys(t, b, label, sorted, n, 0, 64, C.s); })) ||
        (st = rp_cub(C, [&](void *t, size_t &b) { return cub::DeviceSelect::Unique(t, b, sorted, uniq, count, n, C.s); })) ||
        (st = rp_fetch(C, &C.R.nreg, count, 1)))
        return st;
    C.R.reg_label = uniq;
    k_map_search<<<rp_grid(n, 256), 256, 0, C.s>>>(label, n, uniq, C.R.nreg, reg, ids);
    TP_CUDA_LAUNCHED(C.ctx);
    return TP_OK;
}

int bits_for(int64_t v)
{
    int b = 1;
    while (b < 63 && (INT64_C(1) << b) <= v)
        b++;
    return b;
}

} // namespace

tp_status rp_cuda_collect(rp_call &C)
{
    int64_t *start = nullptr, *end = nullptr, *label = nullptr, lohi[2] = {0, 0};
    tp_status st;
    const bool small = tp_image_count(C.lab) < INT32_MAX;
#define RP_FIND_RUNS(T)                                                                                            \
    small ? find_runs<T, int>(C, &start, &end, &label, lohi) : find_runs<T, long long>(C, &start, &end, &label, lohi)
    switch (C.lab->dtype) {
    case TP_BOOL:
    case TP_UINT8: st = RP_FIND_RUNS(uint8_t); break;
    case TP_INT8: st = RP_FIND_RUNS(int8_t); break;
    case TP_UINT16: st = RP_FIND_RUNS(uint16_t); break;
    case TP_INT16: st = RP_FIND_RUNS(int16_t); break;
    case TP_UINT32: st = RP_FIND_RUNS(uint32_t); break;
    case TP_INT32: st = RP_FIND_RUNS(int32_t); break;
    case TP_INT64: st = RP_FIND_RUNS(long long); break;
    default:
        return tp_error(C.ctx, TP_ERR_DTYPE, "regionprops_table: label_image: expected an integer dtype, got %s",
                        tp_dtype_name(C.lab->dtype));
    }
#undef RP_FIND_RUNS
    if (st)
        return st;
    rp_dev &R = C.R;
    R.nreg = 0;
    if (R.nruns == 0)
        return TP_OK;
    const int64_t n = R.nruns;
    int64_t *reg, *reg_sorted, *ids, *perm;
    if ((st = C.mem.get(&reg, n)) || (st = C.mem.get(&reg_sorted, n)) || (st = C.mem.get(&ids, n)) ||
        (st = C.mem.get(&perm, n)))
        return st;
    if ((st = dense_regions(C, label, lohi, reg, ids)))
        return st;
    const int bits = bits_for(R.nreg);
    if ((st = rp_cub(C, [&](void *t, size_t &b) {
             return cub::DeviceRadixSort::SortPairs(t, b, reg, reg_sorted, ids, perm, n, 0, bits, C.s);
         })))
        return st;
    const int64_t m = R.nreg;
    if ((st = C.mem.get(&R.run_line, n)) || (st = C.mem.get(&R.run_x0, n)) || (st = C.mem.get(&R.run_len, n)) ||
        (st = C.mem.get(&R.run_pos, n)) || (st = C.mem.get(&R.reg_first, m)) || (st = C.mem.get(&R.reg_nruns, m)) ||
        (st = C.mem.get(&R.reg_area, m)) || (st = C.mem.get(&R.reg_lo, 3 * m)) || (st = C.mem.get(&R.reg_hi, 3 * m)) ||
        (st = C.mem.get(&R.vals, S_COUNT * m)) || (st = C.mem.get(&R.fail, m)))
        return st;
    R.run_reg = reg_sorted;
    k_group<<<rp_grid(n, 256), 256, 0, C.s>>>(perm, reg_sorted, start, end, n, R.W, R.run_line, R.run_x0, R.run_len,
                                             R.reg_first, R.reg_nruns);
    TP_CUDA_LAUNCHED(C.ctx);
    k_counts<<<rp_grid(m, 256), 256, 0, C.s>>>(R.reg_first, R.reg_nruns, m);
    TP_CUDA_LAUNCHED(C.ctx);
    if ((st = rp_scan(C, R.run_len, R.run_pos, n)))
        return st;
    TP_CUDA_CHECK(C.ctx, cudaMemsetAsync(R.vals, 0, sizeof(uint64_t) * S_COUNT * (size_t)m, C.s));
    TP_CUDA_CHECK(C.ctx, cudaMemsetAsync(R.fail, 0, sizeof(int) * (size_t)m, C.s));
    k_basic<<<rp_grid(m * 32, 256), 256, 0, C.s>>>(R);
    TP_CUDA_LAUNCHED(C.ctx);
    return TP_OK;
}

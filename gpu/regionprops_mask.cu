/* regionprops_table on the device: euler_number, perimeter (2D) and area_filled, read from each region's
 * mask in its bounding box padded by one background pixel (cpu_ref/regionprops_mask.c).
 *
 * Every padded box of every region is one range of a global position space (an exclusive scan of the box
 * volumes), so one thread per position balances large and small regions alike. A position belongs to the
 * region when the label image holds the region's label there. The counts are integers, added with atomics
 * in any order. Holes: the background of all padded boxes is labelled by union-find (root = smallest
 * position, so the padding's corner is the root of everything connected to the outside); a background
 * position with another root is a hole. */
#include "gpu/label_util.cuh"
#include "gpu/regionprops_cuda.cuh"

#include <cub/cub.cuh>

namespace {

__constant__ int EULER_2D_8[16] = {0, 0, 0, 0, 0, 0, -1, 0, 1, 0, 0, 0, 0, 0, -1, 0};
__constant__ int EULER_3D_26[256] = {
    0,  1,  1,  0,  1,  0,  -2, -1, 1,  -2, 0,  -1, 0,  -1, -1, 0,  1,  0,  -2, -1, -2, -1, -1, -2, -6, -3,
    -3, -2, -3, -2, 0,  -1, 1,  -2, 0,  -1, -6, -3, -3, -2, -2, -1, -1, -2, -3, 0,  -2, -1, 0,  -1, -1, 0,
    -3, -2, 0,  -1, -3, 0,  -2, -1, 0,  1,  1,  0,  1,  -2, -6, -3, 0,  -1, -3, -2, -2, -1, -3, 0,  -1, -2,
    -2, -1, 0,  -1, -3, -2, -1, 0,  0,  -1, -3, 0,  0,  1,  -2, -1, 1,  0,  -2, -1, -3, 0,  -3, 0,  0,  1,
    -1, 4,  0,  3,  0,  3,  1,  2,  -1, -2, -2, -1, -2, -1, 1,  0,  0,  3,  1,  2,  1,  2,  2,  1,  1,  -6,
    -2, -3, -2, -3, -1, 0,  0,  -3, -1, -2, -1, -2, -2, -1, -2, -3, -1, 0,  -1, 0,  4,  3,  -3, 0,  0,  1,
    0,  1,  3,  2,  0,  -3, -1, -2, -3, 0,  0,  1,  -1, 0,  0,  -1, -2, 1,  -1, 0,  -1, -2, -2, -1, 0,  1,
    3,  2,  -2, 1,  -1, 0,  1,  2,  2,  1,  0,  -3, -3, 0,  -1, -2, 0,  1,  -1, 0,  -2, 1,  0,  -1, -1, 0,
    -1, -2, 0,  1,  -2, -1, 3,  2,  -2, 1,  1,  2,  -1, 0,  2,  1,  -1, 0,  -2, 1,  -2, 1,  1,  2,  -2, 3,
    -1, 2,  -1, 2,  0,  1,  0,  -1, -1, 0,  -1, 0,  2,  1,  -1, 2,  0,  1,  0,  1,  1,  0};

/* A position in the padded box of a region. */
struct Box {
    int64_t r, off;           /* region, its first position */
    int64_t pd, ph, pw, pz;   /* padded extents; pz = 1 in 3D (z padding), 0 in 2D */
    int64_t z, y, x;          /* padded coordinates */
    int64_t lo0, lo1, lo2, d, h, w;
    int64_t label;
};

template <typename T> struct Masks {
    const T *lab;
    bool is_bool;
    rp_dev R;
    const int64_t *voff;
    int64_t total;

    __device__ int64_t region_of(int64_t i) const
    {
        int64_t a = 0, b = R.nreg - 1; /* the last region whose offset is <= i */
        while (a < b) {
            const int64_t mid = a + (b - a + 1) / 2;
            if (voff[mid] <= i)
                a = mid;
            else
                b = mid - 1;
        }
        return a;
    }
    __device__ Box box(int64_t i) const
    {
        Box b;
        b.r = region_of(i);
        b.off = voff[b.r];
        const int64_t n = R.nreg;
        b.lo0 = R.reg_lo[b.r];
        b.lo1 = R.reg_lo[n + b.r];
        b.lo2 = R.reg_lo[2 * n + b.r];
        b.d = R.reg_hi[b.r] - b.lo0 + 1;
        b.h = R.reg_hi[n + b.r] - b.lo1 + 1;
        b.w = R.reg_hi[2 * n + b.r] - b.lo2 + 1;
        b.pz = R.ndim == 3 ? 1 : 0;
        b.pd = R.ndim == 3 ? b.d + 2 : 1;
        b.ph = b.h + 2;
        b.pw = b.w + 2;
        const int64_t l = i - b.off;
        b.x = l % b.pw;
        b.y = (l / b.pw) % b.ph;
        b.z = l / (b.pw * b.ph);
        b.label = R.reg_label[b.r];
        return b;
    }
    /* Is the padded position (z, y, x) of box b in the region? */
    __device__ bool fg(const Box &b, int64_t z, int64_t y, int64_t x) const
    {
        const int64_t gz = z - b.pz, gy = y - 1, gx = x - 1;
        if (gz < 0 || gz >= b.d || gy < 0 || gy >= b.h || gx < 0 || gx >= b.w)
            return false;
        const T v = lab[((b.lo0 + gz) * R.H + (b.lo1 + gy)) * R.W + (b.lo2 + gx)];
        return is_bool ? v > 0 : (int64_t)v == b.label;
    }
    __device__ bool border(const Box &b, int64_t z, int64_t y, int64_t x) const
    {
        return fg(b, z, y, x) &&
               !(fg(b, z, y, x - 1) && fg(b, z, y, x + 1) && fg(b, z, y - 1, x) && fg(b, z, y + 1, x));
    }
};

/* Add v to acc[r] with one atomic per run of equal r in the warp. */
__device__ void warp_add(unsigned long long *acc, int64_t r, long long v, bool active)
{
    const unsigned act = __ballot_sync(0xffffffffu, active);
    if (!active)
        return;
    const unsigned same = __match_any_sync(act, (unsigned long long)r);
    long long s = 0;
    for (unsigned m = same; m; m &= m - 1)
        s += __shfl_sync(same, v, __ffs(m) - 1);
    if ((threadIdx.x & 31) == __ffs(same) - 1 && s)
        atomicAdd(acc + r, (unsigned long long)s);
}

template <typename T>
__global__ void k_euler_perimeter(Masks<T> M, bool euler, bool perim, unsigned long long *eul,
                                  unsigned long long *n1, unsigned long long *n2, unsigned long long *nh)
{
    const int64_t span = (M.total + 31) & ~(int64_t)31;
    RP_LOOP(i, span)
    {
        const bool in = i < M.total;
        Box b;
        long long e = 0;
        int cls = 0; /* 1: n1, 2: sqrt(2), 3: half */
        if (in) {
            b = M.box(i);
            const int64_t z = b.z, y = b.y, x = b.x;
            if (euler && y >= 1 && x >= 1 && (M.R.ndim == 2 || z >= 1)) {
                int code = M.fg(b, z, y, x) | M.fg(b, z, y - 1, x) << 1 | M.fg(b, z, y, x - 1) << 2 |
                           M.fg(b, z, y - 1, x - 1) << 3;
                if (M.R.ndim == 3) {
                    code |= M.fg(b, z - 1, y, x) << 4 | M.fg(b, z - 1, y - 1, x) << 5 | M.fg(b, z - 1, y, x - 1) << 6 |
                            M.fg(b, z - 1, y - 1, x - 1) << 7;
                    e = EULER_3D_26[code];
                } else {
                    e = EULER_2D_8[code];
                }
            }
            if (perim && M.border(b, z, y, x)) {
                const int edge = M.border(b, z, y, x - 1) + M.border(b, z, y, x + 1) + M.border(b, z, y - 1, x) +
                                 M.border(b, z, y + 1, x);
                const int diag = M.border(b, z, y - 1, x - 1) + M.border(b, z, y - 1, x + 1) +
                                 M.border(b, z, y + 1, x - 1) + M.border(b, z, y + 1, x + 1);
                switch (1 + 2 * edge + 10 * diag) {
                case 5: case 7: case 15: case 17: case 25: case 27: cls = 1; break;
                case 21: case 33: cls = 2; break;
                case 13: case 23: cls = 3; break;
                default: break;
                }
            }
        }
        const int64_t r = in ? b.r : 0;
        if (euler)
            warp_add(eul, r, e, in);
        if (perim) {
            warp_add(n1, r, 1, in && cls == 1);
            warp_add(n2, r, 1, in && cls == 2);
            warp_add(nh, r, 1, in && cls == 3);
        }
    }
}

template <typename P> __global__ void k_iota_par(P *par, int64_t n)
{
    RP_LOOP(i, n) par[i] = (P)i;
}

/* Union-find over the background of every padded box (8- / 26-connected). */
template <typename T, typename P> __global__ void k_bg_unite(Masks<T> M, P *par)
{
    RP_LOOP(i, M.total)
    {
        const Box b = M.box(i);
        if (M.fg(b, b.z, b.y, b.x))
            continue;
        for (int k = 0; k < 13; k++) {
            const int dz = k < 9 ? -1 : 0, dy = k < 9 ? k / 3 - 1 : (k == 12 ? 0 : -1),
                      dx = k < 9 ? k % 3 - 1 : (k == 12 ? -1 : k - 10);
            if (dz && M.R.ndim == 2)
                continue;
            const int64_t z = b.z + dz, y = b.y + dy, x = b.x + dx;
            if (z < 0 || y < 0 || x < 0 || x >= b.pw || y >= b.ph)
                continue;
            if (!M.fg(b, z, y, x))
                tplabel::unite(par, (P)i, (P)(b.off + (z * b.ph + y) * b.pw + x));
        }
    }
}

template <typename T, typename P> __global__ void k_bg_count(Masks<T> M, P *par, unsigned long long *holes)
{
    const int64_t span = (M.total + 31) & ~(int64_t)31;
    RP_LOOP(i, span)
    {
        bool hole = false;
        int64_t r = 0;
        if (i < M.total) {
            const Box b = M.box(i);
            r = b.r;
            hole = !M.fg(b, b.z, b.y, b.x) && tplabel::find_split(par, (P)i) != (P)b.off;
        }
        warp_add(holes, r, 1, hole);
    }
}

__global__ void k_volumes(rp_dev R, int64_t *vol)
{
    RP_LOOP(r, R.nreg)
    {
        const int64_t n = R.nreg;
        const int64_t d = R.reg_hi[r] - R.reg_lo[r] + 1, h = R.reg_hi[n + r] - R.reg_lo[n + r] + 1,
                      w = R.reg_hi[2 * n + r] - R.reg_lo[2 * n + r] + 1;
        vol[r] = (R.ndim == 3 ? d + 2 : 1) * (h + 2) * (w + 2);
    }
}

__global__ void k_mask_values(rp_dev R, bool euler, bool perim, bool filled, const unsigned long long *eul,
                              const unsigned long long *n1, const unsigned long long *n2,
                              const unsigned long long *nh, const unsigned long long *holes)
{
    RP_LOOP(r, R.nreg)
    {
        if (euler) {
            const int64_t total = (int64_t)eul[r];
            put_i64(R, S_EULER, r, R.ndim == 2 ? total : (int64_t)(0.125 * (double)total));
        }
        if (perim) {
            const double s2 = sqrt(2.0);
            put_f64(R, S_PERIMETER, r,
                    (double)(int64_t)n1[r] + (double)(int64_t)n2[r] * s2 + (double)(int64_t)nh[r] * ((1 + s2) / 2));
        }
        if (filled)
            put_i64(R, S_AREA_FILLED, r, R.reg_area[r] + (int64_t)holes[r]);
    }
}

template <typename T> tp_status run_mask(rp_call &C, bool euler, bool perim, bool filled)
{
    rp_dev &R = C.R;
    const int64_t m = R.nreg;
    int64_t *vol, *voff, tail[2];
    unsigned long long *acc;
    tp_status st;
    if ((st = C.mem.get(&vol, m)) || (st = C.mem.get(&voff, m)) || (st = C.mem.get(&acc, 5 * m)))
        return st;
    TP_CUDA_CHECK(C.ctx, cudaMemsetAsync(acc, 0, sizeof(unsigned long long) * 5 * (size_t)m, C.s));
    k_volumes<<<rp_grid(m, 256), 256, 0, C.s>>>(R, vol);
    TP_CUDA_LAUNCHED(C.ctx);
    if ((st = rp_scan(C, (const int64_t *)vol, voff, m)) ||
        (st = rp_fetch_scalars(C, tail, voff + m - 1, vol + m - 1)))
        return st;
    Masks<T> M;
    M.lab = (const T *)C.lab->data;
    M.is_bool = C.lab->dtype == TP_BOOL;
    M.R = R;
    M.voff = voff;
    M.total = tail[0] + tail[1];
    const unsigned grid = rp_grid(M.total, 256);
    if (euler || perim) {
        k_euler_perimeter<T><<<grid, 256, 0, C.s>>>(M, euler, perim, acc, acc + m, acc + 2 * m, acc + 3 * m);
        TP_CUDA_LAUNCHED(C.ctx);
    }
    if (filled) {
        if (M.total <= INT32_MAX) {
            int *par;
            if ((st = C.mem.get(&par, M.total)))
                return st;
            k_iota_par<int><<<grid, 256, 0, C.s>>>(par, M.total);
            k_bg_unite<T, int><<<grid, 256, 0, C.s>>>(M, par);
            TP_CUDA_LAUNCHED(C.ctx);
            k_bg_count<T, int><<<grid, 256, 0, C.s>>>(M, par, acc + 4 * m);
        } else {
            long long *par;
            if ((st = C.mem.get(&par, M.total)))
                return st;
            k_iota_par<long long><<<grid, 256, 0, C.s>>>(par, M.total);
            k_bg_unite<T, long long><<<grid, 256, 0, C.s>>>(M, par);
            TP_CUDA_LAUNCHED(C.ctx);
            k_bg_count<T, long long><<<grid, 256, 0, C.s>>>(M, par, acc + 4 * m);
        }
        TP_CUDA_LAUNCHED(C.ctx);
    }
    k_mask_values<<<rp_grid(m, 256), 256, 0, C.s>>>(R, euler, perim, filled, acc, acc + m, acc + 2 * m, acc + 3 * m,
                                                   acc + 4 * m);
    TP_CUDA_LAUNCHED(C.ctx);
    return TP_OK;
}

} // namespace

tp_status rp_cuda_mask(rp_call &C)
{
    const bool euler = C.needs & RP_NEED_EULER, perim = (C.needs & RP_NEED_PERIMETER) && C.R.ndim == 2,
               filled = C.needs & RP_NEED_FILLED;
    if (!(euler || perim || filled) || C.R.nreg == 0)
        return TP_OK;
    switch (C.lab->dtype) {
    case TP_BOOL:
    case TP_UINT8: return run_mask<uint8_t>(C, euler, perim, filled);
    case TP_INT8: return run_mask<int8_t>(C, euler, perim, filled);
    case TP_UINT16: return run_mask<uint16_t>(C, euler, perim, filled);
    case TP_INT16: return run_mask<int16_t>(C, euler, perim, filled);
    case TP_UINT32: return run_mask<uint32_t>(C, euler, perim, filled);
    case TP_INT32: return run_mask<int32_t>(C, euler, perim, filled);
    default: return run_mask<long long>(C, euler, perim, filled);
    }
}

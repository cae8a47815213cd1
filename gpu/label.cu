/* label on the device: connected components of equal values, numbered 1..N in raster order of each
 * component's first pixel, bit-identical to cpu_ref/label.c.
 *
 * Union-find whose root is always the smallest linear index of its set (links go from the larger root to
 * the smaller, by atomicMin), so a component's root is its first pixel in raster order and its label is
 * 1 + the number of roots before it: no renumbering pass is needed.
 *  1. k_local: each block labels one tile in shared memory and points every pixel at its tile-local root
 *     (which, inside a tile, is also the smallest global index); tile roots are flagged in a bitmap.
 *  2. k_merge: pixels on tile faces unite with their raster-previous neighbours in other tiles.
 *  3. k_roots: every tile root finds its final root; the tile roots that remain roots form the root bitmap.
 *  4. an exclusive scan of the root counts per 32-pixel word gives every root its rank.
 *  5. k_write (pixels that are not tile roots), then k_write_troots: label = rank(root) + 1.
 * The parent array lives in the output image when the types agree (int64 output, or int32 output with fewer
 * than 2^31 pixels): step 5 then runs in place, which is why tile roots, read by other pixels in k_write, are
 * rewritten only after it. */
#include "gpu/cuda_ops.h"
#include "gpu/cuda_util.h"
#include "gpu/cuda_common.cuh"
#include "gpu/scan_small.cuh"
#include "gpu/label_util.cuh"

#include <cub/cub.cuh>
#include <type_traits>

namespace {

/* A bool pixel: any nonzero byte is True, as the CPU reads bool images. */
struct bool8 {
    uint8_t b;
    bool8() = default;
    __host__ __device__ constexpr bool8(int v) : b((uint8_t)(v != 0)) {}
    __device__ explicit operator long long() const { return b != 0; }
    __device__ bool operator==(const bool8 &o) const { return (b != 0) == (o.b != 0); }
};

struct Geom {
    int64_t nz, ny, nx, n;
    int64_t ntz, nty, ntx, ntiles;
};

/* The 13 raster-previous neighbour offsets, indexed k: k < 9 the plane before (dz = -1, dy = k/3 - 1,
 * dx = k%3 - 1; k = 4 is straight below), then NW, N, NE and W of the same plane. */
enum { K_BELOW = 4, K_NW = 9, K_N = 10, K_NE = 11, K_W = 12 };

__device__ __forceinline__ void prev_offset(int k, int &dz, int &dy, int &dx)
{
    if (k < 9) {
        dz = -1;
        dy = k / 3 - 1;
        dx = k % 3 - 1;
    } else {
        dz = 0;
        dy = k == K_W ? 0 : -1;
        dx = k == K_W ? -1 : k - K_N;
    }
}

/* Which raster-previous neighbours a pixel must be united with. Skipping an edge is safe when its two ends
 * are already joined through pixels before this one (Wu's decision tree, extended to 3D: every neighbour
 * in the plane before is adjacent to the one straight below). NE is skipped when E matches, because E joins
 * both this pixel and NE. A tile's left column prefers N to W, so that the W edges, which cross tiles there,
 * are rarely needed. match(dz, dy, dx) says whether that neighbour is in the image and has this pixel's
 * value; evaluated on a tile only, it gives the same decision for every edge inside the tile. */
template <bool IS3D, typename M> __device__ __forceinline__ unsigned select_edges(const M &match, int conn, bool left_col)
{
    unsigned e = 0;
    const bool w = match(0, 0, -1), n = match(0, -1, 0), nw = match(0, -1, -1);
    const bool wt = w && !(left_col && n && nw);
    if (wt)
        e |= 1u << K_W;
    if (n && !(wt && nw))
        e |= 1u << K_N;
    if (conn >= 2 && !n) {
        if (nw && !w)
            e |= 1u << K_NW;
        if (match(0, -1, 1) && !match(0, 0, 1))
            e |= 1u << K_NE;
    }
    if (IS3D) {
        if (match(-1, 0, 0)) {
            /* below and below-W are one run of the plane before, and W is joined to this pixel (the run, the
             * W edge, or N and NW when the W edge is left out): W's own edges join the two, so a run takes
             * the edge below once per run below it, not once per pixel */
            if (!(w && match(-1, 0, -1)))
                e |= 1u << K_BELOW;
        } else {
            for (int k = 0; k < 9; k++) {
                const int dy = k / 3 - 1, dx = k % 3 - 1;
                if (k != K_BELOW && 1 + (dy != 0) + (dx != 0) <= conn && match(-1, dy, dx))
                    e |= 1u << k;
            }
        }
    }
    return e;
}

template <int TZ, int TY, int TX>
__device__ __forceinline__ void tile_origin(const Geom &g, int64_t tile, int64_t &z0, int64_t &y0, int64_t &x0)
{
    int64_t rest = tile / g.ntx;
    x0 = (tile - rest * g.ntx) * TX;
    y0 = (rest % g.nty) * TY;
    z0 = (rest / g.nty) * TZ;
}

/* Neighbour test inside one tile held in shared memory (false outside the tile or the image). */
template <typename T, int TZ, int TY, int TX> struct TileMatch {
    const T *lv;
    T v;
    int lz, ly, lx;
    int64_t y, x, ny, nx;
    __device__ bool operator()(int dz, int dy, int dx) const
    {
        const int qz = lz + dz, qy = ly + dy, qx = lx + dx;
        if (qz < 0 || qy < 0 || qy >= TY || qx < 0 || qx >= TX || y + dy >= ny || x + dx >= nx)
            return false;
        return lv[(qz * TY + qy) * TX + qx] == v;
    }
};

/* The same test for a 2D bool tile from its rows' foreground bits (bit x of row y: pixel in the image and
 * True): among foreground pixels, equal values are both True, so a neighbour matches exactly when its bit is
 * set; a row outside the tile or the image has no bits. A few instructions instead of a shared-memory load
 * and six bound checks per neighbour: the test runs for every foreground pixel. */
struct MaskMatch {
    uint32_t own, above; /* this row's and the row above's bits */
    int lx;
    __device__ bool operator()(int, int dy, int dx) const
    {
        const int q = lx + dx;
        return q >= 0 && q < 32 && (((dy < 0 ? above : own) >> q) & 1u);
    }
};

/* Neighbour test on the whole image. */
template <typename T> struct ImageMatch {
    const T *img;
    T v;
    int64_t z, y, x, ny, nx;
    __device__ bool operator()(int dz, int dy, int dx) const
    {
        const int64_t zz = z + dz, yy = y + dy, xx = x + dx;
        if (zz < 0 || yy < 0 || xx < 0 || yy >= ny || xx >= nx)
            return false;
        return img[(zz * ny + yy) * nx + xx] == v;
    }
};

constexpr int LOCAL_WARPS = 8; /* a tile's rows are shared by 8 warps, so a block keeps several loads in flight */

template <typename T, typename P, int TZ, int TY, int TX, bool IS3D>
__global__ void __launch_bounds__(LOCAL_WARPS * 32)
    k_local(const T *__restrict__ img, P *__restrict__ par, uint32_t *__restrict__ troot, Geom g, long long bg,
            int conn)
{
    static_assert(TX == 32, "a tile row is one warp");
    constexpr int TN = TZ * TY * TX, RPW = TZ * TY / LOCAL_WARPS;
    static_assert(RPW * LOCAL_WARPS == TZ * TY, "rows divide among the warps");
    __shared__ int lp[TN];
    __shared__ T lv[TN];
    constexpr bool kMasks = !IS3D && std::is_same<T, bool8>::value;
    __shared__ uint32_t s_fg[kMasks ? TZ * TY : 1]; /* per row, its foreground bits (MaskMatch) */
    const int lx = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int64_t tile = blockIdx.x; tile < g.ntiles; tile += gridDim.x) {
        int64_t z0, y0, x0;
        tile_origin<TZ, TY, TX>(g, tile, z0, y0, x0);
        const int64_t x = x0 + lx;
        T v[RPW];
        bool fg[RPW];
#pragma unroll
        for (int r = 0; r < RPW; r++) {
            const int row = warp + r * LOCAL_WARPS, ly = row % TY, lz = row / TY;
            const int64_t y = y0 + ly, z = z0 + lz;
            const bool in = x < g.nx && y < g.ny && z < g.nz;
            v[r] = in ? img[(z * g.ny + y) * g.nx + x] : T(0);
            fg[r] = in && (long long)v[r] != bg;
            lv[row * TX + lx] = v[r];
        }
        __syncthreads();
        /* runs along each row: every pixel points at its run's first pixel, no atomics */
        int rs[RPW];
        unsigned starts[RPW];
#pragma unroll
        for (int r = 0; r < RPW; r++) {
            const int t = (warp + r * LOCAL_WARPS) * TX + lx;
            const bool w_eq = fg[r] && lx > 0 && lv[t - 1] == v[r];
            starts[r] = __ballot_sync(0xffffffffu, fg[r] && !w_eq);
            rs[r] = t - lx + 31 - __clz(starts[r] & (0xffffffffu >> (31 - lx)));
            lp[t] = fg[r] ? rs[r] : -1;
            if (kMasks) {
                const unsigned bits = __ballot_sync(0xffffffffu, fg[r]);
                if (lx == 0)
                    s_fg[warp + r * LOCAL_WARPS] = bits;
            }
        }
        __syncthreads();
#pragma unroll
        for (int r = 0; r < RPW; r++) {
            if (!fg[r])
                continue;
            const int row = warp + r * LOCAL_WARPS, ly = row % TY, lz = row / TY, t = row * TX + lx;
            unsigned e;
            if constexpr (kMasks) {
                const MaskMatch m{s_fg[row], ly > 0 ? s_fg[row - 1] : 0u, lx};
                e = select_edges<IS3D>(m, conn, lx == 0) & ~(1u << K_W);
            } else {
                const TileMatch<T, TZ, TY, TX> m{lv, v[r], lz, ly, lx, y0 + ly, x, g.ny, g.nx};
                e = select_edges<IS3D>(m, conn, lx == 0) & ~(1u << K_W);
            }
            while (e) {
                const int k = __ffs(e) - 1;
                e &= e - 1;
                int dz, dy, dx;
                prev_offset(k, dz, dy, dx);
                const int qz = lz + dz, qy = ly + dy, qx = lx + dx;
                if (qz >= 0 && qy >= 0 && qy < TY && qx >= 0 && qx < TX)
                    tplabel::sunite(lp, t, (qz * TY + qy) * TX + qx);
            }
        }
        __syncthreads();
        /* run starts find their roots; the other pixels then read their run start's */
#pragma unroll
        for (int r = 0; r < RPW; r++) {
            const int t = (warp + r * LOCAL_WARPS) * TX + lx;
            if (fg[r] && rs[r] == t)
                atomicMin(lp + t, tplabel::sfind_ro(lp, t));
        }
        __syncthreads();
#pragma unroll
        for (int r = 0; r < RPW; r++) {
            const int row = warp + r * LOCAL_WARPS, ly = row % TY, lz = row / TY, t = row * TX + lx;
            const int64_t y = y0 + ly, z = z0 + lz;
            const int64_t base = (z * g.ny + y) * g.nx + x0;
            const int root = fg[r] ? lp[rs[r]] : -1;
            const unsigned is_root = __ballot_sync(0xffffffffu, fg[r] && root == t);
            if (x >= g.nx || y >= g.ny || z >= g.nz)
                continue;
            if (fg[r]) {
                const int rx = root % TX, ry = (root / TX) % TY, rz = root / (TX * TY);
                par[base + lx] = (P)(((z0 + rz) * g.ny + (y0 + ry)) * g.nx + (x0 + rx));
            } else {
                par[base + lx] = (P)-1;
            }
            /* the row's tile roots, at most two bitmap words */
            if (lx == 0 && is_root) {
                const int off = (int)(base & 31);
                atomicOr(troot + (base >> 5), is_root << off);
                if (off && (is_root >> (32 - off)))
                    atomicOr(troot + (base >> 5) + 1, is_root >> (32 - off));
            }
        }
        __syncthreads();
    }
}

/* The pixels of a tile that may have raster-previous neighbours in another tile: the first row, the first
 * and last columns, and in 3D the first plane and the last row (dy = +1 occurs with dz = -1 only). */
template <int TZ, int TY, int TX> struct Faces {
    static constexpr int PLANE = TZ > 1 ? 2 * TX + 2 * (TY - 2) : 2 * (TY - 1);
    static constexpr int COUNT = TZ > 1 ? TY * TX + (TZ - 1) * PLANE : TX + PLANE;
    static __device__ __forceinline__ void at(int s, int &lz, int &ly, int &lx)
    {
        if (TZ == 1) {
            lz = 0;
            if (s < TX) {
                ly = 0;
                lx = s;
            } else {
                s -= TX;
                ly = 1 + s / 2;
                lx = (s & 1) ? TX - 1 : 0;
            }
            return;
        }
        if (s < TY * TX) {
            lz = 0;
            ly = s / TX;
            lx = s % TX;
            return;
        }
        s -= TY * TX;
        lz = 1 + s / PLANE;
        s %= PLANE;
        if (s < 2 * TX) {
            ly = s < TX ? 0 : TY - 1;
            lx = s % TX;
        } else {
            s -= 2 * TX;
            ly = 1 + s / 2;
            lx = (s & 1) ? TX - 1 : 0;
        }
    }
};

template <typename T, typename P, int TZ, int TY, int TX, bool IS3D>
__global__ void k_merge(const T *__restrict__ img, P *par, Geom g, long long bg, int conn)
{
    using F = Faces<TZ, TY, TX>;
    const int64_t total = g.ntiles * F::COUNT;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t tile = i / F::COUNT;
        int lz, ly, lx;
        F::at((int)(i - tile * F::COUNT), lz, ly, lx);
        int64_t z0, y0, x0;
        tile_origin<TZ, TY, TX>(g, tile, z0, y0, x0);
        const int64_t x = x0 + lx, y = y0 + ly, z = z0 + lz;
        if (x >= g.nx || y >= g.ny || z >= g.nz)
            continue;
        const int64_t idx = (z * g.ny + y) * g.nx + x;
        const T v = img[idx];
        if ((long long)v == bg)
            continue;
        const ImageMatch<T> m{img, v, z, y, x, g.ny, g.nx};
        unsigned e = select_edges<IS3D>(m, conn, lx == 0);
        while (e) {
            const int k = __ffs(e) - 1;
            e &= e - 1;
            int dz, dy, dx;
            prev_offset(k, dz, dy, dx);
            const int qz = lz + dz, qy = ly + dy, qx = lx + dx;
            if (qz >= 0 && qy >= 0 && qy < TY && qx >= 0 && qx < TX)
                continue; /* same tile: k_local joined it */
            tplabel::unite(par, (P)idx, (P)(((z + dz) * g.ny + (y + dy)) * g.nx + (x + dx)));
        }
    }
}

/* Tile roots find their final root (stored as their parent); those still roots stay in the root bitmap. */
template <typename P>
__global__ void k_roots(P *par, const uint32_t *__restrict__ troot, uint32_t *__restrict__ roots, P *__restrict__ cnt,
                        int64_t nwords)
{
    for (int64_t w = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; w < nwords; w += (int64_t)gridDim.x * blockDim.x) {
        uint32_t bits = troot[w], keep = bits;
        while (bits) {
            const int b = __ffs(bits) - 1;
            bits &= bits - 1;
            const P i = (P)(w * 32 + b);
            const P r = tplabel::find_split_min(par, i);
            if (r != i) {
                keep &= ~(1u << b);
                tplabel::atomic_min(par + i, r);
            }
        }
        roots[w] = keep;
        cnt[w] = (P)__popc(keep);
    }
}

template <typename V, int K> struct alignas(sizeof(V) * K) Vec {
    V v[K];
};

/* Pixels that are not tile roots: their parent is a tile root, whose parent is now the final root. Four
 * pixels a thread, with vector loads and stores; a tile root keeps its parent (written back unchanged) for
 * the readers of this pass and k_write_troots. */
template <typename P, typename O>
__global__ void k_write(const P *par, O *out, const uint32_t *__restrict__ troot, const uint32_t *__restrict__ roots,
                        const P *__restrict__ prefix, int64_t n)
{
    const int64_t nvec = n / 4;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < nvec; i += (int64_t)gridDim.x * blockDim.x) {
        const int64_t p0 = i * 4;
        const Vec<P, 4> q = *(const Vec<P, 4> *)(par + p0);
        const uint32_t tr = troot[p0 >> 5] >> (p0 & 31);
        Vec<O, 4> o;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            if ((tr >> j) & 1u)
                o.v[j] = (O)q.v[j];
            else
                o.v[j] = q.v[j] < 0 ? (O)0 : (O)(tplabel::bit_rank(roots, prefix, (int64_t)par[q.v[j]]) + 1);
        }
        *(Vec<O, 4> *)(out + p0) = o;
    }
    const int64_t tail = nvec * 4 + blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (tail < n && !((troot[tail >> 5] >> (tail & 31)) & 1u)) {
        const P q = par[tail];
        out[tail] = q < 0 ? (O)0 : (O)(tplabel::bit_rank(roots, prefix, (int64_t)par[q]) + 1);
    }
}

template <typename P, typename O>
__global__ void k_write_troots(const P *par, O *out, const uint32_t *__restrict__ troot,
                               const uint32_t *__restrict__ roots, const P *__restrict__ prefix, int64_t nwords)
{
    for (int64_t w = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; w < nwords; w += (int64_t)gridDim.x * blockDim.x) {
        uint32_t bits = troot[w];
        while (bits) {
            const int b = __ffs(bits) - 1;
            bits &= bits - 1;
            const int64_t i = w * 32 + b;
            out[i] = (O)(tplabel::bit_rank(roots, prefix, (int64_t)par[i]) + 1);
        }
    }
}

template <typename P> struct LabelScratch {
    uint32_t *troot, *roots;
    P *cnt, *prefix, *par;
    void *cub_tmp;
    size_t cub_bytes;
    void carve(tpc::scratch &s, int64_t nwords, int64_t n, bool own_parents)
    {
        troot = s.take<uint32_t>((size_t)nwords);
        roots = s.take<uint32_t>((size_t)nwords);
        cnt = s.take<P>((size_t)nwords);
        prefix = s.take<P>((size_t)nwords);
        par = own_parents ? s.take<P>((size_t)n) : nullptr;
        cub_tmp = s.take<char>(cub_bytes);
    }
};

template <typename T, typename P, typename O, bool IS3D, int TZ, int TY>
tp_status run_label_tiles(tp_context *ctx, const tp_image *in, tp_image *out, long long bg, int conn)
{
    constexpr int TX = 32;
    cudaStream_t s = tp_cuda_stream(ctx);
    Geom g;
    g.nz = IS3D ? in->shape[0] : 1;
    g.ny = in->shape[IS3D ? 1 : 0];
    g.nx = in->shape[IS3D ? 2 : 1];
    g.n = g.nz * g.ny * g.nx;
    g.ntz = (g.nz + TZ - 1) / TZ;
    g.nty = (g.ny + TY - 1) / TY;
    g.ntx = (g.nx + TX - 1) / TX;
    g.ntiles = g.ntz * g.nty * g.ntx;
    const int64_t nwords = (g.n + 31) / 32;
    const bool inplace = sizeof(P) == sizeof(O);

    LabelScratch<P> sc;
    sc.cub_bytes = 0;
    TP_CUDA_CHECK(ctx, cub::DeviceScan::ExclusiveSum(nullptr, sc.cub_bytes, (P *)nullptr, (P *)nullptr, nwords, s));
    tpc::scratch mem;
    sc.carve(mem, nwords, g.n, !inplace);
    tp_status st = mem.alloc(ctx);
    if (st)
        return st;
    sc.carve(mem, nwords, g.n, !inplace);
    P *par = inplace ? (P *)out->data : sc.par;
    const T *img = (const T *)in->data;

    TP_CUDA_CHECK(ctx, cudaMemsetAsync(sc.troot, 0, sizeof(uint32_t) * (size_t)nwords, s));
    const unsigned tgrid = (unsigned)(g.ntiles < 2147483647 ? g.ntiles : 2147483647);
    k_local<T, P, TZ, TY, TX, IS3D><<<tgrid, LOCAL_WARPS * 32, 0, s>>>(img, par, sc.troot, g, bg, conn);
    TP_CUDA_LAUNCHED(ctx);
    k_merge<T, P, TZ, TY, TX, IS3D><<<tp_blocks(g.ntiles * Faces<TZ, TY, TX>::COUNT, 256), 256, 0, s>>>(img, par, g, bg,
                                                                                                      conn);
    TP_CUDA_LAUNCHED(ctx);
    k_roots<P><<<tp_blocks(nwords, 256), 256, 0, s>>>(par, sc.troot, sc.roots, sc.cnt, nwords);
    TP_CUDA_LAUNCHED(ctx);
    if (nwords <= SCAN_SMALL_MAX)
        k_scan_small<P><<<1, SCAN_SMALL_THREADS, 0, s>>>(sc.cnt, sc.prefix, nullptr, nullptr, nwords);
    else
        TP_CUDA_CHECK(ctx, cub::DeviceScan::ExclusiveSum(sc.cub_tmp, sc.cub_bytes, sc.cnt, sc.prefix, nwords, s));
    O *o = (O *)out->data;
    k_write<P, O><<<tp_blocks(g.n / 4 + 1, 256), 256, 0, s>>>(par, o, sc.troot, sc.roots, sc.prefix, g.n);
    TP_CUDA_LAUNCHED(ctx);
    k_write_troots<P, O><<<tp_blocks(nwords, 256), 256, 0, s>>>(par, o, sc.troot, sc.roots, sc.prefix, nwords);
    TP_CUDA_LAUNCHED(ctx);
    return TP_OK; /* the scratch's free is queued on the stream after the kernels */
}

/* Tiles: 2D 32 x 32, 3D 4 x 8 x 32. (4 x 16 x 32 in 3D: k_merge 158 -> 130 us on a 256^3 volume, its faces
 * 47% -> 38% of the pixels, but k_local 342 -> 625 us: deeper trees and fewer blocks an SM.) */
template <typename T, typename P, typename O, bool IS3D>
tp_status run_label(tp_context *ctx, const tp_image *in, tp_image *out, long long bg, int conn)
{
    if constexpr (IS3D)
        return run_label_tiles<T, P, O, true, 4, 8>(ctx, in, out, bg, conn);
    else
        return run_label_tiles<T, P, O, false, 1, 32>(ctx, in, out, bg, conn);
}

template <typename T, typename O>
tp_status pick_parents(tp_context *ctx, const tp_image *in, tp_image *out, long long bg, int conn, bool is3d, int64_t n)
{
    /* int32 parents while every index fits; the output's own type otherwise, so the parents live in it */
    if (n <= INT32_MAX && sizeof(O) == sizeof(int32_t))
        return is3d ? run_label<T, int32_t, O, true>(ctx, in, out, bg, conn)
                    : run_label<T, int32_t, O, false>(ctx, in, out, bg, conn);
    return is3d ? run_label<T, long long, O, true>(ctx, in, out, bg, conn)
                : run_label<T, long long, O, false>(ctx, in, out, bg, conn);
}

/* dst (b x a) = src (a x b) transposed. */
template <typename U> __global__ void k_transpose(const U *__restrict__ src, U *__restrict__ dst, int64_t a, int64_t b)
{
    for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < a * b; k += (int64_t)gridDim.x * blockDim.x) {
        const int64_t i = k / b, j = k - i * b;
        dst[j * a + i] = src[k];
    }
}

/* scikit-image's labeller swaps a trailing length-1 axis forward ((A, B, 1) -> (1, B, A)), so its numbering
 * follows the transposed plane's raster order there (cpu_ref/label.c reproduces it too). */
template <typename T, typename O>
tp_status label_transposed(tp_context *ctx, const tp_image *in, tp_image *out, long long bg, int conn)
{
    const int64_t a = in->shape[0], b = in->shape[1], n = a * b;
    cudaStream_t s = tp_cuda_stream(ctx);
    tpc::scratch mem;
    T *tin = mem.take<T>((size_t)n);
    O *tout = mem.take<O>((size_t)n);
    tp_status st = mem.alloc(ctx);
    if (st)
        return st;
    tin = mem.take<T>((size_t)n);
    tout = mem.take<O>((size_t)n);
    k_transpose<T><<<tp_blocks(n, 256), 256, 0, s>>>((const T *)in->data, tin, a, b);
    TP_CUDA_LAUNCHED(ctx);
    const int64_t shape[2] = {b, a};
    tp_image ti = tp_image_wrap(tin, in->dtype, 2, shape, -1, TP_DEVICE);
    tp_image to = tp_image_wrap(tout, out->dtype, 2, shape, -1, TP_DEVICE);
    if ((st = pick_parents<T, O>(ctx, &ti, &to, bg, conn, false, n)))
        return st;
    k_transpose<O><<<tp_blocks(n, 256), 256, 0, s>>>(tout, (O *)out->data, b, a);
    TP_CUDA_LAUNCHED(ctx);
    return TP_OK;
}

template <typename T, typename O>
tp_status dispatch(tp_context *ctx, const tp_image *in, tp_image *out, long long bg, int conn, bool transposed)
{
    if (transposed)
        return label_transposed<T, O>(ctx, in, out, bg, conn);
    return pick_parents<T, O>(ctx, in, out, bg, conn, tp_image_spatial_ndim(in) == 3, tp_image_count(in));
}

} // namespace

extern "C" tp_status tp_cuda_label(tp_context *ctx, const tp_call *c)
{
    const tp_image *in = c->in[0];
    const int sd = tp_image_spatial_ndim(in);
    const int conn = tp_arg_is_none(c, "connectivity") ? sd : (int)tp_arg_i64(c, "connectivity");
    const long long background = (long long)tp_arg_i64(c, "background");
    const int64_t n = tp_image_count(in);
    const bool as_bool = in->dtype == TP_BOOL;
    /* the CPU's rules: bool images label the True pixels, or the False ones when background == 1, into
     * int32 below 2^31 - 2 pixels (scipy); other images into int64 */
    const long long bg = as_bool ? (background == 1 ? 1 : 0) : background;
    const tp_dtype odt = as_bool && n < INT64_C(2147483646) ? TP_INT32 : TP_INT64;
    const bool transposed = !as_bool && sd == 3 && in->shape[2] == 1 && in->shape[0] > 1 && in->shape[1] > 1;
    tp_status st = tp_out_image(ctx, c, odt, in->ndim, in->shape, -1);
    if (st)
        return st;
    tp_image *out = &c->out->image;
    switch (in->dtype) {
    case TP_BOOL:
        return odt == TP_INT32 ? dispatch<bool8, int32_t>(ctx, in, out, bg, conn, false)
                               : dispatch<bool8, long long>(ctx, in, out, bg, conn, false);
    case TP_UINT8: return dispatch<uint8_t, long long>(ctx, in, out, bg, conn, transposed);
    case TP_INT8: return dispatch<int8_t, long long>(ctx, in, out, bg, conn, transposed);
    case TP_UINT16: return dispatch<uint16_t, long long>(ctx, in, out, bg, conn, transposed);
    case TP_INT16: return dispatch<int16_t, long long>(ctx, in, out, bg, conn, transposed);
    case TP_UINT32: return dispatch<uint32_t, long long>(ctx, in, out, bg, conn, transposed);
    case TP_INT32: return dispatch<int32_t, long long>(ctx, in, out, bg, conn, transposed);
    case TP_INT64: return dispatch<long long, long long>(ctx, in, out, bg, conn, transposed);
    default:
        return tp_error(ctx, TP_ERR_DTYPE, "label: label_image: expected bool or an integer dtype, got %s",
                        tp_dtype_name(in->dtype));
    }
}

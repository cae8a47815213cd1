/* Binary erosion, dilation, opening and closing on the device, with scipy.ndimage's semantics as
 * scikit-image calls them:
 *   erosion:  out[p] = AND over footprint elements m of in[p + (m - c)]
 *   dilation: out[p] = OR  over footprint elements m of in[p - (m - c)]
 * with c = shape // 2 on every axis (so even sizes work), and pixels outside the image counting as the border
 * value of the mode: erosion True unless mode=min, dilation False unless mode=max. Opening is dilation of the
 * erosion, closing erosion of the dilation, both with the same footprint and mode.
 *
 * The image is first packed to bits (32 pixels of a row per word; one-byte pixels in rows of a multiple of 16
 * are read 16 at a time). One thread then makes one output word: for each footprint element it funnel-shifts
 * two neighbouring source words by the element's x offset and ANDs (ORs) the result in, so a disk(2) costs 13
 * word operations per 32 pixels. A warp owns 32 consecutive words of a row and writes its 1024 output bytes
 * as coalesced 16-byte (or, for other widths, 4-byte) stores. Opening and closing keep the intermediate
 * packed. */
#include "gpu/cuda_common.cuh"
#include "gpu/cuda_ops.h"
#include "gpu/morphology.cuh"

#include <string.h>
#include <vector>

namespace {

/* One run of footprint elements on a single (z, y) row: x offsets dx0..dx1 (inclusive), already oriented for
 * the op (negated for dilation), so the kernel always reads source (z + dz, y + dy, x + dx). */
struct run {
    int dz, dy, dx0, dx1;
};

/* Runs travel by value in the launch (no upload) when they fit; the 4 KB parameter space bounds the count.
 * The kernel reads them in place (__grid_constant__: no per-thread copy), a broadcast through the constant
 * cache since a warp walks the runs in step. */
constexpr int kInlineRuns = 200;
constexpr size_t kMaxSharedRuns = 200 * 1024; /* bytes of runs staged in shared memory, under sm_90's 227 KB */
struct inline_runs {
    int n;
    run r[kInlineRuns];
};

struct geom {
    int64_t depth, height, width; /* 2D images have depth 1 */
    int64_t words;                /* words per row: ceil(width / 32) */
    int64_t chunks;               /* 32-word chunks per row: one warp each */
    int64_t rows;                 /* depth * height */
};

__device__ __forceinline__ unsigned lane_id() { return threadIdx.x & 31u; }

/* Source word (row z,y; word w) with everything outside the image reading as the border value. */
__device__ __forceinline__ uint32_t load_word(const uint32_t *__restrict__ src, const geom &g, int64_t z, int64_t y,
                                              int64_t w, uint32_t border)
{
    if (z < 0 || z >= g.depth || y < 0 || y >= g.height || w < 0 || w >= g.words)
        return border;
    uint32_t v = __ldg(src + (z * g.height + y) * g.words + w);
    if (w == g.words - 1) {
        int tail = (int)(g.width & 31);
        if (tail) {
            uint32_t valid = (1u << tail) - 1u;
            v = (v & valid) | (border & ~valid);
        }
    }
    return v;
}

/* ---- work split: a warp owns 32 words (1024 pixels) of one row; blockIdx.x picks the chunk of the row,
 * and the block's 8 warps take 8 consecutive rows, striding over the rest with gridDim.y (no division). ---- */
constexpr int kWarps = 8;

static dim3 warp_grid(const geom &g)
{
    int64_t ry = (g.rows + kWarps - 1) / kWarps;
    return dim3((unsigned)g.chunks, (unsigned)(ry > 65535 ? 65535 : ry));
}

/* ---- packing: bit b of word w of a row is pixel 32w + b being nonzero (NaN counts as nonzero) ---- */
template <typename T>
__global__ void __launch_bounds__(kWarps * 32) pack_bits(const T *__restrict__ in, uint32_t *__restrict__ out, geom g)
{
    const unsigned lane = lane_id();
    const int64_t chunk = blockIdx.x;
    for (int64_t row = (int64_t)blockIdx.y * kWarps + threadIdx.x / 32; row < g.rows;
         row += (int64_t)gridDim.y * kWarps) {
        const T *src = in + row * g.width;
        uint32_t mine = 0;
        for (int k = 0; k < 32; k++) {
            int64_t w = chunk * 32 + k;
            if (w >= g.words)
                break; /* uniform across the warp */
            int64_t x = w * 32 + lane;
            bool on = x < g.width && src[x] != (T)0;
            uint32_t bits = __ballot_sync(0xffffffffu, on);
            if (lane == (unsigned)k)
                mine = bits;
        }
        int64_t w = chunk * 32 + lane;
        if (w < g.words)
            out[row * g.words + w] = mine;
    }
}

/* The same for one-byte pixels in rows of a multiple of 16 bytes: each lane reads 16 pixels at once and
 * turns them into 16 bits with SIMD byte compares; two lanes make a word. */
__device__ __forceinline__ uint32_t nonzero_nibble(uint32_t u)
{
    uint32_t m = __vcmpne4(u, 0u) & 0x01010101u; /* 1 in each nonzero byte */
    return (m * 0x01020408u) >> 24;            /* bytes 0..3 to bits 0..3 */
}

__global__ void __launch_bounds__(kWarps * 32)
    pack_bytes16(const uint8_t *__restrict__ in, uint32_t *__restrict__ out, geom g)
{
    const unsigned lane = lane_id();
    const int64_t chunk = blockIdx.x;
    for (int64_t row = (int64_t)blockIdx.y * kWarps + threadIdx.x / 32; row < g.rows;
         row += (int64_t)gridDim.y * kWarps) {
        const uint8_t *src = in + row * g.width;
        for (int half = 0; half < 2; half++) {
            int64_t x = chunk * 1024 + half * 512 + 16 * (int64_t)lane;
            uint32_t bits = 0;
            if (x < g.width) { /* width % 16 == 0: the whole vector is inside */
                uint4 v = __ldg((const uint4 *)(src + x));
                bits = nonzero_nibble(v.x) | nonzero_nibble(v.y) << 4 | nonzero_nibble(v.z) << 8 |
                       nonzero_nibble(v.w) << 12;
            }
            uint32_t hi = __shfl_down_sync(0xffffffffu, bits, 1);
            int64_t w = chunk * 32 + half * 16 + lane / 2;
            if (!(lane & 1) && w < g.words)
                out[row * g.words + w] = bits | hi << 16;
        }
    }
}

/* Four bits to four bytes of 0/1, lowest bit first (little-endian store). */
__device__ __forceinline__ uint32_t expand_nibble(uint32_t nib)
{
    return (nib & 1u) | ((nib & 2u) << 7) | ((nib & 4u) << 14) | ((nib & 8u) << 21);
}

/* A warp's 32 result words (lane l holds word 32 * chunk + l) as the row's 0/1 bytes. */
__device__ __forceinline__ void store_bytes(uint32_t res, uint8_t *dst, int64_t chunk, int64_t width, unsigned lane,
                                            bool vec16)
{
    if (vec16) { /* rows of a multiple of 16 bytes: lane l writes pixels 512h + 16l .. +15 in one store */
        for (int half = 0; half < 2; half++) {
            int s = 512 * half + 16 * (int)lane;
            uint32_t word = __shfl_sync(0xffffffffu, res, s >> 5);
            int64_t x = chunk * 1024 + s;
            if (x < width) {
                uint32_t b16 = (word >> (s & 31)) & 0xffffu;
                uint4 v = make_uint4(expand_nibble(b16 & 15u), expand_nibble((b16 >> 4) & 15u),
                                     expand_nibble((b16 >> 8) & 15u), expand_nibble(b16 >> 12));
                *(uint4 *)(dst + x) = v;
            }
        }
        return;
    }
    /* bytes: lane l writes pixels 128k + 4l .. +3 of the warp's 1024-pixel segment */
    for (int k = 0; k < 8; k++) {
        int s = 128 * k + 4 * (int)lane;
        uint32_t word = __shfl_sync(0xffffffffu, res, s >> 5);
        int64_t x = chunk * 1024 + s;
        if (x >= width)
            continue;
        uint32_t bytes = expand_nibble((word >> (s & 31)) & 15u);
        if (x + 4 <= width && ((uintptr_t)(dst + x) & 3) == 0) {
            *(uint32_t *)(dst + x) = bytes;
        } else {
            for (int b = 0; b < 4 && x + b < width; b++)
                dst[x + b] = (uint8_t)(bytes >> (8 * b));
        }
    }
}

/* One output word: the AND (erosion) or OR (dilation) of every shifted source word. */
__device__ __forceinline__ uint32_t combine_word(const uint32_t *__restrict__ src, const geom &g, int64_t z,
                                                 int64_t y, int64_t w, const run *runs, int nruns, bool is_or,
                                                 uint32_t border)
{
    const uint32_t absorbing = is_or ? 0xffffffffu : 0u; /* a value no further term can change */
    uint32_t acc = is_or ? 0u : 0xffffffffu;
    for (int i = 0; i < nruns; i++) {
        run r = runs[i];
        int64_t zz = z + r.dz, yy = y + r.dy;
        if (zz < 0 || zz >= g.depth || yy < 0 || yy >= g.height) {
            acc = is_or ? (acc | border) : (acc & border);
        } else {
            int64_t qcur = INT64_MIN;
            uint32_t lo = 0, hi = 0;
            for (int dx = r.dx0; dx <= r.dx1; dx++) {
                int64_t q = w + (dx >> 5); /* floor division: arithmetic shift */
                if (q != qcur) {
                    lo = q == qcur + 1 ? hi : load_word(src, g, zz, yy, q, border);
                    hi = load_word(src, g, zz, yy, q + 1, border);
                    qcur = q;
                }
                uint32_t v = __funnelshift_r(lo, hi, (unsigned)(dx & 31));
                acc = is_or ? (acc | v) : (acc & v);
            }
        }
        if (acc == absorbing)
            break;
    }
    return acc;
}

/* One pass over the packed image. Exactly one of out_words / out_bytes is non-null: intermediate passes stay
 * packed, the last one writes the bool image. runs_dev (device) replaces the inline runs when too many. */
__global__ void __launch_bounds__(kWarps * 32)
    morph_pass(const uint32_t *__restrict__ src, geom g, const __grid_constant__ inline_runs ir,
                           const run *__restrict__ runs_dev, int nruns, bool stage, bool is_or, uint32_t border,
                           uint32_t *__restrict__ out_words, uint8_t *__restrict__ out_bytes, bool vec16)
{
    extern __shared__ run s_runs[];
    const run *runs = runs_dev ? runs_dev : ir.r;
    if (stage) { /* many runs: stage them once per block in shared memory */
        for (int i = threadIdx.x; i < nruns; i += blockDim.x)
            s_runs[i] = runs_dev[i];
        __syncthreads();
        runs = s_runs;
    }
    const unsigned lane = lane_id();
    const int64_t chunk = blockIdx.x;
    for (int64_t row = (int64_t)blockIdx.y * kWarps + threadIdx.x / 32; row < g.rows;
         row += (int64_t)gridDim.y * kWarps) {
        int64_t z = 0, y = row;
        if (g.depth > 1) {
            z = row / g.height;
            y = row - z * g.height;
        }
        int64_t w = chunk * 32 + lane;
        uint32_t res = w < g.words ? combine_word(src, g, z, y, w, runs, nruns, is_or, border) : 0u;
        if (out_words) {
            if (w < g.words)
                out_words[row * g.words + w] = res;
            continue;
        }
        store_bytes(res, out_bytes + row * g.width, chunk, g.width, lane, vec16);
    }
}

/* ---- fused pass: one-byte pixels in, bool out, no packed image in global memory ----
 * For a single erosion or dilation of a 2D or 3D image of one-byte pixels (rows a multiple of 16 bytes) by a
 * footprint of at most kFusedRy rows and kFusedRz planes either side of the centre and 31 columns: a block
 * makes tz planes x 32 rows of one 1024-pixel segment. It packs the (tz + 2rz) x (32 + 2ry) source rows they
 * read, plus a word either side, straight into shared memory (16 pixels a thread, as pack_bytes16), then
 * computes each word as morph_pass does from there. Bytes: the image read once (plus the halo rows and
 * planes, mostly from L2) and the output written once; the packed path also wrote and read the packed image
 * and paid a second launch. Rows, planes and words outside the image hold the border value, as load_word
 * returns it. 2D images are one plane (tz = 1, rz = 0). */
constexpr int kFusedRows = 32, kFusedRy = 8, kFusedRz = 4, kFusedWords = 34; /* 32 words + one either side */
constexpr int kFusedMaxPlanes = 8;
constexpr size_t kFusedShared = 48 * 1024; /* no opt-in: several blocks an SM */

template <bool VOL> /* more than one plane in the tile (a volume's); the plane's kernel keeps 40 registers */
__global__ void __launch_bounds__(kWarps * 32)
    morph_fused(const uint8_t *__restrict__ in, geom g, const __grid_constant__ inline_runs ir, int ry, int rz, int tz,
                bool is_or, uint32_t border, uint8_t *__restrict__ out)
{
    extern __shared__ uint32_t s_words[];
    uint16_t *s_half = (uint16_t *)s_words; /* little-endian: half 0 of a word is its pixels 0..15 */
    const int64_t chunk = blockIdx.x, y0 = (int64_t)blockIdx.y * kFusedRows, z0 = (int64_t)blockIdx.z * tz;
    const int nrows = kFusedRows + 2 * ry, nplanes = tz + 2 * rz;
    /* a warp packs source rows, lanes on 16-pixel halves of words, kBatch rows' loads in flight before any is
     * used (one row at a time left a 3D block's ~40 rows per warp waiting on memory one after another); only
     * the segment's words inside the image and the two around them (a 256-wide volume fills 8 of the 32
     * words: the rest are never read) */
    constexpr int kBatch = 4;
    const int64_t inside = g.words - chunk * 32;
    const int row_halves = 2 * ((inside < 32 ? (int)inside : 32) + 2), tile_rows = nplanes * nrows;
    if constexpr (!VOL) { /* one plane (2D): many small blocks an SM hide the latency; a load a thread a round */
        const uint8_t *plane = in + z0 * g.height * g.width; /* z0 < depth: the block exists */
        for (int i = threadIdx.x; i < nrows * row_halves; i += blockDim.x) {
            const int rr = i / row_halves, hw = i - rr * row_halves;
            const int64_t y = y0 - ry + rr, gw = chunk * 32 - 1 + hw / 2, x = gw * 32 + (hw & 1) * 16;
            uint32_t bits = border >> ((hw & 1) * 16) & 0xffffu;
            if (y >= 0 && y < g.height && gw >= 0 && gw < g.words && x < g.width) {
                const uint4 v = __ldg((const uint4 *)(plane + y * g.width + x));
                bits = nonzero_nibble(v.x) | nonzero_nibble(v.y) << 4 | nonzero_nibble(v.z) << 8 |
                       nonzero_nibble(v.w) << 12;
            }
            s_half[rr * 2 * kFusedWords + hw] = (uint16_t)bits;
        }
    }
    if constexpr (VOL) { /* a warp packs tile rows warp, warp + kWarps, ...: (row, half) pairs over its lanes */
        const int warp = (int)(threadIdx.x / 32), my_rows = (tile_rows - warp + kWarps - 1) / kWarps;
        const int items = my_rows * row_halves;
        for (int i0 = (int)lane_id(); i0 < items; i0 += 32 * kBatch) {
            uint4 v[kBatch];
            bool ok[kBatch];
            int at[kBatch], hw[kBatch];
#pragma unroll
            for (int j = 0; j < kBatch; j++) {
                const int i = i0 + 32 * j, m = i / row_halves, pr = warp + kWarps * m, pp = pr / nrows,
                          rr = pr - pp * nrows;
                hw[j] = i - m * row_halves;
                at[j] = i < items ? pr * 2 * kFusedWords + hw[j] : -1;
                const int64_t z = z0 - rz + pp, y = y0 - ry + rr, gw = chunk * 32 - 1 + hw[j] / 2,
                              x = gw * 32 + (hw[j] & 1) * 16;
                ok[j] = i < items && gw >= 0 && gw < g.words && x < g.width && z >= 0 && z < g.depth && y >= 0 &&
                        y < g.height;
                v[j] = ok[j] ? __ldg((const uint4 *)(in + (z * g.height + y) * g.width + x)) : make_uint4(0, 0, 0, 0);
            }
#pragma unroll
            for (int j = 0; j < kBatch; j++)
                if (at[j] >= 0)
                    s_half[at[j]] = (uint16_t)(ok[j] ? nonzero_nibble(v[j].x) | nonzero_nibble(v[j].y) << 4 |
                                                           nonzero_nibble(v[j].z) << 8 | nonzero_nibble(v[j].w) << 12
                                                     : border >> ((hw[j] & 1) * 16) & 0xffffu);
        }
    }
    __syncthreads();
    const unsigned lane = lane_id();
    const uint32_t absorbing = is_or ? 0xffffffffu : 0u;
    /* rows of 1, 2, 4, 8 or 16 whole words (widths 32 .. 512): a warp makes 32 / words rows at once, lane l
     * word l % words of row l / words, so no lane idles; the rows are consecutive in memory and in the tile
     * (the count divides its 32 rows), so their bytes go out as one 1024-pixel segment */
    const int W = (int)g.words;
    const int per = VOL && g.width % 32 == 0 && W <= 16 && (W & (W - 1)) == 0 ? 32 / W : 1;
    const int sub = per > 1 ? (int)lane / W : 0, wl = per > 1 ? (int)lane % W : (int)lane;
    for (int r = (int)(threadIdx.x / 32) * per; r < tz * kFusedRows; r += kWarps * per) {
        const int pz = r / kFusedRows, yr = r - pz * kFusedRows; /* uniform across the warp */
        const int64_t z = z0 + pz, y = y0 + yr;
        if (z >= g.depth || y >= g.height)
            continue;
        uint32_t acc = is_or ? 0u : 0xffffffffu;
        for (int i = 0; i < ir.n && acc != absorbing; i++) {
            const run ru = ir.r[i];
            const uint32_t *row = s_words + ((pz + rz + ru.dz) * nrows + yr + sub + ry + ru.dy) * kFusedWords + 1 + wl;
            for (int dx = ru.dx0; dx <= ru.dx1; dx++) {
                const int q = dx >> 5; /* -1 or 0 */
                const uint32_t v = __funnelshift_r(row[q], row[q + 1], (unsigned)(dx & 31));
                acc = is_or ? (acc | v) : (acc & v);
            }
        }
        if (per > 1) {
            const int64_t rows = g.height - y < per ? g.height - y : per;
            store_bytes(acc, out + (z * g.height + y) * g.width, 0, rows * g.width, lane, true);
        } else {
            store_bytes(chunk * 32 + lane < g.words ? acc : 0u, out + (z * g.height + y) * g.width, chunk, g.width,
                        lane, true);
        }
    }
}

/* Footprint elements grouped into x-runs per (z, y) row, oriented for erosion (+1) or dilation (-1). */
static std::vector<run> footprint_runs(const tp_footprint *fp, int sd, int sign)
{
    int64_t fd = sd == 3 ? fp->shape[0] : 1;
    int64_t fh = sd == 3 ? fp->shape[1] : fp->shape[0];
    int64_t fw = sd == 3 ? fp->shape[2] : fp->shape[1];
    std::vector<run> out;
    for (int64_t a = 0; a < fd; a++)
        for (int64_t b = 0; b < fh; b++) {
            const uint8_t *line = fp->data + (a * fh + b) * fw;
            for (int64_t x = 0; x < fw;) {
                if (!line[x]) {
                    x++;
                    continue;
                }
                int64_t x1 = x;
                while (x1 + 1 < fw && line[x1 + 1])
                    x1++;
                run r;
                int dz = (int)(a - fd / 2), dy = (int)(b - fh / 2);
                int d0 = (int)(x - fw / 2), d1 = (int)(x1 - fw / 2);
                if (sign > 0)
                    r = run{dz, dy, d0, d1};
                else
                    r = run{-dz, -dy, -d1, -d0};
                out.push_back(r);
                x = x1 + 1;
            }
        }
    return out;
}

/* scipy.ndimage.generate_binary_structure(ndim, 1): the cross, scikit-image's default footprint. */
static void default_cross(int sd, tp_footprint *fp, uint8_t *buf)
{
    memset(fp, 0, sizeof *fp);
    fp->ndim = sd;
    if (sd == 2) {
        static const uint8_t cross2[9] = {0, 1, 0, 1, 1, 1, 0, 1, 0};
        memcpy(buf, cross2, 9);
        fp->shape[0] = fp->shape[1] = 3;
        fp->shape[2] = 1;
    } else {
        memset(buf, 0, 27);
        buf[4] = buf[10] = buf[12] = buf[13] = buf[14] = buf[16] = buf[22] = 1;
        fp->shape[0] = fp->shape[1] = fp->shape[2] = 3;
    }
    fp->data = buf;
}

struct pass_plan {
    std::vector<run> runs;
    bool is_or;
    uint32_t border;
};

/* The fused pass's tile for this pass: planes per block (tz, 1 in 2D) and the footprint's reach (ry, rz);
 * false when the pass does not take it: one-byte pixels, rows of a multiple of 16 bytes, both buffers
 * 16-byte aligned, runs inline, at most kFusedRy rows, kFusedRz planes and 31 columns from the centre, a
 * tile of at least one plane in kFusedShared, grid within limits. */
static bool fused_tile(const tp_image *in, const geom &g, const pass_plan &p, const uint8_t *out, int *tz, int *ry,
                       int *rz)
{
    if (tp_dtype_size(in->dtype) != 1 || g.width % 16 != 0 || ((uintptr_t)in->data & 15) != 0 ||
        ((uintptr_t)out & 15) != 0 || p.runs.empty() || p.runs.size() > (size_t)kInlineRuns ||
        (g.height + kFusedRows - 1) / kFusedRows > 65535 || g.chunks > 2147483647)
        return false;
    *ry = *rz = 0;
    for (const run &r : p.runs) {
        if (r.dz < -kFusedRz || r.dz > kFusedRz || r.dy < -kFusedRy || r.dy > kFusedRy || r.dx0 < -31 || r.dx1 > 31)
            return false;
        *ry = abs(r.dy) > *ry ? abs(r.dy) : *ry;
        *rz = abs(r.dz) > *rz ? abs(r.dz) : *rz;
    }
    const size_t plane = sizeof(uint32_t) * kFusedWords * (size_t)(kFusedRows + 2 * *ry);
    const int fit = (int)(kFusedShared / plane) - 2 * *rz;
    /* planes per block: 1, 2, 4 and 8 measured within 10% of each other at 256^3 and 512^3 (1: 0.33 ms at
     * 512^3); 8 re-reads the fewest halo planes */
    *tz = g.depth == 1 ? 1 : fit < kFusedMaxPlanes ? fit : kFusedMaxPlanes;
    return *tz >= 1 && (g.depth + *tz - 1) / *tz <= 65535;
}

static tp_status launch_pass(tp_context *ctx, const uint32_t *src, const geom &g, const pass_plan &p,
                             run *runs_dev_buf, uint32_t *out_words, uint8_t *out_bytes)
{
    cudaStream_t s = tp_cuda_stream(ctx);
    inline_runs ir;
    memset(&ir, 0, sizeof ir);
    int n = (int)p.runs.size();
    const run *runs_dev = nullptr;
    size_t shmem = 0;
    if (n <= kInlineRuns) {
        ir.n = n;
        for (int i = 0; i < n; i++)
            ir.r[i] = p.runs[i];
    } else {
        /* a pageable upload of a few KB; only footprints with more than kInlineRuns rows take this path */
        TP_CUDA_CHECK(ctx, cudaMemcpyAsync(runs_dev_buf, p.runs.data(), sizeof(run) * (size_t)n,
                                           cudaMemcpyHostToDevice, s));
        runs_dev = runs_dev_buf;
        shmem = sizeof(run) * (size_t)n;
        if (shmem > kMaxSharedRuns)
            shmem = 0; /* huge footprints read their runs from global memory (L1-cached) */
    }
    if (shmem > 48 * 1024) {
        /* more runs than fit in default shared memory: opt in to the larger carve-out (227 KB on sm_90) */
        TP_CUDA_CHECK(ctx, cudaFuncSetAttribute(morph_pass, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shmem));
    }
    const bool vec16 = out_bytes && g.width % 16 == 0 && ((uintptr_t)out_bytes & 15) == 0;
    morph_pass<<<warp_grid(g), kWarps * 32, shmem, s>>>(src, g, ir, runs_dev, n, shmem > 0, p.is_or, p.border,
                                                        out_words, out_bytes, vec16);
    TP_CUDA_LAUNCHED(ctx);
    return TP_OK;
}

} // namespace

tp_status tp_cuda_morph(tp_context *ctx, const tp_call *c, tpc_morph_op op)
{
    static const char *names[] = {"binary_erosion", "binary_dilation", "binary_opening", "binary_closing"};
    const tp_image *in = c->in[0];
    int sd = tp_image_spatial_ndim(in);
    if (in->channel_axis >= 0 || (sd != 2 && sd != 3))
        return tp_error(ctx, TP_ERR_SHAPE, "%s: image: expected a 2D or 3D single-channel image", names[op]);
    const tp_footprint *fp = tp_arg_footprint(c, "footprint");
    tp_footprint cross;
    uint8_t cross_buf[27];
    if (!fp) {
        default_cross(sd, &cross, cross_buf);
        fp = &cross;
    }
    if (fp->ndim != sd)
        return tp_error(ctx, TP_ERR_ARG, "%s: footprint: expected a %dD footprint for a %dD image, got %dD",
                        names[op], sd, sd, fp->ndim);
    const char *mode = tp_arg_str(c, "mode");
    bool erode_border = strcmp(mode, "min") != 0, dilate_border = strcmp(mode, "max") == 0;

    pass_plan erode{footprint_runs(fp, sd, +1), false, erode_border ? 0xffffffffu : 0u};
    pass_plan dilate{footprint_runs(fp, sd, -1), true, dilate_border ? 0xffffffffu : 0u};
    /* opening: erode then dilate; closing: dilate then erode */
    const pass_plan *first = (op == TPC_MORPH_ERODE || op == TPC_MORPH_OPEN) ? &erode : &dilate;
    const pass_plan *second = op == TPC_MORPH_OPEN ? &dilate : op == TPC_MORPH_CLOSE ? &erode : nullptr;

    geom g;
    g.depth = sd == 3 ? in->shape[0] : 1;
    g.height = in->shape[sd == 3 ? 1 : 0];
    g.width = in->shape[sd == 3 ? 2 : 1];
    g.words = (g.width + 31) / 32;
    g.chunks = (g.words + 31) / 32;
    g.rows = g.depth * g.height;

    tp_status st = tp_out_image(ctx, c, TP_BOOL, in->ndim, in->shape, -1);
    if (st)
        return st;

    cudaStream_t s = tp_cuda_stream(ctx);
    uint8_t *out = (uint8_t *)c->out->image.data;
    int tz = 1, ry = 0, rz = 0;
    if (!second && fused_tile(in, g, *first, out, &tz, &ry, &rz)) {
        inline_runs ir;
        memset(&ir, 0, sizeof ir);
        ir.n = (int)first->runs.size();
        for (int i = 0; i < ir.n; i++)
            ir.r[i] = first->runs[i];
        const dim3 grid((unsigned)g.chunks, (unsigned)((g.height + kFusedRows - 1) / kFusedRows),
                        (unsigned)((g.depth + tz - 1) / tz));
        const size_t shmem = sizeof(uint32_t) * kFusedWords * (size_t)((kFusedRows + 2 * ry) * (tz + 2 * rz));
        if (tz + 2 * rz > 1)
            morph_fused<true><<<grid, kWarps * 32, shmem, s>>>((const uint8_t *)in->data, g, ir, ry, rz, tz,
                                                               first->is_or, first->border, out);
        else
            morph_fused<false><<<grid, kWarps * 32, shmem, s>>>((const uint8_t *)in->data, g, ir, ry, rz, tz,
                                                                first->is_or, first->border, out);
        TP_CUDA_LAUNCHED(ctx);
        return TP_OK;
    }
    size_t max_runs = erode.runs.size() > dilate.runs.size() ? erode.runs.size() : dilate.runs.size();
    /* one allocation: the packed input, the packed intermediate (two passes), the runs when not inline */
    tpc::scratch sc;
    uint32_t *packed = nullptr, *mid = nullptr;
    run *runs_dev = nullptr;
    for (int carve = 0; carve < 2; carve++) {
        packed = sc.take<uint32_t>((size_t)(g.rows * g.words));
        mid = second ? sc.take<uint32_t>((size_t)(g.rows * g.words)) : nullptr;
        runs_dev = max_runs > (size_t)kInlineRuns ? sc.take<run>(max_runs) : nullptr;
        if (carve == 0 && (st = sc.alloc(ctx)))
            return st;
    }
    if (tp_dtype_size(in->dtype) == 1 && g.width % 16 == 0 && ((uintptr_t)in->data & 15) == 0) {
        pack_bytes16<<<warp_grid(g), kWarps * 32, 0, s>>>((const uint8_t *)in->data, packed, g);
    } else {
        TPC_DISPATCH(in->dtype, T, pack_bits<T><<<warp_grid(g), kWarps * 32, 0, s>>>((const T *)in->data, packed, g))
    }
    TP_CUDA_LAUNCHED(ctx);
    if (!second)
        return launch_pass(ctx, packed, g, *first, runs_dev, nullptr, out);
    if ((st = launch_pass(ctx, packed, g, *first, runs_dev, mid, nullptr)))
        return st;
    /* reusing runs_dev is safe: the second upload is ordered after the first pass on the stream */
    return launch_pass(ctx, mid, g, *second, runs_dev, nullptr, out);
}

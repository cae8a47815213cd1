/* Result digests (twinpix.digest/2, documented in include/twinpix/internal.h): XXH64, NaN-canonical for
 * float data, used by `twinpix run` for parity and by the tests' pipeline fingerprints. */
#include "twinpix/internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- XXH64 (Yann Collet's xxHash, 64-bit; little-endian reads) ---- */

#define XP1 0x9E3779B185EBCA87ull
#define XP2 0xC2B2AE3D27D4EB4Full
#define XP3 0x165667B19E3779F9ull
#define XP4 0x85EBCA77C2B2AE63ull
#define XP5 0x27D4EB2F165667C5ull

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static inline uint64_t xround(uint64_t acc, uint64_t in)
{
    acc += in * XP2;
    acc = rotl64(acc, 31);
    return acc * XP1;
}

static inline uint64_t xmerge(uint64_t acc, uint64_t v)
{
    acc ^= xround(0, v);
    return acc * XP1 + XP4;
}

/* The hash is split into init / stripes / end so that tp_xxh64_values can feed it a block at a time. */
static inline void xxh_init(uint64_t v[4], uint64_t seed)
{
    v[0] = seed + XP1 + XP2;
    v[1] = seed + XP2;
    v[2] = seed;
    v[3] = seed - XP1;
}

/* Whole 32-byte stripes: n is a multiple of 32. */
static inline void xxh_stripes(uint64_t v[4], const uint8_t *p, size_t n)
{
    uint64_t v1 = v[0], v2 = v[1], v3 = v[2], v4 = v[3];
    for (size_t i = 0; i < n; i += 32) {
        v1 = xround(v1, rd64(p + i));
        v2 = xround(v2, rd64(p + i + 8));
        v3 = xround(v3, rd64(p + i + 16));
        v4 = xround(v4, rd64(p + i + 24));
    }
    v[0] = v1;
    v[1] = v2;
    v[2] = v3;
    v[3] = v4;
}

/* The lanes after every stripe of a `total`-byte input, then its last (total % 32) bytes at tail. */
static uint64_t xxh_end(const uint64_t v[4], uint64_t seed, uint64_t total, const uint8_t *tail, size_t n)
{
    uint64_t h;
    if (total >= 32) {
        h = rotl64(v[0], 1) + rotl64(v[1], 7) + rotl64(v[2], 12) + rotl64(v[3], 18);
        for (int k = 0; k < 4; k++)
            h = xmerge(h, v[k]);
    } else {
        h = seed + XP5;
    }
    h += total;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        h ^= xround(0, rd64(tail + i));
        h = rotl64(h, 27) * XP1 + XP4;
    }
    if (i + 4 <= n) {
        h ^= (uint64_t)rd32(tail + i) * XP1;
        h = rotl64(h, 23) * XP2 + XP3;
        i += 4;
    }
    for (; i < n; i++) {
        h ^= (uint64_t)tail[i] * XP5;
        h = rotl64(h, 11) * XP1;
    }
    h ^= h >> 33;
    h *= XP2;
    h ^= h >> 29;
    h *= XP3;
    h ^= h >> 32;
    return h;
}

uint64_t tp_xxh64(const void *data, size_t len, uint64_t seed)
{
    uint64_t v[4];
    xxh_init(v, seed);
    if (!len) /* data may be NULL: no pointer arithmetic on it */
        return xxh_end(v, seed, 0, NULL, 0);
    const size_t body = len & ~(size_t)31;
    xxh_stripes(v, data, body);
    return xxh_end(v, seed, len, (const uint8_t *)data + body, len - body);
}

/* ---- NaN-canonical hashing of float data ---- */

#define CANON_BLOCK 4096 /* bytes canonicalised at a time on the stack: a multiple of 32, 4 and 8 */

/* Whether n bytes of float32 / float64 elements hold a NaN. An element's bits without the sign, x, are a NaN
 * iff x > the infinity's, iff x + (sign bit - infinity - 1) reaches the sign bit: 64-bit and, add and or,
 * which vectorise (SSE2 has no 64-bit compare), two float32 per word (no carry crosses the halves). */
static bool has_nan(const uint8_t *p, size_t n, tp_dtype t)
{
    const bool f32 = t == TP_FLOAT32;
    const uint64_t mag = f32 ? 0x7FFFFFFF7FFFFFFFull : 0x7FFFFFFFFFFFFFFFull;
    const uint64_t add = f32 ? 0x007FFFFF007FFFFFull : 0x000FFFFFFFFFFFFFull;
    uint64_t acc = 0;
    for (size_t i = 0; i < n / 8; i++) {
        uint64_t w;
        memcpy(&w, p + 8 * i, 8);
        acc |= (w & mag) + add;
    }
    if (f32 && n % 8 >= 4) { /* an odd float32 at the end */
        uint32_t u;
        memcpy(&u, p + n / 8 * 8, 4);
        acc |= (uint64_t)((u & 0x7FFFFFFFu) + 0x007FFFFFu);
    }
    return (acc & ~mag) != 0;
}

/* Every NaN becomes numpy's np.nan: positive, quiet, zero payload. */
static void canon_nan(uint8_t *p, size_t n, tp_dtype t)
{
    if (t == TP_FLOAT32) {
        const uint32_t qnan = 0x7FC00000u;
        for (size_t i = 0; i + 4 <= n; i += 4) {
            uint32_t u;
            memcpy(&u, p + i, 4);
            if ((u & 0x7FFFFFFFu) > 0x7F800000u)
                memcpy(p + i, &qnan, 4);
        }
    } else {
        const uint64_t qnan = 0x7FF8000000000000ull;
        for (size_t i = 0; i + 8 <= n; i += 8) {
            uint64_t u;
            memcpy(&u, p + i, 8);
            if ((u & 0x7FFFFFFFFFFFFFFFull) > 0x7FF0000000000000ull)
                memcpy(p + i, &qnan, 8);
        }
    }
}

uint64_t tp_xxh64_values(const void *data, size_t len, tp_dtype dtype, uint64_t seed)
{
    if ((dtype != TP_FLOAT32 && dtype != TP_FLOAT64) || !len)
        return tp_xxh64(data, len, seed);
    uint8_t buf[CANON_BLOCK];
    uint64_t v[4];
    xxh_init(v, seed);
    const uint8_t *p = data;
    for (size_t off = 0;; off += CANON_BLOCK) {
        const size_t m = len - off < CANON_BLOCK ? len - off : CANON_BLOCK;
        const uint8_t *src = p + off;
        if (has_nan(src, m, dtype)) { /* copied only when needed: NaN-free data is hashed in place */
            memcpy(buf, src, m);
            canon_nan(buf, m, dtype);
            src = buf;
        }
        if (m < CANON_BLOCK) {
            const size_t body = m & ~(size_t)31;
            xxh_stripes(v, src, body);
            return xxh_end(v, seed, len, src + body, m - body);
        }
        xxh_stripes(v, src, m);
    }
}

/* ---- result digests ---- */

typedef struct rec {
    uint8_t *b;
    size_t n, cap;
    int failed;
} rec;

static void put(rec *r, const void *p, size_t n)
{
    if (r->failed)
        return;
    if (r->n + n > r->cap) {
        size_t cap = r->cap ? r->cap : 256;
        while (cap < r->n + n)
            cap *= 2;
        uint8_t *b = realloc(r->b, cap);
        if (!b) {
            r->failed = 1;
            return;
        }
        r->b = b;
        r->cap = cap;
    }
    memcpy(r->b + r->n, p, n);
    r->n += n;
}

static void put_u64(rec *r, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put(r, b, 8);
}

static void put_str(rec *r, const char *s) { put(r, s, strlen(s) + 1); }

void tp_digester_init(tp_digester *d, int threads)
{
    memset(d, 0, sizeof *d);
    d->threads = threads > 0 ? threads : 1;
}

void tp_digester_free(tp_digester *d)
{
    free(d->buf);
    d->buf = NULL;
    d->cap = 0;
}

/* Hash chunks [k0, k0 + m) of an image whose bytes from chunk k0 on start at p (len bytes from there). */
static void hash_chunks(const uint8_t *p, int64_t len, tp_dtype t, int64_t k0, int64_t m, uint64_t *h, int threads)
{
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (int64_t k = 0; k < m; k++) {
        int64_t off = k * TP_DIGEST_CHUNK, n = len - off < TP_DIGEST_CHUNK ? len - off : TP_DIGEST_CHUNK;
        h[k0 + k] = tp_xxh64_values(p + off, (size_t)n, t, (uint64_t)(k0 + k));
    }
}

static tp_status image_digest(tp_context *ctx, tp_digester *d, const tp_image *im0, uint64_t *out)
{
    tp_image tmp = tp_image_empty();
    const tp_image *im = im0;
    tp_status st = TP_OK;
    if (!tp_image_is_contiguous(im)) { /* op results are contiguous; anything else is copied once */
        if ((st = tp_image_copy(ctx, im, &tmp, im->location)))
            return st;
        im = &tmp;
    }
    int64_t bytes = tp_image_count(im) * (int64_t)tp_dtype_size(im->dtype);
    int64_t nchunks = bytes > 0 ? (bytes + TP_DIGEST_CHUNK - 1) / TP_DIGEST_CHUNK : 0;
    uint64_t *h = tp_host_alloc(ctx, nchunks > 0 ? nchunks : 1, sizeof(uint64_t));
    if (!h) {
        tp_image_free(&tmp);
        return TP_ERR_NOMEM;
    }
    if (im->location == TP_HOST) {
        hash_chunks(im->data, bytes, im->dtype, 0, nchunks, h, d->threads);
    } else {
        const tp_backend *be = tp_backend_get(TP_BACKEND_CUDA);
        int64_t want = bytes < TP_DIGEST_BLOCK ? bytes : TP_DIGEST_BLOCK;
        if (!be) {
            st = tp_error(ctx, TP_ERR_NO_DEVICE, "digest: a device image without the CUDA backend");
        } else if (d->cap < want) {
            free(d->buf);
            d->cap = 0;
            if (!(d->buf = tp_host_alloc(ctx, want, 1)))
                st = TP_ERR_NOMEM;
            else
                d->cap = want;
        }
        for (int64_t off = 0; !st && off < bytes; off += TP_DIGEST_BLOCK) {
            int64_t n = bytes - off < TP_DIGEST_BLOCK ? bytes - off : TP_DIGEST_BLOCK;
            st = be->copy(ctx, d->buf, TP_HOST, (const uint8_t *)im->data + off, TP_DEVICE, (size_t)n);
            if (!st) {
                d->downloaded += n;
                hash_chunks(d->buf, n, im->dtype, off / TP_DIGEST_CHUNK, (n + TP_DIGEST_CHUNK - 1) / TP_DIGEST_CHUNK,
                            h, d->threads);
            }
        }
    }
    if (!st) {
        rec r = {NULL, 0, 0, 0};
        put(&r, "tpimg1", 6);
        put_str(&r, tp_dtype_name(im->dtype));
        put_u64(&r, (uint64_t)im->ndim);
        for (int i = 0; i < im->ndim; i++)
            put_u64(&r, (uint64_t)im->shape[i]);
        put_u64(&r, (uint64_t)nchunks);
        for (int64_t k = 0; k < nchunks; k++)
            put_u64(&r, h[k]);
        if (r.failed)
            st = tp_error(ctx, TP_ERR_NOMEM, "digest: out of host memory");
        else
            *out = tp_xxh64(r.b, r.n, 0);
        free(r.b);
    }
    free(h);
    tp_image_free(&tmp);
    return st;
}

static tp_status table_digest(tp_context *ctx, const tp_table *t, uint64_t *out)
{
    rec r = {NULL, 0, 0, 0};
    put(&r, "tptab1", 6);
    put_u64(&r, (uint64_t)t->nrows);
    put_u64(&r, (uint64_t)t->ncols);
    for (int c = 0; c < t->ncols; c++) {
        const tp_dtype dt = t->cols[c].dtype;
        put_str(&r, t->cols[c].name);
        put_str(&r, tp_dtype_name(dt));
        put_u64(&r, tp_xxh64_values(t->cols[c].data, (size_t)t->nrows * tp_dtype_size(dt), dt, (uint64_t)c));
    }
    tp_status st = r.failed ? tp_error(ctx, TP_ERR_NOMEM, "digest: out of host memory") : TP_OK;
    if (!st)
        *out = tp_xxh64(r.b, r.n, 0);
    free(r.b);
    return st;
}

tp_status tp_result_digest(tp_context *ctx, tp_digester *d, const tp_result *r, uint64_t *out)
{
    *out = 0;
    if (r->kind == TP_OUT_TABLE)
        return table_digest(ctx, &r->table, out);
    return image_digest(ctx, d, &r->image, out);
}

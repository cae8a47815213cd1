#include "cli/run_util.h"

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

uint64_t tp_xxh64(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data, *end = p + len;
    uint64_t h;
    if (len >= 32) {
        const uint8_t *limit = end - 32;
        uint64_t v1 = seed + XP1 + XP2, v2 = seed + XP2, v3 = seed, v4 = seed - XP1;
        do {
            v1 = xround(v1, rd64(p));
            v2 = xround(v2, rd64(p + 8));
            v3 = xround(v3, rd64(p + 16));
            v4 = xround(v4, rd64(p + 24));
            p += 32;
        } while (p <= limit);
        h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
        h = xmerge(h, v1);
        h = xmerge(h, v2);
        h = xmerge(h, v3);
        h = xmerge(h, v4);
    } else {
        h = seed + XP5;
    }
    h += (uint64_t)len;
    for (; p + 8 <= end; p += 8) {
        h ^= xround(0, rd64(p));
        h = rotl64(h, 27) * XP1 + XP4;
    }
    if (p + 4 <= end) {
        h ^= (uint64_t)rd32(p) * XP1;
        h = rotl64(h, 23) * XP2 + XP3;
        p += 4;
    }
    for (; p < end; p++) {
        h ^= (uint64_t)*p * XP5;
        h = rotl64(h, 11) * XP1;
    }
    h ^= h >> 33;
    h *= XP2;
    h ^= h >> 29;
    h *= XP3;
    h ^= h >> 32;
    return h;
}

/* ---- stage digests ---- */

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
static void hash_chunks(const uint8_t *p, int64_t len, int64_t k0, int64_t m, uint64_t *h, int threads)
{
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (int64_t k = 0; k < m; k++) {
        int64_t off = k * TP_DIGEST_CHUNK, n = len - off < TP_DIGEST_CHUNK ? len - off : TP_DIGEST_CHUNK;
        h[k0 + k] = tp_xxh64(p + off, (size_t)n, (uint64_t)(k0 + k));
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
        hash_chunks(im->data, bytes, 0, nchunks, h, d->threads);
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
                hash_chunks(d->buf, n, off / TP_DIGEST_CHUNK, (n + TP_DIGEST_CHUNK - 1) / TP_DIGEST_CHUNK, h,
                            d->threads);
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
        put_str(&r, t->cols[c].name);
        put_str(&r, tp_dtype_name(t->cols[c].dtype));
        put_u64(&r, tp_xxh64(t->cols[c].data, (size_t)t->nrows * tp_dtype_size(t->cols[c].dtype), (uint64_t)c));
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

int64_t tp_result_bytes(const tp_result *r)
{
    int64_t b = r->image.data ? tp_image_count(&r->image) * (int64_t)tp_dtype_size(r->image.dtype) : 0;
    for (int c = 0; c < r->table.ncols; c++)
        b += r->table.nrows * (int64_t)tp_dtype_size(r->table.cols[c].dtype);
    return b;
}

/* ---- memory as /proc reports it ---- */

static int64_t status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    size_t kl = strlen(key);
    int64_t v = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            v = strtoll(line + kl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v < 0 ? -1 : v * 1024;
}

int64_t tp_rss_peak_bytes(void) { return status_kb("VmHWM"); }
int64_t tp_rss_now_bytes(void) { return status_kb("VmRSS"); }

int tp_rss_reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return -1;
    int bad = fputs("5", f) < 0;
    bad |= fclose(f) != 0;
    return bad ? -1 : 0;
}

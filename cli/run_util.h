/* Helpers of `twinpix run` (cli/cmd_run.c): stage digests for parity without keeping copies, and the
 * process's memory as Linux reports it.
 *
 * Stage digest (twinpix.digest/1): a 64-bit hash of a result, the same wherever the result lives.
 *  - image (and scalar, a 1-element image): its contiguous bytes in C order are cut into chunks of
 *    TP_DIGEST_CHUNK bytes (the last one shorter); chunk k hashes to XXH64(chunk, seed k); the digest is
 *    XXH64 of the little-endian record {"tpimg1", dtype name + NUL, ndim, shape[ndim], chunk count, chunk
 *    hashes}, seed 0. Chunks hash in parallel (OpenMP); a device image is downloaded a block of
 *    TP_DIGEST_BLOCK bytes at a time into one reusable host buffer, so no full host copy is made.
 *  - table: XXH64 of {"tptab1", nrows, ncols, then per column name + NUL, dtype name + NUL, XXH64 of its
 *    data (seed = column index)}.
 * Equal digests mean equal dtype, shape and bytes (up to a 2^-64 collision). */
#ifndef TP_CLI_RUN_UTIL_H
#define TP_CLI_RUN_UTIL_H
#include "twinpix/internal.h"

#define TP_DIGEST_CHUNK ((int64_t)16 << 20)
#define TP_DIGEST_BLOCK ((int64_t)256 << 20)

uint64_t tp_xxh64(const void *data, size_t len, uint64_t seed);

typedef struct tp_digester {
    void *buf;      /* host staging buffer for device images, TP_DIGEST_BLOCK bytes at most */
    int64_t cap;
    int threads;
    int64_t downloaded; /* bytes copied from the device so far */
} tp_digester;

void tp_digester_init(tp_digester *d, int threads);
void tp_digester_free(tp_digester *d);
tp_status tp_result_digest(tp_context *ctx, tp_digester *d, const tp_result *r, uint64_t *out);

/* Bytes of a result's data (image or table). */
int64_t tp_result_bytes(const tp_result *r);

/* /proc/self/status: peak (VmHWM) and current (VmRSS) resident set, bytes; -1 when unknown. */
int64_t tp_rss_peak_bytes(void);
int64_t tp_rss_now_bytes(void);
/* Reset VmHWM to the current RSS (writes 5 to /proc/self/clear_refs, Linux >= 4.0); 0 on success. */
int tp_rss_reset_peak(void);
#endif

/* Run the seed pipeline and fingerprint every stage's output (tp_result_digest, `twinpix run`'s digest: NaNs
 * of any bits hash alike), for tests that compare runs: serial vs concurrent, CPU vs CUDA. */
#ifndef TP_PIPELINE_CHECK_H
#define TP_PIPELINE_CHECK_H
#include "core/pipeline.h"

typedef struct tp_fingerprint {
    int n;
    uint64_t hash[TP_PIPE_MAX_STEPS];
} tp_fingerprint;

tp_status tp_seed_fingerprint(tp_context *ctx, tp_backend_id be, const tp_image *input, tp_fingerprint *fp);
#endif

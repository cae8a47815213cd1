#include "tests/support/tp_pipeline_check.h"

#include <string.h>

typedef struct fp_state {
    tp_context *ctx;
    tp_digester dg;
    tp_fingerprint *fp;
    tp_status st; /* a digest's failure: the pipeline stops and this is returned */
} fp_state;

static int on_stage(void *user, int i, const tp_pipe_step *s, const tp_result *r, double ms)
{
    (void)s;
    (void)ms;
    fp_state *fs = user;
    uint64_t h = 0;
    fs->fp->n = i + 1;
    if (r && (fs->st = tp_result_digest(fs->ctx, &fs->dg, r, &h)))
        return 1;
    fs->fp->hash[i] = h;
    return 0;
}

tp_status tp_seed_fingerprint(tp_context *ctx, tp_backend_id be, const tp_image *input, tp_fingerprint *fp)
{
    tp_pipeline p;
    tp_pipeline_seed(&p);
    memset(fp, 0, sizeof *fp);
    fp_state fs;
    fs.ctx = ctx;
    fs.fp = fp;
    fs.st = TP_OK;
    tp_digester_init(&fs.dg, tp_context_threads(ctx));
    tp_status st = tp_pipeline_run(ctx, &p, be, input, on_stage, &fs, NULL);
    tp_digester_free(&fs.dg);
    return st ? st : fs.st;
}

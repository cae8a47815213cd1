#include "tests/support/tp_pipeline_check.h"

#include <string.h>

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static int on_stage(void *user, int i, const tp_pipe_step *s, const tp_result *r, double ms)
{
    (void)s;
    (void)ms;
    tp_fingerprint *fp = user;
    uint64_t h = 0xcbf29ce484222325ull;
    fp->n = i + 1;
    if (r && r->kind == TP_OUT_TABLE) {
        for (int c = 0; c < r->table.ncols; c++) {
            h = fnv(h, r->table.cols[c].name, strlen(r->table.cols[c].name));
            h = fnv(h, r->table.cols[c].data, (size_t)r->table.nrows * tp_dtype_size(r->table.cols[c].dtype));
        }
    } else if (r) {
        tp_image host = tp_image_empty();
        const tp_image *im = &r->image;
        if (im->location == TP_DEVICE) {
            if (tp_image_copy(NULL, im, &host, TP_HOST))
                return 1;
            im = &host;
        }
        h = fnv(h, im->shape, sizeof(int64_t) * (size_t)im->ndim);
        h = fnv(h, im->data, (size_t)tp_image_count(im) * tp_dtype_size(im->dtype));
        tp_image_free(&host);
    }
    fp->hash[i] = h;
    return 0;
}

tp_status tp_seed_fingerprint(tp_context *ctx, tp_backend_id be, const tp_image *input, tp_fingerprint *fp)
{
    tp_pipeline p;
    tp_pipeline_seed(&p);
    memset(fp, 0, sizeof *fp);
    return tp_pipeline_run(ctx, &p, be, input, on_stage, fp, NULL);
}

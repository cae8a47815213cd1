/* libFuzzer target: the dispatcher's argument checking. The bytes choose an op, input geometry (dtype,
 * ndim, shape, strides, channel axis) and parameter text; every call must either succeed with a whole
 * output or fail with a message and an empty result, never crash or leak. Shapes are kept small so the
 * ops themselves run quickly. */
#include "twinpix/internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct reader {
    const uint8_t *d;
    size_t n, i;
} reader;

static unsigned take(reader *r)
{
    return r->i < r->n ? r->d[r->i++] : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size, 0};
    const tp_op_desc *op = tp_op_at((int)(take(&r) % (unsigned)tp_op_count()));
    tp_context *ctx = NULL;
    tp_params *p = NULL;
    tp_context_create(&ctx);
    tp_context_set_threads(ctx, 1);
    tp_params_create(&p);
    int nin = 1 + (int)(take(&r) % 2);
    tp_image imgs[2];
    void *bufs[2] = {NULL, NULL};
    const tp_image *in[2];
    for (int k = 0; k < nin; k++) {
        tp_dtype t = (tp_dtype)(take(&r) % (TP_DTYPE_COUNT + 1)); /* one past the end: invalid dtype */
        int ndim = (int)(take(&r) % 5);                              /* 0 and 4 are edge cases */
        int64_t shape[TP_MAX_DIMS] = {1, 1, 1, 1};
        int64_t n = 1;
        for (int i = 0; i < ndim; i++) {
            shape[i] = (int64_t)(take(&r) % 12) - 1; /* -1 and 0 are invalid extents */
            n *= shape[i] > 0 ? shape[i] : 1;
        }
        size_t es = t < TP_DTYPE_COUNT ? tp_dtype_size(t) : 8;
        bufs[k] = calloc((size_t)n, es);
        for (size_t b = 0; b < (size_t)n * es; b++)
            ((uint8_t *)bufs[k])[b] = (uint8_t)take(&r);
        if (t == TP_BOOL)
            for (int64_t b = 0; b < n; b++)
                ((uint8_t *)bufs[k])[b] &= 1;
        int cax = (int)(take(&r) % 6) - 2;
        imgs[k] = tp_image_wrap(bufs[k], t < TP_DTYPE_COUNT ? t : TP_UINT8, ndim ? ndim : 1, shape, -1, TP_HOST);
        imgs[k].dtype = t;     /* may be invalid on purpose */
        imgs[k].ndim = ndim;   /* may be 0 on purpose */
        imgs[k].channel_axis = cax < ndim ? cax : -1;
        if (take(&r) % 7 == 0 && ndim >= 2) { /* a transposed view: strided input */
            int64_t s = imgs[k].strides[0];
            imgs[k].strides[0] = imgs[k].strides[1];
            imgs[k].strides[1] = s;
            int64_t e = imgs[k].shape[0];
            imgs[k].shape[0] = imgs[k].shape[1];
            imgs[k].shape[1] = e;
        }
        in[k] = &imgs[k];
    }
    /* parameters: pick a declared name (or a bogus one) and a short text value from the bytes */
    int np = (int)(take(&r) % 4);
    for (int k = 0; k < np; k++) {
        char val[24];
        int len = (int)(take(&r) % (sizeof val - 1));
        for (int i = 0; i < len; i++) {
            static const char alphabet[] = "0123456789.,-:;xnoe disk:squareballtruefalsenearestarea";
            val[i] = alphabet[take(&r) % (sizeof alphabet - 1)];
        }
        val[len] = 0;
        int which = (int)take(&r);
        const char *name = op->n_params && which % 5 ? op->params[which % op->n_params].name : "bogus";
        tp_params_set(p, name, val);
    }
    tp_result res;
    tp_status st = tp_run(ctx, op->name, in, nin, p, &res);
    if (st != TP_OK && (res.image.data || res.table.cols || strlen(tp_last_error(ctx)) == 0))
        abort();
    tp_result_free(&res);
    tp_params_destroy(p);
    tp_context_destroy(ctx);
    free(bufs[0]);
    free(bufs[1]);
    return 0;
}

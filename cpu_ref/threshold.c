/* threshold: image > t, strict, compared as numpy compares an array with a Python float (in float64). */
#include "cpu_ref/cpu_ops.h"

tp_status tp_cpu_threshold(tp_context *ctx, const tp_call *c)
{
    const tp_image *in = c->in[0];
    const tp_image *timg = tp_arg_image(c, "threshold");
    double t = timg ? tp_get_f64(timg->data, timg->dtype, 0) : tp_arg_f64(c, "threshold");
    tp_status st = tp_out_image(ctx, c, TP_BOOL, in->ndim, in->shape, -1);
    if (st)
        return st;
    int64_t n = tp_image_count(in);
    uint8_t *o = c->out->image.data;
    switch (in->dtype) {
#define CASE(T, ctype)                                                                                             \
    case T: {                                                                                                      \
        const ctype *x = in->data;                                                                                 \
        _Pragma("omp parallel for num_threads(ctx->threads) schedule(static)") for (int64_t i = 0; i < n; i++)     \
            o[i] = (double)x[i] > t;                                                                               \
        break;                                                                                                     \
    }
        CASE(TP_UINT8, uint8_t)
        CASE(TP_INT8, int8_t)
        CASE(TP_UINT16, uint16_t)
        CASE(TP_INT16, int16_t)
        CASE(TP_UINT32, uint32_t)
        CASE(TP_INT32, int32_t)
        CASE(TP_INT64, int64_t)
        CASE(TP_FLOAT32, float)
        CASE(TP_FLOAT64, double)
#undef CASE
    default:
        return tp_error(ctx, TP_ERR_DTYPE, "threshold: image: unsupported dtype %s", tp_dtype_name(in->dtype));
    }
    return TP_OK;
}

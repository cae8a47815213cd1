/* img_as_float: skimage.util.img_as_float (0.19.3); the rules are in cpu_ref/convert.h. float32 and float64
 * inputs come back as a copy of the same dtype, bit for bit (numpy returns the array itself, so NaN payloads,
 * signalling NaNs included, are kept: a round trip through double would quiet a float32 signalling NaN);
 * everything else becomes float64. */
#include "cpu_ref/cpu_ops.h"
#include "cpu_ref/convert.h"

#include <string.h>

tp_status tp_cpu_img_as_float(tp_context *ctx, const tp_call *c)
{
    const tp_image *in = c->in[0];
    const tp_dtype out = tp_float_dtype_for(in->dtype);
    tp_status st = tp_out_image(ctx, c, out, in->ndim, in->shape, in->channel_axis);
    if (st)
        return st;
    const int64_t n = tp_image_count(in);
    if (tp_dtype_is_float(in->dtype)) {
        enum { CHUNK = 1 << 16 };
        const size_t es = tp_dtype_size(in->dtype);
        const int64_t nchunks = (n + CHUNK - 1) / CHUNK;
        const char *src = in->data;
        char *dst = c->out->image.data;
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
        for (int64_t k = 0; k < nchunks; k++) {
            const int64_t first = k * CHUNK, len = n - first < CHUNK ? n - first : CHUNK;
            memcpy(dst + (size_t)first * es, src + (size_t)first * es, (size_t)len * es);
        }
        return TP_OK;
    }
    const tp_float_conv cv = tp_float_conv_make(in->dtype, 0);
    tp_float_convert(&cv, in->data, n, c->out->image.data, out, ctx->threads);
    return TP_OK;
}

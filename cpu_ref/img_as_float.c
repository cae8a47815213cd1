/* img_as_float: skimage.util.img_as_float (0.19.3); the rules are in cpu_ref/convert.h. float32 and float64
 * inputs come back as a copy of the same dtype; everything else becomes float64. */
#include "cpu_ref/cpu_ops.h"
#include "cpu_ref/convert.h"

tp_status tp_cpu_img_as_float(tp_context *ctx, const tp_call *c)
{
    const tp_image *in = c->in[0];
    const tp_dtype out = tp_float_dtype_for(in->dtype);
    tp_status st = tp_out_image(ctx, c, out, in->ndim, in->shape, in->channel_axis);
    if (st)
        return st;
    const tp_float_conv cv = tp_float_conv_make(in->dtype, 0);
    tp_float_convert(&cv, in->data, tp_image_count(in), c->out->image.data, out, ctx->threads);
    return TP_OK;
}

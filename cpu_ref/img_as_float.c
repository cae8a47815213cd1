/* PLACEHOLDER: replaced by the real implementation of img_as_float (this session). */
#include "cpu_ref/cpu_ops.h"

tp_status tp_cpu_img_as_float(tp_context *ctx, const tp_call *c)
{
    (void)c;
    return tp_error(ctx, TP_ERR_UNSUPPORTED, "img_as_float: not implemented yet on the CPU");
}

/* PLACEHOLDER: replaced by the real implementation of binary_dilation (this session). */
#include "cpu_ref/cpu_ops.h"

tp_status tp_cpu_binary_dilation(tp_context *ctx, const tp_call *c)
{
    (void)c;
    return tp_error(ctx, TP_ERR_UNSUPPORTED, "binary_dilation: not implemented yet on the CPU");
}

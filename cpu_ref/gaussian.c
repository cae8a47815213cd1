/* PLACEHOLDER: replaced by the real implementation of gaussian (this session). */
#include "cpu_ref/cpu_ops.h"

tp_status tp_cpu_gaussian(tp_context *ctx, const tp_call *c)
{
    (void)c;
    return tp_error(ctx, TP_ERR_UNSUPPORTED, "gaussian: not implemented yet on the CPU");
}

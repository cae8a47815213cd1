/* PLACEHOLDER: replaced by the real implementation of threshold_otsu (this session). */
#include "cpu_ref/cpu_ops.h"

tp_status tp_cpu_threshold_otsu(tp_context *ctx, const tp_call *c)
{
    (void)c;
    return tp_error(ctx, TP_ERR_UNSUPPORTED, "threshold_otsu: not implemented yet on the CPU");
}

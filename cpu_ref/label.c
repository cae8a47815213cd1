/* PLACEHOLDER: replaced by the real implementation of label (this session). */
#include "cpu_ref/cpu_ops.h"

tp_status tp_cpu_label(tp_context *ctx, const tp_call *c)
{
    (void)c;
    return tp_error(ctx, TP_ERR_UNSUPPORTED, "label: not implemented yet on the CPU");
}

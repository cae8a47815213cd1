/* PLACEHOLDER: replaced by the real implementation of regionprops_table (this session). */
#include "cpu_ref/cpu_ops.h"

tp_status tp_cpu_regionprops_table(tp_context *ctx, const tp_call *c)
{
    (void)c;
    return tp_error(ctx, TP_ERR_UNSUPPORTED, "regionprops_table: not implemented yet on the CPU");
}

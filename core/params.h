/* Parameter resolution used by the dispatcher (core/dispatch.c). */
#ifndef TP_CORE_PARAMS_H
#define TP_CORE_PARAMS_H
#include "twinpix/internal.h"

/* Check every given name against op->params, parse text, fill defaults, check ranges. */
tp_status tp_params_resolve(tp_context *ctx, const tp_op_desc *op, const tp_params *given, tp_pval **out);
void tp_pvals_free(const tp_op_desc *op, tp_pval *vals);
#endif

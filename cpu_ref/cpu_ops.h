/* CPU reference implementations (C11 + OpenMP), one file per op in cpu_ref/. Each receives a validated call
 * (core/dispatch.c): inputs contiguous in host memory, parameters resolved. OpenMP regions use
 * num_threads(ctx->threads), and results never depend on the thread count. */
#ifndef TP_CPU_OPS_H
#define TP_CPU_OPS_H
#include "twinpix/internal.h"

#ifdef __cplusplus
extern "C" {
#endif
tp_status tp_cpu_extract_channel(tp_context *ctx, const tp_call *c);
tp_status tp_cpu_img_as_float(tp_context *ctx, const tp_call *c);
tp_status tp_cpu_gaussian(tp_context *ctx, const tp_call *c);
tp_status tp_cpu_threshold_otsu(tp_context *ctx, const tp_call *c);
tp_status tp_cpu_threshold(tp_context *ctx, const tp_call *c);
tp_status tp_cpu_binary_erosion(tp_context *ctx, const tp_call *c);
tp_status tp_cpu_binary_dilation(tp_context *ctx, const tp_call *c);
tp_status tp_cpu_binary_opening(tp_context *ctx, const tp_call *c);
tp_status tp_cpu_binary_closing(tp_context *ctx, const tp_call *c);
tp_status tp_cpu_label(tp_context *ctx, const tp_call *c);
tp_status tp_cpu_label2rgb(tp_context *ctx, const tp_call *c);
tp_status tp_cpu_regionprops_table(tp_context *ctx, const tp_call *c);
#ifdef __cplusplus
}
#endif
#endif

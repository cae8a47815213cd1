/* CUDA implementations, one file per op in gpu/ (extern "C" entry points). Each receives a validated call
 * (core/dispatch.c): inputs contiguous in device memory on ctx->device, parameters resolved. All work goes on
 * the context stream (tp_cuda_stream(ctx)); results equal the CPU reference bit for bit. */
#ifndef TP_CUDA_OPS_H
#define TP_CUDA_OPS_H
#include "twinpix/internal.h"

#ifdef __cplusplus
extern "C" {
#endif
tp_status tp_cuda_extract_channel(tp_context *ctx, const tp_call *c);
tp_status tp_cuda_img_as_float(tp_context *ctx, const tp_call *c);
tp_status tp_cuda_gaussian(tp_context *ctx, const tp_call *c);
tp_status tp_cuda_threshold_otsu(tp_context *ctx, const tp_call *c);
tp_status tp_cuda_threshold(tp_context *ctx, const tp_call *c);
tp_status tp_cuda_binary_erosion(tp_context *ctx, const tp_call *c);
tp_status tp_cuda_binary_dilation(tp_context *ctx, const tp_call *c);
tp_status tp_cuda_binary_opening(tp_context *ctx, const tp_call *c);
tp_status tp_cuda_binary_closing(tp_context *ctx, const tp_call *c);
tp_status tp_cuda_label(tp_context *ctx, const tp_call *c);
tp_status tp_cuda_label2rgb(tp_context *ctx, const tp_call *c);
tp_status tp_cuda_regionprops_table(tp_context *ctx, const tp_call *c);
#ifdef __cplusplus
}
#endif
#endif

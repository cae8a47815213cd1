/* Binary morphology on the device, shared by binary_erosion, binary_dilation, binary_opening and
 * binary_closing (gpu/morphology.cu). */
#ifndef TP_CUDA_MORPHOLOGY_CUH
#define TP_CUDA_MORPHOLOGY_CUH
#include "gpu/cuda_util.h"

enum tpc_morph_op { TPC_MORPH_ERODE = 0, TPC_MORPH_DILATE, TPC_MORPH_OPEN, TPC_MORPH_CLOSE };

/* Run one of the four ops on a validated call (footprint and mode from the call's parameters). */
tp_status tp_cuda_morph(tp_context *ctx, const tp_call *c, tpc_morph_op op);
#endif

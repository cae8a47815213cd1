/* binary_closing on the device: the shared bit-packed morphology engine (gpu/morphology.cu). */
#include "gpu/cuda_ops.h"
#include "gpu/morphology.cuh"

extern "C" tp_status tp_cuda_binary_closing(tp_context *ctx, const tp_call *c)
{
    return tp_cuda_morph(ctx, c, TPC_MORPH_CLOSE);
}

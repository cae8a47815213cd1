#include "common.h"
#include "morph_params.h"

const tp_op_desc tp_op_binary_dilation = {
    .name = "binary_dilation",
    .summary = "binary dilation with a footprint (default: the cross of connectivity 1)",
    .skimage = "skimage.morphology.binary_dilation",
    .inputs = tp_morph_inputs, .n_inputs = 1,
    .params = tp_morph_params, .n_params = TP_MORPH_NPARAMS,
    .output = TP_OUT_IMAGE,
    .check = tp_morph_check,
    .impl = {tp_cpu_binary_dilation, TP_CUDA_IMPL(tp_cuda_binary_dilation)},
    .contract = {TP_CONTRACT_EXACT, 0, "boolean logic"},
    .cases = tp_morph_cases,
    .bench_sizes_2d = tp_bench_2d_default, .bench_sizes_3d = tp_bench_3d_default,
    .input_kind = "mask",
};

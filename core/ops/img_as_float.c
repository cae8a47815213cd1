#include "common.h"

static const tp_input_desc inputs[] = {
    {"image", true, TP_DT_ALL, TP_DIMS_23, true},
};
static const tp_case_desc cases[] = {{""}, {NULL}};

const tp_op_desc tp_op_img_as_float = {
    .name = "img_as_float",
    .summary = "convert to floating point scaled to [0,1] / [-1,1] (float32 stays float32)",
    .skimage = "skimage.util.img_as_float",
    .inputs = inputs, .n_inputs = TP_COUNT(inputs),
    .params = NULL, .n_params = 0,
    .output = TP_OUT_IMAGE,
    .impl = {tp_cpu_img_as_float, TP_CUDA_IMPL(tp_cuda_img_as_float)},
    .contract = {TP_CONTRACT_EXACT, 0, "one multiplication by the same reciprocal, correctly rounded on both"},
    .cases = cases,
    .bench_sizes_2d = tp_bench_2d_default, .bench_sizes_3d = tp_bench_3d_default,
    .input_kind = "gray",
};

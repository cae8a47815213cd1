#include "common.h"

static const tp_input_desc inputs[] = {
    {"image", true, TP_DT_INTS | TP_DT_FLOATS, TP_DIMS_23, false},
};
static const tp_param_desc params[] = {
    {"threshold", TP_P_IMAGE, NULL, TP_NORANGE, NULL, false,
     "the threshold t: a number, or a 1-element image (e.g. threshold_otsu's result, device-resident)"},
};
static const tp_case_desc cases[] = {{"threshold=0.5"}, {NULL}};

const tp_op_desc tp_op_threshold = {
    .name = "threshold",
    .summary = "binary mask image > t (strict), t a number or a previous op's scalar result",
    .skimage = "numpy image > t",
    .inputs = inputs, .n_inputs = TP_COUNT(inputs),
    .params = params, .n_params = TP_COUNT(params),
    .output = TP_OUT_IMAGE,
    .impl = {tp_cpu_threshold, TP_CUDA_IMPL(tp_cuda_threshold)},
    .contract = {TP_CONTRACT_EXACT, 0, "one comparison in the image's type promoted to float64, as numpy does"},
    .cases = cases,
    .bench_sizes_2d = tp_bench_2d_default, .bench_sizes_3d = tp_bench_3d_default,
    .input_kind = "gray",
};

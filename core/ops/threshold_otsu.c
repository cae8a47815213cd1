#include "common.h"

static const tp_input_desc inputs[] = {
    {"image", true, TP_DT_INTS | TP_DT_FLOATS, TP_DIMS_23, false},
};
static const tp_param_desc params[] = {
    {"nbins", TP_P_INT, "256", 2, 1 << 24, NULL, false, "histogram bins for float images (ignored for integers)"},
};
static const tp_case_desc cases[] = {{"nbins=256"}, {"nbins=64"}, {NULL}};

const tp_op_desc tp_op_threshold_otsu = {
    .name = "threshold_otsu",
    .summary = "Otsu's threshold: the histogram bin centre maximising between-class variance",
    .skimage = "skimage.filters.threshold_otsu",
    .inputs = inputs, .n_inputs = TP_COUNT(inputs),
    .params = params, .n_params = TP_COUNT(params),
    .output = TP_OUT_SCALAR,
    .impl = {tp_cpu_threshold_otsu, TP_CUDA_IMPL(tp_cuda_threshold_otsu)},
    .contract = {TP_CONTRACT_EXACT, 0,
                 "integer counts are exact; counts cast to float32, float32 weight cumsums, class sums in "
                 "numpy's dtype (float32 images: float32), float32 w1*w2, same order on both sides"},
    .cases = cases,
    .bench_sizes_2d = tp_bench_2d_default, .bench_sizes_3d = tp_bench_3d_default,
    .input_kind = "gray",
};

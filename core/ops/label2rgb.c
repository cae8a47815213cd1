#include "common.h"

static const tp_input_desc inputs[] = {
    {"label", true, TP_DT(TP_BOOL) | TP_DT_INTS, TP_DIMS_23, false},
    {"image", false, TP_DT_ALL, TP_DIMS_23, true},
};
static const tp_param_desc params[] = {
    {"colors", TP_P_COLORLIST, "none", TP_NORANGE, NULL, true,
     "colours cycled over the labels, 'r,g,b' or names separated by ';' (None: scikit-image's ten)"},
    {"alpha", TP_P_FLOAT, "0.3", 0, 1, NULL, false, "opacity of the colours over the image"},
    {"bg_label", TP_P_INT, "0", -9.0e15, 9.0e15, NULL, false, "label treated as background"},
    {"bg_color", TP_P_COLOR, "0,0,0", TP_NORANGE, NULL, true, "background colour (None: the image shows through)"},
    {"image_alpha", TP_P_FLOAT, "1", 0, 1, NULL, false, "opacity of the image"},
    {"saturation", TP_P_FLOAT, "0", 0, 1, NULL, false, "saturation of the image in the overlay"},
};
static const tp_case_desc cases[] = {{""}, {"alpha=0.5;bg_label=1"}, {"colors=red;lime;blue"}, {NULL}};

const tp_op_desc tp_op_label2rgb = {
    .name = "label2rgb",
    .summary = "colour a label image (optionally over an image), as float64 RGB",
    .skimage = "skimage.color.label2rgb",
    .inputs = inputs, .n_inputs = TP_COUNT(inputs),
    .params = params, .n_params = TP_COUNT(params),
    .output = TP_OUT_IMAGE,
    .impl = {tp_cpu_label2rgb, TP_CUDA_IMPL(tp_cuda_label2rgb)},
    .contract = {TP_CONTRACT_EXACT, 0, "the same float64 blend expression on both sides, no FMA contraction"},
    .cases = cases,
    .bench_sizes_2d = tp_bench_2d_default, .bench_sizes_3d = tp_bench_3d_default,
    .input_kind = "labels",
    .bench_inputs = 1, /* the seed's call, label2rgb(labels): no image underneath */
};

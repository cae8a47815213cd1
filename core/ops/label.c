#include "common.h"

static const tp_input_desc inputs[] = {
    {"label_image", true, TP_DT(TP_BOOL) | TP_DT_INTS, TP_DIMS_23, false},
};
static const tp_param_desc params[] = {
    {"background", TP_P_INT, "0", -9.0e15, 9.0e15, NULL, false, "value treated as background"},
    {"connectivity", TP_P_INT, "none", 1, 3, NULL, true,
     "maximum number of orthogonal hops to a neighbour (None: ndim, i.e. 8 in 2D, 26 in 3D)"},
};
static tp_status check(tp_context *ctx, const tp_call *c)
{
    int sd = tp_image_spatial_ndim(c->in[0]);
    if (!tp_arg_is_none(c, "connectivity") && tp_arg_i64(c, "connectivity") > sd)
        return tp_error(ctx, TP_ERR_ARG, "label: connectivity: expected 1..%d for a %dD image, got %lld", sd, sd,
                        (long long)tp_arg_i64(c, "connectivity"));
    return TP_OK;
}
static const tp_case_desc cases[] = {{""}, {"connectivity=1"}, {"background=1"}, {NULL}};

const tp_op_desc tp_op_label = {
    .name = "label",
    .summary = "connected-component labelling, labels 1..N in raster order of first pixel",
    .skimage = "skimage.measure.label",
    .inputs = inputs, .n_inputs = TP_COUNT(inputs),
    .params = params, .n_params = TP_COUNT(params),
    .output = TP_OUT_IMAGE,
    .check = check,
    .impl = {tp_cpu_label, TP_CUDA_IMPL(tp_cuda_label)},
    .contract = {TP_CONTRACT_LABELS, 0, "same components and the same raster-order numbering"},
    .cases = cases,
    .bench_sizes_2d = tp_bench_2d_default, .bench_sizes_3d = tp_bench_3d_default,
    .input_kind = "mask",
};

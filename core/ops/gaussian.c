#include "common.h"

static const tp_input_desc inputs[] = {
    {"image", true, TP_DT_ALL, TP_DIMS_23, true},
};
static const tp_param_desc params[] = {
    {"sigma", TP_P_FLOATSEQ, "1", 0, 1e6, NULL, false, "standard deviation, one value or one per spatial axis"},
    {"mode", TP_P_ENUM, "nearest", TP_NORANGE, "nearest|reflect|mirror|constant|wrap", false,
     "how the border is extended (scipy.ndimage modes)"},
    {"cval", TP_P_FLOAT, "0", TP_NORANGE, NULL, false, "value outside the image when mode=constant"},
    {"preserve_range", TP_P_BOOL, "false", TP_NORANGE, NULL, false, "keep the input's value range (no img_as_float)"},
    {"truncate", TP_P_FLOAT, "4.0", 0, 1e6, NULL, false, "truncate the kernel at this many sigmas"},
    {"channel_axis", TP_P_INT, "none", -4, 3, NULL, true, "axis of channels, filtered independently (None: none)"},
};
static tp_status check(tp_context *ctx, const tp_call *c)
{
    double s[TP_MAX_SEQ];
    int sd = tp_image_spatial_ndim(c->in[0]);
    int n = tp_arg_seq(c, "sigma", sd, s);
    if (n != 1 && n != sd)
        return tp_error(ctx, TP_ERR_ARG, "gaussian: sigma: expected 1 or %d values for a %dD image, got %d", sd, sd, n);
    if (!tp_arg_is_none(c, "channel_axis")) {
        int64_t a = tp_arg_i64(c, "channel_axis");
        int nd = c->in[0]->ndim;
        if (c->in[0]->channel_axis < 0)
            return tp_error(ctx, TP_ERR_ARG,
                            "gaussian: channel_axis: the image has no channel axis; mark it on the image "
                            "(tp_image.channel_axis, or twinpix op --channel-axis-of-input 0:AX)");
        if (a < 0)
            a += nd;
        if (a != c->in[0]->channel_axis)
            return tp_error(ctx, TP_ERR_ARG,
                            "gaussian: channel_axis: expected the image's channel axis (%d), got %lld",
                            c->in[0]->channel_axis, (long long)tp_arg_i64(c, "channel_axis"));
    } else if (c->in[0]->channel_axis >= 0) {
        return tp_error(ctx, TP_ERR_ARG,
                        "gaussian: channel_axis: the image has a channel axis (%d); pass channel_axis=%d to filter "
                        "channels independently", c->in[0]->channel_axis, c->in[0]->channel_axis);
    }
    return TP_OK;
}
static const tp_case_desc cases[] = {
    {"sigma=5"}, {"sigma=1"}, {"sigma=2.5;mode=reflect"}, {"sigma=3;mode=mirror"}, {"sigma=2;mode=wrap"},
    {"sigma=2;mode=constant;cval=0.5"}, {"sigma=2;preserve_range=true"}, {"sigma=1,3;truncate=3"}, {NULL}};

const tp_op_desc tp_op_gaussian = {
    .name = "gaussian",
    .summary = "Gaussian blur, separable, scikit-image's conversions and scipy.ndimage's borders",
    .skimage = "skimage.filters.gaussian",
    .inputs = inputs, .n_inputs = TP_COUNT(inputs),
    .params = params, .n_params = TP_COUNT(params),
    .output = TP_OUT_IMAGE,
    .check = check,
    .impl = {tp_cpu_gaussian, TP_CUDA_IMPL(tp_cuda_gaussian)},
    .contract = {TP_CONTRACT_EXACT, 0,
                 "same weights (computed once on the host), same tap order, double accumulation, no FMA "
                 "contraction on either side (-ffp-contract=off, nvcc -fmad=false)"},
    .cases = cases,
    .bench_sizes_2d = tp_bench_2d_default, .bench_sizes_3d = tp_bench_3d_default,
    .input_kind = "gray",
};

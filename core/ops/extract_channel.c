#include "common.h"

static const tp_input_desc inputs[] = {
    {"image", true, TP_DT_ALL, TP_DIMS_23, true},
};
static const tp_param_desc params[] = {
    {"channel", TP_P_INT, "1", 0, 65535, NULL, false, "index along the channel axis (the seed takes 1, green)"},
};
static tp_status check(tp_context *ctx, const tp_call *c)
{
    if (c->in[0]->channel_axis < 0)
        return tp_error(ctx, TP_ERR_SHAPE, "extract_channel: image: expected an image with a channel axis, got none");
    int64_t ch = tp_arg_i64(c, "channel"), n = tp_image_channels(c->in[0]);
    if (ch >= n)
        return tp_error(ctx, TP_ERR_ARG, "extract_channel: channel: expected 0..%lld, got %lld", (long long)(n - 1),
                        (long long)ch);
    return TP_OK;
}
static const tp_case_desc cases[] = {{"channel=0"}, {"channel=1"}, {NULL}};

const tp_op_desc tp_op_extract_channel = {
    .name = "extract_channel",
    .summary = "take one channel of a multi-channel image (numpy image[..., c])",
    .skimage = "numpy indexing image[..., c] / image[c]",
    .inputs = inputs, .n_inputs = TP_COUNT(inputs),
    .params = params, .n_params = TP_COUNT(params),
    .output = TP_OUT_IMAGE,
    .check = check,
    .impl = {tp_cpu_extract_channel, TP_CUDA_IMPL(tp_cuda_extract_channel)},
    .contract = {TP_CONTRACT_EXACT, 0, "a copy"},
    .cases = cases,
    .bench_sizes_2d = tp_bench_2d_default, .bench_sizes_3d = tp_bench_3d_default,
    .input_kind = "rgb",
};

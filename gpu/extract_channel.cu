/* extract_channel on the device: numpy's image[..., c] (or image[c]) copied contiguous. The image is seen as
 * (outer, channels, inner) around its channel axis; the copy moves whole elements by their byte size, so
 * every dtype shares four kernels. */
#include "gpu/cuda_common.cuh"
#include "gpu/cuda_ops.h"

/* inner == 1 (channel axis last): one element per output position, strided by the channel count. */
template <typename E>
__global__ void pick_last_axis(const E *__restrict__ src, E *__restrict__ dst, int64_t outer, int64_t nch, int64_t ch)
{
    for (int64_t o = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; o < outer; o += (int64_t)gridDim.x * blockDim.x)
        dst[o] = src[o * nch + ch];
}

/* inner > 1: rows of `inner` contiguous elements; blockIdx.y walks the outer index, x the row. */
template <typename E>
__global__ void pick_rows(const E *__restrict__ src, E *__restrict__ dst, int64_t outer, int64_t nch, int64_t ch,
                          int64_t inner)
{
    for (int64_t o = blockIdx.y; o < outer; o += gridDim.y) {
        const E *s = src + (o * nch + ch) * inner;
        E *d = dst + o * inner;
        for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < inner;
             i += (int64_t)gridDim.x * blockDim.x)
            d[i] = s[i];
    }
}

template <typename E>
static tp_status launch(tp_context *ctx, const void *src, void *dst, int64_t outer, int64_t nch, int64_t ch,
                        int64_t inner)
{
    cudaStream_t s = tp_cuda_stream(ctx);
    const int threads = 256;
    if (inner == 1) {
        pick_last_axis<E><<<tpc::grid_for(outer, threads), threads, 0, s>>>((const E *)src, (E *)dst, outer, nch, ch);
    } else {
        unsigned gx = tpc::grid_for(inner, threads);
        int64_t gy = outer < 65535 ? outer : 65535;
        pick_rows<E><<<dim3(gx, (unsigned)gy), threads, 0, s>>>((const E *)src, (E *)dst, outer, nch, ch, inner);
    }
    TP_CUDA_LAUNCHED(ctx);
    return TP_OK;
}

extern "C" tp_status tp_cuda_extract_channel(tp_context *ctx, const tp_call *c)
{
    const tp_image *in = c->in[0];
    int ax = in->channel_axis;
    int64_t ch = tp_arg_i64(c, "channel");
    int64_t shape[TP_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < in->ndim; i++)
        if (i != ax)
            shape[nd++] = in->shape[i];
    tp_status st = tp_out_image(ctx, c, in->dtype, nd, shape, -1);
    if (st)
        return st;
    int64_t outer = 1, inner = 1, nch = in->shape[ax];
    for (int i = 0; i < ax; i++)
        outer *= in->shape[i];
    for (int i = ax + 1; i < in->ndim; i++)
        inner *= in->shape[i];
    void *dst = c->out->image.data;
    switch (tp_dtype_size(in->dtype)) {
    case 1:
        return launch<uint8_t>(ctx, in->data, dst, outer, nch, ch, inner);
    case 2:
        return launch<uint16_t>(ctx, in->data, dst, outer, nch, ch, inner);
    case 4:
        return launch<uint32_t>(ctx, in->data, dst, outer, nch, ch, inner);
    case 8:
        return launch<uint64_t>(ctx, in->data, dst, outer, nch, ch, inner);
    default:
        return tp_error(ctx, TP_ERR_DTYPE, "extract_channel: image: unsupported dtype %s", tp_dtype_name(in->dtype));
    }
}

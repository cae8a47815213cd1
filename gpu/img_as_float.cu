/* img_as_float on the device (skimage.util.img_as_float): integers become float64 by one multiplication with
 * the reciprocal 1/imax (signed types clipped at -1), bool becomes 0/1, float32 and float64 are copied
 * unchanged: the scalar rules of cpu_ref/convert.h, the same code on both sides. */
#include "gpu/cuda_common.cuh"
#include "gpu/cuda_ops.h"

template <typename T>
__global__ void to_float64(const T *__restrict__ x, double *__restrict__ out, int64_t n, double scale, int clamp)
{
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
        out[i] = tpc::to_float(x[i], scale, clamp);
}

extern "C" tp_status tp_cuda_img_as_float(tp_context *ctx, const tp_call *c)
{
    const tp_image *in = c->in[0];
    tp_dtype odt = tp_float_dtype_for(in->dtype);
    tp_status st = tp_out_image(ctx, c, odt, in->ndim, in->shape, in->channel_axis);
    if (st)
        return st;
    int64_t n = tp_image_count(in);
    cudaStream_t s = tp_cuda_stream(ctx);
    if (tp_dtype_is_float(in->dtype)) {
        TP_CUDA_CHECK(ctx, cudaMemcpyAsync(c->out->image.data, in->data, (size_t)n * tp_dtype_size(in->dtype),
                                           cudaMemcpyDeviceToDevice, s));
        return TP_OK;
    }
    const int threads = 256;
    unsigned blocks = tpc::grid_for(n, threads);
    double scale = tp_img_as_float_scale(in->dtype);
    int clamp = tp_img_as_float_clamps(in->dtype);
    double *o = (double *)c->out->image.data;
    TPC_DISPATCH(in->dtype, T, to_float64<T><<<blocks, threads, 0, s>>>((const T *)in->data, o, n, scale, clamp))
    TP_CUDA_LAUNCHED(ctx);
    return TP_OK;
}

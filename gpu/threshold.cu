/* threshold on the device: image > t, strict, each element promoted to float64 as the CPU reference does. The
 * threshold is a number or a 1-element image of any dtype; an image (e.g. threshold_otsu's device-resident
 * result) is read by the kernel itself, so a device pipeline never waits for the host. */
#include "gpu/cuda_common.cuh"
#include "gpu/cuda_ops.h"

/* Each thread handles 4 consecutive elements so a warp writes 128 contiguous bytes of mask. */
template <typename T>
__global__ void greater_than(const T *__restrict__ x, uint8_t *__restrict__ out, int64_t n, double t_value,
                             const void *t_image, int t_dtype)
{
    const double t = t_image ? tpc::load_f64(t_image, t_dtype) : t_value;
    int64_t quads = (n + 3) / 4;
    for (int64_t q = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; q < quads; q += (int64_t)gridDim.x * blockDim.x) {
        int64_t i = q * 4;
        if (i + 4 <= n) {
            uchar4 r;
            r.x = (double)x[i] > t;
            r.y = (double)x[i + 1] > t;
            r.z = (double)x[i + 2] > t;
            r.w = (double)x[i + 3] > t;
            if (((uintptr_t)(out + i) & 3) == 0)
                *(uchar4 *)(out + i) = r;
            else
                out[i] = r.x, out[i + 1] = r.y, out[i + 2] = r.z, out[i + 3] = r.w;
        } else {
            for (; i < n; i++)
                out[i] = (double)x[i] > t;
        }
    }
}

extern "C" tp_status tp_cuda_threshold(tp_context *ctx, const tp_call *c)
{
    const tp_image *in = c->in[0];
    const tp_image *timg = tp_arg_image(c, "threshold");
    if (timg && timg->location != TP_DEVICE)
        return tp_error(ctx, TP_ERR_INTERNAL,
                        "threshold: threshold: expected the dispatcher to stage the image on the device");
    double tv = timg ? 0.0 : tp_arg_f64(c, "threshold");
    tp_status st = tp_out_image(ctx, c, TP_BOOL, in->ndim, in->shape, -1);
    if (st)
        return st;
    int64_t n = tp_image_count(in);
    uint8_t *o = (uint8_t *)c->out->image.data;
    cudaStream_t s = tp_cuda_stream(ctx);
    const int threads = 256;
    unsigned blocks = tpc::grid_for((n + 3) / 4, threads);
    const void *tp = timg ? timg->data : nullptr;
    int tdt = timg ? (int)timg->dtype : 0;
    if (in->dtype == TP_BOOL) /* not accepted by the descriptor, nor by the CPU reference */
        return tp_error(ctx, TP_ERR_DTYPE, "threshold: image: unsupported dtype %s", tp_dtype_name(in->dtype));
    TPC_DISPATCH(in->dtype, T, greater_than<T><<<blocks, threads, 0, s>>>((const T *)in->data, o, n, tv, tp, tdt))
    TP_CUDA_LAUNCHED(ctx);
    return TP_OK;
}

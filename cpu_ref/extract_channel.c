/* extract_channel: numpy's image[..., c] (or image[c] for a leading channel axis), copied contiguous. */
#include "cpu_ref/cpu_ops.h"

#include <string.h>

tp_status tp_cpu_extract_channel(tp_context *ctx, const tp_call *c)
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
    /* outer = product of axes before the channel axis, inner = product after */
    int64_t outer = 1, inner = 1, nch = in->shape[ax];
    for (int i = 0; i < ax; i++)
        outer *= in->shape[i];
    for (int i = ax + 1; i < in->ndim; i++)
        inner *= in->shape[i];
    size_t es = tp_dtype_size(in->dtype);
    const uint8_t *src = in->data;
    uint8_t *dst = c->out->image.data;
    if (inner == 1) { /* channel last: a strided gather, typed so each element is one load and one store */
        switch (es) {
#define GATHER(T)                                                                                                  \
    {                                                                                                              \
        const T *s_ = (const T *)src + ch;                                                                         \
        T *d_ = (T *)dst;                                                                                          \
        _Pragma("omp parallel for num_threads(ctx->threads) schedule(static)") for (int64_t o = 0; o < outer; o++) \
            d_[o] = s_[o * nch];                                                                                   \
        break;                                                                                                     \
    }
        case 1: GATHER(uint8_t)
        case 2: GATHER(uint16_t)
        case 4: GATHER(uint32_t)
        default: GATHER(uint64_t)
#undef GATHER
        }
    } else {
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
        for (int64_t o = 0; o < outer; o++)
            memcpy(dst + (size_t)(o * inner) * es, src + (size_t)((o * nch + ch) * inner) * es, (size_t)inner * es);
    }
    return TP_OK;
}

/* The image model: allocation through the backend tables, contiguity, copies and transfers. */
#include "twinpix/internal.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

void tp_memcpy_par(void *dst, const void *src, size_t n, int threads)
{
    const size_t min_share = (size_t)256 << 10; /* below 256 KiB a thread the fork costs more than it saves */
    size_t t = threads > 1 ? (size_t)threads : 1;
    if (n == 0)
        return;
    if (t > n / min_share)
        t = n / min_share;
#ifdef _OPENMP
    if (t > 1 && !omp_in_parallel()) {
        const size_t share = ((n + t - 1) / t + 4095) & ~(size_t)4095; /* page-aligned shares */
#pragma omp parallel for num_threads((int)t) schedule(static)
        for (size_t i = 0; i < t; i++) {
            const size_t a = i * share;
            if (a < n)
                memcpy((char *)dst + a, (const char *)src + a, n - a < share ? n - a : share);
        }
        return;
    }
#endif
    memcpy(dst, src, n);
}

tp_image tp_image_empty(void)
{
    tp_image im;
    memset(&im, 0, sizeof im);
    im.channel_axis = -1;
    im.ndim = 0;
    im.spacing[0] = im.spacing[1] = im.spacing[2] = 1.0;
    return im;
}

static void set_contiguous_strides(tp_image *im)
{
    int64_t s = (int64_t)tp_dtype_size(im->dtype);
    for (int i = im->ndim - 1; i >= 0; i--) {
        im->strides[i] = s;
        s *= im->shape[i];
    }
}

static tp_status check_geometry(tp_context *ctx, tp_dtype dtype, int ndim, const int64_t *shape, int channel_axis,
                                int64_t *bytes)
{
    if ((unsigned)dtype >= TP_DTYPE_COUNT)
        return tp_error(ctx, TP_ERR_DTYPE, "image: dtype: expected one of bool..float64, got %d", (int)dtype);
    if (ndim < 1 || ndim > TP_MAX_DIMS)
        return tp_error(ctx, TP_ERR_SHAPE, "image: ndim: expected 1..%d, got %d", TP_MAX_DIMS, ndim);
    if (channel_axis < -1 || channel_axis >= ndim)
        return tp_error(ctx, TP_ERR_SHAPE, "image: channel_axis: expected -1..%d, got %d", ndim - 1, channel_axis);
    for (int i = 0; i < ndim; i++)
        if (shape[i] <= 0)
            return tp_error(ctx, TP_ERR_SHAPE, "image: shape[%d]: expected > 0, got %lld", i, (long long)shape[i]);
    int64_t n;
    if (!tp_shape_product(shape, ndim, &n) || !tp_mul_i64(n, (int64_t)tp_dtype_size(dtype), bytes))
        return tp_error(ctx, TP_ERR_OVERFLOW, "image: the shape's byte size overflows 64 bits");
    if ((uint64_t)*bytes > (uint64_t)SIZE_MAX)
        return tp_error(ctx, TP_ERR_OVERFLOW, "image: %lld bytes do not fit in size_t", (long long)*bytes);
    return TP_OK;
}

tp_status tp_image_alloc(tp_context *ctx, tp_image *img, tp_dtype dtype, int ndim, const int64_t *shape,
                         int channel_axis, tp_location where)
{
    if (!img || !shape)
        return tp_error(ctx, TP_ERR_ARG, "tp_image_alloc: img and shape must not be NULL");
    int64_t bytes = 0;
    tp_status st = check_geometry(ctx, dtype, ndim, shape, channel_axis, &bytes);
    if (st)
        return st;
    const tp_backend *b = tp_backend_get(where == TP_DEVICE ? TP_BACKEND_CUDA : TP_BACKEND_CPU);
    if (!b)
        return tp_error(ctx, TP_ERR_NO_DEVICE, "image: device memory requested but twinpix was built without CUDA");
    void *p = NULL;
    st = b->alloc(ctx, (size_t)bytes, &p);
    if (st)
        return st;
    tp_image im = tp_image_empty();
    im.data = p;
    im.dtype = dtype;
    im.ndim = ndim;
    memcpy(im.shape, shape, sizeof(int64_t) * (size_t)ndim);
    im.channel_axis = channel_axis;
    im.location = where;
    im.device = where == TP_DEVICE && ctx ? ctx->device : 0;
    im.owns = 1;
    set_contiguous_strides(&im);
    *img = im;
    return TP_OK;
}

tp_image tp_image_wrap(void *data, tp_dtype dtype, int ndim, const int64_t *shape, int channel_axis,
                       tp_location where)
{
    tp_image im = tp_image_empty();
    if (ndim < 1 || ndim > TP_MAX_DIMS || (unsigned)dtype >= TP_DTYPE_COUNT)
        return im;
    im.data = data;
    im.dtype = dtype;
    im.ndim = ndim;
    memcpy(im.shape, shape, sizeof(int64_t) * (size_t)ndim);
    im.channel_axis = channel_axis;
    im.location = where;
    set_contiguous_strides(&im);
    return im;
}

/* A device block is released on the stream of the context that allocated it (gpu/backend.cu), after the work
 * queued there, without waiting; after that context was destroyed, on the calling thread's per-thread default
 * stream. An image another context still reads must not be freed before tp_context_sync of that context. */
void tp_image_free(tp_image *img)
{
    if (!img)
        return;
    if (img->owns && img->data) {
        const tp_backend *b = tp_backend_get(img->location == TP_DEVICE ? TP_BACKEND_CUDA : TP_BACKEND_CPU);
        if (b)
            b->free(NULL, img->data);
    }
    *img = tp_image_empty();
}

int64_t tp_image_count(const tp_image *img)
{
    int64_t n = 0;
    if (img->ndim < 1 || !tp_shape_product(img->shape, img->ndim, &n))
        return 0;
    return n;
}

int tp_image_spatial_ndim(const tp_image *img) { return img->ndim - (img->channel_axis >= 0 ? 1 : 0); }

int64_t tp_image_channels(const tp_image *img) { return img->channel_axis >= 0 ? img->shape[img->channel_axis] : 1; }

int tp_image_is_contiguous(const tp_image *img)
{
    int64_t s = (int64_t)tp_dtype_size(img->dtype);
    for (int i = img->ndim - 1; i >= 0; i--) {
        if (img->shape[i] != 1 && img->strides[i] != s)
            return 0;
        s *= img->shape[i];
    }
    return 1;
}

/* Gather a strided host image into contiguous host memory. */
static void gather_host(const tp_image *src, uint8_t *dst)
{
    size_t es = tp_dtype_size(src->dtype);
    int nd = src->ndim;
    int64_t idx[TP_MAX_DIMS] = {0};
    int64_t n = tp_image_count(src);
    for (int64_t k = 0; k < n; k++) {
        int64_t off = 0;
        for (int d = 0; d < nd; d++)
            off += idx[d] * src->strides[d];
        memcpy(dst + (size_t)k * es, (const uint8_t *)src->data + off, es);
        for (int d = nd - 1; d >= 0; d--) {
            if (++idx[d] < src->shape[d])
                break;
            idx[d] = 0;
        }
    }
}

tp_status tp_image_copy(tp_context *ctx, const tp_image *src, tp_image *dst, tp_location where)
{
    if (!src || !dst || !src->data)
        return tp_error(ctx, TP_ERR_ARG, "tp_image_copy: source image is empty");
    tp_image out = tp_image_empty();
    tp_status st = tp_image_alloc(ctx, &out, src->dtype, src->ndim, src->shape, src->channel_axis, where);
    if (st)
        return st;
    size_t bytes = (size_t)tp_image_count(src) * tp_dtype_size(src->dtype);
    const tp_backend *mover = tp_backend_get((where == TP_DEVICE || src->location == TP_DEVICE) ? TP_BACKEND_CUDA
                                                                                             : TP_BACKEND_CPU);
    if (tp_image_is_contiguous(src)) {
        st = mover->copy(ctx, out.data, where, src->data, src->location, bytes);
    } else if (src->location == TP_HOST) {
        if (where == TP_HOST) {
            gather_host(src, out.data);
        } else {
            uint8_t *tmp = tp_host_alloc(ctx, (int64_t)bytes, 1);
            if (!tmp) {
                tp_image_free(&out);
                return TP_ERR_NOMEM;
            }
            gather_host(src, tmp);
            st = mover->copy(ctx, out.data, where, tmp, TP_HOST, bytes);
            free(tmp);
        }
    } else {
        st = tp_error(ctx, TP_ERR_UNSUPPORTED, "tp_image_copy: strided device images are not supported");
    }
    if (st) {
        tp_image_free(&out);
        return st;
    }
    memcpy(out.spacing, src->spacing, sizeof out.spacing);
    *dst = out;
    return TP_OK;
}

tp_status tp_image_astype(tp_context *ctx, const tp_image *src, tp_image *dst, tp_dtype dtype)
{
    if (!src || !dst || !src->data || src->location != TP_HOST)
        return tp_error(ctx, TP_ERR_ARG, "tp_image_astype: expected a host image");
    tp_image c = tp_image_empty();
    const tp_image *s = src;
    tp_status st;
    if (!tp_image_is_contiguous(src)) {
        if ((st = tp_image_copy(ctx, src, &c, TP_HOST)))
            return st;
        s = &c;
    }
    tp_image out = tp_image_empty();
    st = tp_image_alloc(ctx, &out, dtype, s->ndim, s->shape, s->channel_axis, TP_HOST);
    if (st) {
        tp_image_free(&c);
        return st;
    }
    int64_t n = tp_image_count(s);
    if (dtype == TP_INT64 && !tp_dtype_is_float(s->dtype)) {
        for (int64_t i = 0; i < n; i++) /* exact for every integer type, unlike a trip through double */
            ((int64_t *)out.data)[i] = s->dtype == TP_INT64 ? ((const int64_t *)s->data)[i]
                                                            : (int64_t)tp_get_f64(s->data, s->dtype, i);
    } else {
        for (int64_t i = 0; i < n; i++)
            tp_set_f64(out.data, dtype, i, tp_get_f64(s->data, s->dtype, i));
    }
    memcpy(out.spacing, s->spacing, sizeof out.spacing);
    tp_image_free(&c);
    *dst = out;
    return TP_OK;
}

/* The bytes a host image's elements span, from its lowest to its highest address (a strided or flipped view
 * included): what page-locking must cover. 0 when the geometry is not a valid one. */
static int host_span(const tp_image *img, char **base, size_t *bytes)
{
    int64_t lo = 0, hi = (int64_t)tp_dtype_size(img->dtype), ext;
    if (img->ndim < 1 || img->ndim > TP_MAX_DIMS || (unsigned)img->dtype >= TP_DTYPE_COUNT)
        return 0;
    for (int d = 0; d < img->ndim; d++) {
        if (img->shape[d] < 1 || !tp_mul_i64(img->shape[d] - 1, img->strides[d], &ext))
            return 0;
        if (!(ext < 0 ? tp_add_i64(lo, ext, &lo) : tp_add_i64(hi, ext, &hi)))
            return 0;
    }
    if ((uint64_t)(hi - lo) > (uint64_t)SIZE_MAX)
        return 0;
    *base = (char *)img->data + lo;
    *bytes = (size_t)(hi - lo);
    return 1;
}

/* Pinning is for copies to a device: with no CUDA backend, or no device to copy to, there is nothing to do
 * (the real probe, not tp_backend_available's test seam: page-locking is real CUDA work). */
static const tp_backend *pinning_backend(void)
{
    const tp_backend *b = tp_backend_get(TP_BACKEND_CUDA);
    return b && b->pin && b->unpin && b->available(NULL, 0) ? b : NULL;
}

tp_status tp_image_pin(tp_context *ctx, const tp_image *img)
{
    if (!img || !img->data)
        return tp_error(ctx, TP_ERR_ARG, "tp_image_pin: img: expected a host image with data, got %s",
                        img ? "an empty image" : "NULL");
    if (img->location != TP_HOST)
        return tp_error(ctx, TP_ERR_ARG, "tp_image_pin: img: expected a host image, got a device image");
    char *base;
    size_t bytes;
    if (!host_span(img, &base, &bytes))
        return tp_error(ctx, TP_ERR_ARG, "tp_image_pin: img: expected a valid shape and strides");
    const tp_backend *b = pinning_backend();
    return b ? b->pin(ctx, base, bytes) : TP_OK;
}

void tp_image_unpin(const tp_image *img)
{
    char *base;
    size_t bytes;
    if (!img || !img->data || img->location != TP_HOST || !host_span(img, &base, &bytes))
        return;
    const tp_backend *b = pinning_backend();
    if (b)
        b->unpin(base);
}

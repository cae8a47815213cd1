/* tp_image_pin on a device: the host buffer becomes page-locked (CUDA sees it as host-registered memory, so
 * tp_image_copy takes the direct DMA path instead of the staging buffer), a round trip through the device
 * gives the same bytes, and tp_image_unpin gives the pages back. Skipped (exit 77) without a device. */
#include "tests/support/tp_test.h"

#include <string.h>
#ifdef TP_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

/* What the CUDA runtime says about the pointer: 1 page-locked host memory, 0 not, -1 cannot tell. */
static int is_pinned(const void *p)
{
#ifdef TP_HAVE_CUDA
    struct cudaPointerAttributes a;
    if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
        cudaGetLastError();
        return -1;
    }
    return a.type == cudaMemoryTypeHost;
#else
    (void)p;
    return -1;
#endif
}

/* host -> device -> host: the bytes come back unchanged */
static int round_trip_equal(const tp_image *host)
{
    tp_image dev = tp_image_empty(), back = tp_image_empty();
    CHECK_OK(tp_image_copy(tp_test_ctx, host, &dev, TP_DEVICE));
    CHECK_OK(tp_image_copy(tp_test_ctx, &dev, &back, TP_HOST));
    size_t bytes = (size_t)tp_image_count(host) * tp_dtype_size(host->dtype);
    int same = back.data && dev.location == TP_DEVICE && memcmp(back.data, host->data, bytes) == 0;
    tp_image_free(&back);
    tp_image_free(&dev);
    return same;
}

static int test_pin_round_trip(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    /* 33 MB: several 8 MiB staging chunks, were the copies staged */
    int64_t shape[3] = {1601, 1733, 3};
    tp_image img = tp_image_empty();
    CHECK_OK(tp_image_alloc(tp_test_ctx, &img, TP_FLOAT32, 3, shape, 2, TP_HOST));
    if (!img.data)
        return 0;
    uint64_t state = 42;
    float *v = img.data;
    for (int64_t i = 0; i < tp_image_count(&img); i++)
        v[i] = (float)(tp_test_rand(&state) >> 40) * 0x1p-24f - 0.5f;
    CHECK(is_pinned(img.data) == 0);
    CHECK_OK(tp_image_pin(tp_test_ctx, &img));
    CHECK_MSG(is_pinned(img.data) == 1, "not page-locked after tp_image_pin");
    CHECK_OK(tp_image_pin(tp_test_ctx, &img)); /* already registered: not an error */
    CHECK(round_trip_equal(&img));
    tp_image_unpin(&img);
    CHECK_MSG(is_pinned(img.data) == 0, "still page-locked after tp_image_unpin");
    tp_image_unpin(&img); /* not registered any more: nothing to undo, no CUDA error left behind */
    CHECK(round_trip_equal(&img)); /* and the staged path still works on the same buffer */

    /* a strided view pins the span it covers: every other row of the image */
    tp_image view = img;
    view.owns = 0;
    view.shape[0] = 800;
    view.strides[0] *= 2;
    CHECK_OK(tp_image_pin(tp_test_ctx, &view));
    CHECK(is_pinned(view.data) == 1);
    tp_image dev = tp_image_empty(), gathered = tp_image_empty();
    CHECK_OK(tp_image_copy(tp_test_ctx, &view, &dev, TP_DEVICE));
    CHECK_OK(tp_image_copy(tp_test_ctx, &view, &gathered, TP_HOST));
    tp_image_unpin(&view);
    CHECK(is_pinned(view.data) == 0);
    CHECK(round_trip_equal(&gathered));
    tp_image back = tp_image_empty();
    CHECK_OK(tp_image_copy(tp_test_ctx, &dev, &back, TP_HOST));
    size_t bytes = (size_t)tp_image_count(&gathered) * sizeof(float);
    CHECK(back.data && gathered.data && memcmp(back.data, gathered.data, bytes) == 0);
    tp_image_free(&back);
    tp_image_free(&gathered);
    tp_image_free(&dev);
    tp_image_free(&img);
    return 0;
}

TP_TESTS(T(test_pin_round_trip))

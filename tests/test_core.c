/* The image model, status codes, parameters and the dispatcher's argument checks. */
#include "tests/support/tp_test.h"

#include <string.h>

static int test_status_strings(void)
{
    CHECK(strcmp(tp_status_str(TP_OK), "ok") == 0);
    CHECK(strcmp(tp_status_str(TP_ERR_DEVICE_NOMEM), "out of device memory") == 0);
    CHECK(strcmp(tp_status_str((tp_status)-99), "unknown status") == 0);
    return 0;
}

static int test_dtypes(void)
{
    static const size_t sizes[TP_DTYPE_COUNT] = {1, 1, 1, 2, 2, 4, 4, 8, 4, 8};
    for (int t = 0; t < TP_DTYPE_COUNT; t++) {
        tp_dtype back;
        CHECK(tp_dtype_size((tp_dtype)t) == sizes[t]);
        CHECK(tp_dtype_from_name(tp_dtype_name((tp_dtype)t), &back) == 0 && back == (tp_dtype)t);
    }
    tp_dtype d;
    CHECK(tp_dtype_from_name("complex64", &d) == -1);
    return 0;
}

static int test_alloc_and_overflow(void)
{
    tp_image im = tp_image_empty();
    int64_t shape[3] = {3, 5, 7};
    CHECK_OK(tp_image_alloc(tp_test_ctx, &im, TP_UINT16, 3, shape, -1, TP_HOST));
    CHECK(tp_image_count(&im) == 105);
    CHECK(im.strides[0] == 70 && im.strides[1] == 14 && im.strides[2] == 2);
    CHECK(tp_image_is_contiguous(&im));
    tp_image_free(&im);
    CHECK(im.data == NULL);
    int64_t huge[3] = {INT64_C(1) << 40, INT64_C(1) << 40, 4};
    CHECK(tp_image_alloc(tp_test_ctx, &im, TP_UINT8, 3, huge, -1, TP_HOST) == TP_ERR_OVERFLOW);
    CHECK(im.data == NULL);
    int64_t zero[2] = {0, 5};
    CHECK(tp_image_alloc(tp_test_ctx, &im, TP_UINT8, 2, zero, -1, TP_HOST) == TP_ERR_SHAPE);
    CHECK(strstr(tp_last_error(tp_test_ctx), "shape[0]") != NULL);
    /* images over 2^31 elements have 64-bit sizes: check the arithmetic without allocating */
    int64_t big[3] = {2048, 2048, 2048}, n = 0;
    CHECK(tp_shape_product(big, 3, &n) && n == INT64_C(8589934592));
    return 0;
}

static int test_strided_copy(void)
{
    /* a transposed view: strides swapped */
    uint16_t buf[6] = {1, 2, 3, 4, 5, 6}; /* 2x3 */
    int64_t shape[2] = {3, 2};
    tp_image v = tp_image_wrap(buf, TP_UINT16, 2, shape, -1, TP_HOST);
    v.strides[0] = 2;
    v.strides[1] = 6;
    CHECK(!tp_image_is_contiguous(&v));
    tp_image c = tp_image_empty();
    CHECK_OK(tp_image_copy(tp_test_ctx, &v, &c, TP_HOST));
    const uint16_t *d = c.data;
    CHECK(d[0] == 1 && d[1] == 4 && d[2] == 2 && d[3] == 5 && d[4] == 3 && d[5] == 6);
    tp_image_free(&c);
    return 0;
}

/* tp_image_pin is a hint: on a host image it succeeds whether or not a device is there (page-locked with one,
 * nothing to do without), a strided view included; what is not a host image is refused, naming the argument. */
static int test_pin(void)
{
    tp_image im = tp_image_empty();
    int64_t shape[2] = {64, 48};
    CHECK_OK(tp_image_alloc(tp_test_ctx, &im, TP_UINT8, 2, shape, -1, TP_HOST));
    CHECK_OK(tp_image_pin(tp_test_ctx, &im));
    CHECK_OK(tp_image_pin(tp_test_ctx, &im)); /* pinned twice: already what was asked for */
    tp_image_unpin(&im);
    tp_image_unpin(&im); /* never pinned (any more): nothing to undo */
    tp_image view = im;  /* every other column, the last row first */
    view.owns = 0;
    view.shape[1] = 24;
    view.strides[1] = 2;
    view.data = (uint8_t *)im.data + 63 * 48;
    view.strides[0] = -48;
    CHECK_OK(tp_image_pin(tp_test_ctx, &view));
    tp_image_unpin(&view);
    tp_image_free(&im);

    uint8_t px[4] = {0};
    int64_t two[2] = {2, 2};
    tp_image dev = tp_image_wrap(px, TP_UINT8, 2, two, -1, TP_DEVICE);
    CHECK(tp_image_pin(tp_test_ctx, &dev) == TP_ERR_ARG);
    CHECK(strstr(tp_last_error(tp_test_ctx), "tp_image_pin: img: expected a host image, got a device image") != NULL);
    tp_image_unpin(&dev); /* a device image: nothing to undo */
    tp_image empty = tp_image_empty();
    CHECK(tp_image_pin(tp_test_ctx, &empty) == TP_ERR_ARG);
    CHECK(strstr(tp_last_error(tp_test_ctx), "tp_image_pin: img:") != NULL);
    CHECK(tp_image_pin(tp_test_ctx, NULL) == TP_ERR_ARG);
    CHECK(strstr(tp_last_error(tp_test_ctx), "got NULL") != NULL);
    tp_image_unpin(NULL);
    tp_image_unpin(&empty);
    return 0;
}

static int test_dispatch_errors(void)
{
    uint8_t px[16] = {0};
    int64_t shape[2] = {4, 4};
    tp_image im = tp_image_wrap(px, TP_UINT8, 2, shape, -1, TP_HOST);
    const tp_image *in[1] = {&im};
    tp_result r;
    tp_params *p;
    CHECK_OK(tp_params_create(&p));
    CHECK(tp_run(tp_test_ctx, "no_such_op", in, 1, NULL, &r) == TP_ERR_ARG);
    CHECK(strstr(tp_last_error(tp_test_ctx), "no_such_op") != NULL);
    CHECK_OK(tp_params_set(p, "sigmaa", "2"));
    CHECK(tp_run(tp_test_ctx, "gaussian", in, 1, p, &r) == TP_ERR_ARG);
    CHECK(strstr(tp_last_error(tp_test_ctx), "unknown parameter 'sigmaa'") != NULL);
    tp_params_destroy(p);
    CHECK_OK(tp_params_create(&p));
    CHECK_OK(tp_params_set(p, "sigma", "-1"));
    CHECK(tp_run(tp_test_ctx, "gaussian", in, 1, p, &r) == TP_ERR_ARG);
    CHECK(strstr(tp_last_error(tp_test_ctx), "sigma") != NULL);
    tp_params_destroy(p);
    CHECK_OK(tp_params_create(&p));
    CHECK_OK(tp_params_set(p, "mode", "bogus"));
    CHECK(tp_run(tp_test_ctx, "gaussian", in, 1, p, &r) == TP_ERR_ARG);
    CHECK(strstr(tp_last_error(tp_test_ctx), "nearest|reflect") != NULL);
    tp_params_destroy(p);
    CHECK_OK(tp_params_create(&p));
    CHECK_OK(tp_params_set(p, "connectivity", "3"));
    tp_image mask = tp_image_wrap(px, TP_BOOL, 2, shape, -1, TP_HOST);
    const tp_image *min[1] = {&mask};
    CHECK(tp_run(tp_test_ctx, "label", min, 1, p, &r) == TP_ERR_ARG);
    CHECK(strstr(tp_last_error(tp_test_ctx), "connectivity") != NULL);
    tp_params_destroy(p);
    /* wrong dtype: threshold_otsu does not take bool */
    CHECK(tp_run(tp_test_ctx, "threshold_otsu", min, 1, NULL, &r) == TP_ERR_DTYPE);
    CHECK(strstr(tp_last_error(tp_test_ctx), "got bool") != NULL);
    /* empty image */
    tp_image empty = tp_image_empty();
    const tp_image *ein[1] = {&empty};
    CHECK(tp_run(tp_test_ctx, "gaussian", ein, 1, NULL, &r) == TP_ERR_ARG);
    CHECK(r.image.data == NULL);
    /* 1D is not accepted */
    int64_t s1[1] = {16};
    tp_image line = tp_image_wrap(px, TP_UINT8, 1, s1, -1, TP_HOST);
    const tp_image *lin[1] = {&line};
    CHECK(tp_run(tp_test_ctx, "gaussian", lin, 1, NULL, &r) == TP_ERR_SHAPE);
    return 0;
}

static int test_threshold_and_channel(void)
{
    float px[6] = {0.1f, 0.5f, 0.50001f, 0.9f, -1.0f, 0.5f};
    int64_t shape[2] = {2, 3};
    tp_image im = tp_image_wrap(px, TP_FLOAT32, 2, shape, -1, TP_HOST);
    const tp_image *in[1] = {&im};
    tp_params *p;
    CHECK_OK(tp_params_create(&p));
    CHECK_OK(tp_params_set_f64(p, "threshold", 0.5));
    tp_result r;
    CHECK_OK(tp_run(tp_test_ctx, "threshold", in, 1, p, &r));
    const uint8_t *m = r.image.data;
    CHECK(r.image.dtype == TP_BOOL);
    CHECK(m[0] == 0 && m[1] == 0 && m[2] == 1 && m[3] == 1 && m[4] == 0 && m[5] == 0);
    tp_result_free(&r);
    tp_params_destroy(p);

    uint8_t rgb[2 * 2 * 3] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    int64_t s3[3] = {2, 2, 3};
    tp_image c = tp_image_wrap(rgb, TP_UINT8, 3, s3, 2, TP_HOST);
    const tp_image *cin[1] = {&c};
    CHECK_OK(tp_run(tp_test_ctx, "extract_channel", cin, 1, NULL, &r)); /* default channel 1 (the seed's) */
    const uint8_t *g = r.image.data;
    CHECK(r.image.ndim == 2 && r.image.channel_axis == -1);
    CHECK(g[0] == 2 && g[1] == 5 && g[2] == 8 && g[3] == 11);
    tp_result_free(&r);
    CHECK_OK(tp_params_create(&p));
    CHECK_OK(tp_params_set(p, "channel", "3"));
    CHECK(tp_run(tp_test_ctx, "extract_channel", cin, 1, p, &r) == TP_ERR_ARG);
    tp_params_destroy(p);
    return 0;
}

static int test_footprints(void)
{
    tp_footprint fp;
    CHECK_OK(tp_footprint_parse(tp_test_ctx, "disk:2", &fp));
    int on = 0;
    for (int i = 0; i < 25; i++)
        on += fp.data[i];
    CHECK(fp.ndim == 2 && fp.shape[0] == 5 && on == 13); /* skimage.morphology.disk(2).sum() == 13 */
    tp_footprint_free(&fp);
    CHECK_OK(tp_footprint_parse(tp_test_ctx, "ball:1", &fp));
    on = 0;
    for (int i = 0; i < 27; i++)
        on += fp.data[i];
    CHECK(fp.ndim == 3 && on == 7);
    tp_footprint_free(&fp);
    CHECK_OK(tp_footprint_parse(tp_test_ctx, "rectangle:2x4", &fp));
    CHECK(fp.shape[0] == 2 && fp.shape[1] == 4);
    tp_footprint_free(&fp);
    CHECK(tp_footprint_parse(tp_test_ctx, "blob:2", &fp) == TP_ERR_ARG);
    CHECK(tp_footprint_parse(tp_test_ctx, "disk:-1", &fp) == TP_ERR_ARG);
    return 0;
}

static int test_backends(void)
{
    char why[256];
    CHECK(tp_backend_available(TP_BACKEND_CPU, why, sizeof why) == 1);
    int cuda = tp_backend_available(TP_BACKEND_CUDA, why, sizeof why);
    if (!cuda)
        CHECK(strlen(why) > 0); /* says why */
    return 0;
}

TP_TESTS(T(test_status_strings), T(test_dtypes), T(test_alloc_and_overflow), T(test_strided_copy), T(test_pin),
         T(test_dispatch_errors), T(test_threshold_and_channel), T(test_footprints), T(test_backends))

/* Device out-of-memory through TWINPIX_DEVICE_MEM_LIMIT: a clear status, nothing leaked, and auto falls
 * back to the CPU with the CPU's answer. Skipped (exit 77) without a device. The cap is process-wide, so
 * this test has its own binary. */
#include "datasets/datasets.h"
#include "tests/support/tp_pipeline_check.h"
#include "tests/support/tp_test.h"

#include <string.h>

static tp_status nuclei(int64_t h, int64_t w, uint64_t seed, tp_image *img)
{
    tp_synth_params sp;
    memset(&sp, 0, sizeof sp);
    sp.ndim = 2;
    sp.shape[0] = h;
    sp.shape[1] = w;
    sp.dtype = TP_UINT8;
    sp.seed = seed;
    return tp_synth_nuclei(tp_test_ctx, &sp, img, NULL);
}

static int test_device_oom(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    /* the cap is read at the first device allocation of the process: this test runs first */
    tp_image img = tp_image_empty();
    CHECK_OK(nuclei(2048, 2048, 7, &img));
    int64_t before = tp_device_mem_current();
    const tp_image *in[1] = {&img};
    tp_params *p;
    tp_params_create(&p);
    tp_params_set(p, "sigma", "5");
    tp_result r;
    tp_status st = tp_run_on(tp_test_ctx, TP_BACKEND_CUDA, "gaussian", in, 1, p, &r);
    CHECK_MSG(st == TP_ERR_DEVICE_NOMEM, "explicit cuda over the cap: %s (%s)", tp_status_str(st),
              tp_last_error(tp_test_ctx));
    CHECK(strstr(tp_last_error(tp_test_ctx), "TWINPIX_DEVICE_MEM_LIMIT") != NULL);
    CHECK(r.image.data == NULL);
    CHECK_MSG(tp_device_mem_current() == before, "leaked %lld device bytes",
              (long long)(tp_device_mem_current() - before));
    /* auto: the GPU fails, the CPU answers, and the answer is the CPU's */
    tp_context_set_backend(tp_test_ctx, TP_CHOOSE_AUTO);
    unsetenv("TWINPIX_BACKEND");
    tp_result ref;
    CHECK_OK(tp_run_on(tp_test_ctx, TP_BACKEND_CPU, "gaussian", in, 1, p, &ref));
    /* auto sends a device-resident input to the GPU; the upload fits under the cap, the output does not */
    tp_image dev = tp_image_empty();
    CHECK_OK(tp_image_copy(tp_test_ctx, &img, &dev, TP_DEVICE));
    const tp_image *din[1] = {&dev};
    st = tp_run(tp_test_ctx, "gaussian", din, 1, p, &r);
    CHECK_MSG(st == TP_OK, "auto after device OOM: %s (%s)", tp_status_str(st), tp_last_error(tp_test_ctx));
    if (st == TP_OK) {
        CHECK(r.backend == TP_BACKEND_CPU);
        tp_image back = tp_image_empty();
        CHECK_OK(tp_image_copy(tp_test_ctx, &r.image, &back, TP_HOST));
        CHECK(back.data && memcmp(back.data, ref.image.data, (size_t)tp_image_count(&back) * 8) == 0);
        tp_image_free(&back);
    }
    tp_result_free(&r);
    tp_result_free(&ref);
    tp_image_free(&dev);
    CHECK(tp_device_mem_current() == before);
    tp_params_destroy(p);
    tp_image_free(&img);
    return 0;
}

int main(void)
{
    /* 24 MiB cap: a 2048^2 uint8 upload (4 MiB) fits, gaussian's float64 output (32 MiB) does not */
    setenv("TWINPIX_DEVICE_MEM_LIMIT", "24M", 1);
    static const tp_test_case t[] = {T(test_device_oom)};
    return tp_test_main(t, 1);
}

/* Choosing CPU or GPU at run time: explicit, by environment, automatic from calibration (with a fake
 * device, since CI has none), bad calibration files, and chains decided as a whole. */
#include "core/calibration.h"
#include "core/pipeline.h"
#include "tests/support/tp_test.h"

#include <string.h>
#include <unistd.h>

static char g_dir[256];

static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

/* gaussian: CPU 0.01 ms + 4 ns/px; GPU 0.02 ms + 0.01 ns/px; transfers 10 GB/s, 0.05 ms latency. */
static const char *good_cal =
    "{\"schema_version\": \"twinpix.calibration/1\", \"transfer\": {\"h2d_gbs\": 10, \"d2h_gbs\": 10, "
    "\"latency_ms\": 0.05}, \"ops\": {\"gaussian\": {\"cpu\": {\"fixed_ms\": 0.01, \"ns_per_px\": 4}, "
    "\"cuda\": {\"fixed_ms\": 0.02, \"ns_per_px\": 0.01}}, \"threshold\": {\"cpu\": {\"fixed_ms\": 0.001, "
    "\"ns_per_px\": 0.2}, \"cuda\": {\"fixed_ms\": 0.01, \"ns_per_px\": 0.001}}}}";

static void use_calibration(const char *path)
{
    setenv("TWINPIX_CALIBRATION", path, 1);
    tp_calibration_reset();
}

static tp_image host_image(int64_t side, uint8_t *buf)
{
    int64_t shape[2] = {side, side};
    return tp_image_wrap(buf, TP_UINT8, 2, shape, -1, TP_HOST);
}

static int test_explicit_and_env(void)
{
    const tp_op_desc *op = tp_op_find("gaussian");
    uint8_t px[16] = {1};
    tp_image im = host_image(4, px);
    const tp_image *in[1] = {&im};
    unsetenv("TWINPIX_BACKEND");
    tp_context_set_backend(tp_test_ctx, TP_CHOOSE_CPU);
    CHECK(tp_choose_backend(tp_test_ctx, op, in, 1) == TP_BACKEND_CPU);
    tp_context_set_backend(tp_test_ctx, TP_CHOOSE_CUDA);
    CHECK(tp_choose_backend(tp_test_ctx, op, in, 1) == TP_BACKEND_CUDA);
    setenv("TWINPIX_BACKEND", "cpu", 1);
    CHECK(tp_choose_backend(tp_test_ctx, op, in, 1) == TP_BACKEND_CPU); /* the environment overrides */
    setenv("TWINPIX_BACKEND", "cuda", 1);
    tp_context_set_backend(tp_test_ctx, TP_CHOOSE_CPU);
    CHECK(tp_choose_backend(tp_test_ctx, op, in, 1) == TP_BACKEND_CUDA);
    setenv("TWINPIX_BACKEND", "gpu-please", 1); /* not a value: warned about and ignored */
    CHECK(tp_choose_backend(tp_test_ctx, op, in, 1) == TP_BACKEND_CPU);
    unsetenv("TWINPIX_BACKEND");
    /* explicit cuda without a device: a clear error, never a crash */
    tp_test_fake_cuda(0);
    tp_context_set_backend(tp_test_ctx, TP_CHOOSE_CUDA);
    tp_result r;
    CHECK(tp_run(tp_test_ctx, "threshold", in, 1, NULL, &r) == TP_ERR_ARG); /* threshold is required */
    tp_params *p;
    tp_params_create(&p);
    tp_params_set(p, "threshold", "3");
    CHECK(tp_run(tp_test_ctx, "threshold", in, 1, p, &r) == TP_ERR_NO_DEVICE);
    CHECK(strstr(tp_last_error(tp_test_ctx), "cuda backend is not available") != NULL);
    /* auto without a device runs on the CPU */
    tp_context_set_backend(tp_test_ctx, TP_CHOOSE_AUTO);
    CHECK_OK(tp_run(tp_test_ctx, "threshold", in, 1, p, &r));
    CHECK(r.backend == TP_BACKEND_CPU);
    tp_result_free(&r);
    tp_params_destroy(p);
    tp_test_fake_cuda(-1);
    return 0;
}

static tp_status fake_impl(tp_context *ctx, const tp_call *c)
{
    (void)ctx;
    (void)c;
    return TP_ERR_INTERNAL;
}

static int test_auto_from_calibration(void)
{
    use_calibration(write_file("good.json", good_cal));
    const tp_calibration *c = tp_calibration_get();
    CHECK(strstr(c->source, "good.json") != NULL);
    CHECK(c->h2d_gbs == 10);
    /* the policy, apart from which ops this build has on CUDA: gaussian's descriptor with a CUDA slot */
    tp_op_desc fake = *tp_op_find("gaussian");
    fake.impl[TP_BACKEND_CUDA] = fake_impl;
    const tp_op_desc *op = &fake;
    tp_test_fake_cuda(1);
    tp_context_set_backend(tp_test_ctx, TP_CHOOSE_AUTO);
    static uint8_t big[1];
    /* the decision reads only the shape: wrap a tiny buffer with a large declared shape */
    tp_image small = host_image(16, big), large = host_image(4096, big);
    const tp_image *ins[1] = {&small}, *inl[1] = {&large};
    CHECK(tp_choose_backend(tp_test_ctx, op, ins, 1) == TP_BACKEND_CPU);
    CHECK(tp_choose_backend(tp_test_ctx, op, inl, 1) == TP_BACKEND_CUDA);
    /* the crossover agrees with the model: cpu(n) = cuda(n) + transfers(5 bytes/px) */
    const char *rule;
    int64_t x = tp_calibration_crossover("gaussian", &rule);
    CHECK(x > 256 && x < 4096 * 4096);
    double cpu = tp_predict_cpu_ms(c, "gaussian", x), gpu = tp_predict_cuda_ms(c, "gaussian", x) +
                                                              tp_predict_transfer_ms(c, x, 1) +
                                                              tp_predict_transfer_ms(c, 4 * x, 0);
    CHECK(gpu < cpu);
    /* data already on the device stays there, whatever its size */
    tp_image dev = small;
    dev.location = TP_DEVICE;
    const tp_image *ind[1] = {&dev};
    CHECK(tp_choose_backend(tp_test_ctx, op, ind, 1) == TP_BACKEND_CUDA);
    tp_test_fake_cuda(-1);
    return 0;
}

static int test_bad_calibration_files(void)
{
    tp_calibration c;
    const char *bad[] = {
        "{not json",
        "{\"schema_version\": \"twinpix.calibration/0\", \"transfer\": {}, \"ops\": {}}",
        "{\"schema_version\": \"twinpix.calibration/1\", \"transfer\": {\"h2d_gbs\": -1, \"d2h_gbs\": 1, "
        "\"latency_ms\": 0}, \"ops\": {}}",
        "{\"schema_version\": \"twinpix.calibration/1\", \"transfer\": {\"h2d_gbs\": 1, \"d2h_gbs\": 1, "
        "\"latency_ms\": 0}, \"ops\": {\"gaussian\": {\"cpu\": {\"fixed_ms\": \"fast\"}}}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "bad%zu.json", i);
        const char *path = write_file(name, bad[i]);
        tp_status st = tp_calibration_load(tp_test_ctx, path, &c);
        CHECK_MSG(st != TP_OK, "file %zu accepted", i);
        CHECK(strstr(tp_last_error(tp_test_ctx), "calibration") != NULL);
        /* in force: a warning and the built-in defaults, never a crash */
        use_calibration(path);
        CHECK(strstr(tp_calibration_get()->source, "built-in") != NULL);
    }
    use_calibration("/nonexistent/twinpix/cal.json");
    CHECK(strstr(tp_calibration_get()->source, "built-in") != NULL);
    /* a round trip through save and load keeps the numbers */
    tp_calibration d;
    tp_calibration_defaults(&d);
    d.ops[0].cpu.ns_per_px = 1.25;
    char path[512];
    snprintf(path, sizeof path, "%s/roundtrip.json", g_dir);
    CHECK_OK(tp_calibration_save(tp_test_ctx, path, &d));
    CHECK_OK(tp_calibration_load(tp_test_ctx, path, &c));
    CHECK(c.ops[0].cpu.ns_per_px == 1.25 && c.n == d.n);
    return 0;
}

static int test_chain_decided_as_a_whole(void)
{
    use_calibration(write_file("good.json", good_cal));
    const tp_calibration *c = tp_calibration_get();
    tp_test_fake_cuda(1);
    /* threshold alone at this size loses to the transfers ... */
    int64_t n = 200000;
    double one_cpu = tp_predict_cpu_ms(c, "threshold", n);
    double one_gpu = tp_predict_cuda_ms(c, "threshold", n) + tp_predict_transfer_ms(c, n, 1) +
                     tp_predict_transfer_ms(c, n, 0);
    CHECK(one_gpu > one_cpu);
    char why[256];
    const char *single[] = {"threshold"};
    CHECK(tp_choose_chain(tp_test_ctx, single, 1, n, n, n, why, sizeof why) == TP_BACKEND_CPU);
    /* ... but a chain with the gaussian pays one upload and one download for all of it (when this build
     * has both on CUDA; otherwise the chain stays on the CPU and says why) */
    const char *chain[] = {"gaussian", "threshold", "threshold", "threshold"};
    int cuda_ops = tp_op_find("gaussian")->impl[TP_BACKEND_CUDA] && tp_op_find("threshold")->impl[TP_BACKEND_CUDA];
    tp_backend_id b = tp_choose_chain(tp_test_ctx, chain, 4, n, n, n, why, sizeof why);
    if (cuda_ops) {
        CHECK(b == TP_BACKEND_CUDA);
        CHECK(strstr(why, "chain of 4 ops") != NULL);
    } else {
        CHECK(b == TP_BACKEND_CPU);
        CHECK(strstr(why, "no CUDA implementation") != NULL);
    }
    /* the model itself: the chain's predicted GPU time beats its CPU time */
    double cpu = 0, gpu = tp_predict_transfer_ms(c, n, 1) + tp_predict_transfer_ms(c, n, 0);
    for (int i = 0; i < 4; i++) {
        cpu += tp_predict_cpu_ms(c, chain[i], n);
        gpu += tp_predict_cuda_ms(c, chain[i], n);
    }
    CHECK(gpu < cpu);
    /* an op without a CUDA implementation keeps the chain on the CPU */
    tp_test_fake_cuda(0);
    CHECK(tp_choose_chain(tp_test_ctx, chain, 4, n, n, n, why, sizeof why) == TP_BACKEND_CPU);
    CHECK(strstr(why, "no usable GPU") != NULL);
    tp_test_fake_cuda(-1);
    return 0;
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/tp_choice_XXXXXX");
    if (!mkdtemp(g_dir))
        return 1;
    static const tp_test_case t[] = {T(test_explicit_and_env), T(test_auto_from_calibration),
                                     T(test_bad_calibration_files), T(test_chain_decided_as_a_whole)};
    int rc = tp_test_main(t, (int)(sizeof t / sizeof t[0]));
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        return 1;
    return rc;
}

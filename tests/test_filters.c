/* The CPU reference of img_as_float, gaussian and threshold_otsu: the numpy/scipy arithmetic they copy
 * (exp, pairwise sum, kernel, borders), exact values, thread-count invariance, errors. Parity with
 * scikit-image itself is proven by tests/oracle/test_{img_as_float,gaussian,threshold_otsu}.py. */
#include "tests/support/tp_test.h"
#include "cpu_ref/convert.h"
#include "cpu_ref/gauss_weights.h"
#include "cpu_ref/otsu.h"

#include <math.h>
#include <string.h>

static double bits(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* Run op on one image with "name=value;..." parameters and `threads` CPU threads. */
static tp_status run(const char *op, const tp_image *im, const char *params, int threads, tp_result *r)
{
    tp_params *p = NULL;
    tp_status st = tp_params_create(&p);
    char buf[512];
    snprintf(buf, sizeof buf, "%s", params ? params : "");
    for (char *save = NULL, *kv = strtok_r(buf, ";", &save); kv && !st; kv = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(kv, '=');
        if (eq) {
            *eq = 0;
            st = tp_params_set(p, kv, eq + 1);
        }
    }
    if (!st)
        st = tp_context_set_threads(tp_test_ctx, threads);
    const tp_image *in[1] = {im};
    if (!st)
        st = tp_run_on(tp_test_ctx, TP_BACKEND_CPU, op, in, 1, p, r);
    tp_params_destroy(p);
    return st;
}

static int same_bytes(const tp_image *a, const tp_image *b)
{
    return a->dtype == b->dtype && tp_image_count(a) == tp_image_count(b) &&
           memcmp(a->data, b->data, (size_t)tp_image_count(a) * tp_dtype_size(a->dtype)) == 0;
}

/* A random image of the given dtype with values spread over [lo, hi]. */
static tp_image random_image(tp_dtype t, int ndim, const int64_t *shape, int channel_axis, double lo, double hi,
                             uint64_t seed)
{
    tp_image im = tp_image_empty();
    if (tp_image_alloc(tp_test_ctx, &im, t, ndim, shape, channel_axis, TP_HOST))
        return im;
    for (int64_t i = 0; i < tp_image_count(&im); i++) {
        double u = (double)(tp_test_rand(&seed) >> 11) / 9007199254740992.0;
        tp_set_f64(im.data, t, i, t == TP_BOOL ? (u > 0.5) : lo + u * (hi - lo));
    }
    return im;
}

/* ---- the numpy arithmetic ---- */

static int test_np_exp_matches_svml(void)
{
    /* numpy 1.24 (AVX512_SKX host) values where glibc's exp differs by one ULP */
    static const uint64_t cases[][2] = {
        {0xc032ebdff32468d7, 0x3e3a082c80d148d3}, /* -0x1.2ebdff32468d7p+4 */
        {0xc027a93c00192713, 0x3ede879e9f28a75f}, /* -0x1.7a93c00192713p+3 */
        {0xc01bcf7b0840b8b0, 0x3f4f54974986b65a}, /* -0x1.bcf7b0840b8b0p+2 */
        {0xc0269a2316b4b5e4, 0x3ee9ebb2eced8ddc}, /* -0x1.69a2316b4b5e4p+3 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_MSG(tp_np_exp(bits(cases[i][0])) == bits(cases[i][1]), "case %zu", i);
    CHECK(tp_np_exp(0.0) == 1.0 && tp_np_exp(-0.0) == 1.0);
    CHECK(tp_np_exp(-800.0) == 0.0);
    CHECK(isnan(tp_np_exp(NAN)));
    /* within an ULP of the correctly rounded value elsewhere */
    for (double x = -700.0; x < 700.0; x += 0.37) {
        double e = exp(x), y = tp_np_exp(x);
        CHECK_MSG(y == e || y == nextafter(e, 0.0) || y == nextafter(e, INFINITY), "x=%g", x);
    }
    return 0;
}

static int test_np_sum_is_pairwise(void)
{
    double a[137];
    const double head[10] = {1e16, 1.0, -1e16, 1.0, 3.0, 1e-3, 2.0, 5.0, 7.0, -2.0};
    for (int i = 0; i < 137; i++)
        a[i] = i < 10 ? head[i] : 0.1;
    /* values from numpy 1.24's a.sum(); a sequential sum gives 0x1.cb374bc6a7f2dp+4 */
    CHECK(tp_np_sum(a, 137) == 0x1.e19db22d0e560p+4);
    CHECK(tp_np_sum(a, 10) == 0x1.e0083126e978cp+3);
    CHECK(tp_np_sum(a, 3) == 0.0 + 1e16 + 1.0 - 1e16);
    CHECK(tp_np_sum(a, 0) == 0.0);
    return 0;
}

static int test_gauss_weights_match_scipy(void)
{
    /* scipy.ndimage._filters._gaussian_kernel1d(sigma, 0, radius)[radius:] */
    static const uint64_t s1[] = {0x3fd9884a307594fb, 0x3fcef8eb9ad499ba, 0x3faba4b99d1799a9, 0x3f722724cb7eb26a,
                                  0x3f218a9c4fd536c6};
    static const uint64_t s25[] = {0x3fc46d23c3645548, 0x3fc2db1ab5af48bb, 0x3fbdaa44ff00cffd, 0x3fb3e29751c76d89,
                                   0x3fa6b795631f5881, 0x3f961d7f2f8c51c0, 0x3f82589592bde2b1, 0x3f69f01e699060ce,
                                   0x3f4f3fdc844de712, 0x3f300a8053ff8116, 0x3f0c11200a02c7e7};
    double w[64];
    int64_t r = -1;
    CHECK(tp_gauss_radius(1.0, 4.0) == 4 && tp_gauss_radius(2.5, 4.0) == 10 && tp_gauss_radius(5.0, 4.0) == 20);
    CHECK(tp_gauss_radius(0.1, 4.0) == 0 && tp_gauss_radius(1.0, 0.0) == 0 && tp_gauss_radius(0.374, 4.0) == 1);
    CHECK(tp_gauss_radius(1e30, 4.0) == -1 && tp_gauss_radius(NAN, 4.0) == -1);
    CHECK(tp_gauss_weights(1.0, 4.0, w, &r) == 0 && r == 4);
    for (int j = 0; j <= 4; j++)
        CHECK_MSG(w[4 + j] == bits(s1[j]) && w[4 - j] == bits(s1[j]), "sigma 1, tap %d", j);
    CHECK(tp_gauss_weights(2.5, 4.0, w, &r) == 0 && r == 10);
    for (int j = 0; j <= 10; j++)
        CHECK_MSG(w[10 + j] == bits(s25[j]) && w[10 - j] == bits(s25[j]), "sigma 2.5, tap %d", j);
    CHECK(tp_gauss_weights(0.1, 4.0, w, &r) == 0 && r == 0 && w[0] == 1.0);
    CHECK(tp_gauss_weights(0.0, 4.0, w, &r) == -1);
    return 0;
}

static int test_border_index(void)
{
    /* scipy.ndimage's mode docs for the line a b c d (indices 0..3), samples -4..7 */
    static const int64_t want[5][12] = {
        /* nearest  */ {0, 0, 0, 0, 0, 1, 2, 3, 3, 3, 3, 3},
        /* reflect  d c b a | a b c d | d c b a */ {3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0},
        /* mirror   ..d c b | a b c d | c b a.. */ {2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1},
        /* constant */ {-1, -1, -1, -1, 0, 1, 2, 3, -1, -1, -1, -1},
        /* wrap     */ {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3},
    };
    for (int m = 0; m < 5; m++)
        for (int i = -4; i < 8; i++)
            CHECK_MSG(tp_border_index(i, 4, (tp_border)m) == want[m][i + 4], "mode %d i %d", m, i);
    /* a single sample: every mode but constant repeats it; far indices stay in range */
    for (int m = 0; m < 5; m++)
        for (int64_t i = -50; i < 50; i++) {
            int64_t k = tp_border_index(i, 1, (tp_border)m);
            CHECK(m == TP_BORDER_CONSTANT && i != 0 ? k == -1 : k == 0);
            int64_t k3 = tp_border_index(i * 7, 3, (tp_border)m);
            CHECK(m == TP_BORDER_CONSTANT ? k3 >= -1 && k3 < 3 : k3 >= 0 && k3 < 3);
        }
    CHECK(tp_border_from_name("mirror") == TP_BORDER_MIRROR && tp_border_from_name("grid-wrap") == -1);
    return 0;
}

/* ---- img_as_float ---- */

static int test_img_as_float_values(void)
{
    CHECK(tp_float_dtype_for(TP_FLOAT32) == TP_FLOAT32 && tp_float_dtype_for(TP_UINT8) == TP_FLOAT64 &&
          tp_float_dtype_for(TP_BOOL) == TP_FLOAT64);
    struct {
        tp_dtype t;
        double in[3];
        double out[3];
    } cases[] = {
        {TP_UINT8, {0, 128, 255}, {0.0, 128 * (1.0 / 255), 1.0}},
        {TP_INT8, {-128, -127, 127}, {-1.0, -1.0, 1.0}},
        {TP_UINT16, {0, 1000, 65535}, {0.0, 1000 * (1.0 / 65535), 1.0}},
        {TP_INT16, {-32768, -5, 32767}, {-1.0, -5 * (1.0 / 32767), 1.0}},
        {TP_INT32, {-2147483648.0, 7, 2147483647.0}, {-1.0, 7 * (1.0 / 2147483647), 1.0}},
        {TP_UINT32, {0, 3, 4294967295.0}, {0.0, 3 * (1.0 / 4294967295.0), 1.0}},
        {TP_BOOL, {0, 1, 1}, {0.0, 1.0, 1.0}},
        {TP_FLOAT32, {-3.5, 0.25, 1e6}, {-3.5, 0.25, 1e6}},
        {TP_FLOAT64, {-3.5, 0.1, 1e300}, {-3.5, 0.1, 1e300}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int64_t shape[2] = {1, 3};
        tp_image im = tp_image_empty();
        CHECK_OK(tp_image_alloc(tp_test_ctx, &im, cases[k].t, 2, shape, -1, TP_HOST));
        for (int i = 0; i < 3; i++)
            tp_set_f64(im.data, cases[k].t, i, cases[k].in[i]);
        tp_result r;
        CHECK_OK(run("img_as_float", &im, NULL, 1, &r));
        CHECK(r.image.dtype == tp_float_dtype_for(cases[k].t) && r.image.ndim == 2);
        for (int i = 0; r.image.data && i < 3; i++)
            CHECK_MSG(tp_get_f64(r.image.data, r.image.dtype, i) == cases[k].out[i], "%s value %d",
                      tp_dtype_name(cases[k].t), i);
        tp_result_free(&r);
        tp_image_free(&im);
    }
    return 0;
}

/* ---- gaussian ---- */

/* The filter of an impulse along one axis is the kernel itself: each output is one weight times 1.0. */
static int test_gaussian_impulse_is_kernel(void)
{
    int64_t shape[2] = {3, 61};
    tp_image im = tp_image_empty();
    CHECK_OK(tp_image_alloc(tp_test_ctx, &im, TP_FLOAT64, 2, shape, -1, TP_HOST));
    memset(im.data, 0, 3 * 61 * sizeof(double));
    ((double *)im.data)[61 + 30] = 1.0;
    tp_result r;
    CHECK_OK(run("gaussian", &im, "sigma=0,5;mode=constant", 1, &r));
    double w[41];
    int64_t rad;
    CHECK(tp_gauss_weights(5.0, 4.0, w, &rad) == 0 && rad == 20);
    const double *o = r.image.data;
    for (int x = 0; o && x < 61; x++) {
        double want = x >= 10 && x <= 50 ? w[x - 10] : 0.0;
        CHECK_MSG(o[61 + x] == want && o[x] == 0.0 && o[122 + x] == 0.0, "x=%d", x);
    }
    tp_result_free(&r);
    tp_image_free(&im);
    return 0;
}

static int test_gaussian_dtypes_and_shapes(void)
{
    const tp_dtype types[] = {TP_BOOL, TP_UINT8, TP_INT16, TP_UINT16, TP_INT32, TP_FLOAT32, TP_FLOAT64};
    int64_t s2[2] = {5, 7}, s3[3] = {4, 5, 6};
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        tp_image a = random_image(types[k], 2, s2, -1, 0, 100, k + 1);
        tp_image b = random_image(types[k], 3, s3, -1, 0, 100, k + 7);
        tp_result r2, r3;
        CHECK_OK(run("gaussian", &a, "sigma=1.5", 1, &r2));
        CHECK_OK(run("gaussian", &b, "sigma=1.5;mode=wrap", 1, &r3));
        tp_dtype want = types[k] == TP_FLOAT32 ? TP_FLOAT32 : TP_FLOAT64;
        CHECK(r2.image.dtype == want && r2.image.ndim == 2 && r2.image.shape[1] == 7);
        CHECK(r3.image.dtype == want && r3.image.ndim == 3 && r3.image.shape[2] == 6);
        tp_result_free(&r2);
        tp_result_free(&r3);
        tp_image_free(&a);
        tp_image_free(&b);
    }
    /* sigma 0 everywhere is img_as_float; preserve_range keeps the values */
    tp_image u = random_image(TP_UINT8, 2, s2, -1, 0, 255, 3);
    tp_result r0, rf, rp;
    CHECK_OK(run("gaussian", &u, "sigma=0", 1, &r0));
    CHECK_OK(run("img_as_float", &u, NULL, 1, &rf));
    CHECK(same_bytes(&r0.image, &rf.image));
    CHECK_OK(run("gaussian", &u, "sigma=0;preserve_range=true", 1, &rp));
    for (int64_t i = 0; rp.image.data && i < 35; i++)
        CHECK(((double *)rp.image.data)[i] == ((uint8_t *)u.data)[i]);
    tp_result_free(&r0);
    tp_result_free(&rf);
    tp_result_free(&rp);
    tp_image_free(&u);
    return 0;
}

/* 1 thread and several give the same bytes, along every axis layout (last axis, strided axes, channels). */
static int test_gaussian_thread_invariance(void)
{
    static const char *const modes[] = {"nearest", "reflect", "mirror", "constant", "wrap"};
    int64_t s2[2] = {301, 517}, s3[3] = {19, 33, 47}, rgb[3] = {97, 131, 3};
    tp_image imgs[3] = {random_image(TP_UINT8, 2, s2, -1, 0, 255, 11),
                        random_image(TP_FLOAT32, 3, s3, -1, -5, 5, 12),
                        random_image(TP_UINT16, 3, rgb, 2, 0, 4000, 13)};
    const char *sig[3] = {"3", "1,2.5,4", "2,5;channel_axis=2"};
    for (int k = 0; k < 3; k++)
        for (int m = 0; m < 5; m++) {
            char params[128];
            snprintf(params, sizeof params, "sigma=%s;mode=%s;cval=0.25", sig[k], modes[m]);
            tp_result a, b, c;
            CHECK_OK(run("gaussian", &imgs[k], params, 1, &a));
            CHECK_OK(run("gaussian", &imgs[k], params, 2, &b));
            CHECK_OK(run("gaussian", &imgs[k], params, 5, &c));
            CHECK_MSG(same_bytes(&a.image, &b.image) && same_bytes(&a.image, &c.image), "image %d, %s", k, params);
            tp_result_free(&a);
            tp_result_free(&b);
            tp_result_free(&c);
        }
    for (int k = 0; k < 3; k++)
        tp_image_free(&imgs[k]);
    return 0;
}

/* Channels are filtered independently: channel c of an RGB result equals the result on channel c alone. */
static int test_gaussian_channels_independent(void)
{
    int64_t rgb[3] = {23, 29, 3}, gray[2] = {23, 29};
    tp_image im = random_image(TP_FLOAT64, 3, rgb, 2, 0, 1, 21);
    tp_result all;
    CHECK_OK(run("gaussian", &im, "sigma=2;channel_axis=-1;mode=reflect", 2, &all));
    for (int ch = 0; ch < 3; ch++) {
        tp_image one = tp_image_empty();
        CHECK_OK(tp_image_alloc(tp_test_ctx, &one, TP_FLOAT64, 2, gray, -1, TP_HOST));
        for (int64_t i = 0; i < 23 * 29; i++)
            ((double *)one.data)[i] = ((double *)im.data)[i * 3 + ch];
        tp_result r;
        CHECK_OK(run("gaussian", &one, "sigma=2;mode=reflect", 1, &r));
        int same = r.image.data && all.image.data;
        for (int64_t i = 0; same && i < 23 * 29; i++)
            same = ((double *)r.image.data)[i] == ((double *)all.image.data)[i * 3 + ch];
        CHECK_MSG(same, "channel %d", ch);
        tp_result_free(&r);
        tp_image_free(&one);
    }
    tp_result_free(&all);
    tp_image_free(&im);
    return 0;
}

static int test_gaussian_errors(void)
{
    int64_t s2[2] = {4, 4}, rgb[3] = {4, 4, 3};
    tp_image im = random_image(TP_UINT8, 2, s2, -1, 0, 255, 5), c = random_image(TP_UINT8, 3, rgb, 2, 0, 255, 6);
    tp_result r;
    CHECK(run("gaussian", &im, "sigma=-1", 1, &r) == TP_ERR_ARG && r.image.data == NULL);
    CHECK(run("gaussian", &im, "mode=edge", 1, &r) == TP_ERR_ARG);
    CHECK(run("gaussian", &im, "sigma=1,2,3", 1, &r) == TP_ERR_ARG);
    CHECK(run("gaussian", &im, "sigma=900000;truncate=900000", 1, &r) == TP_ERR_ARG && r.image.data == NULL);
    CHECK(strstr(tp_last_error(tp_test_ctx), "radius") != NULL);
    CHECK(run("gaussian", &c, "sigma=1", 1, &r) == TP_ERR_ARG); /* a channel axis needs channel_axis */
    tp_image_free(&im);
    tp_image_free(&c);
    return 0;
}

/* ---- threshold_otsu ---- */

static double otsu(const tp_image *im, const char *params, int threads, tp_status *st)
{
    tp_result r;
    double v = NAN;
    *st = run("threshold_otsu", im, params, threads, &r);
    if (!*st) {
        CHECK(r.kind == TP_OUT_SCALAR && r.image.dtype == TP_FLOAT64 && r.image.ndim == 1 && r.image.shape[0] == 1);
        CHECK_OK(tp_result_scalar(tp_test_ctx, &r, &v));
    }
    tp_result_free(&r);
    return v;
}

static int test_otsu_small_cases(void)
{
    tp_status st;
    int64_t s[2] = {10, 10};
    tp_image im = tp_image_empty();
    CHECK_OK(tp_image_alloc(tp_test_ctx, &im, TP_UINT8, 2, s, -1, TP_HOST));
    /* two values: every split between them has the same variance, the first one wins */
    for (int i = 0; i < 100; i++)
        ((uint8_t *)im.data)[i] = i < 50 ? 10 : 200;
    CHECK(otsu(&im, NULL, 1, &st) == 10.0 && st == TP_OK);
    /* constant: the value itself */
    memset(im.data, 7, 100);
    CHECK(otsu(&im, NULL, 1, &st) == 7.0 && st == TP_OK);
    tp_image_free(&im);
    /* float: NaN and infinities are refused unless the image is constant */
    CHECK_OK(tp_image_alloc(tp_test_ctx, &im, TP_FLOAT32, 2, s, -1, TP_HOST));
    for (int i = 0; i < 100; i++)
        ((float *)im.data)[i] = INFINITY;
    CHECK(otsu(&im, NULL, 1, &st) == INFINITY && st == TP_OK);
    ((float *)im.data)[3] = 1.0f;
    otsu(&im, NULL, 1, &st);
    CHECK(st == TP_ERR_ARG && strstr(tp_last_error(tp_test_ctx), "finite"));
    for (int i = 0; i < 100; i++)
        ((float *)im.data)[i] = (float)i * 0.5f - 10.0f;
    ((float *)im.data)[50] = NAN;
    otsu(&im, NULL, 1, &st);
    CHECK(st == TP_ERR_ARG && strstr(tp_last_error(tp_test_ctx), "NaN"));
    /* evenly spread values: the threshold is a bin centre near the middle */
    ((float *)im.data)[50] = 15.0f;
    double t = otsu(&im, "nbins=2", 1, &st);
    CHECK(st == TP_OK && t == -10.0f + 0.25f * 49.5f);
    tp_image_free(&im);
    return 0;
}

static int test_otsu_bins_follow_numpy(void)
{
    /* np.histogram: the last bin includes max; a value on an inner edge goes to the upper bin */
    double e[5];
    CHECK(tp_otsu_edges_f64(0.0, 1.0, 4, e) == 0);
    CHECK(e[0] == 0.0 && e[1] == 0.25 && e[2] == 0.5 && e[3] == 0.75 && e[4] == 1.0);
    CHECK(tp_otsu_bin_f64(1.0, 0.0, 1.0, e, 4) == 3 && tp_otsu_bin_f64(0.5, 0.0, 1.0, e, 4) == 2);
    CHECK(tp_otsu_bin_f64(nextafter(0.5, 0.0), 0.0, 1.0, e, 4) == 1 && tp_otsu_bin_f64(0.0, 0.0, 1.0, e, 4) == 0);
    float ef[4];
    CHECK(tp_otsu_edges_f32(-1.0f, 0.1f, 3, ef) == 0);
    CHECK(ef[3] == 0.1f && ef[0] == -1.0f);
    for (int b = 0; b < 3; b++)
        CHECK(tp_otsu_bin_f32(ef[b], -1.0f, 0.1f - -1.0f, ef, 3) == b &&
              tp_otsu_bin_f32(nextafterf(ef[b + 1], -2.0f), -1.0f, 0.1f - -1.0f, ef, 3) == b);
    /* numpy 2 evaluates linspace for float32 bounds in float32: edge 7 of [0.1, 0.7] in 256 bins is
     * 0x1.dccccc(p-4); numpy 1.x (through float64) made it 0x1.dcccce(p-4) */
    float e256[257];
    CHECK(tp_otsu_edges_f32(0.1f, 0.7f, 256, e256) == 0);
    CHECK(e256[7] == 0x1.dccccc0p-4f && e256[31] == 0x1.619998p-3f && e256[256] == 0.7f);
    /* numpy 2 refuses edges that do not increase: 256 bins between neighbouring floats */
    CHECK(tp_otsu_edges_f32(1.0f, nextafterf(1.0f, 2.0f), 256, e256) == -1);
    CHECK(tp_otsu_edges_f32(1.0f, nextafterf(1.0f, 2.0f), 1, e256) == 0);
    return 0;
}

/* scikit-image 0.26's choice: float32 counts and weights, float32 weight1 * weight2. The histograms below
 * are near ties that 0.19.3 (float64 counts) splits one bin later; they are also checked against
 * scikit-image by tests/oracle/test_threshold_otsu.py. */
static int test_otsu_select_float32_weights(void)
{
    const int64_t tie[11] = {53408, 30510, 63926, 26406, 12375, 8526, 12375, 26405, 63926, 30510, 53408};
    const int64_t big[5] = {3906906, 3794013, 1996724, 3794011, 3906906}; /* 17398560 samples > 2^24 */
    double x[11];
    for (int i = 0; i < 11; i++)
        x[i] = i;
    CHECK(tp_otsu_select(tie, x, 11, 0) == 4);
    CHECK(tp_otsu_select(big, x, 5, 0) == 1);
    /* the same first tie through the op: a uint8 image holding those counts */
    int64_t s[2] = {1, 381775};
    tp_image im = tp_image_empty();
    CHECK_OK(tp_image_alloc(tp_test_ctx, &im, TP_UINT8, 2, s, -1, TP_HOST));
    int64_t k = 0;
    for (int v = 0; v < 11; v++)
        for (int64_t c = 0; c < tie[v]; c++)
            ((uint8_t *)im.data)[k++] = (uint8_t)v;
    tp_status st;
    CHECK(k == s[1] && otsu(&im, NULL, 2, &st) == 4.0 && st == TP_OK);
    tp_image_free(&im);
    /* float32 images: a range too narrow for nbins float32 edges is numpy 2's refusal */
    int64_t s2[2] = {2, 2};
    CHECK_OK(tp_image_alloc(tp_test_ctx, &im, TP_FLOAT32, 2, s2, -1, TP_HOST));
    float *f = im.data;
    f[0] = f[1] = 1.0f;
    f[2] = f[3] = nextafterf(nextafterf(1.0f, 2.0f), 2.0f); /* two float32 steps apart */
    otsu(&im, NULL, 1, &st);
    CHECK(st == TP_ERR_ARG && strstr(tp_last_error(tp_test_ctx), "nbins"));
    CHECK(otsu(&im, "nbins=2", 1, &st) == 1.0 && st == TP_OK); /* centre (1 + (1 + ulp)) / 2 rounds to 1 */
    tp_image_free(&im);
    return 0;
}

/* Histograms counted by several threads (private or shared) give the threshold of one thread. */
static int test_otsu_thread_invariance(void)
{
    int64_t s[2] = {257, 263}, s3[3] = {9, 31, 37};
    struct {
        tp_image im;
        const char *params;
    } cases[] = {
        {random_image(TP_UINT8, 2, s, -1, 0, 255, 31), NULL},
        {random_image(TP_INT16, 2, s, -1, -3000, 9000, 32), NULL},
        {random_image(TP_INT32, 2, s, -1, -500000, 600000, 33), NULL}, /* > 2^18 bins: shared histogram */
        {random_image(TP_FLOAT32, 3, s3, -1, -2, 3, 34), "nbins=1000"},
        {random_image(TP_FLOAT64, 2, s, -1, 1e-3, 7, 35), "nbins=64"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        tp_status st1, st2, st3;
        double a = otsu(&cases[k].im, cases[k].params, 1, &st1), b = otsu(&cases[k].im, cases[k].params, 2, &st2),
               c = otsu(&cases[k].im, cases[k].params, 7, &st3);
        CHECK_MSG(!st1 && !st2 && !st3 && a == b && a == c, "case %zu: %.17g %.17g %.17g", k, a, b, c);
        tp_image_free(&cases[k].im);
    }
    return 0;
}

static int test_otsu_blobs(void)
{
    const char *path = tp_test_shared("blobs_imagej_8bit.tif");
    if (!path)
        return TP_TEST_SKIP;
    tp_image im = tp_image_empty();
    CHECK_OK(tp_read_image(tp_test_ctx, path, &im, NULL));
    tp_status st;
    CHECK(otsu(&im, NULL, 2, &st) == 120.0 && st == TP_OK);
    tp_image_free(&im);
    return 0;
}

TP_TESTS(T(test_np_exp_matches_svml), T(test_np_sum_is_pairwise), T(test_gauss_weights_match_scipy),
         T(test_border_index), T(test_img_as_float_values), T(test_gaussian_impulse_is_kernel),
         T(test_gaussian_dtypes_and_shapes), T(test_gaussian_thread_invariance),
         T(test_gaussian_channels_independent), T(test_gaussian_errors), T(test_otsu_small_cases),
         T(test_otsu_bins_follow_numpy), T(test_otsu_select_float32_weights), T(test_otsu_thread_invariance),
         T(test_otsu_blobs))

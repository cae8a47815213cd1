/* threshold_otsu (CPU reference) on float images holding NaN or +/-inf, as scikit-image 0.26 behaves
 * (cpu_ref/otsu.h): threshold_otsu returns image[0] when every pixel equals it, so an image that is +inf
 * (or -inf) throughout answers that infinity; otherwise np.histogram raises on a non-finite min or max, so
 * any NaN (even a NaN throughout) and any infinity beside another value is TP_ERR_ARG, with a message that
 * names the argument "image" and what was found. A range whose max - min overflows the dtype and a range
 * too narrow for nbins increasing edges are errors as well (numpy 2: "Too many bins for data range").
 * tests/gpu_test_otsu.c checks that the CUDA backend answers the same statuses, messages and values. */
#include "tests/support/tp_test.h"

#include <math.h>
#include <string.h>

typedef struct shape_case {
    int ndim;
    int64_t s[3];
} shape_case;

static const shape_case k_shapes[] = {{2, {1, 1, 0}}, {2, {5, 7, 0}}, {3, {3, 4, 5}}};
#define N_SHAPES ((int)(sizeof k_shapes / sizeof k_shapes[0]))

static tp_image make(tp_dtype dt, const shape_case *sh)
{
    tp_image im = tp_image_empty();
    if (tp_image_alloc(tp_test_ctx, &im, dt, sh->ndim, sh->s, -1, TP_HOST)) {
        fprintf(stderr, "  cannot allocate a test image: %s\n", tp_last_error(tp_test_ctx));
        exit(1);
    }
    return im;
}

/* Values i * 0.25 - 3 (finite, not constant unless there is one pixel). */
static void fill_ramp(tp_image *im)
{
    for (int64_t i = 0; i < tp_image_count(im); i++)
        tp_set_f64(im->data, im->dtype, i, (double)i * 0.25 - 3.0);
}

static void fill_const(tp_image *im, double v)
{
    for (int64_t i = 0; i < tp_image_count(im); i++)
        tp_set_f64(im->data, im->dtype, i, v);
}

/* Run on the CPU with nbins (0: the default); *value is set on success. */
static tp_status otsu(const tp_image *im, int nbins, double *value)
{
    const tp_image *in[1] = {im};
    tp_params *p = NULL;
    if (nbins) {
        char b[32];
        snprintf(b, sizeof b, "%d", nbins);
        tp_params_create(&p);
        tp_params_set(p, "nbins", b);
    }
    tp_result r = tp_result_empty();
    tp_status st = tp_run_on(tp_test_ctx, TP_BACKEND_CPU, "threshold_otsu", in, 1, p, &r);
    if (!st)
        st = tp_result_scalar(tp_test_ctx, &r, value);
    tp_result_free(&r);
    tp_params_destroy(p);
    return st;
}

/* Expect TP_ERR_ARG with "threshold_otsu: image: expected finite values, got <got>". */
static void expect_nonfinite(const char *what, const tp_image *im, const char *got)
{
    for (int k = 0; k < 2; k++) {
        double v = 0;
        tp_status st = otsu(im, k ? 7 : 0, &v);
        char want[128];
        snprintf(want, sizeof want, "threshold_otsu: image: expected finite values, got %s", got);
        CHECK_MSG(st == TP_ERR_ARG, "%s %s: expected TP_ERR_ARG, got %s (%g)", what, tp_dtype_name(im->dtype),
                  tp_status_str(st), v);
        if (st == TP_ERR_ARG)
            CHECK_MSG(strstr(tp_last_error(tp_test_ctx), want) != NULL, "%s %s: message '%s', expected '%s'", what,
                      tp_dtype_name(im->dtype), tp_last_error(tp_test_ctx), want);
    }
}

static void expect_value(const char *what, const tp_image *im, double want)
{
    double v = 0;
    tp_status st = otsu(im, 0, &v);
    CHECK_MSG(st == TP_OK && memcmp(&v, &want, sizeof v) == 0, "%s %s: expected %g, got %s %g (%s)", what,
              tp_dtype_name(im->dtype), want, tp_status_str(st), v, st ? tp_last_error(tp_test_ctx) : "");
}

static int test_nan_and_inf(void)
{
    const tp_dtype dts[2] = {TP_FLOAT32, TP_FLOAT64};
    for (int d = 0; d < 2; d++) {
        for (int si = 0; si < N_SHAPES; si++) {
            tp_image im = make(dts[d], &k_shapes[si]);
            const int64_t n = tp_image_count(&im), mid = n / 2, last = n - 1;
            /* constant: that value, infinities included (np.all(image == first_pixel)) */
            fill_const(&im, INFINITY);
            expect_value("+inf throughout", &im, INFINITY);
            fill_const(&im, -INFINITY);
            expect_value("-inf throughout", &im, -INFINITY);
            fill_const(&im, 2.5);
            expect_value("constant", &im, 2.5);
            /* a NaN throughout is an error: NaN == NaN is False */
            fill_const(&im, NAN);
            expect_nonfinite("NaN throughout", &im, "NaN");
            if (n == 1) {
                tp_image_free(&im);
                continue;
            }
            /* one NaN: first, middle, last; beside a constant; beside an infinity (NaN is named first) */
            int64_t at[3] = {0, mid, last};
            for (int k = 0; k < 3; k++) {
                fill_ramp(&im);
                tp_set_f64(im.data, im.dtype, at[k], NAN);
                expect_nonfinite("one NaN", &im, "NaN");
            }
            fill_const(&im, 4.0);
            tp_set_f64(im.data, im.dtype, mid, NAN);
            expect_nonfinite("NaN beside a constant", &im, "NaN");
            fill_ramp(&im);
            tp_set_f64(im.data, im.dtype, 0, INFINITY);
            tp_set_f64(im.data, im.dtype, last, NAN);
            expect_nonfinite("NaN and +inf", &im, "NaN");
            /* infinities beside other values */
            for (int k = 0; k < 3; k++) {
                fill_ramp(&im);
                tp_set_f64(im.data, im.dtype, at[k], INFINITY);
                expect_nonfinite("one +inf", &im, "+inf");
                fill_ramp(&im);
                tp_set_f64(im.data, im.dtype, at[k], -INFINITY);
                expect_nonfinite("one -inf", &im, "-inf");
            }
            fill_const(&im, INFINITY);
            tp_set_f64(im.data, im.dtype, last, 1.0);
            expect_nonfinite("+inf but one pixel", &im, "+inf");
            fill_const(&im, INFINITY);
            tp_set_f64(im.data, im.dtype, 0, -INFINITY);
            expect_nonfinite("-inf and +inf", &im, "-inf and +inf");
            /* a finite image still answers a finite threshold inside its range */
            fill_ramp(&im);
            double v = NAN;
            CHECK_OK(otsu(&im, 0, &v));
            CHECK_MSG(isfinite(v) && v >= -3.0 && v <= (double)last * 0.25 - 3.0, "ramp %s: %g",
                      tp_dtype_name(im.dtype), v);
            tp_image_free(&im);
        }
    }
    return 0;
}

/* Finite values whose max - min is not finite in the dtype, and ranges too narrow for nbins edges: errors
 * too (numpy 2 refuses the edges), not NaN. */
static int test_range_errors(void)
{
    const shape_case sh = {2, {4, 6, 0}};
    tp_image f = make(TP_FLOAT32, &sh), g = make(TP_FLOAT64, &sh);
    fill_ramp(&f);
    fill_ramp(&g);
    tp_set_f64(f.data, TP_FLOAT32, 0, -3e38);
    tp_set_f64(f.data, TP_FLOAT32, 5, 3e38);
    tp_set_f64(g.data, TP_FLOAT64, 0, -1.5e308);
    tp_set_f64(g.data, TP_FLOAT64, 5, 1.5e308);
    double v = 0;
    CHECK(otsu(&f, 0, &v) == TP_ERR_ARG);
    CHECK(strstr(tp_last_error(tp_test_ctx), "threshold_otsu: image: expected max - min to be finite") != NULL);
    CHECK(otsu(&g, 0, &v) == TP_ERR_ARG);
    CHECK(strstr(tp_last_error(tp_test_ctx), "threshold_otsu: image: expected max - min to be finite") != NULL);
    for (int64_t i = 0; i < 24; i++)
        tp_set_f64(f.data, TP_FLOAT32, i, i % 2 ? 1.0 : 1.0000001);
    CHECK(otsu(&f, 0, &v) == TP_ERR_ARG);
    CHECK(strstr(tp_last_error(tp_test_ctx), "threshold_otsu: nbins: ") != NULL);
    tp_image_free(&f);
    tp_image_free(&g);
    return 0;
}

TP_TESTS(T(test_nan_and_inf), T(test_range_errors))

/* threshold_otsu: the CUDA backend against the CPU reference, byte for byte, where the two take their less
 * travelled paths:
 *  - integer images whose value range is far wider than the image (tp_otsu_int_dense_bins gives 0: the
 *    distinct values are sorted and counted on the device): int64 pixels spanning 2^62 and all of int64,
 *    random values over 2^40 and 2^62, exact and rounded class sums, long runs of few values and many
 *    distinct ones, 1x1, constant, two values, 3D, both sides of the dense/sparse criterion; int32, uint32
 *    and uint16 images spanning their whole dtype;
 *  - a few ordinary images of every dtype, 2D and 3D;
 *  - float images holding NaN or +/-inf, overflowing ranges and too many bins: the same status and the same
 *    message on both backends (TP_ERR_ARG), or the same value (an infinity throughout).
 * Host inputs and device-resident ones (the threshold must then stay on the device). TP_TEST_SMALL=1 (the
 * compute-sanitizer run) shrinks the larger images. Skipped (77) without a CUDA device. */
#include "tests/support/tp_test.h"

#include <math.h>
#include <string.h>

static int g_runs;

static tp_image new_image(tp_dtype dt, int ndim, const int64_t *shape)
{
    tp_image im = tp_image_empty();
    if (tp_image_alloc(tp_test_ctx, &im, dt, ndim, shape, -1, TP_HOST)) {
        fprintf(stderr, "  cannot allocate a test image: %s\n", tp_last_error(tp_test_ctx));
        exit(1);
    }
    memset(im.data, 0, (size_t)tp_image_count(&im) * tp_dtype_size(dt));
    return im;
}

static tp_image new_2d(tp_dtype dt, int64_t h, int64_t w)
{
    int64_t s[2] = {h, w};
    return new_image(dt, 2, s);
}

/* Element i of an integer image from an int64 (two's complement truncation to the dtype). */
static void set_i64(tp_image *im, int64_t i, int64_t v)
{
    size_t es = tp_dtype_size(im->dtype);
    memcpy((char *)im->data + (size_t)i * es, &v, es); /* little-endian: the low bytes */
}

static int64_t rand_below(uint64_t *s, uint64_t bound) { return (int64_t)(tp_test_rand(s) % bound); }

/* One run: status, message (on error) and the threshold's bytes (on success). */
typedef struct outcome {
    tp_status st;
    char msg[TP_ERRMSG_LEN];
    double v;
    tp_location where;
} outcome;

static outcome run(tp_backend_id be, const tp_image *im, const char *nbins)
{
    outcome o;
    memset(&o, 0, sizeof o);
    const tp_image *in[1] = {im};
    tp_params *p = NULL;
    if (nbins) {
        tp_params_create(&p);
        tp_params_set(p, "nbins", nbins);
    }
    tp_result r = tp_result_empty();
    const int64_t mem_before = be == TP_BACKEND_CUDA ? tp_device_mem_current() : 0;
    o.st = tp_run_on(tp_test_ctx, be, "threshold_otsu", in, 1, p, &r);
    if (o.st) {
        snprintf(o.msg, sizeof o.msg, "%s", tp_last_error(tp_test_ctx));
        CHECK_MSG(r.image.data == NULL, "a failed call left an output");
    } else {
        o.where = r.image.location;
        tp_status s2 = tp_result_scalar(tp_test_ctx, &r, &o.v);
        CHECK_MSG(s2 == TP_OK, "tp_result_scalar: %s (%s)", tp_status_str(s2), tp_last_error(tp_test_ctx));
    }
    tp_result_free(&r);
    tp_params_destroy(p);
    if (be == TP_BACKEND_CUDA)
        CHECK_MSG(tp_device_mem_current() == mem_before, "threshold_otsu on cuda kept %lld device bytes",
                  (long long)(tp_device_mem_current() - mem_before));
    return o;
}

/* CPU and CUDA on the same host image, then CUDA on a device copy of it: same status, same message, same
 * threshold bytes; a device input keeps the threshold on the device. Returns the CPU outcome. */
static outcome compare(const char *what, const tp_image *im, const char *nbins)
{
    g_runs++;
    outcome c = run(TP_BACKEND_CPU, im, nbins);
    tp_image dev = tp_image_empty();
    tp_status up = tp_image_copy(tp_test_ctx, im, &dev, TP_DEVICE);
    CHECK_MSG(up == TP_OK, "%s: upload: %s (%s)", what, tp_status_str(up), tp_last_error(tp_test_ctx));
    for (int k = 0; k < (up == TP_OK ? 2 : 1); k++) {
        const char *where = k ? "device input" : "host input";
        outcome g = run(TP_BACKEND_CUDA, k ? &dev : im, nbins);
        if (c.st != TP_OK || g.st != TP_OK) {
            CHECK_MSG(g.st == c.st && strcmp(g.msg, c.msg) == 0, "%s [%s, nbins %s]: cpu %s '%s', cuda %s '%s'", what,
                      where, nbins ? nbins : "default", tp_status_str(c.st), c.msg, tp_status_str(g.st), g.msg);
        } else {
            CHECK_MSG(memcmp(&c.v, &g.v, sizeof c.v) == 0, "%s [%s, nbins %s]: cpu %.17g, cuda %.17g", what, where,
                      nbins ? nbins : "default", c.v, g.v);
            if (k)
                CHECK_MSG(g.where == TP_DEVICE, "%s: a device input must give a device threshold", what);
        }
    }
    tp_image_free(&dev);
    return c;
}

static void start(const char *name)
{
    g_runs = 0;
    printf("  %s\n", name);
}

static void done(void) { printf("    %d comparisons\n", g_runs); }

/* ---------------------------------------------------------------- wide integer ranges ---- */

/* CPU must succeed with a value among the image's (the distinct-value path returns one of them). */
static void compare_int(const char *what, const tp_image *im)
{
    outcome c = compare(what, im, NULL);
    CHECK_MSG(c.st == TP_OK, "%s: cpu: %s (%s)", what, tp_status_str(c.st), c.msg);
}

static int test_wide_int64(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("int64, ranges far wider than the image");
    const int small = tp_test_small();
    uint64_t seed = 4242;
    const int64_t P62 = INT64_C(1) << 62;
    {
        /* ten pixels spanning 2^62 (-2^62 .. 2^62) */
        tp_image im = new_2d(TP_INT64, 2, 5);
        const int64_t v[10] = {-P62, P62, 0, 3, -7, P62 / 2, 12, 9, 4, 1};
        for (int i = 0; i < 10; i++)
            set_i64(&im, i, v[i]);
        compare_int("int64 ten pixels spanning 2^63", &im);
        /* all of int64 (max - min overflows) */
        const int64_t w[10] = {INT64_MIN, INT64_MAX, 0, 1, -1, 5, INT64_MIN + 1, INT64_MAX - 3, 77, -77};
        for (int i = 0; i < 10; i++)
            set_i64(&im, i, w[i]);
        compare_int("int64 INT64_MIN..INT64_MAX", &im);
        /* two distinct values, balanced and not */
        for (int i = 0; i < 10; i++)
            set_i64(&im, i, i % 2 ? P62 : -P62);
        compare_int("int64 two values -2^62, 2^62", &im);
        for (int i = 0; i < 10; i++)
            set_i64(&im, i, i == 3 ? INT64_MAX : INT64_MIN);
        compare_int("int64 two values INT64_MIN (9), INT64_MAX (1)", &im);
        /* constant */
        for (int i = 0; i < 10; i++)
            set_i64(&im, i, -(P62 / 4));
        compare_int("int64 all equal", &im);
        tp_image_free(&im);
    }
    {
        tp_image one = new_2d(TP_INT64, 1, 1);
        set_i64(&one, 0, P62);
        compare_int("int64 1x1", &one);
        set_i64(&one, 0, INT64_MIN);
        compare_int("int64 1x1 INT64_MIN", &one);
        tp_image_free(&one);
    }
    /* random over 2^40: n * 2^40 < 2^52 (class sums exact: the parallel scan) and beyond (sums in order) */
    const int64_t ns[3] = {1000, 4096, small ? 20000 : 300000};
    for (int k = 0; k < 3; k++) {
        tp_image im = new_2d(TP_INT64, 1, ns[k]);
        for (int64_t i = 0; i < ns[k]; i++)
            set_i64(&im, i, rand_below(&seed, UINT64_C(1) << 40));
        char what[96];
        snprintf(what, sizeof what, "int64 %lld values over 2^40", (long long)ns[k]);
        compare_int(what, &im);
        /* any int64 (signed, over 2^64) */
        for (int64_t i = 0; i < ns[k]; i++)
            set_i64(&im, i, (int64_t)tp_test_rand(&seed));
        snprintf(what, sizeof what, "int64 %lld values over all of int64", (long long)ns[k]);
        compare_int(what, &im);
        tp_image_free(&im);
    }
    {
        /* exact sums, many samples: values in [-2^25, 2^25], a range of 2^26 bins for 50000 pixels */
        const int64_t n = small ? 6000 : 50000;
        tp_image im = new_2d(TP_INT64, 100, n / 100);
        for (int64_t i = 0; i < n; i++)
            set_i64(&im, i, rand_below(&seed, (UINT64_C(1) << 26) + 1) - (INT64_C(1) << 25));
        compare_int("int64 values in +-2^25 (exact class sums)", &im);
        /* two clusters far apart, so the threshold falls in the gap between them */
        for (int64_t i = 0; i < n; i++)
            set_i64(&im, i, (i % 3 ? 0 : INT64_C(1) << 50) + rand_below(&seed, 1000));
        compare_int("int64 clusters at 0 and 2^50", &im);
        /* long runs of a few values: 64 distinct values spread over 2^60 */
        int64_t pool[64];
        for (int j = 0; j < 64; j++)
            pool[j] = rand_below(&seed, UINT64_C(1) << 60) - (INT64_C(1) << 59);
        for (int64_t i = 0; i < n; i++)
            set_i64(&im, i, pool[tp_test_rand(&seed) % 64]);
        compare_int("int64 64 values over 2^60, long runs", &im);
        tp_image_free(&im);
    }
    {
        /* 3D, 4x5x6, spanning 2^62 */
        int64_t s[3] = {4, 5, 6};
        tp_image im = new_image(TP_INT64, 3, s);
        for (int64_t i = 0; i < 120; i++)
            set_i64(&im, i, rand_below(&seed, UINT64_C(1) << 62) - (i % 7 ? 0 : P62));
        compare_int("int64 4x5x6 spanning 2^62", &im);
        tp_image_free(&im);
    }
    {
        /* both sides of the criterion: 100 pixels, max - min + 1 = 4 * 100 + 2^20 bins (dense) and one more
         * (distinct values) */
        tp_image im = new_2d(TP_INT64, 10, 10);
        for (int d = 0; d < 2; d++) {
            const int64_t top = 4 * 100 + (INT64_C(1) << 20) - 1 + d;
            for (int64_t i = 0; i < 100; i++)
                set_i64(&im, i, i == 0 ? 0 : i == 99 ? top : rand_below(&seed, (uint64_t)top));
            compare_int(d ? "int64 range of 4n + 2^20 + 1 bins (distinct values)"
                          : "int64 range of 4n + 2^20 bins (dense)",
                        &im);
        }
        tp_image_free(&im);
    }
    done();
    return 0;
}

/* int32, uint32, uint16: whole-dtype spans (distinct values for the 32-bit ones; uint16 stays dense) */
static int test_wide_32_16(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("int32, uint32, uint16 spanning their dtype");
    const int small = tp_test_small();
    uint64_t seed = 777;
    const tp_dtype dts[3] = {TP_INT32, TP_UINT32, TP_UINT16};
    const int64_t lo[3] = {INT32_MIN, 0, 0}, hi[3] = {INT32_MAX, UINT32_MAX, 65535};
    for (int d = 0; d < 3; d++) {
        const tp_dtype dt = dts[d];
        const uint64_t span = (uint64_t)(hi[d] - lo[d]) + 1;
        const char *nm = tp_dtype_name(dt);
        char what[128];
        tp_image im = new_2d(dt, 2, 5);
        const int64_t v[10] = {lo[d],     hi[d],     lo[d] + 1000, hi[d] / 2, lo[d] / 2,
                               lo[d] + 1, hi[d] - 1, 77,           3,         lo[d] + 5};
        for (int i = 0; i < 10; i++)
            set_i64(&im, i, v[i]);
        snprintf(what, sizeof what, "%s ten pixels spanning the dtype", nm);
        compare_int(what, &im);
        for (int i = 0; i < 10; i++)
            set_i64(&im, i, i % 3 ? lo[d] : hi[d]);
        snprintf(what, sizeof what, "%s two values min, max", nm);
        compare_int(what, &im);
        for (int i = 0; i < 10; i++)
            set_i64(&im, i, hi[d] - 2);
        snprintf(what, sizeof what, "%s all equal", nm);
        compare_int(what, &im);
        tp_image_free(&im);
        tp_image one = new_2d(dt, 1, 1);
        set_i64(&one, 0, hi[d]);
        snprintf(what, sizeof what, "%s 1x1", nm);
        compare_int(what, &one);
        tp_image_free(&one);
        /* random over the whole dtype, 2D and 3D */
        const int64_t n = small ? 3000 : 20000;
        tp_image r2 = new_2d(dt, n / 50, 50);
        for (int64_t i = 0; i < n; i++)
            set_i64(&r2, i, lo[d] + rand_below(&seed, span));
        snprintf(what, sizeof what, "%s %lld random values over the dtype", nm, (long long)n);
        compare_int(what, &r2);
        /* two clusters at the ends of the dtype */
        for (int64_t i = 0; i < n; i++)
            set_i64(&r2, i, i % 4 ? lo[d] + rand_below(&seed, 5000) : hi[d] - rand_below(&seed, 5000));
        snprintf(what, sizeof what, "%s clusters at both ends", nm);
        compare_int(what, &r2);
        tp_image_free(&r2);
        int64_t s3[3] = {5, 6, 7};
        tp_image r3 = new_image(dt, 3, s3);
        for (int64_t i = 0; i < 210; i++)
            set_i64(&r3, i, lo[d] + rand_below(&seed, span));
        snprintf(what, sizeof what, "%s 5x6x7 random over the dtype", nm);
        compare_int(what, &r3);
        tp_image_free(&r3);
    }
    done();
    return 0;
}

/* ---------------------------------------------------------------- ordinary images ---- */

static int test_ordinary(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("ordinary images, every dtype, 2D and 3D");
    const tp_dtype dts[] = {TP_UINT8, TP_INT8, TP_UINT16, TP_INT16, TP_UINT32, TP_INT32, TP_INT64, TP_FLOAT32,
                            TP_FLOAT64};
    const int64_t s2[2] = {61, 53}, s3[3] = {9, 10, 11};
    uint64_t seed = 99;
    for (int d = 0; d < (int)(sizeof dts / sizeof dts[0]); d++) {
        for (int nd = 2; nd <= 3; nd++) {
            tp_image im = new_image(dts[d], nd, nd == 2 ? s2 : s3);
            const int64_t n = tp_image_count(&im);
            const int is_float = tp_dtype_is_float(dts[d]);
            /* a background and brighter blobs-like values; signed dtypes go negative */
            const int is_signed = dts[d] == TP_INT8 || dts[d] == TP_INT16 || dts[d] == TP_INT32 ||
                                  dts[d] == TP_INT64 || is_float;
            for (int64_t i = 0; i < n; i++) {
                double base = (i / 7) % 5 == 0 ? 90.0 : 20.0;
                double v = base + (double)(tp_test_rand(&seed) % 30) - (is_signed ? 40.0 : 0.0);
                if (is_float)
                    v += (double)(tp_test_rand(&seed) % 1000) / 1000.0;
                tp_set_f64(im.data, im.dtype, i, v);
            }
            char what[96];
            snprintf(what, sizeof what, "%s %dD blobs", tp_dtype_name(dts[d]), nd);
            compare(what, &im, NULL);
            if (is_float) {
                compare(what, &im, "64");
                compare(what, &im, "1000");
            }
            /* a smooth ramp */
            for (int64_t i = 0; i < n; i++)
                tp_set_f64(im.data, im.dtype, i, floor(100.0 * (0.5 + 0.5 * sin((double)i * 0.05))));
            snprintf(what, sizeof what, "%s %dD ramp", tp_dtype_name(dts[d]), nd);
            compare(what, &im, NULL);
            tp_image_free(&im);
        }
    }
    done();
    return 0;
}

/* ---------------------------------------------------------------- NaN and infinities ---- */

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

/* Both backends, default nbins and (unless TP_TEST_SMALL) 7 bins; expect the CPU status `want`. */
static void compare_nf(const char *what, const tp_image *im, tp_status want)
{
    char full[160];
    snprintf(full, sizeof full, "%s %s %dD %lld px", what, tp_dtype_name(im->dtype), im->ndim,
             (long long)tp_image_count(im));
    outcome c = compare(full, im, NULL);
    CHECK_MSG(c.st == want, "%s: cpu gave %s, expected %s", full, tp_status_str(c.st), tp_status_str(want));
    if (!tp_test_small())
        compare(full, im, "7");
}

static int test_nonfinite(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("NaN and infinities: the same status and message on both backends");
    const tp_dtype dts[2] = {TP_FLOAT32, TP_FLOAT64};
    const int64_t shapes[4][3] = {{1, 1, 0}, {5, 7, 0}, {3, 4, 5}, {301, 157, 0}};
    const int ndims[4] = {2, 2, 3, 2};
    const int nshapes = tp_test_small() ? 3 : 4; /* the sanitizer run leaves out 301x157 (many blocks) */
    for (int d = 0; d < 2; d++) {
        for (int si = 0; si < nshapes; si++) {
            tp_image im = new_image(dts[d], ndims[si], shapes[si]);
            const int64_t n = tp_image_count(&im), mid = n / 2, last = n - 1;
            fill_const(&im, INFINITY);
            compare_nf("+inf throughout", &im, TP_OK);
            fill_const(&im, -INFINITY);
            compare_nf("-inf throughout", &im, TP_OK);
            fill_const(&im, NAN);
            compare_nf("NaN throughout", &im, TP_ERR_ARG);
            if (n == 1) {
                tp_image_free(&im);
                continue;
            }
            const int64_t at[3] = {0, mid, last};
            for (int k = 0; k < 3; k++) {
                fill_ramp(&im);
                tp_set_f64(im.data, im.dtype, at[k], NAN);
                compare_nf("one NaN", &im, TP_ERR_ARG);
                fill_ramp(&im);
                tp_set_f64(im.data, im.dtype, at[k], INFINITY);
                compare_nf("one +inf", &im, TP_ERR_ARG);
                fill_ramp(&im);
                tp_set_f64(im.data, im.dtype, at[k], -INFINITY);
                compare_nf("one -inf", &im, TP_ERR_ARG);
            }
            fill_const(&im, 4.0);
            tp_set_f64(im.data, im.dtype, mid, NAN);
            compare_nf("NaN beside a constant", &im, TP_ERR_ARG);
            fill_ramp(&im);
            tp_set_f64(im.data, im.dtype, 0, INFINITY);
            tp_set_f64(im.data, im.dtype, last, NAN);
            compare_nf("NaN and +inf", &im, TP_ERR_ARG);
            fill_const(&im, INFINITY);
            tp_set_f64(im.data, im.dtype, 0, -INFINITY);
            compare_nf("-inf and +inf", &im, TP_ERR_ARG);
            fill_const(&im, INFINITY);
            tp_set_f64(im.data, im.dtype, last, 1.0);
            compare_nf("+inf but one pixel", &im, TP_ERR_ARG);
            tp_image_free(&im);
        }
    }
    /* finite values, but max - min overflows the dtype; a range too narrow for the bins */
    {
        int64_t s[2] = {4, 6};
        tp_image f = new_image(TP_FLOAT32, 2, s), g = new_image(TP_FLOAT64, 2, s);
        fill_ramp(&f);
        fill_ramp(&g);
        tp_set_f64(f.data, TP_FLOAT32, 0, -3e38);
        tp_set_f64(f.data, TP_FLOAT32, 5, 3e38);
        tp_set_f64(g.data, TP_FLOAT64, 0, -1.5e308);
        tp_set_f64(g.data, TP_FLOAT64, 5, 1.5e308);
        compare_nf("max - min overflows", &f, TP_ERR_ARG);
        compare_nf("max - min overflows", &g, TP_ERR_ARG);
        for (int64_t i = 0; i < 24; i++)
            tp_set_f64(f.data, TP_FLOAT32, i, i % 2 ? 1.0 : 1.0000001);
        compare_nf("range of one float32 step", &f, TP_ERR_ARG);
        tp_image_free(&f);
        tp_image_free(&g);
    }
    done();
    return 0;
}

TP_TESTS(T(test_wide_int64), T(test_wide_32_16), T(test_ordinary), T(test_nonfinite))

/* The CUDA backend of extract_channel, img_as_float, gaussian, threshold_otsu, threshold, binary_erosion,
 * binary_dilation, binary_opening, binary_closing and label2rgb against the CPU reference: the same host inputs
 * through tp_run_on(CPU) and tp_run_on(CUDA), every output compared byte for byte (the first difference is
 * printed with its coordinates). Every accepted dtype, 2D and 3D, the sizes 1x1, 1x37, 37x1, 61x53, 257x129
 * and 17x19x23, every parameter case of each descriptor plus the kernels' own edge cases (radii longer than
 * the axis, word boundaries, footprints with many runs, sparse labels), a device-resident chain and one large
 * image. Skipped (77) without a CUDA device. */
#include "tests/support/tp_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- sizes ---- */

typedef struct dims {
    int ndim;
    int64_t s[3];
} dims;

static const dims k_sizes[] = {
    {2, {1, 1, 0}}, {2, {1, 37, 0}}, {2, {37, 1, 0}}, {2, {61, 53, 0}}, {3, {17, 19, 23}}, {2, {257, 129, 0}},
};
/* under TP_TEST_SMALL the 257x129 case is left out (every path is still taken by 61x53 and the 3D case) */
#define N_SIZES ((int)(sizeof k_sizes / sizeof k_sizes[0]) - (tp_test_small() ? 1 : 0))
/* under TP_TEST_SMALL the long sweeps take every SWEEP-th dtype, mode or variant: racecheck replays every
 * shared-memory access, and the kernels' access patterns do not depend on the element type */
#define SWEEP (tp_test_small() ? 3 : 1)

static const tp_dtype k_all_dtypes[] = {TP_BOOL,  TP_UINT8, TP_INT8,  TP_UINT16,  TP_INT16,
                                        TP_UINT32, TP_INT32, TP_INT64, TP_FLOAT32, TP_FLOAT64};
#define N_DTYPES ((int)(sizeof k_all_dtypes / sizeof k_all_dtypes[0]))

static void dims_str(const dims *d, char *buf, size_t n)
{
    if (d->ndim == 2)
        snprintf(buf, n, "%lldx%lld", (long long)d->s[0], (long long)d->s[1]);
    else
        snprintf(buf, n, "%lldx%lldx%lld", (long long)d->s[0], (long long)d->s[1], (long long)d->s[2]);
}

/* ---------------------------------------------------------------- images ---- */

static tp_image new_image(tp_dtype dt, int ndim, const int64_t *shape, int channel_axis)
{
    tp_image im = tp_image_empty();
    tp_status st = tp_image_alloc(tp_test_ctx, &im, dt, ndim, shape, channel_axis, TP_HOST);
    if (st) {
        fprintf(stderr, "  cannot allocate a test image: %s\n", tp_last_error(tp_test_ctx));
        exit(1);
    }
    memset(im.data, 0, (size_t)tp_image_count(&im) * tp_dtype_size(dt));
    return im;
}

static tp_image new_dims(tp_dtype dt, const dims *d) { return new_image(dt, d->ndim, d->s, -1); }

static double rnd01(uint64_t *s) { return (double)(tp_test_rand(s) >> 11) * 0x1.0p-53; }

/* Uniform random bits of the element size: every value of an integer dtype (bool: 0/1). */
static void fill_bits(tp_image *im, uint64_t seed)
{
    int64_t n = tp_image_count(im);
    size_t es = tp_dtype_size(im->dtype);
    uint8_t *d = im->data;
    for (int64_t i = 0; i < n; i++) {
        uint64_t r = tp_test_rand(&seed);
        if (im->dtype == TP_BOOL)
            r &= 1;
        memcpy(d + (size_t)i * es, &r, es); /* little-endian: the low bytes */
    }
}

/* Signalling NaNs made quiet: the CPU reference's float32 copy goes through float64, which quiets them (numpy's
 * img_as_float returns the array itself); the CUDA backend copies bytes. Only that payload bit differs. */
static void quiet_nans(tp_image *im)
{
    int64_t n = tp_image_count(im);
    if (im->dtype == TP_FLOAT32)
        for (int64_t i = 0; i < n; i++) {
            uint32_t *u = (uint32_t *)im->data + i;
            if ((*u & 0x7f800000u) == 0x7f800000u && (*u & 0x007fffffu))
                *u |= 0x00400000u;
        }
    if (im->dtype == TP_FLOAT64)
        for (int64_t i = 0; i < n; i++) {
            uint64_t *u = (uint64_t *)im->data + i;
            if ((*u & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (*u & 0x000fffffffffffffull))
                *u |= 0x0008000000000000ull;
        }
}

/* Uniform in [lo, hi]: integers take floor, floats the value itself (float32 rounds). */
static void fill_uniform(tp_image *im, double lo, double hi, uint64_t seed)
{
    int64_t n = tp_image_count(im);
    int is_float = tp_dtype_is_float(im->dtype);
    for (int64_t i = 0; i < n; i++) {
        double v = lo + rnd01(&seed) * (hi - lo + (is_float ? 0.0 : 1.0));
        tp_set_f64(im->data, im->dtype, i, is_float ? v : floor(v > hi ? hi : v));
    }
}

/* Smooth structure: a ramp plus rings, scaled into [lo, hi]. */
static void fill_gradient(tp_image *im, double lo, double hi)
{
    int64_t n = tp_image_count(im);
    int is_float = tp_dtype_is_float(im->dtype);
    for (int64_t i = 0; i < n; i++) {
        double t = 0.5 + 0.25 * sin((double)i * 0.37) + 0.25 * ((double)(i % 101) / 100.0);
        double v = lo + t * (hi - lo);
        tp_set_f64(im->data, im->dtype, i, is_float ? v : floor(v));
    }
}

/* A foreground mask in any dtype: nonzero with probability `density`. Floats use -0.0 for zero (it is
 * False) and sometimes NaN for one (it is True). */
static void fill_mask(tp_image *im, double density, uint64_t seed)
{
    int64_t n = tp_image_count(im);
    size_t es = tp_dtype_size(im->dtype);
    for (int64_t i = 0; i < n; i++) {
        int on = rnd01(&seed) < density;
        uint64_t r = tp_test_rand(&seed);
        if (im->dtype == TP_FLOAT32) {
            float v = on ? ((r & 7) == 0 ? NAN : (float)(r % 1000) + 0.5f) : -0.0f;
            memcpy((char *)im->data + (size_t)i * es, &v, es);
        } else if (im->dtype == TP_FLOAT64) {
            double v = on ? ((r & 7) == 0 ? NAN : -(double)(r % 1000) - 0.25) : -0.0;
            memcpy((char *)im->data + (size_t)i * es, &v, es);
        } else {
            uint64_t v = on ? (r | 1) : 0; /* a nonzero low byte, sometimes a large value */
            if (on && im->dtype == TP_BOOL)
                v = 1;
            memcpy((char *)im->data + (size_t)i * es, &v, es);
        }
    }
}

/* Blobs: discs of random radius on a background, as nuclei images look (used by chains). */
static void fill_blobs(tp_image *im, int64_t h, int64_t w, int count, uint64_t seed)
{
    for (int64_t i = 0; i < h * w; i++)
        tp_set_f64(im->data, im->dtype, i, 20.0 + (double)(tp_test_rand(&seed) % 16));
    for (int k = 0; k < count; k++) {
        double cy = rnd01(&seed) * (double)h, cx = rnd01(&seed) * (double)w, r = 2.0 + rnd01(&seed) * 9.0;
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++)
                if ((y - cy) * (y - cy) + (x - cx) * (x - cx) <= r * r)
                    tp_set_f64(im->data, im->dtype, y * w + x, 180.0 + (double)(tp_test_rand(&seed) % 60));
    }
}

/* ---------------------------------------------------------------- comparing ---- */

static void coords_str(const tp_image *im, int64_t i, char *buf, size_t n)
{
    int64_t idx[TP_MAX_DIMS];
    for (int d = im->ndim - 1; d >= 0; d--) {
        idx[d] = i % im->shape[d];
        i /= im->shape[d];
    }
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "(");
    for (int d = 0; d < im->ndim && k < n; d++)
        k += (size_t)snprintf(buf + k, n - k, d ? ", %lld" : "%lld", (long long)idx[d]);
    if (k < n)
        snprintf(buf + k, n - k, ")");
}

static void value_str(const tp_image *im, int64_t i, char *buf, size_t n)
{
    size_t es = tp_dtype_size(im->dtype);
    uint64_t bits = 0;
    memcpy(&bits, (const char *)im->data + (size_t)i * es, es);
    snprintf(buf, n, "%.17g (0x%0*llx)", tp_get_f64(im->data, im->dtype, i), (int)(2 * es), (unsigned long long)bits);
}

/* a (CPU) and b (CUDA) must have the same geometry, live on the host and hold the same bytes. */
static int same_image(const char *what, const tp_image *a, const tp_image *b)
{
    CHECK_MSG(b->location == TP_HOST, "%s: a host input must give a host output", what);
    int ok = a->dtype == b->dtype && a->ndim == b->ndim && a->channel_axis == b->channel_axis;
    for (int d = 0; ok && d < a->ndim; d++)
        ok = a->shape[d] == b->shape[d];
    CHECK_MSG(ok, "%s: geometry differs: cpu %s %dD ch %d, cuda %s %dD ch %d", what, tp_dtype_name(a->dtype), a->ndim,
              a->channel_axis, tp_dtype_name(b->dtype), b->ndim, b->channel_axis);
    if (!ok || b->location != TP_HOST)
        return 0;
    int64_t n = tp_image_count(a);
    size_t es = tp_dtype_size(a->dtype);
    if (memcmp(a->data, b->data, (size_t)n * es) == 0)
        return 1;
    int64_t i = 0, diffs = 0;
    while (memcmp((const char *)a->data + (size_t)i * es, (const char *)b->data + (size_t)i * es, es) == 0)
        i++;
    for (int64_t k = i; k < n; k++)
        diffs += memcmp((const char *)a->data + (size_t)k * es, (const char *)b->data + (size_t)k * es, es) != 0;
    char at[96], x[64], y[64];
    coords_str(a, i, at, sizeof at);
    value_str(a, i, x, sizeof x);
    value_str(b, i, y, sizeof y);
    CHECK_MSG(0, "%s: %lld of %lld elements differ; first at %s: cpu %s, cuda %s", what, (long long)diffs,
              (long long)n, at, x, y);
    return 0;
}

/* ---------------------------------------------------------------- running ---- */

/* "name=value;name=value" as the descriptors' cases write them; a piece without '=' continues the previous
 * value (colour lists such as colors=red;lime;blue). */
static tp_params *params_from(const char *spec)
{
    tp_params *p = NULL;
    if (tp_params_create(&p))
        return NULL;
    char buf[512], name[64] = "", value[512] = "";
    snprintf(buf, sizeof buf, "%s", spec ? spec : "");
    for (char *tok = strtok(buf, ";"); tok; tok = strtok(NULL, ";")) {
        char *eq = strchr(tok, '=');
        if (eq) {
            if (*name)
                tp_params_set(p, name, value);
            *eq = 0;
            snprintf(name, sizeof name, "%s", tok);
            snprintf(value, sizeof value, "%s", eq + 1);
        } else {
            size_t k = strlen(value);
            snprintf(value + k, sizeof value - k, ";%s", tok);
        }
    }
    if (*name)
        tp_params_set(p, name, value);
    return p;
}

static int g_runs; /* comparisons made, reported at the end of each test */

/* Run op on both backends with params p; both must succeed (or fail with the same status) and agree. */
static int compare_with(const char *what, const char *op, const tp_image *a, const tp_image *b, const tp_params *p)
{
    const tp_image *in[2] = {a, b};
    tp_result rc = tp_result_empty(), rg = tp_result_empty();
    tp_status sc = tp_run_on(tp_test_ctx, TP_BACKEND_CPU, op, in, b ? 2 : 1, p, &rc);
    char cpu_err[TP_ERRMSG_LEN];
    snprintf(cpu_err, sizeof cpu_err, "%s", tp_last_error(tp_test_ctx));
    tp_status sg = tp_run_on(tp_test_ctx, TP_BACKEND_CUDA, op, in, b ? 2 : 1, p, &rg);
    int ok = 0;
    g_runs++;
    if (sc != TP_OK) {
        CHECK_MSG(sg == sc, "%s: cpu fails (%s: %s) but cuda gives %s (%s)", what, tp_status_str(sc), cpu_err,
                  tp_status_str(sg), sg ? tp_last_error(tp_test_ctx) : "ok");
        ok = sg == sc;
    } else if (sg != TP_OK) {
        CHECK_MSG(0, "%s: cuda fails: %s (%s)", what, tp_status_str(sg), tp_last_error(tp_test_ctx));
    } else {
        CHECK_MSG(rc.kind == rg.kind && rg.backend == TP_BACKEND_CUDA, "%s: result kind/backend", what);
        ok = same_image(what, &rc.image, &rg.image);
    }
    tp_result_free(&rc);
    tp_result_free(&rg);
    return ok;
}

static int compare_spec(const char *what, const char *op, const tp_image *a, const tp_image *b, const char *spec)
{
    tp_params *p = params_from(spec);
    CHECK_MSG(p != NULL, "%s: params", what);
    if (!p)
        return 0;
    char full[512];
    snprintf(full, sizeof full, "%s [%s]", what, spec ? spec : "");
    int ok = compare_with(full, op, a, b, p);
    tp_params_destroy(p);
    return ok;
}

/* Every parameter case of the descriptor, on one input. */
static void compare_cases(const char *what, const char *op, const tp_image *a, const tp_image *b)
{
    const tp_op_desc *d = tp_op_find(op);
    CHECK_MSG(d != NULL, "%s: no descriptor", op);
    for (int k = 0; d && d->cases && d->cases[k].params; k++)
        compare_spec(what, op, a, b, d->cases[k].params);
}

static void start(const char *name)
{
    g_runs = 0;
    printf("  %s\n", name);
}

static void done(void) { printf("    %d comparisons\n", g_runs); }

/* ---------------------------------------------------------------- extract_channel ---- */

static int test_extract_channel(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("extract_channel");
    for (int si = 0; si < N_SIZES; si++) {
        const dims *d = &k_sizes[si];
        char sz[48];
        dims_str(d, sz, sizeof sz);
        for (int ti = 0; ti < N_DTYPES; ti++) {
            tp_dtype dt = k_all_dtypes[ti];
            /* the channel axis at every position: first, middle, last */
            for (int ax = 0; ax <= d->ndim; ax++) {
                int64_t shape[4];
                for (int k = 0, j = 0; k <= d->ndim; k++)
                    shape[k] = k == ax ? 3 + (ax & 1) : d->s[j++];
                tp_image im = new_image(dt, d->ndim + 1, shape, ax);
                fill_bits(&im, 11 + (uint64_t)(si * 100 + ti * 10 + ax));
                char what[128];
                snprintf(what, sizeof what, "extract_channel %s %s channel axis %d", tp_dtype_name(dt), sz, ax);
                compare_cases(what, "extract_channel", &im, NULL);
                compare_spec(what, "extract_channel", &im, NULL, ax & 1 ? "channel=3" : "channel=2");
                tp_image_free(&im);
            }
        }
    }
    done();
    return 0;
}

/* ---------------------------------------------------------------- img_as_float ---- */

static int test_img_as_float(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("img_as_float");
    for (int si = 0; si < N_SIZES; si++) {
        const dims *d = &k_sizes[si];
        char sz[48];
        dims_str(d, sz, sizeof sz);
        for (int ti = 0; ti < N_DTYPES; ti++) {
            tp_dtype dt = k_all_dtypes[ti];
            char what[128];
            tp_image im = new_dims(dt, d);
            /* every bit pattern: the extremes (INT_MIN -> -1 clipping), NaN and infinities of floats */
            fill_bits(&im, 21 + (uint64_t)(si * 16 + ti));
            quiet_nans(&im);
            snprintf(what, sizeof what, "img_as_float %s %s bits", tp_dtype_name(dt), sz);
            compare_cases(what, "img_as_float", &im, NULL);
            fill_gradient(&im, dt == TP_BOOL ? 0 : -100, dt == TP_BOOL ? 1 : 250);
            snprintf(what, sizeof what, "img_as_float %s %s gradient", tp_dtype_name(dt), sz);
            compare_cases(what, "img_as_float", &im, NULL);
            tp_image_free(&im);
            /* with a channel axis, kept in the output */
            int64_t shape[4] = {d->s[0], d->s[1], d->ndim == 3 ? d->s[2] : 3, 3};
            tp_image rgb = new_image(dt, d->ndim + 1, shape, d->ndim);
            fill_bits(&rgb, 31 + (uint64_t)ti);
            quiet_nans(&rgb);
            snprintf(what, sizeof what, "img_as_float %s %s rgb", tp_dtype_name(dt), sz);
            compare_cases(what, "img_as_float", &rgb, NULL);
            tp_image_free(&rgb);
        }
    }
    done();
    return 0;
}

/* ---------------------------------------------------------------- gaussian ---- */

/* Values for gaussian: no NaN or infinity (their payloads are not part of the contract). */
static void fill_gauss_input(tp_image *im, int pattern, uint64_t seed)
{
    tp_dtype dt = im->dtype;
    if (pattern == 0 && !tp_dtype_is_float(dt)) {
        fill_bits(im, seed); /* full integer range: img_as_float's extremes */
    } else if (pattern == 0) {
        fill_uniform(im, dt == TP_FLOAT32 ? -1.0 : -1e3, dt == TP_FLOAT32 ? 1.0 : 1e3, seed);
    } else {
        int unsigned_dt = dt == TP_BOOL || dt == TP_UINT8 || dt == TP_UINT16 || dt == TP_UINT32;
        fill_gradient(im, unsigned_dt ? 0 : -90, dt == TP_BOOL ? 1 : 120);
    }
}

static int test_gaussian_cases(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("gaussian: every descriptor case, dtype and size");
    for (int si = 0; si < N_SIZES; si++) {
        const dims *d = &k_sizes[si];
        char sz[48];
        dims_str(d, sz, sizeof sz);
        for (int ti = 0; ti < N_DTYPES; ti += SWEEP) {
            tp_dtype dt = k_all_dtypes[ti];
            for (int pat = 0; pat < 2; pat++) {
                tp_image im = new_dims(dt, d);
                fill_gauss_input(&im, pat, 41 + (uint64_t)(si * 100 + ti * 2 + pat));
                char what[128];
                snprintf(what, sizeof what, "gaussian %s %s %s", tp_dtype_name(dt), sz, pat ? "gradient" : "random");
                compare_cases(what, "gaussian", &im, NULL);
                tp_image_free(&im);
            }
        }
    }
    done();
    return 0;
}

/* The kernels' own edge cases: every mode with radii longer than the axis, per-axis sigma (one axis
 * skipped, none filtered), the uploaded-weights path (radius >= 128), the vert kernel with radii far longer
 * than its axis, the line and direct kernels, channels first and last, preserve_range with every dtype. */
static int test_gaussian_edges(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("gaussian: modes, radii, axes, channels");
    static const char *modes[] = {"nearest", "reflect", "mirror", "constant", "wrap"};
    static const dims shapes[] = {{2, {1, 1, 0}}, {2, {2, 3, 0}}, {2, {5, 1, 0}}, {2, {7, 40, 0}},
                                  {2, {33, 129, 0}}, {3, {3, 5, 7}}, {3, {9, 4, 33}}};
    for (int si = 0; si < (int)(sizeof shapes / sizeof shapes[0]); si += tp_test_small() ? 2 : 1) {
        const dims *d = &shapes[si];
        char sz[48];
        dims_str(d, sz, sizeof sz);
        tp_image f32 = new_dims(TP_FLOAT32, d), u8 = new_dims(TP_UINT8, d);
        fill_uniform(&f32, -2.0, 3.0, 51 + (uint64_t)si);
        fill_bits(&u8, 61 + (uint64_t)si);
        for (int m = 0; m < 5; m += tp_test_small() ? 2 : 1) {
            static const char *sigmas[] = {"0.3", "1", "2.5", "7", "40", "0,3", "3,0", "0"};
            for (int k = 0; k < (int)(sizeof sigmas / sizeof sigmas[0]); k++) {
                char spec[160], what[96];
                if (d->ndim == 3 && strchr(sigmas[k], ','))
                    snprintf(spec, sizeof spec, "sigma=%s,1.5;mode=%s;cval=-0.75", sigmas[k], modes[m]);
                else
                    snprintf(spec, sizeof spec, "sigma=%s;mode=%s;cval=-0.75", sigmas[k], modes[m]);
                snprintf(what, sizeof what, "gaussian float32 %s", sz);
                compare_spec(what, "gaussian", &f32, NULL, spec);
                snprintf(what, sizeof what, "gaussian uint8 %s", sz);
                compare_spec(what, "gaussian", &u8, NULL, spec);
            }
        }
        tp_image_free(&f32);
        tp_image_free(&u8);
    }
    /* radii: 127/128 around the inline limit; ~370 and 12000 along axis 0 (vert, its row map far past the
     * axis); along the last axis a radius beyond the line kernel's tile (direct) */
    {
        dims d3 = {3, {40, 9, 20}};
        tp_image im = new_dims(TP_FLOAT64, &d3);
        fill_uniform(&im, -5, 5, 71);
        static const char *specs[] = {"sigma=31.75", "sigma=32", "sigma=92,1,1", "sigma=93,1,1", "sigma=120,0,2",
                                      "sigma=3000,0,0;mode=reflect", "sigma=0,0,3000;mode=wrap",
                                      "sigma=2,2,2;truncate=0.1", "sigma=1,2,3;mode=mirror;truncate=10"};
        for (int k = 0; k < (int)(sizeof specs / sizeof specs[0]); k++)
            compare_spec("gaussian float64 40x9x20 radii", "gaussian", &im, NULL, specs[k]);
        tp_image_free(&im);
        int64_t s2[2] = {3, 300};
        tp_image row = new_image(TP_INT16, 2, s2, -1);
        fill_bits(&row, 72);
        compare_spec("gaussian int16 3x300 direct", "gaussian", &row, NULL, "sigma=0,4000;mode=mirror");
        compare_spec("gaussian int16 3x300 line", "gaussian", &row, NULL, "sigma=0,1500;mode=constant;cval=2");
        tp_image_free(&row);
    }
    /* channels: first and last, 2D and 3D, filtered independently */
    for (int ti = 0; ti < N_DTYPES; ti += SWEEP) {
        tp_dtype dt = k_all_dtypes[ti];
        int64_t last[3] = {23, 31, 3}, first[3] = {3, 23, 31}, last3[4] = {5, 6, 7, 2};
        tp_image a = new_image(dt, 3, last, 2), b = new_image(dt, 3, first, 0), c3 = new_image(dt, 4, last3, 3);
        fill_gauss_input(&a, 0, 81 + (uint64_t)ti);
        fill_gauss_input(&b, 1, 91 + (uint64_t)ti);
        fill_gauss_input(&c3, 0, 95 + (uint64_t)ti);
        char what[96];
        snprintf(what, sizeof what, "gaussian %s channels last", tp_dtype_name(dt));
        compare_spec(what, "gaussian", &a, NULL, "sigma=2;channel_axis=-1");
        compare_spec(what, "gaussian", &a, NULL, "sigma=1,3;channel_axis=2;mode=wrap;preserve_range=true");
        snprintf(what, sizeof what, "gaussian %s channels first", tp_dtype_name(dt));
        compare_spec(what, "gaussian", &b, NULL, "sigma=2;channel_axis=0");
        compare_spec(what, "gaussian", &b, NULL, "sigma=5;channel_axis=0;mode=constant;cval=0.25");
        snprintf(what, sizeof what, "gaussian %s 3D channels last", tp_dtype_name(dt));
        compare_spec(what, "gaussian", &c3, NULL, "sigma=1,2,0.5;channel_axis=3;mode=reflect");
        compare_spec(what, "gaussian", &c3, NULL, "sigma=0,1,2;channel_axis=-1;preserve_range=true");
        tp_image_free(&a);
        tp_image_free(&b);
        tp_image_free(&c3);
    }
    done();
    return 0;
}

/* Volumes: the vert kernel (lines of a large inner stride) with interior tiles (64 outputs + halo inside
 * the axis) and border tiles in every mode, and fused2 after one single pass (3D) or two (4D), the scratch
 * and the output alternating; a skipped middle axis keeps every pass single. */
static int test_gaussian_volumes(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("gaussian: volumes (z pass, then fused2)");
    static const char *modes[] = {"nearest", "reflect", "mirror", "constant", "wrap"};
    static const char *sigmas[] = {"2", "3,1,2", "5,0,2", "0,2,2", "1,0,0", "9.5,2,0.7"};
    const dims d3 = {3, {150, 37, 70}};
    const int64_t s4[4] = {9, 70, 6, 40};
    tp_image u8 = new_dims(TP_UINT8, &d3), f32 = new_dims(TP_FLOAT32, &d3), v4 = new_image(TP_INT16, 4, s4, -1);
    fill_bits(&u8, 301);
    fill_uniform(&f32, -2.0, 3.0, 302);
    fill_bits(&v4, 303);
    for (int m = 0; m < 5; m += tp_test_small() ? 2 : 1) {
        for (int k = 0; k < (int)(sizeof sigmas / sizeof sigmas[0]); k++) {
            char spec[160];
            snprintf(spec, sizeof spec, "sigma=%s;mode=%s;cval=0.5", sigmas[k], modes[m]);
            compare_spec("gaussian uint8 150x37x70", "gaussian", &u8, NULL, spec);
            compare_spec("gaussian float32 150x37x70", "gaussian", &f32, NULL, spec);
        }
        char spec[160];
        snprintf(spec, sizeof spec, "sigma=1.5,2,1,3;mode=%s;cval=-1", modes[m]);
        compare_spec("gaussian int16 9x70x6x40", "gaussian", &v4, NULL, spec);
        snprintf(spec, sizeof spec, "sigma=0,2,1,3;mode=%s", modes[m]);
        compare_spec("gaussian int16 9x70x6x40", "gaussian", &v4, NULL, spec);
    }
    tp_image_free(&u8);
    tp_image_free(&f32);
    tp_image_free(&v4);
    done();
    return 0;
}

/* ---------------------------------------------------------------- threshold_otsu ---- */

static const tp_dtype k_otsu_dtypes[] = {TP_UINT8, TP_INT8,  TP_UINT16,  TP_INT16,  TP_UINT32,
                                         TP_INT32, TP_INT64, TP_FLOAT32, TP_FLOAT64};

/* A value range for each dtype that keeps integer histograms affordable (one bin per integer). */
static void otsu_range(tp_dtype dt, int variant, double *lo, double *hi)
{
    switch (dt) {
    case TP_UINT8: *lo = variant ? 37 : 0, *hi = variant ? 41 : 255; break;
    case TP_INT8: *lo = -128, *hi = variant ? -100 : 127; break;
    case TP_UINT16: *lo = variant ? 1000 : 0, *hi = variant ? 1003 : 65535; break;
    case TP_INT16: *lo = -32768, *hi = variant ? 300 : 32767; break;
    case TP_UINT32: *lo = variant ? 4294900000.0 : 0, *hi = variant ? 4294967295.0 : 9000; break;
    case TP_INT32: *lo = variant ? -70000 : -5, *hi = variant ? 70000 : 5000; break;
    case TP_INT64: *lo = variant ? 1e12 : -300, *hi = variant ? 1e12 + 20000 : 300; break;
    case TP_FLOAT32: *lo = variant ? -3e4 : 0, *hi = variant ? 1e-3 : 1; break;
    default: *lo = variant ? -1e-300 : -7, *hi = variant ? 1e-300 : 1e9; break;
    }
}

static int test_threshold_otsu(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("threshold_otsu");
    for (int si = 0; si < N_SIZES; si++) {
        const dims *d = &k_sizes[si];
        char sz[48];
        dims_str(d, sz, sizeof sz);
        for (int ti = 0; ti < (int)(sizeof k_otsu_dtypes / sizeof k_otsu_dtypes[0]); ti += SWEEP) {
            tp_dtype dt = k_otsu_dtypes[ti];
            tp_image im = new_dims(dt, d);
            char what[128];
            for (int v = 0; v < 2; v++) {
                double lo, hi;
                otsu_range(dt, v, &lo, &hi);
                fill_uniform(&im, lo, hi, 101 + (uint64_t)(si * 40 + ti * 2 + v));
                snprintf(what, sizeof what, "threshold_otsu %s %s uniform[%g,%g]", tp_dtype_name(dt), sz, lo, hi);
                compare_cases(what, "threshold_otsu", &im, NULL);
                fill_gradient(&im, lo, hi);
                snprintf(what, sizeof what, "threshold_otsu %s %s gradient", tp_dtype_name(dt), sz);
                compare_cases(what, "threshold_otsu", &im, NULL);
            }
            /* constant, and two values (the smallest histogram), -0.0 beside 0.0 for floats */
            int64_t n = tp_image_count(&im);
            for (int64_t i = 0; i < n; i++)
                tp_set_f64(im.data, dt, i, 7);
            snprintf(what, sizeof what, "threshold_otsu %s %s constant", tp_dtype_name(dt), sz);
            compare_cases(what, "threshold_otsu", &im, NULL);
            for (int64_t i = 0; i < n; i++)
                tp_set_f64(im.data, dt, i, (i * 7) % 3 ? 3 : 9);
            snprintf(what, sizeof what, "threshold_otsu %s %s two values", tp_dtype_name(dt), sz);
            compare_cases(what, "threshold_otsu", &im, NULL);
            if (tp_dtype_is_float(dt)) {
                for (int64_t i = 0; i < n; i++)
                    tp_set_f64(im.data, dt, i, i % 2 ? 0.0 : -0.0);
                snprintf(what, sizeof what, "threshold_otsu %s %s signed zeros", tp_dtype_name(dt), sz);
                compare_cases(what, "threshold_otsu", &im, NULL);
            }
            tp_image_free(&im);
        }
    }
    /* bins beyond shared memory (global counters): float nbins 20000, int32 range of 140001 */
    {
        int64_t s[2] = {301, 157};
        tp_image f = new_image(TP_FLOAT32, 2, s, -1), g = new_image(TP_FLOAT64, 2, s, -1);
        fill_blobs(&f, 301, 157, 30, 111);
        fill_blobs(&g, 301, 157, 30, 112);
        compare_spec("threshold_otsu float32 many bins", "threshold_otsu", &f, NULL, "nbins=20000");
        compare_spec("threshold_otsu float64 many bins", "threshold_otsu", &g, NULL, "nbins=70001");
        compare_spec("threshold_otsu float32 3 bins", "threshold_otsu", &f, NULL, "nbins=3");
        compare_spec("threshold_otsu float64 2 bins", "threshold_otsu", &g, NULL, "nbins=2");
        tp_image_free(&f);
        tp_image_free(&g);
    }
    /* a NaN, and a range too narrow for 256 distinct float32 edges: both backends refuse with the same
     * status and message (gpu/threshold_otsu.cu reports its device-side checks after one stream sync) */
    for (int k = 0; k < 2; k++) {
        int64_t s[2] = {5, 7};
        tp_image f = new_image(TP_FLOAT32, 2, s, -1);
        fill_uniform(&f, k ? 1.0 : 0.0, k ? 1.000001 : 1.0, 121);
        if (!k)
            ((float *)f.data)[17] = NAN;
        const tp_image *in[1] = {&f};
        tp_result rc = tp_result_empty(), rg = tp_result_empty();
        CHECK(tp_run_on(tp_test_ctx, TP_BACKEND_CPU, "threshold_otsu", in, 1, NULL, &rc) == TP_ERR_ARG);
        char cpu_msg[512];
        snprintf(cpu_msg, sizeof cpu_msg, "%s", tp_last_error(tp_test_ctx));
        CHECK(tp_run_on(tp_test_ctx, TP_BACKEND_CUDA, "threshold_otsu", in, 1, NULL, &rg) == TP_ERR_ARG);
        CHECK_MSG(!strcmp(cpu_msg, tp_last_error(tp_test_ctx)), "threshold_otsu %s: cpu '%s', cuda '%s'",
                  k ? "narrow range" : "NaN input", cpu_msg, tp_last_error(tp_test_ctx));
        tp_result_free(&rc);
        tp_result_free(&rg);
        tp_image_free(&f);
    }
    done();
    return 0;
}

/* ---------------------------------------------------------------- threshold ---- */

static int test_threshold(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("threshold");
    static const char *extra[] = {"threshold=0", "threshold=-3.5", "threshold=127.5", "threshold=1e300",
                                  "threshold=-1e-320"};
    for (int si = 0; si < N_SIZES; si++) {
        const dims *d = &k_sizes[si];
        char sz[48];
        dims_str(d, sz, sizeof sz);
        for (int ti = 1; ti < N_DTYPES; ti++) { /* bool is not accepted */
            tp_dtype dt = k_all_dtypes[ti];
            tp_image im = new_dims(dt, d);
            fill_bits(&im, 131 + (uint64_t)(si * 16 + ti));
            if (tp_dtype_is_float(dt))
                fill_uniform(&im, -200, 200, 141 + (uint64_t)ti);
            char what[128];
            snprintf(what, sizeof what, "threshold %s %s", tp_dtype_name(dt), sz);
            compare_cases(what, "threshold", &im, NULL);
            for (int k = 0; k < (int)(sizeof extra / sizeof extra[0]); k++)
                compare_spec(what, "threshold", &im, NULL, extra[k]);
            /* the threshold as a 1-element image of several dtypes (staged to the device by the dispatcher) */
            static const tp_dtype tdt[] = {TP_FLOAT64, TP_FLOAT32, TP_UINT8, TP_INT64, TP_INT16};
            for (int k = 0; k < 5; k++) {
                int64_t one = 1;
                tp_image t = new_image(tdt[k], 1, &one, -1);
                tp_set_f64(t.data, tdt[k], 0, tdt[k] == TP_UINT8 ? 100 : -1.25);
                tp_params *p = NULL;
                CHECK_OK(tp_params_create(&p));
                CHECK_OK(tp_params_set_image(p, "threshold", &t));
                char w2[160];
                snprintf(w2, sizeof w2, "%s threshold image %s", what, tp_dtype_name(tdt[k]));
                compare_with(w2, "threshold", &im, NULL, p);
                tp_params_destroy(p);
                tp_image_free(&t);
            }
            tp_image_free(&im);
        }
    }
    done();
    return 0;
}

/* ---------------------------------------------------------------- morphology ---- */

static const char *k_morph_ops[] = {"binary_erosion", "binary_dilation", "binary_opening", "binary_closing"};

static int test_morphology_cases(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("binary morphology: every descriptor case, dtype and size");
    for (int si = 0; si < N_SIZES; si++) {
        const dims *d = &k_sizes[si];
        char sz[48];
        dims_str(d, sz, sizeof sz);
        for (int ti = 0; ti < N_DTYPES; ti++) {
            tp_dtype dt = k_all_dtypes[ti];
            tp_image im = new_dims(dt, d);
            fill_mask(&im, ti % 2 ? 0.7 : 0.45, 151 + (uint64_t)(si * 16 + ti));
            for (int o = 0; o < 4; o++) {
                char what[128];
                snprintf(what, sizeof what, "%s %s %s", k_morph_ops[o], tp_dtype_name(dt), sz);
                if (d->ndim == 2) {
                    compare_cases(what, k_morph_ops[o], &im, NULL);
                } else { /* 3D footprints */
                    static const char *fp3[] = {"", "footprint=ball:1", "footprint=cube:3;mode=min",
                                                "footprint=cuboid:2x3x4", "footprint=octahedron:2;mode=max",
                                                "footprint=cross3;mode=min"};
                    for (int k = 0; k < 6; k++)
                        compare_spec(what, k_morph_ops[o], &im, NULL, fp3[k]);
                }
            }
            tp_image_free(&im);
        }
    }
    done();
    return 0;
}

/* Widths around the 32-pixel words and the 1024-pixel warp segments, offsets beyond one word, even sizes,
 * a footprint with more runs than the launch carries (uploaded, staged in shared memory), all modes. */
static int test_morphology_edges(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("binary morphology: word boundaries, wide and many-run footprints");
    static const int64_t widths[] = {31, 32, 33, 63, 64, 65, 1023, 1024, 1025, 2051};
    static const char *specs[] = {"footprint=disk:2",          "footprint=rectangle:1x101;mode=min",
                                  "footprint=rectangle:3x66",  "footprint=square:2;mode=max",
                                  "footprint=rectangle:4x2",   "footprint=diamond:5",
                                  "footprint=rectangle:1x64",  "footprint=disk:15;mode=min"};
    for (int wi = 0; wi < (int)(sizeof widths / sizeof widths[0]); wi++) {
        int64_t s[2] = {wi % 2 ? 7 : 13, widths[wi]};
        tp_image im = new_image(TP_BOOL, 2, s, -1);
        fill_mask(&im, 0.8, 161 + (uint64_t)wi);
        for (int o = 0; o < 4; o++)
            for (int k = 0; k < (int)(sizeof specs / sizeof specs[0]); k++) {
                char what[96];
                snprintf(what, sizeof what, "%s bool 7x%lld", k_morph_ops[o], (long long)widths[wi]);
                compare_spec(what, k_morph_ops[o], &im, NULL, specs[k]);
            }
        tp_image_free(&im);
    }
    /* the fused 2D pass (one-byte pixels, rows of a multiple of 16 bytes, up to 8 rows and 31 columns from the
     * centre): a last word half inside the image (48, 1040), several row blocks of 32 (70 rows), the largest
     * footprints it takes (disk:8, 1x63), one just past it (disk:9: the packed path), both dtypes; 512 and 128
     * wide: rows of whole words, several a warp */
    static const int64_t fused_w[] = {16, 48, 1040, 512, 128};
    static const char *fused_specs[] = {"footprint=disk:8", "footprint=rectangle:1x63;mode=min",
                                        "footprint=disk:9", "footprint=rectangle:17x3;mode=max", ""};
    for (int wi = 0; wi < (int)(sizeof fused_w / sizeof fused_w[0]); wi++)
        for (int t = 0; t < 2; t++) {
            int64_t s[2] = {70, fused_w[wi]};
            tp_image im = new_image(t ? TP_UINT8 : TP_BOOL, 2, s, -1);
            fill_mask(&im, 0.75, 191 + (uint64_t)(wi * 2 + t));
            for (int o = 0; o < 4; o++)
                for (int k = 0; k < (int)(sizeof fused_specs / sizeof fused_specs[0]); k++) {
                    char what[96];
                    snprintf(what, sizeof what, "%s %s 70x%lld (fused path)", k_morph_ops[o],
                             tp_dtype_name(im.dtype), (long long)fused_w[wi]);
                    compare_spec(what, k_morph_ops[o], &im, NULL, fused_specs[k]);
                }
            tp_image_free(&im);
        }
    /* the fused pass in 3D: planes per block from the footprint's reach (ball:2: 6 planes, so 11 planes end
     * in a partial block; ball:4 and the 9-plane cuboid: 1), rows over several 32-row blocks, a last word
     * half inside (48, 1040), reach 4 in z (the most it takes) and 5 (ball:5: the packed path) */
    /* and rows of 1 to 16 whole words (32 .. 512 wide), made 32 / words rows a warp: 37 and 45 rows end
     * inside a group of rows, 70 past a block of 32 */
    static const int64_t vol_shapes[][3] = {{11, 37, 48}, {9, 20, 1040}, {13, 70, 16}, {5, 37, 512},
                                            {6, 45, 256},  {4, 70, 64},   {3, 37, 32}};
    static const char *vol_specs[] = {"footprint=ball:1",      "footprint=ball:2;mode=min", "footprint=ball:4",
                                      "footprint=cube:3;mode=max", "footprint=cuboid:9x3x5", "footprint=ball:5",
                                      "footprint=octahedron:2",  "footprint=cuboid:1x3x5", ""};
    for (int vi = 0; vi < (int)(sizeof vol_shapes / sizeof vol_shapes[0]); vi++)
        for (int t = 0; t < 2; t++) {
            tp_image im = new_image(t ? TP_UINT8 : TP_BOOL, 3, vol_shapes[vi], -1);
            fill_mask(&im, 0.8, 211 + (uint64_t)(vi * 2 + t));
            for (int o = 0; o < 2; o++) /* one pass each: erosion and dilation */
                for (int k = 0; k < (int)(sizeof vol_specs / sizeof vol_specs[0]); k++) {
                    char what[128];
                    snprintf(what, sizeof what, "%s %s %lldx%lldx%lld (fused 3D) %s", k_morph_ops[o],
                             tp_dtype_name(im.dtype), (long long)vol_shapes[vi][0], (long long)vol_shapes[vi][1],
                             (long long)vol_shapes[vi][2], vol_specs[k]);
                    compare_spec(what, k_morph_ops[o], &im, NULL, vol_specs[k]);
                }
            tp_image_free(&im);
        }
    /* many runs: a ball of radius 8 has 17x17 rows (289 runs > the 200 carried in the launch); a scattered
     * user footprint has one run per pixel */
    int64_t s3[3] = {20, 21, 70};
    tp_image v = new_image(TP_UINT8, 3, s3, -1);
    fill_mask(&v, 0.9, 171);
    for (int o = 0; o < 4; o++) {
        compare_spec("many runs ball:8", k_morph_ops[o], &v, NULL, "footprint=ball:8");
        compare_spec("many runs ball:8 min", k_morph_ops[o], &v, NULL, "footprint=ball:8;mode=min");
    }
    tp_image_free(&v);
    int64_t fs[2] = {21, 40}, is[2] = {45, 77};
    tp_image fpimg = new_image(TP_UINT8, 2, fs, -1), im = new_image(TP_BOOL, 2, is, -1);
    uint64_t seed = 181;
    for (int64_t i = 0; i < 21 * 40; i++)
        ((uint8_t *)fpimg.data)[i] = tp_test_rand(&seed) % 3 == 0;
    fill_mask(&im, 0.85, 182);
    tp_footprint fp;
    CHECK_OK(tp_footprint_from_image(tp_test_ctx, &fpimg, &fp));
    for (int o = 0; o < 4; o++)
        for (int m = 0; m < 3; m++) {
            static const char *modes[] = {"ignore", "min", "max"};
            tp_params *p = NULL;
            CHECK_OK(tp_params_create(&p));
            CHECK_OK(tp_params_set_footprint(p, "footprint", &fp));
            CHECK_OK(tp_params_set(p, "mode", modes[m]));
            char what[96];
            snprintf(what, sizeof what, "%s scattered 21x40 footprint mode %s", k_morph_ops[o], modes[m]);
            compare_with(what, k_morph_ops[o], &im, NULL, p);
            tp_params_destroy(p);
        }
    tp_footprint_free(&fp);
    tp_image_free(&fpimg);
    tp_image_free(&im);
    done();
    return 0;
}

/* ---------------------------------------------------------------- label2rgb ---- */

static const tp_dtype k_label_dtypes[] = {TP_BOOL, TP_UINT8, TP_INT8, TP_UINT16, TP_INT16,
                                          TP_UINT32, TP_INT32, TP_INT64};

/* Labels: few values (dense), or spread over a wide range (int64: the sort path). */
static void fill_labels(tp_image *im, int sparse, uint64_t seed)
{
    int64_t n = tp_image_count(im);
    for (int64_t i = 0; i < n; i++) {
        uint64_t r = tp_test_rand(&seed);
        double v;
        if (im->dtype == TP_BOOL)
            v = (double)(r & 1);
        else if (sparse && im->dtype == TP_INT64)
            v = (r % 4 == 0) ? 0.0 : (double)((int64_t)(r >> 12) % 1000000007) * 7919.0 - 3e12;
        else if (sparse)
            v = (double)(r % 5 == 0 ? 0 : (r >> 8) % 90);
        else
            v = (double)(r % 3 == 0 ? 0 : (r >> 8) % 13) - (tp_dtype_is_signed(im->dtype) ? 2 : 0);
        tp_set_f64(im->data, im->dtype, i, v);
    }
}

static int test_label2rgb(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("label2rgb");
    static const char *extra[] = {"bg_color=none", "bg_label=-2;colors=0.1,0.2,0.3;yellowgreen",
                                  "alpha=0.45;image_alpha=0.6;bg_color=none", "saturation=0.5;bg_label=5",
                                  "bg_label=-1000000;alpha=1", "image_alpha=0;saturation=1;bg_color=0.5,0.25,1"};
    for (int si = 0; si < N_SIZES; si++) {
        const dims *d = &k_sizes[si];
        char sz[48];
        dims_str(d, sz, sizeof sz);
        for (int li = 0; li < (int)(sizeof k_label_dtypes / sizeof k_label_dtypes[0]); li += SWEEP) {
            tp_dtype lt = k_label_dtypes[li];
            for (int sparse = 0; sparse < 2; sparse++) {
                tp_image lab = new_dims(lt, d);
                fill_labels(&lab, sparse, 191 + (uint64_t)(si * 40 + li * 2 + sparse));
                char what[128];
                snprintf(what, sizeof what, "label2rgb %s %s%s", tp_dtype_name(lt), sz, sparse ? " sparse" : "");
                compare_cases(what, "label2rgb", &lab, NULL);
                for (int k = 0; k < (int)(sizeof extra / sizeof extra[0]); k++)
                    compare_spec(what, "label2rgb", &lab, NULL, extra[k]);
                /* over a grey image of several dtypes, and over RGB images (channels last and first) */
                static const tp_dtype idt[] = {TP_UINT8, TP_FLOAT32, TP_FLOAT64, TP_INT16, TP_BOOL, TP_UINT32};
                for (int k = 0; k < 6 && li % 3 == sparse; k += SWEEP) {
                    tp_image g = new_dims(idt[k], d);
                    fill_gauss_input(&g, k % 2, 201 + (uint64_t)k);
                    if (tp_dtype_is_float(idt[k]))
                        fill_uniform(&g, 0, 1, 211 + (uint64_t)k);
                    char w2[160];
                    snprintf(w2, sizeof w2, "%s over grey %s", what, tp_dtype_name(idt[k]));
                    compare_cases(w2, "label2rgb", &lab, &g);
                    compare_spec(w2, "label2rgb", &lab, &g, extra[2]);
                    compare_spec(w2, "label2rgb", &lab, &g, extra[5]);
                    tp_image_free(&g);
                    for (int first = 0; first < 2; first++) {
                        int64_t shape[4];
                        int nd = d->ndim + 1, ax = first ? 0 : d->ndim;
                        for (int a = 0, j = 0; a < nd; a++)
                            shape[a] = a == ax ? 3 : d->s[j++];
                        tp_image rgb = new_image(idt[k], nd, shape, ax);
                        fill_uniform(&rgb, 0, tp_dtype_is_float(idt[k]) ? 1 : 250, 221 + (uint64_t)k);
                        snprintf(w2, sizeof w2, "%s over rgb %s channels %s", what, tp_dtype_name(idt[k]),
                                 first ? "first" : "last");
                        compare_cases(w2, "label2rgb", &lab, &rgb);
                        compare_spec(w2, "label2rgb", &lab, &rgb, extra[3]);
                        compare_spec(w2, "label2rgb", &lab, &rgb, extra[5]);
                        tp_image_free(&rgb);
                    }
                }
                tp_image_free(&lab);
            }
        }
    }
    done();
    return 0;
}

/* ---------------------------------------------------------------- device chain ---- */

static tp_status run1(tp_backend_id be, const char *op, const tp_image *a, tp_params *p, tp_result *r)
{
    const tp_image *in[1] = {a};
    return tp_run_on(tp_test_ctx, be, op, in, 1, p, r);
}

/* Download a result (if on the device) and compare with the CPU's. */
static void same_result(const char *what, const tp_result *cpu, const tp_result *gpu)
{
    CHECK_MSG(gpu->image.location == TP_DEVICE, "%s: a device input must give a device output", what);
    tp_image h = tp_image_empty();
    tp_status st = tp_image_copy(tp_test_ctx, &gpu->image, &h, TP_HOST);
    CHECK_MSG(st == TP_OK, "%s: download: %s", what, tp_last_error(tp_test_ctx));
    if (!st)
        same_image(what, &cpu->image, &h);
    tp_image_free(&h);
}

/* gaussian -> threshold_otsu -> threshold (the device scalar) -> binary_erosion, all on the device. */
static void chain(const char *what, const tp_image *host, const char *gauss_spec, const char *erosion_spec)
{
    tp_image dev = tp_image_empty();
    CHECK_OK(tp_image_copy(tp_test_ctx, host, &dev, TP_DEVICE));
    tp_params *pg = params_from(gauss_spec), *pe = params_from(erosion_spec);
    tp_result c[4], g[4];
    for (int i = 0; i < 4; i++)
        c[i] = g[i] = tp_result_empty();
    const char *steps[4] = {"gaussian", "threshold_otsu", "threshold", "binary_erosion"};
    for (int b = 0; b < 2; b++) {
        tp_backend_id be = b ? TP_BACKEND_CUDA : TP_BACKEND_CPU;
        tp_result *r = b ? g : c;
        tp_status st = run1(be, "gaussian", b ? &dev : host, pg, &r[0]);
        if (!st)
            st = run1(be, "threshold_otsu", &r[0].image, NULL, &r[1]);
        tp_params *pt = NULL;
        if (!st)
            st = tp_params_create(&pt);
        if (!st)
            st = tp_params_set_image(pt, "threshold", &r[1].image); /* stays on the device for CUDA */
        if (!st)
            st = run1(be, "threshold", &r[0].image, pt, &r[2]);
        if (!st)
            st = run1(be, "binary_erosion", &r[2].image, pe, &r[3]);
        tp_params_destroy(pt);
        CHECK_MSG(st == TP_OK, "%s: %s chain: %s", what, b ? "cuda" : "cpu", tp_last_error(tp_test_ctx));
    }
    for (int i = 0; i < 4; i++) {
        char w[128];
        snprintf(w, sizeof w, "%s: %s", what, steps[i]);
        if (c[i].image.data && g[i].image.data)
            same_result(w, &c[i], &g[i]);
    }
    double tc = 0, tg = 0;
    if (c[1].image.data && g[1].image.data && !tp_result_scalar(tp_test_ctx, &c[1], &tc) &&
        !tp_result_scalar(tp_test_ctx, &g[1], &tg))
        CHECK_MSG(memcmp(&tc, &tg, sizeof tc) == 0, "%s: otsu cpu %.17g cuda %.17g", what, tc, tg);
    for (int i = 0; i < 4; i++) {
        tp_result_free(&c[i]);
        tp_result_free(&g[i]);
    }
    tp_params_destroy(pg);
    tp_params_destroy(pe);
    tp_image_free(&dev);
    g_runs++;
}

static int test_device_chain(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("device-resident chain");
    int64_t s[2] = {257, 129};
    tp_image u8 = new_image(TP_UINT8, 2, s, -1), f32 = new_image(TP_FLOAT32, 2, s, -1);
    fill_blobs(&u8, 257, 129, 25, 231);
    fill_blobs(&f32, 257, 129, 25, 232);
    chain("chain uint8 257x129", &u8, "sigma=5", "footprint=disk:2");
    chain("chain uint8 257x129 sigma 1", &u8, "sigma=1;mode=reflect", "");
    chain("chain float32 257x129", &f32, "sigma=2;preserve_range=true", "footprint=square:3;mode=min");
    int64_t s3[3] = {17, 19, 23};
    tp_image v = new_image(TP_UINT16, 3, s3, -1);
    fill_gradient(&v, 0, 60000);
    chain("chain uint16 17x19x23", &v, "sigma=1.5", "footprint=ball:1");
    tp_image_free(&u8);
    tp_image_free(&f32);
    tp_image_free(&v);
    done();
    return 0;
}

/* ---------------------------------------------------------------- large ---- */

static int test_large(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("large: 4096x4096");
    int64_t s[2] = {4096, 4096};
    tp_image u8 = new_image(TP_UINT8, 2, s, -1);
    fill_blobs(&u8, 4096, 4096, 0, 241); /* background noise only: the discs are drawn below, locally */
    uint64_t seed = 242;
    for (int k = 0; k < 3000; k++) {
        int64_t cy = (int64_t)(tp_test_rand(&seed) % 4096), cx = (int64_t)(tp_test_rand(&seed) % 4096);
        int64_t r = 3 + (int64_t)(tp_test_rand(&seed) % 12);
        for (int64_t y = cy - r; y <= cy + r; y++)
            for (int64_t x = cx - r; x <= cx + r; x++)
                if (y >= 0 && y < 4096 && x >= 0 && x < 4096 && (y - cy) * (y - cy) + (x - cx) * (x - cx) <= r * r)
                    ((uint8_t *)u8.data)[y * 4096 + x] = (uint8_t)(170 + (tp_test_rand(&seed) % 80));
    }
    compare_spec("gaussian uint8 4096x4096", "gaussian", &u8, NULL, "sigma=5");
    compare_spec("threshold_otsu uint8 4096x4096", "threshold_otsu", &u8, NULL, "");
    tp_image mask = new_image(TP_BOOL, 2, s, -1);
    for (int64_t i = 0; i < 4096 * 4096; i++)
        ((uint8_t *)mask.data)[i] = ((uint8_t *)u8.data)[i] > 100;
    compare_spec("binary_erosion 4096x4096 disk:2", "binary_erosion", &mask, NULL, "footprint=disk:2");
    compare_spec("binary_closing 4096x4096 square:5", "binary_closing", &mask, NULL, "footprint=square:5");
    chain("chain uint8 4096x4096", &u8, "sigma=5", "footprint=disk:2");
    tp_image_free(&mask);
    tp_image_free(&u8);
    done();
    return 0;
}

TP_TESTS(T(test_extract_channel), T(test_img_as_float), T(test_gaussian_cases), T(test_gaussian_edges),
         T(test_gaussian_volumes),
         T(test_threshold_otsu), T(test_threshold), T(test_morphology_cases), T(test_morphology_edges),
         T(test_label2rgb), T(test_device_chain), T(test_large))

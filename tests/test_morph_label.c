/* binary_erosion/dilation/opening/closing, label and label2rgb on the CPU: against brute-force references
 * written from the definitions (scipy.ndimage's offsets, flood fill in raster order), on hard cases, and
 * bit-identical between 1 thread and several. scikit-image itself is the oracle in tests/oracle/. */
#include "tests/support/tp_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

/* Run op on the CPU with params "name=value|name=value" (colour lists keep their ';'). */
static tp_status run_op(const char *op, const tp_image *a, const tp_image *b, const char *params, int threads,
                        tp_result *r)
{
    tp_params *p = NULL;
    tp_status st = tp_params_create(&p);
    char buf[512];
    snprintf(buf, sizeof buf, "%s", params ? params : "");
    char *save = NULL;
    for (char *tok = strtok_r(buf, "|", &save); tok && !st; tok = strtok_r(NULL, "|", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return TP_ERR_ARG;
        *eq = 0;
        st = tp_params_set(p, tok, eq + 1);
    }
    *r = tp_result_empty();
    if (!st)
        st = tp_context_set_threads(tp_test_ctx, threads);
    const tp_image *in[2] = {a, b};
    if (!st)
        st = tp_run_on(tp_test_ctx, TP_BACKEND_CPU, op, in, b ? 2 : 1, p, r);
    tp_params_destroy(p);
    return st;
}

static bool same_image(const tp_image *x, const tp_image *y)
{
    if (x->dtype != y->dtype || x->ndim != y->ndim)
        return false;
    for (int i = 0; i < x->ndim; i++)
        if (x->shape[i] != y->shape[i])
            return false;
    return memcmp(x->data, y->data, (size_t)tp_image_count(x) * tp_dtype_size(x->dtype)) == 0;
}

/* Run with 1 thread and with `many`; both must succeed and agree bit for bit. r gets the 1-thread result. */
static bool run_invariant(const char *op, const tp_image *a, const tp_image *b, const char *params, int many,
                          tp_result *r)
{
    tp_result r2;
    tp_status s1 = run_op(op, a, b, params, 1, r);
    tp_status s2 = run_op(op, a, b, params, many, &r2);
    CHECK_MSG(s1 == TP_OK && s2 == TP_OK, "%s %s: %s", op, params, tp_last_error(tp_test_ctx));
    bool same = s1 == TP_OK && s2 == TP_OK && same_image(&r->image, &r2.image);
    CHECK_MSG(same, "%s %s: 1 thread and %d threads differ", op, params, many);
    tp_result_free(&r2);
    return s1 == TP_OK;
}

static uint64_t rng_state = 12345;
static double urand(void) { return (double)(tp_test_rand(&rng_state) >> 11) * (1.0 / 9007199254740992.0); }

static tp_image random_mask(int ndim, const int64_t *shape, double density)
{
    tp_image im = tp_image_empty();
    if (tp_image_alloc(tp_test_ctx, &im, TP_BOOL, ndim, shape, -1, TP_HOST))
        return im;
    uint8_t *d = im.data;
    for (int64_t i = 0; i < tp_image_count(&im); i++)
        d[i] = urand() < density;
    return im;
}

static void dims3(const int64_t *shape, int ndim, int64_t *nz, int64_t *ny, int64_t *nx)
{
    *nz = ndim == 3 ? shape[0] : 1;
    *ny = shape[ndim - 2];
    *nx = shape[ndim - 1];
}

/* ---- morphology reference: scipy.ndimage's definition, pixel by pixel ---- */

/* erosion: AND of in[p + k - size//2]; dilation: OR of in[p - (k - size//2)]; outside = border. */
static void ref_morph(const uint8_t *in, int ndim, const int64_t *shape, const tp_footprint *fp, bool dilate,
                      bool border, uint8_t *out)
{
    int64_t nz, ny, nx, fz, fy, fx;
    dims3(shape, ndim, &nz, &ny, &nx);
    dims3(fp->shape, fp->ndim, &fz, &fy, &fx);
    for (int64_t z = 0; z < nz; z++)
        for (int64_t y = 0; y < ny; y++)
            for (int64_t x = 0; x < nx; x++) {
                bool acc = !dilate;
                for (int64_t kz = 0; kz < fz; kz++)
                    for (int64_t ky = 0; ky < fy; ky++)
                        for (int64_t kx = 0; kx < fx; kx++) {
                            if (!fp->data[(kz * fy + ky) * fx + kx])
                                continue;
                            int64_t dz = kz - fz / 2, dy = ky - fy / 2, dx = kx - fx / 2;
                            if (dilate)
                                dz = -dz, dy = -dy, dx = -dx;
                            int64_t sz = z + dz, sy = y + dy, sx = x + dx;
                            bool v = sz >= 0 && sz < nz && sy >= 0 && sy < ny && sx >= 0 && sx < nx
                                         ? in[(sz * ny + sy) * nx + sx] != 0
                                         : border;
                            acc = dilate ? (acc || v) : (acc && v);
                        }
                out[(z * ny + y) * nx + x] = acc;
            }
}

/* The op as steps (erode = 0, dilate = 1) with the border each step takes in `mode`. */
static void ref_op(const char *op, const char *mode, const uint8_t *in, int ndim, const int64_t *shape,
                   const tp_footprint *fp, uint8_t *out)
{
    int steps[2], n = 1;
    if (!strcmp(op, "binary_erosion"))
        steps[0] = 0;
    else if (!strcmp(op, "binary_dilation"))
        steps[0] = 1;
    else if (!strcmp(op, "binary_opening"))
        steps[0] = 0, steps[1] = 1, n = 2;
    else
        steps[0] = 1, steps[1] = 0, n = 2;
    int64_t count = 1;
    for (int i = 0; i < ndim; i++)
        count *= shape[i];
    uint8_t *tmp = malloc((size_t)count);
    const uint8_t *src = in;
    for (int i = 0; i < n; i++) {
        bool border = steps[i] ? !strcmp(mode, "max") : strcmp(mode, "min") != 0;
        uint8_t *dst = i == n - 1 ? out : tmp;
        ref_morph(src, ndim, shape, fp, steps[i], border, dst);
        src = dst;
    }
    free(tmp);
}

static tp_footprint random_footprint(int ndim, int64_t a, int64_t b, int64_t c)
{
    tp_footprint fp;
    memset(&fp, 0, sizeof fp);
    fp.ndim = ndim;
    fp.shape[0] = a;
    fp.shape[1] = b;
    fp.shape[2] = ndim == 3 ? c : 1;
    int64_t n = a * b * fp.shape[2];
    fp.data = calloc((size_t)n, 1);
    for (int64_t i = 0; i < n; i++)
        fp.data[i] = urand() < 0.6;
    fp.data[n - 1] = 1;
    return fp;
}

static const char *const morph_ops[4] = {"binary_erosion", "binary_dilation", "binary_opening", "binary_closing"};
static const char *const modes[3] = {"ignore", "min", "max"};

/* Every op and mode on one image and footprint, against the reference and across thread counts. */
static void check_morph_case(const tp_image *im, const char *fpspec, const tp_footprint *user_fp)
{
    tp_footprint parsed;
    memset(&parsed, 0, sizeof parsed);
    const tp_footprint *fp = user_fp;
    if (!fp) {
        const char *spec = fpspec ? fpspec : (tp_image_spatial_ndim(im) == 3 ? "cross3" : "cross");
        CHECK_OK(tp_footprint_parse(tp_test_ctx, spec, &parsed));
        fp = &parsed;
    }
    int64_t n = tp_image_count(im);
    uint8_t *mask = malloc((size_t)n), *want = malloc((size_t)n);
    for (int64_t i = 0; i < n; i++)
        mask[i] = tp_get_f64(im->data, im->dtype, i) != 0 || isnan(tp_get_f64(im->data, im->dtype, i));
    for (int o = 0; o < 4; o++)
        for (int m = 0; m < 3; m++) {
            char params[128];
            snprintf(params, sizeof params, "%s%s%smode=%s", fpspec ? "footprint=" : "", fpspec ? fpspec : "",
                     fpspec ? "|" : "", modes[m]);
            tp_params *p;
            tp_result r1 = tp_result_empty(), r2 = tp_result_empty();
            CHECK_OK(tp_params_create(&p));
            tp_params_set(p, "mode", modes[m]);
            if (fpspec)
                tp_params_set(p, "footprint", fpspec);
            if (user_fp)
                tp_params_set_footprint(p, "footprint", user_fp);
            const tp_image *in[1] = {im};
            tp_context_set_threads(tp_test_ctx, 1);
            tp_status s1 = tp_run_on(tp_test_ctx, TP_BACKEND_CPU, morph_ops[o], in, 1, p, &r1);
            tp_context_set_threads(tp_test_ctx, 3);
            tp_status s2 = tp_run_on(tp_test_ctx, TP_BACKEND_CPU, morph_ops[o], in, 1, p, &r2);
            tp_params_destroy(p);
            CHECK_MSG(s1 == TP_OK && s2 == TP_OK, "%s %s: %s", morph_ops[o], params, tp_last_error(tp_test_ctx));
            if (s1 == TP_OK && s2 == TP_OK) {
                ref_op(morph_ops[o], modes[m], mask, tp_image_spatial_ndim(im), im->shape, fp, want);
                CHECK_MSG(r1.image.dtype == TP_BOOL && memcmp(r1.image.data, want, (size_t)n) == 0,
                          "%s %s on %lldx%lld(x%lld): differs from the reference", morph_ops[o], params,
                          (long long)im->shape[0], (long long)im->shape[1],
                          (long long)(im->ndim == 3 ? im->shape[2] : 1));
                CHECK_MSG(same_image(&r1.image, &r2.image), "%s %s: 1 and 3 threads differ", morph_ops[o], params);
            }
            tp_result_free(&r1);
            tp_result_free(&r2);
        }
    free(mask);
    free(want);
    tp_footprint_free(&parsed);
}

static int test_morph_2d_shapes_and_footprints(void)
{
    static const int64_t shapes[][2] = {{1, 1}, {1, 17}, {17, 1}, {13, 29}, {31, 7}, {3, 2}};
    static const char *const specs[] = {NULL, "disk:1", "disk:2", "square:2", "rectangle:2x4", "rectangle:1x5",
                                        "rectangle:4x1", "diamond:2", "square:5"};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (size_t f = 0; f < sizeof specs / sizeof specs[0]; f++) {
            tp_image im = random_mask(2, shapes[s], f % 2 ? 0.8 : 0.5);
            check_morph_case(&im, specs[f], NULL);
            tp_image_free(&im);
        }
    /* user footprints of odd and even sizes, some with holes and rows of zeros */
    for (int t = 0; t < 6; t++) {
        int64_t shape[2] = {11 + t, 23 - t};
        tp_footprint fp = random_footprint(2, 1 + t % 4, 2 + t % 3, 1);
        tp_image im = random_mask(2, shape, 0.7);
        check_morph_case(&im, NULL, &fp);
        tp_image_free(&im);
        tp_footprint_free(&fp);
    }
    return 0;
}

static int test_morph_3d(void)
{
    static const int64_t shapes[][3] = {{5, 7, 9}, {1, 6, 6}, {4, 1, 5}, {3, 4, 1}};
    static const char *const specs[] = {NULL, "ball:1", "cube:2", "octahedron:1", "cuboid:2x3x4", "ball:2"};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (size_t f = 0; f < sizeof specs / sizeof specs[0]; f++) {
            tp_image im = random_mask(3, shapes[s], 0.75);
            check_morph_case(&im, specs[f], NULL);
            tp_image_free(&im);
        }
    int64_t shape[3] = {6, 8, 7};
    tp_footprint fp = random_footprint(3, 2, 3, 4);
    tp_image im = random_mask(3, shape, 0.7);
    check_morph_case(&im, NULL, &fp);
    tp_image_free(&im);
    tp_footprint_free(&fp);
    return 0;
}

/* Any dtype: nonzero (NaN included, -0.0 not) is True. */
static int test_morph_dtypes(void)
{
    int64_t shape[2] = {9, 12};
    tp_image f = tp_image_empty();
    CHECK_OK(tp_image_alloc(tp_test_ctx, &f, TP_FLOAT32, 2, shape, -1, TP_HOST));
    float *d = f.data;
    for (int i = 0; i < 108; i++)
        d[i] = urand() < 0.2 ? -0.0f : urand() < 0.1 ? NAN : (float)(urand() * 4 - 2);
    check_morph_case(&f, "disk:1", NULL);
    tp_image i16 = tp_image_empty();
    CHECK_OK(tp_image_alloc(tp_test_ctx, &i16, TP_INT16, 2, shape, -1, TP_HOST));
    for (int i = 0; i < 108; i++)
        ((int16_t *)i16.data)[i] = (int16_t)(urand() < 0.3 ? 0 : (int)(urand() * 200) - 100);
    check_morph_case(&i16, "square:3", NULL);
    tp_image_free(&f);
    tp_image_free(&i16);
    return 0;
}

static int test_morph_footprint_larger_than_image(void)
{
    int64_t shape[2] = {3, 4};
    tp_image ones = random_mask(2, shape, 2.0); /* all True */
    tp_result r;
    CHECK(run_op("binary_erosion", &ones, NULL, "footprint=disk:5", 1, &r) == TP_OK);
    for (int i = 0; i < 12; i++)
        CHECK(((uint8_t *)r.image.data)[i] == 1); /* outside is True in mode ignore */
    tp_result_free(&r);
    CHECK(run_op("binary_erosion", &ones, NULL, "footprint=disk:5|mode=min", 1, &r) == TP_OK);
    for (int i = 0; i < 12; i++)
        CHECK(((uint8_t *)r.image.data)[i] == 0);
    tp_result_free(&r);
    tp_image_free(&ones);
    return 0;
}

static int test_morph_thread_invariance_large(void)
{
    int64_t shape[2] = {301, 263}, shape3[3] = {23, 41, 37};
    tp_image im = random_mask(2, shape, 0.6), v = random_mask(3, shape3, 0.7);
    tp_result r;
    for (int o = 0; o < 4; o++) {
        if (run_invariant(morph_ops[o], &im, NULL, "footprint=disk:3", 5, &r))
            tp_result_free(&r);
        if (run_invariant(morph_ops[o], &v, NULL, "footprint=ball:2|mode=min", 4, &r))
            tp_result_free(&r);
    }
    tp_image_free(&im);
    tp_image_free(&v);
    return 0;
}

static int test_morph_errors(void)
{
    int64_t shape[2] = {5, 5};
    tp_image im = random_mask(2, shape, 0.5);
    tp_result r;
    CHECK(run_op("binary_erosion", &im, NULL, "footprint=ball:1", 1, &r) == TP_ERR_ARG);
    CHECK(strstr(tp_last_error(tp_test_ctx), "footprint") != NULL);
    CHECK(r.image.data == NULL);
    CHECK(run_op("binary_dilation", &im, NULL, "mode=reflect", 1, &r) == TP_ERR_ARG);
    tp_image_free(&im);
    return 0;
}

/* ---- label reference: flood fill in raster order ---- */

static int64_t ref_label(const int64_t *v, int ndim, const int64_t *shape, int64_t bg, int conn, int64_t *out)
{
    int64_t nz, ny, nx;
    dims3(shape, ndim, &nz, &ny, &nx);
    int64_t n = nz * ny * nx, count = 0;
    int64_t *stack = malloc((size_t)n * sizeof *stack);
    memset(out, 0, (size_t)n * sizeof *out);
    for (int64_t s = 0; s < n; s++) {
        if (v[s] == bg || out[s])
            continue;
        out[s] = ++count;
        int64_t top = 0;
        stack[top++] = s;
        while (top) {
            int64_t p = stack[--top], z = p / (ny * nx), y = p / nx % ny, x = p % nx;
            for (int dz = -1; dz <= 1; dz++)
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        int hops = (dz != 0) + (dy != 0) + (dx != 0);
                        int64_t qz = z + dz, qy = y + dy, qx = x + dx;
                        if (hops == 0 || hops > conn || qz < 0 || qz >= nz || qy < 0 || qy >= ny || qx < 0 ||
                            qx >= nx)
                            continue;
                        int64_t q = (qz * ny + qy) * nx + qx;
                        if (!out[q] && v[q] == v[p]) {
                            out[q] = count;
                            stack[top++] = q;
                        }
                    }
        }
    }
    free(stack);
    return count;
}

/* label(im) against the flood fill; bool images map to 0/1 and background 1 labels the False pixels. */
static void check_label(const tp_image *im, const char *params, int64_t bg, int conn, int threads)
{
    tp_result r;
    if (!run_invariant("label", im, NULL, params, threads, &r))
        return;
    int64_t n = tp_image_count(im);
    int64_t *v = malloc((size_t)n * sizeof *v), *want = malloc((size_t)n * sizeof *want);
    for (int64_t i = 0; i < n; i++)
        v[i] = (int64_t)tp_get_f64(im->data, im->dtype, i);
    if (im->dtype == TP_BOOL && bg != 1)
        bg = 0;
    ref_label(v, im->ndim, im->shape, bg, conn, want);
    tp_dtype want_dt = im->dtype == TP_BOOL ? TP_INT32 : TP_INT64;
    CHECK_MSG(r.image.dtype == want_dt, "label: output dtype %s, expected %s", tp_dtype_name(r.image.dtype),
              tp_dtype_name(want_dt));
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++)
        bad += (int64_t)tp_get_f64(r.image.data, r.image.dtype, i) != want[i];
    CHECK_MSG(bad == 0, "label %s on a %dD %s image: %lld pixels differ from the flood fill", params, im->ndim,
              tp_dtype_name(im->dtype), (long long)bad);
    tp_result_free(&r);
    free(v);
    free(want);
}

static int test_label_random(void)
{
    static const int64_t shapes2[][2] = {{1, 1}, {1, 40}, {40, 1}, {37, 53}, {64, 64}};
    static const double densities[] = {0.1, 0.45, 0.6, 0.9};
    for (size_t s = 0; s < 5; s++)
        for (size_t d = 0; d < 4; d++) {
            tp_image im = random_mask(2, shapes2[s], densities[d]);
            check_label(&im, "", 0, 2, 3);
            check_label(&im, "connectivity=1", 0, 1, 2);
            check_label(&im, "connectivity=2|background=1", 1, 2, 4);
            tp_image_free(&im);
        }
    static const int64_t shapes3[][3] = {{7, 9, 11}, {1, 12, 5}, {6, 1, 8}, {16, 15, 14}};
    for (size_t s = 0; s < 4; s++)
        for (size_t d = 0; d < 4; d++) {
            tp_image im = random_mask(3, shapes3[s], densities[d]);
            check_label(&im, "", 0, 3, 3);
            check_label(&im, "connectivity=1", 0, 1, 5);
            check_label(&im, "connectivity=2", 0, 2, 2);
            tp_image_free(&im);
        }
    return 0;
}

/* Integer images: neighbours join only when equal, so touching regions of different values stay apart. */
static int test_label_values(void)
{
    static const tp_dtype types[] = {TP_UINT8, TP_INT8, TP_UINT16, TP_INT16, TP_UINT32, TP_INT32, TP_INT64};
    int64_t shape[2] = {29, 31}, shape3[3] = {9, 8, 10};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        tp_image im = tp_image_empty(), v = tp_image_empty();
        CHECK_OK(tp_image_alloc(tp_test_ctx, &im, types[t], 2, shape, -1, TP_HOST));
        CHECK_OK(tp_image_alloc(tp_test_ctx, &v, types[t], 3, shape3, -1, TP_HOST));
        for (int64_t i = 0; i < tp_image_count(&im); i++)
            tp_set_f64(im.data, im.dtype, i, (double)(tp_test_rand(&rng_state) % 4) * (t == 1 ? -1 : 1));
        for (int64_t i = 0; i < tp_image_count(&v); i++)
            tp_set_f64(v.data, v.dtype, i, (double)(tp_test_rand(&rng_state) % 3));
        check_label(&im, "", 0, 2, 3);
        check_label(&im, "connectivity=1|background=2", 2, 1, 2);
        check_label(&im, "background=-1", -1, 2, 2); /* nothing is background */
        check_label(&v, "connectivity=2|background=1", 1, 2, 3);
        tp_image_free(&im);
        tp_image_free(&v);
    }
    return 0;
}

static int test_label_checkerboard(void)
{
    int64_t shape[2] = {64, 64};
    tp_image im = random_mask(2, shape, 0);
    uint8_t *d = im.data;
    for (int64_t y = 0; y < 64; y++)
        for (int64_t x = 0; x < 64; x++)
            d[y * 64 + x] = (x + y) % 2 == 0;
    tp_result r;
    CHECK(run_op("label", &im, NULL, "connectivity=1", 1, &r) == TP_OK);
    const int32_t *l = r.image.data;
    CHECK(l[0] == 1 && l[2] == 2 && l[64 + 1] == 33 && l[63 * 64 + 63] == 2048);
    tp_result_free(&r);
    CHECK(run_op("label", &im, NULL, "", 2, &r) == TP_OK);
    l = r.image.data;
    int64_t bad = 0;
    for (int64_t i = 0; i < 64 * 64; i++)
        bad += l[i] != (int32_t)d[i];
    CHECK(bad == 0); /* 8-connectivity: one component */
    tp_result_free(&r);
    check_label(&im, "connectivity=1", 0, 1, 5);
    tp_image_free(&im);
    return 0;
}

/* More labels than 16 bits hold: isolated pixels on a grid, numbered in raster order. */
static int test_label_many(void)
{
    int64_t shape[2] = {600, 600};
    tp_image im = random_mask(2, shape, 0);
    uint8_t *d = im.data;
    for (int64_t y = 0; y < 600; y += 2)
        for (int64_t x = 0; x < 600; x += 2)
            d[y * 600 + x] = 1;
    tp_result r;
    if (run_invariant("label", &im, NULL, "", 2, &r)) {
        const int32_t *l = r.image.data;
        int64_t bad = 0;
        for (int64_t y = 0; y < 600; y++)
            for (int64_t x = 0; x < 600; x++)
                bad += l[y * 600 + x] != (y % 2 == 0 && x % 2 == 0 ? (int32_t)(y / 2 * 300 + x / 2 + 1) : 0);
        CHECK(bad == 0 && l[598 * 600 + 598] == 90000);
        tp_result_free(&r);
    }
    tp_image_free(&im);
    return 0;
}

/* One long winding component: a square spiral and a boustrophedon snake; union-find must merge
 * provisional trees of every depth. */
static int test_label_spiral_and_snake(void)
{
    int64_t n = 101, shape[2] = {101, 101};
    tp_image sp = random_mask(2, shape, 0), sn = random_mask(2, shape, 0);
    uint8_t *s = sp.data, *k = sn.data;
    for (int64_t ring = 0; ring < n / 2; ring += 2) {
        int64_t a = ring, b = n - 1 - ring;
        for (int64_t i = a; i <= b; i++) {
            s[a * n + i] = s[b * n + i] = 1;           /* top and bottom edges */
            s[i * n + b] = 1;                          /* right edge */
            if (i > a + 1)
                s[i * n + a] = 1;                      /* left edge, open at the top: the spiral's entry */
        }
        if (a + 2 <= b)
            s[(a + 2) * n + a + 1] = 1; /* step into the next ring */
    }
    for (int64_t y = 0; y < n; y += 2) {
        for (int64_t x = 0; x < n; x++)
            k[y * n + x] = 1;
        if (y + 1 < n)
            k[(y + 1) * n + ((y / 2) % 2 ? 0 : n - 1)] = 1;
    }
    check_label(&sp, "connectivity=1", 0, 1, 3);
    check_label(&sp, "", 0, 2, 2);
    check_label(&sn, "connectivity=1", 0, 1, 4);
    tp_result r;
    if (run_op("label", &sn, NULL, "connectivity=1", 1, &r) == TP_OK) {
        int32_t mx = 0;
        for (int64_t i = 0; i < n * n; i++)
            mx = ((int32_t *)r.image.data)[i] > mx ? ((int32_t *)r.image.data)[i] : mx;
        CHECK(mx == 1);
        tp_result_free(&r);
    }
    tp_image_free(&sp);
    tp_image_free(&sn);
    return 0;
}

static int test_label_all_and_nothing(void)
{
    int64_t shape[2] = {17, 19}, shape3[3] = {4, 5, 6};
    tp_image zero = random_mask(2, shape, 0), one = random_mask(3, shape3, 2);
    tp_result r;
    CHECK(run_op("label", &zero, NULL, "", 2, &r) == TP_OK);
    int64_t sum = 0;
    for (int64_t i = 0; i < 17 * 19; i++)
        sum += ((int32_t *)r.image.data)[i];
    CHECK(sum == 0);
    tp_result_free(&r);
    CHECK(run_op("label", &one, NULL, "connectivity=1", 2, &r) == TP_OK);
    sum = 0;
    for (int64_t i = 0; i < 120; i++)
        sum += ((int32_t *)r.image.data)[i] == 1;
    CHECK(sum == 120);
    tp_result_free(&r);
    tp_image_free(&zero);
    tp_image_free(&one);
    return 0;
}

/* scikit-image 0.19.3's Cython labeller scans an (A, B, 1) integer volume as (1, B, A): its numbering is
 * x-major there. Expected output captured from skimage.measure.label(x, connectivity=1). */
static int test_label_trailing_unit_axis(void)
{
    static const int64_t x[20] = {2, 0, 2, 1, 1, 2, 0, 0, 1, 0, 1, 0, 2, 0, 2, 2, 2, 1, 2, 2};
    static const int64_t want[20] = {1, 0, 4, 7, 7, 1, 0, 0, 7, 0, 2, 0, 5, 0, 8, 3, 3, 6, 8, 8};
    int64_t shape[3] = {4, 5, 1};
    tp_image im = tp_image_wrap((void *)x, TP_INT64, 3, shape, -1, TP_HOST);
    tp_result r;
    CHECK(run_op("label", &im, NULL, "connectivity=1", 1, &r) == TP_OK);
    CHECK(r.image.dtype == TP_INT64 && memcmp(r.image.data, want, sizeof want) == 0);
    tp_result_free(&r);
    return 0;
}

static int test_label_errors(void)
{
    int64_t shape[2] = {4, 4};
    tp_image im = random_mask(2, shape, 0.5);
    tp_result r;
    CHECK(run_op("label", &im, NULL, "connectivity=3", 1, &r) == TP_ERR_ARG);
    CHECK(strstr(tp_last_error(tp_test_ctx), "connectivity") != NULL);
    CHECK(r.image.data == NULL);
    tp_image_free(&im);
    return 0;
}

/* ---- label2rgb ---- */

static const double red[3] = {1, 0, 0}, blue[3] = {0, 0, 1}, yellow[3] = {1, 1, 0};

static bool pixel_is(const tp_result *r, int64_t p, const double *rgb)
{
    const double *d = (const double *)r->image.data + 3 * p;
    return d[0] == rgb[0] && d[1] == rgb[1] && d[2] == rgb[2];
}

static int test_label2rgb_ranks(void)
{
    static const uint8_t lab[6] = {0, 1, 2, 11, 1, 0};
    int64_t shape[2] = {2, 3};
    tp_image im = tp_image_wrap((void *)lab, TP_UINT8, 2, shape, -1, TP_HOST);
    const double black[3] = {0, 0, 0};
    tp_result r;
    if (run_invariant("label2rgb", &im, NULL, "", 2, &r)) {
        CHECK(r.image.dtype == TP_FLOAT64 && r.image.ndim == 3 && r.image.shape[2] == 3);
        CHECK(pixel_is(&r, 0, black) && pixel_is(&r, 1, red) && pixel_is(&r, 2, blue) && pixel_is(&r, 3, yellow));
        tp_result_free(&r);
    }
    /* bg_label 1: 0 takes rank 1 (red) and 1 is painted bg_color */
    if (run_invariant("label2rgb", &im, NULL, "bg_label=1|bg_color=0,1,1", 2, &r)) {
        const double cyan[3] = {0, 1, 1};
        CHECK(pixel_is(&r, 0, red) && pixel_is(&r, 1, cyan) && pixel_is(&r, 2, blue) && pixel_is(&r, 3, yellow));
        tp_result_free(&r);
    }
    /* a bg_label that is absent: every value ranks */
    if (run_invariant("label2rgb", &im, NULL, "bg_label=7", 2, &r)) {
        const double magenta[3] = {1, 0, 1};
        CHECK(pixel_is(&r, 0, red) && pixel_is(&r, 1, blue) && pixel_is(&r, 2, yellow) && pixel_is(&r, 3, magenta));
        tp_result_free(&r);
    }
    return 0;
}

/* Ranks over values spread across int64 (the sorted path) equal those of a compact relabelling. */
static int test_label2rgb_sparse_values(void)
{
    int64_t shape[2] = {30, 40}, n = 1200;
    int64_t *wide = malloc((size_t)n * sizeof *wide), *dense = malloc((size_t)n * sizeof *dense);
    static const int64_t spread[8] = {INT64_MIN, -4000000000000LL, -7, 0, 3, 99999999999LL, INT64_MAX - 1,
                                      INT64_MAX};
    for (int64_t i = 0; i < n; i++) {
        int k = (int)(tp_test_rand(&rng_state) % 8);
        wide[i] = spread[k];
        dense[i] = k - 3; /* same order; 0 at the same place */
    }
    tp_image w = tp_image_wrap(wide, TP_INT64, 2, shape, -1, TP_HOST), d = tp_image_wrap(dense, TP_INT64, 2, shape, -1,
                                                                                          TP_HOST);
    tp_result rw, rd;
    if (run_invariant("label2rgb", &w, NULL, "colors=1,0,0;0,1,0;0,0,1", 2, &rw)) {
        if (run_invariant("label2rgb", &d, NULL, "colors=1,0,0;0,1,0;0,0,1", 2, &rd)) {
            CHECK(same_image(&rw.image, &rd.image));
            tp_result_free(&rd);
        }
        tp_result_free(&rw);
    }
    free(wide);
    free(dense);
    return 0;
}

static int test_label2rgb_over_image(void)
{
    static const int32_t lab[4] = {0, 1, 1, 2};
    static const uint8_t gray[4] = {255, 0, 51, 255};
    int64_t shape[2] = {2, 2};
    tp_image l = tp_image_wrap((void *)lab, TP_INT32, 2, shape, -1, TP_HOST);
    tp_image g = tp_image_wrap((void *)gray, TP_UINT8, 2, shape, -1, TP_HOST);
    tp_result r;
    if (run_invariant("label2rgb", &l, &g, "alpha=0.25|image_alpha=0.5", 2, &r)) {
        const double *o = r.image.data;
        double u = 51 * (1.0 / 255) * 0.5 + (1 - 0.5);
        CHECK(o[6] == 1 * 0.25 + u * (1 - 0.25) && o[7] == 0 * 0.25 + u * (1 - 0.25));
        CHECK(o[0] == 0 * 0.25 + 1.0 * (1 - 0.25)); /* background: bg_color black over the image */
        tp_result_free(&r);
    }
    if (run_invariant("label2rgb", &l, &g, "bg_color=none", 2, &r)) {
        const double *o = r.image.data;
        CHECK(o[0] == 1.0 && o[1] == 1.0 && o[2] == 1.0); /* background shows the image */
        tp_result_free(&r);
    }
    return 0;
}

static int test_label2rgb_rgb_threads(void)
{
    int64_t shape[2] = {67, 45}, cshape[3] = {67, 45, 3}, fshape[3] = {3, 67, 45};
    tp_image lab = tp_image_empty(), rgb = tp_image_empty(), planar = tp_image_empty();
    CHECK_OK(tp_image_alloc(tp_test_ctx, &lab, TP_INT16, 2, shape, -1, TP_HOST));
    CHECK_OK(tp_image_alloc(tp_test_ctx, &rgb, TP_FLOAT32, 3, cshape, 2, TP_HOST));
    CHECK_OK(tp_image_alloc(tp_test_ctx, &planar, TP_FLOAT32, 3, fshape, 0, TP_HOST));
    for (int64_t i = 0; i < 67 * 45; i++) {
        ((int16_t *)lab.data)[i] = (int16_t)(tp_test_rand(&rng_state) % 14) - 2;
        for (int c = 0; c < 3; c++) {
            float v = (float)urand();
            ((float *)rgb.data)[3 * i + c] = v;
            ((float *)planar.data)[c * 67 * 45 + i] = v;
        }
    }
    tp_result a, b;
    if (run_invariant("label2rgb", &lab, &rgb, "saturation=0.4|alpha=0.6|bg_label=-2|image_alpha=0.9", 2, &a)) {
        /* the channel axis may sit first: same result */
        if (run_invariant("label2rgb", &lab, &planar, "saturation=0.4|alpha=0.6|bg_label=-2|image_alpha=0.9", 3, &b)) {
            CHECK(same_image(&a.image, &b.image));
            tp_result_free(&b);
        }
        tp_result_free(&a);
    }
    tp_image_free(&lab);
    tp_image_free(&rgb);
    tp_image_free(&planar);
    return 0;
}

static int test_label2rgb_errors(void)
{
    int64_t shape[2] = {4, 4}, cshape[3] = {4, 4, 4};
    tp_image lab = random_mask(2, shape, 0.5), im = tp_image_empty();
    CHECK_OK(tp_image_alloc(tp_test_ctx, &im, TP_UINT8, 3, cshape, 2, TP_HOST));
    memset(im.data, 0, 64);
    tp_result r;
    CHECK(run_op("label2rgb", &lab, &im, "", 1, &r) == TP_ERR_SHAPE);
    CHECK(strstr(tp_last_error(tp_test_ctx), "3 channels") != NULL);
    CHECK(r.image.data == NULL);
    tp_image_free(&lab);
    tp_image_free(&im);
    return 0;
}

TP_TESTS(T(test_morph_2d_shapes_and_footprints), T(test_morph_3d), T(test_morph_dtypes),
         T(test_morph_footprint_larger_than_image), T(test_morph_thread_invariance_large), T(test_morph_errors),
         T(test_label_random), T(test_label_values), T(test_label_checkerboard), T(test_label_many),
         T(test_label_spiral_and_snake), T(test_label_all_and_nothing), T(test_label_trailing_unit_axis),
         T(test_label_errors), T(test_label2rgb_ranks), T(test_label2rgb_sparse_values),
         T(test_label2rgb_over_image), T(test_label2rgb_rgb_threads), T(test_label2rgb_errors))

/* label and regionprops_table on the CUDA backend against the CPU reference: identical label bytes (the same
 * numbering) and identical tables (every column, every row, bit for bit). Skipped (77) without a device. */
#include "tests/support/tp_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- images ---- */

static tp_image new_image(tp_dtype dt, int ndim, int64_t d0, int64_t d1, int64_t d2)
{
    int64_t shape[3] = {d0, d1, d2};
    tp_image im = tp_image_empty();
    tp_status st = tp_image_alloc(tp_test_ctx, &im, dt, ndim, shape, -1, TP_HOST);
    if (st) {
        fprintf(stderr, "  cannot allocate a test image: %s\n", tp_last_error(tp_test_ctx));
        exit(1);
    }
    memset(im.data, 0, (size_t)tp_image_count(&im) * tp_dtype_size(dt));
    return im;
}

static tp_image new_mask(int64_t h, int64_t w) { return new_image(TP_BOOL, 2, h, w, 1); }

static void put(tp_image *im, int64_t i, int64_t v) { tp_set_f64(im->data, im->dtype, i, (double)v); }

static void random_mask(tp_image *im, double density, uint64_t seed)
{
    uint8_t *d = im->data;
    int64_t n = tp_image_count(im);
    for (int64_t i = 0; i < n; i++)
        d[i] = (double)(tp_test_rand(&seed) >> 11) * 0x1.0p-53 < density;
}

/* ---------------------------------------------------------------- runs ---- */

static tp_status run_on(tp_backend_id be, const char *op, const tp_image *a, const tp_image *b, const char *k1,
                        const char *v1, const char *k2, const char *v2, tp_result *out)
{
    tp_params *p = NULL;
    tp_status st = tp_params_create(&p);
    if (!st && k1)
        st = tp_params_set(p, k1, v1);
    if (!st && k2)
        st = tp_params_set(p, k2, v2);
    const tp_image *in[2] = {a, b};
    if (!st)
        st = tp_run_on(tp_test_ctx, be, op, in, b ? 2 : 1, p, out);
    tp_params_destroy(p);
    return st;
}

static const char *elem_str(const tp_image *im, int64_t i, char *buf, size_t n)
{
    snprintf(buf, n, "%.17g", tp_get_f64(im->data, im->dtype, i));
    return buf;
}

/* CPU and CUDA label outputs must be the same bytes. Returns the number of labels (max), -1 on failure. */
static int64_t label_both(const char *what, const tp_image *im, const char *conn, const char *bg)
{
    tp_result rc = tp_result_empty(), rg = tp_result_empty();
    int64_t nlab = -1;
    tp_status sc = run_on(TP_BACKEND_CPU, "label", im, NULL, conn ? "connectivity" : NULL, conn,
                          bg ? "background" : NULL, bg, &rc);
    CHECK_MSG(sc == TP_OK, "%s: cpu: %s", what, tp_last_error(tp_test_ctx));
    tp_status sg = run_on(TP_BACKEND_CUDA, "label", im, NULL, conn ? "connectivity" : NULL, conn,
                          bg ? "background" : NULL, bg, &rg);
    CHECK_MSG(sg == TP_OK, "%s: cuda: %s", what, tp_last_error(tp_test_ctx));
    if (!sc && !sg) {
        const tp_image *a = &rc.image, *b = &rg.image;
        CHECK_MSG(b->location == TP_HOST, "%s: a host input gives a host output", what);
        CHECK_MSG(a->dtype == b->dtype && a->ndim == b->ndim, "%s: cpu %s/%dD vs cuda %s/%dD", what,
                  tp_dtype_name(a->dtype), a->ndim, tp_dtype_name(b->dtype), b->ndim);
        int64_t n = tp_image_count(a);
        if (a->dtype == b->dtype && tp_image_count(b) == n) {
            size_t es = tp_dtype_size(a->dtype);
            if (memcmp(a->data, b->data, (size_t)n * es) != 0) {
                int64_t i = 0;
                while (i < n && memcmp((char *)a->data + i * es, (char *)b->data + i * es, es) == 0)
                    i++;
                char x[40], y[40];
                CHECK_MSG(0, "%s: first difference at pixel %lld: cpu %s, cuda %s", what, (long long)i,
                          elem_str(a, i, x, sizeof x), elem_str(b, i, y, sizeof y));
            }
            nlab = 0;
            for (int64_t i = 0; i < n; i++) {
                int64_t v = (int64_t)tp_get_f64(a->data, a->dtype, i);
                nlab = v > nlab ? v : nlab;
            }
        }
    }
    tp_result_free(&rc);
    tp_result_free(&rg);
    return nlab;
}

/* ---------------------------------------------------------------- label ---- */

static int test_label_random_masks(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    static const double dens[] = {0.02, 0.2, 0.45, 0.5, 0.59, 0.7, 0.95};
    for (int k = 0; k < 7; k++) {
        tp_image m = new_mask(509, 631);
        random_mask(&m, dens[k], 100 + (uint64_t)k);
        char what[64];
        snprintf(what, sizeof what, "random density %.2f conn 1", dens[k]);
        label_both(what, &m, "1", NULL);
        snprintf(what, sizeof what, "random density %.2f conn 2", dens[k]);
        label_both(what, &m, NULL, NULL);
        snprintf(what, sizeof what, "random density %.2f background 1", dens[k]);
        label_both(what, &m, "2", "1");
        tp_image_free(&m);
    }
    return 0;
}

static int test_label_checkerboard(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    const int64_t h = 97, w = 130;
    tp_image m = new_mask(h, w);
    uint8_t *d = m.data;
    int64_t fg = 0;
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++)
            fg += d[y * w + x] = (uint8_t)((x + y) % 2 == 0);
    /* with 4-neighbours every square is alone; with 8 they form one diagonal lattice */
    CHECK(label_both("checkerboard conn 1", &m, "1", NULL) == fg);
    CHECK(label_both("checkerboard conn 2", &m, "2", NULL) == 1);
    CHECK(label_both("checkerboard background 1 conn 2", &m, "2", "1") == 1);
    tp_image_free(&m);
    return 0;
}

/* A square spiral of width 1 with gaps of 1: one component winding through many tiles, inward. */
static void spiral(tp_image *m, int64_t h, int64_t w)
{
    uint8_t *d = m->data;
    int64_t top = 0, left = 0, bottom = h - 1, right = w - 1;
    while (top <= bottom && left <= right) {
        for (int64_t x = left; x <= right; x++)
            d[top * w + x] = 1;
        for (int64_t y = top; y <= bottom; y++)
            d[y * w + right] = 1;
        if (bottom - top >= 2)
            for (int64_t x = left; x <= right; x++)
                d[bottom * w + x] = 1;
        if (right - left >= 2)
            for (int64_t y = top + 2; y <= bottom; y++)
                d[y * w + left] = 1;
        top += 2;
        left += 2;
        bottom -= 2;
        right -= 2;
        if (top <= bottom && left <= right)
            d[top * w + left - 1] = 1; /* step inward, joining the next turn */
        else
            break;
    }
}

static int test_label_spiral_and_snake(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    tp_image m = new_mask(301, 257);
    spiral(&m, 301, 257);
    label_both("spiral conn 1", &m, "1", NULL);
    label_both("spiral conn 2", &m, "2", NULL);
    label_both("spiral background 1", &m, "1", "1");
    tp_image_free(&m);

    /* a boustrophedon snake: rows joined alternately at the right and the left end -> one component */
    const int64_t h = 517, w = 389;
    tp_image s = new_mask(h, w);
    uint8_t *d = s.data;
    for (int64_t y = 0; y < h; y += 2) {
        for (int64_t x = 0; x < w; x++)
            d[y * w + x] = 1;
        if (y + 1 < h)
            d[(y + 1) * w + ((y / 2) % 2 ? 0 : w - 1)] = 1;
    }
    CHECK(label_both("snake conn 1", &s, "1", NULL) == 1);
    CHECK(label_both("snake conn 2", &s, "2", NULL) == 1);
    /* the same snake with background = 1: the gaps between rows form many components */
    label_both("snake background 1 conn 1", &s, "1", "1");
    tp_image_free(&s);

    /* a vertical snake of width 1 (columns joined alternately at the bottom and top) */
    tp_image v = new_mask(263, 1031);
    d = v.data;
    for (int64_t x = 0; x < 1031; x += 2) {
        for (int64_t y = 0; y < 263; y++)
            d[y * 1031 + x] = 1;
        if (x + 1 < 1031)
            d[((x / 2) % 2 ? 0 : 262) * 1031 + x + 1] = 1;
    }
    CHECK(label_both("vertical snake", &v, "1", NULL) == 1);
    tp_image_free(&v);
    return 0;
}

static int test_label_many_labels(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    /* isolated pixels on a grid of pitch 2: 300 x 301 = 90300 labels, numbered in raster order */
    tp_image m = new_mask(600, 602);
    uint8_t *d = m.data;
    for (int64_t y = 0; y < 600; y += 2)
        for (int64_t x = 0; x < 602; x += 2)
            d[y * 602 + x] = 1;
    CHECK(label_both("grid of isolated pixels", &m, "2", NULL) == 90300);
    /* every pixel its own label: an int32 image of distinct values */
    tp_image u = new_image(TP_INT32, 2, 300, 301, 1);
    for (int64_t i = 0; i < 300 * 301; i++)
        put(&u, i, (i * 7919) % 1000003 + 1);
    CHECK(label_both("distinct values", &u, NULL, NULL) == 300 * 301);
    tp_image_free(&u);
    tp_image_free(&m);
    return 0;
}

static int test_label_edge_cases(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    tp_image z = new_mask(123, 77);
    CHECK(label_both("all background", &z, NULL, NULL) == 0);
    CHECK(label_both("all background, background 1", &z, NULL, "1") == 1);
    memset(z.data, 1, 123 * 77);
    CHECK(label_both("all foreground", &z, "1", NULL) == 1);
    tp_image_free(&z);

    /* a frame touching every border plus a blob in the middle */
    tp_image f = new_mask(70, 90);
    uint8_t *d = f.data;
    for (int64_t y = 0; y < 70; y++)
        for (int64_t x = 0; x < 90; x++)
            d[y * 90 + x] = y == 0 || x == 0 || y == 69 || x == 89 || (y > 30 && y < 40 && x > 40 && x < 44);
    CHECK(label_both("frame", &f, "1", NULL) == 2);
    CHECK(label_both("frame, background 1", &f, "1", "1") == 1); /* the zeros inside the frame */
    tp_image_free(&f);

    static const int64_t shapes[][2] = {{1, 1}, {1, 1000}, {1000, 1}, {1, 33}, {33, 1}, {31, 33}, {32, 32},
                                        {33, 31}, {127, 131}, {997, 3}, {3, 997}, {64, 96}};
    for (int k = 0; k < (int)(sizeof shapes / sizeof shapes[0]); k++) {
        tp_image m = new_mask(shapes[k][0], shapes[k][1]);
        random_mask(&m, 0.55, 7 + (uint64_t)k);
        char what[64];
        snprintf(what, sizeof what, "%lldx%lld conn 1", (long long)shapes[k][0], (long long)shapes[k][1]);
        label_both(what, &m, "1", NULL);
        snprintf(what, sizeof what, "%lldx%lld conn 2", (long long)shapes[k][0], (long long)shapes[k][1]);
        label_both(what, &m, "2", NULL);
        tp_image_free(&m);
    }
    /* bool bytes other than 1 are True; a background other than 0 or 1 means 0 for bool images */
    tp_image odd = new_mask(61, 67);
    random_mask(&odd, 0.5, 71);
    for (int64_t i = 0; i < 61 * 67; i += 3)
        if (((uint8_t *)odd.data)[i])
            ((uint8_t *)odd.data)[i] = (uint8_t)(2 + i % 200);
    label_both("bool bytes 2..201", &odd, "1", NULL);
    label_both("bool, background 5", &odd, "2", "5");
    label_both("bool, background 1", &odd, "2", "1");
    tp_image_free(&odd);

    tp_image one = new_mask(1, 1);
    ((uint8_t *)one.data)[0] = 1;
    CHECK(label_both("1x1 foreground", &one, NULL, NULL) == 1);
    tp_image_free(&one);
    return 0;
}

/* Label images: touching regions join only where their values are equal; every dtype; background values. */
static int test_label_int_images(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    static const tp_dtype dts[] = {TP_UINT8, TP_INT8, TP_UINT16, TP_INT16, TP_UINT32, TP_INT32, TP_INT64};
    for (int k = 0; k < 7; k++) {
        const int64_t h = 211, w = 173;
        tp_image im = new_image(dts[k], 2, h, w, 1);
        uint64_t seed = 55 + (uint64_t)k;
        /* blocks of random small values (some equal neighbours, some touching different values) */
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++) {
                uint64_t cell = (uint64_t)((y / 5) * 1000 + (x / 7));
                uint64_t s2 = cell * 0x9E3779B97F4A7C15ull + seed;
                int64_t v = (int64_t)(tp_test_rand(&s2) % 4);
                if (tp_dtype_is_signed(dts[k]) && v == 3)
                    v = -1;
                if (dts[k] == TP_INT64 && v == 2)
                    v = INT64_C(5000000000);
                if (dts[k] == TP_UINT32 && v == 2)
                    v = INT64_C(4000000000);
                if (((uint64_t)(y * 31 + x * 17) ^ seed) % 11 == 0)
                    v = 1; /* speckles */
                put(&im, y * w + x, v);
            }
        char what[64];
        snprintf(what, sizeof what, "%s values conn 1", tp_dtype_name(dts[k]));
        label_both(what, &im, "1", NULL);
        snprintf(what, sizeof what, "%s values conn 2", tp_dtype_name(dts[k]));
        label_both(what, &im, "2", NULL);
        snprintf(what, sizeof what, "%s values background 1", tp_dtype_name(dts[k]));
        label_both(what, &im, "2", "1");
        if (tp_dtype_is_signed(dts[k])) {
            snprintf(what, sizeof what, "%s values background -1", tp_dtype_name(dts[k]));
            label_both(what, &im, "1", "-1");
        }
        tp_image_free(&im);
    }
    /* two touching squares of different values: two components, not one */
    tp_image two = new_image(TP_UINT8, 2, 10, 10, 1);
    for (int64_t y = 2; y < 8; y++)
        for (int64_t x = 2; x < 8; x++)
            put(&two, y * 10 + x, x < 5 ? 3 : 4);
    CHECK(label_both("touching squares", &two, NULL, NULL) == 2);
    tp_image_free(&two);
    return 0;
}

static int test_label_3d(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    static const int64_t shapes[][3] = {{37, 41, 43}, {1, 50, 60}, {50, 1, 60}, {50, 60, 1}, {9, 17, 33}, {4, 8, 32}};
    for (int k = 0; k < 6; k++) {
        tp_image m = new_image(TP_BOOL, 3, shapes[k][0], shapes[k][1], shapes[k][2]);
        random_mask(&m, k % 2 ? 0.3 : 0.25, 900 + (uint64_t)k);
        for (int conn = 1; conn <= 3; conn++) {
            char what[80], cs[4];
            snprintf(cs, sizeof cs, "%d", conn);
            snprintf(what, sizeof what, "3D %lldx%lldx%lld conn %d", (long long)shapes[k][0],
                     (long long)shapes[k][1], (long long)shapes[k][2], conn);
            label_both(what, &m, cs, NULL);
        }
        tp_image_free(&m);
    }
    /* (A, B, 1) integer images: scikit-image numbers them in the transposed plane's order */
    tp_image tr = new_image(TP_UINT16, 3, 37, 29, 1);
    uint64_t ts = 5;
    for (int64_t i = 0; i < 37 * 29; i++)
        put(&tr, i, (int64_t)(tp_test_rand(&ts) % 3));
    label_both("(37, 29, 1) uint16 conn 1", &tr, "1", NULL);
    label_both("(37, 29, 1) uint16 conn 3", &tr, "3", NULL);
    tp_image_free(&tr);
    /* a 3D label image of equal-valued touching blocks */
    tp_image im = new_image(TP_INT16, 3, 20, 24, 40);
    for (int64_t i = 0; i < 20 * 24 * 40; i++) {
        int64_t z = i / (24 * 40), y = (i / 40) % 24, x = i % 40;
        put(&im, i, (z / 3 + y / 5 + x / 7) % 3);
    }
    label_both("3D int16 blocks conn 1", &im, "1", NULL);
    label_both("3D int16 blocks conn 3", &im, "3", NULL);
    tp_image_free(&im);
    /* a 3D checkerboard: 6-connectivity isolates, 18 joins */
    tp_image cb = new_image(TP_BOOL, 3, 11, 13, 35);
    int64_t fg = 0;
    for (int64_t i = 0; i < 11 * 13 * 35; i++) {
        int64_t z = i / (13 * 35), y = (i / 35) % 13, x = i % 35;
        fg += ((uint8_t *)cb.data)[i] = (uint8_t)((x + y + z) % 2 == 0);
    }
    CHECK(label_both("3D checkerboard conn 1", &cb, "1", NULL) == fg);
    CHECK(label_both("3D checkerboard conn 2", &cb, "2", NULL) == 1);
    tp_image_free(&cb);
    return 0;
}

static int test_label_large_and_device_resident(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    const int64_t n = tp_test_small() ? 512 : 4096; /* many tiles either way */
    tp_image m = new_mask(n, n);
    random_mask(&m, 0.5, 4096);
    label_both("n^2 density 0.5 conn 2", &m, NULL, NULL);
    label_both("n^2 density 0.5 conn 1", &m, "1", NULL);
    /* device in, device out */
    tp_image dev = tp_image_empty();
    CHECK_OK(tp_image_copy(tp_test_ctx, &m, &dev, TP_DEVICE));
    tp_result rg = tp_result_empty(), rc = tp_result_empty();
    CHECK_OK(run_on(TP_BACKEND_CUDA, "label", &dev, NULL, NULL, NULL, NULL, NULL, &rg));
    CHECK_OK(run_on(TP_BACKEND_CPU, "label", &m, NULL, NULL, NULL, NULL, NULL, &rc));
    CHECK(rg.image.location == TP_DEVICE);
    tp_image back = tp_image_empty();
    if (rg.image.data) {
        CHECK_OK(tp_image_copy(tp_test_ctx, &rg.image, &back, TP_HOST));
        CHECK(back.data && rc.image.data &&
              memcmp(back.data, rc.image.data, (size_t)tp_image_count(&m) * tp_dtype_size(rc.image.dtype)) == 0);
    }
    tp_image_free(&back);
    tp_result_free(&rg);
    tp_result_free(&rc);
    tp_image_free(&dev);
    tp_image_free(&m);
    return 0;
}

/* ---------------------------------------------------------------- regionprops ---- */

#define PROPS_2D                                                                                                   \
    "label,area,area_bbox,area_convex,area_filled,bbox,centroid,centroid_local,eccentricity,"                      \
    "equivalent_diameter_area,euler_number,extent,feret_diameter_max,major_axis_length,minor_axis_length,"        \
    "orientation,perimeter,solidity,moments_hu,convex_area,filled_area,bbox_area,equivalent_diameter"
#define PROPS_INTENSITY                                                                                            \
    "intensity_max,intensity_mean,intensity_min,intensity_std,centroid_weighted,mean_intensity,max_intensity,"     \
    "min_intensity,weighted_centroid"
#define PROPS_3D                                                                                                   \
    "label,area,area_bbox,area_convex,area_filled,bbox,centroid,centroid_local,equivalent_diameter_area,"         \
    "euler_number,extent,major_axis_length,minor_axis_length,solidity"

/* CPU and CUDA tables must be identical: the same columns (names, dtypes, order) and the same bytes. */
static int64_t props_both(const char *what, const tp_image *lab, const tp_image *inten, const char *props)
{
    tp_result rc = tp_result_empty(), rg = tp_result_empty();
    int64_t rows = -1;
    tp_status sc = run_on(TP_BACKEND_CPU, "regionprops_table", lab, inten, "properties", props, NULL, NULL, &rc);
    CHECK_MSG(sc == TP_OK, "%s: cpu: %s", what, tp_last_error(tp_test_ctx));
    tp_status sg = run_on(TP_BACKEND_CUDA, "regionprops_table", lab, inten, "properties", props, NULL, NULL, &rg);
    CHECK_MSG(sg == TP_OK, "%s: cuda: %s", what, tp_last_error(tp_test_ctx));
    if (!sc && !sg) {
        const tp_table *a = &rc.table, *b = &rg.table;
        CHECK_MSG(a->ncols == b->ncols && a->nrows == b->nrows, "%s: cpu %d cols x %lld rows, cuda %d x %lld", what,
                  a->ncols, (long long)a->nrows, b->ncols, (long long)b->nrows);
        for (int j = 0; j < a->ncols && j < b->ncols && a->nrows == b->nrows; j++) {
            const tp_column *x = &a->cols[j], *y = &b->cols[j];
            CHECK_MSG(strcmp(x->name, y->name) == 0 && x->dtype == y->dtype, "%s: column %d: cpu %s (%s), cuda %s (%s)",
                      what, j, x->name, tp_dtype_name(x->dtype), y->name, tp_dtype_name(y->dtype));
            size_t es = tp_dtype_size(x->dtype);
            for (int64_t r = 0; r < a->nrows && x->dtype == y->dtype; r++) {
                if (memcmp((char *)x->data + r * es, (char *)y->data + r * es, es) == 0)
                    continue;
                uint64_t bx = 0, by = 0;
                memcpy(&bx, (char *)x->data + r * es, es);
                memcpy(&by, (char *)y->data + r * es, es);
                CHECK_MSG(0, "%s: column %s, row %lld (label %.0f): cpu %.17g (%016llx), cuda %.17g (%016llx)", what,
                          x->name, (long long)r, tp_table_find(a, "label") ? tp_get_f64(tp_table_find(a, "label")->data, TP_INT64, r) : -1.0,
                          tp_table_get(a, j, r), (unsigned long long)bx, tp_table_get(b, j, r), (unsigned long long)by);
                break;
            }
        }
        rows = a->nrows;
    }
    tp_result_free(&rc);
    tp_result_free(&rg);
    return rows;
}

/* Both backends refuse the same request with the same status and message. */
static void props_refused(const char *what, const tp_image *lab, const tp_image *inten, const char *props)
{
    tp_result r = tp_result_empty();
    tp_status sc = run_on(TP_BACKEND_CPU, "regionprops_table", lab, inten, "properties", props, NULL, NULL, &r);
    char cmsg[TP_ERRMSG_LEN];
    snprintf(cmsg, sizeof cmsg, "%s", tp_last_error(tp_test_ctx));
    tp_result_free(&r);
    tp_status sg = run_on(TP_BACKEND_CUDA, "regionprops_table", lab, inten, "properties", props, NULL, NULL, &r);
    tp_result_free(&r);
    CHECK_MSG(sc != TP_OK && sc == sg && strcmp(cmsg, tp_last_error(tp_test_ctx)) == 0,
              "%s: cpu %s '%s', cuda %s '%s'", what, tp_status_str(sc), cmsg, tp_status_str(sg),
              tp_last_error(tp_test_ctx));
}

/* Ellipses, rings (holes: area_filled, euler), thin diagonals, blobs cut by the border, in a label image
 * whose labels are spread out (label = base + k * step). Later shapes overwrite earlier ones. */
static void draw_regions(tp_image *lab, int nshapes, int64_t base, int64_t step, uint64_t seed)
{
    const int64_t h = lab->shape[0], w = lab->shape[1];
    for (int k = 0; k < nshapes; k++) {
        uint64_t r = tp_test_rand(&seed);
        int64_t cy = (int64_t)(r % (uint64_t)h), cx = (int64_t)((r >> 20) % (uint64_t)w);
        int64_t ry = 1 + (int64_t)((r >> 40) % 14), rx = 1 + (int64_t)((r >> 48) % 14);
        int kind = (int)((r >> 58) % 4);
        int64_t value = base + (int64_t)k * step;
        for (int64_t y = cy - ry; y <= cy + ry; y++)
            for (int64_t x = cx - rx; x <= cx + rx; x++) {
                if (y < 0 || x < 0 || y >= h || x >= w)
                    continue;
                double u = (double)(y - cy) / (double)ry, v = (double)(x - cx) / (double)rx, q = u * u + v * v;
                bool in = kind == 0 ? q <= 1.0
                          : kind == 1 ? (q <= 1.0 && q >= 0.3)
                          : kind == 2 ? (y - cy == x - cx || y - cy == x - cx + 1)
                                      : (q <= 1.0 && ((y + x) % 7 != 0));
                if (in)
                    put(lab, y * w + x, value);
            }
    }
}

static tp_image intensity_like(const tp_image *lab, tp_dtype dt, uint64_t seed)
{
    tp_image im = new_image(dt, lab->ndim, lab->shape[0], lab->shape[1], lab->ndim == 3 ? lab->shape[2] : 1);
    int64_t n = tp_image_count(&im);
    for (int64_t i = 0; i < n; i++) {
        uint64_t r = tp_test_rand(&seed);
        double v;
        switch (dt) {
        case TP_UINT8: v = (double)(r % 256); break;
        case TP_UINT16: v = (double)(r % 65536); break;
        case TP_INT16: v = (double)(int64_t)(r % 65536) - 32768; break;
        case TP_FLOAT32: v = (double)(float)((double)(r >> 11) * 0x1.0p-53 * 3.7 - 0.6); break;
        default: v = (double)(r >> 11) * 0x1.0p-53 * 1234.5 - 17.25; break;
        }
        tp_set_f64(im.data, dt, i, v);
    }
    return im;
}

static int test_props_2d_every_property(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    static const tp_dtype lab_types[] = {TP_INT32, TP_UINT16, TP_INT64, TP_UINT8};
    static const tp_dtype int_types[] = {TP_UINT8, TP_UINT16, TP_FLOAT32, TP_FLOAT64, TP_INT16};
    for (int li = 0; li < 4; li++) {
        tp_image lab = new_image(lab_types[li], 2, 257, 311, 1);
        draw_regions(&lab, lab_types[li] == TP_UINT8 ? 200 : 300, 1, lab_types[li] == TP_INT64 ? 1000003 : 1,
                     77 + (uint64_t)li);
        char what[96];
        snprintf(what, sizeof what, "2D %s labels, shape properties", tp_dtype_name(lab_types[li]));
        CHECK(props_both(what, &lab, NULL, PROPS_2D) > 50);
        for (int ii = 0; ii < 5; ii++) {
            tp_image in = intensity_like(&lab, int_types[ii], 5 + (uint64_t)ii);
            snprintf(what, sizeof what, "2D %s labels, %s intensity", tp_dtype_name(lab_types[li]),
                     tp_dtype_name(int_types[ii]));
            props_both(what, &lab, &in, PROPS_2D "," PROPS_INTENSITY);
            tp_image_free(&in);
        }
        tp_image_free(&lab);
    }
    return 0;
}

static int test_props_sparse_and_single_pixels(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    /* labels 10^12 apart: the sort path; negative labels are background */
    tp_image lab = new_image(TP_INT64, 2, 200, 230, 1);
    draw_regions(&lab, 120, INT64_C(5000000000000), INT64_C(1000000000000) / 7, 3);
    for (int64_t i = 0; i < 200 * 230; i += 97)
        put(&lab, i, -5);
    tp_image in = intensity_like(&lab, TP_FLOAT64, 8);
    CHECK(props_both("sparse int64 labels", &lab, &in, PROPS_2D "," PROPS_INTENSITY) > 50);
    tp_image_free(&in);
    tp_image_free(&lab);

    /* isolated single pixels: area 1, area_convex 1, perimeter 0 */
    tp_image px = new_image(TP_INT32, 2, 64, 80, 1);
    int32_t *d = px.data;
    int32_t next = 1;
    for (int64_t y = 1; y < 64; y += 3)
        for (int64_t x = 0; x < 80; x += 2)
            d[y * 80 + x] = next++;
    tp_image pin = intensity_like(&px, TP_UINT8, 9);
    CHECK(props_both("single pixels", &px, &pin, PROPS_2D "," PROPS_INTENSITY) == next - 1);
    tp_image_free(&pin);
    tp_image_free(&px);

    /* bool label image (one label), all background, one region covering everything */
    tp_image m = new_mask(90, 70);
    random_mask(&m, 0.6, 12);
    CHECK(props_both("bool labels", &m, NULL, PROPS_2D) == 1);
    memset(m.data, 0, 90 * 70);
    CHECK(props_both("no regions", &m, NULL, PROPS_2D) == 0);
    memset(m.data, 1, 90 * 70);
    tp_image fin = intensity_like(&m, TP_FLOAT32, 13);
    CHECK(props_both("one full region", &m, &fin, PROPS_2D "," PROPS_INTENSITY) == 1);
    tp_image_free(&fin);
    tp_image_free(&m);
    return 0;
}

/* Values that test the order of float operations: NaN, -0.0 and +0.0 together, regions over 8192 pixels
 * (numpy's chunked pairwise sums), regions wider than the image's tiles. */
static int test_props_float_corners(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    tp_image lab = new_image(TP_INT32, 2, 300, 280, 1);
    for (int64_t y = 0; y < 300; y++)
        for (int64_t x = 0; x < 280; x++)
            put(&lab, y * 280 + x, y < 150 ? 1 + (x >= 140) : 3 + (x / 70)); /* areas 21000 and 10500 */
    static const tp_dtype fts[] = {TP_FLOAT32, TP_FLOAT64};
    for (int k = 0; k < 2; k++) {
        tp_image in = intensity_like(&lab, fts[k], 21 + (uint64_t)k);
        CHECK(props_both(k ? "large regions float64" : "large regions float32", &lab, &in,
                         PROPS_2D "," PROPS_INTENSITY) == 6);
        /* zeros of both signs: min/max keep the first one met in raster order */
        for (int64_t i = 0; i < 300 * 280; i += 3)
            tp_set_f64(in.data, fts[k], i, (i / 3) % 2 ? -0.0 : 0.0);
        props_both("signed zeros", &lab, &in, "label,intensity_min,intensity_max,intensity_mean,intensity_std");
        tp_set_f64(in.data, fts[k], 150 * 280 + 5, NAN);
        props_both("a NaN", &lab, &in, "label,intensity_min,intensity_max,intensity_mean,centroid_weighted");
        tp_image_free(&in);
    }
    tp_image_free(&lab);
    return 0;
}

static int test_props_2000_regions(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    const int small = tp_test_small(); /* 512^2 with ~140 regions under the sanitizer */
    const int64_t n = small ? 512 : 2048;
    tp_image lab = new_image(TP_INT32, 2, n, n, 1);
    draw_regions(&lab, small ? 140 : 2200, 1, 1, 2048);
    tp_image in = intensity_like(&lab, TP_UINT8, 2049);
    CHECK(props_both("n^2 regions, the pipeline's properties", &lab, &in,
                     "label,area,mean_intensity,solidity,bbox,centroid") > (small ? 90 : 1500));
    /* device-resident inputs give the same host table */
    tp_image dlab = tp_image_empty(), din = tp_image_empty();
    CHECK_OK(tp_image_copy(tp_test_ctx, &lab, &dlab, TP_DEVICE));
    CHECK_OK(tp_image_copy(tp_test_ctx, &in, &din, TP_DEVICE));
    tp_result rc = tp_result_empty(), rg = tp_result_empty();
    const char *pl = "label,area,mean_intensity,solidity,bbox,centroid";
    CHECK_OK(run_on(TP_BACKEND_CPU, "regionprops_table", &lab, &in, "properties", pl, NULL, NULL, &rc));
    CHECK_OK(run_on(TP_BACKEND_CUDA, "regionprops_table", &dlab, &din, "properties", pl, NULL, NULL, &rg));
    CHECK(rc.table.ncols == rg.table.ncols && rc.table.nrows == rg.table.nrows);
    for (int j = 0; j < rc.table.ncols && j < rg.table.ncols && rc.table.nrows == rg.table.nrows; j++)
        CHECK_MSG(memcmp(rc.table.cols[j].data, rg.table.cols[j].data, (size_t)rc.table.nrows * 8) == 0,
                  "device-resident inputs: column %s differs", rc.table.cols[j].name);
    tp_result_free(&rc);
    tp_result_free(&rg);
    tp_image_free(&dlab);
    tp_image_free(&din);
    tp_image fin = intensity_like(&lab, TP_FLOAT32, 2050);
    props_both("n^2 regions, every property", &lab, &fin, PROPS_2D "," PROPS_INTENSITY);
    tp_image_free(&fin);
    tp_image_free(&in);
    tp_image_free(&lab);
    return 0;
}

/* The 2D hull's three routes in one call (gpu/regionprops_hull.cu): small regions several to a block,
 * taller ones one to a block in shared memory, and one too tall for shared memory (its work in global
 * scratch, 128-bit arithmetic); with feret, whose candidates follow the same routes. */
static int test_props_2d_hull_routes(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    const int64_t h = 1400, w = 300;
    tp_image lab = new_image(TP_INT32, 2, h, w, 1);
    for (int64_t y = 20; y < 1320; y++) /* 1300 rows: global scratch; a slanted, bulging band */
        for (int64_t x = 10 + y / 40; x < 10 + y / 40 + 3 + (y % 97) / 9; x++)
            put(&lab, y * w + x, 1);
    for (int64_t y = 100; y < 260; y++) /* 160 rows: shared memory, one per block; a triangle */
        for (int64_t x = 80; x < 80 + (y - 100) / 2 + 1; x++)
            put(&lab, y * w + x, 2);
    for (int64_t y = 300; y < 1390; y += 13) /* small discs and bars */
        for (int64_t c = 140; c + 12 < w; c += 15) {
            const int32_t v = (int32_t)(3 + (y / 13) * 20 + (c - 140) / 15);
            for (int64_t dy = 0; dy < 11; dy++)
                for (int64_t dx = 0; dx < 12; dx++)
                    if ((dy - 5) * (dy - 5) + (dx - 6) * (dx - 6) <= 30 || (v % 3 == 0 && dy == 5))
                        put(&lab, (y + dy) * w + c + dx, v);
        }
    tp_image in = intensity_like(&lab, TP_UINT8, 31);
    CHECK(props_both("2D hull routes", &lab, &in,
                     "label,area,area_convex,solidity,feret_diameter_max,mean_intensity") > 500);
    tp_image_free(&in);
    tp_image_free(&lab);
    /* narrow and just-wider-than-a-warp rows: runs that end a row and start the next in one warp */
    static const int64_t widths[] = {1, 7, 31, 32, 33, 65};
    for (int k = 0; k < 6; k++) {
        tp_image nl = new_image(TP_INT32, 2, 37, widths[k], 1);
        uint64_t seed = 400 + (uint64_t)k;
        for (int64_t i = 0; i < 37 * widths[k]; i++) /* runs of 1-3 equal labels, background between */
            put(&nl, i, (int64_t)(tp_test_rand(&seed) % 5 < 2 ? 0 : 1 + (i / 3) % 9));
        char what[64];
        snprintf(what, sizeof what, "runs across rows, width %lld", (long long)widths[k]);
        CHECK(props_both(what, &nl, NULL, "label,area,bbox,centroid,area_convex,solidity") > 0);
        tp_image_free(&nl);
    }
    return 0;
}

/* A 3D label image: balls, hollow balls and boxes (radius >= 2, so none is flat) in cells of a grid, or
 * overlapping anywhere (then some may be flat or cut). */
static void draw_3d(tp_image *lab, int n, bool grid, uint64_t seed)
{
    const int64_t dz = lab->shape[0], h = lab->shape[1], w = lab->shape[2];
    for (int k = 1; k <= n; k++) {
        uint64_t r = tp_test_rand(&seed);
        int64_t rad = 2 + (int64_t)((r >> 48) % 4), cz, cy, cx;
        if (grid) {
            int64_t cells_y = h / 12, cells_x = w / 12, c = k - 1;
            cz = 6 + 12 * (c / (cells_y * cells_x));
            cy = 6 + 12 * ((c / cells_x) % cells_y);
            cx = 6 + 12 * (c % cells_x);
            if (cz + 5 >= dz)
                return;
        } else {
            cz = (int64_t)(r % (uint64_t)dz);
            cy = (int64_t)((r >> 16) % (uint64_t)h);
            cx = (int64_t)((r >> 32) % (uint64_t)w);
        }
        int kind = (int)((r >> 60) % 3);
        for (int64_t z = cz - rad; z <= cz + rad; z++)
            for (int64_t y = cy - rad; y <= cy + rad; y++)
                for (int64_t x = cx - rad; x <= cx + rad; x++) {
                    if (z < 0 || y < 0 || x < 0 || z >= dz || y >= h || x >= w)
                        continue;
                    int64_t q = (z - cz) * (z - cz) + (y - cy) * (y - cy) + (x - cx) * (x - cx);
                    bool in = kind == 0 ? q <= rad * rad : kind == 1 ? (q <= rad * rad && q * 4 >= rad * rad) : true;
                    if (in)
                        put(lab, (z * h + y) * w + x, k);
                }
    }
}

static int test_props_3d(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    /* overlapping shapes: every 3D property but feret_diameter_max (a flat one would make both refuse) */
    tp_image lab = new_image(TP_INT32, 3, 24, 40, 44);
    draw_3d(&lab, 40, false, 31);
    CHECK(props_both("3D shapes", &lab, NULL, PROPS_3D) > 10);
    static const tp_dtype its[] = {TP_UINT16, TP_FLOAT32, TP_FLOAT64};
    for (int k = 0; k < 3; k++) {
        tp_image in = intensity_like(&lab, its[k], 40 + (uint64_t)k);
        char what[64];
        snprintf(what, sizeof what, "3D shapes, %s intensity", tp_dtype_name(its[k]));
        props_both(what, &lab, &in, PROPS_3D "," PROPS_INTENSITY);
        tp_image_free(&in);
    }
    props_refused("3D perimeter", &lab, NULL, "label,perimeter");
    props_refused("3D moments_hu", &lab, NULL, "area,moments_hu");
    props_refused("3D orientation", &lab, NULL, "orientation");
    props_refused("intensity without an image", &lab, NULL, "label,intensity_mean");
    tp_image_free(&lab);

    /* shapes apart from each other: feret_diameter_max too */
    tp_image sep = new_image(TP_UINT16, 3, 36, 48, 60);
    draw_3d(&sep, 60, true, 32);
    CHECK(props_both("3D separate shapes with feret", &sep, NULL, PROPS_3D ",feret_diameter_max") > 20);
    tp_image_free(&sep);

    /* flat regions: area_convex 0 (solidity inf); feret_diameter_max refused, naming the lowest such label */
    tp_image flat = new_image(TP_UINT8, 3, 5, 12, 12);
    for (int64_t y = 2; y < 9; y++)
        for (int64_t x = 1; x < 10; x++)
            put(&flat, (2 * 12 + y) * 12 + x, 7);
    put(&flat, 0, 3);
    CHECK(props_both("3D flat region", &flat, NULL, "label,area,area_convex,solidity,euler_number,area_filled") == 2);
    props_refused("3D flat region's feret", &flat, NULL, "label,feret_diameter_max");
    tp_image_free(&flat);

    /* flat on a slanted plane (2z + 3 = y + x, the device finds it from the runs' ends), the same plane with
     * one voxel off it (not flat), and a single line of voxels along a diagonal (collinear) */
    tp_image slant = new_image(TP_INT32, 3, 6, 20, 20);
    for (int64_t z = 0; z < 6; z++)
        for (int64_t y = 0; y < 20; y++) {
            const int64_t x = 2 * z + 3 - y;
            if (x >= 0 && x < 20) {
                put(&slant, (z * 20 + y) * 20 + x, 4);
                if (x + 10 < 20)
                    put(&slant, (z * 20 + y) * 20 + x + 10, 5);
            }
        }
    put(&slant, (3 * 20 + 0) * 20 + 18, 5); /* off label 5's plane 2z + 13 = y + x */
    for (int64_t k = 0; k < 5; k++)
        put(&slant, (k * 20 + 19 - k) * 20 + 19 - 2 * k, 6);
    CHECK(props_both("3D slanted flat, nearly flat and collinear regions", &slant, NULL,
                     "label,area,area_convex,solidity") == 3);
    tp_result rs = tp_result_empty(); /* and the CPU agrees with the intent: flat, not flat, flat */
    CHECK(run_on(TP_BACKEND_CPU, "regionprops_table", &slant, NULL, "properties", "label,area_convex", NULL, NULL,
                 &rs) == TP_OK);
    const tp_column *conv = tp_table_find(&rs.table, "area_convex");
    CHECK(conv && rs.table.nrows == 3);
    if (conv && rs.table.nrows == 3)
        CHECK(tp_get_f64(conv->data, conv->dtype, 0) == 0 && tp_get_f64(conv->data, conv->dtype, 1) > 0 &&
              tp_get_f64(conv->data, conv->dtype, 2) == 0);
    tp_result_free(&rs);
    tp_image_free(&slant);
    return 0;
}

/* One label made of overlapping balls (an irregular, non-convex region), a hollow ball, and small boxes. */
static void draw_3d_large(tp_image *lab, uint64_t seed)
{
    const int64_t dz = lab->shape[0], h = lab->shape[1], w = lab->shape[2];
    for (int k = 0; k < 24; k++) {
        uint64_t r = tp_test_rand(&seed);
        int64_t rad = 3 + (int64_t)((r >> 48) % 8), cz = (int64_t)(r % (uint64_t)dz),
                cy = (int64_t)((r >> 16) % (uint64_t)(h / 2)), cx = (int64_t)((r >> 32) % (uint64_t)w);
        for (int64_t z = cz - rad; z <= cz + rad; z++)
            for (int64_t y = cy - rad; y <= cy + rad; y++)
                for (int64_t x = cx - rad; x <= cx + rad; x++)
                    if (z >= 0 && y >= 0 && x >= 0 && z < dz && y < h && x < w &&
                        (z - cz) * (z - cz) + (y - cy) * (y - cy) + (x - cx) * (x - cx) <= rad * rad)
                        put(lab, (z * h + y) * w + x, 1);
    }
    const int64_t R = h / 4 - 1, cz = dz / 2, cy = 3 * h / 4, cx = w / 2; /* hollow ball, label 2 */
    for (int64_t z = 0; z < dz; z++)
        for (int64_t y = h / 2; y < h; y++)
            for (int64_t x = 0; x < w; x++) {
                int64_t q = (z - cz) * (z - cz) + (y - cy) * (y - cy) + (x - cx) * (x - cx);
                if (q <= R * R && 4 * q >= R * R)
                    put(lab, (z * h + y) * w + x, 2);
            }
    for (int k = 0; k < 6; k++) /* small boxes in the corners of the lower half */
        for (int64_t z = 1; z < 4; z++)
            for (int64_t y = h / 2 + 1 + 2 * k; y < h / 2 + 3 + 2 * k; y++)
                for (int64_t x = 1; x < 3 + k; x++)
                    put(lab, (z * h + y) * w + x, 3 + k);
}

/* The device runs a region's 3D hull on one block, or, when its box has more than TWINPIX_HULL3_GIANT_LINES
 * (z, y) lines, on the whole device step by step: both paths against the CPU, with feret_diameter_max. */
static int test_props_3d_paths(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    const int64_t n = tp_test_small() ? 40 : 96;
    tp_image lab = new_image(TP_INT32, 3, n, n + 8, n + 4);
    draw_3d_large(&lab, 77);
    /* default; every region giant; none; and each with every hull above 16 points reduced chunk by chunk;
     * the last two with the new faces' planes never kept in the lanes (TWINPIX_HULL3_LANE_FACES=0: every
     * point handed over by assign_point, 32 faces at a time) */
    static const char *routes[] = {NULL, "0", "1000000000"};
    for (int k = 0; k < 8; k++) {
        if (routes[k % 3])
            setenv("TWINPIX_HULL3_GIANT_LINES", routes[k % 3], 1);
        if (k >= 3 && k < 6)
            setenv("TWINPIX_HULL3_REDUCE_MIN", "16", 1);
        if (k >= 6)
            setenv("TWINPIX_HULL3_LANE_FACES", "0", 1);
        char what[96];
        snprintf(what, sizeof what, "3D large regions, giant lines %s%s", routes[k % 3] ? routes[k % 3] : "default",
                 k >= 6 ? ", planes not in lanes" : k >= 3 ? ", reduced" : "");
        CHECK(props_both(what, &lab, NULL, PROPS_3D ",feret_diameter_max") == 8);
        unsetenv("TWINPIX_HULL3_GIANT_LINES");
        unsetenv("TWINPIX_HULL3_REDUCE_MIN");
        unsetenv("TWINPIX_HULL3_LANE_FACES");
    }
    tp_image_free(&lab);

    /* the flat and the separate shapes of test_props_3d, every region the giant way */
    setenv("TWINPIX_HULL3_GIANT_LINES", "0", 1);
    setenv("TWINPIX_HULL3_REDUCE_MIN", "8", 1);
    tp_image sep = new_image(TP_UINT16, 3, 24, 36, 36);
    draw_3d(&sep, 20, true, 33);
    CHECK(props_both("3D separate shapes, giant", &sep, NULL, PROPS_3D ",feret_diameter_max") > 5);
    tp_image_free(&sep);
    tp_image flat = new_image(TP_UINT8, 3, 5, 12, 12);
    for (int64_t y = 2; y < 9; y++)
        for (int64_t x = 1; x < 10; x++)
            put(&flat, (2 * 12 + y) * 12 + x, 7);
    put(&flat, 0, 3);
    CHECK(props_both("3D flat region, giant", &flat, NULL, "label,area,area_convex,solidity") == 2);
    props_refused("3D flat region's feret, giant", &flat, NULL, "label,feret_diameter_max");
    unsetenv("TWINPIX_HULL3_GIANT_LINES");
    unsetenv("TWINPIX_HULL3_REDUCE_MIN");
    tp_image_free(&flat);
    return 0;
}

TP_TESTS(T(test_label_random_masks), T(test_label_checkerboard), T(test_label_spiral_and_snake),
         T(test_label_many_labels), T(test_label_edge_cases), T(test_label_int_images), T(test_label_3d),
         T(test_label_large_and_device_resident), T(test_props_2d_every_property),
         T(test_props_sparse_and_single_pixels), T(test_props_float_corners), T(test_props_2000_regions),
         T(test_props_2d_hull_routes),
         T(test_props_3d), T(test_props_3d_paths))

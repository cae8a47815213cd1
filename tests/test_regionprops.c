/* regionprops_table on the CPU: PARITY.md's known values, column names and dtypes, thread-count
 * invariance, errors where scikit-image raises, and numpy's summation order. scikit-image itself judges
 * the values in tests/oracle/test_regionprops.py. */
#include "tests/support/tp_test.h"
#include "cpu_ref/regionprops_props.h"

#include <math.h>
#include <string.h>

static tp_status run_props(const tp_image *lab, const tp_image *inten, const char *props, int threads,
                           tp_result *r)
{
    tp_params *p;
    tp_status st = tp_params_create(&p);
    if (st)
        return st;
    tp_params_set(p, "properties", props);
    tp_context_set_threads(tp_test_ctx, threads);
    const tp_image *in[2] = {lab, inten};
    st = tp_run_on(tp_test_ctx, TP_BACKEND_CPU, "regionprops_table", in, inten ? 2 : 1, p, r);
    tp_params_destroy(p);
    return st;
}

static double col(const tp_result *r, const char *name, int64_t row)
{
    for (int i = 0; i < r->table.ncols; i++)
        if (strcmp(r->table.cols[i].name, name) == 0)
            return tp_table_get(&r->table, i, row);
    return NAN;
}

/* PARITY.md: a single pixel has area_convex 1 and perimeter 0; a diagonal pair has solidity 1; a 3x3
 * square without its centre has area 8, area_convex 9 and perimeter 8. */
static int test_parity_shapes(void)
{
    int32_t px[8 * 12] = {0};
    px[1 * 12 + 1] = 1;                  /* single pixel */
    px[1 * 12 + 4] = px[2 * 12 + 5] = 2; /* diagonal pair */
    for (int y = 4; y < 7; y++)
        for (int x = 6; x < 9; x++)
            px[y * 12 + x] = (y == 5 && x == 7) ? 0 : 3;
    int64_t shape[2] = {8, 12};
    tp_image lab = tp_image_wrap(px, TP_INT32, 2, shape, -1, TP_HOST);
    tp_result r;
    CHECK_OK(run_props(&lab, NULL, "label,area,area_convex,perimeter,solidity,euler_number,area_filled", 1, &r));
    CHECK(r.table.nrows == 3);
    CHECK(col(&r, "area_convex", 0) == 1 && col(&r, "perimeter", 0) == 0);
    CHECK(col(&r, "solidity", 1) == 1);
    CHECK(col(&r, "area", 2) == 8 && col(&r, "area_convex", 2) == 9 && col(&r, "perimeter", 2) == 8);
    /* the ring has a hole: euler number 0, filled area 9 */
    CHECK(col(&r, "euler_number", 2) == 0 && col(&r, "area_filled", 2) == 9);
    tp_result_free(&r);
    return 0;
}

static int test_columns_and_aliases(void)
{
    uint16_t px[4 * 5] = {0, 9, 9, 0, 0, 0, 9, 0, 0, 4, 0, 0, 0, 4, 4, 0, 0, 0, 0, 0};
    float iv[4 * 5];
    for (int i = 0; i < 20; i++)
        iv[i] = 0.25f * (float)i;
    int64_t shape[2] = {4, 5};
    tp_image lab = tp_image_wrap(px, TP_UINT16, 2, shape, -1, TP_HOST);
    tp_image inten = tp_image_wrap(iv, TP_FLOAT32, 2, shape, -1, TP_HOST);
    tp_result r;
    CHECK_OK(run_props(&lab, &inten, "label,bbox,mean_intensity,weighted_centroid,convex_area,bbox,moments_hu", 1,
                       &r));
    static const char *want[] = {"label", "bbox-0", "bbox-1", "bbox-2", "bbox-3", "mean_intensity",
                                 "weighted_centroid-0", "weighted_centroid-1", "convex_area", "moments_hu-0",
                                 "moments_hu-1", "moments_hu-2", "moments_hu-3", "moments_hu-4", "moments_hu-5",
                                 "moments_hu-6"};
    CHECK(r.table.ncols == (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < r.table.ncols && i < (int)(sizeof want / sizeof want[0]); i++)
        CHECK_MSG(strcmp(r.table.cols[i].name, want[i]) == 0, "column %d is %s", i, r.table.cols[i].name);
    CHECK(r.table.nrows == 2 && col(&r, "label", 0) == 4 && col(&r, "label", 1) == 9);
    CHECK(r.table.cols[0].dtype == TP_INT64 && r.table.cols[1].dtype == TP_INT64);
    CHECK(r.table.cols[5].dtype == TP_FLOAT64 && r.table.cols[8].dtype == TP_INT64);
    /* label 4: pixels 9, 13, 14 -> mean (2.25 + 3.25 + 3.5) / 3 in float32, as numpy returns it */
    CHECK(col(&r, "mean_intensity", 0) == (double)(float)(9.0 / 3.0));
    CHECK(col(&r, "bbox-0", 0) == 1 && col(&r, "bbox-1", 0) == 3 && col(&r, "bbox-2", 0) == 3 &&
          col(&r, "bbox-3", 0) == 5);
    tp_result_free(&r);

    /* 3D names: bbox-0..5, centroid-0..2 */
    uint8_t v[2 * 3 * 3] = {0};
    v[4] = v[13] = v[14] = 1;
    int64_t s3[3] = {2, 3, 3};
    tp_image lab3 = tp_image_wrap(v, TP_UINT8, 3, s3, -1, TP_HOST);
    CHECK_OK(run_props(&lab3, NULL, "bbox,centroid,area", 1, &r));
    CHECK(r.table.ncols == 10 && strcmp(r.table.cols[5].name, "bbox-5") == 0 &&
          strcmp(r.table.cols[8].name, "centroid-2") == 0);
    CHECK(col(&r, "bbox-0", 0) == 0 && col(&r, "bbox-3", 0) == 2 && col(&r, "area", 0) == 3);
    tp_result_free(&r);
    return 0;
}

static int test_empty_and_errors(void)
{
    int32_t px[3 * 3] = {0};
    int64_t shape[2] = {3, 3};
    tp_image lab = tp_image_wrap(px, TP_INT32, 2, shape, -1, TP_HOST);
    tp_result r;
    CHECK_OK(run_props(&lab, NULL, "label,bbox,solidity", 1, &r));
    CHECK(r.table.nrows == 0 && r.table.ncols == 6);
    tp_result_free(&r);
    CHECK(run_props(&lab, NULL, "label,intensity_mean", 1, &r) == TP_ERR_ARG);
    const char *msg = tp_last_error(tp_test_ctx);
    CHECK(strstr(msg, "intensity_mean") && strstr(msg, "intensity_image"));
    CHECK(r.table.cols == NULL);

    uint8_t v[3 * 3 * 3] = {0};
    v[13] = 1;
    int64_t s3[3] = {3, 3, 3};
    tp_image lab3 = tp_image_wrap(v, TP_UINT8, 3, s3, -1, TP_HOST);
    static const char *only2d[] = {"perimeter", "eccentricity", "orientation", "moments_hu"};
    for (int i = 0; i < 4; i++) {
        char props[64];
        snprintf(props, sizeof props, "label,%s", only2d[i]);
        CHECK(run_props(&lab3, NULL, props, 1, &r) == TP_ERR_ARG);
        CHECK(strstr(tp_last_error(tp_test_ctx), only2d[i]) && strstr(tp_last_error(tp_test_ctx), "2D"));
    }
    /* a single voxel is flat: scikit-image's 3D hull fails, area_convex 0, solidity inf, feret raises */
    CHECK_OK(run_props(&lab3, NULL, "area_convex,solidity", 1, &r));
    CHECK(col(&r, "area_convex", 0) == 0 && isinf(col(&r, "solidity", 0)));
    tp_result_free(&r);
    CHECK(run_props(&lab3, NULL, "feret_diameter_max", 1, &r) == TP_ERR_ARG);
    CHECK(strstr(tp_last_error(tp_test_ctx), "flat") != NULL);
    return 0;
}

/* Overlapping random ellipses with random (sparse) labels, plus an intensity image. */
static void random_labels(int32_t *lab, float *inten, int ndim, const int64_t *shape, uint64_t seed)
{
    int64_t D = ndim == 3 ? shape[0] : 1, H = shape[ndim - 2], W = shape[ndim - 1];
    memset(lab, 0, (size_t)(D * H * W) * sizeof *lab);
    for (int k = 0; k < 60; k++) {
        double cz = (double)(tp_test_rand(&seed) % (uint64_t)D), cy = (double)(tp_test_rand(&seed) % (uint64_t)H);
        double cx = (double)(tp_test_rand(&seed) % (uint64_t)W);
        double rz = 1 + (double)(tp_test_rand(&seed) % 5), ry = 1 + (double)(tp_test_rand(&seed) % 9);
        double rx = 1 + (double)(tp_test_rand(&seed) % 9);
        int32_t label = 1 + (int32_t)(tp_test_rand(&seed) % 5000);
        for (int64_t z = 0; z < D; z++)
            for (int64_t y = 0; y < H; y++)
                for (int64_t x = 0; x < W; x++) {
                    double dz = ndim == 3 ? (z - cz) / rz : 0, dy = (y - cy) / ry, dx = (x - cx) / rx;
                    if (dz * dz + dy * dy + dx * dx <= 1)
                        lab[(z * H + y) * W + x] = label;
                }
    }
    for (int64_t i = 0; i < D * H * W; i++)
        inten[i] = (float)(tp_test_rand(&seed) % 10000) / 37.0f;
}

static bool same_tables(const tp_table *a, const tp_table *b)
{
    if (a->nrows != b->nrows || a->ncols != b->ncols)
        return false;
    for (int i = 0; i < a->ncols; i++)
        if (strcmp(a->cols[i].name, b->cols[i].name) || a->cols[i].dtype != b->cols[i].dtype ||
            memcmp(a->cols[i].data, b->cols[i].data, (size_t)a->nrows * tp_dtype_size(a->cols[i].dtype)))
            return false;
    return true;
}

static int test_thread_invariance(void)
{
    static const char *props2d =
        "label,area,area_bbox,area_convex,area_filled,bbox,centroid,centroid_local,centroid_weighted,"
        "eccentricity,equivalent_diameter_area,euler_number,extent,feret_diameter_max,intensity_max,"
        "intensity_mean,intensity_min,intensity_std,major_axis_length,minor_axis_length,orientation,perimeter,"
        "solidity,moments_hu";
    static const char *props3d =
        "label,area,area_bbox,area_convex,area_filled,bbox,centroid,centroid_local,centroid_weighted,"
        "equivalent_diameter_area,euler_number,extent,intensity_max,intensity_mean,intensity_min,intensity_std,"
        "major_axis_length,minor_axis_length,solidity";
    for (int nd = 2; nd <= 3; nd++) {
        int64_t shape[3] = {12, 40, 44};
        const int64_t *sh = nd == 3 ? shape : shape + 1;
        int64_t n = nd == 3 ? 12 * 40 * 44 : 40 * 44;
        int32_t *lab = malloc((size_t)n * sizeof *lab);
        float *iv = malloc((size_t)n * sizeof *iv);
        random_labels(lab, iv, nd, sh, 77 + (uint64_t)nd);
        tp_image L = tp_image_wrap(lab, TP_INT32, nd, sh, -1, TP_HOST);
        tp_image I = tp_image_wrap(iv, TP_FLOAT32, nd, sh, -1, TP_HOST);
        tp_result r1, r4;
        CHECK_OK(run_props(&L, &I, nd == 2 ? props2d : props3d, 1, &r1));
        CHECK_OK(run_props(&L, &I, nd == 2 ? props2d : props3d, 4, &r4));
        CHECK_MSG(r1.table.nrows > 10, "%lld regions", (long long)r1.table.nrows);
        CHECK_MSG(same_tables(&r1.table, &r4.table), "%dD: 1 and 4 threads differ", nd);
        /* labels ascend, areas add up to the foreground */
        int64_t fg = 0, sum = 0;
        for (int64_t i = 0; i < n; i++)
            fg += lab[i] > 0;
        for (int64_t i = 0; i < r1.table.nrows; i++) {
            sum += (int64_t)col(&r1, "area", i);
            if (i)
                CHECK(col(&r1, "label", i) > col(&r1, "label", i - 1));
            /* 3D regions one voxel thick are flat: scikit-image's hull fails and area_convex is 0 */
            double ac = col(&r1, "area_convex", i);
            CHECK(ac >= col(&r1, "area", i) || (nd == 3 && ac == 0));
            CHECK(col(&r1, "area_filled", i) >= col(&r1, "area", i));
        }
        CHECK(sum == fg);
        tp_result_free(&r1);
        tp_result_free(&r4);
        free(lab);
        free(iv);
    }
    return 0;
}

/* numpy sums float32 pairwise over blocks of 8192: 20000 values 1 + k 2^-23 sum to 0x1.388004p+14 in
 * numpy 1.24 (np.sum), while a running float32 sum gives 0x1.388p+14 and the exact total rounds to
 * 0x1.388008p+14. */
static int test_numpy_sums(void)
{
    enum { N = 20000 };
    static float a[N];
    for (int i = 0; i < N; i++)
        a[i] = 1.0f + (float)(i % 7) * 0x1p-23f;
    float run = 0;
    for (int i = 0; i < N; i++)
        run += a[i];
    float np = rp_numpy_sum_f32(a, N);
    CHECK_MSG(np == 0x1.388004p+14f, "%a", (double)np);
    CHECK(run == 0x1.388p+14f);
    double d[5] = {1e16, 1, -1e16, 1, 1};
    CHECK(rp_numpy_sum_f64(d, 5) == 2); /* in order below 8 elements: ((1e16 + 1) - 1e16) + 1 + 1 */
    double lo, hi;
    rp_eig2_lapack(2, 1, 2, &lo, &hi);
    CHECK(lo == 1 && hi == 3);
    double m[3][3] = {{2, 0, 0}, {0, 3, 4}, {0, 4, 9}}, ev[3];
    rp_eig3_sym(m, ev);
    CHECK(fabs(ev[0] - 1) < 1e-14 && ev[1] == 2 && fabs(ev[2] - 11) < 1e-13);
    return 0;
}

TP_TESTS(T(test_parity_shapes), T(test_columns_and_aliases), T(test_empty_and_errors), T(test_thread_invariance),
         T(test_numpy_sums))

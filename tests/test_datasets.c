/* Datasets: the synthetic generator (determinism, thread independence, ground truth consistent with the
 * image, 2D and 3D, odd sizes, per-op inputs) and the manifest of real images (every present file loads
 * with the listed shape and dtype; the default is found). */
#include "datasets/datasets.h"
#include "tests/support/tp_test.h"

#include <math.h>
#include <string.h>

static tp_synth_params params(int ndim, int64_t a, int64_t b, int64_t c, tp_dtype t, uint64_t seed)
{
    tp_synth_params p;
    memset(&p, 0, sizeof p);
    p.ndim = ndim;
    p.shape[0] = a;
    p.shape[1] = b;
    p.shape[2] = c;
    p.dtype = t;
    p.seed = seed;
    return p;
}

static size_t nbytes(const tp_image *im) { return (size_t)tp_image_count(im) * tp_dtype_size(im->dtype); }

static int same_bytes(const tp_image *a, const tp_image *b)
{
    return a->data && b->data && nbytes(a) == nbytes(b) && memcmp(a->data, b->data, nbytes(a)) == 0;
}

static int test_determinism(void)
{
    const tp_dtype types[3] = {TP_UINT8, TP_UINT16, TP_FLOAT32};
    for (int k = 0; k < 3; k++) {
        for (int nd = 2; nd <= 3; nd++) {
            tp_synth_params p = nd == 2 ? params(2, 131, 97, 0, types[k], 42) : params(3, 23, 41, 37, types[k], 42);
            tp_image a = tp_image_empty(), la = tp_image_empty(), b = tp_image_empty(), lb = tp_image_empty();
            CHECK_OK(tp_synth_nuclei(tp_test_ctx, &p, &a, &la));
            tp_context_set_threads(tp_test_ctx, 1); /* the bytes do not depend on the thread count */
            CHECK_OK(tp_synth_nuclei(tp_test_ctx, &p, &b, &lb));
            CHECK_MSG(same_bytes(&a, &b) && same_bytes(&la, &lb), "%dD %s: same seed, 1 vs all threads", nd,
                      tp_dtype_name(types[k]));
            tp_image_free(&b);
            tp_image_free(&lb);
            tp_context_set_threads(tp_test_ctx, 0);
            p.seed = 43;
            CHECK_OK(tp_synth_nuclei(tp_test_ctx, &p, &b, &lb));
            CHECK_MSG(!same_bytes(&a, &b) && !same_bytes(&la, &lb), "%dD %s: a different seed", nd,
                      tp_dtype_name(types[k]));
            tp_image_free(&a);
            tp_image_free(&la);
            tp_image_free(&b);
            tp_image_free(&lb);
        }
    }
    return 0;
}

/* Ground truth agrees with the pixels: nuclei brighter than background, labels 1..n all present, some
 * nuclei touching, some holes (background pixels enclosed by one nucleus). */
static void check_truth(const tp_image *im, const tp_image *lb, int expect_touching)
{
    int64_t n = tp_image_count(im), w = im->shape[im->ndim - 1];
    int32_t mx = 0;
    double in = 0, out = 0;
    int64_t nin = 0, nout = 0, touching = 0;
    const int32_t *l = lb->data;
    for (int64_t i = 0; i < n; i++) {
        double v = tp_get_f64(im->data, im->dtype, i);
        if (l[i]) {
            in += v, nin++;
        } else {
            out += v, nout++;
        }
        mx = l[i] > mx ? l[i] : mx;
        if (i % w + 1 < w && l[i] && l[i + 1] && l[i] != l[i + 1])
            touching++;
    }
    CHECK(mx >= 1 && nin > 0 && nout > 0);
    if (nin && nout)
        CHECK_MSG(in / (double)nin > 1.8 * (out / (double)nout), "mean inside %g, outside %g", in / (double)nin,
                  out / (double)nout);
    char *seen = calloc((size_t)mx + 1, 1);
    for (int64_t i = 0; i < n; i++)
        seen[l[i]] = 1;
    int all = 1;
    for (int32_t k = 1; k <= mx; k++)
        all &= seen[k];
    CHECK_MSG(all, "labels 1..%d are not all present", mx);
    free(seen);
    if (expect_touching)
        CHECK_MSG(touching > 0, "no touching nuclei among %d", mx);
}

/* Holes: background pixels that a flood fill of the background from the image border (4-connected) does
 * not reach, i.e. enclosed by nuclei. */
static int64_t count_holes(const tp_image *lb)
{
    int64_t h = lb->shape[0], w = lb->shape[1], n = h * w, top = 0, reached = 0, background = 0;
    const int32_t *l = lb->data;
    uint8_t *seen = calloc((size_t)n, 1);
    int64_t *stack = malloc(sizeof *stack * (size_t)n);
    for (int64_t i = 0; i < n; i++) {
        int64_t y = i / w, x = i % w;
        background += l[i] == 0;
        if (l[i] == 0 && (y == 0 || x == 0 || y == h - 1 || x == w - 1)) {
            seen[i] = 1;
            stack[top++] = i;
        }
    }
    while (top > 0) {
        int64_t i = stack[--top], y = i / w, x = i % w;
        reached++;
        int64_t nb[4] = {y > 0 ? i - w : -1, y + 1 < h ? i + w : -1, x > 0 ? i - 1 : -1, x + 1 < w ? i + 1 : -1};
        for (int k = 0; k < 4; k++)
            if (nb[k] >= 0 && !seen[nb[k]] && l[nb[k]] == 0) {
                seen[nb[k]] = 1;
                stack[top++] = nb[k];
            }
    }
    free(seen);
    free(stack);
    return background - reached;
}

static int test_ground_truth(void)
{
    tp_image im = tp_image_empty(), lb = tp_image_empty();
    tp_synth_params p = params(2, 512, 512, 0, TP_UINT8, 7);
    CHECK_OK(tp_synth_nuclei(tp_test_ctx, &p, &im, &lb));
    if (im.data && lb.data) {
        CHECK(im.ndim == 2 && im.shape[0] == 512 && im.dtype == TP_UINT8 && lb.dtype == TP_INT32);
        check_truth(&im, &lb, 1);
        int64_t holes = count_holes(&lb);
        CHECK_MSG(holes > 0, "no nucleus with a hole");
        int32_t mx = 0;
        int64_t fg = 0;
        for (int64_t i = 0; i < 512 * 512; i++) {
            mx = ((int32_t *)lb.data)[i] > mx ? ((int32_t *)lb.data)[i] : mx;
            fg += ((int32_t *)lb.data)[i] != 0;
        }
        printf("  512x512: %d nuclei, %.0f%% foreground, %lld hole pixels\n", mx, 100.0 * (double)fg / (512 * 512),
               (long long)holes);
        CHECK(mx > 50 && fg > 512 * 512 / 10 && fg < 512 * 512 / 2);
    }
    tp_image_free(&im);
    tp_image_free(&lb);
    p = params(3, 48, 64, 64, TP_UINT16, 9);
    CHECK_OK(tp_synth_nuclei(tp_test_ctx, &p, &im, &lb));
    if (im.data && lb.data) {
        CHECK(im.ndim == 3 && im.shape[0] == 48 && im.shape[2] == 64 && lb.ndim == 3);
        check_truth(&im, &lb, 0);
        uint16_t vmax = 0;
        for (int64_t i = 0; i < tp_image_count(&im); i++)
            vmax = ((uint16_t *)im.data)[i] > vmax ? ((uint16_t *)im.data)[i] : vmax;
        CHECK(vmax <= 4095 && vmax > 1000); /* 12-bit, like most microscope cameras */
    }
    tp_image_free(&im);
    tp_image_free(&lb);
    p = params(2, 64, 80, 0, TP_FLOAT32, 1);
    CHECK_OK(tp_synth_nuclei(tp_test_ctx, &p, &im, NULL));
    int in01 = im.data != NULL;
    for (int64_t i = 0; in01 && i < tp_image_count(&im); i++)
        in01 = ((float *)im.data)[i] >= 0 && ((float *)im.data)[i] <= 1;
    CHECK(in01);
    tp_image_free(&im);
    return 0;
}

static int test_odd_sizes(void)
{
    int64_t sizes[][3] = {{1, 1, 0}, {1, 257, 0}, {257, 1, 0}, {97, 89, 0}, {2, 3, 0}, {1, 1, 1}, {1, 7, 13}, {5, 7, 11},
                          {13, 1, 29}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int nd = sizes[i][2] ? 3 : 2;
        static const char *kinds[4] = {"gray", "mask", "labels", "rgb"};
        for (int k = 0; k < 4; k++) {
            tp_image im = tp_image_empty();
            CHECK_OK(tp_synth_input(tp_test_ctx, kinds[k], nd, sizes[i], TP_UINT8, 3, &im));
            if (!im.data)
                continue;
            int ok = tp_image_spatial_ndim(&im) == nd;
            for (int d = 0; d < nd; d++)
                ok &= im.shape[d] == sizes[i][d];
            int64_t n = tp_image_count(&im), nonzero = 0;
            for (int64_t j = 0; j < n; j++)
                nonzero += tp_get_f64(im.data, im.dtype, j) != 0;
            CHECK_MSG(ok && nonzero > 0, "%s of %lld x %lld x %lld", kinds[k], (long long)sizes[i][0],
                      (long long)sizes[i][1], (long long)sizes[i][2]);
            tp_image_free(&im);
        }
    }
    return 0;
}

static int test_synth_input_kinds(void)
{
    int64_t s[2] = {96, 80};
    tp_image im = tp_image_empty();
    for (int t = 0; t < TP_DTYPE_COUNT; t++) {
        CHECK_OK(tp_synth_input(tp_test_ctx, "gray", 2, s, (tp_dtype)t, 5, &im));
        CHECK(im.dtype == (tp_dtype)t && im.ndim == 2 && im.channel_axis == -1);
        tp_image_free(&im);
    }
    CHECK_OK(tp_synth_input(tp_test_ctx, "mask", 2, s, TP_BOOL, 5, &im));
    CHECK(im.dtype == TP_BOOL);
    tp_image mask = im;
    im = tp_image_empty();
    CHECK_OK(tp_synth_input(tp_test_ctx, "labels", 2, s, TP_INT32, 5, &im));
    CHECK(im.dtype == TP_INT32);
    int agree = mask.data && im.data;
    for (int64_t i = 0; agree && i < 96 * 80; i++) /* the mask is the labels' foreground */
        agree = (((uint8_t *)mask.data)[i] != 0) == (((int32_t *)im.data)[i] != 0);
    CHECK(agree);
    tp_image_free(&mask);
    tp_image_free(&im);
    CHECK_OK(tp_synth_input(tp_test_ctx, "rgb", 2, s, TP_UINT8, 5, &im));
    CHECK(im.ndim == 3 && im.shape[2] == 3 && im.channel_axis == 2 && im.dtype == TP_UINT8);
    tp_image_free(&im);
    int64_t s3[3] = {8, 20, 24};
    CHECK_OK(tp_synth_input(tp_test_ctx, "rgb", 3, s3, TP_FLOAT32, 5, &im));
    CHECK(im.ndim == 4 && im.shape[3] == 3 && im.channel_axis == 3 && im.dtype == TP_FLOAT32);
    tp_image_free(&im);
    /* mask and labels keep their own dtypes whatever is asked (uint8 labels would wrap and merge nuclei) */
    CHECK_OK(tp_synth_input(tp_test_ctx, "labels", 2, s, TP_UINT8, 5, &im));
    CHECK(im.dtype == TP_INT32);
    tp_image_free(&im);
    CHECK_OK(tp_synth_input(tp_test_ctx, "mask", 2, s, TP_UINT8, 5, &im));
    CHECK(im.dtype == TP_BOOL);
    tp_image_free(&im);
    /* errors leave the output empty */
    CHECK(tp_synth_input(tp_test_ctx, "grey", 2, s, TP_UINT8, 5, &im) == TP_ERR_ARG && im.data == NULL);
    CHECK(strstr(tp_last_error(tp_test_ctx), "gray, mask, labels or rgb") != NULL);
    CHECK(tp_synth_input(tp_test_ctx, "gray", 4, (int64_t[4]){2, 2, 2, 2}, TP_UINT8, 5, &im) == TP_ERR_ARG);
    tp_synth_params p = params(2, 0, 5, 0, TP_UINT8, 1);
    tp_image lb = tp_image_empty();
    CHECK(tp_synth_nuclei(tp_test_ctx, &p, &im, &lb) == TP_ERR_SHAPE && im.data == NULL && lb.data == NULL);
    p = params(2, 5, 5, 0, TP_INT32, 1);
    CHECK(tp_synth_nuclei(tp_test_ctx, &p, &im, &lb) == TP_ERR_DTYPE && im.data == NULL);
    p = params(2, 5, 5, 0, TP_UINT8, 1);
    p.density = 2;
    CHECK(tp_synth_nuclei(tp_test_ctx, &p, &im, &lb) == TP_ERR_ARG && im.data == NULL);
    return 0;
}

static int test_parameters_matter(void)
{
    tp_image a = tp_image_empty(), la = tp_image_empty(), b = tp_image_empty(), lb = tp_image_empty();
    tp_synth_params p = params(2, 256, 256, 0, TP_UINT8, 11);
    p.radius = 4;
    p.density = 0.1;
    CHECK_OK(tp_synth_nuclei(tp_test_ctx, &p, &a, &la));
    p.radius = 9;
    p.density = 0.4;
    CHECK_OK(tp_synth_nuclei(tp_test_ctx, &p, &b, &lb));
    int64_t fa = 0, fb = 0;
    int32_t ma = 0, mb = 0;
    for (int64_t i = 0; la.data && lb.data && i < 256 * 256; i++) {
        int32_t x = ((int32_t *)la.data)[i], y = ((int32_t *)lb.data)[i];
        fa += x != 0, fb += y != 0;
        ma = x > ma ? x : ma, mb = y > mb ? y : mb;
    }
    CHECK_MSG(fb > 2 * fa, "density: %lld vs %lld foreground pixels", (long long)fa, (long long)fb);
    CHECK_MSG((double)fa / ma < (double)fb / mb, "radius: mean areas %g vs %g", (double)fa / ma, (double)fb / mb);
    tp_image_free(&a), tp_image_free(&la), tp_image_free(&b), tp_image_free(&lb);
    return 0;
}

static int test_manifest(void)
{
    tp_dataset ds[64];
    int n = tp_datasets_list(ds, 64);
    printf("  %d real images present\n", n);
    int shared = 0;
    for (int i = 0; i < n; i++) {
        tp_image im = tp_image_empty();
        tp_status st = tp_dataset_load(tp_test_ctx, &ds[i], &im);
        CHECK_MSG(st == TP_OK, "%s: %s", ds[i].name, tp_last_error(tp_test_ctx));
        CHECK(ds[i].licence[0] && ds[i].origin[0] && ds[i].layout[0]);
        shared += strcmp(ds[i].source, "shared") == 0;
        tp_image_free(&im);
    }
    if (tp_test_shared("README.md"))
        CHECK_MSG(shared == 8, "%d of the 8 shared images listed", shared);
    tp_dataset d;
    tp_status st = tp_dataset_default(tp_test_ctx, &d);
    if (n > 0) {
        CHECK_OK(st);
        printf("  default: %s (%s)\n", d.name, d.path);
        CHECK(strcmp(d.name, "human_mitosis") == 0 || strcmp(d.name, "skimage_human_mitosis_8bit") == 0 ||
              strcmp(d.name, "ihc") == 0 || strcmp(d.name, "cell") == 0 || strcmp(d.name, "coins") == 0);
        setenv("TWINPIX_DATASET", ds[0].name, 1);
        CHECK_OK(tp_dataset_default(tp_test_ctx, &d));
        CHECK(strcmp(d.name, ds[0].name) == 0);
        unsetenv("TWINPIX_DATASET");
    }
    CHECK(tp_dataset_find(tp_test_ctx, "no_such_image", &d) == TP_ERR_ARG);
    CHECK(strstr(tp_last_error(tp_test_ctx), "no_such_image") != NULL);
    /* without any data folder: no default, and a message that says where it looked */
    const char *was = getenv("TWINPIX_SHARED_DATASETS");
    char saved[4096];
    snprintf(saved, sizeof saved, "%s", was ? was : "");
    setenv("TWINPIX_SKIMAGE_DATA", "/nonexistent_skimage", 1);
    setenv("TWINPIX_SHARED_DATASETS", "/nonexistent_shared", 1);
    CHECK(tp_datasets_list(ds, 64) == 0);
    CHECK(tp_dataset_default(tp_test_ctx, &d) == TP_ERR_IO);
    CHECK(strstr(tp_last_error(tp_test_ctx), "/nonexistent_skimage") != NULL);
    unsetenv("TWINPIX_SKIMAGE_DATA");
    if (was)
        setenv("TWINPIX_SHARED_DATASETS", saved, 1);
    else
        unsetenv("TWINPIX_SHARED_DATASETS");
    return 0;
}

TP_TESTS(T(test_determinism), T(test_ground_truth), T(test_odd_sizes), T(test_synth_input_kinds),
         T(test_parameters_matter), T(test_manifest))

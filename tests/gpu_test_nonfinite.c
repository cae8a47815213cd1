/* NaN, +Inf and -Inf in float inputs, CUDA against the CPU reference (docs/nonfinite.md), for every op with an
 * input that can be float32 or float64 (threshold_otsu has its own tests): extract_channel, img_as_float,
 * gaussian, threshold, binary_erosion/dilation/opening/closing, label2rgb (its image) and regionprops_table (its
 * intensity image). Non-finite values sit at corners, edges, inside, side by side (+inf next to -inf makes
 * inf - inf), in whole lines and in every element, in 2D and 3D.
 *
 * The rule checked is the project's: the copies (extract_channel, img_as_float) keep every bit, NaN payloads
 * and signalling NaNs included; masks (threshold, morphology) are identical; the arithmetic ops (gaussian,
 * label2rgb, regionprops_table) have NaN in the same places and every other value bit-identical, while which
 * NaN (sign, payload) is not specified. Each image result is also judged by the harness's own contract
 * (compare/contracts.h), which must agree. Skipped (77) without a CUDA device; TP_TEST_SMALL=1 drops the
 * largest sizes. */
#include "compare/contracts.h"
#include "tests/support/tp_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- values ---- */

static const uint32_t k_f32_special[] = {
    0x7fc00000u, /* NaN */
    0x7f800000u, /* +inf */
    0xff800000u, /* -inf */
    0xffc00123u, /* NaN, sign bit and payload */
    0x7f800001u, /* signalling NaN */
    0x7fc54321u, /* NaN with a payload */
};
static const uint64_t k_f64_special[] = {
    0x7ff8000000000000ull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
    0xfff8000000000123ull, 0x7ff0000000000001ull, 0x7ff8000000054321ull,
};
enum { SP_NAN = 0, SP_PINF, SP_NINF, SP_NAN_NEG, SP_SNAN, SP_NAN_PAYLOAD, SP_COUNT };

static void put_special(tp_image *im, int64_t i, int which)
{
    if (im->dtype == TP_FLOAT32)
        memcpy((char *)im->data + (size_t)i * 4, &k_f32_special[which], 4);
    else
        memcpy((char *)im->data + (size_t)i * 8, &k_f64_special[which], 8);
}

static double rnd01(uint64_t *s) { return (double)(tp_test_rand(s) >> 11) * 0x1.0p-53; }

static tp_image new_image(tp_dtype dt, int ndim, const int64_t *shape, int channel_axis)
{
    tp_image im = tp_image_empty();
    if (tp_image_alloc(tp_test_ctx, &im, dt, ndim, shape, channel_axis, TP_HOST)) {
        fprintf(stderr, "  cannot allocate a test image: %s\n", tp_last_error(tp_test_ctx));
        exit(1);
    }
    memset(im.data, 0, (size_t)tp_image_count(&im) * tp_dtype_size(dt));
    return im;
}

/* Smooth values in about [0, 1] with noise (the weights and blends stay away from trivial inputs). */
static void fill_smooth(tp_image *im, uint64_t seed)
{
    int64_t n = tp_image_count(im);
    for (int64_t i = 0; i < n; i++)
        tp_set_f64(im->data, im->dtype, i,
                   0.5 + 0.3 * sin((double)i * 0.173) + 0.15 * cos((double)(i % 37) * 0.41) + 0.05 * rnd01(&seed));
}

/* Placements of non-finite values over a spatial grid (z, y, x; z = 0 in 2D) of the image's elements. */
typedef enum layout {
    L_CORNERS = 0, /* NaN at the first and last element, +inf and -inf at the other corners */
    L_EDGES,       /* +inf on the top edge, -inf on the left edge, NaN on the right edge */
    L_PAIR,        /* +inf and -inf side by side inside, and a NaN with a payload two rows down */
    L_LINE,        /* a whole row of NaN, a whole column of +inf */
    L_SPRINKLE,    /* one element in 13, every kind of special value */
    L_ALL,         /* every element special */
    L_COUNT
} layout;
static const char *k_layout_names[L_COUNT] = {"corners", "edges", "pair", "line", "sprinkle", "all"};

/* Put the layout into im, whose spatial shape is d x h x w with `ch` interleaved elements per position
 * (channel axis last; 1 without channels). */
static void apply_layout(tp_image *im, layout L, int64_t d, int64_t h, int64_t w, int64_t ch, uint64_t seed)
{
    const int64_t n = d * h * w;
#define AT(z, y, x) ((((z) * h + (y)) * w + (x)) * ch)
    switch (L) {
    case L_CORNERS:
        put_special(im, AT(0, 0, 0), SP_NAN);
        put_special(im, AT(0, 0, w - 1), SP_PINF);
        put_special(im, AT(d - 1, h - 1, 0), SP_NINF);
        put_special(im, AT(d - 1, h - 1, w - 1) + ch - 1, SP_NAN_NEG);
        break;
    case L_EDGES:
        put_special(im, AT(0, 0, w / 2), SP_PINF);
        put_special(im, AT(d / 2, h / 2, 0), SP_NINF);
        put_special(im, AT(d - 1, h / 3, w - 1), SP_NAN);
        break;
    case L_PAIR:
        put_special(im, AT(d / 2, h / 2, w / 2), SP_PINF);
        if (w > 1)
            put_special(im, AT(d / 2, h / 2, w / 2 - 1), SP_NINF);
        put_special(im, AT(d / 2, (h / 2 + 2) % h, (w / 2 + 1) % w), SP_NAN_PAYLOAD);
        break;
    case L_LINE:
        for (int64_t x = 0; x < w; x++)
            for (int64_t c = 0; c < ch; c++)
                put_special(im, AT(0, h / 2, x) + c, SP_NAN);
        for (int64_t z = 0; z < d; z++)
            for (int64_t y = 0; y < h; y++)
                put_special(im, AT(z, y, w / 3), SP_PINF);
        break;
    case L_SPRINKLE: {
        int k = 0;
        for (int64_t i = 0; i < n * ch; i++)
            if (tp_test_rand(&seed) % 13 == 0)
                put_special(im, i, k++ % SP_COUNT);
        break;
    }
    default:
        for (int64_t i = 0; i < n * ch; i++)
            put_special(im, i, (int)(tp_test_rand(&seed) % SP_COUNT));
        break;
    }
#undef AT
}

/* ---------------------------------------------------------------- comparing ---- */

static int g_runs;

static void elem_str(const tp_image *im, int64_t i, char *buf, size_t n)
{
    size_t es = tp_dtype_size(im->dtype);
    uint64_t bits = 0;
    memcpy(&bits, (const char *)im->data + (size_t)i * es, es);
    snprintf(buf, n, "%.17g (0x%0*llx)", tp_get_f64(im->data, im->dtype, i), (int)(2 * es), (unsigned long long)bits);
}

/* cpu and cuda images (host) under the rule: bits == every byte; else NaN matches NaN, the rest the same bits.
 * The harness's exact contract must reach the same verdict. */
static int same_image(const char *what, const tp_image *a, const tp_image *b, int bits)
{
    int ok = a->dtype == b->dtype && a->ndim == b->ndim && a->channel_axis == b->channel_axis;
    for (int k = 0; ok && k < a->ndim; k++)
        ok = a->shape[k] == b->shape[k];
    CHECK_MSG(ok, "%s: geometry differs: cpu %s %dD, cuda %s %dD", what, tp_dtype_name(a->dtype), a->ndim,
              tp_dtype_name(b->dtype), b->ndim);
    if (!ok)
        return 0;
    const int64_t n = tp_image_count(a);
    const size_t es = tp_dtype_size(a->dtype);
    const int fl = tp_dtype_is_float(a->dtype);
    int64_t first = -1, diffs = 0;
    for (int64_t i = 0; i < n; i++) {
        const char *x = (const char *)a->data + (size_t)i * es, *y = (const char *)b->data + (size_t)i * es;
        int same = (bits || !fl) ? memcmp(x, y, es) == 0 : tp_float_elem_same(a->dtype, x, y);
        if (!same) {
            diffs++;
            if (first < 0)
                first = i;
        }
    }
    if (diffs) {
        char x[64], y[64];
        elem_str(a, first, x, sizeof x);
        elem_str(b, first, y, sizeof y);
        CHECK_MSG(0, "%s: %lld of %lld elements differ (%s); first at flat index %lld: cpu %s, cuda %s", what,
                  (long long)diffs, (long long)n, bits ? "every bit" : "NaN rule", (long long)first, x, y);
    }
    /* the harness: an exact contract with the same rule (NaN matches NaN) */
    tp_result rc = tp_result_empty(), rg = tp_result_empty();
    rc.kind = rg.kind = TP_OUT_IMAGE;
    rc.image = *a;
    rg.image = *b;
    const tp_contract exact = {TP_CONTRACT_EXACT, 0, "nonfinite test"};
    tp_case_metrics m;
    bool pass = tp_contract_eval_with(&exact, &rc, &rg, &m);
    if (!bits)
        CHECK_MSG(pass == (diffs == 0) && m.mismatches == diffs,
                  "%s: the harness says %s with %lld mismatches, this test %lld", what, pass ? "pass" : "fail",
                  (long long)m.mismatches, (long long)diffs);
    return diffs == 0;
}

static tp_params *params_of(const char *spec)
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

/* Run op on both backends; both must succeed and agree under the rule (bits: every byte). */
static int both_p(const char *what, const char *op, const tp_image *a, const tp_image *b, const tp_params *p, int bits)
{
    const tp_image *in[2] = {a, b};
    tp_result rc = tp_result_empty(), rg = tp_result_empty();
    tp_status sc = tp_run_on(tp_test_ctx, TP_BACKEND_CPU, op, in, b ? 2 : 1, p, &rc);
    char cerr[TP_ERRMSG_LEN];
    snprintf(cerr, sizeof cerr, "%s", tp_last_error(tp_test_ctx));
    tp_status sg = tp_run_on(tp_test_ctx, TP_BACKEND_CUDA, op, in, b ? 2 : 1, p, &rg);
    g_runs++;
    int ok = 0;
    if (sc || sg)
        CHECK_MSG(0, "%s: cpu %s (%s), cuda %s (%s)", what, tp_status_str(sc), sc ? cerr : "", tp_status_str(sg),
                  sg ? tp_last_error(tp_test_ctx) : "");
    else if (rc.kind == TP_OUT_TABLE || rg.kind == TP_OUT_TABLE)
        CHECK_MSG(0, "%s: a table where an image was expected", what);
    else
        ok = same_image(what, &rc.image, &rg.image, bits);
    tp_result_free(&rc);
    tp_result_free(&rg);
    return ok;
}

static int both(const char *what, const char *op, const tp_image *a, const tp_image *b, const char *spec, int bits)
{
    tp_params *p = params_of(spec);
    CHECK_MSG(p != NULL, "%s: params", what);
    if (!p)
        return 0;
    char full[512];
    snprintf(full, sizeof full, "%s [%s]", what, spec ? spec : "");
    int ok = both_p(full, op, a, b, p, bits);
    tp_params_destroy(p);
    return ok;
}

/* ---------------------------------------------------------------- shapes ---- */

typedef struct dims {
    int ndim;
    int64_t s[3];
} dims;
static const dims k_dims[] = {{2, {1, 1, 0}},   {2, {1, 37, 0}},   {2, {37, 1, 0}}, {2, {23, 29, 0}},
                              {3, {5, 7, 9}},   {2, {61, 53, 0}},  {3, {17, 19, 23}}, {2, {257, 129, 0}}};
/* TP_TEST_SMALL (compute-sanitizer): the two largest shapes are left out and every other layout is taken
 * (corners, pair, sprinkle: NaN, both infinities, edges and neighbours still meet every kernel) */
#define N_DIMS ((int)(sizeof k_dims / sizeof k_dims[0]) - (tp_test_small() ? 2 : 0))
#define L_STEP (tp_test_small() ? 2 : 1)

static void dims_grid(const dims *d, int64_t *z, int64_t *y, int64_t *x)
{
    *z = d->ndim == 3 ? d->s[0] : 1;
    *y = d->ndim == 3 ? d->s[1] : d->s[0];
    *x = d->ndim == 3 ? d->s[2] : d->s[1];
}

static void dims_str(const dims *d, char *buf, size_t n)
{
    if (d->ndim == 2)
        snprintf(buf, n, "%lldx%lld", (long long)d->s[0], (long long)d->s[1]);
    else
        snprintf(buf, n, "%lldx%lldx%lld", (long long)d->s[0], (long long)d->s[1], (long long)d->s[2]);
}

/* A float image of shape d (plus a channel axis of nch, last, when nch > 0) with layout L. */
static tp_image poisoned(tp_dtype dt, const dims *d, int64_t nch, layout L, uint64_t seed)
{
    int64_t shape[4];
    memcpy(shape, d->s, sizeof(int64_t) * (size_t)d->ndim);
    if (nch > 0)
        shape[d->ndim] = nch;
    tp_image im = new_image(dt, d->ndim + (nch > 0), shape, nch > 0 ? d->ndim : -1);
    fill_smooth(&im, seed);
    int64_t z, y, x;
    dims_grid(d, &z, &y, &x);
    apply_layout(&im, L, z, y, x, nch > 0 ? nch : 1, seed * 31 + 7);
    return im;
}

static void start(const char *name)
{
    g_runs = 0;
    printf("  %s\n", name);
}
static void done(void) { printf("    %d comparisons\n", g_runs); }

static const tp_dtype k_floats[2] = {TP_FLOAT32, TP_FLOAT64};

/* ---------------------------------------------------------------- copies ---- */

/* extract_channel and img_as_float copy values: every bit, NaN payloads and signalling NaNs included, on both
 * backends and equal to the input's bits. */
static int test_copies_keep_every_bit(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("extract_channel, img_as_float: every bit");
    for (int di = 0; di < N_DIMS; di++)
        for (int f = 0; f < 2; f++)
            for (int L = 0; L < L_COUNT; L += L_STEP) {
                const dims *d = &k_dims[di];
                char sz[48], what[160];
                dims_str(d, sz, sizeof sz);
                tp_image rgb = poisoned(k_floats[f], d, 3, (layout)L, 100 + (uint64_t)(di * 10 + L));
                for (int c = 0; c < 3; c++) {
                    snprintf(what, sizeof what, "extract_channel %s %s %s c=%d", tp_dtype_name(k_floats[f]), sz,
                             k_layout_names[L], c);
                    char spec[32];
                    snprintf(spec, sizeof spec, "channel=%d", c);
                    both(what, "extract_channel", &rgb, NULL, spec, 1);
                }
                tp_image g = poisoned(k_floats[f], d, 0, (layout)L, 200 + (uint64_t)(di * 10 + L));
                snprintf(what, sizeof what, "img_as_float %s %s %s", tp_dtype_name(k_floats[f]), sz, k_layout_names[L]);
                tp_result r = tp_result_empty();
                const tp_image *in[1] = {&g};
                if (both(what, "img_as_float", &g, NULL, "", 1)) { /* and the CPU's output is the input */
                    CHECK_OK(tp_run_on(tp_test_ctx, TP_BACKEND_CPU, "img_as_float", in, 1, NULL, &r));
                    CHECK_MSG(r.image.data && memcmp(r.image.data, g.data, (size_t)tp_image_count(&g) *
                                                                               tp_dtype_size(g.dtype)) == 0,
                              "%s: the output is not the input's bits", what);
                }
                tp_result_free(&r);
                tp_image_free(&g);
                tp_image_free(&rgb);
            }
    done();
    return 0;
}

/* ---------------------------------------------------------------- gaussian ---- */

static int test_gaussian(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("gaussian: NaN and inf through every mode");
    static const char *specs[] = {
        "sigma=1",
        "sigma=0.7;mode=reflect",
        "sigma=1.5;mode=mirror",
        "sigma=1;mode=wrap",
        "sigma=0.8;mode=constant;cval=0.25",
        "sigma=3",
        "sigma=0.5,2;truncate=2;preserve_range=true",
        "sigma=0",
        "sigma=0.5;truncate=40", /* weights that underflow to 0: inf * 0 = NaN far from the infinity */
    };
    for (int di = 0; di < N_DIMS; di++)
        for (int f = 0; f < 2; f++)
            for (int L = 0; L < L_COUNT; L += L_STEP) {
                const dims *d = &k_dims[di];
                char sz[48], what[160];
                dims_str(d, sz, sizeof sz);
                tp_image im = poisoned(k_floats[f], d, 0, (layout)L, 300 + (uint64_t)(di * 10 + L));
                snprintf(what, sizeof what, "gaussian %s %s %s", tp_dtype_name(k_floats[f]), sz, k_layout_names[L]);
                for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
                    char spec[128];
                    snprintf(spec, sizeof spec, "%s", specs[k]);
                    if (d->ndim == 3 && strstr(spec, "0.5,2"))
                        snprintf(spec, sizeof spec, "sigma=0.5,1,2;truncate=2;preserve_range=true");
                    both(what, "gaussian", &im, NULL, spec, 0);
                }
                tp_image_free(&im);
            }
    /* channels filtered independently, a NaN in one channel only */
    dims d = {2, {31, 27, 0}};
    for (int f = 0; f < 2; f++) {
        tp_image rgb = poisoned(k_floats[f], &d, 3, L_PAIR, 400 + (uint64_t)f);
        both("gaussian channels", "gaussian", &rgb, NULL, "sigma=2;channel_axis=-1", 0);
        tp_image_free(&rgb);
    }
    done();
    return 0;
}

/* ---------------------------------------------------------------- threshold ---- */

static int test_threshold(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("threshold: NaN is never above, +inf above any finite t");
    static const char *ts[] = {"threshold=0.5", "threshold=0", "threshold=-0.0", "threshold=nan", "threshold=inf",
                               "threshold=-inf", "threshold=1e308"};
    for (int di = 0; di < N_DIMS; di++)
        for (int f = 0; f < 2; f++)
            for (int L = 0; L < L_COUNT; L += L_STEP) {
                const dims *d = &k_dims[di];
                char sz[48], what[160];
                dims_str(d, sz, sizeof sz);
                tp_image im = poisoned(k_floats[f], d, 0, (layout)L, 500 + (uint64_t)(di * 10 + L));
                snprintf(what, sizeof what, "threshold %s %s %s", tp_dtype_name(k_floats[f]), sz, k_layout_names[L]);
                for (size_t k = 0; k < sizeof ts / sizeof ts[0]; k++)
                    both(what, "threshold", &im, NULL, ts[k], 1);
                /* the threshold as a 1-element image holding NaN, +inf or -inf (staged to the device) */
                for (int s = 0; s < 3; s++) {
                    int64_t one = 1;
                    tp_image t = new_image(k_floats[1 - f], 1, &one, -1);
                    put_special(&t, 0, s == 0 ? SP_NAN_NEG : s == 1 ? SP_PINF : SP_NINF);
                    tp_params *p = NULL;
                    CHECK_OK(tp_params_create(&p));
                    CHECK_OK(tp_params_set_image(p, "threshold", &t));
                    char w2[200];
                    snprintf(w2, sizeof w2, "%s threshold image %s special %d", what, tp_dtype_name(t.dtype), s);
                    both_p(w2, "threshold", &im, NULL, p, 1);
                    tp_params_destroy(p);
                    tp_image_free(&t);
                }
                tp_image_free(&im);
            }
    done();
    return 0;
}

/* ---------------------------------------------------------------- morphology ---- */

static int test_morphology(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("binary morphology on float images: NaN and inf are foreground, -0.0 is not");
    static const char *ops[] = {"binary_erosion", "binary_dilation", "binary_opening", "binary_closing"};
    static const char *specs2[] = {"", "footprint=disk:2", "footprint=square:3;mode=min",
                                   "footprint=diamond:1;mode=max"};
    static const char *specs3[] = {"", "footprint=ball:1", "footprint=cube:3;mode=min",
                                   "footprint=octahedron:1;mode=max"};
    for (int di = 0; di < N_DIMS; di++)
        for (int f = 0; f < 2; f++)
            for (int L = 0; L < L_COUNT; L += L_STEP) {
                const dims *d = &k_dims[di];
                char sz[48], what[160];
                dims_str(d, sz, sizeof sz);
                tp_image im = poisoned(k_floats[f], d, 0, (layout)L, 600 + (uint64_t)(di * 10 + L));
                /* a mask: about half the elements zero (of either sign), the rest as they are */
                uint64_t s = 601 + (uint64_t)di;
                int64_t n = tp_image_count(&im);
                for (int64_t i = 0; i < n; i++) {
                    double v = tp_get_f64(im.data, im.dtype, i);
                    if (isfinite(v) && rnd01(&s) < 0.5)
                        tp_set_f64(im.data, im.dtype, i, i % 2 ? -0.0 : 0.0);
                }
                for (int o = 0; o < 4; o++)
                    for (int k = 0; k < 4; k++) {
                        snprintf(what, sizeof what, "%s %s %s %s", ops[o], tp_dtype_name(k_floats[f]), sz,
                                 k_layout_names[L]);
                        both(what, ops[o], &im, NULL, d->ndim == 3 ? specs3[k] : specs2[k], 1);
                    }
                tp_image_free(&im);
            }
    done();
    return 0;
}

/* ---------------------------------------------------------------- label2rgb ---- */

static tp_image random_labels(const dims *d, int nlab, uint64_t seed)
{
    tp_image lab = new_image(TP_INT32, d->ndim, d->s, -1);
    int32_t *v = lab.data;
    int64_t n = tp_image_count(&lab);
    for (int64_t i = 0; i < n; i++)
        v[i] = (int32_t)(tp_test_rand(&seed) % (uint64_t)nlab);
    return lab;
}

static int test_label2rgb(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("label2rgb over float images holding NaN and inf");
    static const char *grey[] = {"", "alpha=1;bg_color=none", "alpha=0;image_alpha=0",
                                 "alpha=0.5;image_alpha=0.5;bg_color=0.2,0.4,0.6", "bg_label=1;colors=red;lime;blue"};
    static const char *rgbs[] = {"saturation=0", "saturation=0.5", "saturation=1",
                                 "saturation=0.3;alpha=1;image_alpha=0.6;bg_color=none",
                                 "saturation=1;alpha=0;image_alpha=0"};
    for (int di = 0; di < N_DIMS; di++)
        for (int f = 0; f < 2; f++)
            for (int L = 0; L < L_COUNT; L += L_STEP) {
                const dims *d = &k_dims[di];
                char sz[48], what[160];
                dims_str(d, sz, sizeof sz);
                tp_image lab = random_labels(d, 5, 700 + (uint64_t)di);
                tp_image g = poisoned(k_floats[f], d, 0, (layout)L, 710 + (uint64_t)(di * 10 + L));
                snprintf(what, sizeof what, "label2rgb grey %s %s %s", tp_dtype_name(k_floats[f]), sz,
                         k_layout_names[L]);
                for (size_t k = 0; k < sizeof grey / sizeof grey[0]; k++)
                    both(what, "label2rgb", &lab, &g, grey[k], 0);
                tp_image rgb = poisoned(k_floats[f], d, 3, (layout)L, 720 + (uint64_t)(di * 10 + L));
                snprintf(what, sizeof what, "label2rgb rgb %s %s %s", tp_dtype_name(k_floats[f]), sz,
                         k_layout_names[L]);
                for (size_t k = 0; k < sizeof rgbs / sizeof rgbs[0]; k++)
                    both(what, "label2rgb", &lab, &rgb, rgbs[k], 0);
                tp_image_free(&rgb);
                tp_image_free(&g);
                tp_image_free(&lab);
            }
    /* every combination of one, two or three non-finite channels in a pixel (rgb2hsv / hsv2rgb's cases) */
    dims d = {2, {9, 64, 0}};
    for (int f = 0; f < 2; f++) {
        tp_image lab = random_labels(&d, 4, 730);
        tp_image rgb = poisoned(k_floats[f], &d, 3, L_CORNERS, 731);
        static const int vals[] = {-1, SP_NAN, SP_PINF, SP_NINF}; /* -1: leave the finite value */
        int64_t px = 0;
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < 4; b++)
                for (int c = 0; c < 4; c++, px++) {
                    const int v[3] = {vals[a], vals[b], vals[c]};
                    for (int ch = 0; ch < 3; ch++)
                        if (v[ch] >= 0)
                            put_special(&rgb, px * 3 + ch, v[ch]);
                }
        for (size_t k = 0; k < sizeof rgbs / sizeof rgbs[0]; k++)
            both("label2rgb rgb every channel combination", "label2rgb", &lab, &rgb, rgbs[k], 0);
        /* channel axis first */
        int64_t shape[3] = {3, d.s[0], d.s[1]};
        tp_image planar = new_image(k_floats[f], 3, shape, 0);
        size_t es = tp_dtype_size(k_floats[f]);
        int64_t npx = d.s[0] * d.s[1];
        for (int64_t p = 0; p < npx; p++)
            for (int ch = 0; ch < 3; ch++)
                memcpy((char *)planar.data + (size_t)(ch * npx + p) * es, (char *)rgb.data + (size_t)(p * 3 + ch) * es,
                       es);
        both("label2rgb planar rgb", "label2rgb", &lab, &planar, "saturation=0.5", 0);
        tp_image_free(&planar);
        tp_image_free(&rgb);
        tp_image_free(&lab);
    }
    done();
    return 0;
}

/* ---------------------------------------------------------------- regionprops_table ---- */

#define PROPS_I                                                                                                    \
    "label,area,intensity_min,intensity_max,intensity_mean,intensity_std,centroid_weighted,min_intensity,"         \
    "max_intensity,mean_intensity,weighted_centroid"

/* Tables: the same columns and rows; a float cell matches when both are NaN or the bits are the same. */
static void props_both(const char *what, const tp_image *lab, const tp_image *inten, const char *props)
{
    const tp_image *in[2] = {lab, inten};
    tp_params *p = NULL;
    CHECK_OK(tp_params_create(&p));
    CHECK_OK(tp_params_set(p, "properties", props));
    tp_result rc = tp_result_empty(), rg = tp_result_empty();
    tp_status sc = tp_run_on(tp_test_ctx, TP_BACKEND_CPU, "regionprops_table", in, 2, p, &rc);
    char cerr[TP_ERRMSG_LEN];
    snprintf(cerr, sizeof cerr, "%s", tp_last_error(tp_test_ctx));
    tp_status sg = tp_run_on(tp_test_ctx, TP_BACKEND_CUDA, "regionprops_table", in, 2, p, &rg);
    tp_params_destroy(p);
    g_runs++;
    CHECK_MSG(sc == TP_OK && sg == TP_OK, "%s: cpu %s (%s), cuda %s (%s)", what, tp_status_str(sc), sc ? cerr : "",
              tp_status_str(sg), sg ? tp_last_error(tp_test_ctx) : "");
    if (!sc && !sg) {
        const tp_table *a = &rc.table, *b = &rg.table;
        CHECK_MSG(a->ncols == b->ncols && a->nrows == b->nrows, "%s: cpu %d x %lld, cuda %d x %lld", what, a->ncols,
                  (long long)a->nrows, b->ncols, (long long)b->nrows);
        for (int j = 0; j < a->ncols && j < b->ncols && a->nrows == b->nrows; j++) {
            const tp_column *x = &a->cols[j], *y = &b->cols[j];
            CHECK_MSG(strcmp(x->name, y->name) == 0 && x->dtype == y->dtype, "%s: column %d: cpu %s, cuda %s", what,
                      j, x->name, y->name);
            if (x->dtype != y->dtype)
                continue;
            size_t es = tp_dtype_size(x->dtype);
            for (int64_t r = 0; r < a->nrows; r++) {
                const char *u = (const char *)x->data + r * (int64_t)es, *v = (const char *)y->data + r * (int64_t)es;
                int fl = tp_dtype_is_float(x->dtype);
                if (fl ? tp_float_elem_same(x->dtype, u, v) : memcmp(u, v, es) == 0)
                    continue;
                CHECK_MSG(0, "%s: column %s, row %lld: cpu %.17g, cuda %.17g", what, x->name, (long long)r,
                          tp_table_get(a, j, r), tp_table_get(b, j, r));
                break;
            }
        }
        /* the harness's table contract agrees */
        tp_case_metrics m;
        CHECK_MSG(tp_contract_eval(tp_op_find("regionprops_table"), &rc, &rg, &m), "%s: the harness fails it: %s",
                  what, m.note);
    }
    tp_result_free(&rc);
    tp_result_free(&rg);
}

/* Regions whose boxes nest (a NaN in an inner region or in a hole of the outer one poisons the outer
 * centroid_weighted), regions on the borders, one-pixel regions, and blobs. */
static tp_image nested_labels(const dims *d, uint64_t seed)
{
    tp_image lab = new_image(TP_INT32, d->ndim, d->s, -1);
    int64_t Z, Y, X;
    dims_grid(d, &Z, &Y, &X);
    int32_t *v = lab.data;
    for (int64_t z = 0; z < Z; z++)
        for (int64_t y = 0; y < Y; y++)
            for (int64_t x = 0; x < X; x++) {
                int64_t i = (z * Y + y) * X + x;
                int32_t l = 0;
                if (y >= Y / 8 && y < Y - Y / 8 && x >= X / 8 && x < X / 2)
                    l = 1; /* a big block ... */
                if (y >= Y / 3 && y < Y / 2 && x >= X / 4 && x < X / 3)
                    l = 2; /* ... with a region inside its box */
                if (y == Y / 4 && x == X / 5)
                    l = 0; /* ... and a hole */
                if (x >= X - X / 6)
                    l = 3 + (int32_t)((y * 4) / (Y > 0 ? Y : 1)); /* strips on the right edge */
                if ((x + 3 * y + 5 * z) % 29 == 0 && x < X / 8)
                    l = 10 + (int32_t)(i % 7); /* scattered pixels on the left */
                v[i] = l;
            }
    uint64_t s = seed;
    for (int64_t i = 0; i < Z * Y * X; i += 1 + (int64_t)(tp_test_rand(&s) % 211))
        if (v[i] == 0)
            v[i] = 20 + (int32_t)(i % 5);
    return lab;
}

static int test_regionprops(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("regionprops_table: intensities with NaN and inf");
    for (int di = 0; di < N_DIMS; di++)
        for (int f = 0; f < 2; f++)
            for (int L = 0; L < L_COUNT; L += L_STEP) {
                const dims *d = &k_dims[di];
                char sz[48], what[160];
                dims_str(d, sz, sizeof sz);
                tp_image lab = nested_labels(d, 800 + (uint64_t)di);
                tp_image in = poisoned(k_floats[f], d, 0, (layout)L, 810 + (uint64_t)(di * 10 + L));
                snprintf(what, sizeof what, "regionprops %s %s %s", tp_dtype_name(k_floats[f]), sz, k_layout_names[L]);
                props_both(what, &lab, &in, PROPS_I);
                tp_image_free(&in);
                tp_image_free(&lab);
            }
    /* one NaN or infinity at a time, at every position of a small image: each region's box either holds it
     * or not */
    dims d = {2, {11, 13, 0}};
    tp_image lab = nested_labels(&d, 820);
    for (int f = 0; f < 2; f++)
        for (int sp = 0; sp < 3; sp++)
            for (int64_t i = 0; i < 11 * 13; i += tp_test_small() ? 5 : 1) {
                tp_image in = new_image(k_floats[f], 2, d.s, -1);
                fill_smooth(&in, 822);
                put_special(&in, i, sp);
                char what[96];
                snprintf(what, sizeof what, "regionprops one special %d at %lld %s", sp, (long long)i,
                         tp_dtype_name(k_floats[f]));
                props_both(what, &lab, &in, PROPS_I);
                tp_image_free(&in);
            }
    tp_image_free(&lab);
    /* large regions (numpy's chunks of 8192 in the sums) with an infinity and a NaN */
    if (!tp_test_small()) {
        dims big = {2, {300, 280, 0}};
        tp_image bl = new_image(TP_INT32, 2, big.s, -1);
        for (int64_t y = 0; y < 300; y++)
            for (int64_t x = 0; x < 280; x++)
                ((int32_t *)bl.data)[y * 280 + x] = y < 150 ? 1 + (x >= 140) : 3 + (int32_t)(x / 70);
        for (int f = 0; f < 2; f++) {
            tp_image in = poisoned(k_floats[f], &big, 0, L_CORNERS, 830);
            put_special(&in, 100 * 280 + 17, SP_PINF);
            put_special(&in, 200 * 280 + 150, SP_NAN_PAYLOAD);
            props_both("large regions", &bl, &in, PROPS_I);
            tp_image_free(&in);
        }
        tp_image_free(&bl);
    }
    done();
    return 0;
}

/* ---------------------------------------------------------------- a device-resident chain ---- */

/* gaussian -> threshold -> binary_opening with the image on the device, NaN and inf in it. */
static int test_device_chain(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    start("device-resident chain over NaN and inf");
    dims d = {2, {61, 53, 0}};
    for (int f = 0; f < 2; f++) {
        tp_image host = poisoned(k_floats[f], &d, 0, L_SPRINKLE, 900 + (uint64_t)f);
        tp_image dev = tp_image_empty();
        CHECK_OK(tp_image_copy(tp_test_ctx, &host, &dev, TP_DEVICE));
        const char *ops[3] = {"gaussian", "threshold", "binary_opening"};
        const char *specs[3] = {"sigma=1.5", "threshold=0.5", "footprint=disk:1"};
        tp_result rc[3], rg[3];
        for (int i = 0; i < 3; i++)
            rc[i] = rg[i] = tp_result_empty();
        for (int b = 0; b < 2; b++) {
            tp_result *r = b ? rg : rc;
            const tp_image *cur = b ? &dev : &host;
            for (int i = 0; i < 3; i++) {
                tp_params *p = params_of(specs[i]);
                const tp_image *in[1] = {cur};
                tp_status st = tp_run_on(tp_test_ctx, b ? TP_BACKEND_CUDA : TP_BACKEND_CPU, ops[i], in, 1, p, &r[i]);
                tp_params_destroy(p);
                CHECK_MSG(st == TP_OK, "chain %s on %s: %s", ops[i], b ? "cuda" : "cpu", tp_last_error(tp_test_ctx));
                if (st)
                    break;
                cur = &r[i].image;
            }
        }
        for (int i = 0; i < 3; i++) {
            if (!rc[i].image.data || !rg[i].image.data)
                continue;
            tp_image h = tp_image_empty();
            CHECK_OK(tp_image_copy(tp_test_ctx, &rg[i].image, &h, TP_HOST));
            char what[96];
            snprintf(what, sizeof what, "chain %s %s", ops[i], tp_dtype_name(k_floats[f]));
            if (h.data)
                same_image(what, &rc[i].image, &h, i > 0);
            tp_image_free(&h);
            g_runs++;
        }
        for (int i = 0; i < 3; i++) {
            tp_result_free(&rc[i]);
            tp_result_free(&rg[i]);
        }
        tp_image_free(&dev);
        tp_image_free(&host);
    }
    done();
    return 0;
}

TP_TESTS(T(test_copies_keep_every_bit), T(test_gaussian), T(test_threshold), T(test_morphology), T(test_label2rgb),
         T(test_regionprops), T(test_device_chain))

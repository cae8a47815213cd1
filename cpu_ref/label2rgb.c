/* label2rgb: scikit-image 0.19.3's skimage.color.label2rgb, kind='overlay' (color/colorlabel.py).
 *
 * The arithmetic follows numpy's evaluation exactly, so the output is bit-identical:
 *  - colours: a label's colour is colors[(rank - 1) % n], rank = its 1-based rank among the distinct
 *    non-background values present; background gets bg_color.
 *  - no image: alpha is 1 and the underlay is 0, so out = colour * 1 + 0 * 0.
 *  - with an image: img_as_float (float32 stays float32, every other dtype becomes float64), a grey image is
 *    stacked to RGB, an RGB image goes through rgb2hsv, S *= saturation, hsv2rgb; then
 *    u = img * image_alpha + (1 - image_alpha) and out = colour * alpha + u * (1 - alpha), where numpy
 *    computes every step on a float32 image in float32 (python scalars take the array's type) and only the
 *    final sum in float64.
 *  - bg_color None: background pixels show u itself.
 * Output: float64, the label's shape plus a last axis of 3. Pixels are independent, so threads cannot
 * change the result. */
#include "cpu_ref/cpu_ops.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define BG_INDEX 255 /* colour index of the background (colours are at most TP_MAX_COLORS = 64) */
#define CHUNK 256    /* pixels per inner block (the underlay lives on the stack) */

/* skimage.color.colorlabel.DEFAULT_COLORS with skimage.color.rgb_colors' values (three decimals, which
 * differ from matplotlib's x/255: green is 0.502, not 128/255). */
static const double default_colors[10 * 3] = {
    1, 0, 0,     0, 0, 1,         1, 1, 0,     1, 0, 1,         0, 0.502, 0,
    0.294, 0, 0.51, 1, 0.549, 0, 0, 1, 1,    1, 0.753, 0.796, 0.604, 0.804, 0.196,
};

typedef struct overlay {
    int64_t n;               /* pixels */
    const uint8_t *cidx;     /* colour index per pixel, BG_INDEX for bg_label */
    const double *colors;    /* 3 per colour */
    double bg_color[3];
    bool bg_none;            /* bg_color None: background shows the underlay */
    double alpha, image_alpha, saturation;
    const tp_image *image;   /* NULL: no underlay */
    bool rgb;                /* the image has a channel axis of 3 */
    int64_t inner;           /* product of the image's axes after its channel axis */
    double *out;
    int threads;
} overlay;

/* ---- colour index of each pixel ---- */

static tp_status labels_as_i64(tp_context *ctx, const tp_image *lab, const int64_t **vals, int64_t **owned)
{
    int64_t n = tp_image_count(lab);
    *owned = NULL;
    if (lab->dtype == TP_INT64) {
        *vals = lab->data;
        return TP_OK;
    }
    int64_t *v = tp_host_alloc(ctx, n, sizeof(int64_t));
    if (!v)
        return TP_ERR_NOMEM;
    switch (lab->dtype) {
#define TP_CONV_CASE(E, T)                                                                                         \
    case E: {                                                                                                      \
        const T *s = lab->data;                                                                                    \
        _Pragma("omp parallel for num_threads(ctx->threads) schedule(static)") for (int64_t i = 0; i < n; i++)     \
            v[i] = (int64_t)s[i];                                                                                  \
    } break;
        TP_CONV_CASE(TP_BOOL, uint8_t)
        TP_CONV_CASE(TP_UINT8, uint8_t)
        TP_CONV_CASE(TP_INT8, int8_t)
        TP_CONV_CASE(TP_UINT16, uint16_t)
        TP_CONV_CASE(TP_INT16, int16_t)
        TP_CONV_CASE(TP_UINT32, uint32_t)
        TP_CONV_CASE(TP_INT32, int32_t)
#undef TP_CONV_CASE
    default:
        free(v);
        return tp_error(ctx, TP_ERR_DTYPE, "label2rgb: label: expected a bool or integer image, got %s",
                        tp_dtype_name(lab->dtype));
    }
    *vals = v;
    *owned = v;
    return TP_OK;
}

/* Values within a small range: a table indexed by value. */
static tp_status colour_index_dense(tp_context *ctx, const int64_t *v, int64_t n, int64_t lo, uint64_t range,
                                    int64_t bg, int ncolors, uint8_t *cidx)
{
    uint8_t *tab = tp_host_calloc(ctx, (int64_t)range, 1);
    if (!tab)
        return TP_ERR_NOMEM;
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
    for (int64_t i = 0; i < n; i++)
        __atomic_store_n(&tab[(uint64_t)v[i] - (uint64_t)lo], 1, __ATOMIC_RELAXED); /* all threads store 1 */
    int64_t rank = 0;
    for (uint64_t k = 0; k < range; k++) {
        if (!tab[k])
            continue;
        if ((int64_t)((uint64_t)lo + k) == bg)
            tab[k] = BG_INDEX;
        else
            tab[k] = (uint8_t)(rank++ % ncolors);
    }
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
    for (int64_t i = 0; i < n; i++)
        cidx[i] = tab[(uint64_t)v[i] - (uint64_t)lo];
    free(tab);
    return TP_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Values spread widely: the sorted distinct values and a binary search per pixel (np.unique's ranks). */
static tp_status colour_index_sparse(tp_context *ctx, const int64_t *v, int64_t n, int64_t bg, int ncolors,
                                     uint8_t *cidx)
{
    int64_t *u = tp_host_alloc(ctx, n, sizeof(int64_t));
    if (!u)
        return TP_ERR_NOMEM;
    memcpy(u, v, (size_t)n * sizeof *u);
    qsort(u, (size_t)n, sizeof *u, cmp_i64);
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        if (i == 0 || u[i] != u[k - 1])
            u[k++] = u[i];
    const bool bg_present = bsearch(&bg, u, (size_t)k, sizeof *u, cmp_i64) != NULL;
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        int64_t a = 0, b = k - 1; /* v[i] is present: find its index among the distinct values */
        while (a < b) {
            int64_t m = a + (b - a) / 2;
            if (u[m] < v[i])
                a = m + 1;
            else
                b = m;
        }
        /* rank among the non-background values: a smaller background value takes no rank */
        int64_t r = a - (bg_present && bg < v[i]);
        cidx[i] = v[i] == bg ? BG_INDEX : (uint8_t)(r % ncolors);
    }
    free(u);
    return TP_OK;
}

static tp_status colour_indices(tp_context *ctx, const tp_image *lab, int64_t bg, int ncolors, uint8_t *cidx)
{
    const int64_t n = tp_image_count(lab);
    const int64_t *v;
    int64_t *owned;
    tp_status st = labels_as_i64(ctx, lab, &v, &owned);
    if (st)
        return st;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
#pragma omp parallel for num_threads(ctx->threads) schedule(static) reduction(min : lo) reduction(max : hi)
    for (int64_t i = 0; i < n; i++) {
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    uint64_t range = (uint64_t)hi - (uint64_t)lo + 1; /* 0 when the values span all of int64 */
    uint64_t dense_limit = (uint64_t)(n < (INT64_C(1) << 20) ? (INT64_C(1) << 20) : 2 * n);
    if (range != 0 && range <= dense_limit)
        st = colour_index_dense(ctx, v, n, lo, range, bg, ncolors, cidx);
    else
        st = colour_index_sparse(ctx, v, n, bg, ncolors, cidx);
    free(owned);
    return st;
}

/* ---- the underlay ---- */

/* img_as_float's scale of an integer dtype (x * (1 / max)); signed values then clip at -1. */
static double int_scale(tp_dtype t)
{
    switch (t) {
    case TP_UINT8: return 1.0 / 255;
    case TP_INT8: return 1.0 / 127;
    case TP_UINT16: return 1.0 / 65535;
    case TP_INT16: return 1.0 / 32767;
    case TP_UINT32: return 1.0 / 4294967295.0;
    case TP_INT32: return 1.0 / 2147483647.0;
    case TP_INT64: return 1.0 / 9223372036854775807.0;
    default: return 1.0;
    }
}

static int64_t elem_index(const overlay *o, int64_t p, int ch)
{
    if (!o->rgb)
        return p;
    if (o->inner == 1)
        return p * 3 + ch;
    return ((p / o->inner) * 3 + ch) * o->inner + p % o->inner;
}

/* Channel ch of pixels p0 .. p0+np-1 as float64, as img_as_float converts them, into dst[3k]. */
static void load_f64(const overlay *o, int ch, int64_t p0, int64_t np, double *dst)
{
    const tp_image *im = o->image;
    const double scale = int_scale(im->dtype);
    const bool is_signed = tp_dtype_is_signed(im->dtype) && !tp_dtype_is_float(im->dtype);
    switch (im->dtype) {
#define TP_LOAD_CASE(E, T, CONV)                                                                                   \
    case E: {                                                                                                      \
        const T *s = im->data;                                                                                     \
        for (int64_t k = 0; k < np; k++) {                                                                         \
            double x = CONV(s[elem_index(o, p0 + k, ch)]);                                                         \
            dst[3 * k] = is_signed && x < -1.0 ? -1.0 : x;                                                         \
        }                                                                                                          \
    } break;
#define TP_SCALED(e) ((double)(e) * scale)
#define TP_PLAIN(e) ((double)(e))
        TP_LOAD_CASE(TP_BOOL, uint8_t, TP_PLAIN)
        TP_LOAD_CASE(TP_UINT8, uint8_t, TP_SCALED)
        TP_LOAD_CASE(TP_INT8, int8_t, TP_SCALED)
        TP_LOAD_CASE(TP_UINT16, uint16_t, TP_SCALED)
        TP_LOAD_CASE(TP_INT16, int16_t, TP_SCALED)
        TP_LOAD_CASE(TP_UINT32, uint32_t, TP_SCALED)
        TP_LOAD_CASE(TP_INT32, int32_t, TP_SCALED)
        TP_LOAD_CASE(TP_INT64, int64_t, TP_SCALED)
        TP_LOAD_CASE(TP_FLOAT64, double, TP_PLAIN)
#undef TP_LOAD_CASE
#undef TP_SCALED
#undef TP_PLAIN
    default:
        break;
    }
}

static void load_f32(const overlay *o, int ch, int64_t p0, int64_t np, float *dst)
{
    const float *s = o->image->data;
    for (int64_t k = 0; k < np; k++)
        dst[3 * k] = s[elem_index(o, p0 + k, ch)];
}

/* The per-pixel colour maths in the image's float type T (float for float32 images, else double), with
 * numpy's operation order: rgb2hsv, S *= saturation, hsv2rgb (skimage.color.colorconv), then the image
 * alpha, then the blend. */
#define TP_DEFINE_OVERLAY(T, S, FLOOR, FMOD)                                                                       \
    static T remainder1_##S(T a) /* numpy's a % 1.0 */                                                              \
    {                                                                                                              \
        T m = FMOD(a, (T)1);                                                                                       \
        if (m != 0) {                                                                                              \
            if (m < 0)                                                                                             \
                m += (T)1;                                                                                         \
        } else {                                                                                                   \
            m = (T)0;                                                                                              \
        }                                                                                                          \
        return m;                                                                                                  \
    }                                                                                                              \
    static void desaturate_##S(T *px, T saturation)                                                                \
    {                                                                                                              \
        T r = px[0], g = px[1], b = px[2];                                                                         \
        T v = r > g ? r : g;                                                                                       \
        v = v > b ? v : b;                                                                                         \
        T mn = r < g ? r : g;                                                                                      \
        mn = mn < b ? mn : b;                                                                                      \
        T delta = v - mn;                                                                                          \
        T s = 0, h = 0;                                                                                            \
        if (delta != 0) {                                                                                          \
            s = delta / v;                                                                                         \
            T h0 = 0;                                                                                              \
            if (b == v)                                                                                            \
                h0 = (T)4 + (r - g) / delta;                                                                       \
            else if (g == v)                                                                                       \
                h0 = (T)2 + (b - r) / delta;                                                                       \
            else                                                                                                   \
                h0 = (g - b) / delta;                                                                              \
            h = remainder1_##S(h0 / (T)6);                                                                         \
        }                                                                                                          \
        s *= saturation;                                                                                           \
        T hi = FLOOR(h * (T)6);                                                                                    \
        T f = h * (T)6 - hi;                                                                                       \
        T p = v * ((T)1 - s);                                                                                      \
        T q = v * ((T)1 - f * s);                                                                                  \
        T t = v * ((T)1 - ((T)1 - f) * s);                                                                         \
        switch ((uint8_t)hi % 6) {                                                                                 \
        case 0: px[0] = v, px[1] = t, px[2] = p; break;                                                            \
        case 1: px[0] = q, px[1] = v, px[2] = p; break;                                                            \
        case 2: px[0] = p, px[1] = v, px[2] = t; break;                                                            \
        case 3: px[0] = p, px[1] = q, px[2] = v; break;                                                            \
        case 4: px[0] = t, px[1] = p, px[2] = v; break;                                                            \
        default: px[0] = v, px[1] = p, px[2] = q; break;                                                           \
        }                                                                                                          \
    }                                                                                                              \
    static void blend_chunk_##S(const overlay *o, int64_t p0, int64_t np, T *u)                                    \
    {                                                                                                              \
        for (int ch = 0; ch < (o->rgb ? 3 : 1); ch++)                                                              \
            load_##S(o, ch, p0, np, u + ch);                                                                       \
        const T ia = (T)o->image_alpha, one_m_ia = (T)(1.0 - o->image_alpha), sat = (T)o->saturation;             \
        const T one_m_alpha = (T)(1.0 - o->alpha);                                                                 \
        for (int64_t k = 0; k < np; k++) {                                                                         \
            T *px = u + 3 * k;                                                                                     \
            if (o->rgb)                                                                                            \
                desaturate_##S(px, sat);                                                                           \
            else                                                                                                   \
                px[1] = px[2] = px[0];                                                                             \
            uint8_t ci = o->cidx[p0 + k];                                                                          \
            const double *col = ci == BG_INDEX ? o->bg_color : o->colors + 3 * ci;                                 \
            double *dst = o->out + 3 * (p0 + k);                                                                   \
            for (int c = 0; c < 3; c++) {                                                                          \
                T under = px[c] * ia + one_m_ia;                                                                   \
                dst[c] = ci == BG_INDEX && o->bg_none ? (double)under                                              \
                                                      : col[c] * o->alpha + (double)(T)(under * one_m_alpha);      \
            }                                                                                                      \
        }                                                                                                          \
    }

TP_DEFINE_OVERLAY(double, f64, floor, fmod)
TP_DEFINE_OVERLAY(float, f32, floorf, fmodf)
#undef TP_DEFINE_OVERLAY

/* No image: alpha is 1 and the underlay is zeros (numpy still computes colour * 1 + 0 * 0). */
static void paint_chunk(const overlay *o, int64_t p0, int64_t np)
{
    const double one = 1.0, zero_times = 0.0 * (1.0 - 1.0);
    for (int64_t k = 0; k < np; k++) {
        uint8_t ci = o->cidx[p0 + k];
        const double *col = ci == BG_INDEX ? o->bg_color : o->colors + 3 * ci;
        double *dst = o->out + 3 * (p0 + k);
        for (int c = 0; c < 3; c++)
            dst[c] = ci == BG_INDEX && o->bg_none ? 0.0 : col[c] * one + zero_times;
    }
}

static void paint(const overlay *o)
{
    const int64_t nchunks = (o->n + CHUNK - 1) / CHUNK;
    const bool f32 = o->image && o->image->dtype == TP_FLOAT32;
#pragma omp parallel for num_threads(o->threads) schedule(static)
    for (int64_t b = 0; b < nchunks; b++) {
        int64_t p0 = b * CHUNK, np = o->n - p0 < CHUNK ? o->n - p0 : CHUNK;
        if (!o->image) {
            paint_chunk(o, p0, np);
        } else if (f32) {
            float u[3 * CHUNK];
            blend_chunk_f32(o, p0, np, u);
        } else {
            double u[3 * CHUNK];
            blend_chunk_f64(o, p0, np, u);
        }
    }
}

static tp_status check_image(tp_context *ctx, const tp_image *im, overlay *o)
{
    if (!im)
        return TP_OK;
    o->rgb = im->channel_axis >= 0;
    if (o->rgb && im->shape[im->channel_axis] != 3)
        return tp_error(ctx, TP_ERR_SHAPE, "label2rgb: image: expected 3 channels (RGB) on the channel axis, got %lld",
                        (long long)im->shape[im->channel_axis]);
    o->inner = 1;
    for (int k = im->channel_axis + 1; o->rgb && k < im->ndim; k++)
        o->inner *= im->shape[k];
    return TP_OK;
}

tp_status tp_cpu_label2rgb(tp_context *ctx, const tp_call *c)
{
    const tp_image *lab = c->in[0], *im = c->n_in > 1 ? c->in[1] : NULL;
    overlay o;
    memset(&o, 0, sizeof o);
    o.n = tp_image_count(lab);
    o.image = im;
    o.threads = ctx->threads > 0 ? ctx->threads : 1;
    o.alpha = im ? tp_arg_f64(c, "alpha") : 1.0;
    o.image_alpha = tp_arg_f64(c, "image_alpha");
    o.saturation = tp_arg_f64(c, "saturation");
    int ncolors;
    o.colors = tp_arg_colors(c, "colors", &ncolors);
    if (!o.colors) {
        o.colors = default_colors;
        ncolors = 10;
    }
    o.bg_none = tp_arg_is_none(c, "bg_color");
    if (!o.bg_none) {
        int nbg;
        memcpy(o.bg_color, tp_arg_colors(c, "bg_color", &nbg), sizeof o.bg_color);
    }
    tp_status st = check_image(ctx, im, &o);
    if (st)
        return st;
    if (lab->ndim + 1 > TP_MAX_DIMS)
        return tp_error(ctx, TP_ERR_SHAPE, "label2rgb: label: expected at most %d axes, got %d", TP_MAX_DIMS - 1,
                        lab->ndim);
    int64_t shape[TP_MAX_DIMS];
    memcpy(shape, lab->shape, sizeof(int64_t) * (size_t)lab->ndim);
    shape[lab->ndim] = 3;
    uint8_t *cidx = tp_host_alloc(ctx, o.n, 1);
    if (!cidx)
        return TP_ERR_NOMEM;
    st = colour_indices(ctx, lab, tp_arg_i64(c, "bg_label"), ncolors, cidx);
    if (!st)
        st = tp_out_image(ctx, c, TP_FLOAT64, lab->ndim + 1, shape, lab->ndim);
    if (!st) {
        o.cidx = cidx;
        o.out = c->out->image.data;
        paint(&o);
    }
    free(cidx);
    return st;
}

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
 * change the result.
 *
 * Speed (docs/notes_cpu_perf.md): labels within a small range (the usual case) get one table from value to
 * colour index, built from the typed labels (no int64 copy, no per-pixel index array); each colour's
 * colour * alpha (the whole output value without an image) is computed once, so a pixel is a table look-up
 * and three stores, or, over a grey image, one underlay and three adds. The image goes through convert.h's
 * img_as_float loaders, the same code img_as_float and gaussian use. Threads write contiguous runs of the
 * output, so each first-touches its own pages (huge pages, from tp_host_malloc). */
#include "cpu_ref/convert.h"
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
    /* The colour index of pixel p: tab[label[p] - lo] (labels within a small range), else cidx[p]. */
    const void *labels;
    tp_dtype ltype;
    int64_t lo;
    const uint8_t *tab;
    const uint8_t *cidx;
    const double *colors;    /* 3 per colour */
    double bg_color[3];
    bool bg_none;            /* bg_color None: background shows the underlay */
    double alpha, image_alpha, saturation;
    const tp_image *image;   /* NULL: no underlay */
    tp_float_conv cv;        /* img_as_float of the image (cpu_ref/convert.h) */
    bool rgb;                /* the image has a channel axis of 3 */
    int64_t inner;           /* product of the image's axes after its channel axis */
    double paint[256 * 3];   /* colour * alpha of each colour index, BG_INDEX included (paint_table) */
    double *out;
    int threads;
} overlay;

/* ---- colour index of each pixel ---- */

/* The label dtypes, each with its C type: the passes over the labels are typed, no int64 copy. */
#define TP_FOR_LABEL_TYPES(X)                                                                                      \
    X(TP_BOOL, uint8_t)                                                                                            \
    X(TP_UINT8, uint8_t)                                                                                           \
    X(TP_INT8, int8_t)                                                                                             \
    X(TP_UINT16, uint16_t)                                                                                         \
    X(TP_INT16, int16_t)                                                                                           \
    X(TP_UINT32, uint32_t)                                                                                         \
    X(TP_INT32, int32_t)                                                                                           \
    X(TP_INT64, int64_t)

static bool label_dtype_ok(tp_dtype t)
{
    switch (t) {
#define TP_OK_CASE(E, T) case E:
        TP_FOR_LABEL_TYPES(TP_OK_CASE)
#undef TP_OK_CASE
        return true;
    default: return false;
    }
}

/* lo, hi of the labels (compared in their own type, which vectorises; widened once at the end). */
static void label_range(const tp_image *lab, int threads, int64_t *lo_out, int64_t *hi_out)
{
    const int64_t n = tp_image_count(lab);
    *lo_out = *hi_out = 0;
    if (n == 0)
        return;
    switch (lab->dtype) {
#define TP_RANGE_CASE(E, T)                                                                                        \
    case E: {                                                                                                      \
        const T *v = lab->data;                                                                                    \
        T lo = v[0], hi = v[0];                                                                                    \
        _Pragma("omp parallel for num_threads(threads) schedule(static) reduction(min : lo) reduction(max : hi)")  \
        for (int64_t i = 0; i < n; i++) {                                                                          \
            lo = v[i] < lo ? v[i] : lo;                                                                            \
            hi = v[i] > hi ? v[i] : hi;                                                                            \
        }                                                                                                          \
        *lo_out = (int64_t)lo;                                                                                     \
        *hi_out = (int64_t)hi;                                                                                     \
    } break;
        TP_FOR_LABEL_TYPES(TP_RANGE_CASE)
#undef TP_RANGE_CASE
    default: break;
    }
}

/* Values within a small range: a table indexed by value - lo, holding each value's colour index. */
static tp_status colour_table_dense(tp_context *ctx, const tp_image *lab, int64_t lo, uint64_t range, int64_t bg,
                                    int ncolors, uint8_t **tab_out)
{
    const int64_t n = tp_image_count(lab);
    uint8_t *tab = tp_host_calloc(ctx, (int64_t)range, 1);
    if (!tab)
        return TP_ERR_NOMEM;
    *tab_out = tab;
    if (n == 0)
        return TP_OK;
    /* Mark the values present. Every thread stores 1, and only where it reads 0: the line of the background
     * value is read by all threads but written once, not bounced between their caches on every pixel. */
    switch (lab->dtype) {
#define TP_MARK_CASE(E, T)                                                                                         \
    case E: {                                                                                                      \
        const T *v = lab->data;                                                                                    \
        _Pragma("omp parallel num_threads(ctx->threads)") {                                                         \
            T prev = v[0]; /* runs of one label are common: look each run's value up once */                      \
            bool first = true;                                                                                     \
            _Pragma("omp for schedule(static)") for (int64_t i = 0; i < n; i++) {                                 \
                if (!first && v[i] == prev)                                                                        \
                    continue;                                                                                      \
                first = false;                                                                                     \
                prev = v[i];                                                                                       \
                uint8_t *t = &tab[(uint64_t)(int64_t)v[i] - (uint64_t)lo];                                        \
                if (!__atomic_load_n(t, __ATOMIC_RELAXED))                                                         \
                    __atomic_store_n(t, 1, __ATOMIC_RELAXED);                                                      \
            }                                                                                                      \
        }                                                                                                          \
    } break;
        TP_FOR_LABEL_TYPES(TP_MARK_CASE)
#undef TP_MARK_CASE
    default: break;
    }
    int64_t rank = 0;
    for (uint64_t k = 0; k < range; k++) {
        if (!tab[k])
            continue;
        if ((int64_t)((uint64_t)lo + k) == bg)
            tab[k] = BG_INDEX;
        else
            tab[k] = (uint8_t)(rank++ % ncolors);
    }
    return TP_OK;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Values spread widely: the labels as int64, their sorted distinct values and a binary search per pixel
 * (np.unique's ranks) into a colour index per pixel. */
static tp_status colour_index_sparse(tp_context *ctx, const tp_image *lab, int64_t bg, int ncolors, uint8_t *cidx)
{
    const int64_t n = tp_image_count(lab);
    int64_t *v = tp_host_alloc(ctx, n, sizeof(int64_t));
    int64_t *u = tp_host_alloc(ctx, n, sizeof(int64_t));
    if (!v || !u) {
        free(v);
        free(u);
        return TP_ERR_NOMEM;
    }
    switch (lab->dtype) {
#define TP_CONV_CASE(E, T)                                                                                         \
    case E: {                                                                                                      \
        const T *s = lab->data;                                                                                    \
        _Pragma("omp parallel for num_threads(ctx->threads) schedule(static)") for (int64_t i = 0; i < n; i++)     \
            v[i] = (int64_t)s[i];                                                                                  \
    } break;
        TP_FOR_LABEL_TYPES(TP_CONV_CASE)
#undef TP_CONV_CASE
    default: break;
    }
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
    free(v);
    return TP_OK;
}

/* Colour indices of pixels p0 .. p0+np-1 into dst. */
static void chunk_cidx(const overlay *o, int64_t p0, int64_t np, uint8_t *restrict dst)
{
    if (o->cidx) {
        memcpy(dst, o->cidx + p0, (size_t)np);
        return;
    }
    const uint8_t *tab = o->tab;
    const uint64_t lo = (uint64_t)o->lo;
    switch (o->ltype) {
#define TP_GATHER_CASE(E, T)                                                                                       \
    case E: {                                                                                                      \
        const T *v = (const T *)o->labels + p0;                                                                    \
        for (int64_t k = 0; k < np; k++)                                                                           \
            dst[k] = tab[(uint64_t)(int64_t)v[k] - lo];                                                            \
    } break;
        TP_FOR_LABEL_TYPES(TP_GATHER_CASE)
#undef TP_GATHER_CASE
    default: break;
    }
}

/* ---- the underlay ---- */

/* Channel ch of pixels p0 .. p0+np-1 into dst[0..np): elements (p * 3 + ch) for a channel-last image,
 * runs of the channel's plane otherwise. */
#define TP_DEFINE_CHANNEL_LOAD(S, T, LOAD)                                                                         \
    static void channel_##S(const overlay *o, int ch, int64_t p0, int64_t np, T *dst)                              \
    {                                                                                                              \
        const void *base = o->image->data;                                                                         \
        if (!o->rgb) {                                                                                             \
            LOAD(base, p0, 1, np, dst);                                                                            \
        } else if (o->inner == 1) {                                                                                \
            LOAD(base, p0 * 3 + ch, 3, np, dst);                                                                   \
        } else {                                                                                                   \
            for (int64_t k = 0; k < np;) { /* a run stays within one plane of the channel */                       \
                const int64_t p = p0 + k, q = p / o->inner, r = p % o->inner;                                      \
                const int64_t m = o->inner - r < np - k ? o->inner - r : np - k;                                   \
                LOAD(base, (q * 3 + ch) * o->inner + r, 1, m, dst + k);                                            \
                k += m;                                                                                            \
            }                                                                                                      \
        }                                                                                                          \
    }
/* float64 underlay: img_as_float of any non-float32 dtype, by convert.h's rules */
#define TP_LOAD_F64(base, first, stride, n, dst) tp_float_conv_load(&o->cv, base, first, stride, n, dst)
/* float32 underlay: img_as_float keeps float32 as it is */
#define TP_LOAD_F32(base, first, stride, n, dst)                                                                   \
    do {                                                                                                           \
        const float *s_ = (const float *)(base) + (first);                                                         \
        for (int64_t i_ = 0; i_ < (n); i_++)                                                                       \
            (dst)[i_] = s_[i_ * (stride)];                                                                         \
    } while (0)
TP_DEFINE_CHANNEL_LOAD(f64, double, TP_LOAD_F64)
TP_DEFINE_CHANNEL_LOAD(f32, float, TP_LOAD_F32)
#undef TP_DEFINE_CHANNEL_LOAD
#undef TP_LOAD_F64
#undef TP_LOAD_F32

/* The per-pixel colour maths in the image's float type T (float for float32 images, else double), with
 * numpy's operation order: rgb2hsv, S *= saturation, hsv2rgb (skimage.color.colorconv), then the image
 * alpha, then the blend. u holds the chunk's channels as three planes of CHUNK values. */
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
        if (isnan(r) || isnan(g) || isnan(b)) { /* NaN max and ptp: rgb2hsv zeroes V and S, the pixel is black */  \
            px[0] = px[1] = px[2] = (T)0;                                                                          \
            return;                                                                                                \
        }                                                                                                          \
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
            if (isnan(h)) /* inf / inf, inf - inf: rgb2hsv zeroes the NaNs of H and S */                           \
                h = 0;                                                                                             \
            if (isnan(s))                                                                                          \
                s = 0;                                                                                             \
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
    static void blend_chunk_##S(const overlay *o, int64_t p0, int64_t np, const uint8_t *cidx, T *u)               \
    {                                                                                                              \
        for (int ch = 0; ch < (o->rgb ? 3 : 1); ch++)                                                              \
            channel_##S(o, ch, p0, np, u + ch * CHUNK);                                                            \
        const T ia = (T)o->image_alpha, one_m_ia = (T)(1.0 - o->image_alpha), sat = (T)o->saturation;             \
        const T one_m_alpha = (T)(1.0 - o->alpha);                                                                 \
        const double *restrict ca = o->paint; /* colour * alpha of each index */                                   \
        const bool bg_none = o->bg_none;                                                                           \
        double *restrict dst = o->out + 3 * p0;                                                                    \
        if (!o->rgb) { /* grey: the three channels are one value, so one underlay per pixel */                    \
            for (int64_t k = 0; k < np; k++) {                                                                     \
                const T under = u[k] * ia + one_m_ia;                                                              \
                const uint8_t ci = cidx[k];                                                                        \
                if (bg_none && ci == BG_INDEX) {                                                                   \
                    dst[3 * k] = dst[3 * k + 1] = dst[3 * k + 2] = (double)under;                                  \
                } else {                                                                                           \
                    const double w = (double)(T)(under * one_m_alpha);                                             \
                    dst[3 * k] = ca[3 * ci] + w;                                                                   \
                    dst[3 * k + 1] = ca[3 * ci + 1] + w;                                                           \
                    dst[3 * k + 2] = ca[3 * ci + 2] + w;                                                           \
                }                                                                                                  \
            }                                                                                                      \
            return;                                                                                                \
        }                                                                                                          \
        for (int64_t k = 0; k < np; k++) {                                                                         \
            T px[3] = {u[k], u[CHUNK + k], u[2 * CHUNK + k]};                                                      \
            desaturate_##S(px, sat);                                                                               \
            const uint8_t ci = cidx[k];                                                                            \
            for (int c = 0; c < 3; c++) {                                                                          \
                const T under = px[c] * ia + one_m_ia;                                                             \
                dst[3 * k + c] = bg_none && ci == BG_INDEX ? (double)under                                         \
                                                           : ca[3 * ci + c] + (double)(T)(under * one_m_alpha);    \
            }                                                                                                      \
        }                                                                                                          \
    }

TP_DEFINE_OVERLAY(double, f64, floor, fmod)
TP_DEFINE_OVERLAY(float, f32, floorf, fmodf)
#undef TP_DEFINE_OVERLAY

/* The colour part of each colour index (BG_INDEX included), computed once per call as numpy computes it
 * per pixel: colour * alpha. No image: alpha is 1 and the underlay is zeros, so numpy's colour * 1 + 0 * 0
 * is the whole output value (0, the underlay, for the background with bg_color None). */
static void paint_table(overlay *o, int ncolors)
{
    const double one = 1.0, zero_times = 0.0 * (1.0 - 1.0);
    for (int i = 0; i < 256; i++)
        for (int c = 0; c < 3; c++) {
            const double *col = i == BG_INDEX ? o->bg_color : i < ncolors ? o->colors + 3 * i : NULL;
            double v = 0.0;
            if (col && o->image)
                v = col[c] * o->alpha;
            else if (col && !(i == BG_INDEX && o->bg_none))
                v = col[c] * one + zero_times;
            o->paint[3 * i + c] = v;
        }
}

static void paint_chunk(const overlay *o, int64_t p0, int64_t np, const uint8_t *cidx)
{
    const double *restrict tab = o->paint;
    double *restrict dst = o->out + 3 * p0;
    for (int64_t k = 0; k < np; k++) {
        const double *col = tab + 3 * cidx[k];
        dst[3 * k] = col[0];
        dst[3 * k + 1] = col[1];
        dst[3 * k + 2] = col[2];
    }
}

/* Pixels are split in static contiguous runs, so each thread first-touches the output pages it writes. */
static void paint(const overlay *o)
{
    const int64_t nchunks = (o->n + CHUNK - 1) / CHUNK;
    const bool f32 = o->image && o->image->dtype == TP_FLOAT32;
#pragma omp parallel for num_threads(o->threads) schedule(static)
    for (int64_t b = 0; b < nchunks; b++) {
        int64_t p0 = b * CHUNK, np = o->n - p0 < CHUNK ? o->n - p0 : CHUNK;
        uint8_t cidx[CHUNK];
        chunk_cidx(o, p0, np, cidx);
        if (!o->image) {
            paint_chunk(o, p0, np, cidx);
        } else if (f32) {
            float u[3 * CHUNK];
            blend_chunk_f32(o, p0, np, cidx, u);
        } else {
            double u[3 * CHUNK];
            blend_chunk_f64(o, p0, np, cidx, u);
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
    if (!label_dtype_ok(lab->dtype))
        return tp_error(ctx, TP_ERR_DTYPE, "label2rgb: label: expected a bool or integer image, got %s",
                        tp_dtype_name(lab->dtype));
    if (im)
        o.cv = tp_float_conv_make(im->dtype, 0);
    int64_t shape[TP_MAX_DIMS];
    memcpy(shape, lab->shape, sizeof(int64_t) * (size_t)lab->ndim);
    shape[lab->ndim] = 3;
    const int64_t bg = tp_arg_i64(c, "bg_label");
    int64_t lo, hi;
    label_range(lab, o.threads, &lo, &hi);
    const uint64_t range = (uint64_t)hi - (uint64_t)lo + 1; /* 0 when the values span all of int64 */
    const uint64_t dense_limit = (uint64_t)(o.n < (INT64_C(1) << 20) ? (INT64_C(1) << 20) : 2 * o.n);
    uint8_t *tab = NULL, *cidx = NULL;
    if (range != 0 && range <= dense_limit) {
        st = colour_table_dense(ctx, lab, lo, range, bg, ncolors, &tab);
    } else if (!(cidx = tp_host_alloc(ctx, o.n, 1))) {
        st = TP_ERR_NOMEM;
    } else {
        st = colour_index_sparse(ctx, lab, bg, ncolors, cidx);
    }
    if (!st)
        st = tp_out_image(ctx, c, TP_FLOAT64, lab->ndim + 1, shape, lab->ndim);
    if (!st) {
        o.labels = lab->data;
        o.ltype = lab->dtype;
        o.lo = lo;
        o.tab = tab;
        o.cidx = cidx;
        o.out = c->out->image.data;
        paint_table(&o, ncolors);
        paint(&o);
    }
    free(tab);
    free(cidx);
    return st;
}

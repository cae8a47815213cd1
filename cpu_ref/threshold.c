/* threshold: image > t, strict, compared as numpy compares an array with a Python float (in float64).
 *
 * The comparison (double)x > t is monotone in x, so for each dtype it is the same as one comparison in
 * the image's own type against a cut found once per call, exactly:
 *  - integers: x >= k, k the smallest value of the type with (double)k > t (a binary search over the
 *    type's range with that very predicate, so int64's rounding to double is accounted for); no such k:
 *    every pixel is false (t NaN, or t >= the type's maximum); k the type's minimum: every pixel is true.
 *  - float32: x >= f, f the smallest float with (double)f > t; NaN pixels compare false either way.
 *  - float64: x > t as it is.
 * The loops are then one compare per element in the element's width, which the compiler vectorises. */
#include "cpu_ref/convert.h"
#include "cpu_ref/cpu_ops.h"

#include <math.h>
#include <string.h>

enum { BLOCK = 1 << 16 }; /* elements per task */

/* Smallest k in [lo, hi] with (double)k > t; *none when even hi is not, *all when lo already is. */
static int64_t int_cut(int64_t lo, int64_t hi, double t, int *none, int *all)
{
    *none = !((double)hi > t);
    *all = (double)lo > t;
    if (*none || *all)
        return lo;
    /* pred(a) false, pred(b) true; searched as uint64 with the sign bit flipped (same order, no overflow) */
    const uint64_t flip = UINT64_C(1) << 63;
    uint64_t a = (uint64_t)lo ^ flip, b = (uint64_t)hi ^ flip;
    while (b - a > 1) {
        uint64_t m = a + (b - a) / 2;
        if ((double)(int64_t)(m ^ flip) > t)
            b = m;
        else
            a = m;
    }
    return (int64_t)(b ^ flip);
}

/* Smallest float f with (double)f > t; *none when no float is (t NaN or +inf). */
static float f32_cut(double t, int *none)
{
    *none = !((double)INFINITY > t);
    if (*none)
        return 0.0f;
    float f = (float)t; /* round to nearest, then step to the exact cut (one or two steps at most) */
    while (!((double)f > t))
        f = nextafterf(f, INFINITY);
    for (float p = nextafterf(f, -INFINITY); f != -INFINITY && (double)p > t; p = nextafterf(f, -INFINITY))
        f = p;
    return f;
}

/* The compare loops, also compiled for AVX2 and AVX-512 and picked at load time (as gaussian's kernels):
 * a compare of doubles packed to bytes is several instructions per element on baseline SSE2, which keeps
 * the float paths below memory speed. Not under ThreadSanitizer (the IFUNC resolver runs before it). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) &&                      \
    !defined(__SANITIZE_THREAD__)
#define TP_CMP_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TP_CMP_CLONES
#endif

#define TP_DEFINE_GE(S, T)                                                                                         \
    TP_CMP_CLONES static void ge_##S(const T *restrict x, uint8_t *restrict o, int64_t n, T k)                     \
    {                                                                                                              \
        for (int64_t i = 0; i < n; i++)                                                                            \
            o[i] = x[i] >= k;                                                                                      \
    }
TP_DEFINE_GE(u8, uint8_t)
TP_DEFINE_GE(i8, int8_t)
TP_DEFINE_GE(u16, uint16_t)
TP_DEFINE_GE(i16, int16_t)
TP_DEFINE_GE(u32, uint32_t)
TP_DEFINE_GE(i32, int32_t)
TP_DEFINE_GE(i64, int64_t)
TP_DEFINE_GE(f32, float)
#undef TP_DEFINE_GE

TP_CMP_CLONES static void gt_f64(const double *restrict x, uint8_t *restrict o, int64_t n, double t)
{
    for (int64_t i = 0; i < n; i++)
        o[i] = x[i] > t;
}

tp_status tp_cpu_threshold(tp_context *ctx, const tp_call *c)
{
    const tp_image *in = c->in[0];
    const tp_image *timg = tp_arg_image(c, "threshold");
    double t = timg ? tp_get_f64(timg->data, timg->dtype, 0) : tp_arg_f64(c, "threshold");
    int64_t lo, hi;
    switch (in->dtype) {
    case TP_UINT8: lo = 0, hi = UINT8_MAX; break;
    case TP_INT8: lo = INT8_MIN, hi = INT8_MAX; break;
    case TP_UINT16: lo = 0, hi = UINT16_MAX; break;
    case TP_INT16: lo = INT16_MIN, hi = INT16_MAX; break;
    case TP_UINT32: lo = 0, hi = UINT32_MAX; break;
    case TP_INT32: lo = INT32_MIN, hi = INT32_MAX; break;
    case TP_INT64: lo = INT64_MIN, hi = INT64_MAX; break;
    case TP_FLOAT32:
    case TP_FLOAT64: lo = hi = 0; break;
    default:
        return tp_error(ctx, TP_ERR_DTYPE, "threshold: image: unsupported dtype %s", tp_dtype_name(in->dtype));
    }
    tp_status st = tp_out_image(ctx, c, TP_BOOL, in->ndim, in->shape, -1);
    if (st)
        return st;
    const int64_t n = tp_image_count(in), nblocks = (n + BLOCK - 1) / BLOCK;
    uint8_t *o = c->out->image.data;
    int none = 0, all = 0;
    int64_t k = 0;
    float kf = 0.0f;
    if (in->dtype == TP_FLOAT32)
        kf = f32_cut(t, &none);
    else if (in->dtype != TP_FLOAT64)
        k = int_cut(lo, hi, t, &none, &all);
    const void *x = in->data;
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
    for (int64_t b = 0; b < nblocks; b++) {
        const int64_t i0 = b * BLOCK, m = n - i0 < BLOCK ? n - i0 : BLOCK;
        if (none || all) {
            memset(o + i0, all, (size_t)m);
            continue;
        }
        switch (in->dtype) {
        case TP_UINT8: ge_u8((const uint8_t *)x + i0, o + i0, m, (uint8_t)k); break;
        case TP_INT8: ge_i8((const int8_t *)x + i0, o + i0, m, (int8_t)k); break;
        case TP_UINT16: ge_u16((const uint16_t *)x + i0, o + i0, m, (uint16_t)k); break;
        case TP_INT16: ge_i16((const int16_t *)x + i0, o + i0, m, (int16_t)k); break;
        case TP_UINT32: ge_u32((const uint32_t *)x + i0, o + i0, m, (uint32_t)k); break;
        case TP_INT32: ge_i32((const int32_t *)x + i0, o + i0, m, (int32_t)k); break;
        case TP_INT64: ge_i64((const int64_t *)x + i0, o + i0, m, k); break;
        case TP_FLOAT32: ge_f32((const float *)x + i0, o + i0, m, kf); break;
        default: gt_f64((const double *)x + i0, o + i0, m, t); break;
        }
    }
    return TP_OK;
}

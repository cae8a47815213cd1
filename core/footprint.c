/* Footprints (structuring elements) as scikit-image's skimage.morphology builds them. */
#include "twinpix/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void tp_footprint_free(tp_footprint *fp)
{
    if (!fp)
        return;
    free(fp->data);
    memset(fp, 0, sizeof *fp);
}

static tp_status fp_alloc(tp_context *ctx, tp_footprint *fp, int ndim, int64_t a, int64_t b, int64_t c)
{
    memset(fp, 0, sizeof *fp);
    fp->ndim = ndim;
    fp->shape[0] = a;
    fp->shape[1] = b;
    fp->shape[2] = ndim == 3 ? c : 1;
    int64_t n;
    if (!tp_shape_product(fp->shape, 3, &n) || n > (int64_t)1 << 30)
        return tp_error(ctx, TP_ERR_ARG, "footprint: size %lldx%lldx%lld is too large", (long long)a, (long long)b,
                        (long long)c);
    fp->data = tp_host_calloc(ctx, n, 1);
    return fp->data ? TP_OK : TP_ERR_NOMEM;
}

/* skimage.morphology.disk: X^2 + Y^2 <= r^2 over [-r, r]^2 */
static tp_status make_disk(tp_context *ctx, tp_footprint *fp, int64_t r)
{
    tp_status st = fp_alloc(ctx, fp, 2, 2 * r + 1, 2 * r + 1, 1);
    if (st)
        return st;
    for (int64_t y = -r; y <= r; y++)
        for (int64_t x = -r; x <= r; x++)
            fp->data[(y + r) * (2 * r + 1) + (x + r)] = x * x + y * y <= r * r;
    return TP_OK;
}

/* skimage.morphology.ball: X^2 + Y^2 + Z^2 <= r^2 */
static tp_status make_ball(tp_context *ctx, tp_footprint *fp, int64_t r)
{
    int64_t w = 2 * r + 1;
    tp_status st = fp_alloc(ctx, fp, 3, w, w, w);
    if (st)
        return st;
    for (int64_t z = -r; z <= r; z++)
        for (int64_t y = -r; y <= r; y++)
            for (int64_t x = -r; x <= r; x++)
                fp->data[((z + r) * w + (y + r)) * w + (x + r)] = x * x + y * y + z * z <= r * r;
    return TP_OK;
}

/* diamond (2D) / octahedron (3D): |x| + |y| (+ |z|) <= r */
static tp_status make_diamond(tp_context *ctx, tp_footprint *fp, int64_t r, int ndim)
{
    int64_t w = 2 * r + 1;
    tp_status st = fp_alloc(ctx, fp, ndim, w, w, w);
    if (st)
        return st;
    int64_t zr = ndim == 3 ? r : 0;
    for (int64_t z = -zr; z <= zr; z++)
        for (int64_t y = -r; y <= r; y++)
            for (int64_t x = -r; x <= r; x++)
                fp->data[((z + zr) * w + (y + r)) * w + (x + r)] = llabs(x) + llabs(y) + llabs(z) <= r;
    return TP_OK;
}

static tp_status make_box(tp_context *ctx, tp_footprint *fp, int ndim, int64_t a, int64_t b, int64_t c)
{
    tp_status st = fp_alloc(ctx, fp, ndim, a, b, c);
    if (st)
        return st;
    memset(fp->data, 1, (size_t)(a * b * (ndim == 3 ? c : 1)));
    return TP_OK;
}

/* scipy.ndimage.generate_binary_structure(ndim, 1): the cross, scikit-image's default footprint */
static tp_status make_cross(tp_context *ctx, tp_footprint *fp, int ndim)
{
    return make_diamond(ctx, fp, 1, ndim);
}

static int parse_dims(const char *s, int64_t *d, int maxn)
{
    int n = 0;
    while (*s && n < maxn) {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (end == s || v < 1 || v > 100000)
            return -1;
        d[n++] = v;
        s = end;
        if (*s == 'x' || *s == ',')
            s++;
        else if (*s)
            return -1;
    }
    return *s ? -1 : n;
}

tp_status tp_footprint_parse(tp_context *ctx, const char *spec, tp_footprint *fp)
{
    memset(fp, 0, sizeof *fp);
    if (!spec || !*spec)
        return tp_error(ctx, TP_ERR_ARG, "footprint: expected a spec such as disk:2, got an empty string");
    if (!strcmp(spec, "cross"))
        return make_cross(ctx, fp, 2);
    if (!strcmp(spec, "cross3"))
        return make_cross(ctx, fp, 3);
    const char *colon = strchr(spec, ':');
    if (!colon) {
        tp_image im = tp_image_empty();
        tp_status st = tp_read_image(ctx, spec, &im, NULL);
        if (st)
            return tp_error(ctx, TP_ERR_ARG,
                            "footprint: '%s' is neither a spec (disk:R, square:W, rectangle:HxW, diamond:R, ball:R, "
                            "cube:W, octahedron:R, cuboid:DxHxW, cross, cross3) nor a readable image file", spec);
        st = tp_footprint_from_image(ctx, &im, fp);
        tp_image_free(&im);
        return st;
    }
    char kind[32];
    size_t klen = (size_t)(colon - spec);
    if (klen >= sizeof kind)
        return tp_error(ctx, TP_ERR_ARG, "footprint: unknown kind in '%s'", spec);
    memcpy(kind, spec, klen);
    kind[klen] = 0;
    int64_t d[3];
    int n = parse_dims(colon + 1, d, 3);
    if (n < 1)
        return tp_error(ctx, TP_ERR_ARG, "footprint: '%s': expected positive integer sizes after ':'", spec);
    int64_t r = d[0];
    if (!strcmp(kind, "disk") && n == 1)
        return make_disk(ctx, fp, r);
    if (!strcmp(kind, "ball") && n == 1)
        return make_ball(ctx, fp, r);
    if (!strcmp(kind, "diamond") && n == 1)
        return make_diamond(ctx, fp, r, 2);
    if (!strcmp(kind, "octahedron") && n == 1)
        return make_diamond(ctx, fp, r, 3);
    if (!strcmp(kind, "square") && n == 1)
        return make_box(ctx, fp, 2, r, r, 1);
    if (!strcmp(kind, "cube") && n == 1)
        return make_box(ctx, fp, 3, r, r, r);
    if (!strcmp(kind, "rectangle") && n == 2)
        return make_box(ctx, fp, 2, d[0], d[1], 1);
    if (!strcmp(kind, "cuboid") && n == 3)
        return make_box(ctx, fp, 3, d[0], d[1], d[2]);
    return tp_error(ctx, TP_ERR_ARG,
                    "footprint: unknown spec '%s'; expected disk:R, square:W, rectangle:HxW, diamond:R, ball:R, "
                    "cube:W, octahedron:R, cuboid:DxHxW, cross, cross3 or an image file", spec);
}

tp_status tp_footprint_from_image(tp_context *ctx, const tp_image *img, tp_footprint *fp)
{
    memset(fp, 0, sizeof *fp);
    int sd = tp_image_spatial_ndim(img);
    if (img->location != TP_HOST || img->channel_axis >= 0 || (sd != 2 && sd != 3))
        return tp_error(ctx, TP_ERR_SHAPE, "footprint: expected a 2D or 3D single-channel host image");
    tp_image c = tp_image_empty();
    const tp_image *s = img;
    tp_status st;
    if (!tp_image_is_contiguous(img)) {
        if ((st = tp_image_copy(ctx, img, &c, TP_HOST)))
            return st;
        s = &c;
    }
    st = fp_alloc(ctx, fp, sd, s->shape[0], s->shape[1], sd == 3 ? s->shape[2] : 1);
    if (!st) {
        int64_t n = tp_image_count(s), on = 0;
        for (int64_t i = 0; i < n; i++)
            on += (fp->data[i] = tp_get_f64(s->data, s->dtype, i) != 0);
        if (on == 0) {
            tp_footprint_free(fp);
            st = tp_error(ctx, TP_ERR_ARG, "footprint: the footprint image has no nonzero element");
        }
    }
    tp_image_free(&c);
    return st;
}

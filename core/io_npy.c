/* NumPy .npy files (format 1.0/2.0/3.0, little-endian, C or Fortran order rejected): the exact,
 * lossless exchange format between twinpix and Python (the scikit-image oracle tests use it). */
#include "twinpix/internal.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *descr;
    tp_dtype t;
} npy_types[] = {
    {"|b1", TP_BOOL},    {"|u1", TP_UINT8},   {"|i1", TP_INT8},    {"<u2", TP_UINT16},  {"<i2", TP_INT16},
    {"<u4", TP_UINT32},  {"<i4", TP_INT32},   {"<i8", TP_INT64},   {"<f4", TP_FLOAT32}, {"<f8", TP_FLOAT64},
};

tp_status tp_read_npy(tp_context *ctx, const char *path, tp_image *img)
{
    *img = tp_image_empty();
    FILE *f = fopen(path, "rb");
    if (!f)
        return tp_error(ctx, TP_ERR_IO, "cannot open '%s'", path);
    unsigned char pre[10];
    tp_status st = TP_OK;
    char *hdr = NULL;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        st = tp_error(ctx, TP_ERR_IO, "'%s': not a .npy file (bad magic)", path);
        goto done;
    }
    size_t hlen;
    if (pre[6] == 1) {
        hlen = pre[8] | (size_t)pre[9] << 8;
    } else {
        unsigned char b[2];
        if (fread(b, 1, 2, f) != 2) {
            st = tp_error(ctx, TP_ERR_IO, "'%s': truncated header", path);
            goto done;
        }
        hlen = pre[8] | (size_t)pre[9] << 8 | (size_t)b[0] << 16 | (size_t)b[1] << 24;
    }
    if (hlen > 1 << 20) {
        st = tp_error(ctx, TP_ERR_IO, "'%s': header too long", path);
        goto done;
    }
    hdr = calloc(hlen + 1, 1);
    if (!hdr || fread(hdr, 1, hlen, f) != hlen) {
        st = tp_error(ctx, TP_ERR_IO, "'%s': truncated header", path);
        goto done;
    }
    if (strstr(hdr, "'fortran_order': True")) {
        st = tp_error(ctx, TP_ERR_IO, "'%s': Fortran-order arrays are not supported", path);
        goto done;
    }
    const char *d = strstr(hdr, "'descr': '");
    tp_dtype dt = TP_DTYPE_COUNT;
    if (d) {
        d += 10;
        for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
            if (strncmp(d, npy_types[i].descr, 3) == 0 && d[3] == '\'')
                dt = npy_types[i].t;
    }
    if (dt == TP_DTYPE_COUNT) {
        st = tp_error(ctx, TP_ERR_DTYPE, "'%s': unsupported dtype (expected bool, [u]int8..int64, float32/64 "
                      "little-endian)", path);
        goto done;
    }
    const char *s = strstr(hdr, "'shape': (");
    if (!s) {
        st = tp_error(ctx, TP_ERR_IO, "'%s': no shape in header", path);
        goto done;
    }
    s += 10;
    int64_t shape[TP_MAX_DIMS];
    int nd = 0;
    while (*s && *s != ')') {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (end == s)
            break;
        if (nd == TP_MAX_DIMS) {
            st = tp_error(ctx, TP_ERR_SHAPE, "'%s': more than %d axes", path, TP_MAX_DIMS);
            goto done;
        }
        shape[nd++] = v;
        s = end;
        while (*s == ',' || *s == ' ')
            s++;
    }
    if (nd == 0) {
        st = tp_error(ctx, TP_ERR_SHAPE, "'%s': 0-dimensional arrays are not images", path);
        goto done;
    }
    if ((st = tp_image_alloc(ctx, img, dt, nd, shape, -1, TP_HOST)))
        goto done;
    size_t bytes = (size_t)tp_image_count(img) * tp_dtype_size(dt);
    if (fread(img->data, 1, bytes, f) != bytes) {
        tp_image_free(img);
        st = tp_error(ctx, TP_ERR_IO, "'%s': truncated data", path);
    }
done:
    free(hdr);
    fclose(f);
    return st;
}

tp_status tp_write_npy(tp_context *ctx, const char *path, const tp_image *img)
{
    if (!img->data || img->location != TP_HOST)
        return tp_error(ctx, TP_ERR_ARG, "write '%s': expected a host image", path);
    tp_image c = tp_image_empty();
    const tp_image *s = img;
    tp_status st;
    if (!tp_image_is_contiguous(img)) {
        if ((st = tp_image_copy(ctx, img, &c, TP_HOST)))
            return st;
        s = &c;
    }
    const char *descr = NULL;
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
        if (npy_types[i].t == s->dtype)
            descr = npy_types[i].descr;
    char hdr[256], shp[160] = "";
    for (int i = 0; i < s->ndim; i++) {
        char b[32];
        snprintf(b, sizeof b, "%lld,%s", (long long)s->shape[i], (s->ndim > 1 && i + 1 < s->ndim) ? " " : "");
        strcat(shp, b);
    }
    if (s->ndim > 1)
        shp[strlen(shp) - 1] = 0; /* numpy writes (3, 4) but (3,) */
    int n = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shp);
    int total = 10 + n + 1;
    int pad = (64 - total % 64) % 64;
    tp_atomic_file af;
    if ((st = tp_atomic_open(ctx, path, &af))) {
        tp_image_free(&c);
        return st;
    }
    unsigned hl = (unsigned)(n + pad + 1);
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hl & 255), (unsigned char)(hl >> 8)};
    fwrite(pre, 1, 10, af.fp);
    fwrite(hdr, 1, (size_t)n, af.fp);
    for (int i = 0; i < pad; i++)
        fputc(' ', af.fp);
    fputc('\n', af.fp);
    fwrite(s->data, tp_dtype_size(s->dtype), (size_t)tp_image_count(s), af.fp);
    tp_image_free(&c);
    return tp_atomic_commit(ctx, &af);
}

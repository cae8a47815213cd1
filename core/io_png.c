/* PNG through libpng, read into the shapes that scikit-image 0.19's imread (imageio 2.x over Pillow) gives:
 *   grey 8/16-bit        -> (h, w) uint8 / uint16
 *   grey 1/2/4-bit       -> (h, w) uint8 scaled to 0..255 (Pillow's unpackers: x * 255 / (2^bits - 1))
 *   grey + alpha         -> (h, w, 4): grey replicated to RGB, then alpha (imageio converts "LA" to RGBA)
 *   RGB / RGBA           -> (h, w, 3) / (h, w, 4)
 *   palette              -> (h, w) uint8 when the used palette entries are grey, else (h, w, 4) RGBA with the
 *                           tRNS alphas (255 without tRNS): imageio's rule, checked on the skimage data PNGs
 *   tRNS on grey or RGB  -> ignored (Pillow keeps the mode)
 * One deliberate difference: 16-bit RGB(A) and grey+alpha stay uint16 here, where Pillow keeps only the high
 * byte; twinpix's own 16-bit PNGs then round-trip exactly.
 * libpng reports errors by longjmp; its messages go into a buffer that becomes the TP_ERR_IO detail. */
#include "twinpix/internal.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct png_log {
    char msg[256];
} png_log;

static void on_png_error(png_structp png, png_const_charp msg)
{
    png_log *log = png_get_error_ptr(png);
    if (log)
        snprintf(log->msg, sizeof log->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
    (void)png, (void)msg; /* e.g. unknown ancillary chunks, iCCP profiles: not worth a line on stderr */
}

/* ---- reading ---- */

static int64_t physical_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (int64_t)pages * size : INT64_MAX;
}

typedef struct png_layout {
    png_uint_32 w, h;
    int depth, color, interlace;
    int channels_out;   /* channels of the image we return */
    int wide;           /* 16-bit samples in the output */
} png_layout;

/* Palette: grey when every entry in the used index range has R == G == B (imageio's test). */
static int palette_is_grey(const png_color *pal, int npal, int lo, int hi)
{
    for (int i = lo; i <= hi && i < npal; i++)
        if (pal[i].red != pal[i].green || pal[i].green != pal[i].blue)
            return 0;
    return 1;
}

/* Map palette indices (one byte each, in place at the start of buf) to grey or RGBA. */
static void apply_palette(png_structp png, png_infop info, uint8_t *idx, uint8_t *out, int64_t n, int grey)
{
    png_colorp pal = NULL;
    int npal = 0, ntrns = 0;
    png_bytep trns = NULL;
    png_get_PLTE(png, info, &pal, &npal);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_get_tRNS(png, info, &trns, &ntrns, NULL);
    /* work from the end so that out may alias idx (out is never shorter) */
    for (int64_t i = n - 1; i >= 0; i--) {
        int k = idx[i];
        png_color c = k < npal ? pal[k] : (png_color){0, 0, 0};
        if (grey) {
            out[i] = c.red;
        } else {
            out[4 * i + 0] = c.red;
            out[4 * i + 1] = c.green;
            out[4 * i + 2] = c.blue;
            out[4 * i + 3] = trns && k < ntrns ? trns[k] : 255;
        }
    }
}

/* Grey + alpha -> RGBA, in place from the end. */
static void ga_to_rgba(uint8_t *buf, int64_t n, int wide)
{
    if (wide) {
        uint16_t *b = (uint16_t *)buf;
        for (int64_t i = n - 1; i >= 0; i--) {
            uint16_t g = b[2 * i], a = b[2 * i + 1];
            b[4 * i] = b[4 * i + 1] = b[4 * i + 2] = g;
            b[4 * i + 3] = a;
        }
    } else {
        for (int64_t i = n - 1; i >= 0; i--) {
            uint8_t g = buf[2 * i], a = buf[2 * i + 1];
            buf[4 * i] = buf[4 * i + 1] = buf[4 * i + 2] = g;
            buf[4 * i + 3] = a;
        }
    }
}

static void set_read_transforms(png_structp png, png_infop info, const png_layout *L)
{
    if (L->color == PNG_COLOR_TYPE_PALETTE)
        png_set_packing(png); /* indices as bytes, unscaled */
    else if (L->color == PNG_COLOR_TYPE_GRAY && L->depth < 8)
        png_set_expand_gray_1_2_4_to_8(png); /* scales to 0..255 as Pillow does */
    if (L->depth == 16) {
        int one = 1;
        if (*(const char *)&one == 1)
            png_set_swap(png); /* PNG is big-endian */
    }
    if (L->interlace != PNG_INTERLACE_NONE)
        png_set_interlace_handling(png);
    png_read_update_info(png, info);
}

static int channels_of(int color)
{
    switch (color) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 1; /* palette indices */
    }
}

/* The decoding, under libpng's setjmp. What it allocates is reachable from *out and *rows, so the caller
 * frees it on either path. The image is allocated in its widest form (RGBA after expansion); finish_layout
 * narrows the shape of grey palettes. */
static int decode(tp_context *ctx, png_structp png, png_infop info, FILE *f, png_layout *L, tp_image *out,
                  png_bytep **rows)
{
    if (setjmp(png_jmpbuf(png)))
        return 0;
    png_init_io(png, f);
    png_set_user_limits(png, 0x7fffffffu, 0x7fffffffu);
    png_read_info(png, info);
    int filter, comp;
    png_get_IHDR(png, info, &L->w, &L->h, &L->depth, &L->color, &L->interlace, &comp, &filter);
    int in_ch = channels_of(L->color);
    L->wide = L->depth == 16;
    size_t es = L->wide ? 2 : 1;
    int out_ch = L->color == PNG_COLOR_TYPE_GRAY_ALPHA || L->color == PNG_COLOR_TYPE_PALETTE ? 4 : in_ch;
    int64_t shape[3] = {L->h, L->w, out_ch}, bytes = 0;
    /* refuse an IHDR that cannot be real before libpng allocates (and clears) its row buffers */
    if (!tp_shape_product(shape, 3, &bytes) || bytes > physical_memory() / (int64_t)es)
        png_error(png, "image dimensions exceed this machine's memory");
    set_read_transforms(png, info, L);
    if (png_get_rowbytes(png, info) != (size_t)L->w * (size_t)in_ch * es)
        png_error(png, "unexpected row size after transforms");
    if (tp_image_alloc(ctx, out, L->wide ? TP_UINT16 : TP_UINT8, out_ch > 1 ? 3 : 2, shape, out_ch > 1 ? 2 : -1,
                       TP_HOST) != TP_OK)
        png_error(png, "image too large for host memory");
    *rows = malloc(sizeof **rows * L->h);
    if (!*rows)
        png_error(png, "out of host memory");
    uint8_t *buf = out->data;
    for (png_uint_32 y = 0; y < L->h; y++) /* decoded rows are packed at the front of the buffer */
        (*rows)[y] = buf + (size_t)y * L->w * (size_t)in_ch * es;
    png_read_image(png, *rows);
    png_read_end(png, NULL);
    L->channels_out = in_ch;
    return 1;
}

/* Post-decoding conversions that need the whole image (the palette's used index range). */
static void finish_layout(png_structp png, png_infop info, png_layout *L, tp_image *out)
{
    uint8_t *buf = out->data;
    int64_t n = (int64_t)L->h * L->w;
    if (L->color == PNG_COLOR_TYPE_PALETTE) {
        int lo = 255, hi = 0;
        for (int64_t i = 0; i < n; i++) {
            lo = buf[i] < lo ? buf[i] : lo;
            hi = buf[i] > hi ? buf[i] : hi;
        }
        png_colorp pal = NULL;
        int npal = 0;
        png_get_PLTE(png, info, &pal, &npal);
        int grey = palette_is_grey(pal, npal, lo, hi);
        apply_palette(png, info, buf, buf, n, grey);
        if (grey) { /* the same buffer, seen as (h, w) */
            tp_image g = tp_image_wrap(out->data, out->dtype, 2, out->shape, -1, TP_HOST);
            g.owns = 1;
            *out = g;
        }
    } else if (L->color == PNG_COLOR_TYPE_GRAY_ALPHA) {
        ga_to_rgba(buf, n, L->wide);
    }
}

tp_status tp_read_png(tp_context *ctx, const char *path, tp_image *img)
{
    *img = tp_image_empty();
    FILE *f = fopen(path, "rb");
    if (!f)
        return tp_error(ctx, TP_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    unsigned char sig[8];
    if (fread(sig, 1, 8, f) != 8 || png_sig_cmp(sig, 0, 8) != 0) {
        fclose(f);
        return tp_error(ctx, TP_ERR_IO, "read PNG '%s': not a PNG file (bad signature)", path);
    }
    png_log log = {""};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &log, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        fclose(f);
        return tp_error(ctx, TP_ERR_NOMEM, "read PNG '%s': out of host memory", path);
    }
    png_set_sig_bytes(png, 8);
    png_layout L;
    memset(&L, 0, sizeof L);
    tp_image out = tp_image_empty();
    png_bytep *rows = NULL;
    int ok = decode(ctx, png, info, f, &L, &out, &rows);
    if (ok)
        finish_layout(png, info, &L, &out);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    free(rows);
    if (!ok) {
        tp_image_free(&out);
        return tp_error(ctx, TP_ERR_IO, "read PNG '%s': %s", path, log.msg[0] ? log.msg : "corrupt file");
    }
    *img = out;
    return TP_OK;
}

/* ---- writing ---- */

static int write_rows(png_structp png, png_infop info, FILE *f, const tp_image *im, int color, int depth,
                      uint8_t *row)
{
    if (setjmp(png_jmpbuf(png)))
        return 0;
    png_uint_32 h = (png_uint_32)im->shape[0], w = (png_uint_32)im->shape[1];
    int64_t ch = tp_image_channels(im);
    png_init_io(png, f);
    png_set_IHDR(png, info, w, h, depth, color, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t row_n = (size_t)w * (size_t)ch;
    for (png_uint_32 y = 0; y < h; y++) {
        if (im->dtype == TP_UINT16) {
            const uint16_t *s = (const uint16_t *)im->data + (size_t)y * row_n;
            for (size_t i = 0; i < row_n; i++) { /* big-endian on disk */
                row[2 * i] = (uint8_t)(s[i] >> 8);
                row[2 * i + 1] = (uint8_t)(s[i] & 255);
            }
        } else if (im->dtype == TP_BOOL) {
            const uint8_t *s = (const uint8_t *)im->data + (size_t)y * row_n;
            for (size_t i = 0; i < row_n; i++)
                row[i] = s[i] ? 255 : 0;
        } else {
            memcpy(row, (const uint8_t *)im->data + (size_t)y * row_n, row_n);
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    return 1;
}

static tp_status check_png_image(tp_context *ctx, const char *path, const tp_image *im, int *color)
{
    if (im->dtype != TP_UINT8 && im->dtype != TP_UINT16 && im->dtype != TP_BOOL)
        return tp_error(ctx, TP_ERR_DTYPE, "write PNG '%s': image: expected bool, uint8 or uint16 (convert floats "
                        "first), got %s", path, tp_dtype_name(im->dtype));
    int sd = tp_image_spatial_ndim(im);
    int64_t ch = tp_image_channels(im);
    if (sd != 2 || (im->channel_axis >= 0 && im->channel_axis != im->ndim - 1) || ch < 1 || ch > 4)
        return tp_error(ctx, TP_ERR_SHAPE, "write PNG '%s': image: expected (h, w) or (h, w, 1..4 channels last), got "
                        "%d axes with channel_axis %d", path, im->ndim, im->channel_axis);
    if (im->shape[0] > 0x7fffffff || im->shape[1] > 0x7fffffff)
        return tp_error(ctx, TP_ERR_SHAPE, "write PNG '%s': image: %lld x %lld exceeds PNG's limits", path,
                        (long long)im->shape[0], (long long)im->shape[1]);
    static const int colors[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                  PNG_COLOR_TYPE_RGB_ALPHA};
    *color = colors[ch];
    return TP_OK;
}

tp_status tp_write_png(tp_context *ctx, const char *path, const tp_image *img)
{
    if (!img || !img->data || img->location != TP_HOST)
        return tp_error(ctx, TP_ERR_ARG, "write PNG '%s': image: expected a host image with data", path);
    int color = 0;
    tp_status st = check_png_image(ctx, path, img, &color);
    if (st)
        return st;
    tp_image c = tp_image_empty();
    const tp_image *src = img;
    if (!tp_image_is_contiguous(img)) {
        if ((st = tp_image_copy(ctx, img, &c, TP_HOST)))
            return st;
        src = &c;
    }
    int depth = src->dtype == TP_UINT16 ? 16 : 8;
    uint8_t *row = tp_host_alloc(ctx, src->shape[1] * tp_image_channels(src), (size_t)depth / 8);
    tp_atomic_file af;
    if (!row || (st = tp_atomic_open(ctx, path, &af))) {
        free(row);
        tp_image_free(&c);
        return row ? st : TP_ERR_NOMEM;
    }
    png_log log = {""};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &log, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int ok = info && write_rows(png, info, af.fp, src, color, depth, row);
    png_destroy_write_struct(&png, &info);
    free(row);
    tp_image_free(&c);
    if (!ok) {
        tp_atomic_abort(&af);
        return tp_error(ctx, TP_ERR_IO, "write PNG '%s': %s", path, log.msg[0] ? log.msg : "out of host memory");
    }
    return tp_atomic_commit(ctx, &af);
}

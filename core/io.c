/* Image files by extension: .tif/.tiff (libtiff, core/io_tiff.c), .png (libpng, core/io_png.c) and .npy
 * (core/io_npy.c, the exact exchange format with Python). Extensions are matched without regard to case. */
#include "twinpix/internal.h"

#include <strings.h>
#include <string.h>

typedef enum { FMT_UNKNOWN = 0, FMT_TIFF, FMT_PNG, FMT_NPY } image_format;

static image_format format_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return FMT_UNKNOWN;
    if (strcasecmp(dot, ".tif") == 0 || strcasecmp(dot, ".tiff") == 0)
        return FMT_TIFF;
    if (strcasecmp(dot, ".png") == 0)
        return FMT_PNG;
    if (strcasecmp(dot, ".npy") == 0)
        return FMT_NPY;
    return FMT_UNKNOWN;
}

static void meta_default(tp_io_meta *meta)
{
    memset(meta, 0, sizeof *meta);
    meta->spacing[0] = meta->spacing[1] = meta->spacing[2] = 1.0;
}

tp_status tp_read_image(tp_context *ctx, const char *path, tp_image *img, tp_io_meta *meta)
{
    tp_io_meta scratch;
    if (!meta)
        meta = &scratch;
    meta_default(meta);
    if (!img)
        return tp_error(ctx, TP_ERR_ARG, "read image: img must not be NULL");
    *img = tp_image_empty();
    if (!path || !*path)
        return tp_error(ctx, TP_ERR_ARG, "read image: path is empty");
    switch (format_of(path)) {
    case FMT_TIFF: return tp_read_tiff(ctx, path, img, meta);
    case FMT_PNG: return tp_read_png(ctx, path, img);
    case FMT_NPY: return tp_read_npy(ctx, path, img);
    default:
        return tp_error(ctx, TP_ERR_IO, "read image '%s': expected a .tif, .tiff, .png or .npy file name", path);
    }
}

tp_status tp_write_image(tp_context *ctx, const char *path, const tp_image *img)
{
    if (!path || !*path)
        return tp_error(ctx, TP_ERR_ARG, "write image: path is empty");
    if (!img || !img->data)
        return tp_error(ctx, TP_ERR_ARG, "write image '%s': image: expected an image with data, got an empty one",
                        path);
    switch (format_of(path)) {
    case FMT_TIFF: return tp_write_tiff(ctx, path, img);
    case FMT_PNG: return tp_write_png(ctx, path, img);
    case FMT_NPY: return tp_write_npy(ctx, path, img);
    default:
        return tp_error(ctx, TP_ERR_IO, "write image '%s': expected a .tif, .tiff, .png or .npy file name", path);
    }
}

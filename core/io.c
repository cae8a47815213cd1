/* PLACEHOLDER until the I/O files land: tp_read_image / tp_write_image dispatch by extension. */
#include "twinpix/internal.h"

#include <string.h>
static int ends(const char *p, const char *e)
{
    size_t a = strlen(p), b = strlen(e);
    return a >= b && strcmp(p + a - b, e) == 0;
}
tp_status tp_read_image(tp_context *ctx, const char *path, tp_image *img, tp_io_meta *meta)
{
    (void)meta;
    if (ends(path, ".npy"))
        return tp_read_npy(ctx, path, img);
    return tp_error(ctx, TP_ERR_IO, "cannot read '%s': I/O not implemented yet", path);
}
tp_status tp_write_image(tp_context *ctx, const char *path, const tp_image *img)
{
    if (ends(path, ".npy"))
        return tp_write_npy(ctx, path, img);
    return tp_error(ctx, TP_ERR_IO, "cannot write '%s': I/O not implemented yet", path);
}

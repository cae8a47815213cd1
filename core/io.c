/* PLACEHOLDER until the I/O files land: tp_read_image / tp_write_image dispatch by extension. */
#include "twinpix/internal.h"

tp_status tp_read_image(tp_context *ctx, const char *path, tp_image *img, tp_io_meta *meta)
{
    (void)img; (void)meta;
    return tp_error(ctx, TP_ERR_IO, "cannot read '%s': I/O not implemented yet", path);
}
tp_status tp_write_image(tp_context *ctx, const char *path, const tp_image *img)
{
    (void)img;
    return tp_error(ctx, TP_ERR_IO, "cannot write '%s': I/O not implemented yet", path);
}

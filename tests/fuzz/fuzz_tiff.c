/* libFuzzer target: the TIFF reader must never crash, leak or return a half-made image on any bytes. */
#include "twinpix/internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/tp_fuzz_tiff_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    tp_context *ctx = NULL;
    tp_context_create(&ctx);
    tp_image img = tp_image_empty();
    tp_io_meta meta;
    tp_status st = tp_read_tiff(ctx, path, &img, &meta);
    if (st == TP_OK) {
        /* a success must be a whole image: touch every byte */
        volatile uint8_t sum = 0;
        size_t bytes = (size_t)tp_image_count(&img) * tp_dtype_size(img.dtype);
        for (size_t i = 0; i < bytes; i++)
            sum ^= ((const uint8_t *)img.data)[i];
        (void)sum;
    } else if (img.data != NULL || strlen(tp_last_error(ctx)) == 0) {
        abort(); /* a failure leaves the image empty and says why */
    }
    tp_image_free(&img);
    tp_context_destroy(ctx);
    unlink(path);
    return 0;
}

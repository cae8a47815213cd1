/* Writes the fuzzers' seed corpus with twinpix's own writers: TIFF and PNG files of every dtype and layout
 * it writes (no downloaded files). Usage: make_corpus DIR */
#include "twinpix/internal.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_corpus DIR\n");
        return 2;
    }
    tp_context *ctx;
    tp_context_create(&ctx);
    static const tp_dtype types[] = {TP_BOOL, TP_UINT8, TP_INT8, TP_UINT16, TP_INT16,
                                     TP_UINT32, TP_INT32, TP_FLOAT32, TP_FLOAT64};
    int written = 0;
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        for (int layout = 0; layout < 3; layout++) {
            int64_t shape[3] = {5, 7, 3};
            int ndim = layout == 0 ? 2 : 3, cax = layout == 2 ? 2 : -1;
            if (layout == 1)
                shape[0] = 3, shape[1] = 5, shape[2] = 7;
            tp_image im = tp_image_empty();
            if (tp_image_alloc(ctx, &im, types[t], ndim, shape, cax, TP_HOST))
                continue;
            for (int64_t i = 0; i < tp_image_count(&im); i++)
                tp_set_f64(im.data, im.dtype, i, types[t] == TP_BOOL ? (double)(i % 2) : (double)(i * 7 % 100));
            char path[4096];
            snprintf(path, sizeof path, "%s/%s_%d.tif", argv[1], tp_dtype_name(types[t]), layout);
            written += tp_write_tiff(ctx, path, &im) == TP_OK;
            if ((types[t] == TP_UINT8 || types[t] == TP_UINT16) && layout != 1) {
                snprintf(path, sizeof path, "%s/%s_%d.png", argv[1], tp_dtype_name(types[t]), layout);
                written += tp_write_png(ctx, path, &im) == TP_OK;
            }
            tp_image_free(&im);
        }
    }
    printf("wrote %d corpus files into %s\n", written, argv[1]);
    tp_context_destroy(ctx);
    return written > 0 ? 0 : 1;
}

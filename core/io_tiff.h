/* TIFF writing options beyond tp_write_tiff's defaults (private to twinpix: tests and tools that need a given
 * layout, e.g. BigTIFF on a small image, big-endian, or compressed pages). */
#ifndef TP_IO_TIFF_H
#define TP_IO_TIFF_H
#include "twinpix/internal.h"

typedef struct tp_tiff_write_opts {
    int bigtiff;          /* 0: automatic (BigTIFF when the pixels approach 4 GiB), 1: always, -1: never */
    int compression;      /* a libtiff COMPRESSION_* code; 0 or 1 = none */
    int big_endian;       /* 1: Motorola byte order (as ImageJ writes), 0: the machine's order */
    int planar_separate;  /* 1: PLANARCONFIG_SEPARATE for multi-sample pages */
    int rows_per_strip;   /* 0: about 1 MiB per strip */
} tp_tiff_write_opts;

/* tp_write_tiff with options (NULL = defaults). */
tp_status tp_write_tiff_opts(tp_context *ctx, const char *path, const tp_image *img, const tp_tiff_write_opts *o);
#endif

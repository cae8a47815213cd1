/* The manifest of real images: Debian's python3-skimage data folder and ../shared/datasets. Shapes are the
 * shapes as twinpix loads them (tests/test_datasets.c loads every present file and checks them), listed
 * here so that `twinpix datasets` needs no decoding.
 *
 * The default image of `twinpix run` is the project's own data, from Debian's python3-skimage: the first
 * present of
 *   1. human_mitosis (fluorescent nuclei; fetched data, usually absent from the Debian package);
 *   2. ihc (real brightfield microscopy, RGB like the seed pipeline's input: channel 1 is taken);
 *   3. cell (quantitative phase microscopy, one cell), 4. coins (not microscopy);
 * and only then 5. skimage_human_mitosis_8bit from ../shared/datasets. The same command therefore runs on
 * the same image on every Debian machine, with or without ../shared. TWINPIX_DATASET=name overrides it
 * (e.g. TWINPIX_DATASET=skimage_human_mitosis_8bit for the nuclei image). */
#include "datasets/datasets.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SKIMAGE_DEFAULT_DIR "/usr/lib/python3/dist-packages/skimage/data"
#define SKI "skimage-debian"
#define SHR "shared"

typedef struct entry {
    const char *name, *file, *source, *origin, *licence;
    int ndim;
    int64_t shape[TP_MAX_DIMS];
    int channel_axis;
    tp_dtype dtype;
    const char *layout;
} entry;

static const entry manifest[] = {
    /* Debian python3-skimage (scikit-image 0.19.3: skimage/data; licences from skimage/data/_fetchers.py) */
    {"cell", "cell.png", SKI, "python3-skimage: skimage/data/cell.png (qpformat hologram, Mueller et al. 2018)",
     "CC0", 2, {660, 550}, -1, TP_UINT8, "PNG 8-bit grey: quantitative phase microscopy"},
    {"ihc", "ihc.png", SKI, "python3-skimage: skimage/data/ihc.png (CMMI, IHC with hematoxylin)",
     "no known copyright restrictions", 3, {512, 512, 3}, 2, TP_UINT8, "PNG 8-bit RGB: brightfield microscopy"},
    {"coins", "coins.png", SKI, "python3-skimage: skimage/data/coins.png (Brooklyn Museum)",
     "no known copyright restrictions", 2, {303, 384}, -1, TP_UINT8, "PNG 8-bit grey"},
    {"microaneurysms", "microaneurysms.png", SKI, "python3-skimage: skimage/data/microaneurysms.png (HRF database)",
     "CC0", 2, {102, 102}, -1, TP_UINT8, "PNG 8-bit grey: retina fundus crop"},
    {"camera", "camera.png", SKI, "python3-skimage: skimage/data/camera.png (Lav Varshney)", "CC0", 2, {512, 512},
     -1, TP_UINT8, "PNG 8-bit grey"},
    {"moon", "moon.png", SKI, "python3-skimage: skimage/data/moon.png", "no known copyright restrictions", 2,
     {512, 512}, -1, TP_UINT8, "PNG 8-bit grey"},
    {"page", "page.png", SKI, "python3-skimage: skimage/data/page.png", "no known copyright restrictions", 2,
     {191, 384}, -1, TP_UINT8, "PNG 8-bit grey: uneven illumination"},
    {"text", "text.png", SKI, "python3-skimage: skimage/data/text.png (Wikipedia Corner.png)", "public domain", 2,
     {172, 448}, -1, TP_UINT8, "PNG 8-bit grey"},
    {"blobs_3d_fiji_skeleton", "_blobs_3d_fiji_skeleton.tif", SKI,
     "python3-skimage: skimage/data/_blobs_3d_fiji_skeleton.tif (scikit-image test data)", "BSD-3-Clause", 3,
     {30, 32, 32}, -1, TP_UINT8, "TIFF stack ZYX, 30 pages, binary 0/255"},
    {"human_mitosis", "mitosis.tif", SKI, "scikit-image data: data/mitosis.tif (fetched; David Root)", "CC0", 2,
     {512, 512}, -1, TP_UINT8, "TIFF 8-bit grey (fetched data: shape from scikit-image's docs)"},
    {"cells3d", "cells3d.tif", SKI, "scikit-image data: data/cells3d.tif (fetched; Allen Institute)",
     "Allen Institute for Cell Science terms", 4, {60, 2, 256, 256}, 1, TP_UINT16,
     "TIFF ZCYX (fetched data: shape from scikit-image's docs)"},
    /* ../shared/datasets (README.md there) */
    {"blobs_imagej_8bit", "blobs_imagej_8bit.tif", SHR, "clEsperanto/pyclesperanto_prototype: data/blobs.tif",
     "ImageJ 1.x sample (public domain)", 2, {254, 256}, -1, TP_UINT8, "ImageJ, big-endian, uncompressed"},
    {"blobs_imagej_8bit_deflate", "blobs_imagej_8bit_deflate.tif", SHR,
     "haesleinhuepf/BioImageAnalysisNotebooks: data/blobs.tif", "ImageJ 1.x sample (public domain)", 2, {254, 256},
     -1, TP_UINT8, "little-endian, deflate"},
    {"blobs_ref_labels_otsu_skimage", "blobs_ref_labels_otsu_skimage.tif", SHR,
     "haesleinhuepf/BioImageAnalysisNotebooks: docs/29_algorithm_validation/blobs_labels_skimage.tif", "CC BY 4.0", 2,
     {254, 256}, -1, TP_INT32, "labels (64), little-endian"},
    {"skimage_human_mitosis_8bit", "skimage_human_mitosis_8bit.tif", SHR,
     "BiAPoL/DIGS-BB_LM_Course_Bio-Image_Analysis_2024: data/human_mitosis.tif", "CC0", 2, {512, 512}, -1, TP_UINT8,
     "little-endian, deflate"},
    {"bbbc022_u2os_3ch_16bit_crop", "bbbc022_u2os_3ch_16bit_crop.tif", SHR,
     "haesleinhuepf/BioImageAnalysisNotebooks: data/BBBC022/IXMtest_A02_s9.tif", "CC0 (BBBC022)", 3, {3, 395, 695}, 0,
     TP_UINT16, "ImageJ hyperstack CYX, big-endian"},
    {"dsb2018_nuclei_stardist_img2d_16bit", "dsb2018_nuclei_stardist_img2d_16bit.tif", SHR,
     "stardist/stardist: stardist/data/images/img2d.tif", "BSD-3 repo; data DSB2018 (CC0)", 2, {512, 512}, -1,
     TP_UINT16, "little-endian"},
    {"neubias_nup_nuclei_2ch_16bit", "neubias_nup_nuclei_2ch_16bit.tif", SHR,
     "NEUBIAS/training-resources: image_data/xyc_16bit__nup_nuclei.tif", "CC BY 4.0", 3, {2, 420, 476}, 0, TP_UINT16,
     "ImageJ hyperstack CYX, big-endian"},
    {"neubias_nuclei_3d_8bit", "neubias_nuclei_3d_8bit.tif", SHR,
     "NEUBIAS/training-resources: image_data/xyz_8bit__nuclei_autothresh.tif", "CC BY 4.0", 3, {37, 118, 132}, -1,
     TP_UINT8, "ImageJ stack ZYX, 37 pages, z-spacing 4 micron, big-endian"},
};

static const char *default_order[] = {"human_mitosis", "ihc", "cell", "coins", "skimage_human_mitosis_8bit"};

static const char *dir_of(const char *source)
{
    if (strcmp(source, SKI) == 0) {
        const char *d = getenv("TWINPIX_SKIMAGE_DATA");
        return d && *d ? d : SKIMAGE_DEFAULT_DIR;
    }
    const char *d = getenv("TWINPIX_SHARED_DATASETS");
    return d && *d ? d : TP_SOURCE_DIR "/../shared/datasets";
}

static int fill(const entry *e, tp_dataset *d)
{
    memset(d, 0, sizeof *d);
    int n = snprintf(d->path, sizeof d->path, "%s/%s", dir_of(e->source), e->file);
    if (n < 0 || (size_t)n >= sizeof d->path || access(d->path, R_OK) != 0)
        return 0;
    snprintf(d->name, sizeof d->name, "%s", e->name);
    snprintf(d->source, sizeof d->source, "%s", e->source);
    snprintf(d->origin, sizeof d->origin, "%s", e->origin);
    snprintf(d->licence, sizeof d->licence, "%s", e->licence);
    snprintf(d->layout, sizeof d->layout, "%s", e->layout);
    d->ndim = e->ndim;
    memcpy(d->shape, e->shape, sizeof d->shape);
    d->channel_axis = e->channel_axis;
    d->dtype = e->dtype;
    return 1;
}

int tp_datasets_list(tp_dataset *out, int max)
{
    int n = 0;
    for (size_t i = 0; i < sizeof manifest / sizeof manifest[0] && n < max; i++)
        if (fill(&manifest[i], &out[n]))
            n++;
    return n;
}

tp_status tp_dataset_find(tp_context *ctx, const char *name, tp_dataset *out)
{
    char known[1024] = "";
    size_t len = 0;
    for (size_t i = 0; i < sizeof manifest / sizeof manifest[0]; i++) {
        tp_dataset d;
        if (!fill(&manifest[i], &d))
            continue;
        if (name && strcmp(d.name, name) == 0) {
            *out = d;
            return TP_OK;
        }
        int k = snprintf(known + len, sizeof known - len, "%s%s", len ? ", " : "", d.name);
        if (k > 0 && (size_t)k < sizeof known - len)
            len += (size_t)k;
    }
    return tp_error(ctx, TP_ERR_ARG, "dataset: name: expected one of the images present here (%s), got '%s'",
                    len ? known : "none found", name ? name : "(null)");
}

tp_status tp_dataset_default(tp_context *ctx, tp_dataset *out)
{
    const char *forced = getenv("TWINPIX_DATASET");
    if (forced && *forced)
        return tp_dataset_find(ctx, forced, out);
    for (size_t i = 0; i < sizeof default_order / sizeof default_order[0]; i++)
        for (size_t j = 0; j < sizeof manifest / sizeof manifest[0]; j++)
            if (strcmp(manifest[j].name, default_order[i]) == 0 && fill(&manifest[j], out))
                return TP_OK;
    return tp_error(ctx, TP_ERR_IO,
                    "dataset: no default image: none of human_mitosis, ihc, cell, coins, skimage_human_mitosis_8bit "
                    "found in %s or %s (install python3-skimage or set TWINPIX_SKIMAGE_DATA)",
                    dir_of(SKI), dir_of(SHR));
}

tp_status tp_dataset_load(tp_context *ctx, const tp_dataset *d, tp_image *img)
{
    if (!d || !img)
        return tp_error(ctx, TP_ERR_ARG, "dataset: d and img must not be NULL");
    tp_image im = tp_image_empty();
    tp_status st = tp_read_image(ctx, d->path, &im, NULL);
    if (st) {
        *img = tp_image_empty();
        return st;
    }
    /* the manifest says what the file holds; a different file under that name is an error, not a surprise */
    int same = im.ndim == d->ndim && im.dtype == d->dtype && im.channel_axis == d->channel_axis;
    for (int i = 0; same && i < d->ndim; i++)
        same = im.shape[i] == d->shape[i];
    if (!same) {
        char got[96];
        snprintf(got, sizeof got, "%d axes (%lld, %lld, %lld, ...) %s, channel_axis %d", im.ndim,
                 (long long)im.shape[0], (long long)(im.ndim > 1 ? im.shape[1] : 0),
                 (long long)(im.ndim > 2 ? im.shape[2] : 0), tp_dtype_name(im.dtype), im.channel_axis);
        tp_image_free(&im);
        *img = tp_image_empty();
        return tp_error(ctx, TP_ERR_IO, "dataset '%s' (%s): expected the manifest's shape and dtype, got %s", d->name,
                        d->path, got);
    }
    *img = im;
    return TP_OK;
}

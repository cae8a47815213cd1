/* Datasets: the real images this machine has (Debian's python3-skimage data folder, ../shared/datasets)
 * in one manifest, and the synthetic generator (nuclei-like 2D/3D images with ground-truth labels, and the
 * per-op inputs that the harness and the benchmarks generate from a descriptor's input_kind). */
#ifndef TP_DATASETS_H
#define TP_DATASETS_H
#include "twinpix/internal.h"

typedef struct tp_dataset {
    char name[64];          /* short name: "coins", "blobs_imagej_8bit", ... */
    char path[4096];
    char source[32];        /* "skimage-debian" or "shared" */
    char origin[160];       /* where it comes from (repository: path, or package) */
    char licence[64];
    int ndim;               /* axes as loaded (channel axis included) */
    int64_t shape[TP_MAX_DIMS];
    int channel_axis;
    tp_dtype dtype;
    char layout[96];        /* e.g. "ImageJ hyperstack CYX, big-endian" */
} tp_dataset;

/* Every real image present on this machine (files that are absent are left out). Returns the count
 * (<= max). Directories: TWINPIX_SKIMAGE_DATA (default: the python3-skimage data folder) and
 * TWINPIX_SHARED_DATASETS (default: <source>/../shared/datasets). */
int tp_datasets_list(tp_dataset *out, int max);
/* Find by name among tp_datasets_list(); TP_ERR_ARG with the known names when absent. */
tp_status tp_dataset_find(tp_context *ctx, const char *name, tp_dataset *out);
/* The default real image of `twinpix run` (the first present of a fixed preference list). */
tp_status tp_dataset_default(tp_context *ctx, tp_dataset *out);
tp_status tp_dataset_load(tp_context *ctx, const tp_dataset *d, tp_image *img);

/* ---- synthetic ---- */
typedef struct tp_synth_params {
    int ndim;               /* 2 or 3 */
    int64_t shape[3];       /* (y, x) or (z, y, x); any size the host memory holds: indices are 64-bit, so
                             * volumes over 2^31 voxels work (1300^3 uint8: 2.2 GB, about 16 CPU-seconds) */
    tp_dtype dtype;         /* TP_UINT8, TP_UINT16 or TP_FLOAT32 */
    uint64_t seed;
    double density;         /* fraction of the area covered by nuclei (0 -> default 0.3) */
    double radius;          /* mean nucleus radius in pixels (0 -> default from the size) */
    double noise;           /* noise standard deviation relative to the range (0 -> default 0.05) */
} tp_synth_params;

/* Nuclei-like image (blobs of varied size and shape, touching pairs, holes, noise, background gradient),
 * deterministic from the seed; labels (int32, may be NULL) is the ground truth of the blobs. */
tp_status tp_synth_nuclei(tp_context *ctx, const tp_synth_params *p, tp_image *img, tp_image *labels);

/* An input for an op's descriptor input_kind: "gray" (nuclei image of dtype), "mask" (bool, nuclei
 * threshold), "labels" (int32, connected labels of the nuclei), "rgb" (uint8 channel-last, 3 channels).
 * shape has ndim spatial extents. Never all zeros.
 * dtype applies to "gray" (any dtype: uint8 0..255, uint16/int16 12-bit, int8 0..127, wider integers
 * 0..65535, floats in [0, 1], bool = intensity > 0.5) and to "rgb" (uint16, float32, float64; else uint8);
 * "mask" is always bool and "labels" always int32 (the ground truth: one id per nucleus, touching nuclei
 * distinct, nuclei with holes keep them). */
tp_status tp_synth_input(tp_context *ctx, const char *kind, int ndim, const int64_t *shape, tp_dtype dtype,
                         uint64_t seed, tp_image *out);
#endif

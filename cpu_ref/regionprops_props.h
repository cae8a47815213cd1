/* regionprops_table on the CPU: the property table and the pieces shared by cpu_ref/regionprops_*.c.
 *
 * A region is the set of pixels of one label, held as runs: maximal stretches of equal label along the
 * last axis, in raster order. Everything a property needs (areas, moments, hull candidates, intensities,
 * masks) comes from the runs, so the label image is read once. Coordinates inside a region are local to
 * its bounding box; 2D images are treated as 3D with one plane (z = 0) where the formulas agree. */
#ifndef TP_REGIONPROPS_PROPS_H
#define TP_REGIONPROPS_PROPS_H
#include "twinpix/internal.h"

#include <stddef.h>
#include <stdint.h>

/* ---- properties ---- */
typedef enum rp_prop {
    RP_LABEL = 0,
    RP_AREA,
    RP_AREA_BBOX,
    RP_AREA_CONVEX,
    RP_AREA_FILLED,
    RP_BBOX,
    RP_CENTROID,
    RP_CENTROID_LOCAL,
    RP_CENTROID_WEIGHTED,
    RP_ECCENTRICITY,
    RP_EQUIVALENT_DIAMETER,
    RP_EULER_NUMBER,
    RP_EXTENT,
    RP_FERET_DIAMETER_MAX,
    RP_INTENSITY_MAX,
    RP_INTENSITY_MEAN,
    RP_INTENSITY_MIN,
    RP_INTENSITY_STD,
    RP_AXIS_MAJOR_LENGTH,
    RP_AXIS_MINOR_LENGTH,
    RP_ORIENTATION,
    RP_PERIMETER,
    RP_SOLIDITY,
    RP_MOMENTS_HU,
    RP_PROP_COUNT
} rp_prop;

/* What a property needs computed per region (bits of rp_prop_info.needs). */
enum {
    RP_NEED_MOMENTS2 = 1u << 0, /* central moments of order 2 */
    RP_NEED_MOMENTS3 = 1u << 1, /* central moments of order 3 (2D) */
    RP_NEED_HULL = 1u << 2,     /* convex image: area_convex */
    RP_NEED_FERET = 1u << 3,    /* convex image rows + diameter */
    RP_NEED_EULER = 1u << 4,
    RP_NEED_PERIMETER = 1u << 5,
    RP_NEED_FILLED = 1u << 6,
    RP_NEED_IMINMAX = 1u << 7,
    RP_NEED_IMEAN = 1u << 8,
    RP_NEED_ISTD = 1u << 9,
    RP_NEED_IWEIGHTED = 1u << 10,
    RP_NEED_CENTROID = 1u << 11, /* centroid, centroid_local */
    RP_NEED_EQUIV_DIAMETER = 1u << 12
};

typedef enum rp_ncols_kind { RP_COLS_ONE = 0, RP_COLS_NDIM, RP_COLS_2NDIM, RP_COLS_SEVEN } rp_ncols_kind;

typedef struct rp_prop_info {
    rp_prop prop;
    const char *name;     /* scikit-image's current name */
    rp_ncols_kind ncols;
    bool is_int;          /* int64 column (scikit-image's COL_DTYPES int) */
    bool only_2d;         /* scikit-image raises NotImplementedError on 3D images */
    bool intensity;       /* needs the intensity image */
    unsigned needs;
} rp_prop_info;

/* Look a requested name up (current names and the old aliases); NULL when unknown. */
const rp_prop_info *rp_prop_lookup(const char *name);
const rp_prop_info *rp_prop_get(rp_prop p);

/* ---- runs and regions ---- */
typedef struct rp_run {
    int64_t line;   /* z * H + y */
    int64_t x0;     /* first column */
    int64_t len;    /* >= 1 */
    int64_t region; /* the label while scanning, then the region index */
} rp_run;

typedef struct rp_geom {
    int ndim;      /* spatial dimensions: 2 or 3 */
    int64_t D, H, W; /* D = 1 in 2D */
} rp_geom;

typedef struct rp_region {
    int64_t label;
    int64_t first, nruns; /* into the grouped runs */
    int64_t area;
    int64_t lo[3], hi[3]; /* bounding box, inclusive, (z, y, x); z = 0 in 2D */
} rp_region;

/* Scan the label image into runs (raster order) and group them by region (ascending label). On success
 * *runs_out holds nruns runs grouped by region, each region's runs in raster order, and *regions_out
 * holds nregions regions with label, first, nruns, area and bounding box. */
tp_status rp_collect_regions(tp_context *ctx, const tp_image *labels, const rp_geom *g, rp_run **runs_out,
                             rp_region **regions_out, int64_t *nregions_out);

/* ---- per-thread scratch, grown on demand ---- */
typedef struct rp_buf {
    void *p;
    size_t cap;
} rp_buf;
/* Make b hold at least `bytes`; false when out of memory (b keeps its old block). */
bool rp_buf_reserve(rp_buf *b, size_t bytes);
void rp_buf_free(rp_buf *b);

typedef struct rp_work {
    rp_buf mask;    /* padded region mask (euler, perimeter, filled) */
    rp_buf queue;   /* flood fill */
    rp_buf vals;    /* gathered intensities */
    rp_buf rows;    /* 2D: per-row extremes and convex image rows; 3D: convex image lines */
    rp_buf chain;   /* 2D: hull chains; 3D: facet planes */
    rp_buf extra;   /* 3D: convex image extents along y and z */
    struct rp_hull3 *hull; /* 3D hull workspace */
} rp_work;
void rp_work_free(rp_work *w);
void rp_hull3_free(struct rp_hull3 *h); /* NULL is fine */

/* ---- the values of one region (those that were asked for) ---- */
typedef struct rp_values {
    int64_t area, area_bbox, area_convex, area_filled, euler;
    int64_t bbox[6];
    double centroid[3], centroid_local[3], centroid_weighted[3];
    double eccentricity, equivalent_diameter, extent, feret, solidity, perimeter, orientation;
    double axis_major, axis_minor;
    double imax, imean, imin, istd;
    double hu[7];
} rp_values;

/* Failures inside the per-region loop carry a code and a message; the smallest failing region wins. */
typedef struct rp_fail {
    tp_status code;
    char msg[256];
} rp_fail;

/* ---- helpers (cpu_ref/regionprops_*.c) ---- */
/* Moments: centroid_local, eccentricity, orientation, axis lengths, moments_hu. */
void rp_moment_props(const rp_geom *g, const rp_region *r, const rp_run *runs, unsigned needs, rp_values *v);

/* Convex image: area_convex (2D or 3D) and feret_diameter_max. Returns TP_OK or a failure in *f. */
tp_status rp_hull_props(const rp_geom *g, const rp_region *r, const rp_run *runs, unsigned needs, rp_work *w,
                        rp_values *v, rp_fail *f);

/* Mask-based: euler_number, perimeter (2D), area_filled. */
tp_status rp_mask_props(const rp_geom *g, const rp_region *r, const rp_run *runs, unsigned needs, rp_work *w,
                        rp_values *v, rp_fail *f);

/* Where a float intensity image holds NaN or +-inf, line by line (line = z * H + y): the first and the last x
 * of a non-finite value, lo = W and hi = -1 on a line without one. scikit-image's weighted moments run over
 * the region's whole bounding box (image_intensity is intensity * mask, and NaN * 0, inf * 0 are NaN), so a
 * non-finite value anywhere in the box makes centroid_weighted NaN (docs/nonfinite.md). */
typedef struct rp_nonfinite {
    int64_t *lo, *hi; /* D * H entries each; NULL when not computed (integer image, no centroid_weighted) */
    bool any;         /* the image holds at least one non-finite value */
} rp_nonfinite;
/* Scan a float32 / float64 image (threads: OpenMP threads). TP_ERR_NOMEM (recorded in ctx) on failure. */
tp_status rp_nonfinite_scan(tp_context *ctx, const rp_geom *g, const tp_image *inten, int threads, rp_nonfinite *nf);
void rp_nonfinite_free(rp_nonfinite *nf);
/* Does the region's bounding box hold a non-finite value? */
bool rp_bbox_nonfinite(const rp_geom *g, const rp_region *r, const tp_image *inten, const rp_nonfinite *nf);

/* Intensity: intensity_min/max/mean/std and centroid_weighted. nf: the image's non-finite lines (float images
 * with centroid_weighted asked for; NULL otherwise). */
tp_status rp_intensity_props(const rp_geom *g, const rp_region *r, const rp_run *runs, const tp_image *inten,
                             const rp_nonfinite *nf, unsigned needs, rp_work *w, rp_values *v, rp_fail *f);

/* numpy's float sums: pairwise summation in blocks of 8 accumulators, over chunks of 8192 elements
 * (the reduction's buffer) added in order. Exposed for the tests. */
double rp_numpy_sum_f64(const double *a, int64_t n);
float rp_numpy_sum_f32(const float *a, int64_t n);

/* Eigenvalues of the symmetric 2x2 [[a, b], [b, c]] as LAPACK's dsyevd computes them (dsterf + dlae2),
 * ascending. */
void rp_eig2_lapack(double a, double b, double c, double *lo, double *hi);
/* Eigenvalues of a symmetric 3x3 (cyclic Jacobi), ascending. */
void rp_eig3_sym(const double m[3][3], double ev[3]);
#endif

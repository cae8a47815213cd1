/* regionprops_table on the CPU: scikit-image's skimage.measure.regionprops_table for the properties the
 * descriptor lists (core/ops/regionprops_table.c), 2D and 3D.
 *
 * One pass over the label image makes runs (cpu_ref/regionprops_runs.c); regions come in ascending label
 * order, absent labels and labels <= 0 are skipped. Each region is then measured by one thread from its
 * runs (OpenMP over regions, dynamic schedule), with sums in a fixed order, so the table does not depend
 * on the thread count. Only what the requested properties need is computed.
 *
 * Columns are named as scikit-image names them, under the name the caller asked for (old aliases such as
 * mean_intensity keep that name): "bbox-0".."bbox-3" in 2D ("bbox-5" in 3D), "centroid-0", ...,
 * "moments_hu-0".."moments_hu-6". Integer properties are int64 columns, the others float64.
 *
 * Where scikit-image raises, this returns TP_ERR_ARG naming the property: a 2D-only property on a 3D image
 * (NotImplementedError), an intensity property without intensity_image (AttributeError), and
 * feret_diameter_max of a flat 3D region (marching_cubes' ValueError). Departures: a bool label_image is
 * read as label 1 (scikit-image refuses it); intensity_std follows scikit-image >= 0.23 (np.std); a 3D
 * axis length whose square is a negative rounding residue is 0 (scikit-image's math.sqrt raises). */
#include "cpu_ref/cpu_ops.h"
#include "cpu_ref/regionprops_props.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NEED_M2 RP_NEED_MOMENTS2
static const rp_prop_info PROPS[RP_PROP_COUNT] = {
    {RP_LABEL, "label", RP_COLS_ONE, true, false, false, 0},
    {RP_AREA, "area", RP_COLS_ONE, true, false, false, 0},
    {RP_AREA_BBOX, "area_bbox", RP_COLS_ONE, true, false, false, 0},
    {RP_AREA_CONVEX, "area_convex", RP_COLS_ONE, true, false, false, RP_NEED_HULL},
    {RP_AREA_FILLED, "area_filled", RP_COLS_ONE, true, false, false, RP_NEED_FILLED},
    {RP_BBOX, "bbox", RP_COLS_2NDIM, true, false, false, 0},
    {RP_CENTROID, "centroid", RP_COLS_NDIM, false, false, false, RP_NEED_CENTROID},
    {RP_CENTROID_LOCAL, "centroid_local", RP_COLS_NDIM, false, false, false, RP_NEED_CENTROID},
    {RP_CENTROID_WEIGHTED, "centroid_weighted", RP_COLS_NDIM, false, false, true, RP_NEED_IWEIGHTED},
    {RP_ECCENTRICITY, "eccentricity", RP_COLS_ONE, false, true, false, NEED_M2},
    {RP_EQUIVALENT_DIAMETER, "equivalent_diameter_area", RP_COLS_ONE, false, false, false,
     RP_NEED_EQUIV_DIAMETER},
    {RP_EULER_NUMBER, "euler_number", RP_COLS_ONE, true, false, false, RP_NEED_EULER},
    {RP_EXTENT, "extent", RP_COLS_ONE, false, false, false, 0},
    {RP_FERET_DIAMETER_MAX, "feret_diameter_max", RP_COLS_ONE, false, false, false, RP_NEED_FERET},
    {RP_INTENSITY_MAX, "intensity_max", RP_COLS_ONE, false, false, true, RP_NEED_IMINMAX},
    {RP_INTENSITY_MEAN, "intensity_mean", RP_COLS_ONE, false, false, true, RP_NEED_IMEAN},
    {RP_INTENSITY_MIN, "intensity_min", RP_COLS_ONE, false, false, true, RP_NEED_IMINMAX},
    {RP_INTENSITY_STD, "intensity_std", RP_COLS_ONE, false, false, true, RP_NEED_ISTD},
    {RP_AXIS_MAJOR_LENGTH, "axis_major_length", RP_COLS_ONE, false, false, false, NEED_M2},
    {RP_AXIS_MINOR_LENGTH, "axis_minor_length", RP_COLS_ONE, false, false, false, NEED_M2},
    {RP_ORIENTATION, "orientation", RP_COLS_ONE, false, true, false, NEED_M2},
    {RP_PERIMETER, "perimeter", RP_COLS_ONE, false, true, false, RP_NEED_PERIMETER},
    {RP_SOLIDITY, "solidity", RP_COLS_ONE, false, false, false, RP_NEED_HULL},
    {RP_MOMENTS_HU, "moments_hu", RP_COLS_SEVEN, false, true, false, NEED_M2 | RP_NEED_MOMENTS3},
};

/* scikit-image's PROPS aliases (the lower-case ones it still accepts) */
static const struct {
    const char *alias;
    rp_prop prop;
} ALIASES[] = {
    {"bbox_area", RP_AREA_BBOX},
    {"convex_area", RP_AREA_CONVEX},
    {"equivalent_diameter", RP_EQUIVALENT_DIAMETER},
    {"filled_area", RP_AREA_FILLED},
    {"major_axis_length", RP_AXIS_MAJOR_LENGTH},
    {"minor_axis_length", RP_AXIS_MINOR_LENGTH},
    {"max_intensity", RP_INTENSITY_MAX},
    {"mean_intensity", RP_INTENSITY_MEAN},
    {"min_intensity", RP_INTENSITY_MIN},
    {"weighted_centroid", RP_CENTROID_WEIGHTED},
};

const rp_prop_info *rp_prop_get(rp_prop p) { return (unsigned)p < RP_PROP_COUNT ? &PROPS[p] : NULL; }

const rp_prop_info *rp_prop_lookup(const char *name)
{
    for (int i = 0; i < RP_PROP_COUNT; i++)
        if (strcmp(PROPS[i].name, name) == 0)
            return &PROPS[i];
    for (size_t i = 0; i < sizeof ALIASES / sizeof ALIASES[0]; i++)
        if (strcmp(ALIASES[i].alias, name) == 0)
            return &PROPS[ALIASES[i].prop];
    return NULL;
}

/* ---- the requested columns ---- */
typedef struct rp_col {
    rp_prop prop;
    int k;       /* component */
    bool is_int;
    void *data;
} rp_col;

static int ncols_of(const rp_prop_info *pi, int ndim)
{
    switch (pi->ncols) {
    case RP_COLS_NDIM: return ndim;
    case RP_COLS_2NDIM: return 2 * ndim;
    case RP_COLS_SEVEN: return 7;
    default: return 1;
    }
}

/* Check the request in order (scikit-image fails on the first property it cannot compute), make the
 * table's columns, and collect what the regions must compute. */
static tp_status make_columns(tp_context *ctx, char **names, int nnames, int ndim, bool have_intensity,
                              tp_table *t, rp_col **cols_out, int *ncols_out, unsigned *needs_out)
{
    unsigned needs = 0;
    int total = 0;
    for (int i = 0; i < nnames; i++) {
        const rp_prop_info *pi = rp_prop_lookup(names[i]);
        if (!pi)
            return tp_error(ctx, TP_ERR_ARG, "regionprops_table: properties: unknown property '%s'", names[i]);
        if (pi->only_2d && ndim != 2)
            return tp_error(ctx, TP_ERR_ARG,
                            "regionprops_table: properties: '%s' is defined for 2D images only, got a %dD "
                            "label_image (scikit-image raises NotImplementedError)",
                            names[i], ndim);
        if (pi->intensity && !have_intensity)
            return tp_error(ctx, TP_ERR_ARG,
                            "regionprops_table: properties: '%s' needs an intensity_image, got none", names[i]);
        needs |= pi->needs;
        total += ncols_of(pi, ndim);
    }
    rp_col *cols = calloc((size_t)(total ? total : 1), sizeof *cols);
    if (!cols)
        return tp_error(ctx, TP_ERR_NOMEM, "out of host memory");
    int n = 0;
    tp_status st = TP_OK;
    for (int i = 0; i < nnames && !st; i++) {
        bool repeated = false; /* a repeated name is one dict key in scikit-image: one set of columns */
        for (int j = 0; j < i; j++)
            repeated |= strcmp(names[i], names[j]) == 0;
        if (repeated)
            continue;
        const rp_prop_info *pi = rp_prop_lookup(names[i]);
        int nc = ncols_of(pi, ndim);
        for (int k = 0; k < nc && !st; k++) {
            char name[64];
            if (pi->ncols == RP_COLS_ONE)
                snprintf(name, sizeof name, "%s", names[i]);
            else
                snprintf(name, sizeof name, "%s-%d", names[i], k);
            st = tp_table_add_column(ctx, t, name, pi->is_int ? TP_INT64 : TP_FLOAT64);
            cols[n++] = (rp_col){pi->prop, k, pi->is_int, NULL};
        }
    }
    if (st) {
        free(cols);
        return st;
    }
    for (int i = 0; i < n; i++)
        cols[i].data = t->cols[i].data;
    *cols_out = cols;
    *ncols_out = n;
    *needs_out = needs;
    return TP_OK;
}

/* ---- one region ---- */
typedef struct rp_state {
    rp_geom g;
    const rp_run *runs;
    const rp_region *regions;
    const tp_image *inten;
    const rp_nonfinite *nf; /* float intensity with centroid_weighted: where its NaN / inf values are */
    unsigned needs;
} rp_state;

/* centroid (global) and centroid_local from exact coordinate sums */
static void centroids(const rp_geom *g, const rp_region *r, const rp_run *runs, rp_values *v)
{
    __int128 s[3] = {0, 0, 0};
    for (int64_t i = 0; i < r->nruns; i++) {
        const rp_run *q = &runs[r->first + i];
        __int128 len = q->len;
        s[0] += len * (q->line / g->H);
        s[1] += len * (q->line % g->H);
        s[2] += len * q->x0 + len * (len - 1) / 2;
    }
    int first = g->ndim == 3 ? 0 : 1;
    double n = (double)r->area;
    for (int a = first; a < 3; a++) {
        v->centroid[a - first] = (double)s[a] / n;
        v->centroid_local[a - first] = (double)(s[a] - (__int128)r->area * r->lo[a]) / n;
    }
}

static tp_status measure(const rp_state *S, int64_t i, rp_work *w, rp_values *v, rp_fail *f)
{
    const rp_region *r = &S->regions[i];
    const rp_geom *g = &S->g;
    int first = g->ndim == 3 ? 0 : 1, nd = g->ndim;
    memset(v, 0, sizeof *v);
    v->area_bbox = 1;
    for (int a = first; a < 3; a++) {
        v->bbox[a - first] = r->lo[a];
        v->bbox[a - first + nd] = r->hi[a] + 1;
        v->area_bbox *= r->hi[a] - r->lo[a] + 1;
    }
    if (S->needs & RP_NEED_CENTROID)
        centroids(g, r, S->runs, v);
    if (S->needs & RP_NEED_EQUIV_DIAMETER) /* numpy's float64 ** is C's pow, not sqrt */
        v->equivalent_diameter = pow((double)(2 * nd * r->area) / M_PI, 1.0 / nd);
    v->extent = (double)r->area / (double)v->area_bbox;
    rp_moment_props(g, r, S->runs, S->needs, v);
    tp_status st = rp_hull_props(g, r, S->runs, S->needs, w, v, f);
    if (!st)
        v->solidity = (double)r->area / (double)v->area_convex;
    if (!st)
        st = rp_mask_props(g, r, S->runs, S->needs, w, v, f);
    if (!st && S->inten)
        st = rp_intensity_props(g, r, S->runs, S->inten, S->nf, S->needs, w, v, f);
    return st;
}

static double float_value(const rp_col *c, const rp_values *v)
{
    switch (c->prop) {
    case RP_CENTROID: return v->centroid[c->k];
    case RP_CENTROID_LOCAL: return v->centroid_local[c->k];
    case RP_CENTROID_WEIGHTED: return v->centroid_weighted[c->k];
    case RP_ECCENTRICITY: return v->eccentricity;
    case RP_EQUIVALENT_DIAMETER: return v->equivalent_diameter;
    case RP_EXTENT: return v->extent;
    case RP_FERET_DIAMETER_MAX: return v->feret;
    case RP_INTENSITY_MAX: return v->imax;
    case RP_INTENSITY_MEAN: return v->imean;
    case RP_INTENSITY_MIN: return v->imin;
    case RP_INTENSITY_STD: return v->istd;
    case RP_AXIS_MAJOR_LENGTH: return v->axis_major;
    case RP_AXIS_MINOR_LENGTH: return v->axis_minor;
    case RP_ORIENTATION: return v->orientation;
    case RP_PERIMETER: return v->perimeter;
    case RP_SOLIDITY: return v->solidity;
    case RP_MOMENTS_HU: return v->hu[c->k];
    default: return NAN;
    }
}

static int64_t int_value(const rp_col *c, const rp_region *r, const rp_values *v)
{
    switch (c->prop) {
    case RP_LABEL: return r->label;
    case RP_AREA: return r->area;
    case RP_AREA_BBOX: return v->area_bbox;
    case RP_AREA_CONVEX: return v->area_convex;
    case RP_AREA_FILLED: return v->area_filled;
    case RP_BBOX: return v->bbox[c->k];
    case RP_EULER_NUMBER: return v->euler;
    default: return 0;
    }
}

static void write_row(const rp_col *cols, int ncols, int64_t row, const rp_region *r, const rp_values *v)
{
    for (int i = 0; i < ncols; i++) {
        if (cols[i].is_int)
            ((int64_t *)cols[i].data)[row] = int_value(&cols[i], r, v);
        else
            ((double *)cols[i].data)[row] = float_value(&cols[i], v);
    }
}

/* Measure every region; on failure *fail describes the lowest failing region (whatever the threads). */
static tp_status measure_all(tp_context *ctx, const rp_state *S, int64_t nreg, const rp_col *cols, int ncols,
                             rp_fail *fail)
{
    int64_t fail_at = INT64_MAX;
#pragma omp parallel num_threads(ctx->threads)
    {
        rp_work w;
        memset(&w, 0, sizeof w);
#pragma omp for schedule(dynamic, 8)
        for (int64_t i = 0; i < nreg; i++) {
            int64_t lowest;
#pragma omp atomic read
            lowest = fail_at;
            if (lowest < i)
                continue;
            rp_values v;
            rp_fail f = {TP_OK, ""};
            if (measure(S, i, &w, &v, &f) != TP_OK) {
#pragma omp critical(rp_fail_lock)
                {
                    if (i < fail_at) {
                        *fail = f;
#pragma omp atomic write
                        fail_at = i;
                    }
                }
                continue;
            }
            write_row(cols, ncols, i, &S->regions[i], &v);
        }
        rp_work_free(&w);
    }
    return fail_at == INT64_MAX ? TP_OK : fail->code;
}

tp_status tp_cpu_regionprops_table(tp_context *ctx, const tp_call *c)
{
    const tp_image *lab = c->in[0], *inten = c->in[1];
    rp_state S;
    memset(&S, 0, sizeof S);
    S.g.ndim = tp_image_spatial_ndim(lab);
    S.g.D = S.g.ndim == 3 ? lab->shape[0] : 1;
    S.g.H = lab->shape[S.g.ndim - 2];
    S.g.W = lab->shape[S.g.ndim - 1];
    S.inten = inten;
    char **names = NULL;
    int nnames = tp_arg_strlist(c, "properties", &names);
    tp_table t = tp_table_empty();
    rp_col *cols = NULL;
    int ncols = 0;
    tp_status st = make_columns(ctx, names, nnames, S.g.ndim, inten != NULL, &t, &cols, &ncols, &S.needs);
    if (st) {
        tp_table_free(&t);
        return st;
    }
    rp_run *runs = NULL;
    rp_region *regions = NULL;
    int64_t nreg = 0;
    st = rp_collect_regions(ctx, lab, &S.g, &runs, &regions, &nreg);
    if (!st) {
        /* the columns were made with 0 rows to check the request first; now size them */
        tp_table_free(&t);
        t.nrows = nreg;
        free(cols);
        cols = NULL;
        st = make_columns(ctx, names, nnames, S.g.ndim, inten != NULL, &t, &cols, &ncols, &S.needs);
    }
    rp_nonfinite nf = {NULL, NULL, false};
    if (!st && nreg > 0 && inten && tp_dtype_is_float(inten->dtype) && (S.needs & RP_NEED_IWEIGHTED)) {
        st = rp_nonfinite_scan(ctx, &S.g, inten, ctx->threads, &nf);
        S.nf = &nf;
    }
    if (!st && nreg > 0) {
        S.runs = runs;
        S.regions = regions;
        rp_fail fail = {TP_OK, ""};
        st = measure_all(ctx, &S, nreg, cols, ncols, &fail);
        if (st)
            tp_error(ctx, st, "%s", fail.msg);
    }
    rp_nonfinite_free(&nf);
    free(runs);
    free(regions);
    free(cols);
    if (st) {
        tp_table_free(&t);
        return st;
    }
    c->out->table = t;
    return TP_OK;
}

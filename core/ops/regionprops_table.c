#include "common.h"

static const tp_input_desc inputs[] = {
    {"label_image", true, TP_DT(TP_BOOL) | TP_DT_INTS, TP_DIMS_23, false},
    {"intensity_image", false, TP_DT_INTS | TP_DT_FLOATS | TP_DT(TP_BOOL), TP_DIMS_23, false},
};
#define PROPS                                                                                                      \
    "label|area|area_bbox|area_convex|area_filled|bbox|centroid|centroid_local|centroid_weighted|eccentricity|"    \
    "equivalent_diameter_area|euler_number|extent|feret_diameter_max|intensity_max|intensity_mean|"               \
    "intensity_min|intensity_std|major_axis_length|minor_axis_length|orientation|perimeter|solidity|moments_hu|"  \
    "mean_intensity|max_intensity|min_intensity|convex_area|filled_area|bbox_area|equivalent_diameter|"            \
    "weighted_centroid"
static const tp_param_desc params[] = {
    {"properties", TP_P_STRLIST, "label,bbox", TP_NORANGE, PROPS, false,
     "comma-separated property names (scikit-image's names and their old aliases)"},
};
static const tp_case_desc cases[] = {
    /* the first case is the benchmark's: issue #9's target properties */
    {"properties=label,area,intensity_mean,solidity,bbox,centroid"},
    {"properties=label,area,bbox,centroid,area_bbox,extent,area_filled,euler_number"},
    {"properties=label,area_convex,solidity,perimeter,eccentricity,orientation,major_axis_length,"
     "minor_axis_length,equivalent_diameter_area,feret_diameter_max,moments_hu"},
    {"properties=label,intensity_min,intensity_max,intensity_mean,intensity_std,centroid_weighted,centroid_local"},
    {NULL}};

const tp_op_desc tp_op_regionprops_table = {
    .name = "regionprops_table",
    .summary = "per-region measurements as a table (area, intensity, shape, convex hull, ...)",
    .skimage = "skimage.measure.regionprops_table",
    .inputs = inputs, .n_inputs = TP_COUNT(inputs),
    .params = params, .n_params = TP_COUNT(params),
    .output = TP_OUT_TABLE,
    .impl = {tp_cpu_regionprops_table, TP_CUDA_IMPL(tp_cuda_regionprops_table)},
    .contract = {TP_CONTRACT_TABLE, 1e-12,
                 "integer columns exact; float columns from exact integer sums are exact, moment-derived columns "
                 "within 1e-12 relative"},
    .cases = cases,
    .bench_sizes_2d = tp_bench_2d_default, .bench_sizes_3d = tp_bench_3d_default,
    .input_kind = "labels",
};

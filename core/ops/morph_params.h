/* Inputs and parameters shared by binary_erosion, binary_dilation, binary_opening and binary_closing. */
#ifndef TP_OPS_MORPH_PARAMS_H
#define TP_OPS_MORPH_PARAMS_H
#include "common.h"

static const tp_input_desc tp_morph_inputs[] = {
    {"image", true, TP_DT_ALL, TP_DIMS_23, false},
};
#define TP_MORPH_NPARAMS 2
static const tp_param_desc tp_morph_params[TP_MORPH_NPARAMS] = {
    {"footprint", TP_P_FOOTPRINT, "none", TP_NORANGE, NULL, true,
     "disk:R, square:W, rectangle:HxW, diamond:R, ball:R, cube:W, octahedron:R, cuboid:DxHxW, cross, a TIFF; "
     "None: the cross (connectivity 1) of the image's dimension"},
    {"mode", TP_P_ENUM, "ignore", TP_NORANGE, "ignore|min|max", false,
     "border: ignore (outside never changes the result), min (outside is False), max (outside is True)"},
};
static inline tp_status tp_morph_check(tp_context *ctx, const tp_call *c)
{
    const tp_footprint *fp = tp_arg_footprint(c, "footprint");
    int sd = tp_image_spatial_ndim(c->in[0]);
    if (fp && fp->ndim != sd)
        return tp_error(ctx, TP_ERR_ARG, "%s: footprint: expected a %dD footprint for a %dD image, got %dD",
                        c->op->name, sd, sd, fp->ndim);
    return TP_OK;
}
static const tp_case_desc tp_morph_cases[] = {
    {"footprint=disk:2"}, {""}, {"footprint=square:3"}, {"footprint=rectangle:2x4"}, {"footprint=diamond:1"},
    {"footprint=disk:2;mode=min"}, {"footprint=disk:2;mode=max"}, {NULL}};
#endif

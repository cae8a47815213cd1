/* binary_closing: scikit-image's skimage.morphology.binary_closing, a dilation then an erosion with the same
 * footprint and mode (see cpu_ref/morphology.h). */
#include "cpu_ref/cpu_ops.h"
#include "cpu_ref/morphology.h"

tp_status tp_cpu_binary_closing(tp_context *ctx, const tp_call *c)
{
    static const tp_morph_kind steps[] = {TP_MORPH_DILATE, TP_MORPH_ERODE};
    return tp_morph_run_op(ctx, c, steps, (int)(sizeof steps / sizeof steps[0]));
}

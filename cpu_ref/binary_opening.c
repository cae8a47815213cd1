/* binary_opening: scikit-image's skimage.morphology.binary_opening, an erosion then a dilation with the same
 * footprint and mode (see cpu_ref/morphology.h). */
#include "cpu_ref/cpu_ops.h"
#include "cpu_ref/morphology.h"

tp_status tp_cpu_binary_opening(tp_context *ctx, const tp_call *c)
{
    static const tp_morph_kind steps[] = {TP_MORPH_ERODE, TP_MORPH_DILATE};
    return tp_morph_run_op(ctx, c, steps, (int)(sizeof steps / sizeof steps[0]));
}

/* binary_erosion: scikit-image's skimage.morphology.binary_erosion (see cpu_ref/morphology.h). */
#include "cpu_ref/cpu_ops.h"
#include "cpu_ref/morphology.h"

tp_status tp_cpu_binary_erosion(tp_context *ctx, const tp_call *c)
{
    static const tp_morph_kind steps[] = {TP_MORPH_ERODE};
    return tp_morph_run_op(ctx, c, steps, (int)(sizeof steps / sizeof steps[0]));
}

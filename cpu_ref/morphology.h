/* Binary morphology shared by binary_erosion, binary_dilation, binary_opening and binary_closing.
 *
 * Semantics (scikit-image 0.19.3 = scipy.ndimage with iterations=1):
 *   erosion:  out[p] = AND over footprint offsets d of in[p + d],  d = k - size//2 per axis
 *   dilation: out[p] = OR  over footprint offsets d of in[p - d]   (scipy mirrors the footprint and shifts
 *             even axes by one, which amounts to the same reflection about size//2)
 * Pixels outside the image take the border value; `mode` picks it (see tp_morph_border). */
#ifndef TP_CPU_MORPHOLOGY_H
#define TP_CPU_MORPHOLOGY_H
#include "twinpix/internal.h"

typedef enum tp_morph_kind { TP_MORPH_ERODE = 0, TP_MORPH_DILATE = 1 } tp_morph_kind;

/* The value outside the image for one step of `mode` (scikit-image 0.26's rule; 0.19.3 knows only
 * "ignore"): erosion treats outside as True unless mode is "min"; dilation treats it as False unless mode
 * is "max". */
bool tp_morph_border(tp_morph_kind kind, const char *mode);

/* One erosion or dilation of `in` (any dtype, nonzero = True; contiguous host, 2D or 3D, no channel
 * axis) with `fp` (same dimensionality), writing 0/1 bytes of the same shape into `out` (not aliasing
 * `in`). Uses up to ctx->threads threads; the result does not depend on their number. */
tp_status tp_morph_apply(tp_context *ctx, const tp_image *in, uint8_t *out, const tp_footprint *fp,
                         tp_morph_kind kind, bool border_value);

/* Run an op made of `n` steps in order (erosion: 1 step; opening: erode then dilate, ...) on the call's
 * image with its footprint (None: the connectivity-1 cross) and mode, into a new bool output. */
tp_status tp_morph_run_op(tp_context *ctx, const tp_call *c, const tp_morph_kind *steps, int n);
#endif

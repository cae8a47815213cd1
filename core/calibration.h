/* Crossovers for the auto backend: the pixel count from which the GPU, transfers included, beats the CPU. */
#ifndef TP_CORE_CALIBRATION_H
#define TP_CORE_CALIBRATION_H
#include <stdint.h>

/* Crossover in pixels for op (-1: never use the GPU from the host). *rule names its source (calibration
 * file path or "built-in default"). Loads TWINPIX_CALIBRATION (or the per-user default) once. */
int64_t tp_calibration_crossover(const char *op, const char **rule);
#endif

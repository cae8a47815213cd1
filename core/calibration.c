/* Crossover table for the auto backend. Built-in defaults until a calibration file is loaded. */
#include "core/calibration.h"

int64_t tp_calibration_crossover(const char *op, const char **rule)
{
    (void)op;
    *rule = "built-in default";
    return 1024 * 1024;
}

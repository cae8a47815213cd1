/* Shared pieces of op descriptors (not an op: CMake registers only the .c files of core/ops). */
#ifndef TP_OPS_COMMON_H
#define TP_OPS_COMMON_H
#include "twinpix/internal.h"
#include "cpu_ref/cpu_ops.h"
#include "gpu/cuda_ops.h"

#define TP_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define TP_NORANGE 1, 0 /* min > max: no range check */

static const int64_t tp_bench_2d_default[] = {256, 640, 2048, 8192, 0};
static const int64_t tp_bench_3d_default[] = {64, 128, 256, 512, 0}; /* 512^3: cpu-1t is left out by default (bench/plan.c) */
#endif

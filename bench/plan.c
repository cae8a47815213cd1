/* What a run holds beyond the descriptors' sizes (bench/README.md, "Sizes, rules and region counts"):
 *  - the cpu-1t size rule: one thread is not run above TP_BENCH_CPU_1T_MAX_PIXELS in a run whose sizes come
 *    from the descriptors (the 512^3 cubes); --size asks for it explicitly;
 *  - region-count cases: an op whose input is "labels" measured again on labels drawn with bigger (or smaller)
 *    nuclei, so that the image holds a chosen number of regions. The built-in ones are the issue #9 targets
 *    below; --regions N adds N for every labels-input op at every size of the run.
 * Plain C without Google Benchmark, so tests/test_bench.c checks the rules directly. */
#include "bench/bench.h"

#include <math.h>
#include <string.h>

/* The targets that a run measures on its own, when the op and the size are in the run (a default full run,
 * or --op/--size that select them): op, dimensions, side, regions. */
static const struct region_case {
    const char *op;
    int ndim;
    int64_t side;
    int64_t regions;
} g_region_cases[] = {
    /* issue #9: "regionprops_table at 8192^2 with ~2000 regions <= 2 ms (cuCIM 4179 ms)"; the default labels
     * at 8192^2 hold ~63,000 nuclei of radius ~10, these ~2000 of radius ~56 (~16x the area each) */
    {"regionprops_table", 2, 8192, 2000},
};

int tp_bench_rule_skip(const tp_bench_config *cfg, tp_bench_backend be, int ndim, const int64_t *shape, char *why,
                       size_t why_len)
{
    if (be != TP_BENCH_CPU_1T || cfg->nsizes || tp_bench_pixels(ndim, shape) <= TP_BENCH_CPU_1T_MAX_PIXELS)
        return 0;
    snprintf(why, why_len,
             "cpu-1t is not run above %lld pixels (8192^2) unless the size is asked for with --size "
             "(e.g. --size 512^3 --backend cpu-1t)",
             (long long)TP_BENCH_CPU_1T_MAX_PIXELS);
    return 1;
}

static int is_cube(int ndim, const int64_t *shape, int64_t side)
{
    for (int i = 0; i < ndim; i++)
        if (shape[i] != side)
            return 0;
    return 1;
}

static int add_unique(int64_t *out, int n, int max, int64_t v)
{
    for (int i = 0; i < n; i++)
        if (out[i] == v)
            return n;
    if (n < max)
        out[n++] = v;
    return n;
}

int tp_bench_region_variants(const tp_bench_config *cfg, const tp_op_desc *op, int ndim, const int64_t *shape,
                             int64_t *out, int max)
{
    int n = 0;
    if (!op || !op->input_kind || strcmp(op->input_kind, "labels"))
        return 0;
    for (size_t i = 0; i < sizeof g_region_cases / sizeof g_region_cases[0]; i++) {
        const struct region_case *c = &g_region_cases[i];
        if (!strcmp(c->op, op->name) && c->ndim == ndim && is_cube(ndim, shape, c->side))
            n = add_unique(out, n, max, c->regions);
    }
    if (cfg->regions > 0)
        n = add_unique(out, n, max, cfg->regions);
    return n;
}

/* Labels per pixel of the generator (datasets/synth.c: density 0.3, seed 1, random sequential placement of
 * nuclei with mean radius r) times r^2 in 2D, times r^3 in 3D; measured over r = 10..56 and sides 640..8192
 * (2D: 0.093..0.094) and 128..512 (3D: 0.059..0.062). The placement is scale-free, so the count follows. */
#define LABELS_K2 0.0935
#define LABELS_K3 0.0600

double tp_bench_radius_for_regions(int ndim, const int64_t *shape, int64_t regions)
{
    if (regions <= 0)
        return 0;
    double px = (double)tp_bench_pixels(ndim, shape), side = (double)shape[0];
    for (int i = 1; i < ndim; i++)
        side = fmin(side, (double)shape[i]);
    double r = ndim == 3 ? cbrt(LABELS_K3 * px / (double)regions) : sqrt(LABELS_K2 * px / (double)regions);
    /* a nucleus of radius < 1 is not drawn reliably; one wider than the image is clipped to one region */
    return fmax(1.0, fmin(r, fmax(1.0, side / 2)));
}

void tp_bench_case_label(const char *op, int64_t regions, char *out, size_t n)
{
    if (regions > 0)
        snprintf(out, n, "%s[regions=%lld]", op, (long long)regions);
    else
        snprintf(out, n, "%s", op);
}

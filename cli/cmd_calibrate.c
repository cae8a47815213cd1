/* twinpix calibrate [--out FILE] [--quick] [--threads N]
 * Measures each op on this machine (CPU all threads; the GPU device-resident; host<->device transfers) at a
 * few sizes, fits time = fixed + per-pixel for each, and writes the calibration file that the auto backend
 * reads (default path: $TWINPIX_CALIBRATION or ~/.config/twinpix/calibration.json). Without a GPU, only the
 * CPU costs are measured and the GPU costs keep the built-in defaults (and the file says so). */
#include "cli/cli_util.h"
#include "core/calibration.h"
#include "datasets/datasets.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median wall time of `reps` runs of op on inputs (after one warm-up), device work synchronised. */
static tp_status time_op(tp_context *ctx, tp_backend_id be, const tp_op_desc *op, const tp_image *const *in, int nin,
                         const tp_params *pp, int reps, double *ms)
{
    double t[16];
    for (int r = -1; r < reps; r++) {
        tp_result res = tp_result_empty();
        double t0 = tp_cli_now_ms();
        tp_status st = tp_run_on(ctx, be, op->name, in, nin, pp, &res);
        if (!st)
            st = tp_context_sync(ctx);
        double t1 = tp_cli_now_ms();
        tp_result_free(&res);
        if (st)
            return st;
        if (r >= 0)
            t[r] = t1 - t0;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_d);
    *ms = t[reps / 2];
    return TP_OK;
}

/* Least squares of ms = a + b * n over the sizes; a and b clamped at 0. */
static tp_cost fit(const double *n, const double *ms, int k)
{
    double sn = 0, sm = 0, snn = 0, snm = 0;
    for (int i = 0; i < k; i++) {
        sn += n[i];
        sm += ms[i];
        snn += n[i] * n[i];
        snm += n[i] * ms[i];
    }
    double den = k * snn - sn * sn;
    double b = den > 0 ? (k * snm - sn * sm) / den : 0;
    if (b < 0)
        b = 0;
    double a = (sm - b * sn) / k;
    if (a < 0)
        a = 0;
    tp_cost c = {a, b * 1e6};
    return c;
}

static tp_status make_inputs(tp_context *ctx, const tp_op_desc *op, int64_t side, tp_location where, tp_image *imgs,
                             int *nin)
{
    int64_t shape[2] = {side, side};
    tp_status st = tp_synth_input(ctx, op->input_kind, 2, shape, TP_UINT8, 42, &imgs[0]);
    *nin = 1;
    if (!st && op->n_inputs > 1) /* optional second inputs too: the first case may need it (intensity_mean) */
        st = tp_synth_input(ctx, "gray", 2, shape, TP_UINT8, 43, &imgs[(*nin)++]);
    for (int i = 0; !st && i < *nin && where == TP_DEVICE; i++) {
        tp_image d = tp_image_empty();
        st = tp_image_copy(ctx, &imgs[i], &d, TP_DEVICE);
        tp_image_free(&imgs[i]);
        imgs[i] = d;
    }
    return st;
}

static tp_status case_params(const tp_op_desc *op, tp_params *pp)
{
    if (!op->cases || !op->cases[0].params)
        return TP_OK;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", op->cases[0].params);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = 0;
        tp_status st = tp_params_set(pp, tok, eq + 1);
        if (st)
            return st;
    }
    return TP_OK;
}

int tp_cmd_calibrate(int argc, char **argv)
{
    char out[4096];
    tp_calibration_default_path(out, sizeof out);
    int quick = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: twinpix calibrate [--out FILE] [--quick] [--threads N]\n");
            return TP_EXIT_OK;
        } else if (!strcmp(argv[i], "--quick")) {
            quick = 1;
        } else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            snprintf(out, sizeof out, "%s", argv[++i]);
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else {
            fprintf(stderr, "twinpix calibrate: unknown argument '%s'\n", argv[i]);
            return TP_EXIT_USAGE;
        }
    }
    tp_context *ctx = NULL;
    if (tp_context_create(&ctx))
        return TP_EXIT_ERROR;
    tp_context_set_threads(ctx, threads);
    char why[256];
    int gpu = tp_backend_available(TP_BACKEND_CUDA, why, sizeof why);
    tp_calibration cal;
    tp_calibration_defaults(&cal);
    static const int64_t sides_full[] = {128, 512, 2048}, sides_quick[] = {64, 128, 256};
    const int64_t *sides = quick ? sides_quick : sides_full;
    int reps = quick ? 3 : 5, rc = TP_EXIT_OK;
    tp_status st = TP_OK;
    if (gpu) { /* transfers: 64 MiB each way between pageable host memory and an existing device buffer,
                * after a warm-up copy (first touch and allocation stay out of the figure) */
        int64_t shape[1] = {INT64_C(64) << 20};
        tp_image h = tp_image_empty(), d = tp_image_empty();
        const tp_backend *cu = tp_backend_get(TP_BACKEND_CUDA);
        st = tp_image_alloc(ctx, &h, TP_UINT8, 1, shape, -1, TP_HOST);
        if (!st) {
            memset(h.data, 7, (size_t)shape[0]);
            st = tp_image_copy(ctx, &h, &d, TP_DEVICE);
        }
        if (!st) {
            double t0 = tp_cli_now_ms();
            st = cu->copy(ctx, d.data, TP_DEVICE, h.data, TP_HOST, (size_t)shape[0]);
            double t1 = tp_cli_now_ms();
            if (!st)
                st = cu->copy(ctx, h.data, TP_HOST, d.data, TP_DEVICE, (size_t)shape[0]);
            double t2 = tp_cli_now_ms();
            if (!st) {
                cal.h2d_gbs = (double)shape[0] / ((t1 - t0) * 1e6);
                cal.d2h_gbs = (double)shape[0] / ((t2 - t1) * 1e6);
            }
        }
        tp_image_free(&h);
        tp_image_free(&d);
    }
    for (int o = 0; o < tp_op_count() && !st; o++) {
        const tp_op_desc *op = tp_op_at(o);
        tp_op_costs *oc = NULL;
        for (int k = 0; k < cal.n; k++)
            if (!strcmp(cal.ops[k].op, op->name))
                oc = &cal.ops[k];
        if (!oc && cal.n < 64) {
            oc = &cal.ops[cal.n++];
            memset(oc, 0, sizeof *oc);
            snprintf(oc->op, sizeof oc->op, "%s", op->name);
        }
        double n[3], cpu_ms[3], gpu_ms[3];
        tp_params *pp = NULL;
        if ((st = tp_params_create(&pp)) || (st = case_params(op, pp))) {
            tp_params_destroy(pp);
            break;
        }
        int ok_cpu = 1, ok_gpu = gpu && op->impl[TP_BACKEND_CUDA];
        for (int s = 0; s < 3 && (ok_cpu || ok_gpu); s++) {
            tp_image imgs[2] = {tp_image_empty(), tp_image_empty()};
            int nin = 0;
            const tp_image *in[2] = {&imgs[0], &imgs[1]};
            n[s] = (double)(sides[s] * sides[s]);
            if (ok_cpu && (make_inputs(ctx, op, sides[s], TP_HOST, imgs, &nin) ||
                           time_op(ctx, TP_BACKEND_CPU, op, in, nin, pp, reps, &cpu_ms[s]))) {
                fprintf(stderr, "twinpix calibrate: %s on the CPU: %s\n", op->name, tp_last_error(ctx));
                ok_cpu = 0;
            }
            tp_image_free(&imgs[0]);
            tp_image_free(&imgs[1]);
            if (ok_gpu && (make_inputs(ctx, op, sides[s], TP_DEVICE, imgs, &nin) ||
                           time_op(ctx, TP_BACKEND_CUDA, op, in, nin, pp, reps, &gpu_ms[s]))) {
                fprintf(stderr, "twinpix calibrate: %s on the GPU: %s\n", op->name, tp_last_error(ctx));
                ok_gpu = 0;
            }
            tp_image_free(&imgs[0]);
            tp_image_free(&imgs[1]);
        }
        tp_params_destroy(pp);
        if (ok_cpu)
            oc->cpu = fit(n, cpu_ms, 3);
        if (ok_gpu)
            oc->cuda = fit(n, gpu_ms, 3);
        fprintf(stderr, "twinpix calibrate: %-18s cpu %.4f ms + %.3f ns/px   cuda %.4f ms + %.4f ns/px%s\n", op->name,
                oc->cpu.fixed_ms, oc->cpu.ns_per_px, oc->cuda.fixed_ms, oc->cuda.ns_per_px,
                ok_gpu ? "" : " (built-in default)");
    }
    if (st) {
        rc = tp_cli_fail(ctx, "calibrate", st);
    } else {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", out);
        for (char *p = dir + 1; *p; p++) /* create parent folders */
            if (*p == '/') {
                *p = 0;
                mkdir(dir, 0777);
                *p = '/';
            }
        snprintf(cal.source, sizeof cal.source, "%s", out);
        st = tp_calibration_save(ctx, out, &cal);
        if (st)
            rc = tp_cli_fail(ctx, "calibrate", st);
        else
            printf("wrote %s%s\n", out, gpu ? "" : " (no GPU here: GPU costs are the built-in defaults)");
    }
    tp_context_destroy(ctx);
    return rc;
}

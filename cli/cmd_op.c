/* twinpix op NAME [--PARAM VALUE]... [--backend cpu|cuda|auto] [--threads N] [--channel-axis-of-input I:AX]
 *            INPUT... [OUTPUT]
 * Runs any registered op on files. Parameters are the op's descriptor parameters, named as scikit-image names
 * them; values are parsed by the same code as the C API's tp_params_set. */
#include "cli/cli_util.h"
#include "datasets/datasets.h"

#include <stdlib.h>
#include <string.h>

static void op_help(const tp_op_desc *op)
{
    if (!op) {
        printf("usage: twinpix op NAME [--PARAM VALUE]... [--backend cpu|cuda|auto] [--threads N]\n"
               "                  [--channel-axis-of-input I:AX] INPUT... [OUTPUT]\n"
               "ops (twinpix ops for details):");
        for (int i = 0; i < tp_op_count(); i++)
            printf(" %s", tp_op_name(i));
        printf("\ninputs: .tif/.tiff/.png/.npy images; outputs: images by extension, tables as .csv/.json;\n"
               "scalar results print on stdout (or go to a .json/.txt OUTPUT)\n");
        return;
    }
    printf("twinpix op %s: %s\n  reproduces %s\n  inputs:", op->name, op->summary, op->skimage);
    for (int i = 0; i < op->n_inputs; i++)
        printf(" %s%s%s", op->inputs[i].required ? "" : "[", op->inputs[i].name, op->inputs[i].required ? "" : "]");
    printf(" %s\n  parameters:\n", op->output == TP_OUT_SCALAR ? "[OUTPUT.json|.txt]" : "OUTPUT");
    for (int i = 0; i < op->n_params; i++) {
        const tp_param_desc *d = &op->params[i];
        printf("    --%-16s %s (default %s)%s%s\n", d->name, d->help, d->def ? d->def : "required",
               d->choices ? "; one of " : "", d->choices ? d->choices : "");
    }
    printf("  backends: cpu%s\n", op->impl[TP_BACKEND_CUDA] ? ", cuda" : "");
}

int tp_cmd_op(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        op_help(argc >= 2 ? NULL : NULL);
        return argc < 2 ? TP_EXIT_USAGE : TP_EXIT_OK;
    }
    const tp_op_desc *op = tp_op_find(argv[1]);
    if (!op) {
        fprintf(stderr, "twinpix op: unknown op '%s' (twinpix ops lists them)\n", argv[1]);
        return TP_EXIT_USAGE;
    }
    tp_context *ctx = NULL;
    tp_params *params = NULL;
    if (tp_context_create(&ctx) || tp_params_create(&params)) {
        fprintf(stderr, "twinpix op: out of memory\n");
        tp_context_destroy(ctx);
        return TP_EXIT_ERROR;
    }
    const char *pos[8];
    int npos = 0, cax_in[4] = {-2, -2, -2, -2}, rc = TP_EXIT_OK, verbose = 0;
    tp_backend_choice choice = TP_CHOOSE_CPU;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            op_help(op);
            goto out;
        }
        if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            verbose = 1;
            continue;
        }
        if (!strncmp(a, "--", 2)) {
            if (i + 1 >= argc) {
                fprintf(stderr, "twinpix op %s: %s needs a value\n", op->name, a);
                rc = TP_EXIT_USAGE;
                goto out;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "--backend")) {
                if (tp_cli_backend(v, &choice)) {
                    fprintf(stderr, "twinpix op: --backend: expected cpu, cuda or auto, got '%s'\n", v);
                    rc = TP_EXIT_USAGE;
                    goto out;
                }
            } else if (!strcmp(a, "--threads")) {
                if (tp_context_set_threads(ctx, atoi(v))) {
                    rc = tp_cli_fail(ctx, "op", TP_ERR_ARG);
                    goto out;
                }
            } else if (!strcmp(a, "--channel-axis-of-input")) {
                int idx, ax;
                if (sscanf(v, "%d:%d", &idx, &ax) != 2 || idx < 0 || idx > 3) {
                    fprintf(stderr, "twinpix op: --channel-axis-of-input: expected I:AX, got '%s'\n", v);
                    rc = TP_EXIT_USAGE;
                    goto out;
                }
                cax_in[idx] = ax;
            } else if (tp_params_set(params, a + 2, v) != TP_OK) {
                fprintf(stderr, "twinpix op: cannot record parameter %s\n", a);
                rc = TP_EXIT_USAGE;
                goto out;
            }
            continue;
        }
        if (npos == 8) {
            fprintf(stderr, "twinpix op: too many file arguments\n");
            rc = TP_EXIT_USAGE;
            goto out;
        }
        pos[npos++] = a;
    }
    tp_context_set_backend(ctx, choice);
    int required = 0;
    for (int i = 0; i < op->n_inputs; i++)
        required += op->inputs[i].required;
    const char *out_path = NULL;
    int nin = npos;
    if (op->output != TP_OUT_SCALAR) {
        if (npos < required + 1) {
            fprintf(stderr, "twinpix op %s: expected %d to %d inputs and an OUTPUT, got %d file arguments\n",
                    op->name, required, op->n_inputs, npos);
            rc = TP_EXIT_USAGE;
            goto out;
        }
        out_path = pos[--nin];
    } else if (npos > required &&
               (tp_cli_has_suffix(pos[npos - 1], ".json") || tp_cli_has_suffix(pos[npos - 1], ".txt"))) {
        out_path = pos[--nin];
    }
    if (nin < required || nin > op->n_inputs) {
        fprintf(stderr, "twinpix op %s: expected %d to %d input files, got %d\n", op->name, required, op->n_inputs,
                nin);
        rc = TP_EXIT_USAGE;
        goto out;
    }
    tp_image imgs[4];
    const tp_image *in[4];
    for (int i = 0; i < 4; i++)
        imgs[i] = tp_image_empty();
    tp_status st = TP_OK;
    for (int i = 0; i < nin && !st; i++) {
        st = tp_read_image(ctx, pos[i], &imgs[i], NULL);
        if (!st && cax_in[i] != -2) {
            int ax = cax_in[i] < 0 ? cax_in[i] + imgs[i].ndim : cax_in[i];
            if (ax < -1 || ax >= imgs[i].ndim)
                st = tp_error(ctx, TP_ERR_ARG, "--channel-axis-of-input %d: axis %d out of range for %d axes", i,
                              cax_in[i], imgs[i].ndim);
            else
                imgs[i].channel_axis = ax;
        }
        in[i] = &imgs[i];
    }
    tp_result res = tp_result_empty();
    double t0 = tp_cli_now_ms(), t1 = t0;
    if (!st) {
        st = tp_run(ctx, op->name, in, nin, params, &res);
        t1 = tp_cli_now_ms();
    }
    if (!st) {
        if (out_path) {
            st = tp_cli_write_result(ctx, out_path, &res);
        } else {
            double v;
            if (!(st = tp_result_scalar(ctx, &res, &v)))
                printf("%.17g\n", v);
        }
    }
    if (!st && verbose)
        fprintf(stderr, "twinpix op %s: %s backend, %.3f ms\n", op->name, tp_backend_name(res.backend), t1 - t0);
    if (st)
        rc = tp_cli_fail(ctx, "op", st);
    tp_result_free(&res);
    for (int i = 0; i < 4; i++)
        tp_image_free(&imgs[i]);
out:
    tp_params_destroy(params);
    tp_context_destroy(ctx);
    return rc;
}

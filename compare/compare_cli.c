/* `twinpix compare`: does the GPU give what the CPU reference gives, op by op and through whole pipelines,
 * on real and synthetic images, and where exactly does it first differ? Options and exit codes are in
 * usage() below and in compare/README.md. */
#include "cli/commands.h"
#include "compare/compare.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TP_CMP_MAX_PIPELINES 16

static void usage(FILE *f)
{
    fputs("usage: twinpix compare [options]\n"
          "\n"
          "Runs every op of the registry (its parameter sets, declared dtypes, 2D and 3D, synthetic sizes from\n"
          "1x1 to 8192^2 and 256^3, and the real images of the dataset manifest) on the CPU reference and on\n"
          "CUDA, judges the CUDA output by the op's parity contract, and runs pipelines stage by stage with the\n"
          "data kept on the device. A difference is reported with its first mismatching element or row.\n"
          "\n"
          "options:\n"
          "  --op NAME          only this op (repeatable)\n"
          "  --dataset NAME     only this real image (repeatable); 'synthetic' for the synthetic inputs\n"
          "  --size N           synthetic NxN (and NxNxN up to 256) instead of the default sizes (repeatable)\n"
          "  --quick            a small subset (well under a minute on 2 CPU cores)\n"
          "  --require-gpu      no usable GPU is a failure (exit 4), not a skip\n"
          "  --threads N        CPU threads of the reference (0 = all)\n"
          "  --out DIR          write DIR/compare.json, DIR/compare.junit.xml and DIR/compare.txt\n"
          "  --pipeline FILE    run the pipelines of FILE (JSON, see compare/README.md) instead of the seed\n"
          "  --no-pipelines     op cases only\n"
          "  --help             this text\n"
          "\n"
          "Without a GPU every case is skipped with the reason; with --quick the CPU side still runs.\n"
          "Pipelines run when no --op is given, or when --pipeline is.\n"
          "\n"
          "exit status: 0 nothing failed and something ran; 1 a case or pipeline failed; 2 bad command line;\n"
          "3 a report could not be written or a pipeline file read; 4 --require-gpu and no GPU;\n"
          "77 everything was skipped (no GPU).\n",
          f);
}

/* ---- options ---- */

/* "--name VALUE" or "--name=VALUE" */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != 0)
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "twinpix compare: %s: expected a value\n", name);
        return "";
    }
    return argv[++*i];
}

static bool parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool add_to(const char **list, int *n, const char *v, const char *what)
{
    if (!*v)
        return false;
    if (*n == TP_CMP_MAX_LIST) {
        fprintf(stderr, "twinpix compare: %s: at most %d\n", what, TP_CMP_MAX_LIST);
        return false;
    }
    list[(*n)++] = v;
    return true;
}

static bool parse_fault(const char *v, tp_cmp_options *o)
{
    const char *colon = strchr(v, ':');
    size_t n = colon ? (size_t)(colon - v) : strlen(v);
    if (n == 4 && strncmp(v, "twin", 4) == 0)
        o->fault = TP_FAULT_TWIN;
    else if (n == 7 && strncmp(v, "perturb", 7) == 0)
        o->fault = TP_FAULT_PERTURB;
    else
        return false;
    if (colon)
        snprintf(o->fault_stage, sizeof o->fault_stage, "%s", colon + 1);
    return true;
}

/* 0 on success, else the exit code (help: -1). */
static int parse_options(int argc, char **argv, tp_cmp_options *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *v;
        int64_t x;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return -1;
        } else if (!strcmp(argv[i], "--quick")) {
            o->quick = true;
        } else if (!strcmp(argv[i], "--require-gpu")) {
            o->require_gpu = true;
        } else if (!strcmp(argv[i], "--no-pipelines")) {
            o->no_pipelines = true;
        } else if ((v = opt_value(argc, argv, &i, "--op"))) {
            if (!add_to(o->ops, &o->n_ops, v, "--op"))
                return TP_EXIT_USAGE;
            if (!tp_op_find(v)) {
                fprintf(stderr, "twinpix compare: --op: unknown op '%s' (twinpix ops lists them)\n", v);
                return TP_EXIT_USAGE;
            }
        } else if ((v = opt_value(argc, argv, &i, "--dataset"))) {
            if (!add_to(o->datasets, &o->n_datasets, v, "--dataset"))
                return TP_EXIT_USAGE;
        } else if ((v = opt_value(argc, argv, &i, "--pipeline"))) {
            if (!add_to(o->pipeline_files, &o->n_pipeline_files, v, "--pipeline"))
                return TP_EXIT_USAGE;
        } else if ((v = opt_value(argc, argv, &i, "--size"))) {
            if (!parse_int(v, 1, 1 << 16, &x) || o->n_sizes == TP_CMP_MAX_LIST) {
                fprintf(stderr, "twinpix compare: --size: expected an integer in [1, 65536], got '%s'\n", v);
                return TP_EXIT_USAGE;
            }
            o->sizes[o->n_sizes++] = x;
        } else if ((v = opt_value(argc, argv, &i, "--threads"))) {
            if (!parse_int(v, 0, 4096, &x)) {
                fprintf(stderr, "twinpix compare: --threads: expected an integer in [0, 4096], got '%s'\n", v);
                return TP_EXIT_USAGE;
            }
            o->threads = (int)x;
        } else if ((v = opt_value(argc, argv, &i, "--out"))) {
            if (!*v)
                return TP_EXIT_USAGE;
            o->out_dir = v;
        } else if ((v = opt_value(argc, argv, &i, "--inject-fault"))) {
            /* hidden, for tests: compare the CPU with a second CPU run (twin), optionally corrupted (perturb) */
            if (!parse_fault(v, o)) {
                fprintf(stderr, "twinpix compare: --inject-fault: expected twin or perturb[:STAGE], got '%s'\n", v);
                return TP_EXIT_USAGE;
            }
        } else {
            fprintf(stderr, "twinpix compare: unknown option '%s' (twinpix compare --help)\n", argv[i]);
            return TP_EXIT_USAGE;
        }
    }
    return 0;
}

/* ---- datasets ---- */

static int select_datasets(const tp_cmp_options *o, tp_cmp_data *data)
{
    static tp_dataset all[TP_CMP_MAX_DATASETS];
    int n = tp_datasets_list(all, TP_CMP_MAX_DATASETS);
    memset(data, 0, sizeof *data);
    for (int i = 0; i < TP_CMP_MAX_DATASETS; i++)
        data->img[i] = tp_image_empty();
    if (o->n_datasets == 0) {
        data->synthetic = true;
        if (!o->quick) {
            for (int i = 0; i < n; i++)
                data->ds[data->n++] = all[i];
            return 0;
        }
        /* --quick: one real image, the classic blobs if present, else the first single-channel 2D one */
        int pick = -1;
        for (int i = 0; i < n && pick < 0; i++)
            if (strcmp(all[i].name, "blobs_imagej_8bit") == 0)
                pick = i;
        for (int i = 0; i < n && pick < 0; i++)
            if (all[i].ndim == 2 && all[i].channel_axis < 0 && !tp_cmp_dataset_is_labels(&all[i]))
                pick = i;
        if (pick >= 0)
            data->ds[data->n++] = all[pick];
        return 0;
    }
    for (int k = 0; k < o->n_datasets; k++) {
        if (strcmp(o->datasets[k], "synthetic") == 0) {
            data->synthetic = true;
            continue;
        }
        int found = -1;
        for (int i = 0; i < n; i++)
            if (strcmp(all[i].name, o->datasets[k]) == 0)
                found = i;
        if (found < 0) {
            fprintf(stderr, "twinpix compare: --dataset: '%s' is not on this machine; known:", o->datasets[k]);
            for (int i = 0; i < n; i++)
                fprintf(stderr, " %s", all[i].name);
            fprintf(stderr, " synthetic\n");
            return TP_EXIT_USAGE;
        }
        data->ds[data->n++] = all[found];
    }
    return 0;
}

static void free_data(tp_cmp_data *data)
{
    for (int i = 0; i < TP_CMP_MAX_DATASETS; i++)
        tp_image_free(&data->img[i]);
}

/* ---- pipelines ---- */

static int load_pipelines(tp_context *ctx, const tp_cmp_options *o, tp_pipeline *p, int *n)
{
    *n = 0;
    if (o->no_pipelines || (o->n_ops > 0 && o->n_pipeline_files == 0))
        return 0;
    if (o->n_pipeline_files == 0) {
        if (tp_pipeline_parse(ctx, tp_pipeline_seed_json(), p, TP_CMP_MAX_PIPELINES, n)) {
            fprintf(stderr, "twinpix compare: internal: the seed pipeline: %s\n", tp_last_error(ctx));
            return TP_EXIT_ERROR;
        }
        return 0;
    }
    for (int f = 0; f < o->n_pipeline_files; f++) {
        int got = 0;
        tp_status st = tp_pipeline_load(ctx, o->pipeline_files[f], p + *n, TP_CMP_MAX_PIPELINES - *n, &got);
        if (st) {
            fprintf(stderr, "twinpix compare: %s\n", tp_last_error(ctx));
            return st == TP_ERR_IO ? TP_EXIT_IO : TP_EXIT_USAGE;
        }
        *n += got;
    }
    return 0;
}

/* The pipelines' inputs: synthetic (an RGB image, as the seed's, and a 3D grey volume in the full run) and
 * every selected real image that holds intensities. */
static void run_pipelines(tp_cmp_run *run, const tp_pipeline *p, int np)
{
    const tp_cmp_options *o = run->o;
    if (np == 0)
        return;
    if (run->data->synthetic) {
        int64_t quick2[2] = {96, 128}, full2[][2] = {{640, 640}, {2048, 2048}}, full3[3] = {64, 64, 64};
        int64_t sizes[TP_CMP_MAX_LIST + 2][3];
        int ndims[TP_CMP_MAX_LIST + 2], n = 0;
        if (o->n_sizes) {
            for (int i = 0; i < o->n_sizes; i++) {
                sizes[n][0] = sizes[n][1] = o->sizes[i], ndims[n++] = 2;
                if (o->sizes[i] <= 256)
                    sizes[n][0] = sizes[n][1] = sizes[n][2] = o->sizes[i], ndims[n++] = 3;
            }
        } else if (o->quick) {
            memcpy(sizes[n], quick2, sizeof quick2), ndims[n++] = 2;
        } else {
            memcpy(sizes[n], full2[0], sizeof full2[0]), ndims[n++] = 2;
            memcpy(sizes[n], full2[1], sizeof full2[1]), ndims[n++] = 2;
            memcpy(sizes[n], full3, sizeof full3), ndims[n++] = 3;
        }
        bool runs = run->gpu_ok || o->quick || o->fault != TP_FAULT_OFF;
        for (int s = 0; s < n; s++) {
            tp_image in = tp_image_empty();
            const char *kind = ndims[s] == 2 ? "rgb" : "gray";
            if (!runs) { /* only the geometry is reported: do not make the image */
                int64_t shape[4] = {sizes[s][0], sizes[s][1], sizes[s][2], 3};
                shape[ndims[s]] = 3;
                in = tp_image_wrap(NULL, TP_UINT8, ndims[s] + (ndims[s] == 2), shape, ndims[s] == 2 ? 2 : -1, TP_HOST);
                for (int k = 0; k < np; k++)
                    tp_cmp_run_pipeline(run, &p[k], "synthetic", &in);
                continue;
            }
            if (tp_synth_input(run->ctx, kind, ndims[s], sizes[s], TP_UINT8, 20240601u, &in)) {
                fprintf(stderr, "twinpix compare: synthetic %s input for pipelines: %s\n", kind,
                        tp_last_error(run->ctx));
                continue;
            }
            for (int k = 0; k < np; k++)
                tp_cmp_run_pipeline(run, &p[k], "synthetic", &in);
            tp_image_free(&in);
        }
    }
    for (int d = 0; d < run->data->n; d++) {
        const tp_dataset *ds = &run->data->ds[d];
        if (tp_cmp_dataset_is_labels(ds))
            continue;
        if (!run->gpu_ok && !o->quick && o->fault == TP_FAULT_OFF) {
            tp_image shape_only = tp_image_wrap(NULL, ds->dtype, ds->ndim, ds->shape, ds->channel_axis, TP_HOST);
            for (int k = 0; k < np; k++)
                tp_cmp_run_pipeline(run, &p[k], ds->name, &shape_only);
            continue;
        }
        if (!run->data->img[d].data && tp_dataset_load(run->ctx, &run->data->ds[d], &run->data->img[d])) {
            fprintf(stderr, "twinpix compare: dataset %s: %s\n", run->data->ds[d].name, tp_last_error(run->ctx));
            continue;
        }
        for (int k = 0; k < np; k++)
            tp_cmp_run_pipeline(run, &p[k], run->data->ds[d].name, &run->data->img[d]);
    }
}

/* ---- outputs ---- */

static int mkdir_p(const char *dir)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
        return -1;
    for (char *s = buf + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(buf, 0777) && errno != EEXIST)
                return -1;
            *s = '/';
        }
    return mkdir(buf, 0777) && errno != EEXIST ? -1 : 0;
}

static int write_outputs(tp_context *ctx, const tp_cmp_options *o, const tp_cmp_report *rep)
{
    if (!o->out_dir)
        return 0;
    if (mkdir_p(o->out_dir)) {
        fprintf(stderr, "twinpix compare: --out: cannot create '%s': %s\n", o->out_dir, strerror(errno));
        return TP_EXIT_IO;
    }
    static const char *names[3] = {"compare.json", "compare.junit.xml", "compare.txt"};
    for (int i = 0; i < 3; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", o->out_dir, names[i]);
        tp_status st = i == 0   ? tp_cmp_write_json(ctx, rep, path)
                       : i == 1 ? tp_cmp_write_junit(ctx, rep, path)
                                : tp_cmp_write_text_file(ctx, rep, path);
        if (st) {
            fprintf(stderr, "twinpix compare: %s\n", tp_last_error(ctx));
            return TP_EXIT_IO;
        }
    }
    return 0;
}

static int exit_code(const tp_cmp_options *o, const tp_cmp_run *run, const tp_cmp_report *rep)
{
    int pass, fail, skip;
    tp_cmp_report_counts(rep, &pass, &fail, &skip);
    if (o->require_gpu && !run->gpu_ok && o->fault == TP_FAULT_OFF)
        return TP_EXIT_NO_DEVICE;
    if (fail)
        return TP_EXIT_CHECK_FAILED;
    return pass ? TP_EXIT_OK : TP_EXIT_SKIPPED;
}

/* ---- main ---- */

static int run_all(tp_context *ctx, const tp_cmp_options *o, int argc, char **argv, tp_cmp_data *data)
{
    tp_cmp_run run;
    memset(&run, 0, sizeof run);
    run.ctx = ctx;
    run.o = o;
    run.data = data;
    run.gpu_ok = tp_backend_available(TP_BACKEND_CUDA, run.gpu_why, sizeof run.gpu_why);
    if (run.gpu_ok)
        run.gpu_why[0] = 0;
    tp_pipeline *pipes = calloc(TP_CMP_MAX_PIPELINES, sizeof *pipes);
    tp_cmp_cases cases = {0};
    int np = 0, rc = pipes ? load_pipelines(ctx, o, pipes, &np) : TP_EXIT_ERROR;
    if (!rc && tp_cmp_build_matrix(ctx, o, data, &cases)) {
        fprintf(stderr, "twinpix compare: %s\n", tp_last_error(ctx));
        rc = TP_EXIT_ERROR;
    }
    tp_meta meta;
    tp_meta_collect(&meta);
    if (!rc && o->fault != TP_FAULT_OFF && (tp_context_create(&run.twin) || tp_context_set_threads(run.twin, 1)))
        rc = TP_EXIT_ERROR;
    if (!rc && (!(run.cache = tp_cmp_input_cache_new()) ||
                !(run.rep = tp_cmp_report_new(&meta, o, argc, argv, run.gpu_ok ? NULL : run.gpu_why))))
        rc = TP_EXIT_ERROR;
    if (!rc) {
        double t0 = tp_cmp_now_ms();
        for (int64_t i = 0; i < cases.n; i++)
            tp_cmp_run_case(&run, &cases.v[i]);
        run_pipelines(&run, pipes, np);
        tp_cmp_report_finish(run.rep, tp_cmp_now_ms() - t0);
        rc = write_outputs(ctx, o, run.rep);
        tp_cmp_write_text(run.rep, stdout);
        if (!rc)
            rc = exit_code(o, &run, run.rep);
    }
    tp_cmp_report_free(run.rep);
    tp_cmp_input_cache_free(run.cache);
    tp_context_destroy(run.twin);
    tp_cmp_cases_free(&cases);
    free(pipes);
    return rc;
}

int tp_compare_main(int argc, char **argv)
{
    tp_cmp_options o;
    int rc = parse_options(argc, argv, &o);
    if (rc)
        return rc < 0 ? TP_EXIT_OK : rc;
    tp_context *ctx = NULL;
    if (tp_context_create(&ctx) || tp_context_set_threads(ctx, o.threads)) {
        fprintf(stderr, "twinpix compare: cannot create a context\n");
        tp_context_destroy(ctx);
        return TP_EXIT_ERROR;
    }
    o.threads = tp_context_threads(ctx);
    static tp_cmp_data data; /* large: kept off the stack */
    rc = select_datasets(&o, &data);
    if (!rc)
        rc = run_all(ctx, &o, argc, argv, &data);
    free_data(&data);
    tp_context_destroy(ctx);
    return rc;
}

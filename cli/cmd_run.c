/* twinpix run [IMAGE] [--backend cpu|cuda|both] [--out DIR] [--repeat N] [--threads N] [--set step.param=v]...
 * The seed pipeline (core/pipeline.c) on a real image (default: the datasets manifest's default). With a
 * usable GPU it runs on both backends, checks every stage's output for bit-identity (parity) and reports
 * per-stage speedups; without one it says so. Writes into DIR: each stage's image (stage_*.tif), labels.tif,
 * overlay.png, regionprops.csv and regionprops.json, and run.json with timings, parity and speedups. */
#include "cli/cli_util.h"
#include "core/calibration.h"
#include "core/pipeline.h"
#include "datasets/datasets.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_REPEAT 101

typedef struct run_state {
    tp_context *ctx;
    const char *out_dir;
    int write;             /* write stage outputs (first CPU repetition) */
    int keep;              /* keep copies of stage outputs for parity */
    tp_result kept[TP_PIPE_MAX_STEPS];
    double ms[TP_PIPE_MAX_STEPS];
    int ran[TP_PIPE_MAX_STEPS];
    tp_status err;
} run_state;

static int on_stage(void *user, int i, const tp_pipe_step *s, const tp_result *r, double ms)
{
    run_state *rs = user;
    rs->ms[i] = ms;
    rs->ran[i] = r != NULL;
    if (!r)
        return 0;
    if (rs->keep) {
        tp_result *k = &rs->kept[i];
        tp_result_free(k);
        *k = tp_result_empty();
        k->kind = r->kind;
        if (r->kind == TP_OUT_TABLE) {
            k->table.nrows = r->table.nrows;
            for (int c = 0; c < r->table.ncols && !rs->err; c++) {
                rs->err = tp_table_add_column(rs->ctx, &k->table, r->table.cols[c].name, r->table.cols[c].dtype);
                if (!rs->err)
                    memcpy(k->table.cols[c].data, r->table.cols[c].data,
                           (size_t)r->table.nrows * tp_dtype_size(r->table.cols[c].dtype));
            }
        } else {
            rs->err = tp_image_copy(rs->ctx, &r->image, &k->image, TP_HOST);
        }
    }
    if (rs->write && !rs->err) {
        char path[4096];
        if (r->kind == TP_OUT_TABLE) {
            snprintf(path, sizeof path, "%s/regionprops.csv", rs->out_dir);
            rs->err = tp_cli_write_result(rs->ctx, path, r);
            snprintf(path, sizeof path, "%s/regionprops.json", rs->out_dir);
            if (!rs->err)
                rs->err = tp_cli_write_result(rs->ctx, path, r);
        } else if (r->kind == TP_OUT_SCALAR) {
            snprintf(path, sizeof path, "%s/threshold.json", rs->out_dir);
            rs->err = tp_cli_write_result(rs->ctx, path, r);
        } else {
            if (!strcmp(s->op, "label"))
                snprintf(path, sizeof path, "%s/labels.tif", rs->out_dir);
            else if (!strcmp(s->op, "label2rgb"))
                snprintf(path, sizeof path, "%s/overlay.png", rs->out_dir);
            else
                snprintf(path, sizeof path, "%s/stage_%s.tif", rs->out_dir, s->name);
            rs->err = tp_cli_write_result(rs->ctx, path, r);
        }
    }
    return rs->err != TP_OK;
}

static int same_result(const tp_result *a, const tp_result *b)
{
    if (a->kind != b->kind)
        return 0;
    if (a->kind == TP_OUT_TABLE) {
        if (a->table.nrows != b->table.nrows || a->table.ncols != b->table.ncols)
            return 0;
        for (int c = 0; c < a->table.ncols; c++)
            if (strcmp(a->table.cols[c].name, b->table.cols[c].name) || a->table.cols[c].dtype != b->table.cols[c].dtype ||
                memcmp(a->table.cols[c].data, b->table.cols[c].data,
                       (size_t)a->table.nrows * tp_dtype_size(a->table.cols[c].dtype)))
                return 0;
        return 1;
    }
    const tp_image *x = &a->image, *y = &b->image;
    if (x->dtype != y->dtype || x->ndim != y->ndim || memcmp(x->shape, y->shape, sizeof(int64_t) * (size_t)x->ndim))
        return 0;
    return memcmp(x->data, y->data, (size_t)tp_image_count(x) * tp_dtype_size(x->dtype)) == 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Run the pipeline `repeat` times on a backend; per-stage medians in med[], first run's outputs kept. */
static tp_status run_backend(run_state *rs, const tp_pipeline *p, tp_backend_id be, const tp_image *img, int repeat,
                             int write, double *med, double *upload_med)
{
    static double samples[TP_PIPE_MAX_STEPS][MAX_REPEAT];
    double up[MAX_REPEAT];
    for (int r = 0; r < repeat; r++) {
        rs->write = write && r == 0;
        rs->keep = r == 0;
        rs->err = TP_OK;
        tp_status st = tp_pipeline_run(rs->ctx, p, be, img, on_stage, rs, &up[r]);
        if (!st && rs->err)
            st = rs->err;
        if (st)
            return st;
        for (int i = 0; i < p->n; i++)
            samples[i][r] = rs->ms[i];
    }
    for (int i = 0; i < p->n; i++)
        med[i] = median(samples[i], repeat);
    *upload_med = median(up, repeat);
    return TP_OK;
}

static void usage(void)
{
    printf("usage: twinpix run [IMAGE | --synthetic N] [--backend cpu|cuda|both|auto] [--out DIR] [--repeat N]\n"
           "                   [--threads N]\n"
           "                   [--set step.param=value]...\n"
           "--synthetic N: a nuclei-like N x N uint8 image from the synthetic generator instead of a file.\n"
           "Runs the seed pipeline (extract_channel, gaussian, threshold_otsu, threshold, binary_erosion, label,\n"
           "label2rgb, regionprops_table) with the seed's parameters. Default IMAGE: the datasets manifest's\n"
           "default real image. Default backend: both when a CUDA device is usable (parity + speedups), else cpu; auto decides\n"
           "once for the whole pipeline from the calibration (TWINPIX_DEBUG=1 shows why).\n"
           "Steps: channel blurred threshold binary eroded labels overlay table (e.g. --set blurred.sigma=2).\n"
           "Exit 1 when the GPU and CPU outputs of any stage differ.\n");
}

static int mkdir_p(const char *dir)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(buf, 0777) && errno != EEXIST ? -1 : 0;
}

int tp_cmd_run(int argc, char **argv)
{
    const char *image_path = NULL, *out_dir = "reports/run", *backend = NULL;
    int repeat = 5, threads = 0;
    int64_t synth = 0;
    tp_pipeline p;
    tp_pipeline_seed(&p);
    tp_context *ctx = NULL;
    if (tp_context_create(&ctx))
        return TP_EXIT_ERROR;
    int rc = TP_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage();
            goto out;
        } else if (!strncmp(a, "--", 2) && i + 1 >= argc) {
            fprintf(stderr, "twinpix run: %s needs a value\n", a);
            rc = TP_EXIT_USAGE;
            goto out;
        } else if (!strcmp(a, "--out")) {
            out_dir = argv[++i];
        } else if (!strcmp(a, "--backend")) {
            backend = argv[++i];
        } else if (!strcmp(a, "--synthetic")) {
            synth = atoll(argv[++i]);
            if (synth < 1 || synth > 16384) {
                fprintf(stderr, "twinpix run: --synthetic: expected a size in 1..16384, got '%s'\n", argv[i]);
                rc = TP_EXIT_USAGE;
                goto out;
            }
        } else if (!strcmp(a, "--repeat")) {
            repeat = atoi(argv[++i]);
        } else if (!strcmp(a, "--threads")) {
            threads = atoi(argv[++i]);
        } else if (!strcmp(a, "--set")) {
            tp_status st = tp_pipeline_set(ctx, &p, argv[++i]);
            if (st) {
                rc = tp_cli_fail(ctx, "run", st);
                goto out;
            }
        } else if (a[0] == '-') {
            fprintf(stderr, "twinpix run: unknown option '%s'\n", a);
            rc = TP_EXIT_USAGE;
            goto out;
        } else if (!image_path) {
            image_path = a;
        } else {
            fprintf(stderr, "twinpix run: one IMAGE only\n");
            rc = TP_EXIT_USAGE;
            goto out;
        }
    }
    if (repeat < 1 || repeat > MAX_REPEAT || threads < 0) {
        fprintf(stderr, "twinpix run: --repeat expects 1..%d and --threads >= 0\n", MAX_REPEAT);
        rc = TP_EXIT_USAGE;
        goto out;
    }
    tp_context_set_threads(ctx, threads);
    char why[256] = "";
    int have_gpu = tp_backend_available(TP_BACKEND_CUDA, why, sizeof why);
    int want_cpu = 1, want_gpu = have_gpu;
    if (backend && !strcmp(backend, "cpu"))
        want_gpu = 0;
    else if (backend && !strcmp(backend, "cuda"))
        want_cpu = 0, want_gpu = 1;
    else if (backend && strcmp(backend, "both") && strcmp(backend, "auto")) {
        fprintf(stderr, "twinpix run: --backend: expected cpu, cuda or both, got '%s'\n", backend);
        rc = TP_EXIT_USAGE;
        goto out;
    }
    if (want_gpu && !have_gpu) {
        fprintf(stderr, "twinpix run: --backend cuda: %s\n", why);
        rc = TP_EXIT_NO_DEVICE;
        goto out;
    }
    int want_auto = backend && !strcmp(backend, "auto");
    tp_dataset ds;
    memset(&ds, 0, sizeof ds);
    tp_image img = tp_image_empty();
    tp_status st;
    if (synth) { /* a nuclei-like image from the synthetic generator, N x N uint8 */
        tp_synth_params sp;
        memset(&sp, 0, sizeof sp);
        sp.ndim = 2;
        sp.shape[0] = sp.shape[1] = synth;
        sp.dtype = TP_UINT8;
        sp.seed = 1;
        snprintf(ds.name, sizeof ds.name, "synthetic_%lld", (long long)synth);
        snprintf(ds.path, sizeof ds.path, "synthetic nuclei %lldx%lld uint8, seed 1", (long long)synth, (long long)synth);
        st = tp_synth_nuclei(ctx, &sp, &img, NULL);
    } else if (image_path) {
        snprintf(ds.name, sizeof ds.name, "%s", strrchr(image_path, '/') ? strrchr(image_path, '/') + 1 : image_path);
        st = tp_read_image(ctx, image_path, &img, NULL);
    } else {
        st = tp_dataset_default(ctx, &ds);
        if (!st)
            st = tp_dataset_load(ctx, &ds, &img);
    }
    if (st) {
        rc = tp_cli_fail(ctx, "run", st);
        goto out;
    }
    if (mkdir_p(out_dir)) {
        fprintf(stderr, "twinpix run: cannot create '%s': %s\n", out_dir, strerror(errno));
        tp_image_free(&img);
        rc = TP_EXIT_IO;
        goto out;
    }
    if (want_auto) { /* one decision for the whole chain, so data is not sent back and forth */
        char rule[512];
        tp_backend_id b = tp_pipeline_choose(ctx, &p, &img, rule, sizeof rule);
        want_cpu = b == TP_BACKEND_CPU;
        want_gpu = b == TP_BACKEND_CUDA;
        fprintf(stderr, "twinpix run: auto chose %s for the pipeline: %s\n", tp_backend_name(b), rule);
    }
    char shape[64] = "";
    for (int k = 0; k < img.ndim; k++) {
        char b[24];
        snprintf(b, sizeof b, "%s%lld", k ? "x" : "", (long long)img.shape[k]);
        strcat(shape, b);
    }
    fprintf(stderr, "twinpix run: %s (%s %s), backends:%s%s\n", image_path ? image_path : ds.name, shape,
            tp_dtype_name(img.dtype), want_cpu ? " cpu" : "", want_gpu ? " cuda" : "");
    if (!want_gpu)
        fprintf(stderr, "twinpix run: GPU: %s\n", have_gpu ? "not requested" : why);

    static run_state cpu_rs, gpu_rs;
    memset(&cpu_rs, 0, sizeof cpu_rs);
    memset(&gpu_rs, 0, sizeof gpu_rs);
    cpu_rs.ctx = gpu_rs.ctx = ctx;
    cpu_rs.out_dir = gpu_rs.out_dir = out_dir;
    double cpu_ms[TP_PIPE_MAX_STEPS] = {0}, gpu_ms[TP_PIPE_MAX_STEPS] = {0}, up_cpu = 0, up_gpu = 0;
    if (want_cpu && (st = run_backend(&cpu_rs, &p, TP_BACKEND_CPU, &img, repeat, 1, cpu_ms, &up_cpu)))
        rc = tp_cli_fail(ctx, "run (cpu)", st);
    if (!st && want_gpu) {
        /* one warm-up run so module loading and first allocations stay out of the timings */
        if ((st = run_backend(&gpu_rs, &p, TP_BACKEND_CUDA, &img, 1, 0, gpu_ms, &up_gpu)) ||
            (st = run_backend(&gpu_rs, &p, TP_BACKEND_CUDA, &img, repeat, !want_cpu, gpu_ms, &up_gpu)))
            rc = tp_cli_fail(ctx, "run (cuda)", st);
    }
    if (!st) {
        tp_meta m;
        tp_meta_collect(&m);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "schema_version", "twinpix.run/1");
        cJSON *meta = cJSON_AddObjectToObject(o, "meta");
        cJSON_AddStringToObject(meta, "version", m.version);
        cJSON_AddStringToObject(meta, "git_commit", m.git_commit);
        cJSON_AddStringToObject(meta, "build_flags", m.build_flags);
        cJSON_AddStringToObject(meta, "host_cpu", m.host_cpu);
        cJSON_AddNumberToObject(meta, "host_threads", tp_context_threads(ctx));
        if (m.gpu_count > 0)
            cJSON_AddStringToObject(meta, "gpu", m.gpu.name);
        else
            cJSON_AddNullToObject(meta, "gpu");
        if (!have_gpu)
            cJSON_AddStringToObject(meta, "gpu_unavailable_reason", why);
        cJSON_AddStringToObject(o, "image", image_path ? image_path : ds.path);
        cJSON_AddStringToObject(o, "image_name", ds.name);
        cJSON_AddStringToObject(o, "shape", shape);
        cJSON_AddStringToObject(o, "dtype", tp_dtype_name(img.dtype));
        cJSON_AddNumberToObject(o, "repeat", repeat);
        cJSON *stages = cJSON_AddArrayToObject(o, "stages");
        double tot_c = 0, tot_g = up_gpu;
        int parity_ok = 1;
        printf("%-10s %-18s %12s %12s %9s  %s\n", "stage", "op", "cpu ms", "cuda ms", "speedup", "parity");
        for (int i = 0; i < p.n; i++) {
            const tp_pipe_step *s = &p.steps[i];
            int ran = want_cpu ? cpu_rs.ran[i] : gpu_rs.ran[i];
            cJSON *so = cJSON_CreateObject();
            cJSON_AddStringToObject(so, "name", s->name);
            cJSON_AddStringToObject(so, "op", s->op);
            cJSON_AddStringToObject(so, "params", s->params);
            if (!ran) {
                cJSON_AddBoolToObject(so, "skipped", 1);
                cJSON_AddStringToObject(so, "skip_reason", "the image has no channel axis");
                cJSON_AddItemToArray(stages, so);
                printf("%-10s %-18s %12s %12s %9s  %s\n", s->name, s->op, "-", "-", "-", "skipped (no channels)");
                continue;
            }
            const char *verdict = "cpu only";
            if (want_cpu) {
                cJSON_AddNumberToObject(so, "cpu_ms", cpu_ms[i]);
                tot_c += cpu_ms[i];
            }
            if (want_gpu) {
                cJSON_AddNumberToObject(so, "cuda_ms", gpu_ms[i]);
                tot_g += gpu_ms[i];
            }
            if (want_cpu && want_gpu) {
                int same = same_result(&cpu_rs.kept[i], &gpu_rs.kept[i]);
                parity_ok &= same;
                verdict = same ? "identical" : "DIFFERS";
                cJSON_AddBoolToObject(so, "parity_identical", same);
                cJSON_AddNumberToObject(so, "speedup", gpu_ms[i] > 0 ? cpu_ms[i] / gpu_ms[i] : 0);
            } else if (!want_cpu) {
                verdict = "cuda only";
            }
            char c1[32] = "-", c2[32] = "-", c3[32] = "-";
            if (want_cpu)
                snprintf(c1, sizeof c1, "%.3f", cpu_ms[i]);
            if (want_gpu)
                snprintf(c2, sizeof c2, "%.3f", gpu_ms[i]);
            if (want_cpu && want_gpu && gpu_ms[i] > 0)
                snprintf(c3, sizeof c3, "%.1fx", cpu_ms[i] / gpu_ms[i]);
            printf("%-10s %-18s %12s %12s %9s  %s\n", s->name, s->op, c1, c2, c3, verdict);
            cJSON_AddItemToArray(stages, so);
        }
        cJSON *tot = cJSON_AddObjectToObject(o, "total");
        if (want_cpu)
            cJSON_AddNumberToObject(tot, "cpu_ms", tot_c);
        if (want_gpu) {
            cJSON_AddNumberToObject(tot, "cuda_upload_ms", up_gpu);
            cJSON_AddNumberToObject(tot, "cuda_ms_host_in_host_out", tot_g);
        }
        if (want_cpu && want_gpu) {
            cJSON_AddNumberToObject(tot, "speedup_with_transfers", tot_g > 0 ? tot_c / tot_g : 0);
            cJSON_AddBoolToObject(o, "parity_identical", parity_ok);
        } else {
            cJSON_AddNullToObject(o, "parity_identical");
            cJSON_AddStringToObject(o, "parity_skip_reason", want_gpu ? "cpu not run" : why);
        }
        printf("total: cpu %.3f ms", tot_c);
        if (want_gpu)
            printf(", cuda %.3f ms (upload %.3f ms, stage outputs stay on the device; table downloaded)", tot_g,
                   up_gpu);
        printf("\nparity: %s\n", want_cpu && want_gpu ? (parity_ok ? "every stage bit-identical" : "DIFFERENCES FOUND")
                                                       : "not checked (no GPU)");
        char path[4096];
        snprintf(path, sizeof path, "%s/run.json", out_dir);
        char *txt = cJSON_Print(o);
        tp_atomic_file af;
        st = tp_atomic_open(ctx, path, &af);
        if (!st) {
            fputs(txt, af.fp);
            fputc('\n', af.fp);
            st = tp_atomic_commit(ctx, &af);
        }
        cJSON_free(txt);
        cJSON_Delete(o);
        if (st)
            rc = tp_cli_fail(ctx, "run", st);
        else {
            fprintf(stderr, "twinpix run: wrote %s/{run.json,labels.tif,overlay.png,regionprops.csv,...}\n", out_dir);
            if (!parity_ok)
                rc = TP_EXIT_CHECK_FAILED;
        }
    }
    for (int i = 0; i < TP_PIPE_MAX_STEPS; i++) {
        tp_result_free(&cpu_rs.kept[i]);
        tp_result_free(&gpu_rs.kept[i]);
    }
    tp_image_free(&img);
out:
    tp_context_destroy(ctx);
    return rc;
}

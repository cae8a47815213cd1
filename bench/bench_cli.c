/* `twinpix bench`: run the benchmark suite (every op from the descriptors, and the seed pipeline) on the
 * CPU and, when there is one, the GPU; write gbench.json (Google Benchmark's own), bench.json, report.md
 * and report.html into one folder. Benchmarks report; they never assert a time. */
#include "bench/bench.h"
#include "bench/gbench.h"
#include "bench/gpu_timing.h"
#include "cli/commands.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_OPS 64
#define MAX_GB_ARGS 32

typedef struct bench_args {
    tp_bench_config cfg;
    const char *ops[MAX_OPS];
    const char *out_dir;
    const char *compare_with;
    const char *render;
    int min_time_given;
    int list_only;
    int console;
    int gb_argc;
    char *gb_argv[MAX_GB_ARGS];
} bench_args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: twinpix bench [--quick] [--op NAME]... [--size N|HxW|DxHxW|N^3]... [--backend B]...\n"
            "                     [--out DIR] [--compare-with OLD.json] [--min-time S] [--threads N]\n"
            "                     [--dtype uint8|uint16|float32] [--no-pipeline] [--pipeline-only] [--device N]\n"
            "                     [--regions N] [--no-rotate] [--list] [--console] [--benchmark_FLAG=VALUE]...\n"
            "       twinpix bench --render BENCH.json [--out DIR] [--compare-with OLD.json]\n"
            "\n"
            "Benchmark every op (from the op descriptors: sizes, first parameter case, input kind) and the\n"
            "pipelines (seed; seed-core, PERFORMANCE.md's peers' pipeline without label2rgb) on the CPU (1 thread\n"
            "and all threads) and the GPU (data on the device, and host in/host out with the transfers; for the\n"
            "pipelines: host image in, host table out), and judge PERFORMANCE.md's targets on what was measured.\n"
            "Writes into DIR (default reports/bench-DATE-TIME):\n"
            "  gbench.json  Google Benchmark's own JSON\n"
            "  bench.json   twinpix.bench/1: meta, results, speedups, crossovers, pipeline, targets\n"
            "               (bench/README.md)\n"
            "  report.md    the targets met, missed or not in this run; tables: op x size with CPU/GPU times\n"
            "               and speedups, pipelines by stage\n"
            "  report.html  the same with inline SVG charts (self-contained)\n"
            "\n"
            "  --quick           256^2 and 640^2 (2D), 32^3 (3D), pipelines at 640^2, 0.05 s per case\n"
            "  --op NAME         only this op (repeatable); see `twinpix ops`\n"
            "  --size S          only these sizes: 640 (640x640), 512x1024, 64x64x64 or 64^3 (repeatable);\n"
            "                    without it, cpu-1t is skipped above 8192^2 pixels (the 512^3 cubes)\n"
            "  --backend B       cpu (cpu-1t and cpu-Nt), cuda (cuda and cuda+transfers), or one of cpu-1t,\n"
            "                    cpu-Nt, cuda+transfers (repeatable; default: all that this machine has)\n"
            "  --compare-with F  compare with an older bench.json: ratios per op/shape/dtype/backend, on stdout\n"
            "                    and in report.md\n"
            "  --min-time S      minimum measured time per case in seconds (default 0.5; 0.05 with --quick)\n"
            "  --threads N       threads of cpu-Nt (default: all)\n"
            "  --dtype T         dtype of intensity inputs (default uint8)\n"
            "  --regions N       ops on labels also on labels with about N regions, named OP[regions=N]\n"
            "                    (built in: regionprops_table[regions=2000] whenever regionprops_table runs\n"
            "                    at 8192^2)\n"
            "  --no-rotate       cuda: one input set even when it fits in L2 (hot-cache figures)\n"
            "  --render F        run nothing: write report.md and report.html again from a bench.json\n"
            "                    (into --out DIR, default F's folder), with --compare-with if given\n"
            "  --list            print the cases and exit\n"
            "  --console         also print Google Benchmark's console table on stderr\n"
            "  --benchmark_*     passed to Google Benchmark (e.g. --benchmark_filter=gaussian)\n"
            "\n"
            "Progress goes to stderr. Without a GPU, only the CPU runs and the reports say why the GPU columns are\n"
            "absent. Exit: 0 reports written, 2 usage, 3 I/O error, 4 only GPU cases asked and no GPU, 5 error.\n");
}

static int parse_size(const char *s, tp_bench_config *cfg)
{
    if (cfg->nsizes >= 16)
        return -1;
    int64_t v[3] = {0, 0, 0};
    int n = 0;
    const char *p = s;
    while (n < 3) {
        char *end;
        errno = 0;
        long long x = strtoll(p, &end, 10);
        if (end == p || errno || x <= 0 || x > (1LL << 20))
            return -1;
        v[n++] = x;
        if (*end == 'x') {
            p = end + 1;
            continue;
        }
        if (!strcmp(end, "^3") && n == 1) {
            v[1] = v[2] = v[0];
            n = 3;
        } else if (!strcmp(end, "^2") && n == 1) {
            v[1] = v[0];
            n = 2;
        } else if (*end) {
            return -1;
        }
        break;
    }
    if (n == 1) {
        v[1] = v[0];
        n = 2;
    }
    int i = cfg->nsizes++;
    cfg->size_ndim[i] = n;
    memcpy(cfg->sizes[i], v, sizeof v);
    return 0;
}

static int parse_backend(const char *s, tp_bench_config *cfg)
{
    tp_bench_backend b;
    if (!strcmp(s, "cpu")) {
        cfg->backends[TP_BENCH_CPU_1T] = cfg->backends[TP_BENCH_CPU_NT] = 1;
    } else if (!strcmp(s, "cuda") || !strcmp(s, "gpu")) {
        cfg->backends[TP_BENCH_CUDA] = cfg->backends[TP_BENCH_CUDA_TRANSFERS] = 1;
    } else if (!tp_bench_backend_parse(s, &b)) {
        cfg->backends[b] = 1;
    } else {
        return -1;
    }
    return 0;
}

static int need_value(int i, int argc, char **argv)
{
    if (i + 1 >= argc) {
        fprintf(stderr, "twinpix bench: %s needs a value\n", argv[i]);
        return 0;
    }
    return 1;
}

/* 0 ok, TP_EXIT_OK + 100 for --help handled, else an exit code */
static int parse_args(int argc, char **argv, bench_args *a)
{
    memset(a, 0, sizeof *a);
    tp_bench_config *cfg = &a->cfg;
    cfg->gray_dtype = TP_UINT8;
    cfg->pipeline = cfg->op_cases = 1;
    cfg->ops = a->ops;
    int any_backend = 0;
    a->gb_argv[a->gb_argc++] = "twinpix-bench";
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            usage(stdout);
            return 100;
        } else if (!strcmp(o, "--quick")) {
            cfg->quick = 1;
        } else if (!strcmp(o, "--list")) {
            a->list_only = 1;
        } else if (!strcmp(o, "--console")) {
            a->console = 1;
        } else if (!strcmp(o, "--no-rotate")) {
            cfg->no_rotate = 1;
        } else if (!strcmp(o, "--no-pipeline")) {
            cfg->pipeline = 0;
        } else if (!strcmp(o, "--pipeline-only")) {
            cfg->op_cases = 0;
        } else if (!strncmp(o, "--benchmark_", 12)) {
            if (a->gb_argc >= MAX_GB_ARGS) {
                fprintf(stderr, "twinpix bench: too many --benchmark_ arguments\n");
                return TP_EXIT_USAGE;
            }
            a->gb_argv[a->gb_argc++] = argv[i];
        } else if (!strcmp(o, "--op") || !strcmp(o, "--size") || !strcmp(o, "--backend") || !strcmp(o, "--out") ||
                   !strcmp(o, "--compare-with") || !strcmp(o, "--min-time") || !strcmp(o, "--threads") ||
                   !strcmp(o, "--dtype") || !strcmp(o, "--device") || !strcmp(o, "--render") ||
                   !strcmp(o, "--regions")) {
            if (!need_value(i, argc, argv))
                return TP_EXIT_USAGE;
            const char *v = argv[++i];
            char *end;
            if (!strcmp(o, "--op")) {
                if (!tp_op_find(v)) {
                    fprintf(stderr, "twinpix bench: --op: unknown op '%s'; known:", v);
                    for (int k = 0; k < tp_op_count(); k++)
                        fprintf(stderr, " %s", tp_op_name(k));
                    fprintf(stderr, "\n");
                    return TP_EXIT_USAGE;
                }
                if (cfg->nops >= MAX_OPS)
                    return TP_EXIT_USAGE;
                a->ops[cfg->nops++] = v;
            } else if (!strcmp(o, "--size")) {
                if (parse_size(v, cfg)) {
                    fprintf(stderr, "twinpix bench: --size: expected N, HxW, DxHxW or N^3 (at most 16), got '%s'\n",
                            v);
                    return TP_EXIT_USAGE;
                }
            } else if (!strcmp(o, "--backend")) {
                if (parse_backend(v, cfg)) {
                    fprintf(stderr, "twinpix bench: --backend: expected cpu, cuda, cpu-1t, cpu-Nt or "
                                    "cuda+transfers, got '%s'\n",
                            v);
                    return TP_EXIT_USAGE;
                }
                any_backend = 1;
            } else if (!strcmp(o, "--out")) {
                a->out_dir = v;
            } else if (!strcmp(o, "--compare-with")) {
                a->compare_with = v;
            } else if (!strcmp(o, "--render")) {
                a->render = v;
            } else if (!strcmp(o, "--min-time")) {
                cfg->min_time_s = strtod(v, &end);
                if (*end || !(cfg->min_time_s > 0) || cfg->min_time_s > 3600) {
                    fprintf(stderr, "twinpix bench: --min-time: expected seconds > 0, got '%s'\n", v);
                    return TP_EXIT_USAGE;
                }
                a->min_time_given = 1;
            } else if (!strcmp(o, "--regions")) {
                errno = 0;
                long long n = strtoll(v, &end, 10);
                if (*end || errno || n < 1 || n > INT32_MAX) {
                    fprintf(stderr, "twinpix bench: --regions: expected an integer in 1..%d, got '%s'\n", INT32_MAX, v);
                    return TP_EXIT_USAGE;
                }
                cfg->regions = n;
            } else if (!strcmp(o, "--threads") || !strcmp(o, "--device")) {
                long n = strtol(v, &end, 10);
                int is_threads = !strcmp(o, "--threads");
                if (*end || n < (is_threads ? 1 : 0) || n > 4096) {
                    fprintf(stderr, "twinpix bench: %s: expected an integer >= %d, got '%s'\n", o, is_threads, v);
                    return TP_EXIT_USAGE;
                }
                *(is_threads ? &cfg->threads : &cfg->device) = (int)n;
            } else {
                tp_dtype t;
                if (tp_dtype_from_name(v, &t) || (t != TP_UINT8 && t != TP_UINT16 && t != TP_FLOAT32)) {
                    fprintf(stderr, "twinpix bench: --dtype: expected uint8, uint16 or float32, got '%s'\n", v);
                    return TP_EXIT_USAGE;
                }
                cfg->gray_dtype = t;
            }
        } else {
            fprintf(stderr, "twinpix bench: unknown argument '%s' (twinpix bench --help)\n", o);
            return TP_EXIT_USAGE;
        }
    }
    if (!any_backend)
        for (int b = 0; b < TP_BENCH_BACKEND_COUNT; b++)
            cfg->backends[b] = 1;
    if (!a->min_time_given)
        cfg->min_time_s = cfg->quick ? 0.05 : 0.5;
    if (!cfg->pipeline && !cfg->op_cases) {
        fprintf(stderr, "twinpix bench: --no-pipeline and --pipeline-only leave nothing to run\n");
        return TP_EXIT_USAGE;
    }
    return 0;
}

static int mkdir_p(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    if (mkdir(buf, 0777) && errno != EEXIST)
        return -1;
    struct stat sb;
    return stat(buf, &sb) == 0 && S_ISDIR(sb.st_mode) ? 0 : -1;
}

static void join_argv(int argc, char **argv, char *out, size_t n)
{
    size_t used = 0;
    out[0] = 0;
    for (int i = -1; i < argc && used + 1 < n; i++) {
        const char *s = i < 0 ? "twinpix" : argv[i];
        int w = snprintf(out + used, n - used, "%s%s", used ? " " : "", s);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* Decide the GPU columns: a device must be there and a GPU backend asked for. Returns 0, or an exit code
 * when only GPU backends were asked for and none is usable. */
static int setup_gpu(tp_context *ctx, bench_args *a, tp_bench_report *r)
{
    tp_bench_config *cfg = &a->cfg;
    int want = cfg->backends[TP_BENCH_CUDA] || cfg->backends[TP_BENCH_CUDA_TRANSFERS];
    char why[256] = "";
    int have = tp_backend_available(TP_BACKEND_CUDA, why, sizeof why);
    if (!want) {
        snprintf(r->gpu_reason, sizeof r->gpu_reason, "the GPU backends were not selected (--backend)");
        return 0;
    }
    if (!have) {
        snprintf(r->gpu_reason, sizeof r->gpu_reason, "%s", why[0] ? why : "no usable CUDA device");
        cfg->backends[TP_BENCH_CUDA] = cfg->backends[TP_BENCH_CUDA_TRANSFERS] = 0;
        if (!cfg->backends[TP_BENCH_CPU_1T] && !cfg->backends[TP_BENCH_CPU_NT]) {
            fprintf(stderr, "twinpix bench: only GPU backends were asked for, and %s\n", r->gpu_reason);
            return TP_EXIT_NO_DEVICE;
        }
        fprintf(stderr, "twinpix bench: CPU only: %s\n", r->gpu_reason);
        return 0;
    }
    r->gpu_available = 1;
    tp_context_set_device(ctx, cfg->device);
    double gbs = NAN;
    /* 256 MiB per buffer: far beyond L2, so the copy runs from memory */
    if (tp_cuda_measure_copy_bandwidth(ctx, (int64_t)256 << 20, &gbs) == TP_OK)
        r->copy_bw_gbs = gbs;
    else
        fprintf(stderr, "twinpix bench: copy bandwidth not measured: %s\n", tp_last_error(ctx));
    return 0;
}

static void add_gbench_context(const tp_bench_report *r)
{
    char buf[128];
    tp_gbench_add_context("twinpix_version", r->meta.version);
    tp_gbench_add_context("twinpix_git_commit", r->meta.git_commit);
    tp_gbench_add_context("twinpix_build_flags", r->meta.build_flags);
    tp_gbench_add_context("twinpix_host_cpu", r->meta.host_cpu);
    tp_gbench_add_context("twinpix_gpu", r->gpu_available ? r->meta.gpu.name : "none");
    if (!r->gpu_available)
        tp_gbench_add_context("twinpix_gpu_unavailable_reason", r->gpu_reason);
    snprintf(buf, sizeof buf, "%.1f", r->copy_bw_gbs);
    tp_gbench_add_context("twinpix_copy_bandwidth_gbs", isnan(r->copy_bw_gbs) ? "null" : buf);
    snprintf(buf, sizeof buf, "%d", r->cpu_threads);
    tp_gbench_add_context("twinpix_cpu_nt_threads", buf);
}

static int write_reports(tp_context *ctx, const bench_args *a, tp_bench_report *r, const char *dir)
{
    char path[4200];
    const struct {
        const char *name;
        tp_status (*fn)(tp_context *, const tp_bench_report *, const char *);
    } files[] = {{"bench.json", tp_bench_write_json},
                 {"report.md", tp_bench_write_markdown},
                 {"report.html", tp_bench_write_html}};
    if (tp_bench_report_derive(r)) {
        fprintf(stderr, "twinpix bench: out of host memory deriving speedups\n");
        return TP_EXIT_ERROR;
    }
    if (a->compare_with && tp_bench_report_compare(ctx, r, a->compare_with)) {
        fprintf(stderr, "twinpix bench: %s\n", tp_last_error(ctx));
        return TP_EXIT_IO;
    }
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        if (files[i].fn(ctx, r, path)) {
            fprintf(stderr, "twinpix bench: %s\n", tp_last_error(ctx));
            return TP_EXIT_IO;
        }
    }
    if (a->compare_with)
        tp_bench_print_comparison(r, stdout);
    fprintf(stderr, "twinpix bench: wrote %s/{gbench.json,bench.json,report.md,report.html}\n", dir);
    return TP_EXIT_OK;
}

static int register_all(tp_context *ctx, const bench_args *a, tp_bench_report *r)
{
    if (a->cfg.op_cases && tp_bench_register_cases(ctx, &a->cfg, r) < 0)
        return -1;
    if (a->cfg.pipeline && tp_bench_register_pipelines(ctx, &a->cfg, r) < 0)
        return -1;
    return tp_bench_items_count();
}

static void release_all(void)
{
    tp_bench_item_finish_active();
    tp_bench_items_release();
    tp_gbench_clear();
    tp_bench_cases_release();
    tp_bench_input_cache_clear();
}

static int run_suite(tp_context *ctx, bench_args *a, tp_bench_report *r, const char *dir)
{
    int n = register_all(ctx, a, r);
    if (n < 0) {
        fprintf(stderr, "twinpix bench: %s\n", tp_last_error(ctx));
        return TP_EXIT_ERROR;
    }
    if (n == 0) {
        fprintf(stderr, "twinpix bench: no case matches the selection (ops, sizes, backends)\n");
        return TP_EXIT_USAGE;
    }
    tp_bench_set_progress_total(n);
    fprintf(stderr, "twinpix bench: %d cases, at least %.3g s each; reports into %s\n", n, a->cfg.min_time_s, dir);
    add_gbench_context(r);
    char gb_json[4200], err[512] = "";
    snprintf(gb_json, sizeof gb_json, "%s/gbench.json", dir);
    tp_gbench_run_options opt = {gb_json, a->console};
    int ran = tp_gbench_run(a->gb_argc, a->gb_argv, &opt, err, (int)sizeof err);
    tp_bench_item_finish_active();
    if (ran < 0) {
        fprintf(stderr, "twinpix bench: %s\n", err);
        return TP_EXIT_USAGE;
    }
    return write_reports(ctx, a, r, dir);
}

static int list_cases(tp_context *ctx, bench_args *a, tp_bench_report *r)
{
    int n = register_all(ctx, a, r);
    if (n < 0) {
        fprintf(stderr, "twinpix bench: %s\n", tp_last_error(ctx));
        return TP_EXIT_ERROR;
    }
    for (int i = 0; i < n; i++)
        printf("%s\n", tp_bench_item_at(i)->name);
    return TP_EXIT_OK;
}

/* --render: the reports of an existing bench.json, written again (after a change of the writers, or to add
 * a comparison); nothing is measured. */
static int render_only(tp_context *ctx, const bench_args *a)
{
    tp_bench_report *r = malloc(sizeof *r);
    if (!r)
        return TP_EXIT_ERROR;
    int rc = TP_EXIT_OK;
    char dir[4096], path[4200];
    if (a->out_dir) {
        snprintf(dir, sizeof dir, "%s", a->out_dir);
    } else {
        snprintf(dir, sizeof dir, "%s", a->render);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(dir, sizeof dir, ".");
    }
    if (tp_bench_report_load(ctx, r, a->render) ||
        (a->compare_with && tp_bench_report_compare(ctx, r, a->compare_with))) {
        fprintf(stderr, "twinpix bench: %s\n", tp_last_error(ctx));
        rc = TP_EXIT_IO;
    } else if (mkdir_p(dir)) {
        fprintf(stderr, "twinpix bench: cannot create the folder '%s': %s\n", dir, strerror(errno));
        rc = TP_EXIT_IO;
    } else {
        snprintf(path, sizeof path, "%s/report.md", dir);
        tp_status st = tp_bench_write_markdown(ctx, r, path);
        snprintf(path, sizeof path, "%s/report.html", dir);
        if (!st)
            st = tp_bench_write_html(ctx, r, path);
        if (!st && a->compare_with) {
            snprintf(path, sizeof path, "%s/bench.json", dir);
            st = tp_bench_write_json(ctx, r, path);
            tp_bench_print_comparison(r, stdout);
        }
        if (st) {
            fprintf(stderr, "twinpix bench: %s\n", tp_last_error(ctx));
            rc = TP_EXIT_IO;
        } else {
            fprintf(stderr, "twinpix bench: wrote %s/{report.md,report.html%s}\n", dir,
                    a->compare_with ? ",bench.json" : "");
        }
    }
    tp_bench_report_free(r);
    free(r);
    return rc;
}

int tp_bench_main(int argc, char **argv)
{
    bench_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc == 100 ? TP_EXIT_OK : rc;
    tp_context *ctx = NULL;
    if (tp_context_create(&ctx)) {
        fprintf(stderr, "twinpix bench: cannot create a context\n");
        return TP_EXIT_ERROR;
    }
    if (a.render) {
        rc = render_only(ctx, &a);
        tp_context_destroy(ctx);
        return rc;
    }
    tp_bench_report *r = malloc(sizeof *r);
    if (!r) {
        tp_context_destroy(ctx);
        return TP_EXIT_ERROR;
    }
    tp_bench_report_init(r);
    tp_meta_collect(&r->meta);
    r->quick = a.cfg.quick;
    r->min_time_s = a.cfg.min_time_s;
    if (!a.cfg.threads)
        a.cfg.threads = r->meta.host_threads > 0 ? r->meta.host_threads : 1;
    r->cpu_threads = a.cfg.threads;
    snprintf(r->peak_host_method, sizeof r->peak_host_method, "%s", tp_bench_peak_host_method());
    join_argv(argc, argv, r->argv, sizeof r->argv);
    time_t now = time(NULL);
    struct tm tmv;
    localtime_r(&now, &tmv);
    strftime(r->date, sizeof r->date, "%Y-%m-%dT%H:%M:%S%z", &tmv);
    char dir[4096];
    if (a.out_dir)
        snprintf(dir, sizeof dir, "%s", a.out_dir);
    else
        strftime(dir, sizeof dir, "reports/bench-%Y%m%d-%H%M%S", &tmv);

    if (a.list_only) {
        rc = setup_gpu(ctx, &a, r);
        if (!rc)
            rc = list_cases(ctx, &a, r);
        goto done;
    }
    /* an unreadable comparison file fails now, not after the whole run */
    if (a.compare_with && tp_bench_report_compare(ctx, r, a.compare_with)) {
        fprintf(stderr, "twinpix bench: %s\n", tp_last_error(ctx));
        rc = TP_EXIT_IO;
        goto done;
    }
    if ((rc = setup_gpu(ctx, &a, r)))
        goto done;
    if (mkdir_p(dir)) {
        fprintf(stderr, "twinpix bench: cannot create the folder '%s': %s\n", dir, strerror(errno));
        rc = TP_EXIT_IO;
        goto done;
    }
    rc = run_suite(ctx, &a, r, dir);
done:
    release_all();
    tp_bench_report_free(r);
    free(r);
    tp_context_destroy(ctx);
    return rc;
}

/* twinpix: the command-line front end. Each subcommand lives in its own file (cli/cmd_*.c), and the
 * harness and benchmark commands in compare/ and bench/. */
#include "cli/commands.h"
#include "twinpix/twinpix.h"

#include <stdio.h>
#include <string.h>

#ifndef TP_HAVE_BENCH
int tp_bench_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "twinpix bench: this build has no benchmarks (configure with -DTWINPIX_BUILD_BENCH=ON and "
                    "install libbenchmark-dev)\n");
    return TP_EXIT_SKIPPED;
}
#endif

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"info", tp_cmd_info, "version, build features, CPU threads, CUDA devices (or why none)"},
    {"ops", tp_cmd_ops, "every operation with its parameters, defaults and backends (--json, --markdown)"},
    {"op", tp_cmd_op, "run one operation on files: twinpix op NAME [--PARAM VALUE]... INPUT... [OUTPUT]"},
    {"run", tp_cmd_run, "the seed pipeline on an image (default: a real image), with parity and speedups"},
    {"datasets", tp_cmd_datasets, "the real images found on this machine (--json)"},
    {"compare", tp_compare_main, "validate the GPU against the CPU reference, op by op and whole pipelines"},
    {"bench", tp_bench_main, "benchmark CPU and GPU, write JSON, Markdown and HTML reports"},
    {"calibrate", tp_cmd_calibrate, "measure the CPU/GPU crossovers for the auto backend on this machine"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: twinpix COMMAND [ARGS]   (twinpix COMMAND --help for each)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nexit codes: 0 ok, 1 check failed, 2 usage, 3 I/O error, 4 no GPU device (when one is required),\n"
               "            5 operation failed, 77 skipped (nothing could run here)\n"
               "environment: TWINPIX_BACKEND=cpu|cuda|auto, TWINPIX_DEBUG=1, TWINPIX_DEVICE_MEM_LIMIT=BYTES,\n"
               "             TWINPIX_CALIBRATION=FILE, TWINPIX_SHARED_DATASETS=DIR, TWINPIX_SKIMAGE_DATA=DIR\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return TP_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return TP_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("twinpix %s\n", TP_VERSION_STRING);
        return TP_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "twinpix: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return TP_EXIT_USAGE;
}


/* The twinpix subcommands. Each takes argc/argv from its own name on and returns a documented exit code. */
#ifndef TP_CLI_COMMANDS_H
#define TP_CLI_COMMANDS_H

/* Exit codes of every twinpix command (documented in `twinpix --help` and the README). */
enum {
    TP_EXIT_OK = 0,
    TP_EXIT_CHECK_FAILED = 1, /* a comparison or check found a difference */
    TP_EXIT_USAGE = 2,        /* bad command line */
    TP_EXIT_IO = 3,           /* a file could not be read or written */
    TP_EXIT_NO_DEVICE = 4,    /* a GPU was required and none is usable */
    TP_EXIT_ERROR = 5,        /* an operation failed (bad input, out of memory, ...) */
    TP_EXIT_SKIPPED = 77      /* nothing could run here (e.g. only GPU cases, no GPU) */
};

int tp_cmd_info(int argc, char **argv);
int tp_cmd_ops(int argc, char **argv);
int tp_cmd_op(int argc, char **argv);
int tp_cmd_run(int argc, char **argv);
int tp_cmd_datasets(int argc, char **argv);
int tp_compare_main(int argc, char **argv);   /* compare/compare_cli.c */
int tp_bench_main(int argc, char **argv);     /* bench/bench_cli.c (when built with benchmarks) */
int tp_cmd_calibrate(int argc, char **argv);
#endif

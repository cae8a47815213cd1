/*
 * A C interface to Google Benchmark, in the manner of IREE's runtime/src/iree/testing/benchmark.h: a
 * benchmark is a definition struct (flags, time unit, minimum duration or fixed iterations, a run callback,
 * user data) registered under a name; the callback loops on tp_gbench_keep_running(). bench/gbench.cc is the
 * only C++ file of the suite. Google Benchmark's own JSON is written unchanged by tp_gbench_run.
 */
#ifndef TP_BENCH_GBENCH_H
#define TP_BENCH_GBENCH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The state of one run of a benchmark; impl is a benchmark::State. Valid only inside the run callback. */
typedef struct tp_gbench_state {
    void *impl;
} tp_gbench_state;

enum tp_gbench_flag_bits {
    TP_GBENCH_FLAG_MEASURE_PROCESS_CPU_TIME = 1u << 0, /* CPU time of all threads, not only the caller's */
    TP_GBENCH_FLAG_USE_REAL_TIME = 1u << 1,            /* wall time decides the iteration count */
    TP_GBENCH_FLAG_USE_MANUAL_TIME = 1u << 2,          /* the callback reports each iteration's time */
};

typedef enum tp_gbench_unit {
    TP_GBENCH_UNIT_MILLISECOND = 0,
    TP_GBENCH_UNIT_MICROSECOND,
    TP_GBENCH_UNIT_NANOSECOND,
    TP_GBENCH_UNIT_SECOND,
} tp_gbench_unit;

/* Counter flags (Google Benchmark's Counter::Flags). */
enum tp_gbench_counter_bits {
    TP_GBENCH_COUNTER_DEFAULT = 0,
    TP_GBENCH_COUNTER_RATE = 1u << 0,           /* divided by the measured time */
    TP_GBENCH_COUNTER_AVG_ITERATIONS = 1u << 1, /* divided by the iteration count */
};

struct tp_gbench_def;
/* Returns 0 when it ran (or skipped with tp_gbench_skip); non-zero is reported as an error with no message. */
typedef int (*tp_gbench_fn)(const struct tp_gbench_def *def, tp_gbench_state *state);

typedef struct tp_gbench_def {
    unsigned flags;             /* tp_gbench_flag_bits */
    tp_gbench_unit time_unit;   /* how Google Benchmark prints and writes the times */
    double minimum_duration_s;  /* > 0: run at least this long; 0: Google Benchmark's default */
    int64_t iterations;         /* > 0: exactly this many iterations (minimum_duration_s ignored) */
    int repetitions;            /* > 1: repeat and add Google Benchmark's mean/median/stddev aggregates */
    tp_gbench_fn run;
    void *user_data;            /* for the callback; the suite never touches it */
} tp_gbench_def;

/* Register a benchmark; def is copied. Returns 0, or -1 when name or def->run is missing. */
int tp_gbench_register(const char *name, const tp_gbench_def *def);
/* Forget every registered benchmark (so a process can run several suites). */
void tp_gbench_clear(void);

/* The loop condition of the callback: true while more iterations are wanted. */
bool tp_gbench_keep_running(tp_gbench_state *state);
int64_t tp_gbench_iterations(const tp_gbench_state *state); /* iterations done so far in this run */
/* With TP_GBENCH_FLAG_USE_MANUAL_TIME: the time of the current iteration, in seconds. */
void tp_gbench_set_iteration_time(tp_gbench_state *state, double seconds);
void tp_gbench_pause_timing(tp_gbench_state *state);
void tp_gbench_resume_timing(tp_gbench_state *state);
void tp_gbench_set_items_processed(tp_gbench_state *state, int64_t items);
void tp_gbench_set_bytes_processed(tp_gbench_state *state, int64_t bytes);
/* A named counter, written in the JSON beside the times (flags: tp_gbench_counter_bits). */
void tp_gbench_set_counter(tp_gbench_state *state, const char *name, double value, unsigned flags);
void tp_gbench_set_label(tp_gbench_state *state, const char *label);
/* Record the benchmark as skipped with this message (Google Benchmark's SkipWithError): keep_running then
 * returns false, and the JSON entry carries "error_occurred": true and the message. */
void tp_gbench_skip(tp_gbench_state *state, const char *message);

/* A key/value pair for the "context" block of Google Benchmark's JSON (device facts, git commit, ...). */
void tp_gbench_add_context(const char *key, const char *value);

typedef struct tp_gbench_run_options {
    const char *json_path;  /* Google Benchmark's own JSON is written here (NULL: none) */
    int console;            /* 1: Google Benchmark's console table on stderr; 0: quiet */
} tp_gbench_run_options;

/* Run every registered benchmark. argv may carry Google Benchmark flags (--benchmark_filter=..., ...);
 * argv[0] is a program name; other arguments are an error. Returns the number of benchmarks that matched,
 * or -1 with a message in err (unknown arguments, a failure inside Google Benchmark). */
int tp_gbench_run(int argc, char **argv, const tp_gbench_run_options *opt, char *err, int err_len);

#ifdef __cplusplus
}
#endif
#endif

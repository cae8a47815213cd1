/* A minimal test framework for twinpix's C tests: CHECK records failures without stopping, each test
 * function runs in order, and the binary ends with the line "N passed, N failed" (exit 1 on failure,
 * 77 when every test skipped, e.g. no CUDA device). */
#ifndef TP_TEST_H
#define TP_TEST_H
#include "twinpix/internal.h"

#include <stdio.h>
#include <stdlib.h>

extern int tp_test_failed_checks;
extern tp_context *tp_test_ctx; /* a fresh context per test */

#define CHECK(cond)                                                                                                \
    do {                                                                                                           \
        if (!(cond)) {                                                                                             \
            tp_test_failed_checks++;                                                                               \
            fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                      \
        }                                                                                                          \
    } while (0)
#define CHECK_MSG(cond, ...)                                                                                       \
    do {                                                                                                           \
        if (!(cond)) {                                                                                             \
            tp_test_failed_checks++;                                                                               \
            fprintf(stderr, "  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                                      \
            fprintf(stderr, __VA_ARGS__);                                                                          \
            fputc('\n', stderr);                                                                                   \
        }                                                                                                          \
    } while (0)
#define CHECK_OK(expr)                                                                                             \
    do {                                                                                                           \
        tp_status s_ = (expr);                                                                                     \
        CHECK_MSG(s_ == TP_OK, "%s (%s)", tp_status_str(s_), tp_last_error(tp_test_ctx));                          \
    } while (0)

/* TP_TEST_ONLY=name,name runs only those tests of a binary (to split slow sanitizer runs); TP_TEST_LIST=1
 * prints the names and runs nothing. */
/* A test returns 0 when it ran, TP_TEST_SKIP when it could not run here (with a reason printed). */
#define TP_TEST_SKIP 77
typedef int (*tp_test_fn)(void);
typedef struct {
    const char *name;
    tp_test_fn fn;
} tp_test_case;

int tp_test_main(const tp_test_case *tests, int n);
#define TP_TESTS(...)                                                                                              \
    int main(void)                                                                                                 \
    {                                                                                                              \
        static const tp_test_case t_[] = {__VA_ARGS__};                                                            \
        return tp_test_main(t_, (int)(sizeof t_ / sizeof t_[0]));                                                  \
    }
#define T(fn) {#fn, fn}

/* Path of a file in ../shared/datasets, or NULL (and a note) when that folder is absent. */
const char *tp_test_shared(const char *file);
/* A deterministic pseudo-random stream (splitmix64). */
uint64_t tp_test_rand(uint64_t *state);
/* TP_TEST_SMALL=1 (set by scripts/device_run.sh under compute-sanitizer, which runs kernels 10-100x slower):
 * tests shrink their largest inputs, keeping every code path, and say so. */
int tp_test_small(void);
/* Does a usable CUDA device exist here? (reason printed when not) */
int tp_test_have_cuda(void);
#endif

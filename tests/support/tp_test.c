#include "tests/support/tp_test.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

int tp_test_failed_checks;
tp_context *tp_test_ctx;

/* Is name in the comma-separated list? */
static int selected(const char *list, const char *name)
{
    const size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        const size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, name, n))
            return 1;
        p += len + (e != NULL);
    }
    return 0;
}

int tp_test_main(const tp_test_case *tests, int n)
{
    int passed = 0, failed = 0, skipped = 0;
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress survives a timeout kill (sanitizer runs) */
    if (getenv("TP_TEST_LIST")) { /* the test names, one a line (scripts/device_run.sh splits sanitizer runs) */
        for (int i = 0; i < n; i++)
            printf("%s\n", tests[i].name);
        return 0;
    }
    const char *only = getenv("TP_TEST_ONLY");
    if (tp_test_small())
        printf("note: TP_TEST_SMALL=1: the largest inputs are shrunk (sanitizer run)\n");
    for (int i = 0; i < n; i++) {
        if (only && *only && !selected(only, tests[i].name)) {
            printf("--   %s (not in TP_TEST_ONLY)\n", tests[i].name);
            continue;
        }
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (tp_context_create(&tp_test_ctx) != TP_OK) {
            fprintf(stderr, "cannot create a context\n");
            return 1;
        }
        int before = tp_test_failed_checks;
        int r = tests[i].fn();
        tp_context_destroy(tp_test_ctx);
        tp_test_ctx = NULL;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        const double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (r == TP_TEST_SKIP) {
            skipped++;
            printf("SKIP %s\n", tests[i].name);
        } else if (tp_test_failed_checks > before || r != 0) {
            failed++;
            printf("FAIL %s (%.2f s)\n", tests[i].name, s);
        } else {
            passed++;
            printf("ok   %s (%.2f s)\n", tests[i].name, s);
        }
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    if (failed)
        return 1;
    return passed == 0 && skipped > 0 ? TP_TEST_SKIP : 0;
}

const char *tp_test_shared(const char *file)
{
    static char path[4096];
    const char *dir = getenv("TWINPIX_SHARED_DATASETS");
    if (!dir)
        dir = TP_SOURCE_DIR "/../shared/datasets";
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (access(path, R_OK) != 0) {
        printf("  note: %s not found (../shared/datasets absent)\n", path);
        return NULL;
    }
    return path;
}

uint64_t tp_test_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int tp_test_small(void)
{
    const char *v = getenv("TP_TEST_SMALL");
    return v && *v && strcmp(v, "0") != 0;
}

int tp_test_have_cuda(void)
{
    char why[256];
    if (tp_backend_available(TP_BACKEND_CUDA, why, sizeof why))
        return 1;
    printf("  skipped: %s\n", why);
    return 0;
}

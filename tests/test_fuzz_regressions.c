/* Inputs the fuzzers once crashed on (tests/fuzz/regressions/<target>/), replayed on every run: each must
 * now be refused with a message and an empty image. */
#include "tests/support/tp_test.h"

#include <dirent.h>
#include <string.h>

static int replay(const char *target, tp_status (*read)(tp_context *, const char *, tp_image *))
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/regressions/%s", TP_SOURCE_DIR, target);
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        tp_image im = tp_image_empty();
        tp_status st = read(tp_test_ctx, path, &im);
        CHECK_MSG(st != TP_OK && im.data == NULL && strlen(tp_last_error(tp_test_ctx)) > 0, "%s: %s", e->d_name,
                  tp_status_str(st));
        /* refused from what the file declares, before any allocation: never an out-of-memory */
        CHECK_MSG(st == TP_ERR_IO || st == TP_ERR_OVERFLOW || st == TP_ERR_DTYPE || st == TP_ERR_SHAPE, "%s: %s (%s)",
                  e->d_name, tp_status_str(st), tp_last_error(tp_test_ctx));
        tp_image_free(&im);
        n++;
    }
    closedir(d);
    printf("  %s: %d regression inputs refused cleanly\n", target, n);
    return n;
}

static tp_status read_tiff(tp_context *ctx, const char *path, tp_image *im) { return tp_read_tiff(ctx, path, im, NULL); }

static int test_tiff_regressions(void)
{
    CHECK(replay("tiff", read_tiff) >= 1);
    return 0;
}

static int test_png_regressions(void)
{
    replay("png", tp_read_png);
    return 0;
}

TP_TESTS(T(test_tiff_regressions), T(test_png_regressions))

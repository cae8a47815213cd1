#include "cli/run_util.h"

#include <stdlib.h>
#include <string.h>

int64_t tp_result_bytes(const tp_result *r)
{
    int64_t b = r->image.data ? tp_image_count(&r->image) * (int64_t)tp_dtype_size(r->image.dtype) : 0;
    for (int c = 0; c < r->table.ncols; c++)
        b += r->table.nrows * (int64_t)tp_dtype_size(r->table.cols[c].dtype);
    return b;
}

/* ---- memory as /proc reports it ---- */

static int64_t status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    size_t kl = strlen(key);
    int64_t v = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            v = strtoll(line + kl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v < 0 ? -1 : v * 1024;
}

int64_t tp_rss_peak_bytes(void) { return status_kb("VmHWM"); }
int64_t tp_rss_now_bytes(void) { return status_kb("VmRSS"); }

int tp_rss_reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return -1;
    int bad = fputs("5", f) < 0;
    bad |= fclose(f) != 0;
    return bad ? -1 : 0;
}

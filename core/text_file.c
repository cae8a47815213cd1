/* Reading a whole (text) file into memory: calibration files, pipeline files, CSV tables, earlier benchmark
 * reports. One reader, so every caller gets the same size cap, error statuses and NUL termination. */
#include "twinpix/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

tp_status tp_read_text_file(tp_context *ctx, const char *path, int64_t max_bytes, char **out, size_t *out_len)
{
    *out = NULL;
    if (out_len)
        *out_len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return tp_error(ctx, TP_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    tp_status st = buf ? TP_OK : tp_error(ctx, TP_ERR_NOMEM, "out of host memory reading '%s'", path);
    while (!st) {
        if (len + 1 >= cap) {
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                st = tp_error(ctx, TP_ERR_NOMEM, "out of host memory reading '%s'", path);
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - 1 - len, f);
        len += got;
        if (max_bytes > 0 && len > (size_t)max_bytes)
            st = tp_error(ctx, TP_ERR_IO, "'%s' is larger than %lld bytes", path, (long long)max_bytes);
        else if (got == 0)
            break;
    }
    if (!st && ferror(f))
        st = tp_error(ctx, TP_ERR_IO, "cannot read '%s': read error", path);
    fclose(f);
    if (st) {
        free(buf);
        return st;
    }
    buf[len] = 0;
    *out = buf;
    if (out_len)
        *out_len = len;
    return TP_OK;
}

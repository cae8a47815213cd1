/* Atomic file output: write to a temporary file beside the target, rename on success, so a failed write
 * never leaves a partial file under the requested name. */
#include "twinpix/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

tp_status tp_atomic_open(tp_context *ctx, const char *path, tp_atomic_file *af)
{
    memset(af, 0, sizeof *af);
    if (!path || !*path)
        return tp_error(ctx, TP_ERR_ARG, "output path is empty");
    if (strlen(path) + 16 >= sizeof af->tmp)
        return tp_error(ctx, TP_ERR_ARG, "output path is too long");
    strcpy(af->path, path);
    snprintf(af->tmp, sizeof af->tmp, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(af->tmp);
    if (fd < 0)
        return tp_error(ctx, TP_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        close(fd);
        unlink(af->tmp);
        return tp_error(ctx, TP_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
    }
    return TP_OK;
}

tp_status tp_atomic_commit(tp_context *ctx, tp_atomic_file *af)
{
    int bad = af->fp && (ferror(af->fp) != 0);
    if (af->fp && fclose(af->fp) != 0)
        bad = 1;
    af->fp = NULL;
    if (bad || rename(af->tmp, af->path) != 0) {
        int e = errno;
        unlink(af->tmp);
        return tp_error(ctx, TP_ERR_IO, "cannot write '%s': %s", af->path, bad ? "write failed" : strerror(e));
    }
    return TP_OK;
}

void tp_atomic_abort(tp_atomic_file *af)
{
    if (af->fp)
        fclose(af->fp);
    af->fp = NULL;
    if (af->tmp[0])
        unlink(af->tmp);
    af->tmp[0] = 0;
}

#include "cli/cli_util.h"

#include <math.h>
#include <string.h>
#include <time.h>

int tp_cli_exit_code(tp_status st)
{
    switch (st) {
    case TP_OK: return TP_EXIT_OK;
    case TP_ERR_IO: return TP_EXIT_IO;
    case TP_ERR_NO_DEVICE: return TP_EXIT_NO_DEVICE;
    default: return TP_EXIT_ERROR;
    }
}

int tp_cli_fail(tp_context *ctx, const char *cmd, tp_status st)
{
    fprintf(stderr, "twinpix %s: %s: %s\n", cmd, tp_status_str(st), tp_last_error(ctx));
    return tp_cli_exit_code(st);
}

int tp_cli_has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

int tp_cli_backend(const char *s, tp_backend_choice *out)
{
    if (!strcmp(s, "cpu"))
        *out = TP_CHOOSE_CPU;
    else if (!strcmp(s, "cuda"))
        *out = TP_CHOOSE_CUDA;
    else if (!strcmp(s, "auto"))
        *out = TP_CHOOSE_AUTO;
    else
        return -1;
    return 0;
}

double tp_cli_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* Float images in [0,1] become 8-bit for PNG, as skimage.util.img_as_ubyte would (round to nearest). */
static tp_status float_to_u8(tp_context *ctx, const tp_image *src, tp_image *dst)
{
    tp_status st = tp_image_alloc(ctx, dst, TP_UINT8, src->ndim, src->shape, src->channel_axis, TP_HOST);
    if (st)
        return st;
    int64_t n = tp_image_count(src);
    uint8_t *o = dst->data;
    for (int64_t i = 0; i < n; i++) {
        double v = tp_get_f64(src->data, src->dtype, i);
        v = v < 0 ? 0 : v > 1 ? 1 : v;
        o[i] = (uint8_t)lrint(v * 255.0);
    }
    return TP_OK;
}

tp_status tp_cli_write_result(tp_context *ctx, const char *path, const tp_result *r)
{
    if (r->kind == TP_OUT_TABLE) {
        if (tp_cli_has_suffix(path, ".csv"))
            return tp_write_table_csv(ctx, path, &r->table);
        if (tp_cli_has_suffix(path, ".json"))
            return tp_write_table_json(ctx, path, &r->table);
        return tp_error(ctx, TP_ERR_ARG, "output '%s': a table is written as .csv or .json", path);
    }
    if (r->kind == TP_OUT_SCALAR) {
        double v;
        tp_status st = tp_result_scalar(ctx, r, &v);
        if (st)
            return st;
        tp_atomic_file af;
        if ((st = tp_atomic_open(ctx, path, &af)))
            return st;
        if (tp_cli_has_suffix(path, ".json"))
            fprintf(af.fp, "{\"value\": %.17g}\n", v);
        else
            fprintf(af.fp, "%.17g\n", v);
        return tp_atomic_commit(ctx, &af);
    }
    const tp_image *im = &r->image;
    tp_image host = tp_image_empty(), conv = tp_image_empty();
    tp_status st = TP_OK;
    if (im->location != TP_HOST) {
        if ((st = tp_image_copy(ctx, im, &host, TP_HOST)))
            return st;
        im = &host;
    }
    if (tp_cli_has_suffix(path, ".png") && tp_dtype_is_float(im->dtype)) {
        if ((st = float_to_u8(ctx, im, &conv)) == TP_OK)
            im = &conv;
    }
    if (!st)
        st = tp_write_image(ctx, path, im);
    tp_image_free(&host);
    tp_image_free(&conv);
    return st;
}

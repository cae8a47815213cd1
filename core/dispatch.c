/* The dispatcher: the one path every op call takes, from the C API, the CLI, the harness and the
 * benchmarks. It validates inputs and parameters once against the descriptor, chooses the backend, moves
 * inputs to that backend's memory when they live elsewhere, runs the implementation, and returns the output
 * where inputs[0] lives. A failing call leaves *out empty and frees everything it allocated. */
#include "twinpix/internal.h"
#include "core/params.h"

#include <string.h>

tp_result tp_result_empty(void)
{
    tp_result r;
    memset(&r, 0, sizeof r);
    r.image = tp_image_empty();
    r.table = tp_table_empty();
    return r;
}

void tp_result_free(tp_result *r)
{
    if (!r)
        return;
    tp_image_free(&r->image);
    tp_table_free(&r->table);
    *r = tp_result_empty();
}

tp_status tp_result_scalar(tp_context *ctx, const tp_result *r, double *value)
{
    if (!r || r->kind != TP_OUT_SCALAR || !r->image.data)
        return tp_error(ctx, TP_ERR_ARG, "result: expected a scalar result");
    if (r->image.location == TP_HOST) {
        *value = tp_get_f64(r->image.data, r->image.dtype, 0);
        return TP_OK;
    }
    tp_image h = tp_image_empty();
    tp_status st = tp_image_copy(ctx, &r->image, &h, TP_HOST);
    if (st)
        return st;
    *value = tp_get_f64(h.data, h.dtype, 0);
    tp_image_free(&h);
    return TP_OK;
}

static tp_status check_input(tp_context *ctx, const tp_op_desc *op, const tp_input_desc *d, const tp_image *im)
{
    if (!im->data)
        return tp_error(ctx, TP_ERR_ARG, "%s: %s: the image is empty (no data)", op->name, d->name);
    if ((unsigned)im->dtype >= TP_DTYPE_COUNT || !(d->dtypes & TP_DT(im->dtype))) {
        char list[256] = "";
        for (int t = 0; t < TP_DTYPE_COUNT; t++)
            if (d->dtypes & TP_DT(t)) {
                if (*list)
                    strcat(list, ", ");
                strcat(list, tp_dtype_name((tp_dtype)t));
            }
        return tp_error(ctx, TP_ERR_DTYPE, "%s: %s: expected dtype %s, got %s", op->name, d->name, list,
                        tp_dtype_name(im->dtype));
    }
    if (im->ndim < 1 || im->ndim > TP_MAX_DIMS)
        return tp_error(ctx, TP_ERR_SHAPE, "%s: %s: expected 1..4 axes, got %d", op->name, d->name, im->ndim);
    if (im->channel_axis >= 0 && !d->channels)
        return tp_error(ctx, TP_ERR_SHAPE,
                        "%s: %s: expected a single-channel image, got one with a channel axis (%d); take one "
                        "channel first (extract_channel)",
                        op->name, d->name, im->channel_axis);
    int sd = tp_image_spatial_ndim(im);
    if (sd < 0 || sd > 31 || !(d->spatial_dims & (1u << sd)))
        return tp_error(ctx, TP_ERR_SHAPE, "%s: %s: expected a %s image, got %d spatial dimensions", op->name,
                        d->name,
                        d->spatial_dims == TP_DIMS_23 ? "2D or 3D"
                        : d->spatial_dims == TP_DIMS_2D ? "2D"
                                                        : "3D",
                        sd);
    int64_t n;
    for (int i = 0; i < im->ndim; i++)
        if (im->shape[i] <= 0)
            return tp_error(ctx, TP_ERR_SHAPE, "%s: %s: shape[%d] must be > 0, got %lld", op->name, d->name, i,
                            (long long)im->shape[i]);
    if (!tp_shape_product(im->shape, im->ndim, &n) || !tp_mul_i64(n, (int64_t)tp_dtype_size(im->dtype), &n))
        return tp_error(ctx, TP_ERR_OVERFLOW, "%s: %s: the image's byte size overflows", op->name, d->name);
    return TP_OK;
}

static tp_status validate(tp_context *ctx, const tp_op_desc *op, const tp_image *const *in, int n_in)
{
    int required = 0;
    for (int i = 0; i < op->n_inputs; i++)
        required += op->inputs[i].required;
    if (n_in < required || n_in > op->n_inputs)
        return tp_error(ctx, TP_ERR_ARG, "%s: expected %d to %d input images, got %d", op->name, required,
                        op->n_inputs, n_in);
    for (int i = 0; i < n_in; i++) {
        if (!in[i]) {
            if (op->inputs[i].required)
                return tp_error(ctx, TP_ERR_ARG, "%s: %s: required input is NULL", op->name, op->inputs[i].name);
            continue;
        }
        tp_status st = check_input(ctx, op, &op->inputs[i], in[i]);
        if (st)
            return st;
    }
    /* secondary inputs must match the first one's spatial shape */
    for (int i = 1; i < n_in; i++) {
        if (!in[i])
            continue;
        int a = tp_image_spatial_ndim(in[0]), b = tp_image_spatial_ndim(in[i]);
        int ok = a == b;
        for (int k = 0, ka = 0, kb = 0; ok && k < a; k++, ka++, kb++) {
            if (ka == in[0]->channel_axis)
                ka++;
            if (kb == in[i]->channel_axis)
                kb++;
            ok = in[0]->shape[ka] == in[i]->shape[kb];
        }
        if (!ok)
            return tp_error(ctx, TP_ERR_SHAPE, "%s: %s: expected the same spatial shape as %s", op->name,
                            op->inputs[i].name, op->inputs[0].name);
    }
    return TP_OK;
}

tp_status tp_out_image(tp_context *ctx, const tp_call *c, tp_dtype dtype, int ndim, const int64_t *shape,
                       int channel_axis)
{
    tp_location loc = c->backend == TP_BACKEND_CUDA ? TP_DEVICE : TP_HOST;
    tp_image_free(&c->out->image);
    tp_status st = tp_image_alloc(ctx, &c->out->image, dtype, ndim, shape, channel_axis, loc);
    if (!st && c->in[0])
        memcpy(c->out->image.spacing, c->in[0]->spacing, sizeof c->in[0]->spacing);
    return st;
}

/* Bring an image to the backend's memory, contiguous; *staged is owned by the caller when it differs. A host
 * input for the CUDA backend goes up through the context's pinned staging buffer (gpu/backend.cu: chunked,
 * double-buffered, no stream synchronisation) into a block allocated on the context's stream; it is freed
 * after the call, stream-ordered after the op's kernels. */
static tp_status stage(tp_context *ctx, const tp_image *src, tp_location where, tp_image *tmp, const tp_image **out)
{
    if (src->location == where && tp_image_is_contiguous(src)) {
        *out = src;
        return TP_OK;
    }
    tp_status st = tp_image_copy(ctx, src, tmp, where);
    *out = tmp;
    return st;
}

static tp_status run_once(tp_context *ctx, const tp_op_desc *op, tp_backend_id be, const tp_image *const *inputs,
                          int n_in, tp_pval *vals, tp_result *res)
{
    tp_image staged[4], staged_p[8];
    for (int i = 0; i < 4; i++)
        staged[i] = tp_image_empty();
    for (int i = 0; i < 8; i++)
        staged_p[i] = tp_image_empty();
    tp_location loc = be == TP_BACKEND_CUDA ? TP_DEVICE : TP_HOST;
    tp_call call;
    memset(&call, 0, sizeof call);
    call.op = op;
    call.n_in = op->n_inputs;
    call.p = vals;
    call.out = res;
    call.backend = be;
    const tp_image *saved_img[8] = {0};
    tp_status st = TP_OK;
    for (int i = 0; i < n_in && !st; i++)
        if (inputs[i])
            st = stage(ctx, inputs[i], loc, &staged[i], &call.in[i]);
    for (int i = 0; i < op->n_params && i < 8 && !st; i++)
        if (vals[i].img) {
            saved_img[i] = vals[i].img;
            st = stage(ctx, vals[i].img, loc, &staged_p[i], &vals[i].img);
        }
    if (!st && op->check)
        st = op->check(ctx, &call);
    if (!st) {
        *res = tp_result_empty();
        res->kind = op->output;
        res->backend = be;
        st = op->impl[be](ctx, &call);
        if (st)
            tp_result_free(res);
    }
    for (int i = 0; i < op->n_params && i < 8; i++)
        if (saved_img[i])
            vals[i].img = saved_img[i];
    for (int i = 0; i < 4; i++)
        tp_image_free(&staged[i]);
    for (int i = 0; i < 8; i++)
        tp_image_free(&staged_p[i]);
    return st;
}

static tp_status run(tp_context *ctx, int forced, tp_backend_id forced_be, const char *name,
                     const tp_image *const *inputs, int n_in, const tp_params *params, tp_result *out)
{
    if (!ctx)
        return TP_ERR_ARG;
    if (!out)
        return tp_error(ctx, TP_ERR_ARG, "tp_run: out must not be NULL");
    *out = tp_result_empty();
    if (!name)
        return tp_error(ctx, TP_ERR_ARG, "tp_run: op name must not be NULL");
    const tp_op_desc *op = tp_op_find(name);
    if (!op)
        return tp_error(ctx, TP_ERR_ARG, "unknown op '%s' (twinpix ops lists them)", name);
    if (n_in < 0 || n_in > 4 || (n_in > 0 && !inputs))
        return tp_error(ctx, TP_ERR_ARG, "%s: expected 1 to %d input images, got %d", op->name, op->n_inputs, n_in);
    tp_status st = validate(ctx, op, inputs, n_in);
    if (st)
        return st;
    tp_pval *vals = NULL;
    if ((st = tp_params_resolve(ctx, op, params, &vals)))
        return st;

    tp_backend_id be = forced ? forced_be : tp_choose_backend(ctx, op, inputs, n_in);
    char why[256];
    if (!tp_backend_available(be, why, sizeof why)) {
        tp_pvals_free(op, vals);
        return tp_error(ctx, TP_ERR_NO_DEVICE, "%s: the %s backend is not available: %s", op->name,
                        tp_backend_name(be), why);
    }
    if (!op->impl[be]) {
        tp_pvals_free(op, vals);
        return tp_error(ctx, TP_ERR_UNSUPPORTED, "%s: not implemented on the %s backend", op->name,
                        tp_backend_name(be));
    }
    tp_result res = tp_result_empty();
    st = run_once(ctx, op, be, inputs, n_in, vals, &res);
    int fell_back = 0;
    if (st == TP_ERR_DEVICE_NOMEM && !forced && ctx->backend == TP_CHOOSE_AUTO && op->impl[TP_BACKEND_CPU]) {
        fprintf(stderr, "twinpix: %s: device out of memory (%s); auto retries on the CPU\n", op->name, ctx->errmsg);
        be = TP_BACKEND_CPU;
        fell_back = 1;
        st = run_once(ctx, op, be, inputs, n_in, vals, &res);
    }
    tp_pvals_free(op, vals);
    if (st)
        return st;
    /* the output lives where the first input lives; after an out-of-memory fallback it stays on the host
     * when the device cannot hold it (res.image.location says where it is) */
    tp_location want = inputs[0]->location;
    if (res.image.data && res.image.location != want) {
        tp_image moved = tp_image_empty();
        st = tp_image_copy(ctx, &res.image, &moved, want);
        if (st == TP_ERR_DEVICE_NOMEM && fell_back) {
            tp_debug(ctx, "%s: the CPU result stays on the host: the device is full", op->name);
            st = TP_OK;
        } else if (st) {
            tp_result_free(&res);
            return st;
        } else {
            tp_image_free(&res.image);
            res.image = moved;
        }
    }
    *out = res;
    return TP_OK;
}

tp_status tp_run(tp_context *ctx, const char *name, const tp_image *const *inputs, int n_inputs,
                 const tp_params *params, tp_result *out)
{
    return run(ctx, 0, TP_BACKEND_CPU, name, inputs, n_inputs, params, out);
}

tp_status tp_run_on(tp_context *ctx, tp_backend_id backend, const char *name, const tp_image *const *inputs,
                    int n_inputs, const tp_params *params, tp_result *out)
{
    if (ctx && (unsigned)backend >= TP_BACKEND_COUNT)
        return tp_error(ctx, TP_ERR_ARG, "backend: expected cpu or cuda, got %d", (int)backend);
    return run(ctx, 1, backend, name, inputs, n_inputs, params, out);
}

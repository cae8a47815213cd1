/* Running one case on both backends: the CPU reference on host inputs, then CUDA on inputs uploaded first
 * (so its time is the device's own work, not the transfer), the CUDA output downloaded and judged by the
 * op's contract. Errors of either side are verdicts, never crashes. */
#include "compare/compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double tp_cmp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

bool tp_cmp_is_rejection(tp_status st) { return st == TP_ERR_ARG || st == TP_ERR_SHAPE || st == TP_ERR_DTYPE; }

static int add_param_json(void *user, const char *name, const char *value)
{
    cJSON_AddStringToObject((cJSON *)user, name, value);
    return 0;
}

cJSON *tp_cmp_params_json(const char *params)
{
    cJSON *o = cJSON_CreateObject();
    if (o)
        tp_cmp_params_each(params, add_param_json, o);
    return o;
}

cJSON *tp_cmp_contract_json(const tp_contract *k)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "kind", tp_contract_kind_name(k->kind));
    cJSON_AddNumberToObject(o, "tol", k->tol);
    cJSON_AddStringToObject(o, "why", k->why ? k->why : "");
    return o;
}

static int set_param(void *user, const char *name, const char *value)
{
    return tp_params_set((tp_params *)user, name, value) != TP_OK;
}

/* ---- fault injection ---- */

static void perturb_image(tp_image *im)
{
    int64_t n = tp_image_count(im);
    if (!im->data || n == 0 || im->location != TP_HOST)
        return;
    int64_t i = n / 2;
    if (im->dtype == TP_BOOL) {
        ((uint8_t *)im->data)[i] ^= 1;
    } else if (im->dtype == TP_FLOAT32) { /* NaN and inf have no neighbour that differs: they become 0 */
        float *f = im->data;
        f[i] = isfinite(f[i]) ? nextafterf(f[i], INFINITY) : 0.0f;
    } else if (im->dtype == TP_FLOAT64) {
        double *f = im->data;
        f[i] = isfinite(f[i]) ? nextafter(f[i], INFINITY) : 0.0;
    } else {
        tp_set_f64(im->data, im->dtype, i, tp_get_f64(im->data, im->dtype, i) == 1 ? 2 : 1);
    }
}

void tp_cmp_perturb(tp_result *r)
{
    if (r->kind != TP_OUT_TABLE) {
        perturb_image(&r->image);
        return;
    }
    tp_table *t = &r->table;
    if (t->nrows == 0)
        return;
    /* the last column that is not the label: an integer +1, a float changed far beyond any tolerance */
    for (int j = t->ncols - 1; j >= 0; j--) {
        if (strcmp(t->cols[j].name, "label") == 0)
            continue;
        int64_t row = t->nrows - 1;
        double v = tp_get_f64(t->cols[j].data, t->cols[j].dtype, row);
        tp_set_f64(t->cols[j].data, t->cols[j].dtype, row,
                   !tp_dtype_is_float(t->cols[j].dtype) ? v + 1 : isfinite(v) ? v * 1.001 + 1 : 0.0);
        return;
    }
}

/* ---- one side ---- */

typedef struct side {
    tp_status st;
    char err[TP_ERRMSG_LEN];
    double ms;
    tp_result res; /* host */
} side;

static void side_init(side *s)
{
    memset(s, 0, sizeof *s);
    s->res = tp_result_empty();
    s->ms = NAN;
}

static tp_status to_host(tp_context *ctx, tp_result *r)
{
    if (r->kind == TP_OUT_TABLE || !r->image.data || r->image.location == TP_HOST)
        return TP_OK;
    tp_image h = tp_image_empty();
    tp_status st = tp_image_copy(ctx, &r->image, &h, TP_HOST);
    if (st)
        return st;
    tp_image_free(&r->image);
    r->image = h;
    return TP_OK;
}

static void run_cpu(tp_context *ctx, const char *op, const tp_image *const *in, int n_in, const tp_params *p, side *s)
{
    double t0 = tp_cmp_now_ms();
    s->st = tp_run_on(ctx, TP_BACKEND_CPU, op, in, n_in, p, &s->res);
    s->ms = tp_cmp_now_ms() - t0;
    if (s->st)
        snprintf(s->err, sizeof s->err, "%s", tp_last_error(ctx));
}

/* CUDA on device-resident inputs; only the op and a final synchronisation are timed. */
static void run_cuda(tp_context *ctx, const char *op, const tp_image *const *in, int n_in, const tp_params *p, side *s)
{
    tp_image dev[4];
    const tp_image *din[4] = {NULL, NULL, NULL, NULL};
    for (int i = 0; i < 4; i++)
        dev[i] = tp_image_empty();
    for (int i = 0; i < n_in && !s->st; i++) {
        if (!in[i])
            continue;
        s->st = tp_image_copy(ctx, in[i], &dev[i], TP_DEVICE);
        din[i] = &dev[i];
    }
    if (!s->st) {
        double t0 = tp_cmp_now_ms();
        s->st = tp_run_on(ctx, TP_BACKEND_CUDA, op, din, n_in, p, &s->res);
        if (!s->st)
            s->st = tp_context_sync(ctx);
        s->ms = tp_cmp_now_ms() - t0;
    }
    if (!s->st)
        s->st = to_host(ctx, &s->res);
    if (s->st) {
        snprintf(s->err, sizeof s->err, "%s", tp_last_error(ctx));
        tp_result_free(&s->res);
    }
    for (int i = 0; i < 4; i++)
        tp_image_free(&dev[i]);
}

/* ---- the case's JSON ---- */

static cJSON *case_json(const tp_cmp_run *run, const tp_cmp_case *c, const tp_image *in0)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    cJSON_AddStringToObject(j, "op", c->op->name);
    cJSON_AddStringToObject(j, "dataset", c->dataset >= 0 ? run->data->ds[c->dataset].name : "synthetic");
    cJSON *shape = cJSON_AddArrayToObject(j, "shape");
    if (in0) {
        for (int d = 0; shape && d < in0->ndim; d++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)in0->shape[d]));
    } else {
        for (int d = 0; shape && c->dataset < 0 && d < c->ndim; d++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)c->shape[d]));
    }
    cJSON_AddStringToObject(j, "dtype", tp_dtype_name(c->dtype));
    if (c->nonfinite) /* the dtype of the inputs that carry NaN, +inf and -inf */
        cJSON_AddStringToObject(j, "nonfinite", tp_dtype_name(c->nonfinite_dtype));
    cJSON_AddItemToObject(j, "params", tp_cmp_params_json(c->params));
    cJSON_AddItemToObject(j, "contract", tp_cmp_contract_json(&c->op->contract));
    return j;
}

void tp_cmp_add_time(cJSON *j, double cpu_ms, double cuda_ms)
{
    cJSON *t = cJSON_AddObjectToObject(j, "time_ms");
    if (!t)
        return;
    if (isfinite(cpu_ms))
        cJSON_AddNumberToObject(t, "cpu", cpu_ms);
    else
        cJSON_AddNullToObject(t, "cpu");
    if (isfinite(cuda_ms))
        cJSON_AddNumberToObject(t, "cuda", cuda_ms);
    else
        cJSON_AddNullToObject(t, "cuda");
}

void tp_cmp_set_verdict(cJSON *j, const char *verdict, const char *skip_reason, const char *error)
{
    cJSON_AddStringToObject(j, "verdict", verdict);
    if (skip_reason)
        cJSON_AddStringToObject(j, "skip_reason", skip_reason);
    if (error)
        cJSON_AddStringToObject(j, "error", error);
}

/* Both sides ran (or failed): the verdict. Both rejecting the input the same way is agreement on a case
 * that does not apply (e.g. a 2D-only property on a 3D image), not a failure. */
void tp_cmp_judge(const tp_op_desc *op, tp_status cst, const char *cerr, const tp_result *cres, tp_status gst,
                  const char *gerr, const tp_result *gres, cJSON *j)
{
    char msg[2 * TP_ERRMSG_LEN + 64];
    if (cst && gst && tp_cmp_is_rejection(cst) && gst == cst) {
        snprintf(msg, sizeof msg, "not applicable: both backends reject it: %s", cerr);
        tp_cmp_set_verdict(j, "skip", msg, NULL);
    } else if (cst || gst) {
        snprintf(msg, sizeof msg, "%s%s%s%s%s", cst ? "cpu: " : "", cst ? cerr : "", cst && gst ? "; " : "",
                 gst ? "cuda: " : "", gst ? gerr : "");
        tp_cmp_set_verdict(j, "fail", NULL, msg);
    } else {
        tp_case_metrics m;
        bool ok = tp_contract_eval(op, cres, gres, &m);
        tp_cmp_set_verdict(j, ok ? "pass" : "fail", NULL, NULL);
        cJSON_AddItemToObject(j, "metrics", tp_metrics_to_json(&m));
    }
}

static void judge(const tp_op_desc *op, const side *cpu, const side *gpu, cJSON *j)
{
    tp_cmp_judge(op, cpu->st, cpu->err, &cpu->res, gpu->st, gpu->err, &gpu->res, j);
}

void tp_cmp_run_case(tp_cmp_run *run, const tp_cmp_case *c)
{
    const tp_cmp_options *o = run->o;
    const tp_image *in[4];
    int n_in = 0;
    bool gpu_side = run->gpu_ok || o->fault != TP_FAULT_OFF;
    if (!gpu_side && !o->quick) {
        /* nothing runs: do not spend time making inputs (8192^2 ones included) */
        cJSON *j = case_json(run, c, NULL);
        if (!j)
            return;
        char msg[320];
        snprintf(msg, sizeof msg, "GPU required: %s", run->gpu_why);
        tp_cmp_set_verdict(j, o->require_gpu ? "fail" : "skip", o->require_gpu ? NULL : run->gpu_why,
                           o->require_gpu ? msg : NULL);
        tp_cmp_add_time(j, NAN, NAN);
        tp_cmp_report_add_case(run->rep, j);
        return;
    }
    tp_status st = tp_cmp_case_inputs(run->ctx, run->cache, run->data, c, in, &n_in);
    cJSON *j = case_json(run, c, st ? NULL : in[0]);
    if (!j)
        return;
    if (st) {
        char msg[TP_ERRMSG_LEN + 16];
        snprintf(msg, sizeof msg, "input: %s", tp_last_error(run->ctx));
        tp_cmp_set_verdict(j, "fail", NULL, msg);
        tp_cmp_add_time(j, NAN, NAN);
        tp_cmp_report_add_case(run->rep, j);
        return;
    }
    tp_params *p = NULL;
    if (tp_params_create(&p) || tp_cmp_params_each(c->params, set_param, p)) {
        tp_cmp_set_verdict(j, "fail", NULL, "params: cannot hold the case's parameters");
        tp_cmp_add_time(j, NAN, NAN);
        tp_params_destroy(p);
        tp_cmp_report_add_case(run->rep, j);
        return;
    }
    side cpu, gpu;
    side_init(&cpu);
    side_init(&gpu);
    run_cpu(run->ctx, c->op->name, in, n_in, p, &cpu);
    if (!gpu_side) {
        /* no GPU: the CPU side still ran (--quick) so the harness itself is exercised */
        if (o->require_gpu) {
            char msg[320];
            snprintf(msg, sizeof msg, "GPU required: %s", run->gpu_why);
            tp_cmp_set_verdict(j, "fail", NULL, msg);
        } else {
            tp_cmp_set_verdict(j, "skip", run->gpu_why, NULL);
        }
        if (cpu.st)
            cJSON_AddStringToObject(j, "cpu_error", cpu.err);
    } else if (o->fault != TP_FAULT_OFF) {
        run_cpu(run->twin, c->op->name, in, n_in, p, &gpu);
        if (!gpu.st && o->fault == TP_FAULT_PERTURB)
            tp_cmp_perturb(&gpu.res);
        judge(c->op, &cpu, &gpu, j);
    } else {
        run_cuda(run->ctx, c->op->name, in, n_in, p, &gpu);
        judge(c->op, &cpu, &gpu, j);
    }
    tp_cmp_add_time(j, cpu.ms, gpu.ms);
    tp_result_free(&cpu.res);
    tp_result_free(&gpu.res);
    tp_params_destroy(p);
    tp_cmp_report_add_case(run->rep, j);
}

/* The auto backend's cost model: loading, validating and saving calibration files, built-in defaults,
 * predictions and the chain decision (see core/calibration.h). */
#include "core/calibration.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Built-in defaults, measured on the lent H100 machine (16 Xeon threads, NVIDIA H100 80GB HBM3) by
 * `twinpix calibrate` (reports/h100-2026-11-24-58bd044/calibration.json). A user's own calibration file
 * replaces them. */
static const tp_op_costs builtin_ops[] = {
    /* op                 cpu fixed ms, ns/px     cuda fixed ms, ns/px */
    {"extract_channel",   {0.0061, 0.0707}, {0.0099, 0.0189}},
    {"img_as_float",      {0.0000, 0.4688}, {0.0336, 0.0164}},
    {"gaussian",          {0.0000, 4.1803}, {0.0635, 0.0521}},
    {"threshold_otsu",    {0.0360, 0.1266}, {0.0436, 0.0189}},
    {"threshold",         {0.0066, 0.0970}, {0.0127, 0.0161}},
    {"binary_erosion",    {0.0127, 0.1773}, {0.0209, 0.0266}},
    {"binary_dilation",   {0.0051, 0.2361}, {0.0203, 0.0352}},
    {"binary_opening",    {0.0244, 0.3862}, {0.0261, 0.0367}},
    {"binary_closing",    {0.0336, 0.3918}, {0.0311, 0.0295}},
    {"label",             {0.0145, 0.1785}, {0.0453, 0.0597}},
    {"label2rgb",         {0.0000, 3.6487}, {0.1142, 0.1394}},
    {"regionprops_table", {0.0348, 0.7698}, {0.5176, 0.0640}},
};

void tp_calibration_defaults(tp_calibration *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->source, sizeof c->source, "built-in defaults (H100 machine)");
    /* pageable host memory, from the H100 benchmark report: 64 MiB up in 8.4 ms; 512 MiB down into freshly
     * allocated host memory in 422 ms (first touch of every page included) */
    c->h2d_gbs = 8.0;
    c->d2h_gbs = 1.25;
    c->transfer_latency_ms = 0.02;
    c->n = (int)(sizeof builtin_ops / sizeof builtin_ops[0]);
    memcpy(c->ops, builtin_ops, sizeof builtin_ops);
}

void tp_calibration_default_path(char *out, size_t n)
{
    const char *e = getenv("TWINPIX_CALIBRATION");
    if (e && *e) {
        snprintf(out, n, "%s", e);
        return;
    }
    const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");
    if (x && *x)
        snprintf(out, n, "%s/twinpix/calibration.json", x);
    else
        snprintf(out, n, "%s/.config/twinpix/calibration.json", h && *h ? h : ".");
}

static int get_num(const cJSON *o, const char *k, double *v)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < 0)
        return -1;
    *v = it->valuedouble;
    return 0;
}

static int get_cost(const cJSON *o, const char *k, tp_cost *c)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsObject(it) && !get_num(it, "fixed_ms", &c->fixed_ms) && !get_num(it, "ns_per_px", &c->ns_per_px)
               ? 0
               : -1;
}

tp_status tp_calibration_load(tp_context *ctx, const char *path, tp_calibration *out)
{
    char *buf = NULL;
    tp_status rst = tp_read_text_file(ctx, path, INT64_C(16) << 20, &buf, NULL);
    if (rst) {
        char msg[TP_ERRMSG_LEN];
        snprintf(msg, sizeof msg, "%s", tp_last_error(ctx));
        return tp_error(ctx, rst, "calibration: %s", msg);
    }
    cJSON *root = cJSON_Parse(buf);
    free(buf);
    tp_status st = TP_OK;
    tp_calibration c;
    tp_calibration_defaults(&c);
    snprintf(c.source, sizeof c.source, "%s", path);
    const cJSON *sv = root ? cJSON_GetObjectItemCaseSensitive(root, "schema_version") : NULL;
    const cJSON *tr = root ? cJSON_GetObjectItemCaseSensitive(root, "transfer") : NULL;
    const cJSON *ops = root ? cJSON_GetObjectItemCaseSensitive(root, "ops") : NULL;
    if (!root)
        st = tp_error(ctx, TP_ERR_IO, "calibration '%s': not valid JSON", path);
    else if (!cJSON_IsString(sv) || strcmp(sv->valuestring, TP_CALIBRATION_SCHEMA) != 0)
        st = tp_error(ctx, TP_ERR_IO, "calibration '%s': schema_version: expected \"%s\"", path, TP_CALIBRATION_SCHEMA);
    else if (!cJSON_IsObject(tr) || get_num(tr, "h2d_gbs", &c.h2d_gbs) || get_num(tr, "d2h_gbs", &c.d2h_gbs) ||
             get_num(tr, "latency_ms", &c.transfer_latency_ms) || c.h2d_gbs <= 0 || c.d2h_gbs <= 0)
        st = tp_error(ctx, TP_ERR_IO, "calibration '%s': transfer: expected h2d_gbs > 0, d2h_gbs > 0, latency_ms >= 0",
                      path);
    else if (!cJSON_IsObject(ops))
        st = tp_error(ctx, TP_ERR_IO, "calibration '%s': ops: expected an object keyed by op name", path);
    else {
        const cJSON *it;
        cJSON_ArrayForEach(it, ops)
        {
            tp_op_costs oc;
            memset(&oc, 0, sizeof oc);
            if (!tp_op_find(it->string)) {
                fprintf(stderr, "twinpix: warning: calibration '%s': unknown op '%s' ignored\n", path, it->string);
                continue;
            }
            if (get_cost(it, "cpu", &oc.cpu) || get_cost(it, "cuda", &oc.cuda)) {
                st = tp_error(ctx, TP_ERR_IO,
                              "calibration '%s': ops.%s: expected cpu and cuda {fixed_ms, ns_per_px} >= 0", path,
                              it->string);
                break;
            }
            snprintf(oc.op, sizeof oc.op, "%s", it->string);
            int k;
            for (k = 0; k < c.n && strcmp(c.ops[k].op, oc.op); k++)
                ;
            if (k == c.n && c.n < 64)
                c.n++;
            if (k < 64)
                c.ops[k] = oc;
        }
    }
    cJSON_Delete(root);
    if (!st)
        *out = c;
    return st;
}

tp_status tp_calibration_save(tp_context *ctx, const char *path, const tp_calibration *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "schema_version", TP_CALIBRATION_SCHEMA);
    tp_meta m;
    tp_meta_collect(&m);
    cJSON *meta = cJSON_AddObjectToObject(o, "meta");
    cJSON_AddStringToObject(meta, "version", m.version);
    cJSON_AddStringToObject(meta, "git_commit", m.git_commit);
    cJSON_AddStringToObject(meta, "host_cpu", m.host_cpu);
    cJSON_AddNumberToObject(meta, "host_threads", m.host_threads);
    if (m.gpu_count)
        cJSON_AddStringToObject(meta, "gpu", m.gpu.name);
    else
        cJSON_AddNullToObject(meta, "gpu");
    cJSON *tr = cJSON_AddObjectToObject(o, "transfer");
    cJSON_AddNumberToObject(tr, "h2d_gbs", c->h2d_gbs);
    cJSON_AddNumberToObject(tr, "d2h_gbs", c->d2h_gbs);
    cJSON_AddNumberToObject(tr, "latency_ms", c->transfer_latency_ms);
    cJSON *ops = cJSON_AddObjectToObject(o, "ops");
    for (int i = 0; i < c->n; i++) {
        cJSON *x = cJSON_AddObjectToObject(ops, c->ops[i].op);
        cJSON *cpu = cJSON_AddObjectToObject(x, "cpu"), *cu = cJSON_AddObjectToObject(x, "cuda");
        cJSON_AddNumberToObject(cpu, "fixed_ms", c->ops[i].cpu.fixed_ms);
        cJSON_AddNumberToObject(cpu, "ns_per_px", c->ops[i].cpu.ns_per_px);
        cJSON_AddNumberToObject(cu, "fixed_ms", c->ops[i].cuda.fixed_ms);
        cJSON_AddNumberToObject(cu, "ns_per_px", c->ops[i].cuda.ns_per_px);
    }
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    tp_atomic_file af;
    tp_status st = tp_atomic_open(ctx, path, &af);
    if (!st) {
        fputs(s, af.fp);
        fputc('\n', af.fp);
        st = tp_atomic_commit(ctx, &af);
    }
    cJSON_free(s);
    return st;
}

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static tp_calibration g_cal;
static int g_loaded;

const tp_calibration *tp_calibration_get(void)
{
    pthread_mutex_lock(&g_mu);
    if (!g_loaded) {
        tp_calibration_defaults(&g_cal);
        char path[4096];
        tp_calibration_default_path(path, sizeof path);
        FILE *f = fopen(path, "rb");
        if (f) {
            fclose(f);
            tp_context *ctx = NULL;
            if (tp_context_create(&ctx) == TP_OK) {
                tp_calibration c;
                if (tp_calibration_load(ctx, path, &c) == TP_OK)
                    g_cal = c;
                else
                    fprintf(stderr, "twinpix: warning: %s; using %s\n", tp_last_error(ctx), g_cal.source);
                tp_context_destroy(ctx);
            }
        } else if (getenv("TWINPIX_CALIBRATION") && *getenv("TWINPIX_CALIBRATION")) {
            fprintf(stderr, "twinpix: warning: TWINPIX_CALIBRATION='%s' cannot be opened; using %s\n", path,
                    g_cal.source);
        }
        g_loaded = 1;
    }
    pthread_mutex_unlock(&g_mu);
    return &g_cal;
}

void tp_calibration_reset(void)
{
    pthread_mutex_lock(&g_mu);
    g_loaded = 0;
    pthread_mutex_unlock(&g_mu);
}

static const tp_op_costs *find_costs(const tp_calibration *c, const char *op)
{
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->ops[i].op, op))
            return &c->ops[i];
    return NULL;
}

double tp_predict_cpu_ms(const tp_calibration *c, const char *op, int64_t n)
{
    const tp_op_costs *k = find_costs(c, op);
    return k ? k->cpu.fixed_ms + k->cpu.ns_per_px * (double)n * 1e-6 : INFINITY;
}

double tp_predict_cuda_ms(const tp_calibration *c, const char *op, int64_t n)
{
    const tp_op_costs *k = find_costs(c, op);
    return k ? k->cuda.fixed_ms + k->cuda.ns_per_px * (double)n * 1e-6 : INFINITY;
}

double tp_predict_transfer_ms(const tp_calibration *c, int64_t bytes, int to_device)
{
    double gbs = to_device ? c->h2d_gbs : c->d2h_gbs;
    return c->transfer_latency_ms + (double)bytes / (gbs * 1e6);
}

int64_t tp_calibration_crossover(const char *op, const char **rule)
{
    const tp_calibration *c = tp_calibration_get();
    *rule = c->source;
    if (!find_costs(c, op))
        return -1;
    /* typical single call: 1 byte/px up, 4 bytes/px down; bisect on n */
    int64_t lo = 1, hi = INT64_C(1) << 36;
    double gpu_hi = tp_predict_cuda_ms(c, op, hi) + tp_predict_transfer_ms(c, hi, 1) + tp_predict_transfer_ms(c, 4 * hi, 0);
    if (gpu_hi >= tp_predict_cpu_ms(c, op, hi))
        return -1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        double g = tp_predict_cuda_ms(c, op, mid) + tp_predict_transfer_ms(c, mid, 1) +
                   tp_predict_transfer_ms(c, 4 * mid, 0);
        if (g < tp_predict_cpu_ms(c, op, mid))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

tp_backend_id tp_choose_chain(tp_context *ctx, const char *const *ops, int n_ops, int64_t pixels, int64_t in_bytes,
                              int64_t out_bytes, char *why, size_t why_len)
{
    char reason[256];
    if (!tp_backend_available(TP_BACKEND_CUDA, reason, sizeof reason)) {
        snprintf(why, why_len, "no usable GPU (%s)", reason);
        return TP_BACKEND_CPU;
    }
    const tp_calibration *c = tp_calibration_get();
    double cpu = 0, gpu = tp_predict_transfer_ms(c, in_bytes, 1) + tp_predict_transfer_ms(c, out_bytes, 0);
    for (int i = 0; i < n_ops; i++) {
        const tp_op_desc *d = tp_op_find(ops[i]);
        if (d && !d->impl[TP_BACKEND_CUDA]) {
            snprintf(why, why_len, "%s has no CUDA implementation", ops[i]);
            return TP_BACKEND_CPU;
        }
        cpu += tp_predict_cpu_ms(c, ops[i], pixels);
        gpu += tp_predict_cuda_ms(c, ops[i], pixels);
    }
    tp_backend_id b = gpu < cpu ? TP_BACKEND_CUDA : TP_BACKEND_CPU;
    snprintf(why, why_len, "chain of %d ops on %lld px: predicted cpu %.3f ms, cuda+transfers %.3f ms (%s)", n_ops,
             (long long)pixels, cpu, gpu, c->source);
    (void)ctx;
    return b;
}

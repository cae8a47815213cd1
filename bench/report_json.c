/* bench.json: written from the report (schema twinpix.bench/1, bench/README.md), read back to render its
 * reports again, and read as the older run of --compare-with. */
#include "bench/report_util.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON ---- */

static cJSON *num(double v) { return isnan(v) || isinf(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v); }
static cJSON *count(int64_t v) { return v < 0 ? cJSON_CreateNull() : cJSON_CreateNumber((double)v); }
static cJSON *str_or_null(const char *s) { return s && *s ? cJSON_CreateString(s) : cJSON_CreateNull(); }

static cJSON *shape_json(int ndim, const int64_t *shape)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < ndim; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)shape[i]));
    return a;
}

static cJSON *meta_json(const tp_bench_report *r)
{
    const tp_meta *m = &r->meta;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "version", m->version);
    cJSON_AddStringToObject(o, "git_commit", m->git_commit);
    cJSON_AddStringToObject(o, "build_flags", m->build_flags);
    cJSON_AddStringToObject(o, "host_cpu", m->host_cpu);
    cJSON_AddNumberToObject(o, "host_threads", m->host_threads);
    cJSON_AddStringToObject(o, "hostname", m->hostname);
    cJSON_AddNumberToObject(o, "cpu_threads", r->cpu_threads);
    cJSON_AddStringToObject(o, "date", r->date);
    cJSON_AddStringToObject(o, "argv", r->argv);
    cJSON_AddBoolToObject(o, "quick", r->quick);
    cJSON_AddItemToObject(o, "min_time_s", num(r->min_time_s));
    if (m->gpu_count > 0) {
        cJSON *g = cJSON_CreateObject();
        char drv[32], rt[32], cc[16];
        tp_bench_version_str(m->gpu.driver_version, drv, sizeof drv);
        tp_bench_version_str(m->gpu.runtime_version, rt, sizeof rt);
        snprintf(cc, sizeof cc, "%d.%d", m->gpu.cc_major, m->gpu.cc_minor);
        cJSON_AddStringToObject(g, "name", m->gpu.name);
        cJSON_AddStringToObject(g, "driver", drv);
        cJSON_AddStringToObject(g, "runtime", rt);
        cJSON_AddNumberToObject(g, "sms", m->gpu.sm_count);
        cJSON_AddNumberToObject(g, "memory", (double)m->gpu.total_mem);
        cJSON_AddStringToObject(g, "compute_capability", cc);
        cJSON_AddNumberToObject(g, "l2_bytes", (double)m->gpu.l2_bytes);
        cJSON_AddNumberToObject(g, "count", m->gpu_count);
        cJSON_AddItemToObject(o, "gpu", g);
    } else {
        cJSON_AddNullToObject(o, "gpu");
    }
    cJSON_AddItemToObject(o, "gpu_unavailable_reason", str_or_null(r->gpu_available ? "" : r->gpu_reason));
    cJSON_AddItemToObject(o, "copy_bandwidth_gbs", num(r->copy_bw_gbs));
    cJSON_AddStringToObject(o, "peak_host_method", r->peak_host_method);
    cJSON_AddStringToObject(o, "timing",
                            "median of per-call samples after a warm-up; CPU: monotonic clock around the call; "
                            "cuda: CUDA events around the call, inputs already on the device (rotated copies "
                            "when one call's bytes fit in L2); cuda+transfers: events around H2D + call + D2H "
                            "of pageable host memory (staged through twinpix's pinned buffers unless "
                            "TWINPIX_PINNED_STAGING=0); the pipelines' cuda+transfers: host image in, host table "
                            "out (seed: pageable, the overlay stays on the device; seed-core: the host image "
                            "pinned with tp_image_pin)");
    return o;
}

static cJSON *result_json(const tp_bench_result *e)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "op", e->op);
    cJSON_AddItemToObject(o, "shape", shape_json(e->ndim, e->shape));
    cJSON_AddStringToObject(o, "dtype", e->dtype);
    cJSON_AddStringToObject(o, "backend", tp_bench_backend_name(e->backend));
    cJSON_AddItemToObject(o, "threads", e->threads > 0 ? cJSON_CreateNumber(e->threads) : cJSON_CreateNull());
    cJSON_AddStringToObject(o, "params", e->params);
    cJSON_AddBoolToObject(o, "skipped", e->skipped);
    cJSON_AddItemToObject(o, "skip_reason", str_or_null(e->skipped ? e->skip_reason : ""));
    cJSON_AddItemToObject(o, "median_ms", num(e->t.median_ms));
    cJSON_AddItemToObject(o, "min_ms", num(e->t.min_ms));
    cJSON_AddItemToObject(o, "max_ms", num(e->t.max_ms));
    cJSON_AddItemToObject(o, "stddev_ms", num(e->t.stddev_ms));
    cJSON_AddNumberToObject(o, "samples", (double)e->t.samples);
    cJSON_AddItemToObject(o, "bytes_min", count(e->bytes_min));
    cJSON_AddItemToObject(o, "fraction_of_copy_bw", num(e->fraction_of_copy_bw));
    cJSON_AddItemToObject(o, "h2d_ms", num(e->h2d_ms));
    cJSON_AddItemToObject(o, "d2h_ms", num(e->d2h_ms));
    cJSON_AddItemToObject(o, "peak_device_bytes", count(e->peak_device_bytes));
    cJSON_AddItemToObject(o, "peak_host_bytes", count(e->peak_host_bytes));
    cJSON_AddNumberToObject(o, "input_sets", e->input_sets);
    cJSON_AddItemToObject(o, "regions", count(e->regions));
    return o;
}

static cJSON *speedup_json(const tp_bench_speedup *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "op", s->op);
    cJSON_AddItemToObject(o, "shape", shape_json(s->ndim, s->shape));
    cJSON_AddStringToObject(o, "dtype", s->dtype);
    cJSON_AddItemToObject(o, "cpu_ms", num(s->cpu_ms));
    cJSON_AddItemToObject(o, "gpu_ms", num(s->gpu_ms));
    cJSON_AddItemToObject(o, "gpu_with_transfers_ms", num(s->gpu_with_transfers_ms));
    cJSON_AddItemToObject(o, "speedup", num(s->speedup));
    cJSON_AddItemToObject(o, "speedup_with_transfers", num(s->speedup_with_transfers));
    return o;
}

static cJSON *pipeline_json(const tp_bench_pipeline_result *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", p->name);
    cJSON_AddItemToObject(o, "shape", shape_json(p->ndim, p->shape));
    cJSON_AddStringToObject(o, "dtype", p->dtype);
    cJSON_AddStringToObject(o, "backend", tp_bench_backend_name(p->backend));
    cJSON_AddItemToObject(o, "threads", p->threads > 0 ? cJSON_CreateNumber(p->threads) : cJSON_CreateNull());
    cJSON_AddBoolToObject(o, "skipped", p->skipped);
    cJSON_AddItemToObject(o, "skip_reason", str_or_null(p->skipped ? p->skip_reason : ""));
    cJSON *st = cJSON_AddArrayToObject(o, "stages");
    for (int k = 0; k < p->nstages; k++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "name", p->stages[k].name);
        cJSON_AddItemToObject(s, "ms", num(p->stages[k].ms));
        cJSON_AddItemToArray(st, s);
    }
    cJSON_AddItemToObject(o, "total_ms", num(p->total.median_ms));
    cJSON_AddItemToObject(o, "min_ms", num(p->total.min_ms));
    cJSON_AddItemToObject(o, "max_ms", num(p->total.max_ms));
    cJSON_AddItemToObject(o, "stddev_ms", num(p->total.stddev_ms));
    cJSON_AddNumberToObject(o, "samples", (double)p->total.samples);
    cJSON_AddItemToObject(o, "peak_device_bytes", count(p->peak_device_bytes));
    cJSON_AddItemToObject(o, "peak_host_bytes", count(p->peak_host_bytes));
    cJSON_AddItemToObject(o, "io", str_or_null(p->io));
    cJSON_AddItemToObject(o, "overlay_d2h_ms", num(p->overlay_d2h_ms));
    cJSON_AddItemToObject(o, "overlay_bytes", count(p->overlay_bytes));
    return o;
}

/* PERFORMANCE.md's targets judged on this run's results (bench/targets.c). Derived, not stored: --render and
 * the loader compute them again from the results. */
static cJSON *target_json(const tp_bench_report *r, const tp_bench_target *t)
{
    tp_bench_target_eval e;
    tp_bench_target_evaluate(r, t, &e);
    char label[96];
    tp_bench_case_label(t->name, t->regions, label, sizeof label);
    int64_t shape[3] = {t->side, t->side, t->side};
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "what", t->what);
    cJSON_AddStringToObject(o, "kind", t->pipeline ? "pipeline" : "op");
    cJSON_AddStringToObject(o, "name", label);
    cJSON_AddItemToObject(o, "shape", shape_json(tp_bench_target_ndim(t), shape));
    cJSON_AddStringToObject(o, "dtype", t->dtype);
    cJSON_AddStringToObject(o, "backend", tp_bench_backend_name(t->backend));
    cJSON_AddItemToObject(o, "params", t->params ? cJSON_CreateString(t->params) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "io", str_or_null(t->io));
    cJSON_AddStringToObject(o, "metric", tp_bench_metric_name(t->metric));
    cJSON_AddStringToObject(o, "rule", t->rule == TP_BENCH_RULE_BELOW ? "below" : "at_most");
    cJSON_AddItemToObject(o, "target", num(t->target));
    cJSON_AddItemToObject(o, "measured", num(e.measured));
    cJSON_AddItemToObject(o, "ratio", num(e.ratio));
    cJSON_AddStringToObject(o, "status", tp_bench_target_status_name(e.status));
    cJSON_AddItemToObject(o, "reason", str_or_null(e.reason));
    cJSON_AddItemToObject(o, "threads", e.threads > 0 ? cJSON_CreateNumber(e.threads) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "regions", count(e.regions));
    cJSON_AddStringToObject(o, "peer", t->peer);
    cJSON_AddStringToObject(o, "bound", t->bound);
    cJSON_AddStringToObject(o, "how", t->how);
    return o;
}

static cJSON *comparison_json(const tp_bench_report *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "against", r->compare_path);
    cJSON_AddNumberToObject(o, "band", r->compare_band);
    cJSON *a = cJSON_AddArrayToObject(o, "entries");
    for (int i = 0; i < r->ndeltas; i++) {
        const tp_bench_delta *d = &r->deltas[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "kind", d->kind);
        cJSON_AddStringToObject(e, "op", d->op);
        cJSON_AddItemToObject(e, "shape", shape_json(d->ndim, d->shape));
        cJSON_AddStringToObject(e, "dtype", d->dtype);
        cJSON_AddStringToObject(e, "backend", d->backend);
        cJSON_AddItemToObject(e, "old_ms", num(d->old_ms));
        cJSON_AddItemToObject(e, "new_ms", num(d->new_ms));
        cJSON_AddItemToObject(e, "ratio", num(d->ratio));
        cJSON_AddStringToObject(e, "verdict", tp_bench_verdict_name(d->verdict));
        cJSON_AddItemToArray(a, e);
    }
    return o;
}

static cJSON *report_json(const tp_bench_report *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema_version", TP_BENCH_SCHEMA);
    cJSON_AddItemToObject(root, "meta", meta_json(r));
    cJSON *a = cJSON_AddArrayToObject(root, "results");
    for (int i = 0; i < r->nresults; i++)
        cJSON_AddItemToArray(a, result_json(&r->results[i]));
    a = cJSON_AddArrayToObject(root, "speedups");
    for (int i = 0; i < r->nspeedups; i++)
        cJSON_AddItemToArray(a, speedup_json(&r->speedups[i]));
    a = cJSON_AddArrayToObject(root, "crossovers");
    for (int i = 0; i < r->ncrossovers; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "op", r->crossovers[i].op);
        cJSON_AddStringToObject(c, "dtype", r->crossovers[i].dtype);
        cJSON_AddItemToObject(c, "pixels", count(r->crossovers[i].pixels));
        cJSON_AddNumberToObject(c, "points", r->crossovers[i].points);
        cJSON_AddStringToObject(c, "basis", "cuda+transfers vs cpu-Nt median");
        cJSON_AddItemToArray(a, c);
    }
    a = cJSON_AddArrayToObject(root, "pipeline");
    for (int i = 0; i < r->npipelines; i++)
        cJSON_AddItemToArray(a, pipeline_json(&r->pipelines[i]));
    int nt;
    const tp_bench_target *t = tp_bench_targets(&nt);
    a = cJSON_AddArrayToObject(root, "targets");
    for (int i = 0; i < nt; i++)
        cJSON_AddItemToArray(a, target_json(r, &t[i]));
    if (r->compare_path[0])
        cJSON_AddItemToObject(root, "comparison", comparison_json(r));
    return root;
}

static tp_status write_text(tp_context *ctx, const char *path, const char *text)
{
    tp_atomic_file af;
    tp_status st = tp_bench_open_report(ctx, path, &af);
    if (st)
        return st;
    if (fputs(text, af.fp) < 0) {
        tp_atomic_abort(&af);
        return tp_error(ctx, TP_ERR_IO, "cannot write '%s'", path);
    }
    return tp_atomic_commit(ctx, &af);
}

tp_status tp_bench_write_json(tp_context *ctx, const tp_bench_report *r, const char *path)
{
    cJSON *root = report_json(r);
    char *text = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return tp_error(ctx, TP_ERR_NOMEM, "bench: out of host memory writing %s", path);
    size_t n = strlen(text);
    char *withnl = malloc(n + 2);
    tp_status st;
    if (!withnl) {
        st = tp_error(ctx, TP_ERR_NOMEM, "bench: out of host memory writing %s", path);
    } else {
        memcpy(withnl, text, n);
        withnl[n] = '\n';
        withnl[n + 1] = 0;
        st = write_text(ctx, path, withnl);
    }
    free(withnl);
    cJSON_free(text);
    return st;
}

/* ---- comparison with an older bench.json ---- */

static int json_shape(const cJSON *a, int *ndim, int64_t *shape)
{
    int n = cJSON_GetArraySize(a);
    if (!cJSON_IsArray(a) || n < 1 || n > 3)
        return -1;
    for (int i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetArrayItem(a, i);
        if (!cJSON_IsNumber(v))
            return -1;
        shape[i] = (int64_t)v->valuedouble;
    }
    *ndim = n;
    return 0;
}

static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double json_num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static void set_ratio(tp_bench_delta *d, double band)
{
    d->ratio = d->new_ms / d->old_ms;
    d->verdict = d->ratio < 1.0 - band ? -1 : d->ratio > 1.0 + band ? 1 : 0;
}

static char *read_file(tp_context *ctx, const char *path)
{
    char *buf = NULL;
    tp_status st = tp_read_text_file(ctx, path, 0, &buf, NULL);
    if (st) { /* keep the reader's reason, say which option it was for; callers return TP_ERR_IO */
        char msg[TP_ERRMSG_LEN];
        snprintf(msg, sizeof msg, "%s", tp_last_error(ctx));
        tp_error(ctx, st, "compare-with: %s", msg);
    }
    return buf;
}

static tp_status compare_results(tp_bench_report *r, const cJSON *old, int *cap)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(old, "results"))
    {
        int ndim;
        int64_t shape[3] = {0, 0, 0};
        double old_ms = json_num(e, "median_ms");
        if (isnan(old_ms) || old_ms <= 0 || json_shape(cJSON_GetObjectItemCaseSensitive(e, "shape"), &ndim, shape))
            continue;
        for (int i = 0; i < r->nresults; i++) {
            const tp_bench_result *n = &r->results[i];
            if (n->skipped || isnan(n->t.median_ms) || strcmp(n->op, json_str(e, "op")) ||
                strcmp(n->dtype, json_str(e, "dtype")) || strcmp(tp_bench_backend_name(n->backend), json_str(e, "backend")) ||
                n->ndim != ndim || memcmp(n->shape, shape, (size_t)ndim * sizeof *shape))
                continue;
            tp_bench_delta *d = tp_bench_add_delta(r, cap);
            if (!d)
                return TP_ERR_NOMEM;
            snprintf(d->kind, sizeof d->kind, "op");
            snprintf(d->op, sizeof d->op, "%s", n->op);
            d->ndim = ndim;
            memcpy(d->shape, shape, sizeof d->shape);
            snprintf(d->dtype, sizeof d->dtype, "%s", n->dtype);
            snprintf(d->backend, sizeof d->backend, "%s", tp_bench_backend_name(n->backend));
            d->old_ms = old_ms;
            d->new_ms = n->t.median_ms;
            set_ratio(d, r->compare_band);
            break;
        }
    }
    return TP_OK;
}

static tp_status compare_pipelines(tp_bench_report *r, const cJSON *old, int *cap)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(old, "pipeline"))
    {
        int ndim;
        int64_t shape[3] = {0, 0, 0};
        double old_ms = json_num(e, "total_ms");
        if (isnan(old_ms) || old_ms <= 0 || json_shape(cJSON_GetObjectItemCaseSensitive(e, "shape"), &ndim, shape))
            continue;
        for (int i = 0; i < r->npipelines; i++) {
            const tp_bench_pipeline_result *n = &r->pipelines[i];
            /* "io" must match too: an older cuda+transfers run (no "io") brought every output back to the
             * host, a different measurement from host image in, host table out */
            if (n->skipped || isnan(n->total.median_ms) || strcmp(n->name, json_str(e, "name")) ||
                strcmp(tp_bench_backend_name(n->backend), json_str(e, "backend")) || strcmp(n->io, json_str(e, "io")) ||
                n->ndim != ndim ||
                memcmp(n->shape, shape, (size_t)ndim * sizeof *shape))
                continue;
            tp_bench_delta *d = tp_bench_add_delta(r, cap);
            if (!d)
                return TP_ERR_NOMEM;
            snprintf(d->kind, sizeof d->kind, "pipeline");
            snprintf(d->op, sizeof d->op, "pipeline:%s", n->name);
            d->ndim = ndim;
            memcpy(d->shape, shape, sizeof d->shape);
            snprintf(d->dtype, sizeof d->dtype, "%s", n->dtype);
            snprintf(d->backend, sizeof d->backend, "%s", tp_bench_backend_name(n->backend));
            d->old_ms = old_ms;
            d->new_ms = n->total.median_ms;
            set_ratio(d, r->compare_band);
            break;
        }
    }
    return TP_OK;
}

tp_status tp_bench_report_compare(tp_context *ctx, tp_bench_report *r, const char *old_json_path)
{
    char *text = read_file(ctx, old_json_path);
    if (!text)
        return TP_ERR_IO;
    cJSON *old = cJSON_Parse(text);
    free(text);
    if (!old)
        return tp_error(ctx, TP_ERR_IO, "compare-with: '%s' is not JSON", old_json_path);
    if (strcmp(json_str(old, "schema_version"), TP_BENCH_SCHEMA)) {
        tp_error(ctx, TP_ERR_IO, "compare-with: '%s': expected schema_version %s, got '%s'", old_json_path,
                 TP_BENCH_SCHEMA, json_str(old, "schema_version"));
        cJSON_Delete(old);
        return TP_ERR_IO;
    }
    free(r->deltas);
    r->deltas = NULL;
    r->ndeltas = 0;
    int cap = 0;
    tp_status st = compare_results(r, old, &cap);
    if (!st)
        st = compare_pipelines(r, old, &cap);
    cJSON_Delete(old);
    if (st)
        return tp_error(ctx, st, "compare-with: out of host memory");
    snprintf(r->compare_path, sizeof r->compare_path, "%s", old_json_path);
    return TP_OK;
}

/* ---- loading a bench.json back (to render its reports again) ---- */

static void json_copy(char *dst, size_t n, const cJSON *o, const char *key)
{
    snprintf(dst, n, "%s", json_str(o, key));
}

static int64_t json_count(const cJSON *o, const char *key)
{
    double v = json_num(o, key);
    return isnan(v) ? -1 : (int64_t)v;
}

static int parse_version(const char *s)
{
    int major = 0, minor = 0;
    return sscanf(s, "%d.%d", &major, &minor) == 2 ? major * 1000 + minor * 10 : 0;
}

static void load_meta(tp_bench_report *r, const cJSON *m)
{
    tp_meta *t = &r->meta;
    json_copy(t->version, sizeof t->version, m, "version");
    json_copy(t->git_commit, sizeof t->git_commit, m, "git_commit");
    json_copy(t->build_flags, sizeof t->build_flags, m, "build_flags");
    json_copy(t->host_cpu, sizeof t->host_cpu, m, "host_cpu");
    json_copy(t->hostname, sizeof t->hostname, m, "hostname");
    t->host_threads = (int)json_count(m, "host_threads");
    r->cpu_threads = (int)json_count(m, "cpu_threads");
    json_copy(r->date, sizeof r->date, m, "date");
    json_copy(r->argv, sizeof r->argv, m, "argv");
    r->quick = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "quick"));
    r->min_time_s = json_num(m, "min_time_s");
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(m, "gpu");
    if (cJSON_IsObject(g)) {
        t->gpu_count = (int)json_count(g, "count");
        json_copy(t->gpu.name, sizeof t->gpu.name, g, "name");
        t->gpu.driver_version = parse_version(json_str(g, "driver"));
        t->gpu.runtime_version = parse_version(json_str(g, "runtime"));
        t->gpu.sm_count = (int)json_count(g, "sms");
        t->gpu.total_mem = json_count(g, "memory");
        t->gpu.l2_bytes = json_count(g, "l2_bytes");
        sscanf(json_str(g, "compute_capability"), "%d.%d", &t->gpu.cc_major, &t->gpu.cc_minor);
    }
    json_copy(r->gpu_reason, sizeof r->gpu_reason, m, "gpu_unavailable_reason");
    r->gpu_available = t->gpu_count > 0 && !r->gpu_reason[0];
    r->copy_bw_gbs = json_num(m, "copy_bandwidth_gbs");
    json_copy(r->peak_host_method, sizeof r->peak_host_method, m, "peak_host_method");
}

static tp_status load_results(tp_bench_report *r, const cJSON *a)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        tp_bench_result *x = tp_bench_report_add_result(r);
        if (!x)
            return TP_ERR_NOMEM;
        json_copy(x->op, sizeof x->op, e, "op");
        json_shape(cJSON_GetObjectItemCaseSensitive(e, "shape"), &x->ndim, x->shape);
        json_copy(x->dtype, sizeof x->dtype, e, "dtype");
        tp_bench_backend_parse(json_str(e, "backend"), &x->backend);
        x->threads = (int)json_count(e, "threads");
        json_copy(x->params, sizeof x->params, e, "params");
        x->skipped = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "skipped"));
        json_copy(x->skip_reason, sizeof x->skip_reason, e, "skip_reason");
        x->t.median_ms = json_num(e, "median_ms");
        x->t.min_ms = json_num(e, "min_ms");
        x->t.max_ms = json_num(e, "max_ms");
        x->t.stddev_ms = json_num(e, "stddev_ms");
        x->t.samples = json_count(e, "samples");
        x->bytes_min = json_count(e, "bytes_min");
        x->fraction_of_copy_bw = json_num(e, "fraction_of_copy_bw");
        x->h2d_ms = json_num(e, "h2d_ms");
        x->d2h_ms = json_num(e, "d2h_ms");
        x->peak_device_bytes = json_count(e, "peak_device_bytes");
        x->peak_host_bytes = json_count(e, "peak_host_bytes");
        x->input_sets = (int)json_count(e, "input_sets");
        x->regions = json_count(e, "regions");
    }
    return TP_OK;
}

static tp_status load_pipelines(tp_bench_report *r, const cJSON *a)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, a)
    {
        tp_bench_pipeline_result *p = tp_bench_report_add_pipeline(r);
        if (!p)
            return TP_ERR_NOMEM;
        json_copy(p->name, sizeof p->name, e, "name");
        json_shape(cJSON_GetObjectItemCaseSensitive(e, "shape"), &p->ndim, p->shape);
        json_copy(p->dtype, sizeof p->dtype, e, "dtype");
        tp_bench_backend_parse(json_str(e, "backend"), &p->backend);
        p->threads = (int)json_count(e, "threads");
        p->skipped = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "skipped"));
        json_copy(p->skip_reason, sizeof p->skip_reason, e, "skip_reason");
        const cJSON *st;
        cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(e, "stages"))
        {
            if (p->nstages == TP_BENCH_MAX_STAGES)
                break;
            json_copy(p->stages[p->nstages].name, sizeof p->stages[p->nstages].name, st, "name");
            p->stages[p->nstages++].ms = json_num(st, "ms");
        }
        p->total.median_ms = json_num(e, "total_ms");
        p->total.min_ms = json_num(e, "min_ms");
        p->total.max_ms = json_num(e, "max_ms");
        p->total.stddev_ms = json_num(e, "stddev_ms");
        p->total.samples = json_count(e, "samples");
        p->peak_device_bytes = json_count(e, "peak_device_bytes");
        p->peak_host_bytes = json_count(e, "peak_host_bytes");
        json_copy(p->io, sizeof p->io, e, "io");
        p->overlay_d2h_ms = json_num(e, "overlay_d2h_ms");
        p->overlay_bytes = json_count(e, "overlay_bytes");
    }
    return TP_OK;
}

static tp_status load_comparison(tp_bench_report *r, const cJSON *c)
{
    if (!cJSON_IsObject(c))
        return TP_OK;
    json_copy(r->compare_path, sizeof r->compare_path, c, "against");
    r->compare_band = json_num(c, "band");
    int cap = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c, "entries"))
    {
        tp_bench_delta *d = tp_bench_add_delta(r, &cap);
        if (!d)
            return TP_ERR_NOMEM;
        json_copy(d->kind, sizeof d->kind, e, "kind");
        json_copy(d->op, sizeof d->op, e, "op");
        json_shape(cJSON_GetObjectItemCaseSensitive(e, "shape"), &d->ndim, d->shape);
        json_copy(d->dtype, sizeof d->dtype, e, "dtype");
        json_copy(d->backend, sizeof d->backend, e, "backend");
        d->old_ms = json_num(e, "old_ms");
        d->new_ms = json_num(e, "new_ms");
        d->ratio = json_num(e, "ratio");
        const char *v = json_str(e, "verdict");
        d->verdict = !strcmp(v, "faster") ? -1 : !strcmp(v, "slower") ? 1 : 0;
    }
    return TP_OK;
}

tp_status tp_bench_report_load(tp_context *ctx, tp_bench_report *r, const char *path)
{
    tp_bench_report_init(r);
    char *text = read_file(ctx, path);
    if (!text)
        return TP_ERR_IO;
    cJSON *doc = cJSON_Parse(text);
    free(text);
    if (!doc)
        return tp_error(ctx, TP_ERR_IO, "'%s' is not JSON", path);
    if (strcmp(json_str(doc, "schema_version"), TP_BENCH_SCHEMA)) {
        tp_error(ctx, TP_ERR_IO, "'%s': expected schema_version %s, got '%s'", path, TP_BENCH_SCHEMA,
                 json_str(doc, "schema_version"));
        cJSON_Delete(doc);
        return TP_ERR_IO;
    }
    load_meta(r, cJSON_GetObjectItemCaseSensitive(doc, "meta"));
    tp_status st = load_results(r, cJSON_GetObjectItemCaseSensitive(doc, "results"));
    if (!st)
        st = load_pipelines(r, cJSON_GetObjectItemCaseSensitive(doc, "pipeline"));
    if (!st)
        st = load_comparison(r, cJSON_GetObjectItemCaseSensitive(doc, "comparison"));
    if (!st)
        st = tp_bench_report_derive(r);
    cJSON_Delete(doc);
    if (st) {
        tp_bench_report_free(r);
        return tp_error(ctx, st, "'%s': out of host memory", path);
    }
    return TP_OK;
}

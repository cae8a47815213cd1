/* Pipelines: a chain of ops described in a small JSON file (compare/README.md), run stage by stage on both
 * backends. The CUDA chain stays on the device from the single upload of the input to the last stage, as a
 * user's pipeline would (a scalar like Otsu's threshold included); each stage's output is downloaded only
 * to be judged. A mismatch names the first stage whose output differs. */
#include "compare/compare.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Kept identical to compare/pipelines/seed.json (tests/test_compare.c checks it). */
static const char seed_json[] =
    "{\"name\": \"seed\",\n"
    " \"description\": \"The seed tutorial (cuCIM blog): one channel, gaussian sigma=5, Otsu's threshold kept on "
    "the device, erosion with disk(2), labels, their colouring, and the measurements\",\n"
    " \"steps\": [\n"
    "  {\"op\": \"extract_channel\", \"when\": \"channels\", \"params\": {\"channel\": \"1\"}, \"inputs\": "
    "[\"$input\"], \"as\": \"channel\"},\n"
    "  {\"op\": \"gaussian\", \"params\": {\"sigma\": \"5\"}, \"inputs\": [\"$channel\"], \"as\": \"blurred\"},\n"
    "  {\"op\": \"threshold_otsu\", \"inputs\": [\"$blurred\"], \"as\": \"t\"},\n"
    "  {\"op\": \"threshold\", \"params\": {\"threshold\": \"$t\"}, \"inputs\": [\"$blurred\"], \"as\": "
    "\"binary\"},\n"
    "  {\"op\": \"binary_erosion\", \"params\": {\"footprint\": \"disk:2\"}, \"inputs\": [\"$binary\"], \"as\": "
    "\"eroded\"},\n"
    "  {\"op\": \"label\", \"inputs\": [\"$eroded\"], \"as\": \"labels\"},\n"
    "  {\"op\": \"label2rgb\", \"inputs\": [\"$labels\"], \"as\": \"overlay\"},\n"
    "  {\"op\": \"regionprops_table\", \"params\": {\"properties\": \"label,area,intensity_mean,solidity\"},\n"
    "   \"inputs\": [\"$labels\", \"$channel\"], \"as\": \"table\"}\n"
    " ]}\n";

const char *tp_pipeline_seed_json(void) { return seed_json; }

/* ---- parsing ---- */

static bool good_name(const char *s)
{
    if (!*s || strlen(s) >= 64)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
            return false;
    return true;
}

/* Index of a step output or "input" (-1) defined before step `upto`; -2 when unknown. */
static int find_ref(const tp_pipeline *p, int upto, const char *name)
{
    if (strcmp(name, "input") == 0)
        return -1;
    for (int k = upto - 1; k >= 0; k--)
        if (strcmp(p->steps[k].as, name) == 0)
            return k;
    return -2;
}

#define PERR(...) tp_error(ctx, TP_ERR_ARG, __VA_ARGS__)

static tp_status parse_params(tp_context *ctx, const tp_pipeline *p, int k, const cJSON *params, tp_pipe_step *s,
                              const tp_op_desc *op)
{
    if (!params)
        return TP_OK;
    if (!cJSON_IsObject(params))
        return PERR("pipeline '%s': step %d (%s): params: expected an object", p->name, k, s->op);
    const cJSON *v;
    cJSON_ArrayForEach (v, params) {
        if (s->n_params == TP_PIPE_MAX_PARAMS)
            return PERR("pipeline '%s': step %d (%s): params: at most %d", p->name, k, s->op, TP_PIPE_MAX_PARAMS);
        bool known = false;
        for (int i = 0; i < op->n_params; i++)
            known |= strcmp(op->params[i].name, v->string) == 0;
        if (!known || strlen(v->string) >= 64)
            return PERR("pipeline '%s': step %d (%s): params: unknown parameter '%s'", p->name, k, s->op, v->string);
        char *val = s->pval[s->n_params];
        size_t vl = sizeof s->pval[0];
        if (cJSON_IsString(v) && strlen(v->valuestring) < vl)
            snprintf(val, vl, "%s", v->valuestring);
        else if (cJSON_IsNumber(v))
            snprintf(val, vl, "%.17g", v->valuedouble);
        else if (cJSON_IsBool(v))
            snprintf(val, vl, "%s", cJSON_IsTrue(v) ? "true" : "false");
        else
            return PERR("pipeline '%s': step %d (%s): params: %s: expected a string, number or boolean", p->name, k,
                        s->op, v->string);
        if (val[0] == '$' && find_ref(p, k, val + 1) < -1)
            return PERR("pipeline '%s': step %d (%s): params: %s: '%s' names no earlier step", p->name, k, s->op,
                        v->string, val);
        snprintf(s->pname[s->n_params++], sizeof s->pname[0], "%s", v->string);
    }
    return TP_OK;
}

static tp_status parse_inputs(tp_context *ctx, const tp_pipeline *p, int k, const cJSON *inputs, tp_pipe_step *s,
                              const tp_op_desc *op)
{
    int required = 0;
    for (int i = 0; i < op->n_inputs; i++)
        required += op->inputs[i].required;
    int n = cJSON_IsArray(inputs) ? cJSON_GetArraySize(inputs) : -1;
    if (n < required || n > op->n_inputs || n > 4)
        return PERR("pipeline '%s': step %d (%s): inputs: expected an array of %d to %d \"$name\" strings", p->name, k,
                    s->op, required, op->n_inputs);
    const cJSON *v;
    cJSON_ArrayForEach (v, inputs) {
        if (!cJSON_IsString(v) || v->valuestring[0] != '$' || find_ref(p, k, v->valuestring + 1) < -1)
            return PERR("pipeline '%s': step %d (%s): inputs: expected \"$input\" or \"$name\" of an earlier step, "
                        "got %s",
                        p->name, k, s->op, cJSON_IsString(v) ? v->valuestring : "a non-string");
        snprintf(s->inputs[s->n_inputs++], sizeof s->inputs[0], "%s", v->valuestring + 1);
    }
    return TP_OK;
}

static tp_status parse_step(tp_context *ctx, tp_pipeline *p, int k, const cJSON *js)
{
    tp_pipe_step *s = &p->steps[k];
    memset(s, 0, sizeof *s);
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(js, "op"), *as = cJSON_GetObjectItemCaseSensitive(js, "as");
    const cJSON *when = cJSON_GetObjectItemCaseSensitive(js, "when");
    if (!cJSON_IsObject(js) || !cJSON_IsString(op))
        return PERR("pipeline '%s': step %d: expected an object with \"op\"", p->name, k);
    const tp_op_desc *d = tp_op_find(op->valuestring);
    if (!d)
        return PERR("pipeline '%s': step %d: unknown op '%s'", p->name, k, op->valuestring);
    snprintf(s->op, sizeof s->op, "%s", d->name);
    if (!cJSON_IsString(as) || !good_name(as->valuestring) || strcmp(as->valuestring, "input") == 0 ||
        find_ref(p, k, as->valuestring) >= 0)
        return PERR("pipeline '%s': step %d (%s): as: expected a new name of letters, digits, '_' or '-'", p->name, k,
                    s->op);
    snprintf(s->as, sizeof s->as, "%s", as->valuestring);
    if (when && (!cJSON_IsString(when) || strcmp(when->valuestring, "channels") != 0))
        return PERR("pipeline '%s': step %d (%s): when: expected \"channels\"", p->name, k, s->op);
    if (when)
        snprintf(s->when, sizeof s->when, "channels");
    tp_status st = parse_inputs(ctx, p, k, cJSON_GetObjectItemCaseSensitive(js, "inputs"), s, d);
    if (!st)
        st = parse_params(ctx, p, k, cJSON_GetObjectItemCaseSensitive(js, "params"), s, d);
    return st;
}

static tp_status parse_one(tp_context *ctx, const cJSON *js, tp_pipeline *p)
{
    memset(p, 0, sizeof *p);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(js, "name");
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(js, "description");
    const cJSON *steps = cJSON_GetObjectItemCaseSensitive(js, "steps");
    if (!cJSON_IsObject(js) || !cJSON_IsString(name) || !good_name(name->valuestring))
        return PERR("pipeline: expected an object with a \"name\" of letters, digits, '_' or '-'");
    snprintf(p->name, sizeof p->name, "%s", name->valuestring);
    if (cJSON_IsString(desc))
        snprintf(p->description, sizeof p->description, "%s", desc->valuestring);
    int n = cJSON_IsArray(steps) ? cJSON_GetArraySize(steps) : 0;
    if (n < 1 || n > TP_PIPE_MAX_STEPS)
        return PERR("pipeline '%s': steps: expected an array of 1 to %d steps", p->name, TP_PIPE_MAX_STEPS);
    for (int k = 0; k < n; k++) {
        tp_status st = parse_step(ctx, p, k, cJSON_GetArrayItem(steps, k));
        if (st)
            return st;
        p->n_steps = k + 1;
    }
    return TP_OK;
}

tp_status tp_pipeline_parse(tp_context *ctx, const char *json, tp_pipeline *out, int max, int *n)
{
    *n = 0;
    cJSON *root = cJSON_Parse(json);
    if (!root)
        return PERR("pipeline: not valid JSON near '%.40s'", cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
    const cJSON *list = cJSON_IsArray(root) ? root : cJSON_GetObjectItemCaseSensitive(root, "pipelines");
    tp_status st = TP_OK;
    if (list) {
        if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > max)
            st = PERR("pipeline: expected an array of at most %d pipelines", max);
        const cJSON *p;
        if (!st)
            cJSON_ArrayForEach (p, list) {
                if ((st = parse_one(ctx, p, &out[*n])))
                    break;
                ++*n;
            }
    } else if (max > 0 && !(st = parse_one(ctx, root, &out[0]))) {
        *n = 1;
    }
    cJSON_Delete(root);
    return st;
}

tp_status tp_pipeline_load(tp_context *ctx, const char *path, tp_pipeline *out, int max, int *n)
{
    *n = 0;
    char *buf = NULL;
    tp_status rst = tp_read_text_file(ctx, path, 0, &buf, NULL);
    if (rst) {
        char msg[TP_ERRMSG_LEN];
        snprintf(msg, sizeof msg, "%s", tp_last_error(ctx));
        return tp_error(ctx, rst, "pipeline: %s", msg);
    }
    tp_status st = tp_pipeline_parse(ctx, buf, out, max, n);
    free(buf);
    if (st && st != TP_ERR_NOMEM) {
        char msg[TP_ERRMSG_LEN];
        snprintf(msg, sizeof msg, "%s", tp_last_error(ctx));
        tp_error(ctx, st, "%s: %s", path, msg);
    }
    return st;
}

/* ---- running ---- */

typedef struct slot {
    int alias;          /* >= 0: this step was skipped; its name stands for slot `alias` */
    tp_result cpu, gpu; /* gpu: device-resident (CUDA) or host (fault twin) */
    bool ran;
} slot;

typedef struct chain {
    tp_cmp_run *run;
    const tp_pipeline *p;
    slot s[TP_PIPE_MAX_STEPS + 1]; /* s[0] is the input */
    int sd;                        /* spatial dimensions of the input (parameter adaptation) */
    bool gpu_side, twin;
    double cpu_ms, gpu_ms;
    int perturb_at; /* fault injection: the step whose twin output is corrupted; -2: the first that runs */
    bool perturbed;
} chain;

static int slot_of(const chain *c, int upto, const char *name)
{
    int k = find_ref(c->p, upto, name) + 1;
    while (k > 0 && c->s[k].alias >= 0)
        k = c->s[k].alias;
    return k;
}

typedef struct pbuild {
    tp_params *cpu, *gpu;
} pbuild;

/* The "$name" parameters: an earlier output, the host one for the CPU, the device-resident one for CUDA. */
static tp_status set_ref_params(const chain *c, int k, tp_params *pc, tp_params *pg)
{
    const tp_pipe_step *s = &c->p->steps[k];
    for (int i = 0; i < s->n_params; i++) {
        if (s->pval[i][0] != '$')
            continue;
        const slot *r = &c->s[slot_of(c, k, s->pval[i] + 1)];
        if (tp_params_set_image(pc, s->pname[i], &r->cpu.image) ||
            (pg && tp_params_set_image(pg, s->pname[i], &r->gpu.image)))
            return TP_ERR_ARG;
    }
    return TP_OK;
}

static int set_text_param(void *user, const char *name, const char *value)
{
    pbuild *b = user;
    if (value[0] == '$')
        return 0;
    return tp_params_set(b->cpu, name, value) || (b->gpu && tp_params_set(b->gpu, name, value));
}

/* The step's text parameters as "a=b;c=d", adapted to the input's dimensions (references kept). */
static void step_params(const chain *c, int k, char *out, size_t len)
{
    const tp_pipe_step *s = &c->p->steps[k];
    char raw[TP_CMP_PARAMS_LEN] = "";
    for (int i = 0; i < s->n_params; i++) {
        size_t u = strlen(raw);
        snprintf(raw + u, sizeof raw - u, "%s%s=%s", i ? ";" : "", s->pname[i], s->pval[i]);
    }
    tp_cmp_params_adapt(tp_op_find(s->op), raw, c->sd, out, len);
}

static cJSON *stage_json(const chain *c, int k, const char *params)
{
    const tp_pipe_step *s = &c->p->steps[k];
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    cJSON_AddNumberToObject(j, "step", k);
    cJSON_AddStringToObject(j, "op", s->op);
    cJSON_AddStringToObject(j, "as", s->as);
    cJSON_AddItemToObject(j, "params", tp_cmp_params_json(params));
    cJSON_AddItemToObject(j, "contract", tp_cmp_contract_json(&tp_op_find(s->op)->contract));
    return j;
}

static tp_status download(tp_context *ctx, const tp_result *r, tp_result *host)
{
    *host = *r;
    host->image = tp_image_empty();
    host->table = r->table;
    if (r->kind == TP_OUT_TABLE || !r->image.data)
        return TP_OK;
    if (r->image.location == TP_HOST) {
        host->image = r->image;
        return TP_OK;
    }
    return tp_image_copy(ctx, &r->image, &host->image, TP_HOST);
}

/* Run step k on both sides; returns false when the chain cannot go on. */
static bool run_step(chain *c, int k, cJSON *j)
{
    tp_cmp_run *run = c->run;
    const tp_pipe_step *s = &c->p->steps[k];
    slot *out = &c->s[k + 1];
    char params[TP_CMP_PARAMS_LEN];
    step_params(c, k, params, sizeof params);
    const tp_image *cin[4] = {0}, *gin[4] = {0};
    for (int i = 0; i < s->n_inputs; i++) {
        slot *r = &c->s[slot_of(c, k, s->inputs[i])];
        cin[i] = &r->cpu.image;
        gin[i] = &r->gpu.image;
    }
    tp_params *pc = NULL, *pg = NULL;
    pbuild b = {NULL, NULL};
    bool ok = !tp_params_create(&pc) && (!c->gpu_side || !tp_params_create(&pg));
    b.cpu = pc, b.gpu = pg;
    ok = ok && !tp_cmp_params_each(params, set_text_param, &b) && !set_ref_params(c, k, pc, pg);
    if (!ok) {
        tp_cmp_set_verdict(j, "fail", NULL, "params: cannot hold the step's parameters");
        tp_params_destroy(pc);
        tp_params_destroy(pg);
        return false;
    }
    char cerr[TP_ERRMSG_LEN] = "", gerr[TP_ERRMSG_LEN] = "";
    double t0 = tp_cmp_now_ms();
    tp_status cst = tp_run_on(run->ctx, TP_BACKEND_CPU, s->op, cin, s->n_inputs, pc, &out->cpu);
    double cpu_ms = tp_cmp_now_ms() - t0, gpu_ms = NAN;
    if (cst)
        snprintf(cerr, sizeof cerr, "%s", tp_last_error(run->ctx));
    c->cpu_ms += cpu_ms;
    tp_status gst = TP_OK;
    tp_result host = tp_result_empty();
    if (c->gpu_side) {
        tp_context *gctx = c->twin ? run->twin : run->ctx;
        t0 = tp_cmp_now_ms();
        gst = tp_run_on(gctx, c->twin ? TP_BACKEND_CPU : TP_BACKEND_CUDA, s->op, gin, s->n_inputs, pg, &out->gpu);
        if (!gst && !c->twin)
            gst = tp_context_sync(gctx);
        gpu_ms = tp_cmp_now_ms() - t0;
        c->gpu_ms += gpu_ms;
        if (!gst && c->twin && !c->perturbed && (k == c->perturb_at || c->perturb_at == -2)) {
            tp_cmp_perturb(&out->gpu);
            c->perturbed = true;
        }
        if (!gst)
            gst = download(gctx, &out->gpu, &host);
        if (gst)
            snprintf(gerr, sizeof gerr, "%s", tp_last_error(gctx));
        tp_cmp_judge(tp_op_find(s->op), cst, cerr, &out->cpu, gst, gerr, &host, j);
        if (host.image.data != out->gpu.image.data)
            tp_image_free(&host.image);
    } else {
        if (cst)
            cJSON_AddStringToObject(j, "cpu_error", cerr);
        if (run->o->require_gpu) {
            char msg[320];
            snprintf(msg, sizeof msg, "GPU required: %s", run->gpu_why);
            tp_cmp_set_verdict(j, "fail", NULL, msg);
        } else {
            tp_cmp_set_verdict(j, "skip", run->gpu_why, NULL);
        }
    }
    tp_cmp_add_time(j, cpu_ms, gpu_ms);
    tp_params_destroy(pc);
    tp_params_destroy(pg);
    out->ran = true;
    return !cst && !gst;
}

static const char *verdict_of(const cJSON *j)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "verdict");
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void chain_free(chain *c)
{
    for (int k = 0; k <= c->p->n_steps; k++) {
        if (k == 0) { /* the input: the host side is borrowed, the device copy owned */
            if (!c->twin)
                tp_image_free(&c->s[0].gpu.image);
            continue;
        }
        tp_result_free(&c->s[k].cpu);
        tp_result_free(&c->s[k].gpu);
    }
}

static int stage_index(const tp_pipeline *p, const char *name)
{
    for (int k = 0; k < p->n_steps; k++)
        if (strcmp(p->steps[k].as, name) == 0)
            return k;
    return -1;
}

/* Walk the steps; returns the pipeline's verdict and fills first difference / reason. */
static const char *walk(chain *c, cJSON *stages, int *first_diff, char *reason, size_t rlen)
{
    const char *verdict = "pass";
    bool stopped = false;
    for (int k = 0; k < c->p->n_steps; k++) {
        const tp_pipe_step *s = &c->p->steps[k];
        char params[TP_CMP_PARAMS_LEN];
        step_params(c, k, params, sizeof params);
        cJSON *j = stage_json(c, k, params);
        if (!j)
            break;
        cJSON_AddItemToArray(stages, j);
        c->s[k + 1].alias = -1;
        const tp_image *first = &c->s[slot_of(c, k, s->inputs[0])].cpu.image;
        if (stopped) {
            tp_cmp_set_verdict(j, "skip", "an earlier stage did not produce an output", NULL);
            tp_cmp_add_time(j, NAN, NAN);
            continue;
        }
        if (s->when[0] && first->channel_axis < 0) {
            c->s[k + 1].alias = slot_of(c, k, s->inputs[0]);
            tp_cmp_set_verdict(j, "skip", "the input has no channel axis (\"when\": \"channels\")", NULL);
            tp_cmp_add_time(j, NAN, NAN);
            continue;
        }
        stopped = !run_step(c, k, j);
        const char *v = verdict_of(j);
        if (strcmp(v, "fail") == 0 && *first_diff < 0) {
            *first_diff = k;
            verdict = "fail";
        } else if (strcmp(v, "skip") == 0 && strcmp(verdict, "pass") == 0) {
            const cJSON *why = cJSON_GetObjectItemCaseSensitive(j, "skip_reason");
            snprintf(reason, rlen, "stage %s (%s): %s", s->as, s->op, cJSON_IsString(why) ? why->valuestring : "");
            verdict = "skip";
        }
    }
    return verdict;
}

void tp_cmp_run_pipeline(tp_cmp_run *run, const tp_pipeline *p, const char *dataset, const tp_image *input)
{
    const tp_cmp_options *o = run->o;
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return;
    cJSON_AddStringToObject(j, "name", p->name);
    cJSON_AddStringToObject(j, "dataset", dataset);
    cJSON *shape = cJSON_AddArrayToObject(j, "shape");
    for (int d = 0; shape && d < input->ndim; d++)
        cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)input->shape[d]));
    cJSON_AddStringToObject(j, "dtype", tp_dtype_name(input->dtype));

    chain *c = calloc(1, sizeof *c);
    if (!c) {
        cJSON_Delete(j);
        return;
    }
    c->run = run;
    c->p = p;
    c->sd = tp_image_spatial_ndim(input);
    c->twin = o->fault != TP_FAULT_OFF;
    c->gpu_side = run->gpu_ok || c->twin;
    c->perturb_at = o->fault == TP_FAULT_PERTURB ? (o->fault_stage[0] ? stage_index(p, o->fault_stage) : -2) : -1;
    for (int k = 0; k <= TP_PIPE_MAX_STEPS; k++) {
        c->s[k].alias = -1;
        c->s[k].cpu = tp_result_empty();
        c->s[k].gpu = tp_result_empty();
    }
    c->s[0].cpu.image = *input;
    c->s[0].cpu.image.owns = 0;
    char reason[TP_ERRMSG_LEN + 128] = "";
    int first_diff = -1;
    const char *verdict;
    tp_status st = TP_OK;
    if (c->gpu_side && !c->twin)
        st = tp_image_copy(run->ctx, input, &c->s[0].gpu.image, TP_DEVICE);
    else if (c->twin)
        c->s[0].gpu.image = c->s[0].cpu.image;
    cJSON *stages = cJSON_CreateArray();
    if (st) {
        snprintf(reason, sizeof reason, "upload: %s", tp_last_error(run->ctx));
        verdict = "fail";
    } else if (!c->gpu_side && !o->quick) {
        snprintf(reason, sizeof reason, "%s", run->gpu_why);
        verdict = o->require_gpu ? "fail" : "skip";
    } else {
        verdict = walk(c, stages, &first_diff, reason, sizeof reason);
        if (!c->gpu_side) {
            verdict = o->require_gpu ? "fail" : "skip";
            snprintf(reason, sizeof reason, "%s%s", o->require_gpu ? "GPU required: " : "", run->gpu_why);
        }
    }
    cJSON_AddStringToObject(j, "verdict", verdict);
    if (strcmp(verdict, "skip") == 0)
        cJSON_AddStringToObject(j, "skip_reason", reason);
    else if (reason[0])
        cJSON_AddStringToObject(j, "error", reason);
    if (first_diff >= 0) {
        cJSON_AddStringToObject(j, "first_differing_stage", p->steps[first_diff].as);
        cJSON_AddNumberToObject(j, "first_differing_step", first_diff);
    } else {
        cJSON_AddNullToObject(j, "first_differing_stage");
        cJSON_AddNullToObject(j, "first_differing_step");
    }
    cJSON_AddItemToObject(j, "stages", stages);
    tp_cmp_add_time(j, c->cpu_ms, c->gpu_side ? c->gpu_ms : NAN);
    chain_free(c);
    free(c);
    tp_cmp_report_add_pipeline(run->rep, j);
}

#include "core/pipeline.h"
#include "core/calibration.h"

#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static void step(tp_pipeline *p, const char *name, const char *op, const char *in0, const char *in1,
                 const char *params, int only_if_channels)
{
    tp_pipe_step *s = &p->steps[p->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->op, sizeof s->op, "%s", op);
    snprintf(s->inputs[0], sizeof s->inputs[0], "%s", in0);
    snprintf(s->inputs[1], sizeof s->inputs[1], "%s", in1 ? in1 : "");
    snprintf(s->params, sizeof s->params, "%s", params);
    s->only_if_channels = only_if_channels;
}

void tp_pipeline_seed(tp_pipeline *p)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "seed");
    step(p, "channel", "extract_channel", "input", NULL, "channel=1", 1);
    step(p, "blurred", "gaussian", "channel", NULL, "sigma=5", 0);
    step(p, "threshold", "threshold_otsu", "blurred", NULL, "", 0);
    step(p, "binary", "threshold", "blurred", NULL, "threshold=@threshold", 0);
    step(p, "eroded", "binary_erosion", "binary", NULL, "footprint=disk:2", 0);
    step(p, "labels", "label", "eroded", NULL, "", 0);
    step(p, "overlay", "label2rgb", "labels", NULL, "", 0);
    step(p, "table", "regionprops_table", "labels", "channel", "properties=label,area,mean_intensity,solidity", 0);
}

tp_status tp_pipeline_set(tp_context *ctx, tp_pipeline *p, const char *a)
{
    const char *dot = strchr(a, '.'), *eq = strchr(a, '=');
    if (!dot || !eq || eq < dot)
        return tp_error(ctx, TP_ERR_ARG, "pipeline: expected step.param=value, got '%s'", a);
    for (int i = 0; i < p->n; i++) {
        tp_pipe_step *s = &p->steps[i];
        if (strlen(s->name) != (size_t)(dot - a) || strncmp(s->name, a, (size_t)(dot - a)) != 0)
            continue;
        char key[64];
        size_t kl = (size_t)(eq - dot - 1);
        if (kl == 0 || kl >= sizeof key)
            return tp_error(ctx, TP_ERR_ARG, "pipeline: bad parameter name in '%s'", a);
        memcpy(key, dot + 1, kl);
        key[kl] = 0;
        /* rebuild the params string without the old value of key */
        char out[512] = "", buf[512];
        snprintf(buf, sizeof buf, "%s", s->params);
        char *save = NULL;
        for (char *tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
            if (!strncmp(tok, key, kl) && tok[kl] == '=')
                continue;
            if (strlen(out) + strlen(tok) + 2 >= sizeof out)
                return tp_error(ctx, TP_ERR_ARG, "pipeline: parameters of step %s too long", s->name);
            if (*out)
                strcat(out, ";");
            strcat(out, tok);
        }
        if (strlen(out) + strlen(eq + 1) + kl + 3 >= sizeof out)
            return tp_error(ctx, TP_ERR_ARG, "pipeline: parameters of step %s too long", s->name);
        if (*out)
            strcat(out, ";");
        strncat(out, dot + 1, kl);
        strcat(out, "=");
        strcat(out, eq + 1);
        snprintf(s->params, sizeof s->params, "%s", out);
        return TP_OK;
    }
    return tp_error(ctx, TP_ERR_ARG, "pipeline: no step named '%.*s' in pipeline %s", (int)(dot - a), a, p->name);
}

typedef struct slot {
    const char *name;
    tp_result r;
    const tp_image *alias; /* a skipped step passes its input through */
} slot;

static const tp_image *lookup(slot *slots, int n, const tp_image *input, const char *name)
{
    if (!strcmp(name, "input"))
        return input;
    for (int i = 0; i < n; i++)
        if (!strcmp(slots[i].name, name))
            return slots[i].alias ? slots[i].alias : &slots[i].r.image;
    return NULL;
}

tp_status tp_pipeline_run(tp_context *ctx, const tp_pipeline *p, tp_backend_id be, const tp_image *input,
                          tp_pipe_cb cb, void *user, double *upload_ms)
{
    slot slots[TP_PIPE_MAX_STEPS];
    memset(slots, 0, sizeof slots);
    tp_image dev = tp_image_empty();
    const tp_image *in0 = input;
    tp_status st = TP_OK;
    if (upload_ms)
        *upload_ms = 0;
    if (be == TP_BACKEND_CUDA && input->location == TP_HOST) {
        double t0 = now_ms();
        if ((st = tp_image_copy(ctx, input, &dev, TP_DEVICE)))
            return st;
        if (upload_ms)
            *upload_ms = now_ms() - t0;
        in0 = &dev;
    }
    int done = 0;
    for (int i = 0; i < p->n && !st; i++, done++) {
        const tp_pipe_step *s = &p->steps[i];
        slots[i].name = s->name;
        slots[i].r = tp_result_empty();
        const tp_image *ins[4];
        int nin = 0;
        for (int k = 0; k < 4 && s->inputs[k][0]; k++) {
            ins[k] = lookup(slots, i, in0, s->inputs[k]);
            if (!ins[k]) {
                st = tp_error(ctx, TP_ERR_ARG, "pipeline %s: step %s: unknown input '%s'", p->name, s->name,
                              s->inputs[k]);
                break;
            }
            nin = k + 1;
        }
        if (st)
            break;
        if (s->only_if_channels && ins[0]->channel_axis < 0) {
            slots[i].alias = ins[0];
            if (cb && cb(user, i, s, NULL, 0.0))
                break;
            continue;
        }
        tp_params *pp = NULL;
        if ((st = tp_params_create(&pp)))
            break;
        char buf[512];
        snprintf(buf, sizeof buf, "%s", s->params);
        char *save = NULL;
        for (char *tok = strtok_r(buf, ";", &save); tok && !st; tok = strtok_r(NULL, ";", &save)) {
            char *eq = strchr(tok, '=');
            if (!eq) {
                st = tp_error(ctx, TP_ERR_ARG, "pipeline %s: step %s: expected k=v, got '%s'", p->name, s->name, tok);
                break;
            }
            *eq = 0;
            if (eq[1] == '@') {
                const tp_image *ref = lookup(slots, i, in0, eq + 2);
                st = ref ? tp_params_set_image(pp, tok, ref)
                         : tp_error(ctx, TP_ERR_ARG, "pipeline %s: step %s: unknown reference '%s'", p->name,
                                    s->name, eq + 1);
            } else {
                st = tp_params_set(pp, tok, eq + 1);
            }
        }
        double t0 = now_ms();
        if (!st)
            st = tp_run_on(ctx, be, s->op, ins, nin, pp, &slots[i].r);
        if (!st)
            st = tp_context_sync(ctx);
        double ms = now_ms() - t0;
        tp_params_destroy(pp);
        if (!st && cb && cb(user, i, s, &slots[i].r, ms)) {
            done++;
            break;
        }
    }
    for (int i = 0; i < p->n; i++)
        tp_result_free(&slots[i].r);
    tp_image_free(&dev);
    return st;
}

tp_backend_id tp_pipeline_choose(tp_context *ctx, const tp_pipeline *p, const tp_image *input, char *why,
                                 size_t why_len)
{
    if (input->location == TP_DEVICE) {
        snprintf(why, why_len, "the input is already on the device");
        return TP_BACKEND_CUDA;
    }
    const char *ops[TP_PIPE_MAX_STEPS];
    for (int i = 0; i < p->n; i++)
        ops[i] = p->steps[i].op;
    int64_t px = tp_image_count(input) / tp_image_channels(input);
    int64_t in_bytes = tp_image_count(input) * (int64_t)tp_dtype_size(input->dtype);
    /* what comes back: the pipeline's final result only (intermediates stay on the device); for the seed
     * pipeline a table of a few columns per region, bounded here by one row of 8 doubles per 64 pixels */
    int64_t out_bytes = px / 8 * 8;
    tp_backend_id b = tp_choose_chain(ctx, ops, p->n, px, in_bytes, out_bytes, why, why_len);
    tp_debug(ctx, "pipeline %s: %lld px on host -> %s (auto, decided for the chain: %s)", p->name, (long long)px,
             tp_backend_name(b), why);
    return b;
}

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

/* The seed's steps; the overlay is the one step the peers' pipeline (PERFORMANCE.md) does not have. */
static void seed_steps(tp_pipeline *p, const char *name, int overlay)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    step(p, "channel", "extract_channel", "input", NULL, "channel=1", 1);
    step(p, "blurred", "gaussian", "channel", NULL, "sigma=5", 0);
    step(p, "threshold", "threshold_otsu", "blurred", NULL, "", 0);
    step(p, "binary", "threshold", "blurred", NULL, "threshold=@threshold", 0);
    step(p, "eroded", "binary_erosion", "binary", NULL, "footprint=disk:2", 0);
    step(p, "labels", "label", "eroded", NULL, "", 0);
    if (overlay)
        step(p, "overlay", "label2rgb", "labels", NULL, "", 0);
    step(p, "table", "regionprops_table", "labels", "channel", "properties=label,area,mean_intensity,solidity", 0);
}

void tp_pipeline_seed(tp_pipeline *p) { seed_steps(p, "seed", 1); }

void tp_pipeline_seed_core(tp_pipeline *p) { seed_steps(p, "seed-core", 0); }

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
    int owner; /* whose data the name stands for: this step, an earlier one (skipped: passed through), -1 input */
} slot;

/* The step index that `name` names among steps [0, before), as lookup() resolves it; -1 for "input", -2
 * when unknown. */
static int step_index(const tp_pipeline *p, int before, const char *name)
{
    if (!strcmp(name, "input"))
        return -1;
    for (int i = 0; i < before; i++)
        if (!strcmp(p->steps[i].name, name))
            return i;
    return -2;
}

static const tp_image *lookup(const tp_pipeline *p, slot *slots, int n, const tp_image *input, const char *name)
{
    int k = step_index(p, n, name);
    if (k == -2)
        return NULL;
    k = k >= 0 ? slots[k].owner : -1;
    return k < 0 ? input : &slots[k].r.image;
}

/* Could a reference to `name` made by step j read owner k's data, with steps [0, done] already run? A step
 * that has not run yet and may be skipped (only_if_channels) may pass its input through: that counts. */
static int may_read(const tp_pipeline *p, const slot *slots, int done, int j, const char *name, int k, int depth)
{
    int m = step_index(p, j, name);
    if (m == -2 || depth > TP_PIPE_MAX_STEPS)
        return 0;
    if (m == -1)
        return k == -1;
    if (m <= done)
        return slots[m].owner == k;
    if (m == k)
        return 1;
    return p->steps[m].only_if_channels && may_read(p, slots, done, m, p->steps[m].inputs[0], k, depth + 1);
}

/* Does any step after `done` read owner k (an input or an "@step" parameter)? */
static int needed_later(const tp_pipeline *p, const slot *slots, int done, int k)
{
    for (int j = done + 1; j < p->n; j++) {
        const tp_pipe_step *s = &p->steps[j];
        for (int q = 0; q < 4 && s->inputs[q][0]; q++)
            if (may_read(p, slots, done, j, s->inputs[q], k, 0))
                return 1;
        for (const char *at = strchr(s->params, '@'); at; at = strchr(at + 1, '@')) {
            if (at == s->params || at[-1] != '=')
                continue;
            char ref[64];
            size_t len = strcspn(at + 1, ";");
            if (len >= sizeof ref)
                continue;
            memcpy(ref, at + 1, len);
            ref[len] = 0;
            if (may_read(p, slots, done, j, ref, k, 0))
                return 1;
        }
    }
    return 0;
}

static int64_t image_bytes(const tp_image *im)
{
    return im->data ? tp_image_count(im) * (int64_t)tp_dtype_size(im->dtype) : 0;
}

static int64_t result_bytes(const tp_result *r)
{
    int64_t b = image_bytes(&r->image);
    for (int c = 0; c < r->table.ncols; c++)
        b += r->table.nrows * (int64_t)tp_dtype_size(r->table.cols[c].dtype);
    return b;
}

static int64_t held_bytes(const slot *slots, int n, const tp_image *in0, int input_alive, int *live)
{
    int64_t b = input_alive ? image_bytes(in0) : 0;
    *live = 0;
    for (int i = 0; i < n; i++)
        if (slots[i].r.image.data || slots[i].r.table.ncols) {
            b += result_bytes(&slots[i].r);
            ++*live;
        }
    return b;
}

/* Free what no step after `done` reads: step results, and the runner's own device copy of the input. */
static int free_dead(const tp_pipeline *p, slot *slots, int done, tp_image *dev)
{
    int freed = 0;
    for (int k = 0; k <= done; k++)
        if (slots[k].owner == k && (slots[k].r.image.data || slots[k].r.table.ncols) &&
            !needed_later(p, slots, done, k)) {
            tp_result_free(&slots[k].r);
            freed++;
        }
    if (dev->data && !needed_later(p, slots, done, -1))
        tp_image_free(dev);
    return freed;
}

tp_status tp_pipeline_run(tp_context *ctx, const tp_pipeline *p, tp_backend_id be, const tp_image *input,
                          tp_pipe_cb cb, void *user, double *upload_ms)
{
    tp_pipe_opts o;
    memset(&o, 0, sizeof o);
    o.cb = cb;
    o.user = user;
    o.upload_ms = upload_ms;
    return tp_pipeline_run_opts(ctx, p, be, input, &o);
}

tp_status tp_pipeline_run_opts(tp_context *ctx, const tp_pipeline *p, tp_backend_id be, const tp_image *input,
                               const tp_pipe_opts *opts)
{
    tp_pipe_opts o;
    memset(&o, 0, sizeof o);
    if (opts)
        o = *opts;
    double t_run = now_ms();
    slot slots[TP_PIPE_MAX_STEPS];
    memset(slots, 0, sizeof slots);
    for (int i = 0; i < TP_PIPE_MAX_STEPS; i++) {
        slots[i].r = tp_result_empty();
        slots[i].owner = i;
    }
    tp_pipe_stats *stats = o.stats;
    if (stats)
        memset(stats, 0, sizeof *stats);
    tp_image dev = tp_image_empty();
    const tp_image *in0 = input;
    tp_status st = TP_OK;
    if (o.upload_ms)
        *o.upload_ms = 0;
    if (be == TP_BACKEND_CUDA && input->location == TP_HOST) {
        double t0 = now_ms();
        if ((st = tp_image_copy(ctx, input, &dev, TP_DEVICE)))
            return st;
        /* the staged upload returns with its last chunks still in flight: wait, so the figure holds them */
        if (o.upload_ms && (st = tp_context_sync(ctx))) {
            tp_image_free(&dev);
            return st;
        }
        if (o.upload_ms)
            *o.upload_ms = now_ms() - t0;
        in0 = &dev;
    }
    /* held bytes count the caller's input throughout (it stays in memory), the runner's copy while alive */
    const int owns_input = in0 == &dev;
    for (int i = 0; i < p->n && !st; i++) {
        const tp_pipe_step *s = &p->steps[i];
        slots[i].name = s->name;
        const tp_image *ins[4];
        int nin = 0;
        for (int k = 0; k < 4 && s->inputs[k][0]; k++) {
            ins[k] = lookup(p, slots, i, in0, s->inputs[k]);
            if (!ins[k]) {
                st = tp_error(ctx, TP_ERR_ARG, "pipeline %s: step %s: unknown input '%s'", p->name, s->name,
                              s->inputs[k]);
                break;
            }
            nin = k + 1;
        }
        if (st)
            break;
        int stop = 0;
        if (s->only_if_channels && ins[0]->channel_axis < 0) {
            int k = step_index(p, i, s->inputs[0]);
            slots[i].owner = k >= 0 ? slots[k].owner : -1;
            if (o.cb && o.cb(o.user, i, s, NULL, 0.0))
                stop = 1;
        } else {
            tp_params *pp = NULL;
            if ((st = tp_params_create(&pp)))
                break;
            char buf[512];
            snprintf(buf, sizeof buf, "%s", s->params);
            char *save = NULL;
            for (char *tok = strtok_r(buf, ";", &save); tok && !st; tok = strtok_r(NULL, ";", &save)) {
                char *eq = strchr(tok, '=');
                if (!eq) {
                    st = tp_error(ctx, TP_ERR_ARG, "pipeline %s: step %s: expected k=v, got '%s'", p->name, s->name,
                                  tok);
                    break;
                }
                *eq = 0;
                if (eq[1] == '@') {
                    const tp_image *ref = lookup(p, slots, i, in0, eq + 2);
                    st = ref ? tp_params_set_image(pp, tok, ref)
                             : tp_error(ctx, TP_ERR_ARG, "pipeline %s: step %s: unknown reference '%s'", p->name,
                                        s->name, eq + 1);
                } else {
                    st = tp_params_set(pp, tok, eq + 1);
                }
            }
            if (!st && o.before)
                o.before(o.user, i, s);
            double t0 = now_ms();
            if (!st)
                st = tp_run_on(ctx, be, s->op, ins, nin, pp, &slots[i].r);
            if (!st)
                st = tp_context_sync(ctx);
            double ms = now_ms() - t0;
            tp_params_destroy(pp);
            if (st)
                break;
            if (stats) {
                int live;
                stats->held_during[i] = held_bytes(slots, i + 1, in0, !owns_input || dev.data, &live);
                if (stats->held_during[i] > stats->peak_held)
                    stats->peak_held = stats->held_during[i];
            }
            /* the step's inputs that nothing later reads go before the callback; its own result after */
            for (int k = 0; k < i; k++)
                if (slots[k].owner == k && (slots[k].r.image.data || slots[k].r.table.ncols) &&
                    !needed_later(p, slots, i, k)) {
                    tp_result_free(&slots[k].r);
                    if (stats)
                        stats->freed++;
                }
            if (o.cb && o.cb(o.user, i, s, &slots[i].r, ms))
                stop = 1;
        }
        int freed = free_dead(p, slots, i, &dev);
        if (stats) {
            stats->freed += freed;
            stats->held_after[i] = held_bytes(slots, i + 1, in0, !owns_input || dev.data, &stats->results_live[i]);
            if (s->only_if_channels && slots[i].owner != i)
                stats->held_during[i] = stats->held_after[i];
        }
        if (stop)
            break;
    }
    for (int i = 0; i < p->n; i++)
        tp_result_free(&slots[i].r);
    tp_image_free(&dev);
    if (stats)
        stats->wall_ms = now_ms() - t_run;
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

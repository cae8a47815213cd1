/* The pipeline benchmarks, timed stage by stage: on the CPU with the monotonic clock, on the device with one
 * CUDA event between stages, so the stages add up to the whole without synchronising the device in between.
 * Two pipelines from core/pipeline.c:
 *  - "seed" (tp_pipeline_seed: extract_channel -> gaussian sigma 5 -> threshold_otsu -> threshold with the
 *    device scalar -> binary_erosion disk:2 -> label -> label2rgb -> regionprops_table) on an rgb uint8 image;
 *  - "seed-core" (tp_pipeline_seed_core: the same without label2rgb), the peers' pipeline of PERFORMANCE.md,
 *    on one grey uint8 channel, where extract_channel passes the input through and is no stage.
 * "cuda" starts from the image already on the device. "cuda+transfers" is host image in, host table out: an
 * "h2d" stage uploads the host image, the steps run, and the run ends when regionprops_table's table is in
 * host memory (the op brings it back itself). seed's host image is pageable (through the pinned staging
 * buffer) and its label2rgb overlay is produced and stays on the device: what downloading it too would cost
 * is measured apart, after the warm-up, outside every total (overlay_d2h_ms). seed-core's host image is
 * pinned (tp_image_pin) while the case runs, as PERFORMANCE.md's target has it: the upload is a direct DMA. */
#include "bench/bench.h"
#include "bench/gbench.h"
#include "bench/gpu_timing.h"
#include "core/pipeline.h"
#include "datasets/datasets.h"

#include <stdlib.h>
#include <string.h>

typedef struct step_ref {
    char param[48];
    int step; /* index of the step whose result is passed */
} step_ref;

typedef struct pipe_item {
    tp_bench_item base;
    tp_bench_report *report;
    int ndim;
    int64_t shape[3];
    tp_bench_backend backend;
    int threads, device;
    uint64_t seed;
    int core;   /* seed-core on a grey image (else seed on rgb) */
    int pinned; /* host_in is page-locked (tp_image_pin): unpin before freeing it */
    tp_pipeline pl;
    tp_context *ctx;
    tp_backend_id be;
    tp_image host_in, dev_in;
    tp_params *params[TP_PIPE_MAX_STEPS];
    step_ref refs[TP_PIPE_MAX_STEPS][4];
    int nrefs[TP_PIPE_MAX_STEPS];
    int in_step[TP_PIPE_MAX_STEPS][4]; /* -1: the pipeline input; else the producing step */
    int nin[TP_PIPE_MAX_STEPS];
    int is_output[TP_PIPE_MAX_STEPS];
    int last_use[TP_PIPE_MAX_STEPS]; /* the last step that reads this step's result (-1: none) */
    int passes[TP_PIPE_MAX_STEPS]; /* an only_if_channels step on a channel-less input: no op, no stage */
    tp_cuda_timer *timer;
    int nstages;
    char stage_names[TP_BENCH_MAX_STAGES][48];
    tp_bench_samples stage_ms[TP_BENCH_MAX_STAGES], total;
    int prepared, skipped;
    char reason[512];
    int64_t peak_device, peak_host;
    double overlay_ms;     /* cuda+transfers: median download of the unconsumed device outputs; NAN: none */
    int64_t overlay_bytes; /* their bytes; -1: none */
} pipe_item;

static int step_index(const tp_pipeline *pl, int before, const char *name)
{
    for (int i = 0; i < before; i++)
        if (!strcmp(pl->steps[i].name, name))
            return i;
    return -2;
}

static void pipe_release(pipe_item *it)
{
    for (int i = 0; i < TP_PIPE_MAX_STEPS; i++) {
        tp_params_destroy(it->params[i]);
        it->params[i] = NULL;
    }
    tp_cuda_timer_destroy(it->timer);
    it->timer = NULL;
    if (it->pinned)
        tp_image_unpin(&it->host_in);
    it->pinned = 0;
    tp_image_free(&it->host_in);
    tp_image_free(&it->dev_in);
    if (it->ctx)
        tp_context_destroy(it->ctx);
    it->ctx = NULL;
}

/* Does step i pass its input through (only_if_channels on an input without a channel axis)? Known before the
 * run when the input is the pipeline's own (or reached through such steps); else the run decides, as a stage. */
static int step_passes(const pipe_item *it, int i)
{
    const tp_pipe_step *s = &it->pl.steps[i];
    if (!s->only_if_channels || it->nin[i] < 1)
        return 0;
    int src = it->in_step[i][0];
    return src < 0 ? it->host_in.channel_axis < 0 : it->passes[src];
}

/* Resolve the description once, on the input it will run on: which step feeds which, which steps pass the
 * input through, which parameters take an earlier result, and which results nobody consumes (the pipeline's
 * outputs: the table, which comes back to the host by itself, and seed's overlay, which cuda+transfers leaves
 * on the device and downloads only for overlay_d2h_ms). */
static tp_status plan(pipe_item *it)
{
    const tp_pipeline *pl = &it->pl;
    int nst = pl->n + (it->backend == TP_BENCH_CUDA_TRANSFERS ? 1 : 0);
    if (nst > TP_BENCH_MAX_STAGES || nst + 1 > TP_CUDA_TIMER_MARKS)
        return tp_error(it->ctx, TP_ERR_INTERNAL, "bench: pipeline %s has too many steps (%d)", pl->name, pl->n);
    it->nstages = 0;
    if (it->backend == TP_BENCH_CUDA_TRANSFERS)
        snprintf(it->stage_names[it->nstages++], 48, "h2d");
    for (int i = 0; i < pl->n; i++) {
        const tp_pipe_step *s = &pl->steps[i];
        it->is_output[i] = 1;
        it->nin[i] = 0;
        for (int k = 0; k < 4 && s->inputs[k][0]; k++) {
            int src = !strcmp(s->inputs[k], "input") ? -1 : step_index(pl, i, s->inputs[k]);
            if (src == -2)
                return tp_error(it->ctx, TP_ERR_ARG, "bench: pipeline step %s: unknown input '%s'", s->name,
                                s->inputs[k]);
            it->in_step[i][k] = src;
            it->nin[i] = k + 1;
        }
        it->passes[i] = step_passes(it, i);
        if (!it->passes[i])
            snprintf(it->stage_names[it->nstages++], 48, "%s", s->op);
        /* the text parameters are parsed once; "name=@step" ones are set to the step's result each run */
        char text[512] = "", buf[512];
        snprintf(buf, sizeof buf, "%s", s->params);
        char *save = NULL;
        it->nrefs[i] = 0;
        for (char *tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
            char *eq = strchr(tok, '=');
            if (eq && eq[1] == '@' && it->nrefs[i] < 4) {
                step_ref *r = &it->refs[i][it->nrefs[i]++];
                *eq = 0;
                snprintf(r->param, sizeof r->param, "%s", tok);
                r->step = step_index(pl, i, eq + 2);
                if (r->step < 0)
                    return tp_error(it->ctx, TP_ERR_ARG, "bench: pipeline step %s: unknown reference '%s'", s->name,
                                    eq + 1);
                continue;
            }
            if (strlen(text) + strlen(tok) + 2 < sizeof text) {
                if (*text)
                    strcat(text, ";");
                strcat(text, tok);
            }
        }
        tp_status st = tp_bench_params_from_case(it->ctx, text, &it->params[i]);
        if (st)
            return st;
    }
    for (int i = 0; i < pl->n; i++) {
        for (int k = 0; k < it->nin[i]; k++)
            if (it->in_step[i][k] >= 0)
                it->is_output[it->in_step[i][k]] = 0;
        for (int k = 0; k < it->nrefs[i]; k++)
            it->is_output[it->refs[i][k].step] = 0;
    }
    /* liveness, as tp_pipeline_run frees: a result goes as soon as its last reader has run, so the peaks
     * are the pipeline's, not the sum of its results. A step that may pass its input through (a grey image
     * skips extract_channel) keeps that input alive as long as its own readers. */
    for (int i = 0; i < pl->n; i++)
        it->last_use[i] = -1;
    for (int i = pl->n - 1; i >= 0; i--) {
        const int through = pl->steps[i].only_if_channels || it->passes[i];
        for (int k = 0; k < it->nin[i]; k++) {
            const int j = it->in_step[i][k], until = through && it->last_use[i] > i ? it->last_use[i] : i;
            if (j >= 0 && until > it->last_use[j])
                it->last_use[j] = until;
        }
        for (int k = 0; k < it->nrefs[i]; k++) {
            const int j = it->refs[i][k].step;
            if (i > it->last_use[j])
                it->last_use[j] = i;
        }
    }
    return TP_OK;
}

static tp_status mark(pipe_item *it, int k, double *t)
{
    if (it->be == TP_BACKEND_CUDA)
        return tp_cuda_timer_record(it->ctx, it->timer, k);
    t[k] = tp_bench_now_ms();
    return TP_OK;
}

typedef struct pipe_run {
    tp_result res[TP_PIPE_MAX_STEPS];
    const tp_image *alias[TP_PIPE_MAX_STEPS];
    tp_image d_in;
} pipe_run;

static const tp_image *result_of(const pipe_run *pr, int step, const tp_image *in0)
{
    if (step < 0)
        return in0;
    return pr->alias[step] ? pr->alias[step] : &pr->res[step].image;
}

static tp_status run_steps(pipe_item *it, pipe_run *pr, double *t, int *m)
{
    const tp_pipeline *pl = &it->pl;
    const tp_image *in0 = it->backend == TP_BENCH_CUDA ? &it->dev_in : &it->host_in;
    tp_status st = mark(it, (*m)++, t);
    if (!st && it->backend == TP_BENCH_CUDA_TRANSFERS) {
        st = tp_image_copy(it->ctx, &it->host_in, &pr->d_in, TP_DEVICE);
        in0 = &pr->d_in;
        if (!st)
            st = mark(it, (*m)++, t);
    }
    for (int i = 0; i < pl->n && !st; i++) {
        const tp_pipe_step *s = &pl->steps[i];
        const tp_image *ins[4] = {NULL, NULL, NULL, NULL};
        for (int k = 0; k < it->nin[i]; k++)
            ins[k] = result_of(pr, it->in_step[i][k], in0);
        if (it->passes[i]) {
            pr->alias[i] = ins[0];
            continue; /* no op ran: no stage */
        }
        if (s->only_if_channels && ins[0]->channel_axis < 0) {
            pr->alias[i] = ins[0];
        } else {
            for (int k = 0; k < it->nrefs[i] && !st; k++)
                st = tp_params_set_image(it->params[i], it->refs[i][k].param,
                                         result_of(pr, it->refs[i][k].step, in0));
            if (!st)
                st = tp_run_on(it->ctx, it->be, s->op, ins, it->nin[i], it->params[i], &pr->res[i]);
        }
        if (!st)
            st = mark(it, (*m)++, t);
        for (int j = 0; j <= i && !st; j++) /* stream-ordered frees: after the mark, not timed as work */
            if (it->last_use[j] == i && !it->is_output[j])
                tp_result_free(&pr->res[j]);
    }
    return st;
}

/* After a timed run: download every device output nobody consumes (the label2rgb overlay) into new host
 * images, as a caller of tp_image_copy would, timed by the host clock around the copies alone. */
static tp_status download_outputs(pipe_item *it, pipe_run *pr, double *ms, int64_t *bytes)
{
    tp_status st = tp_context_sync(it->ctx); /* the run is over: only the copies are timed */
    tp_image back[TP_PIPE_MAX_STEPS];
    for (int i = 0; i < TP_PIPE_MAX_STEPS; i++)
        back[i] = tp_image_empty();
    *bytes = 0;
    double t0 = tp_bench_now_ms();
    for (int i = 0; i < it->pl.n && !st; i++) {
        const tp_image *im = &pr->res[i].image;
        if (!it->is_output[i] || !im->data || im->location != TP_DEVICE)
            continue;
        st = tp_image_copy(it->ctx, im, &back[i], TP_HOST);
        *bytes += tp_image_count(im) * (int64_t)tp_dtype_size(im->dtype);
    }
    *ms = tp_bench_now_ms() - t0;
    for (int i = 0; i < TP_PIPE_MAX_STEPS; i++) /* freeing (munmap) is not part of a download */
        tp_image_free(&back[i]);
    return st;
}

/* One run; stage_ms has it->nstages entries. With overlay_ms, the unconsumed device outputs are downloaded
 * after the run and timed apart (overlay_ms, overlay_bytes; *overlay_bytes 0 when there are none). */
static tp_status pipe_once_ex(pipe_item *it, double *stage_ms, double *total_ms, double *overlay_ms,
                              int64_t *overlay_bytes)
{
    pipe_run pr;
    memset(&pr, 0, sizeof pr);
    for (int i = 0; i < TP_PIPE_MAX_STEPS; i++)
        pr.res[i] = tp_result_empty();
    pr.d_in = tp_image_empty();
    double t[TP_CUDA_TIMER_MARKS];
    int m = 0;
    tp_status st = run_steps(it, &pr, t, &m);
    if (!st && m != it->nstages + 1)
        st = tp_error(it->ctx, TP_ERR_INTERNAL, "bench: pipeline: %d marks for %d stages", m, it->nstages);
    for (int k = 0; k < it->nstages && !st; k++) {
        if (it->be == TP_BACKEND_CUDA)
            st = tp_cuda_timer_elapsed_ms(it->ctx, it->timer, k, k + 1, &stage_ms[k]);
        else
            stage_ms[k] = t[k + 1] - t[k];
    }
    if (!st) {
        if (it->be == TP_BACKEND_CUDA)
            st = tp_cuda_timer_elapsed_ms(it->ctx, it->timer, 0, it->nstages, total_ms);
        else
            *total_ms = t[it->nstages] - t[0];
    }
    if (!st && overlay_ms)
        st = download_outputs(it, &pr, overlay_ms, overlay_bytes);
    for (int i = 0; i < TP_PIPE_MAX_STEPS; i++)
        tp_result_free(&pr.res[i]);
    tp_image_free(&pr.d_in);
    return st;
}

static tp_status pipe_once(pipe_item *it, double *stage_ms, double *total_ms)
{
    return pipe_once_ex(it, stage_ms, total_ms, NULL, NULL);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static tp_status pipe_prepare(pipe_item *it)
{
    tp_status st = tp_context_create(&it->ctx);
    if (st)
        return st;
    it->be = tp_bench_backend_is_cuda(it->backend) ? TP_BACKEND_CUDA : TP_BACKEND_CPU;
    char why[256];
    if (!tp_backend_available(it->be, why, sizeof why))
        return tp_error(it->ctx, TP_ERR_NO_DEVICE, "pipeline: the %s backend is not available: %s",
                        tp_backend_name(it->be), why);
    if (it->be == TP_BACKEND_CUDA && (st = tp_context_set_device(it->ctx, it->device)))
        return st;
    if ((st = tp_context_set_threads(it->ctx, it->backend == TP_BENCH_CPU_1T ? 1 : it->threads)))
        return st;
    if (it->core)
        tp_pipeline_seed_core(&it->pl);
    else
        tp_pipeline_seed(&it->pl);
    if ((st = tp_synth_input(it->ctx, it->core ? "gray" : "rgb", it->ndim, it->shape, TP_UINT8, it->seed,
                             &it->host_in)))
        return st;
    if ((st = plan(it)))
        return st;
    /* seed-core's host image in is pinned: PERFORMANCE.md's "host image in, host table out (pinned)" */
    if (it->core && it->backend == TP_BENCH_CUDA_TRANSFERS) {
        if ((st = tp_image_pin(it->ctx, &it->host_in)))
            return st;
        it->pinned = 1;
    }
    if (it->backend == TP_BENCH_CUDA && (st = tp_image_copy(it->ctx, &it->host_in, &it->dev_in, TP_DEVICE)))
        return st;
    if (it->be == TP_BACKEND_CUDA && (st = tp_cuda_timer_create(it->ctx, &it->timer)))
        return st;
    /* the first run warms up and is the one whose peak memory is recorded */
    double stages[TP_BENCH_MAX_STAGES], total;
    tp_bench_host_peak hp;
    if (it->be == TP_BACKEND_CUDA)
        tp_device_mem_reset_peak();
    tp_bench_host_peak_begin(&hp);
    st = pipe_once(it, stages, &total);
    it->peak_host = tp_bench_host_peak_end(&hp);
    it->peak_device = it->be == TP_BACKEND_CUDA ? tp_device_mem_peak() : -1;
    double t0 = tp_bench_now_ms();
    while (!st && tp_bench_now_ms() - t0 < 20.0)
        st = pipe_once(it, stages, &total);
    /* cuda+transfers: what downloading the overlay as well would add (3 runs, median; not in any total) */
    if (!st && it->backend == TP_BENCH_CUDA_TRANSFERS) {
        double ov[3];
        int64_t bytes = 0;
        for (int k = 0; k < 3 && !st; k++)
            st = pipe_once_ex(it, stages, &total, &ov[k], &bytes);
        if (!st && bytes > 0) {
            qsort(ov, 3, sizeof ov[0], cmp_double);
            it->overlay_ms = ov[1];
            it->overlay_bytes = bytes;
        }
    }
    return st;
}

static void pipe_skip(pipe_item *it, tp_gbench_state *s, tp_status st)
{
    if (!it->skipped) {
        it->skipped = 1;
        snprintf(it->reason, sizeof it->reason, "%s",
                 it->ctx ? tp_last_error(it->ctx) : tp_status_str(st));
    }
    tp_gbench_skip(s, it->reason);
}

static int run_pipe(const tp_gbench_def *def, tp_gbench_state *s)
{
    pipe_item *it = def->user_data;
    tp_bench_item_activate(&it->base);
    if (!it->skipped && !it->prepared) {
        tp_status st = pipe_prepare(it);
        if (st) {
            pipe_skip(it, s, st);
            return 0;
        }
        it->prepared = 1;
    }
    if (it->skipped) {
        tp_gbench_skip(s, it->reason);
        return 0;
    }
    while (tp_gbench_keep_running(s)) {
        double stages[TP_BENCH_MAX_STAGES], total;
        tp_status st = pipe_once(it, stages, &total);
        if (st) {
            pipe_skip(it, s, st);
            return 0;
        }
        tp_gbench_set_iteration_time(s, total * 1e-3);
        int bad = tp_bench_samples_push(&it->total, total);
        for (int k = 0; k < it->nstages; k++)
            bad |= tp_bench_samples_push(&it->stage_ms[k], stages[k]);
        if (bad) {
            pipe_skip(it, s, tp_error(it->ctx, TP_ERR_NOMEM, "bench: out of host memory for the samples"));
            return 0;
        }
    }
    tp_gbench_set_items_processed(s, tp_gbench_iterations(s) * tp_bench_pixels(it->ndim, it->shape));
    return 0;
}

static void pipe_free_samples(pipe_item *it)
{
    for (int k = 0; k < TP_BENCH_MAX_STAGES; k++)
        tp_bench_samples_free(&it->stage_ms[k]);
    tp_bench_samples_free(&it->total);
}

static void pipe_finish(tp_bench_item *base)
{
    pipe_item *it = (pipe_item *)base;
    tp_bench_pipeline_result *res = tp_bench_report_add_pipeline(it->report);
    char what[640];
    if (!res) {
        snprintf(what, sizeof what, "out of host memory for the report");
    } else {
        /* by the item, not it->pl: a case that failed early never filled pl */
        snprintf(res->name, sizeof res->name, "%s", it->core ? "seed-core" : "seed");
        res->ndim = it->ndim;
        memcpy(res->shape, it->shape, sizeof res->shape);
        snprintf(res->dtype, sizeof res->dtype, "uint8");
        res->backend = it->backend;
        res->threads = it->backend == TP_BENCH_CPU_1T ? 1 : it->backend == TP_BENCH_CPU_NT ? it->threads : 0;
        res->skipped = it->skipped || it->total.n == 0;
        snprintf(res->skip_reason, sizeof res->skip_reason, "%s",
                 it->skipped ? it->reason : (it->total.n == 0 ? "no sample was taken" : ""));
        res->peak_device_bytes = it->prepared ? it->peak_device : -1;
        res->peak_host_bytes = it->prepared ? it->peak_host : -1;
        if (it->backend == TP_BENCH_CUDA_TRANSFERS) {
            snprintf(res->io, sizeof res->io, "%s",
                     it->core ? TP_BENCH_PIPE_IO_PINNED_HOST_TABLE : TP_BENCH_PIPE_IO_HOST_TABLE);
            res->overlay_d2h_ms = it->prepared ? it->overlay_ms : NAN;
            res->overlay_bytes = it->prepared ? it->overlay_bytes : -1;
        }
        if (!res->skipped) {
            res->nstages = it->nstages;
            for (int k = 0; k < it->nstages; k++) {
                tp_bench_stats t;
                tp_bench_stats_compute(it->stage_ms[k].v, it->stage_ms[k].n, &t);
                snprintf(res->stages[k].name, sizeof res->stages[k].name, "%s", it->stage_names[k]);
                res->stages[k].ms = t.median_ms;
            }
            tp_bench_stats_compute(it->total.v, it->total.n, &res->total);
            snprintf(what, sizeof what, "%.4g ms median of %lld", res->total.median_ms,
                     (long long)res->total.samples);
        } else {
            snprintf(what, sizeof what, "skipped: %s", res->skip_reason);
        }
    }
    pipe_free_samples(it);
    pipe_release(it);
    tp_bench_progress(base, what);
}

static void pipe_destroy(tp_bench_item *base)
{
    pipe_item *it = (pipe_item *)base;
    pipe_free_samples(it);
    pipe_release(it);
    free(it);
}

/* One case: a pipeline (seed, or seed-core when core) at one shape on one backend. 0, or -1 (message in ctx). */
static int register_pipe(tp_context *ctx, const tp_bench_config *cfg, tp_bench_report *r, const int64_t *shape,
                         tp_bench_backend be, int core)
{
    pipe_item *it = calloc(1, sizeof *it);
    if (!it) {
        tp_error(ctx, TP_ERR_NOMEM, "bench: out of host memory");
        return -1;
    }
    it->ndim = 2;
    it->shape[0] = shape[0];
    it->shape[1] = shape[1];
    it->backend = be;
    it->threads = cfg->threads;
    it->device = cfg->device;
    it->seed = 1;
    it->core = core;
    it->report = r;
    it->host_in = tp_image_empty();
    it->dev_in = tp_image_empty();
    it->overlay_ms = NAN;
    it->overlay_bytes = -1;
    char sh[64];
    tp_bench_shape_str(2, it->shape, sh, sizeof sh);
    const char *io = be != TP_BENCH_CUDA_TRANSFERS ? ""
                     : core                        ? "/pinned-host-image-in-host-table-out"
                                                   : "/host-image-in-host-table-out";
    snprintf(it->base.name, sizeof it->base.name, "pipeline:%s/%s/uint8/%s%s", core ? "seed-core" : "seed", sh,
             tp_bench_backend_name(be), io);
    it->base.finish = pipe_finish;
    it->base.destroy = pipe_destroy;
    if (tp_bench_items_add(&it->base)) {
        free(it);
        tp_error(ctx, TP_ERR_NOMEM, "bench: out of host memory");
        return -1;
    }
    tp_gbench_def def;
    memset(&def, 0, sizeof def);
    def.flags = TP_GBENCH_FLAG_USE_MANUAL_TIME;
    def.time_unit = TP_GBENCH_UNIT_MILLISECOND;
    def.minimum_duration_s = cfg->min_time_s;
    def.run = run_pipe;
    def.user_data = it;
    if (tp_gbench_register(it->base.name, &def)) {
        tp_error(ctx, TP_ERR_INTERNAL, "bench: cannot register %s", it->base.name);
        return -1;
    }
    return 0;
}

/* At each shape: seed on every backend, then seed-core beside it. */
int tp_bench_register_pipelines(tp_context *ctx, const tp_bench_config *cfg, tp_bench_report *r)
{
    int64_t shapes[16][2];
    int nshapes = 0;
    if (cfg->nsizes) {
        for (int i = 0; i < cfg->nsizes && nshapes < 16; i++)
            if (cfg->size_ndim[i] == 2) {
                shapes[nshapes][0] = cfg->sizes[i][0];
                shapes[nshapes++][1] = cfg->sizes[i][1];
            }
    } else {
        static const int64_t full[] = {640, 2048, 8192};
        for (int i = 0; i < (cfg->quick ? 1 : 3); i++, nshapes++)
            shapes[nshapes][0] = shapes[nshapes][1] = full[i];
    }
    int count = 0;
    for (int k = 0; k < nshapes; k++)
        for (int core = 0; core < 2; core++)
            for (int b = 0; b < TP_BENCH_BACKEND_COUNT; b++) {
                if (!cfg->backends[b])
                    continue;
                if (register_pipe(ctx, cfg, r, shapes[k], (tp_bench_backend)b, core))
                    return -1;
                count++;
            }
    return count;
}

/* How one op is measured, independent of Google Benchmark (so `twinpix calibrate` can reuse it): inputs
 * generated from the descriptor's input_kind, placed once, a warm-up call that also measures peak memory,
 * then one timed call per sample. CPU calls are timed with the monotonic clock; device calls with CUDA
 * events on the context's stream. */
#include "bench/bench.h"
#include "bench/gpu_timing.h"
#include "datasets/datasets.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

double tp_bench_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

int tp_bench_samples_push(tp_bench_samples *s, double ms)
{
    if (s->n == s->cap) {
        int64_t cap = s->cap ? s->cap * 2 : 256;
        double *v = realloc(s->v, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = ms;
    return 0;
}

void tp_bench_samples_free(tp_bench_samples *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* ---- peak host memory ---- */

static int64_t proc_status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    int64_t v = -1;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl)) {
            v = strtoll(line + kl, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0): a per-call high-water mark. */
static int reset_hwm(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd < 0)
        return 0;
    ssize_t w = write(fd, "5", 1);
    close(fd);
    return w == 1;
}

void tp_bench_host_peak_begin(tp_bench_host_peak *p)
{
    if (reset_hwm() && proc_status_kb("VmHWM:") >= 0) {
        p->method = 1;
        p->base = proc_status_kb("VmRSS:") * 1024;
        return;
    }
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        p->method = 2;
        p->base = (int64_t)ru.ru_maxrss * 1024;
        return;
    }
    p->method = 0;
    p->base = 0;
}

int64_t tp_bench_host_peak_end(const tp_bench_host_peak *p)
{
    int64_t now = -1;
    if (p->method == 1) {
        int64_t kb = proc_status_kb("VmHWM:");
        now = kb < 0 ? -1 : kb * 1024;
    } else if (p->method == 2) {
        struct rusage ru;
        if (getrusage(RUSAGE_SELF, &ru) == 0)
            now = (int64_t)ru.ru_maxrss * 1024;
    }
    if (now < 0)
        return -1;
    return now > p->base ? now - p->base : 0;
}

const char *tp_bench_peak_host_method(void)
{
    static int method = -1;
    if (method < 0) {
        tp_bench_host_peak p;
        tp_bench_host_peak_begin(&p);
        method = p.method;
    }
    if (method == 1)
        return "VmHWM after resetting it through /proc/self/clear_refs, minus VmRSS before the call: the resident "
               "host memory the call added at its peak (inputs excluded)";
    if (method == 2)
        return "getrusage ru_maxrss delta over the call: counts only memory above the process's earlier "
               "high-water mark, so it can read 0 after a larger case";
    return "not measurable here";
}

/* ---- parameters of a descriptor case ---- */

static int is_param_name(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

tp_status tp_bench_params_from_case(tp_context *ctx, const char *text, tp_params **out)
{
    *out = NULL;
    tp_params *p = NULL;
    tp_status st = tp_params_create(&p);
    if (st)
        return tp_error(ctx, st, "bench: cannot create parameters");
    if (!text || !*text) {
        *out = p;
        return TP_OK;
    }
    size_t len = strlen(text);
    char *buf = malloc(len + 1), *name = malloc(len + 1), *value = malloc(len + 1);
    if (!buf || !name || !value) {
        st = tp_error(ctx, TP_ERR_NOMEM, "bench: out of host memory");
        goto done;
    }
    memcpy(buf, text, len + 1);
    name[0] = value[0] = 0;
    /* A segment "k=v" starts a parameter; a segment without a name continues the previous value (colour
     * lists are ';'-separated themselves). Each parameter is set when the next one starts. */
    for (char *seg = buf, *next; seg && !st; seg = next) {
        next = strchr(seg, ';');
        if (next)
            *next++ = 0;
        char *eq = strchr(seg, '=');
        if (eq && is_param_name(seg, (size_t)(eq - seg))) {
            if (*name)
                st = tp_params_set(p, name, value);
            *eq = 0;
            strcpy(name, seg);
            strcpy(value, eq + 1);
        } else if (*name) {
            strcat(value, ";");
            strcat(value, seg);
        } else if (*seg) {
            st = tp_error(ctx, TP_ERR_ARG, "bench: case parameters: expected name=value, got '%s'", seg);
        }
    }
    if (!st && *name)
        st = tp_params_set(p, name, value);
    if (st && !strstr(tp_last_error(ctx), "bench:"))
        st = tp_error(ctx, st, "bench: case parameters '%s' are not accepted", text);
done:
    free(buf);
    free(name);
    free(value);
    if (st)
        tp_params_destroy(p);
    else
        *out = p;
    return st;
}

/* ---- host inputs, cached while consecutive cases share them ---- */

#define CACHE_N 16
typedef struct cached_input {
    int used, pins;
    char kind[16];
    int ndim;
    int64_t shape[3];
    tp_dtype dtype;
    uint64_t seed;
    double radius;   /* nucleus radius asked for; 0: the generator's default */
    int64_t regions; /* "labels": the largest label; -1 otherwise */
    uint64_t stamp;
    tp_image img;
} cached_input;
static cached_input g_cache[CACHE_N];
static uint64_t g_stamp;

static void cache_drop(cached_input *e)
{
    tp_image_free(&e->img);
    memset(e, 0, sizeof *e);
}

void tp_bench_input_cache_clear(void)
{
    for (int i = 0; i < CACHE_N; i++)
        if (g_cache[i].used && !g_cache[i].pins)
            cache_drop(&g_cache[i]);
}

static int same_shape(int nd, const int64_t *a, int nd2, const int64_t *b)
{
    if (nd != nd2)
        return 0;
    for (int i = 0; i < nd; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

/* The input of a kind; with a nucleus radius (a region-count case), the labels or the gray intensity image beside
 * them drawn from the same nuclei (same seed and radius), as tp_synth_input draws them by default. */
static tp_status synth(tp_context *ctx, const char *kind, int ndim, const int64_t *shape, tp_dtype dtype,
                       uint64_t seed, double radius, tp_image *out)
{
    if (radius <= 0)
        return tp_synth_input(ctx, kind, ndim, shape, dtype, seed, out);
    tp_synth_params sp;
    memset(&sp, 0, sizeof sp);
    sp.ndim = ndim;
    memcpy(sp.shape, shape, (size_t)ndim * sizeof *shape);
    sp.seed = seed;
    sp.radius = radius;
    if (!strcmp(kind, "labels")) {
        tp_image im = tp_image_empty();
        sp.dtype = TP_UINT8;
        tp_status st = tp_synth_nuclei(ctx, &sp, &im, out);
        tp_image_free(&im);
        int32_t *l = out->data;
        int64_t n = tp_image_count(out), i = 0;
        while (!st && i < n && !l[i])
            i++;
        if (!st && i == n) /* never all zeros, like every tp_synth_input kind */
            l[n / 2] = 1;
        return st;
    }
    if (!strcmp(kind, "gray") && (dtype == TP_UINT8 || dtype == TP_UINT16 || dtype == TP_FLOAT32)) {
        sp.dtype = dtype;
        return tp_synth_nuclei(ctx, &sp, out, NULL);
    }
    return tp_error(ctx, TP_ERR_ARG, "bench: a region count applies to labels inputs and their uint8, uint16 or "
                                     "float32 intensity image, not to a %s %s input",
                    kind, tp_dtype_name(dtype));
}

static int64_t max_label(const tp_image *im)
{
    const int32_t *l = im->data;
    int64_t n = tp_image_count(im);
    int32_t m = 0;
    for (int64_t i = 0; i < n; i++)
        m = l[i] > m ? l[i] : m;
    return m;
}

/* Find or generate an input; the entry is pinned (kept) until cache_unpin. */
static tp_status cache_get(tp_context *ctx, const char *kind, int ndim, const int64_t *shape, tp_dtype dtype,
                           uint64_t seed, double radius, int *index)
{
    *index = -1;
    for (int i = 0; i < CACHE_N; i++) {
        cached_input *e = &g_cache[i];
        if (e->used && !strcmp(e->kind, kind) && same_shape(ndim, shape, e->ndim, e->shape) && e->dtype == dtype &&
            e->seed == seed && e->radius == radius) {
            e->pins++;
            e->stamp = ++g_stamp;
            *index = i;
            return TP_OK;
        }
    }
    /* A new shape starts a new group of cases: what was cached for other shapes will not come back soon. */
    for (int i = 0; i < CACHE_N; i++)
        if (g_cache[i].used && !g_cache[i].pins && !same_shape(ndim, shape, g_cache[i].ndim, g_cache[i].shape))
            cache_drop(&g_cache[i]);
    int slot = -1;
    for (int i = 0; i < CACHE_N; i++) {
        cached_input *e = &g_cache[i];
        if (!e->used) {
            slot = i;
            break;
        }
        if (!e->pins && (slot < 0 || e->stamp < g_cache[slot].stamp))
            slot = i;
    }
    if (slot < 0)
        return tp_error(ctx, TP_ERR_INTERNAL, "bench: the input cache is full (%d pinned inputs)", CACHE_N);
    cached_input *e = &g_cache[slot];
    if (e->used)
        cache_drop(e);
    tp_image img = tp_image_empty();
    tp_status st = synth(ctx, kind, ndim, shape, dtype, seed, radius, &img);
    if (st)
        return st;
    e->used = 1;
    e->pins = 1;
    snprintf(e->kind, sizeof e->kind, "%s", kind);
    e->ndim = ndim;
    memcpy(e->shape, shape, (size_t)ndim * sizeof *shape);
    e->dtype = dtype;
    e->seed = seed;
    e->radius = radius;
    e->regions = !strcmp(kind, "labels") && img.dtype == TP_INT32 ? max_label(&img) : -1;
    e->stamp = ++g_stamp;
    e->img = img;
    *index = slot;
    return TP_OK;
}

static void cache_unpin(int i)
{
    if (i >= 0 && i < CACHE_N && g_cache[i].pins > 0)
        g_cache[i].pins--;
}

/* ---- the runner ---- */

#define MAX_SETS 1024
#define MAX_DISTINCT 4
#define MAX_IN 4

struct tp_bench_runner {
    tp_bench_case c;
    tp_context *ctx;
    tp_params *params;
    double radius; /* nucleus radius of a region-count case; 0: the generator's default */
    tp_backend_id be;
    int n_in;
    int pins[MAX_DISTINCT * MAX_IN];
    int npins;
    const tp_image *host[MAX_DISTINCT][MAX_IN];
    int ndistinct;
    tp_image *dev; /* nsets x n_in device images ("cuda"): set 0 owned, the others slices of block */
    void *block;
    int nsets, next;
    tp_cuda_timer *timer;
    tp_bench_runner_facts facts;
};

static const char *input_kind(const tp_bench_case *c, int i)
{
    /* the descriptor names the first input's kind; the optional second inputs of today's ops
     * (regionprops_table's intensity_image, label2rgb's image) are intensity images */
    if (i == 0)
        return c->op->input_kind ? c->op->input_kind : "gray";
    return "gray";
}

static tp_dtype kind_dtype(const char *kind, tp_dtype gray)
{
    if (!strcmp(kind, "mask"))
        return TP_BOOL;
    if (!strcmp(kind, "labels"))
        return TP_INT32;
    if (!strcmp(kind, "rgb"))
        return TP_UINT8;
    return gray;
}

const char *tp_bench_case_dtype_name(const tp_bench_case *c)
{
    return tp_dtype_name(kind_dtype(input_kind(c, 0), c->gray_dtype));
}

static int64_t image_bytes(const tp_image *im)
{
    return im && im->data ? tp_image_count(im) * (int64_t)tp_dtype_size(im->dtype) : 0;
}

static int64_t result_bytes(const tp_result *r)
{
    if (r->kind == TP_OUT_TABLE) {
        int64_t b = 0;
        for (int i = 0; i < r->table.ncols; i++)
            b += r->table.nrows * (int64_t)tp_dtype_size(r->table.cols[i].dtype);
        return b;
    }
    return image_bytes(&r->image);
}

static tp_status relay(tp_context *err_ctx, tp_context *from, tp_status st)
{
    if (st && err_ctx && err_ctx != from)
        tp_error(err_ctx, st, "%s", tp_last_error(from));
    return st;
}

void tp_bench_runner_destroy(tp_bench_runner *r)
{
    if (!r)
        return;
    if (r->dev) {
        for (int i = 0; i < r->nsets * r->n_in; i++)
            tp_image_free(&r->dev[i]);
        free(r->dev);
    }
    if (r->block)
        tp_backend_get(TP_BACKEND_CUDA)->free(r->ctx, r->block);
    for (int i = 0; i < r->npins; i++)
        cache_unpin(r->pins[i]);
    tp_cuda_timer_destroy(r->timer);
    tp_params_destroy(r->params);
    if (r->ctx)
        tp_context_destroy(r->ctx);
    free(r);
}

static tp_status load_host_set(tp_bench_runner *r, int k)
{
    for (int i = 0; i < r->n_in; i++) {
        const char *kind = input_kind(&r->c, i);
        int e;
        tp_status st = cache_get(r->ctx, kind, r->c.ndim, r->c.shape, kind_dtype(kind, r->c.gray_dtype),
                                 r->c.seed + (uint64_t)k, r->radius, &e);
        if (st)
            return st;
        r->pins[r->npins++] = e;
        if (k == 0 && i == 0)
            r->facts.regions = g_cache[e].regions;
        r->host[k][i] = &g_cache[e].img;
    }
    return TP_OK;
}

static tp_status run_call(tp_bench_runner *r, const tp_image *const *in, tp_result *res)
{
    return tp_run_on(r->ctx, r->be, r->c.op->name, in, r->n_in, r->params, res);
}

static tp_status once_cpu(tp_bench_runner *r, tp_bench_sample *s)
{
    tp_result res = tp_result_empty();
    double t0 = tp_bench_now_ms();
    tp_status st = run_call(r, r->host[0], &res);
    s->ms = tp_bench_now_ms() - t0;
    tp_result_free(&res);
    return st;
}

static tp_status once_cuda(tp_bench_runner *r, tp_bench_sample *s)
{
    const tp_image *in[MAX_IN];
    int k = r->next++ % r->nsets;
    for (int i = 0; i < r->n_in; i++)
        in[i] = &r->dev[k * r->n_in + i];
    tp_result res = tp_result_empty();
    tp_status st = tp_cuda_timer_record(r->ctx, r->timer, 0);
    if (!st)
        st = run_call(r, in, &res);
    if (!st)
        st = tp_cuda_timer_record(r->ctx, r->timer, 1);
    if (!st)
        st = tp_cuda_timer_elapsed_ms(r->ctx, r->timer, 0, 1, &s->ms);
    /* freeing the output synchronises the device: after the stop mark, outside the measured region */
    tp_result_free(&res);
    return st;
}

/* Host image in, host result out, each part between its own marks: 0 H2D 1 compute 2 D2H 3. */
static tp_status once_transfers(tp_bench_runner *r, tp_bench_sample *s)
{
    tp_image d[MAX_IN], back = tp_image_empty();
    const tp_image *in[MAX_IN];
    for (int i = 0; i < MAX_IN; i++)
        d[i] = tp_image_empty();
    tp_result res = tp_result_empty();
    tp_status st = tp_cuda_timer_record(r->ctx, r->timer, 0);
    for (int i = 0; i < r->n_in && !st; i++) {
        st = tp_image_copy(r->ctx, r->host[0][i], &d[i], TP_DEVICE);
        in[i] = &d[i];
    }
    if (!st)
        st = tp_cuda_timer_record(r->ctx, r->timer, 1);
    if (!st)
        st = run_call(r, in, &res);
    if (!st)
        st = tp_cuda_timer_record(r->ctx, r->timer, 2);
    if (!st && res.image.data && res.image.location == TP_DEVICE)
        st = tp_image_copy(r->ctx, &res.image, &back, TP_HOST);
    if (!st)
        st = tp_cuda_timer_record(r->ctx, r->timer, 3);
    if (!st)
        st = tp_cuda_timer_elapsed_ms(r->ctx, r->timer, 0, 3, &s->ms);
    if (!st)
        st = tp_cuda_timer_elapsed_ms(r->ctx, r->timer, 0, 1, &s->h2d_ms);
    if (!st)
        st = tp_cuda_timer_elapsed_ms(r->ctx, r->timer, 2, 3, &s->d2h_ms);
    tp_result_free(&res);
    tp_image_free(&back);
    for (int i = 0; i < MAX_IN; i++)
        tp_image_free(&d[i]);
    return st;
}

static tp_status once(tp_bench_runner *r, tp_bench_sample *s)
{
    s->ms = s->h2d_ms = s->d2h_ms = NAN;
    switch (r->c.backend) {
    case TP_BENCH_CUDA:
        return once_cuda(r, s);
    case TP_BENCH_CUDA_TRANSFERS:
        return once_transfers(r, s);
    default:
        return once_cpu(r, s);
    }
}

tp_status tp_bench_runner_once(tp_context *err_ctx, tp_bench_runner *r, tp_bench_sample *s)
{
    return relay(err_ctx, r->ctx, once(r, s));
}

void tp_bench_runner_get_facts(const tp_bench_runner *r, tp_bench_runner_facts *f) { *f = r->facts; }

static tp_status upload_set(tp_bench_runner *r, int set, int from)
{
    for (int i = 0; i < r->n_in; i++) {
        tp_status st = tp_image_copy(r->ctx, r->host[from][i], &r->dev[set * r->n_in + i], TP_DEVICE);
        if (st)
            return st;
    }
    return TP_OK;
}

/* The first call: it warms up and is the one whose peak memory and output size are recorded. The
 * cuda+transfers case goes through the dispatcher's own staging (host in, host out). */
static tp_status first_call(tp_bench_runner *r)
{
    const tp_image *in[MAX_IN];
    for (int i = 0; i < r->n_in; i++)
        in[i] = r->c.backend == TP_BENCH_CUDA ? &r->dev[i] : r->host[0][i];
    int64_t bytes_in = 0;
    for (int i = 0; i < r->n_in; i++)
        bytes_in += image_bytes(in[i]);
    tp_result res = tp_result_empty();
    tp_bench_host_peak hp;
    if (r->be == TP_BACKEND_CUDA)
        tp_device_mem_reset_peak();
    tp_bench_host_peak_begin(&hp);
    tp_status st = run_call(r, in, &res);
    if (!st)
        st = tp_context_sync(r->ctx);
    r->facts.peak_host_bytes = tp_bench_host_peak_end(&hp);
    r->facts.peak_device_bytes = r->be == TP_BACKEND_CUDA ? tp_device_mem_peak() : -1;
    if (!st)
        r->facts.bytes_min = bytes_in + result_bytes(&res);
    tp_result_free(&res);
    return st;
}

/* The case asked for is the benchmark's; when its parameters do not apply to this shape (a 2D footprint on a
 * 3D image), the descriptor's next case that does is taken, and the facts say which. */
static tp_status first_call_with_case(tp_bench_runner *r)
{
    const tp_case_desc *cases = r->c.op->cases;
    tp_status st = TP_ERR_ARG;
    for (int k = -1; st == TP_ERR_ARG && (k < 0 || (cases && cases[k].params)); k++) {
        const char *text = k < 0 ? r->c.params : cases[k].params;
        if (k >= 0 && r->c.params && !strcmp(text, r->c.params))
            continue;
        tp_params_destroy(r->params);
        r->params = NULL;
        if ((st = tp_bench_params_from_case(r->ctx, text, &r->params)))
            return st;
        st = first_call(r);
        snprintf(r->facts.params, sizeof r->facts.params, "%s", text ? text : "");
    }
    return st;
}

/* Rotate copies of the inputs when one call's bytes fit in L2, so each call starts from memory rather
 * than from what the previous call left in the cache: enough copies to cover twice the L2. The copies are
 * slices of one device block: a thousand separate allocations would slow down every cudaMalloc the op
 * makes (measured on the H100: 10 us -> 50 us per call for a 256^2 threshold with 800 live blocks). */
static tp_status add_rotation_sets(tp_bench_runner *r)
{
    int64_t l2 = tp_cuda_l2_bytes(r->ctx), ws = r->facts.bytes_min;
    if (r->c.no_rotate || l2 <= 0 || ws <= 0 || ws > l2)
        return TP_OK;
    int64_t want = (2 * l2 + ws - 1) / ws, off[MAX_IN], set_bytes = 0;
    if (want > MAX_SETS)
        want = MAX_SETS;
    for (int i = 0; i < r->n_in; i++) {
        if (!tp_image_is_contiguous(r->host[0][i]))
            return tp_error(r->ctx, TP_ERR_INTERNAL, "bench: a synthetic input is not contiguous");
        off[i] = set_bytes;
        set_bytes += (image_bytes(r->host[0][i]) + 255) / 256 * 256; /* aligned like cudaMalloc's blocks */
    }
    const tp_backend *dev = tp_backend_get(TP_BACKEND_CUDA);
    tp_status st = TP_ERR_DEVICE_NOMEM;
    while (want > 1) {
        st = dev->alloc(r->ctx, (size_t)((want - 1) * set_bytes), &r->block);
        if (st != TP_ERR_DEVICE_NOMEM)
            break;
        want /= 2; /* fewer copies is still a valid measurement */
    }
    if (want <= 1 || st == TP_ERR_DEVICE_NOMEM)
        return TP_OK;
    if (st)
        return st;
    tp_image *im = realloc(r->dev, (size_t)(want * r->n_in) * sizeof *im);
    if (!im)
        return tp_error(r->ctx, TP_ERR_NOMEM, "bench: out of host memory");
    r->dev = im;
    for (int k = r->ndistinct; k < MAX_DISTINCT && k < want; k++, r->ndistinct++)
        if ((st = load_host_set(r, k)))
            return st;
    for (int set = 1; set < want; set++) {
        for (int i = 0; i < r->n_in; i++) {
            const tp_image *h = r->host[set % r->ndistinct][i];
            char *p = (char *)r->block + (set - 1) * set_bytes + off[i];
            if ((st = dev->copy(r->ctx, p, TP_DEVICE, h->data, TP_HOST, (size_t)image_bytes(h))))
                return st;
            tp_image *d = &r->dev[set * r->n_in + i];
            *d = tp_image_wrap(p, h->dtype, h->ndim, h->shape, h->channel_axis, TP_DEVICE);
            d->device = r->ctx->device;
            memcpy(d->spacing, h->spacing, sizeof d->spacing);
        }
        r->nsets = set + 1;
    }
    r->facts.input_sets = r->nsets;
    return TP_OK;
}

static tp_status warm_up(tp_bench_runner *r)
{
    double t0 = tp_bench_now_ms();
    tp_bench_sample s;
    for (int n = 0; n < 1000 && tp_bench_now_ms() - t0 < 20.0; n++) {
        tp_status st = once(r, &s);
        if (st)
            return st;
    }
    return TP_OK;
}

static tp_status runner_setup(tp_bench_runner *r)
{
    const tp_bench_case *c = &r->c;
    tp_status st = tp_context_create(&r->ctx);
    if (st)
        return st;
    if (c->op->n_inputs < 1 || c->op->n_inputs > MAX_IN)
        return tp_error(r->ctx, TP_ERR_INTERNAL, "bench: %s: %d inputs", c->op->name, c->op->n_inputs);
    r->n_in = c->op->bench_inputs > 0 && c->op->bench_inputs < c->op->n_inputs ? c->op->bench_inputs
                                                                                : c->op->n_inputs;
    r->be = tp_bench_backend_is_cuda(c->backend) ? TP_BACKEND_CUDA : TP_BACKEND_CPU;
    char why[256];
    if (!tp_backend_available(r->be, why, sizeof why))
        return tp_error(r->ctx, TP_ERR_NO_DEVICE, "%s: the %s backend is not available: %s", c->op->name,
                        tp_backend_name(r->be), why);
    if (r->be == TP_BACKEND_CUDA && (st = tp_context_set_device(r->ctx, c->device)))
        return st;
    if ((st = tp_context_set_threads(r->ctx, c->backend == TP_BENCH_CPU_1T ? 1 : c->threads)))
        return st;
    r->radius = tp_bench_radius_for_regions(c->ndim, c->shape, c->regions);
    if ((st = load_host_set(r, 0)))
        return st;
    r->ndistinct = 1;
    r->nsets = 1;
    if (c->backend == TP_BENCH_CUDA) {
        r->dev = calloc((size_t)r->n_in, sizeof *r->dev);
        if (!r->dev)
            return tp_error(r->ctx, TP_ERR_NOMEM, "bench: out of host memory");
        for (int i = 0; i < r->n_in; i++)
            r->dev[i] = tp_image_empty();
        if ((st = upload_set(r, 0, 0)))
            return st;
    }
    if (r->be == TP_BACKEND_CUDA && (st = tp_cuda_timer_create(r->ctx, &r->timer)))
        return st;
    if ((st = first_call_with_case(r)))
        return st;
    if (c->backend == TP_BENCH_CUDA && (st = add_rotation_sets(r)))
        return st;
    return warm_up(r);
}

tp_status tp_bench_runner_create(tp_context *err_ctx, const tp_bench_case *c, tp_bench_runner **out)
{
    *out = NULL;
    tp_bench_runner *r = calloc(1, sizeof *r);
    if (!r)
        return tp_error(err_ctx, TP_ERR_NOMEM, "bench: out of host memory");
    r->c = *c;
    r->facts.bytes_min = -1;
    r->facts.peak_device_bytes = -1;
    r->facts.peak_host_bytes = -1;
    r->facts.input_sets = 1;
    r->facts.regions = -1;
    snprintf(r->facts.dtype, sizeof r->facts.dtype, "%s", tp_bench_case_dtype_name(c));
    tp_status st = runner_setup(r);
    if (st) {
        if (r->ctx)
            relay(err_ctx, r->ctx, st);
        else
            tp_error(err_ctx, st, "bench: cannot create a context");
        tp_bench_runner_destroy(r);
        return st;
    }
    *out = r;
    return TP_OK;
}

tp_status tp_bench_measure_op(tp_context *ctx, const tp_op_desc *op, int ndim, const int64_t *shape,
                              tp_bench_backend backend, double min_time_s, double *median_ms)
{
    *median_ms = NAN;
    if (!op || (ndim != 2 && ndim != 3) || (unsigned)backend >= TP_BENCH_BACKEND_COUNT)
        return tp_error(ctx, TP_ERR_ARG, "bench: measure: expected an op, a 2D or 3D shape and a backend");
    tp_bench_case c;
    memset(&c, 0, sizeof c);
    c.op = op;
    c.params = op->cases && op->cases[0].params ? op->cases[0].params : "";
    c.ndim = ndim;
    memcpy(c.shape, shape, (size_t)ndim * sizeof *shape);
    c.gray_dtype = TP_UINT8;
    c.backend = backend;
    c.threads = tp_context_threads(ctx);
    c.device = ctx->device;
    c.seed = 1;
    tp_bench_runner *r = NULL;
    tp_status st = tp_bench_runner_create(ctx, &c, &r);
    if (st)
        return st;
    tp_bench_samples ms = {0};
    double limit = (min_time_s > 0 ? min_time_s : 0.2) * 1e3, t0 = tp_bench_now_ms();
    while (!st && (ms.n < 3 || tp_bench_now_ms() - t0 < limit) && ms.n < 100000) {
        tp_bench_sample s;
        st = tp_bench_runner_once(ctx, r, &s);
        if (!st && tp_bench_samples_push(&ms, s.ms))
            st = tp_error(ctx, TP_ERR_NOMEM, "bench: out of host memory");
    }
    if (!st) {
        tp_bench_stats stats;
        tp_bench_stats_compute(ms.v, ms.n, &stats);
        *median_ms = stats.median_ms;
    }
    tp_bench_samples_free(&ms);
    tp_bench_runner_destroy(r);
    return st;
}

/* ---- the active registered benchmark and progress lines ---- */

static tp_bench_item *g_active;
static int g_total;
static double g_t0 = -1;

void tp_bench_set_progress_total(int total)
{
    g_total = total;
    g_t0 = tp_bench_now_ms();
}

void tp_bench_item_finish_active(void)
{
    tp_bench_item *it = g_active;
    g_active = NULL;
    if (it && !it->done) {
        it->done = 1;
        it->finish(it);
    }
}

void tp_bench_item_activate(tp_bench_item *it)
{
    if (g_active == it)
        return;
    tp_bench_item_finish_active();
    g_active = it;
    it->started_ms = tp_bench_now_ms();
    if (g_t0 < 0)
        g_t0 = it->started_ms;
    fprintf(stderr, "[%*d/%d] %s ...", g_total >= 100 ? 3 : 2, it->index + 1, g_total, it->name);
    fflush(stderr);
}

void tp_bench_progress(const tp_bench_item *it, const char *what)
{
    double now = tp_bench_now_ms();
    fprintf(stderr, " %s (%.2f s; %.1f s so far)\n", what, (now - it->started_ms) * 1e-3, (now - g_t0) * 1e-3);
    fflush(stderr);
}

static tp_bench_item **g_items;
static int g_nitems, g_cap_items;

int tp_bench_items_add(tp_bench_item *it)
{
    if (g_nitems == g_cap_items) {
        int cap = g_cap_items ? 2 * g_cap_items : 64;
        tp_bench_item **v = realloc(g_items, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        g_items = v;
        g_cap_items = cap;
    }
    it->index = g_nitems;
    g_items[g_nitems++] = it;
    return 0;
}

int tp_bench_items_count(void) { return g_nitems; }

const tp_bench_item *tp_bench_item_at(int i) { return i >= 0 && i < g_nitems ? g_items[i] : NULL; }

void tp_bench_items_release(void)
{
    g_active = NULL;
    for (int i = 0; i < g_nitems; i++)
        g_items[i]->destroy(g_items[i]);
    free(g_items);
    g_items = NULL;
    g_nitems = g_cap_items = 0;
    g_t0 = -1;
}

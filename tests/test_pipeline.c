/* The pipeline runner (core/pipeline.c): its results equal step-by-step tp_run calls, each result is freed
 * as soon as no later step reads it (inputs and "@step" parameters, through skipped steps too) and only after
 * the callback saw it, and the statistics say what was held. With a CUDA device the same runs check that the
 * device memory actually held between steps is what the runner reports, and that nothing is left after. The
 * stage digest (core/digest.c, `twinpix run`'s parity) hashes every float NaN alike. */
#include "core/pipeline.h"
#include "datasets/datasets.h"
#include "tests/support/tp_test.h"

#include <string.h>

/* ---- what the callback saw: a host copy of every result ---- */

typedef struct seen {
    int n;
    int called[TP_PIPE_MAX_STEPS];
    int skipped[TP_PIPE_MAX_STEPS];
    tp_result copy[TP_PIPE_MAX_STEPS];
    const tp_pipe_stats *stats; /* the run's statistics, filled as it goes */
    int stop_after;             /* return non-zero after this step (-1: never) */
    int64_t dev_base;           /* device bytes before the run */
    int dev_checks, dev_bad;
} seen;

static void seen_init(seen *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < TP_PIPE_MAX_STEPS; i++)
        s->copy[i] = tp_result_empty();
    s->stop_after = -1;
}

static void seen_free(seen *s)
{
    for (int i = 0; i < TP_PIPE_MAX_STEPS; i++)
        tp_result_free(&s->copy[i]);
}

static int record(void *user, int i, const tp_pipe_step *st, const tp_result *r, double ms)
{
    (void)st;
    (void)ms;
    seen *s = user;
    s->n = i + 1;
    s->called[i] = 1;
    s->skipped[i] = r == NULL;
    if (r) {
        tp_result *c = &s->copy[i];
        c->kind = r->kind;
        if (r->kind == TP_OUT_TABLE) {
            c->table.nrows = r->table.nrows;
            for (int k = 0; k < r->table.ncols; k++)
                if (!tp_table_add_column(NULL, &c->table, r->table.cols[k].name, r->table.cols[k].dtype))
                    memcpy(c->table.cols[k].data, r->table.cols[k].data,
                           (size_t)r->table.nrows * tp_dtype_size(r->table.cols[k].dtype));
        } else if (tp_image_copy(NULL, &r->image, &c->image, TP_HOST)) {
            return 1;
        }
    }
    return i == s->stop_after;
}

/* Before step i: the frees after step i - 1 are done, so the device holds exactly held_after[i - 1]. */
static void before(void *user, int i, const tp_pipe_step *st)
{
    (void)st;
    seen *s = user;
    if (i == 0 || !s->stats || s->dev_base < 0)
        return;
    s->dev_checks++;
    int64_t now = tp_device_mem_current() - s->dev_base;
    if (now != s->stats->held_after[i - 1]) {
        s->dev_bad++;
        fprintf(stderr, "  before step %d: device holds %lld bytes, the runner says %lld\n", i, (long long)now,
                (long long)s->stats->held_after[i - 1]);
    }
}

static int same_image(const tp_image *a, const tp_image *b)
{
    return a->dtype == b->dtype && a->ndim == b->ndim &&
           !memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->ndim) &&
           !memcmp(a->data, b->data, (size_t)tp_image_count(a) * tp_dtype_size(a->dtype));
}

static int same_table(const tp_table *a, const tp_table *b)
{
    if (a->nrows != b->nrows || a->ncols != b->ncols)
        return 0;
    for (int c = 0; c < a->ncols; c++)
        if (strcmp(a->cols[c].name, b->cols[c].name) || a->cols[c].dtype != b->cols[c].dtype ||
            memcmp(a->cols[c].data, b->cols[c].data, (size_t)a->nrows * tp_dtype_size(a->cols[c].dtype)))
            return 0;
    return 1;
}

static tp_status run1(const char *op, const tp_image *a, const tp_image *b, const char *k, const char *v,
                      const tp_image *pimg, tp_result *out)
{
    tp_params *p = NULL;
    tp_status st = tp_params_create(&p);
    if (!st && k && v)
        st = tp_params_set(p, k, v);
    if (!st && k && pimg)
        st = tp_params_set_image(p, k, pimg);
    const tp_image *ins[2] = {a, b};
    if (!st)
        st = tp_run_on(tp_test_ctx, TP_BACKEND_CPU, op, ins, b ? 2 : 1, p, out);
    tp_params_destroy(p);
    return st;
}

/* The seed pipeline by hand, on the CPU: results[i] as the runner numbers its steps (channel skipped). */
static int seed_by_hand(const tp_image *in, const char *footprint, tp_result *res)
{
    for (int i = 0; i < 8; i++)
        res[i] = tp_result_empty();
    const tp_image *ch = in;
    if (in->channel_axis >= 0) {
        CHECK_OK(run1("extract_channel", in, NULL, "channel", "1", NULL, &res[0]));
        ch = &res[0].image;
    }
    CHECK_OK(run1("gaussian", ch, NULL, "sigma", "5", NULL, &res[1]));
    CHECK_OK(run1("threshold_otsu", &res[1].image, NULL, NULL, NULL, NULL, &res[2]));
    CHECK_OK(run1("threshold", &res[1].image, NULL, "threshold", NULL, &res[2].image, &res[3]));
    CHECK_OK(run1("binary_erosion", &res[3].image, NULL, "footprint", footprint, NULL, &res[4]));
    CHECK_OK(run1("label", &res[4].image, NULL, NULL, NULL, NULL, &res[5]));
    CHECK_OK(run1("label2rgb", &res[5].image, NULL, NULL, NULL, NULL, &res[6]));
    CHECK_OK(run1("regionprops_table", &res[5].image, ch, "properties", "label,area,mean_intensity,solidity", NULL,
                  &res[7]));
    return res[7].table.ncols == 4 ? 0 : 1;
}

static int64_t img_bytes(const tp_image *im) { return tp_image_count(im) * (int64_t)tp_dtype_size(im->dtype); }

static int64_t res_bytes(const tp_result *r)
{
    int64_t b = r->image.data ? img_bytes(&r->image) : 0;
    for (int c = 0; c < r->table.ncols; c++)
        b += r->table.nrows * (int64_t)tp_dtype_size(r->table.cols[c].dtype);
    return b;
}

/* Run the seed pipeline on `be` and check it against the hand-made results and the liveness rules. */
static void check_seed(const tp_image *in, tp_backend_id be)
{
    int is3d = tp_image_spatial_ndim(in) == 3, chans = in->channel_axis >= 0;
    const char *fp = is3d ? "ball:2" : "disk:2";
    tp_pipeline p;
    tp_pipeline_seed(&p);
    if (is3d)
        CHECK_OK(tp_pipeline_set(tp_test_ctx, &p, "eroded.footprint=ball:2"));
    tp_result want[8];
    if (seed_by_hand(in, fp, want)) {
        CHECK(!"the step-by-step run failed");
        for (int i = 0; i < 8; i++)
            tp_result_free(&want[i]);
        return;
    }
    seen s;
    seen_init(&s);
    tp_pipe_stats stats;
    s.stats = &stats;
    s.dev_base = be == TP_BACKEND_CUDA ? tp_device_mem_current() : -1;
    tp_pipe_opts o;
    memset(&o, 0, sizeof o);
    o.cb = record;
    o.before = before;
    o.user = &s;
    o.stats = &stats;
    CHECK_OK(tp_pipeline_run_opts(tp_test_ctx, &p, be, in, &o));
    CHECK(s.n == 8);
    CHECK(s.skipped[0] == !chans);
    for (int i = chans ? 0 : 1; i < 8; i++) {
        CHECK_MSG(s.called[i] && !s.skipped[i], "step %d", i);
        if (i == 7)
            CHECK_MSG(same_table(&s.copy[i].table, &want[i].table), "table differs (backend %s)", tp_backend_name(be));
        else
            CHECK_MSG(s.copy[i].image.data && same_image(&s.copy[i].image, &want[i].image), "step %s differs (%s)",
                      p.steps[i].name, tp_backend_name(be));
    }
    /* what the runner held: the input (the caller's, or on CUDA its device copy) plus the live results */
    int64_t in_b = img_bytes(in), b[8];
    for (int i = 0; i < 8; i++)
        b[i] = res_bytes(&want[i]);
    /* results live after each step: [channel] blurred, threshold; binary (blurred and threshold freed);
     * eroded; labels; labels (overlay freed after its callback); none. With channels, the channel image
     * lives to the end (the table reads it). */
    const int live[8] = {chans, 1 + chans, 2 + chans, 1 + chans, 1 + chans, 1 + chans, 1 + chans, 0};
    const int64_t ch = chans ? b[0] : 0;
    const int64_t during[8] = {chans ? in_b + b[0] : in_b,
                               in_b + ch + b[1],
                               in_b + ch + b[1] + b[2],
                               in_b + ch + b[1] + b[2] + b[3],
                               in_b + ch + b[3] + b[4],
                               in_b + ch + b[4] + b[5],
                               in_b + ch + b[5] + b[6],
                               in_b + ch + b[5] + b[7]};
    const int64_t after[8] = {in_b + ch, in_b + ch + b[1], in_b + ch + b[1] + b[2], in_b + ch + b[3],
                              in_b + ch + b[4], in_b + ch + b[5], in_b + ch + b[5], in_b};
    /* on CUDA the runner's device copy of a host input is freed after its last reader: with channels that is
     * extract_channel, without them the table (through the skipped channel step) */
    int64_t dev_in_after[8];
    for (int i = 0; i < 8; i++)
        dev_in_after[i] = be == TP_BACKEND_CUDA && (chans ? i >= 0 : i == 7) ? 0 : in_b;
    for (int i = 0; i < 8; i++) {
        CHECK_MSG(stats.results_live[i] == live[i], "step %d: %d results live, expected %d", i, stats.results_live[i],
                  live[i]);
        int64_t exp_during = during[i], exp_after = after[i] - in_b + dev_in_after[i];
        if (be == TP_BACKEND_CUDA && chans && i > 0)
            exp_during -= in_b; /* the device copy of the input went after extract_channel */
        CHECK_MSG(stats.held_during[i] == exp_during, "step %d: held %lld during, expected %lld", i,
                  (long long)stats.held_during[i], (long long)exp_during);
        CHECK_MSG(stats.held_after[i] == exp_after, "step %d: held %lld after, expected %lld", i,
                  (long long)stats.held_after[i], (long long)exp_after);
    }
    int64_t peak = 0;
    for (int i = 0; i < 8; i++)
        peak = stats.held_during[i] > peak ? stats.held_during[i] : peak;
    CHECK(stats.peak_held == peak);
    /* the old runner held all of them at the end: the sum of every result */
    int64_t sum = in_b;
    for (int i = chans ? 0 : 1; i < 8; i++)
        sum += b[i];
    CHECK_MSG(stats.peak_held < sum, "peak %lld, the sum of all results %lld", (long long)stats.peak_held,
              (long long)sum);
    CHECK(stats.freed == (chans ? 8 : 7));
    CHECK(stats.wall_ms >= 0);
    if (be == TP_BACKEND_CUDA) {
        CHECK_MSG(s.dev_checks == 7 && s.dev_bad == 0, "%d device checks, %d wrong", s.dev_checks, s.dev_bad);
        CHECK_MSG(tp_device_mem_current() == s.dev_base, "%lld device bytes left after the run",
                  (long long)(tp_device_mem_current() - s.dev_base));
    }
    seen_free(&s);
    for (int i = 0; i < 8; i++)
        tp_result_free(&want[i]);
}

static tp_image synth(int ndim, int64_t a, int64_t b, int64_t c, uint64_t seed)
{
    tp_synth_params sp;
    memset(&sp, 0, sizeof sp);
    sp.ndim = ndim;
    sp.shape[0] = a;
    sp.shape[1] = b;
    sp.shape[2] = c;
    sp.dtype = TP_UINT8;
    sp.seed = seed;
    sp.radius = 5;
    tp_image im = tp_image_empty();
    CHECK_OK(tp_synth_nuclei(tp_test_ctx, &sp, &im, NULL));
    return im;
}

static int test_seed_2d_matches_steps_and_frees(void)
{
    tp_image im = synth(2, 96, 120, 0, 7);
    check_seed(&im, TP_BACKEND_CPU);
    if (tp_backend_available(TP_BACKEND_CUDA, NULL, 0))
        check_seed(&im, TP_BACKEND_CUDA);
    tp_image_free(&im);
    return 0;
}

static int test_seed_3d_matches_steps_and_frees(void)
{
    tp_image im = synth(3, 24, 40, 36, 8);
    check_seed(&im, TP_BACKEND_CPU);
    if (tp_backend_available(TP_BACKEND_CUDA, NULL, 0))
        check_seed(&im, TP_BACKEND_CUDA);
    tp_image_free(&im);
    return 0;
}

/* RGB input: extract_channel runs, and its result lives to the end (the table's intensity image). */
static int test_seed_channels(void)
{
    tp_image rgb = tp_image_empty();
    const int64_t shape[2] = {80, 72};
    CHECK_OK(tp_synth_input(tp_test_ctx, "rgb", 2, shape, TP_UINT8, 11, &rgb));
    if (!rgb.data)
        return 1;
    check_seed(&rgb, TP_BACKEND_CPU);
    if (tp_backend_available(TP_BACKEND_CUDA, NULL, 0))
        check_seed(&rgb, TP_BACKEND_CUDA);
    tp_image_free(&rgb);
    return 0;
}

static void add(tp_pipeline *p, const char *name, const char *op, const char *in0, const char *params, int only_ch)
{
    tp_pipe_step *s = &p->steps[p->n++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->op, sizeof s->op, "%s", op);
    snprintf(s->inputs[0], sizeof s->inputs[0], "%s", in0);
    snprintf(s->params, sizeof s->params, "%s", params);
    s->only_if_channels = only_ch;
}

/* An "@step" parameter keeps its step alive across steps that do not read it; a skipped step passes its
 * input through and keeps that alive; a step nothing reads is freed right after its callback. */
static int test_references_keep_results_alive(void)
{
    tp_image im = synth(2, 64, 64, 0, 9);
    tp_pipeline p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "refs");
    add(&p, "a", "gaussian", "input", "sigma=2", 0);          /* 0: read by b only */
    add(&p, "b", "threshold_otsu", "a", "", 0);               /* 1: read by e through @b */
    add(&p, "pass", "extract_channel", "a", "channel=0", 1);  /* 2: skipped: passes a through */
    add(&p, "c", "gaussian", "input", "sigma=1", 0);          /* 3: read by e */
    add(&p, "unread", "img_as_float", "input", "", 0);        /* 4: read by nobody */
    add(&p, "e", "threshold", "c", "threshold=@b", 0);        /* 5 */
    add(&p, "f", "label", "e", "", 0);                        /* 6 */
    add(&p, "g", "regionprops_table", "f", "properties=label,area", 0); /* 7 */
    snprintf(p.steps[7].inputs[1], sizeof p.steps[7].inputs[1], "pass"); /* the intensity: a, via pass */
    seen s;
    seen_init(&s);
    tp_pipe_stats stats;
    tp_pipe_opts o;
    memset(&o, 0, sizeof o);
    o.cb = record;
    o.user = &s;
    o.stats = &stats;
    s.dev_base = -1;
    CHECK_OK(tp_pipeline_run_opts(tp_test_ctx, &p, TP_BACKEND_CPU, &im, &o));
    CHECK(s.n == 8 && s.skipped[2] && !s.skipped[4]);
    /* live after: a; a b; a b (pass = a); a b c; a b c (unread freed); a e (b, c freed); a f; none */
    const int live[8] = {1, 2, 2, 3, 3, 2, 2, 0};
    for (int i = 0; i < 8; i++)
        CHECK_MSG(stats.results_live[i] == live[i], "after step %s: %d live, expected %d", p.steps[i].name,
                  stats.results_live[i], live[i]);
    int64_t n = tp_image_count(&im);
    CHECK(stats.held_during[4] == n + 8 * n + 8 + 8 * n + 8 * n); /* input, a, b, c, unread (float64) */
    CHECK(stats.held_after[4] == n + 8 * n + 8 + 8 * n);
    CHECK(stats.freed == 7);
    /* the table's intensity image is a (the blurred image), seen through the skipped step */
    const tp_column *mean = tp_table_find(&s.copy[7].table, "area");
    CHECK(mean != NULL && s.copy[7].table.nrows > 0);
    seen_free(&s);
    tp_image_free(&im);
    return 0;
}

/* tp_pipeline_run (the old entry point) stops when the callback asks, and frees everything. */
static int test_stop_early_frees(void)
{
    tp_image im = synth(2, 64, 80, 0, 10);
    tp_pipeline p;
    tp_pipeline_seed(&p);
    seen s;
    seen_init(&s);
    s.stop_after = 3;
    CHECK_OK(tp_pipeline_run(tp_test_ctx, &p, TP_BACKEND_CPU, &im, record, &s, NULL));
    CHECK(s.n == 4 && !s.called[4]);
    seen_free(&s);
    if (tp_backend_available(TP_BACKEND_CUDA, NULL, 0)) {
        int64_t base = tp_device_mem_current();
        seen_init(&s);
        s.stop_after = 5;
        double up = -1;
        CHECK_OK(tp_pipeline_run(tp_test_ctx, &p, TP_BACKEND_CUDA, &im, record, &s, &up));
        CHECK(s.n == 6 && up >= 0);
        CHECK(tp_device_mem_current() == base);
        seen_free(&s);
    }
    /* an unknown input fails cleanly */
    snprintf(p.steps[3].inputs[0], sizeof p.steps[3].inputs[0], "nosuch");
    seen_init(&s);
    CHECK(tp_pipeline_run(tp_test_ctx, &p, TP_BACKEND_CPU, &im, record, &s, NULL) == TP_ERR_ARG);
    CHECK(s.n == 3);
    seen_free(&s);
    tp_image_free(&im);
    return 0;
}

/* ---- the stage digest (core/digest.c) ---- */

static uint64_t digest_of(const tp_result *r)
{
    tp_digester d;
    tp_digester_init(&d, 2);
    uint64_t h = 0;
    CHECK_OK(tp_result_digest(tp_test_ctx, &d, r, &h));
    tp_digester_free(&d);
    return h;
}

static void set_bits(void *elem, uint64_t bits, size_t size)
{
    if (size == 4) {
        uint32_t u = (uint32_t)bits;
        memcpy(elem, &u, 4);
    } else {
        memcpy(elem, &bits, 8);
    }
}

/* XXH64's published values; NaNs of any sign and payload digest alike (compare/'s exact contract) in float
 * images and tables, while a NaN against a number, or integers with a NaN's bits, still differ. */
static int test_digest_nan_canonical(void)
{
    CHECK(tp_xxh64(NULL, 0, 0) == 0xEF46DB3751D8E999ull);
    CHECK(tp_xxh64("abc", 3, 0) == 0x44BC2CF5AD770999ull);
    CHECK(tp_xxh64("Nobody inspects the spammish repetition", 39, 0) == 0xFBCEA83C8A378BF1ull);
    enum { N = 3001 }; /* float64: several of digest.c's 4 KiB blocks and a tail that is not whole stripes */
    static double a[N], b[N];
    static float fa[N], fb[N];
    for (int i = 0; i < N; i++) {
        a[i] = b[i] = 0.25 * i - 100;
        fa[i] = fb[i] = (float)a[i];
    }
    CHECK(tp_xxh64_values(a, sizeof a, TP_FLOAT64, 3) == tp_xxh64(a, sizeof a, 3));
    CHECK(tp_xxh64_values(fa, sizeof fa, TP_FLOAT32, 3) == tp_xxh64(fa, sizeof fa, 3));
    /* x86's default NaN, a positive quiet one, a signalling one with a payload, CUDA's float NaN */
    const uint64_t d1 = 0xFFF8000000000000ull, d2 = 0x7FF8000000000000ull, d3 = 0x7FF0000000000001ull;
    const uint64_t f1 = 0xFFC00000u, f2 = 0x7FFFFFFFu, f3 = 0x7F800001u;
    const int at[3] = {5, 1700, N - 1};
    for (int k = 0; k < 3; k++) {
        set_bits(&a[at[k]], k == 0 ? d1 : k == 1 ? d2 : d3, 8);
        set_bits(&b[at[k]], k == 0 ? d3 : k == 1 ? d1 : d2, 8);
        set_bits(&fa[at[k]], k == 0 ? f1 : k == 1 ? f2 : f3, 4);
        set_bits(&fb[at[k]], k == 0 ? f3 : k == 1 ? f1 : f2, 4);
    }
    CHECK(tp_xxh64(a, sizeof a, 0) != tp_xxh64(b, sizeof b, 0));
    CHECK(tp_xxh64_values(a, sizeof a, TP_INT64, 0) != tp_xxh64_values(b, sizeof b, TP_INT64, 0));
    const int64_t shape[2] = {1, N};
    tp_result ra = tp_result_empty(), rb = tp_result_empty();
    ra.image = tp_image_wrap(a, TP_FLOAT64, 2, shape, -1, TP_HOST);
    rb.image = tp_image_wrap(b, TP_FLOAT64, 2, shape, -1, TP_HOST);
    CHECK(digest_of(&ra) == digest_of(&rb));
    ra.image = tp_image_wrap(fa, TP_FLOAT32, 2, shape, -1, TP_HOST);
    rb.image = tp_image_wrap(fb, TP_FLOAT32, 2, shape, -1, TP_HOST);
    const uint64_t fsame = digest_of(&ra);
    CHECK(fsame == digest_of(&rb));
    fb[N - 1] = 1.0f; /* a number where the other has a NaN */
    CHECK(fsame != digest_of(&rb));
    /* a table's float column */
    tp_column ca = {"x", TP_FLOAT64, a}, cb = {"x", TP_FLOAT64, b};
    tp_result ta = tp_result_empty(), tb = tp_result_empty();
    ta.kind = tb.kind = TP_OUT_TABLE;
    ta.table = (tp_table){N, 1, &ca};
    tb.table = (tp_table){N, 1, &cb};
    CHECK(digest_of(&ta) == digest_of(&tb));
    b[0] = 1.0; /* one value changed */
    CHECK(digest_of(&ta) != digest_of(&tb));
    return 0;
}

TP_TESTS(T(test_seed_2d_matches_steps_and_frees), T(test_seed_3d_matches_steps_and_frees), T(test_seed_channels),
         T(test_references_keep_results_alive), T(test_stop_early_frees), T(test_digest_nan_canonical))

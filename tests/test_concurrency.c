/* Several threads, each with its own context, run the seed pipeline at once; every stage's output must be
 * identical to a serial run. And many threads parse list-valued parameters (colours, property names) at once:
 * each call's result is its own parameters' (the parser once used strtok, whose hidden state the threads
 * shared; the H100's four-stream test failed about one run in thirty on it). Built with -DTWINPIX_TSAN=ON
 * (scripts/sanitize.sh) this runs under ThreadSanitizer. */
#include "datasets/datasets.h"
#include "tests/support/tp_pipeline_check.h"
#include "tests/support/tp_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTHREADS 4

typedef struct job {
    const tp_image *img;
    tp_fingerprint fp;
    tp_status st;
    int omp_threads;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    tp_context *ctx = NULL;
    j->st = tp_context_create(&ctx);
    if (!j->st)
        j->st = tp_context_set_threads(ctx, j->omp_threads);
    if (!j->st)
        j->st = tp_seed_fingerprint(ctx, TP_BACKEND_CPU, j->img, &j->fp);
    tp_context_destroy(ctx);
    return NULL;
}

static int test_threads_match_serial(void)
{
    tp_image imgs[NTHREADS];
    job jobs[NTHREADS];
    tp_fingerprint serial[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        tp_synth_params sp;
        memset(&sp, 0, sizeof sp);
        sp.ndim = 2;
        sp.shape[0] = 96 + 16 * i;
        sp.shape[1] = 128;
        sp.dtype = TP_UINT8;
        sp.seed = 1000 + (uint64_t)i;
        imgs[i] = tp_image_empty();
        CHECK_OK(tp_synth_nuclei(tp_test_ctx, &sp, &imgs[i], NULL));
        if (!imgs[i].data)
            return 1;
        tp_context_set_threads(tp_test_ctx, 1);
        CHECK_OK(tp_seed_fingerprint(tp_test_ctx, TP_BACKEND_CPU, &imgs[i], &serial[i]));
    }
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].img = &imgs[i];
        /* mixed OpenMP team sizes (results must not depend on them); under ThreadSanitizer (TP_TSAN=1) one
         * thread each: libgomp is not instrumented, so TSan cannot see its barriers and reports them */
        jobs[i].omp_threads = getenv("TP_TSAN") ? 1 : 1 + i % 2;
        CHECK(pthread_create(&th[i], NULL, worker, &jobs[i]) == 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < NTHREADS; i++) {
        CHECK_MSG(jobs[i].st == TP_OK, "thread %d: %s", i, tp_status_str(jobs[i].st));
        CHECK(jobs[i].fp.n == serial[i].n && serial[i].n == 8);
        for (int s = 0; s < serial[i].n; s++)
            CHECK_MSG(jobs[i].fp.hash[s] == serial[i].hash[s], "thread %d stage %d differs from the serial run", i, s);
        tp_image_free(&imgs[i]);
    }
    return 0;
}

/* label2rgb's bg_color and regionprops_table's property list, each thread its own values, many calls. */
typedef struct parse_job {
    int id;
    int iters;
    int bad; /* calls whose result was not this thread's */
    char why[256];
} parse_job;

static void *parse_worker(void *arg)
{
    parse_job *j = arg;
    tp_context *ctx = NULL;
    if (tp_context_create(&ctx)) {
        j->bad = -1;
        return NULL;
    }
    uint8_t lab[4] = {0, 1, 0, 2};
    const int64_t shape[2] = {2, 2};
    tp_image li = tp_image_wrap(lab, TP_UINT8, 2, shape, -1, TP_HOST);
    const tp_image *in[1] = {&li};
    /* thread k: background grey k/8, the table's columns in an order of its own */
    static const char *props[4] = {"label,area", "area,label", "label,bbox", "bbox,area,label"};
    static const int ncols[4] = {2, 2, 5, 6};
    static const char *first[4] = {"label", "area", "label", "bbox-0"};
    char color[64];
    const double g = j->id / 8.0;
    snprintf(color, sizeof color, "%g,%g,%g", g, g, g);
    for (int it = 0; it < j->iters && !j->bad; it++) {
        tp_params *p = NULL;
        tp_result r = tp_result_empty();
        tp_status st = tp_params_create(&p);
        if (!st)
            st = tp_params_set(p, "bg_color", color);
        if (!st)
            st = tp_run_on(ctx, TP_BACKEND_CPU, "label2rgb", in, 1, p, &r);
        if (!st && (((const double *)r.image.data)[0] != g || ((const double *)r.image.data)[6] != g)) {
            snprintf(j->why, sizeof j->why, "label2rgb: background %g, expected %g", ((const double *)r.image.data)[0], g);
            j->bad = 1;
        }
        tp_result_free(&r);
        tp_params_destroy(p);
        p = NULL;
        const int k = j->id % 4;
        if (!st && !(st = tp_params_create(&p)) && !(st = tp_params_set(p, "properties", props[k])))
            st = tp_run_on(ctx, TP_BACKEND_CPU, "regionprops_table", in, 1, p, &r);
        if (!st && (r.table.ncols != ncols[k] || strcmp(r.table.cols[0].name, first[k]))) {
            snprintf(j->why, sizeof j->why, "regionprops_table: %d columns, first '%s', for '%s'", r.table.ncols,
                     r.table.ncols ? r.table.cols[0].name : "", props[k]);
            j->bad = 1;
        }
        tp_result_free(&r);
        tp_params_destroy(p);
        if (st) {
            snprintf(j->why, sizeof j->why, "%s: %s", tp_status_str(st), tp_last_error(ctx));
            j->bad = 1;
        }
    }
    tp_context_destroy(ctx);
    return NULL;
}

static int test_params_parse_threads(void)
{
    enum { N = 8 };
    parse_job jobs[N];
    pthread_t th[N];
    for (int i = 0; i < N; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].id = i;
        jobs[i].iters = getenv("TP_TSAN") ? 50 : 2000;
        pthread_create(&th[i], NULL, parse_worker, &jobs[i]);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++)
        CHECK_MSG(jobs[i].bad == 0, "thread %d: %s", i, jobs[i].why);
    return 0;
}

TP_TESTS(T(test_threads_match_serial), T(test_params_parse_threads))

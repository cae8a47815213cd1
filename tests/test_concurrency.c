/* Several threads, each with its own context, run the seed pipeline at once; every stage's output must be
 * identical to a serial run. Built with -DTWINPIX_TSAN=ON (scripts/sanitize.sh) this runs under
 * ThreadSanitizer. */
#include "datasets/datasets.h"
#include "tests/support/tp_pipeline_check.h"
#include "tests/support/tp_test.h"

#include <pthread.h>
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

TP_TESTS(T(test_threads_match_serial))

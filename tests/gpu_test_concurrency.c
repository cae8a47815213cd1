/* Several threads, each with its own context and so its own CUDA stream, run the seed pipeline on the GPU
 * at once; every stage equals the serial CPU reference. Skipped (exit 77) without a device. */
#include "datasets/datasets.h"
#include "tests/support/tp_pipeline_check.h"
#include "tests/support/tp_test.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static tp_status nuclei(int64_t h, int64_t w, uint64_t seed, tp_image *img)
{
    tp_synth_params sp;
    memset(&sp, 0, sizeof sp);
    sp.ndim = 2;
    sp.shape[0] = h;
    sp.shape[1] = w;
    sp.dtype = TP_UINT8;
    sp.seed = seed;
    return tp_synth_nuclei(tp_test_ctx, &sp, img, NULL);
}

typedef struct job {
    const tp_image *img;
    tp_fingerprint fp;
    tp_status st;
    char why[512]; /* the context's last error when st is not TP_OK */
} job;

static void *gpu_worker(void *arg)
{
    job *j = arg;
    tp_context *ctx = NULL;
    j->st = tp_context_create(&ctx); /* each context creates its own CUDA stream */
    if (!j->st)
        j->st = tp_seed_fingerprint(ctx, TP_BACKEND_CUDA, j->img, &j->fp);
    if (j->st && ctx)
        snprintf(j->why, sizeof j->why, "%s", tp_last_error(ctx));
    tp_context_destroy(ctx);
    return NULL;
}

static int test_streams_concurrent(void)
{
    if (!tp_test_have_cuda())
        return TP_TEST_SKIP;
    /* under the sanitizer (TP_TEST_SMALL) two threads: racecheck serialises every launch */
    enum { NMAX = 4 };
    const int N = tp_test_small() ? 2 : NMAX;
    tp_image imgs[NMAX];
    tp_fingerprint ref[NMAX];
    job jobs[NMAX];
    pthread_t th[NMAX];
    for (int i = 0; i < N; i++) {
        imgs[i] = tp_image_empty();
        CHECK_OK(nuclei(300 + 37 * i, 411, 100 + (uint64_t)i, &imgs[i]));
        CHECK_OK(tp_seed_fingerprint(tp_test_ctx, TP_BACKEND_CPU, &imgs[i], &ref[i]));
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].img = &imgs[i];
    }
    for (int i = 0; i < N; i++)
        pthread_create(&th[i], NULL, gpu_worker, &jobs[i]);
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        CHECK_MSG(jobs[i].st == TP_OK, "stream %d: %s: %s", i, tp_status_str(jobs[i].st), jobs[i].why);
        for (int s = 0; s < ref[i].n; s++)
            CHECK_MSG(jobs[i].fp.hash[s] == ref[i].hash[s], "stream %d stage %d differs from the CPU", i, s);
        tp_image_free(&imgs[i]);
    }
    return 0;
}

TP_TESTS(T(test_streams_concurrent))

/* Facts about this build and machine for reports (compare/ and bench/ JSON "meta" blocks). */
#include "twinpix/internal.h"

#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#ifndef TP_GIT_COMMIT
#define TP_GIT_COMMIT "unknown"
#endif

static void cpu_model(char *out, size_t n)
{
    snprintf(out, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *c = strchr(line, ':');
            if (c) {
                c += 2;
                c[strcspn(c, "\n")] = 0;
                snprintf(out, n, "%s", c);
            }
            break;
        }
    }
    fclose(f);
}

void tp_meta_collect(tp_meta *m)
{
    memset(m, 0, sizeof *m);
    snprintf(m->version, sizeof m->version, "%s", TP_VERSION_STRING);
    snprintf(m->git_commit, sizeof m->git_commit, "%s", TP_GIT_COMMIT);
#ifdef TP_HAVE_CUDA
    m->cuda_built = 1;
#endif
    snprintf(m->build_flags, sizeof m->build_flags, "cuda=%s openmp=%s fp-contract=off%s",
             m->cuda_built ? "on(sm_90,-fmad=false)" : "off",
#ifdef _OPENMP
             "on",
#else
             "off",
#endif
#ifdef __OPTIMIZE__
             " optimized"
#else
             " debug"
#endif
    );
    cpu_model(m->host_cpu, sizeof m->host_cpu);
#ifdef _OPENMP
    m->host_threads = omp_get_max_threads();
#else
    m->host_threads = 1;
#endif
    gethostname(m->hostname, sizeof m->hostname - 1);
    m->gpu_count = tp_cuda_devices(&m->gpu, 1, m->gpu_why, sizeof m->gpu_why);
}

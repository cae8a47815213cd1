/* twinpix info [--json]: version, build features, CPU threads, CUDA devices or why there are none. */
#include "cli/cli_util.h"

#include <cjson/cJSON.h>
#include <string.h>

int tp_cmd_info(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: twinpix info [--json]\n");
            return TP_EXIT_OK;
        } else {
            fprintf(stderr, "twinpix info: unknown argument '%s'\n", argv[i]);
            return TP_EXIT_USAGE;
        }
    }
    tp_meta m;
    tp_meta_collect(&m);
    tp_device_info devs[8];
    char why[256] = "";
    int n = tp_cuda_devices(devs, 8, why, sizeof why);
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "version", m.version);
        cJSON_AddStringToObject(o, "git_commit", m.git_commit);
        cJSON_AddStringToObject(o, "build_flags", m.build_flags);
        cJSON_AddBoolToObject(o, "cuda_built", m.cuda_built);
        cJSON_AddStringToObject(o, "host_cpu", m.host_cpu);
        cJSON_AddNumberToObject(o, "cpu_threads", m.host_threads);
        cJSON *arr = cJSON_AddArrayToObject(o, "cuda_devices");
        for (int i = 0; i < n && i < 8; i++) {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "name", devs[i].name);
            cJSON_AddNumberToObject(d, "memory_bytes", (double)devs[i].total_mem);
            cJSON_AddNumberToObject(d, "sms", devs[i].sm_count);
            cJSON_AddNumberToObject(d, "l2_bytes", (double)devs[i].l2_bytes);
            char cc[16];
            snprintf(cc, sizeof cc, "%d.%d", devs[i].cc_major, devs[i].cc_minor);
            cJSON_AddStringToObject(d, "compute_capability", cc);
            cJSON_AddNumberToObject(d, "driver_version", devs[i].driver_version);
            cJSON_AddNumberToObject(d, "runtime_version", devs[i].runtime_version);
            cJSON_AddItemToArray(arr, d);
        }
        if (n == 0)
            cJSON_AddStringToObject(o, "cuda_unavailable_reason", why);
        char *s = cJSON_Print(o);
        printf("%s\n", s);
        cJSON_free(s);
        cJSON_Delete(o);
        return TP_EXIT_OK;
    }
    printf("twinpix %s (commit %s)\n", m.version, m.git_commit);
    printf("build:        %s\n", m.build_flags);
    printf("CPU:          %s, %d OpenMP threads\n", m.host_cpu, m.host_threads);
    if (n == 0) {
        printf("CUDA devices: none (%s)\n", why);
    } else {
        for (int i = 0; i < n && i < 8; i++)
            printf("CUDA device %d: %s, %.1f GiB, %d SMs, compute %d.%d, L2 %.0f MB, driver %d, runtime %d\n", i,
                   devs[i].name, (double)devs[i].total_mem / (1024.0 * 1024 * 1024), devs[i].sm_count,
                   devs[i].cc_major, devs[i].cc_minor, (double)devs[i].l2_bytes / 1e6, devs[i].driver_version,
                   devs[i].runtime_version);
    }
    printf("ops:          %d (twinpix ops)\n", tp_op_count());
    return TP_EXIT_OK;
}

/* twinpix datasets [--json]: the real images found on this machine (the manifest). */
#include "cli/cli_util.h"
#include "datasets/datasets.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

int tp_cmd_datasets(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: twinpix datasets [--json]\n");
            return TP_EXIT_OK;
        } else {
            fprintf(stderr, "twinpix datasets: unknown argument '%s'\n", argv[i]);
            return TP_EXIT_USAGE;
        }
    }
    tp_dataset *ds = calloc(256, sizeof *ds);
    if (!ds)
        return TP_EXIT_ERROR;
    int n = tp_datasets_list(ds, 256);
    cJSON *arr = json ? cJSON_CreateArray() : NULL;
    for (int i = 0; i < n; i++) {
        char shape[96] = "";
        for (int k = 0; k < ds[i].ndim; k++) {
            char b[24];
            snprintf(b, sizeof b, "%s%lld", k ? "x" : "", (long long)ds[i].shape[k]);
            strcat(shape, b);
        }
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", ds[i].name);
            cJSON_AddStringToObject(o, "path", ds[i].path);
            cJSON_AddStringToObject(o, "source", ds[i].source);
            cJSON_AddStringToObject(o, "origin", ds[i].origin);
            cJSON_AddStringToObject(o, "licence", ds[i].licence);
            cJSON_AddStringToObject(o, "shape", shape);
            cJSON_AddStringToObject(o, "dtype", tp_dtype_name(ds[i].dtype));
            cJSON_AddNumberToObject(o, "channel_axis", ds[i].channel_axis);
            cJSON_AddStringToObject(o, "layout", ds[i].layout);
            cJSON_AddItemToArray(arr, o);
        } else {
            printf("%-40s %-14s %-8s %-16s %s\n", ds[i].name, shape, tp_dtype_name(ds[i].dtype), ds[i].source,
                   ds[i].licence);
        }
    }
    if (json) {
        char *s = cJSON_Print(arr);
        printf("%s\n", s);
        cJSON_free(s);
        cJSON_Delete(arr);
    }
    free(ds);
    return TP_EXIT_OK;
}

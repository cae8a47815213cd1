/* twinpix ops [--json | --markdown]: every op from the descriptors, with parameters, defaults and backends.
 * --markdown prints the README's op table. */
#include "cli/cli_util.h"

#include <cjson/cJSON.h>
#include <string.h>

static const char *type_name(tp_param_type t)
{
    static const char *names[] = {"float", "int", "bool", "enum", "float or per-axis list", "footprint",
                                  "list of names", "colour", "list of colours", "number or scalar image"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

static const char *contract_name(tp_contract_kind k)
{
    static const char *names[] = {"exact", "ulp", "relative", "labels", "table"};
    return (unsigned)k < 5 ? names[k] : "?";
}

static cJSON *dtypes_json(unsigned mask)
{
    cJSON *a = cJSON_CreateArray();
    for (int t = 0; t < TP_DTYPE_COUNT; t++)
        if (mask & TP_DT(t))
            cJSON_AddItemToArray(a, cJSON_CreateString(tp_dtype_name((tp_dtype)t)));
    return a;
}

static int backend_built(const tp_op_desc *op, tp_backend_id b) { return op->impl[b] != NULL; }

static void print_json(void)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < tp_op_count(); i++) {
        const tp_op_desc *op = tp_op_at(i);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", op->name);
        cJSON_AddStringToObject(o, "summary", op->summary);
        cJSON_AddStringToObject(o, "skimage", op->skimage);
        cJSON *be = cJSON_AddArrayToObject(o, "backends");
        for (int b = 0; b < TP_BACKEND_COUNT; b++)
            if (backend_built(op, (tp_backend_id)b))
                cJSON_AddItemToArray(be, cJSON_CreateString(tp_backend_name((tp_backend_id)b)));
        cJSON *ins = cJSON_AddArrayToObject(o, "inputs");
        for (int k = 0; k < op->n_inputs; k++) {
            const tp_input_desc *d = &op->inputs[k];
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "name", d->name);
            cJSON_AddBoolToObject(x, "required", d->required);
            cJSON_AddItemToObject(x, "dtypes", dtypes_json(d->dtypes));
            cJSON *dims = cJSON_AddArrayToObject(x, "dims");
            if (d->spatial_dims & TP_DIMS_2D)
                cJSON_AddItemToArray(dims, cJSON_CreateNumber(2));
            if (d->spatial_dims & TP_DIMS_3D)
                cJSON_AddItemToArray(dims, cJSON_CreateNumber(3));
            cJSON_AddBoolToObject(x, "channels", d->channels);
            cJSON_AddItemToArray(ins, x);
        }
        cJSON *ps = cJSON_AddArrayToObject(o, "params");
        for (int k = 0; k < op->n_params; k++) {
            const tp_param_desc *d = &op->params[k];
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "name", d->name);
            cJSON_AddStringToObject(x, "type", type_name(d->type));
            if (d->def)
                cJSON_AddStringToObject(x, "default", d->def);
            else
                cJSON_AddNullToObject(x, "default");
            if (d->min <= d->max) {
                cJSON_AddNumberToObject(x, "min", d->min);
                cJSON_AddNumberToObject(x, "max", d->max);
            }
            if (d->choices)
                cJSON_AddStringToObject(x, "choices", d->choices);
            cJSON_AddBoolToObject(x, "nullable", d->nullable);
            cJSON_AddStringToObject(x, "help", d->help);
            cJSON_AddItemToArray(ps, x);
        }
        cJSON_AddStringToObject(o, "output", op->output == TP_OUT_IMAGE    ? "image"
                                             : op->output == TP_OUT_SCALAR ? "scalar"
                                                                           : "table");
        cJSON *c = cJSON_AddObjectToObject(o, "contract");
        cJSON_AddStringToObject(c, "kind", contract_name(op->contract.kind));
        cJSON_AddNumberToObject(c, "tol", op->contract.tol);
        cJSON_AddStringToObject(c, "why", op->contract.why);
        cJSON_AddItemToArray(arr, o);
    }
    char *s = cJSON_Print(arr);
    printf("%s\n", s);
    cJSON_free(s);
    cJSON_Delete(arr);
}

static void print_markdown(void)
{
    printf("| op | reproduces | CPU | CUDA | dims | parity contract |\n|---|---|---|---|---|---|\n");
    for (int i = 0; i < tp_op_count(); i++) {
        const tp_op_desc *op = tp_op_at(i);
        unsigned dims = op->inputs[0].spatial_dims;
        printf("| `%s` | `%s` | %s | %s | %s | %s |\n", op->name, op->skimage,
               backend_built(op, TP_BACKEND_CPU) ? "yes" : "-", op->impl[TP_BACKEND_CUDA] ? "yes" : "-",
               dims == TP_DIMS_23 ? "2D, 3D" : dims == TP_DIMS_2D ? "2D" : "3D", contract_name(op->contract.kind));
    }
}

int tp_cmd_ops(int argc, char **argv)
{
    int json = 0, md = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--markdown"))
            md = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: twinpix ops [--json | --markdown]\n");
            return TP_EXIT_OK;
        } else {
            fprintf(stderr, "twinpix ops: unknown argument '%s'\n", argv[i]);
            return TP_EXIT_USAGE;
        }
    }
    if (json) {
        print_json();
        return TP_EXIT_OK;
    }
    if (md) {
        print_markdown();
        return TP_EXIT_OK;
    }
    for (int i = 0; i < tp_op_count(); i++) {
        const tp_op_desc *op = tp_op_at(i);
        printf("%-18s %s\n", op->name, op->summary);
        printf("%-18s backends: cpu%s; reproduces %s\n", "", op->impl[TP_BACKEND_CUDA] ? ", cuda" : "", op->skimage);
        for (int k = 0; k < op->n_params; k++)
            printf("%-18s   %s=%s\n", "", op->params[k].name, op->params[k].def ? op->params[k].def : "(required)");
    }
    return TP_EXIT_OK;
}

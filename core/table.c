/* Tables: named columns of equal length (regionprops_table's output). */
#include "twinpix/internal.h"

#include <stdlib.h>
#include <string.h>

tp_table tp_table_empty(void)
{
    tp_table t;
    memset(&t, 0, sizeof t);
    return t;
}

void tp_table_free(tp_table *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->ncols; i++)
        free(t->cols[i].data);
    free(t->cols);
    *t = tp_table_empty();
}

tp_status tp_table_add_column(tp_context *ctx, tp_table *t, const char *name, tp_dtype dtype)
{
    if (strlen(name) >= sizeof t->cols[0].name)
        return tp_error(ctx, TP_ERR_ARG, "table: column name '%s' is too long", name);
    if (tp_table_find(t, name))
        return tp_error(ctx, TP_ERR_ARG, "table: column '%s' exists already", name);
    void *data = tp_host_calloc(ctx, t->nrows, tp_dtype_size(dtype));
    if (!data)
        return TP_ERR_NOMEM;
    tp_column *cols = realloc(t->cols, sizeof *cols * (size_t)(t->ncols + 1));
    if (!cols) {
        free(data);
        return tp_error(ctx, TP_ERR_NOMEM, "out of host memory");
    }
    t->cols = cols;
    tp_column *c = &t->cols[t->ncols++];
    memset(c, 0, sizeof *c);
    strcpy(c->name, name);
    c->dtype = dtype;
    c->data = data;
    return TP_OK;
}

const tp_column *tp_table_find(const tp_table *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return &t->cols[i];
    return NULL;
}

double tp_table_get(const tp_table *t, int col, int64_t row)
{
    return tp_get_f64(t->cols[col].data, t->cols[col].dtype, row);
}

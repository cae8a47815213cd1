/* Tables (regionprops_table's output) as CSV and JSON, and CSV back into a table.
 *
 * Numbers must survive the trip to pandas/json exactly, because the oracle tests compare them with
 * scikit-image bit for bit: integers are printed as integers, and floats with the shortest of %.15g/%.16g/
 * %.17g that parses back to the same double (a float32 is printed as the double it widens to, so both
 * np.float32(x) and float(x) recover it). NaN is "nan" in CSV (pandas' default NA text) and null in JSON;
 * infinities are "inf"/"-inf" in CSV and 1e999/-1e999 in JSON (valid JSON number syntax that every parser
 * turns into an infinity). Both writers stream through tp_atomic_open, so a failure leaves no file. */
#include "twinpix/internal.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- number formatting ---- */

static void format_double(char *buf, size_t n, double v, int json)
{
    if (isnan(v)) {
        snprintf(buf, n, "%s", json ? "null" : "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, n, "%s%s", v < 0 ? "-" : "", json ? "1e999" : "inf");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    /* "3" would come back as an integer (a pandas int64 column, a Python int, and -0 loses its sign) */
    if (!strpbrk(buf, ".eE"))
        strncat(buf, ".0", n - strlen(buf) - 1);
}

static void format_cell(char *buf, size_t n, const tp_column *c, int64_t row, int json)
{
    switch (c->dtype) {
    case TP_BOOL:
        snprintf(buf, n, "%s", ((const uint8_t *)c->data)[row] ? (json ? "true" : "True") : (json ? "false" : "False"));
        return;
    case TP_INT64: snprintf(buf, n, "%lld", (long long)((const int64_t *)c->data)[row]); return;
    case TP_UINT32: snprintf(buf, n, "%lu", (unsigned long)((const uint32_t *)c->data)[row]); return;
    case TP_FLOAT32:
    case TP_FLOAT64: format_double(buf, n, tp_get_f64(c->data, c->dtype, row), json); return;
    default: snprintf(buf, n, "%lld", (long long)tp_get_f64(c->data, c->dtype, row)); return;
    }
}

static tp_status check_table(tp_context *ctx, const char *path, const tp_table *t)
{
    if (!t || t->nrows < 0 || t->ncols < 0 || (t->ncols > 0 && !t->cols))
        return tp_error(ctx, TP_ERR_ARG, "write table '%s': table: expected a valid table", path);
    for (int i = 0; i < t->ncols; i++) {
        if ((unsigned)t->cols[i].dtype >= TP_DTYPE_COUNT || (t->nrows > 0 && !t->cols[i].data))
            return tp_error(ctx, TP_ERR_ARG, "write table '%s': column '%s': expected data of a known dtype", path,
                            t->cols[i].name);
    }
    return TP_OK;
}

/* ---- CSV ---- */

/* RFC 4180 quoting, only when the name needs it (pandas unquotes it). */
static void csv_put_name(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

tp_status tp_write_table_csv(tp_context *ctx, const char *path, const tp_table *t)
{
    tp_status st = check_table(ctx, path, t);
    if (st)
        return st;
    tp_atomic_file af;
    if ((st = tp_atomic_open(ctx, path, &af)))
        return st;
    for (int c = 0; c < t->ncols; c++) {
        if (c)
            fputc(',', af.fp);
        csv_put_name(af.fp, t->cols[c].name);
    }
    fputc('\n', af.fp);
    char buf[64];
    for (int64_t r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            format_cell(buf, sizeof buf, &t->cols[c], r, 0);
            if (c)
                fputc(',', af.fp);
            fputs(buf, af.fp);
        }
        if (fputc('\n', af.fp) == EOF)
            break; /* the commit sees ferror and removes the temporary file */
    }
    return tp_atomic_commit(ctx, &af);
}

/* ---- JSON ---- */

/* Column names are escaped by cJSON; the values are streamed by hand, since a cJSON tree of a large table
 * would cost tens of bytes per cell and cJSON stores integers as doubles (inexact beyond 2^53). */
static tp_status json_put_name(tp_context *ctx, FILE *f, const char *name)
{
    cJSON *s = cJSON_CreateString(name);
    char *txt = s ? cJSON_PrintUnformatted(s) : NULL;
    cJSON_Delete(s);
    if (!txt)
        return tp_error(ctx, TP_ERR_NOMEM, "out of host memory writing a JSON key");
    fputs(txt, f);
    cJSON_free(txt);
    return TP_OK;
}

tp_status tp_write_table_json(tp_context *ctx, const char *path, const tp_table *t)
{
    tp_status st = check_table(ctx, path, t);
    if (st)
        return st;
    tp_atomic_file af;
    if ((st = tp_atomic_open(ctx, path, &af)))
        return st;
    fputc('{', af.fp);
    char buf[64];
    for (int c = 0; c < t->ncols && !st; c++) {
        fputs(c ? ",\n " : "", af.fp);
        if ((st = json_put_name(ctx, af.fp, t->cols[c].name)))
            break;
        fputs(": [", af.fp);
        for (int64_t r = 0; r < t->nrows; r++) {
            format_cell(buf, sizeof buf, &t->cols[c], r, 1);
            if (r)
                fputs(", ", af.fp);
            fputs(buf, af.fp);
        }
        fputc(']', af.fp);
    }
    if (st) {
        tp_atomic_abort(&af);
        return st;
    }
    fputs("}\n", af.fp);
    return tp_atomic_commit(ctx, &af);
}

/* ---- reading CSV ---- */

typedef struct csv_text {
    char *buf;   /* whole file, NUL-terminated */
    size_t len;
} csv_text;

static tp_status slurp(tp_context *ctx, const char *path, csv_text *txt)
{
    return tp_read_text_file(ctx, path, 0, &txt->buf, &txt->len);
}

/* Split one record in place at *pos: fields are NUL-terminated, quotes removed. Returns the field count
 * (fields beyond max are counted but not stored), or -1 at the end of the text. */
static int csv_record(char *s, size_t *pos, size_t len, char **fields, int max)
{
    size_t i = *pos;
    if (i >= len)
        return -1;
    int n = 0;
    for (;;) {
        char *start = s + i, *w = s + i;
        if (s[i] == '"') {
            i++;
            while (i < len) {
                if (s[i] == '"' && s[i + 1] == '"') {
                    *w++ = '"';
                    i += 2;
                } else if (s[i] == '"') {
                    i++;
                    break;
                } else {
                    *w++ = s[i++];
                }
            }
        }
        while (i < len && s[i] != ',' && s[i] != '\n' && s[i] != '\r')
            *w++ = s[i++];
        char end = i < len ? s[i] : '\n';
        *w = 0;
        if (n < max)
            fields[n] = start;
        n++;
        i++;
        if (end == ',')
            continue;
        if (end == '\r' && i < len && s[i] == '\n')
            i++;
        break;
    }
    *pos = i;
    return n;
}

/* An upper bound on the header's field count (commas outside quotes before the first record end, plus one),
 * so that the header is split in one pass (splitting writes into the text). */
static int header_fields_bound(const char *s, size_t len)
{
    int n = 1, quoted = 0;
    for (size_t i = 0; i < len && n < (1 << 20); i++) {
        if (s[i] == '"')
            quoted = !quoted;
        else if (!quoted && (s[i] == '\n' || s[i] == '\r'))
            break;
        else if (!quoted && s[i] == ',')
            n++;
    }
    return n;
}

static int is_blank_record(int n, char **f) { return n == 1 && f[0][0] == 0; }

static int parse_int(const char *s, int64_t *v)
{
    if (!*s)
        return 0;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (*end || errno)
        return 0;
    *v = x;
    return 1;
}

static int parse_float(const char *s, double *v)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!*s || strcmp(s, "nan") == 0 || strcmp(s, "NaN") == 0 || strcmp(s, "NA") == 0 || strcmp(s, "null") == 0) {
        *v = NAN;
        return 1;
    }
    char *end;
    *v = strtod(s, &end); /* accepts inf, -inf, Infinity */
    return *end == 0;
}

static int is_bool_text(const char *s) { return strcmp(s, "True") == 0 || strcmp(s, "False") == 0; }

/* A column's type: int64 when every cell is an integer, bool when every cell is True/False, else float64. */
static tp_dtype column_type(char **cells, int64_t nrows)
{
    int ints = 1, bools = nrows > 0;
    for (int64_t r = 0; r < nrows; r++) {
        int64_t iv;
        if (ints && !parse_int(cells[r], &iv))
            ints = 0;
        if (bools && !is_bool_text(cells[r]))
            bools = 0;
    }
    return bools ? TP_BOOL : ints ? TP_INT64 : TP_FLOAT64;
}

static tp_status fill_column(tp_context *ctx, const char *path, tp_column *col, char **cells, int64_t nrows)
{
    for (int64_t r = 0; r < nrows; r++) {
        const char *s = cells[r];
        if (col->dtype == TP_BOOL) {
            ((uint8_t *)col->data)[r] = strcmp(s, "True") == 0;
        } else if (col->dtype == TP_INT64) {
            parse_int(s, &((int64_t *)col->data)[r]);
        } else if (!parse_float(s, &((double *)col->data)[r])) {
            return tp_error(ctx, TP_ERR_IO, "read table '%s': column '%s', row %lld: expected a number, got '%.40s'",
                            path, col->name, (long long)r + 1, s);
        }
    }
    return TP_OK;
}

/* Cells are pointers into the text, row-major: cells[r * ncols + c]. */
static tp_status csv_cells(tp_context *ctx, const char *path, csv_text *txt, size_t pos, int ncols, char ***out,
                           int64_t *nrows)
{
    int64_t cap = 1024, n = 0;
    char **cells = malloc(sizeof *cells * (size_t)cap * (size_t)ncols);
    if (!cells)
        return tp_error(ctx, TP_ERR_NOMEM, "out of host memory reading '%s'", path);
    for (;;) {
        if (n == cap) {
            char **nc = realloc(cells, sizeof *cells * (size_t)cap * 2 * (size_t)ncols);
            if (!nc) {
                free(cells);
                return tp_error(ctx, TP_ERR_NOMEM, "out of host memory reading '%s'", path);
            }
            cells = nc;
            cap *= 2;
        }
        int k = csv_record(txt->buf, &pos, txt->len, cells + n * ncols, ncols);
        if (k < 0)
            break;
        if (is_blank_record(k, cells + n * ncols))
            continue;
        if (k != ncols) {
            free(cells);
            return tp_error(ctx, TP_ERR_IO, "read table '%s': row %lld: expected %d fields, got %d", path,
                            (long long)n + 1, ncols, k);
        }
        n++;
    }
    *out = cells;
    *nrows = n;
    return TP_OK;
}

tp_status tp_read_table_csv(tp_context *ctx, const char *path, tp_table *t)
{
    *t = tp_table_empty();
    csv_text txt = {NULL, 0};
    tp_status st = slurp(ctx, path, &txt);
    if (st)
        return st;
    size_t pos = 0;
    int bound = header_fields_bound(txt.buf, txt.len);
    char **names = malloc(sizeof *names * (size_t)bound);
    char **cells = NULL, **col = NULL;
    int64_t nrows = 0;
    tp_table out = tp_table_empty();
    if (!names) {
        st = tp_error(ctx, TP_ERR_NOMEM, "out of host memory reading '%s'", path);
        goto done;
    }
    int ncols = csv_record(txt.buf, &pos, txt.len, names, bound);
    if (ncols > bound) {
        st = tp_error(ctx, TP_ERR_IO, "read table '%s': header: expected at most %d columns", path, bound);
        goto done;
    }
    if (ncols < 0 || (ncols == 1 && names[0][0] == 0)) {
        st = tp_error(ctx, TP_ERR_IO, "read table '%s': expected a header row, got an empty file", path);
        goto done;
    }
    if ((st = csv_cells(ctx, path, &txt, pos, ncols, &cells, &nrows)))
        goto done;
    col = malloc(sizeof *col * (size_t)(nrows ? nrows : 1));
    if (!col) {
        st = tp_error(ctx, TP_ERR_NOMEM, "out of host memory reading '%s'", path);
        goto done;
    }
    out.nrows = nrows;
    for (int c = 0; c < ncols && !st; c++) {
        for (int64_t r = 0; r < nrows; r++)
            col[r] = cells[r * ncols + c];
        if (!(st = tp_table_add_column(ctx, &out, names[c], column_type(col, nrows))))
            st = fill_column(ctx, path, &out.cols[out.ncols - 1], col, nrows);
    }
done:
    free(col);
    free(cells);
    free(names);
    free(txt.buf);
    if (st)
        tp_table_free(&out);
    else
        *t = out;
    return st;
}

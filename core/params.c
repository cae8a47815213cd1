/* Parameters: a bag of name -> value given by the caller (text, or a borrowed footprint/image), resolved
 * once by the dispatcher against the op's descriptor into typed values (tp_pval). One parser serves the C
 * API and the CLI, so both accept exactly the same spellings. */
#include "twinpix/internal.h"
#include "core/params.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TP_MAX_PARAMS 32

typedef struct entry {
    char name[64];
    char *text;                /* owned, or NULL */
    const tp_footprint *fp;    /* borrowed */
    const tp_image *img;       /* borrowed */
} entry;

struct tp_params {
    entry e[TP_MAX_PARAMS];
    int n;
};

tp_status tp_params_create(tp_params **p)
{
    if (!p)
        return TP_ERR_ARG;
    *p = calloc(1, sizeof **p);
    return *p ? TP_OK : TP_ERR_NOMEM;
}

void tp_params_destroy(tp_params *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n; i++)
        free(p->e[i].text);
    free(p);
}

static entry *slot(tp_params *p, const char *name, tp_status *st)
{
    *st = TP_OK;
    if (!p || !name || !*name || strlen(name) >= 64) {
        *st = TP_ERR_ARG;
        return NULL;
    }
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->e[i].name, name) == 0) {
            free(p->e[i].text);
            memset(&p->e[i], 0, sizeof p->e[i]);
            strcpy(p->e[i].name, name);
            return &p->e[i];
        }
    if (p->n == TP_MAX_PARAMS) {
        *st = TP_ERR_ARG;
        return NULL;
    }
    entry *e = &p->e[p->n++];
    memset(e, 0, sizeof *e);
    strcpy(e->name, name);
    return e;
}

tp_status tp_params_set(tp_params *p, const char *name, const char *value)
{
    tp_status st;
    if (!value)
        return TP_ERR_ARG;
    entry *e = slot(p, name, &st);
    if (!e)
        return st;
    e->text = strdup(value);
    return e->text ? TP_OK : TP_ERR_NOMEM;
}

tp_status tp_params_set_f64(tp_params *p, const char *name, double v)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", v);
    return tp_params_set(p, name, buf);
}

tp_status tp_params_set_i64(tp_params *p, const char *name, int64_t v)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    return tp_params_set(p, name, buf);
}

tp_status tp_params_set_footprint(tp_params *p, const char *name, const tp_footprint *fp)
{
    tp_status st;
    if (!fp)
        return TP_ERR_ARG;
    entry *e = slot(p, name, &st);
    if (!e)
        return st;
    e->fp = fp;
    return TP_OK;
}

tp_status tp_params_set_image(tp_params *p, const char *name, const tp_image *img)
{
    tp_status st;
    if (!img)
        return TP_ERR_ARG;
    entry *e = slot(p, name, &st);
    if (!e)
        return st;
    e->img = img;
    return TP_OK;
}

/* ---- resolution ---- */

static bool is_none(const char *s) { return strcmp(s, "none") == 0 || strcmp(s, "None") == 0; }

static bool parse_double(const char *s, double *v)
{
    char *end;
    errno = 0;
    while (isspace((unsigned char)*s))
        s++;
    *v = strtod(s, &end);
    while (isspace((unsigned char)*end))
        end++;
    return end != s && *end == 0 && errno != ERANGE;
}

static bool in_choices(const char *choices, const char *v)
{
    if (!choices)
        return true;
    size_t n = strlen(v);
    for (const char *c = choices; *c;) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == n && strncmp(c, v, n) == 0)
            return true;
        if (!bar)
            break;
        c = bar + 1;
    }
    return false;
}

/* scikit-image's named colours (skimage.color.colorlabel.color_dict: 3-decimal constants, e.g. green is
 * 0.502, not 128/255), so a colour given by name equals the one scikit-image uses. */
static const struct {
    const char *name;
    double rgb[3];
} named_colors[] = {
    {"red", {1, 0, 0}},
    {"blue", {0, 0, 1}},
    {"yellow", {1, 1, 0}},
    {"magenta", {1, 0, 1}},
    {"green", {0, 0.502, 0}},
    {"indigo", {0.294, 0, 0.51}},
    {"darkorange", {1, 0.549, 0}},
    {"cyan", {0, 1, 1}},
    {"pink", {1, 0.753, 0.796}},
    {"yellowgreen", {0.604, 0.804, 0.196}},
    {"black", {0, 0, 0}},
    {"white", {1, 1, 1}},
    {"gray", {0.502, 0.502, 0.502}},
    {"lime", {0, 1, 0}},
    {"orange", {1, 0.647, 0}},
    {"purple", {0.502, 0, 0.502}},
};

static bool parse_color(const char *s, double *rgb)
{
    for (size_t i = 0; i < sizeof named_colors / sizeof named_colors[0]; i++)
        if (strcmp(s, named_colors[i].name) == 0) {
            memcpy(rgb, named_colors[i].rgb, sizeof(double) * 3);
            return true;
        }
    char buf[128];
    if (strlen(s) >= sizeof buf)
        return false;
    strcpy(buf, s);
    int k = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (k == 3 || !parse_double(tok, &rgb[k]) || rgb[k] < 0 || rgb[k] > 1)
            return false;
        k++;
    }
    return k == 3;
}

static void pval_clear(tp_pval *v)
{
    if (!v->fp_borrowed)
        tp_footprint_free(&v->fp);
    for (int i = 0; i < v->nstrs; i++)
        free(v->strs[i]);
    free(v->strs);
    memset(v, 0, sizeof *v);
}

void tp_pvals_free(const tp_op_desc *op, tp_pval *vals)
{
    if (!vals)
        return;
    for (int i = 0; i < op->n_params; i++)
        pval_clear(&vals[i]);
    free(vals);
}

#define RANGE_OK(d, x) ((d)->min > (d)->max || ((x) >= (d)->min && (x) <= (d)->max))

static tp_status parse_value(tp_context *ctx, const tp_op_desc *op, const tp_param_desc *d, const char *text,
                             tp_pval *v)
{
    const char *on = op->name, *pn = d->name;
    if (is_none(text)) {
        if (!d->nullable)
            return tp_error(ctx, TP_ERR_ARG, "%s: %s: None is not accepted", on, pn);
        v->is_none = true;
        return TP_OK;
    }
    switch (d->type) {
    case TP_P_FLOAT:
        if (!parse_double(text, &v->f) || !isfinite(v->f))
            return tp_error(ctx, TP_ERR_ARG, "%s: %s: expected a finite number, got '%s'", on, pn, text);
        if (!RANGE_OK(d, v->f))
            return tp_error(ctx, TP_ERR_ARG, "%s: %s: expected a value in [%g, %g], got %g", on, pn, d->min, d->max,
                            v->f);
        return TP_OK;
    case TP_P_INT: {
        double x;
        if (!parse_double(text, &x) || x != floor(x) || fabs(x) > 9.0e15)
            return tp_error(ctx, TP_ERR_ARG, "%s: %s: expected an integer, got '%s'", on, pn, text);
        if (!RANGE_OK(d, x))
            return tp_error(ctx, TP_ERR_ARG, "%s: %s: expected an integer in [%g, %g], got %g", on, pn, d->min,
                            d->max, x);
        v->i = (int64_t)x;
        return TP_OK;
    }
    case TP_P_BOOL:
        if (!strcmp(text, "true") || !strcmp(text, "True") || !strcmp(text, "1"))
            v->b = true;
        else if (!strcmp(text, "false") || !strcmp(text, "False") || !strcmp(text, "0"))
            v->b = false;
        else
            return tp_error(ctx, TP_ERR_ARG, "%s: %s: expected true or false, got '%s'", on, pn, text);
        return TP_OK;
    case TP_P_ENUM:
        if (strlen(text) >= sizeof v->s || !in_choices(d->choices, text))
            return tp_error(ctx, TP_ERR_ARG, "%s: %s: expected one of %s, got '%s'", on, pn, d->choices, text);
        strcpy(v->s, text);
        return TP_OK;
    case TP_P_FLOATSEQ: {
        char buf[256];
        if (strlen(text) >= sizeof buf)
            return tp_error(ctx, TP_ERR_ARG, "%s: %s: value too long", on, pn);
        strcpy(buf, text);
        int k = 0;
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            double x;
            if (k == TP_MAX_SEQ || !parse_double(tok, &x) || !isfinite(x))
                return tp_error(ctx, TP_ERR_ARG, "%s: %s: expected 1 to %d comma-separated numbers, got '%s'", on,
                                pn, TP_MAX_SEQ, text);
            if (!RANGE_OK(d, x))
                return tp_error(ctx, TP_ERR_ARG, "%s: %s: expected values in [%g, %g], got %g", on, pn, d->min,
                                d->max, x);
            v->seq[k++] = x;
        }
        if (k == 0)
            return tp_error(ctx, TP_ERR_ARG, "%s: %s: expected at least one number, got '%s'", on, pn, text);
        v->n = k;
        return TP_OK;
    }
    case TP_P_FOOTPRINT: {
        tp_status st = tp_footprint_parse(ctx, text, &v->fp);
        if (st)
            return st;
        return TP_OK;
    }
    case TP_P_STRLIST: {
        char *buf = strdup(text);
        if (!buf)
            return tp_error(ctx, TP_ERR_NOMEM, "out of host memory");
        int cap = 1;
        for (const char *c = text; *c; c++)
            cap += *c == ',';
        v->strs = calloc((size_t)cap, sizeof(char *));
        if (!v->strs) {
            free(buf);
            return tp_error(ctx, TP_ERR_NOMEM, "out of host memory");
        }
        tp_status st = TP_OK;
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            while (isspace((unsigned char)*tok))
                tok++;
            if (!in_choices(d->choices, tok)) {
                st = tp_error(ctx, TP_ERR_ARG, "%s: %s: unknown name '%s'; expected any of %s", on, pn, tok,
                              d->choices);
                break;
            }
            if (!(v->strs[v->nstrs++] = strdup(tok))) {
                st = tp_error(ctx, TP_ERR_NOMEM, "out of host memory");
                break;
            }
        }
        free(buf);
        if (!st && v->nstrs == 0)
            st = tp_error(ctx, TP_ERR_ARG, "%s: %s: expected at least one name", on, pn);
        return st;
    }
    case TP_P_COLOR:
        if (!parse_color(text, v->seq))
            return tp_error(ctx, TP_ERR_ARG, "%s: %s: expected r,g,b in [0,1] or a colour name, got '%s'", on, pn,
                            text);
        v->n = 1;
        return TP_OK;
    case TP_P_COLORLIST: {
        char *buf = strdup(text);
        if (!buf)
            return tp_error(ctx, TP_ERR_NOMEM, "out of host memory");
        int k = 0;
        tp_status st = TP_OK;
        char *save = NULL;
        for (char *tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
            if (k == TP_MAX_COLORS || !parse_color(tok, &v->seq[3 * k])) {
                st = tp_error(ctx, TP_ERR_ARG, "%s: %s: expected up to %d colours 'r,g,b' or names separated by ';', "
                              "got '%s'", on, pn, TP_MAX_COLORS, tok);
                break;
            }
            k++;
        }
        free(buf);
        if (!st && k == 0)
            st = tp_error(ctx, TP_ERR_ARG, "%s: %s: expected at least one colour", on, pn);
        v->n = k;
        return st;
    }
    case TP_P_IMAGE:
        return tp_error(ctx, TP_ERR_ARG, "%s: %s: expected an image (tp_params_set_image) or a number", on, pn);
    }
    return tp_error(ctx, TP_ERR_INTERNAL, "%s: %s: unknown parameter type", on, pn);
}

tp_status tp_params_resolve(tp_context *ctx, const tp_op_desc *op, const tp_params *given, tp_pval **out)
{
    *out = NULL;
    if (given) {
        for (int k = 0; k < given->n; k++) {
            int found = 0;
            for (int i = 0; i < op->n_params; i++)
                found |= strcmp(op->params[i].name, given->e[k].name) == 0;
            if (!found) {
                char names[512] = "";
                for (int i = 0; i < op->n_params; i++) {
                    strncat(names, op->params[i].name, sizeof names - strlen(names) - 3);
                    if (i + 1 < op->n_params)
                        strcat(names, ", ");
                }
                return tp_error(ctx, TP_ERR_ARG, "%s: unknown parameter '%s'; expected any of: %s", op->name,
                                given->e[k].name, op->n_params ? names : "(none)");
            }
        }
    }
    tp_pval *vals = calloc((size_t)(op->n_params ? op->n_params : 1), sizeof *vals);
    if (!vals)
        return tp_error(ctx, TP_ERR_NOMEM, "out of host memory");
    for (int i = 0; i < op->n_params; i++) {
        const tp_param_desc *d = &op->params[i];
        const entry *e = NULL;
        for (int k = 0; given && k < given->n; k++)
            if (strcmp(given->e[k].name, d->name) == 0)
                e = &given->e[k];
        tp_status st = TP_OK;
        if (e && e->fp) {
            if (d->type != TP_P_FOOTPRINT)
                st = tp_error(ctx, TP_ERR_ARG, "%s: %s: a footprint was given, but this is not a footprint", op->name,
                              d->name);
            vals[i].fp = *e->fp;
            vals[i].fp_borrowed = true;
        } else if (e && e->img) {
            if (d->type != TP_P_IMAGE && d->type != TP_P_FLOAT)
                st = tp_error(ctx, TP_ERR_ARG, "%s: %s: an image was given, but this parameter takes no image",
                              op->name, d->name);
            vals[i].img = e->img;
        } else if (e) {
            if (d->type == TP_P_IMAGE) {
                /* a number given as text for an image parameter: keep it as the scalar value */
                double x;
                if (!parse_double(e->text, &x))
                    st = tp_error(ctx, TP_ERR_ARG, "%s: %s: expected a number, got '%s'", op->name, d->name, e->text);
                vals[i].f = x;
            } else {
                st = parse_value(ctx, op, d, e->text, &vals[i]);
            }
        } else if (d->def) {
            st = parse_value(ctx, op, d, d->def, &vals[i]);
        } else if (d->nullable) {
            vals[i].is_none = true;
        } else {
            st = tp_error(ctx, TP_ERR_ARG, "%s: %s: required parameter is missing", op->name, d->name);
        }
        if (st) {
            tp_pvals_free(op, vals);
            return st;
        }
    }
    *out = vals;
    return TP_OK;
}

/* ---- typed access ---- */

static const tp_pval *find(const tp_call *c, const char *name, tp_param_type *type)
{
    for (int i = 0; i < c->op->n_params; i++)
        if (strcmp(c->op->params[i].name, name) == 0) {
            if (type)
                *type = c->op->params[i].type;
            return &c->p[i];
        }
    fprintf(stderr, "twinpix: internal error: op %s has no parameter '%s'\n", c->op->name, name);
    abort();
}

double tp_arg_f64(const tp_call *c, const char *name)
{
    tp_param_type t;
    const tp_pval *v = find(c, name, &t);
    return t == TP_P_INT ? (double)v->i : t == TP_P_FLOATSEQ ? v->seq[0] : v->f;
}

int64_t tp_arg_i64(const tp_call *c, const char *name) { return find(c, name, NULL)->i; }
bool tp_arg_bool(const tp_call *c, const char *name) { return find(c, name, NULL)->b; }
const char *tp_arg_str(const tp_call *c, const char *name) { return find(c, name, NULL)->s; }
bool tp_arg_is_none(const tp_call *c, const char *name)
{
    const tp_pval *v = find(c, name, NULL);
    return v->is_none && !v->img;
}

int tp_arg_seq(const tp_call *c, const char *name, int ndim, double *out)
{
    const tp_pval *v = find(c, name, NULL);
    for (int i = 0; i < ndim; i++)
        out[i] = v->n == 1 ? v->seq[0] : (i < v->n ? v->seq[i] : v->seq[v->n - 1]);
    return v->n;
}

const tp_footprint *tp_arg_footprint(const tp_call *c, const char *name)
{
    const tp_pval *v = find(c, name, NULL);
    return v->is_none ? NULL : &v->fp;
}

int tp_arg_strlist(const tp_call *c, const char *name, char ***out)
{
    const tp_pval *v = find(c, name, NULL);
    *out = v->strs;
    return v->nstrs;
}

const double *tp_arg_colors(const tp_call *c, const char *name, int *ncolors)
{
    const tp_pval *v = find(c, name, NULL);
    *ncolors = v->is_none ? 0 : v->n;
    return v->is_none ? NULL : v->seq;
}

const tp_image *tp_arg_image(const tp_call *c, const char *name) { return find(c, name, NULL)->img; }

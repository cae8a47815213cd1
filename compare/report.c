/* The reports of `twinpix compare`: the JSON document (schema twinpix.compare/1) is the record, built as
 * the run goes; the JUnit XML for CI and the one-screen text summary are both derived from it, so the three
 * never disagree. Files are written atomically (temporary file, then rename). */
#include "compare/compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct tp_cmp_report {
    cJSON *root, *cases, *pipelines;
    int n[2][3]; /* [cases, pipelines][pass, fail, skip] */
};

static int verdict_slot(const cJSON *j)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "verdict");
    const char *s = cJSON_IsString(v) ? v->valuestring : "fail";
    return strcmp(s, "pass") == 0 ? 0 : strcmp(s, "skip") == 0 ? 2 : 1;
}

static cJSON *gpu_json(const tp_meta *m)
{
    cJSON *g = cJSON_CreateObject();
    if (!g)
        return NULL;
    char cc[16];
    snprintf(cc, sizeof cc, "%d.%d", m->gpu.cc_major, m->gpu.cc_minor);
    cJSON_AddStringToObject(g, "name", m->gpu.name);
    cJSON_AddNumberToObject(g, "memory", (double)m->gpu.total_mem);
    cJSON_AddNumberToObject(g, "sms", m->gpu.sm_count);
    cJSON_AddStringToObject(g, "cc", cc);
    cJSON_AddNumberToObject(g, "driver", m->gpu.driver_version);
    cJSON_AddNumberToObject(g, "runtime", m->gpu.runtime_version);
    return g;
}

static cJSON *meta_json(const tp_meta *m, const tp_cmp_options *o, int argc, char **argv, const char *gpu_why)
{
    cJSON *j = cJSON_CreateObject();
    if (!j)
        return NULL;
    cJSON_AddStringToObject(j, "version", m->version);
    cJSON_AddStringToObject(j, "git_commit", m->git_commit);
    cJSON_AddStringToObject(j, "build_flags", m->build_flags);
    cJSON_AddStringToObject(j, "host_cpu", m->host_cpu);
    cJSON_AddNumberToObject(j, "host_threads", m->host_threads);
    cJSON_AddStringToObject(j, "hostname", m->hostname);
    cJSON_AddNumberToObject(j, "threads", o->threads);
    cJSON *av = cJSON_AddArrayToObject(j, "argv");
    for (int i = 0; av && i < argc; i++)
        cJSON_AddItemToArray(av, cJSON_CreateString(argv[i]));
    cJSON_AddBoolToObject(j, "quick", o->quick);
    cJSON_AddBoolToObject(j, "require_gpu", o->require_gpu);
    if (o->fault != TP_FAULT_OFF)
        cJSON_AddStringToObject(j, "fault_injection", o->fault == TP_FAULT_TWIN ? "twin" : "perturb");
    if (m->gpu_count > 0 && !gpu_why) {
        cJSON_AddItemToObject(j, "gpu", gpu_json(m));
    } else {
        cJSON_AddNullToObject(j, "gpu");
        cJSON_AddStringToObject(j, "gpu_unavailable_reason", gpu_why ? gpu_why : m->gpu_why);
    }
    return j;
}

tp_cmp_report *tp_cmp_report_new(const tp_meta *meta, const tp_cmp_options *o, int argc, char **argv,
                                 const char *gpu_why)
{
    tp_cmp_report *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->root = cJSON_CreateObject();
    if (r->root) {
        cJSON_AddStringToObject(r->root, "schema_version", "twinpix.compare/1");
        cJSON_AddItemToObject(r->root, "meta", meta_json(meta, o, argc, argv, gpu_why));
        r->cases = cJSON_AddArrayToObject(r->root, "cases");
        r->pipelines = cJSON_AddArrayToObject(r->root, "pipelines");
    }
    if (!r->root || !r->cases || !r->pipelines) {
        tp_cmp_report_free(r);
        return NULL;
    }
    return r;
}

void tp_cmp_report_free(tp_cmp_report *r)
{
    if (!r)
        return;
    cJSON_Delete(r->root);
    free(r);
}

void tp_cmp_report_add_case(tp_cmp_report *r, cJSON *c)
{
    r->n[0][verdict_slot(c)]++;
    cJSON_AddItemToArray(r->cases, c);
}

void tp_cmp_report_add_pipeline(tp_cmp_report *r, cJSON *p)
{
    r->n[1][verdict_slot(p)]++;
    cJSON_AddItemToArray(r->pipelines, p);
}

void tp_cmp_report_counts(const tp_cmp_report *r, int *pass, int *fail, int *skip)
{
    *pass = r->n[0][0] + r->n[1][0];
    *fail = r->n[0][1] + r->n[1][1];
    *skip = r->n[0][2] + r->n[1][2];
}

const cJSON *tp_cmp_report_root(const tp_cmp_report *r) { return r->root; }

static cJSON *counts_json(const int *n)
{
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddNumberToObject(o, "pass", n[0]);
        cJSON_AddNumberToObject(o, "fail", n[1]);
        cJSON_AddNumberToObject(o, "skip", n[2]);
    }
    return o;
}

void tp_cmp_report_finish(tp_cmp_report *r, double wall_ms)
{
    int tot[3];
    tp_cmp_report_counts(r, &tot[0], &tot[1], &tot[2]);
    cJSON_DeleteItemFromObjectCaseSensitive(r->root, "summary");
    cJSON *s = counts_json(tot);
    if (!s)
        return;
    cJSON_AddItemToObject(s, "cases", counts_json(r->n[0]));
    cJSON_AddItemToObject(s, "pipelines", counts_json(r->n[1]));
    cJSON_AddNumberToObject(s, "wall_ms", wall_ms);
    cJSON_AddItemToObject(r->root, "summary", s);
}

/* ---- helpers reading the document ---- */

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void append(char *buf, size_t len, const char *fmt, const char *s)
{
    size_t u = strlen(buf);
    if (u < len)
        snprintf(buf + u, len - u, fmt, s);
}

/* "synthetic 37x53 uint8 sigma=5;mode=reflect"; "... float32 nonfinite(float32) ..." for a non-finite case */
static void case_title(const cJSON *c, char *buf, size_t len)
{
    const char *ds = str_of(c, "dataset"), *dt = str_of(c, "dtype");
    snprintf(buf, len, "%s ", ds ? ds : "?");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(c, "shape"), *d;
    int k = 0;
    cJSON_ArrayForEach (d, shape) {
        char n[32];
        snprintf(n, sizeof n, "%s%.0f", k++ ? "x" : "", d->valuedouble);
        append(buf, len, "%s", n);
    }
    append(buf, len, " %s", dt ? dt : "?");
    const char *nf = str_of(c, "nonfinite");
    if (nf)
        append(buf, len, " nonfinite(%s)", nf);
    const cJSON *p;
    k = 0;
    cJSON_ArrayForEach (p, cJSON_GetObjectItemCaseSensitive(c, "params")) {
        append(buf, len, k++ ? ";%s" : " %s", p->string);
        append(buf, len, "=%s", cJSON_IsString(p) ? p->valuestring : "?");
    }
}

static void num_str(const cJSON *v, char *buf, size_t len)
{
    if (cJSON_IsNumber(v))
        snprintf(buf, len, "%.17g", v->valuedouble);
    else
        snprintf(buf, len, "%s", cJSON_IsString(v) ? v->valuestring : "null");
}

/* Why a case or stage failed, in one line. */
static void failure_text(const cJSON *c, char *buf, size_t len)
{
    buf[0] = 0;
    const char *err = str_of(c, "error");
    if (err) {
        snprintf(buf, len, "%s", err);
        return;
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(c, "metrics");
    const char *note = str_of(m, "note");
    if (note)
        append(buf, len, "%s; ", note);
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(m, "first_mismatch");
    char a[64], b[64], t[256];
    num_str(cJSON_GetObjectItemCaseSensitive(f, "cpu"), a, sizeof a);
    num_str(cJSON_GetObjectItemCaseSensitive(f, "gpu"), b, sizeof b);
    if (cJSON_IsObject(f) && cJSON_GetObjectItemCaseSensitive(f, "row")) {
        const char *col = str_of(f, "column");
        snprintf(t, sizeof t, "row %.0f (label %.0f) %s%s%s: cpu %s, gpu %s",
                 cJSON_GetObjectItemCaseSensitive(f, "row")->valuedouble,
                 cJSON_GetObjectItemCaseSensitive(f, "label")
                     ? cJSON_GetObjectItemCaseSensitive(f, "label")->valuedouble
                     : -1,
                 col ? "column '" : "whole row", col ? col : "", col ? "'" : "", a, b);
        append(buf, len, "%s", t);
    } else if (cJSON_IsObject(f)) {
        append(buf, len, "%s", "first mismatch at [");
        const cJSON *i;
        int k = 0;
        cJSON_ArrayForEach (i, cJSON_GetObjectItemCaseSensitive(f, "index")) {
            snprintf(t, sizeof t, "%s%.0f", k++ ? ", " : "", i->valuedouble);
            append(buf, len, "%s", t);
        }
        snprintf(t, sizeof t, "]: cpu %s, gpu %s", a, b);
        append(buf, len, "%s", t);
    }
    const cJSON *mm = cJSON_GetObjectItemCaseSensitive(m, "mismatches"),
                *ulp = cJSON_GetObjectItemCaseSensitive(m, "max_ulp");
    if (cJSON_IsNumber(mm)) {
        char u[64];
        num_str(ulp, u, sizeof u);
        snprintf(t, sizeof t, " (%.0f mismatching; max_ulp %s)", mm->valuedouble, u);
        append(buf, len, "%s", t);
    }
    const cJSON *part = cJSON_GetObjectItemCaseSensitive(m, "same_partition");
    if (cJSON_IsBool(part))
        append(buf, len, "; same partition up to renumbering: %s", cJSON_IsTrue(part) ? "yes" : "no");
}

/* ---- JSON ---- */

static tp_status write_string(tp_context *ctx, const char *path, const char *text)
{
    tp_atomic_file af;
    tp_status st = tp_atomic_open(ctx, path, &af);
    if (st)
        return st;
    fputs(text, af.fp);
    return tp_atomic_commit(ctx, &af);
}

tp_status tp_cmp_write_json(tp_context *ctx, const tp_cmp_report *r, const char *path)
{
    char *text = cJSON_Print(r->root);
    if (!text)
        return tp_error(ctx, TP_ERR_NOMEM, "compare: out of host memory printing the JSON report");
    size_t n = strlen(text);
    char *withnl = realloc(text, n + 2);
    if (withnl) {
        text = withnl;
        text[n] = '\n', text[n + 1] = 0;
    }
    tp_status st = write_string(ctx, path, text);
    cJSON_free(text);
    return st;
}

/* ---- JUnit XML ---- */

static void xml_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        switch (ch) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        default:
            if (ch >= 0x20 || ch == '\t')
                fputc(ch, f);
            else
                fputc(' ', f); /* XML 1.0 forbids most control characters, and newlines would break attributes */
        }
    }
}

static double case_seconds(const cJSON *c)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(c, "time_ms");
    double s = 0;
    const cJSON *v;
    cJSON_ArrayForEach (v, t)
        if (cJSON_IsNumber(v))
            s += v->valuedouble;
    return s / 1e3;
}

static void junit_case(FILE *f, const char *classname, const char *name, const cJSON *c)
{
    fputs("    <testcase classname=\"", f);
    xml_text(f, classname);
    fputs("\" name=\"", f);
    xml_text(f, name);
    fprintf(f, "\" time=\"%.6f\"", case_seconds(c));
    int v = verdict_slot(c);
    if (v == 0) {
        fputs("/>\n", f);
        return;
    }
    char why[2048];
    if (v == 2) {
        const char *r = str_of(c, "skip_reason");
        fputs(">\n      <skipped message=\"", f);
        xml_text(f, r ? r : "skipped");
        fputs("\"/>\n    </testcase>\n", f);
        return;
    }
    failure_text(c, why, sizeof why);
    fputs(">\n      <failure message=\"", f);
    xml_text(f, why);
    fputs("\">", f);
    xml_text(f, why);
    fputs("</failure>\n    </testcase>\n", f);
}

static void junit_counts(const cJSON *arr, const char *key, const char *value, int *n, double *secs)
{
    n[0] = n[1] = n[2] = 0;
    *secs = 0;
    const cJSON *c;
    cJSON_ArrayForEach (c, arr) {
        const char *k = str_of(c, key);
        if (!k || strcmp(k, value) != 0)
            continue;
        n[verdict_slot(c)]++;
        *secs += case_seconds(c);
    }
}

/* Has an earlier element of arr the same value of key? (suites are grouped in order of first appearance) */
static bool seen_before(const cJSON *arr, const cJSON *upto, const char *key, const char *value)
{
    const cJSON *c;
    cJSON_ArrayForEach (c, arr) {
        if (c == upto)
            return false;
        const char *k = str_of(c, key);
        if (k && strcmp(k, value) == 0)
            return true;
    }
    return false;
}

static void junit_suites(FILE *f, const cJSON *arr, const char *key, const char *prefix)
{
    const cJSON *c;
    cJSON_ArrayForEach (c, arr) {
        const char *name = str_of(c, key);
        if (!name || seen_before(arr, c, key, name))
            continue;
        int n[3];
        double secs;
        junit_counts(arr, key, name, n, &secs);
        char suite[160];
        snprintf(suite, sizeof suite, "%s%s", prefix, name);
        fputs("  <testsuite name=\"", f);
        xml_text(f, suite);
        fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"%.6f\">\n", n[0] + n[1] + n[2],
                n[1], n[2], secs);
        const cJSON *d;
        cJSON_ArrayForEach (d, arr) {
            const char *k = str_of(d, key);
            if (!k || strcmp(k, name) != 0)
                continue;
            char title[1024];
            case_title(d, title, sizeof title);
            junit_case(f, suite, title, d);
        }
        fputs("  </testsuite>\n", f);
    }
}

tp_status tp_cmp_write_junit(tp_context *ctx, const tp_cmp_report *r, const char *path)
{
    tp_atomic_file af;
    tp_status st = tp_atomic_open(ctx, path, &af);
    if (st)
        return st;
    int p, fl, sk;
    tp_cmp_report_counts(r, &p, &fl, &sk);
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", af.fp);
    fprintf(af.fp, "<testsuites name=\"twinpix.compare\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\">\n",
            p + fl + sk, fl, sk);
    junit_suites(af.fp, r->cases, "op", "");
    junit_suites(af.fp, r->pipelines, "name", "pipeline.");
    fputs("</testsuites>\n", af.fp);
    return tp_atomic_commit(ctx, &af);
}

/* ---- the one-screen text ---- */

#define TEXT_MAX_PIPELINE_FAILURES 6

/* The first failure of each op (with how many more), then the failing pipelines: one screen even when an
 * op fails everywhere. */
static void text_failures(FILE *f, const tp_cmp_report *r)
{
    int total = r->n[0][1] + r->n[1][1];
    if (!total)
        return;
    fprintf(f, "\nfailures (%d; the first of each op):\n", total);
    const cJSON *c, *d;
    char title[1024], why[2048];
    cJSON_ArrayForEach (c, r->cases) {
        const char *op = str_of(c, "op");
        if (verdict_slot(c) != 1 || !op)
            continue;
        bool earlier = false;
        int more = 0;
        cJSON_ArrayForEach (d, r->cases) {
            const char *o2 = str_of(d, "op");
            if (verdict_slot(d) != 1 || !o2 || strcmp(o2, op) != 0)
                continue;
            if (d == c)
                break;
            earlier = true;
        }
        if (earlier)
            continue;
        for (d = c->next; d; d = d->next)
            more += verdict_slot(d) == 1 && str_of(d, "op") && strcmp(str_of(d, "op"), op) == 0;
        case_title(c, title, sizeof title);
        failure_text(c, why, sizeof why);
        fprintf(f, "  %s %s\n      %s\n", op, title, why);
        if (more)
            fprintf(f, "      (+%d more %s failures)\n", more, op);
    }
    int shown = 0;
    cJSON_ArrayForEach (c, r->pipelines) {
        if (verdict_slot(c) != 1 || shown++ >= TEXT_MAX_PIPELINE_FAILURES)
            continue;
        const char *stage = str_of(c, "first_differing_stage");
        const cJSON *s, *stages = cJSON_GetObjectItemCaseSensitive(c, "stages");
        why[0] = 0;
        cJSON_ArrayForEach (s, stages)
            if (stage && str_of(s, "as") && strcmp(str_of(s, "as"), stage) == 0)
                failure_text(s, why, sizeof why);
        if (!stage && str_of(c, "error"))
            snprintf(why, sizeof why, "%s", str_of(c, "error"));
        fprintf(f, "  pipeline %s on %s: first differing stage: %s\n      %s\n", str_of(c, "name"),
                str_of(c, "dataset"), stage ? stage : "-", why);
    }
    if (shown > TEXT_MAX_PIPELINE_FAILURES)
        fprintf(f, "  ... and %d more failing pipelines (see compare.json)\n", shown - TEXT_MAX_PIPELINE_FAILURES);
}

/* The most common skip reason, so an all-skipped run says why in one line. */
static void text_skips(FILE *f, const tp_cmp_report *r)
{
    int total = r->n[0][2] + r->n[1][2];
    if (!total)
        return;
    const char *best = NULL;
    int best_n = 0;
    const cJSON *c, *d;
    cJSON_ArrayForEach (c, r->cases) {
        const char *why = verdict_slot(c) == 2 ? str_of(c, "skip_reason") : NULL;
        if (!why || (best && strcmp(best, why) == 0))
            continue;
        int n = 0;
        cJSON_ArrayForEach (d, r->cases)
            n += verdict_slot(d) == 2 && str_of(d, "skip_reason") && strcmp(str_of(d, "skip_reason"), why) == 0;
        if (n > best_n)
            best = why, best_n = n;
        if (best_n * 2 > total)
            break;
    }
    fprintf(f, "\nskipped: %d", total);
    if (best)
        fprintf(f, " (%d: %.200s)", best_n, best);
    fputc('\n', f);
}

void tp_cmp_write_text(const tp_cmp_report *r, FILE *f)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(r->root, "meta");
    const cJSON *gpu = cJSON_GetObjectItemCaseSensitive(meta, "gpu");
    fprintf(f, "twinpix compare %s (%s): GPU %s\n", str_of(meta, "version"), str_of(meta, "git_commit"),
            cJSON_IsObject(gpu) ? str_of(gpu, "name") : "none");
    fprintf(f, "%-24s %6s %6s %6s\n", "op", "pass", "fail", "skip");
    const cJSON *c;
    cJSON_ArrayForEach (c, r->cases) {
        const char *op = str_of(c, "op");
        if (!op || seen_before(r->cases, c, "op", op))
            continue;
        int n[3];
        double secs;
        junit_counts(r->cases, "op", op, n, &secs);
        fprintf(f, "%-24s %6d %6d %6d%s\n", op, n[0], n[1], n[2], n[1] ? "  <-" : "");
    }
    if (cJSON_GetArraySize(r->pipelines))
        fprintf(f, "%-24s %6d %6d %6d%s\n", "(pipelines)", r->n[1][0], r->n[1][1], r->n[1][2],
                r->n[1][1] ? "  <-" : "");
    int p, fl, sk;
    tp_cmp_report_counts(r, &p, &fl, &sk);
    fprintf(f, "%-24s %6d %6d %6d\n", "total", p, fl, sk);
    text_failures(f, r);
    text_skips(f, r);
}

tp_status tp_cmp_write_text_file(tp_context *ctx, const tp_cmp_report *r, const char *path)
{
    tp_atomic_file af;
    tp_status st = tp_atomic_open(ctx, path, &af);
    if (st)
        return st;
    tp_cmp_write_text(r, af.fp);
    return tp_atomic_commit(ctx, &af);
}

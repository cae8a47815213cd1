/* twinpix run [IMAGE | --synthetic N|YxX|ZxYxX] [--backend cpu|cuda|both|auto] [--out DIR] [--repeat N]
 *             [--threads N] [--write-stages auto|all|none] [--parity-with RUN.json] [--set step.param=v]...
 * The seed pipeline (core/pipeline.c) on a real image (default: the datasets manifest's default) or a
 * synthetic 2D image / 3D volume. With a usable GPU it runs on both backends, checks every stage's output for
 * bit-identity (parity) and reports per-stage speedups; without one it says so.
 *
 * Parity keeps no copies: every stage's result is reduced to a 64-bit digest (core/digest.c: dtype, shape
 * and bytes, every float NaN hashed as one canonical NaN, so NaNs of different bits agree as in compare/'s
 * exact contract; device results are downloaded a 256 MiB block at a time) while the pipeline runner still
 * holds it, and the regionprops table is kept and compared in full. So the memory of a run is the pipeline's own
 * (core/pipeline.c frees each result once no later step reads it), and a volume of billions of voxels goes
 * through; two separate runs (--backend cuda, then --backend cpu --parity-with the first run.json) compare
 * the same way.
 *
 * Writes into DIR: each stage's image (stage_*.tif), labels.tif, overlay.png (2D) or overlay.tif (3D, 8-bit
 * RGB) -- each only up to 2 GiB unless --write-stages all --, threshold.json, regionprops.csv and
 * regionprops.json, and run.json with timings, digests, parity, speedups and memory (peak device bytes,
 * peak host RSS, what the runner held) per stage and per backend. */
#include "cli/cli_util.h"
#include "cli/run_util.h"
#include "core/calibration.h"
#include "core/pipeline.h"
#include "datasets/datasets.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_REPEAT 101
#define WRITE_LIMIT ((int64_t)2 << 30)      /* --write-stages auto: stage images up to 2 GiB */
#define WARMUP_FULL_MAX ((int64_t)1 << 27)  /* larger inputs warm the GPU up on a slab of their first planes */
#define WARMUP_SLAB ((int64_t)1 << 24)

enum { WRITE_NONE = 0, WRITE_AUTO = 1, WRITE_ALL = 2 };

typedef struct stage_rec {
    int ran;             /* ran (a skipped step passes its input through) */
    double ms;           /* this repetition's step time */
    /* of the recorded repetition: */
    tp_output_kind kind;
    tp_dtype dtype;
    int ndim;
    int64_t shape[TP_MAX_DIMS];
    int64_t bytes;
    int have_digest;
    uint64_t digest;
    double digest_ms;
    int64_t peak_device;  /* process-wide device peak during the step (CUDA) */
    int64_t peak_rss;     /* VmHWM during the step; -1 when it cannot be reset per step */
    int64_t held;         /* what the pipeline runner held during the step */
    char file[64];        /* written to DIR/file; "" = not written */
    char not_written[192];
    tp_table table;       /* table stages: a host copy, compared in full */
} stage_rec;

typedef struct run_state {
    tp_context *ctx;
    tp_backend_id be;
    const char *out_dir;
    int write;            /* write outputs in this repetition */
    int record;           /* digests and memory in this repetition */
    int write_mode;
    int rss_reset_ok;     /* VmHWM can be reset (per stage and per backend peaks) */
    tp_digester dg;
    stage_rec st[TP_PIPE_MAX_STEPS];
    tp_pipe_stats stats;  /* of the recorded repetition */
    int64_t peak_device, peak_rss;
    double wall_ms, digest_ms, upload_ms;
    int recorded;
    tp_status err;
} run_state;

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* Fold the process-wide peaks since the last reset into the backend's peaks. */
static void fold_peaks(run_state *rs)
{
    if (rs->be == TP_BACKEND_CUDA)
        rs->peak_device = max64(rs->peak_device, tp_device_mem_peak());
    rs->peak_rss = max64(rs->peak_rss, tp_rss_peak_bytes());
}

static void before_stage(void *user, int i, const tp_pipe_step *s)
{
    (void)i;
    (void)s;
    run_state *rs = user;
    if (!rs->record)
        return;
    fold_peaks(rs);
    if (rs->be == TP_BACKEND_CUDA)
        tp_device_mem_reset_peak();
    if (rs->rss_reset_ok)
        tp_rss_reset_peak();
}

static tp_status copy_table(tp_context *ctx, const tp_table *src, tp_table *dst)
{
    tp_table_free(dst);
    *dst = tp_table_empty();
    dst->nrows = src->nrows;
    for (int c = 0; c < src->ncols; c++) {
        tp_status st = tp_table_add_column(ctx, dst, src->cols[c].name, src->cols[c].dtype);
        if (st)
            return st;
        memcpy(dst->cols[c].data, src->cols[c].data, (size_t)src->nrows * tp_dtype_size(src->cols[c].dtype));
    }
    return TP_OK;
}

static void human_bytes(int64_t b, char *out, size_t n)
{
    if (b >= (int64_t)1 << 30)
        snprintf(out, n, "%.2f GiB", (double)b / (double)((int64_t)1 << 30));
    else if (b >= (int64_t)1 << 20)
        snprintf(out, n, "%.1f MiB", (double)b / (double)((int64_t)1 << 20));
    else
        snprintf(out, n, "%lld B", (long long)b);
}

/* A 3D overlay as 8-bit RGB, as img_as_ubyte would (round to nearest), for overlay.tif. */
static tp_status overlay_u8(tp_context *ctx, const tp_image *src, tp_image *dst)
{
    tp_image host = tp_image_empty();
    tp_status st = TP_OK;
    if (src->location != TP_HOST || !tp_image_is_contiguous(src)) {
        if ((st = tp_image_copy(ctx, src, &host, TP_HOST)))
            return st;
        src = &host;
    }
    if (!(st = tp_image_alloc(ctx, dst, TP_UINT8, src->ndim, src->shape, src->channel_axis, TP_HOST))) {
        const double *v = src->data;
        uint8_t *o = dst->data;
        int64_t n = tp_image_count(src);
#pragma omp parallel for num_threads(ctx->threads) schedule(static)
        for (int64_t i = 0; i < n; i++) {
            double x = v[i] < 0 ? 0 : v[i] > 1 ? 1 : v[i];
            o[i] = (uint8_t)lrint(x * 255.0);
        }
    }
    tp_image_free(&host);
    return st;
}

static tp_status write_stage(run_state *rs, int i, const tp_pipe_step *s, const tp_result *r)
{
    stage_rec *sr = &rs->st[i];
    char path[4096];
    tp_status st = TP_OK;
    if (r->kind == TP_OUT_TABLE) {
        snprintf(path, sizeof path, "%s/regionprops.csv", rs->out_dir);
        st = tp_cli_write_result(rs->ctx, path, r);
        snprintf(path, sizeof path, "%s/regionprops.json", rs->out_dir);
        if (!st)
            st = tp_cli_write_result(rs->ctx, path, r);
        snprintf(sr->file, sizeof sr->file, "regionprops.csv");
        return st;
    }
    if (r->kind == TP_OUT_SCALAR) {
        snprintf(sr->file, sizeof sr->file, "threshold.json");
        snprintf(path, sizeof path, "%s/%s", rs->out_dir, sr->file);
        return tp_cli_write_result(rs->ctx, path, r);
    }
    int is3d = tp_image_spatial_ndim(&r->image) == 3;
    char file[64];
    if (!strcmp(s->op, "label"))
        snprintf(file, sizeof file, "labels.tif");
    else if (!strcmp(s->op, "label2rgb"))
        snprintf(file, sizeof file, is3d ? "overlay.tif" : "overlay.png");
    else
        snprintf(file, sizeof file, "stage_%.40s.tif", s->name);
    int64_t bytes = tp_result_bytes(r);
    if (rs->write_mode == WRITE_NONE) {
        snprintf(sr->not_written, sizeof sr->not_written, "--write-stages none");
        return TP_OK;
    }
    if (rs->write_mode == WRITE_AUTO && bytes > WRITE_LIMIT) {
        char hb[32];
        human_bytes(bytes, hb, sizeof hb);
        snprintf(sr->not_written, sizeof sr->not_written,
                 "%s: %s in memory, over the 2 GiB of --write-stages auto (--write-stages all writes it)", file, hb);
        return TP_OK;
    }
    snprintf(path, sizeof path, "%s/%s", rs->out_dir, file);
    if (is3d && !strcmp(s->op, "label2rgb") && r->image.dtype == TP_FLOAT64) {
        tp_image u8 = tp_image_empty();
        if (!(st = overlay_u8(rs->ctx, &r->image, &u8)))
            st = tp_write_image(rs->ctx, path, &u8);
        tp_image_free(&u8);
    } else {
        st = tp_cli_write_result(rs->ctx, path, r);
    }
    if (!st)
        snprintf(sr->file, sizeof sr->file, "%s", file);
    return st;
}

static int on_stage(void *user, int i, const tp_pipe_step *s, const tp_result *r, double ms)
{
    run_state *rs = user;
    stage_rec *sr = &rs->st[i];
    sr->ms = ms;
    sr->ran = r != NULL;
    if (!r)
        return 0;
    if (rs->record) {
        sr->peak_device = rs->be == TP_BACKEND_CUDA ? tp_device_mem_peak() : 0;
        sr->peak_rss = rs->rss_reset_ok ? tp_rss_peak_bytes() : -1;
        sr->kind = r->kind;
        sr->dtype = r->image.dtype;
        sr->ndim = r->kind == TP_OUT_TABLE ? 0 : r->image.ndim;
        memcpy(sr->shape, r->image.shape, sizeof sr->shape);
        sr->bytes = tp_result_bytes(r);
        double t0 = tp_cli_now_ms();
        rs->err = tp_result_digest(rs->ctx, &rs->dg, r, &sr->digest);
        sr->have_digest = !rs->err;
        if (!rs->err && r->kind == TP_OUT_TABLE)
            rs->err = copy_table(rs->ctx, &r->table, &sr->table);
        sr->digest_ms = tp_cli_now_ms() - t0;
        rs->digest_ms += sr->digest_ms;
    }
    if (rs->write && !rs->err)
        rs->err = write_stage(rs, i, s, r);
    return rs->err != TP_OK;
}

static int same_table(const tp_table *a, const tp_table *b)
{
    if (a->nrows != b->nrows || a->ncols != b->ncols)
        return 0;
    for (int c = 0; c < a->ncols; c++)
        if (strcmp(a->cols[c].name, b->cols[c].name) || a->cols[c].dtype != b->cols[c].dtype ||
            memcmp(a->cols[c].data, b->cols[c].data, (size_t)a->nrows * tp_dtype_size(a->cols[c].dtype)))
            return 0;
    return 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Run the pipeline `repeat` times on a backend; per-stage medians in med[]. The first repetition is the
 * recorded one (digests, memory, outputs when write) unless record is 0 (a warm-up). */
static tp_status run_backend(run_state *rs, const tp_pipeline *p, tp_backend_id be, const tp_image *img, int repeat,
                             int write, int record, double *med, double *upload_med)
{
    static double samples[TP_PIPE_MAX_STEPS][MAX_REPEAT];
    double up[MAX_REPEAT];
    rs->be = be;
    for (int r = 0; r < repeat; r++) {
        rs->write = write && r == 0;
        rs->record = record && r == 0;
        rs->err = TP_OK;
        tp_pipe_opts o;
        memset(&o, 0, sizeof o);
        o.cb = on_stage;
        o.before = before_stage;
        o.user = rs;
        o.upload_ms = &up[r];
        o.stats = rs->record ? &rs->stats : NULL;
        if (rs->record) {
            rs->peak_device = 0;
            rs->peak_rss = -1;
            rs->digest_ms = 0;
            if (be == TP_BACKEND_CUDA)
                tp_device_mem_reset_peak();
            if (rs->rss_reset_ok)
                tp_rss_reset_peak();
        }
        double t0 = tp_cli_now_ms();
        tp_status st = tp_pipeline_run_opts(rs->ctx, p, be, img, &o);
        if (rs->record) {
            rs->wall_ms = tp_cli_now_ms() - t0;
            rs->upload_ms = up[r];
            fold_peaks(rs);
            rs->recorded = 1;
        }
        if (!st && rs->err)
            st = rs->err;
        if (st)
            return st;
        for (int i = 0; i < p->n; i++)
            samples[i][r] = rs->st[i].ms;
    }
    for (int i = 0; i < p->n; i++)
        med[i] = median(samples[i], repeat);
    *upload_med = median(up, repeat);
    return TP_OK;
}

static void usage(void)
{
    printf(
        "usage: twinpix run [IMAGE | --synthetic N|YxX|ZxYxX] [--backend cpu|cuda|both|auto] [--out DIR]\n"
        "                   [--repeat N] [--threads N] [--write-stages auto|all|none] [--parity-with RUN.json]\n"
        "                   [--set step.param=value]...\n"
        "--synthetic: a nuclei-like uint8 image from the synthetic generator instead of a file: N (N x N),\n"
        "  YxX (2D) or ZxYxX (a 3D volume; sizes over 2^31 voxels work, e.g. 1300x1300x1300).\n"
        "Runs the seed pipeline (extract_channel, gaussian, threshold_otsu, threshold, binary_erosion, label,\n"
        "label2rgb, regionprops_table) with the seed's parameters; on a 3D volume the erosion's disk:2 becomes\n"
        "ball:2 (a 2D footprint on a 3D image is an error, as in scikit-image) unless --set eroded.footprint=...\n"
        "Default IMAGE: the datasets manifest's default real image. Default backend: both when a CUDA device is\n"
        "usable (parity + speedups), else cpu; auto decides once for the whole pipeline from the calibration\n"
        "(TWINPIX_DEBUG=1 shows why).\n"
        "Steps: channel blurred threshold binary eroded labels overlay table (e.g. --set blurred.sigma=2).\n"
        "Parity: every stage's result is reduced to a 64-bit digest of its dtype, shape and bytes (no copies are\n"
        "kept; device results are read back 256 MiB at a time; every float NaN counts as one NaN, whatever its\n"
        "sign and payload) and the regionprops table is compared in full;\n"
        "--parity-with RUN.json compares this run's digests with another run's (e.g. --backend cuda first, then\n"
        "--backend cpu --parity-with DIR/run.json).\n"
        "--write-stages: auto (default) writes each stage image (stage_*.tif, labels.tif, overlay.png or, in 3D,\n"
        "  overlay.tif) up to 2 GiB in memory and lists the larger ones in run.json as not written; all writes\n"
        "  every one; none writes none. threshold.json, regionprops.csv/.json and run.json are always written.\n"
        "run.json also has, per stage and per backend, the step time, the digest, the peak device memory, the\n"
        "peak host RSS and the bytes the pipeline held. Exit 1 when the outputs of any stage differ.\n");
}

static int mkdir_p(const char *dir)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(buf, 0777) && errno != EEXIST ? -1 : 0;
}

/* "N", "YxX" or "ZxYxX": extents 1..2^20 each, at most 2^38 voxels; N alone keeps 1..16384. */
static int parse_synthetic(const char *s, int *ndim, int64_t shape[3], int *square_n)
{
    int64_t v[4];
    int n = 0;
    const char *p = s;
    while (n < 4) {
        char *end;
        errno = 0;
        if (*p < '0' || *p > '9')
            return -1;
        long long x = strtoll(p, &end, 10);
        if (errno || x < 1 || x > (1 << 20))
            return -1;
        v[n++] = x;
        if (*end == 0)
            break;
        if (*end != 'x' && *end != 'X')
            return -1;
        p = end + 1;
    }
    if (n == 4 || n < 1)
        return -1;
    *square_n = n == 1;
    if (n == 1) {
        if (v[0] > 16384)
            return -1;
        v[1] = v[0];
        n = 2;
    }
    int64_t total = 1;
    for (int i = 0; i < n; i++)
        if (!tp_mul_i64(total, v[i], &total) || total > ((int64_t)1 << 38))
            return -1;
    *ndim = n;
    memcpy(shape, v, sizeof(int64_t) * (size_t)n);
    return 0;
}

/* On a 3D volume the seed's 2D footprints (disk:R) become their 3D counterparts (ball:R), except in steps
 * whose footprint the user set. Returns the note for run.json ("" when nothing changed). */
static void adapt_footprints(tp_context *ctx, tp_pipeline *p, int spatial_ndim, char **sets, int nsets, char *note,
                             size_t note_len)
{
    note[0] = 0;
    if (spatial_ndim != 3)
        return;
    for (int i = 0; i < p->n; i++) {
        tp_pipe_step *s = &p->steps[i];
        const char *f = strstr(s->params, "footprint=disk:");
        if (!f || (f != s->params && f[-1] != ';'))
            continue;
        int user = 0;
        for (int k = 0; k < nsets; k++) {
            char want[80];
            snprintf(want, sizeof want, "%s.footprint=", s->name);
            user |= !strncmp(sets[k], want, strlen(want));
        }
        if (user)
            continue;
        char r[32], a[128];
        size_t len = strcspn(f + 15, ";");
        if (len == 0 || len >= sizeof r)
            continue;
        memcpy(r, f + 15, len);
        r[len] = 0;
        snprintf(a, sizeof a, "%s.footprint=ball:%s", s->name, r);
        if (tp_pipeline_set(ctx, p, a) == TP_OK) {
            size_t used = strlen(note);
            snprintf(note + used, note_len - used, "%s%s (disk:%s is 2D; the input is 3D)", used ? "; " : "", a, r);
        }
    }
}

/* --parity-with: the other run's digest for each stage, by stage name (its backend's digest). */
typedef struct other_run {
    int n;
    char name[TP_PIPE_MAX_STEPS][48];
    uint64_t digest[TP_PIPE_MAX_STEPS];
    char backend[8];
    char path[4096];
} other_run;

static tp_status load_other(tp_context *ctx, const char *path, int ran_cpu, other_run *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->path, sizeof o->path, "%s", path);
    char *txt = NULL;
    tp_status st = tp_read_text_file(ctx, path, (int64_t)64 << 20, &txt, NULL);
    if (st)
        return st;
    cJSON *js = cJSON_Parse(txt);
    free(txt);
    const cJSON *stages = js ? cJSON_GetObjectItemCaseSensitive(js, "stages") : NULL;
    if (!cJSON_IsArray(stages)) {
        cJSON_Delete(js);
        return tp_error(ctx, TP_ERR_IO, "--parity-with '%s': expected a twinpix run.json with stages", path);
    }
    /* the other backend's digests; failing those, the same backend's (a run against a run) */
    for (int pass = 0; pass < 2 && o->n == 0; pass++) {
        int cpu_key = pass == 0 ? !ran_cpu : ran_cpu;
        const char *key = cpu_key ? "digest_cpu" : "digest_cuda";
        snprintf(o->backend, sizeof o->backend, "%s", cpu_key ? "cpu" : "cuda");
        const cJSON *s;
        cJSON_ArrayForEach(s, stages)
        {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(s, "name");
            const cJSON *dg = cJSON_GetObjectItemCaseSensitive(s, key);
            if (!cJSON_IsString(nm) || !cJSON_IsString(dg) || o->n >= TP_PIPE_MAX_STEPS)
                continue;
            snprintf(o->name[o->n], sizeof o->name[o->n], "%s", nm->valuestring);
            o->digest[o->n++] = strtoull(dg->valuestring, NULL, 16);
        }
    }
    cJSON_Delete(js);
    if (o->n == 0)
        return tp_error(ctx, TP_ERR_IO, "--parity-with '%s': no stage has a digest_cpu or digest_cuda", path);
    return TP_OK;
}

static void add_bytes_or_null(cJSON *o, const char *key, int64_t v)
{
    if (v >= 0)
        cJSON_AddNumberToObject(o, key, (double)v);
    else
        cJSON_AddNullToObject(o, key);
}

static void hex64(uint64_t v, char *out, size_t n) { snprintf(out, n, "%016llx", (unsigned long long)v); }

static cJSON *stage_backend_json(const run_state *rs, int i, double med_ms)
{
    const stage_rec *sr = &rs->st[i];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "ms", med_ms);
    if (sr->have_digest) {
        char h[24];
        hex64(sr->digest, h, sizeof h);
        cJSON_AddStringToObject(o, "digest", h);
    }
    cJSON_AddNumberToObject(o, "digest_ms", sr->digest_ms);
    cJSON_AddNumberToObject(o, "held_bytes", (double)rs->stats.held_during[i]);
    if (rs->be == TP_BACKEND_CUDA)
        cJSON_AddNumberToObject(o, "peak_device_bytes", (double)sr->peak_device);
    add_bytes_or_null(o, "peak_host_rss_bytes", sr->peak_rss);
    return o;
}

static cJSON *backend_json(const run_state *rs, const tp_pipeline *p, const double *med)
{
    cJSON *o = cJSON_CreateObject();
    double sum = 0;
    for (int i = 0; i < p->n; i++)
        sum += rs->st[i].ran ? med[i] : 0;
    cJSON_AddNumberToObject(o, "pipeline_ms", sum);
    cJSON_AddNumberToObject(o, "wall_ms", rs->wall_ms);
    cJSON_AddNumberToObject(o, "digest_ms", rs->digest_ms);
    if (rs->be == TP_BACKEND_CUDA) {
        cJSON_AddNumberToObject(o, "upload_ms", rs->upload_ms);
        cJSON_AddNumberToObject(o, "peak_device_bytes", (double)rs->peak_device);
        cJSON_AddNumberToObject(o, "digest_downloaded_bytes", (double)rs->dg.downloaded);
    }
    add_bytes_or_null(o, "peak_host_rss_bytes", rs->peak_rss);
    cJSON_AddBoolToObject(o, "peak_host_rss_is_this_backend_only", rs->rss_reset_ok);
    cJSON_AddNumberToObject(o, "peak_held_bytes", (double)rs->stats.peak_held);
    cJSON_AddNumberToObject(o, "results_freed_before_the_end", rs->stats.freed);
    return o;
}

int tp_cmd_run(int argc, char **argv)
{
    double t_cmd = tp_cli_now_ms();
    const char *image_path = NULL, *out_dir = "reports/run", *backend = NULL, *parity_with = NULL;
    int repeat = 5, threads = 0, write_mode = WRITE_AUTO;
    int synth_ndim = 0, synth_square = 0;
    int64_t synth_shape[3] = {0, 0, 0};
    char *sets[64];
    int nsets = 0;
    tp_pipeline p;
    tp_pipeline_seed(&p);
    tp_context *ctx = NULL;
    if (tp_context_create(&ctx))
        return TP_EXIT_ERROR;
    int rc = TP_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage();
            goto out;
        } else if (!strncmp(a, "--", 2) && i + 1 >= argc) {
            fprintf(stderr, "twinpix run: %s needs a value\n", a);
            rc = TP_EXIT_USAGE;
            goto out;
        } else if (!strcmp(a, "--out")) {
            out_dir = argv[++i];
        } else if (!strcmp(a, "--backend")) {
            backend = argv[++i];
        } else if (!strcmp(a, "--synthetic")) {
            if (parse_synthetic(argv[++i], &synth_ndim, synth_shape, &synth_square)) {
                fprintf(stderr,
                        "twinpix run: --synthetic: expected N (1..16384), YxX or ZxYxX (extents 1..1048576, at most "
                        "2^38 voxels), got '%s'\n",
                        argv[i]);
                rc = TP_EXIT_USAGE;
                goto out;
            }
        } else if (!strcmp(a, "--repeat")) {
            repeat = atoi(argv[++i]);
        } else if (!strcmp(a, "--threads")) {
            threads = atoi(argv[++i]);
        } else if (!strcmp(a, "--write-stages")) {
            const char *w = argv[++i];
            write_mode = !strcmp(w, "all") ? WRITE_ALL : !strcmp(w, "none") ? WRITE_NONE : !strcmp(w, "auto") ? WRITE_AUTO : -1;
            if (write_mode < 0) {
                fprintf(stderr, "twinpix run: --write-stages: expected auto, all or none, got '%s'\n", w);
                rc = TP_EXIT_USAGE;
                goto out;
            }
        } else if (!strcmp(a, "--parity-with")) {
            parity_with = argv[++i];
        } else if (!strcmp(a, "--set")) {
            tp_status st = tp_pipeline_set(ctx, &p, argv[++i]);
            if (st) {
                rc = tp_cli_fail(ctx, "run", st);
                goto out;
            }
            if (nsets < (int)(sizeof sets / sizeof sets[0]))
                sets[nsets++] = argv[i];
        } else if (a[0] == '-') {
            fprintf(stderr, "twinpix run: unknown option '%s'\n", a);
            rc = TP_EXIT_USAGE;
            goto out;
        } else if (!image_path) {
            image_path = a;
        } else {
            fprintf(stderr, "twinpix run: one IMAGE only\n");
            rc = TP_EXIT_USAGE;
            goto out;
        }
    }
    if (repeat < 1 || repeat > MAX_REPEAT || threads < 0) {
        fprintf(stderr, "twinpix run: --repeat expects 1..%d and --threads >= 0\n", MAX_REPEAT);
        rc = TP_EXIT_USAGE;
        goto out;
    }
    tp_context_set_threads(ctx, threads);
    char why[256] = "";
    int have_gpu = tp_backend_available(TP_BACKEND_CUDA, why, sizeof why);
    int want_cpu = 1, want_gpu = have_gpu;
    if (backend && !strcmp(backend, "cpu"))
        want_gpu = 0;
    else if (backend && !strcmp(backend, "cuda"))
        want_cpu = 0, want_gpu = 1;
    else if (backend && strcmp(backend, "both") && strcmp(backend, "auto")) {
        fprintf(stderr, "twinpix run: --backend: expected cpu, cuda or both, got '%s'\n", backend);
        rc = TP_EXIT_USAGE;
        goto out;
    }
    if (want_gpu && !have_gpu) {
        fprintf(stderr, "twinpix run: --backend cuda: %s\n", why);
        rc = TP_EXIT_NO_DEVICE;
        goto out;
    }
    int want_auto = backend && !strcmp(backend, "auto");
    if (parity_with && !(backend && (!strcmp(backend, "cpu") || !strcmp(backend, "cuda")))) {
        fprintf(stderr, "twinpix run: --parity-with needs one backend (--backend cpu or --backend cuda)\n");
        rc = TP_EXIT_USAGE;
        goto out;
    }
    tp_dataset ds;
    memset(&ds, 0, sizeof ds);
    tp_image img = tp_image_empty();
    tp_status st;
    double t_in = tp_cli_now_ms();
    if (synth_ndim) { /* a nuclei-like image or volume from the synthetic generator, uint8 */
        tp_synth_params sp;
        memset(&sp, 0, sizeof sp);
        sp.ndim = synth_ndim;
        memcpy(sp.shape, synth_shape, sizeof sp.shape);
        sp.dtype = TP_UINT8;
        sp.seed = 1;
        char dims[80] = "";
        for (int k = 0; k < synth_ndim; k++) {
            size_t u = strlen(dims);
            snprintf(dims + u, sizeof dims - u, "%s%lld", k ? "x" : "", (long long)synth_shape[k]);
        }
        /* "synthetic_N" for the square N of old, "synthetic_YxX" / "synthetic_ZxYxX" otherwise */
        if (synth_square)
            snprintf(ds.name, sizeof ds.name, "synthetic_%lld", (long long)synth_shape[0]);
        else
            snprintf(ds.name, sizeof ds.name, "synthetic_%s", dims);
        snprintf(ds.path, sizeof ds.path, "synthetic nuclei %s uint8, seed 1", dims);
        st = tp_synth_nuclei(ctx, &sp, &img, NULL);
    } else if (image_path) {
        snprintf(ds.name, sizeof ds.name, "%s", strrchr(image_path, '/') ? strrchr(image_path, '/') + 1 : image_path);
        st = tp_read_image(ctx, image_path, &img, NULL);
    } else {
        st = tp_dataset_default(ctx, &ds);
        if (!st)
            st = tp_dataset_load(ctx, &ds, &img);
    }
    double input_ms = tp_cli_now_ms() - t_in;
    if (st) {
        rc = tp_cli_fail(ctx, "run", st);
        goto out;
    }
    static other_run other;
    if (parity_with && (st = load_other(ctx, parity_with, want_cpu, &other))) {
        rc = tp_cli_fail(ctx, "run", st);
        tp_image_free(&img);
        goto out;
    }
    if (mkdir_p(out_dir)) {
        fprintf(stderr, "twinpix run: cannot create '%s': %s\n", out_dir, strerror(errno));
        tp_image_free(&img);
        rc = TP_EXIT_IO;
        goto out;
    }
    char adapted[256];
    adapt_footprints(ctx, &p, tp_image_spatial_ndim(&img), sets, nsets, adapted, sizeof adapted);
    if (adapted[0])
        fprintf(stderr, "twinpix run: %s\n", adapted);
    if (want_auto) { /* one decision for the whole chain, so data is not sent back and forth */
        char rule[512];
        tp_backend_id b = tp_pipeline_choose(ctx, &p, &img, rule, sizeof rule);
        want_cpu = b == TP_BACKEND_CPU;
        want_gpu = b == TP_BACKEND_CUDA;
        fprintf(stderr, "twinpix run: auto chose %s for the pipeline: %s\n", tp_backend_name(b), rule);
    }
    char shape[64] = "";
    for (int k = 0; k < img.ndim; k++) {
        char b[24];
        snprintf(b, sizeof b, "%s%lld", k ? "x" : "", (long long)img.shape[k]);
        strcat(shape, b);
    }
    int64_t in_count = tp_image_count(&img);
    fprintf(stderr, "twinpix run: %s (%s %s, %lld elements, input ready in %.0f ms), backends:%s%s\n",
            image_path ? image_path : ds.name, shape, tp_dtype_name(img.dtype), (long long)in_count, input_ms,
            want_cpu ? " cpu" : "", want_gpu ? " cuda" : "");
    if (!want_gpu)
        fprintf(stderr, "twinpix run: GPU: %s\n", have_gpu ? "not requested" : why);

    static run_state cpu_rs, gpu_rs;
    memset(&cpu_rs, 0, sizeof cpu_rs);
    memset(&gpu_rs, 0, sizeof gpu_rs);
    int rss_ok = tp_rss_reset_peak() == 0 && tp_rss_peak_bytes() >= 0;
    run_state *both[2] = {&cpu_rs, &gpu_rs};
    for (int k = 0; k < 2; k++) {
        both[k]->ctx = ctx;
        both[k]->out_dir = out_dir;
        both[k]->write_mode = write_mode;
        both[k]->rss_reset_ok = rss_ok;
        tp_digester_init(&both[k]->dg, tp_context_threads(ctx));
        for (int i = 0; i < TP_PIPE_MAX_STEPS; i++)
            both[k]->st[i].table = tp_table_empty();
    }
    double cpu_ms[TP_PIPE_MAX_STEPS] = {0}, gpu_ms[TP_PIPE_MAX_STEPS] = {0}, up_cpu = 0, up_gpu = 0;
    if (want_cpu && (st = run_backend(&cpu_rs, &p, TP_BACKEND_CPU, &img, repeat, 1, 1, cpu_ms, &up_cpu)))
        rc = tp_cli_fail(ctx, "run (cpu)", st);
    if (!st && want_gpu) {
        /* one warm-up run so module loading and first allocations stay out of the timings; a large input
         * warms up on a slab of its first planes (the same kernels, a fraction of the time and memory) */
        tp_image warm = img;
        if (in_count > WARMUP_FULL_MAX && img.channel_axis != 0 && img.shape[0] > 1) {
            int64_t per = in_count / img.shape[0], rows = WARMUP_SLAB / (per > 0 ? per : 1);
            int64_t sh[TP_MAX_DIMS];
            memcpy(sh, img.shape, sizeof sh);
            sh[0] = rows < 2 ? 2 : rows > img.shape[0] ? img.shape[0] : rows;
            warm = tp_image_wrap(img.data, img.dtype, img.ndim, sh, img.channel_axis, TP_HOST);
            fprintf(stderr, "twinpix run: cuda warm-up on the first %lld of %lld planes\n", (long long)sh[0],
                    (long long)img.shape[0]);
        }
        double wm[TP_PIPE_MAX_STEPS], wu;
        if ((st = run_backend(&gpu_rs, &p, TP_BACKEND_CUDA, &warm, 1, 0, 0, wm, &wu)) ||
            (st = run_backend(&gpu_rs, &p, TP_BACKEND_CUDA, &img, repeat, !want_cpu, 1, gpu_ms, &up_gpu)))
            rc = tp_cli_fail(ctx, "run (cuda)", st);
    }
    if (!st) {
        tp_meta m;
        tp_meta_collect(&m);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "schema_version", "twinpix.run/1");
        cJSON *meta = cJSON_AddObjectToObject(o, "meta");
        cJSON_AddStringToObject(meta, "version", m.version);
        cJSON_AddStringToObject(meta, "git_commit", m.git_commit);
        cJSON_AddStringToObject(meta, "build_flags", m.build_flags);
        cJSON_AddStringToObject(meta, "host_cpu", m.host_cpu);
        cJSON_AddNumberToObject(meta, "host_threads", tp_context_threads(ctx));
        if (m.gpu_count > 0) {
            cJSON_AddStringToObject(meta, "gpu", m.gpu.name);
            cJSON_AddNumberToObject(meta, "gpu_memory_bytes", (double)m.gpu.total_mem);
        } else {
            cJSON_AddNullToObject(meta, "gpu");
        }
        if (!have_gpu)
            cJSON_AddStringToObject(meta, "gpu_unavailable_reason", why);
        cJSON_AddStringToObject(o, "image", image_path ? image_path : ds.path);
        cJSON_AddStringToObject(o, "image_name", ds.name);
        cJSON_AddStringToObject(o, "shape", shape);
        cJSON_AddStringToObject(o, "dtype", tp_dtype_name(img.dtype));
        cJSON_AddNumberToObject(o, "elements", (double)in_count);
        cJSON_AddNumberToObject(o, "input_ms", input_ms);
        cJSON_AddNumberToObject(o, "repeat", repeat);
        if (adapted[0])
            cJSON_AddStringToObject(o, "adapted", adapted);
        cJSON_AddStringToObject(o, "write_stages", write_mode == WRITE_ALL ? "all" : write_mode == WRITE_NONE ? "none" : "auto");
        cJSON_AddStringToObject(o, "parity_method",
                                "twinpix.digest/2: XXH64 of dtype, shape and 16 MiB chunk hashes of the bytes, "
                                "NaNs hashed as one canonical NaN (core/digest.c); the regionprops table compared "
                                "in full");
        cJSON *stages = cJSON_AddArrayToObject(o, "stages");
        double tot_c = 0, tot_g = up_gpu;
        int parity_ok = 1, compared = 0;
        printf("%-10s %-18s %12s %12s %9s  %s\n", "stage", "op", "cpu ms", "cuda ms", "speedup", "parity");
        for (int i = 0; i < p.n; i++) {
            const tp_pipe_step *s = &p.steps[i];
            const run_state *mine = want_cpu ? &cpu_rs : &gpu_rs;
            int ran = mine->st[i].ran;
            cJSON *so = cJSON_CreateObject();
            cJSON_AddStringToObject(so, "name", s->name);
            cJSON_AddStringToObject(so, "op", s->op);
            cJSON_AddStringToObject(so, "params", s->params);
            if (!ran) {
                cJSON_AddBoolToObject(so, "skipped", 1);
                cJSON_AddStringToObject(so, "skip_reason", "the image has no channel axis");
                cJSON_AddItemToArray(stages, so);
                printf("%-10s %-18s %12s %12s %9s  %s\n", s->name, s->op, "-", "-", "-", "skipped (no channels)");
                continue;
            }
            const stage_rec *sr = &mine->st[i];
            cJSON_AddStringToObject(so, "kind", sr->kind == TP_OUT_TABLE ? "table" : sr->kind == TP_OUT_SCALAR ? "scalar" : "image");
            if (sr->kind != TP_OUT_TABLE) {
                char sh[96] = "";
                for (int k = 0; k < sr->ndim; k++) {
                    size_t u = strlen(sh);
                    snprintf(sh + u, sizeof sh - u, "%s%lld", k ? "x" : "", (long long)sr->shape[k]);
                }
                cJSON_AddStringToObject(so, "dtype", tp_dtype_name(sr->dtype));
                cJSON_AddStringToObject(so, "shape", sh);
            } else {
                cJSON_AddNumberToObject(so, "rows", (double)sr->table.nrows);
            }
            cJSON_AddNumberToObject(so, "bytes", (double)sr->bytes);
            const stage_rec *wr = want_cpu ? &cpu_rs.st[i] : &gpu_rs.st[i];
            if (wr->file[0])
                cJSON_AddStringToObject(so, "file", wr->file);
            else
                cJSON_AddNullToObject(so, "file");
            if (wr->not_written[0])
                cJSON_AddStringToObject(so, "not_written_reason", wr->not_written);
            char h[24];
            const char *verdict = "cpu only";
            if (want_cpu) {
                cJSON_AddNumberToObject(so, "cpu_ms", cpu_ms[i]);
                hex64(cpu_rs.st[i].digest, h, sizeof h);
                cJSON_AddStringToObject(so, "digest_cpu", h);
                tot_c += cpu_ms[i];
            }
            if (want_gpu) {
                cJSON_AddNumberToObject(so, "cuda_ms", gpu_ms[i]);
                hex64(gpu_rs.st[i].digest, h, sizeof h);
                cJSON_AddStringToObject(so, "digest_cuda", h);
                tot_g += gpu_ms[i];
            }
            if (want_cpu)
                cJSON_AddItemToObject(so, "cpu", stage_backend_json(&cpu_rs, i, cpu_ms[i]));
            if (want_gpu)
                cJSON_AddItemToObject(so, "cuda", stage_backend_json(&gpu_rs, i, gpu_ms[i]));
            if (want_cpu && want_gpu) {
                const stage_rec *a = &cpu_rs.st[i], *b = &gpu_rs.st[i];
                int same = a->have_digest && b->have_digest && a->digest == b->digest;
                if (same && a->kind == TP_OUT_TABLE)
                    same = same_table(&a->table, &b->table);
                parity_ok &= same;
                compared++;
                verdict = same ? "identical" : "DIFFERS";
                cJSON_AddBoolToObject(so, "parity_identical", same);
                cJSON_AddNumberToObject(so, "speedup", gpu_ms[i] > 0 ? cpu_ms[i] / gpu_ms[i] : 0);
            } else if (parity_with) {
                int found = -1;
                for (int k = 0; k < other.n; k++)
                    if (!strcmp(other.name[k], s->name))
                        found = k;
                if (found >= 0) {
                    int same = sr->have_digest && sr->digest == other.digest[found];
                    hex64(other.digest[found], h, sizeof h);
                    int cross = strcmp(other.backend, want_cpu ? "cpu" : "cuda") != 0;
                    cJSON_AddStringToObject(so, cross ? (want_cpu ? "digest_cuda" : "digest_cpu") : "digest_other", h);
                    cJSON_AddBoolToObject(so, "parity_identical", same);
                    parity_ok &= same;
                    compared++;
                    verdict = same ? "identical (digest)" : "DIFFERS (digest)";
                } else {
                    verdict = "not in the other run";
                }
            } else if (!want_cpu) {
                verdict = "cuda only";
            }
            char c1[32] = "-", c2[32] = "-", c3[32] = "-";
            if (want_cpu)
                snprintf(c1, sizeof c1, "%.3f", cpu_ms[i]);
            if (want_gpu)
                snprintf(c2, sizeof c2, "%.3f", gpu_ms[i]);
            if (want_cpu && want_gpu && gpu_ms[i] > 0)
                snprintf(c3, sizeof c3, "%.1fx", cpu_ms[i] / gpu_ms[i]);
            printf("%-10s %-18s %12s %12s %9s  %s\n", s->name, s->op, c1, c2, c3, verdict);
            cJSON_AddItemToArray(stages, so);
        }
        cJSON *tot = cJSON_AddObjectToObject(o, "total");
        if (want_cpu)
            cJSON_AddNumberToObject(tot, "cpu_ms", tot_c);
        if (want_gpu) {
            cJSON_AddNumberToObject(tot, "cuda_upload_ms", up_gpu);
            cJSON_AddNumberToObject(tot, "cuda_ms_host_in_host_out", tot_g);
        }
        if (want_cpu && want_gpu)
            cJSON_AddNumberToObject(tot, "speedup_with_transfers", tot_g > 0 ? tot_c / tot_g : 0);
        if ((want_cpu && want_gpu) || (parity_with && compared > 0)) {
            cJSON_AddBoolToObject(o, "parity_identical", parity_ok);
            if (parity_with) {
                cJSON_AddStringToObject(o, "parity_with", other.path);
                cJSON_AddStringToObject(o, "parity_with_backend", other.backend);
            }
        } else {
            parity_ok = 1;
            cJSON_AddNullToObject(o, "parity_identical");
            cJSON_AddStringToObject(o, "parity_skip_reason",
                                    parity_with ? "no stage of the other run matched"
                                    : want_gpu  ? "cpu not run"
                                    : have_gpu  ? "cuda not run"
                                                : why);
        }
        cJSON *bes = cJSON_AddObjectToObject(o, "backends");
        if (want_cpu)
            cJSON_AddItemToObject(bes, "cpu", backend_json(&cpu_rs, &p, cpu_ms));
        if (want_gpu)
            cJSON_AddItemToObject(bes, "cuda", backend_json(&gpu_rs, &p, gpu_ms));
        printf("total: cpu %.3f ms", tot_c);
        if (want_gpu)
            printf(", cuda %.3f ms (upload %.3f ms, stage outputs stay on the device; table downloaded)", tot_g,
                   up_gpu);
        printf("\nparity: %s\n", compared ? (parity_ok ? "every stage bit-identical" : "DIFFERENCES FOUND")
                                          : want_cpu && want_gpu ? "every stage bit-identical"
                                          : parity_with          ? "no stage compared"
                                                                 : "not checked (one backend)");
        for (int k = 0; k < 2; k++) {
            const run_state *rs = both[k];
            if (!(k == 0 ? want_cpu : want_gpu))
                continue;
            char a[32], b[32], c[32];
            human_bytes(rs->stats.peak_held, a, sizeof a);
            human_bytes(rs->peak_rss, b, sizeof b);
            human_bytes(rs->peak_device, c, sizeof c);
            printf("%s: wall %.0f ms (digests %.0f ms), pipeline data held at peak %s, peak host RSS %s%s", k ? "cuda" : "cpu",
                   rs->wall_ms, rs->digest_ms, a, rs->peak_rss >= 0 ? b : "unknown",
                   rs->rss_reset_ok ? "" : " (process-wide)");
            if (k)
                printf(", peak device %s", c);
            printf("\n");
        }
        /* the process's peak: the backends' peaks and what came after the last reset (VmHWM is reset per
         * stage, so /usr/bin/time's maximum RSS sees only the time since the last reset) */
        int64_t proc_rss = tp_rss_peak_bytes();
        for (int k = 0; k < 2; k++)
            proc_rss = max64(proc_rss, both[k]->peak_rss);
        add_bytes_or_null(o, "peak_host_rss_bytes", proc_rss);
        if (proc_rss >= 0) {
            char a[32];
            human_bytes(proc_rss, a, sizeof a);
            printf("peak host RSS of the process: %s\n", a);
        }
        cJSON_AddNumberToObject(o, "command_wall_ms", tp_cli_now_ms() - t_cmd);
        char path[4096];
        snprintf(path, sizeof path, "%s/run.json", out_dir);
        char *txt = cJSON_Print(o);
        tp_atomic_file af;
        st = tp_atomic_open(ctx, path, &af);
        if (!st) {
            fputs(txt, af.fp);
            fputc('\n', af.fp);
            st = tp_atomic_commit(ctx, &af);
        }
        cJSON_free(txt);
        cJSON_Delete(o);
        if (st)
            rc = tp_cli_fail(ctx, "run", st);
        else {
            fprintf(stderr, "twinpix run: wrote %s/{run.json,labels.tif,%s,regionprops.csv,...}\n", out_dir,
                    tp_image_spatial_ndim(&img) == 3 ? "overlay.tif" : "overlay.png");
            if (!parity_ok)
                rc = TP_EXIT_CHECK_FAILED;
        }
    }
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < TP_PIPE_MAX_STEPS; i++)
            tp_table_free(&both[k]->st[i].table);
        tp_digester_free(&both[k]->dg);
    }
    tp_image_free(&img);
out:
    tp_context_destroy(ctx);
    return rc;
}

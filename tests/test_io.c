/* Image and table I/O: round trips for every dtype and layout twinpix writes, layouts written by libtiff
 * itself (tiles, planar, 1-bit, float16, uint64, subfiles, ImageJ), the real files of ../shared/datasets
 * and of Debian's scikit-image data, atomic writes, and the other readers as oracles: tifffile, scikit-image
 * and pandas (Debian's /usr/bin/python3) read what twinpix wrote, and twinpix reads what tifffile wrote. */
#include "core/io_tiff.h"
#include "tests/support/tp_test.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <png.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <unistd.h>

/* ---- helpers ---- */

static char g_dir[256];

static const char *tmp(const char *name)
{
    static char bufs[8][512];
    static int k;
    char *b = bufs[k++ & 7];
    if (!g_dir[0]) {
        strcpy(g_dir, "/tmp/tp_test_io_XXXXXX");
        if (!mkdtemp(g_dir))
            abort();
    }
    snprintf(b, 512, "%s/%s", g_dir, name);
    return b;
}

static int exists(const char *p) { return access(p, F_OK) == 0; }

/* Files in dir whose names start with prefix (e.g. leftover "<name>.tmp.XXXXXX"). */
static int count_prefix(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

/* A host image whose bytes are a deterministic pattern covering the dtype's range. */
static tp_image pattern(tp_dtype t, int ndim, const int64_t *shape, int ca, uint64_t seed)
{
    tp_image im = tp_image_empty();
    if (tp_image_alloc(tp_test_ctx, &im, t, ndim, shape, ca, TP_HOST) != TP_OK)
        abort();
    int64_t n = tp_image_count(&im);
    uint8_t *b = im.data;
    uint64_t s = seed;
    for (int64_t i = 0; i < n * (int64_t)tp_dtype_size(t); i++)
        b[i] = (uint8_t)tp_test_rand(&s);
    for (int64_t i = 0; i < n; i++) { /* keep floats finite and bools 0/1 */
        if (t == TP_BOOL)
            b[i] &= 1;
        else if (t == TP_FLOAT32)
            ((float *)b)[i] = (float)((double)(tp_test_rand(&s) >> 11) * 0x1.0p-53 * 2e6 - 1e6);
        else if (t == TP_FLOAT64)
            ((double *)b)[i] = ((double)(tp_test_rand(&s) >> 11) * 0x1.0p-53 - 0.5) * 1e-3;
    }
    return im;
}

static int same_image(const tp_image *a, const tp_image *b)
{
    if (a->ndim != b->ndim || a->dtype != b->dtype || a->channel_axis != b->channel_axis)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return 0;
    return memcmp(a->data, b->data, (size_t)tp_image_count(a) * tp_dtype_size(a->dtype)) == 0;
}

static void describe(const char *what, const tp_image *im)
{
    fprintf(stderr, "    %s: ndim %d (%lld %lld %lld %lld) %s ca %d\n", what, im->ndim, (long long)im->shape[0],
            (long long)im->shape[1], (long long)im->shape[2], (long long)im->shape[3], tp_dtype_name(im->dtype),
            im->channel_axis);
}

/* Run a Python check with Debian's interpreter; 77 when its modules are missing. */
static int run_python(const char *script_name, const char *script)
{
    if (access("/usr/bin/python3", X_OK) != 0)
        return 77;
    const char *path = tmp(script_name);
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    fputs(script, f);
    fclose(f);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s'", path, g_dir);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 1;
}

/* ---- tables ---- */

static tp_table tricky_table(void)
{
    tp_table t = tp_table_empty();
    t.nrows = 9;
    tp_context *c = tp_test_ctx;
    if (tp_table_add_column(c, &t, "label", TP_INT64) || tp_table_add_column(c, &t, "area", TP_FLOAT64) ||
        tp_table_add_column(c, &t, "intensity_mean", TP_FLOAT32) ||
        tp_table_add_column(c, &t, "odd \"name\", with comma", TP_FLOAT64) ||
        tp_table_add_column(c, &t, "flag", TP_BOOL))
        abort();
    static const double f64[9] = {0.1, 1.0 / 3.0, 1e300, 5e-324, -0.0, 123456789012345678.0, 2.5, -1e-310, 3.0};
    static const float f32[9] = {0.1f, 1.0f / 3.0f, 3.4e38f, 1e-45f, -7.25f, 16777217.0f, 0.5f, 1.17549435e-38f, 2.0f};
    for (int64_t r = 0; r < 9; r++) {
        ((int64_t *)t.cols[0].data)[r] = r == 8 ? INT64_C(1152921504606846977) : r == 7 ? INT64_MIN : r + 1;
        ((double *)t.cols[1].data)[r] = f64[r];
        ((float *)t.cols[2].data)[r] = f32[r];
        ((double *)t.cols[3].data)[r] = r == 0 ? NAN : r == 1 ? INFINITY : r == 2 ? -INFINITY : (double)r / 7.0;
        ((uint8_t *)t.cols[4].data)[r] = (uint8_t)(r & 1);
    }
    return t;
}

static int same_bits(double a, double b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0; }

static int test_table_csv_roundtrip(void)
{
    tp_table t = tricky_table(), back = tp_table_empty();
    const char *p = tmp("t.csv");
    CHECK_OK(tp_write_table_csv(tp_test_ctx, p, &t));
    CHECK_OK(tp_read_table_csv(tp_test_ctx, p, &back));
    CHECK(back.nrows == t.nrows && back.ncols == t.ncols);
    if (back.ncols == t.ncols) {
        CHECK(back.cols[0].dtype == TP_INT64 && back.cols[1].dtype == TP_FLOAT64 && back.cols[2].dtype == TP_FLOAT64);
        CHECK(back.cols[4].dtype == TP_BOOL);
        for (int c = 0; c < t.ncols; c++) {
            CHECK_MSG(strcmp(back.cols[c].name, t.cols[c].name) == 0, "%s vs %s", back.cols[c].name, t.cols[c].name);
            for (int64_t r = 0; r < t.nrows; r++)
                CHECK_MSG(same_bits(tp_table_get(&back, c, r), tp_table_get(&t, c, r)), "col %d row %lld: %.17g vs %.17g",
                          c, (long long)r, tp_table_get(&back, c, r), tp_table_get(&t, c, r));
        }
        CHECK(((int64_t *)back.cols[0].data)[8] == INT64_C(1152921504606846977));
        CHECK(((int64_t *)back.cols[0].data)[7] == INT64_MIN);
    }
    tp_table_free(&back);
    tp_table_free(&t);
    return 0;
}

static int test_table_json(void)
{
    tp_table t = tricky_table();
    const char *p = tmp("t.json");
    CHECK_OK(tp_write_table_json(tp_test_ctx, p, &t));
    FILE *f = fopen(p, "rb");
    char buf[8192] = {0};
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    CHECK(n > 0);
    CHECK(strstr(buf, "1152921504606846977") != NULL); /* int64 beyond 2^53 printed exactly */
    cJSON *root = cJSON_Parse(buf);
    CHECK(root != NULL);
    if (root) {
        CHECK(cJSON_GetArraySize(root) == t.ncols);
        const cJSON *area = cJSON_GetObjectItemCaseSensitive(root, "area");
        const cJSON *odd = cJSON_GetObjectItemCaseSensitive(root, "odd \"name\", with comma");
        const cJSON *flag = cJSON_GetObjectItemCaseSensitive(root, "flag");
        const cJSON *f32 = cJSON_GetObjectItemCaseSensitive(root, "intensity_mean");
        CHECK(area && odd && flag && f32 && cJSON_GetArraySize(area) == 9);
        for (int r = 0; area && f32 && r < 9; r++) {
            CHECK(same_bits(cJSON_GetArrayItem(area, r)->valuedouble, tp_table_get(&t, 1, r)));
            CHECK(cJSON_GetArrayItem(f32, r)->valuedouble == tp_table_get(&t, 2, r));
        }
        if (odd) {
            CHECK(cJSON_IsNull(cJSON_GetArrayItem(odd, 0)));                        /* NaN */
            CHECK(isinf(cJSON_GetArrayItem(odd, 1)->valuedouble) && cJSON_GetArrayItem(odd, 1)->valuedouble > 0);
            CHECK(isinf(cJSON_GetArrayItem(odd, 2)->valuedouble) && cJSON_GetArrayItem(odd, 2)->valuedouble < 0);
        }
        if (flag)
            CHECK(cJSON_IsFalse(cJSON_GetArrayItem(flag, 0)) && cJSON_IsTrue(cJSON_GetArrayItem(flag, 1)));
        cJSON_Delete(root);
    }
    /* an empty table is still a valid document */
    tp_table e = tp_table_empty();
    CHECK_OK(tp_write_table_json(tp_test_ctx, tmp("empty.json"), &e));
    CHECK_OK(tp_write_table_csv(tp_test_ctx, tmp("empty.csv"), &e));
    tp_table_free(&t);
    return 0;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
}

static int test_table_csv_reader(void)
{
    tp_table t = tp_table_empty();
    const char *p = tmp("crlf.csv");
    write_text(p, "label,\"bbox-0\",mean\r\n1,2,0.5\r\n2,3,nan\r\n\r\n");
    CHECK_OK(tp_read_table_csv(tp_test_ctx, p, &t));
    CHECK(t.nrows == 2 && t.ncols == 3);
    if (t.ncols == 3) {
        CHECK(strcmp(t.cols[1].name, "bbox-0") == 0 && t.cols[1].dtype == TP_INT64);
        CHECK(t.cols[2].dtype == TP_FLOAT64 && isnan(tp_table_get(&t, 2, 1)));
    }
    tp_table_free(&t);
    const char *bad[] = {"a,b\n1,2\n3\n", "a\nxyz\n", ""};
    for (int i = 0; i < 3; i++) {
        write_text(p, bad[i]);
        t.nrows = 99;
        CHECK(tp_read_table_csv(tp_test_ctx, p, &t) == TP_ERR_IO);
        CHECK(t.cols == NULL && t.ncols == 0 && strlen(tp_last_error(tp_test_ctx)) > 0);
    }
    CHECK(tp_read_table_csv(tp_test_ctx, tmp("absent.csv"), &t) == TP_ERR_IO);
    return 0;
}

/* ---- TIFF round trips ---- */

static const tp_dtype all_dtypes[] = {TP_BOOL,  TP_UINT8, TP_INT8,  TP_UINT16,  TP_INT16,
                                      TP_UINT32, TP_INT32, TP_INT64, TP_FLOAT32, TP_FLOAT64};

static void roundtrip_tiff(const tp_image *src, const tp_tiff_write_opts *o, const char *what)
{
    const char *p = tmp("rt.tif");
    tp_image back = tp_image_empty();
    tp_io_meta meta;
    CHECK_OK(tp_write_tiff_opts(tp_test_ctx, p, src, o));
    CHECK_OK(tp_read_image(tp_test_ctx, p, &back, &meta));
    tp_image want = *src;
    if (src->dtype == TP_BOOL)
        want.dtype = TP_UINT8; /* written as uint8 0/1 */
    if (tp_image_spatial_ndim(src) == 1) { /* a 1D image is one row */
        want.ndim = 2;
        want.shape[1] = src->shape[0];
        want.shape[0] = 1;
    }
    int ok = same_image(&back, &want);
    CHECK_MSG(ok, "%s", what);
    if (!ok) {
        describe("wrote", &want);
        describe("read", &back);
    }
    tp_image_free(&back);
    CHECK(count_prefix(g_dir, "rt.tif.tmp") == 0);
}

static int test_tiff_roundtrip_dtypes(void)
{
    int64_t s2[2] = {5, 7}, s3[3] = {3, 4, 6};
    for (size_t i = 0; i < sizeof all_dtypes / sizeof all_dtypes[0]; i++) {
        tp_image a = pattern(all_dtypes[i], 2, s2, -1, 11 + i), b = pattern(all_dtypes[i], 3, s3, -1, 31 + i);
        char what[64];
        snprintf(what, sizeof what, "2D %s", tp_dtype_name(all_dtypes[i]));
        roundtrip_tiff(&a, NULL, what);
        snprintf(what, sizeof what, "3D %s", tp_dtype_name(all_dtypes[i]));
        roundtrip_tiff(&b, NULL, what);
        tp_image_free(&a);
        tp_image_free(&b);
    }
    return 0;
}

static int test_tiff_roundtrip_layouts(void)
{
    struct {
        int ndim;
        int64_t shape[4];
        int ca;
        tp_dtype t;
    } L[] = {
        {2, {37, 41}, -1, TP_UINT16},          {3, {9, 17, 23}, -1, TP_UINT8},     {3, {19, 21, 3}, 2, TP_UINT8},
        {3, {19, 21, 4}, 2, TP_UINT16},        {3, {19, 21, 2}, 2, TP_FLOAT32},    {4, {3, 11, 13, 3}, 3, TP_UINT8},
        {3, {3, 19, 21}, 0, TP_UINT16},        {4, {4, 2, 11, 13}, 1, TP_FLOAT32}, {1, {29}, -1, TP_INT32},
        {3, {5, 300, 7}, 2, TP_INT16},         {4, {3, 11, 13, 4}, 3, TP_UINT16}, {4, {2, 11, 13, 2}, 3, TP_INT8},
    };
    tp_tiff_write_opts O[] = {
        {0, 0, 0, 0, 0},                         {0, 0, 1, 0, 0},                      /* big-endian */
        {0, COMPRESSION_ADOBE_DEFLATE, 0, 0, 5}, {0, COMPRESSION_LZW, 1, 0, 3},       /* codecs, strips */
        {0, COMPRESSION_PACKBITS, 0, 1, 0},      {1, 0, 0, 0, 0},                      /* BigTIFF */
        {1, COMPRESSION_ADOBE_DEFLATE, 1, 1, 1},                                       /* all at once */
    };
    for (size_t o = 0; o < sizeof O / sizeof O[0]; o++)
        for (size_t l = 0; l < sizeof L / sizeof L[0]; l++) {
            tp_image a = pattern(L[l].t, L[l].ndim, L[l].shape, L[l].ca, 100 * o + l);
            char what[96];
            snprintf(what, sizeof what, "layout %zu (ndim %d, ca %d), options %zu", l, L[l].ndim, L[l].ca, o);
            roundtrip_tiff(&a, &O[o], what);
            tp_image_free(&a);
        }
    return 0;
}

static int test_tiff_spacing_and_strided(void)
{
    int64_t s[3] = {4, 6, 8};
    tp_image a = pattern(TP_UINT16, 3, s, -1, 5), back = tp_image_empty();
    a.spacing[0] = 2.5;
    tp_io_meta meta;
    CHECK_OK(tp_write_image(tp_test_ctx, tmp("sp.tif"), &a));
    CHECK_OK(tp_read_image(tp_test_ctx, tmp("sp.tif"), &back, &meta));
    CHECK(meta.imagej == 1 && meta.spacing[0] == 2.5 && back.spacing[0] == 2.5);
    tp_image_free(&back);
    /* a strided view (every other column) is written as its logical contents */
    int64_t vs[3] = {4, 6, 4};
    tp_image v = tp_image_wrap(a.data, TP_UINT16, 3, vs, -1, TP_HOST);
    v.strides[0] = 6 * 8 * 2;
    v.strides[1] = 8 * 2;
    v.strides[2] = 4;
    CHECK_OK(tp_write_image(tp_test_ctx, tmp("view.tif"), &v));
    CHECK_OK(tp_read_image(tp_test_ctx, tmp("view.tif"), &back, NULL));
    int ok = back.data != NULL;
    for (int64_t i = 0; ok && i < 4 * 6 * 4; i++)
        ok = ((uint16_t *)back.data)[i] == ((uint16_t *)a.data)[2 * i];
    CHECK(ok);
    tp_image_free(&back);
    tp_image_free(&a);
    return 0;
}

/* ---- layouts written by libtiff itself ---- */

static TIFF *open_w(const char *path, const char *mode)
{
    TIFFSetErrorHandler(NULL);
    TIFFSetWarningHandler(NULL);
    TIFF *t = TIFFOpen(path, mode);
    if (!t)
        abort();
    return t;
}

static void basic_tags(TIFF *t, uint32_t w, uint32_t h, uint16_t bps, uint16_t spp, uint16_t fmt, uint16_t photo)
{
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, bps);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, spp);
    TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, fmt);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, photo);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
}

static int read_ok(const char *path, tp_image *im, tp_io_meta *meta)
{
    tp_status st = tp_read_image(tp_test_ctx, path, im, meta);
    CHECK_MSG(st == TP_OK, "%s: %s", path, tp_last_error(tp_test_ctx));
    return st == TP_OK;
}

static int test_tiff_tiled(void)
{
    /* 37 x 45 uint16 in 16 x 16 tiles (partial edge tiles), deflate; value = 1000*y + x */
    const char *p = tmp("tiled.tif");
    TIFF *t = open_w(p, "w");
    basic_tags(t, 45, 37, 16, 1, SAMPLEFORMAT_UINT, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_TILEWIDTH, 16);
    TIFFSetField(t, TIFFTAG_TILELENGTH, 16);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
    uint16_t tile[256];
    for (uint32_t ty = 0; ty < 37; ty += 16)
        for (uint32_t tx = 0; tx < 45; tx += 16) {
            for (int i = 0; i < 256; i++)
                tile[i] = (uint16_t)(1000 * (ty + i / 16) + tx + i % 16);
            TIFFWriteTile(t, tile, tx, ty, 0, 0);
        }
    TIFFClose(t);
    tp_image im = tp_image_empty();
    if (read_ok(p, &im, NULL)) {
        CHECK(im.ndim == 2 && im.shape[0] == 37 && im.shape[1] == 45 && im.dtype == TP_UINT16);
        int ok = 1;
        for (int y = 0; y < 37; y++)
            for (int x = 0; x < 45; x++)
                ok &= ((uint16_t *)im.data)[y * 45 + x] == 1000 * y + x;
        CHECK(ok);
    }
    tp_image_free(&im);
    /* RGB, tiled and planar separate: channel axis last */
    p = tmp("tiled_planar.tif");
    t = open_w(p, "w");
    basic_tags(t, 20, 18, 8, 3, SAMPLEFORMAT_UINT, PHOTOMETRIC_RGB);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_SEPARATE);
    TIFFSetField(t, TIFFTAG_TILEWIDTH, 16);
    TIFFSetField(t, TIFFTAG_TILELENGTH, 16);
    uint8_t t8[256];
    for (uint16_t s = 0; s < 3; s++)
        for (uint32_t ty = 0; ty < 18; ty += 16)
            for (uint32_t tx = 0; tx < 20; tx += 16) {
                for (int i = 0; i < 256; i++)
                    t8[i] = (uint8_t)(50 * s + (ty + i / 16) + 2 * (tx + i % 16));
                TIFFWriteTile(t, t8, tx, ty, 0, s);
            }
    TIFFClose(t);
    if (read_ok(p, &im, NULL)) {
        CHECK(im.ndim == 3 && im.shape[0] == 18 && im.shape[1] == 20 && im.shape[2] == 3 && im.channel_axis == 2);
        int ok = 1;
        for (int y = 0; y < 18; y++)
            for (int x = 0; x < 20; x++)
                for (int s = 0; s < 3; s++)
                    ok &= ((uint8_t *)im.data)[(y * 20 + x) * 3 + s] == (uint8_t)(50 * s + y + 2 * x);
        CHECK(ok);
    }
    tp_image_free(&im);
    return 0;
}

static int test_tiff_bilevel_half_uint64(void)
{
    /* 1-bit, 13 wide (rows padded to bytes), MinIsWhite: raw bits as bool, as tifffile returns them */
    const char *p = tmp("bits.tif");
    TIFF *t = open_w(p, "w");
    basic_tags(t, 13, 3, 1, 1, SAMPLEFORMAT_UINT, PHOTOMETRIC_MINISWHITE);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 2);
    uint8_t rows[3][2] = {{0xA5, 0xF8}, {0x00, 0x08}, {0xFF, 0xF8}};
    for (uint32_t y = 0; y < 3; y++)
        TIFFWriteScanline(t, rows[y], y, 0);
    TIFFClose(t);
    tp_image im = tp_image_empty();
    if (read_ok(p, &im, NULL)) {
        CHECK(im.dtype == TP_BOOL && im.shape[0] == 3 && im.shape[1] == 13);
        int ok = 1;
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 13; x++)
                ok &= ((uint8_t *)im.data)[y * 13 + x] == ((rows[y][x / 8] >> (7 - x % 8)) & 1);
        CHECK(ok);
    }
    tp_image_free(&im);
    /* float16 widens to float32 exactly */
    p = tmp("half.tif");
    t = open_w(p, "w");
    basic_tags(t, 6, 1, 16, 1, SAMPLEFORMAT_IEEEFP, PHOTOMETRIC_MINISBLACK);
    uint16_t h[6] = {0x3C00, 0xC000, 0x3800, 0x0001, 0x7C00, 0x7BFF};
    const float want[6] = {1.0f, -2.0f, 0.5f, 5.9604644775390625e-08f, INFINITY, 65504.0f};
    TIFFWriteScanline(t, h, 0, 0);
    TIFFClose(t);
    if (read_ok(p, &im, NULL)) {
        CHECK(im.dtype == TP_FLOAT32);
        for (int i = 0; i < 6; i++)
            CHECK_MSG(((float *)im.data)[i] == want[i], "half %d: %g", i, ((float *)im.data)[i]);
    }
    tp_image_free(&im);
    /* uint64 narrows to int64, and refuses values beyond int64 */
    p = tmp("u64.tif");
    t = open_w(p, "w");
    basic_tags(t, 2, 1, 64, 1, SAMPLEFORMAT_UINT, PHOTOMETRIC_MINISBLACK);
    uint64_t u[2] = {UINT64_C(1) << 62, 7};
    TIFFWriteScanline(t, u, 0, 0);
    TIFFClose(t);
    if (read_ok(p, &im, NULL))
        CHECK(im.dtype == TP_INT64 && ((int64_t *)im.data)[0] == INT64_C(1) << 62 && ((int64_t *)im.data)[1] == 7);
    tp_image_free(&im);
    t = open_w(p, "w");
    basic_tags(t, 2, 1, 64, 1, SAMPLEFORMAT_UINT, PHOTOMETRIC_MINISBLACK);
    u[0] = UINT64_MAX;
    TIFFWriteScanline(t, u, 0, 0);
    TIFFClose(t);
    CHECK(tp_read_image(tp_test_ctx, p, &im, NULL) == TP_ERR_DTYPE && im.data == NULL);
    return 0;
}

static void write_page(TIFF *t, uint32_t w, uint32_t h, uint8_t v, uint32_t subfile, const char *desc)
{
    basic_tags(t, w, h, 8, 1, SAMPLEFORMAT_UINT, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_SUBFILETYPE, subfile);
    if (desc)
        TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, desc);
    uint8_t row[64];
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++)
            row[x] = (uint8_t)(v + y + x);
        TIFFWriteScanline(t, row, y, 0);
    }
    TIFFWriteDirectory(t);
}

static int test_tiff_pages(void)
{
    tp_image im = tp_image_empty();
    tp_io_meta meta;
    /* a thumbnail (reduced-resolution subfile) between pages is skipped */
    const char *p = tmp("thumb.tif");
    TIFF *t = open_w(p, "w");
    write_page(t, 10, 8, 0, 0, NULL);
    write_page(t, 5, 4, 100, FILETYPE_REDUCEDIMAGE, NULL);
    write_page(t, 10, 8, 50, 0, NULL);
    TIFFClose(t);
    if (read_ok(p, &im, NULL))
        CHECK(im.ndim == 3 && im.shape[0] == 2 && ((uint8_t *)im.data)[80] == 50);
    tp_image_free(&im);
    /* pages of different sizes: a clear error */
    p = tmp("mixed.tif");
    t = open_w(p, "w");
    write_page(t, 10, 8, 0, 0, NULL);
    write_page(t, 9, 8, 0, 0, NULL);
    TIFFClose(t);
    CHECK(tp_read_image(tp_test_ctx, p, &im, NULL) == TP_ERR_IO && im.data == NULL);
    CHECK(strstr(tp_last_error(tp_test_ctx), "same size and type") != NULL);
    /* ImageJ hyperstack: 3 slices x 2 channels -> ZCYX, channel axis 1, spacing and unit kept */
    p = tmp("hyper.tif");
    t = open_w(p, "w");
    for (int k = 0; k < 6; k++)
        write_page(t, 10, 8, (uint8_t)(10 * k), 0,
                   k ? NULL : "ImageJ=1.53t\nimages=6\nchannels=2\nslices=3\nhyperstack=true\nunit=\\u00B5m\nspacing=0.75\n");
    TIFFClose(t);
    if (read_ok(p, &im, &meta)) {
        CHECK(im.ndim == 4 && im.shape[0] == 3 && im.shape[1] == 2 && im.channel_axis == 1);
        CHECK(((uint8_t *)im.data)[(1 * 2 + 1) * 80] == 30); /* z 1, c 1 is page 3 */
        CHECK(meta.imagej && meta.spacing[0] == 0.75 && strcmp(meta.unit, "\xC2\xB5m") == 0 && im.spacing[0] == 0.75);
    }
    tp_image_free(&im);
    /* frames alone stand for z; slices and frames together are refused */
    p = tmp("frames.tif");
    t = open_w(p, "w");
    for (int k = 0; k < 4; k++)
        write_page(t, 10, 8, (uint8_t)k, 0, k ? NULL : "ImageJ=1.53t\nimages=4\nframes=4\n");
    TIFFClose(t);
    if (read_ok(p, &im, NULL))
        CHECK(im.ndim == 3 && im.shape[0] == 4 && im.channel_axis == -1);
    tp_image_free(&im);
    t = open_w(p, "w");
    for (int k = 0; k < 4; k++)
        write_page(t, 10, 8, (uint8_t)k, 0, k ? NULL : "ImageJ=1.53t\nimages=4\nslices=2\nframes=2\n");
    TIFFClose(t);
    CHECK(tp_read_image(tp_test_ctx, p, &im, NULL) == TP_ERR_SHAPE && im.data == NULL);
    /* ImageJ's > 4 GiB layout: one IFD, then every plane back to back */
    p = tmp("contig.tif");
    t = open_w(p, "wb");
    basic_tags(t, 7, 5, 16, 1, SAMPLEFORMAT_UINT, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, "ImageJ=1.53t\nimages=3\nslices=3\nspacing=4\n");
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 5);
    uint16_t planes[3 * 35], staged[3 * 35];
    for (int i = 0; i < 3 * 35; i++)
        planes[i] = (uint16_t)(i * 601);
    memcpy(staged, planes, sizeof planes); /* libtiff byte-swaps the buffer it writes in place */
    TIFFWriteEncodedStrip(t, 0, staged, sizeof staged); /* one strip holding all three planes */
    TIFFClose(t);
    if (read_ok(p, &im, &meta)) {
        CHECK(im.ndim == 3 && im.shape[0] == 3 && im.dtype == TP_UINT16 && meta.spacing[0] == 4);
        CHECK(memcmp(im.data, planes, sizeof planes) == 0);
    }
    tp_image_free(&im);
    return 0;
}

static int test_tiff_palette_jpeg(void)
{
    tp_image im = tp_image_empty();
    /* palette: indices, as tifffile returns them */
    const char *p = tmp("pal.tif");
    TIFF *t = open_w(p, "w");
    basic_tags(t, 4, 1, 8, 1, SAMPLEFORMAT_UINT, PHOTOMETRIC_PALETTE);
    uint16_t r[256] = {0}, g[256] = {0}, b[256] = {0};
    r[3] = 65535;
    TIFFSetField(t, TIFFTAG_COLORMAP, r, g, b);
    uint8_t row[4] = {0, 3, 2, 1};
    TIFFWriteScanline(t, row, 0, 0);
    TIFFClose(t);
    if (read_ok(p, &im, NULL))
        CHECK(im.ndim == 2 && memcmp(im.data, row, 4) == 0);
    tp_image_free(&im);
    if (!TIFFIsCODECConfigured(COMPRESSION_JPEG)) {
        printf("  note: libtiff has no JPEG codec; YCbCr JPEG not tested\n");
        return 0;
    }
    /* YCbCr JPEG: decoded to RGB (lossy: compare loosely with the smooth original) */
    p = tmp("jpeg.tif");
    t = open_w(p, "w");
    basic_tags(t, 32, 16, 8, 3, SAMPLEFORMAT_UINT, PHOTOMETRIC_YCBCR);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_JPEG);
    TIFFSetField(t, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
    TIFFSetField(t, TIFFTAG_JPEGQUALITY, 95);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 16);
    uint8_t rgb[16 * 32 * 3];
    for (int i = 0; i < 16 * 32; i++) {
        rgb[3 * i] = (uint8_t)(60 + 4 * (i % 32));
        rgb[3 * i + 1] = (uint8_t)(80 + 5 * (i / 32));
        rgb[3 * i + 2] = 120;
    }
    TIFFWriteEncodedStrip(t, 0, rgb, sizeof rgb);
    TIFFClose(t);
    if (read_ok(p, &im, NULL)) {
        CHECK(im.ndim == 3 && im.shape[2] == 3 && im.dtype == TP_UINT8);
        int worst = 0;
        for (int i = 0; i < 16 * 32 * 3; i++) {
            int d = abs((int)((uint8_t *)im.data)[i] - rgb[i]);
            worst = d > worst ? d : worst;
        }
        CHECK_MSG(worst <= 12, "JPEG worst difference %d", worst);
    }
    tp_image_free(&im);
    return 0;
}

/* ---- the real files ---- */

static int test_shared_datasets(void)
{
    struct {
        const char *file;
        int ndim;
        int64_t shape[3];
        int ca;
        tp_dtype t;
    } F[] = {
        {"blobs_imagej_8bit.tif", 2, {254, 256}, -1, TP_UINT8},
        {"blobs_imagej_8bit_deflate.tif", 2, {254, 256}, -1, TP_UINT8},
        {"blobs_ref_labels_otsu_skimage.tif", 2, {254, 256}, -1, TP_INT32},
        {"skimage_human_mitosis_8bit.tif", 2, {512, 512}, -1, TP_UINT8},
        {"bbbc022_u2os_3ch_16bit_crop.tif", 3, {3, 395, 695}, 0, TP_UINT16},
        {"dsb2018_nuclei_stardist_img2d_16bit.tif", 2, {512, 512}, -1, TP_UINT16},
        {"neubias_nup_nuclei_2ch_16bit.tif", 3, {2, 420, 476}, 0, TP_UINT16},
        {"neubias_nuclei_3d_8bit.tif", 3, {37, 118, 132}, -1, TP_UINT8},
    };
    int found = 0;
    for (size_t i = 0; i < sizeof F / sizeof F[0]; i++) {
        const char *p = tp_test_shared(F[i].file);
        if (!p)
            continue;
        found++;
        tp_image im = tp_image_empty();
        tp_io_meta meta;
        if (!read_ok(p, &im, &meta))
            continue;
        int ok = im.ndim == F[i].ndim && im.channel_axis == F[i].ca && im.dtype == F[i].t;
        for (int d = 0; ok && d < F[i].ndim; d++)
            ok = im.shape[d] == F[i].shape[d];
        CHECK_MSG(ok, "%s", F[i].file);
        if (!ok)
            describe(F[i].file, &im);
        if (strstr(F[i].file, "3d")) {
            CHECK(meta.imagej && meta.spacing[0] == 4.0 && im.spacing[0] == 4.0 && strcmp(meta.unit, "micron") == 0);
        }
        if (strstr(F[i].file, "labels")) {
            int32_t mx = 0, mn = 1;
            for (int64_t k = 0; k < tp_image_count(&im); k++) {
                int32_t v = ((int32_t *)im.data)[k];
                mx = v > mx ? v : mx;
                mn = v < mn ? v : mn;
            }
            CHECK_MSG(mx == 64 && mn == 0, "labels %d..%d", mn, mx);
        }
        if (strcmp(F[i].file, "blobs_imagej_8bit.tif") == 0) {
            uint8_t mn = 255, mx = 0;
            for (int64_t k = 0; k < tp_image_count(&im); k++) {
                uint8_t v = ((uint8_t *)im.data)[k];
                mn = v < mn ? v : mn;
                mx = v > mx ? v : mx;
            }
            CHECK_MSG(mn == 8 && mx == 248, "blobs range %d..%d", mn, mx);
        }
        tp_image_free(&im);
    }
    const char *a = tp_test_shared("blobs_imagej_8bit.tif"), *b;
    if (a) {
        tp_image x = tp_image_empty(), y = tp_image_empty();
        read_ok(a, &x, NULL);
        b = tp_test_shared("blobs_imagej_8bit_deflate.tif");
        if (b && read_ok(b, &y, NULL))
            CHECK(same_image(&x, &y)); /* big-endian uncompressed and little-endian deflate: same pixels */
        tp_image_free(&x);
        tp_image_free(&y);
    }
    return found ? 0 : TP_TEST_SKIP;
}

static int test_skimage_pngs(void)
{
    const char *dir = getenv("TWINPIX_SKIMAGE_DATA");
    if (!dir)
        dir = "/usr/lib/python3/dist-packages/skimage/data";
    /* shapes and dtypes of skimage.io.imread (scikit-image 0.19.3 / imageio 2.4 / Pillow 9.4) on these files,
     * except chessboard_RGB (16-bit RGB: uint16 here, the high byte in Pillow) */
    struct {
        const char *file;
        int ndim;
        int64_t shape[4];
        tp_dtype t;
    } F[] = {
        {"coins.png", 2, {303, 384}, TP_UINT8},        {"cell.png", 2, {660, 550}, TP_UINT8},
        {"ihc.png", 3, {512, 512, 3}, TP_UINT8},       {"green_palette.png", 3, {240, 320, 4}, TP_UINT8},
        {"palette_gray.png", 2, {10, 10}, TP_UINT8},   {"palette_color.png", 3, {10, 10, 4}, TP_UINT8},
        {"horse.png", 3, {328, 400, 4}, TP_UINT8},     {"checker_bilevel.png", 2, {10, 10}, TP_UINT8},
        {"foo3x5x4indexed.png", 3, {3, 5, 4}, TP_UINT8}, {"chessboard_RGB.png", 3, {200, 200, 3}, TP_UINT16},
        {"multipage.tif", 3, {2, 15, 10}, TP_UINT8},   {"multipage_rgb.tif", 4, {2, 10, 10, 3}, TP_FLOAT64},
        {"chessboard_GRAY_U16B.tif", 2, {200, 200}, TP_UINT16},
    };
    int found = 0;
    for (size_t i = 0; i < sizeof F / sizeof F[0]; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, F[i].file);
        if (access(p, R_OK) != 0)
            continue;
        found++;
        tp_image im = tp_image_empty();
        if (!read_ok(p, &im, NULL))
            continue;
        int ok = im.ndim == F[i].ndim && im.dtype == F[i].t && im.channel_axis == (F[i].ndim == 3 &&
                 F[i].shape[2] <= 4 && strstr(F[i].file, ".png") ? 2 : F[i].ndim == 4 ? 3 : -1);
        for (int d = 0; ok && d < F[i].ndim; d++)
            ok = im.shape[d] == F[i].shape[d];
        CHECK_MSG(ok, "%s", F[i].file);
        if (!ok)
            describe(F[i].file, &im);
        if (strcmp(F[i].file, "checker_bilevel.png") == 0) { /* 1-bit grey expands to 0 / 255 */
            int only = 1, seen = 0;
            for (int k = 0; k < 100; k++) {
                uint8_t v = ((uint8_t *)im.data)[k];
                only &= v == 0 || v == 255;
                seen |= v == 255;
            }
            CHECK(only && seen);
        }
        tp_image_free(&im);
    }
    if (!found)
        printf("  note: %s has none of the expected files\n", dir);
    return found ? 0 : TP_TEST_SKIP;
}

/* ---- PNG ---- */

static int test_png_roundtrip(void)
{
    struct {
        int ndim;
        int64_t shape[3];
        int ca;
        tp_dtype t;
    } L[] = {{2, {17, 23}, -1, TP_UINT8},   {2, {17, 23}, -1, TP_UINT16}, {3, {9, 11, 3}, 2, TP_UINT8},
             {3, {9, 11, 4}, 2, TP_UINT16}, {3, {9, 11, 3}, 2, TP_UINT16}, {3, {1, 1, 4}, 2, TP_UINT8}};
    for (size_t l = 0; l < sizeof L / sizeof L[0]; l++) {
        tp_image a = pattern(L[l].t, L[l].ndim, L[l].shape, L[l].ca, 7 + l), back = tp_image_empty();
        CHECK_OK(tp_write_image(tp_test_ctx, tmp("rt.png"), &a));
        if (read_ok(tmp("rt.png"), &back, NULL)) {
            CHECK_MSG(same_image(&a, &back), "png layout %zu", l);
            if (!same_image(&a, &back))
                describe("read", &back);
        }
        tp_image_free(&a);
        tp_image_free(&back);
    }
    /* grey + alpha reads back as RGBA (as scikit-image reads it); bool writes as 0 / 255 */
    int64_t s2[3] = {3, 4, 2};
    tp_image ga = pattern(TP_UINT8, 3, s2, 2, 99), back = tp_image_empty();
    CHECK_OK(tp_write_image(tp_test_ctx, tmp("ga.png"), &ga));
    if (read_ok(tmp("ga.png"), &back, NULL)) {
        CHECK(back.ndim == 3 && back.shape[2] == 4);
        const uint8_t *s = ga.data, *d = back.data;
        int ok = 1;
        for (int i = 0; i < 12; i++)
            ok &= d[4 * i] == s[2 * i] && d[4 * i + 1] == s[2 * i] && d[4 * i + 2] == s[2 * i] && d[4 * i + 3] == s[2 * i + 1];
        CHECK(ok);
    }
    tp_image_free(&back);
    tp_image_free(&ga);
    int64_t sb[2] = {2, 3};
    tp_image m = pattern(TP_BOOL, 2, sb, -1, 3);
    CHECK_OK(tp_write_image(tp_test_ctx, tmp("mask.png"), &m));
    if (read_ok(tmp("mask.png"), &back, NULL)) {
        int ok = back.dtype == TP_UINT8;
        for (int i = 0; ok && i < 6; i++)
            ok = ((uint8_t *)back.data)[i] == (((uint8_t *)m.data)[i] ? 255 : 0);
        CHECK(ok);
    }
    tp_image_free(&back);
    tp_image_free(&m);
    /* what PNG cannot hold is refused before any file appears */
    int64_t s3[3] = {2, 3, 4};
    tp_image f = pattern(TP_FLOAT32, 2, s3, -1, 1), v = pattern(TP_UINT8, 3, s3, -1, 1);
    CHECK(tp_write_image(tp_test_ctx, tmp("f.png"), &f) == TP_ERR_DTYPE && !exists(tmp("f.png")));
    CHECK(tp_write_image(tp_test_ctx, tmp("v.png"), &v) == TP_ERR_SHAPE && !exists(tmp("v.png")));
    tp_image_free(&f);
    tp_image_free(&v);
    return 0;
}

/* An Adam7-interlaced 16-bit RGB PNG written by libpng itself. */
static int test_png_interlaced(void)
{
    enum { W = 37, H = 23 };
    static uint16_t px[W * H * 3], staged[W * H * 3];
    for (int k = 0; k < W * H * 3; k++)
        px[k] = staged[k] = (uint16_t)(k * 977);
    FILE *f = fopen(tmp("adam7.png"), "wb");
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(p);
    if (!f || !p || !info || setjmp(png_jmpbuf(p)))
        abort();
    png_init_io(p, f);
    png_set_IHDR(p, info, W, H, 16, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_ADAM7, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(p, info);
    png_set_swap(p); /* our samples are little-endian */
    png_set_interlace_handling(p);
    png_bytep rows[H];
    for (int y = 0; y < H; y++)
        rows[y] = (png_bytep)(staged + y * W * 3);
    png_write_image(p, rows);
    png_write_end(p, NULL);
    png_destroy_write_struct(&p, &info);
    fclose(f);
    tp_image im = tp_image_empty();
    if (read_ok(tmp("adam7.png"), &im, NULL)) {
        CHECK(im.dtype == TP_UINT16 && im.ndim == 3 && im.shape[0] == H && im.shape[1] == W && im.shape[2] == 3);
        CHECK(tp_image_count(&im) == W * H * 3 && memcmp(im.data, px, sizeof px) == 0);
    }
    tp_image_free(&im);
    return 0;
}

/* ---- failures leave nothing behind ---- */

static int test_unwritable_paths(void)
{
    int64_t s[2] = {4, 4};
    tp_image a = pattern(TP_UINT8, 2, s, -1, 1);
    tp_table t = tricky_table();
    const char *bad[] = {"/proc/x/y.tif", "/nonexistent_twinpix_dir/a.png", "/nonexistent_twinpix_dir/a.npy"};
    for (int i = 0; i < 3; i++) {
        CHECK(tp_write_image(tp_test_ctx, bad[i], &a) == TP_ERR_IO);
        CHECK(strlen(tp_last_error(tp_test_ctx)) > 0 && !exists(bad[i]));
    }
    CHECK(tp_write_table_csv(tp_test_ctx, "/proc/x/t.csv", &t) == TP_ERR_IO);
    CHECK(tp_write_table_json(tp_test_ctx, "/nonexistent_twinpix_dir/t.json", &t) == TP_ERR_IO);
    /* the temporary file is created, then the rename fails (the target is a folder): nothing is left */
    mkdir(tmp("isdir.tif"), 0700);
    mkdir(tmp("isdir.csv"), 0700);
    CHECK(tp_write_image(tp_test_ctx, tmp("isdir.tif"), &a) == TP_ERR_IO);
    CHECK(tp_write_table_csv(tp_test_ctx, tmp("isdir.csv"), &t) == TP_ERR_IO);
    CHECK(count_prefix(g_dir, "isdir.tif.tmp") == 0 && count_prefix(g_dir, "isdir.csv.tmp") == 0);
    CHECK(tp_write_image(tp_test_ctx, tmp("noext"), &a) == TP_ERR_IO && !exists(tmp("noext")));
    tp_table_free(&t);
    tp_image_free(&a);
    return 0;
}

/* Writes that fail half-way (the file size limit stands in for a full disk) leave no file at all. */
static int test_write_fails_midway(void)
{
    struct rlimit old, small = {64 * 1024, 0};
    if (getrlimit(RLIMIT_FSIZE, &old) != 0)
        return TP_TEST_SKIP;
    small.rlim_max = old.rlim_max;
    int64_t s[2] = {1024, 1024};
    tp_image big = pattern(TP_UINT16, 2, s, -1, 2);
    tp_table t = tp_table_empty();
    t.nrows = 100000;
    tp_table_add_column(tp_test_ctx, &t, "x", TP_FLOAT64);
    for (int64_t i = 0; i < t.nrows; i++)
        ((double *)t.cols[0].data)[i] = 1.0 / (double)(i + 3);
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    setrlimit(RLIMIT_FSIZE, &small);
    const char *names[] = {"full.tif", "full.png", "full.npy"};
    tp_status st[5];
    for (int i = 0; i < 3; i++)
        st[i] = tp_write_image(tp_test_ctx, tmp(names[i]), &big);
    st[3] = tp_write_table_csv(tp_test_ctx, tmp("full.csv"), &t);
    st[4] = tp_write_table_json(tp_test_ctx, tmp("full.json"), &t);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, prev);
    for (int i = 0; i < 5; i++)
        CHECK_MSG(st[i] == TP_ERR_IO, "writer %d: %s", i, tp_status_str(st[i]));
    CHECK(count_prefix(g_dir, "full.") == 0);
    tp_table_free(&t);
    tp_image_free(&big);
    return 0;
}

/* ---- other readers as oracles ---- */

/* twinpix writes; tifffile, scikit-image and pandas read (compared with .npy / exact values). */
static int test_python_reads_twinpix(void)
{
    struct {
        const char *name;
        int ndim;
        int64_t shape[4];
        int ca;
        tp_dtype t;
        const char *layout; /* what tifffile's series should report */
    } W[] = {
        {"u8", 2, {13, 17}, -1, TP_UINT8, "YX"},          {"i8", 2, {13, 17}, -1, TP_INT8, "YX"},
        {"u16", 2, {13, 17}, -1, TP_UINT16, "YX"},        {"i16", 2, {13, 17}, -1, TP_INT16, "YX"},
        {"u32", 2, {13, 17}, -1, TP_UINT32, "YX"},        {"i32", 2, {13, 17}, -1, TP_INT32, "YX"},
        {"i64", 2, {13, 17}, -1, TP_INT64, "YX"},         {"f32", 2, {13, 17}, -1, TP_FLOAT32, "YX"},
        {"f64", 2, {13, 17}, -1, TP_FLOAT64, "YX"},       {"bool", 2, {13, 17}, -1, TP_BOOL, "YX"},
        {"zyx", 3, {5, 13, 17}, -1, TP_UINT16, "ZYX"},   {"yxc", 3, {13, 17, 3}, 2, TP_UINT8, "YXS"},
        {"yxca", 3, {13, 17, 4}, 2, TP_UINT8, "YXS"},   {"zyxc", 4, {4, 13, 17, 3}, 3, TP_UINT8, "ZYXS"},
        {"cyx", 3, {2, 13, 17}, 0, TP_UINT16, "CYX"},    {"zcyx", 4, {3, 2, 13, 17}, 1, TP_FLOAT32, "ZCYX"},
        {"lab3d", 3, {4, 13, 17}, -1, TP_INT32, "ZYX"},
    };
    FILE *list = fopen(tmp("written.txt"), "w");
    for (size_t i = 0; i < sizeof W / sizeof W[0]; i++) {
        tp_image a = pattern(W[i].t, W[i].ndim, W[i].shape, W[i].ca, 500 + i);
        char tif[64], npy[64];
        snprintf(tif, sizeof tif, "w_%s.tif", W[i].name);
        snprintf(npy, sizeof npy, "w_%s.npy", W[i].name);
        if (strcmp(W[i].name, "zyx") == 0)
            a.spacing[0] = 3.5;
        CHECK_OK(tp_write_image(tp_test_ctx, tmp(tif), &a));
        CHECK_OK(tp_write_image(tp_test_ctx, tmp(npy), &a));
        fprintf(list, "%s %s %s\n", tif, npy, W[i].layout);
        if ((W[i].t == TP_UINT8 || W[i].t == TP_UINT16) && W[i].ndim <= 3 && (W[i].ca == -1 || W[i].ca == 2) &&
            (W[i].ndim == 2 || W[i].ca == 2)) {
            snprintf(tif, sizeof tif, "w_%s.png", W[i].name);
            CHECK_OK(tp_write_image(tp_test_ctx, tmp(tif), &a));
            fprintf(list, "%s %s PNG\n", tif, npy);
        }
        tp_image_free(&a);
    }
    fclose(list);
    tp_table t = tricky_table();
    CHECK_OK(tp_write_table_csv(tp_test_ctx, tmp("t.csv"), &t));
    CHECK_OK(tp_write_table_json(tp_test_ctx, tmp("t.json"), &t));
    tp_table_free(&t);
    static const char script[] =
        "import sys, os, json, math\n"
        "try:\n"
        "    import numpy as np, tifffile, pandas as pd, skimage.io\n"
        "except ImportError as e:\n"
        "    print('  note: python modules missing:', e); sys.exit(77)\n"
        "d = sys.argv[1]; bad = 0\n"
        "for line in open(os.path.join(d, 'written.txt')):\n"
        "    img, ref, layout = line.split()\n"
        "    want = np.load(os.path.join(d, ref))\n"
        "    if want.dtype == bool: want = want.astype(np.uint8)\n"
        "    if layout == 'PNG':\n"
        "        got = skimage.io.imread(os.path.join(d, img))\n"
        "    else:\n"
        "        with tifffile.TiffFile(os.path.join(d, img)) as tf:\n"
        "            got = tf.asarray(); axes = tf.series[0].axes\n"
        "            if axes != layout: print('  FAIL', img, 'axes', axes, 'expected', layout); bad += 1\n"
        "            if img == 'w_zyx.tif' and tf.imagej_metadata.get('spacing') != 3.5:\n"
        "                print('  FAIL spacing', tf.imagej_metadata); bad += 1\n"
        "    if got.shape != want.shape or got.dtype != want.dtype or not np.array_equal(got, want):\n"
        "        print('  FAIL', img, got.shape, got.dtype, want.shape, want.dtype); bad += 1\n"
        "f64 = [0.1, 1/3, 1e300, 5e-324, -0.0, 123456789012345678.0, 2.5, -1e-310, 3.0]\n"
        "f32 = np.array([0.1, 1/3, 3.4e38, 1e-45, -7.25, 16777217.0, 0.5, 1.17549435e-38, 2.0], np.float32)\n"
        "lab = [1, 2, 3, 4, 5, 6, 7, -2**63, 1152921504606846977]\n"
        "odd = [float('nan'), float('inf'), float('-inf')] + [r / 7 for r in range(3, 9)]\n"
        "c = pd.read_csv(os.path.join(d, 't.csv'), float_precision='round_trip')\n"
        "c_default = pd.read_csv(os.path.join(d, 't.csv'))\n"
        "worst = max(abs(np.int64(np.float64(x).view(np.int64)) - np.int64(np.float64(y).view(np.int64)))\n"
        "            for k in ('area', 'intensity_mean', 'odd \"name\", with comma')\n"
        "            for x, y in zip(c[k], c_default[k]) if x == x and abs(x) != float('inf'))\n"
        "print('  pandas default CSV parser: worst', worst, 'ulp (exact with float_precision=round_trip)')\n"
        "j = json.load(open(os.path.join(d, 't.json')))\n"
        "for src, get in (('csv', lambda k: list(c[k])), ('json', lambda k: j[k])):\n"
        "    same = lambda a, b: all((x == y and math.copysign(1, x) == math.copysign(1, y)) or "
        "(x != x and (y is None or y != y)) for x, y in zip(a, b))\n"
        "    if get('label') != lab: print('  FAIL', src, 'label', get('label')); bad += 1\n"
        "    if not same(f64, get('area')): print('  FAIL', src, 'area', get('area')); bad += 1\n"
        "    if not same([float(x) for x in f32], get('intensity_mean')): print('  FAIL', src, 'f32'); bad += 1\n"
        "    o = [None if v is None else float(v) for v in get('odd \"name\", with comma')]\n"
        "    if not same(odd, [float('nan') if v is None else v for v in o]): print('  FAIL', src, 'odd', o); bad += 1\n"
        "    if [bool(v) for v in get('flag')] != [bool(r & 1) for r in range(9)]: print('  FAIL', src, 'flag'); bad += 1\n"
        "if c['label'].dtype != np.int64 or c['area'].dtype != np.float64 or c['flag'].dtype != bool:\n"
        "    print('  FAIL pandas dtypes', c.dtypes.to_dict()); bad += 1\n"
        "sys.exit(1 if bad else 0)\n";
    int rc = run_python("read_twinpix.py", script);
    if (rc == 77)
        return TP_TEST_SKIP;
    CHECK_MSG(rc == 0, "tifffile/scikit-image/pandas disagree with what twinpix wrote (rc %d)", rc);
    return 0;
}

/* tifffile writes (layouts twinpix itself never writes); twinpix reads and compares with the .npy. */
static int test_twinpix_reads_tifffile(void)
{
    static const char script[] =
        "import sys, os\n"
        "try:\n"
        "    import numpy as np, tifffile\n"
        "except ImportError as e:\n"
        "    print('  note: python modules missing:', e); sys.exit(77)\n"
        "d = sys.argv[1]; rng = np.random.default_rng(7); out = open(os.path.join(d, 'tifffile.txt'), 'w')\n"
        "def save(name, arr, expect_shape, ca, **kw):\n"
        "    tifffile.imwrite(os.path.join(d, name + '.tif'), arr, **kw)\n"
        "    np.save(os.path.join(d, name + '.npy'), np.ascontiguousarray(arr).reshape(expect_shape))\n"
        "    out.write(f'{name} {ca}\\n')\n"
        "def r(shape, dt):\n"
        "    if np.dtype(dt).kind == 'f': return rng.normal(0, 100, shape).astype(dt)\n"
        "    if np.dtype(dt).kind == 'b': return rng.integers(0, 2, shape).astype(bool)\n"
        "    i = np.iinfo(dt); return rng.integers(i.min, i.max, shape, dtype=dt, endpoint=True)\n"
        "for dt in ('uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'int64', 'float32', 'float64'):\n"
        "    a = r((19, 23), dt)\n"
        "    save('tf_' + dt, a, a.shape, -1)\n"
        "    save('tf_be_' + dt, a, a.shape, -1, byteorder='>')\n"
        "    save('tf_tile_' + dt, a, a.shape, -1, tile=(16, 16), compression='zlib')\n"
        "a = r((19, 23), bool); save('tf_bool', a, a.shape, -1)\n"
        "a = r((19, 23), 'float16'); save('tf_f16', a, a.shape, -1)\n"
        "np.save(os.path.join(d, 'tf_f16.npy'), a.astype(np.float32))\n"
        "a = r((5, 19, 23), 'uint16'); save('tf_stack', a, a.shape, -1, compression='zlib', predictor=True)\n"
        "a = r((3, 37, 41), 'uint8'); save('tf_rgb_planar', a, (37, 41, 3), 2, planarconfig='separate', rowsperstrip=7)\n"
        "np.save(os.path.join(d, 'tf_rgb_planar.npy'), np.ascontiguousarray(a.transpose(1, 2, 0)))\n"
        "a = r((37, 41, 3), 'uint16'); save('tf_rgb_tiled', a, a.shape, 2, tile=(32, 32), compression='lzma')\n"
        "a = r((37, 41, 4), 'uint8'); save('tf_rgba', a, a.shape, 2, photometric='rgb')\n"
        "a = r((4, 37, 41, 3), 'uint8'); save('tf_zrgb', a, a.shape, 3, photometric='rgb')\n"
        "a = r((37, 41, 2), 'float32'); save('tf_2samples', a, a.shape, 2, photometric='minisblack', planarconfig='contig')\n"
        "a = r((19, 23), 'float32'); save('tf_bigtiff', a, a.shape, -1, bigtiff=True, compression='zlib')\n"
        "a = r((6, 2, 19, 23), 'uint16'); save('tf_ij_zcyx', a, a.shape, 1, imagej=True, metadata={'axes': 'ZCYX', 'spacing': 0.5})\n"
        "a = r((3, 19, 23), 'uint8'); save('tf_ij_cyx', a, a.shape, 0, imagej=True, metadata={'axes': 'CYX'})\n"
        "a = r((7, 19, 23), 'float32'); save('tf_ij_zyx', a, a.shape, -1, imagej=True, metadata={'axes': 'ZYX'})\n"
        "a = r((4, 19, 23, 3), 'uint8'); save('tf_ij_zyxs', a, a.shape, 3, imagej=True, metadata={'axes': 'ZYXS'})\n"
        "a = r((5, 19, 23), 'uint8'); save('tf_ij_tyx', a, a.shape, -1, imagej=True, metadata={'axes': 'TYX'})\n";
    int rc = run_python("write_tifffile.py", script);
    if (rc == 77)
        return TP_TEST_SKIP;
    CHECK_MSG(rc == 0, "the tifffile script failed (rc %d)", rc);
    FILE *f = fopen(tmp("tifffile.txt"), "r");
    if (!f)
        return 0;
    char name[64];
    int ca, n = 0;
    while (fscanf(f, "%63s %d", name, &ca) == 2) {
        char tif[96], npy[96];
        snprintf(tif, sizeof tif, "%s.tif", name);
        snprintf(npy, sizeof npy, "%s.npy", name);
        tp_image got = tp_image_empty(), want = tp_image_empty();
        if (!read_ok(tmp(tif), &got, NULL)) {
            fprintf(stderr, "    (%s)\n", name);
            continue;
        }
        CHECK_OK(tp_read_npy(tp_test_ctx, tmp(npy), &want));
        want.channel_axis = ca;
        if (want.dtype == TP_BOOL && got.dtype == TP_BOOL)
            got.dtype = want.dtype;
        int ok = same_image(&got, &want);
        CHECK_MSG(ok, "tifffile's %s", name);
        if (!ok) {
            describe("want", &want);
            describe("got", &got);
        }
        n++;
        tp_image_free(&got);
        tp_image_free(&want);
    }
    fclose(f);
    CHECK(n >= 40);
    printf("  %d tifffile-written files compared\n", n);
    return 0;
}

static int cleanup(void)
{
    if (g_dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
        CHECK(system(cmd) == 0);
    }
    return 0;
}

TP_TESTS(T(test_table_csv_roundtrip), T(test_table_json), T(test_table_csv_reader), T(test_tiff_roundtrip_dtypes),
         T(test_tiff_roundtrip_layouts), T(test_tiff_spacing_and_strided), T(test_tiff_tiled),
         T(test_tiff_bilevel_half_uint64), T(test_tiff_pages), T(test_tiff_palette_jpeg), T(test_shared_datasets),
         T(test_skimage_pngs), T(test_png_roundtrip), T(test_png_interlaced), T(test_unwritable_paths), T(test_write_fails_midway),
         T(test_python_reads_twinpix), T(test_twinpix_reads_tifffile), T(cleanup))

/* Malformed files: every one is made here (truncated at many offsets, flipped magic bytes, hand-written
 * TIFF directories claiming absurd sizes, zero width, corrupt compressed data, PNGs with bad CRCs). Each
 * read must fail with a message and leave the output image empty; run under valgrind
 * (valgrind --leak-check=full --error-exitcode=9 ./test_io_bad) it must leak nothing. */
#include "core/io_tiff.h"
#include "tests/support/tp_test.h"

#include <string.h>
#include <tiffio.h>
#include <unistd.h>
#include <zlib.h>

static char g_dir[256];

static const char *tmp(const char *name)
{
    static char bufs[4][512];
    static int k;
    char *b = bufs[k++ & 3];
    if (!g_dir[0]) {
        strcpy(g_dir, "/tmp/tp_test_io_bad_XXXXXX");
        if (!mkdtemp(g_dir))
            abort();
    }
    snprintf(b, 512, "%s/%s", g_dir, name);
    return b;
}

typedef struct bytes {
    unsigned char *p;
    size_t n;
} bytes;

static bytes slurp(const char *path)
{
    bytes b = {NULL, 0};
    FILE *f = fopen(path, "rb");
    if (!f)
        abort();
    fseek(f, 0, SEEK_END);
    b.n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    b.p = malloc(b.n ? b.n : 1);
    if (!b.p || fread(b.p, 1, b.n, f) != b.n)
        abort();
    fclose(f);
    return b;
}

static void spill(const char *path, const unsigned char *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n)
        abort();
    fclose(f);
}

/* The read must fail, say why, and leave the image empty. */
static int expect_failure(const char *path, const char *what)
{
    tp_image im = tp_image_empty();
    im.data = (void *)&im; /* a stale pointer that the reader must reset */
    tp_io_meta meta;
    tp_status st = tp_read_image(tp_test_ctx, path, &im, &meta);
    int ok = st != TP_OK && im.data == NULL && strlen(tp_last_error(tp_test_ctx)) > 0;
    CHECK_MSG(ok, "%s: status %s, data %p", what, tp_status_str(st), im.data);
    if (st == TP_OK)
        tp_image_free(&im);
    return ok;
}

/* ---- valid files to damage ---- */

static void valid_files(void)
{
    int64_t s2[2] = {12, 16}, s3[3] = {3, 12, 16}, sc[3] = {9, 11, 3};
    tp_image a = tp_image_empty(), b = tp_image_empty(), c = tp_image_empty();
    if (tp_image_alloc(tp_test_ctx, &a, TP_UINT16, 2, s2, -1, TP_HOST) ||
        tp_image_alloc(tp_test_ctx, &b, TP_FLOAT32, 3, s3, -1, TP_HOST) ||
        tp_image_alloc(tp_test_ctx, &c, TP_UINT8, 3, sc, 2, TP_HOST))
        abort();
    for (int i = 0; i < 12 * 16; i++)
        ((uint16_t *)a.data)[i] = (uint16_t)(i * 331);
    for (int i = 0; i < 3 * 12 * 16; i++)
        ((float *)b.data)[i] = (float)i * 0.37f;
    for (int i = 0; i < 9 * 11 * 3; i++)
        ((uint8_t *)c.data)[i] = (uint8_t)(i * 13);
    tp_tiff_write_opts deflate = {0, COMPRESSION_ADOBE_DEFLATE, 1, 0, 4};
    if (tp_write_image(tp_test_ctx, tmp("plain.tif"), &a) ||
        tp_write_tiff_opts(tp_test_ctx, tmp("deflate.tif"), &b, &deflate) ||
        tp_write_image(tp_test_ctx, tmp("rgb.png"), &c) || tp_write_image(tp_test_ctx, tmp("grey16.png"), &a))
        abort();
    tp_image_free(&a);
    tp_image_free(&b);
    tp_image_free(&c);
}

/* Every prefix in the first 64 bytes, then every 29th byte (headers, directories, pixel data). */
static void truncations(const char *src, const char *ext)
{
    bytes b = slurp(src);
    char name[64], what[96];
    int n = 0;
    for (size_t len = 0; len < b.n; len += len < 64 ? 1 : 29) {
        snprintf(name, sizeof name, "cut%s", ext);
        snprintf(what, sizeof what, "%s cut at %zu of %zu bytes", src, len, b.n);
        spill(tmp(name), b.p, len);
        n += expect_failure(tmp(name), what);
    }
    printf("  %s: %d truncations refused\n", strrchr(src, '/') + 1, n);
    free(b.p);
}

static int test_truncated(void)
{
    valid_files();
    truncations(tmp("plain.tif"), ".tif");
    truncations(tmp("deflate.tif"), ".tif");
    truncations(tmp("rgb.png"), ".png");
    truncations(tmp("grey16.png"), ".png");
    return 0;
}

static void flip(const char *src, const char *dst, size_t at, unsigned char x)
{
    bytes b = slurp(src);
    if (at < b.n)
        b.p[at] ^= x;
    spill(dst, b.p, b.n);
    free(b.p);
}

static int test_bad_magic(void)
{
    valid_files();
    flip(tmp("plain.tif"), tmp("m0.tif"), 0, 0x01);  /* "HI" */
    flip(tmp("plain.tif"), tmp("m2.tif"), 2, 0x01);  /* 43: BigTIFF's version with a classic header */
    flip(tmp("plain.tif"), tmp("m3.tif"), 3, 0x80);  /* version 0x802a */
    flip(tmp("rgb.png"), tmp("m0.png"), 1, 0x20);    /* "\x89pNG" */
    expect_failure(tmp("m0.tif"), "TIFF magic byte 0");
    expect_failure(tmp("m2.tif"), "TIFF version 43");
    expect_failure(tmp("m3.tif"), "TIFF version");
    expect_failure(tmp("m0.png"), "PNG signature");
    /* a PNG named .tif and a TIFF named .png: refused by the reader of the name */
    bytes b = slurp(tmp("rgb.png"));
    spill(tmp("png_named.tif"), b.p, b.n);
    free(b.p);
    b = slurp(tmp("plain.tif"));
    spill(tmp("tif_named.png"), b.p, b.n);
    free(b.p);
    expect_failure(tmp("png_named.tif"), "PNG named .tif");
    expect_failure(tmp("tif_named.png"), "TIFF named .png");
    spill(tmp("empty.tif"), (const unsigned char *)"", 0);
    expect_failure(tmp("empty.tif"), "empty file");
    expect_failure(tmp("absent.tif"), "absent file");
    return 0;
}

/* ---- hand-made TIFF directories ---- */

typedef struct ifd_entry {
    uint16_t tag, type;
    uint64_t count, value;
} ifd_entry;

static void put16(unsigned char *p, uint16_t v) { p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* A little-endian TIFF (or BigTIFF) with one IFD of entries whose values fit inline, then `tail` bytes
 * of zeros (the pixel data the entries point into). */
static void make_tiff(const char *path, int big, const ifd_entry *e, int n, size_t tail, uint64_t next_ifd)
{
    unsigned char buf[4096] = {0};
    size_t pos;
    buf[0] = buf[1] = 'I';
    if (big) {
        put16(buf + 2, 43);
        put16(buf + 4, 8);
        put64(buf + 8, 16);
        put64(buf + 16, (uint64_t)n);
        pos = 24;
        for (int i = 0; i < n; i++, pos += 20) {
            put16(buf + pos, e[i].tag);
            put16(buf + pos + 2, e[i].type);
            put64(buf + pos + 4, e[i].count);
            put64(buf + pos + 12, e[i].value);
        }
        put64(buf + pos, next_ifd);
        pos += 8;
    } else {
        put16(buf + 2, 42);
        put32(buf + 4, 8);
        put16(buf + 8, (uint16_t)n);
        pos = 10;
        for (int i = 0; i < n; i++, pos += 12) {
            put16(buf + pos, e[i].tag);
            put16(buf + pos + 2, e[i].type);
            put32(buf + pos + 4, (uint32_t)e[i].count);
            if (e[i].type == 3)
                put16(buf + pos + 8, (uint16_t)e[i].value);
            else
                put32(buf + pos + 8, (uint32_t)e[i].value);
        }
        put32(buf + pos, (uint32_t)next_ifd);
        pos += 4;
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite(buf, 1, pos, f);
    for (size_t i = 0; i < tail; i++)
        fputc(0, f);
    fclose(f);
}

enum { SHORT = 3, LONG = 4, LONG8 = 16 };

static int test_absurd_tiff_headers(void)
{
    /* width x height x samples x bytes overflows 64 bits */
    ifd_entry overflow[] = {{256, LONG, 1, 0xFFFFFFFFu}, {257, LONG, 1, 0xFFFFFFFFu}, {258, SHORT, 1, 64},
                            {259, SHORT, 1, 1},           {262, SHORT, 1, 1},           {273, LONG, 1, 200},
                            {277, SHORT, 1, 1},           {278, LONG, 1, 1},            {279, LONG, 1, 8},
                            {339, SHORT, 1, 1}};
    make_tiff(tmp("overflow.tif"), 0, overflow, 10, 64, 0);
    expect_failure(tmp("overflow.tif"), "2^32 x 2^32 x 8 bytes");
    /* 2^20 x 2^20 bytes: fits in 64 bits, not in this machine (nor in the 300-byte file) */
    ifd_entry tib[] = {{256, LONG, 1, 1u << 20}, {257, LONG, 1, 1u << 20}, {258, SHORT, 1, 8},
                       {259, SHORT, 1, 1},       {262, SHORT, 1, 1},       {273, LONG, 1, 200},
                       {277, SHORT, 1, 1},       {278, LONG, 1, 1u << 20}, {279, LONG, 1, 100}};
    make_tiff(tmp("tib.tif"), 0, tib, 9, 100, 0);
    expect_failure(tmp("tib.tif"), "2^20 x 2^20 bytes in a tiny file");
    /* BigTIFF claiming 2^40 x 2^40 pixels (LONG8 extents) */
    ifd_entry huge[] = {{256, LONG8, 1, UINT64_C(1) << 40}, {257, LONG8, 1, UINT64_C(1) << 40},
                        {258, SHORT, 1, 8},                 {259, SHORT, 1, 1},
                        {262, SHORT, 1, 1},                 {273, LONG8, 1, 300},
                        {277, SHORT, 1, 1},                 {278, LONG8, 1, UINT64_C(1) << 40},
                        {279, LONG8, 1, 16}};
    make_tiff(tmp("huge.tif"), 1, huge, 9, 64, 0);
    expect_failure(tmp("huge.tif"), "BigTIFF 2^40 x 2^40");
    /* zero width, zero height */
    ifd_entry zero[] = {{256, LONG, 1, 0},   {257, LONG, 1, 4},  {258, SHORT, 1, 8}, {259, SHORT, 1, 1},
                        {262, SHORT, 1, 1},  {273, LONG, 1, 200}, {277, SHORT, 1, 1}, {278, LONG, 1, 4},
                        {279, LONG, 1, 16}};
    make_tiff(tmp("zero_w.tif"), 0, zero, 9, 64, 0);
    expect_failure(tmp("zero_w.tif"), "zero width");
    zero[0].value = 4;
    zero[1].value = 0;
    make_tiff(tmp("zero_h.tif"), 0, zero, 9, 64, 0);
    expect_failure(tmp("zero_h.tif"), "zero height");
    /* the pixels lie beyond the end of the file */
    ifd_entry far[] = {{256, LONG, 1, 4},    {257, LONG, 1, 4},       {258, SHORT, 1, 8}, {259, SHORT, 1, 1},
                       {262, SHORT, 1, 1},   {273, LONG, 1, 1u << 30}, {277, SHORT, 1, 1}, {278, LONG, 1, 4},
                       {279, LONG, 1, 16}};
    make_tiff(tmp("far.tif"), 0, far, 9, 4096, 0);
    expect_failure(tmp("far.tif"), "strip offset past the end");
    /* unsupported samples: 12-bit, 24-bit, complex */
    ifd_entry odd[] = {{256, LONG, 1, 4},  {257, LONG, 1, 4},   {258, SHORT, 1, 12}, {259, SHORT, 1, 1},
                       {262, SHORT, 1, 1}, {273, LONG, 1, 200}, {277, SHORT, 1, 1},  {278, LONG, 1, 4},
                       {279, LONG, 1, 24}};
    make_tiff(tmp("bits12.tif"), 0, odd, 9, 64, 0);
    expect_failure(tmp("bits12.tif"), "12-bit samples");
    CHECK(strstr(tp_last_error(tp_test_ctx), "12-bit") != NULL);
    ifd_entry cplx[] = {{256, LONG, 1, 4},  {257, LONG, 1, 4},   {258, SHORT, 1, 64}, {259, SHORT, 1, 1},
                        {262, SHORT, 1, 1}, {273, LONG, 1, 200}, {277, SHORT, 1, 1},  {278, LONG, 1, 4},
                        {279, LONG, 1, 128}, {339, SHORT, 1, 6}};
    make_tiff(tmp("complex.tif"), 0, cplx, 10, 200, 0);
    expect_failure(tmp("complex.tif"), "complex samples");
    /* an IFD chain that loops back to itself: no hang, and the single page reads */
    ifd_entry loop[] = {{256, LONG, 1, 4},  {257, LONG, 1, 4},   {258, SHORT, 1, 8}, {259, SHORT, 1, 1},
                        {262, SHORT, 1, 1}, {273, LONG, 1, 200}, {277, SHORT, 1, 1}, {278, LONG, 1, 4},
                        {279, LONG, 1, 16}};
    make_tiff(tmp("loop.tif"), 0, loop, 9, 100, 8);
    tp_image im = tp_image_empty();
    tp_status st = tp_read_image(tp_test_ctx, tmp("loop.tif"), &im, NULL);
    CHECK_MSG(st == TP_OK || (im.data == NULL && strlen(tp_last_error(tp_test_ctx)) > 0), "loop: %s",
              tp_status_str(st));
    if (st == TP_OK)
        CHECK(im.ndim == 2 && im.shape[0] == 4);
    tp_image_free(&im);
    return 0;
}

static int test_corrupt_compressed(void)
{
    valid_files();
    bytes b = slurp(tmp("deflate.tif"));
    /* zlib streams start with 0x78: damage the bytes after each one */
    int n = 0;
    for (size_t i = 8; i + 8 < b.n && n < 3; i++)
        if (b.p[i] == 0x78 && (b.p[i + 1] == 0x9c || b.p[i + 1] == 0x01 || b.p[i + 1] == 0xda || b.p[i + 1] == 0x5e)) {
            for (size_t k = i + 2; k < i + 8; k++)
                b.p[k] ^= 0x5a;
            n++;
        }
    CHECK(n > 0);
    spill(tmp("bad_deflate.tif"), b.p, b.n);
    free(b.p);
    expect_failure(tmp("bad_deflate.tif"), "corrupt deflate strips");
    return 0;
}

/* ---- PNG ---- */

static void chunk(FILE *f, const char *type, const unsigned char *data, uint32_t n, int bad_crc)
{
    unsigned char len[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8),
                            (unsigned char)n};
    fwrite(len, 1, 4, f);
    fwrite(type, 1, 4, f);
    if (n)
        fwrite(data, 1, n, f);
    uLong crc = crc32(0, (const Bytef *)type, 4);
    if (n)
        crc = crc32(crc, data, n);
    if (bad_crc)
        crc ^= 1;
    unsigned char c[4] = {(unsigned char)(crc >> 24), (unsigned char)(crc >> 16), (unsigned char)(crc >> 8),
                          (unsigned char)crc};
    fwrite(c, 1, 4, f);
}

/* A grey 8-bit PNG of w x h with the IHDR as given (the IDAT holds a small valid stream). */
static void make_png(const char *path, uint32_t w, uint32_t h, int bad_ihdr_crc, int bad_idat_crc)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite("\x89PNG\r\n\x1a\n", 1, 8, f);
    unsigned char ihdr[13] = {(unsigned char)(w >> 24), (unsigned char)(w >> 16), (unsigned char)(w >> 8),
                              (unsigned char)w,          (unsigned char)(h >> 24), (unsigned char)(h >> 16),
                              (unsigned char)(h >> 8),   (unsigned char)h,         8, 0, 0, 0, 0};
    chunk(f, "IHDR", ihdr, 13, bad_ihdr_crc);
    unsigned char raw[4 * 5] = {0}, z[128];
    uLongf zn = sizeof z;
    compress(z, &zn, raw, sizeof raw);
    chunk(f, "IDAT", z, (uint32_t)zn, bad_idat_crc);
    chunk(f, "IEND", NULL, 0, 0);
    fclose(f);
}

static int test_bad_png(void)
{
    make_png(tmp("ok.png"), 4, 4, 0, 0);
    tp_image im = tp_image_empty();
    CHECK_OK(tp_read_image(tp_test_ctx, tmp("ok.png"), &im, NULL)); /* the generator itself is sound */
    tp_image_free(&im);
    make_png(tmp("crc_ihdr.png"), 4, 4, 1, 0);
    expect_failure(tmp("crc_ihdr.png"), "bad IHDR CRC");
    make_png(tmp("crc_idat.png"), 4, 4, 0, 1);
    expect_failure(tmp("crc_idat.png"), "bad IDAT CRC");
    make_png(tmp("zero.png"), 0, 4, 0, 0);
    expect_failure(tmp("zero.png"), "zero width");
    make_png(tmp("huge.png"), 0x7fffffffu, 0x7fffffffu, 0, 0);
    expect_failure(tmp("huge.png"), "2^31 x 2^31");
    make_png(tmp("short.png"), 4, 40, 0, 0); /* IDAT holds 4 rows of the 40 declared */
    expect_failure(tmp("short.png"), "IDAT too short for the IHDR");
    return 0;
}

static int cleanup(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    CHECK(!g_dir[0] || system(cmd) == 0);
    return 0;
}

TP_TESTS(T(test_truncated), T(test_bad_magic), T(test_absurd_tiff_headers), T(test_corrupt_compressed),
         T(test_bad_png), T(cleanup))

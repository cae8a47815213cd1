/* TIFF through libtiff, read the way tifffile (scikit-image's reader) reads it: raw sample values (no
 * photometric inversion, palette indices kept), pages stacked into a leading axis, samples as a last
 * channel axis, and ImageJ hyperstacks shaped by their ImageDescription ([Z][C]YX in ImageJ's page order).
 *
 * libtiff's messages go to per-handle handlers (libtiff >= 4.5 TIFFOpenOptions), never to stderr and
 * never to global state, so concurrent contexts do not mix their messages; the first error becomes the
 * detail of the TP_ERR_IO that we return. Writing goes through tp_atomic_open (libtiff gets a dup of the
 * temporary file's descriptor), so a failed write leaves no file behind. */
#include "core/io_tiff.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <unistd.h>

/* ---- libtiff plumbing ---- */

typedef struct tiff_log {
    char first[400]; /* the first error libtiff reported */
    int errors;
    char io_warning[200]; /* the first warning about unreadable bytes (a tag past the end of the file) */
} tiff_log;

static int on_tiff_error(TIFF *tif, void *ud, const char *module, const char *fmt, va_list ap)
{
    (void)tif;
    tiff_log *log = ud;
    if (log->errors++ == 0) {
        int n = module ? snprintf(log->first, sizeof log->first, "%s: ", module) : 0;
        if (n < 0 || (size_t)n >= sizeof log->first)
            n = 0;
        vsnprintf(log->first + n, sizeof log->first - (size_t)n, fmt, ap);
    }
    return 1; /* handled: libtiff's global handler (stderr) is not called */
}

/* Unknown tags, ImageJ's private tags and the like are harmless and not worth a line on stderr. libtiff
 * only warns when a tag's bytes lie past the end of the file ("I/O error during reading of ...; tag
 * ignored"), which is what a truncated file looks like: that one is kept and refused later. */
static int on_tiff_warning(TIFF *tif, void *ud, const char *module, const char *fmt, va_list ap)
{
    (void)tif, (void)module;
    tiff_log *log = ud;
    if (!log->io_warning[0] && strstr(fmt, "I/O error"))
        vsnprintf(log->io_warning, sizeof log->io_warning, fmt, ap);
    return 1;
}

static TIFF *tiff_open(const char *path, int fd, const char *mode, tiff_log *log)
{
    TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
    if (!o)
        return NULL;
    TIFFOpenOptionsSetErrorHandlerExtR(o, on_tiff_error, log);
    TIFFOpenOptionsSetWarningHandlerExtR(o, on_tiff_warning, log);
    TIFF *t = fd >= 0 ? TIFFFdOpenExt(fd, path, mode, o) : TIFFOpenExt(path, mode, o);
    TIFFOpenOptionsFree(o);
    return t;
}

static const char *log_text(const tiff_log *log, const char *fallback)
{
    return log->errors ? log->first : fallback;
}

/* ---- one page's geometry ---- */

typedef struct page_info {
    uint32_t w, h;
    uint16_t bps, spp, fmt, photometric, planar, compression;
    int tiled;
    uint32_t bw, bh; /* block: the tile, or the full width x rows per strip */
    uint32_t subfile;
} page_info;

static tp_status get_page_info(tp_context *ctx, const char *path, TIFF *tif, uint32_t page, page_info *pi)
{
    memset(pi, 0, sizeof *pi);
    if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &pi->w) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &pi->h))
        return tp_error(ctx, TP_ERR_IO, "read TIFF '%s': page %u: no ImageWidth/ImageLength", path, page);
    if (pi->w == 0 || pi->h == 0)
        return tp_error(ctx, TP_ERR_IO, "read TIFF '%s': page %u: zero-sized image (%u x %u)", path, page, pi->h,
                        pi->w);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &pi->bps);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &pi->spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &pi->fmt);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &pi->planar);
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &pi->compression);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SUBFILETYPE, &pi->subfile);
    if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &pi->photometric))
        pi->photometric = pi->spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
    pi->tiled = TIFFIsTiled(tif);
    if (pi->tiled) {
        if (!TIFFGetField(tif, TIFFTAG_TILEWIDTH, &pi->bw) || !TIFFGetField(tif, TIFFTAG_TILELENGTH, &pi->bh) ||
            pi->bw == 0 || pi->bh == 0)
            return tp_error(ctx, TP_ERR_IO, "read TIFF '%s': page %u: tiled without a valid tile size", path, page);
    } else {
        uint32_t rps = 0;
        TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rps);
        pi->bw = pi->w;
        pi->bh = rps == 0 || rps > pi->h ? pi->h : rps;
    }
    return TP_OK;
}

static const char *format_name(uint16_t fmt)
{
    switch (fmt) {
    case SAMPLEFORMAT_UINT: return "unsigned";
    case SAMPLEFORMAT_INT: return "signed";
    case SAMPLEFORMAT_IEEEFP: return "float";
    case SAMPLEFORMAT_VOID: return "untyped";
    default: return "complex or unknown";
    }
}

/* The dtype a page's samples load as. float16 widens to float32 and uint64 narrows to int64 (checked per
 * value), since twinpix has neither type. */
static tp_status page_dtype(tp_context *ctx, const char *path, const page_info *pi, tp_dtype *dt)
{
    uint16_t fmt = pi->fmt == SAMPLEFORMAT_VOID ? SAMPLEFORMAT_UINT : pi->fmt;
    int ok = 1;
    if (fmt == SAMPLEFORMAT_UINT) {
        switch (pi->bps) {
        case 1: *dt = TP_BOOL; break;
        case 8: *dt = TP_UINT8; break;
        case 16: *dt = TP_UINT16; break;
        case 32: *dt = TP_UINT32; break;
        case 64: *dt = TP_INT64; break;
        default: ok = 0;
        }
    } else if (fmt == SAMPLEFORMAT_INT) {
        switch (pi->bps) {
        case 8: *dt = TP_INT8; break;
        case 16: *dt = TP_INT16; break;
        case 32: *dt = TP_INT32; break;
        case 64: *dt = TP_INT64; break;
        default: ok = 0;
        }
    } else if (fmt == SAMPLEFORMAT_IEEEFP) {
        switch (pi->bps) {
        case 16: *dt = TP_FLOAT32; break;
        case 32: *dt = TP_FLOAT32; break;
        case 64: *dt = TP_FLOAT64; break;
        default: ok = 0;
        }
    } else {
        ok = 0;
    }
    if (!ok)
        return tp_error(ctx, TP_ERR_IO,
                        "read TIFF '%s': unsupported samples: %u-bit %s (expected 1-bit bilevel, 8/16/32/64-bit "
                        "integers or 16/32/64-bit floats)",
                        path, pi->bps, format_name(pi->fmt));
    return TP_OK;
}

/* Layouts we decode; the others get a message that names what the file has. */
static tp_status check_layout(tp_context *ctx, const char *path, TIFF *tif, page_info *pi, uint32_t page)
{
    if (pi->spp == 0)
        return tp_error(ctx, TP_ERR_IO, "read TIFF '%s': page %u: SamplesPerPixel is 0", path, page);
    if (pi->planar != PLANARCONFIG_CONTIG && pi->planar != PLANARCONFIG_SEPARATE)
        return tp_error(ctx, TP_ERR_IO, "read TIFF '%s': page %u: unknown PlanarConfiguration %u", path, page,
                        pi->planar);
    if (pi->bps == 1 && pi->spp != 1)
        return tp_error(ctx, TP_ERR_IO, "read TIFF '%s': page %u: 1-bit pages with %u samples are not supported", path,
                        page, pi->spp);
    if (pi->compression == COMPRESSION_OJPEG || !TIFFIsCODECConfigured(pi->compression)) {
        const TIFFCodec *c = TIFFFindCODEC(pi->compression);
        return tp_error(ctx, TP_ERR_IO, "read TIFF '%s': page %u: compression %u (%s) is not supported", path, page,
                        pi->compression, c ? c->name : "unknown");
    }
    switch (pi->photometric) {
    case PHOTOMETRIC_MINISWHITE:
    case PHOTOMETRIC_MINISBLACK:
    case PHOTOMETRIC_RGB:
    case PHOTOMETRIC_PALETTE:
    case PHOTOMETRIC_SEPARATED:
    case PHOTOMETRIC_MASK: return TP_OK;
    case PHOTOMETRIC_YCBCR:
        if (pi->compression == COMPRESSION_JPEG && pi->bps == 8 && pi->spp == 3 && pi->planar == PLANARCONFIG_CONTIG) {
            /* libtiff's JPEG codec converts to RGB for us, as tifffile does */
            TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
            pi->photometric = PHOTOMETRIC_RGB;
            return TP_OK;
        }
        return tp_error(ctx, TP_ERR_IO, "read TIFF '%s': page %u: YCbCr pages are supported only as 8-bit JPEG", path,
                        page);
    default:
        return tp_error(ctx, TP_ERR_IO, "read TIFF '%s': page %u: photometric interpretation %u (e.g. CIELab, LogLuv) "
                        "is not supported", path, page, pi->photometric);
    }
}

/* ---- decoding one page into chunky (h, w, spp) samples ---- */

/* Bytes per sample as stored in our page buffer: 1-bit samples are unpacked to one byte each. */
static size_t sample_bytes(const page_info *pi) { return pi->bps == 1 ? 1 : pi->bps / 8u; }

typedef struct block_geom {
    int separate;             /* one plane of blocks per sample */
    uint32_t spb;             /* samples per pixel inside a block */
    uint64_t nbx, nby, nplanes;
    uint64_t row_bytes;       /* bytes of one block row as libtiff decodes it */
    uint64_t bytes;           /* bytes of one whole block */
} block_geom;

static tp_status block_geometry(tp_context *ctx, const char *path, TIFF *tif, const page_info *pi, uint32_t page,
                                block_geom *g)
{
    g->separate = pi->planar == PLANARCONFIG_SEPARATE && pi->spp > 1;
    g->spb = g->separate ? 1u : pi->spp;
    g->nplanes = g->separate ? pi->spp : 1u;
    g->nbx = (pi->w + (uint64_t)pi->bw - 1) / pi->bw;
    g->nby = (pi->h + (uint64_t)pi->bh - 1) / pi->bh;
    uint64_t bits = (uint64_t)pi->bw * g->spb * pi->bps;
    g->row_bytes = (bits + 7) / 8;
    /* a block holds at most the page plus its padding to whole blocks: a header declaring blocks far larger
     * than its image (fuzzing found a 2 GB tile on a tiny page) is refused before the block buffer is made */
    const uint64_t page_bytes = ((uint64_t)pi->w * pi->spp * pi->bps + 7) / 8 * pi->h;
    if (__builtin_mul_overflow(g->row_bytes, (uint64_t)pi->bh, &g->bytes) || g->bytes > ((uint64_t)1 << 40) ||
        g->bytes > 4 * page_bytes + ((uint64_t)64 << 20))
        return tp_error(ctx, TP_ERR_IO, "read TIFF '%s': page %u: implausible block size %u x %u", path, page, pi->bw,
                        pi->bh);
    uint64_t have = pi->tiled ? TIFFNumberOfTiles(tif) : TIFFNumberOfStrips(tif);
    if (have < g->nplanes * g->nby * g->nbx)
        return tp_error(ctx, TP_ERR_IO, "read TIFF '%s': page %u: %llu %s for %llu needed", path, page,
                        (unsigned long long)have, pi->tiled ? "tiles" : "strips",
                        (unsigned long long)(g->nplanes * g->nby * g->nbx));
    return TP_OK;
}

/* Copy the visible part of a decoded block into the page buffer (chunky, sample_bytes per sample). */
static void scatter_block(const page_info *pi, const block_geom *g, const uint8_t *blk, uint8_t *dst, uint64_t plane,
                          uint64_t by, uint64_t bx, uint64_t rows, uint64_t cols)
{
    size_t es = sample_bytes(pi), px = es * pi->spp;
    for (uint64_t r = 0; r < rows; r++) {
        const uint8_t *s = blk + r * g->row_bytes;
        uint8_t *d = dst + ((by * pi->bh + r) * pi->w + bx * pi->bw) * px;
        if (pi->bps == 1) {
            for (uint64_t c = 0; c < cols; c++)
                d[c] = (uint8_t)((s[c >> 3] >> (7 - (c & 7))) & 1);
        } else if (!g->separate) {
            memcpy(d, s, cols * px);
        } else {
            for (uint64_t c = 0; c < cols; c++)
                memcpy(d + c * px + plane * es, s + c * es, es);
        }
    }
}

static tp_status read_page(tp_context *ctx, const char *path, TIFF *tif, const page_info *pi, uint32_t page,
                           uint8_t *dst, tiff_log *log)
{
    block_geom g;
    log->errors = 0; /* report this page's first error, not an earlier harmless one */
    tp_status st = block_geometry(ctx, path, tif, pi, page, &g);
    if (st)
        return st;
    /* whole-width strips of byte-sized samples decode straight into place */
    int direct = !pi->tiled && !g.separate && pi->bps >= 8;
    uint8_t *blk = direct ? NULL : tp_host_alloc(ctx, (int64_t)g.bytes, 1);
    if (!direct && !blk)
        return TP_ERR_NOMEM;
    for (uint64_t p = 0; p < g.nplanes && !st; p++) {
        for (uint64_t by = 0; by < g.nby && !st; by++) {
            uint64_t rows = pi->h - by * pi->bh < pi->bh ? pi->h - by * pi->bh : pi->bh;
            for (uint64_t bx = 0; bx < g.nbx && !st; bx++) {
                uint64_t cols = pi->w - bx * pi->bw < pi->bw ? pi->w - bx * pi->bw : pi->bw;
                uint32_t idx = (uint32_t)((p * g.nby + by) * g.nbx + bx);
                uint64_t need = rows * g.row_bytes;
                tmsize_t got;
                if (direct)
                    got = TIFFReadEncodedStrip(tif, idx, dst + by * pi->bh * g.row_bytes, (tmsize_t)need);
                else if (pi->tiled)
                    got = TIFFReadEncodedTile(tif, idx, blk, (tmsize_t)g.bytes);
                else
                    got = TIFFReadEncodedStrip(tif, idx, blk, (tmsize_t)need);
                if (got < 0 || (uint64_t)got < need) {
                    st = tp_error(ctx, TP_ERR_IO, "read TIFF '%s': page %u, %s %u: %s", path, page,
                                  pi->tiled ? "tile" : "strip", idx, log_text(log, "truncated or corrupt data"));
                    break;
                }
                if (!direct)
                    scatter_block(pi, &g, blk, dst, p, by, bx, rows, cols);
            }
        }
    }
    free(blk);
    return st;
}

/* ---- sample conversions for the types twinpix does not have ---- */

static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31u, m = h & 1023u, bits;
    if (e == 0 && m == 0) {
        bits = sign;
    } else if (e == 0) { /* subnormal: normalise */
        int shift = 0;
        while (!(m & 1024u)) {
            m <<= 1;
            shift++;
        }
        bits = sign | (uint32_t)(113 - shift) << 23 | (m & 1023u) << 13;
    } else if (e == 31) {
        bits = sign | 0x7F800000u | m << 13;
    } else {
        bits = sign | (e + 112u) << 23 | m << 13;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Widen/narrow a page read in the file's sample size into the output dtype. */
static tp_status convert_page(tp_context *ctx, const char *path, const page_info *pi, const uint8_t *src, int64_t n,
                              void *dst)
{
    if (pi->fmt == SAMPLEFORMAT_IEEEFP && pi->bps == 16) {
        const uint16_t *s = (const uint16_t *)src;
        for (int64_t i = 0; i < n; i++)
            ((float *)dst)[i] = half_to_float(s[i]);
        return TP_OK;
    }
    const uint64_t *s = (const uint64_t *)src; /* uint64 -> int64 */
    for (int64_t i = 0; i < n; i++) {
        if (s[i] > (uint64_t)INT64_MAX)
            return tp_error(ctx, TP_ERR_DTYPE, "read TIFF '%s': uint64 value %llu does not fit int64", path,
                            (unsigned long long)s[i]);
        ((int64_t *)dst)[i] = (int64_t)s[i];
    }
    return TP_OK;
}

static int needs_conversion(const page_info *pi)
{
    return (pi->fmt == SAMPLEFORMAT_IEEEFP && pi->bps == 16) ||
           (pi->bps == 64 && (pi->fmt == SAMPLEFORMAT_UINT || pi->fmt == SAMPLEFORMAT_VOID));
}

/* ---- ImageJ metadata ---- */

typedef struct imagej_desc {
    int present;
    int64_t images, channels, slices, frames;
    double spacing;
    char unit[32];
} imagej_desc;

static void copy_unit(char *dst, size_t n, const char *v, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 3 < n; i++) {
        if (strncmp(v + i, "\\u00B5", 6) == 0 || strncmp(v + i, "\\u00b5", 6) == 0) {
            dst[o++] = (char)0xC2; /* ImageJ escapes the micro sign; store it as UTF-8 */
            dst[o++] = (char)0xB5;
            i += 5;
        } else {
            dst[o++] = v[i];
        }
    }
    dst[o] = 0;
}

static void parse_imagej(const char *d, imagej_desc *ij)
{
    memset(ij, 0, sizeof *ij);
    if (!d || strncmp(d, "ImageJ=", 7) != 0)
        return;
    ij->present = 1;
    for (const char *line = d; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *eq = memchr(line, '=', len);
        if (eq) {
            size_t klen = (size_t)(eq - line), vlen = len - klen - 1;
            const char *v = eq + 1;
#define KEY(k) (klen == sizeof(k) - 1 && strncmp(line, k, klen) == 0)
            if (KEY("images"))
                ij->images = strtoll(v, NULL, 10);
            else if (KEY("channels"))
                ij->channels = strtoll(v, NULL, 10);
            else if (KEY("slices"))
                ij->slices = strtoll(v, NULL, 10);
            else if (KEY("frames"))
                ij->frames = strtoll(v, NULL, 10);
            else if (KEY("spacing"))
                ij->spacing = strtod(v, NULL);
            else if (KEY("unit"))
                copy_unit(ij->unit, sizeof ij->unit, v, vlen);
#undef KEY
        }
        line = end ? end + 1 : NULL;
    }
}

/* ---- the whole file ---- */

typedef struct tiff_plan {
    page_info p0;
    tp_dtype dtype;
    uint32_t *dirs;       /* directory indices of the pages that make the image */
    uint32_t npages;
    int contiguous_imagej; /* ImageJ's > 4 GiB layout: one IFD, all planes back to back */
    int64_t images;       /* planes to read */
    int ndim, channel_axis;
    int64_t shape[TP_MAX_DIMS];
    imagej_desc ij;
} tiff_plan;

static int same_kind(const page_info *a, const page_info *b)
{
    return a->w == b->w && a->h == b->h && a->bps == b->bps && a->spp == b->spp && a->fmt == b->fmt;
}

/* Walk the directory chain: the pages to read (reduced-resolution subfiles such as thumbnails or pyramid
 * levels are skipped, as tifffile's main series skips them), all of page 0's size and type. */
static tp_status list_pages(tp_context *ctx, const char *path, TIFF *tif, tiff_plan *pl, tiff_log *log)
{
    uint32_t cap = 64;
    pl->dirs = malloc(sizeof *pl->dirs * cap);
    if (!pl->dirs)
        return tp_error(ctx, TP_ERR_NOMEM, "out of host memory reading '%s'", path);
    pl->dirs[0] = 0;
    pl->npages = 1;
    int skip_reduced = !(pl->p0.subfile & FILETYPE_REDUCEDIMAGE), errors_before = log->errors;
    for (uint32_t dir = 1; TIFFReadDirectory(tif); dir++) {
        page_info pi;
        tp_status st = get_page_info(ctx, path, tif, dir, &pi);
        if (st)
            return st;
        if (skip_reduced && (pi.subfile & FILETYPE_REDUCEDIMAGE))
            continue;
        if (!same_kind(&pi, &pl->p0))
            return tp_error(ctx, TP_ERR_IO,
                            "read TIFF '%s': page %u is %u x %u, %u x %u-bit %s; page 0 is %u x %u, %u x %u-bit %s: "
                            "expected all pages of the same size and type",
                            path, dir, pi.h, pi.w, pi.spp, pi.bps, format_name(pi.fmt), pl->p0.h, pl->p0.w,
                            pl->p0.spp, pl->p0.bps, format_name(pl->p0.fmt));
        if (pl->npages == cap) {
            uint32_t *nd = cap > UINT32_MAX / 2 ? NULL : realloc(pl->dirs, sizeof *nd * cap * 2);
            if (!nd)
                return tp_error(ctx, TP_ERR_NOMEM, "out of host memory reading '%s'", path);
            pl->dirs = nd;
            cap *= 2;
        }
        pl->dirs[pl->npages++] = dir;
    }
    if (log->errors > errors_before)
        return tp_error(ctx, TP_ERR_IO, "read TIFF '%s': after page %u: %s", path, pl->npages - 1, log->first);
    return TP_OK;
}

/* Axes: ImageJ stores planes in TZC order (channel fastest); twinpix has at most three spatial axes, so
 * frames stand for z when there are no slices, and both at once are refused. */
static tp_status plan_shape(tp_context *ctx, const char *path, tiff_plan *pl)
{
    int64_t c = 1, z = pl->npages;
    pl->images = pl->npages;
    const imagej_desc *ij = &pl->ij;
    if (ij->present) {
        int64_t C = ij->channels > 0 ? ij->channels : 1, S = ij->slices > 0 ? ij->slices : 1,
                F = ij->frames > 0 ? ij->frames : 1, CSF = 0;
        int fits = tp_mul_i64(C, S, &CSF) && tp_mul_i64(CSF, F, &CSF);
        int64_t n = ij->images > 0 ? ij->images : fits ? CSF : 1;
        if (!fits || CSF != n) { /* inconsistent counts: ImageJ itself then opens a plain stack */
            C = 1;
            S = n;
            F = 1;
        }
        int contiguous = pl->npages == 1 && n > 1 && !pl->p0.tiled && pl->p0.compression == COMPRESSION_NONE &&
                         pl->p0.bps >= 8;
        if (n == pl->npages || contiguous) {
            if (S > 1 && F > 1)
                return tp_error(ctx, TP_ERR_SHAPE,
                                "read TIFF '%s': ImageJ hyperstack with %lld slices and %lld frames: twinpix images "
                                "have at most 3 spatial axes",
                                path, (long long)S, (long long)F);
            c = C;
            z = S * F;
            pl->images = n;
            pl->contiguous_imagej = contiguous;
        }
    }
    if (c > 1 && pl->p0.spp > 1)
        return tp_error(ctx, TP_ERR_SHAPE, "read TIFF '%s': ImageJ channels (%lld) of %u-sample pages are not supported",
                        path, (long long)c, pl->p0.spp);
    int nd = 0;
    pl->channel_axis = -1;
    if (z > 1)
        pl->shape[nd++] = z;
    if (c > 1) {
        pl->channel_axis = nd;
        pl->shape[nd++] = c;
    }
    pl->shape[nd++] = pl->p0.h;
    pl->shape[nd++] = pl->p0.w;
    if (pl->p0.spp > 1) {
        pl->channel_axis = nd;
        pl->shape[nd++] = pl->p0.spp;
    }
    pl->ndim = nd;
    return TP_OK;
}

static int64_t physical_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
    return pages > 0 && size > 0 ? (int64_t)pages * size : INT64_MAX;
}

/* Refuse what cannot be real before allocating: sizes that overflow, exceed this machine's memory, or (for
 * uncompressed data) exceed the file itself, which is what a truncated file looks like. */
static tp_status check_size(tp_context *ctx, const char *path, const tiff_plan *pl, int64_t file_size)
{
    int64_t n, bytes, stored;
    if (!tp_shape_product(pl->shape, pl->ndim, &n) || !tp_mul_i64(n, (int64_t)tp_dtype_size(pl->dtype), &bytes))
        return tp_error(ctx, TP_ERR_OVERFLOW, "read TIFF '%s': %u x %u pixels x %lld planes: the size overflows 64 bits",
                        path, pl->p0.h, pl->p0.w, (long long)pl->images);
    if (bytes > physical_memory())
        return tp_error(ctx, TP_ERR_NOMEM, "read TIFF '%s': the image needs %lld bytes, more than this machine's memory",
                        path, (long long)bytes);
    /* the bytes the pages store (any bit depth: 1-bit pages pack 8 pixels a byte) */
    if (!tp_mul_i64(n, (int64_t)(pl->p0.bps ? pl->p0.bps : 1), &stored))
        return tp_error(ctx, TP_ERR_OVERFLOW, "read TIFF '%s': the size overflows 64 bits", path);
    stored = stored / 8 + (stored % 8 != 0);
    if (pl->p0.compression == COMPRESSION_NONE) {
        if (stored > file_size)
            return tp_error(ctx, TP_ERR_IO,
                            "read TIFF '%s': truncated: the pages declare %lld bytes of uncompressed pixels, the file "
                            "has %lld bytes",
                            path, (long long)stored, (long long)file_size);
    } else if (file_size <= 0 || stored / 4096 > file_size) {
        /* no TIFF codec expands data more than about 4096:1 (deflate peaks near 1032:1, LZW below 4096:1),
         * so a file that small cannot hold that many pixels: refuse before allocating (found by fuzzing) */
        return tp_error(ctx, TP_ERR_IO,
                        "read TIFF '%s': the pages declare %lld bytes of pixels, more than %lld compressed bytes can "
                        "hold",
                        path, (long long)stored, (long long)file_size);
    }
    return TP_OK;
}

/* ImageJ writes files over 4 GiB as one IFD followed by all planes back to back. */
static tp_status read_contiguous(tp_context *ctx, const char *path, TIFF *tif, const tiff_plan *pl, uint8_t *dst,
                                 int64_t bytes)
{
    uint64_t *offsets = NULL, *counts = NULL;
    if (!TIFFGetField(tif, TIFFTAG_STRIPOFFSETS, &offsets) || !TIFFGetField(tif, TIFFTAG_STRIPBYTECOUNTS, &counts))
        return tp_error(ctx, TP_ERR_IO, "read TIFF '%s': no strip offsets", path);
    uint32_t ns = TIFFNumberOfStrips(tif);
    for (uint32_t i = 1; i < ns; i++)
        if (offsets[i] != offsets[i - 1] + counts[i - 1])
            return tp_error(ctx, TP_ERR_IO, "read TIFF '%s': ImageJ declares %lld images in one IFD, but its strips are "
                            "not contiguous", path, (long long)pl->images);
    FILE *f = fopen(path, "rb");
    if (!f)
        return tp_error(ctx, TP_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    int ok = fseeko(f, (off_t)offsets[0], SEEK_SET) == 0 && fread(dst, 1, (size_t)bytes, f) == (size_t)bytes;
    fclose(f);
    if (!ok)
        return tp_error(ctx, TP_ERR_IO, "read TIFF '%s': truncated: ImageJ declares %lld images", path,
                        (long long)pl->images);
    if (TIFFIsByteSwapped(tif)) {
        int64_t n = bytes / (pl->p0.bps / 8);
        if (pl->p0.bps == 16)
            TIFFSwabArrayOfShort((uint16_t *)dst, (tmsize_t)n);
        else if (pl->p0.bps == 32)
            TIFFSwabArrayOfLong((uint32_t *)dst, (tmsize_t)n);
        else if (pl->p0.bps == 64)
            TIFFSwabArrayOfLong8((uint64_t *)dst, (tmsize_t)n);
    }
    return TP_OK;
}

static tp_status read_pages(tp_context *ctx, const char *path, TIFF *tif, const tiff_plan *pl, tp_image *img,
                            tiff_log *log)
{
    int64_t plane_n = (int64_t)pl->p0.h * pl->p0.w * pl->p0.spp;
    int64_t plane_bytes = plane_n * (int64_t)tp_dtype_size(pl->dtype);
    int conv = needs_conversion(&pl->p0);
    uint8_t *scratch = NULL;
    if (conv && !(scratch = tp_host_alloc(ctx, plane_n, pl->p0.bps / 8u)))
        return TP_ERR_NOMEM;
    tp_status st = TP_OK;
    if (!TIFFSetDirectory(tif, 0))
        st = tp_error(ctx, TP_ERR_IO, "read TIFF '%s': %s", path, log_text(log, "cannot rewind to page 0"));
    uint32_t dir = 0;
    for (uint32_t k = 0; k < pl->npages && !st; k++) {
        for (; dir < pl->dirs[k]; dir++)
            if (!TIFFReadDirectory(tif)) {
                st = tp_error(ctx, TP_ERR_IO, "read TIFF '%s': page %u: %s", path, dir + 1,
                              log_text(log, "cannot read the directory"));
                break;
            }
        page_info pi;
        if (st || (st = get_page_info(ctx, path, tif, dir, &pi)) || (st = check_layout(ctx, path, tif, &pi, dir)))
            break;
        uint8_t *out = (uint8_t *)img->data + (int64_t)k * plane_bytes;
        if ((st = read_page(ctx, path, tif, &pi, dir, conv ? scratch : out, log)))
            break;
        if (conv)
            st = convert_page(ctx, path, &pi, scratch, plane_n, out);
    }
    free(scratch);
    return st;
}

static void fill_meta(TIFF *tif, const tiff_plan *pl, tp_image *img, tp_io_meta *meta)
{
    float xr = 0, yr = 0;
    uint16_t ru = RESUNIT_NONE;
    TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &ru);
    if (TIFFGetField(tif, TIFFTAG_XRESOLUTION, &xr) && xr > 0)
        meta->spacing[2] = 1.0 / xr;
    if (TIFFGetField(tif, TIFFTAG_YRESOLUTION, &yr) && yr > 0)
        meta->spacing[1] = 1.0 / yr;
    if (ru == RESUNIT_INCH)
        strcpy(meta->unit, "inch");
    else if (ru == RESUNIT_CENTIMETER)
        strcpy(meta->unit, "cm");
    if (pl->ij.present) {
        meta->imagej = 1;
        if (pl->ij.unit[0])
            snprintf(meta->unit, sizeof meta->unit, "%s", pl->ij.unit);
        if (pl->ij.spacing > 0)
            meta->spacing[0] = pl->ij.spacing;
    }
    /* img->spacing follows the image's spatial axes; only z is set, since resolution tags are often a
     * nominal 72 dpi that scikit-image ignores and that would change measurements silently */
    if (tp_image_spatial_ndim(img) == 3)
        img->spacing[0] = meta->spacing[0];
}

tp_status tp_read_tiff(tp_context *ctx, const char *path, tp_image *img, tp_io_meta *meta)
{
    tp_io_meta scratch_meta;
    if (!meta)
        meta = &scratch_meta;
    memset(meta, 0, sizeof *meta);
    meta->spacing[0] = meta->spacing[1] = meta->spacing[2] = 1.0;
    *img = tp_image_empty();
    struct stat sb;
    if (stat(path, &sb) != 0)
        return tp_error(ctx, TP_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    tiff_log log = {{0}, 0, {0}};
    TIFF *tif = tiff_open(path, -1, "r", &log);
    if (!tif)
        return tp_error(ctx, TP_ERR_IO, "read TIFF '%s': %s", path, log_text(&log, "not a TIFF file"));
    tiff_plan pl;
    memset(&pl, 0, sizeof pl);
    tp_image out = tp_image_empty();
    char *desc = NULL;
    tp_status st = get_page_info(ctx, path, tif, 0, &pl.p0);
    if (!st)
        st = check_layout(ctx, path, tif, &pl.p0, 0);
    if (!st)
        st = page_dtype(ctx, path, &pl.p0, &pl.dtype);
    if (!st) {
        if (TIFFGetField(tif, TIFFTAG_IMAGEDESCRIPTION, &desc))
            parse_imagej(desc, &pl.ij);
        st = list_pages(ctx, path, tif, &pl, &log);
    }
    if (!st)
        st = plan_shape(ctx, path, &pl);
    if (!st)
        st = check_size(ctx, path, &pl, (int64_t)sb.st_size);
    if (!st)
        st = tp_image_alloc(ctx, &out, pl.dtype, pl.ndim, pl.shape, pl.channel_axis, TP_HOST);
    if (!st && pl.contiguous_imagej) {
        TIFFSetDirectory(tif, 0);
        st = read_contiguous(ctx, path, tif, &pl, out.data, tp_image_count(&out) * (int64_t)tp_dtype_size(pl.dtype));
    } else if (!st) {
        st = read_pages(ctx, path, tif, &pl, &out, &log);
    }
    if (!st && log.io_warning[0])
        st = tp_error(ctx, TP_ERR_IO, "read TIFF '%s': truncated or damaged: %s", path, log.io_warning);
    if (!st && TIFFSetDirectory(tif, 0))
        fill_meta(tif, &pl, &out, meta);
    TIFFClose(tif);
    free(pl.dirs);
    if (st) {
        tp_image_free(&out);
        return st;
    }
    *img = out;
    return TP_OK;
}

/* ---- writing ---- */

typedef struct write_plan {
    const uint8_t *data;  /* contiguous host pixels */
    tp_dtype dtype;
    int64_t pages, h, w, spp;
    int64_t slices, channels; /* ImageJ structure of the pages */
    int imagej;           /* write an ImageJ description (stacks and channel-first hyperstacks) */
    double zspacing, yspacing, xspacing;
} write_plan;

static tp_status plan_write(tp_context *ctx, const char *path, const tp_image *im, write_plan *wp)
{
    memset(wp, 0, sizeof *wp);
    wp->data = im->data;
    wp->dtype = im->dtype;
    wp->spp = wp->channels = wp->slices = 1;
    int nd = im->ndim, ca = im->channel_axis, sd = tp_image_spatial_ndim(im);
    const int64_t *s = im->shape;
    if (sd < 1 || sd > 3)
        return tp_error(ctx, TP_ERR_SHAPE, "write TIFF '%s': image: expected 1 to 3 spatial axes, got %d", path, sd);
    if (ca == -1) {
        wp->slices = sd == 3 ? s[0] : 1;
        wp->h = sd >= 2 ? s[nd - 2] : 1;
        wp->w = s[nd - 1];
    } else if (ca == nd - 1 && sd >= 2) { /* YXC, ZYXC: samples of each pixel */
        wp->spp = s[ca];
        wp->slices = sd == 3 ? s[0] : 1;
        wp->h = s[nd - 3];
        wp->w = s[nd - 2];
    } else if (ca == nd - 3 && sd >= 2) { /* CYX, ZCYX: ImageJ's hyperstack order, one page per plane */
        wp->channels = s[ca];
        wp->slices = sd == 3 ? s[0] : 1;
        wp->h = s[nd - 2];
        wp->w = s[nd - 1];
    } else {
        return tp_error(ctx, TP_ERR_SHAPE,
                        "write TIFF '%s': channel_axis: expected the last axis (samples) or ImageJ's order (CYX, "
                        "ZCYX), got axis %d of %d",
                        path, ca, nd);
    }
    if (wp->h > UINT32_MAX || wp->w > UINT32_MAX || wp->spp > 65535)
        return tp_error(ctx, TP_ERR_SHAPE, "write TIFF '%s': a page of %lld x %lld x %lld exceeds TIFF's limits", path,
                        (long long)wp->h, (long long)wp->w, (long long)wp->spp);
    wp->pages = wp->slices * wp->channels;
    wp->imagej = wp->pages > 1;
    wp->zspacing = sd == 3 ? im->spacing[0] : 1.0;
    wp->yspacing = sd >= 2 ? im->spacing[sd - 2] : 1.0;
    wp->xspacing = im->spacing[sd - 1];
    return TP_OK;
}

static void sample_format(tp_dtype t, uint16_t *bps, uint16_t *fmt)
{
    *bps = (uint16_t)(8 * tp_dtype_size(t));
    *fmt = tp_dtype_is_float(t) ? SAMPLEFORMAT_IEEEFP : tp_dtype_is_signed(t) ? SAMPLEFORMAT_INT : SAMPLEFORMAT_UINT;
}

static void imagej_description(const write_plan *wp, char *buf, size_t n)
{
    int len = snprintf(buf, n, "ImageJ=1.11a\nimages=%lld\n", (long long)wp->pages);
    if (wp->channels > 1)
        len += snprintf(buf + len, n - (size_t)len, "channels=%lld\n", (long long)wp->channels);
    if (wp->slices > 1)
        len += snprintf(buf + len, n - (size_t)len, "slices=%lld\n", (long long)wp->slices);
    if (wp->channels > 1)
        len += snprintf(buf + len, n - (size_t)len, "hyperstack=true\nmode=grayscale\n");
    if (wp->zspacing != 1.0 && wp->slices > 1)
        len += snprintf(buf + len, n - (size_t)len, "spacing=%.17g\n", wp->zspacing);
    snprintf(buf + len, n - (size_t)len, "loop=false\n");
}

static void set_extra_samples(TIFF *tif, const write_plan *wp, const uint16_t *kinds)
{
    int extra = (int)wp->spp - (wp->spp == 3 || wp->spp == 4 ? 3 : 1);
    if (extra > 0)
        TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, (uint16_t)extra, kinds);
}

static void set_page_tags(TIFF *tif, const write_plan *wp, const tp_tiff_write_opts *o, uint32_t rps, const char *desc,
                          const uint16_t *extra_kinds)
{
    uint16_t bps, fmt;
    sample_format(wp->dtype, &bps, &fmt);
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, (uint32_t)wp->w);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, (uint32_t)wp->h);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, bps);
    TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, fmt);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)wp->spp);
    int rgb = wp->spp == 3 || wp->spp == 4;
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, rgb ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
    set_extra_samples(tif, wp, extra_kinds);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG,
                 o->planar_separate && wp->spp > 1 ? PLANARCONFIG_SEPARATE : PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, o->compression > 1 ? (uint16_t)o->compression : COMPRESSION_NONE);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, rps);
    if (wp->xspacing != 1.0 || wp->yspacing != 1.0) {
        TIFFSetField(tif, TIFFTAG_XRESOLUTION, 1.0 / wp->xspacing);
        TIFFSetField(tif, TIFFTAG_YRESOLUTION, 1.0 / wp->yspacing);
        TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, RESUNIT_NONE);
    }
    if (desc)
        TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION, desc);
    TIFFSetField(tif, TIFFTAG_SOFTWARE, "twinpix " TP_VERSION_STRING);
}

/* libtiff may encode in place (byte swapping, predictors), so each strip is staged in a scratch buffer. */
static int write_page(TIFF *tif, const write_plan *wp, const tp_tiff_write_opts *o, const uint8_t *page, uint32_t rps,
                      uint8_t *scratch)
{
    size_t es = tp_dtype_size(wp->dtype);
    int separate = o->planar_separate && wp->spp > 1;
    int64_t planes = separate ? wp->spp : 1, row_n = wp->w * (separate ? 1 : wp->spp);
    int64_t nstrips = (wp->h + rps - 1) / rps;
    for (int64_t p = 0; p < planes; p++) {
        for (int64_t s = 0; s < nstrips; s++) {
            int64_t y0 = s * rps, rows = wp->h - y0 < (int64_t)rps ? wp->h - y0 : (int64_t)rps;
            int64_t n = rows * row_n;
            const uint8_t *src = page + y0 * wp->w * wp->spp * (int64_t)es;
            if (!separate) {
                memcpy(scratch, src, (size_t)n * es);
            } else {
                for (int64_t i = 0; i < n; i++)
                    memcpy(scratch + i * (int64_t)es, src + (i * wp->spp + p) * (int64_t)es, es);
            }
            if (wp->dtype == TP_BOOL)
                for (int64_t i = 0; i < n; i++)
                    scratch[i] = scratch[i] != 0;
            if (TIFFWriteEncodedStrip(tif, (uint32_t)(p * nstrips + s), scratch, (tmsize_t)(n * (int64_t)es)) < 0)
                return 0;
        }
    }
    return 1;
}

/* In ImageJ files each directory goes before its pixels (written now, completed in place later): tifffile
 * takes an ImageJ file whose second IFD lies past page 0's data + all planes for ImageJ's own contiguous
 * layout, which libtiff's usual order (pixels, then IFD) can look like. Writing a directory byte-swaps
 * libtiff's ExtraSamples array in place in big-endian files, and the tag cannot be set again once pixels
 * are written, so it is swapped back here. */
static int checkpoint(TIFF *tif)
{
    if (!TIFFCheckpointDirectory(tif))
        return 0;
    uint16_t n = 0;
    uint16_t *kinds = NULL;
    if (TIFFIsByteSwapped(tif) && TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, &n, &kinds) && n > 0 && kinds)
        TIFFSwabArrayOfShort(kinds, n);
    return 1;
}

static tp_status write_all(tp_context *ctx, const char *path, TIFF *tif, const write_plan *wp,
                           const tp_tiff_write_opts *o, tiff_log *log)
{
    size_t es = tp_dtype_size(wp->dtype);
    int64_t row_bytes = wp->w * wp->spp * (int64_t)es;
    int64_t rps = o->rows_per_strip > 0 ? o->rows_per_strip : (1 << 20) / (row_bytes ? row_bytes : 1);
    if (rps < 1)
        rps = 1;
    if (rps > wp->h)
        rps = wp->h;
    uint8_t *scratch = tp_host_alloc(ctx, rps * row_bytes, 1);
    uint16_t *kinds = tp_host_alloc(ctx, wp->spp, sizeof *kinds);
    if (!scratch || !kinds) {
        free(scratch);
        free(kinds);
        return TP_ERR_NOMEM;
    }
    /* extra samples: alpha after RGB (as tifffile writes RGBA), unspecified after a grey sample */
    for (int64_t i = 0; i < wp->spp; i++)
        kinds[i] = wp->spp == 4 ? EXTRASAMPLE_UNASSALPHA : EXTRASAMPLE_UNSPECIFIED;
    char desc[512];
    if (wp->imagej)
        imagej_description(wp, desc, sizeof desc);
    int64_t page_bytes = wp->h * row_bytes;
    tp_status st = TP_OK;
    for (int64_t k = 0; k < wp->pages; k++) {
        /* ImageJ reads its description from the first page only */
        set_page_tags(tif, wp, o, (uint32_t)rps, wp->imagej && k == 0 ? desc : NULL, kinds);
        int ok = !wp->imagej || checkpoint(tif);
        if (!ok || !write_page(tif, wp, o, wp->data + k * page_bytes, (uint32_t)rps, scratch) ||
            !TIFFWriteDirectory(tif)) {
            st = tp_error(ctx, TP_ERR_IO, "write TIFF '%s': page %lld: %s", path, (long long)k,
                          log_text(log, "write failed"));
            break;
        }
    }
    free(scratch);
    free(kinds);
    return st;
}

tp_status tp_write_tiff_opts(tp_context *ctx, const char *path, const tp_image *img, const tp_tiff_write_opts *opts)
{
    tp_tiff_write_opts defaults = {0, 0, 0, 0, 0};
    const tp_tiff_write_opts *o = opts ? opts : &defaults;
    if (!img || !img->data || img->location != TP_HOST)
        return tp_error(ctx, TP_ERR_ARG, "write TIFF '%s': image: expected a host image with data", path);
    if (o->compression > 1 && !TIFFIsCODECConfigured((uint16_t)o->compression))
        return tp_error(ctx, TP_ERR_ARG, "write TIFF '%s': compression %d is not available", path, o->compression);
    tp_image c = tp_image_empty();
    const tp_image *src = img;
    tp_status st;
    if (!tp_image_is_contiguous(img)) {
        if ((st = tp_image_copy(ctx, img, &c, TP_HOST)))
            return st;
        src = &c;
    }
    write_plan wp;
    if ((st = plan_write(ctx, path, src, &wp))) {
        tp_image_free(&c);
        return st;
    }
    /* classic TIFF addresses 4 GiB; leave room for the directories */
    int64_t bytes = tp_image_count(src) * (int64_t)tp_dtype_size(src->dtype);
    int big = o->bigtiff > 0 || (o->bigtiff == 0 && bytes + wp.pages * 4096 > (INT64_C(1) << 32) - (INT64_C(1) << 26));
    char mode[4] = {'w', o->big_endian ? 'b' : 'l', big ? '8' : 0, 0};
    tp_atomic_file af;
    if ((st = tp_atomic_open(ctx, path, &af))) {
        tp_image_free(&c);
        return st;
    }
    tiff_log log = {{0}, 0, {0}};
    int fd = dup(fileno(af.fp));
    TIFF *tif = fd >= 0 ? tiff_open(af.path, fd, mode, &log) : NULL;
    if (!tif) {
        if (fd >= 0)
            close(fd);
        st = tp_error(ctx, TP_ERR_IO, "write TIFF '%s': %s", path, log_text(&log, strerror(errno)));
    } else {
        st = write_all(ctx, path, tif, &wp, o, &log);
        TIFFClose(tif); /* flushes, and closes the dup'ed descriptor */
        if (!st && log.errors)
            st = tp_error(ctx, TP_ERR_IO, "write TIFF '%s': %s", path, log.first);
    }
    tp_image_free(&c);
    if (st) {
        tp_atomic_abort(&af);
        return st;
    }
    return tp_atomic_commit(ctx, &af);
}

tp_status tp_write_tiff(tp_context *ctx, const char *path, const tp_image *img)
{
    return tp_write_tiff_opts(ctx, path, img, NULL);
}

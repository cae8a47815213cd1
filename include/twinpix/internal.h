/*
 * twinpix internals shared by core/, cpu_ref/, gpu/, compare/, bench/ and cli/. Not installed.
 *
 * An operation is described once, as data (tp_op_desc, one file per op in core/ops/). The dispatcher
 * validates inputs and parameters against it, resolves the parameters into typed values (tp_call), picks
 * the backend and calls that backend's implementation. The harness, the benchmarks, the CLI and the docs
 * read the same descriptors.
 */
#ifndef TWINPIX_INTERNAL_H
#define TWINPIX_INTERNAL_H

#include "twinpix/twinpix.h"

#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the context ---- */
#define TP_ERRMSG_LEN 1024

struct tp_context {
    tp_backend_choice backend;
    int threads;            /* resolved: >= 1 */
    int device;             /* CUDA ordinal */
    void *stream;           /* cudaStream_t chosen by the caller, or NULL */
    void *own_stream;       /* cudaStream_t created by the CUDA backend for this context, or NULL */
    void *staging;          /* the CUDA backend's pinned staging buffer for host<->device copies, or NULL */
    int cuda_active;        /* the context has used the device (gpu/backend.cu: released at destroy) */
    int debug;              /* TWINPIX_DEBUG=1: log backend choices on stderr */
    char errmsg[TP_ERRMSG_LEN];
};

/* Set the context's message and return code. Message: "<op>: <argument>: expected ..., got ...". */
tp_status tp_error(tp_context *ctx, tp_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Log a debug line on stderr when TWINPIX_DEBUG is set. */
void tp_debug(const tp_context *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Overflow-checked size arithmetic: return false on overflow. */
static inline bool tp_mul_i64(int64_t a, int64_t b, int64_t *r) { return !__builtin_mul_overflow(a, b, r); }
static inline bool tp_add_i64(int64_t a, int64_t b, int64_t *r) { return !__builtin_add_overflow(a, b, r); }
/* Product of shape[0..n), failing on overflow or negative extents. */
bool tp_shape_product(const int64_t *shape, int n, int64_t *out);

/* memcpy on up to `threads` OpenMP threads (256 KiB a thread at least): host<->pinned staging copies. */
void tp_memcpy_par(void *dst, const void *src, size_t n, int threads);

#ifdef TP_HAVE_CUDA
/* gpu/backend.cu, for core/context.c: at destroy (and before a device change) wait for the context's stream,
 * give back its staging buffer and stream; its live device blocks stay valid (freed later on the freeing
 * thread's stream). On a stream change, the new stream waits for the old and the context's live blocks will
 * be freed on the new one. */
void tp_cuda_context_release(tp_context *ctx);
void tp_cuda_context_set_stream(tp_context *ctx, void *stream);
#endif

/* Host allocation that records TP_ERR_NOMEM in ctx on failure. Sizes are checked. */
/* malloc for image-sized buffers: from 4 MiB up, 2 MiB-aligned and advised as transparent huge pages (as
 * numpy does), so a fresh output costs one page fault per 2 MiB instead of one per 4 KiB. free() releases it. */
void *tp_host_malloc(size_t bytes);
void *tp_host_alloc(tp_context *ctx, int64_t count, size_t elem);
void *tp_host_calloc(tp_context *ctx, int64_t count, size_t elem);

/* ---- parameters ---- */
typedef enum tp_param_type {
    TP_P_FLOAT = 0,  /* double */
    TP_P_INT,        /* int64 */
    TP_P_BOOL,       /* true/false/1/0 */
    TP_P_ENUM,       /* one of `choices` ("a|b|c") */
    TP_P_FLOATSEQ,   /* a float or a comma list of up to 3 (per axis) */
    TP_P_FOOTPRINT,  /* tp_footprint: spec text, a TIFF path, or set by tp_params_set_footprint */
    TP_P_STRLIST,    /* comma list of names (e.g. properties), each checked against `choices` if given */
    TP_P_COLOR,      /* r,g,b floats in [0,1] or a colour name */
    TP_P_COLORLIST,  /* colours separated by ';' (each r,g,b or a name) */
    TP_P_IMAGE       /* an image (e.g. a device-resident threshold); no text form */
} tp_param_type;

typedef struct tp_param_desc {
    const char *name;       /* scikit-image's name */
    tp_param_type type;
    const char *def;        /* default as text; NULL = no default (required unless nullable); "none" = None */
    double min, max;        /* inclusive range for FLOAT/INT/FLOATSEQ elements (ignored when min > max) */
    const char *choices;    /* "a|b|c" for ENUM / STRLIST */
    bool nullable;          /* accepts "none" (Python None) */
    const char *help;
} tp_param_desc;

#define TP_MAX_SEQ 3
#define TP_MAX_COLORS 64

typedef struct tp_pval {
    bool is_none;
    double f;
    int64_t i;
    bool b;
    char s[64];                     /* ENUM */
    double seq[TP_MAX_COLORS * 3];  /* FLOATSEQ (n values), COLOR (3), COLORLIST (3*n) */
    int n;                          /* count of seq values (FLOATSEQ) or colours (COLOR/COLORLIST) */
    tp_footprint fp;                /* FOOTPRINT (owned by the call unless fp_borrowed) */
    bool fp_borrowed;
    char **strs;                    /* STRLIST, owned */
    int nstrs;
    const tp_image *img;            /* IMAGE, borrowed */
} tp_pval;

/* ---- inputs ---- */
/* dtype masks */
#define TP_DT(t) (1u << (t))
#define TP_DT_INTS (TP_DT(TP_UINT8) | TP_DT(TP_INT8) | TP_DT(TP_UINT16) | TP_DT(TP_INT16) | TP_DT(TP_UINT32) | \
                    TP_DT(TP_INT32) | TP_DT(TP_INT64))
#define TP_DT_FLOATS (TP_DT(TP_FLOAT32) | TP_DT(TP_FLOAT64))
#define TP_DT_ALL (TP_DT(TP_BOOL) | TP_DT_INTS | TP_DT_FLOATS)

typedef struct tp_input_desc {
    const char *name;      /* scikit-image's argument name: "image", "label_image", "intensity_image" */
    bool required;
    unsigned dtypes;       /* TP_DT mask */
    unsigned spatial_dims; /* bit 2 = 2D, bit 3 = 3D: (1u<<2)|(1u<<3) */
    bool channels;         /* may carry a channel axis */
} tp_input_desc;

#define TP_DIMS_2D (1u << 2)
#define TP_DIMS_3D (1u << 3)
#define TP_DIMS_23 (TP_DIMS_2D | TP_DIMS_3D)

/* ---- a resolved call, what an implementation receives ---- */
struct tp_op_desc;
typedef struct tp_call {
    const struct tp_op_desc *op;
    const tp_image *in[4];   /* in[i] NULL when an optional input was not given; contiguous, on the backend */
    int n_in;
    tp_pval *p;              /* resolved params, indexed like op->params */
    tp_result *out;          /* the implementation fills out->image or out->table */
    tp_backend_id backend;
} tp_call;

/* Typed access to resolved parameters by name (the name must exist in the descriptor: else abort()). */
double tp_arg_f64(const tp_call *c, const char *name);
int64_t tp_arg_i64(const tp_call *c, const char *name);
bool tp_arg_bool(const tp_call *c, const char *name);
const char *tp_arg_str(const tp_call *c, const char *name);            /* ENUM */
bool tp_arg_is_none(const tp_call *c, const char *name);
/* FLOATSEQ expanded to `ndim` values (a single value is repeated); returns count given by the user. */
int tp_arg_seq(const tp_call *c, const char *name, int ndim, double *out);
const tp_footprint *tp_arg_footprint(const tp_call *c, const char *name);
int tp_arg_strlist(const tp_call *c, const char *name, char ***out);
const double *tp_arg_colors(const tp_call *c, const char *name, int *ncolors);
const tp_image *tp_arg_image(const tp_call *c, const char *name);

/* Prepare the image output of a call: allocates a contiguous image at the backend's location. On failure
 * the status is recorded in ctx. The dispatcher frees it if the implementation then fails. */
tp_status tp_out_image(tp_context *ctx, const tp_call *c, tp_dtype dtype, int ndim, const int64_t *shape,
                       int channel_axis);

typedef tp_status (*tp_op_fn)(tp_context *ctx, const tp_call *call);
/* Optional extra validation beyond the generic checks (cross-parameter rules). */
typedef tp_status (*tp_check_fn)(tp_context *ctx, const tp_call *call);

/* ---- parity contracts (declared per op; read by compare/) ---- */
typedef enum tp_contract_kind {
    TP_CONTRACT_EXACT = 0,   /* bit-identical output */
    TP_CONTRACT_ULP,         /* max ULP difference <= tol */
    TP_CONTRACT_REL,         /* max relative error <= tol */
    TP_CONTRACT_LABELS,      /* label images: identical numbering required (relabel-equivalence reported too) */
    TP_CONTRACT_TABLE        /* rows matched by label; float columns within tol relative, ints exact */
} tp_contract_kind;

typedef struct tp_contract {
    tp_contract_kind kind;
    double tol;
    const char *why;         /* why this contract holds (or why not exact) */
} tp_contract;

/* A set of parameter values the harness and benchmarks exercise: "name=value;name=value". */
typedef struct tp_case_desc {
    const char *params;
} tp_case_desc;

typedef struct tp_op_desc {
    const char *name;        /* twinpix and scikit-image name */
    const char *summary;     /* one line */
    const char *skimage;     /* the scikit-image function it reproduces, e.g. "skimage.filters.gaussian" */
    const tp_input_desc *inputs;
    int n_inputs;
    const tp_param_desc *params;
    int n_params;
    tp_output_kind output;
    tp_check_fn check;       /* may be NULL */
    tp_op_fn impl[TP_BACKEND_COUNT]; /* NULL slot = TP_ERR_UNSUPPORTED on that backend */
    tp_contract contract;
    const tp_case_desc *cases; /* parameter sets for harness and benchmarks; NULL-terminated by .params */
    const int64_t *bench_sizes_2d; /* square sizes, 0-terminated */
    const int64_t *bench_sizes_3d; /* cube sizes, 0-terminated */
    /* Input kind the harness/bench generate: "gray" (intensity), "mask" (bool), "labels" (int32 labels),
     * "rgb" (channel-last) */
    const char *input_kind;
    /* Inputs the benchmark passes (0: all, optional ones included): the call the target measures */
    int bench_inputs;
} tp_op_desc;

/* The registry (generated from the files in core/ops/). */
const tp_op_desc *tp_op_find(const char *name);
const tp_op_desc *tp_op_at(int i);

/* The CUDA entry of a descriptor exists only when CUDA is built. */
#ifdef TP_HAVE_CUDA
#define TP_CUDA_IMPL(fn) fn
#else
#define TP_CUDA_IMPL(fn) NULL
#endif

/* ---- backends: const tables of memory functions ---- */
typedef struct tp_backend {
    tp_backend_id id;
    const char *name;
    tp_location location;
    int (*available)(char *why, size_t why_len);
    tp_status (*alloc)(tp_context *ctx, size_t bytes, void **ptr);
    void (*free)(tp_context *ctx, void *ptr);
    /* copy bytes between host and this backend's memory (or within it) */
    tp_status (*copy)(tp_context *ctx, void *dst, tp_location dst_loc, const void *src, tp_location src_loc,
                      size_t bytes);
    tp_status (*memset0)(tp_context *ctx, void *ptr, size_t bytes);
    tp_status (*sync)(tp_context *ctx);
    /* page-lock / release a host byte span for this backend's copies (tp_image_pin); NULL: nothing to do */
    tp_status (*pin)(tp_context *ctx, void *host, size_t bytes);
    void (*unpin)(void *host);
} tp_backend;

const tp_backend *tp_backend_get(tp_backend_id id); /* NULL when not built */
extern const tp_backend tp_backend_cpu;
#ifdef TP_HAVE_CUDA
extern const tp_backend tp_backend_cuda;
#endif

/* Device facts for `twinpix info` and report meta; returns count of devices (0 when none). */
typedef struct tp_device_info {
    char name[128];
    int64_t total_mem;
    int sm_count;
    int cc_major, cc_minor;
    int driver_version, runtime_version;
    int64_t l2_bytes;
} tp_device_info;
int tp_cuda_devices(tp_device_info *out, int max, char *why, size_t why_len);
/* Device memory that twinpix holds now and at its peak (process-wide; reset_peak sets peak = current).
 * TWINPIX_DEVICE_MEM_LIMIT (bytes, or with K/M/G) caps it: allocations past it fail with
 * TP_ERR_DEVICE_NOMEM. */
int64_t tp_device_mem_current(void);
int64_t tp_device_mem_peak(void);
void tp_device_mem_reset_peak(void);
/* Parse "123", "512M", "2G" (binary units); -1 when malformed. */
int64_t tp_parse_bytes(const char *s);

/* Test seam: force tp_backend_available(TP_BACKEND_CUDA) to 0 or 1 (-1 restores the real probe). */
void tp_test_fake_cuda(int available);

/* Resolve a backend choice for a call (explicit, env, auto); exposed for tests of the policy. */
tp_backend_id tp_choose_backend(tp_context *ctx, const tp_op_desc *op, const tp_image *const *inputs,
                                int n_inputs);

/* ---- element access helpers for host code ---- */
double tp_get_f64(const void *data, tp_dtype t, int64_t i);
void tp_set_f64(void *data, tp_dtype t, int64_t i, double v); /* numpy astype semantics (truncation) */

/* ---- I/O by format (core/io_*.c); tp_read_image / tp_write_image and the table writers are public ---- */
tp_status tp_read_tiff(tp_context *ctx, const char *path, tp_image *img, tp_io_meta *meta);
tp_status tp_write_tiff(tp_context *ctx, const char *path, const tp_image *img);
tp_status tp_read_png(tp_context *ctx, const char *path, tp_image *img);
/* NumPy .npy (little-endian, C order): the lossless exchange format with Python (oracle tests). */
tp_status tp_read_npy(tp_context *ctx, const char *path, tp_image *img);
tp_status tp_write_npy(tp_context *ctx, const char *path, const tp_image *img);
tp_status tp_write_png(tp_context *ctx, const char *path, const tp_image *img);


/* Read a whole file, NUL-terminated, into *out (free() it); max_bytes > 0 caps the size (TP_ERR_IO past it).
 * Errors: TP_ERR_IO (cannot open, read error, too large), TP_ERR_NOMEM. */
tp_status tp_read_text_file(tp_context *ctx, const char *path, int64_t max_bytes, char **out, size_t *out_len);

/* Atomic file writing: open "<path>.tmp.XXXXXX" in the same folder; commit renames, abort unlinks. */
typedef struct tp_atomic_file {
    FILE *fp;
    char tmp[4096];
    char path[4096];
} tp_atomic_file;
tp_status tp_atomic_open(tp_context *ctx, const char *path, tp_atomic_file *af);
tp_status tp_atomic_commit(tp_context *ctx, tp_atomic_file *af);
void tp_atomic_abort(tp_atomic_file *af);

/* ---- digests (core/digest.c): `twinpix run`'s stage parity and the tests' pipeline fingerprints ---- */
/* XXH64 (xxHash's 64-bit hash) of len bytes; data may be NULL when len is 0. */
uint64_t tp_xxh64(const void *data, size_t len, uint64_t seed);
/* XXH64 of an array of `dtype` elements (len bytes, whole elements), with every NaN of a float32 or float64
 * array hashed as numpy's np.nan (positive, quiet, zero payload): arrays equal under compare/'s exact
 * contract (same bits, or NaN against any NaN: tp_float_elem_same) hash alike, as the backends need not
 * write the same NaN (docs/nonfinite.md). Any other dtype, or NaN-free data: exactly tp_xxh64. */
uint64_t tp_xxh64_values(const void *data, size_t len, tp_dtype dtype, uint64_t seed);

/* Result digest (twinpix.digest/2): a 64-bit hash of a result, the same wherever the result lives.
 *  - image (and scalar, a 1-element image): its contiguous bytes in C order are cut into chunks of
 *    TP_DIGEST_CHUNK bytes (the last one shorter); chunk k hashes to tp_xxh64_values(chunk, seed k); the
 *    digest is XXH64 of the little-endian record {"tpimg1", dtype name + NUL, ndim, shape[ndim], chunk
 *    count, chunk hashes}, seed 0. Chunks hash in parallel (OpenMP); a device image is downloaded a block of
 *    TP_DIGEST_BLOCK bytes at a time into the digester's reusable host buffer, so no full host copy is made.
 *  - table: XXH64 of {"tptab1", nrows, ncols, then per column name + NUL, dtype name + NUL,
 *    tp_xxh64_values of its data (seed = column index)}.
 * Equal digests mean equal dtype, shape and values, NaNs equal whatever their bits (up to a 2^-64
 * collision). /1 hashed NaNs' raw bits; the two agree on every result without a NaN. */
#define TP_DIGEST_CHUNK ((int64_t)16 << 20)
#define TP_DIGEST_BLOCK ((int64_t)256 << 20)

typedef struct tp_digester {
    void *buf;          /* host staging buffer for device images, TP_DIGEST_BLOCK bytes at most */
    int64_t cap;
    int threads;        /* OpenMP threads hashing chunks */
    int64_t downloaded; /* bytes copied from the device so far */
} tp_digester;

void tp_digester_init(tp_digester *d, int threads);
void tp_digester_free(tp_digester *d);
tp_status tp_result_digest(tp_context *ctx, tp_digester *d, const tp_result *r, uint64_t *out);

/* ---- report metadata shared by compare/ and bench/ (core/meta.c) ---- */
typedef struct tp_meta {
    char version[32];
    char git_commit[48];
    char build_flags[256];   /* "cuda=on sm_90 openmp=on ..." */
    char host_cpu[128];
    int host_threads;
    char hostname[128];
    int cuda_built;
    int gpu_count;
    tp_device_info gpu;      /* device 0 when gpu_count > 0 */
    char gpu_why[256];       /* why no GPU, when gpu_count == 0 */
} tp_meta;
void tp_meta_collect(tp_meta *m);

#ifdef __cplusplus
}
#endif
#endif

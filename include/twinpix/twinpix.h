/*
 * twinpix: scikit-image's bioimage operations in C, twice (CPU reference and CUDA), behind one interface.
 *
 * Conventions of the whole API:
 *  - Every function that can fail returns a tp_status: 0 (TP_OK) is success, negative is an error.
 *    tp_status_str() names a code; tp_last_error(ctx) gives the detail of the last failure on that context
 *    (which argument, what was expected, what came). There is no global error state: use one context per
 *    thread.
 *  - Images are values (tp_image) that may own their buffer. Outputs are written only on success: a failing
 *    call leaves its output image empty (data == NULL) and allocates nothing that outlives the call.
 *  - Sizes and offsets are 64-bit everywhere, and every size product is overflow-checked.
 */
#ifndef TWINPIX_H
#define TWINPIX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TP_VERSION_MAJOR 0
#define TP_VERSION_MINOR 1
#define TP_VERSION_PATCH 0
#define TP_VERSION_STRING "0.1.0"

/* ---- status codes (grouped; stable values) ---- */
typedef enum tp_status {
    TP_OK = 0,
    TP_ERR_ARG = -1,          /* a parameter's value is invalid (name, range, type) */
    TP_ERR_SHAPE = -2,        /* an image's shape or dimensionality is not accepted */
    TP_ERR_DTYPE = -3,        /* an image's dtype is not accepted */
    TP_ERR_NOMEM = -4,        /* host allocation failed */
    TP_ERR_DEVICE_NOMEM = -5, /* device allocation failed (or exceeds TWINPIX_DEVICE_MEM_LIMIT) */
    TP_ERR_IO = -6,           /* reading or writing a file failed, or the file is malformed */
    TP_ERR_NO_DEVICE = -7,    /* the CUDA backend is not built or no usable device is present */
    TP_ERR_UNSUPPORTED = -8,  /* this backend does not implement this op or this case */
    TP_ERR_CUDA = -9,         /* a CUDA call failed (other than out-of-memory) */
    TP_ERR_OVERFLOW = -10,    /* a size computation overflowed */
    TP_ERR_INTERNAL = -11     /* a bug: an invariant did not hold */
} tp_status;

const char *tp_status_str(tp_status s);

/* ---- element types ---- */
typedef enum tp_dtype {
    TP_BOOL = 0, /* one byte, 0 or 1 */
    TP_UINT8,
    TP_INT8,
    TP_UINT16,
    TP_INT16,
    TP_UINT32,
    TP_INT32,
    TP_INT64,
    TP_FLOAT32,
    TP_FLOAT64,
    TP_DTYPE_COUNT
} tp_dtype;

size_t tp_dtype_size(tp_dtype t);
const char *tp_dtype_name(tp_dtype t); /* numpy's names: "bool", "uint8", ..., "float64" */
int tp_dtype_from_name(const char *name, tp_dtype *out); /* 0 on success, -1 unknown */
int tp_dtype_is_float(tp_dtype t);
int tp_dtype_is_signed(tp_dtype t);

/* ---- where data lives ---- */
typedef enum tp_location { TP_HOST = 0, TP_DEVICE = 1 } tp_location;

typedef enum tp_backend_id { TP_BACKEND_CPU = 0, TP_BACKEND_CUDA = 1, TP_BACKEND_COUNT = 2 } tp_backend_id;

typedef enum tp_backend_choice { TP_CHOOSE_CPU = 0, TP_CHOOSE_CUDA = 1, TP_CHOOSE_AUTO = 2 } tp_backend_choice;

/* ---- the image ----
 * Up to 4 axes in C order. Spatial axes are (y, x) or (z, y, x); an optional channel axis sits anywhere
 * (scikit-image's channel_axis), usually last. strides are in bytes. */
#define TP_MAX_DIMS 4

typedef struct tp_image {
    void *data;
    tp_dtype dtype;
    int ndim;                      /* number of axes, channel axis included */
    int64_t shape[TP_MAX_DIMS];
    int64_t strides[TP_MAX_DIMS];  /* bytes */
    int channel_axis;              /* -1: no channel axis */
    tp_location location;
    int device;                    /* CUDA ordinal when location == TP_DEVICE */
    int owns;                      /* tp_image_free releases data */
    double spacing[3];             /* physical spacing of the spatial axes (e.g. ImageJ z-spacing); 1 default */
} tp_image;

struct tp_context;
typedef struct tp_context tp_context;

/* An empty image (data NULL). Every tp_image must start from this or from a successful producer. */
tp_image tp_image_empty(void);
/* Allocate a contiguous image (uninitialised) on the host or the context's device. */
tp_status tp_image_alloc(tp_context *ctx, tp_image *img, tp_dtype dtype, int ndim, const int64_t *shape,
                         int channel_axis, tp_location where);
/* Wrap caller memory (contiguous, C order) without taking ownership. */
tp_image tp_image_wrap(void *data, tp_dtype dtype, int ndim, const int64_t *shape, int channel_axis,
                       tp_location where);
/* Release an owned buffer (host or device) and reset to empty; safe on empty or borrowed images. */
void tp_image_free(tp_image *img);
int64_t tp_image_count(const tp_image *img);        /* number of elements (all axes) */
int tp_image_spatial_ndim(const tp_image *img);     /* ndim minus the channel axis */
int64_t tp_image_channels(const tp_image *img);     /* 1 when no channel axis */
int tp_image_is_contiguous(const tp_image *img);
/* Copy into a new owned contiguous image at `where` (host<->device transfers are explicit here). */
tp_status tp_image_copy(tp_context *ctx, const tp_image *src, tp_image *dst, tp_location where);
/* Convert element type, numpy astype semantics (float->int truncates; no scaling). Host images. */
tp_status tp_image_astype(tp_context *ctx, const tp_image *src, tp_image *dst, tp_dtype dtype);
/* Page-lock a host image's buffer (cudaHostRegister, portable: for every device) so that its host<->device
 * copies (tp_image_copy, the dispatcher's staging of host inputs) are direct DMA instead of going through
 * the pinned staging buffer: for an image uploaded or downloaded many times. A strided view pins the byte
 * span its elements cover. A hint: without the CUDA backend (a CPU-only build, or no usable device) it
 * returns TP_OK and does nothing; memory already registered (by this call or by the caller) is not an error.
 * Pinning takes time in proportion to the buffer (every page is locked): pin once, keep it for the image's
 * lifetime, and call tp_image_unpin before freeing the buffer. Errors: TP_ERR_ARG (img NULL or empty, or a
 * device image), TP_ERR_CUDA (the driver refused, e.g. too much locked memory). */
tp_status tp_image_pin(tp_context *ctx, const tp_image *img);
/* Undo tp_image_pin (cudaHostUnregister of the same span). Safe on any image: an empty one, a device one,
 * one never pinned, or in a build or on a machine without CUDA, it does nothing (and leaves no CUDA error
 * behind). Memory the caller page-locked itself (cudaMallocHost) is left to the caller. */
void tp_image_unpin(const tp_image *img);

/* ---- tables (regionprops_table's output): named columns of equal length, host memory ---- */
typedef struct tp_column {
    char name[64];     /* scikit-image's column name, e.g. "bbox-0", "intensity_mean" */
    tp_dtype dtype;    /* TP_INT64 or TP_FLOAT64 (TP_FLOAT32 where scikit-image keeps float32) */
    void *data;
} tp_column;

typedef struct tp_table {
    int64_t nrows;
    int ncols;
    tp_column *cols;
} tp_table;

tp_table tp_table_empty(void);
void tp_table_free(tp_table *t);
/* Append a zero-filled column of t->nrows rows. */
tp_status tp_table_add_column(tp_context *ctx, tp_table *t, const char *name, tp_dtype dtype);
const tp_column *tp_table_find(const tp_table *t, const char *name);
double tp_table_get(const tp_table *t, int col, int64_t row);

/* ---- footprints (structuring elements) ---- */
typedef struct tp_footprint {
    int ndim;              /* 2 or 3 */
    int64_t shape[3];
    uint8_t *data;         /* C order, nonzero = in the footprint; owned */
} tp_footprint;

/* Parse "disk:2", "square:3", "rectangle:3x5", "diamond:1", "ball:1", "cube:3", "octahedron:1",
 * "cuboid:3x3x5", "cross" (connectivity 1, 2D), "cross3" (3D), or a TIFF file path. */
tp_status tp_footprint_parse(tp_context *ctx, const char *spec, tp_footprint *fp);
tp_status tp_footprint_from_image(tp_context *ctx, const tp_image *img, tp_footprint *fp);
void tp_footprint_free(tp_footprint *fp);

/* ---- the context ---- */
tp_status tp_context_create(tp_context **ctx);
void tp_context_destroy(tp_context *ctx);
/* The backend used by tp_run; TWINPIX_BACKEND=cpu|cuda|auto in the environment overrides it. */
tp_status tp_context_set_backend(tp_context *ctx, tp_backend_choice choice);
tp_backend_choice tp_context_backend(const tp_context *ctx);
/* CPU threads for OpenMP regions (0 = all available). */
tp_status tp_context_set_threads(tp_context *ctx, int threads);
int tp_context_threads(const tp_context *ctx);
/* CUDA device ordinal and stream (a cudaStream_t; NULL = the context's own stream). */
tp_status tp_context_set_device(tp_context *ctx, int device);
tp_status tp_context_set_stream(tp_context *ctx, void *stream);
const char *tp_last_error(const tp_context *ctx);
/* Block until all queued work of the context (device stream) has finished. */
tp_status tp_context_sync(tp_context *ctx);

/* Is the backend usable here? why receives the reason when not (e.g. "no CUDA device: ..."). */
int tp_backend_available(tp_backend_id b, char *why, size_t why_len);
const char *tp_backend_name(tp_backend_id b);

/* ---- parameters, by name, as scikit-image names them ----
 * Values are given as text ("5", "2.5,3", "nearest", "disk:2", "none", "area,solidity") or typed; the
 * dispatcher parses and validates them once against the op's descriptor. */
typedef struct tp_params tp_params;
tp_status tp_params_create(tp_params **p);
void tp_params_destroy(tp_params *p);
tp_status tp_params_set(tp_params *p, const char *name, const char *value);
tp_status tp_params_set_f64(tp_params *p, const char *name, double v);
tp_status tp_params_set_i64(tp_params *p, const char *name, int64_t v);
/* Borrowed: the footprint must outlive the calls that use p. */
tp_status tp_params_set_footprint(tp_params *p, const char *name, const tp_footprint *fp);
/* Borrowed image parameter (e.g. threshold's "threshold" as a 1-element image, possibly on the device). */
tp_status tp_params_set_image(tp_params *p, const char *name, const tp_image *img);

/* ---- running operations ---- */
typedef enum tp_output_kind { TP_OUT_IMAGE = 0, TP_OUT_SCALAR = 1, TP_OUT_TABLE = 2 } tp_output_kind;

/* What an op produced. A scalar is a 1-element float64 image, so it can stay on the device. */
typedef struct tp_result {
    tp_output_kind kind;
    tp_image image;
    tp_table table;
    tp_backend_id backend; /* the backend that ran */
} tp_result;

tp_result tp_result_empty(void);
void tp_result_free(tp_result *r);
/* Read a scalar result (copies from the device if needed). */
tp_status tp_result_scalar(tp_context *ctx, const tp_result *r, double *value);

/* Run the op NAME on inputs[0..n_inputs). The output lives where inputs[0] lives, except after the auto
 * backend fell back to the CPU because the device was out of memory: then it may stay on the host
 * (out->image.location says where). */
tp_status tp_run(tp_context *ctx, const char *name, const tp_image *const *inputs, int n_inputs,
                 const tp_params *params, tp_result *out);
/* As tp_run, on a named backend regardless of the context's choice. */
tp_status tp_run_on(tp_context *ctx, tp_backend_id backend, const char *name, const tp_image *const *inputs,
                    int n_inputs, const tp_params *params, tp_result *out);

/* ---- files ---- */
typedef struct tp_io_meta {
    double spacing[3];      /* z, y, x spacing (ImageJ "spacing=" for z; resolution tags for y,x) */
    char unit[32];
    int imagej;             /* read from an ImageJ file */
} tp_io_meta;

/* Read an image by extension (.tif/.tiff/.png/.npy). TIFF multi-page -> 3D, samples -> channel axis last,
 * ImageJ hyperstacks with channels -> channel axis first (CYX / ZCYX as ImageJ stores them). */
tp_status tp_read_image(tp_context *ctx, const char *path, tp_image *img, tp_io_meta *meta);
/* Write by extension; writes to a temporary file in the same folder and renames on success. */
tp_status tp_write_image(tp_context *ctx, const char *path, const tp_image *img);

/* Tables: CSV (pandas-readable, header row) and JSON ({"col": [..], ...}, like regionprops_table's dict). */
tp_status tp_write_table_csv(tp_context *ctx, const char *path, const tp_table *t);
tp_status tp_write_table_json(tp_context *ctx, const char *path, const tp_table *t);
tp_status tp_read_table_csv(tp_context *ctx, const char *path, tp_table *t);

/* ---- introspection of the operation descriptors ---- */
int tp_op_count(void);
const char *tp_op_name(int i);

#ifdef __cplusplus
}
#endif
#endif

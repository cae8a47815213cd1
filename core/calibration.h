/* The auto backend's cost model. Per op and backend, time(n) = fixed_ms + ns_per_px * n * 1e-6 (n pixels);
 * host<->device transfers cost latency_ms + bytes / bandwidth. The GPU wins a single call from the host when
 * cpu(n) > h2d + cuda(n) + d2h; a chain of calls is decided as a whole (one upload, one download).
 * Values come from a calibration file (`twinpix calibrate`, TWINPIX_CALIBRATION or the per-user default
 * ~/.config/twinpix/calibration.json) or, without one, from built-in defaults measured on the H100. */
#ifndef TP_CORE_CALIBRATION_H
#define TP_CORE_CALIBRATION_H
#include "twinpix/internal.h"

#define TP_CALIBRATION_SCHEMA "twinpix.calibration/1"

typedef struct tp_cost {
    double fixed_ms;
    double ns_per_px;
} tp_cost;

typedef struct tp_op_costs {
    char op[48];
    tp_cost cpu, cuda;
} tp_op_costs;

typedef struct tp_calibration {
    char source[4096];       /* the file it came from, or "built-in defaults (...)" */
    double h2d_gbs, d2h_gbs; /* host<->device bandwidth */
    double transfer_latency_ms;
    int n;
    tp_op_costs ops[64];
} tp_calibration;

/* The calibration in force (loaded once per process; a bad file warns on stderr and falls back). */
const tp_calibration *tp_calibration_get(void);
/* Load and validate a file; on failure returns TP_ERR_IO/TP_ERR_ARG with the reason in ctx. */
tp_status tp_calibration_load(tp_context *ctx, const char *path, tp_calibration *out);
tp_status tp_calibration_save(tp_context *ctx, const char *path, const tp_calibration *c);
void tp_calibration_defaults(tp_calibration *c);
/* The default file path: $TWINPIX_CALIBRATION, else $XDG_CONFIG_HOME or ~/.config /twinpix/calibration.json */
void tp_calibration_default_path(char *out, size_t n);
/* Drop the cached calibration so the next tp_calibration_get() reloads (tests). */
void tp_calibration_reset(void);

/* Predicted times for one op on n pixels with `bytes_in`/`bytes_out` to move when data starts on the host. */
double tp_predict_cpu_ms(const tp_calibration *c, const char *op, int64_t n);
double tp_predict_cuda_ms(const tp_calibration *c, const char *op, int64_t n);
double tp_predict_transfer_ms(const tp_calibration *c, int64_t bytes, int to_device);
/* Smallest n (pixels) from which the GPU including transfers beats the CPU for a single host-side call
 * (uint8 in, same-size float32 out as a typical case); -1 when never. */
int64_t tp_calibration_crossover(const char *op, const char **rule);

/* Choose a backend for a chain of ops over n pixels of input starting on the host (in_bytes up,
 * out_bytes down); *why receives the rule and the predicted times. */
tp_backend_id tp_choose_chain(tp_context *ctx, const char *const *ops, int n_ops, int64_t pixels, int64_t in_bytes,
                              int64_t out_bytes, char *why, size_t why_len);
#endif

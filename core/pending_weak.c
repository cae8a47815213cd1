/* TEMPORARY (removed when every file it stands in for has landed): weak fallbacks so the tree links while
 * helpers write the real definitions. A strong definition anywhere replaces each one. */
#include "twinpix/internal.h"
#include "datasets/datasets.h"

#define WEAK __attribute__((weak))
#define PENDING(ctx, what) tp_error(ctx, TP_ERR_UNSUPPORTED, "%s is not implemented yet", what)

WEAK tp_status tp_read_tiff(tp_context *ctx, const char *p, tp_image *i, tp_io_meta *m) { (void)p; (void)i; (void)m; return PENDING(ctx, "TIFF reading"); }
WEAK tp_status tp_write_tiff(tp_context *ctx, const char *p, const tp_image *i) { (void)p; (void)i; return PENDING(ctx, "TIFF writing"); }
WEAK tp_status tp_read_png(tp_context *ctx, const char *p, tp_image *i) { (void)p; (void)i; return PENDING(ctx, "PNG reading"); }
WEAK tp_status tp_write_png(tp_context *ctx, const char *p, const tp_image *i) { (void)p; (void)i; return PENDING(ctx, "PNG writing"); }
WEAK tp_status tp_write_table_csv(tp_context *ctx, const char *p, const tp_table *t) { (void)p; (void)t; return PENDING(ctx, "CSV writing"); }
WEAK tp_status tp_write_table_json(tp_context *ctx, const char *p, const tp_table *t) { (void)p; (void)t; return PENDING(ctx, "JSON writing"); }
WEAK tp_status tp_read_table_csv(tp_context *ctx, const char *p, tp_table *t) { (void)p; (void)t; return PENDING(ctx, "CSV reading"); }
WEAK int tp_datasets_list(tp_dataset *out, int max) { (void)out; (void)max; return 0; }
WEAK tp_status tp_dataset_find(tp_context *ctx, const char *n, tp_dataset *o) { (void)n; (void)o; return PENDING(ctx, "datasets"); }
WEAK tp_status tp_dataset_default(tp_context *ctx, tp_dataset *o) { (void)o; return PENDING(ctx, "datasets"); }
WEAK tp_status tp_dataset_load(tp_context *ctx, const tp_dataset *d, tp_image *i) { (void)d; (void)i; return PENDING(ctx, "datasets"); }
WEAK tp_status tp_synth_nuclei(tp_context *ctx, const tp_synth_params *p, tp_image *i, tp_image *l) { (void)p; (void)i; (void)l; return PENDING(ctx, "synthetic images"); }
WEAK tp_status tp_synth_input(tp_context *ctx, const char *k, int nd, const int64_t *s, tp_dtype t, uint64_t seed, tp_image *o) { (void)k; (void)nd; (void)s; (void)t; (void)seed; (void)o; return PENDING(ctx, "synthetic inputs"); }

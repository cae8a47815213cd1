/* Small helpers shared by the CLI commands. */
#ifndef TP_CLI_UTIL_H
#define TP_CLI_UTIL_H
#include "cli/commands.h"
#include "twinpix/internal.h"

/* Map a status to the documented exit code. */
int tp_cli_exit_code(tp_status st);
/* Print "twinpix CMD: <status>: <detail>" on stderr and return the exit code. */
int tp_cli_fail(tp_context *ctx, const char *cmd, tp_status st);
int tp_cli_has_suffix(const char *s, const char *suffix);
/* Parse --backend values; -1 when unknown. */
int tp_cli_backend(const char *s, tp_backend_choice *out);
/* Write an op result to a path by extension: images (.tif/.tiff/.png/.npy; float [0,1] images to PNG as
 * 8-bit), tables (.csv/.json), scalars (.json/.txt). */
tp_status tp_cli_write_result(tp_context *ctx, const char *path, const tp_result *r);
double tp_cli_now_ms(void);
#endif

/* Helpers of `twinpix run` (cli/cmd_run.c): the size of a result and the process's memory as Linux reports
 * it. Its stage digests (tp_result_digest, twinpix.digest/2) are core/digest.c's, declared in
 * include/twinpix/internal.h. */
#ifndef TP_CLI_RUN_UTIL_H
#define TP_CLI_RUN_UTIL_H
#include "twinpix/internal.h"

/* Bytes of a result's data (image or table). */
int64_t tp_result_bytes(const tp_result *r);

/* /proc/self/status: peak (VmHWM) and current (VmRSS) resident set, bytes; -1 when unknown. */
int64_t tp_rss_peak_bytes(void);
int64_t tp_rss_now_bytes(void);
/* Reset VmHWM to the current RSS (writes 5 to /proc/self/clear_refs, Linux >= 4.0); 0 on success. */
int tp_rss_reset_peak(void);
#endif

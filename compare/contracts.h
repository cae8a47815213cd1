/* Parity contracts evaluated on two results (the CPU reference and the candidate, normally CUDA).
 *
 * This is the judging half of `twinpix compare`, kept apart from running anything so that tests can feed
 * it hand-made or deliberately corrupted results without a GPU and prove that it catches what it must. */
#ifndef TP_COMPARE_CONTRACTS_H
#define TP_COMPARE_CONTRACTS_H
#include "twinpix/internal.h"

#include <cjson/cJSON.h>

/* What a comparison found. Images and scalars fill the element metrics; label images also the partition
 * flags; tables the row and cell metrics. */
typedef struct tp_case_metrics {
    bool pass;
    int64_t compared;   /* elements (images) or cells (tables) compared */
    int64_t mismatches; /* elements or cells that break the contract (exact: differ at all; NaN matches NaN) */
    double max_abs;     /* over every compared value, within tolerance or not */
    double max_rel;     /* |gpu - cpu| / max(|cpu|, |gpu|), 0 when both are 0 */
    double max_ulp;     /* float: distance in units in the last place of the dtype; integers: |gpu - cpu| */
    char note[256];     /* a structural difference (kind, dtype, shape, columns, rows), "" when none */

    bool has_first; /* first mismatch, in C order (images) or CPU row order (tables) */
    int first_ndim;
    int64_t first_index[TP_MAX_DIMS];
    double first_cpu, first_gpu;

    bool is_labels;      /* TP_CONTRACT_LABELS */
    bool same_numbering; /* every pixel carries the same label */
    bool same_partition; /* the same regions up to a renumbering (background 0 stays 0) */

    bool is_table; /* TP_CONTRACT_TABLE */
    int64_t rows_cpu, rows_gpu;
    int64_t first_row;     /* CPU row (GPU row when the row exists only there) */
    int64_t first_label;   /* the row's "label" value; row index when the table has no label column */
    char first_column[64]; /* "" when the whole row is missing on one side */
    int first_missing;     /* 0: values differ; 1: row missing on the GPU side; 2: row only on the GPU side */
} tp_case_metrics;

/* Judge `gpu` against `cpu` with the op's contract. Both results must be on the host (download device
 * images first). Fills *out and returns out->pass. Never fails: structural differences (kind, dtype, shape,
 * columns) are verdicts, written to out->note. */
bool tp_contract_eval(const tp_op_desc *op, const tp_result *cpu, const tp_result *gpu, tp_case_metrics *out);
/* The same with an explicit contract (the op's name is only used for messages; may be NULL). */
bool tp_contract_eval_with(const tp_contract *contract, const tp_result *cpu, const tp_result *gpu,
                           tp_case_metrics *out);

const char *tp_contract_kind_name(tp_contract_kind k); /* "exact", "ulp", "relative", "labels", "table" */

/* The NaN rule of every float comparison (docs/nonfinite.md): two float32 (t == TP_FLOAT32) or float64
 * elements agree when both are NaN, whatever their sign, quiet bit and payload, or when their bits are
 * identical (so -0.0 and +0.0 differ, and a NaN never matches a number). */
bool tp_float_elem_same(tp_dtype t, const void *a, const void *b);

/* The "metrics" object of a case in compare.json (new cJSON object, NULL on allocation failure). */
cJSON *tp_metrics_to_json(const tp_case_metrics *m);
/* A one-line description of the first mismatch (or the note), for text and JUnit reports. */
void tp_metrics_describe(const tp_case_metrics *m, char *buf, size_t len);
#endif

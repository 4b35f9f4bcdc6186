/*
 * op_filter.h - WHERE: keep the rows whose keep ctl is 1, in input order.
 * The keep ctls come from the expression evaluator (one per row).
 */
#ifndef TEESPARK_OPS_OP_FILTER_H
#define TEESPARK_OPS_OP_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "op_common.h"

/*
 * Oblivious filter: the kept real rows (keep[i] == 1 and in->is_real) go
 * to out[0..m) in their input order; out has cap slots (cap = in->n keeps
 * every possible row; a smaller caller-given bound pads to that bound);
 * out_is_real[i] = (i < m); slots >= m are all-zero dummies. *m is SECRET
 * (the number of kept rows) until the caller declassifies it. Built as a
 * copy + obl_compact (Goodrich's order-preserving compaction).
 * Work: obl_filter_work_bytes(n, row_size).
 * Leaks: n, row_size, cap.  Hides: keep flags, which rows pass, m, rows.
 */
int obl_filter(const struct obl_table *in, const uint32_t *keep,
		uint8_t *out, uint32_t *out_is_real, size_t cap, uint64_t *m,
		struct obl_arena *arena);
size_t obl_filter_work_bytes(size_t n, size_t row_size);

/*
 * Encrypted-mode filter: same contract and outputs (out_is_real, dummies,
 * *m), by a plain loop copying kept rows.
 * NOT oblivious: leaks access patterns (which rows are kept, m).
 */
int op_filter_fast(const struct obl_table *in, const uint32_t *keep,
		uint8_t *out, uint32_t *out_is_real, size_t cap, uint64_t *m);

#endif /* TEESPARK_OPS_OP_FILTER_H */

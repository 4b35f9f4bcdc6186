/*
 * op_union_distinct.h - UNION ALL and DISTINCT.
 */
#ifndef TEESPARK_OPS_OP_UNION_DISTINCT_H
#define TEESPARK_OPS_OP_UNION_DISTINCT_H

#include <stddef.h>
#include <stdint.h>

#include "key_encode_nulls.h"
#include "op_common.h"

/*
 * UNION ALL of two batches with the same row size: out (a->n + b->n
 * slots) = a's rows then b's rows, out_is_real copied from the inputs
 * (dummies stay dummies, zeroed). Nothing data-dependent happens.
 * Leaks: n_a, n_b, row_size.  Hides: rows, which are dummies.
 */
int obl_union_all(const struct obl_table *a, const struct obl_table *b,
		uint8_t *out, uint32_t *out_is_real);

/*
 * Oblivious DISTINCT on the key columns given (pass every column for
 * SELECT DISTINCT *): records [dummy flag | key | row], obl_sort_bitonic,
 * mark the first row of each key run (obl_scan_segmented_starts) among the
 * real rows, obl_compact. Rows are equal when their encoded keys are (NULLs
 * equal each other, FLOAT64 -0.0 == +0.0, NaN == NaN); the row kept for a
 * run is one of its rows. out: cap slots, distinct rows in key order first,
 * *m SECRET; cap = n never truncates.
 * Leaks: n, row_size, the key specs, cap.  Hides: keys, duplicates, m.
 */
int obl_distinct(const struct obl_table *in, const struct obl_key_spec *keys,
		size_t nkeys, uint8_t *out, uint32_t *out_is_real, size_t cap,
		uint64_t *m, struct obl_arena *arena);
size_t obl_distinct_work_bytes(size_t n, size_t row_size,
		const struct obl_key_spec *keys, size_t nkeys);

/*
 * Encrypted-mode DISTINCT: same contract and output, by merge sort and a
 * branchy pass. Work: obl_distinct_work_bytes() * 2 suffices.
 * NOT oblivious: leaks access patterns (duplicates, m).
 */
int op_distinct_fast(const struct obl_table *in,
		const struct obl_key_spec *keys, size_t nkeys, uint8_t *out,
		uint32_t *out_is_real, size_t cap, uint64_t *m,
		struct obl_arena *arena);

#endif /* TEESPARK_OPS_OP_UNION_DISTINCT_H */

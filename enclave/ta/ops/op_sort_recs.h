/*
 * op_sort_recs.h - the sort records of op_sort.c / op_limit.c (internal):
 * [dummy flag | key words | row], dummies after every real row.
 */
#ifndef TEESPARK_OPS_OP_SORT_RECS_H
#define TEESPARK_OPS_OP_SORT_RECS_H

#include <stddef.h>
#include <stdint.h>

#include "key_encode_nulls.h"
#include "op_common.h"

void obl_sort_recs_layout(struct obl_rec_layout *l, size_t row_size,
		const struct obl_key_spec *keys, size_t nkeys);

/* Records first .. first + count - 1 from rows from .. from + count - 1.
 * Leaks: count, positions, sizes, the key specs.  Hides: rows, keys,
 * NULLs, is_real. */
void obl_sort_recs_build(uint8_t *recs, const struct obl_rec_layout *l,
		size_t first, const struct obl_table *in, size_t from, size_t count,
		const struct obl_key_spec *keys, size_t nkeys);

/* Rows of the first min(n, cap) records to out (cap slots, is_real from
 * the dummy flag, dummies zeroed); returns the number of real slots
 * (SECRET).
 * Leaks: n, cap, sizes.  Hides: flags, rows. */
uint64_t obl_sort_recs_emit(const uint8_t *recs, const struct obl_rec_layout *l,
		size_t n, uint8_t *out, uint32_t *out_is_real, size_t cap);

#endif /* TEESPARK_OPS_OP_SORT_RECS_H */

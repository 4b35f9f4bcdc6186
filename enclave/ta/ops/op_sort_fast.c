/*
 * op_sort_fast.c - NOT oblivious: leaks access patterns. The encrypted-mode
 * ORDER BY, LIMIT and top-k (see op_sort.h): merge sort and plain loops.
 */
#include "op_sort.h"

#include <string.h>

#include "../trace.h"
#include "fast_sort.h"
#include "op_sort_recs.h"

size_t op_sort_fast_work_bytes(size_t n, size_t row_size,
		const struct obl_key_spec *keys, size_t nkeys)
{
	struct obl_rec_layout l;

	obl_sort_recs_layout(&l, row_size, keys, nkeys);
	return 2 * obl_arena_cost(n * l.rec_size);
}

/* NOT oblivious: sorts everything, then copies the first cap. */
static int fast_sorted(const struct obl_table *in,
		const struct obl_key_spec *keys, size_t nkeys, uint8_t *out,
		uint32_t *out_is_real, size_t cap, uint64_t *m,
		struct obl_arena *arena)
{
	size_t mark = arena->used, n = in->n, i, real = 0;
	struct obl_rec_layout l;
	uint8_t *recs, *tmp;

	if (in->row_size == 0 || nkeys == 0 ||
			obl_key_spec_check(keys, nkeys, in->row_size) != 0 ||
			obl_key_spec_words(keys, nkeys) == 0)
		return OBL_ERR_PARAM;
	obl_sort_recs_layout(&l, in->row_size, keys, nkeys);
	recs = obl_arena_alloc(arena, n * l.rec_size);
	tmp = obl_arena_alloc(arena, n * l.rec_size);
	if (n > 0 && (recs == NULL || tmp == NULL)) {
		arena->used = mark;
		return OBL_ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		uint64_t *w = obl_rec_words(recs, &l, i);
		const uint8_t *row = in->rows + i * in->row_size;

		if (in->is_real != NULL && !in->is_real[i]) {
			w[0] = 1;
			continue;    /* dummies: no key needed */
		}
		(void)obl_key_spec_encode_row(row, keys, nkeys, w + 1);
		memcpy(obl_rec_row(recs, &l, i), row, in->row_size);
		real++;
	}
	fast_sort_recs(recs, n, l.rec_size, l.key_words, tmp);
	for (i = 0; i < cap; i++) {
		out_is_real[i] = i < real;
		if (i < real) {
			memcpy(out + i * in->row_size, obl_rec_row(recs, &l, i),
				in->row_size);
			OBL_TRACE_WRITE(OBL_BUF_OUT, i);
		} else {
			memset(out + i * in->row_size, 0, in->row_size);
		}
	}
	*m = real < cap ? real : cap;
	arena->used = mark;
	return OBL_OK;
}

/* NOT oblivious: leaks access patterns. */
int op_sort_rows_fast(const struct obl_table *in,
		const struct obl_key_spec *keys, size_t nkeys, uint8_t *out,
		uint32_t *out_is_real, uint64_t *m, struct obl_arena *arena)
{
	return fast_sorted(in, keys, nkeys, out, out_is_real, in->n, m, arena);
}

/* NOT oblivious: leaks access patterns. */
int op_topk_fast(const struct obl_table *in, const struct obl_key_spec *keys,
		size_t nkeys, size_t k, uint8_t *out, uint32_t *out_is_real,
		uint64_t *m, struct obl_arena *arena)
{
	return fast_sorted(in, keys, nkeys, out, out_is_real, k, m, arena);
}

/* NOT oblivious: skips dummies with a branch. */
int op_limit_fast(const struct obl_table *in, size_t k, uint8_t *out,
		uint32_t *out_is_real, uint64_t *m)
{
	size_t i, got = 0, rs = in->row_size;

	if (rs == 0)
		return OBL_ERR_PARAM;
	for (i = 0; i < in->n && got < k; i++) {
		if (in->is_real != NULL && !in->is_real[i])
			continue;
		OBL_TRACE_READ(OBL_BUF_ROWS, i);
		memcpy(out + got * rs, in->rows + i * rs, rs);
		out_is_real[got++] = 1;
	}
	for (i = got; i < k; i++) {
		memset(out + i * rs, 0, rs);
		out_is_real[i] = 0;
	}
	*m = got;
	return OBL_OK;
}

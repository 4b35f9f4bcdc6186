/*
 * op_union_distinct.c - obl_union_all and obl_distinct (see
 * op_union_distinct.h). Distinct records: [dummy flag | key | row], the
 * layout of op_sort_recs.h.
 */
#include "op_union_distinct.h"

#include <string.h>

#include "../ct.h"
#include "../trace.h"
#include "compact_or.h"
#include "op_sort_recs.h"
#include "scan_segmented.h"
#include "sort_bitonic.h"

/* see op_union_distinct.h */
int obl_union_all(const struct obl_table *a, const struct obl_table *b,
		uint8_t *out, uint32_t *out_is_real)
{
	size_t rs = a->row_size, i;

	if (rs == 0 || b->row_size != rs)
		return OBL_ERR_PARAM;
	for (i = 0; i < a->n; i++) {
		OBL_TRACE_READ(OBL_BUF_ROWS, i);
		memcpy(out + i * rs, a->rows + i * rs, rs);
		out_is_real[i] = obl_table_real(a, i);
		OBL_TRACE_WRITE(OBL_BUF_OUT, i);
	}
	for (i = 0; i < b->n; i++) {
		OBL_TRACE_READ(OBL_BUF_ROWS, a->n + i);
		memcpy(out + (a->n + i) * rs, b->rows + i * rs, rs);
		out_is_real[a->n + i] = obl_table_real(b, i);
		OBL_TRACE_WRITE(OBL_BUF_OUT, a->n + i);
	}
	obl_zero_dummies(out, a->n + b->n, rs, out_is_real);
	return OBL_OK;
}

size_t obl_distinct_work_bytes(size_t n, size_t row_size,
		const struct obl_key_spec *keys, size_t nkeys)
{
	struct obl_rec_layout l;

	obl_sort_recs_layout(&l, row_size, keys, nkeys);
	return obl_arena_cost(n * l.rec_size) + obl_arena_cost(n * 4);
}

/* see op_union_distinct.h */
int obl_distinct(const struct obl_table *in, const struct obl_key_spec *keys,
		size_t nkeys, uint8_t *out, uint32_t *out_is_real, size_t cap,
		uint64_t *m, struct obl_arena *arena)
{
	size_t mark = arena->used, n = in->n, i;
	struct obl_rec_layout l;
	uint8_t *recs;
	uint32_t *keep;

	if (in->row_size == 0 || nkeys == 0 || n > UINT32_MAX ||
			obl_key_spec_check(keys, nkeys, in->row_size) != 0 ||
			obl_key_spec_words(keys, nkeys) == 0)
		return OBL_ERR_PARAM;
	obl_sort_recs_layout(&l, in->row_size, keys, nkeys);
	recs = obl_arena_alloc(arena, n * l.rec_size);
	keep = obl_arena_alloc(arena, n * 4);
	if (n > 0 && (recs == NULL || keep == NULL)) {
		arena->used = mark;
		return OBL_ERR_NOMEM;
	}
	obl_sort_recs_build(recs, &l, 0, in, 0, n, keys, nkeys);
	obl_sort_bitonic(recs, n, l.rec_size, l.key_words);
	obl_scan_segmented_starts(recs, n, l.rec_size, l.key_words, keep);
	for (i = 0; i < n; i++) {
		OBL_TRACE_READ(OBL_BUF_RECS, i);
		keep[i] &= ct_not((uint32_t)obl_rec_words(recs, &l, i)[0] & 1u);
		OBL_TRACE_WRITE(OBL_BUF_CTL, i);
	}
	*m = obl_compact(recs, n, l.rec_size, keep);
	obl_emit_rows(recs, n, l.rec_size, 8 * l.key_words, in->row_size, keep,
		out, out_is_real, cap);
	arena->used = mark;
	return OBL_OK;
}

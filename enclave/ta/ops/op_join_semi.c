/*
 * op_join_semi.c - obl_join_semi: left semi / left anti join by one sort of
 * both tables and a scan remembering the last right key (see op_join.h).
 *
 * Record layout (op_common.h): key words [excluded | key | side (0 =
 * right, 1 = left)], one aux word (is_real), then the left row (right
 * records carry a zero row). Right rows sort before the left rows of their
 * key, so a left row matches iff the last right record before it has the
 * same (non-excluded) key.
 */
#include "op_join.h"

#include <string.h>

#include "../ct.h"
#include "../trace.h"
#include "compact_or.h"
#include "sort_bitonic.h"

size_t obl_join_semi_work_bytes(size_t n1, size_t rs1, size_t n2,
		size_t key_words)
{
	struct obl_rec_layout l;

	obl_rec_layout_init(&l, key_words + 2, 1, rs1);
	return obl_arena_cost((n1 + n2) * l.rec_size) +
		obl_arena_cost((n1 + n2) * 4) + obl_arena_cost(8 * (key_words + 1));
}

/* see op_join.h */
int obl_join_semi(const struct obl_table *left, const struct obl_key_spec *lkeys,
		const struct obl_table *right, const struct obl_key_spec *rkeys,
		size_t nkeys, enum obl_join_kind kind, uint8_t *out,
		uint32_t *out_is_real, size_t cap, uint64_t *m,
		struct obl_arena *arena)
{
	size_t mark = arena->used, kwk, kw, n, i;
	uint32_t anti = kind == OBL_JOIN_LEFT_ANTI, have = 0;
	struct obl_rec_layout l;
	uint8_t *recs;
	uint32_t *keep;
	uint64_t *cur;

	if (obl_join_check(left, lkeys, right, rkeys, nkeys) != 0 ||
			(kind != OBL_JOIN_LEFT_SEMI && kind != OBL_JOIN_LEFT_ANTI))
		return OBL_ERR_PARAM;
	kwk = obl_key_spec_words(lkeys, nkeys);
	kw = kwk + 2;
	n = left->n + right->n;
	obl_rec_layout_init(&l, kw, 1, left->row_size);
	recs = obl_arena_alloc(arena, n * l.rec_size);
	keep = obl_arena_alloc(arena, n * 4);
	cur = obl_arena_alloc(arena, 8 * (kwk + 1));
	if (cur == NULL || (n > 0 && (recs == NULL || keep == NULL))) {
		arena->used = mark;
		return OBL_ERR_NOMEM;
	}

	for (i = 0; i < right->n; i++) {
		uint64_t *w = obl_rec_words(recs, &l, i);
		uint32_t real = obl_table_real(right, i), any_null;

		OBL_TRACE_READ(OBL_BUF_ROWS, i);
		any_null = obl_key_spec_encode_row(right->rows + i * right->row_size,
			rkeys, nkeys, w + 1);
		w[0] = ct_not(real) | any_null;
		w[kw - 1] = 0;
		w[kw] = real;
		OBL_TRACE_WRITE(OBL_BUF_RECS, i);
	}
	for (i = 0; i < left->n; i++) {
		size_t r = right->n + i;
		uint64_t *w = obl_rec_words(recs, &l, r);
		const uint8_t *row = left->rows + i * left->row_size;
		uint32_t real = obl_table_real(left, i), any_null;

		OBL_TRACE_READ(OBL_BUF_ROWS, i);
		any_null = obl_key_spec_encode_row(row, lkeys, nkeys, w + 1);
		w[0] = ct_not(real) | any_null;
		w[kw - 1] = 1;
		w[kw] = real;
		memcpy(obl_rec_row(recs, &l, r), row, left->row_size);
		OBL_TRACE_WRITE(OBL_BUF_RECS, r);
	}
	obl_sort_bitonic(recs, n, l.rec_size, kw);

	for (i = 0; i < n; i++) {
		const uint64_t *w = obl_rec_words(recs, &l, i);
		uint32_t is_left = (uint32_t)w[kw - 1] & 1u;
		uint32_t excl = (uint32_t)w[0] & 1u, real = (uint32_t)w[kw] & 1u;
		uint32_t same = ct_key_eq(cur, w, kwk + 1), matched;

		OBL_TRACE_READ(OBL_BUF_RECS, i);
		ct_copy(ct_not(is_left), cur, w, 8 * (kwk + 1));
		have = ct_u32_mux(is_left, have, ct_not(excl));
		matched = have & same & ct_not(excl);
		keep[i] = is_left & real & (matched ^ anti);
		OBL_TRACE_WRITE(OBL_BUF_CTL, i);
	}
	*m = obl_compact(recs, n, l.rec_size, keep);
	obl_emit_rows(recs, n, l.rec_size, 8 * (kw + 1), left->row_size, keep,
		out, out_is_real, cap);
	arena->used = mark;
	return OBL_OK;
}

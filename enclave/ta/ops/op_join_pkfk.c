/*
 * op_join_pkfk.c - obl_join_pkfk: the primary-key / foreign-key join of
 * Opaque (union, sort, propagate the primary row, compact); see op_join.h.
 *
 * Record layout (op_common.h): key words [excluded | key | table id
 * (0 = PK, 1 = FK)], one aux word (is_real), then the row (the wider of
 * the two row sizes). "excluded" = dummy or some key column NULL: such
 * rows sort after every real key and never match.
 */
#include "op_join.h"

#include <string.h>

#include "../ct.h"
#include "../trace.h"
#include "compact_or.h"
#include "sort_bitonic.h"

size_t obl_join_pkfk_work_bytes(size_t n_left, size_t left_row_size,
		size_t n_right, size_t right_row_size, size_t key_words)
{
	size_t n = n_left + n_right;
	size_t rsmax = left_row_size > right_row_size ? left_row_size : right_row_size;
	struct obl_rec_layout l;

	obl_rec_layout_init(&l, key_words + 2, 1, rsmax);
	return obl_arena_cost(n * l.rec_size) +
		obl_arena_cost(n * (left_row_size + right_row_size)) +
		5 * obl_arena_cost(n * 4) + obl_arena_cost(8 * (key_words + 1)) +
		2 * obl_arena_cost(rsmax);
}

/* Records of one side: [excluded | key | tid | is_real | row].
 * Leaks: t->n, sizes, the key specs.  Hides: rows, keys, NULLs, is_real. */
static void build_side(uint8_t *recs, const struct obl_rec_layout *l,
		size_t first, const struct obl_table *t,
		const struct obl_key_spec *keys, size_t nkeys, uint64_t tid)
{
	size_t kw = l->key_words, i;

	for (i = 0; i < t->n; i++) {
		uint64_t *w = obl_rec_words(recs, l, first + i);
		const uint8_t *row = t->rows + i * t->row_size;
		uint32_t real = obl_table_real(t, i), any_null;

		OBL_TRACE_READ(OBL_BUF_ROWS, i);
		any_null = obl_key_spec_encode_row(row, keys, nkeys, w + 1);
		w[0] = ct_not(real) | any_null;
		w[kw - 1] = tid;
		w[kw] = real;
		memcpy(obl_rec_row(recs, l, first + i), row, t->row_size);
		OBL_TRACE_WRITE(OBL_BUF_RECS, first + i);
	}
}

/* see op_join.h */
int obl_join_pkfk(const struct obl_table *left, const struct obl_key_spec *lkeys,
		const struct obl_table *right, const struct obl_key_spec *rkeys,
		size_t nkeys, enum obl_pk_side pk_side, enum obl_join_kind kind,
		const struct obl_keep_fn *residual,
		uint8_t *out, uint32_t *out_is_real, uint32_t *right_is_null,
		size_t cap, uint64_t *m, uint32_t *pk_dup, struct obl_arena *arena)
{
	const struct obl_table *pk = pk_side == OBL_PK_LEFT ? left : right;
	const struct obl_table *fk = pk_side == OBL_PK_LEFT ? right : left;
	const struct obl_key_spec *pkk = pk_side == OBL_PK_LEFT ? lkeys : rkeys;
	const struct obl_key_spec *fkk = pk_side == OBL_PK_LEFT ? rkeys : lkeys;
	size_t mark = arena->used, kwk, kw, n, rsl, rsr, orow, rsmax, i;
	int outer = kind == OBL_JOIN_LEFT_OUTER;
	struct obl_rec_layout l;
	uint8_t *recs, *joined, *pkrow, *zeros;
	uint32_t *keep, *keep2, *match, *rnull, *rk;
	uint64_t *cur;
	uint32_t have = 0, dup = 0;

	if (obl_join_check(left, lkeys, right, rkeys, nkeys) != 0 ||
			(kind != OBL_JOIN_INNER && kind != OBL_JOIN_LEFT_OUTER) ||
			(pk_side != OBL_PK_LEFT && pk_side != OBL_PK_RIGHT) ||
			(outer && (pk_side != OBL_PK_RIGHT || right_is_null == NULL)))
		return OBL_ERR_PARAM;
	kwk = obl_key_spec_words(lkeys, nkeys);
	kw = kwk + 2;
	n = left->n + right->n;
	rsl = left->row_size;
	rsr = right->row_size;
	orow = rsl + rsr;
	rsmax = rsl > rsr ? rsl : rsr;
	obl_rec_layout_init(&l, kw, 1, rsmax);

	recs = obl_arena_alloc(arena, n * l.rec_size);
	joined = obl_arena_alloc(arena, n * orow);
	keep = obl_arena_alloc(arena, n * 4);
	keep2 = obl_arena_alloc(arena, n * 4);
	match = obl_arena_alloc(arena, n * 4);
	rnull = obl_arena_alloc(arena, n * 4);
	rk = obl_arena_alloc(arena, n * 4);
	cur = obl_arena_alloc(arena, 8 * (kwk + 1));
	pkrow = obl_arena_alloc(arena, rsmax);
	zeros = obl_arena_alloc(arena, rsmax);
	if (cur == NULL || pkrow == NULL || zeros == NULL || (n > 0 &&
			(recs == NULL || joined == NULL || keep == NULL ||
			 keep2 == NULL || match == NULL || rnull == NULL ||
			 rk == NULL))) {
		arena->used = mark;
		return OBL_ERR_NOMEM;
	}

	build_side(recs, &l, 0, pk, pkk, nkeys, 0);
	build_side(recs, &l, pk->n, fk, fkk, nkeys, 1);
	obl_sort_bitonic(recs, n, l.rec_size, kw);

	/* propagate the last primary row (and its key) to the rows after it */
	for (i = 0; i < n; i++) {
		const uint64_t *w = obl_rec_words(recs, &l, i);
		const uint8_t *row = obl_rec_row(recs, &l, i);
		uint32_t is_pk = ct_u64_eq(w[kw - 1], 0);
		uint32_t excl = (uint32_t)w[0] & 1u, real = (uint32_t)w[kw] & 1u;
		uint32_t same = ct_key_eq(cur, w, kwk + 1);
		uint8_t *j = joined + i * orow;

		OBL_TRACE_READ(OBL_BUF_RECS, i);
		dup |= is_pk & have & same & ct_not(excl);
		ct_copy(is_pk, cur, w, 8 * (kwk + 1));
		ct_copy(is_pk, pkrow, row, pk->row_size);
		have = ct_u32_mux(is_pk, ct_not(excl), have);
		match[i] = ct_not(is_pk) & have & same & ct_not(excl);
		if (pk_side == OBL_PK_LEFT) {
			memcpy(j, pkrow, rsl);
			memcpy(j + rsl, row, rsr);
		} else {
			memcpy(j, row, rsl);
			memcpy(j + rsl, pkrow, rsr);
		}
		keep[i] = outer ? ct_not(is_pk) & real : match[i];
		OBL_TRACE_WRITE(OBL_BUF_OUT, i);
	}

	if (residual != NULL && residual->fn != NULL) {
		residual->fn(joined, n, orow, rk, residual->ctx);
		for (i = 0; i < n; i++) {
			OBL_TRACE_READ(OBL_BUF_CTL, i);
			match[i] &= rk[i] & 1u;
			keep[i] = outer ? keep[i] : match[i];
			OBL_TRACE_WRITE(OBL_BUF_CTL, i);
		}
	}
	for (i = 0; i < n; i++) {
		rnull[i] = ct_not(match[i]);
		keep2[i] = keep[i];
		if (outer)
			ct_copy(rnull[i], joined + i * orow + rsl, zeros, rsr);
		OBL_TRACE_WRITE(OBL_BUF_CTL, i);
	}
	*m = obl_compact(joined, n, orow, keep);
	(void)obl_compact((uint8_t *)rnull, n, 4, keep2);
	obl_emit_rows(joined, n, orow, 0, orow, keep, out, out_is_real, cap);
	if (right_is_null != NULL)
		for (i = 0; i < cap; i++)
			right_is_null[i] = i < n ? rnull[i] & keep[i] & (uint32_t)outer : 0;
	*pk_dup = dup;
	arena->used = mark;
	return OBL_OK;
}

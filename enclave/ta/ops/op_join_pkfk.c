/*
 * op_join_pkfk.c - obl_join_pkfk: the primary-key / foreign-key join of
 * Opaque (union, sort, propagate the primary row, compact); see op_join.h.
 *
 * Record layout (op_common.h): kwk + 1 key words, no aux words, then the
 * row (the wider of the two row sizes). The key words hold the bit string
 *   excluded (1 bit) | encoded key (64 * kwk bits) | table id (1 bit,
 *   0 = PK, 1 = FK) | is_real (1 bit) | zeros
 * packed from the most significant bit of word 0 down, so comparing the
 * words lexicographically orders by (excluded, key, table id): one word
 * fewer than the flags in words of their own, and no aux word. "excluded"
 * = dummy or some key column NULL: such rows sort after every real key
 * and never match.
 */
#include "op_join.h"

#include <string.h>

#include "../ct.h"
#include "../trace.h"
#include "compact_or.h"
#include "sort_bitonic.h"

/* Bit positions in the last key word (below the key's lowest bit). */
#define TID_SHIFT 62
#define REAL_SHIFT 61

/* Stride of the joined rows: 8-byte multiples make the compaction's
 * swaps whole words; without a residual (whose callback takes rows of
 * exactly orow bytes) a left outer join keeps its right-is-NULL flag in
 * the byte after the row, so one compaction moves both. Public sizes. */
static size_t joined_stride(size_t orow, int outer, int has_residual)
{
	return has_residual ? orow : obl_round8(orow + (outer ? 1 : 0));
}

size_t obl_join_pkfk_work_bytes(size_t n_left, size_t left_row_size,
		size_t n_right, size_t right_row_size, size_t key_words)
{
	size_t n = n_left + n_right;
	size_t rsmax = left_row_size > right_row_size ? left_row_size : right_row_size;
	size_t orow = left_row_size + right_row_size;
	struct obl_rec_layout l;

	obl_rec_layout_init(&l, key_words + 1, 0, rsmax);
	return obl_arena_cost(n * l.rec_size) +
		obl_arena_cost(n * obl_round8(orow + 1)) +
		4 * obl_arena_cost(n * 4) + 2 * obl_arena_cost(8 * (key_words + 1)) +
		2 * obl_arena_cost(rsmax);
}

/* Records of one side: packed key words, then the row (see the top).
 * kbuf: kwk words of scratch.
 * Leaks: t->n, sizes, the key specs.  Hides: rows, keys, NULLs, is_real. */
static void build_side(uint8_t *recs, const struct obl_rec_layout *l,
		size_t first, const struct obl_table *t,
		const struct obl_key_spec *keys, size_t nkeys, uint64_t tid,
		uint64_t *kbuf)
{
	size_t kwk = l->key_words - 1, i, k;

	for (i = 0; i < t->n; i++) {
		uint64_t *w = obl_rec_words(recs, l, first + i);
		const uint8_t *row = t->rows + i * t->row_size;
		uint32_t real = obl_table_real(t, i), any_null;
		uint64_t hi;

		OBL_TRACE_READ(OBL_BUF_ROWS, i);
		any_null = obl_key_spec_encode_row(row, keys, nkeys, kbuf);
		hi = (uint64_t)(ct_not(real) | any_null) << 63;
		for (k = 0; k < kwk; k++) {
			w[k] = hi | kbuf[k] >> 1;
			hi = kbuf[k] << 63;
		}
		w[kwk] = hi | tid << TID_SHIFT | (uint64_t)real << REAL_SHIFT;
		memcpy(obl_rec_row(recs, l, first + i), row, t->row_size);
		if (l->rec_size - 8 * l->key_words > t->row_size)
			memset(obl_rec_row(recs, l, first + i) + t->row_size, 0,
				l->rec_size - 8 * l->key_words - t->row_size);
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
	size_t mark = arena->used, kwk, kw, kwb, n, rsl, rsr, orow, js, rsmax, i;
	int outer = kind == OBL_JOIN_LEFT_OUTER;
	int has_res = residual != NULL && residual->fn != NULL;
	int flag_in_row;
	struct obl_rec_layout l;
	uint8_t *recs, *joined, *pkrow, *zeros;
	uint32_t *keep, *keep2 = NULL, *match, *rnull = NULL, *rk = NULL;
	uint64_t *cur, *kbuf;
	uint32_t have = 0, dup = 0;

	if (obl_join_check(left, lkeys, right, rkeys, nkeys) != 0 ||
			(kind != OBL_JOIN_INNER && kind != OBL_JOIN_LEFT_OUTER) ||
			(pk_side != OBL_PK_LEFT && pk_side != OBL_PK_RIGHT) ||
			(outer && (pk_side != OBL_PK_RIGHT || right_is_null == NULL)))
		return OBL_ERR_PARAM;
	kwk = obl_key_spec_words(lkeys, nkeys);
	kwb = obl_key_spec_words(rkeys, nkeys);
	kwb = kwb > kwk ? kwb : kwk;
	kw = kwk + 1;
	n = left->n + right->n;
	rsl = left->row_size;
	rsr = right->row_size;
	orow = rsl + rsr;
	js = joined_stride(orow, outer, has_res);
	flag_in_row = outer && !has_res;
	rsmax = rsl > rsr ? rsl : rsr;
	obl_rec_layout_init(&l, kw, 0, rsmax);

	/* recs and joined are written in full before they are read */
	recs = obl_arena_take(arena, n * l.rec_size);
	joined = obl_arena_take(arena, n * js);
	keep = obl_arena_alloc(arena, n * 4);
	match = obl_arena_alloc(arena, n * 4);
	if (outer && !flag_in_row) {
		keep2 = obl_arena_alloc(arena, n * 4);
		rnull = obl_arena_alloc(arena, n * 4);
	}
	if (has_res)
		rk = obl_arena_alloc(arena, n * 4);
	cur = obl_arena_alloc(arena, 8 * kw);
	kbuf = obl_arena_alloc(arena, 8 * kwb);
	pkrow = obl_arena_alloc(arena, rsmax);
	zeros = obl_arena_alloc(arena, rsmax);
	if (cur == NULL || kbuf == NULL || pkrow == NULL || zeros == NULL ||
			(n > 0 && (recs == NULL || joined == NULL ||
			 keep == NULL || match == NULL ||
			 (outer && !flag_in_row && (keep2 == NULL || rnull == NULL)) ||
			 (has_res && rk == NULL)))) {
		arena->used = mark;
		return OBL_ERR_NOMEM;
	}

	build_side(recs, &l, 0, pk, pkk, nkeys, 0, kbuf);
	build_side(recs, &l, pk->n, fk, fkk, nkeys, 1, kbuf);
	obl_sort_bitonic(recs, n, l.rec_size, kw);

	/* propagate the last primary row (and its key) to the rows after it */
	for (i = 0; i < n; i++) {
		const uint64_t *w = obl_rec_words(recs, &l, i);
		const uint8_t *row = obl_rec_row(recs, &l, i);
		uint32_t is_pk = (uint32_t)(w[kwk] >> TID_SHIFT & 1u) ^ 1u;
		uint32_t excl = (uint32_t)(w[0] >> 63);
		uint32_t real = (uint32_t)(w[kwk] >> REAL_SHIFT & 1u);
		/* equal (excluded, key): every word but the last, and the last
		 * word's top bit (the key's lowest bit) */
		uint32_t same = ct_key_eq(cur, w, kwk) &
			ct_u64_eq(cur[kwk] >> 63, w[kwk] >> 63);
		uint8_t *j = joined + i * js;

		OBL_TRACE_READ(OBL_BUF_RECS, i);
		dup |= is_pk & have & same & ct_not(excl);
		ct_copy(is_pk, cur, w, 8 * kw);
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
		if (js > orow)
			memset(j + orow, 0, js - orow);
		keep[i] = outer ? ct_not(is_pk) & real : match[i];
		OBL_TRACE_WRITE(OBL_BUF_OUT, i);
	}

	if (has_res) {
		residual->fn(joined, n, orow, rk, residual->ctx);
		for (i = 0; i < n; i++) {
			OBL_TRACE_READ(OBL_BUF_CTL, i);
			match[i] &= rk[i] & 1u;
			keep[i] = outer ? keep[i] : match[i];
			OBL_TRACE_WRITE(OBL_BUF_CTL, i);
		}
	}
	if (outer) {
		/* unmatched FK rows: right part zero, right_is_null 1 */
		for (i = 0; i < n; i++) {
			uint32_t nul = ct_not(match[i]);
			uint8_t *j = joined + i * js;

			ct_copy(nul, j + rsl, zeros, rsr);
			if (flag_in_row) {
				j[orow] = (uint8_t)nul;
			} else {
				rnull[i] = nul;
				keep2[i] = keep[i];
			}
			OBL_TRACE_WRITE(OBL_BUF_CTL, i);
		}
	}
	*m = obl_compact(joined, n, js, keep);
	if (outer && !flag_in_row)
		(void)obl_compact((uint8_t *)rnull, n, 4, keep2);
	obl_emit_rows(joined, n, js, 0, orow, keep, out, out_is_real, cap);
	if (right_is_null != NULL) {
		for (i = 0; i < cap; i++) {
			uint32_t nul = 0;

			if (i < n && outer)
				nul = (flag_in_row ? joined[i * js + orow] :
					rnull[i]) & keep[i];
			right_is_null[i] = nul;
		}
	}
	*pk_dup = dup;
	arena->used = mark;
	return OBL_OK;
}

/*
 * op_join_fast.c - NOT oblivious: leaks access patterns. The encrypted-mode
 * join of every kind (see op_join.h): merge sort both sides by (excluded,
 * key), then merge them group by group with ordinary branches.
 *
 * Record layout (op_common.h): key words [excluded | key], one aux word
 * (is_real), then the row.
 */
#include "op_join.h"

#include <string.h>

#include "../trace.h"
#include "fast_sort.h"

size_t op_join_fast_work_bytes(size_t n1, size_t rs1, size_t n2, size_t rs2,
		size_t key_words)
{
	struct obl_rec_layout l1, l2;

	obl_rec_layout_init(&l1, key_words + 1, 1, rs1);
	obl_rec_layout_init(&l2, key_words + 1, 1, rs2);
	return 2 * obl_arena_cost(n1 * l1.rec_size) +
		2 * obl_arena_cost(n2 * l2.rec_size) + obl_arena_cost(rs1 + rs2);
}

/* NOT oblivious. */
static void fast_build(uint8_t *recs, const struct obl_rec_layout *l,
		const struct obl_table *t, const struct obl_key_spec *keys,
		size_t nkeys)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		uint64_t *w = obl_rec_words(recs, l, i);
		const uint8_t *row = t->rows + i * t->row_size;
		uint32_t real = obl_table_real(t, i);
		uint32_t any_null = obl_key_spec_encode_row(row, keys, nkeys, w + 1);

		w[0] = (!real || any_null) ? 1 : 0;
		w[l->key_words] = real;
		memcpy(obl_rec_row(recs, l, i), row, t->row_size);
	}
}

/* NOT oblivious: writes output slot k if it exists. */
static void fast_emit(uint8_t *out, uint32_t *right_is_null, size_t cap,
		size_t k, size_t orow, const uint8_t *row, uint32_t rnull)
{
	if (k >= cap)
		return;
	memcpy(out + k * orow, row, orow);
	if (right_is_null != NULL)
		right_is_null[k] = rnull;
	OBL_TRACE_WRITE(OBL_BUF_OUT, k);
}

/* NOT oblivious: leaks access patterns. */
int op_join_fast(const struct obl_table *left, const struct obl_key_spec *lkeys,
		const struct obl_table *right, const struct obl_key_spec *rkeys,
		size_t nkeys, enum obl_join_kind kind,
		const struct obl_keep_fn *residual,
		uint8_t *out, uint32_t *out_is_real, uint32_t *right_is_null,
		size_t cap, uint64_t *m, struct obl_arena *arena)
{
	size_t mark = arena->used, kw, n1 = left->n, n2 = right->n;
	size_t rs1 = left->row_size, rs2 = right->row_size, orow, wout;
	size_t i = 0, j = 0, k = 0, t;
	struct obl_rec_layout l1, l2;
	uint8_t *r1, *r2, *tmp1, *tmp2, *pair;

	if (obl_join_check(left, lkeys, right, rkeys, nkeys) != 0 ||
			kind > OBL_JOIN_LEFT_ANTI ||
			(kind == OBL_JOIN_LEFT_OUTER && right_is_null == NULL))
		return OBL_ERR_PARAM;
	kw = obl_key_spec_words(lkeys, nkeys) + 1;
	obl_rec_layout_init(&l1, kw, 1, rs1);
	obl_rec_layout_init(&l2, kw, 1, rs2);
	orow = rs1 + rs2;
	wout = kind == OBL_JOIN_LEFT_SEMI || kind == OBL_JOIN_LEFT_ANTI ? rs1 : orow;
	r1 = obl_arena_alloc(arena, n1 * l1.rec_size);
	tmp1 = obl_arena_alloc(arena, n1 * l1.rec_size);
	r2 = obl_arena_alloc(arena, n2 * l2.rec_size);
	tmp2 = obl_arena_alloc(arena, n2 * l2.rec_size);
	pair = obl_arena_alloc(arena, orow);
	if (pair == NULL || (n1 > 0 && (r1 == NULL || tmp1 == NULL)) ||
			(n2 > 0 && (r2 == NULL || tmp2 == NULL))) {
		arena->used = mark;
		return OBL_ERR_NOMEM;
	}
	fast_build(r1, &l1, left, lkeys, nkeys);
	fast_build(r2, &l2, right, rkeys, nkeys);
	fast_sort_recs(r1, n1, l1.rec_size, kw, tmp1);
	fast_sort_recs(r2, n2, l2.rec_size, kw, tmp2);

	while (i < n1) {
		const uint64_t *lw = obl_rec_words(r1, &l1, i);
		size_t ie = i + 1, je;

		while (ie < n1 && fast_key_cmp(obl_rec_words(r1, &l1, ie), lw, kw) == 0)
			ie++;
		while (j < n2 && fast_key_cmp(obl_rec_words(r2, &l2, j), lw, kw) < 0)
			j++;
		je = j;
		if (lw[0] == 0)
			while (je < n2 && fast_key_cmp(obl_rec_words(r2, &l2, je), lw, kw) == 0)
				je++;
		for (t = i; t < ie; t++) {
			const uint8_t *lrow = obl_rec_row(r1, &l1, t);
			size_t r;
			int any = 0;

			OBL_TRACE_READ(OBL_BUF_RECS, t);
			if (!obl_rec_words(r1, &l1, t)[kw])
				continue;       /* dummy */
			memcpy(pair, lrow, rs1);
			for (r = j; r < je; r++) {
				uint32_t ok = 1;

				if (!obl_rec_words(r2, &l2, r)[kw])
					continue;
				memcpy(pair + rs1, obl_rec_row(r2, &l2, r), rs2);
				if (residual != NULL && residual->fn != NULL)
					residual->fn(pair, 1, orow, &ok, residual->ctx);
				if (!ok)
					continue;
				any = 1;
				if (kind == OBL_JOIN_INNER || kind == OBL_JOIN_LEFT_OUTER)
					fast_emit(out, right_is_null, cap, k++, orow, pair, 0);
				else
					break;
			}
			if ((kind == OBL_JOIN_LEFT_SEMI && any) ||
					(kind == OBL_JOIN_LEFT_ANTI && !any))
				fast_emit(out, NULL, cap, k++, rs1, lrow, 0);
			if (kind == OBL_JOIN_LEFT_OUTER && !any) {
				memset(pair + rs1, 0, rs2);
				fast_emit(out, right_is_null, cap, k++, orow, pair, 1);
			}
		}
		i = ie;
	}
	for (t = 0; t < cap; t++) {
		out_is_real[t] = t < k;
		if (t >= k) {
			memset(out + t * wout, 0, wout);
			if (right_is_null != NULL)
				right_is_null[t] = 0;
		}
	}
	*m = k;
	arena->used = mark;
	return OBL_OK;
}

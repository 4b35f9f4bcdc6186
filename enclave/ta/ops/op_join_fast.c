/*
 * op_join_fast.c - NOT oblivious: leaks access patterns. The encrypted-mode
 * join of every kind (see op_join.h): a hash join. The right side's real,
 * non-NULL-key rows go into a chained hash table on their encoded key
 * words; every left row probes it (inner, left outer, semi and anti all
 * emit per left row, so the right side is always the build side; for a
 * PK-FK join with the PK on the right it is also the smaller one). When
 * the arena cannot hold the table: merge sort both sides by (excluded,
 * key), then merge them group by group with ordinary branches.
 *
 * Record layout (op_common.h): key words [excluded | key], one aux word
 * (is_real), then the row.
 */
#include "op_join.h"

#include <string.h>

#include "../trace.h"
#include "fast_sort.h"

/* What fast_join_hash takes from the arena (the same allocations), or 0
 * when it refuses these sizes. Public: a function of sizes. */
static size_t hash_work_bytes(size_t rs1, size_t n2, size_t rs2, size_t kw)
{
	size_t nslots = 16;

	if (n2 >= UINT32_MAX / 2 || (kw && n2 > SIZE_MAX / 8 / kw) ||
	    n2 + 1 > SIZE_MAX / 8 / (kw + 1))
		return 0;
	while (nslots < 2 * n2)
		nslots *= 2;
	return obl_arena_cost(nslots * 4) + obl_arena_cost((n2 + 1) * 4) +
		obl_arena_cost((n2 + 1) * (kw + 1) * 8) +
		obl_arena_cost((kw + 1) * 8) + obl_arena_cost(rs1 + rs2);
}

/* The hash join never falls back when its arena fits, so only sizes it
 * refuses need the sort's n-sized records (sizing by the sort made an
 * encrypted join of 10^6 rows zero and wipe ~100 MB it never used). */
size_t op_join_fast_work_bytes(size_t n1, size_t rs1, size_t n2, size_t rs2,
		size_t key_words)
{
	struct obl_rec_layout l1, l2;
	size_t h = hash_work_bytes(rs1, n2, rs2, key_words);

	if (h != 0)
		return h;
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
		uint32_t any_null = fast_key_encode_row(row, keys, nkeys, w + 1);

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

/* NOT oblivious: leaks access patterns. The sort-merge join: writes
 * out[0..min(m, cap)) and right_is_null there only. */
static int fast_join_sorted(const struct obl_table *left, const struct obl_key_spec *lkeys,
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
	(void)wout;
	(void)out_is_real;	/* op_join_fast_prefix writes the ctls */
	*m = k;
	arena->used = mark;
	return OBL_OK;
}

/* The hash join: 1 on success (*m set, out[0..min(m, cap)) written),
 * 0 when the arena is too small (nothing written).
 * NOT oblivious: leaks access patterns (which rows match, chain lengths). */
static int fast_join_hash(const struct obl_table *left,
		const struct obl_key_spec *lkeys, const struct obl_table *right,
		const struct obl_key_spec *rkeys, size_t nkeys,
		enum obl_join_kind kind, const struct obl_keep_fn *residual,
		uint8_t *out, uint32_t *right_is_null, size_t cap, uint64_t *m,
		struct obl_arena *arena)
{
	size_t kw = obl_key_spec_words(lkeys, nkeys), n1 = left->n, n2 = right->n;
	size_t rs1 = left->row_size, rs2 = right->row_size, orow = rs1 + rs2;
	size_t nslots = 16, i, k = 0;
	unsigned bits = 4;
	uint32_t *head, *next;
	uint64_t *rk, *lk;
	uint8_t *pair;
	int has_res = residual != NULL && residual->fn != NULL;

	while (nslots < 2 * n2) {
		nslots *= 2;
		bits++;
	}
	if (n2 >= UINT32_MAX / 2 || (kw && n2 > SIZE_MAX / 8 / kw))
		return 0;
	/* head is cleared below; next and rk are written for every real
	 * right row before a chain can reach them. */
	head = obl_arena_take(arena, nslots * 4);
	next = obl_arena_take(arena, (n2 + 1) * 4);
	rk = obl_arena_take(arena, (n2 + 1) * (kw + 1) * 8);
	lk = obl_arena_alloc(arena, (kw + 1) * 8);
	pair = obl_arena_alloc(arena, orow);
	if (head == NULL || next == NULL || rk == NULL || lk == NULL ||
			pair == NULL)
		return 0;
	memset(head, 0, nslots * 4);
	/* Insert in reverse so each chain lists its rows in input order. */
	for (i = n2; i-- > 0;) {
		uint64_t *w = rk + i * kw;
		size_t h;

		if (!obl_table_real(right, i) ||
				fast_key_encode_row(right->rows + i * rs2,
					rkeys, nkeys, w))
			continue;
		h = (size_t)(fast_key_hash(w, kw) >> (64 - bits));
		next[i] = head[h];
		head[h] = (uint32_t)(i + 1);
	}
	for (i = 0; i < n1; i++) {
		const uint8_t *lrow = left->rows + i * rs1;
		uint32_t r = 0;
		int any = 0;

		OBL_TRACE_READ(OBL_BUF_RECS, i);
		if (!obl_table_real(left, i))
			continue;
		if (!fast_key_encode_row(lrow, lkeys, nkeys, lk))
			r = head[(size_t)(fast_key_hash(lk, kw) >> (64 - bits))];
		if (r != 0 && kind != OBL_JOIN_LEFT_SEMI &&
				kind != OBL_JOIN_LEFT_ANTI)
			memcpy(pair, lrow, rs1);
		for (; r != 0; r = next[r - 1]) {
			const uint8_t *rrow = right->rows + (size_t)(r - 1) * rs2;
			uint32_t ok = 1;

			if (!fast_key_eq(rk + (size_t)(r - 1) * kw, lk, kw))
				continue;
			if (has_res) {
				if (kind == OBL_JOIN_LEFT_SEMI ||
						kind == OBL_JOIN_LEFT_ANTI)
					memcpy(pair, lrow, rs1);
				memcpy(pair + rs1, rrow, rs2);
				residual->fn(pair, 1, orow, &ok, residual->ctx);
				if (!ok)
					continue;
			}
			any = 1;
			if (kind == OBL_JOIN_INNER || kind == OBL_JOIN_LEFT_OUTER) {
				if (k < cap) {
					uint8_t *o = out + k * orow;

					memcpy(o, lrow, rs1);
					memcpy(o + rs1, rrow, rs2);
					if (right_is_null != NULL)
						right_is_null[k] = 0;
					OBL_TRACE_WRITE(OBL_BUF_OUT, k);
				}
				k++;
			} else {
				break;
			}
		}
		if ((kind == OBL_JOIN_LEFT_SEMI && any) ||
				(kind == OBL_JOIN_LEFT_ANTI && !any))
			fast_emit(out, NULL, cap, k++, rs1, lrow, 0);
		if (kind == OBL_JOIN_LEFT_OUTER && !any) {
			if (k < cap) {
				uint8_t *o = out + k * orow;

				memcpy(o, lrow, rs1);
				memset(o + rs1, 0, rs2);
				right_is_null[k] = 1;
				OBL_TRACE_WRITE(OBL_BUF_OUT, k);
			}
			k++;
		}
	}
	*m = k;
	return 1;
}

/* see fast_sort.h */
int op_join_fast_prefix(const struct obl_table *left,
		const struct obl_key_spec *lkeys, const struct obl_table *right,
		const struct obl_key_spec *rkeys, size_t nkeys,
		enum obl_join_kind kind, const struct obl_keep_fn *residual,
		uint8_t *out, uint32_t *out_is_real, uint32_t *right_is_null,
		size_t cap, uint64_t *m, struct obl_arena *arena)
{
	size_t mark = arena->used, t;
	uint64_t k = 0;
	int rc;

	if (obl_join_check(left, lkeys, right, rkeys, nkeys) != 0 ||
			kind > OBL_JOIN_LEFT_ANTI ||
			(kind == OBL_JOIN_LEFT_OUTER && right_is_null == NULL))
		return OBL_ERR_PARAM;
	if (!fast_join_hash(left, lkeys, right, rkeys, nkeys, kind, residual,
			out, right_is_null, cap, &k, arena)) {
		arena->used = mark;
		rc = fast_join_sorted(left, lkeys, right, rkeys, nkeys, kind,
				residual, out, out_is_real, right_is_null, cap,
				&k, arena);
		if (rc != OBL_OK)
			return rc;
	}
	arena->used = mark;
	for (t = 0; t < cap && t < k; t++)
		out_is_real[t] = 1;
	*m = k;
	return OBL_OK;
}

/* NOT oblivious: leaks access patterns. */
int op_join_fast(const struct obl_table *left, const struct obl_key_spec *lkeys,
		const struct obl_table *right, const struct obl_key_spec *rkeys,
		size_t nkeys, enum obl_join_kind kind,
		const struct obl_keep_fn *residual,
		uint8_t *out, uint32_t *out_is_real, uint32_t *right_is_null,
		size_t cap, uint64_t *m, struct obl_arena *arena)
{
	size_t t, wout = kind == OBL_JOIN_LEFT_SEMI || kind == OBL_JOIN_LEFT_ANTI ?
		left->row_size : left->row_size + right->row_size;
	int rc = op_join_fast_prefix(left, lkeys, right, rkeys, nkeys, kind,
			residual, out, out_is_real, right_is_null, cap, m, arena);

	if (rc != OBL_OK)
		return rc;
	for (t = *m < cap ? (size_t)*m : cap; t < cap; t++) {
		out_is_real[t] = 0;
		memset(out + t * wout, 0, wout);
		if (right_is_null != NULL)
			right_is_null[t] = 0;
	}
	return OBL_OK;
}

/*
 * op_join_general.c - obl_join_general_*: the many-to-many oblivious join of
 * Krastnikov, Kerschbaum and Stebila (VLDB 2020): augment, expand x2,
 * align, zip (see op_join.h).
 *
 * Record layout (op_common.h): key words [excluded | key | table id
 * (0 = left, 1 = right)], aux words [alpha1 | alpha2], then the row (the
 * wider row size). "excluded" = dummy or some key column NULL: such a row
 * is in a group of its own kind whose counts are 0, so it is copied 0
 * times. Word 0 becomes obl_expand's scratch (destination, then the align
 * position) once the groups are known: every row that is copied at all is
 * not excluded, so groups are then told apart by the key words alone.
 */
#include "op_join.h"

#include <string.h>

#include "../ct.h"
#include "../trace.h"
#include "compact_or.h"
#include "obl_expand.h"
#include "scan_segmented.h"
#include "sort_bitonic.h"

static void layout(struct obl_rec_layout *l, size_t kwk, size_t rs1, size_t rs2)
{
	obl_rec_layout_init(l, kwk + 2, 2, rs1 > rs2 ? rs1 : rs2);
}

size_t obl_join_general_begin_work_bytes(size_t n1, size_t rs1, size_t n2,
		size_t rs2, size_t key_words)
{
	struct obl_rec_layout l;
	size_t n = n1 + n2;

	layout(&l, key_words, rs1, rs2);
	/* kept: both record tables; freed: flags and counts */
	return 2 * obl_arena_cost(n * l.rec_size) + 3 * obl_arena_cost(n * 4) +
		2 * obl_arena_cost(n * 8);
}

size_t obl_join_general_finish_work_bytes(const struct obl_join_general *j,
		uint64_t m_public)
{
	size_t m = (size_t)m_public;
	size_t big1 = j->n1 > m ? j->n1 : m, big2 = j->n2 > m ? j->n2 : m;
	size_t nmax = j->n1 > j->n2 ? j->n1 : j->n2;

	return obl_arena_cost(big1 * j->rec_size) +
		obl_arena_cost(big2 * j->rec_size) + obl_arena_cost(nmax * 8) +
		obl_arena_cost(nmax * 4) + obl_arena_cost(j->rec_size) +
		obl_arena_cost(m * 4);
}

/* Records of one side: [excluded | key | tid | 0 | 0 | row].
 * Leaks: t->n, sizes, the key specs.  Hides: rows, keys, NULLs, is_real. */
static void build_side(uint8_t *recs, const struct obl_rec_layout *l,
		size_t first, const struct obl_table *t,
		const struct obl_key_spec *keys, size_t nkeys, uint64_t tid)
{
	size_t kw = l->key_words, i;

	for (i = 0; i < t->n; i++) {
		uint64_t *w = obl_rec_words(recs, l, first + i);
		const uint8_t *row = t->rows + i * t->row_size;
		uint32_t any_null;

		OBL_TRACE_READ(OBL_BUF_ROWS, i);
		any_null = obl_key_spec_encode_row(row, keys, nkeys, w + 1);
		w[0] = ct_not(obl_table_real(t, i)) | any_null;
		w[kw - 1] = tid;
		memcpy(obl_rec_row(recs, l, first + i), row, t->row_size);
		OBL_TRACE_WRITE(OBL_BUF_RECS, first + i);
	}
}

/* see op_join.h */
int obl_join_general_begin(struct obl_join_general *j,
		const struct obl_table *left, const struct obl_key_spec *lkeys,
		const struct obl_table *right, const struct obl_key_spec *rkeys,
		size_t nkeys, struct obl_arena *arena)
{
	size_t mark = arena->used, kwk, kw, n, i, flags_mark;
	struct obl_rec_layout l;
	uint8_t *tc, *tc2;
	uint32_t *seg, *last, *keep;
	int64_t *c1, *c2;
	uint64_t t1 = 0, t2 = 0, msum = 0;

	if (obl_join_check(left, lkeys, right, rkeys, nkeys) != 0)
		return OBL_ERR_PARAM;
	kwk = obl_key_spec_words(lkeys, nkeys);
	layout(&l, kwk, left->row_size, right->row_size);
	kw = l.key_words;
	n = left->n + right->n;

	tc = obl_arena_alloc(arena, n * l.rec_size);
	tc2 = obl_arena_alloc(arena, n * l.rec_size);
	flags_mark = arena->used;
	seg = obl_arena_alloc(arena, n * 4);
	last = obl_arena_alloc(arena, n * 4);
	keep = obl_arena_alloc(arena, n * 4);
	c1 = obl_arena_alloc(arena, n * 8);
	c2 = obl_arena_alloc(arena, n * 8);
	if (n > 0 && (tc == NULL || tc2 == NULL || seg == NULL || last == NULL ||
			keep == NULL || c1 == NULL || c2 == NULL)) {
		arena->used = mark;
		return OBL_ERR_NOMEM;
	}

	/* augment: sort by (excluded, key, table id) */
	build_side(tc, &l, 0, left, lkeys, nkeys, 0);
	build_side(tc, &l, left->n, right, rkeys, nkeys, 1);
	obl_sort_bitonic(tc, n, l.rec_size, kw);

	/* fill dimensions: per-group counts of each side, forward then back */
	obl_scan_segmented_starts(tc, n, l.rec_size, kwk + 1, seg);
	for (i = 0; i < n; i++) {
		const uint64_t *w = obl_rec_words(tc, &l, i);
		uint32_t in = ct_not((uint32_t)w[0] & 1u);
		uint32_t is_right = (uint32_t)w[kw - 1] & 1u;

		OBL_TRACE_READ(OBL_BUF_RECS, i);
		c1[i] = (int64_t)(in & ct_not(is_right));
		c2[i] = (int64_t)(in & is_right);
		OBL_TRACE_WRITE(OBL_BUF_VALUES, i);
	}
	(void)obl_scan_segmented_i64(c1, seg, n, OBL_SCAN_SUM);
	(void)obl_scan_segmented_i64(c2, seg, n, OBL_SCAN_SUM);
	obl_scan_segmented_mark_last(seg, last, n);
	for (i = n; i-- > 0;) {
		uint64_t *w = obl_rec_words(tc, &l, i);

		OBL_TRACE_READ(OBL_BUF_VALUES, i);
		t1 = ct_u64_mux(last[i], (uint64_t)c1[i], t1);
		t2 = ct_u64_mux(last[i], (uint64_t)c2[i], t2);
		w[kw] = t1;
		w[kw + 1] = t2;
		/* each left row pairs with alpha2 right rows */
		msum += ct_u64_mux((uint32_t)w[kw - 1] & 1u, 0, t2);
		OBL_TRACE_WRITE(OBL_BUF_RECS, i);
	}

	/* split into the left rows and the right rows, each in key order */
	memcpy(tc2, tc, n * l.rec_size);
	for (i = 0; i < n; i++) {
		keep[i] = ct_not((uint32_t)obl_rec_words(tc, &l, i)[kw - 1] & 1u);
		OBL_TRACE_WRITE(OBL_BUF_CTL, i);
	}
	(void)obl_compact(tc, n, l.rec_size, keep);
	for (i = 0; i < n; i++) {
		keep[i] = (uint32_t)obl_rec_words(tc2, &l, i)[kw - 1] & 1u;
		OBL_TRACE_WRITE(OBL_BUF_CTL, i);
	}
	(void)obl_compact(tc2, n, l.rec_size, keep);

	arena->used = flags_mark;      /* keep tc and tc2 only */
	j->n1 = left->n;
	j->n2 = right->n;
	j->rs1 = left->row_size;
	j->rs2 = right->row_size;
	j->key_words = kwk;
	j->rec_size = l.rec_size;
	j->t1 = tc;
	j->t2 = tc2;
	j->m = msum;
	j->arena = arena;
	j->arena_mark = mark;
	return OBL_OK;
}

void obl_join_general_abort(struct obl_join_general *j)
{
	j->arena->used = j->arena_mark;
}

/* Expand the first n records of src (word kw + which = the count) into dst
 * (cap records).
 * Leaks: n, m, cap, rec_size.  Hides: counts, contents. */
static void expand_side(uint8_t *dst, const uint8_t *src, size_t n,
		size_t cap, const struct obl_rec_layout *l, size_t which,
		uint64_t *g, uint32_t *keep, uint8_t *tmp, size_t m)
{
	size_t i;

	memcpy(dst, src, n * l->rec_size);
	for (i = 0; i < n; i++) {
		OBL_TRACE_READ(OBL_BUF_RECS, i);
		g[i] = obl_rec_words(dst, l, i)[l->key_words + which];
		OBL_TRACE_WRITE(OBL_BUF_AUX, i);
	}
	obl_expand(dst, n, cap, l->rec_size, g, m, keep, tmp);
}

/* Expand both sides and align the right copies: on return s1[k] and s2[k]
 * (k < m) are the two rows of the k-th pair.
 * Leaks: n1, n2, m, sizes.  Hides: keys, multiplicities, contents. */
static int expand_and_align(struct obl_join_general *j, size_t m,
		uint8_t **s1_out, uint8_t **s2_out)
{
	struct obl_arena *arena = j->arena;
	struct obl_rec_layout l;
	size_t big1 = j->n1 > m ? j->n1 : m, big2 = j->n2 > m ? j->n2 : m;
	size_t nmax = j->n1 > j->n2 ? j->n1 : j->n2, kwk = j->key_words, kw, p;
	uint8_t *s1, *s2, *tmp;
	uint64_t *g, gstart = 0, ci = 0, cj = 0;
	uint32_t *keep;

	layout(&l, kwk, j->rs1, j->rs2);
	kw = l.key_words;
	s1 = obl_arena_alloc(arena, big1 * l.rec_size);
	s2 = obl_arena_alloc(arena, big2 * l.rec_size);
	g = obl_arena_alloc(arena, nmax * 8);
	keep = obl_arena_alloc(arena, nmax * 4);
	tmp = obl_arena_alloc(arena, l.rec_size);
	if (tmp == NULL || (big1 > 0 && s1 == NULL) || (big2 > 0 && s2 == NULL) ||
			(nmax > 0 && (g == NULL || keep == NULL)))
		return OBL_ERR_NOMEM;

	/* left rows repeat alpha2 times, right rows alpha1 times */
	expand_side(s1, j->t1, j->n1, big1, &l, 1, g, keep, tmp, m);
	expand_side(s2, j->t2, j->n2, big2, &l, 0, g, keep, tmp, m);

	/* align: in a group, right row b's copy i goes to i * alpha2 + b */
	for (p = 0; p < m; p++) {
		uint64_t *w = obl_rec_words(s2, &l, p);
		uint32_t start = ct_u64_eq((uint64_t)p, 0);
		uint64_t a1 = w[kw], a2 = w[kw + 1], ni;
		uint32_t wrap;

		OBL_TRACE_READ(OBL_BUF_RECS, p);
		if (p > 0)
			start |= ct_not(ct_key_eq(w + 1,
				obl_rec_words(s2, &l, p - 1) + 1, kwk));
		ni = ci + 1;
		wrap = ct_u64_eq(ni, a1);
		cj = ct_u64_mux(start, 0, cj + wrap);
		ci = ct_u64_mux(start | wrap, 0, ni);
		gstart = ct_u64_mux(start, (uint64_t)p, gstart);
		w[0] = gstart + ci * a2 + cj;
		OBL_TRACE_WRITE(OBL_BUF_RECS, p);
	}
	obl_sort_bitonic(s2, m, l.rec_size, 1);
	*s1_out = s1;
	*s2_out = s2;
	return OBL_OK;
}

/* see op_join.h */
int obl_join_general_finish(struct obl_join_general *j, uint64_t m_public,
		const struct obl_keep_fn *residual, uint8_t *out,
		uint32_t *out_is_real, uint64_t *m_out)
{
	size_t m = (size_t)m_public, orow = j->rs1 + j->rs2, k;
	size_t row_off = 8 * (j->key_words + 4);
	uint8_t *s1, *s2;
	uint32_t *keep;
	int rc;

	rc = expand_and_align(j, m, &s1, &s2);
	if (rc != OBL_OK) {
		obl_join_general_abort(j);
		return rc;
	}
	keep = obl_arena_alloc(j->arena, m * 4);
	if (m > 0 && keep == NULL) {
		obl_join_general_abort(j);
		return OBL_ERR_NOMEM;
	}
	/* zip */
	for (k = 0; k < m; k++) {
		OBL_TRACE_READ(OBL_BUF_RECS, k);
		memcpy(out + k * orow, s1 + k * j->rec_size + row_off, j->rs1);
		memcpy(out + k * orow + j->rs1, s2 + k * j->rec_size + row_off,
			j->rs2);
		keep[k] = 1;
		OBL_TRACE_WRITE(OBL_BUF_OUT, k);
	}
	if (residual != NULL && residual->fn != NULL) {
		residual->fn(out, m, orow, keep, residual->ctx);
		for (k = 0; k < m; k++)
			keep[k] &= 1u;
		*m_out = obl_compact(out, m, orow, keep);
		obl_zero_dummies(out, m, orow, keep);
	} else {
		*m_out = m;
	}
	for (k = 0; k < m; k++)
		out_is_real[k] = keep[k];
	obl_join_general_abort(j);
	return OBL_OK;
}

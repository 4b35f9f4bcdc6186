/*
 * op_aggregate_fast.c - NOT oblivious: leaks access patterns. The
 * encrypted-mode GROUP BY (see op_aggregate.h): merge sort by (dummy, group
 * key), then one pass per group with ordinary branches; COUNT(DISTINCT)
 * sorts the group's non-NULL x keys and counts runs.
 */
#include "op_aggregate.h"

#include <string.h>

#include "../trace.h"
#include "agg_values.h"
#include "fast_sort.h"

/* NOT oblivious. */
static struct obl_key_spec fast_distinct_spec(const struct obl_agg_spec *s)
{
	struct obl_key_spec k;

	memset(&k, 0, sizeof(k));
	k.col.type = s->type;
	k.col.offset = s->offset;
	k.col.width = s->width;
	return k;
}

static void fast_put(uint8_t *orow, size_t row_size, size_t naggs, size_t a,
		uint64_t value, int is_null)
{
	if (is_null)
		value = 0;
	memcpy(orow + obl_round8(row_size) + 8 * a, &value, 8);
	orow[obl_round8(row_size) + 8 * naggs + a] = (uint8_t)is_null;
}

static int fast_null(const uint8_t *row, const struct obl_agg_spec *s)
{
	return s->nullable && ((row[s->null_offset] >> s->null_bit) & 1);
}

/* NOT oblivious: one aggregate over the rows of one group. */
static void fast_agg(uint8_t *recs, const struct obl_rec_layout *l,
		size_t lo, size_t hi, const struct obl_agg_spec *s, size_t a,
		size_t naggs, uint8_t *orow, uint8_t *xk, uint8_t *xtmp)
{
	int is_f64 = s->type == OBL_KEY_FLOAT64, is_uint = s->type == OBL_KEY_UINT;
	uint64_t isum = 0, cnt = 0;
	double fsum = 0;
	int64_t best = 0;
	size_t i;

	if (s->fn == OBL_AGG_COUNT_STAR) {
		fast_put(orow, l->row_size, naggs, a, hi - lo, 0);
		return;
	}
	if (s->fn == OBL_AGG_COUNT_DISTINCT) {
		struct obl_key_spec xs = fast_distinct_spec(s);
		size_t xw = obl_key_spec_words(&xs, 1), k = 0, d = 0;

		for (i = lo; i < hi; i++) {
			const uint8_t *row = obl_rec_row(recs, l, i);

			if (fast_null(row, s))
				continue;
			(void)obl_key_spec_encode_row(row, &xs, 1,
				(uint64_t *)(void *)(xk + k * 8 * xw));
			k++;
		}
		fast_sort_recs(xk, k, 8 * xw, xw, xtmp);
		for (i = 0; i < k; i++)
			if (i == 0 || fast_key_cmp((uint64_t *)(void *)(xk + i * 8 * xw),
					(uint64_t *)(void *)(xk + (i - 1) * 8 * xw), xw) != 0)
				d++;
		fast_put(orow, l->row_size, naggs, a, d, 0);
		return;
	}
	for (i = lo; i < hi; i++) {
		const uint8_t *row = obl_rec_row(recs, l, i);
		uint64_t x;
		int64_t o;

		OBL_TRACE_READ(OBL_BUF_RECS, i);
		if (fast_null(row, s))
			continue;
		x = agg_load(row, s);
		o = is_f64 ? agg_f64_to_ord(x) : is_uint ? (int64_t)(x ^ AGG_SIGN64) :
			(int64_t)x;
		if (cnt == 0 || (s->fn == OBL_AGG_MIN && o < best) ||
				(s->fn == OBL_AGG_MAX && o > best))
			best = o;
		isum += x;
		fsum += agg_as_double(x);
		cnt++;
	}
	switch (s->fn) {
	case OBL_AGG_COUNT:
		fast_put(orow, l->row_size, naggs, a, cnt, 0);
		break;
	case OBL_AGG_SUM:
		fast_put(orow, l->row_size, naggs, a,
			is_f64 ? agg_double_bits(fsum) : isum, cnt == 0);
		break;
	case OBL_AGG_MIN:
	case OBL_AGG_MAX:
		fast_put(orow, l->row_size, naggs, a,
			is_f64 ? agg_ord_to_f64(best) :
			is_uint ? (uint64_t)best ^ AGG_SIGN64 : (uint64_t)best,
			cnt == 0);
		break;
	default: { /* AVG */
		double num = is_f64 ? fsum : is_uint ? (double)isum :
			(double)(int64_t)isum;

		fast_put(orow, l->row_size, naggs, a,
			agg_double_bits(cnt ? num / (double)cnt : 0), cnt == 0);
		break;
	}
	}
}

/* NOT oblivious: leaks access patterns. */
int op_aggregate_fast(const struct obl_table *in,
		const struct obl_key_spec *keys, size_t nkeys,
		const struct obl_agg_spec *aggs, size_t naggs,
		uint8_t *out, uint32_t *out_is_real, size_t cap, uint64_t *m,
		struct obl_arena *arena)
{
	size_t mark = arena->used, n = in->n, rs = in->row_size;
	size_t kw, orow, xw = 0, i, a, k = 0;
	struct obl_rec_layout l;
	uint8_t *recs, *tmp, *xk, *xtmp;

	if (obl_aggregate_check(rs, keys, nkeys, aggs, naggs) != 0 ||
			(nkeys == 0 && cap < 1))
		return OBL_ERR_PARAM;
	for (a = 0; a < naggs; a++) {
		if (aggs[a].fn == OBL_AGG_COUNT_DISTINCT) {
			struct obl_key_spec xs = fast_distinct_spec(&aggs[a]);
			size_t w = obl_key_spec_words(&xs, 1);

			xw = w > xw ? w : xw;
		}
	}
	kw = 1 + obl_key_spec_words(keys, nkeys);
	obl_rec_layout_init(&l, kw, 0, rs);
	orow = obl_agg_out_row_size(rs, naggs);
	recs = obl_arena_alloc(arena, n * l.rec_size);
	tmp = obl_arena_alloc(arena, n * l.rec_size);
	xk = obl_arena_alloc(arena, n * 8 * (xw + 1));
	xtmp = obl_arena_alloc(arena, n * 8 * (xw + 1));
	if (n > 0 && (recs == NULL || tmp == NULL || xk == NULL || xtmp == NULL)) {
		arena->used = mark;
		return OBL_ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		uint64_t *w = obl_rec_words(recs, &l, i);

		w[0] = obl_table_real(in, i) ? 0 : 1;
		(void)obl_key_spec_encode_row(in->rows + i * rs, keys, nkeys, w + 1);
		memcpy(obl_rec_row(recs, &l, i), in->rows + i * rs, rs);
	}
	fast_sort_recs(recs, n, l.rec_size, kw, tmp);
	memset(out, 0, cap * orow);
	for (i = 0; i < n;) {
		const uint64_t *w = obl_rec_words(recs, &l, i);
		size_t e = i + 1;

		if (w[0] != 0)
			break;          /* dummies sort last */
		while (e < n && fast_key_cmp(obl_rec_words(recs, &l, e), w, kw) == 0)
			e++;
		if (k < cap) {
			uint8_t *o = out + k * orow;

			memcpy(o, obl_rec_row(recs, &l, e - 1), rs);
			for (a = 0; a < naggs; a++)
				fast_agg(recs, &l, i, e, &aggs[a], a, naggs, o, xk, xtmp);
			OBL_TRACE_WRITE(OBL_BUF_OUT, k);
		}
		k++;
		i = e;
	}
	if (nkeys == 0 && k == 0) {
		for (a = 0; a < naggs; a++)
			fast_put(out, rs, naggs, a, 0, !agg_is_count(aggs[a].fn));
		k = 1;
	}
	for (i = 0; i < cap; i++)
		out_is_real[i] = i < k;
	*m = k;
	arena->used = mark;
	return OBL_OK;
}

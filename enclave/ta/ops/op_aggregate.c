/*
 * op_aggregate.c - obl_aggregate: sort + segmented scans + compaction (see
 * op_aggregate.h). Record layout (op_common.h): key words = [dummy flag |
 * group key words], no aux words, then the input row.
 */
#include "op_aggregate.h"

#include <string.h>

#include "../ct.h"
#include "../trace.h"
#include "agg_values.h"
#include "compact_or.h"
#include "scan_segmented.h"
#include "sort_bitonic.h"

/* see op_aggregate.h */
size_t obl_agg_out_row_size(size_t row_size, size_t naggs)
{
	return obl_round8(row_size) + 8 * naggs + obl_round8(naggs);
}

static int value_type_ok(const struct obl_agg_spec *s)
{
	if (s->type == OBL_KEY_FLOAT64)
		return s->width == 8;
	if (s->type == OBL_KEY_INT || s->type == OBL_KEY_UINT)
		return s->width == 1 || s->width == 2 || s->width == 4 ||
			s->width == 8;
	return 0;
}

static int agg_spec_ok(const struct obl_agg_spec *s, size_t row_size)
{
	struct obl_key_col c;

	if (s->reserved != 0 || s->nullable > 1 || s->null_bit > 7)
		return 0;
	if (s->nullable && (size_t)s->null_offset >= row_size)
		return 0;
	switch (s->fn) {
	case OBL_AGG_COUNT_STAR:
		return 1;
	case OBL_AGG_COUNT_DISTINCT:
		c.type = s->type;
		c.descending = 0;
		c.offset = s->offset;
		c.width = s->width;
		c.reserved = 0;
		return obl_key_encode_check(&c, 1, row_size) == 0;
	case OBL_AGG_COUNT:
	case OBL_AGG_SUM:
	case OBL_AGG_MIN:
	case OBL_AGG_MAX:
	case OBL_AGG_AVG:
		return value_type_ok(s) && (size_t)s->offset <= row_size &&
			(size_t)s->width <= row_size - s->offset;
	default:
		return 0;
	}
}

/* see op_aggregate.h */
int obl_aggregate_check(size_t row_size, const struct obl_key_spec *keys,
		size_t nkeys, const struct obl_agg_spec *aggs, size_t naggs)
{
	size_t i;

	if (row_size == 0 || obl_key_spec_check(keys, nkeys, row_size) != 0)
		return -1;
	if (nkeys > 0 && obl_key_spec_words(keys, nkeys) == 0)
		return -1;
	for (i = 0; i < naggs; i++)
		if (!agg_spec_ok(&aggs[i], row_size))
			return -1;
	return 0;
}

/* The key spec of a COUNT(DISTINCT x) column. */
static struct obl_key_spec distinct_spec(const struct obl_agg_spec *s)
{
	struct obl_key_spec k;

	memset(&k, 0, sizeof(k));
	k.col.type = s->type;
	k.col.offset = s->offset;
	k.col.width = s->width;
	k.null_offset = s->null_offset;
	k.null_bit = s->null_bit;
	k.nullable = s->nullable;
	return k;
}

/* Largest key-word count of the COUNT(DISTINCT) columns (0 if none). */
static size_t max_distinct_words(const struct obl_agg_spec *aggs, size_t naggs)
{
	size_t i, w = 0;

	for (i = 0; i < naggs; i++) {
		if (aggs[i].fn == OBL_AGG_COUNT_DISTINCT) {
			struct obl_key_spec k = distinct_spec(&aggs[i]);
			size_t kw = obl_key_spec_words(&k, 1);

			w = kw > w ? kw : w;
		}
	}
	return w;
}

/* see op_aggregate.h */
size_t obl_aggregate_work_bytes(size_t n, size_t row_size,
		const struct obl_key_spec *keys, size_t nkeys,
		const struct obl_agg_spec *aggs, size_t naggs)
{
	struct obl_rec_layout l;
	size_t xw = max_distinct_words(aggs, naggs);
	size_t orow = obl_agg_out_row_size(row_size, naggs);
	size_t kw = 1 + obl_key_spec_words(keys, nkeys);
	size_t nn = n > 0 ? n : 1;
	size_t obl, fast;

	obl_rec_layout_init(&l, kw, 0, row_size);
	obl = obl_arena_cost(n * l.rec_size) + 3 * obl_arena_cost(n * 4) +
		2 * obl_arena_cost(n * 8) + obl_arena_cost(nn * orow) +
		obl_arena_cost(orow);
	if (xw > 0)
		obl += obl_arena_cost(n * 8 * (kw + xw + 1)) +
			2 * obl_arena_cost(n * 4);
	fast = 2 * obl_arena_cost(n * l.rec_size) + obl_arena_cost(orow) +
		2 * obl_arena_cost(n * 8 * (xw + 1));
	return obl > fast ? obl : fast;
}

/* Segmented inclusive double sum over bit patterns (the double analogue
 * of obl_scan_segmented_i64's SUM): restart or add, chosen by a ctl. The
 * addition always executes; its latency does not depend on the operands on
 * the supported cores except for subnormal operands or results.
 * Leaks: n.  Hides: values, segment boundaries. */
static void scan_sum_f64(uint64_t *bits, const uint32_t *seg, size_t n)
{
	uint64_t acc = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t start = seg[i] | ct_u64_eq((uint64_t)i, 0);
		uint64_t sum;

		OBL_TRACE_READ(OBL_BUF_VALUES, i);
		sum = agg_double_bits(agg_as_double(acc) + agg_as_double(bits[i]));
		acc = ct_u64_mux(start, bits[i], sum);
		bits[i] = acc;
		OBL_TRACE_WRITE(OBL_BUF_VALUES, i);
	}
}

/* Result slot helpers of an output row. */
static void put_result(uint8_t *orow, size_t row_size, size_t naggs,
		size_t a, uint64_t value, uint32_t is_null)
{
	uint8_t *v = orow + obl_round8(row_size) + 8 * a;
	uint64_t val = ct_u64_mux(is_null, 0, value);

	memcpy(v, &val, 8);
	orow[obl_round8(row_size) + 8 * naggs + a] = (uint8_t)is_null;
}

/* One aggregate over the sorted records: running values in vals (and
 * non-NULL counts in cnt), written into every output record; the value at
 * a group's last row is the group's result.
 * Leaks: n, the spec.  Hides: values, NULLs, segment boundaries. */
static void run_agg(uint8_t *recs, const struct obl_rec_layout *l, size_t n,
		const struct obl_agg_spec *s, size_t a, size_t naggs,
		const uint32_t *seg, int64_t *vals, int64_t *cnt,
		uint8_t *outrecs, size_t orow)
{
	int is_f64 = s->type == OBL_KEY_FLOAT64;
	int is_uint = s->type == OBL_KEY_UINT;
	size_t i;

	for (i = 0; i < n; i++) {
		const uint8_t *row = obl_rec_row(recs, l, i);
		uint32_t valid = ct_not(obl_row_null_flag(row, s->null_offset,
			s->null_bit, s->nullable));
		uint64_t x = s->fn == OBL_AGG_COUNT_STAR ||
			s->fn == OBL_AGG_COUNT_DISTINCT ? 0 : agg_load(row, s);
		uint64_t v;

		OBL_TRACE_READ(OBL_BUF_RECS, i);
		switch (s->fn) {
		case OBL_AGG_COUNT:
			v = valid;
			break;
		case OBL_AGG_MIN:
			v = is_f64 ? (uint64_t)agg_f64_to_ord(x) :
				is_uint ? x ^ AGG_SIGN64 : x;
			v = ct_u64_mux(valid, v, (uint64_t)INT64_MAX);
			break;
		case OBL_AGG_MAX:
			v = is_f64 ? (uint64_t)agg_f64_to_ord(x) :
				is_uint ? x ^ AGG_SIGN64 : x;
			v = ct_u64_mux(valid, v, (uint64_t)INT64_MIN);
			break;
		case OBL_AGG_SUM:
		case OBL_AGG_AVG:
			v = ct_u64_mux(valid, x, 0);
			break;
		default: /* COUNT_STAR, COUNT_DISTINCT */
			v = 0;
			break;
		}
		vals[i] = (int64_t)v;
		cnt[i] = (int64_t)valid;
		OBL_TRACE_WRITE(OBL_BUF_VALUES, i);
	}

	switch (s->fn) {
	case OBL_AGG_COUNT_STAR:
		(void)obl_scan_segmented_i64(vals, seg, n, OBL_SCAN_COUNT);
		break;
	case OBL_AGG_COUNT:
		(void)obl_scan_segmented_i64(vals, seg, n, OBL_SCAN_SUM);
		break;
	case OBL_AGG_MIN:
		(void)obl_scan_segmented_i64(vals, seg, n, OBL_SCAN_MIN);
		break;
	case OBL_AGG_MAX:
		(void)obl_scan_segmented_i64(vals, seg, n, OBL_SCAN_MAX);
		break;
	case OBL_AGG_SUM:
	case OBL_AGG_AVG:
		if (is_f64)
			scan_sum_f64((uint64_t *)vals, seg, n);
		else
			(void)obl_scan_segmented_i64(vals, seg, n, OBL_SCAN_SUM);
		break;
	default:
		break;
	}
	if (!agg_is_count(s->fn))
		(void)obl_scan_segmented_i64(cnt, seg, n, OBL_SCAN_SUM);

	for (i = 0; i < n; i++) {
		uint64_t v = (uint64_t)vals[i], c = (uint64_t)cnt[i];
		uint32_t is_null = agg_is_count(s->fn) ? 0 : ct_u64_eq(c, 0);

		OBL_TRACE_READ(OBL_BUF_VALUES, i);
		switch (s->fn) {
		case OBL_AGG_MIN:
		case OBL_AGG_MAX:
			v = is_f64 ? agg_ord_to_f64((int64_t)v) :
				is_uint ? v ^ AGG_SIGN64 : v;
			break;
		case OBL_AGG_AVG: {
			double num = is_f64 ? agg_as_double(v) :
				is_uint ? (double)v : (double)(int64_t)v;
			double den = (double)(int64_t)ct_u64_mux(is_null, 1, c);

			v = agg_double_bits(num / den);
			break;
		}
		default:
			break;
		}
		put_result(outrecs + i * orow, l->row_size, naggs, a, v, is_null);
		OBL_TRACE_WRITE(OBL_BUF_OUT, i);
	}
}

/* Scratch of one COUNT(DISTINCT) pass. */
struct distinct_work {
	uint8_t *recs2;
	uint32_t *starts;    /* (group, x) starts */
	uint32_t *keep2;
};

/* COUNT(DISTINCT x) for aggregate a: sort (dummy, group key, x), count the
 * starts of non-NULL x runs per group, compact the group ends; entry i then
 * belongs to output group i.
 * Leaks: n, the specs.  Hides: keys, x values, NULLs, group sizes. */
static void run_distinct(uint8_t *recs, const struct obl_rec_layout *l,
		size_t n, const struct obl_agg_spec *s, size_t a, size_t naggs,
		uint32_t *seg, uint32_t *last, int64_t *vals,
		struct distinct_work *w, uint8_t *outrecs, size_t orow)
{
	struct obl_key_spec xs = distinct_spec(s);
	size_t xw = obl_key_spec_words(&xs, 1);
	size_t kw = l->key_words, kw2 = kw + xw;
	struct obl_rec_layout l2;
	size_t i;

	obl_rec_layout_init(&l2, kw2, 1, 0);
	for (i = 0; i < n; i++) {
		uint64_t *src = obl_rec_words(recs, l, i);
		uint64_t *dst = obl_rec_words(w->recs2, &l2, i);
		uint32_t is_null;

		OBL_TRACE_READ(OBL_BUF_RECS, i);
		memcpy(dst, src, 8 * kw);
		is_null = obl_key_spec_encode_row(obl_rec_row(recs, l, i), &xs, 1,
			dst + kw);
		dst[kw2] = ct_not(is_null);
		OBL_TRACE_WRITE(OBL_BUF_AUX, i);
	}
	obl_sort_bitonic(w->recs2, n, l2.rec_size, kw2);
	obl_scan_segmented_starts(w->recs2, n, l2.rec_size, kw, seg);
	obl_scan_segmented_starts(w->recs2, n, l2.rec_size, kw2, w->starts);
	obl_scan_segmented_mark_last(seg, last, n);
	for (i = 0; i < n; i++) {
		const uint64_t *r = obl_rec_words(w->recs2, &l2, i);

		OBL_TRACE_READ(OBL_BUF_AUX, i);
		vals[i] = (int64_t)(w->starts[i] & (uint32_t)r[kw2]);
		w->keep2[i] = last[i] & ct_not((uint32_t)r[0]);
		OBL_TRACE_WRITE(OBL_BUF_VALUES, i);
	}
	(void)obl_scan_segmented_i64(vals, seg, n, OBL_SCAN_SUM);
	(void)obl_compact((uint8_t *)vals, n, 8, w->keep2);
	for (i = 0; i < n; i++) {
		OBL_TRACE_READ(OBL_BUF_VALUES, i);
		put_result(outrecs + i * orow, l->row_size, naggs, a,
			(uint64_t)vals[i], 0);
		OBL_TRACE_WRITE(OBL_BUF_OUT, i);
	}
}

/* see op_aggregate.h */
int obl_aggregate(const struct obl_table *in, const struct obl_key_spec *keys,
		size_t nkeys, const struct obl_agg_spec *aggs, size_t naggs,
		uint8_t *out, uint32_t *out_is_real, size_t cap, uint64_t *m,
		struct obl_arena *arena)
{
	size_t mark = arena->used, n = in->n, rs = in->row_size;
	size_t kw, orow, nn = n > 0 ? n : 1, xw, i, a;
	struct obl_rec_layout l;
	struct distinct_work dw = { NULL, NULL, NULL };
	uint8_t *recs, *outrecs, *empty;
	uint32_t *seg, *last, *keep;
	int64_t *vals, *cnt;
	uint64_t groups;

	if (obl_aggregate_check(rs, keys, nkeys, aggs, naggs) != 0 ||
			n > UINT32_MAX || (nkeys == 0 && cap < 1))
		return OBL_ERR_PARAM;
	kw = 1 + obl_key_spec_words(keys, nkeys);
	obl_rec_layout_init(&l, kw, 0, rs);
	orow = obl_agg_out_row_size(rs, naggs);
	xw = max_distinct_words(aggs, naggs);

	recs = obl_arena_alloc(arena, n * l.rec_size);
	seg = obl_arena_alloc(arena, n * 4);
	last = obl_arena_alloc(arena, n * 4);
	keep = obl_arena_alloc(arena, n * 4);
	vals = obl_arena_alloc(arena, n * 8);
	cnt = obl_arena_alloc(arena, n * 8);
	outrecs = obl_arena_alloc(arena, nn * orow);
	empty = obl_arena_alloc(arena, orow);
	if (xw > 0) {
		dw.recs2 = obl_arena_alloc(arena, n * 8 * (kw + xw + 1));
		dw.starts = obl_arena_alloc(arena, n * 4);
		dw.keep2 = obl_arena_alloc(arena, n * 4);
	}
	if (outrecs == NULL || empty == NULL || (n > 0 && (recs == NULL ||
			seg == NULL || last == NULL || keep == NULL ||
			vals == NULL || cnt == NULL || (xw > 0 &&
			(dw.recs2 == NULL || dw.starts == NULL ||
			 dw.keep2 == NULL))))) {
		arena->used = mark;
		return OBL_ERR_NOMEM;
	}

	/* records: [dummy flag | group key | row] */
	for (i = 0; i < n; i++) {
		uint64_t *w = obl_rec_words(recs, &l, i);
		const uint8_t *row = in->rows + i * rs;

		OBL_TRACE_READ(OBL_BUF_ROWS, i);
		w[0] = ct_not(obl_table_real(in, i));
		(void)obl_key_spec_encode_row(row, keys, nkeys, w + 1);
		memcpy(obl_rec_row(recs, &l, i), row, rs);
		OBL_TRACE_WRITE(OBL_BUF_RECS, i);
	}
	obl_sort_bitonic(recs, n, l.rec_size, kw);
	obl_scan_segmented_starts(recs, n, l.rec_size, kw, seg);
	obl_scan_segmented_mark_last(seg, last, n);

	for (i = 0; i < n; i++) {
		OBL_TRACE_READ(OBL_BUF_RECS, i);
		memcpy(outrecs + i * orow, obl_rec_row(recs, &l, i), rs);
		keep[i] = last[i] & ct_not((uint32_t)obl_rec_words(recs, &l, i)[0]);
		OBL_TRACE_WRITE(OBL_BUF_OUT, i);
	}
	for (a = 0; a < naggs; a++)
		run_agg(recs, &l, n, &aggs[a], a, naggs, seg, vals, cnt,
			outrecs, orow);
	groups = obl_compact(outrecs, n, orow, keep);
	for (a = 0; a < naggs; a++)
		if (aggs[a].fn == OBL_AGG_COUNT_DISTINCT)
			run_distinct(recs, &l, n, &aggs[a], a, naggs, seg, last,
				vals, &dw, outrecs, orow);

	if (nkeys == 0) {
		/* SQL: a global aggregate has one row, also over no rows */
		uint32_t none = ct_u64_eq(groups, 0), one = 1;

		for (a = 0; a < naggs; a++)
			put_result(empty, rs, naggs, a, 0,
				agg_is_count(aggs[a].fn) ? 0 : 1);
		ct_copy(none, outrecs, empty, orow);
		OBL_TRACE_WRITE(OBL_BUF_OUT, 0);
		groups = 1;
		obl_emit_rows(outrecs, 1, orow, 0, orow, &one, out, out_is_real, cap);
	} else {
		obl_emit_rows(outrecs, n, orow, 0, orow, keep, out, out_is_real, cap);
	}
	*m = groups;
	arena->used = mark;
	return OBL_OK;
}

/*
 * op_aggregate_fast.c - NOT oblivious: leaks access patterns. The
 * encrypted-mode GROUP BY (see op_aggregate.h). Without COUNT(DISTINCT):
 * a hash aggregate (open addressing on the encoded group key words, one
 * pass over the rows), then a merge sort of the m groups only, for the
 * key order the contract promises. With COUNT(DISTINCT), or when the
 * arena cannot hold the hash tables: merge sort by (dummy, group key),
 * then one pass per group with ordinary branches; COUNT(DISTINCT) sorts
 * the group's non-NULL x keys and counts runs.
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

/* NOT oblivious: leaks access patterns. The sort-based GROUP BY: writes
 * out[0..min(m, cap)) only (not the ctls, nor a global aggregate's row
 * over no rows: fast_aggregate_prefix does). */
static int fast_aggregate_sorted(const struct obl_table *in,
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
		(void)fast_key_encode_row(in->rows + i * rs, keys, nkeys, w + 1);
		memcpy(obl_rec_row(recs, &l, i), in->rows + i * rs, rs);
	}
	fast_sort_recs(recs, n, l.rec_size, kw, tmp);
	for (i = 0; i < n;) {
		const uint64_t *w = obl_rec_words(recs, &l, i);
		size_t e = i + 1;

		if (w[0] != 0)
			break;          /* dummies sort last */
		while (e < n && fast_key_cmp(obl_rec_words(recs, &l, e), w, kw) == 0)
			e++;
		if (k < cap) {
			uint8_t *o = out + k * orow;

			memset(o, 0, orow);
			memcpy(o, obl_rec_row(recs, &l, e - 1), rs);
			for (a = 0; a < naggs; a++)
				fast_agg(recs, &l, i, e, &aggs[a], a, naggs, o, xk, xtmp);
			OBL_TRACE_WRITE(OBL_BUF_OUT, k);
		}
		k++;
		i = e;
	}
	(void)out_is_real;	/* the caller writes the ctls */
	*m = k;
	arena->used = mark;
	return OBL_OK;
}

/* Group record words: [key (kw) | representative row index | row count |
 * naggs x (value, non-NULL count)]; value is the wrapping int64 sum, the
 * double sum's bits, or the running MIN/MAX in agg_f64_to_ord order. */
#define G_REP(kw) (kw)
#define G_ROWS(kw) ((kw) + 1)
#define G_ACC(kw, a) ((kw) + 2 + 2 * (a))

/* agg_load with fast_load_le (same value: INT narrower than 8 bytes is
 * sign-extended). NOT oblivious. */
static inline uint64_t fast_agg_load(const uint8_t *row,
		const struct obl_agg_spec *s)
{
	uint64_t v = fast_load_le(row + s->offset, s->width);

	if (s->type == OBL_KEY_INT && s->width < 8) {
		unsigned sh = 64 - 8 * s->width;

		v = (uint64_t)((int64_t)(v << sh) >> sh);
	}
	return v;
}

/* NOT oblivious: fold one row into aggregate a (NULLs skipped). */
static inline void hash_fold(uint64_t *acc, const uint8_t *row,
		const struct obl_agg_spec *s)
{
	int is_f64 = s->type == OBL_KEY_FLOAT64, is_uint = s->type == OBL_KEY_UINT;
	uint64_t x;
	int64_t o;

	if (s->fn == OBL_AGG_COUNT_STAR || fast_null(row, s))
		return;
	x = fast_agg_load(row, s);
	switch (s->fn) {
	case OBL_AGG_MIN:
	case OBL_AGG_MAX:
		o = is_f64 ? agg_f64_to_ord(x) : is_uint ?
			(int64_t)(x ^ AGG_SIGN64) : (int64_t)x;
		if (acc[1] == 0 || (s->fn == OBL_AGG_MIN && o < (int64_t)acc[0]) ||
				(s->fn == OBL_AGG_MAX && o > (int64_t)acc[0]))
			acc[0] = (uint64_t)o;
		break;
	case OBL_AGG_SUM:
	case OBL_AGG_AVG:
		if (is_f64)
			acc[0] = agg_double_bits(agg_as_double(acc[0]) +
					agg_as_double(x));
		else
			acc[0] += x;
		break;
	default:
		break;
	}
	acc[1]++;
}

/* NOT oblivious: the result of aggregate a of one group. */
static void hash_result(uint8_t *orow, size_t rs, size_t naggs, size_t a,
		const struct obl_agg_spec *s, const uint64_t *acc, uint64_t rows)
{
	int is_f64 = s->type == OBL_KEY_FLOAT64, is_uint = s->type == OBL_KEY_UINT;
	uint64_t v = acc[0], cnt = acc[1];

	switch (s->fn) {
	case OBL_AGG_COUNT_STAR:
		fast_put(orow, rs, naggs, a, rows, 0);
		break;
	case OBL_AGG_COUNT:
		fast_put(orow, rs, naggs, a, cnt, 0);
		break;
	case OBL_AGG_SUM:
		fast_put(orow, rs, naggs, a, v, cnt == 0);
		break;
	case OBL_AGG_MIN:
	case OBL_AGG_MAX:
		fast_put(orow, rs, naggs, a, is_f64 ? agg_ord_to_f64((int64_t)v) :
			is_uint ? v ^ AGG_SIGN64 : v, cnt == 0);
		break;
	default: { /* AVG */
		double num = is_f64 ? agg_as_double(v) : is_uint ? (double)v :
			(double)(int64_t)v;

		fast_put(orow, rs, naggs, a,
			agg_double_bits(cnt ? num / (double)cnt : 0), cnt == 0);
		break;
	}
	}
}

/* log2 of the slot count for at most g groups: the power of two >= 2g,
 * at least 16 (load factor <= 1/2). Public. */
static unsigned hash_slot_bits(size_t g)
{
	unsigned b = 4;

	while (((size_t)1 << b) < 2 * g)
		b++;
	return b;
}

/* What fast_aggregate_hash takes from the arena for at most g groups (the
 * same allocations), or 0 when it refuses these sizes. Public. */
static size_t hash_work_bytes(size_t g, size_t kw, size_t naggs)
{
	size_t gw = kw + 2 + 2 * naggs;

	if (g >= UINT32_MAX / 4 || gw > SIZE_MAX / 8 / (g + 1) ||
	    kw + 1 > SIZE_MAX / 8 / (g + 1))
		return 0;
	return obl_arena_cost(((size_t)1 << hash_slot_bits(g)) * 4) +
		obl_arena_cost((g + 1) * gw * 8) +
		obl_arena_cost((kw + 1) * 8) +
		2 * obl_arena_cost((g + 1) * (kw + 1) * 8);
}

static int has_count_distinct(const struct obl_agg_spec *aggs, size_t naggs)
{
	size_t a;

	for (a = 0; a < naggs; a++)
		if (aggs[a].fn == OBL_AGG_COUNT_DISTINCT)
			return 1;
	return 0;
}

/* see op_aggregate.h */
size_t op_aggregate_fast_work_bytes(size_t n, size_t row_size,
		const struct obl_key_spec *keys, size_t nkeys,
		const struct obl_agg_spec *aggs, size_t naggs)
{
	size_t h = has_count_distinct(aggs, naggs) ? 0 :
		hash_work_bytes(n, obl_key_spec_words(keys, nkeys), naggs);

	return h ? h : obl_aggregate_work_bytes(n, row_size, keys, nkeys,
			aggs, naggs);
}

/* see op_aggregate.h */
size_t op_aggregate_fast_hash_work_bytes(size_t groups,
		const struct obl_key_spec *keys, size_t nkeys,
		const struct obl_agg_spec *aggs, size_t naggs)
{
	if (has_count_distinct(aggs, naggs))
		return 0;
	return hash_work_bytes(groups, obl_key_spec_words(keys, nkeys), naggs);
}

/* The most groups (<= n) whose hash tables fit in avail bytes, or
 * SIZE_MAX if not even none fit. Public: a function of sizes. */
static size_t hash_groups_fit(size_t n, size_t kw, size_t naggs, size_t avail)
{
	size_t lo = 0, hi = n, w;

	w = hash_work_bytes(n, kw, naggs);
	if (w != 0 && w <= avail)
		return n;
	w = hash_work_bytes(0, kw, naggs);
	if (w == 0 || w > avail)
		return SIZE_MAX;
	while (lo + 1 < hi) {		/* fits(lo), !fits(hi) */
		size_t mid = lo + (hi - lo) / 2;

		w = hash_work_bytes(mid, kw, naggs);
		if (w != 0 && w <= avail)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* The hash GROUP BY (no COUNT(DISTINCT)): 1 on success (out[0..min(m,
 * cap)) written, nothing beyond), 0 when the arena cannot hold the
 * tables or more groups turn up than it can hold (nothing written to out;
 * the caller falls back). The groups array holds as many groups as fit
 * the arena (at most n); the slot table starts small and doubles at half
 * load, so clearing it costs O(m). Rows are folded in place: one pass,
 * open addressing with linear probing on the encoded key words.
 * NOT oblivious: leaks access patterns (group sizes, hashes, m). */
static int fast_aggregate_hash(const struct obl_table *in,
		const struct obl_key_spec *keys, size_t nkeys,
		const struct obl_agg_spec *aggs, size_t naggs,
		uint8_t *out, size_t cap, uint64_t *m_out,
		struct obl_arena *arena)
{
	size_t n = in->n, rs = in->row_size, kw = obl_key_spec_words(keys, nkeys);
	size_t gw = kw + 2 + 2 * naggs, orow = obl_agg_out_row_size(rs, naggs);
	size_t gmax, m = 0, i, a, t;
	unsigned bits = 4, maxbits;
	uint32_t *slots;
	uint64_t *groups, *key, *recs, *tmp;

	gmax = hash_groups_fit(n, kw, naggs, arena->size - arena->used);
	if (gmax == SIZE_MAX)
		return 0;
	maxbits = hash_slot_bits(gmax);
	slots = obl_arena_take(arena, ((size_t)1 << maxbits) * 4);
	groups = obl_arena_take(arena, (gmax + 1) * gw * 8);
	key = obl_arena_alloc(arena, (kw + 1) * 8);
	if (slots == NULL || groups == NULL || key == NULL)
		return 0;
	memset(slots, 0, ((size_t)1 << bits) * 4);
	for (i = 0; i < n; i++) {
		const uint8_t *row = in->rows + i * rs;
		uint64_t *g;
		size_t h, mask = ((size_t)1 << bits) - 1;

		if (!obl_table_real(in, i))
			continue;
		(void)fast_key_encode_row(row, keys, nkeys, key);
		h = (size_t)(fast_key_hash(key, kw) >> (64 - bits));
		for (;;) {
			uint32_t s = slots[h];

			if (s == 0) {
				if (m == gmax)
					return 0;	/* more groups than fit */
				g = groups + m * gw;
				memcpy(g, key, kw * 8);
				memset(g + kw, 0, (gw - kw) * 8);
				g[G_REP(kw)] = i;
				slots[h] = (uint32_t)++m;
				if (2 * m > ((size_t)1 << bits) && bits < maxbits) {
					bits++;
					mask = ((size_t)1 << bits) - 1;
					memset(slots, 0, ((size_t)1 << bits) * 4);
					for (t = 0; t < m; t++) {
						size_t q = (size_t)(fast_key_hash(
							groups + t * gw, kw) >>
							(64 - bits));

						while (slots[q] != 0)
							q = (q + 1) & mask;
						slots[q] = (uint32_t)(t + 1);
					}
				}
				break;
			}
			g = groups + (size_t)(s - 1) * gw;
			if (fast_key_eq(g, key, kw))
				break;
			h = (h + 1) & mask;
		}
		OBL_TRACE_READ(OBL_BUF_RECS, i);
		g[G_ROWS(kw)]++;
		for (a = 0; a < naggs; a++)
			hash_fold(g + G_ACC(kw, a), row, &aggs[a]);
	}
	/* The contract's key order: sort (key, group index) records. */
	recs = obl_arena_take(arena, (m + 1) * (kw + 1) * 8);
	tmp = obl_arena_take(arena, (m + 1) * (kw + 1) * 8);
	if (recs == NULL || tmp == NULL)
		return 0;
	for (i = 0; i < m; i++) {
		memcpy(recs + i * (kw + 1), groups + i * gw, kw * 8);
		recs[i * (kw + 1) + kw] = i;
	}
	fast_sort_recs((uint8_t *)recs, m, (kw + 1) * 8, kw + 1, (uint8_t *)tmp);
	for (i = 0; i < m && i < cap; i++) {
		const uint64_t *g = groups + recs[i * (kw + 1) + kw] * gw;
		uint8_t *o = out + i * orow;

		memset(o, 0, orow);
		memcpy(o, in->rows + g[G_REP(kw)] * rs, rs);
		for (a = 0; a < naggs; a++)
			hash_result(o, rs, naggs, a, &aggs[a],
				g + G_ACC(kw, a), g[G_ROWS(kw)]);
		OBL_TRACE_WRITE(OBL_BUF_OUT, i);
	}
	*m_out = m;
	return 1;
}

/* The GROUP BY of op_aggregate_fast writing only out[0..min(m, cap)) and
 * out_is_real[0..min(m, cap)) (all 1). NOT oblivious. */
static int fast_aggregate_prefix(const struct obl_table *in,
		const struct obl_key_spec *keys, size_t nkeys,
		const struct obl_agg_spec *aggs, size_t naggs,
		uint8_t *out, uint32_t *out_is_real, size_t cap, uint64_t *m,
		struct obl_arena *arena)
{
	size_t mark = arena->used, a, i;
	uint64_t k = 0;
	int rc;

	if (obl_aggregate_check(in->row_size, keys, nkeys, aggs, naggs) != 0 ||
			(nkeys == 0 && cap < 1))
		return OBL_ERR_PARAM;
	if (has_count_distinct(aggs, naggs) ||
			!fast_aggregate_hash(in, keys, nkeys, aggs, naggs, out,
				cap, &k, arena)) {
		arena->used = mark;
		rc = fast_aggregate_sorted(in, keys, nkeys, aggs, naggs, out,
				out_is_real, cap, &k, arena);
		if (rc != OBL_OK)
			return rc;
	}
	arena->used = mark;
	if (nkeys == 0 && k == 0) {
		memset(out, 0, obl_agg_out_row_size(in->row_size, naggs));
		for (a = 0; a < naggs; a++)
			fast_put(out, in->row_size, naggs, a, 0,
				!agg_is_count(aggs[a].fn));
		k = 1;
	}
	for (i = 0; i < cap && i < k; i++)
		out_is_real[i] = 1;
	*m = k;
	return OBL_OK;
}

/* see op_aggregate.h */
int op_aggregate_fast_prefix(const struct obl_table *in,
		const struct obl_key_spec *keys, size_t nkeys,
		const struct obl_agg_spec *aggs, size_t naggs,
		uint8_t *out, uint32_t *out_is_real, size_t cap, uint64_t *m,
		struct obl_arena *arena)
{
	return fast_aggregate_prefix(in, keys, nkeys, aggs, naggs, out,
			out_is_real, cap, m, arena);
}

/* NOT oblivious: leaks access patterns. */
int op_aggregate_fast(const struct obl_table *in,
		const struct obl_key_spec *keys, size_t nkeys,
		const struct obl_agg_spec *aggs, size_t naggs,
		uint8_t *out, uint32_t *out_is_real, size_t cap, uint64_t *m,
		struct obl_arena *arena)
{
	size_t orow = obl_agg_out_row_size(in->row_size, naggs), i;
	int rc = fast_aggregate_prefix(in, keys, nkeys, aggs, naggs, out,
			out_is_real, cap, m, arena);

	if (rc != OBL_OK)
		return rc;
	for (i = *m < cap ? (size_t)*m : cap; i < cap; i++) {
		out_is_real[i] = 0;
		memset(out + i * orow, 0, orow);
	}
	return OBL_OK;
}

/*
 * op_sort_fast.c - NOT oblivious: leaks access patterns. The encrypted-mode
 * ORDER BY, LIMIT and top-k (see op_sort.h): merge sort and plain loops.
 */
#include "op_sort.h"

#include <string.h>

#include "../trace.h"
#include "op_sort_recs.h"

size_t op_sort_fast_work_bytes(size_t n, size_t row_size,
		const struct obl_key_spec *keys, size_t nkeys)
{
	struct obl_rec_layout l;

	obl_sort_recs_layout(&l, row_size, keys, nkeys);
	return 2 * obl_arena_cost(n * l.rec_size);
}

/* obl_arena_alloc without its zeroing (as in op_aggregate_fast.c), for
 * arrays fast_sorted writes in full before it reads them. */
static void *take_unzeroed(struct obl_arena *a, size_t bytes)
{
	uint8_t *p = obl_arena_alloc(a, 0);	/* aligns a->used */
	size_t need;

	if (p == NULL || bytes > a->size - a->used)
		return NULL;
	need = (bytes + 63) / 64 * 64;
	if (need > a->size - a->used)
		return NULL;
	a->used += need;
	return p;
}

/* Stable LSD radix sort of n items of iw words by their first kw words
 * (word 0 most significant, each compared as an unsigned 64-bit value,
 * as fast_key_cmp orders them), one byte per pass; a byte equal in every
 * item is skipped. a and tmp hold n * iw words; returns the one holding
 * the result. NOT oblivious: the scatter follows the keys. */
static uint64_t *radix_sort(uint64_t *a, uint64_t *tmp, size_t n, size_t iw,
		size_t kw)
{
	size_t cnt[256], i, b, sum, w;
	unsigned sh;

	for (w = kw; w-- > 0;) {
		for (sh = 0; sh < 64; sh += 8) {
			uint64_t *t;

			memset(cnt, 0, sizeof(cnt));
			for (i = 0; i < n; i++)
				cnt[(a[i * iw + w] >> sh) & 0xFF]++;
			if (n == 0 || cnt[(a[w] >> sh) & 0xFF] == n)
				continue;	/* one value: order unchanged */
			for (b = 0, sum = 0; b < 256; b++) {
				size_t c = cnt[b];

				cnt[b] = sum;
				sum += c;
			}
			for (i = 0; i < n; i++) {
				size_t d = cnt[(a[i * iw + w] >> sh) & 0xFF]++;

				OBL_TRACE_WRITE(OBL_BUF_RECS, d);
				memcpy(tmp + d * iw, a + i * iw, iw * 8);
			}
			t = a;
			a = tmp;
			tmp = t;
		}
	}
	return a;
}

/* NOT oblivious: sorts everything, then copies the first cap. Items of
 * the key words ([dummy | key], as the merge sort's records) and the row
 * index are radix sorted, then the rows gathered: moving a few words per
 * row instead of whole records through every pass. Ties keep input order
 * (stable), as the merge sort did. Items fit the records' arena:
 * 8 * (key_words + 1) <= rec_size. */
static int fast_sorted(const struct obl_table *in,
		const struct obl_key_spec *keys, size_t nkeys, uint8_t *out,
		uint32_t *out_is_real, size_t cap, uint64_t *m,
		struct obl_arena *arena)
{
	size_t mark = arena->used, n = in->n, i, real = 0, iw;
	struct obl_rec_layout l;
	uint64_t *items, *tmp, *sorted;

	if (in->row_size == 0 || nkeys == 0 ||
			obl_key_spec_check(keys, nkeys, in->row_size) != 0 ||
			obl_key_spec_words(keys, nkeys) == 0)
		return OBL_ERR_PARAM;
	obl_sort_recs_layout(&l, in->row_size, keys, nkeys);
	iw = l.key_words + 1;
	/* Every word of every item is written below before it is read. */
	items = take_unzeroed(arena, n * iw * 8);
	tmp = take_unzeroed(arena, n * iw * 8);
	if (n > 0 && (items == NULL || tmp == NULL)) {
		arena->used = mark;
		return OBL_ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		uint64_t *w = items + i * iw;

		memset(w, 0, iw * 8);
		w[iw - 1] = i;
		if (in->is_real != NULL && !in->is_real[i]) {
			w[0] = 1;
			continue;    /* dummies: no key needed */
		}
		(void)obl_key_spec_encode_row(in->rows + i * in->row_size,
				keys, nkeys, w + 1);
		real++;
	}
	sorted = radix_sort(items, tmp, n, iw, l.key_words);
	for (i = 0; i < cap; i++) {
		out_is_real[i] = i < real;
		if (i < real) {
			size_t src = (size_t)sorted[i * iw + iw - 1];

			OBL_TRACE_READ(OBL_BUF_ROWS, src);
			memcpy(out + i * in->row_size,
				in->rows + src * in->row_size, in->row_size);
			OBL_TRACE_WRITE(OBL_BUF_OUT, i);
		} else {
			memset(out + i * in->row_size, 0, in->row_size);
		}
	}
	/* The items hold keys and the order: wiped with the arena. */
	*m = real < cap ? real : cap;
	arena->used = mark;
	return OBL_OK;
}

/* NOT oblivious: leaks access patterns. */
int op_sort_rows_fast(const struct obl_table *in,
		const struct obl_key_spec *keys, size_t nkeys, uint8_t *out,
		uint32_t *out_is_real, uint64_t *m, struct obl_arena *arena)
{
	return fast_sorted(in, keys, nkeys, out, out_is_real, in->n, m, arena);
}

/* NOT oblivious: leaks access patterns. */
int op_topk_fast(const struct obl_table *in, const struct obl_key_spec *keys,
		size_t nkeys, size_t k, uint8_t *out, uint32_t *out_is_real,
		uint64_t *m, struct obl_arena *arena)
{
	return fast_sorted(in, keys, nkeys, out, out_is_real, k, m, arena);
}

/* NOT oblivious: skips dummies with a branch. */
int op_limit_fast(const struct obl_table *in, size_t k, uint8_t *out,
		uint32_t *out_is_real, uint64_t *m)
{
	size_t i, got = 0, rs = in->row_size;

	if (rs == 0)
		return OBL_ERR_PARAM;
	for (i = 0; i < in->n && got < k; i++) {
		if (in->is_real != NULL && !in->is_real[i])
			continue;
		OBL_TRACE_READ(OBL_BUF_ROWS, i);
		memcpy(out + got * rs, in->rows + i * rs, rs);
		out_is_real[got++] = 1;
	}
	for (i = got; i < k; i++) {
		memset(out + i * rs, 0, rs);
		out_is_real[i] = 0;
	}
	*m = got;
	return OBL_OK;
}

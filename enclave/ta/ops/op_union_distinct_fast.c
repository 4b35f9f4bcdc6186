/*
 * op_union_distinct_fast.c - NOT oblivious: leaks access patterns. The
 * encrypted-mode DISTINCT (see op_union_distinct.h).
 */
#include "op_union_distinct.h"

#include <string.h>

#include "../trace.h"
#include "fast_sort.h"
#include "op_sort_recs.h"

/* NOT oblivious: leaks access patterns. */
int op_distinct_fast(const struct obl_table *in,
		const struct obl_key_spec *keys, size_t nkeys, uint8_t *out,
		uint32_t *out_is_real, size_t cap, uint64_t *m,
		struct obl_arena *arena)
{
	size_t mark = arena->used, n = in->n, i, k = 0, rs = in->row_size;
	struct obl_rec_layout l;
	uint8_t *recs, *tmp;

	if (rs == 0 || nkeys == 0 ||
			obl_key_spec_check(keys, nkeys, rs) != 0 ||
			obl_key_spec_words(keys, nkeys) == 0)
		return OBL_ERR_PARAM;
	obl_sort_recs_layout(&l, rs, keys, nkeys);
	recs = obl_arena_alloc(arena, n * l.rec_size);
	tmp = obl_arena_alloc(arena, n * l.rec_size);
	if (n > 0 && (recs == NULL || tmp == NULL)) {
		arena->used = mark;
		return OBL_ERR_NOMEM;
	}
	obl_sort_recs_build(recs, &l, 0, in, 0, n, keys, nkeys);
	fast_sort_recs(recs, n, l.rec_size, l.key_words, tmp);
	for (i = 0; i < n; i++) {
		const uint64_t *w = obl_rec_words(recs, &l, i);

		if (w[0] != 0)
			break;
		if (i > 0 && fast_key_cmp(w, obl_rec_words(recs, &l, i - 1),
				l.key_words) == 0)
			continue;
		if (k < cap) {
			memcpy(out + k * rs, obl_rec_row(recs, &l, i), rs);
			OBL_TRACE_WRITE(OBL_BUF_OUT, k);
		}
		k++;
	}
	for (i = 0; i < cap; i++) {
		out_is_real[i] = i < k;
		if (i >= k)
			memset(out + i * rs, 0, rs);
	}
	*m = k;
	arena->used = mark;
	return OBL_OK;
}

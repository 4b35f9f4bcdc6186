/*
 * op_limit.c - obl_limit and obl_topk (see op_sort.h).
 */
#include "op_sort.h"

#include <string.h>

#include "../ct.h"
#include "../trace.h"
#include "compact_or.h"
#include "op_sort_recs.h"
#include "sort_bitonic.h"

size_t obl_limit_work_bytes(size_t n, size_t row_size)
{
	return obl_arena_cost(n * row_size) + obl_arena_cost(n * 4);
}

/* see op_sort.h */
int obl_limit(const struct obl_table *in, size_t k, uint8_t *out,
		uint32_t *out_is_real, uint64_t *m, struct obl_arena *arena)
{
	size_t mark = arena->used, n = in->n, rs = in->row_size, i;
	uint8_t *recs;
	uint32_t *flags;

	if (rs == 0 || n > UINT32_MAX)
		return OBL_ERR_PARAM;
	if (in->is_real == NULL) {
		/* every row is real: the first k, nothing secret decides */
		for (i = 0; i < k; i++) {
			if (i < n) {
				OBL_TRACE_READ(OBL_BUF_ROWS, i);
				memcpy(out + i * rs, in->rows + i * rs, rs);
			} else {
				memset(out + i * rs, 0, rs);
			}
			out_is_real[i] = i < n;
			OBL_TRACE_WRITE(OBL_BUF_OUT, i);
		}
		*m = k < n ? k : n;
		return OBL_OK;
	}
	recs = obl_arena_alloc(arena, n * rs);
	flags = obl_arena_alloc(arena, n * 4);
	if (n > 0 && (recs == NULL || flags == NULL)) {
		arena->used = mark;
		return OBL_ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		OBL_TRACE_READ(OBL_BUF_ROWS, i);
		memcpy(recs + i * rs, in->rows + i * rs, rs);
		flags[i] = obl_table_real(in, i);
		OBL_TRACE_WRITE(OBL_BUF_RECS, i);
	}
	(void)obl_compact(recs, n, rs, flags);
	obl_emit_rows(recs, n, rs, 0, rs, flags, out, out_is_real, k);
	*m = 0;
	for (i = 0; i < k; i++)
		*m += out_is_real[i];
	arena->used = mark;
	return OBL_OK;
}

size_t obl_topk_work_bytes(size_t n, size_t row_size,
		const struct obl_key_spec *keys, size_t nkeys, size_t k)
{
	struct obl_rec_layout l;
	size_t b = 2 * k < n ? 2 * k : n;

	obl_sort_recs_layout(&l, row_size, keys, nkeys);
	return obl_arena_cost(b * l.rec_size);
}

/* see op_sort.h */
int obl_topk(const struct obl_table *in, const struct obl_key_spec *keys,
		size_t nkeys, size_t k, uint8_t *out, uint32_t *out_is_real,
		uint64_t *m, struct obl_arena *arena)
{
	size_t mark = arena->used, n = in->n, first, pos;
	struct obl_rec_layout l;
	uint8_t *buf;

	if (in->row_size == 0 || nkeys == 0 ||
			obl_key_spec_check(keys, nkeys, in->row_size) != 0 ||
			obl_key_spec_words(keys, nkeys) == 0)
		return OBL_ERR_PARAM;
	if (k == 0) {
		*m = 0;
		return OBL_OK;
	}
	obl_sort_recs_layout(&l, in->row_size, keys, nkeys);
	first = 2 * k < n ? 2 * k : n;
	buf = obl_arena_alloc(arena, first * l.rec_size);
	if (first > 0 && buf == NULL)
		return OBL_ERR_NOMEM;
	/* the first chunk: up to 2k rows */
	obl_sort_recs_build(buf, &l, 0, in, 0, first, keys, nkeys);
	obl_sort_bitonic(buf, first, l.rec_size, l.key_words);
	/* then k rows at a time behind the current best k */
	for (pos = first; pos < n; pos += k) {
		size_t c = n - pos < k ? n - pos : k;

		obl_sort_recs_build(buf, &l, k, in, pos, c, keys, nkeys);
		obl_sort_bitonic(buf, k + c, l.rec_size, l.key_words);
	}
	*m = obl_sort_recs_emit(buf, &l, first < k ? first : k, out, out_is_real, k);
	arena->used = mark;
	return OBL_OK;
}

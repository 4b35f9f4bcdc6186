/*
 * op_filter.c - obl_filter: keep ctl AND is_real, then order-preserving
 * oblivious compaction (see op_filter.h).
 */
#include "op_filter.h"

#include <string.h>

#include "../ct.h"
#include "../trace.h"
#include "compact_or.h"

size_t obl_filter_work_bytes(size_t n, size_t row_size)
{
	return obl_arena_cost(n * row_size) + obl_arena_cost(n * 4);
}

/* see op_filter.h */
int obl_filter(const struct obl_table *in, const uint32_t *keep,
		uint8_t *out, uint32_t *out_is_real, size_t cap, uint64_t *m,
		struct obl_arena *arena)
{
	size_t mark = arena->used, n = in->n, rs = in->row_size, i;
	uint8_t *recs;
	uint32_t *flags;

	if (rs == 0 || n > UINT32_MAX)
		return OBL_ERR_PARAM;
	recs = obl_arena_alloc(arena, n * rs);
	flags = obl_arena_alloc(arena, n * 4);
	if ((n > 0 && (recs == NULL || flags == NULL))) {
		arena->used = mark;
		return OBL_ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		OBL_TRACE_READ(OBL_BUF_ROWS, i);
		OBL_TRACE_READ(OBL_BUF_CTL, i);
		memcpy(recs + i * rs, in->rows + i * rs, rs);
		flags[i] = (keep[i] & 1u) & obl_table_real(in, i);
		OBL_TRACE_WRITE(OBL_BUF_RECS, i);
	}
	*m = obl_compact(recs, n, rs, flags);
	obl_emit_rows(recs, n, rs, 0, rs, flags, out, out_is_real, cap);
	arena->used = mark;
	return OBL_OK;
}

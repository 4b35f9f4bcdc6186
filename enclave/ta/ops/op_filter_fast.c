/*
 * op_filter_fast.c - NOT oblivious: leaks access patterns. The
 * encrypted-mode filter (see op_filter.h): a branch per row.
 */
#include "op_filter.h"

#include <string.h>

#include "../trace.h"

/* NOT oblivious: branches on keep and is_real; writes only kept rows. */
int op_filter_fast(const struct obl_table *in, const uint32_t *keep,
		uint8_t *out, uint32_t *out_is_real, size_t cap, uint64_t *m)
{
	size_t i, k = 0, rs = in->row_size;

	if (rs == 0)
		return OBL_ERR_PARAM;
	for (i = 0; i < in->n; i++) {
		if (keep[i] && (in->is_real == NULL || in->is_real[i])) {
			if (k < cap) {
				memcpy(out + k * rs, in->rows + i * rs, rs);
				OBL_TRACE_WRITE(OBL_BUF_OUT, k);
			}
			k++;
		}
	}
	for (i = 0; i < cap; i++) {
		out_is_real[i] = i < k;
		if (i >= k)
			memset(out + i * rs, 0, rs);
	}
	*m = k;
	return OBL_OK;
}

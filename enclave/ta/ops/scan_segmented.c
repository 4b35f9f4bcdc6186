/*
 * scan_segmented.c - segmented scans and segment boundary marking (see
 * scan_segmented.h). Each step is a select between "restart the aggregate
 * with this row" and "fold this row in", chosen by a ctl, never a branch.
 */
#include "scan_segmented.h"

#include "../ct.h"
#include "../trace.h"

/* One scan with the fold chosen at compile time (op is public); always
 * inlined into the four instantiations below.
 * Leaks: n, op.  Hides: values, segment boundaries. */
static inline __attribute__((always_inline)) void scan_body(int64_t *values,
		const uint32_t *seg_start, size_t n, enum obl_scan_op op)
{
	int64_t acc = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t start;
		int64_t v, folded;

		OBL_TRACE_READ(OBL_BUF_CTL, i);
		OBL_TRACE_READ(OBL_BUF_VALUES, i);
		/* row 0 starts a segment whatever seg_start[0] holds */
		start = seg_start[i] | ct_u64_eq((uint64_t)i, 0);
		v = values[i];
		switch (op) {
		case OBL_SCAN_SUM:
			folded = (int64_t)((uint64_t)acc + (uint64_t)v);
			break;
		case OBL_SCAN_MIN:
			folded = ct_i64_mux(ct_i64_lt(v, acc), v, acc);
			break;
		case OBL_SCAN_MAX:
			folded = ct_i64_mux(ct_i64_lt(acc, v), v, acc);
			break;
		default: /* OBL_SCAN_COUNT */
			v = 1;
			folded = (int64_t)((uint64_t)acc + 1u);
			break;
		}
		acc = ct_i64_mux(start, v, folded);
		values[i] = acc;
		OBL_TRACE_WRITE(OBL_BUF_VALUES, i);
	}
}

/* see scan_segmented.h */
int obl_scan_segmented_i64(int64_t *values, const uint32_t *seg_start,
		size_t n, enum obl_scan_op op)
{
	switch (op) {
	case OBL_SCAN_SUM:
		scan_body(values, seg_start, n, OBL_SCAN_SUM);
		return 0;
	case OBL_SCAN_MIN:
		scan_body(values, seg_start, n, OBL_SCAN_MIN);
		return 0;
	case OBL_SCAN_MAX:
		scan_body(values, seg_start, n, OBL_SCAN_MAX);
		return 0;
	case OBL_SCAN_COUNT:
		scan_body(values, seg_start, n, OBL_SCAN_COUNT);
		return 0;
	}
	return -1;
}

/* see scan_segmented.h */
void obl_scan_segmented_mark_last(const uint32_t *seg_start, uint32_t *is_last,
		size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i++) {
		OBL_TRACE_READ(OBL_BUF_CTL, i + 1);
		is_last[i] = seg_start[i + 1];
		OBL_TRACE_WRITE(OBL_BUF_OUT, i);
	}
	if (n > 0) {
		is_last[n - 1] = 1;
		OBL_TRACE_WRITE(OBL_BUF_OUT, n - 1);
	}
}

/* see scan_segmented.h */
void obl_scan_segmented_starts(const uint8_t *recs, size_t n, size_t rec_size,
		size_t key_words, uint32_t *seg_start)
{
	size_t i;

	if (n == 0)
		return;
	seg_start[0] = 1;
	OBL_TRACE_WRITE(OBL_BUF_OUT, 0);
	for (i = 1; i < n; i++) {
		const uint64_t *prev = (const uint64_t *)(const void *)
			(recs + (i - 1) * rec_size);
		const uint64_t *cur = (const uint64_t *)(const void *)
			(recs + i * rec_size);

		OBL_TRACE_READ(OBL_BUF_RECS, i - 1);
		OBL_TRACE_READ(OBL_BUF_RECS, i);
		seg_start[i] = ct_not(ct_key_eq(prev, cur, key_words));
		OBL_TRACE_WRITE(OBL_BUF_OUT, i);
	}
}

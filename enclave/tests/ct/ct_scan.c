/*
 * ct_scan.c - ctgrind: prefix sum, segmented scans (every op), segment
 * last-row marking and segment starts, with secret values, secret segment
 * boundaries and secret keys.
 */
#include "harness.h"

#include <stdlib.h>

#include "../../ta/ops/scan_prefix.h"
#include "../../ta/ops/scan_segmented.h"

const char ct_program_name[] = "ct_scan";

void ct_run(void)
{
	static const enum obl_scan_op ops[] = {
		OBL_SCAN_SUM, OBL_SCAN_MIN, OBL_SCAN_MAX, OBL_SCAN_COUNT
	};
	size_t k, i, o, kw;

	for (k = 0; k < ct_sizes_count; k++) {
		size_t n = ct_sizes[k];
		int64_t *v = ct_alloc(n * 8);
		uint32_t *seg = ct_alloc(n * 4), *last = ct_alloc(n * 4);

		ct_fill(v, n * 8);
		CT_SECRET(v, n * 8);
		obl_scan_prefix_sum_i64(v, n);
		ct_sink(v, n * 8);
		for (o = 0; o < 4; o++) {
			ct_fill(v, n * 8);
			for (i = 0; i < n; i++)
				seg[i] = (uint32_t)(ct_rand() & 1);
			CT_SECRET(v, n * 8);
			CT_SECRET(seg, n * 4);
			(void)obl_scan_segmented_i64(v, seg, n, ops[o]);
			ct_sink(v, n * 8);
		}
		obl_scan_segmented_mark_last(seg, last, n);
		ct_sink(last, n * 4);
		for (kw = 1; kw <= 3; kw++) {
			size_t rs = 8 * kw + 8;
			uint8_t *recs = ct_alloc(n * rs);

			for (i = 0; i < n * rs; i++)
				recs[i] = (uint8_t)(ct_rand() % 3);
			CT_SECRET(recs, n * rs);
			obl_scan_segmented_starts(recs, n, rs, kw, seg);
			ct_sink(seg, n * 4);
			free(recs);
		}
		free(v);
		free(seg);
		free(last);
	}
}

/*
 * ct_compact_or.c - ctgrind: obl_compact with secret records, keep flags
 * and (therefore) a secret count.
 */
#include "harness.h"

#include <stdlib.h>

#include "../../ta/ops/compact_or.h"

const char ct_program_name[] = "ct_compact_or";

/* Compact n secret records of rs bytes under secret keep flags. */
static void check(size_t n, size_t rs)
{
	uint8_t *recs = ct_alloc(n * rs);
	uint32_t *keep = ct_alloc(n * sizeof(uint32_t));
	size_t i, m;

	ct_fill(recs, n * rs);
	for (i = 0; i < n; i++)
		keep[i] = (uint32_t)(ct_rand() & 1);
	CT_SECRET(recs, n * rs);
	CT_SECRET(keep, n * sizeof(uint32_t));
	m = obl_compact(recs, n, rs, keep);
	ct_sink(&m, sizeof(m));
	ct_sink(recs, n * rs);
	ct_sink(keep, n * sizeof(uint32_t));
	free(recs);
	free(keep);
}

void ct_run(void)
{
	static const size_t rec_sizes[] = { 16, 8, 13, 40 };
	size_t r, k;

	for (r = 0; r < sizeof(rec_sizes) / sizeof(rec_sizes[0]); r++)
		for (k = 0; k < ct_sizes_count; k++)
			check(ct_sizes[k], rec_sizes[r]);
	/* Past one 128 KiB chunk of the fused small-shift passes. */
	for (r = 0; r < sizeof(rec_sizes) / sizeof(rec_sizes[0]); r++)
		check(20011, rec_sizes[r]);
}

/*
 * ct_sort_bitonic.c - ctgrind: obl_sort_bitonic with secret records, on the
 * AVX2 16-byte path and the general path (1..3 key words, wide records).
 */
#include "harness.h"

#include <stdlib.h>

#include "../../ta/ops/sort_bitonic.h"

const char ct_program_name[] = "ct_sort_bitonic";

void ct_run(void)
{
	static const size_t shapes[][2] = {
		{ 16, 1 }, { 8, 1 }, { 24, 2 }, { 32, 1 }, { 32, 3 }, { 64, 1 },
		{ 72, 2 }, { 48, 2 }, { 56, 3 }, { 80, 1 }, { 80, 3 }
	};
	size_t s, k;

	for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		for (k = 0; k < ct_sizes_count; k++) {
			size_t n = ct_sizes[k], rs = shapes[s][0];
			uint8_t *recs = ct_alloc(n * rs);

			ct_fill(recs, n * rs);
			CT_SECRET(recs, n * rs);
			obl_sort_bitonic(recs, n, rs, shapes[s][1]);
			ct_sink(recs, n * rs);
			free(recs);
		}
	}
}

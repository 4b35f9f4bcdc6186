/*
 * ct_leaky_sort.c - NEGATIVE CONTROL: the same harness as ct_sort_bitonic on
 * leaky_insertion_sort. valgrind MUST report "Conditional jump or move
 * depends on uninitialised value(s)"; run_ct.sh fails if it does not.
 */
#include "harness.h"

#include <stdlib.h>

#include "../leaky/leaky.h"

const char ct_program_name[] = "ct_leaky_sort";

void ct_run(void)
{
	size_t n = 64, rs = 16;
	uint8_t *recs = ct_alloc(n * rs);

	ct_fill(recs, n * rs);
	CT_SECRET(recs, n * rs);
	leaky_insertion_sort(recs, n, rs, 1);
	ct_sink(recs, n * rs);
	free(recs);
}

/*
 * ct_leaky_lookup.c - NEGATIVE CONTROL: table[secret]. valgrind MUST report
 * "Use of uninitialised value of size 8" (a secret-dependent address);
 * run_ct.sh fails if it does not.
 */
#include "harness.h"

#include <stdlib.h>

#include "../leaky/leaky.h"

const char ct_program_name[] = "ct_leaky_lookup";

void ct_run(void)
{
	size_t n = 256, idx;
	uint64_t *table = ct_alloc(n * 8), v;

	ct_fill(table, n * 8);
	idx = (size_t)(ct_rand() % n);
	CT_SECRET(&idx, sizeof(idx));
	v = leaky_lookup(table, n, idx);
	ct_sink(&v, sizeof(v));
	free(table);
}

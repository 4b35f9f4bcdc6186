/*
 * ct_expr_leaky_and.c - NEGATIVE CONTROL: a short-circuiting AND over
 * secret booleans. valgrind MUST report "Conditional jump or move depends
 * on uninitialised value(s)"; run_ct.sh fails if it does not.
 */
#include "../../../tests/ct/harness.h"

#include <stdlib.h>

#include "leaky_expr.h"

const char ct_program_name[] = "ct_expr_leaky_and";

void ct_run(void)
{
	size_t n = 64, i;
	uint8_t *a = ct_alloc(n), *b = ct_alloc(n), *r = ct_alloc(n);

	for (i = 0; i < n; i++) {
		a[i] = (uint8_t)(ct_rand() & 1);
		b[i] = (uint8_t)(ct_rand() & 1);
	}
	CT_SECRET(a, n);
	CT_SECRET(b, n);
	leaky_and(a, b, r, n);
	ct_sink(r, n);
	free(a);
	free(b);
	free(r);
}

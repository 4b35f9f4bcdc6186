/*
 * ct_expr_leaky_case.c - NEGATIVE CONTROL: a CASE that branches on each
 * row's secret condition. valgrind MUST report it; run_ct.sh fails if it
 * does not.
 */
#include "../../../tests/ct/harness.h"

#include <stdlib.h>

#include "leaky_expr.h"

const char ct_program_name[] = "ct_expr_leaky_case";

void ct_run(void)
{
	size_t n = 64, w = 8;
	uint8_t *c = ct_alloc(n), *x = ct_alloc(n * w), *y = ct_alloc(n * w);
	uint8_t *r = ct_alloc(n * w);

	ct_fill(c, n);
	ct_fill(x, n * w);
	ct_fill(y, n * w);
	CT_SECRET(c, n);
	CT_SECRET(x, n * w);
	CT_SECRET(y, n * w);
	leaky_case(c, x, y, r, n, w);
	ct_sink(r, n * w);
	free(c);
	free(x);
	free(y);
	free(r);
}

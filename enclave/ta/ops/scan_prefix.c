/*
 * scan_prefix.c - obl_scan_prefix_sum_i64. A single forward pass; addition
 * has data-independent timing on every supported core, so nothing else is
 * needed, but it is written out (not left to a library) so that the access
 * trace is instrumented like every other kernel.
 */
#include "scan_prefix.h"

#include "../trace.h"

/* see scan_prefix.h */
void obl_scan_prefix_sum_i64(int64_t *values, size_t n)
{
	uint64_t acc = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		OBL_TRACE_READ(OBL_BUF_VALUES, i);
		acc += (uint64_t)values[i];
		values[i] = (int64_t)acc;
		OBL_TRACE_WRITE(OBL_BUF_VALUES, i);
	}
}

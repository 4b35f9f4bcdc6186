/*
 * scan_prefix_ref.c - NOT constant-time (trivially so here, but reference
 * code is kept apart from kernels by rule). Reference for tests only.
 */
#include "ref.h"

void ref_scan_prefix_sum_i64(int64_t *values, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		values[i] = (int64_t)((uint64_t)values[i - 1] + (uint64_t)values[i]);
}

/*
 * scan_prefix.h - oblivious prefix sum.
 */
#ifndef TEESPARK_OPS_SCAN_PREFIX_H
#define TEESPARK_OPS_SCAN_PREFIX_H

#include <stddef.h>
#include <stdint.h>

/*
 * Inclusive prefix sum in place: values[i] = values[0] + ... + values[i],
 * with two's complement wrap-around on overflow (computed in uint64_t, so
 * there is no undefined behaviour). n = 0 is a no-op.
 * Leaks: n.  Hides: values.
 */
void obl_scan_prefix_sum_i64(int64_t *values, size_t n);

#endif /* TEESPARK_OPS_SCAN_PREFIX_H */

/*
 * scan_segmented_ref.c - NOT constant-time: branches on segment starts and
 * values. Reference for tests only.
 */
#include <string.h>

#include "ref.h"

int ref_scan_segmented_i64(int64_t *values, const uint32_t *seg_start,
		size_t n, enum obl_scan_op op)
{
	size_t i, start = 0;

	if (op != OBL_SCAN_SUM && op != OBL_SCAN_MIN && op != OBL_SCAN_MAX &&
			op != OBL_SCAN_COUNT)
		return -1;
	for (i = 0; i < n; i++) {
		if (i == 0 || seg_start[i]) {
			start = i;
			if (op == OBL_SCAN_COUNT)
				values[i] = 1;
			continue;
		}
		switch (op) {
		case OBL_SCAN_SUM:
			values[i] = (int64_t)((uint64_t)values[i - 1] +
				(uint64_t)values[i]);
			break;
		case OBL_SCAN_MIN:
			if (values[i - 1] < values[i])
				values[i] = values[i - 1];
			break;
		case OBL_SCAN_MAX:
			if (values[i - 1] > values[i])
				values[i] = values[i - 1];
			break;
		case OBL_SCAN_COUNT:
			values[i] = (int64_t)(i - start + 1);
			break;
		}
	}
	return 0;
}

void ref_scan_segmented_mark_last(const uint32_t *seg_start, uint32_t *is_last,
		size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		is_last[i] = (i == n - 1) || seg_start[i + 1] != 0;
}

void ref_scan_segmented_starts(const uint8_t *recs, size_t n, size_t rec_size,
		size_t key_words, uint32_t *seg_start)
{
	size_t i;

	for (i = 0; i < n; i++)
		seg_start[i] = i == 0 || memcmp(recs + (i - 1) * rec_size,
			recs + i * rec_size, 8 * key_words) != 0;
}

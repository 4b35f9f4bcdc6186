/*
 * fast_sort.c - NOT oblivious: leaks access patterns. Bottom-up stable merge
 * sort of fixed-width records for the encrypted operator mode (see
 * fast_sort.h). Portable C (no qsort_r), so it builds in every TA.
 */
#include "fast_sort.h"

#include <string.h>

#include "../trace.h"

/* NOT oblivious: returns at the first differing word. */
int fast_key_cmp(const uint64_t *a, const uint64_t *b, size_t key_words)
{
	size_t i;

	for (i = 0; i < key_words; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* NOT oblivious: the merge order follows the keys. */
void fast_sort_recs(uint8_t *recs, size_t n, size_t rec_size,
		size_t key_words, uint8_t *tmp)
{
	uint8_t *src = recs, *dst = tmp;
	size_t width;

	if (n <= 1)
		return;
	for (width = 1; width < n; width *= 2) {
		size_t lo;

		for (lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi) {
				const uint64_t *a = (const uint64_t *)(const void *)(src + i * rec_size);
				const uint64_t *b = (const uint64_t *)(const void *)(src + j * rec_size);

				if (fast_key_cmp(b, a, key_words) < 0) {
					OBL_TRACE_READ(OBL_BUF_RECS, j);
					memcpy(dst + k++ * rec_size, b, rec_size);
					j++;
				} else {
					OBL_TRACE_READ(OBL_BUF_RECS, i);
					memcpy(dst + k++ * rec_size, a, rec_size);
					i++;
				}
			}
			if (i < mid)
				memcpy(dst + k * rec_size, src + i * rec_size,
					(mid - i) * rec_size);
			k += mid - i;
			if (j < hi)
				memcpy(dst + k * rec_size, src + j * rec_size,
					(hi - j) * rec_size);
		}
		{
			uint8_t *t = src;

			src = dst;
			dst = t;
		}
	}
	if (src != recs)
		memcpy(recs, src, n * rec_size);
}

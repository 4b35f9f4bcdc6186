/*
 * sort_bitonic_ref.c - NOT constant-time: qsort (data-dependent branches and
 * memory accesses). Reference for tests only.
 */
#include <stdlib.h>

#include "ref.h"

static int cmp_keys(const void *pa, const void *pb, void *arg)
{
	const uint64_t *a = pa, *b = pb;
	size_t key_words = *(const size_t *)arg, i;

	for (i = 0; i < key_words; i++) {
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	}
	return 0;
}

void ref_sort_bitonic(uint8_t *recs, size_t n, size_t rec_size, size_t key_words)
{
	if (n > 1)
		qsort_r(recs, n, rec_size, cmp_keys, &key_words);
}

/*
 * leaky_sort.c - NOT constant-time, on purpose: negative control (see
 * leaky.h). Textbook insertion sort on key words, swapping whole records.
 */
#include "leaky.h"

#include "../../ta/trace.h"

static int key_greater(const uint64_t *a, const uint64_t *b, size_t key_words)
{
	size_t i;

	for (i = 0; i < key_words; i++)
		if (a[i] != b[i])
			return a[i] > b[i];
	return 0;
}

void leaky_insertion_sort(uint8_t *recs, size_t n, size_t rec_size,
		size_t key_words)
{
	size_t i, j, b;

	for (i = 1; i < n; i++) {
		for (j = i; j > 0; j--) {
			uint8_t *x = recs + (j - 1) * rec_size, *y = recs + j * rec_size;

			OBL_TRACE_READ(OBL_BUF_RECS, j - 1);
			OBL_TRACE_READ(OBL_BUF_RECS, j);
			if (!key_greater((const uint64_t *)(const void *)x,
					(const uint64_t *)(const void *)y, key_words))
				break;
			for (b = 0; b < rec_size; b++) {
				uint8_t t = x[b];

				x[b] = y[b];
				y[b] = t;
			}
			OBL_TRACE_WRITE(OBL_BUF_RECS, j - 1);
			OBL_TRACE_WRITE(OBL_BUF_RECS, j);
		}
	}
}

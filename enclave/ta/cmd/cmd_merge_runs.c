/*
 * cmd_merge_runs.c - xsort_merge_runs: the oblivious merge of two sorted
 * runs that XSORT_MERGE_SPLIT applies (see cmd_external_sort.h). Kept in
 * its own file, with only ct.h, so that the constant-time check can link
 * the command with a deliberately leaky merge in its place (negative
 * control) and the kernel can be read on its own.
 */
#include "cmd_external_sort.h"
#include "../ct.h"

/* Compare-exchange records a and b: the smaller key ends up in a.
 * Leaks: rec_size, key_words.  Hides: keys, payloads, whether they swapped. */
static inline __attribute__((always_inline)) void cx(uint8_t *a, uint8_t *b,
		size_t rec_size, size_t key_words)
{
	const uint64_t *ka = (const uint64_t *)(const void *)a;
	const uint64_t *kb = (const uint64_t *)(const void *)b;

	ct_cswap(ct_key_lt(kb, ka, key_words), a, b, rec_size);
}

/* see cmd_external_sort.h */
void xsort_merge_runs(uint8_t *recs, size_t r, size_t rec_size,
		      size_t key_words)
{
	size_t i, half, blk, t;

	if (r == 0)
		return;
	/* Flip: run a ascending against run b read backwards. */
	for (i = 0; i < r; i++)
		cx(recs + i * rec_size, recs + (2 * r - 1 - i) * rec_size,
		   rec_size, key_words);
	/* Half-cleaners over both (bitonic) halves at once. */
	for (half = r / 2; half >= 1; half /= 2)
		for (blk = 0; blk < 2 * r; blk += 2 * half)
			for (t = 0; t < half; t++)
				cx(recs + (blk + t) * rec_size,
				   recs + (blk + t + half) * rec_size,
				   rec_size, key_words);
}

/*
 * fast_sort.h - the sort of the encrypted (non-oblivious) operator mode.
 * NOT oblivious: leaks access patterns (which records are compared and
 * moved depends on the keys). Never use it on data whose access pattern
 * must stay hidden; the obl_ operators use obl_sort_bitonic.
 */
#ifndef TEESPARK_OPS_FAST_SORT_H
#define TEESPARK_OPS_FAST_SORT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Stable sort of n records of rec_size bytes by their leading key_words
 * uint64 words (unsigned, word 0 most significant: the order of
 * obl_sort_bitonic), with a bottom-up merge sort. tmp holds n * rec_size
 * bytes of scratch.
 * NOT oblivious: leaks the comparison outcomes through branches and the
 * merge's access sequence.
 */
void fast_sort_recs(uint8_t *recs, size_t n, size_t rec_size,
		size_t key_words, uint8_t *tmp);

/* Unsigned lexicographic comparison of two keys: <0, 0, >0 (early exit).
 * NOT oblivious. */
int fast_key_cmp(const uint64_t *a, const uint64_t *b, size_t key_words);

#endif /* TEESPARK_OPS_FAST_SORT_H */

/*
 * sort_bitonic.h - oblivious sort of fixed-width records (Batcher's bitonic
 * network, arbitrary n).
 */
#ifndef TEESPARK_OPS_SORT_BITONIC_H
#define TEESPARK_OPS_SORT_BITONIC_H

#include <stddef.h>
#include <stdint.h>

/*
 * Sort n records of rec_size bytes in place, ascending by their leading
 * key_words uint64 words (compared lexicographically as unsigned integers,
 * word 0 most significant; see ct_key_lt in ct.h and ops/key_encode.h for how
 * typed columns become such words). Not stable: records with equal keys end
 * up in an order that depends on the input (append a row index to the key if
 * stability matters).
 *
 * Requirements: rec_size is a multiple of 8 and >= 8 * key_words;
 * key_words >= 1; recs is 8-byte aligned. Any n works (0, 1, non powers of
 * two) without padding: the network is Lang's arbitrary-n bitonic sorter
 * (halves of floor/ceil size sorted in opposite directions, merged by first
 * comparing across the greatest power of two below n), so the sequence of
 * compare-exchanges depends only on n.
 * Leaks: n, rec_size, key_words.  Hides: keys, payloads, duplicates, input order.
 */
void obl_sort_bitonic(uint8_t *recs, size_t n, size_t rec_size, size_t key_words);

#endif /* TEESPARK_OPS_SORT_BITONIC_H */

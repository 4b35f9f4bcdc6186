/*
 * leaky.h - deliberately leaky kernels: the negative controls of the
 * constant-time and trace-equality checks. TEST ONLY, never in the TA.
 * They are compiled with the shipped flags ($(TA_CFLAGS)) and instrumented
 * with trace.h exactly like the real kernels, so a check that cannot catch
 * them cannot be trusted to catch anything.
 */
#ifndef TEESPARK_TESTS_LEAKY_H
#define TEESPARK_TESTS_LEAKY_H

#include <stddef.h>
#include <stdint.h>

/* Insertion sort with the interface of obl_sort_bitonic: its comparisons
 * decide branches and how many records it touches.
 * Leaks: everything about the key order (branches, access sequence). */
void leaky_insertion_sort(uint8_t *recs, size_t n, size_t rec_size,
		size_t key_words);

/* table[index] (index < n): the address depends on the secret index.
 * Leaks: index. */
uint64_t leaky_lookup(const uint64_t *table, size_t n, size_t index);

#endif /* TEESPARK_TESTS_LEAKY_H */

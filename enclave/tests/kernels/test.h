/*
 * test.h - the small test framework of kernels_test: named tests, CHECK
 * with a message, a seeded PRNG, and the sizes every kernel is tried at.
 */
#ifndef TEESPARK_TESTS_KERNELS_TEST_H
#define TEESPARK_TESTS_KERNELS_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

extern long test_checks;
extern long test_failures;

void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record a failure (and keep going) unless cond holds. Stops printing after
 * a few dozen failures per run to keep the log readable. */
#define CHECK(cond, ...) do {                                   \
		test_checks++;                                  \
		if (!(cond))                                    \
			test_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

void test_seed(uint64_t seed);
uint64_t test_rand(void);
/* Uniform in [0, bound) (bound > 0; slight bias is irrelevant here). */
uint64_t test_below(uint64_t bound);
void test_fill_random(void *p, size_t len);
void *test_alloc(size_t len);   /* 64-byte aligned, aborts on failure */

/* The sizes every kernel is checked at. */
extern const size_t test_sizes[];
extern const size_t test_sizes_count;

/* Test bodies (one file per kernel). */
void test_ct_primitives(void);
void test_sort_bitonic(void);
void test_sort_bitonic_zero_one(void);
void test_compact_or(void);
void test_scan_prefix(void);
void test_scan_segmented(void);
void test_key_encode(void);
void test_key_encode_sort(void);

#endif /* TEESPARK_TESTS_KERNELS_TEST_H */

/*
 * test_main.c - kernels_test: correctness of every oblivious kernel against
 * its NOT constant-time reference (ta/ops/..._ref.c) or a known answer.
 *
 *   kernels_test            run every test
 *   kernels_test NAME...    run the named tests (see the table below)
 *
 * Exit status 0 iff every check passed.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

long test_checks;
long test_failures;

static uint64_t rng_state;

const size_t test_sizes[] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65,
	100, 127, 128, 129, 255, 256, 257, 1000, 1023, 1024, 1025, 4097
};
const size_t test_sizes_count = sizeof(test_sizes) / sizeof(test_sizes[0]);

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (++test_failures > 40)
		return;
	fprintf(stderr, "FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void test_seed(uint64_t seed)
{
	rng_state = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
}

uint64_t test_rand(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t test_below(uint64_t bound)
{
	return test_rand() % bound;
}

void test_fill_random(void *p, size_t len)
{
	unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (unsigned char)test_rand();
}

void *test_alloc(size_t len)
{
	void *p = aligned_alloc(64, (len + 64) / 64 * 64);

	if (p == NULL) {
		fprintf(stderr, "kernels_test: out of memory\n");
		abort();
	}
	return p;
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "ct_primitives", test_ct_primitives },
	{ "sort_bitonic", test_sort_bitonic },
	{ "sort_bitonic_zero_one", test_sort_bitonic_zero_one },
	{ "compact_or", test_compact_or },
	{ "scan_prefix", test_scan_prefix },
	{ "scan_segmented", test_scan_segmented },
	{ "key_encode", test_key_encode },
	{ "key_encode_sort", test_key_encode_sort },
};

#define NTESTS (sizeof(tests) / sizeof(tests[0]))

int main(int argc, char **argv)
{
	size_t t;
	int a, ran = 0;

	for (t = 0; t < NTESTS; t++) {
		long before_checks = test_checks, before_fail = test_failures;
		int selected = argc < 2;

		for (a = 1; a < argc; a++)
			if (strcmp(argv[a], tests[t].name) == 0)
				selected = 1;
		if (!selected)
			continue;
		test_seed(t + 1);
		tests[t].fn();
		ran++;
		printf("%-24s %s (%ld checks)\n", tests[t].name,
			test_failures == before_fail ? "ok" : "FAILED",
			test_checks - before_checks);
	}
	for (a = 1; a < argc; a++) {
		for (t = 0; t < NTESTS; t++)
			if (strcmp(argv[a], tests[t].name) == 0)
				break;
		if (t == NTESTS) {
			fprintf(stderr, "kernels_test: unknown test '%s'; known:", argv[a]);
			for (t = 0; t < NTESTS; t++)
				fprintf(stderr, " %s", tests[t].name);
			fputc('\n', stderr);
			return 2;
		}
	}
	printf("kernels_test: %d tests, %ld checks, %ld failures\n", ran,
		test_checks, test_failures);
	return test_failures == 0 ? 0 : 1;
}

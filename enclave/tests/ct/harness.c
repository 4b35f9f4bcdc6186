/*
 * harness.c - main() and helpers of the ctgrind programs (see harness.h).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const size_t ct_sizes[] = { 0, 1, 2, 3, 7, 8, 33, 64, 100, 1000 };
const size_t ct_sizes_count = sizeof(ct_sizes) / sizeof(ct_sizes[0]);

static uint64_t rng_state = 0x243f6a8885a308d3ull;

uint64_t ct_rand(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void ct_fill(void *p, size_t len)
{
	unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (unsigned char)ct_rand();
}

void *ct_alloc(size_t len)
{
	void *p = aligned_alloc(64, (len + 64) / 64 * 64);

	if (p == NULL) {
		fprintf(stderr, "%s: out of memory\n", ct_program_name);
		exit(2);
	}
	memset(p, 0, (len + 64) / 64 * 64);
	return p;
}

static volatile unsigned char sink_byte;

void ct_sink(const void *p, size_t len)
{
	const unsigned char *b = p;
	unsigned char acc = 0;
	size_t i;

	/* XOR is data flow, not control flow: no memcheck error. */
	for (i = 0; i < len; i++)
		acc ^= b[i];
	sink_byte = acc;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		rng_state ^= strtoull(argv[1], NULL, 0);
	if (!RUNNING_ON_VALGRIND)
		fprintf(stderr, "%s: note: not under valgrind, nothing is checked\n",
			ct_program_name);
	ct_run();
	printf("%s: ran\n", ct_program_name);
	return 0;
}

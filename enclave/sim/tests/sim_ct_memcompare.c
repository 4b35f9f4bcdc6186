/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_ct_memcompare.c - constant-time check of the simulator's
 * TEE_MemCompare under valgrind memcheck: both buffers are marked undefined
 * (secret), so any branch or address that depends on their contents is a
 * valgrind error.
 *
 *   valgrind -q --error-exitcode=99 sim_ct_memcompare ct     -> no error
 *   valgrind -q --error-exitcode=99 sim_ct_memcompare leaky  -> error
 *
 * "leaky" runs leaky_compare below, the negative control showing the check
 * can fail.  Also checks the results against memcmp's signs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include <tee_internal_api.h>

/* NOT constant-time: exits at the first difference (negative control). */
static int32_t leaky_compare(const void *a, const void *b, size_t n)
{
	const uint8_t *p = a, *q = b;
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != q[i])
			return (int32_t)p[i] - (int32_t)q[i];
	return 0;
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

int main(int argc, char **argv)
{
	int32_t (*cmp)(const void *, const void *, size_t) = TEE_MemCompare;
	uint8_t a[256], b[256];
	int failures = 0, trial;

	if (argc != 2 || (strcmp(argv[1], "ct") && strcmp(argv[1], "leaky"))) {
		fprintf(stderr, "usage: %s ct|leaky\n", argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "leaky"))
		cmp = leaky_compare;
	srand(7);
	for (trial = 0; trial < 64; trial++) {
		size_t n = sizeof(a), i;
		int32_t r;
		int want;

		for (i = 0; i < n; i++)
			a[i] = b[i] = (uint8_t)rand();
		if (trial % 4)
			b[rand() % n] ^= (uint8_t)(1 + rand() % 255);
		want = sign(memcmp(a, b, n));
		VALGRIND_MAKE_MEM_UNDEFINED(a, n);
		VALGRIND_MAKE_MEM_UNDEFINED(b, n);
		r = cmp(a, b, n);
		/* The result is public from here on. */
		VALGRIND_MAKE_MEM_DEFINED(&r, sizeof(r));
		VALGRIND_MAKE_MEM_DEFINED(a, n);
		VALGRIND_MAKE_MEM_DEFINED(b, n);
		if (sign(r) != want)
			failures++;
	}
	if (failures)
		fprintf(stderr, "FAIL: %d wrong results\n", failures);
	return failures ? 1 : 0;
}

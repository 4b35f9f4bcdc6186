/*
 * trace_expr.c - expr_trace: trace equality for the expression evaluator
 * (the trace build, -DOBL_TRACE). For every program of programs.h and
 * several batch sizes, batches of the same shape filled with different data
 * (random bytes, all NULL, no NULL, all zero, all 0xFF) must give the same
 * access-trace digest and event count. Sanity: a different batch size
 * must give a different digest. Negative control: the short-circuit AND of
 * leaky_expr.c must give different digests for different data.
 * Exit status 0 iff all of that holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../trace.h"
#include "../expr.h"
#include "leaky_expr.h"
#include "programs.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Fill family f: 0 random, 1 random with every NULL bit set, 2 random
 * with no NULL bit, 3 all zero, 4 all 0xFF. */
static void fill(uint8_t *rows, size_t n, int f)
{
	size_t i;

	for (i = 0; i < n * TEST_ROW_SIZE; i++)
		rows[i] = f == 3 ? 0 : f == 4 ? 0xFF : (uint8_t)next();
	for (i = 0; i < n; i++) {
		if (f == 1)
			rows[i * TEST_ROW_SIZE] = 0xFF;
		if (f == 2)
			rows[i * TEST_ROW_SIZE] = 0;
	}
}

static uint64_t digest_of(const struct pb *p, const uint8_t *rows, size_t n,
		uint64_t *events)
{
	static uint8_t ws[1 << 22] __attribute__((aligned(16)));
	struct ts_expr_info info;
	struct ts_expr_col col;
	int32_t bad;

	if (ts_expr_validate(p->buf, p->len, &info, &bad) != TS_EXPR_OK ||
	    ts_expr_workspace_size(&info, n) > sizeof(ws)) {
		fprintf(stderr, "expr_trace: bad program\n");
		exit(2);
	}
	obl_trace_reset();
	if (ts_expr_eval(p->buf, &info, rows, n, TEST_ROW_SIZE, ws, sizeof(ws),
			&col) != TS_EXPR_OK) {
		fprintf(stderr, "expr_trace: eval failed\n");
		exit(2);
	}
	*events = obl_trace_events();
	return obl_trace_digest();
}

int main(void)
{
	static const size_t sizes[] = { 1, 5, 64, 200 };
	static struct pb p;
	uint8_t *rows = malloc(256 * TEST_ROW_SIZE);
	int k, f, fails = 0, checks = 0;
	size_t si;

	if (rows == NULL)
		return 2;
	for (k = 0; k < N_PROGRAMS; k++) {
		uint64_t prev_size_digest = 0;

		build_program(&p, k);
		for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
			size_t n = sizes[si];
			uint64_t d0 = 0, e0 = 0;

			for (f = 0; f < 5; f++) {
				uint64_t e, d;

				fill(rows, n, f);
				d = digest_of(&p, rows, n, &e);
				if (f == 0) {
					d0 = d;
					e0 = e;
				} else {
					checks++;
					if (d != d0 || e != e0) {
						fprintf(stderr, "FAIL program %d n=%zu family %d: "
							"digest %016llx/%llu vs %016llx/%llu\n",
							k, n, f, (unsigned long long)d,
							(unsigned long long)e,
							(unsigned long long)d0,
							(unsigned long long)e0);
						fails++;
					}
				}
			}
			checks++;
			if (e0 == 0 || d0 == prev_size_digest) {
				fprintf(stderr, "FAIL program %d n=%zu: trace is empty or "
					"does not depend on the batch size\n", k, n);
				fails++;
			}
			prev_size_digest = d0;
		}
	}
	/* Negative control: the short-circuit AND must be caught. */
	{
		uint8_t a[64], b[64], r[64];
		uint64_t d1, d2;
		int i;

		for (i = 0; i < 64; i++) {
			a[i] = (uint8_t)(next() & 1);
			b[i] = (uint8_t)(next() & 1);
		}
		obl_trace_reset();
		leaky_and(a, b, r, 64);
		d1 = obl_trace_digest();
		for (i = 0; i < 64; i++)
			a[i] ^= (uint8_t)(i == 17);
		obl_trace_reset();
		leaky_and(a, b, r, 64);
		d2 = obl_trace_digest();
		checks++;
		if (d1 == d2) {
			fprintf(stderr, "FAIL negative control: the short-circuit AND "
				"was not caught: the trace check is broken\n");
			fails++;
		} else {
			printf("expr_trace: negative control (short-circuit AND) caught\n");
		}
	}
	free(rows);
	printf("expr_trace: %d checks, %d failures\n", checks, fails);
	return fails ? 1 : 0;
}

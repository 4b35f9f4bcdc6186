/*
 * bench_sort.c - obl_sort_bitonic against glibc qsort on identical copies of
 * the same records in the same run, and obl_compact, single-threaded.
 *
 *   $(BUILD)/bench/bench_sort [--quick]
 *
 * Records: an 8-byte random unsigned key then payload (record sizes 16 and
 * 64 bytes); qsort compares the 8-byte unsigned key. Each configuration is
 * timed best of 3 (1 for 2^20 x 64 B, the slowest), sorting a fresh copy of
 * the same input every time; both outputs are checked (sorted, and the same
 * key sequence). One JSON object per line on stdout:
 *   {"kernel":"sort_bitonic","n":...,"record_bytes":...,"bitonic_s":...,
 *    "qsort_s":...,"ratio":...}            ratio = bitonic_s / qsort_s
 *   {"kernel":"compact_or","n":...,"record_bytes":...,"compact_s":...,
 *    "kept":...,"rows_per_s":...}
 * --quick runs only n = 2^16 (a smoke test). Exit status 1 if a check fails.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../ta/ops/compact_or.h"
#include "../../ta/ops/sort_bitonic.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng_next(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_key(const void *a, const void *b)
{
	uint64_t x, y;

	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	return (x > y) - (x < y);
}

static uint64_t key_at(const uint8_t *recs, size_t i, size_t rec)
{
	uint64_t k;

	memcpy(&k, recs + i * rec, 8);
	return k;
}

static int is_sorted(const uint8_t *recs, size_t n, size_t rec)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (key_at(recs, i - 1, rec) > key_at(recs, i, rec))
			return 0;
	return 1;
}

static void *xmalloc(size_t n)
{
	void *p = aligned_alloc(64, (n + 63) / 64 * 64);

	if (p == NULL) {
		fprintf(stderr, "bench_sort: out of memory (%zu bytes)\n", n);
		exit(2);
	}
	return p;
}

static int bench_sort(size_t n, size_t rec, int reps)
{
	uint8_t *base = xmalloc(n * rec), *a = xmalloc(n * rec), *b = xmalloc(n * rec);
	double best_bitonic = 1e30, best_qsort = 1e30, t;
	size_t i, w;
	int r, ok;

	for (i = 0; i < n; i++)
		for (w = 0; w < rec / 8; w++) {
			uint64_t v = w == 1 ? (uint64_t)i : rng_next();

			memcpy(base + i * rec + 8 * w, &v, 8);
		}
	for (r = 0; r < reps; r++) {
		memcpy(a, base, n * rec);
		t = now_s();
		obl_sort_bitonic(a, n, rec, 1);
		t = now_s() - t;
		if (t < best_bitonic)
			best_bitonic = t;
		memcpy(b, base, n * rec);
		t = now_s();
		qsort(b, n, rec, cmp_key);
		t = now_s() - t;
		if (t < best_qsort)
			best_qsort = t;
	}
	ok = is_sorted(a, n, rec) && is_sorted(b, n, rec);
	for (i = 0; ok && i < n; i++)
		ok = key_at(a, i, rec) == key_at(b, i, rec);
	if (!ok)
		fprintf(stderr, "bench_sort: n=%zu rec=%zu: outputs not sorted or differ\n",
			n, rec);
	printf("{\"kernel\":\"sort_bitonic\",\"n\":%zu,\"record_bytes\":%zu,"
		"\"bitonic_s\":%.6f,\"qsort_s\":%.6f,\"ratio\":%.3f}\n",
		n, rec, best_bitonic, best_qsort, best_bitonic / best_qsort);
	fflush(stdout);
	free(base);
	free(a);
	free(b);
	return ok;
}

static int bench_compact(size_t n, size_t rec, int reps)
{
	uint8_t *base = xmalloc(n * rec), *a = xmalloc(n * rec);
	uint32_t *keep0 = xmalloc(n * sizeof(uint32_t)), *keep = xmalloc(n * sizeof(uint32_t));
	double best = 1e30, t;
	size_t i, m = 0, got = 0, j;
	int r, ok = 1;

	for (i = 0; i < n; i++) {
		uint64_t v = i;

		memcpy(base + i * rec, &v, 8);
		memset(base + i * rec + 8, 0x5a, rec - 8);
		keep0[i] = (uint32_t)(rng_next() >> 63);
		m += keep0[i];
	}
	for (r = 0; r < reps; r++) {
		memcpy(a, base, n * rec);
		memcpy(keep, keep0, n * sizeof(uint32_t));
		t = now_s();
		got = obl_compact(a, n, rec, keep);
		t = now_s() - t;
		if (t < best)
			best = t;
	}
	ok = got == m;
	for (i = 0, j = 0; ok && i < n; i++)
		if (keep0[i])
			ok = key_at(a, j++, rec) == i;
	if (!ok)
		fprintf(stderr, "bench_sort: compaction n=%zu rec=%zu: wrong output\n",
			n, rec);
	printf("{\"kernel\":\"compact_or\",\"n\":%zu,\"record_bytes\":%zu,"
		"\"compact_s\":%.6f,\"kept\":%zu,\"rows_per_s\":%.0f}\n",
		n, rec, best, m, (double)n / best);
	fflush(stdout);
	free(base);
	free(a);
	free(keep0);
	free(keep);
	return ok;
}

int main(int argc, char **argv)
{
	int quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	int ok = 1;

	ok &= bench_sort((size_t)1 << 16, 16, 3);
	ok &= bench_sort((size_t)1 << 16, 64, 3);
	if (!quick) {
		ok &= bench_sort((size_t)1 << 20, 16, 3);
		ok &= bench_sort((size_t)1 << 20, 64, 1);
		ok &= bench_compact((size_t)1 << 20, 16, 3);
	} else {
		ok &= bench_compact((size_t)1 << 16, 16, 3);
	}
	return ok ? 0 : 1;
}

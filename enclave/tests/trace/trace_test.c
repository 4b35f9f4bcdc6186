/*
 * trace_test.c - trace equality of every kernel, with the trace build
 * ($(BUILD)/obj/ops-trace, -DOBL_TRACE): for each kernel and each public
 * shape (n in {0, 1, 7, 64, 1000} and record widths), at least 20 random
 * inputs plus adversarial families (all equal, sorted, reverse sorted, all
 * kept, none kept, ...) must give one trace digest and one event count.
 * The negative controls (tests/leaky, instrumented the same way) run
 * through the same harness and must give differing digests for every shape
 * with n >= 7; otherwise the check is broken and the run fails.
 *
 *   trace_test            all kernels and controls
 *   trace_test NAME...    only those (names as printed)
 * Exit status 0 iff every kernel is trace-equal and every control differs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ta/ops/compact_or.h"
#include "../../ta/ops/key_encode.h"
#include "../../ta/ops/scan_prefix.h"
#include "../../ta/ops/scan_segmented.h"
#include "../../ta/ops/sort_bitonic.h"
#include "../../ta/trace.h"
#include "../leaky/leaky.h"

#define RANDOM_INPUTS 24

static const size_t trace_sizes[] = { 0, 1, 7, 64, 1000 };
#define NSIZES (sizeof(trace_sizes) / sizeof(trace_sizes[0]))

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void *xalloc(size_t len)
{
	void *p = aligned_alloc(64, (len + 64) / 64 * 64);

	if (p == NULL) {
		fprintf(stderr, "trace_test: out of memory\n");
		exit(2);
	}
	return p;
}

/* Input families. Families < FAM_RANDOM are adversarial and fixed; every
 * input at or above FAM_RANDOM is a fresh random input. */
enum family {
	FAM_ALL_EQUAL, FAM_SORTED, FAM_REVERSE, FAM_FEW_KEYS, FAM_ALL_KEPT,
	FAM_NONE_KEPT, FAM_ALTERNATE, FAM_RANDOM
};
#define NFAMILIES_FIXED FAM_RANDOM

/* A public shape: n records of width rec_size with key_words key words
 * (scans use only n; key_encode uses its fixed column list). */
struct shape {
	size_t n, rec_size, key_words;
};

struct trace {
	uint64_t digest, events;
};

/* Runs the kernel on an input of family fam (random inputs: fam >=
 * FAM_RANDOM, from the current rng state) and returns its trace. */
typedef struct trace (*runner)(const struct shape *sh, int fam);

static struct trace finish(void)
{
	struct trace t = { obl_trace_digest(), obl_trace_events() };

	return t;
}

/* Records whose leading key words follow the family. */
static void fill_recs(uint8_t *recs, const struct shape *sh, int fam)
{
	size_t i, w, words = sh->rec_size / 8;

	for (i = 0; i < sh->n; i++) {
		uint64_t *r = (uint64_t *)(void *)(recs + i * sh->rec_size);

		for (w = 0; w < words; w++)
			r[w] = rnd();
		for (w = 0; w < sh->key_words && w < words; w++) {
			switch (fam) {
			case FAM_ALL_EQUAL: r[w] = 7; break;
			case FAM_SORTED: r[w] = w == 0 ? i : 0; break;
			case FAM_REVERSE: r[w] = w == 0 ? sh->n - i : 0; break;
			case FAM_FEW_KEYS: r[w] = rnd() % 2; break;
			default: break;
			}
		}
	}
}

static struct trace run_sort(const struct shape *sh, int fam)
{
	uint8_t *recs = xalloc(sh->n * sh->rec_size);
	struct trace t;

	fill_recs(recs, sh, fam);
	obl_trace_reset();
	obl_sort_bitonic(recs, sh->n, sh->rec_size, sh->key_words);
	t = finish();
	free(recs);
	return t;
}

static struct trace run_leaky_sort(const struct shape *sh, int fam)
{
	uint8_t *recs = xalloc(sh->n * sh->rec_size);
	struct trace t;

	fill_recs(recs, sh, fam);
	obl_trace_reset();
	leaky_insertion_sort(recs, sh->n, sh->rec_size, sh->key_words);
	t = finish();
	free(recs);
	return t;
}

static uint32_t keep_flag(int fam, size_t i)
{
	switch (fam) {
	case FAM_ALL_KEPT: return 1;
	case FAM_NONE_KEPT: return 0;
	case FAM_ALTERNATE: return (uint32_t)(i & 1);
	case FAM_SORTED: return i < 3;          /* only the first few kept */
	case FAM_REVERSE: return i >= 3;        /* all but the first few */
	default: return (uint32_t)(rnd() & 1);
	}
}

static struct trace run_compact(const struct shape *sh, int fam);

/* Compaction of 20 x n records: n = 1000 gives 320 KiB of records, past one
 * 128 KiB chunk of the fused small-shift passes in compact_or.c. */
static struct trace run_compact_x20(const struct shape *sh, int fam)
{
	struct shape big = *sh;

	big.n = sh->n * 20;
	return run_compact(&big, fam);
}

static struct trace run_compact(const struct shape *sh, int fam)
{
	uint8_t *recs = xalloc(sh->n * sh->rec_size);
	uint32_t *keep = xalloc(sh->n * 4);
	struct trace t;
	size_t i;

	fill_recs(recs, sh, FAM_RANDOM);
	for (i = 0; i < sh->n; i++)
		keep[i] = keep_flag(fam, i);
	obl_trace_reset();
	(void)obl_compact(recs, sh->n, sh->rec_size, keep);
	t = finish();
	free(recs);
	free(keep);
	return t;
}

static int64_t value(int fam, size_t i)
{
	switch (fam) {
	case FAM_ALL_EQUAL: return 5;
	case FAM_SORTED: return (int64_t)i;
	case FAM_REVERSE: return -(int64_t)i;
	case FAM_ALL_KEPT: return INT64_MAX;
	case FAM_NONE_KEPT: return INT64_MIN;
	default: return (int64_t)rnd();
	}
}

static struct trace run_prefix(const struct shape *sh, int fam)
{
	int64_t *v = xalloc(sh->n * 8);
	struct trace t;
	size_t i;

	for (i = 0; i < sh->n; i++)
		v[i] = value(fam, i);
	obl_trace_reset();
	obl_scan_prefix_sum_i64(v, sh->n);
	t = finish();
	free(v);
	return t;
}

/* All four ops, mark_last and segment starts in one trace; boundaries by
 * family (all starts / none / alternating / random). */
static struct trace run_segmented(const struct shape *sh, int fam)
{
	static const enum obl_scan_op ops[] = {
		OBL_SCAN_SUM, OBL_SCAN_MIN, OBL_SCAN_MAX, OBL_SCAN_COUNT
	};
	int64_t *v = xalloc(sh->n * 8);
	uint32_t *seg = xalloc(sh->n * 4), *last = xalloc(sh->n * 4);
	uint8_t *recs = xalloc(sh->n * 16);
	struct shape ksh = { sh->n, 16, 1 };
	struct trace t;
	size_t i, o;

	for (i = 0; i < sh->n; i++)
		seg[i] = keep_flag(fam, i);
	fill_recs(recs, &ksh, fam);
	obl_trace_reset();
	for (o = 0; o < 4; o++) {
		for (i = 0; i < sh->n; i++)
			v[i] = value(fam, i);
		(void)obl_scan_segmented_i64(v, seg, sh->n, ops[o]);
	}
	obl_scan_segmented_mark_last(seg, last, sh->n);
	obl_scan_segmented_starts(recs, sh->n, 16, 1, seg);
	t = finish();
	free(v);
	free(seg);
	free(last);
	free(recs);
	return t;
}

/* key_encode + sort + strip with a fixed multi-type column list. */
static struct trace run_key_encode(const struct shape *sh, int fam)
{
	static const struct obl_key_col cols[] = {
		{ OBL_KEY_UINT, 1, 0, 4, 0 },
		{ OBL_KEY_INT, 0, 4, 8, 0 },
		{ OBL_KEY_FLOAT64, 0, 12, 8, 0 },
		{ OBL_KEY_BYTES, 1, 20, 13, 0 },
	};
	const size_t ncols = 4, row_size = 37;
	size_t kw = obl_key_words_for(cols, ncols);
	size_t rs = obl_key_encode_rec_size(kw, row_size);
	uint8_t *rows = xalloc(sh->n * row_size), *recs = xalloc(sh->n * rs);
	struct trace t;
	size_t i, b;

	for (i = 0; i < sh->n; i++)
		for (b = 0; b < row_size; b++)
			rows[i * row_size + b] = (uint8_t)(fam == FAM_ALL_EQUAL ? 0x41 :
				fam == FAM_SORTED ? i >> (b % 4) :
				fam == FAM_REVERSE ? ~(i >> (b % 4)) :
				fam == FAM_ALL_KEPT ? 0xff :     /* NaNs */
				fam == FAM_NONE_KEPT ? 0 : rnd());
	obl_trace_reset();
	obl_key_encode(rows, sh->n, row_size, cols, ncols, recs);
	obl_sort_bitonic(recs, sh->n, rs, kw);
	obl_key_encode_strip(recs, sh->n, kw, row_size, rows);
	t = finish();
	free(rows);
	free(recs);
	return t;
}

static struct trace run_leaky_lookup(const struct shape *sh, int fam)
{
	uint64_t *table = xalloc(sh->n * 8 + 8);
	size_t idx, i;
	struct trace t;

	for (i = 0; i < sh->n; i++)
		table[i] = rnd();
	/* the secret index: by family, or random */
	idx = sh->n == 0 ? 0 : fam == FAM_SORTED ? 0 : fam == FAM_REVERSE ?
		sh->n - 1 : (size_t)(rnd() % sh->n);
	obl_trace_reset();
	if (sh->n > 0)
		(void)leaky_lookup(table, sh->n, idx);
	t = finish();
	free(table);
	return t;
}

struct kernel {
	const char *name;
	runner run;
	int is_control;          /* 1: must NOT be trace-equal */
	size_t widths[8][2];     /* (rec_size, key_words); {0,0} ends */
};

static const struct kernel kernels[] = {
	{ "sort_bitonic", run_sort, 0, { { 16, 1 }, { 24, 2 }, { 32, 1 }, { 64, 1 }, { 48, 2 },
					   { 80, 3 }, { 0, 0 } } },
	{ "compact_or", run_compact, 0, { { 16, 0 }, { 13, 0 }, { 0, 0 } } },
	{ "compact_or_x20", run_compact_x20, 0, { { 16, 0 }, { 0, 0 } } },
	{ "scan_prefix", run_prefix, 0, { { 8, 0 }, { 0, 0 } } },
	{ "scan_segmented", run_segmented, 0, { { 8, 0 }, { 0, 0 } } },
	{ "key_encode_sort", run_key_encode, 0, { { 37, 0 }, { 0, 0 } } },
	{ "leaky_insertion_sort", run_leaky_sort, 1, { { 16, 1 }, { 0, 0 } } },
	{ "leaky_lookup", run_leaky_lookup, 1, { { 8, 0 }, { 0, 0 } } },
};
#define NKERNELS (sizeof(kernels) / sizeof(kernels[0]))

/* Returns 1 if the kernel behaves as expected (equal traces for a kernel,
 * differing traces at every n >= 7 for a control). */
static int check_kernel(const struct kernel *k)
{
	size_t s, w;
	int fam, ok = 1, inputs = 0, shapes = 0;

	for (w = 0; k->widths[w][0] != 0; w++) {
		for (s = 0; s < NSIZES; s++) {
			struct shape sh = { trace_sizes[s], k->widths[w][0], k->widths[w][1] };
			struct trace first = { 0, 0 };
			int differ = 0, count = 0;

			for (fam = 0; fam < NFAMILIES_FIXED + RANDOM_INPUTS; fam++) {
				struct trace t;

				rng_state = 0x5eed0000u + (uint64_t)fam * 7919u + s;
				t = k->run(&sh, fam < FAM_RANDOM ? fam : FAM_RANDOM);
				if (count++ == 0)
					first = t;
				else if (t.digest != first.digest || t.events != first.events)
					differ = 1;
			}
			inputs += count;
			shapes++;
			if (!k->is_control && differ) {
				printf("  %s: n=%zu width=%zu: traces DIFFER between inputs of the same shape\n",
					k->name, sh.n, sh.rec_size);
				ok = 0;
			}
			/* a trace that records nothing proves nothing */
			if (!k->is_control && sh.n >= 2 && first.events == 0) {
				printf("  %s: n=%zu width=%zu: no trace events recorded (is this the trace build?)\n",
					k->name, sh.n, sh.rec_size);
				ok = 0;
			}
			if (k->is_control && sh.n >= 7 && !differ) {
				printf("  %s: n=%zu width=%zu: leaky kernel gave equal traces: the check is broken\n",
					k->name, sh.n, sh.rec_size);
				ok = 0;
			}
		}
	}
	if (k->is_control)
		printf("trace negative control %-20s %s (%d shapes, %d inputs)\n", k->name,
			ok ? "caught as expected: traces differ" : "NOT CAUGHT", shapes, inputs);
	else
		printf("trace %-20s %s (%d shapes, %d inputs)\n", k->name,
			ok ? "equal traces" : "FAILED", shapes, inputs);
	return ok;
}

int main(int argc, char **argv)
{
	size_t i;
	int a, ok = 1;

	for (a = 1; a < argc; a++) {
		for (i = 0; i < NKERNELS; i++)
			if (strcmp(argv[a], kernels[i].name) == 0)
				break;
		if (i == NKERNELS) {
			fprintf(stderr, "trace_test: unknown name '%s'; known:", argv[a]);
			for (i = 0; i < NKERNELS; i++)
				fprintf(stderr, " %s", kernels[i].name);
			fputc('\n', stderr);
			return 2;
		}
	}
	for (i = 0; i < NKERNELS; i++) {
		int selected = argc < 2;

		for (a = 1; a < argc; a++)
			selected |= strcmp(argv[a], kernels[i].name) == 0;
		if (selected)
			ok &= check_kernel(&kernels[i]);
	}
	return ok ? 0 : 1;
}

/*
 * test_sort_bitonic.c - obl_sort_bitonic against ref_sort_bitonic (qsort) at
 * every test size, several record shapes (the AVX2 16-byte path and the
 * general path) and input families; plus the 0-1 principle exhaustively for
 * small n, which proves the network itself sorts for those n.
 */
#include <stdlib.h>
#include <string.h>

#include "../../ta/ops/ref.h"
#include "../../ta/ops/sort_bitonic.h"
#include "test.h"

enum family {
	FAM_RANDOM, FAM_FEW_KEYS, FAM_ALL_EQUAL, FAM_ASCENDING, FAM_DESCENDING,
	FAM_HIGH_BIT, FAM_TIES_IN_WORD0, FAM_COUNT
};

static const char *const family_names[] = {
	"random", "few_keys", "all_equal", "ascending", "descending",
	"high_bit", "ties_in_word0"
};

/* Fill n records: key words by family, payload words random, and the last
 * payload word (if any) = row number so lost/duplicated rows show. */
static void fill(uint8_t *recs, size_t n, size_t rec_size, size_t kw,
		enum family fam)
{
	size_t i, w, words = rec_size / 8;

	for (i = 0; i < n; i++) {
		uint64_t *r = (uint64_t *)(void *)(recs + i * rec_size);

		for (w = 0; w < words; w++)
			r[w] = test_rand();
		for (w = 0; w < kw; w++) {
			switch (fam) {
			case FAM_RANDOM: break;
			case FAM_FEW_KEYS: r[w] = test_below(3); break;
			case FAM_ALL_EQUAL: r[w] = 0x5555aaaa5555aaaaull; break;
			case FAM_ASCENDING: r[w] = w == 0 ? i : 7; break;
			case FAM_DESCENDING: r[w] = w == 0 ? ~(uint64_t)i : 7; break;
			case FAM_HIGH_BIT:
				/* keys on both sides of 2^63: catches signed compares */
				r[w] = (test_rand() & 0x8000000000000003ull);
				break;
			default: /* FAM_TIES_IN_WORD0 */
				r[w] = w == 0 ? test_below(2) : test_rand() >> test_below(64);
				break;
			}
		}
		if (words > kw)
			r[words - 1] = i;
	}
}

/* Sort a copy of a and b by all their bytes and compare: multiset equality. */
static int same_multiset(const uint8_t *a, const uint8_t *b, size_t n, size_t rec_size)
{
	uint8_t *x = test_alloc(n * rec_size + 8), *y = test_alloc(n * rec_size + 8);
	int same;

	memcpy(x, a, n * rec_size);
	memcpy(y, b, n * rec_size);
	ref_sort_bitonic(x, n, rec_size, rec_size / 8);
	ref_sort_bitonic(y, n, rec_size, rec_size / 8);
	same = memcmp(x, y, n * rec_size) == 0;
	free(x);
	free(y);
	return same;
}

static void check_one(size_t n, size_t rec_size, size_t kw, enum family fam)
{
	uint8_t *in = test_alloc(n * rec_size + 8);
	uint8_t *got = test_alloc(n * rec_size + 8);
	uint8_t *want = test_alloc(n * rec_size + 8);
	size_t i, w;
	int keys_ok = 1;

	fill(in, n, rec_size, kw, fam);
	memcpy(got, in, n * rec_size);
	memcpy(want, in, n * rec_size);
	obl_sort_bitonic(got, n, rec_size, kw);
	ref_sort_bitonic(want, n, rec_size, kw);
	/* exact key sequence; payloads of equal keys may be in any order */
	for (i = 0; i < n && keys_ok; i++)
		for (w = 0; w < kw; w++)
			keys_ok &= ((uint64_t *)(void *)(got + i * rec_size))[w] ==
				((uint64_t *)(void *)(want + i * rec_size))[w];
	CHECK(keys_ok, "sort keys differ: n %zu rec %zu kw %zu %s", n, rec_size,
		kw, family_names[fam]);
	CHECK(same_multiset(got, in, n, rec_size),
		"sort is not a permutation: n %zu rec %zu kw %zu %s", n, rec_size,
		kw, family_names[fam]);
	free(in);
	free(got);
	free(want);
}

/* (rec_size, key_words) shapes: 16/1 is the AVX2 path, 32/1 and 64/1 the
 * constant-size general path, the rest the fully general one. */
static const size_t shapes[][2] = {
	{ 16, 1 }, { 8, 1 }, { 24, 1 }, { 32, 1 }, { 64, 1 }, { 16, 2 }, { 24, 2 },
	{ 32, 3 }, { 40, 4 }, { 72, 2 },
	/* the AVX2 key-compare paths of 32..80-byte records, 1..3 key words
	 * (the PK-FK join's 48-byte records with 2 words among them) */
	{ 48, 2 }, { 56, 3 }, { 80, 1 }, { 80, 3 }
};

void test_sort_bitonic(void)
{
	size_t s, k, n;
	int fam;

	for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
		for (k = 0; k < test_sizes_count; k++)
			for (fam = 0; fam < FAM_COUNT; fam++)
				check_one(test_sizes[k], shapes[s][0], shapes[s][1],
					(enum family)fam);
	/* every n up to 300 on the two main paths */
	for (n = 0; n <= 300; n++) {
		check_one(n, 16, 1, FAM_RANDOM);
		check_one(n, 16, 1, FAM_FEW_KEYS);
		check_one(n, 24, 2, FAM_TIES_IN_WORD0);
	}
	/* a larger non-power of two with many duplicates */
	check_one(20011, 16, 1, FAM_FEW_KEYS);
	check_one(20011, 32, 2, FAM_TIES_IN_WORD0);
	check_one(20011, 48, 2, FAM_TIES_IN_WORD0);
}

/* 0-1 principle: a comparator network sorts every input iff it sorts every
 * 0/1 input. Try all 2^n 0/1 inputs for n <= 14 on both paths. */
void test_sort_bitonic_zero_one(void)
{
	uint64_t recs16[2 * 14], recs24[3 * 14];
	size_t n, i;
	uint32_t bits;

	for (n = 0; n <= 14; n++) {
		for (bits = 0; bits < (1u << n); bits++) {
			size_t ones = 0;
			int ok16 = 1, ok24 = 1;

			for (i = 0; i < n; i++) {
				uint64_t k = (bits >> i) & 1u;

				ones += k;
				recs16[2 * i] = k;
				recs16[2 * i + 1] = i;
				recs24[3 * i] = 0;
				recs24[3 * i + 1] = k;
				recs24[3 * i + 2] = i;
			}
			obl_sort_bitonic((uint8_t *)recs16, n, 16, 1);
			obl_sort_bitonic((uint8_t *)recs24, n, 24, 2);
			for (i = 0; i < n; i++) {
				ok16 &= recs16[2 * i] == (i >= n - ones);
				ok24 &= recs24[3 * i + 1] == (i >= n - ones);
			}
			CHECK(ok16, "0-1 input %x of n %zu not sorted (16-byte path)", bits, n);
			CHECK(ok24, "0-1 input %x of n %zu not sorted (general path)", bits, n);
		}
	}
}

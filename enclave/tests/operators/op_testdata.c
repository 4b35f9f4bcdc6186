/*
 * op_testdata.c - the operator test table (see op_testdata.h).
 */
#include "op_testdata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x243f6a8885a308d3ull;

void opt_seed(uint64_t seed)
{
	rng = seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
}

uint64_t opt_rand(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t opt_below(uint64_t bound)
{
	return opt_rand() % bound;
}

void *opt_alloc(size_t len)
{
	void *p = aligned_alloc(64, (len + 64) / 64 * 64);

	if (p == NULL) {
		fprintf(stderr, "out of memory\n");
		abort();
	}
	memset(p, 0, (len + 64) / 64 * 64);
	return p;
}

void opt_fill(uint8_t *rows, size_t n, enum opt_family fam, uint64_t key_range)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t *r = rows + i * OPT_ROW;
		int64_t k1, v;
		double f;
		uint8_t nulls = 0;
		char k2[8];

		memset(r, 0, OPT_ROW);
		switch (fam) {
		case OPT_SKEW:
			k1 = opt_below(10) < 9 ? 7 : (int64_t)opt_below(key_range);
			break;
		case OPT_ALL_EQUAL:
		case OPT_ALL_NULL:
			k1 = 3;
			break;
		case OPT_DISTINCT:
			k1 = (int64_t)i * 3 - 100;
			break;
		default:
			k1 = (int64_t)opt_below(key_range) - (int64_t)key_range / 2;
			break;
		}
		memset(k2, 0, sizeof(k2));
		k2[0] = (char)('a' + (fam == OPT_DISTINCT ? 0 : opt_below(2)));
		if (opt_below(2))
			k2[1] = 'x';
		v = (int64_t)opt_below(2001) - 1000;
		if (opt_below(50) == 0)
			v = INT64_MAX - (int64_t)opt_below(5);  /* wrapping sums */
		f = ((double)(int64_t)opt_below(20001) - 10000.0) / 8.0;
		if (fam == OPT_ALL_NULL)
			nulls = 0x3 | (uint8_t)(opt_below(2) << 2);
		else if (fam == OPT_RANDOM)
			nulls = (uint8_t)((opt_below(8) == 0) | (opt_below(8) == 0) << 1 |
				(opt_below(5) == 0) << 2 | (opt_below(5) == 0) << 3);
		else if (fam == OPT_SKEW)
			nulls = (uint8_t)((opt_below(5) == 0) << 2);
		/* NULL columns hold garbage: the operators must not look */
		if (nulls & 1)
			k1 = (int64_t)opt_rand();
		if (nulls & 4)
			v = (int64_t)opt_rand();
		r[OPT_OFF_NULLS] = nulls;
		memcpy(r + OPT_OFF_K1, &k1, 8);
		memcpy(r + OPT_OFF_K2, k2, 8);
		memcpy(r + OPT_OFF_V, &v, 8);
		memcpy(r + OPT_OFF_F, &f, 8);
		if (nulls & 2)
			memset(r + OPT_OFF_K2, 'z', 8);
	}
}

#define KEY(type, desc, off, width, nbit, nfirst) \
	{ { type, desc, off, width, 0 }, OPT_OFF_NULLS, nbit, 1, nfirst, 0 }

const struct obl_key_spec opt_keys_k1[1] = {
	KEY(OBL_KEY_INT, 0, OPT_OFF_K1, 8, 0, 1),
};
const struct obl_key_spec opt_keys_k1k2[2] = {
	KEY(OBL_KEY_INT, 0, OPT_OFF_K1, 8, 0, 1),
	KEY(OBL_KEY_BYTES, 0, OPT_OFF_K2, 8, 1, 1),
};
const struct obl_key_spec opt_keys_sort[2] = {
	KEY(OBL_KEY_INT, 1, OPT_OFF_K1, 8, 0, 0),
	KEY(OBL_KEY_BYTES, 0, OPT_OFF_K2, 8, 1, 1),
};

#define AGG(fn, type, off, width, nbit) \
	{ fn, type, off, width, OPT_OFF_NULLS, nbit, 1, 0 }

const struct obl_agg_spec opt_aggs[OPT_NAGGS] = {
	{ OBL_AGG_COUNT_STAR, 0, 0, 0, 0, 0, 0, 0 },
	AGG(OBL_AGG_COUNT, OBL_KEY_INT, OPT_OFF_V, 8, 2),
	AGG(OBL_AGG_SUM, OBL_KEY_INT, OPT_OFF_V, 8, 2),
	AGG(OBL_AGG_SUM, OBL_KEY_FLOAT64, OPT_OFF_F, 8, 3),
	AGG(OBL_AGG_MIN, OBL_KEY_INT, OPT_OFF_V, 8, 2),
	AGG(OBL_AGG_MAX, OBL_KEY_FLOAT64, OPT_OFF_F, 8, 3),
	AGG(OBL_AGG_AVG, OBL_KEY_INT, OPT_OFF_V, 8, 2),
	AGG(OBL_AGG_AVG, OBL_KEY_FLOAT64, OPT_OFF_F, 8, 3),
	AGG(OBL_AGG_COUNT_DISTINCT, OBL_KEY_BYTES, OPT_OFF_K2, 8, 1),
	AGG(OBL_AGG_MIN, OBL_KEY_FLOAT64, OPT_OFF_F, 8, 3),
	AGG(OBL_AGG_COUNT_DISTINCT, OBL_KEY_INT, OPT_OFF_V, 8, 2),
};

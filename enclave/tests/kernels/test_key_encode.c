/*
 * test_key_encode.c - obl_key_encode against ref_key_cmp_rows, which
 * compares typed values with plain C (double comparisons, memcmp, signed
 * integers) and shares no code with the encoder: for every pair of rows in a
 * pool the order of the key words must agree with the typed order. Then end
 * to end: encode + obl_sort_bitonic + strip against ref_key_sort_rows.
 */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../../ta/include/teespark_ta.h"
#include "../../ta/ops/key_encode.h"
#include "../../ta/ops/ref.h"
#include "../../ta/ops/sort_bitonic.h"
#include "test.h"

/* The TA maps struct ts_sort_key onto struct obl_key_col field by field. */
_Static_assert(OBL_KEY_UINT == TS_KEY_UINT && OBL_KEY_INT == TS_KEY_INT &&
	OBL_KEY_FLOAT64 == TS_KEY_FLOAT64 && OBL_KEY_BYTES == TS_KEY_BYTES,
	"OBL_KEY_* must equal TS_KEY_*");
_Static_assert(sizeof(struct obl_key_col) == sizeof(struct ts_sort_key) &&
	offsetof(struct obl_key_col, type) == offsetof(struct ts_sort_key, type) &&
	offsetof(struct obl_key_col, descending) ==
		offsetof(struct ts_sort_key, descending) &&
	offsetof(struct obl_key_col, offset) == offsetof(struct ts_sort_key, offset) &&
	offsetof(struct obl_key_col, width) == offsetof(struct ts_sort_key, width) &&
	offsetof(struct obl_key_col, reserved) ==
		offsetof(struct ts_sort_key, reserved),
	"struct obl_key_col must have the layout of struct ts_sort_key");

#define POOL 160

static void put_double(uint8_t *p, double d)
{
	memcpy(p, &d, 8);
}

static void put_bits(uint8_t *p, uint64_t bits)
{
	memcpy(p, &bits, 8);
}

/* One value of a column at p: a mix of edge cases and random values, from
 * small sets so that ties are common. */
static void gen_value(uint8_t *p, const struct obl_key_col *c)
{
	uint32_t w = c->width, b;

	switch (c->type) {
	case OBL_KEY_UINT:
	case OBL_KEY_INT:
		switch (test_below(6)) {
		case 0: memset(p, 0, w); break;
		case 1: memset(p, 0xff, w); break;                /* max / -1 */
		case 2: memset(p, 0, w); p[w - 1] = 0x80; break; /* 2^(8w-1) / min */
		case 3: memset(p, 0xff, w); p[w - 1] = 0x7f; break;
		case 4: memset(p, 0, w); p[0] = (uint8_t)test_below(3); break;
		default: test_fill_random(p, w); break;
		}
		break;
	case OBL_KEY_FLOAT64:
		switch (test_below(18)) {
		case 0: put_double(p, 0.0); break;
		case 1: put_double(p, -0.0); break;
		case 2: put_double(p, INFINITY); break;
		case 3: put_double(p, -INFINITY); break;
		case 4: put_bits(p, 0x7ff8000000000000ull); break;  /* quiet NaN */
		case 5: put_bits(p, 0xfff8000000000000ull); break;  /* negative NaN */
		case 6: put_bits(p, 0x7ff0000000000001ull); break;  /* signalling NaN */
		case 7: put_bits(p, 0xffffffffffffffffull); break;  /* NaN, all ones */
		case 8: put_double(p, DBL_MIN); break;
		case 9: put_double(p, -DBL_MIN); break;
		case 10: put_bits(p, 1); break;                     /* smallest subnormal */
		case 11: put_bits(p, 0x8000000000000001ull); break; /* its negative */
		case 12: put_double(p, DBL_MAX); break;
		case 13: put_double(p, -DBL_MAX); break;
		case 14: put_double(p, (double)((int)test_below(7) - 3)); break;
		case 15: put_double(p, ((double)test_rand() / 1e18) - 9.0); break;
		default: test_fill_random(p, 8); break;             /* any bits */
		}
		break;
	default: {
		static const uint8_t alphabet[] = { 0x00, 0x01, 0x61, 0x7f, 0x80, 0xff };
		uint32_t len = (uint32_t)test_below(w + 1);

		/* a "string" of len bytes from a small alphabet, zero padded */
		memset(p, 0, w);
		for (b = 0; b < len; b++)
			p[b] = alphabet[test_below(sizeof(alphabet))];
		if (test_below(8) == 0)
			test_fill_random(p, w);
		break;
	}
	}
}

static int key_cmp_words(const uint64_t *a, const uint64_t *b, size_t kw)
{
	size_t i;

	for (i = 0; i < kw; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

/* Encode a pool of rows for cols and compare every pair both ways. */
static void check_pairs(const struct obl_key_col *cols, size_t ncols,
		size_t row_size, const char *what)
{
	size_t kw = obl_key_words_for(cols, ncols);
	size_t rs = obl_key_encode_rec_size(kw, row_size);
	uint8_t *rows = test_alloc(POOL * row_size), *recs = test_alloc(POOL * rs);
	uint8_t *back = test_alloc(POOL * row_size);
	size_t i, j, c;
	int bad = 0;

	CHECK(obl_key_encode_check(cols, ncols, row_size) == 0,
		"%s: column list rejected", what);
	test_fill_random(rows, POOL * row_size);
	for (i = 0; i < POOL; i++)
		for (c = 0; c < ncols; c++)
			gen_value(rows + i * row_size + cols[c].offset, &cols[c]);
	memset(recs, 0xee, POOL * rs);
	obl_key_encode(rows, POOL, row_size, cols, ncols, recs);
	for (i = 0; i < POOL && bad < 3; i++) {
		for (j = 0; j < POOL; j++) {
			int want = sign(ref_key_cmp_rows(rows + i * row_size,
				rows + j * row_size, cols, ncols));
			int got = key_cmp_words((uint64_t *)(void *)(recs + i * rs),
				(uint64_t *)(void *)(recs + j * rs), kw);

			if (want != got) {
				bad++;
				CHECK(0, "%s: rows %zu,%zu: key order %d, typed order %d",
					what, i, j, got, want);
				break;
			}
		}
	}
	CHECK(bad == 0, "%s: key order disagrees with typed order", what);
	/* the record holds the row, zero padded, after the key words */
	for (i = 0; i < POOL; i++) {
		size_t pad = rs - 8 * kw - row_size, p;
		const uint8_t *r = recs + i * rs + 8 * kw;
		int zero = 1;

		for (p = 0; p < pad; p++)
			zero &= r[row_size + p] == 0;
		CHECK(memcmp(r, rows + i * row_size, row_size) == 0 && zero,
			"%s: record %zu does not hold the zero-padded row", what, i);
	}
	obl_key_encode_strip(recs, POOL, kw, row_size, back);
	CHECK(memcmp(back, rows, POOL * row_size) == 0, "%s: strip is not the inverse",
		what);
	free(rows);
	free(recs);
	free(back);
}

static void check_single_columns(void)
{
	static const uint32_t int_widths[] = { 1, 2, 4, 8 };
	static const uint32_t byte_widths[] = { 1, 2, 7, 8, 9, 15, 16, 17, 31, 64, 255, 256 };
	char what[96];
	size_t i;
	uint16_t desc;

	for (desc = 0; desc <= 1; desc++) {
		for (i = 0; i < 4; i++) {
			struct obl_key_col u = { OBL_KEY_UINT, desc, 3, int_widths[i], 0 };
			struct obl_key_col s = { OBL_KEY_INT, desc, 5, int_widths[i], 0 };

			snprintf(what, sizeof(what), "uint%u %s", 8 * int_widths[i],
				desc ? "desc" : "asc");
			check_pairs(&u, 1, 3 + int_widths[i] + 2, what);
			snprintf(what, sizeof(what), "int%u %s", 8 * int_widths[i],
				desc ? "desc" : "asc");
			check_pairs(&s, 1, 5 + int_widths[i], what);
		}
		{
			struct obl_key_col f = { OBL_KEY_FLOAT64, desc, 1, 8, 0 };

			snprintf(what, sizeof(what), "float64 %s", desc ? "desc" : "asc");
			check_pairs(&f, 1, 12, what);
		}
		for (i = 0; i < sizeof(byte_widths) / sizeof(byte_widths[0]); i++) {
			struct obl_key_col b = { OBL_KEY_BYTES, desc, 2, byte_widths[i], 0 };

			snprintf(what, sizeof(what), "bytes%u %s", byte_widths[i],
				desc ? "desc" : "asc");
			check_pairs(&b, 1, 2 + byte_widths[i] + 1, what);
		}
	}
}

/* A random column list of 1..4 columns laid out one after another. */
static size_t random_cols(struct obl_key_col *cols, size_t *row_size)
{
	static const uint32_t int_widths[] = { 1, 2, 4, 8 };
	size_t ncols = 1 + test_below(4), c;
	uint32_t off = (uint32_t)test_below(4);

	for (c = 0; c < ncols; c++) {
		struct obl_key_col *k = &cols[c];

		k->type = (uint16_t)(1 + test_below(4));
		k->descending = (uint16_t)test_below(2);
		k->reserved = 0;
		switch (k->type) {
		case OBL_KEY_UINT:
		case OBL_KEY_INT:
			k->width = int_widths[test_below(4)];
			break;
		case OBL_KEY_FLOAT64:
			k->width = 8;
			break;
		default:
			k->width = 1 + (uint32_t)test_below(20);
			break;
		}
		k->offset = off;
		off += k->width + (uint32_t)test_below(3);
	}
	*row_size = off + test_below(5);
	if (*row_size == 0)
		*row_size = 1;
	return ncols;
}

static void check_validation(void)
{
	struct obl_key_col ok = { OBL_KEY_UINT, 0, 0, 8, 0 };
	struct obl_key_col bad;
	struct obl_key_col two[2] = {
		{ OBL_KEY_BYTES, 1, 0, 17, 0 }, { OBL_KEY_FLOAT64, 0, 17, 8, 0 }
	};

	CHECK(obl_key_encode_check(&ok, 1, 8) == 0, "valid column rejected");
	CHECK(obl_key_encode_check(&ok, 0, 8) == -1, "empty column list accepted");
	CHECK(obl_key_encode_check(&ok, 1, 7) == -1, "column past row end accepted");
	bad = ok; bad.type = 9;
	CHECK(obl_key_encode_check(&bad, 1, 64) == -1 && obl_key_words_for(&bad, 1) == 0,
		"unknown type accepted");
	bad = ok; bad.width = 3;
	CHECK(obl_key_encode_check(&bad, 1, 64) == -1, "uint width 3 accepted");
	bad = ok; bad.type = OBL_KEY_FLOAT64; bad.width = 4;
	CHECK(obl_key_encode_check(&bad, 1, 64) == -1, "float width 4 accepted");
	bad = ok; bad.type = OBL_KEY_BYTES; bad.width = 257;
	CHECK(obl_key_encode_check(&bad, 1, 4096) == -1, "bytes width 257 accepted");
	bad = ok; bad.type = OBL_KEY_BYTES; bad.width = 0;
	CHECK(obl_key_encode_check(&bad, 1, 64) == -1, "bytes width 0 accepted");
	bad = ok; bad.descending = 2;
	CHECK(obl_key_encode_check(&bad, 1, 64) == -1, "descending 2 accepted");
	bad = ok; bad.reserved = 1;
	CHECK(obl_key_encode_check(&bad, 1, 64) == -1, "reserved != 0 accepted");
	bad = ok; bad.offset = 0xfffffff8u;
	CHECK(obl_key_encode_check(&bad, 1, 64) == -1, "huge offset accepted");
	CHECK(obl_key_words_for(two, 2) == 4 && obl_key_encode_check(two, 2, 25) == 0,
		"bytes17 + float64 should be 4 words");
	CHECK(obl_key_encode_rec_size(4, 25) == 32 + 32 &&
		obl_key_encode_rec_size(1, 8) == 16 && obl_key_encode_rec_size(2, 1) == 24,
		"rec_size");
}

void test_key_encode(void)
{
	struct obl_key_col cols[4];
	size_t t, ncols, row_size;
	char what[64];

	check_validation();
	check_single_columns();
	for (t = 0; t < 150; t++) {
		ncols = random_cols(cols, &row_size);
		snprintf(what, sizeof(what), "random columns #%zu", t);
		check_pairs(cols, ncols, row_size, what);
	}
}

/* encode -> obl_sort_bitonic -> strip equals ref_key_sort_rows up to the
 * order of rows with equal keys: position i holds a row with the same typed
 * key, and the output is a permutation of the input. */
static void check_sort(const struct obl_key_col *cols, size_t ncols,
		size_t row_size, size_t n)
{
	size_t kw = obl_key_words_for(cols, ncols);
	size_t rs = obl_key_encode_rec_size(kw, row_size);
	uint8_t *rows = test_alloc(n * row_size + 1), *want = test_alloc(n * row_size + 1);
	uint8_t *got = test_alloc(n * row_size + 1), *recs = test_alloc(n * rs + 8);
	struct obl_key_col all = { OBL_KEY_BYTES, 0, 0, 0, 0 };
	size_t i, c;
	int ok = 1;

	test_fill_random(rows, n * row_size);
	for (i = 0; i < n; i++)
		for (c = 0; c < ncols; c++)
			gen_value(rows + i * row_size + cols[c].offset, &cols[c]);
	memcpy(want, rows, n * row_size);
	ref_key_sort_rows(want, n, row_size, cols, ncols);
	obl_key_encode(rows, n, row_size, cols, ncols, recs);
	obl_sort_bitonic(recs, n, rs, kw);
	obl_key_encode_strip(recs, n, kw, row_size, got);
	for (i = 0; i < n && ok; i++)
		ok = ref_key_cmp_rows(got + i * row_size, want + i * row_size,
			cols, ncols) == 0;
	CHECK(ok, "sorted keys differ at row %zu (n %zu, %zu columns)", i - 1, n, ncols);
	/* permutation: sort both by every byte and compare (whole row as one
	 * byte-string column, in chunks of at most 256 bytes) */
	if (row_size <= 256) {
		all.width = (uint32_t)row_size;
		ref_key_sort_rows(got, n, row_size, &all, 1);
		ref_key_sort_rows(rows, n, row_size, &all, 1);
		CHECK(n == 0 || memcmp(got, rows, n * row_size) == 0,
			"sorted rows are not a permutation of the input (n %zu)", n);
	}
	free(rows);
	free(want);
	free(got);
	free(recs);
}

void test_key_encode_sort(void)
{
	struct obl_key_col cols[4];
	size_t t, k, ncols, row_size;

	for (t = 0; t < 40; t++) {
		ncols = random_cols(cols, &row_size);
		for (k = 0; k < test_sizes_count; k++)
			check_sort(cols, ncols, row_size, test_sizes[k]);
	}
	/* the 16-byte fast path: one 8-byte column, 8-byte rows */
	{
		struct obl_key_col u = { OBL_KEY_UINT, 0, 0, 8, 0 };
		struct obl_key_col f = { OBL_KEY_FLOAT64, 1, 0, 8, 0 };

		for (k = 0; k < test_sizes_count; k++) {
			check_sort(&u, 1, 8, test_sizes[k]);
			check_sort(&f, 1, 8, test_sizes[k]);
		}
	}
}

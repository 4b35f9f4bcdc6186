/*
 * test_compact_or.c - obl_compact against ref_compact (a stable partition):
 * same count, same kept records in the same order, keep[] = is_real flags,
 * and the tail holds exactly the dropped records.
 */
#include <stdlib.h>
#include <string.h>

#include "../../ta/ops/compact_or.h"
#include "../../ta/ops/ref.h"
#include "test.h"

enum keep_family {
	KEEP_RANDOM, KEEP_ALL, KEEP_NONE, KEEP_ALTERNATE, KEEP_FIRST, KEEP_LAST,
	KEEP_SPARSE, KEEP_DENSE, KEEP_FAMILIES
};

static uint32_t keep_flag(enum keep_family f, size_t i, size_t n)
{
	switch (f) {
	case KEEP_RANDOM: return (uint32_t)test_below(2);
	case KEEP_ALL: return 1;
	case KEEP_NONE: return 0;
	case KEEP_ALTERNATE: return (uint32_t)(i & 1);
	case KEEP_FIRST: return i == 0;
	case KEEP_LAST: return i + 1 == n;
	case KEEP_SPARSE: return test_below(20) == 0;
	default: return test_below(20) != 0;
	}
}

static int cmp_rec_bytes(const uint8_t *a, const uint8_t *b, size_t len)
{
	return memcmp(a, b, len);
}

/* Multiset equality of two record ranges (selection sort by bytes; the
 * ranges are small). */
static int same_records(uint8_t *a, uint8_t *b, size_t n, size_t rs)
{
	uint8_t *tmp = test_alloc(rs);
	size_t i, j;
	int ok = 1;

	for (i = 0; i < n && ok; i++) {
		for (j = i; j < n; j++)
			if (cmp_rec_bytes(a + i * rs, b + j * rs, rs) == 0)
				break;
		if (j == n) {
			ok = 0;
			break;
		}
		memcpy(tmp, b + i * rs, rs);
		memcpy(b + i * rs, b + j * rs, rs);
		memcpy(b + j * rs, tmp, rs);
	}
	free(tmp);
	return ok;
}

static void check_one(size_t n, size_t rs, enum keep_family f)
{
	uint8_t *in = test_alloc(n * rs + 8), *got = test_alloc(n * rs + 8);
	uint8_t *want = test_alloc(n * rs + 8);
	uint32_t *keep = test_alloc(n * 4 + 4), *keep_ref = test_alloc(n * 4 + 4);
	size_t i, m, m_ref;
	int flags_ok = 1;

	test_fill_random(in, n * rs);
	for (i = 0; i < n; i++) {
		if (rs >= 4)
			memcpy(in + i * rs, &(uint32_t){ (uint32_t)i }, 4);
		keep[i] = keep_ref[i] = keep_flag(f, i, n);
	}
	memcpy(got, in, n * rs);
	memcpy(want, in, n * rs);
	m = obl_compact(got, n, rs, keep);
	m_ref = ref_compact(want, n, rs, keep_ref);
	CHECK(m == m_ref, "compact count %zu != %zu (n %zu rs %zu family %d)",
		m, m_ref, n, rs, (int)f);
	if (m != m_ref)
		goto out;
	CHECK(m == 0 || memcmp(got, want, m * rs) == 0,
		"compact kept records differ (n %zu rs %zu family %d)", n, rs, (int)f);
	for (i = 0; i < n; i++)
		flags_ok &= keep[i] == (i < m);
	CHECK(flags_ok, "compact keep[] is not the is_real flags (n %zu)", n);
	CHECK(same_records(got + m * rs, want + m * rs, n - m, rs),
		"compact tail is not the dropped records (n %zu rs %zu family %d)",
		n, rs, (int)f);
out:
	free(in);
	free(got);
	free(want);
	free(keep);
	free(keep_ref);
}

void test_compact_or(void)
{
	static const size_t rec_sizes[] = { 1, 8, 13, 16, 24, 40, 64 };
	size_t k, r, n;
	int f;

	for (r = 0; r < sizeof(rec_sizes) / sizeof(rec_sizes[0]); r++)
		for (k = 0; k < test_sizes_count; k++)
			for (f = 0; f < KEEP_FAMILIES; f++)
				check_one(test_sizes[k], rec_sizes[r], (enum keep_family)f);
	for (n = 0; n <= 300; n++)
		check_one(n, 16, KEEP_RANDOM);
	check_one(20011, 16, KEEP_RANDOM);
	/* past one 128 KiB chunk of the fused passes, other record sizes */
	for (f = 0; f < KEEP_FAMILIES; f++) {
		check_one(20011, 13, (enum keep_family)f);
		check_one(20011, 64, (enum keep_family)f);
	}
}

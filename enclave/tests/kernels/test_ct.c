/*
 * test_ct.c - ct.h primitives against plain C on edge and random values.
 */
#include <string.h>

#include "../../ta/ct.h"
#include "test.h"

static const uint64_t edges64[] = {
	0, 1, 2, 3, 0x7f, 0x80, 0xff, 0x7fffffffu, 0x80000000u, 0xffffffffu,
	0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
	0x8000000000000001ull, 0xfffffffffffffffeull, 0xffffffffffffffffull
};
#define NEDGES (sizeof(edges64) / sizeof(edges64[0]))

static uint64_t value(size_t i)
{
	return i < NEDGES ? edges64[i] : test_rand() >> test_below(64);
}

static void check_scalars(void)
{
	size_t i, j;

	for (i = 0; i < NEDGES + 40; i++) {
		for (j = 0; j < NEDGES + 40; j++) {
			uint64_t x = value(i), y = value(j);
			uint32_t x32 = (uint32_t)x, y32 = (uint32_t)y;

			CHECK(ct_u64_eq(x, y) == (x == y), "u64_eq %llx %llx",
				(unsigned long long)x, (unsigned long long)y);
			CHECK(ct_u64_lt(x, y) == (x < y), "u64_lt %llx %llx",
				(unsigned long long)x, (unsigned long long)y);
			CHECK(ct_u64_gt(x, y) == (x > y), "u64_gt");
			CHECK(ct_i64_lt((int64_t)x, (int64_t)y) ==
				((int64_t)x < (int64_t)y), "i64_lt %llx %llx",
				(unsigned long long)x, (unsigned long long)y);
			CHECK(ct_u64_mux(1, x, y) == x && ct_u64_mux(0, x, y) == y,
				"u64_mux");
			CHECK(ct_i64_mux(1, (int64_t)x, (int64_t)y) == (int64_t)x &&
				ct_i64_mux(0, (int64_t)x, (int64_t)y) == (int64_t)y,
				"i64_mux");
			CHECK(ct_u32_eq(x32, y32) == (x32 == y32), "u32_eq");
			CHECK(ct_u32_lt(x32, y32) == (x32 < y32), "u32_lt %x %x",
				x32, y32);
			CHECK(ct_u32_mux(1, x32, y32) == x32 &&
				ct_u32_mux(0, x32, y32) == y32, "u32_mux");
		}
	}
	CHECK(ct_not(0) == 1 && ct_not(1) == 0, "ct_not");
}

static void check_records(void)
{
	unsigned char a[160], b[160], a0[160], b0[160];
	size_t len;
	uint32_t ctl;

	for (len = 0; len <= 150; len++) {
		for (ctl = 0; ctl <= 1; ctl++) {
			test_fill_random(a0, sizeof(a0));
			test_fill_random(b0, sizeof(b0));
			memcpy(a, a0, sizeof(a));
			memcpy(b, b0, sizeof(b));
			/* odd offsets: ct_cswap/ct_copy must not need alignment */
			ct_cswap(ctl, a + 1, b + 3, len);
			CHECK(memcmp(a + 1, ctl ? b0 + 3 : a0 + 1, len) == 0 &&
				memcmp(b + 3, ctl ? a0 + 1 : b0 + 3, len) == 0,
				"cswap len %zu ctl %u", len, ctl);
			CHECK(a[0] == a0[0] && memcmp(a + 1 + len, a0 + 1 + len,
				sizeof(a) - 1 - len) == 0, "cswap wrote outside a");
			CHECK(memcmp(b, b0, 3) == 0 && memcmp(b + 3 + len,
				b0 + 3 + len, sizeof(b) - 3 - len) == 0,
				"cswap wrote outside b");
			memcpy(a, a0, sizeof(a));
			ct_copy(ctl, a + 1, b0 + 2, len);
			CHECK(memcmp(a + 1, ctl ? b0 + 2 : a0 + 1, len) == 0 &&
				memcmp(a + 1 + len, a0 + 1 + len, sizeof(a) - 1 - len) == 0,
				"copy len %zu ctl %u", len, ctl);
		}
	}
}

static void check_array_read(void)
{
	unsigned char arr[37 * 13], out[13], before[13];
	size_t n, idx, es = 13;

	test_fill_random(arr, sizeof(arr));
	for (n = 0; n <= 37; n++) {
		for (idx = 0; idx < n + 3; idx++) {
			test_fill_random(before, es);
			memcpy(out, before, es);
			ct_array_read(out, arr, n, es, idx);
			CHECK(memcmp(out, idx < n ? arr + idx * es : before, es) == 0,
				"array_read n %zu idx %zu", n, idx);
		}
	}
}

static int ref_key_cmp(const uint64_t *a, const uint64_t *b, size_t kw)
{
	size_t i;

	for (i = 0; i < kw; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

static void check_keys(void)
{
	uint64_t a[4], b[4];
	size_t kw, i, trial;

	for (kw = 1; kw <= 4; kw++) {
		for (trial = 0; trial < 4000; trial++) {
			for (i = 0; i < kw; i++) {
				/* few distinct word values, so ties at every
				 * position happen often */
				a[i] = edges64[test_below(NEDGES)];
				b[i] = test_below(3) ? a[i] : edges64[test_below(NEDGES)];
			}
			CHECK(ct_key_lt(a, b, kw) == (ref_key_cmp(a, b, kw) < 0),
				"key_lt kw %zu", kw);
			CHECK(ct_key_eq(a, b, kw) == (ref_key_cmp(a, b, kw) == 0),
				"key_eq kw %zu", kw);
		}
	}
}

#if defined(__AVX2__)
static void check_rec16x2(void)
{
	uint64_t lo[4], hi[4], l2[4], h2[4];
	size_t trial, r;

	for (trial = 0; trial < 20000; trial++) {
		__m256i vl, vh;

		for (r = 0; r < 4; r++) {
			lo[r] = trial < 16 ? edges64[test_below(NEDGES)] : test_rand();
			hi[r] = test_below(4) ? test_rand() : lo[r];
			if (trial < 16 || test_below(2))
				hi[r] = edges64[test_below(NEDGES)];
		}
		vl = _mm256_loadu_si256((const __m256i *)(const void *)lo);
		vh = _mm256_loadu_si256((const __m256i *)(const void *)hi);
		ct_rec16x2_cx(&vl, &vh);
		_mm256_storeu_si256((__m256i *)(void *)l2, vl);
		_mm256_storeu_si256((__m256i *)(void *)h2, vh);
		for (r = 0; r < 4; r += 2) {
			int swap = lo[r] > hi[r];

			CHECK(l2[r] == (swap ? hi[r] : lo[r]) &&
				l2[r + 1] == (swap ? hi[r + 1] : lo[r + 1]) &&
				h2[r] == (swap ? lo[r] : hi[r]) &&
				h2[r + 1] == (swap ? lo[r + 1] : hi[r + 1]),
				"rec16x2_cx %llx vs %llx", (unsigned long long)lo[r],
				(unsigned long long)hi[r]);
		}
	}
}
#endif

void test_ct_primitives(void)
{
	check_scalars();
	check_records();
	check_array_read();
	check_keys();
#if defined(__AVX2__)
	check_rec16x2();
#endif
}

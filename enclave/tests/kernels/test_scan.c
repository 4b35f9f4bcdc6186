/*
 * test_scan.c - obl_scan_prefix_sum_i64 and the segmented scans against
 * their references, with overflow-prone values and every boundary pattern.
 */
#include <stdlib.h>
#include <string.h>

#include "../../ta/ops/ref.h"
#include "../../ta/ops/scan_prefix.h"
#include "../../ta/ops/scan_segmented.h"
#include "../../ta/ops/sort_bitonic.h"
#include "test.h"

static int64_t value(int family)
{
	static const int64_t edges[] = {
		0, 1, -1, INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1
	};

	switch (family) {
	case 0: return (int64_t)test_rand();
	case 1: return edges[test_below(sizeof(edges) / sizeof(edges[0]))];
	case 2: return (int64_t)test_below(100) - 50;
	default: return 42;
	}
}

void test_scan_prefix(void)
{
	size_t k, i;
	int fam;

	for (k = 0; k < test_sizes_count; k++) {
		for (fam = 0; fam < 4; fam++) {
			size_t n = test_sizes[k];
			int64_t *got = test_alloc(n * 8 + 8), *want = test_alloc(n * 8 + 8);

			for (i = 0; i < n; i++)
				got[i] = want[i] = value(fam);
			obl_scan_prefix_sum_i64(got, n);
			ref_scan_prefix_sum_i64(want, n);
			CHECK(n == 0 || memcmp(got, want, n * 8) == 0,
				"prefix sum n %zu family %d", n, fam);
			free(got);
			free(want);
		}
	}
	/* known answers: wrap-around */
	{
		int64_t v[3] = { INT64_MAX, 1, -1 };

		obl_scan_prefix_sum_i64(v, 3);
		CHECK(v[0] == INT64_MAX && v[1] == INT64_MIN && v[2] == INT64_MAX,
			"prefix sum wrap");
	}
}

static uint32_t start_flag(int pattern, size_t i)
{
	switch (pattern) {
	case 0: return (uint32_t)test_below(2);
	case 1: return test_below(10) == 0;
	case 2: return 1;
	case 3: return 0;
	default: return i % 7 == 3;
	}
}

void test_scan_segmented(void)
{
	static const enum obl_scan_op ops[] = {
		OBL_SCAN_SUM, OBL_SCAN_MIN, OBL_SCAN_MAX, OBL_SCAN_COUNT
	};
	size_t k, i, o;
	int pat, fam;

	for (k = 0; k < test_sizes_count; k++) {
		size_t n = test_sizes[k];
		uint32_t *seg = test_alloc(n * 4 + 4);
		uint32_t *last = test_alloc(n * 4 + 4), *last_ref = test_alloc(n * 4 + 4);
		int64_t *got = test_alloc(n * 8 + 8), *want = test_alloc(n * 8 + 8);

		for (pat = 0; pat < 5; pat++) {
			for (i = 0; i < n; i++)
				seg[i] = start_flag(pat, i);
			for (o = 0; o < 4; o++) {
				for (fam = 0; fam < 4; fam++) {
					for (i = 0; i < n; i++)
						got[i] = want[i] = value(fam);
					CHECK(obl_scan_segmented_i64(got, seg, n, ops[o]) == 0,
						"segmented scan rejected op %d", (int)ops[o]);
					ref_scan_segmented_i64(want, seg, n, ops[o]);
					CHECK(n == 0 || memcmp(got, want, n * 8) == 0,
						"segmented scan op %d n %zu pattern %d family %d",
						(int)ops[o], n, pat, fam);
				}
			}
			obl_scan_segmented_mark_last(seg, last, n);
			ref_scan_segmented_mark_last(seg, last_ref, n);
			CHECK(n == 0 || memcmp(last, last_ref, n * 4) == 0,
				"mark_last n %zu pattern %d", n, pat);
		}
		free(seg);
		free(last);
		free(last_ref);
		free(got);
		free(want);
	}
	/* known answers */
	{
		int64_t v[6] = { 5, -3, 7, 2, 2, -9 };
		uint32_t s[6] = { 0, 0, 1, 0, 0, 1 };   /* s[0] ignored */
		int64_t sum[6] = { 5, 2, 7, 9, 11, -9 };
		int64_t cnt[6] = { 1, 2, 1, 2, 3, 1 };
		int64_t mn[6] = { 5, -3, 7, 2, 2, -9 };
		int64_t mx[6] = { 5, 5, 7, 7, 7, -9 };
		int64_t w[6];
		uint32_t l[6], lw[6] = { 0, 1, 0, 0, 1, 1 };

		memcpy(w, v, sizeof(w));
		obl_scan_segmented_i64(w, s, 6, OBL_SCAN_SUM);
		CHECK(memcmp(w, sum, sizeof(w)) == 0, "segmented SUM known answer");
		memcpy(w, v, sizeof(w));
		obl_scan_segmented_i64(w, s, 6, OBL_SCAN_COUNT);
		CHECK(memcmp(w, cnt, sizeof(w)) == 0, "segmented COUNT known answer");
		memcpy(w, v, sizeof(w));
		obl_scan_segmented_i64(w, s, 6, OBL_SCAN_MIN);
		CHECK(memcmp(w, mn, sizeof(w)) == 0, "segmented MIN known answer");
		memcpy(w, v, sizeof(w));
		obl_scan_segmented_i64(w, s, 6, OBL_SCAN_MAX);
		CHECK(memcmp(w, mx, sizeof(w)) == 0, "segmented MAX known answer");
		obl_scan_segmented_mark_last(s, l, 6);
		CHECK(memcmp(l, lw, sizeof(l)) == 0, "mark_last known answer");
		memcpy(w, v, sizeof(w));
		CHECK(obl_scan_segmented_i64(w, s, 6, (enum obl_scan_op)99) == -1 &&
			memcmp(w, v, sizeof(w)) == 0, "unknown op not rejected");
	}
	/* segment starts of sorted multi-word keys */
	for (k = 0; k < test_sizes_count; k++) {
		size_t n = test_sizes[k], kw;

		for (kw = 1; kw <= 3; kw++) {
			size_t rs = 8 * kw + 8;
			uint8_t *recs = test_alloc(n * rs + 8);
			uint32_t *s1 = test_alloc(n * 4 + 4), *s2 = test_alloc(n * 4 + 4);

			for (i = 0; i < n * rs / 8; i++)
				((uint64_t *)(void *)recs)[i] = test_below(3);
			obl_sort_bitonic(recs, n, rs, kw);
			obl_scan_segmented_starts(recs, n, rs, kw, s1);
			ref_scan_segmented_starts(recs, n, rs, kw, s2);
			CHECK(n == 0 || memcmp(s1, s2, n * 4) == 0,
				"segmented_starts n %zu kw %zu", n, kw);
			free(recs);
			free(s1);
			free(s2);
		}
	}
}

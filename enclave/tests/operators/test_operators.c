/*
 * test_operators.c - operators_test: every oblivious operator against the
 * encrypted-mode version (an independent, branchy algorithm: merge sort +
 * scans / sort-merge join), and obl_expand against a direct reference, on
 * every table family (random with NULLs, 90% skew, all NULL, one key,
 * distinct keys), with and without dummy rows, at sizes from 0 to a few
 * thousand. The pandas tests (tests/operators) check both against an
 * independent reference; this suite checks the C-only paths and sizes.
 *
 *   operators_test            every test
 *   operators_test NAME...    the named tests
 * Exit status 0 iff every check passed.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ta/ops/obl_expand.h"
#include "../../ta/ops/op_aggregate.h"
#include "../../ta/ops/op_filter.h"
#include "../../ta/ops/op_join.h"
#include "../../ta/ops/op_sort.h"
#include "../../ta/ops/op_union_distinct.h"
#include "op_testdata.h"

static long checks, failures;

static void fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (++failures > 40)
		return;
	fprintf(stderr, "FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

#define CHECK(cond, ...) do {                                  \
		checks++;                                      \
		if (!(cond))                                   \
			fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

static const size_t sizes[] = { 0, 1, 2, 3, 7, 16, 33, 100, 257, 1000, 2500 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

#define ARENA_BYTES ((size_t)64 << 20)
static uint8_t *arena_mem;
static struct obl_arena arena;

static const char *fam_name[] = { "random", "skew", "all_null", "all_equal", "distinct" };

/* dummy flags: all real (NULL) or a random subset */
static uint32_t *make_real(size_t n, int with_dummies)
{
	uint32_t *r;
	size_t i;

	if (!with_dummies)
		return NULL;
	r = opt_alloc(n * 4 + 4);
	for (i = 0; i < n; i++)
		r[i] = opt_below(4) != 0;
	return r;
}

static int cmp_rows_len;

static int cmp_rows(const void *a, const void *b)
{
	return memcmp(a, b, (size_t)cmp_rows_len);
}

/* Multiset equality of the first m rows of a and b (sorted copies). */
static int same_multiset(const uint8_t *a, const uint8_t *b, size_t m, size_t rs)
{
	uint8_t *x = opt_alloc(m * rs + 1), *y = opt_alloc(m * rs + 1);
	int ok;

	memcpy(x, a, m * rs);
	memcpy(y, b, m * rs);
	cmp_rows_len = (int)rs;
	qsort(x, m, rs, cmp_rows);
	qsort(y, m, rs, cmp_rows);
	ok = memcmp(x, y, m * rs) == 0;
	free(x);
	free(y);
	return ok;
}

/* Flags say exactly the first m slots are real, and dummies are zero. */
static int flags_prefix(const uint32_t *flags, const uint8_t *rows, size_t cap,
		size_t rs, uint64_t m)
{
	size_t i, b;

	for (i = 0; i < cap; i++) {
		if (flags[i] != (i < m))
			return 0;
		if (i >= m)
			for (b = 0; b < rs; b++)
				if (rows[i * rs + b] != 0)
					return 0;
	}
	return 1;
}

/* ------------------------------------------------------------------------ */

static void test_filter(void)
{
	size_t s, i;
	int fam, d;

	for (s = 0; s < NSIZES; s++) {
		for (fam = 0; fam < 4; fam++) {
			for (d = 0; d < 2; d++) {
				size_t n = sizes[s], cap = fam == 3 ? n / 2 + 1 : n;
				uint8_t *rows = opt_alloc(n * OPT_ROW + 1);
				uint8_t *o1 = opt_alloc(cap * OPT_ROW + 1), *o2 = opt_alloc(cap * OPT_ROW + 1);
				uint32_t *keep = opt_alloc(n * 4 + 4), *f1 = opt_alloc(cap * 4 + 4), *f2 = opt_alloc(cap * 4 + 4);
				uint32_t *real = make_real(n, d);
				struct obl_table t = { rows, n, OPT_ROW, real };
				uint64_t m1 = 99, m2 = 98;

				opt_fill(rows, n, OPT_RANDOM, 50);
				for (i = 0; i < n; i++)
					keep[i] = fam == 0 ? opt_below(2) : fam == 1 ? 1 : fam == 2 ? 0 : opt_below(3) == 0;
				CHECK(obl_filter(&t, keep, o1, f1, cap, &m1, &arena) == OBL_OK, "filter rc");
				CHECK(op_filter_fast(&t, keep, o2, f2, cap, &m2) == OBL_OK, "filter fast rc");
				CHECK(arena.used == 0, "filter leaves the arena as it found it");
				CHECK(m1 == m2, "filter n=%zu fam=%d: m %llu vs %llu", n, fam,
					(unsigned long long)m1, (unsigned long long)m2);
				CHECK(memcmp(o1, o2, cap * OPT_ROW) == 0 && memcmp(f1, f2, cap * 4) == 0,
					"filter n=%zu fam=%d dummies=%d: rows differ", n, fam, d);
				CHECK(flags_prefix(f1, o1, cap, OPT_ROW, m1 < cap ? m1 : cap), "filter flags");
				CHECK(obl_filter_work_bytes(n, OPT_ROW) <= ARENA_BYTES, "work");
				free(rows); free(o1); free(o2); free(keep); free(f1); free(f2); free(real);
			}
		}
	}
}

/* Encoded key words of a row, for order checks. */
static void key_of(const uint8_t *row, const struct obl_key_spec *keys, size_t nkeys,
		uint64_t *out)
{
	(void)obl_key_spec_encode_row(row, keys, nkeys, out);
}

static int key_cmp(const uint64_t *a, const uint64_t *b, size_t kw)
{
	size_t i;

	for (i = 0; i < kw; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* Same key sequence over the first m rows. */
static int same_key_sequence(const uint8_t *a, const uint8_t *b, size_t m, size_t rs,
		const struct obl_key_spec *keys, size_t nkeys)
{
	size_t kw = obl_key_spec_words(keys, nkeys), i;
	uint64_t ka[64], kb[64];

	for (i = 0; i < m; i++) {
		key_of(a + i * rs, keys, nkeys, ka);
		key_of(b + i * rs, keys, nkeys, kb);
		if (key_cmp(ka, kb, kw) != 0)
			return 0;
	}
	return 1;
}

static void test_sort_limit_topk(void)
{
	size_t s, kk;
	int fam, d;

	for (s = 0; s < NSIZES; s++) {
		for (fam = 0; fam < OPT_FAMILIES; fam++) {
			for (d = 0; d < 2; d++) {
				size_t n = sizes[s];
				static const size_t ks[] = { 0, 1, 3, 10, 64, 5000 };
				uint8_t *rows = opt_alloc(n * OPT_ROW + 1);
				uint8_t *o1 = opt_alloc(5000 * OPT_ROW + n * OPT_ROW), *o2 = opt_alloc(5000 * OPT_ROW + n * OPT_ROW);
				uint32_t *f1 = opt_alloc(5000 * 4 + n * 4), *f2 = opt_alloc(5000 * 4 + n * 4);
				uint32_t *real = make_real(n, d);
				struct obl_table t = { rows, n, OPT_ROW, real };
				uint64_t m1, m2;

				opt_fill(rows, n, (enum opt_family)fam, 20);
				CHECK(obl_sort_rows(&t, opt_keys_sort, 2, o1, f1, &m1, &arena) == OBL_OK, "sort rc");
				CHECK(op_sort_rows_fast(&t, opt_keys_sort, 2, o2, f2, &m2, &arena) == OBL_OK, "sort fast rc");
				CHECK(m1 == m2 && flags_prefix(f1, o1, n, OPT_ROW, m1) &&
					memcmp(f1, f2, n * 4) == 0, "sort %s n=%zu: flags", fam_name[fam], n);
				CHECK(same_key_sequence(o1, o2, m1, OPT_ROW, opt_keys_sort, 2) &&
					same_multiset(o1, o2, m1, OPT_ROW),
					"sort %s n=%zu d=%d: output differs", fam_name[fam], n, d);
				for (kk = 0; kk < sizeof(ks) / sizeof(ks[0]); kk++) {
					size_t k = ks[kk];

					CHECK(obl_topk(&t, opt_keys_sort, 2, k, o1, f1, &m1, &arena) == OBL_OK, "topk rc");
					CHECK(op_topk_fast(&t, opt_keys_sort, 2, k, o2, f2, &m2, &arena) == OBL_OK, "topk fast rc");
					CHECK(m1 == m2 && flags_prefix(f1, o1, k, OPT_ROW, m1) &&
						same_key_sequence(o1, o2, m1, OPT_ROW, opt_keys_sort, 2),
						"topk %s n=%zu k=%zu d=%d: m %llu vs %llu", fam_name[fam], n, k, d,
						(unsigned long long)m1, (unsigned long long)m2);
					CHECK(obl_limit(&t, k, o1, f1, &m1, &arena) == OBL_OK, "limit rc");
					CHECK(op_limit_fast(&t, k, o2, f2, &m2) == OBL_OK, "limit fast rc");
					CHECK(m1 == m2 && memcmp(o1, o2, k * OPT_ROW) == 0 &&
						memcmp(f1, f2, k * 4) == 0, "limit n=%zu k=%zu d=%d", n, k, d);
				}
				CHECK(arena.used == 0, "arena returned");
				free(rows); free(o1); free(o2); free(f1); free(f2); free(real);
			}
		}
	}
}

/* Aggregates: same groups in the same order (key of the representative
 * row), equal results (doubles within a relative 1e-9), equal NULL bytes. */
static void compare_agg(const uint8_t *o1, const uint8_t *o2, size_t m,
		const struct obl_key_spec *keys, size_t nkeys, const char *what)
{
	size_t orow = obl_agg_out_row_size(OPT_ROW, OPT_NAGGS), i, a;
	size_t base = (OPT_ROW + 7) / 8 * 8;

	CHECK(same_key_sequence(o1, o2, m, orow, keys, nkeys), "%s: group keys differ", what);
	for (i = 0; i < m; i++) {
		for (a = 0; a < OPT_NAGGS; a++) {
			uint64_t x, y;
			uint8_t nx = o1[i * orow + base + 8 * OPT_NAGGS + a];
			uint8_t ny = o2[i * orow + base + 8 * OPT_NAGGS + a];
			int f64 = opt_aggs[a].type == OBL_KEY_FLOAT64 ||
				opt_aggs[a].fn == OBL_AGG_AVG;

			memcpy(&x, o1 + i * orow + base + 8 * a, 8);
			memcpy(&y, o2 + i * orow + base + 8 * a, 8);
			CHECK(nx == ny, "%s: group %zu agg %zu: null %u vs %u", what, i, a, nx, ny);
			if (f64 && opt_aggs[a].fn != OBL_AGG_COUNT_DISTINCT &&
					opt_aggs[a].fn != OBL_AGG_COUNT) {
				double dx, dy;

				memcpy(&dx, &x, 8);
				memcpy(&dy, &y, 8);
				CHECK(fabs(dx - dy) <= 1e-9 * (fabs(dx) + fabs(dy)) + 1e-9,
					"%s: group %zu agg %zu: %.17g vs %.17g", what, i, a, dx, dy);
			} else {
				CHECK(x == y, "%s: group %zu agg %zu: %lld vs %lld", what, i, a,
					(long long)x, (long long)y);
			}
		}
	}
}

static void test_aggregate(void)
{
	size_t s, nk;
	int fam, d;
	char what[128];

	for (s = 0; s < NSIZES; s++) {
		for (fam = 0; fam < OPT_FAMILIES; fam++) {
			for (d = 0; d < 2; d++) {
				for (nk = 0; nk <= 2; nk++) {
					size_t n = sizes[s];
					size_t orow = obl_agg_out_row_size(OPT_ROW, OPT_NAGGS);
					size_t cap = n > 0 ? n : 1;
					uint8_t *rows = opt_alloc(n * OPT_ROW + 1);
					uint8_t *o1 = opt_alloc(cap * orow), *o2 = opt_alloc(cap * orow);
					uint32_t *f1 = opt_alloc(cap * 4), *f2 = opt_alloc(cap * 4);
					uint32_t *real = make_real(n, d);
					struct obl_table t = { rows, n, OPT_ROW, real };
					const struct obl_key_spec *keys = nk == 2 ? opt_keys_k1k2 : opt_keys_k1;
					uint64_t m1 = 0, m2 = 0;

					snprintf(what, sizeof(what), "aggregate %s n=%zu dummies=%d nkeys=%zu",
						fam_name[fam], n, d, nk);
					opt_fill(rows, n, (enum opt_family)fam, 30);
					CHECK(obl_aggregate_work_bytes(n, OPT_ROW, keys, nk, opt_aggs, OPT_NAGGS) < ARENA_BYTES, "work");
					CHECK(obl_aggregate(&t, keys, nk, opt_aggs, OPT_NAGGS, o1, f1, cap, &m1, &arena) == OBL_OK,
						"%s: rc", what);
					CHECK(op_aggregate_fast(&t, keys, nk, opt_aggs, OPT_NAGGS, o2, f2, cap, &m2, &arena) == OBL_OK,
						"%s: fast rc", what);
					CHECK(arena.used == 0, "arena returned");
					CHECK(m1 == m2, "%s: groups %llu vs %llu", what,
						(unsigned long long)m1, (unsigned long long)m2);
					CHECK(flags_prefix(f1, o1, cap, orow, m1) && memcmp(f1, f2, cap * 4) == 0,
						"%s: flags", what);
					if (nk == 0)
						CHECK(m1 == 1, "%s: a global aggregate has one row", what);
					compare_agg(o1, o2, m1 < m2 ? m1 : m2, keys, nk, what);
					free(rows); free(o1); free(o2); free(f1); free(f2); free(real);
				}
			}
		}
	}
}

/* An exact-work-bytes arena must be enough. */
static void test_work_bytes(void)
{
	size_t n = 300, orow = obl_agg_out_row_size(OPT_ROW, OPT_NAGGS);
	size_t need = obl_aggregate_work_bytes(n, OPT_ROW, opt_keys_k1k2, 2, opt_aggs, OPT_NAGGS);
	uint8_t *rows = opt_alloc(n * OPT_ROW), *o = opt_alloc(n * orow), *mem = opt_alloc(need);
	uint32_t *f = opt_alloc(n * 4);
	struct obl_table t = { rows, n, OPT_ROW, NULL };
	struct obl_arena a;
	uint64_t m;

	opt_fill(rows, n, OPT_RANDOM, 30);
	obl_arena_init(&a, mem, need);
	CHECK(obl_aggregate(&t, opt_keys_k1k2, 2, opt_aggs, OPT_NAGGS, o, f, n, &m, &a) == OBL_OK,
		"aggregate fits in obl_aggregate_work_bytes");
	obl_arena_init(&a, mem, need / 2);
	CHECK(obl_aggregate(&t, opt_keys_k1k2, 2, opt_aggs, OPT_NAGGS, o, f, n, &m, &a) == OBL_ERR_NOMEM,
		"aggregate reports a small arena");
	CHECK(a.used == 0, "a failed call returns the arena");
	free(rows); free(o); free(mem); free(f);

	/* joins, filter, sort, top-k, distinct at their *_work_bytes */
	{
		size_t n1 = 200, n2 = 150, kw = obl_key_spec_words(opt_keys_k1, 1);
		uint8_t *l = opt_alloc(n1 * OPT_ROW), *r = opt_alloc(n2 * OPT_ROW);
		uint8_t *out, *buf;
		uint32_t *fl, *rn, dup;
		struct obl_table lt = { l, n1, OPT_ROW, NULL }, rt = { r, n2, OPT_ROW, NULL };
		struct obl_join_general j;
		uint64_t mm, m_join;
		size_t need2;

		opt_fill(l, n1, OPT_SKEW, 10);
		opt_fill(r, n2, OPT_RANDOM, 10);
		out = opt_alloc((n1 * n2 + n1) * 2 * OPT_ROW);
		fl = opt_alloc((n1 * n2 + n1) * 4);
		rn = opt_alloc((n1 * n2 + n1) * 4);
#define WITH_ARENA(bytes, call, what) do {                                  \
		size_t b_ = (bytes);                                        \
		buf = opt_alloc(b_);                                        \
		obl_arena_init(&a, buf, b_);                                \
		CHECK((call) == OBL_OK, "%s fits in its work bytes", what); \
		free(buf);                                                  \
	} while (0)
		WITH_ARENA(obl_join_pkfk_work_bytes(n1, OPT_ROW, n2, OPT_ROW, kw),
			obl_join_pkfk(&lt, opt_keys_k1, &rt, opt_keys_k1, 1, OBL_PK_RIGHT,
			OBL_JOIN_LEFT_OUTER, NULL, out, fl, rn, n1, &mm, &dup, &a), "pkfk");
		WITH_ARENA(obl_join_semi_work_bytes(n1, OPT_ROW, n2, kw),
			obl_join_semi(&lt, opt_keys_k1, &rt, opt_keys_k1, 1, OBL_JOIN_LEFT_ANTI,
			out, fl, n1, &mm, &a), "semi");
		WITH_ARENA(op_join_fast_work_bytes(n1, OPT_ROW, n2, OPT_ROW, kw),
			op_join_fast(&lt, opt_keys_k1, &rt, opt_keys_k1, 1, OBL_JOIN_INNER, NULL,
			out, fl, NULL, n1 * n2 + n1, &m_join, &a), "fast join");
		WITH_ARENA(obl_filter_work_bytes(n1, OPT_ROW),
			obl_filter(&lt, fl, out, rn, n1, &mm, &a), "filter");
		WITH_ARENA(obl_sort_rows_work_bytes(n1, OPT_ROW, opt_keys_sort, 2),
			obl_sort_rows(&lt, opt_keys_sort, 2, out, fl, &mm, &a), "sort");
		WITH_ARENA(op_sort_fast_work_bytes(n1, OPT_ROW, opt_keys_sort, 2),
			op_sort_rows_fast(&lt, opt_keys_sort, 2, out, fl, &mm, &a), "fast sort");
		WITH_ARENA(obl_topk_work_bytes(n1, OPT_ROW, opt_keys_sort, 2, 7),
			obl_topk(&lt, opt_keys_sort, 2, 7, out, fl, &mm, &a), "topk");
		WITH_ARENA(obl_limit_work_bytes(n1, OPT_ROW),
			obl_limit(&lt, 7, out, fl, &mm, &a), "limit");
		WITH_ARENA(obl_distinct_work_bytes(n1, OPT_ROW, opt_keys_k1k2, 2),
			obl_distinct(&lt, opt_keys_k1k2, 2, out, fl, n1, &mm, &a), "distinct");
		/* general join: begin's bytes, then finish's (outer's) on top */
		need = obl_join_general_begin_work_bytes(n1, OPT_ROW, n2, OPT_ROW, kw);
		buf = opt_alloc(need + 64 * n1 * n2);
		obl_arena_init(&a, buf, need);
		CHECK(obl_join_general_begin(&j, &lt, opt_keys_k1, &rt, opt_keys_k1, 1, &a) == OBL_OK,
			"general begin fits");
		CHECK(j.m == m_join, "general m");
		need2 = obl_join_left_outer_finish_work_bytes(&j, j.m);
		CHECK(need2 >= obl_join_general_finish_work_bytes(&j, j.m), "outer needs more");
		a.size = a.used + need2;
		CHECK(obl_join_general_left_outer_finish(&j, j.m, &lt, opt_keys_k1, &rt, opt_keys_k1,
			1, out, fl, rn, &mm) == OBL_OK, "general outer finish fits");
		CHECK(a.used == 0, "finish returns the arena");
		obl_arena_init(&a, buf, need);
		CHECK(obl_join_general_begin(&j, &lt, opt_keys_k1, &rt, opt_keys_k1, 1, &a) == OBL_OK,
			"general begin fits");
		a.size = a.used + obl_join_general_finish_work_bytes(&j, j.m);
		CHECK(obl_join_general_finish(&j, j.m, NULL, out, fl, &mm) == OBL_OK,
			"general finish fits");
		obl_arena_init(&a, buf, need);
		CHECK(obl_join_general_begin(&j, &lt, opt_keys_k1, &rt, opt_keys_k1, 1, &a) == OBL_OK,
			"general begin fits");
		a.size = a.used + obl_join_general_finish_work_bytes(&j, j.m) / 2;
		CHECK(obl_join_general_finish(&j, j.m, NULL, out, fl, &mm) == OBL_ERR_NOMEM,
			"general finish reports a small arena");
		CHECK(a.used == 0, "a failed finish returns the arena");
		free(buf);
		free(l); free(r); free(out); free(fl); free(rn);
#undef WITH_ARENA
	}
}

static void test_expand(void)
{
	size_t s;

	for (s = 0; s < NSIZES; s++) {
		int rep;

		for (rep = 0; rep < 6; rep++) {
			size_t n = sizes[s], m = 0, i, c, p = 0, rs = 24;
			uint64_t *g = opt_alloc(n * 8 + 8);
			uint32_t *keep = opt_alloc(n * 4 + 4);
			uint8_t *recs, *tmp = opt_alloc(rs);
			int ok = 1;

			for (i = 0; i < n; i++) {
				g[i] = rep == 0 ? 1 : rep == 1 ? 0 : rep == 2 ? (i == n / 2 ? 2 * n + 1 : 0) :
					rep == 3 ? opt_below(2) : opt_below(4) * (opt_below(3) == 0);
				m += g[i];
			}
			recs = opt_alloc((n > m ? n : m) * rs + rs);
			for (i = 0; i < n; i++) {
				uint64_t id = i + 1000;

				memcpy(recs + i * rs + 8, &id, 8);
				memcpy(recs + i * rs + 16, &g[i], 8);
			}
			obl_expand(recs, n, n > m ? n : m, rs, g, m, keep, tmp);
			for (i = 0; i < n && ok; i++) {
				for (c = 0; c < g[i]; c++, p++) {
					uint64_t id;

					memcpy(&id, recs + p * rs + 8, 8);
					if (id != i + 1000)
						ok = 0;
				}
			}
			CHECK(ok && p == m, "expand n=%zu rep=%d m=%zu: wrong copies", n, rep, m);
			free(g); free(keep); free(recs); free(tmp);
		}
	}
}

/* Joins. Left and right tables from families; keys k1 (and k2). */
struct join_case {
	size_t n1, n2;
	int fam1, fam2, d1, d2;
	uint64_t range;
};

/* residual: v(left) < v(right) + 500, both columns non-null (test only) */
static void residual_fn(const uint8_t *rows, size_t n, size_t row_size,
		uint32_t *keep, void *ctx)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < n; i++) {
		int64_t a, b;

		memcpy(&a, rows + i * row_size + OPT_OFF_V, 8);
		memcpy(&b, rows + i * row_size + OPT_ROW + OPT_OFF_V, 8);
		keep[i] = (uint32_t)((a >> 1) < (b >> 1) + 250);
	}
}

static void run_join_case(const struct join_case *jc)
{
	struct obl_keep_fn resid = { residual_fn, NULL };
	size_t n1 = jc->n1, n2 = jc->n2, orow = 2 * OPT_ROW;
	uint8_t *l = opt_alloc(n1 * OPT_ROW + 1), *r = opt_alloc(n2 * OPT_ROW + 1);
	uint32_t *lr = make_real(n1, jc->d1), *rr = make_real(n2, jc->d2);
	struct obl_table lt = { l, n1, OPT_ROW, lr }, rt = { r, n2, OPT_ROW, rr };
	size_t cap_fast = n1 * n2 + n1 + 1;
	uint8_t *o2 = opt_alloc(cap_fast * orow);
	uint32_t *f2 = opt_alloc(cap_fast * 4), *rn2 = opt_alloc(cap_fast * 4);
	uint64_t m2 = 0, m1 = 0, mo = 0;
	char what[160];
	int nk, kind;

	opt_fill(l, n1, (enum opt_family)jc->fam1, jc->range);
	opt_fill(r, n2, (enum opt_family)jc->fam2, jc->range);
	for (nk = 1; nk <= 2; nk++) {
		const struct obl_key_spec *keys = nk == 2 ? opt_keys_k1k2 : opt_keys_k1;

		snprintf(what, sizeof(what), "join n1=%zu n2=%zu fam=%s/%s dummies=%d/%d nkeys=%d",
			n1, n2, fam_name[jc->fam1], fam_name[jc->fam2], jc->d1, jc->d2, nk);
		/* general inner, with and without residual */
		for (kind = 0; kind < 2; kind++) {
			struct obl_join_general j;
			const struct obl_keep_fn *res = kind ? &resid : NULL;
			uint8_t *o1;
			uint32_t *f1;

			CHECK(op_join_fast(&lt, keys, &rt, keys, nk, OBL_JOIN_INNER, res, o2, f2, NULL,
				cap_fast, &m2, &arena) == OBL_OK, "%s: fast rc", what);
			CHECK(obl_join_general_begin(&j, &lt, keys, &rt, keys, nk, &arena) == OBL_OK,
				"%s: begin rc", what);
			o1 = opt_alloc(j.m * orow + 1);
			f1 = opt_alloc(j.m * 4 + 4);
			CHECK(obl_join_general_finish(&j, j.m, res, o1, f1, &m1) == OBL_OK,
				"%s: finish rc", what);
			CHECK(arena.used == 0, "arena returned");
			CHECK(m1 == m2, "%s residual=%d: m %llu vs %llu", what, kind,
				(unsigned long long)m1, (unsigned long long)m2);
			CHECK(m1 == m2 && same_multiset(o1, o2, m1, orow) &&
				flags_prefix(f1, o1, j.m, orow, m1), "%s residual=%d: pairs differ", what, kind);
			free(o1);
			free(f1);
		}
		/* general left outer */
		{
			struct obl_join_general j;
			uint8_t *o1;
			uint32_t *f1, *rn1;
			size_t total, i;

			CHECK(op_join_fast(&lt, keys, &rt, keys, nk, OBL_JOIN_LEFT_OUTER, NULL, o2, f2, rn2,
				cap_fast, &m2, &arena) == OBL_OK, "%s: fast outer rc", what);
			CHECK(obl_join_general_begin(&j, &lt, keys, &rt, keys, nk, &arena) == OBL_OK, "begin");
			total = j.m + n1;
			o1 = opt_alloc(total * orow + 1);
			f1 = opt_alloc(total * 4 + 4);
			rn1 = opt_alloc(total * 4 + 4);
			CHECK(obl_join_general_left_outer_finish(&j, j.m, &lt, keys, &rt, keys, nk,
				o1, f1, rn1, &mo) == OBL_OK, "%s: outer rc", what);
			CHECK(arena.used == 0, "arena returned");
			CHECK(mo == m2 && same_multiset(o1, o2, mo, orow) &&
				flags_prefix(f1, o1, total, orow, mo), "%s: left outer differs (m %llu vs %llu)",
				what, (unsigned long long)mo, (unsigned long long)m2);
			{
				size_t nulls1 = 0, nulls2 = 0;

				for (i = 0; i < mo; i++)
					nulls1 += rn1[i];
				for (i = 0; i < m2; i++)
					nulls2 += rn2[i];
				CHECK(nulls1 == nulls2, "%s: outer null rows %zu vs %zu", what, nulls1, nulls2);
			}
			free(o1); free(f1); free(rn1);
		}
		/* semi and anti */
		for (kind = OBL_JOIN_LEFT_SEMI; kind <= OBL_JOIN_LEFT_ANTI; kind++) {
			uint8_t *o1 = opt_alloc(n1 * OPT_ROW + 1);
			uint32_t *f1 = opt_alloc(n1 * 4 + 4);

			CHECK(op_join_fast(&lt, keys, &rt, keys, nk, (enum obl_join_kind)kind, NULL, o2, f2,
				NULL, cap_fast, &m2, &arena) == OBL_OK, "fast semi rc");
			CHECK(obl_join_semi(&lt, keys, &rt, keys, nk, (enum obl_join_kind)kind, o1, f1, n1,
				&m1, &arena) == OBL_OK, "semi rc");
			CHECK(m1 == m2 && same_multiset(o1, o2, m1, OPT_ROW) &&
				flags_prefix(f1, o1, n1, OPT_ROW, m1), "%s: %s differs (m %llu vs %llu)",
				what, kind == OBL_JOIN_LEFT_SEMI ? "semi" : "anti",
				(unsigned long long)m1, (unsigned long long)m2);
			free(o1); free(f1);
		}
	}
	free(l); free(r); free(lr); free(rr); free(o2); free(f2); free(rn2);
}

static void test_join_general(void)
{
	static const size_t ns[] = { 0, 1, 5, 40, 300 };
	size_t a, b;
	int fam, d;

	for (a = 0; a < 5; a++)
		for (b = 0; b < 5; b++)
			for (fam = 0; fam < OPT_FAMILIES; fam++)
				for (d = 0; d < 2; d++) {
					struct join_case jc = { ns[a], ns[b], fam, (fam + b) % OPT_FAMILIES,
						d, (int)(a & 1) & d, 12 };

					if (ns[a] * ns[b] > 20000 && fam == OPT_ALL_EQUAL)
						jc.fam2 = OPT_RANDOM;
					run_join_case(&jc);
				}
}

/* PK-FK: left = FK (random keys incl. NULL), right = PK (distinct keys, a
 * few NULLs), inner (with and without residual, both pk sides) and left
 * outer, against the fast join; and a duplicate primary key is flagged. */
static void test_join_pkfk(void)
{
	static const size_t ns[] = { 0, 1, 7, 100, 1000 };
	struct obl_keep_fn resid = { residual_fn, NULL };
	size_t a, b, i;
	int fam, d, res;

	for (a = 0; a < 5; a++)
		for (b = 0; b < 5; b++)
			for (fam = 0; fam < OPT_FAMILIES; fam++)
				for (d = 0; d < 2; d++)
					for (res = 0; res < 2; res++) {
				size_t nf = ns[a], np = ns[b], orow = 2 * OPT_ROW, cap_fast = nf * 2 + 2;
				uint8_t *fk = opt_alloc(nf * OPT_ROW + 1), *pk = opt_alloc(np * OPT_ROW + 1);
				uint32_t *fr = make_real(nf, d), *pr = make_real(np, d && (a & 1));
				struct obl_table ft = { fk, nf, OPT_ROW, fr }, pt = { pk, np, OPT_ROW, pr };
				uint8_t *o1 = opt_alloc(nf * orow + 1), *o2 = opt_alloc(cap_fast * orow);
				uint32_t *f1 = opt_alloc(nf * 4 + 4), *f2 = opt_alloc(cap_fast * 4);
				uint32_t *rn1 = opt_alloc(nf * 4 + 4), *rn2 = opt_alloc(cap_fast * 4);
				const struct obl_keep_fn *rp = res ? &resid : NULL;
				uint64_t m1, m2;
				uint32_t dup = 7;
				int kind;

				opt_fill(fk, nf, (enum opt_family)fam, np + 3);
				opt_fill(pk, np, OPT_DISTINCT, 1);
				for (i = 0; i < np; i++) {   /* PK keys 0..np-1, shuffled-ish */
					int64_t k = (int64_t)((i * 7) % (np ? np : 1));

					if (np % 7 == 0)
						k = (int64_t)i;
					memcpy(pk + i * OPT_ROW + OPT_OFF_K1, &k, 8);
					if (opt_below(10) == 0)
						pk[i * OPT_ROW] |= 1;   /* NULL key */
				}
				for (kind = 0; kind < 2; kind++) {
					/* inner with the PK on the right, then on the left */
					CHECK(obl_join_pkfk(&ft, opt_keys_k1, &pt, opt_keys_k1, 1, OBL_PK_RIGHT,
						(enum obl_join_kind)kind, rp, o1, f1, rn1, nf, &m1, &dup, &arena) == OBL_OK,
						"pkfk rc");
					CHECK(dup == 0, "pkfk: unique keys flagged as duplicates");
					CHECK(op_join_fast(&ft, opt_keys_k1, &pt, opt_keys_k1, 1, (enum obl_join_kind)kind,
						rp, o2, f2, rn2, cap_fast, &m2, &arena) == OBL_OK, "fast rc");
					CHECK(m1 == m2 && same_multiset(o1, o2, m1, orow) &&
						flags_prefix(f1, o1, nf, orow, m1),
						"pkfk kind=%d n_fk=%zu n_pk=%zu fam=%s d=%d res=%d: m %llu vs %llu",
						kind, nf, np, fam_name[fam], d, res,
						(unsigned long long)m1, (unsigned long long)m2);
					if (kind == OBL_JOIN_LEFT_OUTER) {
						size_t z1 = 0, z2 = 0;

						for (i = 0; i < m1; i++)
							z1 += rn1[i];
						for (i = 0; i < m2; i++)
							z2 += rn2[i];
						CHECK(z1 == z2, "pkfk outer: null rows %zu vs %zu", z1, z2);
					}
				}
				/* PK on the left: the same pairs with the sides swapped */
				CHECK(obl_join_pkfk(&pt, opt_keys_k1, &ft, opt_keys_k1, 1, OBL_PK_LEFT,
					OBL_JOIN_INNER, NULL, o1, f1, NULL, nf, &m1, &dup, &arena) == OBL_OK, "rc");
				CHECK(op_join_fast(&pt, opt_keys_k1, &ft, opt_keys_k1, 1, OBL_JOIN_INNER, NULL,
					o2, f2, NULL, cap_fast, &m2, &arena) == OBL_OK, "rc");
				CHECK(m1 == m2 && same_multiset(o1, o2, m1, orow), "pkfk pk-left differs");
				/* a duplicated primary key */
				if (np >= 2) {
					uint32_t saved_real = pr ? pr[1] : 1;

					memcpy(pk + OPT_ROW + OPT_OFF_K1, pk + OPT_OFF_K1, 8);
					pk[OPT_ROW] = pk[0] = 0;
					if (pr) {
						pr[0] = pr[1] = 1;
					}
					CHECK(obl_join_pkfk(&ft, opt_keys_k1, &pt, opt_keys_k1, 1, OBL_PK_RIGHT,
						OBL_JOIN_INNER, NULL, o1, f1, NULL, nf, &m1, &dup, &arena) == OBL_OK, "rc");
					CHECK(dup == 1, "pkfk: duplicate primary key not flagged");
					(void)saved_real;
				}
				CHECK(arena.used == 0, "arena returned");
				free(fk); free(pk); free(fr); free(pr); free(o1); free(o2);
				free(f1); free(f2); free(rn1); free(rn2);
			}
}

static void test_union_distinct(void)
{
	size_t s, i;
	int fam, d;

	for (s = 0; s < NSIZES; s++)
		for (fam = 0; fam < OPT_FAMILIES; fam++)
			for (d = 0; d < 2; d++) {
				size_t n = sizes[s], nb = n / 3 + 1;
				uint8_t *rows = opt_alloc(n * OPT_ROW + 1), *rb = opt_alloc(nb * OPT_ROW);
				uint8_t *o1 = opt_alloc((n + nb) * OPT_ROW), *o2 = opt_alloc((n + nb) * OPT_ROW);
				uint32_t *f1 = opt_alloc((n + nb) * 4), *f2 = opt_alloc((n + nb) * 4);
				uint32_t *real = make_real(n, d);
				struct obl_table t = { rows, n, OPT_ROW, real }, tb = { rb, nb, OPT_ROW, NULL };
				uint64_t m1, m2;
				int ok = 1;

				opt_fill(rows, n, (enum opt_family)fam, 10);
				opt_fill(rb, nb, OPT_RANDOM, 10);
				CHECK(obl_union_all(&t, &tb, o1, f1) == OBL_OK, "union rc");
				for (i = 0; i < n + nb; i++) {
					uint32_t want = i < n ? (real ? real[i] : 1) : 1;
					const uint8_t *src = i < n ? rows + i * OPT_ROW : rb + (i - n) * OPT_ROW;

					if (f1[i] != want || (want && memcmp(o1 + i * OPT_ROW, src, OPT_ROW) != 0))
						ok = 0;
				}
				CHECK(ok, "union all n=%zu d=%d", n, d);
				CHECK(obl_distinct(&t, opt_keys_k1k2, 2, o1, f1, n, &m1, &arena) == OBL_OK, "rc");
				CHECK(op_distinct_fast(&t, opt_keys_k1k2, 2, o2, f2, n, &m2, &arena) == OBL_OK, "rc");
				CHECK(m1 == m2 && flags_prefix(f1, o1, n, OPT_ROW, m1) &&
					same_key_sequence(o1, o2, m1, OPT_ROW, opt_keys_k1k2, 2),
					"distinct %s n=%zu d=%d: m %llu vs %llu", fam_name[fam], n, d,
					(unsigned long long)m1, (unsigned long long)m2);
				CHECK(arena.used == 0, "arena returned");
				free(rows); free(rb); free(o1); free(o2); free(f1); free(f2); free(real);
			}
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "filter", test_filter },
	{ "sort_limit_topk", test_sort_limit_topk },
	{ "aggregate", test_aggregate },
	{ "work_bytes", test_work_bytes },
	{ "expand", test_expand },
	{ "join_pkfk", test_join_pkfk },
	{ "join_general", test_join_general },
	{ "union_distinct", test_union_distinct },
};
#define NTESTS (sizeof(tests) / sizeof(tests[0]))

int main(int argc, char **argv)
{
	size_t t;
	int a, ran = 0;

	for (a = 1; a < argc; a++) {
		for (t = 0; t < NTESTS; t++)
			if (strcmp(argv[a], tests[t].name) == 0)
				break;
		if (t == NTESTS) {
			fprintf(stderr, "operators_test: unknown test '%s'; known:", argv[a]);
			for (t = 0; t < NTESTS; t++)
				fprintf(stderr, " %s", tests[t].name);
			fputc('\n', stderr);
			return 2;
		}
	}
	arena_mem = opt_alloc(ARENA_BYTES);
	obl_arena_init(&arena, arena_mem, ARENA_BYTES);
	for (t = 0; t < NTESTS; t++) {
		long before_checks = checks, before_fail = failures;
		int selected = argc < 2;

		for (a = 1; a < argc; a++)
			selected |= strcmp(argv[a], tests[t].name) == 0;
		if (!selected)
			continue;
		opt_seed(t + 1);
		tests[t].fn();
		ran++;
		printf("%-20s %s (%ld checks)\n", tests[t].name,
			failures == before_fail ? "ok" : "FAILED", checks - before_checks);
	}
	printf("operators_test: %d tests, %ld checks, %ld failures\n", ran, checks, failures);
	free(arena_mem);
	return failures == 0 ? 0 : 1;
}

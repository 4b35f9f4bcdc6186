/*
 * stream_expand_test.c - the join-expansion modes of STREAM (GROUP_COUNT
 * GC_FORWARD / GC_SECOND, GENERATE, FILL) in-process:
 *   - the whole many-to-many join pipeline (stream_expand_pipeline.c, every
 *     sort the real external sort) on random tables with duplicate keys on
 *     both sides, NULL keys (whose value bytes collide with real keys), keys
 *     on one side only, empty sides and m = 0, against a nested-loop join
 *     written here, compared as multisets of (T1 row, T2 row);
 *   - GROUP_COUNT's annotations against a reference computed here from the
 *     plaintext, block boundaries inside groups;
 *   - FILL refusing a wrong m (too small, too large), GENERATE's rows;
 *   - every request check of the three modes.
 *
 *   stream_expand_test [test_name ...]     (no names: run all)
 */
#include "stream_expand_pipeline.h"

#include <stdlib.h>
#include <string.h>

static uint8_t key_in[32], key_out[32];

static void *session_with_keys(void)
{
	void *s = th_open_session();

	CHECK_RES(th_install_key(s, 0, key_in), TEE_SUCCESS);
	CHECK_RES(th_install_key(s, 1, key_out), TEE_SUCCESS);
	return s;
}

/* ------------------------------------------------------------ tables */

struct gen {
	uint32_t n1, n2;
	uint32_t dom1, dom2;	/* k1 drawn from [base, base + dom) */
	uint32_t base1, base2;
	uint32_t null_in;	/* a key is NULL with probability 1/null_in
				   (0: never) */
};

/* T1 and T2 rows as stream_expand_pipeline.h lays them out; ids unique. */
static void make_tables(const struct gen *g, uint8_t **t1, uint8_t **t2)
{
	uint32_t i;

	*t1 = malloc((size_t)g->n1 * SX_T1_RS + 1);
	*t2 = malloc((size_t)g->n2 * SX_T2_RS + 1);
	th_rand_bytes(*t1, (size_t)g->n1 * SX_T1_RS);
	th_rand_bytes(*t2, (size_t)g->n2 * SX_T2_RS);
	for (i = 0; i < g->n1; i++) {
		uint8_t *r = *t1 + (size_t)i * SX_T1_RS;
		int16_t k2 = (int16_t)(th_rand64() % 2) - 1;

		st64(r, g->base1 + th_rand64() % g->dom1);
		r[8] = g->null_in && th_rand64() % g->null_in == 0;
		memcpy(r + 10, &k2, 2);
		st64(r + 16, 0x1000000u + i);
	}
	for (i = 0; i < g->n2; i++) {
		uint8_t *r = *t2 + (size_t)i * SX_T2_RS;
		int16_t k2 = (int16_t)(th_rand64() % 2) - 1;

		st64(r, 0x2000000u + i);
		st64(r + 8, g->base2 + th_rand64() % g->dom2);
		r[16] = g->null_in && th_rand64() % g->null_in == 0;
		memcpy(r + 17, &k2, 2);
	}
}

static int cmp_pair(const void *a, const void *b)
{
	return memcmp(a, b, SX_PAIR_RS);
}

/* Run the pipeline on g with the given block sizes; compare with the
 * nested loop. */
static void check_join(void *s, const struct gen *g, uint32_t rpb1,
		       uint32_t rpb2, uint32_t rpb, int raw_sort)
{
	struct sx_case c;
	struct sx_result r;
	uint8_t *t1, *t2, *want;
	uint64_t m;

	make_tables(g, &t1, &t2);
	want = sx_nested_loop(t1, g->n1, t2, g->n2, &m);
	memset(&c, 0, sizeof(c));
	c.t1 = t1;
	c.t2 = t2;
	c.n1 = g->n1;
	c.n2 = g->n2;
	c.rpb1 = rpb1;
	c.rpb2 = rpb2;
	c.rpb = rpb;
	c.raw_sort = raw_sort;
	if (sx_run(s, key_in, key_out, &c, &r) != 0) {
		fprintf(stderr, "  pipeline (n1 %u, n2 %u, raw %d): %s failed "
			"0x%x\n", g->n1, g->n2, raw_sort, sx_step_name(r.step),
			r.res);
		CHECK(0);
		goto out;
	}
	CHECK(r.m == m);
	CHECK(r.join_real == m);
	if (CHECK(r.n_pairs == m)) {
		qsort(want, m, SX_PAIR_RS, cmp_pair);
		qsort(r.pairs, m, SX_PAIR_RS, cmp_pair);
		CHECK(memcmp(want, r.pairs, (size_t)m * SX_PAIR_RS) == 0);
	} else {
		fprintf(stderr, "  n1 %u n2 %u raw %d: %lu pairs, want %lu\n",
			g->n1, g->n2, raw_sort, (unsigned long)r.n_pairs,
			(unsigned long)m);
	}
out:
	free(r.pairs);
	free(want);
	free(t1);
	free(t2);
}

/* ----------------------------------------------------------------- tests */

static void test_expand_join_matches_nested_loop(void)
{
	void *s = session_with_keys();
	uint32_t i;

	for (i = 0; i < 16; i++) {
		struct gen g;

		memset(&g, 0, sizeof(g));
		g.n1 = (uint32_t)(th_rand64() % 40);
		g.n2 = (uint32_t)(th_rand64() % 40);
		/* Small domains: duplicates on both sides; shifted domains:
		 * keys present on one side only. */
		g.dom1 = 1 + (uint32_t)(th_rand64() % 8);
		g.dom2 = 1 + (uint32_t)(th_rand64() % 8);
		g.base1 = (uint32_t)(th_rand64() % 3);
		g.base2 = (uint32_t)(th_rand64() % 3);
		g.null_in = i % 3 ? 6 : 0;
		/* Every other case sorts without the NULL flag: NULL rows,
		 * whose key bytes are in the domain, fall inside groups. */
		check_join(s, &g, 1 + (uint32_t)(th_rand64() % 7),
			   1 + (uint32_t)(th_rand64() % 7),
			   2 + (uint32_t)(th_rand64() % 9), i % 2);
	}
	th_close_session(s);
}

/* One hot key: m = n1 * n2, the whole output in one group. */
static void test_expand_join_single_group(void)
{
	void *s = session_with_keys();
	struct gen g = { 13, 11, 1, 1, 5, 5, 0 };

	check_join(s, &g, 4, 3, 16, 0);
	g.null_in = 4;	/* the same with NULLs cutting out rows */
	check_join(s, &g, 4, 3, 16, 0);
	check_join(s, &g, 4, 3, 16, 1);	/* and sorted among them */
	th_close_session(s);
}

static void test_expand_join_empty_sides(void)
{
	void *s = session_with_keys();
	struct gen g = { 0, 9, 3, 3, 0, 0, 5 };

	check_join(s, &g, 4, 4, 5, 0);	/* T1 empty */
	g.n1 = 9;
	g.n2 = 0;
	check_join(s, &g, 4, 4, 5, 0);	/* T2 empty */
	g.n1 = 0;
	check_join(s, &g, 4, 4, 5, 0);	/* both */
	th_close_session(s);
}

static void test_expand_join_m_zero(void)
{
	void *s = session_with_keys();
	struct gen g = { 17, 12, 4, 4, 0, 100, 0 };	/* disjoint keys */

	check_join(s, &g, 3, 5, 4, 0);
	g.base2 = 0;
	g.null_in = 1;					/* every key NULL */
	check_join(s, &g, 3, 5, 4, 0);
	check_join(s, &g, 3, 5, 4, 1);
	th_close_session(s);
}

/* Tables several times the heap when run with a small
 * TEESPARK_TA_DATA_SIZE (stream-expand-test uses 256 KiB): every step holds
 * one block (or one XSORT merge) at a time. The real rows and fillers FILL
 * reads are checked to exceed the heap the TA was given. */
static void test_expand_join_larger_than_heap(void)
{
	void *s = session_with_keys();
	struct gen g = { 3000, 3000, 600, 600, 0, 0, 40 };
	const char *heap = getenv("TEESPARK_TA_DATA_SIZE");
	uint8_t *t1, *t2, *want;
	struct sx_case c;
	struct sx_result r;
	uint64_t m;

	make_tables(&g, &t1, &t2);
	want = sx_nested_loop(t1, g.n1, t2, g.n2, &m);
	if (heap)
		CHECK((g.n1 + g.n2 + 2 * m) * SX_U_RS > strtoull(heap, NULL, 0));
	memset(&c, 0, sizeof(c));
	c.t1 = t1;
	c.t2 = t2;
	c.n1 = g.n1;
	c.n2 = g.n2;
	c.rpb1 = c.rpb2 = 100;
	c.rpb = 64;
	c.raw_sort = 1;
	if (!CHECK(sx_run(s, key_in, key_out, &c, &r) == 0)) {
		fprintf(stderr, "  %s failed 0x%x\n", sx_step_name(r.step),
			r.res);
	} else if (CHECK(r.m == m && r.n_pairs == m)) {
		qsort(want, m, SX_PAIR_RS, cmp_pair);
		qsort(r.pairs, m, SX_PAIR_RS, cmp_pair);
		CHECK(memcmp(want, r.pairs, (size_t)m * SX_PAIR_RS) == 0);
	}
	free(r.pairs);
	free(want);
	free(t1);
	free(t2);
	th_close_session(s);
}

/* GENERATE m + delta: FILL must refuse (too few or too many fillers). */
static void test_fill_rejects_wrong_m(void)
{
	static const int64_t deltas[] = { -1, 1, -3, 5 };
	void *s = session_with_keys();
	struct gen g = { 20, 18, 4, 4, 0, 0, 8 };
	uint8_t *t1, *t2, *want;
	struct sx_case c;
	struct sx_result r;
	uint64_t m;
	size_t i;

	make_tables(&g, &t1, &t2);
	want = sx_nested_loop(t1, g.n1, t2, g.n2, &m);
	CHECK(m > 3);
	memset(&c, 0, sizeof(c));
	c.t1 = t1;
	c.t2 = t2;
	c.n1 = g.n1;
	c.n2 = g.n2;
	c.rpb1 = c.rpb2 = 5;
	c.rpb = 6;
	for (i = 0; i < sizeof(deltas) / sizeof(deltas[0]); i++) {
		c.m_delta = deltas[i];
		CHECK(sx_run(s, key_in, key_out, &c, &r) != 0);
		CHECK(r.step == SX_FILL);
		CHECK_RES(r.res, TS_ERROR_BAD_REQUEST);
		CHECK(r.m == m);
		free(r.pairs);
	}
	/* The right m goes through on the same tables. */
	c.m_delta = 0;
	CHECK(sx_run(s, key_in, key_out, &c, &r) == 0 && r.n_pairs == m);
	free(r.pairs);
	free(want);
	free(t1);
	free(t2);

	/* m = 0, host says 1. */
	g.base2 = 50;
	make_tables(&g, &t1, &t2);
	c.t1 = t1;
	c.t2 = t2;
	c.m_delta = 1;
	CHECK(sx_run(s, key_in, key_out, &c, &r) != 0);
	CHECK(r.step == SX_FILL && r.m == 0);
	CHECK_RES(r.res, TS_ERROR_BAD_REQUEST);
	free(r.pairs);
	free(t1);
	free(t2);
	th_close_session(s);
}

/* Union rows (SX_U_RS) for the direct GROUP_COUNT checks: side @0, k1 @8,
 * NULL flag @16, k2 @18 (0 here), annotation zero, junk elsewhere. */
static uint8_t *union_rows(uint32_t n)
{
	uint8_t *u = malloc((size_t)n * SX_U_RS + 1);
	uint32_t i;

	th_rand_bytes(u, (size_t)n * SX_U_RS);
	for (i = 0; i < n; i++) {
		uint8_t *r = u + (size_t)i * SX_U_RS;

		r[0] = (uint8_t)(th_rand64() % 2);
		st64(r + 8, th_rand64() % 5);
		r[16] = th_rand64() % 7 == 0;
		memset(r + 18, 0, 2);
		memset(r + SX_AUX, 0, TS_STREAM_ANN_SIZE);
	}
	return u;
}

static int cmp_u_fwd(const void *a, const void *b)
{
	const uint8_t *x = a, *y = b;

	if (x[16] != y[16])
		return x[16] - y[16];
	if (ld64(x + 8) != ld64(y + 8))
		return ld64(x + 8) < ld64(y + 8) ? -1 : 1;
	return x[0] - y[0];
}

static int cmp_u_second(const void *a, const void *b)
{
	const uint8_t *x = a, *y = b;
	uint64_t ix = ld64(x + SX_AUX), iy = ld64(y + SX_AUX);

	if (x[16] != y[16])
		return x[16] - y[16];
	if (ld64(x + 8) != ld64(y + 8))
		return ld64(x + 8) < ld64(y + 8) ? -1 : 1;
	if (x[0] != y[0])
		return y[0] - x[0];
	return ix == iy ? 0 : ix < iy ? 1 : -1;
}

static void gc_request(struct ts_stream_request *req, uint32_t variant)
{
	sx_request(req, TS_STREAM_GROUP_COUNT, "sx-test-gc!!!!!");
	req->key_count = 2;
	req->keys[0] = (struct ts_op_key){ TS_KEY_UINT, 0, 8, 8, 0, 16, 0, 1,
					   0, 0 };
	req->keys[1] = (struct ts_op_key){ TS_KEY_INT, 0, 18, 2, 0, 0, 0, 0,
					   0, 0 };
	req->aux_offset = SX_AUX;
	req->variant = variant;
	req->reveal = variant == TS_STREAM_GC_FORWARD;
}

/* Same group: equal keys and neither NULL. */
static int same_group(const uint8_t *a, const uint8_t *b)
{
	return !a[16] && !b[16] && ld64(a + 8) == ld64(b + 8);
}

/* GC_FORWARD then GC_SECOND on a union sorted here, against annotations
 * computed here. Small blocks, so groups span blocks. */
static void test_group_count_annotations(void)
{
	const uint32_t n = 61;
	void *s = session_with_keys();
	uint8_t *u = union_rows(n), *got = malloc((size_t)n * SX_U_RS);
	uint64_t a0[64], a1[64], idx[64], off[64], m = 0, c0, c1;
	struct ts_stream_request req;
	struct sx_table in, out;
	uint32_t i, j, g, real = 0, bad = 0;

	qsort(u, n, SX_U_RS, cmp_u_fwd);
	/* The reference: walk groups. */
	for (i = 0; i < n; i = g) {
		for (g = i + 1; g < n && same_group(u + (size_t)(g - 1) * SX_U_RS,
						    u + (size_t)g * SX_U_RS); g++)
			;
		c0 = c1 = 0;
		for (j = i; j < g; j++) {
			const uint8_t *r = u + (size_t)j * SX_U_RS;

			idx[j] = r[0] ? c1++ : c0++;
		}
		for (j = i; j < g; j++) {
			a0[j] = c0;
			a1[j] = c1;
			off[j] = m;
		}
		m += c0 * c1;
	}
	CHECK_RES(sx_seal(s, key_out, 1, u, n, SX_U_RS, 4, &in), TEE_SUCCESS);
	gc_request(&req, TS_STREAM_GC_FORWARD);
	if (!CHECK_RES(sx_stream(s, &req, &in, NULL, &out, &real), TEE_SUCCESS))
		goto done;
	CHECK(real == m);
	CHECK(out.d.row_count == n && out.d.rows_per_block == 4 &&
	      out.d.row_size == SX_U_RS);
	CHECK(th_open_table(key_out, out.blocks, out.len, got,
			    (size_t)n * SX_U_RS, NULL, 0, NULL) == (long)n);
	for (i = 0; i < n; i++) {
		const uint8_t *r = got + (size_t)i * SX_U_RS;
		const uint8_t *w = u + (size_t)i * SX_U_RS;
		uint8_t zero[TS_STREAM_ANN_SIZE - 24] = { 0 };

		bad += memcmp(r, w, SX_AUX) != 0 ||
		       memcmp(r + SX_AUX + TS_STREAM_ANN_SIZE,
			      w + SX_AUX + TS_STREAM_ANN_SIZE,
			      SX_U_RS - SX_AUX - TS_STREAM_ANN_SIZE) != 0 ||
		       ld64(r + SX_AUX) != idx[i] ||
		       ld64(r + SX_AUX + 8) != (w[0] ? a0[i] : 0) ||
		       ld64(r + SX_AUX + 16) != off[i] ||
		       memcmp(r + SX_AUX + 24, zero, sizeof(zero)) != 0;
	}
	CHECK(bad == 0);

	/* GC_SECOND: sort the forward output here, run it, compare. */
	memcpy(u, got, (size_t)n * SX_U_RS);
	for (i = 0; i < n; i++) {	/* carry the reference along */
		uint8_t *r = u + (size_t)i * SX_U_RS;
		uint64_t cp = r[0] ? a0[i] : a1[i];

		st64(r + SX_AUX + 24, a1[i]);
		st64(r + SX_AUX + 40, cp);
		st64(r + SX_AUX + 32, off[i] + idx[i] * cp);
		r[SX_AUX + 49] = cp == 0;
	}
	qsort(u, n, SX_U_RS, cmp_u_second);
	/* The input: u with the fields GC_SECOND fills cleared. */
	memcpy(got, u, (size_t)n * SX_U_RS);
	for (i = 0; i < n; i++)
		memset(got + (size_t)i * SX_U_RS + SX_AUX + 24, 0, 32);
	sx_table_free(&in);
	CHECK_RES(sx_seal(s, key_out, 1, got, n, SX_U_RS, 7, &in), TEE_SUCCESS);
	sx_table_free(&out);
	gc_request(&req, TS_STREAM_GC_SECOND);
	if (!CHECK_RES(sx_stream(s, &req, &in, NULL, &out, &real), TEE_SUCCESS))
		goto done;
	CHECK(real == 0);
	CHECK(th_open_table(key_out, out.blocks, out.len, got,
			    (size_t)n * SX_U_RS, NULL, 0, NULL) == (long)n);
	CHECK(memcmp(got, u, (size_t)n * SX_U_RS) == 0);
done:
	sx_table_free(&in);
	sx_table_free(&out);
	free(u);
	free(got);
	th_close_session(s);
}

/* GENERATE: 2m rows, side r / m, dest r % m, kind 1, all else zero. */
static void test_generate_rows(void)
{
	void *s = session_with_keys();
	struct ts_stream_request req;
	struct sx_table out;
	uint8_t *got = malloc(14 * 100), want[100];
	uint32_t i, bad = 0;

	sx_request(&req, TS_STREAM_GENERATE, "sx-test-gen!!!!");
	req.in0_key_slot = 0;
	req.rows_per_block = 4;
	req.out_row_size = 100;
	req.side_offset = 99;
	req.aux_offset = 3;
	req.limit = 7;
	if (CHECK_RES(sx_stream(s, &req, NULL, NULL, &out, NULL), TEE_SUCCESS)) {
		CHECK(out.d.row_count == 14 && out.d.block_count == 4);
		CHECK(th_open_table(key_out, out.blocks, out.len, got, 1400,
				    NULL, 0, NULL) == 14);
		for (i = 0; i < 14; i++) {
			memset(want, 0, sizeof(want));
			want[99] = (uint8_t)(i / 7);
			st64(want + 3 + 32, i % 7);
			want[3 + 48] = 1;
			bad += memcmp(got + i * 100, want, 100) != 0;
		}
		CHECK(bad == 0);
		sx_table_free(&out);
	}
	req.limit = 0;	/* m = 0: an empty table */
	if (CHECK_RES(sx_stream(s, &req, NULL, NULL, &out, NULL), TEE_SUCCESS)) {
		CHECK(out.d.row_count == 0 && out.d.block_count == 1);
		sx_table_free(&out);
	}
	free(got);
	th_close_session(s);
}

/* Every request check of the three modes. */
static void test_expand_requests_refused(void)
{
	void *s = session_with_keys();
	uint8_t *u = union_rows(10);
	struct ts_stream_request req, base;
	struct sx_table in, out, gen;
	uint32_t i;

	CHECK_RES(sx_seal(s, key_out, 1, u, 10, SX_U_RS, 4, &in), TEE_SUCCESS);
	/* The well-formed requests pass. */
	gc_request(&base, TS_STREAM_GC_FORWARD);
	CHECK_RES(sx_stream(s, &base, &in, NULL, &out, NULL), TEE_SUCCESS);
	sx_table_free(&out);

	for (i = 0; i < 16; i++) {
		req = base;
		switch (i) {
		case 0: req.aux_offset = SX_U_RS - TS_STREAM_ANN_SIZE + 1; break;
		case 1: req.side_offset = SX_AUX + 50; break;
		case 2: req.side_offset = SX_U_RS; break;
		case 3: req.keys[1].offset = SX_AUX - 1; break;  /* into ann */
		case 4: req.keys[0].null_offset = SX_AUX + 55; break;
		case 5: req.keys[0].offset = 0; req.keys[0].width = 1;
			req.keys[0].type = TS_KEY_UINT; break;	/* side byte */
		case 6: req.variant = 2; break;
		case 7: req.variant = TS_STREAM_GC_SECOND; break; /* reveal */
		case 8: req.key_count = 0;
			memset(req.keys, 0, sizeof(req.keys)); break;
		case 9: req.rows_per_block = 4; break;
		case 10: req.out_row_size = SX_U_RS; break;
		case 11: req.pk_offset = 8; break;
		case 12: req.limit = 3; break;
		case 13: req.aux_offset = 0xFFFFFFF0u; break;
		case 14: req.keys[0].width = 3; break;
		case 15: req.mode = TS_STREAM_FILL; break;	/* keys, reveal */
		}
		if (!CHECK_RES(sx_stream(s, &req, &in, NULL, &out, NULL),
			       TS_ERROR_BAD_REQUEST)) {
			fprintf(stderr, "  GROUP_COUNT case %u accepted\n", i);
			sx_table_free(&out);
		}
	}

	/* FILL: no keys, no reveal, no variant, rows_per_block 0. */
	sx_request(&base, TS_STREAM_FILL, "sx-test-fill!!!");
	base.aux_offset = SX_AUX;
	for (i = 0; i < 5; i++) {
		req = base;
		switch (i) {
		case 0: req.reveal = 1; break;
		case 1: req.variant = 1; break;
		case 2: req.rows_per_block = 3; break;
		case 3: req.aux_offset = SX_U_RS - 8; break;
		case 4: req.side_offset = SX_AUX + 48; break;
		}
		CHECK_RES(sx_stream(s, &req, &in, NULL, &out, NULL),
			  TS_ERROR_BAD_REQUEST);
	}

	/* GENERATE: as WIDEN for sizes; no input. */
	sx_request(&base, TS_STREAM_GENERATE, "sx-test-gen2!!!");
	base.in0_key_slot = 0;
	base.rows_per_block = 4;
	base.out_row_size = SX_U_RS;
	base.aux_offset = SX_AUX;
	base.limit = 3;
	CHECK_RES(sx_stream(s, &base, NULL, NULL, &gen, NULL), TEE_SUCCESS);
	for (i = 0; i < 8; i++) {
		req = base;
		switch (i) {
		case 0: req.rows_per_block = 0; break;
		case 1: req.out_row_size = 0; break;
		case 2: req.out_row_size = SX_AUX + 55; break;
		case 3: req.in0_key_slot = 1; break;
		case 4: req.key_count = 1;
			req.keys[0] = (struct ts_op_key){ TS_KEY_UINT, 0, 8, 8,
							  0, 0, 0, 0, 0, 0 };
			break;
		case 5: req.reveal = 1; break;
		case 6: req.out_row_size = TS_MAX_ROW_SIZE + 1; break;
		case 7: req.limit = UINT64_MAX / 2; break;
		}
		CHECK_RES(sx_stream(s, &req, NULL, NULL, &out, NULL),
			  TS_ERROR_BAD_REQUEST);
	}
	/* GENERATE takes no input blocks. */
	CHECK_RES(sx_stream(s, &base, &gen, NULL, &out, NULL),
		  TS_ERROR_BAD_REQUEST);
	sx_table_free(&gen);
	sx_table_free(&in);
	free(u);
	th_close_session(s);
}

int main(int argc, char **argv)
{
	th_init();
	th_rand_seed(0xe8a9d);
	th_rand_bytes(key_in, 32);
	th_rand_bytes(key_out, 32);
	RUN_TEST(argc, argv, test_expand_join_matches_nested_loop);
	RUN_TEST(argc, argv, test_expand_join_single_group);
	RUN_TEST(argc, argv, test_expand_join_empty_sides);
	RUN_TEST(argc, argv, test_expand_join_m_zero);
	RUN_TEST(argc, argv, test_expand_join_larger_than_heap);
	RUN_TEST(argc, argv, test_fill_rejects_wrong_m);
	RUN_TEST(argc, argv, test_group_count_annotations);
	RUN_TEST(argc, argv, test_generate_rows);
	RUN_TEST(argc, argv, test_expand_requests_refused);
	return th_summary("stream_expand_test");
}

/*
 * test_ta_external_sort.c - the external sort commands (XSORT_START,
 * XSORT_CHUNK, XSORT_MERGE_SPLIT, XSORT_EMIT) in-process: results against a
 * qsort reference written here (typed comparisons in plain C, independent
 * of ops/key_encode.c), inputs sealed and outputs opened with OpenSSL
 * (ta_testlib), the merge kernel against a reference merge, and every
 * refusal: stale, swapped, replayed, truncated or tampered runs, steps off
 * the schedule, bad parameters, a heap too small.
 *
 *   test_ta_external_sort [test_name ...]     (no names: run all)
 */
#include "ta_harness.h"
#include "../cmd/cmd_external_sort.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint8_t key_in[32], key_out[32];

#define START_TYPES TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT, \
				    TEE_PARAM_TYPE_MEMREF_INPUT, \
				    TEE_PARAM_TYPE_VALUE_INPUT, \
				    TEE_PARAM_TYPE_VALUE_OUTPUT)
#define STEP_TYPES TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT, \
				   TEE_PARAM_TYPE_MEMREF_OUTPUT, \
				   TEE_PARAM_TYPE_VALUE_INPUT, \
				   TEE_PARAM_TYPE_VALUE_OUTPUT)
#define EMIT_TYPES TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT, \
				   TEE_PARAM_TYPE_MEMREF_OUTPUT, \
				   TEE_PARAM_TYPE_NONE, \
				   TEE_PARAM_TYPE_VALUE_OUTPUT)

/* ------------------------------------------------ reference comparator */

static const struct ts_sort_key *ref_keys;
static uint32_t ref_nkeys;
static size_t ref_row_size;

static uint64_t load_le(const uint8_t *p, uint32_t w)
{
	uint64_t v = 0;
	uint32_t i;

	for (i = 0; i < w; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int cmp_one(const uint8_t *a, const uint8_t *b,
		   const struct ts_sort_key *k)
{
	const uint8_t *pa = a + k->offset, *pb = b + k->offset;
	int c = 0;

	switch (k->type) {
	case TS_KEY_UINT: {
		uint64_t x = load_le(pa, k->width), y = load_le(pb, k->width);

		c = (x > y) - (x < y);
		break;
	}
	case TS_KEY_INT: {
		uint32_t sh = 64 - 8 * k->width;
		int64_t x = (int64_t)(load_le(pa, k->width) << sh) >> sh;
		int64_t y = (int64_t)(load_le(pb, k->width) << sh) >> sh;

		c = (x > y) - (x < y);
		break;
	}
	case TS_KEY_FLOAT64: {
		double x, y;

		memcpy(&x, pa, 8);
		memcpy(&y, pb, 8);
		if (isnan(x) || isnan(y))
			c = !!isnan(x) - !!isnan(y);
		else
			c = (x > y) - (x < y);
		break;
	}
	case TS_KEY_BYTES:
		c = memcmp(pa, pb, k->width);
		c = (c > 0) - (c < 0);
		break;
	}
	return k->descending ? -c : c;
}

static int ref_cmp_keys(const void *a, const void *b)
{
	uint32_t i;
	int c;

	for (i = 0; i < ref_nkeys; i++) {
		c = cmp_one(a, b, &ref_keys[i]);
		if (c)
			return c;
	}
	return 0;
}

static int ref_cmp_full(const void *a, const void *b)
{
	int c = ref_cmp_keys(a, b);

	return c ? c : memcmp(a, b, ref_row_size);
}

/* ------------------------------------------------------------ the job */

struct xcase {
	uint32_t n_rows, row_size, in_rpb, c, r, out_rpb;
	uint32_t key_count;
	struct ts_sort_key keys[TS_MAX_SORT_KEYS];
};

/* A job in progress, host side. */
struct xhost {
	void *s;
	struct th_table t;
	struct xcase c;
	uint8_t *in;		/* the sealed input table */
	size_t *blk_off;	/* offset of input block i, [block_count] = end */
	uint32_t n_blocks;
	uint32_t runs, steps;
	size_t run_len;
	uint8_t **run;		/* current sealed runs */
};

static struct ts_sort_key key(uint16_t type, uint16_t desc, uint32_t off,
			      uint32_t width)
{
	struct ts_sort_key k = { type, desc, off, width, 0 };

	return k;
}

static void make_request(struct ts_sort_request *req, const struct xcase *c,
			 const struct th_table *t)
{
	memset(req, 0, sizeof(*req));
	req->in_key_slot = 0;
	req->out_key_slot = 1;
	req->rows_per_block = c->out_rpb;
	req->key_count = c->key_count;
	memset(req->out_table_id, 0x6b, sizeof(req->out_table_id));
	req->out_table_version = 91;
	memcpy(req->schema_hash, t->schema_hash, sizeof(req->schema_hash));
	memcpy(req->keys, c->keys, sizeof(req->keys));
}

static TEE_Result start_call(void *s, const struct ts_sort_request *req,
			     const uint8_t table_id[16], uint32_t c, uint32_t r,
			     uint32_t *runs, uint32_t *steps)
{
	TEE_Param p[4];
	TEE_Result res;

	memset(p, 0, sizeof(p));
	p[0].memref.buffer = (void *)req;
	p[0].memref.size = sizeof(*req);
	p[1].memref.buffer = (void *)table_id;
	p[1].memref.size = 16;
	p[2].value.a = c;
	p[2].value.b = r;
	res = th_invoke(s, TA_TEESPARK_CMD_XSORT_START, START_TYPES, p);
	if (runs)
		*runs = p[3].value.a;
	if (steps)
		*steps = p[3].value.b;
	return res;
}

static TEE_Result step_call(void *s, uint32_t cmd, const void *in,
			    size_t in_len, void *out, size_t *out_len,
			    uint32_t a, uint32_t b, TEE_Param *p3)
{
	TEE_Param p[4];
	TEE_Result res;

	memset(p, 0, sizeof(p));
	p[0].memref.buffer = (void *)in;
	p[0].memref.size = in_len;
	p[1].memref.buffer = out;
	p[1].memref.size = *out_len;
	p[2].value.a = a;
	p[2].value.b = b;
	res = th_invoke(s, cmd, cmd == TA_TEESPARK_CMD_XSORT_EMIT ? EMIT_TYPES :
			STEP_TYPES, p);
	*out_len = p[1].memref.size;
	if (p3)
		*p3 = p[3];
	return res;
}

/* Seal and register the input, XSORT_START. */
static TEE_Result xh_start(struct xhost *h, void *s, const struct xcase *c,
			   const uint8_t *rows)
{
	struct ts_sort_request req;
	size_t len, off = 0;
	uint32_t i;
	TEE_Result res;

	memset(h, 0, sizeof(*h));
	h->s = s;
	h->c = *c;
	th_table_random(&h->t, c->row_size);
	len = th_sealed_size(c->n_rows, c->row_size, c->in_rpb);
	h->in = malloc(len);
	th_seal_table(key_in, &h->t, rows, c->n_rows, c->in_rpb, h->in);
	h->n_blocks = c->n_rows ? (c->n_rows + c->in_rpb - 1) / c->in_rpb : 1;
	h->blk_off = calloc(h->n_blocks + 1, sizeof(size_t));
	for (i = 0; i < h->n_blocks; i++) {
		const struct ts_block_header *hd = (const void *)(h->in + off);

		h->blk_off[i] = off;
		off += TS_SEALED_BLOCK_SIZE((size_t)hd->ciphertext_size);
	}
	h->blk_off[h->n_blocks] = off;
	CHECK(off == len);
	res = th_register_table(s, key_in, &h->t, c->n_rows, c->in_rpb, 0);
	if (res != TEE_SUCCESS)
		return res;
	make_request(&req, c, &h->t);
	res = start_call(s, &req, h->t.table_id, c->c, c->r, &h->runs,
			 &h->steps);
	if (res == TEE_SUCCESS)
		h->run = calloc(h->runs, sizeof(uint8_t *));
	return res;
}

/* XSORT_CHUNK j with the right blocks. */
static TEE_Result xh_chunk(struct xhost *h, uint32_t j)
{
	uint32_t first = j * h->c.c, end = first + h->c.c;
	size_t cap = 64u << 20, len = cap;
	uint8_t *out = malloc(cap);
	TEE_Result res;

	if (end > h->n_blocks)
		end = h->n_blocks;
	res = step_call(h->s, TA_TEESPARK_CMD_XSORT_CHUNK,
			h->in + h->blk_off[first],
			h->blk_off[end] - h->blk_off[first], out, &len, j, 0,
			NULL);
	if (res == TEE_SUCCESS) {
		h->run_len = len;
		free(h->run[j]);
		h->run[j] = realloc(out, len);
	} else {
		free(out);
	}
	return res;
}

/* XSORT_MERGE_SPLIT of runs lo, hi as the host holds them. */
static TEE_Result xh_merge(struct xhost *h, uint32_t lo, uint32_t hi,
			   const uint8_t *run_lo, const uint8_t *run_hi,
			   TEE_Param *p3)
{
	size_t len = 2 * h->run_len;
	uint8_t *in = malloc(len), *out = malloc(len);
	TEE_Result res;

	memcpy(in, run_lo, h->run_len);
	memcpy(in + h->run_len, run_hi, h->run_len);
	res = step_call(h->s, TA_TEESPARK_CMD_XSORT_MERGE_SPLIT, in, len, out,
			&len, lo, hi, p3);
	if (res == TEE_SUCCESS) {
		memcpy(h->run[lo], out, h->run_len);
		memcpy(h->run[hi], out + h->run_len, h->run_len);
	}
	free(in);
	free(out);
	return res;
}

/* XSORT_EMIT; *out (malloc'd) = descriptor | blocks. */
static TEE_Result xh_emit(struct xhost *h, uint8_t **out, size_t *out_len,
			  TEE_Param *p3)
{
	size_t len = (size_t)h->runs * h->run_len, i;
	uint8_t *in = malloc(len ? len : 1);
	size_t cap = TS_TABLE_DESCRIPTOR_SIZE +
		     th_sealed_size(h->c.n_rows, h->c.row_size, h->c.out_rpb);
	TEE_Result res;

	for (i = 0; i < h->runs; i++)
		memcpy(in + i * h->run_len, h->run[i], h->run_len);
	*out = malloc(cap);
	*out_len = cap;
	res = step_call(h->s, TA_TEESPARK_CMD_XSORT_EMIT, in, len, *out,
			out_len, 0, 0, p3);
	free(in);
	return res;
}

static void xh_free(struct xhost *h)
{
	uint32_t i;

	for (i = 0; h->run && i < h->runs; i++)
		free(h->run[i]);
	free(h->run);
	free(h->in);
	free(h->blk_off);
	memset(h, 0, sizeof(*h));
}

/* The whole job; checks the output against the reference. */
static void check_xsort(void *s, const struct xcase *c, const uint8_t *rows)
{
	struct xhost h;
	struct xsort_net net;
	uint32_t lo, hi, j, steps = 0;
	size_t row_bytes = (size_t)c->n_rows * c->row_size, i, out_len;
	uint8_t *out = NULL, *got = malloc(row_bytes + 1),
		*want = malloc(row_bytes + 1);
	const struct ts_table_descriptor *d;
	uint32_t nb = 0, unordered = 0;
	TEE_Param p3;
	long n;

	if (!CHECK_RES(xh_start(&h, s, c, rows), TEE_SUCCESS))
		goto out;
	CHECK(h.runs == (h.n_blocks + c->c - 1) / c->c);
	for (j = 0; j < h.runs; j++)
		CHECK_RES(xh_chunk(&h, j), TEE_SUCCESS);
	xsort_net_start(&net, h.runs);
	while (xsort_net_next(&net, &lo, &hi)) {
		CHECK_RES(xh_merge(&h, lo, hi, h.run[lo], h.run[hi], &p3),
			  TEE_SUCCESS);
		steps++;
		CHECK(p3.value.a == h.steps - steps);
	}
	CHECK(steps == h.steps);
	if (!CHECK_RES(xh_emit(&h, &out, &out_len, &p3), TEE_SUCCESS))
		goto out;
	CHECK(p3.value.a == c->n_rows);
	d = (const void *)out;
	CHECK(th_descriptor_verify(key_out, d));
	CHECK(d->row_count == c->n_rows && d->row_size == c->row_size &&
	      d->rows_per_block == c->out_rpb && d->table_version == 91);
	CHECK(memcmp(d->schema_hash, h.t.schema_hash, 32) == 0);
	n = th_open_table(key_out, out + TS_TABLE_DESCRIPTOR_SIZE,
			  out_len - TS_TABLE_DESCRIPTOR_SIZE, got, row_bytes,
			  NULL, 0, &nb);
	if (!CHECK(n == (long)c->n_rows) || !CHECK(nb == d->block_count))
		goto out;
	ref_keys = c->keys;
	ref_nkeys = c->key_count;
	ref_row_size = c->row_size;
	for (i = 1; i < c->n_rows; i++)
		unordered += ref_cmp_keys(got + (i - 1) * c->row_size,
					  got + i * c->row_size) > 0;
	CHECK(unordered == 0);
	memcpy(want, rows, row_bytes);
	qsort(want, c->n_rows, c->row_size, ref_cmp_full);
	qsort(got, c->n_rows, c->row_size, ref_cmp_full);
	CHECK(memcmp(want, got, row_bytes) == 0);
out:
	xh_free(&h);
	free(out);
	free(got);
	free(want);
}

static void *session_with_keys(void)
{
	void *s = th_open_session();

	CHECK_RES(th_install_key(s, 0, key_in), TEE_SUCCESS);
	CHECK_RES(th_install_key(s, 1, key_out), TEE_SUCCESS);
	return s;
}

/* Rows with many ties in the first key: byte 0 in 0..3, a double, bytes. */
static uint8_t *tie_rows(uint32_t n, uint32_t row_size)
{
	uint8_t *rows = malloc((size_t)n * row_size + 1);
	uint32_t i;

	th_rand_bytes(rows, (size_t)n * row_size);
	for (i = 0; i < n; i++) {
		uint8_t *r = rows + (size_t)i * row_size;
		double v = (double)(int)(th_rand64() % 7) - 3.0;

		r[0] &= 3;
		memcpy(r + 8, &v, 8);
		r[16] &= 1;	/* bytes key: ties too */
	}
	return rows;
}

/* ---------------------------------------------------------------- tests */

static void test_xsort_matches_reference(void)
{
	static const struct {
		uint32_t n, in_rpb, c, r, out_rpb;
	} shapes[] = {
		{ 1000, 50, 2, 128, 64 },	/* 10 runs (not a power of two) */
		{ 1000, 50, 1, 64, 1000 },	/* 20 runs, padding in each */
		{ 777, 32, 4, 128, 100 },	/* 7 runs, last one short */
		{ 100, 100, 1, 128, 33 },	/* 1 run: no merge step */
		{ 1, 1, 1, 1, 1 },		/* 1 row */
		{ 0, 10, 1, 16, 10 },		/* empty table */
		{ 513, 1, 3, 4, 7 },		/* 171 runs of 4 records */
	};
	size_t i;

	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		void *s = session_with_keys();
		struct xcase c = { shapes[i].n, 24, shapes[i].in_rpb,
				   shapes[i].c, shapes[i].r, shapes[i].out_rpb,
				   3, { key(TS_KEY_UINT, 0, 0, 1),
					key(TS_KEY_FLOAT64, 1, 8, 8),
					key(TS_KEY_BYTES, 0, 16, 8) } };
		uint8_t *rows = tie_rows(c.n_rows, c.row_size);

		check_xsort(s, &c, rows);
		free(rows);
		th_close_session(s);
	}
}

static void test_xsort_int_keys_descending(void)
{
	void *s = session_with_keys();
	struct xcase c = { 2000, 40, 100, 3, 512, 256, 2,
			   { key(TS_KEY_INT, 1, 4, 4),
			     key(TS_KEY_INT, 0, 20, 8) } };
	uint8_t *rows = tie_rows(c.n_rows, c.row_size);

	check_xsort(s, &c, rows);
	free(rows);
	th_close_session(s);
}

/* The merge kernel alone against a reference merge of two sorted runs. */
static int cmp_rec(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

static void test_xsort_merge_kernel(void)
{
	static const size_t rs[] = { 1, 2, 4, 8, 64, 256 };
	size_t i, k, trial;

	for (i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
		for (trial = 0; trial < 20; trial++) {
			size_t r = rs[i];
			uint64_t *recs = malloc(2 * r * 24), *want = malloc(2 * r * 24);
			int bad = 0;

			for (k = 0; k < 2 * r; k++) {
				recs[3 * k] = th_rand64() % (trial % 3 == 0 ? 2 : 50);
				recs[3 * k + 1] = th_rand64() % 5;
				recs[3 * k + 2] = k;
			}
			qsort(recs, r, 24, cmp_rec);
			qsort(recs + 3 * r, r, 24, cmp_rec);
			memcpy(want, recs, 2 * r * 24);
			qsort(want, 2 * r, 24, cmp_rec);
			xsort_merge_runs((uint8_t *)recs, r, 24, 2);
			for (k = 0; k < 2 * r; k++)
				bad |= recs[3 * k] != want[3 * k] ||
				       recs[3 * k + 1] != want[3 * k + 1];
			/* Same multiset of payloads (record ids). */
			{
				uint64_t sum = 0;

				for (k = 0; k < 2 * r; k++)
					sum += recs[3 * k + 2];
				bad |= sum != 2 * r * (2 * r - 1) / 2;
			}
			CHECK(!bad);
			free(recs);
			free(want);
		}
	}
}

/* The C schedule: every pair once per stage, a sorting network (checked on
 * all 0-1 inputs for small k, with merge-split of single elements). */
static void test_xsort_schedule_sorts_01(void)
{
	uint32_t k;

	for (k = 1; k <= 12; k++) {
		uint32_t x, bad = 0;

		for (x = 0; x < (1u << k); x++) {
			uint8_t v[16];
			struct xsort_net net;
			uint32_t lo, hi, i;

			for (i = 0; i < k; i++)
				v[i] = (x >> i) & 1;
			xsort_net_start(&net, k);
			while (xsort_net_next(&net, &lo, &hi)) {
				if (v[lo] > v[hi]) {
					uint8_t t = v[lo];

					v[lo] = v[hi];
					v[hi] = t;
				}
			}
			for (i = 1; i < k; i++)
				bad |= v[i - 1] > v[i];
		}
		CHECK(bad == 0);
	}
}

static const struct xcase attack_case = {
	600, 24, 50, 2, 128, 100, 1, { { TS_KEY_UINT, 0, 0, 8, 0 } }
};	/* 6 runs */

/* Stale, swapped, replayed, truncated and tampered runs. */
static void test_xsort_rejects_bad_runs(void)
{
	void *s = session_with_keys();
	uint8_t *rows = tie_rows(attack_case.n_rows, attack_case.row_size);
	struct xhost h, other;
	struct xsort_net net;
	uint32_t lo, hi, j, step = 0;
	uint8_t *stale = NULL, *junk;
	uint32_t stale_run = 0;
	TEE_Param p3;
	uint8_t *out;
	size_t out_len;

	CHECK_RES(xh_start(&h, s, &attack_case, rows), TEE_SUCCESS);
	CHECK(h.runs == 6);
	/* Chunks: out of order, wrong blocks, then right. */
	CHECK_RES(xh_chunk(&h, 1), TEE_ERROR_BAD_STATE);
	{
		/* Chunk 0 given chunk 1's blocks. */
		size_t len = 64u << 20;
		uint8_t *o = malloc(len);

		CHECK_RES(step_call(s, TA_TEESPARK_CMD_XSORT_CHUNK,
				    h.in + h.blk_off[2],
				    h.blk_off[4] - h.blk_off[2], o, &len, 0, 0,
				    &p3), TS_ERROR_BLOCK_SEQUENCE);
		CHECK(p3.value.a == 0);
		/* Chunk 0 missing its second block. */
		len = 64u << 20;
		CHECK_RES(step_call(s, TA_TEESPARK_CMD_XSORT_CHUNK,
				    h.in, h.blk_off[1], o, &len, 0, 0, &p3),
			  TS_ERROR_BLOCK_SEQUENCE);
		/* Short output: the size needed. */
		len = 10;
		CHECK_RES(step_call(s, TA_TEESPARK_CMD_XSORT_CHUNK,
				    h.in, h.blk_off[2], o, &len, 0, 0, &p3),
			  TEE_ERROR_SHORT_BUFFER);
		CHECK(len > 10);
		free(o);
	}
	/* EMIT before the merges. */
	CHECK_RES(xh_emit(&h, &out, &out_len, &p3), TEE_ERROR_BAD_STATE);
	free(out);
	for (j = 0; j < h.runs; j++)
		CHECK_RES(xh_chunk(&h, j), TEE_SUCCESS);
	CHECK_RES(xh_chunk(&h, 0), TEE_ERROR_BAD_STATE);	/* chunks done */

	xsort_net_start(&net, h.runs);
	while (xsort_net_next(&net, &lo, &hi)) {
		if (step == 0) {
			/* Off the schedule. */
			CHECK_RES(xh_merge(&h, hi, lo, h.run[hi], h.run[lo],
					   &p3), TEE_ERROR_BAD_STATE);
			/* Swapped runs: lo's place holds hi's run. */
			CHECK_RES(xh_merge(&h, lo, hi, h.run[hi], h.run[lo],
					   &p3), TS_ERROR_BLOCK_SEQUENCE);
			CHECK(p3.value.b == 0);
			/* The same run twice. */
			CHECK_RES(xh_merge(&h, lo, hi, h.run[lo], h.run[lo],
					   &p3), TS_ERROR_BLOCK_SEQUENCE);
			CHECK(p3.value.b == 1);
			/* Tampered ciphertext in run hi, block 0. */
			junk = malloc(h.run_len);
			memcpy(junk, h.run[hi], h.run_len);
			junk[TS_BLOCK_HEADER_SIZE + 5] ^= 1;
			CHECK_RES(xh_merge(&h, lo, hi, h.run[lo], junk, &p3),
				  TS_ERROR_BLOCK_AUTH);
			free(junk);
			/* Keep lo's run at epoch 0 to replay it later. */
			stale = malloc(h.run_len);
			memcpy(stale, h.run[lo], h.run_len);
			stale_run = lo;
		} else if (lo == stale_run || hi == stale_run) {
			/* Replay of an older epoch of the run. */
			CHECK_RES(xh_merge(&h, lo, hi,
					   lo == stale_run ? stale : h.run[lo],
					   hi == stale_run ? stale : h.run[hi],
					   &p3), TS_ERROR_BLOCK_SEQUENCE);
			free(stale);
			stale = NULL;
			stale_run = UINT32_MAX;
		}
		CHECK_RES(xh_merge(&h, lo, hi, h.run[lo], h.run[hi], &p3),
			  TEE_SUCCESS);
		if (step == 0) {
			/* Replaying the step just done is off the schedule. */
			CHECK_RES(xh_merge(&h, lo, hi, h.run[lo], h.run[hi],
					   &p3), TEE_ERROR_BAD_STATE);
		}
		step++;
	}
	CHECK(stale == NULL);
	/* Runs of another job (same session: it replaces this one, so use a
	 * second session) are refused. */
	{
		void *s2 = session_with_keys();

		CHECK_RES(xh_start(&other, s2, &attack_case, rows), TEE_SUCCESS);
		for (j = 0; j < other.runs; j++)
			CHECK_RES(xh_chunk(&other, j), TEE_SUCCESS);
		xsort_net_start(&net, other.runs);
		CHECK(xsort_net_next(&net, &lo, &hi));
		CHECK_RES(xh_merge(&other, lo, hi, h.run[lo], h.run[hi], &p3),
			  TS_ERROR_BLOCK_SEQUENCE);
		xh_free(&other);
		th_close_session(s2);
	}
	/* EMIT: a dropped run, a swapped pair of runs, then the real thing. */
	{
		uint8_t *t = h.run[0];

		h.runs--;	/* host drops the last run */
		CHECK_RES(xh_emit(&h, &out, &out_len, &p3),
			  TS_ERROR_BLOCK_SEQUENCE);
		free(out);
		h.runs++;
		h.run[0] = h.run[1];
		h.run[1] = t;
		CHECK_RES(xh_emit(&h, &out, &out_len, &p3),
			  TS_ERROR_BLOCK_SEQUENCE);
		CHECK(p3.value.b == 0);
		free(out);
		h.run[1] = h.run[0];
		h.run[0] = t;
		CHECK_RES(xh_emit(&h, &out, &out_len, &p3), TEE_SUCCESS);
		CHECK(p3.value.a == attack_case.n_rows);
		free(out);
		/* The job is over. */
		CHECK_RES(xh_emit(&h, &out, &out_len, &p3),
			  TEE_ERROR_BAD_STATE);
		free(out);
	}
	xh_free(&h);
	free(rows);
	th_close_session(s);
}

static void test_xsort_rejects_bad_parameters(void)
{
	void *s = session_with_keys();
	uint8_t *rows = tie_rows(attack_case.n_rows, attack_case.row_size);
	struct ts_sort_request req;
	struct xhost h;
	struct xcase c = attack_case;
	TEE_Param p[4];
	uint8_t unknown[16] = { 1 };

	CHECK_RES(xh_start(&h, s, &c, rows), TEE_SUCCESS);
	make_request(&req, &c, &h.t);
	/* run_rows: not a power of two; below c * rows_per_block; zero. */
	CHECK_RES(start_call(s, &req, h.t.table_id, 2, 120, NULL, NULL),
		  TS_ERROR_BAD_REQUEST);
	CHECK_RES(start_call(s, &req, h.t.table_id, 3, 128, NULL, NULL),
		  TS_ERROR_BAD_REQUEST);
	CHECK_RES(start_call(s, &req, h.t.table_id, 0, 128, NULL, NULL),
		  TS_ERROR_BAD_REQUEST);
	/* A valid START replaces the job. */
	CHECK_RES(start_call(s, &req, h.t.table_id, 1, 64, NULL, NULL),
		  TEE_SUCCESS);
	/* A run that cannot fit any heap (or 32 bits), one that is too big
	 * for this heap. */
	CHECK_RES(start_call(s, &req, h.t.table_id, 2, 1u << 30, NULL, NULL),
		  TS_ERROR_BAD_REQUEST);
	CHECK_RES(start_call(s, &req, h.t.table_id, 2, 1u << 22, NULL, NULL),
		  TEE_ERROR_OUT_OF_MEMORY);
	/* Unknown table; wrong schema; key past the row; empty slot. */
	CHECK_RES(start_call(s, &req, unknown, 2, 128, NULL, NULL),
		  TS_ERROR_TABLE_UNKNOWN);
	req.schema_hash[0] ^= 1;
	CHECK_RES(start_call(s, &req, h.t.table_id, 2, 128, NULL, NULL),
		  TS_ERROR_BAD_REQUEST);
	req.schema_hash[0] ^= 1;
	req.keys[0].offset = 20;
	CHECK_RES(start_call(s, &req, h.t.table_id, 2, 128, NULL, NULL),
		  TS_ERROR_BAD_REQUEST);
	req.keys[0].offset = 0;
	req.out_key_slot = 5;
	CHECK_RES(start_call(s, &req, h.t.table_id, 2, 128, NULL, NULL),
		  TS_ERROR_KEY_SLOT_EMPTY);
	req.out_key_slot = 1;
	/* Parameter types and sizes. */
	memset(p, 0, sizeof(p));
	p[0].memref.buffer = &req;
	p[0].memref.size = sizeof(req) - 1;
	p[1].memref.buffer = h.t.table_id;
	p[1].memref.size = 16;
	p[2].value.a = 2;
	p[2].value.b = 128;
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_XSORT_START, START_TYPES, p),
		  TEE_ERROR_BAD_PARAMETERS);
	p[0].memref.size = sizeof(req);
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_XSORT_START, STEP_TYPES, p),
		  TEE_ERROR_BAD_PARAMETERS);
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_XSORT_CHUNK, START_TYPES, p),
		  TEE_ERROR_BAD_PARAMETERS);
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_XSORT_MERGE_SPLIT, EMIT_TYPES,
			    p), TEE_ERROR_BAD_PARAMETERS);
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_XSORT_EMIT, STEP_TYPES, p),
		  TEE_ERROR_BAD_PARAMETERS);
	xh_free(&h);
	/* No job in a fresh session. */
	th_close_session(s);
	s = session_with_keys();
	memset(p, 0, sizeof(p));
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_XSORT_MERGE_SPLIT, STEP_TYPES,
			    p), TEE_ERROR_BAD_STATE);
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_XSORT_CHUNK, STEP_TYPES, p),
		  TEE_ERROR_BAD_STATE);
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_XSORT_EMIT, EMIT_TYPES, p),
		  TEE_ERROR_BAD_STATE);
	th_close_session(s);
	free(rows);
}

int main(int argc, char **argv)
{
	th_init();
	th_rand_seed(0x5e47);
	th_rand_bytes(key_in, sizeof(key_in));
	th_rand_bytes(key_out, sizeof(key_out));
	RUN_TEST(argc, argv, test_xsort_merge_kernel);
	RUN_TEST(argc, argv, test_xsort_schedule_sorts_01);
	RUN_TEST(argc, argv, test_xsort_matches_reference);
	RUN_TEST(argc, argv, test_xsort_int_keys_descending);
	RUN_TEST(argc, argv, test_xsort_rejects_bad_runs);
	RUN_TEST(argc, argv, test_xsort_rejects_bad_parameters);
	return th_summary("test_ta_external_sort");
}

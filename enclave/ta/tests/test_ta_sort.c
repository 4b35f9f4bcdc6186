/*
 * test_ta_sort.c - TA_TEESPARK_CMD_SORT_BLOCKS in-process: results against a
 * qsort reference written here (typed comparisons in plain C, independent of
 * ops/key_encode.c), the output descriptor (checked with OpenSSL) and the
 * output's registration, request validation, SHORT_BUFFER, tampering, and the
 * out-of-memory path (test_sort_out_of_memory, meaningful with a small heap:
 * TEESPARK_TA_DATA_SIZE=1048576; skipped above 4 MiB).
 *
 *   test_ta_sort [test_name ...]     (no names: run all)
 */
#include "ta_harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SORT_TYPES TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT, \
				   TEE_PARAM_TYPE_MEMREF_OUTPUT, \
				   TEE_PARAM_TYPE_MEMREF_INPUT, \
				   TEE_PARAM_TYPE_VALUE_OUTPUT)

static uint8_t key_in[32], key_out[32];

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
		/* Spark's order: -inf < ... < -0.0 == +0.0 < ... < +inf < NaN,
		 * all NaNs equal (teespark_ta.h, TS_KEY_FLOAT64). */
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

/* Keys, then all bytes: a total order, to compare multisets of rows. */
static int ref_cmp_full(const void *a, const void *b)
{
	int c = ref_cmp_keys(a, b);

	return c ? c : memcmp(a, b, ref_row_size);
}

/* ------------------------------------------------------- running sorts */

struct sort_case {
	uint32_t n_rows, row_size, in_rpb, out_rpb;
	uint32_t key_count;
	struct ts_sort_key keys[TS_MAX_SORT_KEYS];
};

static void make_request(struct ts_sort_request *req, const struct sort_case *c,
			 const struct th_table *t)
{
	memset(req, 0, sizeof(*req));
	req->in_key_slot = 0;
	req->out_key_slot = 1;
	req->rows_per_block = c->out_rpb;
	req->key_count = c->key_count;
	memset(req->out_table_id, 0x5a, sizeof(req->out_table_id));
	req->out_table_version = 77;
	memcpy(req->schema_hash, t->schema_hash, sizeof(req->schema_hash));
	memcpy(req->keys, c->keys, sizeof(req->keys));
}

static TEE_Result sort_call(void *s, const void *in, size_t in_len, void *out,
			    size_t *out_len, const void *req, size_t req_len,
			    TEE_Param *p3)
{
	TEE_Param p[4];
	TEE_Result res;

	memset(p, 0, sizeof(p));
	p[0].memref.buffer = (void *)in;
	p[0].memref.size = in_len;
	p[1].memref.buffer = out;
	p[1].memref.size = *out_len;
	p[2].memref.buffer = (void *)req;
	p[2].memref.size = req_len;
	res = th_invoke(s, TA_TEESPARK_CMD_SORT_BLOCKS, SORT_TYPES, p);
	*out_len = p[1].memref.size;
	if (p3)
		*p3 = p[3];
	return res;
}

/* Seal `rows`, register the table, sort them in the TA, open the result with
 * OpenSSL and check it: descriptor (MAC under key_out, fields), headers,
 * ordered by the reference comparator, same multiset of rows. */
static void check_sort(void *s, const struct sort_case *c, uint8_t *rows)
{
	struct th_table t;
	struct ts_sort_request req;
	size_t row_bytes = (size_t)c->n_rows * c->row_size;
	size_t in_len = th_sealed_size(c->n_rows, c->row_size, c->in_rpb);
	size_t out_cap = TS_TABLE_DESCRIPTOR_SIZE +
			 th_sealed_size(c->n_rows, c->row_size, c->out_rpb);
	size_t out_len = out_cap, i;
	uint32_t n_out = c->n_rows ? (c->n_rows + c->out_rpb - 1) / c->out_rpb : 1;
	uint8_t *in = malloc(in_len), *out = malloc(out_cap);
	uint8_t *got = malloc(row_bytes + 1), *want = malloc(row_bytes + 1);
	struct ts_block_header *h = calloc(n_out, sizeof(*h));
	uint32_t nb = 0, unordered = 0;
	TEE_Param p3;
	long n;

	const struct ts_table_descriptor *d = (const void *)out;

	th_table_random(&t, c->row_size);
	CHECK(th_seal_table(key_in, &t, rows, c->n_rows, c->in_rpb, in) ==
	      in_len);
	CHECK_RES(th_register_table(s, key_in, &t, c->n_rows, c->in_rpb, 0),
		  TEE_SUCCESS);
	make_request(&req, c, &t);
	CHECK_RES(sort_call(s, in, in_len, out, &out_len, &req, sizeof(req),
			    &p3), TEE_SUCCESS);
	CHECK(out_len == out_cap);
	CHECK(p3.value.a == c->n_rows);
	CHECK(p3.value.b == n_out);
	/* The output descriptor, before the blocks. */
	CHECK(th_descriptor_verify(key_out, d));
	CHECK(!th_descriptor_verify(key_in, d));
	CHECK(d->magic == TS_DESCRIPTOR_MAGIC && d->format_version == 1 &&
	      d->descriptor_size == TS_TABLE_DESCRIPTOR_SIZE && !d->reserved);
	CHECK(memcmp(d->table_id, req.out_table_id, 16) == 0);
	CHECK(d->table_version == 77 && d->row_count == c->n_rows &&
	      d->block_count == n_out && d->row_size == c->row_size &&
	      d->rows_per_block == c->out_rpb);
	CHECK(memcmp(d->schema_hash, t.schema_hash, 32) == 0);
	n = th_open_table(key_out, out + TS_TABLE_DESCRIPTOR_SIZE,
			  out_len - TS_TABLE_DESCRIPTOR_SIZE, got, row_bytes,
			  h, n_out, &nb);
	if (!CHECK(n == (long)c->n_rows) || !CHECK(nb == n_out))
		goto out;
	for (i = 0; i < nb; i++) {
		uint32_t want_rows = c->n_rows - (uint32_t)i * c->out_rpb;

		if (want_rows > c->out_rpb)
			want_rows = c->out_rpb;
		if (c->n_rows == 0)
			want_rows = 0;
		CHECK(memcmp(h[i].table_id, req.out_table_id, 16) == 0);
		CHECK(h[i].table_version == 77);
		CHECK(h[i].block_index == i && h[i].block_count == n_out);
		CHECK(h[i].row_count == want_rows);
		CHECK(h[i].row_size == c->row_size);
		CHECK(memcmp(h[i].schema_hash, t.schema_hash, 32) == 0);
	}
	ref_keys = c->keys;
	ref_nkeys = c->key_count;
	ref_row_size = c->row_size;
	for (i = 1; i < c->n_rows; i++)
		unordered += ref_cmp_keys(got + (i - 1) * c->row_size,
					  got + i * c->row_size) > 0;
	CHECK(unordered == 0);
	/* Same rows: sort both by (keys, bytes) and compare. */
	memcpy(want, rows, row_bytes);
	qsort(want, c->n_rows, c->row_size, ref_cmp_full);
	qsort(got, c->n_rows, c->row_size, ref_cmp_full);
	CHECK(memcmp(want, got, row_bytes) == 0);
out:
	free(in);
	free(out);
	free(got);
	free(want);
	free(h);
}

static void *session_with_keys(void)
{
	void *s = th_open_session();

	CHECK_RES(th_install_key(s, 0, key_in), TEE_SUCCESS);
	CHECK_RES(th_install_key(s, 1, key_out), TEE_SUCCESS);
	return s;
}

static struct ts_sort_key key(uint16_t type, uint16_t desc, uint32_t off,
			      uint32_t width)
{
	struct ts_sort_key k = { type, desc, off, width, 0 };

	return k;
}

static void put_le(uint8_t *p, uint64_t v, uint32_t w)
{
	uint32_t i;

	for (i = 0; i < w; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ---------------------------------------------------------------- tests */

static void test_sort_uint64_ascending(void)
{
	void *s = session_with_keys();
	struct sort_case c = { 1000, 24, 100, 128, 1, { key(TS_KEY_UINT, 0, 8, 8) } };
	uint8_t *rows = malloc(1000 * 24);

	th_rand_bytes(rows, 1000 * 24);
	check_sort(s, &c, rows);
	free(rows);
	th_close_session(s);
}

static void test_sort_int32_descending_with_duplicates(void)
{
	void *s = session_with_keys();
	struct sort_case c = { 777, 12, 64, 50, 1, { key(TS_KEY_INT, 1, 4, 4) } };
	uint8_t *rows = malloc(777 * 12);
	uint32_t i;

	th_rand_bytes(rows, 777 * 12);
	for (i = 0; i < 777; i++)
		put_le(rows + i * 12 + 4,
		       (uint64_t)(int64_t)((int32_t)(th_rand64() % 7) - 3), 4);
	check_sort(s, &c, rows);
	free(rows);
	th_close_session(s);
}

static void test_sort_float64_special_values(void)
{
	static const double specials[] = { 0.0, -0.0, 1.0, -1.0, INFINITY,
		-INFINITY, NAN, -NAN, 5e-324, -5e-324, 1e308, -1e308, 0.5 };
	const size_t ns = sizeof(specials) / sizeof(specials[0]);
	void *s = session_with_keys();
	/* A second key decides between values the first calls equal
	 * (-0.0 and +0.0, NaNs of any payload), so an encoder that orders
	 * them gives a wrong result. */
	struct sort_case c = { 301, 16, 37, 301, 2,
			       { key(TS_KEY_FLOAT64, 0, 0, 8),
				 key(TS_KEY_UINT, 0, 8, 2) } };
	uint8_t *rows = malloc(301 * 16);
	uint32_t i;
	int d;

	for (d = 0; d < 2; d++) {
		c.keys[0].descending = (uint16_t)d;
		th_rand_bytes(rows, 301 * 16);
		for (i = 0; i < 301; i++) {
			double v = (i % 3) ? specials[th_rand64() % ns] :
					     (double)(int64_t)th_rand64() / 1e9;

			if (i % 17 == 0) {	/* a NaN with another payload */
				uint64_t bits = 0x7ff0000000000001ull |
						(th_rand64() & 0x800fffffffffffffull);
				memcpy(&v, &bits, 8);
			}
			memcpy(rows + i * 16, &v, 8);
		}
		check_sort(s, &c, rows);
	}
	free(rows);
	th_close_session(s);
}

static void test_sort_multi_key_bytes_then_uint16_desc(void)
{
	void *s = session_with_keys();
	struct sort_case c = { 500, 40, 33, 64, 3,
			       { key(TS_KEY_BYTES, 0, 3, 13),
				 key(TS_KEY_UINT, 1, 20, 2),
				 key(TS_KEY_INT, 0, 32, 8) } };
	uint8_t *rows = malloc(500 * 40);
	uint32_t i;

	th_rand_bytes(rows, 500 * 40);
	/* Few distinct prefixes, so later keys decide often. */
	for (i = 0; i < 500; i++) {
		memset(rows + i * 40 + 3, 'a' + (int)(th_rand64() % 3), 13);
		rows[i * 40 + 21] = (uint8_t)(th_rand64() % 2);
	}
	check_sort(s, &c, rows);
	free(rows);
	th_close_session(s);
}

static void test_sort_small_widths_and_unaligned_rows(void)
{
	void *s = session_with_keys();
	/* row_size 13 (not a multiple of 8), the last key ends the row. */
	struct sort_case c = { 257, 13, 16, 10, 4,
			       { key(TS_KEY_UINT, 0, 0, 1),
				 key(TS_KEY_INT, 1, 1, 1),
				 key(TS_KEY_INT, 0, 2, 2),
				 key(TS_KEY_BYTES, 1, 4, 9) } };
	uint8_t *rows = malloc(257 * 13);
	uint32_t i;

	th_rand_bytes(rows, 257 * 13);
	for (i = 0; i < 257; i++) {
		rows[i * 13] &= 3;
		rows[i * 13 + 1] = (uint8_t)(int8_t)((int)(th_rand64() % 5) - 2);
	}
	check_sort(s, &c, rows);
	free(rows);
	th_close_session(s);
}

static void test_sort_zero_and_one_row(void)
{
	void *s = session_with_keys();
	struct sort_case c = { 0, 8, 4, 4, 1, { key(TS_KEY_UINT, 0, 0, 8) } };
	uint8_t row[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	check_sort(s, &c, row);
	c.n_rows = 1;
	check_sort(s, &c, row);
	th_close_session(s);
}

static void test_sort_one_row_per_block_non_power_of_two(void)
{
	void *s = session_with_keys();
	struct sort_case c = { 65, 8, 1, 1, 1, { key(TS_KEY_UINT, 1, 0, 4) } };
	uint8_t rows[65 * 8];

	th_rand_bytes(rows, sizeof(rows));
	check_sort(s, &c, rows);
	c.in_rpb = 7;
	c.out_rpb = 1000;	/* larger than the table: one block */
	check_sort(s, &c, rows);
	th_close_session(s);
}

static void test_sort_already_sorted_and_reversed(void)
{
	void *s = session_with_keys();
	struct sort_case c = { 1023, 8, 100, 100, 1,
			       { key(TS_KEY_UINT, 0, 0, 8) } };
	uint8_t *rows = malloc(1023 * 8);
	uint32_t i;

	for (i = 0; i < 1023; i++)
		put_le(rows + i * 8, i, 8);
	check_sort(s, &c, rows);
	for (i = 0; i < 1023; i++)
		put_le(rows + i * 8, 1023 - i, 8);
	check_sort(s, &c, rows);
	free(rows);
	th_close_session(s);
}

/* Run one request against a small valid table; return the result. */
static TEE_Result try_request(void *s, const struct ts_sort_request *req,
			      size_t req_len, const uint8_t *in, size_t in_len,
			      TEE_Param *p3)
{
	size_t out_len = 2 * in_len + (1 << 16);	/* room for any test */
	uint8_t *out = malloc(out_len);
	TEE_Result r = sort_call(s, in, in_len, out, &out_len, req, req_len,
				 p3);

	free(out);
	return r;
}

static void test_sort_rejects_bad_requests(void)
{
	void *s = session_with_keys();
	struct sort_case c = { 20, 16, 10, 10, 1, { key(TS_KEY_UINT, 0, 0, 8) } };
	struct th_table t;
	struct ts_sort_request good, r;
	uint8_t rows[20 * 16], in[2 * (96 + 16) + 20 * 16];
	size_t in_len = th_sealed_size(20, 16, 10);
	TEE_Param p3, p[4];

	th_rand_bytes(rows, sizeof(rows));
	th_table_random(&t, 16);
	th_seal_table(key_in, &t, rows, 20, 10, in);
	CHECK_RES(th_register_table(s, key_in, &t, 20, 10, 0), TEE_SUCCESS);
	make_request(&good, &c, &t);
	CHECK_RES(try_request(s, &good, sizeof(good), in, in_len, &p3),
		  TEE_SUCCESS);

#define BAD(mutation, want) do { \
		r = good; \
		mutation; \
		CHECK_RES(try_request(s, &r, sizeof(r), in, in_len, &p3), \
			  want); \
	} while (0)
	BAD(r.key_count = 0, TS_ERROR_BAD_REQUEST);
	BAD(r.key_count = TS_MAX_SORT_KEYS + 1, TS_ERROR_BAD_REQUEST);
	BAD(r.keys[0].type = 5, TS_ERROR_BAD_REQUEST);
	BAD(r.keys[0].type = 0, TS_ERROR_BAD_REQUEST);
	BAD(r.keys[0].width = 3, TS_ERROR_BAD_REQUEST);
	BAD((r.keys[0].type = TS_KEY_FLOAT64, r.keys[0].width = 4),
	    TS_ERROR_BAD_REQUEST);
	BAD((r.keys[0].type = TS_KEY_BYTES, r.keys[0].width = 0),
	    TS_ERROR_BAD_REQUEST);
	BAD((r.keys[0].type = TS_KEY_BYTES, r.keys[0].width = 257),
	    TS_ERROR_BAD_REQUEST);
	BAD(r.keys[0].offset = 9, TS_ERROR_BAD_REQUEST);	/* 9 + 8 > 16 */
	BAD(r.keys[0].offset = 0xfffffffcu, TS_ERROR_BAD_REQUEST);
	BAD(r.keys[0].descending = 2, TS_ERROR_BAD_REQUEST);
	BAD(r.keys[0].reserved = 1, TS_ERROR_BAD_REQUEST);
	BAD(r.keys[1].width = 8, TS_ERROR_BAD_REQUEST);	/* unused, not zero */
	BAD(r.rows_per_block = 0, TS_ERROR_BAD_REQUEST);
	BAD(r.rows_per_block = TS_MAX_BLOCK_PLAINTEXT / 16 + 1, TEE_SUCCESS);
	BAD(r.in_key_slot = TS_MAX_KEY_SLOTS, TS_ERROR_BAD_REQUEST);
	BAD(r.out_key_slot = TS_MAX_KEY_SLOTS, TS_ERROR_BAD_REQUEST);
	BAD(r.out_key_slot = 5, TS_ERROR_KEY_SLOT_EMPTY);
	/* Not the slot the table was registered with. */
	BAD(r.in_key_slot = 1, TS_ERROR_TABLE_UNKNOWN);
	BAD(r.schema_hash[31] ^= 1, TS_ERROR_BLOCK_SEQUENCE);
	CHECK(p3.value.a == 0);
#undef BAD
	/* Request memref of the wrong size; wrong parameter types. */
	CHECK_RES(try_request(s, &good, sizeof(good) - 1, in, in_len, &p3),
		  TEE_ERROR_BAD_PARAMETERS);
	memset(p, 0, sizeof(p));
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_SORT_BLOCKS,
			    TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					    TEE_PARAM_TYPE_MEMREF_OUTPUT,
					    TEE_PARAM_TYPE_VALUE_INPUT,
					    TEE_PARAM_TYPE_VALUE_OUTPUT), p),
		  TEE_ERROR_BAD_PARAMETERS);
	th_close_session(s);
}

static void test_sort_rejects_blocks_over_plaintext_limit(void)
{
	void *s = session_with_keys();
	struct sort_case c = { 65, 65536, 16, 65, 1,
			       { key(TS_KEY_UINT, 0, 0, 8) } };
	struct th_table t;
	struct ts_sort_request r;
	size_t in_len = th_sealed_size(65, 65536, 16);
	uint8_t *rows = calloc(65, 65536), *in = malloc(in_len);
	TEE_Param p3;

	th_table_random(&t, 65536);
	th_seal_table(key_in, &t, rows, 65, 16, in);
	CHECK_RES(th_register_table(s, key_in, &t, 65, 16, 0), TEE_SUCCESS);
	make_request(&r, &c, &t);
	/* 65 rows of 64 KiB in one output block exceed 4 MiB ... */
	CHECK_RES(try_request(s, &r, sizeof(r), in, in_len, &p3),
		  TS_ERROR_BAD_REQUEST);
	/* ... and so does any larger capacity (the table fills it). */
	r.rows_per_block = 1000;
	CHECK_RES(try_request(s, &r, sizeof(r), in, in_len, &p3),
		  TS_ERROR_BAD_REQUEST);
	free(rows);
	free(in);
	th_close_session(s);
}

static void test_sort_short_buffer_reports_size(void)
{
	void *s = session_with_keys();
	struct sort_case c = { 100, 16, 30, 40, 1, { key(TS_KEY_UINT, 0, 0, 8) } };
	struct th_table t;
	struct ts_sort_request r;
	uint8_t rows[100 * 16];
	size_t in_len = th_sealed_size(100, 16, 30);
	size_t need = TS_TABLE_DESCRIPTOR_SIZE + th_sealed_size(100, 16, 40);
	size_t len;
	uint8_t *in = malloc(in_len), *out = malloc(need);

	th_rand_bytes(rows, sizeof(rows));
	th_table_random(&t, 16);
	th_seal_table(key_in, &t, rows, 100, 30, in);
	CHECK_RES(th_register_table(s, key_in, &t, 100, 30, 0), TEE_SUCCESS);
	make_request(&r, &c, &t);
	len = 0;
	CHECK_RES(sort_call(s, in, in_len, NULL, &len, &r, sizeof(r), NULL),
		  TEE_ERROR_SHORT_BUFFER);
	CHECK(len == need);
	len = need - 1;
	CHECK_RES(sort_call(s, in, in_len, out, &len, &r, sizeof(r), NULL),
		  TEE_ERROR_SHORT_BUFFER);
	CHECK(len == need);
	CHECK_RES(sort_call(s, in, in_len, out, &len, &r, sizeof(r), NULL),
		  TEE_SUCCESS);
	CHECK(len == need);
	free(in);
	free(out);
	th_close_session(s);
}

static void test_sort_tamper_reports_block(void)
{
	void *s = session_with_keys();
	struct sort_case c = { 40, 16, 10, 10, 1, { key(TS_KEY_UINT, 0, 0, 8) } };
	struct th_table t;
	struct ts_sort_request r;
	uint8_t rows[40 * 16];
	size_t in_len = th_sealed_size(40, 16, 10), bs = 96 + 160 + 16;
	uint8_t *in = malloc(in_len), *bad = malloc(in_len);
	TEE_Param p3;

	th_rand_bytes(rows, sizeof(rows));
	th_table_random(&t, 16);
	th_seal_table(key_in, &t, rows, 40, 10, in);
	CHECK_RES(th_register_table(s, key_in, &t, 40, 10, 0), TEE_SUCCESS);
	make_request(&r, &c, &t);

	memcpy(bad, in, in_len);
	bad[2 * bs + 96 + 5] ^= 4;		/* ciphertext of block 2 */
	CHECK_RES(try_request(s, &r, sizeof(r), bad, in_len, &p3),
		  TS_ERROR_BLOCK_AUTH);
	CHECK(p3.value.a == 2);
	memcpy(bad, in, in_len);
	bad[3 * bs + 96 + 160] ^= 1;		/* tag of block 3 */
	CHECK_RES(try_request(s, &r, sizeof(r), bad, in_len, &p3),
		  TS_ERROR_BLOCK_AUTH);
	CHECK(p3.value.a == 3);
	memcpy(bad, in, bs);			/* blocks 0, 2, 1, 3 */
	memcpy(bad + bs, in + 2 * bs, bs);
	memcpy(bad + 2 * bs, in + bs, bs);
	memcpy(bad + 3 * bs, in + 3 * bs, bs);
	CHECK_RES(try_request(s, &r, sizeof(r), bad, in_len, &p3),
		  TS_ERROR_BLOCK_SEQUENCE);
	CHECK(p3.value.a == 1);
	CHECK_RES(try_request(s, &r, sizeof(r), in, in_len - 3, &p3),
		  TS_ERROR_BLOCK_FORMAT);
	CHECK(p3.value.a == 3);
	CHECK_RES(try_request(s, &r, sizeof(r), in, 3 * bs, &p3),
		  TS_ERROR_BLOCK_SEQUENCE);
	CHECK(p3.value.a == 3);
	CHECK_RES(try_request(s, &r, sizeof(r), in, in_len, &p3), TEE_SUCCESS);
	free(in);
	free(bad);
	th_close_session(s);
}

/* With a small heap: records that do not fit give OUT_OF_MEMORY, and the
 * heap is whole again afterwards (a sort using most of it succeeds). */
static void test_sort_out_of_memory(void)
{
	void *s = session_with_keys();
	TEE_Param p[4];
	struct sort_case c = { 0, 16, 4096, 4096, 1,
			       { key(TS_KEY_UINT, 0, 0, 8) } };
	uint32_t heap;
	uint8_t *rows;

	memset(p, 0, sizeof(p));
	th_invoke(s, TA_TEESPARK_CMD_GET_INFO,
		  TEE_PARAM_TYPES(TEE_PARAM_TYPE_VALUE_OUTPUT,
				  TEE_PARAM_TYPE_VALUE_OUTPUT,
				  TEE_PARAM_TYPE_NONE, TEE_PARAM_TYPE_NONE), p);
	heap = p[1].value.a * 1024u;
	if (heap > 4u * 1024 * 1024) {
		fprintf(stderr, "skip test_sort_out_of_memory: heap %u KiB "
			"(run with TEESPARK_TA_DATA_SIZE=1048576)\n", heap / 1024);
		th_close_session(s);
		return;
	}
	/* 24-byte records: 2x the heap in records. */
	c.n_rows = heap / 12;
	rows = malloc((size_t)c.n_rows * 16);
	th_rand_bytes(rows, (size_t)c.n_rows * 16);
	{
		struct th_table t;
		struct ts_sort_request r;
		size_t in_len = th_sealed_size(c.n_rows, 16, 4096);
		uint8_t *in = malloc(in_len);
		TEE_Param p3;

		th_table_random(&t, 16);
		th_seal_table(key_in, &t, rows, c.n_rows, 4096, in);
		CHECK_RES(th_register_table(s, key_in, &t, c.n_rows, 4096, 0),
			  TEE_SUCCESS);
		make_request(&r, &c, &t);
		CHECK_RES(try_request(s, &r, sizeof(r), in, in_len, &p3),
			  TEE_ERROR_OUT_OF_MEMORY);
		free(in);
	}
	/* Records of ~60% of the heap plus one 64 KiB block. */
	c.n_rows = (uint32_t)((uint64_t)heap * 6 / 10 / 24);
	check_sort(s, &c, rows);
	free(rows);
	th_close_session(s);
}

int main(int argc, char **argv)
{
	th_init();
	th_rand_seed(0x5eed0002);
	th_rand_bytes(key_in, 32);
	th_rand_bytes(key_out, 32);
	RUN_TEST(argc, argv, test_sort_uint64_ascending);
	RUN_TEST(argc, argv, test_sort_int32_descending_with_duplicates);
	RUN_TEST(argc, argv, test_sort_float64_special_values);
	RUN_TEST(argc, argv, test_sort_multi_key_bytes_then_uint16_desc);
	RUN_TEST(argc, argv, test_sort_small_widths_and_unaligned_rows);
	RUN_TEST(argc, argv, test_sort_zero_and_one_row);
	RUN_TEST(argc, argv, test_sort_one_row_per_block_non_power_of_two);
	RUN_TEST(argc, argv, test_sort_already_sorted_and_reversed);
	RUN_TEST(argc, argv, test_sort_rejects_bad_requests);
	RUN_TEST(argc, argv, test_sort_rejects_blocks_over_plaintext_limit);
	RUN_TEST(argc, argv, test_sort_short_buffer_reports_size);
	RUN_TEST(argc, argv, test_sort_tamper_reports_block);
	RUN_TEST(argc, argv, test_sort_out_of_memory);
	TA_DestroyEntryPoint();
	return th_summary("test_ta_sort");
}

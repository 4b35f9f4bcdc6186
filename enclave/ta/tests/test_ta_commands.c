/*
 * test_ta_commands.c - the teespark TA's commands, in-process: GET_INFO, the
 * key slot commands, RESEAL_BLOCKS on registered tables (round trip against
 * OpenSSL, parameter checks, SHORT_BUFFER protocol, tampering, sequence
 * errors) and block_gcm's own contract (output zeroed on a tag mismatch).
 * REGISTER_TABLE itself and the tamper matrix against registered tables
 * are in test_ta_tables.c.
 *
 *   test_ta_commands [test_name ...]     (no names: run all)
 */
#include "ta_harness.h"

#include <stdlib.h>
#include <string.h>

#include "../crypto/block_gcm.h"

#define PT_NONE TEE_PARAM_TYPE_NONE
#define PT_VIN TEE_PARAM_TYPE_VALUE_INPUT
#define PT_VOUT TEE_PARAM_TYPE_VALUE_OUTPUT
#define PT_MIN TEE_PARAM_TYPE_MEMREF_INPUT
#define PT_MOUT TEE_PARAM_TYPE_MEMREF_OUTPUT

#define RESEAL_TYPES TEE_PARAM_TYPES(PT_MIN, PT_MOUT, PT_VIN, PT_VOUT)

static const uint8_t key0[32] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
	0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22,
	0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e,
	0x2f };
static const uint8_t key1[32] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6,
	0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2,
	0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe,
	0xbf };

/* A sealed test table: rows, and their blocks under key0. */
struct fixture {
	struct th_table t;
	uint32_t n_rows, rows_per_block;
	uint8_t *rows;
	uint8_t *sealed;
	size_t sealed_len;
};

static void fixture_make(struct fixture *f, uint32_t n_rows, uint32_t row_size,
			 uint32_t rows_per_block)
{
	th_table_random(&f->t, row_size);
	f->n_rows = n_rows;
	f->rows_per_block = rows_per_block;
	f->rows = malloc((size_t)n_rows * row_size + 1);
	th_rand_bytes(f->rows, (size_t)n_rows * row_size);
	f->sealed_len = th_sealed_size(n_rows, row_size, rows_per_block);
	f->sealed = malloc(f->sealed_len);
	CHECK(th_seal_table(key0, &f->t, f->rows, n_rows, rows_per_block,
			    f->sealed) == f->sealed_len);
}

/* REGISTER_TABLE of the fixture's table (descriptor MAC'd under `key`). */
static void fixture_register(void *s, const struct fixture *f,
			     const uint8_t key[32], uint32_t slot)
{
	CHECK_RES(th_register_table(s, key, &f->t, f->n_rows,
				    f->rows_per_block, slot), TEE_SUCCESS);
}

static void fixture_free(struct fixture *f)
{
	free(f->rows);
	free(f->sealed);
}

/* Offset of block i in a fixture (all blocks but the last are full). */
static size_t block_off(const struct fixture *f, uint32_t i)
{
	return (size_t)i * TS_SEALED_BLOCK_SIZE((size_t)f->rows_per_block *
						f->t.row_size);
}

static TEE_Result reseal(void *sess, const void *in, size_t in_len, void *out,
			 size_t *out_len, uint32_t in_slot, uint32_t out_slot,
			 TEE_Param *p3)
{
	TEE_Param p[4];
	TEE_Result res;

	memset(p, 0, sizeof(p));
	p[0].memref.buffer = (void *)in;
	p[0].memref.size = in_len;
	p[1].memref.buffer = out;
	p[1].memref.size = *out_len;
	p[2].value.a = in_slot;
	p[2].value.b = out_slot;
	p[3].value.a = 0xdeadbeef;
	res = th_invoke(sess, TA_TEESPARK_CMD_RESEAL_BLOCKS, RESEAL_TYPES, p);
	*out_len = p[1].memref.size;
	if (p3)
		*p3 = p[3];
	return res;
}

/* Reseal `in` (slot 0 -> slot 1) and return the result and failing index. */
static TEE_Result reseal_expect(void *sess, const uint8_t *in, size_t in_len,
				uint32_t *index)
{
	size_t out_len = in_len + 4096;
	uint8_t *out = malloc(out_len);
	TEE_Param p3;
	TEE_Result res = reseal(sess, in, in_len, out, &out_len, 0, 1, &p3);

	*index = p3.value.a;
	free(out);
	return res;
}

static void *session_with_keys(void)
{
	void *s = th_open_session();

	CHECK_RES(th_install_key(s, 0, key0), TEE_SUCCESS);
	CHECK_RES(th_install_key(s, 1, key1), TEE_SUCCESS);
	return s;
}

/* ------------------------------------------------------------------ */

static void test_get_info_reports_abi_and_limits(void)
{
	void *s = th_open_session();
	TEE_Param p[4];
	const char *env = getenv("TEESPARK_TA_DATA_SIZE");
	uint32_t want_kib = env ? (uint32_t)(strtoull(env, NULL, 0) / 1024) :
				  32 * 1024;

	memset(p, 0, sizeof(p));
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_GET_INFO,
			    TEE_PARAM_TYPES(PT_VOUT, PT_VOUT, PT_NONE, PT_NONE),
			    p), TEE_SUCCESS);
	CHECK(p[0].value.a == TA_TEESPARK_ABI_VERSION);
	CHECK(p[0].value.b == TS_MAX_KEY_SLOTS);
	CHECK(p[1].value.a == want_kib);
	CHECK(p[1].value.b == TS_MAX_BLOCK_PLAINTEXT);
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_GET_INFO,
			    TEE_PARAM_TYPES(PT_VOUT, PT_NONE, PT_NONE, PT_NONE),
			    p), TEE_ERROR_BAD_PARAMETERS);
	th_close_session(s);
}

static void test_unknown_command_not_supported(void)
{
	void *s = th_open_session();
	TEE_Param p[4];

	memset(p, 0, sizeof(p));
	/* 13 is STREAM; ids up to 23 are assigned or reserved, so probe
	 * one far from any section. */
	CHECK_RES(th_invoke(s, 1000, 0, p), TEE_ERROR_NOT_SUPPORTED);
	CHECK_RES(th_invoke(s, 0xffffffffu, 0, p), TEE_ERROR_NOT_SUPPORTED);
	th_close_session(s);
}

static void test_key_commands_check_params(void)
{
	void *s = th_open_session();
	uint8_t k[40] = { 0 };
	TEE_Param p[4];
	const uint32_t install = TEE_PARAM_TYPES(PT_VIN, PT_MIN, PT_NONE,
						 PT_NONE);
	const uint32_t one_value = TEE_PARAM_TYPES(PT_VIN, PT_NONE, PT_NONE,
						   PT_NONE);

	memset(p, 0, sizeof(p));
	p[1].memref.buffer = k;
	p[1].memref.size = 31;
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_INSTALL_DEV_KEY, install, p),
		  TEE_ERROR_BAD_PARAMETERS);
	p[1].memref.size = 33;
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_INSTALL_DEV_KEY, install, p),
		  TEE_ERROR_BAD_PARAMETERS);
	p[1].memref.size = 32;
	p[0].value.a = TS_MAX_KEY_SLOTS;
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_INSTALL_DEV_KEY, install, p),
		  TEE_ERROR_BAD_PARAMETERS);
	p[0].value.a = TS_MAX_KEY_SLOTS - 1;
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_INSTALL_DEV_KEY, install, p),
		  TEE_SUCCESS);
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_INSTALL_DEV_KEY,
			    TEE_PARAM_TYPES(PT_VIN, PT_MOUT, PT_NONE, PT_NONE),
			    p), TEE_ERROR_BAD_PARAMETERS);

	p[0].value.a = TS_MAX_KEY_SLOTS;
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_NEW_QUERY_KEY, one_value, p),
		  TEE_ERROR_BAD_PARAMETERS);
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_CLEAR_KEY, one_value, p),
		  TEE_ERROR_BAD_PARAMETERS);
	p[0].value.a = 3;
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_NEW_QUERY_KEY,
			    TEE_PARAM_TYPES(PT_VOUT, PT_NONE, PT_NONE, PT_NONE),
			    p), TEE_ERROR_BAD_PARAMETERS);
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_CLEAR_KEY, install, p),
		  TEE_ERROR_BAD_PARAMETERS);
	/* Clearing an empty slot is not an error. */
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_CLEAR_KEY, one_value, p),
		  TEE_SUCCESS);
	th_close_session(s);
}

static void test_reseal_roundtrip_matches_openssl(void)
{
	void *s = session_with_keys();
	struct fixture f;
	struct ts_block_header hin[8], hout[8];
	uint8_t *out, *rows;
	size_t out_len;
	uint32_t nb = 0, i;
	TEE_Param p3;

	fixture_make(&f, 1000, 24, 300);	/* 4 blocks, last one short */
	fixture_register(s, &f, key0, 0);
	out_len = f.sealed_len;
	out = malloc(out_len);
	rows = malloc((size_t)f.n_rows * f.t.row_size);
	CHECK_RES(reseal(s, f.sealed, f.sealed_len, out, &out_len, 0, 1, &p3),
		  TEE_SUCCESS);
	CHECK(out_len == f.sealed_len);
	CHECK(p3.value.a != 0xdeadbeef);
	/* Output opens under key1 only, to the same rows and headers. */
	CHECK(th_open_table(key0, out, out_len, rows, (size_t)f.n_rows * 24,
			    NULL, 0, NULL) < 0);
	CHECK(th_open_table(key1, out, out_len, rows, (size_t)f.n_rows * 24,
			    hout, 8, &nb) == 1000);
	CHECK(nb == 4);
	CHECK(memcmp(rows, f.rows, (size_t)f.n_rows * 24) == 0);
	CHECK(th_open_table(key0, f.sealed, f.sealed_len, rows,
			    (size_t)f.n_rows * 24, hin, 8, NULL) == 1000);
	for (i = 0; i < nb; i++) {
		CHECK(memcmp(hin[i].nonce, hout[i].nonce, TS_NONCE_SIZE) != 0);
		memcpy(hout[i].nonce, hin[i].nonce, TS_NONCE_SIZE);
		CHECK(memcmp(&hin[i], &hout[i], sizeof(hin[i])) == 0);
	}
	free(out);
	free(rows);
	fixture_free(&f);
	th_close_session(s);
}

static void test_reseal_same_slot_gives_fresh_nonces(void)
{
	void *s = session_with_keys();
	struct fixture f;
	uint8_t *a, *b, *rows;
	size_t la, lb;

	fixture_make(&f, 50, 8, 50);
	fixture_register(s, &f, key0, 0);
	la = lb = f.sealed_len;
	a = malloc(la);
	b = malloc(lb);
	rows = malloc(50 * 8);
	CHECK_RES(reseal(s, f.sealed, f.sealed_len, a, &la, 0, 0, NULL),
		  TEE_SUCCESS);
	CHECK_RES(reseal(s, f.sealed, f.sealed_len, b, &lb, 0, 0, NULL),
		  TEE_SUCCESS);
	/* Same rows, same key: the ciphertexts still differ. */
	CHECK(memcmp(a + TS_BLOCK_HEADER_SIZE, b + TS_BLOCK_HEADER_SIZE,
		     50 * 8) != 0);
	CHECK(th_open_table(key0, a, la, rows, 400, NULL, 0, NULL) == 50);
	CHECK(memcmp(rows, f.rows, 400) == 0);
	CHECK(th_open_table(key0, b, lb, rows, 400, NULL, 0, NULL) == 50);
	CHECK(memcmp(rows, f.rows, 400) == 0);
	free(a);
	free(b);
	free(rows);
	fixture_free(&f);
	th_close_session(s);
}

static void test_new_query_key_is_usable_and_secret(void)
{
	void *s = session_with_keys();
	struct fixture f;
	uint8_t *mid, *out, *rows;
	size_t lm, lo;
	TEE_Param p[4];

	fixture_make(&f, 64, 16, 20);
	fixture_register(s, &f, key0, 0);
	lm = lo = f.sealed_len;
	mid = malloc(lm);
	out = malloc(lo);
	rows = malloc(64 * 16);
	memset(p, 0, sizeof(p));
	p[0].value.a = 2;
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_NEW_QUERY_KEY,
			    TEE_PARAM_TYPES(PT_VIN, PT_NONE, PT_NONE, PT_NONE),
			    p), TEE_SUCCESS);
	CHECK_RES(reseal(s, f.sealed, f.sealed_len, mid, &lm, 0, 2, NULL),
		  TEE_SUCCESS);
	CHECK(th_open_table(key0, mid, lm, rows, 1024, NULL, 0, NULL) < 0);
	CHECK(th_open_table(key1, mid, lm, rows, 1024, NULL, 0, NULL) < 0);
	CHECK_RES(reseal(s, mid, lm, out, &lo, 2, 1, NULL), TEE_SUCCESS);
	CHECK(th_open_table(key1, out, lo, rows, 1024, NULL, 0, NULL) == 64);
	CHECK(memcmp(rows, f.rows, 64 * 16) == 0);
	/* A second NEW_QUERY_KEY replaces the key: slot 2 no longer opens
	 * the table (it was registered under the old key) ... */
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_NEW_QUERY_KEY,
			    TEE_PARAM_TYPES(PT_VIN, PT_NONE, PT_NONE, PT_NONE),
			    p), TEE_SUCCESS);
	lo = f.sealed_len;
	CHECK_RES(reseal(s, mid, lm, out, &lo, 2, 1, NULL),
		  TS_ERROR_TABLE_UNKNOWN);
	/* ... and after a reseal into slot 2 under the new key, the blocks
	 * sealed under the old one fail authentication. */
	lo = f.sealed_len;
	CHECK_RES(reseal(s, f.sealed, f.sealed_len, out, &lo, 0, 2, NULL),
		  TEE_SUCCESS);
	lo = f.sealed_len;
	CHECK_RES(reseal(s, mid, lm, out, &lo, 2, 1, NULL), TS_ERROR_BLOCK_AUTH);
	free(mid);
	free(out);
	free(rows);
	fixture_free(&f);
	th_close_session(s);
}

static void test_clear_key_empties_slot(void)
{
	void *s = session_with_keys();
	struct fixture f;
	uint8_t *out;
	size_t lo;
	TEE_Param p[4];

	fixture_make(&f, 10, 8, 10);
	fixture_register(s, &f, key0, 0);
	out = malloc(f.sealed_len);
	memset(p, 0, sizeof(p));
	p[0].value.a = 1;
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_CLEAR_KEY,
			    TEE_PARAM_TYPES(PT_VIN, PT_NONE, PT_NONE, PT_NONE),
			    p), TEE_SUCCESS);
	lo = f.sealed_len;
	CHECK_RES(reseal(s, f.sealed, f.sealed_len, out, &lo, 0, 1, NULL),
		  TS_ERROR_KEY_SLOT_EMPTY);
	lo = f.sealed_len;
	CHECK_RES(reseal(s, f.sealed, f.sealed_len, out, &lo, 1, 0, NULL),
		  TS_ERROR_KEY_SLOT_EMPTY);
	lo = f.sealed_len;
	CHECK_RES(reseal(s, f.sealed, f.sealed_len, out, &lo, 0, 8, NULL),
		  TEE_ERROR_BAD_PARAMETERS);
	free(out);
	fixture_free(&f);
	th_close_session(s);
}

static void test_sessions_do_not_share_keys(void)
{
	void *a = session_with_keys();
	void *b = th_open_session();
	struct fixture f;
	uint8_t *out;
	size_t lo;

	fixture_make(&f, 10, 8, 10);
	fixture_register(a, &f, key0, 0);
	out = malloc(f.sealed_len);
	lo = f.sealed_len;
	CHECK_RES(reseal(b, f.sealed, f.sealed_len, out, &lo, 0, 0, NULL),
		  TS_ERROR_KEY_SLOT_EMPTY);
	/* With the same key but no registration of its own: unknown table. */
	CHECK_RES(th_install_key(b, 0, key0), TEE_SUCCESS);
	lo = f.sealed_len;
	CHECK_RES(reseal(b, f.sealed, f.sealed_len, out, &lo, 0, 0, NULL),
		  TS_ERROR_TABLE_UNKNOWN);
	lo = f.sealed_len;
	CHECK_RES(reseal(a, f.sealed, f.sealed_len, out, &lo, 0, 0, NULL),
		  TEE_SUCCESS);
	free(out);
	fixture_free(&f);
	th_close_session(a);
	th_close_session(b);
}

static void test_reseal_checks_param_types(void)
{
	void *s = session_with_keys();
	TEE_Param p[4];

	memset(p, 0, sizeof(p));
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_RESEAL_BLOCKS,
			    TEE_PARAM_TYPES(PT_MIN, PT_MOUT, PT_VIN, PT_NONE),
			    p), TEE_ERROR_BAD_PARAMETERS);
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_RESEAL_BLOCKS,
			    TEE_PARAM_TYPES(PT_MIN, TEE_PARAM_TYPE_MEMREF_INOUT,
					    PT_VIN, PT_VOUT), p),
		  TEE_ERROR_BAD_PARAMETERS);
	th_close_session(s);
}

static void test_reseal_short_buffer_reports_size(void)
{
	void *s = session_with_keys();
	struct fixture f;
	uint8_t *out, *rows;
	size_t lo;

	fixture_make(&f, 100, 12, 30);
	fixture_register(s, &f, key0, 0);
	out = malloc(f.sealed_len);
	rows = malloc(1200);
	lo = 0;
	CHECK_RES(reseal(s, f.sealed, f.sealed_len, NULL, &lo, 0, 1, NULL),
		  TEE_ERROR_SHORT_BUFFER);
	CHECK(lo == f.sealed_len);
	lo = f.sealed_len - 1;
	CHECK_RES(reseal(s, f.sealed, f.sealed_len, out, &lo, 0, 1, NULL),
		  TEE_ERROR_SHORT_BUFFER);
	CHECK(lo == f.sealed_len);
	CHECK_RES(reseal(s, f.sealed, f.sealed_len, out, &lo, 0, 1, NULL),
		  TEE_SUCCESS);
	CHECK(th_open_table(key1, out, lo, rows, 1200, NULL, 0, NULL) == 100);
	free(out);
	free(rows);
	fixture_free(&f);
	th_close_session(s);
}

/* Flip one byte of block `blk` at offset `at` within the block. */
static TEE_Result reseal_flipped(void *s, const struct fixture *f, uint32_t blk,
				 size_t at, uint32_t *index)
{
	uint8_t *copy = malloc(f->sealed_len);
	TEE_Result res;

	memcpy(copy, f->sealed, f->sealed_len);
	copy[block_off(f, blk) + at] ^= 0x01;
	res = reseal_expect(s, copy, f->sealed_len, index);
	free(copy);
	return res;
}

static void test_reseal_tamper_reports_block(void)
{
	void *s = session_with_keys();
	struct fixture f;
	const size_t ct = 10 * 16;
	uint32_t idx;

	fixture_make(&f, 30, 16, 10);	/* 3 full blocks */
	fixture_register(s, &f, key0, 0);
	/* Ciphertext, tag, AAD-only header fields, nonce: authentication. */
	CHECK_RES(reseal_flipped(s, &f, 1, TS_BLOCK_HEADER_SIZE + 7, &idx),
		  TS_ERROR_BLOCK_AUTH);
	CHECK(idx == 1);
	CHECK_RES(reseal_flipped(s, &f, 2, TS_BLOCK_HEADER_SIZE + ct + 15,
				 &idx), TS_ERROR_BLOCK_AUTH);
	CHECK(idx == 2);
	CHECK_RES(reseal_flipped(s, &f, 0,
				 offsetof(struct ts_block_header, nonce), &idx),
		  TS_ERROR_BLOCK_AUTH);
	CHECK(idx == 0);
	/* A field every block must share with block 0 (table id): a
	 * sequence error at the block that differs. */
	CHECK_RES(reseal_flipped(s, &f, 2,
				 offsetof(struct ts_block_header, table_id),
				 &idx), TS_ERROR_BLOCK_SEQUENCE);
	CHECK(idx == 2);
	/* Format: magic, version, header size, sizes. */
	CHECK_RES(reseal_flipped(s, &f, 1, 0, &idx), TS_ERROR_BLOCK_FORMAT);
	CHECK(idx == 1);
	CHECK_RES(reseal_flipped(s, &f, 1,
				 offsetof(struct ts_block_header, row_count),
				 &idx), TS_ERROR_BLOCK_FORMAT);
	CHECK(idx == 1);
	CHECK_RES(reseal_flipped(s, &f, 2,
				 offsetof(struct ts_block_header, header_size),
				 &idx), TS_ERROR_BLOCK_FORMAT);
	CHECK(idx == 2);
	fixture_free(&f);
	th_close_session(s);
}

/* libsodium-style: every single-bit flip anywhere in a sealed block fails. */
static void test_reseal_every_byte_flip_fails(void)
{
	void *s = session_with_keys();
	struct fixture f;
	size_t at, len;
	uint32_t idx;
	unsigned ok_count = 0;

	fixture_make(&f, 3, 8, 3);
	fixture_register(s, &f, key0, 0);
	len = f.sealed_len;
	for (at = 0; at < len; at++) {
		TEE_Result r = reseal_flipped(s, &f, 0, at, &idx);

		/* A flipped table id names a table that is not registered. */
		if (r == TEE_SUCCESS ||
		    (r != TS_ERROR_BLOCK_AUTH && r != TS_ERROR_BLOCK_FORMAT &&
		     r != TS_ERROR_BLOCK_SEQUENCE && r != TS_ERROR_TABLE_UNKNOWN))
			ok_count++;
	}
	CHECK(ok_count == 0);
	/* Negative control: the unflipped block passes. */
	CHECK_RES(reseal_expect(s, f.sealed, f.sealed_len, &idx), TEE_SUCCESS);
	fixture_free(&f);
	th_close_session(s);
}

static void test_reseal_wrong_key_is_auth_error(void)
{
	void *s = session_with_keys();
	struct fixture f;
	uint8_t *out;
	size_t lo;
	TEE_Param p3;

	fixture_make(&f, 20, 8, 10);
	/* A descriptor MAC'd under key1 (so slot 1 accepts it) for blocks
	 * sealed under key0: the blocks fail authentication at block 0. */
	fixture_register(s, &f, key1, 1);
	out = malloc(f.sealed_len);
	lo = f.sealed_len;
	CHECK_RES(reseal(s, f.sealed, f.sealed_len, out, &lo, 1, 0, &p3),
		  TS_ERROR_BLOCK_AUTH);
	CHECK(p3.value.a == 0);
	free(out);
	fixture_free(&f);
	th_close_session(s);
}

static void test_reseal_sequence_errors(void)
{
	void *s = session_with_keys();
	struct fixture f, g;
	size_t bs, tb;
	uint8_t *buf;
	uint32_t idx;

	fixture_make(&f, 30, 16, 10);	/* 3 blocks of bs bytes */
	fixture_register(s, &f, key0, 0);
	bs = block_off(&f, 1);
	buf = malloc(f.sealed_len + bs);

	/* Swapped blocks 0 and 1. */
	memcpy(buf, f.sealed + bs, bs);
	memcpy(buf + bs, f.sealed, bs);
	memcpy(buf + 2 * bs, f.sealed + 2 * bs, bs);
	CHECK_RES(reseal_expect(s, buf, 3 * bs, &idx), TS_ERROR_BLOCK_SEQUENCE);
	CHECK(idx == 0);
	/* Dropped block 1. */
	memcpy(buf, f.sealed, bs);
	memcpy(buf + bs, f.sealed + 2 * bs, bs);
	CHECK_RES(reseal_expect(s, buf, 2 * bs, &idx), TS_ERROR_BLOCK_SEQUENCE);
	CHECK(idx == 1);
	/* Dropped the last block. */
	CHECK_RES(reseal_expect(s, f.sealed, 2 * bs, &idx),
		  TS_ERROR_BLOCK_SEQUENCE);
	CHECK(idx == 2);
	/* Duplicated the last block. */
	memcpy(buf, f.sealed, 3 * bs);
	memcpy(buf + 3 * bs, f.sealed + 2 * bs, bs);
	CHECK_RES(reseal_expect(s, buf, 4 * bs, &idx), TS_ERROR_BLOCK_SEQUENCE);
	CHECK(idx == 3);
	/* Block 1 taken from another table (same key, same shape). */
	fixture_make(&g, 30, 16, 10);
	memcpy(buf, f.sealed, 3 * bs);
	memcpy(buf + bs, g.sealed + bs, bs);
	CHECK_RES(reseal_expect(s, buf, 3 * bs, &idx), TS_ERROR_BLOCK_SEQUENCE);
	CHECK(idx == 1);
	/* Truncated: the last block loses its last byte. */
	CHECK_RES(reseal_expect(s, f.sealed, 3 * bs - 1, &idx),
		  TS_ERROR_BLOCK_FORMAT);
	CHECK(idx == 2);
	/* Trailing bytes shorter than a header. */
	memcpy(buf, f.sealed, 3 * bs);
	memset(buf + 3 * bs, 0, 50);
	CHECK_RES(reseal_expect(s, buf, 3 * bs + 50, &idx),
		  TS_ERROR_BLOCK_FORMAT);
	CHECK(idx == 3);
	/* Nothing at all. */
	CHECK_RES(reseal_expect(s, f.sealed, 0, &idx), TS_ERROR_BLOCK_FORMAT);
	CHECK(idx == 0);
	/* An untouched copy still passes (the checks above can succeed). */
	tb = f.sealed_len;
	CHECK_RES(reseal_expect(s, f.sealed, tb, &idx), TEE_SUCCESS);
	free(buf);
	fixture_free(&f);
	fixture_free(&g);
	th_close_session(s);
}

/* block_gcm_open on a tampered block: TS_ERROR_BLOCK_AUTH, output zeroed.
 * The block (256 KiB) spans several decryption chunks, so the chunks
 * decrypted before the tag check must be wiped by block_gcm itself (the
 * simulator's TEE_AEDecryptFinal clears only what the final call wrote). */
static void test_block_gcm_open_zeroes_output_on_tag_failure(void)
{
	const size_t pt_len = 16 * 16384;
	struct fixture f;
	struct block_gcm g = { TEE_HANDLE_NULL };
	struct ts_block_header h;
	uint8_t *pt = malloc(pt_len);
	size_t i, nonzero = 0;

	fixture_make(&f, 16, 16384, 16);
	CHECK_RES(block_gcm_init(&g, TEE_MODE_DECRYPT, key0), TEE_SUCCESS);
	CHECK_RES(block_gcm_read_header(f.sealed, f.sealed_len, &h),
		  TEE_SUCCESS);
	CHECK_RES(block_gcm_open(&g, &h, f.sealed, pt), TEE_SUCCESS);
	CHECK(memcmp(pt, f.rows, pt_len) == 0);
	f.sealed[TS_BLOCK_HEADER_SIZE + pt_len + 3] ^= 0x80;	/* tag */
	memset(pt, 0xaa, pt_len);
	CHECK_RES(block_gcm_open(&g, &h, f.sealed, pt), TS_ERROR_BLOCK_AUTH);
	for (i = 0; i < pt_len; i++)
		nonzero += pt[i] != 0;
	CHECK(nonzero == 0);
	/* The handle is reusable after a failure. */
	f.sealed[TS_BLOCK_HEADER_SIZE + pt_len + 3] ^= 0x80;
	CHECK_RES(block_gcm_open(&g, &h, f.sealed, pt), TEE_SUCCESS);
	CHECK(memcmp(pt, f.rows, pt_len) == 0);
	/* Header checks: avail too small for the tag, or for a header. */
	CHECK_RES(block_gcm_read_header(f.sealed, f.sealed_len - 1, &h),
		  TS_ERROR_BLOCK_FORMAT);
	CHECK_RES(block_gcm_read_header(f.sealed, 95, &h),
		  TS_ERROR_BLOCK_FORMAT);
	block_gcm_free(&g);
	fixture_free(&f);
	free(pt);
}

static void test_sealing_key_is_stable_and_labelled(void)
{
	uint8_t a[32], b[32], c[32], d[16];

	CHECK_RES(shim_derive_sealing_key("label-a", 7, a, 32), TEE_SUCCESS);
	CHECK_RES(shim_derive_sealing_key("label-a", 7, b, 32), TEE_SUCCESS);
	CHECK_RES(shim_derive_sealing_key("label-b", 7, c, 32), TEE_SUCCESS);
	CHECK_RES(shim_derive_sealing_key("label-a", 7, d, 16), TEE_SUCCESS);
	CHECK(memcmp(a, b, 32) == 0);
	CHECK(memcmp(a, c, 32) != 0);
	CHECK(memcmp(a, d, 16) == 0);
	CHECK_RES(shim_derive_sealing_key("x", 1, a, 15),
		  TEE_ERROR_BAD_PARAMETERS);
	CHECK_RES(shim_derive_sealing_key("x", 1, a, 33),
		  TEE_ERROR_BAD_PARAMETERS);
}

int main(int argc, char **argv)
{
	th_init();
	th_rand_seed(0x5eed0001);
	RUN_TEST(argc, argv, test_get_info_reports_abi_and_limits);
	RUN_TEST(argc, argv, test_unknown_command_not_supported);
	RUN_TEST(argc, argv, test_key_commands_check_params);
	RUN_TEST(argc, argv, test_reseal_roundtrip_matches_openssl);
	RUN_TEST(argc, argv, test_reseal_same_slot_gives_fresh_nonces);
	RUN_TEST(argc, argv, test_new_query_key_is_usable_and_secret);
	RUN_TEST(argc, argv, test_clear_key_empties_slot);
	RUN_TEST(argc, argv, test_sessions_do_not_share_keys);
	RUN_TEST(argc, argv, test_reseal_checks_param_types);
	RUN_TEST(argc, argv, test_reseal_short_buffer_reports_size);
	RUN_TEST(argc, argv, test_reseal_tamper_reports_block);
	RUN_TEST(argc, argv, test_reseal_every_byte_flip_fails);
	RUN_TEST(argc, argv, test_reseal_wrong_key_is_auth_error);
	RUN_TEST(argc, argv, test_reseal_sequence_errors);
	RUN_TEST(argc, argv, test_block_gcm_open_zeroes_output_on_tag_failure);
	RUN_TEST(argc, argv, test_sealing_key_is_stable_and_labelled);
	TA_DestroyEntryPoint();
	return th_summary("test_ta_commands");
}

/*
 * test_ta_tables.c - registered tables, in-process: HKDF-SHA256 against RFC
 * 5869 and OpenSSL, REGISTER_TABLE (descriptor MAC checked against one built
 * with OpenSSL; edited descriptors and wrong keys), and the tamper matrix of
 * the block commands against a registered table (bit flips, truncation,
 * dropped / duplicated / reordered blocks, blocks of another table or of an
 * older version), the registration of SORT_BLOCKS' output, eviction and
 * re-registration, and key changes unregistering a slot.
 *
 *   test_ta_tables [test_name ...]     (no names: run all)
 */
#include "ta_harness.h"

#include <stdlib.h>
#include <string.h>

#include "../crypto/hkdf.h"

#define PT_NONE TEE_PARAM_TYPE_NONE
#define PT_VIN TEE_PARAM_TYPE_VALUE_INPUT
#define PT_VOUT TEE_PARAM_TYPE_VALUE_OUTPUT
#define PT_MIN TEE_PARAM_TYPE_MEMREF_INPUT
#define PT_MOUT TEE_PARAM_TYPE_MEMREF_OUTPUT

static uint8_t key0[32], key1[32];

static void unhex(const char *h, uint8_t *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned int b;

		sscanf(h + 2 * i, "%2x", &b);
		out[i] = (uint8_t)b;
	}
}

/* A sealed table under key0: rows and blocks. */
struct tbl {
	struct th_table t;
	uint32_t n_rows, rpb;
	uint8_t *rows, *sealed;
	size_t len;
};

static void tbl_make(struct tbl *x, uint32_t n_rows, uint32_t row_size,
		     uint32_t rpb)
{
	th_table_random(&x->t, row_size);
	x->n_rows = n_rows;
	x->rpb = rpb;
	x->rows = malloc((size_t)n_rows * row_size + 1);
	th_rand_bytes(x->rows, (size_t)n_rows * row_size);
	x->len = th_sealed_size(n_rows, row_size, rpb);
	x->sealed = malloc(x->len);
	th_seal_table(key0, &x->t, x->rows, n_rows, rpb, x->sealed);
}

static void tbl_free(struct tbl *x)
{
	free(x->rows);
	free(x->sealed);
}

static size_t tbl_block_size(const struct tbl *x)
{
	return TS_SEALED_BLOCK_SIZE((size_t)x->rpb * x->t.row_size);
}

static void *session(void)
{
	void *s = th_open_session();

	CHECK_RES(th_install_key(s, 0, key0), TEE_SUCCESS);
	CHECK_RES(th_install_key(s, 1, key1), TEE_SUCCESS);
	return s;
}

static TEE_Result reseal(void *s, const void *in, size_t len, uint32_t in_slot,
			 uint32_t out_slot, uint32_t *index)
{
	size_t cap = len + 4096;
	uint8_t *out = malloc(cap);
	TEE_Param p[4];
	TEE_Result res;

	memset(p, 0, sizeof(p));
	p[0].memref.buffer = (void *)in;
	p[0].memref.size = len;
	p[1].memref.buffer = out;
	p[1].memref.size = cap;
	p[2].value.a = in_slot;
	p[2].value.b = out_slot;
	res = th_invoke(s, TA_TEESPARK_CMD_RESEAL_BLOCKS,
			TEE_PARAM_TYPES(PT_MIN, PT_MOUT, PT_VIN, PT_VOUT), p);
	if (index)
		*index = p[3].value.a;
	free(out);
	return res;
}

/* SORT_BLOCKS by the first 8 bytes; output descriptor | blocks in *out
 * (malloc'd, *out_len bytes) when out is not NULL. */
static TEE_Result sort(void *s, const void *in, size_t len, uint32_t in_slot,
		       uint32_t out_slot, const struct th_table *t,
		       const uint8_t out_id[16], uint32_t rpb,
		       uint32_t *index, uint8_t **out, size_t *out_len)
{
	struct ts_sort_request req;
	size_t cap = len + 2 * TS_TABLE_DESCRIPTOR_SIZE + 65536;
	uint8_t *buf = malloc(cap);
	TEE_Param p[4];
	TEE_Result res;

	memset(&req, 0, sizeof(req));
	req.in_key_slot = in_slot;
	req.out_key_slot = out_slot;
	req.rows_per_block = rpb;
	req.key_count = 1;
	memcpy(req.out_table_id, out_id, 16);
	req.out_table_version = 1;
	memcpy(req.schema_hash, t->schema_hash, 32);
	req.keys[0] = (struct ts_sort_key){ TS_KEY_UINT, 0, 0, 8, 0 };
	memset(p, 0, sizeof(p));
	p[0].memref.buffer = (void *)in;
	p[0].memref.size = len;
	p[1].memref.buffer = buf;
	p[1].memref.size = cap;
	p[2].memref.buffer = &req;
	p[2].memref.size = sizeof(req);
	res = th_invoke(s, TA_TEESPARK_CMD_SORT_BLOCKS,
			TEE_PARAM_TYPES(PT_MIN, PT_MOUT, PT_MIN, PT_VOUT), p);
	if (index)
		*index = p[3].value.a;
	if (out && res == TEE_SUCCESS) {
		*out = buf;
		*out_len = p[1].memref.size;
	} else {
		free(buf);
	}
	return res;
}

/* ---------------------------------------------------------------- HKDF */

static void test_hkdf_rfc5869_vectors(void)
{
	uint8_t ikm[80], salt[80], info[80], okm[82], want[82];
	size_t i;
	struct ts_buf inf;

	/* Test case 2 (80-byte salt: a valid GP HMAC key). */
	for (i = 0; i < 80; i++) {
		ikm[i] = (uint8_t)i;
		salt[i] = (uint8_t)(0x60 + i);
		info[i] = (uint8_t)(0xb0 + i);
	}
	unhex("b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
	      "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
	      "cc30c58179ec3e87c14c01d5c1f3434f1d87", want, 82);
	inf.p = info;
	inf.len = 80;
	CHECK_RES(hkdf_sha256(salt, 80, ikm, 80, &inf, 1, okm, 82), TEE_SUCCESS);
	CHECK(memcmp(okm, want, 82) == 0);
	/* Info split into parts gives the same output. */
	{
		struct ts_buf parts[3] = { { info, 10 }, { info + 10, 0 },
					   { info + 10, 70 } };

		memset(okm, 0, sizeof(okm));
		CHECK_RES(hkdf_sha256(salt, 80, ikm, 80, parts, 3, okm, 82),
			  TEE_SUCCESS);
		CHECK(memcmp(okm, want, 82) == 0);
	}
	/* Test case 3: no salt (= 32 zero bytes), no info. */
	memset(ikm, 0x0b, 22);
	unhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
	      "9d201395faa4b61a96c8", want, 42);
	CHECK_RES(hkdf_sha256(NULL, 0, ikm, 22, NULL, 0, okm, 42), TEE_SUCCESS);
	CHECK(memcmp(okm, want, 42) == 0);
	/* Test case 1's 13-byte salt is below OP-TEE's 192-bit HMAC key
	 * minimum: refused, output zeroed, not silently computed. */
	memset(okm, 0xee, sizeof(okm));
	for (i = 0; i < 13; i++)
		salt[i] = (uint8_t)i;
	CHECK_RES(hkdf_sha256(salt, 13, ikm, 22, NULL, 0, okm, 42),
		  TEE_ERROR_NOT_SUPPORTED);
	CHECK_RES(hkdf_sha256(salt, 32, ikm, 22, NULL, 0, okm, 0),
		  TEE_ERROR_BAD_PARAMETERS);
	CHECK_RES(hkdf_sha256(salt, 32, ikm, 22, NULL, 0, okm,
			      HKDF_SHA256_MAX_OUT + 1), TEE_ERROR_BAD_PARAMETERS);
}

static void test_hkdf_matches_openssl(void)
{
	uint8_t salt[64], ikm[100], info[50], a[200], b[200];
	static const size_t lens[] = { 1, 31, 32, 33, 64, 200 };
	size_t i;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct ts_buf inf = { info, 17 + i };

		th_rand_bytes(salt, sizeof(salt));
		th_rand_bytes(ikm, sizeof(ikm));
		th_rand_bytes(info, sizeof(info));
		CHECK_RES(hkdf_sha256(salt, 24 + i * 8, ikm, 3 + i * 19, &inf, 1,
				      a, lens[i]), TEE_SUCCESS);
		th_hkdf_sha256(salt, 24 + i * 8, ikm, 3 + i * 19, info, 17 + i,
			       b, lens[i]);
		CHECK(memcmp(a, b, lens[i]) == 0);
	}
	/* Negative control: another info gives another key. */
	{
		struct ts_buf inf = { info, 18 };

		CHECK_RES(hkdf_sha256(salt, 32, ikm, 32, &inf, 1, a, 32),
			  TEE_SUCCESS);
		th_hkdf_sha256(salt, 32, ikm, 32, info, 17, b, 32);
		CHECK(memcmp(a, b, 32) != 0);
	}
}

/* ------------------------------------------------------ REGISTER_TABLE */

static void test_register_table_checks_params(void)
{
	void *s = session();
	struct tbl x;
	struct ts_table_descriptor d;
	uint8_t big[TS_TABLE_DESCRIPTOR_SIZE + 1];
	TEE_Param p[4];
	const uint32_t types = TEE_PARAM_TYPES(PT_MIN, PT_VIN, PT_NONE, PT_NONE);

	tbl_make(&x, 50, 16, 20);
	th_descriptor(key0, &x.t, 50, 20, NULL, &d);
	memset(p, 0, sizeof(p));
	p[0].memref.buffer = &d;
	p[0].memref.size = sizeof(d);
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_REGISTER_TABLE,
			    TEE_PARAM_TYPES(PT_MIN, PT_VOUT, PT_NONE, PT_NONE),
			    p), TEE_ERROR_BAD_PARAMETERS);
	p[0].memref.size = sizeof(d) - 1;
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_REGISTER_TABLE, types, p),
		  TEE_ERROR_BAD_PARAMETERS);
	memcpy(big, &d, sizeof(d));
	p[0].memref.buffer = big;
	p[0].memref.size = sizeof(big);
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_REGISTER_TABLE, types, p),
		  TEE_ERROR_BAD_PARAMETERS);
	CHECK_RES(th_register(s, &d, TS_MAX_KEY_SLOTS), TEE_ERROR_BAD_PARAMETERS);
	CHECK_RES(th_register(s, &d, 4), TS_ERROR_KEY_SLOT_EMPTY);
	/* Before registration the blocks are refused; after it they pass. */
	CHECK_RES(reseal(s, x.sealed, x.len, 0, 1, NULL), TS_ERROR_TABLE_UNKNOWN);
	CHECK_RES(th_register(s, &d, 0), TEE_SUCCESS);
	CHECK_RES(reseal(s, x.sealed, x.len, 0, 1, NULL), TEE_SUCCESS);
	tbl_free(&x);
	th_close_session(s);
}

/* Every field of the MAC'd part edited, the MAC itself, a wrong key. */
static void test_register_rejects_edited_descriptor(void)
{
	void *s = session();
	struct tbl x;
	struct ts_table_descriptor good, d;
	size_t at;
	unsigned accepted = 0;

	tbl_make(&x, 50, 16, 20);
	th_descriptor(key0, &x.t, 50, 20, NULL, &good);
#define EDIT(mutation) do { d = good; mutation; \
		CHECK_RES(th_register(s, &d, 0), TS_ERROR_MANIFEST_AUTH); } while (0)
	EDIT(d.row_count = 49);
	EDIT(d.row_count = 51);
	EDIT(d.schema_hash[7] ^= 1);
	EDIT(d.table_id[0] ^= 1);
	EDIT(d.table_version++);
	EDIT(d.block_count = 2);
	EDIT(d.rows_per_block = 25);
	EDIT(d.row_size = 8);
	EDIT(d.key_id[15] = 1);
	EDIT(d.mac[31] ^= 0x80);
#undef EDIT
	/* Every single bit of the descriptor. */
	for (at = 0; at < 8 * sizeof(d); at++) {
		d = good;
		((uint8_t *)&d)[at / 8] ^= (uint8_t)(1u << (at % 8));
		accepted += th_register(s, &d, 0) != TS_ERROR_MANIFEST_AUTH;
	}
	CHECK(accepted == 0);
	/* Wrong data key: the descriptor's MAC key derives from key0. */
	CHECK_RES(th_register(s, &good, 1), TS_ERROR_MANIFEST_AUTH);
	/* An authentic but inconsistent descriptor (MAC'd after the edit). */
	d = good;
	d.block_count = 4;
	th_descriptor_mac(key0, &d);
	CHECK_RES(th_register(s, &d, 0), TEE_ERROR_BAD_FORMAT);
	d = good;
	d.reserved = 1;
	th_descriptor_mac(key0, &d);
	CHECK_RES(th_register(s, &d, 0), TEE_ERROR_BAD_FORMAT);
	d = good;
	d.rows_per_block = 0;
	th_descriptor_mac(key0, &d);
	CHECK_RES(th_register(s, &d, 0), TEE_ERROR_BAD_FORMAT);
	/* None of these registered anything ... */
	CHECK_RES(reseal(s, x.sealed, x.len, 0, 1, NULL), TS_ERROR_TABLE_UNKNOWN);
	/* ... and the untouched descriptor does (negative control). */
	CHECK_RES(th_register(s, &good, 0), TEE_SUCCESS);
	CHECK_RES(reseal(s, x.sealed, x.len, 0, 1, NULL), TEE_SUCCESS);
	tbl_free(&x);
	th_close_session(s);
}

/* ------------------------------------------------------- tamper matrix */

/* One block command over a tampered copy: the result and failing index. */
typedef TEE_Result (*block_cmd)(void *s, const struct tbl *x, const void *in,
				size_t len, uint32_t *index);

static TEE_Result via_reseal(void *s, const struct tbl *x, const void *in,
			     size_t len, uint32_t *index)
{
	(void)x;
	return reseal(s, in, len, 0, 0, index);
}

static TEE_Result via_sort(void *s, const struct tbl *x, const void *in,
			   size_t len, uint32_t *index)
{
	static const uint8_t out_id[16] = { 0x0f };

	return sort(s, in, len, 0, 1, &x->t, out_id, 7, index, NULL, NULL);
}

static void tamper_matrix(block_cmd cmd, const char *name)
{
	void *s = session();
	struct tbl x, other, v1;
	size_t bs, ct = 10 * 16;
	uint8_t *buf;
	uint32_t idx = 99;
	unsigned before = th_failed;

	tbl_make(&x, 40, 16, 10);	/* 4 full blocks */
	tbl_make(&other, 40, 16, 10);	/* same key, same shape */
	bs = tbl_block_size(&x);
	buf = malloc(5 * bs);
	CHECK_RES(th_register_table(s, key0, &x.t, 40, 10, 0), TEE_SUCCESS);
	CHECK_RES(th_register_table(s, key0, &other.t, 40, 10, 0), TEE_SUCCESS);

#define RUN(len, want, want_idx) do { idx = 99; \
		CHECK_RES(cmd(s, &x, buf, (len), &idx), (want)); \
		CHECK(idx == (want_idx)); } while (0)
	/* Untouched: passes (the matrix below can fail only by tampering). */
	memcpy(buf, x.sealed, x.len);
	RUN(x.len, TEE_SUCCESS, idx);
	/* Bit flips: ciphertext, nonce, tag, an AAD-only header field. */
	memcpy(buf, x.sealed, x.len);
	buf[2 * bs + TS_BLOCK_HEADER_SIZE + 33] ^= 0x10;
	RUN(x.len, TS_ERROR_BLOCK_AUTH, 2);
	memcpy(buf, x.sealed, x.len);
	buf[1 * bs + offsetof(struct ts_block_header, nonce) + 5] ^= 1;
	RUN(x.len, TS_ERROR_BLOCK_AUTH, 1);
	memcpy(buf, x.sealed, x.len);
	buf[3 * bs + TS_BLOCK_HEADER_SIZE + ct + 15] ^= 0x80;
	RUN(x.len, TS_ERROR_BLOCK_AUTH, 3);
	/* Truncated block. */
	memcpy(buf, x.sealed, x.len);
	RUN(x.len - 1, TS_ERROR_BLOCK_FORMAT, 3);
	RUN(2 * bs + 50, TS_ERROR_BLOCK_FORMAT, 2);
	/* Dropped block 1. */
	memcpy(buf, x.sealed, bs);
	memcpy(buf + bs, x.sealed + 2 * bs, 2 * bs);
	RUN(3 * bs, TS_ERROR_BLOCK_SEQUENCE, 1);
	/* Dropped the last block. */
	memcpy(buf, x.sealed, 3 * bs);
	RUN(3 * bs, TS_ERROR_BLOCK_SEQUENCE, 3);
	/* Duplicated block 2 (in place of 3) and appended. */
	memcpy(buf, x.sealed, x.len);
	memcpy(buf + 3 * bs, x.sealed + 2 * bs, bs);
	RUN(x.len, TS_ERROR_BLOCK_SEQUENCE, 3);
	memcpy(buf, x.sealed, x.len);
	memcpy(buf + 4 * bs, x.sealed + 3 * bs, bs);
	RUN(5 * bs, TS_ERROR_BLOCK_SEQUENCE, 4);
	/* Reordered: 0 2 1 3. */
	memcpy(buf, x.sealed, x.len);
	memcpy(buf + bs, x.sealed + 2 * bs, bs);
	memcpy(buf + 2 * bs, x.sealed + bs, bs);
	RUN(x.len, TS_ERROR_BLOCK_SEQUENCE, 1);
	/* Block 2 replayed from another registered table (same key). */
	memcpy(buf, x.sealed, x.len);
	memcpy(buf + 2 * bs, other.sealed + 2 * bs, bs);
	RUN(x.len, TS_ERROR_BLOCK_SEQUENCE, 2);
	/* A table that is not registered at all. */
	tbl_make(&v1, 40, 16, 10);
	memcpy(buf, v1.sealed, v1.len);
	RUN(v1.len, TS_ERROR_TABLE_UNKNOWN, 0);
	/* An older version of the same table: v1 has x's id at version - 1. */
	v1.t = x.t;
	v1.t.table_version = x.t.table_version - 1;
	th_seal_table(key0, &v1.t, v1.rows, 40, 10, v1.sealed);
	memcpy(buf, v1.sealed, v1.len);
	RUN(v1.len, TS_ERROR_BLOCK_SEQUENCE, 0);
	memcpy(buf, x.sealed, x.len);
	memcpy(buf + bs, v1.sealed + bs, bs);
	RUN(x.len, TS_ERROR_BLOCK_SEQUENCE, 1);
	/* Same table, version and total rows, blocks cut differently
	 * (8 + 10 + 10 + 12 would need another layout): 4 blocks of
	 * 10 rows registered, 5 blocks of 8 presented. */
	th_seal_table(key0, &x.t, x.rows, 40, 8, buf);
	RUN(th_sealed_size(40, 16, 8), TS_ERROR_BLOCK_SEQUENCE, 0);
	/* Same table, version, block count and total rows, but rows moved
	 * between blocks (9 + 11 + 10 + 10, sealed by the owner's key). */
	{
		static const uint32_t cut[4] = { 9, 11, 10, 10 };
		size_t off = 0;
		uint32_t i, r0 = 0;

		for (i = 0; i < 4; i++) {
			struct ts_block_header h;

			memset(&h, 0, sizeof(h));
			memcpy(h.table_id, x.t.table_id, 16);
			h.table_version = x.t.table_version;
			h.block_index = i;
			h.block_count = 4;
			h.row_count = cut[i];
			h.row_size = 16;
			memcpy(h.schema_hash, x.t.schema_hash, 32);
			off += th_seal_block(key0, &h, x.rows + r0 * 16, buf + off);
			r0 += cut[i];
		}
		RUN(off, TS_ERROR_BLOCK_SEQUENCE, 0);
	}
	/* Nothing at all. */
	RUN(0, TS_ERROR_BLOCK_FORMAT, 0);
#undef RUN
	free(buf);
	tbl_free(&x);
	tbl_free(&other);
	tbl_free(&v1);
	th_close_session(s);
	if (th_failed != before)
		fprintf(stderr, "  (tamper matrix via %s)\n", name);
}

static void test_tamper_matrix_reseal(void)
{
	tamper_matrix(via_reseal, "RESEAL_BLOCKS");
}

static void test_tamper_matrix_sort(void)
{
	tamper_matrix(via_sort, "SORT_BLOCKS");
}

/* A newer registration replaces the older one: the old version's blocks
 * are refused, the new version's accepted. */
static void test_register_newer_version_replaces_older(void)
{
	void *s = session();
	struct tbl x;
	uint8_t *v2 = NULL;
	uint32_t idx;

	tbl_make(&x, 30, 16, 10);
	v2 = malloc(x.len);
	CHECK_RES(th_register_table(s, key0, &x.t, 30, 10, 0), TEE_SUCCESS);
	CHECK_RES(reseal(s, x.sealed, x.len, 0, 0, NULL), TEE_SUCCESS);
	x.t.table_version++;
	th_seal_table(key0, &x.t, x.rows, 30, 10, v2);
	CHECK_RES(reseal(s, v2, x.len, 0, 0, &idx), TS_ERROR_BLOCK_SEQUENCE);
	CHECK(idx == 0);
	CHECK_RES(th_register_table(s, key0, &x.t, 30, 10, 0), TEE_SUCCESS);
	CHECK_RES(reseal(s, v2, x.len, 0, 0, NULL), TEE_SUCCESS);
	CHECK_RES(reseal(s, x.sealed, x.len, 0, 0, &idx),
		  TS_ERROR_BLOCK_SEQUENCE);
	CHECK(idx == 0);
	free(v2);
	tbl_free(&x);
	th_close_session(s);
}

/* ------------------------------------------- registration life cycle */

/* SORT_BLOCKS registers its output with the out slot: it feeds the next
 * sort directly. When evicted (registry full) the host registers it again
 * from the descriptor SORT_BLOCKS returned. */
static void test_sort_output_registered_evicted_and_reregistered(void)
{
	static const uint8_t out_id[16] = { 's', 'o', 'r', 't', 'e', 'd' };
	static const uint8_t out2_id[16] = { 's', 'o', 'r', 't', 'e', 'd', '2' };
	void *s = session();
	struct tbl x, filler;
	uint8_t *out = NULL, *out2 = NULL;
	size_t out_len = 0, out2_len = 0;
	struct ts_table_descriptor d;
	uint32_t i;

	tbl_make(&x, 100, 16, 30);
	CHECK_RES(th_register_table(s, key0, &x.t, 100, 30, 0), TEE_SUCCESS);
	CHECK_RES(sort(s, x.sealed, x.len, 0, 1, &x.t, out_id, 40, NULL, &out,
		       &out_len), TEE_SUCCESS);
	if (!out)
		goto done;
	memcpy(&d, out, sizeof(d));
	CHECK(th_descriptor_verify(key1, &d));
	/* The output, opened with slot 1, sorted again into slot 0. */
	CHECK_RES(sort(s, out + sizeof(d), out_len - sizeof(d), 1, 0, &x.t,
		       out2_id, 100, NULL, &out2, &out2_len), TEE_SUCCESS);
	/* Not with slot 0: it was registered with slot 1. */
	CHECK_RES(sort(s, out + sizeof(d), out_len - sizeof(d), 0, 0, &x.t,
		       out2_id, 100, NULL, NULL, NULL), TS_ERROR_TABLE_UNKNOWN);
	/* TS_MAX_TABLES other registrations evict it ... */
	tbl_make(&filler, 1, 16, 1);
	for (i = 0; i < TS_MAX_TABLES; i++) {
		filler.t.table_id[0] = (uint8_t)(0xe0 + i);
		CHECK_RES(th_register_table(s, key0, &filler.t, 1, 1, 0),
			  TEE_SUCCESS);
	}
	CHECK_RES(sort(s, out + sizeof(d), out_len - sizeof(d), 1, 0, &x.t,
		       out2_id, 100, NULL, NULL, NULL), TS_ERROR_TABLE_UNKNOWN);
	/* ... and its descriptor brings it back (MAC under slot 1's key). */
	CHECK_RES(th_register(s, &d, 0), TS_ERROR_MANIFEST_AUTH);
	CHECK_RES(th_register(s, &d, 1), TEE_SUCCESS);
	CHECK_RES(sort(s, out + sizeof(d), out_len - sizeof(d), 1, 0, &x.t,
		       out2_id, 100, NULL, NULL, NULL), TEE_SUCCESS);
	tbl_free(&filler);
done:
	free(out);
	free(out2);
	tbl_free(&x);
	th_close_session(s);
}

/* RESEAL_BLOCKS adds its output slot to the table; a new key in a slot
 * removes the slot from every table. */
static void test_slots_of_a_registered_table(void)
{
	void *s = session();
	struct tbl x;
	uint8_t *copy;
	size_t cap;
	TEE_Param p[4];

	tbl_make(&x, 30, 16, 10);
	cap = x.len;
	copy = malloc(cap);
	CHECK_RES(th_register_table(s, key0, &x.t, 30, 10, 0), TEE_SUCCESS);
	/* Slot 1 does not open it yet. */
	CHECK_RES(reseal(s, x.sealed, x.len, 1, 1, NULL), TS_ERROR_TABLE_UNKNOWN);
	memset(p, 0, sizeof(p));
	p[0].memref.buffer = x.sealed;
	p[0].memref.size = x.len;
	p[1].memref.buffer = copy;
	p[1].memref.size = cap;
	p[2].value.a = 0;
	p[2].value.b = 1;
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_RESEAL_BLOCKS,
			    TEE_PARAM_TYPES(PT_MIN, PT_MOUT, PT_VIN, PT_VOUT),
			    p), TEE_SUCCESS);
	/* The copy under key1 now opens with slot 1. */
	CHECK_RES(reseal(s, copy, x.len, 1, 0, NULL), TEE_SUCCESS);
	/* A new key in slot 0 unregisters slot 0, not slot 1. */
	CHECK_RES(th_install_key(s, 0, key0), TEE_SUCCESS);
	CHECK_RES(reseal(s, x.sealed, x.len, 0, 1, NULL), TS_ERROR_TABLE_UNKNOWN);
	CHECK_RES(reseal(s, copy, x.len, 1, 1, NULL), TEE_SUCCESS);
	/* CLEAR_KEY of slot 1: the table is gone entirely. */
	memset(p, 0, sizeof(p));
	p[0].value.a = 1;
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_CLEAR_KEY,
			    TEE_PARAM_TYPES(PT_VIN, PT_NONE, PT_NONE, PT_NONE),
			    p), TEE_SUCCESS);
	CHECK_RES(th_install_key(s, 1, key1), TEE_SUCCESS);
	CHECK_RES(reseal(s, copy, x.len, 1, 1, NULL), TS_ERROR_TABLE_UNKNOWN);
	free(copy);
	tbl_free(&x);
	th_close_session(s);
}

int main(int argc, char **argv)
{
	th_init();
	th_rand_seed(0x5eed0004);
	th_rand_bytes(key0, 32);
	th_rand_bytes(key1, 32);
	RUN_TEST(argc, argv, test_hkdf_rfc5869_vectors);
	RUN_TEST(argc, argv, test_hkdf_matches_openssl);
	RUN_TEST(argc, argv, test_register_table_checks_params);
	RUN_TEST(argc, argv, test_register_rejects_edited_descriptor);
	RUN_TEST(argc, argv, test_tamper_matrix_reseal);
	RUN_TEST(argc, argv, test_tamper_matrix_sort);
	RUN_TEST(argc, argv, test_register_newer_version_replaces_older);
	RUN_TEST(argc, argv, test_sort_output_registered_evicted_and_reregistered);
	RUN_TEST(argc, argv, test_slots_of_a_registered_table);
	TA_DestroyEntryPoint();
	return th_summary("test_ta_tables");
}

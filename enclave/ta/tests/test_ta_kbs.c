/*
 * test_ta_kbs.c - attested key release in-process: PIN_KBS_KEY,
 * GET_EVIDENCE (body fields; RSASSA-PSS signature verified with OpenSSL
 * against GET_DEVICE_PUBKEY), IMPORT_KEYS against KBS replies built with
 * OpenSSL (valid, bad signature, replayed, stale, another session's,
 * recipients swapped by the host, malformed; all-or-nothing), KBS keys
 * bound to their tables, and EXPORT_RESULT opened with the recipient's
 * private key (OpenSSL).
 *
 *   test_ta_kbs [test_name ...]     (no names: run all)
 */
#include "ta_harness.h"
#include "ta_testkbs.h"

#include <stdlib.h>
#include <string.h>

#define PT_NONE TEE_PARAM_TYPE_NONE
#define PT_VIN TEE_PARAM_TYPE_VALUE_INPUT
#define PT_VOUT TEE_PARAM_TYPE_VALUE_OUTPUT
#define PT_MIN TEE_PARAM_TYPE_MEMREF_INPUT
#define PT_MOUT TEE_PARAM_TYPE_MEMREF_OUTPUT

static struct th_kbs kbs, rogue;
static uint8_t dev_key[32];

/* ------------------------------------------------------------- calls */

static TEE_Result pin(void *s, const uint8_t *key, size_t len)
{
	TEE_Param p[4];

	memset(p, 0, sizeof(p));
	p[0].memref.buffer = (void *)key;
	p[0].memref.size = len;
	return th_invoke(s, TA_TEESPARK_CMD_PIN_KBS_KEY,
			 TEE_PARAM_TYPES(PT_MIN, PT_NONE, PT_NONE, PT_NONE), p);
}

static TEE_Result evidence(void *s, const uint8_t nonce[32],
			   struct ts_evidence *ev)
{
	TEE_Param p[4];

	memset(p, 0, sizeof(p));
	p[0].memref.buffer = (void *)nonce;
	p[0].memref.size = TS_NONCE_BYTES;
	p[1].memref.buffer = ev;
	p[1].memref.size = sizeof(*ev);
	return th_invoke(s, TA_TEESPARK_CMD_GET_EVIDENCE,
			 TEE_PARAM_TYPES(PT_MIN, PT_MOUT, PT_NONE, PT_NONE), p);
}

static TEE_Result import(void *s, const void *reply, size_t len,
			 uint32_t *keys, uint32_t *recipients)
{
	TEE_Param p[4];
	TEE_Result res;

	memset(p, 0, sizeof(p));
	p[0].memref.buffer = (void *)reply;
	p[0].memref.size = len;
	p[1].value.a = 0xdead;
	res = th_invoke(s, TA_TEESPARK_CMD_IMPORT_KEYS,
			TEE_PARAM_TYPES(PT_MIN, PT_VOUT, PT_NONE, PT_NONE), p);
	if (keys)
		*keys = p[1].value.a;
	if (recipients)
		*recipients = p[1].value.b;
	return res;
}

static TEE_Result pubkey(void *s, uint8_t *e, size_t *e_len, uint8_t *n,
			 size_t *n_len, uint32_t *alg)
{
	TEE_Param p[4];
	TEE_Result res;

	memset(p, 0, sizeof(p));
	p[0].memref.buffer = e;
	p[0].memref.size = *e_len;
	p[1].memref.buffer = n;
	p[1].memref.size = *n_len;
	res = th_invoke(s, TA_TEESPARK_CMD_GET_DEVICE_PUBKEY,
			TEE_PARAM_TYPES(PT_MOUT, PT_MOUT, PT_VOUT, PT_NONE), p);
	*e_len = p[0].memref.size;
	*n_len = p[1].memref.size;
	if (alg)
		*alg = p[2].value.a;
	return res;
}

static TEE_Result export(void *s, const void *in, size_t len,
			 const struct ts_export_request *req, uint8_t *out,
			 size_t *out_len, TEE_Param *p3)
{
	TEE_Param p[4];
	TEE_Result res;

	memset(p, 0, sizeof(p));
	p[0].memref.buffer = (void *)in;
	p[0].memref.size = len;
	p[1].memref.buffer = out;
	p[1].memref.size = *out_len;
	p[2].memref.buffer = (void *)req;
	p[2].memref.size = sizeof(*req);
	res = th_invoke(s, TA_TEESPARK_CMD_EXPORT_RESULT,
			TEE_PARAM_TYPES(PT_MIN, PT_MOUT, PT_MIN, PT_VOUT), p);
	*out_len = p[1].memref.size;
	if (p3)
		*p3 = p[3];
	return res;
}

/* A session with the KBS key pinned and one evidence pending; the
 * evidence's hash and the session's X25519 key are returned. */
static void *attested(uint8_t ev_hash[32], uint8_t ta_pub[32])
{
	void *s = th_open_session();
	struct ts_evidence ev;
	uint8_t nonce[32];

	th_rand_bytes(nonce, sizeof(nonce));
	CHECK_RES(pin(s, kbs.pub, 32), TEE_SUCCESS);
	CHECK_RES(evidence(s, nonce, &ev), TEE_SUCCESS);
	th_sha256(&ev, sizeof(ev), ev_hash);
	memcpy(ta_pub, ev.body.ta_public_key, 32);
	return s;
}

static void entry(struct th_key_entry *k, uint32_t slot, const uint8_t *table_id)
{
	memset(k, 0, sizeof(*k));
	k->slot = slot;
	th_rand_bytes(k->key_id, 16);
	memcpy(k->table_id, table_id, 16);
	th_rand_bytes(k->key, 32);
}

static int slot_is_empty(void *s, uint32_t slot)
{
	struct ts_table_descriptor d;
	struct th_table t;

	th_table_random(&t, 8);
	th_descriptor(dev_key, &t, 1, 1, NULL, &d);
	return th_register(s, &d, slot) == TS_ERROR_KEY_SLOT_EMPTY;
}

/* ----------------------------------------------------- PIN / EVIDENCE */

static void test_pin_kbs_key_once_per_session(void)
{
	void *s = th_open_session();
	TEE_Param p[4];

	memset(p, 0, sizeof(p));
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_PIN_KBS_KEY,
			    TEE_PARAM_TYPES(PT_VIN, PT_NONE, PT_NONE, PT_NONE),
			    p), TEE_ERROR_BAD_PARAMETERS);
	CHECK_RES(pin(s, kbs.pub, 31), TEE_ERROR_BAD_PARAMETERS);
	CHECK_RES(pin(s, kbs.pub, 33), TEE_ERROR_BAD_PARAMETERS);
	CHECK_RES(pin(s, kbs.pub, 32), TEE_SUCCESS);
	CHECK_RES(pin(s, kbs.pub, 32), TEE_SUCCESS);	/* same key again */
	CHECK_RES(pin(s, rogue.pub, 32), TEE_ERROR_ACCESS_DENIED);
	th_close_session(s);
	/* Another session pins its own. */
	s = th_open_session();
	CHECK_RES(pin(s, rogue.pub, 32), TEE_SUCCESS);
	th_close_session(s);
}

static void test_get_evidence_checks_params_and_pin(void)
{
	void *s = th_open_session();
	struct ts_evidence ev;
	uint8_t nonce[33] = { 1 };
	TEE_Param p[4];

	CHECK_RES(evidence(s, nonce, &ev), TS_ERROR_KBS_NOT_PINNED);
	CHECK_RES(pin(s, kbs.pub, 32), TEE_SUCCESS);
	memset(p, 0, sizeof(p));
	p[0].memref.buffer = nonce;
	p[0].memref.size = 33;
	p[1].memref.buffer = &ev;
	p[1].memref.size = sizeof(ev);
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_GET_EVIDENCE,
			    TEE_PARAM_TYPES(PT_MIN, PT_MOUT, PT_NONE, PT_NONE),
			    p), TEE_ERROR_BAD_PARAMETERS);
	p[0].memref.size = 32;
	p[1].memref.size = sizeof(ev) - 1;
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_GET_EVIDENCE,
			    TEE_PARAM_TYPES(PT_MIN, PT_MOUT, PT_NONE, PT_NONE),
			    p), TEE_ERROR_SHORT_BUFFER);
	CHECK(p[1].memref.size == TS_EVIDENCE_SIZE);
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_GET_EVIDENCE,
			    TEE_PARAM_TYPES(PT_MIN, PT_MOUT, PT_VOUT, PT_NONE),
			    p), TEE_ERROR_BAD_PARAMETERS);
	th_close_session(s);
}

static void test_evidence_fields_and_signature(void)
{
	static const uint8_t uuid[16] = { 0x83, 0xc7, 0xc7, 0x01, 0x68, 0xcf,
		0x4f, 0xf1, 0x9f, 0xf7, 0x4b, 0xa8, 0x0b, 0x8f, 0x66, 0xec };
	void *s = th_open_session(), *s2 = th_open_session();
	struct ts_evidence ev, ev2, ev3;
	uint8_t nonce[32], e[16], n[512], zero[32] = { 0 };
	size_t e_len = sizeof(e), n_len = sizeof(n);
	uint32_t alg = 0;

	th_rand_bytes(nonce, sizeof(nonce));
	CHECK_RES(pin(s, kbs.pub, 32), TEE_SUCCESS);
	CHECK_RES(pin(s2, kbs.pub, 32), TEE_SUCCESS);
	CHECK_RES(evidence(s, nonce, &ev), TEE_SUCCESS);
	CHECK(ev.body.magic == TS_EVIDENCE_MAGIC && ev.body.version == 1);
	CHECK(ev.body.tee_kind == TS_TEE_KIND_SIMULATOR);
	CHECK(ev.body.flags == TS_EVIDENCE_FLAG_SIMULATED);
	CHECK(ev.body.abi_version == TA_TEESPARK_ABI_VERSION);
	CHECK(memcmp(ev.body.ta_uuid, uuid, 16) == 0);
	CHECK(memcmp(ev.body.verifier_nonce, nonce, 32) == 0);
	CHECK(memcmp(ev.body.kbs_public_key, kbs.pub, 32) == 0);
	CHECK(memcmp(ev.body.ta_public_key, zero, 32) != 0);
	CHECK(ev.reserved == 0);

	CHECK_RES(pubkey(s, e, &e_len, n, &n_len, &alg), TEE_SUCCESS);
	CHECK(alg == TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA256);
	CHECK(ev.signature_size == n_len);
	CHECK(th_verify_evidence(&ev, e, e_len, n, n_len));
	/* Unused signature bytes are zero (they are hashed into replies). */
	CHECK(ev.signature_size == 512 ||
	      ev.signature[ev.signature_size] == 0);
	/* Negative controls: any change to body or measurement breaks it. */
	ev2 = ev;
	ev2.body.ta_public_key[0] ^= 1;
	CHECK(!th_verify_evidence(&ev2, e, e_len, n, n_len));
	ev2 = ev;
	ev2.measurement[31] ^= 1;
	CHECK(!th_verify_evidence(&ev2, e, e_len, n, n_len));
	ev2 = ev;
	ev2.body.flags = 0;
	CHECK(!th_verify_evidence(&ev2, e, e_len, n, n_len));

	/* The session keeps its X25519 key; another session has its own; the
	 * measurement is the TA's, the same in both. */
	CHECK_RES(evidence(s, nonce, &ev2), TEE_SUCCESS);
	CHECK(memcmp(ev2.body.ta_public_key, ev.body.ta_public_key, 32) == 0);
	CHECK(memcmp(ev2.measurement, ev.measurement, 32) == 0);
	CHECK(th_verify_evidence(&ev2, e, e_len, n, n_len));
	CHECK_RES(evidence(s2, nonce, &ev3), TEE_SUCCESS);
	CHECK(memcmp(ev3.body.ta_public_key, ev.body.ta_public_key, 32) != 0);
	CHECK(memcmp(ev3.measurement, ev.measurement, 32) == 0);
	CHECK(th_verify_evidence(&ev3, e, e_len, n, n_len));
	th_close_session(s);
	th_close_session(s2);
}

static void test_get_device_pubkey(void)
{
	void *s = th_open_session();
	uint8_t e[16], n[512];
	size_t e_len = 0, n_len = 0;
	uint32_t alg = 0;
	TEE_Param p[4];

	/* Needs no pinned key; SHORT_BUFFER reports both sizes. */
	CHECK_RES(pubkey(s, e, &e_len, n, &n_len, &alg), TEE_ERROR_SHORT_BUFFER);
	CHECK(e_len >= 1 && e_len <= sizeof(e));
	CHECK(n_len >= 256 && n_len <= sizeof(n));
	CHECK_RES(pubkey(s, e, &e_len, n, &n_len, &alg), TEE_SUCCESS);
	CHECK(alg == TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA256);
	CHECK(n[0] & 0x80);	/* a full-length modulus */
	CHECK(e_len == 3 && e[0] == 1 && e[1] == 0 && e[2] == 1);
	memset(p, 0, sizeof(p));
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_GET_DEVICE_PUBKEY,
			    TEE_PARAM_TYPES(PT_MOUT, PT_MOUT, PT_NONE, PT_NONE),
			    p), TEE_ERROR_BAD_PARAMETERS);
	th_close_session(s);
}

/* ---------------------------------------------------------- IMPORT */

static void test_import_keys_installs_bound_keys(void)
{
	uint8_t ev_hash[32], ta_pub[32], reply[2048];
	struct th_key_entry k[2];
	struct ts_recipient rc[2];
	struct th_table ta, tb;
	struct ts_table_descriptor d;
	uint8_t rows[20 * 8], sealed[4096], out[4096];
	uint32_t nk = 0, nr = 0;
	size_t len, sl;
	void *s = attested(ev_hash, ta_pub);
	TEE_Param p[4];

	th_table_random(&ta, 8);
	th_table_random(&tb, 8);
	entry(&k[0], 2, ta.table_id);
	entry(&k[1], 5, tb.table_id);
	memset(rc, 0, sizeof(rc));
	th_rand_bytes(rc, sizeof(rc));
	len = th_kbs_reply(&kbs, ev_hash, ta_pub, k, 2, rc, 2, reply);
	CHECK_RES(import(s, reply, len, &nk, &nr), TEE_SUCCESS);
	CHECK(nk == 2 && nr == 2);

	/* Slot 2 holds table A's key: A's descriptor (with its key id)
	 * registers, and A's blocks reseal to what OpenSSL opens. */
	th_rand_bytes(rows, sizeof(rows));
	sl = th_seal_table(k[0].key, &ta, rows, 20, 8, sealed);
	th_descriptor(k[0].key, &ta, 20, 8, k[0].key_id, &d);
	CHECK_RES(th_register(s, &d, 2), TEE_SUCCESS);
	memset(p, 0, sizeof(p));
	p[0].memref.buffer = sealed;
	p[0].memref.size = sl;
	p[1].memref.buffer = out;
	p[1].memref.size = sizeof(out);
	p[2].value.a = 2;
	p[2].value.b = 2;
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_RESEAL_BLOCKS,
			    TEE_PARAM_TYPES(PT_MIN, PT_MOUT, PT_VIN, PT_VOUT),
			    p), TEE_SUCCESS);
	{
		uint8_t got[sizeof(rows)];

		CHECK(th_open_table(k[0].key, out, p[1].memref.size, got,
				    sizeof(got), NULL, 0, NULL) == 20);
		CHECK(memcmp(got, rows, sizeof(rows)) == 0);
	}
	/* A KBS key opens only the table it names: table B's descriptor
	 * MAC'd with slot 2's key is refused, as is A's with another key id. */
	th_descriptor(k[0].key, &tb, 20, 8, k[0].key_id, &d);
	CHECK_RES(th_register(s, &d, 2), TS_ERROR_MANIFEST_AUTH);
	th_descriptor(k[0].key, &ta, 20, 8, k[1].key_id, &d);
	CHECK_RES(th_register(s, &d, 2), TS_ERROR_MANIFEST_AUTH);
	/* ... nor seals another table: RESEAL of a dev-key table into 2. */
	CHECK_RES(th_install_key(s, 0, dev_key), TEE_SUCCESS);
	sl = th_seal_table(dev_key, &tb, rows, 20, 8, sealed);
	CHECK_RES(th_register_table(s, dev_key, &tb, 20, 8, 0), TEE_SUCCESS);
	p[0].memref.size = sl;
	p[1].memref.size = sizeof(out);
	p[2].value.a = 0;
	p[2].value.b = 2;
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_RESEAL_BLOCKS,
			    TEE_PARAM_TYPES(PT_MIN, PT_MOUT, PT_VIN, PT_VOUT),
			    p), TEE_ERROR_ACCESS_DENIED);
	p[2].value.b = 5;	/* slot 5 holds B's key: allowed */
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_RESEAL_BLOCKS,
			    TEE_PARAM_TYPES(PT_MIN, PT_MOUT, PT_VIN, PT_VOUT),
			    p), TEE_SUCCESS);
	th_close_session(s);
}

static void test_import_refuses_bad_signature(void)
{
	uint8_t ev_hash[32], ta_pub[32], reply[2048];
	struct th_key_entry k;
	struct th_table t;
	size_t len;
	void *s = attested(ev_hash, ta_pub);

	th_table_random(&t, 8);
	entry(&k, 3, t.table_id);
	/* Signed by another key. */
	len = th_kbs_reply(&rogue, ev_hash, ta_pub, &k, 1, NULL, 0, reply);
	CHECK_RES(import(s, reply, len, NULL, NULL), TS_ERROR_REPLY_SIGNATURE);
	/* Signed by the KBS, then one bit changed anywhere before the
	 * signature, or in the signature. */
	len = th_kbs_reply(&kbs, ev_hash, ta_pub, &k, 1, NULL, 0, reply);
	reply[40] ^= 1;		/* kbs_ephemeral_key */
	CHECK_RES(import(s, reply, len, NULL, NULL), TS_ERROR_REPLY_SIGNATURE);
	reply[40] ^= 1;
	reply[TS_KBS_REPLY_HEADER_SIZE + 60] ^= 4;	/* wrapped key */
	CHECK_RES(import(s, reply, len, NULL, NULL), TS_ERROR_REPLY_SIGNATURE);
	reply[TS_KBS_REPLY_HEADER_SIZE + 60] ^= 4;
	reply[len - 1] ^= 0x20;
	CHECK_RES(import(s, reply, len, NULL, NULL), TS_ERROR_REPLY_SIGNATURE);
	reply[len - 1] ^= 0x20;
	CHECK(slot_is_empty(s, 3));	/* nothing was installed */
	/* Negative control: the restored reply imports. */
	CHECK_RES(import(s, reply, len, NULL, NULL), TEE_SUCCESS);
	CHECK(!slot_is_empty(s, 3));
	th_close_session(s);
}

static void test_import_refuses_replayed_and_stale_replies(void)
{
	uint8_t h1[32], h2[32], ta_pub[32], r1[2048], r2[2048], nonce[32];
	struct ts_evidence ev;
	struct th_key_entry k;
	struct th_table t;
	size_t l1, l2;
	void *s = attested(h1, ta_pub);

	th_table_random(&t, 8);
	entry(&k, 1, t.table_id);
	l1 = th_kbs_reply(&kbs, h1, ta_pub, &k, 1, NULL, 0, r1);
	/* A newer evidence makes the reply to the older one stale. */
	th_rand_bytes(nonce, sizeof(nonce));
	CHECK_RES(evidence(s, nonce, &ev), TEE_SUCCESS);
	th_sha256(&ev, sizeof(ev), h2);
	CHECK_RES(import(s, r1, l1, NULL, NULL), TS_ERROR_REPLY_STALE);
	CHECK(slot_is_empty(s, 1));
	l2 = th_kbs_reply(&kbs, h2, ta_pub, &k, 1, NULL, 0, r2);
	CHECK_RES(import(s, r2, l2, NULL, NULL), TEE_SUCCESS);
	/* The same reply a second time: replay. */
	CHECK_RES(import(s, r2, l2, NULL, NULL), TS_ERROR_REPLY_STALE);
	/* No evidence pending at all. */
	CHECK_RES(import(s, r1, l1, NULL, NULL), TS_ERROR_REPLY_STALE);
	th_close_session(s);
}

static void test_import_refuses_another_sessions_reply(void)
{
	uint8_t ha[32], pa[32], hb[32], pb[32], reply[2048];
	struct th_key_entry k;
	struct th_table t;
	size_t len;
	void *a = attested(ha, pa), *b = attested(hb, pb);

	th_table_random(&t, 8);
	entry(&k, 0, t.table_id);
	len = th_kbs_reply(&kbs, hb, pb, &k, 1, NULL, 0, reply);
	CHECK_RES(import(a, reply, len, NULL, NULL), TS_ERROR_REPLY_STALE);
	CHECK(slot_is_empty(a, 0));
	/* The same reply is B's (negative control). */
	CHECK_RES(import(b, reply, len, NULL, NULL), TEE_SUCCESS);
	/* A reply naming A's evidence but wrapped to B's key (a KBS fault)
	 * does not unwrap in A: refused, nothing installed. */
	len = th_kbs_reply(&kbs, ha, pb, &k, 1, NULL, 0, reply);
	CHECK_RES(import(a, reply, len, NULL, NULL), TS_ERROR_REPLY_FORMAT);
	CHECK(slot_is_empty(a, 0));
	th_close_session(a);
	th_close_session(b);
}

static void test_import_refuses_swapped_recipients(void)
{
	uint8_t ev_hash[32], ta_pub[32], reply[2048], priv[32];
	struct ts_recipient rc[2], host;
	size_t len, off;
	void *s = attested(ev_hash, ta_pub);

	memset(rc, 0, sizeof(rc));
	memcpy(rc[0].recipient_id, "bank-analyst-001", 16);
	th_x25519_keypair(priv, rc[0].public_key);
	memcpy(rc[1].recipient_id, "risk-team-000002", 16);
	th_x25519_keypair(priv, rc[1].public_key);
	len = th_kbs_reply(&kbs, ev_hash, ta_pub, NULL, 0, rc, 2, reply);
	off = TS_KBS_REPLY_HEADER_SIZE;
	/* The host puts its own key in place of recipient 1's. */
	memcpy(&host, reply + off + TS_RECIPIENT_SIZE, sizeof(host));
	th_x25519_keypair(priv, host.public_key);
	memcpy(reply + off + TS_RECIPIENT_SIZE, &host, sizeof(host));
	CHECK_RES(import(s, reply, len, NULL, NULL), TS_ERROR_REPLY_SIGNATURE);
	/* Or swaps the two entries. */
	memcpy(reply + off, &rc[1], sizeof(rc[1]));
	memcpy(reply + off + TS_RECIPIENT_SIZE, &rc[0], sizeof(rc[0]));
	CHECK_RES(import(s, reply, len, NULL, NULL), TS_ERROR_REPLY_SIGNATURE);
	th_close_session(s);
}

static void test_import_refuses_malformed_replies(void)
{
	uint8_t ev_hash[32], ta_pub[32], reply[2048];
	struct th_key_entry k[3];
	struct th_table t;
	struct ts_kbs_reply_header *h = (void *)reply;
	struct ts_wrapped_key *w = (void *)(reply + TS_KBS_REPLY_HEADER_SIZE);
	size_t len;
	void *s = th_open_session();
	uint32_t nk = 7;

	th_table_random(&t, 8);
	entry(&k[0], 1, t.table_id);
	entry(&k[1], 4, t.table_id);
	entry(&k[2], 6, t.table_id);
	memset(reply, 0, sizeof(reply));
	CHECK_RES(import(s, reply, 200, NULL, NULL), TS_ERROR_KBS_NOT_PINNED);
	th_close_session(s);
	s = attested(ev_hash, ta_pub);
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_IMPORT_KEYS,
			    TEE_PARAM_TYPES(PT_MIN, PT_NONE, PT_NONE, PT_NONE),
			    (TEE_Param[4]){ { { 0 } } }), TEE_ERROR_BAD_PARAMETERS);

	len = th_kbs_reply(&kbs, ev_hash, ta_pub, k, 3, NULL, 0, reply);
	CHECK_RES(import(s, reply, len - 1, &nk, NULL), TS_ERROR_REPLY_FORMAT);
	CHECK(nk == 0);
	CHECK_RES(import(s, reply, 159, NULL, NULL), TS_ERROR_REPLY_FORMAT);
	CHECK_RES(import(s, reply, 0, NULL, NULL), TS_ERROR_REPLY_FORMAT);
	CHECK_RES(import(s, reply, 1377, NULL, NULL), TS_ERROR_REPLY_FORMAT);
	/* Fields the KBS itself got wrong (re-signed after each edit). */
#define SIGNED_EDIT(mutation, undo) do { mutation; \
		th_kbs_resign(&kbs, reply, len); \
		CHECK_RES(import(s, reply, len, NULL, NULL), \
			  TS_ERROR_REPLY_FORMAT); undo; } while (0)
	SIGNED_EDIT(h->magic ^= 1, h->magic ^= 1);
	SIGNED_EDIT(h->version = 2, h->version = 1);
	SIGNED_EDIT(h->reserved = 1, h->reserved = 0);
	SIGNED_EDIT(h->reply_size++, h->reply_size--);
	SIGNED_EDIT(h->key_count = 2, h->key_count = 3);
	SIGNED_EDIT(h->recipient_count = 1, h->recipient_count = 0);
	SIGNED_EDIT(w[1].slot = 1, w[1].slot = 4);	/* duplicate slot */
	SIGNED_EDIT(w[2].slot = TS_MAX_KEY_SLOTS, w[2].slot = 6);
	SIGNED_EDIT(w[0].flags = 1, w[0].flags = 0);
	SIGNED_EDIT(w[2].reserved = 1, w[2].reserved = 0);
	/* The last key does not unwrap (its AAD changed after wrapping):
	 * all or nothing, keys 0 and 1 are not installed either. */
	SIGNED_EDIT(w[2].key_id[0] ^= 1, w[2].key_id[0] ^= 1);
#undef SIGNED_EDIT
	CHECK(slot_is_empty(s, 1) && slot_is_empty(s, 4) && slot_is_empty(s, 6));
	/* Nine keys: more than there are slots. */
	h->key_count = 9;
	h->reply_size = (uint32_t)th_kbs_reply_size(9, 0);
	th_kbs_resign(&kbs, reply, h->reply_size);
	CHECK_RES(import(s, reply, h->reply_size, NULL, NULL),
		  TS_ERROR_REPLY_FORMAT);
	/* The untouched reply still imports (negative control). */
	len = th_kbs_reply(&kbs, ev_hash, ta_pub, k, 3, NULL, 0, reply);
	CHECK_RES(import(s, reply, len, &nk, NULL), TEE_SUCCESS);
	CHECK(nk == 3);
	CHECK(!slot_is_empty(s, 1) && !slot_is_empty(s, 4) && !slot_is_empty(s, 6));
	th_close_session(s);
}

/* ---------------------------------------------------------- EXPORT */

static void export_request(struct ts_export_request *r, uint32_t slot,
			   uint32_t rpb, const uint8_t id[16])
{
	memset(r, 0, sizeof(*r));
	r->in_key_slot = slot;
	r->rows_per_block = rpb;
	memcpy(r->recipient_id, id, 16);
	memcpy(r->out_table_id, "exported-result!", 16);
	r->out_table_version = 42;
}

static void test_export_result_opens_with_recipient_key(void)
{
	const uint32_t n = 47, rs = 24;
	uint8_t ev_hash[32], ta_pub[32], reply[2048], priv[32], rkey[32];
	uint8_t rows[47 * 24], got[47 * 24];
	struct ts_recipient rc[2];
	struct ts_export_request req;
	struct ts_result_envelope env;
	struct ts_table_descriptor d;
	struct ts_block_header hdrs[8];
	struct th_table t;
	uint8_t *in, *out;
	size_t in_len = th_sealed_size(n, rs, 7), need, out_len;
	uint32_t nb = 0, i;
	TEE_Param p3;
	void *s = attested(ev_hash, ta_pub);

	memset(rc, 0, sizeof(rc));
	memcpy(rc[0].recipient_id, "someone-else-000", 16);
	th_x25519_keypair(priv, rc[0].public_key);
	memcpy(rc[1].recipient_id, "bank-analyst-001", 16);
	th_x25519_keypair(priv, rc[1].public_key);
	CHECK_RES(import(s, reply, th_kbs_reply(&kbs, ev_hash, ta_pub, NULL, 0,
						rc, 2, reply), NULL, NULL),
		  TEE_SUCCESS);
	CHECK_RES(th_install_key(s, 0, dev_key), TEE_SUCCESS);
	th_table_random(&t, rs);
	th_rand_bytes(rows, sizeof(rows));
	in = malloc(in_len);
	th_seal_table(dev_key, &t, rows, n, 7, in);
	CHECK_RES(th_register_table(s, dev_key, &t, n, 7, 0), TEE_SUCCESS);

	/* 47 rows in blocks of 7 -> blocks of 10: 5 blocks. */
	export_request(&req, 0, 10, rc[1].recipient_id);
	need = TS_RESULT_ENVELOPE_SIZE + TS_TABLE_DESCRIPTOR_SIZE +
	       th_sealed_size(n, rs, 10);
	out = malloc(need);
	out_len = 0;
	CHECK_RES(export(s, in, in_len, &req, NULL, &out_len, NULL),
		  TEE_ERROR_SHORT_BUFFER);
	CHECK(out_len == need);
	out_len = need;
	CHECK_RES(export(s, in, in_len, &req, out, &out_len, &p3), TEE_SUCCESS);
	CHECK(out_len == need);
	CHECK(p3.value.a == n && p3.value.b == 5);

	memcpy(&env, out, sizeof(env));
	memcpy(&d, out + sizeof(env), sizeof(d));
	CHECK(memcmp(env.recipient_id, "bank-analyst-001", 16) == 0);
	CHECK(th_open_envelope(priv, rc[1].public_key, &env, rkey) == 0);
	/* Negative control: another recipient's key does not open it. */
	{
		uint8_t p2[32], pub2[32], k2[32];

		th_x25519_keypair(p2, pub2);
		CHECK(th_open_envelope(p2, pub2, &env, k2) != 0);
		env.recipient_id[0] ^= 1;	/* AAD */
		CHECK(th_open_envelope(priv, rc[1].public_key, &env, k2) != 0);
		env.recipient_id[0] ^= 1;
	}
	CHECK(th_descriptor_verify(rkey, &d));
	CHECK(memcmp(d.key_id, "bank-analyst-001", 16) == 0);
	CHECK(memcmp(d.table_id, "exported-result!", 16) == 0);
	CHECK(d.table_version == 42 && d.row_count == n && d.block_count == 5 &&
	      d.row_size == rs && d.rows_per_block == 10);
	CHECK(memcmp(d.schema_hash, t.schema_hash, 32) == 0);
	CHECK(th_open_table(rkey, out + sizeof(env) + sizeof(d),
			    out_len - sizeof(env) - sizeof(d), got, sizeof(got),
			    hdrs, 8, &nb) == n);
	CHECK(nb == 5);
	CHECK(memcmp(got, rows, sizeof(rows)) == 0);
	for (i = 0; i < nb; i++)
		CHECK(hdrs[i].row_count == (i < 4 ? 10u : 7u) &&
		      hdrs[i].table_version == 42 &&
		      memcmp(hdrs[i].table_id, "exported-result!", 16) == 0);
	/* The dev key does not open the export; two exports differ. */
	CHECK(th_open_table(dev_key, out + sizeof(env) + sizeof(d),
			    out_len - sizeof(env) - sizeof(d), got, sizeof(got),
			    NULL, 0, NULL) < 0);
	{
		uint8_t *again = malloc(need), k2[32];
		size_t l2 = need;

		CHECK_RES(export(s, in, in_len, &req, again, &l2, NULL),
			  TEE_SUCCESS);
		CHECK(th_open_envelope(priv, rc[1].public_key, (void *)again,
				       k2) == 0);
		CHECK(memcmp(k2, rkey, 32) != 0);	/* fresh result key */
		free(again);
	}
	free(in);
	free(out);
	th_close_session(s);
}

static void test_export_result_refusals(void)
{
	uint8_t ev_hash[32], ta_pub[32], reply[2048], priv[32];
	uint8_t rows[20 * 8], in[1024], out[4096];
	struct ts_recipient rc;
	struct ts_export_request req;
	struct th_table t;
	size_t in_len, out_len;
	TEE_Param p3, p[4];
	void *s = attested(ev_hash, ta_pub);

	memset(&rc, 0, sizeof(rc));
	memcpy(rc.recipient_id, "bank-analyst-001", 16);
	th_x25519_keypair(priv, rc.public_key);
	CHECK_RES(th_install_key(s, 0, dev_key), TEE_SUCCESS);
	th_table_random(&t, 8);
	th_rand_bytes(rows, sizeof(rows));
	in_len = th_seal_table(dev_key, &t, rows, 20, 5, in);
	CHECK_RES(th_register_table(s, dev_key, &t, 20, 5, 0), TEE_SUCCESS);
	export_request(&req, 0, 10, rc.recipient_id);

	/* No reply imported yet: nobody is a recipient. */
	out_len = sizeof(out);
	CHECK_RES(export(s, in, in_len, &req, out, &out_len, NULL),
		  TS_ERROR_RECIPIENT_UNKNOWN);
	CHECK_RES(import(s, reply, th_kbs_reply(&kbs, ev_hash, ta_pub, NULL, 0,
						&rc, 1, reply), NULL, NULL),
		  TEE_SUCCESS);
	/* A recipient the KBS did not name. */
	memcpy(req.recipient_id, "host-own-key-000", 16);
	out_len = sizeof(out);
	CHECK_RES(export(s, in, in_len, &req, out, &out_len, NULL),
		  TS_ERROR_RECIPIENT_UNKNOWN);
	memcpy(req.recipient_id, rc.recipient_id, 16);
	/* Bad requests. */
	req.rows_per_block = 0;
	out_len = sizeof(out);
	CHECK_RES(export(s, in, in_len, &req, out, &out_len, NULL),
		  TS_ERROR_BAD_REQUEST);
	req.rows_per_block = 10;
	req.in_key_slot = TS_MAX_KEY_SLOTS;
	CHECK_RES(export(s, in, in_len, &req, out, &out_len, NULL),
		  TS_ERROR_BAD_REQUEST);
	req.in_key_slot = 0;
	memset(p, 0, sizeof(p));
	p[0].memref.buffer = in;
	p[0].memref.size = in_len;
	p[1].memref.buffer = out;
	p[1].memref.size = sizeof(out);
	p[2].memref.buffer = &req;
	p[2].memref.size = sizeof(req) - 1;
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_EXPORT_RESULT,
			    TEE_PARAM_TYPES(PT_MIN, PT_MOUT, PT_MIN, PT_VOUT), p),
		  TEE_ERROR_BAD_PARAMETERS);
	p[2].memref.size = sizeof(req);
	CHECK_RES(th_invoke(s, TA_TEESPARK_CMD_EXPORT_RESULT,
			    TEE_PARAM_TYPES(PT_MIN, PT_MOUT, PT_MIN, PT_NONE), p),
		  TEE_ERROR_BAD_PARAMETERS);
	/* Input checked like every block command. */
	in[2 * TS_SEALED_BLOCK_SIZE(40) + TS_BLOCK_HEADER_SIZE + 3] ^= 1;
	out_len = sizeof(out);
	CHECK_RES(export(s, in, in_len, &req, out, &out_len, &p3),
		  TS_ERROR_BLOCK_AUTH);
	CHECK(p3.value.a == 2);
	in[2 * TS_SEALED_BLOCK_SIZE(40) + TS_BLOCK_HEADER_SIZE + 3] ^= 1;
	out_len = sizeof(out);
	CHECK_RES(export(s, in, in_len - TS_SEALED_BLOCK_SIZE(40), &req, out,
			 &out_len, &p3), TS_ERROR_BLOCK_SEQUENCE);
	CHECK(p3.value.a == 3);
	out_len = sizeof(out);
	CHECK_RES(export(s, in, in_len, &req, out, &out_len, &p3),
		  TEE_SUCCESS);
	th_close_session(s);
}

/* An empty table exports as one empty block. */
static void test_export_empty_table(void)
{
	uint8_t ev_hash[32], ta_pub[32], reply[2048], priv[32], rkey[32];
	uint8_t in[256], out[1024], got[1];
	struct ts_recipient rc;
	struct ts_export_request req;
	struct th_table t;
	size_t in_len, out_len = sizeof(out);
	uint32_t nb = 0;
	TEE_Param p3;
	void *s = attested(ev_hash, ta_pub);

	memset(&rc, 0, sizeof(rc));
	memcpy(rc.recipient_id, "bank-analyst-001", 16);
	th_x25519_keypair(priv, rc.public_key);
	CHECK_RES(import(s, reply, th_kbs_reply(&kbs, ev_hash, ta_pub, NULL, 0,
						&rc, 1, reply), NULL, NULL),
		  TEE_SUCCESS);
	CHECK_RES(th_install_key(s, 0, dev_key), TEE_SUCCESS);
	th_table_random(&t, 8);
	in_len = th_seal_table(dev_key, &t, got, 0, 5, in);
	CHECK_RES(th_register_table(s, dev_key, &t, 0, 5, 0), TEE_SUCCESS);
	export_request(&req, 0, 3, rc.recipient_id);
	CHECK_RES(export(s, in, in_len, &req, out, &out_len, &p3), TEE_SUCCESS);
	CHECK(p3.value.a == 0 && p3.value.b == 1);
	CHECK(th_open_envelope(priv, rc.public_key, (void *)out, rkey) == 0);
	CHECK(th_descriptor_verify(rkey, (void *)(out + TS_RESULT_ENVELOPE_SIZE)));
	CHECK(th_open_table(rkey, out + TS_RESULT_ENVELOPE_SIZE +
				  TS_TABLE_DESCRIPTOR_SIZE,
			    out_len - TS_RESULT_ENVELOPE_SIZE -
				    TS_TABLE_DESCRIPTOR_SIZE,
			    got, 0, NULL, 0, &nb) == 0);
	CHECK(nb == 1);
	th_close_session(s);
}

int main(int argc, char **argv)
{
	th_init();
	th_rand_seed(0x5eed0005);
	th_rand_bytes(dev_key, 32);
	th_kbs_init(&kbs);
	th_kbs_init(&rogue);
	RUN_TEST(argc, argv, test_pin_kbs_key_once_per_session);
	RUN_TEST(argc, argv, test_get_evidence_checks_params_and_pin);
	RUN_TEST(argc, argv, test_evidence_fields_and_signature);
	RUN_TEST(argc, argv, test_get_device_pubkey);
	RUN_TEST(argc, argv, test_import_keys_installs_bound_keys);
	RUN_TEST(argc, argv, test_import_refuses_bad_signature);
	RUN_TEST(argc, argv, test_import_refuses_replayed_and_stale_replies);
	RUN_TEST(argc, argv, test_import_refuses_another_sessions_reply);
	RUN_TEST(argc, argv, test_import_refuses_swapped_recipients);
	RUN_TEST(argc, argv, test_import_refuses_malformed_replies);
	RUN_TEST(argc, argv, test_export_result_opens_with_recipient_key);
	RUN_TEST(argc, argv, test_export_result_refusals);
	RUN_TEST(argc, argv, test_export_empty_table);
	th_kbs_free(&kbs);
	th_kbs_free(&rogue);
	TA_DestroyEntryPoint();
	return th_summary("test_ta_kbs");
}

/*
 * test_crypto.c - known-answer and semantics tests of the simulator's GP
 * crypto: AES-256-GCM (McGrew-Viega test cases), AES ECB/CBC/CTR
 * (NIST SP 800-38A), SHA-256 (FIPS 180-2), HMAC-SHA256 (RFC 4231 and an
 * independent HMAC built from the SHA-256 digest), GP units and limits,
 * SHORT_BUFFER, tamper detection and the panics OP-TEE raises.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim_internal.h"
#include "test_util.h"

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */
/* ---------------------------------------------------------------------- */

static TEE_ObjectHandle make_key(uint32_t type, const uint8_t *k, size_t len)
{
	TEE_ObjectHandle o = TEE_HANDLE_NULL;
	TEE_Attribute a;

	CHECK_RES(TEE_AllocateTransientObject(type, (uint32_t)len * 8, &o),
		  TEE_SUCCESS);
	TEE_InitRefAttribute(&a, TEE_ATTR_SECRET_VALUE, k, len);
	CHECK_RES(TEE_PopulateTransientObject(o, &a, 1), TEE_SUCCESS);
	return o;
}

static TEE_OperationHandle make_op(uint32_t algo, uint32_t mode,
				   TEE_ObjectHandle key, uint32_t max_bits)
{
	TEE_OperationHandle op = TEE_HANDLE_NULL;

	CHECK_RES(TEE_AllocateOperation(&op, algo, mode, max_bits),
		  TEE_SUCCESS);
	if (key)
		CHECK_RES(TEE_SetOperationKey(op, key), TEE_SUCCESS);
	return op;
}

struct gcm_vec {
	const char *name, *key, *iv, *aad, *pt, *ct, *tag;
};

/* McGrew & Viega, "The Galois/Counter Mode of Operation", test cases
 * 13-16 (AES-256, 96-bit IV) and 17 (64-bit IV). */
static const struct gcm_vec gcm_vecs[] = {
	{ "TC13 empty",
	  "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "", "", "",
	  "530f8afbc74536b9a963b4f1c4cb738b" },
	{ "TC14 one block",
	  "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "",
	  "00000000000000000000000000000000",
	  "cea7403d4d606b6e074ec5d3baf39d18",
	  "d0d1c8a799996bf0265b98b5d48ab919" },
	{ "TC15 64 bytes",
	  "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	  "cafebabefacedbaddecaf888", "",
	  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
	  "b094dac5d93471bdec1a502270e3cc6c" },
	{ "TC16 60 bytes + AAD",
	  "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	  "cafebabefacedbaddecaf888",
	  "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	  "76fc6ece0f4e1768cddf8853bb2d551b" },
	{ "TC17 64-bit IV",
	  "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	  "cafebabefacedbad",
	  "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	  "c3762df1ca787d32ae47c13bf19844cbaf1ae14d0b976afac52ff7d79bba9de0"
	  "feb582d33934a4f0954cc2363bc73f7862ac430e64abe499f47c9b1f",
	  "3a337dbf46a792c45e454913fe2ea8f2" },
};

struct gcm_case {
	uint8_t key[32], iv[64], aad[64], pt[64], ct[64], tag[16];
	size_t key_len, iv_len, aad_len, pt_len, ct_len, tag_len;
};

static void load_case(const struct gcm_vec *v, struct gcm_case *c)
{
	c->key_len = unhex(c->key, v->key);
	c->iv_len = unhex(c->iv, v->iv);
	c->aad_len = unhex(c->aad, v->aad);
	c->pt_len = unhex(c->pt, v->pt);
	c->ct_len = unhex(c->ct, v->ct);
	c->tag_len = unhex(c->tag, v->tag);
}

/* One-shot seal through the GP API. */
static TEE_Result seal(TEE_OperationHandle op, const struct gcm_case *c,
		       uint32_t tag_bits, uint8_t *ct, size_t *ct_len,
		       uint8_t *tag, size_t *tag_len)
{
	TEE_Result r = TEE_AEInit(op, c->iv, c->iv_len, tag_bits, c->aad_len,
				  c->pt_len);

	if (r != TEE_SUCCESS)
		return r;
	TEE_AEUpdateAAD(op, c->aad, c->aad_len);
	return TEE_AEEncryptFinal(op, c->pt, c->pt_len, ct, ct_len, tag,
				  tag_len);
}

static TEE_Result open_(TEE_OperationHandle op, const struct gcm_case *c,
			const uint8_t *aad, const uint8_t *ct, uint8_t *tag,
			size_t tag_len, uint8_t *pt, size_t *pt_len)
{
	CHECK_RES(TEE_AEInit(op, c->iv, c->iv_len, (uint32_t)tag_len * 8,
			     c->aad_len, c->ct_len), TEE_SUCCESS);
	TEE_AEUpdateAAD(op, aad, c->aad_len);
	return TEE_AEDecryptFinal(op, ct, c->ct_len, pt, pt_len, tag,
				  tag_len);
}

/* ---------------------------------------------------------------------- */
/* AES-GCM                                                                 */
/* ---------------------------------------------------------------------- */

static void test_gcm_kat(void)
{
	size_t i;

	for (i = 0; i < sizeof(gcm_vecs) / sizeof(gcm_vecs[0]); i++) {
		struct gcm_case c;
		TEE_ObjectHandle k;
		TEE_OperationHandle enc, dec;
		uint8_t ct[64], pt[64], tag[16];
		size_t ct_len = sizeof(ct), tag_len = sizeof(tag);
		size_t pt_len = sizeof(pt);

		load_case(&gcm_vecs[i], &c);
		k = make_key(TEE_TYPE_AES, c.key, c.key_len);
		enc = make_op(TEE_ALG_AES_GCM, TEE_MODE_ENCRYPT, k, 256);
		dec = make_op(TEE_ALG_AES_GCM, TEE_MODE_DECRYPT, k, 256);

		CHECK_RES(seal(enc, &c, 128, ct, &ct_len, tag, &tag_len),
			  TEE_SUCCESS);
		CHECK(ct_len == c.ct_len);
		CHECK(tag_len == 16);
		CHECK_MEM(ct, c.ct, c.ct_len);
		CHECK_MEM(tag, c.tag, 16);

		/* The same operation is reusable after a final. */
		ct_len = sizeof(ct);
		tag_len = sizeof(tag);
		memset(ct, 0, sizeof(ct));
		CHECK_RES(seal(enc, &c, 128, ct, &ct_len, tag, &tag_len),
			  TEE_SUCCESS);
		CHECK_MEM(ct, c.ct, c.ct_len);

		memcpy(tag, c.tag, 16);
		CHECK_RES(open_(dec, &c, c.aad, c.ct, tag, 16, pt, &pt_len),
			  TEE_SUCCESS);
		CHECK(pt_len == c.pt_len);
		CHECK_MEM(pt, c.pt, c.pt_len);

		TEE_FreeOperation(enc);
		TEE_FreeOperation(dec);
		TEE_FreeTransientObject(k);
	}
}

/* Streaming in odd chunk sizes gives the one-shot result. */
static void test_gcm_streaming(void)
{
	struct gcm_case c;
	TEE_ObjectHandle k;
	TEE_OperationHandle enc, dec;
	uint8_t ct[64], pt[64], tag[16];
	static const size_t chunks[] = { 1, 7, 16, 3, 33 };
	size_t off = 0, i, n, tag_len = 16;

	load_case(&gcm_vecs[3], &c);	/* 60 bytes + AAD */
	k = make_key(TEE_TYPE_AES, c.key, c.key_len);
	enc = make_op(TEE_ALG_AES_GCM, TEE_MODE_ENCRYPT, k, 256);
	dec = make_op(TEE_ALG_AES_GCM, TEE_MODE_DECRYPT, k, 256);

	CHECK_RES(TEE_AEInit(enc, c.iv, 12, 128, c.aad_len, c.pt_len),
		  TEE_SUCCESS);
	TEE_AEUpdateAAD(enc, c.aad, 5);
	TEE_AEUpdateAAD(enc, c.aad + 5, c.aad_len - 5);
	for (i = 0; off < c.pt_len - 4; i++) {
		size_t want = chunks[i % 5];

		if (want > c.pt_len - 4 - off)
			want = c.pt_len - 4 - off;
		n = sizeof(ct) - off;
		CHECK_RES(TEE_AEUpdate(enc, c.pt + off, want, ct + off, &n),
			  TEE_SUCCESS);
		CHECK(n == want);	/* no buffering for GCM */
		off += n;
	}
	n = sizeof(ct) - off;
	CHECK_RES(TEE_AEEncryptFinal(enc, c.pt + off, 4, ct + off, &n, tag,
				     &tag_len), TEE_SUCCESS);
	CHECK(n == 4);
	CHECK_MEM(ct, c.ct, c.ct_len);
	CHECK_MEM(tag, c.tag, 16);

	/* Decrypt in two pieces. */
	CHECK_RES(TEE_AEInit(dec, c.iv, 12, 128, 0, 0), TEE_SUCCESS);
	TEE_AEUpdateAAD(dec, c.aad, c.aad_len);
	n = sizeof(pt);
	CHECK_RES(TEE_AEUpdate(dec, c.ct, 17, pt, &n), TEE_SUCCESS);
	CHECK(n == 17);
	n = sizeof(pt) - 17;
	CHECK_RES(TEE_AEDecryptFinal(dec, c.ct + 17, c.ct_len - 17, pt + 17,
				     &n, tag, 16), TEE_SUCCESS);
	CHECK(n == c.ct_len - 17);
	CHECK_MEM(pt, c.pt, c.pt_len);

	TEE_FreeOperation(enc);
	TEE_FreeOperation(dec);
	TEE_FreeTransientObject(k);
}

/* One operation alternating nonce lengths (TC17's 64-bit IV, TC16's
 * 96-bit IV), and TEE_CopyOperation of a half-done encryption. */
static void test_gcm_iv_switch_and_copy(void)
{
	struct gcm_case c16, c17;
	TEE_ObjectHandle k;
	TEE_OperationHandle enc, cp;
	uint8_t ct[64], ct2[64], tag[16], tag2[16];
	size_t n, tl;
	int round;

	load_case(&gcm_vecs[3], &c16);
	load_case(&gcm_vecs[4], &c17);
	k = make_key(TEE_TYPE_AES, c16.key, c16.key_len);
	enc = make_op(TEE_ALG_AES_GCM, TEE_MODE_ENCRYPT, k, 256);
	for (round = 0; round < 4; round++) {
		const struct gcm_case *c = round % 2 ? &c16 : &c17;

		n = sizeof(ct);
		tl = sizeof(tag);
		CHECK_RES(seal(enc, c, 128, ct, &n, tag, &tl), TEE_SUCCESS);
		CHECK_MEM(ct, c->ct, c->ct_len);
		CHECK_MEM(tag, c->tag, 16);
	}

	cp = make_op(TEE_ALG_AES_GCM, TEE_MODE_ENCRYPT, TEE_HANDLE_NULL, 256);
	CHECK_RES(TEE_AEInit(enc, c16.iv, 12, 128, 0, 0), TEE_SUCCESS);
	TEE_AEUpdateAAD(enc, c16.aad, c16.aad_len);
	n = sizeof(ct);
	CHECK_RES(TEE_AEUpdate(enc, c16.pt, 16, ct, &n), TEE_SUCCESS);
	TEE_CopyOperation(cp, enc);
	memcpy(ct2, ct, 16);
	n = sizeof(ct) - 16;
	tl = 16;
	CHECK_RES(TEE_AEEncryptFinal(enc, c16.pt + 16, c16.pt_len - 16,
				     ct + 16, &n, tag, &tl), TEE_SUCCESS);
	n = sizeof(ct2) - 16;
	tl = 16;
	CHECK_RES(TEE_AEEncryptFinal(cp, c16.pt + 16, c16.pt_len - 16,
				     ct2 + 16, &n, tag2, &tl), TEE_SUCCESS);
	CHECK_MEM(ct, c16.ct, c16.ct_len);
	CHECK_MEM(ct2, c16.ct, c16.ct_len);
	CHECK_MEM(tag, c16.tag, 16);
	CHECK_MEM(tag2, c16.tag, 16);
	TEE_FreeOperation(cp);

	/* In place (destData == srcData), as the TA's block_gcm.c does. */
	{
		TEE_OperationHandle dec = make_op(TEE_ALG_AES_GCM,
						  TEE_MODE_DECRYPT, k, 256);
		uint8_t buf[64];

		memcpy(buf, c16.pt, c16.pt_len);
		CHECK_RES(TEE_AEInit(enc, c16.iv, 12, 128, 0, 0), TEE_SUCCESS);
		TEE_AEUpdateAAD(enc, c16.aad, c16.aad_len);
		n = 32;
		CHECK_RES(TEE_AEUpdate(enc, buf, 32, buf, &n), TEE_SUCCESS);
		n = sizeof(buf) - 32;
		tl = 16;
		CHECK_RES(TEE_AEEncryptFinal(enc, buf + 32, c16.pt_len - 32,
					     buf + 32, &n, tag, &tl),
			  TEE_SUCCESS);
		CHECK_MEM(buf, c16.ct, c16.ct_len);
		CHECK_MEM(tag, c16.tag, 16);
		CHECK_RES(TEE_AEInit(dec, c16.iv, 12, 128, 0, 0), TEE_SUCCESS);
		TEE_AEUpdateAAD(dec, c16.aad, c16.aad_len);
		n = sizeof(buf);
		CHECK_RES(TEE_AEDecryptFinal(dec, buf, c16.ct_len, buf, &n,
					     tag, 16), TEE_SUCCESS);
		CHECK_MEM(buf, c16.pt, c16.pt_len);
		TEE_FreeOperation(dec);
	}
	TEE_FreeOperation(enc);
	TEE_FreeTransientObject(k);
}

/* Tag lengths 96..128 bits give prefixes of the full tag; others are
 * refused with TEE_ERROR_NOT_SUPPORTED. */
static void test_gcm_tag_lengths(void)
{
	struct gcm_case c;
	TEE_ObjectHandle k;
	TEE_OperationHandle enc, dec;
	uint8_t ct[64], pt[64], tag[16];
	static const uint32_t bad[] = { 0, 32, 64, 88, 100, 127, 136, 256 };
	uint32_t bits;
	size_t i;

	load_case(&gcm_vecs[3], &c);
	k = make_key(TEE_TYPE_AES, c.key, c.key_len);
	enc = make_op(TEE_ALG_AES_GCM, TEE_MODE_ENCRYPT, k, 256);
	dec = make_op(TEE_ALG_AES_GCM, TEE_MODE_DECRYPT, k, 256);

	for (bits = 96; bits <= 128; bits += 8) {
		size_t ct_len = sizeof(ct), tag_len = sizeof(tag);
		size_t pt_len = sizeof(pt);

		memset(tag, 0xee, sizeof(tag));
		CHECK_RES(seal(enc, &c, bits, ct, &ct_len, tag, &tag_len),
			  TEE_SUCCESS);
		CHECK(tag_len == bits / 8);
		CHECK_MEM(tag, c.tag, bits / 8);
		/* Nothing written past the tag length. */
		CHECK(bits == 128 || tag[bits / 8] == 0xee);
		CHECK_RES(open_(dec, &c, c.aad, c.ct, tag, bits / 8, pt,
				&pt_len), TEE_SUCCESS);
		CHECK_MEM(pt, c.pt, c.pt_len);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_RES(TEE_AEInit(enc, c.iv, 12, bad[i], 0, 0),
			  TEE_ERROR_NOT_SUPPORTED);

	/* A tag shorter than the one set at TEE_AEInit does not verify. */
	{
		size_t pt_len = sizeof(pt);

		memcpy(tag, c.tag, 16);
		CHECK_RES(TEE_AEInit(dec, c.iv, 12, 128, 0, 0), TEE_SUCCESS);
		TEE_AEUpdateAAD(dec, c.aad, c.aad_len);
		CHECK_RES(TEE_AEDecryptFinal(dec, c.ct, c.ct_len, pt, &pt_len,
					     tag, 12),
			  TEE_ERROR_MAC_INVALID);
		CHECK(pt_len == 0);
		CHECK(is_zero(pt, c.ct_len));
	}

	TEE_FreeOperation(enc);
	TEE_FreeOperation(dec);
	TEE_FreeTransientObject(k);
}

/* Flipping one bit of ciphertext, tag or AAD gives MAC_INVALID and zeroed
 * output; the untouched input (negative control) opens. */
static void test_gcm_tamper(void)
{
	struct gcm_case c;
	TEE_ObjectHandle k;
	TEE_OperationHandle dec;
	uint8_t ct[64], aad[64], tag[16], pt[64];
	size_t pt_len;
	int what;

	load_case(&gcm_vecs[3], &c);
	k = make_key(TEE_TYPE_AES, c.key, c.key_len);
	dec = make_op(TEE_ALG_AES_GCM, TEE_MODE_DECRYPT, k, 256);

	for (what = 0; what < 4; what++) {
		memcpy(ct, c.ct, c.ct_len);
		memcpy(aad, c.aad, c.aad_len);
		memcpy(tag, c.tag, 16);
		if (what == 1)
			ct[c.ct_len - 1] ^= 0x01;
		if (what == 2)
			tag[7] ^= 0x80;
		if (what == 3)
			aad[0] ^= 0x10;
		memset(pt, 0xaa, sizeof(pt));
		pt_len = sizeof(pt);
		if (what == 0) {
			CHECK_RES(open_(dec, &c, aad, ct, tag, 16, pt, &pt_len),
				  TEE_SUCCESS);
			CHECK_MEM(pt, c.pt, c.pt_len);
			CHECK(pt_len == c.pt_len);
		} else {
			CHECK_RES(open_(dec, &c, aad, ct, tag, 16, pt, &pt_len),
				  TEE_ERROR_MAC_INVALID);
			CHECK(pt_len == 0);
			CHECK(is_zero(pt, c.ct_len));
			/* Only what the call could write is touched. */
			CHECK(pt[c.ct_len] == 0xaa);
		}
	}

	/* After a failure with payload fed through TEE_AEUpdate the
	 * operation stays active (OP-TEE): TEE_AEInit panics until
	 * TEE_ResetOperation. */
	memcpy(tag, c.tag, 16);
	tag[0] ^= 1;
	CHECK_RES(TEE_AEInit(dec, c.iv, 12, 128, 0, 0), TEE_SUCCESS);
	TEE_AEUpdateAAD(dec, c.aad, c.aad_len);
	pt_len = sizeof(pt);
	CHECK_RES(TEE_AEUpdate(dec, c.ct, 16, pt, &pt_len), TEE_SUCCESS);
	pt_len = sizeof(pt) - 16;
	CHECK_RES(TEE_AEDecryptFinal(dec, c.ct + 16, c.ct_len - 16, pt + 16,
				     &pt_len, tag, 16), TEE_ERROR_MAC_INVALID);
	EXPECT_PANIC(TEE_AEInit(dec, c.iv, 12, 128, 0, 0));
	TEE_ResetOperation(dec);
	tag[0] ^= 1;
	pt_len = sizeof(pt);
	CHECK_RES(open_(dec, &c, c.aad, c.ct, tag, 16, pt, &pt_len),
		  TEE_SUCCESS);
	CHECK_MEM(pt, c.pt, c.pt_len);

	TEE_FreeOperation(dec);
	TEE_FreeTransientObject(k);
}

static void test_gcm_short_buffer(void)
{
	struct gcm_case c;
	TEE_ObjectHandle k;
	TEE_OperationHandle enc, dec;
	uint8_t ct[64], pt[64], tag[16];
	size_t ct_len, tag_len, n;

	load_case(&gcm_vecs[2], &c);	/* 64 bytes, no AAD */
	k = make_key(TEE_TYPE_AES, c.key, c.key_len);
	enc = make_op(TEE_ALG_AES_GCM, TEE_MODE_ENCRYPT, k, 256);
	dec = make_op(TEE_ALG_AES_GCM, TEE_MODE_DECRYPT, k, 256);

	CHECK_RES(TEE_AEInit(enc, c.iv, 12, 128, 0, 0), TEE_SUCCESS);
	/* Output too small: needed size back, nothing consumed. */
	ct_len = 10;
	tag_len = 16;
	CHECK_RES(TEE_AEEncryptFinal(enc, c.pt, c.pt_len, ct, &ct_len, tag,
				     &tag_len), TEE_ERROR_SHORT_BUFFER);
	CHECK(ct_len == c.pt_len);
	/* Tag buffer too small (in bytes). */
	ct_len = sizeof(ct);
	tag_len = 15;
	CHECK_RES(TEE_AEEncryptFinal(enc, c.pt, c.pt_len, ct, &ct_len, tag,
				     &tag_len), TEE_ERROR_SHORT_BUFFER);
	CHECK(tag_len == 16);
	/* Both too small: both lengths reported. */
	ct_len = 0;
	tag_len = 0;
	CHECK_RES(TEE_AEEncryptFinal(enc, c.pt, c.pt_len, ct, &ct_len, tag,
				     &tag_len), TEE_ERROR_SHORT_BUFFER);
	CHECK(ct_len == c.pt_len && tag_len == 16);
	/* AEUpdate too small. */
	n = 5;
	CHECK_RES(TEE_AEUpdate(enc, c.pt, 16, ct, &n), TEE_ERROR_SHORT_BUFFER);
	CHECK(n == 16);
	/* The retry still yields the right answer. */
	ct_len = sizeof(ct);
	tag_len = 16;
	CHECK_RES(TEE_AEEncryptFinal(enc, c.pt, c.pt_len, ct, &ct_len, tag,
				     &tag_len), TEE_SUCCESS);
	CHECK_MEM(ct, c.ct, c.ct_len);
	CHECK_MEM(tag, c.tag, 16);

	CHECK_RES(TEE_AEInit(dec, c.iv, 12, 128, 0, 0), TEE_SUCCESS);
	n = c.ct_len - 1;
	memcpy(tag, c.tag, 16);
	CHECK_RES(TEE_AEDecryptFinal(dec, c.ct, c.ct_len, pt, &n, tag, 16),
		  TEE_ERROR_SHORT_BUFFER);
	CHECK(n == c.ct_len);
	CHECK_RES(TEE_AEDecryptFinal(dec, c.ct, c.ct_len, pt, &n, tag, 16),
		  TEE_SUCCESS);
	CHECK_MEM(pt, c.pt, c.pt_len);

	TEE_FreeOperation(enc);
	TEE_FreeOperation(dec);
	TEE_FreeTransientObject(k);
}

/* AES-128/192 keys in a 256-bit operation, GenerateKey round trip. */
static void test_gcm_keys(void)
{
	TEE_ObjectHandle k1 = TEE_HANDLE_NULL, k2 = TEE_HANDLE_NULL;
	TEE_OperationHandle enc, dec;
	uint8_t iv[12] = { 1 }, pt[100], ct[100], out[100], tag[16];
	uint8_t kb[32];
	size_t n, tl, ksz;
	TEE_ObjectInfo info;

	for (n = 0; n < sizeof(pt); n++)
		pt[n] = (uint8_t)n;

	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_AES, 256, &k1),
		  TEE_SUCCESS);
	CHECK_RES(TEE_GenerateKey(k1, 256, NULL, 0), TEE_SUCCESS);
	CHECK_RES(TEE_GetObjectInfo1(k1, &info), TEE_SUCCESS);
	CHECK(info.objectType == TEE_TYPE_AES && info.objectSize == 256 &&
	      info.maxObjectSize == 256 &&
	      (info.handleFlags & TEE_HANDLE_FLAG_INITIALIZED));
	ksz = sizeof(kb);
	CHECK_RES(TEE_GetObjectBufferAttribute(k1, TEE_ATTR_SECRET_VALUE, kb,
					       &ksz), TEE_SUCCESS);
	CHECK(ksz == 32 && !is_zero(kb, 32));

	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_AES, 256, &k2),
		  TEE_SUCCESS);
	CHECK_RES(TEE_GenerateKey(k2, 128, NULL, 0), TEE_SUCCESS);

	enc = make_op(TEE_ALG_AES_GCM, TEE_MODE_ENCRYPT, k1, 256);
	dec = make_op(TEE_ALG_AES_GCM, TEE_MODE_DECRYPT, k1, 256);
	CHECK_RES(TEE_AEInit(enc, iv, 12, 128, 0, 0), TEE_SUCCESS);
	n = sizeof(ct);
	tl = 16;
	CHECK_RES(TEE_AEEncryptFinal(enc, pt, sizeof(pt), ct, &n, tag, &tl),
		  TEE_SUCCESS);
	CHECK(memcmp(ct, pt, sizeof(pt)) != 0);
	CHECK_RES(TEE_AEInit(dec, iv, 12, 128, 0, 0), TEE_SUCCESS);
	n = sizeof(out);
	CHECK_RES(TEE_AEDecryptFinal(dec, ct, sizeof(ct), out, &n, tag, 16),
		  TEE_SUCCESS);
	CHECK_MEM(out, pt, sizeof(pt));

	/* Re-keying with the 128-bit key: the old ciphertext fails. */
	TEE_ResetOperation(dec);
	CHECK_RES(TEE_SetOperationKey(dec, k2), TEE_SUCCESS);
	CHECK_RES(TEE_AEInit(dec, iv, 12, 128, 0, 0), TEE_SUCCESS);
	n = sizeof(out);
	CHECK_RES(TEE_AEDecryptFinal(dec, ct, sizeof(ct), out, &n, tag, 16),
		  TEE_ERROR_MAC_INVALID);

	/* Reset wipes the key material. */
	TEE_ResetTransientObject(k1);
	CHECK(is_zero(k1->secret, 32) && k1->secret_len == 0);
	CHECK_RES(TEE_GetObjectInfo1(k1, &info), TEE_SUCCESS);
	CHECK(!(info.handleFlags & TEE_HANDLE_FLAG_INITIALIZED));

	TEE_FreeOperation(enc);
	TEE_FreeOperation(dec);
	TEE_FreeTransientObject(k1);
	TEE_FreeTransientObject(k2);
}

/* ---------------------------------------------------------------------- */
/* AES ECB/CBC/CTR (NIST SP 800-38A F.1.5, F.2.5, F.5.5)                   */
/* ---------------------------------------------------------------------- */

static void test_cipher(void)
{
	static const struct {
		uint32_t algo;
		const char *iv, *ct;
	} v[] = {
		{ TEE_ALG_AES_ECB_NOPAD, "",
		  "f3eed1bdb5d2a03c064b5a7e3db181f8"
		  "591ccb10d410ed26dc5ba74a31362870" },
		{ TEE_ALG_AES_CBC_NOPAD, "000102030405060708090a0b0c0d0e0f",
		  "f58c4c04d6e5f1ba779eabfb5f7bfbd6"
		  "9cfc4e967edb808d679f777bc6702c7d" },
		{ TEE_ALG_AES_CTR, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		  "601ec313775789a5b7a7f504bbf3d228"
		  "f443e3ca4d62b59aca84e990cacaf5c5" },
	};
	uint8_t key[32], pt[32], want[32], iv[16], out[32], back[32];
	size_t i, n, m, ivl;
	TEE_ObjectHandle k;

	unhex(key, "603deb1015ca71be2b73aef0857d7781"
		   "1f352c073b6108d72d9810a30914dff4");
	unhex(pt, "6bc1bee22e409f96e93d7e117393172a"
		  "ae2d8a571e03ac9c9eb76fac45af8e51");
	k = make_key(TEE_TYPE_AES, key, 32);

	for (i = 0; i < 3; i++) {
		TEE_OperationHandle enc, dec;

		ivl = unhex(iv, v[i].iv);
		unhex(want, v[i].ct);
		enc = make_op(v[i].algo, TEE_MODE_ENCRYPT, k, 256);
		dec = make_op(v[i].algo, TEE_MODE_DECRYPT, k, 256);

		/* 5 + 27 bytes: ECB/CBC output whole blocks only. */
		TEE_CipherInit(enc, ivl ? iv : NULL, ivl);
		n = sizeof(out);
		CHECK_RES(TEE_CipherUpdate(enc, pt, 5, out, &n), TEE_SUCCESS);
		CHECK(n == (v[i].algo == TEE_ALG_AES_CTR ? 5u : 0u));
		m = sizeof(out) - n;
		CHECK_RES(TEE_CipherDoFinal(enc, pt + 5, 27, out + n, &m),
			  TEE_SUCCESS);
		CHECK(n + m == 32);
		CHECK_MEM(out, want, 32);

		TEE_CipherInit(dec, ivl ? iv : NULL, ivl);
		n = 16;
		CHECK_RES(TEE_CipherDoFinal(dec, out, 32, back, &n),
			  TEE_ERROR_SHORT_BUFFER);
		CHECK(n == 32);
		CHECK_RES(TEE_CipherDoFinal(dec, out, 32, back, &n),
			  TEE_SUCCESS);
		CHECK_MEM(back, pt, 32);

		if (v[i].algo != TEE_ALG_AES_CTR) {
			/* Not a whole number of blocks: panic. */
			TEE_CipherInit(dec, ivl ? iv : NULL, ivl);
			n = sizeof(back);
			EXPECT_PANIC(TEE_CipherDoFinal(dec, out, 31, back,
						       &n));
		}
		TEE_FreeOperation(enc);
		TEE_FreeOperation(dec);
	}
	TEE_FreeTransientObject(k);
}

/* ---------------------------------------------------------------------- */
/* SHA-256                                                                 */
/* ---------------------------------------------------------------------- */

static void test_sha256(void)
{
	TEE_OperationHandle op = make_op(TEE_ALG_SHA256, TEE_MODE_DIGEST,
					 TEE_HANDLE_NULL, 0);
	uint8_t h[32], want[32], chunk[1000];
	size_t n, i;

	unhex(want, "ba7816bf8f01cfea414140de5dae2223"
		    "b00361a396177a9cb410ff61f20015ad");
	n = sizeof(h);
	CHECK_RES(TEE_DigestDoFinal(op, "abc", 3, h, &n), TEE_SUCCESS);
	CHECK(n == 32);
	CHECK_MEM(h, want, 32);

	/* Split over updates. */
	TEE_DigestUpdate(op, "a", 1);
	TEE_DigestUpdate(op, "b", 1);
	n = sizeof(h);
	CHECK_RES(TEE_DigestDoFinal(op, "c", 1, h, &n), TEE_SUCCESS);
	CHECK_MEM(h, want, 32);

	unhex(want, "e3b0c44298fc1c149afbf4c8996fb924"
		    "27ae41e4649b934ca495991b7852b855");
	n = sizeof(h);
	CHECK_RES(TEE_DigestDoFinal(op, NULL, 0, h, &n), TEE_SUCCESS);
	CHECK_MEM(h, want, 32);

	/* One million 'a'. */
	memset(chunk, 'a', sizeof(chunk));
	for (i = 0; i < 1000; i++)
		TEE_DigestUpdate(op, chunk, sizeof(chunk));
	unhex(want, "cdc76e5c9914fb9281a1c7e284d73e67"
		    "f1809a48a497200e046d39ccc7112cd0");
	n = sizeof(h);
	CHECK_RES(TEE_DigestDoFinal(op, NULL, 0, h, &n), TEE_SUCCESS);
	CHECK_MEM(h, want, 32);

	/* SHORT_BUFFER: needed length back, state kept. */
	TEE_DigestUpdate(op, "ab", 2);
	n = 31;
	CHECK_RES(TEE_DigestDoFinal(op, "c", 1, h, &n),
		  TEE_ERROR_SHORT_BUFFER);
	CHECK(n == 32);
	CHECK_RES(TEE_DigestDoFinal(op, "c", 1, h, &n), TEE_SUCCESS);
	unhex(want, "ba7816bf8f01cfea414140de5dae2223"
		    "b00361a396177a9cb410ff61f20015ad");
	CHECK_MEM(h, want, 32);

	/* Extract in pieces. */
	TEE_DigestUpdate(op, "abc", 3);
	n = 10;
	CHECK_RES(TEE_DigestExtract(op, h, &n), TEE_SUCCESS);
	CHECK(n == 10);
	n = 32;
	CHECK_RES(TEE_DigestExtract(op, h + 10, &n), TEE_SUCCESS);
	CHECK(n == 22);
	CHECK_MEM(h, want, 32);
	TEE_ResetOperation(op);

	/* Copy mid-stream. */
	{
		TEE_OperationHandle cp = make_op(TEE_ALG_SHA256,
						 TEE_MODE_DIGEST,
						 TEE_HANDLE_NULL, 0);

		TEE_DigestUpdate(op, "ab", 2);
		TEE_CopyOperation(cp, op);
		n = sizeof(h);
		CHECK_RES(TEE_DigestDoFinal(cp, "c", 1, h, &n), TEE_SUCCESS);
		CHECK_MEM(h, want, 32);
		TEE_FreeOperation(cp);
	}

	EXPECT_PANIC(TEE_DigestDoFinal(op, NULL, 0, h, NULL));
	EXPECT_PANIC(TEE_DigestDoFinal(op, NULL, 5, h, &n));
	TEE_FreeOperation(op);
}

/* ---------------------------------------------------------------------- */
/* HMAC-SHA256                                                             */
/* ---------------------------------------------------------------------- */

/* Reference HMAC (RFC 2104) built from the GP SHA-256 digest, whose
 * answers are checked above: independent of OpenSSL's HMAC. */
static void ref_hmac(const uint8_t *key, size_t key_len, const uint8_t *msg,
		     size_t msg_len, uint8_t out[32])
{
	TEE_OperationHandle h = make_op(TEE_ALG_SHA256, TEE_MODE_DIGEST,
					TEE_HANDLE_NULL, 0);
	uint8_t k[64] = { 0 }, pad[64], inner[32];
	size_t n = 32, i;

	if (key_len > 64)
		CHECK_RES(TEE_DigestDoFinal(h, key, key_len, k, &n),
			  TEE_SUCCESS);
	else
		memcpy(k, key, key_len);
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	TEE_DigestUpdate(h, pad, 64);
	n = 32;
	CHECK_RES(TEE_DigestDoFinal(h, msg, msg_len, inner, &n), TEE_SUCCESS);
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	TEE_DigestUpdate(h, pad, 64);
	n = 32;
	CHECK_RES(TEE_DigestDoFinal(h, inner, 32, out, &n), TEE_SUCCESS);
	TEE_FreeOperation(h);
}

static void test_hmac(void)
{
	uint8_t key[200], msg[300], mac[32], want[32];
	size_t n, key_len;
	TEE_ObjectHandle k, o = TEE_HANDLE_NULL;
	TEE_OperationHandle op = TEE_HANDLE_NULL;
	TEE_Attribute a;

	/* RFC 4231 test case 4: 200-bit key. */
	key_len = unhex(key, "0102030405060708090a0b0c0d0e0f10111213141516171819");
	memset(msg, 0xcd, 50);
	unhex(want, "82558a389a443c0ea4cc819899f2083a"
		    "85f0faa3e578f8077a2e3ff46729665b");
	k = make_key(TEE_TYPE_HMAC_SHA256, key, key_len);
	op = make_op(TEE_ALG_HMAC_SHA256, TEE_MODE_MAC, k, 256);
	TEE_MACInit(op, NULL, 0);
	TEE_MACUpdate(op, msg, 20);
	n = sizeof(mac);
	CHECK_RES(TEE_MACComputeFinal(op, msg + 20, 30, mac, &n), TEE_SUCCESS);
	CHECK(n == 32);
	CHECK_MEM(mac, want, 32);

	/* The reference construction agrees on the RFC vector... */
	ref_hmac(key, key_len, msg, 50, mac);
	CHECK_MEM(mac, want, 32);

	/* Compare: match, mismatch, truncated. */
	TEE_MACInit(op, NULL, 0);
	CHECK_RES(TEE_MACCompareFinal(op, msg, 50, want, 32), TEE_SUCCESS);
	want[31] ^= 1;
	TEE_MACInit(op, NULL, 0);
	CHECK_RES(TEE_MACCompareFinal(op, msg, 50, want, 32),
		  TEE_ERROR_MAC_INVALID);
	want[31] ^= 1;
	TEE_MACInit(op, NULL, 0);
	CHECK_RES(TEE_MACCompareFinal(op, msg, 50, want, 16),
		  TEE_ERROR_MAC_INVALID);
	/* SHORT_BUFFER keeps the state. */
	TEE_MACInit(op, NULL, 0);
	n = 16;
	CHECK_RES(TEE_MACComputeFinal(op, msg, 50, mac, &n),
		  TEE_ERROR_SHORT_BUFFER);
	CHECK(n == 32);
	CHECK_RES(TEE_MACComputeFinal(op, msg, 50, mac, &n), TEE_SUCCESS);
	CHECK_MEM(mac, want, 32);
	TEE_FreeOperation(op);
	TEE_FreeTransientObject(k);

	/* ...and on random keys over the whole allowed range (192..1024
	 * bits, including keys longer than the block that get hashed). */
	for (key_len = 24; key_len <= 128; key_len += 8) {
		TEE_GenerateRandom(key, key_len);
		TEE_GenerateRandom(msg, sizeof(msg));
		k = make_key(TEE_TYPE_HMAC_SHA256, key, key_len);
		op = make_op(TEE_ALG_HMAC_SHA256, TEE_MODE_MAC, k, 1024);
		TEE_MACInit(op, NULL, 0);
		n = sizeof(mac);
		CHECK_RES(TEE_MACComputeFinal(op, msg, key_len * 2, mac, &n),
			  TEE_SUCCESS);
		ref_hmac(key, key_len, msg, key_len * 2, want);
		CHECK_MEM(mac, want, 32);
		TEE_FreeOperation(op);
		TEE_FreeTransientObject(k);
	}

	/* OP-TEE's HMAC key range: 128-bit (and 1048-bit, RFC 4231 cases
	 * 6/7) keys refused. */
	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_HMAC_SHA256, 128, &o),
		  TEE_ERROR_NOT_SUPPORTED);
	CHECK(o == TEE_HANDLE_NULL);
	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_HMAC_SHA256, 1048, &o),
		  TEE_ERROR_NOT_SUPPORTED);
	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_HMAC_SHA256, 196, &o),
		  TEE_ERROR_NOT_SUPPORTED);	/* not a multiple of 8 */
	CHECK_RES(TEE_AllocateOperation(&op, TEE_ALG_HMAC_SHA256,
					TEE_MODE_MAC, 128),
		  TEE_ERROR_NOT_SUPPORTED);
	CHECK_RES(TEE_AllocateOperation(&op, TEE_ALG_HMAC_SHA256,
					TEE_MODE_ENCRYPT, 256),
		  TEE_ERROR_NOT_SUPPORTED);
	/* A 128-bit secret does not fit a 256-bit HMAC object either. */
	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_HMAC_SHA256, 256, &o),
		  TEE_SUCCESS);
	TEE_InitRefAttribute(&a, TEE_ATTR_SECRET_VALUE, key, 16);
	CHECK_RES(TEE_PopulateTransientObject(o, &a, 1),
		  TEE_ERROR_BAD_PARAMETERS);
	TEE_FreeTransientObject(o);
}

/* ---------------------------------------------------------------------- */
/* Allocation rules and panics                                             */
/* ---------------------------------------------------------------------- */

static void test_rules(void)
{
	TEE_ObjectHandle o = TEE_HANDLE_NULL, hk, ak;
	TEE_OperationHandle op = TEE_HANDLE_NULL, dig, enc;
	uint8_t buf[64] = { 0 }, iv[12] = { 0 };
	size_t n = sizeof(buf);
	struct __TEE_OperationHandle *bogus;

	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_AES, 512, &o),
		  TEE_ERROR_NOT_SUPPORTED);
	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_AES, 64, &o),
		  TEE_ERROR_NOT_SUPPORTED);
	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_RSA_KEYPAIR, 2048, &o),
		  TEE_ERROR_NOT_SUPPORTED);
	CHECK_RES(TEE_AllocateOperation(&op, TEE_ALG_AES_GCM, TEE_MODE_ENCRYPT,
					512), TEE_ERROR_NOT_SUPPORTED);
	CHECK_RES(TEE_AllocateOperation(&op, TEE_ALG_AES_GCM, TEE_MODE_MAC,
					256), TEE_ERROR_NOT_SUPPORTED);
	CHECK_RES(TEE_AllocateOperation(&op, TEE_ALG_SHA256, TEE_MODE_ENCRYPT,
					0), TEE_ERROR_NOT_SUPPORTED);
	CHECK_RES(TEE_AllocateOperation(&op, TEE_ALG_SHA512, TEE_MODE_DIGEST,
					0), TEE_ERROR_NOT_SUPPORTED);
	CHECK_RES(TEE_AllocateOperation(&op, TEE_ALG_AES_CCM, TEE_MODE_ENCRYPT,
					256), TEE_ERROR_NOT_SUPPORTED);
	CHECK_RES(TEE_IsAlgorithmSupported(TEE_ALG_AES_GCM,
					   TEE_CRYPTO_ELEMENT_NONE),
		  TEE_SUCCESS);
	CHECK_RES(TEE_IsAlgorithmSupported(TEE_ALG_HMAC_SHA256,
					   TEE_CRYPTO_ELEMENT_NONE),
		  TEE_SUCCESS);
	CHECK_RES(TEE_IsAlgorithmSupported(TEE_ALG_ECDSA_SHA256,
					   TEE_ECC_CURVE_NIST_P256),
		  TEE_ERROR_NOT_SUPPORTED);

	/* Generic secrets exist but key no AES/HMAC operation. */
	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_GENERIC_SECRET, 256, &o),
		  TEE_SUCCESS);
	CHECK_RES(TEE_GenerateKey(o, 256, NULL, 0), TEE_SUCCESS);

	hk = make_key(TEE_TYPE_HMAC_SHA256, buf, 32);
	ak = make_key(TEE_TYPE_AES, buf, 32);
	dig = make_op(TEE_ALG_SHA256, TEE_MODE_DIGEST, TEE_HANDLE_NULL, 0);
	enc = make_op(TEE_ALG_AES_GCM, TEE_MODE_ENCRYPT, TEE_HANDLE_NULL, 128);

	/* Programmer errors panic. */
	EXPECT_PANIC(TEE_AEInit(enc, iv, 12, 128, 0, 0));	/* no key */
	EXPECT_PANIC(TEE_SetOperationKey(enc, ak));	/* 256 > 128 */
	EXPECT_PANIC(TEE_SetOperationKey(enc, hk));	/* wrong type */
	EXPECT_PANIC(TEE_SetOperationKey(enc, o));	/* generic secret */
	EXPECT_PANIC(TEE_SetOperationKey(dig, ak));	/* digest: no key */
	EXPECT_PANIC(TEE_DigestUpdate(enc, buf, 1));	/* wrong class */
	EXPECT_PANIC(TEE_AEUpdate(dig, buf, 1, buf, &n));
	EXPECT_PANIC(TEE_MACInit(dig, NULL, 0));
	EXPECT_PANIC(TEE_PopulateTransientObject(ak, NULL, 0)); /* init'd */
	EXPECT_PANIC(TEE_GenerateKey(hk, 256, NULL, 0));
	TEE_FreeOperation(enc);

	enc = make_op(TEE_ALG_AES_GCM, TEE_MODE_ENCRYPT, ak, 256);
	EXPECT_PANIC(TEE_AEUpdate(enc, buf, 16, buf, &n)); /* not init'd */
	CHECK_RES(TEE_AEInit(enc, iv, 12, 128, 0, 0), TEE_SUCCESS);
	EXPECT_PANIC(TEE_SetOperationKey(enc, ak));	/* initialized */
	n = sizeof(buf);
	CHECK_RES(TEE_AEUpdate(enc, buf, 16, buf + 16, &n), TEE_SUCCESS);
	EXPECT_PANIC(TEE_AEUpdateAAD(enc, buf, 4));	/* after payload */
	EXPECT_PANIC(TEE_AEInit(enc, iv, 12, 128, 0, 0)); /* active */
	EXPECT_PANIC(TEE_AEDecryptFinal(enc, buf, 0, buf, &n, buf, 16));
	EXPECT_PANIC(TEE_AEEncryptFinal(enc, buf, 0, buf, &n, buf, NULL));
	EXPECT_PANIC(TEE_AEInit(enc, NULL, 12, 128, 0, 0));
	TEE_ResetOperation(enc);
	EXPECT_PANIC(TEE_AEInit(enc, iv, 0, 128, 0, 0));	/* empty nonce */

	/* A usage restriction is enforced when the key is set. */
	TEE_ResetOperation(enc);
	CHECK_RES(TEE_SetOperationKey(enc, TEE_HANDLE_NULL), TEE_SUCCESS);
	CHECK_RES(TEE_RestrictObjectUsage1(ak, TEE_USAGE_DECRYPT),
		  TEE_SUCCESS);
	EXPECT_PANIC(TEE_SetOperationKey(enc, ak));

	/* Bad handles. */
	bogus = calloc(1, 256);
	EXPECT_PANIC(TEE_AEUpdate((TEE_OperationHandle)bogus, buf, 1, buf,
				  &n));
	EXPECT_PANIC(TEE_FreeTransientObject((TEE_ObjectHandle)bogus));
	EXPECT_PANIC(TEE_DigestUpdate(TEE_HANDLE_NULL, buf, 1));
	free(bogus);

	/* Non-extractable secret: reading it panics. */
	EXPECT_PANIC({
		uint8_t kb[32];
		size_t kl = sizeof(kb);

		TEE_RestrictObjectUsage1(hk, TEE_USAGE_MAC);
		TEE_GetObjectBufferAttribute(hk, TEE_ATTR_SECRET_VALUE, kb,
					     &kl);
	});

	/* Freeing NULL handles is allowed. */
	TEE_FreeOperation(TEE_HANDLE_NULL);
	TEE_FreeTransientObject(TEE_HANDLE_NULL);
	TEE_CloseObject(TEE_HANDLE_NULL);

	TEE_FreeOperation(enc);
	TEE_FreeOperation(dig);
	TEE_FreeTransientObject(hk);
	TEE_FreeTransientObject(ak);
	TEE_FreeTransientObject(o);
}

static void test_random(void)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 };

	TEE_GenerateRandom(a, sizeof(a));
	TEE_GenerateRandom(b, sizeof(b));
	CHECK(!is_zero(a, sizeof(a)));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	TEE_GenerateRandom(NULL, 0);
	EXPECT_PANIC(TEE_GenerateRandom(NULL, 4));
}

/* Asymmetric and key-derivation entry points exist but panic: the
 * simulator never allocates such operations. */
static void test_not_simulated(void)
{
	TEE_OperationHandle op = make_op(TEE_ALG_SHA256, TEE_MODE_DIGEST,
					 TEE_HANDLE_NULL, 0);
	uint8_t b[8];
	size_t n = sizeof(b);

	CHECK_RES(TEE_AllocateOperation(&op, TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA256,
					TEE_MODE_SIGN, 2048),
		  TEE_ERROR_NOT_SUPPORTED);
	op = make_op(TEE_ALG_SHA256, TEE_MODE_DIGEST, TEE_HANDLE_NULL, 0);
	EXPECT_PANIC(TEE_AsymmetricSignDigest(op, NULL, 0, b, 8, b, &n));
	EXPECT_PANIC(TEE_AsymmetricVerifyDigest(op, NULL, 0, b, 8, b, 8));
	EXPECT_PANIC(TEE_AsymmetricEncrypt(op, NULL, 0, b, 8, b, &n));
	EXPECT_PANIC(TEE_AsymmetricDecrypt(op, NULL, 0, b, 8, b, &n));
	EXPECT_PANIC(TEE_DeriveKey(op, NULL, 0, TEE_HANDLE_NULL));
	TEE_FreeOperation(op);
}

static void test_time(void)
{
	TEE_Time t0, t1, p;

	TEE_GetSystemTime(&t0);
	CHECK_RES(TEE_Wait(20), TEE_SUCCESS);
	TEE_GetSystemTime(&t1);
	CHECK((t1.seconds - t0.seconds) * 1000 + t1.millis - t0.millis >= 19);
	TEE_GetREETime(&t0);
	CHECK(t0.seconds > 1600000000u);	/* wall clock, after 2020 */
	CHECK_RES(TEE_GetTAPersistentTime(&p), TEE_ERROR_TIME_NOT_SET);
	p.seconds = 1000;
	p.millis = 500;
	CHECK_RES(TEE_SetTAPersistentTime(&p), TEE_SUCCESS);
	CHECK_RES(TEE_GetTAPersistentTime(&p), TEE_SUCCESS);
	CHECK(p.seconds == 1000 || p.seconds == 1001);
}

/* Log lines: OP-TEE format, filtered by TEESPARK_TA_LOG_LEVEL (set to
 * "info" by main before the first log call). */
static void test_trace(void)
{
	char path[] = "/tmp/sim_trace_XXXXXX", buf[512];
	int fd = mkstemp(path), saved = dup(2);
	ssize_t n;

	CHECK(fd >= 0 && saved >= 0);
	dup2(fd, 2);
	EMSG("error %d", 42);
	IMSG("info %s", "x");
	DMSG("debug line");
	FMSG("flow line");
	EMSG_RAW("raw");
	dup2(saved, 2);
	close(saved);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(path);
	buf[n > 0 ? n : 0] = '\0';
	CHECK(strstr(buf, "E/TA: test_trace:") != NULL);
	CHECK(strstr(buf, " error 42\n") != NULL);
	CHECK(strstr(buf, "I/TA: test_trace:") && strstr(buf, " info x\n"));
	CHECK(!strstr(buf, "debug line") && !strstr(buf, "flow line"));
	CHECK(strstr(buf, "\nraw\n") != NULL);
	CHECK(sim_trace_get_level() == TRACE_INFO);
}

int main(void)
{
	setenv("TEESPARK_TA_LOG_LEVEL", "info", 1);
	test_gcm_kat();
	test_gcm_streaming();
	test_gcm_iv_switch_and_copy();
	test_gcm_tag_lengths();
	test_gcm_tamper();
	test_gcm_short_buffer();
	test_gcm_keys();
	test_cipher();
	test_sha256();
	test_hmac();
	test_rules();
	test_random();
	test_not_simulated();
	test_time();
	test_trace();
	TEST_SUMMARY("sim_internal_crypto_test");
}

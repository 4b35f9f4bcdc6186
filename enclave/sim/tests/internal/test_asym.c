/*
 * test_asym.c - the simulator's Curve25519 GP API: X25519 (RFC 7748 6.1
 * test vector, both directions, generated pairs, small-order peers),
 * Ed25519 (RFC 8032 7.1 tests 1 and 2: exact signatures and verification,
 * flipped bits), round trips, attribute access rules, persistence through
 * secure storage, and the panics OP-TEE raises. Run with
 * TEESPARK_SIM_STORAGE_DIR set to an empty directory.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sim_internal.h"
#include "test_util.h"

/* GP 1.3.1 / OP-TEE 4.x values, transcribed from OP-TEE's
 * lib/libutee/include/tee_api_defines.h. */
#define EQ(a, b) _Static_assert((a) == (b), #a " == " #b)
EQ(TEE_TYPE_ED25519_PUBLIC_KEY, 0xA0000043u);
EQ(TEE_TYPE_ED25519_KEYPAIR, 0xA1000043u);
EQ(TEE_TYPE_X25519_PUBLIC_KEY, 0xA0000044u);
EQ(TEE_TYPE_X25519_KEYPAIR, 0xA1000044u);
EQ(TEE_ATTR_ED25519_PUBLIC_VALUE, 0xD0000743u);
EQ(TEE_ATTR_ED25519_PRIVATE_VALUE, 0xC0000843u);
EQ(TEE_ATTR_X25519_PUBLIC_VALUE, 0xD0000944u);
EQ(TEE_ATTR_X25519_PRIVATE_VALUE, 0xC0000A44u);
EQ(TEE_ATTR_EDDSA_CTX, 0xD0000643u);
EQ(TEE_ALG_ED25519, 0x70006043u);
EQ(TEE_ALG_X25519, 0x80000044u);
EQ(TEE_ECC_CURVE_25519, 0x00000300u);

/* RFC 7748, section 6.1. */
#define ALICE_PRIV "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define ALICE_PUB  "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define BOB_PRIV   "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
#define BOB_PUB    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define SHARED     "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"

/* RFC 8032, section 7.1, TEST 1 and TEST 2. */
struct ed_vec {
	const char *priv, *pub, *msg, *sig;
};
static const struct ed_vec ed_vecs[] = {
	{ "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
	  "",
	  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
	  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
	{ "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
	  "72",
	  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
	  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
};

static TEE_ObjectHandle keypair(uint32_t type, uint32_t priv_id,
				uint32_t pub_id, const char *priv_hex,
				const char *pub_hex)
{
	TEE_ObjectHandle o = TEE_HANDLE_NULL;
	TEE_Attribute a[2];
	uint8_t priv[32], pub[32];

	unhex(priv, priv_hex);
	unhex(pub, pub_hex);
	CHECK_RES(TEE_AllocateTransientObject(type, 256, &o), TEE_SUCCESS);
	TEE_InitRefAttribute(&a[0], priv_id, priv, 32);
	TEE_InitRefAttribute(&a[1], pub_id, pub, 32);
	CHECK_RES(TEE_PopulateTransientObject(o, a, 2), TEE_SUCCESS);
	return o;
}

static TEE_ObjectHandle pubkey(uint32_t type, uint32_t pub_id,
			       const uint8_t pub[32])
{
	TEE_ObjectHandle o = TEE_HANDLE_NULL;
	TEE_Attribute a;

	CHECK_RES(TEE_AllocateTransientObject(type, 256, &o), TEE_SUCCESS);
	TEE_InitRefAttribute(&a, pub_id, pub, 32);
	CHECK_RES(TEE_PopulateTransientObject(o, &a, 1), TEE_SUCCESS);
	return o;
}

/* X25519(key, peer) through TEE_DeriveKey; returns the secret's length. */
static size_t derive(TEE_ObjectHandle key, const uint8_t peer[32],
		     uint8_t out[32])
{
	TEE_OperationHandle op = TEE_HANDLE_NULL;
	TEE_ObjectHandle sec = TEE_HANDLE_NULL;
	TEE_Attribute a;
	TEE_ObjectInfo info;
	size_t n = 32;

	CHECK_RES(TEE_AllocateOperation(&op, TEE_ALG_X25519, TEE_MODE_DERIVE,
					256), TEE_SUCCESS);
	CHECK_RES(TEE_SetOperationKey(op, key), TEE_SUCCESS);
	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_GENERIC_SECRET, 256,
					      &sec), TEE_SUCCESS);
	TEE_InitRefAttribute(&a, TEE_ATTR_X25519_PUBLIC_VALUE, peer, 32);
	TEE_DeriveKey(op, &a, 1, sec);
	CHECK_RES(TEE_GetObjectInfo1(sec, &info), TEE_SUCCESS);
	CHECK(info.objectSize == 256);
	CHECK(info.handleFlags & TEE_HANDLE_FLAG_INITIALIZED);
	CHECK_RES(TEE_GetObjectBufferAttribute(sec, TEE_ATTR_SECRET_VALUE, out,
					       &n), TEE_SUCCESS);
	TEE_FreeTransientObject(sec);
	TEE_FreeOperation(op);
	return n;
}

static void get_pub(TEE_ObjectHandle o, uint32_t id, uint8_t out[32])
{
	size_t n = 32;

	CHECK_RES(TEE_GetObjectBufferAttribute(o, id, out, &n), TEE_SUCCESS);
	CHECK(n == 32);
}

static void test_x25519_kat(void)
{
	uint8_t alice_pub[32], bob_pub[32], shared[32], want[32], got[32];
	TEE_ObjectHandle alice, bob;
	size_t n;

	unhex(alice_pub, ALICE_PUB);
	unhex(bob_pub, BOB_PUB);
	unhex(want, SHARED);
	alice = keypair(TEE_TYPE_X25519_KEYPAIR, TEE_ATTR_X25519_PRIVATE_VALUE,
			TEE_ATTR_X25519_PUBLIC_VALUE, ALICE_PRIV, ALICE_PUB);
	bob = keypair(TEE_TYPE_X25519_KEYPAIR, TEE_ATTR_X25519_PRIVATE_VALUE,
		      TEE_ATTR_X25519_PUBLIC_VALUE, BOB_PRIV, BOB_PUB);
	CHECK(derive(alice, bob_pub, shared) == 32);
	CHECK_MEM(shared, want, 32);
	memset(shared, 0, sizeof(shared));
	CHECK(derive(bob, alice_pub, shared) == 32);
	CHECK_MEM(shared, want, 32);

	/* The public value comes back as given (recomputed from private). */
	get_pub(alice, TEE_ATTR_X25519_PUBLIC_VALUE, got);
	CHECK_MEM(got, alice_pub, 32);
	/* Private readable while extractable (default usage). */
	n = sizeof(got);
	CHECK_RES(TEE_GetObjectBufferAttribute(alice,
			TEE_ATTR_X25519_PRIVATE_VALUE, got, &n), TEE_SUCCESS);
	unhex(want, ALICE_PRIV);
	CHECK(n == 32);
	CHECK_MEM(got, want, 32);
	/* SHORT_BUFFER with the size. */
	n = 31;
	CHECK_RES(TEE_GetObjectBufferAttribute(alice,
			TEE_ATTR_X25519_PUBLIC_VALUE, got, &n),
		  TEE_ERROR_SHORT_BUFFER);
	CHECK(n == 32);
	/* Attributes of another type are not found. */
	n = 32;
	CHECK_RES(TEE_GetObjectBufferAttribute(alice, TEE_ATTR_SECRET_VALUE,
					       got, &n),
		  TEE_ERROR_ITEM_NOT_FOUND);
	CHECK_RES(TEE_GetObjectBufferAttribute(alice,
			TEE_ATTR_ED25519_PUBLIC_VALUE, got, &n),
		  TEE_ERROR_ITEM_NOT_FOUND);
	/* Not extractable: public still readable, private panics. */
	TEE_RestrictObjectUsage(alice, ~TEE_USAGE_EXTRACTABLE);
	get_pub(alice, TEE_ATTR_X25519_PUBLIC_VALUE, got);
	CHECK_MEM(got, alice_pub, 32);
	EXPECT_PANIC(TEE_GetObjectBufferAttribute(alice,
			TEE_ATTR_X25519_PRIVATE_VALUE, got, &n));
	TEE_FreeTransientObject(alice);
	TEE_FreeTransientObject(bob);
}

static void test_x25519_generated(void)
{
	TEE_ObjectHandle a = TEE_HANDLE_NULL, b = TEE_HANDLE_NULL, pa;
	uint8_t apub[32], bpub[32], s1[32], s2[32];
	TEE_ObjectInfo info;

	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_X25519_KEYPAIR, 256,
					      &a), TEE_SUCCESS);
	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_X25519_KEYPAIR, 256,
					      &b), TEE_SUCCESS);
	CHECK_RES(TEE_GenerateKey(a, 256, NULL, 0), TEE_SUCCESS);
	CHECK_RES(TEE_GenerateKey(b, 256, NULL, 0), TEE_SUCCESS);
	CHECK_RES(TEE_GetObjectInfo1(a, &info), TEE_SUCCESS);
	CHECK(info.objectSize == 256 && info.objectType ==
	      TEE_TYPE_X25519_KEYPAIR);
	get_pub(a, TEE_ATTR_X25519_PUBLIC_VALUE, apub);
	get_pub(b, TEE_ATTR_X25519_PUBLIC_VALUE, bpub);
	CHECK(memcmp(apub, bpub, 32) != 0);
	derive(a, bpub, s1);
	derive(b, apub, s2);
	CHECK_MEM(s1, s2, 32);
	CHECK(!is_zero(s1, 32));

	/* A public-key object from the pair (GP copy), usable as a peer. */
	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_X25519_PUBLIC_KEY, 256,
					      &pa), TEE_SUCCESS);
	CHECK_RES(TEE_CopyObjectAttributes1(pa, a), TEE_SUCCESS);
	get_pub(pa, TEE_ATTR_X25519_PUBLIC_VALUE, s2);
	CHECK_MEM(s2, apub, 32);
	{
		uint8_t x[32];
		size_t n = 32;

		CHECK_RES(TEE_GetObjectBufferAttribute(pa,
				TEE_ATTR_X25519_PRIVATE_VALUE, x, &n),
			  TEE_ERROR_ITEM_NOT_FOUND);
	}
	/* A public key cannot derive. */
	{
		TEE_OperationHandle op = TEE_HANDLE_NULL;

		CHECK_RES(TEE_AllocateOperation(&op, TEE_ALG_X25519,
						TEE_MODE_DERIVE, 256),
			  TEE_SUCCESS);
		EXPECT_PANIC(TEE_SetOperationKey(op, pa));
		TEE_FreeOperation(op);
	}
	TEE_FreeTransientObject(pa);

	/* Reset wipes: the object is uninitialized again. */
	TEE_ResetTransientObject(a);
	CHECK_RES(TEE_GetObjectInfo1(a, &info), TEE_SUCCESS);
	CHECK(!(info.handleFlags & TEE_HANDLE_FLAG_INITIALIZED));
	CHECK(is_zero(a->secret, 32));
	TEE_FreeTransientObject(a);
	TEE_FreeTransientObject(b);
}

/* Small-order peer points give the all-zero secret: the simulator panics
 * (OP-TEE/mbedTLS behaviour; see asym.c). u = 0 and u = 1 are of small
 * order; a normal point is the negative control. */
static void test_x25519_small_order(void)
{
	uint8_t zero[32] = { 0 }, one[32] = { 1 }, bob_pub[32], s[32];
	TEE_ObjectHandle alice, sec = TEE_HANDLE_NULL;
	TEE_OperationHandle op = TEE_HANDLE_NULL;
	TEE_Attribute a;

	unhex(bob_pub, BOB_PUB);
	alice = keypair(TEE_TYPE_X25519_KEYPAIR, TEE_ATTR_X25519_PRIVATE_VALUE,
			TEE_ATTR_X25519_PUBLIC_VALUE, ALICE_PRIV, ALICE_PUB);
	CHECK_RES(TEE_AllocateOperation(&op, TEE_ALG_X25519, TEE_MODE_DERIVE,
					256), TEE_SUCCESS);
	CHECK_RES(TEE_SetOperationKey(op, alice), TEE_SUCCESS);
	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_GENERIC_SECRET, 256,
					      &sec), TEE_SUCCESS);
	TEE_InitRefAttribute(&a, TEE_ATTR_X25519_PUBLIC_VALUE, zero, 32);
	EXPECT_PANIC(TEE_DeriveKey(op, &a, 1, sec));
	TEE_InitRefAttribute(&a, TEE_ATTR_X25519_PUBLIC_VALUE, one, 32);
	EXPECT_PANIC(TEE_DeriveKey(op, &a, 1, sec));
	CHECK(!(sec->flags & TEE_HANDLE_FLAG_INITIALIZED));
	/* Wrong peer length, missing peer, foreign attribute: panic. */
	TEE_InitRefAttribute(&a, TEE_ATTR_X25519_PUBLIC_VALUE, bob_pub, 31);
	EXPECT_PANIC(TEE_DeriveKey(op, &a, 1, sec));
	EXPECT_PANIC(TEE_DeriveKey(op, NULL, 0, sec));
	TEE_InitRefAttribute(&a, TEE_ATTR_ED25519_PUBLIC_VALUE, bob_pub, 32);
	EXPECT_PANIC(TEE_DeriveKey(op, &a, 1, sec));
	/* Negative control: a valid peer works on the same objects. */
	TEE_InitRefAttribute(&a, TEE_ATTR_X25519_PUBLIC_VALUE, bob_pub, 32);
	TEE_DeriveKey(op, &a, 1, sec);
	{
		size_t n = 32;

		CHECK_RES(TEE_GetObjectBufferAttribute(sec,
				TEE_ATTR_SECRET_VALUE, s, &n), TEE_SUCCESS);
	}
	/* Deriving into an initialized object panics. */
	EXPECT_PANIC(TEE_DeriveKey(op, &a, 1, sec));
	TEE_FreeTransientObject(sec);
	/* Target too small or of the wrong type: panic. */
	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_GENERIC_SECRET, 128,
					      &sec), TEE_SUCCESS);
	EXPECT_PANIC(TEE_DeriveKey(op, &a, 1, sec));
	TEE_FreeTransientObject(sec);
	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_AES, 256, &sec),
		  TEE_SUCCESS);
	EXPECT_PANIC(TEE_DeriveKey(op, &a, 1, sec));
	TEE_FreeTransientObject(sec);
	TEE_FreeOperation(op);
	TEE_FreeTransientObject(alice);
}

static TEE_OperationHandle ed_op(uint32_t mode, TEE_ObjectHandle key)
{
	TEE_OperationHandle op = TEE_HANDLE_NULL;

	CHECK_RES(TEE_AllocateOperation(&op, TEE_ALG_ED25519, mode, 256),
		  TEE_SUCCESS);
	CHECK_RES(TEE_SetOperationKey(op, key), TEE_SUCCESS);
	return op;
}

/* Kept out of test_ed25519_kat: sigsetjmp there would clobber its
 * locals. */
static void __attribute__((noinline))
expect_short_sig_panic(TEE_OperationHandle verify, const uint8_t *msg,
		       size_t mlen, const uint8_t *sig)
{
	EXPECT_PANIC(TEE_AsymmetricVerifyDigest(verify, NULL, 0, msg, mlen,
						sig, 63));
}

static void test_ed25519_kat(void)
{
	size_t i;

	for (i = 0; i < sizeof(ed_vecs) / sizeof(ed_vecs[0]); i++) {
		const struct ed_vec *v = &ed_vecs[i];
		uint8_t pub[32], msg[8] = { 0 }, sig[64], want[64], bad[64];
		size_t mlen = unhex(msg, v->msg), slen;
		TEE_ObjectHandle kp, pk;
		TEE_OperationHandle sign, verify;

		unhex(pub, v->pub);
		unhex(want, v->sig);
		kp = keypair(TEE_TYPE_ED25519_KEYPAIR,
			     TEE_ATTR_ED25519_PRIVATE_VALUE,
			     TEE_ATTR_ED25519_PUBLIC_VALUE, v->priv, v->pub);
		pk = pubkey(TEE_TYPE_ED25519_PUBLIC_KEY,
			    TEE_ATTR_ED25519_PUBLIC_VALUE, pub);

		/* Ed25519 is deterministic: the exact RFC signature. */
		sign = ed_op(TEE_MODE_SIGN, kp);
		slen = 63;
		CHECK_RES(TEE_AsymmetricSignDigest(sign, NULL, 0, msg, mlen,
						   sig, &slen),
			  TEE_ERROR_SHORT_BUFFER);
		CHECK(slen == 64);
		CHECK_RES(TEE_AsymmetricSignDigest(sign, NULL, 0, msg, mlen,
						   sig, &slen), TEE_SUCCESS);
		CHECK(slen == 64);
		CHECK_MEM(sig, want, 64);

		verify = ed_op(TEE_MODE_VERIFY, pk);
		CHECK_RES(TEE_AsymmetricVerifyDigest(verify, NULL, 0, msg,
						     mlen, want, 64),
			  TEE_SUCCESS);
		/* Any flipped bit of the signature fails. */
		memcpy(bad, want, 64);
		bad[0] ^= 0x01;
		CHECK_RES(TEE_AsymmetricVerifyDigest(verify, NULL, 0, msg,
						     mlen, bad, 64),
			  TEE_ERROR_SIGNATURE_INVALID);
		memcpy(bad, want, 64);
		bad[40] ^= 0x80;
		CHECK_RES(TEE_AsymmetricVerifyDigest(verify, NULL, 0, msg,
						     mlen, bad, 64),
			  TEE_ERROR_SIGNATURE_INVALID);
		/* A different message fails. */
		msg[0] ^= 1;
		CHECK_RES(TEE_AsymmetricVerifyDigest(verify, NULL, 0, msg,
						     mlen ? mlen : 1, want,
						     64),
			  TEE_ERROR_SIGNATURE_INVALID);
		msg[0] ^= 1;
		/* OP-TEE panics on a signature that is not 64 bytes. */
		expect_short_sig_panic(verify, msg, mlen, want);
		TEE_FreeOperation(sign);
		TEE_FreeOperation(verify);

		/* Verification also takes the key pair. */
		verify = ed_op(TEE_MODE_VERIFY, kp);
		CHECK_RES(TEE_AsymmetricVerifyDigest(verify, NULL, 0, msg,
						     mlen, want, 64),
			  TEE_SUCCESS);
		TEE_FreeOperation(verify);
		TEE_FreeTransientObject(kp);
		TEE_FreeTransientObject(pk);
	}
}

/* Sign/verify round trip with a generated key; the signature also checks
 * with OpenSSL directly (an independent verifier). */
static void test_ed25519_roundtrip(void)
{
	static const char msg[] = "teespark key release";
	TEE_ObjectHandle kp = TEE_HANDLE_NULL, pk = TEE_HANDLE_NULL;
	TEE_OperationHandle sign, verify, copy = TEE_HANDLE_NULL;
	uint8_t pub[32], sig[64], sig2[64];
	size_t slen = sizeof(sig);
	EVP_PKEY *ossl;
	EVP_MD_CTX *md;
	TEE_Attribute ctx_attr;

	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_ED25519_KEYPAIR, 256,
					      &kp), TEE_SUCCESS);
	CHECK_RES(TEE_GenerateKey(kp, 256, NULL, 0), TEE_SUCCESS);
	get_pub(kp, TEE_ATTR_ED25519_PUBLIC_VALUE, pub);
	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_ED25519_PUBLIC_KEY, 256,
					      &pk), TEE_SUCCESS);
	CHECK_RES(TEE_CopyObjectAttributes1(pk, kp), TEE_SUCCESS);

	sign = ed_op(TEE_MODE_SIGN, kp);
	CHECK_RES(TEE_AsymmetricSignDigest(sign, NULL, 0, msg, sizeof(msg),
					   sig, &slen), TEE_SUCCESS);
	/* A copied operation signs identically. */
	CHECK_RES(TEE_AllocateOperation(&copy, TEE_ALG_ED25519, TEE_MODE_SIGN,
					256), TEE_SUCCESS);
	TEE_CopyOperation(copy, sign);
	slen = sizeof(sig2);
	CHECK_RES(TEE_AsymmetricSignDigest(copy, NULL, 0, msg, sizeof(msg),
					   sig2, &slen), TEE_SUCCESS);
	CHECK_MEM(sig, sig2, 64);
	TEE_FreeOperation(copy);

	verify = ed_op(TEE_MODE_VERIFY, pk);
	CHECK_RES(TEE_AsymmetricVerifyDigest(verify, NULL, 0, msg, sizeof(msg),
					     sig, 64), TEE_SUCCESS);
	CHECK_RES(TEE_AsymmetricVerifyDigest(verify, NULL, 0, msg,
					     sizeof(msg) - 1, sig, 64),
		  TEE_ERROR_SIGNATURE_INVALID);

	ossl = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	md = EVP_MD_CTX_new();
	CHECK(ossl && md);
	CHECK(EVP_DigestVerifyInit_ex(md, NULL, NULL, NULL, NULL, ossl,
				      NULL) == 1);
	CHECK(EVP_DigestVerify(md, sig, 64, (const uint8_t *)msg,
			       sizeof(msg)) == 1);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(ossl);

	/* Ed25519ctx/ph are not simulated; other attributes are foreign. */
	TEE_InitRefAttribute(&ctx_attr, TEE_ATTR_EDDSA_CTX, "c", 1);
	slen = sizeof(sig);
	EXPECT_PANIC(TEE_AsymmetricSignDigest(sign, &ctx_attr, 1, msg,
					      sizeof(msg), sig, &slen));
	CHECK(test_last_panic == TEE_ERROR_NOT_SUPPORTED);
	TEE_InitRefAttribute(&ctx_attr, TEE_ATTR_SECRET_VALUE, "c", 1);
	EXPECT_PANIC(TEE_AsymmetricVerifyDigest(verify, &ctx_attr, 1, msg,
						sizeof(msg), sig, 64));

	/* Mode mix-ups panic: verify on a sign op and vice versa. */
	EXPECT_PANIC(TEE_AsymmetricVerifyDigest(sign, NULL, 0, msg,
						sizeof(msg), sig, 64));
	EXPECT_PANIC(TEE_AsymmetricSignDigest(verify, NULL, 0, msg,
					      sizeof(msg), sig, &slen));
	TEE_FreeOperation(sign);
	TEE_FreeOperation(verify);

	/* A sign operation needs the key pair. */
	CHECK_RES(TEE_AllocateOperation(&sign, TEE_ALG_ED25519, TEE_MODE_SIGN,
					256), TEE_SUCCESS);
	EXPECT_PANIC(TEE_SetOperationKey(sign, pk));
	/* Without a key: panic. */
	EXPECT_PANIC(TEE_AsymmetricSignDigest(sign, NULL, 0, msg,
					      sizeof(msg), sig, &slen));
	/* Usage restrictions apply. */
	TEE_RestrictObjectUsage(kp, ~TEE_USAGE_SIGN);
	EXPECT_PANIC(TEE_SetOperationKey(sign, kp));
	TEE_FreeOperation(sign);
	TEE_FreeTransientObject(kp);
	TEE_FreeTransientObject(pk);
}

static void test_rules(void)
{
	TEE_OperationHandle op = TEE_HANDLE_NULL;
	TEE_ObjectHandle o = TEE_HANDLE_NULL, x;
	TEE_Attribute a[2];
	uint8_t priv[32], pub[32], other[32];

	CHECK_RES(TEE_IsAlgorithmSupported(TEE_ALG_X25519,
					   TEE_ECC_CURVE_25519), TEE_SUCCESS);
	CHECK_RES(TEE_IsAlgorithmSupported(TEE_ALG_ED25519,
					   TEE_ECC_CURVE_25519), TEE_SUCCESS);
	CHECK_RES(TEE_IsAlgorithmSupported(TEE_ALG_ED25519,
					   TEE_ECC_CURVE_NIST_P256),
		  TEE_ERROR_NOT_SUPPORTED);
	CHECK_RES(TEE_AllocateOperation(&op, TEE_ALG_ED25519, TEE_MODE_DERIVE,
					256), TEE_ERROR_NOT_SUPPORTED);
	CHECK_RES(TEE_AllocateOperation(&op, TEE_ALG_X25519, TEE_MODE_SIGN,
					256), TEE_ERROR_NOT_SUPPORTED);
	CHECK_RES(TEE_AllocateOperation(&op, TEE_ALG_X25519, TEE_MODE_DERIVE,
					255), TEE_ERROR_NOT_SUPPORTED);
	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_X25519_KEYPAIR, 255,
					      &o), TEE_ERROR_NOT_SUPPORTED);
	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_ED25519_KEYPAIR, 512,
					      &o), TEE_ERROR_NOT_SUPPORTED);

	/* Key pair population: both values required, consistent, 32 bytes. */
	unhex(priv, ALICE_PRIV);
	unhex(pub, ALICE_PUB);
	unhex(other, BOB_PUB);
	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_X25519_KEYPAIR, 256,
					      &o), TEE_SUCCESS);
	TEE_InitRefAttribute(&a[0], TEE_ATTR_X25519_PRIVATE_VALUE, priv, 32);
	EXPECT_PANIC(TEE_PopulateTransientObject(o, a, 1));
	TEE_InitRefAttribute(&a[1], TEE_ATTR_X25519_PUBLIC_VALUE, other, 32);
	CHECK_RES(TEE_PopulateTransientObject(o, a, 2),
		  TEE_ERROR_BAD_PARAMETERS);
	TEE_InitRefAttribute(&a[1], TEE_ATTR_X25519_PUBLIC_VALUE, pub, 31);
	CHECK_RES(TEE_PopulateTransientObject(o, a, 2),
		  TEE_ERROR_BAD_PARAMETERS);
	TEE_InitRefAttribute(&a[1], TEE_ATTR_ED25519_PUBLIC_VALUE, pub, 32);
	EXPECT_PANIC(TEE_PopulateTransientObject(o, a, 2));
	TEE_InitRefAttribute(&a[1], TEE_ATTR_X25519_PUBLIC_VALUE, pub, 32);
	CHECK_RES(TEE_PopulateTransientObject(o, a, 2), TEE_SUCCESS);
	/* Populated objects cannot be populated or generated again. */
	EXPECT_PANIC(TEE_PopulateTransientObject(o, a, 2));
	EXPECT_PANIC(TEE_GenerateKey(o, 256, NULL, 0));

	/* Public keys take no private value and cannot be generated. */
	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_X25519_PUBLIC_KEY, 256,
					      &x), TEE_SUCCESS);
	EXPECT_PANIC(TEE_PopulateTransientObject(x, a, 2));
	EXPECT_PANIC(TEE_GenerateKey(x, 256, NULL, 0));
	/* Copy between curves panics. */
	{
		TEE_ObjectHandle e = TEE_HANDLE_NULL;

		CHECK_RES(TEE_AllocateTransientObject(
				TEE_TYPE_ED25519_PUBLIC_KEY, 256, &e),
			  TEE_SUCCESS);
		EXPECT_PANIC(TEE_CopyObjectAttributes1(e, o));
		TEE_FreeTransientObject(e);
	}
	TEE_FreeTransientObject(x);

	/* An X25519 key on an Ed25519 operation panics, and vice versa. */
	CHECK_RES(TEE_AllocateOperation(&op, TEE_ALG_ED25519, TEE_MODE_SIGN,
					256), TEE_SUCCESS);
	EXPECT_PANIC(TEE_SetOperationKey(op, o));
	/* DeriveKey on a signature operation panics. */
	EXPECT_PANIC(TEE_DeriveKey(op, NULL, 0, TEE_HANDLE_NULL));
	TEE_FreeOperation(op);
	TEE_FreeTransientObject(o);
}

/* A key pair stored as a persistent object comes back intact. */
static void test_persistent(void)
{
	static const char id[] = "x25519-key";
	TEE_ObjectHandle kp = TEE_HANDLE_NULL, p = TEE_HANDLE_NULL;
	uint8_t pub1[32], pub2[32], s1[32], s2[32], peer[32];

	test_uuid.timeLow = 0x11112222;
	test_uuid_valid = 1;
	unhex(peer, BOB_PUB);
	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_X25519_KEYPAIR, 256,
					      &kp), TEE_SUCCESS);
	CHECK_RES(TEE_GenerateKey(kp, 256, NULL, 0), TEE_SUCCESS);
	get_pub(kp, TEE_ATTR_X25519_PUBLIC_VALUE, pub1);
	derive(kp, peer, s1);
	CHECK_RES(TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, id,
			sizeof(id) - 1, TEE_DATA_FLAG_ACCESS_READ |
			TEE_DATA_FLAG_OVERWRITE, kp, NULL, 0, &p),
		  TEE_SUCCESS);
	TEE_CloseObject(p);
	TEE_FreeTransientObject(kp);
	p = TEE_HANDLE_NULL;
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, id,
					   sizeof(id) - 1,
					   TEE_DATA_FLAG_ACCESS_READ |
					   TEE_DATA_FLAG_ACCESS_WRITE_META,
					   &p),
		  TEE_SUCCESS);
	if (p) {
		get_pub(p, TEE_ATTR_X25519_PUBLIC_VALUE, pub2);
		CHECK_MEM(pub1, pub2, 32);
		derive(p, peer, s2);
		CHECK_MEM(s1, s2, 32);
		TEE_CloseAndDeletePersistentObject(p);
	}
	test_uuid_valid = 0;
}

/* The attestation PTA refuses when there is no TA image to measure (this
 * program links no TA entry point and loads no <uuid>.so). */
static void test_pta_no_image(void)
{
	uint8_t m[32];

	test_uuid.timeLow = 0x0badf00d;
	test_uuid_valid = 1;
	CHECK_RES(sim_pta_attestation_measure(m), TEE_ERROR_ACCESS_DENIED);
	test_uuid_valid = 0;
	CHECK_RES(sim_pta_attestation_measure(m), TEE_ERROR_ACCESS_DENIED);
}

int main(void)
{
	test_x25519_kat();
	test_x25519_generated();
	test_x25519_small_order();
	test_ed25519_kat();
	test_ed25519_roundtrip();
	test_rules();
	test_persistent();
	test_pta_no_image();
	TEST_SUMMARY("sim_internal_asym_test");
}

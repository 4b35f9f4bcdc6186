/*
 * asym.c - Curve25519 key objects and operations for the teespark
 * simulator's GP Internal Core API, over OpenSSL 3 (EVP_PKEY_X25519,
 * EVP_PKEY_ED25519):
 *
 *   objects     TEE_TYPE_X25519_KEYPAIR / _PUBLIC_KEY,
 *               TEE_TYPE_ED25519_KEYPAIR / _PUBLIC_KEY, 256 bits only;
 *               attributes TEE_ATTR_{X25519,ED25519}_{PUBLIC,PRIVATE}_VALUE
 *               (32 bytes each, RFC 7748 / RFC 8032 encodings)
 *   operations  TEE_ALG_X25519 (TEE_MODE_DERIVE) with TEE_DeriveKey;
 *               TEE_ALG_ED25519 (TEE_MODE_SIGN / TEE_MODE_VERIFY) with
 *               TEE_AsymmetricSignDigest / TEE_AsymmetricVerifyDigest.
 *
 * Semantics follow OP-TEE 4.x (lib/libutee, core/tee/tee_svc_cryp.c):
 *   - Populating a key pair needs both the private and the public value;
 *     a public key needs the public value. A missing or foreign attribute
 *     panics (GP). Unlike OP-TEE, the simulator also checks that a key
 *     pair's public value matches its private value (BAD_PARAMETERS if
 *     not): a mismatched pair would sign or agree under a key nobody
 *     expects.
 *   - TEE_GetObjectBufferAttribute gives the public value always, the
 *     private value only with TEE_USAGE_EXTRACTABLE (panic otherwise, as
 *     for secret values).
 *   - Ed25519: the "digest" argument is the whole message (pure Ed25519,
 *     RFC 8032); a signature is 64 bytes (SHORT_BUFFER with the size if the
 *     buffer is smaller); verification failure is
 *     TEE_ERROR_SIGNATURE_INVALID; a signature whose length is not 64
 *     panics, as OP-TEE's libutee panics on the core's BAD_PARAMETERS.
 *     TEE_ATTR_EDDSA_CTX / TEE_ATTR_EDDSA_PREHASH (Ed25519ctx/ph) are not
 *     simulated: passing them panics with TEE_ERROR_NOT_SUPPORTED.
 *   - X25519: TEE_DeriveKey takes TEE_ATTR_X25519_PUBLIC_VALUE (32 bytes)
 *     and fills a transient TEE_TYPE_GENERIC_SECRET object (>= 256 bits)
 *     with the 32-byte shared secret, readable as TEE_ATTR_SECRET_VALUE.
 *     All-zero shared secret (the peer sent a small-order point): the
 *     simulator panics with TEE_ERROR_BAD_PARAMETERS, as OP-TEE does with
 *     its mbedTLS backend. OP-TEE's default libtomcrypt backend instead
 *     returns the all-zero secret, so portable TA code must still reject
 *     an all-zero secret itself.
 *
 * Private values live in the object's secret[] (malloc'd outside the TA
 * heap, wiped on reset and free by objects.c) and in the operation's key
 * buffer (wiped on free by operations.c); every temporary here is wiped
 * with OPENSSL_cleanse, and EVP_PKEY_free wipes OpenSSL's copy.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "sim_internal.h"

#define ED25519_SIG_BYTES 64

bool sim_asym_is_type(uint32_t type)
{
	return type == TEE_TYPE_X25519_KEYPAIR ||
	       type == TEE_TYPE_X25519_PUBLIC_KEY ||
	       type == TEE_TYPE_ED25519_KEYPAIR ||
	       type == TEE_TYPE_ED25519_PUBLIC_KEY;
}

static bool is_keypair(uint32_t type)
{
	return type == TEE_TYPE_X25519_KEYPAIR ||
	       type == TEE_TYPE_ED25519_KEYPAIR;
}

static bool is_x25519(uint32_t type)
{
	return type == TEE_TYPE_X25519_KEYPAIR ||
	       type == TEE_TYPE_X25519_PUBLIC_KEY;
}

static int evp_id(uint32_t type)
{
	return is_x25519(type) ? EVP_PKEY_X25519 : EVP_PKEY_ED25519;
}

static uint32_t public_attr(uint32_t type)
{
	return is_x25519(type) ? TEE_ATTR_X25519_PUBLIC_VALUE :
				 TEE_ATTR_ED25519_PUBLIC_VALUE;
}

static uint32_t private_attr(uint32_t type)
{
	return is_x25519(type) ? TEE_ATTR_X25519_PRIVATE_VALUE :
				 TEE_ATTR_ED25519_PRIVATE_VALUE;
}

/* Computes the public value of a private value of curve `type`.
 * Leaks: nothing but success.  Hides: the private value. */
static int public_of(uint32_t type, const uint8_t priv[SIM_25519_BYTES],
		     uint8_t pub[SIM_25519_BYTES])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(evp_id(type), NULL, priv,
						   SIM_25519_BYTES);
	size_t n = SIM_25519_BYTES;
	int ok;

	if (!k)
		return -1;
	ok = EVP_PKEY_get_raw_public_key(k, pub, &n) == 1 &&
	     n == SIM_25519_BYTES;
	EVP_PKEY_free(k);
	return ok ? 0 : -1;
}

/* ---------------------------------------------------------------------- */
/* Objects                                                                 */
/* ---------------------------------------------------------------------- */

/* Fills a 25519 object from attributes (see the file comment).
 * Leaks: which attributes were given, consistent or not.  Hides: the
 * private value. */
TEE_Result sim_asym_populate(TEE_ObjectHandle o, const TEE_Attribute *attrs,
			     uint32_t attrCount)
{
	const TEE_Attribute *pub = NULL, *priv = NULL;
	uint8_t derived[SIM_25519_BYTES];
	uint32_t i;
	int bad;

	for (i = 0; i < attrCount; i++) {
		if (attrs[i].attributeID == public_attr(o->type))
			pub = &attrs[i];
		else if (is_keypair(o->type) &&
			 attrs[i].attributeID == private_attr(o->type))
			priv = &attrs[i];
		else
			TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
		if (!attrs[i].content.ref.buffer &&
		    attrs[i].content.ref.length)
			TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	}
	if (!pub || (is_keypair(o->type) && !priv))
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (pub->content.ref.length != SIM_25519_BYTES ||
	    (priv && priv->content.ref.length != SIM_25519_BYTES))
		return TEE_ERROR_BAD_PARAMETERS;

	if (priv) {
		if (public_of(o->type, priv->content.ref.buffer, derived))
			return TEE_ERROR_BAD_PARAMETERS;
		bad = CRYPTO_memcmp(derived, pub->content.ref.buffer,
				    SIM_25519_BYTES) != 0;
		OPENSSL_cleanse(derived, sizeof(derived));
		if (bad)
			return TEE_ERROR_BAD_PARAMETERS;
		memcpy(o->secret, priv->content.ref.buffer, SIM_25519_BYTES);
	} else {
		memcpy(o->secret, pub->content.ref.buffer, SIM_25519_BYTES);
	}
	o->secret_len = SIM_25519_BYTES;
	o->key_bits = 256;
	o->flags |= TEE_HANDLE_FLAG_INITIALIZED;
	return TEE_SUCCESS;
}

/* Generates a key pair with OpenSSL and keeps its private value.
 * Leaks: nothing.  Hides: the private value. */
TEE_Result sim_asym_generate(TEE_ObjectHandle o, uint32_t keySize,
			     const TEE_Attribute *params, uint32_t paramCount)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *k = NULL;
	size_t n = SIM_25519_BYTES;
	int ok;

	(void)params;
	/* Only key pairs can be generated; 25519 keys take no parameters. */
	if (!is_keypair(o->type) || paramCount)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (keySize != 256)
		TEE_Panic(TEE_ERROR_NOT_SUPPORTED);

	ctx = EVP_PKEY_CTX_new_id(evp_id(o->type), NULL);
	ok = ctx && EVP_PKEY_keygen_init(ctx) == 1 &&
	     EVP_PKEY_keygen(ctx, &k) == 1 &&
	     EVP_PKEY_get_raw_private_key(k, o->secret, &n) == 1 &&
	     n == SIM_25519_BYTES;
	EVP_PKEY_free(k);
	EVP_PKEY_CTX_free(ctx);
	if (!ok) {
		OPENSSL_cleanse(o->secret, SIM_25519_BYTES);
		return TEE_ERROR_OUT_OF_MEMORY;
	}
	o->secret_len = SIM_25519_BYTES;
	o->key_bits = 256;
	o->flags |= TEE_HANDLE_FLAG_INITIALIZED;
	return TEE_SUCCESS;
}

/* Reads a public or (extractable) private value.
 * Leaks: the public value (public by definition).  Hides: the private
 * value unless the object is extractable. */
TEE_Result sim_asym_get_attr(TEE_ObjectHandle o, uint32_t attributeID,
			     void *buffer, size_t *size)
{
	uint8_t pub[SIM_25519_BYTES];
	const uint8_t *src;

	if (attributeID == public_attr(o->type)) {
		if (is_keypair(o->type)) {
			if (public_of(o->type, o->secret, pub))
				TEE_Panic(TEE_ERROR_GENERIC);
			src = pub;
		} else {
			src = o->secret;
		}
	} else if (is_keypair(o->type) &&
		   attributeID == private_attr(o->type)) {
		/* GP: a secret attribute needs TEE_USAGE_EXTRACTABLE. */
		if (!(o->usage & TEE_USAGE_EXTRACTABLE))
			TEE_Panic(TEE_ERROR_ACCESS_DENIED);
		src = o->secret;
	} else {
		return TEE_ERROR_ITEM_NOT_FOUND;
	}
	if (*size < SIM_25519_BYTES) {
		*size = SIM_25519_BYTES;
		return TEE_ERROR_SHORT_BUFFER;
	}
	if (!buffer)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	memcpy(buffer, src, SIM_25519_BYTES);
	*size = SIM_25519_BYTES;
	return TEE_SUCCESS;
}

void sim_asym_copy_public(TEE_ObjectHandle dst, TEE_ObjectHandle src)
{
	bool same_curve = is_x25519(dst->type) == is_x25519(src->type);

	if (!same_curve || is_keypair(dst->type) || !is_keypair(src->type))
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (public_of(src->type, src->secret, dst->secret))
		TEE_Panic(TEE_ERROR_GENERIC);
	dst->secret_len = SIM_25519_BYTES;
	dst->key_bits = 256;
	dst->usage = src->usage;
	dst->flags |= TEE_HANDLE_FLAG_INITIALIZED;
}

/* ---------------------------------------------------------------------- */
/* Operations                                                              */
/* ---------------------------------------------------------------------- */

/* Checks the key type for (algorithm, mode) and extracts the raw key.
 * Leaks: key type.  Hides: the private value. */
void sim_asym_op_key(uint32_t algorithm, uint32_t mode, TEE_ObjectHandle key,
		     uint8_t out[SIM_25519_BYTES])
{
	uint32_t t = key->type;

	if (key->secret_len != SIM_25519_BYTES)
		TEE_Panic(TEE_ERROR_BAD_STATE);
	if (algorithm == TEE_ALG_X25519) {
		if (t != TEE_TYPE_X25519_KEYPAIR)
			TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
		memcpy(out, key->secret, SIM_25519_BYTES);
	} else if (algorithm == TEE_ALG_ED25519 && mode == TEE_MODE_SIGN) {
		if (t != TEE_TYPE_ED25519_KEYPAIR)
			TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
		memcpy(out, key->secret, SIM_25519_BYTES);
	} else if (algorithm == TEE_ALG_ED25519 && mode == TEE_MODE_VERIFY) {
		/* Verification takes a public key or a key pair (GP). */
		if (t == TEE_TYPE_ED25519_PUBLIC_KEY)
			memcpy(out, key->secret, SIM_25519_BYTES);
		else if (t != TEE_TYPE_ED25519_KEYPAIR ||
			 public_of(t, key->secret, out))
			TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	} else {
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	}
}

/* Ed25519ctx/ph parameters are not simulated; anything else is foreign. */
static void check_eddsa_params(const TEE_Attribute *params,
			       uint32_t paramCount)
{
	uint32_t i;

	if (!params && paramCount)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	for (i = 0; i < paramCount; i++) {
		if (params[i].attributeID == TEE_ATTR_EDDSA_CTX ||
		    params[i].attributeID == TEE_ATTR_EDDSA_PREHASH) {
			EMSG("Ed25519ctx / Ed25519ph are not simulated");
			TEE_Panic(TEE_ERROR_NOT_SUPPORTED);
		}
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	}
}

/* Signs msg with pure Ed25519 (RFC 8032).
 * Leaks: message length.  Hides: the private value. */
TEE_Result sim_asym_sign(const uint8_t priv[SIM_25519_BYTES],
			 const TEE_Attribute *params, uint32_t paramCount,
			 const void *msg, size_t msgLen, void *sig,
			 size_t *sigLen)
{
	EVP_PKEY *k;
	EVP_MD_CTX *md;
	size_t n = ED25519_SIG_BYTES;
	int ok;

	check_eddsa_params(params, paramCount);
	if ((!msg && msgLen) || !sigLen)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (*sigLen < ED25519_SIG_BYTES) {
		*sigLen = ED25519_SIG_BYTES;
		return TEE_ERROR_SHORT_BUFFER;
	}
	if (!sig)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, priv,
					 SIM_25519_BYTES);
	md = EVP_MD_CTX_new();
	ok = k && md && EVP_DigestSignInit_ex(md, NULL, NULL, NULL, NULL, k,
					      NULL) == 1 &&
	     EVP_DigestSign(md, sig, &n, msg ? msg : (const void *)"",
			    msgLen) == 1 && n == ED25519_SIG_BYTES;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	if (!ok)
		TEE_Panic(TEE_ERROR_GENERIC);
	*sigLen = ED25519_SIG_BYTES;
	return TEE_SUCCESS;
}

/* Verifies a pure Ed25519 signature (OpenSSL rejects non-canonical S).
 * Leaks: everything here is public.  Hides: nothing. */
TEE_Result sim_asym_verify(const uint8_t pub[SIM_25519_BYTES],
			   const TEE_Attribute *params, uint32_t paramCount,
			   const void *msg, size_t msgLen, const void *sig,
			   size_t sigLen)
{
	EVP_PKEY *k;
	EVP_MD_CTX *md;
	int r = 0;

	check_eddsa_params(params, paramCount);
	if ((!msg && msgLen) || !sig)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	/* OP-TEE's core answers BAD_PARAMETERS, which libutee turns into a
	 * panic. */
	if (sigLen != ED25519_SIG_BYTES)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
					SIM_25519_BYTES);
	md = EVP_MD_CTX_new();
	if (!md || !k)
		TEE_Panic(TEE_ERROR_OUT_OF_MEMORY);
	if (EVP_DigestVerifyInit_ex(md, NULL, NULL, NULL, NULL, k,
				    NULL) == 1)
		r = EVP_DigestVerify(md, sig, sigLen,
				     msg ? msg : (const void *)"", msgLen);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return r == 1 ? TEE_SUCCESS : TEE_ERROR_SIGNATURE_INVALID;
}

/* X25519(priv, peer public value) into a generic-secret object.
 * Leaks: whether the shared secret is all-zero (panic).  Hides: the
 * private value and the shared secret. */
void sim_asym_derive(const uint8_t priv[SIM_25519_BYTES],
		     const TEE_Attribute *params, uint32_t paramCount,
		     TEE_ObjectHandle derivedKey)
{
	const TEE_Attribute *peer = NULL;
	EVP_PKEY *k = NULL, *p = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t shared[SIM_25519_BYTES];
	size_t n = sizeof(shared);
	uint8_t acc = 0;
	uint32_t i;
	int ok;

	if (!params && paramCount)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	for (i = 0; i < paramCount; i++) {
		if (params[i].attributeID != TEE_ATTR_X25519_PUBLIC_VALUE ||
		    peer)
			TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
		peer = &params[i];
	}
	if (!peer || !peer->content.ref.buffer ||
	    peer->content.ref.length != SIM_25519_BYTES)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);

	sim_obj_check(derivedKey);
	if (derivedKey->flags & (TEE_HANDLE_FLAG_PERSISTENT |
				 TEE_HANDLE_FLAG_INITIALIZED))
		TEE_Panic(TEE_ERROR_BAD_STATE);
	if (derivedKey->type != TEE_TYPE_GENERIC_SECRET ||
	    derivedKey->max_bits < 8 * SIM_25519_BYTES)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);

	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv,
					 SIM_25519_BYTES);
	p = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL,
					peer->content.ref.buffer,
					SIM_25519_BYTES);
	if (!k || !p)
		TEE_Panic(TEE_ERROR_OUT_OF_MEMORY);
	ctx = EVP_PKEY_CTX_new(k, NULL);
	ok = ctx && EVP_PKEY_derive_init(ctx) == 1 &&
	     EVP_PKEY_derive_set_peer(ctx, p) == 1;
	if (!ok)
		TEE_Panic(TEE_ERROR_GENERIC);
	/* OpenSSL's X25519 fails exactly when the result is all zero (peer
	 * point of small order); that, and any other failure, panics. */
	ok = EVP_PKEY_derive(ctx, shared, &n) == 1 && n == sizeof(shared);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(k);
	EVP_PKEY_free(p);
	for (i = 0; ok && i < sizeof(shared); i++)
		acc |= shared[i];
	if (!ok || !acc) {
		OPENSSL_cleanse(shared, sizeof(shared));
		EMSG("X25519: peer public value of small order");
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	}
	memcpy(derivedKey->secret, shared, sizeof(shared));
	OPENSSL_cleanse(shared, sizeof(shared));
	derivedKey->secret_len = SIM_25519_BYTES;
	derivedKey->key_bits = 8 * SIM_25519_BYTES;
	derivedKey->flags |= TEE_HANDLE_FLAG_INITIALIZED;
}

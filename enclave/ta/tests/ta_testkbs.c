/*
 * ta_testkbs.c - OpenSSL key broker, recipient and verifier for the TA's
 * tests (see ta_testkbs.h).
 */
#include "ta_testkbs.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

static void die(const char *what)
{
	fprintf(stderr, "OpenSSL %s failed\n", what);
	exit(2);
}

void th_sha256(const void *buf, size_t len, uint8_t out[32])
{
	unsigned int n = 32;

	if (EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL) != 1)
		die("SHA-256");
}

void th_kbs_init(struct th_kbs *k)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	EVP_PKEY *key = NULL;
	size_t len = 32;

	if (!c || EVP_PKEY_keygen_init(c) != 1 || EVP_PKEY_keygen(c, &key) != 1 ||
	    EVP_PKEY_get_raw_public_key(key, k->pub, &len) != 1 || len != 32)
		die("Ed25519 keygen");
	EVP_PKEY_CTX_free(c);
	k->sign_key = key;
}

void th_kbs_free(struct th_kbs *k)
{
	EVP_PKEY_free(k->sign_key);
	k->sign_key = NULL;
}

void th_x25519_keypair(uint8_t priv[32], uint8_t pub[32])
{
	EVP_PKEY *key;
	size_t len = 32;

	if (RAND_bytes(priv, 32) != 1)
		die("RAND_bytes");
	key = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	if (!key || EVP_PKEY_get_raw_public_key(key, pub, &len) != 1 ||
	    len != 32)
		die("X25519 keygen");
	EVP_PKEY_free(key);
}

void th_x25519(const uint8_t priv[32], const uint8_t peer[32],
	       uint8_t shared[32])
{
	EVP_PKEY *a = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL,
						   priv, 32);
	EVP_PKEY *b = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL,
						  peer, 32);
	EVP_PKEY_CTX *c = a ? EVP_PKEY_CTX_new(a, NULL) : NULL;
	size_t len = 32;

	if (!c || !b || EVP_PKEY_derive_init(c) != 1 ||
	    EVP_PKEY_derive_set_peer(c, b) != 1 ||
	    EVP_PKEY_derive(c, shared, &len) != 1 || len != 32)
		die("X25519");
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

static void gcm(int enc, const uint8_t key[32], const uint8_t nonce[12],
		const void *aad, size_t aad_len, const uint8_t in[32],
		uint8_t out[32], uint8_t tag[16], int *ok)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l = 0;

	*ok = c && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce,
				     enc) == 1 &&
	      EVP_CipherUpdate(c, NULL, &l, aad, (int)aad_len) == 1 &&
	      EVP_CipherUpdate(c, out, &l, in, 32) == 1 &&
	      (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1) &&
	      EVP_CipherFinal_ex(c, out + 32, &l) == 1 &&
	      (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1);
	EVP_CIPHER_CTX_free(c);
}

size_t th_kbs_reply_size(uint32_t nk, uint32_t nr)
{
	return TS_KBS_REPLY_HEADER_SIZE + (size_t)nk * TS_WRAPPED_KEY_SIZE +
	       (size_t)nr * TS_RECIPIENT_SIZE + TS_ED25519_SIGNATURE_SIZE;
}

void th_kbs_resign(const struct th_kbs *k, uint8_t *reply, size_t len)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	size_t sig_len = 64;

	if (!m || EVP_DigestSignInit(m, NULL, NULL, NULL, k->sign_key) != 1 ||
	    EVP_DigestSign(m, reply + len - 64, &sig_len, reply, len - 64) != 1 ||
	    sig_len != 64)
		die("Ed25519 sign");
	EVP_MD_CTX_free(m);
}

size_t th_kbs_reply(const struct th_kbs *k, const uint8_t evidence_hash[32],
		    const uint8_t ta_pub[32], const struct th_key_entry *keys,
		    uint32_t nk, const struct ts_recipient *rc, uint32_t nr,
		    uint8_t *out)
{
	struct ts_kbs_reply_header h;
	uint8_t eph_priv[32], shared[32], kek[32];
	uint8_t info[sizeof(TS_KBS_WRAP_INFO) - 1 + 64];
	size_t len = th_kbs_reply_size(nk, nr), off, il = 0;
	uint32_t i;
	int ok;

	memset(&h, 0, sizeof(h));
	h.magic = TS_KBS_REPLY_MAGIC;
	h.version = 1;
	h.header_size = TS_KBS_REPLY_HEADER_SIZE;
	memcpy(h.evidence_hash, evidence_hash, 32);
	th_x25519_keypair(eph_priv, h.kbs_ephemeral_key);
	h.key_count = nk;
	h.recipient_count = nr;
	h.issued_at = 1700000000;
	h.reply_size = (uint32_t)len;
	memcpy(out, &h, sizeof(h));

	th_x25519(eph_priv, ta_pub, shared);
	memcpy(info, TS_KBS_WRAP_INFO, sizeof(TS_KBS_WRAP_INFO) - 1);
	il = sizeof(TS_KBS_WRAP_INFO) - 1;
	memcpy(info + il, h.kbs_ephemeral_key, 32);
	memcpy(info + il + 32, ta_pub, 32);
	th_hkdf_sha256(evidence_hash, 32, shared, 32, info, il + 64, kek, 32);

	off = sizeof(h);
	for (i = 0; i < nk; i++) {
		struct ts_wrapped_key w;
		uint8_t ct[48];

		memset(&w, 0, sizeof(w));
		w.slot = keys[i].slot;
		memcpy(w.key_id, keys[i].key_id, 16);
		memcpy(w.table_id, keys[i].table_id, 16);
		if (RAND_bytes(w.nonce, sizeof(w.nonce)) != 1)
			die("RAND_bytes");
		gcm(1, kek, w.nonce, &w, TS_WRAPPED_KEY_AAD_SIZE, keys[i].key,
		    ct, w.tag, &ok);
		if (!ok)
			die("AES-GCM wrap");
		memcpy(w.wrapped_key, ct, 32);
		memcpy(out + off, &w, sizeof(w));
		off += sizeof(w);
	}
	memcpy(out + off, rc, (size_t)nr * TS_RECIPIENT_SIZE);
	th_kbs_resign(k, out, len);
	memset(eph_priv, 0, sizeof(eph_priv));
	memset(kek, 0, sizeof(kek));
	return len;
}

int th_open_envelope(const uint8_t priv[32], const uint8_t pub[32],
		     const struct ts_result_envelope *env, uint8_t key[32])
{
	static const uint8_t zero[32];
	uint8_t shared[32], kek[32], pt[48], tag[16];
	uint8_t info[sizeof(TS_RESULT_WRAP_INFO) - 1 + 64];
	size_t il = sizeof(TS_RESULT_WRAP_INFO) - 1;
	int ok;

	if (env->magic != TS_RESULT_ENVELOPE_MAGIC || env->version != 1 ||
	    env->envelope_size != TS_RESULT_ENVELOPE_SIZE || env->reserved)
		return -1;
	th_x25519(priv, env->ta_ephemeral_key, shared);
	memcpy(info, TS_RESULT_WRAP_INFO, il);
	memcpy(info + il, env->ta_ephemeral_key, 32);
	memcpy(info + il + 32, pub, 32);
	th_hkdf_sha256(zero, 32, shared, 32, info, il + 64, kek, 32);
	memcpy(tag, env->tag, 16);
	gcm(0, kek, env->nonce, env, TS_RESULT_ENVELOPE_AAD_SIZE,
	    env->wrapped_key, pt, tag, &ok);
	if (!ok)
		return -1;
	memcpy(key, pt, 32);
	return 0;
}

int th_verify_evidence(const struct ts_evidence *ev, const uint8_t *e,
		       size_t e_len, const uint8_t *n, size_t n_len)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn_n = BN_bin2bn(n, (int)n_len, NULL);
	BIGNUM *bn_e = BN_bin2bn(e, (int)e_len, NULL);
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *fc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *vc = NULL;
	uint8_t msg[64];
	int ok;

	if (!bld || !bn_n || !bn_e || !fc || !m ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1 ||
	    !(params = OSSL_PARAM_BLD_to_param(bld)) ||
	    EVP_PKEY_fromdata_init(fc) != 1 ||
	    EVP_PKEY_fromdata(fc, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		die("RSA public key");
	/* The PTA's message: nonce' | measurement, nonce' = SHA-256(body). */
	th_sha256(&ev->body, sizeof(ev->body), msg);
	memcpy(msg + 32, ev->measurement, 32);
	ok = ev->signature_size <= sizeof(ev->signature) &&
	     EVP_DigestVerifyInit(m, &vc, EVP_sha256(), NULL, pkey) == 1 &&
	     EVP_PKEY_CTX_set_rsa_padding(vc, RSA_PKCS1_PSS_PADDING) == 1 &&
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(vc, 32) == 1 &&
	     EVP_PKEY_CTX_set_rsa_mgf1_md(vc, EVP_sha256()) == 1 &&
	     EVP_DigestVerify(m, ev->signature, ev->signature_size, msg,
			      sizeof(msg)) == 1;
	EVP_MD_CTX_free(m);
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(fc);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	return ok;
}

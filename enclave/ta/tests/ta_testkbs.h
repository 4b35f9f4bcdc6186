/*
 * ta_testkbs.h - the other parties of attested key release, written with
 * OpenSSL for the TA's tests (independent of the TA's GP crypto): a key
 * broker (Ed25519 signing key, X25519 key wrapping per teespark_ta.h), a
 * result recipient (opens a ts_result_envelope) and a verifier (checks the
 * evidence's RSASSA-PSS signature against the device public key).
 */
#ifndef TEESPARK_TA_TESTKBS_H
#define TEESPARK_TA_TESTKBS_H

#include "ta_testlib.h"

struct th_kbs {
	void *sign_key;			/* EVP_PKEY, Ed25519 */
	uint8_t pub[32];
};

struct th_key_entry {
	uint32_t slot;
	uint8_t key_id[16];
	uint8_t table_id[16];
	uint8_t key[32];
};

void th_kbs_init(struct th_kbs *k);
void th_kbs_free(struct th_kbs *k);

void th_sha256(const void *buf, size_t len, uint8_t out[32]);

/* X25519 with OpenSSL: a key pair, and shared = X25519(priv, peer). */
void th_x25519_keypair(uint8_t priv[32], uint8_t pub[32]);
void th_x25519(const uint8_t priv[32], const uint8_t peer[32],
	       uint8_t shared[32]);

/* Bytes of a reply with nk keys and nr recipients. */
size_t th_kbs_reply_size(uint32_t nk, uint32_t nr);

/* Build and sign a KBS reply answering the evidence with SHA-256
 * evidence_hash from a TA whose ephemeral key is ta_pub: keys wrapped per
 * teespark_ta.h under a fresh KBS ephemeral key. Returns its size. */
size_t th_kbs_reply(const struct th_kbs *k, const uint8_t evidence_hash[32],
		    const uint8_t ta_pub[32], const struct th_key_entry *keys,
		    uint32_t nk, const struct ts_recipient *rc, uint32_t nr,
		    uint8_t *out);

/* Sign the first len - 64 bytes of reply again into its last 64 (after a
 * test edited it: the KBS itself signed the edit). */
void th_kbs_resign(const struct th_kbs *k, uint8_t *reply, size_t len);

/* Open a result envelope with the recipient's key pair: 0 and the result
 * key, or -1 (AES-GCM tag or a field wrong). */
int th_open_envelope(const uint8_t priv[32], const uint8_t pub[32],
		     const struct ts_result_envelope *env, uint8_t key[32]);

/* 1 if ev's signature is the device key's (RSASSA-PSS-SHA256, salt 32)
 * over SHA-256(SHA-256(body) | measurement); e, n big-endian. */
int th_verify_evidence(const struct ts_evidence *ev, const uint8_t *e,
		       size_t e_len, const uint8_t *n, size_t n_len);

#endif /* TEESPARK_TA_TESTKBS_H */

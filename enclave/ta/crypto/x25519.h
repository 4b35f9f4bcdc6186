/*
 * x25519.h - X25519 key pairs and Diffie-Hellman (RFC 7748) over the GP
 * asymmetric API: TEE_TYPE_X25519_KEYPAIR objects, TEE_GenerateKey, and
 * TEE_DeriveKey with TEE_ALG_X25519 into a generic-secret object (OP-TEE:
 * CFG_CRYPTO_X25519=y; the simulator implements the same calls).
 *
 * The private key never leaves its TEE object; freeing the object (GP
 * TEE_FreeTransientObject) wipes it.
 */
#ifndef TEESPARK_X25519_H
#define TEESPARK_X25519_H

#include "../shim_tee.h"

#define X25519_KEY_SIZE 32

struct x25519_key {
	TEE_ObjectHandle obj;		/* TEE_HANDLE_NULL when empty */
	uint8_t pub[X25519_KEY_SIZE];	/* public value, public */
};

/* Generate a fresh key pair into k (k->obj must be TEE_HANDLE_NULL).
 * Leaks: nothing.  Hides: the private key. */
TEE_Result x25519_generate(struct x25519_key *k);

/* Free (and so wipe) the key pair; no-op on an empty one. */
void x25519_free(struct x25519_key *k);

/* shared = X25519(k's private key, peer). An all-zero result (peer a point
 * of small order, RFC 7748 section 6.1) is refused with
 * TEE_ERROR_SECURITY and shared zeroed.
 * Leaks: nothing.  Hides: private key, shared secret. */
TEE_Result x25519_shared(const struct x25519_key *k,
			 const uint8_t peer[X25519_KEY_SIZE],
			 uint8_t shared[X25519_KEY_SIZE]);

#endif /* TEESPARK_X25519_H */

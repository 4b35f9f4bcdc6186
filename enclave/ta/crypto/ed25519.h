/*
 * ed25519.h - Ed25519 signature verification (RFC 8032, pure Ed25519) over
 * the GP asymmetric API: a TEE_TYPE_ED25519_PUBLIC_KEY object and
 * TEE_AsymmetricVerifyDigest with TEE_ALG_ED25519, which for Ed25519 takes
 * the whole message, not a digest (GP 1.3.1; OP-TEE CFG_CRYPTO_ED25519=y).
 */
#ifndef TEESPARK_ED25519_H
#define TEESPARK_ED25519_H

#include "../shim_tee.h"

#define ED25519_PUBLIC_SIZE 32
#define ED25519_SIGNATURE_SIZE 64

/* TEE_SUCCESS if sig is pub's signature of msg, TEE_ERROR_SIGNATURE_INVALID
 * if not (other codes: the TEE could not check). msg must be TA memory.
 * Leaks: message length (everything here is public).  Hides: nothing. */
TEE_Result ed25519_verify(const uint8_t pub[ED25519_PUBLIC_SIZE],
			  const void *msg, size_t msg_len,
			  const uint8_t sig[ED25519_SIGNATURE_SIZE]);

#endif /* TEESPARK_ED25519_H */

/*
 * key_wrap.h - wrap and unwrap one 32-byte key with AES-256-GCM under a
 * key-encryption key (the KBS reply's wrapped data keys and the result
 * envelope, teespark_ta.h): wrapped_key | tag = GCM(kek, nonce, key, aad).
 *
 * WARNING (nonces): each KEK here is fresh per reply or per envelope
 * (HKDF over a fresh X25519 exchange), and each wraps at most
 * TS_MAX_KEY_SLOTS keys with random 96-bit nonces, far below the GCM bound.
 */
#ifndef TEESPARK_KEY_WRAP_H
#define TEESPARK_KEY_WRAP_H

#include "../shim_tee.h"

/* Encrypt key into wrapped/tag.
 * Leaks: aad (public).  Hides: kek, key. */
TEE_Result key_wrap_seal(const uint8_t kek[TS_KEY_SIZE],
			 const uint8_t nonce[TS_NONCE_SIZE],
			 const void *aad, size_t aad_len,
			 const uint8_t key[TS_KEY_SIZE],
			 uint8_t wrapped[TS_KEY_SIZE], uint8_t tag[TS_TAG_SIZE]);

/* Decrypt and authenticate wrapped/tag into key (TA memory). On a tag
 * mismatch key is zeroed and TEE_ERROR_MAC_INVALID returned.
 * Leaks: aad (public), whether the tag verified.  Hides: kek, key. */
TEE_Result key_wrap_open(const uint8_t kek[TS_KEY_SIZE],
			 const uint8_t nonce[TS_NONCE_SIZE],
			 const void *aad, size_t aad_len,
			 const uint8_t wrapped[TS_KEY_SIZE],
			 const uint8_t tag[TS_TAG_SIZE],
			 uint8_t key[TS_KEY_SIZE]);

#endif /* TEESPARK_KEY_WRAP_H */

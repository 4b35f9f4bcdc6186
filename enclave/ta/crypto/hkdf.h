/*
 * hkdf.h - HMAC-SHA256 and HKDF-SHA256 (RFC 5869) over the GP MAC API.
 *
 * GP HMAC keys are TEE objects with a size limit: stock OP-TEE accepts
 * HMAC-SHA256 keys of 192..1024 bits only (CFG_HMAC_64_1024_RANGE=n), and
 * the simulator enforces the same. So:
 *   - hmac_sha256 takes keys of HMAC_KEY_MIN..HMAC_KEY_MAX bytes;
 *   - hkdf_sha256's salt (the HMAC key of the extract step) must be empty or
 *     at least 24 bytes; an empty salt means 32 zero bytes (RFC 5869: "a
 *     string of HashLen zeros"), a salt of 1..23 bytes is refused with
 *     TEE_ERROR_NOT_SUPPORTED (RFC 5869 test case 1, 13-byte salt, cannot run
 *     on OP-TEE). The expand step's key is the 32-byte PRK, always in range.
 * teespark only derives with 32-byte salts (zeros or an evidence hash).
 */
#ifndef TEESPARK_HKDF_H
#define TEESPARK_HKDF_H

#include "sha256.h"

#define HMAC_KEY_MIN 24		/* 192 bits */
#define HMAC_KEY_MAX 128	/* 1024 bits */
#define HKDF_SHA256_MAX_OUT (255 * TS_SHA256_SIZE)

/* mac = HMAC-SHA256(key, parts[0] | ... | parts[n-1]).
 * TEE_ERROR_NOT_SUPPORTED for a key outside HMAC_KEY_MIN..HMAC_KEY_MAX.
 * Leaks: key length, part lengths.  Hides: key, message, MAC. */
TEE_Result hmac_sha256(const uint8_t *key, size_t key_len,
		       const struct ts_buf *parts, size_t n,
		       uint8_t mac[TS_SHA256_SIZE]);

/* out[0..out_len) = HKDF-SHA256(salt, ikm, info = info[0] | ... | info[n-1]).
 * out_len: 1..HKDF_SHA256_MAX_OUT (TEE_ERROR_BAD_PARAMETERS otherwise).
 * Leaks: salt, ikm, info and output lengths; info (public labels and keys).
 * Hides: ikm, the PRK, the output. */
TEE_Result hkdf_sha256(const uint8_t *salt, size_t salt_len,
		       const uint8_t *ikm, size_t ikm_len,
		       const struct ts_buf *info, size_t n_info,
		       uint8_t *out, size_t out_len);

#endif /* TEESPARK_HKDF_H */

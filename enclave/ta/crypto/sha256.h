/*
 * sha256.h - SHA-256 of a list of buffers, over the GP digest API, and the
 * buffer list type the TA's other hash-based helpers (hkdf.h) share.
 */
#ifndef TEESPARK_SHA256_H
#define TEESPARK_SHA256_H

#include "../shim_tee.h"

#define TS_SHA256_SIZE 32

/* One piece of a message that is hashed or MAC'd as a concatenation. */
struct ts_buf {
	const void *p;
	size_t len;
};

/* out = SHA-256(parts[0] | parts[1] | ... | parts[n-1]).
 * Leaks: the part lengths.  Hides: the parts' contents (one pass each). */
TEE_Result ts_sha256(const struct ts_buf *parts, size_t n, uint8_t out[TS_SHA256_SIZE]);

#endif /* TEESPARK_SHA256_H */

/*
 * block_gcm.h - seal and open one teespark block with AES-256-GCM.
 *
 * A sealed block is struct ts_block_header (96 bytes) | ciphertext
 * (row_count * row_size bytes) | 16-byte tag (teespark_ta.h). The whole
 * 96-byte header is the GCM additional authenticated data and its nonce
 * field is the GCM nonce.
 *
 * WARNING (nonces): every seal draws a fresh 96-bit nonce from
 * TEE_GenerateRandom. Random 96-bit nonces collide with probability about
 * q^2 / 2^97 after q seals under one key, so a key must seal at most 2^32
 * blocks (NIST SP 800-38D section 8.3); a nonce collision under one key
 * reveals the XOR of two plaintexts and lets an attacker forge tags. Data
 * keys are per table and per-query keys are per query (NEW_QUERY_KEY), which
 * keeps every key far below that bound; a caller that reseals the same table
 * under one key more than 2^32 times in total must rotate the key first.
 *
 * One struct block_gcm holds one GP operation handle for one key and one
 * direction. Allocate it once per command (block_gcm_init) and use it for
 * every block: each seal/open only resets and re-initialises the handle, so
 * nothing is allocated per block.
 */
#ifndef TEESPARK_BLOCK_GCM_H
#define TEESPARK_BLOCK_GCM_H

#include "../shim_tee.h"

struct block_gcm {
	TEE_OperationHandle op;	/* TEE_HANDLE_NULL when not initialised */
};

/* Allocate an AES-256-GCM operation for `mode` (TEE_MODE_ENCRYPT or
 * TEE_MODE_DECRYPT) keyed with `key` (TS_KEY_SIZE bytes). The key is copied
 * into the operation; the transient key object is freed before returning.
 * On failure g->op is TEE_HANDLE_NULL.
 * Leaks: nothing.  Hides: the key. */
TEE_Result block_gcm_init(struct block_gcm *g, uint32_t mode,
			  const uint8_t *key);

/* Free the operation (no-op on a zeroed or already freed struct). */
void block_gcm_free(struct block_gcm *g);

/* Copy the header at `sealed` (untrusted memory, `avail` bytes from there to
 * the end of the caller's buffer) into `hdr` in TA memory, then validate the
 * copy: magic, format version, header size, 1 <= row_size <= TS_MAX_ROW_SIZE,
 * ciphertext_size == row_count * row_size <= TS_MAX_BLOCK_PLAINTEXT, and the
 * whole sealed block within `avail`. Every later decision uses the copy, so
 * the host changing shared memory after this call cannot change what was
 * checked (TOCTOU).
 * TS_ERROR_BLOCK_FORMAT on any violation. */
TEE_Result block_gcm_read_header(const uint8_t *sealed, size_t avail,
				 struct ts_block_header *hdr);

/* Open the block at `sealed` whose header copy `hdr` passed
 * block_gcm_read_header. The tag and the ciphertext are copied into TA
 * memory (the ciphertext into `pt`, chunk by chunk, each chunk decrypted in
 * place while it is in cache) so that GCM authenticates and decrypts the
 * same bytes even if the host rewrites shared memory during the call.
 * `pt` must hold hdr->ciphertext_size bytes. On a tag mismatch all of `pt`
 * is zeroed and TS_ERROR_BLOCK_AUTH returned.
 * Leaks: ciphertext size, header (public), whether the tag verified.
 * Hides: plaintext, key. */
TEE_Result block_gcm_open(struct block_gcm *g, const struct ts_block_header *hdr,
			  const uint8_t *sealed, uint8_t *pt);

/* Seal `pt` (hdr->ciphertext_size bytes, TA memory) into `out` (untrusted
 * memory, TS_SEALED_BLOCK_SIZE(hdr->ciphertext_size) bytes): draws a fresh
 * nonce into hdr->nonce, writes the header, ciphertext and tag. `hdr` must be
 * a complete header in TA memory with ciphertext_size = row_count * row_size.
 * Leaks: plaintext size, header (public).  Hides: plaintext, key. */
TEE_Result block_gcm_seal(struct block_gcm *g, struct ts_block_header *hdr,
			  const uint8_t *pt, uint8_t *out);

/* Fill the constant fields of a header (magic, version, header size). */
void block_gcm_header_init(struct ts_block_header *hdr);

#endif /* TEESPARK_BLOCK_GCM_H */

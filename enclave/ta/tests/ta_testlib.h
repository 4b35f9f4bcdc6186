/*
 * ta_testlib.h - what every teespark TA test shares, with no TEE header:
 * a tiny check framework (prints "N passed, N failed"), a repeatable RNG,
 * and an independent OpenSSL EVP implementation of the sealed block format
 * (teespark_ta.h) to seal inputs and open outputs, so a test compares the
 * TA against a second implementation of the format.
 */
#ifndef TEESPARK_TA_TESTLIB_H
#define TEESPARK_TA_TESTLIB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <teespark_ta.h>

/* ---- tiny test framework: counts checks, prints "N passed, N failed" ---- */

extern unsigned th_passed, th_failed;

#define CHECK(cond) th_check(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_RES(got, want) \
	th_check_res((uint32_t)(got), (uint32_t)(want), #got, __FILE__, __LINE__)

int th_check(int ok, const char *what, const char *file, int line);
int th_check_res(uint32_t got, uint32_t want, const char *what,
		 const char *file, int line);
/* Prints the closing line; returns the process exit code. */
int th_summary(const char *suite);

/* Runs `fn` if no test names were given on the command line or its name is
 * among them (tests are picked by name). */
#define RUN_TEST(argc, argv, fn) th_run((argc), (argv), #fn, fn)
void th_run(int argc, char **argv, const char *name, void (*fn)(void));

/* ---- tables and blocks (OpenSSL, independent of the TA) ---- */

struct th_table {
	uint8_t table_id[16];
	uint64_t table_version;
	uint8_t schema_hash[32];
	uint32_t row_size;
};

/* Deterministic pseudo-random bytes (xorshift; tests must be repeatable). */
void th_rand_seed(uint64_t seed);
uint64_t th_rand64(void);
void th_rand_bytes(void *buf, size_t len);
void th_table_random(struct th_table *t, uint32_t row_size);

/* Bytes of the sealed blocks for n_rows rows at rows_per_block. */
size_t th_sealed_size(uint32_t n_rows, uint32_t row_size,
		      uint32_t rows_per_block);

/* Seal n_rows rows into ceil(n_rows / rows_per_block) blocks (one empty
 * block if n_rows == 0), concatenated into `out` (th_sealed_size bytes).
 * Returns the number of bytes written. */
size_t th_seal_table(const uint8_t key[32], const struct th_table *t,
		     const uint8_t *rows, uint32_t n_rows,
		     uint32_t rows_per_block, uint8_t *out);

/* Seal one block with a given header (the caller fills every field except
 * magic/version/header_size/nonce/ciphertext_size). */
size_t th_seal_block(const uint8_t key[32], struct ts_block_header *hdr,
		     const uint8_t *rows, uint8_t *out);

/* Open every block of `buf` with OpenSSL: checks magic, version, sizes,
 * block_index = position, block_count = blocks present, the tag. Writes
 * the rows to `rows` (capacity rows_cap bytes), the header of block i to
 * hdrs[i] (if hdrs, up to max_hdrs). Returns the number of rows, or -1. */
long th_open_table(const uint8_t key[32], const uint8_t *buf, size_t len,
		   uint8_t *rows, size_t rows_cap,
		   struct ts_block_header *hdrs, size_t max_hdrs,
		   uint32_t *n_blocks);

/* ---- table descriptors (OpenSSL HKDF + HMAC, independent of the TA) ---- */

/* out = HKDF-SHA256(salt, ikm, info) (OpenSSL EVP_KDF "HKDF"). */
void th_hkdf_sha256(const void *salt, size_t salt_len, const void *ikm,
		    size_t ikm_len, const void *info, size_t info_len,
		    uint8_t *out, size_t out_len);

/* The descriptor of table t holding n_rows rows at rows_per_block per block
 * (block_count as th_seal_table makes them), keyed by key_id, MAC'd under
 * the data key (teespark_ta.h). key_id NULL = zeros. */
void th_descriptor(const uint8_t key[32], const struct th_table *t,
		   uint64_t n_rows, uint32_t rows_per_block,
		   const uint8_t *key_id, struct ts_table_descriptor *d);

/* Recompute d->mac under key (after a test edited a field). */
void th_descriptor_mac(const uint8_t key[32], struct ts_table_descriptor *d);

/* 1 if d->mac is right for key. */
int th_descriptor_verify(const uint8_t key[32],
			 const struct ts_table_descriptor *d);

#endif /* TEESPARK_TA_TESTLIB_H */

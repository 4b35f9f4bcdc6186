/*
 * ta_testlib.c - check framework, RNG and the OpenSSL implementation of the
 * sealed block format (see ta_testlib.h).
 */
#include "ta_testlib.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

unsigned th_passed, th_failed;

int th_check(int ok, const char *what, const char *file, int line)
{
	if (ok) {
		th_passed++;
		return 1;
	}
	th_failed++;
	fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what);
	return 0;
}

int th_check_res(uint32_t got, uint32_t want, const char *what,
		 const char *file, int line)
{
	if (got == want) {
		th_passed++;
		return 1;
	}
	th_failed++;
	fprintf(stderr, "FAIL %s:%d: %s = 0x%08x, want 0x%08x\n", file, line,
		what, got, want);
	return 0;
}

int th_summary(const char *suite)
{
	printf("%s: %u passed, %u failed\n", suite, th_passed, th_failed);
	return th_failed ? 1 : 0;
}

void th_run(int argc, char **argv, const char *name, void (*fn)(void))
{
	int i, wanted = argc <= 1;
	unsigned before = th_failed;

	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			wanted = 1;
	if (!wanted)
		return;
	fn();
	fprintf(stderr, "%s %s\n", th_failed == before ? "ok  " : "FAIL", name);
}

/* ---------------------------------------------------------- randomness */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

void th_rand_seed(uint64_t seed)
{
	rng_state = seed ? seed : 0x9e3779b97f4a7c15ull;
}

uint64_t th_rand64(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dull;
}

void th_rand_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(th_rand64() >> 56);
}

void th_table_random(struct th_table *t, uint32_t row_size)
{
	th_rand_bytes(t->table_id, sizeof(t->table_id));
	t->table_version = th_rand64() >> 8;
	th_rand_bytes(t->schema_hash, sizeof(t->schema_hash));
	t->row_size = row_size;
}

/* -------------------------------------------------------------- blocks */

static uint32_t n_blocks_for(uint32_t n_rows, uint32_t rows_per_block)
{
	return n_rows ? (n_rows + rows_per_block - 1) / rows_per_block : 1;
}

size_t th_sealed_size(uint32_t n_rows, uint32_t row_size,
		      uint32_t rows_per_block)
{
	return (size_t)n_blocks_for(n_rows, rows_per_block) *
		       (TS_BLOCK_HEADER_SIZE + TS_TAG_SIZE) +
	       (size_t)n_rows * row_size;
}

size_t th_seal_block(const uint8_t key[32], struct ts_block_header *hdr,
		     const uint8_t *rows, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	size_t ct = (size_t)hdr->row_count * hdr->row_size;
	int len = 0;

	hdr->magic = TS_BLOCK_MAGIC;
	hdr->format_version = TS_FORMAT_VERSION;
	hdr->header_size = TS_BLOCK_HEADER_SIZE;
	hdr->ciphertext_size = (uint32_t)ct;
	th_rand_bytes(hdr->nonce, sizeof(hdr->nonce));
	memcpy(out, hdr, TS_BLOCK_HEADER_SIZE);

	if (!c ||
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, hdr->nonce) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &len, (const uint8_t *)hdr,
			      TS_BLOCK_HEADER_SIZE) != 1 ||
	    (ct && EVP_EncryptUpdate(c, out + TS_BLOCK_HEADER_SIZE, &len, rows,
				     (int)ct) != 1) ||
	    EVP_EncryptFinal_ex(c, out + TS_BLOCK_HEADER_SIZE + ct, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TS_TAG_SIZE,
				out + TS_BLOCK_HEADER_SIZE + ct) != 1) {
		fprintf(stderr, "OpenSSL seal failed\n");
		exit(2);
	}
	EVP_CIPHER_CTX_free(c);
	return TS_SEALED_BLOCK_SIZE(ct);
}

size_t th_seal_table(const uint8_t key[32], const struct th_table *t,
		     const uint8_t *rows, uint32_t n_rows,
		     uint32_t rows_per_block, uint8_t *out)
{
	uint32_t nb = n_blocks_for(n_rows, rows_per_block), i, r0 = 0;
	size_t off = 0;

	for (i = 0; i < nb; i++) {
		struct ts_block_header h;
		uint32_t cnt = n_rows - r0 < rows_per_block ? n_rows - r0 :
							      rows_per_block;

		memset(&h, 0, sizeof(h));
		memcpy(h.table_id, t->table_id, sizeof(h.table_id));
		h.table_version = t->table_version;
		h.block_index = i;
		h.block_count = nb;
		h.row_count = cnt;
		h.row_size = t->row_size;
		memcpy(h.schema_hash, t->schema_hash, sizeof(h.schema_hash));
		off += th_seal_block(key, &h, rows + (size_t)r0 * t->row_size,
				     out + off);
		r0 += cnt;
	}
	return off;
}

long th_open_table(const uint8_t key[32], const uint8_t *buf, size_t len,
		   uint8_t *rows, size_t rows_cap,
		   struct ts_block_header *hdrs, size_t max_hdrs,
		   uint32_t *n_blocks)
{
	size_t off = 0, rows_off = 0;
	uint32_t i = 0, count = 0;
	long n_rows = 0;
	struct ts_block_header h;

	while (off < len) {
		EVP_CIPHER_CTX *c;
		size_t ct;
		int l = 0, ok;

		if (len - off < TS_BLOCK_HEADER_SIZE)
			return -1;
		memcpy(&h, buf + off, sizeof(h));
		ct = (size_t)h.row_count * h.row_size;
		if (h.magic != TS_BLOCK_MAGIC ||
		    h.format_version != TS_FORMAT_VERSION ||
		    h.header_size != TS_BLOCK_HEADER_SIZE ||
		    h.ciphertext_size != ct || h.block_index != i ||
		    len - off < TS_SEALED_BLOCK_SIZE(ct) ||
		    rows_cap - rows_off < ct)
			return -1;
		if (i == 0)
			count = h.block_count;
		else if (h.block_count != count)
			return -1;
		c = EVP_CIPHER_CTX_new();
		ok = c &&
		     EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key,
					h.nonce) == 1 &&
		     EVP_DecryptUpdate(c, NULL, &l, buf + off,
				       TS_BLOCK_HEADER_SIZE) == 1 &&
		     (ct == 0 ||
		      EVP_DecryptUpdate(c, rows + rows_off, &l,
					buf + off + TS_BLOCK_HEADER_SIZE,
					(int)ct) == 1) &&
		     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TS_TAG_SIZE,
					 (void *)(buf + off +
						  TS_BLOCK_HEADER_SIZE + ct)) == 1 &&
		     EVP_DecryptFinal_ex(c, rows + rows_off + ct, &l) == 1;
		EVP_CIPHER_CTX_free(c);
		if (!ok)
			return -1;
		if (hdrs && i < max_hdrs)
			hdrs[i] = h;
		rows_off += ct;
		n_rows += h.row_count;
		off += TS_SEALED_BLOCK_SIZE(ct);
		i++;
	}
	if (i == 0 || i != count)
		return -1;
	if (n_blocks)
		*n_blocks = i;
	return n_rows;
}

/* ---------------------------------------------------------- descriptors */

void th_hkdf_sha256(const void *salt, size_t salt_len, const void *ikm,
		    size_t ikm_len, const void *info, size_t info_len,
		    uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[5], *p = params;

	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						 (void *)ikm, ikm_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
						 (void *)salt, salt_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
						 (void *)info, info_len);
	*p = OSSL_PARAM_construct_end();
	if (!kctx || EVP_KDF_derive(kctx, out, out_len, params) != 1) {
		fprintf(stderr, "OpenSSL HKDF failed\n");
		exit(2);
	}
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
}

static void descriptor_mac(const uint8_t key[32],
			   const struct ts_table_descriptor *d, uint8_t mac[32])
{
	static const uint8_t zero[32];
	uint8_t mk[32];
	unsigned int len = 32;

	th_hkdf_sha256(zero, sizeof(zero), key, 32, TS_MANIFEST_MAC_INFO,
		       strlen(TS_MANIFEST_MAC_INFO), mk, sizeof(mk));
	if (!HMAC(EVP_sha256(), mk, sizeof(mk), (const uint8_t *)d,
		  TS_DESCRIPTOR_MAC_OFFSET, mac, &len)) {
		fprintf(stderr, "OpenSSL HMAC failed\n");
		exit(2);
	}
}

void th_descriptor_mac(const uint8_t key[32], struct ts_table_descriptor *d)
{
	descriptor_mac(key, d, d->mac);
}

int th_descriptor_verify(const uint8_t key[32],
			 const struct ts_table_descriptor *d)
{
	uint8_t mac[32];

	descriptor_mac(key, d, mac);
	return memcmp(mac, d->mac, 32) == 0;
}

void th_descriptor(const uint8_t key[32], const struct th_table *t,
		   uint64_t n_rows, uint32_t rows_per_block,
		   const uint8_t *key_id, struct ts_table_descriptor *d)
{
	memset(d, 0, sizeof(*d));
	d->magic = TS_DESCRIPTOR_MAGIC;
	d->format_version = TS_FORMAT_VERSION;
	d->descriptor_size = TS_TABLE_DESCRIPTOR_SIZE;
	memcpy(d->table_id, t->table_id, 16);
	d->table_version = t->table_version;
	d->row_count = n_rows;
	d->block_count = n_blocks_for((uint32_t)n_rows, rows_per_block);
	d->row_size = t->row_size;
	d->rows_per_block = rows_per_block;
	memcpy(d->schema_hash, t->schema_hash, 32);
	if (key_id)
		memcpy(d->key_id, key_id, 16);
	th_descriptor_mac(key, d);
}

/*
 * bench_ta_commands.c - throughput of the TA's RESEAL_BLOCKS and SORT_BLOCKS,
 * in-process (no TA-host IPC), one JSON object per line on stdout:
 *
 *   {"bench":"openssl_reseal_loop", ...} the same reseal in plain OpenSSL
 *   {"bench":"ta_reseal_blocks", ...}    64 MiB in 1 MiB blocks
 *   {"bench":"ta_sort_blocks", ...}      2^20 rows of 16 bytes, one UINT64 key
 *
 * MB = 10^6 bytes; rates are per plaintext byte. "vs_openssl" on the reseal
 * line is the TA's rate over that of the same reseal written directly
 * against OpenSSL EVP in this process (openssl_reseal_loop: no TEE API, no
 * copy into TA memory), measured interleaved on the same buffers: the cost
 * of the TEE layer and of the TOCTOU copy. open/seal rates come from the
 * TA's own millisecond timers (param[3]) and are coarse.
 *
 *   bench_ta_commands [--small]   (--small: 4 MiB and 2^14 rows, a smoke run)
 */
#include "ta_harness.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* What RESEAL_BLOCKS does, in plain OpenSSL EVP with no TEE layer and no
 * copies: per block, decrypt (header as AAD, tag check) from `in` into a
 * 1 MiB buffer, then encrypt into `out`. Seconds for the whole table. */
static double openssl_reseal_seconds(const uint8_t *k_in, const uint8_t *k_out,
				     const uint8_t *in, uint8_t *out, size_t len,
				     uint8_t *pt)
{
	EVP_CIPHER_CTX *d = EVP_CIPHER_CTX_new(), *e = EVP_CIPHER_CTX_new();
	size_t off = 0;
	double t0 = now_s();
	int l;

	EVP_DecryptInit_ex(d, EVP_aes_256_gcm(), NULL, k_in, NULL);
	EVP_EncryptInit_ex(e, EVP_aes_256_gcm(), NULL, k_out, NULL);
	while (off < len) {
		const struct ts_block_header *h = (const void *)(in + off);
		size_t ct = h->ciphertext_size;

		EVP_DecryptInit_ex(d, NULL, NULL, NULL, h->nonce);
		EVP_DecryptUpdate(d, NULL, &l, in + off, TS_BLOCK_HEADER_SIZE);
		EVP_DecryptUpdate(d, pt, &l, in + off + TS_BLOCK_HEADER_SIZE,
				  (int)ct);
		EVP_CIPHER_CTX_ctrl(d, EVP_CTRL_GCM_SET_TAG, TS_TAG_SIZE,
				    (void *)(in + off + TS_BLOCK_HEADER_SIZE + ct));
		if (EVP_DecryptFinal_ex(d, pt, &l) != 1) {
			fprintf(stderr, "baseline: tag mismatch\n");
			exit(1);
		}
		memcpy(out + off, in + off, TS_BLOCK_HEADER_SIZE);
		EVP_EncryptInit_ex(e, NULL, NULL, NULL, h->nonce);
		EVP_EncryptUpdate(e, NULL, &l, in + off, TS_BLOCK_HEADER_SIZE);
		EVP_EncryptUpdate(e, out + off + TS_BLOCK_HEADER_SIZE, &l, pt,
				  (int)ct);
		EVP_EncryptFinal_ex(e, out + off, &l);
		EVP_CIPHER_CTX_ctrl(e, EVP_CTRL_GCM_GET_TAG, TS_TAG_SIZE,
				    out + off + TS_BLOCK_HEADER_SIZE + ct);
		off += TS_SEALED_BLOCK_SIZE(ct);
	}
	EVP_CIPHER_CTX_free(d);
	EVP_CIPHER_CTX_free(e);
	return now_s() - t0;
}

static double ta_reseal_seconds(void *s, const uint8_t *in, uint8_t *out,
				size_t len, TEE_Param *p3)
{
	TEE_Param p[4];
	TEE_Result res;
	double t0;

	memset(p, 0, sizeof(p));
	p[0].memref.buffer = (void *)in;
	p[0].memref.size = len;
	p[1].memref.buffer = out;
	p[1].memref.size = len;
	p[2].value.a = 0;
	p[2].value.b = 1;
	t0 = now_s();
	res = th_invoke(s, TA_TEESPARK_CMD_RESEAL_BLOCKS,
			TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					TEE_PARAM_TYPE_MEMREF_OUTPUT,
					TEE_PARAM_TYPE_VALUE_INPUT,
					TEE_PARAM_TYPE_VALUE_OUTPUT), p);
	if (res != TEE_SUCCESS) {
		fprintf(stderr, "RESEAL_BLOCKS failed 0x%x\n", res);
		exit(1);
	}
	*p3 = p[3];
	return now_s() - t0;
}

/* Interleaved best-of-5 of the TA and the plain OpenSSL loop on the same
 * buffers, so that a noisy shared machine slows both alike. */
static void bench_reseal(void *s, const uint8_t *k0, const uint8_t *k1,
			 size_t total)
{
	const uint32_t row_size = 64, rows_per_block = (1 << 20) / 64;
	uint32_t n_rows = (uint32_t)(total / row_size);
	size_t len = th_sealed_size(n_rows, row_size, rows_per_block);
	uint8_t *rows = malloc(total), *in = malloc(len), *out = malloc(len);
	uint8_t *pt = malloc(1 << 20);
	struct th_table t;
	double ta = 1e9, ossl = 1e9, dt, open_s = 0, seal_s = 0;
	TEE_Param p3;
	int r;

	th_rand_bytes(rows, total);
	th_table_random(&t, row_size);
	th_seal_table(k0, &t, rows, n_rows, rows_per_block, in);
	if (th_register_table(s, k0, &t, n_rows, rows_per_block, 0) !=
	    TEE_SUCCESS) {
		fprintf(stderr, "REGISTER_TABLE failed\n");
		exit(1);
	}
	memset(out, 0, len);	/* fault the pages in before timing */
	memset(pt, 0, 1 << 20);
	for (r = 0; r < 5; r++) {
		dt = ta_reseal_seconds(s, in, out, len, &p3);
		if (dt < ta) {
			ta = dt;
			open_s = p3.value.a / 1e6;
			seal_s = p3.value.b / 1e6;
		}
		dt = openssl_reseal_seconds(k0, k1, in, out, len, pt);
		if (dt < ossl)
			ossl = dt;
	}
	printf("{\"bench\":\"openssl_reseal_loop\",\"plaintext_bytes\":%zu,"
	       "\"block_bytes\":%d,\"mb_per_s\":%.1f}\n",
	       total, 1 << 20, total / ossl / 1e6);
	printf("{\"bench\":\"ta_reseal_blocks\",\"plaintext_bytes\":%zu,"
	       "\"block_bytes\":%d,\"mb_per_s\":%.1f,\"open_mb_per_s\":%.1f,"
	       "\"seal_mb_per_s\":%.1f,\"vs_openssl\":%.3f}\n",
	       total, 1 << 20, total / ta / 1e6,
	       open_s > 0 ? total / open_s / 1e6 : 0.0,
	       seal_s > 0 ? total / seal_s / 1e6 : 0.0, ossl / ta);
	free(rows);
	free(in);
	free(out);
	free(pt);
}

static void bench_sort(void *s, const uint8_t *k0, uint32_t n_rows)
{
	const uint32_t row_size = 16, rpb = 65536;
	size_t len = th_sealed_size(n_rows, row_size, rpb);
	size_t out_len = TS_TABLE_DESCRIPTOR_SIZE + len;
	uint8_t *rows = malloc((size_t)n_rows * row_size);
	uint8_t *in = malloc(len), *out = malloc(out_len);
	struct th_table t;
	struct ts_sort_request req;
	TEE_Param p[4];
	TEE_Result res;
	double t0, dt;

	th_rand_bytes(rows, (size_t)n_rows * row_size);
	th_table_random(&t, row_size);
	th_seal_table(k0, &t, rows, n_rows, rpb, in);
	if (th_register_table(s, k0, &t, n_rows, rpb, 0) != TEE_SUCCESS) {
		fprintf(stderr, "REGISTER_TABLE failed\n");
		exit(1);
	}
	memset(out, 0, out_len);
	memset(&req, 0, sizeof(req));
	req.in_key_slot = 0;
	req.out_key_slot = 1;
	req.rows_per_block = rpb;
	req.key_count = 1;
	memcpy(req.schema_hash, t.schema_hash, 32);
	req.keys[0] = (struct ts_sort_key){ TS_KEY_UINT, 0, 0, 8, 0 };
	memset(p, 0, sizeof(p));
	p[0].memref.buffer = in;
	p[0].memref.size = len;
	p[1].memref.buffer = out;
	p[1].memref.size = out_len;
	p[2].memref.buffer = &req;
	p[2].memref.size = sizeof(req);
	t0 = now_s();
	res = th_invoke(s, TA_TEESPARK_CMD_SORT_BLOCKS,
			TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					TEE_PARAM_TYPE_MEMREF_OUTPUT,
					TEE_PARAM_TYPE_MEMREF_INPUT,
					TEE_PARAM_TYPE_VALUE_OUTPUT), p);
	dt = now_s() - t0;
	if (res != TEE_SUCCESS) {
		fprintf(stderr, "SORT_BLOCKS failed 0x%x\n", res);
		exit(1);
	}
	printf("{\"bench\":\"ta_sort_blocks\",\"rows\":%u,\"row_size\":%u,"
	       "\"key\":\"uint64\",\"seconds\":%.3f,\"mb_per_s\":%.1f,"
	       "\"rows_per_s\":%.0f}\n",
	       n_rows, row_size, dt, (double)n_rows * row_size / dt / 1e6,
	       n_rows / dt);
	free(rows);
	free(in);
	free(out);
}

int main(int argc, char **argv)
{
	int small = argc > 1 && !strcmp(argv[1], "--small");
	uint8_t k0[32], k1[32];
	void *s;

	th_init();
	th_rand_seed(0xbe4c4);
	th_rand_bytes(k0, 32);
	th_rand_bytes(k1, 32);
	s = th_open_session();
	th_install_key(s, 0, k0);
	th_install_key(s, 1, k1);
	bench_reseal(s, k0, k1, small ? (4u << 20) : (64u << 20));
	bench_sort(s, k0, small ? (1u << 14) : (1u << 20));
	th_close_session(s);
	TA_DestroyEntryPoint();
	return 0;
}

/*
 * bench_ta_commands.c - throughput of the TA's RESEAL_BLOCKS and SORT_BLOCKS,
 * in-process (no TA-host IPC), one JSON object per line on stdout:
 *
 *   {"bench":"openssl_aes256gcm", ...}   EVP AES-256-GCM on the same block
 *                                        size, same process: the baseline
 *   {"bench":"ta_reseal_blocks", ...}    64 MiB in 1 MiB blocks
 *   {"bench":"ta_sort_blocks", ...}      2^20 rows of 16 bytes, one UINT64 key
 *
 * MB = 10^6 bytes; rates are per plaintext byte. The reseal line carries
 * "vs_openssl": reseal rate / the rate OpenSSL needs to decrypt and then
 * encrypt the same bytes (1 / (1/dec + 1/enc)), the TA's AES-GCM overhead.
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

/* Best-of-reps MB/s of EVP AES-256-GCM over `total` bytes in `block`-byte
 * messages (AAD 96 bytes, as a block header). */
static double openssl_rate(int enc, size_t block, size_t total, int reps)
{
	uint8_t key[32] = { 1 }, iv[12] = { 2 }, aad[96] = { 3 }, tag[16];
	uint8_t *buf = calloc(1, block);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	double best = 0;
	int r, l;
	size_t done;

	EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv, enc);
	for (r = 0; r < reps; r++) {
		double t0 = now_s(), dt;

		for (done = 0; done < total; done += block) {
			EVP_CipherInit_ex(c, NULL, NULL, NULL, iv, enc);
			EVP_CipherUpdate(c, NULL, &l, aad, sizeof(aad));
			EVP_CipherUpdate(c, buf, &l, buf, (int)block);
			if (!enc)
				EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16,
						    tag);
			EVP_CipherFinal_ex(c, tag, &l);	/* dec: tag fails */
			if (enc)
				EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16,
						    tag);
		}
		dt = now_s() - t0;
		if (total / dt / 1e6 > best)
			best = total / dt / 1e6;
	}
	EVP_CIPHER_CTX_free(c);
	free(buf);
	return best;
}

static void bench_reseal(void *s, const uint8_t *k0, size_t total)
{
	const uint32_t row_size = 64, rows_per_block = (1 << 20) / 64;
	uint32_t n_rows = (uint32_t)(total / row_size);
	size_t len = th_sealed_size(n_rows, row_size, rows_per_block);
	uint8_t *rows = malloc(total), *in = malloc(len), *out = malloc(len);
	struct th_table t;
	double best = 0, dec, enc, both, best_open = 0, best_seal = 0;
	TEE_Param p[4];
	int r;

	th_rand_bytes(rows, total);
	th_table_random(&t, row_size);
	th_seal_table(k0, &t, rows, n_rows, rows_per_block, in);
	memset(out, 0, len);	/* fault the pages in before timing */
	for (r = 0; r < 3; r++) {
		double t0, dt;
		TEE_Result res;

		memset(p, 0, sizeof(p));
		p[0].memref.buffer = in;
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
		dt = now_s() - t0;
		if (res != TEE_SUCCESS) {
			fprintf(stderr, "RESEAL_BLOCKS failed 0x%x\n", res);
			exit(1);
		}
		if (total / dt / 1e6 > best) {
			best = total / dt / 1e6;
			best_open = p[3].value.a ? total / (p[3].value.a * 1.0) : 0;
			best_seal = p[3].value.b ? total / (p[3].value.b * 1.0) : 0;
		}
	}
	dec = openssl_rate(0, 1 << 20, total, 3);
	enc = openssl_rate(1, 1 << 20, total, 3);
	both = 1.0 / (1.0 / dec + 1.0 / enc);
	printf("{\"bench\":\"openssl_aes256gcm\",\"block_bytes\":%d,"
	       "\"decrypt_mb_per_s\":%.1f,\"encrypt_mb_per_s\":%.1f,"
	       "\"decrypt_then_encrypt_mb_per_s\":%.1f}\n",
	       1 << 20, dec, enc, both);
	printf("{\"bench\":\"ta_reseal_blocks\",\"plaintext_bytes\":%zu,"
	       "\"block_bytes\":%d,\"mb_per_s\":%.1f,\"open_mb_per_s\":%.1f,"
	       "\"seal_mb_per_s\":%.1f,\"vs_openssl\":%.3f}\n",
	       total, 1 << 20, best, best_open, best_seal, best / both);
	free(rows);
	free(in);
	free(out);
}

static void bench_sort(void *s, const uint8_t *k0, uint32_t n_rows)
{
	const uint32_t row_size = 16, rpb = 65536;
	size_t len = th_sealed_size(n_rows, row_size, rpb);
	uint8_t *rows = malloc((size_t)n_rows * row_size);
	uint8_t *in = malloc(len), *out = malloc(len);
	struct th_table t;
	struct ts_sort_request req;
	TEE_Param p[4];
	TEE_Result res;
	double t0, dt;

	th_rand_bytes(rows, (size_t)n_rows * row_size);
	th_table_random(&t, row_size);
	th_seal_table(k0, &t, rows, n_rows, rpb, in);
	memset(out, 0, len);
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
	p[1].memref.size = len;
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
	bench_reseal(s, k0, small ? (4u << 20) : (64u << 20));
	bench_sort(s, k0, small ? (1u << 14) : (1u << 20));
	th_close_session(s);
	TA_DestroyEntryPoint();
	return 0;
}

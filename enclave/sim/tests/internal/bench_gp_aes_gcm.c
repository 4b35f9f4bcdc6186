/*
 * bench_gp_aes_gcm.c - AES-256-GCM seal/open throughput through the GP
 * Internal API of the simulator (TEE_AEInit + TEE_AEUpdateAAD +
 * TEE_AEEncryptFinal / TEE_AEDecryptFinal per buffer, a fresh nonce each
 * time), at 16 KiB, 256 KiB and 1 MiB, next to the same loop written
 * directly against OpenSSL EVP. Prints one JSON object; compare with
 * `openssl speed -evp aes-256-gcm -bytes N`.
 *
 *   bench_gp_aes_gcm [--seconds S] [--aad N]
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/opensslv.h>

#include "sim_internal.h"
#include "test_util.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void bump(uint8_t iv[12])
{
	int i;

	for (i = 11; i >= 0 && ++iv[i] == 0; i--)
		;
}

struct run {
	double seconds;
	size_t aad_len;
	uint8_t *pt, *ct, *out, tag[16], aad[64];
};

static double gp_loop(struct run *r, TEE_OperationHandle op, size_t len,
		      int open_, uint8_t *iv_base)
{
	uint8_t iv[12];
	double t0 = now(), t;
	long iters = 0;

	memcpy(iv, iv_base, 12);
	do {
		size_t n = len, tl = 16;
		TEE_Result res;

		if (!open_)
			bump(iv);
		TEE_AEInit(op, iv, 12, 128, r->aad_len, len);
		if (r->aad_len)
			TEE_AEUpdateAAD(op, r->aad, r->aad_len);
		if (open_)
			res = TEE_AEDecryptFinal(op, r->ct, len, r->out, &n,
						 r->tag, 16);
		else
			res = TEE_AEEncryptFinal(op, r->pt, len, r->ct, &n,
						 r->tag, &tl);
		if (res != TEE_SUCCESS) {
			fprintf(stderr, "GP AE call failed: 0x%08x\n", res);
			exit(1);
		}
		iters++;
		t = now() - t0;
	} while (t < r->seconds);
	return (double)iters * (double)len / t;
}

static double evp_loop(struct run *r, EVP_CIPHER_CTX *ctx, size_t len,
		       int open_, uint8_t *iv_base)
{
	uint8_t iv[12], tag[16];
	double t0 = now(), t;
	long iters = 0;
	int outl, ok;

	memcpy(iv, iv_base, 12);
	do {
		if (!open_)
			bump(iv);
		ok = EVP_CipherInit_ex2(ctx, NULL, NULL, iv, !open_, NULL);
		if (r->aad_len)
			ok &= EVP_CipherUpdate(ctx, NULL, &outl, r->aad,
					       (int)r->aad_len);
		if (open_) {
			ok &= EVP_CipherUpdate(ctx, r->out, &outl, r->ct,
					       (int)len);
			ok &= EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG,
						  16, r->tag);
			ok &= EVP_CipherFinal_ex(ctx, tag, &outl);
		} else {
			ok &= EVP_CipherUpdate(ctx, r->ct, &outl, r->pt,
					       (int)len);
			ok &= EVP_CipherFinal_ex(ctx, tag, &outl);
			ok &= EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
						  16, tag);
		}
		if (ok != 1) {
			fprintf(stderr, "EVP call failed\n");
			exit(1);
		}
		iters++;
		t = now() - t0;
	} while (t < r->seconds);
	return (double)iters * (double)len / t;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 16384, 262144, 1048576 };
	uint8_t key[32], iv[12] = { 0 };
	struct run r = { .seconds = 0.5, .aad_len = 0 };
	TEE_ObjectHandle k = TEE_HANDLE_NULL;
	TEE_OperationHandle enc = TEE_HANDLE_NULL, dec = TEE_HANDLE_NULL;
	TEE_Attribute a;
	EVP_CIPHER *cipher;
	EVP_CIPHER_CTX *ectx, *dctx;
	size_t i;
	int argi;

	for (argi = 1; argi + 1 < argc; argi += 2) {
		if (!strcmp(argv[argi], "--seconds"))
			r.seconds = atof(argv[argi + 1]);
		else if (!strcmp(argv[argi], "--aad"))
			r.aad_len = (size_t)atoi(argv[argi + 1]);
	}
	if (r.aad_len > sizeof(r.aad))
		r.aad_len = sizeof(r.aad);
	if (posix_memalign((void **)&r.pt, 64, 1 << 20) ||
	    posix_memalign((void **)&r.ct, 64, 1 << 20) ||
	    posix_memalign((void **)&r.out, 64, 1 << 20))
		return 1;
	memset(r.pt, 0x5a, 1 << 20);
	TEE_GenerateRandom(key, sizeof(key));

	TEE_AllocateTransientObject(TEE_TYPE_AES, 256, &k);
	TEE_InitRefAttribute(&a, TEE_ATTR_SECRET_VALUE, key, sizeof(key));
	TEE_PopulateTransientObject(k, &a, 1);
	TEE_AllocateOperation(&enc, TEE_ALG_AES_GCM, TEE_MODE_ENCRYPT, 256);
	TEE_AllocateOperation(&dec, TEE_ALG_AES_GCM, TEE_MODE_DECRYPT, 256);
	TEE_SetOperationKey(enc, k);
	TEE_SetOperationKey(dec, k);

	cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	ectx = EVP_CIPHER_CTX_new();
	dctx = EVP_CIPHER_CTX_new();
	EVP_CipherInit_ex2(ectx, cipher, key, NULL, 1, NULL);
	EVP_CipherInit_ex2(dctx, cipher, key, NULL, 0, NULL);

	printf("{\"bench\": \"gp_aes_gcm\", \"cipher\": \"AES-256-GCM\", "
	       "\"api\": \"GP TEE Internal Core API (teespark simulator)\", "
	       "\"openssl\": \"%s\", \"aad_bytes\": %zu, "
	       "\"seconds_per_point\": %.2f, \"unit\": \"bytes/s\", "
	       "\"results\": [", OPENSSL_VERSION_TEXT, r.aad_len, r.seconds);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = sizes[i];
		double gs, go, es, eo;

		/* Seal first: open then checks a valid tag for the last
		 * nonce; the open loop reuses that nonce. */
		gs = gp_loop(&r, enc, len, 0, iv);
		es = evp_loop(&r, ectx, len, 0, iv);
		{
			size_t n = len, tl = 16;

			bump(iv);
			TEE_AEInit(enc, iv, 12, 128, r.aad_len, len);
			if (r.aad_len)
				TEE_AEUpdateAAD(enc, r.aad, r.aad_len);
			TEE_AEEncryptFinal(enc, r.pt, len, r.ct, &n, r.tag,
					   &tl);
		}
		go = gp_loop(&r, dec, len, 1, iv);
		eo = evp_loop(&r, dctx, len, 1, iv);
		if (memcmp(r.out, r.pt, len)) {
			fprintf(stderr, "round trip mismatch\n");
			return 1;
		}
		printf("%s\n  {\"bytes\": %zu, \"seal_gp\": %.0f, "
		       "\"seal_evp\": %.0f, \"seal_ratio\": %.3f, "
		       "\"open_gp\": %.0f, \"open_evp\": %.0f, "
		       "\"open_ratio\": %.3f}", i ? "," : "", len, gs, es,
		       gs / es, go, eo, go / eo);
		fflush(stdout);
	}
	printf("\n]}\n");

	EVP_CIPHER_CTX_free(ectx);
	EVP_CIPHER_CTX_free(dctx);
	EVP_CIPHER_free(cipher);
	TEE_FreeOperation(enc);
	TEE_FreeOperation(dec);
	TEE_FreeTransientObject(k);
	free(r.pt);
	free(r.ct);
	free(r.out);
	return 0;
}

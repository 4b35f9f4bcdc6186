/*
 * test_pta.c - the simulator's attestation pseudo-TA through TA-to-TA
 * sessions, in-process:
 *   - session rules (unknown UUID, NULL session, bad handle);
 *   - GET_PUBKEY sizes, SHORT_BUFFER, RSA-3072 with e = 65537;
 *   - HASH_TA_MEMORY: measurement equal to an independent file-based
 *     computation for a dlopen()ed <uuid>.so and, via the
 *     TA_InvokeCommandEntryPoint fallback, for this program; the RSA-PSS
 *     signature verified with OpenSSL against GET_PUBKEY's key; nonce
 *     binding; flipped-bit negative control; parameter checks;
 *   - the device key persists (re-init, new processes), two processes
 *     creating it at once agree on one key, storage.c reads it as an object
 *     of the PTA's UUID, and a tampered key file is refused, not replaced.
 *
 * argv[1] = the test image (<uuid>.so, pta_dummy_ta.c); run with
 * TEESPARK_SIM_STORAGE_DIR set to an empty directory.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <pta_attestation.h>

#include "sim_internal.h"
#include "test_util.h"

#define DUMMY_UUID { 0x0a77e57a, 0x5ba0, 0x4c1e, \
		{ 0x9d, 0x2f, 0x6d, 0x65, 0x61, 0x73, 0x75, 0x72 } }
#define MOD_BYTES 384

static const TEE_UUID pta_uuid = PTA_ATTESTATION_UUID;
static char storage_root[4096];

/* Makes this program look like an in-process TA harness (see
 * sim_pta_attestation_measure). Never called. */
TEE_Result TA_InvokeCommandEntryPoint(void *sessionContext, uint32_t commandID,
				      uint32_t paramTypes,
				      TEE_Param params[TEE_NUM_PARAMS])
{
	(void)sessionContext, (void)commandID, (void)paramTypes, (void)params;
	return TEE_ERROR_NOT_SUPPORTED;
}

/* ---------------------------------------------------------------------- */
/* Independent reference: the measurement from the ELF file               */
/* ---------------------------------------------------------------------- */

struct seg {
	const uint8_t *p;
	size_t n;
};

static int cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? -1 : 1;
	return memcmp(x->p, y->p, x->n);
}

/* SHA-256 over the file bytes of the non-writable PT_LOAD segments, sorted
 * by size then content; 0 on success. */
static int file_measure(const char *path, uint8_t out[32])
{
	FILE *f = fopen(path, "rb");
	uint8_t *img = NULL;
	long len;
	Elf64_Ehdr eh;
	struct seg segs[32];
	size_t n = 0, i;
	unsigned int dl = 0;
	EVP_MD_CTX *md;
	int ok = 0;

	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (img = malloc((size_t)len)) &&
	    fread(img, 1, (size_t)len, f) == (size_t)len)
		ok = 1;
	fclose(f);
	if (!ok || (size_t)len < sizeof(eh))
		goto fail;
	memcpy(&eh, img, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64)
		goto fail;
	for (i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, img + eh.e_phoff + i * eh.e_phentsize, sizeof(ph));
		if (ph.p_type != PT_LOAD || (ph.p_flags & PF_W) ||
		    !ph.p_filesz)
			continue;
		if (n == 32 || ph.p_offset + ph.p_filesz > (uint64_t)len)
			goto fail;
		segs[n].p = img + ph.p_offset;
		segs[n].n = ph.p_filesz;
		n++;
	}
	qsort(segs, n, sizeof(segs[0]), cmp_seg);
	md = EVP_MD_CTX_new();
	ok = md && EVP_DigestInit_ex2(md, EVP_sha256(), NULL) == 1;
	for (i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(md, segs[i].p, segs[i].n) == 1;
	ok = ok && EVP_DigestFinal_ex(md, out, &dl) == 1 && dl == 32;
	EVP_MD_CTX_free(md);
	free(img);
	return ok && n ? 0 : -1;
fail:
	free(img);
	return -1;
}

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */
/* ---------------------------------------------------------------------- */

static TEE_TASessionHandle open_pta(void)
{
	TEE_TASessionHandle s = TEE_HANDLE_NULL;
	uint32_t origin = 0;

	CHECK_RES(TEE_OpenTASession(&pta_uuid, TEE_TIMEOUT_INFINITE, 0, NULL,
				    &s, &origin), TEE_SUCCESS);
	CHECK(origin == TEE_ORIGIN_TRUSTED_APP);
	return s;
}

static TEE_Result get_pubkey(TEE_TASessionHandle s, uint8_t *e, size_t *e_len,
			     uint8_t *n, size_t *n_len, uint32_t *alg)
{
	TEE_Param p[TEE_NUM_PARAMS];
	uint32_t origin = 0;
	TEE_Result res;

	memset(p, 0, sizeof(p));
	p[0].memref.buffer = e;
	p[0].memref.size = *e_len;
	p[1].memref.buffer = n;
	p[1].memref.size = *n_len;
	res = TEE_InvokeTACommand(s, TEE_TIMEOUT_INFINITE,
				  PTA_ATTESTATION_GET_PUBKEY,
				  TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_OUTPUT,
						  TEE_PARAM_TYPE_MEMREF_OUTPUT,
						  TEE_PARAM_TYPE_VALUE_OUTPUT,
						  TEE_PARAM_TYPE_NONE),
				  p, &origin);
	CHECK(origin == TEE_ORIGIN_TRUSTED_APP);
	CHECK(p[0].memref.buffer == e && p[1].memref.buffer == n);
	*e_len = p[0].memref.size;
	*n_len = p[1].memref.size;
	if (alg)
		*alg = p[2].value.a;
	return res;
}

static TEE_Result hash_ta(TEE_TASessionHandle s, const void *nonce,
			  size_t nonce_len, uint8_t *out, size_t *out_len)
{
	TEE_Param p[TEE_NUM_PARAMS];
	TEE_Result res;

	memset(p, 0, sizeof(p));
	p[0].memref.buffer = (void *)(uintptr_t)nonce;
	p[0].memref.size = nonce_len;
	p[1].memref.buffer = out;
	p[1].memref.size = *out_len;
	res = TEE_InvokeTACommand(s, TEE_TIMEOUT_INFINITE,
				  PTA_ATTESTATION_HASH_TA_MEMORY,
				  TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
						  TEE_PARAM_TYPE_MEMREF_OUTPUT,
						  TEE_PARAM_TYPE_NONE,
						  TEE_PARAM_TYPE_NONE),
				  p, NULL);
	*out_len = p[1].memref.size;
	return res;
}

/* The device public key as OpenSSL sees it, from GET_PUBKEY's output. */
static EVP_PKEY *rsa_from(const uint8_t *e, size_t e_len, const uint8_t *n,
			  size_t n_len)
{
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	BIGNUM *bn_e = BN_bin2bn(e, (int)e_len, NULL);
	BIGNUM *bn_n = BN_bin2bn(n, (int)n_len, NULL);
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *k = NULL;

	if (b && bn_e && bn_n && ctx &&
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, bn_n) &&
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, bn_e) &&
	    (params = OSSL_PARAM_BLD_to_param(b)) &&
	    EVP_PKEY_fromdata_init(ctx) == 1)
		(void)EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	BN_free(bn_e);
	BN_free(bn_n);
	EVP_PKEY_CTX_free(ctx);
	return k;
}

/* 1 if sig is RSASSA-PSS-SHA256 (MGF1-SHA256, salt 32) by `key` over
 * SHA-256(nonce | meas). */
static int pss_ok(EVP_PKEY *key, const void *nonce, size_t nonce_len,
		  const uint8_t meas[32], const uint8_t *sig, size_t sig_len)
{
	uint8_t d[32];
	unsigned int dl = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	int r = 0;

	if (md && ctx && EVP_DigestInit_ex2(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, nonce, nonce_len) == 1 &&
	    EVP_DigestUpdate(md, meas, 32) == 1 &&
	    EVP_DigestFinal_ex(md, d, &dl) == 1 &&
	    EVP_PKEY_verify_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, 32) == 1)
		r = EVP_PKEY_verify(ctx, sig, sig_len, d, 32) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_CTX_free(ctx);
	return r;
}

static void use_storage(const char *sub)
{
	char dir[4200];

	snprintf(dir, sizeof(dir), "%s/%s", storage_root, sub);
	setenv("TEESPARK_SIM_STORAGE_DIR", dir, 1);
	sim_pta_attestation_reset();
}

/* The modulus GET_PUBKEY reports now. */
static void modulus(uint8_t n[MOD_BYTES])
{
	TEE_TASessionHandle s = open_pta();
	uint8_t e[8];
	size_t el = sizeof(e), nl = MOD_BYTES;

	CHECK_RES(get_pubkey(s, e, &el, n, &nl, NULL), TEE_SUCCESS);
	CHECK(nl == MOD_BYTES);
	TEE_CloseTASession(s);
}

/* ---------------------------------------------------------------------- */
/* Tests                                                                   */
/* ---------------------------------------------------------------------- */

static void test_sessions(void)
{
	static const TEE_UUID other = { 0x39800861, 0x182a, 0x4720,
		{ 0x9b, 0x67, 0x2b, 0xcd, 0x62, 0x2b, 0xc0, 0xb6 } };
	TEE_TASessionHandle s = (TEE_TASessionHandle)1;
	struct __TEE_TASessionHandle *bogus;
	TEE_Param p[TEE_NUM_PARAMS];
	uint32_t origin = 0;

	CHECK_RES(TEE_OpenTASession(&other, TEE_TIMEOUT_INFINITE, 0, NULL, &s,
				    &origin), TEE_ERROR_ITEM_NOT_FOUND);
	CHECK(s == TEE_HANDLE_NULL);
	CHECK(origin == TEE_ORIGIN_TEE);
	EXPECT_PANIC(TEE_OpenTASession(&pta_uuid, TEE_TIMEOUT_INFINITE, 0,
				       NULL, NULL, &origin));
	EXPECT_PANIC(TEE_OpenTASession(NULL, TEE_TIMEOUT_INFINITE, 0, NULL,
				       &s, &origin));
	TEE_CloseTASession(TEE_HANDLE_NULL);

	s = open_pta();
	/* Unknown and skipped commands. */
	memset(p, 0, sizeof(p));
	CHECK_RES(TEE_InvokeTACommand(s, TEE_TIMEOUT_INFINITE, 42, 0, p,
				      NULL), TEE_ERROR_NOT_SUPPORTED);
	CHECK_RES(TEE_InvokeTACommand(s, TEE_TIMEOUT_INFINITE,
				      PTA_ATTESTATION_HASH_TEE_MEMORY,
				      TEE_PARAM_TYPES(
					      TEE_PARAM_TYPE_MEMREF_INPUT,
					      TEE_PARAM_TYPE_MEMREF_OUTPUT,
					      TEE_PARAM_TYPE_NONE,
					      TEE_PARAM_TYPE_NONE), p, NULL),
		  TEE_ERROR_NOT_SUPPORTED);
	CHECK_RES(TEE_InvokeTACommand(s, TEE_TIMEOUT_INFINITE,
				      PTA_ATTESTATION_GET_TA_SHDR_DIGEST, 0,
				      p, NULL), TEE_ERROR_NOT_SUPPORTED);
	/* A memref with a NULL buffer and a size panics. */
	p[0].memref.size = 4;
	EXPECT_PANIC(TEE_InvokeTACommand(s, TEE_TIMEOUT_INFINITE, 0,
					 TEE_PARAM_TYPES(
						 TEE_PARAM_TYPE_MEMREF_OUTPUT,
						 0, 0, 0), p, NULL));
	TEE_CloseTASession(s);

	/* A handle that is not a live session panics. */
	bogus = calloc(1, 64);
	EXPECT_PANIC(TEE_InvokeTACommand(bogus, TEE_TIMEOUT_INFINITE, 0, 0,
					 p, NULL));
	EXPECT_PANIC(TEE_CloseTASession(bogus));
	free(bogus);
}

static void test_pubkey(void)
{
	TEE_TASessionHandle s;
	uint8_t e[8], n[MOD_BYTES + 8];
	size_t el = 0, nl = 0;
	uint32_t alg = 0;
	TEE_Param p[TEE_NUM_PARAMS];

	use_storage("main");
	s = open_pta();
	/* Sizes first, as OP-TEE's clients do. */
	CHECK_RES(get_pubkey(s, NULL, &el, NULL, &nl, &alg),
		  TEE_ERROR_SHORT_BUFFER);
	CHECK(el == 3 && nl == MOD_BYTES);
	el = 3;
	nl = MOD_BYTES - 1;
	CHECK_RES(get_pubkey(s, e, &el, n, &nl, NULL), TEE_ERROR_SHORT_BUFFER);
	CHECK(el == 3 && nl == MOD_BYTES);
	el = sizeof(e);
	nl = sizeof(n);
	CHECK_RES(get_pubkey(s, e, &el, n, &nl, &alg), TEE_SUCCESS);
	CHECK(el == 3 && e[0] == 0x01 && e[1] == 0x00 && e[2] == 0x01);
	CHECK(nl == MOD_BYTES && (n[0] & 0x80));
	CHECK(alg == TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA256);
	/* Parameter types are checked exactly. */
	memset(p, 0, sizeof(p));
	p[0].memref.buffer = e;
	p[0].memref.size = sizeof(e);
	p[1].memref.buffer = n;
	p[1].memref.size = sizeof(n);
	CHECK_RES(TEE_InvokeTACommand(s, TEE_TIMEOUT_INFINITE,
				      PTA_ATTESTATION_GET_PUBKEY,
				      TEE_PARAM_TYPES(
					      TEE_PARAM_TYPE_MEMREF_OUTPUT,
					      TEE_PARAM_TYPE_MEMREF_INOUT,
					      TEE_PARAM_TYPE_VALUE_OUTPUT,
					      TEE_PARAM_TYPE_NONE), p, NULL),
		  TEE_ERROR_BAD_PARAMETERS);
	TEE_CloseTASession(s);
}

/* HASH_TA_MEMORY for the current TA image, checked against `path`. */
static void check_hash(const char *path)
{
	static const char nonce1[] = "verifier nonce #1";
	static const char nonce2[] = "verifier nonce #2";
	TEE_TASessionHandle s = open_pta();
	uint8_t e[8], n[MOD_BYTES], want[32], out[32 + MOD_BYTES + 16];
	uint8_t out2[sizeof(out)];
	size_t el = sizeof(e), nl = sizeof(n), ol, ol2;
	EVP_PKEY *key;

	CHECK(file_measure(path, want) == 0);
	CHECK_RES(get_pubkey(s, e, &el, n, &nl, NULL), TEE_SUCCESS);
	key = rsa_from(e, el, n, nl);
	CHECK(key != NULL);

	ol = 32 + MOD_BYTES - 1;
	CHECK_RES(hash_ta(s, nonce1, sizeof(nonce1), out, &ol),
		  TEE_ERROR_SHORT_BUFFER);
	CHECK(ol == 32 + MOD_BYTES);
	ol = sizeof(out);
	CHECK_RES(hash_ta(s, nonce1, 0, out, &ol), TEE_ERROR_BAD_PARAMETERS);
	ol = sizeof(out);
	CHECK_RES(hash_ta(s, nonce1, sizeof(nonce1), out, &ol), TEE_SUCCESS);
	CHECK(ol == 32 + MOD_BYTES);
	CHECK_MEM(out, want, 32);
	CHECK(pss_ok(key, nonce1, sizeof(nonce1), out, out + 32, MOD_BYTES));

	/* Nonce binding: the signature does not verify for another nonce
	 * or another measurement; a second quote verifies for its own. */
	CHECK(!pss_ok(key, nonce2, sizeof(nonce2), out, out + 32, MOD_BYTES));
	ol2 = sizeof(out2);
	CHECK_RES(hash_ta(s, nonce2, sizeof(nonce2), out2, &ol2), TEE_SUCCESS);
	CHECK_MEM(out2, want, 32);
	CHECK(pss_ok(key, nonce2, sizeof(nonce2), out2, out2 + 32,
		     MOD_BYTES));
	CHECK(!pss_ok(key, nonce1, sizeof(nonce1), out2, out2 + 32,
		      MOD_BYTES));
	out2[5] ^= 1;
	CHECK(!pss_ok(key, nonce2, sizeof(nonce2), out2, out2 + 32,
		      MOD_BYTES));
	/* Negative control: one flipped signature bit fails. */
	out[32 + 100] ^= 0x04;
	CHECK(!pss_ok(key, nonce1, sizeof(nonce1), out, out + 32, MOD_BYTES));
	EVP_PKEY_free(key);
	TEE_CloseTASession(s);
}

static void test_hash_ta_memory(const char *image)
{
	static const TEE_UUID dummy = DUMMY_UUID;
	uint8_t m_img[32], m_exe[32], m_file[32];
	void *h;

	/* The image is measured while loaded under its UUID's name. */
	h = dlopen(image, RTLD_NOW | RTLD_LOCAL);
	CHECK(h != NULL);
	if (!h) {
		fprintf(stderr, "dlopen %s: %s\n", image, dlerror());
		return;
	}
	memcpy(&test_uuid, &dummy, sizeof(dummy));
	test_uuid_valid = 1;
	CHECK_RES(sim_pta_attestation_measure(m_img), TEE_SUCCESS);
	CHECK(file_measure(image, m_file) == 0);
	CHECK_MEM(m_img, m_file, 32);
	check_hash(image);

	/* No image of that name: the in-process fallback measures the
	 * program holding TA_InvokeCommandEntryPoint, i.e. this test. */
	test_uuid.timeLow ^= 1;
	CHECK_RES(sim_pta_attestation_measure(m_exe), TEE_SUCCESS);
	CHECK(file_measure("/proc/self/exe", m_file) == 0);
	CHECK_MEM(m_exe, m_file, 32);
	CHECK(memcmp(m_exe, m_img, 32) != 0);
	check_hash("/proc/self/exe");
	test_uuid_valid = 0;
	CHECK_RES(sim_pta_attestation_measure(m_exe), TEE_SUCCESS);
	CHECK_MEM(m_exe, m_file, 32);
	dlclose(h);
}

/* The key file, its storage.c compatibility and tamper handling. */
static void test_key_storage(void)
{
	uint8_t n1[MOD_BYTES], n2[MOD_BYTES], buf[4096];
	char path[4400];
	const uint8_t *p;
	TEE_ObjectHandle o = TEE_HANDLE_NULL;
	size_t got = 0;
	EVP_PKEY *k;
	BIGNUM *bn = NULL;
	FILE *f;
	long len;
	uint8_t *file;

	use_storage("main");
	modulus(n1);
	/* "Another process": the cache is gone, the stored key comes back. */
	sim_pta_attestation_reset();
	modulus(n2);
	CHECK_MEM(n1, n2, MOD_BYTES);

	/* storage.c opens it as the PTA's object "key". */
	memcpy(&test_uuid, &pta_uuid, sizeof(pta_uuid));
	test_uuid_valid = 1;
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, "key", 3,
					   TEE_DATA_FLAG_ACCESS_READ, &o),
		  TEE_SUCCESS);
	if (o) {
		CHECK_RES(TEE_ReadObjectData(o, buf, sizeof(buf), &got),
			  TEE_SUCCESS);
		TEE_CloseObject(o);
	}
	test_uuid_valid = 0;
	p = buf;
	k = got ? d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, (long)got) : NULL;
	CHECK(k != NULL);
	if (k) {
		CHECK(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &bn) == 1);
		CHECK(bn && BN_bn2binpad(bn, n2, MOD_BYTES) == MOD_BYTES);
		CHECK_MEM(n1, n2, MOD_BYTES);
		BN_free(bn);
		EVP_PKEY_free(k);
	}
	OPENSSL_cleanse(buf, sizeof(buf));

	/* A tampered key file is refused (no silent new key). */
	snprintf(path, sizeof(path),
		 "%s/main/39800861-182a-4720-9b67-2bcd622bc0b5/6b6579",
		 storage_root);
	f = fopen(path, "r+b");
	CHECK(f != NULL);
	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	file = malloc((size_t)len);
	fseek(f, 0, SEEK_SET);
	CHECK(fread(file, 1, (size_t)len, f) == (size_t)len);
	file[len - 1] ^= 1;
	fseek(f, 0, SEEK_SET);
	fwrite(file, 1, (size_t)len, f);
	fflush(f);
	sim_pta_attestation_reset();
	{
		TEE_TASessionHandle s = open_pta();
		uint8_t e[8];
		size_t el = sizeof(e), nl = MOD_BYTES;

		CHECK_RES(get_pubkey(s, e, &el, n2, &nl, NULL),
			  TEE_ERROR_CORRUPT_OBJECT);
		TEE_CloseTASession(s);
	}
	file[len - 1] ^= 1;
	fseek(f, 0, SEEK_SET);
	fwrite(file, 1, (size_t)len, f);
	fclose(f);
	free(file);
	sim_pta_attestation_reset();
	modulus(n2);
	CHECK_MEM(n1, n2, MOD_BYTES);
}

/* Two processes creating the key at the same moment agree on one key; a
 * third (the parent, later) reads the same. */
static void test_concurrent_first_use(void)
{
	int start[2], res[2];
	pid_t pid[2];
	uint8_t n[2][MOD_BYTES], mine[MOD_BYTES];
	char dir[4200];
	DIR *d;
	struct dirent *de;
	int i, files = 0, status;

	use_storage("race");
	CHECK(pipe(start) == 0 && pipe(res) == 0);
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			uint8_t c, m[1 + MOD_BYTES];

			close(start[1]);
			/* Both children leave this read at the same time. */
			if (read(start[0], &c, 1) != 0)
				_exit(2);
			m[0] = (uint8_t)i;
			modulus(m + 1);
			if (write(res[1], m, sizeof(m)) != (ssize_t)sizeof(m))
				_exit(3);
			_exit(test_failures ? 1 : 0);
		}
	}
	close(start[0]);
	close(res[1]);
	close(start[1]);		/* go */
	for (i = 0; i < 2; i++) {
		uint8_t m[1 + MOD_BYTES];
		size_t got = 0;

		while (got < sizeof(m)) {
			ssize_t r = read(res[0], m + got, sizeof(m) - got);

			if (r <= 0)
				break;
			got += (size_t)r;
		}
		CHECK(got == sizeof(m) && m[0] < 2);
		if (got == sizeof(m) && m[0] < 2)
			memcpy(n[m[0]], m + 1, MOD_BYTES);
	}
	close(res[0]);
	for (i = 0; i < 2; i++) {
		CHECK(waitpid(pid[i], &status, 0) == pid[i]);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	CHECK_MEM(n[0], n[1], MOD_BYTES);
	sim_pta_attestation_reset();
	modulus(mine);
	CHECK_MEM(mine, n[0], MOD_BYTES);

	/* One key file, no temporary left behind. */
	snprintf(dir, sizeof(dir),
		 "%s/race/39800861-182a-4720-9b67-2bcd622bc0b5", storage_root);
	d = opendir(dir);
	CHECK(d != NULL);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		files++;
		CHECK(!strcmp(de->d_name, "6b6579"));
	}
	if (d)
		closedir(d);
	CHECK(files == 1);

	/* A different storage (another device) has a different key. */
	use_storage("other");
	modulus(mine);
	CHECK(memcmp(mine, n[0], MOD_BYTES) != 0);
}

int main(int argc, char **argv)
{
	const char *root = getenv("TEESPARK_SIM_STORAGE_DIR");

	if (argc != 2 || !root || !*root) {
		fprintf(stderr, "usage: TEESPARK_SIM_STORAGE_DIR=<empty dir> "
			"%s <uuid>.so\n", argv[0]);
		return 2;
	}
	snprintf(storage_root, sizeof(storage_root), "%s", root);
	test_sessions();
	test_pubkey();
	test_hash_ta_memory(argv[1]);
	test_key_storage();
	test_concurrent_first_use();
	TEST_SUMMARY("sim_internal_pta_test");
}

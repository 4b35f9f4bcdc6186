/*
 * pta_attestation.c - the simulator's attestation pseudo-TA, mirroring
 * OP-TEE's core/pta/attestation.c (wire formats, UUID, commands, checks):
 *
 *   PTA_ATTESTATION_GET_PUBKEY (0)
 *       (MEMREF_OUTPUT, MEMREF_OUTPUT, VALUE_OUTPUT, NONE): exponent and
 *       modulus of the device key, big-endian; value[2].a =
 *       TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA256. If either buffer is too small:
 *       TEE_ERROR_SHORT_BUFFER with both sizes written.
 *   PTA_ATTESTATION_HASH_TA_MEMORY (2)
 *       (MEMREF_INPUT, MEMREF_OUTPUT, NONE, NONE): nonce (non-empty, else
 *       BAD_PARAMETERS); out = measurement[32] |
 *       RSASSA-PSS-SHA256(SHA-256(nonce | measurement)), MGF1-SHA256, salt
 *       32 bytes; SHORT_BUFFER with the size (32 + 384) if out is smaller.
 *   PTA_ATTESTATION_GET_TA_SHDR_DIGEST (1), PTA_ATTESTATION_HASH_TEE_MEMORY
 *       (3): TEE_ERROR_NOT_SUPPORTED (no signed TA store, no TEE core image).
 *   Wrong parameter types: TEE_ERROR_BAD_PARAMETERS; other commands:
 *       TEE_ERROR_NOT_SUPPORTED (OP-TEE's default case).
 *
 * Measurement (OP-TEE's hash_regions hashes the caller's read-only VM
 * regions sorted by size, then by memcmp of their contents, so that ASLR
 * does not change the result): here, the non-writable PT_LOAD segments of
 * the TA image as mapped in this process, each p_filesz bytes from its
 * load address, which are exactly the segment's file bytes (a -fPIC shared
 * object has no text relocations). python/teespark/attest/measurement.py
 * computes the same value from the .so file, so a verifier can predict it.
 * The TA image is the loaded object named <uuid>.so for the calling TA's
 * UUID (the TA host dlopen()s exactly that file and checks the name);
 * failing that, in an in-process harness where TA code is linked into the
 * program, the object holding TA_InvokeCommandEntryPoint. No TA image ->
 * TEE_ERROR_ACCESS_DENIED, OP-TEE's answer to a caller that is not a TA.
 *
 * Device key: RSA-3072 (CFG_ATTESTATION_PTA_KEY_SIZE's default), generated
 * on first use and kept in the simulator's secure storage under the PTA's
 * UUID: <base>/39800861-182a-4720-9b67-2bcd622bc0b5/6b6579 (object id
 * "key"), written and read by storage.c (sim_storage_{store,load}_for_uuid),
 * so it has exactly storage.c's file format and key hierarchy (a
 * TEE_TYPE_DATA object whose data is the DER RSAPrivateKey, AES-256-GCM
 * under TSK = HMAC-SHA256(HUK, "teespark-sim-tsk-v1" | PTA UUID)) and is an
 * ordinary persistent object of that UUID. It is created exclusively
 * (link(2), atomic): when two processes create the key at once, one link
 * wins, the other discards its key and both re-read the winner's, so every
 * process signs with one key.
 * The key is cached per process after the first load.
 *
 * SIMULATION ONLY: the key protects nothing (the HUK sits next to it);
 * evidence from this PTA must be marked simulated by its user.
 */
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <pta_attestation.h>

#include "sim_internal.h"

#define HASH_LEN	32
#define KEY_BITS	3072
#define MAX_SEGMENTS	32

/* The device key's object id in the PTA's secure storage. */
#define KEY_ID		"key"
#define KEY_ID_LEN	3

static const TEE_UUID g_pta_uuid = PTA_ATTESTATION_UUID;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static EVP_PKEY *g_key;		/* device key, loaded once per process */

/* In an in-process harness the TA's entry point is linked into the
 * program; in the TA host it lives in the dlopen()ed TA and this is NULL. */
extern TEE_Result TA_InvokeCommandEntryPoint(void *sessionContext,
					     uint32_t commandID,
					     uint32_t paramTypes,
					     TEE_Param params[TEE_NUM_PARAMS])
	__attribute__((weak));

/* ---------------------------------------------------------------------- */
/* The device key, in the secure storage of the PTA's UUID                 */
/* ---------------------------------------------------------------------- */

/* Generates a device key and stores it unless a key object already exists
 * (then that one wins: another process created it at the same time).
 * Leaks: nothing.  Hides: the private key. */
static TEE_Result create_key(void)
{
	EVP_PKEY *fresh;
	uint8_t *der = NULL;
	int der_len;
	TEE_Result res;

	fresh = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)KEY_BITS);
	if (!fresh)
		return TEE_ERROR_OUT_OF_MEMORY;
	der_len = i2d_PrivateKey(fresh, &der);
	EVP_PKEY_free(fresh);
	if (der_len <= 0)
		return TEE_ERROR_GENERIC;
	res = sim_storage_store_for_uuid(&g_pta_uuid, KEY_ID, KEY_ID_LEN, der,
					 (size_t)der_len, true);
	OPENSSL_clear_free(der, (size_t)der_len);
	return res == TEE_ERROR_ACCESS_CONFLICT ? TEE_SUCCESS : res;
}

/* Loads the device key, creating it on first use (see the file comment).
 * Caller holds g_lock.
 * Leaks: key object present, valid or not.  Hides: the private key. */
static TEE_Result device_key(EVP_PKEY **out)
{
	void *der = NULL;
	const uint8_t *p;
	size_t der_len = 0;
	TEE_Result res;
	int attempt;

	if (g_key) {
		*out = g_key;
		return TEE_SUCCESS;
	}
	for (attempt = 0; attempt < 2; attempt++) {
		res = sim_storage_load_for_uuid(&g_pta_uuid, KEY_ID, KEY_ID_LEN,
						&der, &der_len);
		if (res != TEE_ERROR_ITEM_NOT_FOUND || attempt)
			break;
		/* Whoever links first wins; everyone re-reads the object. */
		res = create_key();
		if (res != TEE_SUCCESS)
			goto out;
	}
	if (res != TEE_SUCCESS) {
		EMSG("attestation PTA: device key unreadable (0x%08x)", res);
		goto out;
	}
	p = der;
	g_key = d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, (long)der_len);
	if (!g_key || EVP_PKEY_get_bits(g_key) != KEY_BITS) {
		EVP_PKEY_free(g_key);
		g_key = NULL;
		res = TEE_ERROR_CORRUPT_OBJECT;
		goto out;
	}
	*out = g_key;
out:
	if (der) {
		OPENSSL_cleanse(der, der_len);
		free(der);
	}
	return res;
}

void sim_pta_attestation_reset(void)
{
	pthread_mutex_lock(&g_lock);
	EVP_PKEY_free(g_key);
	g_key = NULL;
	pthread_mutex_unlock(&g_lock);
}

/* ---------------------------------------------------------------------- */
/* Measurement                                                             */
/* ---------------------------------------------------------------------- */

struct segment {
	const uint8_t *addr;
	size_t len;
};

struct find_ctx {
	char want_name[48];		/* "<uuid>.so" or "" */
	uintptr_t want_addr;		/* an address inside the object, or 0 */
	struct segment seg[MAX_SEGMENTS];
	size_t n;
	int found;			/* 1 by name, 2 by address */
	int error;
};

static int holds_addr(const struct dl_phdr_info *info, uintptr_t addr)
{
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && addr >= start &&
		    addr - start < ph->p_memsz)
			return 1;
	}
	return 0;
}

static int find_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct find_ctx *f = data;
	const char *base = info->dlpi_name ? strrchr(info->dlpi_name, '/') :
					     NULL;
	int kind = 0, i;

	(void)size;
	base = base ? base + 1 : info->dlpi_name;
	if (f->want_name[0] && base && !strcmp(base, f->want_name))
		kind = 1;
	else if (f->found != 1 && f->want_addr &&
		 holds_addr(info, f->want_addr))
		kind = 2;
	if (!kind || (f->found && kind >= f->found))
		return 0;

	f->found = kind;
	f->n = 0;
	f->error = 0;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W) ||
		    !ph->p_filesz)
			continue;
		/* Unreadable (execute-only) segments cannot be hashed. */
		if (!(ph->p_flags & PF_R) || f->n == MAX_SEGMENTS) {
			f->error = 1;
			break;
		}
		f->seg[f->n].addr = (const uint8_t *)(info->dlpi_addr +
						      ph->p_vaddr);
		f->seg[f->n].len = ph->p_filesz;
		f->n++;
	}
	return kind == 1;	/* a name match ends the search */
}

/* OP-TEE's cmp_regions: by size, then by content. */
static int cmp_segments(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->addr, y->addr, x->len);
}

TEE_Result sim_pta_attestation_measure(uint8_t out[HASH_LEN])
{
	const TEE_UUID *u = sim_current_ta_uuid();
	struct find_ctx f;
	EVP_MD_CTX *md;
	unsigned int len = 0;
	size_t i;
	int ok;

	memset(&f, 0, sizeof(f));
	if (u)
		snprintf(f.want_name, sizeof(f.want_name),
			 "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x.so",
			 u->timeLow, u->timeMid, u->timeHiAndVersion,
			 u->clockSeqAndNode[0], u->clockSeqAndNode[1],
			 u->clockSeqAndNode[2], u->clockSeqAndNode[3],
			 u->clockSeqAndNode[4], u->clockSeqAndNode[5],
			 u->clockSeqAndNode[6], u->clockSeqAndNode[7]);
	if (TA_InvokeCommandEntryPoint)
		f.want_addr = (uintptr_t)TA_InvokeCommandEntryPoint;
	dl_iterate_phdr(find_cb, &f);
	if (!f.found || f.error || !f.n) {
		EMSG("attestation PTA: no TA image to measure");
		return TEE_ERROR_ACCESS_DENIED;
	}
	qsort(f.seg, f.n, sizeof(f.seg[0]), cmp_segments);
	md = EVP_MD_CTX_new();
	ok = md && EVP_DigestInit_ex2(md, EVP_sha256(), NULL) == 1;
	for (i = 0; ok && i < f.n; i++)
		ok = EVP_DigestUpdate(md, f.seg[i].addr, f.seg[i].len) == 1;
	ok = ok && EVP_DigestFinal_ex(md, out, &len) == 1 && len == HASH_LEN;
	EVP_MD_CTX_free(md);
	return ok ? TEE_SUCCESS : TEE_ERROR_GENERIC;
}

/* ---------------------------------------------------------------------- */
/* Commands                                                                */
/* ---------------------------------------------------------------------- */

static TEE_Result get_pubkey(uint32_t types, TEE_Param p[TEE_NUM_PARAMS])
{
	const uint32_t want = TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_OUTPUT,
					      TEE_PARAM_TYPE_MEMREF_OUTPUT,
					      TEE_PARAM_TYPE_VALUE_OUTPUT,
					      TEE_PARAM_TYPE_NONE);
	BIGNUM *e = NULL, *n = NULL;
	EVP_PKEY *key;
	TEE_Result res;
	int e_len, n_len;

	if (types != want)
		return TEE_ERROR_BAD_PARAMETERS;
	pthread_mutex_lock(&g_lock);
	res = device_key(&key);
	if (res == TEE_SUCCESS &&
	    (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1 ||
	     EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1))
		res = TEE_ERROR_GENERIC;
	pthread_mutex_unlock(&g_lock);
	if (res != TEE_SUCCESS)
		goto out;

	e_len = BN_num_bytes(e);
	n_len = BN_num_bytes(n);
	if (p[0].memref.size < (size_t)e_len ||
	    p[1].memref.size < (size_t)n_len) {
		res = TEE_ERROR_SHORT_BUFFER;
	} else if (BN_bn2bin(e, p[0].memref.buffer) != e_len ||
		   BN_bn2bin(n, p[1].memref.buffer) != n_len) {
		res = TEE_ERROR_GENERIC;
	}
	p[0].memref.size = (size_t)e_len;
	p[1].memref.size = (size_t)n_len;
	p[2].value.a = TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA256;
	p[2].value.b = 0;
out:
	BN_free(e);
	BN_free(n);
	return res;
}

/* RSASSA-PSS-SHA256 (MGF1-SHA256, salt 32) over SHA-256(nonce | hash).
 * Leaks: sizes.  Hides: the device private key. */
static TEE_Result sign_hash(EVP_PKEY *key, const void *nonce, size_t nonce_len,
			    const uint8_t hash[HASH_LEN], uint8_t *sig,
			    size_t *sig_len)
{
	uint8_t digest[HASH_LEN];
	unsigned int dlen = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *ctx = NULL;
	int ok;

	ok = md && EVP_DigestInit_ex2(md, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(md, nonce, nonce_len) == 1 &&
	     EVP_DigestUpdate(md, hash, HASH_LEN) == 1 &&
	     EVP_DigestFinal_ex(md, digest, &dlen) == 1 && dlen == HASH_LEN;
	EVP_MD_CTX_free(md);
	ctx = ok ? EVP_PKEY_CTX_new(key, NULL) : NULL;
	ok = ctx && EVP_PKEY_sign_init(ctx) == 1 &&
	     EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	     EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
	     EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1 &&
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, HASH_LEN) == 1 &&
	     EVP_PKEY_sign(ctx, sig, sig_len, digest, HASH_LEN) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok ? TEE_SUCCESS : TEE_ERROR_GENERIC;
}

static TEE_Result hash_ta_memory(uint32_t types, TEE_Param p[TEE_NUM_PARAMS])
{
	const uint32_t want = TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					      TEE_PARAM_TYPE_MEMREF_OUTPUT,
					      TEE_PARAM_TYPE_NONE,
					      TEE_PARAM_TYPE_NONE);
	uint8_t hash[HASH_LEN], *out;
	EVP_PKEY *key;
	size_t need, sig_len;
	TEE_Result res;

	if (types != want)
		return TEE_ERROR_BAD_PARAMETERS;
	if (!p[0].memref.buffer || !p[0].memref.size)
		return TEE_ERROR_BAD_PARAMETERS;
	res = sim_pta_attestation_measure(hash);
	if (res != TEE_SUCCESS)
		return res;

	pthread_mutex_lock(&g_lock);
	res = device_key(&key);
	if (res != TEE_SUCCESS)
		goto out;
	sig_len = (size_t)EVP_PKEY_get_size(key);
	need = HASH_LEN + sig_len;
	if (p[1].memref.size < need) {
		p[1].memref.size = need;
		res = TEE_ERROR_SHORT_BUFFER;
		goto out;
	}
	out = p[1].memref.buffer;
	res = sign_hash(key, p[0].memref.buffer, p[0].memref.size, hash,
			out + HASH_LEN, &sig_len);
	if (res != TEE_SUCCESS)
		goto out;
	memcpy(out, hash, HASH_LEN);
	p[1].memref.size = HASH_LEN + sig_len;
out:
	pthread_mutex_unlock(&g_lock);
	return res;
}

TEE_Result sim_pta_attestation_invoke(uint32_t cmd, uint32_t param_types,
				      TEE_Param params[TEE_NUM_PARAMS])
{
	switch (cmd) {
	case PTA_ATTESTATION_GET_PUBKEY:
		return get_pubkey(param_types, params);
	case PTA_ATTESTATION_HASH_TA_MEMORY:
		return hash_ta_memory(param_types, params);
	case PTA_ATTESTATION_GET_TA_SHDR_DIGEST:
	case PTA_ATTESTATION_HASH_TEE_MEMORY:
	default:
		return TEE_ERROR_NOT_SUPPORTED;
	}
}

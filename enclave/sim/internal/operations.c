/*
 * operations.c - GP cryptographic operations over OpenSSL 3 for the teespark
 * simulator: AES-GCM (AE), AES-ECB/CBC without padding and AES-CTR (cipher),
 * SHA-256 (digest), HMAC-SHA256 (MAC); and the operation side of X25519
 * (key derivation) and Ed25519 (signature), whose crypto is in asym.c.
 *
 * Semantics follow OP-TEE's libutee (lib/libutee/tee_api_operations.c) as
 * closely as the simulator can observe them:
 *   - TEE_AllocateOperation returns TEE_ERROR_NOT_SUPPORTED for an unknown
 *     algorithm, a mode the algorithm does not have (HMAC needs
 *     TEE_MODE_MAC) or a maxKeySize the key type does not allow;
 *   - tag lengths are in bits at TEE_AEInit (96..128, step 8, else
 *     TEE_ERROR_NOT_SUPPORTED) and in bytes at the final calls;
 *   - output buffers too small give TEE_ERROR_SHORT_BUFFER with the needed
 *     length written back, before any data is consumed;
 *   - programmer errors (bad handle, wrong class, mode or state, NULL
 *     length pointers) call TEE_Panic;
 *   - after TEE_AEDecryptFinal returns TEE_ERROR_MAC_INVALID the operation
 *     keeps its state, as on OP-TEE: if payload was fed with TEE_AEUpdate,
 *     call TEE_ResetOperation before the next TEE_AEInit.
 *   - TEE_AEUpdate on AES-GCM does not buffer: it outputs exactly srcLen
 *     bytes (OP-TEE's GCM has block_size 1 in libutee).
 *
 * Performance: the EVP_CIPHER objects are fetched once per process; each
 * operation owns one EVP_CIPHER_CTX whose key schedule is set by
 * TEE_SetOperationKey; TEE_AEInit only installs the new nonce (EVP init with
 * a NULL key). No allocation or copy happens on the AE hot path.
 *
 * Constant-time-check hook: when the environment variable
 * TEESPARK_SIM_CT_SECRETS is "1" (read once per process), everything a
 * decryption writes (TEE_AEUpdate and TEE_AEDecryptFinal in
 * TEE_MODE_DECRYPT, including the zeroes written on a tag mismatch) is
 * marked undefined with VALGRIND_MAKE_MEM_UNDEFINED, and everything an
 * encryption writes (ciphertext and tag from TEE_AEUpdate and
 * TEE_AEEncryptFinal in TEE_MODE_ENCRYPT) is marked defined with
 * VALGRIND_MAKE_MEM_DEFINED, since ciphertext is public by design. Under
 * valgrind memcheck any branch or memory index in TA code that depends on
 * decrypted data is then reported. Outside valgrind both macros are no-ops.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <valgrind/memcheck.h>

#include "sim_internal.h"

#define SIM_OP_MAGIC	0x4f505231u	/* "OPR1" */
#define SHA256_LEN	32
#define AES_BLOCK	16
#define GCM_IV_MAX	128	/* OpenSSL's GCM IV limit */
#define MAX_OP_KEY	128	/* HMAC-SHA256 up to 1024 bits */
/* EVP update calls take an int length. */
#define EVP_CHUNK	(1 << 30)

struct __TEE_OperationHandle {
	uint32_t magic;
	TEE_OperationInfo info;
	uint32_t state;			/* TEE_OPERATION_STATE_* */
	int enc;			/* cipher/AE direction for EVP */
	size_t buffered;		/* ECB/CBC bytes held by EVP */
	size_t gcm_ivlen;		/* IV length the GCM ctx is set for */
	EVP_CIPHER_CTX *cctx;		/* AES operations */
	EVP_MD_CTX *mdctx;		/* SHA-256 */
	EVP_MAC_CTX *macctx;		/* HMAC-SHA256 */
	uint8_t digest[SHA256_LEN];	/* TEE_DigestExtract buffer */
	size_t digest_off;
	size_t key_len;
	uint8_t key[MAX_OP_KEY];	/* HMAC key (AES keys live in cctx) */
};

/* ---------------------------------------------------------------------- */
/* Process-wide OpenSSL objects, fetched once.                             */
/* ---------------------------------------------------------------------- */

enum { AES128, AES192, AES256, AES_SIZES };

static EVP_CIPHER *g_gcm[AES_SIZES], *g_ecb[AES_SIZES], *g_cbc[AES_SIZES],
	*g_ctr[AES_SIZES];
static EVP_MD *g_sha256;
static EVP_MAC *g_hmac;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void fetch_all(void)
{
	static const char *const sz[AES_SIZES] = { "128", "192", "256" };
	char name[32];
	int i;

	for (i = 0; i < AES_SIZES; i++) {
		snprintf(name, sizeof(name), "AES-%s-GCM", sz[i]);
		g_gcm[i] = EVP_CIPHER_fetch(NULL, name, NULL);
		snprintf(name, sizeof(name), "AES-%s-ECB", sz[i]);
		g_ecb[i] = EVP_CIPHER_fetch(NULL, name, NULL);
		snprintf(name, sizeof(name), "AES-%s-CBC", sz[i]);
		g_cbc[i] = EVP_CIPHER_fetch(NULL, name, NULL);
		snprintf(name, sizeof(name), "AES-%s-CTR", sz[i]);
		g_ctr[i] = EVP_CIPHER_fetch(NULL, name, NULL);
	}
	g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	g_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

static void ensure_fetched(void)
{
	if (pthread_once(&g_once, fetch_all))
		TEE_Panic(TEE_ERROR_GENERIC);
}

static EVP_CIPHER *aes_cipher(uint32_t algo, size_t key_len)
{
	int i = key_len == 16 ? AES128 : key_len == 24 ? AES192 : AES256;

	switch (algo) {
	case TEE_ALG_AES_GCM:
		return g_gcm[i];
	case TEE_ALG_AES_ECB_NOPAD:
		return g_ecb[i];
	case TEE_ALG_AES_CBC_NOPAD:
		return g_cbc[i];
	case TEE_ALG_AES_CTR:
		return g_ctr[i];
	default:
		return NULL;
	}
}

/* ---------------------------------------------------------------------- */
/* Constant-time-check hook (see the file comment).                        */
/* ---------------------------------------------------------------------- */

int sim_ct_secrets_enabled(void)
{
	static int enabled = -1;
	int e = __atomic_load_n(&enabled, __ATOMIC_RELAXED);

	if (e < 0) {
		const char *v = getenv("TEESPARK_SIM_CT_SECRETS");

		e = v && !strcmp(v, "1");
		__atomic_store_n(&enabled, e, __ATOMIC_RELAXED);
	}
	return e;
}

/* Mark what an AE call wrote: secret if decrypting, public if encrypting. */
static inline void ct_mark_output(const TEE_OperationHandle op, void *p,
				  size_t n)
{
	if (!n || !sim_ct_secrets_enabled())
		return;
	if (op->info.mode == TEE_MODE_DECRYPT)
		(void)VALGRIND_MAKE_MEM_UNDEFINED(p, n);
	else
		(void)VALGRIND_MAKE_MEM_DEFINED(p, n);
}

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */
/* ---------------------------------------------------------------------- */

static void op_check(TEE_OperationHandle op)
{
	if (!op || op->magic != SIM_OP_MAGIC)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
}

static void op_check_class(TEE_OperationHandle op, uint32_t cls)
{
	op_check(op);
	if (op->info.operationClass != cls)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
}

static void evp_update(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in,
		       size_t len, size_t *written)
{
	size_t total = 0;

	while (len > 0) {
		int n = len > EVP_CHUNK ? EVP_CHUNK : (int)len;
		int outl = 0;

		if (EVP_CipherUpdate(ctx, out ? out + total : NULL, &outl, in,
				     n) != 1)
			TEE_Panic(TEE_ERROR_GENERIC);
		total += (size_t)outl;
		in += n;
		len -= (size_t)n;
	}
	if (written)
		*written = total;
}

static void md_init(TEE_OperationHandle op)
{
	if (EVP_DigestInit_ex2(op->mdctx, g_sha256, NULL) != 1)
		TEE_Panic(TEE_ERROR_GENERIC);
	op->digest_off = 0;
}

static void reset_state(TEE_OperationHandle op)
{
	op->state = TEE_OPERATION_STATE_INITIAL;
	op->buffered = 0;
	if (op->info.operationClass == TEE_OPERATION_DIGEST) {
		md_init(op);
		op->info.handleState |= TEE_HANDLE_FLAG_INITIALIZED;
		op->info.handleState &= ~TEE_HANDLE_FLAG_EXTRACTING;
	} else {
		op->info.handleState &= ~TEE_HANDLE_FLAG_INITIALIZED;
	}
}

/* ---------------------------------------------------------------------- */
/* Generic operation functions                                             */
/* ---------------------------------------------------------------------- */

TEE_Result TEE_IsAlgorithmSupported(uint32_t algId, uint32_t element)
{
	switch (algId) {
	case TEE_ALG_AES_GCM:
	case TEE_ALG_AES_ECB_NOPAD:
	case TEE_ALG_AES_CBC_NOPAD:
	case TEE_ALG_AES_CTR:
	case TEE_ALG_SHA256:
	case TEE_ALG_HMAC_SHA256:
		return element == TEE_CRYPTO_ELEMENT_NONE ?
			TEE_SUCCESS : TEE_ERROR_NOT_SUPPORTED;
	case TEE_ALG_X25519:
	case TEE_ALG_ED25519:
		return element == TEE_ECC_CURVE_25519 ||
		       element == TEE_CRYPTO_ELEMENT_NONE ?
			TEE_SUCCESS : TEE_ERROR_NOT_SUPPORTED;
	default:
		return TEE_ERROR_NOT_SUPPORTED;
	}
}

TEE_Result TEE_AllocateOperation(TEE_OperationHandle *operation,
				 uint32_t algorithm, uint32_t mode,
				 uint32_t maxKeySize)
{
	TEE_OperationHandle op;
	uint32_t cls, usage = 0, handle_state = 0, digest_len = 0;

	if (!operation)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	*operation = TEE_HANDLE_NULL;

	switch (algorithm) {
	case TEE_ALG_AES_GCM:
	case TEE_ALG_AES_ECB_NOPAD:
	case TEE_ALG_AES_CBC_NOPAD:
	case TEE_ALG_AES_CTR:
		if (mode == TEE_MODE_ENCRYPT)
			usage = TEE_USAGE_ENCRYPT;
		else if (mode == TEE_MODE_DECRYPT)
			usage = TEE_USAGE_DECRYPT;
		else
			return TEE_ERROR_NOT_SUPPORTED;
		if (sim_obj_check_size(TEE_TYPE_AES, maxKeySize))
			return TEE_ERROR_NOT_SUPPORTED;
		cls = algorithm == TEE_ALG_AES_GCM ? TEE_OPERATION_AE
						   : TEE_OPERATION_CIPHER;
		break;
	case TEE_ALG_SHA256:
		if (mode != TEE_MODE_DIGEST)
			return TEE_ERROR_NOT_SUPPORTED;
		cls = TEE_OPERATION_DIGEST;
		digest_len = SHA256_LEN;
		handle_state = TEE_HANDLE_FLAG_KEY_SET |
			       TEE_HANDLE_FLAG_INITIALIZED;
		break;
	case TEE_ALG_HMAC_SHA256:
		if (mode != TEE_MODE_MAC)
			return TEE_ERROR_NOT_SUPPORTED;
		if (sim_obj_check_size(TEE_TYPE_HMAC_SHA256, maxKeySize))
			return TEE_ERROR_NOT_SUPPORTED;
		cls = TEE_OPERATION_MAC;
		usage = TEE_USAGE_MAC;
		digest_len = SHA256_LEN;
		break;
	case TEE_ALG_X25519:
		if (mode != TEE_MODE_DERIVE || maxKeySize != 256)
			return TEE_ERROR_NOT_SUPPORTED;
		cls = TEE_OPERATION_KEY_DERIVATION;
		usage = TEE_USAGE_DERIVE;
		break;
	case TEE_ALG_ED25519:
		if (mode == TEE_MODE_SIGN)
			usage = TEE_USAGE_SIGN;
		else if (mode == TEE_MODE_VERIFY)
			usage = TEE_USAGE_VERIFY;
		else
			return TEE_ERROR_NOT_SUPPORTED;
		if (maxKeySize != 256)
			return TEE_ERROR_NOT_SUPPORTED;
		cls = TEE_OPERATION_ASYMMETRIC_SIGNATURE;
		break;
	default:
		return TEE_ERROR_NOT_SUPPORTED;
	}

	ensure_fetched();
	op = calloc(1, sizeof(*op));
	if (!op)
		return TEE_ERROR_OUT_OF_MEMORY;
	op->info.algorithm = algorithm;
	op->info.operationClass = cls;
	op->info.mode = mode;
	op->info.digestLength = digest_len;
	op->info.maxKeySize = maxKeySize;
	op->info.requiredKeyUsage = usage;
	op->info.handleState = handle_state;
	op->state = TEE_OPERATION_STATE_INITIAL;
	op->enc = mode == TEE_MODE_ENCRYPT;

	switch (cls) {
	case TEE_OPERATION_AE:
	case TEE_OPERATION_CIPHER:
		if (!aes_cipher(algorithm, maxKeySize / 8))
			goto not_supported;
		op->cctx = EVP_CIPHER_CTX_new();
		if (!op->cctx)
			goto oom;
		break;
	case TEE_OPERATION_DIGEST:
		if (!g_sha256)
			goto not_supported;
		op->mdctx = EVP_MD_CTX_new();
		if (!op->mdctx)
			goto oom;
		md_init(op);
		break;
	case TEE_OPERATION_KEY_DERIVATION:
	case TEE_OPERATION_ASYMMETRIC_SIGNATURE:
		break;	/* raw key in op->key; EVP objects per call */
	default: /* MAC */
		if (!g_hmac)
			goto not_supported;
		op->macctx = EVP_MAC_CTX_new(g_hmac);
		if (!op->macctx)
			goto oom;
		break;
	}
	op->magic = SIM_OP_MAGIC;
	*operation = op;
	return TEE_SUCCESS;

not_supported:
	free(op);
	return TEE_ERROR_NOT_SUPPORTED;
oom:
	free(op);
	return TEE_ERROR_OUT_OF_MEMORY;
}

void TEE_FreeOperation(TEE_OperationHandle operation)
{
	if (operation == TEE_HANDLE_NULL)
		return;
	op_check(operation);
	EVP_CIPHER_CTX_free(operation->cctx);	/* cleanses the key schedule */
	EVP_MD_CTX_free(operation->mdctx);
	EVP_MAC_CTX_free(operation->macctx);
	OPENSSL_cleanse(operation, sizeof(*operation));
	operation->magic = SIM_OBJ_DEAD;
	free(operation);
}

void TEE_GetOperationInfo(TEE_OperationHandle operation,
			  TEE_OperationInfo *operationInfo)
{
	op_check(operation);
	if (!operationInfo)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	*operationInfo = operation->info;
}

TEE_Result TEE_GetOperationInfoMultiple(TEE_OperationHandle operation,
			TEE_OperationInfoMultiple *operationInfoMultiple,
			size_t *operationSize)
{
	TEE_OperationInfoMultiple *m = operationInfoMultiple;
	size_t keys;

	op_check(operation);
	if (!m || !operationSize || *operationSize < sizeof(*m))
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	keys = (*operationSize - sizeof(*m)) / sizeof(TEE_OperationInfoKey);
	memset(m, 0, *operationSize);
	if (operation->info.operationClass != TEE_OPERATION_DIGEST) {
		if (keys < 1)
			return TEE_ERROR_SHORT_BUFFER;
		m->keyInformation[0].keySize = operation->info.keySize;
		m->keyInformation[0].requiredKeyUsage =
			operation->info.requiredKeyUsage;
		m->numberOfKeys = 1;
	}
	m->algorithm = operation->info.algorithm;
	m->operationClass = operation->info.operationClass;
	m->mode = operation->info.mode;
	m->digestLength = operation->info.digestLength;
	m->maxKeySize = operation->info.maxKeySize;
	m->handleState = operation->info.handleState;
	m->operationState = operation->state;
	return TEE_SUCCESS;
}

void TEE_ResetOperation(TEE_OperationHandle operation)
{
	op_check(operation);
	if (!(operation->info.handleState & TEE_HANDLE_FLAG_KEY_SET))
		TEE_Panic(TEE_ERROR_BAD_STATE);
	reset_state(operation);
}

static void clear_key(TEE_OperationHandle op)
{
	OPENSSL_cleanse(op->key, sizeof(op->key));
	op->key_len = 0;
	if (op->cctx)
		EVP_CIPHER_CTX_reset(op->cctx);	/* wipes the schedule */
	op->gcm_ivlen = 0;
	op->info.keySize = 0;
	op->info.handleState &= ~TEE_HANDLE_FLAG_KEY_SET;
}

static bool is_asym(TEE_OperationHandle op)
{
	return op->info.algorithm == TEE_ALG_X25519 ||
	       op->info.algorithm == TEE_ALG_ED25519;
}

/* Installs `key` (already validated) into the operation. */
static void install_key(TEE_OperationHandle op, TEE_ObjectHandle key)
{
	clear_key(op);
	if (is_asym(op)) {
		sim_asym_op_key(op->info.algorithm, op->info.mode, key,
				op->key);
		op->key_len = SIM_25519_BYTES;
	} else if (op->cctx) {
		EVP_CIPHER *c = aes_cipher(op->info.algorithm, key->secret_len);

		if (!c || EVP_CipherInit_ex2(op->cctx, c, key->secret, NULL,
					     op->enc, NULL) != 1)
			TEE_Panic(TEE_ERROR_GENERIC);
		if (op->info.algorithm == TEE_ALG_AES_GCM)
			op->gcm_ivlen = 12;	/* OpenSSL's default */
		else if (op->info.algorithm != TEE_ALG_AES_CTR)
			EVP_CIPHER_CTX_set_padding(op->cctx, 0);
	} else {
		memcpy(op->key, key->secret, key->secret_len);
		op->key_len = key->secret_len;
	}
	op->info.keySize = key->key_bits;
	op->info.handleState |= TEE_HANDLE_FLAG_KEY_SET;
}

static TEE_Result set_operation_key(TEE_OperationHandle op,
				    TEE_ObjectHandle key)
{
	uint32_t want_type;

	if (key == TEE_HANDLE_NULL) {
		clear_key(op);
		if (op->state != TEE_OPERATION_STATE_INITIAL)
			reset_state(op);
		return TEE_SUCCESS;
	}
	if (op->info.operationClass == TEE_OPERATION_DIGEST)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	sim_obj_check(key);
	if (!(key->flags & TEE_HANDLE_FLAG_INITIALIZED) || !key->secret)
		TEE_Panic(TEE_ERROR_BAD_STATE);
	if ((key->usage & op->info.requiredKeyUsage) !=
	    op->info.requiredKeyUsage)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (key->key_bits > op->info.maxKeySize)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	want_type = op->info.algorithm == TEE_ALG_HMAC_SHA256 ?
		TEE_TYPE_HMAC_SHA256 : TEE_TYPE_AES;
	/* 25519 key types are checked by sim_asym_op_key in install_key. */
	if (!is_asym(op) && key->type != want_type)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);

	install_key(op, key);
	if (op->state != TEE_OPERATION_STATE_INITIAL)
		reset_state(op);
	return TEE_SUCCESS;
}

TEE_Result TEE_SetOperationKey(TEE_OperationHandle operation,
			       TEE_ObjectHandle key)
{
	op_check(operation);
	/* GP 1.3 (OP-TEE): not while an operation is initialized (digest
	 * operations always are: they take no key). */
	if (operation->info.handleState & TEE_HANDLE_FLAG_INITIALIZED)
		TEE_Panic(TEE_ERROR_BAD_STATE);
	return set_operation_key(operation, key);
}

TEE_Result TEE_SetOperationKey2(TEE_OperationHandle operation,
				TEE_ObjectHandle key1, TEE_ObjectHandle key2)
{
	(void)key1;
	(void)key2;
	op_check(operation);
	/* No simulated algorithm takes two keys (AES-XTS, SM2-KEP). */
	TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
}

void TEE_CopyOperation(TEE_OperationHandle dstOperation,
		       TEE_OperationHandle srcOperation)
{
	TEE_OperationHandle d = dstOperation, s = srcOperation;
	uint32_t dst_max;

	op_check(d);
	op_check(s);
	if (d->info.algorithm != s->info.algorithm ||
	    d->info.mode != s->info.mode)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (s->info.keySize > d->info.maxKeySize)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);

	if (s->cctx) {
		if (s->info.handleState & TEE_HANDLE_FLAG_KEY_SET) {
			if (EVP_CIPHER_CTX_copy(d->cctx, s->cctx) != 1)
				TEE_Panic(TEE_ERROR_OUT_OF_MEMORY);
		} else {
			EVP_CIPHER_CTX_reset(d->cctx);
		}
	}
	if (s->mdctx && EVP_MD_CTX_copy_ex(d->mdctx, s->mdctx) != 1)
		TEE_Panic(TEE_ERROR_OUT_OF_MEMORY);
	if (s->macctx) {
		EVP_MAC_CTX *m = EVP_MAC_CTX_dup(s->macctx);

		if (!m)
			TEE_Panic(TEE_ERROR_OUT_OF_MEMORY);
		EVP_MAC_CTX_free(d->macctx);
		d->macctx = m;
	}
	dst_max = d->info.maxKeySize;
	d->info = s->info;
	d->info.maxKeySize = dst_max;
	d->state = s->state;
	d->buffered = s->buffered;
	d->gcm_ivlen = s->gcm_ivlen;
	memcpy(d->digest, s->digest, sizeof(d->digest));
	d->digest_off = s->digest_off;
	memcpy(d->key, s->key, sizeof(d->key));
	d->key_len = s->key_len;
}

/* ---------------------------------------------------------------------- */
/* Message digest                                                          */
/* ---------------------------------------------------------------------- */

void TEE_DigestUpdate(TEE_OperationHandle operation, const void *chunk,
		      size_t chunkSize)
{
	op_check_class(operation, TEE_OPERATION_DIGEST);
	if ((!chunk && chunkSize) ||
	    operation->state == TEE_OPERATION_STATE_EXTRACTING)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	operation->state = TEE_OPERATION_STATE_ACTIVE;
	if (chunkSize && EVP_DigestUpdate(operation->mdctx, chunk,
					  chunkSize) != 1)
		TEE_Panic(TEE_ERROR_GENERIC);
}

TEE_Result TEE_DigestDoFinal(TEE_OperationHandle operation, const void *chunk,
			     size_t chunkLen, void *hash, size_t *hashLen)
{
	TEE_OperationHandle op = operation;

	op_check_class(op, TEE_OPERATION_DIGEST);
	if ((!chunk && chunkLen) || !hashLen)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);

	if (op->state == TEE_OPERATION_STATE_EXTRACTING) {
		size_t n = SHA256_LEN - op->digest_off;

		if (chunkLen)
			TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
		if (n > *hashLen)
			n = *hashLen;
		if (n && !hash)
			TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
		memcpy(hash, op->digest + op->digest_off, n);
		*hashLen = n;
	} else {
		unsigned int len = 0;

		if (*hashLen < SHA256_LEN) {
			*hashLen = SHA256_LEN;
			return TEE_ERROR_SHORT_BUFFER;
		}
		if (!hash)
			TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
		if (chunkLen && EVP_DigestUpdate(op->mdctx, chunk,
						 chunkLen) != 1)
			TEE_Panic(TEE_ERROR_GENERIC);
		if (EVP_DigestFinal_ex(op->mdctx, hash, &len) != 1)
			TEE_Panic(TEE_ERROR_GENERIC);
		*hashLen = len;
	}
	reset_state(op);
	return TEE_SUCCESS;
}

TEE_Result TEE_DigestExtract(TEE_OperationHandle operation, void *hash,
			     size_t *hashLen)
{
	TEE_OperationHandle op = operation;
	size_t n;

	op_check_class(op, TEE_OPERATION_DIGEST);
	if (!hashLen)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (op->state != TEE_OPERATION_STATE_EXTRACTING) {
		unsigned int len = 0;

		if (EVP_DigestFinal_ex(op->mdctx, op->digest, &len) != 1 ||
		    len != SHA256_LEN)
			TEE_Panic(TEE_ERROR_GENERIC);
		op->digest_off = 0;
		op->state = TEE_OPERATION_STATE_EXTRACTING;
		op->info.handleState |= TEE_HANDLE_FLAG_EXTRACTING;
	}
	n = SHA256_LEN - op->digest_off;
	if (n > *hashLen)
		n = *hashLen;
	if (n && !hash)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	memcpy(hash, op->digest + op->digest_off, n);
	op->digest_off += n;
	*hashLen = n;
	return TEE_SUCCESS;
}

/* ---------------------------------------------------------------------- */
/* Symmetric cipher (AES ECB/CBC without padding, CTR)                     */
/* ---------------------------------------------------------------------- */

static bool is_block_mode(TEE_OperationHandle op)
{
	return op->info.algorithm == TEE_ALG_AES_ECB_NOPAD ||
	       op->info.algorithm == TEE_ALG_AES_CBC_NOPAD;
}

void TEE_CipherInit(TEE_OperationHandle operation, const void *IV,
		    size_t IVLen)
{
	TEE_OperationHandle op = operation;

	op_check_class(op, TEE_OPERATION_CIPHER);
	if (!(op->info.handleState & TEE_HANDLE_FLAG_KEY_SET))
		TEE_Panic(TEE_ERROR_BAD_STATE);
	if (op->state != TEE_OPERATION_STATE_INITIAL)
		TEE_ResetOperation(op);
	if (op->info.algorithm == TEE_ALG_AES_ECB_NOPAD) {
		if (IV && IVLen)
			TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
		IV = NULL;
	} else if (!IV || IVLen != AES_BLOCK) {
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	}
	if (EVP_CipherInit_ex2(op->cctx, NULL, NULL, IV, op->enc, NULL) != 1)
		TEE_Panic(TEE_ERROR_GENERIC);
	if (is_block_mode(op))
		EVP_CIPHER_CTX_set_padding(op->cctx, 0);
	op->buffered = 0;
	op->state = TEE_OPERATION_STATE_ACTIVE;
	op->info.handleState |= TEE_HANDLE_FLAG_INITIALIZED;
}

static void cipher_check_active(TEE_OperationHandle op, const void *src,
				size_t srcLen)
{
	op_check_class(op, TEE_OPERATION_CIPHER);
	if ((!src && srcLen) ||
	    !(op->info.handleState & TEE_HANDLE_FLAG_INITIALIZED) ||
	    op->state != TEE_OPERATION_STATE_ACTIVE)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
}

TEE_Result TEE_CipherUpdate(TEE_OperationHandle operation, const void *srcData,
			    size_t srcLen, void *destData, size_t *destLen)
{
	TEE_OperationHandle op = operation;
	size_t req, out = 0;

	cipher_check_active(op, srcData, srcLen);
	if (!destLen)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (!srcLen) {
		*destLen = 0;
		return TEE_SUCCESS;
	}
	if (is_block_mode(op))
		req = (op->buffered + srcLen) / AES_BLOCK * AES_BLOCK;
	else
		req = srcLen;
	if (*destLen < req) {
		*destLen = req;
		return TEE_ERROR_SHORT_BUFFER;
	}
	if (req && !destData)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	evp_update(op->cctx, destData, srcData, srcLen, &out);
	if (out != req)
		TEE_Panic(TEE_ERROR_GENERIC);
	if (is_block_mode(op))
		op->buffered = (op->buffered + srcLen) % AES_BLOCK;
	*destLen = out;
	return TEE_SUCCESS;
}

TEE_Result TEE_CipherDoFinal(TEE_OperationHandle operation,
			     const void *srcData, size_t srcLen,
			     void *destData, size_t *destLen)
{
	TEE_OperationHandle op = operation;
	size_t req, out = 0, have;
	int fin = 0;

	cipher_check_active(op, srcData, srcLen);
	req = op->buffered + srcLen;
	if (is_block_mode(op) && req % AES_BLOCK)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (is_block_mode(op) == false)
		req = srcLen;
	have = destLen ? *destLen : 0;
	if (have < req) {
		if (destLen)
			*destLen = req;
		return TEE_ERROR_SHORT_BUFFER;
	}
	if (req && !destData)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (srcLen)
		evp_update(op->cctx, destData, srcData, srcLen, &out);
	if (EVP_CipherFinal_ex(op->cctx, destData ? (uint8_t *)destData + out
					 : NULL, &fin) != 1)
		TEE_Panic(TEE_ERROR_GENERIC);
	out += (size_t)fin;
	if (destLen)
		*destLen = out;
	op->buffered = 0;
	op->info.handleState &= ~TEE_HANDLE_FLAG_INITIALIZED;
	op->state = TEE_OPERATION_STATE_INITIAL;
	return TEE_SUCCESS;
}

/* ---------------------------------------------------------------------- */
/* MAC (HMAC-SHA256)                                                       */
/* ---------------------------------------------------------------------- */

static void mac_start(TEE_OperationHandle op)
{
	OSSL_PARAM params[2];

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(op->macctx, op->key, op->key_len, params) != 1)
		TEE_Panic(TEE_ERROR_GENERIC);
}

void TEE_MACInit(TEE_OperationHandle operation, const void *IV, size_t IVLen)
{
	TEE_OperationHandle op = operation;

	/* HMAC takes no IV; OP-TEE ignores it too. */
	(void)IV;
	(void)IVLen;
	op_check_class(op, TEE_OPERATION_MAC);
	if (!(op->info.handleState & TEE_HANDLE_FLAG_KEY_SET))
		TEE_Panic(TEE_ERROR_BAD_STATE);
	if (op->state != TEE_OPERATION_STATE_INITIAL)
		TEE_ResetOperation(op);
	mac_start(op);
	op->state = TEE_OPERATION_STATE_ACTIVE;
	op->info.handleState |= TEE_HANDLE_FLAG_INITIALIZED;
}

static void mac_check_active(TEE_OperationHandle op, const void *msg,
			     size_t len)
{
	op_check_class(op, TEE_OPERATION_MAC);
	if ((!msg && len) ||
	    !(op->info.handleState & TEE_HANDLE_FLAG_INITIALIZED) ||
	    op->state != TEE_OPERATION_STATE_ACTIVE)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
}

void TEE_MACUpdate(TEE_OperationHandle operation, const void *chunk,
		   size_t chunkSize)
{
	mac_check_active(operation, chunk, chunkSize);
	if (chunkSize && EVP_MAC_update(operation->macctx, chunk,
					chunkSize) != 1)
		TEE_Panic(TEE_ERROR_GENERIC);
}

TEE_Result TEE_MACComputeFinal(TEE_OperationHandle operation,
			       const void *message, size_t messageLen,
			       void *mac, size_t *macLen)
{
	TEE_OperationHandle op = operation;
	size_t out = 0;

	mac_check_active(op, message, messageLen);
	if (!macLen)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (*macLen < SHA256_LEN) {
		*macLen = SHA256_LEN;
		return TEE_ERROR_SHORT_BUFFER;
	}
	if (!mac)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (messageLen && EVP_MAC_update(op->macctx, message,
					 messageLen) != 1)
		TEE_Panic(TEE_ERROR_GENERIC);
	if (EVP_MAC_final(op->macctx, mac, &out, *macLen) != 1)
		TEE_Panic(TEE_ERROR_GENERIC);
	*macLen = out;
	op->info.handleState &= ~TEE_HANDLE_FLAG_INITIALIZED;
	op->state = TEE_OPERATION_STATE_INITIAL;
	return TEE_SUCCESS;
}

/* Compares the MAC in constant time (CRYPTO_memcmp).
 * Leaks: mac lengths, match or not.  Hides: which bytes differ. */
TEE_Result TEE_MACCompareFinal(TEE_OperationHandle operation,
			       const void *message, size_t messageLen,
			       const void *mac, size_t macLen)
{
	uint8_t computed[SHA256_LEN];
	size_t len = sizeof(computed);
	TEE_Result res;

	mac_check_active(operation, message, messageLen);
	if (!mac && macLen)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	res = TEE_MACComputeFinal(operation, message, messageLen, computed,
				  &len);
	if (res != TEE_SUCCESS)
		TEE_Panic(res);
	if (len != macLen || CRYPTO_memcmp(computed, mac, len) != 0)
		res = TEE_ERROR_MAC_INVALID;
	OPENSSL_cleanse(computed, sizeof(computed));
	return res;
}

/* ---------------------------------------------------------------------- */
/* Authenticated encryption (AES-GCM)                                      */
/* ---------------------------------------------------------------------- */

TEE_Result TEE_AEInit(TEE_OperationHandle operation, const void *nonce,
		      size_t nonceLen, uint32_t tagLen, size_t AADLen,
		      size_t payloadLen)
{
	TEE_OperationHandle op = operation;

	/* GCM needs neither length in advance (CCM would). */
	(void)AADLen;
	(void)payloadLen;
	op_check_class(op, TEE_OPERATION_AE);
	if (!nonce || op->state != TEE_OPERATION_STATE_INITIAL)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	/* GP: AES-GCM tags of 128, 120, 112, 104 or 96 bits. */
	if (tagLen < 96 || tagLen > 128 || tagLen % 8)
		return TEE_ERROR_NOT_SUPPORTED;
	if (!(op->info.handleState & TEE_HANDLE_FLAG_KEY_SET))
		TEE_Panic(TEE_ERROR_BAD_STATE);
	if (nonceLen == 0 || nonceLen > GCM_IV_MAX)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);

	if (nonceLen != op->gcm_ivlen) {
		if (EVP_CIPHER_CTX_ctrl(op->cctx, EVP_CTRL_AEAD_SET_IVLEN,
					(int)nonceLen, NULL) != 1)
			TEE_Panic(TEE_ERROR_GENERIC);
		op->gcm_ivlen = nonceLen;
	}
	/* Key NULL: keep the key schedule, install the new nonce. */
	if (EVP_CipherInit_ex2(op->cctx, NULL, NULL, nonce, op->enc,
			       NULL) != 1)
		TEE_Panic(TEE_ERROR_GENERIC);
	op->info.digestLength = tagLen / 8;
	op->info.handleState |= TEE_HANDLE_FLAG_INITIALIZED;
	return TEE_SUCCESS;
}

static void ae_check_initialized(TEE_OperationHandle op, const void *src,
				 size_t srcLen)
{
	op_check_class(op, TEE_OPERATION_AE);
	if ((!src && srcLen) ||
	    !(op->info.handleState & TEE_HANDLE_FLAG_INITIALIZED))
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
}

void TEE_AEUpdateAAD(TEE_OperationHandle operation, const void *AADdata,
		     size_t AADdataLen)
{
	ae_check_initialized(operation, AADdata, AADdataLen);
	/* AAD must come before any payload. */
	if (operation->state != TEE_OPERATION_STATE_INITIAL)
		TEE_Panic(TEE_ERROR_BAD_STATE);
	if (AADdataLen)
		evp_update(operation->cctx, NULL, AADdata, AADdataLen, NULL);
}

TEE_Result TEE_AEUpdate(TEE_OperationHandle operation, const void *srcData,
			size_t srcLen, void *destData, size_t *destLen)
{
	TEE_OperationHandle op = operation;

	ae_check_initialized(op, srcData, srcLen);
	if (!destLen)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (!srcLen) {
		*destLen = 0;
		return TEE_SUCCESS;
	}
	if (*destLen < srcLen) {
		*destLen = srcLen;
		return TEE_ERROR_SHORT_BUFFER;
	}
	if (!destData)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	evp_update(op->cctx, destData, srcData, srcLen, NULL);
	ct_mark_output(op, destData, srcLen);
	*destLen = srcLen;
	op->state = TEE_OPERATION_STATE_ACTIVE;
	return TEE_SUCCESS;
}

TEE_Result TEE_AEEncryptFinal(TEE_OperationHandle operation,
			      const void *srcData, size_t srcLen,
			      void *destData, size_t *destLen, void *tag,
			      size_t *tagLen)
{
	TEE_OperationHandle op = operation;
	uint8_t full_tag[16];
	size_t tl;
	int fin = 0;
	bool short_buf = false;

	ae_check_initialized(op, srcData, srcLen);
	if (!destLen || !tagLen || op->info.mode != TEE_MODE_ENCRYPT)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	tl = op->info.digestLength;
	if (*destLen < srcLen) {
		*destLen = srcLen;
		short_buf = true;
	}
	if (*tagLen < tl) {
		*tagLen = tl;
		short_buf = true;
	}
	if (short_buf)
		return TEE_ERROR_SHORT_BUFFER;
	if ((srcLen && !destData) || !tag)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);

	if (srcLen)
		evp_update(op->cctx, destData, srcData, srcLen, NULL);
	if (EVP_CipherFinal_ex(op->cctx, full_tag, &fin) != 1 || fin != 0 ||
	    EVP_CIPHER_CTX_ctrl(op->cctx, EVP_CTRL_AEAD_GET_TAG,
				sizeof(full_tag), full_tag) != 1)
		TEE_Panic(TEE_ERROR_GENERIC);
	memcpy(tag, full_tag, tl);
	ct_mark_output(op, destData, srcLen);
	ct_mark_output(op, tag, tl);
	*destLen = srcLen;
	*tagLen = tl;
	op->info.handleState &= ~TEE_HANDLE_FLAG_INITIALIZED;
	op->state = TEE_OPERATION_STATE_INITIAL;
	return TEE_SUCCESS;
}

/* Finishes a GCM decryption and checks the tag in constant time (OpenSSL's
 * CRYPTO_memcmp). On mismatch the plaintext written by this call is zeroed,
 * *destLen is set to 0 and only TEE_ERROR_MAC_INVALID is reported.
 * Leaks: srcLen, tag length, tag valid or not.  Hides: plaintext, where the
 * tags differ. */
TEE_Result TEE_AEDecryptFinal(TEE_OperationHandle operation,
			      const void *srcData, size_t srcLen,
			      void *destData, size_t *destLen, void *tag,
			      size_t tagLen)
{
	TEE_OperationHandle op = operation;
	int fin = 0;
	bool ok;

	ae_check_initialized(op, srcData, srcLen);
	if (!destLen || (!tag && tagLen) ||
	    op->info.mode != TEE_MODE_DECRYPT)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (*destLen < srcLen) {
		*destLen = srcLen;
		return TEE_ERROR_SHORT_BUFFER;
	}
	if (srcLen && !destData)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);

	if (srcLen)
		evp_update(op->cctx, destData, srcData, srcLen, NULL);
	/* Supplied tagLen must match what TEE_AEInit set (OP-TEE). */
	ok = tagLen == op->info.digestLength;
	if (ok && EVP_CIPHER_CTX_ctrl(op->cctx, EVP_CTRL_AEAD_SET_TAG,
				      (int)tagLen, tag) != 1)
		TEE_Panic(TEE_ERROR_GENERIC);
	if (ok) {
		uint8_t dummy[16];

		ok = EVP_CipherFinal_ex(op->cctx, dummy, &fin) == 1 &&
		     fin == 0;
	}
	if (!ok) {
		if (srcLen)
			OPENSSL_cleanse(destData, srcLen);
		ct_mark_output(op, destData, srcLen);
		*destLen = 0;
		/* State kept, as OP-TEE does on a tag mismatch. */
		return TEE_ERROR_MAC_INVALID;
	}
	ct_mark_output(op, destData, srcLen);
	*destLen = srcLen;
	op->info.handleState &= ~TEE_HANDLE_FLAG_INITIALIZED;
	op->state = TEE_OPERATION_STATE_INITIAL;
	return TEE_SUCCESS;
}

/* ---------------------------------------------------------------------- */
/* Asymmetric operations and key derivation                                */
/* ---------------------------------------------------------------------- */

/*
 * Ed25519 signatures and X25519 derivation are simulated (asym.c); RSA and
 * ECDSA/ECDH are not: TEE_AllocateOperation refuses them, so a call on any
 * other handle has the wrong class, a programmer error that panics as on
 * OP-TEE. TEE_AsymmetricEncrypt/Decrypt exist so that a portable TA that
 * only calls them on other platforms (after TEE_IsAlgorithmSupported) still
 * loads in the simulator.
 */
static void __attribute__((noreturn)) not_simulated(TEE_OperationHandle op,
						     const char *what)
{
	op_check(op);
	EMSG("%s: operation class not simulated", what);
	TEE_Panic(TEE_ERROR_NOT_SUPPORTED);
}

/* Panics unless `op` is a keyed operation of class `cls` in `mode`. */
static void asym_check(TEE_OperationHandle op, uint32_t cls, uint32_t mode)
{
	op_check_class(op, cls);
	if (op->info.mode != mode)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (!(op->info.handleState & TEE_HANDLE_FLAG_KEY_SET))
		TEE_Panic(TEE_ERROR_BAD_STATE);
}

TEE_Result TEE_AsymmetricEncrypt(TEE_OperationHandle operation,
				 const TEE_Attribute *params,
				 uint32_t paramCount, const void *srcData,
				 size_t srcLen, void *destData,
				 size_t *destLen)
{
	(void)params, (void)paramCount, (void)srcData, (void)srcLen;
	(void)destData, (void)destLen;
	not_simulated(operation, __func__);
}

TEE_Result TEE_AsymmetricDecrypt(TEE_OperationHandle operation,
				 const TEE_Attribute *params,
				 uint32_t paramCount, const void *srcData,
				 size_t srcLen, void *destData,
				 size_t *destLen)
{
	(void)params, (void)paramCount, (void)srcData, (void)srcLen;
	(void)destData, (void)destLen;
	not_simulated(operation, __func__);
}

/* Ed25519: `digest` is the whole message, as in OP-TEE. */
TEE_Result TEE_AsymmetricSignDigest(TEE_OperationHandle operation,
				    const TEE_Attribute *params,
				    uint32_t paramCount, const void *digest,
				    size_t digestLen, void *signature,
				    size_t *signatureLen)
{
	asym_check(operation, TEE_OPERATION_ASYMMETRIC_SIGNATURE,
		   TEE_MODE_SIGN);
	return sim_asym_sign(operation->key, params, paramCount, digest,
			     digestLen, signature, signatureLen);
}

TEE_Result TEE_AsymmetricVerifyDigest(TEE_OperationHandle operation,
				      const TEE_Attribute *params,
				      uint32_t paramCount, const void *digest,
				      size_t digestLen, const void *signature,
				      size_t signatureLen)
{
	asym_check(operation, TEE_OPERATION_ASYMMETRIC_SIGNATURE,
		   TEE_MODE_VERIFY);
	return sim_asym_verify(operation->key, params, paramCount, digest,
			       digestLen, signature, signatureLen);
}

void TEE_DeriveKey(TEE_OperationHandle operation, const TEE_Attribute *params,
		   uint32_t paramCount, TEE_ObjectHandle derivedKey)
{
	asym_check(operation, TEE_OPERATION_KEY_DERIVATION, TEE_MODE_DERIVE);
	sim_asym_derive(operation->key, params, paramCount, derivedKey);
}

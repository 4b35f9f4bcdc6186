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
 * "key"), in exactly storage.c's file format and key hierarchy (a
 * TEE_TYPE_DATA object whose data is the DER RSAPrivateKey, AES-256-GCM
 * under TSK = HMAC-SHA256(HUK, "teespark-sim-tsk-v1" | PTA UUID)), so
 * storage.c reads it as an ordinary persistent object of that UUID. The
 * file is published with link(2) (exclusive, atomic): when two processes
 * create the key at once, one link wins, the other discards its key and
 * both re-read the winner's, so every process signs with one key.
 * The key is cached per process after the first load.
 *
 * SIMULATION ONLY: the key protects nothing (the HUK sits next to it);
 * evidence from this PTA must be marked simulated by its user.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <pta_attestation.h>

#include "sim_internal.h"

#define HASH_LEN	32
#define KEY_BITS	3072
#define MAX_SEGMENTS	32

/* storage.c's format (see its file comment). */
#define FILE_MAGIC	"TSPKSTO1"
#define MAGIC_LEN	8
#define NONCE_LEN	12
#define TAG_LEN		16
#define HDR_LEN		(MAGIC_LEN + NONCE_LEN + TAG_LEN)
#define BODY_FIXED	20
#define HUK_LEN		32
#define TSK_LEN		32
#define TSK_LABEL	"teespark-sim-tsk-v1"
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
/* Secure storage of the device key (storage.c's layout and sealing)       */
/* ---------------------------------------------------------------------- */

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -1;
		tmp[i] = i < n ? '/' : '\0';
	}
	return 0;
}

/* $TEESPARK_SIM_STORAGE_DIR, else ${XDG_DATA_HOME:-~/.local/share}/
 * teespark/sim-storage, as storage.c resolves it. */
static int base_dir(char *buf, size_t n)
{
	const char *s = getenv("TEESPARK_SIM_STORAGE_DIR");
	int r;

	if (s && *s)
		r = snprintf(buf, n, "%s", s);
	else if ((s = getenv("XDG_DATA_HOME")) && *s)
		r = snprintf(buf, n, "%s/teespark/sim-storage", s);
	else if ((s = getenv("HOME")) && *s)
		r = snprintf(buf, n, "%s/.local/share/teespark/sim-storage", s);
	else
		return -1;
	if (r < 0 || (size_t)r >= n)
		return -1;
	return mkdir_p(buf);
}

static int read_all(const char *path, uint8_t **out, size_t *out_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf;
	size_t got = 0;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || st.st_size < 0 || st.st_size > (1 << 20)) {
		close(fd);
		errno = EIO;
		return -1;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	*out = buf;
	*out_len = got;
	return 0;
}

/* Writes `data` to a new temporary file in `dir` (path into tmp). */
static int write_temp(const char *dir, const uint8_t *data, size_t len,
		      char *tmp, size_t tmp_size)
{
	size_t off = 0;
	int fd;

	if (snprintf(tmp, tmp_size, "%s/tmp-XXXXXX", dir) >= (int)tmp_size)
		return -1;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off != len || fchmod(fd, 0600) || fsync(fd)) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Publishes tmp as path unless path exists (then the existing file wins).
 * Returns 0 if path exists afterwards. */
static int publish_exclusive(const char *tmp, const char *path)
{
	int r = link(tmp, path);
	int e = errno;

	unlink(tmp);
	return r == 0 || e == EEXIST ? 0 : -1;
}

/* The simulated HUK, created on first use exactly as storage.c does. */
static int get_huk(const char *base, uint8_t huk[HUK_LEN])
{
	char path[PATH_MAX], tmp[PATH_MAX];
	uint8_t *buf = NULL, fresh[HUK_LEN];
	size_t len = 0;
	int r;

	if (snprintf(path, sizeof(path), "%s/sim-huk", base) >=
	    (int)sizeof(path))
		return -1;
	if (read_all(path, &buf, &len)) {
		if (errno != ENOENT)
			return -1;
		if (RAND_priv_bytes(fresh, sizeof(fresh)) != 1)
			return -1;
		r = write_temp(base, fresh, sizeof(fresh), tmp, sizeof(tmp));
		OPENSSL_cleanse(fresh, sizeof(fresh));
		if (r || publish_exclusive(tmp, path) ||
		    read_all(path, &buf, &len))
			return -1;
	}
	r = len == HUK_LEN ? 0 : -1;
	if (!r)
		memcpy(huk, buf, HUK_LEN);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return r;
}

/* Directory and storage key (TSK) of the PTA's UUID.
 * Leaks: nothing.  Hides: HUK, TSK. */
static TEE_Result pta_storage(char dir[PATH_MAX], uint8_t tsk[TSK_LEN])
{
	const TEE_UUID *u = &g_pta_uuid;
	const uint8_t *c = u->clockSeqAndNode;
	uint8_t huk[HUK_LEN], msg[sizeof(TSK_LABEL) - 1 + 16], *m;
	unsigned int out_len = 0;
	char base[PATH_MAX];
	int r;

	if (base_dir(base, sizeof(base)))
		return TEE_ERROR_STORAGE_NOT_AVAILABLE;
	r = snprintf(dir, PATH_MAX,
		     "%s/%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		     base, u->timeLow, u->timeMid, u->timeHiAndVersion,
		     c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]);
	if (r < 0 || r >= PATH_MAX || mkdir_p(dir) || get_huk(base, huk))
		return TEE_ERROR_STORAGE_NOT_AVAILABLE;

	/* UUID in canonical (big-endian) byte order, as storage.c. */
	memcpy(msg, TSK_LABEL, sizeof(TSK_LABEL) - 1);
	m = msg + sizeof(TSK_LABEL) - 1;
	m[0] = (uint8_t)(u->timeLow >> 24);
	m[1] = (uint8_t)(u->timeLow >> 16);
	m[2] = (uint8_t)(u->timeLow >> 8);
	m[3] = (uint8_t)u->timeLow;
	m[4] = (uint8_t)(u->timeMid >> 8);
	m[5] = (uint8_t)u->timeMid;
	m[6] = (uint8_t)(u->timeHiAndVersion >> 8);
	m[7] = (uint8_t)u->timeHiAndVersion;
	memcpy(m + 8, c, 8);
	r = HMAC(EVP_sha256(), huk, HUK_LEN, msg, sizeof(msg), tsk,
		 &out_len) && out_len == TSK_LEN;
	OPENSSL_cleanse(huk, sizeof(huk));
	return r ? TEE_SUCCESS : TEE_ERROR_STORAGE_NOT_AVAILABLE;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* AES-256-GCM with storage.c's AAD ("TSPKSTO1" | u32 id_len | id).
 * Leaks: lengths, tag valid or not.  Hides: key, plaintext. */
static int gcm(int enc, const uint8_t key[TSK_LEN], const uint8_t *nonce,
	       const uint8_t *in, size_t len, uint8_t *out, uint8_t *tag)
{
	uint8_t aad[MAGIC_LEN + 4 + KEY_ID_LEN];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int ok, outl = 0, fin = 0;

	memcpy(aad, FILE_MAGIC, MAGIC_LEN);
	put_u32(aad + MAGIC_LEN, KEY_ID_LEN);
	memcpy(aad + MAGIC_LEN + 4, KEY_ID, KEY_ID_LEN);
	if (!ctx)
		return -1;
	ok = EVP_CipherInit_ex2(ctx, EVP_aes_256_gcm(), key, nonce, enc,
				NULL) == 1 &&
	     EVP_CipherUpdate(ctx, NULL, &outl, aad, sizeof(aad)) == 1 &&
	     EVP_CipherUpdate(ctx, out, &outl, in, (int)len) == 1;
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN,
					 tag) == 1;
	if (ok)
		ok = EVP_CipherFinal_ex(ctx, out + len, &fin) == 1;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN,
					 tag) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* Reads and unseals the key object; *der (caller frees, wipes) holds the
 * DER private key. TEE_ERROR_ITEM_NOT_FOUND if absent.
 * Leaks: file present, valid or not.  Hides: the private key. */
static TEE_Result load_key_file(const char *path, const uint8_t tsk[TSK_LEN],
				uint8_t **der, size_t *der_len)
{
	uint8_t *file = NULL, *body;
	size_t len = 0, body_len;
	uint32_t secret_len;

	if (read_all(path, &file, &len))
		return errno == ENOENT ? TEE_ERROR_ITEM_NOT_FOUND :
			TEE_ERROR_STORAGE_NOT_AVAILABLE;
	if (len < HDR_LEN + BODY_FIXED || memcmp(file, FILE_MAGIC, MAGIC_LEN)) {
		free(file);
		return TEE_ERROR_CORRUPT_OBJECT;
	}
	body_len = len - HDR_LEN;
	body = malloc(body_len);
	if (!body) {
		free(file);
		return TEE_ERROR_OUT_OF_MEMORY;
	}
	if (gcm(0, tsk, file + MAGIC_LEN, file + HDR_LEN, body_len, body,
		file + MAGIC_LEN + NONCE_LEN)) {
		free(file);
		OPENSSL_cleanse(body, body_len);
		free(body);
		return TEE_ERROR_CORRUPT_OBJECT;
	}
	free(file);
	secret_len = get_u32(body + 16);
	if (get_u32(body) != TEE_TYPE_DATA || secret_len != 0) {
		OPENSSL_cleanse(body, body_len);
		free(body);
		return TEE_ERROR_CORRUPT_OBJECT;
	}
	memmove(body, body + BODY_FIXED, body_len - BODY_FIXED);
	*der = body;
	*der_len = body_len - BODY_FIXED;
	return TEE_SUCCESS;
}

/* Seals a fresh key as a TEE_TYPE_DATA object and publishes it unless a
 * key file already exists.
 * Leaks: nothing.  Hides: the private key. */
static TEE_Result store_key_file(const char *dir, const char *path,
				 const uint8_t tsk[TSK_LEN], EVP_PKEY *key)
{
	uint8_t *der = NULL, *body = NULL, *file = NULL;
	size_t body_len, file_len;
	char tmp[PATH_MAX];
	TEE_Result res = TEE_ERROR_GENERIC;
	int der_len = i2d_PrivateKey(key, &der);

	if (der_len <= 0)
		return TEE_ERROR_GENERIC;
	body_len = BODY_FIXED + (size_t)der_len;
	file_len = HDR_LEN + body_len;
	body = malloc(body_len);
	file = malloc(file_len);
	if (!body || !file) {
		res = TEE_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	put_u32(body, TEE_TYPE_DATA);
	put_u32(body + 4, 0);		/* key_bits */
	put_u32(body + 8, 0);		/* max_bits */
	put_u32(body + 12, 0xFFFFFFFF);	/* usage */
	put_u32(body + 16, 0);		/* secret_len */
	memcpy(body + BODY_FIXED, der, (size_t)der_len);
	memcpy(file, FILE_MAGIC, MAGIC_LEN);
	if (RAND_bytes(file + MAGIC_LEN, NONCE_LEN) != 1 ||
	    gcm(1, tsk, file + MAGIC_LEN, body, body_len, file + HDR_LEN,
		file + MAGIC_LEN + NONCE_LEN))
		goto out;
	if (write_temp(dir, file, file_len, tmp, sizeof(tmp)) ||
	    publish_exclusive(tmp, path)) {
		res = TEE_ERROR_STORAGE_NOT_AVAILABLE;
		goto out;
	}
	res = TEE_SUCCESS;
out:
	if (body)
		OPENSSL_cleanse(body, body_len);
	free(body);
	free(file);
	OPENSSL_clear_free(der, (size_t)der_len);
	return res;
}

/* Loads the device key, creating it on first use (see the file comment).
 * Caller holds g_lock. */
static TEE_Result device_key(EVP_PKEY **out)
{
	char dir[PATH_MAX], path[PATH_MAX];
	uint8_t tsk[TSK_LEN], *der = NULL;
	const uint8_t *p;
	size_t der_len = 0;
	EVP_PKEY *fresh;
	TEE_Result res;
	int attempt;

	if (g_key) {
		*out = g_key;
		return TEE_SUCCESS;
	}
	res = pta_storage(dir, tsk);
	if (res != TEE_SUCCESS) {
		EMSG("attestation PTA: secure storage not available");
		return res;
	}
	if (snprintf(path, sizeof(path), "%s/6b6579", dir) >=
	    (int)sizeof(path)) {
		res = TEE_ERROR_STORAGE_NOT_AVAILABLE;
		goto out;
	}
	for (attempt = 0; attempt < 2; attempt++) {
		res = load_key_file(path, tsk, &der, &der_len);
		if (res != TEE_ERROR_ITEM_NOT_FOUND || attempt)
			break;
		fresh = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)KEY_BITS);
		if (!fresh) {
			res = TEE_ERROR_OUT_OF_MEMORY;
			goto out;
		}
		/* Whoever links first wins; everyone re-reads the file. */
		res = store_key_file(dir, path, tsk, fresh);
		EVP_PKEY_free(fresh);
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
	if (der)
		OPENSSL_clear_free(der, der_len);
	OPENSSL_cleanse(tsk, sizeof(tsk));
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

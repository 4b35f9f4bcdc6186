/*
 * storage.c - GP persistent objects (secure storage) for the teespark
 * simulator.
 *
 * Layout (all directories 0700, files 0600):
 *   <base>/sim-huk             32-byte simulated hardware unique key
 *   <base>/<ta-uuid>/<hex-id>  one file per object ("_" for the empty id)
 * where <base> is $TEESPARK_SIM_STORAGE_DIR, else
 * ${XDG_DATA_HOME:-~/.local/share}/teespark/sim-storage.
 *
 * SIMULATION ONLY. Like OP-TEE on QEMU, whose hardware unique key is a
 * constant, this offers no secrecy against anyone who can read <base>: the
 * HUK sits next to the data it protects. It exists so that TA code paths
 * (and tamper handling) behave as on a device. The key hierarchy mirrors
 * OP-TEE's (secure_storage.rst): a per-TA storage key
 *   TSK = HMAC-SHA256(HUK, "teespark-sim-tsk-v1" || TA UUID)
 * and each file is AES-256-GCM under the TSK with a fresh random nonce,
 * the object id bound as additional data, so a file that is modified,
 * truncated, swapped with another object's file or copied to another TA's
 * directory fails with TEE_ERROR_CORRUPT_OBJECT.
 *
 * File format (version 1):
 *   "TSPKSTO1" | nonce[12] | tag[16] | GCM(TSK, body)
 *   body = u32 type | u32 key_bits | u32 max_bits | u32 usage |
 *          u32 secret_len | secret | data
 * AAD = "TSPKSTO1" | u32 id_len | id.
 *
 * Every write, truncate or rename rewrites the object into a temporary
 * file and renames it into place, so an object is always either the old or
 * the new version, never a mix (OP-TEE's REE FS is atomic per operation
 * too). Objects are small in teespark (keys, models, counters), so rewriting
 * whole files is acceptable.
 *
 * The pseudo-TAs (pta_attestation.c) keep data objects under their own
 * UUID through sim_storage_{load,store}_for_uuid (sim_internal.h), in this
 * same format, so there is one implementation of it.
 *
 * Sharing rules (TEE_DATA_FLAG_SHARE_*, ACCESS_CONFLICT) are enforced among
 * the handles of this process, i.e. of one TA instance. Two instances of
 * the same TA in different host processes are not arbitrated beyond the
 * atomic replacement of files (documented gap; OP-TEE arbitrates in its
 * core).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "sim_internal.h"

#define FILE_MAGIC	"TSPKSTO1"
#define MAGIC_LEN	8
#define NONCE_LEN	12
#define TAG_LEN		16
#define HDR_LEN		(MAGIC_LEN + NONCE_LEN + TAG_LEN)
#define BODY_FIXED	20		/* five u32 fields */
#define HUK_LEN		32
#define TSK_LEN		32
#define TSK_LABEL	"teespark-sim-tsk-v1"

#define VALID_FLAGS (TEE_DATA_FLAG_ACCESS_READ | TEE_DATA_FLAG_ACCESS_WRITE | \
		     TEE_DATA_FLAG_ACCESS_WRITE_META | \
		     TEE_DATA_FLAG_SHARE_READ | TEE_DATA_FLAG_SHARE_WRITE | \
		     TEE_DATA_FLAG_OVERWRITE)
#define ACCESS_FLAGS (TEE_DATA_FLAG_ACCESS_READ | TEE_DATA_FLAG_ACCESS_WRITE | \
		      TEE_DATA_FLAG_ACCESS_WRITE_META)

/* One open object (shared by every handle on it). */
struct pnode {
	struct pnode *next;
	struct sim_pobj *handles;
	char dir[PATH_MAX];
	uint8_t tsk[TSK_LEN];
	uint8_t id[TEE_OBJECT_ID_MAX_LEN];
	size_t id_len;
	uint8_t *data;
	size_t len;
};

/* One handle's view: its flags and its data position. */
struct sim_pobj {
	struct sim_pobj *next;	/* in node->handles */
	struct pnode *node;
	TEE_ObjectHandle obj;
	uint32_t flags;
	size_t pos;
};

/* Attributes of a key object stored with the data. */
struct key_attrs {
	uint32_t type, key_bits, max_bits, usage;
	size_t secret_len;
	const uint8_t *secret;
};

static struct pnode *g_nodes;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((weak)) const TEE_UUID *sim_current_ta_uuid(void)
{
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Paths and keys                                                          */
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

static int base_dir(char *buf, size_t n)
{
	const char *s = getenv("TEESPARK_SIM_STORAGE_DIR");
	int r;

	if (s && *s) {
		r = snprintf(buf, n, "%s", s);
	} else if ((s = getenv("XDG_DATA_HOME")) && *s) {
		r = snprintf(buf, n, "%s/teespark/sim-storage", s);
	} else if ((s = getenv("HOME")) && *s) {
		r = snprintf(buf, n, "%s/.local/share/teespark/sim-storage",
			     s);
	} else {
		return -1;
	}
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
	if (fstat(fd, &st) || st.st_size < 0 ||
	    (uint64_t)st.st_size > SIZE_MAX - 1) {
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

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes `data` to a fresh temporary file in `dir`; returns its path. */
static int write_temp(const char *dir, const uint8_t *data, size_t len,
		      char *tmp, size_t tmp_size)
{
	int fd;

	if (snprintf(tmp, tmp_size, "%s/tmp-XXXXXX", dir) >= (int)tmp_size)
		return -1;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -1;
	if (fchmod(fd, 0600) || write_all(fd, data, len) || fsync(fd)) {
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

static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* Reads the simulated HUK, creating it on first use. link(2) publishes a
 * fully written key atomically, so racing first users agree on one key. */
static int get_huk(const char *base, uint8_t huk[HUK_LEN])
{
	char path[PATH_MAX], tmp[PATH_MAX];
	uint8_t *buf = NULL, fresh[HUK_LEN];
	size_t len = 0;

	if (snprintf(path, sizeof(path), "%s/sim-huk", base) >=
	    (int)sizeof(path))
		return -1;
	if (read_all(path, &buf, &len)) {
		if (errno != ENOENT)
			return -1;
		if (RAND_priv_bytes(fresh, sizeof(fresh)) != 1)
			return -1;
		if (write_temp(base, fresh, sizeof(fresh), tmp, sizeof(tmp))) {
			OPENSSL_cleanse(fresh, sizeof(fresh));
			return -1;
		}
		OPENSSL_cleanse(fresh, sizeof(fresh));
		if (link(tmp, path) && errno != EEXIST) {
			unlink(tmp);
			return -1;
		}
		unlink(tmp);
		sync_dir(base);
		if (read_all(path, &buf, &len))
			return -1;
	}
	if (len != HUK_LEN) {
		OPENSSL_cleanse(buf, len);
		free(buf);
		return -1;
	}
	memcpy(huk, buf, HUK_LEN);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return 0;
}

/* Resolves the directory and storage key of UUID `u`.
 * TEE_ERROR_STORAGE_NOT_AVAILABLE if the storage directory cannot be used. */
static TEE_Result uuid_storage(const TEE_UUID *u, char dir[PATH_MAX],
			       uint8_t tsk[TSK_LEN])
{
	char base[PATH_MAX];
	uint8_t huk[HUK_LEN], msg[sizeof(TSK_LABEL) - 1 + 16];
	unsigned int out_len = 0;
	const uint8_t *c;
	int r;

	if (base_dir(base, sizeof(base))) {
		EMSG("cannot create the simulator storage directory");
		return TEE_ERROR_STORAGE_NOT_AVAILABLE;
	}
	c = u->clockSeqAndNode;
	r = snprintf(dir, PATH_MAX,
		     "%s/%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		     base, u->timeLow, u->timeMid, u->timeHiAndVersion,
		     c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]);
	if (r < 0 || r >= PATH_MAX || mkdir_p(dir))
		return TEE_ERROR_STORAGE_NOT_AVAILABLE;
	if (get_huk(base, huk)) {
		EMSG("cannot read or create the simulated HUK");
		return TEE_ERROR_STORAGE_NOT_AVAILABLE;
	}

	/* UUID in its canonical (RFC 4122, big-endian) byte order. */
	memcpy(msg, TSK_LABEL, sizeof(TSK_LABEL) - 1);
	c = msg + sizeof(TSK_LABEL) - 1;
	((uint8_t *)c)[0] = (uint8_t)(u->timeLow >> 24);
	((uint8_t *)c)[1] = (uint8_t)(u->timeLow >> 16);
	((uint8_t *)c)[2] = (uint8_t)(u->timeLow >> 8);
	((uint8_t *)c)[3] = (uint8_t)u->timeLow;
	((uint8_t *)c)[4] = (uint8_t)(u->timeMid >> 8);
	((uint8_t *)c)[5] = (uint8_t)u->timeMid;
	((uint8_t *)c)[6] = (uint8_t)(u->timeHiAndVersion >> 8);
	((uint8_t *)c)[7] = (uint8_t)u->timeHiAndVersion;
	memcpy((uint8_t *)c + 8, u->clockSeqAndNode, 8);
	if (!HMAC(EVP_sha256(), huk, HUK_LEN, msg, sizeof(msg), tsk,
		  &out_len) || out_len != TSK_LEN) {
		OPENSSL_cleanse(huk, sizeof(huk));
		return TEE_ERROR_STORAGE_NOT_AVAILABLE;
	}
	OPENSSL_cleanse(huk, sizeof(huk));
	return TEE_SUCCESS;
}

/* Resolves this TA's directory and storage key.
 * TEE_ERROR_STORAGE_NOT_AVAILABLE if there is no TA identity or the
 * storage directory cannot be used. */
static TEE_Result ta_storage(char dir[PATH_MAX], uint8_t tsk[TSK_LEN])
{
	const TEE_UUID *u = sim_current_ta_uuid();

	if (!u) {
		EMSG("no TA UUID (sim_current_ta_uuid): storage unavailable");
		return TEE_ERROR_STORAGE_NOT_AVAILABLE;
	}
	return uuid_storage(u, dir, tsk);
}

static int object_path(char *buf, size_t n, const char *dir,
		       const uint8_t *id, size_t id_len)
{
	static const char hex[] = "0123456789abcdef";
	size_t used, i;
	int r = snprintf(buf, n, "%s/", dir);

	if (r < 0 || (size_t)r >= n)
		return -1;
	used = (size_t)r;
	if (used + 2 * id_len + 2 > n)
		return -1;
	if (!id_len)
		buf[used++] = '_';
	for (i = 0; i < id_len; i++) {
		buf[used++] = hex[id[i] >> 4];
		buf[used++] = hex[id[i] & 15];
	}
	buf[used] = '\0';
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Sealing                                                                 */
/* ---------------------------------------------------------------------- */

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

static void make_aad(uint8_t *aad, const uint8_t *id, size_t id_len)
{
	memcpy(aad, FILE_MAGIC, MAGIC_LEN);
	put_u32(aad + MAGIC_LEN, (uint32_t)id_len);
	memcpy(aad + MAGIC_LEN + 4, id, id_len);
}

/* AES-256-GCM over `in` (len bytes) into `out`; returns 0 on success and,
 * when decrypting, only if the tag matched. */
static int gcm(int enc, const uint8_t key[TSK_LEN], const uint8_t *nonce,
	       const uint8_t *aad, size_t aad_len, const uint8_t *in,
	       size_t len, uint8_t *out, uint8_t tag[TAG_LEN])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int ok, outl = 0, fin = 0;
	size_t done = 0;

	if (!ctx)
		return -1;
	ok = EVP_CipherInit_ex2(ctx, EVP_aes_256_gcm(), key, nonce, enc,
				NULL) == 1 &&
	     EVP_CipherUpdate(ctx, NULL, &outl, aad, (int)aad_len) == 1;
	while (ok && done < len) {
		size_t n = len - done > (1u << 30) ? (1u << 30) : len - done;

		ok = EVP_CipherUpdate(ctx, out + done, &outl, in + done,
				      (int)n) == 1;
		done += n;
	}
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN,
					 tag) == 1;
	if (ok)
		ok = EVP_CipherFinal_ex(ctx, out + done, &fin) == 1;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN,
					 tag) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* Seals key attributes + data for object `id` and writes the file
 * atomically. With `exclusive`, fails with EEXIST if the file exists. */
static TEE_Result store(const char *dir, const uint8_t tsk[TSK_LEN],
			const uint8_t *id, size_t id_len,
			const struct key_attrs *ka, const uint8_t *data,
			size_t len, bool exclusive)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	uint8_t aad[MAGIC_LEN + 4 + TEE_OBJECT_ID_MAX_LEN];
	size_t body_len = BODY_FIXED + ka->secret_len + len;
	uint8_t *body, *file;
	TEE_Result res = TEE_SUCCESS;

	if (object_path(path, sizeof(path), dir, id, id_len))
		return TEE_ERROR_STORAGE_NOT_AVAILABLE;
	if (len > SIZE_MAX - HDR_LEN - BODY_FIXED - ka->secret_len)
		return TEE_ERROR_OUT_OF_MEMORY;
	body = malloc(body_len);
	file = malloc(HDR_LEN + body_len);
	if (!body || !file) {
		free(body);
		free(file);
		return TEE_ERROR_OUT_OF_MEMORY;
	}
	put_u32(body, ka->type);
	put_u32(body + 4, ka->key_bits);
	put_u32(body + 8, ka->max_bits);
	put_u32(body + 12, ka->usage);
	put_u32(body + 16, (uint32_t)ka->secret_len);
	if (ka->secret_len)
		memcpy(body + BODY_FIXED, ka->secret, ka->secret_len);
	if (len)
		memcpy(body + BODY_FIXED + ka->secret_len, data, len);

	memcpy(file, FILE_MAGIC, MAGIC_LEN);
	TEE_GenerateRandom(file + MAGIC_LEN, NONCE_LEN);
	make_aad(aad, id, id_len);
	if (gcm(1, tsk, file + MAGIC_LEN, aad, MAGIC_LEN + 4 + id_len, body,
		body_len, file + HDR_LEN, file + MAGIC_LEN + NONCE_LEN)) {
		res = TEE_ERROR_GENERIC;
		goto out;
	}
	if (write_temp(dir, file, HDR_LEN + body_len, tmp, sizeof(tmp))) {
		res = errno == ENOSPC || errno == EDQUOT ?
			TEE_ERROR_STORAGE_NO_SPACE :
			TEE_ERROR_STORAGE_NOT_AVAILABLE;
		goto out;
	}
	if (exclusive) {
		if (link(tmp, path)) {
			res = errno == EEXIST ? TEE_ERROR_ACCESS_CONFLICT :
				TEE_ERROR_STORAGE_NOT_AVAILABLE;
		}
		unlink(tmp);
	} else if (rename(tmp, path)) {
		unlink(tmp);
		res = TEE_ERROR_STORAGE_NOT_AVAILABLE;
	}
	if (res == TEE_SUCCESS)
		sync_dir(dir);
out:
	OPENSSL_cleanse(body, body_len);
	free(body);
	free(file);
	return res;
}

/* Reads and opens object `id`. On success *plain holds the body (caller
 * frees) and *ka points into it. */
static TEE_Result load(const char *dir, const uint8_t tsk[TSK_LEN],
		       const uint8_t *id, size_t id_len, uint8_t **plain,
		       size_t *plain_len, struct key_attrs *ka)
{
	char path[PATH_MAX];
	uint8_t aad[MAGIC_LEN + 4 + TEE_OBJECT_ID_MAX_LEN];
	uint8_t *file = NULL, *body;
	size_t len = 0, body_len;

	if (object_path(path, sizeof(path), dir, id, id_len))
		return TEE_ERROR_STORAGE_NOT_AVAILABLE;
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
	make_aad(aad, id, id_len);
	if (gcm(0, tsk, file + MAGIC_LEN, aad, MAGIC_LEN + 4 + id_len,
		file + HDR_LEN, body_len, body, file + MAGIC_LEN + NONCE_LEN)) {
		OPENSSL_cleanse(body, body_len);
		free(body);
		free(file);
		return TEE_ERROR_CORRUPT_OBJECT;
	}
	free(file);
	ka->type = get_u32(body);
	ka->key_bits = get_u32(body + 4);
	ka->max_bits = get_u32(body + 8);
	ka->usage = get_u32(body + 12);
	ka->secret_len = get_u32(body + 16);
	ka->secret = body + BODY_FIXED;
	if (ka->secret_len > SIM_MAX_SECRET_BYTES ||
	    ka->secret_len > body_len - BODY_FIXED ||
	    ka->secret_len > (ka->max_bits + 7) / 8) {
		OPENSSL_cleanse(body, body_len);
		free(body);
		return TEE_ERROR_CORRUPT_OBJECT;
	}
	*plain = body;
	*plain_len = body_len;
	return TEE_SUCCESS;
}

/* ---------------------------------------------------------------------- */
/* Handles                                                                 */
/* ---------------------------------------------------------------------- */

static struct pnode *find_node(const char *dir, const uint8_t *id,
			       size_t id_len)
{
	struct pnode *n;

	for (n = g_nodes; n; n = n->next)
		if (n->id_len == id_len && !memcmp(n->id, id, id_len) &&
		    !strcmp(n->dir, dir))
			return n;
	return NULL;
}

/* GP sharing rules: if any handle on an object has ACCESS_READ, all must
 * have SHARE_READ (same for WRITE); ACCESS_WRITE_META is exclusive. */
static bool share_conflict(const struct pnode *n, uint32_t flags)
{
	const struct sim_pobj *h;
	uint32_t acc = flags & ACCESS_FLAGS, share = flags;

	for (h = n->handles; h; h = h->next) {
		acc |= h->flags & ACCESS_FLAGS;
		share &= h->flags;
	}
	if (acc & TEE_DATA_FLAG_ACCESS_WRITE_META)
		return true;
	if ((acc & TEE_DATA_FLAG_ACCESS_READ) &&
	    !(share & TEE_DATA_FLAG_SHARE_READ))
		return true;
	if ((acc & TEE_DATA_FLAG_ACCESS_WRITE) &&
	    !(share & TEE_DATA_FLAG_SHARE_WRITE))
		return true;
	return false;
}

static void free_node(struct pnode *n)
{
	struct pnode **pp;

	for (pp = &g_nodes; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	}
	if (n->data) {
		OPENSSL_cleanse(n->data, n->len);
		free(n->data);
	}
	OPENSSL_cleanse(n->tsk, sizeof(n->tsk));
	free(n);
}

/* Makes a handle on node `n` carrying key attributes `ka`. */
static TEE_Result new_handle(struct pnode *n, const struct key_attrs *ka,
			     uint32_t flags, TEE_ObjectHandle *out)
{
	TEE_ObjectHandle o = calloc(1, sizeof(*o));
	struct sim_pobj *p = calloc(1, sizeof(*p));

	if (!o || !p)
		goto oom;
	if (ka->type != TEE_TYPE_DATA) {
		o->secret = calloc(1, (ka->max_bits + 7) / 8 + 1);
		if (!o->secret)
			goto oom;
		memcpy(o->secret, ka->secret, ka->secret_len);
		o->secret_len = ka->secret_len;
	}
	o->magic = SIM_OBJ_MAGIC;
	o->type = ka->type;
	o->key_bits = ka->key_bits;
	o->max_bits = ka->max_bits;
	o->usage = ka->usage;
	o->flags = TEE_HANDLE_FLAG_PERSISTENT | TEE_HANDLE_FLAG_INITIALIZED |
		   (flags & ~TEE_DATA_FLAG_OVERWRITE);
	o->pobj = p;
	p->obj = o;
	p->node = n;
	p->flags = flags;
	p->next = n->handles;
	n->handles = p;
	*out = o;
	return TEE_SUCCESS;
oom:
	if (o)
		free(o->secret);
	free(o);
	free(p);
	return TEE_ERROR_OUT_OF_MEMORY;
}

static struct sim_pobj *pobj_of(TEE_ObjectHandle o)
{
	sim_obj_check(o);
	if (!o->pobj)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	return o->pobj;
}

static void check_id(uint32_t storageID, const void *id, size_t id_len,
		     uint32_t flags)
{
	(void)storageID;
	if ((!id && id_len) || id_len > TEE_OBJECT_ID_MAX_LEN ||
	    (flags & ~VALID_FLAGS))
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
}

static bool storage_known(uint32_t storageID)
{
	/* The simulator keeps one store; REE is OP-TEE's name for it. */
	return storageID == TEE_STORAGE_PRIVATE ||
	       storageID == TEE_STORAGE_PRIVATE_REE;
}

static struct key_attrs key_attrs_of(TEE_ObjectHandle o)
{
	struct key_attrs ka = { 0 };

	if (o == TEE_HANDLE_NULL || o->type == TEE_TYPE_DATA) {
		ka.type = TEE_TYPE_DATA;
		ka.usage = 0xFFFFFFFF;
		return ka;
	}
	ka.type = o->type;
	ka.key_bits = o->key_bits;
	ka.max_bits = o->max_bits;
	ka.usage = o->usage;
	ka.secret_len = o->secret_len;
	ka.secret = o->secret;
	return ka;
}

/* Rewrites the object behind handle `p` with new data (ownership of
 * `data` passes to the node on success). */
static TEE_Result commit(struct sim_pobj *p, uint8_t *data, size_t len)
{
	struct pnode *n = p->node;
	struct key_attrs ka = key_attrs_of(p->obj);
	TEE_Result res;

	res = store(n->dir, n->tsk, n->id, n->id_len, &ka, data, len, false);
	if (res != TEE_SUCCESS)
		return res;
	if (n->data) {
		OPENSSL_cleanse(n->data, n->len);
		free(n->data);
	}
	n->data = data;
	n->len = len;
	return TEE_SUCCESS;
}

/* ---------------------------------------------------------------------- */
/* Data objects of a given UUID, for the pseudo-TAs (sim_internal.h)       */
/* ---------------------------------------------------------------------- */

/* see sim_internal.h */
TEE_Result sim_storage_load_for_uuid(const TEE_UUID *uuid, const void *id,
				     size_t id_len, void **data, size_t *len)
{
	struct key_attrs ka;
	char dir[PATH_MAX];
	uint8_t tsk[TSK_LEN], *plain = NULL;
	size_t plain_len = 0;
	TEE_Result res;

	if (!uuid || (!id && id_len) || id_len > TEE_OBJECT_ID_MAX_LEN ||
	    !data || !len)
		return TEE_ERROR_BAD_PARAMETERS;
	res = uuid_storage(uuid, dir, tsk);
	if (res != TEE_SUCCESS)
		return res;
	res = load(dir, tsk, id, id_len, &plain, &plain_len, &ka);
	OPENSSL_cleanse(tsk, sizeof(tsk));
	if (res != TEE_SUCCESS)
		return res;
	if (ka.type != TEE_TYPE_DATA || ka.secret_len) {
		OPENSSL_cleanse(plain, plain_len);
		free(plain);
		return TEE_ERROR_CORRUPT_OBJECT;
	}
	/* Hand back the body's buffer with the data moved to its start; the
	 * bytes left behind at the end are wiped. */
	memmove(plain, plain + BODY_FIXED, plain_len - BODY_FIXED);
	OPENSSL_cleanse(plain + plain_len - BODY_FIXED, BODY_FIXED);
	*data = plain;
	*len = plain_len - BODY_FIXED;
	return TEE_SUCCESS;
}

/* see sim_internal.h */
TEE_Result sim_storage_store_for_uuid(const TEE_UUID *uuid, const void *id,
				      size_t id_len, const void *data,
				      size_t len, bool exclusive)
{
	struct key_attrs ka = key_attrs_of(TEE_HANDLE_NULL);
	char dir[PATH_MAX];
	uint8_t tsk[TSK_LEN];
	TEE_Result res;

	if (!uuid || (!id && id_len) || id_len > TEE_OBJECT_ID_MAX_LEN ||
	    (!data && len))
		return TEE_ERROR_BAD_PARAMETERS;
	if (len > TEE_DATA_MAX_POSITION)
		return TEE_ERROR_OVERFLOW;
	res = uuid_storage(uuid, dir, tsk);
	if (res != TEE_SUCCESS)
		return res;
	pthread_mutex_lock(&g_lock);
	/* As TEE_CreatePersistentObject: an open object cannot be replaced. */
	if (find_node(dir, id, id_len))
		res = TEE_ERROR_ACCESS_CONFLICT;
	else
		res = store(dir, tsk, id, id_len, &ka, data, len, exclusive);
	pthread_mutex_unlock(&g_lock);
	OPENSSL_cleanse(tsk, sizeof(tsk));
	return res;
}

/* ---------------------------------------------------------------------- */
/* GP API                                                                  */
/* ---------------------------------------------------------------------- */

TEE_Result TEE_CreatePersistentObject(uint32_t storageID, const void *objectID,
				      size_t objectIDLen, uint32_t flags,
				      TEE_ObjectHandle attributes,
				      const void *initialData,
				      size_t initialDataLen,
				      TEE_ObjectHandle *object)
{
	struct key_attrs ka;
	struct pnode *n = NULL;
	TEE_Result res;
	char dir[PATH_MAX];
	uint8_t tsk[TSK_LEN];

	if (object)
		*object = TEE_HANDLE_NULL;
	check_id(storageID, objectID, objectIDLen, flags);
	if (!initialData && initialDataLen)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (attributes != TEE_HANDLE_NULL) {
		sim_obj_check(attributes);
		if (!(attributes->flags & TEE_HANDLE_FLAG_INITIALIZED))
			TEE_Panic(TEE_ERROR_BAD_STATE);
	}
	if (initialDataLen > TEE_DATA_MAX_POSITION)
		return TEE_ERROR_OVERFLOW;
	if (!storage_known(storageID))
		return TEE_ERROR_ITEM_NOT_FOUND;
	res = ta_storage(dir, tsk);
	if (res != TEE_SUCCESS)
		return res;
	ka = key_attrs_of(attributes);

	pthread_mutex_lock(&g_lock);
	/* An object that is open cannot be replaced. */
	if (find_node(dir, objectID, objectIDLen)) {
		res = TEE_ERROR_ACCESS_CONFLICT;
		goto out;
	}
	res = store(dir, tsk, objectID, objectIDLen, &ka, initialData,
		    initialDataLen, !(flags & TEE_DATA_FLAG_OVERWRITE));
	if (res != TEE_SUCCESS || !object)
		goto out;

	n = calloc(1, sizeof(*n));
	if (!n || (initialDataLen && !(n->data = malloc(initialDataLen)))) {
		res = TEE_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	memcpy(n->dir, dir, sizeof(dir));
	memcpy(n->tsk, tsk, sizeof(tsk));
	memcpy(n->id, objectID, objectIDLen);
	n->id_len = objectIDLen;
	if (initialDataLen)
		memcpy(n->data, initialData, initialDataLen);
	n->len = initialDataLen;
	res = new_handle(n, &ka, flags, object);
	if (res != TEE_SUCCESS)
		goto out;
	n->next = g_nodes;
	g_nodes = n;
	n = NULL;
out:
	if (n) {
		free(n->data);
		free(n);
	}
	pthread_mutex_unlock(&g_lock);
	OPENSSL_cleanse(tsk, sizeof(tsk));
	return res;
}

TEE_Result TEE_OpenPersistentObject(uint32_t storageID, const void *objectID,
				    size_t objectIDLen, uint32_t flags,
				    TEE_ObjectHandle *object)
{
	struct key_attrs ka;
	struct pnode *n;
	uint8_t *plain = NULL;
	size_t plain_len = 0, data_off;
	TEE_Result res;
	char dir[PATH_MAX];
	uint8_t tsk[TSK_LEN];
	bool fresh = false;

	if (!object)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	*object = TEE_HANDLE_NULL;
	check_id(storageID, objectID, objectIDLen, flags);
	if (flags & TEE_DATA_FLAG_OVERWRITE)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (!storage_known(storageID))
		return TEE_ERROR_ITEM_NOT_FOUND;
	res = ta_storage(dir, tsk);
	if (res != TEE_SUCCESS)
		return res;

	pthread_mutex_lock(&g_lock);
	n = find_node(dir, objectID, objectIDLen);
	if (n && share_conflict(n, flags)) {
		res = TEE_ERROR_ACCESS_CONFLICT;
		goto out;
	}
	/* Key attributes are immutable: re-read them from the file even when
	 * the object is open, so a tampered file is noticed. */
	res = load(dir, tsk, objectID, objectIDLen, &plain, &plain_len, &ka);
	if (res != TEE_SUCCESS)
		goto out;
	if (!n) {
		data_off = BODY_FIXED + ka.secret_len;
		n = calloc(1, sizeof(*n));
		if (!n) {
			res = TEE_ERROR_OUT_OF_MEMORY;
			goto out;
		}
		fresh = true;
		memcpy(n->dir, dir, sizeof(dir));
		memcpy(n->tsk, tsk, sizeof(tsk));
		memcpy(n->id, objectID, objectIDLen);
		n->id_len = objectIDLen;
		n->len = plain_len - data_off;
		if (n->len) {
			n->data = malloc(n->len);
			if (!n->data) {
				res = TEE_ERROR_OUT_OF_MEMORY;
				goto out;
			}
			memcpy(n->data, plain + data_off, n->len);
		}
	}
	res = new_handle(n, &ka, flags, object);
	if (res == TEE_SUCCESS && fresh) {
		n->next = g_nodes;
		g_nodes = n;
		fresh = false;
	}
out:
	if (fresh) {
		free(n->data);
		free(n);
	}
	if (plain) {
		OPENSSL_cleanse(plain, plain_len);
		free(plain);
	}
	pthread_mutex_unlock(&g_lock);
	OPENSSL_cleanse(tsk, sizeof(tsk));
	return res;
}

/* Unlinks handle `p` from its node and frees both as needed. */
static void close_locked(struct sim_pobj *p)
{
	struct pnode *n = p->node;
	struct sim_pobj **pp;

	for (pp = &n->handles; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	if (!n->handles)
		free_node(n);
	p->obj->pobj = NULL;
	sim_obj_free_handle(p->obj);
	free(p);
}

void sim_pobj_close(TEE_ObjectHandle o)
{
	struct sim_pobj *p = pobj_of(o);

	pthread_mutex_lock(&g_lock);
	close_locked(p);
	pthread_mutex_unlock(&g_lock);
}

void sim_pobj_fill_info(TEE_ObjectHandle o, TEE_ObjectInfo *info)
{
	struct sim_pobj *p = o->pobj;

	info->dataSize = p->node->len;
	info->dataPosition = p->pos;
}

TEE_Result TEE_CloseAndDeletePersistentObject1(TEE_ObjectHandle object)
{
	struct sim_pobj *p;
	char path[PATH_MAX];
	TEE_Result res = TEE_SUCCESS;

	if (object == TEE_HANDLE_NULL)
		return TEE_SUCCESS;
	p = pobj_of(object);
	if (!(p->flags & TEE_DATA_FLAG_ACCESS_WRITE_META))
		TEE_Panic(TEE_ERROR_ACCESS_CONFLICT);
	pthread_mutex_lock(&g_lock);
	if (object_path(path, sizeof(path), p->node->dir, p->node->id,
			p->node->id_len) ||
	    (unlink(path) && errno != ENOENT))
		res = TEE_ERROR_STORAGE_NOT_AVAILABLE;
	else
		sync_dir(p->node->dir);
	close_locked(p);
	pthread_mutex_unlock(&g_lock);
	return res;
}

void TEE_CloseAndDeletePersistentObject(TEE_ObjectHandle object)
{
	(void)TEE_CloseAndDeletePersistentObject1(object);
}

TEE_Result TEE_RenamePersistentObject(TEE_ObjectHandle object,
				      const void *newObjectID,
				      size_t newObjectIDLen)
{
	struct sim_pobj *p = pobj_of(object);
	struct pnode *n = p->node;
	struct key_attrs ka;
	char old_path[PATH_MAX];
	TEE_Result res;

	if (!(p->flags & TEE_DATA_FLAG_ACCESS_WRITE_META))
		TEE_Panic(TEE_ERROR_ACCESS_CONFLICT);
	check_id(TEE_STORAGE_PRIVATE, newObjectID, newObjectIDLen, 0);
	if (newObjectIDLen == n->id_len &&
	    !memcmp(newObjectID, n->id, newObjectIDLen))
		return TEE_SUCCESS;

	pthread_mutex_lock(&g_lock);
	if (find_node(n->dir, newObjectID, newObjectIDLen)) {
		res = TEE_ERROR_ACCESS_CONFLICT;
		goto out;
	}
	if (object_path(old_path, sizeof(old_path), n->dir, n->id,
			n->id_len)) {
		res = TEE_ERROR_STORAGE_NOT_AVAILABLE;
		goto out;
	}
	/* The id is bound into the seal: write the new file (failing if the
	 * name is taken), then drop the old one. */
	ka = key_attrs_of(object);
	res = store(n->dir, n->tsk, newObjectID, newObjectIDLen, &ka, n->data,
		    n->len, true);
	if (res != TEE_SUCCESS)
		goto out;
	unlink(old_path);
	sync_dir(n->dir);
	memcpy(n->id, newObjectID, newObjectIDLen);
	n->id_len = newObjectIDLen;
out:
	pthread_mutex_unlock(&g_lock);
	return res;
}

TEE_Result TEE_ReadObjectData(TEE_ObjectHandle object, void *buffer,
			      size_t size, size_t *count)
{
	struct sim_pobj *p = pobj_of(object);
	size_t n = 0;

	if (!(p->flags & TEE_DATA_FLAG_ACCESS_READ) || !count ||
	    (!buffer && size))
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	pthread_mutex_lock(&g_lock);
	if (p->pos < p->node->len) {
		n = p->node->len - p->pos;
		if (n > size)
			n = size;
		memcpy(buffer, p->node->data + p->pos, n);
		p->pos += n;
	}
	pthread_mutex_unlock(&g_lock);
	*count = n;
	return TEE_SUCCESS;
}

TEE_Result TEE_WriteObjectData(TEE_ObjectHandle object, const void *buffer,
			       size_t size)
{
	struct sim_pobj *p = pobj_of(object);
	struct pnode *n;
	size_t new_len;
	uint8_t *data;
	TEE_Result res;

	if (!(p->flags & TEE_DATA_FLAG_ACCESS_WRITE) || (!buffer && size))
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (!size)
		return TEE_SUCCESS;
	if (p->pos > TEE_DATA_MAX_POSITION ||
	    size > TEE_DATA_MAX_POSITION - p->pos)
		return TEE_ERROR_OVERFLOW;

	pthread_mutex_lock(&g_lock);
	n = p->node;
	new_len = p->pos + size > n->len ? p->pos + size : n->len;
	data = calloc(1, new_len);
	if (!data) {
		res = TEE_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	if (n->len)
		memcpy(data, n->data, n->len);
	memcpy(data + p->pos, buffer, size);
	res = commit(p, data, new_len);
	if (res == TEE_SUCCESS)
		p->pos += size;
	else
		free(data);
out:
	pthread_mutex_unlock(&g_lock);
	return res;
}

TEE_Result TEE_TruncateObjectData(TEE_ObjectHandle object, size_t size)
{
	struct sim_pobj *p = pobj_of(object);
	struct pnode *n;
	uint8_t *data = NULL;
	TEE_Result res;

	if (!(p->flags & TEE_DATA_FLAG_ACCESS_WRITE))
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (size > TEE_DATA_MAX_POSITION)
		return TEE_ERROR_OVERFLOW;

	pthread_mutex_lock(&g_lock);
	n = p->node;
	if (size) {
		data = calloc(1, size);
		if (!data) {
			res = TEE_ERROR_OUT_OF_MEMORY;
			goto out;
		}
		memcpy(data, n->data, size < n->len ? size : n->len);
	}
	res = commit(p, data, size);
	if (res != TEE_SUCCESS)
		free(data);
out:
	pthread_mutex_unlock(&g_lock);
	return res;
}

TEE_Result TEE_SeekObjectData(TEE_ObjectHandle object, intmax_t offset,
			      TEE_Whence whence)
{
	struct sim_pobj *p = pobj_of(object);
	intmax_t base;

	switch (whence) {
	case TEE_DATA_SEEK_SET:
		base = 0;
		break;
	case TEE_DATA_SEEK_CUR:
		base = (intmax_t)p->pos;
		break;
	case TEE_DATA_SEEK_END:
		pthread_mutex_lock(&g_lock);
		base = (intmax_t)p->node->len;
		pthread_mutex_unlock(&g_lock);
		break;
	default:
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	}
	/* base <= TEE_DATA_MAX_POSITION, so these cannot overflow intmax_t. */
	if (offset > (intmax_t)TEE_DATA_MAX_POSITION - base)
		return TEE_ERROR_OVERFLOW;
	/* A position before the start is clamped to 0, as in OP-TEE. */
	p->pos = offset < -base ? 0 : (size_t)(base + offset);
	return TEE_SUCCESS;
}

/* ---------------------------------------------------------------------- */
/* Enumerators                                                             */
/* ---------------------------------------------------------------------- */

#define SIM_ENUM_MAGIC	0x454e554du	/* "ENUM" */

struct __TEE_ObjectEnumHandle {
	uint32_t magic;
	DIR *d;
	char dir[PATH_MAX];
	uint8_t tsk[TSK_LEN];
};

static void enum_check(TEE_ObjectEnumHandle e)
{
	if (!e || e->magic != SIM_ENUM_MAGIC)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
}

TEE_Result TEE_AllocatePersistentObjectEnumerator(TEE_ObjectEnumHandle *
						  objectEnumerator)
{
	TEE_ObjectEnumHandle e;

	if (!objectEnumerator)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	e = calloc(1, sizeof(*e));
	if (!e) {
		*objectEnumerator = TEE_HANDLE_NULL;
		return TEE_ERROR_OUT_OF_MEMORY;
	}
	e->magic = SIM_ENUM_MAGIC;
	*objectEnumerator = e;
	return TEE_SUCCESS;
}

void TEE_ResetPersistentObjectEnumerator(TEE_ObjectEnumHandle objectEnumerator)
{
	enum_check(objectEnumerator);
	if (objectEnumerator->d)
		closedir(objectEnumerator->d);
	objectEnumerator->d = NULL;
	OPENSSL_cleanse(objectEnumerator->tsk, TSK_LEN);
}

void TEE_FreePersistentObjectEnumerator(TEE_ObjectEnumHandle objectEnumerator)
{
	if (objectEnumerator == TEE_HANDLE_NULL)
		return;
	TEE_ResetPersistentObjectEnumerator(objectEnumerator);
	objectEnumerator->magic = SIM_OBJ_DEAD;
	free(objectEnumerator);
}

TEE_Result TEE_StartPersistentObjectEnumerator(TEE_ObjectEnumHandle
					       objectEnumerator,
					       uint32_t storageID)
{
	TEE_ObjectEnumHandle e = objectEnumerator;
	TEE_Result res;

	TEE_ResetPersistentObjectEnumerator(e);
	if (!storage_known(storageID))
		return TEE_ERROR_ITEM_NOT_FOUND;
	res = ta_storage(e->dir, e->tsk);
	if (res != TEE_SUCCESS)
		return res;
	e->d = opendir(e->dir);
	if (!e->d)
		return TEE_ERROR_STORAGE_NOT_AVAILABLE;
	return TEE_SUCCESS;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes an object file name; -1 for anything else (temp files, HUK). */
static int decode_name(const char *name, uint8_t *id, size_t *id_len)
{
	size_t n = strlen(name), i;

	if (!strcmp(name, "_")) {
		*id_len = 0;
		return 0;
	}
	if (n == 0 || n % 2 || n / 2 > TEE_OBJECT_ID_MAX_LEN)
		return -1;
	for (i = 0; i < n; i += 2) {
		int hi = hexval(name[i]), lo = hexval(name[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		id[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*id_len = n / 2;
	return 0;
}

TEE_Result TEE_GetNextPersistentObject(TEE_ObjectEnumHandle objectEnumerator,
				       TEE_ObjectInfo *objectInfo,
				       void *objectID, size_t *objectIDLen)
{
	TEE_ObjectEnumHandle e = objectEnumerator;
	uint8_t id[TEE_OBJECT_ID_MAX_LEN];
	size_t id_len = 0;
	struct dirent *de;

	enum_check(e);
	if (!objectID || !objectIDLen)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (!e->d)
		return TEE_ERROR_ITEM_NOT_FOUND;
	while ((de = readdir(e->d))) {
		struct key_attrs ka;
		uint8_t *plain = NULL;
		size_t plain_len = 0;
		TEE_Result res;

		if (decode_name(de->d_name, id, &id_len))
			continue;
		if (*objectIDLen < id_len)
			TEE_Panic(TEE_ERROR_SHORT_BUFFER);
		if (objectInfo) {
			res = load(e->dir, e->tsk, id, id_len, &plain,
				   &plain_len, &ka);
			if (res == TEE_ERROR_ITEM_NOT_FOUND)
				continue;	/* deleted meanwhile */
			if (res != TEE_SUCCESS)
				return res;
			memset(objectInfo, 0, sizeof(*objectInfo));
			objectInfo->objectType = ka.type;
			objectInfo->objectSize = ka.key_bits;
			objectInfo->maxObjectSize = ka.max_bits;
			objectInfo->objectUsage = ka.usage;
			objectInfo->dataSize = plain_len - BODY_FIXED -
					       ka.secret_len;
			objectInfo->handleFlags = TEE_HANDLE_FLAG_PERSISTENT |
						  TEE_HANDLE_FLAG_INITIALIZED;
			OPENSSL_cleanse(plain, plain_len);
			free(plain);
		}
		memcpy(objectID, id, id_len);
		*objectIDLen = id_len;
		return TEE_SUCCESS;
	}
	return TEE_ERROR_ITEM_NOT_FOUND;
}

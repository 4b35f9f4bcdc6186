/*
 * test_storage.c - tests of the simulator's GP persistent objects: round
 * trip, overwrite, not found, rename, delete, data stream semantics,
 * sharing conflicts, tamper detection, per-UUID isolation, key objects,
 * file permissions and that no plaintext reaches the disk.
 *
 * Runs in $TEESPARK_SIM_STORAGE_DIR, which the make target points at a
 * fresh directory under $(BUILD).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim_internal.h"
#include "test_util.h"

static const TEE_UUID uuid_a = { 0x11111111, 0x2222, 0x3333,
	{ 0x44, 0x44, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55 } };
static const TEE_UUID uuid_b = { 0xaaaaaaaa, 0xbbbb, 0xcccc,
	{ 0xdd, 0xdd, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee } };
#define DIR_A "11111111-2222-3333-4444-555555555555"
#define DIR_B "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"

static const char *base;

#define RW (TEE_DATA_FLAG_ACCESS_READ | TEE_DATA_FLAG_ACCESS_WRITE)
#define ALL (RW | TEE_DATA_FLAG_ACCESS_WRITE_META)

static void use_uuid(const TEE_UUID *u)
{
	test_uuid = *u;
	test_uuid_valid = 1;
}

static void path_of(char *buf, size_t n, const char *dir, const char *hexid)
{
	snprintf(buf, n, "%s/%s/%s", base, dir, hexid);
}

static int file_exists(const char *dir, const char *hexid)
{
	char p[4096];

	path_of(p, sizeof(p), dir, hexid);
	return access(p, F_OK) == 0;
}

static size_t read_file(const char *p, uint8_t *buf, size_t cap)
{
	int fd = open(p, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, cap);
	close(fd);
	return n > 0 ? (size_t)n : 0;
}

static void write_file(const char *p, const uint8_t *buf, size_t n)
{
	int fd = open(p, O_WRONLY | O_TRUNC);

	CHECK(fd >= 0 && write(fd, buf, n) == (ssize_t)n);
	if (fd >= 0)
		close(fd);
}

/* Reads the whole object through a fresh handle. */
static TEE_Result read_obj(const char *id, uint8_t *buf, size_t cap,
			   size_t *len)
{
	TEE_ObjectHandle o;
	TEE_Result r = TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, id,
						strlen(id),
						TEE_DATA_FLAG_ACCESS_READ, &o);

	if (r != TEE_SUCCESS)
		return r;
	CHECK_RES(TEE_ReadObjectData(o, buf, cap, len), TEE_SUCCESS);
	TEE_CloseObject(o);
	return TEE_SUCCESS;
}

static void test_round_trip(void)
{
	TEE_ObjectHandle o = TEE_HANDLE_NULL;
	TEE_ObjectInfo info;
	uint8_t buf[100];
	size_t n;
	char p[4096];
	struct stat st;

	use_uuid(&uuid_a);
	CHECK_RES(TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, "model", 5,
					     ALL, TEE_HANDLE_NULL,
					     "secret-model-v1", 15, &o),
		  TEE_SUCCESS);
	CHECK_RES(TEE_GetObjectInfo1(o, &info), TEE_SUCCESS);
	CHECK(info.objectType == TEE_TYPE_DATA && info.dataSize == 15 &&
	      info.dataPosition == 0 &&
	      (info.handleFlags & TEE_HANDLE_FLAG_PERSISTENT) &&
	      (info.handleFlags & TEE_DATA_FLAG_ACCESS_WRITE));
	TEE_CloseObject(o);

	/* hex("model") as the file name, 0600 in a 0700 directory. */
	CHECK(file_exists(DIR_A, "6d6f64656c"));
	path_of(p, sizeof(p), DIR_A, "6d6f64656c");
	CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
	snprintf(p, sizeof(p), "%s/%s", base, DIR_A);
	CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0700);
	snprintf(p, sizeof(p), "%s/sim-huk", base);
	CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600 &&
	      st.st_size == 32);

	/* No plaintext on disk. */
	path_of(p, sizeof(p), DIR_A, "6d6f64656c");
	n = read_file(p, buf, sizeof(buf));
	CHECK(n > 15 && !memmem(buf, n, "secret-model", 12));

	n = 0;
	CHECK_RES(read_obj("model", buf, sizeof(buf), &n), TEE_SUCCESS);
	CHECK(n == 15 && !memcmp(buf, "secret-model-v1", 15));

	/* Not found; unknown storage ids; REE id is the same store. */
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, "nope", 4,
					   TEE_DATA_FLAG_ACCESS_READ, &o),
		  TEE_ERROR_ITEM_NOT_FOUND);
	CHECK(o == TEE_HANDLE_NULL);
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE_RPMB, "model",
					   5, TEE_DATA_FLAG_ACCESS_READ, &o),
		  TEE_ERROR_ITEM_NOT_FOUND);
	CHECK_RES(TEE_OpenPersistentObject(7, "model", 5,
					   TEE_DATA_FLAG_ACCESS_READ, &o),
		  TEE_ERROR_ITEM_NOT_FOUND);
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE_REE, "model", 5,
					   TEE_DATA_FLAG_ACCESS_READ, &o),
		  TEE_SUCCESS);
	TEE_CloseObject(o);

	/* Create over an existing object: conflict without OVERWRITE. */
	CHECK_RES(TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, "model", 5,
					     ALL, TEE_HANDLE_NULL, "x", 1, &o),
		  TEE_ERROR_ACCESS_CONFLICT);
	n = 0;
	CHECK_RES(read_obj("model", buf, sizeof(buf), &n), TEE_SUCCESS);
	CHECK(n == 15);
	CHECK_RES(TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, "model", 5,
					     ALL | TEE_DATA_FLAG_OVERWRITE,
					     TEE_HANDLE_NULL, "v2", 2, NULL),
		  TEE_SUCCESS);
	n = 0;
	CHECK_RES(read_obj("model", buf, sizeof(buf), &n), TEE_SUCCESS);
	CHECK(n == 2 && !memcmp(buf, "v2", 2));

	/* Too long an id is a programmer error. */
	memset(buf, 'i', sizeof(buf));
	EXPECT_PANIC(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, buf, 65,
					      TEE_DATA_FLAG_ACCESS_READ, &o));
	CHECK_RES(TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, buf, 64,
					     ALL, TEE_HANDLE_NULL, NULL, 0,
					     &o), TEE_SUCCESS);
	CHECK_RES(TEE_CloseAndDeletePersistentObject1(o), TEE_SUCCESS);
}

static void test_stream(void)
{
	TEE_ObjectHandle o = TEE_HANDLE_NULL, r = TEE_HANDLE_NULL;
	TEE_ObjectInfo info;
	uint8_t buf[64];
	size_t n;

	use_uuid(&uuid_a);
	CHECK_RES(TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, "s", 1, ALL,
					     TEE_HANDLE_NULL, "hello", 5, &o),
		  TEE_SUCCESS);
	/* Write at position 0 (creation leaves the position at 0). */
	CHECK_RES(TEE_WriteObjectData(o, "HE", 2), TEE_SUCCESS);
	/* Seek past the end and write: the gap reads as zeroes. */
	CHECK_RES(TEE_SeekObjectData(o, 3, TEE_DATA_SEEK_END), TEE_SUCCESS);
	CHECK_RES(TEE_WriteObjectData(o, "!", 1), TEE_SUCCESS);
	CHECK_RES(TEE_GetObjectInfo1(o, &info), TEE_SUCCESS);
	CHECK(info.dataSize == 9 && info.dataPosition == 9);
	CHECK_RES(TEE_SeekObjectData(o, -100, TEE_DATA_SEEK_CUR), TEE_SUCCESS);
	n = 0;
	CHECK_RES(TEE_ReadObjectData(o, buf, sizeof(buf), &n), TEE_SUCCESS);
	CHECK(n == 9 && !memcmp(buf, "HEllo\0\0\0!", 9));
	/* At the end: zero bytes. */
	CHECK_RES(TEE_ReadObjectData(o, buf, sizeof(buf), &n), TEE_SUCCESS);
	CHECK(n == 0);
	CHECK_RES(TEE_SeekObjectData(o, (intmax_t)TEE_DATA_MAX_POSITION + 1,
				     TEE_DATA_SEEK_SET), TEE_ERROR_OVERFLOW);
	CHECK_RES(TEE_SeekObjectData(o, TEE_DATA_MAX_POSITION,
				     TEE_DATA_SEEK_SET), TEE_SUCCESS);
	CHECK_RES(TEE_WriteObjectData(o, "x", 1), TEE_ERROR_OVERFLOW);
	/* Truncate shrinks and grows; the position is unchanged. */
	CHECK_RES(TEE_SeekObjectData(o, 1, TEE_DATA_SEEK_SET), TEE_SUCCESS);
	CHECK_RES(TEE_TruncateObjectData(o, 3), TEE_SUCCESS);
	CHECK_RES(TEE_TruncateObjectData(o, 6), TEE_SUCCESS);
	CHECK_RES(TEE_GetObjectInfo1(o, &info), TEE_SUCCESS);
	CHECK(info.dataSize == 6 && info.dataPosition == 1);
	TEE_CloseObject(o);

	/* Persisted: a fresh handle sees the last state. */
	n = 0;
	CHECK_RES(read_obj("s", buf, sizeof(buf), &n), TEE_SUCCESS);
	CHECK(n == 6 && !memcmp(buf, "HEl\0\0\0", 6));

	/* Access rights: writing through a read-only handle panics. */
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, "s", 1,
					   TEE_DATA_FLAG_ACCESS_READ |
					   TEE_DATA_FLAG_SHARE_READ, &r),
		  TEE_SUCCESS);
	EXPECT_PANIC(TEE_WriteObjectData(r, "x", 1));
	EXPECT_PANIC(TEE_CloseAndDeletePersistentObject1(r));
	EXPECT_PANIC(TEE_RenamePersistentObject(r, "t", 1));
	EXPECT_PANIC(TEE_SeekObjectData(r, 0, 9));

	/* Sharing: a second reader needs SHARE_READ on both handles. */
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, "s", 1,
					   TEE_DATA_FLAG_ACCESS_READ, &o),
		  TEE_ERROR_ACCESS_CONFLICT);
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, "s", 1,
					   TEE_DATA_FLAG_ACCESS_READ |
					   TEE_DATA_FLAG_SHARE_READ, &o),
		  TEE_SUCCESS);
	TEE_CloseObject(o);
	/* A writer while a reader does not share writes: conflict. */
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, "s", 1,
					   TEE_DATA_FLAG_ACCESS_WRITE |
					   TEE_DATA_FLAG_SHARE_READ, &o),
		  TEE_ERROR_ACCESS_CONFLICT);
	/* WRITE_META is exclusive; creating over an open object too. */
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, "s", 1,
					   TEE_DATA_FLAG_ACCESS_WRITE_META |
					   TEE_DATA_FLAG_SHARE_READ, &o),
		  TEE_ERROR_ACCESS_CONFLICT);
	CHECK_RES(TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, "s", 1,
					     ALL | TEE_DATA_FLAG_OVERWRITE,
					     TEE_HANDLE_NULL, NULL, 0, &o),
		  TEE_ERROR_ACCESS_CONFLICT);
	TEE_CloseObject(r);
	/* Closed: exclusive access works again. */
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, "s", 1, ALL,
					   &o), TEE_SUCCESS);
	CHECK_RES(TEE_CloseAndDeletePersistentObject1(o), TEE_SUCCESS);
	CHECK(!file_exists(DIR_A, "73"));
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, "s", 1,
					   TEE_DATA_FLAG_ACCESS_READ, &o),
		  TEE_ERROR_ITEM_NOT_FOUND);
	CHECK_RES(TEE_CloseAndDeletePersistentObject1(TEE_HANDLE_NULL),
		  TEE_SUCCESS);
}

/* Two handles sharing an object see each other's writes. */
static void test_shared_handles(void)
{
	TEE_ObjectHandle w = TEE_HANDLE_NULL, r = TEE_HANDLE_NULL;
	uint32_t f = RW | TEE_DATA_FLAG_SHARE_READ | TEE_DATA_FLAG_SHARE_WRITE;
	uint8_t buf[16];
	size_t n = 0;

	use_uuid(&uuid_a);
	CHECK_RES(TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, "sh", 2, f,
					     TEE_HANDLE_NULL, "abc", 3, &w),
		  TEE_SUCCESS);
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, "sh", 2, f,
					   &r), TEE_SUCCESS);
	CHECK_RES(TEE_SeekObjectData(w, 0, TEE_DATA_SEEK_END), TEE_SUCCESS);
	CHECK_RES(TEE_WriteObjectData(w, "def", 3), TEE_SUCCESS);
	CHECK_RES(TEE_ReadObjectData(r, buf, sizeof(buf), &n), TEE_SUCCESS);
	CHECK(n == 6 && !memcmp(buf, "abcdef", 6));
	TEE_CloseObject(w);
	TEE_CloseObject(r);
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, "sh", 2, ALL,
					   &w), TEE_SUCCESS);
	TEE_CloseAndDeletePersistentObject(w);
}

static void test_rename(void)
{
	TEE_ObjectHandle o = TEE_HANDLE_NULL, o2 = TEE_HANDLE_NULL;
	uint8_t buf[16];
	size_t n = 0;

	use_uuid(&uuid_a);
	CHECK_RES(TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, "old", 3,
					     ALL, TEE_HANDLE_NULL, "data", 4,
					     &o), TEE_SUCCESS);
	CHECK_RES(TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, "taken", 5,
					     ALL, TEE_HANDLE_NULL, "t", 1,
					     &o2), TEE_SUCCESS);
	TEE_CloseObject(o2);
	CHECK_RES(TEE_RenamePersistentObject(o, "taken", 5),
		  TEE_ERROR_ACCESS_CONFLICT);
	CHECK_RES(TEE_RenamePersistentObject(o, "new", 3), TEE_SUCCESS);
	/* The handle stays usable under its new name. */
	CHECK_RES(TEE_WriteObjectData(o, "D", 1), TEE_SUCCESS);
	TEE_CloseObject(o);
	CHECK(!file_exists(DIR_A, "6f6c64"));
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, "old", 3,
					   TEE_DATA_FLAG_ACCESS_READ, &o),
		  TEE_ERROR_ITEM_NOT_FOUND);
	CHECK_RES(read_obj("new", buf, sizeof(buf), &n), TEE_SUCCESS);
	CHECK(n == 4 && !memcmp(buf, "Data", 4));
	n = 0;
	CHECK_RES(read_obj("taken", buf, sizeof(buf), &n), TEE_SUCCESS);
	CHECK(n == 1 && buf[0] == 't');
}

/* Modified, truncated or swapped files are detected. */
static void test_tamper(void)
{
	TEE_ObjectHandle o = TEE_HANDLE_NULL;
	uint8_t orig[256], buf[256], other[256];
	size_t len, olen, i, n;
	char p[4096], q[4096];

	use_uuid(&uuid_a);
	CHECK_RES(TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, "tamper", 6,
					     ALL | TEE_DATA_FLAG_OVERWRITE,
					     TEE_HANDLE_NULL, "0123456789",
					     10, NULL), TEE_SUCCESS);
	path_of(p, sizeof(p), DIR_A, "74616d706572");
	len = read_file(p, orig, sizeof(orig));
	CHECK(len > 36);

	/* Flip one bit at each position: magic, nonce, tag, body. */
	for (i = 0; i < len; i += 7) {
		memcpy(buf, orig, len);
		buf[i] ^= 0x04;
		write_file(p, buf, len);
		CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE,
						   "tamper", 6,
						   TEE_DATA_FLAG_ACCESS_READ,
						   &o),
			  TEE_ERROR_CORRUPT_OBJECT);
	}
	/* Truncated. */
	write_file(p, orig, len - 1);
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, "tamper", 6,
					   TEE_DATA_FLAG_ACCESS_READ, &o),
		  TEE_ERROR_CORRUPT_OBJECT);
	/* Negative control: the original opens. */
	write_file(p, orig, len);
	n = 0;
	CHECK_RES(read_obj("tamper", buf, sizeof(buf), &n), TEE_SUCCESS);
	CHECK(n == 10 && !memcmp(buf, "0123456789", 10));

	/* Another object's (valid) file, same id length, same data, under
	 * this name. */
	CHECK_RES(TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, "other1", 6,
					     ALL | TEE_DATA_FLAG_OVERWRITE,
					     TEE_HANDLE_NULL, "0123456789",
					     10, NULL), TEE_SUCCESS);
	path_of(q, sizeof(q), DIR_A, "6f7468657231");
	olen = read_file(q, other, sizeof(other));
	write_file(p, other, olen);
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, "tamper", 6,
					   TEE_DATA_FLAG_ACCESS_READ, &o),
		  TEE_ERROR_CORRUPT_OBJECT);
	write_file(p, orig, len);

	/* Copied into another TA's directory: that TA's key rejects it. */
	use_uuid(&uuid_b);
	CHECK_RES(TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, "tamper", 6,
					     ALL | TEE_DATA_FLAG_OVERWRITE,
					     TEE_HANDLE_NULL, "b", 1, NULL),
		  TEE_SUCCESS);
	path_of(q, sizeof(q), DIR_B, "74616d706572");
	write_file(q, orig, len);
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, "tamper", 6,
					   TEE_DATA_FLAG_ACCESS_READ, &o),
		  TEE_ERROR_CORRUPT_OBJECT);
	unlink(q);
}

static void test_isolation(void)
{
	TEE_ObjectHandle o = TEE_HANDLE_NULL;
	uint8_t buf[16];
	size_t n = 0;

	use_uuid(&uuid_a);
	CHECK_RES(TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, "mine", 4,
					     ALL | TEE_DATA_FLAG_OVERWRITE,
					     TEE_HANDLE_NULL, "A", 1, NULL),
		  TEE_SUCCESS);
	use_uuid(&uuid_b);
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, "mine", 4,
					   TEE_DATA_FLAG_ACCESS_READ, &o),
		  TEE_ERROR_ITEM_NOT_FOUND);
	/* B's own object of the same name is separate. */
	CHECK_RES(TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, "mine", 4,
					     ALL, TEE_HANDLE_NULL, "B", 1,
					     NULL), TEE_SUCCESS);
	CHECK_RES(read_obj("mine", buf, sizeof(buf), &n), TEE_SUCCESS);
	CHECK(n == 1 && buf[0] == 'B');
	use_uuid(&uuid_a);
	CHECK_RES(read_obj("mine", buf, sizeof(buf), &n), TEE_SUCCESS);
	CHECK(n == 1 && buf[0] == 'A');
	CHECK(file_exists(DIR_A, "6d696e65") && file_exists(DIR_B, "6d696e65"));

	/* No TA identity: storage unavailable, nothing shared. */
	test_uuid_valid = 0;
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, "mine", 4,
					   TEE_DATA_FLAG_ACCESS_READ, &o),
		  TEE_ERROR_STORAGE_NOT_AVAILABLE);
	CHECK_RES(TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, "mine", 4,
					     ALL, TEE_HANDLE_NULL, NULL, 0,
					     NULL),
		  TEE_ERROR_STORAGE_NOT_AVAILABLE);
	use_uuid(&uuid_a);
}

/* A persistent AES key object keys an operation like its transient
 * source. */
static void test_key_object(void)
{
	TEE_ObjectHandle t = TEE_HANDLE_NULL, p = TEE_HANDLE_NULL;
	TEE_OperationHandle op1, op2;
	TEE_ObjectInfo info;
	uint8_t iv[12] = { 9 }, pt[32] = { 1, 2, 3 }, c1[32], c2[32];
	uint8_t t1[16], t2[16];
	size_t n, tl;

	use_uuid(&uuid_a);
	CHECK_RES(TEE_AllocateTransientObject(TEE_TYPE_AES, 256, &t),
		  TEE_SUCCESS);
	CHECK_RES(TEE_GenerateKey(t, 256, NULL, 0), TEE_SUCCESS);
	CHECK_RES(TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, "key", 3,
					     TEE_DATA_FLAG_ACCESS_READ |
					     TEE_DATA_FLAG_OVERWRITE, t, NULL,
					     0, NULL), TEE_SUCCESS);
	CHECK_RES(TEE_OpenPersistentObject(TEE_STORAGE_PRIVATE, "key", 3,
					   TEE_DATA_FLAG_ACCESS_READ, &p),
		  TEE_SUCCESS);
	CHECK_RES(TEE_GetObjectInfo1(p, &info), TEE_SUCCESS);
	CHECK(info.objectType == TEE_TYPE_AES && info.objectSize == 256 &&
	      (info.handleFlags & TEE_HANDLE_FLAG_PERSISTENT));

	CHECK_RES(TEE_AllocateOperation(&op1, TEE_ALG_AES_GCM,
					TEE_MODE_ENCRYPT, 256), TEE_SUCCESS);
	CHECK_RES(TEE_AllocateOperation(&op2, TEE_ALG_AES_GCM,
					TEE_MODE_ENCRYPT, 256), TEE_SUCCESS);
	CHECK_RES(TEE_SetOperationKey(op1, t), TEE_SUCCESS);
	CHECK_RES(TEE_SetOperationKey(op2, p), TEE_SUCCESS);
	CHECK_RES(TEE_AEInit(op1, iv, 12, 128, 0, 0), TEE_SUCCESS);
	CHECK_RES(TEE_AEInit(op2, iv, 12, 128, 0, 0), TEE_SUCCESS);
	n = sizeof(c1);
	tl = 16;
	CHECK_RES(TEE_AEEncryptFinal(op1, pt, 32, c1, &n, t1, &tl),
		  TEE_SUCCESS);
	n = sizeof(c2);
	tl = 16;
	CHECK_RES(TEE_AEEncryptFinal(op2, pt, 32, c2, &n, t2, &tl),
		  TEE_SUCCESS);
	CHECK_MEM(c1, c2, 32);
	CHECK_MEM(t1, t2, 16);
	EXPECT_PANIC(TEE_FreeTransientObject(p));	/* not transient */
	TEE_FreeOperation(op1);
	TEE_FreeOperation(op2);
	TEE_CloseObject(p);
	TEE_FreeTransientObject(t);
}

/* Enumeration lists exactly this TA's objects, with their info. */
static void test_enumerate(void)
{
	static const TEE_UUID uuid_c = { 0xc0c0c0c0, 0x0001, 0x0002,
		{ 3, 3, 3, 3, 3, 3, 3, 3 } };
	TEE_ObjectEnumHandle e = TEE_HANDLE_NULL;
	TEE_ObjectInfo info;
	uint8_t id[TEE_OBJECT_ID_MAX_LEN];
	size_t id_len;
	int seen_e1 = 0, seen_e22 = 0, seen_empty = 0, other = 0, round;
	char p[4096];
	int fd;

	use_uuid(&uuid_c);
	CHECK_RES(TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, "e1", 2, ALL,
					     TEE_HANDLE_NULL, "1", 1, NULL),
		  TEE_SUCCESS);
	CHECK_RES(TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, "e22", 3,
					     ALL, TEE_HANDLE_NULL, "22", 2,
					     NULL), TEE_SUCCESS);
	CHECK_RES(TEE_CreatePersistentObject(TEE_STORAGE_PRIVATE, "", 0, ALL,
					     TEE_HANDLE_NULL, NULL, 0, NULL),
		  TEE_SUCCESS);
	/* Stray files that are not objects are skipped. */
	snprintf(p, sizeof(p), "%s/c0c0c0c0-0001-0002-0303-030303030303/"
		 "tmp-junk", base);
	fd = open(p, O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);

	CHECK_RES(TEE_AllocatePersistentObjectEnumerator(&e), TEE_SUCCESS);
	id_len = sizeof(id);
	CHECK_RES(TEE_GetNextPersistentObject(e, &info, id, &id_len),
		  TEE_ERROR_ITEM_NOT_FOUND);	/* not started */
	for (round = 0; round < 2; round++) {
		seen_e1 = seen_e22 = seen_empty = other = 0;
		CHECK_RES(TEE_StartPersistentObjectEnumerator(
				e, TEE_STORAGE_PRIVATE), TEE_SUCCESS);
		for (;;) {
			id_len = sizeof(id);
			if (TEE_GetNextPersistentObject(e, &info, id,
							&id_len) != TEE_SUCCESS)
				break;
			if (id_len == 2 && !memcmp(id, "e1", 2))
				seen_e1 += info.dataSize == 1;
			else if (id_len == 3 && !memcmp(id, "e22", 3))
				seen_e22 += info.dataSize == 2 &&
					    info.objectType == TEE_TYPE_DATA;
			else if (id_len == 0)
				seen_empty++;
			else
				other++;
		}
		CHECK(seen_e1 == 1 && seen_e22 == 1 && seen_empty == 1 &&
		      other == 0);
		TEE_ResetPersistentObjectEnumerator(e);
	}
	CHECK_RES(TEE_StartPersistentObjectEnumerator(e, 0x12345),
		  TEE_ERROR_ITEM_NOT_FOUND);
	TEE_FreePersistentObjectEnumerator(e);
	use_uuid(&uuid_a);
}

/* Atomic writes leave no temporary files behind. */
static void test_no_temp_files(void)
{
	char p[4096];
	DIR *d;
	struct dirent *e;
	int temps = 0, files = 0;

	snprintf(p, sizeof(p), "%s/%s", base, DIR_A);
	d = opendir(p);
	CHECK(d != NULL);
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		files++;
		if (!strncmp(e->d_name, "tmp-", 4))
			temps++;
	}
	if (d)
		closedir(d);
	CHECK(files > 0 && temps == 0);
}

int main(void)
{
	base = getenv("TEESPARK_SIM_STORAGE_DIR");
	if (!base || !*base) {
		fprintf(stderr, "set TEESPARK_SIM_STORAGE_DIR to a scratch "
			"directory\n");
		return 2;
	}
	test_round_trip();
	test_stream();
	test_shared_handles();
	test_rename();
	test_tamper();
	test_isolation();
	test_key_object();
	test_enumerate();
	test_no_temp_files();
	TEST_SUMMARY("sim_internal_storage_test");
}

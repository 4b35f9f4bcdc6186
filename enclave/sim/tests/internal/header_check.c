/*
 * header_check.c - compiled with the shipped TA flags ($(TA_CFLAGS), no
 * _GNU_SOURCE) by sim-internal-test: the simulator's GP headers must build
 * TA code warning-free, and their constants and layouts must match the GP
 * Internal Core API 1.3.1 / OP-TEE values (transcribed independently from
 * the GP reference tables, not copied from the header).
 */
#include <stddef.h>

#include <tee_internal_api.h>
#include <tee_internal_api_extensions.h>

#define EQ(a, b) _Static_assert((a) == (b), #a " == " #b)

EQ(TEE_SUCCESS, 0x00000000u);
EQ(TEE_ERROR_CORRUPT_OBJECT, 0xF0100001u);
EQ(TEE_ERROR_STORAGE_NOT_AVAILABLE, 0xF0100003u);
EQ(TEE_ERROR_GENERIC, 0xFFFF0000u);
EQ(TEE_ERROR_ACCESS_CONFLICT, 0xFFFF0003u);
EQ(TEE_ERROR_BAD_PARAMETERS, 0xFFFF0006u);
EQ(TEE_ERROR_ITEM_NOT_FOUND, 0xFFFF0008u);
EQ(TEE_ERROR_NOT_SUPPORTED, 0xFFFF000Au);
EQ(TEE_ERROR_OUT_OF_MEMORY, 0xFFFF000Cu);
EQ(TEE_ERROR_SHORT_BUFFER, 0xFFFF0010u);
EQ(TEE_ERROR_OVERFLOW, 0xFFFF300Fu);
EQ(TEE_ERROR_TARGET_DEAD, 0xFFFF3024u);
EQ(TEE_ERROR_STORAGE_NO_SPACE, 0xFFFF3041u);
EQ(TEE_ERROR_MAC_INVALID, 0xFFFF3071u);
EQ(TEE_ERROR_SIGNATURE_INVALID, 0xFFFF3072u);
EQ(TEE_ERROR_TIME_NOT_SET, 0xFFFF5000u);
EQ(TEE_ORIGIN_TEE, 3);
EQ(TEE_ORIGIN_TRUSTED_APP, 4);
EQ(TEE_PARAM_TYPE_MEMREF_INOUT, 7);
EQ(TEE_PARAM_TYPES(TEE_PARAM_TYPE_VALUE_INPUT, TEE_PARAM_TYPE_MEMREF_INPUT,
		   TEE_PARAM_TYPE_MEMREF_OUTPUT, TEE_PARAM_TYPE_NONE), 0x0651);
EQ(TEE_PARAM_TYPE_GET(0x0651, 2), TEE_PARAM_TYPE_MEMREF_OUTPUT);
EQ(TEE_NUM_PARAMS, 4);
EQ(TEE_ALG_AES_GCM, 0x40000810u);
EQ(TEE_ALG_AES_CTR, 0x10000210u);
EQ(TEE_ALG_AES_CBC_NOPAD, 0x10000110u);
EQ(TEE_ALG_SHA256, 0x50000004u);
EQ(TEE_ALG_HMAC_SHA256, 0x30000004u);
EQ(TEE_ALG_ECDSA_SHA256, 0x70003042u);
EQ(TEE_ALG_HKDF_SHA256_DERIVE_KEY, 0x800040C0u);
EQ(TEE_TYPE_AES, 0xA0000010u);
EQ(TEE_TYPE_HMAC_SHA256, 0xA0000004u);
EQ(TEE_TYPE_GENERIC_SECRET, 0xA0000000u);
EQ(TEE_TYPE_DATA, 0xA00000BFu);
EQ(TEE_ATTR_SECRET_VALUE, 0xC0000000u);
EQ(TEE_MODE_ENCRYPT, 0);
EQ(TEE_MODE_DECRYPT, 1);
EQ(TEE_MODE_MAC, 4);
EQ(TEE_MODE_DIGEST, 5);
EQ(TEE_OPERATION_AE, 4);
EQ(TEE_USAGE_EXTRACTABLE, 0x1);
EQ(TEE_USAGE_MAC, 0x8);
EQ(TEE_USAGE_DERIVE, 0x40);
EQ(TEE_STORAGE_PRIVATE, 0x00000001u);
EQ(TEE_STORAGE_PRIVATE_REE, 0x80000000u);
EQ(TEE_STORAGE_PRIVATE_RPMB, 0x80000100u);
EQ(TEE_DATA_FLAG_ACCESS_WRITE_META, 0x4);
EQ(TEE_DATA_FLAG_SHARE_WRITE, 0x20);
EQ(TEE_DATA_FLAG_OVERWRITE, 0x400);
EQ(TEE_OBJECT_ID_MAX_LEN, 64);
EQ(TEE_DATA_MAX_POSITION, 0xFFFFFFFFu);
EQ(TEE_DATA_SEEK_END, 2);
EQ(TEE_MALLOC_FILL_ZERO, 0);
EQ(TEE_MALLOC_NO_FILL, 1);
EQ(TEE_MALLOC_NO_SHARE, 2);
EQ(TEE_MEMORY_ACCESS_ANY_OWNER, 0x4);
EQ(TEE_MEMORY_ACCESS_SECURE, 0x20000000u);
EQ(TEE_LOGIN_TRUSTED_APP, 0xF0000000u);
EQ(TEE_HANDLE_NULL, 0);
EQ(TEE_TIMEOUT_INFINITE, 0xFFFFFFFFu);

/* GP 1.3.1 (size_t) layouts on LP64. */
EQ(sizeof(TEE_UUID), 16);
EQ(sizeof(TEE_Param), 16);
EQ(offsetof(TEE_Param, memref.size), 8);
EQ(sizeof(((TEE_Attribute *)0)->content.ref.length), sizeof(size_t));
EQ(offsetof(TEE_ObjectInfo, dataSize), 16);
EQ(sizeof(TEE_ObjectInfo), 40);
EQ(sizeof(TEE_OperationInfo), 32);
EQ(sizeof(TEE_Time), 8);

/* A minimal TA body using the API the way teespark's TA does. */
TEE_Result header_check_seal(const void *key, const void *iv, const void *in,
			     size_t len, void *out, void *tag);
TEE_Result header_check_seal(const void *key, const void *iv, const void *in,
			     size_t len, void *out, void *tag)
{
	TEE_ObjectHandle k = TEE_HANDLE_NULL;
	TEE_OperationHandle op = TEE_HANDLE_NULL;
	TEE_Attribute a;
	size_t out_len = len, tag_len = 16;
	TEE_Result res;

	res = TEE_AllocateTransientObject(TEE_TYPE_AES, 256, &k);
	if (res != TEE_SUCCESS)
		return res;
	TEE_InitRefAttribute(&a, TEE_ATTR_SECRET_VALUE, key, 32);
	res = TEE_PopulateTransientObject(k, &a, 1);
	if (res == TEE_SUCCESS)
		res = TEE_AllocateOperation(&op, TEE_ALG_AES_GCM,
					    TEE_MODE_ENCRYPT, 256);
	if (res == TEE_SUCCESS)
		res = TEE_SetOperationKey(op, k);
	if (res == TEE_SUCCESS)
		res = TEE_AEInit(op, iv, 12, 128, 0, len);
	if (res == TEE_SUCCESS)
		res = TEE_AEEncryptFinal(op, in, len, out, &out_len, tag,
					 &tag_len);
	if (res != TEE_SUCCESS)
		EMSG("seal failed: 0x%08x (len %zu)", res, len);
	DMSG("sealed %zu bytes", out_len);
	TEE_FreeOperation(op);
	TEE_FreeTransientObject(k);
	return res;
}

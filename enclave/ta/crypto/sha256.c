/*
 * sha256.c - SHA-256 over TEE_DigestUpdate/TEE_DigestDoFinal (see sha256.h).
 */
#include "sha256.h"

/* see sha256.h */
TEE_Result ts_sha256(const struct ts_buf *parts, size_t n, uint8_t out[TS_SHA256_SIZE])
{
	TEE_OperationHandle op = TEE_HANDLE_NULL;
	size_t out_len = TS_SHA256_SIZE, i;
	TEE_Result res;

	res = TEE_AllocateOperation(&op, TEE_ALG_SHA256, TEE_MODE_DIGEST, 0);
	if (res != TEE_SUCCESS)
		return res;
	for (i = 0; i < n; i++)
		if (parts[i].len)
			TEE_DigestUpdate(op, parts[i].p, parts[i].len);
	res = TEE_DigestDoFinal(op, NULL, 0, out, &out_len);
	TEE_FreeOperation(op);
	if (res == TEE_SUCCESS && out_len != TS_SHA256_SIZE)
		res = TEE_ERROR_GENERIC;
	return res;
}

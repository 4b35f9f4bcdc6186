/*
 * hkdf.c - HMAC-SHA256 and HKDF-SHA256 over the GP MAC API (see hkdf.h).
 */
#include "hkdf.h"

/* see hkdf.h */
TEE_Result hmac_sha256(const uint8_t *key, size_t key_len,
		       const struct ts_buf *parts, size_t n,
		       uint8_t mac[TS_SHA256_SIZE])
{
	TEE_OperationHandle op = TEE_HANDLE_NULL;
	TEE_ObjectHandle obj = TEE_HANDLE_NULL;
	TEE_Attribute attr;
	size_t mac_len = TS_SHA256_SIZE, i;
	TEE_Result res;

	if (key_len < HMAC_KEY_MIN || key_len > HMAC_KEY_MAX)
		return TEE_ERROR_NOT_SUPPORTED;
	res = TEE_AllocateTransientObject(TEE_TYPE_HMAC_SHA256, key_len * 8, &obj);
	if (res != TEE_SUCCESS)
		return res;
	shim_init_ref_attribute(&attr, TEE_ATTR_SECRET_VALUE, key, key_len);
	res = shim_populate_transient_object(obj, &attr, 1);
	if (res != TEE_SUCCESS)
		goto out;
	res = TEE_AllocateOperation(&op, TEE_ALG_HMAC_SHA256, TEE_MODE_MAC,
				    key_len * 8);
	if (res != TEE_SUCCESS)
		goto out;
	res = TEE_SetOperationKey(op, obj);
	if (res != TEE_SUCCESS)
		goto out;
	TEE_MACInit(op, NULL, 0);
	for (i = 0; i < n; i++)
		if (parts[i].len)
			TEE_MACUpdate(op, parts[i].p, parts[i].len);
	res = TEE_MACComputeFinal(op, NULL, 0, mac, &mac_len);
	if (res == TEE_SUCCESS && mac_len != TS_SHA256_SIZE)
		res = TEE_ERROR_GENERIC;
out:
	if (op != TEE_HANDLE_NULL)
		TEE_FreeOperation(op);
	/* Freeing a transient object wipes its key material (GP). */
	TEE_FreeTransientObject(obj);
	return res;
}

/* see hkdf.h */
TEE_Result hkdf_sha256(const uint8_t *salt, size_t salt_len,
		       const uint8_t *ikm, size_t ikm_len,
		       const struct ts_buf *info, size_t n_info,
		       uint8_t *out, size_t out_len)
{
	static const uint8_t zero_salt[TS_SHA256_SIZE];
	/* T(i) = HMAC(PRK, T(i-1) | info | i): at most 2 + n_info parts. */
	struct ts_buf parts[2 + 8];
	uint8_t prk[TS_SHA256_SIZE], t[TS_SHA256_SIZE];
	struct ts_buf ikm_part = { ikm, ikm_len };
	size_t done = 0, i, np, take;
	uint8_t counter;
	TEE_Result res;

	if (out_len == 0 || out_len > HKDF_SHA256_MAX_OUT || n_info > 8)
		return TEE_ERROR_BAD_PARAMETERS;
	if (salt_len == 0) {
		salt = zero_salt;
		salt_len = sizeof(zero_salt);
	}
	/* Extract. */
	res = hmac_sha256(salt, salt_len, &ikm_part, 1, prk);
	if (res != TEE_SUCCESS)
		goto out;
	/* Expand. */
	for (counter = 1; done < out_len; counter++) {
		np = 0;
		if (counter > 1) {
			parts[np].p = t;
			parts[np++].len = sizeof(t);
		}
		for (i = 0; i < n_info; i++)
			parts[np++] = info[i];
		parts[np].p = &counter;
		parts[np++].len = 1;
		res = hmac_sha256(prk, sizeof(prk), parts, np, t);
		if (res != TEE_SUCCESS)
			goto out;
		take = out_len - done < sizeof(t) ? out_len - done : sizeof(t);
		TEE_MemMove(out + done, t, take);
		done += take;
	}
out:
	shim_wipe(prk, sizeof(prk));
	shim_wipe(t, sizeof(t));
	if (res != TEE_SUCCESS)
		shim_wipe(out, out_len);
	return res;
}

/*
 * key_wrap.c - AES-256-GCM key wrapping (see key_wrap.h), on the same GP
 * operation setup as the block cipher (block_gcm_init).
 */
#include "key_wrap.h"
#include "block_gcm.h"

/* see key_wrap.h */
TEE_Result key_wrap_seal(const uint8_t kek[TS_KEY_SIZE],
			 const uint8_t nonce[TS_NONCE_SIZE],
			 const void *aad, size_t aad_len,
			 const uint8_t key[TS_KEY_SIZE],
			 uint8_t wrapped[TS_KEY_SIZE], uint8_t tag[TS_TAG_SIZE])
{
	struct block_gcm g = { TEE_HANDLE_NULL };
	size_t out_len = TS_KEY_SIZE, tag_len = TS_TAG_SIZE;
	TEE_Result res;

	res = block_gcm_init(&g, TEE_MODE_ENCRYPT, kek);
	if (res != TEE_SUCCESS)
		return res;
	res = shim_ae_init(g.op, nonce, TS_NONCE_SIZE, TS_TAG_SIZE * 8, aad_len,
			   TS_KEY_SIZE);
	if (res == TEE_SUCCESS) {
		shim_ae_update_aad(g.op, aad, aad_len);
		res = shim_ae_encrypt_final(g.op, key, TS_KEY_SIZE, wrapped,
					    &out_len, tag, &tag_len);
	}
	if (res == TEE_SUCCESS &&
	    (out_len != TS_KEY_SIZE || tag_len != TS_TAG_SIZE))
		res = TEE_ERROR_GENERIC;
	block_gcm_free(&g);
	return res;
}

/* see key_wrap.h */
TEE_Result key_wrap_open(const uint8_t kek[TS_KEY_SIZE],
			 const uint8_t nonce[TS_NONCE_SIZE],
			 const void *aad, size_t aad_len,
			 const uint8_t wrapped[TS_KEY_SIZE],
			 const uint8_t tag[TS_TAG_SIZE],
			 uint8_t key[TS_KEY_SIZE])
{
	struct block_gcm g = { TEE_HANDLE_NULL };
	size_t out_len = TS_KEY_SIZE;
	TEE_Result res;

	res = block_gcm_init(&g, TEE_MODE_DECRYPT, kek);
	if (res != TEE_SUCCESS)
		return res;
	res = shim_ae_init(g.op, nonce, TS_NONCE_SIZE, TS_TAG_SIZE * 8, aad_len,
			   TS_KEY_SIZE);
	if (res == TEE_SUCCESS) {
		shim_ae_update_aad(g.op, aad, aad_len);
		res = shim_ae_decrypt_final(g.op, wrapped, TS_KEY_SIZE, key,
					    &out_len, tag, TS_TAG_SIZE);
	}
	if (res == TEE_SUCCESS && out_len != TS_KEY_SIZE)
		res = TEE_ERROR_GENERIC;
	block_gcm_free(&g);
	if (res != TEE_SUCCESS)
		shim_wipe(key, TS_KEY_SIZE);
	return res;
}

/*
 * x25519.c - X25519 over the GP asymmetric API (see x25519.h).
 */
#include "x25519.h"

/* see x25519.h */
TEE_Result x25519_generate(struct x25519_key *k)
{
	size_t len = X25519_KEY_SIZE;
	TEE_Result res;

	k->obj = TEE_HANDLE_NULL;
	res = TEE_AllocateTransientObject(TEE_TYPE_X25519_KEYPAIR, 256, &k->obj);
	if (res != TEE_SUCCESS) {
		k->obj = TEE_HANDLE_NULL;
		return res;
	}
	res = TEE_GenerateKey(k->obj, 256, NULL, 0);
	if (res == TEE_SUCCESS)
		res = TEE_GetObjectBufferAttribute(k->obj,
						   TEE_ATTR_X25519_PUBLIC_VALUE,
						   k->pub, &len);
	if (res == TEE_SUCCESS && len != X25519_KEY_SIZE)
		res = TEE_ERROR_GENERIC;
	if (res != TEE_SUCCESS)
		x25519_free(k);
	return res;
}

/* see x25519.h */
void x25519_free(struct x25519_key *k)
{
	if (k->obj != TEE_HANDLE_NULL)
		TEE_FreeTransientObject(k->obj);
	k->obj = TEE_HANDLE_NULL;
	TEE_MemFill(k->pub, 0, sizeof(k->pub));
}

/* see x25519.h */
TEE_Result x25519_shared(const struct x25519_key *k,
			 const uint8_t peer[X25519_KEY_SIZE],
			 uint8_t shared[X25519_KEY_SIZE])
{
	TEE_OperationHandle op = TEE_HANDLE_NULL;
	TEE_ObjectHandle secret = TEE_HANDLE_NULL;
	TEE_Attribute attr;
	size_t len = X25519_KEY_SIZE, i;
	uint8_t acc = 0;
	TEE_Result res;

	if (k->obj == TEE_HANDLE_NULL)
		return TEE_ERROR_BAD_STATE;
	res = TEE_AllocateOperation(&op, TEE_ALG_X25519, TEE_MODE_DERIVE, 256);
	if (res != TEE_SUCCESS)
		return res;
	res = TEE_SetOperationKey(op, k->obj);
	if (res != TEE_SUCCESS)
		goto out;
	res = TEE_AllocateTransientObject(TEE_TYPE_GENERIC_SECRET, 256, &secret);
	if (res != TEE_SUCCESS)
		goto out;
	shim_init_ref_attribute(&attr, TEE_ATTR_X25519_PUBLIC_VALUE, peer,
				X25519_KEY_SIZE);
	TEE_DeriveKey(op, &attr, 1, secret);
	res = TEE_GetObjectBufferAttribute(secret, TEE_ATTR_SECRET_VALUE,
					   shared, &len);
	if (res == TEE_SUCCESS && len != X25519_KEY_SIZE)
		res = TEE_ERROR_GENERIC;
	if (res != TEE_SUCCESS)
		goto out;
	/* All-zero check without an early exit (the secret's bytes). */
	for (i = 0; i < X25519_KEY_SIZE; i++)
		acc |= shared[i];
	if (acc == 0)	/* reveals only "the peer key was degenerate" */
		res = TEE_ERROR_SECURITY;
out:
	if (res != TEE_SUCCESS)
		shim_wipe(shared, X25519_KEY_SIZE);
	if (secret != TEE_HANDLE_NULL)
		TEE_FreeTransientObject(secret);
	TEE_FreeOperation(op);
	return res;
}

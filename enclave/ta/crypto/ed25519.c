/*
 * ed25519.c - Ed25519 verification over the GP asymmetric API (ed25519.h).
 */
#include "ed25519.h"

/* see ed25519.h */
TEE_Result ed25519_verify(const uint8_t pub[ED25519_PUBLIC_SIZE],
			  const void *msg, size_t msg_len,
			  const uint8_t sig[ED25519_SIGNATURE_SIZE])
{
	TEE_OperationHandle op = TEE_HANDLE_NULL;
	TEE_ObjectHandle key = TEE_HANDLE_NULL;
	TEE_Attribute attr;
	TEE_Result res;

	res = TEE_AllocateTransientObject(TEE_TYPE_ED25519_PUBLIC_KEY, 256, &key);
	if (res != TEE_SUCCESS)
		return res;
	shim_init_ref_attribute(&attr, TEE_ATTR_ED25519_PUBLIC_VALUE, pub,
				ED25519_PUBLIC_SIZE);
	res = shim_populate_transient_object(key, &attr, 1);
	if (res != TEE_SUCCESS)
		goto out;
	res = TEE_AllocateOperation(&op, TEE_ALG_ED25519, TEE_MODE_VERIFY, 256);
	if (res != TEE_SUCCESS)
		goto out;
	res = TEE_SetOperationKey(op, key);
	if (res != TEE_SUCCESS)
		goto out;
	res = TEE_AsymmetricVerifyDigest(op, NULL, 0, SHIM_UNCONST(msg), msg_len,
					 SHIM_UNCONST(sig),
					 ED25519_SIGNATURE_SIZE);
out:
	if (op != TEE_HANDLE_NULL)
		TEE_FreeOperation(op);
	TEE_FreeTransientObject(key);
	return res;
}

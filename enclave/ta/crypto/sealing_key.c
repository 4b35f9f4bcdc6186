/*
 * sealing_key.c - shim_derive_sealing_key (declared in shim_tee.h): a key
 * bound to this device and this TA, one implementation per target.
 */
#include "../shim_tee.h"

#if !defined(TEESPARK_ITRUSTEE) && !defined(TEESPARK_SIM)
#include <pta_system.h>
#endif

static TEE_Result check_args(size_t extra_len, size_t key_len)
{
	if (key_len < SHIM_DERIVED_KEY_MIN || key_len > SHIM_DERIVED_KEY_MAX ||
	    extra_len > SHIM_DERIVED_EXTRA_MAX)
		return TEE_ERROR_BAD_PARAMETERS;
	return TEE_SUCCESS;
}

#if defined(TEESPARK_ITRUSTEE)

/* iTrustee: the root key derived by the TEE from the device root key and the
 * TA's identity, salted with `extra` (as secGear's iTrustee sealing does). */
TEE_Result shim_derive_sealing_key(const void *extra, size_t extra_len,
				   uint8_t *key, size_t key_len)
{
	TEE_Result res = check_args(extra_len, key_len);

	if (res != TEE_SUCCESS)
		return res;
	return TEE_EXT_DeriveTARootKey(SHIM_UNCONST(extra), (uint32_t)extra_len,
				       key, (uint32_t)key_len);
}

#elif !defined(TEESPARK_SIM)

/* OP-TEE: the system PTA derives the key from the hardware unique key and
 * the TA UUID (PTA_SYSTEM_DERIVE_TA_UNIQUE_KEY). The PTA refuses an output
 * buffer outside TA-private memory, so `key` must be TA memory. */
TEE_Result shim_derive_sealing_key(const void *extra, size_t extra_len,
				   uint8_t *key, size_t key_len)
{
	static const TEE_UUID pta_uuid = PTA_SYSTEM_UUID;
	TEE_TASessionHandle sess = TEE_HANDLE_NULL;
	TEE_Param params[SHIM_NUM_PARAMS];
	uint32_t origin = 0;
	TEE_Result res = check_args(extra_len, key_len);

	if (res != TEE_SUCCESS)
		return res;
	TEE_MemFill(params, 0, sizeof(params));
	res = TEE_OpenTASession(&pta_uuid, TEE_TIMEOUT_INFINITE, 0, params,
				&sess, &origin);
	if (res != TEE_SUCCESS)
		return res;
	params[0].memref.buffer = SHIM_UNCONST(extra);
	params[0].memref.size = extra_len;
	params[1].memref.buffer = key;
	params[1].memref.size = key_len;
	res = TEE_InvokeTACommand(sess, TEE_TIMEOUT_INFINITE,
				  PTA_SYSTEM_DERIVE_TA_UNIQUE_KEY,
				  TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
						  TEE_PARAM_TYPE_MEMREF_OUTPUT,
						  TEE_PARAM_TYPE_NONE,
						  TEE_PARAM_TYPE_NONE),
				  params, &origin);
	TEE_CloseTASession(sess);
	return res;
}

#else /* TEESPARK_SIM */

/* Simulator: a random 32-byte root created on first use in the TA's private
 * storage (the simulator keeps it in a per-UUID directory on the host), then
 * key = HMAC-SHA256(root, extra) truncated to key_len. Stable across TA
 * restarts on one host like the real derivations, but only as secret as that
 * directory: development and CI only. */
static const char sim_root_id[] = "teespark.sealing-root";

static TEE_Result sim_load_root(uint8_t root[32])
{
	const uint32_t rd = TEE_DATA_FLAG_ACCESS_READ;
	TEE_ObjectHandle obj = TEE_HANDLE_NULL;
	size_t count = 0;
	TEE_Result res;
	int attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		res = TEE_OpenPersistentObject(SHIM_STORAGE_PRIVATE, sim_root_id,
					       sizeof(sim_root_id) - 1, rd, &obj);
		if (res == TEE_SUCCESS) {
			res = shim_read_object_data(obj, root, 32, &count);
			TEE_CloseObject(obj);
			if (res == TEE_SUCCESS && count != 32)
				res = TEE_ERROR_CORRUPT_OBJECT;
			return res;
		}
		if (res != TEE_ERROR_ITEM_NOT_FOUND)
			return res;
		/* First use: create it. Another instance may win the race
		 * (ACCESS_CONFLICT): then read the one it wrote. */
		TEE_GenerateRandom(root, 32);
		res = TEE_CreatePersistentObject(SHIM_STORAGE_PRIVATE,
						 sim_root_id,
						 sizeof(sim_root_id) - 1,
						 rd | TEE_DATA_FLAG_ACCESS_WRITE,
						 TEE_HANDLE_NULL, root, 32, &obj);
		if (res == TEE_SUCCESS) {
			TEE_CloseObject(obj);
			return TEE_SUCCESS;
		}
		shim_wipe(root, 32);
		if (res != TEE_ERROR_ACCESS_CONFLICT)
			return res;
	}
	return res;
}

TEE_Result shim_derive_sealing_key(const void *extra, size_t extra_len,
				   uint8_t *key, size_t key_len)
{
	TEE_OperationHandle op = TEE_HANDLE_NULL;
	TEE_ObjectHandle obj = TEE_HANDLE_NULL;
	TEE_Attribute attr;
	uint8_t root[32], mac[32];
	size_t mac_len = sizeof(mac);
	TEE_Result res = check_args(extra_len, key_len);

	if (res != TEE_SUCCESS)
		return res;
	res = sim_load_root(root);
	if (res != TEE_SUCCESS)
		return res;
	res = TEE_AllocateTransientObject(TEE_TYPE_HMAC_SHA256, 256, &obj);
	if (res != TEE_SUCCESS)
		goto out;
	shim_init_ref_attribute(&attr, TEE_ATTR_SECRET_VALUE, root, 32);
	res = shim_populate_transient_object(obj, &attr, 1);
	if (res != TEE_SUCCESS)
		goto out;
	res = TEE_AllocateOperation(&op, TEE_ALG_HMAC_SHA256, TEE_MODE_MAC, 256);
	if (res != TEE_SUCCESS)
		goto out;
	res = TEE_SetOperationKey(op, obj);
	if (res != TEE_SUCCESS)
		goto out;
	TEE_MACInit(op, NULL, 0);
	res = TEE_MACComputeFinal(op, extra, extra_len, mac, &mac_len);
	if (res == TEE_SUCCESS)
		TEE_MemMove(key, mac, key_len);
out:
	if (op != TEE_HANDLE_NULL)
		TEE_FreeOperation(op);
	if (obj != TEE_HANDLE_NULL)
		TEE_FreeTransientObject(obj);
	shim_wipe(root, sizeof(root));
	shim_wipe(mac, sizeof(mac));
	return res;
}

#endif

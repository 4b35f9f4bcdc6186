/*
 * cmd_keys.c - the key slot commands: INSTALL_DEV_KEY, NEW_QUERY_KEY,
 * CLEAR_KEY. Logs name slots, never key bytes. A slot whose key changes no
 * longer opens the tables registered with it (table_registry.h).
 */
#include "cmd.h"

/* see cmd.h */
TEE_Result cmd_install_dev_key(struct ta_session *s, uint32_t param_types,
			       TEE_Param params[SHIM_NUM_PARAMS])
{
	const uint32_t exp = TEE_PARAM_TYPES(TEE_PARAM_TYPE_VALUE_INPUT,
					     TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_NONE,
					     TEE_PARAM_TYPE_NONE);
	uint8_t key[TS_KEY_SIZE];
	uint32_t slot;
	TEE_Result res;

	if (param_types != exp)
		return TEE_ERROR_BAD_PARAMETERS;
	slot = params[0].value.a;
	if (slot >= TS_MAX_KEY_SLOTS) {
		SHIM_LOGE("Wrong key slot %u, expect 0..%u", slot,
			  TS_MAX_KEY_SLOTS - 1);
		return TEE_ERROR_BAD_PARAMETERS;
	}
	if (params[1].memref.size != TS_KEY_SIZE ||
	    params[1].memref.buffer == NULL) {
		SHIM_LOGE("Wrong key size %zu, expect %u bytes",
			  params[1].memref.size, TS_KEY_SIZE);
		return TEE_ERROR_BAD_PARAMETERS;
	}
	/* One read of shared memory into TA memory, then install. */
	TEE_MemMove(key, params[1].memref.buffer, TS_KEY_SIZE);
	table_registry_forget_slot(&s->tables, slot);
	res = key_slots_install(&s->keys, slot, key, TS_KEY_SIZE);
	shim_wipe(key, sizeof(key));
	return res;
}

/* see cmd.h */
TEE_Result cmd_new_query_key(struct ta_session *s, uint32_t param_types,
			     TEE_Param params[SHIM_NUM_PARAMS])
{
	const uint32_t exp = TEE_PARAM_TYPES(TEE_PARAM_TYPE_VALUE_INPUT,
					     TEE_PARAM_TYPE_NONE,
					     TEE_PARAM_TYPE_NONE,
					     TEE_PARAM_TYPE_NONE);

	if (param_types != exp)
		return TEE_ERROR_BAD_PARAMETERS;
	if (params[0].value.a >= TS_MAX_KEY_SLOTS) {
		SHIM_LOGE("Wrong key slot %u, expect 0..%u", params[0].value.a,
			  TS_MAX_KEY_SLOTS - 1);
		return TEE_ERROR_BAD_PARAMETERS;
	}
	table_registry_forget_slot(&s->tables, params[0].value.a);
	return key_slots_generate(&s->keys, params[0].value.a);
}

/* see cmd.h */
TEE_Result cmd_clear_key(struct ta_session *s, uint32_t param_types,
			 TEE_Param params[SHIM_NUM_PARAMS])
{
	const uint32_t exp = TEE_PARAM_TYPES(TEE_PARAM_TYPE_VALUE_INPUT,
					     TEE_PARAM_TYPE_NONE,
					     TEE_PARAM_TYPE_NONE,
					     TEE_PARAM_TYPE_NONE);

	if (param_types != exp)
		return TEE_ERROR_BAD_PARAMETERS;
	if (params[0].value.a >= TS_MAX_KEY_SLOTS) {
		SHIM_LOGE("Wrong key slot %u, expect 0..%u", params[0].value.a,
			  TS_MAX_KEY_SLOTS - 1);
		return TEE_ERROR_BAD_PARAMETERS;
	}
	table_registry_forget_slot(&s->tables, params[0].value.a);
	return key_slots_clear(&s->keys, params[0].value.a);
}

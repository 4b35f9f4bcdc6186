/*
 * cmd_register_table.c - TA_TEESPARK_CMD_REGISTER_TABLE: enter a table into
 * the session from its authenticated descriptor (table_registry.h).
 *
 * The descriptor's MAC is checked with a key derived from the data key in
 * the named slot (crypto/descriptor_mac.h), in constant time, before any
 * field of it is trusted; a key imported from the KBS is also checked to be
 * this table's key (its table id and key id). A wrong key and an edited
 * descriptor look the same: TS_ERROR_MANIFEST_AUTH.
 */
#include "cmd.h"
#include "../crypto/descriptor_mac.h"

/* see cmd.h */
TEE_Result cmd_register_table(struct ta_session *s, uint32_t param_types,
			      TEE_Param params[SHIM_NUM_PARAMS])
{
	const uint32_t exp = TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_VALUE_INPUT,
					     TEE_PARAM_TYPE_NONE,
					     TEE_PARAM_TYPE_NONE);
	struct ts_table_descriptor d;
	const struct key_slot *meta;
	struct ta_table t;
	const uint8_t *key;
	uint32_t slot;
	TEE_Result res;

	if (param_types != exp)
		return TEE_ERROR_BAD_PARAMETERS;
	if (params[0].memref.size != TS_TABLE_DESCRIPTOR_SIZE ||
	    !params[0].memref.buffer) {
		SHIM_LOGE("Wrong descriptor size %zu, expect %u bytes",
			  params[0].memref.size, TS_TABLE_DESCRIPTOR_SIZE);
		return TEE_ERROR_BAD_PARAMETERS;
	}
	slot = params[1].value.a;
	key = key_slots_get(&s->keys, slot, &res);
	if (!key) {
		SHIM_LOGE("REGISTER_TABLE: key slot %u: 0x%x", slot,
			  (unsigned int)res);
		return res;
	}
	TEE_MemMove(&d, params[0].memref.buffer, sizeof(d));

	meta = key_slots_meta(&s->keys, slot);
	if (meta->is_bound &&
	    (TEE_MemCompare(meta->table_id, d.table_id, sizeof(d.table_id)) ||
	     TEE_MemCompare(meta->key_id, d.key_id, sizeof(d.key_id)))) {
		SHIM_LOGE("REGISTER_TABLE: the KBS released the key in slot %u "
			  "for another table or key id", slot);
		return TS_ERROR_MANIFEST_AUTH;
	}
	res = descriptor_mac_check(key, &d);
	if (res != TEE_SUCCESS) {
		SHIM_LOGE("REGISTER_TABLE: descriptor MAC does not verify under "
			  "key slot %u (edited descriptor or wrong data key)",
			  slot);
		return res;
	}
	/* Authentic: now its fields may be judged. */
	res = table_descriptor_check(&d);
	if (res != TEE_SUCCESS) {
		SHIM_LOGE("REGISTER_TABLE: inconsistent descriptor");
		return res;
	}
	table_from_descriptor(&t, &d, slot);
	table_registry_put(&s->tables, &t);
	return TEE_SUCCESS;
}

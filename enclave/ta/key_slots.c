/*
 * key_slots.c - per-session AES-256 key slots (see key_slots.h).
 */
#include "key_slots.h"

void key_slots_init(struct key_slots *ks)
{
	shim_wipe(ks, sizeof(*ks));
}

void key_slots_wipe_all(struct key_slots *ks)
{
	shim_wipe(ks, sizeof(*ks));
}

/* see key_slots.h */
TEE_Result key_slots_install(struct key_slots *ks, uint32_t slot,
			     const uint8_t *key, size_t key_len)
{
	if (slot >= TS_MAX_KEY_SLOTS || key_len != TS_KEY_SIZE)
		return TEE_ERROR_BAD_PARAMETERS;
	shim_wipe(&ks->slot[slot], sizeof(ks->slot[slot]));
	TEE_MemMove(ks->slot[slot].key, key, TS_KEY_SIZE);
	ks->slot[slot].is_set = 1;
	return TEE_SUCCESS;
}

/* see key_slots.h */
TEE_Result key_slots_install_bound(struct key_slots *ks, uint32_t slot,
				   const uint8_t key[TS_KEY_SIZE],
				   const uint8_t key_id[16],
				   const uint8_t table_id[16])
{
	TEE_Result res = key_slots_install(ks, slot, key, TS_KEY_SIZE);

	if (res != TEE_SUCCESS)
		return res;
	ks->slot[slot].is_bound = 1;
	TEE_MemMove(ks->slot[slot].key_id, key_id, 16);
	TEE_MemMove(ks->slot[slot].table_id, table_id, 16);
	return TEE_SUCCESS;
}

/* see key_slots.h */
const struct key_slot *key_slots_meta(const struct key_slots *ks,
				      uint32_t slot)
{
	return slot < TS_MAX_KEY_SLOTS ? &ks->slot[slot] : NULL;
}

/* see key_slots.h */
int key_slots_bound_elsewhere(const struct key_slots *ks, uint32_t slot,
			      const uint8_t table_id[16])
{
	const struct key_slot *k = key_slots_meta(ks, slot);

	return k && k->is_bound && TEE_MemCompare(k->table_id, table_id, 16);
}

/* see key_slots.h */
TEE_Result key_slots_generate(struct key_slots *ks, uint32_t slot)
{
	if (slot >= TS_MAX_KEY_SLOTS)
		return TEE_ERROR_BAD_PARAMETERS;
	shim_wipe(&ks->slot[slot], sizeof(ks->slot[slot]));
	TEE_GenerateRandom(ks->slot[slot].key, TS_KEY_SIZE);
	ks->slot[slot].is_set = 1;
	return TEE_SUCCESS;
}

/* see key_slots.h */
TEE_Result key_slots_clear(struct key_slots *ks, uint32_t slot)
{
	if (slot >= TS_MAX_KEY_SLOTS)
		return TEE_ERROR_BAD_PARAMETERS;
	shim_wipe(&ks->slot[slot], sizeof(ks->slot[slot]));
	return TEE_SUCCESS;
}

/* see key_slots.h */
const uint8_t *key_slots_get(const struct key_slots *ks, uint32_t slot,
			     TEE_Result *res)
{
	if (slot >= TS_MAX_KEY_SLOTS) {
		*res = TEE_ERROR_BAD_PARAMETERS;
		return NULL;
	}
	if (!ks->slot[slot].is_set) {
		*res = TS_ERROR_KEY_SLOT_EMPTY;
		return NULL;
	}
	*res = TEE_SUCCESS;
	return ks->slot[slot].key;
}

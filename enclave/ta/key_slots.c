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
	TEE_MemMove(ks->slot[slot].key, key, TS_KEY_SIZE);
	ks->slot[slot].is_set = 1;
	return TEE_SUCCESS;
}

/* see key_slots.h */
TEE_Result key_slots_generate(struct key_slots *ks, uint32_t slot)
{
	if (slot >= TS_MAX_KEY_SLOTS)
		return TEE_ERROR_BAD_PARAMETERS;
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

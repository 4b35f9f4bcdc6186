/*
 * key_slots.h - the per-session AES-256 key slots of the teespark TA.
 *
 * Each TA session owns TS_MAX_KEY_SLOTS slots in its session context (so two
 * Spark workers never see each other's keys). A slot holds a raw 32-byte key
 * or nothing. Keys never leave the TA after installation and are never
 * logged; a slot is wiped when cleared, overwritten and at session close.
 *
 * A key imported from a KBS reply (IMPORT_KEYS) also carries its keyring id
 * and the one table it may open (is_bound = 1): REGISTER_TABLE accepts only
 * that table's descriptor with it, and no command seals another table under
 * it. Development and query keys carry no id and no table (is_bound = 0).
 */
#ifndef TEESPARK_KEY_SLOTS_H
#define TEESPARK_KEY_SLOTS_H

#include "shim_tee.h"

struct key_slot {
	uint8_t key[TS_KEY_SIZE];
	uint32_t is_set;	/* 0 or 1; public (the host chose it) */
	uint32_t is_bound;	/* 0 or 1: imported from the KBS; public */
	uint8_t key_id[16];	/* keyring id (zero unless bound); public */
	uint8_t table_id[16];	/* the table it may open (if bound); public */
};

struct key_slots {
	struct key_slot slot[TS_MAX_KEY_SLOTS];
};

/* Mark every slot empty (zeroed). */
void key_slots_init(struct key_slots *ks);

/* Wipe every slot (session close). */
void key_slots_wipe_all(struct key_slots *ks);

/* Copy a 32-byte key into slot `slot`.
 * TEE_ERROR_BAD_PARAMETERS for a slot out of range or key_len != TS_KEY_SIZE.
 * Leaks: slot number, key length.  Hides: the key. */
TEE_Result key_slots_install(struct key_slots *ks, uint32_t slot,
			     const uint8_t *key, size_t key_len);

/* Copy a KBS-imported key into slot `slot`, bound to table_id, with its
 * keyring id (see above).
 * Leaks: slot number, key id, table id.  Hides: the key. */
TEE_Result key_slots_install_bound(struct key_slots *ks, uint32_t slot,
				   const uint8_t key[TS_KEY_SIZE],
				   const uint8_t key_id[16],
				   const uint8_t table_id[16]);

/* The slot's metadata (is_set, is_bound, key_id, table_id; never the key),
 * or NULL for a slot out of range. */
const struct key_slot *key_slots_meta(const struct key_slots *ks,
				      uint32_t slot);

/* Nonzero if `slot` holds a bound key whose table is not table_id: the key
 * must not seal or open that table. */
int key_slots_bound_elsewhere(const struct key_slots *ks, uint32_t slot,
			      const uint8_t table_id[16]);

/* Fill slot `slot` with TS_KEY_SIZE bytes from TEE_GenerateRandom.
 * Leaks: slot number.  Hides: the key. */
TEE_Result key_slots_generate(struct key_slots *ks, uint32_t slot);

/* Wipe slot `slot` (no error if already empty). */
TEE_Result key_slots_clear(struct key_slots *ks, uint32_t slot);

/* The key in slot `slot`, or NULL with *res set: TEE_ERROR_BAD_PARAMETERS
 * (out of range) or TS_ERROR_KEY_SLOT_EMPTY. */
const uint8_t *key_slots_get(const struct key_slots *ks, uint32_t slot,
			     TEE_Result *res);

#endif /* TEESPARK_KEY_SLOTS_H */

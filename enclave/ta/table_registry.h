/*
 * table_registry.h - the tables registered in one TA session.
 *
 * Block commands accept only blocks of a registered table: REGISTER_TABLE
 * enters a table from its authenticated descriptor, SORT_BLOCKS enters its
 * output table. An entry fixes the table's whole public shape (id, version,
 * block count, row count, row size, rows per block, schema hash), so the
 * host can neither drop, add, reorder or replay blocks, nor present an older
 * version, nor another table's blocks: every block header is GCM AAD under a
 * key that only opens this table, and block_list checks each one against
 * the entry.
 *
 * An entry also records the key slots that may open the table's blocks
 * (slot_mask, bit s = slot s): the slot it was registered with, plus the
 * output slots of RESEAL_BLOCKS (the TA sealed those copies itself).
 * Changing a slot's key removes that slot from every entry (a descriptor
 * authenticated under the old key says nothing about the new one).
 *
 * One entry per table id: registering an id again replaces its entry (for
 * example a newer version). When all TS_MAX_TABLES entries are in use the
 * least recently used one is evicted; the host can register it again from
 * its descriptor (SORT_BLOCKS returns the descriptor of its output for this).
 * Everything here is public (the host chose it or can see it).
 */
#ifndef TEESPARK_TABLE_REGISTRY_H
#define TEESPARK_TABLE_REGISTRY_H

#include "shim_tee.h"

struct ta_table {
	uint32_t in_use;		/* 0 or 1 */
	uint32_t slot_mask;		/* bit s: key slot s opens the blocks */
	uint64_t last_use;		/* registry clock at last lookup */
	uint8_t table_id[16];
	uint64_t table_version;
	uint64_t row_count;
	uint32_t block_count;
	uint32_t row_size;
	uint32_t rows_per_block;
	uint8_t schema_hash[32];
};

struct table_registry {
	struct ta_table t[TS_MAX_TABLES];
	uint64_t clock;
};

void table_registry_init(struct table_registry *r);

/* The entry for table_id, or NULL. Marks it used (LRU). */
struct ta_table *table_registry_find(struct table_registry *r,
				     const uint8_t table_id[16]);

/* Enter t (in_use, slot_mask and the shape set by the caller): replaces
 * the entry with the same table id, else takes a free entry, else evicts
 * the least recently used one. */
void table_registry_put(struct table_registry *r, const struct ta_table *t);

/* Remove slot from every entry; entries left with no slot are dropped. */
void table_registry_forget_slot(struct table_registry *r, uint32_t slot);

/* Fill a table entry from a descriptor (no checks; see
 * table_descriptor_check). */
void table_from_descriptor(struct ta_table *t,
			   const struct ts_table_descriptor *d, uint32_t slot);

/* The descriptor of t (mac left zero: descriptor_mac_seal fills it). */
void table_to_descriptor(const struct ta_table *t, const uint8_t key_id[16],
			 struct ts_table_descriptor *d);

/* Blocks in a table of row_count rows at rows_per_block per block (a table
 * has at least one block, possibly empty). rows_per_block >= 1. */
uint64_t table_block_count(uint64_t row_count, uint32_t rows_per_block);

/* Rows in block i of t (all blocks full but the last). */
uint32_t table_block_rows(const struct ta_table *t, uint32_t i);

/* The descriptor's own consistency: magic, format version, size, reserved,
 * 1 <= row_size <= TS_MAX_ROW_SIZE, rows_per_block >= 1, block_count =
 * table_block_count(row_count, rows_per_block), a full block within
 * TS_MAX_BLOCK_PLAINTEXT. TEE_ERROR_BAD_FORMAT on any violation. */
TEE_Result table_descriptor_check(const struct ts_table_descriptor *d);

#endif /* TEESPARK_TABLE_REGISTRY_H */

/*
 * block_list.h - walk the concatenated sealed blocks of one registered table
 * that a command receives in a memref, checking format and sequence.
 *
 * The blocks of one call must be the whole registered table in order
 * (table_registry.h): block i carries block_index i, and the table id,
 * table version, block count, row size and schema hash of the registered
 * entry, and exactly the rows block i of that table holds (every block full
 * but the last). Headers are copied into TA memory before they are checked
 * (see block_gcm_read_header); the walk never re-reads a header from shared
 * memory. Since every header is GCM AAD under a key that opens only this
 * table, a block that passes here and then opens is exactly the block its
 * owner sealed at that position of that version.
 */
#ifndef TEESPARK_BLOCK_LIST_H
#define TEESPARK_BLOCK_LIST_H

#include "../shim_tee.h"
#include "../table_registry.h"

struct block_list {
	const uint8_t *buf;	/* untrusted (shared) memory */
	size_t len;
	size_t off;		/* start of the next block */
	uint32_t count;		/* blocks read so far = index of the next */
	struct ta_table table;	/* TA copy of the registered entry */
};

/* Find the registered table the blocks in buf claim to be (block 0's table
 * id) and copy its entry into *t. TS_ERROR_BLOCK_FORMAT if block 0's header
 * is malformed (or there is none), TS_ERROR_TABLE_UNKNOWN if no table with
 * that id is registered or `slot` is not one of the slots that open it. */
TEE_Result block_list_find_table(struct table_registry *reg, const void *buf,
				 size_t len, uint32_t slot, struct ta_table *t);

void block_list_start(struct block_list *bl, const void *buf, size_t len,
		      const struct ta_table *t);

/* Nonzero while bytes remain after the blocks read so far. */
static inline int block_list_more(const struct block_list *bl)
{
	return bl->off < bl->len;
}

/* Read the next block's header into `hdr` (TA memory) and set *sealed to the
 * block's first byte. TS_ERROR_BLOCK_FORMAT (block_gcm_read_header) or
 * TS_ERROR_BLOCK_SEQUENCE; the failing block's index is bl->count. */
TEE_Result block_list_next(struct block_list *bl, struct ts_block_header *hdr,
			   const uint8_t **sealed);

/* After the buffer is consumed: at least one block was read
 * (TS_ERROR_BLOCK_FORMAT) and exactly the table's block count
 * (TS_ERROR_BLOCK_SEQUENCE, failing index bl->count: the first missing). */
TEE_Result block_list_finish(const struct block_list *bl);

#endif /* TEESPARK_BLOCK_LIST_H */

/*
 * block_list.h - walk the concatenated sealed blocks of one table that a
 * command receives in a memref, checking format and sequence.
 *
 * The blocks of one call must be a whole table in order: block i carries
 * block_index i, every block carries block_count = the number of blocks
 * given, and table id, table version, row size and schema hash equal those of
 * block 0. Headers are copied into TA memory before they are checked (see
 * block_gcm_read_header); the walk never re-reads a header from shared memory.
 * Since every header is GCM AAD, a block that passes here and then opens is
 * exactly the block its owner sealed at that position.
 */
#ifndef TEESPARK_BLOCK_LIST_H
#define TEESPARK_BLOCK_LIST_H

#include "../shim_tee.h"

struct block_list {
	const uint8_t *buf;	/* untrusted (shared) memory */
	size_t len;
	size_t off;		/* start of the next block */
	uint32_t count;		/* blocks read so far = index of the next */
	struct ts_block_header first;	/* TA copy of block 0's header */
};

void block_list_start(struct block_list *bl, const void *buf, size_t len);

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
 * (TS_ERROR_BLOCK_FORMAT) and exactly block_count of them
 * (TS_ERROR_BLOCK_SEQUENCE, failing index bl->count: the first missing). */
TEE_Result block_list_finish(const struct block_list *bl);

#endif /* TEESPARK_BLOCK_LIST_H */

/*
 * output_table.h - the new table a command writes from a registered one
 * (SORT_BLOCKS, EXPORT_RESULT): its public shape, the size check of the
 * output memref, its sealed blocks and its descriptor.
 *
 * Output memref layout: a head of head_size bytes the command fills (the
 * descriptor, or envelope | descriptor), then blocks 0 .. block_count-1,
 * each sealed with block_gcm under the output key with a fresh nonce:
 * every block holds rows_per_block rows but the last, and a table of zero
 * rows has one empty block (table_block_count). Everything in struct
 * output_table is public.
 */
#ifndef TEESPARK_OUTPUT_TABLE_H
#define TEESPARK_OUTPUT_TABLE_H

#include "../shim_tee.h"
#include "../table_registry.h"
#include "../crypto/block_gcm.h"

struct output_table {
	struct ta_table t;	/* shape; in_use, slot_mask 0 (see init) */
	size_t max_block;	/* plaintext bytes of the largest block */
	uint8_t *blocks;	/* block 0 in the output memref */
	size_t off;		/* bytes of sealed blocks written */
	uint32_t next;		/* index of the next block to seal */
};

/* Set the shape of the output table (block_count is set by
 * output_table_start). in_use and slot_mask are left 0: a caller that
 * registers the table sets them. */
void output_table_init(struct output_table *o, const uint8_t table_id[16],
		       uint64_t table_version, uint64_t row_count,
		       uint32_t row_size, uint32_t rows_per_block,
		       const uint8_t schema_hash[32]);

/* Check the shape and the output memref `out`, set block_count, max_block
 * and blocks. Failures, in the order checked:
 *   TS_ERROR_BAD_REQUEST   a full block exceeds TS_MAX_BLOCK_PLAINTEXT
 *                          (logged, prefixed with `cmd`);
 *   TEE_ERROR_OVERFLOW     the row or block count exceeds 32 bits (the
 *                          caller maps it to its own answer);
 *   TEE_ERROR_SHORT_BUFFER out cannot hold head_size bytes and every sealed
 *                          block; out->memref.size is set to the size
 *                          needed. */
TEE_Result output_table_start(struct output_table *o, const char *cmd,
			      size_t head_size, TEE_Param *out);

/* Seal `rows` rows at `pt` (TA memory, rows * row_size bytes) as the next
 * block under `enc`, after the blocks already written.
 * TS_ERROR_BLOCK_SEQUENCE if all block_count blocks are written.
 * Leaks: block index, row count, row size.  Hides: rows, the output key. */
TEE_Result output_table_seal(struct output_table *o, struct block_gcm *enc,
			     uint32_t rows, const uint8_t *pt);

/* The command's result once every block is sealed: the output memref's
 * size (head_size + the sealed blocks), and in params[3] a = rows,
 * b = blocks. */
void output_table_result(const struct output_table *o, size_t head_size,
			 TEE_Param params[SHIM_NUM_PARAMS]);

/* The output table's descriptor naming key_id, MAC'd under `key`.
 * Leaks: nothing (the descriptor is public).  Hides: the key. */
TEE_Result output_table_descriptor(const struct output_table *o,
				   const uint8_t key_id[16],
				   const uint8_t key[TS_KEY_SIZE],
				   struct ts_table_descriptor *d);

#endif /* TEESPARK_OUTPUT_TABLE_H */

/*
 * output_table.c - the output table of SORT_BLOCKS and EXPORT_RESULT (see
 * output_table.h). Its shape is public: the checks may branch on it; rows
 * are only handed to block_gcm_seal.
 */
#include "output_table.h"
#include "../crypto/descriptor_mac.h"

/* see output_table.h */
void output_table_init(struct output_table *o, const uint8_t table_id[16],
		       uint64_t table_version, uint64_t row_count,
		       uint32_t row_size, uint32_t rows_per_block,
		       const uint8_t schema_hash[32])
{
	struct ta_table *t = &o->t;

	TEE_MemFill(o, 0, sizeof(*o));
	TEE_MemMove(t->table_id, table_id, sizeof(t->table_id));
	t->table_version = table_version;
	t->row_count = row_count;
	t->row_size = row_size;
	t->rows_per_block = rows_per_block;
	TEE_MemMove(t->schema_hash, schema_hash, sizeof(t->schema_hash));
}

/* see output_table.h */
TEE_Result output_table_start(struct output_table *o, const char *cmd,
			      size_t head_size, TEE_Param *out)
{
	struct ta_table *t = &o->t;
	uint64_t n_blocks, needed, block_rows;

	/* A block holds at most rows_per_block rows (fewer if the table is
	 * smaller) and must obey the block plaintext limit. */
	block_rows = t->row_count < t->rows_per_block ? t->row_count :
							 t->rows_per_block;
	if (block_rows * t->row_size > TS_MAX_BLOCK_PLAINTEXT) {
		SHIM_LOGE("%s: %u rows of %u bytes exceed the block limit", cmd,
			  t->rows_per_block, t->row_size);
		return TS_ERROR_BAD_REQUEST;
	}
	n_blocks = table_block_count(t->row_count, t->rows_per_block);
	if (t->row_count > UINT32_MAX || n_blocks > UINT32_MAX)
		return TEE_ERROR_OVERFLOW;
	needed = head_size + n_blocks * (TS_BLOCK_HEADER_SIZE + TS_TAG_SIZE) +
		 t->row_count * t->row_size;
	if (out->memref.size < needed || !out->memref.buffer) {
		out->memref.size = (size_t)needed;
		return TEE_ERROR_SHORT_BUFFER;
	}
	t->block_count = (uint32_t)n_blocks;
	o->max_block = (size_t)block_rows * t->row_size;
	o->blocks = (uint8_t *)out->memref.buffer + head_size;
	o->off = 0;
	o->next = 0;
	return TEE_SUCCESS;
}

/* see output_table.h */
TEE_Result output_table_seal(struct output_table *o, struct block_gcm *enc,
			     uint32_t rows, const uint8_t *pt)
{
	const struct ta_table *t = &o->t;
	struct ts_block_header hdr;
	TEE_Result res;

	if (o->next >= t->block_count)
		return TS_ERROR_BLOCK_SEQUENCE;
	block_gcm_header_init(&hdr);
	TEE_MemMove(hdr.table_id, t->table_id, sizeof(hdr.table_id));
	hdr.table_version = t->table_version;
	hdr.block_index = o->next;
	hdr.block_count = t->block_count;
	hdr.row_count = rows;
	hdr.row_size = t->row_size;
	TEE_MemMove(hdr.schema_hash, t->schema_hash, sizeof(hdr.schema_hash));
	hdr.ciphertext_size = rows * t->row_size;
	res = block_gcm_seal(enc, &hdr, pt, o->blocks + o->off);
	if (res != TEE_SUCCESS)
		return res;
	o->off += TS_SEALED_BLOCK_SIZE((size_t)hdr.ciphertext_size);
	o->next++;
	return TEE_SUCCESS;
}

/* see output_table.h */
void output_table_result(const struct output_table *o, size_t head_size,
			 TEE_Param params[SHIM_NUM_PARAMS])
{
	params[1].memref.size = head_size + o->off;
	params[3].value.a = (uint32_t)o->t.row_count;
	params[3].value.b = o->t.block_count;
}

/* see output_table.h */
TEE_Result output_table_descriptor(const struct output_table *o,
				   const uint8_t key_id[16],
				   const uint8_t key[TS_KEY_SIZE],
				   struct ts_table_descriptor *d)
{
	table_to_descriptor(&o->t, key_id, d);
	return descriptor_mac_seal(key, d);
}

/*
 * block_list.c - sequence checks over concatenated sealed blocks of a
 * registered table (see block_list.h). Headers are public: the checks may
 * branch on them.
 */
#include "block_list.h"
#include "../crypto/block_gcm.h"

/* see block_list.h */
TEE_Result block_list_find_table(struct table_registry *reg, const void *buf,
				 size_t len, uint32_t slot, struct ta_table *t)
{
	struct ts_block_header hdr;
	const struct ta_table *e;
	TEE_Result res;

	res = block_gcm_read_header(buf, buf ? len : 0, &hdr);
	if (res != TEE_SUCCESS)
		return res;
	e = table_registry_find(reg, hdr.table_id);
	if (!e) {
		SHIM_LOGE("blocks of a table that is not registered");
		return TS_ERROR_TABLE_UNKNOWN;
	}
	if (slot >= 32 || !(e->slot_mask & (1u << slot))) {
		SHIM_LOGE("table not registered with key slot %u", slot);
		return TS_ERROR_TABLE_UNKNOWN;
	}
	*t = *e;
	return TEE_SUCCESS;
}

void block_list_start(struct block_list *bl, const void *buf, size_t len,
		      const struct ta_table *t)
{
	TEE_MemFill(bl, 0, sizeof(*bl));
	bl->buf = buf;
	bl->len = buf ? len : 0;
	bl->table = *t;
}

/* see block_list.h */
TEE_Result block_list_next(struct block_list *bl, struct ts_block_header *hdr,
			   const uint8_t **sealed)
{
	const struct ta_table *t = &bl->table;
	TEE_Result res;

	res = block_gcm_read_header(bl->buf + bl->off, bl->len - bl->off, hdr);
	if (res != TEE_SUCCESS)
		return res;
	if (hdr->block_index != bl->count ||
	    hdr->block_count != t->block_count ||
	    hdr->block_index >= hdr->block_count ||
	    hdr->table_version != t->table_version ||
	    hdr->row_size != t->row_size ||
	    hdr->row_count != table_block_rows(t, hdr->block_index) ||
	    TEE_MemCompare(hdr->table_id, t->table_id, sizeof(t->table_id)) ||
	    TEE_MemCompare(hdr->schema_hash, t->schema_hash,
			   sizeof(t->schema_hash)))
		return TS_ERROR_BLOCK_SEQUENCE;

	*sealed = bl->buf + bl->off;
	bl->off += TS_SEALED_BLOCK_SIZE((size_t)hdr->ciphertext_size);
	bl->count++;
	return TEE_SUCCESS;
}

/* see block_list.h */
TEE_Result block_list_finish(const struct block_list *bl)
{
	if (bl->count == 0)
		return TS_ERROR_BLOCK_FORMAT;
	if (bl->count != bl->table.block_count)
		return TS_ERROR_BLOCK_SEQUENCE;
	return TEE_SUCCESS;
}

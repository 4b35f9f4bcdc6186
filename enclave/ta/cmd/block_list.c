/*
 * block_list.c - sequence checks over concatenated sealed blocks (see
 * block_list.h). Headers are public: the checks may branch on them.
 */
#include "block_list.h"
#include "../crypto/block_gcm.h"

void block_list_start(struct block_list *bl, const void *buf, size_t len)
{
	TEE_MemFill(bl, 0, sizeof(*bl));
	bl->buf = buf;
	bl->len = buf ? len : 0;
}

/* see block_list.h */
TEE_Result block_list_next(struct block_list *bl, struct ts_block_header *hdr,
			   const uint8_t **sealed)
{
	const struct ts_block_header *f = &bl->first;
	TEE_Result res;

	res = block_gcm_read_header(bl->buf + bl->off, bl->len - bl->off, hdr);
	if (res != TEE_SUCCESS)
		return res;
	if (bl->count == 0)
		bl->first = *hdr;

	if (hdr->block_index != bl->count ||
	    hdr->block_count != f->block_count ||
	    hdr->block_index >= hdr->block_count ||
	    hdr->table_version != f->table_version ||
	    hdr->row_size != f->row_size ||
	    TEE_MemCompare(hdr->table_id, f->table_id, sizeof(f->table_id)) ||
	    TEE_MemCompare(hdr->schema_hash, f->schema_hash,
			   sizeof(f->schema_hash)))
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
	if (bl->count != bl->first.block_count)
		return TS_ERROR_BLOCK_SEQUENCE;
	return TEE_SUCCESS;
}

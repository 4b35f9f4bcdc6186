/*
 * cmd_reseal_blocks.c - TA_TEESPARK_CMD_RESEAL_BLOCKS: open every block under
 * one key slot and seal the same rows under another with fresh nonces.
 *
 * The input must be the complete block sequence of a table registered with
 * the input slot (table_registry.h). Two passes over it: the first reads
 * only headers (format, sequence against the registered table, largest
 * block), so a malformed table fails before any crypto work and the one
 * plaintext buffer is sized once; the second opens and seals block by
 * block, re-reading and re-checking every header from shared memory.
 *
 * On success the output slot joins the slots that open the registered table
 * (same id, version and shape, sealed here by the TA), so the resealed copy
 * can feed the next command, e.g. after a move to a query key. A KBS key
 * bound to another table is refused as output key (TEE_ERROR_ACCESS_DENIED).
 */
#include "cmd.h"
#include "block_list.h"
#include "../crypto/block_gcm.h"

/* Pass 1: headers only. On a TS_ERROR_BLOCK_* error *fail_index is the block. */
static TEE_Result scan_blocks(const void *buf, size_t len,
			      const struct ta_table *table, size_t *max_ct,
			      uint32_t *fail_index)
{
	struct block_list bl;
	struct ts_block_header hdr;
	const uint8_t *sealed;
	TEE_Result res;

	*max_ct = 0;
	block_list_start(&bl, buf, len, table);
	while (block_list_more(&bl)) {
		res = block_list_next(&bl, &hdr, &sealed);
		if (res != TEE_SUCCESS) {
			*fail_index = bl.count;
			return res;
		}
		if (hdr.ciphertext_size > *max_ct)
			*max_ct = hdr.ciphertext_size;
	}
	res = block_list_finish(&bl);
	*fail_index = bl.count;
	return res;
}

/* Open each block into `pt` and seal it into `out`.
 * Leaks: block count and sizes, headers (public), which block failed
 * authentication.  Hides: rows, keys. */
static TEE_Result reseal_all(struct block_gcm *dec, struct block_gcm *enc,
			     const struct ta_table *table,
			     const void *in, size_t in_len, uint8_t *out,
			     uint8_t *pt, size_t pt_cap, size_t *out_len,
			     uint64_t *open_us, uint64_t *seal_us,
			     uint32_t *fail_index)
{
	struct block_list bl;
	struct ts_block_header hdr;
	const uint8_t *sealed;
	size_t off = 0;
	uint64_t t0, t1, t2;
	TEE_Result res;

	block_list_start(&bl, in, in_len, table);
	while (block_list_more(&bl)) {
		*fail_index = bl.count;
		if (cmd_cancelled())
			return TEE_ERROR_CANCEL;
		res = block_list_next(&bl, &hdr, &sealed);
		if (res != TEE_SUCCESS)
			return res;
		/* The host rewrote a header between the passes. */
		if (hdr.ciphertext_size > pt_cap)
			return TS_ERROR_BLOCK_FORMAT;
		t0 = cmd_now_us();
		res = block_gcm_open(dec, &hdr, sealed, pt);
		t1 = cmd_now_us();
		*open_us += t1 - t0;
		if (res != TEE_SUCCESS)
			return res;
		/* Same header, fresh nonce (block_gcm_seal draws it). */
		res = block_gcm_seal(enc, &hdr, pt, out + off);
		t2 = cmd_now_us();
		*seal_us += t2 - t1;
		if (res != TEE_SUCCESS)
			return res;
		off += TS_SEALED_BLOCK_SIZE((size_t)hdr.ciphertext_size);
	}
	res = block_list_finish(&bl);
	*fail_index = bl.count;
	*out_len = off;
	return res;
}

/* see cmd.h */
TEE_Result cmd_reseal_blocks(struct ta_session *s, uint32_t param_types,
			     TEE_Param params[SHIM_NUM_PARAMS])
{
	const uint32_t exp = TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_MEMREF_OUTPUT,
					     TEE_PARAM_TYPE_VALUE_INPUT,
					     TEE_PARAM_TYPE_VALUE_OUTPUT);
	struct block_gcm dec = { TEE_HANDLE_NULL };
	struct block_gcm enc = { TEE_HANDLE_NULL };
	struct ta_table table;
	struct ta_table *entry;
	const uint8_t *in_key, *out_key;
	const void *in;
	size_t in_len, max_ct = 0, out_len = 0;
	uint8_t *pt = NULL;
	uint64_t open_us = 0, seal_us = 0;
	uint32_t fail_index = 0;
	bool was_masked;
	TEE_Result res;

	if (param_types != exp)
		return TEE_ERROR_BAD_PARAMETERS;
	params[3].value.a = 0;
	params[3].value.b = 0;
	in = params[0].memref.buffer;
	in_len = in ? params[0].memref.size : 0;

	in_key = key_slots_get(&s->keys, params[2].value.a, &res);
	if (!in_key) {
		SHIM_LOGE("RESEAL_BLOCKS: input key slot %u: 0x%x",
			  params[2].value.a, (unsigned int)res);
		return res;
	}
	out_key = key_slots_get(&s->keys, params[2].value.b, &res);
	if (!out_key) {
		SHIM_LOGE("RESEAL_BLOCKS: output key slot %u: 0x%x",
			  params[2].value.b, (unsigned int)res);
		return res;
	}

	/* A well-formed output has exactly the input's layout and size. */
	if (params[1].memref.size < in_len || (in_len && !params[1].memref.buffer)) {
		params[1].memref.size = in_len;
		return TEE_ERROR_SHORT_BUFFER;
	}

	res = block_list_find_table(&s->tables, in, in_len, params[2].value.a,
				    &table);
	if (res != TEE_SUCCESS)
		goto out_err;
	if (key_slots_bound_elsewhere(&s->keys, params[2].value.b,
				      table.table_id)) {
		SHIM_LOGE("RESEAL_BLOCKS: the key in slot %u belongs to another "
			  "table", params[2].value.b);
		return TEE_ERROR_ACCESS_DENIED;
	}
	res = scan_blocks(in, in_len, &table, &max_ct, &fail_index);
	if (res != TEE_SUCCESS)
		goto out_err;

	pt = TEE_Malloc(max_ct ? max_ct : 1, TEE_MALLOC_NO_FILL);
	if (!pt) {
		SHIM_LOGE("RESEAL_BLOCKS: no heap for a %zu-byte block", max_ct);
		return TEE_ERROR_OUT_OF_MEMORY;
	}
	res = block_gcm_init(&dec, TEE_MODE_DECRYPT, in_key);
	if (res == TEE_SUCCESS)
		res = block_gcm_init(&enc, TEE_MODE_ENCRYPT, out_key);
	if (res != TEE_SUCCESS)
		goto out_free;

	was_masked = TEE_UnmaskCancellation();
	res = reseal_all(&dec, &enc, &table, in, in_len,
			 params[1].memref.buffer, pt, max_ct, &out_len,
			 &open_us, &seal_us, &fail_index);
	if (was_masked)
		TEE_MaskCancellation();
	if (res == TEE_SUCCESS) {
		/* Still the same registration (nothing ran in between: calls
		 * on one session are serialized)? Then add the out slot. */
		entry = table_registry_find(&s->tables, table.table_id);
		if (entry && entry->table_version == table.table_version &&
		    entry->block_count == table.block_count)
			entry->slot_mask |= 1u << params[2].value.b;
		params[1].memref.size = out_len;
		params[3].value.a = (uint32_t)(open_us > UINT32_MAX ?
					       UINT32_MAX : open_us);
		params[3].value.b = (uint32_t)(seal_us > UINT32_MAX ?
					       UINT32_MAX : seal_us);
	}
out_free:
	block_gcm_free(&dec);
	block_gcm_free(&enc);
	shim_wipe(pt, max_ct);
	TEE_Free(pt);
out_err:
	if (cmd_is_block_error(res)) {
		params[3].value.a = fail_index;
		SHIM_LOGE("RESEAL_BLOCKS: block %u: 0x%x", fail_index,
			  (unsigned int)res);
	}
	return res;
}

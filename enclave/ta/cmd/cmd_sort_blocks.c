/*
 * cmd_sort_blocks.c - TA_TEESPARK_CMD_SORT_BLOCKS: open a table's blocks,
 * sort all rows by the request's key columns with an oblivious sorting
 * network, seal the sorted rows into new blocks with fresh nonces.
 *
 * Shape of the work (every size here is public: block count, row count, row
 * size, rows per output block):
 *   1. copy the request into TA memory and validate it;
 *   2. find the registered table the input claims to be (it must be
 *      registered with in_key_slot), then pass 1 over the input headers:
 *      format, sequence against the registered table, schema hash, sizes;
 *   3. one heap buffer of n sort records ([key words | row]); pass 2 opens
 *      each block into a one-block plaintext buffer and encodes its rows
 *      straight into the records (obl_key_encode);
 *   4. obl_sort_bitonic over all n records;
 *   5. strip rows_per_block records at a time back into rows
 *      (obl_key_encode_strip) and seal them as output block j;
 *   6. write the output table's descriptor (MAC under the out slot's key)
 *      before the blocks, and register the output table in the session
 *      with the out slot, so it can feed the next command.
 * Nothing here branches on or indexes by row contents: loop bounds and
 * offsets come from the counts above; plaintext is touched only by memory
 * copies, the GP AES-GCM calls and the obl_ kernels. All plaintext buffers
 * are wiped before they are freed, on every path.
 *
 * Memory: n * rec_size + one block, where rec_size = 8 * key_words + row_size
 * rounded up to 8. A table whose records do not fit the TA heap gets
 * TEE_ERROR_OUT_OF_MEMORY (block-level external sorting is a later step).
 */
#include "cmd.h"
#include "block_list.h"
#include "output_table.h"
#include "../crypto/block_gcm.h"
#include "../ops/key_encode.h"
#include "../ops/sort_bitonic.h"

/* The shape of the input table, from pass 1. */
struct sort_input {
	uint32_t n_blocks;
	uint32_t row_size;
	uint64_t n_rows;
	size_t max_ct;			/* largest block's plaintext bytes */
};

/* Everything the handler allocates, freed (and wiped) in one place. */
struct sort_state {
	struct block_gcm dec;
	struct block_gcm enc;
	uint8_t *recs;
	size_t recs_size;
	uint8_t *pt;			/* one input or output block */
	size_t pt_size;
};

static void sort_state_free(struct sort_state *st)
{
	block_gcm_free(&st->dec);
	block_gcm_free(&st->enc);
	cmd_free_wiped(&st->recs, st->recs_size);
	cmd_free_wiped(&st->pt, st->pt_size);
}

/* Pass 1: headers only. On TS_ERROR_BLOCK_* *fail_index is the block. */
static TEE_Result scan_input(const void *buf, size_t len,
			     const struct ts_sort_request *req,
			     const struct ta_table *table,
			     struct sort_input *in, uint32_t *fail_index)
{
	struct block_list bl;
	struct ts_block_header hdr;
	const uint8_t *sealed;
	TEE_Result res;

	TEE_MemFill(in, 0, sizeof(*in));
	block_list_start(&bl, buf, len, table);
	while (block_list_more(&bl)) {
		*fail_index = bl.count;
		res = block_list_next(&bl, &hdr, &sealed);
		if (res != TEE_SUCCESS)
			return res;
		/* The registered schema must be the request's. */
		if (TEE_MemCompare(hdr.schema_hash, req->schema_hash,
				   sizeof(hdr.schema_hash)))
			return TS_ERROR_BLOCK_SEQUENCE;
		in->n_rows += hdr.row_count;
		if (hdr.ciphertext_size > in->max_ct)
			in->max_ct = hdr.ciphertext_size;
	}
	*fail_index = bl.count;
	res = block_list_finish(&bl);
	if (res != TEE_SUCCESS)
		return res;
	in->n_blocks = bl.count;
	in->row_size = bl.table.row_size;
	return TEE_SUCCESS;
}

/* Pass 2: open every block and encode its rows into st->recs.
 * Leaks: block count, rows per block, row size, which block failed
 * authentication.  Hides: rows, keys. */
static TEE_Result open_and_encode(struct sort_state *st, const void *buf,
				  size_t len, const struct ts_sort_request *req,
				  const struct ta_table *table,
				  const struct sort_input *in,
				  const struct obl_key_col *cols,
				  size_t rec_size, uint32_t *fail_index)
{
	struct block_list bl;
	struct ts_block_header hdr;
	const uint8_t *sealed;
	uint64_t rows_done = 0;
	TEE_Result res;

	block_list_start(&bl, buf, len, table);
	while (block_list_more(&bl)) {
		*fail_index = bl.count;
		if (cmd_cancelled())
			return TEE_ERROR_CANCEL;
		res = block_list_next(&bl, &hdr, &sealed);
		if (res != TEE_SUCCESS)
			return res;
		/* Headers re-read from shared memory must match pass 1. */
		if (hdr.row_size != in->row_size ||
		    hdr.ciphertext_size > in->max_ct ||
		    hdr.row_count > in->n_rows - rows_done ||
		    TEE_MemCompare(hdr.schema_hash, req->schema_hash,
				   sizeof(hdr.schema_hash)))
			return TS_ERROR_BLOCK_SEQUENCE;
		res = block_gcm_open(&st->dec, &hdr, sealed, st->pt);
		if (res != TEE_SUCCESS)
			return res;
		obl_key_encode(st->pt, hdr.row_count, hdr.row_size, cols,
			       req->key_count,
			       st->recs + (size_t)rows_done * rec_size);
		rows_done += hdr.row_count;
	}
	*fail_index = bl.count;
	res = block_list_finish(&bl);
	if (res != TEE_SUCCESS)
		return res;
	if (bl.count != in->n_blocks || rows_done != in->n_rows)
		return TS_ERROR_BLOCK_SEQUENCE;
	return TEE_SUCCESS;
}

/* Strip and seal the sorted records into the output blocks.
 * Leaks: row count, row size, rows per block.  Hides: rows, their order. */
static TEE_Result seal_output(struct sort_state *st,
			      const struct sort_input *in, size_t key_words,
			      size_t rec_size, struct output_table *o)
{
	const uint32_t rpb = o->t.rows_per_block;
	uint64_t r0 = 0;
	uint32_t cnt;
	TEE_Result res;

	while (o->next < o->t.block_count) {
		if (cmd_cancelled())
			return TEE_ERROR_CANCEL;
		cnt = (uint32_t)(in->n_rows - r0 < rpb ? in->n_rows - r0 : rpb);
		obl_key_encode_strip(st->recs + (size_t)r0 * rec_size, cnt,
				     key_words, in->row_size, st->pt);
		res = output_table_seal(o, &st->enc, cnt, st->pt);
		if (res != TEE_SUCCESS)
			return res;
		r0 += cnt;
	}
	return TEE_SUCCESS;
}

/* see cmd.h */
TEE_Result cmd_sort_blocks(struct ta_session *s, uint32_t param_types,
			   TEE_Param params[SHIM_NUM_PARAMS])
{
	struct sort_state st = { { TEE_HANDLE_NULL }, { TEE_HANDLE_NULL },
				 NULL, 0, NULL, 0 };
	struct obl_key_col cols[TS_MAX_SORT_KEYS];
	struct ts_sort_request req;
	struct ts_table_descriptor out_desc;
	struct ta_table table;
	struct output_table ot;
	struct sort_input in;
	const struct key_slot *out_meta;
	const uint8_t *in_key, *out_key = NULL;
	const void *in_buf;
	size_t in_len, key_words, rec_size;
	uint32_t fail_index = 0;
	bool was_masked;
	TEE_Result res;

	/* 1. The request, copied once: later checks read only the copy. */
	res = cmd_request_params(param_types, params, "sort", &req,
				 sizeof(req), &in_buf, &in_len);
	if (res != TEE_SUCCESS)
		return res;
	TEE_MemFill(cols, 0, sizeof(cols));
	res = cmd_check_sort_request(&req, cols);
	if (res != TEE_SUCCESS) {
		SHIM_LOGE("SORT_BLOCKS: invalid request");
		return res;
	}
	in_key = key_slots_get(&s->keys, req.in_key_slot, &res);
	if (in_key)
		out_key = key_slots_get(&s->keys, req.out_key_slot, &res);
	if (res != TEE_SUCCESS) {
		SHIM_LOGE("SORT_BLOCKS: key slots %u/%u: 0x%x",
			  req.in_key_slot, req.out_key_slot,
			  (unsigned int)res);
		return res;
	}
	if (key_slots_bound_elsewhere(&s->keys, req.out_key_slot,
				      req.out_table_id)) {
		SHIM_LOGE("SORT_BLOCKS: the key in slot %u belongs to another "
			  "table", req.out_key_slot);
		return TEE_ERROR_ACCESS_DENIED;
	}

	/* 2. The registered table, then headers. */
	res = block_list_find_table(&s->tables, in_buf, in_len,
				    req.in_key_slot, &table);
	if (res != TEE_SUCCESS)
		goto out;
	res = scan_input(in_buf, in_len, &req, &table, &in, &fail_index);
	if (res != TEE_SUCCESS)
		goto out;
	if (obl_key_encode_check(cols, req.key_count, in.row_size) != 0) {
		SHIM_LOGE("SORT_BLOCKS: key columns outside %u-byte rows",
			  in.row_size);
		res = TS_ERROR_BAD_REQUEST;
		goto out;
	}
	/* The output: the sorted rows, registered with the out slot. */
	output_table_init(&ot, req.out_table_id, req.out_table_version,
			  in.n_rows, in.row_size, req.rows_per_block,
			  req.schema_hash);
	ot.t.in_use = 1;
	ot.t.slot_mask = 1u << req.out_key_slot;
	res = output_table_start(&ot, "SORT_BLOCKS", TS_TABLE_DESCRIPTOR_SIZE,
				 &params[1]);
	if (res == TEE_ERROR_OVERFLOW)
		res = TEE_ERROR_OUT_OF_MEMORY;	/* no heap holds the records */
	if (res != TEE_SUCCESS)
		goto out;

	/* 3. Memory: all records plus one block. */
	key_words = obl_key_words_for(cols, req.key_count);
	rec_size = obl_key_encode_rec_size(key_words, in.row_size);
	if (in.n_rows > (SIZE_MAX - 1) / rec_size) {
		res = TEE_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	st.recs_size = (size_t)in.n_rows * rec_size;
	st.pt_size = in.max_ct > ot.max_block ? in.max_ct : ot.max_block;
	st.recs = TEE_Malloc(st.recs_size ? st.recs_size : 1,
			     TEE_MALLOC_NO_FILL);
	st.pt = TEE_Malloc(st.pt_size ? st.pt_size : 1, TEE_MALLOC_NO_FILL);
	if (!st.recs || !st.pt) {
		SHIM_LOGE("SORT_BLOCKS: %zu records of %zu bytes do not fit the heap",
			  (size_t)in.n_rows, rec_size);
		res = TEE_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	res = block_gcm_init(&st.dec, TEE_MODE_DECRYPT, in_key);
	if (res == TEE_SUCCESS)
		res = block_gcm_init(&st.enc, TEE_MODE_ENCRYPT, out_key);
	/* key_id: the out key's keyring id if the KBS released it, else zero
	 * (a query or development key has none). */
	out_meta = key_slots_meta(&s->keys, req.out_key_slot);
	if (res == TEE_SUCCESS)
		res = output_table_descriptor(&ot, out_meta->key_id, out_key,
					      &out_desc);
	if (res != TEE_SUCCESS)
		goto out;

	was_masked = TEE_UnmaskCancellation();
	res = open_and_encode(&st, in_buf, in_len, &req, &table, &in, cols,
			      rec_size, &fail_index);
	if (res == TEE_SUCCESS && cmd_cancelled())
		res = TEE_ERROR_CANCEL;
	if (res == TEE_SUCCESS) {
		/* 4. The oblivious sort. */
		obl_sort_bitonic(st.recs, (size_t)in.n_rows, rec_size,
				 key_words);
		/* 5. Output blocks. */
		res = seal_output(&st, &in, key_words, rec_size, &ot);
	}
	if (was_masked)
		TEE_MaskCancellation();
	if (res == TEE_SUCCESS) {
		/* 6. Descriptor first, then the table joins the session. */
		TEE_MemMove(params[1].memref.buffer, &out_desc, sizeof(out_desc));
		table_registry_put(&s->tables, &ot.t);
		output_table_result(&ot, TS_TABLE_DESCRIPTOR_SIZE, params);
	}
out:
	sort_state_free(&st);
	cmd_report_block_error(res, fail_index, params, "SORT_BLOCKS");
	return res;
}

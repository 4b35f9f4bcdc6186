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
#include "../crypto/block_gcm.h"
#include "../crypto/descriptor_mac.h"
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
	if (st->recs) {
		shim_wipe(st->recs, st->recs_size);
		TEE_Free(st->recs);
	}
	if (st->pt) {
		shim_wipe(st->pt, st->pt_size);
		TEE_Free(st->pt);
	}
	st->recs = NULL;
	st->pt = NULL;
}

/* Checks that need no row size. Unused key entries must be all zero, like
 * every reserved field, so that later ABI versions can give them meaning. */
static TEE_Result check_request(const struct ts_sort_request *req,
				struct obl_key_col *cols)
{
	uint32_t i;

	if (req->in_key_slot >= TS_MAX_KEY_SLOTS ||
	    req->out_key_slot >= TS_MAX_KEY_SLOTS ||
	    req->rows_per_block == 0 ||
	    req->key_count == 0 || req->key_count > TS_MAX_SORT_KEYS)
		return TS_ERROR_BAD_REQUEST;
	for (i = 0; i < TS_MAX_SORT_KEYS; i++) {
		const struct ts_sort_key *k = &req->keys[i];

		if (i >= req->key_count) {
			if (k->type || k->descending || k->offset ||
			    k->width || k->reserved)
				return TS_ERROR_BAD_REQUEST;
			continue;
		}
		cols[i].type = k->type;
		cols[i].descending = k->descending;
		cols[i].offset = k->offset;
		cols[i].width = k->width;
		cols[i].reserved = k->reserved;
	}
	/* Types, widths, descending and reserved; offsets wait for row_size. */
	if (obl_key_words_for(cols, req->key_count) == 0)
		return TS_ERROR_BAD_REQUEST;
	return TEE_SUCCESS;
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

/* Strip and seal the sorted records into n_out blocks at `out`.
 * Leaks: row count, row size, rows per block.  Hides: rows, their order. */
static TEE_Result seal_output(struct sort_state *st,
			      const struct ts_sort_request *req,
			      const struct sort_input *in, size_t key_words,
			      size_t rec_size, uint32_t n_out, uint8_t *out,
			      size_t *out_len)
{
	struct ts_block_header hdr;
	size_t off = 0;
	uint64_t r0 = 0;
	uint32_t j, cnt;
	TEE_Result res;

	for (j = 0; j < n_out; j++) {
		if (cmd_cancelled())
			return TEE_ERROR_CANCEL;
		cnt = (uint32_t)(in->n_rows - r0 < req->rows_per_block ?
				 in->n_rows - r0 : req->rows_per_block);
		obl_key_encode_strip(st->recs + (size_t)r0 * rec_size, cnt,
				     key_words, in->row_size, st->pt);

		block_gcm_header_init(&hdr);
		TEE_MemMove(hdr.table_id, req->out_table_id,
			    sizeof(hdr.table_id));
		hdr.table_version = req->out_table_version;
		hdr.block_index = j;
		hdr.block_count = n_out;
		hdr.row_count = cnt;
		hdr.row_size = in->row_size;
		TEE_MemMove(hdr.schema_hash, req->schema_hash,
			    sizeof(hdr.schema_hash));
		hdr.ciphertext_size = cnt * in->row_size;

		res = block_gcm_seal(&st->enc, &hdr, st->pt, out + off);
		if (res != TEE_SUCCESS)
			return res;
		off += TS_SEALED_BLOCK_SIZE((size_t)hdr.ciphertext_size);
		r0 += cnt;
	}
	*out_len = off;
	return TEE_SUCCESS;
}

/* The output table's registry entry and descriptor (MAC under out_key).
 * Leaks: nothing (all public).  Hides: the out key. */
static TEE_Result output_table(struct ta_session *s,
			       const struct ts_sort_request *req,
			       const struct sort_input *in, uint32_t n_out,
			       const uint8_t *out_key, struct ta_table *t,
			       struct ts_table_descriptor *d)
{
	const struct key_slot *meta = key_slots_meta(&s->keys, req->out_key_slot);

	TEE_MemFill(t, 0, sizeof(*t));
	t->in_use = 1;
	t->slot_mask = 1u << req->out_key_slot;
	TEE_MemMove(t->table_id, req->out_table_id, sizeof(t->table_id));
	t->table_version = req->out_table_version;
	t->row_count = in->n_rows;
	t->block_count = n_out;
	t->row_size = in->row_size;
	t->rows_per_block = req->rows_per_block;
	TEE_MemMove(t->schema_hash, req->schema_hash, sizeof(t->schema_hash));
	/* key_id: the out key's keyring id if the KBS released it, else zero
	 * (a query or development key has none). */
	table_to_descriptor(t, meta->key_id, d);
	return descriptor_mac_seal(out_key, d);
}

/* see cmd.h */
TEE_Result cmd_sort_blocks(struct ta_session *s, uint32_t param_types,
			   TEE_Param params[SHIM_NUM_PARAMS])
{
	const uint32_t exp = TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_MEMREF_OUTPUT,
					     TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_VALUE_OUTPUT);
	struct sort_state st = { { TEE_HANDLE_NULL }, { TEE_HANDLE_NULL },
				 NULL, 0, NULL, 0 };
	struct obl_key_col cols[TS_MAX_SORT_KEYS];
	struct ts_sort_request req;
	struct ts_table_descriptor out_desc;
	struct ta_table table, out_table;
	struct sort_input in;
	const uint8_t *in_key, *out_key = NULL;
	const void *in_buf;
	size_t in_len, key_words, rec_size, out_block_bytes, out_len = 0;
	uint64_t n_out64, needed, out_rows;
	uint32_t n_out, fail_index = 0;
	bool was_masked;
	TEE_Result res;

	if (param_types != exp)
		return TEE_ERROR_BAD_PARAMETERS;
	params[3].value.a = 0;
	params[3].value.b = 0;
	if (params[2].memref.size != TS_SORT_REQUEST_SIZE ||
	    !params[2].memref.buffer) {
		SHIM_LOGE("Wrong sort request size %zu, expect %u bytes",
			  params[2].memref.size, TS_SORT_REQUEST_SIZE);
		return TEE_ERROR_BAD_PARAMETERS;
	}
	in_buf = params[0].memref.buffer;
	in_len = in_buf ? params[0].memref.size : 0;

	/* 1. The request, copied once: later checks read only the copy. */
	TEE_MemMove(&req, params[2].memref.buffer, sizeof(req));
	TEE_MemFill(cols, 0, sizeof(cols));
	res = check_request(&req, cols);
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
	/* An output block holds at most rows_per_block rows (fewer if the
	 * table is smaller) and must obey the block plaintext limit. */
	out_rows = in.n_rows < req.rows_per_block ? in.n_rows :
						    req.rows_per_block;
	if (out_rows * in.row_size > TS_MAX_BLOCK_PLAINTEXT) {
		SHIM_LOGE("SORT_BLOCKS: %u rows of %u bytes exceed the block limit",
			  req.rows_per_block, in.row_size);
		res = TS_ERROR_BAD_REQUEST;
		goto out;
	}
	out_block_bytes = (size_t)out_rows * in.row_size;
	/* Zero rows still give one (empty) block: a table has >= 1 block. */
	n_out64 = in.n_rows ? (in.n_rows + req.rows_per_block - 1) /
				      req.rows_per_block : 1;
	if (in.n_rows > UINT32_MAX || n_out64 > UINT32_MAX) {
		res = TEE_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	n_out = (uint32_t)n_out64;
	needed = TS_TABLE_DESCRIPTOR_SIZE +
		 n_out64 * (TS_BLOCK_HEADER_SIZE + TS_TAG_SIZE) +
		 in.n_rows * in.row_size;
	if (params[1].memref.size < needed || !params[1].memref.buffer) {
		params[1].memref.size = (size_t)needed;
		return TEE_ERROR_SHORT_BUFFER;
	}

	/* 3. Memory: all records plus one block. */
	key_words = obl_key_words_for(cols, req.key_count);
	rec_size = obl_key_encode_rec_size(key_words, in.row_size);
	if (in.n_rows > (SIZE_MAX - 1) / rec_size) {
		res = TEE_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	st.recs_size = (size_t)in.n_rows * rec_size;
	st.pt_size = in.max_ct > out_block_bytes ? in.max_ct : out_block_bytes;
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
	if (res == TEE_SUCCESS)
		res = output_table(s, &req, &in, n_out, out_key, &out_table,
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
		res = seal_output(&st, &req, &in, key_words, rec_size, n_out,
				  (uint8_t *)params[1].memref.buffer +
					  TS_TABLE_DESCRIPTOR_SIZE,
				  &out_len);
	}
	if (was_masked)
		TEE_MaskCancellation();
	if (res == TEE_SUCCESS) {
		/* 6. Descriptor first, then the table joins the session. */
		TEE_MemMove(params[1].memref.buffer, &out_desc, sizeof(out_desc));
		table_registry_put(&s->tables, &out_table);
		params[1].memref.size = TS_TABLE_DESCRIPTOR_SIZE + out_len;
		params[3].value.a = (uint32_t)in.n_rows;
		params[3].value.b = n_out;
	}
out:
	sort_state_free(&st);
	if (cmd_is_block_error(res)) {
		params[3].value.a = fail_index;
		SHIM_LOGE("SORT_BLOCKS: block %u: 0x%x", fail_index,
			  (unsigned int)res);
	}
	return res;
}

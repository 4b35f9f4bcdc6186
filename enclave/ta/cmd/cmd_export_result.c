/*
 * cmd_export_result.c - TA_TEESPARK_CMD_EXPORT_RESULT: reseal a registered
 * table for a result recipient the KBS named (teespark_ta.h).
 *
 *   1. the request, copied and checked; the recipient must be among those
 *      recorded from the imported KBS reply (TS_ERROR_RECIPIENT_UNKNOWN), so
 *      a host cannot have results sealed to a key of its own;
 *   2. the registered input table and pass 1 over its headers;
 *   3. a fresh random result key; pass 2 opens each input block and copies
 *      its rows into output blocks of rows_per_block rows (all full but the
 *      last), each sealed under the result key with a fresh nonce;
 *   4. the output descriptor (key_id = recipient id) MAC'd with the result
 *      key, and the result key wrapped to the recipient's X25519 key through
 *      a fresh ephemeral X25519 key pair (struct ts_result_envelope).
 * Output: envelope | descriptor | blocks. The result key is wiped before
 * returning; the output table is not registered (no slot holds its key).
 * Rows are moved by memory copies at public offsets only.
 */
#include "cmd.h"
#include "block_list.h"
#include "../crypto/block_gcm.h"
#include "../crypto/descriptor_mac.h"
#include "../crypto/hkdf.h"
#include "../crypto/key_wrap.h"

_Static_assert(sizeof(struct ts_export_request) == TS_EXPORT_REQUEST_SIZE,
	       "struct ts_export_request must be 48 bytes");
_Static_assert(sizeof(struct ts_result_envelope) == TS_RESULT_ENVELOPE_SIZE,
	       "struct ts_result_envelope must be 120 bytes");
_Static_assert(offsetof(struct ts_result_envelope, nonce) ==
	       TS_RESULT_ENVELOPE_AAD_SIZE,
	       "envelope AAD = magic .. ta_ephemeral_key");

#define EXPORT_HEAD_SIZE (TS_RESULT_ENVELOPE_SIZE + TS_TABLE_DESCRIPTOR_SIZE)

/* Everything the handler allocates, freed (and wiped) in one place. */
struct export_state {
	struct block_gcm dec;
	struct block_gcm enc;
	uint8_t *pt_in;			/* one input block */
	size_t pt_in_size;
	uint8_t *pt_out;		/* one output block */
	size_t pt_out_size;
	uint8_t result_key[TS_KEY_SIZE];
	struct x25519_key eph;
};

static void export_state_free(struct export_state *st)
{
	block_gcm_free(&st->dec);
	block_gcm_free(&st->enc);
	if (st->pt_in) {
		shim_wipe(st->pt_in, st->pt_in_size);
		TEE_Free(st->pt_in);
	}
	if (st->pt_out) {
		shim_wipe(st->pt_out, st->pt_out_size);
		TEE_Free(st->pt_out);
	}
	st->pt_in = NULL;
	st->pt_out = NULL;
	shim_wipe(st->result_key, sizeof(st->result_key));
	x25519_free(&st->eph);
}

/* The recipient named recipient_id in the imported reply, or NULL. */
static const struct ts_recipient *find_recipient(const struct ta_session *s,
						 const uint8_t id[16])
{
	uint32_t i;

	for (i = 0; i < s->kbs.n_recipients; i++)
		if (!TEE_MemCompare(s->kbs.recipients[i].recipient_id, id, 16))
			return &s->kbs.recipients[i];
	return NULL;
}

/* Pass 1: headers only; the largest input block. */
static TEE_Result scan_input(const void *buf, size_t len,
			     const struct ta_table *t, size_t *max_ct,
			     uint32_t *fail_index)
{
	struct block_list bl;
	struct ts_block_header hdr;
	const uint8_t *sealed;
	TEE_Result res;

	*max_ct = 0;
	block_list_start(&bl, buf, len, t);
	while (block_list_more(&bl)) {
		*fail_index = bl.count;
		res = block_list_next(&bl, &hdr, &sealed);
		if (res != TEE_SUCCESS)
			return res;
		if (hdr.ciphertext_size > *max_ct)
			*max_ct = hdr.ciphertext_size;
	}
	*fail_index = bl.count;
	return block_list_finish(&bl);
}

/* Seal st->pt_out (rows rows) as output block j at out + *off.
 * Leaks: row count, row size (public).  Hides: rows, result key. */
static TEE_Result seal_block(struct export_state *st,
			     const struct ts_export_request *req,
			     const struct ta_table *t, uint32_t j,
			     uint32_t n_out, uint32_t rows, uint8_t *out,
			     size_t *off)
{
	struct ts_block_header hdr;
	TEE_Result res;

	if (j >= n_out)
		return TS_ERROR_BLOCK_SEQUENCE;
	block_gcm_header_init(&hdr);
	TEE_MemMove(hdr.table_id, req->out_table_id, sizeof(hdr.table_id));
	hdr.table_version = req->out_table_version;
	hdr.block_index = j;
	hdr.block_count = n_out;
	hdr.row_count = rows;
	hdr.row_size = t->row_size;
	TEE_MemMove(hdr.schema_hash, t->schema_hash, sizeof(hdr.schema_hash));
	hdr.ciphertext_size = rows * t->row_size;
	res = block_gcm_seal(&st->enc, &hdr, st->pt_out, out + *off);
	*off += TS_SEALED_BLOCK_SIZE((size_t)hdr.ciphertext_size);
	return res;
}

/* Pass 2: open every input block and re-block its rows under the result key.
 * Leaks: block counts, rows per block, row size, which input block failed
 * authentication.  Hides: rows. */
static TEE_Result reblock(struct export_state *st, const void *in,
			  size_t in_len, const struct ta_table *t,
			  const struct ts_export_request *req, uint32_t n_out,
			  uint8_t *out, size_t *out_len, uint32_t *fail_index)
{
	const size_t rs = t->row_size;
	struct block_list bl;
	struct ts_block_header hdr;
	const uint8_t *sealed;
	uint32_t j = 0, fill = 0, r, take;
	size_t off = 0;
	TEE_Result res;

	block_list_start(&bl, in, in_len, t);
	while (block_list_more(&bl)) {
		*fail_index = bl.count;
		if (cmd_cancelled())
			return TEE_ERROR_CANCEL;
		res = block_list_next(&bl, &hdr, &sealed);
		if (res != TEE_SUCCESS)
			return res;
		/* The host rewrote a header between the passes. */
		if (hdr.ciphertext_size > st->pt_in_size)
			return TS_ERROR_BLOCK_FORMAT;
		res = block_gcm_open(&st->dec, &hdr, sealed, st->pt_in);
		if (res != TEE_SUCCESS)
			return res;
		for (r = 0; r < hdr.row_count; r += take) {
			take = hdr.row_count - r;
			if (take > req->rows_per_block - fill)
				take = req->rows_per_block - fill;
			TEE_MemMove(st->pt_out + fill * rs, st->pt_in + r * rs,
				    take * rs);
			fill += take;
			if (fill == req->rows_per_block) {
				res = seal_block(st, req, t, j++, n_out, fill,
						 out, &off);
				if (res != TEE_SUCCESS)
					return res;
				fill = 0;
			}
		}
	}
	*fail_index = bl.count;
	res = block_list_finish(&bl);
	if (res != TEE_SUCCESS)
		return res;
	/* The partial last block, or the one empty block of an empty table. */
	if (fill || j == 0) {
		res = seal_block(st, req, t, j++, n_out, fill, out, &off);
		if (res != TEE_SUCCESS)
			return res;
	}
	if (j != n_out)
		return TS_ERROR_BLOCK_SEQUENCE;
	*out_len = off;
	return TEE_SUCCESS;
}

/* Step 4: the envelope wrapping st->result_key to recipient r.
 * Leaks: recipient id and key (public).  Hides: result key, wrapping key. */
static TEE_Result make_envelope(struct export_state *st,
				const struct ts_recipient *r,
				struct ts_result_envelope *env)
{
	static const uint8_t zero_salt[32];
	const struct ts_buf info[3] = {
		{ TS_RESULT_WRAP_INFO, sizeof(TS_RESULT_WRAP_INFO) - 1 },
		{ env->ta_ephemeral_key, TS_X25519_PUBLIC_SIZE },
		{ r->public_key, TS_X25519_PUBLIC_SIZE },
	};
	uint8_t shared[X25519_KEY_SIZE], kek[TS_KEY_SIZE];
	TEE_Result res;

	TEE_MemFill(env, 0, sizeof(*env));
	res = x25519_generate(&st->eph);
	if (res != TEE_SUCCESS)
		return res;
	env->magic = TS_RESULT_ENVELOPE_MAGIC;
	env->version = 1;
	env->envelope_size = TS_RESULT_ENVELOPE_SIZE;
	TEE_MemMove(env->recipient_id, r->recipient_id, 16);
	TEE_MemMove(env->ta_ephemeral_key, st->eph.pub, TS_X25519_PUBLIC_SIZE);
	res = x25519_shared(&st->eph, r->public_key, shared);
	if (res == TEE_SUCCESS)
		res = hkdf_sha256(zero_salt, sizeof(zero_salt), shared,
				  sizeof(shared), info, 3, kek, sizeof(kek));
	if (res == TEE_SUCCESS) {
		TEE_GenerateRandom(env->nonce, sizeof(env->nonce));
		res = key_wrap_seal(kek, env->nonce, env,
				    TS_RESULT_ENVELOPE_AAD_SIZE, st->result_key,
				    env->wrapped_key, env->tag);
	}
	shim_wipe(shared, sizeof(shared));
	shim_wipe(kek, sizeof(kek));
	return res;
}

/* see cmd.h */
TEE_Result cmd_export_result(struct ta_session *s, uint32_t param_types,
			     TEE_Param params[SHIM_NUM_PARAMS])
{
	const uint32_t exp = TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_MEMREF_OUTPUT,
					     TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_VALUE_OUTPUT);
	struct export_state st;
	struct ts_export_request req;
	struct ts_result_envelope env;
	struct ts_table_descriptor desc;
	struct ta_table table, out_t;
	const struct ts_recipient *rcpt;
	const uint8_t *in_key;
	const void *in_buf;
	size_t in_len, max_ct = 0, out_len = 0;
	uint64_t n_out64, needed, out_rows;
	uint32_t fail_index = 0;
	uint8_t *out;
	bool was_masked;
	TEE_Result res;

	if (param_types != exp)
		return TEE_ERROR_BAD_PARAMETERS;
	params[3].value.a = 0;
	params[3].value.b = 0;
	if (params[2].memref.size != TS_EXPORT_REQUEST_SIZE ||
	    !params[2].memref.buffer) {
		SHIM_LOGE("Wrong export request size %zu, expect %u bytes",
			  params[2].memref.size, TS_EXPORT_REQUEST_SIZE);
		return TEE_ERROR_BAD_PARAMETERS;
	}
	in_buf = params[0].memref.buffer;
	in_len = in_buf ? params[0].memref.size : 0;
	TEE_MemFill(&st, 0, sizeof(st));
	st.eph.obj = TEE_HANDLE_NULL;

	/* 1. The request. */
	TEE_MemMove(&req, params[2].memref.buffer, sizeof(req));
	if (req.in_key_slot >= TS_MAX_KEY_SLOTS || req.rows_per_block == 0) {
		SHIM_LOGE("EXPORT_RESULT: invalid request");
		return TS_ERROR_BAD_REQUEST;
	}
	rcpt = find_recipient(s, req.recipient_id);
	if (!rcpt) {
		SHIM_LOGE("EXPORT_RESULT: recipient not named by the KBS reply");
		return TS_ERROR_RECIPIENT_UNKNOWN;
	}
	in_key = key_slots_get(&s->keys, req.in_key_slot, &res);
	if (!in_key) {
		SHIM_LOGE("EXPORT_RESULT: key slot %u: 0x%x", req.in_key_slot,
			  (unsigned int)res);
		return res;
	}

	/* 2. The registered table, then headers. */
	res = block_list_find_table(&s->tables, in_buf, in_len,
				    req.in_key_slot, &table);
	if (res == TEE_SUCCESS)
		res = scan_input(in_buf, in_len, &table, &max_ct, &fail_index);
	if (res != TEE_SUCCESS)
		goto out;
	out_rows = table.row_count < req.rows_per_block ? table.row_count :
							  req.rows_per_block;
	if (out_rows * table.row_size > TS_MAX_BLOCK_PLAINTEXT) {
		SHIM_LOGE("EXPORT_RESULT: %u rows of %u bytes exceed the block "
			  "limit", req.rows_per_block, table.row_size);
		res = TS_ERROR_BAD_REQUEST;
		goto out;
	}
	n_out64 = table_block_count(table.row_count, req.rows_per_block);
	if (n_out64 > UINT32_MAX || table.row_count > UINT32_MAX) {
		res = TS_ERROR_BAD_REQUEST;
		goto out;
	}
	needed = EXPORT_HEAD_SIZE +
		 n_out64 * (TS_BLOCK_HEADER_SIZE + TS_TAG_SIZE) +
		 table.row_count * table.row_size;
	if (params[1].memref.size < needed || !params[1].memref.buffer) {
		params[1].memref.size = (size_t)needed;
		return TEE_ERROR_SHORT_BUFFER;
	}
	out = params[1].memref.buffer;

	/* 3. Buffers, keys, rows. */
	st.pt_in_size = max_ct;
	st.pt_out_size = (size_t)out_rows * table.row_size;
	st.pt_in = TEE_Malloc(st.pt_in_size ? st.pt_in_size : 1,
			      TEE_MALLOC_NO_FILL);
	st.pt_out = TEE_Malloc(st.pt_out_size ? st.pt_out_size : 1,
			       TEE_MALLOC_NO_FILL);
	if (!st.pt_in || !st.pt_out) {
		res = TEE_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	TEE_GenerateRandom(st.result_key, sizeof(st.result_key));
	res = block_gcm_init(&st.dec, TEE_MODE_DECRYPT, in_key);
	if (res == TEE_SUCCESS)
		res = block_gcm_init(&st.enc, TEE_MODE_ENCRYPT, st.result_key);
	if (res != TEE_SUCCESS)
		goto out;
	was_masked = TEE_UnmaskCancellation();
	res = reblock(&st, in_buf, in_len, &table, &req, (uint32_t)n_out64,
		      out + EXPORT_HEAD_SIZE, &out_len, &fail_index);
	if (was_masked)
		TEE_MaskCancellation();
	if (res != TEE_SUCCESS)
		goto out;

	/* 4. Descriptor and envelope. */
	out_t = table;
	out_t.slot_mask = 0;
	TEE_MemMove(out_t.table_id, req.out_table_id, sizeof(out_t.table_id));
	out_t.table_version = req.out_table_version;
	out_t.block_count = (uint32_t)n_out64;
	out_t.rows_per_block = req.rows_per_block;
	table_to_descriptor(&out_t, req.recipient_id, &desc);
	res = descriptor_mac_seal(st.result_key, &desc);
	if (res == TEE_SUCCESS)
		res = make_envelope(&st, rcpt, &env);
	if (res != TEE_SUCCESS)
		goto out;
	TEE_MemMove(out, &env, sizeof(env));
	TEE_MemMove(out + TS_RESULT_ENVELOPE_SIZE, &desc, sizeof(desc));
	params[1].memref.size = EXPORT_HEAD_SIZE + out_len;
	params[3].value.a = (uint32_t)table.row_count;
	params[3].value.b = (uint32_t)n_out64;
out:
	export_state_free(&st);
	if (cmd_is_block_error(res)) {
		params[3].value.a = fail_index;
		SHIM_LOGE("EXPORT_RESULT: block %u: 0x%x", fail_index,
			  (unsigned int)res);
	}
	return res;
}

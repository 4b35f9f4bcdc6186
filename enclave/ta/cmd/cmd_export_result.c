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
#include "output_table.h"
#include "../crypto/block_gcm.h"
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
	cmd_free_wiped(&st->pt_in, st->pt_in_size);
	cmd_free_wiped(&st->pt_out, st->pt_out_size);
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

/* Pass 2: open every input block and re-block its rows under the result key.
 * Leaks: block counts, rows per block, row size, which input block failed
 * authentication.  Hides: rows. */
static TEE_Result reblock(struct export_state *st, const void *in,
			  size_t in_len, const struct ta_table *t,
			  struct output_table *o, uint32_t *fail_index)
{
	const size_t rs = t->row_size;
	const uint32_t rpb = o->t.rows_per_block;
	struct block_list bl;
	struct ts_block_header hdr;
	const uint8_t *sealed;
	uint32_t fill = 0, r, take;
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
			if (take > rpb - fill)
				take = rpb - fill;
			TEE_MemMove(st->pt_out + fill * rs, st->pt_in + r * rs,
				    take * rs);
			fill += take;
			if (fill == rpb) {
				res = output_table_seal(o, &st->enc, fill,
							st->pt_out);
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
	if (fill || o->next == 0) {
		res = output_table_seal(o, &st->enc, fill, st->pt_out);
		if (res != TEE_SUCCESS)
			return res;
	}
	if (o->next != o->t.block_count)
		return TS_ERROR_BLOCK_SEQUENCE;
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
	struct export_state st;
	struct ts_export_request req;
	struct ts_result_envelope env;
	struct ts_table_descriptor desc;
	struct ta_table table;
	struct output_table ot;
	const struct ts_recipient *rcpt;
	const uint8_t *in_key;
	const void *in_buf;
	size_t in_len, max_ct = 0;
	uint32_t fail_index = 0;
	uint8_t *out;
	bool was_masked;
	TEE_Result res;

	/* 1. The request. */
	res = cmd_request_params(param_types, params, "export", &req,
				 sizeof(req), &in_buf, &in_len);
	if (res != TEE_SUCCESS)
		return res;
	TEE_MemFill(&st, 0, sizeof(st));
	st.eph.obj = TEE_HANDLE_NULL;
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
	/* The output: the input's rows under the request's id, version and
	 * blocking (not registered: no slot holds its key). */
	output_table_init(&ot, req.out_table_id, req.out_table_version,
			  table.row_count, table.row_size, req.rows_per_block,
			  table.schema_hash);
	res = output_table_start(&ot, "EXPORT_RESULT", EXPORT_HEAD_SIZE,
				 &params[1]);
	if (res == TEE_ERROR_OVERFLOW)
		res = TS_ERROR_BAD_REQUEST;
	if (res != TEE_SUCCESS)
		goto out;
	out = params[1].memref.buffer;

	/* 3. Buffers, keys, rows. */
	st.pt_in_size = max_ct;
	st.pt_out_size = ot.max_block;
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
	res = reblock(&st, in_buf, in_len, &table, &ot, &fail_index);
	if (was_masked)
		TEE_MaskCancellation();
	if (res != TEE_SUCCESS)
		goto out;

	/* 4. Descriptor and envelope. */
	res = output_table_descriptor(&ot, req.recipient_id, st.result_key,
				      &desc);
	if (res == TEE_SUCCESS)
		res = make_envelope(&st, rcpt, &env);
	if (res != TEE_SUCCESS)
		goto out;
	TEE_MemMove(out, &env, sizeof(env));
	TEE_MemMove(out + TS_RESULT_ENVELOPE_SIZE, &desc, sizeof(desc));
	output_table_result(&ot, EXPORT_HEAD_SIZE, params);
out:
	export_state_free(&st);
	cmd_report_block_error(res, fail_index, params, "EXPORT_RESULT");
	return res;
}

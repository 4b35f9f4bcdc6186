/*
 * cmd_operator.c - TA_TEESPARK_CMD_RUN_OPERATOR: open one or two registered
 * tables into the heap, run one relational operator (cmd_operator_run.c),
 * pad or truncate the result, and seal it as a new registered table.
 *
 * Shape of the work (public: block counts, row counts and sizes, the
 * request):
 *   1. copy the request (header and body) into TA memory and check it;
 *   2. find each input's registered table (with its in slot); its
 *      registered schema hash must be the request's logical hash, or the
 *      padded hash of it when the request says the input is padded
 *      (docs/FORMAT.md, appendix A); pass 1 over the headers;
 *   3. open every block into a one-block buffer and copy the rows into
 *      one batch per input (a padded input's trailing is_real byte
 *      becomes the batch's is_real ctl);
 *   4. the operator (op_run), which may project;
 *   5. rows not real-first (PROJECT or UNION ALL of padded inputs) are
 *      compacted (obl_filter, or op_filter_fast in encrypted mode);
 *   6. pad_rows == 0: m is declassified and m rows are sealed;
 *      pad_rows > 0: only (m > pad_rows) is declassified (then
 *      TS_ERROR_PAD_OVERFLOW), and pad_rows rows with a trailing is_real
 *      byte are sealed;
 *   7. descriptor first, then blocks; the output is registered with the
 *      out slot.
 * Every heap buffer is wiped before it is freed, on every path.
 */
#include "cmd.h"
#include "cmd_operator.h"
#include "block_list.h"
#include "output_table.h"
#include "../ct.h"
#include "../crypto/block_gcm.h"
#include "../crypto/sha256.h"
#include "../ops/op_filter.h"

#if defined(TEESPARK_SIM) && defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
/* Declassification under the simulator's valgrind check (see
 * cmd_operator_run.c). */
#define OP_DECLASSIFY(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#endif
#endif
#ifndef OP_DECLASSIFY
#define OP_DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

static size_t pad8(size_t x)
{
	return (x + 7) / 8 * 8;
}

/* The padded schema hash: SHA-256(TS_PADDED_SCHEMA_INFO | logical hash).
 * Leaks: nothing (public hashes). */
static TEE_Result padded_hash(const uint8_t logical[32], uint8_t out[32])
{
	struct ts_buf parts[2] = {
		{ TS_PADDED_SCHEMA_INFO, sizeof(TS_PADDED_SCHEMA_INFO) - 1 },
		{ logical, 32 },
	};

	return ts_sha256(parts, 2, out);
}

static uint32_t op_inputs(uint32_t op)
{
	return op == TS_OP_JOIN || op == TS_OP_UNION_ALL ? 2 : 1;
}

/* Parse the request header and body (public). */
static TEE_Result parse_request(struct op_plan *p, const uint8_t *body,
				size_t body_len)
{
	const struct ts_op_request *r = &p->req;
	size_t off = 0, nkeys, i;
	const uint8_t zero[32] = { 0 };

	if (r->op < TS_OP_FILTER || r->op > TS_OP_DISTINCT ||
	    r->mode > TS_OPMODE_OBLIVIOUS ||
	    r->in0_key_slot >= TS_MAX_KEY_SLOTS ||
	    r->out_key_slot >= TS_MAX_KEY_SLOTS ||
	    r->rows_per_block == 0 || r->out_row_size == 0 ||
	    r->out_row_size >= TS_MAX_ROW_SIZE ||
	    r->key_count > TS_OP_MAX_KEYS || r->agg_count > TS_OP_MAX_AGGS ||
	    r->proj_count > TS_OP_MAX_PROJ || r->reserved ||
	    (r->in0_flags & ~TS_OP_IN_PADDED) ||
	    (r->in1_flags & ~TS_OP_IN_PADDED) ||
	    r->join_kind > TS_JOIN_LEFT_ANTI || r->pk_side > TS_PK_RIGHT)
		return TS_ERROR_BAD_REQUEST;
	p->n_inputs = op_inputs(r->op);
	if (p->n_inputs == 1 &&
	    (r->in1_key_slot || r->in1_flags || r->in0_bytes ||
	     TEE_MemCompare(r->in1_schema_hash, zero, 32)))
		return TS_ERROR_BAD_REQUEST;
	if (p->n_inputs == 2 && r->in1_key_slot >= TS_MAX_KEY_SLOTS)
		return TS_ERROR_BAD_REQUEST;
	/* What each operator takes (everything else must be 0). */
	switch (r->op) {
	case TS_OP_FILTER:
		if (!r->pred_size || r->key_count || r->agg_count || r->limit)
			return TS_ERROR_BAD_REQUEST;
		break;
	case TS_OP_PROJECT:
		if (!r->proj_count || r->pred_size || r->key_count ||
		    r->agg_count || r->limit)
			return TS_ERROR_BAD_REQUEST;
		break;
	case TS_OP_SORT:
	case TS_OP_DISTINCT:
		if (!r->key_count || r->pred_size || r->agg_count ||
		    (r->op == TS_OP_DISTINCT && r->limit))
			return TS_ERROR_BAD_REQUEST;
		break;
	case TS_OP_LIMIT:
		if (!r->limit || r->key_count || r->pred_size || r->agg_count)
			return TS_ERROR_BAD_REQUEST;
		break;
	case TS_OP_AGGREGATE:
		if (r->pred_size || r->limit)
			return TS_ERROR_BAD_REQUEST;
		break;
	case TS_OP_JOIN:
		if (!r->key_count || r->agg_count || r->limit)
			return TS_ERROR_BAD_REQUEST;
		/* Residuals: inner joins, and the PK-FK left outer join. */
		if (r->pred_size && r->join_kind != TS_JOIN_INNER &&
		    !(r->join_kind == TS_JOIN_LEFT_OUTER &&
		      r->pk_side == TS_PK_RIGHT))
			return TS_ERROR_BAD_REQUEST;
		if (r->join_kind == TS_JOIN_LEFT_OUTER &&
		    r->pk_side == TS_PK_LEFT)
			return TS_ERROR_BAD_REQUEST;
		if (r->join_kind != TS_JOIN_LEFT_OUTER && r->right_null_bits)
			return TS_ERROR_BAD_REQUEST;
		break;
	case TS_OP_UNION_ALL:
		if (r->key_count || r->pred_size || r->agg_count || r->limit)
			return TS_ERROR_BAD_REQUEST;
		break;
	default:
		return TS_ERROR_BAD_REQUEST;
	}
	if (r->op != TS_OP_JOIN && (r->join_kind || r->pk_side ||
				    r->right_null_bits))
		return TS_ERROR_BAD_REQUEST;

	nkeys = r->op == TS_OP_JOIN ? 2u * r->key_count : r->key_count;
	if (body_len < nkeys * TS_OP_KEY_SIZE)
		return TS_ERROR_BAD_REQUEST;
	TEE_MemMove(p->keys, body, nkeys * TS_OP_KEY_SIZE);
	for (i = 0; i < nkeys; i++)	/* the wire says 0 or 1 */
		if (p->keys[i].nullable > 1)
			return TS_ERROR_BAD_REQUEST;
	off = nkeys * TS_OP_KEY_SIZE;
	if (body_len - off < (size_t)r->agg_count * TS_OP_AGG_SIZE)
		return TS_ERROR_BAD_REQUEST;
	TEE_MemMove(p->aggs, body + off, r->agg_count * TS_OP_AGG_SIZE);
	off += r->agg_count * TS_OP_AGG_SIZE;
	off = pad8(off);
	if (off > body_len)
		return TS_ERROR_BAD_REQUEST;
	return cmd_parse_programs(body + off, body_len - off, r->pred_size,
				  r->proj_count, &p->pred, p->proj);
}

/* see cmd_operator.h */
TEE_Result cmd_parse_programs(const uint8_t *body, size_t body_len,
			      uint32_t pred_size, uint32_t proj_count,
			      const uint8_t **pred, struct op_proj *proj)
{
	size_t off = 0;
	uint32_t i;

	*pred = NULL;
	if (pred_size) {
		if (body_len < pad8(pred_size))
			return TS_ERROR_BAD_REQUEST;
		*pred = body;
		off = pad8(pred_size);
	}
	for (i = 0; i < proj_count; i++) {
		struct ts_op_proj h;

		if (body_len - off < TS_OP_PROJ_SIZE)
			return TS_ERROR_BAD_REQUEST;
		TEE_MemMove(&h, body + off, sizeof(h));
		off += TS_OP_PROJ_SIZE;
		if (h.reserved || h.prog_size == 0 ||
		    body_len - off < pad8(h.prog_size))
			return TS_ERROR_BAD_REQUEST;
		proj[i].prog = body + off;
		proj[i].info.prog_len = h.prog_size;
		proj[i].out_offset = h.out_offset;
		proj[i].out_null_bit = h.out_null_bit;
		off += pad8(h.prog_size);
	}
	return off == body_len ? TEE_SUCCESS : TS_ERROR_BAD_REQUEST;
}

/* One input: its registered table, the part of param[0] it occupies. */
struct op_src {
	struct ta_table table;
	const uint8_t *buf;
	size_t len;
	uint32_t slot;
	uint32_t padded;
	uint32_t n_blocks;
	uint64_t n_rows;
	size_t max_ct;
};

/* Find and check input i's table and headers (pass 1). */
static TEE_Result scan_src(struct ta_session *s, struct op_src *src,
			   const uint8_t logical_hash[32], uint32_t *fail)
{
	struct block_list bl;
	struct ts_block_header hdr;
	const uint8_t *sealed;
	uint8_t want[32];
	TEE_Result res;

	res = block_list_find_table(&s->tables, src->buf, src->len, src->slot,
				    &src->table);
	if (res != TEE_SUCCESS)
		return res;
	if (src->padded) {
		res = padded_hash(logical_hash, want);
		if (res != TEE_SUCCESS)
			return res;
	} else {
		TEE_MemMove(want, logical_hash, 32);
	}
	if (TEE_MemCompare(src->table.schema_hash, want, 32) ||
	    (src->padded && src->table.row_size < 2)) {
		SHIM_LOGE("RUN_OPERATOR: input schema or padding differs from "
			  "the registered table");
		return TS_ERROR_BLOCK_SEQUENCE;
	}
	block_list_start(&bl, src->buf, src->len, &src->table);
	while (block_list_more(&bl)) {
		*fail = bl.count;
		res = block_list_next(&bl, &hdr, &sealed);
		if (res != TEE_SUCCESS)
			return res;
		src->n_rows += hdr.row_count;
		if (hdr.ciphertext_size > src->max_ct)
			src->max_ct = hdr.ciphertext_size;
	}
	*fail = bl.count;
	res = block_list_finish(&bl);
	if (res != TEE_SUCCESS)
		return res;
	src->n_blocks = bl.count;
	return TEE_SUCCESS;
}

/* Pass 2: open every block of src into pt and copy its rows into the
 * batch (padded: rs = row_size - 1 bytes each, and the is_real ctl).
 * direct (encrypted mode, unpadded): open each block straight into its
 * place in the batch instead (block_gcm_open still copies the ciphertext
 * into TA memory before it decrypts, and zeroes it on a tag mismatch).
 * Leaks: block count, rows per block, row size, which block failed
 * authentication.  Hides: rows, the is_real flags. */
static TEE_Result load_src(const uint8_t *key, const struct op_src *src,
			   uint8_t *pt, struct op_batch *b, int direct,
			   uint32_t *fail)
{
	struct block_gcm dec = { TEE_HANDLE_NULL };
	struct block_list bl;
	struct ts_block_header hdr;
	const uint8_t *sealed;
	const size_t prs = src->table.row_size;
	uint64_t done = 0;
	TEE_Result res;
	uint32_t r;

	res = block_gcm_init(&dec, TEE_MODE_DECRYPT, key);
	if (res != TEE_SUCCESS)
		return res;
	block_list_start(&bl, src->buf, src->len, &src->table);
	while (block_list_more(&bl)) {
		*fail = bl.count;
		if (cmd_cancelled()) {
			res = TEE_ERROR_CANCEL;
			break;
		}
		res = block_list_next(&bl, &hdr, &sealed);
		if (res != TEE_SUCCESS)
			break;
		/* Headers re-read from shared memory must match pass 1. */
		if (hdr.ciphertext_size > src->max_ct ||
		    hdr.row_count > src->n_rows - done) {
			res = TS_ERROR_BLOCK_SEQUENCE;
			break;
		}
		if (direct && !src->padded) {
			/* Fits: hdr.row_size == prs (block_list_next) and
			 * ciphertext_size == row_count * row_size. */
			res = block_gcm_open(&dec, &hdr, sealed,
					     b->rows + (size_t)done * prs);
			if (res != TEE_SUCCESS)
				break;
		} else {
			res = block_gcm_open(&dec, &hdr, sealed, pt);
			if (res != TEE_SUCCESS)
				break;
			if (!src->padded) {
				TEE_MemMove(b->rows + (size_t)done * prs, pt,
					    (size_t)hdr.row_count * prs);
			} else {
				for (r = 0; r < hdr.row_count; r++) {
					size_t g = (size_t)done + r;

					TEE_MemMove(b->rows + g * b->rs,
						    pt + r * prs, b->rs);
					b->real[g] = pt[r * prs + b->rs] & 1u;
				}
			}
		}
		done += hdr.row_count;
	}
	if (res == TEE_SUCCESS) {
		*fail = bl.count;
		res = block_list_finish(&bl);
		if (res == TEE_SUCCESS && done != src->n_rows)
			res = TS_ERROR_BLOCK_SEQUENCE;
	}
	block_gcm_free(&dec);
	return res;
}

/* Compact rows that are not real-first: the real rows, in order, first.
 * Leaks (oblivious): slots, row size.  Hides: which rows are real, m. */
static TEE_Result compact(const struct op_plan *p, struct op_bufs *b,
			  struct op_result *r)
{
	struct obl_table t = { r->out.rows, r->out.n, r->out.rs, NULL };
	struct obl_arena a;
	uint8_t *rows, *mem;
	uint32_t *real;
	size_t work = obl_filter_work_bytes(r->out.n, r->out.rs);
	int rc;

	if (r->out.n && r->out.rs > SIZE_MAX / r->out.n)
		return TEE_ERROR_OUT_OF_MEMORY;
	rows = op_alloc(b, r->out.n * r->out.rs);
	real = op_alloc(b, r->out.n * sizeof(uint32_t));
	mem = op_alloc(b, work + 128);
	if (!rows || !real || !mem)
		return TEE_ERROR_OUT_OF_MEMORY;
	obl_arena_init(&a, mem, work + 128);
	if (p->req.mode == TS_OPMODE_OBLIVIOUS)
		rc = obl_filter(&t, r->out.real, rows, real, r->out.n, &r->m,
				&a);
	else
		rc = op_filter_fast(&t, r->out.real, rows, real, r->out.n,
				    &r->m);
	op_release(b, mem);
	if (rc != OBL_OK)
		return rc == OBL_ERR_NOMEM ? TEE_ERROR_OUT_OF_MEMORY :
					     TS_ERROR_BAD_REQUEST;
	r->out.rows = rows;
	r->out.real = real;
	r->real_first = 1;
	return TEE_SUCCESS;
}

/* Seal rows 0..o->t.row_count-1 of the result: result row g < slots is
 * copied (padded: with its is_real byte), rows >= slots are zero dummies.
 * Leaks: row count, row sizes, rows per block, slots.  Hides: rows,
 * is_real flags. */
static TEE_Result seal_result(struct output_table *o, struct block_gcm *enc,
			      const struct op_result *r, int padded,
			      uint8_t *pt)
{
	const uint32_t rpb = o->t.rows_per_block;
	const size_t prs = o->t.row_size, rs = r->out.rs;
	uint64_t g0 = 0;
	uint32_t cnt, i;
	TEE_Result res;

	while (o->next < o->t.block_count) {
		if (cmd_cancelled())
			return TEE_ERROR_CANCEL;
		cnt = (uint32_t)(o->t.row_count - g0 < rpb ?
				 o->t.row_count - g0 : rpb);
		TEE_MemFill(pt, 0, (size_t)cnt * prs);
		for (i = 0; i < cnt; i++) {
			size_t g = (size_t)(g0 + i);

			if (g >= r->out.n)	/* public: slots */
				break;
			TEE_MemMove(pt + (size_t)i * prs,
				    r->out.rows + g * rs, rs);
			if (padded)
				pt[(size_t)i * prs + rs] =
					(uint8_t)(r->out.real[g] & 1u);
		}
		res = output_table_seal(o, enc, cnt, pt);
		if (res != TEE_SUCCESS)
			return res;
		g0 += cnt;
	}
	return TEE_SUCCESS;
}

/* see cmd_operator.h */
TEE_Result cmd_run_operator(struct ta_session *s, uint32_t param_types,
			    TEE_Param params[SHIM_NUM_PARAMS])
{
	const uint32_t exp = TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_MEMREF_OUTPUT,
					     TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_VALUE_OUTPUT);
	struct op_bufs bufs;
	struct op_plan *plan = NULL;
	struct op_src src[2];
	struct op_batch in[2];
	struct op_result result;
	struct output_table ot;
	struct ts_table_descriptor out_desc;
	struct block_gcm enc = { TEE_HANDLE_NULL };
	const struct key_slot *out_meta;
	const uint8_t *in_key[2] = { NULL, NULL }, *out_key = NULL;
	const uint8_t *buf;
	uint8_t out_hash[32];
	uint8_t *pt = NULL;
	size_t len, req_len, pt_size, prs;
	uint32_t fail = 0, fail_input = 0, i;
	uint64_t n_out;
	bool was_masked = false;
	int padded_out;
	TEE_Result res;

	if (param_types != exp)
		return TEE_ERROR_BAD_PARAMETERS;
	params[3].value.a = 0;
	params[3].value.b = 0;
	req_len = params[2].memref.size;
	if (!params[2].memref.buffer || req_len < TS_OP_REQUEST_SIZE ||
	    req_len - TS_OP_REQUEST_SIZE > TS_OP_MAX_BODY) {
		SHIM_LOGE("RUN_OPERATOR: request of %zu bytes", req_len);
		return TEE_ERROR_BAD_PARAMETERS;
	}
	TEE_MemFill(&bufs, 0, sizeof(bufs));
	TEE_MemFill(src, 0, sizeof(src));
	TEE_MemFill(in, 0, sizeof(in));
	plan = op_alloc(&bufs, sizeof(*plan));
	if (!plan) {
		res = TEE_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	/* 1. Copied once: later checks read only the copies. */
	TEE_MemMove(&plan->req, params[2].memref.buffer, TS_OP_REQUEST_SIZE);
	if (plan->req.body_size != req_len - TS_OP_REQUEST_SIZE) {
		res = TEE_ERROR_BAD_PARAMETERS;
		goto out;
	}
	plan->body = op_alloc(&bufs, plan->req.body_size);
	if (!plan->body) {
		res = TEE_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	TEE_MemMove(plan->body, (const uint8_t *)params[2].memref.buffer +
		    TS_OP_REQUEST_SIZE, plan->req.body_size);
	res = parse_request(plan, plan->body, plan->req.body_size);
	if (res != TEE_SUCCESS) {
		SHIM_LOGE("RUN_OPERATOR: invalid request");
		goto out;
	}
	padded_out = plan->req.pad_rows != 0;

	/* Keys. */
	src[0].slot = plan->req.in0_key_slot;
	src[1].slot = plan->req.in1_key_slot;
	res = TEE_SUCCESS;
	for (i = 0; i < plan->n_inputs && res == TEE_SUCCESS; i++)
		in_key[i] = key_slots_get(&s->keys, src[i].slot, &res);
	if (res == TEE_SUCCESS)
		out_key = key_slots_get(&s->keys, plan->req.out_key_slot, &res);
	if (res != TEE_SUCCESS) {
		SHIM_LOGE("RUN_OPERATOR: key slots: 0x%x", (unsigned int)res);
		goto out;
	}
	if (key_slots_bound_elsewhere(&s->keys, plan->req.out_key_slot,
				      plan->req.out_table_id)) {
		SHIM_LOGE("RUN_OPERATOR: the key in slot %u belongs to another "
			  "table", plan->req.out_key_slot);
		res = TEE_ERROR_ACCESS_DENIED;
		goto out;
	}

	/* 2. Inputs: where each lies in param[0], tables, headers. */
	buf = params[0].memref.buffer;
	len = buf ? params[0].memref.size : 0;
	if (plan->n_inputs == 2 && plan->req.in0_bytes > len) {
		res = TS_ERROR_BAD_REQUEST;
		goto out;
	}
	src[0].buf = buf;
	src[0].len = plan->n_inputs == 2 ? (size_t)plan->req.in0_bytes : len;
	src[0].padded = plan->req.in0_flags & TS_OP_IN_PADDED;
	if (plan->n_inputs == 2) {
		src[1].buf = buf ? buf + src[0].len : NULL;
		src[1].len = len - src[0].len;
		src[1].padded = plan->req.in1_flags & TS_OP_IN_PADDED;
	}
	for (i = 0; i < plan->n_inputs; i++) {
		fail_input = i;
		fail = 0;
		res = scan_src(s, &src[i], i ? plan->req.in1_schema_hash :
			       plan->req.in0_schema_hash, &fail);
		if (res != TEE_SUCCESS)
			goto out;
		if (src[i].n_rows > SIZE_MAX / 2) {
			res = TEE_ERROR_OUT_OF_MEMORY;
			goto out;
		}
		in[i].n = (size_t)src[i].n_rows;
		in[i].rs = src[i].table.row_size - src[i].padded;
	}
	res = op_plan_check(plan, in);
	if (res != TEE_SUCCESS) {
		SHIM_LOGE("RUN_OPERATOR: request does not fit the inputs");
		goto out;
	}
	prs = plan->req.out_row_size + (padded_out ? 1u : 0u);
	if (prs > TS_MAX_ROW_SIZE) {
		res = TS_ERROR_BAD_REQUEST;
		goto out;
	}

	/* 3. Rows into the heap. */
	pt_size = src[0].max_ct > src[1].max_ct ? src[0].max_ct : src[1].max_ct;
	{
		uint64_t full = (uint64_t)plan->req.rows_per_block * prs;

		if (full > TS_MAX_BLOCK_PLAINTEXT)
			full = TS_MAX_BLOCK_PLAINTEXT;
		if (full > pt_size)
			pt_size = (size_t)full;
	}
	pt = op_alloc(&bufs, pt_size);
	if (!pt) {
		res = TEE_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	for (i = 0; i < plan->n_inputs; i++) {
		if (in[i].n && in[i].rs > SIZE_MAX / in[i].n) {
			res = TEE_ERROR_OUT_OF_MEMORY;
			goto out;
		}
		/* Encrypted mode: load_src writes all n rows before any
		 * is read (else the command fails and the buffer is wiped). */
		in[i].rows = plan->req.mode == TS_OPMODE_ENCRYPTED ?
			op_alloc_nofill(&bufs, in[i].n * in[i].rs) :
			op_alloc(&bufs, in[i].n * in[i].rs);
		if (src[i].padded)
			in[i].real = op_alloc(&bufs, in[i].n * sizeof(uint32_t));
		if (!in[i].rows || (src[i].padded && !in[i].real)) {
			SHIM_LOGE("RUN_OPERATOR: %zu rows of %zu bytes do not "
				  "fit the heap", in[i].n, in[i].rs);
			res = TEE_ERROR_OUT_OF_MEMORY;
			goto out;
		}
	}
	was_masked = TEE_UnmaskCancellation();
	for (i = 0; i < plan->n_inputs; i++) {
		fail_input = i;
		res = load_src(in_key[i], &src[i], pt, &in[i],
			       plan->req.mode == TS_OPMODE_ENCRYPTED, &fail);
		if (res != TEE_SUCCESS)
			goto out;
	}

	/* 4. The operator. */
	res = op_run(plan, in, &bufs, &result);
	if (res == TEE_SUCCESS && cmd_cancelled())
		res = TEE_ERROR_CANCEL;
	if (res != TEE_SUCCESS)
		goto out;
	/* 5. Real rows first. */
	if (!result.real_first) {
		res = compact(plan, &bufs, &result);
		if (res != TEE_SUCCESS)
			goto out;
	}

	/* 6. The output size: m revealed, or only m > pad_rows. */
	if (!padded_out) {
		n_out = result.m;
		OP_DECLASSIFY(&n_out, sizeof(n_out));
		if (n_out > result.out.n) {	/* kernels never truncate */
			res = TEE_ERROR_GENERIC;
			goto out;
		}
		TEE_MemMove(out_hash, plan->req.out_schema_hash, 32);
	} else {
		uint32_t over = ct_u64_gt(result.m, plan->req.pad_rows);

		OP_DECLASSIFY(&over, sizeof(over));
		if (over) {
			SHIM_LOGE("RUN_OPERATOR: result exceeds pad_rows");
			res = TS_ERROR_PAD_OVERFLOW;
			goto out;
		}
		n_out = plan->req.pad_rows;
		res = padded_hash(plan->req.out_schema_hash, out_hash);
		if (res != TEE_SUCCESS)
			goto out;
	}

	/* 7. The output table. */
	output_table_init(&ot, plan->req.out_table_id,
			  plan->req.out_table_version, n_out, (uint32_t)prs,
			  plan->req.rows_per_block, out_hash);
	ot.t.in_use = 1;
	ot.t.slot_mask = 1u << plan->req.out_key_slot;
	res = output_table_start(&ot, "RUN_OPERATOR", TS_TABLE_DESCRIPTOR_SIZE,
				 &params[1]);
	if (res == TEE_ERROR_OVERFLOW)
		res = TS_ERROR_BAD_REQUEST;
	if (res != TEE_SUCCESS)
		goto out;
	if (ot.max_block > pt_size) {
		res = TEE_ERROR_GENERIC;
		goto out;
	}
	res = block_gcm_init(&enc, TEE_MODE_ENCRYPT, out_key);
	out_meta = key_slots_meta(&s->keys, plan->req.out_key_slot);
	if (res == TEE_SUCCESS)
		res = output_table_descriptor(&ot, out_meta->key_id, out_key,
					      &out_desc);
	if (res == TEE_SUCCESS)
		res = seal_result(&ot, &enc, &result, padded_out, pt);
	if (res == TEE_SUCCESS) {
		TEE_MemMove(params[1].memref.buffer, &out_desc,
			    sizeof(out_desc));
		table_registry_put(&s->tables, &ot.t);
		output_table_result(&ot, TS_TABLE_DESCRIPTOR_SIZE, params);
	}
out:
	if (was_masked)
		TEE_MaskCancellation();
	block_gcm_free(&enc);
	op_bufs_free(&bufs);
	if (cmd_is_block_error(res)) {
		cmd_report_block_error(res, fail, params, "RUN_OPERATOR");
		params[3].value.b = fail_input;
	}
	return res;
}

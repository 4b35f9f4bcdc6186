/*
 * cmd_stream_map.c - the MAP mode of TA_TEESPARK_CMD_STREAM (teespark_ta.h,
 * "Streaming"): every input row k gives one out_row_size row: zero, then
 * each projection of the request body written at its out_offset /
 * out_null_bit (no projections: the input row copied to pk_offset); with
 * MAP_SEQ the row index k at aux_offset; with MAP_FLAG the flag word
 * (byte 0 = the predicate is TRUE; none: TRUE) and rows whose flag is 0
 * all zero.
 *
 * The body has RUN_OPERATOR's predicate and projection format and its
 * programs run on the same evaluator (expr/expr.h: ts_expr_validate,
 * ts_expr_eval, ts_expr_write_column, ts_expr_filter_ctl). The evaluator
 * is column-at-a-time, so MAP runs it over an opened block's rows as the
 * batch (in chunks of at most MAP_CHUNK rows, so its workspace and the
 * staging rows stay bounded by a public function of the request and the
 * block capacity, never the table size). Every instruction processes every
 * row of the batch; the predicate only ever feeds the masked copy of
 * stream_out_masked, so which rows pass stays hidden.
 */
#include "cmd_stream_map.h"
#include "cmd_operator.h"
#include "../ct.h"
#include "../expr/expr.h"

/* Rows per evaluator batch, and the byte budgets that may lower it (a
 * wide output row or a deep string program): public functions of the
 * request and the block capacity. */
#define MAP_CHUNK 1024u
#define MAP_STAGE_BUDGET (512u * 1024u)
#define MAP_WS_BUDGET (1024u * 1024u)

/* The constant-time check's negative control (ct_stream_harness_leaky)
 * builds this file with -DSTREAM_MAP_EMIT=stream_map_emit_leaky, which
 * branches on the predicate, and requires valgrind to flag it. */
#ifndef STREAM_MAP_EMIT
#define STREAM_MAP_EMIT stream_out_masked
#else
TEE_Result STREAM_MAP_EMIT(struct stream_state *st, uint32_t ctl,
			   const uint8_t *row);
#endif

struct stream_map {
	const uint8_t *pred;		/* NULL: none (TRUE) */
	struct ts_expr_info pred_info;
	uint32_t proj_count;
	uint32_t chunk;			/* rows per batch */
	uint8_t *ws_raw;		/* evaluator workspace, 16-byte aligned at ws */
	size_t ws_raw_size;
	uint8_t *ws;
	size_t ws_len;
	uint8_t *stage;			/* chunk output rows being built */
	size_t stage_size;
	uint8_t *keep;			/* chunk uint32_t ctls (the predicate) */
	size_t keep_size;
	struct op_proj proj[TS_OP_MAX_PROJ];
};

static int overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

void stream_map_free(struct stream_map *m)
{
	if (!m)
		return;
	cmd_free_wiped(&m->ws_raw, m->ws_raw_size);
	cmd_free_wiped(&m->stage, m->stage_size);
	cmd_free_wiped(&m->keep, m->keep_size);
	TEE_Free(m);
}

/* see cmd_stream_map.h */
TEE_Result stream_map_parse(const struct ts_stream_request *r,
			    const uint8_t *body, size_t body_len,
			    struct stream_map **out)
{
	const uint32_t flag = r->variant & TS_STREAM_MAP_FLAG;
	const uint32_t seq = r->variant & TS_STREAM_MAP_SEQ;
	struct stream_map *m;

	*out = NULL;
	if ((r->variant & ~(TS_STREAM_MAP_FLAG | TS_STREAM_MAP_SEQ)) ||
	    (r->pred_size && !flag) || (r->reveal && !flag) ||
	    (!seq && r->aux_offset) || r->rows_per_block == 0 ||
	    r->out_row_size == 0 || r->out_row_size > TS_MAX_ROW_SIZE ||
	    r->key_count || r->agg_count || r->limit || r->side_offset ||
	    r->pk_size || r->proj_count > TS_OP_MAX_PROJ ||
	    (r->proj_count && r->pk_offset) || body_len > TS_OP_MAX_BODY)
		return TS_ERROR_BAD_REQUEST;
	m = TEE_Malloc(sizeof(*m), 0);
	if (!m)
		return TEE_ERROR_OUT_OF_MEMORY;
	m->proj_count = r->proj_count;
	if (cmd_parse_programs(body, body_len, r->pred_size, r->proj_count,
			       &m->pred, m->proj) != TEE_SUCCESS)
		goto bad;
	m->pred_info.prog_len = r->pred_size;
	*out = m;
	return TEE_SUCCESS;
bad:
	stream_map_free(m);
	return TS_ERROR_BAD_REQUEST;
}

/* Validate one program for rows of row_size bytes (public). */
static TEE_Result check_prog(const uint8_t *prog, size_t len, size_t row_size,
			     struct ts_expr_info *info)
{
	int32_t bad = 0;

	if (ts_expr_validate(prog, len, info, &bad) != TS_EXPR_OK) {
		SHIM_LOGE("STREAM MAP: invalid expression program (insn %d)",
			  (int)bad);
		return TS_ERROR_BAD_REQUEST;
	}
	if (info->row_size != row_size) {
		SHIM_LOGE("STREAM MAP: program for %u-byte rows, rows have %zu",
			  (unsigned int)info->row_size, row_size);
		return TS_ERROR_BAD_REQUEST;
	}
	return TEE_SUCCESS;
}

/* Do bytes [off, off + len) meet the flag word or the sequence number? */
static int hits_reserved(const struct ts_stream_request *r, uint64_t off,
			 uint64_t len)
{
	return ((r->variant & TS_STREAM_MAP_FLAG) &&
		overlaps(off, len, 0, FLAG_WORD)) ||
	       ((r->variant & TS_STREAM_MAP_SEQ) &&
		overlaps(off, len, r->aux_offset, 8));
}

/* see cmd_stream_map.h */
TEE_Result stream_map_check(struct stream_map *m,
			    const struct ts_stream_request *r, uint32_t rs0)
{
	const uint64_t ors = r->out_row_size;
	TEE_Result res;
	uint32_t i;

	if ((r->variant & TS_STREAM_MAP_FLAG) && ors < FLAG_WORD)
		return TS_ERROR_BAD_REQUEST;
	if ((r->variant & TS_STREAM_MAP_SEQ) &&
	    ((uint64_t)r->aux_offset + 8 > ors ||
	     ((r->variant & TS_STREAM_MAP_FLAG) &&
	      overlaps(r->aux_offset, 8, 0, FLAG_WORD))))
		return TS_ERROR_BAD_REQUEST;
	if (m->pred) {
		res = check_prog(m->pred, m->pred_info.prog_len, rs0,
				 &m->pred_info);
		if (res != TEE_SUCCESS)
			return res;
		if (m->pred_info.result.kind != TS_T_BOOL)
			return TS_ERROR_BAD_REQUEST;
	}
	for (i = 0; i < m->proj_count; i++) {
		struct op_proj *q = &m->proj[i];
		uint64_t w, nb;

		res = check_prog(q->prog, q->info.prog_len, rs0, &q->info);
		if (res != TEE_SUCCESS)
			return res;
		w = ts_expr_stored_width(&q->info.result);
		if (w == 0 || q->out_offset > ors || w > ors - q->out_offset ||
		    hits_reserved(r, q->out_offset, w))
			return TS_ERROR_BAD_REQUEST;
		if (q->out_null_bit == TS_OP_NOT_NULLABLE)
			continue;
		/* As ts_expr_write_column checks it at run time: the NULL
		 * bit outside the value, here also outside the flag word
		 * and the sequence number. */
		nb = q->out_null_bit / 8;
		if (nb >= ors || overlaps(nb, 1, q->out_offset, w) ||
		    hits_reserved(r, nb, 1))
			return TS_ERROR_BAD_REQUEST;
	}
	if (m->proj_count == 0 &&
	    ((uint64_t)r->pk_offset + rs0 > ors ||
	     hits_reserved(r, r->pk_offset, rs0)))
		return TS_ERROR_BAD_REQUEST;
	return TEE_SUCCESS;
}

/* Workspace bytes of the largest program over `rows` rows; 0: overflow. */
static size_t ws_need(const struct stream_map *m, size_t rows)
{
	size_t need = 0, s;
	uint32_t i;

	if (m->pred) {
		need = ts_expr_workspace_size(&m->pred_info, rows);
		if (need == 0)
			return 0;
	}
	for (i = 0; i < m->proj_count; i++) {
		s = ts_expr_workspace_size(&m->proj[i].info, rows);
		if (s == 0)
			return 0;
		need = s > need ? s : need;
	}
	return need;
}

/* see cmd_stream_map.h */
TEE_Result stream_map_alloc(struct stream_map *m,
			    const struct ts_stream_request *r, uint64_t max_rows)
{
	const size_t ors = r->out_row_size;
	size_t chunk = MAP_CHUNK, need;

	if (max_rows < chunk)
		chunk = max_rows ? (size_t)max_rows : 1;
	while (chunk > 1 && chunk * ors > MAP_STAGE_BUDGET)
		chunk /= 2;
	while (chunk > 1 && (ws_need(m, chunk) == 0 ||
			     ws_need(m, chunk) > MAP_WS_BUDGET))
		chunk /= 2;
	need = ws_need(m, chunk);
	if ((m->pred || m->proj_count) && (need == 0 || need > SIZE_MAX - 16))
		return TEE_ERROR_OUT_OF_MEMORY;
	m->chunk = (uint32_t)chunk;
	m->stage_size = chunk * ors;
	m->keep_size = chunk * sizeof(uint32_t);
	m->stage = TEE_Malloc(m->stage_size, TEE_MALLOC_NO_FILL);
	m->keep = TEE_Malloc(m->keep_size, 0);
	if (need) {
		m->ws_raw_size = need + 16;
		m->ws_raw = TEE_Malloc(m->ws_raw_size, 0);
		if (m->ws_raw) {
			m->ws = m->ws_raw +
				((16 - ((uintptr_t)m->ws_raw & 15)) & 15);
			m->ws_len = need;
		}
	}
	if (!m->stage || !m->keep || (need && !m->ws_raw))
		return TEE_ERROR_OUT_OF_MEMORY;
	return TEE_SUCCESS;
}

/* Little-endian store of a public value (the row index) at a public
 * offset. */
static void st64le(uint8_t *p, uint64_t v)
{
	uint32_t i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Evaluate the projections and the predicate over c rows into m->stage
 * (zeroed first) and m->keep.
 * Leaks: c, rs, the programs and offsets.  Hides: the rows, values, NULLs
 * and the predicate's results. */
static TEE_Result map_chunk(struct stream_map *m,
			    const struct ts_stream_request *r,
			    const uint8_t *rows, size_t c, uint32_t rs)
{
	const size_t ors = r->out_row_size;
	uint32_t *keep = (uint32_t *)(void *)m->keep;
	struct ts_expr_col col;
	size_t j;
	uint32_t k;

	TEE_MemFill(m->stage, 0, c * ors);
	if (m->proj_count == 0)
		for (j = 0; j < c; j++)
			TEE_MemMove(m->stage + j * ors + r->pk_offset,
				    rows + j * rs, rs);
	for (k = 0; k < m->proj_count; k++) {
		const struct op_proj *q = &m->proj[k];

		if (ts_expr_eval(q->prog, &q->info, rows, c, rs, m->ws,
				 m->ws_len, &col) != TS_EXPR_OK ||
		    ts_expr_write_column(&col, m->stage, ors, q->out_offset,
					 q->out_null_bit) != TS_EXPR_OK)
			return TEE_ERROR_GENERIC;
	}
	if (!(r->variant & TS_STREAM_MAP_FLAG))
		return TEE_SUCCESS;
	if (!m->pred) {
		for (j = 0; j < c; j++)
			keep[j] = 1;
		return TEE_SUCCESS;
	}
	if (ts_expr_eval(m->pred, &m->pred_info, rows, c, rs, m->ws,
			 m->ws_len, &col) != TS_EXPR_OK ||
	    ts_expr_filter_ctl(&col, keep) != TS_EXPR_OK)
		return TEE_ERROR_GENERIC;
	return TEE_SUCCESS;
}

/* see cmd_stream_map.h */
TEE_Result stream_map_block(struct stream_map *m, struct stream_state *st,
			    const struct ts_stream_request *r,
			    const uint8_t *rows, uint32_t n, uint32_t rs)
{
	const size_t ors = r->out_row_size;
	const uint32_t *keep = (const uint32_t *)(const void *)m->keep;
	const int flag = (r->variant & TS_STREAM_MAP_FLAG) != 0;
	const int seq = (r->variant & TS_STREAM_MAP_SEQ) != 0;
	size_t i, j, c;
	TEE_Result res;

	for (i = 0; i < n; i += c) {
		c = n - i < m->chunk ? n - i : m->chunk;
		res = map_chunk(m, r, rows + i * rs, c, rs);
		if (res != TEE_SUCCESS)
			return res;
		for (j = 0; j < c; j++) {
			uint8_t *row = m->stage + j * ors;

			if (seq)
				st64le(row + r->aux_offset, st->rows_seen);
			st->rows_seen++;
			if (flag) {
				TEE_MemFill(row, 0, FLAG_WORD);
				row[0] = 1;
				st->real += keep[j];
				res = STREAM_MAP_EMIT(st, keep[j], row);
			} else {
				TEE_MemMove(stream_out_slot(st), row, ors);
				res = stream_out_commit(st);
			}
			if (res != TEE_SUCCESS)
				return res;
		}
	}
	return TEE_SUCCESS;
}

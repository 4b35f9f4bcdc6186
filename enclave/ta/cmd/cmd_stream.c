/*
 * cmd_stream.c - TA_TEESPARK_CMD_STREAM: WIDEN, AGGREGATE, JOIN_PKFK, LIMIT
 * and MAP over registered tables larger than the TA heap, one sealed block
 * at a time (teespark_ta.h, "Streaming aggregate and join";
 * docs/LEAKAGE.md). MAP's evaluation lives in cmd_stream_map.c, the join
 * expansion modes (GROUP_COUNT, GENERATE, FILL) in cmd_stream_expand.c.
 *
 * Shape of the work (every size here is public):
 *   1. copy the request (and MAP's body) into TA memory and validate what
 *      needs no row size;
 *   2. find the registered input table(s), pass 1 over their headers
 *      (format, sequence, row and block counts), then the row-size checks
 *      (MAP: every program validated), all before any block is opened;
 *   3. the output table's shape, a pure function of the input shapes and
 *      the request (AGGREGATE, JOIN_PKFK: one output row per input row and
 *      one output block per input block);
 *   4. pass 2: open each input block into one plaintext buffer, run the
 *      mode's row step on each row in order (MAP: the evaluator over the
 *      block's rows as a batch), and seal output blocks as they fill.
 *      AGGREGATE and JOIN_PKFK carry their state (the running aggregates
 *      of the current group and the last distinct value, the last
 *      primary-key row) from one block to the next in TA memory.
 * The row steps touch every row the same way: no branch, index or loop
 * bound depends on row contents (ct.h muxes and masked copies); the
 * variants and flags of the request are public and may branch. Memory is
 * one input block, one output block and O(row size) state (MAP: plus
 * evaluator batches of at most one block): independent of the table sizes.
 */
#include "cmd_stream.h"
#include "cmd_stream_internal.h"
#include "cmd_stream_map.h"
#include "block_list.h"
#include "output_table.h"
#include "../ct.h"
#include "../crypto/block_gcm.h"
#include "../ops/agg_values.h"
#include "../ops/key_encode_nulls.h"
#include "../ops/op_aggregate.h"

static void stream_state_free(struct stream_state *st)
{
	block_gcm_free(&st->dec[0]);
	block_gcm_free(&st->dec[1]);
	block_gcm_free(&st->enc);
	cmd_free_wiped(&st->in_pt, st->in_pt_size);
	cmd_free_wiped(&st->out_pt, st->out_pt_size);
	cmd_free_wiped(&st->scratch, st->scratch_size);
	cmd_free_wiped(&st->xstate, st->xstate_size);
	shim_wipe(st->cnt, sizeof(st->cnt));
	shim_wipe(st->acc, sizeof(st->acc));
	st->has_pk = 0;
	st->dup = 0;
	st->real = 0;
}

/* ------------------------------------------------------------- request */

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* Checks that need no row size. Unused entries must be all zero. */
static TEE_Result check_request(const struct ts_stream_request *r)
{
	uint32_t m = r->mode;

	if (m < TS_STREAM_WIDEN || m > TS_STREAM_FILL ||
	    r->in0_key_slot >= TS_MAX_KEY_SLOTS ||
	    r->in1_key_slot >= TS_MAX_KEY_SLOTS ||
	    r->out_key_slot >= TS_MAX_KEY_SLOTS ||
	    (m != TS_STREAM_MAP && (r->pred_size || r->proj_count)) ||
	    r->key_count > TS_STREAM_MAX_KEYS ||
	    r->agg_count > TS_STREAM_MAX_AGGS ||
	    r->copy_count > TS_STREAM_MAX_COPIES || r->reveal > 1 ||
	    !all_zero(&r->keys[r->key_count],
		      (TS_STREAM_MAX_KEYS - r->key_count) * sizeof(r->keys[0])) ||
	    !all_zero(&r->aggs[r->agg_count],
		      (TS_STREAM_MAX_AGGS - r->agg_count) * sizeof(r->aggs[0])) ||
	    !all_zero(&r->copies[r->copy_count],
		      (TS_STREAM_MAX_COPIES - r->copy_count) *
		      sizeof(r->copies[0])))
		return TS_ERROR_BAD_REQUEST;
	/* The expansion modes check the rest in stream_expand_check. */
	if (stream_is_expand_mode(m))
		return (r->in1_key_slot || r->in0_bytes || r->copy_count ||
			r->fk_offset || r->agg_count || r->pk_size ||
			(m != TS_STREAM_GENERATE && r->limit)) ?
			TS_ERROR_BAD_REQUEST : TEE_SUCCESS;
	if (m != TS_STREAM_WIDEN && (r->in1_key_slot || r->in0_bytes ||
				     r->copy_count || r->fk_offset))
		return TS_ERROR_BAD_REQUEST;
	/* MAP checks the rest in stream_map_parse. */
	if (m == TS_STREAM_MAP)
		return TEE_SUCCESS;
	if (r->aux_offset || (m != TS_STREAM_JOIN_PKFK && r->variant) ||
	    r->variant > TS_STREAM_JOIN_ANTI)
		return TS_ERROR_BAD_REQUEST;
	if ((m == TS_STREAM_WIDEN || m == TS_STREAM_LIMIT) &&
	    (r->rows_per_block == 0 || r->out_row_size == 0 ||
	     r->out_row_size > TS_MAX_ROW_SIZE || r->key_count ||
	     r->agg_count || r->reveal))
		return TS_ERROR_BAD_REQUEST;
	/* AGGREGATE may have no key (one group); a join needs one. */
	if ((m == TS_STREAM_AGGREGATE || m == TS_STREAM_JOIN_PKFK) &&
	    (r->rows_per_block || r->out_row_size || r->limit ||
	     (m == TS_STREAM_JOIN_PKFK && r->key_count == 0)))
		return TS_ERROR_BAD_REQUEST;
	/* SEMI and ANTI output the input row unchanged: no PK part. */
	if (m == TS_STREAM_JOIN_PKFK && r->variant >= TS_STREAM_JOIN_SEMI &&
	    (r->pk_offset || r->pk_size))
		return TS_ERROR_BAD_REQUEST;
	if (m != TS_STREAM_AGGREGATE && r->agg_count)
		return TS_ERROR_BAD_REQUEST;
	if (m != TS_STREAM_LIMIT && r->limit)
		return TS_ERROR_BAD_REQUEST;
	if (m == TS_STREAM_AGGREGATE &&
	    (r->side_offset || r->pk_offset || r->pk_size))
		return TS_ERROR_BAD_REQUEST;
	if (m != TS_STREAM_JOIN_PKFK && r->pk_size)
		return TS_ERROR_BAD_REQUEST;
	return TEE_SUCCESS;
}

static int span_ok(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* AGGREGATE's COUNT_DISTINCT state, carried from row to row in st->xstate
 * (the mode state buffer: AGGREGATE is no expansion mode, so it is free).
 * The spec and word count are public; has and the words secret. */
struct agg_distinct {
	struct obl_key_spec spec;	/* the distinct column, no null word */
	uint32_t agg;			/* index of the first COUNT_DISTINCT */
	uint32_t words;			/* key words of the column */
	uint32_t has;			/* the group has a non-NULL value so far */
	uint32_t pad;
	/* then: words key words of the previous non-NULL value of the
	 * group, words of the current row's value */
};

/* COUNT_DISTINCT entries must all name one column (the input is sorted by
 * it within each group); size the carried state. Public. */
static TEE_Result check_distinct(const struct ts_stream_request *r,
				 struct stream_state *st)
{
	const struct obl_agg_spec *first = NULL;
	struct obl_key_spec k;
	size_t words;
	uint32_t i;

	for (i = 0; i < r->agg_count; i++) {
		const struct obl_agg_spec *s = &st->aggs[i];

		if (s->fn != OBL_AGG_COUNT_DISTINCT)
			continue;
		if (!first) {
			first = s;
			continue;
		}
		if (s->type != first->type || s->offset != first->offset ||
		    s->width != first->width ||
		    s->nullable != first->nullable ||
		    (s->nullable && (s->null_offset != first->null_offset ||
				     s->null_bit != first->null_bit)))
			return TS_ERROR_BAD_REQUEST;
	}
	if (!first)
		return TEE_SUCCESS;
	TEE_MemFill(&k, 0, sizeof(k));
	k.col.type = first->type;
	k.col.offset = first->offset;
	k.col.width = first->width;
	words = obl_key_spec_words(&k, 1);
	if (words == 0)
		return TS_ERROR_BAD_REQUEST;
	st->xstate_size = sizeof(struct agg_distinct) + 2 * 8 * words;
	return TEE_SUCCESS;
}

/* Fill in the public part of the COUNT_DISTINCT state (after allocation). */
static void distinct_init(struct stream_state *st,
			  const struct ts_stream_request *r)
{
	struct agg_distinct *d = (struct agg_distinct *)(void *)st->xstate;
	uint32_t i;

	for (i = r->agg_count; i-- > 0;) {
		const struct obl_agg_spec *s = &st->aggs[i];

		if (s->fn != OBL_AGG_COUNT_DISTINCT)
			continue;
		TEE_MemFill(&d->spec, 0, sizeof(d->spec));
		d->spec.col.type = s->type;
		d->spec.col.offset = s->offset;
		d->spec.col.width = s->width;
		d->agg = i;
	}
	d->words = (uint32_t)obl_key_spec_words(&d->spec, 1);
}

/* Checks against the input row size(s); sets *out_row_size. */
static TEE_Result check_shapes(const struct ts_stream_request *r,
			       struct stream_state *st,
			       struct stream_map *map, uint32_t rs0,
			       uint32_t rs1, uint32_t *out_row_size)
{
	uint32_t i;
	size_t o;
	TEE_Result res;

	if (stream_is_expand_mode(r->mode))
		return stream_expand_check(r, st, rs0, out_row_size,
					   &st->xstate_size);

	switch (r->mode) {
	case TS_STREAM_WIDEN:
		if (!span_ok(r->pk_offset, rs0, r->out_row_size) ||
		    !span_ok(r->fk_offset, rs1, r->out_row_size) ||
		    (r->side_offset != TS_STREAM_NO_SIDE &&
		     r->side_offset >= r->out_row_size))
			return TS_ERROR_BAD_REQUEST;
		for (i = 0; i < r->copy_count; i++) {
			const struct ts_stream_copy *c = &r->copies[i];

			if (c->width == 0 || !span_ok(c->src0, c->width, rs0) ||
			    !span_ok(c->src1, c->width, rs1) ||
			    !span_ok(c->dst, c->width, r->out_row_size))
				return TS_ERROR_BAD_REQUEST;
		}
		*out_row_size = r->out_row_size;
		return TEE_SUCCESS;
	case TS_STREAM_LIMIT:
		if (!span_ok(r->pk_offset, r->out_row_size, rs0))
			return TS_ERROR_BAD_REQUEST;
		*out_row_size = r->out_row_size;
		return TEE_SUCCESS;
	case TS_STREAM_MAP:
		*out_row_size = r->out_row_size;
		return stream_map_check(map, r, rs0);
	default:
		break;
	}
	TEE_MemMove(st->keys, r->keys, sizeof(st->keys));
	TEE_MemMove(st->aggs, r->aggs, sizeof(st->aggs));
	if (obl_key_spec_check(st->keys, r->key_count, rs0) != 0)
		return TS_ERROR_BAD_REQUEST;
	st->kwords = obl_key_spec_words(st->keys, r->key_count);
	if (st->kwords == 0 && r->key_count)
		return TS_ERROR_BAD_REQUEST;
	if (r->mode == TS_STREAM_AGGREGATE) {
		if (obl_aggregate_check(rs0, st->keys, r->key_count, st->aggs,
					r->agg_count) != 0)
			return TS_ERROR_BAD_REQUEST;
		res = check_distinct(r, st);
		if (res != TEE_SUCCESS)
			return res;
		o = FLAG_WORD + obl_agg_out_row_size(rs0, r->agg_count);
	} else {
		if (r->side_offset >= rs0 ||
		    !span_ok(r->pk_offset, r->pk_size, rs0))
			return TS_ERROR_BAD_REQUEST;
		o = FLAG_WORD + (size_t)rs0;
	}
	if (o > TS_MAX_ROW_SIZE)
		return TS_ERROR_BAD_REQUEST;
	*out_row_size = (uint32_t)o;
	return TEE_SUCCESS;
}

/* Pass 1: headers only. On TS_ERROR_BLOCK_* *fail_index is the block. */
static TEE_Result scan_input(struct stream_input *in, uint32_t *fail_index)
{
	struct block_list bl;
	struct ts_block_header hdr;
	const uint8_t *sealed;
	TEE_Result res;

	in->n_rows = 0;
	in->max_ct = 0;
	block_list_start(&bl, in->buf, in->len, &in->table);
	while (block_list_more(&bl)) {
		*fail_index = bl.count;
		res = block_list_next(&bl, &hdr, &sealed);
		if (res != TEE_SUCCESS)
			return res;
		in->n_rows += hdr.row_count;
		if (hdr.ciphertext_size > in->max_ct)
			in->max_ct = hdr.ciphertext_size;
	}
	*fail_index = bl.count;
	res = block_list_finish(&bl);
	if (res == TEE_SUCCESS && in->n_rows != in->table.row_count)
		res = TS_ERROR_BLOCK_SEQUENCE;
	return res;
}

/* --------------------------------------------------------------- output */

/* The next free output row slot. */
uint8_t *stream_out_slot(struct stream_state *st)
{
	return st->out_pt + (size_t)st->fill * st->ot.t.row_size;
}

/* Count the row just written to out_slot; seal the block when it is full
 * (block boundaries depend on the public counts only).
 * Leaks: row and block counts.  Hides: rows. */
TEE_Result stream_out_commit(struct stream_state *st)
{
	const uint32_t rpb = st->ot.t.rows_per_block;
	TEE_Result res;

	st->fill++;
	st->written++;
	if (st->fill == rpb || st->written == st->ot.t.row_count) {
		res = output_table_seal(&st->ot, &st->enc, st->fill,
					st->out_pt);
		st->fill = 0;
		return res;
	}
	return TEE_SUCCESS;
}

/* Write `row` to the next slot if ctl, else a zero row (a dummy).
 * Leaks: the row size.  Hides: ctl, the row. */
TEE_Result stream_out_masked(struct stream_state *st, uint32_t ctl,
			   const uint8_t *row)
{
	uint8_t *dst = stream_out_slot(st);
	uint8_t m = (uint8_t)(0u - (ctl & 1u));
	size_t i, n = st->ot.t.row_size;

	for (i = 0; i < n; i++)
		dst[i] = (uint8_t)(row[i] & m);
	return stream_out_commit(st);
}

/* --------------------------------------------------------------- steps */

/* WIDEN: place one row of input `side` in an out_row_size row, tagged
 * with its side unless side_offset is TS_STREAM_NO_SIDE.
 * Leaks: side (public: which input), offsets.  Hides: the row. */
static TEE_Result step_widen(struct stream_state *st,
			     const struct ts_stream_request *r,
			     const uint8_t *row, uint32_t rs, uint32_t side)
{
	uint8_t *dst = stream_out_slot(st);
	uint32_t i;

	TEE_MemFill(dst, 0, r->out_row_size);
	TEE_MemMove(dst + (side ? r->fk_offset : r->pk_offset), row, rs);
	if (r->side_offset != TS_STREAM_NO_SIDE)
		dst[r->side_offset] = (uint8_t)side;
	for (i = 0; i < r->copy_count; i++) {
		const struct ts_stream_copy *c = &r->copies[i];

		TEE_MemMove(dst + c->dst, row + (side ? c->src1 : c->src0),
			    c->width);
	}
	return stream_out_commit(st);
}

/* COUNT_DISTINCT: 1 iff the row's distinct value is not NULL and differs
 * from the previous non-NULL value of its group (input sorted by the keys,
 * then that column), compared by key encoding: FLOAT64 -0.0 == +0.0 and
 * every NaN equal, as Spark. keep: the row continues the group.
 * Leaks: the column's spec.  Hides: keep, the value, NULLs, the result. */
static uint32_t distinct_step(struct stream_state *st, const uint8_t *row,
			      uint32_t keep)
{
	struct agg_distinct *d = (struct agg_distinct *)(void *)st->xstate;
	const struct obl_agg_spec *s = &st->aggs[d->agg];
	uint64_t *prev = (uint64_t *)(void *)(d + 1);
	uint64_t *cur = prev + d->words;
	uint32_t valid, has, fresh;

	valid = ct_not(obl_row_null_flag(row, s->null_offset, s->null_bit,
					 s->nullable));
	(void)obl_key_spec_encode_row(row, &d->spec, 1, cur);
	has = d->has & keep;
	fresh = valid & ct_not(has & STREAM_KEY_EQ(cur, prev, d->words));
	ct_copy(valid, prev, cur, (size_t)d->words * 8);
	d->has = has | valid;
	return fresh;
}

/* AGGREGATE: fold one row into the running aggregates of its group and
 * build the candidate output row (the group's result if this row is the
 * group's last) in st->pending. start: this row opens a group.
 * Leaks: the aggregate list, row size.  Hides: start, the row, NULLs, the
 * running values, which values are distinct. */
static void agg_fold(struct stream_state *st,
		     const struct ts_stream_request *r, const uint8_t *row,
		     uint32_t rs, uint32_t start)
{
	const size_t rs8 = ((size_t)rs + 7) & ~(size_t)7;
	const uint32_t keep = ct_not(start);
	uint8_t *vals = st->pending + FLAG_WORD + rs8;
	uint8_t *nulls = vals + 8 * (size_t)r->agg_count;
	/* st->xstate is set (public) iff there is a COUNT_DISTINCT. */
	const uint32_t fresh = st->xstate ? distinct_step(st, row, keep) : 0;
	uint32_t a;

	TEE_MemFill(st->pending, 0, st->ot.t.row_size);
	st->pending[0] = 1;
	TEE_MemMove(st->pending + FLAG_WORD, row, rs);
	for (a = 0; a < r->agg_count; a++) {
		const struct obl_agg_spec *s = &st->aggs[a];
		uint32_t valid = 1, is_f = s->type == OBL_KEY_FLOAT64;
		uint64_t x = 0, prev_cnt, v, div;
		uint32_t empty, take, better;
		int64_t ord;
		double d;

		/* COUNT_DISTINCT counts the values distinct_step found
		 * new (its column may be wider than 8 bytes: not loaded). */
		if (s->fn == OBL_AGG_COUNT_DISTINCT) {
			valid = fresh;
		} else if (s->fn != OBL_AGG_COUNT_STAR) {
			valid = ct_not(obl_row_null_flag(row, s->null_offset,
							 s->null_bit,
							 s->nullable));
			x = agg_load(row, s);
		}
		prev_cnt = ct_u64_mux(keep, st->cnt[a], 0);
		st->cnt[a] = prev_cnt + valid;
		empty = ct_u64_eq(st->cnt[a], 0);
		switch (s->fn) {
		case OBL_AGG_SUM:
		case OBL_AGG_AVG:
			if (is_f) {
				d = agg_as_double(ct_u64_mux(keep, st->acc[a],
							     0)) +
				    agg_as_double(ct_u64_mux(valid, x, 0));
				st->acc[a] = agg_double_bits(d);
			} else {
				st->acc[a] = ct_u64_mux(keep, st->acc[a], 0) +
					     ct_u64_mux(valid, x, 0);
			}
			break;
		case OBL_AGG_MIN:
		case OBL_AGG_MAX:
			if (is_f)
				ord = agg_f64_to_ord(x);
			else if (s->type == OBL_KEY_UINT)
				ord = (int64_t)(x ^ AGG_SIGN64);
			else
				ord = (int64_t)x;
			better = s->fn == OBL_AGG_MIN ?
				ct_i64_lt(ord, (int64_t)st->acc[a]) :
				ct_i64_lt((int64_t)st->acc[a], ord);
			take = valid & (ct_u64_eq(prev_cnt, 0) | better);
			st->acc[a] = (uint64_t)ct_i64_mux(take, ord,
							   (int64_t)st->acc[a]);
			break;
		default:
			break;
		}
		/* The value if the group ended here. */
		switch (s->fn) {
		case OBL_AGG_COUNT_STAR:
		case OBL_AGG_COUNT:
		case OBL_AGG_COUNT_DISTINCT:
			v = st->cnt[a];
			empty = 0;
			break;
		case OBL_AGG_SUM:
			v = st->acc[a];
			break;
		case OBL_AGG_MIN:
		case OBL_AGG_MAX:
			if (is_f)
				v = agg_ord_to_f64((int64_t)st->acc[a]);
			else if (s->type == OBL_KEY_UINT)
				v = st->acc[a] ^ AGG_SIGN64;
			else
				v = st->acc[a];
			break;
		default:	/* AVG: one division per row, divisor >= 1 */
			div = ct_u64_mux(empty, 1, st->cnt[a]);
			if (is_f)
				d = agg_as_double(st->acc[a]);
			else
				d = (double)(int64_t)st->acc[a];
			/* Signed conversion: uint64 -> double branches on
			 * the top bit on x86-64 (counts are < 2^63). */
			v = agg_double_bits(d / (double)(int64_t)div);
			break;
		}
		v = ct_u64_mux(empty, 0, v);
		TEE_MemMove(vals + 8 * (size_t)a, &v, 8);
		nulls[a] = (uint8_t)empty;
	}
}

/* AGGREGATE: one input row. The previous row's candidate is emitted as
 * real iff this row starts a new group. first: the table's first row
 * (public). With no key every row continues the one group (ct_key_eq of
 * zero words is 1), so only the last row's candidate is real.
 * Leaks: first, sizes.  Hides: the keys, group boundaries, values. */
static TEE_Result step_aggregate(struct stream_state *st,
				 const struct ts_stream_request *r,
				 const uint8_t *row, uint32_t rs, int first)
{
	uint32_t start = 1;
	uint64_t *t;
	TEE_Result res = TEE_SUCCESS;

	(void)obl_key_spec_encode_row(row, st->keys, r->key_count,
				      st->kw_cur);
	if (!first) {
		start = ct_not(STREAM_KEY_EQ(st->kw_cur, st->kw_prev, st->kwords));
		res = stream_out_masked(st, start, st->pending);
		st->real += start;
	}
	t = st->kw_prev;
	st->kw_prev = st->kw_cur;
	st->kw_cur = t;
	agg_fold(st, r, row, rs, start);
	return res;
}

/* JOIN_PKFK: one row of the sorted union. A PK row (side 0) becomes the
 * carried PK; an FK row (side 1) is "matched" iff its keys are not NULL and
 * equal the carried PK's. By the (public) variant the output row is:
 *   INNER  [flag 1 | row with the PK part replaced] on matched rows;
 *   OUTER  [flag 1, flag byte 1 = matched | row with the PK part replaced
 *          (matched) or zero (not)] on every FK row;
 *   SEMI   [flag 1 | row] on matched rows;
 *   ANTI   [flag 1 | row] on FK rows not matched (NULL keys included);
 * every other row a dummy. INNER and OUTER record a repeated PK.
 * Leaks: the variant, sizes.  Hides: keys, sides, which rows match, NULLs. */
static TEE_Result step_join(struct stream_state *st,
			    const struct ts_stream_request *r,
			    const uint8_t *row, uint32_t rs)
{
	const uint32_t v = r->variant;
	const int pk_unique = v == TS_STREAM_JOIN_INNER ||
			      v == TS_STREAM_JOIN_OUTER;
	uint8_t *pk_dst = st->row + FLAG_WORD + r->pk_offset;
	uint32_t null, is_pk, eq, match, flag;

	null = obl_key_spec_encode_row(row, st->keys, r->key_count,
				       st->kw_cur);
	is_pk = ct_u32_eq(row[r->side_offset], 0);
	eq = STREAM_KEY_EQ(st->kw_cur, st->kw_prev, st->kwords) & st->has_pk &
	     ct_not(null);
	match = ct_not(is_pk) & eq;
	if (pk_unique)
		st->dup |= is_pk & eq;
	switch (v) {
	case TS_STREAM_JOIN_OUTER:
		flag = ct_not(is_pk);
		break;
	case TS_STREAM_JOIN_ANTI:
		flag = ct_not(is_pk) & ct_not(eq);
		break;
	default:	/* INNER, SEMI */
		flag = match;
		break;
	}
	st->real += flag;

	TEE_MemFill(st->row, 0, FLAG_WORD);
	st->row[0] = 1;
	TEE_MemMove(st->row + FLAG_WORD, row, rs);
	if (v == TS_STREAM_JOIN_INNER) {
		TEE_MemMove(pk_dst, st->pk_row, r->pk_size);
	} else if (v == TS_STREAM_JOIN_OUTER) {
		st->row[1] = (uint8_t)match;
		TEE_MemFill(pk_dst, 0, r->pk_size);
		ct_copy(match, pk_dst, st->pk_row, r->pk_size);
	}

	ct_copy(is_pk, st->pk_row, row + r->pk_offset, r->pk_size);
	ct_copy(is_pk, st->kw_prev, st->kw_cur, st->kwords * 8);
	st->has_pk |= is_pk & ct_not(null);
	return stream_out_masked(st, flag, st->row);
}

/* Pass 2 over one input: open each block, step each row.
 * Leaks: block and row counts, which block failed.  Hides: rows. */
static TEE_Result run_input(struct stream_state *st,
			    const struct ts_stream_request *r,
			    struct stream_map *map,
			    struct stream_input *in, uint32_t side,
			    uint32_t *fail_index)
{
	struct block_list bl;
	struct ts_block_header hdr;
	const uint8_t *sealed;
	const uint32_t rs = in->table.row_size;
	uint64_t done = 0;
	uint32_t i;
	TEE_Result res;

	block_list_start(&bl, in->buf, in->len, &in->table);
	while (block_list_more(&bl)) {
		*fail_index = bl.count;
		if (cmd_cancelled())
			return TEE_ERROR_CANCEL;
		res = block_list_next(&bl, &hdr, &sealed);
		if (res != TEE_SUCCESS)
			return res;
		if (hdr.ciphertext_size > in->max_ct ||
		    hdr.row_count > in->n_rows - done)
			return TS_ERROR_BLOCK_SEQUENCE;
		/* LIMIT: blocks wholly past the limit are not opened. */
		if (r->mode == TS_STREAM_LIMIT && done >= r->limit) {
			done += hdr.row_count;
			continue;
		}
		res = block_gcm_open(&st->dec[side], &hdr, sealed, st->in_pt);
		if (res != TEE_SUCCESS)
			return res;
		/* MAP evaluates a block's rows as one batch. */
		if (r->mode == TS_STREAM_MAP) {
			res = stream_map_block(map, st, r, st->in_pt,
					       hdr.row_count, rs);
			if (res != TEE_SUCCESS)
				return res;
			done += hdr.row_count;
			continue;
		}
		for (i = 0; i < hdr.row_count; i++) {
			const uint8_t *row = st->in_pt + (size_t)i * rs;

			switch (r->mode) {
			case TS_STREAM_WIDEN:
				res = step_widen(st, r, row, rs, side);
				break;
			case TS_STREAM_AGGREGATE:
				res = step_aggregate(st, r, row, rs,
						     st->rows_seen == 0);
				break;
			case TS_STREAM_JOIN_PKFK:
				res = step_join(st, r, row, rs);
				break;
			case TS_STREAM_GROUP_COUNT:
			case TS_STREAM_FILL:
				res = stream_expand_step(st, r, row, rs);
				break;
			default:	/* LIMIT */
				if (done + i >= r->limit)
					break;
				TEE_MemMove(stream_out_slot(st), row + r->pk_offset,
					    r->out_row_size);
				res = stream_out_commit(st);
				break;
			}
			st->rows_seen++;
			if (res != TEE_SUCCESS)
				return res;
		}
		done += hdr.row_count;
	}
	*fail_index = bl.count;
	res = block_list_finish(&bl);
	if (res == TEE_SUCCESS && done != in->n_rows)
		res = TS_ERROR_BLOCK_SEQUENCE;
	return res;
}

/* Find, check and count one input. */
static TEE_Result open_input(struct ta_session *s, struct stream_input *in,
			     const uint8_t *buf, size_t len, uint32_t slot,
			     uint32_t *fail_index)
{
	TEE_Result res;

	in->buf = buf;
	in->len = len;
	res = block_list_find_table(&s->tables, buf, len, slot, &in->table);
	if (res != TEE_SUCCESS)
		return res;
	return scan_input(in, fail_index);
}

/* Allocate the buffers: one input block, one output block, row scratch.
 * Leaks: sizes.  Hides: nothing secret yet. */
static TEE_Result alloc_state(struct stream_state *st, size_t max_in_ct,
			      uint32_t pk_size)
{
	const size_t orow = (st->ot.t.row_size + 7u) & ~(size_t)7;
	const size_t kwb = st->kwords * 8;

	st->in_pt_size = max_in_ct ? max_in_ct : 1;
	st->out_pt_size = st->ot.max_block ? st->ot.max_block : 1;
	st->scratch_size = 2 * orow + (((size_t)pk_size + 7) & ~(size_t)7) +
			   2 * kwb + 8;
	st->in_pt = TEE_Malloc(st->in_pt_size, TEE_MALLOC_NO_FILL);
	st->out_pt = TEE_Malloc(st->out_pt_size, TEE_MALLOC_NO_FILL);
	st->scratch = TEE_Malloc(st->scratch_size, 0);
	if (st->xstate_size)
		st->xstate = TEE_Malloc(st->xstate_size, 0);
	if (!st->in_pt || !st->out_pt || !st->scratch ||
	    (st->xstate_size && !st->xstate))
		return TEE_ERROR_OUT_OF_MEMORY;
	st->pending = st->scratch;
	st->row = st->pending + orow;
	st->pk_row = st->row + orow;
	st->kw_cur = (uint64_t *)(void *)(st->pk_row +
			(((size_t)pk_size + 7) & ~(size_t)7));
	st->kw_prev = st->kw_cur + st->kwords;
	return TEE_SUCCESS;
}

/* The parameters, the request and (MAP) its body, copied once into TA
 * memory: later checks read only the copies. *body (body_len bytes, 0:
 * none) is TEE_Malloc'd; the caller frees it. Public data only. */
static TEE_Result copy_request(uint32_t param_types,
			       TEE_Param params[SHIM_NUM_PARAMS],
			       struct ts_stream_request *req, uint8_t **body,
			       size_t *body_len, const void **in,
			       size_t *in_len)
{
	const uint32_t exp = TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_MEMREF_OUTPUT,
					     TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_VALUE_OUTPUT);
	const uint8_t *src;
	size_t size;

	*body = NULL;
	*body_len = 0;
	if (param_types != exp)
		return TEE_ERROR_BAD_PARAMETERS;
	params[3].value.a = 0;
	params[3].value.b = 0;
	src = params[2].memref.buffer;
	size = params[2].memref.size;
	if (!src || size < sizeof(*req) ||
	    size - sizeof(*req) > TS_OP_MAX_BODY) {
		SHIM_LOGE("Wrong stream request size %zu, expect %zu bytes "
			  "and a body of at most %u", size, sizeof(*req),
			  (unsigned int)TS_OP_MAX_BODY);
		return TEE_ERROR_BAD_PARAMETERS;
	}
	*in = params[0].memref.buffer;
	*in_len = *in ? params[0].memref.size : 0;
	TEE_MemMove(req, src, sizeof(*req));
	if (size == sizeof(*req))
		return TEE_SUCCESS;
	*body = TEE_Malloc(size - sizeof(*req), TEE_MALLOC_NO_FILL);
	if (!*body)
		return TEE_ERROR_OUT_OF_MEMORY;
	*body_len = size - sizeof(*req);
	TEE_MemMove(*body, src + sizeof(*req), *body_len);
	return TEE_SUCCESS;
}

/* see cmd_stream.h */
TEE_Result cmd_stream(struct ta_session *s, uint32_t param_types,
		      TEE_Param params[SHIM_NUM_PARAMS])
{
	struct stream_state st;
	struct ts_stream_request req;
	struct ts_table_descriptor out_desc;
	struct stream_input in[2];
	struct stream_map *map = NULL;
	uint8_t *body = NULL;
	size_t body_len = 0;
	const struct key_slot *out_meta;
	const uint8_t *in_key[2] = { NULL, NULL }, *out_key = NULL;
	const void *in_buf;
	size_t in_len, len0, max_ct;
	uint64_t out_rows;
	uint32_t fail_index = 0, fail_input = 0, out_rs = 0, out_rpb, n_in;
	uint32_t j;
	bool was_masked;
	TEE_Result res;

	TEE_MemFill(&st, 0, sizeof(st));
	st.dec[0].op = TEE_HANDLE_NULL;
	st.dec[1].op = TEE_HANDLE_NULL;
	st.enc.op = TEE_HANDLE_NULL;
	TEE_MemFill(in, 0, sizeof(in));

	/* 1. The request, copied once: later checks read only the copy. */
	res = copy_request(param_types, params, &req, &body, &body_len,
			   &in_buf, &in_len);
	if (res != TEE_SUCCESS)
		goto out;
	res = check_request(&req);
	/* Only MAP has a body; its programs are checked in step 2. */
	if (res == TEE_SUCCESS && req.mode == TS_STREAM_MAP)
		res = stream_map_parse(&req, body, body_len, &map);
	else if (res == TEE_SUCCESS && body_len)
		res = TS_ERROR_BAD_REQUEST;
	if (res != TEE_SUCCESS) {
		SHIM_LOGE("STREAM: invalid request");
		goto out;
	}
	n_in = req.mode == TS_STREAM_WIDEN ? 2 :
	       req.mode == TS_STREAM_GENERATE ? 0 : 1;
	res = TEE_SUCCESS;
	if (n_in > 0)
		in_key[0] = key_slots_get(&s->keys, req.in0_key_slot, &res);
	if (in_key[0] && n_in == 2)
		in_key[1] = key_slots_get(&s->keys, req.in1_key_slot, &res);
	if (res == TEE_SUCCESS)
		out_key = key_slots_get(&s->keys, req.out_key_slot, &res);
	if (res != TEE_SUCCESS) {
		SHIM_LOGE("STREAM: key slots: 0x%x", (unsigned int)res);
		goto out;
	}
	if (key_slots_bound_elsewhere(&s->keys, req.out_key_slot,
				      req.out_table_id)) {
		SHIM_LOGE("STREAM: the key in slot %u belongs to another "
			  "table", req.out_key_slot);
		res = TEE_ERROR_ACCESS_DENIED;
		goto out;
	}

	/* 2. The input tables, then headers. */
	len0 = in_len;
	if (n_in == 0 && in_len != 0) {
		SHIM_LOGE("STREAM: GENERATE takes no input blocks");
		res = TS_ERROR_BAD_REQUEST;
		goto out;
	}
	if (n_in == 2) {
		if (req.in0_bytes > in_len) {
			SHIM_LOGE("STREAM: in0_bytes beyond param[0]");
			res = TS_ERROR_BAD_REQUEST;
			goto out;
		}
		len0 = (size_t)req.in0_bytes;
	}
	if (n_in > 0)
		res = open_input(s, &in[0], in_buf, len0, req.in0_key_slot,
				 &fail_index);
	if (res == TEE_SUCCESS && n_in == 2) {
		fail_input = 1;
		res = open_input(s, &in[1], (const uint8_t *)in_buf + len0,
				 in_len - len0, req.in1_key_slot, &fail_index);
	}
	if (res != TEE_SUCCESS)
		goto out;
	fail_input = 0;
	res = check_shapes(&req, &st, map, in[0].table.row_size,
			   n_in == 2 ? in[1].table.row_size : 0, &out_rs);
	if (res != TEE_SUCCESS) {
		SHIM_LOGE("STREAM: request does not fit the input rows");
		goto out;
	}

	/* 3. The output's shape: public functions of the inputs'. */
	switch (req.mode) {
	case TS_STREAM_WIDEN:
		out_rows = in[0].n_rows + in[1].n_rows;
		out_rpb = req.rows_per_block;
		break;
	case TS_STREAM_LIMIT:
		out_rows = in[0].n_rows < req.limit ? in[0].n_rows : req.limit;
		out_rpb = req.rows_per_block;
		break;
	case TS_STREAM_MAP:
		out_rows = in[0].n_rows;
		out_rpb = req.rows_per_block;
		break;
	case TS_STREAM_GENERATE:
		if (req.limit > (UINT64_MAX >> 2)) {
			res = TS_ERROR_BAD_REQUEST;
			goto out;
		}
		out_rows = 2 * req.limit;
		out_rpb = req.rows_per_block;
		break;
	default:
		out_rows = in[0].n_rows;
		out_rpb = in[0].table.rows_per_block;
		break;
	}
	output_table_init(&st.ot, req.out_table_id, req.out_table_version,
			  out_rows, out_rs, out_rpb, req.out_schema_hash);
	st.ot.t.in_use = 1;
	st.ot.t.slot_mask = 1u << req.out_key_slot;
	res = output_table_start(&st.ot, "STREAM", TS_TABLE_DESCRIPTOR_SIZE,
				 &params[1]);
	if (res == TEE_ERROR_OVERFLOW)
		res = TS_ERROR_BAD_REQUEST;
	if (res != TEE_SUCCESS)
		goto out;

	max_ct = in[0].max_ct > in[1].max_ct ? in[0].max_ct : in[1].max_ct;
	res = alloc_state(&st, max_ct, req.pk_size);
	if (res == TEE_SUCCESS && req.mode == TS_STREAM_MAP)
		res = stream_map_alloc(map, &req,
				       max_ct / (in[0].table.row_size ?
						 in[0].table.row_size : 1));
	if (res == TEE_SUCCESS && req.mode == TS_STREAM_AGGREGATE &&
	    st.xstate)
		distinct_init(&st, &req);
	if (res != TEE_SUCCESS) {
		SHIM_LOGE("STREAM: one block does not fit the heap");
		goto out;
	}
	for (j = 0; j < n_in && res == TEE_SUCCESS; j++)
		res = block_gcm_init(&st.dec[j], TEE_MODE_DECRYPT, in_key[j]);
	if (res == TEE_SUCCESS)
		res = block_gcm_init(&st.enc, TEE_MODE_ENCRYPT, out_key);
	out_meta = key_slots_meta(&s->keys, req.out_key_slot);
	if (res == TEE_SUCCESS)
		res = output_table_descriptor(&st.ot, out_meta->key_id,
					      out_key, &out_desc);
	if (res != TEE_SUCCESS)
		goto out;

	/* 4. Pass 2. */
	was_masked = TEE_UnmaskCancellation();
	for (j = 0; j < n_in && res == TEE_SUCCESS; j++) {
		fail_input = j;
		res = run_input(&st, &req, map, &in[j], j, &fail_index);
	}
	if (res == TEE_SUCCESS && req.mode == TS_STREAM_GENERATE)
		res = stream_expand_generate(&st, &req);
	if (res == TEE_SUCCESS && stream_is_expand_mode(req.mode))
		res = stream_expand_finish(&st, &req);
	/* AGGREGATE: the last row ends the last group. */
	if (res == TEE_SUCCESS && req.mode == TS_STREAM_AGGREGATE &&
	    st.rows_seen > 0) {
		res = stream_out_masked(&st, 1, st.pending);
		st.real += 1;
	}
	/* A table of zero rows still has its one empty block. */
	while (res == TEE_SUCCESS && st.ot.next < st.ot.t.block_count)
		res = output_table_seal(&st.ot, &st.enc, 0, st.out_pt);
	if (was_masked)
		TEE_MaskCancellation();
	if (res == TEE_SUCCESS && st.written != out_rows)
		res = TEE_ERROR_GENERIC;
	/* Declassified: whether a primary key repeats (as RUN_OPERATOR),
	 * and (on request) the number of real rows m. */
	STREAM_DECLASSIFY(&st.dup, sizeof(st.dup));
	if (req.reveal)
		STREAM_DECLASSIFY(&st.real, sizeof(st.real));
	if (res == TEE_SUCCESS && ct_u32_barrier(st.dup)) {
		SHIM_LOGE("STREAM: duplicate primary key");
		res = TS_ERROR_PK_DUPLICATE;
	}
	if (res == TEE_SUCCESS) {
		TEE_MemMove(params[1].memref.buffer, &out_desc,
			    sizeof(out_desc));
		table_registry_put(&s->tables, &st.ot.t);
		output_table_result(&st.ot, TS_TABLE_DESCRIPTOR_SIZE, params);
		params[3].value.b = req.reveal ? (uint32_t)st.real : 0;
	}
out:
	stream_state_free(&st);
	stream_map_free(map);
	cmd_free_wiped(&body, body_len);
	cmd_report_block_error(res, fail_index, params, "STREAM");
	if (cmd_is_block_error(res))
		params[3].value.b = fail_input;
	return res;
}

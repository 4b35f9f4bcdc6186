/*
 * expr_eval.c - the stack machine: walks the (validated, public) program and
 * runs every instruction over every row of the batch.
 *
 * Workspace layout (all offsets public functions of the program and n):
 *   slot table   (max_depth + 1) struct ts_slot
 *   scratch      info->scratch bytes, 16-aligned
 *   buffers      (max_depth + 1) x [n NULL flags | n x max_elem value bytes]
 *
 * Stack discipline: position `depth` (one above the top) always holds a
 * free buffer. An instruction with m operands writes its result into that
 * free buffer (never in place, so operand and result widths may differ),
 * then the result's buffer and the first operand's buffer swap positions.
 * Which buffer holds what is a function of the program only.
 */
#include "expr_internal.h"

/* Round a public size up to a multiple of 16. */
static size_t align16(size_t x)
{
	return (x + 15) & ~(size_t)15;
}

/* Bytes of one slot buffer (NULL flags + values); 0 on overflow. Uses
 * overflow-checked multiplication rather than a division, so the objects
 * contain no div instruction at all (the expr-ct disassembly check). */
static size_t buffer_stride(const struct ts_expr_info *info, size_t nrows)
{
	size_t vals;

	if (__builtin_mul_overflow(nrows, (size_t)info->max_elem, &vals) ||
	    vals > SIZE_MAX / 4 || nrows > SIZE_MAX / 4)
		return 0;
	return align16(nrows) + align16(vals);
}

size_t ts_expr_workspace_size(const struct ts_expr_info *info, size_t nrows)
{
	size_t slots, stride, head, total;

	if (info == NULL || info->max_depth == 0)
		return 0;
	slots = (size_t)info->max_depth + 1;
	stride = buffer_stride(info, nrows);
	if (stride == 0 && nrows != 0)
		return 0;
	head = align16(slots * sizeof(struct ts_slot)) + align16(info->scratch);
	if (__builtin_mul_overflow(slots, stride, &total) ||
	    __builtin_add_overflow(total, head, &total))
		return 0;
	return total;
}

/* Read a column of the batch into r: the NULL bit and the value of every
 * row, converted to the stack encoding. NULL rows get a zero value.
 * Leaks: n, row_size, the column's offset, width and null bit.
 * Hides: values and NULLs. */
static void op_col(const struct ts_insn *in, const uint8_t *rows, size_t n,
		size_t row_size, struct ts_slot *r)
{
	uint32_t off = ts_ld32(in->payload), nb = ts_ld32(in->payload + 4);
	uint32_t w = ts_expr_stored_width(&in->t);
	size_t i;

	for (i = 0; i < n; i++) {
		const uint8_t *row = rows + i * row_size;
		const uint8_t *p = row + off;
		uint32_t isnull = 0;

		TS_TRACE_INPUT_ROW(i);
		if (nb != TS_EXPR_NOT_NULLABLE)
			isnull = (uint32_t)(row[nb / 8] >> (nb % 8)) & 1u;
		r->nulls[i] = (uint8_t)isnull;
		switch (in->t.kind) {
		case TS_T_BOOL:
			r->vals[i] = (uint8_t)(ct_not(ct_u32_eq(p[0], 0)) &
					ct_not(isnull));
			break;
		case TS_T_INT32:
		case TS_T_DATE: {
			int32_t v;
			int64_t x;

			memcpy(&v, p, 4);
			x = (int64_t)ct_u64_mux(isnull, 0, (uint64_t)(int64_t)v);
			memcpy(r->vals + 8 * i, &x, 8);
			break;
		}
		case TS_T_DECIMAL: {
			int64_t v;
			cta_i128 x;

			memcpy(&v, p, 8);
			v = (int64_t)ct_u64_mux(isnull, 0, (uint64_t)v);
			x = v;
			memcpy(r->vals + 16 * i, &x, 16);
			break;
		}
		case TS_T_STRING: {
			uint8_t *d = r->vals + (size_t)w * i;
			uint32_t k;
			uint8_t keep = (uint8_t)(0u - ct_not(isnull));

			for (k = 0; k < w; k++)
				d[k] = p[k] & keep;
			break;
		}
		default: {   /* int64, float64, timestamp */
			uint64_t v;

			memcpy(&v, p, 8);
			v = ct_u64_mux(isnull, 0, v);
			memcpy(r->vals + 8 * i, &v, 8);
			break;
		}
		}
		TS_TRACE_WRITE_ROW(i);
	}
}

/* Broadcast a literal to every row. Leaks: n, the literal (public). */
static void op_lit(const struct ts_insn *in, size_t n, struct ts_slot *r)
{
	uint32_t es = ts_elem_size(&in->t);
	uint8_t is_null = in->payload[0];
	size_t i;

	for (i = 0; i < n; i++) {
		r->nulls[i] = is_null;
		memcpy(r->vals + (size_t)es * i, in->payload + 4, es);
		TS_TRACE_WRITE_ROW(i);
	}
}

/* NULL rows get zero value bytes (the result contract of expr.h).
 * Leaks: n, element size.  Hides: values, NULLs. */
static void canonicalize(struct ts_slot *s, size_t n)
{
	uint32_t es = ts_elem_size(&s->t), k;
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t keep = (uint8_t)(0u - ct_not(s->nulls[i] & 1u));
		uint8_t *v = s->vals + (size_t)es * i;

		for (k = 0; k < es; k++)
			v[k] &= keep;
	}
}

/* Unary float64 normalisation. Leaks: n.  Hides: values, NULLs. */
static void op_normalize(const struct ts_slot *a, struct ts_slot *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t v;

		memcpy(&v, a->vals + 8 * i, 8);
		v = cta_f64_normalize(v);
		memcpy(r->vals + 8 * i, &v, 8);
		r->nulls[i] = a->nulls[i];
	}
}

/* UNSCALED (decimal -> int64) and MAKE_DECIMAL (int64 -> decimal, NULL
 * when |v| >= 10^p). Leaks: n, types.  Hides: values, NULLs. */
static void op_unscaled(uint16_t op, const struct ts_slot *a, struct ts_slot *r,
		size_t n)
{
	uint64_t lim = 1;
	unsigned k;
	size_t i;

	for (k = 0; k < r->t.precision && k < 19; k++)
		lim *= 10;
	for (i = 0; i < n; i++) {
		if (op == TS_OP_UNSCALED) {
			cta_i128 x;
			int64_t v;

			memcpy(&x, a->vals + 16 * i, 16);
			v = (int64_t)x;
			memcpy(r->vals + 8 * i, &v, 8);
			r->nulls[i] = a->nulls[i];
		} else {
			int64_t v;
			cta_i128 x;
			uint32_t ovf;

			memcpy(&v, a->vals + 8 * i, 8);
			ovf = r->t.precision >= 19 ? 0 :
				ct_not(ct_u64_lt(cta_i64_abs(v), lim));
			x = v;
			memcpy(r->vals + 16 * i, &x, 16);
			r->nulls[i] = (uint8_t)(a->nulls[i] | ovf);
		}
	}
}

/* IS_NULL / IS_NOT_NULL: the NULL flags become the values.
 * Leaks: n, op.  Hides: NULLs. */
static void op_null_test(uint16_t op, const struct ts_slot *a, struct ts_slot *r,
		size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t isnull = a->nulls[i] & 1u;

		r->vals[i] = op == TS_OP_IS_NULL ? isnull : (uint8_t)(isnull ^ 1u);
		r->nulls[i] = 0;
	}
}

/* see expr.h */
int ts_expr_eval(const uint8_t *prog, const struct ts_expr_info *info,
		const uint8_t *rows, size_t nrows, size_t row_size,
		void *ws, size_t ws_len, struct ts_expr_col *out)
{
	struct ts_slot *slots;
	uint8_t *scratch, *bufs;
	size_t nslots, stride, head, pos, k;
	uint32_t depth = 0, idx;

	if (prog == NULL || info == NULL || ws == NULL || out == NULL ||
	    (rows == NULL && nrows != 0))
		return TS_EXPR_E_ARG;
	if (row_size != info->row_size)
		return TS_EXPR_E_ROW_SIZE;
	if (((uintptr_t)ws & 15) != 0 ||
	    ws_len < ts_expr_workspace_size(info, nrows) ||
	    ts_expr_workspace_size(info, nrows) == 0)
		return TS_EXPR_E_WORKSPACE;

	nslots = (size_t)info->max_depth + 1;
	stride = buffer_stride(info, nrows);
	head = align16(nslots * sizeof(struct ts_slot));
	slots = (struct ts_slot *)ws;
	scratch = (uint8_t *)ws + head;
	bufs = scratch + align16(info->scratch);
	for (k = 0; k < nslots; k++) {
		slots[k].nulls = bufs + k * stride;
		slots[k].vals = bufs + k * stride + align16(nrows);
		memset(&slots[k].t, 0, sizeof(slots[k].t));
	}

	pos = TS_EXPR_HEADER_SIZE;
	for (idx = 0; idx < info->n_insn; idx++) {
		struct ts_insn in;
		struct ts_slot *r = &slots[depth], tmp;
		uint32_t pops;
		int32_t param = 0;

		ts_insn_decode(prog + pos, &in);
		pos += in.len;
		r->t = in.t;
		switch (in.op) {
		case TS_OP_COL:
		case TS_OP_LIT:
			pops = 0;
			break;
		case TS_OP_CASE:
			pops = 2u * in.aux + ts_ld32(in.payload);
			break;
		case TS_OP_COALESCE:
			pops = in.aux;
			break;
		case TS_OP_ADD: case TS_OP_SUB: case TS_OP_MUL: case TS_OP_DIV:
		case TS_OP_IDIV: case TS_OP_MOD:
		case TS_OP_EQ: case TS_OP_EQ_NS: case TS_OP_LT: case TS_OP_LE:
		case TS_OP_GT: case TS_OP_GE: case TS_OP_AND: case TS_OP_OR:
		case TS_OP_DATE_ADD: case TS_OP_DATE_SUB: case TS_OP_DATEDIFF:
			pops = 2;
			break;
		default:
			pops = 1;
			break;
		}
		{
			const struct ts_slot *a = pops >= 1 ? &slots[depth - pops] : NULL;
			const struct ts_slot *b = pops >= 2 ? &slots[depth - pops + 1] : NULL;
			uint8_t ak = a ? a->t.kind : 0;

			switch (in.op) {
			case TS_OP_COL:
				op_col(&in, rows, nrows, row_size, r);
				break;
			case TS_OP_LIT:
				op_lit(&in, nrows, r);
				break;
			case TS_OP_ADD: case TS_OP_SUB: case TS_OP_MUL: case TS_OP_DIV:
			case TS_OP_IDIV: case TS_OP_MOD:
				if (ak == TS_T_DECIMAL)
					ts_op_arith_dec(in.op, a, b, r, nrows);
				else if (ak == TS_T_FLOAT64)
					ts_op_arith_f64(in.op, a, b, r, nrows);
				else
					ts_op_arith_int(in.op, a, b, r, nrows);
				break;
			case TS_OP_NEG: case TS_OP_ABS: case TS_OP_ROUND:
				if (in.op == TS_OP_ROUND)
					memcpy(&param, in.payload, 4);
				if (ak == TS_T_DECIMAL)
					ts_op_unary_dec(in.op, a, r, nrows, param);
				else if (ak == TS_T_FLOAT64 && in.op == TS_OP_ROUND)
					ts_f64_round_col(a, r, nrows, param);
				else
					ts_op_unary_num(in.op, a, r, nrows, param);
				break;
			case TS_OP_EQ: case TS_OP_EQ_NS: case TS_OP_LT: case TS_OP_LE:
			case TS_OP_GT: case TS_OP_GE:
				if (ak == TS_T_DECIMAL)
					ts_op_compare_dec(in.op, a, b, r, nrows);
				else if (ak == TS_T_STRING)
					ts_op_compare_str(in.op, a, b, r, nrows);
				else
					ts_op_compare(in.op, a, b, r, nrows);
				break;
			case TS_OP_AND: case TS_OP_OR: case TS_OP_NOT:
				ts_op_logic(in.op, a, b, r, nrows);
				break;
			case TS_OP_IS_NULL: case TS_OP_IS_NOT_NULL:
				op_null_test(in.op, a, r, nrows);
				break;
			case TS_OP_CASE:
				ts_op_case(a, in.aux, ts_ld32(in.payload), r, nrows);
				break;
			case TS_OP_COALESCE:
				ts_op_coalesce(a, pops, r, nrows);
				break;
			case TS_OP_IN:
				ts_op_in(a, &in, r, nrows);
				break;
			case TS_OP_CAST:
				ts_op_cast(a, r, nrows);
				break;
			case TS_OP_NORMALIZE:
				op_normalize(a, r, nrows);
				break;
			case TS_OP_UNSCALED:
			case TS_OP_MAKE_DECIMAL:
				op_unscaled(in.op, a, r, nrows);
				break;
			case TS_OP_SUBSTR: {
				int32_t p, l;

				memcpy(&p, in.payload, 4);
				memcpy(&l, in.payload + 4, 4);
				ts_op_substr(a, r, nrows, p, l, scratch);
				break;
			}
			case TS_OP_LIKE:
				ts_op_like(a, in.payload + 4, ts_ld32(in.payload), r,
						nrows, scratch);
				break;
			default:   /* YEAR MONTH DAY DATE_ADD DATE_SUB DATEDIFF */
				ts_op_date(in.op, a, b, r, nrows);
				break;
			}
		}
		/* The result (at position depth) takes the first operand's
		 * position; that operand's buffer becomes the free one. */
		if (pops > 0) {
			tmp = slots[depth - pops];
			slots[depth - pops] = slots[depth];
			slots[depth] = tmp;
		}
		depth = depth - pops + 1;
	}

	canonicalize(&slots[0], nrows);
	out->type = slots[0].t;
	out->nrows = nrows;
	out->elem_size = ts_elem_size(&slots[0].t);
	out->nulls = slots[0].nulls;
	out->values = slots[0].vals;
	return TS_EXPR_OK;
}

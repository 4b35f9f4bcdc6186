/*
 * expr_validate.c - the IR validator: checks a whole program before any
 * evaluation (docs/EXPRESSIONS.md, "Validation").
 *
 * The program is public (it comes from the query plan), so this file may
 * branch on it freely; it never sees row data.
 */
#include "expr_internal.h"

uint32_t ts_elem_size(const struct ts_expr_type *t)
{
	switch (t->kind) {
	case TS_T_BOOL:
		return 1;
	case TS_T_DECIMAL:
		return 16;
	case TS_T_STRING:
		return t->width;
	default:
		return 8;
	}
}

uint32_t ts_expr_stored_width(const struct ts_expr_type *t)
{
	switch (t->kind) {
	case TS_T_BOOL:
		return 1;
	case TS_T_INT32:
	case TS_T_DATE:
		return 4;
	case TS_T_INT64:
	case TS_T_FLOAT64:
	case TS_T_TIMESTAMP:
		return 8;
	case TS_T_DECIMAL:
		return t->precision <= TS_EXPR_MAX_STORED_PRECISION ? 8 : 0;
	case TS_T_STRING:
		return t->width;
	default:
		return 0;
	}
}

void ts_insn_decode(const uint8_t *p, struct ts_insn *in)
{
	in->op = ts_ld16(p);
	in->aux = ts_ld16(p + 2);
	in->len = ts_ld32(p + 4);
	in->t.kind = p[8];
	in->t.precision = p[9];
	in->t.scale = p[10];
	in->t.reserved = p[11];
	in->t.width = ts_ld32(p + 12);
	in->payload = p + TS_EXPR_INSN_HEADER_SIZE;
	in->payload_len = in->len - TS_EXPR_INSN_HEADER_SIZE;
}

static int type_ok(const struct ts_expr_type *t)
{
	if (t->reserved != 0)
		return 0;
	switch (t->kind) {
	case TS_T_BOOL:
	case TS_T_INT32:
	case TS_T_INT64:
	case TS_T_FLOAT64:
	case TS_T_DATE:
	case TS_T_TIMESTAMP:
		return t->precision == 0 && t->scale == 0 && t->width == 0;
	case TS_T_DECIMAL:
		return t->precision >= 1 && t->precision <= TS_EXPR_MAX_PRECISION &&
			t->scale <= t->precision && t->width == 0;
	case TS_T_STRING:
		return t->precision == 0 && t->scale == 0 && t->width >= 1 &&
			t->width <= TS_EXPR_MAX_STRING;
	default:
		return 0;
	}
}

static int same_type(const struct ts_expr_type *a, const struct ts_expr_type *b)
{
	return a->kind == b->kind && a->precision == b->precision &&
		a->scale == b->scale && a->width == b->width;
}

/* A branch value (CASE, COALESCE) fits the result type: same type, except
 * that a string may be narrower (it is zero padded). */
static int fits_result(const struct ts_expr_type *v, const struct ts_expr_type *r)
{
	if (v->kind == TS_T_STRING && r->kind == TS_T_STRING)
		return v->width <= r->width;
	return same_type(v, r);
}

static int is_int(uint8_t k)
{
	return k == TS_T_INT32 || k == TS_T_INT64;
}

/* Kinds that compare as plain int64 on the stack. */
static int is_scalar_cmp(uint8_t k)
{
	return k == TS_T_BOOL || k == TS_T_INT32 || k == TS_T_INT64 ||
		k == TS_T_DATE || k == TS_T_TIMESTAMP || k == TS_T_FLOAT64;
}

/* |v| < 10^p for a 128-bit literal. */
static int dec_in_range(const uint8_t *v, unsigned p)
{
	cta_i128 x;
	cta_u128 m, lim = 1;
	unsigned i;

	memcpy(&x, v, 16);
	m = x < 0 ? (cta_u128)0 - (cta_u128)x : (cta_u128)x;
	for (i = 0; i < p; i++)
		lim *= 10;
	return m < lim;
}

/* A stack-encoded literal value is within its type's range. */
static int value_ok(const struct ts_expr_type *t, const uint8_t *v)
{
	int64_t x;

	switch (t->kind) {
	case TS_T_BOOL:
		return v[0] <= 1;
	case TS_T_INT32:
	case TS_T_DATE:
		memcpy(&x, v, 8);
		return x >= INT32_MIN && x <= INT32_MAX;
	case TS_T_DECIMAL:
		return dec_in_range(v, t->precision);
	default:
		return 1;
	}
}

static int all_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Output width of SUBSTR (docs/EXPRESSIONS.md): len characters take at most
 * 4 len bytes of UTF-8. */
static uint32_t substr_width(uint32_t in_width, int32_t len)
{
	if (len <= 0)
		return 1;
	if (len == TS_SUBSTR_TO_END || (uint64_t)len * 4 >= in_width)
		return in_width;
	return (uint32_t)len * 4;
}

int ts_cast_supported(const struct ts_expr_type *f, const struct ts_expr_type *t)
{
	uint8_t a = f->kind, b = t->kind;
	int num_a = is_int(a) || a == TS_T_FLOAT64 || a == TS_T_DECIMAL;
	int num_b = is_int(b) || b == TS_T_FLOAT64 || b == TS_T_DECIMAL;

	if (same_type(f, t))
		return 1;
	if (num_a && num_b)
		return 1;
	if ((num_a && b == TS_T_BOOL) || (a == TS_T_BOOL && num_b))
		return 1;
	if ((a == TS_T_DATE && b == TS_T_TIMESTAMP) ||
	    (a == TS_T_TIMESTAMP && b == TS_T_DATE))
		return 1;
	if (a == TS_T_STRING && b == TS_T_STRING)
		return t->width >= f->width;   /* widening only: no truncation */
	return 0;
}

/* Scratch bytes an instruction needs (public). */
static uint32_t insn_scratch(const struct ts_insn *in, const struct ts_expr_type *a)
{
	if (in->op == TS_OP_SUBSTR)
		return a->width;
	if (in->op == TS_OP_LIKE)
		return 4 * (ts_ld32(in->payload) + 1);
	return 0;
}

#define FAIL(code) do { *bad_insn = (int32_t)idx; return (code); } while (0)

int ts_expr_validate(const uint8_t *prog, size_t prog_len,
		struct ts_expr_info *info, int32_t *bad_insn)
{
	struct ts_expr_type stack[TS_EXPR_MAX_DEPTH];
	uint32_t depth = 0, max_depth = 0, max_elem = 16, scratch = 0;
	uint32_t row_size, n_insn, idx = 0, flags;
	size_t pos;
	int32_t dummy;

	if (bad_insn == NULL)
		bad_insn = &dummy;
	*bad_insn = -1;
	if (prog == NULL || info == NULL)
		return TS_EXPR_E_ARG;
	if (prog_len < TS_EXPR_HEADER_SIZE)
		return TS_EXPR_E_TRUNCATED;
	if (prog[0] != TS_EXPR_MAGIC0 || prog[1] != TS_EXPR_MAGIC1 ||
	    prog[2] != TS_EXPR_MAGIC2 || prog[3] != TS_EXPR_MAGIC3)
		return TS_EXPR_E_MAGIC;
	flags = ts_ld16(prog + 6);
	if (ts_ld16(prog + 4) != TS_EXPR_VERSION || flags != 0)
		return TS_EXPR_E_VERSION;
	row_size = ts_ld32(prog + 8);
	n_insn = ts_ld32(prog + 12);
	if (n_insn == 0 || n_insn > TS_EXPR_MAX_INSNS)
		return TS_EXPR_E_RESULT;

	pos = TS_EXPR_HEADER_SIZE;
	for (idx = 0; idx < n_insn; idx++) {
		struct ts_insn in;
		const struct ts_expr_type *r;
		struct ts_expr_type *a = NULL, *b = NULL;
		uint32_t pops = 0, want_len = (uint32_t)-1, i;
		int32_t d;

		if (prog_len - pos < TS_EXPR_INSN_HEADER_SIZE)
			FAIL(TS_EXPR_E_TRUNCATED);
		ts_insn_decode(prog + pos, &in);
		if (in.len < TS_EXPR_INSN_HEADER_SIZE)
			FAIL(TS_EXPR_E_LENGTH);
		if (in.len > prog_len - pos)
			FAIL(TS_EXPR_E_TRUNCATED);
		if (!type_ok(&in.t))
			FAIL(TS_EXPR_E_TYPE);
		r = &in.t;

		/* How many operands, and the fixed payload length. */
		switch (in.op) {
		case TS_OP_COL:
			pops = 0; want_len = 8; break;
		case TS_OP_LIT:
			pops = 0; want_len = 4 + ts_elem_size(r); break;
		case TS_OP_ADD: case TS_OP_SUB: case TS_OP_MUL: case TS_OP_DIV:
		case TS_OP_IDIV: case TS_OP_MOD:
		case TS_OP_EQ: case TS_OP_EQ_NS: case TS_OP_LT: case TS_OP_LE:
		case TS_OP_GT: case TS_OP_GE: case TS_OP_AND: case TS_OP_OR:
		case TS_OP_DATE_ADD: case TS_OP_DATE_SUB: case TS_OP_DATEDIFF:
			pops = 2; want_len = 0; break;
		case TS_OP_NEG: case TS_OP_ABS: case TS_OP_NOT: case TS_OP_IS_NULL:
		case TS_OP_IS_NOT_NULL: case TS_OP_CAST: case TS_OP_NORMALIZE:
		case TS_OP_UNSCALED: case TS_OP_MAKE_DECIMAL:
		case TS_OP_YEAR: case TS_OP_MONTH: case TS_OP_DAY:
			pops = 1; want_len = 0; break;
		case TS_OP_ROUND:
			pops = 1; want_len = 4; break;
		case TS_OP_SUBSTR:
			pops = 1; want_len = 8; break;
		case TS_OP_LIKE:
			pops = 1;
			if (in.payload_len < 4)
				FAIL(TS_EXPR_E_LENGTH);
			if (ts_ld32(in.payload) > TS_EXPR_MAX_LIST)
				FAIL(TS_EXPR_E_PARAM);
			want_len = 4 + 2 * ts_ld32(in.payload);
			break;
		case TS_OP_IN:
			pops = 1;
			if (in.payload_len < 8)
				FAIL(TS_EXPR_E_LENGTH);
			break;  /* length checked below, once the operand is known */
		case TS_OP_CASE:
			if (in.payload_len != 4)
				FAIL(TS_EXPR_E_LENGTH);
			if (in.aux < 1 || ts_ld32(in.payload) > 1)
				FAIL(TS_EXPR_E_PARAM);
			pops = 2u * in.aux + ts_ld32(in.payload);
			want_len = 4;
			break;
		case TS_OP_COALESCE:
			if (in.aux < 1)
				FAIL(TS_EXPR_E_PARAM);
			pops = in.aux; want_len = 0;
			break;
		default:
			FAIL(TS_EXPR_E_OPCODE);
		}
		if (in.op != TS_OP_CASE && in.op != TS_OP_COALESCE && in.aux != 0)
			FAIL(TS_EXPR_E_PARAM);
		if (want_len != (uint32_t)-1 && in.payload_len != want_len)
			FAIL(TS_EXPR_E_LENGTH);
		if (pops > depth)
			FAIL(TS_EXPR_E_UNDERFLOW);
		if (pops >= 1)
			a = &stack[depth - pops];
		if (pops >= 2)
			b = &stack[depth - pops + 1];

		switch (in.op) {
		case TS_OP_COL: {
			uint32_t off = ts_ld32(in.payload), nb = ts_ld32(in.payload + 4);
			uint32_t w = ts_expr_stored_width(r);

			if (w == 0)
				FAIL(TS_EXPR_E_TYPE);
			if (off > row_size || w > row_size - off)
				FAIL(TS_EXPR_E_OFFSET);
			if (nb != TS_EXPR_NOT_NULLABLE && nb / 8 >= row_size)
				FAIL(TS_EXPR_E_OFFSET);
			break;
		}
		case TS_OP_LIT: {
			uint8_t is_null = in.payload[0];

			if (is_null > 1 || in.payload[1] || in.payload[2] || in.payload[3])
				FAIL(TS_EXPR_E_LITERAL);
			if (is_null && !all_zero(in.payload + 4, ts_elem_size(r)))
				FAIL(TS_EXPR_E_LITERAL);
			if (!value_ok(r, in.payload + 4))
				FAIL(TS_EXPR_E_LITERAL);
			break;
		}
		case TS_OP_ADD: case TS_OP_SUB: case TS_OP_MUL:
			if (r->kind == TS_T_DECIMAL) {
				if (a->kind != TS_T_DECIMAL || b->kind != TS_T_DECIMAL)
					FAIL(TS_EXPR_E_OPERAND_TYPE);
			} else if (is_int(r->kind) || r->kind == TS_T_FLOAT64) {
				if (!same_type(a, r) || !same_type(b, r))
					FAIL(TS_EXPR_E_OPERAND_TYPE);
			} else {
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			}
			break;
		case TS_OP_DIV:
			if (r->kind == TS_T_DECIMAL) {
				if (a->kind != TS_T_DECIMAL || b->kind != TS_T_DECIMAL)
					FAIL(TS_EXPR_E_OPERAND_TYPE);
			} else if (r->kind == TS_T_FLOAT64) {
				if (!same_type(a, r) || !same_type(b, r))
					FAIL(TS_EXPR_E_OPERAND_TYPE);
			} else {
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			}
			break;
		case TS_OP_IDIV:
			if (r->kind != TS_T_INT64)
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			if (a->kind != b->kind ||
			    !(is_int(a->kind) || a->kind == TS_T_DECIMAL))
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			break;
		case TS_OP_MOD:
			if (r->kind == TS_T_DECIMAL) {
				if (a->kind != TS_T_DECIMAL || b->kind != TS_T_DECIMAL)
					FAIL(TS_EXPR_E_OPERAND_TYPE);
			} else if (is_int(r->kind)) {
				if (!same_type(a, r) || !same_type(b, r))
					FAIL(TS_EXPR_E_OPERAND_TYPE);
			} else if (r->kind == TS_T_FLOAT64) {
				FAIL(TS_EXPR_E_UNSUPPORTED);
			} else {
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			}
			break;
		case TS_OP_NEG: case TS_OP_ABS:
			if (!same_type(a, r) ||
			    !(is_int(r->kind) || r->kind == TS_T_FLOAT64 ||
			      r->kind == TS_T_DECIMAL))
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			break;
		case TS_OP_ROUND:
			memcpy(&d, in.payload, 4);
			if (is_int(r->kind)) {
				if (!same_type(a, r))
					FAIL(TS_EXPR_E_OPERAND_TYPE);
				if (d < -1000 || d > 1000)
					FAIL(TS_EXPR_E_PARAM);
			} else if (r->kind == TS_T_FLOAT64) {
				if (!same_type(a, r))
					FAIL(TS_EXPR_E_OPERAND_TYPE);
				if (d < 0)
					FAIL(TS_EXPR_E_UNSUPPORTED);
				if (d > 22)
					FAIL(TS_EXPR_E_PARAM);
			} else if (r->kind == TS_T_DECIMAL) {
				int32_t keep;

				if (a->kind != TS_T_DECIMAL)
					FAIL(TS_EXPR_E_OPERAND_TYPE);
				if (d < -38 || d > 38)
					FAIL(TS_EXPR_E_PARAM);
				keep = d < 0 ? 0 : (d < a->scale ? d : a->scale);
				if (r->scale < keep)
					FAIL(TS_EXPR_E_OPERAND_TYPE);
			} else {
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			}
			break;
		case TS_OP_EQ: case TS_OP_EQ_NS: case TS_OP_LT: case TS_OP_LE:
		case TS_OP_GT: case TS_OP_GE:
			if (r->kind != TS_T_BOOL || a->kind != b->kind)
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			if (!(is_scalar_cmp(a->kind) || a->kind == TS_T_DECIMAL ||
			      a->kind == TS_T_STRING))
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			break;
		case TS_OP_AND: case TS_OP_OR:
			if (r->kind != TS_T_BOOL || a->kind != TS_T_BOOL ||
			    b->kind != TS_T_BOOL)
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			break;
		case TS_OP_NOT:
			if (r->kind != TS_T_BOOL || a->kind != TS_T_BOOL)
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			break;
		case TS_OP_IS_NULL: case TS_OP_IS_NOT_NULL:
			if (r->kind != TS_T_BOOL)
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			break;
		case TS_OP_CASE: {
			uint32_t nb = in.aux, has_else = ts_ld32(in.payload);

			for (i = 0; i < nb; i++) {
				if (a[2 * i].kind != TS_T_BOOL)
					FAIL(TS_EXPR_E_OPERAND_TYPE);
				if (!fits_result(&a[2 * i + 1], r))
					FAIL(TS_EXPR_E_OPERAND_TYPE);
			}
			if (has_else && !fits_result(&a[2 * nb], r))
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			break;
		}
		case TS_OP_COALESCE:
			for (i = 0; i < in.aux; i++)
				if (!fits_result(&a[i], r))
					FAIL(TS_EXPR_E_OPERAND_TYPE);
			break;
		case TS_OP_IN: {
			uint32_t nv = ts_ld32(in.payload), has_null = ts_ld32(in.payload + 4);
			uint32_t es = ts_elem_size(a);

			if (r->kind != TS_T_BOOL)
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			if (nv < 1 || nv > TS_EXPR_MAX_LIST || has_null > 1)
				FAIL(TS_EXPR_E_PARAM);
			if (in.payload_len != 8 + (uint64_t)nv * es)
				FAIL(TS_EXPR_E_LENGTH);
			for (i = 0; i < nv; i++)
				if (!value_ok(a, in.payload + 8 + (size_t)i * es))
					FAIL(TS_EXPR_E_LITERAL);
			break;
		}
		case TS_OP_CAST:
			if (!ts_cast_supported(a, r))
				FAIL(TS_EXPR_E_UNSUPPORTED);
			break;
		case TS_OP_NORMALIZE:
			if (r->kind != TS_T_FLOAT64 || a->kind != TS_T_FLOAT64)
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			break;
		case TS_OP_UNSCALED:
			if (r->kind != TS_T_INT64 || a->kind != TS_T_DECIMAL ||
			    a->precision > TS_EXPR_MAX_STORED_PRECISION)
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			break;
		case TS_OP_MAKE_DECIMAL:
			if (r->kind != TS_T_DECIMAL || a->kind != TS_T_INT64)
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			break;
		case TS_OP_SUBSTR: {
			int32_t len;

			memcpy(&len, in.payload + 4, 4);
			if (r->kind != TS_T_STRING || a->kind != TS_T_STRING)
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			if (r->width != substr_width(a->width, len))
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			break;
		}
		case TS_OP_LIKE: {
			uint32_t nt = ts_ld32(in.payload);

			if (r->kind != TS_T_BOOL || a->kind != TS_T_STRING)
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			for (i = 0; i < nt; i++) {
				uint16_t tok = ts_ld16(in.payload + 4 + 2 * i);

				if (tok > 0xFF && tok != TS_LIKE_ANY_CHAR &&
				    tok != TS_LIKE_ANY_STRING)
					FAIL(TS_EXPR_E_PARAM);
			}
			break;
		}
		case TS_OP_YEAR: case TS_OP_MONTH: case TS_OP_DAY:
			if (r->kind != TS_T_INT32 || a->kind != TS_T_DATE)
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			break;
		case TS_OP_DATE_ADD: case TS_OP_DATE_SUB:
			if (r->kind != TS_T_DATE || a->kind != TS_T_DATE ||
			    b->kind != TS_T_INT32)
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			break;
		case TS_OP_DATEDIFF:
			if (r->kind != TS_T_INT32 || a->kind != TS_T_DATE ||
			    b->kind != TS_T_DATE)
				FAIL(TS_EXPR_E_OPERAND_TYPE);
			break;
		default:
			FAIL(TS_EXPR_E_OPCODE);
		}

		{
			uint32_t s = insn_scratch(&in, a);

			if (s > scratch)
				scratch = s;
		}
		depth -= pops;
		if (depth >= TS_EXPR_MAX_DEPTH)
			FAIL(TS_EXPR_E_DEPTH);
		stack[depth++] = *r;
		if (depth > max_depth)
			max_depth = depth;
		if (ts_elem_size(r) > max_elem)
			max_elem = ts_elem_size(r);
		pos += in.len;
	}
	if (depth != 1) {
		*bad_insn = (int32_t)(n_insn - 1);
		return TS_EXPR_E_RESULT;
	}
	if (pos != prog_len) {
		*bad_insn = -1;
		return TS_EXPR_E_TRAILING;
	}
	info->row_size = row_size;
	info->n_insn = n_insn;
	info->max_depth = max_depth;
	info->max_elem = max_elem;
	info->scratch = scratch;
	info->result = stack[0];
	info->prog_len = prog_len;
	return TS_EXPR_OK;
}

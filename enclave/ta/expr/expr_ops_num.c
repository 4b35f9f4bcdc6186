/*
 * expr_ops_num.c - integer, float64 and boolean column operations,
 * comparisons, three-valued logic, CASE, COALESCE, IN and date functions.
 *
 * Every function here loops over rows 0..n-1 and does the same instructions
 * for each row: NULLs and values only flow into ct_*_mux selections and
 * arithmetic, never into a branch or an address. Switches are on the
 * opcode or the type (public).
 */
#include "expr_internal.h"

/* --- element access (public index i, public element size) ---------------
 * Leaks: i.  Hides: the element. */

static inline int64_t ld_i64(const struct ts_slot *s, size_t i)
{
	int64_t v;

	memcpy(&v, s->vals + 8 * i, 8);
	return v;
}

static inline void st_i64(struct ts_slot *s, size_t i, int64_t v)
{
	memcpy(s->vals + 8 * i, &v, 8);
}

static inline uint64_t ld_u64(const struct ts_slot *s, size_t i)
{
	uint64_t v;

	memcpy(&v, s->vals + 8 * i, 8);
	return v;
}

static inline double ld_f64(const struct ts_slot *s, size_t i)
{
	double v;

	memcpy(&v, s->vals + 8 * i, 8);
	return v;
}

static inline void st_f64(struct ts_slot *s, size_t i, double v)
{
	memcpy(s->vals + 8 * i, &v, 8);
}

/* Wrap an int64 to int32 the way Java's (int) cast does (two's complement
 * truncation; gcc defines the conversion as modulo 2^32). */
static inline int64_t wrap32(uint64_t v)
{
	return (int64_t)(int32_t)(uint32_t)v;
}

/* --- arithmetic ------------------------------------------------------------ */

/* Integer + - * div % with Java semantics: wraparound, truncating division,
 * remainder with the dividend's sign, division by zero -> NULL.
 * Division is cta_i64_divmod (shift-subtract), never the div instruction.
 * Leaks: n, the opcode, the types.  Hides: values, NULLs, which divisors
 * are zero. */
void ts_op_arith_int(uint16_t op, const struct ts_slot *a,
		const struct ts_slot *b, struct ts_slot *r, size_t n)
{
	int is32 = r->t.kind == TS_T_INT32;
	size_t i;

	for (i = 0; i < n; i++) {
		int64_t x = ld_i64(a, i), y = ld_i64(b, i), q, rm;
		uint64_t v = 0;
		uint32_t null = (uint32_t)(a->nulls[i] | b->nulls[i]);

		TS_TRACE_READ_ROW(i);
		switch (op) {
		case TS_OP_ADD:
			v = (uint64_t)x + (uint64_t)y;
			break;
		case TS_OP_SUB:
			v = (uint64_t)x - (uint64_t)y;
			break;
		case TS_OP_MUL:
			v = (uint64_t)x * (uint64_t)y;
			break;
		default:   /* IDIV, MOD */
			cta_i64_divmod(x, y, &q, &rm);
			v = (uint64_t)(op == TS_OP_MOD ? rm : q);
			null |= ct_u64_eq((uint64_t)y, 0);
			break;
		}
		if (is32)
			v = (uint64_t)wrap32(v);
		st_i64(r, i, (int64_t)v);
		r->nulls[i] = (uint8_t)null;
		TS_TRACE_WRITE_ROW(i);
	}
}

/* float64 + - * /: IEEE-754 (round to nearest even), as Java. x / 0.0 and
 * x / -0.0 are NULL (Spark's Divide). The quotient is computed for every
 * row and then masked.
 * Leaks: n, the opcode; on some CPUs the latency of subnormal operands
 * (instruction timing, not visible to branch or address traces).
 * Hides: values, NULLs. */
void ts_op_arith_f64(uint16_t op, const struct ts_slot *a,
		const struct ts_slot *b, struct ts_slot *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		double x = ld_f64(a, i), y = ld_f64(b, i), v;
		uint32_t null = (uint32_t)(a->nulls[i] | b->nulls[i]);

		TS_TRACE_READ_ROW(i);
		switch (op) {
		case TS_OP_ADD:
			v = x + y;
			break;
		case TS_OP_SUB:
			v = x - y;
			break;
		case TS_OP_MUL:
			v = x * y;
			break;
		default:   /* DIV (the validator rejects float MOD) */
			v = x / y;
			null |= ct_u64_eq(cta_f64_bits(y) & ~CTA_F64_SIGN, 0);
			break;
		}
		st_f64(r, i, v);
		r->nulls[i] = (uint8_t)null;
		TS_TRACE_WRITE_ROW(i);
	}
}

/* round(|x| to a multiple of 10^k) HALF_UP, for 0 <= |x| < 2^64, returned
 * modulo 2^64 (Java's BigDecimal.longValue wraps).
 * Leaks: k.  Hides: x. */
static uint64_t round_int_pow10(uint64_t ax, unsigned k)
{
	uint64_t p[2], half[2], num[2], q[2], rem[2], prod[4];

	if (k > 38)
		return 0;   /* 10^k > 2^127: every |x| < 2^64 rounds to 0 */
	cta_pow10(p, 2, k);
	cta_pow10(half, 2, k - 1);
	(void)cta_mul_small(half, half, 5, 2);
	num[0] = ax;
	num[1] = 0;
	(void)cta_add(num, num, half, 2);
	cta_divmod(q, rem, num, 2, p, 2, 128);
	cta_mul(prod, q, 2, p, 2);
	return prod[0];
}

/* NEG, ABS, ROUND on int32 / int64 / float64 (decimals: expr_ops_dec.c;
 * float ROUND: ts_f64_round_col). Java wraparound: -INT_MIN = INT_MIN,
 * abs(INT_MIN) = INT_MIN. ROUND(x, d) with d >= 0 is x; with d < 0 it is
 * HALF_UP to a multiple of 10^-d, wrapped to the type.
 * Leaks: n, opcode, type, d.  Hides: values, NULLs. */
void ts_op_unary_num(uint16_t op, const struct ts_slot *a, struct ts_slot *r,
		size_t n, int32_t param)
{
	int is32 = r->t.kind == TS_T_INT32;
	int isf = r->t.kind == TS_T_FLOAT64;
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t x = ld_u64(a, i), v;

		TS_TRACE_READ_ROW(i);
		if (isf) {
			v = op == TS_OP_NEG ? x ^ CTA_F64_SIGN : x & ~CTA_F64_SIGN;
		} else if (op == TS_OP_NEG) {
			v = (uint64_t)0 - x;
		} else if (op == TS_OP_ABS) {
			v = cta_i64_abs((int64_t)x);
		} else if (param >= 0) {   /* ROUND to d >= 0 decimals */
			v = x;
		} else {
			uint32_t neg = cta_i64_neg((int64_t)x);
			uint64_t m = round_int_pow10(cta_i64_abs((int64_t)x),
					(unsigned)(-(int64_t)param));

			v = ct_u64_mux(neg, (uint64_t)0 - m, m);
		}
		if (is32)
			v = (uint64_t)wrap32(v);
		memcpy(r->vals + 8 * i, &v, 8);
		r->nulls[i] = a->nulls[i];
		TS_TRACE_WRITE_ROW(i);
	}
}

/* --- comparisons ----------------------------------------------------------- */

/* The unsigned order key of a scalar element: signed integers with the sign
 * bit flipped; float64 through cta_f64_key (Spark: NaN = NaN, NaN largest,
 * -0.0 = 0.0); bool as 0/1. */
static inline uint64_t scalar_key(const struct ts_slot *s, size_t i)
{
	switch (s->t.kind) {
	case TS_T_BOOL:
		return s->vals[i] & 1u;
	case TS_T_FLOAT64:
		return cta_f64_key(ld_u64(s, i));
	default:
		return ld_u64(s, i) ^ CTA_F64_SIGN;
	}
}

/* see expr_internal.h */
void ts_cmp_finish(uint16_t op, uint32_t lt, uint32_t eq, uint32_t na,
		uint32_t nb, struct ts_slot *r, size_t i)
{
	uint32_t v, null = na | nb;

	switch (op) {
	case TS_OP_EQ:
		v = eq;
		break;
	case TS_OP_EQ_NS:
		v = (na & nb) | (ct_not(na) & ct_not(nb) & eq);
		null = 0;
		break;
	case TS_OP_LT:
		v = lt;
		break;
	case TS_OP_LE:
		v = lt | eq;
		break;
	case TS_OP_GT:
		v = ct_not(lt) & ct_not(eq);
		break;
	default:   /* GE */
		v = ct_not(lt);
		break;
	}
	r->vals[i] = (uint8_t)(v & ct_not(null));
	r->nulls[i] = (uint8_t)null;
}

/* = <=> < <= > >= on bool, int32, int64, date, timestamp, float64.
 * Leaks: n, op, type.  Hides: values, NULLs, outcomes. */
void ts_op_compare(uint16_t op, const struct ts_slot *a,
		const struct ts_slot *b, struct ts_slot *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t ka = scalar_key(a, i), kb = scalar_key(b, i);

		TS_TRACE_READ_ROW(i);
		ts_cmp_finish(op, ct_u64_lt(ka, kb), ct_u64_eq(ka, kb),
				a->nulls[i] & 1u, b->nulls[i] & 1u, r, i);
		TS_TRACE_WRITE_ROW(i);
	}
}

/* --- logic ----------------------------------------------------------------- */

/* AND / OR / NOT with SQL three-valued logic. Both operands are always
 * read for every row (no short circuit):
 *   AND: FALSE if either is FALSE, else NULL if either is NULL, else TRUE
 *   OR:  TRUE if either is TRUE, else NULL if either is NULL, else FALSE
 * Leaks: n, op.  Hides: values, NULLs. */
void ts_op_logic(uint16_t op, const struct ts_slot *a, const struct ts_slot *b,
		struct ts_slot *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t na = a->nulls[i] & 1u, va = a->vals[i] & 1u;
		uint32_t v, null;

		TS_TRACE_READ_ROW(i);
		if (op == TS_OP_NOT) {
			v = ct_not(va) & ct_not(na);
			null = na;
		} else {
			uint32_t nb = b->nulls[i] & 1u, vb = b->vals[i] & 1u;

			if (op == TS_OP_AND) {
				uint32_t a_false = ct_not(na) & ct_not(va);
				uint32_t b_false = ct_not(nb) & ct_not(vb);

				v = va & vb & ct_not(na) & ct_not(nb);
				null = (na | nb) & ct_not(a_false) & ct_not(b_false);
			} else {
				uint32_t a_true = ct_not(na) & va;
				uint32_t b_true = ct_not(nb) & vb;

				v = a_true | b_true;
				null = (na | nb) & ct_not(v);
			}
		}
		r->vals[i] = (uint8_t)v;
		r->nulls[i] = (uint8_t)null;
		TS_TRACE_WRITE_ROW(i);
	}
}

/* --- CASE, COALESCE, IN ---------------------------------------------------- */

/* r[i] = ctl ? s[i] : r[i] for one element (value and NULL flag); s may be
 * a narrower string than r (zero padded).
 * Leaks: element sizes.  Hides: ctl, both elements. */
static inline void select_elem(uint32_t ctl, struct ts_slot *r,
		const struct ts_slot *s, size_t i)
{
	uint32_t rw = ts_elem_size(&r->t), sw = ts_elem_size(&s->t), k;
	uint8_t *d = r->vals + (size_t)rw * i;
	const uint8_t *p = s->vals + (size_t)sw * i;

	ct_copy(ctl, d, p, sw);
	for (k = sw; k < rw; k++)
		d[k] = (uint8_t)ct_u32_mux(ctl, 0, d[k]);
	r->nulls[i] = (uint8_t)ct_u32_mux(ctl, s->nulls[i], r->nulls[i]);
}

/* Copy element i of s into r (public choice), zero padding a string. */
static inline void set_elem(struct ts_slot *r, const struct ts_slot *s, size_t i)
{
	uint32_t rw = ts_elem_size(&r->t), sw = ts_elem_size(&s->t);
	uint8_t *d = r->vals + (size_t)rw * i;

	memcpy(d, s->vals + (size_t)sw * i, sw);
	memset(d + sw, 0, rw - sw);
	r->nulls[i] = s->nulls[i];
}

/* CASE WHEN c1 THEN v1 ... [ELSE e] END over args = c1 v1 c2 v2 ... [e].
 * Every branch value is evaluated (it is already on the stack) and read for
 * every row; the first branch whose condition is TRUE (not FALSE, not NULL)
 * wins: the branches are folded from last to first with selects.
 * Leaks: n, the number of branches, has_else, the types.
 * Hides: conditions, which branch each row takes, values, NULLs. */
void ts_op_case(const struct ts_slot *args, uint32_t n_branches,
		uint32_t has_else, struct ts_slot *r, size_t n)
{
	size_t i;
	uint32_t j;

	for (i = 0; i < n; i++) {
		TS_TRACE_READ_ROW(i);
		if (has_else) {
			set_elem(r, &args[2 * n_branches], i);
		} else {
			memset(r->vals + (size_t)ts_elem_size(&r->t) * i, 0,
					ts_elem_size(&r->t));
			r->nulls[i] = 1;
		}
		for (j = n_branches; j-- > 0;) {
			const struct ts_slot *c = &args[2 * j];
			uint32_t take = (c->vals[i] & 1u) & ct_not(c->nulls[i] & 1u);

			select_elem(take, r, &args[2 * j + 1], i);
		}
		TS_TRACE_WRITE_ROW(i);
	}
}

/* COALESCE(a1, ..., an): the first non-NULL argument, NULL if all are.
 * Every argument is read for every row.
 * Leaks: n, the number of arguments, the types.
 * Hides: which argument is chosen, values, NULLs. */
void ts_op_coalesce(const struct ts_slot *args, uint32_t n_args,
		struct ts_slot *r, size_t n)
{
	size_t i;
	uint32_t j;

	for (i = 0; i < n; i++) {
		TS_TRACE_READ_ROW(i);
		set_elem(r, &args[n_args - 1], i);
		for (j = n_args - 1; j-- > 0;)
			select_elem(ct_not(args[j].nulls[i] & 1u), r, &args[j], i);
		TS_TRACE_WRITE_ROW(i);
	}
}

/* Equality of one stack element with a literal of the same type (bytes;
 * float64 by order key so NaN matches NaN and -0.0 matches 0.0).
 * Leaks: the type.  Hides: the element. */
static inline uint32_t elem_eq_lit(const struct ts_slot *a, size_t i,
		const uint8_t *lit)
{
	uint32_t es = ts_elem_size(&a->t), k;
	const uint8_t *p = a->vals + (size_t)es * i;
	uint64_t diff = 0;

	if (a->t.kind == TS_T_FLOAT64) {
		uint64_t x, y;

		memcpy(&x, p, 8);
		memcpy(&y, lit, 8);
		return ct_u64_eq(cta_f64_key(x), cta_f64_key(y));
	}
	if (a->t.kind == TS_T_BOOL)
		return ct_u32_eq(p[0] & 1u, lit[0] & 1u);
	for (k = 0; k + 8 <= es; k += 8) {
		uint64_t x, y;

		memcpy(&x, p + k, 8);
		memcpy(&y, lit + k, 8);
		diff |= x ^ y;
	}
	for (; k < es; k++)
		diff |= (uint64_t)(p[k] ^ lit[k]);
	return ct_u64_eq(diff, 0);
}

/* a IN (v1, ..., vn [, NULL]): TRUE if a equals some vi; else NULL if a is
 * NULL or the list holds a NULL; else FALSE. Compares a with every list
 * entry for every row.
 * Leaks: n, the list (public, from the plan).  Hides: values, NULLs,
 * which entry matched. */
void ts_op_in(const struct ts_slot *a, const struct ts_insn *in,
		struct ts_slot *r, size_t n)
{
	uint32_t nv = ts_ld32(in->payload), has_null = ts_ld32(in->payload + 4);
	uint32_t es = ts_elem_size(&a->t), j;
	const uint8_t *list = in->payload + 8;
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t na = a->nulls[i] & 1u, m = 0;

		TS_TRACE_READ_ROW(i);
		for (j = 0; j < nv; j++)
			m |= elem_eq_lit(a, i, list + (size_t)j * es);
		m &= ct_not(na);
		r->vals[i] = (uint8_t)m;
		r->nulls[i] = (uint8_t)((na | has_null) & ct_not(m));
		TS_TRACE_WRITE_ROW(i);
	}
}

/* --- dates ----------------------------------------------------------------- */

/* Proleptic Gregorian (year, month, day) of a day number (days since
 * 1970-01-01), branch-free: H. Hinnant's civil_from_days with every
 * division by a public constant (compiled to multiplications), the era
 * made non-negative by a fixed offset so no signed floor division is
 * needed, and the two conditionals turned into selects.
 * Leaks: nothing.  Hides: the date. */
static void civil_from_days(int64_t days, int64_t *y, int64_t *m, int64_t *d)
{
	const uint64_t era_off = 15000;   /* 15000 eras > 2^31 days */
	uint64_t z = (uint64_t)(days + 719468) + era_off * 146097u;
	uint64_t era = z / 146097u;
	uint64_t doe = z - era * 146097u;
	uint64_t yoe = (doe - doe / 1460u + doe / 36524u - doe / 146096u) / 365u;
	uint64_t doy = doe - (365u * yoe + yoe / 4u - yoe / 100u);
	uint64_t mp = (5u * doy + 2u) / 153u;
	uint64_t dd = doy - (153u * mp + 2u) / 5u + 1u;
	uint64_t mm = ct_u64_mux(ct_u64_lt(mp, 10), mp + 3u, mp - 9u);
	int64_t yy = (int64_t)yoe + ((int64_t)era - (int64_t)era_off) * 400;

	yy += (int64_t)ct_u64_lt(mm, 3);
	*y = yy;
	*m = (int64_t)mm;
	*d = (int64_t)dd;
}

/* YEAR, MONTH, DAY of a date; DATE_ADD / DATE_SUB (date +- int32 days,
 * int32 wraparound as Spark's Int arithmetic); DATEDIFF (end - start).
 * Leaks: n, op.  Hides: dates, NULLs. */
void ts_op_date(uint16_t op, const struct ts_slot *a, const struct ts_slot *b,
		struct ts_slot *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int64_t x = ld_i64(a, i), y, m, d, v;
		uint32_t null = a->nulls[i] & 1u;

		TS_TRACE_READ_ROW(i);
		switch (op) {
		case TS_OP_YEAR:
		case TS_OP_MONTH:
		case TS_OP_DAY:
			civil_from_days(x, &y, &m, &d);
			v = op == TS_OP_YEAR ? y : (op == TS_OP_MONTH ? m : d);
			break;
		case TS_OP_DATE_ADD:
			null |= b->nulls[i] & 1u;
			v = wrap32((uint64_t)x + (uint64_t)ld_i64(b, i));
			break;
		case TS_OP_DATE_SUB:
			null |= b->nulls[i] & 1u;
			v = wrap32((uint64_t)x - (uint64_t)ld_i64(b, i));
			break;
		default:   /* DATEDIFF */
			null |= b->nulls[i] & 1u;
			v = wrap32((uint64_t)x - (uint64_t)ld_i64(b, i));
			break;
		}
		st_i64(r, i, v);
		r->nulls[i] = (uint8_t)null;
		TS_TRACE_WRITE_ROW(i);
	}
}

/*
 * expr_cast.c - CAST between the supported types, with Spark's non-ANSI
 * semantics (docs/EXPRESSIONS.md, "CAST"). The (from, to) pair is public
 * (it is in the program); which rows overflow or are NULL is not.
 */
#include "expr_internal.h"

/* float64 -> int64 / int32 as Java's (long) / (int) casts: truncate toward
 * zero, saturate at the type's bounds, NaN -> 0. The value is clamped into
 * range on its bit pattern first (an out-of-range C conversion is
 * undefined), so the conversion instruction always sees a safe value.
 * Leaks: the target type.  Hides: x. */
static int64_t f64_to_int(uint64_t bits, int is32)
{
	/* Order keys of the first double >= 2^63 (2^31) and of -2^63 (-2^31). */
	uint64_t hi_b = is32 ? 0x41E0000000000000ull : 0x43E0000000000000ull;
	uint64_t lo_b = is32 ? 0xC1E0000000000000ull : 0xC3E0000000000000ull;
	int64_t hi_v = is32 ? INT32_MAX : INT64_MAX;
	int64_t lo_v = is32 ? INT32_MIN : INT64_MIN;
	uint64_t k = cta_f64_key(bits);
	uint32_t nan = cta_f64_isnan(bits);
	uint32_t too_hi = ct_not(ct_u64_lt(k, cta_f64_key(hi_b))) & ct_not(nan);
	uint32_t too_lo = ct_not(ct_u64_gt(k, cta_f64_key(lo_b)));
	uint32_t out = too_hi | too_lo | nan;
	double safe = cta_f64_from(ct_u64_mux(out, 0, bits));
	int64_t t = (int64_t)safe;

	t = ct_i64_mux(too_hi, hi_v, t);
	t = ct_i64_mux(too_lo, lo_v, t);
	return ct_i64_mux(nan, 0, t);
}

/* floor(x / 86400000000): timestamp microseconds -> days. Division by a
 * public constant (compiled to a multiplication), then a select corrects
 * truncation toward zero into floor.
 * Leaks: nothing.  Hides: x. */
static int64_t micros_to_days(int64_t x)
{
	const int64_t day = 86400000000LL;
	int64_t q = x / day;
	int64_t r = x - q * day;

	return q - (int64_t)cta_i64_neg(r);
}

/* see expr_internal.h.
 * Leaks: n, the source and target types.  Hides: values, NULLs, which
 * rows overflow. */
void ts_op_cast(const struct ts_slot *a, struct ts_slot *r, size_t n)
{
	uint8_t f = a->t.kind, t = r->t.kind;
	size_t i;

	if (f == TS_T_DECIMAL && t == TS_T_DECIMAL) {
		ts_dec_rescale_col(a, r, n);
		return;
	}
	if (t == TS_T_DECIMAL) {
		if (f == TS_T_FLOAT64)
			ts_dec_from_f64_col(a, r, n);
		else
			ts_dec_from_int_col(a, r, n);
		return;
	}
	if (f == TS_T_DECIMAL) {
		if (t == TS_T_FLOAT64)
			ts_dec_to_f64_col(a, r, n);
		else
			ts_dec_to_int_col(a, r, n);
		return;
	}
	for (i = 0; i < n; i++) {
		uint32_t ew = ts_elem_size(&a->t), rw = ts_elem_size(&r->t);
		uint64_t x = 0, v = 0;

		TS_TRACE_READ_ROW(i);
		if (f == TS_T_STRING) {   /* widening only */
			memcpy(r->vals + (size_t)rw * i, a->vals + (size_t)ew * i, ew);
			memset(r->vals + (size_t)rw * i + ew, 0, rw - ew);
			r->nulls[i] = a->nulls[i] & 1u;
			continue;
		}
		if (f == TS_T_BOOL)
			x = a->vals[i] & 1u;
		else
			memcpy(&x, a->vals + 8 * i, 8);

		if (t == TS_T_BOOL) {
			v = f == TS_T_FLOAT64 ?
				ct_not(ct_u64_eq(x & ~CTA_F64_SIGN, 0)) :
				ct_not(ct_u64_eq(x, 0));
			r->vals[i] = (uint8_t)v;
			r->nulls[i] = a->nulls[i] & 1u;
			continue;
		}
		switch (t) {
		case TS_T_INT32:
			if (f == TS_T_FLOAT64)
				v = (uint64_t)f64_to_int(x, 1);
			else
				v = (uint64_t)(int64_t)(int32_t)(uint32_t)x;
			break;
		case TS_T_INT64:
			v = f == TS_T_FLOAT64 ? (uint64_t)f64_to_int(x, 0) : x;
			break;
		case TS_T_FLOAT64:
			v = f == TS_T_FLOAT64 ? x :
				cta_f64_bits((double)(int64_t)x);
			break;
		case TS_T_TIMESTAMP:   /* from date */
			v = (uint64_t)((int64_t)x * 86400000000LL);
			break;
		case TS_T_DATE:        /* from timestamp */
			v = (uint64_t)micros_to_days((int64_t)x);
			break;
		default:               /* same type */
			v = x;
			break;
		}
		memcpy(r->vals + 8 * i, &v, 8);
		r->nulls[i] = a->nulls[i] & 1u;
		TS_TRACE_WRITE_ROW(i);
	}
}

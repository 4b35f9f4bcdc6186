/*
 * agg_values.h - value helpers shared by op_aggregate.c and
 * op_aggregate_fast.c (internal header): loading an aggregate's input
 * column, and an order-preserving map between doubles (Spark's order) and
 * signed int64 so MIN/MAX of FLOAT64 reuse the int64 scans. All constant
 * time: no branch or index depends on a value.
 */
#ifndef TEESPARK_OPS_AGG_VALUES_H
#define TEESPARK_OPS_AGG_VALUES_H

#include <stdint.h>
#include <string.h>

#include "../ct.h"
#include "key_encode.h"
#include "op_aggregate.h"

#define AGG_SIGN64 ((uint64_t)1 << 63)

/* Little-endian load of width (public) bytes, sign-extended for INT.
 * Leaks: type, width.  Hides: the value. */
static inline uint64_t agg_load(const uint8_t *row, const struct obl_agg_spec *s)
{
	uint64_t v = 0;
	uint32_t b;

	for (b = 0; b < s->width; b++)
		v |= (uint64_t)row[s->offset + b] << (8 * b);
	if (s->type == OBL_KEY_INT && s->width < 8) {
		unsigned sh = 64 - 8 * s->width;

		v = (uint64_t)((int64_t)(v << sh) >> sh);
	}
	return v;
}

/* Spark's double order as signed int64: -0.0 -> +0.0, every NaN -> the
 * maximum, then the usual sign-magnitude flip.
 * Leaks: nothing.  Hides: the value. */
static inline int64_t agg_f64_to_ord(uint64_t bits)
{
	uint32_t neg_zero = ct_u64_eq(bits, AGG_SIGN64);
	uint32_t neg, nan;
	uint64_t w;

	bits = ct_u64_mux(neg_zero, 0, bits);
	neg = (uint32_t)(bits >> 63);
	nan = ct_u64_gt(bits & ~AGG_SIGN64, 0x7ff0000000000000ull);
	w = ct_u64_mux(neg, ~bits, bits ^ AGG_SIGN64);
	w = ct_u64_mux(nan, ~(uint64_t)0, w);
	return (int64_t)(w ^ AGG_SIGN64);
}

/* Inverse of agg_f64_to_ord (NaNs come back as one NaN pattern).
 * Leaks: nothing.  Hides: the value. */
static inline uint64_t agg_ord_to_f64(int64_t ord)
{
	uint64_t w = (uint64_t)ord ^ AGG_SIGN64;

	return ct_u64_mux((uint32_t)(w >> 63), w ^ AGG_SIGN64, ~w);
}

static inline double agg_as_double(uint64_t bits)
{
	double d;

	memcpy(&d, &bits, 8);
	return d;
}

static inline uint64_t agg_double_bits(double d)
{
	uint64_t b;

	memcpy(&b, &d, 8);
	return b;
}

/* Is fn a count (never NULL, 0 for an empty input)? Public. */
static inline int agg_is_count(uint16_t fn)
{
	return fn == OBL_AGG_COUNT_STAR || fn == OBL_AGG_COUNT ||
		fn == OBL_AGG_COUNT_DISTINCT;
}

#endif /* TEESPARK_OPS_AGG_VALUES_H */

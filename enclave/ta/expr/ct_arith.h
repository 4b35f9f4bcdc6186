/*
 * ct_arith.h - constant-time arithmetic for the expression evaluator, on top
 * of ../ct.h (whose encodings hold here: a ctl is a uint32_t 0 or 1; masks
 * are made only by ct.h's helpers, through its value barriers).
 *
 * Contents:
 *   - int64 division by a secret divisor (shift-subtract, 64 fixed steps):
 *     hardware div/idiv has data-dependent latency on x86, so it is never
 *     used on a secret.
 *   - multi-limb unsigned integers ("big": arrays of uint64_t, limb 0 least
 *     significant, limb counts public) with add, sub, mul, compare, select,
 *     shift by a public or a secret amount, and division (shift-subtract
 *     over a public number of dividend bits). Decimal arithmetic is built
 *     on these.
 *   - float64 helpers on the bit pattern: a total-order key that matches
 *     Spark's ordering (NaN = NaN, NaN largest, -0.0 = 0.0), so comparisons
 *     never use floating-point compares (which compilers lower to branches
 *     on the parity flag).
 *
 * Loop bounds, limb counts, shift amounts given as "public" and array
 * indices are public; every secret-dependent choice is a ct_*_mux.
 * Leaks (every function here): the limb counts and bit counts passed in.
 * Hides: all operand values.
 */
#ifndef TEESPARK_EXPR_CT_ARITH_H
#define TEESPARK_EXPR_CT_ARITH_H

#include <stddef.h>
#include <stdint.h>

#include "../ct.h"

typedef unsigned __int128 cta_u128;
typedef __int128 cta_i128;

/* Largest multi-limb number used anywhere (7 x 64 = 448 bits). */
#define CTA_MAX_LIMBS 7

/* ------------------------------------------------------------------------ */
/* Scalars                                                                  */
/* ------------------------------------------------------------------------ */

/* x < 0 as a ctl. Leaks: nothing.  Hides: x. */
CT_INLINE uint32_t cta_i64_neg(int64_t x)
{
	return ct_u32_barrier((uint32_t)((uint64_t)x >> 63));
}

/* x == 0 as a ctl. Leaks: nothing.  Hides: x. */
CT_INLINE uint32_t cta_u64_is0(uint64_t x)
{
	return ct_u64_eq(x, 0);
}

/* |x| as an unsigned value (|INT64_MIN| = 2^63). Leaks: nothing.  Hides: x. */
CT_INLINE uint64_t cta_i64_abs(int64_t x)
{
	uint32_t neg = cta_i64_neg(x);

	return ct_u64_mux(neg, (uint64_t)0 - (uint64_t)x, (uint64_t)x);
}

/* Signed x < y, x <= y etc. come from ct_i64_lt (ct.h). */

/* Number of leading zero bits of x (64 for x = 0), by a fixed binary
 * search: six muxed steps, no clz instruction (clz(0) is undefined in C).
 * Leaks: nothing.  Hides: x. */
CT_INLINE uint32_t cta_clz64(uint64_t x)
{
	uint32_t n = 0, c;

	c = ct_u64_eq(x >> 32, 0); n += c << 5; x = ct_u64_mux(c, x << 32, x);
	c = ct_u64_eq(x >> 48, 0); n += c << 4; x = ct_u64_mux(c, x << 16, x);
	c = ct_u64_eq(x >> 56, 0); n += c << 3; x = ct_u64_mux(c, x << 8, x);
	c = ct_u64_eq(x >> 60, 0); n += c << 2; x = ct_u64_mux(c, x << 4, x);
	c = ct_u64_eq(x >> 62, 0); n += c << 1; x = ct_u64_mux(c, x << 2, x);
	c = ct_u64_eq(x >> 63, 0); n += c;      x = ct_u64_mux(c, x << 1, x);
	n += ct_u64_eq(x >> 63, 0);
	return n;
}

/* Unsigned n / d and n % d by shift-subtract: 64 fixed steps, each a
 * compare and a select. d = 0 gives q = all ones, r = n (callers mask the
 * result with their own divide-by-zero NULL).
 * Leaks: nothing.  Hides: n, d, q, r. */
CT_INLINE void cta_u64_divmod(uint64_t n, uint64_t d, uint64_t *q, uint64_t *r)
{
	uint64_t rem = 0, quo = 0;
	int i;

	for (i = 63; i >= 0; i--) {
		/* rem < d <= 2^64 - 1 before the shift, so rem*2+1 needs 65
		 * bits: keep the bit shifted out in `top`. */
		uint64_t top = rem >> 63;
		uint64_t t;
		uint32_t ge;

		rem = (rem << 1) | ((n >> i) & 1);
		t = rem - d;
		ge = (uint32_t)top | ct_not(ct_u64_lt(rem, d));
		ge = ct_u32_barrier(ge & 1u);
		rem = ct_u64_mux(ge, t, rem);
		quo |= (uint64_t)ge << i;
	}
	*q = quo;
	*r = rem;
}

/* Signed division with truncation toward zero, Java semantics: the
 * remainder has the sign of the dividend, INT64_MIN / -1 = INT64_MIN
 * (wraps), d = 0 gives unspecified values (callers make them NULL).
 * Leaks: nothing.  Hides: n, d, q, r. */
CT_INLINE void cta_i64_divmod(int64_t n, int64_t d, int64_t *q, int64_t *r)
{
	uint32_t nn = cta_i64_neg(n), nd = cta_i64_neg(d);
	uint64_t uq, ur;

	cta_u64_divmod(cta_i64_abs(n), cta_i64_abs(d), &uq, &ur);
	*q = (int64_t)ct_u64_mux(nn ^ nd, (uint64_t)0 - uq, uq);
	*r = (int64_t)ct_u64_mux(nn, (uint64_t)0 - ur, ur);
}

/* ------------------------------------------------------------------------ */
/* Multi-limb unsigned integers                                             */
/* ------------------------------------------------------------------------ */

/* r = 0 (n limbs). */
CT_INLINE void cta_zero(uint64_t *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		r[i] = 0;
}

/* r = a (n limbs). */
CT_INLINE void cta_copy(uint64_t *r, const uint64_t *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		r[i] = a[i];
}

/* r = a + b mod 2^(64n); returns the carry out (0/1).
 * Leaks: n.  Hides: a, b. */
CT_INLINE uint64_t cta_add(uint64_t *r, const uint64_t *a, const uint64_t *b,
		size_t n)
{
	cta_u128 c = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		c += (cta_u128)a[i] + b[i];
		r[i] = (uint64_t)c;
		c >>= 64;
	}
	return (uint64_t)c;
}

/* r = a + w (w one limb) mod 2^(64n). Leaks: n.  Hides: a, w. */
CT_INLINE void cta_add_small(uint64_t *r, const uint64_t *a, uint64_t w,
		size_t n)
{
	cta_u128 c = w;
	size_t i;

	for (i = 0; i < n; i++) {
		c += a[i];
		r[i] = (uint64_t)c;
		c >>= 64;
	}
}

/* r = a - b mod 2^(64n); returns the borrow out (1 iff a < b).
 * Leaks: n.  Hides: a, b. */
CT_INLINE uint64_t cta_sub(uint64_t *r, const uint64_t *a, const uint64_t *b,
		size_t n)
{
	uint64_t borrow = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		cta_u128 t = (cta_u128)a[i] - b[i] - borrow;

		r[i] = (uint64_t)t;
		borrow = (uint64_t)(t >> 64) & 1;
	}
	return borrow;
}

/* a < b as a ctl (borrow of a - b, nothing stored). Leaks: n.  Hides: a, b. */
CT_INLINE uint32_t cta_lt(const uint64_t *a, const uint64_t *b, size_t n)
{
	uint64_t borrow = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		cta_u128 t = (cta_u128)a[i] - b[i] - borrow;

		borrow = (uint64_t)(t >> 64) & 1;
	}
	return ct_u32_barrier((uint32_t)borrow);
}

/* a == b as a ctl. Leaks: n.  Hides: a, b. */
CT_INLINE uint32_t cta_eq(const uint64_t *a, const uint64_t *b, size_t n)
{
	uint64_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return ct_u64_eq(d, 0);
}

/* a == 0 as a ctl. Leaks: n.  Hides: a. */
CT_INLINE uint32_t cta_is0(const uint64_t *a, size_t n)
{
	uint64_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= a[i];
	return ct_u64_eq(d, 0);
}

/* r = ctl ? a : b (n limbs; r may alias a or b). Leaks: n.  Hides: ctl, a, b. */
CT_INLINE void cta_mux(uint32_t ctl, uint64_t *r, const uint64_t *a,
		const uint64_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		r[i] = ct_u64_mux(ctl, a[i], b[i]);
}

/* r = -a mod 2^(64n) if ctl, else a (two's complement negation).
 * Leaks: n.  Hides: ctl, a. */
CT_INLINE void cta_cneg(uint32_t ctl, uint64_t *r, const uint64_t *a, size_t n)
{
	uint64_t m = ct_u64_mux(ctl, ~(uint64_t)0, 0);
	cta_u128 c = ctl;
	size_t i;

	for (i = 0; i < n; i++) {
		c += (uint64_t)(a[i] ^ m);
		r[i] = (uint64_t)c;
		c >>= 64;
	}
}

/* r[0..na+nb) = a * b, schoolbook. r must not alias a or b.
 * Leaks: na, nb.  Hides: a, b. */
CT_INLINE void cta_mul(uint64_t *r, const uint64_t *a, size_t na,
		const uint64_t *b, size_t nb)
{
	size_t i, j;

	cta_zero(r, na + nb);
	for (i = 0; i < na; i++) {
		cta_u128 c = 0;

		for (j = 0; j < nb; j++) {
			c += (cta_u128)a[i] * b[j] + r[i + j];
			r[i + j] = (uint64_t)c;
			c >>= 64;
		}
		r[i + nb] = (uint64_t)c;
	}
}

/* r = a * w (w one limb) mod 2^(64n); returns the limb carried out.
 * Leaks: n.  Hides: a, w. */
CT_INLINE uint64_t cta_mul_small(uint64_t *r, const uint64_t *a, uint64_t w,
		size_t n)
{
	cta_u128 c = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		c += (cta_u128)a[i] * w;
		r[i] = (uint64_t)c;
		c >>= 64;
	}
	return (uint64_t)c;
}

/* r = a << sh mod 2^(64n), sh PUBLIC (any value; >= 64n gives 0).
 * r may alias a. Leaks: n, sh.  Hides: a. */
CT_INLINE void cta_shl_pub(uint64_t *r, const uint64_t *a, size_t n,
		unsigned sh)
{
	size_t limbs = sh / 64, i;
	unsigned bits = sh % 64;

	for (i = n; i-- > 0;) {
		uint64_t hi = i >= limbs ? a[i - limbs] : 0;
		uint64_t lo = (i >= limbs + 1) ? a[i - limbs - 1] : 0;

		r[i] = bits ? (hi << bits) | (lo >> (64 - bits)) : hi;
	}
}

/* r = a >> sh, sh PUBLIC. r may alias a. Leaks: n, sh.  Hides: a. */
CT_INLINE void cta_shr_pub(uint64_t *r, const uint64_t *a, size_t n,
		unsigned sh)
{
	size_t limbs = sh / 64, i;
	unsigned bits = sh % 64;

	for (i = 0; i < n; i++) {
		uint64_t lo = i + limbs < n ? a[i + limbs] : 0;
		uint64_t hi = i + limbs + 1 < n ? a[i + limbs + 1] : 0;

		r[i] = bits ? (lo >> bits) | (hi << (64 - bits)) : lo;
	}
}

/* r = a << sh, sh SECRET in [0, 2^stages): a barrel shifter, one
 * public-distance shift per bit of sh, each selected by that bit.
 * Leaks: n, stages.  Hides: a, sh. */
CT_INLINE void cta_shl_var(uint64_t *r, const uint64_t *a, size_t n,
		uint32_t sh, unsigned stages)
{
	uint64_t t[CTA_MAX_LIMBS];
	unsigned b;

	cta_copy(r, a, n);
	for (b = 0; b < stages; b++) {
		cta_shl_pub(t, r, n, 1u << b);
		cta_mux((sh >> b) & 1u, r, t, r, n);
	}
}

/* r = a >> sh, sh SECRET in [0, 2^stages). Leaks: n, stages.  Hides: a, sh. */
CT_INLINE void cta_shr_var(uint64_t *r, const uint64_t *a, size_t n,
		uint32_t sh, unsigned stages)
{
	uint64_t t[CTA_MAX_LIMBS];
	unsigned b;

	cta_copy(r, a, n);
	for (b = 0; b < stages; b++) {
		cta_shr_pub(t, r, n, 1u << b);
		cta_mux((sh >> b) & 1u, r, t, r, n);
	}
}

/* Bit length of a (0 for a = 0): 64n - leading zeros, computed over every
 * limb. Leaks: n.  Hides: a. */
CT_INLINE uint32_t cta_bitlen(const uint64_t *a, size_t n)
{
	uint32_t len = 0, found = 0;
	size_t i;

	for (i = n; i-- > 0;) {
		uint32_t nz = ct_not(ct_u64_eq(a[i], 0));
		uint32_t take = nz & ct_not(found);
		uint32_t l = (uint32_t)(64 * i + 64) - cta_clz64(a[i]);

		len = ct_u32_mux(take, l, len);
		found |= nz;
	}
	return len;
}

/* q = floor(a / d), rem = a mod d by shift-subtract over the low nbits bits
 * of a (PUBLIC bound: the caller guarantees a < 2^nbits). a: na limbs,
 * q: na limbs, d and rem: nd limbs (nd < CTA_MAX_LIMBS). d = 0 gives q =
 * ones over nbits, rem = a mod 2^(64nd): callers mask a zero divisor.
 * q and rem must not alias a or d.
 * Leaks: na, nd, nbits.  Hides: a, d, q, rem. */
CT_INLINE void cta_divmod(uint64_t *q, uint64_t *rem, const uint64_t *a,
		size_t na, const uint64_t *d, size_t nd, unsigned nbits)
{
	uint64_t r[CTA_MAX_LIMBS + 1], t[CTA_MAX_LIMBS + 1], dd[CTA_MAX_LIMBS + 1];
	size_t n1 = nd + 1, i;
	unsigned bit;

	cta_zero(r, n1);
	cta_copy(dd, d, nd);
	dd[nd] = 0;
	cta_zero(q, na);
	if (nbits > 64 * na)
		nbits = (unsigned)(64 * na);
	for (bit = nbits; bit-- > 0;) {
		uint64_t in = (a[bit / 64] >> (bit % 64)) & 1;
		uint32_t ge;

		/* r = 2r + bit: r < d before, so it fits nd + 1 limbs. */
		for (i = n1; i-- > 1;)
			r[i] = (r[i] << 1) | (r[i - 1] >> 63);
		r[0] = (r[0] << 1) | in;
		ge = ct_not((uint32_t)cta_sub(t, r, dd, n1));
		cta_mux(ge, r, t, r, n1);
		q[bit / 64] |= (uint64_t)ge << (bit % 64);
	}
	cta_copy(rem, r, nd);
}

/* r = 10^k over n limbs (k PUBLIC; r mod 2^(64n) if it does not fit).
 * Leaks: n, k.  Hides: nothing secret. */
CT_INLINE void cta_pow10(uint64_t *r, size_t n, unsigned k)
{
	unsigned i;

	cta_zero(r, n);
	r[0] = 1;
	for (i = 0; i < k; i++)
		(void)cta_mul_small(r, r, 10, n);
}

/* An upper bound on the bits of any number below 10^digits (public):
 * log2(10) < 3.3220. */
CT_INLINE unsigned cta_bits_for_digits(unsigned digits)
{
	return (digits * 3322u + 999u) / 1000u + 1u;
}

/* Limbs that hold `bits` bits. */
CT_INLINE size_t cta_limbs(unsigned bits)
{
	return (bits + 63u) / 64u;
}

/* ------------------------------------------------------------------------ */
/* float64 on its bit pattern                                               */
/* ------------------------------------------------------------------------ */

#define CTA_F64_SIGN 0x8000000000000000ull
#define CTA_F64_EXP 0x7FF0000000000000ull
#define CTA_F64_CANON_NAN 0x7FF8000000000000ull

/* The bit pattern of x, and back (memcpy: no conversion).
 * Leaks: nothing.  Hides: x. */
CT_INLINE uint64_t cta_f64_bits(double x)
{
	uint64_t b;

	memcpy(&b, &x, 8);
	return b;
}

CT_INLINE double cta_f64_from(uint64_t b)
{
	double x;

	memcpy(&x, &b, 8);
	return x;
}

/* x is NaN as a ctl. Leaks: nothing.  Hides: x. */
CT_INLINE uint32_t cta_f64_isnan(uint64_t bits)
{
	return ct_u64_gt(bits & ~CTA_F64_SIGN, CTA_F64_EXP);
}

/* x is NaN or +-infinity as a ctl. Leaks: nothing.  Hides: x. */
CT_INLINE uint32_t cta_f64_nonfinite(uint64_t bits)
{
	return ct_u64_eq(bits & CTA_F64_EXP, CTA_F64_EXP);
}

/* Spark's normalisation (NormalizeFloatingNumbers): -0.0 -> 0.0, every NaN
 * -> the canonical NaN. Leaks: nothing.  Hides: x. */
CT_INLINE uint64_t cta_f64_normalize(uint64_t bits)
{
	uint32_t zero = ct_u64_eq(bits & ~CTA_F64_SIGN, 0);
	uint32_t nan = cta_f64_isnan(bits);

	bits = ct_u64_mux(zero, 0, bits);
	return ct_u64_mux(nan, CTA_F64_CANON_NAN, bits);
}

/* An unsigned key whose order is Spark's order of doubles: -inf < ... <
 * -0.0 = 0.0 < ... < +inf < NaN, all NaNs equal. Positive: set the sign
 * bit; negative: flip every bit.
 * Leaks: nothing.  Hides: x. */
CT_INLINE uint64_t cta_f64_key(uint64_t bits)
{
	uint64_t b = cta_f64_normalize(bits);
	uint32_t neg = (uint32_t)(b >> 63);

	return ct_u64_mux(neg, ~b, b | CTA_F64_SIGN);
}

#endif /* TEESPARK_EXPR_CT_ARITH_H */

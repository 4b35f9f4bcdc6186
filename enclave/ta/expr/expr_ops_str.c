/*
 * expr_ops_str.c - fixed-width string operations: comparison (binary UTF-8
 * order, as Spark's default UTF8_BINARY collation), SUBSTRING with Spark's
 * character positions, and LIKE by a dynamic program over every byte.
 *
 * A string value of width w is w bytes of UTF-8, zero padded; its length is
 * one past its last nonzero byte (so a string cannot end with U+0000, as in
 * docs/FORMAT.md). Every function reads all w bytes of every row, whatever
 * the actual length, and computes lengths and positions with selects.
 */
#include "expr_internal.h"

/* One past the last nonzero byte: the string's length in bytes.
 * Leaks: w.  Hides: the bytes. */
static uint32_t str_len(const uint8_t *s, uint32_t w)
{
	uint32_t len = 0, k;

	for (k = 0; k < w; k++)
		len = ct_u32_mux(ct_not(ct_u32_eq(s[k], 0)), k + 1, len);
	return len;
}

/* The byte starts a UTF-8 character (is not 10xxxxxx).
 * Leaks: nothing.  Hides: c. */
static inline uint32_t is_char_start(uint8_t c)
{
	return ct_not(ct_u32_eq(c & 0xC0u, 0x80u));
}

/* see expr_internal.h: = <=> < <= > >= on strings of any widths; the
 * shorter is compared as if zero padded, which is exactly Spark's binary
 * order because a string never ends in a zero byte.
 * Leaks: n, both widths, op.  Hides: the strings, NULLs, outcomes. */
void ts_op_compare_str(uint16_t op, const struct ts_slot *a,
		const struct ts_slot *b, struct ts_slot *r, size_t n)
{
	uint32_t wa = a->t.width, wb = b->t.width, w = wa > wb ? wa : wb;
	size_t i;

	for (i = 0; i < n; i++) {
		const uint8_t *pa = a->vals + (size_t)wa * i;
		const uint8_t *pb = b->vals + (size_t)wb * i;
		uint32_t lt = 0, diff = 0, k;

		TS_TRACE_READ_ROW(i);
		/* From the last byte to the first: lt = lt_k | (eq_k & lt). */
		for (k = w; k-- > 0;) {
			uint32_t ca = k < wa ? pa[k] : 0, cb = k < wb ? pb[k] : 0;

			lt = ct_u32_lt(ca, cb) | (ct_u32_eq(ca, cb) & lt);
			diff |= ca ^ cb;
		}
		ts_cmp_finish(op, lt, ct_u32_eq(diff, 0), a->nulls[i] & 1u,
				b->nulls[i] & 1u, r, i);
		TS_TRACE_WRITE_ROW(i);
	}
}

/* see expr_internal.h: substring(s, pos, len) in characters with Spark's
 * UTF8String.substringSQL rules: pos > 0 counts from 1, pos = 0 is like 1,
 * pos < 0 counts from the end; the end is start + len computed before a
 * negative start is raised to 0; an empty range gives ''.
 * Per row: mark the bytes whose character index is in [start, end), mask
 * the others, then shift the kept bytes to the front with a barrel shifter
 * (log2 w passes of selects), so no address depends on the string.
 * Leaks: n, widths, pos, len.  Hides: the strings, their lengths, NULLs. */
void ts_op_substr(const struct ts_slot *a, struct ts_slot *r, size_t n,
		int32_t pos, int32_t len, uint8_t *tmp)
{
	uint32_t w = a->t.width, wo = r->t.width, k, b;
	size_t i;

	for (i = 0; i < n; i++) {
		const uint8_t *s = a->vals + (size_t)w * i;
		uint8_t *out = r->vals + (size_t)wo * i;
		uint32_t lb = str_len(s, w), nchars = 0, first = 0, ci;
		int64_t start, end;

		TS_TRACE_READ_ROW(i);
		/* ct_u32_barrier(k): without it gcc strength-reduces k - lb
		 * into an induction variable, so the loop's pointer and exit
		 * test are computed from the secret length (same addresses,
		 * but secret-derived arithmetic in them). */
		for (k = 0; k < w; k++)
			nchars += is_char_start(s[k]) & ct_u32_lt(ct_u32_barrier(k), lb);
		if (pos > 0)
			start = (int64_t)pos - 1;
		else if (pos < 0)
			start = (int64_t)nchars + pos;
		else
			start = 0;
		end = start + len;
		start = (int64_t)ct_u64_mux(cta_i64_neg(start), 0, (uint64_t)start);
		/* ci = character index of byte k (continuation bytes share
		 * their start byte's index). */
		ci = (uint32_t)-1;
		for (k = 0; k < w; k++) {
			uint32_t in = ct_u32_lt(ct_u32_barrier(k), lb), keep;

			ci += is_char_start(s[k]);
			keep = in & ct_not(ct_i64_lt((int64_t)ci, start)) &
				ct_i64_lt((int64_t)ci, end);
			first += in & ct_i64_lt((int64_t)ci, start);
			tmp[k] = (uint8_t)(s[k] & (uint8_t)(0u - keep));
		}
		/* Shift left by `first` bytes. */
		for (b = 0; (1u << b) < w; b++) {
			uint32_t d = 1u << b, bit = (first >> b) & 1u;

			for (k = 0; k < w; k++) {
				uint8_t nxt = k + d < w ? tmp[k + d] : 0;

				tmp[k] = (uint8_t)ct_u32_mux(bit, nxt, tmp[k]);
			}
		}
		for (k = 0; k < wo; k++)
			out[k] = k < w ? tmp[k] : 0;
		r->nulls[i] = a->nulls[i] & 1u;
		TS_TRACE_WRITE_ROW(i);
	}
}

/* see expr_internal.h: s LIKE pattern, the pattern given as tokens (a byte,
 * '_' = one UTF-8 character, '%' = any sequence). A set-of-states dynamic
 * program over all w bytes of every row:
 *   D[j]  pattern prefix of j tokens matches the bytes read so far;
 *   U[j]  that match ended inside a character eaten by '_' (j = that '_'
 *         + 1), so continuation bytes may still extend it.
 * Bytes past the string's length leave the states unchanged (selects).
 * Cost w * tokens per row.
 * Leaks: n, w, the pattern (public).  Hides: the strings, their lengths,
 * NULLs, match outcomes. */
void ts_op_like(const struct ts_slot *a, const uint8_t *tokens,
		uint32_t m, struct ts_slot *r, size_t n, uint8_t *scratch)
{
	uint32_t w = a->t.width, k, j;
	uint8_t *D = scratch, *U = D + m + 1, *ND = U + m + 1, *NU = ND + m + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		const uint8_t *s = a->vals + (size_t)w * i;
		uint32_t lb = str_len(s, w);

		TS_TRACE_READ_ROW(i);
		memset(D, 0, m + 1);
		memset(U, 0, m + 1);
		D[0] = 1;
		for (j = 0; j < m; j++)
			if (ts_ld16(tokens + 2 * j) == TS_LIKE_ANY_STRING)
				D[j + 1] |= D[j];
		for (k = 0; k < w; k++) {
			uint32_t c = s[k], active = ct_u32_lt(ct_u32_barrier(k), lb);
			uint32_t st = is_char_start((uint8_t)c), cont = ct_not(st);

			ND[0] = 0;
			NU[0] = 0;
			for (j = 0; j < m; j++) {
				uint16_t tok = ts_ld16(tokens + 2 * j);
				uint32_t v;

				if (tok == TS_LIKE_ANY_CHAR) {
					v = (D[j] & st) | (U[j + 1] & cont);
					ND[j + 1] = (uint8_t)v;
					NU[j + 1] = (uint8_t)v;
				} else if (tok == TS_LIKE_ANY_STRING) {
					ND[j + 1] = D[j + 1];
					NU[j + 1] = 0;
				} else {
					ND[j + 1] = (uint8_t)(D[j] & ct_u32_eq(c, tok));
					NU[j + 1] = 0;
				}
			}
			for (j = 0; j < m; j++)
				if (ts_ld16(tokens + 2 * j) == TS_LIKE_ANY_STRING)
					ND[j + 1] |= ND[j];
			for (j = 0; j <= m; j++) {
				D[j] = (uint8_t)ct_u32_mux(active, ND[j], D[j]);
				U[j] = (uint8_t)ct_u32_mux(active, NU[j], U[j]);
			}
		}
		r->vals[i] = (uint8_t)(D[m] & ct_not(a->nulls[i] & 1u));
		r->nulls[i] = a->nulls[i] & 1u;
		TS_TRACE_WRITE_ROW(i);
	}
}

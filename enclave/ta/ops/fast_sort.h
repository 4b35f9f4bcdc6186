/*
 * fast_sort.h - the sort and shared helpers of the encrypted
 * (non-oblivious) operator mode.
 * NOT oblivious: leaks access patterns (which records are compared and
 * moved depends on the keys). Never use it on data whose access pattern
 * must stay hidden; the obl_ operators use obl_sort_bitonic.
 */
#ifndef TEESPARK_OPS_FAST_SORT_H
#define TEESPARK_OPS_FAST_SORT_H

#include <stddef.h>
#include <stdint.h>

#include "key_encode_nulls.h"
#include "op_join.h"

/*
 * Stable sort of n records of rec_size bytes by their leading key_words
 * uint64 words (unsigned, word 0 most significant: the order of
 * obl_sort_bitonic), with a bottom-up merge sort. tmp holds n * rec_size
 * bytes of scratch.
 * NOT oblivious: leaks the comparison outcomes through branches and the
 * merge's access sequence.
 */
void fast_sort_recs(uint8_t *recs, size_t n, size_t rec_size,
		size_t key_words, uint8_t *tmp);

/* Unsigned lexicographic comparison of two keys: <0, 0, >0 (early exit).
 * NOT oblivious. */
int fast_key_cmp(const uint64_t *a, const uint64_t *b, size_t key_words);

/*
 * obl_key_spec_encode_row for the fast kernels: the same words and return
 * value (UINT, INT and FLOAT64 columns encoded inline, BYTES through
 * obl_key_spec_encode_row itself), without its per-column copy and
 * generic encoder. specs must pass obl_key_spec_check.
 * NOT oblivious: branches on NULL flags.
 */
uint32_t fast_key_encode_row(const uint8_t *row,
		const struct obl_key_spec *specs, size_t nspecs, uint64_t *out);

/*
 * op_join_fast (op_join.h), but only slots 0..min(m, cap)-1 are written
 * (rows, their ctls, all 1, and right_is_null); the dummy slots are left
 * as they were, for callers that declassify m and keep only the real
 * rows (RUN_OPERATOR's encrypted mode), so that cap slots for m pairs
 * cost O(m). (Declared here, with the other encrypted-mode helpers, as
 * op_join.h belongs to the oblivious joins.) NOT oblivious.
 */
int op_join_fast_prefix(const struct obl_table *left,
		const struct obl_key_spec *lkeys, const struct obl_table *right,
		const struct obl_key_spec *rkeys, size_t nkeys,
		enum obl_join_kind kind, const struct obl_keep_fn *residual,
		uint8_t *out, uint32_t *out_is_real, uint32_t *right_is_null,
		size_t cap, uint64_t *m, struct obl_arena *arena);

/* Key equality of kw words (a loop, no library call). NOT oblivious. */
static inline int fast_key_eq(const uint64_t *a, const uint64_t *b,
		size_t kw)
{
	size_t i;

	for (i = 0; i < kw; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* A hash of kw key words (multiply-xorshift; its high bits are the best
 * mixed, so tables index with h >> (64 - log2 slots)). NOT oblivious. */
static inline uint64_t fast_key_hash(const uint64_t *w, size_t kw)
{
	uint64_t h = 0x9E3779B97F4A7C15ull;
	size_t i;

	for (i = 0; i < kw; i++) {
		h ^= w[i];
		h *= 0xBF58476D1CE4E5B9ull;
		h ^= h >> 31;
	}
	return h * 0x94D049BB133111EBull;
}

/* Little-endian load of a 1, 2, 4 or 8-byte field (other widths: the
 * low min(width, 8) bytes). NOT oblivious (a branch on the public width
 * only). */
static inline uint64_t fast_load_le(const uint8_t *p, uint32_t width)
{
	switch (width) {
	case 8:
		return (uint64_t)p[0] | (uint64_t)p[1] << 8 |
			(uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
			(uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
			(uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
	case 4:
		return (uint64_t)p[0] | (uint64_t)p[1] << 8 |
			(uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
	case 2:
		return (uint64_t)p[0] | (uint64_t)p[1] << 8;
	case 1:
		return p[0];
	default: {
		uint64_t v = 0;
		uint32_t b;

		for (b = 0; b < width && b < 8; b++)
			v |= (uint64_t)p[b] << (8 * b);
		return v;
	}
	}
}

#endif /* TEESPARK_OPS_FAST_SORT_H */

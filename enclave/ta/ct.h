/*
 * ct.h - constant-time primitives for the teespark TA: the only home of bit
 * tricks. Everything here is static inline and always inlined, so a kernel
 * compiled with the shipped flags contains exactly the instructions written
 * here, with no call the optimiser could specialise on a secret.
 *
 * Encodings (stated once, as in BearSSL):
 *   - a "ctl" is a uint32_t that MUST be 0 or 1. Comparisons return ctls;
 *     conditional operations take ctls.
 *   - a "mask" is 0 or all ones. Masks exist only inside this file: kernels
 *     pass ctls, and the helpers below turn them into masks.
 *   - a "key" is an array of key_words uint64_t compared lexicographically
 *     as unsigned integers, word 0 most significant (ops/key_encode.c makes
 *     them from typed columns).
 *
 * Guarding against the compiler: a compiler that can prove a value is 0 or 1
 * (or 0 or all ones) may turn arithmetic selection back into a branch or a
 * masked load (see docs/reference: clang 14 -O2 did so for a textbook mask
 * scan). Every ctl produced here, and every mask, passes through
 * ct_u64_barrier / ct_u32_barrier, an empty asm statement the optimiser
 * cannot see through, so it never learns the value range.
 *
 * Nothing here reads memory at a secret-dependent address or branches on a
 * secret. Loop bounds and lengths are public.
 */
#ifndef TEESPARK_CT_H
#define TEESPARK_CT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#define CT_INLINE static inline __attribute__((always_inline))

/* ------------------------------------------------------------------------ */
/* Value barriers                                                            */
/* ------------------------------------------------------------------------ */

/* Return v unchanged, hiding its value from the optimiser (libsodium's
 * trick): the empty asm "modifies" v in a register. */
CT_INLINE uint64_t ct_u64_barrier(uint64_t v)
{
	__asm__("" : "+r"(v));
	return v;
}

CT_INLINE uint32_t ct_u32_barrier(uint32_t v)
{
	__asm__("" : "+r"(v));
	return v;
}

/* Private to ct.h: ctl (0/1) -> mask (0 / all ones). */
CT_INLINE uint64_t ct__mask64(uint32_t ctl)
{
	return ct_u64_barrier((uint64_t)0 - (uint64_t)ctl);
}

CT_INLINE uint32_t ct__mask32(uint32_t ctl)
{
	return ct_u32_barrier((uint32_t)0 - ctl);
}

/* ------------------------------------------------------------------------ */
/* Scalar comparisons and selection                                          */
/* ------------------------------------------------------------------------ */

/* 1 - ctl.
 * Leaks: nothing.  Hides: ctl. */
CT_INLINE uint32_t ct_not(uint32_t ctl)
{
	return ctl ^ 1u;
}

/* x == y as a ctl. q | -q has its top bit set iff q != 0.
 * Leaks: nothing.  Hides: x, y. */
CT_INLINE uint32_t ct_u32_eq(uint32_t x, uint32_t y)
{
	uint32_t q = x ^ y;

	return ct_u32_barrier(((q | (0u - q)) >> 31) ^ 1u);
}

/* x < y (unsigned) as a ctl: the borrow of the 64-bit difference of the
 * zero-extended operands.
 * Leaks: nothing.  Hides: x, y. */
CT_INLINE uint32_t ct_u32_lt(uint32_t x, uint32_t y)
{
	return ct_u32_barrier((uint32_t)(((uint64_t)x - (uint64_t)y) >> 63));
}

/* ctl ? x : y.
 * Leaks: nothing.  Hides: ctl, x, y. */
CT_INLINE uint32_t ct_u32_mux(uint32_t ctl, uint32_t x, uint32_t y)
{
	return y ^ (ct__mask32(ctl) & (x ^ y));
}

/* x == y as a ctl.
 * Leaks: nothing.  Hides: x, y. */
CT_INLINE uint32_t ct_u64_eq(uint64_t x, uint64_t y)
{
	uint64_t q = x ^ y;

	return ct_u32_barrier((uint32_t)(((q | (0u - q)) >> 63) ^ 1u));
}

/* x < y (unsigned): the borrow out of x - y, computed from the top bits
 * (Hacker's Delight 2-13): borrow = (~x & y) | (~(x ^ y) & (x - y)).
 * Leaks: nothing.  Hides: x, y. */
CT_INLINE uint32_t ct_u64_lt(uint64_t x, uint64_t y)
{
	uint64_t d = x - y;

	return ct_u32_barrier((uint32_t)(((~x & y) | (~(x ^ y) & d)) >> 63));
}

/* x > y (unsigned).
 * Leaks: nothing.  Hides: x, y. */
CT_INLINE uint32_t ct_u64_gt(uint64_t x, uint64_t y)
{
	return ct_u64_lt(y, x);
}

/* x < y for two's complement: flipping the sign bits maps signed order onto
 * unsigned order.
 * Leaks: nothing.  Hides: x, y. */
CT_INLINE uint32_t ct_i64_lt(int64_t x, int64_t y)
{
	const uint64_t sign = (uint64_t)1 << 63;

	return ct_u64_lt((uint64_t)x ^ sign, (uint64_t)y ^ sign);
}

/* ctl ? x : y.
 * Leaks: nothing.  Hides: ctl, x, y. */
CT_INLINE uint64_t ct_u64_mux(uint32_t ctl, uint64_t x, uint64_t y)
{
	return y ^ (ct__mask64(ctl) & (x ^ y));
}

/* ctl ? x : y.
 * Leaks: nothing.  Hides: ctl, x, y. */
CT_INLINE int64_t ct_i64_mux(uint32_t ctl, int64_t x, int64_t y)
{
	return (int64_t)ct_u64_mux(ctl, (uint64_t)x, (uint64_t)y);
}

/* ------------------------------------------------------------------------ */
/* Fixed-width records                                                       */
/* ------------------------------------------------------------------------ */

/* Swap the len bytes at a and b iff ctl == 1; always reads and rewrites both
 * (XOR with (a ^ b) & mask, word by word). a and b must not overlap.
 * Leaks: len.  Hides: ctl, the contents of a and b. */
CT_INLINE void ct_cswap(uint32_t ctl, void *a, void *b, size_t len)
{
	unsigned char *pa = (unsigned char *)a;
	unsigned char *pb = (unsigned char *)b;
	uint64_t mask = ct__mask64(ctl);
	size_t i = 0;

#if defined(__AVX2__)
	{
		__m256i vmask = _mm256_set1_epi64x((long long)mask);

		for (; i + 32 <= len; i += 32) {
			__m256i x = _mm256_loadu_si256((const __m256i *)(pa + i));
			__m256i y = _mm256_loadu_si256((const __m256i *)(pb + i));
			__m256i t = _mm256_and_si256(_mm256_xor_si256(x, y), vmask);

			_mm256_storeu_si256((__m256i *)(pa + i), _mm256_xor_si256(x, t));
			_mm256_storeu_si256((__m256i *)(pb + i), _mm256_xor_si256(y, t));
		}
	}
#endif
	for (; i + 8 <= len; i += 8) {
		uint64_t x, y, t;

		memcpy(&x, pa + i, 8);
		memcpy(&y, pb + i, 8);
		t = (x ^ y) & mask;
		x ^= t;
		y ^= t;
		memcpy(pa + i, &x, 8);
		memcpy(pb + i, &y, 8);
	}
	for (; i < len; i++) {
		unsigned char t = (unsigned char)((pa[i] ^ pb[i]) & (unsigned char)mask);

		pa[i] ^= t;
		pb[i] ^= t;
	}
}

/* Copy len bytes from src to dst iff ctl == 1; always reads both and
 * rewrites dst. dst and src must not overlap.
 * Leaks: len.  Hides: ctl, the contents of dst and src. */
CT_INLINE void ct_copy(uint32_t ctl, void *dst, const void *src, size_t len)
{
	unsigned char *pd = (unsigned char *)dst;
	const unsigned char *ps = (const unsigned char *)src;
	uint64_t mask = ct__mask64(ctl);
	size_t i = 0;

#if defined(__AVX2__)
	{
		__m256i vmask = _mm256_set1_epi64x((long long)mask);

		for (; i + 32 <= len; i += 32) {
			__m256i d = _mm256_loadu_si256((const __m256i *)(pd + i));
			__m256i s = _mm256_loadu_si256((const __m256i *)(ps + i));
			__m256i t = _mm256_and_si256(_mm256_xor_si256(d, s), vmask);

			_mm256_storeu_si256((__m256i *)(pd + i), _mm256_xor_si256(d, t));
		}
	}
#endif
	for (; i + 8 <= len; i += 8) {
		uint64_t d, s;

		memcpy(&d, pd + i, 8);
		memcpy(&s, ps + i, 8);
		d ^= (d ^ s) & mask;
		memcpy(pd + i, &d, 8);
	}
	for (; i < len; i++)
		pd[i] ^= (unsigned char)((pd[i] ^ ps[i]) & (unsigned char)mask);
}

/* Copy element `index` (elem_size bytes) of array[0..n) into dst by scanning
 * every element: no access depends on index. If index >= n, dst is left
 * unchanged.
 * Leaks: n, elem_size.  Hides: index, array contents. */
CT_INLINE void ct_array_read(void *dst, const void *array, size_t n,
		size_t elem_size, size_t index)
{
	const unsigned char *p = (const unsigned char *)array;
	size_t i;

	for (i = 0; i < n; i++)
		ct_copy(ct_u64_eq((uint64_t)i, (uint64_t)index), dst,
			p + i * elem_size, elem_size);
}

/* ------------------------------------------------------------------------ */
/* Composite keys                                                            */
/* ------------------------------------------------------------------------ */

/* a < b over key_words words, word 0 most significant, unsigned. Walks from
 * the least significant word up: lt = lt_i | (eq_i & lt), all bitwise, so
 * every word is compared whatever the outcome (no short circuit).
 * Leaks: key_words.  Hides: both keys. */
CT_INLINE uint32_t ct_key_lt(const uint64_t *a, const uint64_t *b,
		size_t key_words)
{
	uint32_t lt = 0;
	size_t i;

	for (i = key_words; i-- > 0;)
		lt = ct_u64_lt(a[i], b[i]) | (ct_u64_eq(a[i], b[i]) & lt);
	return lt;
}

/* a == b over key_words words: OR of the XORs, then one test.
 * Leaks: key_words.  Hides: both keys. */
CT_INLINE uint32_t ct_key_eq(const uint64_t *a, const uint64_t *b,
		size_t key_words)
{
	uint64_t diff = 0;
	size_t i;

	for (i = 0; i < key_words; i++)
		diff |= a[i] ^ b[i];
	return ct_u64_eq(diff, 0);
}

/* ------------------------------------------------------------------------ */
/* AVX2 compare-exchange of 16-byte records (8-byte unsigned key first)      */
/* ------------------------------------------------------------------------ */

#if defined(__AVX2__)

/* Two 16-byte records per vector: [key0 pay0 | key1 pay1] (64-bit lanes).
 * Compare-exchange lane-pair-wise so that *lo gets the record with the
 * smaller key and *hi the larger (equal keys: unchanged). AVX2 only has a
 * signed 64-bit compare, so both keys get their sign bit flipped first;
 * the compare result of each key lane is copied onto its payload lane and
 * the records are swapped with XOR under that mask.
 * Leaks: nothing.  Hides: keys, payloads, whether a swap happened. */
CT_INLINE void ct_rec16x2_cx(__m256i *lo, __m256i *hi)
{
	const __m256i sign = _mm256_set1_epi64x((long long)0x8000000000000000ull);
	__m256i a = *lo, b = *hi;
	__m256i gt = _mm256_cmpgt_epi64(_mm256_xor_si256(a, sign),
			_mm256_xor_si256(b, sign));
	/* lanes (0,1,2,3) <- (0,0,2,2): key verdict onto its payload lane */
	__m256i mask = _mm256_shuffle_epi32(gt, 0x44);
	__m256i t = _mm256_and_si256(_mm256_xor_si256(a, b), mask);

	*lo = _mm256_xor_si256(a, t);
	*hi = _mm256_xor_si256(b, t);
}

#endif /* __AVX2__ */

#endif /* TEESPARK_CT_H */

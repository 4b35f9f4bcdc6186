/*
 * sort_bitonic.c - obl_sort_bitonic: Batcher's bitonic sorting network for
 * any n (H. W. Lang's arbitrary-n formulation), over fixed-width records.
 *
 * Network (all sizes and directions are public; the network depends only on n):
 *   sort(lo, n, dir):  sort(lo, n/2, !dir); sort(lo + n/2, n - n/2, dir);
 *                      merge(lo, n, dir)
 *   merge(lo, n, dir): m = greatest power of two < n;
 *                      compare-exchange (i, i + m, dir) for i in [lo, lo + n - m);
 *                      merge(lo, m, dir); merge(lo + m, n - m, dir)
 * The recursion is depth-first, so once a sub-merge fits in cache it stays
 * there. Power-of-two merges of at most MERGE_BLOCK_BYTES run as an
 * iterative loop of stages over the block instead of recursing to single
 * pairs (same compare-exchanges, fewer calls).
 *
 * Every compare-exchange of ranges [i, i + cnt) x [j, j + cnt) is contiguous,
 * which is what makes it vectorisable: for key_words == 1 and rec_size == 16
 * (key + 8-byte payload, the common tag-sort shape) two records fit in one
 * AVX2 register and ct_rec16x2_cx compares and swaps two pairs at a time;
 * the last strides (4, 2, 1) of every block merge are done in registers.
 * Records of 32 to 80 bytes with 1 to 3 key words (the operators' record
 * shapes) compare their keys in AVX2 registers and swap with the resulting
 * mask (cx_range_vec); other shapes use ct_key_lt + ct_cswap (AVX2 inside
 * ct_cswap for >= 32 bytes).
 */
#include "sort_bitonic.h"

#include "../ct.h"
#include "../trace.h"

/* Power-of-two merges up to this many bytes run iteratively (L1-sized). */
#define MERGE_BLOCK_BYTES (16u * 1024u)

/* Trace one compare-exchange of records i and j (both read, both written). */
#define TRACE_CX(i, j) do {                         \
		OBL_TRACE_READ(OBL_BUF_RECS, (i));  \
		OBL_TRACE_READ(OBL_BUF_RECS, (j));  \
		OBL_TRACE_WRITE(OBL_BUF_RECS, (i)); \
		OBL_TRACE_WRITE(OBL_BUF_RECS, (j)); \
	} while (0)

/* Greatest power of two strictly below n (n >= 2; n is public). */
static size_t pow2_below(size_t n)
{
	size_t m = 1;

	while (m < n - m)
		m <<= 1;
	return m;
}

static int is_pow2(size_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/* ------------------------------------------------------------------------ */
/* General path: any rec_size (multiple of 8), any key_words                 */
/* ------------------------------------------------------------------------ */

struct sorter {
	uint8_t *recs;
	size_t rec_size;
	size_t key_words;
};

/* Compare-exchange records (i + k, j + k) for k < cnt: ascending puts the
 * smaller key at i + k. always_inline so that the key_words == 1 caller gets
 * a single unsigned compare. desc is public.
 * Leaks: i, j, cnt, rec_size, key_words, desc.  Hides: keys, payloads. */
static inline __attribute__((always_inline)) void cx_range_body(
		uint8_t *recs, size_t rec_size, size_t key_words,
		size_t i, size_t j, size_t cnt, int desc)
{
	size_t k;

	for (k = 0; k < cnt; k++) {
		uint8_t *a = recs + (i + k) * rec_size;
		uint8_t *b = recs + (j + k) * rec_size;
		const uint64_t *ka = (const uint64_t *)(const void *)a;
		const uint64_t *kb = (const uint64_t *)(const void *)b;
		uint32_t ctl;

		if (key_words == 1)
			ctl = desc ? ct_u64_lt(ka[0], kb[0]) : ct_u64_lt(kb[0], ka[0]);
		else
			ctl = desc ? ct_key_lt(ka, kb, key_words)
				: ct_key_lt(kb, ka, key_words);
		ct_cswap(ctl, a, b, rec_size);
		TRACE_CX(i + k, j + k);
	}
}

#if defined(__AVX2__)
/* Compare-exchange records (i + k, j + k) for k < cnt, for records of at
 * least 32 bytes whose 1 to 3 key words lie in the first 32 bytes: the
 * keys are compared in vector registers (each word's unsigned verdict via a
 * sign flip and the signed 64-bit compare, combined lexicographically and
 * broadcast to every lane), and the swap mask is applied to the 32-byte
 * head and the rest (32-, 16- and 8-byte pieces) without scalar reloads.
 * Ascending puts the smaller key at i + k. rec_size (a multiple of 8),
 * key_words and desc are public and constant per call site.
 * Leaks: i, j, cnt, rec_size, key_words, desc.  Hides: keys, payloads. */
static inline __attribute__((always_inline)) void cx_range_vec(
		uint8_t *recs, size_t rec_size, size_t key_words,
		size_t i, size_t j, size_t cnt, int desc)
{
	const __m256i sign = _mm256_set1_epi64x((long long)0x8000000000000000ull);
	size_t k, o;

	for (k = 0; k < cnt; k++) {
		uint8_t *a = recs + (i + k) * rec_size;
		uint8_t *b = recs + (j + k) * rec_size;
		__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)a);
		__m256i y = _mm256_loadu_si256((const __m256i *)(const void *)b);
		__m256i xs = _mm256_xor_si256(x, sign), ys = _mm256_xor_si256(y, sign);
		/* gt: lane w of the "first" key above the other's; ascending
		 * swaps iff a > b, descending iff b > a */
		__m256i gt = desc ? _mm256_cmpgt_epi64(ys, xs) :
			_mm256_cmpgt_epi64(xs, ys);
		__m256i eq = _mm256_cmpeq_epi64(x, y);
		__m256i mask, t;

		/* lexicographic: gt_0 | (eq_0 & (gt_1 | (eq_1 & gt_2))), each
		 * word's verdict broadcast to every lane first */
		if (key_words == 1) {
			mask = _mm256_permute4x64_epi64(gt, 0x00);
		} else if (key_words == 2) {
			mask = _mm256_or_si256(_mm256_permute4x64_epi64(gt, 0x00),
				_mm256_and_si256(_mm256_permute4x64_epi64(eq, 0x00),
					_mm256_permute4x64_epi64(gt, 0x55)));
		} else {
			__m256i low = _mm256_or_si256(
				_mm256_permute4x64_epi64(gt, 0x55),
				_mm256_and_si256(_mm256_permute4x64_epi64(eq, 0x55),
					_mm256_permute4x64_epi64(gt, 0xaa)));

			mask = _mm256_or_si256(_mm256_permute4x64_epi64(gt, 0x00),
				_mm256_and_si256(_mm256_permute4x64_epi64(eq, 0x00),
					low));
		}
		t = _mm256_and_si256(_mm256_xor_si256(x, y), mask);
		_mm256_storeu_si256((__m256i *)(void *)a, _mm256_xor_si256(x, t));
		_mm256_storeu_si256((__m256i *)(void *)b, _mm256_xor_si256(y, t));
		for (o = 32; o + 32 <= rec_size; o += 32) {
			__m256i p = _mm256_loadu_si256((const __m256i *)(const void *)(a + o));
			__m256i q = _mm256_loadu_si256((const __m256i *)(const void *)(b + o));

			t = _mm256_and_si256(_mm256_xor_si256(p, q), mask);
			_mm256_storeu_si256((__m256i *)(void *)(a + o), _mm256_xor_si256(p, t));
			_mm256_storeu_si256((__m256i *)(void *)(b + o), _mm256_xor_si256(q, t));
		}
		if (o + 16 <= rec_size) {
			__m128i m = _mm256_castsi256_si128(mask);
			__m128i p = _mm_loadu_si128((const __m128i *)(const void *)(a + o));
			__m128i q = _mm_loadu_si128((const __m128i *)(const void *)(b + o));
			__m128i u = _mm_and_si128(_mm_xor_si128(p, q), m);

			_mm_storeu_si128((__m128i *)(void *)(a + o), _mm_xor_si128(p, u));
			_mm_storeu_si128((__m128i *)(void *)(b + o), _mm_xor_si128(q, u));
			o += 16;
		}
		if (o + 8 <= rec_size) {
			__m128i m = _mm256_castsi256_si128(mask);
			__m128i p = _mm_loadl_epi64((const __m128i *)(const void *)(a + o));
			__m128i q = _mm_loadl_epi64((const __m128i *)(const void *)(b + o));
			__m128i u = _mm_and_si128(_mm_xor_si128(p, q), m);

			_mm_storel_epi64((__m128i *)(void *)(a + o), _mm_xor_si128(p, u));
			_mm_storel_epi64((__m128i *)(void *)(b + o), _mm_xor_si128(q, u));
		}
		TRACE_CX(i + k, j + k);
	}
}

#define CX_VEC_BY_SIZE(KW) do {                                            \
		switch (s->rec_size) {                                     \
		case 32: cx_range_vec(s->recs, 32, KW, i, j, cnt, desc); return; \
		case 40: cx_range_vec(s->recs, 40, KW, i, j, cnt, desc); return; \
		case 48: cx_range_vec(s->recs, 48, KW, i, j, cnt, desc); return; \
		case 56: cx_range_vec(s->recs, 56, KW, i, j, cnt, desc); return; \
		case 64: cx_range_vec(s->recs, 64, KW, i, j, cnt, desc); return; \
		case 72: cx_range_vec(s->recs, 72, KW, i, j, cnt, desc); return; \
		case 80: cx_range_vec(s->recs, 80, KW, i, j, cnt, desc); return; \
		default: break;                                             \
		}                                                           \
	} while (0)
#endif /* __AVX2__ */

/* One compare-exchange body per record size for a constant key_words, so
 * that ct_key_lt and ct_cswap unroll (the common operator shapes: a flag
 * word and one or two key words, rows of up to 64 bytes).
 * Leaks: i, j, cnt, shape, desc.  Hides: keys, payloads. */
#define CX_BY_SIZE(KW) do {                                               \
		switch (s->rec_size) {                                    \
		case 24: cx_range_body(s->recs, 24, KW, i, j, cnt, desc); return; \
		case 32: cx_range_body(s->recs, 32, KW, i, j, cnt, desc); return; \
		case 40: cx_range_body(s->recs, 40, KW, i, j, cnt, desc); return; \
		case 48: cx_range_body(s->recs, 48, KW, i, j, cnt, desc); return; \
		case 56: cx_range_body(s->recs, 56, KW, i, j, cnt, desc); return; \
		case 64: cx_range_body(s->recs, 64, KW, i, j, cnt, desc); return; \
		case 72: cx_range_body(s->recs, 72, KW, i, j, cnt, desc); return; \
		case 80: cx_range_body(s->recs, 80, KW, i, j, cnt, desc); return; \
		default: cx_range_body(s->recs, s->rec_size, KW, i, j, cnt, desc); \
			return;                                            \
		}                                                          \
	} while (0)

/* Leaks: i, j, cnt, shape, desc.  Hides: keys, payloads. */
static void cx_range_gen(const struct sorter *s, size_t i, size_t j,
		size_t cnt, int desc)
{
	/* Constant shapes let the compiler unroll ct_key_lt and ct_cswap
	 * fully; the branches depend only on the public shape. */
#if defined(__AVX2__)
	if (s->key_words == 1)
		CX_VEC_BY_SIZE(1);
	else if (s->key_words == 2)
		CX_VEC_BY_SIZE(2);
	else if (s->key_words == 3)
		CX_VEC_BY_SIZE(3);
#endif
	if (s->key_words == 1)
		CX_BY_SIZE(1);
	else if (s->key_words == 2)
		CX_BY_SIZE(2);
	else if (s->key_words == 3)
		CX_BY_SIZE(3);
	else
		cx_range_body(s->recs, s->rec_size, s->key_words, i, j, cnt, desc);
}

/* Bitonic merge of a power-of-two block, stage by stage.
 * Leaks: lo, n, shape, desc.  Hides: keys, payloads. */
static void merge_block_gen(const struct sorter *s, size_t lo, size_t n, int desc)
{
	size_t half, b;

	for (half = n / 2; half >= 1; half /= 2)
		for (b = lo; b < lo + n; b += 2 * half)
			cx_range_gen(s, b, b + half, half, desc);
}

/* Leaks: lo, n, shape, desc.  Hides: keys, payloads. */
static void merge_gen(const struct sorter *s, size_t lo, size_t n, int desc)
{
	size_t m;

	if (n <= 1)
		return;
	if (is_pow2(n) && n * s->rec_size <= MERGE_BLOCK_BYTES) {
		merge_block_gen(s, lo, n, desc);
		return;
	}
	m = pow2_below(n);
	cx_range_gen(s, lo, lo + m, n - m, desc);
	merge_gen(s, lo, m, desc);
	merge_gen(s, lo + m, n - m, desc);
}

/* Leaks: lo, n, shape, desc.  Hides: keys, payloads. */
static void sort_gen(const struct sorter *s, size_t lo, size_t n, int desc)
{
	size_t h;

	if (n <= 1)
		return;
	h = n / 2;
	sort_gen(s, lo, h, !desc);
	sort_gen(s, lo + h, n - h, desc);
	merge_gen(s, lo, n, desc);
}

/* ------------------------------------------------------------------------ */
/* Specialised path: key_words == 1, rec_size == 16, AVX2                    */
/* ------------------------------------------------------------------------ */

#if defined(__AVX2__)

#define R16 16u

static inline __attribute__((always_inline)) __m256i load2(const uint8_t *recs, size_t i)
{
	return _mm256_loadu_si256((const __m256i *)(const void *)(recs + i * R16));
}

static inline __attribute__((always_inline)) void store2(uint8_t *recs, size_t i, __m256i v)
{
	_mm256_storeu_si256((__m256i *)(void *)(recs + i * R16), v);
}

/* Compare-exchange two pairs of record vectors in direction desc (public):
 * ascending leaves the smaller keys in *lo. */
static inline __attribute__((always_inline)) void cx2(__m256i *lo, __m256i *hi, int desc)
{
	if (desc)
		ct_rec16x2_cx(hi, lo);
	else
		ct_rec16x2_cx(lo, hi);
}

/* Single-record compare-exchange (odd leftovers).
 * Leaks: i, j, desc.  Hides: keys, payloads. */
static inline __attribute__((always_inline)) void cx1_16(uint8_t *recs,
		size_t i, size_t j, int desc)
{
	uint8_t *a = recs + i * R16, *b = recs + j * R16;
	uint64_t ka, kb;
	uint32_t ctl;

	memcpy(&ka, a, 8);
	memcpy(&kb, b, 8);
	ctl = desc ? ct_u64_lt(ka, kb) : ct_u64_lt(kb, ka);
	ct_cswap(ctl, a, b, R16);
	TRACE_CX(i, j);
}

/* Compare-exchange records (i + k, j + k), k < cnt, 16-byte records with one
 * key word. Requires cnt <= j - i (the two ranges do not overlap), which
 * holds for every call made by the network.
 * Leaks: i, j, cnt, desc.  Hides: keys, payloads. */
static void cx_range16(uint8_t *recs, size_t i, size_t j, size_t cnt, int desc)
{
	size_t k = 0;

	for (; k + 4 <= cnt; k += 4) {
		__m256i a0 = load2(recs, i + k), a1 = load2(recs, i + k + 2);
		__m256i b0 = load2(recs, j + k), b1 = load2(recs, j + k + 2);

		cx2(&a0, &b0, desc);
		cx2(&a1, &b1, desc);
		store2(recs, i + k, a0);
		store2(recs, i + k + 2, a1);
		store2(recs, j + k, b0);
		store2(recs, j + k + 2, b1);
		TRACE_CX(i + k, j + k);
		TRACE_CX(i + k + 1, j + k + 1);
		TRACE_CX(i + k + 2, j + k + 2);
		TRACE_CX(i + k + 3, j + k + 3);
	}
	for (; k + 2 <= cnt; k += 2) {
		__m256i a0 = load2(recs, i + k), b0 = load2(recs, j + k);

		cx2(&a0, &b0, desc);
		store2(recs, i + k, a0);
		store2(recs, j + k, b0);
		TRACE_CX(i + k, j + k);
		TRACE_CX(i + k + 1, j + k + 1);
	}
	if (k < cnt)
		cx1_16(recs, i + k, j + k, desc);
}

/* Last three stages (strides 4, 2, 1) of a bitonic merge on 8 consecutive
 * records at p, in registers. Vectors hold record pairs:
 * A = [r0 r1], B = [r2 r3], C = [r4 r5], D = [r6 r7].
 * Leaks: p, desc.  Hides: keys, payloads. */
static inline __attribute__((always_inline)) void merge8_tail(uint8_t *recs,
		size_t p, int desc)
{
	__m256i A = load2(recs, p), B = load2(recs, p + 2);
	__m256i C = load2(recs, p + 4), D = load2(recs, p + 6);
	__m256i X0, Y0, X1, Y1;

	cx2(&A, &C, desc);               /* stride 4: (r0,r4) (r1,r5) */
	cx2(&B, &D, desc);               /*           (r2,r6) (r3,r7) */
	cx2(&A, &B, desc);               /* stride 2: (r0,r2) (r1,r3) */
	cx2(&C, &D, desc);               /*           (r4,r6) (r5,r7) */
	/* stride 1: transpose so the partners share a lane position */
	X0 = _mm256_permute2x128_si256(A, B, 0x20);  /* [r0 r2] */
	Y0 = _mm256_permute2x128_si256(A, B, 0x31);  /* [r1 r3] */
	X1 = _mm256_permute2x128_si256(C, D, 0x20);  /* [r4 r6] */
	Y1 = _mm256_permute2x128_si256(C, D, 0x31);  /* [r5 r7] */
	cx2(&X0, &Y0, desc);
	cx2(&X1, &Y1, desc);
	A = _mm256_permute2x128_si256(X0, Y0, 0x20); /* [r0 r1] */
	B = _mm256_permute2x128_si256(X0, Y0, 0x31); /* [r2 r3] */
	C = _mm256_permute2x128_si256(X1, Y1, 0x20);
	D = _mm256_permute2x128_si256(X1, Y1, 0x31);
	store2(recs, p, A);
	store2(recs, p + 2, B);
	store2(recs, p + 4, C);
	store2(recs, p + 6, D);
	{
		size_t t;

		for (t = 0; t < 8; t++)
			OBL_TRACE_READ(OBL_BUF_RECS, p + t);
		for (t = 0; t < 8; t++)
			OBL_TRACE_WRITE(OBL_BUF_RECS, p + t);
	}
}

/* Bitonic merge of 4 consecutive records at p (strides 2, 1), in registers.
 * Leaks: p, desc.  Hides: keys, payloads. */
static inline __attribute__((always_inline)) void merge4(uint8_t *recs,
		size_t p, int desc)
{
	__m256i A = load2(recs, p), B = load2(recs, p + 2), X, Y;

	cx2(&A, &B, desc);
	X = _mm256_permute2x128_si256(A, B, 0x20);
	Y = _mm256_permute2x128_si256(A, B, 0x31);
	cx2(&X, &Y, desc);
	store2(recs, p, _mm256_permute2x128_si256(X, Y, 0x20));
	store2(recs, p + 2, _mm256_permute2x128_si256(X, Y, 0x31));
	{
		size_t t;

		for (t = 0; t < 4; t++)
			OBL_TRACE_READ(OBL_BUF_RECS, p + t);
		for (t = 0; t < 4; t++)
			OBL_TRACE_WRITE(OBL_BUF_RECS, p + t);
	}
}

/* Bitonic merge of a power-of-two block of n >= 2 records.
 * Leaks: lo, n, desc.  Hides: keys, payloads. */
static void merge_block16(uint8_t *recs, size_t lo, size_t n, int desc)
{
	size_t half, b;

	if (n == 2) {
		cx1_16(recs, lo, lo + 1, desc);
		return;
	}
	if (n == 4) {
		merge4(recs, lo, desc);
		return;
	}
	for (half = n / 2; half >= 8; half /= 2)
		for (b = lo; b < lo + n; b += 2 * half)
			cx_range16(recs, b, b + half, half, desc);
	for (b = lo; b < lo + n; b += 8)
		merge8_tail(recs, b, desc);
}

/* Leaks: lo, n, desc.  Hides: keys, payloads. */
static void merge16(uint8_t *recs, size_t lo, size_t n, int desc)
{
	size_t m;

	if (n <= 1)
		return;
	if (is_pow2(n) && n * R16 <= MERGE_BLOCK_BYTES) {
		merge_block16(recs, lo, n, desc);
		return;
	}
	m = pow2_below(n);
	cx_range16(recs, lo, lo + m, n - m, desc);
	merge16(recs, lo, m, desc);
	merge16(recs, lo + m, n - m, desc);
}

/* Leaks: lo, n, desc.  Hides: keys, payloads. */
static void sort16(uint8_t *recs, size_t lo, size_t n, int desc)
{
	size_t h;

	if (n <= 1)
		return;
	if (n == 2) {
		cx1_16(recs, lo, lo + 1, desc);
		return;
	}
	h = n / 2;
	sort16(recs, lo, h, !desc);
	sort16(recs, lo + h, n - h, desc);
	merge16(recs, lo, n, desc);
}

#endif /* __AVX2__ */

/* see sort_bitonic.h */
void obl_sort_bitonic(uint8_t *recs, size_t n, size_t rec_size, size_t key_words)
{
	struct sorter s;

	if (n <= 1 || key_words == 0 || rec_size < 8 * key_words)
		return;
#if defined(__AVX2__)
	if (key_words == 1 && rec_size == R16) {
		sort16(recs, 0, n, 0);
		return;
	}
#endif
	s.recs = recs;
	s.rec_size = rec_size;
	s.key_words = key_words;
	sort_gen(&s, 0, n, 0);
}

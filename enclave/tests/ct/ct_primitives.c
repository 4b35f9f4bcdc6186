/*
 * ct_primitives.c - ctgrind: the ct.h primitives themselves, inlined into
 * this program compiled with the shipped flags, with secret operands: every
 * comparison and select, ct_cswap/ct_copy with a secret ctl, ct_array_read
 * at a secret index, composite keys, the AVX2 record compare-exchange.
 */
#include "harness.h"

#include <stdlib.h>

#include "../../ta/ct.h"

const char ct_program_name[] = "ct_primitives";

void ct_run(void)
{
	uint64_t x[8], acc = 0;
	uint8_t a[200], b[200], table[50 * 24], out[24];
	size_t len, idx, kw, t;
	uint32_t ctl;

	for (t = 0; t < 64; t++) {
		ct_fill(x, sizeof(x));
		ctl = (uint32_t)(ct_rand() & 1);
		CT_SECRET(x, sizeof(x));
		CT_SECRET(&ctl, sizeof(ctl));
		acc += ct_u32_eq((uint32_t)x[0], (uint32_t)x[1]);
		acc += ct_u32_lt((uint32_t)x[0], (uint32_t)x[1]);
		acc += ct_u32_mux(ctl, (uint32_t)x[2], (uint32_t)x[3]);
		acc += ct_u64_eq(x[0], x[1]) + ct_u64_lt(x[0], x[1]) + ct_u64_gt(x[0], x[1]);
		acc += ct_i64_lt((int64_t)x[2], (int64_t)x[3]);
		acc += ct_u64_mux(ctl, x[4], x[5]);
		acc += (uint64_t)ct_i64_mux(ct_not(ctl), (int64_t)x[4], (int64_t)x[5]);
		for (kw = 1; kw <= 4; kw++)
			acc += ct_key_lt(x, x + 4, kw) + ct_key_eq(x, x + 4, kw);
#if defined(__AVX2__)
		{
			__m256i lo = _mm256_loadu_si256((const __m256i *)(const void *)x);
			__m256i hi = _mm256_loadu_si256((const __m256i *)(const void *)(x + 4));

			ct_rec16x2_cx(&lo, &hi);
			_mm256_storeu_si256((__m256i *)(void *)x, lo);
			_mm256_storeu_si256((__m256i *)(void *)(x + 4), hi);
			ct_sink(x, sizeof(x));
		}
#endif
	}
	ct_sink(&acc, sizeof(acc));
	for (len = 0; len <= 150; len += 7) {
		ct_fill(a, sizeof(a));
		ct_fill(b, sizeof(b));
		ctl = (uint32_t)(ct_rand() & 1);
		CT_SECRET(a, sizeof(a));
		CT_SECRET(b, sizeof(b));
		CT_SECRET(&ctl, sizeof(ctl));
		ct_cswap(ctl, a + 1, b + 2, len);
		ct_copy(ct_not(ctl), a + 3, b + 5, len);
		ct_sink(a, sizeof(a));
		ct_sink(b, sizeof(b));
	}
	for (t = 0; t < 20; t++) {
		ct_fill(table, sizeof(table));
		idx = (size_t)(ct_rand() % 50);
		CT_SECRET(table, sizeof(table));
		CT_SECRET(&idx, sizeof(idx));
		ct_array_read(out, table, 50, 24, idx);
		ct_sink(out, sizeof(out));
	}
}

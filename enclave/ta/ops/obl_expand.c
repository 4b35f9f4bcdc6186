/*
 * obl_expand.c - oblivious distribute + fill down (see obl_expand.h).
 */
#include "obl_expand.h"

#include <string.h>

#include "../ct.h"
#include "../trace.h"
#include "compact_or.h"

static uint64_t word0(const uint8_t *rec)
{
	uint64_t w;

	memcpy(&w, rec, 8);
	return w;
}

static void set_word0(uint8_t *rec, uint64_t w)
{
	memcpy(rec, &w, 8);
}

/* see obl_expand.h */
void obl_expand(uint8_t *recs, size_t n, size_t cap, size_t rec_size,
		const uint64_t *g, size_t m, uint32_t *keep, uint8_t *tmp_rec)
{
	size_t big = n > m ? n : m;
	size_t i, j, top;
	uint64_t acc = 0;

	(void)cap;
	/* 1. counts into word 0, compaction of the records with copies */
	for (i = 0; i < n; i++) {
		OBL_TRACE_READ(OBL_BUF_AUX, i);
		set_word0(recs + i * rec_size, g[i]);
		keep[i] = ct_not(ct_u64_eq(g[i], 0));
		OBL_TRACE_WRITE(OBL_BUF_RECS, i);
	}
	(void)obl_compact(recs, n, rec_size, keep);

	/* 2. destinations: exclusive prefix sum; dropped records are empty */
	for (i = 0; i < n; i++) {
		uint8_t *r = recs + i * rec_size;
		uint64_t gi;

		OBL_TRACE_READ(OBL_BUF_RECS, i);
		gi = word0(r);
		set_word0(r, ct_u64_mux(keep[i], acc, OBL_EXPAND_EMPTY));
		acc += gi;
		OBL_TRACE_WRITE(OBL_BUF_RECS, i);
	}
	for (i = n; i < big; i++) {
		set_word0(recs + i * rec_size, OBL_EXPAND_EMPTY);
		OBL_TRACE_WRITE(OBL_BUF_RECS, i);
	}

	/* 3. distribute */
	if (big >= 2) {
		top = 1;
		while (top < big - top)
			top <<= 1;
		for (j = top; j >= 1; j >>= 1) {
			for (i = big - j; i-- > 0;) {
				uint8_t *a = recs + i * rec_size;
				uint8_t *b = recs + (i + j) * rec_size;
				uint64_t f = word0(a);
				uint32_t ctl = ct_not(ct_u64_eq(f, OBL_EXPAND_EMPTY)) &
					ct_not(ct_u64_lt(f, (uint64_t)(i + j)));

				ct_cswap(ctl, a, b, rec_size);
				OBL_TRACE_READ(OBL_BUF_RECS, i);
				OBL_TRACE_READ(OBL_BUF_RECS, i + j);
				OBL_TRACE_WRITE(OBL_BUF_RECS, i);
				OBL_TRACE_WRITE(OBL_BUF_RECS, i + j);
			}
		}
	}

	/* 4. fill down */
	for (i = 0; i < m; i++) {
		uint8_t *r = recs + i * rec_size;
		uint32_t empty = ct_u64_eq(word0(r), OBL_EXPAND_EMPTY);

		OBL_TRACE_READ(OBL_BUF_RECS, i);
		ct_copy(empty, r, tmp_rec, rec_size);
		memcpy(tmp_rec, r, rec_size);
		OBL_TRACE_WRITE(OBL_BUF_RECS, i);
	}
}

/*
 * fast_sort.c - NOT oblivious: leaks access patterns. Bottom-up stable merge
 * sort of fixed-width records for the encrypted operator mode (see
 * fast_sort.h). Portable C (no qsort_r), so it builds in every TA.
 */
#include "fast_sort.h"

#include <string.h>

#include "../trace.h"

#define FAST_SIGN64 ((uint64_t)1 << 63)

/* key_encode.c's float64_word, with branches. NOT oblivious. */
static uint64_t fast_f64_word(uint64_t bits)
{
	if (bits == FAST_SIGN64)
		bits = 0;			/* -0.0 == +0.0 */
	if ((bits & ~FAST_SIGN64) > 0x7FF0000000000000ull)
		return ~(uint64_t)0;		/* every NaN, above +inf */
	return bits >> 63 ? ~bits : bits ^ FAST_SIGN64;
}

/* NOT oblivious: branches on NULL flags. */
uint32_t fast_key_encode_row(const uint8_t *row,
		const struct obl_key_spec *specs, size_t nspecs, uint64_t *out)
{
	uint32_t any_null = 0;
	size_t i, nw = 0;

	for (i = 0; i < nspecs; i++) {
		const struct obl_key_spec *s = &specs[i];
		const uint8_t *p = row + s->col.offset;
		uint64_t flip = s->col.descending ? ~(uint64_t)0 : 0, v;
		uint32_t is_null = 0, w = s->col.width;

		if (s->col.type == OBL_KEY_BYTES) {
			any_null |= obl_key_spec_encode_row(row, s, 1, out + nw);
			nw += obl_key_spec_words(s, 1);
			continue;
		}
		if (s->nullable) {
			is_null = s->nullable == 1 ?
				(row[s->null_offset] >> s->null_bit) & 1u : 0;
			out[nw++] = s->nulls_first ? is_null ^ 1u : is_null;
		}
		v = fast_load_le(p, w);
		if (s->col.type == OBL_KEY_INT)
			v ^= (uint64_t)1 << (8 * w - 1);
		else if (s->col.type == OBL_KEY_FLOAT64)
			v = fast_f64_word(v);
		out[nw++] = is_null ? 0 : v ^ flip;
		any_null |= is_null;
	}
	return any_null;
}

/* NOT oblivious: returns at the first differing word. */
int fast_key_cmp(const uint64_t *a, const uint64_t *b, size_t key_words)
{
	size_t i;

	for (i = 0; i < key_words; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* NOT oblivious: the merge order follows the keys. */
void fast_sort_recs(uint8_t *recs, size_t n, size_t rec_size,
		size_t key_words, uint8_t *tmp)
{
	uint8_t *src = recs, *dst = tmp;
	size_t width;

	if (n <= 1)
		return;
	for (width = 1; width < n; width *= 2) {
		size_t lo;

		for (lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi) {
				const uint64_t *a = (const uint64_t *)(const void *)(src + i * rec_size);
				const uint64_t *b = (const uint64_t *)(const void *)(src + j * rec_size);

				if (fast_key_cmp(b, a, key_words) < 0) {
					OBL_TRACE_READ(OBL_BUF_RECS, j);
					memcpy(dst + k++ * rec_size, b, rec_size);
					j++;
				} else {
					OBL_TRACE_READ(OBL_BUF_RECS, i);
					memcpy(dst + k++ * rec_size, a, rec_size);
					i++;
				}
			}
			if (i < mid)
				memcpy(dst + k * rec_size, src + i * rec_size,
					(mid - i) * rec_size);
			k += mid - i;
			if (j < hi)
				memcpy(dst + k * rec_size, src + j * rec_size,
					(hi - j) * rec_size);
		}
		{
			uint8_t *t = src;

			src = dst;
			dst = t;
		}
	}
	if (src != recs)
		memcpy(recs, src, n * rec_size);
}

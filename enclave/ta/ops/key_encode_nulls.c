/*
 * key_encode_nulls.c - NULL-aware key words (see key_encode_nulls.h). The
 * value words come from obl_key_encode itself, one column at a time, so the
 * two encodings cannot drift apart: the column's bytes are gathered into a
 * one-column row and encoded there.
 */
#include "key_encode_nulls.h"

#include <string.h>

#include "../ct.h"

/* One encoded column at most: BYTES of OBL_KEY_MAX_BYTES_WIDTH. */
#define COL_MAX_WORDS ((OBL_KEY_MAX_BYTES_WIDTH + 7) / 8)

/* see key_encode_nulls.h */
int obl_key_spec_check(const struct obl_key_spec *specs, size_t nspecs,
		size_t row_size)
{
	size_t i;

	for (i = 0; i < nspecs; i++) {
		const struct obl_key_spec *s = &specs[i];

		if (obl_key_encode_check(&s->col, 1, row_size) != 0)
			return -1;
		if (s->nullable > OBL_KEY_NEVER_NULL || s->nulls_first > 1 ||
				s->reserved != 0 || s->null_bit > 7)
			return -1;
		if (s->nullable == 1 && (size_t)s->null_offset >= row_size)
			return -1;
	}
	return 0;
}

/* see key_encode_nulls.h */
size_t obl_key_spec_words(const struct obl_key_spec *specs, size_t nspecs)
{
	size_t i, words = 0;

	for (i = 0; i < nspecs; i++) {
		size_t w = obl_key_words_for(&specs[i].col, 1);

		if (w == 0)
			return 0;
		words += w + (specs[i].nullable ? 1 : 0);
	}
	return words;
}

/* see key_encode_nulls.h */
int obl_key_spec_joinable(const struct obl_key_spec *a,
		const struct obl_key_spec *b, size_t nspecs)
{
	size_t i;

	for (i = 0; i < nspecs; i++)
		if (a[i].col.type != b[i].col.type || a[i].col.width != b[i].col.width)
			return 0;
	return 1;
}

/* see key_encode_nulls.h */
void obl_key_spec_join_align(struct obl_key_spec *a, struct obl_key_spec *b,
		size_t nspecs)
{
	size_t i;

	for (i = 0; i < nspecs; i++) {
		if (a[i].nullable == 1 && b[i].nullable == 0) {
			b[i].nullable = OBL_KEY_NEVER_NULL;
			b[i].nulls_first = a[i].nulls_first;
		} else if (b[i].nullable == 1 && a[i].nullable == 0) {
			a[i].nullable = OBL_KEY_NEVER_NULL;
			a[i].nulls_first = b[i].nulls_first;
		} else if (a[i].nullable && b[i].nullable) {
			b[i].nulls_first = a[i].nulls_first;
		}
	}
}

/* see key_encode_nulls.h */
uint32_t obl_row_null_flag(const uint8_t *row, uint32_t null_offset,
		uint8_t null_bit, uint8_t nullable)
{
	if (nullable != 1)
		return 0;
	return (uint32_t)(row[null_offset] >> null_bit) & 1u;
}

/* see key_encode_nulls.h */
uint32_t obl_key_spec_encode_row(const uint8_t *row,
		const struct obl_key_spec *specs, size_t nspecs, uint64_t *out)
{
	uint64_t rec[COL_MAX_WORDS + COL_MAX_WORDS];
	uint8_t col_row[OBL_KEY_MAX_BYTES_WIDTH];
	uint32_t any_null = 0;
	size_t i, nw = 0;

	for (i = 0; i < nspecs; i++) {
		const struct obl_key_spec *s = &specs[i];
		struct obl_key_col c = s->col;
		size_t w, k;
		uint32_t is_null = obl_row_null_flag(row, s->null_offset,
			s->null_bit, s->nullable);

		/* encode the column alone: copy its bytes to offset 0 */
		memcpy(col_row, row + c.offset, c.width);
		c.offset = 0;
		w = obl_key_words_for(&c, 1);
		obl_key_encode(col_row, 1, c.width, &c, 1, (uint8_t *)rec);
		if (s->nullable)
			out[nw++] = s->nulls_first ? (uint64_t)ct_not(is_null)
				: (uint64_t)is_null;
		for (k = 0; k < w; k++)
			out[nw++] = ct_u64_mux(is_null, 0, rec[k]);
		any_null |= is_null;
	}
	return any_null;
}

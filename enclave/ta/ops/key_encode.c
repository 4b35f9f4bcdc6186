/*
 * key_encode.c - typed key columns -> lexicographic uint64 key words (see
 * key_encode.h for the orders). Every byte of every key column is read and
 * transformed the same way whatever its value; only the (public) column
 * list chooses the code path.
 */
#include "key_encode.h"

#include <string.h>

#include "../ct.h"
#include "../trace.h"

#define SIGN64 ((uint64_t)1 << 63)
#define F64_EXP_MASK 0x7ff0000000000000ull

static int width_ok(const struct obl_key_col *c)
{
	switch (c->type) {
	case OBL_KEY_UINT:
	case OBL_KEY_INT:
		return c->width == 1 || c->width == 2 || c->width == 4 ||
			c->width == 8;
	case OBL_KEY_FLOAT64:
		return c->width == 8;
	case OBL_KEY_BYTES:
		return c->width >= 1 && c->width <= OBL_KEY_MAX_BYTES_WIDTH;
	default:
		return 0;
	}
}

/* see key_encode.h */
int obl_key_encode_check(const struct obl_key_col *cols, size_t ncols,
		size_t row_size)
{
	size_t i;

	if (ncols == 0)
		return -1;
	for (i = 0; i < ncols; i++) {
		const struct obl_key_col *c = &cols[i];

		if (!width_ok(c) || c->descending > 1 || c->reserved != 0)
			return -1;
		if ((size_t)c->offset > row_size ||
				(size_t)c->width > row_size - c->offset)
			return -1;
	}
	return 0;
}

/* see key_encode.h */
size_t obl_key_words_for(const struct obl_key_col *cols, size_t ncols)
{
	size_t i, words = 0;

	for (i = 0; i < ncols; i++) {
		if (!width_ok(&cols[i]))
			return 0;
		words += cols[i].type == OBL_KEY_BYTES ?
			(cols[i].width + 7) / 8 : 1;
	}
	return words;
}

/* see key_encode.h */
size_t obl_key_encode_rec_size(size_t key_words, size_t row_size)
{
	return 8 * key_words + (row_size + 7) / 8 * 8;
}

/* Little-endian unsigned integer of width bytes (public width).
 * Leaks: width.  Hides: the value. */
static uint64_t load_le(const uint8_t *p, uint32_t width)
{
	uint64_t v = 0;
	uint32_t b;

	for (b = 0; b < width; b++)
		v |= (uint64_t)p[b] << (8 * b);
	return v;
}

/* Map a binary64 bit pattern to a word whose unsigned order is the order of
 * key_encode.h: -0.0 first becomes +0.0 (Spark compares them equal), then
 * negative numbers (sign set) get all bits inverted, others get the sign bit
 * set; then every NaN (exponent all ones, mantissa not zero) becomes all
 * ones, above +inf (0xfff0...).
 * Leaks: nothing.  Hides: the value. */
static uint64_t float64_word(uint64_t bits)
{
	uint32_t neg_zero = ct_u64_eq(bits, SIGN64);
	uint32_t neg, nan;
	uint64_t w;

	bits = ct_u64_mux(neg_zero, 0, bits);
	neg = (uint32_t)(bits >> 63);
	nan = ct_u64_gt(bits & ~SIGN64, F64_EXP_MASK);
	w = ct_u64_mux(neg, ~bits, bits ^ SIGN64);

	return ct_u64_mux(nan, ~(uint64_t)0, w);
}

/* Key words of one row; returns the number written.
 * Leaks: the column list.  Hides: row contents. */
static size_t encode_row(const uint8_t *row, const struct obl_key_col *cols,
		size_t ncols, uint64_t *out)
{
	size_t c, nw = 0;

	for (c = 0; c < ncols; c++) {
		const uint8_t *p = row + cols[c].offset;
		uint32_t width = cols[c].width;
		uint64_t flip = cols[c].descending ? ~(uint64_t)0 : 0;
		uint32_t k, b;

		switch (cols[c].type) {
		case OBL_KEY_UINT:
			out[nw++] = load_le(p, width) ^ flip;
			break;
		case OBL_KEY_INT:
			/* Flipping the sign bit of a w-byte two's complement
			 * number maps signed order onto unsigned order. */
			out[nw++] = (load_le(p, width) ^
				((uint64_t)1 << (8 * width - 1))) ^ flip;
			break;
		case OBL_KEY_FLOAT64:
			out[nw++] = float64_word(load_le(p, 8)) ^ flip;
			break;
		default: /* OBL_KEY_BYTES: big-endian words, zero padded */
			for (k = 0; k < (width + 7) / 8; k++) {
				uint64_t w = 0;

				for (b = 0; b < 8; b++) {
					uint32_t idx = 8 * k + b;

					w = (w << 8) | (idx < width ? p[idx] : 0);
				}
				out[nw++] = w ^ flip;
			}
			break;
		}
	}
	return nw;
}

/* see key_encode.h */
void obl_key_encode(const uint8_t *rows, size_t n, size_t row_size,
		const struct obl_key_col *cols, size_t ncols, uint8_t *recs)
{
	size_t key_words = obl_key_words_for(cols, ncols);
	size_t rec_size = obl_key_encode_rec_size(key_words, row_size);
	size_t i;

	for (i = 0; i < n; i++) {
		const uint8_t *row = rows + i * row_size;
		uint8_t *rec = recs + i * rec_size;

		OBL_TRACE_READ(OBL_BUF_ROWS, i);
		encode_row(row, cols, ncols, (uint64_t *)(void *)rec);
		memcpy(rec + 8 * key_words, row, row_size);
		memset(rec + 8 * key_words + row_size, 0,
			rec_size - 8 * key_words - row_size);
		OBL_TRACE_WRITE(OBL_BUF_RECS, i);
	}
}

/* see key_encode.h */
void obl_key_encode_strip(const uint8_t *recs, size_t n, size_t key_words,
		size_t row_size, uint8_t *rows)
{
	size_t rec_size = obl_key_encode_rec_size(key_words, row_size);
	size_t i;

	for (i = 0; i < n; i++) {
		OBL_TRACE_READ(OBL_BUF_RECS, i);
		memcpy(rows + i * row_size, recs + i * rec_size + 8 * key_words,
			row_size);
		OBL_TRACE_WRITE(OBL_BUF_ROWS, i);
	}
}

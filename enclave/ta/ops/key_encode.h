/*
 * key_encode.h - turn typed key columns of fixed-width rows into sort keys:
 * arrays of uint64 words whose unsigned lexicographic order (word 0 most
 * significant; ct_key_lt in ct.h) is the requested row order.
 *
 * A "sort record" is [key words | row bytes, zero padded to a multiple of 8]:
 * obl_key_encode builds them, obl_sort_bitonic sorts them by their leading
 * key words, obl_key_encode_strip gives the rows back.
 */
#ifndef TEESPARK_OPS_KEY_ENCODE_H
#define TEESPARK_OPS_KEY_ENCODE_H

#include <stddef.h>
#include <stdint.h>

/* Column types. Same numbers and meaning as TS_KEY_* in teespark_ta.h (a
 * test checks they agree), so the TA's sort command can copy the request's
 * struct ts_sort_key fields into struct obl_key_col one to one. */
#define OBL_KEY_UINT 1      /* unsigned little-endian integer, width 1, 2, 4 or 8 */
#define OBL_KEY_INT 2       /* two's complement little-endian, width 1, 2, 4 or 8 */
#define OBL_KEY_FLOAT64 3   /* IEEE-754 binary64, width 8 */
#define OBL_KEY_BYTES 4     /* byte string, width 1..256 */

#define OBL_KEY_MAX_BYTES_WIDTH 256

/*
 * One key column; same fields, order and layout as struct ts_sort_key.
 * Order per type (ascending; descending = the exact reverse, NaN first):
 *   UINT:    numeric.
 *   INT:     numeric (signed).
 *   FLOAT64: Spark SQL's order for doubles (SQLOrderingUtil.compareDoubles):
 *            -inf < ... < -0.0 == +0.0 < ... < +inf < NaN, all NaNs equal.
 *   BYTES:   lexicographic by unsigned byte value over the full width (a
 *            shorter string padded with zero bytes equals itself padded).
 * Several columns compare lexicographically in the order given.
 */
struct obl_key_col {
	uint16_t type;          /* OBL_KEY_* */
	uint16_t descending;    /* 0 = ascending, 1 = descending */
	uint32_t offset;        /* byte offset of the column in the row */
	uint32_t width;         /* bytes */
	uint32_t reserved;      /* must be 0 */
};

/*
 * Check a column list against a row size: 1 <= ncols, known types, widths
 * allowed for the type, descending 0 or 1, reserved 0, offset + width <=
 * row_size. Returns 0 if valid, -1 if not. Public parameters only.
 */
int obl_key_encode_check(const struct obl_key_col *cols, size_t ncols,
		size_t row_size);

/*
 * Number of key words the columns encode to: one per UINT/INT/FLOAT64
 * column, ceil(width / 8) per BYTES column. 0 if obl_key_encode_check
 * fails for an unlimited row size (bad type or width).
 */
size_t obl_key_words_for(const struct obl_key_col *cols, size_t ncols);

/* Bytes per sort record: 8 * key_words + row_size rounded up to 8. */
size_t obl_key_encode_rec_size(size_t key_words, size_t row_size);

/*
 * Write n sort records into recs (n * obl_key_encode_rec_size(...) bytes,
 * 8-byte aligned) from n rows of row_size bytes. cols must pass
 * obl_key_encode_check. Padding bytes are zero.
 * Leaks: n, row_size, the column list.  Hides: row contents, keys.
 */
void obl_key_encode(const uint8_t *rows, size_t n, size_t row_size,
		const struct obl_key_col *cols, size_t ncols, uint8_t *recs);

/*
 * Inverse of obl_key_encode: copy the row part of n sort records back into
 * n rows of row_size bytes (the key words are dropped).
 * Leaks: n, key_words, row_size.  Hides: row contents.
 */
void obl_key_encode_strip(const uint8_t *recs, size_t n, size_t key_words,
		size_t row_size, uint8_t *rows);

#endif /* TEESPARK_OPS_KEY_ENCODE_H */

/*
 * key_encode_nulls.h - key columns with SQL NULLs and a NULL ordering, on
 * top of key_encode.h (whose API is unchanged).
 *
 * A nullable key column encodes to one null-order word followed by the
 * column's key_encode words:
 *
 *   null word  = is_null      if NULLs sort last   (0 for values, 1 for NULL)
 *              = !is_null     if NULLs sort first  (0 for NULL, 1 for values)
 *   value words = the obl_key_encode words of the column (descending
 *                 applied as there), all forced to 0 when the value is NULL
 *
 * so every NULL of a column encodes the same whatever bytes the row holds
 * there (NULL keys form one group in GROUP BY and DISTINCT), and the null
 * word orders NULLs before or after every value independently of the
 * direction, as SQL's NULLS FIRST / NULLS LAST. A non-nullable column
 * encodes to its key_encode words only. Joins must never match NULL keys:
 * obl_key_spec_encode_row returns whether any key column is NULL so the
 * join operators can exclude the row (SQL equality with NULL is unknown).
 *
 * The null flag lives in the row's null bitmap: bit null_bit of byte
 * null_offset, set = NULL.
 */
#ifndef TEESPARK_OPS_KEY_ENCODE_NULLS_H
#define TEESPARK_OPS_KEY_ENCODE_NULLS_H

#include <stddef.h>
#include <stdint.h>

#include "key_encode.h"

struct obl_key_spec {
	struct obl_key_col col;   /* type, descending, offset, width (key_encode.h) */
	uint32_t null_offset;     /* byte of the null bitmap holding the flag */
	uint8_t null_bit;         /* 0..7, 0 = least significant */
	uint8_t nullable;         /* 0: no null word, the flag is not read;
				   * OBL_KEY_NEVER_NULL: a null word, always
				   * "not NULL" (set by obl_key_spec_join_align,
				   * never accepted from a request) */
	uint8_t nulls_first;      /* 1: NULLS FIRST, 0: NULLS LAST */
	uint8_t reserved;         /* must be 0 */
};

/* Check a spec list against a row size (nspecs may be 0: no key). Columns
 * as obl_key_encode_check; nullable 0, 1 or OBL_KEY_NEVER_NULL, nulls_first
 * 0 or 1; null_bit < 8; null_offset < row_size when nullable is 1. 0 if valid, -1 if not.
 * Public parameters only. */
int obl_key_spec_check(const struct obl_key_spec *specs, size_t nspecs,
		size_t row_size);

/* Key words of the spec list (0 for an invalid column or nspecs == 0). */
size_t obl_key_spec_words(const struct obl_key_spec *specs, size_t nspecs);

/* Two spec lists can be compared word for word (join keys): same count,
 * same type and width per column. Nullability and direction may differ
 * (joins ignore direction; NULL rows never match). 1 if so, else 0. */
int obl_key_spec_joinable(const struct obl_key_spec *a,
		const struct obl_key_spec *b, size_t nspecs);

#define OBL_KEY_NEVER_NULL 2

/* Make two checked join key lists encode to the same words: where one
 * side's column is nullable and the other's is not, the other gets a null
 * word that always says "not NULL" (OBL_KEY_NEVER_NULL) with the same
 * NULLS FIRST/LAST, so equal values encode equally on both sides.
 * Leaks: nothing secret (specs are public).  Hides: nothing. */
void obl_key_spec_join_align(struct obl_key_spec *a, struct obl_key_spec *b,
		size_t nspecs);

/*
 * Write the obl_key_spec_words(specs, nspecs) key words of one row to out
 * and return a ctl: 1 iff some key column of the row is NULL. specs must
 * pass obl_key_spec_check for the row's size.
 * Leaks: the spec list.  Hides: row contents, keys, which columns are NULL.
 */
uint32_t obl_key_spec_encode_row(const uint8_t *row,
		const struct obl_key_spec *specs, size_t nspecs, uint64_t *out);

/* NULL flag of a row (bit null_bit of byte null_offset) as a ctl; 0 if
 * not nullable (public).
 * Leaks: the offsets.  Hides: the flag. */
uint32_t obl_row_null_flag(const uint8_t *row, uint32_t null_offset,
		uint8_t null_bit, uint8_t nullable);

#endif /* TEESPARK_OPS_KEY_ENCODE_NULLS_H */

/*
 * ct_key_encode.c - ctgrind: obl_key_encode (every column type, both
 * directions, odd offsets) and obl_key_encode_strip with secret rows. The
 * column list is public.
 */
#include "harness.h"

#include <stdlib.h>

#include "../../ta/ops/key_encode.h"

const char ct_program_name[] = "ct_key_encode";

void ct_run(void)
{
	/* row: u8@0 i16@1 f64@3 u32@11 i64@15 bytes13@23 u64@36 i8@44 bytes256@45 */
	static const struct obl_key_col cols[] = {
		{ OBL_KEY_UINT, 0, 0, 1, 0 },
		{ OBL_KEY_INT, 1, 1, 2, 0 },
		{ OBL_KEY_FLOAT64, 0, 3, 8, 0 },
		{ OBL_KEY_UINT, 1, 11, 4, 0 },
		{ OBL_KEY_INT, 0, 15, 8, 0 },
		{ OBL_KEY_BYTES, 1, 23, 13, 0 },
		{ OBL_KEY_UINT, 0, 36, 8, 0 },
		{ OBL_KEY_INT, 1, 44, 1, 0 },
		{ OBL_KEY_BYTES, 0, 45, 256, 0 },
		{ OBL_KEY_FLOAT64, 1, 3, 8, 0 },
	};
	const size_t ncols = sizeof(cols) / sizeof(cols[0]), row_size = 301;
	size_t kw = obl_key_words_for(cols, ncols);
	size_t rs = obl_key_encode_rec_size(kw, row_size);
	size_t k, i;

	for (k = 0; k < ct_sizes_count; k++) {
		size_t n = ct_sizes[k] > 100 ? 100 : ct_sizes[k];
		uint8_t *rows = ct_alloc(n * row_size), *recs = ct_alloc(n * rs);

		ct_fill(rows, n * row_size);
		/* some NaNs, infinities and zeros among the doubles */
		for (i = 0; i < n; i++)
			rows[i * row_size + 10] = (uint8_t)(ct_rand() & 1 ? 0x7f : 0xff);
		CT_SECRET(rows, n * row_size);
		obl_key_encode(rows, n, row_size, cols, ncols, recs);
		ct_sink(recs, n * rs);
		obl_key_encode_strip(recs, n, kw, row_size, rows);
		ct_sink(rows, n * row_size);
		free(rows);
		free(recs);
	}
}

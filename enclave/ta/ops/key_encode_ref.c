/*
 * key_encode_ref.c - NOT constant-time: compares typed column values with
 * ordinary C comparisons (branches on data). Reference for tests only; it
 * shares no code with key_encode.c, so the two check each other.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref.h"

static uint64_t get_u(const uint8_t *p, uint32_t width)
{
	uint8_t b1;
	uint16_t b2;
	uint32_t b4;
	uint64_t b8;

	switch (width) {
	case 1: memcpy(&b1, p, 1); return b1;
	case 2: memcpy(&b2, p, 2); return b2;
	case 4: memcpy(&b4, p, 4); return b4;
	default: memcpy(&b8, p, 8); return b8;
	}
}

static int64_t get_i(const uint8_t *p, uint32_t width)
{
	int8_t b1;
	int16_t b2;
	int32_t b4;
	int64_t b8;

	switch (width) {
	case 1: memcpy(&b1, p, 1); return b1;
	case 2: memcpy(&b2, p, 2); return b2;
	case 4: memcpy(&b4, p, 4); return b4;
	default: memcpy(&b8, p, 8); return b8;
	}
}

/* Spark SQL's double order: -inf < ... < -0.0 == +0.0 < ... < +inf < NaN,
 * all NaNs equal. */
static int cmp_f64(double x, double y)
{
	int xn = isnan(x), yn = isnan(y);

	if (xn || yn)
		return xn - yn;
	if (x < y)
		return -1;
	if (x > y)
		return 1;
	return 0;  /* equal, including -0.0 == +0.0 */
}

int ref_key_cmp_rows(const uint8_t *a, const uint8_t *b,
		const struct obl_key_col *cols, size_t ncols)
{
	size_t c;

	for (c = 0; c < ncols; c++) {
		const uint8_t *pa = a + cols[c].offset, *pb = b + cols[c].offset;
		int r = 0;

		switch (cols[c].type) {
		case OBL_KEY_UINT: {
			uint64_t x = get_u(pa, cols[c].width), y = get_u(pb, cols[c].width);

			r = (x > y) - (x < y);
			break;
		}
		case OBL_KEY_INT: {
			int64_t x = get_i(pa, cols[c].width), y = get_i(pb, cols[c].width);

			r = (x > y) - (x < y);
			break;
		}
		case OBL_KEY_FLOAT64: {
			double x, y;

			memcpy(&x, pa, 8);
			memcpy(&y, pb, 8);
			r = cmp_f64(x, y);
			break;
		}
		default:
			r = memcmp(pa, pb, cols[c].width);
			r = (r > 0) - (r < 0);
			break;
		}
		if (cols[c].descending)
			r = -r;
		if (r != 0)
			return r;
	}
	return 0;
}

struct sort_ctx {
	const struct obl_key_col *cols;
	size_t ncols;
};

static int cmp_rows(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *ctx = arg;

	return ref_key_cmp_rows(a, b, ctx->cols, ctx->ncols);
}

void ref_key_sort_rows(uint8_t *rows, size_t n, size_t row_size,
		const struct obl_key_col *cols, size_t ncols)
{
	struct sort_ctx ctx = { cols, ncols };

	if (n > 1)
		qsort_r(rows, n, row_size, cmp_rows, &ctx);
}

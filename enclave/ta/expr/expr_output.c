/*
 * expr_output.c - what operators do with a result column: PROJECT writes it
 * into output rows (docs/FORMAT.md row encoding), FILTER turns it into keep
 * ctls for ops/compact_or.h.
 */
#include "expr_internal.h"

/* see expr.h */
int ts_expr_write_column(const struct ts_expr_col *col, uint8_t *out_rows,
		size_t out_row_size, size_t offset, uint32_t null_bit)
{
	uint32_t w;
	size_t i;

	if (col == NULL || (out_rows == NULL && col->nrows != 0))
		return TS_EXPR_E_ARG;
	w = ts_expr_stored_width(&col->type);
	if (w == 0)
		return TS_EXPR_E_NOT_STORABLE;
	if (offset > out_row_size || w > out_row_size - offset)
		return TS_EXPR_E_OFFSET;
	if (null_bit != TS_EXPR_NOT_NULLABLE && null_bit / 8 >= out_row_size)
		return TS_EXPR_E_OFFSET;
	if (null_bit != TS_EXPR_NOT_NULLABLE && null_bit / 8 >= offset &&
	    null_bit / 8 < offset + w)
		return TS_EXPR_E_OFFSET;

	for (i = 0; i < col->nrows; i++) {
		uint8_t *row = out_rows + i * out_row_size;
		uint8_t *dst = row + offset;
		const uint8_t *v = col->values + col->elem_size * i;
		uint32_t isnull = col->nulls[i] & 1u;
		uint8_t keep = (uint8_t)(0u - ct_not(isnull));
		uint8_t tmp[16];
		uint32_t k;

		OBL_TRACE_WRITE(OBL_BUF_OUT, i);
		switch (col->type.kind) {
		case TS_T_INT32:
		case TS_T_DATE:
			memcpy(tmp, v, 4);   /* low half of the int64, LE */
			break;
		case TS_T_DECIMAL:
			memcpy(tmp, v, 8);   /* |v| < 10^18: the int64 is exact */
			break;
		case TS_T_STRING:
			for (k = 0; k < w; k++)
				dst[k] = v[k] & keep;
			break;
		default:
			memcpy(tmp, v, w);
			break;
		}
		if (col->type.kind != TS_T_STRING)
			for (k = 0; k < w; k++)
				dst[k] = tmp[k] & keep;
		if (null_bit != TS_EXPR_NOT_NULLABLE) {
			uint8_t *nb = row + null_bit / 8;
			uint8_t bit = (uint8_t)(1u << (null_bit % 8));

			*nb = (uint8_t)((*nb & (uint8_t)~bit) |
					(uint8_t)(bit & (uint8_t)(0u - isnull)));
		}
	}
	return TS_EXPR_OK;
}

/* see expr.h */
int ts_expr_filter_ctl(const struct ts_expr_col *col, uint32_t *keep)
{
	size_t i;

	if (col == NULL || (keep == NULL && col->nrows != 0))
		return TS_EXPR_E_ARG;
	if (col->type.kind != TS_T_BOOL)
		return TS_EXPR_E_OPERAND_TYPE;
	for (i = 0; i < col->nrows; i++) {
		keep[i] = (col->values[i] & 1u) & ct_not(col->nulls[i] & 1u);
		OBL_TRACE_WRITE(OBL_BUF_CTL, i);
	}
	return TS_EXPR_OK;
}

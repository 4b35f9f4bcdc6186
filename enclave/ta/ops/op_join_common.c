/*
 * op_join_common.c - parameter checks shared by the join operators (see
 * op_join.h). Public parameters only.
 */
#include "op_join.h"

size_t obl_join_out_row_size(size_t left_row_size, size_t right_row_size)
{
	return left_row_size + right_row_size;
}

int obl_join_check(const struct obl_table *left, const struct obl_key_spec *lkeys,
		const struct obl_table *right, const struct obl_key_spec *rkeys,
		size_t nkeys)
{
	if (nkeys == 0 || left->row_size == 0 || right->row_size == 0)
		return -1;
	if (left->n > UINT32_MAX / 2 || right->n > UINT32_MAX / 2)
		return -1;
	if (obl_key_spec_check(lkeys, nkeys, left->row_size) != 0 ||
			obl_key_spec_check(rkeys, nkeys, right->row_size) != 0)
		return -1;
	if (!obl_key_spec_joinable(lkeys, rkeys, nkeys))
		return -1;
	return obl_key_spec_words(lkeys, nkeys) == 0 ? -1 : 0;
}

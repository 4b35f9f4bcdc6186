/*
 * op_sort.c - obl_sort_rows (see op_sort.h), and the record builder shared
 * with op_limit.c. Record layout (op_common.h): key words [dummy flag |
 * key], no aux words, then the row.
 */
#include "op_sort.h"

#include <string.h>

#include "../ct.h"
#include "../trace.h"
#include "op_sort_recs.h"
#include "sort_bitonic.h"

/* see op_sort_recs.h */
void obl_sort_recs_layout(struct obl_rec_layout *l, size_t row_size,
		const struct obl_key_spec *keys, size_t nkeys)
{
	obl_rec_layout_init(l, 1 + obl_key_spec_words(keys, nkeys), 0, row_size);
}

/* see op_sort_recs.h */
void obl_sort_recs_build(uint8_t *recs, const struct obl_rec_layout *l,
		size_t first, const struct obl_table *in, size_t from, size_t count,
		const struct obl_key_spec *keys, size_t nkeys)
{
	size_t i;

	for (i = 0; i < count; i++) {
		uint64_t *w = obl_rec_words(recs, l, first + i);
		const uint8_t *row = in->rows + (from + i) * in->row_size;

		OBL_TRACE_READ(OBL_BUF_ROWS, from + i);
		w[0] = ct_not(obl_table_real(in, from + i));
		(void)obl_key_spec_encode_row(row, keys, nkeys, w + 1);
		memcpy(obl_rec_row(recs, l, first + i), row, in->row_size);
		OBL_TRACE_WRITE(OBL_BUF_RECS, first + i);
	}
}

/* see op_sort_recs.h */
uint64_t obl_sort_recs_emit(const uint8_t *recs, const struct obl_rec_layout *l,
		size_t n, uint8_t *out, uint32_t *out_is_real, size_t cap)
{
	size_t i;
	uint64_t real = 0;

	for (i = 0; i < cap; i++) {
		uint32_t is_real = 0;

		if (i < n) {
			const uint8_t *rec = recs + i * l->rec_size;
			uint64_t w0;

			OBL_TRACE_READ(OBL_BUF_RECS, i);
			memcpy(&w0, rec, 8);
			is_real = ct_not((uint32_t)w0 & 1u);
			memcpy(out + i * l->row_size,
				rec + 8 * (l->key_words + l->aux_words), l->row_size);
		} else {
			memset(out + i * l->row_size, 0, l->row_size);
		}
		out_is_real[i] = is_real;
		real += is_real;
		OBL_TRACE_WRITE(OBL_BUF_OUT, i);
	}
	obl_zero_dummies(out, cap, l->row_size, out_is_real);
	return real;
}

size_t obl_sort_rows_work_bytes(size_t n, size_t row_size,
		const struct obl_key_spec *keys, size_t nkeys)
{
	struct obl_rec_layout l;

	obl_sort_recs_layout(&l, row_size, keys, nkeys);
	return obl_arena_cost(n * l.rec_size);
}

/* see op_sort.h */
int obl_sort_rows(const struct obl_table *in, const struct obl_key_spec *keys,
		size_t nkeys, uint8_t *out, uint32_t *out_is_real, uint64_t *m,
		struct obl_arena *arena)
{
	size_t mark = arena->used;
	struct obl_rec_layout l;
	uint8_t *recs;

	if (in->row_size == 0 || nkeys == 0 ||
			obl_key_spec_check(keys, nkeys, in->row_size) != 0 ||
			obl_key_spec_words(keys, nkeys) == 0)
		return OBL_ERR_PARAM;
	obl_sort_recs_layout(&l, in->row_size, keys, nkeys);
	recs = obl_arena_alloc(arena, in->n * l.rec_size);
	if (in->n > 0 && recs == NULL)
		return OBL_ERR_NOMEM;
	obl_sort_recs_build(recs, &l, 0, in, 0, in->n, keys, nkeys);
	obl_sort_bitonic(recs, in->n, l.rec_size, l.key_words);
	*m = obl_sort_recs_emit(recs, &l, in->n, out, out_is_real, in->n);
	arena->used = mark;
	return OBL_OK;
}

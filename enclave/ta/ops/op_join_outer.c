/*
 * op_join_outer.c - obl_join_general_left_outer_finish: LEFT OUTER JOIN as
 * the general inner join plus the left anti join, compacted together (see
 * op_join.h).
 */
#include "op_join.h"

#include <string.h>

#include "../ct.h"
#include "../trace.h"
#include "compact_or.h"

size_t obl_join_left_outer_finish_work_bytes(const struct obl_join_general *j,
		uint64_t m_public)
{
	size_t total = (size_t)m_public + j->n1;
	size_t inner = obl_join_general_finish_work_bytes(j, m_public);
	size_t anti = obl_join_semi_work_bytes(j->n1, j->rs1, j->n2, j->key_words) +
		obl_arena_cost(j->n1 * j->rs1) + obl_arena_cost(j->n1 * 4);

	return (inner > anti ? inner : anti) + 3 * obl_arena_cost(total * 4);
}

/* see op_join.h */
int obl_join_general_left_outer_finish(struct obl_join_general *j,
		uint64_t m_public,
		const struct obl_table *left, const struct obl_key_spec *lkeys,
		const struct obl_table *right, const struct obl_key_spec *rkeys,
		size_t nkeys, uint8_t *out, uint32_t *out_is_real,
		uint32_t *right_is_null, uint64_t *m_out)
{
	struct obl_arena *arena = j->arena;
	size_t m = (size_t)m_public, n1 = j->n1, rs1 = j->rs1, rs2 = j->rs2;
	size_t orow = rs1 + rs2, total = m + n1, mark, i;
	uint64_t m_inner = 0, m_anti = 0;
	uint32_t *rnull, *keep, *keep2, *anti_real;
	uint8_t *anti_rows;
	int rc;

	if (left->n != j->n1 || right->n != j->n2 || left->row_size != rs1 ||
			right->row_size != rs2) {
		obl_join_general_abort(j);
		return OBL_ERR_PARAM;
	}
	rc = obl_join_general_finish(j, m_public, NULL, out, out_is_real, &m_inner);
	if (rc != OBL_OK)
		return rc;
	/* finish returned the arena to where begin found it */
	mark = arena->used;
	rnull = obl_arena_alloc(arena, total * 4);
	keep = obl_arena_alloc(arena, total * 4);
	keep2 = obl_arena_alloc(arena, total * 4);
	anti_rows = obl_arena_alloc(arena, n1 * rs1);
	anti_real = obl_arena_alloc(arena, n1 * 4);
	if (total > 0 && (rnull == NULL || keep == NULL || keep2 == NULL)) {
		arena->used = mark;
		return OBL_ERR_NOMEM;
	}
	if (n1 > 0 && (anti_rows == NULL || anti_real == NULL)) {
		arena->used = mark;
		return OBL_ERR_NOMEM;
	}
	rc = obl_join_semi(left, lkeys, right, rkeys, nkeys, OBL_JOIN_LEFT_ANTI,
		anti_rows, anti_real, n1, &m_anti, arena);
	if (rc != OBL_OK) {
		arena->used = mark;
		return rc;
	}
	for (i = 0; i < m; i++) {
		rnull[i] = 0;
		keep[i] = out_is_real[i];
		OBL_TRACE_WRITE(OBL_BUF_CTL, i);
	}
	for (i = 0; i < n1; i++) {
		uint8_t *o = out + (m + i) * orow;

		OBL_TRACE_READ(OBL_BUF_ROWS, i);
		memcpy(o, anti_rows + i * rs1, rs1);
		memset(o + rs1, 0, rs2);
		keep[m + i] = anti_real[i];
		rnull[m + i] = 1;
		OBL_TRACE_WRITE(OBL_BUF_OUT, m + i);
	}
	for (i = 0; i < total; i++)
		keep2[i] = keep[i];
	(void)obl_compact(out, total, orow, keep);
	(void)obl_compact((uint8_t *)rnull, total, 4, keep2);
	for (i = 0; i < total; i++) {
		out_is_real[i] = keep[i];
		right_is_null[i] = rnull[i] & keep[i];
		OBL_TRACE_WRITE(OBL_BUF_OUT, i);
	}
	obl_zero_dummies(out, total, orow, out_is_real);
	*m_out = m_inner + m_anti;
	arena->used = mark;
	return OBL_OK;
}

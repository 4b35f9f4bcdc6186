/*
 * op_join.h - equi-joins: inner (many-to-many and primary-key/foreign-key),
 * left outer, left semi and left anti, with an optional residual
 * (non-equi) condition.
 *
 * Keys: nkeys >= 1 key specs per side (key_encode_nulls.h), pairwise of the
 * same type and width (obl_key_spec_joinable); direction and NULL order are
 * ignored. SQL: a row with a NULL in any key column matches nothing (it is
 * still kept by LEFT OUTER and LEFT ANTI). FLOAT64 keys match with Spark's
 * normalisation (-0.0 = +0.0, NaN = NaN). Dummy input rows (is_real 0)
 * match nothing and produce nothing.
 *
 * Output rows:
 *   inner, left outer:  [ left row (left->row_size bytes) |
 *                         right row (right->row_size bytes) ]
 *                       (no padding: obl_join_out_row_size bytes);
 *                       for a left-outer row without a match the right part
 *                       is all zero and right_is_null[i] = 1 (the caller
 *                       sets the right columns' NULL bits in its format);
 *   semi, anti:         the left row.
 * Output order is unspecified (grouped by key in the oblivious versions).
 *
 * Residual: a struct obl_keep_fn evaluated on joined rows ([left | right]);
 * inner joins keep a pair iff it is true; in the PK-FK left outer join a
 * pair failing it counts as no match (ON-clause semantics).
 */
#ifndef TEESPARK_OPS_OP_JOIN_H
#define TEESPARK_OPS_OP_JOIN_H

#include <stddef.h>
#include <stdint.h>

#include "key_encode_nulls.h"
#include "op_common.h"

enum obl_join_kind {
	OBL_JOIN_INNER = 0,
	OBL_JOIN_LEFT_OUTER = 1,
	OBL_JOIN_LEFT_SEMI = 2,
	OBL_JOIN_LEFT_ANTI = 3
};

/* Which side holds the primary key (unique among real, non-NULL keys). */
enum obl_pk_side {
	OBL_PK_LEFT = 0,
	OBL_PK_RIGHT = 1
};

/* Bytes of one inner / outer output row: left + right row sizes. */
size_t obl_join_out_row_size(size_t left_row_size, size_t right_row_size);

/* Check both key lists (valid for their row sizes, joinable, nkeys >= 1).
 * 0 if valid, -1 if not. Public parameters only. */
int obl_join_check(const struct obl_table *left, const struct obl_key_spec *lkeys,
		const struct obl_table *right, const struct obl_key_spec *rkeys,
		size_t nkeys);

/* ------------------------------------------------------------------------ */
/* Primary-key / foreign-key join (Opaque, NSDI 2017)                        */
/* ------------------------------------------------------------------------ */

/*
 * Inner join, or left outer join with the foreign-key side on the left,
 * when one side's keys are unique (pk_side). Algorithm: one table of
 * n_PK + n_FK records [excluded flag | key | table id | is_real | row]
 * (the flags and the key bit-packed into key words + 1 words),
 * obl_sort_bitonic by (excluded, key, PK before FK), one scan carrying the
 * last primary row forward with ct_copy (each FK row is joined to it iff
 * the keys are equal), the residual, then obl_compact. Every FK row
 * produces at most one output row, so m <= n_FK and cap = n_FK never
 * truncates.
 *   kind OBL_JOIN_INNER: out[0..m) are the matching pairs; *m SECRET.
 *   kind OBL_JOIN_LEFT_OUTER (requires pk_side OBL_PK_RIGHT): one row per
 *     real left (FK) row, right part zero and right_is_null 1 where
 *     nothing (or nothing passing the residual) matches; *m is the number
 *     of real left rows (public when left->is_real is NULL).
 * right_is_null may be NULL for inner joins. *pk_dup is a SECRET ctl: 1
 * iff two real primary rows share a non-NULL key (then the result is
 * wrong: the caller should declassify it and fail, or use
 * obl_join_general). Output: cap slots, out_is_real, zero dummies.
 * Work: obl_join_pkfk_work_bytes(...).
 * Leaks: n_PK, n_FK, both row sizes, nkeys and the key types, cap, kind,
 * pk_side.  Hides: keys, which rows match, m (until declassified),
 * whether keys are NULL, row contents.
 */
int obl_join_pkfk(const struct obl_table *left, const struct obl_key_spec *lkeys,
		const struct obl_table *right, const struct obl_key_spec *rkeys,
		size_t nkeys, enum obl_pk_side pk_side, enum obl_join_kind kind,
		const struct obl_keep_fn *residual,
		uint8_t *out, uint32_t *out_is_real, uint32_t *right_is_null,
		size_t cap, uint64_t *m, uint32_t *pk_dup, struct obl_arena *arena);
size_t obl_join_pkfk_work_bytes(size_t n_left, size_t left_row_size,
		size_t n_right, size_t right_row_size, size_t key_words);

/* ------------------------------------------------------------------------ */
/* General (many-to-many) inner join (Krastnikov et al., VLDB 2020)          */
/* ------------------------------------------------------------------------ */

/*
 * State kept between obl_join_general_begin and _finish: public sizes,
 * pointers into the caller's arena, and m, the SECRET output size.
 */
struct obl_join_general {
	size_t n1, n2;              /* left and right row counts */
	size_t rs1, rs2;            /* left and right row sizes */
	size_t key_words;           /* encoded key words (without flags) */
	size_t rec_size;            /* internal record bytes */
	uint8_t *t1, *t2;           /* augmented left / right records */
	uint64_t m;                 /* SECRET: number of matching pairs */
	struct obl_arena *arena;
	size_t arena_mark;          /* arena->used before begin */
};

/*
 * Phase 1, augment: records of both tables [excluded | key | table id |
 * alpha1 | alpha2 | row], obl_sort_bitonic by (excluded, key, table id),
 * a forward segmented count and a backward pass give every row its group's
 * alpha1 (left rows with that key) and alpha2 (right rows); j->m = sum of
 * alpha2 over left rows (SECRET). Two order-preserving compactions then
 * split the table into the left rows and the right rows, each in key
 * order. The arena keeps both until _finish (or _abort).
 * Leaks: n1, n2, row sizes, the key types.  Hides: keys, multiplicities,
 * the matching pattern, m.
 */
int obl_join_general_begin(struct obl_join_general *j,
		const struct obl_table *left, const struct obl_key_spec *lkeys,
		const struct obl_table *right, const struct obl_key_spec *rkeys,
		size_t nkeys, struct obl_arena *arena);

/*
 * Phase 2, after the caller declassified m = j->m (it passes it back as
 * m_public; the output buffer has m_public rows of obl_join_out_row_size
 * bytes): obl_expand the left rows by alpha2 and the right rows by
 * alpha1, align the right copies (within a group of alpha1 x alpha2 pairs,
 * copy i of right row b goes to position i * alpha2 + b; the position is
 * tracked with counters, no division) with one obl_sort_bitonic of m
 * records, zip. With a residual, out is compacted by it: out[0..*m_out)
 * are the pairs that pass, *m_out SECRET; without one *m_out = m. Frees
 * the arena back to where begin found it.
 * Work: begin takes obl_join_general_begin_work_bytes(...) and keeps two
 * record tables of it; finish needs obl_join_general_finish_work_bytes(j,
 * m) more (obl_join_left_outer_finish_work_bytes for the outer join), and
 * returns OBL_ERR_NOMEM if it does not fit; finish always releases the
 * state (as _abort does), so a retry starts again with begin.
 * Leaks: n1, n2, m, row sizes, the key types.  Hides: keys, multiplicities,
 * which rows match, *m_out.
 */
int obl_join_general_finish(struct obl_join_general *j, uint64_t m_public,
		const struct obl_keep_fn *residual, uint8_t *out,
		uint32_t *out_is_real, uint64_t *m_out);
void obl_join_general_abort(struct obl_join_general *j);
size_t obl_join_general_begin_work_bytes(size_t n1, size_t rs1, size_t n2,
		size_t rs2, size_t key_words);
size_t obl_join_general_finish_work_bytes(const struct obl_join_general *j,
		uint64_t m_public);

/*
 * General left outer join, the composition of the inner join above and a
 * left anti join: call obl_join_general_begin, declassify j->m, then this.
 * out has m_public + left->n slots: the inner pairs, then every real left
 * row without a match ([left | zeros], right_is_null 1), compacted so the
 * *m_out real rows come first (SECRET *m_out = m + number of unmatched
 * left rows). No residual (use the PK-FK path or filter the inner join).
 * left/lkeys/right/rkeys must be the tables given to begin.
 * Leaks: n1, n2, m, row sizes, the key types.  Hides: keys, which rows
 * match, the number of unmatched left rows.
 */
int obl_join_general_left_outer_finish(struct obl_join_general *j,
		uint64_t m_public,
		const struct obl_table *left, const struct obl_key_spec *lkeys,
		const struct obl_table *right, const struct obl_key_spec *rkeys,
		size_t nkeys, uint8_t *out, uint32_t *out_is_real,
		uint32_t *right_is_null, uint64_t *m_out);
size_t obl_join_left_outer_finish_work_bytes(const struct obl_join_general *j,
		uint64_t m_public);

/* ------------------------------------------------------------------------ */
/* Left semi / left anti join                                                */
/* ------------------------------------------------------------------------ */

/*
 * kind OBL_JOIN_LEFT_SEMI: the real left rows with at least one matching
 * right row; OBL_JOIN_LEFT_ANTI: the real left rows with none (NULL keys
 * included: NOT EXISTS semantics, not NOT IN). Each left row appears at
 * most once. Algorithm: one table [excluded | key | side (right first) |
 * is_real | left row], obl_sort_bitonic, one scan remembering the last
 * right key, obl_compact. out: cap slots of left rows; *m SECRET; cap =
 * left->n never truncates.
 * Leaks: n1, n2, row sizes, the key types, cap.  Hides: keys, which rows
 * match, m.
 */
int obl_join_semi(const struct obl_table *left, const struct obl_key_spec *lkeys,
		const struct obl_table *right, const struct obl_key_spec *rkeys,
		size_t nkeys, enum obl_join_kind kind, uint8_t *out,
		uint32_t *out_is_real, size_t cap, uint64_t *m,
		struct obl_arena *arena);
size_t obl_join_semi_work_bytes(size_t n1, size_t rs1, size_t n2,
		size_t key_words);

/* ------------------------------------------------------------------------ */
/* Encrypted mode                                                            */
/* ------------------------------------------------------------------------ */

/*
 * Every join kind, many-to-many, by merge-sorting both sides on (excluded,
 * key) and merging, the residual evaluated per pair. Same output formats;
 * *m is the full result size even when it exceeds cap (then only cap rows
 * are written: call again with a larger cap). right_is_null may be NULL
 * except for LEFT_OUTER.
 * Work: op_join_fast_work_bytes(...).
 * NOT oblivious: leaks access patterns (which rows match, group sizes).
 */
int op_join_fast(const struct obl_table *left, const struct obl_key_spec *lkeys,
		const struct obl_table *right, const struct obl_key_spec *rkeys,
		size_t nkeys, enum obl_join_kind kind,
		const struct obl_keep_fn *residual,
		uint8_t *out, uint32_t *out_is_real, uint32_t *right_is_null,
		size_t cap, uint64_t *m, struct obl_arena *arena);
size_t op_join_fast_work_bytes(size_t n1, size_t rs1, size_t n2, size_t rs2,
		size_t key_words);

#endif /* TEESPARK_OPS_OP_JOIN_H */

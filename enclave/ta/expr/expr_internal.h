/*
 * expr_internal.h - shared between the evaluator's source files (not part
 * of the API): stack slots, decoded instructions and the per-opcode
 * column functions.
 *
 * A slot is one operand-stack entry for the whole batch: n NULL flags
 * (uint8 0/1) and n values of the slot's type (stack encoding, expr.h).
 * Every op function reads its operand slots and writes a separate result
 * slot (never in place), row by row from 0 to n-1, doing the same work for
 * every row: the only inputs to control flow are the program (public) and n.
 */
#ifndef TEESPARK_EXPR_INTERNAL_H
#define TEESPARK_EXPR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "expr.h"
#include "ct_arith.h"
#include "../trace.h"

struct ts_slot {
	struct ts_expr_type t;
	uint8_t *nulls;
	uint8_t *vals;
};

/* One decoded instruction (public). */
struct ts_insn {
	uint16_t op;
	uint16_t aux;
	uint32_t len;
	struct ts_expr_type t;       /* result type */
	const uint8_t *payload;
	uint32_t payload_len;
};

/* Little-endian loads from the (public) program bytes. */
static inline uint16_t ts_ld16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t ts_ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
		((uint32_t)p[3] << 24);
}

/* Decode the instruction at p (the validator has checked its bounds). */
void ts_insn_decode(const uint8_t *p, struct ts_insn *in);

/* Stack element size of a type, bytes (public). */
uint32_t ts_elem_size(const struct ts_expr_type *t);

/* Trace-build instrumentation: one event per row of every slot an op
 * reads (R) or writes (W); the index is the row number. */
#define TS_TRACE_READ_ROW(i) OBL_TRACE_READ(OBL_BUF_VALUES, (i))
#define TS_TRACE_WRITE_ROW(i) OBL_TRACE_WRITE(OBL_BUF_OUT, (i))
#define TS_TRACE_INPUT_ROW(i) OBL_TRACE_READ(OBL_BUF_ROWS, (i))

/* --- op families (one file each); n = rows; r = result slot ------------ */

/* expr_ops_num.c: integer / float64 / bool arithmetic, comparisons,
 * logic, null tests, CASE, COALESCE, IN, dates. */
void ts_op_arith_int(uint16_t op, const struct ts_slot *a,
		const struct ts_slot *b, struct ts_slot *r, size_t n);
void ts_op_arith_f64(uint16_t op, const struct ts_slot *a,
		const struct ts_slot *b, struct ts_slot *r, size_t n);
void ts_op_unary_num(uint16_t op, const struct ts_slot *a, struct ts_slot *r,
		size_t n, int32_t param);
void ts_op_compare(uint16_t op, const struct ts_slot *a,
		const struct ts_slot *b, struct ts_slot *r, size_t n);
void ts_op_logic(uint16_t op, const struct ts_slot *a, const struct ts_slot *b,
		struct ts_slot *r, size_t n);
void ts_op_case(const struct ts_slot *args, uint32_t n_branches,
		uint32_t has_else, struct ts_slot *r, size_t n);
void ts_op_coalesce(const struct ts_slot *args, uint32_t n_args,
		struct ts_slot *r, size_t n);
void ts_op_in(const struct ts_slot *a, const struct ts_insn *in,
		struct ts_slot *r, size_t n);
void ts_op_date(uint16_t op, const struct ts_slot *a, const struct ts_slot *b,
		struct ts_slot *r, size_t n);

/* Turn (lt, eq) and the operands' NULL flags into the boolean result of a
 * comparison opcode, written to row i of r (expr_ops_num.c).
 * Leaks: op.  Hides: every other argument. */
void ts_cmp_finish(uint16_t op, uint32_t lt, uint32_t eq, uint32_t na,
		uint32_t nb, struct ts_slot *r, size_t i);

/* expr_ops_dec.c: decimals (int128 unscaled values). */
void ts_op_arith_dec(uint16_t op, const struct ts_slot *a,
		const struct ts_slot *b, struct ts_slot *r, size_t n);
void ts_op_compare_dec(uint16_t op, const struct ts_slot *a,
		const struct ts_slot *b, struct ts_slot *r, size_t n);
void ts_op_unary_dec(uint16_t op, const struct ts_slot *a, struct ts_slot *r,
		size_t n, int32_t param);
/* Per-value conversions used by casts. */
void ts_dec_rescale_col(const struct ts_slot *a, struct ts_slot *r, size_t n);
void ts_dec_from_int_col(const struct ts_slot *a, struct ts_slot *r, size_t n);
void ts_dec_to_int_col(const struct ts_slot *a, struct ts_slot *r, size_t n);
void ts_dec_to_f64_col(const struct ts_slot *a, struct ts_slot *r, size_t n);
void ts_dec_from_f64_col(const struct ts_slot *a, struct ts_slot *r, size_t n);
void ts_f64_round_col(const struct ts_slot *a, struct ts_slot *r, size_t n,
		int32_t d);

/* expr_ops_str.c: strings. */
void ts_op_compare_str(uint16_t op, const struct ts_slot *a,
		const struct ts_slot *b, struct ts_slot *r, size_t n);
void ts_op_substr(const struct ts_slot *a, struct ts_slot *r, size_t n,
		int32_t pos, int32_t len, uint8_t *scratch);
void ts_op_like(const struct ts_slot *a, const uint8_t *tokens,
		uint32_t n_tokens, struct ts_slot *r, size_t n, uint8_t *scratch);

/* expr_cast.c */
int ts_cast_supported(const struct ts_expr_type *from,
		const struct ts_expr_type *to);
void ts_op_cast(const struct ts_slot *a, struct ts_slot *r, size_t n);

#endif /* TEESPARK_EXPR_INTERNAL_H */

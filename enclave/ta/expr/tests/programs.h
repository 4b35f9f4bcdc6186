/*
 * programs.h - a fixed list of programs that together use every opcode and
 * every type path of the evaluator (including the decimal double-rounding
 * multiply and divide paths), over the prog_builder.h test table. Shared by
 * the constant-time harness (ct_expr.c) and the trace test (trace_expr.c).
 */
#ifndef TEESPARK_EXPR_TESTS_PROGRAMS_H
#define TEESPARK_EXPR_TESTS_PROGRAMS_H

#include "prog_builder.h"

#define I0(p) pb_col((p), T_I64, OFF_I0, 0)
#define I1(p) pb_col((p), T_I64, OFF_I1, 1)
#define F0(p) pb_col((p), T_F64, OFF_F0, 2)
#define D0(p) pb_col((p), T_DEC(18, 2), OFF_D0, 3)
#define S0(p) pb_col((p), T_STR(8), OFF_S0, 4)
#define DT0(p) pb_col((p), T_DATE, OFF_DT0, 5)
#define B0(p) pb_col((p), T_BOOL, OFF_B0, 6)
#define I2(p) pb_col((p), T_I32, OFF_I2, 7)

#define N_PROGRAMS 16

/* Build program k (0 <= k < N_PROGRAMS) into p. Each program has exactly
 * one result; sub-results are combined with COALESCE/CASE/AND so that every
 * instruction's output is used. */
static inline void build_program(struct pb *p, int k)
{
	static const int64_t ilist[3] = { 1, -5, 1000 };

	pb_init(p);
	switch (k) {
	case 0:   /* int64 arithmetic */
		I0(p); I1(p); pb_op(p, TS_OP_ADD, T_I64);
		I0(p); I1(p); pb_op(p, TS_OP_SUB, T_I64);
		I0(p); I1(p); pb_op(p, TS_OP_MUL, T_I64);
		I0(p); I1(p); pb_op(p, TS_OP_IDIV, T_I64);
		I0(p); I1(p); pb_op(p, TS_OP_MOD, T_I64);
		I0(p); pb_op(p, TS_OP_NEG, T_I64);
		I0(p); pb_op(p, TS_OP_ABS, T_I64);
		I0(p); pb_i32(p, TS_OP_ROUND, T_I64, -2);
		pb_insn(p, TS_OP_COALESCE, 8, T_I64, NULL, 0);
		break;
	case 1:   /* int32 arithmetic and casts */
		I2(p); I2(p); pb_op(p, TS_OP_MUL, T_I32);
		I2(p); pb_lit_i(p, T_I32, 7); pb_op(p, TS_OP_MOD, T_I32);
		I0(p); pb_op(p, TS_OP_CAST, T_I32);
		F0(p); pb_op(p, TS_OP_CAST, T_I32);
		D0(p); pb_op(p, TS_OP_CAST, T_I32);
		B0(p); pb_op(p, TS_OP_CAST, T_I32);
		I2(p); pb_i32(p, TS_OP_ROUND, T_I32, -1);
		pb_insn(p, TS_OP_COALESCE, 7, T_I32, NULL, 0);
		break;
	case 2:   /* float64 arithmetic, round, casts */
		F0(p); F0(p); pb_op(p, TS_OP_ADD, T_F64);
		F0(p); pb_op(p, TS_OP_CAST, T_F64); pb_op(p, TS_OP_MUL, T_F64);
		F0(p); pb_op(p, TS_OP_DIV, T_F64);
		F0(p); pb_op(p, TS_OP_SUB, T_F64);
		pb_i32(p, TS_OP_ROUND, T_F64, 3);
		pb_op(p, TS_OP_NEG, T_F64);
		pb_op(p, TS_OP_ABS, T_F64);
		pb_op(p, TS_OP_NORMALIZE, T_F64);
		I0(p); pb_op(p, TS_OP_CAST, T_F64);
		D0(p); pb_op(p, TS_OP_CAST, T_F64);
		pb_insn(p, TS_OP_COALESCE, 3, T_F64, NULL, 0);
		break;
	case 3:   /* float64 -> int64, bool, decimal */
		F0(p); pb_op(p, TS_OP_CAST, T_DEC(12, 3));
		F0(p); pb_op(p, TS_OP_CAST, T_I64); pb_op(p, TS_OP_CAST, T_DEC(12, 3));
		F0(p); pb_op(p, TS_OP_CAST, T_BOOL); pb_op(p, TS_OP_CAST, T_DEC(12, 3));
		pb_insn(p, TS_OP_COALESCE, 3, T_DEC(12, 3), NULL, 0);
		break;
	case 4:   /* decimal + - (mixed scales), rescale, compare */
		D0(p); pb_op(p, TS_OP_CAST, T_DEC(38, 10));
		D0(p); pb_op(p, TS_OP_ADD, T_DEC(38, 9));
		D0(p); pb_op(p, TS_OP_SUB, T_DEC(38, 9));
		D0(p); pb_op(p, TS_OP_GT, T_BOOL);
		D0(p); D0(p); pb_op(p, TS_OP_EQ_NS, T_BOOL);
		pb_op(p, TS_OP_AND, T_BOOL);
		break;
	case 5:   /* decimal multiply with Spark's 38-digit pre-rounding */
		D0(p); pb_op(p, TS_OP_CAST, T_DEC(38, 10));
		D0(p); pb_op(p, TS_OP_CAST, T_DEC(30, 12));
		pb_op(p, TS_OP_MUL, T_DEC(38, 6));
		D0(p); D0(p); pb_op(p, TS_OP_MUL, T_DEC(37, 4));
		pb_op(p, TS_OP_LE, T_BOOL);
		break;
	case 6:   /* decimal divide (both scale directions), remainder, div */
		D0(p); D0(p); pb_op(p, TS_OP_DIV, T_DEC(38, 20));
		D0(p); pb_op(p, TS_OP_CAST, T_DEC(38, 30));
		pb_lit_dec(p, 5, 1, 77); pb_op(p, TS_OP_DIV, T_DEC(38, 2));
		pb_op(p, TS_OP_CAST, T_DEC(38, 20));
		D0(p); pb_lit_dec(p, 3, 2, 7); pb_op(p, TS_OP_MOD, T_DEC(3, 2));
		pb_op(p, TS_OP_CAST, T_DEC(38, 20));
		pb_insn(p, TS_OP_COALESCE, 3, T_DEC(38, 20), NULL, 0);
		D0(p); I0(p); pb_op(p, TS_OP_CAST, T_DEC(20, 0)); pb_op(p, TS_OP_IDIV, T_I64);
		pb_op(p, TS_OP_CAST, T_DEC(38, 20));
		pb_op(p, TS_OP_LT, T_BOOL);
		break;
	case 7:   /* decimal unary, round, unscaled, make_decimal */
		D0(p); pb_op(p, TS_OP_NEG, T_DEC(18, 2));
		pb_op(p, TS_OP_ABS, T_DEC(18, 2));
		pb_i32(p, TS_OP_ROUND, T_DEC(18, 1), 1);
		pb_i32(p, TS_OP_ROUND, T_DEC(19, 0), -2);
		D0(p); pb_op(p, TS_OP_UNSCALED, T_I64);
		pb_op(p, TS_OP_MAKE_DECIMAL, T_DEC(19, 0));
		pb_op(p, TS_OP_EQ, T_BOOL);
		D0(p); pb_op(p, TS_OP_CAST, T_BOOL);
		pb_op(p, TS_OP_OR, T_BOOL);
		break;
	case 8:   /* strings: compare, substring */
		S0(p); pb_substr(p, 8, 2, 3);
		S0(p); pb_substr(p, 8, -3, TS_SUBSTR_TO_END);
		pb_op(p, TS_OP_LT, T_BOOL);
		S0(p); pb_lit_s(p, 3, "ab"); pb_op(p, TS_OP_GE, T_BOOL);
		pb_op(p, TS_OP_AND, T_BOOL);
		break;
	case 9:   /* LIKE */
		S0(p); pb_like(p, "a_%b");
		S0(p); pb_like(p, "%\xc3\xa9%");
		pb_op(p, TS_OP_OR, T_BOOL);
		S0(p); pb_like(p, "__");
		pb_op(p, TS_OP_AND, T_BOOL);
		break;
	case 10:  /* dates */
		DT0(p); pb_op(p, TS_OP_YEAR, T_I32);
		DT0(p); pb_op(p, TS_OP_MONTH, T_I32);
		DT0(p); pb_op(p, TS_OP_DAY, T_I32);
		DT0(p); I2(p); pb_op(p, TS_OP_DATE_ADD, T_DATE);
		DT0(p); pb_op(p, TS_OP_DATEDIFF, T_I32);
		I0(p); pb_op(p, TS_OP_CAST, T_I32);
		DT0(p); I2(p); pb_op(p, TS_OP_DATE_SUB, T_DATE);
		pb_op(p, TS_OP_CAST, T_TS); pb_op(p, TS_OP_CAST, T_DATE);
		pb_op(p, TS_OP_DAY, T_I32);
		pb_insn(p, TS_OP_COALESCE, 6, T_I32, NULL, 0);
		break;
	case 11:  /* logic and null tests */
		B0(p); I0(p); pb_op(p, TS_OP_IS_NULL, T_BOOL); pb_op(p, TS_OP_AND, T_BOOL);
		B0(p); pb_op(p, TS_OP_NOT, T_BOOL);
		I1(p); pb_op(p, TS_OP_IS_NOT_NULL, T_BOOL); pb_op(p, TS_OP_OR, T_BOOL);
		pb_op(p, TS_OP_OR, T_BOOL);
		I0(p); I1(p); pb_op(p, TS_OP_EQ_NS, T_BOOL);
		pb_op(p, TS_OP_AND, T_BOOL);
		break;
	case 12:  /* CASE over strings of different widths */
		B0(p); S0(p);
		I0(p); I1(p); pb_op(p, TS_OP_LT, T_BOOL); pb_lit_s(p, 3, "xy");
		pb_lit_s(p, 5, "other");
		pb_case(p, T_STR(8), 2, 1);
		break;
	case 13:  /* CASE over decimals, no ELSE */
		B0(p); D0(p);
		F0(p); pb_lit_f(p, 0.0); pb_op(p, TS_OP_GT, T_BOOL); D0(p);
		pb_op(p, TS_OP_NEG, T_DEC(18, 2));
		pb_case(p, T_DEC(18, 2), 2, 0);
		break;
	case 14:  /* IN on int64 and float comparisons */
		I0(p); pb_in_i(p, ilist, 3, 1);
		F0(p); F0(p); pb_op(p, TS_OP_GE, T_BOOL);
		pb_op(p, TS_OP_AND, T_BOOL);
		break;
	default:  /* 15: int comparisons of every kind */
		I0(p); I1(p); pb_op(p, TS_OP_LE, T_BOOL);
		DT0(p); DT0(p); pb_op(p, TS_OP_GT, T_BOOL);
		pb_op(p, TS_OP_OR, T_BOOL);
		B0(p); B0(p); pb_op(p, TS_OP_EQ, T_BOOL);
		pb_op(p, TS_OP_AND, T_BOOL);
		break;
	}
	pb_finish(p);
}

#endif

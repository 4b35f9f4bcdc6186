/*
 * expr.h - the teespark expression evaluator: a column-at-a-time stack
 * machine over a versioned binary IR (docs/EXPRESSIONS.md is the full
 * specification; this header is its C mirror and the two must agree, which
 * tests/expr/test_expr_ir_constants.py checks).
 *
 * A program is produced on the Spark side from Catalyst's optimized plan,
 * validated here (ts_expr_validate) before anything runs, and then evaluated
 * over batches of fixed-width rows (the table format of docs/FORMAT.md):
 * every instruction processes every row of the batch, so the sequence of
 * instructions, loop bounds and memory addresses depends only on the program
 * and the batch size, never on the data. There is no short circuit: AND, OR,
 * CASE and COALESCE evaluate every operand for every row.
 *
 * Memory: the evaluator allocates nothing. The caller provides a workspace of
 * ts_expr_workspace_size() bytes (a public function of the program and the
 * row count); the result column lives inside it.
 *
 * Everything here includes only ../ct.h, ct_arith.h and C standard headers,
 * so it builds natively for tests and unchanged inside the TA.
 */
#ifndef TEESPARK_EXPR_H
#define TEESPARK_EXPR_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------ */
/* Wire format constants (docs/EXPRESSIONS.md, "Binary format")             */
/* ------------------------------------------------------------------------ */

#define TS_EXPR_MAGIC0 'T'
#define TS_EXPR_MAGIC1 'S'
#define TS_EXPR_MAGIC2 'X'
#define TS_EXPR_MAGIC3 'P'
#define TS_EXPR_VERSION 1u

#define TS_EXPR_HEADER_SIZE 16u      /* magic, version, flags, row_size, n_insn */
#define TS_EXPR_INSN_HEADER_SIZE 16u /* opcode, aux, length, result type */

/* Limits (public, checked by the validator). */
#define TS_EXPR_MAX_DEPTH 256u          /* operand stack entries */
#define TS_EXPR_MAX_INSNS 65536u
#define TS_EXPR_MAX_STRING 65535u       /* string(n): 1 <= n <= this */
#define TS_EXPR_MAX_PRECISION 38u       /* decimals on the stack */
#define TS_EXPR_MAX_STORED_PRECISION 18u /* decimals in rows (scaled int64) */
#define TS_EXPR_MAX_LIST 65536u         /* IN list entries, LIKE tokens */
#define TS_EXPR_NOT_NULLABLE 0xFFFFFFFFu /* COL null_bit: column has no bit */

/* Value kinds. A type is (kind, precision, scale, width). */
enum ts_expr_kind {
	TS_T_BOOL = 1,      /* stack: uint8 0/1 */
	TS_T_INT32 = 2,     /* stack: int64 holding an int32 value */
	TS_T_INT64 = 3,     /* stack: int64 */
	TS_T_FLOAT64 = 4,   /* stack: IEEE binary64 */
	TS_T_DECIMAL = 5,   /* stack: int128 unscaled, precision <= 38 */
	TS_T_DATE = 6,      /* stack: int64 holding int32 days since 1970-01-01 */
	TS_T_TIMESTAMP = 7, /* stack: int64 microseconds since epoch, UTC */
	TS_T_STRING = 8     /* stack: width bytes, UTF-8, zero padded */
};

/* Opcodes. Operands are popped from the stack (the last pushed is the
 * right-most operand); the result is pushed. See docs/EXPRESSIONS.md. */
enum ts_expr_op {
	TS_OP_COL = 0x01,        /* push column: payload u32 offset, u32 null_bit */
	TS_OP_LIT = 0x02,        /* push literal: payload u8 is_null, 3 x 0, value */

	TS_OP_ADD = 0x10,        /* a b -> a + b */
	TS_OP_SUB = 0x11,        /* a b -> a - b */
	TS_OP_MUL = 0x12,        /* a b -> a * b */
	TS_OP_DIV = 0x13,        /* a b -> a / b (float64, decimal); b = 0 -> NULL */
	TS_OP_IDIV = 0x14,       /* a b -> a div b (int64 result); b = 0 -> NULL */
	TS_OP_MOD = 0x15,        /* a b -> a % b (sign of a); b = 0 -> NULL */
	TS_OP_NEG = 0x16,        /* a -> -a */
	TS_OP_ABS = 0x17,        /* a -> |a| */
	TS_OP_ROUND = 0x18,      /* a -> round(a, d) HALF_UP: payload i32 d */

	TS_OP_EQ = 0x20,         /* a b -> a = b */
	TS_OP_EQ_NS = 0x21,      /* a b -> a <=> b (never NULL) */
	TS_OP_LT = 0x22,
	TS_OP_LE = 0x23,
	TS_OP_GT = 0x24,
	TS_OP_GE = 0x25,

	TS_OP_AND = 0x30,        /* three-valued */
	TS_OP_OR = 0x31,
	TS_OP_NOT = 0x32,
	TS_OP_IS_NULL = 0x33,
	TS_OP_IS_NOT_NULL = 0x34,

	TS_OP_CASE = 0x40,       /* c1 v1 .. cn vn [else] -> v; aux = n; payload u32 has_else */
	TS_OP_COALESCE = 0x41,   /* a1 .. an -> first non-NULL; aux = n */
	TS_OP_IN = 0x42,         /* a -> a IN (list): payload u32 n, u32 has_null, n values */

	TS_OP_CAST = 0x50,       /* a -> CAST(a AS result type) */
	TS_OP_NORMALIZE = 0x51,  /* float64: -0.0 -> 0.0, NaN -> canonical NaN */
	TS_OP_UNSCALED = 0x52,   /* decimal(p<=18) -> int64 unscaled value */
	TS_OP_MAKE_DECIMAL = 0x53, /* int64 -> decimal(p,s); |v| >= 10^p -> NULL */

	TS_OP_SUBSTR = 0x60,     /* s -> substring(s, pos, len): payload i32 pos, i32 len */
	TS_OP_LIKE = 0x61,       /* s -> s LIKE pattern: payload u32 n, n x u16 tokens */

	TS_OP_YEAR = 0x70,       /* date -> int32 */
	TS_OP_MONTH = 0x71,
	TS_OP_DAY = 0x72,
	TS_OP_DATE_ADD = 0x73,   /* date int32 -> date */
	TS_OP_DATE_SUB = 0x74,   /* date int32 -> date */
	TS_OP_DATEDIFF = 0x75    /* end start -> int32 days */
};

/* LIKE pattern tokens (u16): 0x0000..0x00FF match that byte exactly. */
#define TS_LIKE_ANY_CHAR 0x0100u   /* '_': one UTF-8 character */
#define TS_LIKE_ANY_STRING 0x0200u /* '%': any sequence of characters */

/* SUBSTR: len value meaning "to the end of the string". */
#define TS_SUBSTR_TO_END INT32_MAX

/* Validation / evaluation results. Validation errors also report the index
 * of the offending instruction (-1 for the header). */
enum ts_expr_err {
	TS_EXPR_OK = 0,
	TS_EXPR_E_TRUNCATED = 1,     /* program shorter than its header says */
	TS_EXPR_E_MAGIC = 2,         /* not a teespark expression program */
	TS_EXPR_E_VERSION = 3,       /* unsupported version or flags */
	TS_EXPR_E_LENGTH = 4,        /* instruction length wrong for its opcode */
	TS_EXPR_E_OPCODE = 5,        /* unknown opcode */
	TS_EXPR_E_TYPE = 6,          /* malformed type descriptor */
	TS_EXPR_E_OPERAND_TYPE = 7,  /* operand types do not fit the opcode */
	TS_EXPR_E_UNDERFLOW = 8,     /* pops more than the stack holds */
	TS_EXPR_E_DEPTH = 9,         /* stack deeper than TS_EXPR_MAX_DEPTH */
	TS_EXPR_E_RESULT = 10,       /* stack does not end with exactly one value */
	TS_EXPR_E_OFFSET = 11,       /* column bytes or null bit outside the row */
	TS_EXPR_E_LITERAL = 12,      /* literal value out of its type's range */
	TS_EXPR_E_PARAM = 13,        /* bad opcode parameter (aux, payload field) */
	TS_EXPR_E_TRAILING = 14,     /* bytes after the last instruction */
	TS_EXPR_E_UNSUPPORTED = 15,  /* well-formed but not supported (e.g. cast) */
	TS_EXPR_E_ROW_SIZE = 16,     /* batch row size differs from the program's */
	TS_EXPR_E_WORKSPACE = 17,    /* workspace too small or misaligned */
	TS_EXPR_E_NOT_STORABLE = 18, /* result type has no row encoding */
	TS_EXPR_E_ARG = 19           /* NULL pointer or size overflow */
};

/* ------------------------------------------------------------------------ */
/* Types, programs, columns                                                 */
/* ------------------------------------------------------------------------ */

/* A value type: the 8-byte type descriptor of the wire format. */
struct ts_expr_type {
	uint8_t kind;       /* enum ts_expr_kind */
	uint8_t precision;  /* decimal only: 1..38 */
	uint8_t scale;      /* decimal only: 0..precision */
	uint8_t reserved;   /* 0 */
	uint32_t width;     /* string only: bytes, 1..TS_EXPR_MAX_STRING */
};

/* What the validator learnt about a program (all public). */
struct ts_expr_info {
	uint32_t row_size;       /* input row size the program was made for */
	uint32_t n_insn;
	uint32_t max_depth;      /* deepest operand stack */
	uint32_t max_elem;       /* largest stack element, bytes (>= 16) */
	uint32_t scratch;        /* per-row scratch bytes some opcodes need */
	struct ts_expr_type result;
	size_t prog_len;
};

/* A result column: n values of `type` and a NULL mask (1 = NULL). Values
 * are stack elements: uint8 for bool, int64 for int32/int64/date/timestamp,
 * double for float64, int128 (little-endian) for decimal, width bytes for
 * strings. A NULL entry's value bytes are zero. */
struct ts_expr_col {
	struct ts_expr_type type;
	size_t nrows;
	size_t elem_size;
	const uint8_t *nulls;
	const uint8_t *values;
};

/* Check a program completely before any evaluation: header, every
 * instruction's length and parameters, types of every operand (by symbolic
 * execution of the stack), column bytes within row_size, stack depth, and
 * that exactly one value remains. On failure returns the error and sets
 * *bad_insn to the instruction index (-1: header or trailing data).
 * The program is public: this function may branch on it freely.
 * Leaks: the program (public).  Hides: nothing (touches no data). */
int ts_expr_validate(const uint8_t *prog, size_t prog_len,
		struct ts_expr_info *info, int32_t *bad_insn);

/* Bytes of workspace ts_expr_eval needs for nrows rows; 0 on overflow.
 * Leaks: nothing secret (a function of public sizes). */
size_t ts_expr_workspace_size(const struct ts_expr_info *info, size_t nrows);

/* Evaluate a validated program over nrows rows of row_size bytes each.
 * prog/info must come from a successful ts_expr_validate of the same bytes.
 * ws must be 16-byte aligned and at least ts_expr_workspace_size() bytes.
 * On success *out describes the result column (pointing into ws).
 * Leaks: the program, nrows, row_size.  Hides: every row's contents (values,
 * NULLs) and every intermediate and result value. */
int ts_expr_eval(const uint8_t *prog, const struct ts_expr_info *info,
		const uint8_t *rows, size_t nrows, size_t row_size,
		void *ws, size_t ws_len, struct ts_expr_col *out);

/* Bytes a value of type t takes in a row (0: not storable, e.g. a decimal
 * with precision > 18). Public. */
uint32_t ts_expr_stored_width(const struct ts_expr_type *t);

/* PROJECT: write column col into out_rows (nrows rows of out_row_size
 * bytes) at byte offset `offset` in the row encoding of docs/FORMAT.md, and
 * set (NULL) or clear bit null_bit of the row's null bitmap
 * (TS_EXPR_NOT_NULLABLE: no bit; a NULL then writes zero bytes). NULL
 * values are written as zero bytes.
 * Leaks: nrows, out_row_size, offset, null_bit, the type.
 * Hides: values and NULLs. */
int ts_expr_write_column(const struct ts_expr_col *col, uint8_t *out_rows,
		size_t out_row_size, size_t offset, uint32_t null_bit);

/* FILTER: keep[i] = 1 iff row i's boolean result is TRUE (NULL and FALSE
 * give 0), the ctl format of ops/compact_or.h. col must be boolean.
 * Leaks: nrows.  Hides: the values and NULLs, hence which rows pass. */
int ts_expr_filter_ctl(const struct ts_expr_col *col, uint32_t *keep);

#endif /* TEESPARK_EXPR_H */

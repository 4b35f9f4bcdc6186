/*
 * cmd_operator.h - internal interface between the two halves of
 * TA_TEESPARK_CMD_RUN_OPERATOR: cmd_operator.c (request, sealed inputs,
 * padding, sealed output) and cmd_operator_run.c (the operator kernels of
 * ops/ and the expression evaluator of expr/ over in-heap batches).
 *
 * Everything in struct op_plan and the sizes in struct op_batch are public
 * (the host chose or sees them); the rows, the is_real ctls and m are
 * SECRET.
 */
#ifndef TEESPARK_CMD_OPERATOR_H
#define TEESPARK_CMD_OPERATOR_H

#include "../shim_tee.h"
#include "cmd.h"
#include "../expr/expr.h"
#include "../ops/key_encode_nulls.h"
#include "../ops/op_aggregate.h"
#include "../ops/op_common.h"

/* TA_TEESPARK_CMD_RUN_OPERATOR (teespark_ta.h documents param[0..3]).
 * Leaks: input block counts, row counts and sizes, the request (operator,
 * mode, keys, programs, pad_rows), the output row and block counts (m,
 * unless pad_rows is given: then only whether m > pad_rows), which input
 * block failed; in TS_OPMODE_ENCRYPTED also the access pattern of the
 * fast kernels.  Hides (TS_OPMODE_OBLIVIOUS): rows, keys, NULLs, which
 * rows pass or match, group sizes, which output rows are dummies. */
TEE_Result cmd_run_operator(struct ta_session *s, uint32_t param_types,
			    TEE_Param params[SHIM_NUM_PARAMS]);

/* Heap buffers of one command, wiped and freed together (op_bufs_free).
 * n: bytes allocated; w: bytes wiped before the free (n unless
 * op_bufs_written says fewer were ever written). */
#define OP_MAX_BUFS 24

struct op_bufs {
	uint8_t *p[OP_MAX_BUFS];
	size_t n[OP_MAX_BUFS];
	size_t w[OP_MAX_BUFS];
};

/* A zeroed TEE_Malloc'd buffer of `bytes` (at least 1) recorded in b, or
 * NULL (out of memory or no free entry). Leaks: bytes. */
void *op_alloc(struct op_bufs *b, size_t bytes);
/* As op_alloc, but not zeroed (TEE_MALLOC_NO_FILL): only for buffers
 * the command writes in full before it reads them (or that hand out
 * memory only through obl_arena_alloc, which zeroes each block). Still
 * wiped in full before it is freed. Leaks: bytes. */
void *op_alloc_nofill(struct op_bufs *b, size_t bytes);
/* Only the first `bytes` bytes of p (an op_alloc_nofill buffer) were
 * ever written: its wipe stops there (a large output buffer of which a
 * kernel wrote m slots is then not touched again just to be wiped).
 * The caller must know that no byte beyond was written. Public: bytes. */
void op_bufs_written(struct op_bufs *b, const void *p, size_t bytes);
/* Wipe and free one buffer from op_alloc (nothing if NULL). */
void op_release(struct op_bufs *b, void *p);
/* Wipe and free every buffer. */
void op_bufs_free(struct op_bufs *b);

/* One projection of the request. */
struct op_proj {
	const uint8_t *prog;
	struct ts_expr_info info;
	uint32_t out_offset;
	uint32_t out_null_bit;
};

/* Parse a body's predicate program (pred_size bytes, zero padded to 8)
 * and proj_count x (struct ts_op_proj | program, padded to 8), which must
 * fill body_len exactly, into *pred (NULL: none) and proj[] (pointers into
 * body; prog_len set, programs not yet validated). Shared by RUN_OPERATOR
 * and STREAM MAP.
 * Leaks: nothing secret (the request is public).  Hides: nothing. */
TEE_Result cmd_parse_programs(const uint8_t *body, size_t body_len,
			      uint32_t pred_size, uint32_t proj_count,
			      const uint8_t **pred, struct op_proj *proj);

/* The parsed request (heap: proj[] is large). */
struct op_plan {
	struct ts_op_request req;
	uint8_t *body;			/* TA copy of the request body */
	struct obl_key_spec keys[2 * TS_OP_MAX_KEYS];
	struct obl_agg_spec aggs[TS_OP_MAX_AGGS];
	const uint8_t *pred;		/* NULL: none */
	struct ts_expr_info pred_info;
	struct op_proj proj[TS_OP_MAX_PROJ];
	uint32_t n_inputs;
};

/* An in-heap batch: n rows of rs bytes, optional SECRET is_real ctls. */
struct op_batch {
	uint8_t *rows;
	uint32_t *real;			/* NULL: every row is real */
	size_t n;
	size_t rs;
};

/* What an operator produced. slots and rs are public; m is SECRET (the
 * number of real rows) until cmd_operator.c declassifies it or only
 * compares it with pad_rows. real_first: the m real rows are slots
 * 0..m-1 (else they may be anywhere and the caller compacts). */
struct op_result {
	struct op_batch out;
	uint64_t m;
	int real_first;
};

/* Run the plan's operator (and its projection) over the inputs.
 * TEE_SUCCESS, TEE_ERROR_OUT_OF_MEMORY, TS_ERROR_BAD_REQUEST (a check
 * that needs the row sizes failed), TS_ERROR_PK_DUPLICATE.
 * Leaks: what docs/LEAKAGE.md "TA operator commands" lists for the
 * operator and mode (TS_OPMODE_OBLIVIOUS: public sizes, and m only where
 * documented: the general join's inner size).  Hides (oblivious mode):
 * rows, keys, which rows pass or match, m. */
TEE_Result op_run(struct op_plan *plan, struct op_batch in[2],
		  struct op_bufs *bufs, struct op_result *res);

/* Check the body against the input row sizes: keys, aggregates,
 * predicate and projection programs (validated here). */
TEE_Result op_plan_check(struct op_plan *plan, const struct op_batch in[2]);

/* Raw output row size of the plan's operator for these inputs. */
size_t op_raw_row_size(const struct op_plan *plan, const struct op_batch in[2]);

#endif /* TEESPARK_CMD_OPERATOR_H */

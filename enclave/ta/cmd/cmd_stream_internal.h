/*
 * cmd_stream_internal.h - what the STREAM mode files share: the handler's
 * state, the output writer and the row-step hooks of the join-expansion
 * modes (GROUP_COUNT, GENERATE, FILL; cmd_stream_expand.c). Not an ABI:
 * only cmd_stream*.c include it.
 */
#ifndef TEESPARK_CMD_STREAM_INTERNAL_H
#define TEESPARK_CMD_STREAM_INTERNAL_H

#include "cmd.h"
#include "output_table.h"
#include "../crypto/block_gcm.h"
#include "../ops/op_aggregate.h"

#if defined(TEESPARK_SIM) && defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
/* The simulator's constant-time check runs under valgrind: a declassified
 * value becomes public, so memcheck must stop tracking it as secret. */
#define STREAM_DECLASSIFY(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#endif
#endif
#ifndef STREAM_DECLASSIFY
#define STREAM_DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

/* The wire key and aggregate entries are the kernels' structs. */
_Static_assert(sizeof(struct ts_op_key) == sizeof(struct obl_key_spec),
	       "ts_op_key is struct obl_key_spec");
_Static_assert(sizeof(struct ts_op_agg) == sizeof(struct obl_agg_spec),
	       "ts_op_agg is struct obl_agg_spec");
_Static_assert(sizeof(struct ts_stream_request) == TS_STREAM_REQUEST_SIZE,
	       "ts_stream_request size");
_Static_assert(sizeof(struct ts_stream_copy) == TS_STREAM_COPY_SIZE,
	       "ts_stream_copy size");

#define FLAG_WORD 8	/* the flag word in front of AGGREGATE/JOIN rows */

/* Key equality of the row steps. The constant-time check's negative control
 * (ct_stream_harness_leaky) builds this file with
 * -DSTREAM_KEY_EQ=stream_key_eq_leaky, a branchy comparison, and requires
 * valgrind to flag it. */
#ifndef STREAM_KEY_EQ
#define STREAM_KEY_EQ ct_key_eq
#else
uint32_t STREAM_KEY_EQ(const uint64_t *a, const uint64_t *b, size_t words);
#endif

/* One input table: its registered entry, its blocks and pass 1's counts. */
struct stream_input {
	struct ta_table table;
	const uint8_t *buf;	/* untrusted (shared) memory */
	size_t len;
	uint64_t n_rows;
	size_t max_ct;
};

/* Everything the handler allocates, freed (and wiped) in one place. The
 * state of the row steps is secret; the sizes are public. */
struct stream_state {
	struct block_gcm dec[2];
	struct block_gcm enc;
	uint8_t *in_pt;		/* one input block */
	size_t in_pt_size;
	uint8_t *out_pt;	/* one output block */
	size_t out_pt_size;
	uint8_t *scratch;	/* several row-sized work areas, see below */
	size_t scratch_size;
	/* views into scratch */
	uint8_t *pending;	/* AGGREGATE: the previous row's candidate */
	uint8_t *row;		/* the output row being built */
	uint8_t *pk_row;	/* JOIN_PKFK: last PK row's [pk_offset, +pk_size) */
	uint64_t *kw_cur;	/* key words of the current row */
	uint64_t *kw_prev;	/* of the previous row / of the last PK row */
	size_t kwords;
	/* AGGREGATE */
	struct obl_key_spec keys[TS_STREAM_MAX_KEYS];
	struct obl_agg_spec aggs[TS_STREAM_MAX_AGGS];
	uint64_t cnt[TS_STREAM_MAX_AGGS];
	uint64_t acc[TS_STREAM_MAX_AGGS];
	/* JOIN_PKFK */
	uint32_t has_pk;
	uint32_t dup;
	/* Both: real output rows so far (secret until reveal). */
	uint64_t real;
	/* Output writer. */
	struct output_table ot;
	uint32_t fill;		/* rows in out_pt */
	uint64_t written;	/* rows emitted */
	uint64_t rows_seen;	/* input rows stepped */
	/* Mode state of cmd_stream_expand.c, or AGGREGATE's COUNT_DISTINCT
	 * state in cmd_stream.c (xstate_size bytes, wiped). */
	uint8_t *xstate;
	size_t xstate_size;
};


/* The next output row's slot in the output block. */
uint8_t *stream_out_slot(struct stream_state *st);

/* Count the row just written to stream_out_slot; seal the block when full.
 * Leaks: row and block counts.  Hides: rows. */
TEE_Result stream_out_commit(struct stream_state *st);

/* Write `row` to the next slot if ctl, else a zero row (a dummy).
 * Leaks: the row size.  Hides: ctl, the row. */
TEE_Result stream_out_masked(struct stream_state *st, uint32_t ctl,
			     const uint8_t *row);

/* ----- join expansion modes (cmd_stream_expand.c) ----- */

/* 1 if mode is GROUP_COUNT, GENERATE or FILL. */
int stream_is_expand_mode(uint32_t mode);

/* The request checks of those modes that need the input row size rs0 (0
 * for GENERATE); sets the output row size and the bytes of st->xstate the
 * mode needs (allocated zeroed by the caller, wiped on free). */
TEE_Result stream_expand_check(const struct ts_stream_request *r,
			       struct stream_state *st, uint32_t rs0,
			       uint32_t *out_row_size, size_t *xstate_size);

/* One input row (GROUP_COUNT, FILL): write its output row. */
TEE_Result stream_expand_step(struct stream_state *st,
			      const struct ts_stream_request *r,
			      const uint8_t *row, uint32_t rs);

/* GENERATE: write every output row. */
TEE_Result stream_expand_generate(struct stream_state *st,
				  const struct ts_stream_request *r);

/* After the last row: FILL's coverage check; GROUP_COUNT forward: m in
 * st->real. */
TEE_Result stream_expand_finish(struct stream_state *st,
				const struct ts_stream_request *r);

#endif /* TEESPARK_CMD_STREAM_INTERNAL_H */

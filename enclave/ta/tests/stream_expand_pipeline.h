/*
 * stream_expand_pipeline.h - the host side of the streaming many-to-many
 * equi-join (teespark_ta.h, STREAM GROUP_COUNT / GENERATE / FILL), driven
 * command by command through the in-process TA, as the Spark driver runs
 * it over tables larger than the heap:
 *
 *   WIDEN(T1 side 0, T2 side 1; the join key copied to a common area, a
 *     zero annotation at SX_AUX)
 *   -> XSORT by ([null,] keys, side)      -> GROUP_COUNT GC_FORWARD (m)
 *   -> XSORT by ([null,] keys, side desc, idx desc) -> GROUP_COUNT GC_SECOND
 *   -> WIDEN(that, GENERATE(m + m_delta)), no side byte of its own
 *   -> XSORT by (drop, side, dest, kind)  -> FILL
 *   -> XSORT by (flag desc, dest, side)   -> LIMIT 2m
 *   -> JOIN_PKFK keyed on dest            -> XSORT by flag desc -> LIMIT m
 *
 * Every sort is the real external sort (XSORT_START/CHUNK/MERGE_SPLIT/EMIT)
 * with several runs. Shared by stream_expand_test.c and the constant-time
 * harness ct_stream_expand_harness.c. Test code: not constant-time.
 *
 * Row layouts (little endian):
 *   T1 (SX_T1_RS = 24): k1 u64 @0 | k1 NULL flag byte @8 (0/1) | k2 i16 @10
 *                       | id u64 @16
 *   T2 (SX_T2_RS = 32): id u64 @0 | k1 u64 @8 | NULL flag @16 | k2 i16 @17
 *                       | junk @19..31
 *   union (SX_U_RS = 136): side @0 | k1 @8 | NULL flag @16 | k2 @18 |
 *                       annotation @24 (56 bytes) | T1 row @80 | T2 row @104
 * The join condition: k1 and k2 equal and neither row's k1 NULL.
 * Result rows: T1 row | T2 row (SX_PAIR_RS = 56), one per joined pair.
 */
#ifndef TEESPARK_STREAM_EXPAND_PIPELINE_H
#define TEESPARK_STREAM_EXPAND_PIPELINE_H

#include "ta_harness.h"

#define SX_T1_RS 24
#define SX_T2_RS 32
#define SX_U_RS 136
#define SX_AUX 24
#define SX_T1_AT 80
#define SX_T2_AT 104
#define SX_PAIR_RS (SX_T1_RS + SX_T2_RS)

/* A table the TA registered: its descriptor and sealed blocks. */
struct sx_table {
	struct ts_table_descriptor d;
	uint8_t *blocks;
	size_t len;
};

struct sx_case {
	const uint8_t *t1, *t2;		/* n1 x SX_T1_RS, n2 x SX_T2_RS */
	uint32_t n1, n2;
	uint32_t rpb1, rpb2;		/* input blocks */
	uint32_t rpb;			/* blocks of every intermediate table */
	int64_t m_delta;		/* GENERATE gets m + m_delta (tests) */
	int raw_sort;			/* 1: the GROUP_COUNT sorts leave the
					   NULL flag out (NULL rows then land
					   among rows of equal key bytes) */
};

/* Step names for failure reports. */
enum sx_step {
	SX_WIDEN, SX_SORT1, SX_FORWARD, SX_SORT2, SX_SECOND, SX_GENERATE,
	SX_WIDEN2, SX_SORT3, SX_FILL, SX_SORT4, SX_LIMIT2M, SX_JOIN, SX_SORT5,
	SX_LIMITM, SX_DONE
};

struct sx_result {
	TEE_Result res;			/* of the failing step, or success */
	enum sx_step step;		/* the failing step, or SX_DONE */
	uint64_t m;			/* GC_FORWARD's revealed m */
	uint32_t join_real;		/* JOIN_PKFK's revealed matches */
	uint8_t *pairs;			/* malloc'd: m x SX_PAIR_RS, opened */
	uint64_t n_pairs;
};

/* The session must hold key_in in slot 0 (inputs) and key_out in slot 1
 * (every intermediate and the result). Returns 0 when every step ran. */
int sx_run(void *s, const uint8_t key_in[32], const uint8_t key_out[32],
	   const struct sx_case *c, struct sx_result *r);

const char *sx_step_name(enum sx_step step);

/* The reference: a nested-loop join of T1 and T2 (NULL keys match
 * nothing) as (T1 row | T2 row) pairs, malloc'd; *m = their count. */
uint8_t *sx_nested_loop(const uint8_t *t1, uint32_t n1, const uint8_t *t2,
			uint32_t n2, uint64_t *m);

/* One STREAM call over the tables in `in` (in0_bytes set by the caller for
 * WIDEN); on success *out holds the registered output. */
TEE_Result sx_stream(void *s, struct ts_stream_request *req,
		     const struct sx_table *in0, const struct sx_table *in1,
		     struct sx_table *out, uint32_t *real);

/* A full external sort of `in` by keys into a table with rows_per_block. */
TEE_Result sx_xsort(void *s, const struct sx_table *in,
		    const struct ts_sort_key *keys, uint32_t key_count,
		    uint32_t rows_per_block, const char *tag,
		    struct sx_table *out);

/* Seal rows under key into a table registered with slot. */
TEE_Result sx_seal(void *s, const uint8_t key[32], uint32_t slot,
		   const uint8_t *rows, uint32_t n, uint32_t row_size,
		   uint32_t rpb, struct sx_table *out);

void sx_table_free(struct sx_table *t);

/* A STREAM request with the fields every step sets (slots 1 -> 1). */
void sx_request(struct ts_stream_request *r, uint32_t mode, const char *tag);

#endif /* TEESPARK_STREAM_EXPAND_PIPELINE_H */

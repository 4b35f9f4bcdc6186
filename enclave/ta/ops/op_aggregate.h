/*
 * op_aggregate.h - GROUP BY with SUM, COUNT, COUNT(*), AVG, MIN, MAX and
 * COUNT(DISTINCT x), and global aggregates (no grouping key), with SQL's
 * NULL rules.
 *
 * Semantics (Spark SQL):
 *   - rows are grouped by the encoded group key (key_encode_nulls.h): NULL
 *     keys form one group per column; FLOAT64 keys group -0.0 with +0.0 and
 *     every NaN together;
 *   - SUM, MIN, MAX, AVG ignore NULL inputs and are NULL when the group has
 *     no non-NULL input; COUNT(x) counts non-NULL x; COUNT(*) counts rows;
 *     COUNT(DISTINCT x) counts distinct non-NULL x (by key encoding, so
 *     FLOAT64 -0.0 == +0.0 and NaN == NaN);
 *   - SUM of an integer column is a wrapping int64 sum; SUM of FLOAT64 is
 *     a double sum (the addition order within a group is unspecified, so
 *     the last bits may differ between runs); MIN/MAX of FLOAT64 use
 *     Spark's order (NaN above +inf, -0.0 == +0.0); AVG is a double: the
 *     exact int64 sum (integers) or the double sum, divided by the count at
 *     the end (one division per output row);
 *   - global aggregate (nkeys == 0): exactly one output row, also for an
 *     empty input (COUNT 0, COUNT(*) 0, COUNT(DISTINCT) 0, the rest NULL).
 *
 * Output row (obl_agg_out_row_size bytes), one per group, groups in
 * ascending order of their encoded key (the key specs' directions and
 * NULL orders apply):
 *   [ representative input row of the group (row_size bytes, zero padded to
 *     a multiple of 8; all zero for an empty global aggregate) |
 *     naggs x 8-byte little-endian results (int64 for COUNT, COUNT(*),
 *     COUNT(DISTINCT) and SUM/MIN/MAX of integer columns; IEEE double for
 *     AVG and SUM/MIN/MAX of FLOAT64; UINT columns' MIN/MAX are unsigned
 *     and returned as their uint64 bits) |
 *     naggs null bytes (1 = the result is NULL, its value bytes are 0),
 *     zero padded to a multiple of 8 ]
 * The representative row holds the group's key columns (it is one of the
 * group's rows; which one is unspecified), so the caller projects them from
 * it, and must read a NULL key column as NULL through its null bit.
 */
#ifndef TEESPARK_OPS_OP_AGGREGATE_H
#define TEESPARK_OPS_OP_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

#include "key_encode_nulls.h"
#include "op_common.h"

enum obl_agg_fn {
	OBL_AGG_COUNT_STAR = 1,
	OBL_AGG_COUNT = 2,
	OBL_AGG_SUM = 3,
	OBL_AGG_MIN = 4,
	OBL_AGG_MAX = 5,
	OBL_AGG_AVG = 6,
	OBL_AGG_COUNT_DISTINCT = 7
};

/*
 * One aggregate. The input column x: type OBL_KEY_INT or OBL_KEY_UINT
 * (width 1, 2, 4, 8; little-endian, sign- or zero-extended to 64 bits) or
 * OBL_KEY_FLOAT64 (width 8); for COUNT_DISTINCT any key_encode type
 * (BYTES included). COUNT_STAR reads no column (type, offset, width 0).
 * The NULL flag of x: bit null_bit of byte null_offset when nullable.
 */
struct obl_agg_spec {
	uint16_t fn;            /* enum obl_agg_fn */
	uint16_t type;          /* OBL_KEY_* of x */
	uint32_t offset;        /* byte offset of x in the row */
	uint32_t width;         /* bytes */
	uint32_t null_offset;
	uint8_t null_bit;
	uint8_t nullable;
	uint16_t reserved;      /* must be 0 */
};

/* Bytes of one output row. */
size_t obl_agg_out_row_size(size_t row_size, size_t naggs);

/* Check key and aggregate lists against the row size: 0 valid, -1 not. */
int obl_aggregate_check(size_t row_size, const struct obl_key_spec *keys,
		size_t nkeys, const struct obl_agg_spec *aggs, size_t naggs);

/*
 * Oblivious GROUP BY: sort by (is dummy, group key) with obl_sort_bitonic,
 * segment starts and ends by key comparison, one segmented scan per
 * aggregate (obl_scan_segmented_i64 or the double sum below), then
 * obl_compact of the group-end rows. COUNT(DISTINCT x) takes one more sort
 * per such aggregate, by (dummy, group key, x): its per-group counts are
 * compacted the same way and line up with the groups, which come out in
 * the same key order.
 * Output: out has cap slots of obl_agg_out_row_size bytes; groups go to
 * out[0..m) in key order, out_is_real[i] = (i < m), the rest are zero
 * dummies. *m (the number of groups) is SECRET until declassified; cap =
 * in->n never truncates. Global (nkeys == 0): *m = 1, public, cap >= 1.
 * Work: obl_aggregate_work_bytes(...).
 * Leaks: n, row_size, cap, the key and aggregate lists (which includes
 * whether the aggregate is global).  Hides: keys, values, NULLs, group
 * sizes, the number of groups m, which rows are dummies.
 */
int obl_aggregate(const struct obl_table *in, const struct obl_key_spec *keys,
		size_t nkeys, const struct obl_agg_spec *aggs, size_t naggs,
		uint8_t *out, uint32_t *out_is_real, size_t cap, uint64_t *m,
		struct obl_arena *arena);
size_t obl_aggregate_work_bytes(size_t n, size_t row_size,
		const struct obl_key_spec *keys, size_t nkeys,
		const struct obl_agg_spec *aggs, size_t naggs);

/*
 * Encrypted-mode GROUP BY: same contract and output (group order, row
 * layout). Without COUNT(DISTINCT): a hash aggregate, one pass over the
 * rows, then a sort of the m groups; with it (or when the arena cannot
 * hold the hash tables), a merge sort (fast_sort_recs) then one branchy
 * pass per group.
 * Work: op_aggregate_fast_work_bytes(...) always suffices. A smaller arena
 * of op_aggregate_fast_hash_work_bytes(g, ...) runs the hash aggregate for
 * up to g groups: more groups give OBL_ERR_NOMEM (nothing written), and
 * the caller runs it again with a larger arena.
 * NOT oblivious: leaks access patterns (group sizes and boundaries, NULLs,
 * the number of groups).
 */
int op_aggregate_fast(const struct obl_table *in,
		const struct obl_key_spec *keys, size_t nkeys,
		const struct obl_agg_spec *aggs, size_t naggs,
		uint8_t *out, uint32_t *out_is_real, size_t cap, uint64_t *m,
		struct obl_arena *arena);
/* As op_aggregate_fast, but only slots 0..min(m, cap)-1 and their ctls
 * (all 1) are written: the dummy slots are left as they were (for callers
 * that declassify m and keep only the real rows, so that n slots for m
 * groups cost O(m)). NOT oblivious. */
int op_aggregate_fast_prefix(const struct obl_table *in,
		const struct obl_key_spec *keys, size_t nkeys,
		const struct obl_agg_spec *aggs, size_t naggs,
		uint8_t *out, uint32_t *out_is_real, size_t cap, uint64_t *m,
		struct obl_arena *arena);
/* Arena bytes op_aggregate_fast needs for these sizes: its hash tables
 * (O(n) for at most n groups) unless it must sort (COUNT(DISTINCT), or
 * sizes the hash refuses), then obl_aggregate_work_bytes. Public. */
size_t op_aggregate_fast_work_bytes(size_t n, size_t row_size,
		const struct obl_key_spec *keys, size_t nkeys,
		const struct obl_agg_spec *aggs, size_t naggs);
/* Arena bytes of the hash aggregate for at most `groups` groups; 0 when
 * there is none (COUNT(DISTINCT)) or the sizes are refused. Public. */
size_t op_aggregate_fast_hash_work_bytes(size_t groups,
		const struct obl_key_spec *keys, size_t nkeys,
		const struct obl_agg_spec *aggs, size_t naggs);

#endif /* TEESPARK_OPS_OP_AGGREGATE_H */

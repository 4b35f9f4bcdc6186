/*
 * op_sort.h - ORDER BY on several keys (ascending / descending, NULLS
 * FIRST / LAST), LIMIT, and top-k (ORDER BY ... LIMIT k).
 *
 * Keys: struct obl_key_spec (key_encode_nulls.h). The order is not stable:
 * rows with equal keys come out in an unspecified order (as in Spark).
 */
#ifndef TEESPARK_OPS_OP_SORT_H
#define TEESPARK_OPS_OP_SORT_H

#include <stddef.h>
#include <stdint.h>

#include "key_encode_nulls.h"
#include "op_common.h"

/*
 * Oblivious ORDER BY: records [dummy flag | key words | row],
 * obl_sort_bitonic, strip. out: in->n slots; the *m real rows first in key
 * order, then the dummies (zeroed, out_is_real 0). *m is SECRET when
 * in->is_real is given (else it is n).
 * Leaks: n, row_size, the key specs.  Hides: keys, NULLs, the order, which
 * rows are dummies.
 */
int obl_sort_rows(const struct obl_table *in, const struct obl_key_spec *keys,
		size_t nkeys, uint8_t *out, uint32_t *out_is_real, uint64_t *m,
		struct obl_arena *arena);
size_t obl_sort_rows_work_bytes(size_t n, size_t row_size,
		const struct obl_key_spec *keys, size_t nkeys);

/*
 * Oblivious LIMIT k: the first k real rows in input order. out: k slots,
 * *m = min(k, real rows) (SECRET when in->is_real is given: then the rows
 * are compacted first with obl_compact; without it the first k rows are
 * copied and *m is public).
 * Leaks: n, row_size, k, whether is_real is given.  Hides: which rows are
 * real, m.
 */
int obl_limit(const struct obl_table *in, size_t k, uint8_t *out,
		uint32_t *out_is_real, uint64_t *m, struct obl_arena *arena);
size_t obl_limit_work_bytes(size_t n, size_t row_size);

/*
 * Oblivious top-k (ORDER BY keys LIMIT k): a tournament of bitonic sorts.
 * The first min(n, 2k) records are sorted and the best k kept; each
 * further chunk of up to k records is appended behind them, the at most 2k
 * records are sorted again (obl_sort_bitonic) and the best k kept. The
 * top k of a union is the top k of (top k of one part, the other part), so
 * the result is that of a full sort, for about (n/k) * 2k log^2(2k)
 * compare-exchanges instead of n log^2 n. (A bitonic partial merge of the
 * two sorted halves would halve each step; the full sort of 2k keeps the
 * code to the verified kernel.) out: k slots, best first; *m = min(k, real
 * rows), SECRET when is_real is given.
 * Leaks: n, row_size, k, the key specs.  Hides: keys, NULLs, which rows
 * are selected, their order.
 */
int obl_topk(const struct obl_table *in, const struct obl_key_spec *keys,
		size_t nkeys, size_t k, uint8_t *out, uint32_t *out_is_real,
		uint64_t *m, struct obl_arena *arena);
size_t obl_topk_work_bytes(size_t n, size_t row_size,
		const struct obl_key_spec *keys, size_t nkeys, size_t k);

/*
 * Encrypted-mode ORDER BY / LIMIT / top-k: same contracts and outputs, by a
 * merge sort (fast_sort_recs) and plain loops; the sort is stable.
 * Work: op_sort_fast_work_bytes(n, row_size, keys, nkeys).
 * NOT oblivious: leaks access patterns (the comparison outcomes, which rows
 * are dummies).
 */
int op_sort_rows_fast(const struct obl_table *in,
		const struct obl_key_spec *keys, size_t nkeys, uint8_t *out,
		uint32_t *out_is_real, uint64_t *m, struct obl_arena *arena);
int op_limit_fast(const struct obl_table *in, size_t k, uint8_t *out,
		uint32_t *out_is_real, uint64_t *m);
int op_topk_fast(const struct obl_table *in, const struct obl_key_spec *keys,
		size_t nkeys, size_t k, uint8_t *out, uint32_t *out_is_real,
		uint64_t *m, struct obl_arena *arena);
size_t op_sort_fast_work_bytes(size_t n, size_t row_size,
		const struct obl_key_spec *keys, size_t nkeys);

#endif /* TEESPARK_OPS_OP_SORT_H */

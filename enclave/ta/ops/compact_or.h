/*
 * compact_or.h - order-preserving oblivious compaction.
 */
#ifndef TEESPARK_OPS_COMPACT_OR_H
#define TEESPARK_OPS_COMPACT_OR_H

#include <stddef.h>
#include <stdint.h>

/*
 * Move the records whose keep ctl is 1 to the front of recs, in their
 * original order, and return how many there are (m). Records at positions
 * >= m are the dropped records in an unspecified order (callers treat them
 * as dummies). keep[i] must be 0 or 1 on input; it is used as workspace and
 * on return keep[i] = (i < m), the is_real flag of each output slot.
 *
 * The returned count is secret (it is how many rows passed a filter): the
 * caller decides whether to declassify it (output sized m) or to keep all n
 * slots with keep[] as the is_real flags.
 *
 * Algorithm (Goodrich's log-shift compaction, SPAA 2011): kept record i with
 * r kept records before it must move left by d = i - r. For t = 0, 1, ...
 * while 2^t < n, every position j >= 2^t (in increasing j) swaps records
 * j - 2^t and j iff the record at j is kept and bit t of its remaining
 * distance is set. Distances are non-decreasing along kept records, so no
 * two records ever meet. n * ceil(log2 n) conditional swaps.
 *
 * Requirements: n <= UINT32_MAX (distances are kept in keep[]); any rec_size.
 * Leaks: n, rec_size.  Hides: keep flags, the count m, record contents.
 */
size_t obl_compact(uint8_t *recs, size_t n, size_t rec_size, uint32_t *keep);

#endif /* TEESPARK_OPS_COMPACT_OR_H */

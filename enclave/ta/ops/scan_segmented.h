/*
 * scan_segmented.h - oblivious segmented scans (running aggregates within
 * groups of consecutive rows), the core of GROUP BY after a sort.
 */
#ifndef TEESPARK_OPS_SCAN_SEGMENTED_H
#define TEESPARK_OPS_SCAN_SEGMENTED_H

#include <stddef.h>
#include <stdint.h>

/* The aggregate of a segmented scan (public). Values match the ABI of the
 * trusted application's operators; do not renumber. */
enum obl_scan_op {
	OBL_SCAN_SUM = 1,    /* wrapping int64 sum */
	OBL_SCAN_MIN = 2,    /* signed int64 minimum */
	OBL_SCAN_MAX = 3,    /* signed int64 maximum */
	OBL_SCAN_COUNT = 4   /* rows so far in the segment, 1-based; values ignored */
};

/*
 * Segmented inclusive scan in place. Row i starts a new segment iff
 * seg_start[i] == 1 or i == 0 (row 0 always starts one, whatever
 * seg_start[0] says). With s(i) the start of the segment containing row i:
 *   SUM:   values[i] = values[s(i)] + ... + values[i]   (wrapping)
 *   MIN:   values[i] = min(values[s(i)..i])             (signed)
 *   MAX:   values[i] = max(values[s(i)..i])             (signed)
 *   COUNT: values[i] = i - s(i) + 1                      (input ignored)
 * So the last row of each segment holds the segment's aggregate. seg_start
 * entries must be ctls (0 or 1). An op outside enum obl_scan_op leaves
 * values unchanged and returns -1; otherwise returns 0.
 * Leaks: n, op.  Hides: values, segment boundaries.
 */
int obl_scan_segmented_i64(int64_t *values, const uint32_t *seg_start,
		size_t n, enum obl_scan_op op);

/*
 * is_last[i] = 1 iff row i is the last row of its segment, i.e. i == n - 1
 * or row i + 1 starts a segment (seg_start[i + 1] == 1); else 0.
 * Leaks: n.  Hides: segment boundaries.
 */
void obl_scan_segmented_mark_last(const uint32_t *seg_start, uint32_t *is_last,
		size_t n);

/*
 * Segment starts of records sorted by their leading key_words key words
 * (as produced by obl_sort_bitonic): seg_start[0] = 1 (if n > 0) and
 * seg_start[i] = 1 iff the key of record i differs from that of record i - 1.
 * rec_size is a multiple of 8 and recs 8-byte aligned, as for the sort.
 * Leaks: n, rec_size, key_words.  Hides: keys, group sizes.
 */
void obl_scan_segmented_starts(const uint8_t *recs, size_t n, size_t rec_size,
		size_t key_words, uint32_t *seg_start);

#endif /* TEESPARK_OPS_SCAN_SEGMENTED_H */

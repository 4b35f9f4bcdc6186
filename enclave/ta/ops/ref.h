/*
 * ref.h - NOT constant-time reference implementations of the kernels, for
 * tests only (built into $(BUILD)/obj/ops-ref, never into the TA). They
 * branch on and index by secret data; their only job is to be obviously
 * correct. Prefix ref_ (never obl_: that prefix promises obliviousness).
 */
#ifndef TEESPARK_OPS_REF_H
#define TEESPARK_OPS_REF_H

#include <stddef.h>
#include <stdint.h>

#include "key_encode.h"
#include "scan_segmented.h"

/* qsort by the leading key_words words (unsigned, word 0 most significant):
 * the order of obl_sort_bitonic. Not stable either. */
void ref_sort_bitonic(uint8_t *recs, size_t n, size_t rec_size, size_t key_words);

/* Stable partition keeping records with keep[i] != 0; returns the count and
 * sets keep[i] = (i < count), like obl_compact. Dropped records follow the
 * kept ones in their original order. */
size_t ref_compact(uint8_t *recs, size_t n, size_t rec_size, uint32_t *keep);

/* Same contracts as obl_scan_prefix_sum_i64 / obl_scan_segmented_i64 /
 * obl_scan_segmented_mark_last / obl_scan_segmented_starts. */
void ref_scan_prefix_sum_i64(int64_t *values, size_t n);
int ref_scan_segmented_i64(int64_t *values, const uint32_t *seg_start,
		size_t n, enum obl_scan_op op);
void ref_scan_segmented_mark_last(const uint32_t *seg_start, uint32_t *is_last,
		size_t n);
void ref_scan_segmented_starts(const uint8_t *recs, size_t n, size_t rec_size,
		size_t key_words, uint32_t *seg_start);

/* Compare two rows by typed key columns directly (C integer, double and
 * byte comparisons; no key words): <0, 0, >0. Independent of key_encode.c. */
int ref_key_cmp_rows(const uint8_t *a, const uint8_t *b,
		const struct obl_key_col *cols, size_t ncols);

/* Sort rows of row_size bytes with ref_key_cmp_rows. */
void ref_key_sort_rows(uint8_t *rows, size_t n, size_t row_size,
		const struct obl_key_col *cols, size_t ncols);

#endif /* TEESPARK_OPS_REF_H */

/*
 * op_testdata.h - the test table shared by the operator test programs
 * (correctness, ctgrind, trace equality): fixed-width rows with a null
 * bitmap, two key columns and two value columns, and input families
 * (random, skewed, all NULL, ...). Test code only.
 *
 * Row (OPT_ROW = 40 bytes):
 *   0      null bitmap: bit 0 k1, bit 1 k2, bit 2 v, bit 3 f
 *   8      k1  int64
 *   16     k2  8-byte string (BYTES)
 *   24     v   int64
 *   32     f   float64
 */
#ifndef TEESPARK_TESTS_OP_TESTDATA_H
#define TEESPARK_TESTS_OP_TESTDATA_H

#include <stddef.h>
#include <stdint.h>

#include "../../ta/ops/key_encode_nulls.h"
#include "../../ta/ops/op_aggregate.h"

#define OPT_ROW 40
#define OPT_OFF_NULLS 0
#define OPT_OFF_K1 8
#define OPT_OFF_K2 16
#define OPT_OFF_V 24
#define OPT_OFF_F 32

/* Families of generated tables. */
enum opt_family {
	OPT_RANDOM,        /* keys from a small range, some NULLs */
	OPT_SKEW,          /* one key holds ~90% of the rows */
	OPT_ALL_NULL,      /* every key NULL */
	OPT_ALL_EQUAL,     /* one key */
	OPT_DISTINCT,      /* every key distinct */
	OPT_FAMILIES
};

uint64_t opt_rand(void);
void opt_seed(uint64_t seed);
uint64_t opt_below(uint64_t bound);

/* n rows of the family; keys drawn from [0, key_range) (>= 1). */
void opt_fill(uint8_t *rows, size_t n, enum opt_family fam, uint64_t key_range);

/* Key specs over k1 (INT, nullable) and k2 (BYTES, nullable). */
extern const struct obl_key_spec opt_keys_k1[1];
extern const struct obl_key_spec opt_keys_k1k2[2];
/* k1 descending NULLS LAST, k2 ascending NULLS FIRST */
extern const struct obl_key_spec opt_keys_sort[2];
/* Every aggregate kind over v and f. */
extern const struct obl_agg_spec opt_aggs[11];
#define OPT_NAGGS 11

/* 64-byte aligned, zeroed; aborts on failure. */
void *opt_alloc(size_t len);

#endif /* TEESPARK_TESTS_OP_TESTDATA_H */

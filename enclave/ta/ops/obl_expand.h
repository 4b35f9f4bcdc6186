/*
 * obl_expand.h - oblivious expansion: repeat every record a secret number
 * of times, with a public total (Krastnikov, Kerschbaum, Stebila, "Efficient
 * Oblivious Database Joins", VLDB 2020, Algorithms 3 and 4: oblivious
 * distribute, then fill down). The building block of the many-to-many join.
 */
#ifndef TEESPARK_OPS_OBL_EXPAND_H
#define TEESPARK_OPS_OBL_EXPAND_H

#include <stddef.h>
#include <stdint.h>

/* The marker of an empty slot in word 0 during distribution. */
#define OBL_EXPAND_EMPTY UINT64_MAX

/*
 * recs holds cap records of rec_size bytes (a multiple of 8, >= 8); the
 * first n are the input. g[i] is the SECRET number of copies of record i;
 * m = g[0] + ... + g[n-1] is public (the caller declassified it) and
 * cap >= max(n, m). On return recs[0..m) holds record 0 repeated g[0]
 * times, then record 1 repeated g[1] times, and so on (input order); word 0
 * of every record is the kernel's scratch and on return holds the output
 * position of the record's first copy. Records beyond m are garbage.
 * keep: n uint32 of workspace; tmp_rec: rec_size bytes of workspace.
 *
 * Algorithm: g goes into word 0; order-preserving compaction (obl_compact)
 * moves records with g > 0 to the front; an exclusive prefix sum turns g
 * into destinations f (strictly increasing, f[i] >= i), empty slots get
 * OBL_EXPAND_EMPTY; distribution: for j = the powers of two below M =
 * max(n, m), from the largest down, for i = M - j - 1 down to 0, swap
 * records i and i + j iff record i is not empty and f >= i + j (each record
 * moves by the binary digits of its distance, never onto another one); fill
 * down: every empty slot in [0, m) takes a copy of the record before it.
 * n log n + M log M conditional swaps and M copies.
 *
 * Requirements: n <= UINT32_MAX; the g[i] sum to m (otherwise the output
 * is wrong, though the access pattern is still that of (n, m, cap)).
 * Leaks: n, m, cap, rec_size.  Hides: the counts g, which record is copied
 * how often, record contents.
 */
void obl_expand(uint8_t *recs, size_t n, size_t cap, size_t rec_size,
		const uint64_t *g, size_t m, uint32_t *keep, uint8_t *tmp_rec);

#endif /* TEESPARK_OPS_OBL_EXPAND_H */

/*
 * ct_stream_expand_harness.c - constant-time check of the join-expansion
 * modes of TA_TEESPARK_CMD_STREAM (GROUP_COUNT GC_FORWARD and GC_SECOND,
 * GENERATE, FILL) as shipped, run under valgrind memcheck:
 *
 *   TEESPARK_SIM_CT_SECRETS=1 valgrind -q --error-exitcode=1 \
 *       ct_stream_expand_harness
 *
 * As in ct_stream_harness.c, the simulator marks everything AES-GCM
 * decrypts as undefined, so memcheck reports any branch or address in the
 * TA that depends on a row, a key, a side, a group boundary, a count, a
 * filler or a copy number. The only declassifications are the documented
 * ones: m (GC_FORWARD, reveal = 1), FILL's consistency bit, and those of
 * the other commands of the pipeline (JOIN_PKFK's match count).
 *
 * It runs the whole many-to-many join (stream_expand_pipeline.c: WIDEN,
 * external sorts, both GROUP_COUNT passes, GENERATE, FILL, LIMIT,
 * JOIN_PKFK) on tables with duplicate keys on both sides, NULL keys and
 * keys on one side only, checks the result against a nested loop (once
 * with the NULL flag in the sort keys, once without), then runs it again
 * with a wrong m, which FILL must refuse.
 *
 * Negative control: ct_stream_expand_harness_leaky links this file with a
 * cmd_stream_expand.c built with
 *   -DSTREAM_KEY_EQ=stream_expand_key_eq_leaky      (GROUP_COUNT's keys)
 *   -DEXPAND_U64_LT=stream_expand_u64_lt_leaky      (FILL's t < copies)
 * The functions below leak only when argv[1] names their mode ("gc",
 * "fill"), so the runner checks that valgrind flags each mode's leak on
 * its own.
 */
#include "stream_expand_pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "../ct.h"

static int leak_gc, leak_fill;

/* NOT constant-time (negative control): an early-exit key comparison. */
uint32_t stream_expand_key_eq_leaky(const uint64_t *a, const uint64_t *b,
				    size_t words);
uint32_t stream_expand_key_eq_leaky(const uint64_t *a, const uint64_t *b,
				    size_t words)
{
	size_t i;

	if (!leak_gc)
		return ct_key_eq(a, b, words);
	for (i = 0; i < words; i++)
		if (a[i] != b[i])	/* secret branch */
			return 0;
	return 1;
}

/* NOT constant-time (negative control): x < y by counting down, a loop
 * whose trip count is secret (values are small in a valid pipeline). */
uint32_t stream_expand_u64_lt_leaky(uint64_t x, uint64_t y);
uint32_t stream_expand_u64_lt_leaky(uint64_t x, uint64_t y)
{
	if (!leak_fill)
		return ct_u64_lt(x, y);
	while (x != 0 && y != 0) {	/* secret branch */
		x--;
		y--;
	}
	return y != 0;
}

#define N1 23
#define N2 19

static int cmp_pair(const void *a, const void *b)
{
	return memcmp(a, b, SX_PAIR_RS);
}

int main(int argc, char **argv)
{
	static uint8_t t1[N1 * SX_T1_RS], t2[N2 * SX_T2_RS];
	uint8_t key_in[32], key_out[32], *want;
	struct sx_case c;
	struct sx_result r;
	uint64_t m;
	uint32_t i;
	void *s;

	if (argc > 1) {
		leak_gc = strcmp(argv[1], "gc") == 0;
		leak_fill = strcmp(argv[1], "fill") == 0;
		if (!leak_gc && !leak_fill) {
			fprintf(stderr, "usage: %s [gc|fill]\n", argv[0]);
			return 2;
		}
	}
	th_init();
	th_rand_seed(0xc7e4a);
	th_rand_bytes(key_in, 32);
	th_rand_bytes(key_out, 32);
	s = th_open_session();
	th_install_key(s, 0, key_in);
	th_install_key(s, 1, key_out);

	/* Keys 0..5 on T1, 2..7 on T2: duplicates both sides, keys on one
	 * side only; about one NULL key in six (value bytes in range). */
	th_rand_bytes(t1, sizeof(t1));
	th_rand_bytes(t2, sizeof(t2));
	for (i = 0; i < N1; i++) {
		uint8_t *row = t1 + i * SX_T1_RS;
		uint64_t k = th_rand64() % 6, id = 0x100 + i;

		memcpy(row, &k, 8);
		row[8] = th_rand64() % 6 == 0;
		memset(row + 10, 0, 2);
		memcpy(row + 16, &id, 8);
	}
	for (i = 0; i < N2; i++) {
		uint8_t *row = t2 + i * SX_T2_RS;
		uint64_t k = 2 + th_rand64() % 6, id = 0x200 + i;

		memcpy(row, &id, 8);
		memcpy(row + 8, &k, 8);
		row[16] = th_rand64() % 6 == 0;
		memset(row + 17, 0, 2);
	}
	want = sx_nested_loop(t1, N1, t2, N2, &m);
	qsort(want, m, SX_PAIR_RS, cmp_pair);

	memset(&c, 0, sizeof(c));
	c.t1 = t1;
	c.t2 = t2;
	c.n1 = N1;
	c.n2 = N2;
	c.rpb1 = 6;
	c.rpb2 = 5;
	c.rpb = 16;
	if (sx_run(s, key_in, key_out, &c, &r) != 0) {
		fprintf(stderr, "pipeline: %s failed 0x%x\n",
			sx_step_name(r.step), r.res);
		return 1;
	}
	qsort(r.pairs, r.n_pairs, SX_PAIR_RS, cmp_pair);
	if (r.m != m || r.n_pairs != m ||
	    memcmp(r.pairs, want, (size_t)m * SX_PAIR_RS) != 0) {
		fprintf(stderr, "pipeline: %lu pairs (m %lu), want %lu\n",
			(unsigned long)r.n_pairs, (unsigned long)r.m,
			(unsigned long)m);
		return 1;
	}
	free(r.pairs);

	/* Sorted without the NULL flag: NULL rows fall among equal keys. */
	c.raw_sort = 1;
	if (sx_run(s, key_in, key_out, &c, &r) != 0 || r.n_pairs != m) {
		fprintf(stderr, "pipeline (raw sort): %s failed 0x%x\n",
			sx_step_name(r.step), r.res);
		return 1;
	}
	qsort(r.pairs, r.n_pairs, SX_PAIR_RS, cmp_pair);
	if (memcmp(r.pairs, want, (size_t)m * SX_PAIR_RS) != 0) {
		fprintf(stderr, "pipeline (raw sort): wrong pairs\n");
		return 1;
	}
	free(r.pairs);

	/* A wrong m: FILL declassifies its error bit and refuses. */
	c.m_delta = -2;
	if (sx_run(s, key_in, key_out, &c, &r) == 0 || r.step != SX_FILL ||
	    r.res != TS_ERROR_BAD_REQUEST) {
		fprintf(stderr, "FILL accepted m - 2\n");
		return 1;
	}
	free(r.pairs);
	free(want);
	th_close_session(s);
	printf("ct_stream_expand_harness: %u x %u rows joined into m = %lu "
	       "pairs; m - 2 refused\n", N1, N2, (unsigned long)m);
	return 0;
}

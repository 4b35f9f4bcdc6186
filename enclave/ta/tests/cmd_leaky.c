/*
 * cmd_leaky.c - NOT constant-time. The functions the negative-control
 * builds of the TA commands call in place of their constant-time parts
 * (ta_sim.mk: cmd_merge_split.c with -Dxsort_merge_runs=..., cmd_stream.c
 * with -DSTREAM_KEY_EQ=..., cmd_stream_map.c with -DSTREAM_MAP_EMIT=...;
 * stream_expand.mk: cmd_stream_expand.c with -DSTREAM_KEY_EQ= and
 * -DEXPAND_U64_LT=...). Linked only into the leaky harnesses of xsort-ct,
 * stream-ct and cmd-trace, which must be caught by valgrind or by a trace
 * difference. (ct_stream_expand_harness.c has its own switchable versions
 * of the two expansion functions, to catch each leak separately.)
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "tee_internal_api.h"

/* NOT constant-time: merges recs[0..r) and recs[r..2r) with a textbook
 * two-pointer merge that branches on the keys. */
void xsort_merge_runs_leaky(uint8_t *recs, size_t r, size_t rec_size,
			    size_t key_words);
void xsort_merge_runs_leaky(uint8_t *recs, size_t r, size_t rec_size,
			    size_t key_words)
{
	uint8_t *tmp = malloc(2 * r * rec_size);
	size_t a = 0, b = r, o, w;

	if (!tmp)
		abort();

	for (o = 0; o < 2 * r; o++) {
		int take_a = b >= 2 * r;

		if (a < r && b < 2 * r) {
			const uint64_t *ka = (const void *)(recs + a * rec_size);
			const uint64_t *kb = (const void *)(recs + b * rec_size);

			take_a = 1;
			for (w = 0; w < key_words; w++)
				if (ka[w] != kb[w]) {	/* secret branch */
					take_a = ka[w] < kb[w];
					break;
				}
		}
		memcpy(tmp + o * rec_size,
		       recs + (take_a ? a++ : b++) * rec_size, rec_size);
	}
	memcpy(recs, tmp, 2 * r * rec_size);
	free(tmp);
}

/* NOT constant-time: returns at the first differing key word. */
uint32_t stream_key_eq_leaky(const uint64_t *a, const uint64_t *b,
			     size_t words);
uint32_t stream_key_eq_leaky(const uint64_t *a, const uint64_t *b,
			     size_t words)
{
	size_t i;

	for (i = 0; i < words; i++)
		if (a[i] != b[i])	/* secret branch */
			return 0;
	return 1;
}

/* NOT constant-time: GROUP_COUNT's key comparison for the leaky
 * cmd_stream_expand.c of stream_expand.mk (-DSTREAM_KEY_EQ=...); unlike
 * ct_stream_expand_harness.c's, it always leaks. */
uint32_t stream_expand_key_eq_leaky(const uint64_t *a, const uint64_t *b,
				    size_t words);
uint32_t stream_expand_key_eq_leaky(const uint64_t *a, const uint64_t *b,
				    size_t words)
{
	return stream_key_eq_leaky(a, b, words);
}

/* NOT constant-time: FILL's t < copies for the leaky cmd_stream_expand.c
 * (-DEXPAND_U64_LT=...), a loop whose trip count is min(x, y). */
uint32_t stream_expand_u64_lt_leaky(uint64_t x, uint64_t y);
uint32_t stream_expand_u64_lt_leaky(uint64_t x, uint64_t y)
{
	while (x != 0 && y != 0) {	/* secret branch */
		x--;
		y--;
	}
	return y != 0;
}

/* NOT constant-time: MAP's row emit for the leaky cmd_stream_map.c of
 * ta_sim.mk (-DSTREAM_MAP_EMIT=...). A kept row also bumps a volatile
 * counter, so the branch on the predicate cannot be compiled into a
 * select and shows in the instruction trace. */
struct stream_state;
TEE_Result stream_out_masked(struct stream_state *st, uint32_t ctl,
			     const uint8_t *row);
TEE_Result stream_map_emit_leaky(struct stream_state *st, uint32_t ctl,
				 const uint8_t *row);
TEE_Result stream_map_emit_leaky(struct stream_state *st, uint32_t ctl,
				 const uint8_t *row)
{
	static volatile uint32_t kept;

	if (ctl)	/* secret branch */
		kept++;
	return stream_out_masked(st, ctl, row);
}

/*
 * cmd_external_sort.h - the external sort job (XSORT_START, XSORT_CHUNK,
 * XSORT_MERGE_SPLIT, XSORT_EMIT; teespark_ta.h, "External sort"): sorting
 * a registered table much larger than the TA heap by streaming sealed runs
 * through the TA.
 *
 * The job state lives in the TA (one job per session): the input table's
 * shape, the key columns, the run geometry, a random job id and a random
 * job key that seals the intermediate runs, and per run an epoch. The host
 * drives the schedule; the TA checks every step against it (xsort_net) and
 * every run against its current epoch, so the host can neither skip, repeat
 * or reorder comparators, nor swap, replay or drop runs.
 *
 * Everything in struct xsort_job is public except key[].
 */
#ifndef TEESPARK_CMD_EXTERNAL_SORT_H
#define TEESPARK_CMD_EXTERNAL_SORT_H

#include "cmd.h"
#include "../crypto/block_gcm.h"
#include "../ops/key_encode.h"

/* The comparator schedule: Batcher's bitonic sorter over K = 2^ceil(log2 k)
 * positions written with ascending comparators only (each merge starts with
 * a "flip" stage comparing b + t with b + size - 1 - t, then half-cleaners
 * with strides size/4 .. 1). Comparators with an index >= k are dropped:
 * positions >= k stand for +infinity runs, which an ascending comparator
 * would leave in place. Replacing every comparator with a merge-split of
 * sorted runs sorts the runs' records (the 0-1 principle for merge-split
 * networks, Knuth, TAOCP vol. 3, section 5.3.4; Opaque's block-level
 * bitonic sort rests on it; tests check it against a reference). Public. */
struct xsort_net {
	uint32_t k;		/* runs */
	uint32_t K;		/* k rounded up to a power of two */
	uint32_t size;		/* current merge size (2 .. K) */
	uint32_t stride;	/* size / 2: flip stage; below: half-cleaner */
	uint32_t i;		/* next position to look at in this stage */
};

void xsort_net_start(struct xsort_net *it, uint32_t k);

/* The next comparator (*lo < *hi): 1, or 0 when the network is done. */
int xsort_net_next(struct xsort_net *it, uint32_t *lo, uint32_t *hi);

/* Job phases. */
#define XSORT_IDLE 0
#define XSORT_CHUNKS 1	/* XSORT_CHUNK next_chunk expected */
#define XSORT_MERGE 2	/* XSORT_MERGE_SPLIT next_lo, next_hi expected */
#define XSORT_EMIT 3	/* XSORT_EMIT expected */

struct xsort_job {
	const struct ta_session *owner;	/* NULL: entry free */
	uint32_t phase;
	uint8_t job_id[16];		/* table_id of the run blocks */
	uint8_t key[TS_KEY_SIZE];	/* seals the runs; secret, never leaves */
	struct ta_table in;		/* copy of the registered input table */
	uint32_t in_slot, out_slot;
	uint32_t key_count;
	struct obl_key_col cols[TS_MAX_SORT_KEYS];
	size_t user_words;		/* key words of the request's columns */
	size_t key_words;		/* 1 + user_words (the is_dummy word) */
	size_t rec_size;		/* 8 * key_words + row_size rounded to 8 */
	uint32_t blocks_per_chunk;	/* c */
	uint32_t run_rows;		/* r, a power of two */
	uint32_t runs;			/* k */
	uint32_t recs_per_block;	/* records in a full run block */
	uint32_t blocks_per_run;
	size_t run_sealed;		/* bytes of one sealed run */
	uint32_t out_rows_per_block;
	uint8_t out_table_id[16];
	uint64_t out_table_version;
	uint32_t next_chunk;
	struct xsort_net net;
	uint32_t next_lo, next_hi;	/* valid in XSORT_MERGE */
	uint64_t steps_left;
	uint32_t *epoch;		/* runs entries (TEE_Malloc) */
};

/* The job of session s in the given phase, or NULL (logged as `cmd`). */
struct xsort_job *xsort_job_get(const struct ta_session *s, uint32_t phase,
				const char *cmd);

/* Advance the schedule past the comparator just done (or to the first one):
 * sets next_lo/next_hi, or moves the job to XSORT_EMIT. */
void xsort_job_advance(struct xsort_job *j);

/* Records of block b of a run. */
uint32_t xsort_block_recs(const struct xsort_job *j, uint32_t b);

/* Open run `run` at its current epoch from `buf` (untrusted, at least the
 * run's sealed size) into recs (run_rows records, TA memory): every header
 * must name the job, the run, its epoch and the block's position and size.
 * On TS_ERROR_BLOCK_* *fail_index is the block within the run.
 * Leaks: the headers (public), which block fails.  Hides: the records. */
TEE_Result xsort_run_open(const struct xsort_job *j, struct block_gcm *dec,
			  const uint8_t *buf, uint32_t run, uint8_t *recs,
			  uint32_t *fail_index);

/* Seal run_rows records at recs as run `run` with epoch `epoch` into out
 * (untrusted, run_sealed bytes), fresh nonces.
 * Leaks: run, epoch, sizes.  Hides: the records. */
TEE_Result xsort_run_seal(const struct xsort_job *j, struct block_gcm *enc,
			  const uint8_t *recs, uint32_t run, uint32_t epoch,
			  uint8_t *out);

/* cmd_merge_runs.c: merge two ascending runs of r records each,
 * recs[0..r) and recs[r..2r), into ascending recs[0..2r); r a power of two.
 * A bitonic merge: compare-exchange (i, 2r-1-i) for i < r (each half is
 * then bitonic and the lower one holds the r smallest), then half-cleaners
 * with strides r/2 .. 1 in each half. r * (1 + log2 r) compare-exchanges.
 * Requirements as obl_sort_bitonic (rec_size multiple of 8, >= 8 *
 * key_words, recs 8-byte aligned).
 * Leaks: r, rec_size, key_words.  Hides: keys, payloads, how the runs
 * interleave. */
void xsort_merge_runs(uint8_t *recs, size_t r, size_t rec_size,
		      size_t key_words);

/* The handlers (param[0..3] in teespark_ta.h).
 * Leaks: the input table's shape, the key column list, c, run_rows, the run
 * count, the schedule (a function of the run count), run headers, which
 * block fails.  Hides: rows, keys, their order, where any row goes. */
TEE_Result cmd_xsort_start(struct ta_session *s, uint32_t param_types,
			   TEE_Param params[SHIM_NUM_PARAMS]);
TEE_Result cmd_xsort_chunk(struct ta_session *s, uint32_t param_types,
			   TEE_Param params[SHIM_NUM_PARAMS]);
TEE_Result cmd_xsort_merge_split(struct ta_session *s, uint32_t param_types,
				 TEE_Param params[SHIM_NUM_PARAMS]);
TEE_Result cmd_xsort_emit(struct ta_session *s, uint32_t param_types,
			  TEE_Param params[SHIM_NUM_PARAMS]);

/* Session close: wipe and free the session's job, if any. */
void xsort_session_close(const struct ta_session *s);

#endif /* TEESPARK_CMD_EXTERNAL_SORT_H */

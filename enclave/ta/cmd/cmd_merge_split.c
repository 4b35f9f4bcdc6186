/*
 * cmd_merge_split.c - TA_TEESPARK_CMD_XSORT_MERGE_SPLIT: one comparator of
 * the external sort's merge network (see cmd_external_sort.h).
 *
 *   1. the job must be in its merge phase and (lo, hi) must be the
 *      schedule's next comparator (TEE_ERROR_BAD_STATE otherwise);
 *   2. open run lo, then run hi, at their current epochs into one buffer of
 *      2 * run_rows records (a stale, swapped, replayed or short run fails
 *      with TS_ERROR_BLOCK_SEQUENCE before anything changes);
 *   3. xsort_merge_runs: an oblivious bitonic merge of the two sorted runs;
 *   4. seal the lower run_rows records as run lo and the upper ones as run
 *      hi, each at its epoch + 1, with fresh nonces under the job key;
 *   5. only then bump both epochs and advance the schedule.
 * Loop bounds and offsets depend on run_rows, rec_size and headers only.
 */
#include "cmd_external_sort.h"

/* see cmd_external_sort.h */
TEE_Result cmd_xsort_merge_split(struct ta_session *s, uint32_t param_types,
				 TEE_Param params[SHIM_NUM_PARAMS])
{
	const uint32_t exp = TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_MEMREF_OUTPUT,
					     TEE_PARAM_TYPE_VALUE_INPUT,
					     TEE_PARAM_TYPE_VALUE_OUTPUT);
	struct block_gcm dec = { TEE_HANDLE_NULL }, enc = { TEE_HANDLE_NULL };
	struct xsort_job *j;
	const uint8_t *in;
	uint8_t *out, *recs = NULL;
	size_t recs_size = 0, run_bytes;
	uint32_t lo, hi, fail_index = 0, which = 0;
	TEE_Result res;

	if (param_types != exp)
		return TEE_ERROR_BAD_PARAMETERS;
	params[3].value.a = 0;
	params[3].value.b = 0;
	j = xsort_job_get(s, XSORT_MERGE, "XSORT_MERGE_SPLIT");
	if (!j)
		return TEE_ERROR_BAD_STATE;
	lo = params[2].value.a;
	hi = params[2].value.b;
	if (lo != j->next_lo || hi != j->next_hi) {
		SHIM_LOGE("XSORT_MERGE_SPLIT: runs (%u, %u), the schedule says "
			  "(%u, %u)", lo, hi, j->next_lo, j->next_hi);
		return TEE_ERROR_BAD_STATE;
	}
	if (!params[0].memref.buffer ||
	    params[0].memref.size != 2 * j->run_sealed) {
		SHIM_LOGE("XSORT_MERGE_SPLIT: %zu input bytes, expected %zu",
			  params[0].memref.size, 2 * j->run_sealed);
		return TS_ERROR_BLOCK_SEQUENCE;
	}
	if (params[1].memref.size < 2 * j->run_sealed ||
	    !params[1].memref.buffer) {
		params[1].memref.size = 2 * j->run_sealed;
		return TEE_ERROR_SHORT_BUFFER;
	}
	in = params[0].memref.buffer;
	out = params[1].memref.buffer;
	run_bytes = (size_t)j->run_rows * j->rec_size;
	recs_size = 2 * run_bytes;
	recs = TEE_Malloc(recs_size, TEE_MALLOC_NO_FILL);
	if (!recs) {
		SHIM_LOGE("XSORT_MERGE_SPLIT: %zu bytes do not fit the heap",
			  recs_size);
		return TEE_ERROR_OUT_OF_MEMORY;
	}
	res = block_gcm_init(&dec, TEE_MODE_DECRYPT, j->key);
	if (res == TEE_SUCCESS)
		res = block_gcm_init(&enc, TEE_MODE_ENCRYPT, j->key);
	if (res == TEE_SUCCESS)
		res = xsort_run_open(j, &dec, in, lo, recs, &fail_index);
	if (res == TEE_SUCCESS) {
		which = 1;
		res = xsort_run_open(j, &dec, in + j->run_sealed, hi,
				     recs + run_bytes, &fail_index);
	}
	if (res != TEE_SUCCESS)
		goto out;
	xsort_merge_runs(recs, j->run_rows, j->rec_size, j->key_words);
	res = xsort_run_seal(j, &enc, recs, lo, j->epoch[lo] + 1, out);
	if (res == TEE_SUCCESS)
		res = xsort_run_seal(j, &enc, recs + run_bytes, hi,
				     j->epoch[hi] + 1, out + j->run_sealed);
	if (res != TEE_SUCCESS)
		goto out;
	j->epoch[lo]++;
	j->epoch[hi]++;
	j->steps_left--;
	xsort_job_advance(j);
	params[1].memref.size = 2 * j->run_sealed;
	params[3].value.a = (uint32_t)j->steps_left;
out:
	block_gcm_free(&dec);
	block_gcm_free(&enc);
	cmd_free_wiped(&recs, recs_size);
	if (cmd_is_block_error(res)) {
		params[3].value.a = fail_index;
		params[3].value.b = which;
		SHIM_LOGE("XSORT_MERGE_SPLIT: run %u block %u: 0x%x",
			  which ? hi : lo, fail_index, (unsigned int)res);
	}
	return res;
}

/*
 * ct_xsort_harness.c - constant-time check of the external sort commands
 * (XSORT_START, XSORT_CHUNK, XSORT_MERGE_SPLIT, XSORT_EMIT) as shipped, run
 * under valgrind memcheck:
 *
 *   TEESPARK_SIM_CT_SECRETS=1 valgrind -q --error-exitcode=1 ct_xsort_harness
 *
 * As in ct_sort_harness.c, the simulator marks everything AES-GCM decrypts
 * as undefined (the input rows, and the records of every run the TA opens
 * again) and everything it encrypts as defined. Memcheck then reports any
 * branch or address in the TA that depends on a row or key, from encoding
 * the chunks through every merge-split to the emitted output.
 *
 * The negative control is this same file linked with a TA whose
 * XSORT_MERGE_SPLIT calls xsort_merge_runs_leaky (below: a textbook
 * two-pointer merge that branches on the keys) in place of
 * xsort_merge_runs (ct_xsort_harness_leaky, cmd_merge_split.c compiled
 * with -Dxsort_merge_runs=xsort_merge_runs_leaky); the runner requires
 * valgrind to flag it, so a check that cannot fail is caught.
 *
 * The harness reads no plaintext: it seals inputs and opens the output
 * with OpenSSL on defined data, and checks that the output is sorted.
 */
#include "ta_harness.h"
#include "../cmd/cmd_external_sort.h"

#include <stdlib.h>
#include <string.h>

#define N_ROWS 300
#define ROW_SIZE 24
#define IN_RPB 30
#define CHUNK_BLOCKS 2
#define RUN_ROWS 64	/* 5 runs, 60 real rows each */

/* The negative control's branchy merge: cmd_leaky.c. */

static TEE_Result call(void *s, uint32_t cmd, uint32_t types, void *in,
		       size_t in_len, void *out, size_t *out_len, uint32_t a,
		       uint32_t b)
{
	TEE_Param p[4];
	TEE_Result res;

	memset(p, 0, sizeof(p));
	p[0].memref.buffer = in;
	p[0].memref.size = in_len;
	p[1].memref.buffer = out;
	p[1].memref.size = out_len ? *out_len : 16;
	p[2].value.a = a;
	p[2].value.b = b;
	res = th_invoke(s, cmd, types, p);
	if (out_len)
		*out_len = p[1].memref.size;
	return res;
}

int main(void)
{
	const uint32_t step = TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					      TEE_PARAM_TYPE_MEMREF_OUTPUT,
					      TEE_PARAM_TYPE_VALUE_INPUT,
					      TEE_PARAM_TYPE_VALUE_OUTPUT);
	uint8_t key_in[32], key_out[32];
	struct th_table t;
	struct ts_sort_request req;
	uint8_t rows[N_ROWS * ROW_SIZE], got[N_ROWS * ROW_SIZE];
	size_t in_len = th_sealed_size(N_ROWS, ROW_SIZE, IN_RPB);
	uint8_t *in = malloc(in_len);
	uint8_t *runs[16], *buf = malloc(8u << 20), *pair = malloc(8u << 20);
	size_t off[N_ROWS / IN_RPB + 1], run_len = 0, len, o = 0;
	uint32_t i, n_blocks = N_ROWS / IN_RPB, k, lo, hi, unordered = 0;
	struct xsort_net net;
	TEE_Param p[4];
	void *s;
	TEE_Result res;

	th_init();
	th_rand_seed(0xc7c7c8);
	th_rand_bytes(key_in, 32);
	th_rand_bytes(key_out, 32);
	th_rand_bytes(rows, sizeof(rows));
	for (i = 0; i < N_ROWS; i++)	/* duplicates in the first key */
		rows[i * ROW_SIZE + 7] &= 1;
	th_table_random(&t, ROW_SIZE);
	th_seal_table(key_in, &t, rows, N_ROWS, IN_RPB, in);
	for (i = 0; i <= n_blocks; i++) {
		off[i] = o;
		if (i < n_blocks)
			o += TS_SEALED_BLOCK_SIZE((size_t)((const struct ts_block_header *)(const void *)(in + o))->ciphertext_size);
	}

	s = th_open_session();
	th_install_key(s, 0, key_in);
	th_install_key(s, 1, key_out);
	if (th_register_table(s, key_in, &t, N_ROWS, IN_RPB, 0) != TEE_SUCCESS)
		return 1;
	memset(&req, 0, sizeof(req));
	req.in_key_slot = 0;
	req.out_key_slot = 1;
	req.rows_per_block = 50;
	req.key_count = 3;
	memcpy(req.schema_hash, t.schema_hash, 32);
	memcpy(req.out_table_id, "ct-xsort-output!", 16);
	req.keys[0] = (struct ts_sort_key){ TS_KEY_UINT, 0, 7, 1, 0 };
	req.keys[1] = (struct ts_sort_key){ TS_KEY_FLOAT64, 1, 8, 8, 0 };
	req.keys[2] = (struct ts_sort_key){ TS_KEY_BYTES, 0, 16, 8, 0 };
	memset(p, 0, sizeof(p));
	p[0].memref.buffer = &req;
	p[0].memref.size = sizeof(req);
	p[1].memref.buffer = t.table_id;
	p[1].memref.size = 16;
	p[2].value.a = CHUNK_BLOCKS;
	p[2].value.b = RUN_ROWS;
	res = th_invoke(s, TA_TEESPARK_CMD_XSORT_START,
			TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					TEE_PARAM_TYPE_MEMREF_INPUT,
					TEE_PARAM_TYPE_VALUE_INPUT,
					TEE_PARAM_TYPE_VALUE_OUTPUT), p);
	k = p[3].value.a;
	if (res != TEE_SUCCESS || k != 5) {
		fprintf(stderr, "XSORT_START failed 0x%x\n", res);
		return 1;
	}
	for (i = 0; i < k; i++) {
		uint32_t end = (i + 1) * CHUNK_BLOCKS;

		len = 8u << 20;
		res = call(s, TA_TEESPARK_CMD_XSORT_CHUNK, step,
			   in + off[i * CHUNK_BLOCKS],
			   off[end] - off[i * CHUNK_BLOCKS], buf, &len, i, 0);
		if (res != TEE_SUCCESS) {
			fprintf(stderr, "XSORT_CHUNK %u failed 0x%x\n", i, res);
			return 1;
		}
		run_len = len;
		runs[i] = malloc(run_len);
		memcpy(runs[i], buf, run_len);
	}
	xsort_net_start(&net, k);
	while (xsort_net_next(&net, &lo, &hi)) {
		memcpy(pair, runs[lo], run_len);
		memcpy(pair + run_len, runs[hi], run_len);
		len = 2 * run_len;
		res = call(s, TA_TEESPARK_CMD_XSORT_MERGE_SPLIT, step, pair,
			   2 * run_len, buf, &len, lo, hi);
		if (res != TEE_SUCCESS) {
			fprintf(stderr, "XSORT_MERGE_SPLIT failed 0x%x\n", res);
			return 1;
		}
		memcpy(runs[lo], buf, run_len);
		memcpy(runs[hi], buf + run_len, run_len);
	}
	for (i = 0; i < k; i++)
		memcpy(pair + i * run_len, runs[i], run_len);
	len = 8u << 20;
	res = call(s, TA_TEESPARK_CMD_XSORT_EMIT,
		   TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
				   TEE_PARAM_TYPE_MEMREF_OUTPUT,
				   TEE_PARAM_TYPE_NONE,
				   TEE_PARAM_TYPE_VALUE_OUTPUT),
		   pair, k * run_len, buf, &len, 0, 0);
	if (res != TEE_SUCCESS ||
	    !th_descriptor_verify(key_out, (const void *)buf) ||
	    th_open_table(key_out, buf + TS_TABLE_DESCRIPTOR_SIZE,
			  len - TS_TABLE_DESCRIPTOR_SIZE, got, sizeof(got),
			  NULL, 0, NULL) != N_ROWS) {
		fprintf(stderr, "XSORT_EMIT failed 0x%x\n", res);
		return 1;
	}
	for (i = 1; i < N_ROWS; i++)
		unordered += got[(i - 1) * ROW_SIZE + 7] > got[i * ROW_SIZE + 7];
	if (unordered) {
		fprintf(stderr, "output not sorted by the first key\n");
		return 1;
	}
	th_close_session(s);
	for (i = 0; i < k; i++)
		free(runs[i]);
	free(in);
	free(buf);
	free(pair);
	printf("ct_xsort_harness: sorted %u rows through %u runs\n", N_ROWS, k);
	return 0;
}

/*
 * ct_sort_harness.c - constant-time check of SORT_BLOCKS (and RESEAL_BLOCKS
 * and EXPORT_RESULT) as shipped, run under valgrind memcheck:
 *
 *   TEESPARK_SIM_CT_SECRETS=1 valgrind -q --error-exitcode=1 ct_sort_harness
 *
 * With TEESPARK_SIM_CT_SECRETS=1 the simulator marks everything AES-GCM
 * decrypts as undefined and everything it encrypts as defined (ciphertext is
 * public). Memcheck then reports any conditional branch or memory address in
 * the TA that depends on decrypted rows, from opening the blocks to sealing
 * the sorted output, with the TA objects compiled with the shipped flags.
 *
 * The negative control is this same file linked with a TA whose sort
 * command calls the NOT constant-time qsort reference instead of
 * obl_sort_bitonic (ct_sort_harness_leaky, built with
 * -Dobl_sort_bitonic=ref_sort_bitonic); the runner requires valgrind to
 * fail on it, so a check that cannot fail is caught.
 *
 * The table is registered first (REGISTER_TABLE: the descriptor MAC is
 * checked with a key derived from the data key); SORT_BLOCKS writes its
 * output descriptor before the blocks and registers the output, which
 * RESEAL_BLOCKS then reads. EXPORT_RESULT then re-blocks the resealed table
 * for a recipient named in a KBS reply (built with OpenSSL; the reply wraps
 * no keys, so no key is marked secret and only the rows are).
 *
 * The harness itself never reads plaintext: it seals inputs and opens
 * outputs with OpenSSL on data that is defined, and checks that the output
 * is sorted (exit 1 otherwise).
 */
#include "ta_harness.h"
#include "ta_testkbs.h"

#include <stdlib.h>
#include <string.h>

#define N_ROWS 300
#define ROW_SIZE 24

int main(void)
{
	uint8_t key_in[32], key_out[32];
	struct th_table t;
	struct ts_sort_request req;
	uint8_t rows[N_ROWS * ROW_SIZE], got[N_ROWS * ROW_SIZE];
	size_t in_len = th_sealed_size(N_ROWS, ROW_SIZE, 64);
	size_t blocks_cap = th_sealed_size(N_ROWS, ROW_SIZE, 50);
	size_t out_cap = TS_TABLE_DESCRIPTOR_SIZE + blocks_cap, out_len;
	uint8_t *in = malloc(in_len), *out = malloc(out_cap), *re = malloc(out_cap);
	uint8_t *blocks = out + TS_TABLE_DESCRIPTOR_SIZE;
	TEE_Param p[4];
	void *s;
	uint32_t i, unordered = 0;
	TEE_Result res;

	th_init();
	th_rand_seed(0xc7c7c7);
	th_rand_bytes(key_in, 32);
	th_rand_bytes(key_out, 32);
	th_rand_bytes(rows, sizeof(rows));
	for (i = 0; i < N_ROWS; i++)	/* duplicates in the first key */
		rows[i * ROW_SIZE + 7] &= 1;
	th_table_random(&t, ROW_SIZE);
	th_seal_table(key_in, &t, rows, N_ROWS, 64, in);

	s = th_open_session();
	th_install_key(s, 0, key_in);
	th_install_key(s, 1, key_out);
	res = th_register_table(s, key_in, &t, N_ROWS, 64, 0);
	if (res != TEE_SUCCESS) {
		fprintf(stderr, "REGISTER_TABLE failed 0x%x\n", res);
		return 1;
	}

	/* Three key types, mixed directions. */
	memset(&req, 0, sizeof(req));
	req.in_key_slot = 0;
	req.out_key_slot = 1;
	req.rows_per_block = 50;
	req.key_count = 3;
	memcpy(req.schema_hash, t.schema_hash, 32);
	req.keys[0] = (struct ts_sort_key){ TS_KEY_UINT, 0, 7, 1, 0 };
	req.keys[1] = (struct ts_sort_key){ TS_KEY_FLOAT64, 1, 8, 8, 0 };
	req.keys[2] = (struct ts_sort_key){ TS_KEY_BYTES, 0, 16, 8, 0 };

	memset(p, 0, sizeof(p));
	p[0].memref.buffer = in;
	p[0].memref.size = in_len;
	p[1].memref.buffer = out;
	p[1].memref.size = out_cap;
	p[2].memref.buffer = &req;
	p[2].memref.size = sizeof(req);
	res = th_invoke(s, TA_TEESPARK_CMD_SORT_BLOCKS,
			TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					TEE_PARAM_TYPE_MEMREF_OUTPUT,
					TEE_PARAM_TYPE_MEMREF_INPUT,
					TEE_PARAM_TYPE_VALUE_OUTPUT), p);
	if (res != TEE_SUCCESS) {
		fprintf(stderr, "SORT_BLOCKS failed 0x%x\n", res);
		return 1;
	}
	out_len = p[1].memref.size - TS_TABLE_DESCRIPTOR_SIZE;
	if (!th_descriptor_verify(key_out, (const void *)out) ||
	    th_open_table(key_out, blocks, out_len, got, sizeof(got), NULL, 0,
			  NULL) != N_ROWS) {
		fprintf(stderr, "sorted output does not open\n");
		return 1;
	}
	/* The first key alone (a byte in {0, 1}) must be non-decreasing. */
	for (i = 1; i < N_ROWS; i++)
		unordered += got[(i - 1) * ROW_SIZE + 7] > got[i * ROW_SIZE + 7];
	if (unordered) {
		fprintf(stderr, "output not sorted by the first key\n");
		return 1;
	}

	/* RESEAL_BLOCKS over the sorted output: open + seal only. */
	memset(p, 0, sizeof(p));
	p[0].memref.buffer = blocks;
	p[0].memref.size = out_len;
	p[1].memref.buffer = re;
	p[1].memref.size = out_cap;
	p[2].value.a = 1;
	p[2].value.b = 0;
	res = th_invoke(s, TA_TEESPARK_CMD_RESEAL_BLOCKS,
			TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					TEE_PARAM_TYPE_MEMREF_OUTPUT,
					TEE_PARAM_TYPE_VALUE_INPUT,
					TEE_PARAM_TYPE_VALUE_OUTPUT), p);
	if (res != TEE_SUCCESS ||
	    th_open_table(key_in, re, p[1].memref.size, rows, sizeof(rows),
			  NULL, 0, NULL) != N_ROWS ||
	    memcmp(rows, got, sizeof(got)) != 0) {
		fprintf(stderr, "RESEAL_BLOCKS failed 0x%x\n", res);
		return 1;
	}

	/* EXPORT_RESULT of the resealed table (registered with slot 0 by
	 * RESEAL_BLOCKS), 50-row blocks into 37-row blocks. */
	{
		struct th_kbs kbs;
		struct ts_evidence ev;
		struct ts_recipient rc;
		struct ts_export_request xr;
		uint8_t nonce[32] = { 7 }, ev_hash[32], reply[512], priv[32];
		uint8_t rkey[32];
		size_t rlen, x_cap = out_cap + 1024;
		uint8_t *x = malloc(x_cap);

		th_kbs_init(&kbs);
		memset(&rc, 0, sizeof(rc));
		memcpy(rc.recipient_id, "ct-recipient-001", 16);
		th_x25519_keypair(priv, rc.public_key);
		memset(p, 0, sizeof(p));
		p[0].memref.buffer = kbs.pub;
		p[0].memref.size = 32;
		res = th_invoke(s, TA_TEESPARK_CMD_PIN_KBS_KEY,
				TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
						TEE_PARAM_TYPE_NONE,
						TEE_PARAM_TYPE_NONE,
						TEE_PARAM_TYPE_NONE), p);
		p[0].memref.buffer = nonce;
		p[1].memref.buffer = &ev;
		p[1].memref.size = sizeof(ev);
		if (res == TEE_SUCCESS)
			res = th_invoke(s, TA_TEESPARK_CMD_GET_EVIDENCE,
					TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
							TEE_PARAM_TYPE_MEMREF_OUTPUT,
							TEE_PARAM_TYPE_NONE,
							TEE_PARAM_TYPE_NONE), p);
		th_sha256(&ev, sizeof(ev), ev_hash);
		rlen = th_kbs_reply(&kbs, ev_hash, ev.body.ta_public_key, NULL,
				    0, &rc, 1, reply);
		memset(p, 0, sizeof(p));
		p[0].memref.buffer = reply;
		p[0].memref.size = rlen;
		if (res == TEE_SUCCESS)
			res = th_invoke(s, TA_TEESPARK_CMD_IMPORT_KEYS,
					TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
							TEE_PARAM_TYPE_VALUE_OUTPUT,
							TEE_PARAM_TYPE_NONE,
							TEE_PARAM_TYPE_NONE), p);
		memset(&xr, 0, sizeof(xr));
		xr.in_key_slot = 0;
		xr.rows_per_block = 37;
		memcpy(xr.recipient_id, rc.recipient_id, 16);
		memcpy(xr.out_table_id, "ct-export-table!", 16);
		xr.out_table_version = 1;
		memset(p, 0, sizeof(p));
		p[0].memref.buffer = re;
		p[0].memref.size = out_len;
		p[1].memref.buffer = x;
		p[1].memref.size = x_cap;
		p[2].memref.buffer = &xr;
		p[2].memref.size = sizeof(xr);
		if (res == TEE_SUCCESS)
			res = th_invoke(s, TA_TEESPARK_CMD_EXPORT_RESULT,
					TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
							TEE_PARAM_TYPE_MEMREF_OUTPUT,
							TEE_PARAM_TYPE_MEMREF_INPUT,
							TEE_PARAM_TYPE_VALUE_OUTPUT), p);
		if (res != TEE_SUCCESS ||
		    th_open_envelope(priv, rc.public_key, (const void *)x,
				     rkey) != 0 ||
		    th_open_table(rkey, x + TS_RESULT_ENVELOPE_SIZE +
					   TS_TABLE_DESCRIPTOR_SIZE,
				  p[1].memref.size - TS_RESULT_ENVELOPE_SIZE -
					  TS_TABLE_DESCRIPTOR_SIZE,
				  rows, sizeof(rows), NULL, 0, NULL) != N_ROWS ||
		    memcmp(rows, got, sizeof(got)) != 0) {
			fprintf(stderr, "EXPORT_RESULT failed 0x%x\n", res);
			return 1;
		}
		th_kbs_free(&kbs);
		free(x);
	}

	th_close_session(s);
	TA_DestroyEntryPoint();
	free(in);
	free(out);
	free(re);
	printf("ct_sort_harness: SORT_BLOCKS + RESEAL_BLOCKS + EXPORT_RESULT ran\n");
	return 0;
}

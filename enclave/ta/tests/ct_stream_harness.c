/*
 * ct_stream_harness.c - constant-time check of TA_TEESPARK_CMD_STREAM (all
 * four modes: WIDEN, AGGREGATE, JOIN_PKFK, LIMIT) as shipped, run under
 * valgrind memcheck:
 *
 *   TEESPARK_SIM_CT_SECRETS=1 valgrind -q --error-exitcode=1 ct_stream_harness
 *
 * As in ct_xsort_harness.c, the simulator marks everything AES-GCM decrypts
 * as undefined and everything it encrypts as defined, so memcheck reports
 * any branch or address in the TA that depends on a row, a key, a group
 * boundary or a match. Only the documented declassifications (the real row
 * count with reveal = 1, whether a primary key repeats) are made defined.
 *
 * The negative control is this same file linked with a TA whose
 * cmd_stream.c compares keys with stream_key_eq_leaky (below: an early-exit
 * loop) in place of ct_key_eq (ct_stream_harness_leaky, built with
 * -DSTREAM_KEY_EQ=stream_key_eq_leaky); the runner requires valgrind to
 * flag it, so a check that cannot fail is caught.
 *
 * The harness computes its references from the plaintext it sealed (on
 * defined data) and compares the opened outputs with them.
 */
#include "ta_harness.h"

#include <stdlib.h>
#include <string.h>

#define N_AGG 240
#define AGG_RS 32	/* key u64 | v i64 | f f64 | null byte | pad */
#define N_PK 40
#define N_FK 160
#define PK_RS 16	/* id u64 | payload */
#define FK_RS 24	/* fk u64 | payload | rid */
#define U_RS 56		/* side | 7 | key | PK row | FK row (WIDEN layout) */
#define RPB 25

/* NOT constant-time: the negative control. Returns at the first differing
 * word. */
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

static uint64_t ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void st64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint8_t out_buf[4u << 20];
static uint8_t got[1u << 20];

/* One STREAM call on `in`; the output opened into got. Returns rows or -1;
 * *real = params[3].value.b. */
static long run(void *s, struct ts_stream_request *req, const uint8_t *in,
		size_t in_len, const uint8_t key_out[32], uint32_t *real)
{
	TEE_Param p[4];
	TEE_Result res;

	memset(p, 0, sizeof(p));
	p[0].memref.buffer = (void *)(uintptr_t)in;
	p[0].memref.size = in_len;
	p[1].memref.buffer = out_buf;
	p[1].memref.size = sizeof(out_buf);
	p[2].memref.buffer = req;
	p[2].memref.size = sizeof(*req);
	res = th_invoke(s, TA_TEESPARK_CMD_STREAM,
			TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					TEE_PARAM_TYPE_MEMREF_OUTPUT,
					TEE_PARAM_TYPE_MEMREF_INPUT,
					TEE_PARAM_TYPE_VALUE_OUTPUT), p);
	if (res != TEE_SUCCESS) {
		fprintf(stderr, "STREAM mode %u failed 0x%x\n", req->mode, res);
		return -1;
	}
	*real = p[3].value.b;
	if (!th_descriptor_verify(key_out, (const void *)out_buf))
		return -1;
	return th_open_table(key_out, out_buf + TS_TABLE_DESCRIPTOR_SIZE,
			     p[1].memref.size - TS_TABLE_DESCRIPTOR_SIZE, got,
			     sizeof(got), NULL, 0, NULL);
}

static void base_req(struct ts_stream_request *r, uint32_t mode,
		     const char id[17])
{
	memset(r, 0, sizeof(*r));
	r->mode = mode;
	r->out_key_slot = 1;
	memcpy(r->out_table_id, id, 16);
	r->out_table_version = 1;
}

int main(void)
{
	uint8_t key_in[32], key_out[32];
	static uint8_t agg[N_AGG * AGG_RS], pk[N_PK * PK_RS], fk[N_FK * FK_RS];
	static uint8_t uni[(N_PK + N_FK) * U_RS];
	static uint8_t sealed[1u << 20];
	struct th_table ta_agg, ta_pk, ta_fk;
	struct ts_stream_request req;
	uint64_t k = 0, groups = 0, sum_cnt = 0, matches = 0;
	size_t len0, len1;
	uint32_t i, j, real, n_u;
	long n;
	void *s;

	th_init();
	th_rand_seed(0x5173a3);
	th_rand_bytes(key_in, 32);
	th_rand_bytes(key_out, 32);
	s = th_open_session();
	th_install_key(s, 0, key_in);
	th_install_key(s, 1, key_out);

	/* AGGREGATE over rows sorted by key (runs of 1..8 equal keys). */
	th_rand_bytes(agg, sizeof(agg));
	for (i = 0; i < N_AGG; i++) {
		if (i == 0 || th_rand64() % 4 == 0) {
			k += 1 + th_rand64() % 3;
			groups++;
		}
		st64(agg + i * AGG_RS, k);
		agg[i * AGG_RS + 24] &= 3;
	}
	th_table_random(&ta_agg, AGG_RS);
	len0 = th_seal_table(key_in, &ta_agg, agg, N_AGG, RPB, sealed);
	if (th_register_table(s, key_in, &ta_agg, N_AGG, RPB, 0) != TEE_SUCCESS)
		return 1;
	base_req(&req, TS_STREAM_AGGREGATE, "ct-stream-aggr!!");
	req.reveal = 1;
	req.key_count = 1;
	req.keys[0] = (struct ts_op_key){ TS_KEY_UINT, 0, 0, 8, 0, 0, 0, 0, 0, 0 };
	req.agg_count = 5;
	req.aggs[0] = (struct ts_op_agg){ TS_AGG_COUNT_STAR, 0, 0, 0, 0, 0, 0, 0 };
	req.aggs[1] = (struct ts_op_agg){ TS_AGG_SUM, TS_KEY_INT, 8, 8, 24, 0, 1, 0 };
	req.aggs[2] = (struct ts_op_agg){ TS_AGG_MIN, TS_KEY_INT, 8, 4, 24, 0, 1, 0 };
	req.aggs[3] = (struct ts_op_agg){ TS_AGG_MAX, TS_KEY_FLOAT64, 16, 8, 24, 1, 1, 0 };
	req.aggs[4] = (struct ts_op_agg){ TS_AGG_AVG, TS_KEY_UINT, 8, 2, 0, 0, 0, 0 };
	n = run(s, &req, sealed, len0, key_out, &real);
	/* out row: flag word | row (32) | 5 x 8 values | 8 null bytes = 88 */
	if (n != N_AGG || real != groups) {
		fprintf(stderr, "AGGREGATE: %ld rows, %u groups (want %u, %lu)\n",
			n, real, N_AGG, (unsigned long)groups);
		return 1;
	}
	for (i = 0; i < N_AGG; i++) {
		const uint8_t *o = got + (size_t)i * 88;
		int last = i == N_AGG - 1 ||
			   ld64(agg + (i + 1) * AGG_RS) != ld64(agg + i * AGG_RS);

		if (o[0] != last) {
			fprintf(stderr, "AGGREGATE: row %u flag %u\n", i, o[0]);
			return 1;
		}
		sum_cnt += ld64(o + 8 + AGG_RS);
	}
	if (sum_cnt != N_AGG) {
		fprintf(stderr, "AGGREGATE: COUNT(*) sums to %lu\n",
			(unsigned long)sum_cnt);
		return 1;
	}

	/* WIDEN: the union of a PK and an FK table. */
	th_rand_bytes(pk, sizeof(pk));
	th_rand_bytes(fk, sizeof(fk));
	for (i = 0; i < N_PK; i++)
		st64(pk + i * PK_RS, 3 * i);
	for (i = 0; i < N_FK; i++)
		st64(fk + i * FK_RS, th_rand64() % (3 * N_PK + 10));
	th_table_random(&ta_pk, PK_RS);
	th_table_random(&ta_fk, FK_RS);
	len0 = th_seal_table(key_in, &ta_pk, pk, N_PK, RPB, sealed);
	len1 = th_seal_table(key_in, &ta_fk, fk, N_FK, RPB, sealed + len0);
	if (th_register_table(s, key_in, &ta_pk, N_PK, RPB, 0) != TEE_SUCCESS ||
	    th_register_table(s, key_in, &ta_fk, N_FK, RPB, 0) != TEE_SUCCESS)
		return 1;
	base_req(&req, TS_STREAM_WIDEN, "ct-stream-widen!");
	req.rows_per_block = 30;
	req.out_row_size = U_RS;
	req.side_offset = 0;
	req.pk_offset = 16;
	req.fk_offset = 16 + PK_RS;
	req.in0_bytes = len0;
	req.copy_count = 1;
	req.copies[0] = (struct ts_stream_copy){ 0, 0, 8, 8 };
	n = run(s, &req, sealed, len0 + len1, key_out, &real);
	if (n != N_PK + N_FK || memcmp(got + U_RS + 16, pk + PK_RS, PK_RS) ||
	    got[N_PK * U_RS] != 1 ||
	    memcmp(got + N_PK * U_RS + 8, fk, 8)) {
		fprintf(stderr, "WIDEN: wrong output (%ld rows)\n", n);
		return 1;
	}
	/* Sort the union by (key, side) here (defined data), then JOIN_PKFK
	 * over it as a newly sealed table. */
	n_u = N_PK + N_FK;
	memcpy(uni, got, (size_t)n_u * U_RS);
	for (i = 1; i < n_u; i++) {
		uint8_t row[U_RS];

		memcpy(row, uni + i * U_RS, U_RS);
		for (j = i; j > 0; j--) {
			const uint8_t *q = uni + (j - 1) * U_RS;

			if (ld64(q + 8) < ld64(row + 8) ||
			    (ld64(q + 8) == ld64(row + 8) && q[0] <= row[0]))
				break;
			memcpy(uni + j * U_RS, q, U_RS);
		}
		memcpy(uni + j * U_RS, row, U_RS);
	}
	for (i = 0; i < N_FK; i++)
		matches += ld64(fk + i * FK_RS) % 3 == 0 &&
			   ld64(fk + i * FK_RS) < 3 * N_PK;
	th_table_random(&ta_pk, U_RS);	/* reuse: the sorted union table */
	len0 = th_seal_table(key_in, &ta_pk, uni, n_u, RPB, sealed);
	if (th_register_table(s, key_in, &ta_pk, n_u, RPB, 0) != TEE_SUCCESS)
		return 1;
	base_req(&req, TS_STREAM_JOIN_PKFK, "ct-stream-join!!");
	req.reveal = 1;
	req.key_count = 1;
	req.keys[0] = (struct ts_op_key){ TS_KEY_UINT, 0, 8, 8, 0, 0, 0, 0, 0, 0 };
	req.side_offset = 0;
	req.pk_offset = 16;
	req.pk_size = PK_RS;
	n = run(s, &req, sealed, len0, key_out, &real);
	if (n != n_u || real != matches) {
		fprintf(stderr, "JOIN_PKFK: %ld rows, %u matches (want %lu)\n",
			n, real, (unsigned long)matches);
		return 1;
	}
	for (i = 0; i < n_u; i++) {
		const uint8_t *o = got + (size_t)i * (8 + U_RS);

		if (o[0] && (ld64(o + 8 + 16) != ld64(o + 8 + 8) ||
			     ld64(o + 8 + 16 + PK_RS) != ld64(o + 8 + 8))) {
			fprintf(stderr, "JOIN_PKFK: row %u joins wrong keys\n", i);
			return 1;
		}
	}

	/* LIMIT: the first 77 rows of the sorted union, its PK|FK part. */
	base_req(&req, TS_STREAM_LIMIT, "ct-stream-limit!");
	req.rows_per_block = 10;
	req.out_row_size = PK_RS + FK_RS;
	req.pk_offset = 16;
	req.limit = 77;
	n = run(s, &req, sealed, len0, key_out, &real);
	for (i = 0; n == 77 && i < 77; i++)
		if (memcmp(got + i * (PK_RS + FK_RS), uni + i * U_RS + 16,
			   PK_RS + FK_RS))
			n = -1;
	if (n != 77) {
		fprintf(stderr, "LIMIT: wrong output\n");
		return 1;
	}
	th_close_session(s);
	printf("ct_stream_harness: aggregate %u rows (%lu groups), union %u rows, "
	       "join %lu matches, limit 77\n", N_AGG, (unsigned long)groups,
	       n_u, (unsigned long)matches);
	return 0;
}

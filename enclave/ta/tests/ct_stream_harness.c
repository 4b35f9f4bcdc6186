/*
 * ct_stream_harness.c - constant-time check of TA_TEESPARK_CMD_STREAM as
 * shipped: WIDEN (with and without the side byte), AGGREGATE (grouped and
 * global, with COUNT(DISTINCT)), JOIN_PKFK (inner, outer, semi, anti, with
 * NULL keys), LIMIT and MAP (predicate, projections, row index), run under
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
 * loop) in place of ct_key_eq (built with -DSTREAM_KEY_EQ=...) and whose
 * cmd_stream_map.c emits MAP rows through stream_map_emit_leaky (a branch
 * on the predicate's result; -DSTREAM_MAP_EMIT=...): the runner
 * (ct_stream_harness_leaky) requires valgrind to flag both functions by
 * name, so a check that cannot fail is caught.
 *
 * The harness computes its references from the plaintext it sealed (on
 * defined data) and compares the opened outputs with them.
 */
#include "ta_harness.h"

#include <stdlib.h>
#include <string.h>

#include "../expr/tests/prog_builder.h"

#define N_AGG 240
#define AGG_RS 32	/* key u64 | v i64 | f f64 | null byte | pad */
#define N_PK 40
#define N_FK 160
#define PK_RS 16	/* id u64 | payload */
#define FK_RS 24	/* fk u64 | payload | rid */
#define U_RS 56		/* side | 7 | key | PK row | FK row (WIDEN layout) */
#define RPB 25

/* The negative control's leaky key comparison and MAP emit: cmd_leaky.c. */

static uint8_t out_buf[4u << 20];
static uint8_t got[1u << 20];

static uint8_t req_buf[sizeof(struct ts_stream_request) + 8192];

/* One STREAM call on `in` with a request body (MAP; NULL, 0: none); the
 * output opened into got. Returns rows or -1; *real = params[3].value.b. */
static long run_body(void *s, struct ts_stream_request *req,
		     const uint8_t *body, size_t body_len, const uint8_t *in,
		     size_t in_len, const uint8_t key_out[32], uint32_t *real)
{
	TEE_Param p[4];
	TEE_Result res;

	memcpy(req_buf, req, sizeof(*req));
	if (body_len)
		memcpy(req_buf + sizeof(*req), body, body_len);
	memset(p, 0, sizeof(p));
	p[0].memref.buffer = (void *)(uintptr_t)in;
	p[0].memref.size = in_len;
	p[1].memref.buffer = out_buf;
	p[1].memref.size = sizeof(out_buf);
	p[2].memref.buffer = req_buf;
	p[2].memref.size = sizeof(*req) + body_len;
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

static long run(void *s, struct ts_stream_request *req, const uint8_t *in,
		size_t in_len, const uint8_t key_out[32], uint32_t *real)
{
	return run_body(s, req, NULL, 0, in, in_len, key_out, real);
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

/* Seal and register a table of n rows; returns the sealed bytes. */
static size_t load(void *s, const uint8_t key_in[32], struct th_table *t,
		   uint32_t row_size, const uint8_t *rows, uint32_t n,
		   uint32_t rpb, uint8_t *sealed)
{
	size_t len;

	th_table_random(t, row_size);
	len = th_seal_table(key_in, t, rows, n, rpb, sealed);
	if (th_register_table(s, key_in, t, n, rpb, 0) != TEE_SUCCESS)
		return 0;
	return len;
}

/* ---- AGGREGATE with COUNT(DISTINCT), grouped or global ---- */

#define N_D 200
#define D_RS 24		/* key u64 | x f64 | null byte (bit 0: x NULL) | pad */
#define D_ORS (8 + D_RS + 3 * 8 + 8)

/* Values in Spark's order; equal classes count once (-0.0 == 0.0, NaNs). */
static const uint64_t d_pool[6] = {
	0xbff0000000000000ull,	/* -1.0 */
	0x8000000000000000ull,	/* -0.0 */
	0x0000000000000000ull,	/* 0.0 */
	0x4004000000000000ull,	/* 2.5 */
	0x7ff8000000000000ull,	/* NaN */
	0xfff8000000000001ull	/* another NaN */
};
static const uint32_t d_class[6] = { 0, 1, 1, 2, 3, 3 };

static int check_distinct(void *s, const uint8_t key_in[32],
			  const uint8_t key_out[32], int global)
{
	static uint8_t rows[N_D * D_RS], cls[N_D], sealed[1u << 18];
	struct th_table t;
	struct ts_stream_request req;
	uint32_t i, j, real, groups = 0, pi = 0, seen = 0;
	uint64_t k = 0;
	size_t len;
	long n;

	/* Sorted by (key, x): x's pool index never decreases in a group. */
	th_rand_bytes(rows, sizeof(rows));
	for (i = 0; i < N_D; i++) {
		uint8_t *r = rows + i * D_RS;

		if (i == 0 || (!global && th_rand64() % 6 == 0)) {
			k += 1 + th_rand64() % 2;
			pi = th_rand64() % 3;
			groups++;
		} else if (pi < 5 && th_rand64() % 3 == 0) {
			pi++;
		}
		st64(r, k);
		r[16] = th_rand64() % 5 == 0;
		if (!r[16])
			st64(r + 8, d_pool[pi]);	/* NULL: garbage */
		cls[i] = (uint8_t)d_class[pi];
	}
	len = load(s, key_in, &t, D_RS, rows, N_D, 16, sealed);
	base_req(&req, TS_STREAM_AGGREGATE,
		 global ? "ct-stream-dist-g" : "ct-stream-dist-k");
	req.reveal = 1;
	req.key_count = global ? 0 : 1;
	if (!global)
		req.keys[0] = (struct ts_op_key){ TS_KEY_UINT, 0, 0, 8, 0, 0,
						  0, 0, 0, 0 };
	req.agg_count = 3;
	req.aggs[0] = (struct ts_op_agg){ TS_AGG_COUNT_STAR, 0, 0, 0, 0, 0, 0, 0 };
	req.aggs[1] = (struct ts_op_agg){ TS_AGG_COUNT_DISTINCT, TS_KEY_FLOAT64,
					  8, 8, 16, 0, 1, 0 };
	req.aggs[2] = req.aggs[1];
	n = run(s, &req, sealed, len, key_out, &real);
	if (n != N_D || real != (global ? 1 : groups)) {
		fprintf(stderr, "COUNT_DISTINCT (%s): %ld rows, %u groups\n",
			global ? "global" : "grouped", n, real);
		return 1;
	}
	for (i = 0; i < N_D; i++) {
		const uint8_t *o = got + (size_t)i * D_ORS;
		int last = i == N_D - 1 || (!global &&
			   ld64(rows + (i + 1) * D_RS) != ld64(rows + i * D_RS));
		uint32_t want = 0, mask = 0;

		if (o[0] != last) {
			fprintf(stderr, "COUNT_DISTINCT: row %u flag %u\n", i,
				o[0]);
			return 1;
		}
		if (!last)
			continue;
		/* The group's non-NULL value classes, as a bit set. */
		for (j = seen; j <= i; j++)
			if (!rows[j * D_RS + 16])
				mask |= 1u << cls[j];
		for (j = 0; j < 4; j++)
			want += (mask >> j) & 1;
		if (ld64(o + 8 + D_RS + 8) != want ||
		    ld64(o + 8 + D_RS + 16) != want ||
		    ld64(o + 8 + D_RS) != i + 1 - seen) {
			fprintf(stderr, "COUNT_DISTINCT: row %u counts %lu, "
				"want %u\n", i,
				(unsigned long)ld64(o + 8 + D_RS + 8), want);
			return 1;
		}
		seen = i + 1;
	}
	return 0;
}

/* ---- WIDEN without a side byte: the union of two same-layout tables ---- */

#define W_RS 20

static int check_widen_no_side(void *s, const uint8_t key_in[32],
			       const uint8_t key_out[32])
{
	static uint8_t rows[(70 + 33) * W_RS], sealed[1u << 18];
	struct th_table t0, t1;
	struct ts_stream_request req;
	size_t len0, len1;
	uint32_t real;
	long n;

	th_rand_bytes(rows, sizeof(rows));
	len0 = load(s, key_in, &t0, W_RS, rows, 70, 16, sealed);
	len1 = load(s, key_in, &t1, W_RS, rows + 70 * W_RS, 33, 10,
		    sealed + len0);
	base_req(&req, TS_STREAM_WIDEN, "ct-stream-wide-0");
	req.rows_per_block = 24;
	req.out_row_size = W_RS;
	req.side_offset = TS_STREAM_NO_SIDE;
	req.in0_bytes = len0;
	n = run(s, &req, sealed, len0 + len1, key_out, &real);
	if (n != 103 || memcmp(got, rows, sizeof(rows))) {
		fprintf(stderr, "WIDEN without side: wrong output\n");
		return 1;
	}
	return 0;
}

/* ---- JOIN_PKFK variants over a union with NULL keys ---- */

static int check_join_variants(void *s, const uint8_t key_in[32],
			       const uint8_t key_out[32], const uint8_t *uni,
			       uint32_t n_u)
{
	static uint8_t u2[(N_PK + N_FK) * U_RS], matched[N_PK + N_FK];
	static uint8_t sealed[1u << 18];
	static const char *ids[4] = { "ct-stream-j-innr", "ct-stream-j-outr",
				      "ct-stream-j-semi", "ct-stream-j-anti" };
	uint8_t pk_null[3 * N_PK + 16];
	struct th_table t;
	struct ts_stream_request req;
	uint32_t i, v, real, n_match = 0, want;
	size_t len;
	long n;

	/* The null flag (byte 1, bit 0) on some rows of either side. */
	memcpy(u2, uni, (size_t)n_u * U_RS);
	memset(pk_null, 0, sizeof(pk_null));
	for (i = 0; i < n_u; i++) {
		uint8_t *r = u2 + i * U_RS;

		r[1] = th_rand64() % 8 == 0;
		if (!r[0] && r[1])
			pk_null[ld64(r + 8)] = 1;
	}
	for (i = 0; i < n_u; i++) {
		const uint8_t *r = u2 + i * U_RS;
		uint64_t key = ld64(r + 8);

		matched[i] = r[0] && !r[1] && key % 3 == 0 && key < 3 * N_PK &&
			     !pk_null[key];
		n_match += matched[i];
	}
	len = load(s, key_in, &t, U_RS, u2, n_u, RPB, sealed);
	for (v = TS_STREAM_JOIN_INNER; v <= TS_STREAM_JOIN_ANTI; v++) {
		int pk = v <= TS_STREAM_JOIN_OUTER;

		base_req(&req, TS_STREAM_JOIN_PKFK, ids[v]);
		req.variant = v;
		req.reveal = 1;
		req.key_count = 1;
		req.keys[0] = (struct ts_op_key){ TS_KEY_UINT, 0, 8, 8, 0, 1, 0,
						  1, 0, 0 };
		req.side_offset = 0;
		req.pk_offset = pk ? 16 : 0;
		req.pk_size = pk ? PK_RS : 0;
		n = run(s, &req, sealed, len, key_out, &real);
		want = v == TS_STREAM_JOIN_OUTER ? N_FK :
		       v == TS_STREAM_JOIN_ANTI ? N_FK - n_match : n_match;
		if (n != (long)n_u || real != want) {
			fprintf(stderr, "JOIN variant %u: %ld rows, %u real "
				"(want %u)\n", v, n, real, want);
			return 1;
		}
		for (i = 0; i < n_u; i++) {
			const uint8_t *o = got + (size_t)i * (8 + U_RS);
			const uint8_t *in = u2 + i * U_RS;
			uint32_t side = in[0], m = matched[i];
			uint32_t flag = v == TS_STREAM_JOIN_OUTER ? side :
					v == TS_STREAM_JOIN_ANTI ? side && !m : m;
			int ok = o[0] == flag;

			if (ok && flag && v == TS_STREAM_JOIN_OUTER)
				ok = o[1] == m &&
				     (m ? ld64(o + 8 + 16) == ld64(in + 8) :
				      ld64(o + 8 + 16) == 0 &&
				      ld64(o + 8 + 24) == 0);
			if (ok && flag && v == TS_STREAM_JOIN_INNER)
				ok = ld64(o + 8 + 16) == ld64(in + 8);
			if (ok && flag && v >= TS_STREAM_JOIN_SEMI)
				ok = !memcmp(o + 8, in, U_RS);
			if (!ok) {
				fprintf(stderr, "JOIN variant %u: row %u wrong\n",
					v, i);
				return 1;
			}
		}
	}
	return 0;
}

/* ---- MAP: predicate, projections, row index; and a plain copy ---- */

#define N_M 300
#define M_ORS 41	/* flag | row index | bitmap | I0+I1 | F0*F0 | S0 */

static size_t put_prog(uint8_t *body, size_t off, const struct pb *p,
		       size_t len)
{
	memcpy(body + off, p->buf, len);
	return off + ((len + 7) & ~(size_t)7);
}

static size_t put_proj(uint8_t *body, size_t off, const struct pb *p,
		       size_t len, uint32_t out_offset, uint32_t null_bit)
{
	struct ts_op_proj h = { (uint32_t)len, out_offset, null_bit, 0 };

	memcpy(body + off, &h, sizeof(h));
	return put_prog(body, off + sizeof(h), p, len);
}

static int check_map(void *s, const uint8_t key_in[32],
		     const uint8_t key_out[32])
{
	static uint8_t rows[N_M * TEST_ROW_SIZE], sealed[1u << 18];
	static uint8_t body[4096];
	static struct pb p;
	struct th_table t;
	struct ts_stream_request req;
	uint32_t i, real, passed = 0;
	size_t len, off = 0, pl;
	long n;

	th_rand_bytes(rows, sizeof(rows));
	for (i = 0; i < N_M; i++) {
		uint8_t *r = rows + i * TEST_ROW_SIZE;

		r[0] &= (uint8_t)th_rand64();		/* ~25% NULL per column */
		st64(r + OFF_I0, (uint64_t)(th_rand64() % 2001) - 1000);
		st64(r + OFF_I1, (uint64_t)(th_rand64() % 2001) - 1000);
	}
	len = load(s, key_in, &t, TEST_ROW_SIZE, rows, N_M, 64, sealed);

	pb_init(&p);				/* predicate: I0 > I1 */
	pb_col(&p, T_I64, OFF_I0, 0);
	pb_col(&p, T_I64, OFF_I1, 1);
	pb_op(&p, TS_OP_GT, T_BOOL);
	pl = pb_finish(&p);
	off = put_prog(body, off, &p, pl);
	base_req(&req, TS_STREAM_MAP, "ct-stream-map-fl");
	req.pred_size = (uint32_t)pl;
	pb_init(&p);				/* I0 + I1 */
	pb_col(&p, T_I64, OFF_I0, 0);
	pb_col(&p, T_I64, OFF_I1, 1);
	pb_op(&p, TS_OP_ADD, T_I64);
	off = put_proj(body, off, &p, pb_finish(&p), 17, 128);
	pb_init(&p);				/* F0 * F0 */
	pb_col(&p, T_F64, OFF_F0, 2);
	pb_col(&p, T_F64, OFF_F0, 2);
	pb_op(&p, TS_OP_MUL, T_F64);
	off = put_proj(body, off, &p, pb_finish(&p), 25, 129);
	pb_init(&p);				/* S0 */
	pb_col(&p, T_STR(8), OFF_S0, 4);
	off = put_proj(body, off, &p, pb_finish(&p), 33, 130);
	req.proj_count = 3;
	req.rows_per_block = 40;
	req.out_row_size = M_ORS;
	req.variant = TS_STREAM_MAP_FLAG | TS_STREAM_MAP_SEQ;
	req.aux_offset = 8;
	req.reveal = 1;
	n = run_body(s, &req, body, off, sealed, len, key_out, &real);
	for (i = 0; n == N_M && i < N_M; i++) {
		const uint8_t *r = rows + i * TEST_ROW_SIZE;
		const uint8_t *o = got + (size_t)i * M_ORS;
		uint32_t pass = !(r[0] & 3) &&
			(int64_t)ld64(r + OFF_I0) > (int64_t)ld64(r + OFF_I1);
		uint8_t zero[M_ORS] = { 0 };

		passed += pass;
		if (!pass ? memcmp(o, zero, M_ORS) != 0 :
		    o[0] != 1 || ld64(o + 8) != i ||
		    ld64(o + 17) != ld64(r + OFF_I0) + ld64(r + OFF_I1) ||
		    (o[16] & 1) || ((o[16] >> 2) & 1) != ((r[0] >> 4) & 1) ||
		    (!(r[0] & 16) && memcmp(o + 33, r + OFF_S0, 8)))
			n = -1;
	}
	if (n != N_M || real != passed || passed == 0 || passed == N_M) {
		fprintf(stderr, "MAP: wrong output (%ld rows, %u passed, "
			"want %u)\n", n, real, passed);
		return 1;
	}

	/* No projections and no flag: the row copied, its index in front. */
	base_req(&req, TS_STREAM_MAP, "ct-stream-map-cp");
	req.rows_per_block = 64;
	req.out_row_size = 8 + TEST_ROW_SIZE;
	req.pk_offset = 8;
	req.variant = TS_STREAM_MAP_SEQ;
	n = run(s, &req, sealed, len, key_out, &real);
	for (i = 0; n == N_M && i < N_M; i++)
		if (ld64(got + (size_t)i * (8 + TEST_ROW_SIZE)) != i ||
		    memcmp(got + (size_t)i * (8 + TEST_ROW_SIZE) + 8,
			   rows + i * TEST_ROW_SIZE, TEST_ROW_SIZE))
			n = -1;
	if (n != N_M) {
		fprintf(stderr, "MAP copy: wrong output\n");
		return 1;
	}
	return 0;
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

	/* ABI v4: the join variants, WIDEN without a side byte, AGGREGATE
	 * with COUNT(DISTINCT) grouped and global, MAP. */
	if (check_join_variants(s, key_in, key_out, uni, n_u) ||
	    check_widen_no_side(s, key_in, key_out) ||
	    check_distinct(s, key_in, key_out, 0) ||
	    check_distinct(s, key_in, key_out, 1) ||
	    check_map(s, key_in, key_out))
		return 1;
	th_close_session(s);
	printf("ct_stream_harness: aggregate %u rows (%lu groups), union %u rows, "
	       "join %lu matches, limit 77; join outer/semi/anti, widen "
	       "without side, count distinct (grouped, global), map\n",
	       N_AGG, (unsigned long)groups, n_u, (unsigned long)matches);
	return 0;
}

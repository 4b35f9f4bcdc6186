/*
 * ct_op_harness.c - constant-time check of RUN_OPERATOR as shipped, under
 * valgrind memcheck with the simulator marking decrypted rows undefined:
 *
 *   TEESPARK_SIM_CT_SECRETS=1 valgrind -q --error-exitcode=1 \
 *       ct_op_harness oblivious      # must be clean
 *   ... ct_op_harness encrypted      # must be flagged (negative control)
 *
 * Every operator runs once over random rows (random NULL bits, duplicate
 * keys): FILTER (predicate program), PROJECT, SORT, top-k, LIMIT,
 * AGGREGATE (all functions), DISTINCT, UNION ALL, joins (general inner
 * with a residual, PK-FK inner, general and PK-FK left outer, semi,
 * anti), and a padded FILTER whose padded output feeds an AGGREGATE and a
 * PROJECT (padded input, compaction). In TS_OPMODE_OBLIVIOUS memcheck
 * must report nothing; TS_OPMODE_ENCRYPTED runs the fast kernels, which
 * branch on the rows, so the runner requires reports there: the check can
 * tell the two apart.
 *
 * The harness never reads plaintext; it checks return codes and that the
 * output descriptor verifies (ciphertext and counts are public).
 */
#include "ta_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_A 150
#define N_B 40
#define ROW 24	/* [bitmap 1 | k int64 @1 | v int64 @9 | 7 bytes] */

static void *sess;
static uint32_t mode;
static int failures;
static uint8_t key_a[32], key_b[32], key_q[32];
static struct th_table ta_, tb_;
static uint8_t *blk_a, *blk_b;
static size_t len_a, len_b;
static uint8_t *out_buf;
static const size_t out_cap = 4u << 20;

/* A program: header + instructions (docs/EXPRESSIONS.md). */
struct prog {
	uint8_t b[256];
	size_t len;
	uint32_t n;
};

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

static void prog_start(struct prog *p, uint32_t row_size)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->b, "TSXP", 4);
	p->b[4] = 1;
	put32(p->b + 8, row_size);
	p->len = 16;
}

static void insn(struct prog *p, uint16_t op, uint8_t kind,
		 const void *payload, uint32_t plen)
{
	uint8_t *q = p->b + p->len;

	memcpy(q, &op, 2);
	put32(q + 4, 16 + plen);
	q[8] = kind;
	memcpy(q + 16, payload, plen);
	p->len += 16 + plen;
	put32(p->b + 12, ++p->n);
}

static void col64(struct prog *p, uint32_t off, uint32_t null_bit)
{
	uint32_t pl[2] = { off, null_bit };

	insn(p, 0x01, 3, pl, 8);	/* COL int64 */
}

static void lit64(struct prog *p, int64_t v)
{
	uint8_t pl[12] = { 0 };

	memcpy(pl + 4, &v, 8);
	insn(p, 0x02, 3, pl, 12);	/* LIT int64 */
}

static size_t pad8(size_t x) { return (x + 7) / 8 * 8; }

/* Request builder: header then body pieces. */
struct req {
	struct ts_op_request h;
	uint8_t body[2048];
	size_t blen;
};

static void req_init(struct req *r, uint32_t op, uint32_t in_slot,
		     const uint8_t hash[32], uint32_t out_row_size)
{
	static uint8_t id = 1;

	memset(r, 0, sizeof(*r));
	r->h.op = op;
	r->h.mode = mode;
	r->h.in0_key_slot = in_slot;
	memcpy(r->h.in0_schema_hash, hash, 32);
	r->h.out_key_slot = 2;
	r->h.rows_per_block = 32;
	r->h.out_row_size = out_row_size;
	r->h.out_table_id[0] = id++;
	r->h.out_table_version = 1;
	memset(r->h.out_schema_hash, 0x5a, 32);
	r->h.out_schema_hash[0] = (uint8_t)op;
}

static void add(struct req *r, const void *p, size_t n)
{
	memcpy(r->body + r->blen, p, n);
	r->blen += n;
}

static void add_prog(struct req *r, const struct prog *p)
{
	add(r, p->b, p->len);
	r->blen = pad8(r->blen);
}

static struct ts_op_key key64(uint32_t off, int desc)
{
	struct ts_op_key k;

	memset(&k, 0, sizeof(k));
	k.type = TS_KEY_INT;
	k.descending = (uint16_t)desc;
	k.offset = off;
	k.width = 8;
	k.nullable = 1;
	k.null_offset = 0;
	k.null_bit = off == 1 ? 0 : 1;
	return k;
}

/* Run one request over input a (and b); returns rows (public). */
static long run(const char *what, struct req *r, const uint8_t *in0,
		size_t l0, const uint8_t *in1, size_t l1)
{
	uint8_t *in = malloc(l0 + l1 + 1);
	uint8_t *msg = malloc(sizeof(r->h) + r->blen + 1);
	TEE_Param p[4];
	TEE_Result res;

	memcpy(in, in0, l0);
	if (in1)
		memcpy(in + l0, in1, l1);
	if (in1)
		r->h.in0_bytes = l0;
	r->h.body_size = (uint32_t)r->blen;
	memcpy(msg, &r->h, sizeof(r->h));
	memcpy(msg + sizeof(r->h), r->body, r->blen);
	memset(p, 0, sizeof(p));
	p[0].memref.buffer = in;
	p[0].memref.size = l0 + l1;
	p[1].memref.buffer = out_buf;
	p[1].memref.size = out_cap;
	p[2].memref.buffer = msg;
	p[2].memref.size = sizeof(r->h) + r->blen;
	res = th_invoke(sess, TA_TEESPARK_CMD_RUN_OPERATOR,
			TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					TEE_PARAM_TYPE_MEMREF_OUTPUT,
					TEE_PARAM_TYPE_MEMREF_INPUT,
					TEE_PARAM_TYPE_VALUE_OUTPUT), p);
	free(in);
	free(msg);
	if (res != TEE_SUCCESS ||
	    !th_descriptor_verify(key_q, (const void *)out_buf)) {
		fprintf(stderr, "%s failed 0x%x\n", what, (unsigned int)res);
		failures++;
		return -1;
	}
	return (long)p[3].value.a;
}

/* The output of the last run (descriptor | blocks) as a copy. */
static uint8_t *last_blocks(size_t *len)
{
	const struct ts_table_descriptor *d = (const void *)out_buf;
	size_t n = th_sealed_size((uint32_t)d->row_count, d->row_size,
				  d->rows_per_block);
	uint8_t *b = malloc(n);

	memcpy(b, out_buf + TS_TABLE_DESCRIPTOR_SIZE, n);
	*len = n;
	return b;
}

int main(int argc, char **argv)
{
	uint8_t rows_a[N_A * ROW], rows_b[N_B * ROW];
	struct ts_op_key k;
	struct ts_op_agg ag;
	struct ts_op_proj pj;
	struct prog pr;
	struct req r;
	uint8_t *pad_blk;
	size_t pad_len;
	uint8_t pad_hash[32];
	uint32_t i;

	if (argc != 2 || (strcmp(argv[1], "oblivious") &&
			  strcmp(argv[1], "encrypted"))) {
		fprintf(stderr, "usage: ct_op_harness oblivious|encrypted\n");
		return 2;
	}
	mode = strcmp(argv[1], "oblivious") ? TS_OPMODE_ENCRYPTED :
					      TS_OPMODE_OBLIVIOUS;
	th_init();
	th_rand_seed(0x0bcdef);
	th_rand_bytes(key_a, 32);
	th_rand_bytes(key_b, 32);
	th_rand_bytes(key_q, 32);
	th_rand_bytes(rows_a, sizeof(rows_a));
	th_rand_bytes(rows_b, sizeof(rows_b));
	for (i = 0; i < N_A; i++) {	/* small keys: duplicates, matches */
		memset(rows_a + i * ROW + 2, 0, 7);
		rows_a[i * ROW + 1] &= 7;
	}
	for (i = 0; i < N_B; i++) {	/* b's keys unique: 0..N_B-1 */
		memset(rows_b + i * ROW + 1, 0, 8);
		rows_b[i * ROW + 1] = (uint8_t)i;
		rows_b[i * ROW] &= 0xFE;	/* b's key never NULL */
	}
	th_table_random(&ta_, ROW);
	th_table_random(&tb_, ROW);
	len_a = th_sealed_size(N_A, ROW, 64);
	len_b = th_sealed_size(N_B, ROW, 16);
	blk_a = malloc(len_a);
	blk_b = malloc(len_b);
	out_buf = malloc(out_cap);
	th_seal_table(key_a, &ta_, rows_a, N_A, 64, blk_a);
	th_seal_table(key_b, &tb_, rows_b, N_B, 16, blk_b);

	sess = th_open_session();
	th_install_key(sess, 0, key_a);
	th_install_key(sess, 1, key_b);
	th_install_key(sess, 2, key_q);
	if (th_register_table(sess, key_a, &ta_, N_A, 64, 0) != TEE_SUCCESS ||
	    th_register_table(sess, key_b, &tb_, N_B, 16, 1) != TEE_SUCCESS) {
		fprintf(stderr, "REGISTER_TABLE failed\n");
		return 1;
	}

	/* FILTER: v > 0 (NULL bit 1 of v) */
	req_init(&r, TS_OP_FILTER, 0, ta_.schema_hash, ROW);
	prog_start(&pr, ROW);
	col64(&pr, 9, 1);
	lit64(&pr, 0);
	insn(&pr, 0x24, 1, NULL, 0);	/* GT -> bool */
	r.h.pred_size = (uint32_t)pr.len;
	add_prog(&r, &pr);
	run("FILTER", &r, blk_a, len_a, NULL, 0);

	/* padded FILTER, then AGGREGATE and PROJECT over the padded output */
	r.h.pad_rows = N_A;
	r.h.out_table_id[0] = 0xF0;
	memcpy(pad_hash, r.h.out_schema_hash, 32);
	run("FILTER (padded)", &r, blk_a, len_a, NULL, 0);
	pad_blk = last_blocks(&pad_len);

	req_init(&r, TS_OP_AGGREGATE, 2, pad_hash, 0);
	r.h.in0_flags = TS_OP_IN_PADDED;
	r.h.key_count = 1;
	r.h.agg_count = 4;
	k = key64(1, 0);
	add(&r, &k, sizeof(k));
	for (i = 0; i < 4; i++) {
		static const uint16_t fns[4] = { TS_AGG_COUNT_STAR, TS_AGG_SUM,
						 TS_AGG_MAX, TS_AGG_COUNT_DISTINCT };

		memset(&ag, 0, sizeof(ag));
		ag.fn = fns[i];
		if (fns[i] != TS_AGG_COUNT_STAR) {
			ag.type = TS_KEY_INT;
			ag.offset = 9;
			ag.width = 8;
			ag.nullable = 1;
			ag.null_bit = 1;
		}
		add(&r, &ag, sizeof(ag));
	}
	r.blen = pad8(r.blen);
	r.h.out_row_size = 24 + 4 * 8 + 8;	/* obl_agg_out_row_size */
	run("AGGREGATE (padded input)", &r, pad_blk, pad_len, NULL, 0);

	req_init(&r, TS_OP_PROJECT, 2, pad_hash, 9);
	r.h.in0_flags = TS_OP_IN_PADDED;
	r.h.proj_count = 1;
	prog_start(&pr, ROW);
	col64(&pr, 9, 1);
	lit64(&pr, 3);
	insn(&pr, 0x12, 3, NULL, 0);	/* MUL */
	pj = (struct ts_op_proj){ (uint32_t)pr.len, 1, 0, 0 };
	add(&r, &pj, sizeof(pj));
	add_prog(&r, &pr);
	run("PROJECT (padded input)", &r, pad_blk, pad_len, NULL, 0);
	free(pad_blk);

	/* SORT, top-k, LIMIT, DISTINCT */
	req_init(&r, TS_OP_SORT, 0, ta_.schema_hash, ROW);
	r.h.key_count = 2;
	k = key64(1, 0);
	add(&r, &k, sizeof(k));
	k = key64(9, 1);
	add(&r, &k, sizeof(k));
	run("SORT", &r, blk_a, len_a, NULL, 0);
	r.h.limit = 10;
	r.h.out_table_id[0] = 0xF1;
	run("SORT top-k", &r, blk_a, len_a, NULL, 0);
	req_init(&r, TS_OP_LIMIT, 0, ta_.schema_hash, ROW);
	r.h.limit = 20;
	run("LIMIT", &r, blk_a, len_a, NULL, 0);
	req_init(&r, TS_OP_DISTINCT, 0, ta_.schema_hash, ROW);
	r.h.key_count = 1;
	k = key64(1, 0);
	add(&r, &k, sizeof(k));
	run("DISTINCT", &r, blk_a, len_a, NULL, 0);

	/* UNION ALL of a with itself */
	req_init(&r, TS_OP_UNION_ALL, 0, ta_.schema_hash, ROW);
	r.h.in1_key_slot = 0;
	memcpy(r.h.in1_schema_hash, ta_.schema_hash, 32);
	run("UNION ALL", &r, blk_a, len_a, blk_a, len_a);

	/* joins: a.k = b.k */
	{
		static const struct {
			const char *what;
			uint32_t kind, pk, resid;
		} js[] = {
			{ "JOIN inner general + residual", TS_JOIN_INNER, TS_PK_NONE, 1 },
			{ "JOIN inner PK-FK", TS_JOIN_INNER, TS_PK_RIGHT, 0 },
			{ "JOIN left outer general", TS_JOIN_LEFT_OUTER, TS_PK_NONE, 0 },
			{ "JOIN left outer PK-FK + residual", TS_JOIN_LEFT_OUTER, TS_PK_RIGHT, 1 },
			{ "JOIN left semi", TS_JOIN_LEFT_SEMI, TS_PK_NONE, 0 },
			{ "JOIN left anti", TS_JOIN_LEFT_ANTI, TS_PK_NONE, 0 },
		};
		size_t j;

		for (j = 0; j < sizeof(js) / sizeof(js[0]); j++) {
			int semi = js[j].kind >= TS_JOIN_LEFT_SEMI;

			req_init(&r, TS_OP_JOIN, 0, ta_.schema_hash,
				 semi ? ROW : 2 * ROW);
			r.h.in1_key_slot = 1;
			memcpy(r.h.in1_schema_hash, tb_.schema_hash, 32);
			r.h.join_kind = js[j].kind;
			r.h.pk_side = js[j].pk;
			r.h.key_count = 1;
			if (js[j].kind == TS_JOIN_LEFT_OUTER)
				r.h.right_null_bits = 2;
			k = key64(1, 0);
			add(&r, &k, sizeof(k));
			k.nullable = 0;
			add(&r, &k, sizeof(k));
			if (js[j].resid) {	/* a.v < b.v */
				prog_start(&pr, 2 * ROW);
				col64(&pr, 9, 1);
				col64(&pr, ROW + 9, 8 * ROW + 1);
				insn(&pr, 0x22, 1, NULL, 0);	/* LT */
				r.h.pred_size = (uint32_t)pr.len;
				add_prog(&r, &pr);
			}
			run(js[j].what, &r, blk_a, len_a, blk_b, len_b);
		}
	}

	th_close_session(sess);
	free(blk_a);
	free(blk_b);
	free(out_buf);
	if (failures) {
		fprintf(stderr, "ct_op_harness: %d commands failed\n", failures);
		return 3;
	}
	printf("ct_op_harness %s: every operator command ran\n", argv[1]);
	return 0;
}

/*
 * stream_expand_pipeline.c - the host side of the streaming many-to-many
 * join through the in-process TA (see stream_expand_pipeline.h). Test code:
 * NOT constant-time (it only handles sealed blocks and public sizes, and
 * opens the final result with the test's own OpenSSL code).
 */
#include "stream_expand_pipeline.h"
#include "../cmd/cmd_external_sort.h"

#include <stdlib.h>
#include <string.h>

#define STREAM_TYPES TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT, \
				     TEE_PARAM_TYPE_MEMREF_OUTPUT, \
				     TEE_PARAM_TYPE_MEMREF_INPUT, \
				     TEE_PARAM_TYPE_VALUE_OUTPUT)
#define XSTART_TYPES TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT, \
				     TEE_PARAM_TYPE_MEMREF_INPUT, \
				     TEE_PARAM_TYPE_VALUE_INPUT, \
				     TEE_PARAM_TYPE_VALUE_OUTPUT)
#define XSTEP_TYPES TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT, \
				    TEE_PARAM_TYPE_MEMREF_OUTPUT, \
				    TEE_PARAM_TYPE_VALUE_INPUT, \
				    TEE_PARAM_TYPE_VALUE_OUTPUT)
#define XEMIT_TYPES TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT, \
				    TEE_PARAM_TYPE_MEMREF_OUTPUT, \
				    TEE_PARAM_TYPE_NONE, \
				    TEE_PARAM_TYPE_VALUE_OUTPUT)

/* Annotation fields (struct ts_stream_ann) inside a union row. */
#define A_IDX (SX_AUX + 0)
#define A_DEST (SX_AUX + 32)
#define A_KIND (SX_AUX + 48)
#define A_DROP (SX_AUX + 49)

/* WIDEN of real rows and fillers: no side byte of its own, every row
 * keeps its side. (-DSX_WIDEN2_SIDE=SX_AUX+48 instead writes WIDEN's side
 * byte over the annotation's kind, which both inputs already hold: 0 real
 * rows, 1 fillers; the same table, for a TA without TS_STREAM_NO_SIDE.) */
#ifndef SX_WIDEN2_SIDE
#define SX_WIDEN2_SIDE TS_STREAM_NO_SIDE
#endif

static const char *const step_names[] = {
	"WIDEN", "XSORT (null, keys, side)", "GROUP_COUNT forward",
	"XSORT (null, keys, side desc, idx desc)", "GROUP_COUNT second",
	"GENERATE", "WIDEN (real rows + fillers)",
	"XSORT (drop, side, dest, kind)", "FILL",
	"XSORT (flag desc, dest, side)", "LIMIT 2m", "JOIN_PKFK",
	"XSORT (flag desc)", "LIMIT m", "done"
};

const char *sx_step_name(enum sx_step step)
{
	return step_names[step];
}

void sx_table_free(struct sx_table *t)
{
	free(t->blocks);
	memset(t, 0, sizeof(*t));
}

/* Table ids: up to 12 bytes of tag, then a counter (unique within the
 * process). */
static void next_id(uint8_t id[16], const char *tag)
{
	static uint32_t counter;
	size_t n = strlen(tag);

	memset(id, 0, 16);
	memcpy(id, tag, n < 12 ? n : 12);
	counter++;
	memcpy(id + 12, &counter, 4);
}

void sx_request(struct ts_stream_request *r, uint32_t mode, const char *tag)
{
	memset(r, 0, sizeof(*r));
	r->mode = mode;
	r->in0_key_slot = 1;
	r->out_key_slot = 1;
	next_id(r->out_table_id, tag);
	r->out_table_version = 7;
	memset(r->out_schema_hash, 0x5e, sizeof(r->out_schema_hash));
	r->out_schema_hash[0] = (uint8_t)mode;
}

/* Split param[1] (descriptor | blocks) into *out. */
static void take_output(const uint8_t *buf, size_t len, struct sx_table *out)
{
	memcpy(&out->d, buf, sizeof(out->d));
	out->len = len - TS_TABLE_DESCRIPTOR_SIZE;
	out->blocks = malloc(out->len ? out->len : 1);
	memcpy(out->blocks, buf + TS_TABLE_DESCRIPTOR_SIZE, out->len);
}

/* Invoke a command whose param[1] is an output memref; grow it on
 * TEE_ERROR_SHORT_BUFFER. *out (malloc'd) and *out_len get the result. */
static TEE_Result invoke_out(void *s, uint32_t cmd, uint32_t types,
			     TEE_Param p[4], uint8_t **out, size_t *out_len)
{
	size_t cap = 1u << 16;
	TEE_Param q[4];
	TEE_Result res;

	for (;;) {
		*out = malloc(cap);
		memcpy(q, p, sizeof(q));
		q[1].memref.buffer = *out;
		q[1].memref.size = cap;
		res = th_invoke(s, cmd, types, q);
		if (res != TEE_ERROR_SHORT_BUFFER || q[1].memref.size <= cap)
			break;
		cap = q[1].memref.size;
		free(*out);
	}
	memcpy(p, q, sizeof(q));
	*out_len = q[1].memref.size;
	if (res != TEE_SUCCESS) {
		free(*out);
		*out = NULL;
	}
	return res;
}

TEE_Result sx_stream(void *s, struct ts_stream_request *req,
		     const struct sx_table *in0, const struct sx_table *in1,
		     struct sx_table *out, uint32_t *real)
{
	size_t l0 = in0 ? in0->len : 0, l1 = in1 ? in1->len : 0, olen;
	uint8_t *in = malloc(l0 + l1 + 1), *obuf;
	TEE_Param p[4];
	TEE_Result res;

	if (l0)
		memcpy(in, in0->blocks, l0);
	if (l1)
		memcpy(in + l0, in1->blocks, l1);
	if (in1)
		req->in0_bytes = l0;
	memset(p, 0, sizeof(p));
	p[0].memref.buffer = in;
	p[0].memref.size = l0 + l1;
	p[2].memref.buffer = req;
	p[2].memref.size = sizeof(*req);
	res = invoke_out(s, TA_TEESPARK_CMD_STREAM, STREAM_TYPES, p, &obuf,
			 &olen);
	free(in);
	memset(out, 0, sizeof(*out));
	if (res != TEE_SUCCESS)
		return res;
	take_output(obuf, olen, out);
	free(obuf);
	if (real)
		*real = p[3].value.b;
	if (out->d.row_count != p[3].value.a)
		return TEE_ERROR_GENERIC;
	return TEE_SUCCESS;
}

TEE_Result sx_seal(void *s, const uint8_t key[32], uint32_t slot,
		   const uint8_t *rows, uint32_t n, uint32_t row_size,
		   uint32_t rpb, struct sx_table *out)
{
	struct th_table t;

	th_table_random(&t, row_size);
	memset(out, 0, sizeof(*out));
	out->len = th_sealed_size(n, row_size, rpb);
	out->blocks = malloc(out->len);
	th_seal_table(key, &t, rows, n, rpb, out->blocks);
	th_descriptor(key, &t, n, rpb, NULL, &out->d);
	return th_register(s, &out->d, slot);
}

/* Byte offsets of each block of t; [block_count] = t->len. */
static size_t *block_offsets(const struct sx_table *t)
{
	size_t *off = calloc((size_t)t->d.block_count + 1, sizeof(size_t));
	size_t at = 0;
	uint32_t i;

	for (i = 0; i < t->d.block_count; i++) {
		struct ts_block_header h;

		memcpy(&h, t->blocks + at, sizeof(h));
		off[i] = at;
		at += TS_SEALED_BLOCK_SIZE((size_t)h.ciphertext_size);
	}
	off[t->d.block_count] = at;
	return off;
}

TEE_Result sx_xsort(void *s, const struct sx_table *in,
		    const struct ts_sort_key *keys, uint32_t key_count,
		    uint32_t rows_per_block, const char *tag,
		    struct sx_table *out)
{
	const uint32_t c = 2;
	struct ts_sort_request req;
	struct xsort_net net;
	TEE_Param p[4];
	size_t *boff = block_offsets(in), run_len = 0, olen, i;
	uint8_t **run = NULL, *obuf = NULL, *buf;
	uint32_t run_rows = 1, runs, lo, hi, j;
	TEE_Result res;

	memset(out, 0, sizeof(*out));
	while (run_rows < c * in->d.rows_per_block)
		run_rows <<= 1;
	memset(&req, 0, sizeof(req));
	req.in_key_slot = 1;
	req.out_key_slot = 1;
	req.rows_per_block = rows_per_block;
	req.key_count = key_count;
	next_id(req.out_table_id, tag);
	req.out_table_version = 9;
	memcpy(req.schema_hash, in->d.schema_hash, 32);
	memcpy(req.keys, keys, key_count * sizeof(keys[0]));
	memset(p, 0, sizeof(p));
	p[0].memref.buffer = &req;
	p[0].memref.size = sizeof(req);
	p[1].memref.buffer = (void *)in->d.table_id;
	p[1].memref.size = 16;
	p[2].value.a = c;
	p[2].value.b = run_rows;
	res = th_invoke(s, TA_TEESPARK_CMD_XSORT_START, XSTART_TYPES, p);
	if (res != TEE_SUCCESS)
		goto out;
	runs = p[3].value.a;
	run = calloc(runs, sizeof(*run));
	for (j = 0; j < runs && res == TEE_SUCCESS; j++) {
		uint32_t first = j * c, end = first + c;

		if (end > in->d.block_count)
			end = in->d.block_count;
		memset(p, 0, sizeof(p));
		p[0].memref.buffer = in->blocks + boff[first];
		p[0].memref.size = boff[end] - boff[first];
		p[2].value.a = j;
		res = invoke_out(s, TA_TEESPARK_CMD_XSORT_CHUNK, XSTEP_TYPES,
				 p, &run[j], &run_len);
	}
	xsort_net_start(&net, runs);
	buf = malloc(2 * run_len + 1);
	while (res == TEE_SUCCESS && xsort_net_next(&net, &lo, &hi)) {
		memcpy(buf, run[lo], run_len);
		memcpy(buf + run_len, run[hi], run_len);
		memset(p, 0, sizeof(p));
		p[0].memref.buffer = buf;
		p[0].memref.size = 2 * run_len;
		p[2].value.a = lo;
		p[2].value.b = hi;
		res = invoke_out(s, TA_TEESPARK_CMD_XSORT_MERGE_SPLIT,
				 XSTEP_TYPES, p, &obuf, &olen);
		if (res == TEE_SUCCESS) {
			memcpy(run[lo], obuf, run_len);
			memcpy(run[hi], obuf + run_len, run_len);
			free(obuf);
		}
	}
	free(buf);
	if (res == TEE_SUCCESS) {
		buf = malloc((size_t)runs * run_len + 1);
		for (i = 0; i < runs; i++)
			memcpy(buf + i * run_len, run[i], run_len);
		memset(p, 0, sizeof(p));
		p[0].memref.buffer = buf;
		p[0].memref.size = (size_t)runs * run_len;
		res = invoke_out(s, TA_TEESPARK_CMD_XSORT_EMIT, XEMIT_TYPES, p,
				 &obuf, &olen);
		free(buf);
		if (res == TEE_SUCCESS) {
			take_output(obuf, olen, out);
			free(obuf);
		}
	}
	for (i = 0; run && i < runs; i++)
		free(run[i]);
	free(run);
out:
	free(boff);
	return res;
}

static struct ts_sort_key skey(uint16_t type, uint16_t desc, uint32_t off,
			       uint32_t width)
{
	struct ts_sort_key k = { type, desc, off, width, 0 };

	return k;
}

/* The join keys of the union rows (GROUP_COUNT). */
static void join_keys(struct ts_stream_request *r)
{
	r->key_count = 2;
	r->keys[0] = (struct ts_op_key){ TS_KEY_UINT, 0, 8, 8, 0, 16, 0, 1, 0, 0 };
	r->keys[1] = (struct ts_op_key){ TS_KEY_INT, 0, 18, 2, 0, 0, 0, 0, 0, 0 };
	r->side_offset = 0;
	r->aux_offset = SX_AUX;
}

/* Replace *cur by *next (freeing the old table). */
static void advance(struct sx_table *cur, struct sx_table *next)
{
	sx_table_free(cur);
	*cur = *next;
	memset(next, 0, sizeof(*next));
}

int sx_run(void *s, const uint8_t key_in[32], const uint8_t key_out[32],
	   const struct sx_case *c, struct sx_result *r)
{
	struct sx_table t1, t2, cur, nxt, gen;
	struct ts_stream_request req;
	struct ts_sort_key k[4];
	uint32_t real = 0;
	uint64_t m = 0, m_gen;
	TEE_Result res;
	long n;

	memset(r, 0, sizeof(*r));
	memset(&cur, 0, sizeof(cur));
	memset(&nxt, 0, sizeof(nxt));
	memset(&gen, 0, sizeof(gen));
	r->step = SX_WIDEN;
	res = sx_seal(s, key_in, 0, c->t1, c->n1, SX_T1_RS, c->rpb1, &t1);
	if (res == TEE_SUCCESS)
		res = sx_seal(s, key_in, 0, c->t2, c->n2, SX_T2_RS, c->rpb2,
			      &t2);
	if (res != TEE_SUCCESS)
		goto fail;

	/* WIDEN: side byte @0, join key @8/@16/@18, T1 @80, T2 @104. */
	sx_request(&req, TS_STREAM_WIDEN, "sx-widen-union");
	req.in0_key_slot = 0;
	req.in1_key_slot = 0;
	req.rows_per_block = c->rpb;
	req.out_row_size = SX_U_RS;
	req.side_offset = 0;
	req.pk_offset = SX_T1_AT;
	req.fk_offset = SX_T2_AT;
	req.copy_count = 3;
	req.copies[0] = (struct ts_stream_copy){ 0, 8, 8, 8 };
	req.copies[1] = (struct ts_stream_copy){ 8, 16, 16, 1 };
	req.copies[2] = (struct ts_stream_copy){ 10, 17, 18, 2 };
	res = sx_stream(s, &req, &t1, &t2, &cur, NULL);
	sx_table_free(&t1);
	sx_table_free(&t2);
	if (res != TEE_SUCCESS)
		goto fail;

	/* Sort by (NULL flag, keys, side): NULL rows apart from the groups;
	 * raw_sort: by (keys, side), NULL rows anywhere among equal bytes. */
	r->step = SX_SORT1;
	k[0] = skey(TS_KEY_UINT, 0, 16, 1);
	k[1] = skey(TS_KEY_UINT, 0, 8, 8);
	k[2] = skey(TS_KEY_INT, 0, 18, 2);
	k[3] = skey(TS_KEY_UINT, 0, 0, 1);
	res = sx_xsort(s, &cur, k + !!c->raw_sort, 4 - !!c->raw_sort, c->rpb,
		       "sx-sort-keys-si", &nxt);
	if (res != TEE_SUCCESS)
		goto fail;
	advance(&cur, &nxt);

	r->step = SX_FORWARD;
	sx_request(&req, TS_STREAM_GROUP_COUNT, "sx-gc-forward!!");
	join_keys(&req);
	req.variant = TS_STREAM_GC_FORWARD;
	req.reveal = 1;
	res = sx_stream(s, &req, &cur, NULL, &nxt, &real);
	if (res != TEE_SUCCESS)
		goto fail;
	advance(&cur, &nxt);
	r->m = m = real;

	/* Sort by ([NULL flag,] keys, side desc, idx desc). */
	r->step = SX_SORT2;
	{
		struct ts_sort_key k5[5] = {
			skey(TS_KEY_UINT, 0, 16, 1), skey(TS_KEY_UINT, 0, 8, 8),
			skey(TS_KEY_INT, 0, 18, 2), skey(TS_KEY_UINT, 1, 0, 1),
			skey(TS_KEY_UINT, 1, A_IDX, 8)
		};

		res = sx_xsort(s, &cur, k5 + !!c->raw_sort,
			       5 - !!c->raw_sort, c->rpb, "sx-sort-keys-sd",
			       &nxt);
	}
	if (res != TEE_SUCCESS)
		goto fail;
	advance(&cur, &nxt);

	r->step = SX_SECOND;
	sx_request(&req, TS_STREAM_GROUP_COUNT, "sx-gc-second!!!");
	join_keys(&req);
	req.variant = TS_STREAM_GC_SECOND;
	res = sx_stream(s, &req, &cur, NULL, &nxt, NULL);
	if (res != TEE_SUCCESS)
		goto fail;
	advance(&cur, &nxt);

	/* GENERATE m (+ m_delta) fillers per side in the union layout. */
	r->step = SX_GENERATE;
	m_gen = (uint64_t)((int64_t)m + c->m_delta);
	sx_request(&req, TS_STREAM_GENERATE, "sx-generate!!!!");
	req.in0_key_slot = 0;
	req.rows_per_block = c->rpb + 1;
	req.out_row_size = SX_U_RS;
	req.side_offset = 0;
	req.aux_offset = SX_AUX;
	req.limit = m_gen;
	res = sx_stream(s, &req, NULL, NULL, &gen, NULL);
	if (res != TEE_SUCCESS)
		goto fail;
	if (gen.d.row_count != 2 * m_gen) {
		res = TEE_ERROR_GENERIC;
		goto fail;
	}

	/* The union of real rows and fillers, each keeping its side byte. */
	r->step = SX_WIDEN2;
	sx_request(&req, TS_STREAM_WIDEN, "sx-widen-fill!!");
	req.in1_key_slot = 1;
	req.rows_per_block = c->rpb;
	req.out_row_size = SX_U_RS;
	req.side_offset = SX_WIDEN2_SIDE;
	res = sx_stream(s, &req, &cur, &gen, &nxt, NULL);
	sx_table_free(&gen);
	if (res != TEE_SUCCESS)
		goto fail;
	advance(&cur, &nxt);

	r->step = SX_SORT3;
	k[0] = skey(TS_KEY_UINT, 0, A_DROP, 1);
	k[1] = skey(TS_KEY_UINT, 0, 0, 1);
	k[2] = skey(TS_KEY_UINT, 0, A_DEST, 8);
	k[3] = skey(TS_KEY_UINT, 0, A_KIND, 1);
	res = sx_xsort(s, &cur, k, 4, c->rpb, "sx-sort-dest!!!", &nxt);
	if (res != TEE_SUCCESS)
		goto fail;
	advance(&cur, &nxt);

	r->step = SX_FILL;
	sx_request(&req, TS_STREAM_FILL, "sx-fill!!!!!!!!");
	req.side_offset = 0;
	req.aux_offset = SX_AUX;
	res = sx_stream(s, &req, &cur, NULL, &nxt, NULL);
	if (res != TEE_SUCCESS)
		goto fail;
	advance(&cur, &nxt);

	/* [flag | union row]: flagged rows by (target, side) first. */
	r->step = SX_SORT4;
	k[0] = skey(TS_KEY_UINT, 1, 0, 1);
	k[1] = skey(TS_KEY_UINT, 0, 8 + A_DEST, 8);
	k[2] = skey(TS_KEY_UINT, 0, 8 + 0, 1);
	res = sx_xsort(s, &cur, k, 3, c->rpb, "sx-sort-target!", &nxt);
	if (res != TEE_SUCCESS)
		goto fail;
	advance(&cur, &nxt);

	r->step = SX_LIMIT2M;
	sx_request(&req, TS_STREAM_LIMIT, "sx-limit-2m!!!!");
	req.rows_per_block = c->rpb;
	req.out_row_size = 8 + SX_U_RS;
	req.limit = 2 * m;
	res = sx_stream(s, &req, &cur, NULL, &nxt, NULL);
	if (res != TEE_SUCCESS)
		goto fail;
	advance(&cur, &nxt);

	/* Side 0 (the T1 copy) is the lookup side of its target. */
	r->step = SX_JOIN;
	sx_request(&req, TS_STREAM_JOIN_PKFK, "sx-join-target!");
	req.key_count = 1;
	req.keys[0] = (struct ts_op_key){ TS_KEY_UINT, 0, 8 + A_DEST, 8, 0,
					  0, 0, 0, 0, 0 };
	req.side_offset = 8;
	req.pk_offset = 8 + SX_T1_AT;
	req.pk_size = SX_T1_RS;
	req.reveal = 1;
	res = sx_stream(s, &req, &cur, NULL, &nxt, &real);
	if (res != TEE_SUCCESS)
		goto fail;
	advance(&cur, &nxt);
	r->join_real = real;

	r->step = SX_SORT5;
	k[0] = skey(TS_KEY_UINT, 1, 0, 1);
	res = sx_xsort(s, &cur, k, 1, c->rpb, "sx-sort-real!!!", &nxt);
	if (res != TEE_SUCCESS)
		goto fail;
	advance(&cur, &nxt);

	/* [flag | flag | union row]: keep T1 row | T2 row. */
	r->step = SX_LIMITM;
	sx_request(&req, TS_STREAM_LIMIT, "sx-limit-m!!!!!");
	req.rows_per_block = c->rpb;
	req.out_row_size = SX_PAIR_RS;
	req.pk_offset = 16 + SX_T1_AT;
	req.limit = m;
	res = sx_stream(s, &req, &cur, NULL, &nxt, NULL);
	if (res != TEE_SUCCESS)
		goto fail;
	advance(&cur, &nxt);

	r->pairs = malloc((size_t)m * SX_PAIR_RS + 1);
	n = th_open_table(key_out, cur.blocks, cur.len, r->pairs,
			  (size_t)m * SX_PAIR_RS, NULL, 0, NULL);
	if (n < 0 || !th_descriptor_verify(key_out, &cur.d)) {
		res = TEE_ERROR_GENERIC;
		goto fail;
	}
	r->n_pairs = (uint64_t)n;
	sx_table_free(&cur);
	r->step = SX_DONE;
	r->res = TEE_SUCCESS;
	return 0;
fail:
	sx_table_free(&cur);
	sx_table_free(&nxt);
	sx_table_free(&gen);
	r->res = res;
	return -1;
}

/* 1 if T1 row a joins T2 row b: k1 and k2 equal, neither k1 NULL. */
static int rows_join(const uint8_t *a, const uint8_t *b)
{
	return !a[8] && !b[16] && memcmp(a, b + 8, 8) == 0 &&
	       memcmp(a + 10, b + 17, 2) == 0;
}

/* Nested-loop equi-join: (T1 row | T2 row) for every matching pair, in two
 * passes (count, then fill). Returns the pairs (malloc'd), *m their count. */
uint8_t *sx_nested_loop(const uint8_t *t1, uint32_t n1, const uint8_t *t2,
			uint32_t n2, uint64_t *m)
{
	uint8_t *out;
	uint64_t k = 0;
	uint32_t i, j;

	for (i = 0; i < n1; i++)
		for (j = 0; j < n2; j++)
			k += rows_join(t1 + (size_t)i * SX_T1_RS,
				       t2 + (size_t)j * SX_T2_RS);
	out = malloc(k * SX_PAIR_RS + 1);
	*m = k;
	k = 0;
	for (i = 0; i < n1; i++) {
		const uint8_t *a = t1 + (size_t)i * SX_T1_RS;

		for (j = 0; j < n2; j++) {
			const uint8_t *b = t2 + (size_t)j * SX_T2_RS;

			if (!rows_join(a, b))
				continue;
			memcpy(out + k * SX_PAIR_RS, a, SX_T1_RS);
			memcpy(out + k * SX_PAIR_RS + SX_T1_RS, b, SX_T2_RS);
			k++;
		}
	}
	return out;
}

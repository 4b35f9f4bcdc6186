/*
 * cmd_operator_run.c - the operator half of RUN_OPERATOR: parse and check
 * the request body against the input row sizes, run one kernel of ops/
 * (obl_* in TS_OPMODE_OBLIVIOUS, op_*_fast in TS_OPMODE_ENCRYPTED), the
 * expression evaluator for predicates, join residuals and projections, and
 * the NULL fill of unmatched left-outer rows.
 *
 * Every buffer comes from op_alloc (TEE_Malloc, wiped before it is freed);
 * operators take a struct obl_arena sized by their *_work_bytes() from
 * public sizes before any row is read, so running out of heap is
 * TEE_ERROR_OUT_OF_MEMORY and reveals only sizes. Expressions run over
 * chunks of OP_EXPR_CHUNK rows so their workspace stays small.
 *
 * Oblivious mode: loop bounds, offsets and allocations depend on public
 * sizes only; rows, is_real ctls and m are handled by the kernels and by
 * constant-time code here (masks, no branches). The general join's inner
 * size m is declassified between begin and finish, as its contract says.
 */
#include "cmd.h"
#include "cmd_operator.h"
#include "../ct.h"
#include "../ops/fast_sort.h"
#include "../ops/op_filter.h"
#include "../ops/op_join.h"
#include "../ops/op_sort.h"
#include "../ops/op_union_distinct.h"

#if defined(TEESPARK_SIM) && defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
/* The simulator's constant-time check runs under valgrind: a declassified
 * value becomes public, so memcheck must stop tracking it as secret. */
#define OP_DECLASSIFY(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#endif
#endif
#ifndef OP_DECLASSIFY
#define OP_DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

_Static_assert(sizeof(struct ts_op_key) == sizeof(struct obl_key_spec),
	       "ts_op_key mirrors obl_key_spec");
_Static_assert(sizeof(struct ts_op_agg) == sizeof(struct obl_agg_spec),
	       "ts_op_agg mirrors obl_agg_spec");

#define OP_EXPR_CHUNK 1024u

/* ------------------------------------------------------------------------ */
/* Buffers                                                                   */
/* ------------------------------------------------------------------------ */

static void *alloc_hint(struct op_bufs *b, size_t bytes, uint32_t hint)
{
	size_t i;

	for (i = 0; i < OP_MAX_BUFS; i++) {
		if (b->p[i])
			continue;
		b->p[i] = TEE_Malloc(bytes ? bytes : 1, hint);
		if (!b->p[i])
			return NULL;
		b->n[i] = bytes ? bytes : 1;
		b->w[i] = b->n[i];
		return b->p[i];
	}
	return NULL;
}

void *op_alloc(struct op_bufs *b, size_t bytes)
{
	return alloc_hint(b, bytes, TEE_MALLOC_FILL_ZERO);
}

/* Zeroing a large buffer here, and again when the kernel takes it,
 * touches every page twice; the wipe on free remains. */
void *op_alloc_nofill(struct op_bufs *b, size_t bytes)
{
	return alloc_hint(b, bytes, TEE_MALLOC_NO_FILL);
}

void op_bufs_written(struct op_bufs *b, const void *p, size_t bytes)
{
	size_t i;

	for (i = 0; i < OP_MAX_BUFS; i++)
		if (p && b->p[i] == p && bytes < b->w[i])
			b->w[i] = bytes;
}

void op_release(struct op_bufs *b, void *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < OP_MAX_BUFS; i++)
		if (b->p[i] == p)
			cmd_free_wiped(&b->p[i], b->w[i]);
}

void op_bufs_free(struct op_bufs *b)
{
	size_t i;

	for (i = 0; i < OP_MAX_BUFS; i++)
		cmd_free_wiped(&b->p[i], b->w[i]);
}

/* An arena of `bytes` from the heap (64-byte aligned inside). It is
 * never zeroed beforehand, in either mode: kernels take arena memory
 * only through obl_arena_alloc, which zeroes each block it hands out
 * (sizes public), or (the fast kernels) obl_arena_take, for arrays they
 * write in full before reading; zeroing the whole arena first only
 * touched every page one more time. (nofill: kept for the call sites'
 * documentation of which kernels take unzeroed blocks.) */
static TEE_Result arena_new(struct op_bufs *b, struct obl_arena *a,
			    size_t bytes, int nofill)
{
	uint8_t *p;

	(void)nofill;
	if (bytes > SIZE_MAX - 128)
		return TEE_ERROR_OUT_OF_MEMORY;
	p = op_alloc_nofill(b, bytes + 128);
	if (!p)
		return TEE_ERROR_OUT_OF_MEMORY;
	obl_arena_init(a, p, bytes + 128);
	return TEE_SUCCESS;
}

/* n * size without overflow, else SIZE_MAX (then op_alloc fails). */
static size_t mul_sz(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return SIZE_MAX;
	return n * size;
}

/* ------------------------------------------------------------------------ */
/* Plan checks (public parameters only)                                      */
/* ------------------------------------------------------------------------ */

static int is_join(const struct op_plan *p)
{
	return p->req.op == TS_OP_JOIN;
}

size_t op_raw_row_size(const struct op_plan *p, const struct op_batch in[2])
{
	switch (p->req.op) {
	case TS_OP_AGGREGATE:
		return obl_agg_out_row_size(in[0].rs, p->req.agg_count);
	case TS_OP_JOIN:
		if (p->req.join_kind == TS_JOIN_LEFT_SEMI ||
		    p->req.join_kind == TS_JOIN_LEFT_ANTI)
			return in[0].rs;
		return obl_join_out_row_size(in[0].rs, in[1].rs);
	default:
		return in[0].rs;
	}
}

/* Validate one program for rows of row_size bytes. */
static TEE_Result check_prog(const uint8_t *prog, size_t len, size_t row_size,
			     struct ts_expr_info *info)
{
	int32_t bad = 0;

	if (ts_expr_validate(prog, len, info, &bad) != TS_EXPR_OK) {
		SHIM_LOGE("RUN_OPERATOR: invalid expression program (insn %d)",
			  (int)bad);
		return TS_ERROR_BAD_REQUEST;
	}
	if (info->row_size != row_size) {
		SHIM_LOGE("RUN_OPERATOR: program for %u-byte rows, rows have %zu",
			  (unsigned int)info->row_size, row_size);
		return TS_ERROR_BAD_REQUEST;
	}
	return TEE_SUCCESS;
}

TEE_Result op_plan_check(struct op_plan *p, const struct op_batch in[2])
{
	const struct ts_op_request *r = &p->req;
	size_t nk = r->key_count, raw = op_raw_row_size(p, in);
	struct obl_table lt = { NULL, in[0].n, in[0].rs, NULL };
	struct obl_table rt = { NULL, in[1].n, in[1].rs, NULL };
	TEE_Result res;
	uint32_t i;

	switch (r->op) {
	case TS_OP_SORT:
	case TS_OP_DISTINCT:
		if (nk == 0 || obl_key_spec_check(p->keys, nk, in[0].rs))
			return TS_ERROR_BAD_REQUEST;
		break;
	case TS_OP_AGGREGATE:
		if (obl_aggregate_check(in[0].rs, p->keys, nk, p->aggs,
					r->agg_count))
			return TS_ERROR_BAD_REQUEST;
		break;
	case TS_OP_JOIN:
		if (obl_join_check(&lt, p->keys, &rt, p->keys + nk, nk))
			return TS_ERROR_BAD_REQUEST;
		/* A nullable key joined to a NOT NULL one: same words. */
		obl_key_spec_join_align(p->keys, p->keys + nk, nk);
		if (r->join_kind == TS_JOIN_LEFT_OUTER &&
		    r->right_null_bits > 8 * in[1].rs)
			return TS_ERROR_BAD_REQUEST;
		break;
	case TS_OP_UNION_ALL:
		if (in[0].rs != in[1].rs)
			return TS_ERROR_BAD_REQUEST;
		break;
	default:
		break;
	}
	if (p->pred) {
		res = check_prog(p->pred, r->pred_size, is_join(p) ?
				 in[0].rs + in[1].rs : in[0].rs, &p->pred_info);
		if (res != TEE_SUCCESS)
			return res;
		if (p->pred_info.result.kind != TS_T_BOOL)
			return TS_ERROR_BAD_REQUEST;
	}
	for (i = 0; i < r->proj_count; i++) {
		struct op_proj *q = &p->proj[i];
		uint32_t w;

		res = check_prog(q->prog, q->info.prog_len, raw, &q->info);
		if (res != TEE_SUCCESS)
			return res;
		w = ts_expr_stored_width(&q->info.result);
		if (w == 0 || q->out_offset > r->out_row_size ||
		    w > r->out_row_size - q->out_offset ||
		    (q->out_null_bit != TS_OP_NOT_NULLABLE &&
		     q->out_null_bit / 8 >= r->out_row_size))
			return TS_ERROR_BAD_REQUEST;
	}
	if (r->proj_count == 0 && raw != r->out_row_size) {
		SHIM_LOGE("RUN_OPERATOR: out_row_size %u, the operator gives %zu",
			  (unsigned int)r->out_row_size, raw);
		return TS_ERROR_BAD_REQUEST;
	}
	return TEE_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* Expressions                                                               */
/* ------------------------------------------------------------------------ */

/* A 16-byte aligned workspace for the largest of the plan's programs over
 * OP_EXPR_CHUNK rows. */
struct op_ws {
	uint8_t *p;
	size_t len;
};

static TEE_Result ws_new(struct op_bufs *b, const struct op_plan *p,
			 struct op_ws *ws)
{
	size_t need = 0, s;
	uint8_t *raw;
	uint32_t i;

	if (p->pred)
		need = ts_expr_workspace_size(&p->pred_info, OP_EXPR_CHUNK);
	for (i = 0; i < p->req.proj_count; i++) {
		s = ts_expr_workspace_size(&p->proj[i].info, OP_EXPR_CHUNK);
		if (s == 0)
			return TEE_ERROR_OUT_OF_MEMORY;
		need = s > need ? s : need;
	}
	if (need == 0 || need > SIZE_MAX - 16)
		return p->pred || p->req.proj_count ? TEE_ERROR_OUT_OF_MEMORY :
						      TEE_SUCCESS;
	raw = op_alloc(b, need + 16);
	if (!raw)
		return TEE_ERROR_OUT_OF_MEMORY;
	ws->p = raw + ((16 - ((uintptr_t)raw & 15)) & 15);
	ws->len = need;
	return TEE_SUCCESS;
}

/* keep[i] = predicate TRUE for each of n rows of rs bytes.
 * Leaks: the program, n, rs.  Hides: rows, which rows pass. */
static int eval_keep(const uint8_t *prog, const struct ts_expr_info *info,
		     const struct op_ws *ws, const uint8_t *rows, size_t n,
		     size_t rs, uint32_t *keep)
{
	struct ts_expr_col col;
	size_t i, c;

	for (i = 0; i < n; i += c) {
		c = n - i < OP_EXPR_CHUNK ? n - i : OP_EXPR_CHUNK;
		if (ts_expr_eval(prog, info, rows + i * rs, c, rs, ws->p,
				 ws->len, &col) != TS_EXPR_OK ||
		    ts_expr_filter_ctl(&col, keep + i) != TS_EXPR_OK)
			return -1;
	}
	return 0;
}

struct residual_ctx {
	const struct op_plan *plan;
	const struct op_ws *ws;
	int err;
};

/* obl_keep_fn over joined rows. Leaks: n, row_size, the program.
 * Hides: rows, which pairs pass. */
static void residual_fn(const uint8_t *rows, size_t n, size_t row_size,
			uint32_t *keep, void *vctx)
{
	struct residual_ctx *ctx = vctx;

	if (eval_keep(ctx->plan->pred, &ctx->plan->pred_info, ctx->ws, rows,
		      n, row_size, keep)) {
		TEE_MemFill(keep, 0, n * sizeof(*keep));
		ctx->err = 1;
	}
}

static uint32_t ld32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* A projection that is one COL instruction of a non-bool column: it is
 * the column's stored bytes (zero if NULL) and its NULL bit, which
 * copy_col writes without the evaluator. *off, *nb: the column's offset
 * and NULL bit in the raw row. 0: not such a program. Public: reads the
 * validated program only. */
static int plain_col(const struct op_proj *q, uint32_t *off, uint32_t *nb)
{
	const uint8_t *in = q->prog + TS_EXPR_HEADER_SIZE;

	if (q->info.n_insn != 1 || q->info.result.kind == TS_T_BOOL ||
	    q->info.prog_len < TS_EXPR_HEADER_SIZE +
			       TS_EXPR_INSN_HEADER_SIZE + 8 ||
	    ((uint32_t)in[0] | (uint32_t)in[1] << 8) != TS_OP_COL)
		return 0;
	*off = ld32le(in + TS_EXPR_INSN_HEADER_SIZE);
	*nb = ld32le(in + TS_EXPR_INSN_HEADER_SIZE + 4);
	return 1;
}

/* What ts_expr_eval of a plain COL and ts_expr_write_column give, in
 * one pass: the stored bytes at offset off of each raw row (zero where
 * NULL) to the projection's out_offset, and its NULL bit (the COL
 * payload is u32 offset, u32 null bit; ts_expr_validate and
 * op_plan_check checked both sides against the row sizes).
 * Leaks: n, sizes, offsets.  Hides: values, NULLs. */
static void copy_col(const struct op_proj *q, uint32_t off, uint32_t nb,
		     const uint8_t *raw, size_t n, size_t raw_rs,
		     uint8_t *out, size_t out_rs)
{
	const uint32_t w = ts_expr_stored_width(&q->info.result);
	const uint32_t onb = q->out_null_bit;
	size_t i;
	uint32_t k;

	for (i = 0; i < n; i++) {
		const uint8_t *src = raw + i * raw_rs;
		uint8_t *row = out + i * out_rs, *dst = row + q->out_offset;
		uint8_t isnull = 0, keep;

		if (nb != TS_EXPR_NOT_NULLABLE)
			isnull = (uint8_t)((src[nb / 8] >> (nb % 8)) & 1u);
		keep = (uint8_t)(0u - (uint32_t)(isnull ^ 1u));
		if (nb == TS_EXPR_NOT_NULLABLE)
			TEE_MemMove(dst, src + off, w);
		else
			for (k = 0; k < w; k++)
				dst[k] = src[off + k] & keep;
		if (onb != TS_OP_NOT_NULLABLE) {
			uint8_t bit = (uint8_t)(1u << (onb % 8));

			row[onb / 8] = (uint8_t)((row[onb / 8] & (uint8_t)~bit) |
						 (bit & (uint8_t)(0u - isnull)));
		}
	}
}

/* A plain-column projection (plain_col) as copy_col runs it. */
struct plain_proj {
	uint32_t off, nb, w, out_off, onb;
};

/* Encrypted mode: whether every projection of the plan is a plain column
 * (then pp[] describes them, in order). Public: the programs. */
static int all_plain(const struct op_plan *p, struct plain_proj *pp)
{
	uint32_t k;

	if (p->req.mode != TS_OPMODE_ENCRYPTED)
		return 0;
	for (k = 0; k < p->req.proj_count; k++) {
		const struct op_proj *q = &p->proj[k];

		if (!plain_col(q, &pp[k].off, &pp[k].nb))
			return 0;
		pp[k].w = ts_expr_stored_width(&q->info.result);
		pp[k].out_off = q->out_offset;
		pp[k].onb = q->out_null_bit;
	}
	return 1;
}

/* Copy w bytes (public), with fixed-size copies for the usual widths. */
static inline void copy_w(uint8_t *dst, const uint8_t *src, uint32_t w)
{
	switch (w) {
	case 8:
		memcpy(dst, src, 8);
		break;
	case 4:
		memcpy(dst, src, 4);
		break;
	case 2:
		memcpy(dst, src, 2);
		break;
	case 1:
		dst[0] = src[0];
		break;
	case 16:
		memcpy(dst, src, 16);
		break;
	default:
		memcpy(dst, src, w);
		break;
	}
}

/* One output row (zeroed, out_rs bytes) from one raw row: every plain
 * projection in order, with copy_col's result (the stored bytes, zero if
 * NULL, and the NULL bit). NOT oblivious: branches on NULL flags. */
static void project_row_plain(const struct plain_proj *pp, uint32_t np,
			      const uint8_t *src, uint8_t *row)
{
	uint32_t k;

	for (k = 0; k < np; k++) {
		const struct plain_proj *q = &pp[k];
		uint8_t isnull = 0;

		if (q->nb != TS_EXPR_NOT_NULLABLE)
			isnull = (uint8_t)((src[q->nb / 8] >> (q->nb % 8)) & 1u);
		if (isnull)
			memset(row + q->out_off, 0, q->w);
		else
			copy_w(row + q->out_off, src + q->off, q->w);
		if (q->onb != TS_OP_NOT_NULLABLE) {
			uint8_t bit = (uint8_t)(1u << (q->onb % 8));

			row[q->onb / 8] = (uint8_t)((row[q->onb / 8] &
						     (uint8_t)~bit) |
						    (isnull ? bit : 0));
		}
	}
}

/* Encrypted mode, every projection a plain column: row by row, in one
 * pass. out == raw (in place) needs out_rs <= raw_rs: output row i ends
 * at or before raw row i + 1 begins, and is built in tmp (out_rs bytes)
 * before raw row i is overwritten. Otherwise out is a separate zeroed
 * buffer. NOT oblivious: branches on NULL flags. */
static void project_plain(const struct plain_proj *pp, uint32_t np,
			  const uint8_t *raw, size_t n, size_t raw_rs,
			  uint8_t *out, size_t out_rs, uint8_t *tmp)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const uint8_t *src = raw + i * raw_rs;

		if (out != raw) {
			project_row_plain(pp, np, src, out + i * out_rs);
			continue;
		}
		memset(tmp, 0, out_rs);
		project_row_plain(pp, np, src, tmp);
		memmove(out + i * out_rs, tmp, out_rs);
	}
}

/* Project n raw rows into out (n rows of out_rs bytes, zeroed first).
 * Encrypted mode copies plain columns directly (copy_col).
 * Leaks: the programs, n, sizes.  Hides: values, NULLs. */
static int project(const struct op_plan *p, const struct op_ws *ws,
		   const uint8_t *raw, size_t n, size_t raw_rs, uint8_t *out)
{
	const size_t out_rs = p->req.out_row_size;
	struct ts_expr_col col;
	size_t i, c;
	uint32_t k, off, nb;

	for (k = 0; k < p->req.proj_count; k++) {
		const struct op_proj *q = &p->proj[k];

		if (p->req.mode == TS_OPMODE_ENCRYPTED &&
		    plain_col(q, &off, &nb)) {
			copy_col(q, off, nb, raw, n, raw_rs, out, out_rs);
			continue;
		}
		for (i = 0; i < n; i += c) {
			c = n - i < OP_EXPR_CHUNK ? n - i : OP_EXPR_CHUNK;
			if (ts_expr_eval(q->prog, &q->info, raw + i * raw_rs, c,
					 raw_rs, ws->p, ws->len, &col) !=
				    TS_EXPR_OK ||
			    ts_expr_write_column(&col, out + i * out_rs, out_rs,
						 q->out_offset,
						 q->out_null_bit) != TS_EXPR_OK)
				return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* The operators                                                             */
/* ------------------------------------------------------------------------ */

static int oblivious(const struct op_plan *p)
{
	return p->req.mode == TS_OPMODE_OBLIVIOUS;
}

/* Output slots of `slots` rows of rs bytes with is_real ctls; nofill
 * only for a kernel that writes every slot and ctl. */
static TEE_Result out_alloc(struct op_bufs *b, struct op_batch *o,
			    size_t slots, size_t rs, int nofill)
{
	o->n = slots;
	o->rs = rs;
	if (nofill) {
		o->rows = op_alloc_nofill(b, mul_sz(slots, rs));
		o->real = op_alloc_nofill(b, mul_sz(slots, sizeof(uint32_t)));
	} else {
		o->rows = op_alloc(b, mul_sz(slots, rs));
		o->real = op_alloc(b, mul_sz(slots, sizeof(uint32_t)));
	}
	return o->rows && o->real ? TEE_SUCCESS : TEE_ERROR_OUT_OF_MEMORY;
}

static TEE_Result out_new(struct op_bufs *b, struct op_batch *o, size_t slots,
			  size_t rs)
{
	return out_alloc(b, o, slots, rs, 0);
}

static struct obl_table as_table(const struct op_batch *b)
{
	struct obl_table t = { b->rows, b->n, b->rs, b->real };

	return t;
}

/* The kernels' return code as a TEE result: OBL_ERR_PARAM is a request
 * the row-size checks should have caught; NOMEM is the arena. */
static TEE_Result obl_res(int rc)
{
	if (rc == OBL_OK)
		return TEE_SUCCESS;
	if (rc == OBL_ERR_NOMEM)
		return TEE_ERROR_OUT_OF_MEMORY;
	return TS_ERROR_BAD_REQUEST;
}

/* The encrypted-mode filter: each chunk of OP_EXPR_CHUNK rows is
 * evaluated, then its kept rows move down to the next free slot of the
 * input batch itself (slot k <= row i, and every row of the chunk was
 * evaluated before any moves), so the result is the first m rows of the
 * input buffer: no n-sized keep array or output buffer, and nothing but
 * the m kept rows and their ctls is written.
 * NOT oblivious: branches on the predicate and is_real; leaks which rows
 * pass. */
static TEE_Result run_filter_fast(struct op_plan *p, struct op_batch *in,
				  struct op_bufs *b, const struct op_ws *ws,
				  struct op_result *r)
{
	const size_t n = in->n, rs = in->rs;
	uint32_t *keep = op_alloc_nofill(b, OP_EXPR_CHUNK * sizeof(uint32_t));
	size_t i, j, c, k = 0;

	if (!keep)
		return TEE_ERROR_OUT_OF_MEMORY;
	for (i = 0; i < n; i += c) {
		c = n - i < OP_EXPR_CHUNK ? n - i : OP_EXPR_CHUNK;
		if (eval_keep(p->pred, &p->pred_info, ws, in->rows + i * rs,
			      c, rs, keep))
			return TS_ERROR_BAD_REQUEST;
		for (j = 0; j < c; j++) {
			if (!keep[j] || (in->real && !(in->real[i + j] & 1u)))
				continue;
			if (k != i + j)	/* disjoint: k < i + j */
				TEE_MemMove(in->rows + k * rs,
					    in->rows + (i + j) * rs, rs);
			k++;
		}
	}
	r->out.rows = in->rows;
	r->out.rs = rs;
	r->out.n = k;
	r->out.real = op_alloc_nofill(b, mul_sz(k, sizeof(uint32_t)));
	if (!r->out.real)
		return TEE_ERROR_OUT_OF_MEMORY;
	for (i = 0; i < k; i++)
		r->out.real[i] = 1;
	r->m = k;
	return TEE_SUCCESS;
}

static TEE_Result run_filter(struct op_plan *p, struct op_batch *in,
			     struct op_bufs *b, const struct op_ws *ws,
			     struct op_result *r)
{
	struct obl_table t = as_table(in);
	struct obl_arena a;
	uint32_t *keep;
	TEE_Result res;

	if (!oblivious(p))
		return run_filter_fast(p, in, b, ws, r);
	keep = op_alloc(b, mul_sz(in->n, sizeof(uint32_t)));
	if (!keep)
		return TEE_ERROR_OUT_OF_MEMORY;
	res = out_alloc(b, &r->out, in->n, in->rs, 0);
	if (res == TEE_SUCCESS)
		res = arena_new(b, &a, obl_filter_work_bytes(in->n, in->rs), 0);
	if (res != TEE_SUCCESS)
		return res;
	if (eval_keep(p->pred, &p->pred_info, ws, in->rows, in->n, in->rs,
		      keep))
		return TS_ERROR_BAD_REQUEST;
	return obl_res(obl_filter(&t, keep, r->out.rows, r->out.real,
				  in->n, &r->m, &a));
}

static TEE_Result run_sort(struct op_plan *p, struct op_batch *in,
			   struct op_bufs *b, struct op_result *r)
{
	struct obl_table t = as_table(in);
	const size_t nk = p->req.key_count;
	uint64_t lim = p->req.limit;
	size_t k = lim < in->n ? (size_t)lim : in->n;
	struct obl_arena a;
	TEE_Result res;
	size_t work;

	if (lim && k == 0) {		/* LIMIT over no rows */
		r->out.n = 0;
		r->out.rs = in->rs;
		r->m = 0;
		return out_new(b, &r->out, 0, in->rs);
	}
	if (!oblivious(p))
		work = op_sort_fast_work_bytes(in->n, in->rs, p->keys, nk);
	else if (lim)
		work = obl_topk_work_bytes(in->n, in->rs, p->keys, nk, k);
	else
		work = obl_sort_rows_work_bytes(in->n, in->rs, p->keys, nk);
	/* The fast sort and top-k write every slot and ctl. */
	res = out_alloc(b, &r->out, lim ? k : in->n, in->rs, !oblivious(p));
	if (res == TEE_SUCCESS)
		res = arena_new(b, &a, work, !oblivious(p));
	if (res != TEE_SUCCESS)
		return res;
	if (lim && oblivious(p))
		return obl_res(obl_topk(&t, p->keys, nk, k, r->out.rows,
					r->out.real, &r->m, &a));
	if (lim)
		return obl_res(op_topk_fast(&t, p->keys, nk, k, r->out.rows,
					    r->out.real, &r->m, &a));
	if (oblivious(p))
		return obl_res(obl_sort_rows(&t, p->keys, nk, r->out.rows,
					     r->out.real, &r->m, &a));
	return obl_res(op_sort_rows_fast(&t, p->keys, nk, r->out.rows,
					 r->out.real, &r->m, &a));
}

static TEE_Result run_limit(struct op_plan *p, struct op_batch *in,
			    struct op_bufs *b, struct op_result *r)
{
	struct obl_table t = as_table(in);
	size_t k = p->req.limit < in->n ? (size_t)p->req.limit : in->n;
	struct obl_arena a;
	TEE_Result res;

	res = out_new(b, &r->out, k, in->rs);
	if (res == TEE_SUCCESS && oblivious(p))
		res = arena_new(b, &a, obl_limit_work_bytes(in->n, in->rs), 0);
	if (res != TEE_SUCCESS || k == 0)
		return res;
	if (oblivious(p))
		return obl_res(obl_limit(&t, k, r->out.rows, r->out.real,
					 &r->m, &a));
	return obl_res(op_limit_fast(&t, k, r->out.rows, r->out.real, &r->m));
}

/* Encrypted aggregate's first guess of the number of groups, for its
 * output slots (a larger m runs the kernel again with m slots), and the
 * first number of groups its hash tables are sized for (more groups:
 * again with OP_AGG_FAST_GROW times as many, at last with the n-row
 * arena). Sizing the tables by n made a 1000-group aggregate of 10^6 rows
 * take and wipe a 112 MB arena; a run that overflows stops at the first
 * group too many. */
#define OP_AGG_FAST_CAP 65536u
#define OP_AGG_FAST_GROUPS 4096u
#define OP_AGG_FAST_GROW 32u

/* The encrypted-mode aggregate (op_aggregate_fast_prefix): only the m
 * group rows and ctls are written, and the output keeps m slots.
 * NOT oblivious: the number of groups decides the arena and output sizes
 * and whether the kernel runs again. */
static TEE_Result run_aggregate_fast(struct op_plan *p, struct op_batch *in,
				     struct op_bufs *b, struct op_result *r)
{
	struct obl_table t = as_table(in);
	const size_t nk = p->req.key_count, na = p->req.agg_count;
	const size_t orow = obl_agg_out_row_size(in->rs, na);
	size_t cap = in->n ? in->n : 1, g = OP_AGG_FAST_GROUPS, work, k;
	struct obl_arena a;
	TEE_Result res;
	int rc, last;

	if (cap > OP_AGG_FAST_CAP)
		cap = OP_AGG_FAST_CAP;
	for (;;) {
		res = out_alloc(b, &r->out, cap, orow, 1);
		if (res != TEE_SUCCESS)
			return res;
		for (;;) {
			work = g < in->n ? op_aggregate_fast_hash_work_bytes(g,
					p->keys, nk, p->aggs, na) : 0;
			last = work == 0;
			if (last)
				work = op_aggregate_fast_work_bytes(in->n,
					in->rs, p->keys, nk, p->aggs, na);
			res = arena_new(b, &a, work, 1);
			if (res != TEE_SUCCESS)
				return res;
			rc = op_aggregate_fast_prefix(&t, p->keys, nk, p->aggs,
					na, r->out.rows, r->out.real, cap,
					&r->m, &a);
			op_release(b, a.base);
			if (rc != OBL_ERR_NOMEM || last)
				break;
			g = g > SIZE_MAX / OP_AGG_FAST_GROW ? SIZE_MAX :
			    g * OP_AGG_FAST_GROW;
		}
		if (rc != OBL_OK)
			return obl_res(rc);
		k = r->m < cap ? (size_t)r->m : cap;
		op_bufs_written(b, r->out.rows, k * orow);
		op_bufs_written(b, r->out.real, k * sizeof(uint32_t));
		if (r->m <= cap) {
			r->out.n = k;
			return TEE_SUCCESS;
		}
		/* m <= n, so the second run never truncates. */
		op_release(b, r->out.rows);
		op_release(b, r->out.real);
		if (r->m > in->n)
			return TEE_ERROR_GENERIC;
		cap = (size_t)r->m;
	}
}

static TEE_Result run_aggregate(struct op_plan *p, struct op_batch *in,
				struct op_bufs *b, struct op_result *r)
{
	struct obl_table t = as_table(in);
	const size_t nk = p->req.key_count, na = p->req.agg_count;
	const size_t orow = obl_agg_out_row_size(in->rs, na);
	size_t cap = in->n ? in->n : 1;
	struct obl_arena a;
	TEE_Result res;

	if (!oblivious(p))
		return run_aggregate_fast(p, in, b, r);
	res = out_new(b, &r->out, cap, orow);
	if (res == TEE_SUCCESS)
		res = arena_new(b, &a, obl_aggregate_work_bytes(in->n,
				in->rs, p->keys, nk, p->aggs, na), 0);
	if (res != TEE_SUCCESS)
		return res;
	return obl_res(obl_aggregate(&t, p->keys, nk, p->aggs, na,
				     r->out.rows, r->out.real, cap,
				     &r->m, &a));
}

static TEE_Result run_distinct(struct op_plan *p, struct op_batch *in,
			       struct op_bufs *b, struct op_result *r)
{
	struct obl_table t = as_table(in);
	const size_t nk = p->req.key_count;
	size_t work = obl_distinct_work_bytes(in->n, in->rs, p->keys, nk);
	struct obl_arena a;
	TEE_Result res;

	res = out_new(b, &r->out, in->n, in->rs);
	if (res == TEE_SUCCESS)
		res = arena_new(b, &a, oblivious(p) ? work : mul_sz(work, 2),
				!oblivious(p));
	if (res != TEE_SUCCESS)
		return res;
	if (oblivious(p))
		return obl_res(obl_distinct(&t, p->keys, nk, r->out.rows,
					    r->out.real, in->n, &r->m, &a));
	return obl_res(op_distinct_fast(&t, p->keys, nk, r->out.rows,
					r->out.real, in->n, &r->m, &a));
}

/* UNION ALL; the real rows are first only if neither input is padded. */
static TEE_Result run_union(struct op_batch in[2], struct op_bufs *b,
			    struct op_result *r)
{
	struct obl_table ta = as_table(&in[0]), tb = as_table(&in[1]);
	TEE_Result res;

	res = out_new(b, &r->out, in[0].n + in[1].n, in[0].rs);
	if (res != TEE_SUCCESS)
		return res;
	r->m = in[0].n + in[1].n;
	r->real_first = !in[0].real && !in[1].real;
	return obl_res(obl_union_all(&ta, &tb, r->out.rows, r->out.real));
}

/* Set the first right_null_bits NULL bits of the right part of every slot
 * whose right_is_null ctl is 1 (an unmatched left outer row).
 * Leaks: slots, sizes, right_null_bits.  Hides: which rows matched. */
static void null_fill(struct op_batch *o, const uint32_t *rnull, size_t rs1,
		      uint32_t bits)
{
	size_t i;
	uint32_t j;

	for (i = 0; i < o->n; i++) {
		uint8_t mask = (uint8_t)(0u - (rnull[i] & 1u));
		uint8_t *right = o->rows + i * o->rs + rs1;

		for (j = 0; j < bits; j += 8) {
			uint32_t left = bits - j;
			uint8_t m8 = left >= 8 ? 0xFF :
				(uint8_t)((1u << left) - 1u);

			right[j / 8] |= (uint8_t)(m8 & mask);
		}
	}
}

/* The general (many-to-many) oblivious join: begin, declassify the inner
 * size m (public by this join's contract), finish. The arena is sized
 * for begin and a finish of m_guess pairs; a larger m runs begin again
 * in an arena sized for it (whether that happens depends on m only).
 * Leaks: n1, n2, row sizes, key types, m.  Hides: keys, which rows match,
 * the outer size. */
static TEE_Result run_join_general(struct op_plan *p, struct op_batch in[2],
				   struct op_bufs *b, struct obl_keep_fn *resid,
				   uint32_t **rnull, struct op_result *r)
{
	struct obl_table lt = as_table(&in[0]), rt = as_table(&in[1]);
	const size_t nk = p->req.key_count;
	const struct obl_key_spec *lk = p->keys, *rk = p->keys + nk;
	const int outer = p->req.join_kind == TS_JOIN_LEFT_OUTER;
	size_t kw = obl_key_spec_words(lk, nk);
	size_t begin = obl_join_general_begin_work_bytes(in[0].n, in[0].rs,
			in[1].n, in[1].rs, kw);
	size_t finish = begin;		/* a first guess; m decides */
	struct obl_join_general j;
	struct obl_arena a;
	uint8_t *mem = NULL;
	uint64_t m = 0, m_out = 0;
	int attempt, rc;
	TEE_Result res;

	for (attempt = 0; attempt < 2; attempt++) {
		size_t need;

		op_release(b, mem);
		res = arena_new(b, &a, begin > SIZE_MAX - finish ? SIZE_MAX :
				begin + finish, 0);
		if (res != TEE_SUCCESS)
			return res;
		mem = a.base;
		rc = obl_join_general_begin(&j, &lt, lk, &rt, rk, nk, &a);
		if (rc != OBL_OK)
			return obl_res(rc);
		m = j.m;
		OP_DECLASSIFY(&m, sizeof(m));
		need = outer ? obl_join_left_outer_finish_work_bytes(&j, m) :
			       obl_join_general_finish_work_bytes(&j, m);
		if (need <= a.size - a.used)
			break;
		obl_join_general_abort(&j);
		finish = need;
		if (attempt == 1)
			return TEE_ERROR_OUT_OF_MEMORY;
	}
	if (m > SIZE_MAX / 2) {
		obl_join_general_abort(&j);
		return TEE_ERROR_OUT_OF_MEMORY;
	}
	res = out_new(b, &r->out, (size_t)m + (outer ? in[0].n : 0),
		      obl_join_out_row_size(in[0].rs, in[1].rs));
	if (res == TEE_SUCCESS && outer) {
		*rnull = op_alloc(b, mul_sz(r->out.n, sizeof(uint32_t)));
		if (!*rnull)
			res = TEE_ERROR_OUT_OF_MEMORY;
	}
	if (res != TEE_SUCCESS) {
		obl_join_general_abort(&j);
		return res;
	}
	if (outer)
		rc = obl_join_general_left_outer_finish(&j, m, &lt, lk, &rt,
				rk, nk, r->out.rows, r->out.real, *rnull,
				&m_out);
	else
		rc = obl_join_general_finish(&j, m, resid, r->out.rows,
					     r->out.real, &m_out);
	r->m = m_out;
	return obl_res(rc);
}

static TEE_Result run_join(struct op_plan *p, struct op_batch in[2],
			   struct op_bufs *b, const struct op_ws *ws,
			   struct op_result *r)
{
	struct obl_table lt = as_table(&in[0]), rt = as_table(&in[1]);
	const struct ts_op_request *q = &p->req;
	const size_t nk = q->key_count;
	const struct obl_key_spec *lk = p->keys, *rk = p->keys + nk;
	size_t kw = obl_key_spec_words(lk, nk);
	struct residual_ctx ctx = { p, ws, 0 };
	struct obl_keep_fn keep_fn = { residual_fn, &ctx };
	struct obl_keep_fn *resid = p->pred ? &keep_fn : NULL;
	const int semi = q->join_kind == TS_JOIN_LEFT_SEMI ||
			 q->join_kind == TS_JOIN_LEFT_ANTI;
	const int outer = q->join_kind == TS_JOIN_LEFT_OUTER;
	enum obl_join_kind kind = (enum obl_join_kind)q->join_kind;
	size_t rs_out = semi ? in[0].rs :
			obl_join_out_row_size(in[0].rs, in[1].rs);
	uint32_t *rnull = NULL, dup = 0;
	struct obl_arena a;
	TEE_Result res = TEE_SUCCESS;
	size_t cap;
	int rc;

	if (!oblivious(p)) {
		size_t work = op_join_fast_work_bytes(in[0].n, in[0].rs,
						      in[1].n, in[1].rs, kw);

		cap = in[0].n > in[1].n ? in[0].n : in[1].n;
		for (;;) {
			/* op_join_fast_prefix writes slots, ctls and rnull
			 * 0..min(m, cap)-1, which are all that is read. */
			res = out_alloc(b, &r->out, cap, rs_out, 1);
			if (res == TEE_SUCCESS && outer) {
				rnull = op_alloc_nofill(b, mul_sz(cap, 4));
				res = rnull ? TEE_SUCCESS :
					      TEE_ERROR_OUT_OF_MEMORY;
			}
			if (res == TEE_SUCCESS)
				res = arena_new(b, &a, work, 1);
			if (res != TEE_SUCCESS)
				return res;
			rc = op_join_fast_prefix(&lt, lk, &rt, rk, nk, kind,
					resid, r->out.rows, r->out.real, rnull,
					cap, &r->m, &a);
			op_release(b, a.base);
			if (rc != OBL_OK)
				break;
			/* NOT oblivious: m decides the wipe lengths. */
			{
				size_t k = r->m < cap ? (size_t)r->m : cap;

				op_bufs_written(b, r->out.rows, k * rs_out);
				op_bufs_written(b, r->out.real, k * 4);
				op_bufs_written(b, rnull, k * 4);
			}
			if (r->m <= cap) {
				r->out.n = (size_t)r->m;
				break;
			}
			/* NOT oblivious: the size decides a second run. */
			op_release(b, r->out.rows);
			op_release(b, r->out.real);
			op_release(b, rnull);
			rnull = NULL;
			if (r->m > SIZE_MAX / 2)
				return TEE_ERROR_OUT_OF_MEMORY;
			cap = (size_t)r->m;
		}
		res = obl_res(rc);
	} else if (semi) {
		res = out_new(b, &r->out, in[0].n, rs_out);
		if (res == TEE_SUCCESS)
			res = arena_new(b, &a, obl_join_semi_work_bytes(in[0].n,
					in[0].rs, in[1].n, kw), 0);
		if (res != TEE_SUCCESS)
			return res;
		res = obl_res(obl_join_semi(&lt, lk, &rt, rk, nk, kind,
					    r->out.rows, r->out.real, in[0].n,
					    &r->m, &a));
	} else if (q->pk_side != TS_PK_NONE) {
		enum obl_pk_side side = q->pk_side == TS_PK_LEFT ?
					OBL_PK_LEFT : OBL_PK_RIGHT;

		cap = side == OBL_PK_LEFT ? in[1].n : in[0].n;
		res = out_new(b, &r->out, cap, rs_out);
		if (res == TEE_SUCCESS) {
			rnull = op_alloc(b, mul_sz(cap, 4));
			res = rnull ? TEE_SUCCESS : TEE_ERROR_OUT_OF_MEMORY;
		}
		if (res == TEE_SUCCESS)
			res = arena_new(b, &a, obl_join_pkfk_work_bytes(in[0].n,
					in[0].rs, in[1].n, in[1].rs, kw), 0);
		if (res != TEE_SUCCESS)
			return res;
		res = obl_res(obl_join_pkfk(&lt, lk, &rt, rk, nk, side, kind,
					    resid, r->out.rows, r->out.real,
					    rnull, cap, &r->m, &dup, &a));
		/* A duplicate primary key makes the result wrong: the flag
		 * is declassified and the command fails (documented). */
		OP_DECLASSIFY(&dup, sizeof(dup));
		if (res == TEE_SUCCESS && dup)
			res = TS_ERROR_PK_DUPLICATE;
	} else {
		res = run_join_general(p, in, b, resid, &rnull, r);
	}
	if (res == TEE_SUCCESS && ctx.err)
		res = TS_ERROR_BAD_REQUEST;
	if (res == TEE_SUCCESS && outer)
		null_fill(&r->out, rnull, in[0].rs, q->right_null_bits);
	return res;
}

/* Count of real rows (for PROJECT of a padded input).
 * Leaks: n.  Hides: the flags and their sum. */
static uint64_t count_real(const struct op_batch *o)
{
	uint64_t m = 0;
	size_t i;

	for (i = 0; i < o->n; i++)
		m += o->real ? (o->real[i] & 1u) : 1u;
	return m;
}

TEE_Result op_run(struct op_plan *p, struct op_batch in[2],
		  struct op_bufs *b, struct op_result *r)
{
	struct op_ws ws = { NULL, 0 };
	struct plain_proj *pp;
	size_t raw_rs;
	TEE_Result res;

	TEE_MemFill(r, 0, sizeof(*r));
	r->real_first = 1;
	res = ws_new(b, p, &ws);
	if (res != TEE_SUCCESS)
		return res;
	switch (p->req.op) {
	case TS_OP_FILTER:
		res = run_filter(p, &in[0], b, &ws, r);
		break;
	case TS_OP_PROJECT:
		r->out = in[0];
		if (!r->out.real) {
			r->out.real = op_alloc(b, mul_sz(in[0].n, 4));
			if (!r->out.real)
				return TEE_ERROR_OUT_OF_MEMORY;
			for (size_t i = 0; i < in[0].n; i++)
				r->out.real[i] = 1;
		} else {
			r->real_first = 0;
		}
		r->m = count_real(&r->out);
		break;
	case TS_OP_SORT:
		res = run_sort(p, &in[0], b, r);
		break;
	case TS_OP_LIMIT:
		res = run_limit(p, &in[0], b, r);
		break;
	case TS_OP_AGGREGATE:
		res = run_aggregate(p, &in[0], b, r);
		break;
	case TS_OP_JOIN:
		res = run_join(p, in, b, &ws, r);
		break;
	case TS_OP_UNION_ALL:
		res = run_union(in, b, r);
		break;
	case TS_OP_DISTINCT:
		res = run_distinct(p, &in[0], b, r);
		break;
	default:
		res = TS_ERROR_BAD_REQUEST;
	}
	if (res != TEE_SUCCESS)
		return res;
	/* Encrypted mode does not hide m (the fast kernels' access pattern
	 * and the output size show it): drop the dummy slots after the m
	 * real-first rows, so that the projection and sealing skip them
	 * (an aggregate has n slots for m groups). Their buffers are still
	 * wiped in full. NOT oblivious; oblivious mode keeps every slot. */
	if (!oblivious(p) && r->real_first && r->m < r->out.n)
		r->out.n = (size_t)r->m;
	if (p->req.proj_count == 0)
		return res;

	/* The projection, then dummies are zeroed again (a projection of
	 * a zero row need not be zero). */
	raw_rs = r->out.rs;
	pp = NULL;
	if (!oblivious(p)) {
		pp = op_alloc(b, p->req.proj_count * sizeof(*pp));
		if (!pp)
			return TEE_ERROR_OUT_OF_MEMORY;
	}
	if (pp && all_plain(p, pp)) {
		/* Encrypted mode, plain columns only: in place when the
		 * output rows are no wider (the raw rows are not read again;
		 * the buffer's wipe still covers what the operator wrote). */
		const size_t out_rs = p->req.out_row_size;
		uint8_t *tmp = op_alloc(b, out_rs);
		uint8_t *proj = out_rs <= raw_rs ? r->out.rows :
				op_alloc(b, mul_sz(r->out.n, out_rs));

		if (!tmp || !proj)
			return TEE_ERROR_OUT_OF_MEMORY;
		project_plain(pp, p->req.proj_count, r->out.rows, r->out.n,
			      raw_rs, proj, out_rs, tmp);
		if (proj != r->out.rows && r->out.rows != in[0].rows)
			op_release(b, r->out.rows);
		r->out.rows = proj;
		r->out.rs = out_rs;
		if (!r->real_first)
			obl_zero_dummies(r->out.rows, r->out.n, r->out.rs,
					 r->out.real);
		return TEE_SUCCESS;
	}
	{
		uint8_t *proj = op_alloc(b, mul_sz(r->out.n,
						   p->req.out_row_size));

		if (!proj)
			return TEE_ERROR_OUT_OF_MEMORY;
		if (project(p, &ws, r->out.rows, r->out.n, raw_rs, proj))
			return TS_ERROR_BAD_REQUEST;
		if (r->out.rows != in[0].rows)
			op_release(b, r->out.rows);
		r->out.rows = proj;
		r->out.rs = p->req.out_row_size;
		/* Encrypted mode, real first: every slot left is real. */
		if (oblivious(p) || !r->real_first)
			obl_zero_dummies(r->out.rows, r->out.n, r->out.rs,
					 r->out.real);
	}
	return TEE_SUCCESS;
}

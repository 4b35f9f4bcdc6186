/*
 * ct_operators.c - ctgrind for the relational operators: every obl_
 * operator runs under valgrind memcheck with its input rows, dummy flags
 * and keep flags marked secret (undefined); a branch or address that
 * depends on them is an error. Only the sizes the operators' "Leaks:"
 * lines name stay public, and the general join's m is declassified
 * exactly where its contract says (between begin and finish).
 *
 * Built twice from this file:
 *   ct_operators        the obl_ operators: must be clean
 *   ct_operators_fast   (-DCT_OPERATORS_FAST) the encrypted-mode op_*_fast
 *                       versions on the same inputs: the NEGATIVE CONTROL,
 *                       valgrind must flag it (run_ct.sh fails otherwise)
 */
#include "../ct/harness.h"

#include <stdlib.h>
#include <string.h>

#include "../../ta/ct.h"
#include "../../ta/ops/op_aggregate.h"
#include "../../ta/ops/op_filter.h"
#include "../../ta/ops/op_join.h"
#include "../../ta/ops/op_sort.h"
#include "../../ta/ops/op_union_distinct.h"
#include "op_testdata.h"

#if defined(CT_OPERATORS_FAST)
const char ct_program_name[] = "ct_operators_fast";
#else
const char ct_program_name[] = "ct_operators";
#endif

static const size_t sizes[] = { 0, 1, 2, 7, 33, 100, 300 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))
#define ARENA_BYTES ((size_t)16 << 20)

static struct obl_arena arena;

/* A constant-time residual: v(left) / 2 < v(right) / 2 + 250. */
static void residual_ct(const uint8_t *rows, size_t n, size_t row_size,
		uint32_t *keep, void *ctx)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < n; i++) {
		int64_t a, b;

		memcpy(&a, rows + i * row_size + OPT_OFF_V, 8);
		memcpy(&b, rows + i * row_size + OPT_ROW + OPT_OFF_V, 8);
		keep[i] = ct_i64_lt(a >> 1, (b >> 1) + 250);
	}
}

/* A secret table of family fam: rows and (optionally) dummy flags. */
static void secret_table(struct obl_table *t, uint8_t *rows, uint32_t *real,
		size_t n, int fam, uint64_t range, int dummies)
{
	size_t i;

	opt_fill(rows, n, (enum opt_family)fam, range);
	for (i = 0; i < n; i++)
		real[i] = (uint32_t)(ct_rand() % 4 != 0);
	CT_SECRET(rows, n * OPT_ROW);
	CT_SECRET(real, n * 4);
	t->rows = rows;
	t->n = n;
	t->row_size = OPT_ROW;
	t->is_real = dummies ? real : NULL;
}

static void must(int rc)
{
	if (rc != OBL_OK)
		abort();   /* rc depends on public sizes only */
}

static void run_single_table(size_t n, int fam, int dummies)
{
	size_t orow = obl_agg_out_row_size(OPT_ROW, OPT_NAGGS), cap = n ? n : 1, i;
	uint8_t *rows = ct_alloc(n * OPT_ROW), *out = ct_alloc(cap * orow + 2 * n * OPT_ROW + 5 * OPT_ROW);
	uint32_t *real = ct_alloc(n * 4), *keep = ct_alloc(n * 4), *flags = ct_alloc((cap + 2 * n + 5) * 4);
	struct obl_table t;
	uint64_t m = 0;

	secret_table(&t, rows, real, n, fam, 20, dummies);
	for (i = 0; i < n; i++)
		keep[i] = (uint32_t)(ct_rand() & 1);
	CT_SECRET(keep, n * 4);
#if defined(CT_OPERATORS_FAST)
	must(op_filter_fast(&t, keep, out, flags, n, &m));
	ct_sink(out, n * OPT_ROW);
	must(op_sort_rows_fast(&t, opt_keys_sort, 2, out, flags, &m, &arena));
	ct_sink(out, n * OPT_ROW);
	must(op_topk_fast(&t, opt_keys_sort, 2, 5, out, flags, &m, &arena));
	must(op_limit_fast(&t, 5, out, flags, &m));
	must(op_aggregate_fast(&t, opt_keys_k1k2, 2, opt_aggs, OPT_NAGGS, out, flags, cap, &m, &arena));
	ct_sink(out, cap * orow);
	must(op_aggregate_fast(&t, NULL, 0, opt_aggs, OPT_NAGGS, out, flags, 1, &m, &arena));
	must(op_distinct_fast(&t, opt_keys_k1k2, 2, out, flags, n, &m, &arena));
#else
	must(obl_filter(&t, keep, out, flags, n, &m, &arena));
	ct_sink(out, n * OPT_ROW);
	must(obl_filter(&t, keep, out, flags, n / 2, &m, &arena));   /* padded to a bound */
	must(obl_sort_rows(&t, opt_keys_sort, 2, out, flags, &m, &arena));
	ct_sink(out, n * OPT_ROW);
	must(obl_topk(&t, opt_keys_sort, 2, 5, out, flags, &m, &arena));
	must(obl_limit(&t, 5, out, flags, &m, &arena));
	must(obl_aggregate(&t, opt_keys_k1k2, 2, opt_aggs, OPT_NAGGS, out, flags, cap, &m, &arena));
	ct_sink(out, cap * orow);
	must(obl_aggregate(&t, NULL, 0, opt_aggs, OPT_NAGGS, out, flags, 1, &m, &arena));
	must(obl_distinct(&t, opt_keys_k1k2, 2, out, flags, n, &m, &arena));
	must(obl_union_all(&t, &t, out, flags));
#endif
	ct_sink(out, n * OPT_ROW);
	ct_sink(flags, n * 4);
	ct_sink(&m, sizeof(m));
	free(rows);
	free(out);
	free(real);
	free(keep);
	free(flags);
}

static void run_joins(size_t n1, size_t n2, int fam, int dummies)
{
	struct obl_keep_fn resid = { residual_ct, NULL };
	size_t orow = 2 * OPT_ROW, i;
	uint8_t *l = ct_alloc(n1 * OPT_ROW), *r = ct_alloc(n2 * OPT_ROW);
	uint32_t *lr = ct_alloc(n1 * 4), *rr = ct_alloc(n2 * 4);
	size_t cap = n1 + n2 + 1;
	uint8_t *out = ct_alloc(cap * orow);
	uint32_t *flags = ct_alloc(cap * 4), *rnull = ct_alloc(cap * 4), dup = 0;
	struct obl_table lt, rt;
	uint64_t m = 0;

	secret_table(&lt, l, lr, n1, fam, 10, dummies);
	secret_table(&rt, r, rr, n2, OPT_DISTINCT, 10, dummies);
	(void)i;
	(void)dup;
#if defined(CT_OPERATORS_FAST)
	must(op_join_fast(&lt, opt_keys_k1, &rt, opt_keys_k1, 1, OBL_JOIN_INNER, &resid,
		out, flags, NULL, cap, &m, &arena));
	must(op_join_fast(&lt, opt_keys_k1, &rt, opt_keys_k1, 1, OBL_JOIN_LEFT_OUTER, NULL,
		out, flags, rnull, cap, &m, &arena));
	must(op_join_fast(&lt, opt_keys_k1k2, &rt, opt_keys_k1k2, 2, OBL_JOIN_LEFT_SEMI, NULL,
		out, flags, NULL, cap, &m, &arena));
	must(op_join_fast(&lt, opt_keys_k1, &rt, opt_keys_k1, 1, OBL_JOIN_LEFT_ANTI, NULL,
		out, flags, NULL, cap, &m, &arena));
#else
	{
		struct obl_join_general j;
		uint8_t *o;
		uint32_t *f, *rn;

		/* PK-FK: right keys are distinct (OPT_DISTINCT) */
		must(obl_join_pkfk(&lt, opt_keys_k1, &rt, opt_keys_k1, 1, OBL_PK_RIGHT,
			OBL_JOIN_INNER, &resid, out, flags, NULL, n1, &m, &dup, &arena));
		must(obl_join_pkfk(&lt, opt_keys_k1, &rt, opt_keys_k1, 1, OBL_PK_RIGHT,
			OBL_JOIN_LEFT_OUTER, NULL, out, flags, rnull, n1, &m, &dup, &arena));
		must(obl_join_pkfk(&rt, opt_keys_k1, &lt, opt_keys_k1, 1, OBL_PK_LEFT,
			OBL_JOIN_INNER, NULL, out, flags, NULL, n1, &m, &dup, &arena));
		ct_sink(&dup, 4);
		must(obl_join_semi(&lt, opt_keys_k1k2, &rt, opt_keys_k1k2, 2,
			OBL_JOIN_LEFT_SEMI, out, flags, n1, &m, &arena));
		must(obl_join_semi(&lt, opt_keys_k1, &rt, opt_keys_k1, 1,
			OBL_JOIN_LEFT_ANTI, out, flags, n1, &m, &arena));
		/* general: m is public by contract, declassified here */
		must(obl_join_general_begin(&j, &lt, opt_keys_k1, &rt, opt_keys_k1, 1, &arena));
		VALGRIND_MAKE_MEM_DEFINED(&j.m, sizeof(j.m));
		o = ct_alloc(j.m * orow);
		f = ct_alloc(j.m * 4);
		must(obl_join_general_finish(&j, j.m, &resid, o, f, &m));
		ct_sink(o, j.m * orow);
		free(o);
		free(f);
		must(obl_join_general_begin(&j, &lt, opt_keys_k1k2, &rt, opt_keys_k1k2, 2, &arena));
		VALGRIND_MAKE_MEM_DEFINED(&j.m, sizeof(j.m));
		o = ct_alloc((j.m + n1) * orow);
		f = ct_alloc((j.m + n1) * 4);
		rn = ct_alloc((j.m + n1) * 4);
		must(obl_join_general_left_outer_finish(&j, j.m, &lt, opt_keys_k1k2, &rt,
			opt_keys_k1k2, 2, o, f, rn, &m));
		ct_sink(o, (j.m + n1) * orow);
		ct_sink(rn, (j.m + n1) * 4);
		free(o);
		free(f);
		free(rn);
	}
#endif
	ct_sink(out, cap * orow);
	ct_sink(flags, cap * 4);
	ct_sink(&m, sizeof(m));
	free(l);
	free(r);
	free(lr);
	free(rr);
	free(out);
	free(flags);
	free(rnull);
}

void ct_run(void)
{
	uint8_t *mem = ct_alloc(ARENA_BYTES);
	size_t s;
	int fam;

	obl_arena_init(&arena, mem, ARENA_BYTES);
	for (s = 0; s < NSIZES; s++)
		for (fam = 0; fam < OPT_FAMILIES; fam += 2)
			run_single_table(sizes[s], fam, (int)(s & 1));
	for (s = 0; s < NSIZES; s++)
		run_joins(sizes[s], sizes[NSIZES - 1 - s] / 2 + 1, (int)(s % OPT_FAMILIES),
			(int)(s & 1));
	free(mem);
}

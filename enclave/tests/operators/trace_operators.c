/*
 * trace_operators.c - operators_trace: trace equality of every obl_
 * operator, with the trace build ($(BUILD)/obj/ops-trace, -DOBL_TRACE).
 * For each public shape (row counts, and the output size m where the
 * operator's contract reveals it: the general join), a set of inputs that
 * differ in everything secret - keys, NULLs, duplicates, 90% skew, dummy
 * rows, keep flags, how many rows pass or match - must give one trace
 * digest and one event count. Operators whose output is padded (filter,
 * aggregate, PK-FK, semi/anti, distinct, top-k) reveal no m, so their
 * inputs vary m too.
 *
 * Negative controls: the encrypted-mode versions (op_*_fast), instrumented
 * the same way, run on the SAME inputs and must give differing digests for
 * every shape with n >= 7; otherwise the check could not tell and the run
 * fails.
 *
 *   operators_trace            everything
 *   operators_trace NAME...    only those operators (names as printed)
 * Exit status 0 iff every operator is trace-equal and every control differs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ta/ops/op_aggregate.h"
#include "../../ta/ops/op_filter.h"
#include "../../ta/ops/op_join.h"
#include "../../ta/ops/op_sort.h"
#include "../../ta/ops/op_union_distinct.h"
#include "../../ta/trace.h"
#include "op_testdata.h"

#define NVARIANTS 12           /* inputs per shape: fixed families + random */
#define ARENA_BYTES ((size_t)64 << 20)

static struct obl_arena arena;

struct trace {
	uint64_t digest, events;
};

struct shape {
	size_t n1, n2, m;           /* rows of each input; m for the general join */
};

static struct trace finish(void)
{
	struct trace t = { obl_trace_digest(), obl_trace_events() };

	return t;
}

/* Variant v of a single table: family, dummies, key range. */
static uint32_t *table_for(uint8_t *rows, size_t n, int v)
{
	uint32_t *real = opt_alloc(n * 4 + 4);
	size_t i;

	opt_fill(rows, n, (enum opt_family)(v % OPT_FAMILIES), v < 5 ? 40 : 3 + (uint64_t)v);
	for (i = 0; i < n; i++)
		real[i] = v == 3 ? (i % 2) : v == 4 ? 0 : v < 6 ? 1 : opt_below(3) != 0;
	return real;
}

/* ---- single-table operators ---------------------------------------------- */

static struct trace run_filter(const struct shape *sh, int v, int fast)
{
	size_t n = sh->n1, i;
	uint8_t *rows = opt_alloc(n * OPT_ROW + 1), *out = opt_alloc(n * OPT_ROW + 1);
	uint32_t *real = table_for(rows, n, v), *keep = opt_alloc(n * 4 + 4);
	uint32_t *flags = opt_alloc(n * 4 + 4);
	struct obl_table t = { rows, n, OPT_ROW, real };
	struct trace tr;
	uint64_t m;

	for (i = 0; i < n; i++)   /* all, none, first, alternate, random */
		keep[i] = v == 0 ? 1 : v == 1 ? 0 : v == 2 ? i < 3 : v == 5 ? i & 1 :
			(uint32_t)opt_below(2);
	obl_trace_reset();
	if (fast)
		(void)op_filter_fast(&t, keep, out, flags, n, &m);
	else
		(void)obl_filter(&t, keep, out, flags, n, &m, &arena);
	tr = finish();
	free(rows); free(out); free(real); free(keep); free(flags);
	return tr;
}

static struct trace run_sort(const struct shape *sh, int v, int fast)
{
	size_t n = sh->n1;
	uint8_t *rows = opt_alloc(n * OPT_ROW + 1), *out = opt_alloc(n * OPT_ROW + 1);
	uint32_t *real = table_for(rows, n, v), *flags = opt_alloc(n * 4 + 4);
	struct obl_table t = { rows, n, OPT_ROW, real };
	struct trace tr;
	uint64_t m;

	obl_trace_reset();
	if (fast)
		(void)op_sort_rows_fast(&t, opt_keys_sort, 2, out, flags, &m, &arena);
	else
		(void)obl_sort_rows(&t, opt_keys_sort, 2, out, flags, &m, &arena);
	tr = finish();
	free(rows); free(out); free(real); free(flags);
	return tr;
}

static struct trace run_topk_limit(const struct shape *sh, int v, int fast)
{
	size_t n = sh->n1, k = 5;
	uint8_t *rows = opt_alloc(n * OPT_ROW + 1), *out = opt_alloc(k * OPT_ROW);
	uint32_t *real = table_for(rows, n, v), *flags = opt_alloc(k * 4);
	struct obl_table t = { rows, n, OPT_ROW, real };
	struct trace tr;
	uint64_t m;

	obl_trace_reset();
	if (fast) {
		(void)op_topk_fast(&t, opt_keys_sort, 2, k, out, flags, &m, &arena);
		(void)op_limit_fast(&t, k, out, flags, &m);
	} else {
		(void)obl_topk(&t, opt_keys_sort, 2, k, out, flags, &m, &arena);
		(void)obl_limit(&t, k, out, flags, &m, &arena);
	}
	tr = finish();
	free(rows); free(out); free(real); free(flags);
	return tr;
}

static struct trace run_aggregate(const struct shape *sh, int v, int fast)
{
	size_t n = sh->n1, orow = obl_agg_out_row_size(OPT_ROW, OPT_NAGGS), cap = n ? n : 1;
	uint8_t *rows = opt_alloc(n * OPT_ROW + 1), *out = opt_alloc(cap * orow);
	uint32_t *real = table_for(rows, n, v), *flags = opt_alloc(cap * 4);
	struct obl_table t = { rows, n, OPT_ROW, real };
	struct trace tr;
	uint64_t m;

	obl_trace_reset();
	if (fast) {
		(void)op_aggregate_fast(&t, opt_keys_k1k2, 2, opt_aggs, OPT_NAGGS, out, flags, cap, &m, &arena);
		(void)op_aggregate_fast(&t, NULL, 0, opt_aggs, OPT_NAGGS, out, flags, 1, &m, &arena);
	} else {
		(void)obl_aggregate(&t, opt_keys_k1k2, 2, opt_aggs, OPT_NAGGS, out, flags, cap, &m, &arena);
		(void)obl_aggregate(&t, NULL, 0, opt_aggs, OPT_NAGGS, out, flags, 1, &m, &arena);
	}
	tr = finish();
	free(rows); free(out); free(real); free(flags);
	return tr;
}

static struct trace run_distinct(const struct shape *sh, int v, int fast)
{
	size_t n = sh->n1;
	uint8_t *rows = opt_alloc(n * OPT_ROW + 1), *out = opt_alloc(2 * n * OPT_ROW + 1);
	uint32_t *real = table_for(rows, n, v), *flags = opt_alloc(2 * n * 4 + 4);
	struct obl_table t = { rows, n, OPT_ROW, real };
	struct trace tr;
	uint64_t m;

	obl_trace_reset();
	if (fast) {
		(void)op_distinct_fast(&t, opt_keys_k1k2, 2, out, flags, n, &m, &arena);
	} else {
		(void)obl_distinct(&t, opt_keys_k1k2, 2, out, flags, n, &m, &arena);
		(void)obl_union_all(&t, &t, out, flags);
	}
	tr = finish();
	free(rows); free(out); free(real); free(flags);
	return tr;
}

/* ---- joins ---------------------------------------------------------------- */

static void set_key(uint8_t *row, int64_t k)
{
	memcpy(row + OPT_OFF_K1, &k, 8);
	row[OPT_OFF_NULLS] &= (uint8_t)~1u;
}

/* Two tables with exactly sh->m matching (real, non-NULL) pairs on k1,
 * shaped by variant v: 1:1 pairs, one left row x m right rows, m left rows
 * x one right row, 1:1 with NULL/dummy fillers, random groups. Rows outside
 * the matching groups get keys that match nothing (or NULL keys, or are
 * dummies). Requires m <= min(n1, n2) (the shapes below respect it). */
static void join_tables(const struct shape *sh, int v, uint8_t *l, uint8_t *r,
		uint32_t *lr, uint32_t *rr)
{
	size_t n1 = sh->n1, n2 = sh->n2, rem = sh->m, u1 = 0, u2 = 0, i;
	int64_t key = 10;
	int form = v % 5;

	opt_fill(l, n1, OPT_RANDOM, 50);
	opt_fill(r, n2, OPT_RANDOM, 50);
	for (i = 0; i < n1; i++)
		lr[i] = 1;
	for (i = 0; i < n2; i++)
		rr[i] = 1;
	while (rem > 0) {
		size_t a = 1, b = 1;

		if (form == 1)
			b = rem;
		else if (form == 2)
			a = rem;
		else if (form == 4) {
			a = 1 + (size_t)opt_below(3);
			b = 1 + (size_t)opt_below(4);
			while (a * b > rem)
				b > 1 ? b-- : a--;
		}
		for (i = 0; i < a; i++)
			set_key(l + (u1++) * OPT_ROW, key);
		for (i = 0; i < b; i++)
			set_key(r + (u2++) * OPT_ROW, key);
		rem -= a * b;
		key += 1 + (int64_t)opt_below(5);
	}
	for (i = u1; i < n1; i++) {
		set_key(l + i * OPT_ROW, 1000000 + (int64_t)i);
		if (form == 3 && (i & 1))
			l[i * OPT_ROW] |= 1;            /* NULL key */
		if (form == 3 && i % 3 == 0)
			lr[i] = 0;                      /* dummy */
	}
	for (i = u2; i < n2; i++) {
		set_key(r + i * OPT_ROW, form == 3 ? 10 + (int64_t)(i % 7) : 2000000 + (int64_t)i);
		if (form == 3)
			rr[i] = 0;   /* dummies with matching keys must not count */
	}
	/* shuffle rows so the matching ones are not at the front */
	for (i = n1; i > 1; i--) {
		size_t j = (size_t)opt_below(i);
		uint8_t tmp[OPT_ROW];
		uint32_t t;

		memcpy(tmp, l + (i - 1) * OPT_ROW, OPT_ROW);
		memcpy(l + (i - 1) * OPT_ROW, l + j * OPT_ROW, OPT_ROW);
		memcpy(l + j * OPT_ROW, tmp, OPT_ROW);
		t = lr[i - 1]; lr[i - 1] = lr[j]; lr[j] = t;
	}
}

static struct trace run_join_general(const struct shape *sh, int v, int fast)
{
	size_t n1 = sh->n1, n2 = sh->n2, orow = 2 * OPT_ROW, cap = sh->m + n1 + 1;
	uint8_t *l = opt_alloc(n1 * OPT_ROW + 1), *r = opt_alloc(n2 * OPT_ROW + 1);
	uint32_t *lr = opt_alloc(n1 * 4 + 4), *rr = opt_alloc(n2 * 4 + 4);
	uint8_t *out = opt_alloc(cap * orow);
	uint32_t *flags = opt_alloc(cap * 4), *rnull = opt_alloc(cap * 4);
	struct obl_table lt = { l, n1, OPT_ROW, lr }, rt = { r, n2, OPT_ROW, rr };
	struct obl_join_general j;
	struct trace tr;
	uint64_t m = 0, m2 = 0;

	join_tables(sh, v, l, r, lr, rr);
	obl_trace_reset();
	if (fast) {
		(void)op_join_fast(&lt, opt_keys_k1, &rt, opt_keys_k1, 1, OBL_JOIN_INNER, NULL,
			out, flags, NULL, cap, &m, &arena);
		(void)op_join_fast(&lt, opt_keys_k1, &rt, opt_keys_k1, 1, OBL_JOIN_LEFT_OUTER, NULL,
			out, flags, rnull, cap, &m, &arena);
	} else {
		(void)obl_join_general_begin(&j, &lt, opt_keys_k1, &rt, opt_keys_k1, 1, &arena);
		m = j.m;        /* declassified: the contract reveals m */
		(void)obl_join_general_finish(&j, m, NULL, out, flags, &m2);
		(void)obl_join_general_begin(&j, &lt, opt_keys_k1, &rt, opt_keys_k1, 1, &arena);
		(void)obl_join_general_left_outer_finish(&j, j.m, &lt, opt_keys_k1, &rt,
			opt_keys_k1, 1, out, flags, rnull, &m2);
	}
	tr = finish();
	if (!fast && m != sh->m) {
		fprintf(stderr, "operators_trace: generator bug: m %llu, wanted %zu\n",
			(unsigned long long)m, sh->m);
		exit(2);
	}
	free(l); free(r); free(lr); free(rr); free(out); free(flags); free(rnull);
	return tr;
}

/* PK-FK (right keys distinct), semi and anti: nothing reveals m, so the
 * same generator varies it freely (v picks m too). */
static struct trace run_join_padded(const struct shape *sh, int v, int fast)
{
	struct shape s2 = *sh;
	size_t n1 = sh->n1, n2 = sh->n2, orow = 2 * OPT_ROW, cap = n1 + n2 + 1;
	uint8_t *l = opt_alloc(n1 * OPT_ROW + 1), *r = opt_alloc(n2 * OPT_ROW + 1);
	uint32_t *lr = opt_alloc(n1 * 4 + 4), *rr = opt_alloc(n2 * 4 + 4);
	uint8_t *out = opt_alloc(cap * orow);
	uint32_t *flags = opt_alloc(cap * 4), *rnull = opt_alloc(cap * 4), dup;
	struct obl_table lt = { l, n1, OPT_ROW, lr }, rt = { r, n2, OPT_ROW, rr };
	struct trace tr;
	uint64_t m;
	size_t mm = n1 < n2 ? n1 : n2;

	/* m varies (none, all, random); duplicate right keys (forms 1 and 4)
	 * break the PK contract, which only makes the result wrong (pk_dup),
	 * never the trace different */
	s2.m = v == 0 ? 0 : v == 1 ? mm : (size_t)opt_below(mm + 1);
	join_tables(&s2, v == 1 ? 0 : v, l, r, lr, rr);
	obl_trace_reset();
	if (fast) {
		(void)op_join_fast(&lt, opt_keys_k1, &rt, opt_keys_k1, 1, OBL_JOIN_INNER, NULL,
			out, flags, NULL, cap, &m, &arena);
		(void)op_join_fast(&lt, opt_keys_k1, &rt, opt_keys_k1, 1, OBL_JOIN_LEFT_SEMI, NULL,
			out, flags, NULL, cap, &m, &arena);
		(void)op_join_fast(&lt, opt_keys_k1, &rt, opt_keys_k1, 1, OBL_JOIN_LEFT_ANTI, NULL,
			out, flags, NULL, cap, &m, &arena);
	} else {
		(void)obl_join_pkfk(&lt, opt_keys_k1, &rt, opt_keys_k1, 1, OBL_PK_RIGHT,
			OBL_JOIN_INNER, NULL, out, flags, NULL, n1, &m, &dup, &arena);
		(void)obl_join_pkfk(&lt, opt_keys_k1, &rt, opt_keys_k1, 1, OBL_PK_RIGHT,
			OBL_JOIN_LEFT_OUTER, NULL, out, flags, rnull, n1, &m, &dup, &arena);
		(void)obl_join_semi(&lt, opt_keys_k1, &rt, opt_keys_k1, 1, OBL_JOIN_LEFT_SEMI,
			out, flags, n1, &m, &arena);
		(void)obl_join_semi(&lt, opt_keys_k1, &rt, opt_keys_k1, 1, OBL_JOIN_LEFT_ANTI,
			out, flags, n1, &m, &arena);
	}
	tr = finish();
	free(l); free(r); free(lr); free(rr); free(out); free(flags); free(rnull);
	return tr;
}

/* ---- driver ---------------------------------------------------------------- */

typedef struct trace (*runner)(const struct shape *sh, int v, int fast);

struct op {
	const char *name;
	runner run;
	int joins;       /* shapes: 0 single table, 1 general join (m), 2 padded joins */
};

static const struct op ops[] = {
	{ "filter", run_filter, 0 },
	{ "sort", run_sort, 0 },
	{ "topk_limit", run_topk_limit, 0 },
	{ "aggregate", run_aggregate, 0 },
	{ "distinct_union", run_distinct, 0 },
	{ "join_pkfk_semi_anti", run_join_padded, 2 },
	{ "join_general_outer", run_join_general, 1 },
};
#define NOPS (sizeof(ops) / sizeof(ops[0]))

static const struct shape single_shapes[] = {
	{ 0, 0, 0 }, { 1, 0, 0 }, { 7, 0, 0 }, { 64, 0, 0 }, { 300, 0, 0 }, { 1000, 0, 0 }
};
static const struct shape join_shapes[] = {
	{ 0, 0, 0 }, { 1, 1, 1 }, { 7, 5, 5 }, { 40, 64, 30 }, { 200, 150, 120 }, { 600, 400, 300 }
};
#define NSHAPES 6

/* Returns 1 if the operator is trace-equal and its control differs. */
static int check_op(const struct op *o)
{
	int ok_eq = 1, ok_ctl = 1, s, v, fast;

	for (s = 0; s < NSHAPES; s++) {
		const struct shape *sh = o->joins ? &join_shapes[s] : &single_shapes[s];

		for (fast = 0; fast < 2; fast++) {
			struct trace first = { 0, 0 };
			int differ = 0;

			for (v = 0; v < NVARIANTS; v++) {
				struct trace t;

				opt_seed(0x7ace0000u + (uint64_t)v * 7919u + (uint64_t)s);
				t = o->run(sh, v, fast);
				if (v == 0)
					first = t;
				else if (t.digest != first.digest || t.events != first.events)
					differ = 1;
			}
			if (!fast && differ) {
				printf("  %s: n=%zu/%zu m=%zu: traces DIFFER between inputs of the same public sizes\n",
					o->name, sh->n1, sh->n2, sh->m);
				ok_eq = 0;
			}
			if (!fast && sh->n1 >= 2 && first.events == 0) {
				printf("  %s: n=%zu: no trace events (is this the trace build?)\n",
					o->name, sh->n1);
				ok_eq = 0;
			}
			if (fast && sh->n1 >= 7 && !differ) {
				printf("  %s: n=%zu/%zu: encrypted-mode version gave equal traces: the check is broken\n",
					o->name, sh->n1, sh->n2);
				ok_ctl = 0;
			}
		}
	}
	printf("trace %-22s %s (%d shapes x %d inputs)\n", o->name,
		ok_eq ? "equal traces" : "FAILED", NSHAPES, NVARIANTS);
	printf("trace negative control %-22s %s\n", o->name,
		ok_ctl ? "(encrypted mode) caught as expected: traces differ" :
		"(encrypted mode) NOT CAUGHT");
	return ok_eq && ok_ctl;
}

int main(int argc, char **argv)
{
	uint8_t *mem = opt_alloc(ARENA_BYTES);
	size_t i;
	int a, ok = 1;

	obl_arena_init(&arena, mem, ARENA_BYTES);
	for (a = 1; a < argc; a++) {
		for (i = 0; i < NOPS; i++)
			if (strcmp(argv[a], ops[i].name) == 0)
				break;
		if (i == NOPS) {
			fprintf(stderr, "operators_trace: unknown name '%s'; known:", argv[a]);
			for (i = 0; i < NOPS; i++)
				fprintf(stderr, " %s", ops[i].name);
			fputc('\n', stderr);
			return 2;
		}
	}
	for (i = 0; i < NOPS; i++) {
		int selected = argc < 2;

		for (a = 1; a < argc; a++)
			selected |= strcmp(argv[a], ops[i].name) == 0;
		if (selected)
			ok &= check_op(&ops[i]);
	}
	free(mem);
	return ok ? 0 : 1;
}

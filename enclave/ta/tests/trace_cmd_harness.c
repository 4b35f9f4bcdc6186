/*
 * trace_cmd_harness.c - machine-level trace equality of the external sort
 * commands (XSORT_START / CHUNK / MERGE_SPLIT / EMIT) and of STREAM, on the
 * TA objects as shipped (TA_CFLAGS: -O2 -march=x86-64-v3), under valgrind's
 * lackey tool, which logs every instruction fetch and every data load and
 * store address of the process. Two data sets of the same public shape
 * must give the same address trace; enclave/tests/trace_cmd/run.sh drives
 * it and trace_filter.c hashes the trace on the fly.
 *
 *   trace_cmd_harness list                     scenarios, one per line
 *   trace_cmd_harness variants                 data set names
 *   trace_cmd_harness gen SCEN VARIANT FILE    write one data set: its rows
 *                                              and their sealed blocks (run
 *                                              natively: neither generation
 *                                              nor sealing is traced)
 *   trace_cmd_harness run SCEN FILE... [SCEN FILE...]...
 *                                              one forked child per FILE,
 *                                              result checked (natively)
 *   trace_cmd_harness trace SCEN FILE... [SCEN FILE...]...
 *                                              the same without the checks
 *                                              (under lackey)
 *
 * "run" and "trace" initialise the TA once, then per scenario fork a
 * process that installs the keys and registers the input tables (public
 * metadata only), which forks one child per FILE that reads the data set
 * and runs the scenario's command(s) between two trace markers (valgrind
 * client messages "TRACE-CMD-BEGIN <scenario>#<i>" / "TRACE-CMD-END" in
 * the lackey log, i = the FILE's position); the filter hashes exactly the
 * accesses in between. One valgrind process serves many scenarios, so the
 * start-up (the loader, OpenSSL's provider set-up) is traced once.
 * Every child starts from the same copy of the process, so the heap
 * layout, OpenSSL's generator state and the stack are the same in all of
 * them: only the data differ. "run" then checks the result against a
 * reference computed from the plaintext (row counts, the revealed count
 * against the plaintext's, the output's descriptor MAC and blocks, the
 * XSORT order); both print one line per data set:
 *   ok <scenario>#<i> rows=<out rows> real=<param[3].b> bytes=<bytes>
 *   unsupported <scenario>#<i> 0x<TEE_Result> (a scenario marked pending,
 *                                           a mode of ABI v4 the TA does
 *                                           not accept yet)
 *   FAIL <scenario> <why>
 * and exit 0, 3 (unsupported) or 1.
 *
 * Negative control: the same file linked with the leaky objects of the ct
 * builds: cmd_merge_split.c built with
 * -Dxsort_merge_runs=xsort_merge_runs_leaky, cmd_stream.c with
 * -DSTREAM_KEY_EQ=stream_key_eq_leaky and cmd_stream_map.c with
 * -DSTREAM_MAP_EMIT=stream_map_emit_leaky (ta_sim.mk), cmd_stream_expand.c
 * with -DSTREAM_KEY_EQ=stream_expand_key_eq_leaky and
 * -DEXPAND_U64_LT=stream_expand_u64_lt_leaky (stream_expand.mk); the
 * functions below always leak. The runner requires different traces for
 * different data on xsort, AGGREGATE, JOIN_PKFK, MAP, GROUP_COUNT and FILL.
 *
 * FILL's data sets share the row counts of both sides and the join size m
 * (so the 2m fillers) and differ in the groups; "gen" computes GROUP_COUNT's
 * annotations and the (drop, side, dest, kind) order from the plaintext,
 * and "run" checks FILL's pairs against a nested-loop join. GENERATE has no
 * input: its scenario only puts the mode under the check.
 *
 * Adding a scenario (e.g. a new STREAM mode) is one entry in scenarios[]:
 * its input shapes, a generator per data variant, the request, and the
 * reference of the revealed count if it reveals one, and optionally a check
 * of the opened output rows against the plaintext (verify).
 */
#include "ta_harness.h"
#include "../cmd/cmd_external_sort.h"
#include "../expr/tests/prog_builder.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <valgrind/valgrind.h>

/* The negative controls' leaky functions are in cmd_leaky.c. */

/* ---- trace window ----------------------------------------------------- */

/* The markers are client requests: a fixed instruction sequence whose
 * message lands in the lackey log in order with the trace lines. The
 * label (scenario#data set index) is public. */
static const char *window_label = "";
static int window_index;

static void window_begin(void)
{
	VALGRIND_PRINTF("TRACE-CMD-BEGIN %s#%d\n", window_label, window_index);
}

static void window_end(void)
{
	VALGRIND_PRINTF("TRACE-CMD-END\n");
}

/* ---- shapes ----------------------------------------------------------- */

#define MAX_ROWS_BYTES (64u << 10)
#define OUT_CAP (4u << 20)

enum { V_RANDOM, V_EQUAL, V_SORTED, V_REVERSE, V_SKEW, N_VARIANTS };
static const char *const variant_names[N_VARIANTS] = {
	"random", "equal", "sorted", "reverse", "skew90"
};

struct scenario;

/* Fill the input rows of data set `v`. */
typedef void (*gen_fn)(const struct scenario *sc, int v, uint8_t *in0,
		       uint8_t *in1);
/* Fill the STREAM request and its body (MAP); returns the body bytes. */
typedef size_t (*req_fn)(const struct scenario *sc,
			 struct ts_stream_request *r, uint8_t *body);
/* The revealed count the TA must report for these rows. */
typedef uint32_t (*expect_fn)(const struct scenario *sc, const uint8_t *in0,
			      const uint8_t *in1);
/* Checks the opened output rows against the input plaintext (after the
 * window); returns NULL or what is wrong. */
typedef const char *(*verify_fn)(const struct scenario *sc,
				 const uint8_t *in0, const uint8_t *out);

struct scenario {
	const char *name;
	uint32_t n_in;			/* input tables: 0, 1 or 2 */
	uint32_t n_rows[2], row_size[2], rpb[2];
	gen_fn gen;
	req_fn req;			/* NULL: the XSORT sequence */
	expect_fn expect;		/* NULL: nothing revealed */
	verify_fn verify;		/* NULL: row count and MAC only */
	uint32_t out_rows;		/* param[3].a the TA must report */
	uint32_t arg;			/* per scenario: join variant etc. */
	/* A mode of ABI v4 the TA may not accept yet: TS_ERROR_BAD_REQUEST or
	 * TEE_ERROR_BAD_PARAMETERS (a request body the TA does not take)
	 * report "unsupported" instead of failing. */
	int pending;
};

static size_t in_bytes(const struct scenario *sc, int i)
{
	return i < (int)sc->n_in ?
	       (size_t)sc->n_rows[i] * sc->row_size[i] : 0;
}

static void stf(uint8_t *p, double v)
{
	memcpy(p, &v, 8);
}

/* Keys of one data set: random with duplicates, all equal, ascending,
 * descending, or 90% one value. */
static uint64_t key_of(int v, uint32_t i, uint32_t n)
{
	switch (v) {
	case V_EQUAL:
		return 42;
	case V_SORTED:
		return 3 * (uint64_t)i + 1;
	case V_REVERSE:
		return 3 * (uint64_t)(n - i) + 1;
	case V_SKEW:
		return th_rand64() % 10 ? 42 : th_rand64() % (4 * n);
	default:
		return th_rand64() % (n / 2 + 1);
	}
}

/* ---- XSORT: 300 rows, 10 blocks, 5 runs of 64 records ----------------- */

#define XS_ROWS 300
#define XS_RS 24		/* key u64 | key f64 | payload */
#define XS_RPB 30
#define XS_CHUNK 2
#define XS_RUN_ROWS 64

static void gen_xsort(const struct scenario *sc, int v, uint8_t *in0,
		      uint8_t *in1)
{
	uint32_t i, n = sc->n_rows[0];

	(void)in1;
	th_rand_bytes(in0, in_bytes(sc, 0));
	for (i = 0; i < n; i++) {
		uint8_t *r = in0 + (size_t)i * XS_RS;
		double f = v == V_EQUAL ? 1.5 : v == V_SORTED ? i * 0.5 :
			   v == V_REVERSE ? -(double)i :
			   v == V_SKEW && th_rand64() % 10 ? 2.0 :
			   (double)(int64_t)(th_rand64() % 2000001) - 1e6;

		st64(r, key_of(v, i, n));
		stf(r + 8, f);
	}
}

/* ---- STREAM scenarios --------------------------------------------------- */

#define RPB 25

static void base_req(struct ts_stream_request *r, uint32_t mode)
{
	memset(r, 0, sizeof(*r));
	r->mode = mode;
	r->out_key_slot = 1;
	memcpy(r->out_table_id, "trace-cmd-output", 16);
	r->out_table_version = 1;
}

/* WIDEN: a PK table (id | payload) and an FK table (fk | payload | rid). */
#define PK_RS 16
#define FK_RS 24
#define U_RS 56		/* side | 7 | key | PK row | FK row */

static void gen_widen(const struct scenario *sc, int v, uint8_t *in0,
		      uint8_t *in1)
{
	uint32_t i;

	th_rand_bytes(in0, in_bytes(sc, 0));
	th_rand_bytes(in1, in_bytes(sc, 1));
	for (i = 0; i < sc->n_rows[0]; i++)
		st64(in0 + (size_t)i * PK_RS, key_of(v, i, sc->n_rows[0]));
	for (i = 0; i < sc->n_rows[1]; i++) {
		st64(in1 + (size_t)i * FK_RS, key_of(v, i, sc->n_rows[1]));
		st64(in1 + (size_t)i * FK_RS + 16, i);
	}
}

static size_t req_widen(const struct scenario *sc, struct ts_stream_request *r,
			uint8_t *body)
{
	(void)body;
	base_req(r, TS_STREAM_WIDEN);
	r->rows_per_block = 30;
	r->out_row_size = U_RS;
	r->pk_offset = 16;
	r->fk_offset = 16 + PK_RS;
	r->in0_bytes = th_sealed_size(sc->n_rows[0], PK_RS, RPB);
	r->copy_count = 1;
	r->copies[0] = (struct ts_stream_copy){ 0, 0, 8, 8 };
	return 0;
}

/* AGGREGATE input: key u64 | v i64 | f f64 | null byte | pad, grouped by
 * key. Group structure by data set (keys hidden, reveal = 0): random runs,
 * one group, every row its own group (ascending / descending), one group
 * of 90% of the rows. */
#define AGG_RS 32

static void agg_values(uint8_t *in0, uint32_t n, int v)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint8_t *r = in0 + (size_t)i * AGG_RS;

		st64(r + 8, v == V_SORTED ? i : v == V_REVERSE ? n - i :
		     v == V_EQUAL ? 7 : th_rand64());
		stf(r + 16, v == V_EQUAL ? 0.25 :
		    (double)(int64_t)(th_rand64() % 1000) - 500.0);
		r[24] &= 3;
	}
}

static void gen_agg_hidden(const struct scenario *sc, int v, uint8_t *in0,
			   uint8_t *in1)
{
	uint32_t i, n = sc->n_rows[0];
	uint64_t k = 100;

	(void)in1;
	th_rand_bytes(in0, in_bytes(sc, 0));
	for (i = 0; i < n; i++) {
		switch (v) {
		case V_RANDOM:
			if (i && th_rand64() % 4 == 0)
				k += 1 + th_rand64() % 3;
			break;
		case V_EQUAL:
			break;
		case V_SORTED:
			k = 100 + i;
			break;
		case V_REVERSE:
			k = 100 + n - i;
			break;
		default:	/* one group of 90%, then singletons */
			k = i < n * 9 / 10 ? 100 : 100 + i;
			break;
		}
		st64(in0 + (size_t)i * AGG_RS, k);
	}
	agg_values(in0, n, v);
}

/* Revealed AGGREGATE: always AGG_GROUPS groups, of sizes by data set:
 * random, equal, ascending, descending, one of 90%. */
#define AGG_GROUPS 24

static void gen_agg_revealed(const struct scenario *sc, int v, uint8_t *in0,
			     uint8_t *in1)
{
	uint32_t n = sc->n_rows[0], g, i, row = 0, size[AGG_GROUPS], left;
	uint64_t k = 1000;

	(void)in1;
	th_rand_bytes(in0, in_bytes(sc, 0));
	left = n - AGG_GROUPS;	/* rows beyond one per group */
	for (g = 0; g < AGG_GROUPS; g++)
		size[g] = 1;
	switch (v) {
	case V_RANDOM:
		while (left--)
			size[th_rand64() % AGG_GROUPS]++;
		break;
	case V_EQUAL:
		for (g = 0; g < AGG_GROUPS; g++)
			size[g] = n / AGG_GROUPS;
		size[AGG_GROUPS - 1] += n % AGG_GROUPS;
		break;
	case V_SORTED:
	case V_REVERSE:
		for (g = 0; left; g = (g + 1) % AGG_GROUPS) {
			uint32_t add = g + 1 < left ? g + 1 : left;
			uint32_t at = v == V_SORTED ? g : AGG_GROUPS - 1 - g;

			size[at] += add;
			left -= add;
		}
		break;
	default:
		size[th_rand64() % AGG_GROUPS] += left;
		break;
	}
	for (g = 0; g < AGG_GROUPS; g++) {
		k += 1 + th_rand64() % 1000;
		for (i = 0; i < size[g]; i++)
			st64(in0 + (size_t)row++ * AGG_RS, k);
	}
	agg_values(in0, n, v);
}

static uint32_t expect_groups(const struct scenario *sc, const uint8_t *in0,
			      const uint8_t *in1)
{
	uint32_t i, g = 0, n = sc->n_rows[0];

	(void)in1;
	for (i = 0; i < n; i++)
		g += i == n - 1 || ld64(in0 + (size_t)i * AGG_RS) !=
				   ld64(in0 + (size_t)(i + 1) * AGG_RS);
	return g;
}

static uint32_t expect_one(const struct scenario *sc, const uint8_t *in0,
			   const uint8_t *in1)
{
	(void)sc;
	(void)in0;
	(void)in1;
	return 1;
}

static size_t req_agg(const struct scenario *sc, struct ts_stream_request *r,
		      uint8_t *body)
{
	(void)body;
	base_req(r, TS_STREAM_AGGREGATE);
	r->reveal = sc->expect != NULL;
	r->key_count = sc->arg;		/* 1, or 0: one group */
	if (r->key_count)
		r->keys[0] = (struct ts_op_key){ TS_KEY_UINT, 0, 0, 8, 0, 0, 0, 0, 0, 0 };
	r->agg_count = 5;
	r->aggs[0] = (struct ts_op_agg){ TS_AGG_COUNT_STAR, 0, 0, 0, 0, 0, 0, 0 };
	r->aggs[1] = (struct ts_op_agg){ TS_AGG_SUM, TS_KEY_INT, 8, 8, 24, 0, 1, 0 };
	r->aggs[2] = (struct ts_op_agg){ TS_AGG_MIN, TS_KEY_INT, 8, 4, 24, 0, 1, 0 };
	r->aggs[3] = (struct ts_op_agg){ TS_AGG_MAX, TS_KEY_FLOAT64, 16, 8, 24, 1, 1, 0 };
	r->aggs[4] = (struct ts_op_agg){ TS_AGG_AVG, TS_KEY_UINT, 8, 2, 0, 0, 0, 0 };
	return 0;
}

/* COUNT_DISTINCT: grouped as gen_agg_hidden, each group sorted by v (no
 * NULLs in v); v's duplicates by data set. */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = ld64(a), y = ld64(b);

	return (x > y) - (x < y);
}

static void gen_agg_distinct(const struct scenario *sc, int v, uint8_t *in0,
			     uint8_t *in1)
{
	uint32_t i, j, n = sc->n_rows[0];

	gen_agg_hidden(sc, v, in0, in1);
	for (i = 0; i < n; i++) {
		uint8_t *r = in0 + (size_t)i * AGG_RS;

		st64(r + 8, v == V_EQUAL ? 5 : v == V_SKEW ? th_rand64() % 2 :
		     v == V_RANDOM ? th_rand64() % 8 : th_rand64());
		r[24] = 0;
	}
	/* Sort v within each group (a group = a run of equal keys). */
	for (i = 0; i < n; i = j) {
		uint64_t tmp[256];
		uint32_t m;

		for (j = i; j < n && ld64(in0 + (size_t)j * AGG_RS) ==
				     ld64(in0 + (size_t)i * AGG_RS); j++)
			;
		for (m = i; m < j; m++)
			tmp[m - i] = ld64(in0 + (size_t)m * AGG_RS + 8);
		qsort(tmp, j - i, 8, cmp_u64);
		for (m = i; m < j; m++)
			st64(in0 + (size_t)m * AGG_RS + 8, tmp[m - i]);
	}
}

static size_t req_agg_distinct(const struct scenario *sc,
			       struct ts_stream_request *r, uint8_t *body)
{
	(void)sc;
	(void)body;
	base_req(r, TS_STREAM_AGGREGATE);
	r->key_count = 1;
	r->keys[0] = (struct ts_op_key){ TS_KEY_UINT, 0, 0, 8, 0, 0, 0, 0, 0, 0 };
	r->agg_count = 2;
	r->aggs[0] = (struct ts_op_agg){ TS_AGG_COUNT_STAR, 0, 0, 0, 0, 0, 0, 0 };
	r->aggs[1] = (struct ts_op_agg){ TS_AGG_COUNT_DISTINCT, TS_KEY_INT, 8, 8, 0, 0, 0, 0 };
	return 0;
}

/* JOIN_PKFK input: a WIDEN output (U_RS rows: side | key | PK row | FK
 * row) sorted by (key, side). JOIN_PK rows with distinct keys, JOIN_FK
 * probe rows. Revealed scenarios keep exactly JOIN_M matched probe rows;
 * the data sets place them differently (random keys; all on one key;
 * spread evenly; all on the last key, unmatched ones first; 90% on one
 * key). Hidden scenarios vary the matches too. */
#define JOIN_PK 40
#define JOIN_FK 160
#define JOIN_M 100

static int cmp_union(const void *a, const void *b)
{
	const uint8_t *x = a, *y = b;
	uint64_t kx = ld64(x + 8), ky = ld64(y + 8);

	if (kx != ky)
		return (kx > ky) - (kx < ky);
	return (x[0] > y[0]) - (x[0] < y[0]);
}

static void put_union(uint8_t *row, uint32_t side, uint64_t key)
{
	row[0] = (uint8_t)side;
	memset(row + 1, 0, 7);
	st64(row + 8, key);
	if (side == 0) {
		st64(row + 16, key);			/* PK row: id | payload */
		th_rand_bytes(row + 24, 8);
		memset(row + 32, 0, FK_RS);
	} else {
		memset(row + 16, 0, PK_RS);
		st64(row + 32, key);			/* FK row */
		th_rand_bytes(row + 40, 16);
	}
}

/* `matched`: matched probe rows, or -1 for a data-set-chosen number. */
static void gen_join_common(const struct scenario *sc, int v, uint8_t *in0,
			    int matched)
{
	uint64_t pk[JOIN_PK];
	uint32_t i, m;

	for (i = 0; i < JOIN_PK; i++)	/* distinct, multiples of 4 */
		pk[i] = 4 * (v == V_RANDOM || v == V_SKEW ?
			     (uint64_t)i * 7 + th_rand64() % 7 : (uint64_t)i) + 400;
	if (matched < 0)
		matched = v == V_RANDOM ? (int)(th_rand64() % JOIN_FK) :
			  v == V_EQUAL ? JOIN_FK : v == V_SORTED ? 0 :
			  v == V_REVERSE ? JOIN_FK / 2 : JOIN_FK * 9 / 10;
	m = (uint32_t)matched;
	for (i = 0; i < JOIN_PK; i++)
		put_union(in0 + (size_t)i * U_RS, 0, pk[i]);
	for (i = 0; i < JOIN_FK; i++) {
		uint64_t key;

		if (i < m) {
			switch (v) {
			case V_RANDOM:
				key = pk[th_rand64() % JOIN_PK];
				break;
			case V_EQUAL:
				key = pk[7];
				break;
			case V_SORTED:
				key = pk[i % JOIN_PK];
				break;
			case V_REVERSE:
				key = pk[JOIN_PK - 1];
				break;
			default:
				key = i % 10 ? pk[3] : pk[th_rand64() % JOIN_PK];
				break;
			}
		} else {	/* never a PK key: not a multiple of 4 */
			key = v == V_REVERSE ? 1 + 4 * (th_rand64() % 50) :
			      v == V_EQUAL ? 401 : 1 + 4 * (th_rand64() % 600) +
						   th_rand64() % 3;
		}
		put_union(in0 + (size_t)(JOIN_PK + i) * U_RS, 1, key);
	}
	qsort(in0, sc->n_rows[0], U_RS, cmp_union);
}

static void gen_join_revealed(const struct scenario *sc, int v, uint8_t *in0,
			      uint8_t *in1)
{
	(void)in1;
	gen_join_common(sc, v, in0, JOIN_M);
}

static void gen_join_hidden(const struct scenario *sc, int v, uint8_t *in0,
			    uint8_t *in1)
{
	(void)in1;
	gen_join_common(sc, v, in0, -1);
}

/* The reference: matched probe rows, then per join variant what is
 * flagged. */
static uint32_t expect_join(const struct scenario *sc, const uint8_t *in0,
			    const uint8_t *in1)
{
	uint32_t i, matched = 0, probes = 0, have = 0;
	uint64_t last = 0;

	(void)in1;
	for (i = 0; i < sc->n_rows[0]; i++) {
		const uint8_t *r = in0 + (size_t)i * U_RS;

		if (r[0] == 0) {
			last = ld64(r + 8);
			have = 1;
		} else {
			probes++;
			matched += have && ld64(r + 8) == last;
		}
	}
	switch (sc->arg) {
	case TS_STREAM_JOIN_OUTER:
		return probes;
	case TS_STREAM_JOIN_ANTI:
		return probes - matched;
	default:
		return matched;
	}
}

static size_t req_join(const struct scenario *sc, struct ts_stream_request *r,
		       uint8_t *body)
{
	(void)body;
	base_req(r, TS_STREAM_JOIN_PKFK);
	r->reveal = sc->expect != NULL;
	r->variant = sc->arg;
	r->key_count = 1;
	r->keys[0] = (struct ts_op_key){ TS_KEY_UINT, 0, 8, 8, 0, 0, 0, 0, 0, 0 };
	r->side_offset = 0;
	/* SEMI and ANTI leave the row unchanged: no PK bytes to copy. */
	if (sc->arg != TS_STREAM_JOIN_SEMI && sc->arg != TS_STREAM_JOIN_ANTI) {
		r->pk_offset = 16;
		r->pk_size = PK_RS;
	}
	return 0;
}

/* LIMIT: the first 77 rows, bytes [16, 40) of each. */
#define LIM_RS 40

static void gen_rows_keyed(const struct scenario *sc, int v, uint8_t *in0,
			   uint8_t *in1)
{
	uint32_t i;

	(void)in1;
	th_rand_bytes(in0, in_bytes(sc, 0));
	for (i = 0; i < sc->n_rows[0]; i++)
		st64(in0 + (size_t)i * sc->row_size[0] + 16,
		     key_of(v, i, sc->n_rows[0]));
}

static size_t req_limit(const struct scenario *sc, struct ts_stream_request *r,
			uint8_t *body)
{
	(void)sc;
	(void)body;
	base_req(r, TS_STREAM_LIMIT);
	r->rows_per_block = 10;
	r->out_row_size = 24;
	r->pk_offset = 16;
	r->limit = 77;
	return 0;
}

/* MAP over prog_builder.h's test row (TEST_ROW_SIZE bytes, no NULLs):
 * flag = (I0 < I1), out = [flag word | row index | I0 + I1]. */
static void gen_map(const struct scenario *sc, int v, uint8_t *in0,
		    uint8_t *in1)
{
	uint32_t i, n = sc->n_rows[0];

	(void)in1;
	th_rand_bytes(in0, in_bytes(sc, 0));
	for (i = 0; i < n; i++) {
		uint8_t *r = in0 + (size_t)i * TEST_ROW_SIZE;
		uint64_t a = key_of(v, i, n) % 100000;

		r[0] = 0;	/* null bitmap */
		st64(r + OFF_I0, a);
		st64(r + OFF_I1, v == V_EQUAL ? a : v == V_SORTED ? a + 1 :
		     v == V_REVERSE ? a / 2 : th_rand64() % 100000);
	}
}

static size_t req_map(const struct scenario *sc, struct ts_stream_request *r,
		      uint8_t *body)
{
	struct pb p;
	struct ts_op_proj proj;
	size_t len, o = 0;

	(void)sc;
	base_req(r, TS_STREAM_MAP);
	r->variant = TS_STREAM_MAP_FLAG | TS_STREAM_MAP_SEQ;
	r->rows_per_block = 20;
	r->out_row_size = 24;
	r->aux_offset = 8;
	pb_init(&p);
	pb_col(&p, T_I64, OFF_I0, TS_EXPR_NOT_NULLABLE);
	pb_col(&p, T_I64, OFF_I1, TS_EXPR_NOT_NULLABLE);
	pb_op(&p, TS_OP_LT, T_BOOL);
	len = pb_finish(&p);
	memcpy(body, p.buf, len);
	r->pred_size = (uint32_t)len;
	o = (len + 7) & ~(size_t)7;
	memset(body + len, 0, o - len);
	pb_init(&p);
	pb_col(&p, T_I64, OFF_I0, TS_EXPR_NOT_NULLABLE);
	pb_col(&p, T_I64, OFF_I1, TS_EXPR_NOT_NULLABLE);
	pb_op(&p, TS_OP_ADD, T_I64);
	len = pb_finish(&p);
	memset(&proj, 0, sizeof(proj));
	proj.prog_size = (uint32_t)len;
	proj.out_offset = 16;
	proj.out_null_bit = TS_OP_NOT_NULLABLE;
	memcpy(body + o, &proj, sizeof(proj));
	memcpy(body + o + sizeof(proj), p.buf, len);
	o += sizeof(proj) + len;
	memset(body + o, 0, ((o + 7) & ~(size_t)7) - o);
	r->proj_count = 1;
	return (o + 7) & ~(size_t)7;
}

/* GROUP_COUNT (forward pass) over a join-shaped union whose annotation
 * (56 bytes at 16) is zero: side | key | ann | payload. */
#define GC_RS 80

static void gen_group_count(const struct scenario *sc, int v, uint8_t *in0,
			    uint8_t *in1)
{
	static uint8_t u[(JOIN_PK + JOIN_FK) * U_RS];
	uint32_t i;

	(void)in1;
	gen_join_common(sc, v, u, -1);
	for (i = 0; i < sc->n_rows[0]; i++) {
		uint8_t *r = in0 + (size_t)i * GC_RS;

		memcpy(r, u + (size_t)i * U_RS, 16);
		memset(r + 16, 0, TS_STREAM_ANN_SIZE);
		th_rand_bytes(r + 16 + TS_STREAM_ANN_SIZE, 8);
	}
}

/* GROUP_COUNT second pass: its input is the forward pass's output (the
 * annotation's idx, alpha0 and off filled in, computed here from the
 * plaintext) sorted by (key, side descending, idx descending). */
static int cmp_gc_second(const void *a, const void *b)
{
	const uint8_t *x = a, *y = b;
	uint64_t kx = ld64(x + 8), ky = ld64(y + 8), ix, iy;

	if (kx != ky)
		return (kx > ky) - (kx < ky);
	if (x[0] != y[0])
		return (x[0] < y[0]) - (x[0] > y[0]);
	ix = ld64(x + 16);
	iy = ld64(y + 16);
	return (ix < iy) - (ix > iy);
}

static void gen_group_count_second(const struct scenario *sc, int v,
				   uint8_t *in0, uint8_t *in1)
{
	uint32_t i, j, n = sc->n_rows[0];
	uint64_t off = 0;

	gen_group_count(sc, v, in0, in1);
	for (i = 0; i < n; i = j) {	/* a group: a run of equal keys */
		uint64_t cnt[2] = { 0, 0 };

		for (j = i; j < n && ld64(in0 + (size_t)j * GC_RS + 8) ==
				     ld64(in0 + (size_t)i * GC_RS + 8); j++) {
			uint8_t *r = in0 + (size_t)j * GC_RS;
			uint32_t side = r[0] != 0;

			st64(r + 16, cnt[side]++);		/* idx */
			st64(r + 24, side ? cnt[0] : 0);	/* alpha0 */
			st64(r + 32, off);			/* off */
		}
		off += cnt[0] * cnt[1];
	}
	qsort(in0, n, GC_RS, cmp_gc_second);
}

static size_t req_group_count(const struct scenario *sc,
			      struct ts_stream_request *r, uint8_t *body)
{
	(void)body;
	base_req(r, TS_STREAM_GROUP_COUNT);
	r->variant = sc->arg;	/* GC_FORWARD or GC_SECOND */
	r->key_count = 1;
	r->keys[0] = (struct ts_op_key){ TS_KEY_UINT, 0, 8, 8, 0, 0, 0, 0, 0, 0 };
	r->side_offset = 0;
	r->aux_offset = 16;
	return 0;
}

/* FILL over the GC_RS union layout (side | key | ann | payload). Its input
 * is what the driver hands FILL (stream_expand_pipeline.c): the union of
 * GC_SECOND's output and GENERATE's 2m fillers, sorted by (drop, side,
 * dest, kind), computed here from the plaintext. Every data set has
 * FILL_N0 rows of side 0, FILL_N1 of side 1 and a join of FILL_M pairs,
 * hence FILL_ROWS input rows; only the groups differ. The payload is the
 * row's identity (side << 32 | i), so "run" can check the pairs. */
#define FILL_N0 100
#define FILL_N1 100
#define FILL_M 96
#define FILL_ROWS (FILL_N0 + FILL_N1 + 2 * FILL_M)
#define FILL_OUT_RS (8 + GC_RS)
#define ANN 16				/* struct ts_stream_ann in a row */
#define ANN_IDX (ANN + 0)
#define ANN_ALPHA0 (ANN + 8)
#define ANN_OFF (ANN + 16)
#define ANN_ALPHA1 (ANN + 24)
#define ANN_DEST (ANN + 32)
#define ANN_COPIES (ANN + 40)
#define ANN_KIND (ANN + 48)
#define ANN_DROP (ANN + 49)
#define PAYLOAD (ANN + TS_STREAM_ANN_SIZE)

/* The matched groups of data set v: size0[g] x size1[g] pairs each, FILL_M
 * in all: random groups of up to 4 x 4; all pairs on one key (8 x 12);
 * FILL_M groups of 1 x 1; one side-0 row against FILL_M side-1 rows; a
 * 10 x 9 group and six of 1 x 1. A group of x x y rows gives x * y >=
 * max(x, y) pairs, so at most FILL_M rows per side are matched. */
_Static_assert(FILL_M <= FILL_N0 && FILL_M <= FILL_N1 &&
	       FILL_ROWS * GC_RS <= MAX_ROWS_BYTES, "FILL data set sizes");
static uint32_t fill_groups(int v, uint32_t *size0, uint32_t *size1)
{
	uint32_t g = 0, left = FILL_M, x, y;

	switch (v) {
	case V_RANDOM:
		while (left) {
			x = 1 + (uint32_t)(th_rand64() % 4);
			y = 1 + (uint32_t)(th_rand64() % 4);
			if (x * y > left)
				x = y = 1;
			size0[g] = x;
			size1[g++] = y;
			left -= x * y;
		}
		return g;
	case V_EQUAL:
		size0[0] = 8;
		size1[0] = 12;
		return 1;
	case V_SORTED:
		for (g = 0; g < FILL_M; g++)
			size0[g] = size1[g] = 1;
		return g;
	case V_REVERSE:
		size0[0] = 1;
		size1[0] = FILL_M;
		return 1;
	default:
		size0[0] = 10;
		size1[0] = 9;
		for (g = 1; g <= FILL_M - 90; g++)
			size0[g] = size1[g] = 1;
		return g;
	}
}

/* (drop, side, dest, kind): the driver's sort before FILL. */
static int cmp_fill(const void *a, const void *b)
{
	const uint8_t *x = a, *y = b;
	uint64_t dx = ld64(x + ANN_DEST), dy = ld64(y + ANN_DEST);

	if (x[ANN_DROP] != y[ANN_DROP])
		return (x[ANN_DROP] > y[ANN_DROP]) - (x[ANN_DROP] < y[ANN_DROP]);
	if (x[0] != y[0])
		return (x[0] > y[0]) - (x[0] < y[0]);
	if (dx != dy)
		return (dx > dy) - (dx < dy);
	return (x[ANN_KIND] > y[ANN_KIND]) - (x[ANN_KIND] < y[ANN_KIND]);
}

/* GENERATE's row r of m: zero but side r / m, dest r % m, kind 1. */
static void put_filler(uint8_t *row, uint64_t r, uint64_t m)
{
	memset(row, 0, GC_RS);
	row[0] = (uint8_t)(r / m);
	st64(row + ANN_DEST, r % m);
	row[ANN_KIND] = 1;
}

/* Real rows: matched keys even (group g near 6g), unmatched ones odd and
 * of their side only (4r + 1 on side 0, 4r + 3 on side 1): random with
 * repeats, one key per side, or all distinct. Then GROUP_COUNT's two
 * passes by the plaintext (teespark_ta.h, GC_FORWARD / GC_SECOND). */
static void gen_fill(const struct scenario *sc, int v, uint8_t *in0,
		     uint8_t *in1)
{
	uint32_t size0[FILL_M], size1[FILL_M], n_g, g, i, j, s, at[2] = { 0, 0 };
	uint32_t n = FILL_N0 + FILL_N1;
	uint64_t off = 0;

	(void)sc;
	(void)in1;
	n_g = fill_groups(v, size0, size1);
	memset(in0, 0, (size_t)FILL_ROWS * GC_RS);
	for (g = 0; g < n_g; g++) {
		uint64_t key = 2 * (3 * (uint64_t)g + th_rand64() % 3) + 100;

		for (s = 0; s < 2; s++)
			for (i = 0; i < (s ? size1[g] : size0[g]); i++) {
				uint8_t *r = in0 + (size_t)(s ? FILL_N0 + at[1]
							      : at[0]) * GC_RS;
				r[0] = (uint8_t)s;
				st64(r + 8, key);
				at[s]++;
			}
	}
	for (s = 0; s < 2; s++)
		for (; at[s] < (s ? FILL_N1 : FILL_N0); at[s]++) {
			uint8_t *r = in0 + (size_t)(s ? FILL_N0 + at[1] : at[0]) *
					   GC_RS;
			uint64_t k = v == V_RANDOM ? th_rand64() % 40 :
				     v == V_EQUAL ? 0 : at[s];

			r[0] = (uint8_t)s;
			st64(r + 8, 4 * k + 1 + 2 * s);
		}
	for (i = 0; i < n; i++) {
		uint8_t *r = in0 + (size_t)i * GC_RS;

		st64(r + PAYLOAD, (uint64_t)r[0] << 32 |
				  (r[0] ? i - FILL_N0 : i));
	}
	qsort(in0, n, GC_RS, cmp_union);	/* (key, side) */
	for (i = 0; i < n; i = j) {
		uint64_t cnt[2] = { 0, 0 };

		for (j = i; j < n && ld64(in0 + (size_t)j * GC_RS + 8) ==
				     ld64(in0 + (size_t)i * GC_RS + 8); j++) {
			uint8_t *r = in0 + (size_t)j * GC_RS;

			s = r[0];
			st64(r + ANN_IDX, cnt[s]++);
			st64(r + ANN_ALPHA0, s ? cnt[0] : 0);
			st64(r + ANN_OFF, off);
		}
		for (j = i; j < n && ld64(in0 + (size_t)j * GC_RS + 8) ==
				     ld64(in0 + (size_t)i * GC_RS + 8); j++) {
			uint8_t *r = in0 + (size_t)j * GC_RS;
			uint64_t copies = r[0] ? cnt[0] : cnt[1];

			st64(r + ANN_ALPHA1, cnt[1]);
			st64(r + ANN_COPIES, copies);
			st64(r + ANN_DEST, off + ld64(r + ANN_IDX) * copies);
			r[ANN_DROP] = copies == 0;
		}
		off += cnt[0] * cnt[1];
	}
	if (off != FILL_M) {		/* the groups above are wrong */
		fprintf(stderr, "gen_fill: m = %llu\n", (unsigned long long)off);
		exit(2);
	}
	for (i = 0; i < 2 * FILL_M; i++)
		put_filler(in0 + (size_t)(n + i) * GC_RS, i, FILL_M);
	qsort(in0, FILL_ROWS, GC_RS, cmp_fill);
}

static size_t req_fill(const struct scenario *sc, struct ts_stream_request *r,
		       uint8_t *body)
{
	(void)sc;
	(void)body;
	base_req(r, TS_STREAM_FILL);
	r->side_offset = 0;
	r->aux_offset = ANN;
	return 0;
}

static int cmp_pair_ids(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	if (x[0] != y[0])
		return (x[0] > y[0]) - (x[0] < y[0]);
	return (x[1] > y[1]) - (x[1] < y[1]);
}

/* FILL's output against a nested-loop join of the input's real rows: the
 * flagged rows are m per side, their targets cover 0 .. m-1 once per side,
 * the two rows at one target have the same key, and the (side-0 id,
 * side-1 id) pairs are exactly the join's; every other row is zero. */
static const char *verify_fill(const struct scenario *sc, const uint8_t *in0,
			       const uint8_t *out)
{
	static uint64_t got_pairs[FILL_M][2], want[FILL_M][2], key[2][FILL_M];
	static uint8_t seen[2][FILL_M];
	static const uint8_t zero[FILL_OUT_RS];
	uint32_t i, j, w = 0;

	(void)sc;
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < FILL_ROWS; i++) {
		const uint8_t *o = out + (size_t)i * FILL_OUT_RS, *r = o + 8;
		uint64_t t = ld64(r + ANN_DEST);
		uint32_t s = r[0];

		if (o[0] == 0) {
			if (memcmp(o, zero, FILL_OUT_RS))
				return "FILL: a dummy row is not zero";
			continue;
		}
		if (o[0] != 1 || s > 1 || t >= FILL_M || seen[s][t]++)
			return "FILL: a flagged row's side or target";
		got_pairs[t][s] = ld64(r + PAYLOAD);
		key[s][t] = ld64(r + 8);
	}
	for (i = 0; i < FILL_M; i++)
		if (!seen[0][i] || !seen[1][i] || key[0][i] != key[1][i])
			return "FILL: a target without two rows of one key";
	for (i = 0; i < FILL_ROWS; i++) {
		const uint8_t *a = in0 + (size_t)i * GC_RS;

		for (j = 0; a[ANN_KIND] == 0 && a[0] == 0 && j < FILL_ROWS; j++) {
			const uint8_t *b = in0 + (size_t)j * GC_RS;

			if (b[ANN_KIND] || !b[0] || ld64(a + 8) != ld64(b + 8))
				continue;
			if (w == FILL_M)
				return "FILL: the input joins more than m pairs";
			want[w][0] = ld64(a + PAYLOAD);
			want[w++][1] = ld64(b + PAYLOAD);
		}
	}
	qsort(got_pairs, FILL_M, sizeof(got_pairs[0]), cmp_pair_ids);
	qsort(want, w, sizeof(want[0]), cmp_pair_ids);
	if (w != FILL_M || memcmp(got_pairs, want, sizeof(want)))
		return "FILL: the pairs differ from the nested-loop join";
	return NULL;
}

/* GENERATE: no input (nothing secret); m = FILL_M fillers per side in the
 * GC_RS layout. */
static void gen_none(const struct scenario *sc, int v, uint8_t *in0,
		     uint8_t *in1)
{
	(void)sc;
	(void)v;
	(void)in0;
	(void)in1;
}

static size_t req_generate(const struct scenario *sc,
			   struct ts_stream_request *r, uint8_t *body)
{
	(void)sc;
	(void)body;
	base_req(r, TS_STREAM_GENERATE);
	r->rows_per_block = RPB;
	r->out_row_size = GC_RS;
	r->side_offset = 0;
	r->aux_offset = ANN;
	r->limit = FILL_M;
	return 0;
}

static const char *verify_generate(const struct scenario *sc,
				   const uint8_t *in0, const uint8_t *out)
{
	uint8_t want[GC_RS];
	uint32_t i;

	(void)sc;
	(void)in0;
	for (i = 0; i < 2 * FILL_M; i++) {
		put_filler(want, i, FILL_M);
		if (memcmp(out + (size_t)i * GC_RS, want, GC_RS))
			return "GENERATE: a row differs from the specification";
	}
	return NULL;
}

/* One input table of n rows of rs bytes, RPB rows per block. */
#define ONE_IN(n, rs) .n_in = 1, .n_rows = { (n), 0 }, .row_size = { (rs), 0 }, \
	.rpb = { RPB, 0 }
#define JOIN_IN ONE_IN(JOIN_PK + JOIN_FK, U_RS), .out_rows = JOIN_PK + JOIN_FK

static const struct scenario scenarios[] = {
	{ .name = "xsort", .n_in = 1, .n_rows = { XS_ROWS, 0 },
	  .row_size = { XS_RS, 0 }, .rpb = { XS_RPB, 0 }, .gen = gen_xsort,
	  .out_rows = XS_ROWS },
	{ .name = "stream_widen", .n_in = 2, .n_rows = { 40, 160 },
	  .row_size = { PK_RS, FK_RS }, .rpb = { RPB, RPB }, .gen = gen_widen,
	  .req = req_widen, .out_rows = 200 },
	{ .name = "stream_aggregate_hidden", ONE_IN(240, AGG_RS),
	  .gen = gen_agg_hidden, .req = req_agg, .out_rows = 240, .arg = 1 },
	{ .name = "stream_aggregate_revealed", ONE_IN(240, AGG_RS),
	  .gen = gen_agg_revealed, .req = req_agg, .expect = expect_groups,
	  .out_rows = 240, .arg = 1 },
	{ .name = "stream_join_inner_revealed", JOIN_IN,
	  .gen = gen_join_revealed, .req = req_join, .expect = expect_join,
	  .arg = TS_STREAM_JOIN_INNER },
	{ .name = "stream_join_inner_hidden", JOIN_IN,
	  .gen = gen_join_hidden, .req = req_join,
	  .arg = TS_STREAM_JOIN_INNER },
	{ .name = "stream_limit", ONE_IN(200, LIM_RS), .gen = gen_rows_keyed,
	  .req = req_limit, .out_rows = 77 },
	/* Modes of ABI v4 (teespark_ta.h "Streaming"). */
	{ .name = "stream_aggregate_nokeys", ONE_IN(240, AGG_RS),
	  .gen = gen_agg_hidden, .req = req_agg, .expect = expect_one,
	  .out_rows = 240, .arg = 0 },
	{ .name = "stream_aggregate_count_distinct", ONE_IN(240, AGG_RS),
	  .gen = gen_agg_distinct, .req = req_agg_distinct, .out_rows = 240,
	  },
	{ .name = "stream_join_outer_revealed", JOIN_IN,
	  .gen = gen_join_revealed, .req = req_join, .expect = expect_join,
	  .arg = TS_STREAM_JOIN_OUTER },
	{ .name = "stream_join_semi_revealed", JOIN_IN,
	  .gen = gen_join_revealed, .req = req_join, .expect = expect_join,
	  .arg = TS_STREAM_JOIN_SEMI },
	{ .name = "stream_join_anti_revealed", JOIN_IN,
	  .gen = gen_join_revealed, .req = req_join, .expect = expect_join,
	  .arg = TS_STREAM_JOIN_ANTI },
	{ .name = "stream_map", ONE_IN(200, TEST_ROW_SIZE), .gen = gen_map,
	  .req = req_map, .out_rows = 200 },
	{ .name = "stream_group_count", ONE_IN(JOIN_PK + JOIN_FK, GC_RS),
	  .gen = gen_group_count, .req = req_group_count,
	  .out_rows = JOIN_PK + JOIN_FK, .arg = TS_STREAM_GC_FORWARD,
	  },
	{ .name = "stream_group_count_second", ONE_IN(JOIN_PK + JOIN_FK, GC_RS),
	  .gen = gen_group_count_second, .req = req_group_count,
	  .out_rows = JOIN_PK + JOIN_FK, .arg = TS_STREAM_GC_SECOND,
	  },
	{ .name = "stream_fill", ONE_IN(FILL_ROWS, GC_RS), .gen = gen_fill,
	  .req = req_fill, .verify = verify_fill, .out_rows = FILL_ROWS },
	{ .name = "stream_generate", .n_in = 0, .gen = gen_none,
	  .req = req_generate, .verify = verify_generate,
	  .out_rows = 2 * FILL_M },
};

#define N_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

/* ---- running one data set (in the forked child) ------------------------- */

static uint8_t key_in[32], key_out[32];
static struct th_table tables[2];
static uint8_t rows[2][MAX_ROWS_BYTES];
static uint8_t sealed[2 * MAX_ROWS_BYTES];
static uint8_t out_buf[OUT_CAP];
static uint8_t got[OUT_CAP / 4];
static uint8_t runs[16][64u << 10], pair[1u << 20];
static uint8_t body[4096];
static struct ts_table_descriptor descs[2];

struct result {
	TEE_Result res;
	uint32_t rows, real;
	size_t bytes;
};

static TEE_Result call(void *s, uint32_t cmd, uint32_t types, void *in,
		       size_t in_len, void *out, size_t *out_len, uint32_t a,
		       uint32_t b, TEE_Param *p)
{
	TEE_Result res;

	memset(p, 0, 4 * sizeof(*p));
	p[0].memref.buffer = in;
	p[0].memref.size = in_len;
	p[1].memref.buffer = out;
	p[1].memref.size = *out_len;
	p[2].value.a = a;
	p[2].value.b = b;
	res = th_invoke(s, cmd, types, p);
	*out_len = p[1].memref.size;
	return res;
}

/* XSORT_START, the chunks, every comparator of the schedule, EMIT. The
 * host's part between the calls copies whole runs: sizes only. */
static void run_xsort(void *s, const uint8_t *in, size_t in_len,
		      struct result *out)
{
	const uint32_t step = TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					      TEE_PARAM_TYPE_MEMREF_OUTPUT,
					      TEE_PARAM_TYPE_VALUE_INPUT,
					      TEE_PARAM_TYPE_VALUE_OUTPUT);
	size_t off[XS_ROWS / XS_RPB + 1], o = 0, run_len = 0, len;
	uint32_t i, k, lo, hi, n_blocks = XS_ROWS / XS_RPB;
	struct ts_sort_request req;
	struct xsort_net net;
	TEE_Param p[4];

	/* Where each input block starts (headers are public). */
	for (i = 0; i <= n_blocks; i++) {
		struct ts_block_header h;

		off[i] = o;
		if (i == n_blocks)
			break;
		memcpy(&h, in + o, sizeof(h));
		o += TS_SEALED_BLOCK_SIZE((size_t)h.ciphertext_size);
	}
	if (o != in_len) {
		out->res = TEE_ERROR_GENERIC;
		return;
	}
	memset(&req, 0, sizeof(req));
	req.in_key_slot = 0;
	req.out_key_slot = 1;
	req.rows_per_block = 50;
	req.key_count = 2;
	memcpy(req.schema_hash, tables[0].schema_hash, 32);
	memcpy(req.out_table_id, "trace-cmd-xsort!", 16);
	req.keys[0] = (struct ts_sort_key){ TS_KEY_UINT, 0, 0, 8, 0 };
	req.keys[1] = (struct ts_sort_key){ TS_KEY_FLOAT64, 1, 8, 8, 0 };

	window_begin();
	memset(p, 0, sizeof(p));
	p[0].memref.buffer = &req;
	p[0].memref.size = sizeof(req);
	p[1].memref.buffer = tables[0].table_id;
	p[1].memref.size = 16;
	p[2].value.a = XS_CHUNK;
	p[2].value.b = XS_RUN_ROWS;
	out->res = th_invoke(s, TA_TEESPARK_CMD_XSORT_START,
			     TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_VALUE_INPUT,
					     TEE_PARAM_TYPE_VALUE_OUTPUT), p);
	k = p[3].value.a;
	if (out->res == TEE_SUCCESS && (k == 0 || k > 16))
		out->res = TEE_ERROR_GENERIC;
	for (i = 0; out->res == TEE_SUCCESS && i < k; i++) {
		uint32_t end = (i + 1) * XS_CHUNK;

		len = sizeof(runs[i]);
		out->res = call(s, TA_TEESPARK_CMD_XSORT_CHUNK, step,
				(void *)(uintptr_t)(in + off[i * XS_CHUNK]),
				off[end] - off[i * XS_CHUNK], runs[i], &len,
				i, 0, p);
		run_len = len;
	}
	xsort_net_start(&net, k);
	while (out->res == TEE_SUCCESS && xsort_net_next(&net, &lo, &hi)) {
		memcpy(pair, runs[lo], run_len);
		memcpy(pair + run_len, runs[hi], run_len);
		len = 2 * run_len;
		out->res = call(s, TA_TEESPARK_CMD_XSORT_MERGE_SPLIT, step,
				pair, 2 * run_len, out_buf, &len, lo, hi, p);
		memcpy(runs[lo], out_buf, run_len);
		memcpy(runs[hi], out_buf + run_len, run_len);
	}
	for (i = 0; i < k; i++)
		memcpy(pair + i * run_len, runs[i], run_len);
	len = OUT_CAP;
	if (out->res == TEE_SUCCESS)
		out->res = call(s, TA_TEESPARK_CMD_XSORT_EMIT,
				TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
						TEE_PARAM_TYPE_MEMREF_OUTPUT,
						TEE_PARAM_TYPE_NONE,
						TEE_PARAM_TYPE_VALUE_OUTPUT),
				pair, k * run_len, out_buf, &len, 0, 0, p);
	window_end();
	out->rows = p[3].value.a;
	out->real = 0;
	out->bytes = len;
}

static void run_stream(void *s, const struct scenario *sc, const uint8_t *in,
		       size_t in_len, struct result *out)
{
	static uint8_t req_buf[sizeof(struct ts_stream_request) + sizeof(body)];
	struct ts_stream_request req;
	size_t body_len = sc->req(sc, &req, body);
	TEE_Param p[4];

	memcpy(req_buf, &req, sizeof(req));
	memcpy(req_buf + sizeof(req), body, body_len);
	memset(p, 0, sizeof(p));
	p[0].memref.buffer = (void *)(uintptr_t)in;
	p[0].memref.size = in_len;
	p[1].memref.buffer = out_buf;
	p[1].memref.size = sizeof(out_buf);
	p[2].memref.buffer = req_buf;
	p[2].memref.size = sizeof(req) + body_len;
	window_begin();
	out->res = th_invoke(s, TA_TEESPARK_CMD_STREAM,
			     TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_MEMREF_OUTPUT,
					     TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_VALUE_OUTPUT), p);
	window_end();
	out->rows = p[3].value.a;
	out->real = p[3].value.b;
	out->bytes = p[1].memref.size;
}

/* Checks after the window (plaintext and output are defined data here):
 * the command's row count, the revealed count against the reference, the
 * output's descriptor and blocks, and for XSORT the order. */
static int check(const struct scenario *sc, const struct result *r)
{
	const char *what = NULL;
	uint32_t i;
	long n;

	if (r->rows != sc->out_rows)
		what = "output row count";
	else if (sc->expect && r->real != sc->expect(sc, rows[0], rows[1]))
		what = "revealed count differs from the reference";
	else if (!th_descriptor_verify(key_out, (const void *)out_buf))
		what = "output descriptor MAC";
	if (what)
		goto fail;
	n = th_open_table(key_out, out_buf + TS_TABLE_DESCRIPTOR_SIZE,
			  r->bytes - TS_TABLE_DESCRIPTOR_SIZE, got,
			  sizeof(got), NULL, 0, NULL);
	if (n != (long)sc->out_rows) {
		what = "output blocks";
		goto fail;
	}
	if (sc->verify && (what = sc->verify(sc, rows[0], got)) != NULL)
		goto fail;
	for (i = 1; !sc->req && i < sc->out_rows; i++)
		if (ld64(got + (size_t)(i - 1) * XS_RS) >
		    ld64(got + (size_t)i * XS_RS)) {
			what = "output not sorted";
			goto fail;
		}
	return 0;
fail:
	printf("FAIL %s#%d %s (rows=%u real=%u)\n", sc->name, window_index,
	       what, r->rows, r->real);
	return 1;
}

/* The file of one data set: the descriptor of each input table (the same
 * for every data set: public metadata only), the plaintext rows of each
 * input, then their sealed blocks. "gen" seals and MACs outside the traced
 * process, which then runs no OpenSSL of its own. */
static size_t sealed_bytes(const struct scenario *sc, int i)
{
	return i < (int)sc->n_in ?
	       th_sealed_size(sc->n_rows[i], sc->row_size[i], sc->rpb[i]) : 0;
}

static size_t file_bytes(const struct scenario *sc)
{
	return sc->n_in * sizeof(struct ts_table_descriptor) + in_bytes(sc, 0) + in_bytes(sc, 1) + sealed_bytes(sc, 0) +
	       sealed_bytes(sc, 1);
}

static int read_data_set(const struct scenario *sc, const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0;
	int extra;

	if (!f) {
		printf("FAIL %s cannot open %s: %s\n", sc->name, path,
		       strerror(errno));
		return -1;
	}
	n += fread(descs, 1, sc->n_in * sizeof(descs[0]), f);
	n += fread(rows[0], 1, in_bytes(sc, 0), f);
	n += fread(rows[1], 1, in_bytes(sc, 1), f);
	n += fread(sealed, 1, sealed_bytes(sc, 0) + sealed_bytes(sc, 1), f);
	extra = fgetc(f);
	fclose(f);
	if (n != file_bytes(sc) || extra != EOF) {
		printf("FAIL %s %s: not a data set of this scenario (%zu "
		       "bytes)\n", sc->name, path, file_bytes(sc));
		return -1;
	}
	return 0;
}

/* The child: reads the data set (sizes only), runs the window; with
 * `checked`, checks the result after it. */
static int child(void *s, const struct scenario *sc, const char *path,
		 int checked)
{
	size_t len = sealed_bytes(sc, 0) + sealed_bytes(sc, 1);
	struct ts_table_descriptor registered[2];
	struct result r;

	memcpy(registered, descs, sizeof(descs));
	if (read_data_set(sc, path))
		return 1;
	if (memcmp(registered, descs, sc->n_in * sizeof(descs[0]))) {
		printf("FAIL %s %s: another table shape\n", sc->name, path);
		return 1;
	}
	memset(&r, 0, sizeof(r));
	if (sc->req)
		run_stream(s, sc, sealed, len, &r);
	else
		run_xsort(s, sealed, len, &r);
	if (sc->pending && (r.res == TS_ERROR_BAD_REQUEST ||
			    r.res == TEE_ERROR_BAD_PARAMETERS)) {
		printf("unsupported %s#%d 0x%08x\n", sc->name, window_index,
		       r.res);
		return 3;
	}
	if (r.res != TEE_SUCCESS) {
		printf("FAIL %s#%d command failed 0x%08x\n", sc->name,
		       window_index, r.res);
		return 1;
	}
	if (checked && check(sc, &r))
		return 1;
	printf("ok %s#%d rows=%u real=%u bytes=%zu\n", sc->name, window_index,
	       r.rows, r.real, r.bytes);
	return 0;
}

static int is_scenario(const char *name)
{
	size_t i;

	for (i = 0; i < N_SCENARIOS; i++)
		if (!strcmp(scenarios[i].name, name))
			return 1;
	return 0;
}

static const struct scenario *find(const char *name)
{
	size_t i;

	for (i = 0; i < N_SCENARIOS; i++)
		if (!strcmp(scenarios[i].name, name))
			return &scenarios[i];
	fprintf(stderr, "trace_cmd_harness: no scenario %s\n", name);
	exit(2);
}

/* Keys and table identities: fixed, the same for every data set (only the
 * rows vary), shared by "gen" (which seals) and "run" (which registers). */
static void fixed_setup(const struct scenario *sc)
{
	uint32_t t;

	th_rand_seed(0x7ace);
	th_rand_bytes(key_in, 32);
	th_rand_bytes(key_out, 32);
	for (t = 0; t < 2; t++)
		th_table_random(&tables[t],
				sc->row_size[t] ? sc->row_size[t] : 8);
}

static int gen(const struct scenario *sc, const char *variant,
	       const char *path)
{
	size_t len0;
	uint32_t t;
	FILE *f;
	int v;

	for (v = 0; v < N_VARIANTS; v++)
		if (!strcmp(variant, variant_names[v]))
			break;
	if (v == N_VARIANTS) {
		fprintf(stderr, "trace_cmd_harness: no data set %s\n", variant);
		return 2;
	}
	fixed_setup(sc);
	for (t = 0; t < sc->n_in; t++)
		th_descriptor(key_in, &tables[t], sc->n_rows[t], sc->rpb[t],
			      NULL, &descs[t]);
	th_rand_seed(0x7c0de000u + 16u * (uint32_t)(sc - scenarios) +
		     (uint32_t)v);
	sc->gen(sc, v, rows[0], rows[1]);
	len0 = sc->n_in > 0 ? th_seal_table(key_in, &tables[0], rows[0],
					    sc->n_rows[0], sc->rpb[0],
					    sealed) : 0;
	if (sc->n_in > 1)
		th_seal_table(key_in, &tables[1], rows[1], sc->n_rows[1],
			      sc->rpb[1], sealed + len0);
	f = fopen(path, "wb");
	if (!f || fwrite(descs, sizeof(descs[0]), sc->n_in, f) != sc->n_in ||
	    fwrite(rows[0], 1, in_bytes(sc, 0), f) != in_bytes(sc, 0) ||
	    fwrite(rows[1], 1, in_bytes(sc, 1), f) != in_bytes(sc, 1) ||
	    fwrite(sealed, 1, sealed_bytes(sc, 0) + sealed_bytes(sc, 1), f) !=
	    sealed_bytes(sc, 0) + sealed_bytes(sc, 1) || fclose(f)) {
		fprintf(stderr, "trace_cmd_harness: cannot write %s\n", path);
		return 2;
	}
	return 0;
}

/* Wait for child `pid`; its exit code, 1 if it died. */
static int reap(pid_t pid, const char *what)
{
	int status = 0;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		printf("FAIL %s: process died\n", what);
		return 1;
	}
	return WEXITSTATUS(status);
}

/* Worst of two exit codes: 1 (failure) over 3 (unsupported) over 0. */
static int worse(int a, int b)
{
	return a == 1 || b == 1 ? 1 : a > b ? a : b;
}

/* One scenario, in a process of its own: a session with the keys and the
 * input tables registered (public metadata only), then one forked child
 * per data set, each from this same state. */
static int run_scenario(const struct scenario *sc, int n_files, char **files,
			int checked)
{
	void *s;
	int i, worst = 0;
	uint32_t t;

	fixed_setup(sc);
	window_label = sc->name;
	s = th_open_session();
	if (th_install_key(s, 0, key_in) != TEE_SUCCESS ||
	    th_install_key(s, 1, key_out) != TEE_SUCCESS) {
		printf("FAIL %s INSTALL_DEV_KEY\n", sc->name);
		return 1;
	}
	/* The descriptors from the first data set (all carry the same). */
	if (read_data_set(sc, files[0]))
		return 1;
	for (t = 0; t < sc->n_in; t++)
		if (th_register(s, &descs[t], 0) != TEE_SUCCESS) {
			printf("FAIL %s REGISTER_TABLE\n", sc->name);
			return 1;
		}
	for (i = 0; i < n_files; i++) {
		pid_t pid;

		window_index = i;
		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			int rc = child(s, sc, files[i], checked);

			fflush(stdout);
			_exit(rc);
		}
		worst = worse(worst, reap(pid, sc->name));
	}
	th_close_session(s);
	return worst;
}

/* argv: groups "SCEN FILE...". The TA is initialised once and the
 * simulator's OpenSSL algorithms loaded (its one-time cost), then each
 * scenario runs in a forked process of its own. */
static int run(int argc, char **argv, int checked)
{
	TEE_OperationHandle op = TEE_HANDLE_NULL;
	int i = 0, worst = 0;

	th_init();
	if (TEE_AllocateOperation(&op, TEE_ALG_HMAC_SHA256, TEE_MODE_MAC,
				  256) != TEE_SUCCESS) {
		printf("FAIL TEE_AllocateOperation\n");
		return 1;
	}
	TEE_FreeOperation(op);
	while (i < argc) {
		const struct scenario *sc = find(argv[i]);
		int n = 0;
		pid_t pid;

		while (i + 1 + n < argc && !is_scenario(argv[i + 1 + n]))
			n++;
		if (n == 0) {
			fprintf(stderr, "trace_cmd_harness: %s: no data sets\n",
				sc->name);
			return 2;
		}
		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			int rc = run_scenario(sc, n, argv + i + 1, checked);

			fflush(stdout);
			_exit(rc);
		}
		worst = worse(worst, reap(pid, sc->name));
		i += 1 + n;
	}
	return worst;
}

int main(int argc, char **argv)
{
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "list")) {
		for (i = 0; i < N_SCENARIOS; i++)
			printf("%s\n", scenarios[i].name);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "variants")) {
		for (i = 0; i < N_VARIANTS; i++)
			printf("%s\n", variant_names[i]);
		return 0;
	}
	if (argc == 5 && !strcmp(argv[1], "gen"))
		return gen(find(argv[2]), argv[3], argv[4]);
	if (argc >= 4 && !strcmp(argv[1], "run"))
		return run(argc - 2, argv + 2, 1);
	if (argc >= 4 && !strcmp(argv[1], "trace"))
		return run(argc - 2, argv + 2, 0);
	fprintf(stderr, "usage: %s list | variants | gen SCEN VARIANT FILE | "
		"run|trace SCEN FILE... [SCEN FILE...]...\n", argv[0]);
	return 2;
}

/*
 * test_expr.c - expr_test: known answers for every opcode of the expression
 * evaluator, with NULLs, over a fixed 5-row batch (the shipped objects,
 * $(BUILD)/obj/expr). Expected values follow Spark SQL's non-ANSI semantics
 * (tests/expr/test_expr_vs_spark.py checks the same against Spark itself).
 *
 *   expr_test        run every test; exit status 0 iff every check passed
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../expr.h"
#include "prog_builder.h"

#define NR 5
#define N_ 0x7fffffffffff0001LL   /* marks an expected NULL */

static long checks, failures;
static uint8_t rows[NR * TEST_ROW_SIZE];
static uint8_t ws[1 << 20] __attribute__((aligned(16)));

#define CHECK(cond, ...) do { checks++; if (!(cond)) { failures++; \
	fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static void put(int r, unsigned off, const void *v, size_t n)
{
	memcpy(rows + r * TEST_ROW_SIZE + off, v, n);
}

static void set_row(int r, int64_t i0, int64_t i1, double f0, int64_t d0,
		const char *s0, int32_t dt0, uint8_t b0, int32_t i2)
{
	char s[8] = { 0 };

	put(r, OFF_I0, &i0, 8);
	put(r, OFF_I1, &i1, 8);
	put(r, OFF_F0, &f0, 8);
	put(r, OFF_D0, &d0, 8);
	memcpy(s, s0, strlen(s0));
	put(r, OFF_S0, s, 8);
	put(r, OFF_DT0, &dt0, 4);
	put(r, OFF_B0, &b0, 1);
	put(r, OFF_I2, &i2, 4);
}

static void make_rows(void)
{
	memset(rows, 0, sizeof(rows));
	set_row(0, 7, 2, 1.5, 12345, "hello", 18321, 1, INT32_MAX);
	set_row(1, -7, 0, -0.0, -5, "h\xc3\xa9llo", -1, 0, INT32_MIN);
	set_row(2, INT64_MIN, -1, NAN, 999999999999999999LL, "", -719162, 1, 0);
	/* row 3: every column NULL, with garbage value bytes */
	memset(rows + 3 * TEST_ROW_SIZE, 0x5A, TEST_ROW_SIZE);
	rows[3 * TEST_ROW_SIZE] = 0xFF;
	set_row(4, 100, 7, 2.675, 1, "a_b%c", 59, 0, -1);
}

/* Validate and run; returns 0 on success. */
static int run(struct pb *p, struct ts_expr_col *out)
{
	struct ts_expr_info info;
	int32_t bad;
	size_t len = pb_finish(p);
	int rc = ts_expr_validate(p->buf, len, &info, &bad);

	if (rc != TS_EXPR_OK) {
		fprintf(stderr, "validate: error %d at instruction %d\n", rc, bad);
		return rc;
	}
	if (ts_expr_workspace_size(&info, NR) > sizeof(ws))
		return -1;
	return ts_expr_eval(p->buf, &info, rows, NR, TEST_ROW_SIZE, ws, sizeof(ws), out);
}

static int64_t val_i64(const struct ts_expr_col *c, int r)
{
	int64_t v;

	memcpy(&v, c->values + 8 * r, 8);
	return v;
}

/* Expect int64-encoded values (int32, int64, date, timestamp, bool). */
static void expect_i(const char *name, struct pb *p, const int64_t *want)
{
	struct ts_expr_col c;
	int r;

	CHECK(run(p, &c) == 0, "%s: evaluation failed", name);
	for (r = 0; r < NR; r++) {
		int64_t got = c.type.kind == TS_T_BOOL ? c.values[r] : val_i64(&c, r);

		if (want[r] == N_)
			CHECK(c.nulls[r] == 1, "%s row %d: want NULL, got %lld", name, r,
				(long long)got);
		else
			CHECK(c.nulls[r] == 0 && got == want[r],
				"%s row %d: want %lld, got %s%lld", name, r,
				(long long)want[r], c.nulls[r] ? "NULL " : "",
				(long long)got);
	}
}

static void expect_dec(const char *name, struct pb *p, const __int128 *want_lo,
		uint8_t prec, uint8_t scale)
{
	struct ts_expr_col c;
	int r;

	CHECK(run(p, &c) == 0, "%s: evaluation failed", name);
	CHECK(c.type.kind == TS_T_DECIMAL && c.type.precision == prec &&
		c.type.scale == scale, "%s: result type", name);
	for (r = 0; r < NR; r++) {
		__int128 got;

		memcpy(&got, c.values + 16 * r, 16);
		if (want_lo[r] == N_)
			CHECK(c.nulls[r] == 1, "%s row %d: want NULL", name, r);
		else
			CHECK(c.nulls[r] == 0 && got == want_lo[r],
				"%s row %d: want %lld, got %s%lld", name, r,
				(long long)want_lo[r], c.nulls[r] ? "NULL " : "",
				(long long)got);
	}
}

/* Doubles compared bit for bit (NaN: any NaN). */
static void expect_f(const char *name, struct pb *p, const double *want,
		const int *null)
{
	struct ts_expr_col c;
	int r;

	CHECK(run(p, &c) == 0, "%s: evaluation failed", name);
	for (r = 0; r < NR; r++) {
		double got;

		memcpy(&got, c.values + 8 * r, 8);
		if (null[r])
			CHECK(c.nulls[r] == 1, "%s row %d: want NULL", name, r);
		else
			CHECK(c.nulls[r] == 0 && ((isnan(want[r]) && isnan(got)) ||
				memcmp(&got, &want[r], 8) == 0),
				"%s row %d: want %.17g, got %.17g", name, r, want[r], got);
	}
}

static void expect_s(const char *name, struct pb *p, const char *const *want)
{
	struct ts_expr_col c;
	int r;

	CHECK(run(p, &c) == 0, "%s: evaluation failed", name);
	for (r = 0; r < NR; r++) {
		const char *got = (const char *)c.values + c.elem_size * r;

		if (want[r] == NULL)
			CHECK(c.nulls[r] == 1, "%s row %d: want NULL", name, r);
		else
			CHECK(c.nulls[r] == 0 && strlen(want[r]) <= c.elem_size &&
				memcmp(got, want[r], strlen(want[r])) == 0 &&
				(strlen(want[r]) == c.elem_size || got[strlen(want[r])] == 0),
				"%s row %d: want '%s', got '%.*s'", name, r, want[r],
				(int)c.elem_size, got);
	}
}

#define I0(p) pb_col((p), T_I64, OFF_I0, 0)
#define I1(p) pb_col((p), T_I64, OFF_I1, 1)
#define F0(p) pb_col((p), T_F64, OFF_F0, 2)
#define D0(p) pb_col((p), T_DEC(18, 2), OFF_D0, 3)
#define S0(p) pb_col((p), T_STR(8), OFF_S0, 4)
#define DT0(p) pb_col((p), T_DATE, OFF_DT0, 5)
#define B0(p) pb_col((p), T_BOOL, OFF_B0, 6)
#define I2(p) pb_col((p), T_I32, OFF_I2, 7)

static void test_int_arith(void)
{
	struct pb p;

	pb_init(&p); I0(&p); I1(&p); pb_op(&p, TS_OP_ADD, T_I64);
	expect_i("add int64 wraps", &p, (int64_t[]){ 9, -7, INT64_MAX, N_, 107 });
	pb_init(&p); I0(&p); I1(&p); pb_op(&p, TS_OP_SUB, T_I64);
	expect_i("sub int64", &p, (int64_t[]){ 5, -7, INT64_MIN + 1, N_, 93 });
	pb_init(&p); I0(&p); I1(&p); pb_op(&p, TS_OP_IDIV, T_I64);
	expect_i("div: /0 NULL, MIN div -1 wraps", &p,
		(int64_t[]){ 3, N_, INT64_MIN, N_, 14 });
	pb_init(&p); I0(&p); I1(&p); pb_op(&p, TS_OP_MOD, T_I64);
	expect_i("mod int64", &p, (int64_t[]){ 1, N_, 0, N_, 2 });
	pb_init(&p); I0(&p); pb_lit_i(&p, T_I64, 2); pb_op(&p, TS_OP_MOD, T_I64);
	expect_i("mod sign of dividend", &p, (int64_t[]){ 1, -1, 0, N_, 0 });
	pb_init(&p); I0(&p); pb_lit_i(&p, T_I64, -3); pb_op(&p, TS_OP_IDIV, T_I64);
	expect_i("div truncates", &p, (int64_t[]){ -2, 2, 3074457345618258602LL, N_, -33 });
	pb_init(&p); I2(&p); pb_lit_i(&p, T_I32, 2); pb_op(&p, TS_OP_MUL, T_I32);
	expect_i("mul int32 wraps", &p, (int64_t[]){ -2, 0, 0, N_, -2 });
	pb_init(&p); I2(&p); pb_op(&p, TS_OP_NEG, T_I32);
	expect_i("neg int32 wraps", &p, (int64_t[]){ -INT32_MAX, INT32_MIN, 0, N_, 1 });
	pb_init(&p); I0(&p); pb_op(&p, TS_OP_ABS, T_I64);
	expect_i("abs int64 (MIN stays)", &p, (int64_t[]){ 7, 7, INT64_MIN, N_, 100 });
	pb_init(&p); I0(&p); pb_i32(&p, TS_OP_ROUND, T_I64, -1);
	expect_i("round int64 -1", &p,
		(int64_t[]){ 10, -10, 9223372036854775806LL, N_, 100 });
	pb_init(&p); I2(&p); pb_i32(&p, TS_OP_ROUND, T_I32, -1);
	expect_i("round int32 -1 wraps", &p,
		(int64_t[]){ -2147483646, 2147483646, 0, N_, 0 });
}

static void test_float(void)
{
	struct pb p;
	static const int none[NR] = { 0, 0, 0, 1, 0 }, all[NR] = { 1, 1, 1, 1, 1 };

	pb_init(&p); F0(&p); pb_lit_f(&p, 0.0); pb_op(&p, TS_OP_DIV, T_F64);
	expect_f("x / 0.0 is NULL", &p, (double[]){ 0, 0, 0, 0, 0 }, all);
	pb_init(&p); F0(&p); pb_lit_f(&p, -0.0); pb_op(&p, TS_OP_DIV, T_F64);
	expect_f("x / -0.0 is NULL", &p, (double[]){ 0, 0, 0, 0, 0 }, all);
	pb_init(&p); F0(&p); pb_lit_f(&p, 2.0); pb_op(&p, TS_OP_MUL, T_F64);
	expect_f("mul", &p, (double[]){ 3.0, -0.0, NAN, 0, 5.35 }, none);
	pb_init(&p); F0(&p); pb_i32(&p, TS_OP_ROUND, T_F64, 2);
	expect_f("round(x, 2) HALF_UP on the printed value", &p,
		(double[]){ 1.5, 0.0, NAN, 0, 2.68 }, none);
	pb_init(&p); F0(&p); pb_op(&p, TS_OP_NEG, T_F64);
	expect_f("neg", &p, (double[]){ -1.5, 0.0, NAN, 0, -2.675 }, none);
	pb_init(&p); F0(&p); pb_op(&p, TS_OP_NORMALIZE, T_F64);
	expect_f("normalize", &p, (double[]){ 1.5, 0.0, NAN, 0, 2.675 }, none);
	pb_init(&p); F0(&p); F0(&p); pb_op(&p, TS_OP_EQ, T_BOOL);
	expect_i("NaN = NaN", &p, (int64_t[]){ 1, 1, 1, N_, 1 });
	pb_init(&p); F0(&p); pb_lit_f(&p, 0.0); pb_op(&p, TS_OP_EQ, T_BOOL);
	expect_i("-0.0 = 0.0", &p, (int64_t[]){ 0, 1, 0, N_, 0 });
	pb_init(&p); F0(&p); pb_lit_f(&p, INFINITY); pb_op(&p, TS_OP_GT, T_BOOL);
	expect_i("NaN > +inf", &p, (int64_t[]){ 0, 0, 1, N_, 0 });
	pb_init(&p); F0(&p); pb_op(&p, TS_OP_CAST, T_I32);
	expect_i("cast float64 -> int32", &p, (int64_t[]){ 1, 0, 0, N_, 2 });
	pb_init(&p); pb_lit_f(&p, -1e300); pb_op(&p, TS_OP_CAST, T_I64);
	expect_i("cast -1e300 -> int64 saturates", &p,
		(int64_t[]){ INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN });
	pb_init(&p); pb_lit_f(&p, 3e9); pb_op(&p, TS_OP_CAST, T_I32);
	expect_i("cast 3e9 -> int32 saturates", &p,
		(int64_t[]){ INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX });
	pb_init(&p); I0(&p); pb_op(&p, TS_OP_CAST, T_F64);
	expect_f("cast int64 -> float64", &p,
		(double[]){ 7.0, -7.0, -9223372036854775808.0, 0, 100.0 }, none);
	pb_init(&p); F0(&p); pb_op(&p, TS_OP_CAST, T_BOOL);
	expect_i("cast float64 -> bool", &p, (int64_t[]){ 1, 0, 1, N_, 1 });
}

static void test_decimal(void)
{
	struct pb p;

	pb_init(&p); D0(&p); pb_lit_dec(&p, 3, 3, 5); pb_op(&p, TS_OP_ADD, T_DEC(20, 3));
	expect_dec("add decimal", &p,
		(__int128[]){ 123455, -45, (__int128)999999999999999999LL * 10 + 5, N_, 15 }, 20, 3);
	pb_init(&p); D0(&p); pb_lit_dec(&p, 3, 3, 5); pb_op(&p, TS_OP_ADD, T_DEC(18, 2));
	expect_dec("add rounds HALF_UP, overflow NULL", &p,
		(__int128[]){ 12346, -5, N_, N_, 2 }, 18, 2);
	pb_init(&p); D0(&p); pb_lit_dec(&p, 1, 0, 3); pb_op(&p, TS_OP_DIV, T_DEC(22, 6));
	expect_dec("divide", &p, (__int128[]){ 41150000, -16667, (__int128)333333333333333333LL * 10000, N_, 3333 }, 22, 6);
	pb_init(&p); D0(&p); pb_lit_dec(&p, 1, 0, 0); pb_op(&p, TS_OP_DIV, T_DEC(22, 6));
	expect_dec("divide by zero", &p, (__int128[]){ N_, N_, N_, N_, N_ }, 22, 6);
	pb_init(&p); D0(&p); D0(&p); pb_op(&p, TS_OP_MUL, T_DEC(37, 4));
	{
		struct ts_expr_col c;
		__int128 big = (__int128)999999999999999999LL * 999999999999999999LL, got;

		CHECK(run(&p, &c) == 0, "mul decimal");
		memcpy(&got, c.values + 32, 16);
		CHECK(c.nulls[2] == 0 && got == big, "mul decimal: 36-digit product");
		memcpy(&got, c.values, 16);
		CHECK(got == 152399025, "mul decimal row 0");
		memcpy(&got, c.values + 16, 16);
		CHECK(got == 25, "mul decimal row 1");
	}
	pb_init(&p); D0(&p); pb_lit_dec(&p, 3, 2, 7); pb_op(&p, TS_OP_MOD, T_DEC(3, 2));
	expect_dec("remainder", &p, (__int128[]){ 4, -5, 0, N_, 1 }, 3, 2);
	pb_init(&p); D0(&p); pb_lit_dec(&p, 5, 4, 100); pb_op(&p, TS_OP_GT, T_BOOL);
	expect_i("compare across scales", &p, (int64_t[]){ 1, 0, 1, N_, 0 });
	pb_init(&p); D0(&p); pb_lit_dec(&p, 5, 4, 100); pb_op(&p, TS_OP_EQ, T_BOOL);
	expect_i("equal across scales", &p, (int64_t[]){ 0, 0, 0, N_, 1 });
	pb_init(&p); D0(&p); pb_op(&p, TS_OP_CAST, T_F64);
	{
		static const int none[NR] = { 0, 0, 0, 1, 0 };

		expect_f("cast decimal -> float64", &p,
			(double[]){ 123.45, -0.05, 1e16, 0, 0.01 }, none);
	}
	pb_init(&p); F0(&p); pb_op(&p, TS_OP_CAST, T_DEC(10, 2));
	expect_dec("cast float64 -> decimal", &p, (__int128[]){ 150, 0, N_, N_, 268 }, 10, 2);
	pb_init(&p); D0(&p); pb_op(&p, TS_OP_CAST, T_I32);
	expect_i("cast decimal -> int32 truncates, wraps", &p,
		(int64_t[]){ 123, 0, 1874919423, N_, 0 });
	pb_init(&p); I0(&p); pb_op(&p, TS_OP_CAST, T_DEC(3, 1));
	expect_dec("cast int64 -> decimal(3,1)", &p, (__int128[]){ 70, -70, N_, N_, N_ }, 3, 1);
	pb_init(&p); D0(&p); pb_i32(&p, TS_OP_ROUND, T_DEC(18, 1), 1);
	expect_dec("round decimal", &p,
		(__int128[]){ 1235, -1, 100000000000000000LL, N_, 0 }, 18, 1);
	pb_init(&p); D0(&p); pb_op(&p, TS_OP_UNSCALED, T_I64);
	expect_i("unscaled value", &p, (int64_t[]){ 12345, -5, 999999999999999999LL, N_, 1 });
	pb_init(&p); I0(&p); pb_op(&p, TS_OP_MAKE_DECIMAL, T_DEC(3, 1));
	expect_dec("make_decimal", &p, (__int128[]){ 7, -7, N_, N_, 100 }, 3, 1);
	pb_init(&p); D0(&p); pb_op(&p, TS_OP_NEG, T_DEC(18, 2));
	expect_dec("neg decimal", &p, (__int128[]){ -12345, 5, -999999999999999999LL, N_, -1 },
		18, 2);
}

static void test_logic_and_nulls(void)
{
	struct pb p;
	int64_t list[2] = { 7, 100 };

	pb_init(&p); B0(&p); I1(&p); pb_lit_i(&p, T_I64, 0); pb_op(&p, TS_OP_GT, T_BOOL);
	pb_op(&p, TS_OP_AND, T_BOOL);
	expect_i("and", &p, (int64_t[]){ 1, 0, 0, N_, 0 });
	pb_init(&p); B0(&p); pb_lit_null(&p, T_BOOL); pb_op(&p, TS_OP_OR, T_BOOL);
	expect_i("or with NULL", &p, (int64_t[]){ 1, N_, 1, N_, N_ });
	pb_init(&p); pb_lit_null(&p, T_BOOL); B0(&p); pb_op(&p, TS_OP_AND, T_BOOL);
	expect_i("NULL and x", &p, (int64_t[]){ N_, 0, N_, N_, 0 });
	pb_init(&p); B0(&p); pb_op(&p, TS_OP_NOT, T_BOOL);
	expect_i("not", &p, (int64_t[]){ 0, 1, 0, N_, 1 });
	pb_init(&p); I0(&p); pb_op(&p, TS_OP_IS_NULL, T_BOOL);
	expect_i("is null", &p, (int64_t[]){ 0, 0, 0, 1, 0 });
	pb_init(&p); I0(&p); pb_lit_null(&p, T_I64); pb_op(&p, TS_OP_EQ_NS, T_BOOL);
	expect_i("<=> NULL", &p, (int64_t[]){ 0, 0, 0, 1, 0 });
	pb_init(&p); I0(&p); pb_lit_null(&p, T_I64); pb_op(&p, TS_OP_EQ, T_BOOL);
	expect_i("= NULL", &p, (int64_t[]){ N_, N_, N_, N_, N_ });
	/* CASE WHEN b0 THEN i0 WHEN i1 > 5 THEN i1 [ELSE -1] END */
	pb_init(&p); B0(&p); I0(&p); I1(&p); pb_lit_i(&p, T_I64, 5);
	pb_op(&p, TS_OP_GT, T_BOOL); I1(&p); pb_lit_i(&p, T_I64, -1);
	pb_case(&p, T_I64, 2, 1);
	expect_i("case with else", &p, (int64_t[]){ 7, -1, INT64_MIN, -1, 7 });
	pb_init(&p); B0(&p); I0(&p); I1(&p); pb_lit_i(&p, T_I64, 5);
	pb_op(&p, TS_OP_GT, T_BOOL); I1(&p); pb_case(&p, T_I64, 2, 0);
	expect_i("case without else", &p, (int64_t[]){ 7, N_, INT64_MIN, N_, 7 });
	pb_init(&p); I0(&p); I1(&p); pb_lit_i(&p, T_I64, 42);
	pb_insn(&p, TS_OP_COALESCE, 3, T_I64, NULL, 0);
	expect_i("coalesce", &p, (int64_t[]){ 7, -7, INT64_MIN, 42, 100 });
	pb_init(&p); I0(&p); pb_in_i(&p, list, 2, 0);
	expect_i("in", &p, (int64_t[]){ 1, 0, 0, N_, 1 });
	pb_init(&p); I0(&p); pb_in_i(&p, list, 2, 1);
	expect_i("in with NULL", &p, (int64_t[]){ 1, N_, N_, N_, 1 });
}

static void test_strings(void)
{
	struct pb p;

	pb_init(&p); S0(&p); pb_lit_s(&p, 5, "hello"); pb_op(&p, TS_OP_LT, T_BOOL);
	expect_i("string <", &p, (int64_t[]){ 0, 0, 1, N_, 1 });
	pb_init(&p); S0(&p); pb_lit_s(&p, 5, "hello"); pb_op(&p, TS_OP_EQ, T_BOOL);
	expect_i("string = across widths", &p, (int64_t[]){ 1, 0, 0, N_, 0 });
	pb_init(&p); S0(&p); pb_substr(&p, 8, 2, 3);
	expect_s("substring(s, 2, 3)", &p,
		(const char *const[]){ "ell", "\xc3\xa9ll", "", NULL, "_b%" });
	pb_init(&p); S0(&p); pb_substr(&p, 8, -2, TS_SUBSTR_TO_END);
	expect_s("substring(s, -2)", &p, (const char *const[]){ "lo", "lo", "", NULL, "%c" });
	pb_init(&p); S0(&p); pb_substr(&p, 8, 0, 2);
	expect_s("substring(s, 0, 2)", &p,
		(const char *const[]){ "he", "h\xc3\xa9", "", NULL, "a_" });
	pb_init(&p); S0(&p); pb_substr(&p, 1, -1, -1);
	expect_s("substring(s, -1, -1)", &p, (const char *const[]){ "", "", "", NULL, "" });
	pb_init(&p); S0(&p); pb_like(&p, "h_llo");
	expect_i("like h_llo (multibyte _)", &p, (int64_t[]){ 1, 1, 0, N_, 0 });
	pb_init(&p); S0(&p); pb_like(&p, "%l%");
	expect_i("like %l%", &p, (int64_t[]){ 1, 1, 0, N_, 0 });
	pb_init(&p); S0(&p); pb_like(&p, "");
	expect_i("like ''", &p, (int64_t[]){ 0, 0, 1, N_, 0 });
	pb_init(&p); S0(&p); pb_like(&p, "%");
	expect_i("like %", &p, (int64_t[]){ 1, 1, 1, N_, 1 });
	pb_init(&p); S0(&p); pb_like(&p, "%o");
	expect_i("like %o (ends with)", &p, (int64_t[]){ 1, 1, 0, N_, 0 });
	pb_init(&p); S0(&p); pb_like(&p, "_____");
	expect_i("like five chars", &p, (int64_t[]){ 1, 1, 0, N_, 1 });
}

static void test_dates(void)
{
	struct pb p;

	pb_init(&p); DT0(&p); pb_op(&p, TS_OP_YEAR, T_I32);
	expect_i("year", &p, (int64_t[]){ 2020, 1969, 1, N_, 1970 });
	pb_init(&p); DT0(&p); pb_op(&p, TS_OP_MONTH, T_I32);
	expect_i("month", &p, (int64_t[]){ 2, 12, 1, N_, 3 });
	pb_init(&p); DT0(&p); pb_op(&p, TS_OP_DAY, T_I32);
	expect_i("day", &p, (int64_t[]){ 29, 31, 1, N_, 1 });
	pb_init(&p); DT0(&p); pb_lit_i(&p, T_I32, 1); pb_op(&p, TS_OP_DATE_ADD, T_DATE);
	expect_i("date_add", &p, (int64_t[]){ 18322, 0, -719161, N_, 60 });
	pb_init(&p); DT0(&p); pb_lit_i(&p, T_I32, 1); pb_op(&p, TS_OP_DATE_SUB, T_DATE);
	expect_i("date_sub", &p, (int64_t[]){ 18320, -2, -719163, N_, 58 });
	pb_init(&p); DT0(&p); pb_lit_i(&p, T_DATE, 59); pb_op(&p, TS_OP_DATEDIFF, T_I32);
	expect_i("datediff", &p, (int64_t[]){ 18262, -60, -719221, N_, 0 });
	pb_init(&p); DT0(&p); pb_op(&p, TS_OP_CAST, T_TS);
	expect_i("date -> timestamp", &p, (int64_t[]){ 18321LL * 86400000000LL,
		-86400000000LL, -719162LL * 86400000000LL, N_, 59LL * 86400000000LL });
	pb_init(&p); pb_lit_i(&p, T_TS, -1); pb_op(&p, TS_OP_CAST, T_DATE);
	expect_i("timestamp -> date floors", &p, (int64_t[]){ -1, -1, -1, -1, -1 });
	pb_init(&p); pb_lit_i(&p, T_DATE, 2932896); pb_op(&p, TS_OP_YEAR, T_I32);
	expect_i("year 9999", &p, (int64_t[]){ 9999, 9999, 9999, 9999, 9999 });
	pb_init(&p); pb_lit_i(&p, T_DATE, -719163); pb_op(&p, TS_OP_YEAR, T_I32);
	expect_i("year 0 (proleptic)", &p, (int64_t[]){ 0, 0, 0, 0, 0 });
}

static void test_outputs_and_validation(void)
{
	struct pb p;
	struct ts_expr_col c;
	struct ts_expr_info info;
	uint32_t keep[NR];
	uint8_t out[NR * 16];
	static const int32_t want_i2[NR] = { INT32_MAX, INT32_MIN, 0, 0, -1 };
	int32_t bad;
	int r;

	pb_init(&p); B0(&p);
	CHECK(run(&p, &c) == 0, "filter program");
	CHECK(ts_expr_filter_ctl(&c, keep) == TS_EXPR_OK, "filter ctl");
	CHECK(keep[0] == 1 && keep[1] == 0 && keep[2] == 1 && keep[3] == 0 && keep[4] == 0,
		"filter ctl values");
	pb_init(&p); I2(&p);
	CHECK(run(&p, &c) == 0, "project program");
	memset(out, 0xAA, sizeof(out));
	CHECK(ts_expr_write_column(&c, out, 16, 4, 3) == TS_EXPR_OK, "write column");
	for (r = 0; r < NR; r++) {
		int32_t v;

		memcpy(&v, out + 16 * r + 4, 4);
		CHECK(((out[16 * r] >> 3) & 1) == (r == 3), "null bit row %d", r);
		CHECK(r == 3 ? v == 0 : v == want_i2[r], "projected value row %d", r);
	}
	pb_init(&p); I0(&p); pb_op(&p, TS_OP_ADD, T_I64);
	CHECK(ts_expr_validate(p.buf, pb_finish(&p), &info, &bad) == TS_EXPR_E_UNDERFLOW &&
		bad == 1, "underflow rejected at 1");
	pb_init(&p); I0(&p); pb_finish(&p); p.buf[0] = 'X';
	CHECK(ts_expr_validate(p.buf, p.len, &info, &bad) == TS_EXPR_E_MAGIC, "magic");
	pb_init(&p); pb_col(&p, T_I64, TEST_ROW_SIZE - 7, 0);
	CHECK(ts_expr_validate(p.buf, pb_finish(&p), &info, &bad) == TS_EXPR_E_OFFSET &&
		bad == 0, "offset past the row");
}

int main(void)
{
	make_rows();
	test_int_arith();
	test_float();
	test_decimal();
	test_logic_and_nulls();
	test_strings();
	test_dates();
	test_outputs_and_validation();
	printf("expr_test: %ld checks, %ld failures\n", checks, failures);
	return failures ? 1 : 0;
}

/*
 * prog_builder.h - a tiny builder of expression programs for the C tests
 * (test_expr.c, ct_expr.c, trace_expr.c). Test code only.
 *
 * The test table layout (TEST_ROW_SIZE bytes, one bitmap byte):
 *   col  type            offset  null bit
 *   I0   int64           1       0
 *   I1   int64           9       1
 *   F0   float64         17      2
 *   D0   decimal(18,2)   25      3
 *   S0   string(8)       33      4
 *   DT0  date            41      5
 *   B0   bool            45      6
 *   I2   int32           46      7
 */
#ifndef TEESPARK_EXPR_TESTS_PROG_BUILDER_H
#define TEESPARK_EXPR_TESTS_PROG_BUILDER_H

#include <stdint.h>
#include <string.h>

#include "../expr.h"

#define TEST_ROW_SIZE 50u
enum { OFF_I0 = 1, OFF_I1 = 9, OFF_F0 = 17, OFF_D0 = 25, OFF_S0 = 33, OFF_DT0 = 41,
	OFF_B0 = 45, OFF_I2 = 46 };

struct pb {
	uint8_t buf[8192];
	size_t len;
	uint32_t n;
};

static inline struct ts_expr_type pt(uint8_t kind, uint8_t p, uint8_t s, uint32_t w)
{
	struct ts_expr_type t = { kind, p, s, 0, w };
	return t;
}

#define T_BOOL pt(TS_T_BOOL, 0, 0, 0)
#define T_I32 pt(TS_T_INT32, 0, 0, 0)
#define T_I64 pt(TS_T_INT64, 0, 0, 0)
#define T_F64 pt(TS_T_FLOAT64, 0, 0, 0)
#define T_DATE pt(TS_T_DATE, 0, 0, 0)
#define T_TS pt(TS_T_TIMESTAMP, 0, 0, 0)
#define T_DEC(p, s) pt(TS_T_DECIMAL, (p), (s), 0)
#define T_STR(w) pt(TS_T_STRING, 0, 0, (w))

static inline void pb_init(struct pb *p)
{
	memset(p, 0, sizeof(*p));
	p->len = TS_EXPR_HEADER_SIZE;
}

static inline void pb_put(struct pb *p, const void *d, size_t n)
{
	memcpy(p->buf + p->len, d, n);
	p->len += n;
}

static inline void pb_insn(struct pb *p, uint16_t op, uint16_t aux,
		struct ts_expr_type t, const void *payload, uint32_t plen)
{
	uint32_t len = TS_EXPR_INSN_HEADER_SIZE + plen;

	pb_put(p, &op, 2);
	pb_put(p, &aux, 2);
	pb_put(p, &len, 4);
	pb_put(p, &t.kind, 1);
	pb_put(p, &t.precision, 1);
	pb_put(p, &t.scale, 1);
	pb_put(p, &t.reserved, 1);
	pb_put(p, &t.width, 4);
	if (plen)
		pb_put(p, payload, plen);
	p->n++;
}

static inline void pb_op(struct pb *p, uint16_t op, struct ts_expr_type t)
{
	pb_insn(p, op, 0, t, NULL, 0);
}

static inline void pb_col(struct pb *p, struct ts_expr_type t, uint32_t off,
		uint32_t null_bit)
{
	uint32_t pl[2] = { off, null_bit };

	pb_insn(p, TS_OP_COL, 0, t, pl, 8);
}

/* A literal from raw stack-encoding bytes. */
static inline void pb_lit_raw(struct pb *p, struct ts_expr_type t, int is_null,
		const void *v, uint32_t vlen)
{
	uint8_t pl[4 + 256] = { 0 };

	pl[0] = (uint8_t)is_null;
	if (!is_null)
		memcpy(pl + 4, v, vlen);
	pb_insn(p, TS_OP_LIT, 0, t, pl, 4 + vlen);
}

static inline void pb_lit_i(struct pb *p, struct ts_expr_type t, int64_t v)
{
	pb_lit_raw(p, t, 0, &v, 8);
}

static inline void pb_lit_f(struct pb *p, double v)
{
	pb_lit_raw(p, T_F64, 0, &v, 8);
}

static inline void pb_lit_dec(struct pb *p, uint8_t prec, uint8_t scale, __int128 v)
{
	pb_lit_raw(p, T_DEC(prec, scale), 0, &v, 16);
}

static inline void pb_lit_b(struct pb *p, int v)
{
	uint8_t b = (uint8_t)v;

	pb_lit_raw(p, T_BOOL, 0, &b, 1);
}

static inline void pb_lit_null(struct pb *p, struct ts_expr_type t)
{
	uint8_t z[256] = { 0 };
	uint32_t es = t.kind == TS_T_BOOL ? 1 : t.kind == TS_T_DECIMAL ? 16 :
		t.kind == TS_T_STRING ? t.width : 8;

	pb_lit_raw(p, t, 1, z, es);
}

static inline void pb_lit_s(struct pb *p, uint32_t w, const char *s)
{
	uint8_t v[256] = { 0 };

	memcpy(v, s, strlen(s));
	pb_lit_raw(p, T_STR(w), 0, v, w);
}

static inline void pb_i32(struct pb *p, uint16_t op, struct ts_expr_type t, int32_t x)
{
	pb_insn(p, op, 0, t, &x, 4);
}

static inline void pb_substr(struct pb *p, uint32_t out_w, int32_t pos, int32_t len)
{
	int32_t pl[2] = { pos, len };

	pb_insn(p, TS_OP_SUBSTR, 0, T_STR(out_w), pl, 8);
}

/* LIKE with a pattern in a mini syntax: '%', '_' and literal bytes. */
static inline void pb_like(struct pb *p, const char *pat)
{
	uint8_t pl[4 + 2 * 64];
	uint32_t n = 0;
	size_t i;

	for (i = 0; pat[i]; i++) {
		uint16_t tok = pat[i] == '%' ? TS_LIKE_ANY_STRING :
			pat[i] == '_' ? TS_LIKE_ANY_CHAR : (uint8_t)pat[i];

		memcpy(pl + 4 + 2 * n, &tok, 2);
		n++;
	}
	memcpy(pl, &n, 4);
	pb_insn(p, TS_OP_LIKE, 0, T_BOOL, pl, 4 + 2 * n);
}

static inline void pb_case(struct pb *p, struct ts_expr_type t, uint16_t n,
		uint32_t has_else)
{
	pb_insn(p, TS_OP_CASE, n, t, &has_else, 4);
}

static inline void pb_in_i(struct pb *p, const int64_t *vals, uint32_t n,
		uint32_t has_null)
{
	uint8_t pl[8 + 8 * 32];

	memcpy(pl, &n, 4);
	memcpy(pl + 4, &has_null, 4);
	memcpy(pl + 8, vals, 8 * n);
	pb_insn(p, TS_OP_IN, 0, T_BOOL, pl, 8 + 8 * n);
}

/* Write the header; returns the program length. */
static inline size_t pb_finish(struct pb *p)
{
	uint16_t ver = TS_EXPR_VERSION, flags = 0;
	uint32_t rs = TEST_ROW_SIZE;

	p->buf[0] = TS_EXPR_MAGIC0;
	p->buf[1] = TS_EXPR_MAGIC1;
	p->buf[2] = TS_EXPR_MAGIC2;
	p->buf[3] = TS_EXPR_MAGIC3;
	memcpy(p->buf + 4, &ver, 2);
	memcpy(p->buf + 6, &flags, 2);
	memcpy(p->buf + 8, &rs, 4);
	memcpy(p->buf + 12, &p->n, 4);
	return p->len;
}

#endif /* TEESPARK_EXPR_TESTS_PROG_BUILDER_H */

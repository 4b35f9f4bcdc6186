/*
 * leaky_expr.h - NEGATIVE CONTROLS for the expression evaluator's checks:
 * deliberately NOT constant-time versions of AND and CASE, compiled with
 * the shipped flags. expr-ct and expr-trace must catch them; if they do
 * not, the checks are broken. Never linked into anything but those tests.
 */
#ifndef TEESPARK_EXPR_TESTS_LEAKY_EXPR_H
#define TEESPARK_EXPR_TESTS_LEAKY_EXPR_H

#include <stddef.h>
#include <stdint.h>

/* AND that short-circuits: b[i] is read only when a[i] is TRUE.
 * NOT constant-time: branches on a[i]. */
void leaky_and(const uint8_t *a, const uint8_t *b, uint8_t *r, size_t n);

/* CASE WHEN c THEN x ELSE y over w-byte values with a branch per row.
 * NOT constant-time: branches on c[i]. */
void leaky_case(const uint8_t *c, const uint8_t *x, const uint8_t *y,
		uint8_t *r, size_t n, size_t w);

#endif

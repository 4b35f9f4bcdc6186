/*
 * test_util.h - tiny harness for the simulator Internal API tests: checks
 * that count failures, a TEE_Panic catcher, hex helpers.
 *
 * The tests link the simulator's internal objects directly with
 * test_stubs.c, whose TEE_Panic longjmps back into EXPECT_PANIC (or aborts
 * when no panic is expected) and whose sim_current_ta_uuid returns a UUID
 * the test chooses.
 */
#ifndef SIM_TEST_UTIL_H
#define SIM_TEST_UTIL_H

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <tee_internal_api.h>

extern int test_failures;
extern int test_checks;
extern sigjmp_buf *test_panic_jmp;
extern TEE_Result test_last_panic;
extern TEE_UUID test_uuid;
extern int test_uuid_valid;

#define CHECK(cond) do { \
	test_checks++; \
	if (!(cond)) { \
		test_failures++; \
		fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, \
			#cond); \
	} \
} while (0)

#define CHECK_RES(expr, want) do { \
	TEE_Result r__ = (expr); \
	test_checks++; \
	if (r__ != (TEE_Result)(want)) { \
		test_failures++; \
		fprintf(stderr, "FAIL %s:%d: %s = 0x%08x, want 0x%08x\n", \
			__FILE__, __LINE__, #expr, r__, \
			(TEE_Result)(want)); \
	} \
} while (0)

#define CHECK_MEM(a, b, n) do { \
	test_checks++; \
	if (memcmp((a), (b), (n))) { \
		test_failures++; \
		fprintf(stderr, "FAIL %s:%d: %s != %s (%zu bytes)\n", \
			__FILE__, __LINE__, #a, #b, (size_t)(n)); \
	} \
} while (0)

/* Runs `stmt` and checks that it calls TEE_Panic. */
#define EXPECT_PANIC(stmt) do { \
	sigjmp_buf jb__; \
	test_checks++; \
	test_panic_jmp = &jb__; \
	if (!sigsetjmp(jb__, 0)) { \
		stmt; \
		test_panic_jmp = NULL; \
		test_failures++; \
		fprintf(stderr, "FAIL %s:%d: no panic from %s\n", __FILE__, \
			__LINE__, #stmt); \
	} \
	test_panic_jmp = NULL; \
} while (0)

/* Parses hex into buf; returns the byte count. */
static inline size_t unhex(uint8_t *buf, const char *hex)
{
	size_t n = 0;

	while (hex[0] && hex[1]) {
		unsigned v;

		sscanf(hex, "%2x", &v);
		buf[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

static inline int is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t acc = 0;

	while (n--)
		acc |= *b++;
	return acc == 0;
}

#define TEST_SUMMARY(name) do { \
	printf("%s: %d checks, %d failures\n", (name), test_checks, \
	       test_failures); \
	return test_failures ? 1 : 0; \
} while (0)

#endif /* SIM_TEST_UTIL_H */

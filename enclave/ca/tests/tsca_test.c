/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsca_test.c - tests of the teespark_ca.h ABI against the simulator's test
 * TA (sim_test_ta.h). Uses only teespark_ca.h, as the Python binding does.
 *
 * Run by `make -C enclave ca-test` with TEESPARK_SIM_TA_PATH pointing at the
 * test TA and TEESPARK_TA_DATA_SIZE = 8 MiB. Tests can be picked by name:
 *   tsca_test [name ...]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim_test_ta.h"
#include "teespark_ca.h"

/* GP codes and origins the tests expect (values from the GP Client API;
 * repeated here because this program deliberately does not include
 * tee_client_api.h). */
#define R_SUCCESS 0x00000000u
#define R_CANCEL 0xFFFF0002u
#define R_BAD_PARAMETERS 0xFFFF0006u
#define R_ITEM_NOT_FOUND 0xFFFF0008u
#define R_OUT_OF_MEMORY 0xFFFF000Cu
#define R_SHORT_BUFFER 0xFFFF0010u
#define R_TARGET_DEAD 0xFFFF3024u
#define O_API 1u
#define O_TEE 3u
#define O_TA 4u

static const uint8_t test_uuid[16] = {
	0x6a, 0xa0, 0xaf, 0x66, 0x85, 0x60, 0x40, 0xfa,
	0x93, 0xd6, 0x80, 0xc6, 0x91, 0x2b, 0x56, 0x0e
};

static int failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, \
			__LINE__, __func__, #cond); \
		failures++; \
	} \
} while (0)

#define CHECK_EQ(a, b) do { \
	unsigned long long a_ = (unsigned long long)(a); \
	unsigned long long b_ = (unsigned long long)(b); \
	if (a_ != b_) { \
		fprintf(stderr, "%s:%d: %s: %s == 0x%llx, expected %s == " \
			"0x%llx\n", __FILE__, __LINE__, __func__, #a, a_, \
			#b, b_); \
		failures++; \
	} \
} while (0)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Independent FNV-1a 64 (the test TA computes the same inside the TA). */
static uint64_t fnv1a64(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void fill_pattern(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static tsca_session *open_test(void)
{
	tsca_session *s = NULL;
	tsca_error err;
	uint32_t r = tsca_open(test_uuid, &s, &err);

	if (r != R_SUCCESS) {
		fprintf(stderr, "open test TA failed: %s\n", err.message);
		exit(2);
	}
	return s;
}

static void set_none(tsca_param p[4])
{
	memset(p, 0, 4 * sizeof(*p));
}

static uint32_t value_out(tsca_session *s, uint32_t cmd, uint32_t *a,
			  uint32_t *b)
{
	tsca_param p[4];
	tsca_error err;
	uint32_t r;

	set_none(p);
	p[0].kind = TSCA_PARAM_VALUE_OUT;
	r = tsca_invoke(s, cmd, p, &err);
	if (a)
		*a = p[0].a;
	if (b)
		*b = p[0].b;
	return r;
}

/* ECHO_XOR through two caller buffers of n bytes; checks the result. */
static void echo_xor_buf(tsca_session *s, size_t n)
{
	uint8_t *in = malloc(n ? n : 1), *out = malloc(n + 16);
	tsca_param p[4];
	tsca_error err;
	uint64_t h;
	size_t i, bad = 0;
	uint32_t r;

	fill_pattern(in, n, (uint32_t)n);
	memset(out, 0xEE, n + 16);
	set_none(p);
	p[0].kind = TSCA_PARAM_BUF_IN;
	p[0].buf = in;
	p[0].size = n;
	p[1].kind = TSCA_PARAM_BUF_OUT;
	p[1].buf = out;
	p[1].size = n + 16;
	p[2].kind = TSCA_PARAM_VALUE_OUT;
	r = tsca_invoke(s, SIM_TEST_CMD_ECHO_XOR, p, &err);
	CHECK_EQ(r, R_SUCCESS);
	CHECK_EQ(err.code, 0);
	CHECK_EQ(err.message[0], '\0');
	CHECK_EQ(p[1].size, n);
	for (i = 0; i < n; i++)
		bad += out[i] != (in[i] ^ 0x5A);
	CHECK_EQ(bad, 0);
	/* The bytes after n must be untouched. */
	for (i = n; i < n + 16; i++)
		bad += out[i] != 0xEE;
	CHECK_EQ(bad, 0);
	h = fnv1a64(in, n);
	CHECK_EQ(p[2].a, (uint32_t)(h >> 32));
	CHECK_EQ(p[2].b, (uint32_t)h);
	free(in);
	free(out);
}

static void test_abi(void)
{
	CHECK_EQ(tsca_abi_version(), TSCA_ABI_VERSION);
	CHECK_EQ(tsca_sizeof_param(), sizeof(tsca_param));
	CHECK_EQ(tsca_sizeof_param(), 48);
	CHECK_EQ(tsca_sizeof_error(), 168);
	CHECK(strcmp(tsca_backend(), "sim") == 0);
	/* NULL handles are ignored. */
	tsca_close(NULL);
	tsca_shm_release(NULL);
	CHECK_EQ(tsca_request_cancel(NULL), 0);
}

static void test_open_not_found(void)
{
	static const uint8_t missing[16] = {
		0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x40, 0x02,
		0x80, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09
	};
	tsca_session *s = (tsca_session *)&s;
	tsca_error err;
	uint32_t r = tsca_open(missing, &s, &err);

	CHECK_EQ(r, R_ITEM_NOT_FOUND);
	CHECK_EQ(err.code, R_ITEM_NOT_FOUND);
	CHECK(s == NULL);
	CHECK(strstr(err.message, "TEEC_OpenSession(deadbeef-0001-4002-"
			"8003-040506070809) failed 0xffff0008") != NULL);
}

static void test_echo_temp(void)
{
	tsca_session *s = open_test();

	echo_xor_buf(s, 1);
	echo_xor_buf(s, 4096);
	echo_xor_buf(s, TSCA_TEMP_MEMREF_MAX);         /* largest temp */
	echo_xor_buf(s, TSCA_TEMP_MEMREF_MAX + 1);     /* bounced via shm */
	echo_xor_buf(s, 3 * TSCA_TEMP_MEMREF_MAX + 7);
	tsca_close(s);
}

static void test_empty_buffers(void)
{
	tsca_session *s = open_test();
	uint8_t dummy[4] = { 1, 2, 3, 4 };
	tsca_param p[4];
	tsca_error err;
	uint32_t r;

	/* n = 0 with NULL/0 buffers: success, hash = offset basis. */
	set_none(p);
	p[0].kind = TSCA_PARAM_BUF_IN;
	p[1].kind = TSCA_PARAM_BUF_OUT;
	p[1].buf = dummy;   /* non-NULL with size 0 travels as NULL */
	p[2].kind = TSCA_PARAM_VALUE_OUT;
	r = tsca_invoke(s, SIM_TEST_CMD_ECHO_XOR, p, &err);
	CHECK_EQ(r, R_SUCCESS);
	CHECK_EQ(p[1].size, 0);
	CHECK_EQ(p[2].a, 0xcbf29ce4u);
	CHECK_EQ(p[2].b, 0x84222325u);
	CHECK_EQ(dummy[0], 1);

	/* NULL with a size is the caller's bug, caught before the TEE. */
	set_none(p);
	p[0].kind = TSCA_PARAM_BUF_IN;
	p[0].size = 10;
	p[1].kind = TSCA_PARAM_BUF_OUT;
	p[2].kind = TSCA_PARAM_VALUE_OUT;
	r = tsca_invoke(s, SIM_TEST_CMD_ECHO_XOR, p, &err);
	CHECK_EQ(r, R_BAD_PARAMETERS);
	CHECK_EQ(err.origin, O_API);
	CHECK(strstr(err.message, "param 0: NULL buffer") != NULL);

	/* reserved must be 0; unknown kinds are rejected. */
	set_none(p);
	p[0].kind = TSCA_PARAM_VALUE_OUT;
	p[0].reserved = 1;
	CHECK_EQ(tsca_invoke(s, SIM_TEST_CMD_GET_PID, p, &err),
		 R_BAD_PARAMETERS);
	set_none(p);
	p[0].kind = 4;
	CHECK_EQ(tsca_invoke(s, SIM_TEST_CMD_GET_PID, p, &err),
		 R_BAD_PARAMETERS);
	CHECK(strstr(err.message, "unknown kind 4") != NULL);
	tsca_close(s);
}

static void test_short_buffer(void)
{
	tsca_session *s = open_test();
	const size_t sizes[] = { 100, TSCA_TEMP_MEMREF_MAX + 100 };
	size_t k;

	for (k = 0; k < 2; k++) {
		size_t n = sizes[k];
		uint8_t *in = calloc(1, n), *out = calloc(1, n);
		tsca_param p[4];
		tsca_error err;
		char want[64];
		uint32_t r;

		/* Too small, then the NULL/0 "how big?" query. */
		set_none(p);
		p[0].kind = TSCA_PARAM_BUF_IN;
		p[0].buf = in;
		p[0].size = n;
		p[1].kind = TSCA_PARAM_BUF_OUT;
		p[1].buf = out;
		p[1].size = n - 1;
		p[2].kind = TSCA_PARAM_VALUE_OUT;
		r = tsca_invoke(s, SIM_TEST_CMD_ECHO_XOR, p, &err);
		CHECK_EQ(r, R_SHORT_BUFFER);
		CHECK_EQ(err.origin, O_TA);
		CHECK_EQ(p[1].size, n);
		snprintf(want, sizeof(want), "param 1 needs %zu bytes", n);
		CHECK(strstr(err.message, want) != NULL);
		CHECK(strstr(err.message, "TEEC_InvokeCommand(cmd 0) failed "
				"0xffff0010 origin 4 (TRUSTED_APP)") != NULL);

		p[1].buf = NULL;
		p[1].size = 0;
		r = tsca_invoke(s, SIM_TEST_CMD_ECHO_XOR, p, &err);
		CHECK_EQ(r, R_SHORT_BUFFER);
		CHECK_EQ(p[1].size, n);
		free(in);
		free(out);
	}
	tsca_close(s);
}

static void test_shm_partial(void)
{
	const size_t size = 1 << 20, n = 300000;
	const size_t in_off = 4096 + 3, out_off = 600000;
	tsca_session *s = open_test();
	tsca_shm *m = NULL, *ro = NULL;
	uint8_t *ptr = NULL, *ref;
	tsca_param p[4];
	tsca_error err;
	size_t i, bad = 0;
	uint64_t h;
	uint32_t r;

	r = tsca_shm_alloc(size, TSCA_SHM_INOUT, &m, (void **)&ptr, &err);
	CHECK_EQ(r, R_SUCCESS);
	CHECK(ptr != NULL);
	CHECK_EQ(tsca_shm_size(m), size);
	fill_pattern(ptr, size, 7);
	ref = malloc(size);
	memcpy(ref, ptr, size);

	set_none(p);
	p[0].kind = TSCA_PARAM_SHM_IN;
	p[0].shm = m;
	p[0].offset = in_off;
	p[0].size = n;
	p[1].kind = TSCA_PARAM_SHM_OUT;
	p[1].shm = m;
	p[1].offset = out_off;
	p[1].size = size - out_off;
	p[2].kind = TSCA_PARAM_VALUE_OUT;
	r = tsca_invoke(s, SIM_TEST_CMD_ECHO_XOR, p, &err);
	CHECK_EQ(r, R_SUCCESS);
	CHECK_EQ(p[1].size, n);
	CHECK_EQ(p[0].size, n);   /* inputs keep their size */
	for (i = 0; i < n; i++)
		bad += ptr[out_off + i] != (ref[in_off + i] ^ 0x5A);
	/* Outside the output range nothing changed. */
	for (i = 0; i < out_off; i++)
		bad += ptr[i] != ref[i];
	for (i = out_off + n; i < size; i++)
		bad += ptr[i] != ref[i];
	CHECK_EQ(bad, 0);
	h = fnv1a64(ref + in_off, n);
	CHECK_EQ(p[2].a, (uint32_t)(h >> 32));
	CHECK_EQ(p[2].b, (uint32_t)h);

	/* A range past the end is refused before reaching the TEE. */
	p[0].offset = size - 10;
	p[0].size = 11;
	r = tsca_invoke(s, SIM_TEST_CMD_ECHO_XOR, p, &err);
	CHECK_EQ(r, R_BAD_PARAMETERS);
	CHECK_EQ(err.origin, O_API);
	CHECK(strstr(err.message, "outside shared memory") != NULL);
	p[0].offset = UINT64_MAX - 2;  /* offset + size overflows */
	p[0].size = 8;
	CHECK_EQ(tsca_invoke(s, SIM_TEST_CMD_ECHO_XOR, p, &err),
		 R_BAD_PARAMETERS);

	/* Writing into input-only shared memory is refused. */
	r = tsca_shm_alloc(64, TSCA_SHM_IN, &ro, NULL, &err);
	CHECK_EQ(r, R_SUCCESS);
	p[0].offset = 0;
	p[0].size = 16;
	p[1].shm = ro;
	p[1].offset = 0;
	p[1].size = 64;
	r = tsca_invoke(s, SIM_TEST_CMD_ECHO_XOR, p, &err);
	CHECK_EQ(r, R_BAD_PARAMETERS);
	CHECK(strstr(err.message, "not allowed by shared memory flags"));

	/* Bad flags. */
	CHECK_EQ(tsca_shm_alloc(64, 0, &ro, NULL, &err), R_BAD_PARAMETERS);
	CHECK_EQ(tsca_shm_alloc(64, 4, &ro, NULL, &err), R_BAD_PARAMETERS);
	CHECK(ro == NULL);

	tsca_shm_release(m);
	free(ref);
	tsca_close(s);
}

static void test_shm_register(void)
{
	const size_t n = 2 << 20;
	tsca_session *s = open_test();
	uint8_t *in = malloc(n), *out = malloc(n);
	tsca_shm *mi = NULL, *mo = NULL;
	tsca_param p[4];
	tsca_error err;
	size_t i, bad = 0;
	uint32_t r;

	fill_pattern(in, n, 99);
	memset(out, 0, n);
	CHECK_EQ(tsca_shm_register(in, n, TSCA_SHM_IN, &mi, &err), R_SUCCESS);
	CHECK_EQ(tsca_shm_register(out, n, TSCA_SHM_OUT, &mo, &err),
		 R_SUCCESS);
	set_none(p);
	p[0].kind = TSCA_PARAM_SHM_IN;
	p[0].shm = mi;
	p[0].size = n;
	p[1].kind = TSCA_PARAM_SHM_OUT;
	p[1].shm = mo;
	p[1].size = n;
	p[2].kind = TSCA_PARAM_VALUE_OUT;
	r = tsca_invoke(s, SIM_TEST_CMD_ECHO_XOR, p, &err);
	CHECK_EQ(r, R_SUCCESS);
	for (i = 0; i < n; i++)
		bad += out[i] != (in[i] ^ 0x5A);
	CHECK_EQ(bad, 0);

	/* The caller may change a registered input between calls. */
	in[0] ^= 0xFF;
	r = tsca_invoke(s, SIM_TEST_CMD_ECHO_XOR, p, &err);
	CHECK_EQ(r, R_SUCCESS);
	CHECK_EQ(out[0], in[0] ^ 0x5A);

	{
		tsca_shm *none = (tsca_shm *)&none;

		CHECK_EQ(tsca_shm_register(NULL, 8, TSCA_SHM_IN, &none, &err),
			 R_BAD_PARAMETERS);
		CHECK(none == NULL);
		CHECK_EQ(tsca_shm_register(in, 0, TSCA_SHM_IN, &none, &err),
			 R_BAD_PARAMETERS);
		CHECK(strstr(err.message, "size 0") != NULL);
	}
	tsca_shm_release(mi);
	tsca_shm_release(mo);
	free(in);
	free(out);
	tsca_close(s);
}

/* VALUES reports the types word the TA received: this checks the mapping
 * of every tsca kind to the GP parameter type. */
static void test_values_and_types(void)
{
	tsca_session *s = open_test();
	uint8_t small[16], *big = calloc(1, TSCA_TEMP_MEMREF_MAX + 1);
	tsca_shm *m = NULL;
	tsca_param p[4];
	tsca_error err;
	uint32_t r;

	CHECK_EQ(tsca_shm_alloc(4096, TSCA_SHM_INOUT, &m, NULL, &err),
		 R_SUCCESS);
	set_none(p);
	p[0].kind = TSCA_PARAM_VALUE_INOUT;
	p[0].a = 41;
	p[0].b = 0x0F0F0F0F;
	p[1].kind = TSCA_PARAM_VALUE_OUT;
	p[2].kind = TSCA_PARAM_BUF_IN;
	p[2].buf = small;
	p[2].size = sizeof(small);
	p[3].kind = TSCA_PARAM_SHM_INOUT;
	p[3].shm = m;
	p[3].size = 100;
	r = tsca_invoke(s, SIM_TEST_CMD_VALUES, p, &err);
	CHECK_EQ(r, R_SUCCESS);
	CHECK_EQ(p[0].a, 42);
	CHECK_EQ(p[0].b, 0xF0F0F0F0u);
	/* The TA sees Internal API types: every memref is 5/6/7. */
	CHECK_EQ(p[1].a, 0x3u | 0x2u << 4 | 0x5u << 8 | 0x7u << 12);
	CHECK_EQ(p[1].b, 0x5A5A);

	/* VALUE_IN is not copied back; big buffers become partial memrefs. */
	set_none(p);
	p[0].kind = TSCA_PARAM_VALUE_INOUT;
	p[1].kind = TSCA_PARAM_VALUE_OUT;
	p[2].kind = TSCA_PARAM_BUF_OUT;
	p[2].buf = big;
	p[2].size = TSCA_TEMP_MEMREF_MAX + 1;
	p[3].kind = TSCA_PARAM_VALUE_IN;
	p[3].a = 5;
	p[3].b = 6;
	r = tsca_invoke(s, SIM_TEST_CMD_VALUES, p, &err);
	CHECK_EQ(r, R_SUCCESS);
	CHECK_EQ(p[1].a, 0x3u | 0x2u << 4 | 0x6u << 8 | 0x1u << 12);
	CHECK_EQ(p[3].a, 5);
	CHECK_EQ(p[3].b, 6);
	tsca_shm_release(m);
	free(big);
	tsca_close(s);
}

/* FILL writes 0xA0+slot into each memref and halves its size: sizes come
 * back for outputs only, and bytes land where the caller pointed. */
static void test_fill_sizes(void)
{
	tsca_session *s = open_test();
	uint8_t out[64], io[32];
	uint8_t *ptr = NULL;
	tsca_shm *m = NULL;
	tsca_param p[4];
	tsca_error err;
	size_t i, bad = 0;
	uint32_t r;

	CHECK_EQ(tsca_shm_alloc(256, TSCA_SHM_INOUT, &m, (void **)&ptr, &err),
		 R_SUCCESS);
	memset(ptr, 0, 256);
	memset(out, 0, sizeof(out));
	memset(io, 0, sizeof(io));
	set_none(p);
	p[0].kind = TSCA_PARAM_BUF_OUT;
	p[0].buf = out;
	p[0].size = sizeof(out);
	p[1].kind = TSCA_PARAM_BUF_INOUT;
	p[1].buf = io;
	p[1].size = sizeof(io);
	p[2].kind = TSCA_PARAM_SHM_OUT;
	p[2].shm = m;
	p[2].offset = 128;
	p[2].size = 100;
	p[3].kind = TSCA_PARAM_VALUE_OUT;
	r = tsca_invoke(s, SIM_TEST_CMD_FILL, p, &err);
	CHECK_EQ(r, R_SUCCESS);
	CHECK_EQ(p[0].size, 32);
	CHECK_EQ(p[1].size, 16);
	CHECK_EQ(p[2].size, 50);
	CHECK_EQ(p[3].a, 0xC3);
	CHECK_EQ(p[3].b, ~0xC3u);
	/* Only the reported size of a temporary memref is defined after the
	 * call (a TEE that copies may copy back just that much). */
	for (i = 0; i < 32; i++)
		bad += out[i] != 0xA0;
	for (i = 0; i < 16; i++)
		bad += io[i] != 0xA1;
	for (i = 0; i < 256; i++)
		bad += (i >= 128 && i < 178) ? ptr[i] != 0xA2 :
		       (i < 128 || i >= 228) ? ptr[i] != 0 : 0;
	CHECK_EQ(bad, 0);
	tsca_shm_release(m);
	tsca_close(s);
}

static void crash_and_reopen(uint32_t cmd)
{
	tsca_session *s = open_test();
	uint32_t pid1 = 0, pid2 = 0, c = 0, r;
	tsca_param p[4];
	tsca_error err;

	CHECK_EQ(value_out(s, SIM_TEST_CMD_GET_PID, &pid1, NULL), R_SUCCESS);
	CHECK(pid1 != 0 && pid1 != (uint32_t)getpid());
	CHECK_EQ(value_out(s, SIM_TEST_CMD_COUNTER_INC, &c, NULL), R_SUCCESS);
	CHECK_EQ(c, 1);
	CHECK_EQ(tsca_session_is_dead(s), 0);

	set_none(p);
	if (cmd == SIM_TEST_CMD_PANIC) {
		p[0].kind = TSCA_PARAM_VALUE_IN;
		p[0].a = 0xBADC0DE;
	}
	r = tsca_invoke(s, cmd, p, &err);
	CHECK_EQ(r, R_TARGET_DEAD);
	CHECK_EQ(err.code, R_TARGET_DEAD);
	CHECK_EQ(err.origin, O_TEE);
	CHECK(strstr(err.message, "failed 0xffff3024 origin 3 (TEE)") != NULL);
	CHECK_EQ(tsca_session_is_dead(s), 1);

	/* A dead session answers without reaching the TEE. */
	r = value_out(s, SIM_TEST_CMD_GET_PID, NULL, NULL);
	CHECK_EQ(r, R_TARGET_DEAD);
	tsca_close(s);

	s = open_test();
	CHECK_EQ(value_out(s, SIM_TEST_CMD_GET_PID, &pid2, NULL), R_SUCCESS);
	CHECK(pid2 != pid1);
	CHECK_EQ(value_out(s, SIM_TEST_CMD_COUNTER_INC, &c, NULL), R_SUCCESS);
	CHECK_EQ(c, 1);
	tsca_close(s);
}

static void test_crash_panic(void)
{
	crash_and_reopen(SIM_TEST_CMD_PANIC);
}

static void test_crash_segfault(void)
{
	crash_and_reopen(SIM_TEST_CMD_SEGFAULT);
}

static void test_crash_abort(void)
{
	crash_and_reopen(SIM_TEST_CMD_ABORT);
}

static void test_out_of_memory(void)
{
	tsca_session *s = open_test();
	uint32_t hi = 0, lo = 0, r;
	uint64_t limit;
	tsca_param p[4];
	tsca_error err;

	CHECK_EQ(value_out(s, SIM_TEST_CMD_GET_HEAP_LIMIT, &hi, &lo),
		 R_SUCCESS);
	limit = (uint64_t)hi << 32 | lo;
	CHECK_EQ(limit, 8u << 20);   /* TEESPARK_TA_DATA_SIZE from ca-test */

	set_none(p);
	p[0].kind = TSCA_PARAM_VALUE_IN;
	p[0].a = (uint32_t)(limit >> 20) + 1;
	r = tsca_invoke(s, SIM_TEST_CMD_ALLOC, p, &err);
	CHECK_EQ(r, R_OUT_OF_MEMORY);
	CHECK_EQ(tsca_session_is_dead(s), 0);
	p[0].a = 1;
	CHECK_EQ(tsca_invoke(s, SIM_TEST_CMD_ALLOC, p, &err), R_SUCCESS);
	tsca_close(s);
}

struct sleeper {
	tsca_session *s;
	uint32_t ms;
	uint32_t result;
	volatile int done;
	double t0, t1;
};

static void *sleeper_main(void *arg)
{
	struct sleeper *z = arg;
	tsca_param p[4];
	tsca_error err;

	set_none(p);
	p[0].kind = TSCA_PARAM_VALUE_IN;
	p[0].a = z->ms;
	z->t0 = now_s();
	z->result = tsca_invoke(z->s, SIM_TEST_CMD_SLEEP, p, &err);
	z->t1 = now_s();
	__atomic_store_n(&z->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_cancel(void)
{
	struct sleeper z = { .ms = 10000 };
	int sent = 0;
	pthread_t th;
	double t0;

	z.s = open_test();
	CHECK_EQ(tsca_request_cancel(z.s), 0);   /* nothing running */
	t0 = now_s();
	pthread_create(&th, NULL, sleeper_main, &z);
	/* Repeat until the call ends: a request that lands before the TA
	 * started waiting is lost (cancellation is of calls in progress). */
	while (!__atomic_load_n(&z.done, __ATOMIC_ACQUIRE) &&
	       now_s() - t0 < 8.0) {
		usleep(20000);
		sent += (int)tsca_request_cancel(z.s);
	}
	pthread_join(th, NULL);
	CHECK(sent >= 1);
	CHECK_EQ(z.result, R_CANCEL);
	CHECK(z.t1 - t0 < 3.0);
	/* The session is still usable. */
	CHECK_EQ(value_out(z.s, SIM_TEST_CMD_GET_PID, NULL, NULL), R_SUCCESS);
	tsca_close(z.s);
}

static void test_concurrency(void)
{
	struct sleeper a = { .ms = 600 }, b = { .ms = 600 };
	pthread_t ta, tb;
	double t0, both_sessions, one_session;

	/* Two sessions = two TA instances: the calls overlap. */
	a.s = open_test();
	b.s = open_test();
	t0 = now_s();
	pthread_create(&ta, NULL, sleeper_main, &a);
	pthread_create(&tb, NULL, sleeper_main, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	both_sessions = now_s() - t0;
	CHECK_EQ(a.result, R_SUCCESS);
	CHECK_EQ(b.result, R_SUCCESS);
	CHECK(both_sessions < 1.1);
	CHECK(a.t0 < b.t1 && b.t0 < a.t1);

	/* One session: the calls are serialized. */
	b.s = a.s;
	t0 = now_s();
	pthread_create(&ta, NULL, sleeper_main, &a);
	pthread_create(&tb, NULL, sleeper_main, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	one_session = now_s() - t0;
	CHECK_EQ(a.result, R_SUCCESS);
	CHECK_EQ(b.result, R_SUCCESS);
	CHECK(one_session >= 1.15);
	tsca_close(a.s);
	tsca_close(b.s == a.s ? NULL : b.s);
}

/* A child of fork() must not use the parent's session or shared memory,
 * but can open its own. */
static void test_fork(void)
{
	tsca_session *s = open_test();
	tsca_shm *m = NULL;
	tsca_error err;
	uint32_t ppid_ta = 0;
	int status = 0;
	pid_t child;

	CHECK_EQ(tsca_shm_alloc(64, TSCA_SHM_INOUT, &m, NULL, &err),
		 R_SUCCESS);
	CHECK_EQ(value_out(s, SIM_TEST_CMD_GET_PID, &ppid_ta, NULL),
		 R_SUCCESS);
	fflush(NULL);
	child = fork();
	if (child == 0) {
		tsca_param p[4];
		tsca_session *c;
		uint32_t pid = 0;
		int bad = 0;

		set_none(p);
		p[0].kind = TSCA_PARAM_VALUE_OUT;
		bad |= tsca_invoke(s, SIM_TEST_CMD_GET_PID, p, &err) !=
		       0xFFFF0007u;
		bad |= strstr(err.message, "opened before fork") == NULL;
		c = open_test();
		bad |= value_out(c, SIM_TEST_CMD_GET_PID, &pid, NULL) != 0;
		bad |= pid == ppid_ta || pid == 0;
		tsca_close(c);
		tsca_close(s);          /* frees only; parent keeps its own */
		tsca_shm_release(m);
		_exit(bad);
	}
	waitpid(child, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* The parent's session survived the child. */
	CHECK_EQ(value_out(s, SIM_TEST_CMD_GET_PID, &ppid_ta, NULL),
		 R_SUCCESS);
	tsca_shm_release(m);
	tsca_close(s);
}

struct test {
	const char *name;
	void (*fn)(void);
};

static const struct test tests[] = {
	{ "abi", test_abi },
	{ "open_not_found", test_open_not_found },
	{ "echo_temp", test_echo_temp },
	{ "empty_buffers", test_empty_buffers },
	{ "short_buffer", test_short_buffer },
	{ "shm_partial", test_shm_partial },
	{ "shm_register", test_shm_register },
	{ "values_and_types", test_values_and_types },
	{ "fill_sizes", test_fill_sizes },
	{ "crash_panic", test_crash_panic },
	{ "crash_segfault", test_crash_segfault },
	{ "crash_abort", test_crash_abort },
	{ "out_of_memory", test_out_of_memory },
	{ "cancel", test_cancel },
	{ "concurrency", test_concurrency },
	{ "fork", test_fork },
};

int main(int argc, char **argv)
{
	size_t i, ran = 0;
	int j;

	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		int pick = argc < 2;
		int before = failures;

		for (j = 1; j < argc; j++)
			pick |= strcmp(argv[j], tests[i].name) == 0;
		if (!pick)
			continue;
		tests[i].fn();
		ran++;
		printf("%-20s %s\n", tests[i].name,
		       failures == before ? "ok" : "FAILED");
		fflush(stdout);
	}
	if (ran == 0) {
		fprintf(stderr, "no test matched\n");
		return 2;
	}
	printf("tsca_test: %zu tests, %d failed checks\n", ran, failures);
	return failures ? 1 : 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_test.c - tests of the host simulator's process model through the GP
 * Client API (libteec.so + teespark-ta-host + the test TA).
 *
 *   TEESPARK_SIM_TA_PATH=build/test-ta build/tests/sim_test [name...]
 *
 * Every expected value is computed here independently (FNV-1a, XOR, the
 * heap accounting rule), and the timing checks come in pairs so a check
 * that cannot fail is noticed: concurrent sessions must overlap AND calls on
 * one session must not; a cancelled sleep must end early AND a masked one
 * must not.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <tee_client_api.h>

#include <sim_test_ta.h>
#include <user_ta_header_defines.h>

static TEEC_Context ctx;
static const TEEC_UUID test_uuid = SIM_TEST_TA_UUID;
static int failures;
static const char *current;

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "FAIL %s: %s:%d: %s\n", current, \
				__FILE__, __LINE__, #cond); \
			failures++; \
			return; \
		} \
	} while (0)

#define CHECK_RES(res, origin, want_res, want_origin) \
	do { \
		if ((res) != (want_res) || (origin) != (want_origin)) { \
			fprintf(stderr, "FAIL %s: %s:%d: got 0x%08" PRIx32 \
				"/%" PRIu32 ", want 0x%08" PRIx32 "/%" PRIu32 \
				"\n", current, __FILE__, __LINE__, \
				(uint32_t)(res), (uint32_t)(origin), \
				(uint32_t)(want_res), (uint32_t)(want_origin)); \
			failures++; \
			return; \
		} \
	} while (0)

#define OK TEEC_SUCCESS
#define TA TEEC_ORIGIN_TRUSTED_APP

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static uint64_t fnv1a64(const uint8_t *d, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= d[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void fill_pattern(uint8_t *b, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[i] = (uint8_t)x;
	}
}

static TEEC_Result open_s(TEEC_Session *s, uint32_t *origin)
{
	return TEEC_OpenSession(&ctx, s, &test_uuid, TEEC_LOGIN_PUBLIC, NULL,
				NULL, origin);
}

/* Invokes a command with one value parameter in slot 0. */
static TEEC_Result call_val(TEEC_Session *s, uint32_t cmd, uint32_t type,
			    uint32_t a, uint32_t b, TEEC_Value *out,
			    uint32_t *origin)
{
	TEEC_Operation op;
	TEEC_Result res;

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(type, TEEC_NONE, TEEC_NONE,
					 TEEC_NONE);
	op.params[0].value.a = a;
	op.params[0].value.b = b;
	res = TEEC_InvokeCommand(s, cmd, &op, origin);
	if (out)
		*out = op.params[0].value;
	return res;
}

static pid_t ta_pid(TEEC_Session *s)
{
	TEEC_Value v = { 0, 0 };
	uint32_t o;

	if (call_val(s, SIM_TEST_CMD_GET_PID, TEEC_VALUE_OUTPUT, 0, 0, &v,
		     &o) != OK)
		return -1;
	return (pid_t)v.a;
}

/* True if pid no longer exists at all (not even as a zombie). */
static bool pid_gone(pid_t pid)
{
	return kill(pid, 0) < 0 && errno == ESRCH;
}

/* ECHO_XOR through temp memrefs of n bytes; checks output and hash. */
static bool echo_ok(TEEC_Session *s, size_t n)
{
	uint8_t *in = malloc(n ? n : 1), *out = malloc(n ? n : 1);
	TEEC_Operation op;
	uint32_t o;
	uint64_t h;
	size_t i;
	bool ok;

	fill_pattern(in, n, (uint32_t)n);
	memset(out, 0, n ? n : 1);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT,
					 TEEC_MEMREF_TEMP_OUTPUT,
					 TEEC_VALUE_OUTPUT, TEEC_NONE);
	op.params[0].tmpref.buffer = in;
	op.params[0].tmpref.size = n;
	op.params[1].tmpref.buffer = out;
	op.params[1].tmpref.size = n;
	ok = TEEC_InvokeCommand(s, SIM_TEST_CMD_ECHO_XOR, &op, &o) == OK &&
	     op.params[1].tmpref.size == n;
	h = fnv1a64(in, n);
	ok = ok && op.params[2].value.a == (uint32_t)(h >> 32) &&
	     op.params[2].value.b == (uint32_t)h;
	for (i = 0; ok && i < n; i++)
		ok = out[i] == (in[i] ^ 0x5A);
	free(in);
	free(out);
	return ok;
}

/* ------------------------------------------------------------------------ */

static void t_open_invoke_close(void)
{
	TEEC_Session s;
	uint32_t o = 0;
	pid_t pid;

	CHECK_RES(open_s(&s, &o), o, OK, TA);
	pid = ta_pid(&s);
	CHECK(pid > 0 && pid != getpid());
	CHECK(!pid_gone(pid));
	CHECK(echo_ok(&s, 0));
	CHECK(echo_ok(&s, 1));
	CHECK(echo_ok(&s, 1000));
	CHECK(echo_ok(&s, 100000));
	TEEC_CloseSession(&s);
	CHECK(pid_gone(pid));	/* exited and reaped: no zombie */
}

static void t_ta_not_found(void)
{
	TEEC_UUID other = test_uuid;
	TEEC_Session s;
	uint32_t o = 0;
	char *saved;

	other.clockSeqAndNode[7] ^= 1;
	CHECK_RES(TEEC_OpenSession(&ctx, &s, &other, TEEC_LOGIN_PUBLIC, NULL,
				   NULL, &o), o,
		  TEEC_ERROR_ITEM_NOT_FOUND, TEEC_ORIGIN_COMMS);
	/* The search path is honoured: an empty directory has no TA. */
	saved = strdup(getenv("TEESPARK_SIM_TA_PATH"));
	setenv("TEESPARK_SIM_TA_PATH", "/nonexistent:/tmp", 1);
	CHECK_RES(open_s(&s, &o), o, TEEC_ERROR_ITEM_NOT_FOUND,
		  TEEC_ORIGIN_COMMS);
	/* ...and a later entry in the list is found. */
	{
		char path[4096];

		snprintf(path, sizeof(path), "/nonexistent::%s", saved);
		setenv("TEESPARK_SIM_TA_PATH", path, 1);
	}
	CHECK_RES(open_s(&s, &o), o, OK, TA);
	TEEC_CloseSession(&s);
	setenv("TEESPARK_SIM_TA_PATH", saved, 1);
	free(saved);
}

static void t_context_and_shm_args(void)
{
	TEEC_Context c2;
	TEEC_SharedMemory shm;
	uint8_t buf[16];

	CHECK(TEEC_InitializeContext("some-other-tee", &c2) ==
	      TEEC_ERROR_ITEM_NOT_FOUND);
	CHECK(TEEC_InitializeContext(NULL, NULL) == TEEC_ERROR_BAD_PARAMETERS);
	CHECK(TEEC_InitializeContext("optee-tz", &c2) == OK);
	TEEC_FinalizeContext(&c2);
	{
		TEEC_Session s;
		uint32_t o = 0;

		/* A finalised context opens nothing. */
		CHECK_RES(TEEC_OpenSession(&c2, &s, &test_uuid,
					   TEEC_LOGIN_PUBLIC, NULL, NULL, &o),
			  o, TEEC_ERROR_BAD_PARAMETERS, TEEC_ORIGIN_API);
	}

	memset(&shm, 0, sizeof(shm));
	shm.buffer = buf;
	shm.size = sizeof(buf);
	shm.flags = 0;
	CHECK(TEEC_RegisterSharedMemory(&ctx, &shm) ==
	      TEEC_ERROR_BAD_PARAMETERS);
	shm.flags = 4;
	CHECK(TEEC_RegisterSharedMemory(&ctx, &shm) ==
	      TEEC_ERROR_BAD_PARAMETERS);
	shm.flags = TEEC_MEM_INPUT | 4;
	CHECK(TEEC_AllocateSharedMemory(&ctx, &shm) ==
	      TEEC_ERROR_BAD_PARAMETERS);
	shm.flags = TEEC_MEM_INPUT;
	shm.buffer = NULL;
	CHECK(TEEC_RegisterSharedMemory(&ctx, &shm) ==
	      TEEC_ERROR_BAD_PARAMETERS);
	/* Size 0 is treated as 8. */
	shm.buffer = buf;
	shm.size = 0;
	CHECK(TEEC_RegisterSharedMemory(&ctx, &shm) == OK);
	CHECK(shm.imp.alloced_size == 8);
	TEEC_ReleaseSharedMemory(&shm);
	memset(&shm, 0, sizeof(shm));
	shm.flags = TEEC_MEM_OUTPUT;
	CHECK(TEEC_AllocateSharedMemory(&ctx, &shm) == OK);
	CHECK(shm.buffer != NULL && shm.imp.alloced_size == 8);
	memset(shm.buffer, 1, 8);	/* really 8 writable bytes */
	TEEC_ReleaseSharedMemory(&shm);
	CHECK(shm.buffer == NULL);
}

static void t_marshalling_errors(void)
{
	TEEC_SharedMemory in_only, both;
	uint8_t buf[64];
	TEEC_Operation op;
	TEEC_Session s;
	uint32_t o;

	CHECK_RES(open_s(&s, &o), o, OK, TA);
	memset(&in_only, 0, sizeof(in_only));
	in_only.buffer = buf;
	in_only.size = sizeof(buf);
	in_only.flags = TEEC_MEM_INPUT;
	CHECK(TEEC_RegisterSharedMemory(&ctx, &in_only) == OK);
	memset(&both, 0, sizeof(both));
	both.size = 64;
	both.flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
	CHECK(TEEC_AllocateSharedMemory(&ctx, &both) == OK);

	/* NULL temp buffer with size > 0. */
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, 0, 0, 0);
	op.params[0].tmpref.size = 1;
	o = 0;
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_FILL, &op, &o), o,
		  TEEC_ERROR_BAD_PARAMETERS, TEEC_ORIGIN_API);
	/* Undefined parameter types. */
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_NONE, 4, 0, 0);
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_FILL, &op, &o), o,
		  TEEC_ERROR_BAD_PARAMETERS, TEEC_ORIGIN_API);
	op.paramTypes = TEEC_PARAM_TYPES(0, 0, 0, 0xB);
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_FILL, &op, &o), o,
		  TEEC_ERROR_BAD_PARAMETERS, TEEC_ORIGIN_API);
	/* WHOLE / PARTIAL without a parent. */
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, 0, 0, 0);
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_FILL, &op, &o), o,
		  TEEC_ERROR_BAD_PARAMETERS, TEEC_ORIGIN_API);
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_PARTIAL_INPUT, 0, 0, 0);
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_FILL, &op, &o), o,
		  TEEC_ERROR_BAD_PARAMETERS, TEEC_ORIGIN_API);
	/* PARTIAL out of bounds, including offset + size overflow. */
	op.params[0].memref.parent = &both;
	op.params[0].memref.offset = 60;
	op.params[0].memref.size = 5;
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_FILL, &op, &o), o,
		  TEEC_ERROR_BAD_PARAMETERS, TEEC_ORIGIN_API);
	op.params[0].memref.offset = 65;
	op.params[0].memref.size = 0;
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_FILL, &op, &o), o,
		  TEEC_ERROR_BAD_PARAMETERS, TEEC_ORIGIN_API);
	op.params[0].memref.offset = 8;
	op.params[0].memref.size = SIZE_MAX - 4;
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_FILL, &op, &o), o,
		  TEEC_ERROR_BAD_PARAMETERS, TEEC_ORIGIN_API);
	/* Exactly at the end is fine (control for the checks above). */
	op.params[0].memref.offset = 60;
	op.params[0].memref.size = 4;
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_FILL, &op, &o), o,
		  OK, TA);
	/* Direction must match the parent's flags. */
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_PARTIAL_OUTPUT, 0, 0, 0);
	op.params[0].memref.parent = &in_only;
	op.params[0].memref.offset = 0;
	op.params[0].memref.size = 4;
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_FILL, &op, &o), o,
		  TEEC_ERROR_BAD_PARAMETERS, TEEC_ORIGIN_API);
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_PARTIAL_INOUT, 0, 0, 0);
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_FILL, &op, &o), o,
		  TEEC_ERROR_BAD_PARAMETERS, TEEC_ORIGIN_API);
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_PARTIAL_INPUT, 0, 0, 0);
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_FILL, &op, &o), o,
		  OK, TA);
	/* Released memory is refused. */
	TEEC_ReleaseSharedMemory(&in_only);
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_FILL, &op, &o), o,
		  TEEC_ERROR_BAD_PARAMETERS, TEEC_ORIGIN_API);
	/* The session survived all of it. */
	CHECK(echo_ok(&s, 100));
	TEEC_ReleaseSharedMemory(&both);
	TEEC_CloseSession(&s);
}

static void t_null_operation(void)
{
	TEEC_Session s;
	uint32_t o;

	CHECK_RES(open_s(&s, &o), o, OK, TA);
	/* NULL operation = four NONE parameters. */
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_RELEASE_ALLOC, NULL, &o),
		  o, OK, TA);
	/* The TA saw NONE types: GET_PID wants VALUE_OUTPUT and refuses. */
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_GET_PID, NULL, &o), o,
		  TEEC_ERROR_BAD_PARAMETERS, TA);
	CHECK_RES(TEEC_InvokeCommand(&s, 999, NULL, &o), o,
		  TEEC_ERROR_NOT_SUPPORTED, TA);
	/* returnOrigin may be NULL. */
	CHECK(TEEC_InvokeCommand(&s, SIM_TEST_CMD_RELEASE_ALLOC, NULL, NULL) ==
	      OK);
	TEEC_CloseSession(&s);
}

static void t_values_and_types(void)
{
	TEEC_SharedMemory in_shm;
	uint8_t buf[32];
	TEEC_Operation op;
	TEEC_Session s;
	uint32_t o;

	CHECK_RES(open_s(&s, &o), o, OK, TA);
	memset(&in_shm, 0, sizeof(in_shm));
	in_shm.buffer = buf;
	in_shm.size = sizeof(buf);
	in_shm.flags = TEEC_MEM_INPUT;
	CHECK(TEEC_RegisterSharedMemory(&ctx, &in_shm) == OK);

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INOUT, TEEC_VALUE_OUTPUT,
					 TEEC_MEMREF_WHOLE,
					 TEEC_VALUE_INPUT);
	op.params[0].value.a = 5;
	op.params[0].value.b = 0x0F;
	op.params[1].value.a = 0xdead;
	op.params[2].memref.parent = &in_shm;
	op.params[3].value.a = 77;
	op.params[3].value.b = 78;
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_VALUES, &op, &o), o,
		  OK, TA);
	CHECK(op.params[0].value.a == 6 && op.params[0].value.b == ~0x0Fu);
	/* TEEC -> TEE type mapping: WHOLE on an input-only parent is
	 * MEMREF_INPUT (5). */
	CHECK(op.params[1].value.a == TEEC_PARAM_TYPES(3, 2, 5, 1));
	CHECK(op.params[1].value.b == 0x5A5A);
	CHECK(op.params[3].value.a == 77 && op.params[3].value.b == 78);

	/* PARTIAL/TEMP kinds map to MEMREF_{INPUT,OUTPUT,INOUT}. */
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INOUT, TEEC_VALUE_OUTPUT,
					 TEEC_MEMREF_PARTIAL_INPUT,
					 TEEC_MEMREF_TEMP_INOUT);
	op.params[2].memref.parent = &in_shm;
	op.params[2].memref.size = 4;
	op.params[3].tmpref.buffer = buf;
	op.params[3].tmpref.size = 4;
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_VALUES, &op, &o), o,
		  OK, TA);
	CHECK(op.params[1].value.a == TEEC_PARAM_TYPES(3, 2, 5, 7));

	/* FILL writes every value slot; only OUTPUT/INOUT come back. */
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, TEEC_VALUE_OUTPUT,
					 TEEC_VALUE_INOUT, TEEC_NONE);
	op.params[0].value.a = 1;
	op.params[0].value.b = 2;
	op.params[3].value.a = 9;
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_FILL, &op, &o), o,
		  OK, TA);
	CHECK(op.params[0].value.a == 1 && op.params[0].value.b == 2);
	CHECK(op.params[1].value.a == 0xC1 && op.params[1].value.b == ~0xC1u);
	CHECK(op.params[2].value.a == 0xC2 && op.params[2].value.b == ~0xC2u);
	CHECK(op.params[3].value.a == 9);	/* NONE slot untouched */
	TEEC_ReleaseSharedMemory(&in_shm);
	TEEC_CloseSession(&s);
}

static bool all_bytes(const uint8_t *b, size_t n, uint8_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != v)
			return false;
	return true;
}

static void t_temp_memrefs(void)
{
	uint8_t a[100], b[100], c[100];
	TEEC_Operation op;
	TEEC_Session s;
	uint32_t o;

	CHECK_RES(open_s(&s, &o), o, OK, TA);
	memset(a, 0x11, sizeof(a));
	memset(b, 0x22, sizeof(b));
	memset(c, 0x33, sizeof(c));
	memset(&op, 0, sizeof(op));
	/* FILL: TA memsets each memref with 0xA0 + slot, then halves size. */
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT,
					 TEEC_MEMREF_TEMP_OUTPUT,
					 TEEC_MEMREF_TEMP_INOUT,
					 TEEC_MEMREF_TEMP_OUTPUT);
	op.params[0].tmpref.buffer = a;
	op.params[0].tmpref.size = 100;
	op.params[1].tmpref.buffer = b;
	op.params[1].tmpref.size = 100;
	op.params[2].tmpref.buffer = c;
	op.params[2].tmpref.size = 100;
	op.params[3].tmpref.buffer = NULL;	/* NULL memref */
	op.params[3].tmpref.size = 0;
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_FILL, &op, &o), o,
		  OK, TA);
	/* Input: neither bytes nor size come back. */
	CHECK(all_bytes(a, 100, 0x11) && op.params[0].tmpref.size == 100);
	/* Output/inout: the reported 50 bytes come back, the rest not. */
	CHECK(op.params[1].tmpref.size == 50);
	CHECK(all_bytes(b, 50, 0xA1) && all_bytes(b + 50, 50, 0x22));
	CHECK(op.params[2].tmpref.size == 50);
	CHECK(all_bytes(c, 50, 0xA2) && all_bytes(c + 50, 50, 0x33));
	CHECK(op.params[3].tmpref.size == 0 && !op.params[3].tmpref.buffer);
	/* started is set by the implementation. */
	CHECK(op.started == 1);
	TEEC_CloseSession(&s);
}

static void t_short_buffer(void)
{
	uint8_t in[100], out[10];
	TEEC_Operation op;
	TEEC_Session s;
	uint32_t o;

	CHECK_RES(open_s(&s, &o), o, OK, TA);
	fill_pattern(in, sizeof(in), 7);
	memset(out, 0xEE, sizeof(out));
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT,
					 TEEC_MEMREF_TEMP_OUTPUT,
					 TEEC_VALUE_OUTPUT, TEEC_NONE);
	op.params[0].tmpref.buffer = in;
	op.params[0].tmpref.size = sizeof(in);
	op.params[1].tmpref.buffer = out;
	op.params[1].tmpref.size = sizeof(out);
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_ECHO_XOR, &op, &o), o,
		  TEEC_ERROR_SHORT_BUFFER, TA);
	CHECK(op.params[1].tmpref.size == 100);	/* required size */
	CHECK(all_bytes(out, sizeof(out), 0xEE));	/* nothing copied */
	/* Query idiom: NULL buffer, size 0. */
	op.params[1].tmpref.buffer = NULL;
	op.params[1].tmpref.size = 0;
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_ECHO_XOR, &op, &o), o,
		  TEEC_ERROR_SHORT_BUFFER, TA);
	CHECK(op.params[1].tmpref.size == 100);
	TEEC_CloseSession(&s);
}

static void t_registered_memrefs(void)
{
	enum { N = 4096 };
	uint8_t *io = malloc(N), *ro = malloc(N);
	TEEC_SharedMemory shm_io, shm_ro, shm_alloc;
	TEEC_Operation op;
	TEEC_Session s;
	uint32_t o;
	uint64_t h;
	size_t i;

	CHECK_RES(open_s(&s, &o), o, OK, TA);
	memset(io, 0x11, N);
	memset(ro, 0x22, N);
	memset(&shm_io, 0, sizeof(shm_io));
	shm_io.buffer = io;
	shm_io.size = N;
	shm_io.flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
	memset(&shm_ro, 0, sizeof(shm_ro));
	shm_ro.buffer = ro;
	shm_ro.size = N;
	shm_ro.flags = TEEC_MEM_INPUT;
	CHECK(TEEC_RegisterSharedMemory(&ctx, &shm_io) == OK);
	CHECK(TEEC_RegisterSharedMemory(&ctx, &shm_ro) == OK);

	/* WHOLE: size written back only for a parent with MEM_OUTPUT. */
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_MEMREF_WHOLE,
					 TEEC_NONE, TEEC_NONE);
	op.params[0].memref.parent = &shm_io;
	op.params[0].memref.size = 12345;
	op.params[1].memref.parent = &shm_ro;
	op.params[1].memref.size = 12345;
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_FILL, &op, &o), o,
		  OK, TA);
	CHECK(op.params[0].memref.size == N / 2);
	CHECK(all_bytes(io, N / 2, 0xA0) && all_bytes(io + N / 2, N / 2, 0x11));
	CHECK(op.params[1].memref.size == 12345);
	CHECK(all_bytes(ro, N, 0x22));

	/* PARTIAL: offset honoured, size written back for OUTPUT/INOUT. */
	memset(io, 0x11, N);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_PARTIAL_INOUT,
					 TEEC_MEMREF_PARTIAL_INPUT,
					 TEEC_MEMREF_PARTIAL_OUTPUT, TEEC_NONE);
	op.params[0].memref.parent = &shm_io;
	op.params[0].memref.offset = 100;
	op.params[0].memref.size = 200;
	op.params[1].memref.parent = &shm_ro;
	op.params[1].memref.offset = 8;
	op.params[1].memref.size = 16;
	op.params[2].memref.parent = &shm_io;
	op.params[2].memref.offset = 1000;
	op.params[2].memref.size = 10;
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_FILL, &op, &o), o,
		  OK, TA);
	CHECK(op.params[0].memref.size == 100);
	CHECK(op.params[1].memref.size == 16);
	CHECK(op.params[2].memref.size == 5);
	CHECK(all_bytes(io, 100, 0x11));
	CHECK(all_bytes(io + 100, 100, 0xA0));
	CHECK(all_bytes(io + 200, 800, 0x11));
	CHECK(all_bytes(io + 1000, 5, 0xA2));
	CHECK(all_bytes(io + 1005, N - 1005, 0x11));
	CHECK(all_bytes(ro, N, 0x22));

	/* Registered input changes between calls are seen (copy-in). */
	fill_pattern(ro, N, 3);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE,
					 TEEC_MEMREF_PARTIAL_OUTPUT,
					 TEEC_VALUE_OUTPUT, TEEC_NONE);
	op.params[0].memref.parent = &shm_ro;
	op.params[1].memref.parent = &shm_io;
	op.params[1].memref.size = N;
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_ECHO_XOR, &op, &o), o,
		  OK, TA);
	h = fnv1a64(ro, N);
	CHECK(op.params[2].value.a == (uint32_t)(h >> 32) &&
	      op.params[2].value.b == (uint32_t)h);
	for (i = 0; i < N; i++)
		CHECK(io[i] == (ro[i] ^ 0x5A));

	/* Allocated memory is shared, not copied: PARTIAL_INPUT and
	 * PARTIAL_OUTPUT of the same block. */
	memset(&shm_alloc, 0, sizeof(shm_alloc));
	shm_alloc.size = 2 * N;
	shm_alloc.flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
	CHECK(TEEC_AllocateSharedMemory(&ctx, &shm_alloc) == OK);
	fill_pattern(shm_alloc.buffer, N, 4);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_PARTIAL_INPUT,
					 TEEC_MEMREF_PARTIAL_OUTPUT,
					 TEEC_VALUE_OUTPUT, TEEC_NONE);
	op.params[0].memref.parent = &shm_alloc;
	op.params[0].memref.size = N;
	op.params[1].memref.parent = &shm_alloc;
	op.params[1].memref.offset = N;
	op.params[1].memref.size = N;
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_ECHO_XOR, &op, &o), o,
		  OK, TA);
	for (i = 0; i < N; i++)
		CHECK(((uint8_t *)shm_alloc.buffer)[N + i] ==
		      (((uint8_t *)shm_alloc.buffer)[i] ^ 0x5A));

	TEEC_ReleaseSharedMemory(&shm_alloc);
	TEEC_ReleaseSharedMemory(&shm_io);
	TEEC_ReleaseSharedMemory(&shm_ro);
	TEEC_CloseSession(&s);
	free(io);
	free(ro);
}

/* 64 MiB in, 64 MiB out, through allocated or registered memory. */
static void big_round_trip(bool allocate)
{
	const size_t n = 64u << 20;
	TEEC_SharedMemory in, out;
	uint8_t *bin = NULL, *bout = NULL;
	TEEC_Operation op;
	TEEC_Session s;
	uint32_t o;
	uint64_t h;
	size_t i;

	CHECK_RES(open_s(&s, &o), o, OK, TA);
	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	in.size = n;
	in.flags = TEEC_MEM_INPUT;
	out.size = n;
	out.flags = TEEC_MEM_OUTPUT;
	if (allocate) {
		CHECK(TEEC_AllocateSharedMemory(&ctx, &in) == OK);
		CHECK(TEEC_AllocateSharedMemory(&ctx, &out) == OK);
	} else {
		bin = malloc(n);
		bout = malloc(n);
		CHECK(bin && bout);
		in.buffer = bin;
		out.buffer = bout;
		CHECK(TEEC_RegisterSharedMemory(&ctx, &in) == OK);
		CHECK(TEEC_RegisterSharedMemory(&ctx, &out) == OK);
	}
	fill_pattern(in.buffer, n, allocate ? 11 : 12);
	memset(out.buffer, 0, n);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, TEEC_MEMREF_WHOLE,
					 TEEC_VALUE_OUTPUT, TEEC_NONE);
	op.params[0].memref.parent = &in;
	op.params[1].memref.parent = &out;
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_ECHO_XOR, &op, &o), o,
		  OK, TA);
	CHECK(op.params[1].memref.size == n);
	h = fnv1a64(in.buffer, n);
	CHECK(op.params[2].value.a == (uint32_t)(h >> 32) &&
	      op.params[2].value.b == (uint32_t)h);
	for (i = 0; i < n; i++)
		if (((uint8_t *)out.buffer)[i] !=
		    (((uint8_t *)in.buffer)[i] ^ 0x5A))
			break;
	CHECK(i == n);
	TEEC_ReleaseSharedMemory(&in);
	TEEC_ReleaseSharedMemory(&out);
	free(bin);
	free(bout);
	TEEC_CloseSession(&s);
}

static void t_shm_64mib_allocated(void)
{
	big_round_trip(true);
}

static void t_shm_64mib_registered(void)
{
	big_round_trip(false);
}

static void t_large_temp_memref(void)
{
	TEEC_Session s;
	uint32_t o;

	CHECK_RES(open_s(&s, &o), o, OK, TA);
	CHECK(echo_ok(&s, 20u << 20));	/* above the arena's keep limit */
	CHECK(echo_ok(&s, 1000));
	CHECK(echo_ok(&s, (3u << 20) + 7));
	TEEC_CloseSession(&s);
}

/* Counts the TA host's mappings whose name contains `what`. */
static int count_maps(pid_t pid, const char *what)
{
	char path[64], line[512];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, what))
			n++;
	fclose(f);
	return n;
}

static void t_release_unmaps_in_ta(void)
{
	TEEC_SharedMemory shm;
	TEEC_Operation op;
	TEEC_Session s;
	uint32_t o;
	pid_t pid;
	int i, before;

	CHECK_RES(open_s(&s, &o), o, OK, TA);
	pid = ta_pid(&s);
	before = count_maps(pid, "teespark-shm");
	CHECK(before == 0);
	for (i = 0; i < 20; i++) {
		memset(&shm, 0, sizeof(shm));
		shm.size = 1 << 16;
		shm.flags = TEEC_MEM_INPUT | TEEC_MEM_OUTPUT;
		CHECK(TEEC_AllocateSharedMemory(&ctx, &shm) == OK);
		memset(&op, 0, sizeof(op));
		op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_WHOLE, 0, 0, 0);
		op.params[0].memref.parent = &shm;
		CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_FILL, &op, &o),
			  o, OK, TA);
		CHECK(all_bytes(shm.buffer, 1 << 16, 0xA0));
		/* Mapped in the TA host while in use (control). */
		CHECK(count_maps(pid, "teespark-shm") == 1);
		TEEC_ReleaseSharedMemory(&shm);
	}
	/* The unmap rides on the next request. */
	CHECK(ta_pid(&s) == pid);
	CHECK(count_maps(pid, "teespark-shm") == 0);
	TEEC_CloseSession(&s);
}

static void death(uint32_t cmd, uint32_t type)
{
	TEEC_Session s, s2;
	TEEC_Value v;
	uint32_t o = 0;
	pid_t pid;

	CHECK_RES(open_s(&s, &o), o, OK, TA);
	pid = ta_pid(&s);
	CHECK(pid > 0);
	CHECK_RES(call_val(&s, cmd, type, 0xDEAD, 0, NULL, &o), o,
		  TEEC_ERROR_TARGET_DEAD, TEEC_ORIGIN_TEE);
	/* Reaped right away: neither running nor a zombie. */
	CHECK(pid_gone(pid));
	/* Every later call on the session is dead too. */
	CHECK_RES(call_val(&s, SIM_TEST_CMD_GET_PID, TEEC_VALUE_OUTPUT, 0, 0,
			   NULL, &o), o,
		  TEEC_ERROR_TARGET_DEAD, TEEC_ORIGIN_TEE);
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_RELEASE_ALLOC, NULL, &o),
		  o, TEEC_ERROR_TARGET_DEAD, TEEC_ORIGIN_TEE);
	TEEC_CloseSession(&s);
	/* A new session is a fresh instance. */
	CHECK_RES(open_s(&s2, &o), o, OK, TA);
	CHECK_RES(call_val(&s2, SIM_TEST_CMD_COUNTER_INC, TEEC_VALUE_OUTPUT, 0,
			   0, &v, &o), o, OK, TA);
	CHECK(v.a == 1 && v.b == 1);
	CHECK(ta_pid(&s2) != pid);
	TEEC_CloseSession(&s2);
}

static void t_panic(void)
{
	death(SIM_TEST_CMD_PANIC, TEEC_VALUE_INPUT);
}

static void t_segfault(void)
{
	death(SIM_TEST_CMD_SEGFAULT, TEEC_NONE);
}

static void t_abort(void)
{
	death(SIM_TEST_CMD_ABORT, TEEC_NONE);
}

static void t_heap_limit(void)
{
	/* The instance struct (16 bytes) is live: 32-byte header each. */
	const uint32_t max_block = TA_DATA_SIZE - (16 + 32) - 32;
	TEEC_Session s;
	TEEC_Value v;
	uint32_t o;

	CHECK_RES(open_s(&s, &o), o, OK, TA);
	CHECK_RES(call_val(&s, SIM_TEST_CMD_GET_HEAP_LIMIT, TEEC_VALUE_OUTPUT,
			   0, 0, &v, &o), o, OK, TA);
	CHECK(v.a == 0 && v.b == TA_DATA_SIZE);
	CHECK_RES(call_val(&s, SIM_TEST_CMD_ALLOC, TEEC_VALUE_INPUT, 3, 0,
			   NULL, &o), o, OK, TA);
	CHECK_RES(call_val(&s, SIM_TEST_CMD_ALLOC, TEEC_VALUE_INPUT, 0,
			   max_block, NULL, &o), o, OK, TA);
	CHECK_RES(call_val(&s, SIM_TEST_CMD_ALLOC, TEEC_VALUE_INPUT, 0,
			   max_block + 1, NULL, &o), o,
		  TEEC_ERROR_OUT_OF_MEMORY, TA);
	CHECK_RES(call_val(&s, SIM_TEST_CMD_ALLOC, TEEC_VALUE_INPUT, 64, 0,
			   NULL, &o), o, TEEC_ERROR_OUT_OF_MEMORY, TA);
	/* Live blocks count: hold 2 MiB, then 3 MiB no longer fits. */
	CHECK_RES(call_val(&s, SIM_TEST_CMD_HOLD_ALLOC, TEEC_VALUE_INPUT, 2, 0,
			   NULL, &o), o, OK, TA);
	CHECK_RES(call_val(&s, SIM_TEST_CMD_ALLOC, TEEC_VALUE_INPUT, 3, 0,
			   NULL, &o), o, TEEC_ERROR_OUT_OF_MEMORY, TA);
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_RELEASE_ALLOC, NULL, &o),
		  o, OK, TA);
	CHECK_RES(call_val(&s, SIM_TEST_CMD_ALLOC, TEEC_VALUE_INPUT, 3, 0,
			   NULL, &o), o, OK, TA);
	/* Still alive and well. */
	CHECK(echo_ok(&s, 1000));
	TEEC_CloseSession(&s);
}

static void t_heap_env_override(void)
{
	TEEC_Session s;
	TEEC_Value v;
	uint32_t o;

	setenv("TEESPARK_TA_DATA_SIZE", "8388608", 1);
	CHECK_RES(open_s(&s, &o), o, OK, TA);
	unsetenv("TEESPARK_TA_DATA_SIZE");
	CHECK_RES(call_val(&s, SIM_TEST_CMD_GET_HEAP_LIMIT, TEEC_VALUE_OUTPUT,
			   0, 0, &v, &o), o, OK, TA);
	CHECK(v.b == 8388608);
	CHECK_RES(call_val(&s, SIM_TEST_CMD_ALLOC, TEEC_VALUE_INPUT, 6, 0,
			   NULL, &o), o, OK, TA);
	TEEC_CloseSession(&s);
	/* Control: without the override 6 MiB does not fit in 4 MiB. */
	CHECK_RES(open_s(&s, &o), o, OK, TA);
	CHECK_RES(call_val(&s, SIM_TEST_CMD_ALLOC, TEEC_VALUE_INPUT, 6, 0,
			   NULL, &o), o, TEEC_ERROR_OUT_OF_MEMORY, TA);
	TEEC_CloseSession(&s);
}

struct sleeper {
	TEEC_Session *s;
	bool own;		/* open and close its own session */
	uint32_t ms;
	uint32_t flags;
	TEEC_Operation op;
	TEEC_Result res;
	uint32_t origin;
	double t0, t1;
};

static void *sleeper_main(void *arg)
{
	struct sleeper *sl = arg;
	TEEC_Session own;

	if (sl->own) {
		sl->s = &own;
		if (open_s(&own, &sl->origin) != OK) {
			sl->res = TEEC_ERROR_GENERIC;
			return NULL;
		}
	}
	sl->op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, 0, 0, 0);
	sl->op.params[0].value.a = sl->ms;
	sl->op.params[0].value.b = sl->flags;
	sl->t0 = now_ms();
	sl->res = TEEC_InvokeCommand(sl->s, SIM_TEST_CMD_SLEEP, &sl->op,
				     &sl->origin);
	sl->t1 = now_ms();
	if (sl->own)
		TEEC_CloseSession(&own);
	return NULL;
}

static void t_sessions_run_concurrently(void)
{
	struct sleeper a, b;
	pthread_t ta, tb;
	TEEC_Session s1, s2;
	TEEC_Value v;
	uint32_t o;
	double t0, el;

	/* Separate instances: separate processes, separate state. */
	CHECK_RES(open_s(&s1, &o), o, OK, TA);
	CHECK_RES(open_s(&s2, &o), o, OK, TA);
	CHECK(ta_pid(&s1) != ta_pid(&s2));
	CHECK_RES(call_val(&s1, SIM_TEST_CMD_COUNTER_INC, TEEC_VALUE_OUTPUT,
			   0, 0, &v, &o), o, OK, TA);
	CHECK_RES(call_val(&s1, SIM_TEST_CMD_COUNTER_INC, TEEC_VALUE_OUTPUT,
			   0, 0, &v, &o), o, OK, TA);
	CHECK(v.a == 2);
	CHECK_RES(call_val(&s2, SIM_TEST_CMD_COUNTER_INC, TEEC_VALUE_OUTPUT,
			   0, 0, &v, &o), o, OK, TA);
	CHECK(v.a == 1);

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.s = &s1;
	b.s = &s2;
	a.ms = b.ms = 300;
	t0 = now_ms();
	pthread_create(&ta, NULL, sleeper_main, &a);
	pthread_create(&tb, NULL, sleeper_main, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	el = now_ms() - t0;
	CHECK(a.res == OK && b.res == OK);
	CHECK(a.t1 - a.t0 >= 299 && b.t1 - b.t0 >= 299);
	/* Overlapped: well under the 600+ ms a serialised run would take. */
	CHECK(el < 560);
	TEEC_CloseSession(&s1);
	TEEC_CloseSession(&s2);
}

static void t_calls_on_one_session_serialised(void)
{
	struct sleeper a, b;
	pthread_t ta, tb;
	TEEC_Session s;
	uint32_t o;
	double t0, el;

	CHECK_RES(open_s(&s, &o), o, OK, TA);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.s = b.s = &s;
	a.ms = b.ms = 200;
	t0 = now_ms();
	pthread_create(&ta, NULL, sleeper_main, &a);
	pthread_create(&tb, NULL, sleeper_main, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	el = now_ms() - t0;
	CHECK(a.res == OK && b.res == OK);
	CHECK(el >= 399);
	/* Both were issued at once; the second waited for the first. */
	CHECK(a.t1 - a.t0 >= 399 || b.t1 - b.t0 >= 399);
	TEEC_CloseSession(&s);
}

static void t_cancellation(void)
{
	struct sleeper a;
	pthread_t th;
	TEEC_Session s;
	TEEC_Operation op;
	uint32_t o;

	CHECK_RES(open_s(&s, &o), o, OK, TA);

	/* Running operation, cancellation unmasked by the TA. */
	memset(&a, 0, sizeof(a));
	a.s = &s;
	a.ms = 5000;
	a.op.started = 0;
	pthread_create(&th, NULL, sleeper_main, &a);
	sleep_ms(150);
	TEEC_RequestCancellation(&a.op);
	pthread_join(th, NULL);
	CHECK_RES(a.res, a.origin, TEEC_ERROR_CANCEL, TA);
	CHECK(a.t1 - a.t0 < 1500);

	/* Negative control: the TA keeps cancellation masked (GP default). */
	memset(&a, 0, sizeof(a));
	a.s = &s;
	a.ms = 300;
	a.flags = 1;
	pthread_create(&th, NULL, sleeper_main, &a);
	sleep_ms(50);
	TEEC_RequestCancellation(&a.op);
	pthread_join(th, NULL);
	CHECK_RES(a.res, a.origin, OK, TA);
	CHECK(a.t1 - a.t0 >= 299);

	/* A cancelled request does not leak into the next call. */
	CHECK_RES(call_val(&s, SIM_TEST_CMD_SLEEP, TEEC_VALUE_INPUT, 30, 0,
			   NULL, &o), o, OK, TA);

	/* Cancelled before it started (started == 0): never reaches the TA. */
	memset(&op, 0, sizeof(op));
	op.started = 0;
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT, 0, 0, 0);
	op.params[0].value.a = 2000;
	TEEC_RequestCancellation(&op);
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_SLEEP, &op, &o), o,
		  TEEC_ERROR_CANCEL, TEEC_ORIGIN_COMMS);
	/* Consumed: the same operation runs normally next time. */
	op.params[0].value.a = 10;
	CHECK_RES(TEEC_InvokeCommand(&s, SIM_TEST_CMD_SLEEP, &op, &o), o,
		  OK, TA);
	TEEC_CloseSession(&s);
}

/* Waits up to ms for our (subreaped) child pid to exit. */
static bool reaped_within(pid_t pid, int ms)
{
	int i, st;

	for (i = 0; i < ms; i += 10) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD && pid_gone(pid)))
			return true;
		sleep_ms(10);
	}
	return false;
}

/*
 * A caller killed while its TA sleeps leaves no TA host behind.  With
 * fork_grandchild, the caller first forks a child that outlives it: the
 * child's inherited copy of the socket must not keep the TA host alive.
 */
static void killed_caller(bool fork_grandchild)
{
	int pfd[2];
	pid_t caller, host = 0, grandchild = 0;
	pid_t msg[2];

	/* Orphans (the TA host) get reparented to us, so we can reap them. */
	CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
	CHECK(pipe(pfd) == 0);
	caller = fork();
	CHECK(caller >= 0);
	if (caller == 0) {
		TEEC_Session s;
		uint32_t o;

		close(pfd[0]);
		if (open_s(&s, &o) != OK)
			_exit(1);
		msg[0] = ta_pid(&s);
		msg[1] = 0;
		if (fork_grandchild) {
			msg[1] = fork();
			if (msg[1] == 0) {
				TEEC_Value v;

				/* The inherited session is unusable here. */
				if (call_val(&s, SIM_TEST_CMD_GET_PID,
					     TEEC_VALUE_OUTPUT, 0, 0, &v, &o) !=
				    TEEC_ERROR_TARGET_DEAD)
					_exit(3);
				sleep(30);
				_exit(0);
			}
		}
		if (write(pfd[1], msg, sizeof(msg)) != sizeof(msg))
			_exit(2);
		call_val(&s, SIM_TEST_CMD_SLEEP, TEEC_VALUE_INPUT, 20000, 0,
			 NULL, &o);
		_exit(0);
	}
	close(pfd[1]);
	CHECK(read(pfd[0], msg, sizeof(msg)) == sizeof(msg));
	close(pfd[0]);
	host = msg[0];
	grandchild = msg[1];
	CHECK(host > 0);
	sleep_ms(100);
	CHECK(!pid_gone(host));	/* control: it was running */
	kill(caller, SIGKILL);
	waitpid(caller, NULL, 0);
	if (!reaped_within(host, 2000)) {
		kill(host, SIGKILL);
		waitpid(host, NULL, 0);
		if (grandchild > 0) {
			kill(grandchild, SIGKILL);
			waitpid(grandchild, NULL, 0);
		}
		CHECK(!"TA host outlived its caller");
	}
	if (grandchild > 0) {
		int st;

		CHECK(!pid_gone(grandchild));	/* it is still alive */
		kill(grandchild, SIGKILL);
		waitpid(grandchild, &st, 0);
		CHECK(WIFSIGNALED(st));	/* did not _exit(3) */
	}
	prctl(PR_SET_CHILD_SUBREAPER, 0);
}

static void t_killed_caller(void)
{
	killed_caller(false);
}

static void t_killed_caller_with_forked_child(void)
{
	killed_caller(true);
}

static void t_session_after_fork_in_parent(void)
{
	TEEC_Session s;
	uint32_t o;
	pid_t pid, child;
	int st;

	CHECK_RES(open_s(&s, &o), o, OK, TA);
	pid = ta_pid(&s);
	child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		TEEC_CloseSession(&s);	/* must not touch the parent's host */
		_exit(0);
	}
	waitpid(child, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(ta_pid(&s) == pid);
	CHECK(echo_ok(&s, 5000));
	TEEC_CloseSession(&s);
	CHECK(pid_gone(pid));
}

static void t_open_session_params(void)
{
	TEEC_Operation op;
	TEEC_Session s;
	uint32_t o;

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT, 0, 0, 0);
	op.params[0].tmpref.size = 3;	/* NULL buffer, size > 0 */
	CHECK_RES(TEEC_OpenSession(&ctx, &s, &test_uuid, TEEC_LOGIN_PUBLIC,
				   NULL, &op, &o), o,
		  TEEC_ERROR_BAD_PARAMETERS, TEEC_ORIGIN_API);
	CHECK_RES(TEEC_OpenSession(&ctx, &s, &test_uuid, 0x77, NULL, NULL, &o),
		  o, TEEC_ERROR_BAD_PARAMETERS, TEEC_ORIGIN_API);
	CHECK_RES(TEEC_OpenSession(&ctx, &s, &test_uuid, TEEC_LOGIN_GROUP,
				   NULL, NULL, &o), o,
		  TEEC_ERROR_BAD_PARAMETERS, TEEC_ORIGIN_API);
	op.params[0].tmpref.buffer = "abc";
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT,
					 TEEC_VALUE_OUTPUT, 0, 0);
	CHECK_RES(TEEC_OpenSession(&ctx, &s, &test_uuid, TEEC_LOGIN_USER, NULL,
				   &op, &o), o, OK, TA);
	CHECK(echo_ok(&s, 10));
	TEEC_CloseSession(&s);
}

static void t_many_sessions(void)
{
	enum { N = 8 };
	TEEC_Session s[N];
	pid_t pids[N];
	uint32_t o;
	int i;

	for (i = 0; i < N; i++) {
		CHECK_RES(open_s(&s[i], &o), o, OK, TA);
		pids[i] = ta_pid(&s[i]);
	}
	for (i = 0; i < N; i++)
		CHECK(echo_ok(&s[i], 4096));
	for (i = N - 1; i >= 0; i--) {
		TEEC_CloseSession(&s[i]);
		CHECK(pid_gone(pids[i]));
	}
}

static void t_host_killed_from_outside(void)
{
	TEEC_Session s;
	uint32_t o;
	pid_t pid;

	CHECK_RES(open_s(&s, &o), o, OK, TA);
	pid = ta_pid(&s);
	CHECK(pid > 0);
	kill(pid, SIGKILL);	/* e.g. the OOM killer, while idle */
	sleep_ms(20);
	CHECK_RES(call_val(&s, SIM_TEST_CMD_GET_PID, TEEC_VALUE_OUTPUT, 0, 0,
			   NULL, &o), o,
		  TEEC_ERROR_TARGET_DEAD, TEEC_ORIGIN_TEE);
	CHECK(pid_gone(pid));
	TEEC_CloseSession(&s);
}

static void t_bad_ta_file(void)
{
	char dir[] = "/tmp/sim_test_badta.XXXXXX";
	char path[256], *saved;
	TEEC_Session s;
	uint32_t o;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/%s.so", dir, SIM_TEST_TA_UUID_STR);
	f = fopen(path, "w");
	CHECK(f != NULL);
	fputs("not an ELF file\n", f);
	fclose(f);
	saved = strdup(getenv("TEESPARK_SIM_TA_PATH"));
	setenv("TEESPARK_SIM_TA_PATH", dir, 1);
	CHECK_RES(open_s(&s, &o), o, TEEC_ERROR_BAD_FORMAT, TEEC_ORIGIN_TEE);
	unlink(path);
	/* A real TA under another TA's name is refused too. */
	{
		TEEC_UUID other = test_uuid;
		char real[8192], *abs_dir = realpath(saved, NULL);

		other.timeLow ^= 1;
		snprintf(real, sizeof(real), "%s/%s.so",
			 abs_dir ? abs_dir : saved, SIM_TEST_TA_UUID_STR);
		free(abs_dir);
		snprintf(path, sizeof(path), "%s/6aa0af67%s.so", dir,
			 SIM_TEST_TA_UUID_STR + 8);
		CHECK(symlink(real, path) == 0);
		CHECK_RES(TEEC_OpenSession(&ctx, &s, &other, TEEC_LOGIN_PUBLIC,
					   NULL, NULL, &o), o,
			  TEEC_ERROR_BAD_FORMAT, TEEC_ORIGIN_TEE);
		unlink(path);
	}
	setenv("TEESPARK_SIM_TA_PATH", saved, 1);
	free(saved);
	rmdir(dir);
	/* The host that refused the file was reaped. */
	CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);
}

static void t_host_ignores_terminal_signals(void)
{
	TEEC_Session s;
	uint32_t o;
	pid_t pid;

	CHECK_RES(open_s(&s, &o), o, OK, TA);
	pid = ta_pid(&s);
	kill(pid, SIGINT);	/* Ctrl-C reaches the whole process group */
	kill(pid, SIGHUP);
	sleep_ms(20);
	CHECK(ta_pid(&s) == pid);
	TEEC_CloseSession(&s);
	CHECK(pid_gone(pid));
}

struct test {
	const char *name;
	void (*fn)(void);
};

static const struct test tests[] = {
	{ "open_invoke_close", t_open_invoke_close },
	{ "ta_not_found", t_ta_not_found },
	{ "context_and_shm_args", t_context_and_shm_args },
	{ "marshalling_errors", t_marshalling_errors },
	{ "null_operation", t_null_operation },
	{ "values_and_types", t_values_and_types },
	{ "temp_memrefs", t_temp_memrefs },
	{ "short_buffer", t_short_buffer },
	{ "registered_memrefs", t_registered_memrefs },
	{ "shm_64mib_allocated", t_shm_64mib_allocated },
	{ "shm_64mib_registered", t_shm_64mib_registered },
	{ "large_temp_memref", t_large_temp_memref },
	{ "release_unmaps_in_ta", t_release_unmaps_in_ta },
	{ "panic", t_panic },
	{ "segfault", t_segfault },
	{ "abort", t_abort },
	{ "heap_limit", t_heap_limit },
	{ "heap_env_override", t_heap_env_override },
	{ "sessions_run_concurrently", t_sessions_run_concurrently },
	{ "calls_on_one_session_serialised",
	  t_calls_on_one_session_serialised },
	{ "cancellation", t_cancellation },
	{ "killed_caller", t_killed_caller },
	{ "killed_caller_with_forked_child",
	  t_killed_caller_with_forked_child },
	{ "session_after_fork_in_parent", t_session_after_fork_in_parent },
	{ "open_session_params", t_open_session_params },
	{ "many_sessions", t_many_sessions },
	{ "host_killed_from_outside", t_host_killed_from_outside },
	{ "bad_ta_file", t_bad_ta_file },
	{ "host_ignores_terminal_signals", t_host_ignores_terminal_signals },
};

static bool selected(int argc, char **argv, const char *name)
{
	int i;

	if (argc < 2)
		return true;
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	size_t i;
	int run = 0;

	if (!getenv("TEESPARK_SIM_TA_PATH")) {
		fprintf(stderr, "set TEESPARK_SIM_TA_PATH to the test-ta dir\n");
		return 2;
	}
	unsetenv("TEESPARK_TA_DATA_SIZE");
	if (TEEC_InitializeContext(NULL, &ctx) != OK) {
		fprintf(stderr, "TEEC_InitializeContext failed\n");
		return 1;
	}
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		int before = failures;
		double t0 = now_ms();

		if (!selected(argc, argv, tests[i].name))
			continue;
		current = tests[i].name;
		tests[i].fn();
		run++;
		printf("%s %s (%.0f ms)\n", failures == before ? "ok  " : "FAIL",
		       tests[i].name, now_ms() - t0);
		fflush(stdout);
	}
	TEEC_FinalizeContext(&ctx);
	/* Every TA host was reaped: no child (running or zombie) is left. */
	if (waitpid(-1, NULL, WNOHANG) >= 0 || errno != ECHILD) {
		fprintf(stderr, "FAIL: a TA host was left unreaped\n");
		failures++;
	}
	printf("sim_test: %d run, %d failed\n", run, failures);
	return failures ? 1 : (run ? 0 : 2);
}

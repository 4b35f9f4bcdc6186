/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_inproc_test.c - runs the test TA in-process on libtee_internal_sim.a
 * (the way constant-time harnesses run TA code) and checks the
 * process-model parts of the Internal API directly: heap accounting,
 * TEE_Realloc, TEE_MemCompare against memcmp, TEE_CheckMemoryAccessRights,
 * properties, instance data, TEE_Panic.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sim_ta_props.h>
#include <tee_internal_api.h>

#include <sim_test_ta.h>
#include <user_ta_header_defines.h>

extern const struct sim_ta_props sim_ta_props;

static int failures;

#define CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, \
				__LINE__, #cond); \
			failures++; \
		} \
	} while (0)

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static void test_memcompare(void)
{
	uint8_t a[64], b[64];
	unsigned int i, j, trial;

	srand(1);
	for (trial = 0; trial < 2000; trial++) {
		size_t n = (size_t)(rand() % 64);

		for (i = 0; i < n; i++)
			a[i] = b[i] = (uint8_t)rand();
		/* Differences at random places, sometimes none, sometimes
		 * several (the first one must decide). */
		for (j = 0; n && j < (unsigned int)(rand() % 3); j++)
			b[rand() % n] = (uint8_t)rand();
		CHECK(sign(TEE_MemCompare(a, b, n)) == sign(memcmp(a, b, n)));
		CHECK(sign(TEE_MemCompare(b, a, n)) == sign(memcmp(b, a, n)));
	}
	/* Known answers, including bytes >= 0x80 (unsigned compare). */
	CHECK(TEE_MemCompare("\x01\xff", "\x01\x00", 2) > 0);
	CHECK(TEE_MemCompare("\x00\xff", "\x01\x00", 2) < 0);
	CHECK(TEE_MemCompare("abc", "abc", 3) == 0);
	CHECK(TEE_MemCompare("abc", "abd", 0) == 0);
}

static void test_heap(void)
{
	/* The instance struct from TA_CreateEntryPoint is live (16 + 32). */
	const size_t avail = TA_DATA_SIZE - (16 + 32);
	uint8_t *p, *q, *r;
	size_t i;

	p = TEE_Malloc(avail - 32, TEE_MALLOC_FILL_ZERO);
	CHECK(p != NULL);
	CHECK(TEE_Malloc(0, 0) == NULL);	/* needs a 32-byte header */
	TEE_Free(p);
	CHECK(TEE_Malloc(avail - 31, 0) == NULL);

	p = TEE_Malloc(100, TEE_MALLOC_NO_FILL);
	CHECK(p != NULL);
	for (i = 0; i < 100; i++)
		p[i] = (uint8_t)i;
	q = TEE_Realloc(p, 200);
	CHECK(q != NULL);
	for (i = 0; i < 100; i++)
		CHECK(q[i] == (uint8_t)i);
	for (i = 100; i < 200; i++)
		CHECK(q[i] == 0);
	/* A failing realloc keeps the old block. */
	r = TEE_Realloc(q, avail);
	CHECK(r == NULL);
	CHECK(q[99] == 99);
	q = TEE_Realloc(q, 10);
	CHECK(q != NULL && q[9] == 9);
	TEE_Free(q);
	TEE_Free(NULL);
	/* Unknown GP hint bits are refused; implementation bits ignored. */
	CHECK(TEE_Malloc(8, 0x40) == NULL);
	p = TEE_Malloc(8, 0x80000000u);
	CHECK(p != NULL);
	TEE_Free(p);
}

static void test_access_rights(void)
{
	uint8_t *p = TEE_Malloc(64, 0);
	const uint32_t rw = TEE_MEMORY_ACCESS_READ | TEE_MEMORY_ACCESS_WRITE;

	CHECK(TEE_CheckMemoryAccessRights(rw, p, 64) == TEE_SUCCESS);
	CHECK(TEE_CheckMemoryAccessRights(rw, p + 8, 8) == TEE_SUCCESS);
	CHECK(TEE_CheckMemoryAccessRights(rw, p + 8, 57) ==
	      TEE_ERROR_ACCESS_DENIED);
	CHECK(TEE_CheckMemoryAccessRights(rw | TEE_MEMORY_ACCESS_NONSECURE, p,
					  8) == TEE_ERROR_ACCESS_DENIED);
	CHECK(TEE_CheckMemoryAccessRights(rw, (void *)(uintptr_t)-8, 16) ==
	      TEE_ERROR_ACCESS_DENIED);
	CHECK(TEE_CheckMemoryAccessRights(0x100, p, 8) ==
	      TEE_ERROR_ACCESS_DENIED);
	TEE_Free(p);
}

static void test_properties(void)
{
	TEE_PropSetHandle e;
	uint32_t v = 0;
	bool b = true;
	char buf[128];
	size_t len = sizeof(buf);
	TEE_UUID u;
	const TEE_UUID want = SIM_TEST_TA_UUID;
	int n = 0;

	CHECK(TEE_GetPropertyAsU32(TEE_PROPSET_CURRENT_TA, "gpd.ta.dataSize",
				   &v) == TEE_SUCCESS && v == TA_DATA_SIZE);
	CHECK(TEE_GetPropertyAsU32(TEE_PROPSET_CURRENT_TA, "gpd.ta.stackSize",
				   &v) == TEE_SUCCESS && v == TA_STACK_SIZE);
	CHECK(TEE_GetPropertyAsBool(TEE_PROPSET_CURRENT_TA,
				    "gpd.ta.singleInstance", &b) ==
	      TEE_SUCCESS && !b);
	CHECK(TEE_GetPropertyAsUUID(TEE_PROPSET_CURRENT_TA, "gpd.ta.appID",
				    &u) == TEE_SUCCESS &&
	      memcmp(&u, &want, sizeof(u)) == 0);
	CHECK(TEE_GetPropertyAsString(TEE_PROPSET_CURRENT_TA, "gpd.ta.appID",
				      buf, &len) == TEE_SUCCESS &&
	      strcmp(buf, SIM_TEST_TA_UUID_STR) == 0 &&
	      len == sizeof(SIM_TEST_TA_UUID_STR));
	len = 3;
	CHECK(TEE_GetPropertyAsString(TEE_PROPSET_CURRENT_TA,
				      "gpd.ta.version", buf, &len) ==
	      TEE_ERROR_SHORT_BUFFER && len == sizeof(TA_VERSION));
	CHECK(TEE_GetPropertyAsU32(TEE_PROPSET_CURRENT_TA, "gpd.ta.version",
				   &v) == TEE_ERROR_BAD_FORMAT);
	CHECK(TEE_GetPropertyAsU32(TEE_PROPSET_CURRENT_TA, "no.such", &v) ==
	      TEE_ERROR_ITEM_NOT_FOUND);
	len = sizeof(buf);
	CHECK(TEE_GetPropertyAsString(TEE_PROPSET_TEE_IMPLEMENTATION,
				      "gpd.tee.apiversion", buf, &len) ==
	      TEE_SUCCESS && strcmp(buf, "1.3.1") == 0);

	CHECK(TEE_AllocatePropertyEnumerator(&e) == TEE_SUCCESS);
	CHECK(TEE_GetNextProperty(e) == TEE_ERROR_ITEM_NOT_FOUND);
	TEE_StartPropertyEnumerator(e, TEE_PROPSET_CURRENT_CLIENT);
	do {
		len = sizeof(buf);
		CHECK(TEE_GetPropertyName(e, buf, &len) == TEE_SUCCESS);
		n++;
	} while (TEE_GetNextProperty(e) == TEE_SUCCESS);
	CHECK(n == 2);
	TEE_FreePropertyEnumerator(e);
}

static void test_ta_entry_points(void)
{
	uint8_t in[1000], out[1000];
	TEE_Param p[4];
	void *sess = NULL;
	size_t i;

	CHECK(TA_OpenSessionEntryPoint(0, p, &sess) == TEE_SUCCESS);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 7);
	memset(p, 0, sizeof(p));
	p[0].memref.buffer = in;
	p[0].memref.size = sizeof(in);
	p[1].memref.buffer = out;
	p[1].memref.size = sizeof(out);
	CHECK(TA_InvokeCommandEntryPoint(sess, SIM_TEST_CMD_ECHO_XOR,
		TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
				TEE_PARAM_TYPE_MEMREF_OUTPUT,
				TEE_PARAM_TYPE_VALUE_OUTPUT,
				TEE_PARAM_TYPE_NONE), p) == TEE_SUCCESS);
	for (i = 0; i < sizeof(in); i++)
		CHECK(out[i] == (in[i] ^ 0x5A));
	memset(p, 0, sizeof(p));
	p[0].value.a = 4;	/* 4 MiB > what is left */
	CHECK(TA_InvokeCommandEntryPoint(sess, SIM_TEST_CMD_ALLOC,
		TEE_PARAM_TYPES(TEE_PARAM_TYPE_VALUE_INPUT, 0, 0, 0), p) ==
	      TEE_ERROR_OUT_OF_MEMORY);
	p[0].value.a = 3;
	CHECK(TA_InvokeCommandEntryPoint(sess, SIM_TEST_CMD_ALLOC,
		TEE_PARAM_TYPES(TEE_PARAM_TYPE_VALUE_INPUT, 0, 0, 0), p) ==
	      TEE_SUCCESS);
	/* Cancellation never set in-process; SLEEP completes. */
	p[0].value.a = 5;
	CHECK(TA_InvokeCommandEntryPoint(sess, SIM_TEST_CMD_SLEEP,
		TEE_PARAM_TYPES(TEE_PARAM_TYPE_VALUE_INPUT, 0, 0, 0), p) ==
	      TEE_SUCCESS);
	CHECK(TEE_GetCancellationFlag() == false);
	CHECK(TEE_UnmaskCancellation() == true);
	CHECK(TEE_MaskCancellation() == false);
	TA_CloseSessionEntryPoint(sess);
}

static void test_panic_aborts(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		int x;

		dup2(open("/dev/null", O_WRONLY), 2);	/* silence the panic line */
		TEE_Free(&x);	/* not from TEE_Malloc: panics */
		_exit(0);
	}
	waitpid(pid, &st, 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
}

int main(void)
{
	sim_internal_init(&sim_ta_props);
	CHECK(TA_CreateEntryPoint() == TEE_SUCCESS);
	CHECK(TEE_GetInstanceData() != NULL);
	test_memcompare();
	test_heap();
	test_access_rights();
	test_properties();
	test_ta_entry_points();
	test_panic_aborts();
	TA_DestroyEntryPoint();
	CHECK(TEE_GetInstanceData() == NULL);
	printf("sim_inproc_test: %s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}

/*
 * test_ta_process.c - the teespark TA as the product runs it: built as
 * $(BUILD)/lib/ta/<uuid>.so, loaded by the simulator's TA host process and
 * called through libteec with shared memory. Checks that the .so loads and
 * dispatches, that REGISTER_TABLE, RESEAL_BLOCKS and SORT_BLOCKS work
 * across the process boundary, and that a long RESEAL_BLOCKS stops with TEE_ERROR_CANCEL
 * (origin TA) when the client cancels it (the TA checks between blocks).
 *
 *   TEESPARK_SIM_TA_PATH=$(BUILD)/lib/ta test_ta_process [test_name ...]
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tee_client_api.h>

#include "ta_testlib.h"

static const TEEC_UUID ta_uuid = TA_TEESPARK_UUID;
static TEEC_Context ctx;
static uint8_t key0[32], key1[32];

static void open_session(TEEC_Session *s)
{
	uint32_t origin = 0;

	if (TEEC_OpenSession(&ctx, s, &ta_uuid, TEEC_LOGIN_PUBLIC, NULL, NULL,
			     &origin) != TEEC_SUCCESS) {
		fprintf(stderr, "TEEC_OpenSession failed (origin %u)\n", origin);
		exit(2);
	}
}

static TEEC_Result install(TEEC_Session *s, uint32_t slot, uint8_t *key)
{
	TEEC_Operation op;
	uint32_t origin;

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_INPUT,
					 TEEC_MEMREF_TEMP_INPUT, TEEC_NONE,
					 TEEC_NONE);
	op.params[0].value.a = slot;
	op.params[1].tmpref.buffer = key;
	op.params[1].tmpref.size = 32;
	return TEEC_InvokeCommand(s, TA_TEESPARK_CMD_INSTALL_DEV_KEY, &op,
				  &origin);
}

/* A session with key0 in slot 0 and key1 in slot 1. */
static void open_keyed(TEEC_Session *s)
{
	open_session(s);
	CHECK_RES(install(s, 0, key0), TEEC_SUCCESS);
	CHECK_RES(install(s, 1, key1), TEEC_SUCCESS);
}

struct reseal_call {
	TEEC_Session *s;
	TEEC_SharedMemory *in, *out;
	size_t in_len;
	TEEC_Operation op;
	TEEC_Result res;
	uint32_t origin;
	volatile int done;
};

static void *reseal_main(void *arg)
{
	struct reseal_call *c = arg;

	c->op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_PARTIAL_INPUT,
					    TEEC_MEMREF_WHOLE, TEEC_VALUE_INPUT,
					    TEEC_VALUE_OUTPUT);
	c->op.params[0].memref.parent = c->in;
	c->op.params[0].memref.offset = 0;
	c->op.params[0].memref.size = c->in_len;
	c->op.params[1].memref.parent = c->out;
	c->op.params[2].value.a = 0;
	c->op.params[2].value.b = 1;
	c->res = TEEC_InvokeCommand(c->s, TA_TEESPARK_CMD_RESEAL_BLOCKS,
				    &c->op, &c->origin);
	c->done = 1;
	return NULL;
}

/* REGISTER_TABLE of t (sealed under key0) with slot 0, through libteec. */
static TEEC_Result register_table(TEEC_Session *s, const struct th_table *t,
				  uint32_t n_rows, uint32_t rpb)
{
	struct ts_table_descriptor d;
	TEEC_Operation op;
	uint32_t origin;

	th_descriptor(key0, t, n_rows, rpb, NULL, &d);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_TEMP_INPUT,
					 TEEC_VALUE_INPUT, TEEC_NONE,
					 TEEC_NONE);
	op.params[0].tmpref.buffer = &d;
	op.params[0].tmpref.size = sizeof(d);
	op.params[1].value.a = 0;
	return TEEC_InvokeCommand(s, TA_TEESPARK_CMD_REGISTER_TABLE, &op,
				  &origin);
}

/* Shared memory holding a sealed table of n_rows rows of row_size,
 * registered in session s with slot 0. */
static size_t make_table(TEEC_Session *s, TEEC_SharedMemory *shm,
			 uint8_t *rows, uint32_t n_rows, uint32_t row_size,
			 uint32_t rpb)
{
	struct th_table t;
	size_t len = th_sealed_size(n_rows, row_size, rpb);

	th_table_random(&t, row_size);
	CHECK_RES(register_table(s, &t, n_rows, rpb), TEEC_SUCCESS);
	memset(shm, 0, sizeof(*shm));
	shm->size = len;
	shm->flags = TEEC_MEM_INPUT;
	if (TEEC_AllocateSharedMemory(&ctx, shm) != TEEC_SUCCESS) {
		fprintf(stderr, "TEEC_AllocateSharedMemory failed\n");
		exit(2);
	}
	th_seal_table(key0, &t, rows, n_rows, rpb, shm->buffer);
	return len;
}

static void alloc_out(TEEC_SharedMemory *shm, size_t len)
{
	memset(shm, 0, sizeof(*shm));
	shm->size = len;
	shm->flags = TEEC_MEM_OUTPUT;
	if (TEEC_AllocateSharedMemory(&ctx, shm) != TEEC_SUCCESS) {
		fprintf(stderr, "TEEC_AllocateSharedMemory failed\n");
		exit(2);
	}
}

static void test_process_get_info_and_unknown_command(void)
{
	TEEC_Session s;
	TEEC_Operation op;
	uint32_t origin = 0;

	open_session(&s);
	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_VALUE_OUTPUT, TEEC_VALUE_OUTPUT,
					 TEEC_NONE, TEEC_NONE);
	CHECK_RES(TEEC_InvokeCommand(&s, TA_TEESPARK_CMD_GET_INFO, &op,
				     &origin), TEEC_SUCCESS);
	CHECK(op.params[0].value.a == TA_TEESPARK_ABI_VERSION);
	CHECK(op.params[0].value.b == TS_MAX_KEY_SLOTS);
	CHECK(op.params[1].value.b == TS_MAX_BLOCK_PLAINTEXT);
	CHECK_RES(TEEC_InvokeCommand(&s, 0x77, &op, &origin),
		  TEEC_ERROR_NOT_SUPPORTED);
	CHECK(origin == TEEC_ORIGIN_TRUSTED_APP);
	TEEC_CloseSession(&s);
}

static void test_process_reseal_and_sort_roundtrip(void)
{
	const uint32_t n = 5000, rs = 16;
	uint8_t *rows = malloc((size_t)n * rs), *got = malloc((size_t)n * rs);
	TEEC_SharedMemory in, out, req_shm;
	struct reseal_call c;
	struct ts_sort_request *req;
	TEEC_Session s;
	TEEC_Operation op;
	uint32_t origin, i, unordered = 0;
	size_t in_len;

	open_keyed(&s);
	th_rand_bytes(rows, (size_t)n * rs);
	in_len = make_table(&s, &in, rows, n, rs, 1000);
	alloc_out(&out, in_len);

	memset(&c, 0, sizeof(c));
	c.s = &s;
	c.in = &in;
	c.out = &out;
	c.in_len = in_len;
	reseal_main(&c);
	CHECK_RES(c.res, TEEC_SUCCESS);
	CHECK(th_open_table(key1, out.buffer, in_len, got, (size_t)n * rs,
			    NULL, 0, NULL) == n);
	CHECK(memcmp(got, rows, (size_t)n * rs) == 0);

	/* Sort the resealed copy (slot 1, which RESEAL_BLOCKS made a slot
	 * of the registered table) back into slot 0, by the first 8 bytes as
	 * an unsigned integer. */
	memset(&req_shm, 0, sizeof(req_shm));
	req_shm.size = sizeof(*req);
	req_shm.flags = TEEC_MEM_INPUT;
	CHECK_RES(TEEC_AllocateSharedMemory(&ctx, &req_shm), TEEC_SUCCESS);
	req = req_shm.buffer;
	memset(req, 0, sizeof(*req));
	req->in_key_slot = 1;
	req->out_key_slot = 0;
	req->rows_per_block = 999;
	req->key_count = 1;
	memcpy(req->schema_hash,
	       ((struct ts_block_header *)out.buffer)->schema_hash, 32);
	req->keys[0] = (struct ts_sort_key){ TS_KEY_UINT, 0, 0, 8, 0 };
	memcpy(in.buffer, out.buffer, in_len);	/* input: the resealed table */
	TEEC_ReleaseSharedMemory(&out);
	alloc_out(&out, TS_TABLE_DESCRIPTOR_SIZE + th_sealed_size(n, rs, 999));

	memset(&op, 0, sizeof(op));
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_MEMREF_PARTIAL_INPUT,
					 TEEC_MEMREF_WHOLE, TEEC_MEMREF_WHOLE,
					 TEEC_VALUE_OUTPUT);
	op.params[0].memref.parent = &in;
	op.params[0].memref.size = in_len;
	op.params[1].memref.parent = &out;
	op.params[2].memref.parent = &req_shm;
	CHECK_RES(TEEC_InvokeCommand(&s, TA_TEESPARK_CMD_SORT_BLOCKS, &op,
				     &origin), TEEC_SUCCESS);
	CHECK(op.params[3].value.a == n);
	CHECK(op.params[3].value.b == (n + 998) / 999);
	CHECK(th_descriptor_verify(key0, out.buffer));
	CHECK(th_open_table(key0, (uint8_t *)out.buffer +
				    TS_TABLE_DESCRIPTOR_SIZE,
			    op.params[1].memref.size - TS_TABLE_DESCRIPTOR_SIZE,
			    got, (size_t)n * rs, NULL, 0, NULL) == n);
	for (i = 1; i < n; i++) {
		uint64_t a, b;

		memcpy(&a, got + (i - 1) * rs, 8);
		memcpy(&b, got + i * rs, 8);
		unordered += a > b;
	}
	CHECK(unordered == 0);

	TEEC_ReleaseSharedMemory(&in);
	TEEC_ReleaseSharedMemory(&out);
	TEEC_ReleaseSharedMemory(&req_shm);
	TEEC_CloseSession(&s);
	free(rows);
	free(got);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A reseal of many blocks, cancelled once it is running: the TA notices
 * between blocks and returns TEE_ERROR_CANCEL itself (origin TA). */
static void test_process_reseal_is_cancellable(void)
{
	const uint32_t rs = 64, rpb = 1024;	/* 64 KiB blocks */
	const uint32_t n = 1024 * rpb;		/* 64 MiB */
	uint8_t *rows = calloc((size_t)n, rs);
	TEEC_SharedMemory in, out;
	struct reseal_call c;
	TEEC_Session s;
	pthread_t th;
	int tries;

	open_keyed(&s);
	memset(&c, 0, sizeof(c));
	c.in_len = make_table(&s, &in, rows, n, rs, rpb);
	alloc_out(&out, c.in_len);
	c.s = &s;
	c.in = &in;
	c.out = &out;
	c.op.started = 0;
	pthread_create(&th, NULL, reseal_main, &c);
	/* Wait until the operation has started, then keep asking. */
	for (tries = 0; !__atomic_load_n(&c.op.started, __ATOMIC_ACQUIRE) &&
			!c.done && tries < 5000; tries++)
		sleep_ms(1);
	while (!c.done) {
		TEEC_RequestCancellation(&c.op);
		sleep_ms(1);
	}
	pthread_join(th, NULL);
	CHECK_RES(c.res, TEEC_ERROR_CANCEL);
	CHECK(c.origin == TEEC_ORIGIN_TRUSTED_APP);
	/* The session still works afterwards (negative control: the same
	 * call without cancellation succeeds). */
	memset(&c.op, 0, sizeof(c.op));
	c.done = 0;
	reseal_main(&c);
	CHECK_RES(c.res, TEEC_SUCCESS);
	TEEC_ReleaseSharedMemory(&in);
	TEEC_ReleaseSharedMemory(&out);
	TEEC_CloseSession(&s);
	free(rows);
}

int main(int argc, char **argv)
{
	if (TEEC_InitializeContext(NULL, &ctx) != TEEC_SUCCESS) {
		fprintf(stderr, "TEEC_InitializeContext failed\n");
		return 2;
	}
	th_rand_seed(0x5eed0003);
	th_rand_bytes(key0, 32);
	th_rand_bytes(key1, 32);
	RUN_TEST(argc, argv, test_process_get_info_and_unknown_command);
	RUN_TEST(argc, argv, test_process_reseal_and_sort_roundtrip);
	RUN_TEST(argc, argv, test_process_reseal_is_cancellable);
	TEEC_FinalizeContext(&ctx);
	return th_summary("test_ta_process");
}

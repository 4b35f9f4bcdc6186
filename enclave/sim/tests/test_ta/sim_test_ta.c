/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_test_ta.c - the simulator's test TA (see include/sim_test_ta.h for the
 * commands).  Not shipped; it exists to exercise the process model.  It
 * handles no secrets, so no leakage statements.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tee_internal_api.h>

#include <sim_test_ta.h>
#include <user_ta_header_defines.h>

struct instance {
	uint32_t counter;
	void *held;
};

static unsigned int create_calls;

/* NULL, but the compiler cannot prove it (SEGFAULT command). */
static int *volatile null_ptr;

#define NONE TEE_PARAM_TYPE_NONE
#define VIN TEE_PARAM_TYPE_VALUE_INPUT
#define VOUT TEE_PARAM_TYPE_VALUE_OUTPUT
#define VINOUT TEE_PARAM_TYPE_VALUE_INOUT
#define MIN TEE_PARAM_TYPE_MEMREF_INPUT
#define MOUT TEE_PARAM_TYPE_MEMREF_OUTPUT
#define MINOUT TEE_PARAM_TYPE_MEMREF_INOUT

TEE_Result TA_CreateEntryPoint(void)
{
	struct instance *in = TEE_Malloc(sizeof(*in), TEE_MALLOC_FILL_ZERO);

	if (!in)
		return TEE_ERROR_OUT_OF_MEMORY;
	create_calls++;
	TEE_SetInstanceData(in);
	return TEE_SUCCESS;
}

void TA_DestroyEntryPoint(void)
{
	struct instance *in = (struct instance *)TEE_GetInstanceData();

	if (in) {
		TEE_Free(in->held);
		TEE_Free(in);
	}
	TEE_SetInstanceData(NULL);
}

TEE_Result TA_OpenSessionEntryPoint(uint32_t types, TEE_Param p[4],
				    void **ctx)
{
	(void)types;
	(void)p;
	*ctx = NULL;
	return TEE_SUCCESS;
}

void TA_CloseSessionEntryPoint(void *ctx)
{
	(void)ctx;
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

static TEE_Result cmd_echo_xor(uint32_t types, TEE_Param p[4])
{
	uint8_t *in, *out;
	size_t n, i;
	uint64_t h;

	if (TEE_PARAM_TYPE_GET(types, 0) != MIN ||
	    (TEE_PARAM_TYPE_GET(types, 1) != MOUT &&
	     TEE_PARAM_TYPE_GET(types, 1) != MINOUT) ||
	    TEE_PARAM_TYPE_GET(types, 2) != VOUT ||
	    TEE_PARAM_TYPE_GET(types, 3) != NONE)
		return TEE_ERROR_BAD_PARAMETERS;
	in = p[0].memref.buffer;
	n = p[0].memref.size;
	h = fnv1a64(in, n);
	p[2].value.a = (uint32_t)(h >> 32);
	p[2].value.b = (uint32_t)h;
	if (p[1].memref.size < n) {
		p[1].memref.size = n;
		return TEE_ERROR_SHORT_BUFFER;
	}
	out = p[1].memref.buffer;
	for (i = 0; i < n; i++)
		out[i] = in[i] ^ 0x5A;
	p[1].memref.size = n;
	return TEE_SUCCESS;
}

static size_t alloc_size(const TEE_Param *p)
{
	return (size_t)p[0].value.a * 1048576u + p[0].value.b;
}

/* Allocates, checks zero fill, touches every page. */
static TEE_Result do_alloc(size_t size, void **out)
{
	uint8_t *b = TEE_Malloc(size, TEE_MALLOC_FILL_ZERO);
	size_t i;

	if (!b)
		return TEE_ERROR_OUT_OF_MEMORY;
	for (i = 0; i < size; i += 4096)
		if (b[i] != 0)
			TEE_Panic(0xBAD0);
	if (size && b[size - 1] != 0)
		TEE_Panic(0xBAD1);
	for (i = 0; i < size; i += 4096)
		b[i] = (uint8_t)i;
	*out = b;
	return TEE_SUCCESS;
}

static TEE_Result cmd_sleep(const TEE_Param *p)
{
	bool keep_masked = p[0].value.b & 1;
	bool was_masked = false;
	TEE_Result res = TEE_SUCCESS;
	uint32_t i;

	if (!keep_masked)
		was_masked = TEE_UnmaskCancellation();
	for (i = 0; i < p[0].value.a; i++) {
		if (TEE_GetCancellationFlag() || TEE_Wait(1) == TEE_ERROR_CANCEL) {
			res = TEE_ERROR_CANCEL;
			break;
		}
	}
	if (!keep_masked && was_masked)
		TEE_MaskCancellation();
	return res;
}

static TEE_Result cmd_fill(uint32_t types, TEE_Param p[4])
{
	unsigned int i;

	for (i = 0; i < 4; i++) {
		uint32_t t = TEE_PARAM_TYPE_GET(types, i);

		if (t >= MIN && t <= MINOUT) {
			if (p[i].memref.buffer)
				memset(p[i].memref.buffer, 0xA0 + (int)i,
				       p[i].memref.size);
			p[i].memref.size /= 2;
		} else if (t >= VIN && t <= VINOUT) {
			p[i].value.a = 0xC0 + i;
			p[i].value.b = ~(0xC0 + i);
		}
	}
	return TEE_SUCCESS;
}

TEE_Result TA_InvokeCommandEntryPoint(void *ctx, uint32_t cmd, uint32_t types,
				      TEE_Param p[4])
{
	struct instance *in = (struct instance *)TEE_GetInstanceData();
	const uint32_t vin = TEE_PARAM_TYPES(VIN, NONE, NONE, NONE);
	const uint32_t vout = TEE_PARAM_TYPES(VOUT, NONE, NONE, NONE);
	const uint32_t none = TEE_PARAM_TYPES(NONE, NONE, NONE, NONE);
	TEE_Result res;
	void *b;

	(void)ctx;
	switch (cmd) {
	case SIM_TEST_CMD_ECHO_XOR:
		return cmd_echo_xor(types, p);
	case SIM_TEST_CMD_PANIC:
		if (types != vin)
			return TEE_ERROR_BAD_PARAMETERS;
		TEE_Panic(p[0].value.a);
	case SIM_TEST_CMD_SEGFAULT:
		if (types != none)
			return TEE_ERROR_BAD_PARAMETERS;
		*null_ptr = 1;
		return TEE_ERROR_GENERIC;
	case SIM_TEST_CMD_ABORT:
		if (types != none)
			return TEE_ERROR_BAD_PARAMETERS;
		abort();
	case SIM_TEST_CMD_ALLOC:
		if (types != vin)
			return TEE_ERROR_BAD_PARAMETERS;
		res = do_alloc(alloc_size(p), &b);
		if (res == TEE_SUCCESS)
			TEE_Free(b);
		return res;
	case SIM_TEST_CMD_HOLD_ALLOC:
		if (types != vin)
			return TEE_ERROR_BAD_PARAMETERS;
		if (in->held)
			return TEE_ERROR_BAD_STATE;
		return do_alloc(alloc_size(p), &in->held);
	case SIM_TEST_CMD_RELEASE_ALLOC:
		if (types != none)
			return TEE_ERROR_BAD_PARAMETERS;
		TEE_Free(in->held);
		in->held = NULL;
		return TEE_SUCCESS;
	case SIM_TEST_CMD_SLEEP:
		if (types != vin)
			return TEE_ERROR_BAD_PARAMETERS;
		return cmd_sleep(p);
	case SIM_TEST_CMD_GET_HEAP_LIMIT: {
		uint32_t v;

		if (types != vout)
			return TEE_ERROR_BAD_PARAMETERS;
		res = TEE_GetPropertyAsU32(TEE_PROPSET_CURRENT_TA,
					   "gpd.ta.dataSize", &v);
		if (res != TEE_SUCCESS)
			return res;
		p[0].value.a = 0;
		p[0].value.b = v;
		return TEE_SUCCESS;
	}
	case SIM_TEST_CMD_GET_PID:
		if (types != vout)
			return TEE_ERROR_BAD_PARAMETERS;
		p[0].value.a = (uint32_t)getpid();
		p[0].value.b = 0;
		return TEE_SUCCESS;
	case SIM_TEST_CMD_COUNTER_INC:
		if (types != vout)
			return TEE_ERROR_BAD_PARAMETERS;
		p[0].value.a = ++in->counter;
		p[0].value.b = create_calls;
		return TEE_SUCCESS;
	case SIM_TEST_CMD_VALUES:
		if (TEE_PARAM_TYPE_GET(types, 0) != VINOUT ||
		    TEE_PARAM_TYPE_GET(types, 1) != VOUT)
			return TEE_ERROR_BAD_PARAMETERS;
		p[0].value.a += 1;
		p[0].value.b = ~p[0].value.b;
		p[1].value.a = types;
		p[1].value.b = 0x5A5A;
		return TEE_SUCCESS;
	case SIM_TEST_CMD_FILL:
		return cmd_fill(types, p);
	default:
		return TEE_ERROR_NOT_SUPPORTED;
	}
}

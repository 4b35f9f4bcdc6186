/*
 * ta_sessions.c - GP TA-to-TA sessions (TEE_OpenTASession,
 * TEE_InvokeTACommand, TEE_CloseTASession) for the teespark simulator.
 *
 * The simulator runs one TA per process, so the only reachable targets are
 * pseudo-TAs living in the same process: the attestation PTA
 * (PTA_ATTESTATION_UUID, pta_attestation.c). Opening any other UUID fails
 * with TEE_ERROR_ITEM_NOT_FOUND, origin TEE_ORIGIN_TEE, as OP-TEE answers
 * for a TA it cannot find.
 *
 * Behaviour mirrored from OP-TEE (lib/libutee/tee_api.c, core/kernel):
 *   - the attestation PTA has no open-session entry point, so opening it
 *     succeeds whatever the parameters (origin TEE_ORIGIN_TRUSTED_APP);
 *   - parameters are passed by copy: the PTA sees a private TEE_Param
 *     array; afterwards output memref sizes (also on SHORT_BUFFER) and
 *     output values are copied back; memref buffer pointers never change;
 *   - results from the PTA carry origin TEE_ORIGIN_TRUSTED_APP;
 *   - a bad session handle, a NULL destination/session pointer or a memref
 *     with a NULL buffer and a non-zero size panics;
 *     TEE_CloseTASession(TEE_HANDLE_NULL) does nothing.
 * cancellationRequestTimeout is accepted and ignored: PTA commands do not
 * block.
 */
#include <stdlib.h>
#include <string.h>

#include <pta_attestation.h>

#include "sim_internal.h"

#define SIM_SESS_MAGIC	0x53455331u	/* "SES1" */

typedef TEE_Result (*pta_invoke_fn)(uint32_t cmd, uint32_t param_types,
				    TEE_Param params[TEE_NUM_PARAMS]);

struct pta_entry {
	TEE_UUID uuid;
	pta_invoke_fn invoke;
};

static const struct pta_entry g_ptas[] = {
	{ PTA_ATTESTATION_UUID, sim_pta_attestation_invoke },
};

struct __TEE_TASessionHandle {
	uint32_t magic;
	const struct pta_entry *pta;
};

static void set_origin(uint32_t *origin, uint32_t v)
{
	if (origin)
		*origin = v;
}

/* Panics on memref parameters a TA could not have passed on OP-TEE. */
static void check_params(uint32_t types, const TEE_Param *params)
{
	unsigned int i;

	for (i = 0; i < TEE_NUM_PARAMS; i++) {
		switch (TEE_PARAM_TYPE_GET(types, i)) {
		case TEE_PARAM_TYPE_NONE:
		case TEE_PARAM_TYPE_VALUE_INPUT:
		case TEE_PARAM_TYPE_VALUE_OUTPUT:
		case TEE_PARAM_TYPE_VALUE_INOUT:
			break;
		case TEE_PARAM_TYPE_MEMREF_INPUT:
		case TEE_PARAM_TYPE_MEMREF_OUTPUT:
		case TEE_PARAM_TYPE_MEMREF_INOUT:
			if (!params)
				TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
			if (!params[i].memref.buffer && params[i].memref.size)
				TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
			break;
		default:
			TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
		}
	}
	if (types >> 16)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
}

/* Copies what the callee may return back into the caller's parameters. */
static void copy_back(uint32_t types, TEE_Param *dst, const TEE_Param *src)
{
	unsigned int i;

	for (i = 0; i < TEE_NUM_PARAMS; i++) {
		switch (TEE_PARAM_TYPE_GET(types, i)) {
		case TEE_PARAM_TYPE_VALUE_OUTPUT:
		case TEE_PARAM_TYPE_VALUE_INOUT:
			dst[i].value = src[i].value;
			break;
		case TEE_PARAM_TYPE_MEMREF_OUTPUT:
		case TEE_PARAM_TYPE_MEMREF_INOUT:
			dst[i].memref.size = src[i].memref.size;
			break;
		default:
			break;
		}
	}
}

TEE_Result TEE_OpenTASession(const TEE_UUID *destination,
			     uint32_t cancellationRequestTimeout,
			     uint32_t paramTypes,
			     TEE_Param params[TEE_NUM_PARAMS],
			     TEE_TASessionHandle *session,
			     uint32_t *returnOrigin)
{
	struct __TEE_TASessionHandle *s;
	size_t i;

	(void)cancellationRequestTimeout;
	if (!destination || !session)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	*session = TEE_HANDLE_NULL;
	check_params(paramTypes, params);

	for (i = 0; i < sizeof(g_ptas) / sizeof(g_ptas[0]); i++)
		if (!memcmp(&g_ptas[i].uuid, destination, sizeof(TEE_UUID)))
			break;
	if (i == sizeof(g_ptas) / sizeof(g_ptas[0])) {
		set_origin(returnOrigin, TEE_ORIGIN_TEE);
		return TEE_ERROR_ITEM_NOT_FOUND;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		set_origin(returnOrigin, TEE_ORIGIN_TEE);
		return TEE_ERROR_OUT_OF_MEMORY;
	}
	s->magic = SIM_SESS_MAGIC;
	s->pta = &g_ptas[i];
	*session = s;
	set_origin(returnOrigin, TEE_ORIGIN_TRUSTED_APP);
	return TEE_SUCCESS;
}

TEE_Result TEE_InvokeTACommand(TEE_TASessionHandle session,
			       uint32_t cancellationRequestTimeout,
			       uint32_t commandID, uint32_t paramTypes,
			       TEE_Param params[TEE_NUM_PARAMS],
			       uint32_t *returnOrigin)
{
	TEE_Param copy[TEE_NUM_PARAMS];
	TEE_Result res;

	(void)cancellationRequestTimeout;
	if (!session || session->magic != SIM_SESS_MAGIC)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	check_params(paramTypes, params);

	memset(copy, 0, sizeof(copy));
	if (params)
		memcpy(copy, params, sizeof(copy));
	res = session->pta->invoke(commandID, paramTypes, copy);
	if (params)
		copy_back(paramTypes, params, copy);
	set_origin(returnOrigin, TEE_ORIGIN_TRUSTED_APP);
	return res;
}

void TEE_CloseTASession(TEE_TASessionHandle session)
{
	if (session == TEE_HANDLE_NULL)
		return;
	if (session->magic != SIM_SESS_MAGIC)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	session->magic = SIM_OBJ_DEAD;
	free(session);
}

/*
 * cmd_info.c - TA_TEESPARK_CMD_GET_INFO: ABI version and limits.
 */
#include "cmd.h"
#include "../user_ta_header_defines.h"

/* The heap limit in force: the gpd.ta.dataSize property, which the runtime
 * reports (the simulator reflects its TEESPARK_TA_DATA_SIZE override there),
 * else the compiled TA_DATA_SIZE. */
static uint32_t heap_kib(void)
{
	uint32_t size = 0;

	if (TEE_GetPropertyAsU32(TEE_PROPSET_CURRENT_TA, "gpd.ta.dataSize",
				 &size) != TEE_SUCCESS || size == 0)
		size = (uint32_t)(TA_DATA_SIZE);
	return size / 1024u;
}

/* see cmd.h */
TEE_Result cmd_get_info(struct ta_session *s, uint32_t param_types,
			TEE_Param params[SHIM_NUM_PARAMS])
{
	const uint32_t exp = TEE_PARAM_TYPES(TEE_PARAM_TYPE_VALUE_OUTPUT,
					     TEE_PARAM_TYPE_VALUE_OUTPUT,
					     TEE_PARAM_TYPE_NONE,
					     TEE_PARAM_TYPE_NONE);

	(void)s;
	if (param_types != exp)
		return TEE_ERROR_BAD_PARAMETERS;
	params[0].value.a = TA_TEESPARK_ABI_VERSION;
	params[0].value.b = TS_MAX_KEY_SLOTS;
	params[1].value.a = heap_kib();
	params[1].value.b = TS_MAX_BLOCK_PLAINTEXT;
	return TEE_SUCCESS;
}

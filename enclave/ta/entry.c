/*
 * entry.c - the GlobalPlatform entry points of the teespark TA.
 *
 * Each session has its own context (struct ta_session: the key slots);
 * TA_InvokeCommandEntryPoint is a flat switch to one handler per command
 * (cmd/cmd.h), each of which checks its parameter types and sizes first.
 * Logs carry public values only: command ids, slots, block indices, sizes.
 */
#include "shim_tee.h"
#include "cmd/cmd.h"

#if defined(TEESPARK_ITRUSTEE)
/*
 * iTrustee only admits client applications on the TA's caller list. The CA
 * path and user are deployment settings (the fixed-path native CA daemon, see
 * docs/ARCHITECTURE.md); override at build time.
 */
#ifndef TEESPARK_ITRUSTEE_CA_PATH
#define TEESPARK_ITRUSTEE_CA_PATH "/usr/bin/teespark-ca"
#endif
#ifndef TEESPARK_ITRUSTEE_CA_USER
#define TEESPARK_ITRUSTEE_CA_USER "root"
#endif
#endif

TEE_Result TA_CreateEntryPoint(void)
{
#if defined(TEESPARK_ITRUSTEE)
	TEE_Result res = addcaller_ca_exec(TEESPARK_ITRUSTEE_CA_PATH,
					   TEESPARK_ITRUSTEE_CA_USER);

	if (res != TEE_SUCCESS) {
		SHIM_LOGE("addcaller_ca_exec failed 0x%x", (unsigned int)res);
		return res;
	}
#endif
	return TEE_SUCCESS;
}

void TA_DestroyEntryPoint(void)
{
}

/*
 * param_types is deliberately not compared with an all-NONE value: iTrustee
 * fills params[2] and [3] of every open-session call with the client's
 * identity. The session takes no parameters and reads none.
 */
TEE_Result TA_OpenSessionEntryPoint(uint32_t param_types,
				    TEE_Param params[SHIM_NUM_PARAMS],
				    void **session_context)
{
	struct ta_session *s;

	(void)param_types;
	(void)params;
	s = TEE_Malloc(sizeof(*s), TEE_MALLOC_FILL_ZERO);
	if (!s)
		return TEE_ERROR_OUT_OF_MEMORY;
	key_slots_init(&s->keys);
	*session_context = s;
	return TEE_SUCCESS;
}

void TA_CloseSessionEntryPoint(void *session_context)
{
	struct ta_session *s = session_context;

	if (!s)
		return;
	key_slots_wipe_all(&s->keys);
	TEE_Free(s);
}

TEE_Result TA_InvokeCommandEntryPoint(void *session_context, uint32_t cmd_id,
				      uint32_t param_types,
				      TEE_Param params[SHIM_NUM_PARAMS])
{
	struct ta_session *s = session_context;

	switch (cmd_id) {
	case TA_TEESPARK_CMD_GET_INFO:
		return cmd_get_info(s, param_types, params);
	case TA_TEESPARK_CMD_INSTALL_DEV_KEY:
		return cmd_install_dev_key(s, param_types, params);
	case TA_TEESPARK_CMD_NEW_QUERY_KEY:
		return cmd_new_query_key(s, param_types, params);
	case TA_TEESPARK_CMD_CLEAR_KEY:
		return cmd_clear_key(s, param_types, params);
	case TA_TEESPARK_CMD_RESEAL_BLOCKS:
		return cmd_reseal_blocks(s, param_types, params);
	case TA_TEESPARK_CMD_SORT_BLOCKS:
		return cmd_sort_blocks(s, param_types, params);
	default:
		SHIM_LOGE("Command ID 0x%x is not supported",
			  (unsigned int)cmd_id);
		return TEE_ERROR_NOT_SUPPORTED;
	}
}

/*
 * entry.c - the GlobalPlatform entry points of the teespark TA.
 *
 * Each session has its own context (struct ta_session: key slots,
 * registered tables, key release state: pinned KBS key, ephemeral X25519
 * key pair, pending evidence, result recipients); TA_InvokeCommandEntryPoint
 * is a flat switch to one handler per command (cmd/cmd.h), each of which
 * checks its parameter types and sizes first. Commands, in teespark_ta.h's
 * order:
 *   GET_INFO                 ABI version and limits
 *   INSTALL_DEV_KEY          raw data key into a slot (development only)
 *   NEW_QUERY_KEY            random key into a slot, never leaves the TA
 *   CLEAR_KEY                wipe a slot
 *   RESEAL_BLOCKS            registered table, re-sealed under another slot
 *   SORT_BLOCKS              registered table, sorted obliviously: output
 *                            descriptor | blocks, output registered
 *   PIN_KBS_KEY              the KBS's Ed25519 key, once per session
 *   GET_EVIDENCE             attestation evidence naming the session's
 *                            X25519 key and the pinned KBS key
 *   GET_DEVICE_PUBKEY        the device attestation public key
 *   IMPORT_KEYS              data keys and recipients from a signed reply
 *   REGISTER_TABLE           a table from its MAC'd descriptor
 *   EXPORT_RESULT            a registered table resealed for a recipient
 *   RUN_OPERATOR             one relational operator over registered
 *                            tables in the heap: output registered
 *   XSORT_START, _CHUNK,     external sort of a table larger than the
 *   _MERGE_SPLIT, _EMIT      heap: runs resealed under a job key, merged by
 *                            a block-level bitonic network (ids 20..23)
 * Logs carry public values only: command ids, slots, block indices, sizes.
 */
#include "shim_tee.h"
#include "cmd/cmd.h"
#include "cmd/cmd_operator.h"
#include "cmd/cmd_external_sort.h"
#include "cmd/cmd_stream.h"

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
	ta_session_init(s);
	*session_context = s;
	return TEE_SUCCESS;
}

void TA_CloseSessionEntryPoint(void *session_context)
{
	struct ta_session *s = session_context;

	if (!s)
		return;
	xsort_session_close(s);	/* the external sort job's key and state */
	ta_session_wipe(s);
	TEE_Free(s);
}

void ta_session_init(struct ta_session *s)
{
	key_slots_init(&s->keys);
	table_registry_init(&s->tables);
	TEE_MemFill(&s->kbs, 0, sizeof(s->kbs));
	s->kbs.eph.obj = TEE_HANDLE_NULL;
}

/* Wipes the keys and frees (so wipes) the ephemeral X25519 key pair. */
void ta_session_wipe(struct ta_session *s)
{
	key_slots_wipe_all(&s->keys);
	x25519_free(&s->kbs.eph);
	shim_wipe(s, sizeof(*s));
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
	case TA_TEESPARK_CMD_PIN_KBS_KEY:
		return cmd_pin_kbs_key(s, param_types, params);
	case TA_TEESPARK_CMD_GET_EVIDENCE:
		return cmd_get_evidence(s, param_types, params);
	case TA_TEESPARK_CMD_GET_DEVICE_PUBKEY:
		return cmd_get_device_pubkey(s, param_types, params);
	case TA_TEESPARK_CMD_IMPORT_KEYS:
		return cmd_import_keys(s, param_types, params);
	case TA_TEESPARK_CMD_REGISTER_TABLE:
		return cmd_register_table(s, param_types, params);
	case TA_TEESPARK_CMD_EXPORT_RESULT:
		return cmd_export_result(s, param_types, params);
	case TA_TEESPARK_CMD_RUN_OPERATOR:
		return cmd_run_operator(s, param_types, params);
	/* Streaming aggregate and join (id 13). */
	case TA_TEESPARK_CMD_STREAM:
		return cmd_stream(s, param_types, params);
	/* External sort (ids 20..23). */
	case TA_TEESPARK_CMD_XSORT_START:
		return cmd_xsort_start(s, param_types, params);
	case TA_TEESPARK_CMD_XSORT_CHUNK:
		return cmd_xsort_chunk(s, param_types, params);
	case TA_TEESPARK_CMD_XSORT_MERGE_SPLIT:
		return cmd_xsort_merge_split(s, param_types, params);
	case TA_TEESPARK_CMD_XSORT_EMIT:
		return cmd_xsort_emit(s, param_types, params);
	default:
		SHIM_LOGE("Command ID 0x%x is not supported",
			  (unsigned int)cmd_id);
		return TEE_ERROR_NOT_SUPPORTED;
	}
}

/*
 * ta_harness.c - the TA in-process (see ta_harness.h).
 */
#include "ta_harness.h"

#include <stdlib.h>
#include <string.h>

#include <sim_ta_props.h>

/* Exported by sim/ta_props.c compiled with the TA's header defines. */
extern const struct sim_ta_props sim_ta_props;

/* ------------------------------------------------------------------ TA */

void th_init(void)
{
	sim_internal_init(&sim_ta_props);
	if (TA_CreateEntryPoint() != TEE_SUCCESS) {
		fprintf(stderr, "TA_CreateEntryPoint failed\n");
		exit(2);
	}
}

void *th_open_session(void)
{
	TEE_Param p[4];
	void *sess = NULL;

	memset(p, 0, sizeof(p));
	/* iTrustee-style identity params in slots 2/3 must be accepted. */
	if (TA_OpenSessionEntryPoint(TEE_PARAM_TYPES(TEE_PARAM_TYPE_NONE,
						     TEE_PARAM_TYPE_NONE,
						     TEE_PARAM_TYPE_MEMREF_INPUT,
						     TEE_PARAM_TYPE_MEMREF_INPUT),
				     p, &sess) != TEE_SUCCESS || !sess) {
		fprintf(stderr, "TA_OpenSessionEntryPoint failed\n");
		exit(2);
	}
	return sess;
}

void th_close_session(void *sess)
{
	TA_CloseSessionEntryPoint(sess);
}

TEE_Result th_invoke(void *sess, uint32_t cmd, uint32_t param_types,
		     TEE_Param params[4])
{
	return TA_InvokeCommandEntryPoint(sess, cmd, param_types, params);
}

TEE_Result th_install_key(void *sess, uint32_t slot, const uint8_t key[32])
{
	TEE_Param p[4];

	memset(p, 0, sizeof(p));
	p[0].value.a = slot;
	p[1].memref.buffer = (void *)key;
	p[1].memref.size = 32;
	return th_invoke(sess, TA_TEESPARK_CMD_INSTALL_DEV_KEY,
			 TEE_PARAM_TYPES(TEE_PARAM_TYPE_VALUE_INPUT,
					 TEE_PARAM_TYPE_MEMREF_INPUT,
					 TEE_PARAM_TYPE_NONE,
					 TEE_PARAM_TYPE_NONE), p);
}


TEE_Result th_register(void *sess, const struct ts_table_descriptor *d,
		       uint32_t slot)
{
	TEE_Param p[4];

	memset(p, 0, sizeof(p));
	p[0].memref.buffer = (void *)d;
	p[0].memref.size = sizeof(*d);
	p[1].value.a = slot;
	return th_invoke(sess, TA_TEESPARK_CMD_REGISTER_TABLE,
			 TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					 TEE_PARAM_TYPE_VALUE_INPUT,
					 TEE_PARAM_TYPE_NONE,
					 TEE_PARAM_TYPE_NONE), p);
}

TEE_Result th_register_table(void *sess, const uint8_t key[32],
			     const struct th_table *t, uint32_t n_rows,
			     uint32_t rows_per_block, uint32_t slot)
{
	struct ts_table_descriptor d;

	th_descriptor(key, t, n_rows, rows_per_block, NULL, &d);
	return th_register(sess, &d, slot);
}

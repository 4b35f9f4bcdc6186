/*
 * cmd.h - the command handlers of the teespark TA and the session state they
 * share. entry.c dispatches TA_TEESPARK_CMD_* (teespark_ta.h, where each
 * command's param[0..3] are documented) to exactly one handler here.
 *
 * Every handler first compares param_types with the types its command
 * expects (TEE_ERROR_BAD_PARAMETERS on any difference) and checks sizes
 * (TEE_ERROR_SHORT_BUFFER with the needed size in the output memref's size)
 * before it touches anything else.
 */
#ifndef TEESPARK_CMD_H
#define TEESPARK_CMD_H

#include "../shim_tee.h"
#include "../key_slots.h"

/* One per TA session (the session context): each session's keys are its own. */
struct ta_session {
	struct key_slots keys;
};

/* cmd_info.c */
TEE_Result cmd_get_info(struct ta_session *s, uint32_t param_types,
			TEE_Param params[SHIM_NUM_PARAMS]);

/* cmd_keys.c. INSTALL_DEV_KEY copies the key from shared memory into the
 * slot (the host supplied it, so it is not secret from the host; it is never
 * logged or returned); NEW_QUERY_KEY draws it from TEE_GenerateRandom.
 * Leaks: slot numbers.  Hides: keys (from everything but INSTALL's caller). */
TEE_Result cmd_install_dev_key(struct ta_session *s, uint32_t param_types,
			       TEE_Param params[SHIM_NUM_PARAMS]);
TEE_Result cmd_new_query_key(struct ta_session *s, uint32_t param_types,
			     TEE_Param params[SHIM_NUM_PARAMS]);
TEE_Result cmd_clear_key(struct ta_session *s, uint32_t param_types,
			 TEE_Param params[SHIM_NUM_PARAMS]);

/* cmd_reseal_blocks.c.
 * Leaks: block count, sizes and headers, which block failed.  Hides: rows. */
TEE_Result cmd_reseal_blocks(struct ta_session *s, uint32_t param_types,
			     TEE_Param params[SHIM_NUM_PARAMS]);

/* cmd_sort_blocks.c.
 * Leaks: block count, row count, row size, rows_per_block, the key column
 * list, which input block failed.  Hides: rows, keys, their order. */
TEE_Result cmd_sort_blocks(struct ta_session *s, uint32_t param_types,
			   TEE_Param params[SHIM_NUM_PARAMS]);

/* cmd_util.c: microseconds from TEE_GetSystemTime (GP time has millisecond
 * resolution, so a span shorter than 1 ms reads as 0 or 1000; sums of many
 * spans are unbiased). */
uint64_t cmd_now_us(void);

/* Nonzero if the client asked to cancel this call (the handler unmasks
 * cancellation while it runs; see cmd_util.c). */
int cmd_cancelled(void);

#endif /* TEESPARK_CMD_H */

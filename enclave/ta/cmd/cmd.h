/*
 * cmd.h - the command handlers of the teespark TA and the session state they
 * share. entry.c dispatches TA_TEESPARK_CMD_* (teespark_ta.h, where each
 * command's param[0..3] are documented) to exactly one handler here.
 *
 * Every handler first compares param_types with the types its command
 * expects (TEE_ERROR_BAD_PARAMETERS on any difference) and checks sizes
 * (TEE_ERROR_SHORT_BUFFER with the needed size in the output memref's size)
 * before it touches anything else. Inputs are copied from shared memory
 * into TA memory once, before they are checked, and only the copies are used.
 */
#ifndef TEESPARK_CMD_H
#define TEESPARK_CMD_H

#include "../shim_tee.h"
#include "../key_slots.h"
#include "../table_registry.h"
#include "../crypto/x25519.h"

/* Key release state of one session (PIN_KBS_KEY, GET_EVIDENCE, IMPORT_KEYS).
 * Only eph's private key is secret; the rest is public. */
struct ta_kbs {
	uint32_t pinned;			/* 0 or 1 */
	uint8_t kbs_key[TS_ED25519_PUBLIC_SIZE];	/* Ed25519, pinned */
	struct x25519_key eph;			/* obj NULL until first evidence */
	uint32_t pending;			/* 0 or 1 */
	uint8_t pending_hash[32];		/* SHA-256 of the last evidence */
	uint32_t n_recipients;
	struct ts_recipient recipients[TS_MAX_RECIPIENTS];
};

/* One per TA session (the session context): each session's keys, tables and
 * key release state are its own. */
struct ta_session {
	struct key_slots keys;
	struct table_registry tables;
	struct ta_kbs kbs;
};

/* entry.c: session lifetime. */
void ta_session_init(struct ta_session *s);
void ta_session_wipe(struct ta_session *s);

/* cmd_info.c */
TEE_Result cmd_get_info(struct ta_session *s, uint32_t param_types,
			TEE_Param params[SHIM_NUM_PARAMS]);

/* cmd_keys.c. INSTALL_DEV_KEY copies the key from shared memory into the
 * slot (the host supplied it, so it is not secret from the host; it is never
 * logged or returned); NEW_QUERY_KEY draws it from TEE_GenerateRandom.
 * Every change of a slot's key unregisters the tables it opened.
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

/* cmd_attest.c: PIN_KBS_KEY, GET_EVIDENCE, GET_DEVICE_PUBKEY.
 * Leaks: the pinned key, the nonce, the evidence (all public).
 * Hides: the ephemeral X25519 private key. */
TEE_Result cmd_pin_kbs_key(struct ta_session *s, uint32_t param_types,
			   TEE_Param params[SHIM_NUM_PARAMS]);
TEE_Result cmd_get_evidence(struct ta_session *s, uint32_t param_types,
			    TEE_Param params[SHIM_NUM_PARAMS]);
TEE_Result cmd_get_device_pubkey(struct ta_session *s, uint32_t param_types,
				 TEE_Param params[SHIM_NUM_PARAMS]);

/* cmd_import_keys.c.
 * Leaks: reply size, counts, slots, key and table ids, which check failed.
 * Hides: the data keys, the wrapping key. */
TEE_Result cmd_import_keys(struct ta_session *s, uint32_t param_types,
			   TEE_Param params[SHIM_NUM_PARAMS]);

/* cmd_register_table.c.
 * Leaks: the descriptor (public), whether its MAC verified.
 * Hides: the data key and the MAC key. */
TEE_Result cmd_register_table(struct ta_session *s, uint32_t param_types,
			      TEE_Param params[SHIM_NUM_PARAMS]);

/* cmd_export_result.c.
 * Leaks: block count, row count, row size, rows_per_block, recipient id,
 * which input block failed.  Hides: rows, the result key. */
TEE_Result cmd_export_result(struct ta_session *s, uint32_t param_types,
			     TEE_Param params[SHIM_NUM_PARAMS]);

/* cmd_util.c: microseconds from TEE_GetSystemTime (GP time has millisecond
 * resolution, so a span shorter than 1 ms reads as 0 or 1000; sums of many
 * spans are unbiased). */
uint64_t cmd_now_us(void);

/* Nonzero if the client asked to cancel this call (the handler unmasks
 * cancellation while it runs; see cmd_util.c). */
int cmd_cancelled(void);

/* cmd_util.c: TS_ERROR_BLOCK_FORMAT, _AUTH or _SEQUENCE. */
int cmd_is_block_error(TEE_Result res);

/* cmd_util.c: wipe the len bytes of a TEE_Malloc'd buffer, free it and set
 * *buf to NULL (nothing to do if *buf is NULL).
 * Leaks: len.  Hides: the contents. */
void cmd_free_wiped(uint8_t **buf, size_t len);

/* cmd_util.c: the parameters of a command that reads sealed blocks and a
 * request struct (SORT_BLOCKS, EXPORT_RESULT): param[0] MEMREF_INPUT
 * blocks, [1] MEMREF_OUTPUT, [2] MEMREF_INPUT request of exactly req_size
 * bytes, [3] VALUE_OUTPUT (zeroed here). Copies the request into req (TA
 * memory) and points *in, *in_len at the blocks (length 0 without a
 * buffer). TEE_ERROR_BAD_PARAMETERS on other types or another request size
 * (logged, naming the `what` request). */
TEE_Result cmd_request_params(uint32_t param_types,
			      TEE_Param params[SHIM_NUM_PARAMS],
			      const char *what, void *req, size_t req_size,
			      const void **in, size_t *in_len);

/* cmd_util.c: if res is a block error (cmd_is_block_error), put the failing
 * block's index in params[3].value.a and log it, prefixed with `cmd`. */
void cmd_report_block_error(TEE_Result res, uint32_t fail_index,
			    TEE_Param params[SHIM_NUM_PARAMS], const char *cmd);

/* Check a ts_sort_request's slots, counts and key columns (SORT_BLOCKS and
 * XSORT_START share it) and fill cols[0..key_count-1]. Unused key entries
 * must be all zero, like every reserved field, so that later ABI versions
 * can give them meaning; offsets are checked later, against the row size.
 * Public input only. */
struct obl_key_col;
TEE_Result cmd_check_sort_request(const struct ts_sort_request *req,
				  struct obl_key_col *cols);

#endif /* TEESPARK_CMD_H */

/*
 * cmd_util.c - small helpers shared by the command handlers (see cmd.h).
 */
#include "cmd.h"
#include "../ops/key_encode.h"

uint64_t cmd_now_us(void)
{
	TEE_Time t;

	TEE_GetSystemTime(&t);
	return (uint64_t)t.seconds * 1000000u + (uint64_t)t.millis * 1000u;
}

int cmd_cancelled(void)
{
	return TEE_GetCancellationFlag() ? 1 : 0;
}

int cmd_is_block_error(TEE_Result res)
{
	return res == TS_ERROR_BLOCK_FORMAT || res == TS_ERROR_BLOCK_AUTH ||
	       res == TS_ERROR_BLOCK_SEQUENCE;
}

/* see cmd.h */
void cmd_free_wiped(uint8_t **buf, size_t len)
{
	if (*buf) {
		shim_wipe(*buf, len);
		TEE_Free(*buf);
	}
	*buf = NULL;
}

/* see cmd.h */
TEE_Result cmd_request_params(uint32_t param_types,
			      TEE_Param params[SHIM_NUM_PARAMS],
			      const char *what, void *req, size_t req_size,
			      const void **in, size_t *in_len)
{
	const uint32_t exp = TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_MEMREF_OUTPUT,
					     TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_VALUE_OUTPUT);

	if (param_types != exp)
		return TEE_ERROR_BAD_PARAMETERS;
	params[3].value.a = 0;
	params[3].value.b = 0;
	if (params[2].memref.size != req_size || !params[2].memref.buffer) {
		SHIM_LOGE("Wrong %s request size %zu, expect %zu bytes", what,
			  params[2].memref.size, req_size);
		return TEE_ERROR_BAD_PARAMETERS;
	}
	*in = params[0].memref.buffer;
	*in_len = *in ? params[0].memref.size : 0;
	/* Copied once: later checks read only the copy. */
	TEE_MemMove(req, params[2].memref.buffer, req_size);
	return TEE_SUCCESS;
}

/* see cmd.h */
void cmd_report_block_error(TEE_Result res, uint32_t fail_index,
			    TEE_Param params[SHIM_NUM_PARAMS], const char *cmd)
{
	if (!cmd_is_block_error(res))
		return;
	params[3].value.a = fail_index;
	SHIM_LOGE("%s: block %u: 0x%x", cmd, fail_index, (unsigned int)res);
}

/* see cmd.h */
TEE_Result cmd_check_sort_request(const struct ts_sort_request *req,
				struct obl_key_col *cols)
{
	uint32_t i;

	if (req->in_key_slot >= TS_MAX_KEY_SLOTS ||
	    req->out_key_slot >= TS_MAX_KEY_SLOTS ||
	    req->rows_per_block == 0 ||
	    req->key_count == 0 || req->key_count > TS_MAX_SORT_KEYS)
		return TS_ERROR_BAD_REQUEST;
	for (i = 0; i < TS_MAX_SORT_KEYS; i++) {
		const struct ts_sort_key *k = &req->keys[i];

		if (i >= req->key_count) {
			if (k->type || k->descending || k->offset ||
			    k->width || k->reserved)
				return TS_ERROR_BAD_REQUEST;
			continue;
		}
		cols[i].type = k->type;
		cols[i].descending = k->descending;
		cols[i].offset = k->offset;
		cols[i].width = k->width;
		cols[i].reserved = k->reserved;
	}
	/* Types, widths, descending and reserved; offsets wait for row_size. */
	if (obl_key_words_for(cols, req->key_count) == 0)
		return TS_ERROR_BAD_REQUEST;
	return TEE_SUCCESS;
}

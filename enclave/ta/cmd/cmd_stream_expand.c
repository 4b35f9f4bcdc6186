/*
 * cmd_stream_expand.c - the join-expansion modes of TA_TEESPARK_CMD_STREAM
 * (GROUP_COUNT, GENERATE, FILL; teespark_ta.h). Work in progress this
 * session: until they land, every request for them is refused.
 */
#include "cmd_stream_internal.h"

int stream_is_expand_mode(uint32_t mode)
{
	return mode == TS_STREAM_GROUP_COUNT || mode == TS_STREAM_GENERATE ||
	       mode == TS_STREAM_FILL;
}

TEE_Result stream_expand_check(const struct ts_stream_request *r,
			       struct stream_state *st, uint32_t rs0,
			       uint32_t *out_row_size, size_t *xstate_size)
{
	(void)r; (void)st; (void)rs0; (void)out_row_size; (void)xstate_size;
	return TS_ERROR_BAD_REQUEST;
}

TEE_Result stream_expand_step(struct stream_state *st,
			      const struct ts_stream_request *r,
			      const uint8_t *row, uint32_t rs)
{
	(void)st; (void)r; (void)row; (void)rs;
	return TS_ERROR_BAD_REQUEST;
}

TEE_Result stream_expand_generate(struct stream_state *st,
				  const struct ts_stream_request *r)
{
	(void)st; (void)r;
	return TS_ERROR_BAD_REQUEST;
}

TEE_Result stream_expand_finish(struct stream_state *st,
				const struct ts_stream_request *r)
{
	(void)st; (void)r;
	return TEE_SUCCESS;
}

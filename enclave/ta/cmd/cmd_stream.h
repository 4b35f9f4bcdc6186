/*
 * cmd_stream.h - TA_TEESPARK_CMD_STREAM (teespark_ta.h, "Streaming aggregate
 * and join"): WIDEN, AGGREGATE, JOIN_PKFK and LIMIT over registered tables
 * of any size, one sealed block at a time.
 */
#ifndef TEESPARK_CMD_STREAM_H
#define TEESPARK_CMD_STREAM_H

#include "cmd.h"

/* Leaks: the request (modes, offsets, key and aggregate lists), block and
 * row counts and sizes of inputs and output, which input block failed, and
 * (AGGREGATE, JOIN_PKFK with reveal = 1) the number of real output rows;
 * JOIN_PKFK: whether a primary key repeats.
 * Hides: rows, keys, values, group sizes and boundaries, which rows match
 * or are real. */
TEE_Result cmd_stream(struct ta_session *s, uint32_t param_types,
		      TEE_Param params[SHIM_NUM_PARAMS]);

#endif /* TEESPARK_CMD_STREAM_H */

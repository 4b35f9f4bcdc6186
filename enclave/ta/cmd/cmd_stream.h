/*
 * cmd_stream.h - TA_TEESPARK_CMD_STREAM (teespark_ta.h, "Streaming aggregate
 * and join"): WIDEN, AGGREGATE, JOIN_PKFK (inner, outer, semi, anti),
 * LIMIT, MAP and the join expansion modes over registered tables of any
 * size, one sealed block at a time.
 */
#ifndef TEESPARK_CMD_STREAM_H
#define TEESPARK_CMD_STREAM_H

#include "cmd.h"

/* Leaks: the request (modes, variants, offsets, key and aggregate lists,
 * MAP's programs), block and row counts and sizes of inputs and output,
 * which input block failed, and with reveal = 1 the number of real
 * (flagged) output rows (AGGREGATE, JOIN_PKFK, MAP with MAP_FLAG) or m
 * (GROUP_COUNT forward); JOIN_PKFK inner and outer: whether a primary key
 * repeats; FILL: whether the fillers match the copies (the host's m).
 * Hides: rows, keys, values, NULLs, group sizes and boundaries, distinct
 * values, which rows match, pass the predicate or are real. */
TEE_Result cmd_stream(struct ta_session *s, uint32_t param_types,
		      TEE_Param params[SHIM_NUM_PARAMS]);

#endif /* TEESPARK_CMD_STREAM_H */

/*
 * cmd_util.c - small helpers shared by the command handlers (see cmd.h).
 */
#include "cmd.h"

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

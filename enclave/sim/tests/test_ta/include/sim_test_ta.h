/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_test_ta.h - commands of the simulator's test TA (not shipped).
 *
 * The test TA exercises the host simulator's process model: marshalling,
 * shared memory, TA death, heap limit, cancellation, instance separation.
 * Built to $(BUILD)/test-ta/6aa0af66-8560-40fa-93d6-80c6912b560e.so; point
 * TEESPARK_SIM_TA_PATH at $(BUILD)/test-ta to use it.
 *
 * Every command checks its parameter types exactly and returns
 * TEE_ERROR_BAD_PARAMETERS (0xFFFF0006) on a mismatch.  Unlisted slots are
 * TEEC_NONE.  Open session accepts any parameter types and ignores them.
 */
#ifndef SIM_TEST_TA_H
#define SIM_TEST_TA_H

/* 6aa0af66-8560-40fa-93d6-80c6912b560e */
#define SIM_TEST_TA_UUID \
	{ 0x6aa0af66, 0x8560, 0x40fa, \
	  { 0x93, 0xd6, 0x80, 0xc6, 0x91, 0x2b, 0x56, 0x0e } }

#define SIM_TEST_TA_UUID_STR "6aa0af66-8560-40fa-93d6-80c6912b560e"

/*
 * param0 MEMREF_TEMP_INPUT / PARTIAL_INPUT / WHOLE: input bytes (n may be 0)
 * param1 memref output (any output-capable kind): out[i] = in[i] ^ 0x5A.
 *        If param1.size < n: TEE_ERROR_SHORT_BUFFER with param1.size = n.
 *        Otherwise param1.size is set to n.
 * param2 VALUE_OUTPUT: a = high 32 bits, b = low 32 bits of the 64-bit
 *        FNV-1a hash of the input (offset basis 0xcbf29ce484222325,
 *        prime 0x100000001b3), computed in the TA.
 * param3 NONE
 */
#define SIM_TEST_CMD_ECHO_XOR        0

/* param0 VALUE_INPUT: a = panic code passed to TEE_Panic.  Never returns:
 * the call reports TEEC_ERROR_TARGET_DEAD / TEEC_ORIGIN_TEE. */
#define SIM_TEST_CMD_PANIC           1

/* No params.  Writes through a NULL pointer (SIGSEGV in the TA host). */
#define SIM_TEST_CMD_SEGFAULT        2

/* No params.  Calls abort() (SIGABRT in the TA host). */
#define SIM_TEST_CMD_ABORT           3

/*
 * param0 VALUE_INPUT: a = MiB, b = extra bytes; size = a * 1048576 + b.
 * TEE_Malloc(size, TEE_MALLOC_FILL_ZERO), checks it is zeroed, writes every
 * page, frees it.  TEE_ERROR_OUT_OF_MEMORY if TEE_Malloc returns NULL.
 */
#define SIM_TEST_CMD_ALLOC           4

/* param0 VALUE_INPUT: a = MiB, b = extra bytes, as ALLOC, but the block is
 * kept until RELEASE_ALLOC (one held block per instance; a second HOLD
 * without RELEASE returns TEE_ERROR_BAD_STATE). */
#define SIM_TEST_CMD_HOLD_ALLOC      5

/* No params.  Frees the block held by HOLD_ALLOC (no-op if none). */
#define SIM_TEST_CMD_RELEASE_ALLOC   6

/*
 * param0 VALUE_INPUT: a = milliseconds, b = flags (bit 0: keep cancellation
 *        masked, a negative control for cancellation tests).
 * Sleeps in 1 ms steps, checking TEE_GetCancellationFlag() each step;
 * returns TEE_ERROR_CANCEL (0xFFFF0002) when cancelled, TEE_SUCCESS after
 * a ms otherwise.  Unless b bit 0 is set the TA unmasks cancellation for
 * this command (TEE_UnmaskCancellation; GP masks it by default at every
 * entry point) and restores the previous mask afterwards.
 */
#define SIM_TEST_CMD_SLEEP           7

/* param0 VALUE_OUTPUT: a = high 32 bits, b = low 32 bits of the TA heap
 * limit in bytes (TA_DATA_SIZE or the TEESPARK_TA_DATA_SIZE override). */
#define SIM_TEST_CMD_GET_HEAP_LIMIT  8

/* param0 VALUE_OUTPUT: a = getpid() of the process the TA runs in, b = 0. */
#define SIM_TEST_CMD_GET_PID         9

/* param0 VALUE_OUTPUT: a = per-instance counter after increment (starts at
 * 0 in each new session, so the first call returns 1), b = number of
 * TA_CreateEntryPoint calls seen by this instance's process (always 1). */
#define SIM_TEST_CMD_COUNTER_INC     10

/*
 * param0 VALUE_INOUT: a in = value, a out = a + 1; b in = value, b out = ~b.
 * param1 VALUE_OUTPUT: a = the param types word the TA received, b = 0x5A5A.
 * param2, param3: anything; memrefs are reported in param1 via the types.
 * Used to check value copy-back rules (VALUE_INPUT must not be copied back).
 */
#define SIM_TEST_CMD_VALUES          11

/*
 * param0..param3: any memref types.  For each memref slot the TA writes
 * 0xA0 + slot into every byte and sets size to size / 2 (to check size
 * write-back rules).  Value slots: a = 0xC0 + slot, b = ~(0xC0 + slot).
 */
#define SIM_TEST_CMD_FILL            12

#endif /* SIM_TEST_TA_H */

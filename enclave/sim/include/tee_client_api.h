/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tee_client_api.h - GlobalPlatform TEE Client API (GPD_SPE_007 v1.0) for the
 * teespark host TEE simulator.
 *
 * Source- and ABI-compatible with OP-TEE's libteec header: the same constant
 * values, the same struct layouts (size_t sizes) and the same implementation
 * ("imp") member layout, so a CA compiled against OP-TEE's header links
 * against the simulator's libteec.so unchanged and vice versa.  The imp
 * members are used by the simulator for its own bookkeeping; callers must not
 * touch them.
 *
 * Written from the GP specification and the constant/struct facts collected in
 * docs (gp-tee-api.md, sections 1.1-1.4); no third-party code is copied.
 */
#ifndef TEE_CLIENT_API_H
#define TEE_CLIENT_API_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TEEC_CONFIG_PAYLOAD_REF_COUNT 4

/* "No restriction in this implementation" (as in OP-TEE). */
#define TEEC_CONFIG_SHAREDMEM_MAX_SIZE ULONG_MAX

/* Parameter types, 4 bits per slot. */
#define TEEC_NONE                   0x00000000
#define TEEC_VALUE_INPUT            0x00000001
#define TEEC_VALUE_OUTPUT           0x00000002
#define TEEC_VALUE_INOUT            0x00000003
#define TEEC_MEMREF_TEMP_INPUT      0x00000005
#define TEEC_MEMREF_TEMP_OUTPUT     0x00000006
#define TEEC_MEMREF_TEMP_INOUT      0x00000007
#define TEEC_MEMREF_WHOLE           0x0000000C
#define TEEC_MEMREF_PARTIAL_INPUT   0x0000000D
#define TEEC_MEMREF_PARTIAL_OUTPUT  0x0000000E
#define TEEC_MEMREF_PARTIAL_INOUT   0x0000000F

/* Shared memory flags. */
#define TEEC_MEM_INPUT   0x00000001
#define TEEC_MEM_OUTPUT  0x00000002

/* Return codes. */
#define TEEC_SUCCESS                      0x00000000
#define TEEC_ERROR_STORAGE_NOT_AVAILABLE  0xF0100003
#define TEEC_ERROR_GENERIC                0xFFFF0000
#define TEEC_ERROR_ACCESS_DENIED          0xFFFF0001
#define TEEC_ERROR_CANCEL                 0xFFFF0002
#define TEEC_ERROR_ACCESS_CONFLICT        0xFFFF0003
#define TEEC_ERROR_EXCESS_DATA            0xFFFF0004
#define TEEC_ERROR_BAD_FORMAT             0xFFFF0005
#define TEEC_ERROR_BAD_PARAMETERS         0xFFFF0006
#define TEEC_ERROR_BAD_STATE              0xFFFF0007
#define TEEC_ERROR_ITEM_NOT_FOUND         0xFFFF0008
#define TEEC_ERROR_NOT_IMPLEMENTED        0xFFFF0009
#define TEEC_ERROR_NOT_SUPPORTED          0xFFFF000A
#define TEEC_ERROR_NO_DATA                0xFFFF000B
#define TEEC_ERROR_OUT_OF_MEMORY          0xFFFF000C
#define TEEC_ERROR_BUSY                   0xFFFF000D
#define TEEC_ERROR_COMMUNICATION          0xFFFF000E
#define TEEC_ERROR_SECURITY               0xFFFF000F
#define TEEC_ERROR_SHORT_BUFFER           0xFFFF0010
#define TEEC_ERROR_EXTERNAL_CANCEL        0xFFFF0011
#define TEEC_ERROR_TARGET_DEAD            0xFFFF3024
#define TEEC_ERROR_STORAGE_NO_SPACE       0xFFFF3041

/*
 * Codes shared with the Internal API that OP-TEE also exposes to CAs.  Guarded
 * so a translation unit may include both this header and tee_api_defines.h.
 */
#ifndef TEE_ERROR_EXTERNAL_CANCEL
#define TEE_ERROR_EXTERNAL_CANCEL         0xFFFF0011
#endif
#ifndef TEE_ERROR_OVERFLOW
#define TEE_ERROR_OVERFLOW                0xFFFF300F
#endif
#ifndef TEE_ERROR_TARGET_DEAD
#define TEE_ERROR_TARGET_DEAD             0xFFFF3024
#endif
#ifndef TEE_ERROR_STORAGE_NO_SPACE
#define TEE_ERROR_STORAGE_NO_SPACE        0xFFFF3041
#endif
#ifndef TEE_ERROR_MAC_INVALID
#define TEE_ERROR_MAC_INVALID             0xFFFF3071
#endif
#ifndef TEE_ERROR_SIGNATURE_INVALID
#define TEE_ERROR_SIGNATURE_INVALID       0xFFFF3072
#endif
#ifndef TEE_ERROR_TIME_NOT_SET
#define TEE_ERROR_TIME_NOT_SET            0xFFFF5000
#endif
#ifndef TEE_ERROR_TIME_NEEDS_RESET
#define TEE_ERROR_TIME_NEEDS_RESET        0xFFFF5001
#endif

/* Return origins. */
#define TEEC_ORIGIN_API          0x00000001
#define TEEC_ORIGIN_COMMS        0x00000002
#define TEEC_ORIGIN_TEE          0x00000003
#define TEEC_ORIGIN_TRUSTED_APP  0x00000004

/* Login methods. */
#define TEEC_LOGIN_PUBLIC             0x00000000
#define TEEC_LOGIN_USER               0x00000001
#define TEEC_LOGIN_GROUP              0x00000002
#define TEEC_LOGIN_APPLICATION        0x00000004
#define TEEC_LOGIN_USER_APPLICATION   0x00000005
#define TEEC_LOGIN_GROUP_APPLICATION  0x00000006

#define TEEC_PARAM_TYPES(p0, p1, p2, p3) \
	((p0) | ((p1) << 4) | ((p2) << 8) | ((p3) << 12))
#define TEEC_PARAM_TYPE_GET(p, i) (((p) >> ((i) * 4)) & 0xF)

typedef uint32_t TEEC_Result;

/*
 * imp.fd: OP-TEE's device fd; the simulator stores a marker there while the
 * context is initialised (-1 after TEEC_FinalizeContext).  reg_mem /
 * memref_null: capabilities as OP-TEE records them (true for both).
 */
typedef struct {
	struct {
		int fd;
		bool reg_mem;
		bool memref_null;
	} imp;
} TEEC_Context;

typedef struct {
	uint32_t timeLow;
	uint16_t timeMid;
	uint16_t timeHiAndVersion;
	uint8_t clockSeqAndNode[8];
} TEEC_UUID;

/*
 * imp (simulator use): id = simulator shared-memory id, alloced_size = mapped
 * length (size 0 -> 8), shadow_buffer = memfd mapping that backs a registered
 * caller buffer (NULL for allocated memory, whose buffer is the mapping),
 * registered_fd = the memfd, flags = the flags at registration.
 */
typedef struct {
	void *buffer;
	size_t size;
	uint32_t flags;
	struct {
		int id;
		size_t alloced_size;
		void *shadow_buffer;
		int registered_fd;
		uint32_t flags;
	} imp;
} TEEC_SharedMemory;

typedef struct {
	void *buffer;
	size_t size;
} TEEC_TempMemoryReference;

typedef struct {
	TEEC_SharedMemory *parent;
	size_t size;
	size_t offset;
} TEEC_RegisteredMemoryReference;

typedef struct {
	uint32_t a;
	uint32_t b;
} TEEC_Value;

typedef union {
	TEEC_TempMemoryReference tmpref;
	TEEC_RegisteredMemoryReference memref;
	TEEC_Value value;
} TEEC_Parameter;

/* imp.ctx = owning context, imp.session_id = simulator session handle. */
typedef struct {
	struct {
		TEEC_Context *ctx;
		uint32_t session_id;
	} imp;
} TEEC_Session;

/*
 * started: set to 0 before a call that may be cancelled (GP).  The simulator
 * sets it to 1 once the operation has been handed to the TA.
 * imp.session: session the operation was last used with (for cancellation).
 */
typedef struct {
	uint32_t started;
	uint32_t paramTypes;
	TEEC_Parameter params[TEEC_CONFIG_PAYLOAD_REF_COUNT];
	struct {
		TEEC_Session *session;
	} imp;
} TEEC_Operation;

TEEC_Result TEEC_InitializeContext(const char *name, TEEC_Context *context);
void TEEC_FinalizeContext(TEEC_Context *context);

TEEC_Result TEEC_OpenSession(TEEC_Context *context, TEEC_Session *session,
			     const TEEC_UUID *destination,
			     uint32_t connectionMethod,
			     const void *connectionData,
			     TEEC_Operation *operation,
			     uint32_t *returnOrigin);
void TEEC_CloseSession(TEEC_Session *session);

TEEC_Result TEEC_InvokeCommand(TEEC_Session *session, uint32_t commandID,
			       TEEC_Operation *operation,
			       uint32_t *returnOrigin);

TEEC_Result TEEC_RegisterSharedMemory(TEEC_Context *context,
				      TEEC_SharedMemory *sharedMem);
TEEC_Result TEEC_AllocateSharedMemory(TEEC_Context *context,
				      TEEC_SharedMemory *sharedMem);
void TEEC_ReleaseSharedMemory(TEEC_SharedMemory *sharedMemory);

void TEEC_RequestCancellation(TEEC_Operation *operation);

#ifdef __cplusplus
}
#endif

#endif /* TEE_CLIENT_API_H */

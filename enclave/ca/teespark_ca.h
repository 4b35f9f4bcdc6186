/* SPDX-License-Identifier: Apache-2.0 */
/*
 * teespark_ca.h - the small, stable C ABI that teespark's Python layer binds
 * to (through ctypes) instead of the GlobalPlatform TEE Client API.
 *
 * Why this exists: the GP Client API is API-compatible but ABI-incompatible
 * between TEEs. OP-TEE's TEEC_* structs carry size_t sizes, iTrustee's carry
 * uint32_t sizes and extra members, and both have implementation-defined
 * "imp" parts. A binding that mirrored TEEC_* structs would silently corrupt
 * memory on the other TEE. This header uses only fixed-width integers,
 * pointers and its own structs, and the library is built once per backend
 * (simulator, OP-TEE libteec, iTrustee libteec) with the same ABI.
 *
 * Rules that make the ABI stable:
 *   - Struct layouts below never change within an ABI version; every field
 *     has an explicit width and explicit padding. tsca_sizeof_param() and
 *     tsca_sizeof_error() let a binding check its mirror at load time.
 *   - Functions return a GP result code (uint32_t, 0 = success) and fill a
 *     caller-provided tsca_error with code, origin and a one-line message.
 *   - The message names the GP function, the command id or UUID, the code
 *     and the origin. It never contains buffer contents.
 *
 * Threading: every function is thread-safe. One TEE context is created per
 * process, lazily, on first use (a child created by fork() gets its own).
 * Calls on one session are serialized (a TA instance is never entered by two
 * threads at once anyway); calls on different sessions run concurrently.
 * tsca_request_cancel() may be called from any thread while a call runs.
 *
 * Byte order of UUIDs: the 16 bytes of RFC 4122 / the string form, e.g.
 * "83c7c701-68cf-..." -> {0x83, 0xc7, 0xc7, 0x01, 0x68, 0xcf, ...}
 * (Python: uuid.UUID(s).bytes).
 */
#ifndef TEESPARK_CA_H
#define TEESPARK_CA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any incompatible change of a struct, constant or signature. */
#define TSCA_ABI_VERSION 1

/* Parameter kinds (tsca_param.kind). The numbers are part of the ABI. */
#define TSCA_PARAM_NONE        0u
#define TSCA_PARAM_VALUE_IN    1u   /* a, b sent to the TA */
#define TSCA_PARAM_VALUE_OUT   2u   /* a, b written back */
#define TSCA_PARAM_VALUE_INOUT 3u
#define TSCA_PARAM_BUF_IN      5u   /* caller buffer buf[0..size) */
#define TSCA_PARAM_BUF_OUT     6u   /* size written back */
#define TSCA_PARAM_BUF_INOUT   7u   /* size written back */
#define TSCA_PARAM_SHM_IN      13u  /* shm[offset .. offset+size) */
#define TSCA_PARAM_SHM_OUT     14u  /* size written back */
#define TSCA_PARAM_SHM_INOUT   15u  /* size written back */

/* Shared-memory direction flags (tsca_shm_alloc / tsca_shm_register). */
#define TSCA_SHM_IN    1u   /* the TA reads it */
#define TSCA_SHM_OUT   2u   /* the TA writes it */
#define TSCA_SHM_INOUT 3u

/*
 * Caller buffers (BUF_*) larger than this are passed to the TA through
 * shared memory allocated for the call (copy in, copy out), because iTrustee
 * caps temporary memory references at 1 MiB. The TA sees the same bytes
 * either way. Callers with bulk data should allocate shared memory once and
 * use SHM_* parameters to avoid the copies.
 */
#define TSCA_TEMP_MEMREF_MAX (1u << 20)

#define TSCA_PARAM_COUNT 4
#define TSCA_MESSAGE_SIZE 160

typedef struct tsca_session tsca_session;   /* opaque */
typedef struct tsca_shm tsca_shm;           /* opaque */

/*
 * One parameter of a command (48 bytes on LP64).
 *   VALUE_*: a, b.  BUF_*: buf, size.  SHM_*: shm, offset, size.
 * After tsca_invoke (also when it fails, so that TEEC_ERROR_SHORT_BUFFER can
 * report the needed size and TA error details in values come back):
 *   VALUE_OUT/INOUT: a, b hold the TA's values.
 *   BUF_OUT/INOUT, SHM_OUT/INOUT: size holds the size the TA reported, which
 *   is larger than the buffer on TEEC_ERROR_SHORT_BUFFER (the needed size).
 * An empty buffer is buf = NULL, size = 0 (a non-NULL buf with size 0 is
 * passed as NULL too).
 */
typedef struct {
	uint32_t kind;      /* TSCA_PARAM_* */
	uint32_t a;
	uint32_t b;
	uint32_t reserved;  /* must be 0 */
	void *buf;
	uint64_t size;
	tsca_shm *shm;
	uint64_t offset;
} tsca_param;

/*
 * Error report. code = GP result (TEEC_ERROR_* or a TA-defined code),
 * origin = TEEC_ORIGIN_* (1 API, 2 COMMS, 3 TEE, 4 TRUSTED_APP), message =
 * NUL-terminated one-liner such as
 * "TEEC_InvokeCommand(cmd 5) failed 0xffff3024 origin 3 (TEE)".
 * Cleared (code 0, empty message) on success.
 */
typedef struct {
	uint32_t code;
	uint32_t origin;
	char message[TSCA_MESSAGE_SIZE];
} tsca_error;

/* TSCA_ABI_VERSION of the library actually loaded. */
uint32_t tsca_abi_version(void);

/* sizeof(tsca_param) and sizeof(tsca_error), to check a binding's mirror. */
uint32_t tsca_sizeof_param(void);
uint32_t tsca_sizeof_error(void);

/* "sim", "optee" or "itrustee": the backend this library was built for. */
const char *tsca_backend(void);

/*
 * Open a session to the TA with this UUID (one fresh TA instance for
 * multi-instance TAs). Creates the process's TEE context on first use.
 * Login: TEEC_LOGIN_PUBLIC (simulator, OP-TEE) or TEEC_LOGIN_IDENTIFY
 * (iTrustee). No open-session parameters are sent.
 * Returns 0 and *out, or a GP code (TEEC_ERROR_ITEM_NOT_FOUND: no such TA).
 */
uint32_t tsca_open(const uint8_t uuid[16], tsca_session **out,
		   tsca_error *err);

/* Close a session and free it. NULL is ignored. Waits for a call in
 * progress on the session to return. The handle is invalid afterwards, so
 * the caller must make sure no other thread is about to use it (including
 * tsca_request_cancel). In a child of fork() it only frees the handle. */
void tsca_close(tsca_session *session);

/*
 * Invoke command cmd with 4 parameters (params may be NULL: all NONE).
 * Returns 0 or a GP / TA result code; see tsca_param for write-back.
 * TEEC_ERROR_TARGET_DEAD means the TA instance is gone: the session is
 * marked dead and every later call on it returns TEEC_ERROR_TARGET_DEAD
 * (origin API) without reaching the TEE; close it and open a new one.
 */
uint32_t tsca_invoke(tsca_session *session, uint32_t cmd,
		     tsca_param params[TSCA_PARAM_COUNT], tsca_error *err);

/* 1 if the session's TA instance died (TEEC_ERROR_TARGET_DEAD seen). */
uint32_t tsca_session_is_dead(const tsca_session *session);

/*
 * Ask the TEE to cancel the call currently running on the session (from
 * another thread). Returns 1 if a call was running and the request was sent,
 * 0 if no call was running (nothing is remembered for a later call).
 * Cancellation is cooperative: the TA sees it only where it checks for it,
 * and the cancelled call then returns TEEC_ERROR_CANCEL.
 */
uint32_t tsca_request_cancel(tsca_session *session);

/*
 * Allocate size bytes of shared memory in the process's TEE context.
 * flags = TSCA_SHM_IN / OUT / INOUT. *ptr receives the caller's mapping.
 * Shared memory belongs to the context, not to a session: it stays valid
 * across closing and reopening sessions, until tsca_shm_release().
 */
uint32_t tsca_shm_alloc(uint64_t size, uint32_t flags, tsca_shm **out,
			void **ptr, tsca_error *err);

/*
 * Register an existing caller buffer (non-NULL, size > 0: GP implementations
 * round size 0 up and would touch bytes past an empty buffer) as shared
 * memory. The buffer must stay
 * valid (and, for TSCA_SHM_OUT, writable) until tsca_shm_release(). Whether
 * the TA then works on the caller's pages or on a copy synchronised around
 * each call is the backend's business; the caller sees the same result.
 */
uint32_t tsca_shm_register(void *buf, uint64_t size, uint32_t flags,
			   tsca_shm **out, tsca_error *err);

/* Size in bytes of a shared-memory region (as allocated or registered). */
uint64_t tsca_shm_size(const tsca_shm *shm);

/* Release shared memory. NULL is ignored. Must not be in use by a call. */
void tsca_shm_release(tsca_shm *shm);

#ifdef __cplusplus
}
#endif

#endif /* TEESPARK_CA_H */

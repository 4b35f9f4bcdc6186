/*
 * sim_internal.h - interfaces between the parts of the teespark simulator's
 * Internal Core API. Not for TA code.
 *
 * Contract with the TA-host process (enclave/sim/host, helper A1):
 *
 *   const TEE_UUID *sim_current_ta_uuid(void);
 *       Implemented by the host: the UUID of the TA loaded in this process
 *       (from its properties / ta_head). Secure storage is keyed by it: each
 *       TA sees only $storage/<uuid>/ and data sealed under a key derived
 *       from the simulated HUK and that UUID. A weak fallback in
 *       internal/storage.c returns NULL, which makes every storage call fail
 *       with TEE_ERROR_STORAGE_NOT_AVAILABLE (never a shared directory).
 *
 *   void TEE_Panic(TEE_Result) (noreturn)
 *       Implemented by the host; this code calls it on programmer errors,
 *       as OP-TEE's libutee does.
 *
 *   void sim_trace_printf(int level, const char *func, int line,
 *                         const char *fmt, ...);
 *       Implemented here (internal/trace.c); declared in <trace.h>.
 *
 * The crypto/object/storage state lives in ordinary process memory
 * (malloc), outside the TA's TEE_Malloc heap, the way OP-TEE keeps crypto
 * state in the TEE core rather than in the TA heap.
 *
 * Time functions (TEE_GetSystemTime, TEE_GetREETime, TEE_Wait) are defined
 * weak in internal/time.c so the host can override them (for example to
 * make TEE_Wait honour cancellation).
 */
#ifndef SIM_INTERNAL_H
#define SIM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <tee_internal_api.h>

/* Provided by the TA host (weak fallback: NULL = storage unavailable). */
const TEE_UUID *sim_current_ta_uuid(void);

/* ---- shared between objects.c, operations.c and storage.c ---- */

#define SIM_OBJ_MAGIC	0x4f424a31u	/* "OBJ1" */
#define SIM_OBJ_DEAD	0x44454144u	/* "DEAD" */

/* Largest secret a simulated object holds: HMAC keys up to 1024 bits,
 * generic secrets up to 4096 bits (OP-TEE's limits). */
#define SIM_MAX_SECRET_BYTES	512

struct sim_pobj;

struct __TEE_ObjectHandle {
	uint32_t magic;
	uint32_t type;		/* TEE_TYPE_* */
	uint32_t max_bits;	/* maxObjectSize */
	uint32_t key_bits;	/* objectSize once initialized */
	uint32_t usage;		/* TEE_USAGE_* */
	uint32_t flags;		/* TEE_HANDLE_FLAG_* | TEE_DATA_FLAG_* */
	size_t secret_len;	/* bytes valid in secret[] */
	uint8_t *secret;	/* SIM_MAX_SECRET_BYTES or less, wiped on
				 * reset/free; NULL for pure data objects */
	struct sim_pobj *pobj;	/* non-NULL for persistent objects */
};

/* Panics unless `o` is a live object handle. */
void sim_obj_check(TEE_ObjectHandle o);

/* Valid key sizes per object type: TEE_SUCCESS or TEE_ERROR_NOT_SUPPORTED. */
TEE_Result sim_obj_check_size(uint32_t type, uint32_t bits);

/* Wipes and frees a handle (storage.c uses it for persistent handles). */
void sim_obj_free_handle(TEE_ObjectHandle o);

/* Persistent object hooks used by objects.c. */
void sim_pobj_close(TEE_ObjectHandle o);
void sim_pobj_fill_info(TEE_ObjectHandle o, TEE_ObjectInfo *info);

/* Secret-dependent output marking for the valgrind constant-time check
 * (see operations.c). */
int sim_ct_secrets_enabled(void);

#endif /* SIM_INTERNAL_H */

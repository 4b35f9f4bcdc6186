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

#include <stdbool.h>
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

/* ---- Data objects of a given UUID (storage.c), for pseudo-TAs ----
 *
 * A pseudo-TA keeps its state in the secure storage of its own UUID, in
 * exactly the layout, file format and key hierarchy storage.c gives TAs,
 * so a TA of that UUID opens the same object with TEE_OpenPersistentObject.
 * Only pure data objects (TEE_TYPE_DATA, no key attributes). Neither call
 * needs a TA identity (sim_current_ta_uuid). Ids up to
 * TEE_OBJECT_ID_MAX_LEN bytes, else TEE_ERROR_BAD_PARAMETERS.
 *
 * sim_storage_load_for_uuid: on success *data (malloc'd; the caller wipes
 *     and free()s it) holds the object's *len bytes of data.
 *     TEE_ERROR_ITEM_NOT_FOUND if there is no such object,
 *     TEE_ERROR_CORRUPT_OBJECT if it fails authentication or is not a data
 *     object, TEE_ERROR_STORAGE_NOT_AVAILABLE if storage cannot be used.
 * sim_storage_store_for_uuid: seals `data` as the object and publishes it
 *     atomically. With `exclusive`, only if there is no such object yet
 *     (link(2), so across processes too), else TEE_ERROR_ACCESS_CONFLICT:
 *     of two callers creating an object at once exactly one succeeds, and
 *     the other can re-read the winner's. TEE_ERROR_ACCESS_CONFLICT as well
 *     if a handle in this process has the object open. */
TEE_Result sim_storage_load_for_uuid(const TEE_UUID *uuid, const void *id,
				     size_t id_len, void **data, size_t *len);
TEE_Result sim_storage_store_for_uuid(const TEE_UUID *uuid, const void *id,
				      size_t id_len, const void *data,
				      size_t len, bool exclusive);

/* ---- Curve25519 keys and operations (asym.c) ----
 *
 * Objects of the four 25519 types keep 32 bytes in secret[]: the private
 * value for key pairs (the public value is recomputed from it when asked
 * for), the public value for public keys. That keeps them within the
 * max_bits/8 buffer every other part (storage.c included) assumes. */

#define SIM_25519_BYTES	32

/* True for TEE_TYPE_{X25519,ED25519}_{PUBLIC_KEY,KEYPAIR}. */
bool sim_asym_is_type(uint32_t type);

/* Object hooks called by objects.c for the 25519 types. */
TEE_Result sim_asym_populate(TEE_ObjectHandle o, const TEE_Attribute *attrs,
			     uint32_t attrCount);
TEE_Result sim_asym_generate(TEE_ObjectHandle o, uint32_t keySize,
			     const TEE_Attribute *params, uint32_t paramCount);
TEE_Result sim_asym_get_attr(TEE_ObjectHandle o, uint32_t attributeID,
			     void *buffer, size_t *size);
/* Copies a key pair's public part into a public-key object of the same
 * curve (GP TEE_CopyObjectAttributes1); panics on other combinations. */
void sim_asym_copy_public(TEE_ObjectHandle dst, TEE_ObjectHandle src);

/* Operation hooks called by operations.c. sim_asym_op_key checks that `key`
 * suits (algorithm, mode) and writes the raw 32-byte key the operation
 * keeps (private value to sign or derive, public value to verify). */
void sim_asym_op_key(uint32_t algorithm, uint32_t mode, TEE_ObjectHandle key,
		     uint8_t out[SIM_25519_BYTES]);
TEE_Result sim_asym_sign(const uint8_t priv[SIM_25519_BYTES],
			 const TEE_Attribute *params, uint32_t paramCount,
			 const void *msg, size_t msgLen, void *sig,
			 size_t *sigLen);
TEE_Result sim_asym_verify(const uint8_t pub[SIM_25519_BYTES],
			   const TEE_Attribute *params, uint32_t paramCount,
			   const void *msg, size_t msgLen, const void *sig,
			   size_t sigLen);
void sim_asym_derive(const uint8_t priv[SIM_25519_BYTES],
		     const TEE_Attribute *params, uint32_t paramCount,
		     TEE_ObjectHandle derivedKey);

/* ---- The attestation pseudo-TA (pta_attestation.c) ---- */

/* Command dispatch, reached through TEE_InvokeTACommand (ta_sessions.c). */
TEE_Result sim_pta_attestation_invoke(uint32_t cmd, uint32_t param_types,
				      TEE_Param params[TEE_NUM_PARAMS]);

/* The measurement HASH_TA_MEMORY reports for the calling TA: SHA-256 over
 * the non-writable PT_LOAD segments of the loaded TA image (the object
 * named <uuid>.so for sim_current_ta_uuid(), else, in an in-process
 * harness, the object holding TA_InvokeCommandEntryPoint), sorted by size
 * then content. TEE_ERROR_ACCESS_DENIED if there is no TA image. */
TEE_Result sim_pta_attestation_measure(uint8_t out[32]);

/* Forgets the cached device key, so the next command reloads it from
 * storage as a fresh process would (tests). */
void sim_pta_attestation_reset(void);

/* Secret-dependent output marking for the valgrind constant-time check
 * (see operations.c). */
int sim_ct_secrets_enabled(void);

#endif /* SIM_INTERNAL_H */

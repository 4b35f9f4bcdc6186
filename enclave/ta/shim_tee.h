/*
 * shim_tee.h - the one portability header of the teespark TA.
 *
 * The TA is written against the GlobalPlatform TEE Internal Core API 1.3.1
 * (size_t lengths) and builds for three targets from one source:
 *
 *   OP-TEE     (default)              TA dev kit, enclave/ta/Makefile + sub.mk
 *   iTrustee   -DTEESPARK_ITRUSTEE    iTrustee SDK, enclave/ta/manifest.txt,
 *                                     built with API_LEVEL >= 2
 *   simulator  -DTEESPARK_SIM         enclave/ta/ta_sim.mk, against the GP
 *                                     headers in enclave/sim/include
 *
 * Everything that differs between them lives here and nowhere else (see
 * shared reference gp-tee-api.md sections 4.2 and 10.1): header names, log
 * macros, the private storage id, the signatures that differ in integer width
 * or const-ness, and the device-bound key derivation. TA code calls the
 * shim_* / SHIM_* names for those and plain GP names for everything else.
 *
 * Only the simulator build is compiled on this machine. The OP-TEE and
 * iTrustee branches follow the SDK headers as documented in the reference and
 * must be compiled on those SDKs before release.
 */
#ifndef TEESPARK_SHIM_TEE_H
#define TEESPARK_SHIM_TEE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <teespark_ta.h>

#if defined(TEESPARK_ITRUSTEE)
#include <tee_ext_api.h>
#include <tee_log.h>
#elif defined(TEESPARK_SIM)
#include <tee_internal_api.h>
#include <trace.h>
#else /* OP-TEE */
#include <tee_internal_api.h>
#include <tee_internal_api_extensions.h>
#include <trace.h>
#endif

/* ------------------------------------------------------------------------ */
/* Build-time facts the wire format relies on                                */
/* ------------------------------------------------------------------------ */

/* Wire structs are little-endian and read as native integers. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "teespark TA: the wire format needs a little-endian target"
#endif

_Static_assert(sizeof(struct ts_block_header) == TS_BLOCK_HEADER_SIZE,
	       "struct ts_block_header must be 96 bytes");
_Static_assert(sizeof(struct ts_sort_request) == TS_SORT_REQUEST_SIZE,
	       "struct ts_sort_request must be 200 bytes");
_Static_assert(sizeof(struct ts_sort_key) == 16,
	       "struct ts_sort_key must be 16 bytes");

/* ------------------------------------------------------------------------ */
/* Names                                                                     */
/* ------------------------------------------------------------------------ */

/* iTrustee calls it TEE_PARAMS_NUM and leaves TEE_NUM_PARAMS undefined. */
#define SHIM_NUM_PARAMS 4

#if defined(TEESPARK_ITRUSTEE)
#define SHIM_STORAGE_PRIVATE TEE_OBJECT_STORAGE_PRIVATE
#else
#define SHIM_STORAGE_PRIVATE TEE_STORAGE_PRIVATE
#endif

/*
 * Logging. Public values only (command ids, block indices, sizes): these
 * lines leave the TEE. OP-TEE's and the simulator's EMSG add the newline;
 * iTrustee's tlog* do not.
 */
#if defined(TEESPARK_ITRUSTEE)
#define SHIM_LOGE(fmt, ...) tloge(fmt "\n", ##__VA_ARGS__)
#define SHIM_LOGI(fmt, ...) tlogi(fmt "\n", ##__VA_ARGS__)
#define SHIM_LOGD(fmt, ...) tlogd(fmt "\n", ##__VA_ARGS__)
#else
#define SHIM_LOGE(...) EMSG(__VA_ARGS__)
#define SHIM_LOGI(...) IMSG(__VA_ARGS__)
#define SHIM_LOGD(...) DMSG(__VA_ARGS__)
#endif

/* ------------------------------------------------------------------------ */
/* Signature differences                                                     */
/* ------------------------------------------------------------------------ */

/*
 * iTrustee takes non-const pointers where GP 1.3.1 has const ones
 * (TEE_AEInit nonce, TEE_AEUpdateAAD, TEE_AE*Final srcData,
 * TEE_InitRefAttribute buffer, TEE_PopulateTransientObject attrs). The
 * callee does not write through them; the casts only satisfy the prototypes.
 */
#define SHIM_UNCONST(p) ((void *)(uintptr_t)(const void *)(p))

static inline void shim_init_ref_attribute(TEE_Attribute *attr, uint32_t id,
					   const void *buffer, size_t length)
{
	TEE_InitRefAttribute(attr, id, SHIM_UNCONST(buffer), length);
}

static inline TEE_Result shim_populate_transient_object(TEE_ObjectHandle obj,
							const TEE_Attribute *attrs,
							uint32_t count)
{
	return TEE_PopulateTransientObject(obj, (TEE_Attribute *)SHIM_UNCONST(attrs),
					   count);
}

static inline TEE_Result shim_ae_init(TEE_OperationHandle op, const void *nonce,
				      size_t nonce_len, uint32_t tag_bits,
				      size_t aad_len, size_t payload_len)
{
	return TEE_AEInit(op, SHIM_UNCONST(nonce), nonce_len, tag_bits, aad_len,
			  payload_len);
}

static inline void shim_ae_update_aad(TEE_OperationHandle op, const void *aad,
				      size_t aad_len)
{
	TEE_AEUpdateAAD(op, SHIM_UNCONST(aad), aad_len);
}

static inline TEE_Result shim_ae_update(TEE_OperationHandle op, const void *src,
					size_t src_len, void *dst, size_t *dst_len)
{
	return TEE_AEUpdate(op, SHIM_UNCONST(src), src_len, dst, dst_len);
}

/* tag_len is in BYTES here (GP: bits at init, bytes at final). */
static inline TEE_Result shim_ae_encrypt_final(TEE_OperationHandle op,
					       const void *src, size_t src_len,
					       void *dst, size_t *dst_len,
					       void *tag, size_t *tag_len)
{
	return TEE_AEEncryptFinal(op, SHIM_UNCONST(src), src_len, dst, dst_len,
				  tag, tag_len);
}

static inline TEE_Result shim_ae_decrypt_final(TEE_OperationHandle op,
					       const void *src, size_t src_len,
					       void *dst, size_t *dst_len,
					       const void *tag, size_t tag_len)
{
	return TEE_AEDecryptFinal(op, SHIM_UNCONST(src), src_len, dst, dst_len,
				  SHIM_UNCONST(tag), tag_len);
}

/* OP-TEE / sim: size_t *count; iTrustee: uint32_t *count. */
static inline TEE_Result shim_read_object_data(TEE_ObjectHandle obj, void *buf,
					       size_t size, size_t *count)
{
#if defined(TEESPARK_ITRUSTEE)
	uint32_t n = 0;
	TEE_Result res = TEE_ReadObjectData(obj, buf, (uint32_t)size, &n);

	*count = n;
	return res;
#else
	return TEE_ReadObjectData(obj, buf, size, count);
#endif
}

/*
 * Zero a buffer that held keys or plaintext before it is freed or reused.
 * TEE_MemFill: the fill byte is uint32_t on OP-TEE, uint8_t on iTrustee with
 * API_LEVEL >= 3; the value passed is always a byte, so one call serves both.
 * Leaks: len.  Hides: the old contents.
 */
static inline void shim_wipe(void *buf, size_t len)
{
	if (len)
		TEE_MemFill(buf, 0, len);
}

/* ------------------------------------------------------------------------ */
/* Device- and TA-bound key                                                  */
/* ------------------------------------------------------------------------ */

/*
 * Derive a key bound to this device and this TA (for sealing TA state that
 * must survive a restart), diversified by `extra` (a public label).
 *   OP-TEE:    system PTA, PTA_SYSTEM_DERIVE_TA_UNIQUE_KEY (key from the
 *              hardware unique key and the TA UUID; all-zero HUK on QEMU).
 *   iTrustee:  TEE_EXT_DeriveTARootKey(extra as salt).
 *   simulator: HMAC-SHA256 under a random 32-byte root kept in the TA's
 *              private storage (the simulator's per-UUID directory on the
 *              host): not hardware-bound, for development only.
 * key_len: 16..32 bytes (the OP-TEE PTA's range); extra_len <= 1024.
 * Leaks: key_len, extra (public).  Hides: the derived key. */
TEE_Result shim_derive_sealing_key(const void *extra, size_t extra_len,
				   uint8_t *key, size_t key_len);

#define SHIM_DERIVED_KEY_MIN 16
#define SHIM_DERIVED_KEY_MAX 32
#define SHIM_DERIVED_EXTRA_MAX 1024

#endif /* TEESPARK_SHIM_TEE_H */

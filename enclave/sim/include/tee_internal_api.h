/*
 * tee_internal_api.h - GP TEE Internal Core API v1.3.1 for TAs built for the
 * teespark host simulator.
 *
 * Signatures are OP-TEE's (libutee, GP 1.3.1, size_t lengths), so the same
 * TA source compiles for OP-TEE and for the simulator. What the simulator
 * implements, and who implements it:
 *
 *   enclave/sim/internal (crypto, objects, storage, random, time):
 *     TEE_GenerateRandom; transient objects for TEE_TYPE_AES (128/192/256),
 *     TEE_TYPE_HMAC_SHA256 (192..1024 bits, step 8, OP-TEE's default range),
 *     TEE_TYPE_GENERIC_SECRET; operations TEE_ALG_AES_GCM (AE),
 *     TEE_ALG_AES_{ECB_NOPAD,CBC_NOPAD,CTR} (cipher), TEE_ALG_SHA256
 *     (digest), TEE_ALG_HMAC_SHA256 (MAC); persistent objects in
 *     TEE_STORAGE_PRIVATE / TEE_STORAGE_PRIVATE_REE; TEE_GetSystemTime,
 *     TEE_GetREETime, TEE_Wait.
 *     Curve25519 (internal/asym.c): TEE_TYPE_X25519_KEYPAIR/_PUBLIC_KEY and
 *     TEE_TYPE_ED25519_KEYPAIR/_PUBLIC_KEY (256 bits; attributes
 *     TEE_ATTR_{X25519,ED25519}_{PUBLIC,PRIVATE}_VALUE, 32 bytes), with
 *     TEE_ALG_X25519 (TEE_MODE_DERIVE, TEE_DeriveKey into a
 *     TEE_TYPE_GENERIC_SECRET) and TEE_ALG_ED25519 (TEE_MODE_SIGN/VERIFY;
 *     the "digest" is the whole message, as in OP-TEE).
 *     TA-to-TA sessions (internal/ta_sessions.c): TEE_OpenTASession,
 *     TEE_InvokeTACommand, TEE_CloseTASession reach the in-process
 *     attestation pseudo-TA (<pta_attestation.h>) only; any other UUID
 *     gives TEE_ERROR_ITEM_NOT_FOUND.
 *   enclave/sim/host (the TA-host process): entry-point dispatch, TEE_Panic,
 *     TEE_Malloc/Realloc/Free (bounded by TA_DATA_SIZE), TEE_MemMove/Fill/
 *     Compare, cancellation, instance data, properties.
 *
 * Everything else declared here (RSA/ECC crypto, other key derivations,
 * sessions to other TAs) is declared for source
 * compatibility only and may be absent from the simulator: a TA that calls
 * it fails to load (undefined symbol) rather than misbehaving silently.
 *
 * Programmer errors (bad handle, wrong mode or state, missing output
 * length) panic, as on OP-TEE; the client then sees TEE_ERROR_TARGET_DEAD.
 */
#ifndef TEE_INTERNAL_API_H
#define TEE_INTERNAL_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tee_api_defines.h>
#include <tee_api_types.h>
#include <trace.h>

#ifdef __cplusplus
extern "C" {
#endif

/* OP-TEE defines TA_EXPORT empty; kept for source compatibility. */
#define TA_EXPORT

/* ---------------------------------------------------------------------- */
/* TA entry points (implemented by the TA)                                 */
/* ---------------------------------------------------------------------- */

TEE_Result TA_CreateEntryPoint(void);
void TA_DestroyEntryPoint(void);
TEE_Result TA_OpenSessionEntryPoint(uint32_t paramTypes,
				    TEE_Param params[TEE_NUM_PARAMS],
				    void **sessionContext);
void TA_CloseSessionEntryPoint(void *sessionContext);
TEE_Result TA_InvokeCommandEntryPoint(void *sessionContext, uint32_t commandID,
				      uint32_t paramTypes,
				      TEE_Param params[TEE_NUM_PARAMS]);

/* ---------------------------------------------------------------------- */
/* Property access                                                         */
/* ---------------------------------------------------------------------- */

TEE_Result TEE_GetPropertyAsString(TEE_PropSetHandle propsetOrEnumerator,
				   const char *name, char *valueBuffer,
				   size_t *valueBufferLen);
TEE_Result TEE_GetPropertyAsBool(TEE_PropSetHandle propsetOrEnumerator,
				 const char *name, bool *value);
TEE_Result TEE_GetPropertyAsU32(TEE_PropSetHandle propsetOrEnumerator,
				const char *name, uint32_t *value);
TEE_Result TEE_GetPropertyAsU64(TEE_PropSetHandle propsetOrEnumerator,
				const char *name, uint64_t *value);
TEE_Result TEE_GetPropertyAsBinaryBlock(TEE_PropSetHandle propsetOrEnumerator,
					const char *name, void *valueBuffer,
					size_t *valueBufferLen);
TEE_Result TEE_GetPropertyAsUUID(TEE_PropSetHandle propsetOrEnumerator,
				 const char *name, TEE_UUID *value);
TEE_Result TEE_GetPropertyAsIdentity(TEE_PropSetHandle propsetOrEnumerator,
				     const char *name, TEE_Identity *value);
TEE_Result TEE_AllocatePropertyEnumerator(TEE_PropSetHandle *enumerator);
void TEE_FreePropertyEnumerator(TEE_PropSetHandle enumerator);
void TEE_StartPropertyEnumerator(TEE_PropSetHandle enumerator,
				 TEE_PropSetHandle propSet);
void TEE_ResetPropertyEnumerator(TEE_PropSetHandle enumerator);
TEE_Result TEE_GetPropertyName(TEE_PropSetHandle enumerator, void *nameBuffer,
			       size_t *nameBufferLen);
TEE_Result TEE_GetNextProperty(TEE_PropSetHandle enumerator);

/* ---------------------------------------------------------------------- */
/* System: panic, TA-to-TA sessions, cancellation                          */
/* ---------------------------------------------------------------------- */

void TEE_Panic(TEE_Result panicCode) __attribute__((noreturn));

TEE_Result TEE_OpenTASession(const TEE_UUID *destination,
			     uint32_t cancellationRequestTimeout,
			     uint32_t paramTypes,
			     TEE_Param params[TEE_NUM_PARAMS],
			     TEE_TASessionHandle *session,
			     uint32_t *returnOrigin);
void TEE_CloseTASession(TEE_TASessionHandle session);
TEE_Result TEE_InvokeTACommand(TEE_TASessionHandle session,
			       uint32_t cancellationRequestTimeout,
			       uint32_t commandID, uint32_t paramTypes,
			       TEE_Param params[TEE_NUM_PARAMS],
			       uint32_t *returnOrigin);

bool TEE_GetCancellationFlag(void);
bool TEE_UnmaskCancellation(void);
bool TEE_MaskCancellation(void);

/* ---------------------------------------------------------------------- */
/* Memory management                                                       */
/* ---------------------------------------------------------------------- */

TEE_Result TEE_CheckMemoryAccessRights(uint32_t accessFlags, void *buffer,
				       size_t size);
void TEE_SetInstanceData(const void *instanceData);
const void *TEE_GetInstanceData(void);
void *TEE_Malloc(size_t size, uint32_t hint);
void *TEE_Realloc(void *buffer, size_t newSize);
void TEE_Free(void *buffer);
/* OP-TEE returns dest (GP 1.3.1 says void); portable TAs ignore it. */
void *TEE_MemMove(void *dest, const void *src, size_t size);
/* Constant-time in OP-TEE: the result's sign does not leak where the buffers
 * differ. */
int32_t TEE_MemCompare(const void *buffer1, const void *buffer2, size_t size);
void TEE_MemFill(void *buff, uint32_t x, size_t size);

/* ---------------------------------------------------------------------- */
/* Generic object functions                                                */
/* ---------------------------------------------------------------------- */

void TEE_GetObjectInfo(TEE_ObjectHandle object, TEE_ObjectInfo *objectInfo);
TEE_Result TEE_GetObjectInfo1(TEE_ObjectHandle object,
			      TEE_ObjectInfo *objectInfo);
void TEE_RestrictObjectUsage(TEE_ObjectHandle object, uint32_t objectUsage);
TEE_Result TEE_RestrictObjectUsage1(TEE_ObjectHandle object,
				    uint32_t objectUsage);
TEE_Result TEE_GetObjectBufferAttribute(TEE_ObjectHandle object,
					uint32_t attributeID, void *buffer,
					size_t *size);
TEE_Result TEE_GetObjectValueAttribute(TEE_ObjectHandle object,
				       uint32_t attributeID, uint32_t *a,
				       uint32_t *b);
void TEE_CloseObject(TEE_ObjectHandle object);

/* ---------------------------------------------------------------------- */
/* Transient objects                                                       */
/* ---------------------------------------------------------------------- */

/* maxObjectSize in bits. */
TEE_Result TEE_AllocateTransientObject(TEE_ObjectType objectType,
				       uint32_t maxObjectSize,
				       TEE_ObjectHandle *object);
void TEE_FreeTransientObject(TEE_ObjectHandle object);
void TEE_ResetTransientObject(TEE_ObjectHandle object);
TEE_Result TEE_PopulateTransientObject(TEE_ObjectHandle object,
				       const TEE_Attribute *attrs,
				       uint32_t attrCount);
void TEE_InitRefAttribute(TEE_Attribute *attr, uint32_t attributeID,
			  const void *buffer, size_t length);
void TEE_InitValueAttribute(TEE_Attribute *attr, uint32_t attributeID,
			    uint32_t a, uint32_t b);
void TEE_CopyObjectAttributes(TEE_ObjectHandle destObject,
			      TEE_ObjectHandle srcObject);
TEE_Result TEE_CopyObjectAttributes1(TEE_ObjectHandle destObject,
				     TEE_ObjectHandle srcObject);
/* keySize in bits. */
TEE_Result TEE_GenerateKey(TEE_ObjectHandle object, uint32_t keySize,
			   const TEE_Attribute *params, uint32_t paramCount);

/* ---------------------------------------------------------------------- */
/* Persistent objects and data streams                                     */
/* ---------------------------------------------------------------------- */

TEE_Result TEE_OpenPersistentObject(uint32_t storageID, const void *objectID,
				    size_t objectIDLen, uint32_t flags,
				    TEE_ObjectHandle *object);
TEE_Result TEE_CreatePersistentObject(uint32_t storageID, const void *objectID,
				      size_t objectIDLen, uint32_t flags,
				      TEE_ObjectHandle attributes,
				      const void *initialData,
				      size_t initialDataLen,
				      TEE_ObjectHandle *object);
void TEE_CloseAndDeletePersistentObject(TEE_ObjectHandle object);
TEE_Result TEE_CloseAndDeletePersistentObject1(TEE_ObjectHandle object);
TEE_Result TEE_RenamePersistentObject(TEE_ObjectHandle object,
				      const void *newObjectID,
				      size_t newObjectIDLen);
TEE_Result TEE_AllocatePersistentObjectEnumerator(TEE_ObjectEnumHandle *
						  objectEnumerator);
void TEE_FreePersistentObjectEnumerator(TEE_ObjectEnumHandle objectEnumerator);
void TEE_ResetPersistentObjectEnumerator(TEE_ObjectEnumHandle objectEnumerator);
TEE_Result TEE_StartPersistentObjectEnumerator(TEE_ObjectEnumHandle
					       objectEnumerator,
					       uint32_t storageID);
TEE_Result TEE_GetNextPersistentObject(TEE_ObjectEnumHandle objectEnumerator,
				       TEE_ObjectInfo *objectInfo,
				       void *objectID, size_t *objectIDLen);

TEE_Result TEE_ReadObjectData(TEE_ObjectHandle object, void *buffer,
			      size_t size, size_t *count);
TEE_Result TEE_WriteObjectData(TEE_ObjectHandle object, const void *buffer,
			       size_t size);
TEE_Result TEE_TruncateObjectData(TEE_ObjectHandle object, size_t size);
TEE_Result TEE_SeekObjectData(TEE_ObjectHandle object, intmax_t offset,
			      TEE_Whence whence);

/* ---------------------------------------------------------------------- */
/* Generic operations                                                      */
/* ---------------------------------------------------------------------- */

/* maxKeySize in bits; 0 for digests. */
TEE_Result TEE_AllocateOperation(TEE_OperationHandle *operation,
				 uint32_t algorithm, uint32_t mode,
				 uint32_t maxKeySize);
void TEE_FreeOperation(TEE_OperationHandle operation);
void TEE_GetOperationInfo(TEE_OperationHandle operation,
			  TEE_OperationInfo *operationInfo);
TEE_Result TEE_GetOperationInfoMultiple(TEE_OperationHandle operation,
			TEE_OperationInfoMultiple *operationInfoMultiple,
			size_t *operationSize);
void TEE_ResetOperation(TEE_OperationHandle operation);
TEE_Result TEE_SetOperationKey(TEE_OperationHandle operation,
			       TEE_ObjectHandle key);
TEE_Result TEE_SetOperationKey2(TEE_OperationHandle operation,
				TEE_ObjectHandle key1, TEE_ObjectHandle key2);
void TEE_CopyOperation(TEE_OperationHandle dstOperation,
		       TEE_OperationHandle srcOperation);
TEE_Result TEE_IsAlgorithmSupported(uint32_t algId, uint32_t element);

/* ---------------------------------------------------------------------- */
/* Message digest                                                          */
/* ---------------------------------------------------------------------- */

void TEE_DigestUpdate(TEE_OperationHandle operation, const void *chunk,
		      size_t chunkSize);
/* TEE_ERROR_SHORT_BUFFER with *hashLen = needed size; any other failure
 * panics. */
TEE_Result TEE_DigestDoFinal(TEE_OperationHandle operation, const void *chunk,
			     size_t chunkLen, void *hash, size_t *hashLen);
TEE_Result TEE_DigestExtract(TEE_OperationHandle operation, void *hash,
			     size_t *hashLen);

/* ---------------------------------------------------------------------- */
/* Symmetric cipher                                                        */
/* ---------------------------------------------------------------------- */

void TEE_CipherInit(TEE_OperationHandle operation, const void *IV,
		    size_t IVLen);
TEE_Result TEE_CipherUpdate(TEE_OperationHandle operation, const void *srcData,
			    size_t srcLen, void *destData, size_t *destLen);
TEE_Result TEE_CipherDoFinal(TEE_OperationHandle operation,
			     const void *srcData, size_t srcLen,
			     void *destData, size_t *destLen);

/* ---------------------------------------------------------------------- */
/* MAC                                                                     */
/* ---------------------------------------------------------------------- */

void TEE_MACInit(TEE_OperationHandle operation, const void *IV, size_t IVLen);
void TEE_MACUpdate(TEE_OperationHandle operation, const void *chunk,
		   size_t chunkSize);
TEE_Result TEE_MACComputeFinal(TEE_OperationHandle operation,
			       const void *message, size_t messageLen,
			       void *mac, size_t *macLen);
/* TEE_ERROR_MAC_INVALID on mismatch (constant-time comparison). */
TEE_Result TEE_MACCompareFinal(TEE_OperationHandle operation,
			       const void *message, size_t messageLen,
			       const void *mac, size_t macLen);

/* ---------------------------------------------------------------------- */
/* Authenticated encryption                                                */
/* ---------------------------------------------------------------------- */

/* tagLen in BITS (AES-GCM: 96, 104, 112, 120 or 128, else
 * TEE_ERROR_NOT_SUPPORTED). */
TEE_Result TEE_AEInit(TEE_OperationHandle operation, const void *nonce,
		      size_t nonceLen, uint32_t tagLen, size_t AADLen,
		      size_t payloadLen);
void TEE_AEUpdateAAD(TEE_OperationHandle operation, const void *AADdata,
		     size_t AADdataLen);
TEE_Result TEE_AEUpdate(TEE_OperationHandle operation, const void *srcData,
			size_t srcLen, void *destData, size_t *destLen);
/* *tagLen in BYTES. */
TEE_Result TEE_AEEncryptFinal(TEE_OperationHandle operation,
			      const void *srcData, size_t srcLen,
			      void *destData, size_t *destLen, void *tag,
			      size_t *tagLen);
/* tagLen in BYTES; TEE_ERROR_MAC_INVALID on mismatch, output zeroed. */
TEE_Result TEE_AEDecryptFinal(TEE_OperationHandle operation,
			      const void *srcData, size_t srcLen,
			      void *destData, size_t *destLen, void *tag,
			      size_t tagLen);

/* ---------------------------------------------------------------------- */
/* Asymmetric, key derivation (simulated: Ed25519, X25519; see above)      */
/* ---------------------------------------------------------------------- */

TEE_Result TEE_AsymmetricEncrypt(TEE_OperationHandle operation,
				 const TEE_Attribute *params,
				 uint32_t paramCount, const void *srcData,
				 size_t srcLen, void *destData,
				 size_t *destLen);
TEE_Result TEE_AsymmetricDecrypt(TEE_OperationHandle operation,
				 const TEE_Attribute *params,
				 uint32_t paramCount, const void *srcData,
				 size_t srcLen, void *destData,
				 size_t *destLen);
TEE_Result TEE_AsymmetricSignDigest(TEE_OperationHandle operation,
				    const TEE_Attribute *params,
				    uint32_t paramCount, const void *digest,
				    size_t digestLen, void *signature,
				    size_t *signatureLen);
TEE_Result TEE_AsymmetricVerifyDigest(TEE_OperationHandle operation,
				      const TEE_Attribute *params,
				      uint32_t paramCount, const void *digest,
				      size_t digestLen, const void *signature,
				      size_t signatureLen);
void TEE_DeriveKey(TEE_OperationHandle operation, const TEE_Attribute *params,
		   uint32_t paramCount, TEE_ObjectHandle derivedKey);

/* ---------------------------------------------------------------------- */
/* Random numbers, time                                                    */
/* ---------------------------------------------------------------------- */

void TEE_GenerateRandom(void *randomBuffer, size_t randomBufferLen);

void TEE_GetSystemTime(TEE_Time *time);
TEE_Result TEE_Wait(uint32_t timeout);
TEE_Result TEE_GetTAPersistentTime(TEE_Time *time);
TEE_Result TEE_SetTAPersistentTime(const TEE_Time *time);
void TEE_GetREETime(TEE_Time *time);

#ifdef __cplusplus
}
#endif

#endif /* TEE_INTERNAL_API_H */

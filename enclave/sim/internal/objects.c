/*
 * objects.c - GP transient objects (secret keys) and the generic object
 * functions, for the teespark simulator.
 *
 * Supported types and sizes follow OP-TEE's defaults (core/tee/tee_svc_cryp.c):
 *   TEE_TYPE_AES             128, 192 or 256 bits
 *   TEE_TYPE_HMAC_SHA256     192..1024 bits in steps of 8 (OP-TEE without
 *                            CFG_HMAC_64_1024_RANGE: a 128-bit HMAC key is
 *                            refused)
 *   TEE_TYPE_GENERIC_SECRET  8..4096 bits in steps of 8
 *   TEE_TYPE_{X25519,ED25519}_{KEYPAIR,PUBLIC_KEY}  256 bits (attributes,
 *                            generation and their operations: asym.c)
 * Any other type: TEE_ERROR_NOT_SUPPORTED.
 *
 * Secrets live in malloc'd memory outside the TA heap (OP-TEE keeps them in
 * the TEE core) and are wiped with OPENSSL_cleanse on reset and free.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "sim_internal.h"

void sim_obj_check(TEE_ObjectHandle o)
{
	if (!o || o->magic != SIM_OBJ_MAGIC)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
}

TEE_Result sim_obj_check_size(uint32_t type, uint32_t bits)
{
	switch (type) {
	case TEE_TYPE_AES:
		if (bits == 128 || bits == 192 || bits == 256)
			return TEE_SUCCESS;
		break;
	case TEE_TYPE_HMAC_SHA256:
		if (bits >= 192 && bits <= 1024 && bits % 8 == 0)
			return TEE_SUCCESS;
		break;
	case TEE_TYPE_GENERIC_SECRET:
		if (bits >= 8 && bits <= 4096 && bits % 8 == 0)
			return TEE_SUCCESS;
		break;
	case TEE_TYPE_X25519_KEYPAIR:
	case TEE_TYPE_X25519_PUBLIC_KEY:
	case TEE_TYPE_ED25519_KEYPAIR:
	case TEE_TYPE_ED25519_PUBLIC_KEY:
		if (bits == 256)
			return TEE_SUCCESS;
		break;
	default:
		break;
	}
	return TEE_ERROR_NOT_SUPPORTED;
}

static void wipe_secret(TEE_ObjectHandle o)
{
	if (o->secret)
		OPENSSL_cleanse(o->secret, (o->max_bits + 7) / 8);
	o->secret_len = 0;
	o->key_bits = 0;
}

TEE_Result TEE_AllocateTransientObject(TEE_ObjectType objectType,
				       uint32_t maxObjectSize,
				       TEE_ObjectHandle *object)
{
	TEE_ObjectHandle o;
	TEE_Result res;

	if (!object)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	*object = TEE_HANDLE_NULL;

	res = sim_obj_check_size(objectType, maxObjectSize);
	if (res != TEE_SUCCESS)
		return res;

	o = calloc(1, sizeof(*o));
	if (!o)
		return TEE_ERROR_OUT_OF_MEMORY;
	o->secret = calloc(1, (maxObjectSize + 7) / 8);
	if (!o->secret) {
		free(o);
		return TEE_ERROR_OUT_OF_MEMORY;
	}
	o->magic = SIM_OBJ_MAGIC;
	o->type = objectType;
	o->max_bits = maxObjectSize;
	o->usage = 0xFFFFFFFF;
	*object = o;
	return TEE_SUCCESS;
}

static void free_object(TEE_ObjectHandle o)
{
	wipe_secret(o);
	free(o->secret);
	o->magic = SIM_OBJ_DEAD;
	free(o);
}

void TEE_FreeTransientObject(TEE_ObjectHandle object)
{
	if (object == TEE_HANDLE_NULL)
		return;
	sim_obj_check(object);
	if (object->flags & TEE_HANDLE_FLAG_PERSISTENT)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	free_object(object);
}

void TEE_ResetTransientObject(TEE_ObjectHandle object)
{
	if (object == TEE_HANDLE_NULL)
		return;
	sim_obj_check(object);
	if (object->flags & TEE_HANDLE_FLAG_PERSISTENT)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	wipe_secret(object);
	object->flags &= ~TEE_HANDLE_FLAG_INITIALIZED;
	object->usage = 0xFFFFFFFF;
}

static void check_uninitialized_transient(TEE_ObjectHandle o)
{
	sim_obj_check(o);
	if (o->flags & (TEE_HANDLE_FLAG_PERSISTENT |
			TEE_HANDLE_FLAG_INITIALIZED))
		TEE_Panic(TEE_ERROR_BAD_STATE);
}

TEE_Result TEE_PopulateTransientObject(TEE_ObjectHandle object,
				       const TEE_Attribute *attrs,
				       uint32_t attrCount)
{
	const TEE_Attribute *secret = NULL;
	uint32_t i;
	size_t len;

	check_uninitialized_transient(object);
	if (!attrs && attrCount)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (sim_asym_is_type(object->type))
		return sim_asym_populate(object, attrs, attrCount);

	for (i = 0; i < attrCount; i++) {
		/* GP: an attribute that does not belong to the type panics. */
		if (attrs[i].attributeID != TEE_ATTR_SECRET_VALUE)
			TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
		secret = &attrs[i];
	}
	/* GP: a missing mandatory attribute panics. */
	if (!secret)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	len = secret->content.ref.length;
	if (!secret->content.ref.buffer && len)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);

	/* GP: an inconsistent value is TEE_ERROR_BAD_PARAMETERS and leaves the
	 * object uninitialized. */
	if (len > (object->max_bits + 7) / 8 ||
	    sim_obj_check_size(object->type, (uint32_t)len * 8) != TEE_SUCCESS)
		return TEE_ERROR_BAD_PARAMETERS;

	memcpy(object->secret, secret->content.ref.buffer, len);
	object->secret_len = len;
	object->key_bits = (uint32_t)len * 8;
	object->flags |= TEE_HANDLE_FLAG_INITIALIZED;
	return TEE_SUCCESS;
}

void TEE_InitRefAttribute(TEE_Attribute *attr, uint32_t attributeID,
			  const void *buffer, size_t length)
{
	/* Bit 29 set means a value attribute: using it as a reference is a
	 * programmer error. */
	if (!attr || (attributeID & TEE_ATTR_FLAG_VALUE))
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	attr->attributeID = attributeID;
	attr->content.ref.buffer = (void *)(uintptr_t)buffer;
	attr->content.ref.length = length;
}

void TEE_InitValueAttribute(TEE_Attribute *attr, uint32_t attributeID,
			    uint32_t a, uint32_t b)
{
	if (!attr || !(attributeID & TEE_ATTR_FLAG_VALUE))
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	attr->attributeID = attributeID;
	attr->content.value.a = a;
	attr->content.value.b = b;
}

TEE_Result TEE_GenerateKey(TEE_ObjectHandle object, uint32_t keySize,
			   const TEE_Attribute *params, uint32_t paramCount)
{
	check_uninitialized_transient(object);
	if (sim_asym_is_type(object->type))
		return sim_asym_generate(object, keySize, params, paramCount);
	(void)params;
	/* Secret-key types take no generation parameters. */
	if (paramCount)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (keySize > object->max_bits ||
	    sim_obj_check_size(object->type, keySize) != TEE_SUCCESS)
		TEE_Panic(TEE_ERROR_NOT_SUPPORTED);

	TEE_GenerateRandom(object->secret, keySize / 8);
	object->secret_len = keySize / 8;
	object->key_bits = keySize;
	object->flags |= TEE_HANDLE_FLAG_INITIALIZED;
	return TEE_SUCCESS;
}

TEE_Result TEE_CopyObjectAttributes1(TEE_ObjectHandle destObject,
				     TEE_ObjectHandle srcObject)
{
	check_uninitialized_transient(destObject);
	sim_obj_check(srcObject);
	if (!(srcObject->flags & TEE_HANDLE_FLAG_INITIALIZED))
		TEE_Panic(TEE_ERROR_BAD_STATE);
	/* Types must match (OP-TEE refuses e.g. a generic secret copied into
	 * an HMAC key object, so TEE_SetOperationKey panics on it too). */
	if (destObject->type != srcObject->type) {
		/* GP: a key pair's public part may go to a public-key object. */
		if (sim_asym_is_type(destObject->type) &&
		    sim_asym_is_type(srcObject->type)) {
			sim_asym_copy_public(destObject, srcObject);
			return TEE_SUCCESS;
		}
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	}
	if (!srcObject->secret ||
	    srcObject->key_bits > destObject->max_bits)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);

	memcpy(destObject->secret, srcObject->secret, srcObject->secret_len);
	destObject->secret_len = srcObject->secret_len;
	destObject->key_bits = srcObject->key_bits;
	destObject->usage = srcObject->usage;
	destObject->flags |= TEE_HANDLE_FLAG_INITIALIZED;
	return TEE_SUCCESS;
}

void TEE_CopyObjectAttributes(TEE_ObjectHandle destObject,
			      TEE_ObjectHandle srcObject)
{
	(void)TEE_CopyObjectAttributes1(destObject, srcObject);
}

TEE_Result TEE_GetObjectInfo1(TEE_ObjectHandle object,
			      TEE_ObjectInfo *objectInfo)
{
	sim_obj_check(object);
	if (!objectInfo)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	memset(objectInfo, 0, sizeof(*objectInfo));
	objectInfo->objectType = object->type;
	objectInfo->objectSize = object->key_bits;
	objectInfo->maxObjectSize = object->max_bits;
	objectInfo->objectUsage = object->usage;
	objectInfo->handleFlags = object->flags;
	if (object->pobj)
		sim_pobj_fill_info(object, objectInfo);
	return TEE_SUCCESS;
}

void TEE_GetObjectInfo(TEE_ObjectHandle object, TEE_ObjectInfo *objectInfo)
{
	(void)TEE_GetObjectInfo1(object, objectInfo);
}

TEE_Result TEE_RestrictObjectUsage1(TEE_ObjectHandle object,
				    uint32_t objectUsage)
{
	sim_obj_check(object);
	object->usage &= objectUsage;
	return TEE_SUCCESS;
}

void TEE_RestrictObjectUsage(TEE_ObjectHandle object, uint32_t objectUsage)
{
	(void)TEE_RestrictObjectUsage1(object, objectUsage);
}

TEE_Result TEE_GetObjectBufferAttribute(TEE_ObjectHandle object,
					uint32_t attributeID, void *buffer,
					size_t *size)
{
	sim_obj_check(object);
	if (!size || (attributeID & TEE_ATTR_FLAG_VALUE))
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (!(object->flags & TEE_HANDLE_FLAG_INITIALIZED))
		TEE_Panic(TEE_ERROR_BAD_STATE);
	if (sim_asym_is_type(object->type))
		return sim_asym_get_attr(object, attributeID, buffer, size);
	if (attributeID != TEE_ATTR_SECRET_VALUE || !object->secret)
		return TEE_ERROR_ITEM_NOT_FOUND;
	/* GP: reading a secret attribute needs TEE_USAGE_EXTRACTABLE. */
	if (!(object->usage & TEE_USAGE_EXTRACTABLE))
		TEE_Panic(TEE_ERROR_ACCESS_DENIED);
	if (*size < object->secret_len) {
		*size = object->secret_len;
		return TEE_ERROR_SHORT_BUFFER;
	}
	if (object->secret_len && !buffer)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	memcpy(buffer, object->secret, object->secret_len);
	*size = object->secret_len;
	return TEE_SUCCESS;
}

TEE_Result TEE_GetObjectValueAttribute(TEE_ObjectHandle object,
				       uint32_t attributeID, uint32_t *a,
				       uint32_t *b)
{
	sim_obj_check(object);
	(void)a;
	(void)b;
	if (!(attributeID & TEE_ATTR_FLAG_VALUE))
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	/* No simulated type has value attributes. */
	return TEE_ERROR_ITEM_NOT_FOUND;
}

void TEE_CloseObject(TEE_ObjectHandle object)
{
	if (object == TEE_HANDLE_NULL)
		return;
	sim_obj_check(object);
	if (object->pobj)
		sim_pobj_close(object);	/* frees object */
	else
		free_object(object);
}

void sim_obj_free_handle(TEE_ObjectHandle o)
{
	free_object(o);
}

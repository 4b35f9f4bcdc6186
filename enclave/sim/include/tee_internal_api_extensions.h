/*
 * tee_internal_api_extensions.h - OP-TEE extensions to the GP Internal Core
 * API, as far as the teespark simulator provides them.
 *
 * OP-TEE's header of this name declares many platform services (cache
 * maintenance, supplicant plugins, heap statistics). The simulator provides
 * only what is listed here; the extension constants (TEE_STORAGE_PRIVATE_REE,
 * TEE_STORAGE_PRIVATE_RPMB, TEE_LOGIN_REE_KERNEL, TEE_MEMORY_ACCESS_SECURE /
 * _NONSECURE, TEE_ALG_HKDF_SHA256_DERIVE_KEY) are in tee_api_defines.h so
 * that TAs including only tee_internal_api.h also see them.
 */
#ifndef TEE_INTERNAL_API_EXTENSIONS_H
#define TEE_INTERNAL_API_EXTENSIONS_H

#include <tee_internal_api.h>

#endif /* TEE_INTERNAL_API_EXTENSIONS_H */

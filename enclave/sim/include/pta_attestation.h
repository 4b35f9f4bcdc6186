/*
 * pta_attestation.h - the attestation pseudo-TA interface, with OP-TEE's
 * header name, UUID and command ids (lib/libutee/include/pta_attestation.h),
 * so a TA that attests itself builds unchanged for OP-TEE and the teespark
 * simulator. In the simulator the PTA is reached in-process through
 * TEE_OpenTASession (sim/internal/pta_attestation.c).
 *
 * Output format of the hashing commands (OP-TEE's):
 *   out = hash[32] | RSASSA-PSS-SHA256(SHA-256(nonce | hash)), salt 32 bytes,
 * signed by the device attestation key (RSA-3072 by default, see
 * GET_PUBKEY). The output buffer needs 32 + modulus bytes (416 for 3072).
 */
#ifndef PTA_ATTESTATION_H
#define PTA_ATTESTATION_H

#define PTA_ATTESTATION_UUID { 0x39800861, 0x182a, 0x4720, \
		{ 0x9b, 0x67, 0x2b, 0xcd, 0x62, 0x2b, 0xc0, 0xb5 } }

/*
 * Device attestation public key.
 * [out] memref[0]: public exponent, big-endian
 * [out] memref[1]: modulus, big-endian
 * [out] value[2].a: TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA256
 * TEE_ERROR_SHORT_BUFFER writes back both required sizes.
 */
#define PTA_ATTESTATION_GET_PUBKEY		0x0

/*
 * Signed-header digest of a TA in the TA store.
 * [in]  memref[0]: TEE_UUID (16 bytes)
 * [in]  memref[1]: nonce (non-empty)
 * [out] memref[2]: shdr hash | signature
 * The simulator answers TEE_ERROR_NOT_SUPPORTED (no signed TA store).
 */
#define PTA_ATTESTATION_GET_TA_SHDR_DIGEST	0x1

/*
 * Runtime measurement of the calling TA's read-only memory.
 * [in]  memref[0]: nonce (non-empty)
 * [out] memref[1]: measurement | signature
 * Only from a TA (TEE_OpenTASession); the simulator measures the TA image's
 * non-writable PT_LOAD segments (file bytes), sorted by size then content.
 */
#define PTA_ATTESTATION_HASH_TA_MEMORY		0x2

/*
 * Measurement of the TEE core's read-only memory.
 * [in]  memref[0]: nonce
 * [out] memref[1]: hash | signature
 * The simulator answers TEE_ERROR_NOT_SUPPORTED.
 */
#define PTA_ATTESTATION_HASH_TEE_MEMORY		0x3

#endif /* PTA_ATTESTATION_H */

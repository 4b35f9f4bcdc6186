/*
 * attestation.h - the TEE's attestation service, as the TA reaches it.
 *
 *   OP-TEE:    the attestation pseudo-TA (PTA_ATTESTATION_UUID, built with
 *              CFG_ATTESTATION_PTA=y), through TEE_OpenTASession /
 *              TEE_InvokeTACommand: GET_PUBKEY and HASH_TA_MEMORY.
 *   simulator: the simulator's in-process PTA with the same UUID, commands
 *              and output format, signing with a per-installation simulator
 *              device key (evidence is flagged simulated, teespark_ta.h).
 *   iTrustee:  not available here. iTrustee's evidence comes from its
 *              attestation TA (QTA) as a JSON report requested by the normal
 *              world (libqca RemoteAttest), not from a call the TA makes, so
 *              GET_EVIDENCE / GET_DEVICE_PUBKEY answer
 *              TEE_ERROR_NOT_SUPPORTED on iTrustee; docs/ATTESTATION.md
 *              describes the mapping.
 */
#ifndef TEESPARK_ATTESTATION_H
#define TEESPARK_ATTESTATION_H

#include "shim_tee.h"

/* Largest RSA modulus we accept (bytes): ts_evidence.signature[512]. */
#define ATTEST_MAX_SIGNATURE 512
#define ATTEST_MEASUREMENT_SIZE 32
#define ATTEST_MAX_EXPONENT 16

/* The TEE kind and evidence flags of this build (struct ts_evidence_body). */
#if defined(TEESPARK_SIM) || defined(TEESPARK_SIMULATOR)
#define ATTEST_TEE_KIND TS_TEE_KIND_SIMULATOR
#define ATTEST_FLAGS TS_EVIDENCE_FLAG_SIMULATED
#elif defined(TEESPARK_ITRUSTEE)
#define ATTEST_TEE_KIND TS_TEE_KIND_ITRUSTEE
#define ATTEST_FLAGS 0u
#else
#define ATTEST_TEE_KIND TS_TEE_KIND_OPTEE
#define ATTEST_FLAGS 0u
#endif

/* HASH_TA_MEMORY with `nonce`: measurement = SHA-256 of this TA's read-only
 * memory, sig = RSASSA-PSS-SHA256(SHA-256(nonce | measurement)), salt 32.
 * *sig_len: in, capacity of sig (<= ATTEST_MAX_SIGNATURE); out, bytes used.
 * Leaks: nothing secret (all outputs are public).  Hides: the device key. */
TEE_Result attest_hash_ta_memory(const uint8_t *nonce, size_t nonce_len,
				 uint8_t measurement[ATTEST_MEASUREMENT_SIZE],
				 uint8_t *sig, size_t *sig_len);

/* GET_PUBKEY: the device attestation key's public exponent and modulus
 * (big-endian) and its algorithm. *e_len / *n_len: in, capacities; out,
 * sizes (also on TEE_ERROR_SHORT_BUFFER). */
TEE_Result attest_get_pubkey(uint8_t *e, size_t *e_len, uint8_t *n,
			     size_t *n_len, uint32_t *alg);

#endif /* TEESPARK_ATTESTATION_H */

/*
 * attestation.c - calls into the TEE's attestation PTA (see attestation.h).
 * Everything exchanged here is public (nonces, measurements, signatures,
 * the public key); the device private key never leaves the PTA.
 */
#include "attestation.h"

#if defined(TEESPARK_ITRUSTEE)

/*
 * iTrustee has no attestation PTA a TA can call: evidence comes from the QTA
 * (UUID e08f7eca-e875-440e-9ab0-5f381136c600) through the normal-world
 * libqca (RemoteAttest, "report-input" JSON with the TA's UUID and a nonce).
 * The binding of teespark's ephemeral key into that report
 * (docs/ATTESTATION.md) is not implemented yet, so both calls refuse.
 */
TEE_Result attest_hash_ta_memory(const uint8_t *nonce, size_t nonce_len,
				 uint8_t measurement[ATTEST_MEASUREMENT_SIZE],
				 uint8_t *sig, size_t *sig_len)
{
	(void)nonce, (void)nonce_len, (void)measurement, (void)sig;
	*sig_len = 0;
	return TEE_ERROR_NOT_SUPPORTED;
}

TEE_Result attest_get_pubkey(uint8_t *e, size_t *e_len, uint8_t *n,
			     size_t *n_len, uint32_t *alg)
{
	(void)e, (void)n, (void)alg;
	*e_len = 0;
	*n_len = 0;
	return TEE_ERROR_NOT_SUPPORTED;
}

#else /* OP-TEE and the simulator: the attestation PTA */

#include <pta_attestation.h>

static TEE_Result pta_open(TEE_TASessionHandle *sess)
{
	static const TEE_UUID uuid = PTA_ATTESTATION_UUID;
	TEE_Param params[SHIM_NUM_PARAMS];
	uint32_t origin = 0;
	TEE_Result res;

	TEE_MemFill(params, 0, sizeof(params));
	res = TEE_OpenTASession(&uuid, TEE_TIMEOUT_INFINITE, 0, params, sess,
				&origin);
	if (res != TEE_SUCCESS)
		SHIM_LOGE("attestation PTA: open failed 0x%x origin %u (OP-TEE "
			  "needs CFG_ATTESTATION_PTA=y)", (unsigned int)res,
			  (unsigned int)origin);
	return res;
}

/* see attestation.h */
TEE_Result attest_hash_ta_memory(const uint8_t *nonce, size_t nonce_len,
				 uint8_t measurement[ATTEST_MEASUREMENT_SIZE],
				 uint8_t *sig, size_t *sig_len)
{
	uint8_t out[ATTEST_MEASUREMENT_SIZE + ATTEST_MAX_SIGNATURE];
	TEE_TASessionHandle sess = TEE_HANDLE_NULL;
	TEE_Param p[SHIM_NUM_PARAMS];
	uint32_t origin = 0;
	TEE_Result res;

	if (*sig_len > ATTEST_MAX_SIGNATURE)
		*sig_len = ATTEST_MAX_SIGNATURE;
	res = pta_open(&sess);
	if (res != TEE_SUCCESS)
		return res;
	TEE_MemFill(p, 0, sizeof(p));
	p[0].memref.buffer = SHIM_UNCONST(nonce);
	p[0].memref.size = nonce_len;
	p[1].memref.buffer = out;
	p[1].memref.size = ATTEST_MEASUREMENT_SIZE + *sig_len;
	res = TEE_InvokeTACommand(sess, TEE_TIMEOUT_INFINITE,
				  PTA_ATTESTATION_HASH_TA_MEMORY,
				  TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
						  TEE_PARAM_TYPE_MEMREF_OUTPUT,
						  TEE_PARAM_TYPE_NONE,
						  TEE_PARAM_TYPE_NONE),
				  p, &origin);
	TEE_CloseTASession(sess);
	if (res != TEE_SUCCESS) {
		SHIM_LOGE("attestation PTA: HASH_TA_MEMORY failed 0x%x origin %u",
			  (unsigned int)res, (unsigned int)origin);
		/* A modulus larger than ATTEST_MAX_SIGNATURE does not fit the
		 * evidence format. */
		return res == TEE_ERROR_SHORT_BUFFER ? TEE_ERROR_NOT_SUPPORTED : res;
	}
	if (p[1].memref.size <= ATTEST_MEASUREMENT_SIZE ||
	    p[1].memref.size > ATTEST_MEASUREMENT_SIZE + *sig_len)
		return TEE_ERROR_GENERIC;
	TEE_MemMove(measurement, out, ATTEST_MEASUREMENT_SIZE);
	*sig_len = p[1].memref.size - ATTEST_MEASUREMENT_SIZE;
	TEE_MemMove(sig, out + ATTEST_MEASUREMENT_SIZE, *sig_len);
	return TEE_SUCCESS;
}

/* see attestation.h */
TEE_Result attest_get_pubkey(uint8_t *e, size_t *e_len, uint8_t *n,
			     size_t *n_len, uint32_t *alg)
{
	TEE_TASessionHandle sess = TEE_HANDLE_NULL;
	TEE_Param p[SHIM_NUM_PARAMS];
	uint32_t origin = 0;
	TEE_Result res;

	res = pta_open(&sess);
	if (res != TEE_SUCCESS)
		return res;
	TEE_MemFill(p, 0, sizeof(p));
	p[0].memref.buffer = e;
	p[0].memref.size = *e_len;
	p[1].memref.buffer = n;
	p[1].memref.size = *n_len;
	res = TEE_InvokeTACommand(sess, TEE_TIMEOUT_INFINITE,
				  PTA_ATTESTATION_GET_PUBKEY,
				  TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_OUTPUT,
						  TEE_PARAM_TYPE_MEMREF_OUTPUT,
						  TEE_PARAM_TYPE_VALUE_OUTPUT,
						  TEE_PARAM_TYPE_NONE),
				  p, &origin);
	TEE_CloseTASession(sess);
	*e_len = p[0].memref.size;
	*n_len = p[1].memref.size;
	*alg = p[2].value.a;
	if (res != TEE_SUCCESS && res != TEE_ERROR_SHORT_BUFFER)
		SHIM_LOGE("attestation PTA: GET_PUBKEY failed 0x%x origin %u",
			  (unsigned int)res, (unsigned int)origin);
	return res;
}

#endif

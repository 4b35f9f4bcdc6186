/*
 * cmd_attest.c - PIN_KBS_KEY, GET_EVIDENCE and GET_DEVICE_PUBKEY: the TA's
 * half of attested key release (docs/ATTESTATION.md).
 *
 * The evidence binds, under the device attestation key, this TA's
 * measurement to a body naming the TA (UUID, ABI version, TEE kind, flags),
 * the verifier's nonce, the session's ephemeral X25519 public key and the
 * pinned KBS key: nonce' = SHA-256(body) is the nonce given to the PTA's
 * HASH_TA_MEMORY, which signs SHA-256(nonce' | measurement). A KBS that
 * accepts the evidence wraps data keys to that X25519 key, so only this
 * session can unwrap them, and signs its reply with the pinned key, so only
 * this KBS can have produced it.
 */
#include "cmd.h"
#include "../attestation.h"
#include "../crypto/sha256.h"

_Static_assert(sizeof(struct ts_evidence_body) == TS_EVIDENCE_BODY_SIZE,
	       "struct ts_evidence_body must be 128 bytes");
_Static_assert(sizeof(struct ts_evidence) == TS_EVIDENCE_SIZE,
	       "struct ts_evidence must be 680 bytes");
_Static_assert(sizeof(((struct ts_evidence *)0)->signature) ==
	       ATTEST_MAX_SIGNATURE, "evidence signature capacity");

/* see cmd.h */
TEE_Result cmd_pin_kbs_key(struct ta_session *s, uint32_t param_types,
			   TEE_Param params[SHIM_NUM_PARAMS])
{
	const uint32_t exp = TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_NONE,
					     TEE_PARAM_TYPE_NONE,
					     TEE_PARAM_TYPE_NONE);
	uint8_t key[TS_ED25519_PUBLIC_SIZE];

	if (param_types != exp)
		return TEE_ERROR_BAD_PARAMETERS;
	if (params[0].memref.size != TS_ED25519_PUBLIC_SIZE ||
	    !params[0].memref.buffer) {
		SHIM_LOGE("Wrong KBS key size %zu, expect %u bytes",
			  params[0].memref.size, TS_ED25519_PUBLIC_SIZE);
		return TEE_ERROR_BAD_PARAMETERS;
	}
	TEE_MemMove(key, params[0].memref.buffer, sizeof(key));
	if (s->kbs.pinned) {
		/* Once per session: a host must not swap the trust anchor
		 * after evidence naming the first key was issued. */
		if (TEE_MemCompare(key, s->kbs.kbs_key, sizeof(key))) {
			SHIM_LOGE("PIN_KBS_KEY: another KBS key is already pinned");
			return TEE_ERROR_ACCESS_DENIED;
		}
		return TEE_SUCCESS;
	}
	TEE_MemMove(s->kbs.kbs_key, key, sizeof(key));
	s->kbs.pinned = 1;
	return TEE_SUCCESS;
}

static void uuid_bytes(uint8_t out[16])
{
	static const TEE_UUID uuid = TA_TEESPARK_UUID;
	uint32_t i;

	/* RFC 4122 byte order: the string form's bytes, big-endian fields. */
	out[0] = (uint8_t)(uuid.timeLow >> 24);
	out[1] = (uint8_t)(uuid.timeLow >> 16);
	out[2] = (uint8_t)(uuid.timeLow >> 8);
	out[3] = (uint8_t)uuid.timeLow;
	out[4] = (uint8_t)(uuid.timeMid >> 8);
	out[5] = (uint8_t)uuid.timeMid;
	out[6] = (uint8_t)(uuid.timeHiAndVersion >> 8);
	out[7] = (uint8_t)uuid.timeHiAndVersion;
	for (i = 0; i < 8; i++)
		out[8 + i] = uuid.clockSeqAndNode[i];
}

/* see cmd.h */
TEE_Result cmd_get_evidence(struct ta_session *s, uint32_t param_types,
			    TEE_Param params[SHIM_NUM_PARAMS])
{
	const uint32_t exp = TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_MEMREF_OUTPUT,
					     TEE_PARAM_TYPE_NONE,
					     TEE_PARAM_TYPE_NONE);
	struct ts_evidence *ev = NULL;
	struct ts_evidence_body *b;
	uint8_t body_hash[32];
	struct ts_buf part;
	size_t sig_len = ATTEST_MAX_SIGNATURE;
	TEE_Result res;

	if (param_types != exp)
		return TEE_ERROR_BAD_PARAMETERS;
	if (params[0].memref.size != TS_NONCE_BYTES || !params[0].memref.buffer) {
		SHIM_LOGE("Wrong nonce size %zu, expect %u bytes",
			  params[0].memref.size, TS_NONCE_BYTES);
		return TEE_ERROR_BAD_PARAMETERS;
	}
	if (params[1].memref.size < TS_EVIDENCE_SIZE || !params[1].memref.buffer) {
		params[1].memref.size = TS_EVIDENCE_SIZE;
		return TEE_ERROR_SHORT_BUFFER;
	}
	if (!s->kbs.pinned) {
		SHIM_LOGE("GET_EVIDENCE: no KBS key pinned (PIN_KBS_KEY first)");
		return TS_ERROR_KBS_NOT_PINNED;
	}
	if (s->kbs.eph.obj == TEE_HANDLE_NULL) {
		res = x25519_generate(&s->kbs.eph);
		if (res != TEE_SUCCESS) {
			SHIM_LOGE("GET_EVIDENCE: X25519 key generation failed 0x%x",
				  (unsigned int)res);
			return res;
		}
	}
	ev = TEE_Malloc(sizeof(*ev), TEE_MALLOC_FILL_ZERO);
	if (!ev)
		return TEE_ERROR_OUT_OF_MEMORY;
	b = &ev->body;
	b->magic = TS_EVIDENCE_MAGIC;
	b->version = 1;
	b->tee_kind = ATTEST_TEE_KIND;
	b->flags = ATTEST_FLAGS;
	b->abi_version = TA_TEESPARK_ABI_VERSION;
	uuid_bytes(b->ta_uuid);
	TEE_MemMove(b->verifier_nonce, params[0].memref.buffer, TS_NONCE_BYTES);
	TEE_MemMove(b->ta_public_key, s->kbs.eph.pub, TS_X25519_PUBLIC_SIZE);
	TEE_MemMove(b->kbs_public_key, s->kbs.kbs_key, TS_ED25519_PUBLIC_SIZE);

	part.p = b;
	part.len = sizeof(*b);
	res = ts_sha256(&part, 1, body_hash);
	if (res != TEE_SUCCESS)
		goto out;
	res = attest_hash_ta_memory(body_hash, sizeof(body_hash),
				    ev->measurement, ev->signature, &sig_len);
	if (res != TEE_SUCCESS)
		goto out;
	ev->signature_size = (uint32_t)sig_len;

	/* The whole 680-byte evidence (unused signature bytes are zero) is
	 * what a KBS reply names. A new evidence replaces the pending one. */
	part.p = ev;
	part.len = sizeof(*ev);
	res = ts_sha256(&part, 1, s->kbs.pending_hash);
	if (res != TEE_SUCCESS) {
		s->kbs.pending = 0;
		goto out;
	}
	s->kbs.pending = 1;
	TEE_MemMove(params[1].memref.buffer, ev, sizeof(*ev));
	params[1].memref.size = sizeof(*ev);
out:
	TEE_Free(ev);
	if (res != TEE_SUCCESS)
		SHIM_LOGE("GET_EVIDENCE failed 0x%x", (unsigned int)res);
	return res;
}

/* see cmd.h */
TEE_Result cmd_get_device_pubkey(struct ta_session *s, uint32_t param_types,
				 TEE_Param params[SHIM_NUM_PARAMS])
{
	const uint32_t exp = TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_OUTPUT,
					     TEE_PARAM_TYPE_MEMREF_OUTPUT,
					     TEE_PARAM_TYPE_VALUE_OUTPUT,
					     TEE_PARAM_TYPE_NONE);
	uint8_t e[ATTEST_MAX_EXPONENT], n[ATTEST_MAX_SIGNATURE];
	size_t e_len = sizeof(e), n_len = sizeof(n);
	uint32_t alg = 0;
	TEE_Result res;

	(void)s;
	if (param_types != exp)
		return TEE_ERROR_BAD_PARAMETERS;
	/* Fetched into TA memory first: the PTA's output then crosses to the
	 * host in one copy, with the SHORT_BUFFER protocol handled here. */
	res = attest_get_pubkey(e, &e_len, n, &n_len, &alg);
	if (res == TEE_ERROR_SHORT_BUFFER)
		res = TEE_ERROR_NOT_SUPPORTED;	/* key beyond the evidence format */
	if (res != TEE_SUCCESS)
		return res;
	if (params[0].memref.size < e_len || !params[0].memref.buffer ||
	    params[1].memref.size < n_len || !params[1].memref.buffer) {
		params[0].memref.size = e_len;
		params[1].memref.size = n_len;
		return TEE_ERROR_SHORT_BUFFER;
	}
	TEE_MemMove(params[0].memref.buffer, e, e_len);
	TEE_MemMove(params[1].memref.buffer, n, n_len);
	params[0].memref.size = e_len;
	params[1].memref.size = n_len;
	params[2].value.a = alg;
	params[2].value.b = 0;
	return TEE_SUCCESS;
}

/*
 * cmd_import_keys.c - TA_TEESPARK_CMD_IMPORT_KEYS: install data keys from a
 * signed key broker (KBS) reply (teespark_ta.h, docs/ATTESTATION.md).
 *
 * Order of checks, each on a copy of the reply in TA memory:
 *   1. a pinned KBS key (TS_ERROR_KBS_NOT_PINNED);
 *   2. sizes and counts, so nothing below reads out of bounds
 *      (TS_ERROR_REPLY_FORMAT);
 *   3. the Ed25519 signature over everything before it, with the pinned key
 *      (TS_ERROR_REPLY_SIGNATURE): from here on every byte is the KBS's;
 *   4. evidence_hash = the session's pending evidence (TS_ERROR_REPLY_STALE):
 *      the reply answers this session's latest evidence, once;
 *   5. entry fields (flags, reserved, slot range, distinct slots);
 *   6. unwrap every key into TA memory (TS_ERROR_REPLY_FORMAT if one does
 *      not open: a KBS fault, since the signature was good).
 * Only then does anything change: the keys go into their slots (bound to
 * their tables), the recipients replace the recorded ones and the pending
 * evidence is cleared. Any failure leaves the session exactly as it was.
 */
#include "cmd.h"
#include "../crypto/ed25519.h"
#include "../crypto/hkdf.h"
#include "../crypto/key_wrap.h"

_Static_assert(sizeof(struct ts_kbs_reply_header) == TS_KBS_REPLY_HEADER_SIZE,
	       "struct ts_kbs_reply_header must be 96 bytes");
_Static_assert(sizeof(struct ts_wrapped_key) == TS_WRAPPED_KEY_SIZE,
	       "struct ts_wrapped_key must be 104 bytes");
_Static_assert(offsetof(struct ts_wrapped_key, nonce) == TS_WRAPPED_KEY_AAD_SIZE,
	       "wrapped key AAD = slot, flags, key_id, table_id");
_Static_assert(sizeof(struct ts_recipient) == TS_RECIPIENT_SIZE,
	       "struct ts_recipient must be 48 bytes");

#define REPLY_MAX_SIZE (TS_KBS_REPLY_HEADER_SIZE + \
			TS_MAX_KEY_SLOTS * TS_WRAPPED_KEY_SIZE + \
			TS_MAX_RECIPIENTS * TS_RECIPIENT_SIZE + \
			TS_ED25519_SIGNATURE_SIZE)

/* Step 2: header fields and sizes. */
static TEE_Result check_shape(const struct ts_kbs_reply_header *h, size_t len)
{
	uint64_t want;

	if (h->magic != TS_KBS_REPLY_MAGIC || h->version != 1 ||
	    h->header_size != TS_KBS_REPLY_HEADER_SIZE || h->reserved ||
	    h->key_count > TS_MAX_KEY_SLOTS ||
	    h->recipient_count > TS_MAX_RECIPIENTS)
		return TS_ERROR_REPLY_FORMAT;
	want = (uint64_t)TS_KBS_REPLY_HEADER_SIZE +
	       (uint64_t)h->key_count * TS_WRAPPED_KEY_SIZE +
	       (uint64_t)h->recipient_count * TS_RECIPIENT_SIZE +
	       TS_ED25519_SIGNATURE_SIZE;
	if (h->reply_size != want || len != want)
		return TS_ERROR_REPLY_FORMAT;
	return TEE_SUCCESS;
}

/* Step 5. */
static TEE_Result check_entries(const struct ts_wrapped_key *w, uint32_t n)
{
	uint32_t i, used = 0;

	for (i = 0; i < n; i++) {
		if (w[i].flags || w[i].reserved || w[i].slot >= TS_MAX_KEY_SLOTS ||
		    (used & (1u << w[i].slot)))
			return TS_ERROR_REPLY_FORMAT;
		used |= 1u << w[i].slot;
	}
	return TEE_SUCCESS;
}

/* Step 6: K from the session's X25519 key and the KBS's ephemeral key, then
 * every key unwrapped into keys[i].
 * Leaks: key count, which entry failed.  Hides: K, the data keys. */
static TEE_Result unwrap_all(struct ta_session *s,
			     const struct ts_kbs_reply_header *h,
			     const struct ts_wrapped_key *w,
			     uint8_t keys[][TS_KEY_SIZE])
{
	const struct ts_buf info[3] = {
		{ TS_KBS_WRAP_INFO, sizeof(TS_KBS_WRAP_INFO) - 1 },
		{ h->kbs_ephemeral_key, TS_X25519_PUBLIC_SIZE },
		{ s->kbs.eph.pub, TS_X25519_PUBLIC_SIZE },
	};
	uint8_t shared[X25519_KEY_SIZE], kek[TS_KEY_SIZE];
	TEE_Result res;
	uint32_t i;

	res = x25519_shared(&s->kbs.eph, h->kbs_ephemeral_key, shared);
	if (res == TEE_ERROR_SECURITY)
		res = TS_ERROR_REPLY_FORMAT;
	if (res != TEE_SUCCESS)
		goto out;
	res = hkdf_sha256(h->evidence_hash, sizeof(h->evidence_hash), shared,
			  sizeof(shared), info, 3, kek, sizeof(kek));
	if (res != TEE_SUCCESS)
		goto out;
	for (i = 0; i < h->key_count; i++) {
		res = key_wrap_open(kek, w[i].nonce, &w[i],
				    TS_WRAPPED_KEY_AAD_SIZE, w[i].wrapped_key,
				    w[i].tag, keys[i]);
		if (res == TEE_ERROR_MAC_INVALID) {
			SHIM_LOGE("IMPORT_KEYS: key entry %u does not unwrap", i);
			res = TS_ERROR_REPLY_FORMAT;
		}
		if (res != TEE_SUCCESS)
			goto out;
	}
out:
	shim_wipe(shared, sizeof(shared));
	shim_wipe(kek, sizeof(kek));
	return res;
}

/* see cmd.h */
TEE_Result cmd_import_keys(struct ta_session *s, uint32_t param_types,
			   TEE_Param params[SHIM_NUM_PARAMS])
{
	const uint32_t exp = TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_VALUE_OUTPUT,
					     TEE_PARAM_TYPE_NONE,
					     TEE_PARAM_TYPE_NONE);
	uint8_t keys[TS_MAX_KEY_SLOTS][TS_KEY_SIZE];
	const struct ts_kbs_reply_header *h;
	const struct ts_wrapped_key *w;
	const struct ts_recipient *r;
	uint8_t *reply = NULL;
	size_t len, signed_len;
	TEE_Result res;
	uint32_t i;

	if (param_types != exp)
		return TEE_ERROR_BAD_PARAMETERS;
	params[1].value.a = 0;
	params[1].value.b = 0;
	len = params[0].memref.buffer ? params[0].memref.size : 0;
	if (!s->kbs.pinned) {
		SHIM_LOGE("IMPORT_KEYS: no KBS key pinned (PIN_KBS_KEY first)");
		return TS_ERROR_KBS_NOT_PINNED;
	}
	if (len < TS_KBS_REPLY_HEADER_SIZE + TS_ED25519_SIGNATURE_SIZE ||
	    len > REPLY_MAX_SIZE) {
		SHIM_LOGE("IMPORT_KEYS: reply of %zu bytes, expect %u..%u", len,
			  TS_KBS_REPLY_HEADER_SIZE + TS_ED25519_SIGNATURE_SIZE,
			  (unsigned int)REPLY_MAX_SIZE);
		return TS_ERROR_REPLY_FORMAT;
	}
	/* One copy: the host cannot change what is checked (TOCTOU). */
	reply = TEE_Malloc(len, TEE_MALLOC_NO_FILL);
	if (!reply)
		return TEE_ERROR_OUT_OF_MEMORY;
	TEE_MemMove(reply, params[0].memref.buffer, len);
	h = (const struct ts_kbs_reply_header *)(void *)reply;
	w = (const struct ts_wrapped_key *)(void *)(reply + TS_KBS_REPLY_HEADER_SIZE);
	TEE_MemFill(keys, 0, sizeof(keys));

	res = check_shape(h, len);
	if (res != TEE_SUCCESS) {
		SHIM_LOGE("IMPORT_KEYS: malformed reply header");
		goto out;
	}
	r = (const struct ts_recipient *)(const void *)(w + h->key_count);
	signed_len = len - TS_ED25519_SIGNATURE_SIZE;
	res = ed25519_verify(s->kbs.kbs_key, reply, signed_len,
			     reply + signed_len);
	if (res != TEE_SUCCESS) {
		SHIM_LOGE("IMPORT_KEYS: reply not signed by the pinned KBS key "
			  "(0x%x)", (unsigned int)res);
		res = TS_ERROR_REPLY_SIGNATURE;
		goto out;
	}
	if (!s->kbs.pending ||
	    TEE_MemCompare(h->evidence_hash, s->kbs.pending_hash,
			   sizeof(h->evidence_hash))) {
		SHIM_LOGE("IMPORT_KEYS: reply does not answer this session's "
			  "pending evidence");
		res = TS_ERROR_REPLY_STALE;
		goto out;
	}
	res = check_entries(w, h->key_count);
	if (res != TEE_SUCCESS) {
		SHIM_LOGE("IMPORT_KEYS: malformed key entry");
		goto out;
	}
	res = unwrap_all(s, h, w, keys);
	if (res != TEE_SUCCESS)
		goto out;

	/* Commit: nothing below can fail. */
	for (i = 0; i < h->key_count; i++) {
		table_registry_forget_slot(&s->tables, w[i].slot);
		key_slots_install_bound(&s->keys, w[i].slot, keys[i],
					w[i].key_id, w[i].table_id);
	}
	TEE_MemFill(s->kbs.recipients, 0, sizeof(s->kbs.recipients));
	TEE_MemMove(s->kbs.recipients, r,
		    (size_t)h->recipient_count * TS_RECIPIENT_SIZE);
	s->kbs.n_recipients = h->recipient_count;
	s->kbs.pending = 0;
	TEE_MemFill(s->kbs.pending_hash, 0, sizeof(s->kbs.pending_hash));
	params[1].value.a = h->key_count;
	params[1].value.b = h->recipient_count;
out:
	shim_wipe(keys, sizeof(keys));
	shim_wipe(reply, len);
	TEE_Free(reply);
	return res;
}

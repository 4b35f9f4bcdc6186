/*
 * block_gcm.c - AES-256-GCM block seal/open (see block_gcm.h; the nonce
 * WARNING there applies to every caller).
 */
#include "block_gcm.h"

#define BLOCK_GCM_TAG_BITS (TS_TAG_SIZE * 8)

/* see block_gcm.h */
TEE_Result block_gcm_init(struct block_gcm *g, uint32_t mode,
			  const uint8_t *key)
{
	TEE_ObjectHandle obj = TEE_HANDLE_NULL;
	TEE_Attribute attr;
	TEE_Result res;

	g->op = TEE_HANDLE_NULL;
	res = TEE_AllocateOperation(&g->op, TEE_ALG_AES_GCM, mode,
				    TS_KEY_SIZE * 8);
	if (res != TEE_SUCCESS) {
		g->op = TEE_HANDLE_NULL;
		return res;
	}
	res = TEE_AllocateTransientObject(TEE_TYPE_AES, TS_KEY_SIZE * 8, &obj);
	if (res != TEE_SUCCESS)
		goto fail;
	shim_init_ref_attribute(&attr, TEE_ATTR_SECRET_VALUE, key, TS_KEY_SIZE);
	res = shim_populate_transient_object(obj, &attr, 1);
	if (res != TEE_SUCCESS)
		goto fail;
	/* The operation keeps its own copy of the key. */
	res = TEE_SetOperationKey(g->op, obj);
	if (res != TEE_SUCCESS)
		goto fail;
	TEE_FreeTransientObject(obj);
	return TEE_SUCCESS;
fail:
	if (obj != TEE_HANDLE_NULL)
		TEE_FreeTransientObject(obj);
	TEE_FreeOperation(g->op);
	g->op = TEE_HANDLE_NULL;
	return res;
}

/* see block_gcm.h */
void block_gcm_free(struct block_gcm *g)
{
	if (g->op != TEE_HANDLE_NULL)
		TEE_FreeOperation(g->op);
	g->op = TEE_HANDLE_NULL;
}

/* see block_gcm.h */
void block_gcm_header_init(struct ts_block_header *hdr)
{
	TEE_MemFill(hdr, 0, sizeof(*hdr));
	hdr->magic = TS_BLOCK_MAGIC;
	hdr->format_version = TS_FORMAT_VERSION;
	hdr->header_size = TS_BLOCK_HEADER_SIZE;
}

/* see block_gcm.h */
TEE_Result block_gcm_read_header(const uint8_t *sealed, size_t avail,
				 struct ts_block_header *hdr)
{
	uint64_t ct_size;

	if (avail < TS_BLOCK_HEADER_SIZE)
		return TS_ERROR_BLOCK_FORMAT;
	/* Stable copy first: everything below reads only the copy. */
	TEE_MemMove(hdr, sealed, TS_BLOCK_HEADER_SIZE);

	if (hdr->magic != TS_BLOCK_MAGIC ||
	    hdr->format_version != TS_FORMAT_VERSION ||
	    hdr->header_size != TS_BLOCK_HEADER_SIZE)
		return TS_ERROR_BLOCK_FORMAT;
	if (hdr->row_size == 0 || hdr->row_size > TS_MAX_ROW_SIZE)
		return TS_ERROR_BLOCK_FORMAT;
	ct_size = (uint64_t)hdr->row_count * hdr->row_size;
	if (ct_size != hdr->ciphertext_size ||
	    ct_size > TS_MAX_BLOCK_PLAINTEXT)
		return TS_ERROR_BLOCK_FORMAT;
	if (avail - TS_BLOCK_HEADER_SIZE < ct_size + TS_TAG_SIZE)
		return TS_ERROR_BLOCK_FORMAT;
	return TEE_SUCCESS;
}

/*
 * Ciphertext is copied into TA memory and decrypted in place in chunks of
 * this many bytes: GCM must authenticate and decrypt the same bytes, and a
 * GCM implementation may read its input twice (GHASH pass, then CTR pass),
 * so decrypting straight from shared memory would let the host change the
 * ciphertext between the two reads and get unauthenticated plaintext past
 * the tag check. A chunk small enough to stay in the L2 cache makes the copy
 * cost about one extra cache-resident pass instead of a second DRAM pass.
 */
#define BLOCK_GCM_CHUNK (64 * 1024)

/* see block_gcm.h */
TEE_Result block_gcm_open(struct block_gcm *g, const struct ts_block_header *hdr,
			  const uint8_t *sealed, uint8_t *pt)
{
	const uint8_t *ct = sealed + TS_BLOCK_HEADER_SIZE;
	size_t ct_size = hdr->ciphertext_size;
	size_t off = 0, n, out_len;
	uint8_t tag[TS_TAG_SIZE];
	TEE_Result res;

	/* Stable copy of the tag in TA memory (see above). */
	TEE_MemMove(tag, ct + ct_size, TS_TAG_SIZE);

	TEE_ResetOperation(g->op);
	res = shim_ae_init(g->op, hdr->nonce, TS_NONCE_SIZE, BLOCK_GCM_TAG_BITS,
			   TS_BLOCK_HEADER_SIZE, ct_size);
	if (res != TEE_SUCCESS)
		goto fail;
	shim_ae_update_aad(g->op, hdr, TS_BLOCK_HEADER_SIZE);
	/* All chunks but the last through TEE_AEUpdate, in place. */
	while (ct_size - off > BLOCK_GCM_CHUNK) {
		n = BLOCK_GCM_CHUNK;
		out_len = n;
		TEE_MemMove(pt + off, ct + off, n);
		res = shim_ae_update(g->op, pt + off, n, pt + off, &out_len);
		if (res != TEE_SUCCESS || out_len != n) {
			res = res != TEE_SUCCESS ? res : TEE_ERROR_GENERIC;
			goto fail;
		}
		off += n;
	}
	n = ct_size - off;
	out_len = n;
	TEE_MemMove(pt + off, ct + off, n);
	res = shim_ae_decrypt_final(g->op, pt + off, n, pt + off, &out_len,
				    tag, TS_TAG_SIZE);
	if (res == TEE_ERROR_MAC_INVALID) {
		res = TS_ERROR_BLOCK_AUTH;
		goto fail;
	}
	if (res != TEE_SUCCESS)
		goto fail;
	if (out_len != n) {
		res = TEE_ERROR_GENERIC;
		goto fail;
	}
	return TEE_SUCCESS;
fail:
	/* Never hand back unauthenticated plaintext: the chunks decrypted
	 * before the tag check are still in pt. */
	shim_wipe(pt, ct_size);
	return res;
}

/* see block_gcm.h */
TEE_Result block_gcm_seal(struct block_gcm *g, struct ts_block_header *hdr,
			  const uint8_t *pt, uint8_t *out)
{
	size_t ct_size = hdr->ciphertext_size;
	size_t out_len = ct_size;
	size_t tag_len = TS_TAG_SIZE;
	TEE_Result res;

	/* WARNING: random nonce, see block_gcm.h for the per-key bound. */
	TEE_GenerateRandom(hdr->nonce, TS_NONCE_SIZE);
	TEE_MemMove(out, hdr, TS_BLOCK_HEADER_SIZE);

	TEE_ResetOperation(g->op);
	res = shim_ae_init(g->op, hdr->nonce, TS_NONCE_SIZE, BLOCK_GCM_TAG_BITS,
			   TS_BLOCK_HEADER_SIZE, ct_size);
	if (res != TEE_SUCCESS)
		return res;
	/* AAD from the TA copy, never from `out`, which the host can rewrite. */
	shim_ae_update_aad(g->op, hdr, TS_BLOCK_HEADER_SIZE);
	res = shim_ae_encrypt_final(g->op, pt, ct_size,
				    out + TS_BLOCK_HEADER_SIZE, &out_len,
				    out + TS_BLOCK_HEADER_SIZE + ct_size,
				    &tag_len);
	if (res != TEE_SUCCESS)
		return res;
	if (out_len != ct_size || tag_len != TS_TAG_SIZE)
		return TEE_ERROR_GENERIC;
	return TEE_SUCCESS;
}

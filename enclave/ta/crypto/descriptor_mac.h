/*
 * descriptor_mac.h - the MAC of a struct ts_table_descriptor (teespark_ta.h):
 *   mac = HMAC-SHA256(HKDF-SHA256(IKM = data key, salt = 32 zero bytes,
 *                                 info = TS_MANIFEST_MAC_INFO, L = 32),
 *                     the descriptor's first TS_DESCRIPTOR_MAC_OFFSET bytes).
 * The MAC key is derived, never the data key itself, so the data key is
 * used for one purpose (AES-GCM) only.
 */
#ifndef TEESPARK_DESCRIPTOR_MAC_H
#define TEESPARK_DESCRIPTOR_MAC_H

#include "../shim_tee.h"

/* Compute d->mac under the MAC key derived from data_key.
 * Leaks: nothing (the descriptor is public).  Hides: data key, MAC key. */
TEE_Result descriptor_mac_seal(const uint8_t data_key[TS_KEY_SIZE],
			       struct ts_table_descriptor *d);

/* TEE_SUCCESS if d->mac is right for data_key, else TS_ERROR_MANIFEST_AUTH.
 * The comparison reads all 32 bytes and has no early exit.
 * Leaks: whether the MAC matched.  Hides: data key, MAC key, expected MAC. */
TEE_Result descriptor_mac_check(const uint8_t data_key[TS_KEY_SIZE],
				const struct ts_table_descriptor *d);

#endif /* TEESPARK_DESCRIPTOR_MAC_H */

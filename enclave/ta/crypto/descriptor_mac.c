/*
 * descriptor_mac.c - table descriptor MAC (see descriptor_mac.h).
 */
#include "descriptor_mac.h"
#include "hkdf.h"
#include "../ct.h"

_Static_assert(sizeof(struct ts_table_descriptor) == TS_TABLE_DESCRIPTOR_SIZE,
	       "struct ts_table_descriptor must be 136 bytes");
_Static_assert(offsetof(struct ts_table_descriptor, mac) ==
	       TS_DESCRIPTOR_MAC_OFFSET, "descriptor MAC offset");

/* The MAC over the descriptor's first 104 bytes. */
static TEE_Result compute(const uint8_t data_key[TS_KEY_SIZE],
			  const struct ts_table_descriptor *d,
			  uint8_t mac[TS_SHA256_SIZE])
{
	static const uint8_t zero_salt[TS_SHA256_SIZE];
	const struct ts_buf info = { TS_MANIFEST_MAC_INFO,
				     sizeof(TS_MANIFEST_MAC_INFO) - 1 };
	const struct ts_buf body = { d, TS_DESCRIPTOR_MAC_OFFSET };
	uint8_t mac_key[TS_SHA256_SIZE];
	TEE_Result res;

	res = hkdf_sha256(zero_salt, sizeof(zero_salt), data_key, TS_KEY_SIZE,
			  &info, 1, mac_key, sizeof(mac_key));
	if (res == TEE_SUCCESS)
		res = hmac_sha256(mac_key, sizeof(mac_key), &body, 1, mac);
	shim_wipe(mac_key, sizeof(mac_key));
	return res;
}

/* see descriptor_mac.h */
TEE_Result descriptor_mac_seal(const uint8_t data_key[TS_KEY_SIZE],
			       struct ts_table_descriptor *d)
{
	return compute(data_key, d, d->mac);
}

/* see descriptor_mac.h */
TEE_Result descriptor_mac_check(const uint8_t data_key[TS_KEY_SIZE],
				const struct ts_table_descriptor *d)
{
	uint8_t mac[TS_SHA256_SIZE];
	uint32_t diff = 0, i;
	TEE_Result res = compute(data_key, d, mac);

	if (res != TEE_SUCCESS)
		return res;
	for (i = 0; i < TS_SHA256_SIZE; i++)
		diff |= (uint32_t)(mac[i] ^ d->mac[i]);
	shim_wipe(mac, sizeof(mac));
	return ct_u32_eq(diff, 0) ? TEE_SUCCESS : TS_ERROR_MANIFEST_AUTH;
}

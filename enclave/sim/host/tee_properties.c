/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tee_properties.c - GP property access (TEE_GetPropertyAs*, property
 * enumerators) for the simulator.
 *
 * Property sets:
 *  - TEE_PROPSET_CURRENT_TA: gpd.ta.* from the TA's sim_ta_props (as
 *    OP-TEE's user_ta_header.c exports them) plus TA_CURRENT_TA_EXT_PROPERTIES.
 *    gpd.ta.dataSize reports the heap limit in force, i.e. it follows the
 *    TEESPARK_TA_DATA_SIZE override (which stands for rebuilding the TA with
 *    another TA_DATA_SIZE).
 *  - TEE_PROPSET_CURRENT_CLIENT: gpd.client.identity (login method of the
 *    session; the UUID is nil: the simulator derives no client UUIDs),
 *    gpd.client.endian.
 *  - TEE_PROPSET_TEE_IMPLEMENTATION: API version, a description that says
 *    this is a simulator, and protection levels that claim no protection.
 * Each property has one type; TEE_GetPropertyAsString converts any type to
 * text, the other getters want their own type (else TEE_ERROR_BAD_FORMAT).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_runtime.h"

#define SIM_MAX_PROPS 64

struct sim_prop {
	char name[64];
	enum user_ta_prop_type type;
	union {
		bool b;
		uint32_t u32;
		uint64_t u64;
		TEE_UUID uuid;
		TEE_Identity id;
		const char *str;	/* STRING and BINARY_BLOCK (base64) */
	} v;
};

struct sim_prop_enum {
	uint32_t magic;
	uintptr_t set;		/* 0: not started */
	size_t index;
};

#define SIM_ENUM_MAGIC 0x50454e55u	/* "PENU" */

/* "teespark-sim" device id: a fixed, recognisably fake UUID. */
static const TEE_UUID sim_device_id = {
	0x7ee55a4d, 0x0000, 0x4000, { 0x80, 0, 0, 0, 0, 0, 0, 0x01 }
};

static void add_prop(struct sim_prop *v, size_t *n, const char *name,
		     enum user_ta_prop_type type)
{
	if (*n >= SIM_MAX_PROPS)
		return;
	memset(&v[*n], 0, sizeof(v[*n]));
	snprintf(v[*n].name, sizeof(v[*n].name), "%s", name);
	v[*n].type = type;
	(*n)++;
}

#define ADD(name, t, field, val) \
	do { \
		add_prop(v, &n, name, USER_TA_PROP_TYPE_##t); \
		v[n - 1].v.field = (val); \
	} while (0)

/* Builds the property list of a set; returns the count (0 for unknown). */
static size_t build_set(uintptr_t set, struct sim_prop *v)
{
	const struct sim_ta_props *tp = sim_rt.props;
	size_t n = 0, i;

	if (set == (uintptr_t)TEE_PROPSET_CURRENT_TA) {
		uint32_t flags = tp ? tp->flags : 0;
		size_t limit = sim_rt.heap_limit;

		if (tp) {
			add_prop(v, &n, "gpd.ta.appID", USER_TA_PROP_TYPE_UUID);
			memcpy(&v[n - 1].v.uuid, &tp->uuid, sizeof(TEE_UUID));
		}
		ADD("gpd.ta.singleInstance", BOOL, b,
		    !!(flags & TA_FLAG_SINGLE_INSTANCE));
		ADD("gpd.ta.multiSession", BOOL, b,
		    !!(flags & TA_FLAG_MULTI_SESSION));
		ADD("gpd.ta.instanceKeepAlive", BOOL, b,
		    !!(flags & TA_FLAG_INSTANCE_KEEP_ALIVE));
		ADD("gpd.ta.dataSize", U32, u32,
		    limit > UINT32_MAX ? UINT32_MAX : (uint32_t)limit);
		ADD("gpd.ta.stackSize", U32, u32, tp ? tp->stack_size : 0);
		ADD("gpd.ta.version", STRING, str, tp ? tp->version : "0.0");
		ADD("gpd.ta.description", STRING, str,
		    tp ? tp->description : "");
		ADD("gpd.ta.endian", U32, u32, 0);
		ADD("gpd.ta.doesNotCloseHandleOnCorruptObject", BOOL, b,
		    !!(flags & TA_FLAG_DONT_CLOSE_HANDLE_ON_CORRUPT_OBJECT));
		for (i = 0; tp && tp->ext_props && i < tp->num_ext_props; i++) {
			const struct user_ta_property *e = &tp->ext_props[i];

			add_prop(v, &n, e->name, e->type);
			switch (e->type) {
			case USER_TA_PROP_TYPE_BOOL:
				v[n - 1].v.b = *(const bool *)e->value;
				break;
			case USER_TA_PROP_TYPE_U32:
				v[n - 1].v.u32 = *(const uint32_t *)e->value;
				break;
			case USER_TA_PROP_TYPE_U64:
				v[n - 1].v.u64 = *(const uint64_t *)e->value;
				break;
			case USER_TA_PROP_TYPE_UUID:
				memcpy(&v[n - 1].v.uuid, e->value,
				       sizeof(TEE_UUID));
				break;
			case USER_TA_PROP_TYPE_IDENTITY:
				memcpy(&v[n - 1].v.id, e->value,
				       sizeof(TEE_Identity));
				break;
			default:
				v[n - 1].v.str = e->value;
				break;
			}
		}
	} else if (set == (uintptr_t)TEE_PROPSET_CURRENT_CLIENT) {
		TEE_Identity id;

		memset(&id, 0, sizeof(id));
		id.login = sim_rt.client_login;
		ADD("gpd.client.identity", IDENTITY, id, id);
		ADD("gpd.client.endian", U32, u32, 0);
	} else if (set == (uintptr_t)TEE_PROPSET_TEE_IMPLEMENTATION) {
		ADD("gpd.tee.apiversion", STRING, str, "1.3.1");
		ADD("gpd.tee.internalCore.version", U32, u32,
		    TEE_CORE_API_VERSION);
		ADD("gpd.tee.description", STRING, str,
		    "teespark host TEE simulator (NOT SECURE)");
		ADD("gpd.tee.deviceID", UUID, uuid, sim_device_id);
		ADD("gpd.tee.systemTime.protectionLevel", U32, u32, 100);
		ADD("gpd.tee.TAPersistentTime.protectionLevel", U32, u32, 100);
		ADD("gpd.tee.arith.maxBigIntSize", U32, u32, 4096);
		ADD("gpd.tee.cryptography.ecc", BOOL, b, false);
		ADD("gpd.tee.trustedStorage.antiRollback.protectionLevel", U32,
		    u32, 0);
		ADD("gpd.tee.trustedStorage.rollbackDetection.protectionLevel",
		    U32, u32, 0);
		ADD("gpd.tee.trustedos.implementation.version", STRING, str,
		    "teespark-sim");
		ADD("gpd.tee.trustedos.manufacturer", STRING, str, "teespark");
		ADD("gpd.tee.firmware.manufacturer", STRING, str, "teespark");
	}
	return n;
}

#undef ADD

static bool is_pseudo(TEE_PropSetHandle h)
{
	uintptr_t v = (uintptr_t)h;

	return v == (uintptr_t)TEE_PROPSET_CURRENT_TA ||
	       v == (uintptr_t)TEE_PROPSET_CURRENT_CLIENT ||
	       v == (uintptr_t)TEE_PROPSET_TEE_IMPLEMENTATION;
}

static struct sim_prop_enum *as_enum(TEE_PropSetHandle h)
{
	struct sim_prop_enum *e = (struct sim_prop_enum *)h;

	if (!e || is_pseudo(h) || e->magic != SIM_ENUM_MAGIC)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	return e;
}

/* Finds `name` in a pseudo set, or the enumerator's current property. */
static TEE_Result lookup(TEE_PropSetHandle h, const char *name,
			 struct sim_prop *out)
{
	struct sim_prop v[SIM_MAX_PROPS];
	size_t n, i;

	if (is_pseudo(h)) {
		if (!name)
			return TEE_ERROR_ITEM_NOT_FOUND;
		n = build_set((uintptr_t)h, v);
		for (i = 0; i < n; i++) {
			if (strcmp(v[i].name, name) == 0) {
				*out = v[i];
				return TEE_SUCCESS;
			}
		}
		return TEE_ERROR_ITEM_NOT_FOUND;
	} else {
		struct sim_prop_enum *e = as_enum(h);

		if (!e->set)
			return TEE_ERROR_ITEM_NOT_FOUND;
		n = build_set(e->set, v);
		if (e->index >= n)
			return TEE_ERROR_ITEM_NOT_FOUND;
		*out = v[e->index];
		return TEE_SUCCESS;
	}
}

static void uuid_str(const TEE_UUID *u, char *buf, size_t len)
{
	snprintf(buf, len,
		 "%08" PRIx32 "-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u->timeLow, u->timeMid, u->timeHiAndVersion,
		 u->clockSeqAndNode[0], u->clockSeqAndNode[1],
		 u->clockSeqAndNode[2], u->clockSeqAndNode[3],
		 u->clockSeqAndNode[4], u->clockSeqAndNode[5],
		 u->clockSeqAndNode[6], u->clockSeqAndNode[7]);
}

static TEE_Result copy_out(const char *s, size_t slen, void *buf,
			   size_t *len)
{
	if (!len)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (*len < slen || !buf) {
		*len = slen;
		return TEE_ERROR_SHORT_BUFFER;
	}
	memcpy(buf, s, slen);
	*len = slen;
	return TEE_SUCCESS;
}

TEE_Result TEE_GetPropertyAsString(TEE_PropSetHandle propsetOrEnumerator,
				   const char *name, char *valueBuffer,
				   size_t *valueBufferLen)
{
	struct sim_prop p;
	char tmp[128];
	const char *s = tmp;
	TEE_Result res = lookup(propsetOrEnumerator, name, &p);

	if (res != TEE_SUCCESS)
		return res;
	switch (p.type) {
	case USER_TA_PROP_TYPE_BOOL:
		s = p.v.b ? "true" : "false";
		break;
	case USER_TA_PROP_TYPE_U32:
		snprintf(tmp, sizeof(tmp), "%" PRIu32, p.v.u32);
		break;
	case USER_TA_PROP_TYPE_U64:
		snprintf(tmp, sizeof(tmp), "%" PRIu64, p.v.u64);
		break;
	case USER_TA_PROP_TYPE_UUID:
		uuid_str(&p.v.uuid, tmp, sizeof(tmp));
		break;
	case USER_TA_PROP_TYPE_IDENTITY: {
		char u[40];

		uuid_str(&p.v.id.uuid, u, sizeof(u));
		snprintf(tmp, sizeof(tmp), "%" PRIu32 ":%s", p.v.id.login, u);
		break;
	}
	default:
		s = p.v.str ? p.v.str : "";
		break;
	}
	return copy_out(s, strlen(s) + 1, valueBuffer, valueBufferLen);
}

static TEE_Result get_typed(TEE_PropSetHandle h, const char *name,
			    enum user_ta_prop_type t, struct sim_prop *p)
{
	TEE_Result res = lookup(h, name, p);

	if (res == TEE_SUCCESS && p->type != t)
		return TEE_ERROR_BAD_FORMAT;
	return res;
}

TEE_Result TEE_GetPropertyAsBool(TEE_PropSetHandle propsetOrEnumerator,
				 const char *name, bool *value)
{
	struct sim_prop p;
	TEE_Result res = get_typed(propsetOrEnumerator, name,
				   USER_TA_PROP_TYPE_BOOL, &p);

	if (res == TEE_SUCCESS)
		*value = p.v.b;
	return res;
}

TEE_Result TEE_GetPropertyAsU32(TEE_PropSetHandle propsetOrEnumerator,
				const char *name, uint32_t *value)
{
	struct sim_prop p;
	TEE_Result res = get_typed(propsetOrEnumerator, name,
				   USER_TA_PROP_TYPE_U32, &p);

	if (res == TEE_SUCCESS)
		*value = p.v.u32;
	return res;
}

TEE_Result TEE_GetPropertyAsU64(TEE_PropSetHandle propsetOrEnumerator,
				const char *name, uint64_t *value)
{
	struct sim_prop p;
	TEE_Result res = lookup(propsetOrEnumerator, name, &p);

	if (res != TEE_SUCCESS)
		return res;
	if (p.type == USER_TA_PROP_TYPE_U64)
		*value = p.v.u64;
	else if (p.type == USER_TA_PROP_TYPE_U32)
		*value = p.v.u32;	/* lossless widening */
	else
		return TEE_ERROR_BAD_FORMAT;
	return TEE_SUCCESS;
}

TEE_Result TEE_GetPropertyAsUUID(TEE_PropSetHandle propsetOrEnumerator,
				 const char *name, TEE_UUID *value)
{
	struct sim_prop p;
	TEE_Result res = get_typed(propsetOrEnumerator, name,
				   USER_TA_PROP_TYPE_UUID, &p);

	if (res == TEE_SUCCESS)
		*value = p.v.uuid;
	return res;
}

TEE_Result TEE_GetPropertyAsIdentity(TEE_PropSetHandle propsetOrEnumerator,
				     const char *name, TEE_Identity *value)
{
	struct sim_prop p;
	TEE_Result res = get_typed(propsetOrEnumerator, name,
				   USER_TA_PROP_TYPE_IDENTITY, &p);

	if (res == TEE_SUCCESS)
		*value = p.v.id;
	return res;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

TEE_Result TEE_GetPropertyAsBinaryBlock(TEE_PropSetHandle propsetOrEnumerator,
					const char *name, void *valueBuffer,
					size_t *valueBufferLen)
{
	struct sim_prop p;
	uint8_t out[1024];
	size_t n = 0;
	uint32_t acc = 0;
	int bits = 0;
	const char *s;
	TEE_Result res = get_typed(propsetOrEnumerator, name,
				   USER_TA_PROP_TYPE_BINARY_BLOCK, &p);

	if (res != TEE_SUCCESS)
		return res;
	/* Binary blocks are stored base64-encoded (OP-TEE convention). */
	for (s = p.v.str ? p.v.str : ""; *s && *s != '='; s++) {
		int d = b64val(*s);

		if (d < 0)
			return TEE_ERROR_BAD_FORMAT;
		acc = (acc << 6) | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == sizeof(out))
				return TEE_ERROR_BAD_FORMAT;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return copy_out((const char *)out, n, valueBuffer, valueBufferLen);
}

TEE_Result TEE_AllocatePropertyEnumerator(TEE_PropSetHandle *enumerator)
{
	struct sim_prop_enum *e = calloc(1, sizeof(*e));

	if (!e)
		return TEE_ERROR_OUT_OF_MEMORY;
	e->magic = SIM_ENUM_MAGIC;
	*enumerator = (TEE_PropSetHandle)e;
	return TEE_SUCCESS;
}

void TEE_FreePropertyEnumerator(TEE_PropSetHandle enumerator)
{
	struct sim_prop_enum *e;

	if (!enumerator)
		return;
	e = as_enum(enumerator);
	e->magic = 0;
	free(e);
}

void TEE_StartPropertyEnumerator(TEE_PropSetHandle enumerator,
				 TEE_PropSetHandle propSet)
{
	struct sim_prop_enum *e = as_enum(enumerator);

	if (!is_pseudo(propSet))
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	e->set = (uintptr_t)propSet;
	e->index = 0;
}

void TEE_ResetPropertyEnumerator(TEE_PropSetHandle enumerator)
{
	struct sim_prop_enum *e = as_enum(enumerator);

	e->set = 0;
	e->index = 0;
}

TEE_Result TEE_GetPropertyName(TEE_PropSetHandle enumerator, void *nameBuffer,
			       size_t *nameBufferLen)
{
	struct sim_prop p;
	TEE_Result res;

	as_enum(enumerator);
	res = lookup(enumerator, NULL, &p);
	if (res != TEE_SUCCESS)
		return res;
	return copy_out(p.name, strlen(p.name) + 1, nameBuffer, nameBufferLen);
}

TEE_Result TEE_GetNextProperty(TEE_PropSetHandle enumerator)
{
	struct sim_prop v[SIM_MAX_PROPS];
	struct sim_prop_enum *e = as_enum(enumerator);

	if (!e->set)
		return TEE_ERROR_ITEM_NOT_FOUND;
	if (e->index + 1 >= build_set(e->set, v)) {
		e->index = SIZE_MAX - 1;
		return TEE_ERROR_ITEM_NOT_FOUND;
	}
	e->index++;
	return TEE_SUCCESS;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_ta_props.h - TA properties for the host simulator (the simulator's
 * counterpart of OP-TEE's user_ta_header.h / ta_head).
 *
 * A TA built for the simulator compiles enclave/sim/ta_props.c with its own
 * user_ta_header_defines.h on the include path; that file exports
 * `const struct sim_ta_props sim_ta_props`, which the TA host reads after
 * dlopen()ing the TA (heap limit, stack size, flags, UUID check).
 *
 * The TA_FLAG_* and user_ta_property definitions below mirror OP-TEE's
 * user_ta_header.h so an unmodified user_ta_header_defines.h compiles.
 */
#ifndef SIM_TA_PROPS_H
#define SIM_TA_PROPS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped when struct sim_ta_props changes; the TA host refuses a mismatch. */
#define SIM_TA_PROPS_ABI 1

/* OP-TEE TA flag bits (user_ta_header.h). */
#ifndef TA_FLAG_SINGLE_INSTANCE
#define TA_FLAG_USER_MODE                    0
#define TA_FLAG_EXEC_DDR                     0
#define TA_FLAG_REMAP_SUPPORT                0
#define TA_FLAG_SINGLE_INSTANCE              (1u << 2)
#define TA_FLAG_MULTI_SESSION                (1u << 3)
#define TA_FLAG_INSTANCE_KEEP_ALIVE          (1u << 4)
#define TA_FLAG_SECURE_DATA_PATH             (1u << 5)
#define TA_FLAG_CACHE_MAINTENANCE            (1u << 7)
#define TA_FLAG_CONCURRENT                   (1u << 8)
#define TA_FLAG_DEVICE_ENUM                  (1u << 9)
#define TA_FLAG_DEVICE_ENUM_SUPP             (1u << 10)
#define TA_FLAG_DONT_CLOSE_HANDLE_ON_CORRUPT_OBJECT (1u << 11)
#define TA_FLAG_DEVICE_ENUM_TEE_STORAGE_PRIVATE (1u << 12)
#define TA_FLAG_INSTANCE_KEEP_CRASHED        (1u << 13)
#endif

/* Extra TA properties (TA_CURRENT_TA_EXT_PROPERTIES), as in OP-TEE. */
enum user_ta_prop_type {
	USER_TA_PROP_TYPE_BOOL,		/* bool */
	USER_TA_PROP_TYPE_U32,		/* uint32_t */
	USER_TA_PROP_TYPE_UUID,		/* TEE_UUID */
	USER_TA_PROP_TYPE_IDENTITY,	/* TEE_Identity */
	USER_TA_PROP_TYPE_STRING,	/* zero-terminated string of char */
	USER_TA_PROP_TYPE_BINARY_BLOCK,	/* zero-terminated base64 string */
	USER_TA_PROP_TYPE_U64,		/* uint64_t */
	USER_TA_PROP_TYPE_INVALID,
};

struct user_ta_property {
	const char *name;
	enum user_ta_prop_type type;
	const void *value;
};

/* Same layout as TEE_UUID / TEEC_UUID, without depending on either header. */
struct sim_uuid {
	uint32_t timeLow;
	uint16_t timeMid;
	uint16_t timeHiAndVersion;
	uint8_t clockSeqAndNode[8];
};

struct sim_ta_props {
	uint32_t abi;			/* SIM_TA_PROPS_ABI */
	struct sim_uuid uuid;		/* TA_UUID */
	uint32_t flags;			/* TA_FLAGS */
	uint32_t stack_size;		/* TA_STACK_SIZE, bytes */
	size_t data_size;		/* TA_DATA_SIZE: TEE_Malloc heap, bytes */
	const char *version;		/* TA_VERSION or "0.0" */
	const char *description;	/* TA_DESCRIPTION or "" */
	const struct user_ta_property *ext_props;	/* may be NULL */
	size_t num_ext_props;
};

/*
 * Initialise the simulator's Internal API runtime for a harness that runs TA
 * code in-process (libtee_internal_sim.a): sets the TEE_Malloc heap limit to
 * props->data_size (TEESPARK_TA_DATA_SIZE overrides it, as in the TA host),
 * the log prefix from props->uuid, and makes TEE_Panic abort() the process.
 * props may be NULL: 32 MiB heap, prefix "[ta sim]".  Call once, before the
 * first entry point.  The TA host calls it itself; TAs must not.
 */
void sim_internal_init(const struct sim_ta_props *props);

#ifdef __cplusplus
}
#endif

#endif /* SIM_TA_PROPS_H */

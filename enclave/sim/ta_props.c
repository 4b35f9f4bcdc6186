/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ta_props.c - compiled into every TA built for the host simulator, with
 * -I<directory holding that TA's user_ta_header_defines.h>.  The simulator's
 * counterpart of OP-TEE's ta/user_ta_header.c: it turns the TA_* macros into
 * the `sim_ta_props` symbol the TA host reads after dlopen().
 */
#include <sim_ta_props.h>

#include <user_ta_header_defines.h>

#ifndef TA_UUID
#error "user_ta_header_defines.h must define TA_UUID"
#endif
#ifndef TA_FLAGS
#error "user_ta_header_defines.h must define TA_FLAGS"
#endif
#ifndef TA_STACK_SIZE
#error "user_ta_header_defines.h must define TA_STACK_SIZE"
#endif
#ifndef TA_DATA_SIZE
#error "user_ta_header_defines.h must define TA_DATA_SIZE"
#endif

#ifndef TA_VERSION
#define TA_VERSION "0.0"
#endif
#ifndef TA_DESCRIPTION
#define TA_DESCRIPTION ""
#endif

/* OP-TEE refuses heaps too small for its allocator; so do we, at build time. */
_Static_assert((TA_DATA_SIZE) >= 4096, "TA_DATA_SIZE below 4 KiB");

#ifdef TA_CURRENT_TA_EXT_PROPERTIES
static const struct user_ta_property sim_ext_props[] = {
	TA_CURRENT_TA_EXT_PROPERTIES
};
#define SIM_EXT_PROPS sim_ext_props
#define SIM_NUM_EXT_PROPS (sizeof(sim_ext_props) / sizeof(sim_ext_props[0]))
#else
#define SIM_EXT_PROPS NULL
#define SIM_NUM_EXT_PROPS 0
#endif

__attribute__((visibility("default")))
const struct sim_ta_props sim_ta_props = {
	.abi = SIM_TA_PROPS_ABI,
	.uuid = TA_UUID,
	.flags = TA_FLAGS,
	.stack_size = TA_STACK_SIZE,
	.data_size = TA_DATA_SIZE,
	.version = TA_VERSION,
	.description = TA_DESCRIPTION,
	.ext_props = SIM_EXT_PROPS,
	.num_ext_props = SIM_NUM_EXT_PROPS,
};

/*
 * user_ta_header_defines.h - properties of the teespark TA.
 *
 * OP-TEE: read by the dev kit's ta/user_ta_header.c (TA head, heap array,
 * gpd.ta.* properties), per the TA dev-kit conventions. Simulator: read by
 * enclave/sim/ta_props.c. iTrustee takes the same values from manifest.txt;
 * keep the two in step.
 */
#ifndef USER_TA_HEADER_DEFINES_H
#define USER_TA_HEADER_DEFINES_H

#include <teespark_ta.h>

#define TA_UUID TA_TEESPARK_UUID

/*
 * Not TA_FLAG_SINGLE_INSTANCE: every session gets its own TA instance, with
 * its own heap and key slots, and instances run in parallel (one instance is
 * never entered by two threads, so a shared instance would serialize all
 * Spark workers). TA_FLAG_MULTI_SESSION only matters for single-instance TAs
 * and TA_FLAG_INSTANCE_KEEP_ALIVE would keep keys past the last session, so
 * no flag is set.
 */
#define TA_FLAGS 0

/* The handlers keep only headers and small structs on the stack. */
#define TA_STACK_SIZE (16 * 1024)

/*
 * TEE_Malloc heap (OP-TEE: a static array of this size in .bss). 32 MiB by
 * default; override with -DTEESPARK_TA_DATA_SIZE=<bytes> at build time (the
 * simulator also takes TEESPARK_TA_DATA_SIZE from the environment at run
 * time). Stock OP-TEE on QEMU has ~7 MiB for all TAs together: build with a
 * smaller value there.
 */
#ifdef TEESPARK_TA_DATA_SIZE
#define TA_DATA_SIZE (TEESPARK_TA_DATA_SIZE)
#else
#define TA_DATA_SIZE (32 * 1024 * 1024)
#endif

#define TA_VERSION "1.0"
#define TA_DESCRIPTION "teespark: oblivious analytics over sealed table blocks"

#endif /* USER_TA_HEADER_DEFINES_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * user_ta_header_defines.h - properties of the simulator's test TA, in the
 * form OP-TEE's TA dev kit expects (read by enclave/sim/ta_props.c).
 */
#ifndef USER_TA_HEADER_DEFINES_H
#define USER_TA_HEADER_DEFINES_H

#include <sim_test_ta.h>

#define TA_UUID SIM_TEST_TA_UUID

/* Multi-instance, single-session: one instance per TEEC_OpenSession. */
#define TA_FLAGS 0
#define TA_STACK_SIZE (16 * 1024)
/* Small on purpose, so heap-limit tests need little memory. */
#define TA_DATA_SIZE (4 * 1024 * 1024)
#define TA_VERSION "1.0"
#define TA_DESCRIPTION "teespark simulator test TA"

#endif /* USER_TA_HEADER_DEFINES_H */

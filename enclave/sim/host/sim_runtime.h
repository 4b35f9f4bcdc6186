/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_runtime.h - state of the simulated TA runtime shared by the Internal
 * API parts that depend on the process model (heap, panic, cancellation,
 * instance data, memory access checks) and by the TA-host main loop.
 * Not for TA code.
 *
 * There is exactly one TA instance per process (the TA host), or one
 * in-process harness (libtee_internal_sim.a + sim_internal_init()), so this
 * state is process-global.  TA entry points run on one thread at a time.
 */
#ifndef SIM_RUNTIME_H
#define SIM_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sim_ta_props.h>
#include <tee_internal_api.h>

#include "sim_proto.h"

/* A memref the current entry point received, for TEE_CheckMemoryAccessRights. */
struct sim_region {
	uintptr_t start;
	size_t len;
	bool writable;		/* MEMREF_OUTPUT / MEMREF_INOUT */
};

struct sim_runtime {
	size_t heap_limit;		/* bytes: TA_DATA_SIZE or override */
	const struct sim_ta_props *props;	/* NULL if none given */
	uint32_t client_login;		/* TEEC_LOGIN_* of the session */
	char prefix[24];		/* "[ta 6aa0af66]" */
	TEE_UUID uuid;
	bool have_uuid;
	bool in_process;		/* harness: TEE_Panic aborts */
	struct sim_ctrl *ctrl;		/* shared cancellation page */
	bool cancel_masked;		/* GP: masked at every entry point */
	const void *instance_data;
	struct sim_region regions[TEE_NUM_PARAMS];
	unsigned int n_regions;
};

extern struct sim_runtime sim_rt;

/* Default heap when no props are given (DESIGN.md: 32 MiB). */
#define SIM_DEFAULT_HEAP (32u * 1024 * 1024)

/*
 * Sets up sim_rt from props (may be NULL), applying TEESPARK_TA_DATA_SIZE.
 * ctrl: shared control page, or NULL to use a private one.
 */
void sim_runtime_setup(const struct sim_ta_props *props,
		       struct sim_ctrl *ctrl, bool in_process);

/* Called by the host around every entry point. */
void sim_runtime_enter(const struct sim_region *regions, unsigned int n);
void sim_runtime_leave(void);

/* Bytes currently accounted to TEE_Malloc (headers included). */
size_t sim_heap_used(void);

/*
 * "[ta 6aa0af66]": the prefix of every log line of this TA host.  Exported
 * (not static) so sim/internal's trace sink can use it through a weak
 * declaration.
 */
const char *sim_log_prefix(void);

/* "[ta xxxxxxxx] " + message + "\n" on stderr, one write. */
void sim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* SIM_RUNTIME_H */

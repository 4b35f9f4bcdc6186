/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_runtime.c - the process-model parts of the simulated Internal Core API:
 * runtime setup, TEE_Panic, cancellation, TEE_Wait, instance data, and the
 * TA identity the storage code keys on.
 *
 * TEE_Wait lives here (not in a file of its own) on purpose: internal/time.c
 * defines a weak TEE_Wait, and when both sit in libtee_internal_sim.a the
 * strong one is only linked if its archive member is pulled in for another
 * reason.  sim_internal_init(), which every harness calls, guarantees that.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim_runtime.h"

struct sim_runtime sim_rt = {
	.heap_limit = SIM_DEFAULT_HEAP,
	.prefix = "[ta sim]",
	.cancel_masked = true,
};

/* Used when there is no client (in-process harness): never cancelled. */
static struct sim_ctrl sim_private_ctrl;

static size_t sim_env_heap_limit(size_t dflt)
{
	const char *s = getenv("TEESPARK_TA_DATA_SIZE");
	char *end = NULL;
	unsigned long long v;

	if (!s || !*s)
		return dflt;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || !end || *end || v == 0 || v > SIZE_MAX / 2) {
		sim_log("ignoring invalid TEESPARK_TA_DATA_SIZE (want bytes, "
			"e.g. 8388608)");
		return dflt;
	}
	return (size_t)v;
}

void sim_runtime_setup(const struct sim_ta_props *props,
		       struct sim_ctrl *ctrl, bool in_process)
{
	size_t limit = SIM_DEFAULT_HEAP;

	sim_rt.props = props;
	if (props) {
		limit = props->data_size;
		memcpy(&sim_rt.uuid, &props->uuid, sizeof(sim_rt.uuid));
		sim_rt.have_uuid = true;
		snprintf(sim_rt.prefix, sizeof(sim_rt.prefix), "[ta %08" PRIx32 "]",
			 props->uuid.timeLow);
	}
	sim_rt.in_process = in_process;
	sim_rt.ctrl = ctrl ? ctrl : &sim_private_ctrl;
	sim_rt.heap_limit = sim_env_heap_limit(limit);
	sim_rt.cancel_masked = true;
}

void sim_internal_init(const struct sim_ta_props *props)
{
	sim_runtime_setup(props, NULL, true);
}

const TEE_UUID *sim_current_ta_uuid(void)
{
	return sim_rt.have_uuid ? &sim_rt.uuid : NULL;
}

void sim_runtime_enter(const struct sim_region *regions, unsigned int n)
{
	if (n > TEE_NUM_PARAMS)
		n = TEE_NUM_PARAMS;
	memcpy(sim_rt.regions, regions, n * sizeof(*regions));
	sim_rt.n_regions = n;
	/* GP: "tasks created to handle a TA entry point have cancellation
	 * masked, so that a TA does not have to cope with the effects of
	 * cancellation requests". */
	sim_rt.cancel_masked = true;
}

void sim_runtime_leave(void)
{
	sim_rt.n_regions = 0;
	sim_rt.cancel_masked = true;
}

const char *sim_log_prefix(void)
{
	return sim_rt.prefix;
}

void sim_log(const char *fmt, ...)
{
	char buf[512];
	int n, m;
	va_list ap;

	n = snprintf(buf, sizeof(buf), "%s ", sim_rt.prefix);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return;
	va_start(ap, fmt);
	m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	/* One write so lines from concurrent TA hosts do not interleave. */
	if (write(STDERR_FILENO, buf, (size_t)n) < 0)
		return;
}

void TEE_Panic(TEE_Result panicCode)
{
	sim_log("TEE_Panic(0x%08" PRIx32 ")", panicCode);
	if (sim_rt.in_process)
		abort();
	__atomic_store_n(&sim_rt.ctrl->panic_code, panicCode, __ATOMIC_RELAXED);
	__atomic_store_n(&sim_rt.ctrl->panicked, 1, __ATOMIC_RELEASE);
	/* No atexit handlers: the TA's state is gone, as on a real TEE. */
	_exit(SIM_EXIT_PANIC);
}

bool TEE_GetCancellationFlag(void)
{
	uint64_t call, cancel;

	if (sim_rt.cancel_masked)
		return false;
	call = __atomic_load_n(&sim_rt.ctrl->call_seq, __ATOMIC_ACQUIRE);
	cancel = __atomic_load_n(&sim_rt.ctrl->cancel_seq, __ATOMIC_ACQUIRE);
	return call != 0 && call == cancel;
}

bool TEE_UnmaskCancellation(void)
{
	bool was = sim_rt.cancel_masked;

	sim_rt.cancel_masked = false;
	return was;
}

bool TEE_MaskCancellation(void)
{
	bool was = sim_rt.cancel_masked;

	sim_rt.cancel_masked = true;
	return was;
}

void TEE_SetInstanceData(const void *instanceData)
{
	sim_rt.instance_data = instanceData;
}

const void *TEE_GetInstanceData(void)
{
	return sim_rt.instance_data;
}

/*
 * GP: waits `timeout` ms (TEE_TIMEOUT_INFINITE: until cancelled); returns
 * TEE_ERROR_CANCEL early if the operation is cancelled while cancellation is
 * unmasked.  Sleeps in slices of at most 5 ms to notice cancellation.
 */
TEE_Result TEE_Wait(uint32_t timeout)
{
	struct timespec now, end;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout / 1000;
	end.tv_nsec += (long)(timeout % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	for (;;) {
		struct timespec slice = { 0, 5000000L };
		long long left_ns;

		if (TEE_GetCancellationFlag())
			return TEE_ERROR_CANCEL;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left_ns = (long long)(end.tv_sec - now.tv_sec) * 1000000000LL +
			  (end.tv_nsec - now.tv_nsec);
		if (timeout != TEE_TIMEOUT_INFINITE && left_ns <= 0)
			return TEE_SUCCESS;
		if (timeout != TEE_TIMEOUT_INFINITE && left_ns < slice.tv_nsec)
			slice.tv_nsec = (long)left_ns;
		nanosleep(&slice, NULL);
	}
}

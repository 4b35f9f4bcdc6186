/*
 * trace.c - the running access-trace digest of the trace build (-DOBL_TRACE).
 * Test instrumentation only: never linked into the shipped TA (it is not in
 * OPS_OBJS). Not thread-safe: the trace tests are single-threaded.
 */
#include "../trace.h"

#if defined(OBL_TRACE)

#define OBL_TRACE_SEED 0x746565737061726bull /* "teespark" */

static uint64_t trace_digest = OBL_TRACE_SEED;
static uint64_t trace_events;

/* splitmix64's finaliser: a bijection on 64 bits with full avalanche, so
 * any change in an event (or in the order of events) changes every later
 * digest with probability ~1 - 2^-64. */
static uint64_t trace_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

void obl_trace_event(uint32_t rw, uint32_t buf, uint64_t index)
{
	uint64_t tag = ((uint64_t)buf << 1 | (rw & 1u)) * 0x9e3779b97f4a7c15ull;

	trace_digest = trace_mix(trace_mix(trace_digest ^ tag) + index);
	trace_events++;
}

void obl_trace_reset(void)
{
	trace_digest = OBL_TRACE_SEED;
	trace_events = 0;
}

uint64_t obl_trace_digest(void)
{
	return trace_mix(trace_digest ^ trace_events);
}

uint64_t obl_trace_events(void)
{
	return trace_events;
}

#endif /* OBL_TRACE */

/*
 * trace.h - access-trace instrumentation for the oblivious kernels.
 *
 * Every kernel calls OBL_TRACE_READ(buf, index) / OBL_TRACE_WRITE(buf, index)
 * at every access to a secret array, at record granularity (index = record
 * or element number within that buffer). In the shipped build the macros
 * expand to nothing. With -DOBL_TRACE (the trace build, $(BUILD)/obj/ops-trace)
 * each event (buffer id, read/write, index) is folded into a running 64-bit
 * hash and counted, so a test can check that two inputs of the same public
 * shape give the same access sequence (trace equality; docs/DESIGN.md,
 * "Proving obliviousness").
 *
 * The macros take only public values in an oblivious kernel; a leaky
 * kernel (the negative controls in enclave/tests/leaky/) passes secrets and
 * is caught by a differing digest.
 */
#ifndef TEESPARK_TRACE_H
#define TEESPARK_TRACE_H

#include <stdint.h>

/* Buffer ids: which array of a kernel an event refers to. */
enum obl_trace_buf {
	OBL_BUF_RECS = 1,      /* fixed-width records (sort, compaction) */
	OBL_BUF_CTL = 2,       /* per-record ctl arrays (keep, seg_start) */
	OBL_BUF_AUX = 3,       /* per-record auxiliary words (distances, ...) */
	OBL_BUF_VALUES = 4,    /* int64 value arrays (scans) */
	OBL_BUF_OUT = 5,       /* output ctl / value arrays */
	OBL_BUF_ROWS = 6,      /* plaintext rows (key encoding) */
	OBL_BUF_TABLE = 7      /* lookup tables (negative control) */
};

#define OBL_TRACE_R 0u
#define OBL_TRACE_W 1u

#if defined(OBL_TRACE)

/* Fold one event into the running digest (trace build only). */
void obl_trace_event(uint32_t rw, uint32_t buf, uint64_t index);

#define OBL_TRACE_READ(buf, index) \
	obl_trace_event(OBL_TRACE_R, (uint32_t)(buf), (uint64_t)(index))
#define OBL_TRACE_WRITE(buf, index) \
	obl_trace_event(OBL_TRACE_W, (uint32_t)(buf), (uint64_t)(index))

#else

#define OBL_TRACE_READ(buf, index) ((void)0)
#define OBL_TRACE_WRITE(buf, index) ((void)0)

#endif

/* Trace build only (defined in ops/trace.c with -DOBL_TRACE; exported by
 * libteespark_kernels_trace.so):
 *   obl_trace_reset()   start a new trace (digest = fixed seed, events = 0)
 *   obl_trace_digest()  64-bit hash of every event since the last reset,
 *                       in order
 *   obl_trace_events()  number of events since the last reset */
void obl_trace_reset(void);
uint64_t obl_trace_digest(void);
uint64_t obl_trace_events(void);

#endif /* TEESPARK_TRACE_H */

/*
 * trace.h - OP-TEE style TA logging (EMSG/IMSG/DMSG/FMSG) for the teespark
 * host simulator.
 *
 * The macros have OP-TEE's names, levels and printf-like arguments, so TA
 * code logs the same way on OP-TEE and in the simulator. As on OP-TEE, each
 * message gets a level letter, the function and the line, and a newline.
 *
 * In the simulator every message goes through one function,
 *     void sim_trace_printf(int level, const char *func, int line,
 *                           const char *fmt, ...);
 * implemented in enclave/sim/internal/trace.c. It writes to stderr only if
 * `level` is at most the runtime level, read once from the environment
 * variable TEESPARK_TA_LOG_LEVEL (0 none, 1 error, 2 info, 3 debug, 4 flow,
 * or those names; default 1: errors only). The compile-time ceiling
 * TRACE_LEVEL (OP-TEE: -DTRACE_LEVEL=$(CFG_TEE_TA_LOG_LEVEL)) defaults to 4
 * here, so the runtime variable alone decides.
 *
 * TA code must log public values only (command ids, sizes, block indices),
 * never keys or plaintext: these lines leave the TEE.
 */
#ifndef TRACE_H
#define TRACE_H

#define TRACE_MIN	1
#define TRACE_ERROR	TRACE_MIN
#define TRACE_INFO	2
#define TRACE_DEBUG	3
#define TRACE_FLOW	4
#define TRACE_MAX	TRACE_FLOW

#ifndef TRACE_LEVEL
#define TRACE_LEVEL	TRACE_MAX
#endif

#ifdef __cplusplus
extern "C" {
#endif

void sim_trace_printf(int level, const char *func, int line,
		      const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The runtime level (TEESPARK_TA_LOG_LEVEL), for callers that want to skip
 * building an expensive message. */
int sim_trace_get_level(void);

#ifdef __cplusplus
}
#endif

#define __SIM_TRACE(level, ...) \
	do { \
		if ((level) <= TRACE_LEVEL) \
			sim_trace_printf((level), __func__, __LINE__, \
					 __VA_ARGS__); \
	} while (0)

/* func == NULL: no "func:line" prefix (OP-TEE's *_RAW variants). */
#define __SIM_TRACE_RAW(level, ...) \
	do { \
		if ((level) <= TRACE_LEVEL) \
			sim_trace_printf((level), (const char *)0, 0, \
					 __VA_ARGS__); \
	} while (0)

#define EMSG(...)	__SIM_TRACE(TRACE_ERROR, __VA_ARGS__)
#define IMSG(...)	__SIM_TRACE(TRACE_INFO, __VA_ARGS__)
#define DMSG(...)	__SIM_TRACE(TRACE_DEBUG, __VA_ARGS__)
#define FMSG(...)	__SIM_TRACE(TRACE_FLOW, __VA_ARGS__)

#define EMSG_RAW(...)	__SIM_TRACE_RAW(TRACE_ERROR, __VA_ARGS__)
#define IMSG_RAW(...)	__SIM_TRACE_RAW(TRACE_INFO, __VA_ARGS__)
#define DMSG_RAW(...)	__SIM_TRACE_RAW(TRACE_DEBUG, __VA_ARGS__)
#define FMSG_RAW(...)	__SIM_TRACE_RAW(TRACE_FLOW, __VA_ARGS__)

/* OP-TEE's MSG prints at info level regardless of TRACE_LEVEL. */
#define MSG(...)	sim_trace_printf(TRACE_INFO, __func__, __LINE__, \
					 __VA_ARGS__)
#define MSG_RAW(...)	sim_trace_printf(TRACE_INFO, (const char *)0, 0, \
					 __VA_ARGS__)

#endif /* TRACE_H */

/*
 * trace.c - sink of the TA log macros (EMSG/IMSG/DMSG/FMSG, see <trace.h>).
 *
 * Messages go to stderr as "<L>/TA: <func>:<line> <message>\n", like OP-TEE's
 * TA log lines, filtered by TEESPARK_TA_LOG_LEVEL (read once; default 1,
 * errors only). One write(2) per line so lines from several TA-host
 * processes sharing a stderr do not interleave mid-line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <trace.h>

static int parse_level(const char *s)
{
	static const char *const names[] = {
		"none", "error", "info", "debug", "flow"
	};
	char *end = NULL;
	long v;
	size_t i;

	if (!s || !*s)
		return TRACE_ERROR;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i]))
			return (int)i;
	v = strtol(s, &end, 10);
	if (*end || v < 0)
		return TRACE_ERROR;
	return v > TRACE_MAX ? TRACE_MAX : (int)v;
}

int sim_trace_get_level(void)
{
	/* -1 = not read yet. Racing first readers compute the same value. */
	static int level = -1;
	int l = __atomic_load_n(&level, __ATOMIC_RELAXED);

	if (l < 0) {
		l = parse_level(getenv("TEESPARK_TA_LOG_LEVEL"));
		__atomic_store_n(&level, l, __ATOMIC_RELAXED);
	}
	return l;
}

void sim_trace_printf(int level, const char *func, int line,
		      const char *fmt, ...)
{
	static const char letters[] = "?EIDF";
	char buf[1024];
	size_t n = 0;
	int r;
	va_list ap;

	if (level < TRACE_MIN || level > sim_trace_get_level())
		return;

	if (func)
		r = snprintf(buf, sizeof(buf), "%c/TA: %s:%d ",
			     letters[level], func, line);
	else
		r = 0;
	if (r > 0)
		n = (size_t)r < sizeof(buf) ? (size_t)r : sizeof(buf) - 1;

	va_start(ap, fmt);
	r = vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	if (r > 0)
		n += (size_t)r < sizeof(buf) - n ? (size_t)r
						 : sizeof(buf) - n - 1;
	/* Truncated messages keep their newline. */
	if (n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';

	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, buf, n);

		if (w <= 0)
			break;
		n -= (size_t)w;
		memmove(buf, buf + w, n);
	}
}

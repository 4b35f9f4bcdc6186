/*
 * time.c - GP date and time functions and the random number generator.
 *
 * TEE_GetSystemTime is monotonic (CLOCK_MONOTONIC), as GP allows and as
 * OP-TEE's system time behaves (it is not wall-clock time). TEE_GetREETime
 * is wall-clock time. TA persistent time is kept per process (an offset
 * from the REE time set by TEE_SetTAPersistentTime), not across restarts:
 * a TA instance that restarts sees TEE_ERROR_TIME_NOT_SET again, which GP
 * allows (the time may need resetting after a TEE restart). The time
 * functions are weak so that the TA host may override them (e.g. to make
 * TEE_Wait return TEE_ERROR_CANCEL on cancellation).
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include <tee_internal_api.h>

static void fill_time(clockid_t clk, TEE_Time *t)
{
	struct timespec ts;

	if (!t || clock_gettime(clk, &ts))
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	t->seconds = (uint32_t)ts.tv_sec;
	t->millis = (uint32_t)(ts.tv_nsec / 1000000);
}

__attribute__((weak)) void TEE_GetSystemTime(TEE_Time *time)
{
	fill_time(CLOCK_MONOTONIC, time);
}

__attribute__((weak)) void TEE_GetREETime(TEE_Time *time)
{
	fill_time(CLOCK_REALTIME, time);
}

__attribute__((weak)) TEE_Result TEE_Wait(uint32_t timeout)
{
	struct timespec ts;

	if (timeout == TEE_TIMEOUT_INFINITE) {
		/* Without cancellation support an infinite wait never ends;
		 * the host's override can do better. */
		for (;;)
			pause();
	}
	ts.tv_sec = timeout / 1000;
	ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	return TEE_SUCCESS;
}

/* Milliseconds of REE time at which persistent time 0 was; valid once set. */
static int64_t g_ta_time_base_ms;
static int g_ta_time_set;

static int64_t ree_ms(void)
{
	TEE_Time t;

	fill_time(CLOCK_REALTIME, &t);
	return (int64_t)t.seconds * 1000 + t.millis;
}

__attribute__((weak)) TEE_Result TEE_GetTAPersistentTime(TEE_Time *time)
{
	int64_t ms;

	if (!time)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	if (!g_ta_time_set) {
		time->seconds = 0;
		time->millis = 0;
		return TEE_ERROR_TIME_NOT_SET;
	}
	ms = ree_ms() - g_ta_time_base_ms;
	if (ms < 0)
		ms = 0;
	if (ms / 1000 > UINT32_MAX) {
		time->seconds = (uint32_t)(ms / 1000);
		time->millis = (uint32_t)(ms % 1000);
		return TEE_ERROR_OVERFLOW;
	}
	time->seconds = (uint32_t)(ms / 1000);
	time->millis = (uint32_t)(ms % 1000);
	return TEE_SUCCESS;
}

__attribute__((weak)) TEE_Result TEE_SetTAPersistentTime(const TEE_Time *time)
{
	if (!time || time->millis > 999)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	g_ta_time_base_ms = ree_ms() -
		((int64_t)time->seconds * 1000 + time->millis);
	g_ta_time_set = 1;
	return TEE_SUCCESS;
}

/* Fill a buffer from OpenSSL's CSPRNG (seeded from getrandom(2)).
 * Panics if the generator fails: GP gives this function no error return. */
void TEE_GenerateRandom(void *randomBuffer, size_t randomBufferLen)
{
	unsigned char *p = randomBuffer;

	if (!p && randomBufferLen)
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	while (randomBufferLen > 0) {
		int n = randomBufferLen > (1u << 30) ? (1 << 30)
						     : (int)randomBufferLen;

		if (RAND_bytes(p, n) != 1)
			TEE_Panic(TEE_ERROR_GENERIC);
		p += n;
		randomBufferLen -= (size_t)n;
	}
}

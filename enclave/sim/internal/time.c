/*
 * time.c - GP date and time functions and the random number generator.
 *
 * TEE_GetSystemTime is monotonic (CLOCK_MONOTONIC), as GP allows and as
 * OP-TEE's system time behaves (it is not wall-clock time). TEE_GetREETime
 * is wall-clock time. Persistent TA time is not simulated. The time
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

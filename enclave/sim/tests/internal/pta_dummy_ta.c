/*
 * pta_dummy_ta.c - a stand-in TA image for the attestation PTA tests: a
 * shared object named <uuid>.so with code and read-only data (several
 * non-writable PT_LOAD segments) and no undefined symbols, so the test can
 * dlopen() it without a TA host. Never run as a TA.
 */
#include <stddef.h>
#include <stdint.h>

const char pta_dummy_banner[] = "teespark attestation PTA test image";
const uint32_t pta_dummy_table[64] = { 1, 2, 3, 5, 8, 13, 21, 34, 55, 89 };
uint32_t pta_dummy_counter;	/* writable: must not be measured */

uint32_t pta_dummy_sum(size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i < n && i < 64; i++)
		s += pta_dummy_table[i];
	pta_dummy_counter++;
	return s;
}

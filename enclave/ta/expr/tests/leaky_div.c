/*
 * leaky_div.c - NEGATIVE CONTROL of the disassembly check
 * (check_no_div.sh): a division by a runtime divisor, which compilers
 * lower to the variable-latency div instruction. NOT constant-time.
 */
#include <stdint.h>

uint64_t leaky_div(uint64_t a, uint64_t b);

uint64_t leaky_div(uint64_t a, uint64_t b)
{
	return a / b;
}

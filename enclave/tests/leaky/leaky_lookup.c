/*
 * leaky_lookup.c - NOT constant-time, on purpose: negative control (see
 * leaky.h). A plain table[secret] load.
 */
#include "leaky.h"

#include "../../ta/trace.h"

uint64_t leaky_lookup(const uint64_t *table, size_t n, size_t index)
{
	(void)n;
	OBL_TRACE_READ(OBL_BUF_TABLE, index);
	return table[index];
}

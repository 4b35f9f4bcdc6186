/*
 * compact_or_ref.c - NOT constant-time: branches on the keep flags.
 * Reference for tests only.
 */
#include <stdlib.h>
#include <string.h>

#include "ref.h"

size_t ref_compact(uint8_t *recs, size_t n, size_t rec_size, uint32_t *keep)
{
	uint8_t *tmp = malloc(n * rec_size + 1);
	size_t i, m = 0, d = 0;

	if (tmp == NULL)
		abort();
	for (i = 0; i < n; i++)
		if (keep[i])
			memcpy(tmp + m++ * rec_size, recs + i * rec_size, rec_size);
	d = m;
	for (i = 0; i < n; i++)
		if (!keep[i])
			memcpy(tmp + d++ * rec_size, recs + i * rec_size, rec_size);
	if (n > 0)
		memcpy(recs, tmp, n * rec_size);
	free(tmp);
	for (i = 0; i < n; i++)
		keep[i] = i < m;
	return m;
}

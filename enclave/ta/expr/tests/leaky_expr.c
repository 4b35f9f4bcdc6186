/*
 * leaky_expr.c - NOT constant-time: the negative controls of expr-ct and
 * expr-trace (see leaky_expr.h). The trace build records the reads the
 * short circuit skips, so the trace differs between inputs.
 */
#include "leaky_expr.h"

#include <string.h>

#include "../../trace.h"

void leaky_and(const uint8_t *a, const uint8_t *b, uint8_t *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		OBL_TRACE_READ(OBL_BUF_VALUES, i);
		if (!a[i]) {          /* short circuit: b[i] never read */
			r[i] = 0;
			continue;
		}
		OBL_TRACE_READ(OBL_BUF_AUX, i);
		r[i] = b[i];
	}
}

void leaky_case(const uint8_t *c, const uint8_t *x, const uint8_t *y,
		uint8_t *r, size_t n, size_t w)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		if (c[i] & 1) {
			OBL_TRACE_READ(OBL_BUF_VALUES, i);
			for (k = 0; k < w; k++)
				r[i * w + k] = x[i * w + k];
		} else {
			OBL_TRACE_READ(OBL_BUF_AUX, i);
			for (k = 0; k < w; k++)
				r[i * w + k] = (uint8_t)(y[i * w + k] + 1);
		}
	}
}

/*
 * compact_or.c - obl_compact: order-preserving oblivious compaction by
 * Goodrich's log-shift network (see compact_or.h for the algorithm).
 */
#include "compact_or.h"

#include "../ct.h"
#include "../trace.h"

/* see compact_or.h */
size_t obl_compact(uint8_t *recs, size_t n, size_t rec_size, uint32_t *keep)
{
	uint32_t kept = 0;
	size_t i, j, s;
	unsigned t;

	/* Pass 1: distance of every kept record (0 for dropped ones), and the
	 * count, by plain addition of ctls (no branch). */
	for (i = 0; i < n; i++) {
		uint32_t ctl;

		OBL_TRACE_READ(OBL_BUF_CTL, i);
		ctl = keep[i];
		keep[i] = ct_u32_mux(ctl, (uint32_t)i - kept, 0);
		OBL_TRACE_WRITE(OBL_BUF_CTL, i);
		kept += ctl;
	}

	/* Pass 2: shift by 2^t where bit t of the distance is set. */
	for (t = 0, s = 1; s < n; t++, s <<= 1) {
		for (j = s; j < n; j++) {
			uint32_t dj, di, ctl;

			OBL_TRACE_READ(OBL_BUF_CTL, j - s);
			OBL_TRACE_READ(OBL_BUF_CTL, j);
			di = keep[j - s];
			dj = keep[j];
			ctl = (dj >> t) & 1u;
			/* The slot at j - s always holds a dropped record (distance
			 * 0) when ctl is 1, so swapping the distances moves dj left
			 * and leaves 0 behind. */
			keep[j - s] = ct_u32_mux(ctl, dj, di);
			keep[j] = ct_u32_mux(ctl, di, dj);
			OBL_TRACE_WRITE(OBL_BUF_CTL, j - s);
			OBL_TRACE_WRITE(OBL_BUF_CTL, j);
			ct_cswap(ctl, recs + (j - s) * rec_size, recs + j * rec_size,
				rec_size);
			OBL_TRACE_READ(OBL_BUF_RECS, j - s);
			OBL_TRACE_READ(OBL_BUF_RECS, j);
			OBL_TRACE_WRITE(OBL_BUF_RECS, j - s);
			OBL_TRACE_WRITE(OBL_BUF_RECS, j);
		}
	}

	/* Pass 3: is_real flags of the output slots. */
	for (i = 0; i < n; i++) {
		keep[i] = ct_u32_lt((uint32_t)i, kept);
		OBL_TRACE_WRITE(OBL_BUF_CTL, i);
	}
	return kept;
}

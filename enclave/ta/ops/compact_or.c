/*
 * compact_or.c - obl_compact: order-preserving oblivious compaction by
 * Goodrich's log-shift network (see compact_or.h for the algorithm).
 *
 * The shift passes with small shifts run interleaved over cache-sized
 * chunks (a wavefront: pass t + 1 trails pass t by its shift 2^t), so the
 * array streams through memory once for all of them instead of once per
 * pass. Every pass still visits j in increasing order and every position
 * sees the passes in the same order as in the plain pass-by-pass loop, so
 * the swaps and the result are exactly those of the plain loop; only the
 * interleaving differs, and it depends on n and rec_size alone.
 */
#include "compact_or.h"

#include "../ct.h"
#include "../trace.h"

/* Records per chunk of the fused passes: about this many bytes. */
#define FUSE_CHUNK_BYTES (128u * 1024u)

/* One step of pass t (shift s = 2^t) at position j: swap the records at
 * j - s and j iff bit t of the distance at j is set. always_inline so that
 * constant rec_size callers get an unrolled ct_cswap.
 * Leaks: j, s, rec_size.  Hides: keep values, record contents. */
static inline __attribute__((always_inline)) void shift_step(uint8_t *recs,
		size_t rec_size, uint32_t *keep, size_t j, size_t s, unsigned t)
{
	uint32_t dj, di, ctl;

	OBL_TRACE_READ(OBL_BUF_CTL, j - s);
	OBL_TRACE_READ(OBL_BUF_CTL, j);
	di = keep[j - s];
	dj = keep[j];
	ctl = (dj >> t) & 1u;
	/* The slot at j - s always holds a dropped record (distance 0) when
	 * ctl is 1, so swapping the distances moves dj left and leaves 0
	 * behind. */
	keep[j - s] = ct_u32_mux(ctl, dj, di);
	keep[j] = ct_u32_mux(ctl, di, dj);
	OBL_TRACE_WRITE(OBL_BUF_CTL, j - s);
	OBL_TRACE_WRITE(OBL_BUF_CTL, j);
	ct_cswap(ctl, recs + (j - s) * rec_size, recs + j * rec_size, rec_size);
	OBL_TRACE_READ(OBL_BUF_RECS, j - s);
	OBL_TRACE_READ(OBL_BUF_RECS, j);
	OBL_TRACE_WRITE(OBL_BUF_RECS, j - s);
	OBL_TRACE_WRITE(OBL_BUF_RECS, j);
}

#define SHIFT_LOOP(RS) do {                                   \
		for (j = from; j < to; j++)                   \
			shift_step(recs, (RS), keep, j, s, t); \
	} while (0)

/* Pass t (shift s = 2^t) over positions [from, to), in increasing order,
 * with a constant-size body for the common record sizes.
 * Leaks: from, to, s, rec_size.  Hides: keep values, record contents. */
static void shift_range(uint8_t *recs, size_t rec_size, uint32_t *keep,
		size_t s, unsigned t, size_t from, size_t to)
{
	size_t j;

	switch (rec_size) {
	case 4: SHIFT_LOOP(4); break;
	case 8: SHIFT_LOOP(8); break;
	case 16: SHIFT_LOOP(16); break;
	case 24: SHIFT_LOOP(24); break;
	case 32: SHIFT_LOOP(32); break;
	case 40: SHIFT_LOOP(40); break;
	case 48: SHIFT_LOOP(48); break;
	case 56: SHIFT_LOOP(56); break;
	case 64: SHIFT_LOOP(64); break;
	case 72: SHIFT_LOOP(72); break;
	case 80: SHIFT_LOOP(80); break;
	default: SHIFT_LOOP(rec_size); break;
	}
}

/* see compact_or.h */
size_t obl_compact(uint8_t *recs, size_t n, size_t rec_size, uint32_t *keep)
{
	uint32_t kept = 0;
	size_t i, s, chunk, e, done[32];
	unsigned t, nfused;

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

	/* Pass 2: shift by 2^t where bit t of the distance is set. The passes
	 * with 2^t at most a chunk run fused (see the top); pass t has done
	 * positions below done[t] and may go up to e - (2^t - 1). Public
	 * sizes only. */
	chunk = FUSE_CHUNK_BYTES / (rec_size ? rec_size : 1);
	chunk = chunk < 64 ? 64 : chunk;
	for (nfused = 0, s = 1; s < n && s <= chunk && nfused < 31;
			nfused++, s <<= 1)
		done[nfused] = s;
	for (e = chunk; nfused > 0; e += chunk) {
		for (t = 0, s = 1; t < nfused; t++, s <<= 1) {
			size_t to = e - (s - 1);

			to = to < n ? to : n;
			if (to > done[t]) {
				shift_range(recs, rec_size, keep, s, t, done[t], to);
				done[t] = to;
			}
		}
		if (done[nfused - 1] >= n)
			break;
	}
	for (t = nfused, s = (size_t)1 << nfused; s < n; t++, s <<= 1)
		shift_range(recs, rec_size, keep, s, t, s, n);

	/* Pass 3: is_real flags of the output slots. */
	for (i = 0; i < n; i++) {
		keep[i] = ct_u32_lt((uint32_t)i, kept);
		OBL_TRACE_WRITE(OBL_BUF_CTL, i);
	}
	return kept;
}

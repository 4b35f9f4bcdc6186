/*
 * cmd_stream_expand.c - the join-expansion modes of TA_TEESPARK_CMD_STREAM
 * (GROUP_COUNT, GENERATE, FILL; teespark_ta.h, "Streaming"). Together with
 * the external sort, WIDEN, JOIN_PKFK and LIMIT they run Krastnikov et
 * al.'s oblivious many-to-many equi-join over tables larger than the heap:
 *
 *   GROUP_COUNT forward  per row: its index among its side's rows in the
 *                        group, the group's side-0 count (side-1 rows) and
 *                        the output offset of the group; m (reveal = 1);
 *   GROUP_COUNT second   (rows of a group in reverse) the group's side-1
 *                        count, each row's copy count and first destination;
 *   GENERATE             m filler slots per side, numbered 0 .. m-1;
 *   FILL                 (real rows and fillers sorted by destination) each
 *                        filler takes the last real row of its side and its
 *                        target position in the aligned output.
 *
 * A row with a NULL key is a group of its own that does not interrupt the
 * group around it, so the external sort (which knows no NULLs) may leave
 * NULL rows among rows of equal key bytes.
 *
 * Every row step reads and writes the same bytes whatever the row holds: a
 * side, a group boundary, a NULL key, a filler or a copy number only ever
 * feed ct.h muxes and masked copies. The state carried from one row to the
 * next (counters, the carried rows of FILL) lives in st->xstate, whose size
 * is a public function of the request. The only values that leave as
 * public are m (GROUP_COUNT forward with reveal = 1) and one bit: whether
 * FILL's input was consistent (the host's m was right).
 */
#include "cmd_stream_internal.h"
#include "../ct.h"
#include "../ops/key_encode_nulls.h"

/* Offsets inside struct ts_stream_ann (little endian, any alignment). */
#define ANN_IDX 0
#define ANN_ALPHA0 8
#define ANN_OFF 16
#define ANN_ALPHA1 24
#define ANN_DEST 32
#define ANN_COPIES 40
#define ANN_KIND 48
#define ANN_DROP 49

_Static_assert(TS_STREAM_ANN_SIZE == sizeof(struct ts_stream_ann),
	       "ts_stream_ann size");
_Static_assert(ANN_DROP == __builtin_offsetof(struct ts_stream_ann, drop) &&
	       ANN_DEST == __builtin_offsetof(struct ts_stream_ann, dest),
	       "ts_stream_ann layout");

/* The constant-time check's negative control (ct_stream_expand_harness_leaky)
 * builds this file with -DEXPAND_U64_LT=stream_expand_u64_lt_leaky, a
 * branchy comparison in FILL, besides -DSTREAM_KEY_EQ=... (a branchy key
 * comparison in GROUP_COUNT), and requires valgrind to flag each. */
#ifndef EXPAND_U64_LT
#define EXPAND_U64_LT ct_u64_lt
#else
uint32_t EXPAND_U64_LT(uint64_t x, uint64_t y);
#endif

/* GROUP_COUNT's carried state (secret). */
struct gc_state {
	uint64_t cnt0;		/* side-0 rows of the current group so far */
	uint64_t cnt1;		/* side-1 rows so far (forward) */
	uint64_t off;		/* sum of alpha0 * alpha1 over closed groups */
	uint64_t alpha1;	/* second pass: the current group's side-1 count */
	uint32_t has_prev;	/* a non-NULL row came (its keys in kw_prev) */
	uint32_t ovf;		/* forward: a count or m overflowed 64 bits */
};

/* FILL's carried state (secret), followed by the carried rows of side 0
 * and side 1 (row size rounded up to 8 bytes each). */
struct fill_state {
	uint64_t copies[2];	/* sum of copies of each side's real rows */
	uint64_t fillers[2];	/* fillers of each side */
	uint32_t has[2];	/* a carried row of the side exists */
	uint32_t err;		/* a filler without a valid carried row */
	uint32_t pad;
};

/* n rounded up to a multiple of 8.
 * Leaks: n (public).  Hides: nothing (no secret). */
static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Little-endian load of 8 bytes at p (a public offset in a row).
 * Leaks: the address.  Hides: the value. */
static uint64_t ld64(const uint8_t *p)
{
	uint64_t v = 0;
	uint32_t i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Little-endian store of v at p (a public offset in a row).
 * Leaks: the address.  Hides: the value. */
static void st64(uint8_t *p, uint64_t v)
{
	uint32_t i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A byte as a ctl: 1 iff nonzero (a side byte: 0 = side 0, else side 1;
 * a kind byte: 0 = real row, else filler).
 * Leaks: nothing.  Hides: the byte. */
static uint32_t byte_ctl(uint8_t b)
{
	return ct_not(ct_u32_eq(b, 0));
}

/* see cmd_stream_internal.h.
 * Leaks: mode (public).  Hides: nothing (no secret). */
int stream_is_expand_mode(uint32_t mode)
{
	return mode == TS_STREAM_GROUP_COUNT || mode == TS_STREAM_GENERATE ||
	       mode == TS_STREAM_FILL;
}

/* 1 if the byte ranges [a, +alen) and [b, +blen) meet.
 * Leaks: the ranges (public).  Hides: nothing (no secret). */
static int overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* see cmd_stream_internal.h. Offsets: the annotation inside the row, the
 * side byte inside the row and outside the annotation; GROUP_COUNT's keys
 * (and their NULL flags) outside both; sizes as WIDEN for GENERATE.
 * Leaks: the request, row sizes (public).  Hides: nothing (no secret). */
TEE_Result stream_expand_check(const struct ts_stream_request *r,
			       struct stream_state *st, uint32_t rs0,
			       uint32_t *out_row_size, size_t *xstate_size)
{
	const uint32_t m = r->mode;
	/* GENERATE makes rows of out_row_size; the others read rows of rs0. */
	const uint32_t rs = m == TS_STREAM_GENERATE ? r->out_row_size : rs0;
	uint32_t i;

	if (r->pk_offset || (uint64_t)r->aux_offset + TS_STREAM_ANN_SIZE > rs ||
	    r->side_offset >= rs ||
	    overlaps(r->side_offset, 1, r->aux_offset, TS_STREAM_ANN_SIZE))
		return TS_ERROR_BAD_REQUEST;
	/* Only the forward pass reveals anything (m). */
	if (r->reveal && !(m == TS_STREAM_GROUP_COUNT &&
			   r->variant == TS_STREAM_GC_FORWARD))
		return TS_ERROR_BAD_REQUEST;

	switch (m) {
	case TS_STREAM_GROUP_COUNT:
		if (r->variant > TS_STREAM_GC_SECOND || r->key_count == 0 ||
		    r->rows_per_block || r->out_row_size)
			return TS_ERROR_BAD_REQUEST;
		TEE_MemMove(st->keys, r->keys, sizeof(st->keys));
		if (obl_key_spec_check(st->keys, r->key_count, rs0) != 0)
			return TS_ERROR_BAD_REQUEST;
		/* Keys are read, the annotation written: they must not meet;
		 * nor may a key hold the side byte. */
		for (i = 0; i < r->key_count; i++) {
			const struct obl_key_spec *k = &st->keys[i];

			if (overlaps(k->col.offset, k->col.width, r->aux_offset,
				     TS_STREAM_ANN_SIZE) ||
			    overlaps(k->col.offset, k->col.width,
				     r->side_offset, 1) ||
			    (k->nullable &&
			     (overlaps(k->null_offset, 1, r->aux_offset,
				       TS_STREAM_ANN_SIZE) ||
			      k->null_offset == r->side_offset)))
				return TS_ERROR_BAD_REQUEST;
		}
		st->kwords = obl_key_spec_words(st->keys, r->key_count);
		if (st->kwords == 0)
			return TS_ERROR_BAD_REQUEST;
		*out_row_size = rs0;
		*xstate_size = sizeof(struct gc_state);
		return TEE_SUCCESS;
	case TS_STREAM_GENERATE:
		/* As WIDEN: a row size and a block capacity of its own. */
		if (r->variant || r->key_count || r->in0_key_slot ||
		    r->rows_per_block == 0 || r->out_row_size == 0 ||
		    r->out_row_size > TS_MAX_ROW_SIZE)
			return TS_ERROR_BAD_REQUEST;
		*out_row_size = r->out_row_size;
		*xstate_size = 0;
		return TEE_SUCCESS;
	case TS_STREAM_FILL:
		if (r->variant || r->key_count || r->rows_per_block ||
		    r->out_row_size ||
		    (uint64_t)rs0 + FLAG_WORD > TS_MAX_ROW_SIZE)
			return TS_ERROR_BAD_REQUEST;
		*out_row_size = rs0 + FLAG_WORD;
		*xstate_size = sizeof(struct fill_state) + 2 * round8(rs0);
		return TEE_SUCCESS;
	default:
		return TS_ERROR_BAD_REQUEST;
	}
}

/* GROUP_COUNT, both passes: one row of the sorted union, written to the
 * next output slot with its annotation filled in. A row with a NULL key is
 * a group of its own and leaves the group around it alone: the group state
 * (counts, the previous key in kw_prev) moves only on non-NULL rows, so a
 * NULL row may sit anywhere in the order (the external sort, which knows
 * no NULLs, may put one between rows of equal keys). A non-NULL row opens
 * a group iff no non-NULL row came before or its keys differ from the
 * last one's.
 * Forward (rows in (keys, side) order, a group's side-0 rows first): idx =
 * the row's rank among its side's rows of the group, alpha0 = the side-0
 * count (side-1 rows; 0 on side 0), off = the sum of alpha0 * alpha1 over
 * the groups before; the rest of the annotation zero. A NULL row: idx 0,
 * alpha0 0, off = the sum over the groups up to the current one.
 * Second (rows in (keys, side desc, idx desc) order: a group opens with its
 * last side-1 row if it has one): alpha1 = that row's idx + 1 (0 if the
 * group opens on side 0; a NULL row: 1 on side 1, else 0), copies = alpha1
 * (side 0) / alpha0 (side 1) (a NULL row: 0), dest = off + idx * copies,
 * drop = (copies == 0); idx, alpha0, off, kind and reserved kept.
 * Leaks: the key list, offsets, row size, the variant.  Hides: keys, NULLs,
 * sides, group boundaries and sizes, counts, offsets, the annotation. */
static TEE_Result step_group_count(struct stream_state *st,
				   const struct ts_stream_request *r,
				   const uint8_t *row, uint32_t rs)
{
	struct gc_state *g = (struct gc_state *)(void *)st->xstate;
	uint8_t *dst = stream_out_slot(st);
	uint8_t *ann = dst + r->aux_offset;
	uint32_t null, real, s1, open;
	uint64_t idx, alpha0, alpha1, off, copies, prod;

	null = obl_key_spec_encode_row(row, st->keys, r->key_count,
				       st->kw_cur);
	real = ct_not(null);
	s1 = byte_ctl(row[r->side_offset]);
	open = real & ct_not(STREAM_KEY_EQ(st->kw_cur, st->kw_prev,
					   st->kwords) & g->has_prev);
	TEE_MemMove(dst, row, rs);

	if (r->variant == TS_STREAM_GC_FORWARD) {
		/* Close the previous group: its product joins the offset.
		 * Counts are at most the row count (< 2^32 in practice); any
		 * carry is recorded and fails the call. */
		prod = g->cnt0 * g->cnt1;
		off = g->off + ct_u64_mux(open, prod, 0);
		g->ovf |= open & (ct_not(ct_u64_eq((g->cnt0 | g->cnt1) >> 32,
						   0)) |
				  ct_u64_lt(off, g->off));
		g->off = off;
		g->cnt0 = ct_u64_mux(open, 0, g->cnt0);
		g->cnt1 = ct_u64_mux(open, 0, g->cnt1);
		prod = g->cnt0 * g->cnt1;
		TEE_MemFill(ann, 0, TS_STREAM_ANN_SIZE);
		st64(ann + ANN_IDX,
		     ct_u64_mux(real, ct_u64_mux(s1, g->cnt1, g->cnt0), 0));
		st64(ann + ANN_ALPHA0, ct_u64_mux(real & s1, g->cnt0, 0));
		st64(ann + ANN_OFF, ct_u64_mux(real, g->off, g->off + prod));
		g->cnt0 += real & ct_not(s1);
		g->cnt1 += real & s1;
	} else {
		idx = ld64(ann + ANN_IDX);
		alpha0 = ld64(ann + ANN_ALPHA0);
		off = ld64(ann + ANN_OFF);
		g->alpha1 = ct_u64_mux(open, ct_u64_mux(s1, idx + 1, 0),
				       g->alpha1);
		alpha1 = ct_u64_mux(real, g->alpha1, s1);
		copies = ct_u64_mux(real, ct_u64_mux(s1, alpha0, alpha1), 0);
		st64(ann + ANN_ALPHA1, alpha1);
		st64(ann + ANN_COPIES, copies);
		st64(ann + ANN_DEST, off + idx * copies);
		ann[ANN_DROP] = (uint8_t)ct_u64_eq(copies, 0);
	}

	/* The group's key: only a non-NULL row replaces it. */
	ct_copy(real, st->kw_prev, st->kw_cur, st->kwords * 8);
	g->has_prev |= real;
	return stream_out_commit(st);
}

/* FILL: one row of the sorted union of real rows and fillers. A real row
 * (kind 0) becomes the carried row of its side and gives a dummy; a filler
 * (kind != 0) at dest k of side s gives [flag 1 | the carried row of side
 * s] with dest = the target (k on side 0, off + t * alpha1 + idx on side
 * 1, t = k - the carried row's dest). A filler without a carried row of
 * its side, or with t >= its copies, sets the error bit; the sums of
 * copies and of fillers per side are kept for stream_expand_finish.
 * Leaks: offsets, row size.  Hides: kinds, sides, dests, copies, which
 * rows are fillers, the carried rows, the error bit. */
static TEE_Result step_fill(struct stream_state *st,
			    const struct ts_stream_request *r,
			    const uint8_t *row, uint32_t rs)
{
	struct fill_state *f = (struct fill_state *)(void *)st->xstate;
	uint8_t *carry0 = st->xstate + sizeof(*f);
	uint8_t *carry1 = carry0 + round8(rs);
	uint8_t *out = st->row;
	const uint8_t *oann = out + FLAG_WORD + r->aux_offset;
	uint32_t is_f, is_r, s1, s0, has, ok;
	uint64_t k, t, cp, target;

	is_f = byte_ctl(row[r->aux_offset + ANN_KIND]);
	is_r = ct_not(is_f);
	s1 = byte_ctl(row[r->side_offset]);
	s0 = ct_not(s1);

	/* A real row: count its copies, carry it. */
	cp = ld64(row + r->aux_offset + ANN_COPIES);
	f->copies[0] += ct_u64_mux(is_r & s0, cp, 0);
	f->copies[1] += ct_u64_mux(is_r & s1, cp, 0);
	ct_copy(is_r & s0, carry0, row, rs);
	ct_copy(is_r & s1, carry1, row, rs);
	f->has[0] |= is_r & s0;
	f->has[1] |= is_r & s1;

	/* A filler: the carried row of its side with the target as dest. */
	TEE_MemFill(out, 0, FLAG_WORD);
	out[0] = 1;
	TEE_MemMove(out + FLAG_WORD, carry0, rs);
	ct_copy(s1, out + FLAG_WORD, carry1, rs);
	has = ct_u32_mux(s1, f->has[1], f->has[0]);
	k = ld64(row + r->aux_offset + ANN_DEST);
	t = k - ld64(oann + ANN_DEST);
	ok = has & EXPAND_U64_LT(t, ld64(oann + ANN_COPIES));
	target = ct_u64_mux(s1, ld64(oann + ANN_OFF) +
			    t * ld64(oann + ANN_ALPHA1) + ld64(oann + ANN_IDX),
			    k);
	st64(out + FLAG_WORD + r->aux_offset + ANN_DEST, target);
	f->err |= is_f & ct_not(ok);
	f->fillers[0] += is_f & s0;
	f->fillers[1] += is_f & s1;
	return stream_out_masked(st, is_f, out);
}

/* see cmd_stream_internal.h; dispatches on the public mode.
 * Leaks: the mode, offsets, row size.  Hides: the row (as the steps). */
TEE_Result stream_expand_step(struct stream_state *st,
			      const struct ts_stream_request *r,
			      const uint8_t *row, uint32_t rs)
{
	if (r->mode == TS_STREAM_GROUP_COUNT)
		return step_group_count(st, r, row, rs);
	return step_fill(st, r, row, rs);
}

/* GENERATE: rows r = 0 .. 2 * limit - 1, all zero but side byte r / limit,
 * dest r % limit and kind 1. Every byte is a public function of r and
 * limit (the divisions are by the public limit).
 * Leaks: limit, the row size, offsets.  Hides: nothing (no secret). */
TEE_Result stream_expand_generate(struct stream_state *st,
				  const struct ts_stream_request *r)
{
	const uint64_t n = 2 * r->limit;
	uint64_t i;
	uint8_t *dst;
	TEE_Result res;

	for (i = 0; i < n; i++) {
		if (st->fill == 0 && cmd_cancelled())
			return TEE_ERROR_CANCEL;
		dst = stream_out_slot(st);
		TEE_MemFill(dst, 0, r->out_row_size);
		dst[r->side_offset] = (uint8_t)(i / r->limit);
		st64(dst + r->aux_offset + ANN_DEST, i % r->limit);
		dst[r->aux_offset + ANN_KIND] = 1;
		res = stream_out_commit(st);
		if (res != TEE_SUCCESS)
			return res;
	}
	return TEE_SUCCESS;
}

/* After the last row. GROUP_COUNT forward: m = off + the last group's
 * product into st->real; with reveal = 1, m is declassified and m >= 2^32
 * (or a 64-bit overflow) fails. FILL: declassify one bit, "some filler had
 * no valid carried row, or the fillers of a side do not number the sum of
 * that side's copies", and fail on it.
 * Leaks: GROUP_COUNT forward with reveal: m; FILL: that bit.  Hides: every
 * other count. */
TEE_Result stream_expand_finish(struct stream_state *st,
				const struct ts_stream_request *r)
{
	uint32_t bad;

	if (r->mode == TS_STREAM_GROUP_COUNT &&
	    r->variant == TS_STREAM_GC_FORWARD) {
		struct gc_state *g = (struct gc_state *)(void *)st->xstate;
		uint64_t prod = g->cnt0 * g->cnt1;

		st->real = g->off + prod;
		if (!r->reveal)
			return TEE_SUCCESS;
		bad = g->ovf | ct_not(ct_u64_eq((g->cnt0 | g->cnt1) >> 32, 0)) |
		      ct_u64_lt(st->real, g->off);
		STREAM_DECLASSIFY(&st->real, sizeof(st->real));
		STREAM_DECLASSIFY(&bad, sizeof(bad));
		if (ct_u32_barrier(bad) || (st->real >> 32) != 0) {
			SHIM_LOGE("STREAM: GROUP_COUNT: m does not fit 32 bits");
			return TS_ERROR_BAD_REQUEST;
		}
		return TEE_SUCCESS;
	}
	if (r->mode == TS_STREAM_FILL) {
		struct fill_state *f = (struct fill_state *)(void *)st->xstate;

		bad = f->err |
		      ct_not(ct_u64_eq(f->fillers[0], f->copies[0])) |
		      ct_not(ct_u64_eq(f->fillers[1], f->copies[1]));
		STREAM_DECLASSIFY(&bad, sizeof(bad));
		if (ct_u32_barrier(bad)) {
			SHIM_LOGE("STREAM: FILL: fillers do not match the copies "
				  "(wrong m)");
			return TS_ERROR_BAD_REQUEST;
		}
	}
	return TEE_SUCCESS;
}

/*
 * op_common.c - arena and output helpers shared by the operators (see
 * op_common.h).
 */
#include "op_common.h"

#include <string.h>

#include "../ct.h"
#include "../trace.h"

#define ARENA_ALIGN 64u

void obl_arena_init(struct obl_arena *a, void *base, size_t size)
{
	a->base = (uint8_t *)base;
	a->size = size;
	a->used = 0;
}

size_t obl_arena_cost(size_t bytes)
{
	return (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN + ARENA_ALIGN;
}

/* Take a 64-byte aligned block of bytes (rounded up to 64); NULL if it
 * does not fit. Public sizes only. */
static void *arena_take(struct obl_arena *a, size_t bytes, size_t *need_out)
{
	uintptr_t start, aligned;
	size_t pad, need;

	if (a == NULL || a->base == NULL)
		return NULL;
	start = (uintptr_t)(a->base + a->used);
	aligned = (start + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1);
	pad = (size_t)(aligned - start);
	/* round the size up so that every block keeps 64-byte alignment */
	need = (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
	if (bytes > a->size || pad > a->size - a->used ||
			need > a->size - a->used - pad)
		return NULL;
	a->used += pad + need;
	*need_out = need;
	return (void *)aligned;
}

/* see op_common.h */
void *obl_arena_alloc(struct obl_arena *a, size_t bytes)
{
	size_t need = 0;
	void *p = arena_take(a, bytes, &need);

	if (p != NULL)
		memset(p, 0, need);
	return p;
}

/* see op_common.h */
void *obl_arena_take(struct obl_arena *a, size_t bytes)
{
	size_t need = 0;

	return arena_take(a, bytes, &need);
}

/* see op_common.h */
void obl_zero_dummies(uint8_t *rows, size_t n, size_t row_size,
		const uint32_t *is_real)
{
	size_t i, b;

	for (i = 0; i < n; i++) {
		uint8_t *r = rows + i * row_size;
		uint64_t mask = ct_u64_barrier((uint64_t)0 - (is_real[i] & 1u));

		/* AND with all ones or zeros, a word then a byte at a time: the
		 * same stores either way */
		for (b = 0; b + 8 <= row_size; b += 8) {
			uint64_t w;

			memcpy(&w, r + b, 8);
			w &= mask;
			memcpy(r + b, &w, 8);
		}
		for (; b < row_size; b++)
			r[b] = (uint8_t)(r[b] & (uint8_t)mask);
		OBL_TRACE_WRITE(OBL_BUF_OUT, i);
	}
}

/* see op_common.h */
void obl_emit_rows(const uint8_t *recs, size_t n, size_t rec_size,
		size_t row_off, size_t row_size, const uint32_t *flags,
		uint8_t *out, uint32_t *out_is_real, size_t cap)
{
	size_t i, lim = n < cap ? n : cap;

	for (i = 0; i < lim; i++) {
		OBL_TRACE_READ(OBL_BUF_RECS, i);
		memcpy(out + i * row_size, recs + i * rec_size + row_off, row_size);
		out_is_real[i] = flags[i] & 1u;
		OBL_TRACE_WRITE(OBL_BUF_OUT, i);
	}
	for (; i < cap; i++) {
		memset(out + i * row_size, 0, row_size);
		out_is_real[i] = 0;
		OBL_TRACE_WRITE(OBL_BUF_OUT, i);
	}
	obl_zero_dummies(out, lim, row_size, out_is_real);
}

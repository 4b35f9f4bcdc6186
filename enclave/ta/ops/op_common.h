/*
 * op_common.h - what the relational operators of the TA share: error codes,
 * the input table descriptor, the caller-supplied work arena, the residual
 * (keep-ctl) callback, and the internal record layout.
 *
 * Every operator exists in two modes:
 *   obl_<op>  oblivious: a composition of the verified kernels (bitonic sort,
 *             order-preserving compaction, scans, expansion); its access
 *             sequence and branches depend only on what its "Leaks:" line
 *             says;
 *   op_<op>_fast  the encrypted (non-oblivious) mode: the fastest simple
 *             algorithm (merge sort, branchy scans). NOT oblivious: leaks
 *             access patterns. Same inputs and outputs.
 *
 * Rows are fixed-width byte strings (the TA's row codec: typed columns and a
 * null bitmap at offsets the caller knows); operators never interpret a row
 * except through the column descriptions they are given (key specs, value
 * columns), and copy rows through unchanged.
 *
 * Secret sizes: an operator whose output size depends on the data (filter,
 * aggregate, joins, distinct) returns that size m as a SECRET value and
 * writes a fixed, public number of output slots (its cap), each with an
 * is_real ctl; slots >= m are dummies (all-zero rows, is_real 0). The caller
 * decides whether to declassify m (and truncate to m slots) or to keep the
 * padded output. If m > cap, only the first cap rows are kept (the caller
 * sees that after declassifying m; the default caps never truncate).
 *
 * Memory: operators allocate nothing themselves (the TA heap is accounted
 * through TEE_Malloc, and kernels include no TEE header). They take a
 * struct obl_arena over caller memory; every obl_*_work_bytes() function
 * gives an upper bound on what the operator takes from it, computed from
 * public sizes only. All allocations happen before any secret is read, so
 * running out of space (OBL_ERR_NOMEM) reveals nothing but sizes.
 */
#ifndef TEESPARK_OPS_OP_COMMON_H
#define TEESPARK_OPS_OP_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Return codes (public). */
#define OBL_OK 0
#define OBL_ERR_PARAM (-1)    /* bad column list, sizes, or arguments */
#define OBL_ERR_NOMEM (-2)    /* the arena is too small */

/*
 * An input batch: n rows of row_size bytes. is_real, if not NULL, holds one
 * SECRET ctl per row (0 = dummy slot, e.g. a padded filter output); NULL
 * means every row is real. Dummy rows never contribute to any result.
 */
struct obl_table {
	const uint8_t *rows;
	size_t n;
	size_t row_size;
	const uint32_t *is_real;
};

/*
 * Caller memory the operators allocate from (bump allocation, 64-byte
 * aligned, zeroed). An operator returns everything it took before it
 * returns, except where its header says otherwise (obl_join_general keeps
 * its state between begin and finish).
 */
struct obl_arena {
	uint8_t *base;
	size_t size;
	size_t used;
};

void obl_arena_init(struct obl_arena *a, void *base, size_t size);

/* bytes from the arena, 64-byte aligned and zeroed; NULL if it does not fit.
 * Leaks: bytes.  Hides: nothing secret is involved. */
void *obl_arena_alloc(struct obl_arena *a, size_t bytes);

/* As obl_arena_alloc, but the block is NOT zeroed: for the encrypted-mode
 * (_fast) kernels, and for arrays an oblivious kernel writes in full
 * (padding included) before it reads them.
 * Leaks: bytes. */
void *obl_arena_take(struct obl_arena *a, size_t bytes);

/* Bytes obl_arena_alloc(bytes) consumes at most (for *_work_bytes). */
size_t obl_arena_cost(size_t bytes);

/*
 * A residual predicate evaluated by the caller (the expression evaluator):
 * fn sets keep[i] to a ctl for each of the n rows of row_size bytes. It is
 * called on every output slot, dummies included, and must itself be
 * oblivious (its own "Leaks:" line: n, row_size); the operator ANDs its
 * result with is_real.
 */
struct obl_keep_fn {
	void (*fn)(const uint8_t *rows, size_t n, size_t row_size,
			uint32_t *keep, void *ctx);
	void *ctx;
};

/*
 * The internal record of the operators, what the kernels sort and compact:
 *
 *   [ key words (key_words x uint64) | aux words (aux_words x uint64) |
 *     row bytes (row_size, zero padded to a multiple of 8) ]
 *
 * The key words are compared by obl_sort_bitonic (word 0 most
 * significant). By convention word 0 is a flag word that sorts dummies (and,
 * in joins, rows whose key contains a NULL) after every real key; the rest
 * are the encoded key (key_encode_nulls.h). Aux words carry per-record
 * flags and counters (table id, running counts, destinations).
 */
struct obl_rec_layout {
	size_t key_words;
	size_t aux_words;
	size_t row_size;
	size_t rec_size;     /* 8 * (key_words + aux_words) + round8(row_size) */
};

static inline size_t obl_round8(size_t x)
{
	return (x + 7) / 8 * 8;
}

static inline void obl_rec_layout_init(struct obl_rec_layout *l,
		size_t key_words, size_t aux_words, size_t row_size)
{
	l->key_words = key_words;
	l->aux_words = aux_words;
	l->row_size = row_size;
	l->rec_size = 8 * (key_words + aux_words) + obl_round8(row_size);
}

static inline uint64_t *obl_rec_words(uint8_t *recs,
		const struct obl_rec_layout *l, size_t i)
{
	return (uint64_t *)(void *)(recs + i * l->rec_size);
}

static inline uint8_t *obl_rec_row(uint8_t *recs,
		const struct obl_rec_layout *l, size_t i)
{
	return recs + i * l->rec_size + 8 * (l->key_words + l->aux_words);
}

/* is_real of row i of t as a ctl (1 if t->is_real is NULL).
 * Leaks: i.  Hides: the flag. */
static inline uint32_t obl_table_real(const struct obl_table *t, size_t i)
{
	return t->is_real ? (t->is_real[i] & 1u) : 1u;
}

/* Zero every row whose is_real ctl is 0 (dummy slots carry no data), with
 * the same writes for every row.
 * Leaks: n, row_size.  Hides: the flags, row contents. */
void obl_zero_dummies(uint8_t *rows, size_t n, size_t row_size,
		const uint32_t *is_real);

/* Copy the first min(cap, n) of n records (rec_size bytes apart, the row at
 * byte offset row_off, row_size bytes) to out rows and their flags to
 * out_is_real; slots beyond n are zeroed dummies. Then dummies are zeroed.
 * Leaks: n, cap, sizes.  Hides: flags, contents. */
void obl_emit_rows(const uint8_t *recs, size_t n, size_t rec_size,
		size_t row_off, size_t row_size, const uint32_t *flags,
		uint8_t *out, uint32_t *out_is_real, size_t cap);

#endif /* TEESPARK_OPS_OP_COMMON_H */

/*
 * cmd_stream_map.h - the MAP mode of TA_TEESPARK_CMD_STREAM (teespark_ta.h,
 * "Streaming"): per input row, the request body's projections and its
 * optional predicate (the flag word), evaluated with the expression
 * evaluator of expr/ one opened block at a time. Not an ABI: only
 * cmd_stream*.c include it.
 */
#ifndef TEESPARK_CMD_STREAM_MAP_H
#define TEESPARK_CMD_STREAM_MAP_H

#include "cmd_stream_internal.h"

/* The parsed body and the buffers of one MAP call (opaque; heap). */
struct stream_map;

/* Parse the body (body_len bytes, already a TA copy that outlives the
 * plan) of a MAP request: the predicate and the projection headers; the
 * programs themselves are validated by stream_map_check. Checks the
 * request fields MAP uses or must leave zero. *out is NULL on failure.
 * Public: reads the request only. */
TEE_Result stream_map_parse(const struct ts_stream_request *r,
			    const uint8_t *body, size_t body_len,
			    struct stream_map **out);

/* Validate every program for input rows of rs0 bytes and every output
 * offset against out_row_size, before any block is opened.
 * Public: reads the request and the programs only. */
TEE_Result stream_map_check(struct stream_map *m,
			    const struct ts_stream_request *r, uint32_t rs0);

/* Allocate the evaluator workspace and the staging rows for input blocks
 * of at most max_rows rows. Leaks: sizes. */
TEE_Result stream_map_alloc(struct stream_map *m,
			    const struct ts_stream_request *r, uint64_t max_rows);

/* One opened input block of n rows of rs bytes: write its n output rows.
 * st->rows_seen is the index of the block's first row (it is advanced
 * here) and st->real counts the flagged rows (secret until revealed).
 * Leaks: n, rs, the request (programs, offsets, variant).  Hides: the
 * rows, every value and NULL, which rows pass the predicate. */
TEE_Result stream_map_block(struct stream_map *m, struct stream_state *st,
			    const struct ts_stream_request *r,
			    const uint8_t *rows, uint32_t n, uint32_t rs);

/* Wipe and free everything (NULL: nothing). */
void stream_map_free(struct stream_map *m);

#endif /* TEESPARK_CMD_STREAM_MAP_H */

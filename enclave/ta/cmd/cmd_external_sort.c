/*
 * cmd_external_sort.c - the external sort job (see cmd_external_sort.h):
 * the job table, the schedule, run sealing and opening, and the commands
 * XSORT_START, XSORT_CHUNK and XSORT_EMIT (XSORT_MERGE_SPLIT is in
 * cmd_merge_split.c).
 *
 * Every branch, loop bound and offset here depends on public values only:
 * the input table's shape, the request, the run geometry, headers. Rows are
 * touched by memory copies, the GP AES-GCM calls, obl_key_encode and
 * obl_sort_bitonic; the is_dummy word is written from the public row
 * position. Plaintext buffers are wiped before they are freed.
 *
 * Memory: XSORT_CHUNK holds run_rows records and one input block; XSORT_EMIT
 * one run block and one output block; XSORT_MERGE_SPLIT 2 * run_rows
 * records. XSORT_START checks the first two fit the heap by allocating them.
 */
#include "cmd_external_sort.h"
#include "block_list.h"
#include "output_table.h"
#include "../ops/sort_bitonic.h"

/* One job per session. TA_FLAGS 0 gives each session its own TA instance
 * on OP-TEE and iTrustee, so one entry would do; the in-process test
 * harness runs several sessions in one process. */
#define XSORT_MAX_JOBS 8

static struct xsort_job *xsort_jobs[XSORT_MAX_JOBS];

/* ------------------------------------------------------------ the schedule */

/* see cmd_external_sort.h */
void xsort_net_start(struct xsort_net *it, uint32_t k)
{
	TEE_MemFill(it, 0, sizeof(*it));
	it->k = k;
	it->K = 1;
	while (it->K < k)
		it->K <<= 1;
	it->size = 2;
	it->stride = 1;
}

/* see cmd_external_sort.h */
int xsort_net_next(struct xsort_net *it, uint32_t *lo, uint32_t *hi)
{
	uint32_t i, j, t;

	while (it->size <= it->K) {
		if (it->i >= it->K) {
			it->i = 0;
			it->stride >>= 1;
			if (it->stride == 0) {
				it->size <<= 1;
				it->stride = it->size >> 1;
			}
			continue;
		}
		i = it->i++;
		if (it->stride == it->size >> 1) {	/* flip stage */
			t = i & (it->size - 1);
			if (t >= it->stride)
				continue;
			j = i - t + it->size - 1 - t;
		} else {				/* half-cleaner */
			if (i & it->stride)
				continue;
			j = i + it->stride;
		}
		if (j >= it->k)
			continue;
		*lo = i;
		*hi = j;
		return 1;
	}
	return 0;
}

/* -------------------------------------------------------------- job table */

static void job_free(struct xsort_job **slot)
{
	struct xsort_job *j = *slot;

	if (!j)
		return;
	if (j->epoch) {
		shim_wipe(j->epoch, (size_t)j->runs * sizeof(uint32_t));
		TEE_Free(j->epoch);
	}
	shim_wipe(j, sizeof(*j));
	TEE_Free(j);
	*slot = NULL;
}

static struct xsort_job **job_slot(const struct ta_session *s)
{
	size_t i;

	for (i = 0; i < XSORT_MAX_JOBS; i++)
		if (xsort_jobs[i] && xsort_jobs[i]->owner == s)
			return &xsort_jobs[i];
	return NULL;
}

/* see cmd_external_sort.h */
void xsort_session_close(const struct ta_session *s)
{
	struct xsort_job **slot = job_slot(s);

	if (slot)
		job_free(slot);
}

/* see cmd_external_sort.h */
struct xsort_job *xsort_job_get(const struct ta_session *s, uint32_t phase,
				const char *cmd)
{
	struct xsort_job **slot = job_slot(s);

	if (!slot || (*slot)->phase != phase) {
		SHIM_LOGE("%s: no external sort job in phase %u", cmd,
			  (unsigned int)phase);
		return NULL;
	}
	return *slot;
}

/* see cmd_external_sort.h */
void xsort_job_advance(struct xsort_job *j)
{
	if (xsort_net_next(&j->net, &j->next_lo, &j->next_hi)) {
		j->phase = XSORT_MERGE;
	} else {
		j->phase = XSORT_EMIT;
		j->next_lo = j->next_hi = 0;
	}
}

/* ------------------------------------------------------------------- runs */

/* see cmd_external_sort.h */
uint32_t xsort_block_recs(const struct xsort_job *j, uint32_t b)
{
	uint32_t first = b * j->recs_per_block;

	return j->run_rows - first < j->recs_per_block ? j->run_rows - first :
							  j->recs_per_block;
}

static uint64_t run_version(uint32_t epoch, uint32_t run)
{
	return ((uint64_t)epoch << 32) | run;
}

/* see cmd_external_sort.h */
TEE_Result xsort_run_open(const struct xsort_job *j, struct block_gcm *dec,
			  const uint8_t *buf, uint32_t run, uint8_t *recs,
			  uint32_t *fail_index)
{
	struct ts_block_header hdr;
	size_t off = 0, rec_off = 0;
	uint32_t b;
	TEE_Result res;

	for (b = 0; b < j->blocks_per_run; b++) {
		uint32_t n = xsort_block_recs(j, b);

		*fail_index = b;
		res = block_gcm_read_header(buf + off, j->run_sealed - off, &hdr);
		if (res != TEE_SUCCESS)
			return res;
		if (TEE_MemCompare(hdr.table_id, j->job_id, sizeof(j->job_id)) ||
		    hdr.table_version != run_version(j->epoch[run], run) ||
		    hdr.block_index != b || hdr.block_count != j->blocks_per_run ||
		    hdr.row_count != n || hdr.row_size != j->rec_size ||
		    TEE_MemCompare(hdr.schema_hash, j->in.schema_hash,
				   sizeof(hdr.schema_hash)))
			return TS_ERROR_BLOCK_SEQUENCE;
		res = block_gcm_open(dec, &hdr, buf + off, recs + rec_off);
		if (res != TEE_SUCCESS)
			return res;
		off += TS_SEALED_BLOCK_SIZE((size_t)hdr.ciphertext_size);
		rec_off += (size_t)n * j->rec_size;
	}
	return TEE_SUCCESS;
}

/* see cmd_external_sort.h */
TEE_Result xsort_run_seal(const struct xsort_job *j, struct block_gcm *enc,
			  const uint8_t *recs, uint32_t run, uint32_t epoch,
			  uint8_t *out)
{
	struct ts_block_header hdr;
	size_t off = 0, rec_off = 0;
	uint32_t b;
	TEE_Result res;

	for (b = 0; b < j->blocks_per_run; b++) {
		uint32_t n = xsort_block_recs(j, b);

		block_gcm_header_init(&hdr);
		TEE_MemMove(hdr.table_id, j->job_id, sizeof(hdr.table_id));
		hdr.table_version = run_version(epoch, run);
		hdr.block_index = b;
		hdr.block_count = j->blocks_per_run;
		hdr.row_count = n;
		hdr.row_size = (uint32_t)j->rec_size;
		TEE_MemMove(hdr.schema_hash, j->in.schema_hash,
			    sizeof(hdr.schema_hash));
		hdr.ciphertext_size = n * (uint32_t)j->rec_size;
		res = block_gcm_seal(enc, &hdr, recs + rec_off, out + off);
		if (res != TEE_SUCCESS)
			return res;
		off += TS_SEALED_BLOCK_SIZE((size_t)hdr.ciphertext_size);
		rec_off += (size_t)n * j->rec_size;
	}
	return TEE_SUCCESS;
}

/* ------------------------------------------------------------ XSORT_START */

/* Run geometry from c, r and the input; TS_ERROR_BAD_REQUEST if it breaks
 * a rule of teespark_ta.h (XSORT_START). All public. */
static TEE_Result job_geometry(struct xsort_job *j, uint32_t c, uint32_t r)
{
	const struct ta_table *t = &j->in;
	uint64_t runs, rec_size, run_bytes;
	uint32_t b;

	if (c == 0 || r == 0 || (r & (r - 1)) != 0 ||
	    (uint64_t)c * t->rows_per_block > r)
		return TS_ERROR_BAD_REQUEST;
	rec_size = 8 * (uint64_t)j->key_words + ((t->row_size + 7u) & ~7u);
	if (rec_size > TS_MAX_ROW_SIZE)
		return TS_ERROR_BAD_REQUEST;
	runs = ((uint64_t)t->block_count + c - 1) / c;
	if (runs == 0 || runs > TS_XSORT_MAX_RUNS)
		return TS_ERROR_BAD_REQUEST;
	/* 2 * run_rows records must be addressable. */
	run_bytes = (uint64_t)r * rec_size;
	if (run_bytes > (SIZE_MAX / 4) || run_bytes > UINT32_MAX)
		return TS_ERROR_BAD_REQUEST;
	j->rec_size = (size_t)rec_size;
	j->blocks_per_chunk = c;
	j->run_rows = r;
	j->runs = (uint32_t)runs;
	j->recs_per_block = TS_XSORT_RUN_BLOCK_BYTES / (uint32_t)rec_size;
	if (j->recs_per_block > r)
		j->recs_per_block = r;
	j->blocks_per_run = (r + j->recs_per_block - 1) / j->recs_per_block;
	j->run_sealed = 0;
	for (b = 0; b < j->blocks_per_run; b++)
		j->run_sealed += TS_SEALED_BLOCK_SIZE((size_t)xsort_block_recs(j, b) *
						      j->rec_size);
	return TEE_SUCCESS;
}

/* Can the heap hold what the largest commands allocate? (Allocated and
 * freed: nothing here is secret.) */
static int heap_fits(size_t a, size_t b)
{
	uint8_t *p = TEE_Malloc(a, TEE_MALLOC_NO_FILL);
	uint8_t *q = p ? TEE_Malloc(b ? b : 1, TEE_MALLOC_NO_FILL) : NULL;
	int ok = p && q;

	if (q)
		TEE_Free(q);
	if (p)
		TEE_Free(p);
	return ok;
}

/* see cmd_external_sort.h */
TEE_Result cmd_xsort_start(struct ta_session *s, uint32_t param_types,
			   TEE_Param params[SHIM_NUM_PARAMS])
{
	const uint32_t exp = TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_VALUE_INPUT,
					     TEE_PARAM_TYPE_VALUE_OUTPUT);
	struct ts_sort_request req;
	uint8_t table_id[16];
	struct xsort_job **slot, *j;
	const struct ta_table *e;
	size_t i, in_block;
	uint32_t lo, hi;
	TEE_Result res;

	if (param_types != exp)
		return TEE_ERROR_BAD_PARAMETERS;
	params[3].value.a = 0;
	params[3].value.b = 0;
	if (params[0].memref.size != sizeof(req) || !params[0].memref.buffer ||
	    params[1].memref.size != sizeof(table_id) ||
	    !params[1].memref.buffer) {
		SHIM_LOGE("XSORT_START: wrong request size %zu or table id size %zu",
			  params[0].memref.size, params[1].memref.size);
		return TEE_ERROR_BAD_PARAMETERS;
	}
	TEE_MemMove(&req, params[0].memref.buffer, sizeof(req));
	TEE_MemMove(table_id, params[1].memref.buffer, sizeof(table_id));

	/* A new job replaces the session's previous one (its runs become
	 * useless: the new job has a new key and id). */
	slot = job_slot(s);
	if (slot)
		job_free(slot);
	for (i = 0; i < XSORT_MAX_JOBS && xsort_jobs[i]; i++)
		;
	if (i == XSORT_MAX_JOBS)
		return TEE_ERROR_BUSY;
	slot = &xsort_jobs[i];
	j = TEE_Malloc(sizeof(*j), TEE_MALLOC_FILL_ZERO);
	if (!j)
		return TEE_ERROR_OUT_OF_MEMORY;

	res = cmd_check_sort_request(&req, j->cols);
	if (res != TEE_SUCCESS) {
		SHIM_LOGE("XSORT_START: invalid request");
		goto fail;
	}
	if (!key_slots_get(&s->keys, req.in_key_slot, &res) ||
	    !key_slots_get(&s->keys, req.out_key_slot, &res))
		goto fail;
	if (key_slots_bound_elsewhere(&s->keys, req.out_key_slot,
				      req.out_table_id)) {
		SHIM_LOGE("XSORT_START: the key in slot %u belongs to another "
			  "table", req.out_key_slot);
		res = TEE_ERROR_ACCESS_DENIED;
		goto fail;
	}
	e = table_registry_find(&s->tables, table_id);
	if (!e || !(e->slot_mask & (1u << req.in_key_slot))) {
		SHIM_LOGE("XSORT_START: input table not registered with slot %u",
			  req.in_key_slot);
		res = TS_ERROR_TABLE_UNKNOWN;
		goto fail;
	}
	j->in = *e;
	if (TEE_MemCompare(req.schema_hash, j->in.schema_hash,
			   sizeof(req.schema_hash)) ||
	    obl_key_encode_check(j->cols, req.key_count, j->in.row_size) != 0 ||
	    (uint64_t)req.rows_per_block * j->in.row_size >
		    TS_MAX_BLOCK_PLAINTEXT) {
		SHIM_LOGE("XSORT_START: schema, key columns or output block size "
			  "do not fit the %u-byte rows", j->in.row_size);
		res = TS_ERROR_BAD_REQUEST;
		goto fail;
	}
	j->in_slot = req.in_key_slot;
	j->out_slot = req.out_key_slot;
	j->key_count = req.key_count;
	j->user_words = obl_key_words_for(j->cols, req.key_count);
	j->key_words = 1 + j->user_words;
	j->out_rows_per_block = req.rows_per_block;
	TEE_MemMove(j->out_table_id, req.out_table_id, sizeof(j->out_table_id));
	j->out_table_version = req.out_table_version;
	res = job_geometry(j, params[2].value.a, params[2].value.b);
	if (res != TEE_SUCCESS) {
		SHIM_LOGE("XSORT_START: bad chunk/run sizes c=%u r=%u",
			  params[2].value.a, params[2].value.b);
		goto fail;
	}
	/* The largest allocations of MERGE_SPLIT and CHUNK; EMIT's (one run
	 * block, one output block) are smaller than MERGE_SPLIT's. */
	in_block = (size_t)j->in.rows_per_block * j->in.row_size;
	if (!heap_fits(2 * (size_t)j->run_rows * j->rec_size, 1) ||
	    !heap_fits((size_t)j->run_rows * j->rec_size, in_block) ||
	    !heap_fits((size_t)j->recs_per_block * j->rec_size,
		       (size_t)j->out_rows_per_block * j->in.row_size)) {
		SHIM_LOGE("XSORT_START: runs of %u records of %zu bytes do not "
			  "fit the heap", j->run_rows, j->rec_size);
		res = TEE_ERROR_OUT_OF_MEMORY;
		goto fail;
	}
	j->epoch = TEE_Malloc((size_t)j->runs * sizeof(uint32_t),
			      TEE_MALLOC_FILL_ZERO);
	if (!j->epoch) {
		res = TEE_ERROR_OUT_OF_MEMORY;
		goto fail;
	}
	TEE_GenerateRandom(j->job_id, sizeof(j->job_id));
	TEE_GenerateRandom(j->key, sizeof(j->key));

	/* The schedule's length, then its start. */
	xsort_net_start(&j->net, j->runs);
	while (xsort_net_next(&j->net, &lo, &hi))
		j->steps_left++;
	xsort_net_start(&j->net, j->runs);
	j->owner = s;
	j->phase = XSORT_CHUNKS;
	*slot = j;
	params[3].value.a = j->runs;
	params[3].value.b = (uint32_t)j->steps_left;
	return TEE_SUCCESS;
fail:
	job_free(&j);
	return res;
}

/* ------------------------------------------------------------ XSORT_CHUNK */

/* The input table is still registered with the job's slot, unchanged. */
static TEE_Result input_still_registered(struct ta_session *s,
					 const struct xsort_job *j)
{
	const struct ta_table *e = table_registry_find(&s->tables,
						       j->in.table_id);

	if (!e || !(e->slot_mask & (1u << j->in_slot)) ||
	    e->table_version != j->in.table_version ||
	    e->row_count != j->in.row_count ||
	    e->block_count != j->in.block_count ||
	    e->row_size != j->in.row_size ||
	    e->rows_per_block != j->in.rows_per_block ||
	    TEE_MemCompare(e->schema_hash, j->in.schema_hash,
			   sizeof(e->schema_hash)))
		return TS_ERROR_TABLE_UNKNOWN;
	return TEE_SUCCESS;
}

/* Open the chunk's input blocks and encode their rows as real records
 * (is_dummy 0), then the rest of the run as dummies (is_dummy 1, zeros).
 * Leaks: block indices and row counts (public).  Hides: rows, keys. */
static TEE_Result chunk_encode(const struct xsort_job *j, struct block_gcm *dec,
			       const void *buf, size_t len, uint32_t first,
			       uint32_t end, uint8_t *recs, uint8_t *pt,
			       uint32_t *n_real, uint32_t *fail_index)
{
	const size_t rec = j->rec_size;
	struct block_list bl;
	struct ts_block_header hdr;
	const uint8_t *sealed;
	uint32_t n = 0, i;
	TEE_Result res;

	block_list_start(&bl, buf, len, &j->in);
	bl.count = first;	/* block_list_next checks index == count */
	while (block_list_more(&bl)) {
		*fail_index = bl.count;
		if (bl.count >= end)
			return TS_ERROR_BLOCK_SEQUENCE;	/* extra blocks */
		res = block_list_next(&bl, &hdr, &sealed);
		if (res != TEE_SUCCESS)
			return res;
		res = block_gcm_open(dec, &hdr, sealed, pt);
		if (res != TEE_SUCCESS)
			return res;
		for (i = 0; i < hdr.row_count; i++) {
			uint8_t *r = recs + (size_t)(n + i) * rec;
			uint64_t real = 0;

			TEE_MemMove(r, &real, 8);
			obl_key_encode(pt + (size_t)i * hdr.row_size, 1,
				       hdr.row_size, j->cols, j->key_count, r + 8);
		}
		n += hdr.row_count;
	}
	*fail_index = bl.count;
	if (bl.count != end)
		return TS_ERROR_BLOCK_SEQUENCE;	/* missing blocks */
	if (n > j->run_rows)
		return TS_ERROR_BLOCK_SEQUENCE;
	for (i = n; i < j->run_rows; i++) {
		uint8_t *r = recs + (size_t)i * rec;
		uint64_t dummy = 1;

		TEE_MemFill(r, 0, rec);
		TEE_MemMove(r, &dummy, 8);
	}
	*n_real = n;
	return TEE_SUCCESS;
}

/* see cmd_external_sort.h */
TEE_Result cmd_xsort_chunk(struct ta_session *s, uint32_t param_types,
			   TEE_Param params[SHIM_NUM_PARAMS])
{
	const uint32_t exp = TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_MEMREF_OUTPUT,
					     TEE_PARAM_TYPE_VALUE_INPUT,
					     TEE_PARAM_TYPE_VALUE_OUTPUT);
	struct block_gcm dec = { TEE_HANDLE_NULL }, enc = { TEE_HANDLE_NULL };
	struct xsort_job *j;
	const uint8_t *in_key;
	uint8_t *recs = NULL, *pt = NULL;
	size_t recs_size = 0, pt_size = 0;
	uint32_t first, end, n_real = 0, fail_index = 0;
	TEE_Result res;

	if (param_types != exp)
		return TEE_ERROR_BAD_PARAMETERS;
	params[3].value.a = 0;
	params[3].value.b = 0;
	j = xsort_job_get(s, XSORT_CHUNKS, "XSORT_CHUNK");
	if (!j)
		return TEE_ERROR_BAD_STATE;
	if (params[2].value.a != j->next_chunk) {
		SHIM_LOGE("XSORT_CHUNK: chunk %u, expected %u",
			  params[2].value.a, j->next_chunk);
		return TEE_ERROR_BAD_STATE;
	}
	if (params[1].memref.size < j->run_sealed || !params[1].memref.buffer) {
		params[1].memref.size = j->run_sealed;
		return TEE_ERROR_SHORT_BUFFER;
	}
	res = input_still_registered(s, j);
	if (res != TEE_SUCCESS) {
		SHIM_LOGE("XSORT_CHUNK: the input table is no longer registered");
		return res;
	}
	in_key = key_slots_get(&s->keys, j->in_slot, &res);
	if (!in_key)
		return res;

	first = j->next_chunk * j->blocks_per_chunk;
	end = first + j->blocks_per_chunk;
	if (end > j->in.block_count)
		end = j->in.block_count;
	recs_size = (size_t)j->run_rows * j->rec_size;
	pt_size = (size_t)j->in.rows_per_block * j->in.row_size;
	recs = TEE_Malloc(recs_size, TEE_MALLOC_NO_FILL);
	pt = TEE_Malloc(pt_size ? pt_size : 1, TEE_MALLOC_NO_FILL);
	if (!recs || !pt) {
		res = TEE_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	res = block_gcm_init(&dec, TEE_MODE_DECRYPT, in_key);
	if (res == TEE_SUCCESS)
		res = block_gcm_init(&enc, TEE_MODE_ENCRYPT, j->key);
	if (res == TEE_SUCCESS)
		res = chunk_encode(j, &dec, params[0].memref.buffer,
				   params[0].memref.buffer ?
					   params[0].memref.size : 0,
				   first, end, recs, pt, &n_real, &fail_index);
	if (res != TEE_SUCCESS)
		goto out;
	obl_sort_bitonic(recs, j->run_rows, j->rec_size, j->key_words);
	res = xsort_run_seal(j, &enc, recs, j->next_chunk, 0,
			     params[1].memref.buffer);
	if (res != TEE_SUCCESS)
		goto out;
	j->epoch[j->next_chunk] = 0;
	j->next_chunk++;
	if (j->next_chunk == j->runs)
		xsort_job_advance(j);
	params[1].memref.size = j->run_sealed;
	params[3].value.a = n_real;
	params[3].value.b = j->blocks_per_run;
out:
	block_gcm_free(&dec);
	block_gcm_free(&enc);
	cmd_free_wiped(&recs, recs_size);
	cmd_free_wiped(&pt, pt_size);
	cmd_report_block_error(res, fail_index, params, "XSORT_CHUNK");
	return res;
}

/* ------------------------------------------------------------- XSORT_EMIT */

/* Open every run block in order and copy the rows of the first row_count
 * records (the real ones: padding sorts last) into output blocks.
 * Leaks: sizes, which block fails.  Hides: rows, their order. */
static TEE_Result emit_rows(const struct xsort_job *j, struct block_gcm *dec,
			    struct block_gcm *enc, const uint8_t *buf,
			    size_t len, struct output_table *o, uint8_t *blk, uint8_t *rows,
			    TEE_Param params[SHIM_NUM_PARAMS])
{
	const size_t rec = j->rec_size, row = j->in.row_size;
	const size_t row_off = 8 * j->key_words;
	struct ts_block_header hdr;
	uint64_t pos = 0;
	uint32_t run, b, i, staged = 0;
	size_t off = 0;
	TEE_Result res;

	for (run = 0; run < j->runs; run++) {
		for (b = 0; b < j->blocks_per_run; b++) {
			uint32_t n = xsort_block_recs(j, b);

			params[3].value.a = b;
			params[3].value.b = run;
			res = block_gcm_read_header(buf + off, len - off, &hdr);
			if (res != TEE_SUCCESS)
				return res;
			if (TEE_MemCompare(hdr.table_id, j->job_id, 16) ||
			    hdr.table_version !=
				    run_version(j->epoch[run], run) ||
			    hdr.block_index != b ||
			    hdr.block_count != j->blocks_per_run ||
			    hdr.row_count != n || hdr.row_size != rec ||
			    TEE_MemCompare(hdr.schema_hash, j->in.schema_hash,
					   32))
				return TS_ERROR_BLOCK_SEQUENCE;
			res = block_gcm_open(dec, &hdr, buf + off, blk);
			if (res != TEE_SUCCESS)
				return res;
			off += TS_SEALED_BLOCK_SIZE((size_t)hdr.ciphertext_size);
			for (i = 0; i < n && pos < j->in.row_count; i++, pos++) {
				TEE_MemMove(rows + (size_t)staged * row,
					    blk + (size_t)i * rec + row_off, row);
				staged++;
				if (staged == j->out_rows_per_block ||
				    pos + 1 == j->in.row_count) {
					res = output_table_seal(o, enc, staged,
								rows);
					if (res != TEE_SUCCESS)
						return res;
					staged = 0;
				}
			}
		}
	}
	/* A table of zero rows has one empty block. */
	if (o->next < o->t.block_count)
		return output_table_seal(o, enc, 0, rows);
	return TEE_SUCCESS;
}

/* see cmd_external_sort.h */
TEE_Result cmd_xsort_emit(struct ta_session *s, uint32_t param_types,
			  TEE_Param params[SHIM_NUM_PARAMS])
{
	const uint32_t exp = TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
					     TEE_PARAM_TYPE_MEMREF_OUTPUT,
					     TEE_PARAM_TYPE_NONE,
					     TEE_PARAM_TYPE_VALUE_OUTPUT);
	struct block_gcm dec = { TEE_HANDLE_NULL }, enc = { TEE_HANDLE_NULL };
	struct ts_table_descriptor desc;
	struct output_table ot;
	struct xsort_job *j;
	const uint8_t *out_key;
	uint8_t *blk = NULL, *rows = NULL;
	size_t blk_size = 0, rows_size = 0;
	TEE_Result res;

	if (param_types != exp)
		return TEE_ERROR_BAD_PARAMETERS;
	params[3].value.a = 0;
	params[3].value.b = 0;
	j = xsort_job_get(s, XSORT_EMIT, "XSORT_EMIT");
	if (!j)
		return TEE_ERROR_BAD_STATE;
	if (!params[0].memref.buffer ||
	    params[0].memref.size != (size_t)j->runs * j->run_sealed) {
		SHIM_LOGE("XSORT_EMIT: %zu bytes of runs, expected %zu",
			  params[0].memref.size,
			  (size_t)j->runs * j->run_sealed);
		return TS_ERROR_BLOCK_SEQUENCE;
	}
	out_key = key_slots_get(&s->keys, j->out_slot, &res);
	if (!out_key)
		return res;
	output_table_init(&ot, j->out_table_id, j->out_table_version,
			  j->in.row_count, j->in.row_size, j->out_rows_per_block,
			  j->in.schema_hash);
	ot.t.in_use = 1;
	ot.t.slot_mask = 1u << j->out_slot;
	res = output_table_start(&ot, "XSORT_EMIT", TS_TABLE_DESCRIPTOR_SIZE,
				 &params[1]);
	if (res == TEE_ERROR_OVERFLOW)
		res = TS_ERROR_BAD_REQUEST;
	if (res != TEE_SUCCESS)
		return res;

	blk_size = (size_t)j->recs_per_block * j->rec_size;
	rows_size = (size_t)j->out_rows_per_block * j->in.row_size;
	blk = TEE_Malloc(blk_size, TEE_MALLOC_NO_FILL);
	rows = TEE_Malloc(rows_size ? rows_size : 1, TEE_MALLOC_NO_FILL);
	if (!blk || !rows) {
		res = TEE_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	res = block_gcm_init(&dec, TEE_MODE_DECRYPT, j->key);
	if (res == TEE_SUCCESS)
		res = block_gcm_init(&enc, TEE_MODE_ENCRYPT, out_key);
	if (res == TEE_SUCCESS)
		res = output_table_descriptor(&ot, key_slots_meta(&s->keys,
								  j->out_slot)->key_id,
					      out_key, &desc);
	if (res == TEE_SUCCESS)
		res = emit_rows(j, &dec, &enc, params[0].memref.buffer,
				params[0].memref.size, &ot,
				blk, rows, params);
	if (res != TEE_SUCCESS)
		goto out;
	TEE_MemMove(params[1].memref.buffer, &desc, sizeof(desc));
	table_registry_put(&s->tables, &ot.t);
	output_table_result(&ot, TS_TABLE_DESCRIPTOR_SIZE, params);
	/* The job is done: its key and state go. */
	xsort_session_close(s);
out:
	block_gcm_free(&dec);
	block_gcm_free(&enc);
	cmd_free_wiped(&blk, blk_size);
	cmd_free_wiped(&rows, rows_size);
	if (res != TEE_SUCCESS && cmd_is_block_error(res))
		SHIM_LOGE("XSORT_EMIT: run %u block %u: 0x%x",
			  params[3].value.b, params[3].value.a,
			  (unsigned int)res);
	else if (res != TEE_SUCCESS) {
		params[3].value.a = 0;
		params[3].value.b = 0;
	}
	return res;
}

/*
 * table_registry.c - the session's registered tables (see table_registry.h).
 * All data here is public: branches and lookups on it are fine.
 */
#include "table_registry.h"

void table_registry_init(struct table_registry *r)
{
	TEE_MemFill(r, 0, sizeof(*r));
}

/* see table_registry.h */
struct ta_table *table_registry_find(struct table_registry *r,
				     const uint8_t table_id[16])
{
	uint32_t i;

	for (i = 0; i < TS_MAX_TABLES; i++) {
		struct ta_table *t = &r->t[i];

		if (t->in_use && !TEE_MemCompare(t->table_id, table_id, 16)) {
			t->last_use = ++r->clock;
			return t;
		}
	}
	return NULL;
}

/* see table_registry.h */
void table_registry_put(struct table_registry *r, const struct ta_table *t)
{
	struct ta_table *slot = NULL;
	uint32_t i;

	for (i = 0; i < TS_MAX_TABLES && !slot; i++)
		if (r->t[i].in_use &&
		    !TEE_MemCompare(r->t[i].table_id, t->table_id, 16))
			slot = &r->t[i];
	for (i = 0; i < TS_MAX_TABLES && !slot; i++)
		if (!r->t[i].in_use)
			slot = &r->t[i];
	if (!slot) {
		slot = &r->t[0];
		for (i = 1; i < TS_MAX_TABLES; i++)
			if (r->t[i].last_use < slot->last_use)
				slot = &r->t[i];
		SHIM_LOGI("table registry full: evicting the least recently used table");
	}
	*slot = *t;
	slot->in_use = 1;
	slot->last_use = ++r->clock;
}

/* see table_registry.h */
void table_registry_forget_slot(struct table_registry *r, uint32_t slot)
{
	uint32_t i;

	if (slot >= 32)
		return;
	for (i = 0; i < TS_MAX_TABLES; i++) {
		r->t[i].slot_mask &= ~(1u << slot);
		if (r->t[i].in_use && !r->t[i].slot_mask)
			TEE_MemFill(&r->t[i], 0, sizeof(r->t[i]));
	}
}

/* see table_registry.h */
void table_from_descriptor(struct ta_table *t,
			   const struct ts_table_descriptor *d, uint32_t slot)
{
	TEE_MemFill(t, 0, sizeof(*t));
	t->in_use = 1;
	t->slot_mask = 1u << slot;
	TEE_MemMove(t->table_id, d->table_id, sizeof(t->table_id));
	t->table_version = d->table_version;
	t->row_count = d->row_count;
	t->block_count = d->block_count;
	t->row_size = d->row_size;
	t->rows_per_block = d->rows_per_block;
	TEE_MemMove(t->schema_hash, d->schema_hash, sizeof(t->schema_hash));
}

/* see table_registry.h */
void table_to_descriptor(const struct ta_table *t, const uint8_t key_id[16],
			 struct ts_table_descriptor *d)
{
	TEE_MemFill(d, 0, sizeof(*d));
	d->magic = TS_DESCRIPTOR_MAGIC;
	d->format_version = TS_FORMAT_VERSION;
	d->descriptor_size = TS_TABLE_DESCRIPTOR_SIZE;
	TEE_MemMove(d->table_id, t->table_id, sizeof(d->table_id));
	d->table_version = t->table_version;
	d->row_count = t->row_count;
	d->block_count = t->block_count;
	d->row_size = t->row_size;
	d->rows_per_block = t->rows_per_block;
	TEE_MemMove(d->schema_hash, t->schema_hash, sizeof(d->schema_hash));
	TEE_MemMove(d->key_id, key_id, sizeof(d->key_id));
}

/* see table_registry.h */
uint64_t table_block_count(uint64_t row_count, uint32_t rows_per_block)
{
	if (row_count == 0)
		return 1;
	return (row_count + rows_per_block - 1) / rows_per_block;
}

/* see table_registry.h */
uint32_t table_block_rows(const struct ta_table *t, uint32_t i)
{
	uint64_t before = (uint64_t)i * t->rows_per_block;

	if (before >= t->row_count)
		return 0;
	return t->row_count - before < t->rows_per_block ?
	       (uint32_t)(t->row_count - before) : t->rows_per_block;
}

/* see table_registry.h */
TEE_Result table_descriptor_check(const struct ts_table_descriptor *d)
{
	uint64_t full_rows;

	if (d->magic != TS_DESCRIPTOR_MAGIC ||
	    d->format_version != TS_FORMAT_VERSION ||
	    d->descriptor_size != TS_TABLE_DESCRIPTOR_SIZE || d->reserved)
		return TEE_ERROR_BAD_FORMAT;
	if (d->row_size == 0 || d->row_size > TS_MAX_ROW_SIZE ||
	    d->rows_per_block == 0)
		return TEE_ERROR_BAD_FORMAT;
	if (d->row_count > (uint64_t)UINT32_MAX * d->rows_per_block ||
	    table_block_count(d->row_count, d->rows_per_block) != d->block_count)
		return TEE_ERROR_BAD_FORMAT;
	full_rows = d->row_count < d->rows_per_block ? d->row_count :
						       d->rows_per_block;
	if (full_rows * d->row_size > TS_MAX_BLOCK_PLAINTEXT)
		return TEE_ERROR_BAD_FORMAT;
	return TEE_SUCCESS;
}

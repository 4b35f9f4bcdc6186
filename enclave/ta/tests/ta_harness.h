/*
 * ta_harness.h - run the teespark TA in-process for tests and benchmarks.
 *
 * The TA's objects are linked into the test program together with the
 * simulator's Internal Core API (libtee_internal_sim.a); the harness calls
 * the TA_* entry points directly, as the TA host does.
 */
#ifndef TEESPARK_TA_HARNESS_H
#define TEESPARK_TA_HARNESS_H

#include <string.h>
#include <tee_internal_api.h>

#include "ta_testlib.h"

/* ---- the TA, in-process ---- */

/* sim_internal_init with the TA's own properties, then TA_CreateEntryPoint. */
void th_init(void);
void *th_open_session(void);
void th_close_session(void *sess);
TEE_Result th_invoke(void *sess, uint32_t cmd, uint32_t param_types,
		     TEE_Param params[4]);

/* INSTALL_DEV_KEY. */
TEE_Result th_install_key(void *sess, uint32_t slot, const uint8_t key[32]);

/* REGISTER_TABLE with a descriptor. */
TEE_Result th_register(void *sess, const struct ts_table_descriptor *d,
		       uint32_t slot);

/* REGISTER_TABLE of table t (n_rows rows, rows_per_block per block) sealed
 * under key, with its descriptor built by th_descriptor. */
TEE_Result th_register_table(void *sess, const uint8_t key[32],
			     const struct th_table *t, uint32_t n_rows,
			     uint32_t rows_per_block, uint32_t slot);

/* Little-endian 64-bit load and store at any alignment (test rows). */
static inline uint64_t ld64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline void st64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

#endif /* TEESPARK_TA_HARNESS_H */

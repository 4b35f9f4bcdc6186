/* SPDX-License-Identifier: Apache-2.0 */
/*
 * teec_internal.h - state shared by the parts of the simulator's libteec.
 *
 * Locking:
 *  - sim_lock (global) guards the session table, every session's shm
 *    bookkeeping (mapped / unmap lists), cur_op and call_seq, and the
 *    pre-start cancellation list.  It is only held for short, non-blocking
 *    sections, so TEEC_RequestCancellation and TEEC_ReleaseSharedMemory
 *    never wait for a TA call.
 *  - session->call_lock serialises calls on one session (GP: a TA instance
 *    is never entered by two threads at once) and guards the rest of the
 *    session, including the temp-memref arena.  It is held across the
 *    round trip to the TA host.
 */
#ifndef TEEC_INTERNAL_H
#define TEEC_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <tee_client_api.h>

#include "sim_proto.h"

struct sim_session {
	pthread_mutex_t call_lock;
	uint32_t id;			/* index + 1 in the session table */
	pid_t owner;			/* process that opened it (fork check) */
	int sock;			/* -1 once closed */
	pid_t pid;			/* TA host, 0 once reaped */
	bool dead;
	char tag[16];			/* "[ta 6aa0af66]" for log lines */
	struct sim_ctrl *ctrl;		/* shared control page */

	/* Guarded by sim_lock. */
	uint64_t call_seq;
	TEEC_Operation *cur_op;
	uint64_t *mapped;		/* shm ids the TA host has mapped */
	size_t n_mapped, cap_mapped;
	uint64_t *unmap;		/* ids to unmap with the next request */
	size_t n_unmap, cap_unmap;

	/* Temp-memref arena, guarded by call_lock. */
	int arena_fd;
	uint8_t *arena;
	size_t arena_len;
	uint64_t arena_id;
};

/* Stored in TEEC_Context.imp.fd while the context is initialised (the
 * simulator has no device fd; the value is never used as one). */
#define SIM_CTX_MAGIC 0x7ee5c7c0

extern pthread_mutex_t sim_lock;

/* Allocates a process-unique shared-memory id (never 0, never reused). */
uint64_t sim_next_shm_id(void);

/* Creates a sealed-size memfd of len bytes mapped MAP_SHARED read/write. */
int sim_memfd_map(size_t len, const char *name, int *fd_out, void **addr_out);

/* Session table (sim_lock held by the caller for the _locked variants). */
struct sim_session *sim_session_lookup_locked(uint32_t id);
struct sim_session *sim_session_from(TEEC_Session *session);

/* Under sim_lock: forget shm id in every session, queue it for unmap. */
void sim_sessions_forget_shm_locked(uint64_t id);

/* Queues an shm id for unmapping in one session (sim_lock held). */
bool sim_session_queue_unmap_locked(struct sim_session *s, uint64_t id);

/* Is id mapped in the session's TA host? Mark it so (sim_lock held). */
bool sim_session_is_mapped_locked(const struct sim_session *s, uint64_t id);
bool sim_session_mark_mapped_locked(struct sim_session *s, uint64_t id);

/*
 * One round trip: sends req (+ fds) and waits for the response.  On a dead
 * TA host returns TEEC_ERROR_TARGET_DEAD / TEEC_ORIGIN_TEE, marks the
 * session dead and reaps the process.  call_lock held.
 */
TEEC_Result sim_session_call(struct sim_session *s, struct sim_req *req,
			     const int *fds, unsigned int nfds,
			     struct sim_rsp *rsp, uint32_t *origin);

/* Marks the session dead, kills (if needed) and reaps its TA host. */
void sim_session_kill(struct sim_session *s, bool force);

/* Pre-start cancellation list (sim_lock held). */
bool sim_take_precancel_locked(TEEC_Operation *op);

/* Operation marshalling (teec_invoke.c). */
TEEC_Result sim_check_operation(const TEEC_Operation *op);
TEEC_Result sim_do_call(struct sim_session *s, uint32_t sim_op, uint32_t cmd,
			uint32_t login, TEEC_Operation *op,
			TEEC_Session *handle, uint32_t *origin);

/* "teespark-sim: " + message on stderr. */
void sim_client_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Directory holding libteec.so (no trailing slash). */
const char *sim_lib_dir(void);

#endif /* TEEC_INTERNAL_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim_proto.h - the wire protocol between the simulator's libteec.so (client)
 * and teespark-ta-host (one process per session, one TA instance each).
 *
 * Transport: a SOCK_SEQPACKET socketpair, one request and one response
 * message per call, memfds passed with SCM_RIGHTS.  Both ends are built from
 * the same tree, so the structs are native-endian and unversioned beyond the
 * magic.
 *
 * Shared memory: every memref is (shm_id, offset, size) into a memfd that the
 * client created.  The first request that uses an shm_id carries its fd in a
 * `newmap` entry; the TA host maps it MAP_SHARED and keeps the mapping until
 * a later request lists the id in `unmap` (sent after
 * TEEC_ReleaseSharedMemory) or the session ends.  Temporary memrefs live in a
 * per-session memfd "arena" that is reused from call to call.
 *
 * Control page: a one-page memfd, mapped by both sides for the whole session,
 * carrying cancellation state so TEEC_RequestCancellation needs no message
 * (the TA host's only thread that reads the socket may be busy in the TA).
 *
 * Process layout at exec of the TA host: fd SIM_HOST_SOCK_FD is the socket,
 * fd SIM_HOST_CTRL_FD the control page, argv[1] the TA .so path; the host
 * closes every other inherited fd.
 */
#ifndef SIM_PROTO_H
#define SIM_PROTO_H

#include <stdint.h>

#define SIM_HOST_SOCK_FD 3
#define SIM_HOST_CTRL_FD 4

#define SIM_PROTO_MAGIC_REQ 0x54535051u	/* "TSPQ" */
#define SIM_PROTO_MAGIC_RSP 0x54535052u	/* "TSPR" */

enum sim_op {
	SIM_OP_OPEN = 1,	/* TA_CreateEntryPoint + TA_OpenSessionEntryPoint */
	SIM_OP_INVOKE = 2,	/* TA_InvokeCommandEntryPoint */
	SIM_OP_CLOSE = 3,	/* TA_CloseSessionEntryPoint + TA_DestroyEntryPoint */
};

#define SIM_NUM_PARAMS 4
/* At most one fd per parameter plus the temp-memref arena. */
#define SIM_MAX_NEWMAP (SIM_NUM_PARAMS + 1)
#define SIM_MAX_UNMAP 64

/* shm_id 0 with size 0 is a NULL memref (GP TEE_MEMREF_NULL). */
struct sim_wire_param {
	uint64_t shm_id;
	uint64_t offset;
	uint64_t size;
	uint32_t a;
	uint32_t b;
};

struct sim_wire_newmap {
	uint64_t shm_id;
	uint64_t len;		/* bytes to map; fds follow in the same order */
};

struct sim_req {
	uint32_t magic;
	uint32_t op;		/* enum sim_op */
	uint32_t cmd;		/* command id for SIM_OP_INVOKE */
	uint32_t param_types;	/* TEE_PARAM_TYPES as the TA sees them */
	uint32_t login;		/* connection method for SIM_OP_OPEN */
	uint32_t n_newmap;
	uint32_t n_unmap;
	uint32_t reserved;
	struct sim_wire_param params[SIM_NUM_PARAMS];
	struct sim_wire_newmap newmap[SIM_MAX_NEWMAP];
	uint64_t unmap[SIM_MAX_UNMAP];
};

struct sim_rsp {
	uint32_t magic;
	uint32_t result;	/* TEE_Result */
	uint32_t origin;	/* TEEC_ORIGIN_* */
	uint32_t reserved;
	struct sim_wire_param params[SIM_NUM_PARAMS];	/* size, a, b valid */
};

/*
 * Cancellation: the client numbers its calls; before sending call N it sets
 * call_seq = N.  TEEC_RequestCancellation of call N stores cancel_seq = N.
 * The TA sees its cancellation flag set iff cancel_seq == call_seq != 0 (and
 * cancellation is unmasked), so a stale request never hits a later call.
 * panic_code is written by the TA host before it exits in TEE_Panic (for the
 * client's log line only).
 */
struct sim_ctrl {
	uint64_t call_seq;	/* accessed with __atomic builtins */
	uint64_t cancel_seq;
	uint32_t panicked;
	uint32_t panic_code;
};

#define SIM_CTRL_SIZE 4096

/* Exit status of a TA host that died in TEE_Panic. */
#define SIM_EXIT_PANIC 70

#endif /* SIM_PROTO_H */

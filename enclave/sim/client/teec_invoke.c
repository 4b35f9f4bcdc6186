/* SPDX-License-Identifier: Apache-2.0 */
/*
 * teec_invoke.c - parameter marshalling and TEEC_InvokeCommand of the
 * simulator's libteec.
 *
 * GP / OP-TEE rules implemented here:
 *  - operation == NULL means four TEEC_NONE parameters;
 *  - TEEC_MEMREF_TEMP_*: NULL buffer with size 0 is a NULL memref, NULL with
 *    size > 0 is TEEC_ERROR_BAD_PARAMETERS; the bytes travel through a
 *    per-session memfd arena (copied in for INPUT/INOUT, out for
 *    OUTPUT/INOUT) and tmpref.size is overwritten with the size the TA
 *    reports, also on TEEC_ERROR_SHORT_BUFFER (then nothing is copied);
 *  - TEEC_MEMREF_WHOLE: direction from parent->flags; memref.size is
 *    written back only if parent->flags has TEEC_MEM_OUTPUT;
 *  - TEEC_MEMREF_PARTIAL_*: the parent must have the matching flag(s) and
 *    offset + size must lie inside it; size written back for OUTPUT/INOUT;
 *  - values are copied back for VALUE_OUTPUT / VALUE_INOUT only;
 *  - marshalling errors have origin TEEC_ORIGIN_API, channel failures
 *    TEEC_ORIGIN_COMMS, a dead TA TEEC_ERROR_TARGET_DEAD / TEEC_ORIGIN_TEE,
 *    everything else is what the TA returned (TEEC_ORIGIN_TRUSTED_APP).
 * Outputs are copied back whatever the TA's result, as OP-TEE does whenever
 * the call reached the TA.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "teec_internal.h"

/* Arena sizes: grown in 64 KiB steps, dropped after a call if above 16 MiB
 * so one huge temp memref does not pin memory for the session's life. */
#define SIM_ARENA_STEP (64u * 1024)
#define SIM_ARENA_KEEP (16u * 1024 * 1024)
#define SIM_ARENA_ALIGN 64

struct sim_slot {
	uint32_t type;		/* TEEC type */
	uint8_t *shadow;	/* where the TA's bytes are, NULL if shared */
	size_t offset;		/* into parent / arena */
	size_t size;		/* size sent */
};

struct sim_fds {
	int fds[SIM_MAX_NEWMAP];
	uint64_t ids[SIM_MAX_NEWMAP];
	unsigned int n;
};

static bool sim_is_temp(uint32_t t)
{
	return t == TEEC_MEMREF_TEMP_INPUT || t == TEEC_MEMREF_TEMP_OUTPUT ||
	       t == TEEC_MEMREF_TEMP_INOUT;
}

static bool sim_is_partial(uint32_t t)
{
	return t == TEEC_MEMREF_PARTIAL_INPUT ||
	       t == TEEC_MEMREF_PARTIAL_OUTPUT ||
	       t == TEEC_MEMREF_PARTIAL_INOUT;
}

static bool sim_shm_valid(const TEEC_SharedMemory *shm)
{
	return shm && shm->imp.id > 0 && shm->imp.registered_fd >= 0 &&
	       shm->imp.alloced_size > 0;
}

TEEC_Result sim_check_operation(const TEEC_Operation *op)
{
	unsigned int i;

	if (!op)
		return TEEC_SUCCESS;
	for (i = 0; i < TEEC_CONFIG_PAYLOAD_REF_COUNT; i++) {
		uint32_t t = TEEC_PARAM_TYPE_GET(op->paramTypes, i);
		const TEEC_Parameter *p = &op->params[i];
		const TEEC_SharedMemory *par;
		uint32_t need;

		switch (t) {
		case TEEC_NONE:
		case TEEC_VALUE_INPUT:
		case TEEC_VALUE_OUTPUT:
		case TEEC_VALUE_INOUT:
			break;
		case TEEC_MEMREF_TEMP_INPUT:
		case TEEC_MEMREF_TEMP_OUTPUT:
		case TEEC_MEMREF_TEMP_INOUT:
			if (!p->tmpref.buffer && p->tmpref.size)
				return TEEC_ERROR_BAD_PARAMETERS;
			break;
		case TEEC_MEMREF_WHOLE:
			if (!sim_shm_valid(p->memref.parent))
				return TEEC_ERROR_BAD_PARAMETERS;
			if (p->memref.parent->size >
			    p->memref.parent->imp.alloced_size)
				return TEEC_ERROR_BAD_PARAMETERS;
			break;
		case TEEC_MEMREF_PARTIAL_INPUT:
		case TEEC_MEMREF_PARTIAL_OUTPUT:
		case TEEC_MEMREF_PARTIAL_INOUT:
			par = p->memref.parent;
			if (!sim_shm_valid(par))
				return TEEC_ERROR_BAD_PARAMETERS;
			/* PARTIAL_X - 0xC = TEEC_MEM_INPUT/OUTPUT bits. */
			need = t - TEEC_MEMREF_WHOLE;
			if ((par->flags & need) != need)
				return TEEC_ERROR_BAD_PARAMETERS;
			if (p->memref.offset > par->size ||
			    p->memref.size > par->size - p->memref.offset ||
			    par->size > par->imp.alloced_size)
				return TEEC_ERROR_BAD_PARAMETERS;
			break;
		default:
			return TEEC_ERROR_BAD_PARAMETERS;
		}
	}
	return TEEC_SUCCESS;
}

/* Queues fd for the TA host unless it already has the block (sim_lock not
 * held; takes it). */
static void sim_need_fd(struct sim_session *s, struct sim_fds *f,
			uint64_t id, int fd)
{
	unsigned int i;
	bool mapped;

	for (i = 0; i < f->n; i++)
		if (f->ids[i] == id)
			return;
	pthread_mutex_lock(&sim_lock);
	mapped = sim_session_is_mapped_locked(s, id);
	pthread_mutex_unlock(&sim_lock);
	if (mapped)
		return;
	f->ids[f->n] = id;
	f->fds[f->n] = fd;
	f->n++;
}

static void sim_arena_drop(struct sim_session *s)
{
	if (!s->arena)
		return;
	pthread_mutex_lock(&sim_lock);
	sim_session_queue_unmap_locked(s, s->arena_id);
	pthread_mutex_unlock(&sim_lock);
	munmap(s->arena, s->arena_len);
	close(s->arena_fd);
	s->arena = NULL;
	s->arena_fd = -1;
	s->arena_len = 0;
	s->arena_id = 0;
}

static TEEC_Result sim_arena_reserve(struct sim_session *s, size_t need)
{
	size_t len;
	void *addr;
	int fd;

	if (need <= s->arena_len)
		return TEEC_SUCCESS;
	sim_arena_drop(s);
	if (need > SIZE_MAX - SIM_ARENA_STEP)
		return TEEC_ERROR_OUT_OF_MEMORY;
	len = (need + SIM_ARENA_STEP - 1) / SIM_ARENA_STEP * SIM_ARENA_STEP;
	if (sim_memfd_map(len, "teespark-tmpref", &fd, &addr) < 0)
		return TEEC_ERROR_OUT_OF_MEMORY;
	s->arena = addr;
	s->arena_fd = fd;
	s->arena_len = len;
	s->arena_id = sim_next_shm_id();
	return TEEC_SUCCESS;
}

/* Lays out temp memrefs in the arena; returns API errors. */
static TEEC_Result sim_layout_temps(struct sim_session *s,
				    const TEEC_Operation *op,
				    struct sim_slot *slots)
{
	size_t need = 0;
	unsigned int i;

	for (i = 0; i < TEEC_CONFIG_PAYLOAD_REF_COUNT; i++) {
		const TEEC_TempMemoryReference *r = &op->params[i].tmpref;
		size_t off;

		if (!sim_is_temp(slots[i].type) || !r->buffer)
			continue;
		off = (need + SIM_ARENA_ALIGN - 1) & ~(size_t)(SIM_ARENA_ALIGN - 1);
		if (r->size > SIZE_MAX - off - 1)
			return TEEC_ERROR_OUT_OF_MEMORY;
		slots[i].offset = off;
		need = off + (r->size ? r->size : 1);
	}
	return need ? sim_arena_reserve(s, need) : TEEC_SUCCESS;
}

/* Fills req->params / param_types and copies inputs into shadows. */
static TEEC_Result sim_marshal(struct sim_session *s, TEEC_Operation *op,
			       struct sim_req *req, struct sim_slot *slots,
			       struct sim_fds *f)
{
	uint32_t tee_types = 0;
	unsigned int i;
	TEEC_Result res;

	memset(slots, 0, sizeof(*slots) * TEEC_CONFIG_PAYLOAD_REF_COUNT);
	if (!op)
		return TEEC_SUCCESS;
	for (i = 0; i < TEEC_CONFIG_PAYLOAD_REF_COUNT; i++)
		slots[i].type = TEEC_PARAM_TYPE_GET(op->paramTypes, i);
	res = sim_layout_temps(s, op, slots);
	if (res != TEEC_SUCCESS)
		return res;

	for (i = 0; i < TEEC_CONFIG_PAYLOAD_REF_COUNT; i++) {
		struct sim_slot *sl = &slots[i];
		struct sim_wire_param *w = &req->params[i];
		TEEC_Parameter *p = &op->params[i];
		TEEC_SharedMemory *par = p->memref.parent;
		uint32_t tt = sl->type;
		bool in;

		switch (sl->type) {
		case TEEC_NONE:
			break;
		case TEEC_VALUE_INPUT:
		case TEEC_VALUE_INOUT:
			w->a = p->value.a;
			w->b = p->value.b;
			break;
		case TEEC_VALUE_OUTPUT:
			break;
		case TEEC_MEMREF_TEMP_INPUT:
		case TEEC_MEMREF_TEMP_OUTPUT:
		case TEEC_MEMREF_TEMP_INOUT:
			sl->size = p->tmpref.size;
			if (!p->tmpref.buffer)
				break;	/* NULL memref */
			sl->shadow = s->arena;
			w->shm_id = s->arena_id;
			w->offset = sl->offset;
			w->size = sl->size;
			if (sl->type != TEEC_MEMREF_TEMP_OUTPUT)
				memcpy(s->arena + sl->offset, p->tmpref.buffer,
				       sl->size);
			sim_need_fd(s, f, s->arena_id, s->arena_fd);
			break;
		case TEEC_MEMREF_WHOLE:
		case TEEC_MEMREF_PARTIAL_INPUT:
		case TEEC_MEMREF_PARTIAL_OUTPUT:
		case TEEC_MEMREF_PARTIAL_INOUT:
			if (sl->type == TEEC_MEMREF_WHOLE) {
				sl->offset = 0;
				sl->size = par->size;
				/* MEMREF_INPUT/OUTPUT/INOUT = 4 + flags. */
				tt = TEEC_MEMREF_TEMP_INPUT - 1 +
				     (par->flags & 3u);
			} else {
				sl->offset = p->memref.offset;
				sl->size = p->memref.size;
				tt = sl->type - 8;
			}
			in = tt != TEEC_MEMREF_TEMP_OUTPUT;
			sl->shadow = par->imp.shadow_buffer;
			if (sl->shadow && in)
				memcpy(sl->shadow + sl->offset,
				       (uint8_t *)par->buffer + sl->offset,
				       sl->size);
			w->shm_id = (uint64_t)par->imp.id;
			w->offset = sl->offset;
			w->size = sl->size;
			sim_need_fd(s, f, (uint64_t)par->imp.id,
				    par->imp.registered_fd);
			break;
		}
		tee_types |= tt << (4 * i);
	}
	/* Every TEEC temp type equals its TEE memref type (5/6/7). */
	req->param_types = tee_types;
	for (i = 0; i < f->n; i++) {
		uint64_t id = f->ids[i];

		req->newmap[i].shm_id = id;
		req->newmap[i].len = id == s->arena_id ? s->arena_len : 0;
	}
	return TEEC_SUCCESS;
}

/* Lengths of the fds being sent (parents' alloced sizes). */
static void sim_fill_newmap_lens(struct sim_req *req, TEEC_Operation *op,
				 const struct sim_fds *f)
{
	unsigned int i, k;

	for (i = 0; i < f->n; i++) {
		if (req->newmap[i].len)
			continue;
		for (k = 0; op && k < TEEC_CONFIG_PAYLOAD_REF_COUNT; k++) {
			uint32_t t = TEEC_PARAM_TYPE_GET(op->paramTypes, k);
			TEEC_SharedMemory *par = op->params[k].memref.parent;

			if ((t == TEEC_MEMREF_WHOLE || sim_is_partial(t)) &&
			    (uint64_t)par->imp.id == f->ids[i]) {
				req->newmap[i].len = par->imp.alloced_size;
				break;
			}
		}
	}
}

static void sim_unmarshal(TEEC_Operation *op, const struct sim_slot *slots,
			  const struct sim_rsp *rsp)
{
	unsigned int i;

	if (!op)
		return;
	for (i = 0; i < TEEC_CONFIG_PAYLOAD_REF_COUNT; i++) {
		const struct sim_slot *sl = &slots[i];
		const struct sim_wire_param *w = &rsp->params[i];
		TEEC_Parameter *p = &op->params[i];
		TEEC_SharedMemory *par = p->memref.parent;
		size_t n = w->size > SIZE_MAX ? SIZE_MAX : (size_t)w->size;
		bool fits = n <= sl->size;

		switch (sl->type) {
		case TEEC_VALUE_OUTPUT:
		case TEEC_VALUE_INOUT:
			p->value.a = w->a;
			p->value.b = w->b;
			break;
		case TEEC_MEMREF_TEMP_OUTPUT:
		case TEEC_MEMREF_TEMP_INOUT:
			if (p->tmpref.buffer && fits)
				memcpy(p->tmpref.buffer,
				       sl->shadow + sl->offset, n);
			p->tmpref.size = n;
			break;
		case TEEC_MEMREF_WHOLE:
			if (!(par->flags & TEEC_MEM_OUTPUT))
				break;
			if (sl->shadow && fits)
				memcpy(par->buffer, sl->shadow, n);
			p->memref.size = n;
			break;
		case TEEC_MEMREF_PARTIAL_OUTPUT:
		case TEEC_MEMREF_PARTIAL_INOUT:
			if (sl->shadow && fits)
				memcpy((uint8_t *)par->buffer + sl->offset,
				       sl->shadow + sl->offset, n);
			p->memref.size = n;
			break;
		default:
			break;
		}
	}
}

TEEC_Result sim_do_call(struct sim_session *s, uint32_t sim_op, uint32_t cmd,
			uint32_t login, TEEC_Operation *op,
			TEEC_Session *handle, uint32_t *origin)
{
	struct sim_slot slots[TEEC_CONFIG_PAYLOAD_REF_COUNT];
	struct sim_fds f = { .n = 0 };
	struct sim_req req;
	struct sim_rsp rsp;
	TEEC_Result res;
	bool cancelled;
	unsigned int i;

	if (s->dead || s->sock < 0 || s->owner != getpid()) {
		*origin = TEEC_ORIGIN_TEE;
		return TEEC_ERROR_TARGET_DEAD;
	}
	memset(&req, 0, sizeof(req));
	req.op = sim_op;
	req.cmd = cmd;
	req.login = login;
	res = sim_marshal(s, op, &req, slots, &f);
	if (res != TEEC_SUCCESS) {
		*origin = TEEC_ORIGIN_API;
		return res;
	}
	sim_fill_newmap_lens(&req, op, &f);
	req.n_newmap = f.n;

	pthread_mutex_lock(&sim_lock);
	cancelled = op && sim_take_precancel_locked(op) &&
		    __atomic_load_n(&op->started, __ATOMIC_ACQUIRE) == 0;
	if (!cancelled) {
		while (req.n_unmap < SIM_MAX_UNMAP && s->n_unmap)
			req.unmap[req.n_unmap++] = s->unmap[--s->n_unmap];
		s->call_seq++;
		__atomic_store_n(&s->ctrl->call_seq, s->call_seq,
				 __ATOMIC_RELEASE);
		if (op) {
			s->cur_op = op;
			__atomic_store_n(&op->imp.session, handle,
					 __ATOMIC_RELEASE);
			__atomic_store_n(&op->started, 1, __ATOMIC_RELEASE);
		}
	}
	pthread_mutex_unlock(&sim_lock);
	if (cancelled) {
		*origin = TEEC_ORIGIN_COMMS;
		return TEEC_ERROR_CANCEL;
	}

	res = sim_session_call(s, &req, f.fds, f.n, &rsp, origin);

	pthread_mutex_lock(&sim_lock);
	s->cur_op = NULL;
	if (!s->dead)
		for (i = 0; i < f.n; i++)
			sim_session_mark_mapped_locked(s, f.ids[i]);
	pthread_mutex_unlock(&sim_lock);

	if (!s->dead)
		sim_unmarshal(op, slots, &rsp);
	if (s->arena_len > SIM_ARENA_KEEP)
		sim_arena_drop(s);
	return res;
}

TEEC_Result TEEC_InvokeCommand(TEEC_Session *session, uint32_t commandID,
			       TEEC_Operation *operation,
			       uint32_t *returnOrigin)
{
	struct sim_session *s = sim_session_from(session);
	uint32_t origin = TEEC_ORIGIN_API;
	TEEC_Result res;

	if (!s) {
		res = TEEC_ERROR_BAD_PARAMETERS;
		goto out;
	}
	res = sim_check_operation(operation);
	if (res != TEEC_SUCCESS)
		goto out;
	if (s->owner != getpid()) {
		origin = TEEC_ORIGIN_TEE;
		res = TEEC_ERROR_TARGET_DEAD;
		goto out;
	}
	pthread_mutex_lock(&s->call_lock);
	res = sim_do_call(s, SIM_OP_INVOKE, commandID, 0, operation, session,
			  &origin);
	pthread_mutex_unlock(&s->call_lock);
out:
	if (returnOrigin)
		*returnOrigin = origin;
	return res;
}

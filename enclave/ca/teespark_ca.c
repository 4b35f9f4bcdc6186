/* SPDX-License-Identifier: Apache-2.0 */
/*
 * teespark_ca.c - the stable C ABI of teespark_ca.h over the GlobalPlatform
 * TEE Client API.
 *
 * One source for three backends, selected at compile time:
 *   (default)               the host simulator's libteec (OP-TEE layout)
 *   -DTSCA_BACKEND_OPTEE    OP-TEE's libteec (optee_client)
 *   -DTSCA_BACKEND_ITRUSTEE Huawei iTrustee's libteec (itrustee_client)
 * The differences are the login method, context.ta_path and the width of
 * memref sizes (size_t vs uint32_t); see the reference notes on portability
 * (gp-tee-api.md section 10.3). Only the GP function and member names used
 * below are common to both TEEs' headers, so the file compiles against either.
 */
#include "teespark_ca.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tee_client_api.h>

#if defined(TSCA_BACKEND_ITRUSTEE) && defined(TSCA_BACKEND_OPTEE)
#error "choose one of TSCA_BACKEND_ITRUSTEE and TSCA_BACKEND_OPTEE"
#endif

#if defined(TSCA_BACKEND_ITRUSTEE)
#define TSCA_BACKEND_NAME "itrustee"
/* iTrustee accepts only TEEC_LOGIN_IDENTIFY with NULL connection data;
 * the kernel derives the CA identity (whitelisted path + user). */
#define TSCA_LOGIN TEEC_LOGIN_IDENTIFY
/* iTrustee's memref sizes and offsets are uint32_t. */
#define TSCA_MEMREF_SIZE_MAX UINT32_MAX
#elif defined(TSCA_BACKEND_OPTEE)
#define TSCA_BACKEND_NAME "optee"
#define TSCA_LOGIN TEEC_LOGIN_PUBLIC
#define TSCA_MEMREF_SIZE_MAX SIZE_MAX
#else
#define TSCA_BACKEND_NAME "sim"
#define TSCA_LOGIN TEEC_LOGIN_PUBLIC
#define TSCA_MEMREF_SIZE_MAX SIZE_MAX
#endif

#define ORIGIN_API 1u

struct tsca_session {
	TEEC_Session sess;
	TEEC_Context *ctx;
	pid_t pid;              /* process that opened it (fork check) */
	uint32_t dead;          /* TARGET_DEAD seen; atomic access */
	uint8_t uuid[16];
	pthread_mutex_t call_lock;  /* serializes calls on the session */
	pthread_mutex_t op_lock;    /* guards cur_op against cancellation */
	TEEC_Operation *cur_op;     /* call in progress, or NULL */
};

struct tsca_shm {
	TEEC_SharedMemory shm;
	pid_t pid;
	uint64_t size;
	uint32_t flags;         /* TSCA_SHM_* */
};

/* ---------------------------------------------------------------------- */
/* Error reports                                                           */
/* ---------------------------------------------------------------------- */

static const char *origin_name(uint32_t origin)
{
	switch (origin) {
	case TEEC_ORIGIN_API:
		return "API";
	case TEEC_ORIGIN_COMMS:
		return "COMMS";
	case TEEC_ORIGIN_TEE:
		return "TEE";
	case TEEC_ORIGIN_TRUSTED_APP:
		return "TRUSTED_APP";
	default:
		return "unknown";
	}
}

static void err_clear(tsca_error *err)
{
	if (err) {
		err->code = 0;
		err->origin = 0;
		err->message[0] = '\0';
	}
}

__attribute__((format(printf, 4, 5)))
static uint32_t err_set(tsca_error *err, uint32_t code, uint32_t origin,
			const char *fmt, ...)
{
	if (err) {
		va_list ap;

		err->code = code;
		err->origin = origin;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return code;
}

static void uuid_to_str(const uint8_t u[16], char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* ---------------------------------------------------------------------- */
/* The process's TEE context                                               */
/* ---------------------------------------------------------------------- */

/*
 * One TEEC_Context per process, created on first use. After fork() the
 * child must not use the parent's context (its connection to the TEE is
 * shared with the parent), so a pid change makes the next caller create a
 * new one. The parent's context is deliberately not finalized in the child:
 * that could tear down state the parent still uses. Its memory is leaked.
 */
static pthread_mutex_t g_ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static TEEC_Context *g_ctx;
static pid_t g_ctx_pid;

static void atfork_prepare(void)
{
	pthread_mutex_lock(&g_ctx_lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&g_ctx_lock);
}

static void atfork_child(void)
{
	pthread_mutex_unlock(&g_ctx_lock);
}

/* Makes fork() wait for g_ctx_lock so a child never inherits it locked. */
__attribute__((constructor))
static void tsca_init(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static uint32_t get_context(TEEC_Context **out, tsca_error *err)
{
	TEEC_Result res = TEEC_SUCCESS;
	pid_t pid = getpid();

	pthread_mutex_lock(&g_ctx_lock);
	if (!g_ctx || g_ctx_pid != pid) {
		TEEC_Context *ctx = calloc(1, sizeof(*ctx));

		if (!ctx) {
			res = err_set(err, TEEC_ERROR_OUT_OF_MEMORY,
				      ORIGIN_API,
				      "TEEC_InitializeContext: out of memory");
			goto out;
		}
		res = TEEC_InitializeContext(NULL, ctx);
		if (res != TEEC_SUCCESS) {
			free(ctx);
			err_set(err, res, TEEC_ORIGIN_API,
				"TEEC_InitializeContext failed 0x%08x "
				"(no TEE device or simulator)", (unsigned)res);
			goto out;
		}
		g_ctx = ctx;
		g_ctx_pid = pid;
	}
	*out = g_ctx;
out:
	pthread_mutex_unlock(&g_ctx_lock);
	return res;
}

#if defined(TSCA_BACKEND_ITRUSTEE)
/*
 * iTrustee loads the TA from context.ta_path if it is set, else from
 * /var/itrustee/ta/<uuid>.sec. TEESPARK_ITRUSTEE_TA_DIR selects another
 * directory. ta_path is a member of the shared context, so it is set and
 * used under g_open_lock.
 */
static pthread_mutex_t g_open_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_ta_path[4096];

static void itrustee_set_ta_path(TEEC_Context *ctx, const uint8_t uuid[16])
{
	const char *dir = getenv("TEESPARK_ITRUSTEE_TA_DIR");
	char ustr[37];

	if (!dir || !*dir) {
		ctx->ta_path = NULL;
		return;
	}
	uuid_to_str(uuid, ustr);
	snprintf(g_ta_path, sizeof(g_ta_path), "%s/%s.sec", dir, ustr);
	ctx->ta_path = (uint8_t *)g_ta_path;
}
#endif

/* ---------------------------------------------------------------------- */
/* Sessions                                                                */
/* ---------------------------------------------------------------------- */

uint32_t tsca_abi_version(void)
{
	return TSCA_ABI_VERSION;
}

uint32_t tsca_sizeof_param(void)
{
	return (uint32_t)sizeof(tsca_param);
}

uint32_t tsca_sizeof_error(void)
{
	return (uint32_t)sizeof(tsca_error);
}

const char *tsca_backend(void)
{
	return TSCA_BACKEND_NAME;
}

uint32_t tsca_open(const uint8_t uuid[16], tsca_session **out,
		   tsca_error *err)
{
	TEEC_Operation op;
	TEEC_UUID tu;
	TEEC_Context *ctx;
	tsca_session *s;
	uint32_t origin = TEEC_ORIGIN_API;
	TEEC_Result res;
	char ustr[37];

	err_clear(err);
	if (!uuid || !out)
		return err_set(err, TEEC_ERROR_BAD_PARAMETERS, ORIGIN_API,
			       "tsca_open: NULL uuid or out");
	*out = NULL;
	res = get_context(&ctx, err);
	if (res != TEEC_SUCCESS)
		return res;

	s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(err, TEEC_ERROR_OUT_OF_MEMORY, ORIGIN_API,
			       "tsca_open: out of memory");
	memcpy(s->uuid, uuid, 16);
	s->ctx = ctx;
	s->pid = getpid();
	pthread_mutex_init(&s->call_lock, NULL);
	pthread_mutex_init(&s->op_lock, NULL);

	/* TEEC_UUID fields are the big-endian groups of the string form. */
	tu.timeLow = (uint32_t)uuid[0] << 24 | (uint32_t)uuid[1] << 16 |
		     (uint32_t)uuid[2] << 8 | uuid[3];
	tu.timeMid = (uint16_t)(uuid[4] << 8 | uuid[5]);
	tu.timeHiAndVersion = (uint16_t)(uuid[6] << 8 | uuid[7]);
	memcpy(tu.clockSeqAndNode, uuid + 8, 8);

	/*
	 * No open-session parameters: iTrustee reserves params 2 and 3 for the
	 * CA identity, and all real work goes through InvokeCommand anyway.
	 * started = 1 always: iTrustee rejects 0 as "cancellation not
	 * supported"; OP-TEE and the simulator ignore it here.
	 */
	memset(&op, 0, sizeof(op));
	op.started = 1;
	op.paramTypes = TEEC_PARAM_TYPES(TEEC_NONE, TEEC_NONE, TEEC_NONE,
					 TEEC_NONE);
#if defined(TSCA_BACKEND_ITRUSTEE)
	pthread_mutex_lock(&g_open_lock);
	itrustee_set_ta_path(ctx, uuid);
#endif
	res = TEEC_OpenSession(ctx, &s->sess, &tu, TSCA_LOGIN, NULL, &op,
			       &origin);
#if defined(TSCA_BACKEND_ITRUSTEE)
	ctx->ta_path = NULL;
	pthread_mutex_unlock(&g_open_lock);
#endif
	if (res != TEEC_SUCCESS) {
		uuid_to_str(uuid, ustr);
		err_set(err, res, origin,
			"TEEC_OpenSession(%s) failed 0x%08x origin %u (%s)",
			ustr, (unsigned)res, (unsigned)origin,
			origin_name(origin));
		pthread_mutex_destroy(&s->call_lock);
		pthread_mutex_destroy(&s->op_lock);
		free(s);
		return res;
	}
	*out = s;
	return TEEC_SUCCESS;
}

void tsca_close(tsca_session *s)
{
	if (!s)
		return;
	/* A session inherited through fork() belongs to the parent's TEE
	 * connection: closing it here would close the parent's session. */
	if (s->pid != getpid()) {
		free(s);
		return;
	}
	pthread_mutex_lock(&s->call_lock);
	TEEC_CloseSession(&s->sess);
	pthread_mutex_unlock(&s->call_lock);
	pthread_mutex_destroy(&s->call_lock);
	pthread_mutex_destroy(&s->op_lock);
	memset(s, 0, sizeof(*s));
	free(s);
}

uint32_t tsca_session_is_dead(const tsca_session *s)
{
	return s ? __atomic_load_n(&s->dead, __ATOMIC_ACQUIRE) : 1;
}

uint32_t tsca_request_cancel(tsca_session *s)
{
	uint32_t sent = 0;

	if (!s || s->pid != getpid())
		return 0;
	pthread_mutex_lock(&s->op_lock);
	if (s->cur_op) {
		TEEC_RequestCancellation(s->cur_op);
		sent = 1;
	}
	pthread_mutex_unlock(&s->op_lock);
	return sent;
}

/* ---------------------------------------------------------------------- */
/* Invoke                                                                  */
/* ---------------------------------------------------------------------- */

/* Per-parameter state of one call: a bounce buffer for large BUF_*. */
struct call_param {
	TEEC_SharedMemory bounce;
	int bounced;
};

static int kind_is_buf(uint32_t k)
{
	return k == TSCA_PARAM_BUF_IN || k == TSCA_PARAM_BUF_OUT ||
	       k == TSCA_PARAM_BUF_INOUT;
}

static int kind_is_shm(uint32_t k)
{
	return k == TSCA_PARAM_SHM_IN || k == TSCA_PARAM_SHM_OUT ||
	       k == TSCA_PARAM_SHM_INOUT;
}

/* TSCA_SHM_* direction bits a BUF_* or SHM_* kind needs. */
static uint32_t kind_dir(uint32_t k)
{
	switch (k) {
	case TSCA_PARAM_BUF_IN:
	case TSCA_PARAM_SHM_IN:
		return TSCA_SHM_IN;
	case TSCA_PARAM_BUF_OUT:
	case TSCA_PARAM_SHM_OUT:
		return TSCA_SHM_OUT;
	default:
		return TSCA_SHM_INOUT;
	}
}

static uint32_t dir_to_teec_flags(uint32_t dir)
{
	return ((dir & TSCA_SHM_IN) ? TEEC_MEM_INPUT : 0) |
	       ((dir & TSCA_SHM_OUT) ? TEEC_MEM_OUTPUT : 0);
}

/* GP partial-memref type for a direction. */
static uint32_t dir_to_partial(uint32_t dir)
{
	if (dir == TSCA_SHM_IN)
		return TEEC_MEMREF_PARTIAL_INPUT;
	if (dir == TSCA_SHM_OUT)
		return TEEC_MEMREF_PARTIAL_OUTPUT;
	return TEEC_MEMREF_PARTIAL_INOUT;
}

/*
 * Translate params[i] into op->params[i]; returns its TEEC type, or sets
 * err and returns TEEC_ERROR_BAD_PARAMETERS through *res.
 */
static uint32_t prepare_param(TEEC_Context *ctx, uint32_t cmd, int i,
			      tsca_param *p, TEEC_Operation *op,
			      struct call_param *cp, uint32_t *res,
			      tsca_error *err)
{
	TEEC_Parameter *tp = &op->params[i];
	uint32_t k = p->kind;

	*res = TEEC_SUCCESS;
	if (p->reserved != 0) {
		*res = err_set(err, TEEC_ERROR_BAD_PARAMETERS, ORIGIN_API,
			       "tsca_invoke(cmd %u): param %d: reserved "
			       "field must be 0", (unsigned)cmd, i);
		return 0;
	}
	switch (k) {
	case TSCA_PARAM_NONE:
		return TEEC_NONE;
	case TSCA_PARAM_VALUE_IN:
	case TSCA_PARAM_VALUE_OUT:
	case TSCA_PARAM_VALUE_INOUT:
		tp->value.a = p->a;
		tp->value.b = p->b;
		return k; /* same numbers as TEEC_VALUE_* */
	default:
		break;
	}

	if (kind_is_buf(k)) {
		if (p->size > TSCA_MEMREF_SIZE_MAX) {
			*res = err_set(err, TEEC_ERROR_BAD_PARAMETERS,
				       ORIGIN_API,
				       "tsca_invoke(cmd %u): param %d: size "
				       "%llu too large for this TEE",
				       (unsigned)cmd, i,
				       (unsigned long long)p->size);
			return 0;
		}
		if (!p->buf && p->size) {
			*res = err_set(err, TEEC_ERROR_BAD_PARAMETERS,
				       ORIGIN_API,
				       "tsca_invoke(cmd %u): param %d: NULL "
				       "buffer with size %llu", (unsigned)cmd,
				       i, (unsigned long long)p->size);
			return 0;
		}
		if (p->size <= TSCA_TEMP_MEMREF_MAX) {
			/* Empty buffers travel as NULL/0 (iTrustee rejects a
			 * non-NULL buffer with size 0). */
			tp->tmpref.buffer = p->size ? p->buf : NULL;
			tp->tmpref.size = (size_t)p->size;
			return k; /* same numbers as TEEC_MEMREF_TEMP_* */
		}
		/* Too large for a temporary memref on every TEE: bounce it
		 * through shared memory allocated for this call. */
		memset(&cp->bounce, 0, sizeof(cp->bounce));
		cp->bounce.size = (size_t)p->size;
		cp->bounce.flags = dir_to_teec_flags(kind_dir(k));
		*res = TEEC_AllocateSharedMemory(ctx, &cp->bounce);
		if (*res != TEEC_SUCCESS) {
			err_set(err, *res, ORIGIN_API,
				"TEEC_AllocateSharedMemory(%llu bytes) for "
				"param %d of cmd %u failed 0x%08x",
				(unsigned long long)p->size, i, (unsigned)cmd,
				(unsigned)*res);
			return 0;
		}
		cp->bounced = 1;
		if (k != TSCA_PARAM_BUF_OUT)
			memcpy(cp->bounce.buffer, p->buf, (size_t)p->size);
		tp->memref.parent = &cp->bounce;
		tp->memref.offset = 0;
		tp->memref.size = (size_t)p->size;
		return dir_to_partial(kind_dir(k));
	}

	if (kind_is_shm(k)) {
		tsca_shm *m = p->shm;
		uint32_t dir = kind_dir(k);

		if (!m) {
			*res = err_set(err, TEEC_ERROR_BAD_PARAMETERS,
				       ORIGIN_API,
				       "tsca_invoke(cmd %u): param %d: NULL "
				       "shared memory", (unsigned)cmd, i);
			return 0;
		}
		if (m->pid != getpid()) {
			*res = err_set(err, TEEC_ERROR_BAD_STATE, ORIGIN_API,
				       "tsca_invoke(cmd %u): param %d: shared "
				       "memory belongs to process %d (created "
				       "before fork)", (unsigned)cmd, i,
				       (int)m->pid);
			return 0;
		}
		if (p->offset > m->size || p->size > m->size - p->offset) {
			*res = err_set(err, TEEC_ERROR_BAD_PARAMETERS,
				       ORIGIN_API,
				       "tsca_invoke(cmd %u): param %d: range "
				       "[%llu, +%llu) outside shared memory of "
				       "%llu bytes", (unsigned)cmd, i,
				       (unsigned long long)p->offset,
				       (unsigned long long)p->size,
				       (unsigned long long)m->size);
			return 0;
		}
		if ((m->flags & dir) != dir) {
			*res = err_set(err, TEEC_ERROR_BAD_PARAMETERS,
				       ORIGIN_API,
				       "tsca_invoke(cmd %u): param %d: "
				       "direction %u not allowed by shared "
				       "memory flags %u", (unsigned)cmd, i,
				       (unsigned)dir, (unsigned)m->flags);
			return 0;
		}
		tp->memref.parent = &m->shm;
		tp->memref.offset = (size_t)p->offset;
		tp->memref.size = (size_t)p->size;
		return dir_to_partial(dir);
	}

	*res = err_set(err, TEEC_ERROR_BAD_PARAMETERS, ORIGIN_API,
		       "tsca_invoke(cmd %u): param %d: unknown kind %u",
		       (unsigned)cmd, i, (unsigned)k);
	return 0;
}

/* Copy results of op->params[i] back into params[i]. */
static void finish_param(tsca_param *p, const TEEC_Parameter *tp,
			 const struct call_param *cp, TEEC_Result res)
{
	uint32_t k = p->kind;

	switch (k) {
	case TSCA_PARAM_VALUE_OUT:
	case TSCA_PARAM_VALUE_INOUT:
		p->a = tp->value.a;
		p->b = tp->value.b;
		return;
	case TSCA_PARAM_BUF_OUT:
	case TSCA_PARAM_BUF_INOUT:
		if (!cp->bounced) {
			p->size = tp->tmpref.size;
			return;
		}
		/* Bounced: the TA wrote into the bounce buffer. Contents are
		 * only meaningful on success; the size always is (it is the
		 * needed size on TEEC_ERROR_SHORT_BUFFER). */
		if (res == TEEC_SUCCESS) {
			size_t n = tp->memref.size;

			if (n > p->size)
				n = (size_t)p->size;
			memcpy(p->buf, cp->bounce.buffer, n);
		}
		p->size = tp->memref.size;
		return;
	case TSCA_PARAM_SHM_OUT:
	case TSCA_PARAM_SHM_INOUT:
		p->size = tp->memref.size;
		return;
	default:
		return;
	}
}

uint32_t tsca_invoke(tsca_session *s, uint32_t cmd,
		     tsca_param params[TSCA_PARAM_COUNT], tsca_error *err)
{
	struct call_param cp[TSCA_PARAM_COUNT];
	uint32_t types[TSCA_PARAM_COUNT] = { 0, 0, 0, 0 };
	uint64_t cap[TSCA_PARAM_COUNT] = { 0, 0, 0, 0 };
	uint32_t origin = TEEC_ORIGIN_API;
	TEEC_Operation op;
	TEEC_Result res = TEEC_SUCCESS;
	int i;

	err_clear(err);
	if (!s)
		return err_set(err, TEEC_ERROR_BAD_PARAMETERS, ORIGIN_API,
			       "tsca_invoke(cmd %u): NULL session",
			       (unsigned)cmd);
	if (s->pid != getpid())
		return err_set(err, TEEC_ERROR_BAD_STATE, ORIGIN_API,
			       "tsca_invoke(cmd %u): session belongs to "
			       "process %d (opened before fork); open a new "
			       "one", (unsigned)cmd, (int)s->pid);

	memset(cp, 0, sizeof(cp));
	memset(&op, 0, sizeof(op));
	pthread_mutex_lock(&s->call_lock);
	if (__atomic_load_n(&s->dead, __ATOMIC_ACQUIRE)) {
		res = err_set(err, TEEC_ERROR_TARGET_DEAD, ORIGIN_API,
			      "tsca_invoke(cmd %u): the TA instance of this "
			      "session died earlier; open a new session",
			      (unsigned)cmd);
		goto unlock;
	}

	for (i = 0; params && i < TSCA_PARAM_COUNT; i++) {
		cap[i] = params[i].size;
		types[i] = prepare_param(s->ctx, cmd, i, &params[i], &op,
					 &cp[i], &res, err);
		if (res != TEEC_SUCCESS)
			goto release;
	}
	/* started = 1 always (iTrustee requires it; see tsca_open). */
	op.started = 1;
	op.paramTypes = TEEC_PARAM_TYPES(types[0], types[1], types[2],
					 types[3]);

	pthread_mutex_lock(&s->op_lock);
	s->cur_op = &op;
	pthread_mutex_unlock(&s->op_lock);

	res = TEEC_InvokeCommand(&s->sess, cmd, &op, &origin);

	pthread_mutex_lock(&s->op_lock);
	s->cur_op = NULL;
	pthread_mutex_unlock(&s->op_lock);

	/* Values and sizes come back on failure too: SHORT_BUFFER reports the
	 * needed size, and TAs put error details (e.g. a block index) in
	 * value outputs. */
	for (i = 0; params && i < TSCA_PARAM_COUNT; i++)
		finish_param(&params[i], &op.params[i], &cp[i], res);

	if (res == TEEC_ERROR_TARGET_DEAD)
		__atomic_store_n(&s->dead, 1, __ATOMIC_RELEASE);
	if (res != TEEC_SUCCESS) {
		int short_param = -1;

		/* Name the first output buffer the TA asked more room for. */
		for (i = 0; params && i < TSCA_PARAM_COUNT; i++) {
			uint32_t k = params[i].kind;

			if ((k == TSCA_PARAM_BUF_OUT ||
			     k == TSCA_PARAM_BUF_INOUT ||
			     k == TSCA_PARAM_SHM_OUT ||
			     k == TSCA_PARAM_SHM_INOUT) &&
			    params[i].size > cap[i]) {
				short_param = i;
				break;
			}
		}
		if (res == TEEC_ERROR_SHORT_BUFFER && short_param >= 0)
			err_set(err, res, origin,
				"TEEC_InvokeCommand(cmd %u) failed 0x%08x "
				"origin %u (%s): param %d needs %llu bytes",
				(unsigned)cmd, (unsigned)res,
				(unsigned)origin, origin_name(origin),
				short_param,
				(unsigned long long)params[short_param].size);
		else
			err_set(err, res, origin,
				"TEEC_InvokeCommand(cmd %u) failed 0x%08x "
				"origin %u (%s)", (unsigned)cmd,
				(unsigned)res, (unsigned)origin,
				origin_name(origin));
	}

release:
	for (i = 0; i < TSCA_PARAM_COUNT; i++)
		if (cp[i].bounced)
			TEEC_ReleaseSharedMemory(&cp[i].bounce);
unlock:
	pthread_mutex_unlock(&s->call_lock);
	return res;
}

/* ---------------------------------------------------------------------- */
/* Shared memory                                                           */
/* ---------------------------------------------------------------------- */

static uint32_t shm_make(void *buf, uint64_t size, uint32_t flags,
			 tsca_shm **out, void **ptr, tsca_error *err)
{
	const char *what = buf ? "TEEC_RegisterSharedMemory" :
				 "TEEC_AllocateSharedMemory";
	TEEC_Context *ctx;
	tsca_shm *m;
	TEEC_Result res;

	err_clear(err);
	if (!out)
		return err_set(err, TEEC_ERROR_BAD_PARAMETERS, ORIGIN_API,
			       "%s: NULL out", what);
	*out = NULL;
	if (flags == 0 || (flags & ~TSCA_SHM_INOUT))
		return err_set(err, TEEC_ERROR_BAD_PARAMETERS, ORIGIN_API,
			       "%s: flags %u not in {1, 2, 3}", what,
			       (unsigned)flags);
	if (size > TSCA_MEMREF_SIZE_MAX)
		return err_set(err, TEEC_ERROR_BAD_PARAMETERS, ORIGIN_API,
			       "%s: size %llu too large for this TEE", what,
			       (unsigned long long)size);
	res = get_context(&ctx, err);
	if (res != TEEC_SUCCESS)
		return res;
	m = calloc(1, sizeof(*m));
	if (!m)
		return err_set(err, TEEC_ERROR_OUT_OF_MEMORY, ORIGIN_API,
			       "%s: out of memory", what);
	m->pid = getpid();
	m->size = size;
	m->flags = flags;
	m->shm.buffer = buf;
	m->shm.size = (size_t)size;
	m->shm.flags = dir_to_teec_flags(flags);
	res = buf ? TEEC_RegisterSharedMemory(ctx, &m->shm) :
		    TEEC_AllocateSharedMemory(ctx, &m->shm);
	if (res != TEEC_SUCCESS) {
		err_set(err, res, ORIGIN_API, "%s(%llu bytes) failed 0x%08x",
			what, (unsigned long long)size, (unsigned)res);
		free(m);
		return res;
	}
	if (ptr)
		*ptr = m->shm.buffer;
	*out = m;
	return TEEC_SUCCESS;
}

uint32_t tsca_shm_alloc(uint64_t size, uint32_t flags, tsca_shm **out,
			void **ptr, tsca_error *err)
{
	if (ptr)
		*ptr = NULL;
	return shm_make(NULL, size, flags, out, ptr, err);
}

uint32_t tsca_shm_register(void *buf, uint64_t size, uint32_t flags,
			   tsca_shm **out, tsca_error *err)
{
	/* Size 0 is refused: GP implementations round it up to a few bytes
	 * and would then read or write past the caller's empty buffer. */
	if (!buf || !size) {
		err_clear(err);
		if (out)
			*out = NULL;
		return err_set(err, TEEC_ERROR_BAD_PARAMETERS, ORIGIN_API,
			       "TEEC_RegisterSharedMemory: %s",
			       buf ? "size 0" : "NULL buffer");
	}
	return shm_make(buf, size, flags, out, NULL, err);
}

uint64_t tsca_shm_size(const tsca_shm *m)
{
	return m ? m->size : 0;
}

void tsca_shm_release(tsca_shm *m)
{
	if (!m)
		return;
	/* Inherited through fork(): the region belongs to the parent's
	 * context; releasing it here could unregister the parent's. */
	if (m->pid == getpid())
		TEEC_ReleaseSharedMemory(&m->shm);
	free(m);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * teec_session.c - sessions of the simulator's libteec: one TA-host process
 * per TEEC_OpenSession, the request/response channel to it, TA death, and
 * TEEC_RequestCancellation.
 *
 * Finding things:
 *  - the TA host: $TEESPARK_SIM_TA_HOST, else teespark-ta-host next to
 *    libteec.so (found with dladdr);
 *  - the TA: <uuid>.so in the colon-separated $TEESPARK_SIM_TA_PATH, else in
 *    <dir of libteec.so>/ta.  Not found -> TEEC_ERROR_ITEM_NOT_FOUND with
 *    origin COMMS, like OP-TEE when tee-supplicant cannot load the TA.
 *
 * Process hygiene: every fd this library creates is O_CLOEXEC; the TA host
 * is started with posix_spawn (no fork of a possibly large, multi-threaded
 * caller), default signal dispositions and an empty signal mask, and exits
 * by itself when the client end of its socket goes away (see
 * ta_host_main.c).  Dead hosts are reaped here, so no zombie is left.  A
 * child forked from the caller does not inherit usable sessions: an atfork
 * handler closes its copies of the sockets (so the TA host of a killed
 * parent is not kept alive by the child) and calls on them report
 * TEEC_ERROR_TARGET_DEAD (reopen).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "teec_internal.h"

extern char **environ;

pthread_mutex_t sim_lock = PTHREAD_MUTEX_INITIALIZER;

static struct sim_session **sim_table;
static size_t sim_table_len;

/* Operations cancelled before they started (GP `started` == 0). */
#define SIM_PRECANCEL_MAX 32
static TEEC_Operation *sim_precancel[SIM_PRECANCEL_MAX];
static unsigned int sim_precancel_next;

/* ---- fork safety ------------------------------------------------------- */

static void sim_atfork_prepare(void)
{
	pthread_mutex_lock(&sim_lock);
}

static void sim_atfork_parent(void)
{
	pthread_mutex_unlock(&sim_lock);
}

/* In the child: drop our copies of the session sockets.  Only close() and
 * plain stores (async-signal-safe) since the caller may be multi-threaded. */
static void sim_atfork_child(void)
{
	size_t i;

	for (i = 0; i < sim_table_len; i++) {
		struct sim_session *s = sim_table[i];

		if (s && s->sock >= 0) {
			close(s->sock);
			s->sock = -1;
		}
	}
	pthread_mutex_unlock(&sim_lock);
}

__attribute__((constructor)) static void sim_client_init(void)
{
	pthread_atfork(sim_atfork_prepare, sim_atfork_parent, sim_atfork_child);
}

/* ---- session table ------------------------------------------------------ */

struct sim_session *sim_session_lookup_locked(uint32_t id)
{
	if (id == 0 || id > sim_table_len)
		return NULL;
	return sim_table[id - 1];
}

struct sim_session *sim_session_from(TEEC_Session *session)
{
	struct sim_session *s;

	if (!session)
		return NULL;
	pthread_mutex_lock(&sim_lock);
	s = sim_session_lookup_locked(session->imp.session_id);
	pthread_mutex_unlock(&sim_lock);
	return s;
}

static bool sim_table_add(struct sim_session *s)
{
	size_t i;
	bool ok = false;

	pthread_mutex_lock(&sim_lock);
	for (i = 0; i < sim_table_len; i++)
		if (!sim_table[i])
			break;
	if (i == sim_table_len) {
		size_t nl = sim_table_len ? sim_table_len * 2 : 16;
		struct sim_session **nt;

		nt = realloc(sim_table, nl * sizeof(*nt));
		if (!nt)
			goto out;
		memset(nt + sim_table_len, 0,
		       (nl - sim_table_len) * sizeof(*nt));
		sim_table = nt;
		sim_table_len = nl;
	}
	sim_table[i] = s;
	s->id = (uint32_t)i + 1;
	ok = true;
out:
	pthread_mutex_unlock(&sim_lock);
	return ok;
}

static void sim_table_remove(struct sim_session *s)
{
	pthread_mutex_lock(&sim_lock);
	if (s->id && s->id <= sim_table_len && sim_table[s->id - 1] == s)
		sim_table[s->id - 1] = NULL;
	pthread_mutex_unlock(&sim_lock);
}

/* ---- shm bookkeeping ----------------------------------------------------- */

static bool sim_ids_push(uint64_t **v, size_t *n, size_t *cap, uint64_t id)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		uint64_t *nv = realloc(*v, nc * sizeof(*nv));

		if (!nv)
			return false;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = id;
	return true;
}

static bool sim_ids_remove(uint64_t *v, size_t *n, uint64_t id)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		if (v[i] == id) {
			v[i] = v[--*n];
			return true;
		}
	}
	return false;
}

bool sim_session_is_mapped_locked(const struct sim_session *s, uint64_t id)
{
	size_t i;

	for (i = 0; i < s->n_mapped; i++)
		if (s->mapped[i] == id)
			return true;
	return false;
}

bool sim_session_mark_mapped_locked(struct sim_session *s, uint64_t id)
{
	return sim_ids_push(&s->mapped, &s->n_mapped, &s->cap_mapped, id);
}

bool sim_session_queue_unmap_locked(struct sim_session *s, uint64_t id)
{
	if (!sim_ids_remove(s->mapped, &s->n_mapped, id))
		return true;
	/* If the unmap list cannot grow the mapping merely lingers in the TA
	 * host until the session ends. */
	return sim_ids_push(&s->unmap, &s->n_unmap, &s->cap_unmap, id);
}

void sim_sessions_forget_shm_locked(uint64_t id)
{
	size_t i;

	for (i = 0; i < sim_table_len; i++)
		if (sim_table[i])
			sim_session_queue_unmap_locked(sim_table[i], id);
}

/* ---- process management ------------------------------------------------- */

static void sim_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void sim_describe_death(struct sim_session *s, int status)
{
	if (WIFSIGNALED(status)) {
		sim_client_log("%s TA host %d died: signal %d (%s)", s->tag,
			       (int)s->pid, WTERMSIG(status),
			       strsignal(WTERMSIG(status)));
	} else if (WIFEXITED(status) &&
		   WEXITSTATUS(status) == SIM_EXIT_PANIC) {
		uint32_t code = __atomic_load_n(&s->ctrl->panic_code,
						__ATOMIC_ACQUIRE);

		sim_client_log("%s TA panicked (TEE_Panic 0x%08" PRIx32 ")",
			       s->tag, code);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		sim_client_log("%s TA host %d exited with status %d", s->tag,
			       (int)s->pid, WEXITSTATUS(status));
	}
}

/*
 * Waits for the TA host to exit: up to ~2 s for a graceful exit, then
 * SIGKILL.  force: SIGKILL right away.  Safe if the caller ignores SIGCHLD
 * (waitpid then fails with ECHILD once the kernel reaped the child).
 */
static void sim_reap(struct sim_session *s, bool force, bool report)
{
	long waited = 0, step = 1;
	int status = 0;
	pid_t r;

	if (s->pid <= 0 || s->owner != getpid()) {
		s->pid = 0;
		return;
	}
	if (force)
		kill(s->pid, SIGKILL);
	for (;;) {
		r = waitpid(s->pid, &status, WNOHANG);
		if (r == s->pid || (r < 0 && errno != EINTR))
			break;
		if (r == 0 && waited >= 2000) {
			kill(s->pid, SIGKILL);
			do {
				r = waitpid(s->pid, &status, 0);
			} while (r < 0 && errno == EINTR);
			break;
		}
		if (r == 0) {
			sim_sleep_ms(step);
			waited += step;
			if (step < 50)
				step *= 2;
		}
	}
	if (r == s->pid && report)
		sim_describe_death(s, status);
	s->pid = 0;
}

void sim_session_kill(struct sim_session *s, bool force)
{
	s->dead = true;
	if (s->sock >= 0) {
		close(s->sock);
		s->sock = -1;
	}
	sim_reap(s, force, !force);
}

static bool sim_find_ta(const TEEC_UUID *u, char *out, size_t outlen)
{
	char name[64];
	const char *env = getenv("TEESPARK_SIM_TA_PATH");
	char defpath[PATH_MAX];
	const char *p;

	snprintf(name, sizeof(name),
		 "%08" PRIx32 "-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x.so",
		 u->timeLow, u->timeMid, u->timeHiAndVersion,
		 u->clockSeqAndNode[0], u->clockSeqAndNode[1],
		 u->clockSeqAndNode[2], u->clockSeqAndNode[3],
		 u->clockSeqAndNode[4], u->clockSeqAndNode[5],
		 u->clockSeqAndNode[6], u->clockSeqAndNode[7]);
	if (!env || !*env) {
		snprintf(defpath, sizeof(defpath), "%s/ta", sim_lib_dir());
		env = defpath;
	}
	for (p = env; *p;) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > 0) {
			int n = snprintf(out, outlen, "%.*s/%s", (int)len, p,
					 name);

			if (n > 0 && (size_t)n < outlen &&
			    access(out, R_OK) == 0)
				return true;
		}
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

/* fcntl(F_DUPFD_CLOEXEC) above the fds posix_spawn will dup2 onto, so no
 * dup2 is a no-op that would leave FD_CLOEXEC set. */
static int sim_dup_high(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

static TEEC_Result sim_spawn(struct sim_session *s, const char *ta_path)
{
	char host[PATH_MAX];
	const char *env = getenv("TEESPARK_SIM_TA_HOST");
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int sv[2], ctrl_fd = -1, c_sock = -1, c_ctrl = -1;
	void *ctrl;
	char *argv[3];
	pid_t pid;
	int err;

	if (env && *env)
		snprintf(host, sizeof(host), "%s", env);
	else
		snprintf(host, sizeof(host), "%s/teespark-ta-host",
			 sim_lib_dir());

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return TEEC_ERROR_COMMUNICATION;
	if (sim_memfd_map(SIM_CTRL_SIZE, "teespark-ctrl", &ctrl_fd, &ctrl) < 0) {
		close(sv[0]);
		close(sv[1]);
		return TEEC_ERROR_OUT_OF_MEMORY;
	}
	c_sock = sim_dup_high(sv[1]);
	c_ctrl = sim_dup_high(ctrl_fd);
	close(sv[1]);
	close(ctrl_fd);
	if (c_sock < 0 || c_ctrl < 0) {
		err = errno;
		goto fail;
	}

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, c_sock, SIM_HOST_SOCK_FD);
	posix_spawn_file_actions_adddup2(&fa, c_ctrl, SIM_HOST_CTRL_FD);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	argv[0] = host;
	argv[1] = (char *)ta_path;
	argv[2] = NULL;
	err = posix_spawn(&pid, host, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (err)
		goto fail;

	close(c_sock);
	close(c_ctrl);
	s->sock = sv[0];
	s->ctrl = ctrl;
	s->pid = pid;
	return TEEC_SUCCESS;
fail:
	sim_client_log("cannot start TA host %s: %s", host, strerror(err));
	if (c_sock >= 0)
		close(c_sock);
	if (c_ctrl >= 0)
		close(c_ctrl);
	close(sv[0]);
	munmap(ctrl, SIM_CTRL_SIZE);
	return err == ENOMEM || err == EAGAIN ? TEEC_ERROR_OUT_OF_MEMORY :
						TEEC_ERROR_COMMUNICATION;
}

/* ---- channel -------------------------------------------------------------- */

static bool sim_peer_gone(int err)
{
	return err == EPIPE || err == ECONNRESET || err == ENOTCONN ||
	       err == EBADF;
}

TEEC_Result sim_session_call(struct sim_session *s, struct sim_req *req,
			     const int *fds, unsigned int nfds,
			     struct sim_rsp *rsp, uint32_t *origin)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SIM_MAX_NEWMAP)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = req, .iov_len = sizeof(*req) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	req->magic = SIM_PROTO_MAGIC_REQ;
	if (nfds) {
		struct cmsghdr *c;

		memset(&cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do {
		n = sendmsg(s->sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		int err = errno;

		if (sim_peer_gone(err))
			goto dead;
		sim_client_log("%s sendmsg: %s", s->tag, strerror(err));
		sim_session_kill(s, true);
		*origin = TEEC_ORIGIN_COMMS;
		return err == ENOMEM || err == ENOBUFS ?
		       TEEC_ERROR_OUT_OF_MEMORY : TEEC_ERROR_COMMUNICATION;
	}
	do {
		n = recv(s->sock, rsp, sizeof(*rsp), 0);
	} while (n < 0 && errno == EINTR);
	if (n == 0 || (n < 0 && sim_peer_gone(errno)))
		goto dead;
	if (n != (ssize_t)sizeof(*rsp) || rsp->magic != SIM_PROTO_MAGIC_RSP) {
		sim_client_log("%s bad response from TA host", s->tag);
		sim_session_kill(s, true);
		*origin = TEEC_ORIGIN_COMMS;
		return TEEC_ERROR_COMMUNICATION;
	}
	*origin = rsp->origin;
	return rsp->result;
dead:
	sim_session_kill(s, false);
	*origin = TEEC_ORIGIN_TEE;
	return TEEC_ERROR_TARGET_DEAD;
}

/* ---- cancellation ---------------------------------------------------------- */

bool sim_take_precancel_locked(TEEC_Operation *op)
{
	unsigned int i;

	for (i = 0; i < SIM_PRECANCEL_MAX; i++) {
		if (sim_precancel[i] == op) {
			sim_precancel[i] = NULL;
			return true;
		}
	}
	return false;
}

/*
 * GP: cancels the operation if it is running (the TA sees
 * TEE_GetCancellationFlag() once it unmasks cancellation) or, if the caller
 * set started = 0 and the operation has not reached the TA yet, makes it
 * fail with TEEC_ERROR_CANCEL (origin COMMS) without entering the TA.
 * Best effort and asynchronous, as GP allows.
 */
void TEEC_RequestCancellation(TEEC_Operation *operation)
{
	TEEC_Session *handle;
	struct sim_session *s = NULL;

	if (!operation)
		return;
	pthread_mutex_lock(&sim_lock);
	handle = __atomic_load_n(&operation->imp.session, __ATOMIC_ACQUIRE);
	if (handle)
		s = sim_session_lookup_locked(handle->imp.session_id);
	if (s && s->cur_op == operation) {
		__atomic_store_n(&s->ctrl->cancel_seq, s->call_seq,
				 __ATOMIC_RELEASE);
	} else if (__atomic_load_n(&operation->started, __ATOMIC_ACQUIRE) == 0) {
		sim_take_precancel_locked(operation);
		sim_precancel[sim_precancel_next] = operation;
		sim_precancel_next = (sim_precancel_next + 1) % SIM_PRECANCEL_MAX;
	}
	pthread_mutex_unlock(&sim_lock);
}

/* ---- open / close ------------------------------------------------------------ */

static void sim_session_free(struct sim_session *s)
{
	sim_table_remove(s);
	if (s->arena)
		munmap(s->arena, s->arena_len);
	if (s->arena_fd >= 0)
		close(s->arena_fd);
	if (s->ctrl)
		munmap(s->ctrl, SIM_CTRL_SIZE);
	free(s->mapped);
	free(s->unmap);
	pthread_mutex_destroy(&s->call_lock);
	free(s);
}

static bool sim_login_ok(uint32_t method, const void *data)
{
	switch (method) {
	case TEEC_LOGIN_PUBLIC:
	case TEEC_LOGIN_USER:
	case TEEC_LOGIN_APPLICATION:
	case TEEC_LOGIN_USER_APPLICATION:
		return true;
	case TEEC_LOGIN_GROUP:
	case TEEC_LOGIN_GROUP_APPLICATION:
		return data != NULL;	/* the gid_t to log in as */
	default:
		return false;
	}
}

TEEC_Result TEEC_OpenSession(TEEC_Context *context, TEEC_Session *session,
			     const TEEC_UUID *destination,
			     uint32_t connectionMethod,
			     const void *connectionData,
			     TEEC_Operation *operation,
			     uint32_t *returnOrigin)
{
	uint32_t origin = TEEC_ORIGIN_API;
	char ta_path[PATH_MAX];
	struct sim_session *s;
	TEEC_Result res;

	if (!context || context->imp.fd != SIM_CTX_MAGIC || !session ||
	    !destination || !sim_login_ok(connectionMethod, connectionData)) {
		res = TEEC_ERROR_BAD_PARAMETERS;
		goto out;
	}
	res = sim_check_operation(operation);
	if (res != TEEC_SUCCESS)
		goto out;
	if (!sim_find_ta(destination, ta_path, sizeof(ta_path))) {
		origin = TEEC_ORIGIN_COMMS;
		res = TEEC_ERROR_ITEM_NOT_FOUND;
		goto out;
	}

	s = calloc(1, sizeof(*s));
	if (!s) {
		res = TEEC_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	pthread_mutex_init(&s->call_lock, NULL);
	s->sock = -1;
	s->arena_fd = -1;
	s->owner = getpid();
	snprintf(s->tag, sizeof(s->tag), "[ta %08" PRIx32 "]",
		 destination->timeLow);
	if (!sim_table_add(s)) {
		pthread_mutex_destroy(&s->call_lock);
		free(s);
		res = TEEC_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	origin = TEEC_ORIGIN_COMMS;
	res = sim_spawn(s, ta_path);
	if (res != TEEC_SUCCESS) {
		sim_session_free(s);
		goto out;
	}

	session->imp.ctx = context;
	session->imp.session_id = s->id;
	pthread_mutex_lock(&s->call_lock);
	res = sim_do_call(s, SIM_OP_OPEN, 0, connectionMethod, operation,
			  session, &origin);
	pthread_mutex_unlock(&s->call_lock);
	if (res != TEEC_SUCCESS) {
		/* The TA host exits after a failed open; reap it. */
		sim_session_kill(s, false);
		sim_session_free(s);
		session->imp.ctx = NULL;
		session->imp.session_id = 0;
	}
out:
	if (returnOrigin)
		*returnOrigin = origin;
	return res;
}

void TEEC_CloseSession(TEEC_Session *session)
{
	struct sim_session *s = sim_session_from(session);
	struct sim_req req;
	struct sim_rsp rsp;
	uint32_t origin;

	if (!s)
		return;
	if (s->owner != getpid()) {
		/* A forked child's copy: the parent still owns the TA host. */
		sim_table_remove(s);
		session->imp.session_id = 0;
		return;
	}
	pthread_mutex_lock(&s->call_lock);
	if (!s->dead && s->sock >= 0) {
		memset(&req, 0, sizeof(req));
		req.op = SIM_OP_CLOSE;
		if (sim_session_call(s, &req, NULL, 0, &rsp, &origin) ==
		    TEEC_SUCCESS)
			sim_session_kill(s, false);
	}
	if (s->sock >= 0 || s->pid > 0)
		sim_session_kill(s, false);
	pthread_mutex_unlock(&s->call_lock);
	sim_session_free(s);
	session->imp.session_id = 0;
	session->imp.ctx = NULL;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ta_host_main.c - teespark-ta-host: the process one simulated TA instance
 * runs in.  libteec.so starts one per TEEC_OpenSession (see sim_proto.h for
 * the fd layout and protocol) and the TA's <uuid>.so is dlopen()ed into it;
 * the TA resolves TEE_* from this executable (linked -rdynamic).
 *
 * Threads:
 *  - the TA thread receives requests and calls the TA entry points, on a
 *    stack of TA_STACK_SIZE + SIM_STACK_SLACK bytes, so a TA that overflows
 *    its stack by much dies (TEEC_ERROR_TARGET_DEAD) rather than passing;
 *  - the main thread is a watchdog: it polls the socket for hang-up and
 *    _exit()s as soon as the client is gone, even while the TA is busy in a
 *    long command.  (PR_SET_PDEATHSIG is not used: it fires when the forking
 *    *thread* exits, which breaks multi-threaded callers such as Python.)
 *
 * Lifecycle: OPEN -> TA_CreateEntryPoint + TA_OpenSessionEntryPoint;
 * INVOKE -> TA_InvokeCommandEntryPoint; CLOSE -> TA_CloseSessionEntryPoint +
 * TA_DestroyEntryPoint, reply, exit.  A failed open destroys the instance
 * and exits after the reply.  Any death (TEE_Panic, signal) is seen by the
 * client as EOF on the socket.
 */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sim_runtime.h"

/* Head-room above TA_STACK_SIZE for libc, the loader and OpenSSL, which on a
 * real TEE run in the core rather than on the TA stack. */
#define SIM_STACK_SLACK (256u * 1024)

typedef TEE_Result (*sim_create_fn)(void);
typedef void (*sim_destroy_fn)(void);
typedef TEE_Result (*sim_open_fn)(uint32_t, TEE_Param *, void **);
typedef void (*sim_close_fn)(void *);
typedef TEE_Result (*sim_invoke_fn)(void *, uint32_t, uint32_t, TEE_Param *);

struct sim_ta {
	const char *path;
	void *dl;
	const struct sim_ta_props *props;
	sim_create_fn create;
	sim_destroy_fn destroy;
	sim_open_fn open;
	sim_close_fn close;
	sim_invoke_fn invoke;
	TEE_Result load_error;	/* TEE_SUCCESS if loaded */
	void *session_ctx;
};

struct sim_map {
	uint64_t id;
	uint8_t *addr;
	size_t len;
};

static struct sim_ta ta;
static struct sim_map *maps;
static size_t n_maps, cap_maps;
static const int sock = SIM_HOST_SOCK_FD;

static void die(const char *what)
{
	sim_log("%s: %s", what, strerror(errno));
	_exit(1);
}

static void *resolve(const char *name)
{
	void *p;

	dlerror();
	p = dlsym(ta.dl, name);
	if (!p)
		sim_log("TA %s lacks %s", ta.path, name);
	return p;
}

/* Like OP-TEE's loader: the TA must be the one its file name claims. */
static void check_uuid(void)
{
	const struct sim_uuid *u = &ta.props->uuid;
	const char *base = strrchr(ta.path, '/');
	char want[48];

	base = base ? base + 1 : ta.path;
	snprintf(want, sizeof(want),
		 "%08" PRIx32 "-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x.so",
		 u->timeLow, u->timeMid, u->timeHiAndVersion,
		 u->clockSeqAndNode[0], u->clockSeqAndNode[1],
		 u->clockSeqAndNode[2], u->clockSeqAndNode[3],
		 u->clockSeqAndNode[4], u->clockSeqAndNode[5],
		 u->clockSeqAndNode[6], u->clockSeqAndNode[7]);
	if (strcmp(base, want) != 0) {
		sim_log("TA file %s holds TA %.36s", base, want);
		ta.load_error = TEE_ERROR_BAD_FORMAT;
	}
}

static void load_ta(void)
{
	ta.dl = dlopen(ta.path, RTLD_NOW | RTLD_LOCAL);
	if (!ta.dl) {
		sim_log("cannot load TA: %s", dlerror());
		ta.load_error = TEE_ERROR_BAD_FORMAT;
		return;
	}
	ta.props = resolve("sim_ta_props");
	ta.create = (sim_create_fn)resolve("TA_CreateEntryPoint");
	ta.destroy = (sim_destroy_fn)resolve("TA_DestroyEntryPoint");
	ta.open = (sim_open_fn)resolve("TA_OpenSessionEntryPoint");
	ta.close = (sim_close_fn)resolve("TA_CloseSessionEntryPoint");
	ta.invoke = (sim_invoke_fn)resolve("TA_InvokeCommandEntryPoint");
	if (!ta.props || !ta.create || !ta.destroy || !ta.open || !ta.close ||
	    !ta.invoke) {
		ta.load_error = TEE_ERROR_BAD_FORMAT;
		return;
	}
	if (ta.props->abi != SIM_TA_PROPS_ABI) {
		sim_log("TA %s built for sim_ta_props ABI %" PRIu32 ", host has %d",
			ta.path, ta.props->abi, SIM_TA_PROPS_ABI);
		ta.load_error = TEE_ERROR_BAD_FORMAT;
		return;
	}
	check_uuid();
}

static struct sim_map *find_map(uint64_t id)
{
	size_t i;

	for (i = 0; i < n_maps; i++)
		if (maps[i].id == id)
			return &maps[i];
	return NULL;
}

static void unmap_id(uint64_t id)
{
	struct sim_map *m = find_map(id);

	if (!m)
		return;
	munmap(m->addr, m->len);
	*m = maps[--n_maps];
}

static bool add_map(uint64_t id, int fd, uint64_t len)
{
	void *addr;

	if (len == 0 || len > SIZE_MAX || find_map(id)) {
		close(fd);
		return false;
	}
	addr = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (addr == MAP_FAILED) {
		sim_log("mmap of shared memory (%" PRIu64 " bytes) failed: %s",
			len, strerror(errno));
		return false;
	}
	if (n_maps == cap_maps) {
		size_t nc = cap_maps ? cap_maps * 2 : 16;
		struct sim_map *nm = realloc(maps, nc * sizeof(*nm));

		if (!nm) {
			munmap(addr, (size_t)len);
			return false;
		}
		maps = nm;
		cap_maps = nc;
	}
	maps[n_maps].id = id;
	maps[n_maps].addr = addr;
	maps[n_maps].len = (size_t)len;
	n_maps++;
	return true;
}

/* Receives one request and its fds; exits on EOF (client gone). */
static void recv_req(struct sim_req *req, int *fds, unsigned int *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * SIM_MAX_NEWMAP)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = { .iov_base = req, .iov_len = sizeof(*req) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf.buf,
		.msg_controllen = sizeof(cbuf.buf),
	};
	struct cmsghdr *c;
	ssize_t n;

	*nfds = 0;
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n == 0)
		_exit(0);
	if (n < 0)
		die("recvmsg");
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		size_t k, cnt;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < cnt; k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
			if (*nfds < SIM_MAX_NEWMAP)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	if ((size_t)n != sizeof(*req) || req->magic != SIM_PROTO_MAGIC_REQ ||
	    (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    req->n_newmap != *nfds || req->n_unmap > SIM_MAX_UNMAP) {
		sim_log("malformed request from client");
		_exit(1);
	}
}

static void send_rsp(const struct sim_rsp *rsp)
{
	ssize_t n;

	do {
		n = send(sock, rsp, sizeof(*rsp), MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EPIPE || errno == ECONNRESET)
			_exit(0);
		die("send");
	}
}

/*
 * Turns the wire parameters into TEE_Params pointing into this process's
 * mappings.  Returns false if a memref does not fit its mapping (a client
 * bug: the client checks bounds before sending).
 */
static bool build_params(const struct sim_req *req, TEE_Param *p,
			 struct sim_region *regions, unsigned int *n_regions)
{
	unsigned int i;

	memset(p, 0, sizeof(TEE_Param) * TEE_NUM_PARAMS);
	*n_regions = 0;
	for (i = 0; i < TEE_NUM_PARAMS; i++) {
		uint32_t t = TEE_PARAM_TYPE_GET(req->param_types, i);
		const struct sim_wire_param *w = &req->params[i];
		struct sim_map *m;

		switch (t) {
		case TEE_PARAM_TYPE_NONE:
			break;
		case TEE_PARAM_TYPE_VALUE_INPUT:
		case TEE_PARAM_TYPE_VALUE_OUTPUT:
		case TEE_PARAM_TYPE_VALUE_INOUT:
			p[i].value.a = w->a;
			p[i].value.b = w->b;
			break;
		case TEE_PARAM_TYPE_MEMREF_INPUT:
		case TEE_PARAM_TYPE_MEMREF_OUTPUT:
		case TEE_PARAM_TYPE_MEMREF_INOUT:
			if (w->shm_id == 0) {
				/* TEE_MEMREF_NULL: NULL buffer, size 0. */
				if (w->size != 0)
					return false;
				break;
			}
			m = find_map(w->shm_id);
			if (!m || w->offset > m->len ||
			    w->size > m->len - w->offset)
				return false;
			p[i].memref.buffer = m->addr + w->offset;
			p[i].memref.size = (size_t)w->size;
			regions[*n_regions].start =
				(uintptr_t)p[i].memref.buffer;
			regions[*n_regions].len = (size_t)w->size;
			regions[*n_regions].writable =
				t != TEE_PARAM_TYPE_MEMREF_INPUT;
			(*n_regions)++;
			break;
		default:
			return false;
		}
	}
	return true;
}

static void fill_rsp(struct sim_rsp *rsp, uint32_t types, const TEE_Param *p)
{
	unsigned int i;

	for (i = 0; i < TEE_NUM_PARAMS; i++) {
		uint32_t t = TEE_PARAM_TYPE_GET(types, i);

		if (t >= TEE_PARAM_TYPE_MEMREF_INPUT) {
			rsp->params[i].size = p[i].memref.size;
		} else if (t != TEE_PARAM_TYPE_NONE) {
			rsp->params[i].a = p[i].value.a;
			rsp->params[i].b = p[i].value.b;
		}
	}
}

static void *ta_thread(void *arg)
{
	bool opened = false;

	(void)arg;
	for (;;) {
		struct sim_req req;
		struct sim_rsp rsp;
		struct sim_region regions[TEE_NUM_PARAMS];
		unsigned int n_regions, nfds, i;
		TEE_Param p[TEE_NUM_PARAMS];
		int fds[SIM_MAX_NEWMAP];
		bool maps_ok = true;

		recv_req(&req, fds, &nfds);
		for (i = 0; i < req.n_unmap; i++)
			unmap_id(req.unmap[i]);
		for (i = 0; i < nfds; i++)
			if (!add_map(req.newmap[i].shm_id, fds[i],
				     req.newmap[i].len))
				maps_ok = false;

		memset(&rsp, 0, sizeof(rsp));
		rsp.magic = SIM_PROTO_MAGIC_RSP;
		rsp.origin = TEE_ORIGIN_TRUSTED_APP;

		if (req.op == SIM_OP_OPEN && (opened || ta.load_error)) {
			rsp.result = opened ? TEE_ERROR_BAD_STATE : ta.load_error;
			rsp.origin = TEE_ORIGIN_TEE;
			send_rsp(&rsp);
			/* Reported to the client (and logged above). */
			_exit(0);
		}
		if (req.op != SIM_OP_OPEN && !opened) {
			sim_log("request before open");
			_exit(1);
		}
		if (!maps_ok ||
		    !build_params(&req, p, regions, &n_regions)) {
			/* Cannot happen with a well-behaved client. */
			rsp.result = maps_ok ? TEE_ERROR_BAD_PARAMETERS :
					       TEE_ERROR_OUT_OF_MEMORY;
			rsp.origin = TEE_ORIGIN_COMMS;
			if (req.op == SIM_OP_OPEN) {
				send_rsp(&rsp);
				_exit(1);
			}
			if (req.op != SIM_OP_CLOSE) {
				send_rsp(&rsp);
				continue;
			}
			n_regions = 0;
			memset(p, 0, sizeof(p));
		}

		switch (req.op) {
		case SIM_OP_OPEN:
			sim_rt.client_login = req.login;
			rsp.result = ta.create();
			if (rsp.result != TEE_SUCCESS) {
				send_rsp(&rsp);
				_exit(0);
			}
			sim_runtime_enter(regions, n_regions);
			rsp.result = ta.open(req.param_types, p,
					     &ta.session_ctx);
			sim_runtime_leave();
			fill_rsp(&rsp, req.param_types, p);
			if (rsp.result != TEE_SUCCESS) {
				/* Last (only) session failed: the instance
				 * goes away, as on OP-TEE. */
				ta.destroy();
				send_rsp(&rsp);
				_exit(0);
			}
			opened = true;
			send_rsp(&rsp);
			break;
		case SIM_OP_INVOKE:
			sim_runtime_enter(regions, n_regions);
			rsp.result = ta.invoke(ta.session_ctx, req.cmd,
					       req.param_types, p);
			sim_runtime_leave();
			fill_rsp(&rsp, req.param_types, p);
			send_rsp(&rsp);
			break;
		case SIM_OP_CLOSE:
			sim_runtime_enter(NULL, 0);
			ta.close(ta.session_ctx);
			ta.destroy();
			sim_runtime_leave();
			rsp.result = TEE_SUCCESS;
			send_rsp(&rsp);
			_exit(0);
		default:
			sim_log("unknown request %" PRIu32, req.op);
			_exit(1);
		}
	}
	return NULL;
}

/* Returns when the client end of the socket is gone. */
static void watch_client(void)
{
	for (;;) {
		struct pollfd pfd = { .fd = sock, .events = POLLRDHUP };
		int r = poll(&pfd, 1, -1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("poll");
		if (pfd.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL))
			return;
	}
}

int main(int argc, char **argv)
{
	pthread_attr_t attr;
	pthread_t th;
	size_t stack;
	void *ctrl;
	char *base;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <ta.so>  (started by libteec.so, "
			"with the session socket on fd %d and the control page "
			"on fd %d)\n", argv[0], SIM_HOST_SOCK_FD,
			SIM_HOST_CTRL_FD);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Terminal signals go to the whole process group; a TA instance does
	 * not die of the user's Ctrl-C, it ends when its client does. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	/* Nothing else the client had open belongs to the TA. */
	closefrom(SIM_HOST_CTRL_FD + 1);

	ta.path = argv[1];
	/* Until the TA's own UUID is known: the file name's first 8 chars. */
	base = strrchr(ta.path, '/');
	snprintf(sim_rt.prefix, sizeof(sim_rt.prefix), "[ta %.8s]",
		 base ? base + 1 : ta.path);

	ctrl = mmap(NULL, SIM_CTRL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		    SIM_HOST_CTRL_FD, 0);
	if (ctrl == MAP_FAILED)
		die("mmap control page");
	close(SIM_HOST_CTRL_FD);

	load_ta();
	sim_runtime_setup(ta.load_error ? NULL : ta.props, ctrl, false);
	if (!ta.load_error && (ta.props->flags & TA_FLAG_SINGLE_INSTANCE))
		sim_log("note: TA_FLAG_SINGLE_INSTANCE is not simulated; each "
			"session gets its own instance");

	stack = SIM_STACK_SLACK;
	if (!ta.load_error)
		stack += ta.props->stack_size;
	if (stack < (size_t)PTHREAD_STACK_MIN)
		stack = PTHREAD_STACK_MIN;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, stack);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	errno = pthread_create(&th, &attr, ta_thread, NULL);
	if (errno)
		die("pthread_create");

	watch_client();
	_exit(0);
}

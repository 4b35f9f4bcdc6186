/* SPDX-License-Identifier: Apache-2.0 */
/*
 * teec_context.c - TEEC_InitializeContext / FinalizeContext and shared
 * memory (TEEC_RegisterSharedMemory, TEEC_AllocateSharedMemory,
 * TEEC_ReleaseSharedMemory) of the simulator's libteec.
 *
 * Every shared-memory block is a memfd:
 *  - allocated memory is the memfd mapping itself, so the TA host maps the
 *    same pages (zero copy);
 *  - registered memory keeps the caller's buffer and gets a memfd shadow of
 *    the same size; bytes are copied in before and out after each call that
 *    uses them, as OP-TEE's libteec does when the kernel cannot register the
 *    caller's pages.
 * The memfd is passed to a session's TA host the first time a call on that
 * session uses the block.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "teec_internal.h"

static pthread_once_t sim_dir_once = PTHREAD_ONCE_INIT;
static char sim_dir[PATH_MAX];
static uint64_t sim_shm_counter;

void sim_client_log(const char *fmt, ...)
{
	char buf[512];
	int n, m;
	va_list ap;

	n = snprintf(buf, sizeof(buf), "teespark-sim: ");
	va_start(ap, fmt);
	m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, (size_t)n) < 0)
		return;
}

static void sim_find_dir(void)
{
	Dl_info info;
	const char *slash;

	if (!dladdr((void *)TEEC_InitializeContext, &info) ||
	    !info.dli_fname || !(slash = strrchr(info.dli_fname, '/'))) {
		snprintf(sim_dir, sizeof(sim_dir), ".");
		return;
	}
	snprintf(sim_dir, sizeof(sim_dir), "%.*s",
		 (int)(slash - info.dli_fname), info.dli_fname);
	if (!sim_dir[0])
		snprintf(sim_dir, sizeof(sim_dir), "/");
}

const char *sim_lib_dir(void)
{
	pthread_once(&sim_dir_once, sim_find_dir);
	return sim_dir;
}

uint64_t sim_next_shm_id(void)
{
	return __atomic_add_fetch(&sim_shm_counter, 1, __ATOMIC_RELAXED);
}

int sim_memfd_map(size_t len, const char *name, int *fd_out, void **addr_out)
{
	int fd;
	void *addr;

	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)len) < 0)
		goto fail;
	/* The size is fixed for the block's life: neither side can make the
	 * other's mapping fault by shrinking the file. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto fail;
	addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED)
		goto fail;
	*fd_out = fd;
	*addr_out = addr;
	return 0;
fail:
	close(fd);
	return -1;
}

TEEC_Result TEEC_InitializeContext(const char *name, TEEC_Context *context)
{
	char host[PATH_MAX];
	const char *env;

	if (!context)
		return TEEC_ERROR_BAD_PARAMETERS;
	/* Like OP-TEE: NULL or its own name; anything else is another TEE. */
	if (name && strcmp(name, "optee-tz") != 0 &&
	    strcmp(name, "teespark-sim") != 0)
		return TEEC_ERROR_ITEM_NOT_FOUND;
	env = getenv("TEESPARK_SIM_TA_HOST");
	if (env && *env)
		snprintf(host, sizeof(host), "%s", env);
	else
		snprintf(host, sizeof(host), "%s/teespark-ta-host",
			 sim_lib_dir());
	/* No TA host = no TEE device, as when /dev/tee0 is missing. */
	if (access(host, X_OK) != 0) {
		sim_client_log("TA host %s not found: %s", host,
			       strerror(errno));
		return TEEC_ERROR_ITEM_NOT_FOUND;
	}
	context->imp.fd = SIM_CTX_MAGIC;
	context->imp.reg_mem = true;
	context->imp.memref_null = true;
	return TEEC_SUCCESS;
}

void TEEC_FinalizeContext(TEEC_Context *context)
{
	/* GP: sessions and shared memory must be released first; there is no
	 * context-wide state to tear down. */
	if (context)
		context->imp.fd = -1;
}

static TEEC_Result sim_shm_check(TEEC_Context *context,
				 TEEC_SharedMemory *shm)
{
	if (!context || !shm)
		return TEEC_ERROR_BAD_PARAMETERS;
	if (context->imp.fd != SIM_CTX_MAGIC)
		return TEEC_ERROR_BAD_PARAMETERS;
	if (!shm->flags ||
	    (shm->flags & ~(uint32_t)(TEEC_MEM_INPUT | TEEC_MEM_OUTPUT)))
		return TEEC_ERROR_BAD_PARAMETERS;
	return TEEC_SUCCESS;
}

static TEEC_Result sim_shm_create(TEEC_SharedMemory *shm, bool registered)
{
	size_t len = shm->size ? shm->size : 8;	/* GP/OP-TEE: 0 -> 8 */
	void *addr;
	int fd;

	if (sim_memfd_map(len, registered ? "teespark-shm-shadow" :
					    "teespark-shm", &fd, &addr) < 0)
		return errno == ENOMEM || errno == EFBIG || errno == EINVAL ?
		       TEEC_ERROR_OUT_OF_MEMORY : TEEC_ERROR_GENERIC;
	shm->imp.id = (int)sim_next_shm_id();
	shm->imp.alloced_size = len;
	shm->imp.registered_fd = fd;
	shm->imp.flags = shm->flags;
	if (registered) {
		shm->imp.shadow_buffer = addr;
	} else {
		shm->imp.shadow_buffer = NULL;
		shm->buffer = addr;
	}
	return TEEC_SUCCESS;
}

TEEC_Result TEEC_RegisterSharedMemory(TEEC_Context *context,
				      TEEC_SharedMemory *sharedMem)
{
	TEEC_Result res = sim_shm_check(context, sharedMem);

	if (res != TEEC_SUCCESS)
		return res;
	if (!sharedMem->buffer && sharedMem->size)
		return TEEC_ERROR_BAD_PARAMETERS;
	return sim_shm_create(sharedMem, true);
}

TEEC_Result TEEC_AllocateSharedMemory(TEEC_Context *context,
				      TEEC_SharedMemory *sharedMem)
{
	TEEC_Result res = sim_shm_check(context, sharedMem);

	if (res != TEEC_SUCCESS)
		return res;
	return sim_shm_create(sharedMem, false);
}

void TEEC_ReleaseSharedMemory(TEEC_SharedMemory *sharedMemory)
{
	TEEC_SharedMemory *shm = sharedMemory;

	if (!shm || shm->imp.id <= 0 || shm->imp.registered_fd < 0)
		return;
	pthread_mutex_lock(&sim_lock);
	sim_sessions_forget_shm_locked((uint64_t)shm->imp.id);
	pthread_mutex_unlock(&sim_lock);
	if (shm->imp.shadow_buffer) {
		munmap(shm->imp.shadow_buffer, shm->imp.alloced_size);
	} else {
		munmap(shm->buffer, shm->imp.alloced_size);
		shm->buffer = NULL;
		shm->size = 0;
	}
	close(shm->imp.registered_fd);
	shm->imp.id = -1;
	shm->imp.alloced_size = 0;
	shm->imp.shadow_buffer = NULL;
	shm->imp.registered_fd = -1;
}

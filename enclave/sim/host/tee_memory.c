/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tee_memory.c - GP Internal Core API memory functions for the simulator:
 * TEE_Malloc/Realloc/Free bounded by the TA's TA_DATA_SIZE, TEE_MemMove,
 * TEE_MemFill, a constant-time TEE_MemCompare and
 * TEE_CheckMemoryAccessRights.
 *
 * Heap accounting: OP-TEE gives a TA a static heap of TA_DATA_SIZE bytes and
 * its allocator's headers come out of that heap too.  Here each block is
 * taken from the host's malloc with a 32-byte header and
 * size + header bytes are charged against the limit, so a TA that fits the
 * simulator's limit has a little slack on OP-TEE, not the other way round.
 * (OP-TEE's heap can also fragment; the simulator does not model that.)
 * Only TEE_Malloc is bounded: memory that libc or OpenSSL allocate on the
 * TA's behalf (crypto state) is not, matching OP-TEE where crypto state
 * lives in the TEE core.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sim_runtime.h"

#define SIM_ALLOC_MAGIC 0x54414c4c4f43u	/* "TALLOC" */

/* Live blocks are kept in a list so TEE_CheckMemoryAccessRights can tell
 * TA heap from everything else. 32 bytes keeps the payload 16-aligned. */
struct sim_alloc {
	struct sim_alloc *prev;
	struct sim_alloc *next;
	size_t size;
	uint64_t magic;
};

_Static_assert(sizeof(struct sim_alloc) == 32, "header must stay 32 bytes");

static pthread_mutex_t sim_heap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sim_alloc *sim_heap_head;
static size_t sim_heap_bytes;

size_t sim_heap_used(void)
{
	size_t v;

	pthread_mutex_lock(&sim_heap_lock);
	v = sim_heap_bytes;
	pthread_mutex_unlock(&sim_heap_lock);
	return v;
}

static size_t sim_charge(size_t size)
{
	return size + sizeof(struct sim_alloc);
}

/* Reserves the charge for a block of `size`; false if over the limit. */
static bool sim_reserve(size_t size)
{
	bool ok;

	if (size > SIZE_MAX - sizeof(struct sim_alloc))
		return false;
	pthread_mutex_lock(&sim_heap_lock);
	ok = sim_charge(size) <= sim_rt.heap_limit - sim_heap_bytes &&
	     sim_heap_bytes <= sim_rt.heap_limit;
	if (ok)
		sim_heap_bytes += sim_charge(size);
	pthread_mutex_unlock(&sim_heap_lock);
	return ok;
}

static void sim_unreserve(size_t size)
{
	pthread_mutex_lock(&sim_heap_lock);
	sim_heap_bytes -= sim_charge(size);
	pthread_mutex_unlock(&sim_heap_lock);
}

static void sim_link(struct sim_alloc *h)
{
	pthread_mutex_lock(&sim_heap_lock);
	h->prev = NULL;
	h->next = sim_heap_head;
	if (sim_heap_head)
		sim_heap_head->prev = h;
	sim_heap_head = h;
	pthread_mutex_unlock(&sim_heap_lock);
}

static void sim_unlink(struct sim_alloc *h)
{
	pthread_mutex_lock(&sim_heap_lock);
	if (h->prev)
		h->prev->next = h->next;
	else
		sim_heap_head = h->next;
	if (h->next)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&sim_heap_lock);
}

/* The header of a TEE_Malloc block; panics on anything else (GP: freeing a
 * pointer that TEE_Malloc did not return is a programmer error). */
static struct sim_alloc *sim_header(void *buffer)
{
	struct sim_alloc *h = (struct sim_alloc *)buffer - 1;

	if (h->magic != SIM_ALLOC_MAGIC) {
		sim_log("TEE_Free/TEE_Realloc of a pointer not from TEE_Malloc");
		TEE_Panic(TEE_ERROR_BAD_PARAMETERS);
	}
	return h;
}

void *TEE_Malloc(size_t size, uint32_t hint)
{
	struct sim_alloc *h;

	/* GP reserves hints below 0x80000000; unknown GP bits fail. */
	if (hint & 0x7fffffffu & ~(uint32_t)(TEE_MALLOC_NO_FILL |
					     TEE_MALLOC_NO_SHARE))
		return NULL;
	if (!sim_reserve(size))
		return NULL;
	h = malloc(sim_charge(size));
	if (!h) {
		sim_unreserve(size);
		return NULL;
	}
	h->size = size;
	h->magic = SIM_ALLOC_MAGIC;
	if (!(hint & TEE_MALLOC_NO_FILL))
		memset(h + 1, 0, size);
	sim_link(h);
	return h + 1;
}

void TEE_Free(void *buffer)
{
	struct sim_alloc *h;

	if (!buffer)
		return;
	h = sim_header(buffer);
	sim_unlink(h);
	h->magic = 0;
	sim_unreserve(h->size);
	free(h);
}

/* GP: NULL buffer behaves as TEE_Malloc; on failure the old block stays
 * valid and NULL is returned.  Bytes past the old size are zeroed. */
void *TEE_Realloc(void *buffer, size_t newSize)
{
	struct sim_alloc *h;
	void *n;

	if (!buffer)
		return TEE_Malloc(newSize, TEE_MALLOC_FILL_ZERO);
	h = sim_header(buffer);
	n = TEE_Malloc(newSize, TEE_MALLOC_NO_FILL);
	if (!n)
		return NULL;
	if (newSize > h->size) {
		memcpy(n, buffer, h->size);
		memset((uint8_t *)n + h->size, 0, newSize - h->size);
	} else {
		memcpy(n, buffer, newSize);
	}
	TEE_Free(buffer);
	return n;
}

void *TEE_MemMove(void *dest, const void *src, size_t size)
{
	return memmove(dest, src, size);
}

void TEE_MemFill(void *buff, uint32_t x, size_t size)
{
	memset(buff, (int)(uint8_t)x, size);
}

/* Compares two buffers with memcmp's sign convention: the difference of the
 * first differing bytes, or 0.  Every byte is read; no branch depends on the
 * contents.
 * Leaks: size.  Hides: the contents, whether and where the buffers differ. */
int32_t TEE_MemCompare(const void *buffer1, const void *buffer2, size_t size)
{
	const uint8_t *p = buffer1;
	const uint8_t *q = buffer2;
	uint32_t res = 0;	/* first difference, two's complement */
	uint32_t found = 0;	/* 1 once a difference was seen */
	size_t i;

	for (i = 0; i < size; i++) {
		uint32_t d = (uint32_t)p[i] - (uint32_t)q[i];
		uint32_t nz = (d | (0u - d)) >> 31;	/* 1 iff d != 0 */
		uint32_t take = nz & (found ^ 1u);
		uint32_t mask = 0u - take;

		/* Keep the compiler from turning the masks into branches. */
		__asm__ volatile("" : "+r"(mask));
		res |= d & mask;
		found |= nz;
	}
	return (int32_t)res;
}

static bool sim_overlaps(uintptr_t a, size_t alen, uintptr_t b, size_t blen)
{
	return a < b + blen && b < a + alen;
}

static bool sim_inside(uintptr_t a, size_t alen, uintptr_t b, size_t blen)
{
	return a >= b && alen <= blen && a - b <= blen - alen;
}

/*
 * GP TEE_CheckMemoryAccessRights.  The simulator knows two kinds of memory:
 * the memrefs of the current entry point (memory shared with the client) and
 * TEE_Malloc blocks (TA-private).  Rules:
 *  - a range overlapping a memref must lie inside it; it is shared memory, so
 *    it needs TEE_MEMORY_ACCESS_ANY_OWNER (or _NONSECURE) and is refused with
 *    _SECURE; _WRITE needs an output memref;
 *  - a range overlapping a heap block must lie inside it; refused with
 *    _NONSECURE;
 *  - anything else (stack, .data, .bss) is accepted as TA-private memory,
 *    unless _NONSECURE is asked for: the simulator cannot enumerate those
 *    regions cheaply, so it does not try to detect unmapped addresses.
 */
TEE_Result TEE_CheckMemoryAccessRights(uint32_t accessFlags, void *buffer,
				       size_t size)
{
	const uint32_t known = TEE_MEMORY_ACCESS_READ |
			       TEE_MEMORY_ACCESS_WRITE |
			       TEE_MEMORY_ACCESS_ANY_OWNER |
			       TEE_MEMORY_ACCESS_NONSECURE |
			       TEE_MEMORY_ACCESS_SECURE;
	uintptr_t a = (uintptr_t)buffer;
	struct sim_alloc *h;
	unsigned int i;
	TEE_Result res = TEE_SUCCESS;

	if (accessFlags & ~known)
		return TEE_ERROR_ACCESS_DENIED;
	if ((accessFlags & TEE_MEMORY_ACCESS_NONSECURE) &&
	    (accessFlags & TEE_MEMORY_ACCESS_SECURE))
		return TEE_ERROR_ACCESS_DENIED;
	if (size == 0)
		return TEE_SUCCESS;
	if (a + size < a)
		return TEE_ERROR_ACCESS_DENIED;

	for (i = 0; i < sim_rt.n_regions; i++) {
		const struct sim_region *r = &sim_rt.regions[i];

		if (!sim_overlaps(a, size, r->start, r->len))
			continue;
		if (!sim_inside(a, size, r->start, r->len))
			return TEE_ERROR_ACCESS_DENIED;
		if (!(accessFlags & (TEE_MEMORY_ACCESS_ANY_OWNER |
				     TEE_MEMORY_ACCESS_NONSECURE)))
			return TEE_ERROR_ACCESS_DENIED;
		if (accessFlags & TEE_MEMORY_ACCESS_SECURE)
			return TEE_ERROR_ACCESS_DENIED;
		if ((accessFlags & TEE_MEMORY_ACCESS_WRITE) && !r->writable)
			return TEE_ERROR_ACCESS_DENIED;
		return TEE_SUCCESS;
	}

	pthread_mutex_lock(&sim_heap_lock);
	for (h = sim_heap_head; h; h = h->next) {
		uintptr_t s = (uintptr_t)(h + 1);

		if (!sim_overlaps(a, size, s, h->size))
			continue;
		if (!sim_inside(a, size, s, h->size))
			res = TEE_ERROR_ACCESS_DENIED;
		break;
	}
	pthread_mutex_unlock(&sim_heap_lock);
	if (res != TEE_SUCCESS)
		return res;
	if (accessFlags & TEE_MEMORY_ACCESS_NONSECURE)
		return TEE_ERROR_ACCESS_DENIED;
	return TEE_SUCCESS;
}

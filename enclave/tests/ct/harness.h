/*
 * harness.h - the constant-time (ctgrind) harness shared by every program in
 * tests/ct/. Each program fills a kernel's inputs with random data, marks
 * every secret byte undefined for valgrind memcheck, and runs the kernel
 * (the shipped objects, $(BUILD)/obj/ops). Under
 *     valgrind -q --error-exitcode=1 --track-origins=yes PROGRAM
 * any branch on a secret reports "Conditional jump or move depends on
 * uninitialised value(s)" and any secret-dependent address "Use of
 * uninitialised value of size 8"; cmov and masked arithmetic are silent.
 *
 * The harness never branches on, indexes by or prints a result: results
 * are secret too. They only go to ct_sink(), which keeps the compiler from
 * dropping the kernel call.
 */
#ifndef TEESPARK_TESTS_CT_HARNESS_H
#define TEESPARK_TESTS_CT_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <valgrind/memcheck.h>

/* Mark len bytes at p secret (undefined for memcheck). */
#define CT_SECRET(p, len) VALGRIND_MAKE_MEM_UNDEFINED((p), (len))

/* Public sizes used by every program. */
extern const size_t ct_sizes[];
extern const size_t ct_sizes_count;

uint64_t ct_rand(void);
void ct_fill(void *p, size_t len);
void *ct_alloc(size_t len);    /* 64-byte aligned, zeroed, aborts on failure */

/* Swallow a secret result without looking at it. */
void ct_sink(const void *p, size_t len);

/* Provided by each program: its name and what it runs. */
extern const char ct_program_name[];
void ct_run(void);

#endif /* TEESPARK_TESTS_CT_HARNESS_H */

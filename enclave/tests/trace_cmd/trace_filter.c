/*
 * trace_filter.c - hash the windows of a valgrind lackey trace on the fly.
 *
 *   valgrind --tool=lackey --trace-mem=yes --log-fd=9 PROG 9>&1 >out |
 *       trace_filter [--dump N FILE]
 *
 * Reads the lackey log on stdin. A window opens at a client message line
 * "**<pid>** TRACE-CMD-BEGIN <label>" and closes at one containing
 * "TRACE-CMD-END" (trace_cmd_harness.c prints them around the commands
 * under test); for each window it prints one line
 *
 *   window <label> <sha256 of the window's trace lines> instr=<I lines>
 *          loads=<L> stores=<S> modifies=<M> other=<other lines>
 *
 * The hash covers the trace lines verbatim ("I  addr,size",
 * " L addr,size", " S ...", " M ..."): every instruction address and every
 * data address and size, in order. Other lines inside a window (valgrind
 * messages, which carry a pid) are counted, not hashed; the runner
 * requires other=0. Nothing is stored unless --dump N FILE is given
 * (debugging: write the N-th window's lines, counting from 0, to FILE, to
 * diff two windows).
 *
 * Exits 1 if a window is left open or a BEGIN comes inside a window.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* F_SETPIPE_SZ, memmem */
#endif
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define BUF_SIZE (1u << 22)

struct window {
	EVP_MD_CTX *md;
	int open;
	unsigned long n;
	unsigned long long instr, loads, stores, modifies, other;
	FILE *dump;
	char label[128];
};

static long dump_n = -1;
static const char *dump_path;

static int begin(struct window *w, const char *s, size_t len)
{
	const char *l = memmem(s, len, "TRACE-CMD-BEGIN", 15);
	size_t n = len - (size_t)(l + 15 - s);

	while (n && l[15] == ' ') {
		l++;
		n--;
	}
	if (n >= sizeof(w->label))
		n = sizeof(w->label) - 1;
	memcpy(w->label, l + 15, n);
	w->label[n] = 0;
	if (w->open) {
		fprintf(stderr, "trace_filter: BEGIN inside window %lu\n", w->n);
		return 1;
	}
	w->open = 1;
	w->instr = w->loads = w->stores = w->modifies = w->other = 0;
	if (EVP_DigestInit_ex(w->md, EVP_sha256(), NULL) != 1)
		return 1;
	if ((long)w->n == dump_n) {
		w->dump = fopen(dump_path, "w");
		if (!w->dump) {
			perror(dump_path);
			return 1;
		}
	}
	return 0;
}

static int end(struct window *w)
{
	unsigned char h[32];
	unsigned int hl = 0, i;

	if (!w->open) {
		fprintf(stderr, "trace_filter: END outside a window\n");
		return 1;
	}
	if (EVP_DigestFinal_ex(w->md, h, &hl) != 1)
		return 1;
	printf("window %s ", w->label[0] ? w->label : "-");
	for (i = 0; i < hl; i++)
		printf("%02x", h[i]);
	printf(" instr=%llu loads=%llu stores=%llu modifies=%llu other=%llu\n",
	       w->instr, w->loads, w->stores, w->modifies, w->other);
	fflush(stdout);
	if (w->dump)
		fclose(w->dump);
	w->dump = NULL;
	w->open = 0;
	w->n++;
	return 0;
}

/* One complete line (without its newline). */
static int line(struct window *w, const char *s, size_t len)
{
	if (len >= 2 && s[0] == '*' && s[1] == '*') {
		if (memmem(s, len, "TRACE-CMD-BEGIN", 15))
			return begin(w, s, len);
		if (memmem(s, len, "TRACE-CMD-END", 13))
			return end(w);
	}
	if (!w->open)
		return 0;
	if (len >= 3 && (s[0] == 'I' || (s[0] == ' ' &&
			 (s[1] == 'L' || s[1] == 'S' || s[1] == 'M')))) {
		if (s[0] == 'I')
			w->instr++;
		else if (s[1] == 'L')
			w->loads++;
		else if (s[1] == 'S')
			w->stores++;
		else
			w->modifies++;
		if (EVP_DigestUpdate(w->md, s, len) != 1 ||
		    EVP_DigestUpdate(w->md, "\n", 1) != 1)
			return 1;
		if (w->dump)
			fprintf(w->dump, "%.*s\n", (int)len, s);
	} else {
		w->other++;
		if (w->dump)
			fprintf(w->dump, "OTHER %.*s\n", (int)len, s);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char buf[BUF_SIZE];
	struct window w;
	size_t have = 0;
	ssize_t r;

	if (argc == 4 && !strcmp(argv[1], "--dump")) {
		dump_n = strtol(argv[2], NULL, 10);
		dump_path = argv[3];
	} else if (argc != 1) {
		fprintf(stderr, "usage: trace_filter [--dump N FILE] < lackey log\n");
		return 2;
	}
	memset(&w, 0, sizeof(w));
	w.md = EVP_MD_CTX_new();
	if (!w.md)
		return 1;
	/* lackey writes one line per write(2): a large pipe and reads that
	 * wait for it to fill spare both processes a wakeup per line. */
	(void)fcntl(0, F_SETPIPE_SZ, 1 << 20);
	for (;;) {
		char *p = buf, *nl;
		size_t left;

		r = read(0, buf + have, sizeof(buf) - have);
		if (r < 0)
			return 1;
		if (r == 0)
			break;
		have += (size_t)r;
		left = have;
		while ((nl = memchr(p, '\n', left)) != NULL) {
			if (line(&w, p, (size_t)(nl - p)))
				return 1;
			left -= (size_t)(nl + 1 - p);
			p = nl + 1;
		}
		memmove(buf, p, left);
		have = left;
		if ((size_t)r < (256u << 10)) {
			struct timespec ts = { 0, 2000000 };	/* 2 ms */

			nanosleep(&ts, NULL);
		}
	}
	if (have && line(&w, buf, have))
		return 1;
	if (w.open) {
		fprintf(stderr, "trace_filter: window %lu not closed\n", w.n);
		return 1;
	}
	EVP_MD_CTX_free(w.md);
	return 0;
}

/*
 * ct_expr.c - ctgrind for the expression evaluator: every program of
 * programs.h (together: every opcode and type path) runs over batches of
 * random rows that are marked secret (undefined for valgrind memcheck),
 * at several batch sizes, with the shipped objects ($(BUILD)/obj/expr).
 * The PROJECT and FILTER helpers run on the secret results too. Any branch
 * or address depending on row data makes valgrind fail the run.
 */
#include "../../../tests/ct/harness.h"

#include <stdio.h>
#include <stdlib.h>

#include "../expr.h"
#include "programs.h"

const char ct_program_name[] = "ct_expr";

static const size_t sizes[] = { 0, 1, 3, 17, 64 };

void ct_run(void)
{
	static struct pb p;
	size_t si;
	int k;

	for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
		size_t n = sizes[si];
		uint8_t *rows = ct_alloc(n * TEST_ROW_SIZE);

		for (k = 0; k < N_PROGRAMS; k++) {
			struct ts_expr_info info;
			struct ts_expr_col col;
			size_t wsn;
			uint8_t *ws, *out;
			uint32_t *keep;
			int32_t bad;

			build_program(&p, k);
			if (ts_expr_validate(p.buf, p.len, &info, &bad) != TS_EXPR_OK) {
				fprintf(stderr, "ct_expr: program %d invalid at %d\n", k, bad);
				exit(2);
			}
			wsn = ts_expr_workspace_size(&info, n);
			ws = ct_alloc(wsn);
			ct_fill(rows, n * TEST_ROW_SIZE);
			CT_SECRET(rows, n * TEST_ROW_SIZE);
			if (ts_expr_eval(p.buf, &info, rows, n, TEST_ROW_SIZE, ws, wsn,
					&col) != TS_EXPR_OK) {
				fprintf(stderr, "ct_expr: program %d failed\n", k);
				exit(2);
			}
			ct_sink(col.values, n * col.elem_size);
			ct_sink(col.nulls, n);
			if (col.type.kind == TS_T_BOOL) {
				keep = ct_alloc(n * 4);
				(void)ts_expr_filter_ctl(&col, keep);
				ct_sink(keep, n * 4);
				free(keep);
			}
			if (ts_expr_stored_width(&col.type) != 0) {
				size_t rs = 1 + ts_expr_stored_width(&col.type);

				out = ct_alloc(n * rs);
				(void)ts_expr_write_column(&col, out, rs, 1, 0);
				ct_sink(out, n * rs);
				free(out);
			}
			free(ws);
		}
		free(rows);
	}
}

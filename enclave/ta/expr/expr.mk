# ta/expr/expr.mk - the expression evaluator (included by enclave/Makefile;
# paths relative to enclave/). docs/EXPRESSIONS.md specifies the IR.
#
#   EXPR_OBJS        shipped evaluator objects, $(TA_CFLAGS); for the TA
#   EXPR_TRACE_OBJS  the same sources with -DOBL_TRACE plus the trace digest
#                    (ops/trace.c); for the trace-equality test only
#   $(BUILD)/lib/libteespark_expr.so        EXPR_OBJS, for the Python tests
#   $(BUILD)/lib/libteespark_expr_trace.so  EXPR_TRACE_OBJS (+ obl_trace_*)
#
# Test runners (each a phony target in TESTS, exit status non-zero on
# failure):
#   make -C enclave expr-test    per-opcode known answers, NULLs, validator
#   make -C enclave expr-ct      valgrind constant-time check of the shipped
#                                objects with the batch marked secret, plus
#                                a disassembly check for div/idiv; negative
#                                controls (short-circuit AND, branchy CASE,
#                                a secret division) must be caught
#   make -C enclave expr-trace   trace equality over batches of the same
#                                shape; a short-circuit control must differ
#
# The sources include only ../ct.h, ../trace.h, ct_arith.h, their own
# headers and C standard headers (no TEE API), so the OP-TEE / iTrustee
# build can list EXPR_NAMES in sub.mk unchanged (not done yet: the TA does
# not call the evaluator yet).

EXPR_NAMES := expr_validate expr_eval expr_ops_num expr_ops_dec expr_ops_str \
	expr_cast expr_output

EXPR_OBJS := $(EXPR_NAMES:%=$(BUILD)/obj/expr/%.o)
EXPR_TRACE_OBJS := $(EXPR_NAMES:%=$(BUILD)/obj/expr-trace/%.o) \
	$(BUILD)/obj/expr-trace/trace.o

EXPR_LIB := $(BUILD)/lib/libteespark_expr.so
EXPR_TRACE_LIB := $(BUILD)/lib/libteespark_expr_trace.so

all: $(EXPR_LIB) $(EXPR_TRACE_LIB)

$(EXPR_OBJS): $(BUILD)/obj/expr/%.o: ta/expr/%.c
	@mkdir -p $(@D)
	$(CC) $(TA_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/obj/expr-trace/expr_%.o: ta/expr/expr_%.c
	@mkdir -p $(@D)
	$(CC) $(TA_CFLAGS) -DOBL_TRACE -MMD -MP -c -o $@ $<

$(BUILD)/obj/expr-trace/trace.o: ta/ops/trace.c
	@mkdir -p $(@D)
	$(CC) $(TA_CFLAGS) -DOBL_TRACE -MMD -MP -c -o $@ $<

$(EXPR_LIB): $(EXPR_OBJS)
	@mkdir -p $(@D)
	$(CC) -shared -o $@ $^

$(EXPR_TRACE_LIB): $(EXPR_TRACE_OBJS)
	@mkdir -p $(@D)
	$(CC) -shared -o $@ $^

# --- tests -------------------------------------------------------------------

TESTS += expr-test expr-ct expr-trace
.PHONY: expr-test expr-ct expr-trace

EXPR_TOBJ := $(BUILD)/obj/expr-tests
EXPR_TEST := $(BUILD)/tests/expr_test

# The unit tests inline nothing secret-sensitive: host flags.
$(EXPR_TOBJ)/test_expr.o: ta/expr/tests/test_expr.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c -o $@ $<

$(EXPR_TEST): $(EXPR_TOBJ)/test_expr.o $(EXPR_OBJS)
	@mkdir -p $(@D)
	$(CC) -o $@ $^ -lm

expr-test: $(EXPR_TEST)
	$(EXPR_TEST)

# Negative controls: deliberately leaky evaluator pieces, compiled exactly
# like the evaluator (shipped flags).
$(EXPR_TOBJ)/leaky_expr.o: ta/expr/tests/leaky_expr.c
	@mkdir -p $(@D)
	$(CC) $(TA_CFLAGS) -MMD -MP -c -o $@ $<

$(EXPR_TOBJ)/leaky_expr_trace.o: ta/expr/tests/leaky_expr.c
	@mkdir -p $(@D)
	$(CC) $(TA_CFLAGS) -DOBL_TRACE -MMD -MP -c -o $@ $<

EXPR_CT_DIR := $(BUILD)/tests/expr-ct
EXPR_CT_PROGS := ct_expr
EXPR_CT_CONTROLS := ct_expr_leaky_and ct_expr_leaky_case

$(EXPR_TOBJ)/ct_harness.o: tests/ct/harness.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c -o $@ $<

$(EXPR_CT_PROGS:%=$(EXPR_TOBJ)/%.o) $(EXPR_CT_CONTROLS:%=$(EXPR_TOBJ)/%.o): \
		$(EXPR_TOBJ)/%.o: ta/expr/tests/%.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c -o $@ $<

$(EXPR_CT_DIR)/ct_expr: $(EXPR_TOBJ)/ct_expr.o $(EXPR_TOBJ)/ct_harness.o \
		$(EXPR_OBJS)
	@mkdir -p $(@D)
	$(CC) -o $@ $^

$(EXPR_CT_CONTROLS:%=$(EXPR_CT_DIR)/%): $(EXPR_CT_DIR)/%: $(EXPR_TOBJ)/%.o \
		$(EXPR_TOBJ)/ct_harness.o $(EXPR_TOBJ)/leaky_expr.o
	@mkdir -p $(@D)
	$(CC) -o $@ $^

# A secret-divisor division compiled with the shipped flags: the
# disassembly check must find its div instruction.
$(EXPR_TOBJ)/leaky_div.o: ta/expr/tests/leaky_div.c
	@mkdir -p $(@D)
	$(CC) $(TA_CFLAGS) -c -o $@ $<

expr-ct: $(EXPR_CT_DIR)/ct_expr $(EXPR_CT_DIR)/ct_expr_leaky_and \
		$(EXPR_CT_DIR)/ct_expr_leaky_case $(EXPR_TOBJ)/leaky_div.o
	sh ta/expr/tests/check_no_div.sh "$(EXPR_OBJS)" $(EXPR_TOBJ)/leaky_div.o
	sh tests/ct/run_ct.sh $(EXPR_CT_DIR) "$(EXPR_CT_PROGS)" \
		"$(EXPR_CT_CONTROLS)"

EXPR_TRACE_TEST := $(BUILD)/tests/expr_trace

$(EXPR_TOBJ)/trace_expr.o: ta/expr/tests/trace_expr.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -DOBL_TRACE -MMD -MP -c -o $@ $<

$(EXPR_TRACE_TEST): $(EXPR_TOBJ)/trace_expr.o $(EXPR_TOBJ)/leaky_expr_trace.o \
		$(EXPR_TRACE_OBJS)
	@mkdir -p $(@D)
	$(CC) -o $@ $^

expr-trace: $(EXPR_TRACE_TEST)
	$(EXPR_TRACE_TEST)

-include $(EXPR_OBJS:.o=.d) $(EXPR_TRACE_OBJS:.o=.d) $(wildcard $(EXPR_TOBJ)/*.d)

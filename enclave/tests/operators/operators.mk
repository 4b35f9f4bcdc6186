# tests/operators/operators.mk - the relational operator suites (included
# by tests/tests.mk; paths relative to enclave/). Each runner is a phony
# target that exits non-zero on failure:
#
#   make -C enclave operators-test    every obl_ operator vs its encrypted-mode
#                                     (op_*_fast) version, obl_expand vs a
#                                     reference
#   make -C enclave operators-ct      valgrind constant-time check of every
#                                     obl_ operator (shipped objects); the
#                                     encrypted-mode versions are the negative
#                                     controls and must be flagged
#   make -C enclave operators-trace   trace equality of every obl_ operator
#                                     over inputs of equal public sizes; the
#                                     encrypted-mode versions must differ

TESTS += operators-test operators-ct operators-trace

.PHONY: operators-test operators-ct operators-trace

OPT_OBJ := $(BUILD)/obj/tests/operators

# --- operators-test -----------------------------------------------------------

OPERATORS_TEST := $(BUILD)/tests/operators_test
OPT_TEST_OBJS := $(OPT_OBJ)/test_operators.o $(OPT_OBJ)/op_testdata.o

$(OPT_TEST_OBJS): $(OPT_OBJ)/%.o: tests/operators/%.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c -o $@ $<

$(OPERATORS_TEST): $(OPT_TEST_OBJS) $(OPS_OBJS)
	@mkdir -p $(@D)
	$(CC) -o $@ $^ -lm

operators-test: $(OPERATORS_TEST)
	$(OPERATORS_TEST)

# --- operators-ct: ctgrind (the harness of tests/ct) ---------------------------

# ct_operators runs every obl_ operator; ct_operators_fast (the control) runs
# the op_*_fast versions on the same secret inputs.
OPT_CT_KERNELS := ct_operators
OPT_CT_CONTROLS := ct_operators_fast
OPT_CT_DIR := $(BUILD)/tests/ct
OPT_CT_HARNESS_OBJ := $(OPT_OBJ)/ct_harness.o

$(OPT_CT_HARNESS_OBJ): tests/ct/harness.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c -o $@ $<

$(OPT_OBJ)/ct_operators.o: tests/operators/ct_operators.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c -o $@ $<

$(OPT_OBJ)/ct_operators_fast.o: tests/operators/ct_operators.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -DCT_OPERATORS_FAST -MMD -MP -c -o $@ $<

$(OPT_CT_DIR)/ct_operators $(OPT_CT_DIR)/ct_operators_fast: $(OPT_CT_DIR)/%: \
		$(OPT_OBJ)/%.o $(OPT_OBJ)/op_testdata.o $(OPT_CT_HARNESS_OBJ) $(OPS_OBJS)
	@mkdir -p $(@D)
	$(CC) -o $@ $^ -lm

operators-ct: $(OPT_CT_DIR)/ct_operators $(OPT_CT_DIR)/ct_operators_fast
	sh tests/ct/run_ct.sh $(OPT_CT_DIR) "$(OPT_CT_KERNELS)" "$(OPT_CT_CONTROLS)"

# --- operators-trace: trace equality --------------------------------------------

OPERATORS_TRACE := $(BUILD)/tests/operators_trace

$(OPT_OBJ)/trace_operators.o: tests/operators/trace_operators.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -DOBL_TRACE -MMD -MP -c -o $@ $<

$(OPT_OBJ)/op_testdata_trace.o: tests/operators/op_testdata.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -DOBL_TRACE -MMD -MP -c -o $@ $<

$(OPERATORS_TRACE): $(OPT_OBJ)/trace_operators.o $(OPT_OBJ)/op_testdata_trace.o \
		$(OPS_TRACE_OBJS)
	@mkdir -p $(@D)
	$(CC) -o $@ $^ -lm

operators-trace: $(OPERATORS_TRACE)
	$(OPERATORS_TRACE)

-include $(wildcard $(OPT_OBJ)/*.d)

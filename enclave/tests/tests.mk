# tests/tests.mk - the kernel test suites (included by enclave/Makefile;
# paths relative to enclave/). Each runner is a phony target that exits
# non-zero on failure and can be run alone:
#
#   make -C enclave kernels-test    correctness of every kernel vs its _ref
#   make -C enclave kernels-ct      valgrind constant-time check of the shipped
#                                   objects; negative controls must be caught
#   make -C enclave kernels-trace   trace equality with the trace build;
#                                   negative controls must differ
#   make -C enclave bench-kernels-c build $(BUILD)/bench/bench_sort
#
# Test programs go to $(BUILD)/tests/, objects to $(BUILD)/obj/tests/.

TESTS += kernels-test kernels-ct kernels-trace

.PHONY: kernels-test kernels-ct kernels-trace bench-kernels-c

KT_OBJ := $(BUILD)/obj/tests

# --- negative controls: leaky kernels, compiled exactly like the kernels ---

LEAKY_NAMES := leaky_sort leaky_lookup
LEAKY_OBJS := $(LEAKY_NAMES:%=$(BUILD)/obj/leaky/%.o)
LEAKY_TRACE_OBJS := $(LEAKY_NAMES:%=$(BUILD)/obj/leaky-trace/%.o)

$(LEAKY_OBJS): $(BUILD)/obj/leaky/%.o: tests/leaky/%.c
	@mkdir -p $(@D)
	$(CC) $(TA_CFLAGS) -MMD -MP -c -o $@ $<

$(LEAKY_TRACE_OBJS): $(BUILD)/obj/leaky-trace/%.o: tests/leaky/%.c
	@mkdir -p $(@D)
	$(CC) $(TA_CFLAGS) -DOBL_TRACE -MMD -MP -c -o $@ $<

# --- kernels-test: correctness ---------------------------------------------

KT_NAMES := test_main test_sort_bitonic test_compact_or test_scan test_key_encode
KT_OBJS := $(KT_NAMES:%=$(KT_OBJ)/kernels/%.o)
# test_ct.c inlines ct.h itself, so it is compiled with the shipped flags
# (AVX2 paths included), not the host flags.
KT_CT_OBJ := $(KT_OBJ)/kernels/test_ct.o
KERNELS_TEST := $(BUILD)/tests/kernels_test

$(KT_OBJS): $(KT_OBJ)/kernels/%.o: tests/kernels/%.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c -o $@ $<

$(KT_CT_OBJ): $(KT_OBJ)/kernels/%.o: tests/kernels/%.c
	@mkdir -p $(@D)
	$(CC) $(TA_CFLAGS) -D_GNU_SOURCE -MMD -MP -c -o $@ $<

$(KERNELS_TEST): $(KT_OBJS) $(KT_CT_OBJ) $(OPS_OBJS) $(OPS_REF_OBJS)
	@mkdir -p $(@D)
	$(CC) -o $@ $^ -lm

kernels-test: $(KERNELS_TEST)
	$(KERNELS_TEST)

# --- kernels-ct: valgrind constant-time harnesses --------------------------

CT_KERNELS := ct_sort_bitonic ct_compact_or ct_scan ct_key_encode ct_primitives
CT_CONTROLS := ct_leaky_sort ct_leaky_lookup
CT_PROGS := $(CT_KERNELS:%=$(BUILD)/tests/ct/%) $(CT_CONTROLS:%=$(BUILD)/tests/ct/%)
CT_HARNESS_OBJ := $(KT_OBJ)/ct/harness.o

$(CT_HARNESS_OBJ) $(CT_KERNELS:%=$(KT_OBJ)/ct/%.o) $(CT_CONTROLS:%=$(KT_OBJ)/ct/%.o): \
		$(KT_OBJ)/ct/%.o: tests/ct/%.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c -o $@ $<

# ct_primitives inlines ct.h into the harness: shipped flags.
$(KT_OBJ)/ct/ct_primitives.o: HOST_CFLAGS := $(TA_CFLAGS) -D_GNU_SOURCE

$(CT_KERNELS:%=$(BUILD)/tests/ct/%): $(BUILD)/tests/ct/%: $(KT_OBJ)/ct/%.o \
		$(CT_HARNESS_OBJ) $(OPS_OBJS)
	@mkdir -p $(@D)
	$(CC) -o $@ $^

$(CT_CONTROLS:%=$(BUILD)/tests/ct/%): $(BUILD)/tests/ct/%: $(KT_OBJ)/ct/%.o \
		$(CT_HARNESS_OBJ) $(LEAKY_OBJS)
	@mkdir -p $(@D)
	$(CC) -o $@ $^

kernels-ct: $(CT_PROGS)
	sh tests/ct/run_ct.sh $(BUILD)/tests/ct "$(CT_KERNELS)" "$(CT_CONTROLS)"

# --- kernels-trace: trace equality ----------------------------------------

TRACE_TEST := $(BUILD)/tests/trace_test

$(KT_OBJ)/trace/trace_test.o: tests/trace/trace_test.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -DOBL_TRACE -MMD -MP -c -o $@ $<

$(TRACE_TEST): $(KT_OBJ)/trace/trace_test.o $(OPS_TRACE_OBJS) $(LEAKY_TRACE_OBJS)
	@mkdir -p $(@D)
	$(CC) -o $@ $^

kernels-trace: $(TRACE_TEST)
	$(TRACE_TEST)

# --- benchmark ---------------------------------------------------------------

BENCH_SORT := $(BUILD)/bench/bench_sort

$(KT_OBJ)/bench/bench_sort.o: tests/bench/bench_sort.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c -o $@ $<

$(BENCH_SORT): $(KT_OBJ)/bench/bench_sort.o $(OPS_OBJS)
	@mkdir -p $(@D)
	$(CC) -o $@ $^

bench-kernels-c: $(BENCH_SORT)

-include $(KT_OBJS:.o=.d) $(KT_CT_OBJ:.o=.d) $(LEAKY_OBJS:.o=.d) \
	$(LEAKY_TRACE_OBJS:.o=.d) $(wildcard $(KT_OBJ)/ct/*.d) \
	$(KT_OBJ)/trace/trace_test.d $(KT_OBJ)/bench/bench_sort.d

# The relational operator suites (operators-test, operators-ct, operators-trace).
include tests/operators/operators.mk

# ta/tests/trace_cmd.mk - machine-level trace equality of the XSORT_* and
# STREAM commands on the shipped TA objects (included at the end of
# ta/ta_sim.mk; paths relative to enclave/). STREAM covers every mode:
# WIDEN, AGGREGATE, JOIN_PKFK, LIMIT, MAP, GROUP_COUNT, GENERATE, FILL.
#
#   make -C enclave cmd-trace   every scenario of trace_cmd_harness.c under
#                               valgrind --tool=lackey --trace-mem=yes: the
#                               same data twice and five data sets of the
#                               same public shape (random, all-equal keys,
#                               sorted, reverse-sorted, 90% skew) must give
#                               one instruction+data address trace (SHA-256,
#                               hashed on the fly by trace_filter); the leaky
#                               objects of xsort-ct, stream-ct and
#                               stream-expand-ct (XSORT merge, STREAM key
#                               comparison, MAP emit, GROUP_COUNT key
#                               comparison, FILL t < copies) must give
#                               different traces for different data on
#                               xsort, AGGREGATE, JOIN_PKFK, MAP,
#                               GROUP_COUNT and FILL
#
# Driver: tests/trace_cmd/run.sh (CMD_TRACE_JOBS=1 runs the scenarios one at
# a time; CMD_TRACE_ONLY="scen ..." runs a subset).

TRACE_CMD_HARNESS := $(BUILD)/tests/trace_cmd_harness
TRACE_CMD_HARNESS_LEAKY := $(BUILD)/tests/trace_cmd_harness_leaky
TRACE_CMD_FILTER := $(BUILD)/tests/trace_cmd_filter

$(TRACE_CMD_HARNESS): $(TA_TEST_OBJ)/trace_cmd_harness.o $(TA_INPROC_OBJS) \
		$(SIM_INTERNAL_LIB)
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(TA_INPROC_OBJS) $(TA_TEST_LIBS)

# The negative control: every leaky command object at once, calling the
# harness's leaky functions: ta_sim.mk's XSORT_MERGE_SPLIT (branchy merge),
# STREAM (early-exit key compare) and MAP (emit branching on the
# predicate), and stream_expand.mk's GROUP_COUNT / FILL (early-exit key
# compare, a t < copies loop). stream_expand.mk is included after this
# file, so its SX_LEAKY_OBJ is not set yet when this rule is read: the
# path is named here and the recipe (expanded when it runs) stops if it
# is no longer SX_LEAKY_OBJ; the object's rule and flags stay there.
TRACE_CMD_SX_LEAKY_OBJ := $(BUILD)/obj/ta-leaky/cmd/cmd_stream_expand.o
TRACE_CMD_LEAKY_OBJS := $(filter-out $(TA_OBJ)/cmd/cmd_merge_split.o \
	$(TA_OBJ)/cmd/cmd_stream.o $(TA_OBJ)/cmd/cmd_stream_map.o \
	$(TA_OBJ)/cmd/cmd_stream_expand.o,$(TA_INPROC_OBJS)) \
	$(TA_LEAKY_XSORT_OBJ) $(TA_LEAKY_STREAM_OBJ) \
	$(TA_LEAKY_STREAM_MAP_OBJ) $(TRACE_CMD_SX_LEAKY_OBJ) $(TA_TEST_OBJ)/cmd_leaky.o

$(TRACE_CMD_HARNESS_LEAKY): $(TA_TEST_OBJ)/trace_cmd_harness.o \
		$(TRACE_CMD_LEAKY_OBJS) $(SIM_INTERNAL_LIB)
	$(if $(filter $(SX_LEAKY_OBJ),$(TRACE_CMD_SX_LEAKY_OBJ)),,$(error \
		trace_cmd.mk: the leaky cmd_stream_expand.o is now \
		$(SX_LEAKY_OBJ); update TRACE_CMD_SX_LEAKY_OBJ))
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(TRACE_CMD_LEAKY_OBJS) $(TA_TEST_LIBS)

$(TRACE_CMD_FILTER): tests/trace_cmd/trace_filter.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -o $@ $< -lcrypto

all: $(TRACE_CMD_HARNESS) $(TRACE_CMD_FILTER)

.PHONY: cmd-trace
cmd-trace: $(TRACE_CMD_HARNESS) $(TRACE_CMD_HARNESS_LEAKY) $(TRACE_CMD_FILTER)
	@command -v valgrind >/dev/null || \
		{ echo "cmd-trace: valgrind not found (apt-get install valgrind)"; exit 1; }
	@mkdir -p $(BUILD)/tests/ta-storage
	$(TA_TEST_ENV) sh tests/trace_cmd/run.sh $(TRACE_CMD_HARNESS) \
		$(TRACE_CMD_HARNESS_LEAKY) $(TRACE_CMD_FILTER) \
		$(BUILD)/tests/trace_cmd

TESTS += cmd-trace

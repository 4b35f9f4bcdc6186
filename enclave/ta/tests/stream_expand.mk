# ta/tests/stream_expand.mk - tests of STREAM's join-expansion modes
# (GROUP_COUNT, GENERATE, FILL; ta/cmd/cmd_stream_expand.c). Included by
# ta/ta_sim.mk; paths relative to enclave/.
#
#   make -C enclave stream-expand-test  the many-to-many join pipeline
#                                       (WIDEN, XSORT, GROUP_COUNT x2,
#                                       GENERATE, FILL, LIMIT, JOIN_PKFK)
#                                       in-process against a nested loop;
#                                       GROUP_COUNT's annotations against a
#                                       reference; FILL refusing a wrong m;
#                                       every request check; the join of
#                                       tables ~10x the heap at a 256 KiB
#                                       heap
#   make -C enclave stream-expand-ct    the pipeline under valgrind with
#                                       decrypted data marked secret; the
#                                       leaky controls (branchy key
#                                       comparison in GROUP_COUNT, branchy
#                                       t < copies in FILL) must each be
#                                       caught

SX_TEST := $(BUILD)/tests/stream_expand_test
SX_CT := $(BUILD)/tests/ct_stream_expand_harness
SX_CT_LEAKY := $(BUILD)/tests/ct_stream_expand_harness_leaky
SX_PIPELINE_OBJ := $(TA_TEST_OBJ)/stream_expand_pipeline.o

$(SX_TEST) $(SX_CT): $(BUILD)/tests/%: $(TA_TEST_OBJ)/%.o $(SX_PIPELINE_OBJ) \
		$(TA_INPROC_OBJS) $(SIM_INTERNAL_LIB)
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(SX_PIPELINE_OBJ) $(TA_INPROC_OBJS) $(TA_TEST_LIBS)

# Negative control: cmd_stream_expand.c with the shipped flags, calling the
# harness's leaky comparisons (which leak only when the harness is told to).
SX_LEAKY_OBJ := $(BUILD)/obj/ta-leaky/cmd/cmd_stream_expand.o
$(SX_LEAKY_OBJ): ta/cmd/cmd_stream_expand.c
	@mkdir -p $(@D)
	$(CC) $(TA_SIM_CFLAGS) -DSTREAM_KEY_EQ=stream_expand_key_eq_leaky \
		-DEXPAND_U64_LT=stream_expand_u64_lt_leaky -MMD -MP -c -o $@ $<

SX_LEAKY_OBJS := $(filter-out $(TA_OBJ)/cmd/cmd_stream_expand.o,\
	$(TA_INPROC_OBJS)) $(SX_LEAKY_OBJ)

$(SX_CT_LEAKY): $(TA_TEST_OBJ)/ct_stream_expand_harness.o $(SX_PIPELINE_OBJ) \
		$(SX_LEAKY_OBJS) $(SIM_INTERNAL_LIB)
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(SX_PIPELINE_OBJ) $(SX_LEAKY_OBJS) $(TA_TEST_LIBS)

all: $(SX_TEST) $(SX_CT)

.PHONY: stream-expand-test stream-expand-ct
stream-expand-test: $(SX_TEST)
	@mkdir -p $(BUILD)/tests/ta-storage
	$(TA_TEST_ENV) $(SX_TEST)
	$(TA_TEST_ENV) TEESPARK_TA_DATA_SIZE=262144 $(SX_TEST) \
		test_expand_join_larger_than_heap test_fill_rejects_wrong_m

# The clean run, then the leaky build once per leaking mode: each must be
# flagged, and the clean build must not be.
stream-expand-ct: $(SX_CT) $(SX_CT_LEAKY)
	@command -v valgrind >/dev/null || \
		{ echo "stream-expand-ct: valgrind not found (apt-get install valgrind)"; exit 1; }
	@mkdir -p $(BUILD)/tests/ta-storage
	$(TA_TEST_ENV) TEESPARK_SIM_CT_SECRETS=1 valgrind -q --error-exitcode=1 \
		--track-origins=yes $(SX_CT)
	@for mode in gc fill; do \
		log=$(BUILD)/tests/ct_stream_expand_harness_leaky_$$mode.log; \
		$(TA_TEST_ENV) TEESPARK_SIM_CT_SECRETS=1 valgrind -q \
			--error-exitcode=1 $(SX_CT_LEAKY) $$mode >$$log 2>&1; \
		rc=$$?; \
		hits=$$(grep -c 'depends on uninitialised value' $$log); \
		if [ $$rc -eq 1 ] && [ $$hits -gt 0 ]; then \
			echo "stream-expand-ct negative control ($$mode): caught ($$hits valgrind reports)"; \
		else \
			echo "stream-expand-ct negative control ($$mode) NOT caught (valgrind exit $$rc, $$hits reports): the check is broken"; \
			cat $$log; exit 1; \
		fi; \
	done
	@echo "stream-expand-ct: 3 passed, 0 failed"

TESTS += stream-expand-test stream-expand-ct

-include $(SX_LEAKY_OBJ:.o=.d)

# ta/ta_sim.mk - the teespark TA built for the host simulator, its C tests,
# the constant-time check of its commands and its benchmark. Included by
# enclave/Makefile (after sim/sim.mk and ta/ops/ops.mk); paths relative to
# enclave/. The OP-TEE / iTrustee builds use ta/Makefile + ta/sub.mk instead.
#
# Outputs
#   $(BUILD)/lib/ta/83c7c701-68cf-4ff1-9ff7-4ba80b8f66ec.so   the TA
#   $(BUILD)/tests/test_ta_commands, test_ta_sort,             C tests,
#     test_ta_tables, test_ta_kbs                              in-process
#   $(BUILD)/tests/test_ta_process                             and via libteec
#   $(BUILD)/tests/ct_sort_harness[_leaky]                     ctgrind
#   $(BUILD)/bench/bench_ta_commands                           JSON lines
#
# Test runners (in TESTS):
#   make -C enclave ta-test   commands in-process against OpenSSL; the sort
#                             against a qsort reference; registered tables
#                             (HKDF vectors, descriptor MACs, the tamper
#                             matrix); attested key release against an
#                             OpenSSL KBS, recipient and verifier (needs the
#                             simulator's X25519/Ed25519 and attestation
#                             PTA); a 1 MiB-heap run for
#                             the out-of-memory path; the TA .so through
#                             libteec and the TA host (incl. cancellation);
#                             sub.mk lists every source
#   make -C enclave ta-ct     SORT_BLOCKS, RESEAL_BLOCKS and EXPORT_RESULT
#                             (after REGISTER_TABLE and a KBS import) under
#                             valgrind with decrypted data marked secret; the
#                             leaky variant
#                             (branchy insertion sort) must be caught

TA_UUID := 83c7c701-68cf-4ff1-9ff7-4ba80b8f66ec
TA_SIM_SO := $(BUILD)/lib/ta/$(TA_UUID).so

# Keep in step with ta/sub.mk (ta-submk-check compares them).
TA_SRCS := entry.c key_slots.c table_registry.c attestation.c \
	crypto/block_gcm.c crypto/sealing_key.c crypto/sha256.c crypto/hkdf.c \
	crypto/x25519.c crypto/ed25519.c crypto/key_wrap.c \
	crypto/descriptor_mac.c \
	cmd/block_list.c cmd/cmd_util.c cmd/cmd_info.c cmd/cmd_keys.c \
	cmd/cmd_reseal_blocks.c cmd/cmd_sort_blocks.c cmd/cmd_attest.c \
	cmd/cmd_import_keys.c cmd/cmd_register_table.c cmd/cmd_export_result.c \
	cmd/output_table.c \
	cmd/cmd_operator.c cmd/cmd_operator_run.c

# External sort (XSORT_*): cmd_external_sort*.c, cmd_merge*.c.
TA_SRCS += cmd/cmd_external_sort.c cmd/cmd_merge_split.c cmd/cmd_merge_runs.c

# Streaming aggregate and join (STREAM, id 13): cmd_stream*.c.
TA_SRCS += cmd/cmd_stream.c cmd/cmd_stream_map.c cmd/cmd_stream_expand.c

TA_OBJ := $(BUILD)/obj/ta
TA_OBJS := $(TA_SRCS:%.c=$(TA_OBJ)/%.o)
TA_PROPS_OBJ := $(TA_OBJ)/ta_props.o
# Sources include their own headers by relative path ("../shim_tee.h");
# only the shared ABI header and the GP headers come from -I.
TA_SIM_CFLAGS := $(TA_CFLAGS) $(SIM_TA_CFLAGS) -I$(TA_INCLUDE) -DTEESPARK_SIM

all: $(TA_SIM_SO)

$(TA_OBJS): $(TA_OBJ)/%.o: ta/%.c
	@mkdir -p $(@D)
	$(CC) $(TA_SIM_CFLAGS) -MMD -MP -c -o $@ $<

$(TA_PROPS_OBJ): $(SIM_TA_PROPS_SRC)
	@mkdir -p $(@D)
	$(CC) $(TA_CFLAGS) $(SIM_TA_CFLAGS) -Ita -I$(TA_INCLUDE) -MMD -MP \
		-c -o $@ $<

$(TA_SIM_SO): $(TA_OBJS) $(OPS_OBJS) $(EXPR_OBJS) $(TA_PROPS_OBJ)
	@mkdir -p $(@D)
	$(CC) $(SIM_TA_LDFLAGS) -o $@ $^

# ---- tests -----------------------------------------------------------------

TA_TEST_OBJ := $(BUILD)/obj/ta-tests
TA_TEST_CFLAGS := $(HOST_CFLAGS) $(SIM_TA_CFLAGS) -I$(TA_INCLUDE) -DTEESPARK_SIM
TA_TESTLIB_OBJ := $(TA_TEST_OBJ)/ta_testlib.o
TA_HARNESS_OBJ := $(TA_TEST_OBJ)/ta_harness.o $(TA_TESTLIB_OBJ) \
	$(TA_TEST_OBJ)/ta_testkbs.o
TA_TEST_LIBS := $(SIM_INTERNAL_LIB) $(SIM_HOST_LIBS) -lm
# What a harness links: the TA exactly as shipped, minus nothing.
TA_INPROC_OBJS := $(TA_OBJS) $(OPS_OBJS) $(EXPR_OBJS) $(TA_PROPS_OBJ) \
	$(TA_HARNESS_OBJ)

TA_TEST_COMMANDS := $(BUILD)/tests/test_ta_commands
TA_TEST_SORT := $(BUILD)/tests/test_ta_sort
TA_TEST_TABLES := $(BUILD)/tests/test_ta_tables
TA_TEST_KBS := $(BUILD)/tests/test_ta_kbs
TA_CT_HARNESS := $(BUILD)/tests/ct_sort_harness
TA_CT_HARNESS_LEAKY := $(BUILD)/tests/ct_sort_harness_leaky
TA_CT_OP_HARNESS := $(BUILD)/tests/ct_op_harness
TA_TEST_PROCESS := $(BUILD)/tests/test_ta_process
TA_BENCH := $(BUILD)/bench/bench_ta_commands

$(TA_TEST_OBJ)/%.o: ta/tests/%.c
	@mkdir -p $(@D)
	$(CC) $(TA_TEST_CFLAGS) -MMD -MP -c -o $@ $<

$(TA_TEST_COMMANDS) $(TA_TEST_SORT) $(TA_TEST_TABLES) $(TA_TEST_KBS) \
		$(TA_CT_HARNESS) $(TA_CT_OP_HARNESS): $(BUILD)/tests/%: \
		$(TA_TEST_OBJ)/%.o $(TA_INPROC_OBJS) $(SIM_INTERNAL_LIB)
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(TA_INPROC_OBJS) $(TA_TEST_LIBS)

# Through libteec and the TA host, like the product: links no TA code.
$(TA_TEST_PROCESS): $(TA_TEST_OBJ)/test_ta_process.o $(TA_TESTLIB_OBJ) \
		$(SIM_LIBTEEC)
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(TA_TESTLIB_OBJ) -L$(BUILD)/lib -lteec \
		-Wl,-rpath,$(abspath $(BUILD)/lib) -lcrypto -lpthread

$(TA_BENCH): $(TA_TEST_OBJ)/bench_ta_commands.o $(TA_INPROC_OBJS) \
		$(SIM_INTERNAL_LIB)
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(TA_INPROC_OBJS) $(TA_TEST_LIBS)

# Negative control: the sort command compiled with the shipped flags but
# calling the deliberately leaky insertion sort (tests/leaky, compiled with
# the shipped flags by tests/tests.mk) in place of obl_sort_bitonic.
TA_LEAKY_SORT_OBJ := $(BUILD)/obj/ta-leaky/cmd/cmd_sort_blocks.o
$(TA_LEAKY_SORT_OBJ): ta/cmd/cmd_sort_blocks.c
	@mkdir -p $(@D)
	$(CC) $(TA_SIM_CFLAGS) -Dobl_sort_bitonic=leaky_insertion_sort \
		-MMD -MP -c -o $@ $<

TA_LEAKY_OBJS := $(filter-out $(TA_OBJ)/cmd/cmd_sort_blocks.o,$(TA_INPROC_OBJS)) \
	$(TA_LEAKY_SORT_OBJ) $(BUILD)/obj/leaky/leaky_sort.o

$(TA_CT_HARNESS_LEAKY): $(TA_TEST_OBJ)/ct_sort_harness.o $(TA_LEAKY_OBJS) \
		$(SIM_INTERNAL_LIB)
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(TA_LEAKY_OBJS) $(TA_TEST_LIBS)

all: $(TA_BENCH)

# The simulator's secure storage for tests (shim_derive_sealing_key).
# Expected TA error lines (tamper tests) are silenced; failures print FAIL.
TA_TEST_ENV := TEESPARK_SIM_STORAGE_DIR=$(abspath $(BUILD))/tests/ta-storage \
	TEESPARK_TA_LOG_LEVEL=0

.PHONY: ta-test ta-ct ta-submk-check
ta-test: $(TA_TEST_COMMANDS) $(TA_TEST_SORT) $(TA_TEST_TABLES) $(TA_TEST_KBS) \
		$(TA_TEST_PROCESS) $(TA_BENCH) $(TA_SIM_SO) $(SIM_TA_HOST) \
		ta-submk-check
	@mkdir -p $(BUILD)/tests/ta-storage
	$(TA_TEST_ENV) $(TA_TEST_COMMANDS)
	$(TA_TEST_ENV) $(TA_TEST_SORT)
	$(TA_TEST_ENV) $(TA_TEST_TABLES)
	$(TA_TEST_ENV) $(TA_TEST_KBS)
	$(TA_TEST_ENV) TEESPARK_TA_DATA_SIZE=1048576 $(TA_TEST_SORT) \
		test_sort_out_of_memory test_sort_uint64_ascending \
		test_sort_tamper_reports_block
	$(TA_TEST_ENV) TEESPARK_TA_DATA_SIZE=1048576 $(TA_TEST_COMMANDS) \
		test_get_info_reports_abi_and_limits
	$(TA_TEST_ENV) TEESPARK_SIM_TA_PATH=$(BUILD)/lib/ta $(TA_TEST_PROCESS)
	$(TA_BENCH) --small >/dev/null

# Every TA source (not tests, not *_ref.c, not ops/trace.c) is in sub.mk, and
# sub.mk names no file that does not exist.
ta-submk-check:
	@fail=0; \
	for f in $$(cd ta && find . -name '*.c' ! -path '*/tests/*' \
			! -name '*_ref.c' ! -path './ops/trace.c' | sed 's|^\./||'); do \
		grep -qx "srcs-y += $$f" ta/sub.mk || \
			{ echo "ta/sub.mk: missing srcs-y += $$f"; fail=1; }; \
	done; \
	for f in $$(sed -n 's/^srcs-y += //p' ta/sub.mk); do \
		[ -f ta/$$f ] || { echo "ta/sub.mk: no such file $$f"; fail=1; }; \
	done; \
	for f in $(TA_SRCS); do \
		grep -qx "srcs-y += $$f" ta/sub.mk || \
			{ echo "ta/sub.mk: missing $$f of ta_sim.mk"; fail=1; }; \
	done; \
	[ $$fail = 0 ] && echo "ta-submk-check: 1 passed, 0 failed"

ta-ct: $(TA_CT_HARNESS) $(TA_CT_HARNESS_LEAKY)
	@command -v valgrind >/dev/null || \
		{ echo "ta-ct: valgrind not found (apt-get install valgrind)"; exit 1; }
	@mkdir -p $(BUILD)/tests/ta-storage
	$(TA_TEST_ENV) TEESPARK_SIM_CT_SECRETS=1 valgrind -q --error-exitcode=1 \
		--track-origins=yes $(TA_CT_HARNESS)
	@log=$(BUILD)/tests/ct_sort_harness_leaky.log; \
	$(TA_TEST_ENV) TEESPARK_SIM_CT_SECRETS=1 valgrind -q --error-exitcode=1 \
		$(TA_CT_HARNESS_LEAKY) >$$log 2>&1; rc=$$?; \
	hits=$$(grep -c 'depends on uninitialised value' $$log); \
	if [ $$rc -eq 1 ] && [ $$hits -gt 0 ]; then \
		echo "ta-ct negative control: caught ($$hits valgrind reports)"; \
		echo "ta-ct: 2 passed, 0 failed"; \
	else \
		echo "ta-ct negative control NOT caught (valgrind exit $$rc, $$hits reports): the check is broken"; \
		cat $$log; exit 1; \
	fi

# RUN_OPERATOR (every operator) under valgrind with decrypted rows secret:
# TS_OPMODE_OBLIVIOUS must be clean; TS_OPMODE_ENCRYPTED (the fast, NOT
# oblivious kernels) must be flagged, which shows the check discriminates.
.PHONY: ta-ct-ops
ta-ct-ops: $(TA_CT_OP_HARNESS)
	@command -v valgrind >/dev/null || \
		{ echo "ta-ct-ops: valgrind not found (apt-get install valgrind)"; exit 1; }
	@mkdir -p $(BUILD)/tests/ta-storage
	$(TA_TEST_ENV) TEESPARK_SIM_CT_SECRETS=1 valgrind -q --error-exitcode=1 \
		--track-origins=yes $(TA_CT_OP_HARNESS) oblivious
	@log=$(BUILD)/tests/ct_op_harness_encrypted.log; \
	$(TA_TEST_ENV) TEESPARK_SIM_CT_SECRETS=1 valgrind -q --error-exitcode=1 \
		$(TA_CT_OP_HARNESS) encrypted >$$log 2>&1; rc=$$?; \
	hits=$$(grep -c 'depends on uninitialised value' $$log); \
	if [ $$rc -eq 1 ] && [ $$hits -gt 0 ]; then \
		echo "ta-ct-ops negative control (encrypted mode): caught ($$hits valgrind reports)"; \
		echo "ta-ct-ops: 2 passed, 0 failed"; \
	else \
		echo "ta-ct-ops: encrypted mode NOT flagged (valgrind exit $$rc, $$hits reports): the check is broken"; \
		cat $$log; exit 1; \
	fi

TESTS += ta-test ta-ct ta-ct-ops

-include $(TA_OBJS:.o=.d) $(TA_PROPS_OBJ:.o=.d) $(TA_LEAKY_SORT_OBJ:.o=.d) \
	$(wildcard $(TA_TEST_OBJ)/*.d)

# ---- external sort (XSORT_*, ids 20..23) ------------------------------------
#   make -C enclave xsort-test   the commands in-process against a qsort
#                                reference, the merge kernel, the schedule on
#                                all 0-1 inputs, every refusal; also at an
#                                8 MiB heap
#   make -C enclave xsort-ct     all four commands under valgrind with
#                                decrypted data marked secret; the leaky
#                                control (branchy merge) must be caught

TA_TEST_XSORT := $(BUILD)/tests/test_ta_external_sort
TA_CT_XSORT := $(BUILD)/tests/ct_xsort_harness
TA_CT_XSORT_LEAKY := $(BUILD)/tests/ct_xsort_harness_leaky

$(TA_TEST_XSORT) $(TA_CT_XSORT): $(BUILD)/tests/%: \
		$(TA_TEST_OBJ)/%.o $(TA_INPROC_OBJS) $(SIM_INTERNAL_LIB)
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(TA_INPROC_OBJS) $(TA_TEST_LIBS)

# Negative control: XSORT_MERGE_SPLIT with the shipped flags, calling the
# harness's branchy merge in place of xsort_merge_runs.
TA_LEAKY_XSORT_OBJ := $(BUILD)/obj/ta-leaky/cmd/cmd_merge_split.o
$(TA_LEAKY_XSORT_OBJ): ta/cmd/cmd_merge_split.c
	@mkdir -p $(@D)
	$(CC) $(TA_SIM_CFLAGS) -Dxsort_merge_runs=xsort_merge_runs_leaky \
		-MMD -MP -c -o $@ $<

TA_LEAKY_XSORT_OBJS := $(filter-out $(TA_OBJ)/cmd/cmd_merge_split.o,\
	$(TA_INPROC_OBJS)) $(TA_LEAKY_XSORT_OBJ) $(TA_TEST_OBJ)/cmd_leaky.o

$(TA_CT_XSORT_LEAKY): $(TA_TEST_OBJ)/ct_xsort_harness.o $(TA_LEAKY_XSORT_OBJS) \
		$(SIM_INTERNAL_LIB)
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(TA_LEAKY_XSORT_OBJS) $(TA_TEST_LIBS)

all: $(TA_TEST_XSORT)

.PHONY: xsort-test xsort-ct
xsort-test: $(TA_TEST_XSORT)
	$(TA_TEST_ENV) $(TA_TEST_XSORT)
	$(TA_TEST_ENV) TEESPARK_TA_DATA_SIZE=8388608 $(TA_TEST_XSORT) \
		test_xsort_matches_reference test_xsort_rejects_bad_runs

xsort-ct: $(TA_CT_XSORT) $(TA_CT_XSORT_LEAKY)
	@command -v valgrind >/dev/null || \
		{ echo "xsort-ct: valgrind not found (apt-get install valgrind)"; exit 1; }
	$(TA_TEST_ENV) TEESPARK_SIM_CT_SECRETS=1 valgrind -q --error-exitcode=1 \
		--track-origins=yes $(TA_CT_XSORT)
	@log=$(BUILD)/tests/ct_xsort_harness_leaky.log; \
	$(TA_TEST_ENV) TEESPARK_SIM_CT_SECRETS=1 valgrind -q --error-exitcode=1 \
		$(TA_CT_XSORT_LEAKY) >$$log 2>&1; rc=$$?; \
	hits=$$(grep -c 'depends on uninitialised value' $$log); \
	if [ $$rc -eq 1 ] && [ $$hits -gt 0 ]; then \
		echo "xsort-ct negative control: caught ($$hits valgrind reports)"; \
		echo "xsort-ct: 2 passed, 0 failed"; \
	else \
		echo "xsort-ct negative control NOT caught (valgrind exit $$rc, $$hits reports): the check is broken"; \
		cat $$log; exit 1; \
	fi

TESTS += xsort-test xsort-ct

-include $(TA_LEAKY_XSORT_OBJ:.o=.d)

# ---- streaming aggregate and join (STREAM, id 13) ----------------------------
#   make -C enclave stream-ct   WIDEN, AGGREGATE, JOIN_PKFK (all variants),
#                               LIMIT and MAP under valgrind with decrypted
#                               data marked secret; the leaky control (an
#                               early-exit key comparison and a MAP emit that
#                               branches on the predicate) must be caught,
#                               each leak by name

TA_CT_STREAM := $(BUILD)/tests/ct_stream_harness
TA_CT_STREAM_LEAKY := $(BUILD)/tests/ct_stream_harness_leaky

$(TA_CT_STREAM): $(BUILD)/tests/%: $(TA_TEST_OBJ)/%.o $(TA_INPROC_OBJS) \
		$(SIM_INTERNAL_LIB)
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(TA_INPROC_OBJS) $(TA_TEST_LIBS)

# Negative control: cmd_stream.c with the shipped flags, comparing keys with
# the harness's early-exit loop in place of ct_key_eq, and cmd_stream_map.c
# emitting MAP rows with the harness's branch on the predicate.
TA_LEAKY_STREAM_OBJ := $(BUILD)/obj/ta-leaky/cmd/cmd_stream.o
$(TA_LEAKY_STREAM_OBJ): ta/cmd/cmd_stream.c
	@mkdir -p $(@D)
	$(CC) $(TA_SIM_CFLAGS) -DSTREAM_KEY_EQ=stream_key_eq_leaky \
		-MMD -MP -c -o $@ $<

TA_LEAKY_STREAM_MAP_OBJ := $(BUILD)/obj/ta-leaky/cmd/cmd_stream_map.o
$(TA_LEAKY_STREAM_MAP_OBJ): ta/cmd/cmd_stream_map.c
	@mkdir -p $(@D)
	$(CC) $(TA_SIM_CFLAGS) -DSTREAM_MAP_EMIT=stream_map_emit_leaky \
		-MMD -MP -c -o $@ $<

TA_LEAKY_STREAM_OBJS := $(filter-out $(TA_OBJ)/cmd/cmd_stream.o \
	$(TA_OBJ)/cmd/cmd_stream_map.o,$(TA_INPROC_OBJS)) \
	$(TA_LEAKY_STREAM_OBJ) $(TA_LEAKY_STREAM_MAP_OBJ) \
	$(TA_TEST_OBJ)/cmd_leaky.o

$(TA_CT_STREAM_LEAKY): $(TA_TEST_OBJ)/ct_stream_harness.o \
		$(TA_LEAKY_STREAM_OBJS) $(SIM_INTERNAL_LIB)
	@mkdir -p $(@D)
	$(CC) -o $@ $< $(TA_LEAKY_STREAM_OBJS) $(TA_TEST_LIBS)

all: $(TA_CT_STREAM)

.PHONY: stream-ct
stream-ct: $(TA_CT_STREAM) $(TA_CT_STREAM_LEAKY)
	@command -v valgrind >/dev/null || \
		{ echo "stream-ct: valgrind not found (apt-get install valgrind)"; exit 1; }
	@mkdir -p $(BUILD)/tests/ta-storage
	$(TA_TEST_ENV) TEESPARK_SIM_CT_SECRETS=1 valgrind -q --error-exitcode=1 \
		--track-origins=yes $(TA_CT_STREAM)
	@log=$(BUILD)/tests/ct_stream_harness_leaky.log; \
	$(TA_TEST_ENV) TEESPARK_SIM_CT_SECRETS=1 valgrind -q --error-exitcode=1 \
		$(TA_CT_STREAM_LEAKY) >$$log 2>&1; rc=$$?; \
	hits=$$(grep -c 'depends on uninitialised value' $$log); \
	keq=$$(grep -c 'stream_key_eq_leaky' $$log); \
	emit=$$(grep -c 'stream_map_emit_leaky' $$log); \
	if [ $$rc -eq 1 ] && [ $$hits -gt 0 ] && [ $$keq -gt 0 ] && [ $$emit -gt 0 ]; then \
		echo "stream-ct negative control: caught ($$hits valgrind reports; key comparison and MAP emit both flagged)"; \
		echo "stream-ct: 2 passed, 0 failed"; \
	else \
		echo "stream-ct negative control NOT caught (valgrind exit $$rc, $$hits reports, key comparison $$keq, MAP emit $$emit): the check is broken"; \
		cat $$log; exit 1; \
	fi

TESTS += stream-ct

-include $(TA_LEAKY_STREAM_OBJ:.o=.d) $(TA_LEAKY_STREAM_MAP_OBJ:.o=.d)

# Trace equality of the XSORT_* and STREAM commands (lackey): cmd-trace.
include ta/tests/trace_cmd.mk

include ta/tests/stream_expand.mk

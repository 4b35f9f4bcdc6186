# sim/sim.mk - the host TEE simulator: libteec.so, teespark-ta-host, the
# Internal API as a static library, the simulator's test TA and its tests.
# Included by enclave/Makefile; paths are relative to enclave/.
#
# Outputs
#   $(BUILD)/lib/libteec.so             GP TEE Client API (OP-TEE layout)
#   $(BUILD)/lib/teespark-ta-host       process a simulated TA runs in
#   $(BUILD)/obj/sim/libtee_internal_sim.a
#                                       the whole Internal API (process-model
#                                       parts + sim/internal crypto/storage),
#                                       PIC, for harnesses that run TA code
#                                       in-process (call sim_internal_init()
#                                       from <sim_ta_props.h> first; link
#                                       -lcrypto -lpthread -ldl)
#   $(BUILD)/test-ta/$(SIM_TEST_TA_UUID).so
#
# Runtime lookup (see sim/client/teec_session.c)
#   TA host: $TEESPARK_SIM_TA_HOST, else teespark-ta-host next to libteec.so.
#   TAs:     <uuid>.so in colon-separated $TEESPARK_SIM_TA_PATH, else
#            <dir of libteec.so>/ta.
#   Heap:    TA_DATA_SIZE, or $TEESPARK_TA_DATA_SIZE (bytes) to override.
#
# Semantics (details in the file headers of sim/client and sim/host)
#   - One teespark-ta-host process per TEEC_OpenSession, one TA instance in
#     it (TA_FLAG_SINGLE_INSTANCE is not simulated); calls on one session
#     are serialised, sessions run concurrently.
#   - TA death (TEE_Panic, signal, exit) -> TEEC_ERROR_TARGET_DEAD with
#     TEEC_ORIGIN_TEE for that call and all later ones; the host is reaped.
#     The host exits when the caller's end of its socket closes (caller
#     killed), even mid-command.
#   - Cancellation: GP masks cancellation at every entry point; a TA sees
#     TEE_GetCancellationFlag() only after TEE_UnmaskCancellation().
#     TEEC_RequestCancellation of an operation that has not started
#     (started == 0) makes it fail with TEEC_ERROR_CANCEL, origin COMMS,
#     without entering the TA; the implementation sets started = 1.
#   - TEE_Malloc is bounded by TA_DATA_SIZE (32-byte header charged per
#     block); memory libc/OpenSSL allocate for the TA is not.
#   - The TA thread's stack is TA_STACK_SIZE + 256 KiB (room for libc and
#     OpenSSL, which run in the TEE core on real hardware).
#
# Building a TA for the simulator (e.g. in ta/ta_sim.mk)
#   A TA is a shared object named <uuid>.so holding the TA's sources plus
#   sim/ta_props.c compiled with -I<dir of the TA's user_ta_header_defines.h>
#   (ta_props.c turns TA_UUID/TA_FLAGS/TA_STACK_SIZE/TA_DATA_SIZE/... into
#   the `sim_ta_props` symbol the host reads).  Compile with $(TA_CFLAGS)
#   $(SIM_TA_CFLAGS) and link with $(SIM_TA_LDFLAGS); TEE_* symbols stay
#   undefined and resolve against teespark-ta-host at dlopen time.  Example:
#
#     MY_TA_INC := -Ita -Ita/include
#     $(BUILD)/obj/ta/%.o: ta/%.c
#             @mkdir -p $(@D)
#             $(CC) $(TA_CFLAGS) $(SIM_TA_CFLAGS) $(MY_TA_INC) -c $< -o $@
#     $(BUILD)/obj/ta/ta_props.o: $(SIM_TA_PROPS_SRC)
#             @mkdir -p $(@D)
#             $(CC) $(TA_CFLAGS) $(SIM_TA_CFLAGS) $(MY_TA_INC) -c $< -o $@
#     $(BUILD)/lib/ta/<uuid>.so: $(MY_TA_OBJS) $(BUILD)/obj/ta/ta_props.o
#             @mkdir -p $(@D)
#             $(CC) $(SIM_TA_LDFLAGS) -o $@ $^
#
# Tests: `make sim-test` (part of `make test`).

SIM_TA_CFLAGS := -Isim/include
SIM_TA_LDFLAGS := -shared
SIM_TA_PROPS_SRC := sim/ta_props.c

SIM_CFLAGS := $(HOST_CFLAGS) -Isim/include -Isim/host

# GP Internal API crypto, objects, storage (sim/internal, another owner).
# It defines SIM_INTERNAL_SRCS/OBJS (with their own rule), _CFLAGS, _LDLIBS.
include sim/internal/internal.mk

# The process-model parts of the Internal API (this directory).
SIM_RT_SRCS := sim/host/sim_runtime.c sim/host/tee_memory.c \
	sim/host/tee_properties.c
SIM_RT_OWN_OBJS := $(patsubst sim/%.c,$(BUILD)/obj/sim/rt/%.o,$(SIM_RT_SRCS))
SIM_RT_OBJS := $(SIM_RT_OWN_OBJS) $(SIM_INTERNAL_OBJS)
SIM_HOST_MAIN_OBJ := $(BUILD)/obj/sim/host/ta_host_main.o
SIM_CLIENT_SRCS := sim/client/teec_context.c sim/client/teec_session.c \
	sim/client/teec_invoke.c
SIM_CLIENT_OBJS := $(patsubst sim/client/%.c,$(BUILD)/obj/sim/client/%.o,\
	$(SIM_CLIENT_SRCS))

SIM_LIBTEEC := $(BUILD)/lib/libteec.so
SIM_TA_HOST := $(BUILD)/lib/teespark-ta-host
SIM_INTERNAL_LIB := $(BUILD)/obj/sim/libtee_internal_sim.a
SIM_HOST_LIBS := $(SIM_INTERNAL_LDLIBS) -ldl -lpthread

all: $(SIM_LIBTEEC) $(SIM_TA_HOST) $(SIM_INTERNAL_LIB)

$(SIM_RT_OWN_OBJS): $(BUILD)/obj/sim/rt/%.o: sim/%.c
	@mkdir -p $(@D)
	$(CC) $(SIM_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/sim/client/%.o: sim/client/%.c
	@mkdir -p $(@D)
	$(CC) $(SIM_CFLAGS) -MMD -MP -c $< -o $@

$(SIM_HOST_MAIN_OBJ): sim/host/ta_host_main.c
	@mkdir -p $(@D)
	$(CC) $(SIM_CFLAGS) -MMD -MP -c $< -o $@

# nodelete: the library registers pthread_atfork handlers.
$(SIM_LIBTEEC): $(SIM_CLIENT_OBJS) sim/client/libteec.map
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,libteec.so -Wl,-z,defs -Wl,-z,nodelete \
		-Wl,--version-script=sim/client/libteec.map \
		-o $@ $(SIM_CLIENT_OBJS) -lpthread

# -rdynamic: the dlopen()ed TA resolves TEE_* against this executable.
$(SIM_TA_HOST): $(SIM_HOST_MAIN_OBJ) $(SIM_RT_OBJS)
	@mkdir -p $(@D)
	$(CC) -rdynamic -o $@ $^ $(SIM_HOST_LIBS)

$(SIM_INTERNAL_LIB): $(SIM_RT_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

# ---- the simulator's test TA -------------------------------------------------

SIM_TEST_TA_UUID := 6aa0af66-8560-40fa-93d6-80c6912b560e
SIM_TEST_TA := $(BUILD)/test-ta/$(SIM_TEST_TA_UUID).so
SIM_TEST_TA_INC := -Isim/tests/test_ta -Isim/tests/test_ta/include
SIM_TEST_TA_OBJS := $(BUILD)/obj/sim/test_ta/sim_test_ta.o \
	$(BUILD)/obj/sim/test_ta/ta_props.o

all: $(SIM_TEST_TA)

$(BUILD)/obj/sim/test_ta/sim_test_ta.o: sim/tests/test_ta/sim_test_ta.c
	@mkdir -p $(@D)
	$(CC) $(TA_CFLAGS) $(SIM_TA_CFLAGS) $(SIM_TEST_TA_INC) -MMD -MP \
		-c $< -o $@

$(BUILD)/obj/sim/test_ta/ta_props.o: $(SIM_TA_PROPS_SRC)
	@mkdir -p $(@D)
	$(CC) $(TA_CFLAGS) $(SIM_TA_CFLAGS) $(SIM_TEST_TA_INC) -MMD -MP \
		-c $< -o $@

$(SIM_TEST_TA): $(SIM_TEST_TA_OBJS)
	@mkdir -p $(@D)
	$(CC) $(SIM_TA_LDFLAGS) -o $@ $^

# ---- tests -------------------------------------------------------------------

SIM_TEST_BIN := $(BUILD)/tests/sim_test
SIM_INPROC_TEST_BIN := $(BUILD)/tests/sim_inproc_test

$(SIM_TEST_BIN): sim/tests/sim_test.c $(SIM_LIBTEEC)
	@mkdir -p $(@D)
	$(CC) $(SIM_CFLAGS) $(SIM_TEST_TA_INC) -o $@ $< \
		-L$(BUILD)/lib -lteec -Wl,-rpath,$(abspath $(BUILD)/lib) \
		-lpthread

$(SIM_INPROC_TEST_BIN): sim/tests/sim_inproc_test.c $(SIM_TEST_TA_OBJS) \
		$(SIM_INTERNAL_LIB)
	@mkdir -p $(@D)
	$(CC) $(SIM_CFLAGS) $(SIM_TEST_TA_INC) -o $@ $< $(SIM_TEST_TA_OBJS) \
		$(SIM_INTERNAL_LIB) $(SIM_HOST_LIBS)

SIM_CT_MEMCMP_BIN := $(BUILD)/tests/sim_ct_memcompare

$(SIM_CT_MEMCMP_BIN): sim/tests/sim_ct_memcompare.c $(SIM_INTERNAL_LIB)
	@mkdir -p $(@D)
	$(CC) $(SIM_CFLAGS) -o $@ $< $(SIM_INTERNAL_LIB) $(SIM_HOST_LIBS)

# The constant-time check of TEE_MemCompare must pass, and its negative
# control (an early-exit compare) must be caught, or the check is broken.
.PHONY: sim-test
sim-test: $(SIM_TEST_BIN) $(SIM_INPROC_TEST_BIN) $(SIM_CT_MEMCMP_BIN) \
		$(SIM_TEST_TA) $(SIM_LIBTEEC) $(SIM_TA_HOST)
	TEESPARK_SIM_TA_PATH=$(abspath $(BUILD))/test-ta $(SIM_TEST_BIN)
	$(SIM_INPROC_TEST_BIN)
	@command -v valgrind >/dev/null || \
		{ echo "sim-test: valgrind not found (apt-get install valgrind)"; exit 1; }
	valgrind -q --error-exitcode=99 $(SIM_CT_MEMCMP_BIN) ct
	@valgrind -q --error-exitcode=99 $(SIM_CT_MEMCMP_BIN) leaky \
		>/dev/null 2>&1; rc=$$?; \
	if [ $$rc -eq 99 ]; then \
		echo "sim_ct_memcompare: ct ok, leaky negative control caught"; \
	else \
		echo "sim_ct_memcompare: leaky compare NOT caught (rc $$rc)"; \
		exit 1; \
	fi

TESTS += sim-test

-include $(SIM_RT_OWN_OBJS:.o=.d) $(SIM_CLIENT_OBJS:.o=.d) \
	$(SIM_HOST_MAIN_OBJ:.o=.d) $(SIM_TEST_TA_OBJS:.o=.d)

# sim/internal/internal.mk - the simulator's GP Internal Core API crypto,
# object and secure-storage code (over OpenSSL libcrypto 3), its tests and
# its benchmark. Included by sim/sim.mk; paths are relative to enclave/.
#
# For sim.mk:
#   SIM_INTERNAL_SRCS    the .c files
#   SIM_INTERNAL_OBJS    their objects, $(BUILD)/obj/sim/internal/*.o, built
#                        by the rule below (put them in libtee_internal_sim.a;
#                        no second rule for them is needed)
#   SIM_INTERNAL_CFLAGS  flags they are compiled with
#   SIM_INTERNAL_LDLIBS  libraries whatever links them needs
# The objects expect the host to provide TEE_Panic and
# sim_current_ta_uuid (see sim/internal/sim_internal.h).
#
# Targets:
#   sim-internal-test              (in TESTS) header check with TA_CFLAGS,
#                                  crypto KATs and semantics, secure
#                                  storage, the valgrind constant-time hook
#                                  check, a bench smoke run, Curve25519
#                                  (X25519/Ed25519 KATs and rules), the
#                                  attestation PTA through TA-to-TA sessions
#   $(BUILD)/bench/bench_gp_aes_gcm  AES-256-GCM seal/open throughput through
#                                  the GP API, JSON on stdout (built by all)
#   $(BUILD)/tests/sim_pta_measure <uuid>.so
#                                  prints the PTA's measurement of a TA image
#                                  (built by all)

SIM_INTERNAL_SRCS := \
	sim/internal/trace.c \
	sim/internal/time.c \
	sim/internal/objects.c \
	sim/internal/operations.c \
	sim/internal/storage.c \
	sim/internal/asym.c \
	sim/internal/ta_sessions.c \
	sim/internal/pta_attestation.c
SIM_INTERNAL_OBJS := $(SIM_INTERNAL_SRCS:%.c=$(BUILD)/obj/%.o)
SIM_INTERNAL_CFLAGS := $(HOST_CFLAGS) -Isim/include -Isim/internal
SIM_INTERNAL_LDLIBS := -lcrypto -lpthread -ldl
SIM_INTERNAL_HDRS := sim/internal/sim_internal.h sim/include/tee_api_defines.h \
	sim/include/tee_api_types.h sim/include/tee_internal_api.h \
	sim/include/trace.h sim/include/pta_attestation.h

$(SIM_INTERNAL_OBJS): $(BUILD)/obj/sim/internal/%.o: sim/internal/%.c \
		$(SIM_INTERNAL_HDRS)
	@mkdir -p $(@D)
	$(CC) $(SIM_INTERNAL_CFLAGS) -c $< -o $@

# Tests link the objects directly with local stubs of TEE_Panic and
# sim_current_ta_uuid (sim/tests/internal/test_stubs.c).
SIM_INTERNAL_TDIR := sim/tests/internal
SIM_INTERNAL_TOBJ := $(BUILD)/obj/sim/tests/internal
SIM_INTERNAL_THDRS := $(SIM_INTERNAL_HDRS) $(SIM_INTERNAL_TDIR)/test_util.h

SIM_INTERNAL_TEST_OBJS := $(addprefix $(SIM_INTERNAL_TOBJ)/, test_crypto.o \
	test_storage.o test_ct_hook.o test_stubs.o bench_gp_aes_gcm.o \
	test_asym.o test_pta.o)

$(SIM_INTERNAL_TEST_OBJS): $(SIM_INTERNAL_TOBJ)/%.o: $(SIM_INTERNAL_TDIR)/%.c \
		$(SIM_INTERNAL_THDRS)
	@mkdir -p $(@D)
	$(CC) $(SIM_INTERNAL_CFLAGS) -c $< -o $@

SIM_INTERNAL_TEST_BINS := \
	$(BUILD)/tests/sim_internal_crypto_test \
	$(BUILD)/tests/sim_internal_storage_test \
	$(BUILD)/tests/sim_internal_ct_hook_test \
	$(BUILD)/tests/sim_internal_asym_test \
	$(BUILD)/tests/sim_internal_pta_test

$(BUILD)/tests/sim_internal_%_test: $(SIM_INTERNAL_TOBJ)/test_%.o \
		$(SIM_INTERNAL_TOBJ)/test_stubs.o $(SIM_INTERNAL_OBJS)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -o $@ $^ $(SIM_INTERNAL_LDLIBS)

$(BUILD)/bench/bench_gp_aes_gcm: $(SIM_INTERNAL_TOBJ)/bench_gp_aes_gcm.o \
		$(SIM_INTERNAL_TOBJ)/test_stubs.o $(SIM_INTERNAL_OBJS)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -o $@ $^ $(SIM_INTERNAL_LDLIBS)

all: $(BUILD)/bench/bench_gp_aes_gcm

# The attestation PTA test measures a stand-in TA image it dlopen()s.
SIM_PTA_DUMMY_UUID := 0a77e57a-5ba0-4c1e-9d2f-6d6561737572
SIM_PTA_DUMMY := $(BUILD)/tests/pta-ta/$(SIM_PTA_DUMMY_UUID).so

$(SIM_PTA_DUMMY): $(SIM_INTERNAL_TDIR)/pta_dummy_ta.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -shared -o $@ $<

# $(BUILD)/tests/sim_pta_measure <uuid>.so: the measurement the PTA reports
# for a TA image, loaded as teespark-ta-host loads it (used by
# tests/attest/test_measurement.py). Linked like the TA host: the whole
# Internal API, exported (-rdynamic) for the dlopen()ed TA.
SIM_PTA_MEASURE := $(BUILD)/tests/sim_pta_measure
SIM_INTERNAL_ARCHIVE := $(BUILD)/obj/sim/libtee_internal_sim.a

$(SIM_PTA_MEASURE): $(SIM_INTERNAL_TDIR)/pta_measure.c $(SIM_INTERNAL_ARCHIVE)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -Isim/include -rdynamic -o $@ $< \
		-Wl,--whole-archive $(SIM_INTERNAL_ARCHIVE) \
		-Wl,--no-whole-archive $(SIM_INTERNAL_LDLIBS)

all: $(SIM_PTA_MEASURE)

# The GP headers must build TA code with the shipped TA flags, and their
# constants match the spec values (static asserts).
$(SIM_INTERNAL_TOBJ)/header_check.o: $(SIM_INTERNAL_TDIR)/header_check.c \
		$(SIM_INTERNAL_HDRS) sim/include/tee_internal_api_extensions.h
	@mkdir -p $(@D)
	$(CC) $(TA_CFLAGS) -Isim/include -c $< -o $@

SIM_INTERNAL_STORE := $(BUILD)/tmp/sim-internal-storage

.PHONY: sim-internal-test
sim-internal-test: $(SIM_INTERNAL_TEST_BINS) $(BUILD)/bench/bench_gp_aes_gcm \
		$(SIM_INTERNAL_TOBJ)/header_check.o $(SIM_PTA_DUMMY) \
		$(SIM_PTA_MEASURE)
	$(BUILD)/tests/sim_internal_crypto_test
	rm -rf $(SIM_INTERNAL_STORE)-asym && mkdir -p $(SIM_INTERNAL_STORE)-asym
	TEESPARK_SIM_STORAGE_DIR=$(SIM_INTERNAL_STORE)-asym \
		$(BUILD)/tests/sim_internal_asym_test
	rm -rf $(SIM_INTERNAL_STORE)-pta && mkdir -p $(SIM_INTERNAL_STORE)-pta
	TEESPARK_SIM_STORAGE_DIR=$(SIM_INTERNAL_STORE)-pta \
		$(BUILD)/tests/sim_internal_pta_test $(SIM_PTA_DUMMY)
	rm -rf $(SIM_INTERNAL_STORE) && mkdir -p $(SIM_INTERNAL_STORE)
	TEESPARK_SIM_STORAGE_DIR=$(SIM_INTERNAL_STORE) \
		$(BUILD)/tests/sim_internal_storage_test
	$(SIM_INTERNAL_TDIR)/run_ct_hook.sh $(BUILD)/tests/sim_internal_ct_hook_test
	$(BUILD)/bench/bench_gp_aes_gcm --seconds 0.02 >/dev/null

TESTS += sim-internal-test

# enclave/ca/ca.mk - the stable C ABI Python binds to (teespark_ca.h).
#
#   make -C enclave                      builds $(BUILD)/lib/libteespark_ca.so
#                                        against the simulator's libteec.so
#   make -C enclave ca-test              C tests of the ABI against the
#                                        simulator's test TA (part of `test`)
#   make -C enclave ca-optee  OPTEE_CLIENT_EXPORT=... CROSS_COMPILE=...
#   make -C enclave ca-itrustee ITRUSTEE_CLIENT_DIR=... CROSS_COMPILE=...
#
# The same teespark_ca.c is built once per backend; only the TEE Client API
# header and libteec it is compiled and linked against differ (plus
# -DTSCA_BACKEND_*). The ABI seen by Python is identical in all three.
#
# The OP-TEE and iTrustee variants CANNOT be built on this machine: there is
# no aarch64 cross toolchain and no optee_client / itrustee_client SDK here.
# Their targets below describe the build and stop with a clear message when
# the SDK is absent. They have not been compiled by CI; treat them as the
# documented recipe to run on a machine that has the SDK.

CA_LIB := $(BUILD)/lib/libteespark_ca.so
CA_OBJ := $(BUILD)/obj/ca/teespark_ca.o
CA_TEST := $(BUILD)/tests/tsca_test
CA_TEST_TA := $(BUILD)/test-ta/6aa0af66-8560-40fa-93d6-80c6912b560e.so
CA_LDFLAGS := -shared -Wl,-soname,libteespark_ca.so \
	-Wl,--version-script=ca/teespark_ca.map -Wl,-z,defs -Wl,-z,now

.PHONY: ca-test ca-optee ca-itrustee

all: $(CA_LIB)

$(CA_OBJ): ca/teespark_ca.c ca/teespark_ca.h sim/include/tee_client_api.h
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -Isim/include -c $< -o $@

# rpath $ORIGIN: libteec.so sits next to libteespark_ca.so, both in
# enclave/build/lib and in python/teespark/_native/.
$(CA_LIB): $(CA_OBJ) ca/teespark_ca.map $(BUILD)/lib/libteec.so
	@mkdir -p $(@D)
	$(CC) $(CA_LDFLAGS) -o $@ $(CA_OBJ) -L$(BUILD)/lib -lteec -lpthread \
		-Wl,-rpath,'$$ORIGIN'

# The test program sees only teespark_ca.h (no TEEC_* types) and the test
# TA's command ids: it uses the ABI exactly as the Python binding does.
$(CA_TEST): ca/tests/tsca_test.c ca/teespark_ca.h \
		sim/tests/test_ta/include/sim_test_ta.h $(CA_LIB)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -Ica -Isim/tests/test_ta/include -o $@ $< \
		-L$(BUILD)/lib -lteespark_ca -lpthread \
		-Wl,-rpath,'$$ORIGIN/../lib'

# TEESPARK_TA_DATA_SIZE keeps the out-of-memory test small (8 MiB heap).
ca-test: $(CA_TEST) $(CA_TEST_TA)
	TEESPARK_SIM_TA_PATH=$(abspath $(BUILD)/test-ta) \
	TEESPARK_TA_DATA_SIZE=8388608 $(CA_TEST)

TESTS += ca-test

# ---------------------------------------------------------------------------
# OP-TEE (optee_client). OPTEE_CLIENT_EXPORT is optee_client's install tree
# (`make -C optee_client DESTDIR=... install`, or OP-TEE/build's
# out-br/.../optee_client export): include/tee_client_api.h, lib/libteec.so.
# Output: $(BUILD)/optee/lib/libteespark_ca.so for the target (aarch64).
# Install it next to libteec on the target or into python/teespark/_native/.
OPTEE_CLIENT_EXPORT ?=
CROSS_COMPILE ?=
CA_OPTEE_LIB := $(BUILD)/optee/lib/libteespark_ca.so

ca-optee:
	@if [ -z "$(OPTEE_CLIENT_EXPORT)" ] || \
	    [ ! -f "$(OPTEE_CLIENT_EXPORT)/include/tee_client_api.h" ]; then \
		echo "ca-optee: OP-TEE client SDK not found. Set" \
		     "OPTEE_CLIENT_EXPORT to optee_client's export directory" \
		     "(with include/tee_client_api.h and lib/libteec.so) and" \
		     "CROSS_COMPILE (e.g. aarch64-linux-gnu-)." >&2; \
		exit 1; \
	fi
	@command -v $(CROSS_COMPILE)gcc >/dev/null || { \
		echo "ca-optee: $(CROSS_COMPILE)gcc not found; set" \
		     "CROSS_COMPILE to your aarch64 toolchain prefix." >&2; \
		exit 1; }
	@mkdir -p $(BUILD)/optee/lib
	$(CROSS_COMPILE)gcc $(HOST_CFLAGS) -DTSCA_BACKEND_OPTEE \
		-I$(OPTEE_CLIENT_EXPORT)/include $(CA_LDFLAGS) \
		-o $(CA_OPTEE_LIB) ca/teespark_ca.c \
		-L$(OPTEE_CLIENT_EXPORT)/lib -lteec -lpthread

# ---------------------------------------------------------------------------
# Huawei iTrustee (itrustee_client). ITRUSTEE_CLIENT_DIR is a checkout of
# openeuler itrustee_client, built (its libteec.so in ITRUSTEE_CLIENT_LIB,
# default $(ITRUSTEE_CLIENT_DIR)/dist). On the target, libteec.so lives in
# /usr/lib64 and teecd must run. Runtime notes:
#   - login is TEEC_LOGIN_IDENTIFY; the TA must whitelist the CA, whose name
#     teecd takes from argv[0] of the process (the Python interpreter when
#     loaded through ctypes): see docs on CA authentication.
#   - TEESPARK_ITRUSTEE_TA_DIR, if set, makes the library load
#     <dir>/<uuid>.sec through context.ta_path (default /var/itrustee/ta).
ITRUSTEE_CLIENT_DIR ?=
ITRUSTEE_CLIENT_LIB ?= $(ITRUSTEE_CLIENT_DIR)/dist
CA_ITRUSTEE_LIB := $(BUILD)/itrustee/lib/libteespark_ca.so

ca-itrustee:
	@if [ -z "$(ITRUSTEE_CLIENT_DIR)" ] || \
	    [ ! -f "$(ITRUSTEE_CLIENT_DIR)/include/tee_client_api.h" ]; then \
		echo "ca-itrustee: iTrustee client SDK not found. Set" \
		     "ITRUSTEE_CLIENT_DIR to an itrustee_client checkout (with" \
		     "include/tee_client_api.h), ITRUSTEE_CLIENT_LIB to the" \
		     "directory of its libteec.so, and CROSS_COMPILE (e.g." \
		     "aarch64-linux-gnu-) unless building on the Kunpeng host." >&2; \
		exit 1; \
	fi
	@command -v $(CROSS_COMPILE)gcc >/dev/null || { \
		echo "ca-itrustee: $(CROSS_COMPILE)gcc not found." >&2; exit 1; }
	@mkdir -p $(BUILD)/itrustee/lib
	$(CROSS_COMPILE)gcc $(HOST_CFLAGS) -DTSCA_BACKEND_ITRUSTEE \
		-I$(ITRUSTEE_CLIENT_DIR)/include $(CA_LDFLAGS) \
		-o $(CA_ITRUSTEE_LIB) ca/teespark_ca.c \
		-L$(ITRUSTEE_CLIENT_LIB) -lteec -lpthread

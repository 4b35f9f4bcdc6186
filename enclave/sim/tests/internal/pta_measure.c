/*
 * pta_measure.c - prints the measurement the simulator's attestation PTA
 * reports for a TA image: loads <uuid>.so the way teespark-ta-host does
 * (dlopen, TEE_* resolved against this program, runtime set up from the
 * TA's sim_ta_props), then, acting as that TA, opens a TA-to-TA session to
 * PTA_ATTESTATION_UUID, runs HASH_TA_MEMORY and prints the 32-byte
 * measurement as hex on stdout. The signature is checked to be present
 * (size 32 + modulus). Used by tests/attest/test_measurement.py to compare
 * python/teespark/attest/measurement.py with the simulator.
 *
 * Usage: TEESPARK_SIM_STORAGE_DIR=<dir> pta_measure <path>/<uuid>.so
 * Exit status 0 on success, 1 on failure (message on stderr).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <pta_attestation.h>
#include <sim_ta_props.h>
#include <tee_internal_api.h>

int main(int argc, char **argv)
{
	static const TEE_UUID pta = PTA_ATTESTATION_UUID;
	static const char nonce[] = "pta_measure";
	const struct sim_ta_props *props;
	TEE_TASessionHandle s = TEE_HANDLE_NULL;
	TEE_Param p[TEE_NUM_PARAMS];
	uint8_t out[32 + 512];
	TEE_Result res;
	void *h;
	int i;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <uuid>.so\n", argv[0]);
		return 1;
	}
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "pta_measure: %s\n", dlerror());
		return 1;
	}
	props = dlsym(h, "sim_ta_props");
	if (!props) {
		fprintf(stderr, "pta_measure: %s has no sim_ta_props\n",
			argv[1]);
		return 1;
	}
	sim_internal_init(props);

	res = TEE_OpenTASession(&pta, TEE_TIMEOUT_INFINITE, 0, NULL, &s, NULL);
	if (res != TEE_SUCCESS) {
		fprintf(stderr, "pta_measure: open 0x%08x\n", res);
		return 1;
	}
	memset(p, 0, sizeof(p));
	p[0].memref.buffer = (void *)nonce;
	p[0].memref.size = sizeof(nonce);
	p[1].memref.buffer = out;
	p[1].memref.size = sizeof(out);
	res = TEE_InvokeTACommand(s, TEE_TIMEOUT_INFINITE,
				  PTA_ATTESTATION_HASH_TA_MEMORY,
				  TEE_PARAM_TYPES(TEE_PARAM_TYPE_MEMREF_INPUT,
						  TEE_PARAM_TYPE_MEMREF_OUTPUT,
						  TEE_PARAM_TYPE_NONE,
						  TEE_PARAM_TYPE_NONE),
				  p, NULL);
	TEE_CloseTASession(s);
	if (res != TEE_SUCCESS || p[1].memref.size != 32 + 384) {
		fprintf(stderr, "pta_measure: HASH_TA_MEMORY 0x%08x (%zu bytes)\n",
			res, p[1].memref.size);
		return 1;
	}
	for (i = 0; i < 32; i++)
		printf("%02x", out[i]);
	printf("\n");
	dlclose(h);
	return 0;
}

/*
 * test_ct_hook.c - checks the constant-time-check hook of the simulator's
 * AE functions (TEESPARK_SIM_CT_SECRETS=1, see internal/operations.c).
 * Run under valgrind memcheck by the sim-internal-test target:
 *
 *   clean  decrypts, uses the plaintext only through branch-free code,
 *          re-encrypts it and branches on the ciphertext and tag (public):
 *          valgrind must report no error.
 *   leaky  branches on a decrypted byte: with the hook enabled valgrind
 *          must report an error (the negative control showing the check
 *          can fail); with the hook disabled it must not (showing the
 *          hook is what marks the data).
 */
#include <stdio.h>
#include <string.h>

#include "sim_internal.h"
#include "test_util.h"

int main(int argc, char **argv)
{
	static const uint8_t key[32] = { 7 }, iv[12] = { 3 };
	uint8_t pt[64], ct[64], out[64], ct2[64], tag[16], tag2[16];
	TEE_ObjectHandle k = TEE_HANDLE_NULL;
	TEE_OperationHandle enc = TEE_HANDLE_NULL, dec = TEE_HANDLE_NULL;
	TEE_Attribute a;
	size_t n, tl, i;
	volatile unsigned sink = 0;
	unsigned acc = 0;
	int leaky = argc > 1 && !strcmp(argv[1], "leaky");

	for (i = 0; i < sizeof(pt); i++)
		pt[i] = (uint8_t)(0x40 + i);
	TEE_AllocateTransientObject(TEE_TYPE_AES, 256, &k);
	TEE_InitRefAttribute(&a, TEE_ATTR_SECRET_VALUE, key, sizeof(key));
	TEE_PopulateTransientObject(k, &a, 1);
	TEE_AllocateOperation(&enc, TEE_ALG_AES_GCM, TEE_MODE_ENCRYPT, 256);
	TEE_AllocateOperation(&dec, TEE_ALG_AES_GCM, TEE_MODE_DECRYPT, 256);
	TEE_SetOperationKey(enc, k);
	TEE_SetOperationKey(dec, k);

	TEE_AEInit(enc, iv, 12, 128, 0, 0);
	n = sizeof(ct);
	tl = sizeof(tag);
	TEE_AEEncryptFinal(enc, pt, sizeof(pt), ct, &n, tag, &tl);

	TEE_AEInit(dec, iv, 12, 128, 0, 0);
	n = 16;
	TEE_AEUpdate(dec, ct, 16, out, &n);
	n = sizeof(out) - 16;
	if (TEE_AEDecryptFinal(dec, ct + 16, sizeof(ct) - 16, out + 16, &n,
			       tag, 16) != TEE_SUCCESS) {
		printf("decrypt failed\n");
		return 2;
	}

	if (leaky) {
		/* Secret-dependent branch: must be reported. */
		if (out[5] == 0x45)
			sink++;
	} else {
		/* Branch-free use of the plaintext. */
		for (i = 0; i < sizeof(out); i++)
			acc += out[i];
		sink = acc;
	}

	/* Ciphertext of secret data is public: branching on it is fine. */
	TEE_AEInit(enc, iv, 12, 128, 0, 0);
	n = sizeof(ct2);
	tl = sizeof(tag2);
	TEE_AEEncryptFinal(enc, out, sizeof(out), ct2, &n, tag2, &tl);
	if (memcmp(ct2, ct, sizeof(ct)) || memcmp(tag2, tag, sizeof(tag)))
		printf("re-encryption differs\n");

	TEE_FreeOperation(enc);
	TEE_FreeOperation(dec);
	TEE_FreeTransientObject(k);
	(void)sink;
	printf("ct hook %s run done\n", leaky ? "leaky" : "clean");
	return 0;
}

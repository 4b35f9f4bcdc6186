/*
 * test_stubs.c - what the TA host normally provides, for the standalone
 * tests of the simulator's Internal API objects: TEE_Panic (caught by
 * EXPECT_PANIC, otherwise fatal) and sim_current_ta_uuid (chosen by the
 * test).
 */
#include <stdio.h>
#include <stdlib.h>

#include "sim_internal.h"
#include "test_util.h"

int test_failures;
int test_checks;
sigjmp_buf *test_panic_jmp;
TEE_Result test_last_panic;
TEE_UUID test_uuid;
int test_uuid_valid;

void TEE_Panic(TEE_Result panicCode)
{
	test_last_panic = panicCode;
	if (test_panic_jmp)
		siglongjmp(*test_panic_jmp, 1);
	fprintf(stderr, "unexpected TEE_Panic(0x%08x)\n", panicCode);
	abort();
}

const TEE_UUID *sim_current_ta_uuid(void)
{
	return test_uuid_valid ? &test_uuid : NULL;
}

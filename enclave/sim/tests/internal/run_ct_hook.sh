#!/bin/sh
# run_ct_hook.sh BIN - checks the constant-time-check hook of the simulator's
# AE functions under valgrind memcheck (see test_ct_hook.c):
#   1. hook on, branch-free use of plaintext      -> no valgrind error
#   2. hook on, branch on a decrypted byte        -> valgrind error (negative
#      control: the check can fail)
#   3. hook off, same branch                      -> no error (the hook is
#      what marks decrypted data)
set -u
bin=$1
if ! command -v valgrind >/dev/null 2>&1; then
	echo "run_ct_hook.sh: valgrind not installed" >&2
	exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
vg="valgrind -q --error-exitcode=99"

if ! TEESPARK_SIM_CT_SECRETS=1 $vg "$bin" clean >/dev/null 2>"$log"; then
	cat "$log" >&2
	echo "FAIL ct-hook: branch-free use of plaintext was reported" >&2
	exit 1
fi
TEESPARK_SIM_CT_SECRETS=1 $vg "$bin" leaky >/dev/null 2>"$log"
rc=$?
if [ "$rc" -ne 99 ] ||
   ! grep -q "depends on uninitialised value" "$log"; then
	cat "$log" >&2
	echo "FAIL ct-hook: branch on decrypted data not caught (rc=$rc)" >&2
	exit 1
fi
if ! TEESPARK_SIM_CT_SECRETS=0 $vg "$bin" leaky >/dev/null 2>"$log"; then
	cat "$log" >&2
	echo "FAIL ct-hook: error reported with the hook disabled" >&2
	exit 1
fi
echo "sim_internal_ct_hook_test: 3 checks, 0 failures"

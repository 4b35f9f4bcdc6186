#!/bin/sh
# run_ct.sh DIR "KERNEL_PROGRAMS" "CONTROL_PROGRAMS"
#
# Constant-time check (ctgrind): run every program under valgrind memcheck
# with secrets marked undefined. Kernel programs must be clean; negative
# control programs must be caught (valgrind exit status 1 and a
# "Conditional jump" or "Use of uninitialised value" report), otherwise the
# check itself is broken. Exit status 0 iff all of that holds.
dir=$1
kernels=$2
controls=$3
VALGRIND="valgrind -q --error-exitcode=1 --track-origins=yes"
fail=0

if ! command -v valgrind >/dev/null 2>&1; then
	echo "kernels-ct: error: valgrind not found; install it (apt-get install valgrind)" >&2
	exit 1
fi

for prog in $kernels; do
	log="$dir/$prog.log"
	if $VALGRIND "$dir/$prog" >"$log" 2>&1; then
		echo "ct $prog: clean"
	else
		echo "ct $prog: FAILED: valgrind reports a secret-dependent branch or address:"
		sed 's/^/    /' "$log" | head -60
		fail=1
	fi
done

for prog in $controls; do
	log="$dir/$prog.log"
	$VALGRIND "$dir/$prog" >"$log" 2>&1
	rc=$?
	hits=$(grep -c -E "Conditional jump or move depends on uninitialised|Use of uninitialised value" "$log")
	if [ "$rc" -eq 1 ] && [ "$hits" -gt 0 ]; then
		echo "ct negative control $prog: caught as expected ($hits reports)"
	else
		echo "ct negative control $prog: NOT CAUGHT (valgrind exit $rc, $hits reports): the check is broken"
		sed 's/^/    /' "$log" | head -30
		fail=1
	fi
done

exit $fail

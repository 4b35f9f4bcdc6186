#!/bin/sh
# check_no_div.sh "OBJECTS" CONTROL_OBJECT
#
# Hardware integer division (x86 div/idiv) has data-dependent latency, so
# the evaluator must never execute it: secrets are divided by ct_arith.h's
# shift-subtract loops and public constants by multiplication. This scans
# the disassembly of every shipped evaluator object for div/idiv (divsd and
# the other floating-point divisions are not matched) and fails if one is
# found. The control object contains a real division and MUST be flagged,
# otherwise the check itself is broken. Exit status 0 iff both hold.
objs=$1
control=$2
fail=0
pattern='[[:space:]]i?div[bwlq]?[[:space:]]'

if ! command -v objdump >/dev/null 2>&1; then
	echo "expr-ct: error: objdump not found (binutils)" >&2
	exit 1
fi
for o in $objs; do
	hits=$(objdump -d --no-show-raw-insn "$o" | grep -E -c "$pattern")
	if [ "$hits" -ne 0 ]; then
		echo "div check $o: FAILED: $hits integer division instruction(s):"
		objdump -d --no-show-raw-insn "$o" | awk '/^[0-9a-f]+ <.*>:/{fn=$2} /[[:space:]]i?div[bwlq]?[[:space:]]/{print "    " fn " " $0}'
		fail=1
	else
		echo "div check $(basename "$o"): no div/idiv"
	fi
done
hits=$(objdump -d --no-show-raw-insn "$control" | grep -E -c "$pattern")
if [ "$hits" -gt 0 ]; then
	echo "div check negative control $(basename "$control"): caught as expected"
else
	echo "div check negative control $(basename "$control"): NOT CAUGHT: the check is broken"
	fail=1
fi
exit $fail

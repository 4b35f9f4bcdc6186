#!/bin/sh
# run.sh - trace equality of the XSORT_* and STREAM commands at machine level
# (make -C enclave cmd-trace).
#
#   sh tests/trace_cmd/run.sh HARNESS LEAKY_HARNESS FILTER WORKDIR
#
# 1. "HARNESS gen" writes, natively, the data sets of every scenario
#    (random, all-equal keys, sorted, reverse-sorted, 90% skew; the same
#    public sizes; for revealed counts the same count; for FILL the same
#    join size m over different groups).
# 2. "HARNESS run" runs every scenario on every data set natively and checks
#    the results against references from the plaintext; a scenario whose
#    mode the TA does not accept yet (a pending ABI v4 mode) is skipped and
#    listed, any other failure fails the test.
# 3. Under valgrind --tool=lackey --trace-mem=yes, in one process, "HARNESS
#    trace" runs each scenario on: random, random again, equal, sorted,
#    reverse, skew90; FILTER hashes each command window's instruction and
#    data addresses on the fly (nothing is stored). Required: the same data
#    twice give the same hash (determinism), and all five data sets give
#    that hash (equality), with equal public outputs.
# 4. The negative control, LEAKY_HARNESS (the leaky XSORT merge, STREAM
#    key comparison and MAP emit of ta_sim.mk, the leaky GROUP_COUNT key
#    comparison and FILL t < copies of stream_expand.mk) on CONTROLS, at the
#    same time: the same data twice must still agree, and different data
#    must give different hashes on every control, or the check is broken.
#
# Environment: CMD_TRACE_JOBS=1 runs the two lackey processes one after the
# other (default 2: in parallel); CMD_TRACE_ONLY="scen ..." limits the
# scenarios; CMD_TRACE_KEEP=1 keeps WORKDIR (data sets and logs, no traces).

set -u

H=$1
HL=$2
F=$3
W=$4
JOBS=${CMD_TRACE_JOBS:-2}
CONTROLS="xsort stream_aggregate_hidden stream_join_inner_revealed
	stream_map stream_group_count stream_fill"
# The first data set twice: determinism, then equality over the rest.
SETS="random random equal sorted reverse skew90"
N_SETS=6

say() { echo "cmd-trace: $*"; }
die() { say "$*"; exit 1; }
now() { date +%s; }

t0=$(now)
rm -rf "$W"
mkdir -p "$W/data" || die "cannot create $W"

scens=$("$H" list) || die "$H list failed"
if [ -n "${CMD_TRACE_ONLY:-}" ]; then
	scens=$CMD_TRACE_ONLY
fi

# ---- 1. data sets ---------------------------------------------------------
for s in $scens; do
	mkdir -p "$W/data/$s"
	for v in $("$H" variants); do
		"$H" gen "$s" "$v" "$W/data/$s/$v" ||
			die "generating $s/$v failed"
	done
done

# "scen file... scen file..." for the harness.
args_for() {
	for s in "$@"; do
		printf '%s ' "$s"
		for v in $SETS; do
			printf '%s ' "$W/data/$s/$v"
		done
	done
}

# ---- 2. native run with reference checks ----------------------------------
"$H" run $(args_for $scens) >"$W/native.out" 2>"$W/native.err"
rc=$?
if grep -q '^FAIL' "$W/native.out" || [ $rc -ne 0 -a $rc -ne 3 ]; then
	grep '^FAIL' "$W/native.out"
	cat "$W/native.err"
	die "the commands failed natively (exit $rc): see above"
fi
supported=
skipped=
for s in $scens; do
	n_ok=$(grep -c "^ok $s#" "$W/native.out")
	if [ "$n_ok" -eq $N_SETS ]; then
		supported="$supported $s"
	elif grep -q "^unsupported $s#" "$W/native.out"; then
		skipped="$skipped $s"
	else
		die "$s: $n_ok of $N_SETS data sets ran natively"
	fi
done
# Every control among the selected scenarios runs: one the TA refuses
# would be a negative control that cannot fail.
controls=
for s in $CONTROLS; do
	case " $supported " in *" $s "*) controls="$controls $s" ;; esac
	case " $skipped " in
	*" $s "*) die "negative control $s: the TA refuses the mode" ;;
	esac
done

# ---- 3./4. lackey: the shipped build and the leaky one ---------------------
# job NAME BINARY SCEN...: one valgrind process; its windows to NAME.windows.
job() {
	name=$1
	bin=$2
	shift 2
	js=$(now)
	{
		valgrind --tool=lackey --trace-mem=yes --log-fd=9 \
			"$bin" trace $(args_for "$@") 9>&1 >"$W/$name.out" \
			2>"$W/$name.err"
		echo $? >"$W/$name.rc"
	} | "$F" >"$W/$name.windows"
	echo $? >"$W/$name.filter.rc"
	echo $(($(now) - js)) >"$W/$name.secs"
}

if [ -z "$supported" ]; then
	die "no scenario ran"
fi
if [ "$JOBS" -ge 2 ]; then
	job check "$H" $supported &
	p1=$!
	if [ -n "$controls" ]; then
		job control "$HL" $controls &
		p2=$!
		wait $p2
	fi
	wait $p1
else
	job check "$H" $supported
	[ -n "$controls" ] && job control "$HL" $controls
fi

for name in check control; do
	[ "$name" = control ] && [ -z "$controls" ] && continue
	if [ "$(cat "$W/$name.rc")" != 0 ] ||
	   [ "$(cat "$W/$name.filter.rc")" != 0 ]; then
		cat "$W/$name.err"
		die "$name: valgrind exit $(cat "$W/$name.rc"), filter exit $(cat "$W/$name.filter.rc")"
	fi
done

# hashes NAME SCEN: the window hashes of SCEN in order, one per line.
hashes() {
	awk -v s="$2" '$1 == "window" { split($2, a, "#");
		if (a[1] == s) print a[2], $3, $4, $NF }' "$W/$1.windows" |
		sort -n
}

# show HASHES: one line per window with its data set's name.
show() {
	printf '%s\n' "$1" | awk -v sets="$SETS" \
		'BEGIN { split(sets, n, " ") } { print "  " n[$1 + 1], $2, $3 }'
}

passed=0
failed=0
for s in $supported; do
	h=$(hashes check "$s")
	n=$(printf '%s\n' "$h" | grep -c .)
	others=$(printf '%s\n' "$h" | grep -vc ' other=0$')
	h0=$(printf '%s\n' "$h" | awk 'NR == 1 { print $2 }')
	h1=$(printf '%s\n' "$h" | awk 'NR == 2 { print $2 }')
	distinct=$(printf '%s\n' "$h" | awk 'NR > 1 { print $2 }' | sort -u | grep -c .)
	instr=$(printf '%s\n' "$h" | awk 'NR == 1 { sub("instr=", "", $3); print $3 }')
	outs=$(grep "^ok $s#" "$W/check.out" | sed 's/^ok [^ ]* //' | sort -u | grep -c .)
	if [ "$n" -ne $N_SETS ] || [ "$others" -ne 0 ]; then
		say "$s: FAIL: $n of $N_SETS windows, $others with foreign lines"
		failed=$((failed + 1))
	elif [ "$h0" != "$h1" ]; then
		say "$s: FAIL: not deterministic: the same data set gave two traces"
		show "$h"
		failed=$((failed + 1))
	elif [ "$distinct" -ne 1 ] || [ "$outs" -ne 1 ]; then
		say "$s: FAIL: $distinct traces, $outs public outputs for data sets of one public shape:"
		show "$h"
		grep "^ok $s#" "$W/check.out"
		failed=$((failed + 1))
	else
		say "$s: one trace for $((N_SETS - 1)) data sets and a repeat ($instr instructions, sha256 $(printf '%.16s' "$h0")...)"
		passed=$((passed + 1))
	fi
done

caught=0
for s in $controls; do
	h=$(hashes control "$s")
	n=$(printf '%s\n' "$h" | grep -c .)
	h0=$(printf '%s\n' "$h" | awk 'NR == 1 { print $2 }')
	h1=$(printf '%s\n' "$h" | awk 'NR == 2 { print $2 }')
	distinct=$(printf '%s\n' "$h" | awk 'NR > 1 { print $2 }' | sort -u | grep -c .)
	if [ "$n" -ne $N_SETS ] || [ "$h0" != "$h1" ]; then
		say "negative control $s: FAIL: $n windows, repeat equal: $([ "$h0" = "$h1" ] && echo yes || echo no)"
		failed=$((failed + 1))
	elif [ "$distinct" -lt 2 ]; then
		say "negative control $s NOT caught (one trace for $((N_SETS - 1)) data sets): the check is broken"
		failed=$((failed + 1))
	else
		caught=$((caught + 1))
		passed=$((passed + 1))
		say "negative control $s: caught ($distinct distinct traces for $((N_SETS - 1)) data sets, repeat equal)"
	fi
done

if [ -n "$skipped" ]; then
	say "skipped (the TA refuses the mode yet):$skipped"
fi
secs="$(cat "$W/check.secs")s shipped build"
[ -n "$controls" ] && secs="$secs, $(cat "$W/control.secs")s leaky build"
say "lackey: $secs; total $(($(now) - t0))s"
if [ -n "$controls" ] && [ $caught -eq $(echo $controls | wc -w) ]; then
	echo "cmd-trace negative control: caught ($caught of $caught leaky scenarios)"
fi
echo "cmd-trace: $passed passed, $failed failed"
[ "${CMD_TRACE_KEEP:-0}" = 1 ] || rm -rf "$W/data"
[ $failed -eq 0 ]

"""Prefix and segmented scans against itertools.accumulate and a plain
Python loop (wrapping int64 arithmetic for sums)."""
from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from kernels_ctypes import SCAN_COUNT, SCAN_MAX, SCAN_MIN, SCAN_SUM

I64 = st.one_of(st.integers(min_value=-2**63, max_value=2**63 - 1),
                st.integers(min_value=-5, max_value=5),
                st.sampled_from([-2**63, 2**63 - 1]))
SETTINGS = settings(max_examples=200, deadline=None)


def wrap64(x: int) -> int:
    return (x + 2**63) % 2**64 - 2**63


@SETTINGS
@given(st.lists(I64, max_size=400))
def test_prefix_sum_matches_accumulate(kernels, values):
    want = [wrap64(x) for x in itertools.accumulate(values)]
    assert kernels.prefix_sum(values) == want


def segmented_reference(values, starts, op):
    out, acc, count = [], 0, 0
    for i, (v, s) in enumerate(zip(values, starts)):
        if i == 0 or s:
            acc, count = v, 1
        else:
            count += 1
            acc = {SCAN_SUM: lambda: wrap64(acc + v), SCAN_MIN: lambda: min(acc, v),
                   SCAN_MAX: lambda: max(acc, v), SCAN_COUNT: lambda: acc}[op]()
        out.append(count if op == SCAN_COUNT else acc)
    return out


@SETTINGS
@given(st.lists(st.tuples(I64, st.booleans()), max_size=300),
       st.sampled_from([SCAN_SUM, SCAN_MIN, SCAN_MAX, SCAN_COUNT]))
def test_segmented_scan_matches_python_loop(kernels, rows, op):
    values = [v for v, _ in rows]
    starts = [s for _, s in rows]
    assert kernels.segmented(values, starts, op) == segmented_reference(values, starts, op)


@SETTINGS
@given(st.lists(st.booleans(), max_size=300))
def test_mark_last_flags_segment_ends(kernels, starts):
    n = len(starts)
    want = [1 if i == n - 1 or starts[i + 1] else 0 for i in range(n)]
    assert kernels.mark_last(starts) == want


def test_segmented_group_by_known_answer(kernels):
    # groups (5, -3) (7, 2, 2) (-9): per-group sums land on the last rows
    values, starts = [5, -3, 7, 2, 2, -9], [True, False, True, False, False, True]
    sums = kernels.segmented(values, starts, SCAN_SUM)
    last = kernels.mark_last(starts)
    assert [s for s, l in zip(sums, last) if l] == [2, 11, -9]
    counts = kernels.segmented(values, starts, SCAN_COUNT)
    assert [c for c, l in zip(counts, last) if l] == [2, 3, 1]

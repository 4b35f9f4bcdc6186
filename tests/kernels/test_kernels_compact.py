"""obl_compact against a list comprehension: kept records first, in their
original order, the right count, is_real flags, dropped records behind."""
from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=200, deadline=None)


def run(kernels, keep, rec_size):
    records = [struct.pack("<I", i) + bytes([(i * 7 + j) & 0xff for j in range(rec_size - 4)])
               for i in range(len(keep))]
    m, out, flags = kernels.compact(records, keep)
    want = [r for r, k in zip(records, keep) if k]
    assert m == len(want)
    assert out[:m] == want
    assert sorted(out[m:]) == sorted(r for r, k in zip(records, keep) if not k)
    assert flags == [1 if i < m else 0 for i in range(len(keep))]


@SETTINGS
@given(st.lists(st.booleans(), max_size=400), st.sampled_from([4, 8, 13, 16, 24, 64]))
def test_compact_preserves_order_and_count(kernels, keep, rec_size):
    run(kernels, keep, rec_size)


@SETTINGS
@given(st.integers(min_value=0, max_value=300), st.sampled_from(["all", "none", "first", "last"]))
def test_compact_extreme_keep_patterns(kernels, n, pattern):
    keep = {"all": [True] * n, "none": [False] * n,
            "first": [i == 0 for i in range(n)], "last": [i == n - 1 for i in range(n)]}[pattern]
    run(kernels, keep, 16)

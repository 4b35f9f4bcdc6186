"""Trace equality, property-based: with the trace build, two inputs of the
same public shape (n, record width) must give the same access-trace digest,
for random inputs chosen by Hypothesis. The C suite (make -C enclave
kernels-trace) covers the fixed adversarial families and the negative
controls; this adds Hypothesis' search over inputs."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=60, deadline=None)


def digest(lib, fn):
    lib.obl_trace_reset()
    fn()
    return lib.obl_trace_digest(), lib.obl_trace_events()


@SETTINGS
@given(st.integers(min_value=0, max_value=200).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 3), min_size=n, max_size=n),
    st.lists(st.integers(0, 2**64 - 1), min_size=n, max_size=n))))
def test_sort_trace_independent_of_keys(trace_kernels, keys_pair):
    kernels, lib = trace_kernels
    a, b = keys_pair
    n = len(a)
    traces = []
    for keys in (a, b):
        arr = np.stack([np.array(keys, dtype=np.uint64),
                        np.arange(n, dtype=np.uint64)], axis=1) if n else \
            np.zeros((0, 2), dtype=np.uint64)
        traces.append(digest(lib, lambda: kernels.sort_records(arr, 1)))
    assert traces[0] == traces[1]
    if n >= 2:
        assert traces[0][1] > 0


@SETTINGS
@given(st.integers(min_value=0, max_value=200).flatmap(lambda n: st.tuples(
    st.lists(st.booleans(), min_size=n, max_size=n),
    st.lists(st.booleans(), min_size=n, max_size=n))))
def test_compact_trace_independent_of_keep_flags(trace_kernels, keep_pair):
    kernels, lib = trace_kernels
    traces = []
    for keep in keep_pair:
        records = [i.to_bytes(16, "little") for i in range(len(keep))]
        traces.append(digest(lib, lambda: kernels.compact(records, keep)))
    assert traces[0] == traces[1]

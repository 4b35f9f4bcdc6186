"""Trace equality of the operators, property-based: with the trace build,
two inputs with the same public sizes must give the same access-trace
digest, for inputs chosen by Hypothesis (keys, NULLs, dummies, keep flags,
and so the secret output sizes, all differ). The C suite (make -C enclave
operators-trace) covers fixed adversarial families, the general join at
equal m, and the encrypted-mode negative controls; the last test here
repeats one control."""
from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from operators_ctypes import (AGG_COUNT_DISTINCT, AGG_SUM, JOIN_INNER, JOIN_LEFT_ANTI,
                              JOIN_LEFT_SEMI, Table,
                              agg_spec, key_spec)
from optables import tables

SETTINGS = settings(max_examples=40, deadline=None)


def digest(lib, fn):
    lib.obl_trace_reset()
    fn()
    return lib.obl_trace_digest(), lib.obl_trace_events()


def same_size_pair(max_size=40):
    return st.integers(0, max_size).flatmap(
        lambda n: st.tuples(tables(min_size=n, max_size=n), tables(min_size=n, max_size=n)))


def with_real(table):
    df, real = table
    return df, real if real is not None else [True] * len(df)


@SETTINGS
@given(same_size_pair(), st.data())
def test_filter_and_aggregate_trace_independent_of_data(trace_ops, pair, data):
    ops, lib = trace_ops
    traces = []
    for table in pair:
        df, real = with_real(table)
        keep = data.draw(st.lists(st.booleans(), min_size=len(df), max_size=len(df)))
        t = Table(df, real)

        def run():
            ops.filter(t, keep)
            ops.aggregate(t, [key_spec("k1"), key_spec("k2")],
                          [agg_spec(AGG_SUM, "v"), agg_spec(AGG_COUNT_DISTINCT, "k2")])
            ops.distinct(t, [key_spec("k1")])
        traces.append(digest(lib, run))
    assert traces[0] == traces[1]


@SETTINGS
@given(same_size_pair(25), same_size_pair(25))
def test_padded_joins_trace_independent_of_matches(trace_ops, lefts, rights):
    ops, lib = trace_ops
    traces = []
    spec = [key_spec("k1")]
    for (l, r) in zip(lefts, rights):
        (ldf, lr), (rdf, rr) = with_real(l), with_real(r)
        lt, rt = Table(ldf, lr), Table(rdf, rr)
        traces.append(digest(lib, lambda: (
            ops.join(lt, rt, spec, spec, JOIN_LEFT_ANTI, "semi"),
            ops.join(lt, rt, spec, spec, JOIN_LEFT_SEMI, "semi"))))
    assert traces[0] == traces[1]


def test_fast_filter_trace_depends_on_data(trace_ops):
    ops, lib = trace_ops
    df = pd.DataFrame({"k1": list(range(16)), "k2": ["a"] * 16, "v": [1] * 16,
                       "f": [0.0] * 16, "id": list(range(16))}, dtype=object)
    t = Table(df)
    a = digest(lib, lambda: ops.filter(t, [True] * 16, fast=True))
    b = digest(lib, lambda: ops.filter(t, [i % 2 == 0 for i in range(16)], fast=True))
    c = digest(lib, lambda: ops.filter(t, [True] * 16))
    d = digest(lib, lambda: ops.filter(t, [i % 2 == 0 for i in range(16)]))
    assert a != b, "the encrypted-mode filter must show its keep pattern"
    assert c == d
    e = digest(lib, lambda: ops.join(t, t, [key_spec("k1")], [key_spec("k1")], JOIN_INNER,
                                     "fast"))
    df2 = df.assign(k1=[0] * 16)
    t2 = Table(df2)
    f = digest(lib, lambda: ops.join(t2, t2, [key_spec("k1")], [key_spec("k1")], JOIN_INNER,
                                     "fast"))
    assert e != f

"""GROUP BY and global aggregates, oblivious and encrypted mode, against
pandas groupby (dropna=False: NULL keys form one group; sum(min_count=1):
SUM of only NULLs is NULL) on tables with NULLs, duplicate and skewed keys,
dummy rows and empty inputs."""
from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings

from operators_ctypes import (AGG_AVG, AGG_COUNT, AGG_COUNT_DISTINCT, AGG_COUNT_STAR, AGG_MAX,
                              AGG_MIN, AGG_SUM, Table, agg_spec, key_spec)
from optables import group_order, norm, real_rows, tables

SETTINGS = settings(max_examples=60, deadline=None)
MODES = [False, True]

AGGS = [
    agg_spec(AGG_COUNT_STAR), agg_spec(AGG_COUNT, "v"), agg_spec(AGG_SUM, "v"),
    agg_spec(AGG_SUM, "f"), agg_spec(AGG_MIN, "v"), agg_spec(AGG_MAX, "v"),
    agg_spec(AGG_MIN, "f"), agg_spec(AGG_MAX, "f"), agg_spec(AGG_AVG, "v"),
    agg_spec(AGG_AVG, "f"), agg_spec(AGG_COUNT_DISTINCT, "k2"),
    agg_spec(AGG_COUNT_DISTINCT, "v"),
]


def pandas_aggregates(g: pd.DataFrame) -> list:
    """The AGGS of one group with pandas (None for NULL)."""
    v = pd.to_numeric(g["v"], errors="coerce").astype("float64")
    f = pd.to_numeric(g["f"], errors="coerce").astype("float64")
    vi = g["v"].dropna()
    return [
        len(g), int(v.count()),
        None if v.count() == 0 else int(sum(int(x) for x in vi)),
        norm(f.sum(min_count=1)),
        None if v.count() == 0 else int(min(int(x) for x in vi)),
        None if v.count() == 0 else int(max(int(x) for x in vi)),
        norm(f.min()), norm(f.max()), norm(v.mean()), norm(f.mean()),
        int(g["k2"].nunique(dropna=True)), int(g["v"].nunique(dropna=True)),
    ]


def same_values(got: list, want: list) -> bool:
    for a, b in zip(got, want):
        if a is None or b is None:
            if a is not b:
                return False
        elif isinstance(a, float) or isinstance(b, float):
            if not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9):
                return False
        elif a != b:
            return False
    return len(got) == len(want)


@SETTINGS
@given(tables(max_size=50))
@pytest.mark.parametrize("nkeys", [1, 2])
@pytest.mark.parametrize("fast", MODES)
def test_group_by_matches_pandas(ops, fast, nkeys, table):
    df, real = table
    keys = ["k1", "k2"][:nkeys]
    m, groups, results = ops.aggregate(Table(df, real), [key_spec(k) for k in keys], AGGS,
                                       fast=fast)
    want_df = real_rows(df, real)
    want = {}
    if len(want_df):
        for key, g in want_df.groupby(keys, dropna=False, sort=False):
            key = key if isinstance(key, tuple) else (key,)
            want[tuple(norm(k) for k in key)] = pandas_aggregates(g)
    got_keys = [tuple(norm(groups[k][i]) for k in keys) for i in range(m)]
    assert m == len(want)
    assert got_keys == sorted(got_keys, key=group_order), "groups come out in key order"
    for key, vals in zip(got_keys, results):
        assert same_values(vals, want[key]), (key, vals, want[key])


@SETTINGS
@given(tables(max_size=50))
@pytest.mark.parametrize("fast", MODES)
def test_global_aggregate_one_row(ops, fast, table):
    df, real = table
    m, _, results = ops.aggregate(Table(df, real), [], AGGS, fast=fast)
    want_df = real_rows(df, real)
    assert m == 1
    if len(want_df) == 0:
        # SQL: COUNT 0, SUM/MIN/MAX/AVG NULL over no rows
        assert results[0] == [0, 0, None, None, None, None, None, None, None, None, 0, 0]
    else:
        assert same_values(results[0], pandas_aggregates(want_df))


@pytest.mark.parametrize("fast", MODES)
def test_all_null_group_and_skew(ops, fast):
    n = 200
    df = pd.DataFrame({"k1": [7 if i % 10 else None for i in range(n)],
                       "k2": ["a"] * n,
                       "v": [None] * n,
                       "f": [float(i) if i < 5 else None for i in range(n)],
                       "id": list(range(n))}).astype(object)
    m, groups, results = ops.aggregate(Table(df), [key_spec("k1")], AGGS, fast=fast)
    assert m == 2
    assert norm(groups["k1"][0]) is None and groups["k1"][1] == 7   # NULLS FIRST
    null_group, big = results
    assert null_group[0] == 20 and big[0] == 180          # 90% skew
    assert null_group[2] is None and big[2] is None        # SUM of only NULLs
    assert null_group[1] == 0 and null_group[11] == 0      # COUNT, COUNT DISTINCT of NULLs
    assert null_group[3] == 0.0 and big[3] == 10.0         # f: rows 0 (null key) and 1..4


def test_exact_work_bytes_suffice(ops):
    df = pd.DataFrame({"k1": [i % 7 for i in range(300)], "k2": ["x"] * 300,
                       "v": list(range(300)), "f": [0.5] * 300,
                       "id": list(range(300))}).astype(object)
    m, _, _ = ops.aggregate(Table(df), [key_spec("k1"), key_spec("k2")], AGGS,
                            exact_arena=True)
    assert m == 7

"""Filter, ORDER BY, top-k, LIMIT, UNION ALL and DISTINCT, oblivious and
encrypted mode, against pandas / Python references on tables with NULLs,
duplicate and skewed keys, empty inputs, dummy rows and everything filtered
out."""
from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from operators_ctypes import Table, key_spec
from optables import norm, real_rows, sort_key, tables

SETTINGS = settings(max_examples=60, deadline=None)
MODES = [False, True]      # fast = False: oblivious; True: encrypted mode


def records(df: pd.DataFrame):
    return [tuple(norm(x) for x in r) for r in df[["k1", "k2", "v", "f", "id"]].itertuples(
        index=False)]


@SETTINGS
@given(tables(), st.data())
@pytest.mark.parametrize("fast", MODES)
def test_filter_keeps_passing_rows_in_order(ops, fast, table, data):
    df, real = table
    keep = data.draw(st.lists(st.booleans(), min_size=len(df), max_size=len(df)))
    m, out, flags = ops.filter(Table(df, real), keep, fast=fast)
    mask = [k and (real is None or r) for k, r in zip(keep, real or [True] * len(df))]
    want = df.iloc[[i for i, k in enumerate(mask) if k]]
    assert m == len(want)
    assert records(out.iloc[:m]) == records(want)
    assert flags == [1] * m + [0] * (len(df) - m)
    # dummies are all-zero rows
    assert all(x == 0 for x in out.iloc[m:]["id"])


@pytest.mark.parametrize("fast", MODES)
def test_filter_everything_filtered_out_and_padding(ops, fast):
    df = pd.DataFrame({"k1": [1, 2, None], "k2": ["a", None, "b"], "v": [1, 2, 3],
                       "f": [0.5, None, 1.5], "id": [0, 1, 2]}).astype(object)
    m, out, flags = ops.filter(Table(df), [False] * 3, fast=fast)
    assert m == 0 and flags == [0, 0, 0]
    # padded to a caller bound larger than n: extra slots are dummies
    m, out, flags = ops.filter(Table(df), [True, False, True], cap=5, fast=fast)
    assert m == 2 and flags == [1, 1, 0, 0, 0]
    assert list(out["id"][:2]) == [0, 2]
    m, _, _ = ops.filter(Table(df.iloc[:0]), [], fast=fast)
    assert m == 0


SORT_SPECS = [key_spec("k1", descending=True, nulls_first=False), key_spec("k2")]


@SETTINGS
@given(tables())
@pytest.mark.parametrize("fast", MODES)
def test_sort_desc_nulls_last_then_asc_nulls_first(ops, fast, table):
    df, real = table
    m, out, flags = ops.sort(Table(df, real), SORT_SPECS, fast=fast)
    want = real_rows(df, real)
    assert m == len(want) and flags == [1] * m + [0] * (len(df) - m)
    got_keys = [(norm(a), norm(b)) for a, b in zip(out["k1"][:m], out["k2"][:m])]
    assert got_keys == sorted(got_keys, key=sort_key)
    assert sorted(records(out.iloc[:m]), key=str) == sorted(records(want), key=str)


@SETTINGS
@given(tables(), st.integers(0, 12))
@pytest.mark.parametrize("fast", MODES)
def test_topk_is_the_head_of_the_sort(ops, fast, table, k):
    df, real = table
    m, out, flags = ops.topk(Table(df, real), SORT_SPECS, k, fast=fast)
    want = real_rows(df, real)
    keys = sorted([(norm(a), norm(b)) for a, b in zip(want["k1"], want["k2"])], key=sort_key)
    assert m == min(k, len(want)) and flags == [1] * m + [0] * (k - m)
    assert [(norm(a), norm(b)) for a, b in zip(out["k1"][:m], out["k2"][:m])] == keys[:k]


@SETTINGS
@given(tables(), st.integers(0, 12))
@pytest.mark.parametrize("fast", MODES)
def test_limit_takes_the_first_real_rows(ops, fast, table, k):
    df, real = table
    m, out, flags = ops.limit(Table(df, real), k, fast=fast)
    want = real_rows(df, real).head(k)
    assert m == len(want) and flags == [1] * m + [0] * (k - m)
    assert records(out.iloc[:m]) == records(want)


@SETTINGS
@given(tables(max_size=25), tables(max_size=25, id_base=100))
def test_union_all_concatenates(ops, a, b):
    (da, ra), (db, rb) = a, b
    out, flags = ops.union_all(Table(da, ra), Table(db, rb))
    assert flags == [int(x) for x in (ra or [1] * len(da))] + \
        [int(x) for x in (rb or [1] * len(db))]
    both = pd.concat([da, db])
    got = [r for r, f in zip(records(out), flags) if f]
    assert got == records(both.iloc[[i for i, f in enumerate(flags) if f]])


@SETTINGS
@given(tables())
@pytest.mark.parametrize("fast", MODES)
def test_distinct_matches_drop_duplicates(ops, fast, table):
    df, real = table
    specs = [key_spec("k1"), key_spec("k2")]
    m, out, flags = ops.distinct(Table(df, real), specs, fast=fast)
    want = real_rows(df, real)
    ref = {(norm(a), norm(b)) for a, b in zip(want["k1"], want["k2"])}
    got = [(norm(a), norm(b)) for a, b in zip(out["k1"], out["k2"])]
    assert m == len(ref) == len(got) and set(got) == ref
    assert flags == [1] * m + [0] * (len(df) - m)
    # pandas agrees (NULLs are one value)
    assert m == len(want[["k1", "k2"]].drop_duplicates())

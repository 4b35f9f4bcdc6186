"""RUN_OPERATOR through teespark.exec against pandas, in both modes
(oblivious and encrypted), on random data with NULLs, duplicate keys, 90%
skew, empty inputs, nothing passing, joins with no and with every row
matching, padded outputs and an operator tree."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exec_helpers import SCHEMA_A, SCHEMA_B, same_rows, table_a, table_b
from teespark.exec import (Aggregate, Distinct, Filter, Join, Limit, Project, Scan, Sort,
                           Union)
from teespark.ir import col, lit, when
from teespark.tee.teespark_ta import OperatorPadOverflowError

KEY_A, KEY_B = bytes(range(32)), bytes(range(32, 64))


def load(drv, df, schema=SCHEMA_A, slot=0, key=KEY_A):
    return drv.load(df, schema, slot=slot, key=key)


# -- filter / project --------------------------------------------------------

@pytest.mark.parametrize("n,skew", [(0, False), (1, False), (57, False), (130, True)])
def test_filter(drv, n, skew) -> None:
    df = table_a(n, n, skew=skew)
    t = load(drv, df)
    got = drv.collect(Filter(Scan(t), (col("k") == 1) | (col("v") > 5)))
    want = df[((df.k == 1) | (df.v > 5)).fillna(False).astype(bool)]
    same_rows(got, want, ordered=True)   # filter keeps the input order


def test_filter_nothing_and_everything(drv) -> None:
    df = table_a(40, 3)
    t = load(drv, df)
    assert len(drv.collect(Filter(Scan(t), col("id") < 0))) == 0
    same_rows(drv.collect(Filter(Scan(t), col("id") >= 0)), df, ordered=True)


def test_filter_padded_drops_dummies_and_overflow(drv) -> None:
    df = table_a(50, 4)
    t = load(drv, df)
    node = Filter(Scan(t), col("id") % 3 == 0, pad_rows=30)
    out = drv.run(node)
    assert out.rows == 30 and out.padded
    same_rows(drv.collect(node), df[df.id % 3 == 0], ordered=True)
    with pytest.raises(OperatorPadOverflowError):
        drv.run(Filter(Scan(t), col("id") % 3 == 0, pad_rows=5))
    # a padded intermediate feeds the next operator (dummies ignored)
    agg = Aggregate(Filter(Scan(t), col("id") % 3 == 0, pad_rows=40), [],
                    [("n", "count_star", None)])
    assert drv.collect(agg).n.tolist() == [17]


def test_project(drv) -> None:
    df = table_a(70, 5)
    t = load(drv, df)
    got = drv.collect(Project(Scan(t), [("id2", col("id") * 2),
                                        ("kv", when(col("k").is_null(), lit(-1))
                                         .otherwise(col("k"))),
                                        ("s", col("s"))]))
    want = pd.DataFrame({"id2": df.id * 2, "kv": df.k.fillna(-1), "s": df.s})
    same_rows(got, want, ordered=True)
    # project over a padded input: dummies dropped, order kept
    got = drv.collect(Project(Filter(Scan(t), col("id") < 10, pad_rows=20),
                              [("id", col("id"))]))
    assert got.id.tolist() == list(range(10))


# -- sort / limit / top-k / distinct -----------------------------------------

@pytest.mark.parametrize("n", [0, 1, 64, 150])
def test_sort(drv, n) -> None:
    df = table_a(n, 10 + n, skew=n > 100)
    t = load(drv, df)
    got = drv.collect(Sort(Scan(t), [("k", True), ("v", False), "id"]))
    want = df.sort_values(["k", "v", "id"], ascending=[True, False, True],
                          na_position="first")
    # Spark: NULLS FIRST ascending, NULLS LAST descending
    want = pd.concat([want[want.k.isna()], want[want.k.notna()]])
    parts = []
    for _, g in want.groupby(want.k.fillna(-999), sort=False, dropna=False):
        parts.append(pd.concat([g[g.v.notna()].sort_values(["v", "id"], ascending=[False, True]),
                                g[g.v.isna()].sort_values("id")]))
    want = pd.concat(parts) if parts else want
    same_rows(got, want, ordered=True)


def test_topk_and_limit(drv) -> None:
    df = table_a(90, 11)
    t = load(drv, df)
    got = drv.collect(Sort(Scan(t), [("id", False)], limit=7))
    assert got.id.tolist() == list(range(89, 82, -1))
    same_rows(drv.collect(Limit(Scan(t), 5)), df.head(5), ordered=True)
    assert len(drv.collect(Limit(Scan(t), 500))) == 90
    empty = load(drv, table_a(0, 1))
    assert len(drv.collect(Limit(Scan(empty), 3))) == 0
    assert len(drv.collect(Sort(Scan(empty), ["id"], limit=3))) == 0


def test_distinct(drv) -> None:
    df = table_a(120, 12, skew=True)[["k", "s"]]
    df = df.assign(id=0)[["id", "k", "s"]]
    base = table_a(120, 12, skew=True)
    t = load(drv, base)
    got = drv.collect(Distinct(Project(Scan(t), [("k", col("k")), ("s", col("s"))])))
    want = base[["k", "s"]].drop_duplicates()
    same_rows(got, want)


# -- aggregate ---------------------------------------------------------------

@pytest.mark.parametrize("n,skew", [(0, False), (45, False), (160, True)])
def test_aggregate(drv, n, skew) -> None:
    df = table_a(n, 20 + n, skew=skew)
    t = load(drv, df)
    got = drv.collect(Aggregate(Scan(t), ["k"], [
        ("cnt", "count_star", None), ("cv", "count", "v"), ("sv", "sum", "v"),
        ("mn", "min", "v"), ("mx", "max", "id"), ("av", "avg", "v"),
        ("cd", "count_distinct", "s")]))
    rows = []
    for key, g in df.groupby(df.k.astype(object).where(df.k.notna(), None), dropna=False):
        v = g.v.dropna().astype(float)
        rows.append({"k": key, "cnt": len(g), "cv": len(v),
                     "sv": v.sum() if len(v) else None, "mn": v.min() if len(v) else None,
                     "mx": int(g.id.max()), "av": v.mean() if len(v) else None,
                     "cd": g.s.dropna().nunique()})
    want = pd.DataFrame(rows, columns=["k", "cnt", "cv", "sv", "mn", "mx", "av", "cd"])
    same_rows(got, want)


def test_global_aggregate_empty_and_nonempty(drv) -> None:
    for n in (0, 33):
        df = table_a(n, 30)
        t = load(drv, df)
        got = drv.collect(Aggregate(Scan(t), [], [("c", "count_star", None),
                                                  ("s", "sum", "id")]))
        assert got.c.tolist() == [n]
        assert got.s.tolist() == ([int(df.id.sum())] if n else [None]) or \
            (n == 0 and pd.isna(got.s[0]))


# -- joins -------------------------------------------------------------------

def _inner(a, b):
    a2, b2 = a[a.k.notna()], b[b.rk.notna()]
    m = a2.merge(b2, left_on="k", right_on="rk")
    return m[["id", "k", "v", "s", "rid", "rk", "w"]]


@pytest.mark.parametrize("na,nb,keys", [(0, 10, 6), (30, 0, 6), (40, 35, 6), (50, 20, 100),
                                        (25, 25, 1)])
def test_join_inner_general(drv, na, nb, keys) -> None:
    a, b = table_a(na, na, keys=keys), table_b(nb, nb + 1, keys=keys)
    ta_, tb = load(drv, a), load(drv, b, SCHEMA_B, slot=1, key=KEY_B)
    got = drv.collect(Join(Scan(ta_), Scan(tb), "inner", [("k", "rk")]))
    same_rows(got, _inner(a, b))


def test_join_every_row_matches_and_residual(drv) -> None:
    a = table_a(20, 7, nulls=0.0, keys=1)
    b = table_b(8, 8, keys=1, nulls=0.0)
    ta_, tb = load(drv, a), load(drv, b, SCHEMA_B, slot=1, key=KEY_B)
    got = drv.collect(Join(Scan(ta_), Scan(tb), "inner", [("k", "rk")]))
    assert len(got) == 160
    got = drv.collect(Join(Scan(ta_), Scan(tb), "inner", [("k", "rk")],
                           residual=col("w") > col("id")))
    want = _inner(a, b)
    same_rows(got, want[want.w > want.id])


def test_join_pkfk_and_outer(drv) -> None:
    a = table_a(60, 9, keys=20)
    b = table_b(15, 10, keys=20, unique=True)
    ta_, tb = load(drv, a), load(drv, b, SCHEMA_B, slot=1, key=KEY_B)
    got = drv.collect(Join(Scan(ta_), Scan(tb), "inner", [("k", "rk")], pk_side="right"))
    same_rows(got, _inner(a, b))
    for pk in (None, "right"):
        got = drv.collect(Join(Scan(ta_), Scan(tb), "left_outer", [("k", "rk")], pk_side=pk))
        m = a.merge(b[b.rk.notna()], left_on="k", right_on="rk", how="left")
        m.loc[m.k.isna(), ["rid", "rk", "w"]] = None
        same_rows(got, m[["id", "k", "v", "s", "rid", "rk", "w"]])


def test_join_semi_anti(drv) -> None:
    a, b = table_a(70, 13, keys=10), table_b(12, 14, keys=10)
    ta_, tb = load(drv, a), load(drv, b, SCHEMA_B, slot=1, key=KEY_B)
    keys = set(b.rk.dropna().astype(int))
    hit = a.k.apply(lambda x: x is not pd.NA and int(x) in keys)
    same_rows(drv.collect(Join(Scan(ta_), Scan(tb), "left_semi", [("k", "rk")])), a[hit])
    same_rows(drv.collect(Join(Scan(ta_), Scan(tb), "left_anti", [("k", "rk")])), a[~hit])
    none = load(drv, table_b(10, 1, keys=1000, unique=True).assign(rk=pd.array(
        [5000 + i for i in range(10)], dtype="Int32")), SCHEMA_B, slot=1, key=KEY_B)
    assert len(drv.collect(Join(Scan(ta_), Scan(none), "inner", [("k", "rk")]))) == 0


# -- union -------------------------------------------------------------------

def test_union_all(drv) -> None:
    a, b = table_a(30, 1), table_a(0, 2)
    c_ = table_a(12, 3)
    ta_, tb, tc = load(drv, a), load(drv, b, slot=1, key=KEY_B), load(drv, c_, slot=2)
    same_rows(drv.collect(Union(Scan(ta_), Scan(tc))), pd.concat([a, c_]), ordered=True)
    same_rows(drv.collect(Union(Scan(ta_), Scan(tb))), a, ordered=True)
    padded = Union(Filter(Scan(ta_), col("id") < 5, pad_rows=10), Scan(tc))
    same_rows(drv.collect(padded), pd.concat([a[a.id < 5], c_]), ordered=True)


# -- a tree ------------------------------------------------------------------

def test_operator_tree(drv) -> None:
    a, b = table_a(120, 40, skew=True), table_b(30, 41, keys=6)
    ta_, tb = load(drv, a), load(drv, b, SCHEMA_B, slot=1, key=KEY_B)
    plan = Limit(Sort(Aggregate(Join(Filter(Scan(ta_), col("v") > -5), Scan(tb), "inner",
                                     [("k", "rk")]),
                                ["k"], [("n", "count_star", None), ("sw", "sum", "w")]),
                      [("n", False), "k"]), 3)
    got = drv.collect(plan)
    f = a[(a.v > -5).fillna(False).astype(bool)]
    j = _inner(f, b)
    g = j.groupby("k").agg(n=("id", "size"), sw=("w", "sum")).reset_index()
    g = g.sort_values(["n", "k"], ascending=[False, True]).head(3)
    same_rows(got, g[["k", "n", "sw"]], ordered=True)


# -- hypothesis: filter + aggregate on arbitrary small tables ----------------

@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ks=st.lists(st.one_of(st.none(), st.integers(-3, 3)), max_size=40),
       thr=st.integers(-3, 3))
def test_hypothesis_filter_groupby(drv, ks, thr) -> None:
    n = len(ks)
    df = pd.DataFrame({"id": np.arange(n, dtype=np.int64), "k": pd.array(ks, dtype="Int32"),
                       "v": pd.array([float(i) for i in range(n)], dtype="Float64"),
                       "s": pd.Series(["x"] * n, dtype=object)})
    t = load(drv, df)
    got = drv.collect(Aggregate(Filter(Scan(t), col("k") >= thr), ["k"],
                                [("c", "count_star", None)]))
    f = df[(df.k >= thr).fillna(False).astype(bool)]
    want = f.groupby("k").size().reset_index(name="c")
    same_rows(got, want)

"""Every operator's larger-than-heap path (LocalDriver(large="always")) on
small tables with NULLs, duplicates, skew, empty inputs, nothing and
everything passing, checked against pandas and against the in-heap
operator. Small blocks (16 rows in, 64 per intermediate) make every STREAM
pass and external sort cross block boundaries. The bounded-memory runs over
80 MiB are in test_large_operators_80mib.py."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from exec_helpers import SCHEMA_A, SCHEMA_B, rows, same_rows, table_a, table_b
from teespark.exec import (Aggregate, Distinct, Filter, Join, Limit, LocalDriver, Project,
                           Scan, Sort, Union)
from teespark.ir import col

KEY_A, KEY_B = bytes(range(32)), bytes(range(32, 64))


@pytest.fixture(scope="module")
def drivers(ta: object) -> Iterator[tuple[LocalDriver, LocalDriver]]:
    large = LocalDriver(ta, rows_per_block=16, large="always", query_slot=4, result_slot=5)
    large.large_rows_per_block = 64
    heap = LocalDriver(ta, rows_per_block=16, large="never")
    yield large, heap


def both(drivers, node_of, *tables, expect_large=True, heap_node_of=None):  # type: ignore[no-untyped-def]
    """Run the plan on both drivers (``heap_node_of``: another plan for the
    in-heap one): (large result, in-heap result)."""
    out = []
    for d, plan in zip(drivers, (node_of, heap_node_of or node_of)):
        scans = [Scan(d.load(df, schema, slot=slot, key=key))
                 for df, schema, slot, key in tables]
        d.paths.clear()
        out.append(d.collect(plan(*scans)))
    if expect_large:
        assert drivers[0].paths and all(p == "large" for _n, p in drivers[0].paths), \
            drivers[0].paths
    return out


def A(df):  # type: ignore[no-untyped-def]
    return (df, SCHEMA_A, 0, KEY_A)


def B(df):  # type: ignore[no-untyped-def]
    return (df, SCHEMA_B, 1, KEY_B)


# -- filter, project, limit, union ------------------------------------------------

@pytest.mark.parametrize("n,skew", [(0, False), (1, False), (150, False), (200, True)])
def test_filter(drivers, n, skew) -> None:  # type: ignore[no-untyped-def]
    df = table_a(n, n + 1, skew=skew)
    got, heap = both(drivers, lambda t: Filter(t, (col("k") == 1) | (col("v") > 5)), A(df))
    want = df[((df.k == 1) | (df.v > 5)).fillna(False).astype(bool)]
    same_rows(got, want, ordered=True)          # the input order is kept
    same_rows(heap, want, ordered=True)


def test_filter_nothing_and_everything(drivers) -> None:  # type: ignore[no-untyped-def]
    df = table_a(90, 7)
    got, _ = both(drivers, lambda t: Filter(t, col("id") < 0), A(df))
    assert len(got) == 0
    got, _ = both(drivers, lambda t: Filter(t, col("id") >= 0), A(df))
    same_rows(got, df, ordered=True)


def test_project(drivers) -> None:  # type: ignore[no-untyped-def]
    df = table_a(120, 8)
    node = lambda t: Project(t, [("id", col("id")), ("k2", col("k") * 2),  # noqa: E731
                                 ("s", col("s"))])
    got, heap = both(drivers, node, A(df))
    want = pd.DataFrame({"id": df.id, "k2": df.k * 2, "s": df.s})
    same_rows(got, want, ordered=True)
    assert rows(got) == rows(heap)


@pytest.mark.parametrize("n", [0, 5, 70, 500])
def test_limit(drivers, n) -> None:  # type: ignore[no-untyped-def]
    df = table_a(100, 9)
    got, heap = both(drivers, lambda t: Limit(t, n) if n else Limit(t, 1), A(df))
    want = df.head(n if n else 1)
    same_rows(got, want, ordered=True)
    assert rows(got) == rows(heap)


def test_union_all(drivers) -> None:  # type: ignore[no-untyped-def]
    a, b = table_a(60, 10), table_a(45, 11)
    tables = (A(a), (b, SCHEMA_A, 2, KEY_B))
    got, heap = both(drivers, lambda x, y: Union(x, y), *tables)
    same_rows(got, pd.concat([a, b]), ordered=True)
    same_rows(got, heap)


# -- sort, top-k, distinct ---------------------------------------------------------

@pytest.mark.parametrize("keys", [
    [("k", True), "id"],                       # nullable, NULLS FIRST
    [("v", False), "id"],                      # nullable float, descending: NULLS LAST
    [("s", True, False), ("k", False, True), "id"],
    ["id"],
])
def test_sort(drivers, keys) -> None:  # type: ignore[no-untyped-def]
    df = table_a(170, 12)
    got, heap = both(drivers, lambda t: Sort(t, keys), A(df))
    same_rows(got, heap, ordered=True)          # unique tiebreak: one right order
    by = [k if isinstance(k, str) else k[0] for k in keys]
    asc = [True if isinstance(k, str) else k[1] for k in keys]
    nf = [(a if isinstance(k, str) or len(k) < 3 else k[2]) for k, a in zip(keys, asc)]
    want = df
    for name, a, first in reversed(list(zip(by, asc, nf))):
        want = want.sort_values(name, ascending=a, na_position="first" if first else "last",
                                kind="stable")
    same_rows(got, want, ordered=True)


def test_top_k(drivers) -> None:  # type: ignore[no-untyped-def]
    df = table_a(150, 13)
    got, heap = both(drivers, lambda t: Sort(t, [("v", False), "id"], limit=17), A(df))
    want = df.sort_values(["v", "id"], ascending=[False, True], na_position="last").head(17)
    same_rows(got, want, ordered=True)
    same_rows(heap, want, ordered=True)


@pytest.mark.parametrize("cols", [None, ["k", "s"], ["s"]])
def test_distinct(drivers, cols) -> None:  # type: ignore[no-untyped-def]
    df = table_a(160, 14, keys=3)
    df = pd.concat([df, df.head(40)], ignore_index=True)     # whole-row duplicates
    node = lambda t: Distinct(t, cols)  # noqa: E731
    if cols is None:
        got, heap = both(drivers, node, A(df))
        same_rows(got, df.drop_duplicates())
        same_rows(heap, df.drop_duplicates())
    else:
        got, heap = both(drivers, node, A(df))
        assert len(got) == len(df.drop_duplicates(cols)) == len(heap)
        want = {tuple(r) for r in rows(df[cols].drop_duplicates())}
        assert {tuple(r) for r in rows(got[cols])} == want


# -- aggregate ---------------------------------------------------------------------

AGGS = [("n", "count_star", None), ("sv", "sum", "v"), ("mn", "min", "id"),
        ("mx", "max", "v"), ("av", "avg", "v"), ("cv", "count", "v")]


def _pandas_agg(df: pd.DataFrame, groups: list[str]) -> pd.DataFrame:
    g = df.groupby(groups, dropna=False, sort=True) if groups else None
    if g is None:
        return pd.DataFrame({"n": [len(df)], "sv": [df.v.sum(min_count=1)],
                             "mn": [df.id.min()], "mx": [df.v.max()], "av": [df.v.mean()],
                             "cv": [df.v.count()]})
    return g.agg(n=("id", "size"), sv=("v", lambda x: x.sum(min_count=1)), mn=("id", "min"),
                 mx=("v", "max"), av=("v", "mean"), cv=("v", "count")).reset_index()


@pytest.mark.parametrize("groups,skew", [(["k"], False), (["k"], True), (["s", "k"], False),
                                          ([], False)])
def test_aggregate(drivers, groups, skew) -> None:  # type: ignore[no-untyped-def]
    df = table_a(180, 15, skew=skew)
    got, heap = both(drivers, lambda t: Aggregate(t, groups, AGGS), A(df))
    same_rows(got, _pandas_agg(df, groups))
    same_rows(got, heap)


def test_count_distinct(drivers) -> None:  # type: ignore[no-untyped-def]
    df = table_a(200, 16, keys=4)
    df.loc[df.index % 7 == 0, "v"] = -0.0
    df.loc[df.index % 11 == 0, "v"] = 0.0        # -0.0 and 0.0 are one value
    aggs = [("d", "count_distinct", "v"), ("n", "count_star", None)]
    got, heap = both(drivers, lambda t: Aggregate(t, ["k"], aggs), A(df))
    want = df.assign(v=df.v.astype(object).map(lambda x: None if x is pd.NA else x + 0.0)) \
        .groupby("k", dropna=False).agg(d=("v", "nunique"), n=("id", "size")).reset_index()
    same_rows(got, want)
    same_rows(got, heap)


def test_global_aggregate_of_nothing_still_gives_one_row(drivers) -> None:  # type: ignore[no-untyped-def]
    df = table_a(0, 17)
    got, _heap = both(drivers, lambda t: Aggregate(t, [], [("n", "count_star", None)]),
                      A(df), expect_large=False)
    assert got.n.tolist() == [0]


def test_two_count_distinct_columns_fall_back_to_the_heap(drivers) -> None:  # type: ignore[no-untyped-def]
    """No larger-than-heap path (one COUNT(DISTINCT) column only): with
    large="always" the driver still runs it in the heap when it fits (the
    small-heap error is tested in test_driver_large.py)."""
    drv = drivers[0]
    df = table_a(30, 18)
    t = Scan(drv.load(df, SCHEMA_A, slot=0, key=KEY_A))
    drv.paths.clear()
    got = drv.collect(Aggregate(t, ["k"], [("a", "count_distinct", "v"),
                                           ("b", "count_distinct", "s")]))
    assert drv.paths == [("Aggregate", "heap")]
    want = df.groupby("k", dropna=False).agg(a=("v", "nunique"), b=("s", "nunique"))
    same_rows(got, want.reset_index())


# -- joins -------------------------------------------------------------------------

def _inner(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    return a.dropna(subset=["k"]).merge(b.dropna(subset=["rk"]), left_on="k", right_on="rk")


@pytest.mark.parametrize("n_a,n_b", [(150, 8), (0, 8), (40, 0), (120, 200)])
def test_pkfk_inner_nullable_keys(drivers, n_a, n_b) -> None:  # type: ignore[no-untyped-def]
    a = table_a(n_a, 19, keys=10)
    b = table_b(n_b, 20, keys=10, unique=True)
    b.loc[b.index % 5 == 0, "rk"] = pd.NA        # NULL keys on the PK side too
    node = lambda x, y: Join(x, y, "inner", [("k", "rk")], pk_side="right")  # noqa: E731
    got, heap = both(drivers, node, A(a), B(b))
    same_rows(got, _inner(a, b))
    same_rows(got, heap)


def test_pkfk_inner_pk_on_the_left_with_residual(drivers) -> None:  # type: ignore[no-untyped-def]
    a = table_a(130, 21, keys=10)
    b = table_b(12, 22, keys=10, unique=True)
    node = lambda y, x: Join(y, x, "inner", [("rk", "k")], residual=col("w") > col("id") - 80,  # noqa: E731
                             pk_side="left")
    got, heap = both(drivers, node, B(b), A(a))
    m = b.merge(a.dropna(subset=["k"]), left_on="rk", right_on="k")
    same_rows(got, m[m.w > m.id - 80])
    same_rows(got, heap)


@pytest.mark.parametrize("anti", [False, True])
@pytest.mark.parametrize("n_b", [0, 30])
def test_semi_anti(drivers, anti, n_b) -> None:  # type: ignore[no-untyped-def]
    a = table_a(150, 23, keys=8)
    b = table_b(n_b, 24, keys=5)                 # duplicate and NULL keys
    kind = "left_anti" if anti else "left_semi"
    got, heap = both(drivers, lambda x, y: Join(x, y, kind, [("k", "rk")]), A(a), B(b))
    hit = a.k.isin(set(b.rk.dropna().tolist())).fillna(False).astype(bool) & a.k.notna()
    want = a[~hit] if anti else a[hit]
    same_rows(got, want)
    same_rows(got, heap)


@pytest.mark.parametrize("pk_side", ["right", "left"])
def test_left_outer(drivers, pk_side) -> None:  # type: ignore[no-untyped-def]
    if pk_side == "right":
        a = table_a(140, 25, keys=12)
        b = table_b(9, 26, keys=12, unique=True)
        got, heap = both(drivers, lambda x, y: Join(x, y, "left_outer", [("k", "rk")],
                                                    pk_side="right"), A(a), B(b))
        inner = _inner(a, b)
        lonely = a[~a.id.isin(inner.id)]
        want = pd.concat([inner, lonely.assign(rid=pd.NA, rk=pd.NA, w=pd.NA)])
    else:
        b = table_b(20, 27, keys=30, unique=True)
        a = table_a(100, 28, keys=30)
        # The in-heap operator has no PK-on-the-left outer join: compare with
        # its general one.
        got, heap = both(drivers, lambda y, x: Join(y, x, "left_outer", [("rk", "k")],
                                                    pk_side="left"), B(b), A(a),
                         heap_node_of=lambda y, x: Join(y, x, "left_outer", [("rk", "k")]))
        inner = b.merge(a.dropna(subset=["k"]), left_on="rk", right_on="k")
        lonely = b[~b.rid.isin(inner.rid)]
        want = pd.concat([inner, lonely.assign(id=pd.NA, k=pd.NA, v=pd.NA, s=None)])
    same_rows(got, want[list(got.columns)])
    same_rows(got, heap)


@pytest.mark.parametrize("n_a,n_b,keys", [(90, 60, 6), (0, 30, 4), (50, 0, 4), (80, 70, 400),
                                          (60, 60, 1)])
def test_general_join(drivers, n_a, n_b, keys) -> None:  # type: ignore[no-untyped-def]
    a = table_a(n_a, 29, keys=keys)                 # duplicate and NULL keys on both sides
    b = table_b(n_b, 30, keys=keys)
    got, heap = both(drivers, lambda x, y: Join(x, y, "inner", [("k", "rk")]), A(a), B(b))
    same_rows(got, _inner(a, b))
    same_rows(got, heap)


def test_general_left_outer_with_residual_free_keys(drivers) -> None:  # type: ignore[no-untyped-def]
    a = table_a(70, 33, keys=8)
    b = table_b(40, 34, keys=5)
    got, heap = both(drivers, lambda x, y: Join(x, y, "left_outer", [("k", "rk")]),
                     A(a), B(b))
    inner = _inner(a, b)
    lonely = a[~a.id.isin(inner.id)]
    want = pd.concat([inner, lonely.assign(rid=pd.NA, rk=pd.NA, w=pd.NA)])
    same_rows(got, want[list(got.columns)])
    same_rows(got, heap)


def test_operator_tree(drivers) -> None:  # type: ignore[no-untyped-def]
    a = table_a(200, 31, keys=6)
    b = table_b(6, 32, keys=6, unique=True)

    def plan(x, y):  # type: ignore[no-untyped-def]
        j = Join(Filter(x, col("v") > -5), y, "inner", [("k", "rk")], pk_side="right")
        return Sort(Aggregate(j, ["k"], [("n", "count_star", None), ("sw", "sum", "w")]),
                    [("n", False), "k"], limit=4)
    got, heap = both(drivers, plan, A(a), B(b))
    f = a[(a.v > -5).fillna(False).astype(bool)]
    j = _inner(f, b)
    want = j.groupby("k").agg(n=("id", "size"), sw=("w", "sum")).reset_index() \
        .sort_values(["n", "k"], ascending=[False, True]).head(4)
    same_rows(got, want, ordered=True)
    same_rows(heap, want, ordered=True)
    assert np.all(got.n.to_numpy() >= 1)


# -- hypothesis: arbitrary small tables through the larger-than-heap paths -------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_KEYS = st.lists(st.one_of(st.none(), st.integers(-2, 3)), max_size=30)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ka=_KEYS, kb=_KEYS, thr=st.integers(-5, 40))
def test_hypothesis_large_paths(drivers, ka, kb, thr) -> None:  # type: ignore[no-untyped-def]
    drv = drivers[0]
    a = pd.DataFrame({"id": np.arange(len(ka), dtype=np.int64),
                      "k": pd.array(ka, dtype="Int32"),
                      "v": pd.array([float(i % 7) for i in range(len(ka))], dtype="Float64"),
                      "s": pd.Series(["x" if i % 3 else None for i in range(len(ka))],
                                     dtype=object)})
    b = table_b(0, 1).iloc[:0] if not kb else pd.DataFrame({
        "rid": np.arange(len(kb), dtype=np.int64), "rk": pd.array(kb, dtype="Int32"),
        "w": np.arange(len(kb), dtype=np.int64)})
    ta_ = Scan(drv.load(a, SCHEMA_A, slot=0, key=KEY_A))
    tb = Scan(drv.load(b, SCHEMA_B, slot=1, key=KEY_B))
    f = a[a.id < thr]
    agg = drv.collect(Aggregate(Filter(ta_, col("id") < thr), ["k"],
                                [("n", "count_star", None), ("d", "count_distinct", "s")]))
    want = f.groupby("k", dropna=False).agg(n=("id", "size"), d=("s", "nunique")) \
        .reset_index() if len(f) else f[["k"]].assign(n=[], d=[])
    same_rows(agg, want)
    same_rows(drv.collect(Join(ta_, tb, "inner", [("k", "rk")])), _inner(a, b))
    keys = set(b.rk.dropna().tolist())
    hit = a.k.isin(keys).fillna(False).astype(bool) & a.k.notna()
    same_rows(drv.collect(Join(ta_, tb, "left_anti", [("k", "rk")])), a[~hit])


# -- padded output (pad_rows) on the larger-than-heap path ----------------------

from teespark.tee.teespark_ta import OperatorPadOverflowError  # noqa: E402

PADDED = {
    "filter": (lambda a, b, p: Filter(a, col("v") > 0, pad_rows=p),
               lambda a, b: a[(a.v > 0).fillna(False).astype(bool)], True),
    "aggregate": (lambda a, b, p: Aggregate(a, ["k"], [("n", "count_star", None),
                                                       ("sv", "sum", "v")], pad_rows=p),
                  lambda a, b: a.groupby("k", dropna=False).agg(
                      n=("id", "size"), sv=("v", lambda x: x.sum(min_count=1))).reset_index(),
                  False),
    "distinct": (lambda a, b, p: Distinct(a, ["k", "s"], pad_rows=p), None, False),
    "semi": (lambda a, b, p: Join(a, b, "left_semi", [("k", "rk")], pad_rows=p),
             lambda a, b: a[a.k.isin(set(b.rk.dropna().tolist())).fillna(False)
                            .astype(bool)], False),
    "anti": (lambda a, b, p: Join(a, b, "left_anti", [("k", "rk")], pad_rows=p),
             lambda a, b: a[~a.k.isin(set(b.rk.dropna().tolist())).fillna(False)
                            .astype(bool)], False),
    "pkfk": (lambda a, b, p: Join(a, b, "inner", [("k", "rk")], pk_side="right",
                                  pad_rows=p), lambda a, b: _inner(a, b), False),
    "pkfk residual": (lambda a, b, p: Join(a, b, "inner", [("k", "rk")], pk_side="right",
                                           residual=col("w") > 0, pad_rows=p),
                      lambda a, b: _inner(a, b).query("w > 0"), False),
    "sort": (lambda a, b, p: Sort(a, [("v", False), "id"], pad_rows=p),
             lambda a, b: a.sort_values(["v", "id"], ascending=[False, True],
                                        na_position="last"), True),
    "union": (lambda a, b, p: Union(a, a, pad_rows=p), lambda a, b: pd.concat([a, a]), False),
    "outer": (lambda a, b, p: Join(a, b, "left_outer", [("k", "rk")], pk_side="right",
                                   pad_rows=p), None, False),
}


@pytest.mark.parametrize("name", list(PADDED))
def test_padded_output(drivers, name) -> None:  # type: ignore[no-untyped-def]
    plan, ref, ordered = PADDED[name]
    a = table_a(70, 40, keys=9)
    b = table_b(9, 41, keys=9, unique=True)
    big = 160 if name == "union" else 90
    got, heap = both(drivers, lambda x, y: plan(x, y, big), A(a), B(b))
    if ref is not None:
        same_rows(got, ref(a, b), ordered=ordered)
    if name == "distinct":      # which row represents a group is the operator's choice
        got, heap = got[["k", "s"]], heap[["k", "s"]]
        same_rows(got, a[["k", "s"]].drop_duplicates())
    same_rows(got, heap, ordered=ordered)
    drv = drivers[0]
    sa = Scan(drv.load(a, SCHEMA_A, slot=0, key=KEY_A))
    sb = Scan(drv.load(b, SCHEMA_B, slot=1, key=KEY_B))
    out = drv.run(plan(sa, sb, big))
    assert out.padded and out.rows == big              # padded to the bound
    assert drv.paths[-1] == (type(plan(sa, sb, 1)).__name__, "large")
    with pytest.raises(OperatorPadOverflowError):      # fewer slots than rows
        drv.run(plan(sa, sb, max(1, len(got) - 1)))
    if len(got) > 1:                                   # exactly enough slots
        assert drv.run(plan(sa, sb, len(got))).rows == len(got)


def test_padded_input_still_in_heap_only(drivers) -> None:  # type: ignore[no-untyped-def]
    drv = drivers[0]
    a = table_a(50, 42)
    sa = Scan(drv.load(a, SCHEMA_A, slot=0, key=KEY_A))
    drv.paths.clear()
    got = drv.collect(Aggregate(Filter(sa, col("v") > 0, pad_rows=60), [],
                                [("n", "count_star", None)]))
    assert got.n.tolist() == [int((a.v > 0).fillna(False).sum())]
    assert drv.paths == [("Filter", "large"), ("Aggregate", "heap")]


def test_duplicate_primary_key_names_the_node(drivers) -> None:  # type: ignore[no-untyped-def]
    from teespark.tee.teespark_ta import PrimaryKeyDuplicateError
    drv = drivers[0]
    a = Scan(drv.load(table_a(40, 43, keys=5), SCHEMA_A, slot=0, key=KEY_A))
    b = Scan(drv.load(table_b(12, 44, keys=3), SCHEMA_B, slot=1, key=KEY_B))  # repeats
    with pytest.raises(PrimaryKeyDuplicateError) as e:
        drv.run(Join(a, b, "inner", [("k", "rk")], pk_side="right"))
    assert any("Join node larger than the TA heap" in n for n in e.value.__notes__)

"""LocalDriver over inputs larger than the TA heap (8 MiB): Sort, Aggregate
and PK-FK Join take the external-sort / streaming path by themselves and
give the same results as pandas and as the in-heap operators at a 160 MiB
heap; a case without such a path fails with a clear error. Every other
operator's larger-than-heap path: test_large_operators*.py."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from exec_helpers import open_ta, rows, same_rows
from teespark.exec import Aggregate, Join, LocalDriver, Scan, Sort
from teespark.exec.driver import HeapTooSmallError
from teespark.format.schema import Schema
from teespark.ir import col

SMALL_HEAP = 8 << 20
BIG_HEAP = 160 << 20
KEY_A = bytes(range(32))
KEY_P = bytes(range(32, 64))

# 49-byte rows: 360,000 of them are 16.8 MiB of plaintext.
SCHEMA_T = Schema.from_spec("id:int64 not null, g:int32 not null, k:int64 not null, "
                            "v:int64, f:float64, s:string(12)")
SCHEMA_P = Schema.from_spec("pid:int64 not null, name:string(8)")
N_T, GROUPS, N_P, K_RANGE = 360_000, 2_000, 20_000, 400_000


def table_t(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    v = pd.array(rng.integers(-1000, 1000, N_T), dtype="Int64")
    v[rng.random(N_T) < 0.1] = pd.NA
    f = pd.array(np.round(rng.normal(0, 50, N_T), 2), dtype="Float64")
    f[rng.random(N_T) < 0.1] = pd.NA
    words = np.array(["alpha", "bravo", "charlie", "delta", "echo-echo", "é"], dtype=object)
    s = words[rng.integers(0, len(words), N_T)]
    s[rng.random(N_T) < 0.1] = None
    return pd.DataFrame({"id": rng.permutation(N_T).astype(np.int64),
                         "g": rng.integers(0, GROUPS, N_T).astype(np.int32),
                         "k": rng.integers(0, K_RANGE, N_T).astype(np.int64),
                         "v": v, "f": f, "s": s})


def table_p(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = np.array([f"n{i % 997}" for i in range(N_P)], dtype=object)
    return pd.DataFrame({"pid": rng.permutation(K_RANGE)[:N_P].astype(np.int64),
                         "name": names})


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    return table_t(1), table_p(2)


@pytest.fixture(scope="module")
def small(exec_sim_env: None, data: tuple[pd.DataFrame, pd.DataFrame]
          ) -> Iterator[tuple[LocalDriver, Scan, Scan]]:
    ta = open_ta(SMALL_HEAP)
    try:
        drv = LocalDriver(ta, rows_per_block=1024)
        t = drv.load(data[0], SCHEMA_T, slot=0, key=KEY_A)
        p = drv.load(data[1], SCHEMA_P, slot=1, key=KEY_P)
        assert t.rows * SCHEMA_T.row_size > 2 * SMALL_HEAP      # ~16.8 MiB
        yield drv, Scan(t), Scan(p)
    finally:
        ta.close()


@pytest.fixture(scope="module")
def big(exec_sim_env: None, data: tuple[pd.DataFrame, pd.DataFrame]
        ) -> Iterator[tuple[LocalDriver, Scan, Scan]]:
    ta = open_ta(BIG_HEAP)
    try:
        drv = LocalDriver(ta, rows_per_block=1024, large="never")
        t = drv.load(data[0], SCHEMA_T, slot=0, key=KEY_A)
        p = drv.load(data[1], SCHEMA_P, slot=1, key=KEY_P)
        yield drv, Scan(t), Scan(p)
    finally:
        ta.close()


def test_sort_larger_than_heap(small, big, data) -> None:  # type: ignore[no-untyped-def]
    drv, t, _p = small
    plan = lambda s: Sort(s, [("g", False), "id"])
    drv.paths.clear()
    t0 = time.monotonic()
    got = drv.collect(plan(t))
    print(f"\nexternal sort via LocalDriver: {time.monotonic() - t0:.1f} s")
    assert drv.paths == [("Sort", "large")]
    want = data[0].sort_values(["g", "id"], ascending=[False, True])
    same_rows(got, want, ordered=True)
    ref = big[0].collect(plan(big[1]))
    assert big[0].paths == []                                  # large="never"
    assert list(ref.columns) == list(got.columns) and rows(ref) == rows(got)


AGGS = [("n", "count_star", None), ("sv", "sum", "v"), ("mn", "min", "v"),
        ("mf", "max", "f"), ("av", "avg", "v"), ("cf", "count", "f")]


def test_aggregate_larger_than_heap(small, big, data) -> None:  # type: ignore[no-untyped-def]
    drv, t, _p = small
    drv.paths.clear()
    t0 = time.monotonic()
    got = drv.collect(Aggregate(t, ["g"], AGGS))
    print(f"\nstreaming aggregate via LocalDriver: {time.monotonic() - t0:.1f} s")
    assert drv.paths == [("Aggregate", "large")]
    df = data[0]
    want = df.groupby("g").agg(n=("id", "size"), sv=("v", "sum"), mn=("v", "min"),
                               mf=("f", "max"), av=("v", "mean"),
                               cf=("f", "count")).reset_index()
    assert len(got) == GROUPS
    same_rows(got, want, ordered=True)                         # ascending group keys
    ref = big[0].collect(Aggregate(big[1], ["g"], AGGS))
    assert list(ref.columns) == list(got.columns)
    assert [str(x) for x in ref.dtypes] == [str(x) for x in got.dtypes]
    assert rows(ref) == rows(got)                              # same order as in-heap


def test_pkfk_join_larger_than_heap(small, big, data) -> None:  # type: ignore[no-untyped-def]
    drv, t, p = small
    drv.paths.clear()
    plan = lambda a, b: Join(a, b, "inner", [("k", "pid")], pk_side="right")
    t0 = time.monotonic()
    got = drv.collect(plan(t, p))
    print(f"\nstreaming PK-FK join via LocalDriver: {time.monotonic() - t0:.1f} s")
    assert drv.paths == [("Join", "large")]
    want = data[0].merge(data[1], left_on="k", right_on="pid")
    assert 10_000 < len(want) < 40_000
    same_rows(got, want)
    ref = big[0].collect(plan(big[1], big[2]))
    assert list(ref.columns) == list(got.columns)
    same_rows(got, ref)


def test_unsupported_large_case_is_a_clear_error(small) -> None:  # type: ignore[no-untyped-def]
    drv, t, p = small
    drv.paths.clear()
    with pytest.raises(HeapTooSmallError) as e:
        drv.run(Join(t, p, "left_outer", [("k", "pid")], residual=col("v") > 0,
                     pk_side="right"))
    msg = str(e.value)
    assert "Join" in msg and "residual" in msg and "left_outer" in msg
    assert "TA_DATA_SIZE" in msg
    assert drv.paths == []
    # Control: the same join without the residual does run.
    drv.run(Join(t, p, "left_outer", [("k", "pid")], pk_side="right"))
    assert drv.paths == [("Join", "large")]


def test_small_inputs_stay_in_heap(small, data) -> None:  # type: ignore[no-untyped-def]
    drv, _t, p = small
    drv.paths.clear()
    got = drv.collect(Sort(p, ["pid"]))
    assert drv.paths == [("Sort", "heap")]
    same_rows(got, data[1].sort_values("pid"), ordered=True)

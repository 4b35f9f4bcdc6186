"""Bounded memory: every operator at an 8 MiB TA heap over more than 80 MiB
of input (issue: TA_DATA_SIZE = 8 MiB, inputs at least 10x that). The
driver picks the larger-than-heap path itself (large="auto"); results are
checked against pandas: filter, project, limit, top-k, union all,
distinct, GROUP BY with COUNT(DISTINCT), the PK-FK join, left semi / anti
and the many-to-many join (the external sort alone: test_external_sort.py,
the streaming functions alone: test_streaming.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from exec_helpers import open_ta
from teespark.exec import (Aggregate, Distinct, Filter, Join, Limit, LocalDriver, Project, Scan, Sort,
                           Union)
from teespark.format.schema import Schema
from teespark.ir import col

HEAP = 8 << 20
KEY_T, KEY_B = bytes(range(32)), bytes(range(32, 64))
# 64-byte rows: 1,320,000 rows = 80.6 MiB of plaintext.
SCHEMA_T = Schema.from_spec("id:int64 not null, k:int64 not null, g:int32 not null, "
                            "v:float64, s:string(35)")
SCHEMA_B = Schema.from_spec("bk:int64 not null, tag:int32 not null")
SCHEMA_P = Schema.from_spec("pk:int64 not null, name:string(8)")
N, N_B, N_P, K_RANGE = 1_320_000, 3_000, 100_000, 2_000_000


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(80)
    v = pd.array(np.round(rng.normal(0, 100, N), 2), dtype="Float64")
    v[rng.random(N) < 0.05] = pd.NA
    words = np.array([f"w{i:03d}" for i in range(50)], dtype=object)
    t = pd.DataFrame({"id": np.arange(N, dtype=np.int64),
                      "k": rng.integers(0, K_RANGE, N).astype(np.int64),
                      "g": rng.integers(0, 40, N).astype(np.int32), "v": v,
                      "s": words[rng.integers(0, 50, N)]})
    b = pd.DataFrame({"bk": rng.integers(0, K_RANGE, N_B).astype(np.int64),   # repeats
                      "tag": rng.integers(0, 5, N_B).astype(np.int32)})
    return t, b


@pytest.fixture(scope="module")
def pk_frame() -> pd.DataFrame:
    rng = np.random.default_rng(81)
    return pd.DataFrame({"pk": rng.permutation(K_RANGE)[:N_P].astype(np.int64),
                         "name": np.array([f"p{i % 977}" for i in range(N_P)], dtype=object)})


@pytest.fixture(scope="module")
def env(exec_sim_env: None, frames: tuple[pd.DataFrame, pd.DataFrame]
        ) -> Iterator[tuple[LocalDriver, Scan, Scan]]:
    ta = open_ta(HEAP)
    try:
        assert ta.get_info().heap_bytes == HEAP
        drv = LocalDriver(ta, rows_per_block=4096)
        t = drv.load(frames[0], SCHEMA_T, slot=0, key=KEY_T)
        b = drv.load(frames[1], SCHEMA_B, slot=1, key=KEY_B)
        assert t.rows * SCHEMA_T.row_size >= 10 * HEAP
        yield drv, Scan(t), Scan(b)
    finally:
        ta.close()


def run(drv: LocalDriver, node: object, name: str) -> pd.DataFrame:
    drv.paths.clear()
    t0 = time.monotonic()
    out = drv.collect(node)  # type: ignore[arg-type]
    print(f"\n{name} over 80 MiB at an 8 MiB heap: {time.monotonic() - t0:.1f} s "
          f"({len(out)} rows out)")
    assert drv.paths and drv.paths[-1][1] == "large", drv.paths
    return out


def test_filter_project_limit(env, frames) -> None:  # type: ignore[no-untyped-def]
    drv, t, _b = env
    df = frames[0]
    got = run(drv, Filter(t, (col("g") == 7) & (col("v") > 0)), "filter")
    want = df[((df.g == 7) & (df.v > 0)).fillna(False).astype(bool)]
    assert got.id.tolist() == want.id.tolist()                 # order kept
    got = run(drv, Project(t, [("id", col("id")), ("k2", col("k") + col("g"))]), "project")
    assert len(got) == N and np.array_equal(got.k2.to_numpy(), (df.k + df.g).to_numpy())
    got = run(drv, Limit(t, 5000), "limit")
    assert got.id.tolist() == list(range(5000))


def test_top_k_and_union(env, frames) -> None:  # type: ignore[no-untyped-def]
    drv, t, _b = env
    df = frames[0]
    got = run(drv, Sort(t, [("v", False), "id"], limit=100), "top-k")
    want = df.sort_values(["v", "id"], ascending=[False, True], na_position="last").head(100)
    assert got.id.tolist() == want.id.tolist()
    got = run(drv, Union(t, t), "union all")
    assert len(got) == 2 * N and int(got.id.sum()) == 2 * int(df.id.sum())


def test_distinct_semi_anti(env, frames) -> None:  # type: ignore[no-untyped-def]
    drv, t, b = env
    df, bf = frames
    got = run(drv, Distinct(t, ["g", "s"]), "distinct")
    assert len(got) == len(df[["g", "s"]].drop_duplicates())
    keys = set(bf.bk.tolist())
    got = run(drv, Join(t, b, "left_semi", [("k", "bk")]), "left semi join")
    assert sorted(got.id.tolist()) == df[df.k.isin(keys)].id.tolist()
    got = run(drv, Join(t, b, "left_anti", [("k", "bk")]), "left anti join")
    assert len(got) == N - int(df.k.isin(keys).sum())


def test_many_to_many_join(env, frames) -> None:  # type: ignore[no-untyped-def]
    drv, t, b = env
    df, bf = frames
    got = run(drv, Join(t, b, "inner", [("k", "bk")]), "many-to-many join")
    want = df.merge(bf, left_on="k", right_on="bk")
    assert len(got) == len(want)
    g = sorted(zip(got.id.tolist(), got.tag.tolist()))
    w = sorted(zip(want.id.tolist(), want.tag.tolist()))
    assert g == w


def test_group_by_and_pkfk_join(env, frames, pk_frame) -> None:  # type: ignore[no-untyped-def]
    drv, t, _b = env
    df = frames[0]
    got = run(drv, Aggregate(t, ["g"], [("n", "count_star", None), ("sv", "sum", "v"),
                                        ("ds", "count_distinct", "s")]), "group by")
    want = df.groupby("g").agg(n=("id", "size"), sv=("v", "sum"), ds=("s", "nunique"))
    assert got.g.tolist() == want.index.tolist()
    assert got.n.tolist() == want.n.tolist() and got.ds.tolist() == want.ds.tolist()
    assert np.allclose(got.sv.astype(float), want.sv.astype(float))
    p = Scan(drv.load(pk_frame, SCHEMA_P, slot=2, key=KEY_B))
    got = run(drv, Join(t, p, "inner", [("k", "pk")], pk_side="right"), "PK-FK join")
    want = df.merge(pk_frame, left_on="k", right_on="pk")
    assert sorted(zip(got.id.tolist(), got.name.tolist())) == \
        sorted(zip(want.id.tolist(), want.name.tolist()))

"""Encrypted mode's shortcuts, checked in both modes against pandas: plain
column copies in PROJECT (with NULLs), an aggregate with more groups than the
first output allocation (65,536), and a radix-sorted multi-key sort."""

from __future__ import annotations

import numpy as np
import pandas as pd

from exec_helpers import same_rows, table_a
from teespark.exec import Aggregate, Project, Scan, Sort
from teespark.format.schema import Schema
from teespark.ir import col

KEY = bytes(range(32))


def test_project_plain_columns_keeps_nulls(drv) -> None:
    from exec_helpers import SCHEMA_A
    df = table_a(300, 41)  # 15% NULLs per nullable column
    t = drv.load(df, SCHEMA_A, slot=0, key=KEY)
    got = drv.collect(Project(Scan(t), [("k", col("k")), ("s", col("s")), ("id", col("id"))]))
    same_rows(got, df[["k", "s", "id"]], ordered=True)


def test_aggregate_with_more_groups_than_the_first_allocation(drv) -> None:
    n = 70_000
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"k": rng.permutation(n).astype(np.int64),
                       "v": rng.integers(-1000, 1000, n).astype(np.int64)})
    df = pd.concat([df, df.head(500).assign(v=7)], ignore_index=True)  # some groups of 2
    t = drv.load(df, Schema.from_spec("k:int64 not null, v:int64 not null"), slot=0, key=KEY)
    got = drv.collect(Aggregate(Scan(t), ["k"], [("n", "count_star", None),
                                                 ("sv", "sum", "v")]))
    want = df.groupby("k", as_index=False).agg(n=("v", "size"), sv=("v", "sum"))
    assert len(got) == n
    same_rows(got, want)


def test_sort_two_keys_with_ties_and_nulls(drv) -> None:
    from exec_helpers import SCHEMA_A
    df = table_a(500, 42, skew=True)
    t = drv.load(df, SCHEMA_A, slot=0, key=KEY)
    got = drv.collect(Sort(Scan(t), [("k", False, False), ("id", True, False)]))
    want = df.sort_values(["k", "id"], ascending=[False, True], na_position="last",
                          ignore_index=True)
    same_rows(got, want, ordered=True)

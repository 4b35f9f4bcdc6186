"""Random tables and a pandas reference comparison for the operator tests."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pandas as pd

from teespark.format.schema import Schema

SCHEMA_A = Schema.from_spec("id:int64 not null, k:int32, v:float64, s:string(6)")
SCHEMA_B = Schema.from_spec("rid:int64 not null, rk:int32, w:int64")


def table_a(n: int, seed: int, *, skew: bool = False, nulls: float = 0.15,
            keys: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    k = rng.integers(0, keys, n).astype(object)
    if skew:
        k[rng.random(n) < 0.9] = 1
    k[rng.random(n) < nulls] = None
    v = np.round(rng.normal(0, 10, n), 2).astype(object)
    v[rng.random(n) < nulls] = None
    s = np.array([rng.choice(["a", "bb", "ccc", "zz", "é"]) for _ in range(n)], dtype=object)
    s[rng.random(n) < nulls] = None
    return pd.DataFrame({"id": np.arange(n, dtype=np.int64), "k": pd.array(k, dtype="Int32"),
                         "v": pd.array(v, dtype="Float64"), "s": s})


def table_b(n: int, seed: int, *, keys: int = 6, unique: bool = False,
            nulls: float = 0.1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    if unique:
        rk = rng.permutation(max(keys, n))[:n].astype(object)
    else:
        rk = rng.integers(0, keys, n).astype(object)
        rk[rng.random(n) < nulls] = None
    return pd.DataFrame({"rid": np.arange(100, 100 + n, dtype=np.int64),
                         "rk": pd.array(rk, dtype="Int32"),
                         "w": rng.integers(-50, 50, n).astype(np.int64)})


def _norm(x: Any) -> Any:
    if x is None or x is pd.NA or x is pd.NaT:
        return None
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        return round(float(x), 6)
    return x


def rows(df: pd.DataFrame) -> list[tuple]:
    """Rows as tuples with NULLs as None, in the frame's order."""
    return [tuple(_norm(x) for x in r) for r in df.astype(object).itertuples(index=False)]


def same_rows(got: pd.DataFrame, want: pd.DataFrame, *, ordered: bool = False) -> None:
    assert list(got.columns) == list(want.columns), (list(got.columns), list(want.columns))
    g, w = rows(got), rows(want)
    if not ordered:
        key = lambda t: tuple((x is None, str(type(x)), x if x is not None else 0) for x in t)  # noqa: E731
        g, w = sorted(g, key=key), sorted(w, key=key)
    assert g == w, f"\ngot  {g[:20]}\nwant {w[:20]}\n({len(g)} vs {len(w)} rows)"


def open_ta(heap: int) -> Any:
    """A TA session on the simulator with a ``heap``-byte TA heap
    (TEESPARK_TA_DATA_SIZE, restored afterwards); close it when done."""
    from teespark.tee import TeesparkTA
    saved = os.environ.get("TEESPARK_TA_DATA_SIZE")
    os.environ["TEESPARK_TA_DATA_SIZE"] = str(heap)
    try:
        ta = TeesparkTA()
        ta.__enter__()
    finally:
        if saved is None:
            os.environ.pop("TEESPARK_TA_DATA_SIZE", None)
        else:
            os.environ["TEESPARK_TA_DATA_SIZE"] = saved
    assert ta.get_info().heap_bytes == heap
    return ta

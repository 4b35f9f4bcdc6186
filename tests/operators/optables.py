"""Hypothesis strategies and pandas/Python reference helpers shared by the
operator tests: small tables with NULLs, duplicate keys, skew (one key with
~90% of the rows), empty tables, and optional dummy rows."""
from __future__ import annotations

from typing import Any, List, Optional, Tuple

import pandas as pd
from hypothesis import strategies as st

K1 = st.one_of(st.none(), st.integers(-3, 3))
K2 = st.one_of(st.none(), st.sampled_from(["", "a", "b", "ab", "zz"]))
V = st.one_of(st.none(), st.integers(-1000, 1000))
F = st.one_of(st.none(), st.integers(-8000, 8000).map(lambda x: x / 8))


@st.composite
def tables(draw, max_size: int = 40, min_size: int = 0, id_base: int = 0):
    """(DataFrame with columns k1 k2 v f id, is_real list or None)."""
    n = draw(st.integers(min_size, max_size))
    skew = draw(st.booleans())
    rows = []
    for i in range(n):
        k1 = 1 if skew and draw(st.integers(0, 9)) < 9 else draw(K1)
        rows.append({"k1": k1, "k2": draw(K2), "v": draw(V), "f": draw(F), "id": id_base + i})
    df = pd.DataFrame(rows, columns=["k1", "k2", "v", "f", "id"], dtype=object)
    real = draw(st.one_of(st.none(), st.lists(st.booleans(), min_size=n, max_size=n)))
    return df, real


def norm(x: Any) -> Any:
    """pandas value -> Python value with None for NULL; integral floats of
    an int column come back as int."""
    if x is None or x is pd.NA:
        return None
    if isinstance(x, float) and x != x:
        return None
    return x


def norm_key(x: Any) -> str:
    """A join key as a string, integral floats as ints (pandas turns an int
    column with NULLs into floats)."""
    x = norm(x)
    if isinstance(x, float) and x == int(x):
        x = int(x)
    return repr(x)


def real_rows(df: pd.DataFrame, real: Optional[List[bool]]) -> pd.DataFrame:
    if real is None:
        return df
    return df.iloc[[i for i, r in enumerate(real) if r]]


def key_tuple(row: pd.Series, keys: List[str]) -> Tuple:
    return tuple(norm(row[k]) for k in keys)


def sort_key(row: Tuple[Optional[int], Optional[str]]) -> Tuple:
    """The order of the sort test: k1 DESC NULLS LAST, k2 ASC NULLS FIRST
    (strings by their zero-padded bytes)."""
    k1, k2 = row
    return (k1 is None, -(k1 or 0), k2 is not None, (k2 or "").encode().ljust(8, b"\0"))


def group_order(row: Tuple) -> Tuple:
    """Ascending, NULLS FIRST on every key (the default key specs)."""
    out = []
    for v in row:
        out.append(v is not None)
        out.append(v.encode().ljust(8, b"\0") if isinstance(v, str) else (v or 0))
    return tuple(out)

"""Trace equality of the larger-than-heap pipelines at the TA-call level:
for two data sets with the same public sizes (row counts, and the counts
the operator reveals), every TA call the host makes (command, request
bytes, parameter sizes, returned counts) is identical; a data set whose
revealed count differs gives a different trace (negative control), so the
comparison discriminates. With pad_rows the result size is hidden: data
sets with different result sizes give one trace. The TA's own memory accesses inside each call are
checked by `make -C enclave stream-ct` and `cmd-trace`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from exec_helpers import SCHEMA_A, SCHEMA_B
from teespark.exec import Aggregate, Distinct, Filter, Join, LocalDriver, Scan, Sort
from teespark.ir import col
from teespark.tee.params import InBuffer, Value


class CallLog:
    """Wraps a TA session's invoke: records what the host sees of each call."""

    def __init__(self, ta: Any) -> None:
        self.ta, self.log = ta, []
        self._inner = ta._session

    def install(self) -> None:
        outer = self

        class Session:
            def __getattr__(self, name: str) -> Any:
                return getattr(outer._inner, name)

            def invoke(self, cmd: int, params: list) -> Any:
                out = outer._inner.invoke(cmd, params)
                shape = []
                for p in params:
                    if isinstance(p, InBuffer):
                        shape.append(("req", hashlib.sha256(bytes(p._arr)).hexdigest()))
                    elif isinstance(p, Value):
                        shape.append(("val", p.a, p.b))
                    elif p is not None:
                        shape.append(("mem", getattr(p, "size", None)))
                outer.log.append((cmd, shape))
                return out

        self.ta._session = Session()

    def remove(self) -> None:
        self.ta._session = self._inner


def trace(ta: Any, a: pd.DataFrame, b: pd.DataFrame,
          plan: Callable[[Scan, Scan], Any]) -> list:
    drv = LocalDriver(ta, rows_per_block=16, large="always", result_key=bytes(32),
                      query_slot=2, result_slot=3)
    drv.large_rows_per_block = 32
    sa = Scan(drv.load(a, SCHEMA_A, slot=0, key=bytes(range(32))))
    sb = Scan(drv.load(b, SCHEMA_B, slot=1, key=bytes(range(32, 64))))
    log = CallLog(ta)
    log.install()
    try:
        drv.run(plan(sa, sb))
    finally:
        log.remove()
    assert any(p == "large" for _n, p in drv.paths)
    return log.log


def frame_a(k: list[int | None], v: list[float | None]) -> pd.DataFrame:
    n = len(k)
    return pd.DataFrame({"id": np.arange(n, dtype=np.int64), "k": pd.array(k, dtype="Int32"),
                         "v": pd.array(v, dtype="Float64"),
                         "s": pd.Series(["x"] * n, dtype=object)})


def frame_b(rk: list[int | None]) -> pd.DataFrame:
    n = len(rk)
    return pd.DataFrame({"rid": np.arange(n, dtype=np.int64), "rk": pd.array(rk, dtype="Int32"),
                         "w": np.arange(n, dtype=np.int64)})


N = 96
rng = np.random.default_rng(5)

# Each case: (plan, data set 1, data set 2 with the same revealed counts,
# data set 3 with a different revealed count).
ALL_DIFFERENT = list(range(N))
ONE_KEY = [3] * N
CASES = {
    "filter": (lambda a, b: Filter(a, col("v") > 0),
               frame_a(ALL_DIFFERENT, [1.0] * 30 + [-1.0] * 66),
               frame_a(ONE_KEY, [-1.0] * 66 + [2.0] * 30),
               frame_a(ONE_KEY, [-1.0] * 65 + [2.0] * 31)),
    "sort nullable": (lambda a, b: Sort(a, [("k", False), "id"]),
                      frame_a([None] * 10 + ALL_DIFFERENT[10:], [0.0] * N),
                      frame_a(ONE_KEY[:86] + [None] * 10, [0.0] * N),
                      None),
    "group by": (lambda a, b: Aggregate(a, ["k"], [("n", "count_star", None),
                                                   ("d", "count_distinct", "v")]),
                 frame_a([i % 8 for i in range(N)], list(rng.normal(size=N))),
                 frame_a([None] * 8 + [40] * 82 + list(range(41, 47)), [1.0] * N),
                 frame_a([i % 9 for i in range(N)], [1.0] * N)),
    "distinct": (lambda a, b: Distinct(a, ["k"]),
                 frame_a([i % 8 for i in range(N)], [0.0] * N),
                 frame_a([i // 12 for i in range(N)], [0.0] * N),
                 frame_a([i % 7 for i in range(N)], [0.0] * N)),
    "semi join": (lambda a, b: Join(a, b, "left_semi", [("k", "rk")]),
                  frame_a([i % 24 for i in range(N)], [0.0] * N),
                  frame_a([1] * 48 + [99] * 48, [0.0] * N),
                  frame_a([1] * 47 + [99] * 49, [0.0] * N)),
    "pk-fk join": (lambda a, b: Join(a, b, "inner", [("k", "rk")], pk_side="right"),
                   frame_a([i % 24 for i in range(N)], [0.0] * N),
                   frame_a([5] * N, [0.0] * N),
                   frame_a([5] * (N - 1) + [None], [0.0] * N)),
    "general join": (lambda a, b: Join(a, b, "inner", [("k", "rk")]),
                     frame_a([i % 12 for i in range(N)], [0.0] * N),
                     frame_a([1] * 32 + [99] * 64, [0.0] * N),
                     frame_a([1] * 33 + [99] * 63, [0.0] * N)),
    # Padded outputs hide the result size: different m, one trace.
    "filter padded": (lambda a, b: Filter(a, col("v") > 0, pad_rows=50),
                      frame_a(ALL_DIFFERENT, [1.0] * 30 + [-1.0] * 66),
                      frame_a(ONE_KEY, [-1.0] * 50 + [2.0] * 46),
                      None),
    "group by padded": (lambda a, b: Aggregate(a, ["k"], [("n", "count_star", None)],
                                               pad_rows=40),
                        frame_a([i % 8 for i in range(N)], [0.0] * N),
                        frame_a([None if i % 3 else i for i in range(N)], [0.0] * N),
                        None),
    "semi join padded": (lambda a, b: Join(a, b, "left_semi", [("k", "rk")], pad_rows=96),
                         frame_a([i % 24 for i in range(N)], [0.0] * N),
                         frame_a([1] * 5 + [99] * 91, [0.0] * N),
                         None),
    "pk-fk join padded": (lambda a, b: Join(a, b, "inner", [("k", "rk")], pk_side="right",
                                            pad_rows=100),
                          frame_a([i % 24 for i in range(N)], [0.0] * N),
                          frame_a([None] * 90 + [3] * 6, [0.0] * N),
                          None),
}
B_ROWS = {"semi join": (frame_b([i % 12 for i in range(24)]), frame_b([1] * 12 + [2] * 12)),
          "semi join padded": (frame_b([i % 12 for i in range(24)]),
                               frame_b([1] * 12 + [2] * 12)),
          "pk-fk join": (frame_b(list(range(24))), frame_b(list(range(24)))),
          "general join": (frame_b([i % 6 for i in range(16)]),
                           frame_b([1] * 4 + [None] * 12))}


@pytest.mark.parametrize("name", list(CASES))
def test_same_public_sizes_same_calls(ta, name) -> None:  # type: ignore[no-untyped-def]
    plan, d1, d2, d3 = CASES[name]
    b1, b2 = B_ROWS.get(name, (frame_b(list(range(24))),) * 2)
    t1 = trace(ta, d1, b1, plan)
    t2 = trace(ta, d2, b2, plan)
    assert len(t1) > 3
    assert t1 == t2
    if d3 is not None:                  # negative control: another revealed count
        assert trace(ta, d3, b2, plan) != t1

"""Trace equality at the TA-call level: for two data sets with the same
public sizes (n, and m where the command reveals it), the sequence of TA
calls, their requests, and the block counts and sizes they exchange are
identical; a padded output hides m. Negative control: a revealed m that
differs shows in the trace."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from exec_helpers import SCHEMA_A, SCHEMA_B
from teespark.exec import Aggregate, Filter, Join, LocalDriver, Scan, Sort
from teespark.ir import col
from teespark.tee.wire import iter_block_headers


class Recorder:
    """Forwards to a TeesparkTA and records what the host sees of each call
    (never plaintext: requests, sizes, counts, block header shapes)."""

    def __init__(self, ta) -> None:
        self.ta, self.log = ta, []

    @staticmethod
    def _shape(blocks: bytes) -> list[tuple[int, int, int]]:
        return [(h.block_index, h.row_count, h.ciphertext_size)
                for _off, h in iter_block_headers(blocks)]

    def __getattr__(self, name):
        fn = getattr(self.ta, name)

        def call(*args, **kw):
            out = fn(*args, **kw)
            if name == "run_operator":
                inputs, req = args[0], args[1]
                desc, blocks, rows, nb = out
                self.log.append((name, [self._shape(x) for x in inputs],
                                 hashlib.sha256(req).hexdigest(), rows, nb, len(blocks),
                                 self._shape(blocks)))
            elif name in ("register_table", "install_dev_key", "new_query_key"):
                self.log.append((name, args[-1] if name != "install_dev_key" else args[0]))
            return out
        return call


def _data(seed: int, k_values: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = len(k_values)
    a = pd.DataFrame({"id": np.arange(n, dtype=np.int64),
                      "k": pd.array(k_values, dtype="Int32"),
                      "v": pd.array(rng.normal(size=n), dtype="Float64"),
                      "s": pd.Series(rng.choice(["a", "b"], n), dtype=object)})
    b = pd.DataFrame({"rid": np.arange(12, dtype=np.int64),
                      "rk": pd.array(rng.permutation(12), dtype="Int32"),
                      "w": rng.integers(0, 9, 12).astype(np.int64)})
    return a, b


def _trace(ta, a, b, *, pad: bool) -> list:
    rec = Recorder(ta)
    drv = LocalDriver(rec, mode="oblivious", rows_per_block=16, result_key=bytes(32))
    ta_ = drv.load(a, SCHEMA_A, slot=0, key=bytes(range(32)))
    tb = drv.load(b, SCHEMA_B, slot=1, key=bytes(range(32, 64)))
    p = 48 if pad else 0
    plan = Sort(Aggregate(Join(Filter(Scan(ta_), col("k") < 6, pad_rows=p), Scan(tb),
                               "inner", [("k", "rk")], pk_side="right", pad_rows=p),
                          ["k"], [("n", "count_star", None)], pad_rows=p),
                ["k"], pad_rows=p)
    drv.run(plan)
    return rec.log


def test_same_public_sizes_same_trace(ta) -> None:
    n = 60
    rng = np.random.default_rng(1)
    # Same n, and the same m at every revealed step: the filter keeps 40
    # rows (k < 6), which all match (rk is a permutation of 0..11) and form
    # 6 groups, but the rows, keys and group sizes differ.
    k1 = np.concatenate([rng.permutation(np.arange(40) % 6), np.full(20, 9)])
    k2 = np.concatenate([np.full(34, 2), np.arange(6), np.arange(20) + 6])
    rng.shuffle(k2)
    a1, b1 = _data(1, k1)
    a2, b2 = _data(2, k2)
    t1, t2 = _trace(ta, a1, b1, pad=False), _trace(ta, a2, b2, pad=False)
    assert t1 == t2
    # padded: even different m give one trace
    k3 = np.concatenate([np.full(10, 1), np.full(50, 11)])
    a3, b3 = _data(3, k3)
    assert _trace(ta, a1, b1, pad=True) == _trace(ta, a3, b3, pad=True)


def test_revealed_m_shows_in_trace(ta) -> None:
    """Negative control: without padding a different m gives another trace."""
    a1, b1 = _data(1, np.arange(60) % 6)
    a2, b2 = _data(1, np.concatenate([np.arange(30) % 6, np.full(30, 9)]))
    assert _trace(ta, a1, b1, pad=False) != _trace(ta, a2, b2, pad=False)

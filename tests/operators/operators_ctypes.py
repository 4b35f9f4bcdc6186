"""ctypes bindings of the relational operators (enclave/ta/ops/op_*.h) for
the pandas comparison tests in this directory.

The tests use one fixed-width row layout (``ROW``) with a null bitmap, like
the TA's row codec:

    offset 0   null bitmap: bit 0 k1, bit 1 k2, bit 2 v, bit 3 f
           8   k1  int64       (key)
          16   k2  8 bytes     (string key, zero padded)
          24   v   int64       (value)
          32   f   float64     (value)
          40   id  int64       (row identity, never NULL)

``Table`` turns a pandas DataFrame (NULL = None / NaN / pd.NA) into such rows
and back. Every operator runs in both modes: ``obl_*`` (oblivious) and
``op_*_fast`` (encrypted mode); the tests compare both with pandas.
"""
from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[2]
LIB_DIR = REPO_ROOT / "enclave" / "build" / "lib"
KERNELS_LIB = LIB_DIR / "libteespark_kernels.so"
TRACE_LIB = LIB_DIR / "libteespark_kernels_trace.so"

KEY_UINT, KEY_INT, KEY_FLOAT64, KEY_BYTES = 1, 2, 3, 4
AGG_COUNT_STAR, AGG_COUNT, AGG_SUM, AGG_MIN, AGG_MAX, AGG_AVG, AGG_COUNT_DISTINCT = range(1, 8)
JOIN_INNER, JOIN_LEFT_OUTER, JOIN_LEFT_SEMI, JOIN_LEFT_ANTI = range(4)
PK_LEFT, PK_RIGHT = 0, 1
OBL_OK, OBL_ERR_PARAM, OBL_ERR_NOMEM = 0, -1, -2

ROW = 48
OFF = {"k1": 8, "k2": 16, "v": 24, "f": 32, "id": 40}
NULL_BIT = {"k1": 0, "k2": 1, "v": 2, "f": 3}
ROW_DTYPE = np.dtype([("nulls", "u1"), ("pad", "V7"), ("k1", "<i8"), ("k2", "S8"),
                      ("v", "<i8"), ("f", "<f8"), ("id", "<i8")])
assert ROW_DTYPE.itemsize == ROW

sz, vp, u32p = ctypes.c_size_t, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint32)


class KeyCol(ctypes.Structure):
    _fields_ = [("type", ctypes.c_uint16), ("descending", ctypes.c_uint16),
                ("offset", ctypes.c_uint32), ("width", ctypes.c_uint32),
                ("reserved", ctypes.c_uint32)]


class KeySpec(ctypes.Structure):
    """struct obl_key_spec."""
    _fields_ = [("col", KeyCol), ("null_offset", ctypes.c_uint32), ("null_bit", ctypes.c_uint8),
                ("nullable", ctypes.c_uint8), ("nulls_first", ctypes.c_uint8),
                ("reserved", ctypes.c_uint8)]


class AggSpec(ctypes.Structure):
    """struct obl_agg_spec."""
    _fields_ = [("fn", ctypes.c_uint16), ("type", ctypes.c_uint16), ("offset", ctypes.c_uint32),
                ("width", ctypes.c_uint32), ("null_offset", ctypes.c_uint32),
                ("null_bit", ctypes.c_uint8), ("nullable", ctypes.c_uint8),
                ("reserved", ctypes.c_uint16)]


class CTable(ctypes.Structure):
    """struct obl_table."""
    _fields_ = [("rows", vp), ("n", sz), ("row_size", sz), ("is_real", vp)]


class Arena(ctypes.Structure):
    """struct obl_arena."""
    _fields_ = [("base", vp), ("size", sz), ("used", sz)]


KEEP_FN = ctypes.CFUNCTYPE(None, vp, sz, sz, u32p, vp)


class KeepFn(ctypes.Structure):
    """struct obl_keep_fn."""
    _fields_ = [("fn", KEEP_FN), ("ctx", vp)]


class JoinGeneral(ctypes.Structure):
    """struct obl_join_general."""
    _fields_ = [("n1", sz), ("n2", sz), ("rs1", sz), ("rs2", sz), ("key_words", sz),
                ("rec_size", sz), ("t1", vp), ("t2", vp), ("m", ctypes.c_uint64),
                ("arena", vp), ("arena_mark", sz)]


def key_spec(col: str, descending: bool = False, nulls_first: bool = True) -> KeySpec:
    """A nullable key column of the test layout."""
    kind, width = (KEY_BYTES, 8) if col == "k2" else (KEY_INT, 8)
    return KeySpec(KeyCol(kind, int(descending), OFF[col], width, 0), 0, NULL_BIT[col], 1,
                   int(nulls_first), 0)


def agg_spec(fn: int, col: Optional[str] = None) -> AggSpec:
    """An aggregate over a column of the test layout (None for COUNT(*))."""
    if col is None:
        return AggSpec(fn, 0, 0, 0, 0, 0, 0, 0)
    kind = {"k1": KEY_INT, "v": KEY_INT, "f": KEY_FLOAT64, "k2": KEY_BYTES}[col]
    return AggSpec(fn, kind, OFF[col], 8, 0, NULL_BIT[col], 1, 0)


def _isnull(x) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and np.isnan(x))


class Table:
    """Rows of the test layout plus optional is_real flags, kept alive for
    the C calls."""

    def __init__(self, df: pd.DataFrame, is_real: Optional[Sequence[bool]] = None) -> None:
        n = len(df)
        rows = np.zeros(max(n, 1), dtype=ROW_DTYPE)
        for i, rec in enumerate(df.itertuples(index=False)):
            d = rec._asdict()
            nulls = 0
            for col in ("k1", "k2", "v", "f"):
                if _isnull(d.get(col)):
                    nulls |= 1 << NULL_BIT[col]
                    # garbage under a NULL: the operators must not look at it
                    rows[col][i] = {"k1": 12345, "v": 777, "f": 3.5, "k2": b"junk"}[col]
                elif col == "k2":
                    rows[col][i] = str(d[col]).encode()
                else:
                    rows[col][i] = d[col]
            rows["nulls"][i] = nulls
            rows["id"][i] = d.get("id", i)
        self.n = n
        self.rows = rows
        self.real = None if is_real is None else \
            np.array([1 if r else 0 for r in is_real] or [0], dtype=np.uint32)
        self.c = CTable(rows.ctypes.data, n, ROW,
                        None if self.real is None else self.real.ctypes.data)


def decode_rows(buf: np.ndarray, count: int, offset: int = 0, stride: int = ROW,
                prefix: str = "") -> pd.DataFrame:
    """The first count rows of the test layout found every stride bytes
    from offset in buf, as a DataFrame with NULLs as None."""
    raw = buf.view(np.uint8)
    out = {f"{prefix}{c}": [] for c in ("k1", "k2", "v", "f", "id")}
    for i in range(count):
        row = raw[i * stride + offset: i * stride + offset + ROW].tobytes()
        r = np.frombuffer(row, dtype=ROW_DTYPE)[0]
        nulls = int(r["nulls"])
        for c in ("k1", "k2", "v", "f"):
            if nulls >> NULL_BIT[c] & 1:
                out[f"{prefix}{c}"].append(None)
            elif c == "k2":
                out[f"{prefix}{c}"].append(bytes(r[c]).rstrip(b"\0").decode())
            else:
                out[f"{prefix}{c}"].append(r[c].item())
        out[f"{prefix}id"].append(int(r["id"]))
    return pd.DataFrame(out)


class Operators:
    """Typed wrappers over one loaded kernels library. Each method runs the
    oblivious version (fast=False) or the encrypted-mode one (fast=True)."""

    ARENA_BYTES = 64 << 20

    def __init__(self, path: Path) -> None:
        lib = ctypes.CDLL(str(path))
        P = ctypes.POINTER
        tp, kp, ap, arp = P(CTable), P(KeySpec), P(AggSpec), P(Arena)
        u64p, kfp = P(ctypes.c_uint64), P(KeepFn)
        sigs = {
            "obl_filter": [tp, vp, vp, vp, sz, u64p, arp],
            "op_filter_fast": [tp, vp, vp, vp, sz, u64p],
            "obl_sort_rows": [tp, kp, sz, vp, vp, u64p, arp],
            "op_sort_rows_fast": [tp, kp, sz, vp, vp, u64p, arp],
            "obl_topk": [tp, kp, sz, sz, vp, vp, u64p, arp],
            "op_topk_fast": [tp, kp, sz, sz, vp, vp, u64p, arp],
            "obl_limit": [tp, sz, vp, vp, u64p, arp],
            "op_limit_fast": [tp, sz, vp, vp, u64p],
            "obl_aggregate": [tp, kp, sz, ap, sz, vp, vp, sz, u64p, arp],
            "op_aggregate_fast": [tp, kp, sz, ap, sz, vp, vp, sz, u64p, arp],
            "obl_join_pkfk": [tp, kp, tp, kp, sz, ctypes.c_int, ctypes.c_int, kfp, vp, vp, vp,
                              sz, u64p, P(ctypes.c_uint32), arp],
            "obl_join_general_begin": [P(JoinGeneral), tp, kp, tp, kp, sz, arp],
            "obl_join_general_finish": [P(JoinGeneral), ctypes.c_uint64, kfp, vp, vp, u64p],
            "obl_join_general_left_outer_finish": [P(JoinGeneral), ctypes.c_uint64, tp, kp, tp,
                                                   kp, sz, vp, vp, vp, u64p],
            "obl_join_semi": [tp, kp, tp, kp, sz, ctypes.c_int, vp, vp, sz, u64p, arp],
            "op_join_fast": [tp, kp, tp, kp, sz, ctypes.c_int, kfp, vp, vp, vp, sz, u64p, arp],
            "obl_union_all": [tp, tp, vp, vp],
            "obl_distinct": [tp, kp, sz, vp, vp, sz, u64p, arp],
            "op_distinct_fast": [tp, kp, sz, vp, vp, sz, u64p, arp],
        }
        for name, args in sigs.items():
            fn = getattr(lib, name)
            fn.argtypes = args
            fn.restype = ctypes.c_int
        lib.obl_agg_out_row_size.argtypes = [sz, sz]
        lib.obl_agg_out_row_size.restype = sz
        lib.obl_aggregate_work_bytes.argtypes = [sz, sz, kp, sz, ap, sz]
        lib.obl_aggregate_work_bytes.restype = sz
        self.lib = lib
        self._mem = np.zeros(self.ARENA_BYTES, dtype=np.uint8)
        self.arena = Arena(self._mem.ctypes.data, self.ARENA_BYTES, 0)

    def fresh_arena(self, size: Optional[int] = None) -> Arena:
        self.arena = Arena(self._mem.ctypes.data, size or self.ARENA_BYTES, 0)
        return self.arena

    @staticmethod
    def _keys(specs: Sequence[KeySpec]):
        arr = (KeySpec * max(len(specs), 1))(*specs)
        return arr, len(specs)

    @staticmethod
    def _check(rc: int, what: str) -> None:
        if rc != OBL_OK:
            raise RuntimeError(f"{what} returned {rc}")

    # -- filter -------------------------------------------------------------
    def filter(self, t: Table, keep: Sequence[bool], cap: Optional[int] = None,
               fast: bool = False) -> Tuple[int, pd.DataFrame, List[int]]:
        cap = t.n if cap is None else cap
        k = np.array([1 if x else 0 for x in keep] or [0], dtype=np.uint32)
        out = np.zeros(max(cap, 1) * ROW, dtype=np.uint8)
        flags = np.zeros(max(cap, 1), dtype=np.uint32)
        m = ctypes.c_uint64()
        if fast:
            rc = self.lib.op_filter_fast(t.c, k.ctypes.data, out.ctypes.data, flags.ctypes.data,
                                         cap, m)
        else:
            rc = self.lib.obl_filter(t.c, k.ctypes.data, out.ctypes.data, flags.ctypes.data,
                                     cap, m, self.fresh_arena())
        self._check(rc, "filter")
        return m.value, decode_rows(out, cap), [int(x) for x in flags[:cap]]

    # -- sort / top-k / limit -----------------------------------------------
    def sort(self, t: Table, specs: Sequence[KeySpec], fast: bool = False):
        keys, nk = self._keys(specs)
        out = np.zeros(max(t.n, 1) * ROW, dtype=np.uint8)
        flags = np.zeros(max(t.n, 1), dtype=np.uint32)
        m = ctypes.c_uint64()
        fn = self.lib.op_sort_rows_fast if fast else self.lib.obl_sort_rows
        self._check(fn(t.c, keys, nk, out.ctypes.data, flags.ctypes.data, m,
                       self.fresh_arena()), "sort")
        return m.value, decode_rows(out, t.n), [int(x) for x in flags[:t.n]]

    def topk(self, t: Table, specs: Sequence[KeySpec], k: int, fast: bool = False):
        keys, nk = self._keys(specs)
        out = np.zeros(max(k, 1) * ROW, dtype=np.uint8)
        flags = np.zeros(max(k, 1), dtype=np.uint32)
        m = ctypes.c_uint64()
        fn = self.lib.op_topk_fast if fast else self.lib.obl_topk
        self._check(fn(t.c, keys, nk, k, out.ctypes.data, flags.ctypes.data, m,
                       self.fresh_arena()), "topk")
        return m.value, decode_rows(out, k), [int(x) for x in flags[:k]]

    def limit(self, t: Table, k: int, fast: bool = False):
        out = np.zeros(max(k, 1) * ROW, dtype=np.uint8)
        flags = np.zeros(max(k, 1), dtype=np.uint32)
        m = ctypes.c_uint64()
        if fast:
            rc = self.lib.op_limit_fast(t.c, k, out.ctypes.data, flags.ctypes.data, m)
        else:
            rc = self.lib.obl_limit(t.c, k, out.ctypes.data, flags.ctypes.data, m,
                                    self.fresh_arena())
        self._check(rc, "limit")
        return m.value, decode_rows(out, k), [int(x) for x in flags[:k]]

    # -- aggregate ----------------------------------------------------------
    def aggregate(self, t: Table, specs: Sequence[KeySpec], aggs: Sequence[AggSpec],
                  fast: bool = False, exact_arena: bool = False):
        """Returns (m, groups DataFrame (representative row columns), results
        list of lists with None for NULL)."""
        keys, nk = self._keys(specs)
        agg_arr = (AggSpec * max(len(aggs), 1))(*aggs)
        orow = self.lib.obl_agg_out_row_size(ROW, len(aggs))
        cap = max(t.n, 1)
        out = np.zeros(cap * orow, dtype=np.uint8)
        flags = np.zeros(cap, dtype=np.uint32)
        m = ctypes.c_uint64()
        size = self.lib.obl_aggregate_work_bytes(t.n, ROW, keys, nk, agg_arr, len(aggs)) \
            if exact_arena else None
        fn = self.lib.op_aggregate_fast if fast else self.lib.obl_aggregate
        self._check(fn(t.c, keys, nk, agg_arr, len(aggs), out.ctypes.data, flags.ctypes.data,
                       cap, m, self.fresh_arena(size)), "aggregate")
        groups = decode_rows(out, m.value, stride=orow)
        results = []
        for i in range(m.value):
            base = i * orow + (ROW + 7) // 8 * 8
            vals = out[base: base + 8 * len(aggs)].view(np.uint8).tobytes()
            nulls = out[base + 8 * len(aggs): base + 9 * len(aggs)]
            row = []
            for a, spec in enumerate(aggs):
                if nulls[a]:
                    row.append(None)
                    continue
                raw = vals[8 * a: 8 * a + 8]
                as_float = spec.fn == AGG_AVG or (spec.type == KEY_FLOAT64 and spec.fn in
                                                  (AGG_SUM, AGG_MIN, AGG_MAX))
                row.append(np.frombuffer(raw, dtype="<f8")[0].item() if as_float
                           else np.frombuffer(raw, dtype="<i8")[0].item())
            results.append(row)
        assert [int(x) for x in flags] == [1 if i < m.value else 0 for i in range(cap)]
        return m.value, groups, results

    # -- joins --------------------------------------------------------------
    def join(self, left: Table, right: Table, specs_l: Sequence[KeySpec],
             specs_r: Sequence[KeySpec], kind: int, mode: str,
             residual: Optional[Callable[[pd.DataFrame], np.ndarray]] = None):
        """mode: 'general', 'pkfk_right' (PK on the right), 'pkfk_left',
        'semi' (semi/anti kernels), 'fast'. Returns (m, DataFrame of the m
        output rows (left columns l_*, right columns r_* for inner/outer),
        right_is_null list or None)."""
        lk, nk = self._keys(specs_l)
        rk, _ = self._keys(specs_r)
        orow = 2 * ROW
        m = ctypes.c_uint64()
        keep_ref = None
        resid = None
        if residual is not None:
            def cb(rows_p, n, row_size, keep_p, ctx):
                buf = np.ctypeslib.as_array((ctypes.c_uint8 * (n * row_size)).from_address(
                    rows_p)) if n else np.zeros(0, dtype=np.uint8)
                pairs = pd.concat([decode_rows(buf, n, 0, row_size, "l_"),
                                   decode_rows(buf, n, ROW, row_size, "r_")], axis=1)
                res = residual(pairs) if n else []
                for i in range(n):
                    keep_p[i] = 1 if res[i] else 0
            keep_ref = KEEP_FN(cb)
            resid = KeepFn(keep_ref, None)
        rnull = None
        semi = kind in (JOIN_LEFT_SEMI, JOIN_LEFT_ANTI)
        if mode == "fast":
            cap = left.n * right.n + left.n + 1
            out = np.zeros(cap * orow, dtype=np.uint8)
            flags = np.zeros(cap, dtype=np.uint32)
            rn = np.zeros(cap, dtype=np.uint32)
            self._check(self.lib.op_join_fast(left.c, lk, right.c, rk, nk, kind,
                                              ctypes.byref(resid) if resid else None,
                                              out.ctypes.data, flags.ctypes.data,
                                              rn.ctypes.data, cap, m, self.fresh_arena()),
                        "op_join_fast")
            count = m.value
        elif mode == "semi":
            cap = left.n
            out = np.zeros(max(cap, 1) * ROW, dtype=np.uint8)
            flags = np.zeros(max(cap, 1), dtype=np.uint32)
            self._check(self.lib.obl_join_semi(left.c, lk, right.c, rk, nk, kind,
                                               out.ctypes.data, flags.ctypes.data, cap, m,
                                               self.fresh_arena()), "obl_join_semi")
            count = m.value
            rn = None
        elif mode.startswith("pkfk"):
            pk_side = PK_RIGHT if mode == "pkfk_right" else PK_LEFT
            fk_n = left.n if pk_side == PK_RIGHT else right.n
            cap = max(fk_n, 1)
            out = np.zeros(cap * orow, dtype=np.uint8)
            flags = np.zeros(cap, dtype=np.uint32)
            rn = np.zeros(cap, dtype=np.uint32)
            dup = ctypes.c_uint32()
            self._check(self.lib.obl_join_pkfk(left.c, lk, right.c, rk, nk, pk_side, kind,
                                               ctypes.byref(resid) if resid else None,
                                               out.ctypes.data, flags.ctypes.data,
                                               rn.ctypes.data, fk_n, m, dup,
                                               self.fresh_arena()), "obl_join_pkfk")
            assert dup.value == 0, "unique primary keys reported as duplicates"
            count = m.value
        else:
            j = JoinGeneral()
            self._check(self.lib.obl_join_general_begin(j, left.c, lk, right.c, rk, nk,
                                                        self.fresh_arena()), "begin")
            total = j.m + (left.n if kind == JOIN_LEFT_OUTER else 0)
            out = np.zeros(max(total, 1) * orow, dtype=np.uint8)
            flags = np.zeros(max(total, 1), dtype=np.uint32)
            rn = np.zeros(max(total, 1), dtype=np.uint32)
            if kind == JOIN_LEFT_OUTER:
                rc = self.lib.obl_join_general_left_outer_finish(
                    j, j.m, left.c, lk, right.c, rk, nk, out.ctypes.data, flags.ctypes.data,
                    rn.ctypes.data, m)
            else:
                rc = self.lib.obl_join_general_finish(
                    j, j.m, ctypes.byref(resid) if resid else None, out.ctypes.data,
                    flags.ctypes.data, m)
            self._check(rc, "obl_join_general_finish")
            count = m.value
            cap = total
        assert [int(x) for x in flags[:count]] == [1] * count
        assert not any(int(x) for x in flags[count:cap])
        if semi:
            return count, decode_rows(out, count, 0, ROW if mode != "fast" else ROW), None
        df = pd.concat([decode_rows(out, count, 0, orow, "l_"),
                        decode_rows(out, count, ROW, orow, "r_")], axis=1)
        if kind == JOIN_LEFT_OUTER:
            rnull = [int(x) for x in rn[:count]]
        del keep_ref
        return count, df, rnull

    # -- union / distinct ---------------------------------------------------
    def union_all(self, a: Table, b: Table):
        n = a.n + b.n
        out = np.zeros(max(n, 1) * ROW, dtype=np.uint8)
        flags = np.zeros(max(n, 1), dtype=np.uint32)
        self._check(self.lib.obl_union_all(a.c, b.c, out.ctypes.data, flags.ctypes.data),
                    "union")
        return decode_rows(out, n), [int(x) for x in flags[:n]]

    def distinct(self, t: Table, specs: Sequence[KeySpec], fast: bool = False):
        keys, nk = self._keys(specs)
        out = np.zeros(max(t.n, 1) * ROW, dtype=np.uint8)
        flags = np.zeros(max(t.n, 1), dtype=np.uint32)
        m = ctypes.c_uint64()
        fn = self.lib.op_distinct_fast if fast else self.lib.obl_distinct
        self._check(fn(t.c, keys, nk, out.ctypes.data, flags.ctypes.data, t.n, m,
                       self.fresh_arena()), "distinct")
        return m.value, decode_rows(out, m.value), [int(x) for x in flags[:t.n]]

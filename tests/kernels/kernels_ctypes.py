"""ctypes bindings of the oblivious kernels for the property-based tests
(tests/kernels/test_kernels_*.py; fixtures in conftest.py).

The tests load ``enclave/build/lib/libteespark_kernels.so`` (the shipped
kernel objects, built by ``make -C enclave``) and, for the trace tests,
``libteespark_kernels_trace.so`` (the same sources built with -DOBL_TRACE).
They are skipped, with a message saying how to build them, only when the
library is missing.
"""
from __future__ import annotations

import ctypes
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence, Tuple

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
LIB_DIR = REPO_ROOT / "enclave" / "build" / "lib"
KERNELS_LIB = LIB_DIR / "libteespark_kernels.so"
TRACE_LIB = LIB_DIR / "libteespark_kernels_trace.so"

# Column types and scan ops: the numbers of ta/ops/key_encode.h and
# ta/ops/scan_segmented.h.
KEY_UINT, KEY_INT, KEY_FLOAT64, KEY_BYTES = 1, 2, 3, 4
SCAN_SUM, SCAN_MIN, SCAN_MAX, SCAN_COUNT = 1, 2, 3, 4


class KeyCol(ctypes.Structure):
    """struct obl_key_col (same layout as struct ts_sort_key)."""

    _fields_ = [
        ("type", ctypes.c_uint16),
        ("descending", ctypes.c_uint16),
        ("offset", ctypes.c_uint32),
        ("width", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32),
    ]


@dataclass(frozen=True)
class Column:
    """A key column of a test table: type, width in bytes, direction."""

    type: int
    width: int
    descending: bool


def _ptr(a: np.ndarray) -> ctypes.c_void_p:
    return ctypes.c_void_p(a.ctypes.data)


class Kernels:
    """Thin typed wrappers over one loaded kernel library."""

    def __init__(self, path: Path) -> None:
        lib = ctypes.CDLL(str(path))
        sz, vp = ctypes.c_size_t, ctypes.c_void_p
        lib.obl_sort_bitonic.argtypes = [vp, sz, sz, sz]
        lib.obl_sort_bitonic.restype = None
        lib.obl_compact.argtypes = [vp, sz, sz, vp]
        lib.obl_compact.restype = sz
        lib.obl_scan_prefix_sum_i64.argtypes = [vp, sz]
        lib.obl_scan_prefix_sum_i64.restype = None
        lib.obl_scan_segmented_i64.argtypes = [vp, vp, sz, ctypes.c_int]
        lib.obl_scan_segmented_i64.restype = ctypes.c_int
        lib.obl_scan_segmented_mark_last.argtypes = [vp, vp, sz]
        lib.obl_scan_segmented_mark_last.restype = None
        lib.obl_scan_segmented_starts.argtypes = [vp, sz, sz, sz, vp]
        lib.obl_scan_segmented_starts.restype = None
        cols = ctypes.POINTER(KeyCol)
        lib.obl_key_encode_check.argtypes = [cols, sz, sz]
        lib.obl_key_encode_check.restype = ctypes.c_int
        lib.obl_key_words_for.argtypes = [cols, sz]
        lib.obl_key_words_for.restype = sz
        lib.obl_key_encode_rec_size.argtypes = [sz, sz]
        lib.obl_key_encode_rec_size.restype = sz
        lib.obl_key_encode.argtypes = [vp, sz, sz, cols, sz, vp]
        lib.obl_key_encode.restype = None
        lib.obl_key_encode_strip.argtypes = [vp, sz, sz, sz, vp]
        lib.obl_key_encode_strip.restype = None
        self.lib = lib

    # -- sort ---------------------------------------------------------------
    def sort_records(self, words: np.ndarray, key_words: int) -> np.ndarray:
        """Sort an (n, words_per_record) uint64 array by its first key_words
        columns with obl_sort_bitonic; returns the sorted copy."""
        recs = np.ascontiguousarray(words, dtype=np.uint64).copy()
        n, per = recs.shape
        self.lib.obl_sort_bitonic(_ptr(recs), n, 8 * per, key_words)
        return recs

    # -- key encoding -------------------------------------------------------
    @staticmethod
    def key_cols(columns: Sequence[Column]) -> Tuple[ctypes.Array, int]:
        """struct obl_key_col[] for columns laid out back to back from
        offset 0; returns (array, offset just past the last column)."""
        arr = (KeyCol * len(columns))()
        off = 0
        for i, c in enumerate(columns):
            arr[i] = KeyCol(c.type, int(c.descending), off, c.width, 0)
            off += c.width
        return arr, off

    def sort_rows(self, rows: List[bytes], columns: Sequence[Column],
                  row_size: int) -> List[bytes]:
        """encode -> obl_sort_bitonic -> strip, the path of the TA's sort
        command. Every row is row_size bytes; key columns from offset 0."""
        cols, _ = self.key_cols(columns)
        n = len(rows)
        assert all(len(r) == row_size for r in rows)
        assert self.lib.obl_key_encode_check(cols, len(columns), row_size) == 0
        kw = self.lib.obl_key_words_for(cols, len(columns))
        rec_size = self.lib.obl_key_encode_rec_size(kw, row_size)
        src = np.frombuffer(b"".join(rows) or b"\0", dtype=np.uint8).copy()
        recs = np.zeros(max(1, n * rec_size // 8), dtype=np.uint64)
        out = np.zeros(max(1, n * row_size), dtype=np.uint8)
        self.lib.obl_key_encode(_ptr(src), n, row_size, cols, len(columns), _ptr(recs))
        self.lib.obl_sort_bitonic(_ptr(recs), n, rec_size, kw)
        self.lib.obl_key_encode_strip(_ptr(recs), n, kw, row_size, _ptr(out))
        data = out.tobytes()
        return [data[i * row_size:(i + 1) * row_size] for i in range(n)]

    # -- compaction ---------------------------------------------------------
    def compact(self, records: List[bytes], keep: List[bool]) -> Tuple[int, List[bytes], List[int]]:
        """obl_compact; returns (count, records after, keep flags after)."""
        n = len(records)
        rec_size = len(records[0]) if records else 8
        buf = np.frombuffer(b"".join(records) or b"\0", dtype=np.uint8).copy()
        flags = np.array([1 if k else 0 for k in keep] or [0], dtype=np.uint32)
        m = self.lib.obl_compact(_ptr(buf), n, rec_size, _ptr(flags))
        data = buf.tobytes()
        return (m, [data[i * rec_size:(i + 1) * rec_size] for i in range(n)],
                [int(x) for x in flags[:n]])

    # -- scans --------------------------------------------------------------
    def prefix_sum(self, values: List[int]) -> List[int]:
        v = np.array(values or [0], dtype=np.int64)
        self.lib.obl_scan_prefix_sum_i64(_ptr(v), len(values))
        return [int(x) for x in v[:len(values)]]

    def segmented(self, values: List[int], starts: List[bool], op: int) -> List[int]:
        v = np.array(values or [0], dtype=np.int64)
        s = np.array([int(x) for x in starts] or [0], dtype=np.uint32)
        rc = self.lib.obl_scan_segmented_i64(_ptr(v), _ptr(s), len(values), op)
        assert rc == 0
        return [int(x) for x in v[:len(values)]]

    def mark_last(self, starts: List[bool]) -> List[int]:
        s = np.array([int(x) for x in starts] or [0], dtype=np.uint32)
        out = np.zeros(max(1, len(starts)), dtype=np.uint32)
        self.lib.obl_scan_segmented_mark_last(_ptr(s), _ptr(out), len(starts))
        return [int(x) for x in out[:len(starts)]]


def pack_value(col: Column, value) -> bytes:
    """The little-endian bytes of one column value."""
    if col.type == KEY_UINT:
        return int(value).to_bytes(col.width, "little", signed=False)
    if col.type == KEY_INT:
        return int(value).to_bytes(col.width, "little", signed=True)
    if col.type == KEY_FLOAT64:
        return struct.pack("<d", value)
    return bytes(value).ljust(col.width, b"\0")

"""ctypes bindings of the TA expression evaluator (libteespark_expr.so) and
a numpy row builder, for the tests in tests/expr/.

Rows are built here directly from the row layout of docs/FORMAT.md (null
bitmap, then each column at its offset, little-endian), independently of
teespark.format.row_codec, so the tests also pin the layout the evaluator
reads.
"""
from __future__ import annotations

import ctypes
import datetime as dt
import decimal
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from teespark.ir import opcodes as oc
from teespark.ir.types import IrType

REPO_ROOT = Path(__file__).resolve().parents[2]
LIB_DIR = REPO_ROOT / "enclave" / "build" / "lib"
EXPR_LIB = LIB_DIR / "libteespark_expr.so"
EXPR_TRACE_LIB = LIB_DIR / "libteespark_expr_trace.so"

EPOCH = dt.date(1970, 1, 1)
_CTX = decimal.Context(prec=200)


class ExprType(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_uint8), ("precision", ctypes.c_uint8),
                ("scale", ctypes.c_uint8), ("reserved", ctypes.c_uint8),
                ("width", ctypes.c_uint32)]


class ExprInfo(ctypes.Structure):
    _fields_ = [("row_size", ctypes.c_uint32), ("n_insn", ctypes.c_uint32),
                ("max_depth", ctypes.c_uint32), ("max_elem", ctypes.c_uint32),
                ("scratch", ctypes.c_uint32), ("result", ExprType),
                ("prog_len", ctypes.c_size_t)]


class ExprCol(ctypes.Structure):
    _fields_ = [("type", ExprType), ("nrows", ctypes.c_size_t),
                ("elem_size", ctypes.c_size_t), ("nulls", ctypes.c_void_p),
                ("values", ctypes.c_void_p)]


class EvalError(Exception):
    def __init__(self, code: int, bad_insn: int = -1) -> None:
        super().__init__(f"{oc.ERROR_NAMES.get(code, code)} at instruction {bad_insn}")
        self.code = code
        self.bad_insn = bad_insn


_KINDS = {oc.T_BOOL: "bool", oc.T_INT32: "int32", oc.T_INT64: "int64",
          oc.T_FLOAT64: "float64", oc.T_DECIMAL: "decimal", oc.T_DATE: "date",
          oc.T_TIMESTAMP: "timestamp", oc.T_STRING: "string"}


class Evaluator:
    """Typed wrappers over one loaded evaluator library."""

    def __init__(self, path: Path) -> None:
        lib = ctypes.CDLL(str(path))
        lib.ts_expr_validate.argtypes = [ctypes.c_char_p, ctypes.c_size_t,
                                         ctypes.POINTER(ExprInfo),
                                         ctypes.POINTER(ctypes.c_int32)]
        lib.ts_expr_validate.restype = ctypes.c_int
        lib.ts_expr_workspace_size.argtypes = [ctypes.POINTER(ExprInfo), ctypes.c_size_t]
        lib.ts_expr_workspace_size.restype = ctypes.c_size_t
        lib.ts_expr_eval.argtypes = [ctypes.c_char_p, ctypes.POINTER(ExprInfo),
                                     ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t,
                                     ctypes.c_void_p, ctypes.c_size_t,
                                     ctypes.POINTER(ExprCol)]
        lib.ts_expr_eval.restype = ctypes.c_int
        lib.ts_expr_write_column.argtypes = [ctypes.POINTER(ExprCol), ctypes.c_void_p,
                                             ctypes.c_size_t, ctypes.c_size_t,
                                             ctypes.c_uint32]
        lib.ts_expr_write_column.restype = ctypes.c_int
        lib.ts_expr_filter_ctl.argtypes = [ctypes.POINTER(ExprCol), ctypes.c_void_p]
        lib.ts_expr_filter_ctl.restype = ctypes.c_int
        self.lib = lib

    def validate(self, prog: bytes) -> ExprInfo:
        info = ExprInfo()
        bad = ctypes.c_int32(0)
        rc = self.lib.ts_expr_validate(prog, len(prog), ctypes.byref(info),
                                       ctypes.byref(bad))
        if rc != 0:
            raise EvalError(rc, bad.value)
        return info

    def run(self, prog: bytes, rows: np.ndarray) -> tuple[ExprCol, Any]:
        """Validate and evaluate; returns the result column and the
        workspace keeping it alive."""
        info = self.validate(prog)
        n = rows.shape[0]
        rows = np.ascontiguousarray(rows, dtype=np.uint8)
        need = self.lib.ts_expr_workspace_size(ctypes.byref(info), n)
        if need == 0:
            raise EvalError(oc.E_WORKSPACE)
        ws = np.zeros(need + 16, dtype=np.uint8)
        off = (-ws.ctypes.data) % 16
        col = ExprCol()
        rc = self.lib.ts_expr_eval(prog, ctypes.byref(info),
                                   ctypes.c_void_p(rows.ctypes.data if n else 0), n,
                                   rows.shape[1] if rows.ndim == 2 else info.row_size,
                                   ctypes.c_void_p(ws.ctypes.data + off), need,
                                   ctypes.byref(col))
        if rc != 0:
            raise EvalError(rc)
        return col, (ws, rows)

    def evaluate(self, prog: bytes, rows: np.ndarray) -> list:
        """Python values of the result column (None for NULL)."""
        col, _keep = self.run(prog, rows)
        return column_values(col)

    def filter_ctl(self, prog: bytes, rows: np.ndarray) -> list[int]:
        col, _keep = self.run(prog, rows)
        out = np.zeros(max(1, col.nrows), dtype=np.uint32)
        rc = self.lib.ts_expr_filter_ctl(ctypes.byref(col), ctypes.c_void_p(out.ctypes.data))
        if rc != 0:
            raise EvalError(rc)
        return [int(x) for x in out[:col.nrows]]

    def project(self, prog: bytes, rows: np.ndarray, out_row_size: int, offset: int,
                null_bit: int) -> np.ndarray:
        col, _keep = self.run(prog, rows)
        out = np.full((col.nrows, out_row_size), 0xAA, dtype=np.uint8)
        rc = self.lib.ts_expr_write_column(ctypes.byref(col),
                                           ctypes.c_void_p(out.ctypes.data),
                                           out_row_size, offset, null_bit)
        if rc != 0:
            raise EvalError(rc)
        return out


def result_type(col: ExprCol) -> IrType:
    kind = _KINDS[col.type.kind]
    return IrType(kind, col.type.precision, col.type.scale, col.type.width)


def column_values(col: ExprCol) -> list:
    n, es = col.nrows, col.elem_size
    if n == 0:
        return []
    nulls = np.ctypeslib.as_array((ctypes.c_uint8 * n).from_address(col.nulls))
    raw = bytes((ctypes.c_uint8 * (n * es)).from_address(col.values))
    t = result_type(col)
    out: list = []
    for i in range(n):
        b = raw[i * es:(i + 1) * es]
        if nulls[i]:
            assert b == bytes(es), "a NULL result must have zero value bytes"
            out.append(None)
        else:
            out.append(decode_stack_value(b, t))
    return out


def decode_stack_value(b: bytes, t: IrType) -> Any:
    k = t.kind
    if k == "bool":
        assert b[0] in (0, 1)
        return bool(b[0])
    if k in ("int32", "int64", "date", "timestamp"):
        v = struct.unpack("<q", b)[0]
        if k in ("int32", "date"):
            assert -(1 << 31) <= v < (1 << 31), f"{k} value {v} out of range"
        return v
    if k == "float64":
        return struct.unpack("<d", b)[0]
    if k == "decimal":
        u = int.from_bytes(b, "little", signed=True)
        assert abs(u) < 10 ** t.precision
        return decimal.Decimal(u).scaleb(-t.scale, context=_CTX)
    if k == "string":
        return b.rstrip(b"\0").decode("utf-8")
    raise AssertionError(k)


# ---------------------------------------------------------------------------
# rows
# ---------------------------------------------------------------------------


def encode_cell(v: Any, t: IrType) -> bytes:
    """A value in its row encoding (docs/FORMAT.md)."""
    k = t.kind
    if k == "bool":
        return bytes([1 if v else 0])
    if k in ("int32",):
        return struct.pack("<i", v)
    if k == "date":
        return struct.pack("<i", v if isinstance(v, int) else (v - EPOCH).days)
    if k in ("int64", "timestamp"):
        return struct.pack("<q", v)
    if k == "float64":
        return struct.pack("<d", v)
    if k == "decimal":
        u = int(decimal.Decimal(v).scaleb(t.scale, context=_CTX))
        return struct.pack("<q", u)
    if k == "string":
        b = v.encode("utf-8")
        assert len(b) <= t.width
        return b + bytes(t.width - len(b))
    raise AssertionError(k)


def build_rows(schema, rows: Sequence[Sequence[Any]], garbage_nulls: bool = False
               ) -> np.ndarray:
    """rows (tuples in schema order, None = NULL) -> uint8 array (n, row_size).
    With garbage_nulls, a NULL cell's bytes are 0x5A instead of zero: the
    evaluator must not depend on them."""
    lay = schema.layout()
    out = np.zeros((len(rows), schema.row_size), dtype=np.uint8)
    for r, row in enumerate(rows):
        for c, v in zip(lay, row):
            t = IrType.parse(c.type)
            if v is None:
                out[r, c.index // 8] |= 1 << (c.index % 8)
                if garbage_nulls:
                    out[r, c.offset:c.offset + c.width] = 0x5A
            else:
                out[r, c.offset:c.offset + c.width] = np.frombuffer(
                    encode_cell(v, t), dtype=np.uint8)
    return out


def load(path: Path = EXPR_LIB) -> Evaluator | None:
    return Evaluator(path) if path.exists() else None

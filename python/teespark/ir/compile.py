"""Type an expression against a table schema and encode it as a program.

:func:`compile_expr` resolves column names against a
:class:`teespark.format.schema.Schema` (or anything with the same
``layout()`` / ``row_size``), applies Spark's implicit casts and result
types (:mod:`teespark.ir.types`), and emits the postfix instruction stream
of docs/EXPRESSIONS.md. The TA validates it again before running it.

Example:
    >>> from teespark.format.schema import Schema
    >>> from teespark.ir import col, lit, compile_expr
    >>> s = Schema.from_spec("id:int64, amount:decimal(12,2)")
    >>> p = compile_expr(col("amount") * lit(2) > lit(100), s)
    >>> str(p.result_type), p.n_insn
    ('bool', 5)
"""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from teespark.ir import opcodes as oc
from teespark.ir import types as ty
from teespark.ir.errors import (
    ExpressionTypeError,
    ProgramFormatError,
    UnsupportedExpressionError,
)
from teespark.ir.expr import Expr
from teespark.ir.types import IrType

_EPOCH = _dt.date(1970, 1, 1)
_EPOCH_DT = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


@dataclass(frozen=True)
class TNode:
    """A typed node: one instruction and its operands (postfix order)."""

    op: int
    type: IrType
    args: tuple = ()
    payload: bytes = b""
    aux: int = 0
    #: the Python value of a non-NULL literal (for constant folding)
    value: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Program:
    """An encoded program: the bytes the TA validates and runs.

    Attributes:
        data: the binary program (header + instructions).
        result_type: the type of the result column.
        row_size: the input row size it was compiled for.
        n_insn: number of instructions.
    """

    data: bytes
    result_type: IrType
    row_size: int
    n_insn: int
    tree: TNode = field(repr=False, compare=False, default=None)  # type: ignore

    def disassemble(self) -> list[str]:
        """One line per instruction: index, opcode, result type, parameters."""
        return [f"{i:4d} {oc.OPCODE_NAMES.get(op, hex(op)):<12} {t}"
                f"{' aux=' + str(aux) if aux else ''}"
                f"{' ' + payload.hex() if payload else ''}"
                for i, (op, aux, t, payload) in enumerate(decode_program(self.data)[1])]


# ---------------------------------------------------------------------------
# literal values
# ---------------------------------------------------------------------------


def _int_fits(v: int, bits: int) -> bool:
    return -(1 << (bits - 1)) <= v < (1 << (bits - 1))


def infer_literal_type(v: Any) -> IrType:
    """Spark's literal types (``Literal.apply``)."""
    if isinstance(v, bool):
        return ty.BOOL
    if isinstance(v, int):
        if _int_fits(v, 32):
            return ty.INT32
        if _int_fits(v, 64):
            return ty.INT64
        digits = len(str(abs(v)))
        return IrType.decimal(digits, 0)
    if isinstance(v, float):
        return ty.FLOAT64
    if isinstance(v, _decimal.Decimal):
        _sign, digits, exp = v.as_tuple()
        scale = max(0, -int(exp))
        prec = max(len(digits) + max(0, int(exp)), scale, 1)
        return IrType.decimal(prec, scale)
    if isinstance(v, str):
        return IrType.string(max(1, len(v.encode("utf-8"))))
    if isinstance(v, _dt.datetime):
        return ty.TIMESTAMP
    if isinstance(v, _dt.date):
        return ty.DATE
    raise ExpressionTypeError(f"lit(): unsupported Python value {v!r} "
                              f"({type(v).__name__})")


_CTX = _decimal.Context(prec=200)


def _unscaled(v: Any, t: IrType) -> int:
    d = _decimal.Decimal(v)
    q = d.scaleb(t.scale, context=_CTX)
    if q != q.to_integral_value():
        raise ExpressionTypeError(f"literal {v} does not fit {t} exactly")
    u = int(q)
    if abs(u) >= 10 ** t.precision:
        raise ExpressionTypeError(f"literal {v} overflows {t}")
    return u


def encode_value(v: Any, t: IrType) -> bytes:
    """A value in the stack encoding of its type (expr.h)."""
    if v is None:
        return bytes(t.elem_size)
    k = t.kind
    if k == "bool":
        return bytes([1 if v else 0])
    if k in ("int32", "int64"):
        iv = int(v)
        if not _int_fits(iv, 32 if k == "int32" else 64):
            raise ExpressionTypeError(f"literal {v} out of range for {t}")
        return struct.pack("<q", iv)
    if k == "float64":
        return struct.pack("<d", float(v))
    if k == "decimal":
        return _unscaled(v, t).to_bytes(16, "little", signed=True)
    if k == "date":
        days = v if isinstance(v, int) else (v - _EPOCH).days
        if not _int_fits(days, 32):
            raise ExpressionTypeError(f"date literal {v} out of range")
        return struct.pack("<q", days)
    if k == "timestamp":
        if isinstance(v, int):
            us = v
        else:
            if v.tzinfo is None:
                v = v.replace(tzinfo=_dt.timezone.utc)
            delta = v - _EPOCH_DT
            us = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
        return struct.pack("<q", us)
    if k == "string":
        b = v.encode("utf-8") if isinstance(v, str) else bytes(v)
        if len(b) > t.width:
            raise ExpressionTypeError(f"string literal of {len(b)} bytes does not fit {t}")
        return b + bytes(t.width - len(b))
    raise ExpressionTypeError(f"cannot encode {v!r} as {t}")


def _convert_literal(v: Any, to: IrType) -> Any:
    """Convert a Python literal to the Python value of type ``to`` exactly
    (for IN lists and coerced literals); raises if it changes the value."""
    if v is None:
        return None
    if to.kind == "float64":
        return float(v)
    if to.kind == "decimal":
        d = _decimal.Decimal(v) if not isinstance(v, float) else _decimal.Decimal(repr(v))
        return d.quantize(_decimal.Decimal(1).scaleb(-to.scale), context=_CTX,
                          rounding=_decimal.ROUND_HALF_UP)
    if to.kind in ("int32", "int64"):
        if isinstance(v, (float, _decimal.Decimal)) and v != int(v):
            raise ExpressionTypeError(f"literal {v} is not an integer")
        return int(v)
    if to.kind == "timestamp" and isinstance(v, _dt.date) and \
            not isinstance(v, _dt.datetime):
        return _dt.datetime(v.year, v.month, v.day, tzinfo=_dt.timezone.utc)
    return v


# ---------------------------------------------------------------------------
# resolution
# ---------------------------------------------------------------------------


def _lit_node(v: Any, t: IrType) -> TNode:
    payload = bytes([1 if v is None else 0, 0, 0, 0]) + encode_value(v, t)
    return TNode(oc.OP_LIT, t, (), payload, value=v)


def _fold_cast(v: Any, f: IrType, to: IrType) -> Any:
    """The literal v of type f cast to ``to`` when that is exact and cannot
    overflow (the TA's CAST would give the same value); else None."""
    if f.is_integral and to.kind == "int64":
        return int(v)
    if f.is_integral and to.kind == "float64" and abs(int(v)) <= 1 << 53:
        return float(int(v))
    if (f.is_integral or f.kind == "decimal") and to.kind == "decimal" and \
            (f.is_integral or to.scale >= f.scale):
        u = _unscaled_exact(v, to.scale)
        if abs(u) < 10 ** to.precision:
            return _decimal.Decimal(u).scaleb(-to.scale, context=_CTX)
    return None


def _unscaled_exact(v: Any, scale: int) -> int:
    return int(_decimal.Decimal(v).scaleb(scale, context=_CTX))


def _cast_supported(f: IrType, t: IrType) -> bool:
    if f == t:
        return True
    if f.is_numeric and t.is_numeric:
        return True
    if (f.is_numeric and t.kind == "bool") or (f.kind == "bool" and t.is_numeric):
        return True
    if {f.kind, t.kind} == {"date", "timestamp"}:
        return True
    if f.kind == "string" and t.kind == "string":
        return t.width >= f.width
    return False


def cast_node(n: TNode, to: IrType) -> TNode:
    """n cast to ``to`` (no instruction when already of that type); a NULL
    literal is retyped instead."""
    if n.type == to:
        return n
    if n.op == oc.OP_LIT and n.payload[0] == 1:
        return _lit_node(None, to)
    if n.op == oc.OP_LIT and n.value is not None:
        folded = _fold_cast(n.value, n.type, to)
        if folded is not None:
            return _lit_node(folded, to)
    if not _cast_supported(n.type, to):
        raise UnsupportedExpressionError(
            f"CAST({n.type} AS {to}) is not supported by the TA evaluator; supported "
            "casts: between int32, int64, float64, decimal and bool; date <-> "
            "timestamp; string(n) -> string(m >= n) (docs/EXPRESSIONS.md)")
    return TNode(oc.OP_CAST, to, (n,))


def _is_untyped_null(e: Expr) -> bool:
    return e.op == "lit" and e.params["value"] is None and e.params.get("type") is None


class _Resolver:
    def __init__(self, schema: Any) -> None:
        self.row_size = int(schema.row_size)
        self.columns = {}
        for lay in schema.layout():
            self.columns[lay.name.casefold()] = lay

    # -- helpers ----------------------------------------------------------------

    def unify(self, args: Sequence[Expr], what: str) -> tuple[list[TNode], IrType]:
        """Resolve args and cast them to their common type; untyped NULLs
        take that type."""
        typed = [self.resolve(a) for a in args if not _is_untyped_null(a)]
        if not typed:
            raise ExpressionTypeError(f"{what}: cannot infer a type from NULLs only; "
                                      "give one a type with null('int64')")
        t = ty.common_type([n.type for n in typed])
        out = []
        for a in args:
            n = _lit_node(None, t) if _is_untyped_null(a) else self.resolve(a)
            out.append(n if t.kind == "string" else cast_node(n, t))
        return out, t

    # -- the cases ---------------------------------------------------------------

    def resolve(self, e: Expr, hint: IrType | None = None) -> TNode:
        op = e.op
        fn = getattr(self, "r_" + op, None)
        if fn is None:
            raise UnsupportedExpressionError(f"unknown expression '{op}'")
        return fn(e, hint)

    def r_col(self, e: Expr, hint) -> TNode:
        name = e.params["name"]
        lay = self.columns.get(name.casefold())
        if lay is None:
            raise ExpressionTypeError(
                f"column '{name}' not found; the schema has: "
                + ", ".join(sorted(c.name for c in self.columns.values())))
        t = IrType.parse(lay.type)
        null_bit = lay.index if lay.nullable else oc.NOT_NULLABLE
        return TNode(oc.OP_COL, t, (), struct.pack("<II", lay.offset, null_bit))

    def r_lit(self, e: Expr, hint) -> TNode:
        v, t = e.params["value"], e.params.get("type")
        if t is None:
            if v is None:
                if hint is None:
                    raise ExpressionTypeError("an untyped NULL needs a type: null('int64')")
                t = hint
            else:
                t = infer_literal_type(v)
        return _lit_node(_convert_literal(v, t), t)

    def _arith(self, e: Expr, name: str) -> TNode:
        a, b = (self.resolve(x) for x in e.args)
        op = {"add": oc.OP_ADD, "sub": oc.OP_SUB, "mul": oc.OP_MUL, "div": oc.OP_DIV,
              "idiv": oc.OP_IDIV, "mod": oc.OP_MOD}[name]
        for n in (a, b):
            if not n.type.is_numeric:
                raise ExpressionTypeError(f"{name}: operand of type {n.type} is not numeric")
        ta, tb = a.type, b.type
        if ta.is_integral and tb.is_integral:
            if name == "div":
                return TNode(op, ty.FLOAT64, (cast_node(a, ty.FLOAT64),
                                              cast_node(b, ty.FLOAT64)))
            if name == "idiv":
                return TNode(op, ty.INT64, (cast_node(a, ty.INT64), cast_node(b, ty.INT64)))
            t = ty.INT32 if ta == tb == ty.INT32 else ty.INT64
            return TNode(op, t, (cast_node(a, t), cast_node(b, t)))
        if ta.kind == "float64" or tb.kind == "float64":
            if name == "mod":
                raise UnsupportedExpressionError(
                    "% on float64 is not supported by the TA evaluator (no constant-time "
                    "floating-point remainder yet); cast to decimal first")
            if name == "idiv":
                raise UnsupportedExpressionError("div on float64 is not supported")
            return TNode(op, ty.FLOAT64, (cast_node(a, ty.FLOAT64),
                                          cast_node(b, ty.FLOAT64)))
        # decimals (integral operands widen to decimal(10,0) / decimal(20,0))
        da = ta if ta.kind == "decimal" else ty.decimal_for_integral(ta)
        db = tb if tb.kind == "decimal" else ty.decimal_for_integral(tb)
        a, b = cast_node(a, da), cast_node(b, db)
        if name in ("add", "sub"):
            rt = ty.add_decimal_type(da, db)
        elif name == "mul":
            rt = ty.mul_decimal_type(da, db)
        elif name == "div":
            rt = ty.div_decimal_type(da, db)
        elif name == "mod":
            rt = ty.mod_decimal_type(da, db)
        else:
            rt = ty.INT64
        return TNode(op, rt, (a, b))

    def r_add(self, e, hint):
        return self._arith(e, "add")

    def r_sub(self, e, hint):
        return self._arith(e, "sub")

    def r_mul(self, e, hint):
        return self._arith(e, "mul")

    def r_div(self, e, hint):
        return self._arith(e, "div")

    def r_idiv(self, e, hint):
        return self._arith(e, "idiv")

    def r_mod(self, e, hint):
        return self._arith(e, "mod")

    def _numeric1(self, e: Expr, name: str) -> TNode:
        a = self.resolve(e.args[0])
        if not a.type.is_numeric:
            raise ExpressionTypeError(f"{name}: operand of type {a.type} is not numeric")
        return a

    def r_neg(self, e, hint):
        a = self._numeric1(e, "negation")
        return TNode(oc.OP_NEG, a.type, (a,))

    def r_abs(self, e, hint):
        a = self._numeric1(e, "abs")
        return TNode(oc.OP_ABS, a.type, (a,))

    def r_round(self, e, hint):
        a = self._numeric1(e, "round")
        d = e.params["d"]
        if a.type.kind == "decimal":
            rt = ty.round_decimal_type(a.type, d)
        elif a.type.kind == "float64":
            if not 0 <= d <= 22:
                raise UnsupportedExpressionError(
                    f"round(float64, {d}): the TA evaluator supports 0 <= d <= 22 on "
                    "float64 (docs/EXPRESSIONS.md, 'float64 rounding')")
            rt = a.type
        else:
            rt = a.type
        return TNode(oc.OP_ROUND, rt, (a,), struct.pack("<i", d))

    def _compare(self, e: Expr, op: int) -> TNode:
        (a, b), _t = self.unify_compare(e.args)
        return TNode(op, ty.BOOL, (a, b))

    def unify_compare(self, args):
        ta = [self.resolve(x) for x in args if not _is_untyped_null(x)]
        if not ta:
            raise ExpressionTypeError("comparison of two untyped NULLs")
        kinds = {n.type.kind for n in ta}
        if kinds <= {"bool"} or kinds <= {"string"} or len(kinds) == 1 and \
                kinds <= {"int32", "int64", "float64", "date", "timestamp", "decimal"}:
            if kinds == {"decimal"} and len({n.type for n in ta}) > 1:
                return self.unify(args, "comparison")
            t = ta[0].type
            out = [_lit_node(None, t) if _is_untyped_null(x) else self.resolve(x)
                   for x in args]
            return out, t
        return self.unify(args, "comparison")

    def r_eq(self, e, hint):
        return self._compare(e, oc.OP_EQ)

    def r_eq_ns(self, e, hint):
        return self._compare(e, oc.OP_EQ_NS)

    def r_lt(self, e, hint):
        return self._compare(e, oc.OP_LT)

    def r_le(self, e, hint):
        return self._compare(e, oc.OP_LE)

    def r_gt(self, e, hint):
        return self._compare(e, oc.OP_GT)

    def r_ge(self, e, hint):
        return self._compare(e, oc.OP_GE)

    def _bool(self, x: Expr, what: str) -> TNode:
        n = self.resolve(x, ty.BOOL)
        if n.type.kind != "bool":
            raise ExpressionTypeError(f"{what}: operand of type {n.type} is not boolean")
        return n

    def r_and(self, e, hint):
        return TNode(oc.OP_AND, ty.BOOL, tuple(self._bool(x, "AND") for x in e.args))

    def r_or(self, e, hint):
        return TNode(oc.OP_OR, ty.BOOL, tuple(self._bool(x, "OR") for x in e.args))

    def r_not(self, e, hint):
        return TNode(oc.OP_NOT, ty.BOOL, (self._bool(e.args[0], "NOT"),))

    def r_is_null(self, e, hint):
        return TNode(oc.OP_IS_NULL, ty.BOOL, (self.resolve(e.args[0], ty.BOOL),))

    def r_is_not_null(self, e, hint):
        return TNode(oc.OP_IS_NOT_NULL, ty.BOOL, (self.resolve(e.args[0], ty.BOOL),))

    def r_case(self, e, hint):
        n, has_else = e.params["n"], e.params["has_else"]
        conds = [self._bool(e.args[2 * i], "CASE WHEN") for i in range(n)]
        vals = [e.args[2 * i + 1] for i in range(n)] + ([e.args[2 * n]] if has_else else [])
        vnodes, t = self.unify(vals, "CASE")
        args: list[TNode] = []
        for i in range(n):
            args += [conds[i], vnodes[i]]
        if has_else:
            args.append(vnodes[n])
        return TNode(oc.OP_CASE, t, tuple(args), struct.pack("<I", 1 if has_else else 0),
                     aux=n)

    def r_coalesce(self, e, hint):
        nodes, t = self.unify(e.args, "coalesce")
        return TNode(oc.OP_COALESCE, t, tuple(nodes), aux=len(nodes))

    def r_in(self, e, hint):
        value, items = e.args[0], e.args[1:]
        for it in items:
            if it.op != "lit":
                raise UnsupportedExpressionError(
                    "IN: only literal lists are supported (write ORs of = for others)")
        if not items:
            raise ExpressionTypeError("IN: the list is empty")
        v = self.resolve(value)
        typed = [infer_literal_type(it.params["value"]) if it.params.get("type") is None
                 else it.params["type"] for it in items if it.params["value"] is not None]
        t = ty.common_type([v.type] + typed) if typed else v.type
        v = cast_node(v, t) if t.kind != "string" else v
        vals = [_convert_literal(it.params["value"], t) for it in items]
        has_null = any(x is None for x in vals)
        es = v.type.elem_size
        enc = []
        for x in vals:
            if x is None:
                continue
            if v.type.kind == "string" and len(str(x).encode("utf-8")) > v.type.width:
                continue   # longer than any value of the column: never equal
            enc.append(encode_value(x, v.type))
        if not enc:
            if v.type.kind != "string":
                return _lit_node(None, ty.BOOL)   # x IN (NULL, ...): always NULL
            # every entry too long for the column: never equal (0xFF is not
            # valid UTF-8, so no value matches this filler)
            enc.append(b"\xff" * es)
        payload = struct.pack("<II", len(enc), 1 if has_null else 0) + b"".join(enc)
        return TNode(oc.OP_IN, ty.BOOL, (v,), payload)

    def _string(self, x: Expr, what: str) -> TNode:
        n = self.resolve(x)
        if n.type.kind != "string":
            raise ExpressionTypeError(f"{what}: operand of type {n.type} is not a string")
        return n

    def r_like(self, e, hint):
        a = self._string(e.args[0], "LIKE")
        toks = like_tokens(e.params["pattern"], e.params["escape"])
        return _like_node(a, toks)

    def r_like_tokens(self, e, hint):
        a = self._string(e.args[0], e.params["kind"])
        lit_toks = list(e.params["text"].encode("utf-8"))
        kind = e.params["kind"]
        if kind == "startswith":
            toks = lit_toks + [oc.LIKE_ANY_STRING]
        elif kind == "endswith":
            toks = [oc.LIKE_ANY_STRING] + lit_toks
        else:
            toks = [oc.LIKE_ANY_STRING] + lit_toks + [oc.LIKE_ANY_STRING]
        return _like_node(a, toks)

    def r_substr(self, e, hint):
        a = self._string(e.args[0], "substring")
        pos, length = e.params["pos"], e.params["length"]
        ln = oc.SUBSTR_TO_END if length is None else max(-(1 << 31), min(int(length),
                                                                        oc.SUBSTR_TO_END))
        pos = max(-(1 << 31), min(pos, (1 << 31) - 1))
        return TNode(oc.OP_SUBSTR, IrType.string(substr_width(a.type.width, ln)), (a,),
                     struct.pack("<ii", pos, ln))

    def r_cast(self, e, hint):
        to = e.params["to"]
        if _is_untyped_null(e.args[0]):
            return _lit_node(None, to)
        return cast_node(self.resolve(e.args[0]), to)

    def _date(self, x: Expr, what: str) -> TNode:
        n = self.resolve(x)
        if n.type.kind == "timestamp":
            return cast_node(n, ty.DATE)
        if n.type.kind != "date":
            raise ExpressionTypeError(f"{what}: operand of type {n.type} is not a date")
        return n

    def r_year(self, e, hint):
        return TNode(oc.OP_YEAR, ty.INT32, (self._date(e.args[0], "year"),))

    def r_month(self, e, hint):
        return TNode(oc.OP_MONTH, ty.INT32, (self._date(e.args[0], "month"),))

    def r_day(self, e, hint):
        return TNode(oc.OP_DAY, ty.INT32, (self._date(e.args[0], "dayofmonth"),))

    def _days(self, x: Expr) -> TNode:
        n = self.resolve(x, ty.INT32)
        if n.type.kind != "int32":
            raise ExpressionTypeError(f"date_add/date_sub: the day count must be int32, "
                                      f"got {n.type}")
        return n

    def r_date_add(self, e, hint):
        return TNode(oc.OP_DATE_ADD, ty.DATE, (self._date(e.args[0], "date_add"),
                                               self._days(e.args[1])))

    def r_date_sub(self, e, hint):
        return TNode(oc.OP_DATE_SUB, ty.DATE, (self._date(e.args[0], "date_sub"),
                                               self._days(e.args[1])))

    def r_datediff(self, e, hint):
        return TNode(oc.OP_DATEDIFF, ty.INT32, (self._date(e.args[0], "datediff"),
                                                self._date(e.args[1], "datediff")))

    def r_unscaled(self, e, hint):
        a = self.resolve(e.args[0])
        if a.type.kind != "decimal" or a.type.precision > oc.MAX_STORED_PRECISION:
            raise ExpressionTypeError(f"UnscaledValue needs decimal(p<=18), got {a.type}")
        return TNode(oc.OP_UNSCALED, ty.INT64, (a,))

    def r_make_decimal(self, e, hint):
        a = cast_node(self.resolve(e.args[0]), ty.INT64)
        return TNode(oc.OP_MAKE_DECIMAL, e.params["to"], (a,))

    def r_normalize(self, e, hint):
        a = self.resolve(e.args[0])
        if a.type.kind != "float64":
            return a   # Spark normalizes only floating point: a no-op otherwise
        return TNode(oc.OP_NORMALIZE, ty.FLOAT64, (a,))


def substr_width(in_width: int, length: int) -> int:
    """Result width of SUBSTR (mirrors expr_validate.c)."""
    if length <= 0:
        return 1
    if length == oc.SUBSTR_TO_END or length * 4 >= in_width:
        return in_width
    return length * 4


def _like_node(a: TNode, toks: list[int]) -> TNode:
    payload = struct.pack("<I", len(toks)) + b"".join(struct.pack("<H", t) for t in toks)
    return TNode(oc.OP_LIKE, ty.BOOL, (a,), payload)


def like_tokens(pattern: str, escape: str = "\\") -> list[int]:
    """Tokens of a LIKE pattern with Spark's rules: ``_`` one character,
    ``%`` any sequence, the escape character before ``_``, ``%`` or itself
    makes it literal; before anything else (or at the end) it is an error,
    as in Spark."""
    if len(escape) != 1:
        raise ExpressionTypeError(f"LIKE escape must be one character, got {escape!r}")
    toks: list[int] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == escape:
            if i + 1 >= len(pattern) or pattern[i + 1] not in ("_", "%", escape):
                raise ExpressionTypeError(
                    f"LIKE pattern {pattern!r}: the escape character must be followed "
                    "by '_', '%' or itself (Spark's rule)")
            toks += list(pattern[i + 1].encode("utf-8"))
            i += 2
            continue
        if ch == "_":
            toks.append(oc.LIKE_ANY_CHAR)
        elif ch == "%":
            if not toks or toks[-1] != oc.LIKE_ANY_STRING:
                toks.append(oc.LIKE_ANY_STRING)
        else:
            toks += list(ch.encode("utf-8"))
        i += 1
    return toks


# ---------------------------------------------------------------------------
# emission
# ---------------------------------------------------------------------------


def _emit(n: TNode, out: list[bytes]) -> None:
    for a in n.args:
        _emit(a, out)
    out.append(struct.pack("<HHI", n.op, n.aux, oc.INSN_HEADER_SIZE + len(n.payload))
               + n.type.descriptor() + n.payload)


def _depth(n: TNode) -> int:
    """Stack depth the postfix program of n needs."""
    best, d = 0, 0
    for a in n.args:
        best = max(best, d + _depth(a))
        d += 1
    return max(best, d, 1)


def encode_tree(tree: TNode, row_size: int) -> Program:
    """Encode a typed tree as a program."""
    insns: list[bytes] = []
    _emit(tree, insns)
    if len(insns) > oc.MAX_INSNS:
        raise UnsupportedExpressionError(
            f"expression has {len(insns)} instructions, more than {oc.MAX_INSNS}")
    if _depth(tree) > oc.MAX_DEPTH:
        raise UnsupportedExpressionError(
            f"expression needs a stack of {_depth(tree)}, more than {oc.MAX_DEPTH}")
    header = oc.MAGIC + struct.pack("<HHII", oc.VERSION, 0, row_size, len(insns))
    return Program(header + b"".join(insns), tree.type, row_size, len(insns), tree)


def compile_expr(expr: Expr, schema: Any) -> Program:
    """Type ``expr`` against ``schema`` and encode it.

    Args:
        expr: an expression built with :mod:`teespark.ir.expr`.
        schema: a :class:`teespark.format.schema.Schema` (or an object with
            ``layout()`` giving name/type/nullable/offset/index and
            ``row_size``).

    Returns:
        The :class:`Program` (``.data`` is what the TA runs).

    Raises:
        ExpressionTypeError: unknown column, operand types that do not fit.
        UnsupportedExpressionError: a valid expression the TA cannot run.

    Reveals: the program is public (part of the query plan): column offsets,
    types, literals and the shape of the expression.
    """
    if not isinstance(expr, Expr):
        raise ExpressionTypeError(f"compile_expr(): expected an Expr, got "
                                  f"{type(expr).__name__}")
    tree = _Resolver(schema).resolve(expr)
    return encode_tree(tree, int(schema.row_size))


def decode_program(data: bytes) -> tuple[int, list[tuple[int, int, IrType, bytes]]]:
    """Split a program into (row_size, [(opcode, aux, result type, payload)]).
    Checks only the framing (the TA validator checks everything)."""
    if len(data) < oc.HEADER_SIZE or data[:4] != oc.MAGIC:
        raise ProgramFormatError("not a teespark expression program (bad magic)")
    version, _flags, row_size, n = struct.unpack_from("<HHII", data, 4)
    if version != oc.VERSION:
        raise ProgramFormatError(f"program version {version}, expected {oc.VERSION}")
    pos, out = oc.HEADER_SIZE, []
    for i in range(n):
        if pos + oc.INSN_HEADER_SIZE > len(data):
            raise ProgramFormatError(f"instruction {i} is truncated")
        op, aux, ln = struct.unpack_from("<HHI", data, pos)
        if ln < oc.INSN_HEADER_SIZE or pos + ln > len(data):
            raise ProgramFormatError(f"instruction {i} has a bad length {ln}")
        t = IrType.from_descriptor(data[pos + 8:pos + 16])
        out.append((op, aux, t, bytes(data[pos + 16:pos + ln])))
        pos += ln
    if pos != len(data):
        raise ProgramFormatError(f"{len(data) - pos} bytes after the last instruction")
    return row_size, out


__all__ = [
    "Program",
    "TNode",
    "cast_node",
    "compile_expr",
    "decode_program",
    "encode_tree",
    "encode_value",
    "infer_literal_type",
    "like_tokens",
    "substr_width",
]

"""Value types of the expression IR and Spark's type rules for them.

A type is one of ``bool``, ``int32``, ``int64``, ``float64``,
``decimal(p,s)`` (p <= 38 on the evaluator's stack; columns hold p <= 18),
``date``, ``timestamp`` and ``string(n)`` (n bytes of UTF-8, zero padded),
the types of docs/FORMAT.md. The functions at the end reproduce the result
types Spark's analyzer gives (``DecimalPrecision`` with
``spark.sql.decimalOperations.allowPrecisionLoss=true``, the default), so
programs built from Python carry the same types the Spark plan exporter
will carry.

Example:
    >>> IrType.parse("decimal(12,2)")
    IrType('decimal(12,2)')
    >>> add_decimal_type(IrType.decimal(12, 2), IrType.decimal(10, 4))
    IrType('decimal(15,4)')
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from teespark.ir import opcodes as oc
from teespark.ir.errors import ExpressionTypeError

_KIND_CODES = {"bool": oc.T_BOOL, "int32": oc.T_INT32, "int64": oc.T_INT64,
               "float64": oc.T_FLOAT64, "decimal": oc.T_DECIMAL, "date": oc.T_DATE,
               "timestamp": oc.T_TIMESTAMP, "string": oc.T_STRING}
_KIND_NAMES = {v: k for k, v in _KIND_CODES.items()}
_ALIASES = {"boolean": "bool", "int": "int32", "integer": "int32", "bigint": "int64",
            "long": "int64", "double": "float64"}
_DECIMAL_RE = re.compile(r"^decimal\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
_STRING_RE = re.compile(r"^(?:string|varchar)\s*\(\s*(\d+)\s*\)$")

MAX_PRECISION = oc.MAX_PRECISION
MINIMUM_ADJUSTED_SCALE = 6


@dataclass(frozen=True)
class IrType:
    """A value type: ``kind`` plus decimal precision/scale or string width."""

    kind: str
    precision: int = 0
    scale: int = 0
    width: int = 0

    # -- constructors -------------------------------------------------------

    @classmethod
    def decimal(cls, precision: int, scale: int) -> IrType:
        if not 1 <= precision <= MAX_PRECISION or not 0 <= scale <= precision:
            raise ExpressionTypeError(
                f"decimal({precision},{scale}): need 1 <= precision <= {MAX_PRECISION} "
                "and 0 <= scale <= precision")
        return cls("decimal", precision, scale)

    @classmethod
    def string(cls, width: int) -> IrType:
        if not 1 <= width <= oc.MAX_STRING:
            raise ExpressionTypeError(
                f"string({width}): a string width must be 1..{oc.MAX_STRING} bytes")
        return cls("string", width=width)

    @classmethod
    def parse(cls, text: str) -> IrType:
        """Parse a type as docs/FORMAT.md spells it (Spark aliases accepted)."""
        t = _ALIASES.get(text.strip().lower(), text.strip().lower())
        if t in _KIND_CODES and t not in ("decimal", "string"):
            return cls(t)
        m = _DECIMAL_RE.match(t)
        if m:
            return cls.decimal(int(m.group(1)), int(m.group(2)))
        m = _STRING_RE.match(t)
        if m:
            return cls.string(int(m.group(1)))
        raise ExpressionTypeError(
            f"unknown type '{text}'; supported: bool, int32, int64, float64, "
            "decimal(p,s), date, timestamp, string(n)")

    # -- properties ----------------------------------------------------------

    @property
    def code(self) -> int:
        return _KIND_CODES[self.kind]

    @property
    def is_integral(self) -> bool:
        return self.kind in ("int32", "int64")

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("int32", "int64", "float64", "decimal")

    @property
    def elem_size(self) -> int:
        """Bytes of one value on the evaluator's stack."""
        if self.kind == "bool":
            return 1
        if self.kind == "decimal":
            return 16
        if self.kind == "string":
            return self.width
        return 8

    @property
    def stored_width(self) -> int:
        """Bytes in a row (docs/FORMAT.md); 0 if not storable."""
        return {"bool": 1, "int32": 4, "date": 4, "int64": 8, "float64": 8,
                "timestamp": 8}.get(self.kind) or (
            self.width if self.kind == "string" else
            (8 if self.precision <= oc.MAX_STORED_PRECISION else 0))

    def descriptor(self) -> bytes:
        """The 8-byte wire type descriptor."""
        return struct.pack("<BBBBI", self.code, self.precision, self.scale, 0, self.width)

    @classmethod
    def from_descriptor(cls, data: bytes) -> IrType:
        code, p, s, _r, w = struct.unpack("<BBBBI", data)
        kind = _KIND_NAMES.get(code)
        if kind is None:
            raise ExpressionTypeError(f"unknown type code {code}")
        return cls(kind, p, s, w)

    def __str__(self) -> str:
        if self.kind == "decimal":
            return f"decimal({self.precision},{self.scale})"
        if self.kind == "string":
            return f"string({self.width})"
        return self.kind

    def __repr__(self) -> str:
        return f"IrType('{self}')"

    def spark_sql(self) -> str:
        """The Spark SQL spelling, for CAST in SQL text."""
        return {"bool": "BOOLEAN", "int32": "INT", "int64": "BIGINT",
                "float64": "DOUBLE", "date": "DATE", "timestamp": "TIMESTAMP",
                "string": "STRING"}.get(self.kind) or \
            f"DECIMAL({self.precision},{self.scale})"


BOOL = IrType("bool")
INT32 = IrType("int32")
INT64 = IrType("int64")
FLOAT64 = IrType("float64")
DATE = IrType("date")
TIMESTAMP = IrType("timestamp")


def decimal(precision: int, scale: int) -> IrType:
    """``decimal(p, s)``."""
    return IrType.decimal(precision, scale)


def string(width: int) -> IrType:
    """``string(n)``: n bytes of UTF-8."""
    return IrType.string(width)


# ---------------------------------------------------------------------------
# Spark's decimal rules (DecimalPrecision / DecimalType.adjustPrecisionScale)
# ---------------------------------------------------------------------------


def adjust_precision_scale(precision: int, scale: int) -> IrType:
    """Spark's ``DecimalType.adjustPrecisionScale`` (allowPrecisionLoss=true):
    keep the integral digits, give up scale down to min(scale, 6)."""
    if precision <= MAX_PRECISION:
        return IrType.decimal(precision, scale)
    int_digits = precision - scale
    min_scale = min(scale, MINIMUM_ADJUSTED_SCALE)
    adjusted = max(MAX_PRECISION - int_digits, min_scale)
    return IrType.decimal(MAX_PRECISION, adjusted)


def bounded_decimal(precision: int, scale: int) -> IrType:
    """Spark's ``DecimalType.bounded``."""
    return IrType.decimal(min(precision, MAX_PRECISION), min(scale, MAX_PRECISION))


def add_decimal_type(a: IrType, b: IrType) -> IrType:
    s = max(a.scale, b.scale)
    p = max(a.precision - a.scale, b.precision - b.scale) + s + 1
    return adjust_precision_scale(p, s)


def mul_decimal_type(a: IrType, b: IrType) -> IrType:
    return adjust_precision_scale(a.precision + b.precision + 1, a.scale + b.scale)


def div_decimal_type(a: IrType, b: IrType) -> IrType:
    int_digits = a.precision - a.scale + b.scale
    scale = max(MINIMUM_ADJUSTED_SCALE, a.scale + b.precision + 1)
    return adjust_precision_scale(int_digits + scale, scale)


def mod_decimal_type(a: IrType, b: IrType) -> IrType:
    s = max(a.scale, b.scale)
    p = min(a.precision - a.scale, b.precision - b.scale) + s
    return adjust_precision_scale(p, s)


def decimal_for_integral(t: IrType) -> IrType:
    """The decimal an integral type widens to (Spark: int -> decimal(10,0),
    bigint -> decimal(20,0))."""
    return IrType.decimal(10, 0) if t.kind == "int32" else IrType.decimal(20, 0)


def wider_decimal(a: IrType, b: IrType) -> IrType:
    """Spark's ``DecimalPrecision.widerDecimalType``."""
    s = max(a.scale, b.scale)
    rng = max(a.precision - a.scale, b.precision - b.scale)
    return bounded_decimal(rng + s, s)


def round_decimal_type(t: IrType, d: int) -> IrType:
    """Result type of ``round(decimal(p,s), d)`` (Spark's RoundBase)."""
    integral_least = t.precision - t.scale + 1
    if d < 0:
        return IrType.decimal(min(max(integral_least, -d + 1), MAX_PRECISION), 0)
    new_scale = min(t.scale, d)
    return IrType.decimal(min(integral_least + new_scale, MAX_PRECISION), new_scale)


def common_type(types: list[IrType]) -> IrType:
    """The type Spark coerces a set of values to (CASE branches, COALESCE,
    IN lists, comparisons): numeric widening int32 < int64 < decimal <
    float64, date < timestamp, strings to the widest width."""
    kinds = {t.kind for t in types}
    if len(kinds) == 1:
        k = types[0].kind
        if k == "string":
            return IrType.string(max(t.width for t in types))
        if k == "decimal":
            out = types[0]
            for t in types[1:]:
                out = wider_decimal(out, t)
            return out
        return types[0]
    if kinds <= {"int32", "int64"}:
        return INT64
    if kinds <= {"int32", "int64", "float64", "decimal"}:
        if "float64" in kinds:
            return FLOAT64
        decs = [t if t.kind == "decimal" else decimal_for_integral(t) for t in types]
        return common_type(decs)
    if kinds == {"date", "timestamp"}:
        return TIMESTAMP
    raise ExpressionTypeError(
        "no common type for " + ", ".join(str(t) for t in types) +
        "; cast the operands explicitly")

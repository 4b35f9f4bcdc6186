"""A small typed builder for expressions, in PySpark's style.

Build an untyped tree with :func:`col`, :func:`lit` and Python operators,
then :func:`teespark.ir.compile_expr` types it against a table schema and
encodes it for the TA::

    >>> from teespark.ir import col, lit, when
    >>> e = when(col("amount") > lit(100), col("amount") * lit(2)).otherwise(lit(0))

Operators follow Spark SQL: ``/`` is Spark's ``/`` (double or decimal
division), :meth:`Expr.div` is Spark's integral ``div``, ``%`` is
``Remainder`` (Java sign rules), ``&``/``|``/``~`` are AND/OR/NOT with
three-valued logic, ``==`` is SQL ``=`` (NULL if either side is NULL) and
:meth:`Expr.eq_null_safe` is ``<=>``. As in PySpark, an ``Expr`` cannot be
used as a Python bool (``a and b`` raises; write ``a & b``).
"""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
from collections.abc import Sequence
from typing import Any, Union

from teespark.ir.errors import ExpressionTypeError
from teespark.ir.types import IrType

ExprLike = Union["Expr", int, float, str, bool, _decimal.Decimal, _dt.date, None]


class Expr:
    """An untyped expression node: an operation name, operands, parameters."""

    __slots__ = ("args", "op", "params")

    def __init__(self, op: str, args: Sequence[Expr] = (), **params: Any) -> None:
        self.op = op
        self.args = tuple(args)
        self.params = params

    # -- Python protocol --------------------------------------------------

    def __bool__(self) -> bool:
        raise TypeError("an Expr has no Python truth value: use '&' for AND, '|' for "
                        "OR, '~' for NOT, and compare results only after evaluation")

    __hash__ = None  # type: ignore[assignment]  # == builds an expression

    def __repr__(self) -> str:
        if self.op == "col":
            return f"col({self.params['name']!r})"
        if self.op == "lit":
            t = self.params.get("type")
            return f"lit({self.params['value']!r}{', ' + str(t) if t else ''})"
        extra = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        inner = ", ".join(repr(a) for a in self.args)
        return f"{self.op}({inner}{', ' + extra if extra else ''})"

    # -- arithmetic --------------------------------------------------------

    def __add__(self, o: ExprLike) -> Expr:
        return Expr("add", (self, _e(o)))

    def __radd__(self, o: ExprLike) -> Expr:
        return Expr("add", (_e(o), self))

    def __sub__(self, o: ExprLike) -> Expr:
        return Expr("sub", (self, _e(o)))

    def __rsub__(self, o: ExprLike) -> Expr:
        return Expr("sub", (_e(o), self))

    def __mul__(self, o: ExprLike) -> Expr:
        return Expr("mul", (self, _e(o)))

    def __rmul__(self, o: ExprLike) -> Expr:
        return Expr("mul", (_e(o), self))

    def __truediv__(self, o: ExprLike) -> Expr:
        return Expr("div", (self, _e(o)))

    def __rtruediv__(self, o: ExprLike) -> Expr:
        return Expr("div", (_e(o), self))

    def __mod__(self, o: ExprLike) -> Expr:
        return Expr("mod", (self, _e(o)))

    def __rmod__(self, o: ExprLike) -> Expr:
        return Expr("mod", (_e(o), self))

    def __neg__(self) -> Expr:
        return Expr("neg", (self,))

    def div(self, o: ExprLike) -> Expr:
        """Spark's integral division ``a div b`` (bigint result)."""
        return Expr("idiv", (self, _e(o)))

    # -- comparisons and logic ------------------------------------------------

    def __eq__(self, o: ExprLike) -> Expr:  # type: ignore[override]
        return Expr("eq", (self, _e(o)))

    def __ne__(self, o: ExprLike) -> Expr:  # type: ignore[override]
        return Expr("not", (Expr("eq", (self, _e(o))),))

    def __lt__(self, o: ExprLike) -> Expr:
        return Expr("lt", (self, _e(o)))

    def __le__(self, o: ExprLike) -> Expr:
        return Expr("le", (self, _e(o)))

    def __gt__(self, o: ExprLike) -> Expr:
        return Expr("gt", (self, _e(o)))

    def __ge__(self, o: ExprLike) -> Expr:
        return Expr("ge", (self, _e(o)))

    def eq_null_safe(self, o: ExprLike) -> Expr:
        """``a <=> b``: TRUE when both are NULL, never NULL."""
        return Expr("eq_ns", (self, _e(o)))

    def __and__(self, o: ExprLike) -> Expr:
        return Expr("and", (self, _e(o)))

    def __rand__(self, o: ExprLike) -> Expr:
        return Expr("and", (_e(o), self))

    def __or__(self, o: ExprLike) -> Expr:
        return Expr("or", (self, _e(o)))

    def __ror__(self, o: ExprLike) -> Expr:
        return Expr("or", (_e(o), self))

    def __invert__(self) -> Expr:
        return Expr("not", (self,))

    def is_null(self) -> Expr:
        return Expr("is_null", (self,))

    def is_not_null(self) -> Expr:
        return Expr("is_not_null", (self,))

    def isin(self, *values: ExprLike) -> Expr:
        """``a IN (v1, ...)`` over literal values (NULL allowed)."""
        if len(values) == 1 and isinstance(values[0], (list, tuple, set)):
            values = tuple(values[0])
        return Expr("in", (self,) + tuple(_e(v) for v in values))

    def between(self, lo: ExprLike, hi: ExprLike) -> Expr:
        """``a BETWEEN lo AND hi``, which Spark rewrites to
        ``a >= lo AND a <= hi``."""
        return Expr("and", (Expr("ge", (self, _e(lo))), Expr("le", (self, _e(hi)))))

    # -- strings ------------------------------------------------------------

    def like(self, pattern: str, escape: str = "\\") -> Expr:
        """``a LIKE pattern`` (literal pattern; ``%``, ``_``, escape char)."""
        return Expr("like", (self,), pattern=pattern, escape=escape)

    def startswith(self, prefix: str) -> Expr:
        return Expr("like_tokens", (self,), kind="startswith", text=prefix)

    def endswith(self, suffix: str) -> Expr:
        return Expr("like_tokens", (self,), kind="endswith", text=suffix)

    def contains(self, text: str) -> Expr:
        return Expr("like_tokens", (self,), kind="contains", text=text)

    def substr(self, pos: int, length: int | None = None) -> Expr:
        """``substring(a, pos[, length])`` in characters, 1-based, Spark's
        rules for 0 and negative positions."""
        return Expr("substr", (self,), pos=int(pos), length=length)

    # -- other ----------------------------------------------------------------

    def cast(self, to: str | IrType) -> Expr:
        return Expr("cast", (self,), to=_type(to))


def _type(t: str | IrType) -> IrType:
    return t if isinstance(t, IrType) else IrType.parse(t)


def _e(v: ExprLike) -> Expr:
    return v if isinstance(v, Expr) else lit(v)


def col(name: str) -> Expr:
    """A column of the input rows, by name (case-insensitive, as Spark)."""
    if not isinstance(name, str) or not name:
        raise ExpressionTypeError(f"col(): a column name must be a non-empty string, "
                                  f"got {name!r}")
    return Expr("col", name=name)


def lit(value: Any, type: str | IrType | None = None) -> Expr:
    """A literal. Without ``type`` it is inferred as Spark does: int ->
    int32 (int64 if it does not fit), float -> float64, Decimal ->
    decimal(p,s), str -> string(its UTF-8 length), bool, date, datetime
    (naive means UTC) -> timestamp. ``lit(None)`` is a NULL whose type comes
    from its context; ``lit(None, "int64")`` a typed NULL."""
    if isinstance(value, Expr):
        return value
    return Expr("lit", value=value, type=_type(type) if type is not None else None)


def null(type: str | IrType | None = None) -> Expr:
    """A NULL literal, typed or taking its type from the context."""
    return lit(None, type)


class CaseBuilder:
    """``when(c, v).when(c2, v2).otherwise(e)``, as PySpark."""

    def __init__(self, branches: list[tuple[Expr, Expr]]) -> None:
        self._branches = branches

    def when(self, cond: ExprLike, value: ExprLike) -> CaseBuilder:
        return CaseBuilder(self._branches + [(_e(cond), _e(value))])

    def otherwise(self, value: ExprLike) -> Expr:
        return _case(self._branches, _e(value))

    def end(self) -> Expr:
        """The CASE without ELSE (NULL when no branch matches)."""
        return _case(self._branches, None)


def _case(branches: list[tuple[Expr, Expr]], otherwise: Expr | None) -> Expr:
    args: list[Expr] = []
    for c, v in branches:
        args += [c, v]
    if otherwise is not None:
        args.append(otherwise)
    return Expr("case", args, n=len(branches), has_else=otherwise is not None)


def when(cond: ExprLike, value: ExprLike) -> CaseBuilder:
    """Start a CASE WHEN (any number of branches, optional ELSE)."""
    return CaseBuilder([(_e(cond), _e(value))])


def if_(cond: ExprLike, then: ExprLike, otherwise: ExprLike) -> Expr:
    """Spark's ``if(c, a, b)``: a CASE with one branch and an ELSE."""
    return when(cond, then).otherwise(otherwise)


def coalesce(*args: ExprLike) -> Expr:
    if not args:
        raise ExpressionTypeError("coalesce() needs at least one argument")
    return Expr("coalesce", tuple(_e(a) for a in args))


def year(e: ExprLike) -> Expr:
    return Expr("year", (_e(e),))


def month(e: ExprLike) -> Expr:
    return Expr("month", (_e(e),))


def dayofmonth(e: ExprLike) -> Expr:
    return Expr("day", (_e(e),))


def date_add(d: ExprLike, days: ExprLike) -> Expr:
    return Expr("date_add", (_e(d), _e(days)))


def date_sub(d: ExprLike, days: ExprLike) -> Expr:
    return Expr("date_sub", (_e(d), _e(days)))


def datediff(end: ExprLike, start: ExprLike) -> Expr:
    return Expr("datediff", (_e(end), _e(start)))


def abs(e: ExprLike) -> Expr:
    return Expr("abs", (_e(e),))


def round(e: ExprLike, scale: int = 0) -> Expr:
    """Spark's ``round(x, d)`` (HALF_UP)."""
    return Expr("round", (_e(e),), d=int(scale))


def unscaled_value(e: ExprLike) -> Expr:
    """Catalyst's ``UnscaledValue`` (from the DecimalAggregates rule)."""
    return Expr("unscaled", (_e(e),))


def make_decimal(e: ExprLike, precision: int, scale: int) -> Expr:
    """Catalyst's ``MakeDecimal(e, p, s)`` (NULL on overflow)."""
    return Expr("make_decimal", (_e(e),), to=IrType.decimal(precision, scale))


def normalize_nan_and_zero(e: ExprLike) -> Expr:
    """Catalyst's ``NormalizeNaNAndZero``: -0.0 -> 0.0, NaN -> one NaN."""
    return Expr("normalize", (_e(e),))

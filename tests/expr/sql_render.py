"""Render a teespark.ir Expr (untyped) as Spark SQL text, so the same
expression can be evaluated by Spark SQL itself as the reference. Spark does
its own type coercion on the SQL, independently of teespark.ir's."""
from __future__ import annotations

import datetime as dt
import decimal
import math
import struct

from teespark.ir.compile import encode_value, infer_literal_type
from teespark.ir.expr import Expr

_BIN = {"add": "+", "sub": "-", "mul": "*", "div": "/", "idiv": "DIV", "mod": "%",
        "eq": "=", "eq_ns": "<=>", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
        "and": "AND", "or": "OR"}
_FUN = {"year": "year", "month": "month", "day": "dayofmonth", "date_add": "date_add",
        "date_sub": "date_sub", "datediff": "datediff", "abs": "abs",
        "coalesce": "coalesce"}


def sql_string(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _sql_type(t) -> str:
    return t.spark_sql()


def _literal(v, t) -> str:
    if v is None:
        return "NULL" if t is None else f"CAST(NULL AS {_sql_type(t)})"
    if t is None:
        t = infer_literal_type(v)
    k = t.kind
    if k == "bool":
        return "TRUE" if v else "FALSE"
    if k == "int32":
        return f"CAST({int(v)} AS INT)"
    if k == "int64":
        return f"CAST({int(v)} AS BIGINT)"
    if k == "float64":
        f = float(v)
        if math.isnan(f):
            return "CAST('NaN' AS DOUBLE)"
        if math.isinf(f):
            return f"CAST('{'-' if f < 0 else ''}Infinity' AS DOUBLE)"
        bits = struct.unpack("<q", struct.pack("<d", f))[0]
        return f"CAST({f!r} AS DOUBLE)" if bits != -(1 << 63) else "CAST('-0.0' AS DOUBLE)"
    if k == "decimal":
        d = decimal.Decimal(v).quantize(decimal.Decimal(1).scaleb(-t.scale),
                                        context=decimal.Context(prec=200))
        return f"CAST('{d}' AS DECIMAL({t.precision},{t.scale}))"
    if k == "string":
        return sql_string(v)
    if k == "date":
        days = v if isinstance(v, int) else (v - dt.date(1970, 1, 1)).days
        return f"date_from_unix_date({days})"
    if k == "timestamp":
        us = struct.unpack("<q", encode_value(v, t))[0]
        return f"timestamp_micros({us})"
    raise AssertionError(k)


def render(e: Expr) -> str:
    op, a = e.op, e.args
    if op == "col":
        return f"`{e.params['name']}`"
    if op == "lit":
        return _literal(e.params["value"], e.params.get("type"))
    if op in _BIN:
        return f"({render(a[0])} {_BIN[op]} {render(a[1])})"
    if op == "neg":
        return f"(- {render(a[0])})"
    if op == "not":
        return f"(NOT {render(a[0])})"
    if op == "is_null":
        return f"({render(a[0])} IS NULL)"
    if op == "is_not_null":
        return f"({render(a[0])} IS NOT NULL)"
    if op in _FUN:
        return f"{_FUN[op]}({', '.join(render(x) for x in a)})"
    if op == "round":
        return f"round({render(a[0])}, {e.params['d']})"
    if op == "case":
        n = e.params["n"]
        parts = ["CASE"]
        for i in range(n):
            parts.append(f"WHEN {render(a[2 * i])} THEN {render(a[2 * i + 1])}")
        if e.params["has_else"]:
            parts.append(f"ELSE {render(a[2 * n])}")
        parts.append("END")
        return "(" + " ".join(parts) + ")"
    if op == "in":
        return f"({render(a[0])} IN ({', '.join(render(x) for x in a[1:])}))"
    if op == "like":
        esc = e.params["escape"]
        tail = "" if esc == "\\" else f" ESCAPE {sql_string(esc)}"
        return f"({render(a[0])} LIKE {sql_string(e.params['pattern'])}{tail})"
    if op == "like_tokens":
        return f"{e.params['kind']}({render(a[0])}, {sql_string(e.params['text'])})"
    if op == "substr":
        ln = e.params["length"]
        return (f"substring({render(a[0])}, {e.params['pos']}"
                f"{'' if ln is None else ', ' + str(ln)})")
    if op == "cast":
        return f"CAST({render(a[0])} AS {_sql_type(e.params['to'])})"
    raise AssertionError(f"no SQL for {op}")

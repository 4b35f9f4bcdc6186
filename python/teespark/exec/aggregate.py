"""GROUP BY requests: the key and aggregate lists, the raw layout of the
kernel's output row (ops/op_aggregate.h) and the projection to the result
schema (group columns, then one column per aggregate)."""

from __future__ import annotations

from collections.abc import Sequence

from teespark.format.schema import ColumnLayout, Schema
from teespark.ir import col
from teespark.tee import constants as c
from teespark.tee.operators import OpAgg, OpKey, OpProj

from teespark.exec._common import RawLayout, key_type, op_key, schema_of_columns
from teespark.exec.filter_project import projection

_FN = {"count_star": c.TS_AGG_COUNT_STAR, "count": c.TS_AGG_COUNT, "sum": c.TS_AGG_SUM,
       "min": c.TS_AGG_MIN, "max": c.TS_AGG_MAX, "avg": c.TS_AGG_AVG,
       "count_distinct": c.TS_AGG_COUNT_DISTINCT}


def _raw_type(fn: str, t: str | None) -> str:
    """Type of an aggregate's 8-byte result in the raw row."""
    if fn in ("count_star", "count", "count_distinct"):
        return "int64"
    if fn == "avg":
        return "float64"
    assert t is not None
    if t == "float64":
        return "float64"
    if t.startswith("decimal"):
        scale = int(t[:-1].split(",")[1])
        return f"decimal(18,{scale})"
    if t in ("int32", "int64"):
        return "int64"
    raise ValueError(f"{fn.upper()} of a {t} column is not supported by the driver")


def _out_type(fn: str, t: str | None) -> str:
    """Spark's result type (decimals capped at precision 18)."""
    if fn in ("min", "max"):
        return t if t is not None else "int64"
    if fn == "sum" and t is not None and t.startswith("decimal"):
        p, s = (int(x) for x in t[8:-1].split(","))
        return f"decimal({min(p + 10, 18)},{s})"
    return _raw_type(fn, t)


def plan_aggregate(schema: Schema, groups: Sequence[str],
                   aggs: Sequence[tuple[str, str, str | None]]
                   ) -> tuple[list[OpKey], list[OpAgg], list[OpProj], Schema]:
    """``aggs``: (output name, fn, input column or None for count_star)."""
    keys = [op_key(schema, g) for g in groups]
    specs, raw_cols = [], []
    rs = schema.row_size
    base = (rs + 7) // 8 * 8
    n = len(aggs)
    null0 = base + 8 * n
    raw_size = null0 + (n + 7) // 8 * 8
    out_types = []
    for j, (name, fn, cname) in enumerate(aggs):
        if fn not in _FN:
            raise ValueError(f"unknown aggregate {fn!r}")
        lay = schema.column(cname) if cname is not None else None
        t = lay.type if lay is not None else None
        if fn == "count_star":
            specs.append(OpAgg(c.TS_AGG_COUNT_STAR))
        else:
            assert lay is not None
            kt, kw = key_type(lay.type)
            if fn != "count_distinct" and kt == c.TS_KEY_BYTES:
                raise ValueError(f"{fn.upper()} of a string column is not supported")
            specs.append(OpAgg(_FN[fn], kt, lay.offset, kw, lay.nullable, lay.index // 8,
                               lay.index % 8))
        raw_t = _raw_type(fn, t)
        raw_cols.append(ColumnLayout(8 * (null0 + j), f"__agg{j}", raw_t,
                                     fn not in ("count_star", "count", "count_distinct"),
                                     base + 8 * j, 8))
        out_types.append((name, _out_type(fn, t), raw_t))
    raw = RawLayout([schema.column(g) for g in groups] + raw_cols, raw_size)
    exprs = [(g, col(g)) for g in groups]
    nullable = [schema.column(g).nullable for g in groups]
    for j, (name, ot, rt) in enumerate(out_types):
        e = col(f"__agg{j}")
        exprs.append((name, e if ot == rt else e.cast(ot)))
        nullable.append(raw_cols[j].nullable)
    projs, out = projection(exprs, raw, nullable)
    return keys, specs, projs, out


__all__ = ["plan_aggregate", "schema_of_columns"]

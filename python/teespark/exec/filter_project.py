"""FILTER and PROJECT requests (and the projections other operators end with)."""

from __future__ import annotations

from collections.abc import Sequence

from teespark.format.schema import Schema
from teespark.ir import Expr, compile_expr
from teespark.tee import constants as c
from teespark.tee.operators import OpProj

from teespark.exec._common import RawLayout, schema_of_columns


def compile_predicate(pred: Expr, layout: Schema | RawLayout) -> bytes:
    """A boolean program over rows of ``layout``."""
    prog = compile_expr(pred, layout)
    if str(prog.result_type) != "bool":
        raise TypeError(f"a predicate must be boolean, got {prog.result_type}")
    return prog.data


def projection(exprs: Sequence[tuple[str, Expr]], layout: Schema | RawLayout,
               nullable: Sequence[bool] | None = None) -> tuple[list[OpProj], Schema]:
    """Compile ``(name, expr)`` pairs over ``layout`` into projection entries
    and the output schema they write (every column nullable unless
    ``nullable`` says otherwise)."""
    progs = [compile_expr(e, layout) for _n, e in exprs]
    flags = list(nullable) if nullable is not None else [True] * len(exprs)
    out = schema_of_columns((n, str(p.result_type), f)
                            for (n, _e), p, f in zip(exprs, progs, flags))
    projs = []
    for lay, p in zip(out.layout(), progs):
        projs.append(OpProj(p.data, lay.offset,
                            lay.index if lay.nullable else c.TS_OP_NOT_NULLABLE))
    return projs, out


def identity_projection(src: Schema | RawLayout, out: Schema) -> list[OpProj]:
    """Copy every column of ``out`` by name from rows of ``src``."""
    from teespark.ir import col
    projs = []
    for lay in out.layout():
        prog = compile_expr(col(lay.name), src)
        projs.append(OpProj(prog.data, lay.offset,
                            lay.index if lay.nullable else c.TS_OP_NOT_NULLABLE))
    return projs

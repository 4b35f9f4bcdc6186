"""Join requests: key pairs, the raw joined row ``[left | right]`` as a
layout for residuals, and the projection to ``left columns + right
columns`` (right columns nullable for LEFT OUTER)."""

from __future__ import annotations

from collections.abc import Sequence

from teespark.format.schema import ColumnLayout, Schema
from teespark.ir import Expr
from teespark.tee import constants as c
from teespark.tee.operators import OpKey, OpProj

from teespark.exec._common import RawLayout, op_key, schema_of_columns, shifted
from teespark.exec.filter_project import compile_predicate, identity_projection

KINDS = {"inner": c.TS_JOIN_INNER, "left_outer": c.TS_JOIN_LEFT_OUTER,
         "left": c.TS_JOIN_LEFT_OUTER, "left_semi": c.TS_JOIN_LEFT_SEMI,
         "semi": c.TS_JOIN_LEFT_SEMI, "left_anti": c.TS_JOIN_LEFT_ANTI,
         "anti": c.TS_JOIN_LEFT_ANTI}


def plan_join(left: Schema, right: Schema, kind: str, on: Sequence[tuple[str, str]],
              residual: Expr | None
              ) -> tuple[int, list[OpKey], list[OpKey], bytes | None, list[OpProj], Schema, int]:
    """Returns (kind, left keys, right keys, residual program, projections,
    output schema, right_null_bits)."""
    k = KINDS[kind]
    lk = [op_key(left, a) for a, _b in on]
    rk = [op_key(right, b) for _a, b in on]
    for (a, b), x, y in zip(on, lk, rk):
        if (x.type, x.width) != (y.type, y.width):
            raise TypeError(f"join keys {a} and {b} have different types")
    outer_kind = k == c.TS_JOIN_LEFT_OUTER
    right_cols = shifted(right, left.row_size)
    if outer_kind:  # unmatched rows get every right NULL bit set by the TA
        right_cols = [ColumnLayout(x.index, x.name, x.type, True, x.offset, x.width)
                      for x in right_cols]
    raw = RawLayout(shifted(left, 0) + right_cols, left.row_size + right.row_size)
    pred = compile_predicate(residual, raw) if residual is not None else None
    if k in (c.TS_JOIN_LEFT_SEMI, c.TS_JOIN_LEFT_ANTI):
        return k, lk, rk, pred, [], left, 0
    outer = k == c.TS_JOIN_LEFT_OUTER
    out = schema_of_columns([(x.name, x.type, x.nullable) for x in left] +
                            [(x.name, x.type, x.nullable or outer) for x in right])
    projs = identity_projection(raw, out)
    return k, lk, rk, pred, projs, out, len(right) if outer else 0

"""Padded output (``pad_rows``) of the larger-than-heap operators.

An operator whose output size m depends on the data (filter, distinct,
GROUP BY, PK-FK inner join, semi and anti joins) builds its flagged table
F (one ``[flag word | row]`` per candidate, m hidden) as usual and then,
instead of revealing m and keeping m rows, ends with :func:`padded_tail`:

1. external sort of F, real rows first;
2. if F has more than B = ``pad_rows`` rows: a MAP numbers the rows and a
   second MAP flags the row at position B if it is real, revealing only
   whether m > B (then :class:`OperatorPadOverflowError`, as in-heap);
3. LIMIT B (when F has fewer rows than B, GENERATE adds all-zero dummies);
4. a MAP whose predicate is the flag zeroes every dummy row, and a final
   MAP projects to the padded format ``[output row | is_real byte]`` under
   the padded schema hash (docs/FORMAT.md appendix A).

The call sequence depends on n, B and the request only. Operators whose
output size is public anyway (project, sort, limit, union all, the left
outer join with unique right keys) are padded by :func:`pad_public`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from teespark.exec._common import RawLayout, shifted
from teespark.exec.filter_project import compile_predicate, identity_projection
from teespark.exec.large_ops import FLAG_WORD, Final, LargePlan, Part
from teespark.format.schema import ColumnLayout, Schema
from teespark.ir import col, compile_expr, lit
from teespark.tee import SortKey
from teespark.tee import constants as c
from teespark.tee.operators import OpProj
from teespark.tee.teespark_ta import OperatorPadOverflowError

__all__ = ["pad_public", "padded_tail"]

_REAL = ColumnLayout(0, "__real", "bool", False, 0, 1)


def _check_overflow(lp: LargePlan, s: Part, pad: int) -> None:
    """Reveal only whether the row at position ``pad`` of real-first ``s``
    is real, i.e. whether the result has more than ``pad`` rows."""
    numbered, _ = lp.map(s, s.row_size + 8, seq_offset=s.row_size)
    lay = RawLayout([_REAL, ColumnLayout(0, "__seq", "int64", False, s.row_size, 8)],
                    s.row_size + 8)
    pred = compile_predicate(col("__real") & (col("__seq") == lit(pad)), lay)
    keep = OpProj(compile_expr(col("__real"), lay).data, FLAG_WORD, c.TS_OP_NOT_NULLABLE)
    _, over = lp.map(numbered, FLAG_WORD + 1, predicate=pred, flag=True, reveal=True,
                     projections=[keep])
    if over:
        raise OperatorPadOverflowError(
            f"the result has more rows than pad_rows={pad}; raise pad_rows",
            code=c.TS_ERROR_PAD_OVERFLOW, command="STREAM")


def padded_tail(lp: LargePlan, f: Part, pad: int, *, then: Sequence[SortKey],
                cols: Sequence[ColumnLayout], make_projs: Callable[[RawLayout], list[OpProj]],
                out: Schema, final: Final, sort: bool = True) -> Part:
    """F (``[flag word | row]``, columns ``cols`` in F's coordinates) to
    ``pad`` rows of ``[out row | is_real]``. ``make_projs`` compiles the
    projection to ``out`` over the layout it is given (F's row behind one
    more flag word, ``__real`` at byte 0)."""
    s = lp.sort(f, [SortKey("uint", 0, 1, descending=True), *then]) if sort else f
    if s.rows > pad:
        _check_overflow(lp, s, pad)
    top = lp.limit(s, min(pad, s.rows))
    if pad > s.rows:
        # All-zero dummies (flag byte 0): GENERATE's annotation lands in
        # bytes that are cut off again.
        w = s.row_size
        extra = lp.generate((pad - s.rows + 1) // 2, row_size=w + c.TS_STREAM_ANN_SIZE + 1,
                            side_offset=w + c.TS_STREAM_ANN_SIZE, aux_offset=w)
        both = lp.widen(top, extra, out_row_size=w + c.TS_STREAM_ANN_SIZE + 1)
        top = lp.limit(both, pad, row_size=w)
    zl = RawLayout([_REAL], top.row_size)
    zeroed, _ = lp.map(top, FLAG_WORD + top.row_size,
                       predicate=compile_predicate(col("__real"), zl), flag=True,
                       copy_offset=FLAG_WORD)
    lay = RawLayout([_REAL] + shifted(RawLayout(list(cols), f.row_size), FLAG_WORD),
                    zeroed.row_size)
    projs = make_projs(lay) + [OpProj(compile_expr(col("__real"), lay).data, out.row_size,
                                      c.TS_OP_NOT_NULLABLE)]
    return lp.map(zeroed, out.row_size + 1, projections=projs, final=final)[0]


def pad_public(lp: LargePlan, r: Part, pad: int, out: Schema, final: Final) -> Part:
    """Pad a result whose row count is public (every row real)."""
    if r.rows > pad:
        raise OperatorPadOverflowError(
            f"the result has {r.rows} rows, more than pad_rows={pad}; raise pad_rows",
            code=c.TS_ERROR_PAD_OVERFLOW, command="STREAM")
    f, _ = lp.map(r, FLAG_WORD + r.row_size, flag=True, copy_offset=FLAG_WORD)
    return padded_tail(lp, f, pad, then=(), cols=shifted(out, FLAG_WORD),
                       make_projs=lambda lay: identity_projection(lay, out), out=out,
                       final=final, sort=False)

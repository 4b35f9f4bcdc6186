"""The driver's operators over tables larger than the TA heap, composed from
:class:`teespark.exec.large_ops.LargePlan` building blocks.

Each function takes the input table(s) as :class:`Part`, the compiled
pieces of the in-heap request (keys, aggregates, programs) and a
:class:`Final` naming the result table, and returns the result as a
:class:`Part` in the in-heap operator's output layout. What each reveals is
in docs/LEAKAGE.md ("Larger than the heap"): the inputs' shapes, the
request, and the output row count the in-heap operator reveals too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from teespark.exec._common import RawLayout, shifted
from teespark.exec.aggregate import plan_aggregate
from teespark.exec.filter_project import compile_predicate, identity_projection
from teespark.exec.large_padded import pad_public, padded_tail
from teespark.exec.large_ops import (
    FLAG_WORD,
    Final,
    LargePlan,
    Part,
    agg_out_row_size,
    sort_key,
    stream_agg,
    stream_key,
)
from teespark.format.schema import ColumnLayout, Schema
from teespark.ir import Expr, col, compile_expr, if_, null
from teespark.tee import SortKey
from teespark.tee import constants as c
from teespark.tee.operators import OpKey, OpProj
from teespark.tee.streaming_ta import StreamCopy, StreamKey

__all__ = ["JoinSide", "aggregate", "distinct", "filter_rows", "general_inner", "join", "limit",
           "normalize_keys", "pkfk_inner", "project", "semi_anti", "sort", "union_all"]

Layout = Schema | RawLayout


def _proj(expr: Expr, layout: Layout, out_offset: int, null_bit: int | None) -> OpProj:
    prog = compile_expr(expr, layout)
    return OpProj(prog.data, out_offset,
                  c.TS_OP_NOT_NULLABLE if null_bit is None else null_bit)


def _copy_row(layout: Layout, shift: int) -> list[OpProj]:
    """Projections copying every column of ``layout`` ``shift`` bytes in."""
    return [_proj(col(lay.name), layout, lay.offset + shift,
                  lay.index + 8 * shift if lay.nullable else None)
            for lay in layout.layout()]


@dataclass(frozen=True)
class Normalized:
    """A table of ``[prefix | row]`` rows and its keys in prefix coordinates."""

    part: Part
    prefix: int                 # bytes in front of each original row
    sort_keys: list[SortKey]    # order the sort needs (flag byte, value)
    group_keys: list[StreamKey]  # equality the streaming steps need
    join_keys: list[StreamKey]   # equality where NULL never matches


def normalize_keys(lp: LargePlan, p: Part, layout: Layout,
                   keys: Sequence[tuple[str, OpKey]], *,
                   flags: Sequence[bool] | None = None) -> Normalized:
    """Put a copy of each key (zero bytes when NULL) in front of the rows,
    preceded by an order byte for the keys that need one (``flags``;
    default: the nullable ones), in one STREAM MAP, so that raw-byte sorts
    order NULLs as Spark does and group them together. Without any flag the
    table is returned as is."""
    need = [k.nullable for _n, k in keys] if flags is None else list(flags)
    if not any(need):
        return Normalized(p, 0, [sort_key(k) for _n, k in keys],
                          [stream_key(k) for _n, k in keys],
                          [stream_key(k) for _n, k in keys])
    nk = len(keys)
    off = (nk + 7) // 8          # scratch NULL bits of the value copies
    projs: list[OpProj] = []
    sks: list[SortKey] = []
    gks: list[StreamKey] = []
    jks: list[StreamKey] = []
    for i, ((name, k), flagged) in enumerate(zip(keys, need)):
        nulls_last = not k.nulls_first
        vo = off + 1 if flagged else off
        if flagged:
            flag = col(name).is_null() if nulls_last else col(name).is_not_null()
            projs.append(_proj(flag, layout, off, None))
            sks.append(SortKey("uint", off, 1))
            gks.append(StreamKey("uint", off, 1))
        projs.append(_proj(col(name), layout, vo, i if k.nullable else None))
        sks.append(SortKey(k.type, vo, k.width, descending=k.descending))
        gks.append(StreamKey(k.type, vo, k.width))
        # JOIN: a NULL key never matches: its flag byte is the NULL flag.
        jks.append(StreamKey(k.type, vo, k.width, nullable=flagged and nulls_last,
                             null_offset=off if flagged else 0, null_bit=0))
        off = vo + k.width
    prefix = (off + 7) & ~7
    projs += _copy_row(layout, prefix)
    out, _ = lp.map(p, prefix + p.row_size, projections=projs)
    return Normalized(out, prefix, sks, gks, jks)


def _join_keys_nulls_last(keys: Sequence[tuple[str, OpKey]]) -> list[tuple[str, OpKey]]:
    return [(n, OpKey(k.type, k.offset, k.width, False, k.nullable, k.null_offset,
                      k.null_bit, False)) for n, k in keys]


# -- one-input operators --------------------------------------------------


def filter_rows(lp: LargePlan, p: Part, predicate: bytes, final: Final | None, *,
                pad: int = 0, layout: Layout | None = None, out: Schema | None = None
                ) -> Part:
    """Flag each row (MAP with its position), then compact, keeping order
    (``pad``: to ``pad`` rows of ``out``, whose columns ``layout`` has)."""
    rs = p.row_size
    m_, m = lp.map(p, 16 + rs, predicate=predicate, flag=True, seq_offset=8,
                   copy_offset=16, reveal=not pad)
    if pad:
        assert layout is not None and out is not None and final is not None
        return padded_tail(lp, m_, pad, then=[SortKey("uint", 8, 8)],
                           cols=shifted(layout, 16),
                           make_projs=lambda lay: identity_projection(lay, out), out=out,
                           final=final)
    return lp.compact(m_, m, skip=16, row_size=rs, then=[SortKey("uint", 8, 8)],
                      final=final)


def project(lp: LargePlan, p: Part, projs: Sequence[OpProj], out_row_size: int,
            final: Final | None) -> Part:
    return lp.map(p, out_row_size, projections=projs, final=final)[0]


def limit(lp: LargePlan, p: Part, n: int, final: Final | None) -> Part:
    return lp.limit(p, n, final=final)


def sort(lp: LargePlan, p: Part, layout: Layout, keys: Sequence[tuple[str, OpKey]],
         top: int, final: Final | None) -> Part:
    """ORDER BY (NULLS FIRST / LAST as the keys say), optionally LIMIT top."""
    nz = normalize_keys(lp, p, layout, keys)
    if nz.prefix == 0 and not top:
        return lp.sort(p, nz.sort_keys, final=final)
    s = lp.sort(nz.part, nz.sort_keys)
    return lp.limit(s, top or p.rows, skip=nz.prefix, row_size=p.row_size, final=final)


def union_all(lp: LargePlan, a: Part, b: Part, final: Final | None) -> Part:
    if a.row_size != b.row_size:
        raise ValueError("UNION ALL: the inputs' rows differ in size")
    return lp.widen(a, b, out_row_size=a.row_size, final=final)


def distinct(lp: LargePlan, p: Part, layout: Schema, keys: Sequence[tuple[str, OpKey]],
             final: Final, *, pad: int = 0) -> Part:
    """One row per distinct key combination (the group's last row)."""
    nz = normalize_keys(lp, p, layout, keys)
    s = lp.sort(nz.part, nz.sort_keys)
    a, m = lp.aggregate(s, nz.group_keys, [], reveal=not pad)
    then = [SortKey(k.type, FLAG_WORD + k.offset, k.width, descending=k.descending)
            for k in nz.sort_keys][:c.TS_MAX_SORT_KEYS - 1]
    if pad:
        return padded_tail(lp, a, pad, then=then, cols=shifted(layout, FLAG_WORD + nz.prefix),
                           make_projs=lambda lay: identity_projection(lay, layout),
                           out=layout, final=final)
    return lp.compact(a, m, skip=FLAG_WORD + nz.prefix, row_size=p.row_size, then=then,
                      final=final)


def aggregate(lp: LargePlan, p: Part, schema: Schema, groups: Sequence[str],
              aggs: Sequence[tuple[str, str, str | None]], keys: Sequence[OpKey],
              final: Final, out_row_size: int, *, pad: int = 0) -> Part:
    """GROUP BY (or a global aggregate) with at most one COUNT(DISTINCT) column."""
    nz = normalize_keys(lp, p, schema, list(zip(groups, keys)))
    raw = RawLayout(shifted(schema, nz.prefix), nz.prefix + p.row_size)
    _k, specs, projs, out = plan_aggregate(raw, groups, aggs)  # type: ignore[arg-type]
    if out.row_size != out_row_size:
        raise AssertionError("large aggregate: projection differs from the in-heap one")
    dcols = {cn for _n, fn, cn in aggs if fn == "count_distinct"}
    if len(dcols) > 1:
        raise ValueError("larger-than-heap aggregate: COUNT(DISTINCT) of one column only")
    order = list(nz.sort_keys)
    for cn in dcols:
        lay = raw.column(cn)  # type: ignore[arg-type]
        d = next(s for s in specs if s.fn == c.TS_AGG_COUNT_DISTINCT)
        order.append(SortKey(d.type, lay.offset, d.width))
    s = lp.sort(nz.part, order) if order else nz.part
    a, m = lp.aggregate(s, nz.group_keys, [stream_agg(x) for x in specs], reveal=not pad)
    orow = agg_out_row_size(s.row_size, len(specs))
    then = [SortKey(k.type, FLAG_WORD + k.offset, k.width)
            for k in nz.sort_keys][:c.TS_MAX_SORT_KEYS - 1]
    if pad:
        # The raw row sits 16 bytes in (two flag words); 16 keeps the
        # aggregate layout's 8-byte alignment, so plan_aggregate applies.
        sh = 2 * FLAG_WORD + nz.prefix
        return padded_tail(lp, a, pad, then=then, cols=(),
                           make_projs=lambda _lay: plan_aggregate(
                               RawLayout(shifted(schema, sh), sh + p.row_size),  # type: ignore[arg-type]
                               groups, aggs)[2], out=out, final=final)
    r = lp.compact(a, m, skip=FLAG_WORD, row_size=orow, then=then)
    return lp.map(r, out_row_size, projections=projs, final=final)[0]


# -- joins ----------------------------------------------------------------


@dataclass(frozen=True)
class JoinSide:
    part: Part
    schema: Schema
    keys: list[tuple[str, OpKey]]


def _union(lp: LargePlan, lookup: JoinSide, probe: JoinSide, *, ann: int = 0
           ) -> tuple[Part, list[StreamKey], list[SortKey], int, int, int, int]:
    """WIDEN [side word | join keys | ann zero bytes | lookup row | probe
    row] (rows normalised first when a key is nullable). Returns the union,
    its keys (NULL never matching) and sort order, the lookup and probe row
    offsets and the prefix each side's rows carry. The ``ann`` bytes start
    at the lookup row offset minus ``ann``."""
    flags = [a.nullable or b.nullable for (_x, a), (_y, b) in zip(lookup.keys, probe.keys)]
    nullable = any(flags)
    lk = _join_keys_nulls_last(lookup.keys)
    pk = _join_keys_nulls_last(probe.keys)
    nl = normalize_keys(lp, lookup.part, lookup.schema, lk, flags=flags)
    np_ = normalize_keys(lp, probe.part, probe.schema, pk, flags=flags)
    copies: list[StreamCopy] = []
    if nullable:
        if nl.prefix != np_.prefix:
            raise AssertionError("join sides normalised to different prefixes")
        copies.append(StreamCopy(0, 0, FLAG_WORD, nl.prefix))
        ukeys = [StreamKey(k.type, FLAG_WORD + k.offset, k.width, k.nullable,
                           FLAG_WORD + k.null_offset if k.nullable else 0, k.null_bit)
                 for k in nl.join_keys]
        korder = [SortKey(k.type, FLAG_WORD + k.offset, k.width) for k in nl.sort_keys]
        area = nl.prefix
    else:
        ukeys, korder, o = [], [], FLAG_WORD
        for (_a, x), (_b, y) in zip(lk, pk):
            if (x.type, x.width) != (y.type, y.width):
                raise TypeError("join keys differ in type or width")
            copies.append(StreamCopy(x.offset, y.offset, o, x.width))
            ukeys.append(StreamKey(x.type, o, x.width))
            korder.append(SortKey(x.type, o, x.width))
            o += x.width
        area = o - FLAG_WORD
    if len(copies) > c.TS_STREAM_MAX_COPIES:
        raise ValueError("larger-than-heap join: at most 8 key columns")
    l_off = ((FLAG_WORD + area + 7) & ~7) + ann
    p_off = l_off + nl.part.row_size
    u = lp.widen(nl.part, np_.part, out_row_size=p_off + np_.part.row_size,
                 pk_offset=l_off, fk_offset=p_off, side_offset=0, copies=copies)
    return u, ukeys, korder + [SortKey("uint", 0, 1)], l_off, p_off, nl.prefix, np_.prefix


def semi_anti(lp: LargePlan, left: JoinSide, right: JoinSide, anti: bool,
              final: Final | None, *, pad: int = 0) -> Part:
    """LEFT SEMI / LEFT ANTI join: the left rows with (without) a match."""
    u, keys, order, _lo, po, _pl, pp = _union(lp, right, left)
    s = lp.sort(u, order)
    j, m = lp.join(s, keys, variant=c.TS_STREAM_JOIN_ANTI if anti else c.TS_STREAM_JOIN_SEMI,
                   side_offset=0, reveal=not pad)
    if pad:
        assert final is not None
        return padded_tail(lp, j, pad, then=(),
                           cols=shifted(left.schema, FLAG_WORD + po + pp),
                           make_projs=lambda lay: identity_projection(lay, left.schema),
                           out=left.schema, final=final)
    return lp.compact(j, m, skip=FLAG_WORD + po + pp, row_size=left.part.row_size,
                      final=final)


def _pair_layout(first: JoinSide, first_at: int, second: JoinSide, second_at: int,
                 second_nullable: bool = False) -> list[ColumnLayout]:
    cols = shifted(first.schema, first_at)
    cols2 = shifted(second.schema, second_at)
    if second_nullable:
        cols2 = [ColumnLayout(x.index, x.name, x.type, True, x.offset, x.width)
                 for x in cols2]
    return cols + cols2


def pkfk_inner_padded(lp: LargePlan, pk: JoinSide, fk: JoinSide, residual: Expr | None,
                      out: Schema, pad: int, final: Final) -> Part:
    """PK-FK inner join padded to ``pad`` rows: m stays hidden, also with a
    residual (its predicate ANDed with the join's flag in one MAP)."""
    u, keys, order, lo, po, pl, pp = _union(lp, pk, fk)
    s = lp.sort(u, order)
    j, _ = lp.join(s, keys, variant=c.TS_STREAM_JOIN_INNER, side_offset=0, pk_offset=lo,
                   pk_size=po - lo, reveal=False)
    cols = _pair_layout(pk, FLAG_WORD + lo + pl, fk, FLAG_WORD + po + pp)
    if residual is not None:
        lay = RawLayout([ColumnLayout(0, "__real", "bool", False, 0, 1)] + cols, j.row_size)
        pred = compile_predicate(col("__real") & residual, lay)
        j, _ = lp.map(j, FLAG_WORD + j.row_size, predicate=pred, flag=True,
                      copy_offset=FLAG_WORD)
        cols = shifted(RawLayout(cols, j.row_size), FLAG_WORD)
    return padded_tail(lp, j, pad, then=(), cols=cols,
                       make_projs=lambda lay: identity_projection(lay, out), out=out,
                       final=final)


def pkfk_inner(lp: LargePlan, pk: JoinSide, fk: JoinSide) -> tuple[Part, RawLayout]:
    """Rows ``[PK row | FK row]`` (each behind its normalising prefix) and
    their layout."""
    u, keys, order, lo, po, pl, pp = _union(lp, pk, fk)
    s = lp.sort(u, order)
    j, m = lp.join(s, keys, variant=c.TS_STREAM_JOIN_INNER, side_offset=0, pk_offset=lo,
                   pk_size=po - lo)
    rs = u.row_size - lo
    r = lp.compact(j, m, skip=FLAG_WORD + lo, row_size=rs)
    raw = RawLayout(_pair_layout(pk, pl, fk, (po - lo) + pp), rs)
    return r, raw


def general_inner(lp: LargePlan, left: JoinSide, right: JoinSide) -> tuple[Part, RawLayout]:
    """Many-to-many inner equi-join (Krastnikov et al.'s expansion, each
    step a STREAM pass or an external sort; teespark_ta.h, GROUP_COUNT):
    rows ``[left row | right row]`` (behind their normalising prefixes)."""
    A = c.TS_STREAM_ANN_SIZE
    u, keys, order, lo, po, pl, pr = _union(lp, left, right, ann=A)
    a = lo - A                                  # the annotation's offset
    s1 = lp.sort(u, order)                      # (keys, side)
    g1, m = lp.group_count(s1, keys, variant=c.TS_STREAM_GC_FORWARD, side_offset=0,
                           aux_offset=a)
    s2 = lp.sort(g1, order[:-1] + [SortKey("uint", 0, 1, descending=True),
                                   SortKey("uint", a, 8, descending=True)])
    g2, _ = lp.group_count(s2, keys, variant=c.TS_STREAM_GC_SECOND, side_offset=0,
                           aux_offset=a)
    gen = lp.generate(m, row_size=u.row_size, side_offset=0, aux_offset=a)
    w = lp.widen(g2, gen, out_row_size=u.row_size)
    s3 = lp.sort(w, [SortKey("uint", a + 49, 1), SortKey("uint", 0, 1),
                     SortKey("uint", a + 32, 8), SortKey("uint", a + 48, 1)])
    f = lp.fill(s3, side_offset=0, aux_offset=a)
    s4 = lp.sort(f, [SortKey("uint", 0, 1, descending=True),
                     SortKey("uint", FLAG_WORD + a + 32, 8), SortKey("uint", FLAG_WORD, 1)])
    pairs = lp.limit(s4, 2 * m, skip=FLAG_WORD, row_size=u.row_size)
    j, m2 = lp.join(pairs, [StreamKey("uint", a + 32, 8)], variant=c.TS_STREAM_JOIN_INNER,
                    side_offset=0, pk_offset=lo, pk_size=po - lo)
    if m2 != m:
        raise RuntimeError(f"general join: {m2} aligned pairs, expected {m}")
    rs = u.row_size - lo
    r = lp.compact(j, m, skip=FLAG_WORD + lo, row_size=rs)
    raw = RawLayout(_pair_layout(left, pl, right, (po - lo) + pr), rs)
    return r, raw


def join(lp: LargePlan, left: JoinSide, right: JoinSide, kind: str, pk_side: str | None,
         residual: Expr | None, out: Schema, final: Final, *, pad: int = 0) -> Part:
    """Inner, left outer, left semi and left anti equi-joins; ``pk_side``
    (unique keys on that side) takes the cheaper PK-FK pipeline. ``pad``:
    PK-FK inner, semi and anti joins hide m; the left outer join with
    unique right keys has a public size (the left rows) and is padded to
    ``pad``; the others are refused by the driver."""
    if kind in ("left_semi", "semi", "left_anti", "anti"):
        return semi_anti(lp, left, right, kind in ("left_anti", "anti"), final, pad=pad)
    outer = kind in ("left_outer", "left")
    if pad and kind == "inner" and pk_side is not None:
        pk, fk = (left, right) if pk_side == "left" else (right, left)
        return pkfk_inner_padded(lp, pk, fk, residual, out, pad, final)
    if pad and not (outer and pk_side == "right"):
        raise ValueError("padded output of this join is in-heap only")
    if kind == "inner" or (outer and pk_side != "right"):
        if pk_side is None:
            r, raw = general_inner(lp, left, right)
        else:
            pk, fk = (left, right) if pk_side == "left" else (right, left)
            r, raw = pkfk_inner(lp, pk, fk)
        if residual is not None:
            r = filter_rows(lp, r, compile_predicate(residual, raw), None)
        inner = lp.map(r, out.row_size, projections=identity_projection(raw, out),
                       final=None if outer else final)[0]
        if not outer:
            return inner
        # LEFT OUTER with unique left keys or many-to-many: the inner rows
        # plus the left rows without a match, right columns NULL.
        lonely = semi_anti(lp, left, right, True, None)
        pad = lp.map(lonely, out.row_size, projections=_left_only(left.schema, out))[0]
        return lp.widen(inner, pad, out_row_size=out.row_size, final=final)
    assert outer and pk_side == "right"
    # LEFT OUTER with unique right keys: every left row once; flag byte 1
    # says whether it matched.
    u, keys, order, lo, po, pl, pp = _union(lp, right, left)
    s = lp.sort(u, order)
    j, _m = lp.join(s, keys, variant=c.TS_STREAM_JOIN_OUTER, side_offset=0, pk_offset=lo,
                    pk_size=po - lo)
    r = lp.compact(j, left.part.rows, skip=0, row_size=j.row_size)
    matched = ColumnLayout(0, "__matched", "bool", False, 1, 1)
    raw = RawLayout([matched] + _pair_layout(left, FLAG_WORD + po + pp, right,
                                             FLAG_WORD + lo + pl, True), j.row_size)
    projs = []
    left_names = {x.name.casefold() for x in left.schema}
    for lay in out.layout():
        e = col(lay.name)
        if lay.name.casefold() not in left_names:
            e = if_(col("__matched"), e, null(lay.type))
        projs.append(_proj(e, raw, lay.offset, lay.index if lay.nullable else None))
    if pad:
        return pad_public(lp, lp.map(r, out.row_size, projections=projs)[0], pad, out, final)
    return lp.map(r, out.row_size, projections=projs, final=final)[0]


def _left_only(left: Schema, out: Schema) -> list[OpProj]:
    """Projections to ``out`` from left rows: left columns copied, the
    right ones NULL."""
    names = {x.name.casefold() for x in left}
    projs = []
    for lay in out.layout():
        e = col(lay.name) if lay.name.casefold() in names else null(lay.type)
        projs.append(_proj(e, left, lay.offset, lay.index if lay.nullable else None))
    return projs



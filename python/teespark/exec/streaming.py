"""GROUP BY and PK-FK join over tables larger than the TA heap, by streaming.

Each operator is a fixed pipeline of TA commands whose sequence and sizes
depend only on the inputs' public shapes (docs/LEAKAGE.md, "Streaming
aggregate and join"):

``aggregate_large``
    external sort by the group keys -> STREAM AGGREGATE (one row per input
    row: the group's result on its last row, a dummy elsewhere) -> external
    sort by (real first, group keys) -> STREAM LIMIT m (m revealed) or, with
    ``reveal=False``, the padded table itself.

``join_pkfk_large``
    STREAM WIDEN (the union of the PK and FK tables, tagged with a side byte
    and the join key copied to one place) -> external sort by (key, side: PK
    first) -> STREAM JOIN_PKFK (one row per input row: the joined row on each
    matching FK row, a dummy elsewhere) -> external sort by (real first) ->
    STREAM LIMIT m, or the padded table with ``reveal=False``.

The TA heap holds one block (STREAM) or two runs (external sort) at a time,
so the table size is bounded by host memory only. Both are compositions of
the :class:`teespark.exec.large_ops.LargePlan` building blocks the driver's
larger-than-heap operators use (:mod:`teespark.exec.large_operators`), for
callers that hold raw key specs rather than schemas.

Output rows (``reveal=True``): aggregate rows in the layout of
ops/op_aggregate.h (representative row padded to 8 bytes | 8-byte results |
null bytes, padded to 8), in ascending group-key order; join rows
``[PK row | FK row]``. With ``reveal=False`` each row is prefixed by an
8-byte flag word (byte 0: 1 real, 0 dummy; dummy rows are all zero).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from teespark.exec.large_ops import FLAG_WORD, Final, LargePlan, Part, _r8, _rpb, \
    agg_out_row_size
from teespark.tee import SortKey, TeesparkTA
from teespark.tee import constants as c
from teespark.tee.descriptor import parse_table_descriptor
from teespark.tee.params import BytesLike
from teespark.tee.streaming_ta import StreamAgg, StreamCopy, StreamKey
from teespark.tee.teespark_ta import _key_type

__all__ = ["StreamAgg", "StreamKey", "StreamResult", "agg_out_row_size", "aggregate_large",
           "join_pkfk_large"]


@dataclass(frozen=True)
class StreamResult:
    """An operator's output table (registered in the TA session with the out slot).

    ``real_rows`` is the number of result rows m when revealed, else None
    (then every row carries the flag word and ``rows`` = the input rows).
    """

    descriptor: bytes
    blocks: bytes
    rows: int
    row_size: int
    real_rows: int | None


def _plan(ta: TeesparkTA, out_table_id: bytes, work_key_slot: int) -> LargePlan:
    """Intermediates under the work key, ids derived from the result's."""
    return LargePlan(ta, work_slot=work_key_slot,
                     job_id=hashlib.sha256(b"teespark/stream-step/" + out_table_id).digest())


def _schema(what: str, *parts: object) -> bytes:
    return hashlib.sha256(("teespark/stream/" + what + repr(parts)).encode()).digest()


def _input(blocks: BytesLike, descriptor: bytes, slot: int) -> Part:
    d = parse_table_descriptor(descriptor)
    return Part(descriptor, blocks, d.row_count, d.row_size, slot)  # type: ignore[arg-type]


def _result(lp: LargePlan, flagged: Part, m: int, *, reveal: bool, then: Sequence[SortKey],
            skip: int, row_size: int, final: Final) -> StreamResult:
    """Real rows first; then (reveal) the m rows' bytes [skip, +row_size)."""
    if not reveal:
        s = lp.sort(flagged, [SortKey("uint", 0, 1, descending=True), *then], final=final)
        return StreamResult(s.descriptor, s.blocks, s.rows, flagged.row_size, None)
    r = lp.compact(flagged, m, skip=skip, row_size=row_size, then=then, final=final)
    return StreamResult(r.descriptor, r.blocks, r.rows, row_size, m)


def aggregate_large(ta: TeesparkTA, table_blocks: BytesLike, descriptor: bytes,
                    keys: Sequence[StreamKey], aggs: Sequence[StreamAgg], *,
                    in_key_slot: int, work_key_slot: int, out_key_slot: int,
                    out_table_id: bytes, out_table_version: int = 1,
                    out_schema_hash: bytes | None = None, reveal: bool = True,
                    rows_per_block: int | None = None) -> StreamResult:
    """Obliviously GROUP BY a registered table of any size.

    Args:
        ta: an open TA session in which the table is registered with
            ``in_key_slot``.
        table_blocks, descriptor: the table's sealed blocks and descriptor.
        keys: 1..8 group key columns (NOT nullable: NULL keys are not
            supported by the streaming pipeline).
        aggs: up to 16 aggregates (COUNT(*), COUNT, SUM, MIN, MAX, AVG).
        in_key_slot: opens the input; work_key_slot seals intermediates;
            out_key_slot seals the result.
        reveal: True: reveal the group count m and return exactly m rows;
            False: return the padded table (one row per input row).

    Reveals: the input's shape, the key and aggregate lists, the sequence of
        TA calls (a function of these only) and m when ``reveal``.
    """
    if not 1 <= len(keys) <= c.TS_STREAM_MAX_KEYS:
        raise ValueError("aggregate_large: 1..8 group keys")
    if any(k.nullable for k in keys):
        raise ValueError("aggregate_large: nullable group keys are not supported")
    if any(a.fn == c.TS_AGG_COUNT_DISTINCT for a in aggs):
        raise ValueError("aggregate_large: COUNT(DISTINCT) is not supported")
    lp = _plan(ta, out_table_id, work_key_slot)
    t = _input(table_blocks, descriptor, in_key_slot)
    d = parse_table_descriptor(descriptor)
    s1 = lp.sort(t, [SortKey(k.type, k.offset, k.width) for k in keys])
    a, m = lp.aggregate(s1, keys, aggs, reveal=reveal)
    orow = agg_out_row_size(d.row_size, len(aggs))
    final = Final(out_key_slot, out_table_id, out_table_version,
                  out_schema_hash or _schema("agg-out", d.schema_hash, keys, aggs),
                  rows_per_block or _rpb(orow if reveal else a.row_size))
    return _result(lp, a, m, reveal=reveal,
                   then=[SortKey(k.type, FLAG_WORD + k.offset, k.width) for k in keys],
                   skip=FLAG_WORD, row_size=orow, final=final)


def join_pkfk_large(ta: TeesparkTA, pk_blocks: BytesLike, pk_descriptor: bytes,
                    fk_blocks: BytesLike, fk_descriptor: bytes,
                    pk_keys: Sequence[SortKey], fk_keys: Sequence[SortKey], *,
                    pk_key_slot: int, fk_key_slot: int, work_key_slot: int,
                    out_key_slot: int, out_table_id: bytes, out_table_version: int = 1,
                    out_schema_hash: bytes | None = None, reveal: bool = True,
                    rows_per_block: int | None = None) -> StreamResult:
    """Obliviously inner-join a PK table with an FK table of any size.

    Args:
        pk_blocks, pk_descriptor: the primary-key side (keys unique; a
            repeated key raises :class:`~teespark.errors.EnclaveError` with
            ``code`` TS_ERROR_PK_DUPLICATE), registered with ``pk_key_slot``.
        fk_blocks, fk_descriptor: the foreign-key side, registered with
            ``fk_key_slot``.
        pk_keys, fk_keys: the join key columns of each side (same count,
            types and widths; not nullable). ``descending`` is ignored.
        reveal: True: reveal the result row count m and return exactly m rows
            ``[PK row | FK row]``; False: the padded table (one row per input
            row of either side, flag word first).

    Reveals: both inputs' shapes, the key lists, the sequence of TA calls (a
        function of these only), whether a primary key repeats, and m when
        ``reveal``.
    """
    if not 1 <= len(pk_keys) == len(fk_keys) <= c.TS_STREAM_MAX_COPIES:
        raise ValueError("join_pkfk_large: 1..8 key columns on each side, as many")
    for i, (a, b) in enumerate(zip(pk_keys, fk_keys)):
        if _key_type("join_pkfk_large", i, a.type) != _key_type("join_pkfk_large", i, b.type) \
                or a.width != b.width:
            raise ValueError(f"join_pkfk_large: key {i} differs in type or width")
    lp = _plan(ta, out_table_id, work_key_slot)
    pk = _input(pk_blocks, pk_descriptor, pk_key_slot)
    fk = _input(fk_blocks, fk_descriptor, fk_key_slot)
    # Union row: [side byte, 7 zero | key columns | PK row | FK row].
    copies, off = [], FLAG_WORD
    for a, b in zip(pk_keys, fk_keys):
        copies.append(StreamCopy(a.offset, b.offset, off, a.width))
        off += a.width
    p_off = _r8(off)
    f_off = p_off + pk.row_size
    ukeys = [StreamKey(k.type, cp.dst, cp.width) for k, cp in zip(pk_keys, copies)]
    u = lp.widen(pk, fk, out_row_size=f_off + fk.row_size, pk_offset=p_off, fk_offset=f_off,
                 side_offset=0, copies=copies)
    s1 = lp.sort(u, [SortKey(k.type, k.offset, k.width) for k in ukeys] + [SortKey("uint", 0, 1)])
    j, m = lp.join(s1, ukeys, variant=c.TS_STREAM_JOIN_INNER, side_offset=0, pk_offset=p_off,
                   pk_size=pk.row_size, reveal=reveal)
    rs = pk.row_size + fk.row_size
    pd_ = parse_table_descriptor(pk_descriptor)
    fd = parse_table_descriptor(fk_descriptor)
    final = Final(out_key_slot, out_table_id, out_table_version,
                  out_schema_hash or _schema("join-out", pd_.schema_hash, fd.schema_hash),
                  rows_per_block or _rpb(rs if reveal else j.row_size))
    return _result(lp, j, m, reveal=reveal, then=(), skip=FLAG_WORD + p_off, row_size=rs,
                   final=final)

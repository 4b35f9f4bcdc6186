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
so the table size is bounded by host memory only.

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

from teespark.exec.external_sort import external_sort
from teespark.exec.large_ops import _r8, _rpb, agg_out_row_size
from teespark.tee import SortKey, TeesparkTA
from teespark.tee import constants as c
from teespark.tee.descriptor import parse_table_descriptor
from teespark.tee.params import BytesLike
from teespark.tee.streaming_ta import (
    StreamAgg,
    StreamCopy,
    StreamKey,
    StreamRequest,
    pack_stream_request,
    stream,
)
from teespark.tee.teespark_ta import _key_type

__all__ = ["StreamAgg", "StreamKey", "StreamResult", "agg_out_row_size", "aggregate_large",
           "join_pkfk_large"]

FLAG_WORD = 8


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


def _out_size(rows: int, row_size: int, rows_per_block: int) -> int:
    blocks = max(1, -(-rows // rows_per_block))
    return (c.TS_TABLE_DESCRIPTOR_SIZE + blocks * (c.TS_BLOCK_HEADER_SIZE + c.TS_TAG_SIZE)
            + rows * row_size)


def _step_id(out_table_id: bytes, step: str) -> bytes:
    return hashlib.sha256(b"teespark/stream-step/" + out_table_id + step.encode()).digest()[:16]


def _schema(what: str, *parts: object) -> bytes:
    return hashlib.sha256(("teespark/stream/" + what + repr(parts)).encode()).digest()


def _run_stream(ta: TeesparkTA, req: StreamRequest, inputs: Sequence[BytesLike],
                rows: int, row_size: int, rows_per_block: int) -> tuple[bytes, bytes, int, int]:
    desc, blocks, n, real = stream(ta, pack_stream_request(req), inputs,
                                   _out_size(rows, row_size, rows_per_block))
    if n != rows:
        raise RuntimeError(f"streaming: the TA wrote {n} rows, the host expected {rows}")
    return desc, blocks, n, real


def _finish(ta: TeesparkTA, padded_desc: bytes, padded_blocks: bytes, m: int, *,
            skip: int, row_size: int, work_key_slot: int, out_key_slot: int,
            out_table_id: bytes, out_table_version: int, out_schema_hash: bytes,
            rows_per_block: int | None) -> StreamResult:
    """STREAM LIMIT m of the real-first padded table, dropping `skip` bytes."""
    d = parse_table_descriptor(padded_desc)
    rpb = rows_per_block or _rpb(row_size)
    req = StreamRequest(mode=c.TS_STREAM_LIMIT, out_table_id=out_table_id,
                        out_table_version=out_table_version, out_schema_hash=out_schema_hash,
                        in0_key_slot=work_key_slot, out_key_slot=out_key_slot,
                        rows_per_block=rpb, out_row_size=row_size, pk_offset=skip, limit=m)
    desc, blocks, n, _ = _run_stream(ta, req, [padded_blocks], min(m, d.row_count), row_size,
                                     rpb)
    return StreamResult(desc, blocks, n, row_size, m)


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
    d = parse_table_descriptor(descriptor)
    sort_keys = [SortKey(k.type, k.offset, k.width) for k in keys]
    s1 = external_sort(ta, table_blocks, descriptor, sort_keys, in_key_slot=in_key_slot,
                       out_key_slot=work_key_slot, out_table_id=_step_id(out_table_id, "sort1"),
                       out_table_version=1)
    orow = agg_out_row_size(d.row_size, len(aggs))
    prow = FLAG_WORD + orow
    req = StreamRequest(mode=c.TS_STREAM_AGGREGATE,
                        out_table_id=_step_id(out_table_id, "agg"), out_table_version=1,
                        out_schema_hash=_schema("agg", d.schema_hash, keys, aggs),
                        in0_key_slot=work_key_slot, out_key_slot=work_key_slot,
                        reveal=reveal, keys=keys, aggs=aggs)
    a_desc, a_blocks, _n, m = _run_stream(ta, req, [s1.blocks], d.row_count, prow,
                                          d.rows_per_block)
    real_first = [SortKey("uint", 0, 1, descending=True)] + \
        [SortKey(k.type, FLAG_WORD + k.offset, k.width) for k in keys]
    s2 = external_sort(ta, a_blocks, a_desc, real_first, in_key_slot=work_key_slot,
                       out_key_slot=out_key_slot if not reveal else work_key_slot,
                       out_table_id=(out_table_id if not reveal
                                     else _step_id(out_table_id, "sort2")),
                       out_table_version=out_table_version if not reveal else 1,
                       rows_per_block=rows_per_block)
    if not reveal:
        return StreamResult(s2.descriptor, s2.blocks, s2.rows, prow, None)
    return _finish(ta, s2.descriptor, s2.blocks, m, skip=FLAG_WORD, row_size=orow,
                   work_key_slot=work_key_slot, out_key_slot=out_key_slot,
                   out_table_id=out_table_id, out_table_version=out_table_version,
                   out_schema_hash=out_schema_hash or _schema("agg-out", d.schema_hash,
                                                              keys, aggs),
                   rows_per_block=rows_per_block)


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
    pd_ = parse_table_descriptor(pk_descriptor)
    fd = parse_table_descriptor(fk_descriptor)
    # Union row: [side byte, 7 zero | key columns | PK row | FK row].
    copies, off = [], FLAG_WORD
    for a, b in zip(pk_keys, fk_keys):
        copies.append(StreamCopy(a.offset, b.offset, off, a.width))
        off += a.width
    p_off = _r8(off)
    f_off = p_off + pd_.row_size
    urow = f_off + fd.row_size
    urpb = _rpb(urow)
    n = pd_.row_count + fd.row_count
    ukeys = [StreamKey(k.type, cp.dst, cp.width) for k, cp in zip(pk_keys, copies)]
    pk_view = memoryview(pk_blocks).cast("B")
    req = StreamRequest(mode=c.TS_STREAM_WIDEN, out_table_id=_step_id(out_table_id, "union"),
                        out_table_version=1,
                        out_schema_hash=_schema("union", pd_.schema_hash, fd.schema_hash,
                                                copies),
                        in0_key_slot=pk_key_slot, in1_key_slot=fk_key_slot,
                        out_key_slot=work_key_slot, rows_per_block=urpb, out_row_size=urow,
                        side_offset=0, pk_offset=p_off, fk_offset=f_off,
                        in0_bytes=len(pk_view), copies=copies)
    u_desc, u_blocks, _n, _ = _run_stream(ta, req, [pk_view, fk_blocks], n, urow, urpb)
    s1 = external_sort(ta, u_blocks, u_desc,
                       [SortKey(k.type, k.offset, k.width) for k in ukeys] +
                       [SortKey("uint", 0, 1)],
                       in_key_slot=work_key_slot, out_key_slot=work_key_slot,
                       out_table_id=_step_id(out_table_id, "sort1"), out_table_version=1)
    prow = FLAG_WORD + urow
    req = StreamRequest(mode=c.TS_STREAM_JOIN_PKFK, out_table_id=_step_id(out_table_id, "join"),
                        out_table_version=1,
                        out_schema_hash=_schema("join", pd_.schema_hash, fd.schema_hash,
                                                copies),
                        in0_key_slot=work_key_slot, out_key_slot=work_key_slot,
                        side_offset=0, pk_offset=p_off, pk_size=pd_.row_size,
                        reveal=reveal, keys=ukeys)
    j_desc, j_blocks, _n, m = _run_stream(ta, req, [s1.blocks], n, prow, urpb)
    s2 = external_sort(ta, j_blocks, j_desc, [SortKey("uint", 0, 1, descending=True)],
                       in_key_slot=work_key_slot,
                       out_key_slot=out_key_slot if not reveal else work_key_slot,
                       out_table_id=(out_table_id if not reveal
                                     else _step_id(out_table_id, "sort2")),
                       out_table_version=out_table_version if not reveal else 1,
                       rows_per_block=rows_per_block)
    if not reveal:
        return StreamResult(s2.descriptor, s2.blocks, s2.rows, prow, None)
    return _finish(ta, s2.descriptor, s2.blocks, m, skip=FLAG_WORD + p_off,
                   row_size=pd_.row_size + fd.row_size, work_key_slot=work_key_slot,
                   out_key_slot=out_key_slot, out_table_id=out_table_id,
                   out_table_version=out_table_version,
                   out_schema_hash=out_schema_hash or _schema("join-out", pd_.schema_hash,
                                                              fd.schema_hash),
                   rows_per_block=rows_per_block)

"""The streaming command of the teespark TA (``STREAM``, id 13).

``teespark_ta.h`` ("Streaming aggregate and join") documents the modes and
parameters, docs/LEAKAGE.md ("Streaming aggregate and join") what the host
learns. :mod:`teespark.exec.streaming` composes this command with the
external sort into GROUP BY and PK-FK joins over tables larger than the TA
heap.

Bulk data goes through shared memory regions kept per TA object (grown on
demand); shared memory is host memory, so the TA heap holds one block at a
time whatever the table size.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from teespark.tee import constants as c
from teespark.tee.params import BytesLike, InBuffer, Value, byte_view
from teespark.tee.shared_memory import SharedMemory, SharedMemoryRef
from teespark.tee.teespark_ta import TeesparkTA, _key_type
from teespark.tee.wire import OP_PROJ, TsStreamRequest

__all__ = ["StreamAgg", "StreamCopy", "StreamKey", "pack_stream_request", "stream"]

_SCRATCH: weakref.WeakKeyDictionary[TeesparkTA, dict[str, SharedMemory]] = \
    weakref.WeakKeyDictionary()


def _region(ta: TeesparkTA, role: str, n: int) -> SharedMemory:
    regions = _SCRATCH.setdefault(ta, {})
    shm = regions.get(role)
    if shm is None or shm.size < n:
        if shm is not None:
            shm.release()
        shm = SharedMemory(max(1 << 20, 1 << max(0, (n - 1).bit_length())),
                           direction="in" if role == "in" else "out")
        regions[role] = shm
    return shm


@dataclass(frozen=True)
class StreamKey:
    """A group or join key column (``struct ts_op_key``); NULL-aware when
    ``nullable`` (flag = bit ``null_bit`` of byte ``null_offset``)."""

    type: int | str
    offset: int
    width: int
    nullable: bool = False
    null_offset: int = 0
    null_bit: int = 0


@dataclass(frozen=True)
class StreamAgg:
    """An aggregate (``struct ts_op_agg``): ``fn`` a ``TS_AGG_*``; ``type`` the
    input column's ``TS_KEY_*`` (0 for COUNT(*)). COUNT_DISTINCT needs the
    input sorted by (group keys, that column), and every COUNT_DISTINCT of
    one request must name the same column."""

    fn: int
    type: int | str = 0
    offset: int = 0
    width: int = 0
    nullable: bool = False
    null_offset: int = 0
    null_bit: int = 0


@dataclass(frozen=True)
class StreamCopy:
    """WIDEN: copy ``width`` bytes from ``src0`` (input 0 rows) or ``src1``
    (input 1 rows) to ``dst`` of the output row."""

    src0: int
    src1: int
    dst: int
    width: int


@dataclass(frozen=True)
class StreamRequest:
    """The fields of ``struct ts_stream_request`` (see teespark_ta.h)."""

    mode: int
    out_table_id: bytes
    out_table_version: int
    out_schema_hash: bytes
    in0_key_slot: int = 0
    in1_key_slot: int = 0
    out_key_slot: int = 0
    rows_per_block: int = 0
    out_row_size: int = 0
    side_offset: int = 0
    pk_offset: int = 0
    pk_size: int = 0
    fk_offset: int = 0
    reveal: bool = False
    in0_bytes: int = 0
    limit: int = 0
    keys: Sequence[StreamKey] = field(default_factory=tuple)
    aggs: Sequence[StreamAgg] = field(default_factory=tuple)
    copies: Sequence[StreamCopy] = field(default_factory=tuple)
    #: JOIN_PKFK: ``TS_STREAM_JOIN_*``; MAP: ``TS_STREAM_MAP_FLAG`` | ``_SEQ`` bits;
    #: GROUP_COUNT: ``TS_STREAM_GC_*``.
    variant: int = 0
    #: MAP: the row index (uint64); GROUP_COUNT, GENERATE, FILL: the annotation.
    aux_offset: int = 0
    #: MAP: the predicate program (``teespark.ir``), empty for none.
    predicate: bytes = b""
    #: MAP: projections (``teespark.tee.operators.OpProj``), empty to copy the row.
    projections: Sequence[Any] = field(default_factory=tuple)


def pack_stream_request(r: StreamRequest) -> bytes:
    """Pack a :class:`StreamRequest` as ``struct ts_stream_request``."""
    if len(r.keys) > c.TS_STREAM_MAX_KEYS or len(r.aggs) > c.TS_STREAM_MAX_AGGS \
            or len(r.copies) > c.TS_STREAM_MAX_COPIES:
        raise ValueError("pack_stream_request: too many keys, aggregates or copies")
    if len(r.out_table_id) != 16 or len(r.out_schema_hash) != 32:
        raise ValueError("pack_stream_request: out_table_id must be 16 bytes and "
                         "out_schema_hash 32")
    w = TsStreamRequest()
    for name in ("mode", "in0_key_slot", "in1_key_slot", "out_key_slot", "rows_per_block",
                 "out_row_size", "side_offset", "pk_offset", "pk_size", "fk_offset",
                 "in0_bytes", "limit", "out_table_version", "variant", "aux_offset"):
        setattr(w, name, int(getattr(r, name)))
    w.reveal = 1 if r.reveal else 0
    w.key_count, w.agg_count, w.copy_count = len(r.keys), len(r.aggs), len(r.copies)
    w.out_table_id[:] = list(r.out_table_id)
    w.out_schema_hash[:] = list(r.out_schema_hash)
    for i, k in enumerate(r.keys):
        e = w.keys[i]
        e.type = _key_type("pack_stream_request", i, k.type)
        e.offset, e.width = k.offset, k.width
        e.nullable = 1 if k.nullable else 0
        e.null_offset = k.null_offset if k.nullable else 0
        e.null_bit = k.null_bit if k.nullable else 0
    for i, a in enumerate(r.aggs):
        e = w.aggs[i]
        e.fn = a.fn
        e.type = 0 if a.type == 0 else _key_type("pack_stream_request", i, a.type)
        e.offset, e.width = a.offset, a.width
        e.nullable = 1 if a.nullable else 0
        e.null_offset = a.null_offset if a.nullable else 0
        e.null_bit = a.null_bit if a.nullable else 0
    for i, cp in enumerate(r.copies):
        e = w.copies[i]
        e.src0, e.src1, e.dst, e.width = cp.src0, cp.src1, cp.dst, cp.width
    pred = bytes(r.predicate)
    w.pred_size, w.proj_count = len(pred), len(r.projections)
    out = bytes(w)
    assert len(out) == c.TS_STREAM_REQUEST_SIZE
    if not pred and not r.projections:
        return out
    body = _pad8(pred)
    for p in r.projections:
        prog = bytes(p.program)
        body += OP_PROJ.pack(len(prog), p.out_offset, p.out_null_bit, 0) + _pad8(prog)
    if len(body) > c.TS_OP_MAX_BODY:
        raise ValueError(f"pack_stream_request: the body ({len(body)} bytes) exceeds "
                         f"TS_OP_MAX_BODY ({c.TS_OP_MAX_BODY})")
    return out + body


def _pad8(b: bytes) -> bytes:
    return b + bytes(-len(b) % 8)


def stream(ta: TeesparkTA, request: bytes, inputs: Sequence[BytesLike],
           out_size: int) -> tuple[bytes, bytes, int, int]:
    """Run one STREAM command.

    Args:
        ta: an open TA session in which the input table(s) are registered.
        request: a packed ``struct ts_stream_request``
            (:func:`pack_stream_request`); for WIDEN its ``in0_bytes`` must be
            the byte length of ``inputs[0]``.
        inputs: the sealed block sequence of input 0 (and of input 1, WIDEN).
        out_size: bytes of descriptor | sealed output blocks.

    Returns:
        ``(descriptor, blocks, rows, real_rows)`` of the output table (registered
        in ``ta`` with the request's out slot); ``real_rows`` is 0 unless the
        request asked to reveal it.

    Reveals: the request, the input and output sizes, and ``real_rows`` when
        asked.
    """
    if len(request) < c.TS_STREAM_REQUEST_SIZE:
        raise ValueError(f"stream: 'request' must be at least {c.TS_STREAM_REQUEST_SIZE} bytes")
    views = [byte_view(p, writable=False, where="stream") for p in inputs]
    total = sum(int(v.nbytes) for v in views)
    with ta._lock:
        ta.session.ensure_open()
        shm = _region(ta, "in", max(1, total))
        off = 0
        for v in views:
            shm.write(v, off)
            off += int(v.nbytes)
        src: SharedMemoryRef = shm.ref(0, max(1, total) if total else 0, direction="in")
        dst = _region(ta, "out", max(1, out_size)).ref(0, out_size, direction="out")
        counts = Value.output()
        ta._invoke(c.TA_TEESPARK_CMD_STREAM, [src, dst, InBuffer(request), counts], counts)
        data = dst.data
        d = c.TS_TABLE_DESCRIPTOR_SIZE
        return bytes(data[:d]), bytes(data[d:dst.size]), counts.a, counts.b

"""Relational operators over tables larger than the TA heap.

Every operator here is a fixed pipeline of TA calls, STREAM passes (one
sealed block in TA memory at a time) and external sorts (two runs at a
time), whose sequence and sizes depend only on public values: the inputs'
shapes, the request, and the one output size the operator reveals (the same
size the in-heap operator reveals; docs/LEAKAGE.md, "Larger than the heap").
The host never sees a row: every intermediate table is sealed under the
work key slot.

Building blocks (methods of :class:`LargePlan`):

``map``       STREAM MAP: projections and/or a predicate flag, per row;
``sort``      the external sort;
``compact``   real rows first (external sort on the flag word, then on a
              public tiebreak), then STREAM LIMIT m: the oblivious
              compaction of a flagged table, m revealed;
``widen``     STREAM WIDEN: the union of two tables in one row layout;
``aggregate`` / ``join``: STREAM AGGREGATE / JOIN_PKFK over sorted input.

Operators (module functions) compose them: filter, project, limit, top-k,
union all, distinct, GROUP BY (with COUNT(DISTINCT) on one column, global
aggregates, NULL group keys), PK-FK inner / left outer / semi / anti joins,
and sorts with NULL keys. NULL keys are handled by a normalising MAP that
puts, per key, an order byte and the key value (zero bytes when NULL) in
front of the row, so that the sort, which orders raw key bytes, keeps
Spark's NULLS FIRST / LAST and groups NULLs together.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from teespark.errors import TableNotRegisteredError

from teespark.exec.external_sort import external_sort
from teespark.tee import SortKey, TeesparkTA
from teespark.tee import constants as c
from teespark.tee.descriptor import parse_table_descriptor
from teespark.tee.operators import OpAgg, OpKey, OpProj
from teespark.tee.streaming_ta import (
    StreamAgg,
    StreamCopy,
    StreamKey,
    StreamRequest,
    pack_stream_request,
    stream,
)

__all__ = ["Final", "LargePlan", "Part", "FLAG_WORD"]

T = TypeVar("T")

FLAG_WORD = 8


def _r8(n: int) -> int:
    return (n + 7) & ~7


def _rpb(row_size: int) -> int:
    """Rows per block of intermediate tables: blocks of at most 512 KiB."""
    return max(1, min(4096, (512 << 10) // row_size))


@dataclass(frozen=True)
class Part:
    """A sealed table registered in the TA session under ``slot``."""

    descriptor: bytes
    blocks: bytes
    rows: int
    row_size: int
    slot: int


@dataclass(frozen=True)
class Final:
    """Where an operator's last step writes: the result table's identity."""

    slot: int
    table_id: bytes
    version: int
    schema_hash: bytes
    rows_per_block: int


class LargePlan:
    """Runs the building blocks in one TA session.

    Intermediates are sealed with ``work_slot`` and get table ids derived
    from ``job_id`` and a step counter (unique within the job).
    """

    def __init__(self, ta: TeesparkTA, *, work_slot: int, job_id: bytes,
                 rows_per_block: int | None = None) -> None:
        #: Rows per block of intermediates (None: blocks of about 512 KiB).
        self.rows_per_block = rows_per_block
        self.ta = ta
        self.q = work_slot
        self.job = job_id
        self.steps = 0

    # -- identities ---------------------------------------------------------

    def _ids(self, what: str, final: Final | None, row_size: int
             ) -> tuple[bytes, int, bytes, int, int]:
        """(table id, version, schema hash, out slot, rows per block)."""
        if final is not None:
            return (final.table_id, final.version, final.schema_hash, final.slot,
                    final.rows_per_block)
        self.steps += 1
        tag = f"{what}/{self.steps}".encode()
        tid = hashlib.sha256(b"teespark/large/id/" + self.job + tag).digest()[:16]
        sh = hashlib.sha256(b"teespark/large/schema/" + self.job + tag).digest()
        return tid, 1, sh, self.q, self.rows_per_block or _rpb(row_size)

    def _stream(self, req: StreamRequest, inputs: Sequence[Part], rows: int,
                row_size: int, rpb: int, slot: int) -> tuple[Part, int]:
        blocks = max(1, -(-rows // rpb))
        out_size = (c.TS_TABLE_DESCRIPTOR_SIZE + blocks * (c.TS_BLOCK_HEADER_SIZE +
                                                           c.TS_TAG_SIZE) + rows * row_size)
        desc, data, n, real = self._registered(inputs, lambda: stream(
            self.ta, pack_stream_request(req), [p.blocks for p in inputs], out_size))
        if n != rows:
            raise RuntimeError(f"large operator: the TA wrote {n} rows, the host "
                               f"expected {rows}")
        return Part(desc, data, n, row_size, slot), real

    def _registered(self, inputs: Sequence[Part], fn: Callable[[], T]) -> T:
        """Run ``fn``; if the TA evicted an input from its table registry
        (TS_MAX_TABLES, least recently used first), register the inputs
        again and retry once."""
        try:
            return fn()
        except TableNotRegisteredError:
            for p in inputs:
                self.ta.register_table(p.descriptor, p.slot)
            return fn()

    # -- building blocks ----------------------------------------------------

    def map(self, p: Part, out_row_size: int, *, projections: Sequence[OpProj] = (),
            predicate: bytes = b"", flag: bool = False, seq_offset: int | None = None,
            copy_offset: int = 0, reveal: bool = False, final: Final | None = None
            ) -> tuple[Part, int]:
        """STREAM MAP (one output row per input row); returns the table and,
        with ``reveal``, the number of flagged rows."""
        tid, ver, sh, slot, rpb = self._ids("map", final, out_row_size)
        variant = (c.TS_STREAM_MAP_FLAG if flag else 0) | \
            (c.TS_STREAM_MAP_SEQ if seq_offset is not None else 0)
        req = StreamRequest(mode=c.TS_STREAM_MAP, out_table_id=tid, out_table_version=ver,
                            out_schema_hash=sh, in0_key_slot=p.slot, out_key_slot=slot,
                            rows_per_block=rpb, out_row_size=out_row_size,
                            pk_offset=copy_offset, reveal=reveal, variant=variant,
                            aux_offset=seq_offset or 0, predicate=predicate,
                            projections=tuple(projections))
        return self._stream(req, [p], p.rows, out_row_size, rpb, slot)

    def sort(self, p: Part, keys: Sequence[SortKey], final: Final | None = None) -> Part:
        """The external sort (the output keeps the input's schema hash, so a
        final sort needs an input already carrying the final one)."""
        tid, ver, _sh, slot, rpb = self._ids("sort", final, p.row_size)
        s = self._registered([p], lambda: external_sort(
            self.ta, p.blocks, p.descriptor, keys, in_key_slot=p.slot, out_key_slot=slot,
            out_table_id=tid, out_table_version=ver, rows_per_block=rpb))
        return Part(s.descriptor, s.blocks, s.rows, p.row_size, slot)

    def limit(self, p: Part, n: int, *, skip: int = 0, row_size: int | None = None,
              final: Final | None = None) -> Part:
        """STREAM LIMIT: the first n rows, bytes [skip, skip + row_size)."""
        rs = p.row_size - skip if row_size is None else row_size
        tid, ver, sh, slot, rpb = self._ids("limit", final, rs)
        req = StreamRequest(mode=c.TS_STREAM_LIMIT, out_table_id=tid, out_table_version=ver,
                            out_schema_hash=sh, in0_key_slot=p.slot, out_key_slot=slot,
                            rows_per_block=rpb, out_row_size=rs, pk_offset=skip, limit=n)
        return self._stream(req, [p], min(n, p.rows), rs, rpb, slot)[0]

    def compact(self, p: Part, m: int, *, skip: int, row_size: int,
                then: Sequence[SortKey] = (), final: Final | None = None) -> Part:
        """Real rows (flag byte 0 = 1) first, ordered by ``then``; keep m."""
        s = self.sort(p, [SortKey("uint", 0, 1, descending=True), *then])
        return self.limit(s, m, skip=skip, row_size=row_size, final=final)

    def widen(self, p0: Part, p1: Part, *, out_row_size: int, pk_offset: int = 0,
              fk_offset: int = 0, side_offset: int = c.TS_STREAM_NO_SIDE,
              copies: Sequence[StreamCopy] = (), final: Final | None = None) -> Part:
        """STREAM WIDEN: p0's rows then p1's, in one layout."""
        tid, ver, sh, slot, rpb = self._ids("widen", final, out_row_size)
        b0 = memoryview(p0.blocks).cast("B")
        req = StreamRequest(mode=c.TS_STREAM_WIDEN, out_table_id=tid, out_table_version=ver,
                            out_schema_hash=sh, in0_key_slot=p0.slot, in1_key_slot=p1.slot,
                            out_key_slot=slot, rows_per_block=rpb, out_row_size=out_row_size,
                            side_offset=side_offset, pk_offset=pk_offset,
                            fk_offset=fk_offset, in0_bytes=len(b0), copies=tuple(copies))
        rows = p0.rows + p1.rows
        return self._stream(req, [p0, p1], rows, out_row_size, rpb, slot)[0]

    def aggregate(self, p: Part, keys: Sequence[StreamKey], aggs: Sequence[StreamAgg],
                  reveal: bool = True) -> tuple[Part, int]:
        """STREAM AGGREGATE over input sorted by ``keys``: [flag word | agg
        row] per input row; returns the table and (``reveal``) the group
        count m."""
        orow = FLAG_WORD + agg_out_row_size(p.row_size, len(aggs))
        tid, ver, sh, slot, _rpb_ = self._ids("agg", None, orow)
        req = StreamRequest(mode=c.TS_STREAM_AGGREGATE, out_table_id=tid,
                            out_table_version=ver, out_schema_hash=sh, in0_key_slot=p.slot,
                            out_key_slot=slot, reveal=reveal, keys=tuple(keys),
                            aggs=tuple(aggs))
        d = parse_table_descriptor(p.descriptor)
        return self._stream(req, [p], p.rows, orow, d.rows_per_block, slot)

    def join(self, p: Part, keys: Sequence[StreamKey], *, variant: int, side_offset: int,
             pk_offset: int = 0, pk_size: int = 0, reveal: bool = True) -> tuple[Part, int]:
        """STREAM JOIN_PKFK over a union sorted by (keys, side): [flag word |
        row] per input row; returns the table and (``reveal``) the real row
        count."""
        orow = FLAG_WORD + p.row_size
        tid, ver, sh, slot, _rpb_ = self._ids("join", None, orow)
        req = StreamRequest(mode=c.TS_STREAM_JOIN_PKFK, out_table_id=tid,
                            out_table_version=ver, out_schema_hash=sh, in0_key_slot=p.slot,
                            out_key_slot=slot, side_offset=side_offset, pk_offset=pk_offset,
                            pk_size=pk_size, reveal=reveal, keys=tuple(keys),
                            variant=variant)
        d = parse_table_descriptor(p.descriptor)
        return self._stream(req, [p], p.rows, orow, d.rows_per_block, slot)

    def group_count(self, p: Part, keys: Sequence[StreamKey], *, variant: int,
                    side_offset: int, aux_offset: int) -> tuple[Part, int]:
        """STREAM GROUP_COUNT over a union sorted as the variant needs;
        returns the table and (GC_FORWARD) the join size m."""
        tid, ver, sh, slot, _rpb_ = self._ids("gc", None, p.row_size)
        fwd = variant == c.TS_STREAM_GC_FORWARD
        req = StreamRequest(mode=c.TS_STREAM_GROUP_COUNT, out_table_id=tid,
                            out_table_version=ver, out_schema_hash=sh, in0_key_slot=p.slot,
                            out_key_slot=slot, side_offset=side_offset, reveal=fwd,
                            keys=tuple(keys), variant=variant, aux_offset=aux_offset)
        d = parse_table_descriptor(p.descriptor)
        return self._stream(req, [p], p.rows, p.row_size, d.rows_per_block, slot)

    def generate(self, m: int, *, row_size: int, side_offset: int, aux_offset: int) -> Part:
        """STREAM GENERATE: 2m filler rows (dest 0..m-1 on each side)."""
        tid, ver, sh, slot, rpb = self._ids("gen", None, row_size)
        req = StreamRequest(mode=c.TS_STREAM_GENERATE, out_table_id=tid, out_table_version=ver,
                            out_schema_hash=sh, out_key_slot=slot, rows_per_block=rpb,
                            out_row_size=row_size, side_offset=side_offset,
                            aux_offset=aux_offset, limit=m)
        return self._stream(req, [], 2 * m, row_size, rpb, slot)[0]

    def fill(self, p: Part, *, side_offset: int, aux_offset: int) -> Part:
        """STREAM FILL: [flag word | row] per input row, fillers filled."""
        orow = FLAG_WORD + p.row_size
        tid, ver, sh, slot, _rpb_ = self._ids("fill", None, orow)
        req = StreamRequest(mode=c.TS_STREAM_FILL, out_table_id=tid, out_table_version=ver,
                            out_schema_hash=sh, in0_key_slot=p.slot, out_key_slot=slot,
                            side_offset=side_offset, aux_offset=aux_offset)
        d = parse_table_descriptor(p.descriptor)
        return self._stream(req, [p], p.rows, orow, d.rows_per_block, slot)[0]


def agg_out_row_size(row_size: int, naggs: int) -> int:
    """Bytes of an aggregate output row (``obl_agg_out_row_size``)."""
    return _r8(row_size) + 8 * naggs + _r8(naggs)


def shift_projections(projs: Sequence[OpProj], byte_offset: int) -> list[OpProj]:
    """The projections writing ``byte_offset`` bytes further into the row."""
    return [replace(p, out_offset=p.out_offset + byte_offset,
                    out_null_bit=(p.out_null_bit if p.out_null_bit == c.TS_OP_NOT_NULLABLE
                                  else p.out_null_bit + 8 * byte_offset)) for p in projs]


def sort_key(k: OpKey, shift: int = 0, *, descending: bool | None = None) -> SortKey:
    return SortKey(k.type, k.offset + shift, k.width,
                   descending=k.descending if descending is None else descending)


def stream_key(k: OpKey, shift: int = 0) -> StreamKey:
    return StreamKey(k.type, k.offset + shift, k.width, k.nullable,
                     k.null_offset + shift if k.nullable else 0, k.null_bit)


def stream_agg(a: OpAgg, shift: int = 0) -> StreamAgg:
    return StreamAgg(a.fn, a.type, a.offset + shift if a.fn != c.TS_AGG_COUNT_STAR else 0,
                     a.width, a.nullable, a.null_offset + shift if a.nullable else 0,
                     a.null_bit)

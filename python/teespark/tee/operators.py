"""Wire form of ``TA_TEESPARK_CMD_RUN_OPERATOR`` requests (``teespark_ta.h``).

A request is ``struct ts_op_request`` (216 bytes) followed by a body: the key
entries (``struct ts_op_key``; a join gives the left keys then the right
keys), the aggregates (``struct ts_op_agg``), the predicate program (zero
padded to a multiple of 8) and the projections (``struct ts_op_proj`` then
the program, padded to 8, each). :func:`pack_op_request` builds it;
:meth:`teespark.tee.TeesparkTA.run_operator` sends it.

Padded tables (``pad_rows``; docs/FORMAT.md appendix A) carry one trailing
``is_real`` byte per row and the schema hash :func:`padded_schema_hash` of
their logical schema.

Reveals: the whole request is visible to the host (operator, mode, column
offsets, programs, literals, pad bound).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from teespark.tee import constants as c
from teespark.tee.wire import OP_AGG, OP_KEY, OP_PROJ, OP_REQUEST

__all__ = ["OpAgg", "OpKey", "OpProj", "OpRequest", "pack_op_request", "padded_schema_hash"]


def padded_schema_hash(logical_hash: bytes) -> bytes:
    """SHA-256(``TS_PADDED_SCHEMA_INFO`` | logical schema hash)."""
    if len(logical_hash) != 32:
        raise ValueError("padded_schema_hash: the logical hash must be 32 bytes")
    return hashlib.sha256(c.TS_PADDED_SCHEMA_INFO.encode() + bytes(logical_hash)).digest()


@dataclass(frozen=True)
class OpKey:
    """A key column (``struct ts_op_key``): type TS_KEY_*, byte offset and
    width; the NULL flag is bit ``null_bit`` of byte ``null_offset`` when
    ``nullable``."""

    type: int
    offset: int
    width: int
    descending: bool = False
    nullable: bool = False
    null_offset: int = 0
    null_bit: int = 0
    nulls_first: bool = False

    def pack(self) -> bytes:
        return OP_KEY.pack(self.type, int(self.descending), self.offset, self.width, 0,
                           self.null_offset if self.nullable else 0,
                           self.null_bit if self.nullable else 0, int(self.nullable),
                           int(self.nulls_first), 0)


@dataclass(frozen=True)
class OpAgg:
    """An aggregate (``struct ts_op_agg``): fn TS_AGG_*, input column type
    TS_KEY_* (0 for COUNT(*)), offset, width, NULL flag."""

    fn: int
    type: int = 0
    offset: int = 0
    width: int = 0
    nullable: bool = False
    null_offset: int = 0
    null_bit: int = 0

    def pack(self) -> bytes:
        return OP_AGG.pack(self.fn, self.type, self.offset, self.width,
                           self.null_offset if self.nullable else 0,
                           self.null_bit if self.nullable else 0, int(self.nullable), 0)


@dataclass(frozen=True)
class OpProj:
    """One output column: program bytes, byte offset in the output row and
    the bit index of its NULL flag (``TS_OP_NOT_NULLABLE``: none)."""

    program: bytes
    out_offset: int
    out_null_bit: int = c.TS_OP_NOT_NULLABLE


def _pad8(b: bytes) -> bytes:
    return b + bytes(-len(b) % 8)


@dataclass
class OpRequest:
    """Everything of one RUN_OPERATOR request (see ``struct ts_op_request``)."""

    op: int
    mode: int
    in_slots: Sequence[int]
    in_schema_hashes: Sequence[bytes]
    out_key_slot: int
    rows_per_block: int
    out_row_size: int
    out_table_id: bytes
    out_table_version: int
    out_schema_hash: bytes
    in_padded: Sequence[bool] = (False, False)
    pad_rows: int = 0
    limit: int = 0
    keys: Sequence[OpKey] = ()
    right_keys: Sequence[OpKey] = ()
    aggs: Sequence[OpAgg] = ()
    predicate: bytes | None = None
    projections: Sequence[OpProj] = field(default_factory=tuple)
    join_kind: int = 0
    pk_side: int = 0
    right_null_bits: int = 0


def pack_op_request(r: OpRequest, in0_bytes: int = 0) -> bytes:
    """Pack ``struct ts_op_request`` and its body.

    Args:
        r: the request.
        in0_bytes: for two-input operators, the bytes of param[0] that hold
            input 0 (input 1 follows); 0 for one-input operators.

    Raises:
        ValueError: inconsistent key lists or sizes.
    """
    two = r.op in (c.TS_OP_JOIN, c.TS_OP_UNION_ALL)
    if r.op == c.TS_OP_JOIN and len(r.keys) != len(r.right_keys):
        raise ValueError("pack_op_request: a join needs as many right keys as left keys")
    body = b"".join(k.pack() for k in r.keys)
    if r.op == c.TS_OP_JOIN:
        body += b"".join(k.pack() for k in r.right_keys)
    body += b"".join(a.pack() for a in r.aggs)
    body = _pad8(body)
    pred = bytes(r.predicate) if r.predicate else b""
    body += _pad8(pred)
    for p in r.projections:
        prog = bytes(p.program)
        body += OP_PROJ.pack(len(prog), p.out_offset, p.out_null_bit, 0) + _pad8(prog)
    slots = list(r.in_slots) + [0, 0]
    hashes = [bytes(h) for h in r.in_schema_hashes] + [bytes(32), bytes(32)]
    padded = list(r.in_padded) + [False, False]
    head = OP_REQUEST.pack(
        r.op, r.mode, slots[0], slots[1] if two else 0,
        int(bool(padded[0])) * c.TS_OP_IN_PADDED,
        int(bool(padded[1])) * c.TS_OP_IN_PADDED if two else 0,
        in0_bytes if two else 0, hashes[0], hashes[1] if two else bytes(32),
        r.out_key_slot, r.rows_per_block, r.out_row_size, len(body), r.pad_rows,
        bytes(r.out_table_id), r.out_table_version, bytes(r.out_schema_hash), r.limit,
        len(r.keys), len(r.aggs), len(pred), len(r.projections), r.join_kind, r.pk_side,
        r.right_null_bits, 0)
    assert len(head) == c.TS_OP_REQUEST_SIZE
    return head + body

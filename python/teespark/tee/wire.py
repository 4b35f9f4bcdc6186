"""Wire structs of ``teespark_ta.h``: byte layouts shared with the TA.

Two views of each struct, checked against each other and against the C
header by ``tests/test_ta_header_constants.py``:

- ``struct`` formats (little-endian, explicit), used to pack and parse;
- ``ctypes`` mirrors (``Ts<StructName>``: :class:`TsBlockHeader`,
  :class:`TsSortKey`, :class:`TsSortRequest`, :class:`TsTableDescriptor`,
  :class:`TsEvidenceBody`, :class:`TsEvidence`, :class:`TsKbsReplyHeader`,
  :class:`TsWrappedKey`, :class:`TsRecipient`, :class:`TsExportRequest`,
  :class:`TsResultEnvelope`), which give field offsets with C's alignment
  rules.

Parsed forms (``NamedTuple`` with ``pack``/``unpack``) exist for the structs
Python builds or reads: :class:`BlockHeader`, :class:`TableDescriptor`,
:class:`EvidenceBody`, :class:`Evidence`, :class:`KbsReplyHeader`,
:class:`WrappedKey`, :class:`Recipient`, :class:`ExportRequest`,
:class:`ResultEnvelope`.

All integers are little-endian (both TEE targets are).
"""

from __future__ import annotations

import ctypes
import struct
from collections.abc import Iterator
from ctypes import c_uint8, c_uint16, c_uint32, c_uint64
from typing import NamedTuple

from teespark.tee import constants as c

#: struct ts_block_header: magic, format_version, header_size, table_id,
#: table_version, block_index, block_count, row_count, row_size,
#: schema_hash, nonce, ciphertext_size.
BLOCK_HEADER = struct.Struct("<IHH16sQIIII32s12sI")
#: struct ts_sort_key: type, descending, offset, width, reserved.
SORT_KEY = struct.Struct("<HHIII")
#: struct ts_sort_request without its keys array: in_key_slot, out_key_slot,
#: rows_per_block, key_count, out_table_id, out_table_version, schema_hash.
SORT_REQUEST_HEAD = struct.Struct("<IIII16sQ32s")
#: struct ts_table_descriptor: magic, format_version, descriptor_size,
#: table_id, table_version, row_count, block_count, row_size,
#: rows_per_block, reserved, schema_hash, key_id, mac.
TABLE_DESCRIPTOR = struct.Struct("<IHH16sQQIIII32s16s32s")
#: struct ts_evidence_body: magic, version, tee_kind, flags, abi_version,
#: ta_uuid, verifier_nonce, ta_public_key, kbs_public_key.
EVIDENCE_BODY = struct.Struct("<IHHII16s32s32s32s")
#: struct ts_evidence after its body: measurement, signature_size,
#: reserved, signature.
EVIDENCE_TAIL = struct.Struct("<32sII512s")
#: struct ts_kbs_reply_header: magic, version, header_size, evidence_hash,
#: kbs_ephemeral_key, key_count, recipient_count, issued_at, reply_size,
#: reserved.
KBS_REPLY_HEADER = struct.Struct("<IHH32s32sIIQII")
#: struct ts_wrapped_key: slot, flags, key_id, table_id, nonce, reserved,
#: wrapped_key, tag.
WRAPPED_KEY = struct.Struct("<II16s16s12sI32s16s")
#: struct ts_recipient: recipient_id, public_key.
RECIPIENT = struct.Struct("<16s32s")
#: struct ts_export_request: in_key_slot, rows_per_block, recipient_id,
#: out_table_id, out_table_version.
EXPORT_REQUEST = struct.Struct("<II16s16sQ")
#: struct ts_result_envelope: magic, version, envelope_size, recipient_id,
#: ta_ephemeral_key, nonce, reserved, wrapped_key, tag.
RESULT_ENVELOPE = struct.Struct("<IHH16s32s12sI32s16s")
#: struct ts_op_request: op, mode, in0_key_slot, in1_key_slot, in0_flags,
#: in1_flags, in0_bytes, in0_schema_hash, in1_schema_hash, out_key_slot,
#: rows_per_block, out_row_size, body_size, pad_rows, out_table_id,
#: out_table_version, out_schema_hash, limit, key_count, agg_count,
#: pred_size, proj_count, join_kind, pk_side, right_null_bits, reserved.
OP_REQUEST = struct.Struct("<IIIIIIQ32s32sIIIIQ16sQ32sQIIIIIIII")
#: struct ts_op_key: type, descending, offset, width, reserved,
#: null_offset, null_bit, nullable, nulls_first, reserved2.
OP_KEY = struct.Struct("<HHIIIIBBBB")
#: struct ts_op_agg: fn, type, offset, width, null_offset, null_bit,
#: nullable, reserved.
OP_AGG = struct.Struct("<HHIIIBBH")
#: struct ts_op_proj: prog_size, out_offset, out_null_bit, reserved.
OP_PROJ = struct.Struct("<IIII")


class TsBlockHeader(ctypes.LittleEndianStructure):
    """ctypes mirror of ``struct ts_block_header`` (96 bytes)."""

    _fields_ = [
        ("magic", c_uint32),
        ("format_version", c_uint16),
        ("header_size", c_uint16),
        ("table_id", c_uint8 * 16),
        ("table_version", c_uint64),
        ("block_index", c_uint32),
        ("block_count", c_uint32),
        ("row_count", c_uint32),
        ("row_size", c_uint32),
        ("schema_hash", c_uint8 * 32),
        ("nonce", c_uint8 * c.TS_NONCE_SIZE),
        ("ciphertext_size", c_uint32),
    ]


class TsSortKey(ctypes.LittleEndianStructure):
    """ctypes mirror of ``struct ts_sort_key`` (16 bytes)."""

    _fields_ = [
        ("type", c_uint16),
        ("descending", c_uint16),
        ("offset", c_uint32),
        ("width", c_uint32),
        ("reserved", c_uint32),
    ]


class TsSortRequest(ctypes.LittleEndianStructure):
    """ctypes mirror of ``struct ts_sort_request`` (200 bytes)."""

    _fields_ = [
        ("in_key_slot", c_uint32),
        ("out_key_slot", c_uint32),
        ("rows_per_block", c_uint32),
        ("key_count", c_uint32),
        ("out_table_id", c_uint8 * 16),
        ("out_table_version", c_uint64),
        ("schema_hash", c_uint8 * 32),
        ("keys", TsSortKey * c.TS_MAX_SORT_KEYS),
    ]


class TsTableDescriptor(ctypes.LittleEndianStructure):
    """ctypes mirror of ``struct ts_table_descriptor`` (136 bytes)."""

    _fields_ = [
        ("magic", c_uint32),
        ("format_version", c_uint16),
        ("descriptor_size", c_uint16),
        ("table_id", c_uint8 * 16),
        ("table_version", c_uint64),
        ("row_count", c_uint64),
        ("block_count", c_uint32),
        ("row_size", c_uint32),
        ("rows_per_block", c_uint32),
        ("reserved", c_uint32),
        ("schema_hash", c_uint8 * 32),
        ("key_id", c_uint8 * 16),
        ("mac", c_uint8 * 32),
    ]


class TsEvidenceBody(ctypes.LittleEndianStructure):
    """ctypes mirror of ``struct ts_evidence_body`` (128 bytes)."""

    _fields_ = [
        ("magic", c_uint32),
        ("version", c_uint16),
        ("tee_kind", c_uint16),
        ("flags", c_uint32),
        ("abi_version", c_uint32),
        ("ta_uuid", c_uint8 * 16),
        ("verifier_nonce", c_uint8 * c.TS_NONCE_BYTES),
        ("ta_public_key", c_uint8 * c.TS_X25519_PUBLIC_SIZE),
        ("kbs_public_key", c_uint8 * c.TS_ED25519_PUBLIC_SIZE),
    ]


class TsEvidence(ctypes.LittleEndianStructure):
    """ctypes mirror of ``struct ts_evidence`` (680 bytes)."""

    _fields_ = [
        ("body", TsEvidenceBody),
        ("measurement", c_uint8 * 32),
        ("signature_size", c_uint32),
        ("reserved", c_uint32),
        ("signature", c_uint8 * 512),
    ]


class TsKbsReplyHeader(ctypes.LittleEndianStructure):
    """ctypes mirror of ``struct ts_kbs_reply_header`` (96 bytes)."""

    _fields_ = [
        ("magic", c_uint32),
        ("version", c_uint16),
        ("header_size", c_uint16),
        ("evidence_hash", c_uint8 * 32),
        ("kbs_ephemeral_key", c_uint8 * c.TS_X25519_PUBLIC_SIZE),
        ("key_count", c_uint32),
        ("recipient_count", c_uint32),
        ("issued_at", c_uint64),
        ("reply_size", c_uint32),
        ("reserved", c_uint32),
    ]


class TsWrappedKey(ctypes.LittleEndianStructure):
    """ctypes mirror of ``struct ts_wrapped_key`` (104 bytes)."""

    _fields_ = [
        ("slot", c_uint32),
        ("flags", c_uint32),
        ("key_id", c_uint8 * 16),
        ("table_id", c_uint8 * 16),
        ("nonce", c_uint8 * c.TS_NONCE_SIZE),
        ("reserved", c_uint32),
        ("wrapped_key", c_uint8 * c.TS_KEY_SIZE),
        ("tag", c_uint8 * c.TS_TAG_SIZE),
    ]


class TsRecipient(ctypes.LittleEndianStructure):
    """ctypes mirror of ``struct ts_recipient`` (48 bytes)."""

    _fields_ = [
        ("recipient_id", c_uint8 * 16),
        ("public_key", c_uint8 * c.TS_X25519_PUBLIC_SIZE),
    ]


class TsExportRequest(ctypes.LittleEndianStructure):
    """ctypes mirror of ``struct ts_export_request`` (48 bytes)."""

    _fields_ = [
        ("in_key_slot", c_uint32),
        ("rows_per_block", c_uint32),
        ("recipient_id", c_uint8 * 16),
        ("out_table_id", c_uint8 * 16),
        ("out_table_version", c_uint64),
    ]


class TsResultEnvelope(ctypes.LittleEndianStructure):
    """ctypes mirror of ``struct ts_result_envelope`` (120 bytes)."""

    _fields_ = [
        ("magic", c_uint32),
        ("version", c_uint16),
        ("envelope_size", c_uint16),
        ("recipient_id", c_uint8 * 16),
        ("ta_ephemeral_key", c_uint8 * c.TS_X25519_PUBLIC_SIZE),
        ("nonce", c_uint8 * c.TS_NONCE_SIZE),
        ("reserved", c_uint32),
        ("wrapped_key", c_uint8 * c.TS_KEY_SIZE),
        ("tag", c_uint8 * c.TS_TAG_SIZE),
    ]


class BlockHeader(NamedTuple):
    """A parsed ``struct ts_block_header`` (all public, authenticated data)."""

    magic: int
    format_version: int
    header_size: int
    table_id: bytes
    table_version: int
    block_index: int
    block_count: int
    row_count: int
    row_size: int
    schema_hash: bytes
    nonce: bytes
    ciphertext_size: int

    def pack(self) -> bytes:
        """The 96 header bytes."""
        return BLOCK_HEADER.pack(*self)

    @classmethod
    def unpack(cls, data: bytes | memoryview, offset: int = 0) -> BlockHeader:
        """Parse the header at ``offset`` of ``data``."""
        return cls(*BLOCK_HEADER.unpack_from(data, offset))


def iter_block_headers(data: bytes | memoryview) -> Iterator[tuple[int, BlockHeader]]:
    """Walk concatenated sealed blocks, yielding ``(offset, header)``.

    Trusts ``ciphertext_size`` to find the next block (the TA checks it);
    stops at the end of ``data`` or at the first header that does not fit.

    Reveals: nothing beyond the headers, which are public.
    """
    off = 0
    n = len(data)
    while off + c.TS_BLOCK_HEADER_SIZE <= n:
        h = BlockHeader.unpack(data, off)
        yield off, h
        off += c.TS_SEALED_BLOCK_SIZE(h.ciphertext_size)


class TableDescriptor(NamedTuple):
    """A parsed ``struct ts_table_descriptor`` (public; authenticated by ``mac``)."""

    magic: int
    format_version: int
    descriptor_size: int
    table_id: bytes
    table_version: int
    row_count: int
    block_count: int
    row_size: int
    rows_per_block: int
    reserved: int
    schema_hash: bytes
    key_id: bytes
    mac: bytes

    def pack(self) -> bytes:
        """The 136 descriptor bytes."""
        return TABLE_DESCRIPTOR.pack(*self)

    @classmethod
    def unpack(cls, data: bytes | memoryview, offset: int = 0) -> TableDescriptor:
        """Parse the descriptor at ``offset`` of ``data``."""
        return cls(*TABLE_DESCRIPTOR.unpack_from(data, offset))


class EvidenceBody(NamedTuple):
    """A parsed ``struct ts_evidence_body``: what the TA asserts."""

    magic: int
    version: int
    tee_kind: int
    flags: int
    abi_version: int
    ta_uuid: bytes
    verifier_nonce: bytes
    ta_public_key: bytes
    kbs_public_key: bytes

    def pack(self) -> bytes:
        """The 128 body bytes."""
        return EVIDENCE_BODY.pack(*self)

    @classmethod
    def unpack(cls, data: bytes | memoryview, offset: int = 0) -> EvidenceBody:
        """Parse the body at ``offset`` of ``data``."""
        return cls(*EVIDENCE_BODY.unpack_from(data, offset))


class Evidence(NamedTuple):
    """A parsed ``struct ts_evidence``; ``signature`` holds only the used bytes."""

    body: EvidenceBody
    measurement: bytes
    signature: bytes

    @classmethod
    def unpack(cls, data: bytes | memoryview) -> Evidence:
        """Parse a 680-byte evidence.

        Raises:
            ValueError: the size or ``signature_size`` is out of range.
        """
        if len(data) != c.TS_EVIDENCE_SIZE:
            raise ValueError(f"evidence must be {c.TS_EVIDENCE_SIZE} bytes, got {len(data)}")
        body = EvidenceBody.unpack(data)
        measurement, sig_size, _reserved, sig = EVIDENCE_TAIL.unpack_from(
            data, c.TS_EVIDENCE_BODY_SIZE)
        if not 0 < sig_size <= len(sig):
            raise ValueError(f"evidence signature_size {sig_size} out of range 1..{len(sig)}")
        return cls(body, measurement, sig[:sig_size])


class KbsReplyHeader(NamedTuple):
    """A parsed ``struct ts_kbs_reply_header``."""

    magic: int
    version: int
    header_size: int
    evidence_hash: bytes
    kbs_ephemeral_key: bytes
    key_count: int
    recipient_count: int
    issued_at: int
    reply_size: int
    reserved: int

    def pack(self) -> bytes:
        """The 96 header bytes."""
        return KBS_REPLY_HEADER.pack(*self)

    @classmethod
    def unpack(cls, data: bytes | memoryview, offset: int = 0) -> KbsReplyHeader:
        """Parse the header at ``offset`` of ``data``."""
        return cls(*KBS_REPLY_HEADER.unpack_from(data, offset))


class WrappedKey(NamedTuple):
    """A parsed ``struct ts_wrapped_key`` (one data key of a KBS reply)."""

    slot: int
    flags: int
    key_id: bytes
    table_id: bytes
    nonce: bytes
    reserved: int
    wrapped_key: bytes
    tag: bytes

    def pack(self) -> bytes:
        """The 104 entry bytes."""
        return WRAPPED_KEY.pack(*self)

    @classmethod
    def unpack(cls, data: bytes | memoryview, offset: int = 0) -> WrappedKey:
        """Parse the entry at ``offset`` of ``data``."""
        return cls(*WRAPPED_KEY.unpack_from(data, offset))


class Recipient(NamedTuple):
    """A parsed ``struct ts_recipient``: who may receive results."""

    recipient_id: bytes
    public_key: bytes

    def pack(self) -> bytes:
        """The 48 entry bytes."""
        return RECIPIENT.pack(*self)

    @classmethod
    def unpack(cls, data: bytes | memoryview, offset: int = 0) -> Recipient:
        """Parse the entry at ``offset`` of ``data``."""
        return cls(*RECIPIENT.unpack_from(data, offset))


class ExportRequest(NamedTuple):
    """A ``struct ts_export_request``."""

    in_key_slot: int
    rows_per_block: int
    recipient_id: bytes
    out_table_id: bytes
    out_table_version: int

    def pack(self) -> bytes:
        """The 48 request bytes."""
        return EXPORT_REQUEST.pack(*self)

    @classmethod
    def unpack(cls, data: bytes | memoryview, offset: int = 0) -> ExportRequest:
        """Parse the request at ``offset`` of ``data``."""
        return cls(*EXPORT_REQUEST.unpack_from(data, offset))


class ResultEnvelope(NamedTuple):
    """A parsed ``struct ts_result_envelope`` (the result key, wrapped)."""

    magic: int
    version: int
    envelope_size: int
    recipient_id: bytes
    ta_ephemeral_key: bytes
    nonce: bytes
    reserved: int
    wrapped_key: bytes
    tag: bytes

    def pack(self) -> bytes:
        """The 120 envelope bytes."""
        return RESULT_ENVELOPE.pack(*self)

    @classmethod
    def unpack(cls, data: bytes | memoryview, offset: int = 0) -> ResultEnvelope:
        """Parse the envelope at ``offset`` of ``data``."""
        return cls(*RESULT_ENVELOPE.unpack_from(data, offset))


class TsOpRequest(ctypes.LittleEndianStructure):
    """ctypes mirror of ``struct ts_op_request`` (216 bytes)."""

    _fields_ = [
        ("op", c_uint32),
        ("mode", c_uint32),
        ("in0_key_slot", c_uint32),
        ("in1_key_slot", c_uint32),
        ("in0_flags", c_uint32),
        ("in1_flags", c_uint32),
        ("in0_bytes", c_uint64),
        ("in0_schema_hash", c_uint8 * 32),
        ("in1_schema_hash", c_uint8 * 32),
        ("out_key_slot", c_uint32),
        ("rows_per_block", c_uint32),
        ("out_row_size", c_uint32),
        ("body_size", c_uint32),
        ("pad_rows", c_uint64),
        ("out_table_id", c_uint8 * 16),
        ("out_table_version", c_uint64),
        ("out_schema_hash", c_uint8 * 32),
        ("limit", c_uint64),
        ("key_count", c_uint32),
        ("agg_count", c_uint32),
        ("pred_size", c_uint32),
        ("proj_count", c_uint32),
        ("join_kind", c_uint32),
        ("pk_side", c_uint32),
        ("right_null_bits", c_uint32),
        ("reserved", c_uint32),
    ]


class TsOpKey(ctypes.LittleEndianStructure):
    """ctypes mirror of ``struct ts_op_key`` (24 bytes)."""

    _fields_ = [
        ("type", c_uint16),
        ("descending", c_uint16),
        ("offset", c_uint32),
        ("width", c_uint32),
        ("reserved", c_uint32),
        ("null_offset", c_uint32),
        ("null_bit", c_uint8),
        ("nullable", c_uint8),
        ("nulls_first", c_uint8),
        ("reserved2", c_uint8),
    ]


class TsOpAgg(ctypes.LittleEndianStructure):
    """ctypes mirror of ``struct ts_op_agg`` (20 bytes)."""

    _fields_ = [
        ("fn", c_uint16),
        ("type", c_uint16),
        ("offset", c_uint32),
        ("width", c_uint32),
        ("null_offset", c_uint32),
        ("null_bit", c_uint8),
        ("nullable", c_uint8),
        ("reserved", c_uint16),
    ]


class TsOpProj(ctypes.LittleEndianStructure):
    """ctypes mirror of ``struct ts_op_proj`` (16 bytes)."""

    _fields_ = [
        ("prog_size", c_uint32),
        ("out_offset", c_uint32),
        ("out_null_bit", c_uint32),
        ("reserved", c_uint32),
    ]


class TsStreamCopy(ctypes.LittleEndianStructure):
    """ctypes mirror of ``struct ts_stream_copy`` (16 bytes)."""

    _fields_ = [
        ("src0", c_uint32),
        ("src1", c_uint32),
        ("dst", c_uint32),
        ("width", c_uint32),
    ]


class TsStreamAnn(ctypes.LittleEndianStructure):
    """ctypes mirror of ``struct ts_stream_ann`` (56 bytes)."""

    _fields_ = [
        ("idx", c_uint64),
        ("alpha0", c_uint64),
        ("off", c_uint64),
        ("alpha1", c_uint64),
        ("dest", c_uint64),
        ("copies", c_uint64),
        ("kind", c_uint8),
        ("drop", c_uint8),
        ("reserved", c_uint8 * 6),
    ]


class TsStreamRequest(ctypes.LittleEndianStructure):
    """ctypes mirror of ``struct ts_stream_request`` (784 bytes)."""

    _fields_ = [
        ("mode", c_uint32),
        ("in0_key_slot", c_uint32),
        ("in1_key_slot", c_uint32),
        ("out_key_slot", c_uint32),
        ("rows_per_block", c_uint32),
        ("out_row_size", c_uint32),
        ("key_count", c_uint32),
        ("agg_count", c_uint32),
        ("copy_count", c_uint32),
        ("side_offset", c_uint32),
        ("pk_offset", c_uint32),
        ("pk_size", c_uint32),
        ("fk_offset", c_uint32),
        ("reveal", c_uint32),
        ("pred_size", c_uint32),
        ("proj_count", c_uint32),
        ("in0_bytes", c_uint64),
        ("limit", c_uint64),
        ("out_table_id", c_uint8 * 16),
        ("out_table_version", c_uint64),
        ("variant", c_uint32),
        ("aux_offset", c_uint32),
        ("out_schema_hash", c_uint8 * 32),
        ("keys", TsOpKey * 8),
        ("aggs", TsOpAgg * 16),
        ("copies", TsStreamCopy * 8),
    ]

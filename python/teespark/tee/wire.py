"""Wire structs of ``teespark_ta.h``: byte layouts shared with the TA.

Two views of each struct, checked against each other and against the C
header by ``tests/test_ta_header_constants.py``:

- ``struct`` formats (little-endian, explicit), used to pack and parse;
- ``ctypes`` mirrors (:class:`TsBlockHeader`, :class:`TsSortKey`,
  :class:`TsSortRequest`), which give field offsets with C's alignment rules.

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

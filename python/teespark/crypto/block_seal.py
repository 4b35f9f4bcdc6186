"""Seal and open one teespark block on the client (AES-256-GCM).

The wire format is defined once, in ``enclave/ta/include/teespark_ta.h``
(``struct ts_block_header``): a 96-byte little-endian header, the ciphertext
of ``row_count * row_size`` plaintext bytes, and a 16-byte GCM tag. The whole
header is the additional authenticated data, so a block is bound to its
table, table version, position, block count, schema and row count; the
header's nonce is the GCM nonce.

WARNING: nonces are 96 random bits per seal. Do not seal more than 2**32
blocks under one key (NIST SP 800-38D's bound for random nonces).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, replace

from Crypto.Cipher import AES

from teespark.errors import BlockAuthenticationError, BlockFormatError

BLOCK_MAGIC = 0x31425354  # b"TSB1"
FORMAT_VERSION = 1
HEADER_SIZE = 96
KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
MAX_BLOCK_PLAINTEXT = 4 * 1024 * 1024

_HEADER = struct.Struct("<IHH16sQIIII32s12sI")
assert _HEADER.size == HEADER_SIZE


@dataclass(frozen=True)
class BlockHeader:
    """The authenticated header of a sealed block (public, not secret)."""

    table_id: bytes
    table_version: int
    block_index: int
    block_count: int
    row_count: int
    row_size: int
    schema_hash: bytes
    nonce: bytes = bytes(NONCE_SIZE)

    @property
    def ciphertext_size(self) -> int:
        return self.row_count * self.row_size

    def pack(self) -> bytes:
        return _HEADER.pack(
            BLOCK_MAGIC, FORMAT_VERSION, HEADER_SIZE, self.table_id,
            self.table_version, self.block_index, self.block_count,
            self.row_count, self.row_size, self.schema_hash, self.nonce,
            self.ciphertext_size)

    @classmethod
    def unpack(cls, data: bytes | memoryview, *, where: str = "block") -> BlockHeader:
        """Parse and validate a header; raise BlockFormatError naming ``where``."""
        if len(data) < HEADER_SIZE:
            raise BlockFormatError(
                f"{where}: {len(data)} bytes is shorter than the {HEADER_SIZE}-byte "
                "block header; the block was truncated")
        (magic, version, header_size, table_id, table_version, block_index,
         block_count, row_count, row_size, schema_hash, nonce,
         ciphertext_size) = _HEADER.unpack_from(data, 0)
        if magic != BLOCK_MAGIC:
            raise BlockFormatError(
                f"{where}: bad magic 0x{magic:08x} (expected 0x{BLOCK_MAGIC:08x}); "
                "this is not a teespark block")
        if version != FORMAT_VERSION or header_size != HEADER_SIZE:
            raise BlockFormatError(
                f"{where}: format version {version} / header size {header_size} is not "
                f"supported (this teespark reads version {FORMAT_VERSION})")
        if ciphertext_size != row_count * row_size:
            raise BlockFormatError(
                f"{where}: ciphertext size {ciphertext_size} != row_count {row_count} "
                f"x row_size {row_size}")
        if ciphertext_size > MAX_BLOCK_PLAINTEXT:
            raise BlockFormatError(
                f"{where}: {ciphertext_size} plaintext bytes exceed the block limit "
                f"of {MAX_BLOCK_PLAINTEXT}")
        return cls(table_id, table_version, block_index, block_count, row_count,
                   row_size, schema_hash, nonce)


def sealed_size(plaintext_bytes: int) -> int:
    """Bytes of a sealed block holding ``plaintext_bytes`` of rows."""
    return HEADER_SIZE + plaintext_bytes + TAG_SIZE


def seal_block(key: bytes, header: BlockHeader, plaintext: bytes | memoryview) -> bytes:
    """Seal ``plaintext`` (``header.row_count * header.row_size`` bytes).

    A fresh random nonce replaces ``header.nonce``.

    Reveals: the header fields (sizes, table id and version, position).
    """
    if len(key) != KEY_SIZE:
        raise ValueError(f"seal_block: 'key' must be {KEY_SIZE} bytes, got {len(key)}")
    if len(plaintext) != header.ciphertext_size:
        raise ValueError(
            f"seal_block: 'plaintext' has {len(plaintext)} bytes, the header announces "
            f"{header.row_count} rows x {header.row_size} bytes = {header.ciphertext_size}")
    header = replace(header, nonce=os.urandom(NONCE_SIZE))
    aad = header.pack()
    cipher = AES.new(key, AES.MODE_GCM, nonce=header.nonce, mac_len=TAG_SIZE)
    cipher.update(aad)
    ciphertext, tag = cipher.encrypt_and_digest(plaintext)
    return aad + ciphertext + tag


def open_block(key: bytes, sealed: bytes | memoryview, *,
               where: str = "block") -> tuple[BlockHeader, bytes]:
    """Authenticate and decrypt one sealed block; return (header, plaintext).

    Raises BlockFormatError for a malformed block and BlockAuthenticationError
    when the tag does not verify (modified data or another key); ``where``
    names the block in messages (e.g. "block 3 of table 'loans'").
    """
    header = BlockHeader.unpack(sealed, where=where)
    expected = sealed_size(header.ciphertext_size)
    if len(sealed) != expected:
        raise BlockFormatError(
            f"{where}: {len(sealed)} bytes but the header announces {expected}; "
            "the block was truncated or extended")
    view = memoryview(sealed)
    cipher = AES.new(key, AES.MODE_GCM, nonce=header.nonce, mac_len=TAG_SIZE)
    cipher.update(view[:HEADER_SIZE])
    try:
        plaintext = cipher.decrypt_and_verify(view[HEADER_SIZE:expected - TAG_SIZE],
                                              view[expected - TAG_SIZE:])
    except ValueError:
        raise BlockAuthenticationError(
            f"{where} failed AES-GCM authentication: it was modified or sealed under "
            "another key") from None
    return header, plaintext


def split_blocks(data: bytes | memoryview, *, what: str = "input") -> list[memoryview]:
    """Split concatenated sealed blocks into one view per block (sizes are public)."""
    view = memoryview(data)
    blocks = []
    offset = 0
    while offset < len(view):
        where = f"{what} block {len(blocks)} (offset {offset})"
        header = BlockHeader.unpack(view[offset:], where=where)
        size = sealed_size(header.ciphertext_size)
        if offset + size > len(view):
            raise BlockFormatError(f"{where}: truncated ({len(view) - offset} of {size} bytes)")
        blocks.append(view[offset:offset + size])
        offset += size
    return blocks

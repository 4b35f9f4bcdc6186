"""Seal and open one teespark block on the client (AES-256-GCM).

The wire format is defined once, in ``enclave/ta/include/teespark_ta.h``
(``struct ts_block_header``): a 96-byte little-endian header, the ciphertext
of ``row_count * row_size`` plaintext bytes, and a 16-byte GCM tag. The whole
header is the additional authenticated data, so a block is bound to its
table, table version, position, block count, schema and row count; the
header's nonce is the GCM nonce.

WARNING: nonces are 96 random bits per seal. Do not seal more than 2**32
blocks under one key (NIST SP 800-38D's bound for random nonces).

AES-GCM runs on OpenSSL through pyca/cryptography (about twice pycryptodome's
speed here); tests cross-check it against pycryptodome.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, replace

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

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


def _byte_view(data: bytes | bytearray | memoryview) -> memoryview:
    """A memoryview of unsigned bytes (Arrow buffers export signed 'b')."""
    view = memoryview(data)
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


class BlockSealer:
    """Seals and opens blocks under one data key (the AES key schedule is done once).

    Holds the key for its lifetime; drop it when the table is written.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_SIZE:
            raise ValueError(f"BlockSealer: 'key' must be {KEY_SIZE} bytes, got {len(key)}")
        self._aead = AESGCM(bytes(key))

    def seal_into(self, header: BlockHeader, plaintext: bytes | memoryview,
                  out: bytearray | memoryview) -> BlockHeader:
        """Seal ``plaintext`` into ``out`` (exactly ``sealed_size`` bytes).

        A fresh random nonce replaces ``header.nonce``; returns the header
        as sealed.

        Reveals: the header fields (sizes, table id and version, position).
        """
        if len(plaintext) != header.ciphertext_size:
            raise ValueError(
                f"seal_block: 'plaintext' has {len(plaintext)} bytes, the header announces "
                f"{header.row_count} rows x {header.row_size} bytes = "
                f"{header.ciphertext_size}")
        size = sealed_size(header.ciphertext_size)
        if len(out) != size:
            raise ValueError(f"seal_into: 'out' must be {size} bytes, got {len(out)}")
        header = replace(header, nonce=os.urandom(NONCE_SIZE))
        aad = header.pack()
        view = _byte_view(out)
        view[:HEADER_SIZE] = aad
        self._aead.encrypt_into(header.nonce, _byte_view(plaintext), aad, view[HEADER_SIZE:])
        return header

    def seal(self, header: BlockHeader, plaintext: bytes | memoryview) -> bytes:
        """Seal ``plaintext``; returns header | ciphertext | tag as bytes."""
        out = bytearray(sealed_size(header.ciphertext_size))
        self.seal_into(header, plaintext, out)
        return bytes(out)

    def open(self, sealed: bytes | memoryview, *, where: str = "block",
             out: bytearray | memoryview | None = None) -> tuple[BlockHeader, bytes]:
        """Authenticate and decrypt one sealed block; see :func:`open_block`.

        With ``out`` (exactly ``ciphertext_size`` bytes) the plaintext is
        written there and ``out`` is returned in place of new bytes.
        """
        header = BlockHeader.unpack(sealed, where=where)
        expected = sealed_size(header.ciphertext_size)
        if len(sealed) != expected:
            raise BlockFormatError(
                f"{where}: {len(sealed)} bytes but the header announces {expected}; "
                "the block was truncated or extended")
        view = _byte_view(sealed)
        try:
            if out is None:
                plaintext = self._aead.decrypt(header.nonce, view[HEADER_SIZE:],
                                               view[:HEADER_SIZE])
            else:
                if len(out) != header.ciphertext_size:
                    raise ValueError(f"open: 'out' must be {header.ciphertext_size} bytes")
                self._aead.decrypt_into(header.nonce, view[HEADER_SIZE:], view[:HEADER_SIZE],
                                        _byte_view(out))
                plaintext = out
        except InvalidTag:
            if out is not None:
                _byte_view(out)[:] = bytes(len(out))
            raise BlockAuthenticationError(
                f"{where} failed AES-GCM authentication: it was modified or sealed under "
                "another key") from None
        return header, plaintext


def seal_block(key: bytes, header: BlockHeader, plaintext: bytes | memoryview) -> bytes:
    """Seal ``plaintext`` (``header.row_count * header.row_size`` bytes).

    A fresh random nonce replaces ``header.nonce``.

    Reveals: the header fields (sizes, table id and version, position).
    """
    if len(key) != KEY_SIZE:
        raise ValueError(f"seal_block: 'key' must be {KEY_SIZE} bytes, got {len(key)}")
    return BlockSealer(key).seal(header, plaintext)


def open_block(key: bytes, sealed: bytes | memoryview, *,
               where: str = "block") -> tuple[BlockHeader, bytes]:
    """Authenticate and decrypt one sealed block; return (header, plaintext).

    Raises BlockFormatError for a malformed block and BlockAuthenticationError
    when the tag does not verify (modified data or another key); ``where``
    names the block in messages (e.g. "block 3 of table 'loans'").
    """
    if len(key) != KEY_SIZE:
        raise ValueError(f"open_block: 'key' must be {KEY_SIZE} bytes, got {len(key)}")
    return BlockSealer(key).open(sealed, where=where)


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

"""Client-side block sealing: checked against an independent AES-GCM
implementation (pyca/cryptography) and against tampering."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from teespark.crypto.block_seal import (HEADER_SIZE, TAG_SIZE, BlockHeader, open_block,
                                        seal_block, sealed_size, split_blocks)
from teespark.errors import BlockAuthenticationError, BlockFormatError

KEY = bytes(range(32))


def make_header(rows: int, row_size: int, index: int = 0, count: int = 1) -> BlockHeader:
    return BlockHeader(table_id=b"T" * 16, table_version=7, block_index=index,
                       block_count=count, row_count=rows, row_size=row_size,
                       schema_hash=b"S" * 32)


@given(rows=st.integers(0, 40), row_size=st.integers(1, 64), data=st.data())
@settings(max_examples=60, deadline=None)
def test_seal_matches_independent_aes_gcm(rows, row_size, data):
    plaintext = data.draw(st.binary(min_size=rows * row_size, max_size=rows * row_size))
    sealed = seal_block(KEY, make_header(rows, row_size), plaintext)
    assert len(sealed) == sealed_size(rows * row_size)
    header = BlockHeader.unpack(sealed)
    # pyca/cryptography returns ciphertext || tag; AAD is the whole header.
    reference = AESGCM(KEY).decrypt(header.nonce, sealed[HEADER_SIZE:], sealed[:HEADER_SIZE])
    assert reference == plaintext
    assert open_block(KEY, sealed) == (header, plaintext)


def test_fresh_nonce_per_seal():
    header = make_header(4, 8)
    a = seal_block(KEY, header, bytes(32))
    b = seal_block(KEY, header, bytes(32))
    assert BlockHeader.unpack(a).nonce != BlockHeader.unpack(b).nonce
    assert a[HEADER_SIZE:] != b[HEADER_SIZE:]


@pytest.mark.parametrize("region", ["header", "nonce", "ciphertext", "tag"])
def test_every_flipped_byte_is_detected(region):
    sealed = bytearray(seal_block(KEY, make_header(3, 5), os.urandom(15)))
    nonce_at = 80  # offset of ts_block_header.nonce
    spans = {"header": range(0, nonce_at), "nonce": range(nonce_at, nonce_at + 12),
             "ciphertext": range(HEADER_SIZE, len(sealed) - TAG_SIZE),
             "tag": range(len(sealed) - TAG_SIZE, len(sealed))}
    for i in spans[region]:
        tampered = bytearray(sealed)
        tampered[i] ^= 0x01
        with pytest.raises((BlockAuthenticationError, BlockFormatError),
                           match="block 9 of table 'loans'"):
            open_block(KEY, bytes(tampered), where="block 9 of table 'loans'")


def test_wrong_key_is_an_authentication_error():
    sealed = seal_block(KEY, make_header(2, 8), bytes(16))
    with pytest.raises(BlockAuthenticationError, match="modified or sealed under another key"):
        open_block(bytes(32), sealed)


def test_truncated_block_names_the_block():
    sealed = seal_block(KEY, make_header(2, 8), bytes(16))
    with pytest.raises(BlockFormatError, match="block 0 of table 'x'.*truncated"):
        open_block(KEY, sealed[:-1], where="block 0 of table 'x'")


def test_split_blocks_walks_concatenated_blocks():
    blocks = [seal_block(KEY, make_header(n, 4, i, 3), os.urandom(4 * n))
              for i, n in enumerate([0, 5, 2])]
    views = split_blocks(b"".join(blocks))
    assert [bytes(v) for v in views] == blocks
    with pytest.raises(BlockFormatError, match="truncated"):
        split_blocks(b"".join(blocks)[:-3])


def test_seal_rejects_wrong_sizes():
    with pytest.raises(ValueError, match="'plaintext' has 3 bytes"):
        seal_block(KEY, make_header(1, 4), b"abc")
    with pytest.raises(ValueError, match="'key' must be 32 bytes"):
        seal_block(b"short", make_header(1, 4), b"abcd")

"""BlockSealer (OpenSSL through pyca/cryptography) against pycryptodome's
AES-GCM, an independent implementation, in both directions."""

from __future__ import annotations

import os

import pytest
from Crypto.Cipher import AES
from hypothesis import given, settings
from hypothesis import strategies as st

from teespark.crypto.block_seal import (HEADER_SIZE, TAG_SIZE, BlockHeader, BlockSealer,
                                        sealed_size)
from teespark.errors import BlockAuthenticationError

KEY = bytes(range(32))


def header(rows: int, row_size: int, index: int = 0) -> BlockHeader:
    return BlockHeader(table_id=b"T" * 16, table_version=2, block_index=index,
                       block_count=index + 1, row_count=rows, row_size=row_size,
                       schema_hash=b"S" * 32)


@given(rows=st.integers(0, 50), row_size=st.integers(1, 40), data=st.data())
@settings(max_examples=60, deadline=None)
def test_seal_into_matches_pycryptodome(rows, row_size, data):
    plain = data.draw(st.binary(min_size=rows * row_size, max_size=rows * row_size))
    out = bytearray(sealed_size(len(plain)) + 8)
    h = BlockSealer(KEY).seal_into(header(rows, row_size), plain,
                                   memoryview(out)[4:4 + sealed_size(len(plain))])
    sealed = bytes(out[4:-4])
    assert out[:4] == bytes(4) and out[-4:] == bytes(4)  # nothing written outside
    assert sealed[:HEADER_SIZE] == h.pack()
    cipher = AES.new(KEY, AES.MODE_GCM, nonce=h.nonce, mac_len=TAG_SIZE)
    cipher.update(sealed[:HEADER_SIZE])
    assert cipher.decrypt_and_verify(sealed[HEADER_SIZE:-TAG_SIZE],
                                     sealed[-TAG_SIZE:]) == plain


def test_open_accepts_pycryptodome_blocks_and_zeroes_output_on_failure():
    h = BlockHeader(b"T" * 16, 2, 0, 1, 3, 5, b"S" * 32, nonce=os.urandom(12))
    plain = os.urandom(15)
    cipher = AES.new(KEY, AES.MODE_GCM, nonce=h.nonce, mac_len=TAG_SIZE)
    cipher.update(h.pack())
    ct, tag = cipher.encrypt_and_digest(plain)
    sealed = h.pack() + ct + tag
    out = bytearray(15)
    assert BlockSealer(KEY).open(sealed, out=out) == (h, out) and out == plain
    bad = bytearray(sealed)
    bad[HEADER_SIZE] ^= 1
    with pytest.raises(BlockAuthenticationError, match="block 0 of table 'x'"):
        BlockSealer(KEY).open(bytes(bad), out=out, where="block 0 of table 'x'")
    assert out == bytes(15)


def test_sealer_checks_sizes():
    s = BlockSealer(KEY)
    with pytest.raises(ValueError, match="announces 2 rows x 4 bytes"):
        s.seal(header(2, 4), bytes(7))
    with pytest.raises(ValueError, match="'out' must be"):
        s.seal_into(header(1, 4), bytes(4), bytearray(10))
    with pytest.raises(ValueError, match="32 bytes"):
        BlockSealer(bytes(16))

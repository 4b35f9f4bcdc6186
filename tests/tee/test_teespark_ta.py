"""TeesparkTA against the teespark TA in the simulator.

Sealed blocks are made and opened here with the `cryptography` package's
AES-GCM (an implementation independent of the TA's), following the block
format of teespark_ta.h: header (AAD) | ciphertext | tag. Block commands take
only registered tables (ABI v2): each test registers its table first with a
descriptor from teespark.tee.descriptor. test_key_release.py covers the
registration, tamper and key release commands themselves.
"""

from __future__ import annotations

import os
import struct

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from teespark.errors import (
    BlockAuthenticationError,
    BlockFormatError,
    BlockSequenceError,
    EnclaveBadParametersError,
    EnclaveError,
    TableNotRegisteredError,
)
from teespark.tee import SortKey, TeesparkTA, pack_sort_request
from teespark.tee import constants as c
from teespark.tee.descriptor import build_table_descriptor, verify_table_descriptor
from teespark.tee.wire import BlockHeader, iter_block_headers

TABLE = bytes(range(16))
SCHEMA = bytes(range(100, 132))
KEY_A = bytes(range(32))
KEY_B = bytes(range(32, 64))


def seal_table(key: bytes, rows: bytes, row_size: int, rows_per_block: int,
               *, version: int = 7) -> bytes:
    """Seal rows into consecutive blocks (reference implementation)."""
    n_rows = len(rows) // row_size
    chunks = [rows[i * row_size: (i + rows_per_block) * row_size]
              for i in range(0, n_rows, rows_per_block)]
    out = []
    for index, chunk in enumerate(chunks):
        nonce = os.urandom(c.TS_NONCE_SIZE)
        hdr = BlockHeader(c.TS_BLOCK_MAGIC, c.TS_FORMAT_VERSION, c.TS_BLOCK_HEADER_SIZE,
                          TABLE, version, index, len(chunks), len(chunk) // row_size,
                          row_size, SCHEMA, nonce, len(chunk)).pack()
        out.append(hdr + AESGCM(key).encrypt(nonce, chunk, hdr))
    return b"".join(out)


def register(ta: TeesparkTA, n_rows: int, row_size: int, rows_per_block: int, *,
             key: bytes = KEY_A, slot: int = 0, version: int = 7) -> None:
    """Register the TABLE of seal_table's shape in the TA."""
    ta.register_table(build_table_descriptor(
        key, table_id=TABLE, table_version=version, row_count=n_rows, row_size=row_size,
        rows_per_block=rows_per_block, schema_hash=SCHEMA), slot)


def open_table(key: bytes, data: bytes) -> tuple[list[BlockHeader], bytes]:
    headers, rows, end = [], [], 0
    for off, h in iter_block_headers(data):
        end = off + c.TS_SEALED_BLOCK_SIZE(h.ciphertext_size)
        body = data[off + c.TS_BLOCK_HEADER_SIZE: end]
        rows.append(AESGCM(key).decrypt(h.nonce, body, data[off: off + c.TS_BLOCK_HEADER_SIZE]))
        headers.append(h)
    assert end == len(data)
    return headers, b"".join(rows)


@pytest.fixture
def ta():
    with TeesparkTA() as t:
        t.install_dev_key(0, KEY_A)
        t.install_dev_key(3, KEY_B)
        yield t


def test_get_info_reports_abi_and_limits(ta) -> None:
    info = ta.get_info()
    assert info.abi_version == c.TA_TEESPARK_ABI_VERSION
    assert info.max_key_slots == c.TS_MAX_KEY_SLOTS
    assert info.max_block_plaintext == c.TS_MAX_BLOCK_PLAINTEXT
    assert info.heap_bytes >= 1 << 20


@pytest.mark.parametrize("n_rows, row_size, per_block", [(10, 16, 4), (3000, 1000, 1100)])
def test_reseal_round_trip(ta, n_rows, row_size, per_block) -> None:
    # The second case is ~3 MB: input and output travel in shared memory.
    rows = np.random.default_rng(n_rows).integers(0, 256, n_rows * row_size,
                                                  dtype=np.uint8).tobytes()
    sealed = seal_table(KEY_A, rows, row_size, per_block)
    with pytest.raises(TableNotRegisteredError, match="RESEAL_BLOCKS: .*register_table"):
        ta.reseal_blocks(sealed, 0, 3)
    register(ta, n_rows, row_size, per_block)
    out, open_us, seal_us = ta.reseal_blocks(sealed, 0, 3)
    assert len(out) == len(sealed)
    assert open_us >= 0 and seal_us >= 0
    headers_in, _ = open_table(KEY_A, sealed)
    headers_out, plain = open_table(KEY_B, out)
    assert plain == rows
    for a, b in zip(headers_in, headers_out):
        assert a._replace(nonce=b"") == b._replace(nonce=b"")
        assert a.nonce != b.nonce
    with pytest.raises(Exception):  # noqa: B017 - the old key no longer opens it
        open_table(KEY_A, out)


def test_query_key_never_leaves_the_ta(ta) -> None:
    rows = bytes(range(256)) * 4
    sealed = seal_table(KEY_A, rows, 64, 5)
    register(ta, 16, 64, 5)
    ta.new_query_key(5)
    via_query, _, _ = ta.reseal_blocks(sealed, 0, 5)
    back, _, _ = ta.reseal_blocks(via_query, 5, 3)
    assert open_table(KEY_B, back)[1] == rows


def test_tampered_block_names_its_index(ta) -> None:
    sealed = bytearray(seal_table(KEY_A, bytes(64 * 12), 64, 4))
    register(ta, 12, 64, 4)
    offsets = [off for off, _ in iter_block_headers(bytes(sealed))]
    sealed[offsets[2] + c.TS_BLOCK_HEADER_SIZE + 5] ^= 1
    with pytest.raises(BlockAuthenticationError, match="RESEAL_BLOCKS: input block 2 ") as info:
        ta.reseal_blocks(bytes(sealed), 0, 3)
    assert info.value.block_index == 2
    assert info.value.code == c.TS_ERROR_BLOCK_AUTH


def test_wrong_key_fails_authentication_at_block_0(ta) -> None:
    sealed = seal_table(KEY_B, bytes(640), 64, 4)
    register(ta, 10, 64, 4)  # the descriptor is KEY_A's, the blocks KEY_B's
    with pytest.raises(BlockAuthenticationError) as info:
        ta.reseal_blocks(sealed, 0, 3)
    assert info.value.block_index == 0


def test_reordered_blocks_are_a_sequence_error(ta) -> None:
    sealed = seal_table(KEY_A, bytes(64 * 12), 64, 4)
    register(ta, 12, 64, 4)
    blocks = [sealed[off: off + c.TS_SEALED_BLOCK_SIZE(h.ciphertext_size)]
              for off, h in iter_block_headers(sealed)]
    swapped = blocks[0] + blocks[2] + blocks[1]
    with pytest.raises(BlockSequenceError) as info:
        ta.reseal_blocks(swapped, 0, 3)
    assert info.value.block_index == 1
    with pytest.raises(BlockSequenceError) as info:  # truncated table
        ta.reseal_blocks(blocks[0] + blocks[1], 0, 3)


def test_malformed_block_is_a_format_error(ta) -> None:
    sealed = bytearray(seal_table(KEY_A, bytes(640), 64, 4))
    register(ta, 10, 64, 4)
    sealed[0:4] = b"XXXX"
    with pytest.raises(BlockFormatError) as info:
        ta.reseal_blocks(bytes(sealed), 0, 3)
    assert info.value.block_index == 0


def test_empty_key_slot(ta) -> None:
    sealed = seal_table(KEY_A, bytes(640), 64, 4)
    ta.clear_key(0)
    ta.clear_key(0)  # harmless when empty
    with pytest.raises(EnclaveError, match="key slot named in the call is empty") as info:
        ta.reseal_blocks(sealed, 0, 3)
    assert info.value.code == c.TS_ERROR_KEY_SLOT_EMPTY


def test_arguments_are_validated_before_the_call(ta) -> None:
    with pytest.raises(ValueError, match="install_dev_key: 'key' must be 32 bytes, got 16"):
        ta.install_dev_key(1, bytes(16))
    with pytest.raises(ValueError, match="install_dev_key: 'slot'"):
        ta.install_dev_key(8, KEY_A)
    with pytest.raises(ValueError, match="reseal_blocks: 'out_slot'"):
        ta.reseal_blocks(b"", 0, -1)
    with pytest.raises(ValueError, match="sort_blocks: 'request' must be 200 bytes"):
        ta.sort_blocks(b"", b"short")


def _rows_with_keys(n: int, row_size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, 256, (n, row_size), dtype=np.uint8)
    # Unique composite keys: int16 at 0 (few distinct values), uint32 at 4.
    rows[:, 0:2] = rng.integers(-3, 3, n, dtype=np.int16)[:, None].view(np.uint8)
    rows[:, 4:8] = rng.permutation(n).astype("<u4")[:, None].view(np.uint8)
    return rows


def test_sort_blocks_matches_numpy(ta) -> None:
    n, row_size, per_block_in, per_block_out = 500, 24, 64, 70
    rows = _rows_with_keys(n, row_size, 5)
    sealed = seal_table(KEY_A, rows.tobytes(), row_size, per_block_in)
    register(ta, n, row_size, per_block_in)
    req = pack_sort_request(keys=[SortKey("int", 0, 2), SortKey("uint", 4, 4, descending=True)],
                            rows_per_block=per_block_out, in_key_slot=0, out_key_slot=3,
                            out_table_id=b"T" * 16, out_table_version=99, schema_hash=SCHEMA)
    desc, out, n_rows, n_blocks = ta.sort_blocks(sealed, req)
    assert (n_rows, n_blocks) == (n, -(-n // per_block_out))
    d = verify_table_descriptor(KEY_B, desc)  # MAC'd under the out slot's key
    assert (d.table_id, d.table_version, d.row_count, d.block_count, d.row_size,
            d.rows_per_block, d.schema_hash, d.key_id) == (
        b"T" * 16, 99, n, n_blocks, row_size, per_block_out, SCHEMA, bytes(16))
    headers, plain = open_table(KEY_B, out)
    got = np.frombuffer(plain, np.uint8).reshape(n, row_size)
    k1 = rows[:, 0:2].copy().view("<i2").ravel()
    k2 = rows[:, 4:8].copy().view("<u4").ravel()
    want = rows[np.lexsort((-k2.astype(np.int64), k1))]
    assert np.array_equal(got, want)
    assert [h.block_index for h in headers] == list(range(n_blocks))
    assert {(h.table_id, h.table_version, h.block_count, h.schema_hash, h.row_size)
            for h in headers} == {(b"T" * 16, 99, n_blocks, SCHEMA, row_size)}
    assert [h.row_count for h in headers] == [70] * 7 + [10]


def test_sort_rejects_bad_request(ta) -> None:
    sealed = seal_table(KEY_A, bytes(24 * 10), 24, 5)
    req = bytearray(pack_sort_request(keys=[SortKey("uint", 0, 4)], rows_per_block=5,
                                      in_key_slot=0, out_key_slot=3, out_table_id=TABLE,
                                      out_table_version=1, schema_hash=SCHEMA))
    struct.pack_into("<I", req, 12, 9)  # key_count beyond TS_MAX_SORT_KEYS
    with pytest.raises(EnclaveBadParametersError, match="SORT_BLOCKS") as info:
        ta.sort_blocks(sealed, bytes(req))
    assert info.value.code == c.TS_ERROR_BAD_REQUEST

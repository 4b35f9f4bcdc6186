"""The reader's checks: every tampering of storage is caught, and the message
names the table and the block. Each case has a negative control: the same
table untouched reads fine (test_untampered_table_reads)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from format_helpers import KEY, KEY_ID, OTHER_KEY, flip, rewrite_blocks

from teespark.crypto.block_seal import HEADER_SIZE, TAG_SIZE
from teespark.errors import (BlockAuthenticationError, BlockError, BlockFormatError,
                             BlockSequenceError, ManifestAuthenticationError, TableFormatError)
from teespark.format import Schema, iter_sealed_blocks, read_table, verify_table, write_table

SCHEMA = Schema.from_spec("id:int64 not null, name:string(6), v:float64")
ROWS = 40
RPB = 10  # 4 blocks


def table(seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({"id": pa.array(np.arange(ROWS, dtype=np.int64)),
                     "name": [f"n{i}" for i in rng.integers(0, 999, ROWS)],
                     "v": rng.normal(size=ROWS)})


def write(path, *, key=KEY, name="loans", **kw):
    return write_table(table(kw.pop("seed", 0)), path, data_key=key, key_id=KEY_ID,
                       table_name=name, schema=SCHEMA, rows_per_block=RPB, **kw)


@pytest.fixture
def loans(tmp_path):
    write(tmp_path / "loans")
    return tmp_path / "loans"


def assert_rejected(path, error, block: int | None, message: str = ""):
    """Both readers reject with ``error``, naming the table and the block."""
    names_block = f"block {block} of table 'loans'" if block is not None else "table 'loans'"
    for reader in (read_table, verify_table):
        with pytest.raises(error, match=f"{names_block}.*{message}") as e:
            reader(path, data_key=KEY)
        if block is not None and isinstance(e.value, BlockError):
            assert e.value.block_index == block


def test_untampered_table_reads(loans):
    assert read_table(loans, data_key=KEY).num_rows == ROWS
    assert verify_table(loans, data_key=KEY).block_count == 4


# --- bit flips in each region of a sealed block ---------------------------

REGIONS = {
    # struct ts_block_header fields (all AAD) except the nonce
    "header.table_id": 8, "header.table_version": 24, "header.block_index": 32,
    "header.block_count": 36, "header.schema_hash": 48 + 31,
    "nonce": 80 + 5, "ciphertext": HEADER_SIZE + 17, "tag": -TAG_SIZE + 3,
}


@pytest.mark.parametrize("region", REGIONS)
def test_bit_flip_is_detected(loans, region):
    offset = REGIONS[region]
    rewrite_blocks(loans, lambda bs: [(i, flip(b, offset % len(b)) if i == 2 else b)
                                      for i, b in bs])
    assert_rejected(loans, BlockAuthenticationError, 2, "failed AES-GCM authentication")


@pytest.mark.parametrize("offset, message", [
    (0, "bad magic"), (4, "format version"), (40, "ciphertext size"), (92, "ciphertext size")])
def test_bit_flip_in_structural_header_fields_is_a_format_error(loans, offset, message):
    rewrite_blocks(loans, lambda bs: [(i, flip(b, offset) if i == 1 else b) for i, b in bs])
    assert_rejected(loans, BlockFormatError, 1, message)


def test_truncated_block(loans):
    rewrite_blocks(loans, lambda bs: [(i, b[:-1] if i == 3 else b) for i, b in bs])
    assert_rejected(loans, BlockFormatError, 3, "truncated")
    rewrite_blocks(loans, lambda bs: [(i, b[:50] if i == 3 else b) for i, b in bs])
    assert_rejected(loans, BlockFormatError, 3, "shorter than the 96-byte block header")


def test_dropped_block(loans):
    rewrite_blocks(loans, lambda bs: [x for x in bs if x[0] != 1])
    assert_rejected(loans, BlockSequenceError, 1, "missing or out of order")


def test_dropped_last_block(loans):
    rewrite_blocks(loans, lambda bs: bs[:-1])
    assert_rejected(loans, BlockSequenceError, 3, "missing")


def test_dropped_block_with_the_index_column_renumbered(loans):
    # The attacker also fixes up the unauthenticated block_index column.
    rewrite_blocks(loans, lambda bs: [(j, b) for j, (_, b) in
                                      enumerate(x for x in bs if x[0] != 1)])
    assert_rejected(loans, BlockSequenceError, 1, "header says block 2 of 4")


def test_duplicated_block(loans):
    rewrite_blocks(loans, lambda bs: bs[:2] + [bs[1]] + bs[2:])
    assert_rejected(loans, BlockSequenceError, 2, "missing or out of order: block 1")


def test_duplicated_block_at_the_end(loans):
    rewrite_blocks(loans, lambda bs: bs + [bs[-1]])
    assert_rejected(loans, BlockSequenceError, 4, "one too many: the manifest lists 4 blocks")


def test_reordered_blocks(loans):
    rewrite_blocks(loans, lambda bs: [bs[0], bs[2], bs[1], bs[3]])
    assert_rejected(loans, BlockSequenceError, 1, "block 2 is stored in its place")


def test_reordered_blocks_with_the_index_column_renumbered(loans):
    rewrite_blocks(loans, lambda bs: [(0, bs[0][1]), (1, bs[2][1]), (2, bs[1][1]),
                                      (3, bs[3][1])])
    assert_rejected(loans, BlockSequenceError, 1, "reordered")


def test_block_replayed_from_another_table_under_the_same_key(loans, tmp_path):
    write(tmp_path / "other", name="other", seed=1)
    foreign = dict(iter_sealed_blocks(tmp_path / "other"))
    rewrite_blocks(loans, lambda bs: [(i, foreign[i] if i == 2 else b) for i, b in bs])
    assert_rejected(loans, BlockSequenceError, 2, "replayed from another table")


def test_block_replayed_from_another_table_under_another_key(loans, tmp_path):
    write(tmp_path / "other", name="other", key=OTHER_KEY, seed=1)
    foreign = dict(iter_sealed_blocks(tmp_path / "other"))
    rewrite_blocks(loans, lambda bs: [(i, foreign[i] if i == 2 else b) for i, b in bs])
    assert_rejected(loans, BlockAuthenticationError, 2, "sealed under another key")


def test_block_replayed_from_an_older_version_of_the_same_table(tmp_path):
    v1 = write(tmp_path / "loans")
    old = dict(iter_sealed_blocks(tmp_path / "loans"))
    # Version 2 of the same table (same id and key), written over version 1.
    write(tmp_path / "loans", table_id=v1.table_id, table_version=2, overwrite=True, seed=5)
    rewrite_blocks(tmp_path / "loans", lambda bs: [(i, old[i] if i == 1 else b)
                                                   for i, b in bs])
    assert_rejected(tmp_path / "loans", BlockSequenceError, 1,
                    "version 1 of the table, the manifest is version 2")


# --- the manifest ----------------------------------------------------------


def edit_manifest(path, change):
    f = path / "_manifest.json"
    doc = json.loads(f.read_text())
    change(doc)
    f.write_text(json.dumps(doc))


@pytest.mark.parametrize("change", [
    lambda d: d.update(row_count=39),
    lambda d: d.update(row_count=41),
    lambda d: d.update(rows_per_block=11),
    lambda d: d["schema"]["columns"][1].update(type="string(7)"),
    lambda d: d["schema"]["columns"][2].update(name="w"),
    lambda d: d["schema"]["columns"][0].update(nullable=True),
    lambda d: d.update(table_version=2),
    lambda d: d.update(table_name="payments"),
    lambda d: d.update(created_at="2000-01-01T00:00:00.000000Z"),
], ids=["rows-down", "rows-up", "rows-per-block", "string-length", "column-name",
        "nullability", "version", "name", "created-at"])
def test_edited_manifest_fails_authentication(loans, change):
    edit_manifest(loans, change)
    for reader in (read_table, verify_table):
        with pytest.raises(ManifestAuthenticationError, match="table '(loans|payments)'.*"
                           "MAC does not verify"):
            reader(loans, data_key=KEY)


def test_wrong_data_key_fails_on_the_manifest_first(loans):
    # Blocks are tampered with too: the manifest check must come first.
    rewrite_blocks(loans, lambda bs: [(i, flip(b, 100)) for i, b in bs])
    for reader in (read_table, verify_table):
        with pytest.raises(ManifestAuthenticationError,
                           match="table 'loans'.*data key is wrong \\(key id "
                                 f"{KEY_ID.hex()}\\)"):
            reader(loans, data_key=OTHER_KEY)


def test_unlisted_and_missing_block_files(loans):
    (loans / "extra.parquet").write_bytes(b"PAR1")
    assert_rejected(loans, TableFormatError, None, "'extra.parquet', which the manifest "
                                                   "does not list")
    (loans / "extra.parquet").unlink()
    (loans / "blocks-00000.parquet").rename(loans / ".hidden")
    assert_rejected(loans, TableFormatError, None, "'blocks-00000.parquet' is missing")


def test_iter_sealed_blocks_checks_public_order_only(loans):
    rewrite_blocks(loans, lambda bs: [bs[1], bs[0]] + bs[2:])
    with pytest.raises(BlockSequenceError, match="block 0 of table 'loans'"):
        list(iter_sealed_blocks(loans))
    assert [i for i, _ in iter_sealed_blocks(loans, check_order=False)] == [1, 0, 2, 3]

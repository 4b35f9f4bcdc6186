"""Manifest: the descriptor bytes against teespark_ta.h, the MAC against an
independent HKDF/HMAC (pyca/cryptography), JSON parsing and verification."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from format_helpers import KEY, KEY_ID, OTHER_KEY

from teespark.crypto import block_seal
from teespark.errors import ManifestAuthenticationError, TableFormatError, TableNotFoundError
from teespark.format import Schema, load_manifest
from teespark.format import manifest as mf

HEADER = Path(__file__).resolve().parents[2] / "enclave" / "ta" / "include" / "teespark_ta.h"
SCHEMA = Schema.from_spec("id:int64 not null, name:string(12), amt:decimal(10,2)")


def header_define(name: str) -> str:
    m = re.search(rf"^#define {name}\s+(.+?)\s*(?:/\*.*)?$", HEADER.read_text(), re.M)
    assert m, name
    return m.group(1)


def make_manifest(**changes) -> mf.Manifest:
    fields = dict(table_name="loans", table_id=bytes(range(16)), table_version=3,
                  schema=SCHEMA, row_count=1000, block_count=4, rows_per_block=300,
                  key_id=KEY_ID, created_at="2024-01-02T03:04:05.000006Z",
                  files=(mf.BlockFile("blocks-00000.parquet", 0, 4),))
    fields.update(changes)
    return mf.Manifest(**fields)


def test_constants_match_the_shared_header():
    assert int(header_define("TS_TABLE_DESCRIPTOR_SIZE")) == mf.DESCRIPTOR_SIZE == 136
    assert int(header_define("TS_DESCRIPTOR_MAC_OFFSET")) == mf.DESCRIPTOR_MAC_OFFSET
    assert int(header_define("TS_DESCRIPTOR_MAGIC").rstrip("u"), 16) == mf.DESCRIPTOR_MAGIC
    assert header_define("TS_MANIFEST_MAC_INFO") == f'"{mf.MANIFEST_MAC_INFO.decode()}"'
    assert int(header_define("TS_FORMAT_VERSION")) == mf.FORMAT_VERSION
    assert int(header_define("TS_BLOCK_HEADER_SIZE")) == block_seal.HEADER_SIZE
    assert int(header_define("TS_BLOCK_MAGIC").rstrip("u"), 16) == block_seal.BLOCK_MAGIC
    assert header_define("TS_MAX_BLOCK_PLAINTEXT") == "(4u * 1024u * 1024u)"
    assert block_seal.MAX_BLOCK_PLAINTEXT == 4 * 1024 * 1024
    assert int(header_define("TS_MAX_ROW_SIZE")) == 65536


def test_hkdf_matches_rfc5869_test_case_1():
    okm = mf.hkdf_sha256(bytes([0x0B] * 22), bytes(range(0xF0, 0xFA)), 42,
                         salt=bytes(range(13)))
    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                         "34007208d5b887185865")


def test_descriptor_layout_and_mac_match_an_independent_computation():
    m = make_manifest().authenticate(KEY)
    d = m.descriptor_bytes()
    assert len(d) == 136
    # Offsets from struct ts_table_descriptor, read field by field.
    assert struct.unpack_from("<I", d, 0)[0] == 0x44545354 and d[:4] == b"TSTD"
    assert struct.unpack_from("<HH", d, 4) == (1, 136)
    assert d[8:24] == bytes(range(16))
    assert struct.unpack_from("<QQ", d, 24) == (3, 1000)
    assert struct.unpack_from("<IIII", d, 40) == (4, SCHEMA.row_size, 300, 0)
    assert d[56:88] == hashlib.sha256(SCHEMA.canonical_json().encode()).digest()
    assert d[88:104] == KEY_ID
    mac_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=bytes(32),
                   info=b"teespark/manifest-mac/v1").derive(KEY)
    assert d[104:] == hmac.new(mac_key, d[:104], hashlib.sha256).digest()
    assert mf.parse_descriptor(d)["mac"] == d[104:]
    assert mf.parse_descriptor(d)["rows_per_block"] == 300


def test_descriptor_needs_authentication_first():
    with pytest.raises(ValueError, match="authenticate"):
        make_manifest().descriptor_bytes()


def test_verify_accepts_the_right_key_and_rejects_a_wrong_one():
    m = make_manifest().authenticate(KEY)
    again = mf.Manifest.from_json(m.to_json())
    assert not again.verified
    assert again.verify(KEY).verified
    with pytest.raises(ManifestAuthenticationError, match="table 'loans'.*data key is wrong"):
        mf.Manifest.from_json(m.to_json()).verify(OTHER_KEY)


@pytest.mark.parametrize("change, which", [
    (dict(row_count=999), "descriptor"), (dict(block_count=5), "descriptor"),
    (dict(rows_per_block=301), "descriptor"), (dict(table_version=2), "descriptor"),
    (dict(table_id=bytes(16)), "descriptor"), (dict(key_id=bytes(16)), "descriptor"),
    (dict(schema=Schema.from_spec("id:int64 not null, name:string(13), amt:decimal(10,2)")),
     "descriptor"),
    (dict(table_name="payments"), "JSON"), (dict(created_at="2030-01-01T00:00:00Z"), "JSON"),
    (dict(files=(mf.BlockFile("blocks-00009.parquet", 0, 4),)), "JSON"),
])
def test_every_edited_field_fails_verification(change, which):
    m = make_manifest().authenticate(KEY)
    edited = dataclasses.replace(m, **change)
    with pytest.raises(ManifestAuthenticationError, match=f"{which} MAC does not verify"):
        edited.verify(KEY)


def test_load_manifest_with_and_without_key(tmp_path):
    m = make_manifest().authenticate(KEY)
    (tmp_path / "_manifest.json").write_text(m.to_json())
    loaded = load_manifest(tmp_path)
    assert loaded == m and not loaded.verified
    assert load_manifest(tmp_path / "_manifest.json", KEY).verified
    with pytest.raises(TableNotFoundError, match="_manifest.json is missing"):
        load_manifest(tmp_path / "nope")


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.pop("row_count"), "missing members \\['row_count'\\]"),
    (lambda d: d.update(extra=1), "unexpected members \\['extra'\\]"),
    (lambda d: d.update(format="parquet"), "not a teespark table manifest"),
    (lambda d: d.update(table_id="00"), "'table_id' must be 16 bytes"),
    (lambda d: d.update(row_count=-1), "'row_count' must be an integer"),
    (lambda d: d["files"][0].update(path="../x.parquet"), "plain file name"),
    (lambda d: d["schema"]["columns"][0].update(type="int128"), "invalid schema"),
])
def test_malformed_manifests_are_format_errors(tmp_path, edit, message):
    d = make_manifest().authenticate(KEY).to_dict()
    edit(d)
    (tmp_path / "_manifest.json").write_text(json.dumps(d))
    with pytest.raises(TableFormatError, match=message):
        load_manifest(tmp_path, KEY)


def test_consistency_is_checked_after_the_mac(tmp_path):
    # An authentic manifest whose counts disagree (a writer bug) is a format
    # error; without the key the same check still runs.
    bad = make_manifest(block_count=5).authenticate(KEY)
    (tmp_path / "_manifest.json").write_text(bad.to_json())
    with pytest.raises(TableFormatError, match="need 4 blocks, the manifest says 5"):
        load_manifest(tmp_path)
    with pytest.raises(TableFormatError, match="need 4 blocks"):
        load_manifest(tmp_path, KEY)


def test_stored_schema_hash_must_match_the_schema(tmp_path):
    d = make_manifest().authenticate(KEY).to_dict()
    d["schema_hash"] = "00" * 32  # not covered by a MAC itself: recomputed and compared
    (tmp_path / "_manifest.json").write_text(json.dumps(d))
    with pytest.raises(TableFormatError, match="'schema_hash'/'row_size' do not match"):
        load_manifest(tmp_path, KEY)

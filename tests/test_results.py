"""The recipient's side of EXPORT_RESULT (teespark.results), against the real TA."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from teespark.api import encrypt_table
from teespark.attest.client import release_keys
from teespark.crypto.block_seal import split_blocks
from teespark.crypto.keyring import Keyring
from teespark.crypto.master_key import MasterKey
from teespark.errors import (BlockAuthenticationError, BlockSequenceError,
                             ManifestAuthenticationError, ResultEnvelopeError)
from teespark.format.row_codec import decode_rows
from teespark.format.table_files import iter_sealed_blocks
from teespark.kbs.embedded import start_embedded_kbs
from teespark.results import open_result
from teespark.tee.teespark_ta import TeesparkTA, pack_export_request


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    work = tmp_path_factory.mktemp("results")
    df = pd.DataFrame({"id": np.arange(50, dtype=np.int64), "score": np.linspace(0, 1, 50)})
    ring = Keyring.create(work / "keyring.json", MasterKey.generate())
    manifest = encrypt_table(df, work / "t", table_name="t", keyring=ring,
                             schema="id:int64 not null, score:float64", rows_per_block=8)
    analyst = X25519PrivateKey.generate()
    rid = os.urandom(16)
    with start_embedded_kbs() as kbs, TeesparkTA() as ta:
        kbs.trust_device_key(ta.get_device_pubkey(), owner="o")
        kbs.add_recipient(rid, analyst.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
                          owner="o", name="analyst")
        kbs.add_table("t", owner="o", table_id=manifest.table_id, key_id=manifest.key_id,
                      data_key=ring.get(manifest.key_id.hex()), recipients=["analyst"])
        slot = release_keys(ta, kbs, tables=["t"], recipients=["analyst"]).slot_of("t")
        ta.register_table(manifest.descriptor_bytes(), slot)
        blocks = b"".join(b for _, b in iter_sealed_blocks(work / "t"))
        parts = ta.export_result(blocks, pack_export_request(
            in_key_slot=slot, rows_per_block=16, recipient_id=rid,
            out_table_id=os.urandom(16), out_table_version=3))
    return df, manifest, analyst, rid, parts


def test_recipient_opens_exactly_the_exported_rows(exported):
    df, manifest, analyst, rid, (env, desc, blocks) = exported
    res = open_result(env, desc, blocks, analyst, expected_recipient_id=rid)
    assert (res.recipient_id, res.descriptor.table_version, res.descriptor.block_count) == (
        rid, 3, 4)
    rows = np.frombuffer(res.rows, np.uint8).reshape(50, manifest.schema.row_size)
    pd.testing.assert_frame_equal(decode_rows(rows, manifest.schema).to_pandas(), df,
                                  check_dtype=False)


def test_another_private_key_cannot_open_it(exported):
    _, _, _, _, (env, desc, blocks) = exported
    with pytest.raises(ResultEnvelopeError, match="does not open with this private key"):
        open_result(env, desc, blocks, X25519PrivateKey.generate())


def test_wrong_expected_recipient_is_refused(exported):
    _, _, analyst, _, (env, desc, blocks) = exported
    with pytest.raises(ResultEnvelopeError, match="names recipient"):
        open_result(env, desc, blocks, analyst, expected_recipient_id=bytes(16))


def test_edited_descriptor_is_refused(exported):
    _, _, analyst, _, (env, desc, blocks) = exported
    edited = bytearray(desc)
    edited[40] ^= 1  # row_count
    with pytest.raises(ManifestAuthenticationError):
        open_result(env, bytes(edited), blocks, analyst)


@pytest.mark.parametrize("change", ["drop", "swap", "flip"])
def test_tampered_blocks_are_refused(exported, change):
    _, _, analyst, _, (env, desc, blocks) = exported
    parts = [bytes(p) for p in split_blocks(blocks)]
    if change == "drop":
        parts = parts[:-1]
        expected = BlockSequenceError
    elif change == "swap":
        parts[0], parts[1] = parts[1], parts[0]
        expected = BlockSequenceError
    else:
        parts[2] = parts[2][:200] + bytes([parts[2][200] ^ 1]) + parts[2][201:]
        expected = BlockAuthenticationError
    with pytest.raises(expected, match="result table"):
        open_result(env, desc, b"".join(parts), analyst)

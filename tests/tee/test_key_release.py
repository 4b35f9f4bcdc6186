"""Attested key release and registered tables through TeesparkTA (ABI v2).

The other parties are written here with the `cryptography` package, independent
of the TA's GP crypto and of teespark.kbs: a key broker that signs replies
(Ed25519) and wraps data keys to the TA's X25519 key, a verifier that checks
the evidence's RSASSA-PSS signature against GET_DEVICE_PUBKEY, and a result
recipient that opens EXPORT_RESULT's envelope with its X25519 private key. All
byte layouts follow enclave/ta/include/teespark_ta.h.
"""

from __future__ import annotations

import hashlib
import os
import struct

import numpy as np
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from teespark.errors import (
    BlockSequenceError,
    DescriptorAuthenticationError,
    EnclaveError,
    KbsKeyNotPinnedError,
    KbsReplyFormatError,
    KbsReplyRejectedError,
    KbsReplySignatureError,
    KbsReplyStaleError,
    ManifestAuthenticationError,
    RecipientUnknownError,
    TableNotRegisteredError,
)
from teespark.tee import SortKey, TeesparkTA, pack_export_request, pack_sort_request
from teespark.tee import constants as c
from teespark.tee.descriptor import build_table_descriptor, verify_table_descriptor
from teespark.tee.wire import (
    KBS_REPLY_HEADER,
    RECIPIENT,
    WRAPPED_KEY,
    BlockHeader,
    Evidence,
    ResultEnvelope,
    iter_block_headers,
)

SCHEMA = hashlib.sha256(b"id:int64,amount:int64").digest()
ROW = 16


def raw(pub) -> bytes:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt, info).derive(ikm)


def seal_table(key: bytes, table_id: bytes, rows: bytes, rows_per_block: int,
               version: int = 1) -> bytes:
    n = len(rows) // ROW
    count = max(1, -(-n // rows_per_block))
    out = []
    for i in range(count):
        chunk = rows[i * rows_per_block * ROW:(i + 1) * rows_per_block * ROW]
        nonce = os.urandom(12)
        hdr = BlockHeader(c.TS_BLOCK_MAGIC, 1, 96, table_id, version, i, count,
                          len(chunk) // ROW, ROW, SCHEMA, nonce, len(chunk)).pack()
        out.append(hdr + AESGCM(key).encrypt(nonce, chunk, hdr))
    return b"".join(out)


def open_table(key: bytes, data: bytes) -> tuple[list[BlockHeader], bytes]:
    headers, rows, end = [], [], 0
    for off, h in iter_block_headers(data):
        end = off + c.TS_SEALED_BLOCK_SIZE(h.ciphertext_size)
        rows.append(AESGCM(key).decrypt(h.nonce, data[off + 96:end], data[off:off + 96]))
        headers.append(h)
    assert end == len(data)
    return headers, b"".join(rows)


class Kbs:
    """A key broker: signs replies, wraps keys to the TA's evidence key."""

    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.public = raw(self.key.public_key())

    def reply(self, evidence: bytes, keys: list[tuple[int, bytes, bytes, bytes]],
              recipients: list[tuple[bytes, bytes]], *, signer=None) -> bytes:
        """keys: (slot, key_id, table_id, data_key); recipients: (id, x25519 public)."""
        ev = Evidence.unpack(evidence)
        ta_pub = ev.body.ta_public_key
        ev_hash = hashlib.sha256(evidence).digest()
        eph = X25519PrivateKey.generate()
        eph_pub = raw(eph.public_key())
        kek = hkdf(eph.exchange(X25519PublicKey.from_public_bytes(ta_pub)), ev_hash,
                   c.TS_KBS_WRAP_INFO.encode() + eph_pub + ta_pub)
        size = (c.TS_KBS_REPLY_HEADER_SIZE + len(keys) * c.TS_WRAPPED_KEY_SIZE
                + len(recipients) * c.TS_RECIPIENT_SIZE + 64)
        body = KBS_REPLY_HEADER.pack(c.TS_KBS_REPLY_MAGIC, 1, 96, ev_hash, eph_pub, len(keys),
                                     len(recipients), 1_700_000_000, size, 0)
        for slot, key_id, table_id, data_key in keys:
            nonce = os.urandom(12)
            aad = struct.pack("<II16s16s", slot, 0, key_id, table_id)
            ct = AESGCM(kek).encrypt(nonce, data_key, aad)
            body += WRAPPED_KEY.pack(slot, 0, key_id, table_id, nonce, 0, ct[:32], ct[32:])
        for rid, pub in recipients:
            body += RECIPIENT.pack(rid, pub)
        return body + (signer or self.key).sign(body)


class Recipient:
    def __init__(self, rid: bytes) -> None:
        self.id = rid
        self.key = X25519PrivateKey.generate()
        self.public = raw(self.key.public_key())

    def open_envelope(self, envelope: bytes) -> bytes:
        env = ResultEnvelope.unpack(envelope)
        assert (env.magic, env.version, env.envelope_size) == (c.TS_RESULT_ENVELOPE_MAGIC, 1,
                                                               120)
        shared = self.key.exchange(X25519PublicKey.from_public_bytes(env.ta_ephemeral_key))
        kek = hkdf(shared, bytes(32),
                   c.TS_RESULT_WRAP_INFO.encode() + env.ta_ephemeral_key + self.public)
        return AESGCM(kek).decrypt(env.nonce, env.wrapped_key + env.tag, envelope[:56])


@pytest.fixture(scope="module")
def kbs() -> Kbs:
    return Kbs()


@pytest.fixture
def ta():
    with TeesparkTA() as t:
        yield t


def attest(ta: TeesparkTA, kbs: Kbs) -> bytes:
    ta.pin_kbs_key(kbs.public)
    return ta.get_evidence(os.urandom(32))


# ---------------------------------------------------------------- evidence


def test_evidence_verifies_against_the_device_key(ta, kbs) -> None:
    nonce = os.urandom(32)
    ta.pin_kbs_key(kbs.public)
    raw_ev = ta.get_evidence(nonce)
    assert len(raw_ev) == c.TS_EVIDENCE_SIZE
    ev = Evidence.unpack(raw_ev)
    b = ev.body
    assert (b.magic, b.version, b.abi_version) == (c.TS_EVIDENCE_MAGIC, 1,
                                                   c.TA_TEESPARK_ABI_VERSION)
    assert b.tee_kind == c.TS_TEE_KIND_SIMULATOR
    assert b.flags == c.TS_EVIDENCE_FLAG_SIMULATED
    assert b.ta_uuid == c.TA_TEESPARK_UUID
    assert b.verifier_nonce == nonce and b.kbs_public_key == kbs.public
    e, n = ta.get_device_pubkey()
    assert e == 65537 and n.bit_length() >= 2048
    pub = RSAPublicNumbers(e, n).public_key()
    message = hashlib.sha256(b.pack()).digest() + ev.measurement
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    pub.verify(ev.signature, message, pss, hashes.SHA256())
    # Negative control: the same signature does not cover another nonce.
    forged = b._replace(verifier_nonce=bytes(32)).pack()
    with pytest.raises(InvalidSignature):
        pub.verify(ev.signature, hashlib.sha256(forged).digest() + ev.measurement, pss,
                   hashes.SHA256())


def test_evidence_needs_a_pinned_kbs_key(ta, kbs) -> None:
    with pytest.raises(KbsKeyNotPinnedError, match="GET_EVIDENCE: .*pin_kbs_key") as info:
        ta.get_evidence(bytes(32))
    assert info.value.code == c.TS_ERROR_KBS_NOT_PINNED
    ta.pin_kbs_key(kbs.public)
    ta.pin_kbs_key(kbs.public)  # the same key again is fine
    with pytest.raises(EnclaveError) as info:
        ta.pin_kbs_key(Kbs().public)
    assert info.value.code == c.TEEC_ERROR_ACCESS_DENIED


def test_arguments_are_checked_before_the_call(ta) -> None:
    with pytest.raises(ValueError, match="pin_kbs_key: 'public_key' must be 32 bytes"):
        ta.pin_kbs_key(bytes(31))
    with pytest.raises(ValueError, match="get_evidence: 'nonce' must be 32 bytes, got 16"):
        ta.get_evidence(bytes(16))
    with pytest.raises(ValueError, match="register_table: 'descriptor' must be 136 bytes"):
        ta.register_table(bytes(135), 0)
    with pytest.raises(ValueError, match="register_table: 'slot'"):
        ta.register_table(bytes(136), 8)
    with pytest.raises(ValueError, match="export_result: 'request' must be 48 bytes"):
        ta.export_result(b"", bytes(47))
    with pytest.raises(ValueError, match="pack_export_request: 'recipient_id' must be 16"):
        pack_export_request(in_key_slot=0, rows_per_block=1, recipient_id=b"x",
                            out_table_id=bytes(16), out_table_version=1)
    with pytest.raises(ValueError, match="build_table_descriptor: 'rows_per_block'"):
        build_table_descriptor(bytes(32), table_id=bytes(16), table_version=1, row_count=1,
                               row_size=8, rows_per_block=0, schema_hash=bytes(32))


# ------------------------------------------------------- key import + tables


def test_imported_key_opens_only_its_table(ta, kbs) -> None:
    evidence = attest(ta, kbs)
    data_key, key_id, table = os.urandom(32), b"K" * 16, b"accounts-2024-q1"
    assert ta.import_keys(kbs.reply(evidence, [(2, key_id, table, data_key)], [])) == (1, 0)
    rows = np.arange(60 * 2, dtype="<i8")[::-1].copy().tobytes()  # 60 rows, descending ids
    sealed = seal_table(data_key, table, rows, 16)
    desc = build_table_descriptor(data_key, table_id=table, table_version=1, row_count=60,
                                  row_size=ROW, rows_per_block=16, schema_hash=SCHEMA,
                                  key_id=key_id)
    # The KBS key opens only descriptors naming its table and key id.
    other = build_table_descriptor(data_key, table_id=b"another-table-00", table_version=1,
                                   row_count=60, row_size=ROW, rows_per_block=16,
                                   schema_hash=SCHEMA, key_id=key_id)
    with pytest.raises(DescriptorAuthenticationError, match="REGISTER_TABLE") as info:
        ta.register_table(other, 2)
    assert isinstance(info.value, ManifestAuthenticationError)
    ta.register_table(desc, 2)
    ta.new_query_key(4)
    req = pack_sort_request(keys=[SortKey("int", 0, 8)], rows_per_block=25, in_key_slot=2,
                            out_key_slot=4, out_table_id=b"sorted-accounts!",
                            out_table_version=1, schema_hash=SCHEMA)
    out_desc, blocks, n_rows, n_blocks = ta.sort_blocks(sealed, req)
    assert (n_rows, n_blocks) == (60, 3) and len(out_desc) == 136
    # The sorted table lives under a query key: only the TA can use it, e.g.
    # sort it again (it was registered with slot 4).
    req2 = pack_sort_request(keys=[SortKey("int", 0, 8, descending=True)], rows_per_block=60,
                             in_key_slot=4, out_key_slot=4, out_table_id=b"sorted-accounts2",
                             out_table_version=1, schema_hash=SCHEMA)
    assert ta.sort_blocks(blocks, req2)[2:] == (60, 1)


def test_registration_errors(ta) -> None:
    key = os.urandom(32)
    ta.install_dev_key(0, key)
    rows = os.urandom(ROW * 30)
    sealed = seal_table(key, b"T" * 16, rows, 10)
    with pytest.raises(TableNotRegisteredError, match="RESEAL_BLOCKS: .*register_table") as i:
        ta.reseal_blocks(sealed, 0, 0)
    assert i.value.code == c.TS_ERROR_TABLE_UNKNOWN
    good = build_table_descriptor(key, table_id=b"T" * 16, table_version=1, row_count=30,
                                  row_size=ROW, rows_per_block=10, schema_hash=SCHEMA)
    edited = bytearray(good)
    struct.pack_into("<Q", edited, 32, 29)  # row_count
    with pytest.raises(DescriptorAuthenticationError) as info:
        ta.register_table(bytes(edited), 0)
    assert info.value.code == c.TS_ERROR_MANIFEST_AUTH
    with pytest.raises(ManifestAuthenticationError):  # the client-side check agrees
        verify_table_descriptor(key, bytes(edited))
    ta.install_dev_key(1, os.urandom(32))
    with pytest.raises(DescriptorAuthenticationError):  # wrong data key
        ta.register_table(good, 1)
    ta.register_table(good, 0)
    assert verify_table_descriptor(key, good).row_count == 30
    # An older version of the table is refused once the newer is registered.
    with pytest.raises(BlockSequenceError) as info:
        ta.reseal_blocks(seal_table(key, b"T" * 16, rows, 10, version=0), 0, 0)
    assert info.value.block_index == 0
    assert len(ta.reseal_blocks(sealed, 0, 0)[0]) == len(sealed)


def test_refused_replies(ta, kbs) -> None:
    keys = [(1, b"k" * 16, b"t" * 16, os.urandom(32))]
    with pytest.raises(KbsKeyNotPinnedError):
        ta.import_keys(bytes(200))
    evidence = attest(ta, kbs)
    analyst, host = Recipient(b"bank-analyst-001"), Recipient(b"host-owned-key-0")
    good = kbs.reply(evidence, keys, [(analyst.id, analyst.public)])
    # Signed by someone else.
    with pytest.raises(KbsReplySignatureError, match="IMPORT_KEYS: .*not signed") as info:
        ta.import_keys(kbs.reply(evidence, keys, [], signer=Ed25519PrivateKey.generate()))
    assert isinstance(info.value, KbsReplyRejectedError)
    assert info.value.code == c.TS_ERROR_REPLY_SIGNATURE and info.value.command == "IMPORT_KEYS"
    # The host swaps the recipient's key for its own.
    swapped = good.replace(analyst.public, host.public)
    assert swapped != good
    with pytest.raises(KbsReplySignatureError):
        ta.import_keys(swapped)
    # Truncated.
    with pytest.raises(KbsReplyFormatError):
        ta.import_keys(good[:-1])
    # For an older evidence after a new GET_EVIDENCE.
    newer = ta.get_evidence(os.urandom(32))
    with pytest.raises(KbsReplyStaleError, match="latest evidence"):
        ta.import_keys(good)
    fresh = kbs.reply(newer, keys, [(analyst.id, analyst.public)])
    assert ta.import_keys(fresh) == (1, 1)
    with pytest.raises(KbsReplyStaleError):  # replayed
        ta.import_keys(fresh)


def test_reply_for_another_session_is_stale(kbs) -> None:
    with TeesparkTA() as a, TeesparkTA() as b:
        attest(a, kbs)
        reply_b = kbs.reply(attest(b, kbs), [(0, bytes(16), bytes(16), os.urandom(32))], [])
        with pytest.raises(KbsReplyStaleError):
            a.import_keys(reply_b)
        assert b.import_keys(reply_b) == (1, 0)


# ------------------------------------------------------------------ export


def test_export_result_opens_with_the_recipients_private_key(ta, kbs) -> None:
    analyst = Recipient(b"bank-analyst-001")
    evidence = attest(ta, kbs)
    ta.import_keys(kbs.reply(evidence, [], [(analyst.id, analyst.public)]))
    key = os.urandom(32)
    ta.install_dev_key(0, key)
    rows = os.urandom(ROW * 47)
    ta.register_table(build_table_descriptor(
        key, table_id=b"R" * 16, table_version=3, row_count=47, row_size=ROW,
        rows_per_block=7, schema_hash=SCHEMA), 0)
    sealed = seal_table(key, b"R" * 16, rows, 7, version=3)
    request = pack_export_request(in_key_slot=0, rows_per_block=10, recipient_id=analyst.id,
                                  out_table_id=b"result-for-bank!", out_table_version=1)
    envelope, descriptor, blocks = ta.export_result(sealed, request)
    assert len(envelope) == c.TS_RESULT_ENVELOPE_SIZE
    result_key = analyst.open_envelope(envelope)
    d = verify_table_descriptor(result_key, descriptor)
    assert (d.table_id, d.table_version, d.row_count, d.block_count, d.rows_per_block,
            d.key_id, d.schema_hash) == (b"result-for-bank!", 1, 47, 5, 10, analyst.id, SCHEMA)
    headers, plain = open_table(result_key, blocks)
    assert plain == rows
    assert [h.row_count for h in headers] == [10, 10, 10, 10, 7]
    # Nobody else opens the envelope.
    with pytest.raises(Exception):  # noqa: B017 - AES-GCM InvalidTag
        Recipient(b"x" * 16).open_envelope(envelope)
    # A recipient the KBS did not name.
    bad = pack_export_request(in_key_slot=0, rows_per_block=10, recipient_id=b"host-own-key-000",
                              out_table_id=b"result-for-host!", out_table_version=1)
    with pytest.raises(RecipientUnknownError, match="EXPORT_RESULT: .*not named") as info:
        ta.export_result(sealed, bad)
    assert info.value.code == c.TS_ERROR_RECIPIENT_UNKNOWN

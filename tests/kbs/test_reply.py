"""teespark.kbs.reply: the signed reply, key wrapping, and their failure modes.

The wrapping is checked against an independent HKDF (RFC 5869 with hmac)
and AES-GCM from pycryptodome, not the helpers under test.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct

import pytest
from Crypto.Cipher import AES
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from teespark.errors import KbsReplyError
from teespark.kbs.reply import (
    KeyGrant,
    RecipientEntry,
    build_reply,
    parse_reply,
    unwrap_keys,
    verify_reply,
)

EV_HASH = hashlib.sha256(b"evidence").digest()


def _raw(pub) -> bytes:
    return pub.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


@pytest.fixture
def parties():
    ta = X25519PrivateKey.generate()
    kbs = Ed25519PrivateKey.generate()
    grants = [KeyGrant(slot=s, key_id=os.urandom(16), table_id=os.urandom(16),
                       data_key=os.urandom(32)) for s in (0, 3)]
    recips = [RecipientEntry(os.urandom(16), os.urandom(32)) for _ in range(2)]
    raw = build_reply(evidence_hash=EV_HASH, ta_public_key=_raw(ta.public_key()),
                      grants=grants, recipients=recips, signing_key=kbs, issued_at=1234)
    return ta, kbs, grants, recips, raw


def test_layout_and_roundtrip(parties):
    ta, kbs, grants, recips, raw = parties
    assert len(raw) == 96 + 2 * 104 + 2 * 48 + 64
    magic, version, hsize = struct.unpack_from("<IHH", raw)
    assert (magic, version, hsize) == (0x524B5354, 1, 96)
    assert raw[:4] == b"TSKR"
    r = verify_reply(raw, _raw(kbs.public_key()))
    assert (r.evidence_hash, r.issued_at) == (EV_HASH, 1234)
    assert r.slots == {g.slot: g.table_id for g in grants}
    assert [(x.recipient_id, x.public_key) for x in r.recipients] == \
        [(x.recipient_id, x.public_key) for x in recips]
    assert unwrap_keys(r, ta) == {g.slot: g.data_key for g in grants}


def test_wrapping_matches_independent_implementation(parties):
    ta, _kbs, grants, _recips, raw = parties
    r = parse_reply(raw)
    ta_pub = _raw(ta.public_key())
    shared = ta.exchange(X25519PublicKey.from_public_bytes(r.kbs_ephemeral_key))
    k = _hkdf(shared, EV_HASH, b"teespark/kbs-wrap/v1" + r.kbs_ephemeral_key + ta_pub)
    for i, g in enumerate(grants):
        off = 96 + i * 104
        entry = raw[off:off + 104]
        slot, flags, key_id, table_id, nonce, reserved, wrapped, tag = \
            struct.unpack("<II16s16s12sI32s16s", entry)
        assert (slot, flags, key_id, table_id, reserved) == (g.slot, 0, g.key_id, g.table_id, 0)
        cipher = AES.new(k, AES.MODE_GCM, nonce=nonce)
        cipher.update(entry[:40])
        assert cipher.decrypt_and_verify(wrapped, tag) == g.data_key


def test_fresh_ephemeral_key_and_nonces(parties):
    ta, kbs, grants, recips, raw = parties
    again = build_reply(evidence_hash=EV_HASH, ta_public_key=_raw(ta.public_key()),
                        grants=grants, recipients=recips, signing_key=kbs, issued_at=1234)
    a, b = parse_reply(raw), parse_reply(again)
    assert a.kbs_ephemeral_key != b.kbs_ephemeral_key
    nonces = [k.nonce for k in a.keys + b.keys]
    assert len(set(nonces)) == len(nonces)
    assert all(x.wrapped_key != y.wrapped_key for x, y in zip(a.keys, b.keys))


def test_every_byte_is_signed(parties):
    _ta, kbs, _g, _r, raw = parties
    pub = _raw(kbs.public_key())
    for i in range(len(raw)):
        bad = bytearray(raw)
        bad[i] ^= 0x01
        with pytest.raises(KbsReplyError):
            verify_reply(bytes(bad), pub)


def test_entry_fields_are_bound_by_aad(parties):
    """Moving a key to another slot or table, even with a valid signature, fails unwrap."""
    ta, kbs, _g, _r, raw = parties
    r = parse_reply(raw)
    for off in (96 + 0, 96 + 4, 96 + 8, 96 + 24, 96 + 40, 96 + 56, 96 + 88):
        bad = bytearray(raw[:-64])
        bad[off] ^= 0x01
        resigned = bytes(bad) + kbs.sign(bytes(bad))
        with pytest.raises(KbsReplyError, match="failed authentication"):
            unwrap_keys(resigned, ta)
    assert unwrap_keys(r, ta)  # untouched reply still opens


def test_other_ta_key_cannot_unwrap(parties):
    _ta, _kbs, _g, _r, raw = parties
    with pytest.raises(KbsReplyError):
        unwrap_keys(raw, X25519PrivateKey.generate())


def test_wrong_kbs_key(parties):
    _ta, _kbs, _g, _r, raw = parties
    with pytest.raises(KbsReplyError, match="not signed"):
        verify_reply(raw, _raw(Ed25519PrivateKey.generate().public_key()))


@pytest.mark.parametrize("mutate, match", [
    (lambda r: r[:100], "shorter|size"),
    (lambda r: r + b"\0", "size"),
    (lambda r: b"XXXX" + r[4:], "magic"),
    (lambda r: r[:4] + struct.pack("<H", 2) + r[6:], "version"),
    (lambda r: r[:72] + struct.pack("<I", 9) + r[76:], "keys"),
    (lambda r: r[:76] + struct.pack("<I", 1) + r[80:], "size"),
    (lambda r: r[:88] + struct.pack("<I", 7) + r[92:], "size"),
    (lambda r: r[:92] + struct.pack("<I", 1) + r[96:], "reserved"),
])
def test_parse_errors(parties, mutate, match):
    with pytest.raises(KbsReplyError, match=match):
        parse_reply(mutate(parties[4]))


def test_build_refuses_bad_input():
    ta_pub = _raw(X25519PrivateKey.generate().public_key())
    kbs = Ed25519PrivateKey.generate()
    g = KeyGrant(slot=0, key_id=bytes(16), table_id=bytes(16), data_key=bytes(32))
    with pytest.raises(ValueError, match="distinct"):
        build_reply(evidence_hash=EV_HASH, ta_public_key=ta_pub, grants=[g, g], recipients=[],
                    signing_key=kbs)
    with pytest.raises(ValueError, match="slots"):
        build_reply(evidence_hash=EV_HASH, ta_public_key=ta_pub,
                    grants=[KeyGrant(8, bytes(16), bytes(16), bytes(32))], recipients=[],
                    signing_key=kbs)
    with pytest.raises(ValueError, match="low-order"):
        build_reply(evidence_hash=EV_HASH, ta_public_key=bytes(32), grants=[g], recipients=[],
                    signing_key=kbs)
    with pytest.raises(ValueError, match="at most"):
        build_reply(evidence_hash=EV_HASH, ta_public_key=ta_pub, grants=[],
                    recipients=[RecipientEntry(bytes([i]) * 16, bytes(32)) for i in range(9)],
                    signing_key=kbs)


def test_empty_reply_is_valid(parties):
    ta = X25519PrivateKey.generate()
    kbs = Ed25519PrivateKey.generate()
    raw = build_reply(evidence_hash=EV_HASH, ta_public_key=_raw(ta.public_key()), grants=[],
                      recipients=[], signing_key=kbs)
    assert len(raw) == 96 + 64
    assert unwrap_keys(verify_reply(raw, _raw(kbs.public_key())), ta) == {}

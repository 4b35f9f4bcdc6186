"""teespark.attest.evidence: parsing, signature verification, field checks.

Evidence comes from fake_ta.build_evidence, written from teespark_ta.h
independently of the verifier; test_release_ta.py verifies the real TA's.
"""

from __future__ import annotations

import hashlib
import os
import struct
import uuid

import pytest
from fake_ta import TA_UUID, build_evidence
from teespark.attest.evidence import (
    EVIDENCE_SIZE,
    DeviceKey,
    evidence_hash,
    parse_evidence,
    verify_evidence,
)
from teespark.errors import EvidenceFormatError, EvidenceVerificationError

NONCE = bytes(range(32))
TA_PUB = bytes(range(32, 64))
KBS_PUB = bytes(range(64, 96))
MEAS = hashlib.sha256(b"ta image").digest()


@pytest.fixture
def raw(device) -> bytes:
    return build_evidence(device, nonce=NONCE, ta_public_key=TA_PUB, kbs_public_key=KBS_PUB,
                          measurement=MEAS)


@pytest.fixture
def key(device) -> DeviceKey:
    return DeviceKey(device.e, device.n)


def test_parse_fields(raw):
    ev = parse_evidence(raw)
    assert (ev.version, ev.tee_kind, ev.tee_kind_name, ev.flags, ev.abi_version) == \
        (1, 1, "simulator", 1, 2)
    assert ev.simulated
    assert ev.ta_uuid == TA_UUID
    assert (ev.verifier_nonce, ev.ta_public_key, ev.kbs_public_key, ev.measurement) == \
        (NONCE, TA_PUB, KBS_PUB, MEAS)
    assert ev.hash == hashlib.sha256(raw).digest() == evidence_hash(raw)
    assert ev.device_key is None


def test_verify_good_evidence(raw, key, other_device):
    other = DeviceKey(other_device.e, other_device.n)
    ev = verify_evidence(raw, [other, key], nonce=NONCE, kbs_public_key=KBS_PUB,
                         measurements=[MEAS], ta_uuid=TA_UUID, accept_simulated=True)
    assert ev.device_key == key
    # keys given as (e, n) ints, (e, n) big-endian bytes, or JSON hex
    e_b = key.e.to_bytes(3, "big")
    n_b = key.n.to_bytes(key.modulus_bytes, "big")
    for k in ((key.e, key.n), (e_b, n_b), key.to_json()):
        assert verify_evidence(raw, [k], accept_simulated=True).device_key == key


def test_signature_is_pss_over_prehashed_digest(raw, key):
    """Independent check of the signed message: SHA-256(SHA-256(body) | measurement)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
    body, meas = raw[:128], raw[128:160]
    size = struct.unpack_from("<I", raw, 160)[0]
    digest = hashlib.sha256(hashlib.sha256(body).digest() + meas).digest()
    key.public_key().verify(raw[168:168 + size], digest,
                            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                            Prehashed(hashes.SHA256()))


def test_every_signed_byte_matters(raw, key):
    """Flipping any byte of body or measurement breaks the signature (or the format)."""
    for i in range(160):
        bad = bytearray(raw)
        bad[i] ^= 0x01
        with pytest.raises((EvidenceVerificationError, EvidenceFormatError)):
            verify_evidence(bytes(bad), [key], accept_simulated=True)
    # signature bytes
    for i in (168, 300, 168 + 255):
        bad = bytearray(raw)
        bad[i] ^= 0x80
        with pytest.raises(EvidenceVerificationError) as ei:
            verify_evidence(bytes(bad), [key], accept_simulated=True)
        assert ei.value.reason == "signature-invalid"


def test_untrusted_key(raw, other_device):
    with pytest.raises(EvidenceVerificationError, match="does not verify with any of the 1") \
            as ei:
        verify_evidence(raw, [(other_device.e, other_device.n)], accept_simulated=True)
    assert ei.value.reason == "signature-invalid"


def test_no_trusted_keys(raw):
    with pytest.raises(EvidenceVerificationError) as ei:
        verify_evidence(raw, [], accept_simulated=True)
    assert ei.value.reason == "no-trusted-keys"


@pytest.mark.parametrize("kwargs, reason", [
    ({"nonce": bytes(32)}, "nonce-mismatch"),
    ({"kbs_public_key": bytes(32)}, "kbs-key-mismatch"),
    ({"measurements": [bytes(32)]}, "measurement-not-allowed"),
    ({"ta_uuid": uuid.UUID(int=1)}, "ta-uuid-mismatch"),
])
def test_field_checks(raw, key, kwargs, reason):
    with pytest.raises(EvidenceVerificationError) as ei:
        verify_evidence(raw, [key], accept_simulated=True, **kwargs)
    assert ei.value.reason == reason


def test_simulated_refused_by_default(raw, key, device):
    with pytest.raises(EvidenceVerificationError, match="simulator") as ei:
        verify_evidence(raw, [key])
    assert ei.value.reason == "simulated-evidence"
    hw = build_evidence(device, nonce=NONCE, ta_public_key=TA_PUB, kbs_public_key=KBS_PUB,
                        measurement=MEAS, tee_kind=2, flags=0)
    ev = verify_evidence(hw, [key])
    assert not ev.simulated and ev.tee_kind_name == "optee"


def _mutate(raw: bytes, offset: int, fmt: str, value) -> bytes:
    b = bytearray(raw)
    struct.pack_into(fmt, b, offset, value)
    return bytes(b)


@pytest.mark.parametrize("mutate, reason", [
    (lambda r: r[:-1], "evidence-size"),
    (lambda r: r + b"\0", "evidence-size"),
    (lambda r: b"", "evidence-size"),
    (lambda r: _mutate(r, 0, "<I", 0x12345678), "evidence-magic"),
    (lambda r: _mutate(r, 4, "<H", 2), "evidence-version"),
    (lambda r: _mutate(r, 6, "<H", 9), "evidence-tee-kind"),
    (lambda r: _mutate(r, 8, "<I", 0x10), "evidence-flags"),
    (lambda r: _mutate(r, 160, "<I", 513), "evidence-signature-size"),
    (lambda r: _mutate(r, 160, "<I", 0), "evidence-signature-size"),
    (lambda r: _mutate(r, 164, "<I", 1), "evidence-reserved"),
    (lambda r: _mutate(r, 679, "<B", 1), "evidence-reserved"),
])
def test_malformed(raw, mutate, reason):
    with pytest.raises(EvidenceFormatError) as ei:
        parse_evidence(mutate(raw))
    assert ei.value.reason == reason
    assert str(ei.value)


def test_not_bytes():
    with pytest.raises(EvidenceFormatError):
        parse_evidence("x" * EVIDENCE_SIZE)  # type: ignore[arg-type]


def test_device_key_validation():
    with pytest.raises(ValueError, match="too small"):
        DeviceKey(65537, (1 << 1023) + 1)
    with pytest.raises(ValueError, match="exponent"):
        DeviceKey(2, (1 << 2047) + 1)


def test_fingerprint_is_stable_and_distinct(device, other_device):
    a, b = DeviceKey(device.e, device.n), DeviceKey(other_device.e, other_device.n)
    assert a.fingerprint == DeviceKey(device.e, device.n).fingerprint != b.fingerprint
    assert a.fingerprint.startswith("sha256:") and len(a.fingerprint) == 7 + 64


def test_random_garbage_never_verifies(key):
    for _ in range(20):
        with pytest.raises((EvidenceFormatError, EvidenceVerificationError)):
            verify_evidence(os.urandom(EVIDENCE_SIZE), [key], accept_simulated=True)

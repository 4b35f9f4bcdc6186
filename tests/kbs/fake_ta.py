"""A pure-Python stand-in for the TA side of key release (tests only).

It follows teespark_ta.h independently of the C TA: evidence as the TA and
the attestation PTA build it, signed by a test device key, and IMPORT_KEYS'
checks (pinned-key signature, pending evidence used once, unwrap). It lets
the KBS's refusals be driven with evidence the real TA would never produce
(a non-simulated TEE, another TA uuid, a forged measurement). End-to-end
tests use the real TA in the simulator.
"""

from __future__ import annotations

import hashlib
import struct
import uuid

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from teespark.errors import EnclaveError, KbsReplyError
from teespark.kbs.reply import parse_reply, unwrap_keys

TA_UUID = uuid.UUID("83c7c701-68cf-4ff1-9ff7-4ba80b8f66ec")


class FakeDevice:
    """A device attestation key (RSA-PSS-SHA256, salt 32, over a SHA-256 digest)."""

    def __init__(self, bits: int = 2048) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        nums = self.key.public_key().public_numbers()
        self.e, self.n = nums.e, nums.n

    def sign_digest(self, digest: bytes) -> bytes:
        return self.key.sign(digest, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                 salt_length=32),
                             Prehashed(hashes.SHA256()))


def build_evidence(device: FakeDevice, *, nonce: bytes, ta_public_key: bytes,
                   kbs_public_key: bytes, measurement: bytes, tee_kind: int = 1,
                   flags: int = 1, abi_version: int = 2, ta_uuid: uuid.UUID = TA_UUID,
                   magic: int = 0x56455354, version: int = 1) -> bytes:
    body = struct.pack("<IHHII16s32s32s32s", magic, version, tee_kind, flags, abi_version,
                       ta_uuid.bytes, nonce, ta_public_key, kbs_public_key)
    digest = hashlib.sha256(hashlib.sha256(body).digest() + measurement).digest()
    sig = device.sign_digest(digest)
    return body + measurement + struct.pack("<II", len(sig), 0) + sig.ljust(512, b"\0")


class FakeTA:
    """The TA's key-release commands, in Python."""

    def __init__(self, device: FakeDevice, measurement: bytes, *, tee_kind: int = 1,
                 flags: int = 1, ta_uuid: uuid.UUID = TA_UUID) -> None:
        self.device = device
        self.measurement = measurement
        self.tee_kind, self.flags, self.ta_uuid = tee_kind, flags, ta_uuid
        self.x25519 = X25519PrivateKey.generate()
        self.public_key = self.x25519.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.pinned: bytes | None = None
        self.pending: bytes | None = None
        self.slots: dict[int, bytes] = {}
        self.recipients: dict[bytes, bytes] = {}

    def get_device_pubkey(self) -> tuple[int, int]:
        return self.device.e, self.device.n

    def pin_kbs_key(self, pub: bytes) -> None:
        if self.pinned is not None and self.pinned != pub:
            raise EnclaveError("PIN_KBS_KEY: access denied", code=0xFFFF0001, origin=4)
        self.pinned = bytes(pub)

    def get_evidence(self, nonce: bytes) -> bytes:
        if self.pinned is None:
            raise EnclaveError("GET_EVIDENCE: not pinned", code=0x80010008, origin=4)
        ev = build_evidence(self.device, nonce=nonce, ta_public_key=self.public_key,
                            kbs_public_key=self.pinned, measurement=self.measurement,
                            tee_kind=self.tee_kind, flags=self.flags, ta_uuid=self.ta_uuid)
        self.pending = hashlib.sha256(ev).digest()
        return ev

    def import_keys(self, raw: bytes) -> tuple[int, int]:
        if self.pinned is None:
            raise EnclaveError("IMPORT_KEYS: not pinned", code=0x80010008, origin=4)
        try:
            reply = parse_reply(raw)
        except KbsReplyError:
            raise EnclaveError("IMPORT_KEYS: format", code=0x8001000B, origin=4) from None
        try:
            Ed25519PublicKey.from_public_bytes(self.pinned).verify(reply.signature,
                                                                   reply.signed_part)
        except InvalidSignature:
            raise EnclaveError("IMPORT_KEYS: signature", code=0x80010009, origin=4) from None
        if self.pending is None or reply.evidence_hash != self.pending:
            raise EnclaveError("IMPORT_KEYS: stale", code=0x8001000A, origin=4)
        self.pending = None
        self.slots.update(unwrap_keys(reply, self.x25519))
        self.recipients = {r.recipient_id: r.public_key for r in reply.recipients}
        return len(reply.keys), len(reply.recipients)

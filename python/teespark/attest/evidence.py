"""Parse and verify teespark attestation evidence (``struct ts_evidence``).

The wire format is defined once, in ``enclave/ta/include/teespark_ta.h``:

    struct ts_evidence (680 bytes) =
        body (struct ts_evidence_body, 128 bytes)
        | measurement (32) | signature_size (u32) | reserved (u32) | signature[512]

    body = magic "TSEV" | version 1 | tee_kind | flags | abi_version | ta_uuid[16]
           | verifier_nonce[32] | ta_public_key[32] (X25519) | kbs_public_key[32] (Ed25519)

It is the wire format of OP-TEE's attestation PTA (``HASH_TA_MEMORY``) with
``nonce' = SHA-256(body)``: the device attestation key (RSA) signs
``SHA-256(nonce' | measurement)`` with RSASSA-PSS-SHA256, salt 32 bytes.
OP-TEE signs that digest as is (``TEE_AsymmetricSignDigest``), so the
verifier treats it as a pre-hashed SHA-256 message.

There is no certificate chain (OP-TEE has none): a verifier trusts the device
public keys it was provisioned with (``GET_DEVICE_PUBKEY``).

Example:
    >>> ev = verify_evidence(raw, [DeviceKey(e, n)])       # doctest: +SKIP
    >>> ev.measurement.hex(), ev.simulated                  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct
import uuid as _uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Optional, Union

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from teespark.errors import EvidenceFormatError, EvidenceVerificationError

__all__ = [
    "EVIDENCE_SIZE",
    "TEE_KIND_NAMES",
    "DeviceKey",
    "Evidence",
    "evidence_hash",
    "parse_evidence",
    "verify_evidence",
]

# --- teespark_ta.h: attestation evidence -----------------------------------

EVIDENCE_MAGIC = 0x56455354  # bytes "TSEV"
EVIDENCE_VERSION = 1
TEE_KIND_SIMULATOR = 1
TEE_KIND_OPTEE = 2
TEE_KIND_ITRUSTEE = 3
EVIDENCE_FLAG_SIMULATED = 0x1
EVIDENCE_BODY_SIZE = 128
EVIDENCE_SIZE = 680
NONCE_BYTES = 32
X25519_PUBLIC_SIZE = 32
ED25519_PUBLIC_SIZE = 32
MEASUREMENT_SIZE = 32
SIGNATURE_CAPACITY = 512
#: RSASSA-PSS salt length (TEE_SHA256_HASH_SIZE), as OP-TEE's PTA signs.
PSS_SALT_LENGTH = 32
#: GP algorithm id that GET_DEVICE_PUBKEY reports (TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA256).
TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA256 = 0x70414930

TEE_KIND_NAMES = {TEE_KIND_SIMULATOR: "simulator", TEE_KIND_OPTEE: "optee",
                  TEE_KIND_ITRUSTEE: "itrustee"}

#: struct ts_evidence_body: magic, version, tee_kind, flags, abi_version,
#: ta_uuid, verifier_nonce, ta_public_key, kbs_public_key.
EVIDENCE_BODY = struct.Struct("<IHHII16s32s32s32s")
#: struct ts_evidence after the body: measurement, signature_size, reserved, signature.
EVIDENCE_TAIL = struct.Struct("<32sII512s")
assert EVIDENCE_BODY.size == EVIDENCE_BODY_SIZE
assert EVIDENCE_BODY.size + EVIDENCE_TAIL.size == EVIDENCE_SIZE

_KNOWN_FLAGS = EVIDENCE_FLAG_SIMULATED
_MIN_RSA_BITS = 2048


def _i2b(x: int) -> bytes:
    return x.to_bytes(max(1, (x.bit_length() + 7) // 8), "big")


@dataclass(frozen=True)
class DeviceKey:
    """A device attestation public key (RSA), as ``GET_DEVICE_PUBKEY`` returns it.

    Args:
        e: public exponent.
        n: modulus.
    """

    e: int
    n: int

    def __post_init__(self) -> None:
        if not isinstance(self.e, int) or not isinstance(self.n, int):
            raise ValueError("DeviceKey: 'e' and 'n' must be ints")
        if self.e < 3 or self.e % 2 == 0:
            raise ValueError(f"DeviceKey: public exponent {self.e} is not a valid RSA exponent")
        if self.n.bit_length() < _MIN_RSA_BITS:
            raise ValueError(f"DeviceKey: a {self.n.bit_length()}-bit modulus is too small "
                             f"(at least {_MIN_RSA_BITS} bits)")

    @classmethod
    def from_bytes(cls, e: bytes, n: bytes) -> DeviceKey:
        """From big-endian exponent and modulus bytes (the PTA's encoding)."""
        return cls(int.from_bytes(e, "big"), int.from_bytes(n, "big"))

    @classmethod
    def coerce(cls, key: DeviceKeyLike) -> DeviceKey:
        """A DeviceKey from a DeviceKey, an ``(e, n)`` pair of ints or bytes,
        or a ``{"e": hex, "n": hex}`` mapping."""
        if isinstance(key, DeviceKey):
            return key
        if isinstance(key, dict):
            return cls(int(key["e"], 16), int(key["n"], 16))
        e, n = key
        if isinstance(e, (bytes, bytearray)) and isinstance(n, (bytes, bytearray)):
            return cls.from_bytes(bytes(e), bytes(n))
        return cls(int(e), int(n))  # type: ignore[arg-type]

    @property
    def modulus_bytes(self) -> int:
        return (self.n.bit_length() + 7) // 8

    @property
    def fingerprint(self) -> str:
        """``sha256:<hex>`` of the length-prefixed big-endian e and n (public)."""
        e, n = _i2b(self.e), _i2b(self.n)
        h = hashlib.sha256(struct.pack(">I", len(e)) + e + struct.pack(">I", len(n)) + n)
        return "sha256:" + h.hexdigest()

    def to_json(self) -> dict[str, str]:
        return {"e": format(self.e, "x"), "n": format(self.n, "x")}

    def public_key(self) -> rsa.RSAPublicKey:
        return rsa.RSAPublicNumbers(self.e, self.n).public_key()


DeviceKeyLike = Union[DeviceKey, tuple, dict]


@dataclass(frozen=True)
class Evidence:
    """Parsed attestation evidence. Every field is public.

    ``device_key`` is set by :func:`verify_evidence` (the trusted key whose
    signature verified) and ``None`` after :func:`parse_evidence` alone.
    """

    raw: bytes = field(repr=False)
    version: int
    tee_kind: int
    flags: int
    abi_version: int
    ta_uuid: _uuid.UUID
    verifier_nonce: bytes
    ta_public_key: bytes
    kbs_public_key: bytes
    measurement: bytes
    signature: bytes = field(repr=False)
    device_key: Optional[DeviceKey] = field(default=None, repr=False)

    @property
    def tee_kind_name(self) -> str:
        return TEE_KIND_NAMES.get(self.tee_kind, f"unknown({self.tee_kind})")

    @property
    def simulated(self) -> bool:
        """Simulated evidence: the flag is set or the TEE is the simulator."""
        return bool(self.flags & EVIDENCE_FLAG_SIMULATED) or self.tee_kind == TEE_KIND_SIMULATOR

    @property
    def body(self) -> bytes:
        return self.raw[:EVIDENCE_BODY_SIZE]

    @property
    def hash(self) -> bytes:
        """SHA-256 of the whole 680-byte evidence (what a KBS reply names)."""
        return evidence_hash(self.raw)

    def signed_digest(self) -> bytes:
        """SHA-256(SHA-256(body) | measurement): the digest the device key signs."""
        return hashlib.sha256(hashlib.sha256(self.body).digest() + self.measurement).digest()


def evidence_hash(raw: bytes) -> bytes:
    """SHA-256 of a serialized ``struct ts_evidence``."""
    return hashlib.sha256(bytes(raw)).digest()


def _uuid_from_wire(b: bytes) -> _uuid.UUID:
    # The TA copies its TEE_UUID struct field by field into RFC 4122 order
    # (big-endian time_low, time_mid, time_hi_and_version, then clock_seq_and_node).
    return _uuid.UUID(bytes=b)


def parse_evidence(data: bytes | bytearray | memoryview) -> Evidence:
    """Parse a ``struct ts_evidence`` without verifying its signature.

    Raises:
        EvidenceFormatError: wrong size, magic or version, an unknown TEE
            kind or flag, a bad signature size or non-zero reserved bytes.
            ``reason`` names the field.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise EvidenceFormatError(f"evidence must be bytes, got {type(data).__name__}",
                                  reason="evidence-type")
    raw = bytes(data)
    if len(raw) != EVIDENCE_SIZE:
        raise EvidenceFormatError(
            f"evidence is {len(raw)} bytes; a struct ts_evidence is exactly {EVIDENCE_SIZE}",
            reason="evidence-size")
    (magic, version, tee_kind, flags, abi_version, ta_uuid, nonce, ta_pub,
     kbs_pub) = EVIDENCE_BODY.unpack_from(raw, 0)
    measurement, sig_size, reserved, sig_buf = EVIDENCE_TAIL.unpack_from(raw, EVIDENCE_BODY_SIZE)
    if magic != EVIDENCE_MAGIC:
        raise EvidenceFormatError(
            f"evidence magic is 0x{magic:08x}, expected 0x{EVIDENCE_MAGIC:08x} ('TSEV'): "
            "this is not teespark evidence", reason="evidence-magic")
    if version != EVIDENCE_VERSION:
        raise EvidenceFormatError(
            f"evidence version {version} is not supported (this verifier reads version "
            f"{EVIDENCE_VERSION})", reason="evidence-version")
    if tee_kind not in TEE_KIND_NAMES:
        raise EvidenceFormatError(f"evidence names unknown TEE kind {tee_kind}",
                                  reason="evidence-tee-kind")
    if flags & ~_KNOWN_FLAGS:
        raise EvidenceFormatError(f"evidence carries unknown flags 0x{flags:08x}",
                                  reason="evidence-flags")
    if not 256 <= sig_size <= SIGNATURE_CAPACITY:
        raise EvidenceFormatError(
            f"evidence signature_size {sig_size} is outside 256..{SIGNATURE_CAPACITY}",
            reason="evidence-signature-size")
    if reserved != 0 or any(sig_buf[sig_size:]):
        raise EvidenceFormatError(
            "evidence reserved field or signature padding is not zero",
            reason="evidence-reserved")
    return Evidence(raw=raw, version=version, tee_kind=tee_kind, flags=flags,
                    abi_version=abi_version, ta_uuid=_uuid_from_wire(ta_uuid),
                    verifier_nonce=nonce, ta_public_key=ta_pub, kbs_public_key=kbs_pub,
                    measurement=measurement, signature=sig_buf[:sig_size])


def _signature_ok(ev: Evidence, key: DeviceKey) -> bool:
    if len(ev.signature) != key.modulus_bytes:
        return False
    try:
        key.public_key().verify(
            ev.signature, ev.signed_digest(),
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=PSS_SALT_LENGTH),
            Prehashed(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def verify_evidence(data: bytes | bytearray | memoryview | Evidence,
                    trusted_keys: Iterable[DeviceKeyLike], *,
                    nonce: bytes | None = None,
                    kbs_public_key: bytes | None = None,
                    measurements: Iterable[bytes] | None = None,
                    ta_uuid: _uuid.UUID | str | None = None,
                    accept_simulated: bool = False) -> Evidence:
    """Parse evidence, verify its signature with a trusted device key, and
    optionally check its fields.

    Args:
        data: the evidence bytes (or an already parsed :class:`Evidence`).
        trusted_keys: device public keys to accept (:class:`DeviceKey`,
            ``(e, n)`` or ``{"e": hex, "n": hex}``).
        nonce: if given, the verifier nonce the evidence must carry.
        kbs_public_key: if given, the Ed25519 KBS key the TA must have pinned.
        measurements: if given, the allowed TA measurements.
        ta_uuid: if given, the TA UUID the evidence must name.
        accept_simulated: accept evidence from the simulator (development only).

    Returns:
        The :class:`Evidence`, with ``device_key`` set to the key that signed it.

    Raises:
        EvidenceFormatError: malformed evidence.
        EvidenceVerificationError: a check failed; ``reason`` is one of
            ``no-trusted-keys``, ``signature-invalid``, ``nonce-mismatch``,
            ``kbs-key-mismatch``, ``measurement-not-allowed``,
            ``ta-uuid-mismatch``, ``simulated-evidence``.
    """
    ev = data if isinstance(data, Evidence) else parse_evidence(data)
    keys = [DeviceKey.coerce(k) for k in trusted_keys]
    if not keys:
        raise EvidenceVerificationError(
            "no trusted device keys are configured: provision the device's attestation "
            "public key (GET_DEVICE_PUBKEY) first", reason="no-trusted-keys")
    signer = next((k for k in keys if _signature_ok(ev, k)), None)
    if signer is None:
        raise EvidenceVerificationError(
            f"evidence signature ({len(ev.signature) * 8}-bit) does not verify with any of "
            f"the {len(keys)} trusted device key(s): it was forged, modified, or signed by "
            "an untrusted device", reason="signature-invalid")
    ev = dataclasses.replace(ev, device_key=signer)
    if nonce is not None and ev.verifier_nonce != bytes(nonce):
        raise EvidenceVerificationError(
            "evidence answers another verifier nonce (stale or replayed evidence)",
            reason="nonce-mismatch")
    if kbs_public_key is not None and ev.kbs_public_key != bytes(kbs_public_key):
        raise EvidenceVerificationError(
            f"the TA pinned KBS key {ev.kbs_public_key.hex()}, not {bytes(kbs_public_key).hex()}",
            reason="kbs-key-mismatch")
    if ta_uuid is not None and ev.ta_uuid != _uuid.UUID(str(ta_uuid)):
        raise EvidenceVerificationError(
            f"evidence comes from TA {ev.ta_uuid}, expected {ta_uuid}", reason="ta-uuid-mismatch")
    if ev.simulated and not accept_simulated:
        raise EvidenceVerificationError(
            "evidence comes from the TEE simulator, which this verifier does not accept "
            "(development only)", reason="simulated-evidence")
    if measurements is not None:
        allowed = {bytes(m) for m in measurements}
        if ev.measurement not in allowed:
            raise EvidenceVerificationError(
                f"TA measurement {ev.measurement.hex()} is not among the {len(allowed)} "
                "allowed measurement(s)", reason="measurement-not-allowed")
    return ev

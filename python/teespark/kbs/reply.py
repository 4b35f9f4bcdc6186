"""The signed KBS reply (``struct ts_kbs_reply_header`` and its entries).

Wire format, as ``enclave/ta/include/teespark_ta.h`` defines it (all
integers little-endian):

    reply = header (96 bytes)
            | key_count x ts_wrapped_key (104 bytes each)
            | recipient_count x ts_recipient (48 bytes each)
            | Ed25519 signature (64 bytes) over everything before it

    header = magic "TSKR" | version 1 | header_size 96 | evidence_hash[32]
             | kbs_ephemeral_key[32] | key_count | recipient_count
             | issued_at (u64) | reply_size | reserved 0

Key wrapping (one fresh KBS X25519 key pair per reply):

    shared = X25519(kbs_ephemeral_key, ta_public_key)
    K      = HKDF-SHA256(IKM = shared, salt = evidence_hash,
                         info = "teespark/kbs-wrap/v1" | kbs_ephemeral_key | ta_public_key,
                         L = 32)
    wrapped_key | tag = AES-256-GCM(K, nonce, data key,
                         AAD = the entry's first 40 bytes: slot, flags, key_id, table_id)

The KBS builds replies with :func:`build_reply`. :func:`parse_reply` and
:func:`verify_reply` read them (public information only). :func:`unwrap_keys`
is the TA's side written in Python; only the holder of the TA's ephemeral
X25519 private key can run it, so it serves tests as an independent reference.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from teespark.errors import KbsReplyError

__all__ = [
    "KbsReply",
    "KeyGrant",
    "RecipientEntry",
    "WrappedKeyEntry",
    "build_reply",
    "parse_reply",
    "unwrap_keys",
    "verify_reply",
    "wrap_kek",
]

# --- teespark_ta.h: key broker reply ---------------------------------------

KBS_REPLY_MAGIC = 0x524B5354  # bytes "TSKR"
KBS_REPLY_VERSION = 1
KBS_REPLY_HEADER_SIZE = 96
WRAPPED_KEY_SIZE = 104
WRAPPED_KEY_AAD_SIZE = 40
RECIPIENT_SIZE = 48
SIGNATURE_SIZE = 64
KBS_WRAP_INFO = b"teespark/kbs-wrap/v1"
MAX_KEY_SLOTS = 8
MAX_RECIPIENTS = 8
KEY_SIZE = 32
GCM_NONCE_SIZE = 12
GCM_TAG_SIZE = 16

#: magic, version, header_size, evidence_hash, kbs_ephemeral_key, key_count,
#: recipient_count, issued_at, reply_size, reserved.
REPLY_HEADER = struct.Struct("<IHH32s32sIIQII")
#: slot, flags, key_id, table_id, nonce, reserved, wrapped_key, tag.
WRAPPED_KEY = struct.Struct("<II16s16s12sI32s16s")
#: recipient_id, public_key.
RECIPIENT = struct.Struct("<16s32s")
assert REPLY_HEADER.size == KBS_REPLY_HEADER_SIZE
assert WRAPPED_KEY.size == WRAPPED_KEY_SIZE
assert RECIPIENT.size == RECIPIENT_SIZE

MAX_REPLY_SIZE = (KBS_REPLY_HEADER_SIZE + MAX_KEY_SLOTS * WRAPPED_KEY_SIZE
                  + MAX_RECIPIENTS * RECIPIENT_SIZE + SIGNATURE_SIZE)


@dataclass(frozen=True)
class KeyGrant:
    """One data key to release into a TA key slot (KBS side; holds the key)."""

    slot: int
    key_id: bytes
    table_id: bytes
    data_key: bytes = field(repr=False)


@dataclass(frozen=True)
class RecipientEntry:
    """A result recipient the TA may seal results to (public)."""

    recipient_id: bytes
    public_key: bytes


@dataclass(frozen=True)
class WrappedKeyEntry:
    """One ``struct ts_wrapped_key`` as it travels (public: the key is wrapped)."""

    slot: int
    flags: int
    key_id: bytes
    table_id: bytes
    nonce: bytes
    reserved: int
    wrapped_key: bytes
    tag: bytes

    def pack(self) -> bytes:
        return WRAPPED_KEY.pack(self.slot, self.flags, self.key_id, self.table_id, self.nonce,
                                self.reserved, self.wrapped_key, self.tag)

    @property
    def aad(self) -> bytes:
        return self.pack()[:WRAPPED_KEY_AAD_SIZE]


@dataclass(frozen=True)
class KbsReply:
    """A parsed KBS reply. Every field is public."""

    raw: bytes = field(repr=False)
    version: int
    evidence_hash: bytes
    kbs_ephemeral_key: bytes
    issued_at: int
    keys: tuple[WrappedKeyEntry, ...]
    recipients: tuple[RecipientEntry, ...]
    signature: bytes = field(repr=False)

    @property
    def signed_part(self) -> bytes:
        return self.raw[:-SIGNATURE_SIZE]

    @property
    def slots(self) -> dict[int, bytes]:
        """slot -> table id."""
        return {k.slot: k.table_id for k in self.keys}


def _raw_public(key: X25519PublicKey | Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def wrap_kek(shared: bytes, evidence_hash: bytes, kbs_ephemeral_key: bytes,
             ta_public_key: bytes) -> bytes:
    """K = HKDF-SHA256(shared, salt = evidence_hash, info = wrap info | eph | ta, 32)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=evidence_hash,
                info=KBS_WRAP_INFO + kbs_ephemeral_key + ta_public_key).derive(shared)


def _check_id(name: str, value: bytes, size: int) -> bytes:
    if not isinstance(value, (bytes, bytearray)) or len(value) != size:
        raise ValueError(f"build_reply: {name} must be {size} bytes")
    return bytes(value)


def build_reply(*, evidence_hash: bytes, ta_public_key: bytes, grants: Sequence[KeyGrant],
                recipients: Sequence[RecipientEntry], signing_key: Ed25519PrivateKey,
                issued_at: int | None = None) -> bytes:
    """Wrap ``grants`` to the TA's X25519 key and sign the reply.

    A fresh ephemeral X25519 key pair is drawn for each reply and discarded
    afterwards, and a fresh random GCM nonce for each entry.

    Raises:
        ValueError: bad sizes, repeated slots or recipients, too many
            entries, or a TA public key of low order (X25519 gives an
            all-zero shared secret).
    """
    evidence_hash = _check_id("evidence_hash", evidence_hash, 32)
    ta_public_key = _check_id("ta_public_key", ta_public_key, 32)
    if len(grants) > MAX_KEY_SLOTS:
        raise ValueError(f"build_reply: {len(grants)} keys; at most {MAX_KEY_SLOTS}")
    if len(recipients) > MAX_RECIPIENTS:
        raise ValueError(f"build_reply: {len(recipients)} recipients; at most {MAX_RECIPIENTS}")
    slots = [g.slot for g in grants]
    if len(set(slots)) != len(slots) or any(not 0 <= s < MAX_KEY_SLOTS for s in slots):
        raise ValueError(f"build_reply: slots {slots} must be distinct, in 0..{MAX_KEY_SLOTS - 1}")
    rids = [r.recipient_id for r in recipients]
    if len(set(rids)) != len(rids):
        raise ValueError("build_reply: a recipient id appears twice")

    eph = X25519PrivateKey.generate()
    eph_pub = _raw_public(eph.public_key())
    try:
        shared = eph.exchange(X25519PublicKey.from_public_bytes(ta_public_key))
    except ValueError as exc:  # all-zero shared secret: a low-order point
        raise ValueError("build_reply: the TA public key is a low-order X25519 point") from exc
    aead = AESGCM(wrap_kek(shared, evidence_hash, eph_pub, ta_public_key))
    del shared

    entries = []
    for g in grants:
        key_id = _check_id("key_id", g.key_id, 16)
        table_id = _check_id("table_id", g.table_id, 16)
        if len(g.data_key) != KEY_SIZE:
            raise ValueError(f"build_reply: data key for slot {g.slot} is not {KEY_SIZE} bytes")
        nonce = os.urandom(GCM_NONCE_SIZE)
        aad = WRAPPED_KEY.pack(g.slot, 0, key_id, table_id, bytes(12), 0, bytes(32),
                               bytes(16))[:WRAPPED_KEY_AAD_SIZE]
        sealed = aead.encrypt(nonce, bytes(g.data_key), aad)
        entries.append(WRAPPED_KEY.pack(g.slot, 0, key_id, table_id, nonce, 0,
                                        sealed[:KEY_SIZE], sealed[KEY_SIZE:]))
    recips = [RECIPIENT.pack(_check_id("recipient_id", r.recipient_id, 16),
                             _check_id("recipient public key", r.public_key, 32))
              for r in recipients]
    size = (KBS_REPLY_HEADER_SIZE + len(entries) * WRAPPED_KEY_SIZE
            + len(recips) * RECIPIENT_SIZE + SIGNATURE_SIZE)
    header = REPLY_HEADER.pack(KBS_REPLY_MAGIC, KBS_REPLY_VERSION, KBS_REPLY_HEADER_SIZE,
                               evidence_hash, eph_pub, len(entries), len(recips),
                               int(time.time()) if issued_at is None else issued_at, size, 0)
    body = header + b"".join(entries) + b"".join(recips)
    out = body + signing_key.sign(body)
    assert len(out) == size
    return out


def parse_reply(data: bytes | bytearray | memoryview) -> KbsReply:
    """Parse a reply's structure (does not check the signature).

    Raises:
        KbsReplyError: naming the malformed field.
    """
    raw = bytes(data)
    if len(raw) < KBS_REPLY_HEADER_SIZE + SIGNATURE_SIZE:
        raise KbsReplyError(f"KBS reply is {len(raw)} bytes, shorter than header + signature "
                            f"({KBS_REPLY_HEADER_SIZE + SIGNATURE_SIZE})")
    (magic, version, header_size, ev_hash, eph, key_count, recipient_count, issued_at,
     reply_size, reserved) = REPLY_HEADER.unpack_from(raw, 0)
    if magic != KBS_REPLY_MAGIC:
        raise KbsReplyError(f"KBS reply magic is 0x{magic:08x}, expected 0x{KBS_REPLY_MAGIC:08x}")
    if version != KBS_REPLY_VERSION or header_size != KBS_REPLY_HEADER_SIZE or reserved != 0:
        raise KbsReplyError(f"KBS reply version {version} / header size {header_size} / "
                            f"reserved {reserved} is not supported")
    if key_count > MAX_KEY_SLOTS or recipient_count > MAX_RECIPIENTS:
        raise KbsReplyError(f"KBS reply carries {key_count} keys and {recipient_count} "
                            f"recipients (limits {MAX_KEY_SLOTS} and {MAX_RECIPIENTS})")
    expected = (KBS_REPLY_HEADER_SIZE + key_count * WRAPPED_KEY_SIZE
                + recipient_count * RECIPIENT_SIZE + SIGNATURE_SIZE)
    if reply_size != expected or len(raw) != expected:
        raise KbsReplyError(f"KBS reply size: header says {reply_size}, counts give "
                            f"{expected}, got {len(raw)} bytes")
    off = KBS_REPLY_HEADER_SIZE
    keys = []
    for _ in range(key_count):
        keys.append(WrappedKeyEntry(*WRAPPED_KEY.unpack_from(raw, off)))
        off += WRAPPED_KEY_SIZE
    recips = []
    for _ in range(recipient_count):
        recips.append(RecipientEntry(*RECIPIENT.unpack_from(raw, off)))
        off += RECIPIENT_SIZE
    return KbsReply(raw=raw, version=version, evidence_hash=ev_hash, kbs_ephemeral_key=eph,
                    issued_at=issued_at, keys=tuple(keys), recipients=tuple(recips),
                    signature=raw[off:])


def verify_reply(data: bytes | KbsReply, kbs_public_key: bytes) -> KbsReply:
    """Parse a reply and check its Ed25519 signature with the KBS key.

    Raises:
        KbsReplyError: malformed, or not signed by ``kbs_public_key``.
    """
    reply = data if isinstance(data, KbsReply) else parse_reply(data)
    try:
        Ed25519PublicKey.from_public_bytes(bytes(kbs_public_key)).verify(
            reply.signature, reply.signed_part)
    except (InvalidSignature, ValueError) as exc:
        raise KbsReplyError(
            f"KBS reply is not signed by KBS key {bytes(kbs_public_key).hex()}") from exc
    return reply


def unwrap_keys(data: bytes | KbsReply, ta_private_key: X25519PrivateKey) -> dict[int, bytes]:
    """Unwrap every key of a reply with the TA's ephemeral private key.

    The TA's side of the protocol in Python, for tests: the TA's private key
    never leaves the TA, so this cannot run on the host.

    Returns:
        slot -> data key.

    Raises:
        KbsReplyError: a wrapped key fails authentication.
    """
    reply = data if isinstance(data, KbsReply) else parse_reply(data)
    ta_pub = _raw_public(ta_private_key.public_key())
    shared = ta_private_key.exchange(X25519PublicKey.from_public_bytes(reply.kbs_ephemeral_key))
    aead = AESGCM(wrap_kek(shared, reply.evidence_hash, reply.kbs_ephemeral_key, ta_pub))
    out = {}
    for k in reply.keys:
        try:
            out[k.slot] = aead.decrypt(k.nonce, k.wrapped_key + k.tag, k.aad)
        except InvalidTag as exc:
            raise KbsReplyError(f"wrapped key for slot {k.slot} failed authentication") from exc
    return out

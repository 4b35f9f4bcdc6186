"""Attested key release, host side: relay between a KBS and the TA.

:func:`release_keys` runs the whole protocol for one TA session:

1. ``GET /v1/kbs-key``: the KBS at the URL must present the KBS key the
   owners configured (given as an argument; the URL alone is not trusted);
2. ``GET /v1/nonce``: a fresh single-use verifier nonce;
3. ``PIN_KBS_KEY``: the TA pins the configured KBS key for this session;
4. ``GET_EVIDENCE``: the TA binds the nonce, its ephemeral X25519 key and the
   pinned KBS key into evidence signed by the device attestation key;
5. ``POST /v1/keys``: the KBS checks the evidence against its policy and
   answers a reply signed with its Ed25519 key, with the data keys wrapped to
   the TA's ephemeral key and the result recipients the policy allows;
6. ``IMPORT_KEYS``: the TA checks the signature with the pinned key and that
   the reply answers its pending evidence, then unwraps the keys into slots.

The host only relays bytes: it never holds a key to unwrap the data keys, and
cannot forge or alter a reply (the TA would refuse it).

Reveals to the host: table ids, key ids, slots, recipients, measurement and
every byte of evidence and reply (none of them secret).
"""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Optional, Protocol, Union

from teespark.attest.evidence import parse_evidence
from teespark.errors import (
    EnclaveError,
    KbsKeyMismatchError,
    KbsReplyError,
    KbsReplyRejectedError,
    KbsUnavailableError,
    KeyReleaseRefusedError,
)
from teespark.kbs.reply import parse_reply, verify_reply

__all__ = ["KeyRelease", "ReleasedRecipient", "ReleasedTable", "release_keys"]

#: TA result codes for a refused reply (teespark_ta.h TS_ERROR_*).
TS_ERROR_KBS_NOT_PINNED = 0x80010008
TS_ERROR_REPLY_SIGNATURE = 0x80010009
TS_ERROR_REPLY_STALE = 0x8001000A
TS_ERROR_REPLY_FORMAT = 0x8001000B
TS_ERROR_RECIPIENT_UNKNOWN = 0x8001000C
TEE_ERROR_ACCESS_DENIED = 0xFFFF0001

_REPLY_ERRORS = {
    TS_ERROR_KBS_NOT_PINNED: "no KBS key is pinned in this TA session",
    TS_ERROR_REPLY_SIGNATURE: "the reply is not signed by the pinned KBS key",
    TS_ERROR_REPLY_STALE: "the reply does not answer this session's pending evidence "
                          "(replayed, or meant for another session)",
    TS_ERROR_REPLY_FORMAT: "the reply is malformed",
    TS_ERROR_RECIPIENT_UNKNOWN: "the reply names a recipient the TA refuses",
}


class _KbsHandle(Protocol):
    url: str
    public_key: bytes


class _TA(Protocol):
    def pin_kbs_key(self, public_key: bytes) -> None: ...
    def get_evidence(self, nonce: bytes) -> bytes: ...
    def import_keys(self, reply: bytes) -> tuple[int, int]: ...


@dataclass(frozen=True)
class ReleasedTable:
    """A data key now in a TA key slot."""

    slot: int
    table_id: bytes
    key_id: bytes
    table: str  # what the caller asked for (name or id)


@dataclass(frozen=True)
class ReleasedRecipient:
    """A result recipient the TA recorded from the signed reply."""

    recipient_id: bytes
    public_key: bytes


@dataclass(frozen=True)
class KeyRelease:
    """The outcome of :func:`release_keys` (all public)."""

    tables: tuple[ReleasedTable, ...]
    recipients: tuple[ReleasedRecipient, ...]
    evidence_hash: bytes
    measurement: bytes

    @property
    def slots(self) -> dict[str, int]:
        """Requested table (name or id) -> key slot."""
        return {t.table: t.slot for t in self.tables}

    def slot_of(self, table: str | bytes) -> int:
        """The slot holding ``table`` (the name or id asked for, or the 16-byte id)."""
        for t in self.tables:
            if table in (t.table, t.table_id, t.table_id.hex()):
                return t.slot
        raise KeyError(f"table {table!r} was not part of this key release; released: "
                       f"{[t.table for t in self.tables]}")


def _http(method: str, url: str, body: Optional[dict[str, Any]], timeout: float) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Accept": "application/json",
        **({"Content-Type": "application/json"} if data is not None else {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            payload = resp.read()
    except urllib.error.HTTPError as exc:
        try:
            err = json.loads(exc.read().decode())
            ref, msg = err["error"], err["message"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise KbsUnavailableError(f"{method} {url} answered HTTP {exc.code} without a "
                                      "KBS error body: is this a teespark KBS?") from None
        raise KeyReleaseRefusedError(f"the KBS refused ({exc.code} {ref}): {msg}",
                                     status=exc.code, reference=ref) from None
    except (urllib.error.URLError, OSError) as exc:
        raise KbsUnavailableError(f"cannot reach the KBS at {url}: {exc}; is it running "
                                  "('teespark kbs serve')?") from None
    try:
        return json.loads(payload.decode())
    except (ValueError, UnicodeDecodeError):
        raise KbsUnavailableError(f"{method} {url} did not answer JSON: is this a "
                                  "teespark KBS?") from None


def _b64field(doc: Any, name: str, url: str) -> bytes:
    try:
        return base64.b64decode(doc[name], validate=True)
    except (KeyError, TypeError, ValueError):
        raise KbsUnavailableError(f"the KBS at {url} answered without a valid {name!r}") \
            from None


def release_keys(ta: _TA, kbs_url: Union[str, _KbsHandle], tables: Sequence[str],
                 recipients: Sequence[str] = (), *, kbs_public_key: Optional[bytes] = None,
                 slots: Optional[Sequence[int]] = None, timeout: float = 30.0) -> KeyRelease:
    """Fetch data keys from a KBS into the TA's key slots, by attestation.

    Args:
        ta: an open :class:`~teespark.tee.teespark_ta.TeesparkTA` session.
        kbs_url: the KBS base URL, or an embedded KBS handle (whose ``url``
            and ``public_key`` are then used).
        tables: table ids (32 hex) or names, as the KBS policy knows them.
        recipients: result recipient ids or names to request.
        kbs_public_key: the KBS's Ed25519 public key (32 bytes or 64 hex) from
            the owners' configuration. Required with a URL: the key a server
            presents is only compared against it, never trusted on its own.
        slots: key slot per table (default 0, 1, ...).
        timeout: seconds per HTTP request.

    Returns:
        A :class:`KeyRelease`: which slot holds which table, the recipients.

    Raises:
        KbsKeyMismatchError: the KBS at the URL is not the configured one.
        KbsUnavailableError: the KBS cannot be reached.
        KeyReleaseRefusedError: the KBS refused (``status``, ``reference``).
        KbsReplyError: the reply is malformed or not signed by the KBS key.
        KbsReplyRejectedError: the TA refused the reply.

    Reveals: see the module docstring (nothing secret).
    """
    if hasattr(kbs_url, "url") and hasattr(kbs_url, "public_key"):
        handle = kbs_url
        kbs_url = handle.url  # type: ignore[union-attr]
        kbs_public_key = kbs_public_key or handle.public_key  # type: ignore[union-attr]
    if kbs_public_key is None:
        raise ValueError("release_keys: 'kbs_public_key' is required: the TA pins the KBS key "
                         "the owners configured, not whatever key the URL presents")
    if isinstance(kbs_public_key, str):
        kbs_public_key = bytes.fromhex(kbs_public_key)
    kbs_public_key = bytes(kbs_public_key)
    if len(kbs_public_key) != 32:
        raise ValueError("release_keys: 'kbs_public_key' must be 32 bytes (Ed25519)")
    if isinstance(tables, str) or not tables:
        raise ValueError("release_keys: 'tables' must be a non-empty list of table ids or names")
    if isinstance(recipients, str):
        raise ValueError("release_keys: 'recipients' must be a list of recipient ids or names")
    base = str(kbs_url).rstrip("/")

    presented = _http("GET", f"{base}/v1/kbs-key", None, timeout)
    shown = presented.get("public_key") if isinstance(presented, dict) else None
    if shown != kbs_public_key.hex():
        raise KbsKeyMismatchError(
            f"the KBS at {base} signs with key {shown}, not the configured KBS key "
            f"{kbs_public_key.hex()}: check the KBS URL and key")
    nonce = _b64field(_http("GET", f"{base}/v1/nonce", None, timeout), "nonce", base)

    try:
        ta.pin_kbs_key(kbs_public_key)
    except EnclaveError as exc:
        if exc.code == TEE_ERROR_ACCESS_DENIED:
            raise KbsKeyMismatchError(
                "this TA session already pinned another KBS key; open a new session to use "
                f"KBS {kbs_public_key.hex()}") from None
        raise
    evidence = ta.get_evidence(nonce)

    body: dict[str, Any] = {"evidence": base64.b64encode(evidence).decode(),
                            "tables": list(tables), "recipients": list(recipients)}
    if slots is not None:
        body["slots"] = list(slots)
    answer = _http("POST", f"{base}/v1/keys", body, timeout)
    raw = _b64field(answer, "reply", base)

    # Host-side checks only give clearer errors; the TA checks all of it again.
    reply = verify_reply(parse_reply(raw), kbs_public_key)
    if reply.evidence_hash != hashlib.sha256(evidence).digest():
        raise KbsReplyError("the KBS reply answers other evidence than the TA produced")
    try:
        n_keys, n_recipients = ta.import_keys(raw)
    except EnclaveError as exc:
        why = _REPLY_ERRORS.get(exc.code)
        if why is None:
            raise
        raise KbsReplyRejectedError(f"IMPORT_KEYS: the TA refused the KBS reply: {why}",
                                    code=exc.code) from exc
    if (n_keys, n_recipients) != (len(reply.keys), len(reply.recipients)):
        raise KbsReplyRejectedError(
            f"IMPORT_KEYS imported {n_keys} keys and {n_recipients} recipients, the reply "
            f"carries {len(reply.keys)} and {len(reply.recipients)}")

    # The KBS lists slots in request order; the signed reply is what counts.
    requested = {info.get("table_id"): ref for ref, info in zip(tables, answer.get("slots", []))
                 if isinstance(info, dict)}
    released = tuple(ReleasedTable(slot=k.slot, table_id=k.table_id, key_id=k.key_id,
                                   table=requested.get(k.table_id.hex(), k.table_id.hex()))
                     for k in reply.keys)
    return KeyRelease(tables=released,
                      recipients=tuple(ReleasedRecipient(r.recipient_id, r.public_key)
                                       for r in reply.recipients),
                      evidence_hash=reply.evidence_hash,
                      measurement=parse_evidence(evidence).measurement)

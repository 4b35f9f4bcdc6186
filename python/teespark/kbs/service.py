"""The KBS's decisions, without HTTP: nonces, evidence checks, key release.

:class:`KbsService` answers the three protocol questions (a fresh nonce, the
KBS public key, a key release) and records every release and refusal in the
audit log. The HTTP layer (:mod:`teespark.kbs.server`) only decodes requests
and maps :class:`KbsRefusal` to a status and a JSON error.

Checks on ``POST /v1/keys``, in order (each refusal names the problem):

1. the request is a JSON object with ``evidence`` (base64), ``tables`` (1..8
   table ids or names), optional ``recipients`` and ``slots`` (400);
2. the evidence parses (400);
3. its verifier nonce was issued by this KBS (403 ``nonce-unknown``), has not
   expired (403 ``nonce-expired``) and was not used before (409 ``nonce-reused``);
4. its signature verifies with a device key some owner trusts (403
   ``signature-invalid``); only then is the nonce consumed;
5. the TA pinned this KBS's key (403 ``kbs-key-mismatch``) and is the teespark
   TA (403 ``ta-uuid-mismatch``);
6. every table exists (404 ``table-unknown``) and, per table, its owner
   trusts the signing device key (403 ``device-key-untrusted``), accepts
   simulated evidence if it is simulated (403 ``simulated-evidence``), allows
   the measurement (403 ``measurement-not-allowed``), and the data key is
   loaded (404 ``data-key-missing``);
7. every requested recipient is allowed by the owners of all requested
   tables, with one public key (403 ``recipient-not-allowed``).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import threading
import time
import uuid as _uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

from teespark.attest.evidence import (
    Evidence,
    evidence_hash,
    parse_evidence,
    verify_evidence,
)
from teespark.errors import (
    EvidenceFormatError,
    EvidenceVerificationError,
    KbsPolicyError,
    KbsStorageError,
)
from teespark.kbs.audit import AuditLog
from teespark.kbs.policy import RecipientPolicy, TablePolicy
from teespark.kbs.reply import MAX_KEY_SLOTS, MAX_RECIPIENTS, KeyGrant, RecipientEntry, build_reply
from teespark.kbs.store import KbsStore

__all__ = ["TEESPARK_TA_UUID", "KbsRefusal", "KbsService", "Release"]

log = logging.getLogger("teespark.kbs")

#: The teespark TA (teespark_ta.h: TA_TEESPARK_UUID_STR).
TEESPARK_TA_UUID = _uuid.UUID("83c7c701-68cf-4ff1-9ff7-4ba80b8f66ec")
NONCE_BYTES = 32
DEFAULT_NONCE_TTL = 120.0
MAX_OUTSTANDING_NONCES = 10000
_REQUEST_FIELDS = {"evidence", "tables", "recipients", "slots"}


class KbsRefusal(Exception):
    """A request the KBS refuses: HTTP ``status``, kebab-case ``reference``, message."""

    def __init__(self, status: int, reference: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reference = reference
        self.message = message


@dataclass(frozen=True)
class Release:
    """What one successful release produced (all public)."""

    reply: bytes
    evidence_hash: bytes
    slots: list[dict[str, Any]]
    recipients: list[dict[str, str]]


class _NonceBook:
    """Single-use nonces with a time to live (memory only: a restart voids them)."""

    def __init__(self, ttl: float, capacity: int) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self._lock = threading.Lock()
        self._issued: dict[bytes, float] = {}   # nonce -> expiry (monotonic)
        self._used: dict[bytes, float] = {}     # nonce -> expiry, to tell reuse apart

    def _purge(self, now: float) -> None:
        for book in (self._issued, self._used):
            for n in [n for n, exp in book.items() if exp <= now - self.ttl]:
                del book[n]

    def issue(self) -> bytes:
        now = time.monotonic()
        with self._lock:
            self._purge(now)
            if len(self._issued) >= self.capacity:
                raise KbsRefusal(503, "too-many-nonces",
                                 f"{len(self._issued)} nonces are outstanding; retry later")
            nonce = os.urandom(NONCE_BYTES)
            self._issued[nonce] = now + self.ttl
            return nonce

    def check(self, nonce: bytes, *, consume: bool) -> None:
        now = time.monotonic()
        with self._lock:
            if nonce in self._used:
                raise KbsRefusal(409, "nonce-reused",
                                 "the evidence answers a nonce that was already used: get a "
                                 "fresh nonce (GET /v1/nonce) and fresh evidence")
            exp = self._issued.get(nonce)
            if exp is None:
                raise KbsRefusal(403, "nonce-unknown",
                                 "the evidence answers a nonce this KBS did not issue (or "
                                 "issued before it restarted): get one from GET /v1/nonce")
            if exp <= now:
                raise KbsRefusal(403, "nonce-expired",
                                 f"the evidence answers a nonce older than {self.ttl:g} s: "
                                 "get a fresh nonce and fresh evidence")
            if consume:
                del self._issued[nonce]
                self._used[nonce] = exp


@dataclass
class _Context:
    """What is known about a request so far (for the audit log)."""

    client: str
    tables: list[str] = field(default_factory=list)
    evidence: Optional[Evidence] = None


class KbsService:
    """Key release decisions over a :class:`KbsStore`.

    Args:
        store: the opened KBS directory.
        profile: ``"dev"`` accepts simulated evidence unless an owner says
            ``accept_simulated: false``; ``"prod"`` never accepts it.
        nonce_ttl: seconds a nonce stays valid.
        audit: the audit log (default ``store.dir / "audit.log"``).
    """

    def __init__(self, store: KbsStore, *, profile: str = "dev",
                 nonce_ttl: float = DEFAULT_NONCE_TTL,
                 audit: Optional[AuditLog] = None) -> None:
        if profile not in ("dev", "prod"):
            raise ValueError(f"KbsService: 'profile' must be 'dev' or 'prod', got {profile!r}")
        self.store = store
        self.profile = profile
        self.audit = audit or AuditLog(store.audit_path)
        self.nonce_ttl = nonce_ttl
        self._nonces = _NonceBook(nonce_ttl, MAX_OUTSTANDING_NONCES)
        self._signing_lock = threading.Lock()
        self.public_key = store.public_key
        policy = store.policy  # refuse to start with an invalid or hand-edited policy
        if profile == "prod":
            for o in policy.owners.values():
                if o.accept_simulated:
                    log.warning("owner %r sets accept_simulated, which the prod profile "
                                "ignores: simulated evidence is always refused", o.name)

    # -- the protocol -------------------------------------------------------------

    def new_nonce(self) -> bytes:
        return self._nonces.issue()

    def release(self, request: object, *, client: str) -> Release:
        """Check a ``POST /v1/keys`` request and build the signed reply.

        Raises:
            KbsRefusal: with the HTTP status and reference; already audited.
        """
        ctx = _Context(client=client)
        try:
            rel = self._release(request, ctx)
        except KbsRefusal as r:
            self._audit_refusal(ctx, r)
            log.info("refused key release to %s: %s (%s)", client, r.reference, r.status)
            raise
        ev = ctx.evidence
        assert ev is not None
        self.audit.record("release", client=client, outcome="released", status=200,
                          tables=[s["table_id"] for s in rel.slots],
                          measurement=ev.measurement.hex(), tee_kind=ev.tee_kind_name,
                          simulated=ev.simulated,
                          device_key=ev.device_key.fingerprint if ev.device_key else None,
                          evidence_hash=rel.evidence_hash.hex(),
                          recipients=[r["id"] for r in rel.recipients],
                          slots=[s["slot"] for s in rel.slots])
        log.info("released %d key(s) to %s (measurement %s)", len(rel.slots), client,
                 ev.measurement.hex()[:16])
        return rel

    def _audit_refusal(self, ctx: _Context, r: KbsRefusal) -> None:
        ev = ctx.evidence
        self.audit.record(
            "refusal", client=ctx.client, outcome=r.reference, status=r.status,
            message=r.message, tables=ctx.tables or None,
            measurement=ev.measurement.hex() if ev else None,
            tee_kind=ev.tee_kind_name if ev else None,
            simulated=ev.simulated if ev else None,
            evidence_hash=ev.hash.hex() if ev else None)

    # -- checks -------------------------------------------------------------------

    @staticmethod
    def _parse_request(request: object, ctx: _Context) -> tuple[bytes, list[str], list[str],
                                                                  Optional[list[int]]]:
        if not isinstance(request, Mapping):
            raise KbsRefusal(400, "request-malformed", "the request body must be a JSON object")
        extra = sorted(set(request) - _REQUEST_FIELDS)
        if extra:
            raise KbsRefusal(400, "request-malformed",
                             f"unknown request field(s) {extra}; allowed: "
                             f"{sorted(_REQUEST_FIELDS)}")
        tables = request.get("tables")
        if (not isinstance(tables, list) or not tables
                or not all(isinstance(t, str) and 0 < len(t) <= 200 for t in tables)):
            raise KbsRefusal(400, "request-malformed",
                             "'tables' must be a non-empty list of table ids or names")
        ctx.tables = [t[:200] for t in tables[:MAX_KEY_SLOTS + 1]]
        if len(tables) > MAX_KEY_SLOTS:
            raise KbsRefusal(400, "too-many-tables",
                             f"{len(tables)} tables requested; a TA has {MAX_KEY_SLOTS} "
                             "key slots")
        if len(set(tables)) != len(tables):
            raise KbsRefusal(400, "request-malformed", "'tables' names a table twice")
        recipients = request.get("recipients", [])
        if (not isinstance(recipients, list)
                or not all(isinstance(r, str) and 0 < len(r) <= 200 for r in recipients)):
            raise KbsRefusal(400, "request-malformed",
                             "'recipients' must be a list of recipient ids or names")
        if len(recipients) > MAX_RECIPIENTS or len(set(recipients)) != len(recipients):
            raise KbsRefusal(400, "request-malformed",
                             f"'recipients' must be distinct, at most {MAX_RECIPIENTS}")
        slots = request.get("slots")
        if slots is not None and (
                not isinstance(slots, list) or len(slots) != len(tables)
                or not all(isinstance(s, int) and not isinstance(s, bool)
                           and 0 <= s < MAX_KEY_SLOTS for s in slots)
                or len(set(slots)) != len(slots)):
            raise KbsRefusal(400, "request-malformed",
                             f"'slots' must list one distinct slot in 0..{MAX_KEY_SLOTS - 1} "
                             "per table")
        ev_b64 = request.get("evidence")
        if not isinstance(ev_b64, str):
            raise KbsRefusal(400, "request-malformed", "'evidence' must be a base64 string")
        try:
            evidence = base64.b64decode(ev_b64.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise KbsRefusal(400, "request-malformed", "'evidence' is not valid base64") \
                from None
        return evidence, tables, recipients, slots

    def _release(self, request: object, ctx: _Context) -> Release:
        raw, table_refs, recipient_refs, slots = self._parse_request(request, ctx)
        try:
            parsed = parse_evidence(raw)
        except EvidenceFormatError as exc:
            raise KbsRefusal(400, "evidence-malformed", str(exc)) from None
        self._nonces.check(parsed.verifier_nonce, consume=False)

        try:
            self.store.refresh()
            policy = self.store.policy
        except (KbsPolicyError, KbsStorageError) as exc:
            log.error("cannot load the KBS directory: %s", exc)
            raise KbsRefusal(500, "kbs-misconfigured",
                             "the KBS cannot load its policy or key store; its operator "
                             "must check the KBS log") from None
        try:
            ev = verify_evidence(parsed, policy.device_keys(), accept_simulated=True)
        except EvidenceVerificationError as exc:
            ctx.evidence = parsed
            raise KbsRefusal(403, "signature-invalid",
                             f"{exc} (the KBS trusts {len(policy.device_keys())} device "
                             "key(s))") from None
        ctx.evidence = ev
        self._nonces.check(ev.verifier_nonce, consume=True)

        if ev.kbs_public_key != self.public_key:
            raise KbsRefusal(403, "kbs-key-mismatch",
                             f"the TA pinned KBS key {ev.kbs_public_key.hex()}, but this KBS "
                             f"signs with {self.public_key.hex()}: the host configured the "
                             "wrong KBS")
        if ev.ta_uuid != TEESPARK_TA_UUID:
            raise KbsRefusal(403, "ta-uuid-mismatch",
                             f"the evidence comes from TA {ev.ta_uuid}, not the teespark TA "
                             f"{TEESPARK_TA_UUID}")

        resolved: list[TablePolicy] = []
        for ref in table_refs:
            t = policy.find_table(ref)
            if t is None:
                raise KbsRefusal(404, "table-unknown",
                                 f"no table {ref!r} in this KBS's policy (use a 32-hex table "
                                 "id, 'owner/name' or a unique name)")
            resolved.append(t)
        ctx.tables = [t.table_id.hex() for t in resolved]
        if len({t.table_id for t in resolved}) != len(resolved):
            raise KbsRefusal(400, "request-malformed", "'tables' names one table twice")

        assert ev.device_key is not None
        for t in resolved:
            owner = policy.owners[t.owner]
            name = f"'{t.owner}/{t.name}'"
            if all(k.fingerprint != ev.device_key.fingerprint for k in owner.device_keys):
                raise KbsRefusal(403, "device-key-untrusted",
                                 f"owner {t.owner!r} of table {name} does not trust device key "
                                 f"{ev.device_key.fingerprint} that signed the evidence")
            if ev.simulated and not self._accepts_simulated(owner.accept_simulated):
                raise KbsRefusal(403, "simulated-evidence",
                                 f"table {name}: the evidence comes from the TEE simulator, "
                                 f"which {self._simulated_rule(owner.accept_simulated)}")
            if ev.measurement not in owner.table_measurements(t):
                raise KbsRefusal(403, "measurement-not-allowed",
                                 f"TA measurement {ev.measurement.hex()} is not allowed for "
                                 f"table {name}")
            if not self.store.has_data_key(t.key_id):
                raise KbsRefusal(404, "data-key-missing",
                                 f"the data key {t.key_id.hex()} of table {name} is not loaded "
                                 "in this KBS: run 'teespark kbs add-table'")

        recipients = [self._resolve_recipient(ref, resolved, policy) for ref in recipient_refs]

        grants = []
        slot_list = slots if slots is not None else list(range(len(resolved)))
        for slot, t in zip(slot_list, resolved):
            try:
                key = self.store.get_data_key(t.key_id)
            except KbsStorageError as exc:
                raise KbsRefusal(500, "key-store-error", str(exc)) from None
            grants.append(KeyGrant(slot=slot, key_id=t.key_id, table_id=t.table_id,
                                   data_key=key))
        try:
            with self._signing_lock:
                reply = build_reply(
                    evidence_hash=ev.hash, ta_public_key=ev.ta_public_key, grants=grants,
                    recipients=[RecipientEntry(r.recipient_id, r.public_key) for r in recipients],
                    signing_key=self.store.signing_key())
        except ValueError as exc:
            raise KbsRefusal(400, "evidence-malformed", str(exc)) from None
        finally:
            del grants
        return Release(
            reply=reply, evidence_hash=evidence_hash(ev.raw),
            slots=[{"slot": s, "table": f"{t.owner}/{t.name}", "table_id": t.table_id.hex(),
                    "key_id": t.key_id.hex()} for s, t in zip(slot_list, resolved)],
            recipients=[{"id": r.recipient_id.hex(), "public_key": r.public_key.hex(),
                         **({"name": r.name} if r.name else {})} for r in recipients])

    def _accepts_simulated(self, owner_setting: Optional[bool]) -> bool:
        if self.profile == "prod":
            return False
        return owner_setting is not False

    def _simulated_rule(self, owner_setting: Optional[bool]) -> str:
        if self.profile == "prod":
            return "the prod profile never accepts"
        return "its owner does not accept (accept_simulated: false)"

    @staticmethod
    def _resolve_recipient(ref: str, tables: list[TablePolicy], policy) -> RecipientPolicy:
        chosen: Optional[RecipientPolicy] = None
        for t in tables:
            owner = policy.owners[t.owner]
            allowed = owner.table_recipients(t)
            r = owner.resolve_recipient(ref)
            if r is None or r.recipient_id not in allowed:
                raise KbsRefusal(403, "recipient-not-allowed",
                                 f"recipient {ref!r} may not receive results of table "
                                 f"'{t.owner}/{t.name}' (owner {t.owner!r}'s policy)")
            if chosen is not None and (chosen.recipient_id, chosen.public_key) != \
                    (r.recipient_id, r.public_key):
                raise KbsRefusal(403, "recipient-not-allowed",
                                 f"recipient {ref!r} means different keys to the owners of the "
                                 "requested tables")
            chosen = r
        assert chosen is not None
        return chosen

    def record_refusal(self, client: str, refusal: KbsRefusal) -> None:
        """Audit a refusal decided before the request reached :meth:`release`
        (HTTP-level: body too large, malformed JSON, ...)."""
        self._audit_refusal(_Context(client=client), refusal)
        log.info("refused request from %s: %s (%s)", client, refusal.reference, refusal.status)

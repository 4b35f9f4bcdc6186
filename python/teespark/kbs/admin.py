"""Owner-side edits of a KBS directory: tables, data keys, recipients, device keys.

These run on the owner's machine against the KBS directory (the CLI's
``teespark kbs add-table`` etc., or an embedded KBS). There is no admin
endpoint over HTTP: whoever can edit the directory and holds the storage key
administers the KBS. Every edit is recorded in the audit log (ids only).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional

from teespark.attest.evidence import DeviceKey, DeviceKeyLike
from teespark.errors import KbsPolicyError
from teespark.kbs.audit import AuditLog
from teespark.kbs.policy import Policy, RecipientPolicy, TablePolicy
from teespark.kbs.store import KbsStore

__all__ = ["add_recipient", "add_table", "set_policy", "trust_device_key"]


def _bytes(value: bytes | str, size: int, name: str) -> bytes:
    if isinstance(value, str):
        try:
            value = bytes.fromhex(value)
        except ValueError:
            raise ValueError(f"{name} must be {size} bytes or {2 * size} hex digits") from None
    if not isinstance(value, (bytes, bytearray)) or len(value) != size:
        raise ValueError(f"{name} must be {size} bytes or {2 * size} hex digits")
    return bytes(value)


def add_table(store: KbsStore, *, owner: str, name: str, table_id: bytes | str,
              key_id: bytes | str, data_key: bytes,
              measurements: Optional[Iterable[bytes | str]] = None,
              recipients: Optional[Iterable[str]] = None) -> TablePolicy:
    """Load a table's data key and add (or replace) the table in the policy.

    Args:
        store: the KBS directory.
        owner: the table owner's section in the policy (created if new).
        name: the table name (unique per owner).
        table_id, key_id: 16 bytes (or 32 hex digits), as in the table's manifest.
        data_key: the 32-byte data key (sealed under the storage key at rest).
        measurements: allowed TA measurements for this table (``None``: the
            owner's default list).
        recipients: allowed result recipients by id or name (``None``: all of
            the owner's recipients).

    Returns:
        The table's policy entry.
    """
    tid = _bytes(table_id, 16, "table_id")
    kid = _bytes(key_id, 16, "key_id")
    if not isinstance(data_key, (bytes, bytearray)) or len(data_key) != 32:
        raise ValueError("data_key must be 32 bytes")
    table = TablePolicy(
        name=name, owner=owner, table_id=tid, key_id=kid,
        measurements=None if measurements is None else
        [_bytes(m, 32, "measurement") for m in measurements],
        recipients=None if recipients is None else
        [r.lower() if len(r) == 32 and all(c in "0123456789abcdefABCDEF" for c in r) else r
         for r in recipients])
    with store.admin_lock():
        policy = store.policy
        policy.put_table(table)
        store.put_data_key(kid, bytes(data_key))
        store.save_policy(policy)
    AuditLog(store.audit_path).record("admin", action="add-table", owner=owner, table=name,
                                      tables=[tid.hex()], key_id=kid.hex(), outcome="ok")
    return table


def add_recipient(store: KbsStore, *, owner: str, recipient_id: bytes | str,
                  public_key: bytes | str, name: Optional[str] = None) -> RecipientPolicy:
    """Allow a result recipient (16-byte id, X25519 public key) for an owner's tables."""
    r = RecipientPolicy(_bytes(recipient_id, 16, "recipient_id"),
                        _bytes(public_key, 32, "public_key"), name)
    with store.admin_lock():
        policy = store.policy
        policy.put_recipient(owner, r)
        store.save_policy(policy)
    AuditLog(store.audit_path).record("admin", action="add-recipient", owner=owner,
                                      recipients=[r.recipient_id.hex()], outcome="ok")
    return r


def trust_device_key(store: KbsStore, *, owner: str, key: DeviceKeyLike) -> DeviceKey:
    """Trust a device attestation key (from GET_DEVICE_PUBKEY) for an owner's tables."""
    k = DeviceKey.coerce(key)
    with store.admin_lock():
        policy = store.policy
        policy.trust_device_key(owner, k)
        store.save_policy(policy)
    AuditLog(store.audit_path).record("admin", action="trust-device", owner=owner,
                                      device_key=k.fingerprint, outcome="ok")
    return k


def set_policy(store: KbsStore, text: str | bytes) -> Policy:
    """Validate and install a whole policy document (JSON text).

    Raises:
        KbsPolicyError: invalid document, or tables whose data keys are not loaded.
    """
    policy = Policy.loads(text)
    missing = [f"{t.owner}/{t.name}" for t in policy.tables() if not store.has_data_key(t.key_id)]
    if missing:
        raise KbsPolicyError(f"the policy names tables whose data keys are not loaded: "
                             f"{missing}; load them with 'teespark kbs add-table' first")
    store.save_policy(policy)
    AuditLog(store.audit_path).record("admin", action="set-policy", outcome="ok",
                                      tables=[t.table_id.hex() for t in policy.tables()])
    return policy

"""The KBS release policy: who may receive which table's data key.

The policy is a JSON document (``policy.json`` in the KBS directory; format in
docs/KBS.md), one section per table owner:

.. code-block:: json

    {"version": 1,
     "owners": {
       "bank": {
         "accept_simulated": null,
         "device_keys": [{"e": "10001", "n": "c0ffee..."}],
         "measurements": ["<64 hex>"],
         "recipients": {"<32 hex id>": {"public_key": "<64 hex>", "name": "risk-team"}},
         "tables": {
           "accounts": {"table_id": "<32 hex>", "key_id": "<32 hex>",
                        "measurements": ["<64 hex>"], "recipients": ["risk-team"]}}}}}

Per table, ``measurements`` (allowed TA measurements) defaults to the owner's
``measurements`` and ``recipients`` (allowed result recipients, by id or name)
defaults to all of the owner's recipients. ``accept_simulated`` is ``true``,
``false`` or ``null`` (follow the KBS profile: accepted in ``dev``). Nothing
in the policy is secret; data keys live in the encrypted key store.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Optional

from teespark.attest.evidence import DeviceKey
from teespark.errors import KbsPolicyError

__all__ = ["OwnerPolicy", "Policy", "RecipientPolicy", "TablePolicy", "parse_hex"]

POLICY_VERSION = 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")


def parse_hex(value: object, size: int, where: str) -> bytes:
    """``size`` bytes from a hex string; KbsPolicyError naming ``where``."""
    if not isinstance(value, str):
        raise KbsPolicyError(f"{where} must be a hex string of {size} bytes, "
                             f"got {type(value).__name__}")
    try:
        out = bytes.fromhex(value)
    except ValueError:
        raise KbsPolicyError(f"{where} is not hex: {value[:80]!r}") from None
    if len(out) != size:
        raise KbsPolicyError(f"{where} must be {size} bytes ({2 * size} hex digits), "
                             f"got {len(out)}")
    return out


def _check_name(value: object, where: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise KbsPolicyError(f"{where} {value!r} is not a valid name (letters, digits, "
                             "'_', '.', ':', '-'; at most 128 characters)")
    return value


def _recipient_ref(value: object, where: str) -> str:
    """A recipient reference: a 32-hex id (normalized to lower case) or a name."""
    if isinstance(value, str) and re.fullmatch(r"[0-9a-fA-F]{32}", value):
        return value.lower()
    return _check_name(value, where)


def _obj(value: object, where: str, allowed: Iterable[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise KbsPolicyError(f"{where} must be a JSON object, got {type(value).__name__}")
    extra = sorted(set(value) - set(allowed))
    if extra:
        raise KbsPolicyError(f"{where} has unknown field(s) {extra}; allowed: {sorted(allowed)}")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise KbsPolicyError(f"{where} must be a JSON list, got {type(value).__name__}")
    return value


@dataclass
class RecipientPolicy:
    """A result recipient: 16-byte id and X25519 public key."""

    recipient_id: bytes
    public_key: bytes
    name: Optional[str] = None


@dataclass
class TablePolicy:
    """One table: its ids, and who may read it (``None`` = the owner's defaults)."""

    name: str
    owner: str
    table_id: bytes
    key_id: bytes
    measurements: Optional[list[bytes]] = None
    recipients: Optional[list[str]] = None


@dataclass
class OwnerPolicy:
    """One table owner's section."""

    name: str
    accept_simulated: Optional[bool] = None
    device_keys: list[DeviceKey] = field(default_factory=list)
    measurements: list[bytes] = field(default_factory=list)
    recipients: dict[bytes, RecipientPolicy] = field(default_factory=dict)
    tables: dict[str, TablePolicy] = field(default_factory=dict)

    def table_measurements(self, table: TablePolicy) -> set[bytes]:
        return set(self.measurements if table.measurements is None else table.measurements)

    def resolve_recipient(self, ref: str) -> RecipientPolicy | None:
        """A recipient of this owner by 32-hex id or by name."""
        for r in self.recipients.values():
            if r.recipient_id.hex() == ref.lower() or (r.name is not None and r.name == ref):
                return r
        return None

    def table_recipients(self, table: TablePolicy) -> dict[bytes, RecipientPolicy]:
        """Recipients allowed for ``table``: id -> recipient."""
        if table.recipients is None:
            return dict(self.recipients)
        out = {}
        for ref in table.recipients:
            r = self.resolve_recipient(ref)
            if r is not None:
                out[r.recipient_id] = r
        return out


@dataclass
class Policy:
    """The whole policy: owners by name."""

    owners: dict[str, OwnerPolicy] = field(default_factory=dict)

    # -- queries ----------------------------------------------------------------

    def tables(self) -> list[TablePolicy]:
        return [t for o in self.owners.values() for t in o.tables.values()]

    def find_table(self, ref: str) -> TablePolicy | None:
        """A table by 32-hex table id, ``owner/name`` or unique name."""
        ref_l = ref.lower()
        for t in self.tables():
            if t.table_id.hex() == ref_l or f"{t.owner}/{t.name}" == ref:
                return t
        by_name = [t for t in self.tables() if t.name == ref]
        return by_name[0] if len(by_name) == 1 else None

    def device_keys(self) -> list[DeviceKey]:
        seen: dict[str, DeviceKey] = {}
        for o in self.owners.values():
            for k in o.device_keys:
                seen.setdefault(k.fingerprint, k)
        return list(seen.values())

    def owner(self, name: str, *, create: bool = False) -> OwnerPolicy:
        if name not in self.owners:
            if not create:
                raise KbsPolicyError(f"the policy has no owner {name!r}; owners: "
                                     f"{sorted(self.owners)}")
            self.owners[_check_name(name, "owner name")] = OwnerPolicy(name=name)
        return self.owners[name]

    def copy(self) -> Policy:
        return copy.deepcopy(self)

    # -- edits (admin) ----------------------------------------------------------

    def put_table(self, table: TablePolicy) -> None:
        """Add or replace a table; its id must not belong to another table."""
        for t in self.tables():
            if t.table_id == table.table_id and (t.owner, t.name) != (table.owner, table.name):
                raise KbsPolicyError(
                    f"table id {table.table_id.hex()} already belongs to table "
                    f"'{t.owner}/{t.name}'")
        self.owner(table.owner, create=True).tables[_check_name(table.name, "table name")] = table
        self.validate()

    def put_recipient(self, owner: str, recipient: RecipientPolicy) -> None:
        o = self.owner(owner, create=True)
        o.recipients[recipient.recipient_id] = recipient
        self.validate()

    def trust_device_key(self, owner: str, key: DeviceKey) -> None:
        o = self.owner(owner, create=True)
        if all(k.fingerprint != key.fingerprint for k in o.device_keys):
            o.device_keys.append(key)

    # -- (de)serialization ---------------------------------------------------

    def validate(self) -> None:
        """Cross-field checks; raises KbsPolicyError."""
        ids: dict[bytes, str] = {}
        for o in self.owners.values():
            names = [r.name for r in o.recipients.values() if r.name is not None]
            if len(set(names)) != len(names):
                raise KbsPolicyError(f"owner {o.name!r}: two recipients share a name")
            for t in o.tables.values():
                where = f"table '{o.name}/{t.name}'"
                if t.table_id in ids:
                    raise KbsPolicyError(f"{where}: table id {t.table_id.hex()} is also used "
                                         f"by table '{ids[t.table_id]}'")
                ids[t.table_id] = f"{o.name}/{t.name}"
                for ref in t.recipients or ():
                    if o.resolve_recipient(ref) is None:
                        raise KbsPolicyError(f"{where}: recipient {ref!r} is not one of owner "
                                             f"{o.name!r}'s recipients")

    @classmethod
    def from_json(cls, doc: object) -> Policy:
        """Parse a policy document; raises KbsPolicyError naming the bad field."""
        doc = _obj(doc, "policy", ("version", "owners"))
        if doc.get("version") != POLICY_VERSION:
            raise KbsPolicyError(f"policy version {doc.get('version')!r} is not supported "
                                 f"(expected {POLICY_VERSION})")
        owners = _obj(doc.get("owners", {}), "policy.owners", doc.get("owners", {}) or {})
        pol = cls()
        for oname, odoc in owners.items():
            w = f"owners.{oname}"
            _check_name(oname, "owner name")
            odoc = _obj(odoc, w, ("accept_simulated", "device_keys", "measurements",
                                  "recipients", "tables"))
            acc = odoc.get("accept_simulated")
            if acc is not None and not isinstance(acc, bool):
                raise KbsPolicyError(f"{w}.accept_simulated must be true, false or null")
            o = OwnerPolicy(name=oname, accept_simulated=acc)
            for i, kd in enumerate(_list(odoc.get("device_keys", []), f"{w}.device_keys")):
                kd = _obj(kd, f"{w}.device_keys[{i}]", ("e", "n", "label"))
                try:
                    o.device_keys.append(DeviceKey(int(kd["e"], 16), int(kd["n"], 16)))
                except (KeyError, TypeError, ValueError) as exc:
                    raise KbsPolicyError(f"{w}.device_keys[{i}]: needs hex 'e' and 'n' of an "
                                         f"RSA key of at least 2048 bits ({exc})") from None
            o.measurements = [parse_hex(m, 32, f"{w}.measurements[{i}]") for i, m in
                              enumerate(_list(odoc.get("measurements", []), f"{w}.measurements"))]
            recips = odoc.get("recipients", {})
            for rid, rdoc in _obj(recips, f"{w}.recipients", recips if isinstance(recips, dict)
                                  else ()).items():
                rw = f"{w}.recipients.{rid}"
                rdoc = _obj(rdoc, rw, ("public_key", "name"))
                rname = rdoc.get("name")
                if rname is not None:
                    _check_name(rname, f"{rw}.name")
                r = RecipientPolicy(parse_hex(rid, 16, f"{w}.recipients key"),
                                    parse_hex(rdoc.get("public_key"), 32, f"{rw}.public_key"),
                                    rname)
                o.recipients[r.recipient_id] = r
            tables = odoc.get("tables", {})
            for tname, tdoc in _obj(tables, f"{w}.tables", tables if isinstance(tables, dict)
                                    else ()).items():
                tw = f"{w}.tables.{tname}"
                _check_name(tname, "table name")
                tdoc = _obj(tdoc, tw, ("table_id", "key_id", "measurements", "recipients"))
                meas = tdoc.get("measurements")
                rec = tdoc.get("recipients")
                o.tables[tname] = TablePolicy(
                    name=tname, owner=oname,
                    table_id=parse_hex(tdoc.get("table_id"), 16, f"{tw}.table_id"),
                    key_id=parse_hex(tdoc.get("key_id"), 16, f"{tw}.key_id"),
                    measurements=None if meas is None else
                    [parse_hex(m, 32, f"{tw}.measurements[{i}]")
                     for i, m in enumerate(_list(meas, f"{tw}.measurements"))],
                    recipients=None if rec is None else
                    [_recipient_ref(r, f"{tw}.recipients[{i}]")
                     for i, r in enumerate(_list(rec, f"{tw}.recipients"))])
            pol.owners[oname] = o
        pol.validate()
        return pol

    @classmethod
    def loads(cls, text: str | bytes) -> Policy:
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise KbsPolicyError(f"policy is not valid JSON: {exc}") from None
        return cls.from_json(doc)

    def to_json(self) -> dict[str, Any]:
        owners: dict[str, Any] = {}
        for o in self.owners.values():
            od: dict[str, Any] = {
                "accept_simulated": o.accept_simulated,
                "device_keys": [k.to_json() for k in o.device_keys],
                "measurements": [m.hex() for m in o.measurements],
                "recipients": {r.recipient_id.hex(): {"public_key": r.public_key.hex(),
                                                      **({"name": r.name} if r.name else {})}
                               for r in o.recipients.values()},
                "tables": {},
            }
            for t in o.tables.values():
                td: dict[str, Any] = {"table_id": t.table_id.hex(), "key_id": t.key_id.hex()}
                if t.measurements is not None:
                    td["measurements"] = [m.hex() for m in t.measurements]
                if t.recipients is not None:
                    td["recipients"] = list(t.recipients)
                od["tables"][t.name] = td
            owners[o.name] = od
        return {"version": POLICY_VERSION, "owners": owners}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n"

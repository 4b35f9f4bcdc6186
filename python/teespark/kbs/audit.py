"""The KBS audit log: one JSON line per key release, refusal or admin change.

Each line is an object with ``time`` (UTC, ISO 8601), ``event``
(``release``, ``refusal`` or ``admin``), ``client`` (the peer address),
``outcome`` (``released`` or the refusal's reference) and, when known,
``status``, ``tables`` (table ids or the references the client sent),
``measurement``, ``tee_kind``, ``simulated``, ``device_key`` (fingerprint),
``evidence_hash``, ``recipients`` and ``slots``. Only public values are
recorded: never key material, nonces' secrets (nonces are public) or
plaintext. Fields outside :data:`ALLOWED_FIELDS` are refused, so a future
caller cannot slip a key into the log by accident.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import threading
from pathlib import Path
from typing import Any, Union

__all__ = ["ALLOWED_FIELDS", "AuditLog"]

ALLOWED_FIELDS = frozenset({
    "event", "client", "outcome", "status", "message", "tables", "measurement", "tee_kind",
    "simulated", "device_key", "evidence_hash", "recipients", "slots", "owner", "action",
    "table", "key_id", "profile",
})


class AuditLog:
    """Append-only JSON-lines audit log (thread-safe; each line flushed and fsynced)."""

    def __init__(self, path: Union[str, os.PathLike[str]]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, event: str, **fields: Any) -> dict[str, Any]:
        """Append one entry and return it."""
        bad = set(fields) - ALLOWED_FIELDS
        if bad:
            raise ValueError(f"AuditLog.record: fields {sorted(bad)} are not audit fields")
        entry = {"time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds"),
                 "event": event, **{k: v for k, v in fields.items() if v is not None}}
        line = json.dumps(entry, sort_keys=True, default=str) + "\n"
        with self._lock:
            fd = os.open(str(self.path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        return entry

    def entries(self) -> list[dict[str, Any]]:
        """All entries (for tests and ``teespark kbs audit``)."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]

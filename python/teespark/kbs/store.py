"""The KBS directory: encrypted key store, signing key, sealed policy.

Layout of a KBS directory::

    keys.json     data keys and the KBS's Ed25519 signing key, each sealed with
                  AES-256-GCM under the storage key (AAD names the entry)
    policy.json   the release policy (public; see teespark.kbs.policy)
    policy.mac    HMAC-SHA256 of policy.json under a key derived from the
                  storage key: a policy edited outside ``teespark kbs`` is refused
    audit.log     JSON lines, one per release or refusal (teespark.kbs.audit)
    storage.key   the storage key (dev profile only; mode 0600)
    .lock         advisory lock serializing admin edits across processes

The storage key (32 bytes) comes from, in this order: the ``storage_key``
argument, the ``TEESPARK_KBS_STORAGE_KEY`` environment variable (64 hex
digits), the ``storage_key_file`` argument, or ``DIR/storage.key``. Key files
must not be readable by group or others. In the dev profile a missing
``DIR/storage.key`` is created; the prod profile never creates one and refuses
``DIR/storage.key`` (the storage key must not sit beside what it protects).

Writes go to a temporary file that is renamed over the old one, so a crash
never leaves a half-written store. A running KBS notices edits made by the
admin CLI (another process) and reloads.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import json
import logging
import os
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional, Union

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from teespark.errors import KbsPolicyError, KbsStorageError
from teespark.kbs.policy import Policy

__all__ = ["STORAGE_KEY_ENV", "KbsStore", "generate_storage_key_file"]

log = logging.getLogger("teespark.kbs")

STORAGE_KEY_ENV = "TEESPARK_KBS_STORAGE_KEY"
STORE_VERSION = 1
_AAD_PREFIX = b"teespark/kbs-store/v1/"
_POLICY_MAC_INFO = b"teespark/kbs-policy-mac/v1"
PathLike = Union[str, "os.PathLike[str]"]


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _unb64(s: str) -> bytes:
    return base64.b64decode(s.encode("ascii"), validate=True)


def _atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=str(path.parent))
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _check_private_file(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KbsStorageError(
            f"storage key file {path} has mode {mode:04o}: it must not be readable by group "
            f"or others; run 'chmod 600 {path}'")


def _parse_key_text(text: str, where: str) -> bytes:
    t = text.strip()
    try:
        key = bytes.fromhex(t)
    except ValueError:
        raise KbsStorageError(f"{where} must hold 64 hex digits (a 32-byte storage key)") \
            from None
    if len(key) != 32:
        raise KbsStorageError(f"{where} must hold 64 hex digits (a 32-byte storage key), "
                              f"got {len(key)} bytes")
    return key


def generate_storage_key_file(path: PathLike) -> Path:
    """Create a new random storage key file (mode 0600); refuses to overwrite."""
    p = Path(path)
    fd = os.open(str(p), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(os.urandom(32).hex() + "\n")
    return p


class KbsStore:
    """A KBS directory, opened with its storage key. Thread-safe.

    Args:
        directory: the KBS directory (created if missing).
        profile: ``"dev"`` or ``"prod"`` (see the module docstring).
        storage_key: the 32-byte storage key itself (embedded use).
        storage_key_file: a file holding the storage key as 64 hex digits.

    Raises:
        KbsStorageError: no usable storage key, an exposed key file, or a
            storage key that does not open this directory's key store.
    """

    def __init__(self, directory: PathLike, *, profile: str = "dev",
                 storage_key: Optional[bytes] = None,
                 storage_key_file: Optional[PathLike] = None) -> None:
        if profile not in ("dev", "prod"):
            raise ValueError(f"KbsStore: 'profile' must be 'dev' or 'prod', got {profile!r}")
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.profile = profile
        self._lock = threading.RLock()
        self._lock_depth = 0
        key = self._load_storage_key(storage_key, storage_key_file)
        self._aead = AESGCM(key)
        self._policy_mac_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                                    info=_POLICY_MAC_INFO).derive(key)
        del key
        self._keys_doc: dict[str, Any] = {}
        self._policy = Policy()
        self._policy_error: Optional[KbsPolicyError] = None
        self._stamp: tuple = ()
        with self.admin_lock():
            self._load_or_init()

    # -- paths ------------------------------------------------------------------

    @property
    def keys_path(self) -> Path:
        return self.dir / "keys.json"

    @property
    def policy_path(self) -> Path:
        return self.dir / "policy.json"

    @property
    def policy_mac_path(self) -> Path:
        return self.dir / "policy.mac"

    @property
    def audit_path(self) -> Path:
        return self.dir / "audit.log"

    # -- storage key --------------------------------------------------------------

    def _load_storage_key(self, key: Optional[bytes], key_file: Optional[PathLike]) -> bytes:
        if key is not None:
            if len(key) != 32:
                raise KbsStorageError("storage_key must be 32 bytes")
            return bytes(key)
        env = os.environ.get(STORAGE_KEY_ENV)
        if env:
            return _parse_key_text(env, f"${STORAGE_KEY_ENV}")
        default = self.dir / "storage.key"
        path = Path(key_file) if key_file is not None else default
        if self.profile == "prod" and path.resolve() == default.resolve():
            raise KbsStorageError(
                f"the prod profile does not keep the storage key beside the key store "
                f"({default}): set ${STORAGE_KEY_ENV} or pass --storage-key-file with a "
                "key kept elsewhere (create one with 'teespark kbs init --storage-key-file')")
        if not path.exists():
            if self.profile == "dev" and path == default:
                generate_storage_key_file(path)
                log.info("created a new KBS storage key file %s (dev profile)", path)
            else:
                raise KbsStorageError(f"storage key file {path} does not exist")
        _check_private_file(path)
        return _parse_key_text(path.read_text(), f"storage key file {path}")

    # -- sealing ------------------------------------------------------------------

    def _seal(self, purpose: str, plaintext: bytes) -> dict[str, str]:
        nonce = os.urandom(12)
        ct = self._aead.encrypt(nonce, plaintext, _AAD_PREFIX + purpose.encode())
        return {"nonce": _b64(nonce), "ciphertext": _b64(ct)}

    def _open(self, purpose: str, entry: dict[str, str]) -> bytes:
        try:
            return self._aead.decrypt(_unb64(entry["nonce"]), _unb64(entry["ciphertext"]),
                                      _AAD_PREFIX + purpose.encode())
        except (InvalidTag, KeyError, ValueError, TypeError):
            raise KbsStorageError(
                f"key store entry {purpose!r} in {self.keys_path} does not open with this "
                "storage key: the store was modified, or the storage key is not the one it "
                "was created with") from None

    # -- load / save ----------------------------------------------------------------

    @contextlib.contextmanager
    def admin_lock(self) -> Iterator[None]:
        """Serialize edits of the directory across threads and processes."""
        with self._lock:
            if self._lock_depth:  # re-entered by the thread that holds it
                self._lock_depth += 1
                try:
                    yield
                finally:
                    self._lock_depth -= 1
                return
            fd = os.open(str(self.dir / ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._lock_depth = 1
                yield
            finally:
                self._lock_depth = 0
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    def _file_stamp(self) -> tuple:
        out = []
        for p in (self.keys_path, self.policy_path, self.policy_mac_path):
            try:
                st = p.stat()
                out.append((st.st_ino, st.st_mtime_ns, st.st_size))
            except FileNotFoundError:
                out.append(None)
        return tuple(out)

    def _load_or_init(self) -> None:
        if not self.keys_path.exists():
            signing = Ed25519PrivateKey.generate()
            raw = signing.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
            self._keys_doc = {"version": STORE_VERSION,
                              "check": self._seal("check", b"teespark-kbs"),
                              "signing_key": self._seal("signing_key", raw),
                              "data_keys": {}}
            del raw
            _atomic_write(self.keys_path, json.dumps(self._keys_doc, indent=1).encode())
            log.info("initialized KBS key store in %s", self.dir)
        if not self.policy_path.exists():
            self._write_policy(Policy())
        self._reload()

    def _reload(self) -> None:
        try:
            doc = json.loads(self.keys_path.read_text())
        except (OSError, ValueError) as exc:
            raise KbsStorageError(f"cannot read key store {self.keys_path}: {exc}") from None
        if not isinstance(doc, dict) or doc.get("version") != STORE_VERSION:
            raise KbsStorageError(f"{self.keys_path} is not a version-{STORE_VERSION} "
                                  "teespark KBS key store")
        self._open("check", doc.get("check", {}))
        self._keys_doc = doc
        # A bad policy does not stop the store from opening (set-policy must
        # be able to repair it); it is raised whenever the policy is used.
        try:
            self._policy, self._policy_error = self._read_policy(), None
        except KbsPolicyError as exc:
            self._policy, self._policy_error = Policy(), exc
        self._stamp = self._file_stamp()

    def refresh(self) -> None:
        """Reload if another process changed the directory (cheap stat check)."""
        with self._lock:
            if self._file_stamp() != self._stamp:
                with self.admin_lock():
                    self._reload()
                log.info("reloaded the KBS key store and policy from %s", self.dir)

    def _policy_mac(self, data: bytes) -> str:
        return hmac.new(self._policy_mac_key, data, hashlib.sha256).hexdigest()

    def _read_policy(self) -> Policy:
        data = self.policy_path.read_bytes()
        try:
            mac = self.policy_mac_path.read_text().strip()
        except FileNotFoundError:
            mac = ""
        if not hmac.compare_digest(mac, self._policy_mac(data)):
            raise KbsPolicyError(
                f"{self.policy_path} was changed outside 'teespark kbs' (its MAC in "
                f"{self.policy_mac_path.name} does not match): review it, then install it with "
                f"'teespark kbs set-policy --dir {self.dir} FILE'")
        return Policy.loads(data)

    def _write_policy(self, policy: Policy) -> None:
        data = policy.dumps().encode()
        _atomic_write(self.policy_path, data, 0o644)
        _atomic_write(self.policy_mac_path, (self._policy_mac(data) + "\n").encode(), 0o644)

    # -- public API -------------------------------------------------------------

    @property
    def policy(self) -> Policy:
        """The current policy (a copy; edit it and pass it to :meth:`save_policy`)."""
        with self._lock:
            if self._policy_error is not None:
                raise KbsPolicyError(str(self._policy_error))
            return self._policy.copy()

    def save_policy(self, policy: Policy) -> None:
        """Validate and install ``policy`` (sealed with its MAC)."""
        policy.validate()
        with self.admin_lock():
            self._write_policy(policy)
            self._reload()

    def signing_key(self) -> Ed25519PrivateKey:
        with self._lock:
            raw = self._open("signing_key", self._keys_doc["signing_key"])
        return Ed25519PrivateKey.from_private_bytes(raw)

    @property
    def public_key(self) -> bytes:
        """The KBS's Ed25519 public key (32 bytes); TAs pin it."""
        return self.signing_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def put_data_key(self, key_id: bytes, key: bytes) -> None:
        """Store (or replace) a data key, sealed under the storage key."""
        if len(key_id) != 16 or len(key) != 32:
            raise ValueError("KbsStore.put_data_key: key_id must be 16 bytes, key 32 bytes")
        with self.admin_lock():
            self._reload()
            doc = json.loads(json.dumps(self._keys_doc))
            doc["data_keys"][key_id.hex()] = self._seal("data_key/" + key_id.hex(), bytes(key))
            _atomic_write(self.keys_path, json.dumps(doc, indent=1).encode())
            self._reload()

    def has_data_key(self, key_id: bytes) -> bool:
        with self._lock:
            return key_id.hex() in self._keys_doc.get("data_keys", {})

    def get_data_key(self, key_id: bytes) -> bytes:
        """A stored data key; KbsStorageError if absent or tampered with."""
        with self._lock:
            entry = self._keys_doc.get("data_keys", {}).get(key_id.hex())
            if entry is None:
                raise KbsStorageError(f"no data key with key id {key_id.hex()} in {self.dir}: "
                                      "load it with 'teespark kbs add-table'")
            return self._open("data_key/" + key_id.hex(), entry)

    def data_key_ids(self) -> list[bytes]:
        with self._lock:
            return [bytes.fromhex(k) for k in self._keys_doc.get("data_keys", {})]

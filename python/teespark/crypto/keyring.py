"""The owner's keyring: data keys wrapped under the master key (envelope encryption).

A keyring is a JSON file (format documented in docs/KEYS.md). Each entry holds
one table's 32-byte data key, wrapped with AES-256-GCM under a key-encryption
key (KEK) derived from the master key:

    KEK = HKDF-SHA256(master key, salt = keyring salt (32 random bytes),
                      info = "teespark/v1/keyring/wrap-data-key")
    wrapped = AES-256-GCM(KEK, nonce = 12 random bytes, data key,
                          AAD = "teespark-keyring" 0x00 || version (u16 LE)
                                || key_id (16 bytes) || len(table) (u32 LE) || table (UTF-8))

so a wrapped key cannot be moved to another entry, renamed to another table or
replayed into another keyring version without failing authentication. The
file records the master key id; a different master key is refused up front
with :class:`~teespark.errors.WrongMasterKeyError`.

Writes are atomic (temporary file, fsync, rename, fsync of the directory),
create mode 0600 files, and are serialised between processes by an advisory
lock on ``<keyring>.lock``.

Unlike BigDL PPML (docs: peers.md 2.1.7) data keys are 32 random bytes used
as they are (never derived from a string), wrapped with an AEAD (never ECB),
and never put into a Spark/Hadoop configuration.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import struct
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from teespark.crypto.master_key import MasterKey, _fsync_dir
from teespark.errors import (DataKeyNotFoundError, DataKeyUnwrapError, KeyringExistsError,
                             KeyringFormatError, KeyringNotFoundError, WrongMasterKeyError)

KEYRING_FORMAT = "teespark-keyring"
KEYRING_VERSION = 1
DATA_KEY_SIZE = 32
KEY_ID_SIZE = 16
WRAP_INFO = b"teespark/v1/keyring/wrap-data-key"
WRAP_ALG = "AES-256-GCM"
KDF_NAME = "HKDF-SHA256"
_NONCE_SIZE = 12
_SALT_SIZE = 32
_KEY_ID_RE = re.compile(r"^[0-9a-f]{32}$")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _wrap_aad(version: int, key_id: bytes, table_name: str) -> bytes:
    name = table_name.encode("utf-8")
    return (KEYRING_FORMAT.encode("ascii") + b"\x00" + struct.pack("<H", version) + key_id
            + struct.pack("<I", len(name)) + name)


def check_key_id(key_id: str, *, where: str = "key_id") -> str:
    """Validate a data key id (32 lower-case hex characters) and return it."""
    if not isinstance(key_id, str) or not _KEY_ID_RE.match(key_id):
        raise ValueError(f"{where}: a data key id is 32 lower-case hex characters, "
                         f"got {key_id!r}")
    return key_id


@dataclass(frozen=True)
class KeyEntry:
    """The public part of one keyring entry (no key material)."""

    key_id: str
    table_name: str
    created: str


@dataclass(frozen=True)
class KeyringInfo:
    """What anyone who can read the keyring file learns: ids, table names, dates."""

    path: Path
    version: int
    master_key_id: str
    created: str
    entries: tuple[KeyEntry, ...]


def _parse(path: Path, text: str) -> dict[str, Any]:
    """Parse and validate the keyring document's shape (not its cryptography)."""
    where = f"keyring '{path}'"
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KeyringFormatError(f"{where} is not valid JSON (line {exc.lineno}); "
                                 "it was truncated or edited") from None
    if not isinstance(doc, dict) or doc.get("format") != KEYRING_FORMAT:
        raise KeyringFormatError(f"{where} is not a teespark keyring "
                                 f"(no \"format\": \"{KEYRING_FORMAT}\")")
    if doc.get("version") != KEYRING_VERSION:
        raise KeyringFormatError(f"{where} has version {doc.get('version')!r}; this teespark "
                                 f"reads keyring version {KEYRING_VERSION}")
    try:
        kdf = doc["kdf"]
        if kdf["name"] != KDF_NAME or kdf["info"] != WRAP_INFO.decode():
            raise KeyringFormatError(f"{where}: unsupported key derivation {kdf['name']!r}")
        bytes.fromhex(kdf["salt"])
        if not re.match(r"^[0-9a-f]{16}$", doc["master_key_id"]):
            raise KeyringFormatError(f"{where}: malformed master_key_id")
        seen = set()
        for i, entry in enumerate(doc["keys"]):
            check_key_id(entry["key_id"], where=f"{where}, entry {i}")
            if entry["key_id"] in seen:
                raise KeyringFormatError(f"{where}: key id {entry['key_id']} appears twice")
            seen.add(entry["key_id"])
            if not isinstance(entry["table_name"], str):
                raise KeyringFormatError(f"{where}, entry {i}: table_name is not a string")
            if entry["wrap"]["alg"] != WRAP_ALG:
                raise KeyringFormatError(
                    f"{where}, entry {i}: unsupported wrap algorithm {entry['wrap']['alg']!r}")
            if len(bytes.fromhex(entry["wrap"]["nonce"])) != _NONCE_SIZE:
                raise KeyringFormatError(f"{where}, entry {i}: nonce is not 12 bytes")
            bytes.fromhex(entry["wrap"]["ciphertext"])
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, KeyringFormatError):
            raise
        raise KeyringFormatError(f"{where} is malformed ({type(exc).__name__}: {exc}); "
                                 "it was truncated or edited") from None
    return doc


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyringNotFoundError(f"keyring '{path}' does not exist") from None
    except UnicodeDecodeError:
        raise KeyringFormatError(f"keyring '{path}' is not UTF-8 JSON") from None
    return _parse(path, text)


def read_keyring_info(path: str | os.PathLike[str]) -> KeyringInfo:
    """The public contents of a keyring; needs no master key.

    Raises:
        KeyringNotFoundError, KeyringFormatError.
    """
    path = Path(path)
    doc = _read(path)
    return KeyringInfo(path, doc["version"], doc["master_key_id"], doc.get("created", ""),
                       tuple(KeyEntry(e["key_id"], e["table_name"], e.get("created", ""))
                             for e in doc["keys"]))


def _atomic_write(path: Path, doc: dict[str, Any]) -> None:
    """Replace ``path`` by ``doc`` (mode 0600): temp file, fsync, rename, fsync dir."""
    data = (json.dumps(doc, indent=2) + "\n").encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise read-modify-write cycles on ``path`` between processes."""
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class Keyring:
    """A keyring file opened with its master key.

    Example:
        >>> mk = MasterKey.generate()
        >>> import tempfile, os
        >>> ring = Keyring.create(os.path.join(tempfile.mkdtemp(), "k.json"), mk)
        >>> key_id, key = ring.create_data_key("loans")
        >>> ring.get(key_id) == key
        True

    Reveals (to whoever reads the file): key ids, table names, creation times,
    the number of keys and the master key id. Never the keys.
    """

    def __init__(self, path: Path, master_key: MasterKey) -> None:
        """Use :meth:`open` or :meth:`create`."""
        self.path = path
        self._master_key = master_key

    # -- construction -------------------------------------------------------

    @classmethod
    def create(cls, path: str | os.PathLike[str], master_key: MasterKey) -> Keyring:
        """Create an empty keyring (mode 0600) under ``master_key``.

        Raises:
            KeyringExistsError: ``path`` exists (it is never overwritten).
        """
        path = Path(path)
        if not isinstance(master_key, MasterKey):
            raise TypeError("Keyring.create: 'master_key' must be a MasterKey")
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _locked(path):
            if path.exists():
                raise KeyringExistsError(
                    f"keyring '{path}' already exists; refusing to overwrite it")
            _atomic_write(path, cls._empty_doc(master_key))
        return cls(path, master_key)

    @classmethod
    def open(cls, path: str | os.PathLike[str], master_key: MasterKey) -> Keyring:
        """Open an existing keyring, checking that ``master_key`` is the one it uses.

        Raises:
            KeyringNotFoundError, KeyringFormatError,
            WrongMasterKeyError: the keyring was made under another master key.
        """
        path = Path(path)
        if not isinstance(master_key, MasterKey):
            raise TypeError("Keyring.open: 'master_key' must be a MasterKey")
        ring = cls(path, master_key)
        ring._load()
        return ring

    @staticmethod
    def _empty_doc(master_key: MasterKey) -> dict[str, Any]:
        return {"format": KEYRING_FORMAT, "version": KEYRING_VERSION,
                "master_key_id": master_key.key_id, "created": _now(),
                "kdf": {"name": KDF_NAME, "salt": os.urandom(_SALT_SIZE).hex(),
                        "info": WRAP_INFO.decode()},
                "keys": []}

    # -- internals ------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        doc = _read(self.path)
        if doc["master_key_id"] != self._master_key.key_id:
            raise WrongMasterKeyError(
                f"the master key from {self._master_key.source} (id "
                f"{self._master_key.key_id}) does not open keyring '{self.path}', which "
                f"was made under master key id {doc['master_key_id']}")
        return doc

    def _kek(self, master_key: MasterKey, doc: dict[str, Any]) -> AESGCM:
        return AESGCM(master_key.derive(info=WRAP_INFO, salt=bytes.fromhex(doc["kdf"]["salt"])))

    def _unwrap(self, kek: AESGCM, doc: dict[str, Any], entry: dict[str, Any]) -> bytes:
        aad = _wrap_aad(doc["version"], bytes.fromhex(entry["key_id"]), entry["table_name"])
        try:
            key = kek.decrypt(bytes.fromhex(entry["wrap"]["nonce"]),
                              bytes.fromhex(entry["wrap"]["ciphertext"]), aad)
        except InvalidTag:
            raise DataKeyUnwrapError(
                f"data key {entry['key_id']} (table '{entry['table_name']}') in keyring "
                f"'{self.path}' failed AES-GCM authentication: the keyring entry was "
                "modified (or copied from another keyring)") from None
        if len(key) != DATA_KEY_SIZE:
            raise DataKeyUnwrapError(f"data key {entry['key_id']} in keyring '{self.path}' "
                                     f"has {len(key)} bytes, expected {DATA_KEY_SIZE}")
        return key

    @staticmethod
    def _wrap(kek: AESGCM, version: int, key_id: str, table_name: str,
              key: bytes) -> dict[str, str]:
        nonce = os.urandom(_NONCE_SIZE)
        ct = kek.encrypt(nonce, key, _wrap_aad(version, bytes.fromhex(key_id), table_name))
        return {"alg": WRAP_ALG, "nonce": nonce.hex(), "ciphertext": ct.hex()}

    # -- public -----------------------------------------------------------------

    @property
    def master_key_id(self) -> str:
        """The id of the master key this keyring is opened with."""
        return self._master_key.key_id

    def entries(self) -> list[KeyEntry]:
        """Public data about every key (ids, table names, creation times)."""
        doc = self._load()
        return [KeyEntry(e["key_id"], e["table_name"], e.get("created", ""))
                for e in doc["keys"]]

    def entry(self, key_id: str) -> KeyEntry:
        """The public data of one key.

        Raises:
            DataKeyNotFoundError: no such key id.
        """
        for e in self.entries():
            if e.key_id == key_id:
                return e
        raise DataKeyNotFoundError(f"keyring '{self.path}' holds no data key with id {key_id}")

    def create_data_key(self, table_name: str) -> tuple[str, bytes]:
        """Make, wrap and store a fresh data key for ``table_name``.

        Returns:
            (key_id, key): 32 hex characters and 32 random bytes.

        Raises:
            WrongMasterKeyError, KeyringNotFoundError, KeyringFormatError.
        """
        if not isinstance(table_name, str) or not table_name:
            raise ValueError("Keyring.create_data_key: 'table_name' must be a non-empty str")
        key = os.urandom(DATA_KEY_SIZE)
        key_id = os.urandom(KEY_ID_SIZE).hex()
        with _locked(self.path):
            doc = self._load()
            kek = self._kek(self._master_key, doc)
            doc["keys"].append({"key_id": key_id, "table_name": table_name,
                                "created": _now(),
                                "wrap": self._wrap(kek, doc["version"], key_id, table_name,
                                                   key)})
            _atomic_write(self.path, doc)
        return key_id, key

    def get(self, key_id: str) -> bytes:
        """Unwrap the data key ``key_id``.

        Raises:
            DataKeyNotFoundError: no such key id.
            DataKeyUnwrapError: the wrapped key failed authentication.
            WrongMasterKeyError: the keyring belongs to another master key.
        """
        check_key_id(key_id, where="Keyring.get: 'key_id'")
        doc = self._load()
        for entry in doc["keys"]:
            if entry["key_id"] == key_id:
                return self._unwrap(self._kek(self._master_key, doc), doc, entry)
        raise DataKeyNotFoundError(
            f"keyring '{self.path}' holds no data key with id {key_id}")

    def remove(self, key_id: str) -> None:
        """Delete one data key (tables sealed under it become unreadable).

        Raises:
            DataKeyNotFoundError: no such key id.
        """
        check_key_id(key_id, where="Keyring.remove: 'key_id'")
        with _locked(self.path):
            doc = self._load()
            kept = [e for e in doc["keys"] if e["key_id"] != key_id]
            if len(kept) == len(doc["keys"]):
                raise DataKeyNotFoundError(
                    f"keyring '{self.path}' holds no data key with id {key_id}")
            doc["keys"] = kept
            _atomic_write(self.path, doc)

    def verify_all(self) -> int:
        """Unwrap every key (then drop it); return how many authenticated.

        Raises:
            DataKeyUnwrapError: on the first entry that does not authenticate.
        """
        doc = self._load()
        kek = self._kek(self._master_key, doc)
        for entry in doc["keys"]:
            self._unwrap(kek, doc, entry)
        return len(doc["keys"])

    def rotate_master(self, new_master_key: MasterKey) -> int:
        """Re-wrap every data key under ``new_master_key``; table files are untouched.

        All keys are unwrapped and checked before anything is written, and the
        file is replaced atomically: on any failure the keyring still opens
        with the old key. Afterwards only ``new_master_key`` opens it (a new
        KDF salt is drawn too). This object switches to the new key.

        Returns:
            the number of data keys re-wrapped.

        Raises:
            DataKeyUnwrapError: an entry failed authentication (nothing written).
        """
        if not isinstance(new_master_key, MasterKey):
            raise TypeError("Keyring.rotate_master: 'new_master_key' must be a MasterKey")
        with _locked(self.path):
            doc = self._load()
            old_kek = self._kek(self._master_key, doc)
            keys = [self._unwrap(old_kek, doc, entry) for entry in doc["keys"]]
            new_doc = dict(doc)
            new_doc["master_key_id"] = new_master_key.key_id
            new_doc["kdf"] = {"name": KDF_NAME, "salt": os.urandom(_SALT_SIZE).hex(),
                              "info": WRAP_INFO.decode()}
            new_doc["rotated"] = _now()
            new_kek = self._kek(new_master_key, new_doc)
            new_doc["keys"] = [
                dict(entry, wrap=self._wrap(new_kek, doc["version"], entry["key_id"],
                                            entry["table_name"], key))
                for entry, key in zip(doc["keys"], keys)]
            del keys
            _atomic_write(self.path, new_doc)
            self._master_key = new_master_key
        return len(new_doc["keys"])

    def __repr__(self) -> str:
        return f"Keyring(path={str(self.path)!r}, master_key_id={self.master_key_id!r})"


def rotate_master(path: str | os.PathLike[str], old: MasterKey, new: MasterKey) -> int:
    """Re-wrap every data key of the keyring at ``path`` from ``old`` to ``new``.

    Returns:
        the number of data keys re-wrapped.

    Raises:
        WrongMasterKeyError: ``old`` does not open the keyring.
        DataKeyUnwrapError: an entry failed authentication (nothing written).
    """
    return Keyring.open(path, old).rotate_master(new)

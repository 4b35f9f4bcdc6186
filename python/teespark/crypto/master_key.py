"""The data owner's master key: 32 random bytes that wrap every data key.

The master key never leaves the owner's machine. It is read from a file
(default ``~/.config/teespark/master.key``, which must have mode 0600) or from
the environment variable ``TEESPARK_MASTER_KEY`` (hex or base64). It is never
logged, printed, pickled or put in an exception message; ``repr()`` shows only
its *key id*, an 8-byte HKDF check value that identifies the key without
revealing it.

Lookup order (:meth:`MasterKey.resolve`): an explicit file, then
``TEESPARK_MASTER_KEY``, then the default file.

File format: 64 hex characters and a newline (base64 text and 32 raw bytes
are accepted when reading). See docs/KEYS.md.
"""

from __future__ import annotations

import base64
import binascii
import errno
import hmac
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from teespark.errors import (MasterKeyExistsError, MasterKeyFormatError,
                             MasterKeyNotFoundError, MasterKeyPermissionError)

MASTER_KEY_SIZE = 32
KEY_ID_SIZE = 8
ENV_MASTER_KEY = "TEESPARK_MASTER_KEY"
ENV_KEYRING = "TEESPARK_KEYRING"
# HKDF "info" strings name the purpose of each derived value, so a value
# derived for one purpose can never be used for another.
KEY_ID_INFO = b"teespark/v1/master-key-id"
_MAX_FILE_BYTES = 4096


def config_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/teespark`` (default ``~/.config/teespark``)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or os.path.join(
        env.get("HOME") or os.path.expanduser("~"), ".config")
    return Path(base) / "teespark"


def default_master_key_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where the master key file lives unless told otherwise."""
    return config_dir(environ) / "master.key"


def default_keyring_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$TEESPARK_KEYRING``, else ``<config dir>/keyring.json``."""
    env = os.environ if environ is None else environ
    if env.get(ENV_KEYRING):
        return Path(env[ENV_KEYRING])
    return config_dir(env) / "keyring.json"


def _hkdf(ikm: bytes, *, info: bytes, salt: bytes | None, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def _parse_key_text(data: bytes) -> bytes | None:
    """32 key bytes from hex or base64 text, or None (never echoes the input)."""
    text = data.strip()
    if len(text) == 2 * MASTER_KEY_SIZE:
        try:
            return binascii.unhexlify(text)
        except (binascii.Error, ValueError):
            pass
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            raw = decode(text + b"=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            continue
        if len(raw) == MASTER_KEY_SIZE:
            return raw
    return None


class MasterKey:
    """A 32-byte master key. Opaque: its bytes are reachable only through HKDF.

    Example:
        >>> mk = MasterKey.generate()
        >>> len(mk.key_id)
        16

    Attributes:
        key_id: 16 hex characters, HKDF-SHA256(key, info="teespark/v1/master-key-id").
            Public; identifies the key in keyrings and messages.
        source: where the key came from ("file '/path'", "TEESPARK_MASTER_KEY",
            "memory"), for messages.
    """

    __slots__ = ("_key", "key_id", "source")

    def __init__(self, key: bytes, *, source: str = "memory") -> None:
        if not isinstance(key, (bytes, bytearray)):
            raise TypeError(f"MasterKey: 'key' must be bytes, got {type(key).__name__}")
        if len(key) != MASTER_KEY_SIZE:
            raise MasterKeyFormatError(
                f"master key from {source} has {len(key)} bytes; a master key is "
                f"{MASTER_KEY_SIZE} bytes")
        self._key = bytes(key)
        self.key_id = _hkdf(self._key, info=KEY_ID_INFO, salt=None,
                            length=KEY_ID_SIZE).hex()
        self.source = source

    # -- construction -------------------------------------------------------

    @classmethod
    def generate(cls) -> MasterKey:
        """A fresh key from the OS CSPRNG."""
        return cls(os.urandom(MASTER_KEY_SIZE), source="memory")

    @classmethod
    def from_text(cls, text: str | bytes, *, source: str = "memory") -> MasterKey:
        """Parse 64 hex characters or base64 of 32 bytes.

        Raises:
            MasterKeyFormatError: the text does not hold a 32-byte key (the text
                itself is not repeated in the message).
        """
        data = text.encode("ascii", "replace") if isinstance(text, str) else bytes(text)
        raw = _parse_key_text(data)
        if raw is None:
            raise MasterKeyFormatError(
                f"{source} does not hold a {MASTER_KEY_SIZE}-byte master key: expected "
                f"{2 * MASTER_KEY_SIZE} hex characters or base64 of {MASTER_KEY_SIZE} bytes")
        return cls(raw, source=source)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> MasterKey:
        """Read a master key file, refusing one that group or others can read.

        Raises:
            MasterKeyNotFoundError: the file does not exist.
            MasterKeyPermissionError: its mode allows group/other access.
            MasterKeyFormatError: it does not hold a 32-byte key.
        """
        path = Path(path)
        source = f"master key file '{path}'"
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            raise MasterKeyNotFoundError(f"{source} does not exist") from None
        except IsADirectoryError:
            raise MasterKeyFormatError(f"{source} is a directory") from None
        try:
            # Checked on the open descriptor, so a swap after the check is harmless.
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise MasterKeyFormatError(f"{source} is not a regular file")
            mode = stat.S_IMODE(info.st_mode)
            if mode & 0o077:
                raise MasterKeyPermissionError(
                    f"{source} has mode {mode:04o}: its group or other users can read it; "
                    "a master key file must have mode 0600")
            if info.st_size > _MAX_FILE_BYTES:
                raise MasterKeyFormatError(
                    f"{source} is {info.st_size} bytes; a master key file holds "
                    f"{2 * MASTER_KEY_SIZE} hex characters")
            data = os.read(fd, _MAX_FILE_BYTES + 1)
        finally:
            os.close(fd)
        if len(data) == MASTER_KEY_SIZE and _parse_key_text(data) is None:
            return cls(data, source=source)  # raw 32 bytes
        raw = _parse_key_text(data)
        if raw is None:
            raise MasterKeyFormatError(
                f"{source} does not hold a {MASTER_KEY_SIZE}-byte master key: expected "
                f"{2 * MASTER_KEY_SIZE} hex characters (as 'teespark keys init' writes)")
        return cls(raw, source=source)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MasterKey | None:
        """The key in ``TEESPARK_MASTER_KEY``, or None when it is unset or empty."""
        env = os.environ if environ is None else environ
        value = env.get(ENV_MASTER_KEY)
        if not value:
            return None
        return cls.from_text(value, source=ENV_MASTER_KEY)

    @classmethod
    def resolve(cls, path: str | os.PathLike[str] | None = None, *,
                environ: Mapping[str, str] | None = None) -> MasterKey:
        """Find the master key: ``path``, else ``TEESPARK_MASTER_KEY``, else the default file.

        Raises:
            MasterKeyNotFoundError: none of the three exists.
            MasterKeyPermissionError, MasterKeyFormatError: as in :meth:`from_file`.
        """
        if path is not None:
            return cls.from_file(path)
        from_env = cls.from_env(environ)
        if from_env is not None:
            return from_env
        default = default_master_key_path(environ)
        if not default.exists():
            raise MasterKeyNotFoundError(
                f"no master key: '{default}' does not exist and {ENV_MASTER_KEY} is not set")
        return cls.from_file(default)

    # -- use ------------------------------------------------------------------

    def derive(self, *, info: bytes, salt: bytes | None, length: int = 32) -> bytes:
        """HKDF-SHA256 of the master key for one purpose (``info`` names it)."""
        if not info:
            raise ValueError("MasterKey.derive: 'info' must name the purpose")
        return _hkdf(self._key, info=info, salt=salt, length=length)

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Create ``path`` (mode 0600, parent 0700 if created) holding the key in hex.

        Raises:
            MasterKeyExistsError: ``path`` already exists (it is never overwritten).
        """
        path = Path(path)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            raise MasterKeyExistsError(
                f"master key file '{path}' already exists; refusing to overwrite it") from None
        try:
            os.fchmod(fd, 0o600)  # in case the umask was stricter than needed or odd
            os.write(fd, self._key.hex().encode("ascii") + b"\n")
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            try:
                os.unlink(path)
            except OSError as exc:  # pragma: no cover - best effort cleanup
                if exc.errno != errno.ENOENT:
                    raise
            raise
        os.close(fd)
        _fsync_dir(path.parent)
        return path

    # -- never show the key -------------------------------------------------

    def __repr__(self) -> str:
        return f"MasterKey(key_id={self.key_id!r}, source={self.source!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MasterKey):
            return NotImplemented
        return hmac.compare_digest(self._key, other._key)

    def __hash__(self) -> int:
        return hash(self.key_id)

    def __reduce__(self):  # noqa: D105 - refuse pickling (Spark would ship it)
        raise TypeError("a MasterKey cannot be pickled: it must not leave the owner's "
                        "machine")

    def __copy__(self) -> MasterKey:
        return self

    def __deepcopy__(self, memo: dict) -> MasterKey:
        return self


def _fsync_dir(directory: Path) -> None:
    """Make a rename or create in ``directory`` durable."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - e.g. platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)

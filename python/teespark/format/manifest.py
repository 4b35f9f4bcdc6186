"""Table manifests: what a table is, and the MACs that pin it down.

A table directory holds ``_manifest.json`` (docs/FORMAT.md, "Manifest"). Its
authenticated core is the 136-byte ``struct ts_table_descriptor`` of
``enclave/ta/include/teespark_ta.h``: table id and version, row count, block
count, row size, rows per block, schema hash and key id, followed by

    mac = HMAC-SHA256(HKDF-SHA256(data key, salt = 32 zero bytes,
                                  info = "teespark/manifest-mac/v1", L = 32),
                      descriptor[0:104])

which the TA checks when a table is registered. The JSON members the
descriptor does not cover (table name, creation time, the list of block
files) are covered by a second MAC over the whole manifest's canonical JSON,
``manifest_mac``, keyed by HKDF with info ``"teespark/manifest-json-mac/v1"``.

Neither MAC stops a *rollback* to an older, complete and authentic version of
the table: a reader that must see the newest version compares
``table_version`` with what it expects (the keyring records it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import struct
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from teespark.crypto.block_seal import KEY_SIZE, MAX_BLOCK_PLAINTEXT
from teespark.errors import (InvalidSchemaError, ManifestAuthenticationError,
                             TableFormatError, TableNotFoundError)
from teespark.format.schema import Schema

#: The table format this code writes and reads (TS_FORMAT_VERSION).
FORMAT_VERSION = 1
#: File name of the manifest inside a table directory.
MANIFEST_NAME = "_manifest.json"
#: The "format" member of every manifest.
FORMAT_NAME = "teespark-table"

DESCRIPTOR_MAGIC = 0x44545354  # b"TSTD"
DESCRIPTOR_SIZE = 136
DESCRIPTOR_MAC_OFFSET = 104
MANIFEST_MAC_INFO = b"teespark/manifest-mac/v1"
MANIFEST_JSON_MAC_INFO = b"teespark/manifest-json-mac/v1"
_DESCRIPTOR_CORE = struct.Struct("<IHH16sQQIIII32s16s")
assert _DESCRIPTOR_CORE.size == DESCRIPTOR_MAC_OFFSET

_U32 = (1 << 32) - 1
_U64 = (1 << 64) - 1


def hkdf_sha256(ikm: bytes, info: bytes, length: int = 32,
                salt: bytes = bytes(32)) -> bytes:
    """HKDF-SHA256 (RFC 5869) extract-then-expand."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
        out += block
        i += 1
    return out[:length]


def _check_key(data_key: bytes, where: str) -> None:
    if not isinstance(data_key, (bytes, bytearray)) or len(data_key) != KEY_SIZE:
        raise ValueError(f"{where}: 'data_key' must be {KEY_SIZE} bytes")


@dataclass(frozen=True)
class BlockFile:
    """One Parquet file of a table and the block range it holds."""

    path: str
    first_block: int
    block_count: int

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "first_block": self.first_block,
                "block_count": self.block_count}


@dataclass
class Manifest:
    """The public description of an encrypted table (no secrets).

    ``verified`` is True only after :meth:`verify` succeeded with the data
    key; :func:`load_manifest` without a key leaves it False (for
    ``teespark inspect``).
    """

    table_name: str
    table_id: bytes
    table_version: int
    schema: Schema
    row_count: int
    block_count: int
    rows_per_block: int
    key_id: bytes
    created_at: str = field(default_factory=lambda: utc_now())
    format_version: int = FORMAT_VERSION
    files: tuple[BlockFile, ...] = ()
    descriptor_mac: bytes | None = None
    manifest_mac: bytes | None = None
    verified: bool = field(default=False, compare=False)
    #: Set by from_dict when the stored schema_hash/row_size disagree with
    #: the schema; load_manifest reports it after the MAC check.
    derived_mismatch: bool = field(default=False, compare=False, repr=False)

    # -- derived values -----------------------------------------------------

    @property
    def row_size(self) -> int:
        return self.schema.row_size

    @property
    def schema_hash(self) -> bytes:
        return self.schema.hash()

    def block_rows(self, block_index: int) -> int:
        """Rows in block ``block_index`` (all full except possibly the last)."""
        if not 0 <= block_index < self.block_count:
            raise IndexError(f"block {block_index} of a {self.block_count}-block table")
        if block_index < self.block_count - 1:
            return self.rows_per_block
        return self.row_count - self.rows_per_block * (self.block_count - 1)

    @property
    def plaintext_bytes(self) -> int:
        return self.row_count * self.row_size

    # -- descriptor ---------------------------------------------------------

    def descriptor_core(self) -> bytes:
        """The first 104 bytes of ``struct ts_table_descriptor`` (what the MAC covers)."""
        return _DESCRIPTOR_CORE.pack(
            DESCRIPTOR_MAGIC, self.format_version, DESCRIPTOR_SIZE, self.table_id,
            self.table_version, self.row_count, self.block_count, self.row_size,
            self.rows_per_block, 0, self.schema_hash, self.key_id)

    def descriptor_bytes(self) -> bytes:
        """The 136-byte ``struct ts_table_descriptor``, MAC included.

        Raises ValueError if the manifest has not been authenticated.
        """
        if self.descriptor_mac is None:
            raise ValueError(f"table '{self.table_name}': the manifest has no MAC yet; "
                             "call authenticate(data_key) first")
        return self.descriptor_core() + self.descriptor_mac

    def compute_descriptor_mac(self, data_key: bytes) -> bytes:
        key = hkdf_sha256(bytes(data_key), MANIFEST_MAC_INFO)
        return hmac.new(key, self.descriptor_core(), hashlib.sha256).digest()

    def compute_manifest_mac(self, data_key: bytes) -> bytes:
        key = hkdf_sha256(bytes(data_key), MANIFEST_JSON_MAC_INFO)
        return hmac.new(key, self.canonical_json().encode("ascii"), hashlib.sha256).digest()

    def authenticate(self, data_key: bytes) -> Manifest:
        """Compute both MACs with the table's data key; returns self."""
        _check_key(data_key, "Manifest.authenticate")
        self.descriptor_mac = self.compute_descriptor_mac(data_key)
        self.manifest_mac = self.compute_manifest_mac(data_key)
        self.verified = True
        return self

    def verify(self, data_key: bytes) -> Manifest:
        """Check both MACs (descriptor first); returns self, marked verified.

        Raises:
            ManifestAuthenticationError: the manifest was edited, or
                ``data_key`` is not this table's data key.
        """
        _check_key(data_key, "Manifest.verify")
        if self.descriptor_mac is None or self.manifest_mac is None:
            raise ManifestAuthenticationError(
                f"table '{self.table_name}': the manifest carries no MAC; it was not "
                "written by teespark or was edited")
        ok = hmac.compare_digest(self.compute_descriptor_mac(data_key), self.descriptor_mac)
        ok_json = hmac.compare_digest(self.compute_manifest_mac(data_key), self.manifest_mac)
        if not ok:
            raise ManifestAuthenticationError(
                f"table '{self.table_name}': the manifest's descriptor MAC does not verify: "
                "the manifest was edited (counts, schema, ids) or the data key is wrong "
                f"(key id {self.key_id.hex()})")
        if not ok_json:
            raise ManifestAuthenticationError(
                f"table '{self.table_name}': the manifest's JSON MAC does not verify: the "
                "manifest was edited (name, creation time or file list)")
        self.verified = True
        return self

    def check_consistency(self) -> None:
        """Check the counts agree with each other (raises TableFormatError)."""
        where = f"table '{self.table_name}' manifest"
        if self.format_version != FORMAT_VERSION:
            raise TableFormatError(
                f"{where}: format version {self.format_version} is not supported (this "
                f"teespark reads version {FORMAT_VERSION})")
        if not 1 <= self.rows_per_block <= _U32:
            raise TableFormatError(f"{where}: rows_per_block {self.rows_per_block} is invalid")
        if self.rows_per_block * self.row_size > MAX_BLOCK_PLAINTEXT:
            raise TableFormatError(
                f"{where}: {self.rows_per_block} rows of {self.row_size} bytes exceed the "
                f"block limit of {MAX_BLOCK_PLAINTEXT} bytes")
        expected = max(1, -(-self.row_count // self.rows_per_block))
        if self.block_count != expected:
            raise TableFormatError(
                f"{where}: {self.row_count} rows at {self.rows_per_block} per block need "
                f"{expected} blocks, the manifest says {self.block_count}")
        nxt = 0
        for f in self.files:
            if f.first_block != nxt or f.block_count < 0:
                raise TableFormatError(
                    f"{where}: file '{f.path}' starts at block {f.first_block}, expected "
                    f"{nxt}")
            nxt += f.block_count
        if self.files and nxt != self.block_count:
            raise TableFormatError(
                f"{where}: its files hold {nxt} blocks, the table has {self.block_count}")

    # -- JSON ---------------------------------------------------------------

    def to_dict(self, *, with_manifest_mac: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {
            "format": FORMAT_NAME,
            "format_version": self.format_version,
            "table_name": self.table_name,
            "table_id": self.table_id.hex(),
            "table_version": self.table_version,
            "key_id": self.key_id.hex(),
            "created_at": self.created_at,
            "schema": self.schema.to_dict(),
            "schema_hash": self.schema_hash.hex(),
            "row_size": self.row_size,
            "row_count": self.row_count,
            "rows_per_block": self.rows_per_block,
            "block_count": self.block_count,
            "files": [f.to_dict() for f in self.files],
            "descriptor_mac": self.descriptor_mac.hex() if self.descriptor_mac else None,
        }
        if with_manifest_mac:
            d["manifest_mac"] = self.manifest_mac.hex() if self.manifest_mac else None
        return d

    def canonical_json(self) -> str:
        """Canonical JSON of every member except ``manifest_mac`` (what it covers)."""
        return json.dumps(self.to_dict(with_manifest_mac=False), sort_keys=True,
                          separators=(",", ":"), ensure_ascii=True)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, where: str = "manifest") -> Manifest:
        """Parse a manifest's JSON members (types only; see :meth:`check_consistency`)."""
        if not isinstance(d, Mapping):
            raise TableFormatError(f"{where}: not a JSON object")
        if d.get("format") != FORMAT_NAME:
            raise TableFormatError(f"{where}: not a teespark table manifest "
                                   f"(format {d.get('format')!r})")
        known = set(Manifest(table_name="", table_id=bytes(16), table_version=0,
                             schema=_DUMMY_SCHEMA, row_count=0, block_count=1,
                             rows_per_block=1, key_id=bytes(16)).to_dict())
        extra = set(d) - known
        missing = known - set(d)
        if extra or missing:
            raise TableFormatError(
                f"{where}: unexpected members {sorted(extra)} / missing members "
                f"{sorted(missing)}; the manifest was edited or written by another version")

        def integer(name: str, hi: int) -> int:
            v = d[name]
            if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= hi:
                raise TableFormatError(f"{where}: '{name}' must be an integer in 0..{hi}")
            return v

        def hexbytes(name: str, size: int, optional: bool = False) -> bytes | None:
            v = d[name]
            if v is None and optional:
                return None
            try:
                b = bytes.fromhex(v)
            except (TypeError, ValueError):
                b = b""
            if len(b) != size:
                raise TableFormatError(f"{where}: '{name}' must be {size} bytes in hex")
            return b

        name = d["table_name"]
        if not isinstance(name, str) or not isinstance(d["created_at"], str):
            raise TableFormatError(f"{where}: 'table_name' and 'created_at' must be strings")
        try:
            schema = Schema.from_json(d["schema"])
        except InvalidSchemaError as e:
            raise TableFormatError(f"{where}: invalid schema: {e}") from None
        files = d["files"]
        if not isinstance(files, list):
            raise TableFormatError(f"{where}: 'files' must be a list")
        parsed_files = []
        for f in files:
            if (not isinstance(f, Mapping) or set(f) != {"path", "first_block", "block_count"}
                    or not isinstance(f["path"], str) or not _is_plain_file_name(f["path"])
                    or not all(isinstance(f[k], int) and not isinstance(f[k], bool)
                               and 0 <= f[k] <= _U32 for k in ("first_block", "block_count"))):
                raise TableFormatError(
                    f"{where}: each entry of 'files' needs a plain file name 'path', "
                    "'first_block' and 'block_count'")
            parsed_files.append(BlockFile(f["path"], f["first_block"], f["block_count"]))
        m = cls(table_name=name, table_id=hexbytes("table_id", 16),
                table_version=integer("table_version", _U64), schema=schema,
                row_count=integer("row_count", _U64), block_count=integer("block_count", _U32),
                rows_per_block=integer("rows_per_block", _U32),
                key_id=hexbytes("key_id", 16), created_at=d["created_at"],
                format_version=integer("format_version", 0xFFFF),
                files=tuple(parsed_files),
                descriptor_mac=hexbytes("descriptor_mac", 32, optional=True),
                manifest_mac=hexbytes("manifest_mac", 32, optional=True))
        # Informational members must agree with what they are derived from.
        m.derived_mismatch = d["schema_hash"] != m.schema_hash.hex() \
            or d["row_size"] != m.row_size
        return m

    @classmethod
    def from_json(cls, text: str | bytes, *, where: str = "manifest") -> Manifest:
        try:
            d = json.loads(text)
        except ValueError as e:
            raise TableFormatError(f"{where}: not valid JSON ({e})") from None
        return cls.from_dict(d, where=where)


_DUMMY_SCHEMA = Schema.from_spec("x:int32")


def _is_plain_file_name(name: str) -> bool:
    return bool(name) and "/" not in name and "\\" not in name and name not in (".", "..") \
        and not name.startswith((".", "_"))


def utc_now() -> str:
    """Current time as ISO-8601 UTC with microseconds and a 'Z' suffix."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_table_id() -> bytes:
    """A fresh random 16-byte table id."""
    return os.urandom(16)


def parse_descriptor(data: bytes) -> dict[str, Any]:
    """Unpack a ``struct ts_table_descriptor`` (e.g. one the TA returned).

    Returns its fields by name; checks only magic, version and size. The MAC
    is not checked here: rebuild a :class:`Manifest` and :meth:`Manifest.verify`.
    """
    if len(data) != DESCRIPTOR_SIZE:
        raise TableFormatError(f"table descriptor: {len(data)} bytes, expected "
                               f"{DESCRIPTOR_SIZE}")
    (magic, version, size, table_id, table_version, row_count, block_count, row_size,
     rows_per_block, reserved, schema_hash, key_id) = _DESCRIPTOR_CORE.unpack_from(data)
    if magic != DESCRIPTOR_MAGIC or version != FORMAT_VERSION or size != DESCRIPTOR_SIZE \
            or reserved:
        raise TableFormatError("table descriptor: bad magic, version, size or reserved field")
    return {"table_id": table_id, "table_version": table_version, "row_count": row_count,
            "block_count": block_count, "row_size": row_size,
            "rows_per_block": rows_per_block, "schema_hash": schema_hash, "key_id": key_id,
            "mac": bytes(data[DESCRIPTOR_MAC_OFFSET:])}


def load_manifest(path: str | os.PathLike[str], data_key: bytes | None = None) -> Manifest:
    """Load ``_manifest.json`` from a table directory (or the file itself).

    With ``data_key`` the MACs are verified first, then the counts checked;
    without it the manifest is parsed and checked but left
    ``verified=False`` (it may have been edited).

    Raises:
        TableNotFoundError: no manifest at ``path``.
        TableFormatError: the manifest is malformed or its counts disagree.
        ManifestAuthenticationError: a MAC does not verify under ``data_key``.
    """
    p = Path(path)
    file = p / MANIFEST_NAME if p.is_dir() else p
    table = p.name if p.is_dir() else p.parent.name
    try:
        text = file.read_bytes()
    except FileNotFoundError:
        raise TableNotFoundError(
            f"no encrypted table at '{path}': {MANIFEST_NAME} is missing (write one with "
            "'teespark encrypt')") from None
    except IsADirectoryError:
        raise TableFormatError(f"'{file}' is a directory, not a manifest") from None
    m = Manifest.from_json(text, where=f"table '{table}' manifest")
    if data_key is not None:
        m.verify(data_key)
    if m.derived_mismatch:
        raise TableFormatError(
            f"table '{m.table_name}' manifest: 'schema_hash'/'row_size' do not match its "
            "schema; the manifest was edited")
    m.check_consistency()
    return m


def manifest_for(schema: Schema, *, table_name: str, table_id: bytes, table_version: int,
                 row_count: int, rows_per_block: int, key_id: bytes,
                 files: tuple[BlockFile, ...] = ()) -> Manifest:
    """Build an unauthenticated manifest with ``block_count`` derived from the counts."""
    block_count = max(1, -(-row_count // rows_per_block))
    return Manifest(table_name=table_name, table_id=table_id, table_version=table_version,
                    schema=schema, row_count=row_count, block_count=block_count,
                    rows_per_block=rows_per_block, key_id=key_id, files=files)


__all__ = ["BlockFile", "DESCRIPTOR_SIZE", "FORMAT_VERSION", "MANIFEST_NAME", "Manifest",
           "hkdf_sha256", "load_manifest", "manifest_for", "new_table_id",
           "parse_descriptor", "utc_now"]

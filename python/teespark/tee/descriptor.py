"""Build and check ``struct ts_table_descriptor``, the authenticated core of a
table manifest that ``TeesparkTA.register_table`` hands to the TA.

The MAC (``teespark_ta.h``)::

    mac_key = HKDF-SHA256(IKM = data key, salt = 32 zero bytes,
                          info = "teespark/manifest-mac/v1", L = 32)
    mac     = HMAC-SHA256(mac_key, descriptor[0:104])

Only the holder of the data key can make a descriptor the TA accepts, so the
host cannot change a table's row count, block count, version or schema hash
between the owner and the TA. ``teespark.format.manifest`` writes the same
bytes into manifest files; this module is the small copy the TEE layer needs
(the ``tee`` package does not import the layers above it).
"""

from __future__ import annotations

import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from teespark.errors import ManifestAuthenticationError
from teespark.tee import constants as c
from teespark.tee.wire import TABLE_DESCRIPTOR, TableDescriptor

__all__ = ["build_table_descriptor", "descriptor_mac", "manifest_mac_key",
           "parse_table_descriptor", "verify_table_descriptor"]

_U32 = 0xFFFFFFFF
_U64 = 0xFFFFFFFFFFFFFFFF


def manifest_mac_key(data_key: bytes) -> bytes:
    """The descriptor MAC key derived from a 32-byte data key.

    Reveals: nothing (a one-way function of the key; never logged).
    """
    if not isinstance(data_key, (bytes, bytearray, memoryview)) or len(data_key) != c.TS_KEY_SIZE:
        raise ValueError(f"manifest_mac_key: 'data_key' must be {c.TS_KEY_SIZE} bytes")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=bytes(32),
                info=c.TS_MANIFEST_MAC_INFO.encode()).derive(bytes(data_key))


def descriptor_mac(data_key: bytes, descriptor: bytes) -> bytes:
    """HMAC-SHA256 of the descriptor's first 104 bytes under the derived key."""
    h = crypto_hmac.HMAC(manifest_mac_key(data_key), hashes.SHA256())
    h.update(bytes(descriptor[:c.TS_DESCRIPTOR_MAC_OFFSET]))
    return h.finalize()


def _check(where: str, name: str, value: object, lo: int, hi: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ValueError(f"{where}: {name!r} must be an int in {lo}..{hi}, got {value!r}")
    return value


def _check_bytes(where: str, name: str, value: object, size: int) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)) or len(value) != size:
        got = f"{len(value)} bytes" if isinstance(value, (bytes, bytearray, memoryview)) \
            else type(value).__name__
        raise ValueError(f"{where}: {name!r} must be {size} bytes, got {got}")
    return bytes(value)


def build_table_descriptor(data_key: bytes, *, table_id: bytes, table_version: int,
                           row_count: int, row_size: int, rows_per_block: int,
                           schema_hash: bytes, key_id: bytes = bytes(16),
                           block_count: int | None = None) -> bytes:
    """Pack and MAC the descriptor of a table sealed under ``data_key``.

    Args:
        data_key: the table's 32-byte data key.
        table_id: 16-byte table id (as in every block header).
        table_version: the table version the blocks carry.
        row_count: rows in the whole table.
        row_size: bytes per fixed-width row (1..TS_MAX_ROW_SIZE).
        rows_per_block: block capacity; every block is full but the last.
        schema_hash: 32-byte SHA-256 of the canonical schema.
        key_id: 16-byte keyring id of the data key (zeros for a development
            key). A key released by the KBS opens only descriptors naming its
            key id and table id.
        block_count: defaults to ``max(1, ceil(row_count / rows_per_block))``,
            which the TA requires; give it only to build a wrong one in tests.

    Returns:
        The 136 descriptor bytes.

    Reveals: the descriptor is public (the host sees it); the key is not.
    """
    where = "build_table_descriptor"
    tid = _check_bytes(where, "table_id", table_id, 16)
    shash = _check_bytes(where, "schema_hash", schema_hash, 32)
    kid = _check_bytes(where, "key_id", key_id, 16)
    _check(where, "table_version", table_version, 0, _U64)
    _check(where, "row_count", row_count, 0, _U64)
    _check(where, "row_size", row_size, 1, c.TS_MAX_ROW_SIZE)
    _check(where, "rows_per_block", rows_per_block, 1, _U32)
    if block_count is None:
        block_count = max(1, -(-row_count // rows_per_block))
    _check(where, "block_count", block_count, 0, _U32)
    core = TABLE_DESCRIPTOR.pack(c.TS_DESCRIPTOR_MAGIC, c.TS_FORMAT_VERSION,
                                 c.TS_TABLE_DESCRIPTOR_SIZE, tid, table_version, row_count,
                                 block_count, row_size, rows_per_block, 0, shash, kid,
                                 bytes(32))[:c.TS_DESCRIPTOR_MAC_OFFSET]
    return core + descriptor_mac(data_key, core)


def parse_table_descriptor(descriptor: bytes) -> TableDescriptor:
    """Parse 136 descriptor bytes (no MAC check; see :func:`verify_table_descriptor`)."""
    if len(descriptor) != c.TS_TABLE_DESCRIPTOR_SIZE:
        raise ValueError(f"parse_table_descriptor: a descriptor is "
                         f"{c.TS_TABLE_DESCRIPTOR_SIZE} bytes, got {len(descriptor)}")
    return TableDescriptor.unpack(bytes(descriptor))


def verify_table_descriptor(data_key: bytes, descriptor: bytes) -> TableDescriptor:
    """Check a descriptor's MAC under ``data_key`` and return it parsed.

    Raises:
        ManifestAuthenticationError: the MAC does not verify (edited
            descriptor or another key).
    """
    d = parse_table_descriptor(descriptor)
    if not hmac.compare_digest(descriptor_mac(data_key, descriptor), d.mac):
        raise ManifestAuthenticationError(
            f"descriptor of table {d.table_id.hex()} version {d.table_version} failed its "
            "MAC check: it was edited, or this is not its data key")
    if d.magic != c.TS_DESCRIPTOR_MAGIC or d.descriptor_size != c.TS_TABLE_DESCRIPTOR_SIZE:
        raise ManifestAuthenticationError("descriptor has a wrong magic or size")
    return d

"""The result recipient's side: open what the TA exported to you.

``EXPORT_RESULT`` (see ``teespark_ta.h``) returns three parts that the host
relays: a result envelope (the result key wrapped to the recipient's X25519
key), the result table's descriptor (authenticated under the result key) and
the sealed blocks. Only the holder of the recipient's private key can open
them; this module does so and checks that nothing was dropped, reordered,
replayed or edited on the way.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from teespark.crypto.block_seal import BlockSealer, split_blocks
from teespark.errors import BlockSequenceError, ResultEnvelopeError
from teespark.tee import constants as c
from teespark.tee.descriptor import verify_table_descriptor
from teespark.tee.wire import ResultEnvelope, TableDescriptor

__all__ = ["OpenedResult", "open_result", "open_result_envelope"]


@dataclass(frozen=True)
class OpenedResult:
    """A decrypted result: its authenticated descriptor and its rows."""

    descriptor: TableDescriptor
    recipient_id: bytes
    rows: bytes  # row_count * row_size bytes in the table format's row layout


def open_result_envelope(envelope: bytes, recipient_key: X25519PrivateKey) -> tuple[bytes, bytes]:
    """Unwrap the result key; return ``(recipient_id, result_key)``.

    Raises:
        ResultEnvelopeError: malformed, or not wrapped to this key.
    """
    if len(envelope) != c.TS_RESULT_ENVELOPE_SIZE:
        raise ResultEnvelopeError(
            f"result envelope is {len(envelope)} bytes, expected {c.TS_RESULT_ENVELOPE_SIZE}")
    env = ResultEnvelope.unpack(envelope)
    if (env.magic, env.version, env.envelope_size, env.reserved) != (
            c.TS_RESULT_ENVELOPE_MAGIC, 1, c.TS_RESULT_ENVELOPE_SIZE, 0):
        raise ResultEnvelopeError("result envelope has a wrong magic, version or size")
    own_public = recipient_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    shared = recipient_key.exchange(X25519PublicKey.from_public_bytes(env.ta_ephemeral_key))
    wrap_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=bytes(32),
                    info=c.TS_RESULT_WRAP_INFO.encode() + env.ta_ephemeral_key + own_public
                    ).derive(shared)
    try:
        result_key = AESGCM(wrap_key).decrypt(
            env.nonce, env.wrapped_key + env.tag, envelope[:c.TS_RESULT_ENVELOPE_AAD_SIZE])
    except InvalidTag:
        raise ResultEnvelopeError(
            f"result envelope for recipient {env.recipient_id.hex()} does not open with this "
            "private key: it was wrapped to another recipient or modified") from None
    return env.recipient_id, result_key


def open_result(envelope: bytes, descriptor: bytes, blocks: bytes,
                recipient_key: X25519PrivateKey, *,
                expected_recipient_id: bytes | None = None) -> OpenedResult:
    """Open an exported result with the recipient's private key.

    Checks the descriptor's MAC under the result key, then every block's
    authentication and its place in the table the descriptor describes.

    Raises:
        ResultEnvelopeError: the envelope does not open with this key, or names
            another recipient.
        ManifestAuthenticationError: the descriptor was edited.
        BlockAuthenticationError, BlockFormatError, BlockSequenceError: a block
            was modified, truncated, dropped, duplicated, reordered or replayed.
    """
    recipient_id, result_key = open_result_envelope(envelope, recipient_key)
    if expected_recipient_id is not None and not hmac.compare_digest(recipient_id,
                                                                     expected_recipient_id):
        raise ResultEnvelopeError(
            f"result envelope names recipient {recipient_id.hex()}, expected "
            f"{expected_recipient_id.hex()}")
    d = verify_table_descriptor(result_key, descriptor)
    table = f"result table {d.table_id.hex()} v{d.table_version}"
    parts = split_blocks(blocks, what=table)
    if len(parts) != d.block_count:
        raise BlockSequenceError(
            f"{table}: {len(parts)} blocks, the descriptor announces {d.block_count}: "
            "blocks were dropped or added")
    sealer = BlockSealer(result_key)
    rows = []
    total = 0
    for i, part in enumerate(parts):
        where = f"block {i} of {table}"
        header, plaintext = sealer.open(part, where=where)
        if (header.table_id, header.table_version, header.block_index, header.block_count,
                header.row_size, header.schema_hash) != (
                d.table_id, d.table_version, i, d.block_count, d.row_size, d.schema_hash):
            raise BlockSequenceError(
                f"{where} carries table {header.table_id.hex()} v{header.table_version}, "
                f"index {header.block_index}/{header.block_count}: it was reordered or "
                "replayed from another table")
        rows.append(plaintext)
        total += header.row_count
    if total != d.row_count:
        raise BlockSequenceError(f"{table}: {total} rows, the descriptor announces "
                                 f"{d.row_count}")
    return OpenedResult(descriptor=d, recipient_id=recipient_id, rows=b"".join(rows))

"""Typed access to the teespark TA (the commands of ``teespark_ta.h``).

:class:`TeesparkTA` wraps a :class:`~teespark.tee.session.TaSession` with one
method per command, passes bulk data through shared memory (no per-row
Python), and turns the TA's own error codes into teespark exceptions:

- ``TS_ERROR_BLOCK_AUTH`` / ``_SEQUENCE`` / ``_FORMAT`` ->
  :class:`~teespark.errors.BlockAuthenticationError` /
  :class:`~teespark.errors.BlockSequenceError` /
  :class:`~teespark.errors.BlockFormatError`, each naming the failing block
  index and carrying it as ``block_index``;
- ``TS_ERROR_KEY_SLOT_EMPTY`` -> :class:`~teespark.errors.KeySlotEmptyError`;
- ``TS_ERROR_BAD_REQUEST`` -> :class:`~teespark.errors.EnclaveBadParametersError`;
- ``TS_ERROR_MANIFEST_AUTH`` -> :class:`~teespark.errors.DescriptorAuthenticationError`
  (a :class:`~teespark.errors.ManifestAuthenticationError`);
- ``TS_ERROR_TABLE_UNKNOWN`` -> :class:`~teespark.errors.TableNotRegisteredError`;
- ``TS_ERROR_KBS_NOT_PINNED`` -> :class:`~teespark.errors.KbsKeyNotPinnedError`;
- ``TS_ERROR_REPLY_SIGNATURE`` / ``_STALE`` / ``_FORMAT`` ->
  :class:`~teespark.errors.KbsReplySignatureError` /
  :class:`~teespark.errors.KbsReplyStaleError` /
  :class:`~teespark.errors.KbsReplyFormatError` (all
  :class:`~teespark.errors.KbsReplyRejectedError`);
- ``TS_ERROR_RECIPIENT_UNKNOWN`` -> :class:`~teespark.errors.RecipientUnknownError`.

Block commands take only blocks of a table registered in the session
(:meth:`TeesparkTA.register_table` with a descriptor from
:mod:`teespark.tee.descriptor`, or the output of :meth:`TeesparkTA.sort_blocks`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Union

from teespark.errors import (
    BlockAuthenticationError,
    BlockError,
    BlockFormatError,
    BlockSequenceError,
    DescriptorAuthenticationError,
    EnclaveBadParametersError,
    EnclaveError,
    EnclaveShortBufferError,
    EnclaveUnavailableError,
    KbsKeyNotPinnedError,
    KbsReplyFormatError,
    KbsReplySignatureError,
    KbsReplyStaleError,
    KeySlotEmptyError,
    RecipientUnknownError,
    TableNotRegisteredError,
)
from teespark.tee import _abi
from teespark.tee import constants as c
from teespark.tee.params import BytesLike, InBuffer, OutBuffer, Param, Value, byte_view
from teespark.tee.session import TaSession
from teespark.tee.shared_memory import SharedMemory, SharedMemoryRef
from teespark.tee.wire import (
    EXPORT_REQUEST,
    SORT_KEY,
    SORT_REQUEST_HEAD,
    iter_block_headers,
)

__all__ = ["OperatorPadOverflowError", "PrimaryKeyDuplicateError", "SortKey", "TaInfo",
           "TeesparkTA", "pack_export_request", "pack_sort_request"]

KeyType = Union[int, str]
_KEY_TYPE_NAMES = {"uint": c.TS_KEY_UINT, "int": c.TS_KEY_INT,
                   "float64": c.TS_KEY_FLOAT64, "bytes": c.TS_KEY_BYTES}
_KEY_TYPE_LABELS = {v: f"TS_KEY_{k.upper()}" for k, v in _KEY_TYPE_NAMES.items()}
_U32 = 0xFFFFFFFF
_U64 = 0xFFFFFFFFFFFFFFFF


# --------------------------------------------------------------------------
# Sort request
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SortKey:
    """One sort key column of a fixed-width row.

    Args:
        type: ``TS_KEY_UINT``/``"uint"`` (width 1, 2, 4, 8),
            ``TS_KEY_INT``/``"int"`` (1, 2, 4, 8), ``TS_KEY_FLOAT64``/``"float64"``
            (8; -0.0 == +0.0, NaN last, as in Spark SQL) or ``TS_KEY_BYTES``/``"bytes"``
            (1..256, lexicographic).
        offset: byte offset of the column in the row.
        width: column width in bytes.
        descending: sort this key in descending order.
    """

    type: KeyType
    offset: int
    width: int
    descending: bool = False


def _check_uint(where: str, name: str, value: object, lo: int, hi: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ValueError(f"{where}: {name!r} must be an int in {lo}..{hi}, got {value!r}")
    return value


def _check_bytes(where: str, name: str, value: object, size: int) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)) or len(value) != size:
        got = f"{len(value)} bytes" if isinstance(value, (bytes, bytearray, memoryview)) \
            else type(value).__name__
        raise ValueError(f"{where}: {name!r} must be {size} bytes, got {got}")
    return bytes(value)


def _key_type(where: str, i: int, t: KeyType) -> int:
    if isinstance(t, str):
        if t not in _KEY_TYPE_NAMES:
            raise ValueError(f"{where}: keys[{i}].type must be one of "
                             f"{sorted(_KEY_TYPE_NAMES)} or a TS_KEY_* constant, got {t!r}")
        return _KEY_TYPE_NAMES[t]
    if t not in _KEY_TYPE_LABELS:
        raise ValueError(f"{where}: keys[{i}].type must be a TS_KEY_* constant "
                         f"(1..4), got {t!r}")
    return t


def pack_sort_request(*, keys: Sequence[SortKey], rows_per_block: int,
                      in_key_slot: int, out_key_slot: int, out_table_id: bytes,
                      out_table_version: int, schema_hash: bytes) -> bytes:
    """Pack a ``struct ts_sort_request`` (200 bytes) for :meth:`TeesparkTA.sort_blocks`.

    Args:
        keys: 1..``TS_MAX_SORT_KEYS`` sort keys, most significant first.
        rows_per_block: row capacity of each output block (>= 1).
        in_key_slot: key slot that opens the input blocks.
        out_key_slot: key slot that seals the output blocks.
        out_table_id: 16-byte table id written into the output headers.
        out_table_version: table version written into the output headers.
        schema_hash: 32-byte schema hash the input blocks must carry and the
            output blocks get.

    Returns:
        The request bytes.

    Raises:
        ValueError: an argument is out of range; the message names it.

    Reveals: the whole request is visible to the host (key columns, slots,
        rows per block, output table id and version).
    """
    where = "pack_sort_request"
    _check_uint(where, "in_key_slot", in_key_slot, 0, c.TS_MAX_KEY_SLOTS - 1)
    _check_uint(where, "out_key_slot", out_key_slot, 0, c.TS_MAX_KEY_SLOTS - 1)
    _check_uint(where, "rows_per_block", rows_per_block, 1, _U32)
    _check_uint(where, "out_table_version", out_table_version, 0, _U64)
    table_id = _check_bytes(where, "out_table_id", out_table_id, 16)
    shash = _check_bytes(where, "schema_hash", schema_hash, 32)
    if isinstance(keys, (str, bytes)) or not isinstance(keys, Sequence):
        raise ValueError(f"{where}: 'keys' must be a sequence of SortKey, "
                         f"got {type(keys).__name__}")
    if not 1 <= len(keys) <= c.TS_MAX_SORT_KEYS:
        raise ValueError(f"{where}: 'keys' must hold 1..{c.TS_MAX_SORT_KEYS} keys, "
                         f"got {len(keys)}")
    packed_keys = []
    for i, k in enumerate(keys):
        if not isinstance(k, SortKey):
            raise ValueError(f"{where}: keys[{i}] must be a SortKey, got {type(k).__name__}")
        t = _key_type(where, i, k.type)
        _check_uint(where, f"keys[{i}].offset", k.offset, 0, c.TS_MAX_ROW_SIZE - 1)
        if t in (c.TS_KEY_UINT, c.TS_KEY_INT):
            allowed: tuple[int, ...] = (1, 2, 4, 8)
        elif t == c.TS_KEY_FLOAT64:
            allowed = (8,)
        else:
            allowed = tuple(range(1, 257))
        if k.width not in allowed or isinstance(k.width, bool):
            rule = "1..256" if t == c.TS_KEY_BYTES else ", ".join(map(str, allowed))
            raise ValueError(f"{where}: keys[{i}].width must be {rule} for "
                             f"{_KEY_TYPE_LABELS[t]}, got {k.width!r}")
        if k.offset + k.width > c.TS_MAX_ROW_SIZE:
            raise ValueError(f"{where}: keys[{i}] ends at byte {k.offset + k.width}, past "
                             f"TS_MAX_ROW_SIZE ({c.TS_MAX_ROW_SIZE})")
        if not isinstance(k.descending, bool):
            raise ValueError(f"{where}: keys[{i}].descending must be a bool, "
                             f"got {k.descending!r}")
        packed_keys.append(SORT_KEY.pack(t, int(k.descending), k.offset, k.width, 0))
    packed_keys += [bytes(SORT_KEY.size)] * (c.TS_MAX_SORT_KEYS - len(keys))
    out = SORT_REQUEST_HEAD.pack(in_key_slot, out_key_slot, rows_per_block, len(keys),
                                 table_id, out_table_version, shash) + b"".join(packed_keys)
    assert len(out) == c.TS_SORT_REQUEST_SIZE
    return out


def pack_export_request(*, in_key_slot: int, rows_per_block: int, recipient_id: bytes,
                        out_table_id: bytes, out_table_version: int) -> bytes:
    """Pack a ``struct ts_export_request`` (48 bytes) for :meth:`TeesparkTA.export_result`.

    Args:
        in_key_slot: key slot the input table is registered with.
        rows_per_block: row capacity of each output block (>= 1).
        recipient_id: 16-byte id of a recipient the imported KBS reply names.
        out_table_id: 16-byte table id of the exported table.
        out_table_version: its table version.

    Returns:
        The request bytes.

    Raises:
        ValueError: an argument is out of range; the message names it.

    Reveals: the whole request is visible to the host.
    """
    where = "pack_export_request"
    _check_uint(where, "in_key_slot", in_key_slot, 0, c.TS_MAX_KEY_SLOTS - 1)
    _check_uint(where, "rows_per_block", rows_per_block, 1, _U32)
    _check_uint(where, "out_table_version", out_table_version, 0, _U64)
    rid = _check_bytes(where, "recipient_id", recipient_id, 16)
    tid = _check_bytes(where, "out_table_id", out_table_id, 16)
    return EXPORT_REQUEST.pack(in_key_slot, rows_per_block, rid, tid, out_table_version)


# --------------------------------------------------------------------------
# The TA
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class TaInfo:
    """What GET_INFO reports."""

    abi_version: int
    max_key_slots: int
    heap_bytes: int
    max_block_plaintext: int


_BLOCK_ERRORS: dict[int, tuple[type[BlockError], str]] = {
    c.TS_ERROR_BLOCK_AUTH: (
        BlockAuthenticationError,
        "failed AES-GCM authentication: it was modified or sealed under another key; "
        "re-encrypt it with 'teespark encrypt'"),
    c.TS_ERROR_BLOCK_SEQUENCE: (
        BlockSequenceError,
        "is out of sequence (wrong index, count, table, version or schema): blocks are "
        "missing, duplicated, reordered or from another table"),
    c.TS_ERROR_BLOCK_FORMAT: (
        BlockFormatError,
        "is malformed (bad magic, version, header or sizes)"),
}

#: TA codes with one exception class each, and what to say (after "<CMD>: ").
_TA_ERRORS: dict[int, tuple[Callable[..., Exception], str]] = {
    c.TS_ERROR_KEY_SLOT_EMPTY: (
        KeySlotEmptyError,
        "a key slot named in the call is empty: install or generate its key first "
        "(keys are lost when the TA restarts)"),
    c.TS_ERROR_BAD_REQUEST: (
        EnclaveBadParametersError,
        "the TA rejected the request (see pack_sort_request / pack_export_request for "
        "the rules, and keep a full output block within TS_MAX_BLOCK_PLAINTEXT)"),
    c.TS_ERROR_MANIFEST_AUTH: (
        DescriptorAuthenticationError,
        "the table descriptor failed its MAC check in the TA: the manifest was edited, "
        "or the key slot holds another data key (a KBS key opens only the table and key "
        "id it was released for)"),
    c.TS_ERROR_TABLE_UNKNOWN: (
        TableNotRegisteredError,
        "the blocks belong to a table that is not registered in this TA session with "
        "that key slot: call register_table first (tables are lost when the TA "
        "restarts or the slot's key changes)"),
    c.TS_ERROR_KBS_NOT_PINNED: (
        KbsKeyNotPinnedError,
        "no key broker key is pinned in this TA session: call pin_kbs_key first"),
    c.TS_ERROR_REPLY_SIGNATURE: (
        KbsReplySignatureError,
        "the KBS reply is not signed by the pinned KBS key: it was modified on the way "
        "or comes from another key broker; nothing was imported"),
    c.TS_ERROR_REPLY_STALE: (
        KbsReplyStaleError,
        "the KBS reply does not answer this session's latest evidence (already "
        "imported, older evidence, or another session's): get new evidence and ask "
        "the KBS again; nothing was imported"),
    c.TS_ERROR_REPLY_FORMAT: (
        KbsReplyFormatError,
        "the KBS reply is malformed or a key in it does not unwrap; nothing was "
        "imported"),
    c.TS_ERROR_RECIPIENT_UNKNOWN: (
        RecipientUnknownError,
        "the recipient is not named in the imported KBS reply: results are sealed "
        "only to recipients the key broker names"),
}


class OperatorPadOverflowError(EnclaveError):
    """RUN_OPERATOR: the result has more rows than the request's pad_rows."""


class PrimaryKeyDuplicateError(EnclaveError):
    """RUN_OPERATOR: a PK-FK join found a duplicate primary key."""


_TA_ERRORS[c.TS_ERROR_PAD_OVERFLOW] = (
    OperatorPadOverflowError,
    "the result has more rows than pad_rows: run again with a larger bound (this "
    "reveals only that the bound was exceeded)")
_TA_ERRORS[c.TS_ERROR_PK_DUPLICATE] = (
    PrimaryKeyDuplicateError,
    "the side named as primary key has duplicate keys: use the general join "
    "(pk_side TS_PK_NONE)")


class TeesparkTA:
    """A session with the teespark TA, one method per command.

    Args:
        on_reopen: called as ``on_reopen(ta)`` when a fresh TA instance
            replaces one that died (its keys, registered tables, pinned KBS
            key and recipients are lost with it): re-run key release (or
            re-install development keys) and re-register the tables there.
        check_version: ask the TA for its ABI version at open and refuse a
            mismatch.
        uuid: TA UUID (default ``TA_TEESPARK_UUID``).

    Raises:
        EnclaveUnavailableError: no TEE/simulator, TA not installed, or a TA
            with another ABI version.

    Thread-safe; calls run one at a time. Usable as a context manager.

    Reveals: see each method; in general command ids, sizes and key slots.
    """

    def __init__(self, *, on_reopen: Callable[[TeesparkTA], None] | None = None,
                 check_version: bool = True, uuid: bytes | str = c.TA_TEESPARK_UUID) -> None:
        self._lock = threading.RLock()
        self._scratch: dict[str, SharedMemory] = {}
        hook = (lambda _s: on_reopen(self)) if on_reopen is not None else None
        self._session = TaSession(uuid, on_reopen=hook, command_names=c.COMMAND_NAMES)
        if check_version:
            info = self.get_info()
            if info.abi_version != c.TA_TEESPARK_ABI_VERSION:
                self.close()
                raise EnclaveUnavailableError(
                    f"the teespark TA speaks ABI version {info.abi_version}, this teespark "
                    f"speaks {c.TA_TEESPARK_ABI_VERSION}: install the matching TA build",
                    command="GET_INFO")

    @property
    def session(self) -> TaSession:
        """The underlying session."""
        return self._session

    def close(self) -> None:
        """Close the session and release scratch shared memory. Idempotent."""
        with self._lock:
            self._session.close()
            for shm in self._scratch.values():
                shm.release()
            self._scratch.clear()

    def __enter__(self) -> TeesparkTA:
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------

    def _scratch_ref(self, role: str, n: int, direction: str) -> SharedMemoryRef:
        shm = self._scratch.get(role)
        if shm is None or shm.size < n:
            if shm is not None:
                shm.release()
                del self._scratch[role]
            size = max(2 << 20, 1 << (n - 1).bit_length())
            shm = SharedMemory(size, direction=direction)  # type: ignore[arg-type]
            self._scratch[role] = shm
        return shm.ref(0, n, direction=direction)  # type: ignore[arg-type]

    def _input(self, data: BytesLike, where: str, role: str = "in") -> Param:
        arr = byte_view(data, writable=False, where=where)
        if arr.nbytes <= _abi.TEMP_MEMREF_MAX:
            return InBuffer(arr)
        ref = self._scratch_ref(role, int(arr.nbytes), "in")
        ref.shm.write(arr)
        return ref

    def _output(self, n: int) -> Param:
        if n <= _abi.TEMP_MEMREF_MAX:
            return OutBuffer(n)
        return self._scratch_ref("out", n, "out")

    @staticmethod
    def _output_bytes(p: Param) -> bytes:
        assert isinstance(p, (OutBuffer, SharedMemoryRef))
        return p.data.tobytes()

    def _invoke(self, cmd: int, params: Sequence[Param | None],
                error_value: Value | None = None) -> None:
        try:
            self._session.invoke(cmd, params)
        except EnclaveError as exc:
            name = c.COMMAND_NAMES.get(cmd, f"cmd {cmd}")
            mapped = _BLOCK_ERRORS.get(exc.code)
            if mapped is not None and exc.origin == c.TEEC_ORIGIN_TRUSTED_APP:
                cls, why = mapped
                index = error_value.a if error_value is not None else None
                raise cls(f"{name}: input block {index} {why}", block_index=index,
                          code=exc.code, command=name) from exc
            ta_error = _TA_ERRORS.get(exc.code)
            if ta_error is not None:
                make, why = ta_error
                raise make(f"{name}: {why}", code=exc.code, origin=exc.origin,
                           command=name) from exc
            raise

    # -- commands -------------------------------------------------------------

    def get_info(self) -> TaInfo:
        """The TA's ABI version and limits (GET_INFO).

        Returns:
            A :class:`TaInfo`.

        Reveals: nothing secret (public build constants).
        """
        with self._lock:
            v0, v1 = Value.output(), Value.output()
            self._invoke(c.TA_TEESPARK_CMD_GET_INFO, [v0, v1])
            return TaInfo(abi_version=v0.a, max_key_slots=v0.b, heap_bytes=v1.a * 1024,
                          max_block_plaintext=v1.b)

    def _check_slot(self, where: str, name: str, slot: int) -> None:
        _check_uint(where, name, slot, 0, c.TS_MAX_KEY_SLOTS - 1)

    def install_dev_key(self, slot: int, key: bytes) -> None:
        """Place a raw AES-256 data key in a key slot (INSTALL_DEV_KEY).

        Development provisioning only: the key crosses the host in the clear.

        Args:
            slot: key slot, 0..TS_MAX_KEY_SLOTS-1.
            key: exactly TS_KEY_SIZE (32) bytes.

        Reveals: the key itself (to the host); the slot number.
        """
        self._check_slot("TeesparkTA.install_dev_key", "slot", slot)
        if not isinstance(key, (bytes, bytearray, memoryview)) or len(key) != c.TS_KEY_SIZE:
            got = f"{len(key)} bytes" if isinstance(key, (bytes, bytearray, memoryview)) \
                else type(key).__name__
            raise ValueError(f"TeesparkTA.install_dev_key: 'key' must be {c.TS_KEY_SIZE} "
                             f"bytes, got {got}")
        with self._lock:
            self._invoke(c.TA_TEESPARK_CMD_INSTALL_DEV_KEY, [Value(slot), InBuffer(key)])

    def new_query_key(self, slot: int) -> None:
        """Generate a fresh random key inside the TA in ``slot`` (NEW_QUERY_KEY).

        The key never leaves the TA.

        Reveals: the slot number.
        """
        self._check_slot("TeesparkTA.new_query_key", "slot", slot)
        with self._lock:
            self._invoke(c.TA_TEESPARK_CMD_NEW_QUERY_KEY, [Value(slot)])

    def clear_key(self, slot: int) -> None:
        """Wipe a key slot (CLEAR_KEY); no error if it is already empty.

        Reveals: the slot number.
        """
        self._check_slot("TeesparkTA.clear_key", "slot", slot)
        with self._lock:
            self._invoke(c.TA_TEESPARK_CMD_CLEAR_KEY, [Value(slot)])

    def reseal_blocks(self, data: BytesLike, in_slot: int,
                      out_slot: int) -> tuple[bytes, int, int]:
        """Open sealed blocks under ``in_slot`` and seal them again under ``out_slot``.

        Args:
            data: concatenated sealed blocks.
            in_slot: key slot that opens them.
            out_slot: key slot that seals the output (fresh nonces).

        Returns:
            ``(blocks, open_us, seal_us)``: the resealed blocks (same count,
            sizes and header fields except the nonce) and the microseconds the
            TA spent opening and sealing.

        Raises:
            BlockAuthenticationError, BlockFormatError, BlockSequenceError: a
                block is bad; ``block_index`` names it.
            EnclaveError: e.g. an empty key slot.

        Reveals: block count and sizes (the headers are public), the two
            slots, and the timings.
        """
        self._check_slot("TeesparkTA.reseal_blocks", "in_slot", in_slot)
        self._check_slot("TeesparkTA.reseal_blocks", "out_slot", out_slot)
        with self._lock:
            self._session.ensure_open()
            src = self._input(data, "TeesparkTA.reseal_blocks")
            n = src.size  # type: ignore[attr-defined]
            for _attempt in range(2):
                out = self._output(n)
                timing = Value.output()
                try:
                    self._invoke(c.TA_TEESPARK_CMD_RESEAL_BLOCKS,
                                 [src, out, Value(in_slot, out_slot), timing], timing)
                except EnclaveShortBufferError as exc:
                    n = exc.needed
                    continue
                return self._output_bytes(out), timing.a, timing.b
            raise EnclaveError("RESEAL_BLOCKS: the TA asked for a larger output twice",
                               command="RESEAL_BLOCKS")

    def _blocks_command(self, cmd: int, where: str, blocks: BytesLike, request: bytes,
                        estimate: int) -> tuple[bytes, int, int]:
        """Run a blocks | request -> output | counts command with the SHORT_BUFFER retry."""
        name = c.COMMAND_NAMES[cmd]
        with self._lock:
            self._session.ensure_open()
            src = self._input(blocks, where)
            n = estimate
            for _attempt in range(2):
                out = self._output(n)
                counts = Value.output()
                try:
                    self._invoke(cmd, [src, out, InBuffer(request), counts], counts)
                except EnclaveShortBufferError as exc:
                    n = exc.needed
                    continue
                return self._output_bytes(out), counts.a, counts.b
            raise EnclaveError(f"{name}: the TA asked for a larger output twice",
                               command=name)

    def sort_blocks(self, blocks: BytesLike, request: bytes) -> tuple[bytes, bytes, int, int]:
        """Sort all rows of a registered table obliviously and seal them into new blocks.

        The output table is registered in the session with the request's
        ``out_key_slot``, so it can feed the next command directly; its
        descriptor (MAC'd under the out slot's key) registers it again after
        an eviction.

        Args:
            blocks: the complete sealed block sequence of a table registered
                with the request's ``in_key_slot`` (:meth:`register_table`).
            request: a packed ``struct ts_sort_request`` (see
                :func:`pack_sort_request`).

        Returns:
            ``(descriptor, blocks, rows, block_count)``: the output table's
            136-byte descriptor, its sealed sorted blocks, the total row count
            and the number of output blocks.

        Raises:
            TableNotRegisteredError: the blocks' table is not registered with
                ``in_key_slot``.
            BlockAuthenticationError, BlockFormatError, BlockSequenceError: a
                block is bad or not the registered table's; ``block_index``
                names it.
            EnclaveBadParametersError: the TA rejected the request.
            EnclaveOutOfMemoryError: the rows do not fit in the TA heap.

        Reveals: input block count and sizes, row count, row size and the
            output block count (all determined by public sizes and
            ``rows_per_block``); never which row went where.
        """
        req = _check_bytes("TeesparkTA.sort_blocks", "request", request,
                           c.TS_SORT_REQUEST_SIZE)
        rows_per_block = SORT_REQUEST_HEAD.unpack_from(req)[2]
        estimate = c.TS_TABLE_DESCRIPTOR_SIZE + _sorted_size_estimate(blocks, rows_per_block)
        out, rows, count = self._blocks_command(c.TA_TEESPARK_CMD_SORT_BLOCKS,
                                                "TeesparkTA.sort_blocks", blocks, req,
                                                estimate)
        d = c.TS_TABLE_DESCRIPTOR_SIZE
        return out[:d], out[d:], rows, count

    def run_operator(self, inputs: Sequence[BytesLike], request: bytes, *,
                     estimate: int = 0) -> tuple[bytes, bytes, int, int]:
        """Run one relational operator over registered tables (RUN_OPERATOR).

        Args:
            inputs: the complete sealed block sequences of one or two
                registered tables (input 0, then input 1 for joins and
                UNION ALL); they travel concatenated in param[0].
            request: ``struct ts_op_request`` and its body
                (:func:`teespark.tee.operators.pack_op_request`, with
                ``in0_bytes = len(inputs[0])`` for two inputs).
            estimate: output buffer size to try first (descriptor and
                blocks); when the result is larger the TA reports the size
                and the call runs once more (the size is public then: it is
                the declassified result size).

        Returns:
            ``(descriptor, blocks, rows, block_count)`` of the output table,
            which is registered in the session with the out key slot.

        Raises:
            BlockError subclasses: ``block_index`` and ``input_index`` name
                the bad block; TableNotRegisteredError; EnclaveBadParametersError;
            OperatorPadOverflowError, PrimaryKeyDuplicateError;
            EnclaveOutOfMemoryError: the inputs do not fit the TA heap.

        Reveals: input block counts and sizes, the request, the output row and
            block counts (with pad_rows: only pad_rows); in encrypted mode
            also the access pattern of the fast kernels inside the TA.
        """
        return _run_operator_impl(self, inputs, request, estimate)

    # -- registered tables ----------------------------------------------------

    def register_table(self, descriptor: bytes, slot: int) -> None:
        """Register a table in this TA session from its authenticated descriptor.

        Block commands accept only the complete, in-order block sequence of a
        registered table's registered version. Registering a table id again
        replaces its entry (e.g. a newer version). Build descriptors with
        :func:`teespark.tee.descriptor.build_table_descriptor`.

        Args:
            descriptor: a packed ``struct ts_table_descriptor`` (136 bytes),
                MAC'd under a key derived from the table's data key.
            slot: key slot holding the table's data key.

        Raises:
            DescriptorAuthenticationError: the MAC does not verify (edited
                descriptor, or another data key in ``slot``), or ``slot``
                holds a KBS key released for another table or key id.
            KeySlotEmptyError: ``slot`` is empty.
            EnclaveError: an authentic but inconsistent descriptor
                (``TEE_ERROR_BAD_FORMAT``).

        Reveals: the descriptor (public) and the slot number.
        """
        where = "TeesparkTA.register_table"
        d = _check_bytes(where, "descriptor", descriptor, c.TS_TABLE_DESCRIPTOR_SIZE)
        self._check_slot(where, "slot", slot)
        with self._lock:
            self._invoke(c.TA_TEESPARK_CMD_REGISTER_TABLE, [InBuffer(d), Value(slot)])

    # -- attested key release -------------------------------------------------

    def pin_kbs_key(self, public_key: bytes) -> None:
        """Pin the key broker's Ed25519 public key for this session (PIN_KBS_KEY).

        Once per session: evidence names the pinned key and IMPORT_KEYS
        accepts only replies it signed. Pinning the same key again is a
        no-op; another key is refused.

        Args:
            public_key: the KBS's raw Ed25519 public key (32 bytes).

        Raises:
            EnclaveError: another key is pinned already (``code`` =
                ``TEEC_ERROR_ACCESS_DENIED``).

        Reveals: the KBS public key (public).
        """
        key = _check_bytes("TeesparkTA.pin_kbs_key", "public_key", public_key,
                           c.TS_ED25519_PUBLIC_SIZE)
        with self._lock:
            self._invoke(c.TA_TEESPARK_CMD_PIN_KBS_KEY, [InBuffer(key)])

    def get_evidence(self, nonce: bytes) -> bytes:
        """Attestation evidence for key release (GET_EVIDENCE).

        The evidence (``struct ts_evidence``, parse it with
        :meth:`teespark.tee.wire.Evidence.unpack`) names the TA, the verifier's
        nonce, the session's ephemeral X25519 key and the pinned KBS key,
        signed with the device attestation key over the TA's measurement. Its
        SHA-256 becomes the session's pending evidence: the next
        :meth:`import_keys` accepts only a reply naming it.

        Args:
            nonce: the verifier's fresh nonce, 32 bytes.

        Returns:
            The 680 evidence bytes.

        Raises:
            KbsKeyNotPinnedError: :meth:`pin_kbs_key` was not called.

        Reveals: everything in it is public.
        """
        n = _check_bytes("TeesparkTA.get_evidence", "nonce", nonce, c.TS_NONCE_BYTES)
        with self._lock:
            out = OutBuffer(c.TS_EVIDENCE_SIZE)
            self._invoke(c.TA_TEESPARK_CMD_GET_EVIDENCE, [InBuffer(n), out])
            return self._output_bytes(out)

    def get_device_pubkey(self) -> tuple[int, int]:
        """The device attestation public key that signs evidence (GET_DEVICE_PUBKEY).

        Returns:
            ``(e, n)``: the RSA public exponent and modulus (RSASSA-PSS with
            SHA-256, salt 32), e.g. for
            ``cryptography``'s ``RSAPublicNumbers(e, n)``.

        Raises:
            EnclaveError: the TEE has no attestation service for TAs
                (``TEEC_ERROR_NOT_SUPPORTED`` on iTrustee).

        Reveals: nothing secret.
        """
        with self._lock:
            e_buf, n_buf, alg = OutBuffer(16), OutBuffer(512), Value.output()
            self._invoke(c.TA_TEESPARK_CMD_GET_DEVICE_PUBKEY, [e_buf, n_buf, alg])
            if alg.a != c.TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA256:
                raise EnclaveError(f"GET_DEVICE_PUBKEY: unexpected algorithm 0x{alg.a:08x}",
                                   command="GET_DEVICE_PUBKEY")
            return (int.from_bytes(self._output_bytes(e_buf), "big"),
                    int.from_bytes(self._output_bytes(n_buf), "big"))

    def import_keys(self, reply: bytes) -> tuple[int, int]:
        """Import data keys and result recipients from a signed KBS reply (IMPORT_KEYS).

        The TA checks the Ed25519 signature with the pinned key and that the
        reply answers the pending evidence (once), unwraps every key into its
        slot (bound to the table it names) and records the recipients. All or
        nothing: on any error no slot changes.

        Args:
            reply: the KBS reply bytes, relayed unchanged.

        Returns:
            ``(keys, recipients)``: how many keys were imported and recipients
            recorded.

        Raises:
            KbsKeyNotPinnedError: no KBS key pinned.
            KbsReplySignatureError, KbsReplyStaleError, KbsReplyFormatError:
                the TA refused the reply (all are ``KbsReplyRejectedError``).

        Reveals: reply size, key and recipient counts, slots (the reply is
            public; the keys in it are wrapped).
        """
        if not isinstance(reply, (bytes, bytearray, memoryview)):
            raise ValueError("TeesparkTA.import_keys: 'reply' must be bytes, "
                             f"got {type(reply).__name__}")
        with self._lock:
            counts = Value.output()
            self._invoke(c.TA_TEESPARK_CMD_IMPORT_KEYS, [InBuffer(bytes(reply)), counts])
            return counts.a, counts.b

    def export_result(self, blocks: BytesLike, request: bytes) -> tuple[bytes, bytes, bytes]:
        """Reseal a registered table for a result recipient the KBS named (EXPORT_RESULT).

        The TA draws a fresh result key, seals the rows under it into
        ``rows_per_block`` blocks of a new table (id and version from the
        request), MACs the new descriptor with it (``key_id`` = recipient id)
        and wraps it to the recipient's X25519 key.

        Args:
            blocks: the complete sealed block sequence of a table registered
                with the request's ``in_key_slot``.
            request: a packed ``struct ts_export_request`` (see
                :func:`pack_export_request`).

        Returns:
            ``(envelope, descriptor, blocks)``: the 120-byte
            ``ts_result_envelope``, the 136-byte descriptor and the sealed
            blocks; only the recipient's private key opens them.

        Raises:
            RecipientUnknownError: the recipient is not named by the imported
                KBS reply.
            TableNotRegisteredError, BlockAuthenticationError,
                BlockFormatError, BlockSequenceError: as for
                :meth:`sort_blocks`.
            EnclaveBadParametersError: the TA rejected the request.

        Reveals: input and output block counts and sizes, row count, row
            size, the recipient id.
        """
        req = _check_bytes("TeesparkTA.export_result", "request", request,
                           c.TS_EXPORT_REQUEST_SIZE)
        rows_per_block = EXPORT_REQUEST.unpack_from(req)[1]
        head = c.TS_RESULT_ENVELOPE_SIZE + c.TS_TABLE_DESCRIPTOR_SIZE
        estimate = head + _sorted_size_estimate(blocks, max(1, rows_per_block))
        out, _rows, _count = self._blocks_command(c.TA_TEESPARK_CMD_EXPORT_RESULT,
                                                  "TeesparkTA.export_result", blocks, req,
                                                  estimate)
        env = c.TS_RESULT_ENVELOPE_SIZE
        return out[:env], out[env:head], out[head:]


def _operator_input(ta: TeesparkTA, inputs: Sequence[BytesLike], where: str) -> Param:
    """param[0] of RUN_OPERATOR: the inputs back to back.

    Large inputs are copied once each, straight into the session's
    reusable ``in`` shared-memory region at their offsets (no joined
    intermediate copy); small ones travel as one temporary buffer. Only
    public sizes decide the path.
    """
    views = [byte_view(x, writable=False, where=where) for x in inputs]
    total = sum(int(v.nbytes) for v in views)
    if total <= _abi.TEMP_MEMREF_MAX:
        return InBuffer(views[0] if len(views) == 1 else b"".join(views))
    ref = ta._scratch_ref("in", total, "in")
    off = 0
    for v in views:
        off += ref.shm.write(v, off)
    return ref


def _run_operator_impl(ta: TeesparkTA, inputs: Sequence[BytesLike], request: bytes,
                       estimate: int) -> tuple[bytes, bytes, int, int]:
    where = "TeesparkTA.run_operator"
    if len(request) < c.TS_OP_REQUEST_SIZE:
        raise ValueError(f"{where}: 'request' must be at least {c.TS_OP_REQUEST_SIZE} bytes")
    if not 1 <= len(inputs) <= 2:
        raise ValueError(f"{where}: one or two inputs")
    name = "RUN_OPERATOR"
    with ta._lock:
        ta._session.ensure_open()
        src = _operator_input(ta, inputs, where)
        n = max(estimate, c.TS_TABLE_DESCRIPTOR_SIZE + c.TS_BLOCK_HEADER_SIZE + c.TS_TAG_SIZE)
        for _attempt in range(2):
            out = ta._output(n)
            counts = Value.output()
            try:
                ta._invoke(c.TA_TEESPARK_CMD_RUN_OPERATOR,
                           [src, out, InBuffer(request), counts], counts)
            except EnclaveShortBufferError as exc:
                n = exc.needed
                continue
            except BlockError as exc:
                exc.input_index = counts.b  # type: ignore[attr-defined]
                raise
            # One copy per part, straight out of the (reused) output
            # region: the returned bytes own their memory.
            assert isinstance(out, (OutBuffer, SharedMemoryRef))
            raw = out.data
            d = c.TS_TABLE_DESCRIPTOR_SIZE
            return bytes(raw[:d]), bytes(raw[d:]), counts.a, counts.b
        raise EnclaveError(f"{name}: the TA asked for a larger output twice", command=name)


def _sorted_size_estimate(blocks: BytesLike, rows_per_block: int) -> int:
    """Output size of SORT_BLOCKS from the public input headers.

    Exact for well-formed input; otherwise a guess (the TA reports the size
    it needs, or the format error).
    """
    try:
        view = blocks if isinstance(blocks, bytes) else memoryview(blocks).cast("B")
    except (TypeError, ValueError):
        view = memoryview(blocks).tobytes()
    rows = 0
    row_size = None
    end = 0
    try:
        for off, h in iter_block_headers(view):
            rows += h.row_count
            row_size = h.row_size if row_size is None else row_size
            end = off + c.TS_SEALED_BLOCK_SIZE(h.ciphertext_size)
    except (ValueError, TypeError):
        return len(view) + c.TS_BLOCK_HEADER_SIZE + c.TS_TAG_SIZE
    if row_size is None or end != len(view):
        return len(view) + c.TS_BLOCK_HEADER_SIZE + c.TS_TAG_SIZE
    nblocks = max(1, -(-rows // rows_per_block))
    return nblocks * (c.TS_BLOCK_HEADER_SIZE + c.TS_TAG_SIZE) + rows * row_size

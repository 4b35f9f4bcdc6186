"""A session with one TA instance, through the stable C ABI.

:class:`TaSession` is the only place in teespark that opens, invokes and
closes TA sessions. It serializes calls (a TA instance is never entered by
two threads at once), maps GP result codes to :mod:`teespark.errors`
exceptions, and survives TA crashes: the call that hits a dead TA raises
:class:`~teespark.errors.EnclaveCrashedError`, and the next call opens a
fresh TA instance, first calling ``on_reopen(session)`` so the caller can
restore what the TA held (keys).
"""

from __future__ import annotations

import ctypes
import threading
import uuid as uuid_mod
import weakref
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Optional, Union

from teespark.errors import EnclaveError, EnclaveUnavailableError
from teespark.tee import _abi
from teespark.tee import constants as c
from teespark.tee._errors import error_from_result
from teespark.tee.params import Param
from teespark.tee.shared_memory import SharedMemory

UuidLike = Union[str, bytes, uuid_mod.UUID]
ParamLike = Union[Param, SharedMemory, None]


def _as_uuid(value: UuidLike) -> uuid_mod.UUID:
    if isinstance(value, uuid_mod.UUID):
        return value
    if isinstance(value, (bytes, bytearray)):
        if len(value) != 16:
            raise ValueError(f"TaSession: 'uuid' bytes must be 16 long, got {len(value)}")
        return uuid_mod.UUID(bytes=bytes(value))
    if isinstance(value, str):
        try:
            return uuid_mod.UUID(value)
        except ValueError:
            raise ValueError(f"TaSession: 'uuid' is not a UUID: {value!r}") from None
    raise TypeError(f"TaSession: 'uuid' must be str, bytes or uuid.UUID, "
                    f"got {type(value).__name__}")


def _close_native(box: list[Optional[int]]) -> None:
    handle, box[0] = box[0], None
    if handle is not None:
        _abi.load().tsca_close(handle)


class TaSession:
    """A session with one instance of the TA ``uuid``.

    Args:
        uuid: the TA's UUID (string, 16 bytes in RFC 4122 order, or
            :class:`uuid.UUID`).
        on_reopen: called as ``on_reopen(session)`` after a fresh TA instance
            replaced one that died, before the call that triggered the
            reopen runs. Use it to restore TA state (install keys again).
            It may invoke commands on the session.
        command_names: command id -> name, used in error messages and the
            errors' ``command`` attribute.

    Raises:
        EnclaveUnavailableError: no TEE / simulator, or no TA with this UUID.

    Usable as a context manager; :meth:`close` is idempotent. All methods
    are thread-safe; calls on one session run one at a time.

    Reveals: the TA's UUID, each command id, parameter kinds and sizes, and
    value parameters (the host sees every call).
    """

    def __init__(self, uuid: UuidLike, *,
                 on_reopen: Callable[[TaSession], None] | None = None,
                 command_names: Mapping[int, str] | None = None) -> None:
        self._uuid = _as_uuid(uuid)
        self._on_reopen = on_reopen
        self._names = dict(command_names or {})
        self._lock = threading.RLock()          # one call at a time
        self._handle_lock = threading.Lock()    # guards the native handle
        self._box: list[Optional[int]] = [None]  # native handle, None if dead/closed
        self._closed = False
        self._reopening = False
        self._reopens = 0
        self._lib = _abi.load()
        self._box[0] = self._open_native()
        self._finalizer = weakref.finalize(self, _close_native, self._box)

    # -- properties -------------------------------------------------------

    @property
    def uuid(self) -> uuid_mod.UUID:
        """The TA's UUID."""
        return self._uuid

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    @property
    def reopen_count(self) -> int:
        """How many fresh TA instances replaced dead ones so far."""
        return self._reopens

    # -- open / close -----------------------------------------------------

    def _open_native(self) -> int:
        handle = ctypes.c_void_p()
        err = _abi.TscaError()
        raw = (ctypes.c_uint8 * 16).from_buffer_copy(self._uuid.bytes)
        res = self._lib.tsca_open(ctypes.byref(raw), ctypes.byref(handle),
                                  ctypes.byref(err))
        if res != 0:
            exc = error_from_result(res, err.origin, err.text())
            if isinstance(exc, EnclaveUnavailableError) and res == c.TEEC_ERROR_ITEM_NOT_FOUND:
                exc = EnclaveUnavailableError(
                    f"TA {self._uuid} not found ({err.text()}): build it with "
                    "`make -C enclave`, or in simulation add its directory to "
                    "TEESPARK_SIM_TA_PATH",
                    code=res, origin=err.origin)
            raise exc
        assert handle.value is not None
        return handle.value

    def _drop_native(self) -> None:
        with self._handle_lock:
            _close_native(self._box)

    def ensure_open(self) -> None:
        """Open a fresh TA instance now if the last one died.

        Calls ``on_reopen``. :meth:`invoke` does this by itself; call it to
        restore state before preparing a call's buffers.

        Raises:
            EnclaveUnavailableError: the session is closed, or the TA cannot
                be opened again.

        Reveals: that a new TA instance was started.
        """
        with self._lock:
            if self._closed:
                raise EnclaveUnavailableError(
                    f"the session with TA {self._uuid} is closed; open a new TaSession")
            if self._box[0] is not None or self._reopening:
                return
            handle = self._open_native()
            with self._handle_lock:
                self._box[0] = handle
            self._reopens += 1
            if self._on_reopen is not None:
                self._reopening = True
                try:
                    self._on_reopen(self)
                finally:
                    self._reopening = False

    def close(self) -> None:
        """Close the session (waits for a call in progress). Idempotent."""
        with self._lock:
            self._closed = True
            self._drop_native()
            self._finalizer.detach()

    def __enter__(self) -> TaSession:
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("dead" if self._box[0] is None else "open")
        return f"<TaSession {self._uuid} {state}>"

    # -- calls ------------------------------------------------------------

    def command_name(self, cmd: int) -> str:
        """Name of command ``cmd`` for messages (``"cmd <n>"`` if unnamed)."""
        return self._names.get(cmd, f"cmd {cmd}")

    def invoke(self, cmd: int, params: Sequence[ParamLike] = ()) -> None:
        """Invoke command ``cmd`` of the TA.

        Args:
            cmd: command id.
            params: up to four parameters (:class:`~teespark.tee.params.Value`,
                :class:`~teespark.tee.params.InBuffer`,
                :class:`~teespark.tee.params.OutBuffer`,
                :class:`~teespark.tee.params.InOutBuffer`,
                :class:`~teespark.tee.shared_memory.SharedMemory` or one of its
                :meth:`~teespark.tee.shared_memory.SharedMemory.ref`, or
                ``None`` for an unused slot). Outputs are written back into
                them, also when the call fails.

        Raises:
            EnclaveCrashedError: the TA instance died (``TEEC_ERROR_TARGET_DEAD``);
                the next call runs on a fresh instance.
            EnclaveOutOfMemoryError, EnclaveBadParametersError,
            EnclaveShortBufferError (``needed`` = size asked for),
            EnclaveCancelledError, EnclaveUnavailableError, EnclaveError:
                the call failed; ``code``, ``origin`` and ``command`` say how.

        Reveals: the command id, parameter kinds, sizes and values.
        """
        if not isinstance(cmd, int) or not 0 <= cmd <= 0xFFFFFFFF:
            raise ValueError(f"TaSession.invoke: 'cmd' must be an int in 0..2**32-1, got {cmd!r}")
        if len(params) > _abi.PARAM_COUNT:
            raise ValueError(f"TaSession.invoke: at most {_abi.PARAM_COUNT} parameters, "
                             f"got {len(params)}")
        plist: list[Param | None] = []
        for i, p in enumerate(params):
            if isinstance(p, SharedMemory):
                p = p.ref()
            if p is not None and not isinstance(p, Param):
                raise TypeError(f"TaSession.invoke: params[{i}] must be a Value, InBuffer, "
                                f"OutBuffer, InOutBuffer, SharedMemory or None, "
                                f"got {type(p).__name__}")
            plist.append(p)
        name = self.command_name(cmd)

        with self._lock:
            self.ensure_open()
            handle = self._box[0]
            if handle is None:  # on_reopen hit a dead TA again
                raise EnclaveError(f"{name}: the TA instance died while being restored",
                                   code=c.TEEC_ERROR_TARGET_DEAD, origin=c.TEEC_ORIGIN_API,
                                   command=name)
            native = _abi.ParamArray()
            keep: list[object] = []
            marshalled: list[Param] = []
            try:
                for i, p in enumerate(plist):
                    if p is not None:
                        p._marshal(native[i], keep)
                        marshalled.append(p)
                err = _abi.TscaError()
                res = self._lib.tsca_invoke(handle, cmd, native, ctypes.byref(err))
                for i, p in enumerate(plist):
                    if p is not None:
                        p._unmarshal(native[i])
            finally:
                for p in marshalled:
                    p._after_call()
            if res == 0:
                return
            needed = None
            if res == c.TEEC_ERROR_SHORT_BUFFER:
                for i, p in enumerate(plist):
                    cap = p._capacity() if p is not None else None
                    if cap is not None and native[i].size > cap:
                        needed = int(native[i].size)
                        break
            if res == c.TEEC_ERROR_TARGET_DEAD:
                self._drop_native()
            raise error_from_result(res, err.origin, err.text(), command=name, needed=needed)

    def request_cancel(self) -> bool:
        """Ask the TA to cancel the call running on this session (from another thread).

        Returns:
            True if a call was running and the request was sent; False if no
            call was running (nothing is remembered for later calls).
            Cancellation is cooperative: the call ends with
            :class:`~teespark.errors.EnclaveCancelledError` only if the TA
            checks for it.

        Reveals: that the caller gave up on the running command.
        """
        with self._handle_lock:
            handle = self._box[0]
            if handle is None:
                return False
            return bool(self._lib.tsca_request_cancel(handle))

    def alloc_shared(self, size: int, *, direction: str = "inout") -> SharedMemory:
        """Allocate shared memory usable with this session (and any other).

        Args:
            size: bytes.
            direction: ``"in"``, ``"out"`` or ``"inout"``.

        Returns:
            A :class:`~teespark.tee.shared_memory.SharedMemory`.

        Reveals: the size.
        """
        return SharedMemory(size, direction=direction)  # type: ignore[arg-type]

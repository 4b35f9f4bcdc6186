"""Shared memory between this process and TAs (GP TEEC_SharedMemory).

Bulk data (blocks of sealed rows, tens of MiB) goes to the TA through shared
memory instead of temporary buffers: it is allocated once, filled in place
(numpy, Arrow, file reads) and referenced by several calls. A region belongs
to the process's TEE context, not to a session, so it stays valid when a
session reopens a crashed TA.

Memory safety: views of an allocated region (:attr:`SharedMemory.buffer`,
:meth:`SharedMemory.array` and everything derived from them) keep the
region alive. :meth:`SharedMemory.release` refuses (``BufferError``) while
any view exists, and a region that is garbage-collected is freed only once
no view remains, so a view never points at freed memory.
"""

from __future__ import annotations

import ctypes
import functools
import threading
import weakref
from types import TracebackType
from typing import Any

import numpy as np

from teespark.tee import _abi
from teespark.tee._errors import error_from_result
from teespark.tee.params import BytesLike, Direction, Param, byte_view, check_direction

_DIR_FLAGS = {"in": _abi.SHM_IN, "out": _abi.SHM_OUT, "inout": _abi.SHM_INOUT}
_DIR_KINDS = {"in": _abi.PARAM_SHM_IN, "out": _abi.PARAM_SHM_OUT,
              "inout": _abi.PARAM_SHM_INOUT}


@functools.lru_cache(maxsize=128)
def _view_type(size: int) -> type:
    # A Python subclass of the ctypes array type: its instances accept
    # attributes (a strong reference to the owning SharedMemory) and weak
    # references (so the owner can tell whether views still exist).
    return type("SharedMemoryBytes", (ctypes.c_ubyte * size,), {})


def _release_native(handle: int) -> None:
    lib = _abi.load()
    lib.tsca_shm_release(handle)


class SharedMemory:
    """A region of shared memory the TA can read and/or write.

    Args:
        size: bytes to allocate (0 is allowed).
        direction: what the TA may do with it: ``"in"`` (read), ``"out"``
            (write) or ``"inout"`` (both, the default).

    Use it as a whole parameter (``session.invoke(cmd, [shm, ...])``) or
    pass part of it with :meth:`ref`. Fill and read it through
    :attr:`buffer` (a writable memoryview) or :meth:`array` (a numpy view).

    Reveals: the region's size and, for each call, the offset and size
    passed; its contents are as visible to the host as any other memory.
    """

    def __init__(self, size: int, *, direction: Direction = "inout") -> None:
        if not isinstance(size, int) or size < 0:
            raise ValueError(f"SharedMemory: 'size' must be an int >= 0, got {size!r}")
        self.direction: Direction = check_direction(direction, "SharedMemory")
        self._size = size
        self._lock = threading.Lock()
        self._views: list[weakref.ref[Any]] = []
        self._registered: np.ndarray | None = None
        self._busy = 0
        lib = _abi.load()
        handle = ctypes.c_void_p()
        ptr = ctypes.c_void_p()
        err = _abi.TscaError()
        res = lib.tsca_shm_alloc(size, _DIR_FLAGS[direction], ctypes.byref(handle),
                                 ctypes.byref(ptr), ctypes.byref(err))
        if res != 0:
            raise error_from_result(res, err.origin, err.text())
        self._handle: int | None = handle.value
        self._ptr = ptr.value or 0
        self._finalizer = weakref.finalize(self, _release_native, self._handle)

    @classmethod
    def register(cls, buffer: bytearray | memoryview | np.ndarray, *,
                 direction: Direction = "inout") -> SharedMemory:
        """Register an existing writable buffer as shared memory.

        The buffer is kept alive until :meth:`release`. Results the TA
        writes appear in ``buffer`` when each call returns.

        Args:
            buffer: a non-empty writable C-contiguous buffer.
            direction: ``"in"``, ``"out"`` or ``"inout"``.

        Returns:
            The registered region; :attr:`buffer` views the caller's buffer.

        Reveals: the buffer's size; its contents are host memory anyway.
        """
        check_direction(direction, "SharedMemory.register")
        arr = byte_view(buffer, writable=True, where="SharedMemory.register")
        if arr.nbytes == 0:
            raise ValueError("SharedMemory.register: 'buffer' is empty; allocate "
                             "SharedMemory(0) instead")
        self = cls.__new__(cls)
        self.direction = direction
        self._size = int(arr.nbytes)
        self._lock = threading.Lock()
        self._views = []
        self._registered = arr
        self._busy = 0
        self._ptr = int(arr.ctypes.data)
        lib = _abi.load()
        handle = ctypes.c_void_p()
        err = _abi.TscaError()
        res = lib.tsca_shm_register(self._ptr, self._size, _DIR_FLAGS[direction],
                                    ctypes.byref(handle), ctypes.byref(err))
        if res != 0:
            raise error_from_result(res, err.origin, err.text())
        self._handle = handle.value
        self._finalizer = weakref.finalize(self, _release_native, self._handle)
        return self

    # -- properties ---------------------------------------------------------

    @property
    def size(self) -> int:
        """Size in bytes."""
        return self._size

    @property
    def released(self) -> bool:
        """True after :meth:`release`."""
        return self._handle is None

    @property
    def buffer(self) -> memoryview:
        """A writable byte memoryview of the whole region (a new view each time)."""
        if self._registered is not None:
            self._check_open()
            return memoryview(self._registered)  # type: ignore[arg-type]
        return memoryview(self._new_view()).cast("B")

    def array(self, dtype: Any = np.uint8, count: int = -1, offset: int = 0) -> np.ndarray:
        """A numpy array viewing the region (no copy).

        Args:
            dtype: element type.
            count: number of elements (-1: as many as fit after ``offset``).
            offset: byte offset of the first element.
        """
        src: Any = self._registered if self._registered is not None else self._new_view()
        if self._registered is not None:
            self._check_open()
        return np.frombuffer(src, dtype=dtype, count=count, offset=offset)

    def write(self, data: BytesLike, offset: int = 0) -> int:
        """Copy ``data`` into the region at ``offset``; returns the byte count."""
        src = byte_view(data, writable=False, where="SharedMemory.write")
        n = int(src.nbytes)
        if offset < 0 or offset + n > self._size:
            raise ValueError(f"SharedMemory.write: {n} bytes at offset {offset} do not fit "
                             f"in {self._size} bytes")
        if n:
            self.array(np.uint8, n, offset)[:] = src
        return n

    def ref(self, offset: int = 0, size: int | None = None, *,
            direction: Direction | None = None) -> SharedMemoryRef:
        """A parameter referring to ``[offset, offset + size)`` of the region.

        Args:
            offset: first byte.
            size: byte count (default: to the end).
            direction: ``"in"``, ``"out"`` or ``"inout"``; default the
                region's own direction. Must be allowed by the region.
        """
        if size is None:
            size = self._size - offset
        return SharedMemoryRef(self, offset, size, direction or self.direction)

    # -- lifetime -----------------------------------------------------------

    def _check_open(self) -> None:
        if self._handle is None:
            raise ValueError("SharedMemory: operation on released shared memory")

    def _new_view(self) -> ctypes.Array:
        self._check_open()
        view = _view_type(self._size).from_address(self._ptr)
        view._owner = self  # views keep the region alive
        with self._lock:
            # ctypes arrays are unhashable, so no WeakSet: a pruned list.
            self._views = [r for r in self._views if r() is not None]
            self._views.append(weakref.ref(view))
        return view

    def _live_views(self) -> int:
        return sum(1 for r in self._views if r() is not None)

    def release(self) -> None:
        """Release the region. Harmless if already released.

        Raises:
            BufferError: memoryviews or numpy arrays of the region still
                exist (drop them first); the region is left intact.
        """
        with self._lock:
            if self._handle is None:
                return
            if self._busy:
                raise BufferError("SharedMemory.release: a TA call using this region "
                                  "is in progress")
            live = self._live_views()
            if live:
                raise BufferError(
                    f"SharedMemory.release: {live} view(s) of this "
                    f"{self._size}-byte region are still alive (memoryviews or numpy "
                    "arrays from .buffer/.array()); delete them before releasing")
            self._handle = None
            self._registered = None
            self._finalizer()

    def __enter__(self) -> SharedMemory:
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()

    def __repr__(self) -> str:
        state = "released" if self.released else self.direction
        return f"<SharedMemory {self._size} bytes, {state}>"

    def _use(self) -> int:
        """Mark the region in use by a call; returns the native handle."""
        with self._lock:
            if self._handle is None:
                raise ValueError("SharedMemory: a parameter refers to shared memory "
                                 "that was released before the call")
            self._busy += 1
            return self._handle

    def _unuse(self) -> None:
        with self._lock:
            self._busy -= 1


class SharedMemoryRef(Param):
    """Part of a :class:`SharedMemory` region passed as a parameter.

    After a call with direction ``out``/``inout``, ``size`` is the size the
    TA reported (larger than the range on ``TEEC_ERROR_SHORT_BUFFER``).
    """

    __slots__ = ("shm", "offset", "size", "_range", "direction")

    def __init__(self, shm: SharedMemory, offset: int, size: int,
                 direction: Direction) -> None:
        check_direction(direction, "SharedMemory.ref")
        if offset < 0 or size < 0 or offset + size > shm.size:
            raise ValueError(f"SharedMemory.ref: range [{offset}, {offset}+{size}) is "
                             f"outside the {shm.size}-byte region")
        allowed = _DIR_FLAGS[shm.direction]
        if _DIR_FLAGS[direction] & ~allowed:
            raise ValueError(f"SharedMemory.ref: direction {direction!r} is not allowed "
                             f"by a region created with direction {shm.direction!r}")
        self.shm = shm
        self.offset = offset
        self.size = size
        self._range = size
        self.direction: Direction = direction

    def _marshal(self, p: _abi.TscaParam, keep: list[object]) -> None:
        p.kind = _DIR_KINDS[self.direction]
        p.shm = self.shm._use()
        p.offset = self.offset
        p.size = self._range
        keep.append(self.shm)

    def _after_call(self) -> None:
        self.shm._unuse()

    def _unmarshal(self, p: _abi.TscaParam) -> None:
        if self.direction != "in":
            self.size = int(p.size)

    def _capacity(self) -> int | None:
        return self._range if self.direction != "in" else None

    @property
    def data(self) -> memoryview:
        """The bytes of the range the TA wrote (``min(size, range)`` bytes)."""
        return self.shm.buffer[self.offset: self.offset + min(self.size, self._range)]

    def __repr__(self) -> str:
        return (f"SharedMemoryRef(offset={self.offset}, size={self.size}, "
                f"direction={self.direction!r})")

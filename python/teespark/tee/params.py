"""Typed parameters of a TA command (the four GP parameter slots).

A command takes up to four parameters. Each is one of:

- :class:`Value`: two 32-bit integers, in, out or both;
- :class:`InBuffer`: bytes the TA reads (any C-contiguous buffer, no copy
  in Python);
- :class:`OutBuffer`: room the TA writes into; after the call ``size`` is
  the size the TA reported and ``data`` the bytes it wrote;
- :class:`InOutBuffer`: a writable buffer the TA reads and rewrites;
- a :class:`~teespark.tee.shared_memory.SharedMemory` region or a part of one
  (:meth:`~teespark.tee.shared_memory.SharedMemory.ref`), for bulk data.

As in the GP Client API, outputs are written back into the parameter objects,
also when the call fails (``TEEC_ERROR_SHORT_BUFFER`` reports the needed size
in ``size``; TAs report error details in value outputs).
"""

from __future__ import annotations

from typing import Literal, Union

import numpy as np

from teespark.tee import _abi

Direction = Literal["in", "out", "inout"]
#: Anything exposing the buffer protocol (bytes, bytearray, memoryview,
#: numpy arrays, mmap, ...).
BytesLike = Union[bytes, bytearray, memoryview, np.ndarray]

_DIRECTIONS = ("in", "out", "inout")


def check_direction(direction: str, where: str) -> Direction:
    """Validate a direction string, naming the caller in the error."""
    if direction not in _DIRECTIONS:
        raise ValueError(f"{where}: 'direction' must be one of {_DIRECTIONS}, "
                         f"got {direction!r}")
    return direction  # type: ignore[return-value]


def byte_view(obj: object, *, writable: bool, where: str) -> np.ndarray:
    """A flat uint8 numpy view of ``obj``'s memory, without copying.

    Read-only callers accept non-contiguous buffers (copied once); writable
    callers need a C-contiguous writable buffer.
    """
    try:
        arr = np.frombuffer(obj, dtype=np.uint8)  # type: ignore[call-overload]
    except (ValueError, TypeError, BufferError):
        if writable or not _has_buffer(obj):
            kind = "a C-contiguous writable buffer" if writable else "a bytes-like object"
            raise TypeError(f"{where}: expected {kind}, got {type(obj).__name__}") from None
        arr = np.frombuffer(memoryview(obj).tobytes(), dtype=np.uint8)  # type: ignore[arg-type]
    if writable and not arr.flags.writeable:
        raise TypeError(f"{where}: expected a writable buffer (bytearray, numpy "
                        f"array, ...), got read-only {type(obj).__name__}")
    return arr


def _has_buffer(obj: object) -> bool:
    try:
        memoryview(obj)  # type: ignore[arg-type]
    except TypeError:
        return False
    return True


def _address(arr: np.ndarray) -> int | None:
    # Empty buffers travel as NULL/0 (GP portability rule).
    return int(arr.ctypes.data) if arr.nbytes else None


class Param:
    """Base class of command parameters."""

    def _marshal(self, p: _abi.TscaParam, keep: list[object]) -> None:
        raise NotImplementedError

    def _unmarshal(self, p: _abi.TscaParam) -> None:
        """Copy outputs back (runs after failed calls too)."""

    def _after_call(self) -> None:
        """Undo what ``_marshal`` reserved; runs once per successful marshal."""

    def _capacity(self) -> int | None:
        """Bytes the TA may write, for output memory references."""
        return None


class Value(Param):
    """Two unsigned 32-bit integers ``a`` and ``b``.

    Args:
        a: first value (0 .. 2**32-1), sent for ``in``/``inout``.
        b: second value, likewise.
        direction: ``"in"``, ``"out"`` or ``"inout"``. For ``out`` and
            ``inout``, ``a`` and ``b`` hold the TA's values after the call.
    """

    __slots__ = ("a", "b", "direction")

    def __init__(self, a: int = 0, b: int = 0, *, direction: Direction = "in") -> None:
        for name, v in (("a", a), ("b", b)):
            if not isinstance(v, int) or not 0 <= v <= 0xFFFFFFFF:
                raise ValueError(f"Value: {name!r} must be an int in 0..2**32-1, got {v!r}")
        self.a = a
        self.b = b
        self.direction = check_direction(direction, "Value")

    @classmethod
    def output(cls) -> Value:
        """A value the TA writes (``direction="out"``)."""
        return cls(direction="out")

    def _marshal(self, p: _abi.TscaParam, keep: list[object]) -> None:
        p.kind = {"in": _abi.PARAM_VALUE_IN, "out": _abi.PARAM_VALUE_OUT,
                  "inout": _abi.PARAM_VALUE_INOUT}[self.direction]
        p.a = self.a
        p.b = self.b

    def _unmarshal(self, p: _abi.TscaParam) -> None:
        if self.direction != "in":
            self.a = int(p.a)
            self.b = int(p.b)

    def __repr__(self) -> str:
        return f"Value(a={self.a}, b={self.b}, direction={self.direction!r})"


class InBuffer(Param):
    """Bytes the TA reads.

    Args:
        data: any bytes-like object; C-contiguous buffers are passed without
            a copy in Python (the TEE copies or maps them). Large buffers
            (> 1 MiB) go through shared memory allocated for the call.
    """

    __slots__ = ("_arr",)

    def __init__(self, data: BytesLike) -> None:
        self._arr = byte_view(data, writable=False, where="InBuffer")

    @property
    def size(self) -> int:
        return int(self._arr.nbytes)

    def _marshal(self, p: _abi.TscaParam, keep: list[object]) -> None:
        p.kind = _abi.PARAM_BUF_IN
        p.buf = _address(self._arr)
        p.size = self._arr.nbytes
        keep.append(self._arr)


class OutBuffer(Param):
    """Room for the TA to write into.

    Args:
        size_or_buffer: a capacity in bytes (a new zeroed buffer is made),
            or a writable C-contiguous buffer to write into.

    After the call, ``size`` is the size the TA reported (more than
    ``capacity`` on ``TEEC_ERROR_SHORT_BUFFER``) and ``data`` the written part.
    """

    __slots__ = ("_arr", "_buffer", "size")

    def __init__(self, size_or_buffer: int | bytearray | memoryview | np.ndarray) -> None:
        if isinstance(size_or_buffer, int):
            if size_or_buffer < 0:
                raise ValueError(f"OutBuffer: size must be >= 0, got {size_or_buffer}")
            self._buffer: object = bytearray(size_or_buffer)
        else:
            self._buffer = size_or_buffer
        self._arr = byte_view(self._buffer, writable=True, where=type(self).__name__)
        self.size = int(self._arr.nbytes)

    @property
    def capacity(self) -> int:
        """Bytes available to the TA."""
        return int(self._arr.nbytes)

    @property
    def data(self) -> memoryview:
        """The bytes the TA wrote (the first ``min(size, capacity)`` bytes)."""
        return memoryview(self._arr)[: min(self.size, self.capacity)]

    def tobytes(self) -> bytes:
        """A copy of :attr:`data`."""
        return self.data.tobytes()

    def _kind(self) -> int:
        return _abi.PARAM_BUF_OUT

    def _marshal(self, p: _abi.TscaParam, keep: list[object]) -> None:
        p.kind = self._kind()
        p.buf = _address(self._arr)
        p.size = self._arr.nbytes
        keep.append(self._arr)

    def _unmarshal(self, p: _abi.TscaParam) -> None:
        self.size = int(p.size)

    def _capacity(self) -> int | None:
        return self.capacity


class InOutBuffer(OutBuffer):
    """A buffer the TA reads and rewrites in place.

    Args:
        buffer: a writable C-contiguous buffer, or bytes (copied into a new
            bytearray, readable afterwards through ``data``).
    """

    __slots__ = ()

    def __init__(self, buffer: BytesLike) -> None:
        if isinstance(buffer, int):
            raise TypeError("InOutBuffer: expected a buffer with the input bytes, "
                            "got an int (use OutBuffer(size) for output only)")
        if isinstance(buffer, bytes):
            buffer = bytearray(buffer)
        super().__init__(buffer)

    def _kind(self) -> int:
        return _abi.PARAM_BUF_INOUT

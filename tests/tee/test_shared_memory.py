"""SharedMemory: bulk round trips, partial references, lifetime rules."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from teespark.errors import EnclaveShortBufferError
from teespark.tee import SharedMemory, Value

MiB = 1 << 20


def test_64_mib_round_trip_through_shared_memory(session, cmd) -> None:
    n = 64 * MiB
    src = SharedMemory(n, direction="in")
    dst = SharedMemory(n, direction="out")
    a = b = None
    try:
        rng = np.random.default_rng(64)
        a = src.array(np.uint64)
        a[:] = rng.integers(0, 2**64, n // 8, dtype=np.uint64)
        b = dst.array(np.uint64)
        b[:] = 0
        out = dst.ref()
        session.invoke(cmd.ECHO_XOR, [src, out, Value.output()])
        assert out.size == n
        assert np.array_equal(b, a ^ np.uint64(0x5A5A5A5A5A5A5A5A))
    finally:
        a = b = None
        src.release()
        dst.release()


def test_partial_references_read_and_write_only_their_range(session, cmd, fnv) -> None:
    with SharedMemory(MiB) as shm:
        buf = shm.array()
        buf[:] = np.random.default_rng(1).integers(0, 256, MiB, dtype=np.uint8)
        before = buf.copy()
        src = shm.ref(4099, 5000, direction="in")
        dst = shm.ref(600_000, 10_000, direction="out")
        h = Value.output()
        session.invoke(cmd.ECHO_XOR, [src, dst, h])
        assert dst.size == 5000
        assert src.size == 5000
        expect = before.copy()
        expect[600_000:605_000] = before[4099:9099] ^ 0x5A
        assert np.array_equal(buf, expect)
        assert (h.a << 32 | h.b) == fnv(before[4099:9099].tobytes())
        assert dst.data.tobytes() == (before[4099:9099] ^ 0x5A).tobytes()
        del buf


def test_short_shared_output_reports_needed(session, cmd) -> None:
    with SharedMemory(4096) as shm:
        out = shm.ref(2048, 100, direction="out")
        with pytest.raises(EnclaveShortBufferError) as info:
            session.invoke(cmd.ECHO_XOR, [shm.ref(0, 1000, direction="in"), out,
                                          Value.output()])
        assert info.value.needed == 1000
        assert out.size == 1000


def test_ref_checks_range_and_direction() -> None:
    with SharedMemory(100, direction="in") as shm:
        with pytest.raises(ValueError, match="outside the 100-byte region"):
            shm.ref(90, 11)
        with pytest.raises(ValueError, match="direction 'out' is not allowed"):
            shm.ref(0, 10, direction="out")


def test_release_refuses_while_views_live_and_is_idempotent() -> None:
    shm = SharedMemory(4096)
    arr = shm.array(np.uint32)
    view = shm.buffer[10:20]
    del arr
    with pytest.raises(BufferError, match="1 view"):
        shm.release()  # the memoryview slice still points into it
    del view
    shm.release()
    shm.release()
    assert shm.released
    with pytest.raises(ValueError, match="released"):
        shm.buffer


def test_views_keep_unreleased_memory_alive() -> None:
    shm = SharedMemory(1024)
    arr = shm.array()
    arr[:] = 9
    del shm
    gc.collect()
    # The region was not freed under the array.
    assert int(arr.sum()) == 9 * 1024


def test_released_memory_cannot_be_passed(session, cmd) -> None:
    shm = SharedMemory(64)
    ref = shm.ref()
    shm.release()
    with pytest.raises(ValueError, match="released before the call"):
        session.invoke(cmd.ECHO_XOR, [ref, Value.output()])


def test_registered_numpy_buffer_receives_results(session, cmd) -> None:
    src = np.arange(1 << 16, dtype=np.uint32)
    dst = np.zeros_like(src)
    with SharedMemory.register(src, direction="in") as a, \
            SharedMemory.register(dst, direction="out") as b:
        session.invoke(cmd.ECHO_XOR, [a, b, Value.output()])
        assert np.array_equal(dst, src ^ np.uint32(0x5A5A5A5A))
        assert np.shares_memory(b.array(np.uint32), dst)


def test_register_rejects_empty_and_read_only_buffers() -> None:
    with pytest.raises(ValueError, match="'buffer' is empty"):
        SharedMemory.register(bytearray())
    with pytest.raises(TypeError, match="writable"):
        SharedMemory.register(b"read-only")  # type: ignore[arg-type]


def test_write_helper(session, cmd) -> None:
    with SharedMemory(16) as shm:
        assert shm.write(b"abc", offset=5) == 3
        assert shm.buffer[5:8].tobytes() == b"abc"
        with pytest.raises(ValueError, match="do not fit"):
            shm.write(b"x" * 12, offset=5)

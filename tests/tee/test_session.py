"""TaSession against the simulator's test TA: parameters, errors, lifetime."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from teespark.errors import (
    EnclaveBadParametersError,
    EnclaveShortBufferError,
    EnclaveUnavailableError,
)
from teespark.tee import InBuffer, InOutBuffer, OutBuffer, TaSession, Value
from teespark.tee import _abi
from teespark.tee import constants as c


def echo_xor(session, cmd, data) -> tuple[bytes, int]:
    n = memoryview(data).nbytes
    out = OutBuffer(n)
    h = Value.output()
    session.invoke(cmd.ECHO_XOR, [InBuffer(data), out, h])
    assert out.size == n
    return out.tobytes(), (h.a << 32) | h.b


def test_backend_is_the_simulator() -> None:
    assert _abi.backend() == "sim"
    assert _abi.library_path().name == "libteespark_ca.so"


@pytest.mark.parametrize("n", [0, 1, 4096, _abi.TEMP_MEMREF_MAX, _abi.TEMP_MEMREF_MAX + 1,
                               3 * _abi.TEMP_MEMREF_MAX + 5])
def test_echo_xor_round_trip_through_temporary_buffers(session, cmd, fnv, n) -> None:
    # Above 1 MiB the C layer bounces the buffers through shared memory.
    data = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8).tobytes()
    out, h = echo_xor(session, cmd, data)
    assert out == (np.frombuffer(data, np.uint8) ^ 0x5A).tobytes()
    if n <= 4096:
        assert h == fnv(data)


def test_in_buffer_accepts_numpy_and_non_contiguous_views(session, cmd, fnv) -> None:
    arr = np.arange(64, dtype=np.uint16)
    out, h = echo_xor(session, cmd, arr)
    assert out == (arr.view(np.uint8) ^ 0x5A).tobytes()
    strided = memoryview(bytes(range(100)))[::3]
    out, h = echo_xor(session, cmd, strided)
    assert h == fnv(bytes(range(100))[::3])


def test_short_buffer_reports_needed_size(session, cmd) -> None:
    data = bytes(300)
    out = OutBuffer(299)
    with pytest.raises(EnclaveShortBufferError) as info:
        session.invoke(cmd.ECHO_XOR, [InBuffer(data), out, Value.output()])
    err = info.value
    assert err.needed == 300
    assert out.size == 300 and out.capacity == 299
    assert err.code == c.TEEC_ERROR_SHORT_BUFFER
    assert err.origin == c.TEEC_ORIGIN_TRUSTED_APP
    assert err.command == f"cmd {cmd.ECHO_XOR}"
    assert "param 1 needs 300 bytes" in str(err)
    # The size query idiom: an empty output buffer.
    with pytest.raises(EnclaveShortBufferError) as info:
        session.invoke(cmd.ECHO_XOR, [InBuffer(data), OutBuffer(0), Value.output()])
    assert info.value.needed == 300


def test_value_copy_back_follows_direction(session, cmd) -> None:
    inout = Value(41, 0x0F0F0F0F, direction="inout")
    types = Value.output()
    vin = Value(5, 6)
    session.invoke(cmd.VALUES, [inout, types, InOutBuffer(b"abcd"), vin])
    assert (inout.a, inout.b) == (42, 0xF0F0F0F0)
    assert types.a == (c.TEEC_VALUE_INOUT | c.TEEC_VALUE_OUTPUT << 4
                       | c.TEEC_MEMREF_TEMP_INOUT << 8 | c.TEEC_VALUE_INPUT << 12)
    assert types.b == 0x5A5A
    assert (vin.a, vin.b) == (5, 6)


def test_out_and_inout_sizes_written_back(session, cmd) -> None:
    out = OutBuffer(64)
    io = InOutBuffer(bytearray(32))
    v = Value.output()
    session.invoke(cmd.FILL, [out, io, None, v])
    assert (out.size, io.size) == (32, 16)
    assert out.tobytes() == b"\xa0" * 32
    assert io.tobytes() == b"\xa1" * 16
    assert (v.a, v.b) == (0xC3, 0xFFFFFFFF ^ 0xC3)


def test_ta_rejecting_parameters_raises_bad_parameters(session, cmd) -> None:
    with pytest.raises(EnclaveBadParametersError) as info:
        session.invoke(cmd.ECHO_XOR, [Value(1)])
    assert info.value.code == c.TEEC_ERROR_BAD_PARAMETERS
    assert info.value.origin == c.TEEC_ORIGIN_TRUSTED_APP


def test_named_commands_appear_in_errors(open_test_ta, cmd) -> None:
    s = open_test_ta(command_names={cmd.ECHO_XOR: "ECHO_XOR"})
    with pytest.raises(EnclaveBadParametersError, match=r"^ECHO_XOR: TEEC_InvokeCommand\(cmd 0\)"):
        s.invoke(cmd.ECHO_XOR, [])
    assert s.command_name(cmd.ECHO_XOR) == "ECHO_XOR"


def test_missing_ta_raises_unavailable_naming_the_uuid() -> None:
    missing = "deadbeef-0001-4002-8003-040506070809"
    with pytest.raises(EnclaveUnavailableError, match=f"TA {missing} not found") as info:
        TaSession(missing)
    assert info.value.code == c.TEEC_ERROR_ITEM_NOT_FOUND
    assert "TEESPARK_SIM_TA_PATH" in str(info.value)


def test_close_twice_is_harmless_and_later_calls_fail(open_test_ta, cmd) -> None:
    s = open_test_ta()
    s.close()
    s.close()
    assert s.closed
    with pytest.raises(EnclaveUnavailableError, match="is closed"):
        s.invoke(cmd.GET_PID, [Value.output()])
    assert s.request_cancel() is False
    with TaSession(s.uuid) as s2:
        pid = Value.output()
        s2.invoke(cmd.GET_PID, [pid])
    assert s2.closed


@pytest.mark.parametrize("params, exc, message", [
    ([1], TypeError, r"params\[0\] must be a Value"),
    ([None] * 5, ValueError, "at most 4 parameters"),
])
def test_bad_arguments_are_named(session, cmd, params, exc, message) -> None:
    with pytest.raises(exc, match=message):
        session.invoke(cmd.GET_PID, params)


def test_param_validation() -> None:
    with pytest.raises(ValueError, match="'a' must be an int"):
        Value(-1)
    with pytest.raises(ValueError, match="'direction'"):
        Value(direction="sideways")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="writable"):
        OutBuffer(memoryview(b"read-only"))
    with pytest.raises(TypeError, match="bytes-like"):
        InBuffer("text")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a UUID"):
        TaSession("not-a-uuid")


def test_threads_sharing_one_session_get_their_own_results(session, cmd) -> None:
    results: dict[int, bool] = {}

    def worker(k: int) -> None:
        ok = True
        for i in range(20):
            data = bytes([(k * 31 + i) & 0xFF]) * (100 + k)
            out, _ = echo_xor(session, cmd, data)
            ok &= out == bytes(b ^ 0x5A for b in data)
        results[k] = ok

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {0: True, 1: True, 2: True, 3: True}

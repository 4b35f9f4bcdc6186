"""A dying TA raises EnclaveCrashedError; the next call runs on a fresh instance."""

from __future__ import annotations

import os
import signal
import time

import pytest

from teespark.errors import EnclaveCrashedError
from teespark.tee import SharedMemory, TaSession, Value
from teespark.tee import constants as c


def get_pid(s: TaSession, cmd) -> int:
    v = Value.output()
    s.invoke(cmd.GET_PID, [v])
    return v.a


def counter_inc(s: TaSession, cmd) -> int:
    v = Value.output()
    s.invoke(cmd.COUNTER_INC, [v])
    return v.a


@pytest.mark.parametrize("how", ["PANIC", "SEGFAULT", "ABORT"])
def test_crash_raises_then_next_call_opens_fresh_instance(open_test_ta, cmd, proc_state,
                                                          how) -> None:
    reopened: list[TaSession] = []
    s = open_test_ta(on_reopen=reopened.append)
    pid1 = get_pid(s, cmd)
    assert pid1 != os.getpid()  # the TA runs in its own process
    assert [counter_inc(s, cmd) for _ in range(3)] == [1, 2, 3]

    params = [Value(0xBAD)] if how == "PANIC" else []
    with pytest.raises(EnclaveCrashedError) as info:
        s.invoke(getattr(cmd, how), params)
    err = info.value
    assert err.code == c.TEEC_ERROR_TARGET_DEAD
    assert err.origin == c.TEEC_ORIGIN_TEE
    assert "0xffff3024 origin 3 (TEE)" in str(err)
    assert reopened == []  # lazily: only the next call reopens

    pid2 = get_pid(s, cmd)
    assert reopened == [s]
    assert s.reopen_count == 1
    assert pid2 != pid1
    assert counter_inc(s, cmd) == 1  # state of the dead instance is gone
    assert proc_state.wait_gone(pid1, 5.0) == "gone"


def test_on_reopen_can_restore_state_before_the_call(open_test_ta, cmd) -> None:
    # on_reopen runs before the call that triggered the reopen, and may
    # itself invoke commands (here: bring the counter back to 5).
    def restore(session: TaSession) -> None:
        for _ in range(5):
            counter_inc(session, cmd)

    s = open_test_ta(on_reopen=restore)
    with pytest.raises(EnclaveCrashedError):
        s.invoke(cmd.PANIC, [Value(1)])
    assert counter_inc(s, cmd) == 6


def test_shared_memory_survives_reopen(open_test_ta, cmd) -> None:
    s = open_test_ta()
    with SharedMemory(1 << 16) as src, SharedMemory(1 << 16) as dst:
        src.write(b"\x01" * (1 << 16))
        with pytest.raises(EnclaveCrashedError):
            s.invoke(cmd.SEGFAULT)
        s.invoke(cmd.ECHO_XOR, [src.ref(direction="in"), dst.ref(direction="out"),
                                Value.output()])
        assert dst.buffer.tobytes() == b"\x5b" * (1 << 16)


def test_crash_in_one_session_leaves_others_alone(open_test_ta, cmd) -> None:
    a, b = open_test_ta(), open_test_ta()
    assert counter_inc(b, cmd) == 1
    with pytest.raises(EnclaveCrashedError):
        a.invoke(cmd.ABORT)
    assert counter_inc(b, cmd) == 2
    assert b.reopen_count == 0


def test_ta_host_killed_from_outside_counts_as_a_crash(open_test_ta, cmd, proc_state) -> None:
    s = open_test_ta()
    pid1 = get_pid(s, cmd)
    os.kill(pid1, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while proc_state.state(pid1) == "alive" and time.monotonic() < deadline:
        time.sleep(0.02)
    with pytest.raises(EnclaveCrashedError) as info:
        get_pid(s, cmd)
    assert info.value.origin == c.TEEC_ORIGIN_TEE
    assert get_pid(s, cmd) not in (0, pid1)
    # The TA host is this process's child: the simulator must reap it.
    assert proc_state.wait_gone(pid1, 5.0) == "gone"

"""Process-level behaviour: heap limit, concurrent callers, killed callers, cancel."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time

import pytest

from teespark.errors import EnclaveCancelledError
from teespark.tee import Value
from teespark.tee import constants as c

MiB = 1 << 20


def test_allocation_past_heap_limit_is_out_of_memory(run_python) -> None:
    # TEESPARK_TA_DATA_SIZE must be set before the TA host starts, so this
    # runs in a fresh process. The test TA's own TA_DATA_SIZE is 4 MiB: the
    # 6 MiB allocation succeeding shows the override took effect.
    proc = run_python("""
        s = TaSession(UUID)
        out = {}
        v = Value.output(); s.invoke(CMD["GET_HEAP_LIMIT"], [v]); out["limit"] = v.a << 32 | v.b
        v = Value.output(); s.invoke(CMD["GET_PID"], [v]); pid = v.a
        s.invoke(CMD["ALLOC"], [Value(6)])
        try:
            s.invoke(CMD["ALLOC"], [Value(9)])
            out["oom"] = None
        except errors.EnclaveOutOfMemoryError as e:
            out["oom"] = [e.code, e.origin, str(e)]
        s.invoke(CMD["ALLOC"], [Value(4)])
        v = Value.output(); s.invoke(CMD["GET_PID"], [v]); out["same_pid"] = v.a == pid
        v = Value.output(); s.invoke(CMD["COUNTER_INC"], [v]); out["counter"] = v.a
        print(json.dumps(out))
    """, env={"TEESPARK_TA_DATA_SIZE": str(8 * MiB)})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["limit"] == 8 * MiB
    assert out["oom"] is not None, "9 MiB allocation succeeded under an 8 MiB heap"
    code, origin, message = out["oom"]
    assert code == c.TEEC_ERROR_OUT_OF_MEMORY
    assert origin == c.TEEC_ORIGIN_TRUSTED_APP
    assert "TA_DATA_SIZE" in message
    assert out["same_pid"] and out["counter"] == 1  # no crash, same instance


def test_sessions_in_separate_processes_run_concurrently(python_script) -> None:
    body = """
        s = TaSession(UUID)
        v = Value.output(); s.invoke(CMD["GET_PID"], [v])
        print("ready", flush=True)
        sys.stdin.readline()
        t0 = time.monotonic()
        s.invoke(CMD["SLEEP"], [Value(1500)])
        t1 = time.monotonic()
        print(json.dumps({"t0": t0, "t1": t1, "ta_pid": v.a, "pid": os.getpid()}))
    """
    procs = [subprocess.Popen(python_script(body), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    try:
        for p in procs:  # all sessions open before anyone sleeps
            assert p.stdout.readline().strip() == "ready", p.stderr.read()
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        results = []
        for p in procs:
            out, err = p.communicate(timeout=20)
            assert p.returncode == 0, err
            results.append(json.loads(out))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    # time.monotonic() is CLOCK_MONOTONIC: comparable across processes.
    assert max(r["t0"] for r in results) < min(r["t1"] for r in results), results
    assert all(r["t1"] - r["t0"] >= 1.4 for r in results)
    span = max(r["t1"] for r in results) - min(r["t0"] for r in results)
    assert span < 3.0, f"calls were serialized: {span:.2f}s for 3 x 1.5s"
    ta_pids = {r["ta_pid"] for r in results}
    assert len(ta_pids) == 3 and not ta_pids & {r["pid"] for r in results}


def test_killed_caller_leaves_no_ta_host(python_script, proc_state) -> None:
    body = """
        s = TaSession(UUID)
        v = Value.output(); s.invoke(CMD["GET_PID"], [v])
        print(v.a, flush=True)
        s.invoke(CMD["SLEEP"], [Value(30000)])
        print("woke up", flush=True)
    """
    with subprocess.Popen(python_script(body), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as p:
        try:
            line = p.stdout.readline()
            assert line.strip().isdigit(), p.stderr.read()
            ta_pid = int(line)
            assert proc_state.state(ta_pid) == "alive"
            time.sleep(0.3)  # let it enter SLEEP
            p.send_signal(signal.SIGKILL)
            p.wait(timeout=5)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert p.returncode == -signal.SIGKILL
    state = proc_state.wait_gone(ta_pid, 5.0)
    assert state == "gone", f"TA host {ta_pid} is still {state} 5 s after its caller died"


def test_cancel_from_another_thread(session, cmd) -> None:
    assert session.request_cancel() is False  # nothing running
    outcome: dict[str, object] = {}

    def sleeper() -> None:
        t0 = time.monotonic()
        try:
            session.invoke(cmd.SLEEP, [Value(10_000)])
            outcome["result"] = "completed"
        except EnclaveCancelledError as e:
            outcome["result"] = e
        outcome["elapsed"] = time.monotonic() - t0

    t = threading.Thread(target=sleeper)
    t.start()
    sent = 0
    deadline = time.monotonic() + 8
    # A request that arrives before the TA starts waiting is lost
    # (cancellation applies to calls in progress): repeat until it ends.
    while t.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
        sent += session.request_cancel()
    t.join()
    err = outcome["result"]
    assert isinstance(err, EnclaveCancelledError), err
    assert err.code == c.TEEC_ERROR_CANCEL
    assert sent >= 1
    assert outcome["elapsed"] < 3.0
    # The session still works afterwards.
    v = Value.output()
    session.invoke(cmd.COUNTER_INC, [v])
    assert v.a == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_cannot_use_parent_session(run_python) -> None:
    proc = run_python("""
        s = TaSession(UUID)
        v = Value.output(); s.invoke(CMD["GET_PID"], [v]); parent_ta = v.a
        r, w = os.pipe()
        child = os.fork()
        if child == 0:
            msg = {}
            try:
                s.invoke(CMD["GET_PID"], [Value.output()])
                msg["inherited"] = "worked"
            except errors.EnclaveError as e:
                msg["inherited"] = [e.code, str(e)]
            with TaSession(UUID) as own:
                v2 = Value.output(); own.invoke(CMD["GET_PID"], [v2]); msg["own"] = v2.a
            os.write(w, json.dumps(msg).encode()); os._exit(0)
        os.waitpid(child, 0)
        msg = json.loads(os.read(r, 4096))
        v = Value.output(); s.invoke(CMD["GET_PID"], [v])
        msg["parent_ok"] = v.a == parent_ta
        msg["parent_ta"] = parent_ta
        print(json.dumps(msg))
    """)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    code, message = out["inherited"]
    assert code == c.TEEC_ERROR_BAD_STATE and "before fork" in message
    assert out["own"] not in (0, out["parent_ta"])
    assert out["parent_ok"]

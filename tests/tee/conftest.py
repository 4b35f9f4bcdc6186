"""Fixtures for the tests of teespark.tee against the simulator's test TA.

These tests need the native parts built by `make -C enclave` (the simulator's
libteec.so, TA host, test TA and libteespark_ca.so). They are skipped only
when enclave/build/lib/libteec.so does not exist; anything else missing is a
failure. TEESPARK_BUILD_DIR selects another build directory.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("TEESPARK_BUILD_DIR", REPO / "enclave" / "build"))
LIBTEEC = BUILD / "lib" / "libteec.so"
TEST_TA_HEADER = REPO / "enclave" / "sim" / "tests" / "test_ta" / "include" / "sim_test_ta.h"
TEST_TA_UUID = "6aa0af66-8560-40fa-93d6-80c6912b560e"

try:
    import teespark  # noqa: F401
except ImportError:  # source checkout without an installed package
    sys.path.insert(0, str(REPO / "python"))


def _test_ta_commands() -> SimpleNamespace:
    # Command ids come from the test TA's header, not a copy.
    text = TEST_TA_HEADER.read_text()
    cmds = {m.group(1): int(m.group(2))
            for m in re.finditer(r"#define\s+SIM_TEST_CMD_(\w+)\s+(\d+)", text)}
    assert "ECHO_XOR" in cmds and "SLEEP" in cmds, "sim_test_ta.h changed shape"
    return SimpleNamespace(**cmds)


CMD = _test_ta_commands()


@pytest.fixture(scope="session", autouse=True)
def sim_env() -> Iterator[dict[str, str]]:
    """Point the binding at the build tree and the simulator at the test TA."""
    if not LIBTEEC.is_file():
        pytest.skip(f"{LIBTEEC} not built: run `make -C enclave` first")
    saved = {k: os.environ.get(k) for k in
             ("TEESPARK_NATIVE_DIR", "TEESPARK_SIM_TA_PATH", "PYTHONPATH")}
    ta_path = [str(BUILD / "test-ta"), str(BUILD / "lib" / "ta")]
    if saved["TEESPARK_SIM_TA_PATH"]:
        ta_path.append(saved["TEESPARK_SIM_TA_PATH"])
    os.environ["TEESPARK_NATIVE_DIR"] = str(BUILD / "lib")
    os.environ["TEESPARK_SIM_TA_PATH"] = ":".join(ta_path)
    # Child processes of the tests import teespark from this checkout.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO / "python"), saved["PYTHONPATH"]) if p)
    yield dict(os.environ)
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def cmd() -> SimpleNamespace:
    """Command ids of the simulator's test TA (from sim_test_ta.h)."""
    return CMD


@pytest.fixture
def open_test_ta() -> Iterator[Callable[..., object]]:
    """Factory for sessions with the test TA; all are closed at teardown."""
    from teespark.tee import TaSession

    sessions: list[TaSession] = []

    def factory(**kwargs: object) -> TaSession:
        s = TaSession(TEST_TA_UUID, **kwargs)  # type: ignore[arg-type]
        sessions.append(s)
        return s

    yield factory
    for s in sessions:
        s.close()


@pytest.fixture
def session(open_test_ta: Callable[..., object]) -> object:
    """One open session with the test TA."""
    return open_test_ta()


def fnv1a64(data: bytes) -> int:
    """FNV-1a 64, the hash the test TA computes (independent implementation)."""
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


@pytest.fixture
def fnv() -> Callable[[bytes], int]:
    return fnv1a64


PRELUDE = f"""
import json, os, sys, time
from teespark.tee import TaSession, Value
from teespark import errors
UUID = {TEST_TA_UUID!r}
CMD = {vars(CMD)!r}
"""


@pytest.fixture
def python_script() -> Callable[[str], list[str]]:
    """argv running a Python snippet (with PRELUDE) in a fresh interpreter."""
    def argv(body: str) -> list[str]:
        return [sys.executable, "-c", PRELUDE + textwrap.dedent(body)]
    return argv


@pytest.fixture
def run_python(python_script: Callable[[str], list[str]]) -> Callable[..., subprocess.CompletedProcess]:
    """Run a snippet to completion; returns the CompletedProcess (text)."""
    def run(body: str, env: dict[str, str] | None = None,
            timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run(python_script(body), capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, **(env or {})})
    return run


def process_state(pid: int) -> str:
    """'gone', 'zombie' or 'alive' for a pid, from /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return "gone"
    state = stat.rsplit(")", 1)[1].split()[0]
    return "zombie" if state in ("Z", "X") else "alive"


def wait_gone(pid: int, timeout: float) -> str:
    """Poll until pid disappears; returns the last state seen."""
    deadline = time.monotonic() + timeout
    state = process_state(pid)
    while state != "gone" and time.monotonic() < deadline:
        time.sleep(0.05)
        state = process_state(pid)
    return state


@pytest.fixture
def proc_state() -> SimpleNamespace:
    return SimpleNamespace(state=process_state, wait_gone=wait_gone)

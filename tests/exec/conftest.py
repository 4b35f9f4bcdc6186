"""Fixtures of the operator-command tests: a TA session on the simulator
(the real teespark TA from enclave/build), and drivers in both modes.
Skipped only when the simulator is not built."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("TEESPARK_BUILD_DIR", REPO / "enclave" / "build"))

try:
    import teespark  # noqa: F401
except ImportError:  # source checkout without an installed package
    sys.path.insert(0, str(REPO / "python"))


@pytest.fixture(scope="session", autouse=True)
def exec_sim_env() -> Iterator[None]:
    if not (BUILD / "lib" / "libteec.so").is_file():
        pytest.skip(f"{BUILD}/lib/libteec.so not built: run `make -C enclave` first")
    saved = {k: os.environ.get(k) for k in ("TEESPARK_NATIVE_DIR", "TEESPARK_SIM_TA_PATH",
                                            "TEESPARK_SIM_STORAGE_DIR")}
    os.environ["TEESPARK_NATIVE_DIR"] = str(BUILD / "lib")
    os.environ["TEESPARK_SIM_TA_PATH"] = str(BUILD / "lib" / "ta")
    os.environ.setdefault("TEESPARK_SIM_STORAGE_DIR", str(BUILD / "tests" / "ta-storage"))
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def ta(exec_sim_env: None) -> Iterator[object]:
    from teespark.tee import TeesparkTA
    with TeesparkTA() as t:
        yield t


@pytest.fixture(params=["oblivious", "encrypted"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def drv(ta: object, mode: str) -> object:
    from teespark.exec import LocalDriver
    return LocalDriver(ta, mode=mode, rows_per_block=64)

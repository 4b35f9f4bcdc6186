"""Fixtures for the KBS, evidence and key-release tests.

Two kinds of TA stand behind the KBS here:

- the real teespark TA in the simulator (``real_ta`` factory; skipped only
  when enclave/build/lib/libteec.so does not exist, or when the TA lacks the
  key-release commands);
- :class:`fake_ta.FakeTA`, a Python stand-in written from teespark_ta.h,
  which can produce evidence the real TA never would (a non-simulated TEE,
  another measurement) to drive the KBS's refusals.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("TEESPARK_BUILD_DIR", REPO / "enclave" / "build"))
LIBTEEC = BUILD / "lib" / "libteec.so"

for p in (str(REPO / "python"), str(Path(__file__).resolve().parent), str(REPO / "tests")):
    if p not in sys.path:
        sys.path.insert(0, p)

from fake_ta import FakeDevice, FakeTA  # noqa: E402 (after the sys.path setup)
from teespark.kbs import start_embedded_kbs  # noqa: E402

MEASUREMENT = bytes.fromhex("11" * 32)


@pytest.fixture(scope="session")
def device() -> FakeDevice:
    return FakeDevice()


@pytest.fixture(scope="session")
def other_device() -> FakeDevice:
    return FakeDevice()


class Owner:
    """A table owner's material for one test: ids, keys, recipients."""

    def __init__(self) -> None:
        self.table_id = os.urandom(16)
        self.key_id = os.urandom(16)
        self.data_key = os.urandom(32)
        self.recipient_id = os.urandom(16)
        self.recipient_pub = os.urandom(32)


@pytest.fixture
def owner() -> Owner:
    return Owner()


@pytest.fixture
def kbs(device: FakeDevice, owner: Owner) -> Iterator[Any]:
    """An embedded dev KBS with table 'bank/loans' allowing MEASUREMENT on ``device``."""
    with start_embedded_kbs() as k:
        k.trust_device_key((device.e, device.n), owner="bank")
        k.add_recipient(owner.recipient_id, owner.recipient_pub, owner="bank", name="risk-team")
        k.add_table("loans", owner="bank", table_id=owner.table_id, key_id=owner.key_id,
                    data_key=owner.data_key, measurements=[MEASUREMENT])
        yield k


def http_json(url: str, method: str, path: str, body: bytes | None = None,
              headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """One raw HTTP exchange with a KBS; returns (status, parsed JSON or bytes)."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    try:
        return resp.status, json.loads(data)
    except ValueError:
        return resp.status, data


def get_nonce(kbs: Any) -> bytes:
    status, doc = http_json(kbs.url, "GET", "/v1/nonce")
    assert status == 200, doc
    return base64.b64decode(doc["nonce"])


def post_keys(kbs: Any, evidence: bytes, tables: list[str], recipients: list[str] = (),
              **extra: Any) -> tuple[int, Any]:
    body = {"evidence": base64.b64encode(evidence).decode(), "tables": list(tables),
            "recipients": list(recipients), **extra}
    return http_json(kbs.url, "POST", "/v1/keys", json.dumps(body).encode())


@pytest.fixture
def fake_ta(device: FakeDevice) -> Callable[..., FakeTA]:
    def make(measurement: bytes = MEASUREMENT, **kw: Any) -> FakeTA:
        return FakeTA(device, measurement, **kw)
    return make


# --------------------------------------------------------------------------
# The real TA
# --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def sim_env() -> Iterator[None]:
    if not LIBTEEC.is_file():
        pytest.skip(f"{LIBTEEC} not built: run `make -C enclave` first")
    saved = {k: os.environ.get(k) for k in ("TEESPARK_NATIVE_DIR", "TEESPARK_SIM_TA_PATH")}
    os.environ["TEESPARK_NATIVE_DIR"] = str(BUILD / "lib")
    os.environ["TEESPARK_SIM_TA_PATH"] = str(BUILD / "lib" / "ta")
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def real_ta(sim_env: None) -> Iterator[Callable[[], Any]]:
    """Factory for sessions with the real teespark TA; all closed at teardown."""
    from teespark.tee.teespark_ta import TeesparkTA
    if not hasattr(TeesparkTA, "import_keys"):
        pytest.skip("the TA binding has no key-release commands yet")
    opened: list[Any] = []

    def make() -> Any:
        ta = TeesparkTA()
        opened.append(ta)
        return ta

    yield make
    for ta in opened:
        ta.close()


@pytest.fixture(scope="session")
def ta_measurement(sim_env: None) -> bytes:
    """The simulator TA's measurement, predicted from the .so file (teespark.attest)."""
    from teespark.attest.measurement import measure_ta_image
    image = BUILD / "lib" / "ta" / "83c7c701-68cf-4ff1-9ff7-4ba80b8f66ec.so"
    return measure_ta_image(image)

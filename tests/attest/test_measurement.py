"""teespark.attest.measurement against the simulator's attestation PTA.

The reference for the real TA images is the simulator itself:
``enclave/build/tests/sim_pta_measure <uuid>.so`` loads the image as the TA
host does and prints what PTA_ATTESTATION_HASH_TA_MEMORY reports. Synthetic
ELF files check the rule (which segments, which order) against a digest
computed by hand. Needs `make -C enclave`; skipped only when the simulator's
libteec.so is absent (anything else missing is a failure).
"""

from __future__ import annotations

import hashlib
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("TEESPARK_BUILD_DIR", REPO / "enclave" / "build"))
HELPER = BUILD / "tests" / "sim_pta_measure"
TA_UUID = "83c7c701-68cf-4ff1-9ff7-4ba80b8f66ec"
TEST_TA_UUID = "6aa0af66-8560-40fa-93d6-80c6912b560e"

try:
    import teespark  # noqa: F401
except ImportError:  # source checkout without an installed package
    sys.path.insert(0, str(REPO / "python"))

from teespark.attest.measurement import (
    MeasurementError,
    default_ta_image,
    measure_ta_image,
    ta_image_candidates,
)
from teespark.tee.constants import TA_TEESPARK_UUID_STR

native = pytest.mark.skipif(not (BUILD / "lib" / "libteec.so").is_file(),
                            reason="simulator not built (make -C enclave)")


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One device key for the module: RSA-3072 generation is the slow part.
    return tmp_path_factory.mktemp("sim-storage")


def pta_measurement(image: Path, storage: Path) -> bytes:
    assert HELPER.is_file(), f"{HELPER} missing: run `make -C enclave`"
    env = dict(os.environ, TEESPARK_SIM_STORAGE_DIR=str(storage))
    out = subprocess.run([str(HELPER), str(image)], env=env, capture_output=True,
                         text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    return bytes.fromhex(out.stdout.strip())


# ---- the real TA images -------------------------------------------------------

@native
@pytest.mark.parametrize("image", [
    BUILD / "lib" / "ta" / f"{TA_UUID}.so",
    BUILD / "test-ta" / f"{TEST_TA_UUID}.so",
], ids=["teespark-ta", "sim-test-ta"])
def test_matches_simulator_pta(image: Path, storage: Path) -> None:
    assert image.is_file(), f"{image} missing: run `make -C enclave`"
    m = measure_ta_image(image)
    assert len(m) == 32
    assert m == pta_measurement(image, storage)


@native
def test_default_image_matches_pta(storage: Path) -> None:
    image = default_ta_image()
    assert image.name == f"{TA_TEESPARK_UUID_STR}.so"
    assert measure_ta_image(image) == pta_measurement(image, storage)


@native
def test_edit_changes_both(tmp_path: Path, storage: Path) -> None:
    """One byte of read-only data changed: Python and the PTA both see it,
    and still agree; a byte of a writable segment changes neither."""
    src = BUILD / "lib" / "ta" / f"{TA_UUID}.so"
    before = measure_ta_image(src)
    image = bytearray(src.read_bytes())
    ro, rw = _last_bytes(bytes(image))

    edited = tmp_path / "ro" / f"{TA_UUID}.so"
    edited.parent.mkdir()
    image[ro] ^= 0x01
    edited.write_bytes(image)
    m = measure_ta_image(edited)
    assert m != before
    assert m == pta_measurement(edited, storage)

    image[ro] ^= 0x01
    image[rw] ^= 0x01
    same = tmp_path / "rw" / f"{TA_UUID}.so"
    same.parent.mkdir()
    same.write_bytes(image)
    assert measure_ta_image(same) == before
    assert pta_measurement(same, storage) == before


def _last_bytes(image: bytes) -> tuple[int, int]:
    """File offsets of the last byte of the last read-only non-executable
    PT_LOAD segment (.eh_frame / .rodata: not run by dlopen) and of the last
    file byte of a writable one."""
    phoff, = struct.unpack_from("<Q", image, 32)
    phentsize, phnum = struct.unpack_from("<HH", image, 54)
    ro = rw = None
    for i in range(phnum):
        p_type, p_flags, p_offset, _v, _p, p_filesz = struct.unpack_from(
            "<IIQQQQ", image, phoff + i * phentsize)
        if p_type != 1 or not p_filesz:
            continue
        if p_flags & 2:
            rw = p_offset + p_filesz - 1
        elif not p_flags & 1 and p_offset:
            ro = p_offset + p_filesz - 1
    assert ro is not None and rw is not None
    return ro, rw


# ---- the rule, on synthetic images --------------------------------------------

def _elf(segments: list[tuple[int, bytes]], trailer: bytes = b"",
         elf_class: int = 2) -> bytes:
    """A minimal ELF64 LE file: header, program headers, then each
    (p_flags, data) segment back to back, then `trailer` (outside every
    segment)."""
    phoff = 64
    data_off = phoff + 56 * len(segments)
    ident = b"\x7fELF" + bytes([elf_class, 1, 1]) + bytes(9)
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, phoff, 0, 0, 64,
                               56, len(segments), 64, 0, 0)
    phdrs, body, off = b"", b"", data_off
    for flags, data in segments:
        phdrs += struct.pack("<IIQQQQQQ", 1, flags, off, off, off, len(data),
                             len(data), 0x1000)
        body += data
        off += len(data)
    return ehdr + phdrs + body + trailer


R, RX, RW = 4, 5, 6


def test_rule_sorted_by_size_then_content(tmp_path: Path) -> None:
    big, small_b, small_a, rw = b"B" * 40, b"\x02" * 8, b"\x01" * 8, b"W" * 16
    path = tmp_path / "x.so"
    path.write_bytes(_elf([(RX, big), (RW, rw), (R, small_b), (R, small_a)],
                          trailer=b"section headers"))
    want = hashlib.sha256(small_a + small_b + big).digest()
    assert measure_ta_image(path) == want
    # Negative control: file (address) order would give another value.
    assert hashlib.sha256(big + small_b + small_a).digest() != want


def test_rule_ignores_writable_and_unmapped_bytes(tmp_path: Path) -> None:
    a = tmp_path / "a.so"
    b = tmp_path / "b.so"
    a.write_bytes(_elf([(RX, b"code" * 4), (RW, b"data" * 4)], trailer=b"x"))
    b.write_bytes(_elf([(RX, b"code" * 4), (RW, b"DATA" * 4)], trailer=b"y"))
    assert measure_ta_image(a) == measure_ta_image(b)
    c = tmp_path / "c.so"
    c.write_bytes(_elf([(RX, b"codE" * 4), (RW, b"data" * 4)], trailer=b"x"))
    assert measure_ta_image(c) != measure_ta_image(a)


def test_rejects_non_elf64(tmp_path: Path) -> None:
    p = tmp_path / "bad.so"
    p.write_bytes(b"#!/bin/sh\n" + bytes(100))
    with pytest.raises(MeasurementError):
        measure_ta_image(p)
    p.write_bytes(_elf([(RX, b"code")], elf_class=1))
    with pytest.raises(MeasurementError):
        measure_ta_image(p)
    p.write_bytes(_elf([(RW, b"data")]))
    with pytest.raises(MeasurementError):
        measure_ta_image(p)
    whole = _elf([(RX, b"code")])
    for cut in (100, len(whole) - 1):   # program header / segment cut short
        p.write_bytes(whole[:cut])
        with pytest.raises(MeasurementError):
            measure_ta_image(p)
    p.write_bytes(whole)                # negative control
    assert measure_ta_image(p) == hashlib.sha256(b"code").digest()


# ---- where the default image is looked for -----------------------------------

def test_default_image_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEESPARK_NATIVE_DIR", str(tmp_path))
    assert ta_image_candidates() == [tmp_path / "ta" / f"{TA_TEESPARK_UUID_STR}.so"]
    with pytest.raises(FileNotFoundError, match="TEESPARK_NATIVE_DIR"):
        default_ta_image()
    (tmp_path / "ta").mkdir()
    so = tmp_path / "ta" / f"{TA_TEESPARK_UUID_STR}.so"
    so.write_bytes(_elf([(RX, b"code")]))
    assert default_ta_image() == so


def test_default_image_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEESPARK_NATIVE_DIR", raising=False)
    pkg, checkout = ta_image_candidates()
    assert pkg.parent.parent.name == "_native"
    assert checkout == REPO / "enclave" / "build" / "lib" / "ta" / pkg.name

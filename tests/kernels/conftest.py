"""Fixtures of the kernel tests: the loaded kernel libraries, skipped with a
message saying how to build them only when they are missing."""
from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Tuple

import pytest

from kernels_ctypes import KERNELS_LIB, TRACE_LIB, Kernels


def _load(path: Path) -> Kernels:
    if not path.exists():
        pytest.skip(f"{path.name} not found in {path.parent}: build the kernels "
                    "first with 'make -C enclave'")
    return Kernels(path)


@pytest.fixture(scope="session")
def kernels() -> Kernels:
    """The shipped kernels (libteespark_kernels.so)."""
    return _load(KERNELS_LIB)


@pytest.fixture(scope="session")
def trace_kernels() -> Tuple[Kernels, ctypes.CDLL]:
    """The trace build and its digest functions."""
    k = _load(TRACE_LIB)
    lib = k.lib
    lib.obl_trace_reset.argtypes = []
    lib.obl_trace_reset.restype = None
    lib.obl_trace_digest.argtypes = []
    lib.obl_trace_digest.restype = ctypes.c_uint64
    lib.obl_trace_events.argtypes = []
    lib.obl_trace_events.restype = ctypes.c_uint64
    return k, lib

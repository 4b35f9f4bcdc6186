"""Fixtures of the operator tests: the loaded kernel libraries (shipped and
trace builds), skipped with a message saying how to build them only when
they are missing."""
from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Tuple

import pytest

from operators_ctypes import KERNELS_LIB, TRACE_LIB, Operators


def _load(path: Path) -> Operators:
    if not path.exists():
        pytest.skip(f"{path.name} not found in {path.parent}: build the kernels "
                    "first with 'make -C enclave'")
    return Operators(path)


@pytest.fixture(scope="session")
def ops() -> Operators:
    """The shipped operators (libteespark_kernels.so)."""
    return _load(KERNELS_LIB)


@pytest.fixture(scope="session")
def trace_ops() -> Tuple[Operators, ctypes.CDLL]:
    """The trace build and its digest functions."""
    o = _load(TRACE_LIB)
    lib = o.lib
    lib.obl_trace_reset.argtypes = []
    lib.obl_trace_reset.restype = None
    lib.obl_trace_digest.argtypes = []
    lib.obl_trace_digest.restype = ctypes.c_uint64
    lib.obl_trace_events.argtypes = []
    lib.obl_trace_events.restype = ctypes.c_uint64
    return o, lib

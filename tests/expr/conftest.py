"""Fixtures of the expression-evaluator tests: the loaded evaluator library
(skipped, with the command that builds it, only when it is missing)."""
from __future__ import annotations

import pytest
from expr_native import EXPR_LIB, EXPR_TRACE_LIB, Evaluator


def _load(path):
    if not path.exists():
        pytest.skip(f"{path.name} not found in {path.parent}: build it first with "
                    "'make -C enclave'")
    return Evaluator(path)


@pytest.fixture(scope="session")
def ev() -> Evaluator:
    """The shipped evaluator objects (libteespark_expr.so)."""
    return _load(EXPR_LIB)


@pytest.fixture(scope="session")
def ev_trace() -> Evaluator:
    """The trace build (libteespark_expr_trace.so) and its digest functions."""
    import ctypes
    e = _load(EXPR_TRACE_LIB)
    e.lib.obl_trace_reset.argtypes = []
    e.lib.obl_trace_reset.restype = None
    e.lib.obl_trace_digest.argtypes = []
    e.lib.obl_trace_digest.restype = ctypes.c_uint64
    e.lib.obl_trace_events.argtypes = []
    e.lib.obl_trace_events.restype = ctypes.c_uint64
    return e

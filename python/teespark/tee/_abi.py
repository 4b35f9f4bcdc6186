"""ctypes view of ``libteespark_ca.so``: the stable C ABI of ``teespark_ca.h``.

Only this module knows the C names and struct layouts. It mirrors the ABI's
own structs (``tsca_param``, ``tsca_error``), never the GP ``TEEC_*`` structs,
whose layouts differ between OP-TEE and iTrustee.

Where the library is looked for, first match wins:

1. ``$TEESPARK_NATIVE_DIR`` (if set, it must contain the library);
2. ``teespark/_native/`` next to this package (installed package layout: the
   top-level build copies ``enclave/build/lib/*`` there);
3. ``enclave/build/lib/`` of a source checkout.

The library finds ``libteec.so`` next to itself (rpath ``$ORIGIN``), and the
simulator finds its TA host and TAs relative to ``libteec.so``.
"""

from __future__ import annotations

import ctypes
import os
import threading
from ctypes import POINTER, c_char, c_char_p, c_uint8, c_uint32, c_uint64, c_void_p
from pathlib import Path

from teespark.errors import EnclaveUnavailableError

#: ABI version this binding speaks (TSCA_ABI_VERSION in teespark_ca.h).
ABI_VERSION = 1
LIBRARY_NAME = "libteespark_ca.so"
PARAM_COUNT = 4
MESSAGE_SIZE = 160
#: Caller buffers above this size are bounced through shared memory by the
#: C layer (iTrustee caps temporary memrefs at 1 MiB).
TEMP_MEMREF_MAX = 1 << 20

# tsca_param.kind
PARAM_NONE = 0
PARAM_VALUE_IN = 1
PARAM_VALUE_OUT = 2
PARAM_VALUE_INOUT = 3
PARAM_BUF_IN = 5
PARAM_BUF_OUT = 6
PARAM_BUF_INOUT = 7
PARAM_SHM_IN = 13
PARAM_SHM_OUT = 14
PARAM_SHM_INOUT = 15

# tsca_shm_alloc / tsca_shm_register flags
SHM_IN = 1
SHM_OUT = 2
SHM_INOUT = 3


class TscaParam(ctypes.Structure):
    """Mirror of ``tsca_param`` (48 bytes on LP64)."""

    _fields_ = [
        ("kind", c_uint32),
        ("a", c_uint32),
        ("b", c_uint32),
        ("reserved", c_uint32),
        ("buf", c_void_p),
        ("size", c_uint64),
        ("shm", c_void_p),
        ("offset", c_uint64),
    ]


class TscaError(ctypes.Structure):
    """Mirror of ``tsca_error``."""

    _fields_ = [
        ("code", c_uint32),
        ("origin", c_uint32),
        ("message", c_char * MESSAGE_SIZE),
    ]

    def text(self) -> str:
        return self.message.decode("utf-8", "replace")


ParamArray = TscaParam * PARAM_COUNT

_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_lib_path: Path | None = None


def _repo_build_dir() -> Path:
    # python/teespark/tee/_abi.py -> <checkout>/enclave/build/lib
    return Path(__file__).resolve().parents[3] / "enclave" / "build" / "lib"


def candidate_dirs() -> list[Path]:
    """Directories searched for the library, in order (see module docs)."""
    env = os.environ.get("TEESPARK_NATIVE_DIR")
    if env:
        return [Path(env)]
    return [Path(__file__).resolve().parent.parent / "_native", _repo_build_dir()]


def _find_library() -> Path:
    dirs = candidate_dirs()
    for d in dirs:
        if (d / LIBRARY_NAME).is_file():
            return d / LIBRARY_NAME
    where = ", ".join(str(d) for d in dirs)
    if os.environ.get("TEESPARK_NATIVE_DIR"):
        hint = "TEESPARK_NATIVE_DIR must name the directory holding it"
    else:
        hint = "run `make -C enclave` in a source checkout, or set TEESPARK_NATIVE_DIR"
    raise EnclaveUnavailableError(f"{LIBRARY_NAME} not found in {where}: {hint}")


def _declare(lib: ctypes.CDLL) -> None:
    P = POINTER
    lib.tsca_abi_version.argtypes = []
    lib.tsca_abi_version.restype = c_uint32
    lib.tsca_sizeof_param.argtypes = []
    lib.tsca_sizeof_param.restype = c_uint32
    lib.tsca_sizeof_error.argtypes = []
    lib.tsca_sizeof_error.restype = c_uint32
    lib.tsca_backend.argtypes = []
    lib.tsca_backend.restype = c_char_p
    lib.tsca_open.argtypes = [P(c_uint8 * 16), P(c_void_p), P(TscaError)]
    lib.tsca_open.restype = c_uint32
    lib.tsca_close.argtypes = [c_void_p]
    lib.tsca_close.restype = None
    lib.tsca_invoke.argtypes = [c_void_p, c_uint32, P(TscaParam), P(TscaError)]
    lib.tsca_invoke.restype = c_uint32
    lib.tsca_session_is_dead.argtypes = [c_void_p]
    lib.tsca_session_is_dead.restype = c_uint32
    lib.tsca_request_cancel.argtypes = [c_void_p]
    lib.tsca_request_cancel.restype = c_uint32
    lib.tsca_shm_alloc.argtypes = [c_uint64, c_uint32, P(c_void_p), P(c_void_p),
                                   P(TscaError)]
    lib.tsca_shm_alloc.restype = c_uint32
    lib.tsca_shm_register.argtypes = [c_void_p, c_uint64, c_uint32, P(c_void_p),
                                      P(TscaError)]
    lib.tsca_shm_register.restype = c_uint32
    lib.tsca_shm_size.argtypes = [c_void_p]
    lib.tsca_shm_size.restype = c_uint64
    lib.tsca_shm_release.argtypes = [c_void_p]
    lib.tsca_shm_release.restype = None


def load() -> ctypes.CDLL:
    """Load (once) and check the C ABI library.

    Raises:
        EnclaveUnavailableError: the library is missing, cannot be loaded, or
            speaks another ABI version.
    """
    global _lib, _lib_path
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        path = _find_library()
        try:
            lib = ctypes.CDLL(str(path))
        except OSError as exc:
            raise EnclaveUnavailableError(
                f"cannot load {path}: {exc}; rebuild with `make -C enclave`") from None
        _declare(lib)
        version = lib.tsca_abi_version()
        if version != ABI_VERSION:
            raise EnclaveUnavailableError(
                f"{path} implements tsca ABI version {version}, this teespark "
                f"speaks {ABI_VERSION}: rebuild the native parts (`make -C enclave`)")
        sizes = (lib.tsca_sizeof_param(), lib.tsca_sizeof_error())
        expected = (ctypes.sizeof(TscaParam), ctypes.sizeof(TscaError))
        if sizes != expected:
            raise EnclaveUnavailableError(
                f"{path}: tsca_param/tsca_error are {sizes} bytes, the binding "
                f"expects {expected}: mismatched build")
        _lib_path = path
        _lib = lib
        return lib


def library_path() -> Path:
    """Path of the loaded library (loads it if needed)."""
    load()
    assert _lib_path is not None
    return _lib_path


def backend() -> str:
    """``"sim"``, ``"optee"`` or ``"itrustee"``: the backend of the loaded library."""
    return load().tsca_backend().decode()

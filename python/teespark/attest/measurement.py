"""Expected measurement of the teespark TA, as the attestation PTA reports it.

OP-TEE's attestation PTA (``HASH_TA_MEMORY``) hashes the calling TA's
read-only memory regions, sorted by size and then by content (``memcmp``),
so that load addresses do not change the result. The teespark simulator's
PTA mirrors this on the TA's shared object: the measurement is

    SHA-256( concat( file bytes of every non-writable PT_LOAD segment
                     (p_offset .. p_offset + p_filesz),
                     sorted by (p_filesz, bytes) ) )

:func:`measure_ta_image` computes that value from the ``.so`` file alone, so
a verifier or key broker can derive the measurement it expects from the TA
it ships instead of trusting a value the device reports. Only ELF64
little-endian images are accepted (the simulator's TA builds). The value is
the *simulator's* measurement; on OP-TEE hardware the loaded regions are
page-granular and differ, so record a golden value there.

    >>> from teespark.attest.measurement import default_ta_image, measure_ta_image
    >>> measure_ta_image(default_ta_image()).hex()   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path
from typing import Union

from teespark.tee.constants import TA_TEESPARK_UUID_STR

__all__ = ["MeasurementError", "default_ta_image", "measure_ta_image", "ta_image_candidates"]

PathLike = Union[str, "os.PathLike[str]"]

_ELF_MAGIC = b"\x7fELF"
_ELFCLASS64 = 2
_ELFDATA2LSB = 1
_PT_LOAD = 1
_PF_W = 0x2
# Elf64_Ehdr after e_ident: e_type, e_machine, e_version, e_entry, e_phoff,
# e_shoff, e_flags, e_ehsize, e_phentsize, e_phnum, ...
_EHDR = struct.Struct("<HHIQQQIHHH")
_EHDR_SIZE = 64
# Elf64_Phdr: p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align
_PHDR = struct.Struct("<IIQQQQQQ")


class MeasurementError(ValueError):
    """The file is not an ELF64 little-endian image the simulator could load."""


def _segments(image: bytes) -> list[bytes]:
    if len(image) < _EHDR_SIZE or image[:4] != _ELF_MAGIC:
        raise MeasurementError("not an ELF file")
    if image[4] != _ELFCLASS64 or image[5] != _ELFDATA2LSB:
        raise MeasurementError("not an ELF64 little-endian image")
    (_type, _machine, _version, _entry, phoff, _shoff, _flags, _ehsize,
     phentsize, phnum) = _EHDR.unpack_from(image, 16)
    if phnum == 0 or phentsize < _PHDR.size:
        raise MeasurementError("no program headers")
    if phoff + phnum * phentsize > len(image):
        raise MeasurementError("program headers beyond the end of the file")
    segments = []
    for i in range(phnum):
        p_type, p_flags, p_offset, _vaddr, _paddr, p_filesz, _memsz, _align = \
            _PHDR.unpack_from(image, phoff + i * phentsize)
        if p_type != _PT_LOAD or p_flags & _PF_W or p_filesz == 0:
            continue
        if p_offset + p_filesz > len(image):
            raise MeasurementError(f"segment {i} extends beyond the end of the file")
        segments.append(image[p_offset:p_offset + p_filesz])
    if not segments:
        raise MeasurementError("no non-writable PT_LOAD segment")
    return segments


def measure_ta_image(path: PathLike) -> bytes:
    """The 32-byte measurement the simulator's attestation PTA reports for
    the TA image at ``path`` (see the module docs)."""
    image = Path(path).read_bytes()
    # Sorting bytes of equal length compares them as memcmp does.
    segments = sorted(_segments(image), key=lambda s: (len(s), s))
    h = hashlib.sha256()
    for s in segments:
        h.update(s)
    return h.digest()


def ta_image_candidates() -> list[Path]:
    """Where :func:`default_ta_image` looks, in order: ``$TEESPARK_NATIVE_DIR/ta``
    (only, when set), else ``teespark/_native/ta`` of the package, then
    ``enclave/build/lib/ta`` of a source checkout."""
    name = f"{TA_TEESPARK_UUID_STR}.so"
    env = os.environ.get("TEESPARK_NATIVE_DIR")
    if env:
        return [Path(env) / "ta" / name]
    package = Path(__file__).resolve().parent.parent
    checkout = package.parent.parent / "enclave" / "build" / "lib"
    return [package / "_native" / "ta" / name, checkout / "ta" / name]


def default_ta_image() -> Path:
    """Path of the teespark TA shared object (``<uuid>.so``) the simulator runs.

    Raises FileNotFoundError naming the places searched if there is none.
    """
    candidates = ta_image_candidates()
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError(
        "teespark TA image not found in " + ", ".join(str(c) for c in candidates)
        + ": run `make -C enclave`, or set TEESPARK_NATIVE_DIR")

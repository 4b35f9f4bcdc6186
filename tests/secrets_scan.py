"""Search text, files and directory trees for key material in any common encoding.

Reusable by every secrets-never-leak test (CLI, key broker, Spark jobs):

    scanner = SecretScanner({"master key": master, "data key loans": dk})
    scanner.assert_clean(proc.stdout, where="stdout of teespark encrypt")
    scanner.assert_tree_clean(tmp_path, exclude=[master_key_file])

A secret counts as leaked when any window of ``window`` consecutive bytes of
it (default 12, i.e. 96 bits: too long to occur by chance) appears as:

- raw bytes;
- hex, in either case;
- base64 or URL-safe base64 (with or without padding) at each of the three
  alignments the window can have inside a longer base64 string;
- Python's ``repr`` of the bytes (``\\x9a`` escapes), as an f-string with
  ``{key!r}`` would print it.

Windows catch partial leaks (half a key printed) and keys embedded in a
longer blob. Each encoding is checked by a negative control in
tests/cli/test_no_secrets_leak.py (the scanner must find a planted key).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Finding:
    secret: str       # the secret's label
    encoding: str     # raw, hex, base64@1, repr, ...
    where: str        # the text or file searched
    offset: int       # where the match starts (in the lower-cased haystack for hex)

    def __str__(self) -> str:
        return f"{self.secret} found as {self.encoding} in {self.where} at offset {self.offset}"


def _b64_aligned(window: bytes, align: int, encode) -> bytes:
    """The base64 characters that depend only on ``window`` when ``align`` bytes precede it."""
    enc = encode(bytes(align) + window + bytes(3))
    first_group = -(-align // 3)                 # groups before this one include prefix bytes
    last_group = (align + len(window)) // 3      # groups from here on include padding bytes
    return enc[4 * first_group:4 * last_group]


def encodings(secret: bytes, window: int = 12) -> list[tuple[str, bytes, bool]]:
    """(encoding name, needle, case_insensitive) for every window of ``secret``."""
    window = min(window, len(secret))
    needles: dict[tuple[bytes, bool], str] = {}
    for start in range(len(secret) - window + 1):
        part = secret[start:start + window]
        needles.setdefault((part, False), "raw")
        needles.setdefault((part.hex().encode(), True), "hex")
        needles.setdefault((repr(part)[2:-1].encode(), False), "repr")
        for align in range(3):
            for name, enc in (("base64", base64.b64encode),
                              ("urlsafe-base64", base64.urlsafe_b64encode)):
                needle = _b64_aligned(part, align, enc)
                if len(needle) >= 12:
                    needles.setdefault((needle, False), f"{name}@{align}")
    return [(name, needle, ci) for (needle, ci), name in needles.items()]


class SecretScanner:
    """Finds any of a set of labelled secrets in text, files or directory trees."""

    def __init__(self, secrets: Mapping[str, bytes], *, window: int = 12) -> None:
        if not secrets:
            raise ValueError("SecretScanner: no secrets to look for")
        self._needles = []
        for label, secret in secrets.items():
            if len(secret) < 8:
                raise ValueError(f"SecretScanner: secret {label!r} is too short to scan for")
            for name, needle, ci in encodings(secret, window):
                self._needles.append((label, name, needle, ci))

    def find(self, data: bytes | str, *, where: str) -> list[Finding]:
        """Every secret window found in ``data``."""
        raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else bytes(data)
        lower = raw.lower()
        found = []
        for label, name, needle, ci in self._needles:
            offset = (lower if ci else raw).find(needle)
            if offset >= 0:
                found.append(Finding(label, name, where, offset))
        return found

    def find_in_tree(self, root: str | os.PathLike[str], *,
                     exclude: Iterable[str | os.PathLike[str]] = ()) -> list[Finding]:
        """Every secret window in every regular file under ``root`` except ``exclude``."""
        skip = {Path(p).resolve() for p in exclude}
        found = []
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                path = Path(dirpath, name)
                if path.resolve() in skip or not path.is_file():
                    continue
                found += self.find(path.read_bytes(), where=str(path))
        return found

    def assert_clean(self, data: bytes | str, *, where: str) -> None:
        found = self.find(data, where=where)
        assert not found, "secret material leaked:\n" + "\n".join(map(str, found[:10]))

    def assert_tree_clean(self, root: str | os.PathLike[str], *,
                          exclude: Iterable[str | os.PathLike[str]] = ()) -> None:
        found = self.find_in_tree(root, exclude=exclude)
        assert not found, "secret material leaked:\n" + "\n".join(map(str, found[:10]))

"""Helpers for the CLI tests: run ``teespark`` in subprocesses, golden transcripts.

A uniquely named module (not conftest.py, which several test directories have)."""

from __future__ import annotations

import difflib
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
if str(TESTS) not in sys.path:  # for tests/secrets_scan.py
    sys.path.insert(0, str(TESTS))

#: A fixed master key, so master key ids in transcripts are stable.
KNOWN_MASTER_KEY = bytes.fromhex("5eed" * 16)
OTHER_MASTER_KEY = bytes.fromhex("0ddba11" + "0" * 57)


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str
    stdout_bytes: bytes = b""
    stderr_bytes: bytes = b""


@dataclass
class Cli:
    """Runs ``python -m teespark`` in ``cwd`` with HOME (hence the default keys) in ``home``."""

    cwd: Path
    home: Path
    transcript: list[str] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("TEESPARK_") and k not in ("XDG_CONFIG_HOME",)}
        env.update(HOME=str(self.home), COLUMNS="80", LC_ALL="C.UTF-8",
                   PYTHONPATH=os.pathsep.join(
                       [str(ROOT / "python")] + ([env["PYTHONPATH"]] if env.get(
                           "PYTHONPATH") else [])))
        env.pop("PYTHONWARNINGS", None)
        env.update(extra or {})
        return env

    def run(self, *args: str, env: dict[str, str] | None = None,
            expect: int | None = 0, stdin: bytes | None = None) -> Result:
        argv = [str(a) for a in args]
        proc = subprocess.run([sys.executable, "-m", "teespark", *argv], cwd=self.cwd,
                              env=self.env(env), input=stdin, capture_output=True,
                              timeout=120)
        res = Result(argv, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                     proc.stderr.decode("utf-8", "replace"), proc.stdout, proc.stderr)
        self.results.append(res)
        shown_env = " ".join(f"{k}=..." for k in sorted(env or {}))
        lines = [f"$ {shown_env + ' ' if shown_env else ''}teespark {shlex.join(argv)}",
                 f"[exit {res.returncode}]"]
        for name, text in (("stdout", res.stdout), ("stderr", res.stderr)):
            if text:
                lines.append(f"--- {name}")
                lines += text.rstrip("\n").split("\n")
        self.transcript.append("\n".join(lines))
        if expect is not None:
            assert res.returncode == expect, (
                f"teespark {shlex.join(argv)} exited {res.returncode}, expected {expect}\n"
                f"stdout:\n{res.stdout}\nstderr:\n{res.stderr}")
        return res

    def normalized_transcript(self) -> str:
        return normalize("\n\n".join(self.transcript) + "\n", self.cwd, self.home)


def normalize(text: str, cwd: Path, home: Path) -> str:
    """Replace what differs between runs: temp paths, random ids, times, file sizes."""
    text = text.replace(str(home), "$HOME").replace(str(cwd), "$TMP")
    ids: dict[str, str] = {}
    counters: dict[str, int] = {}

    def stable(prefix: str):
        def sub(m: re.Match[str]) -> str:
            value = m.group(0)
            if value not in ids:
                counters[prefix] = counters.get(prefix, 0) + 1
                ids[value] = f"<{prefix}{counters[prefix]}>"
            return ids[value]
        return sub
    # Random ids, numbered in order of first use so the transcript still shows
    # which id is the same as which: 32 hex = key and table ids, 16 hex = master key ids.
    text = re.sub(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", stable("id"), text)
    text = re.sub(r"(?<![0-9a-f])[0-9a-f]{16}(?![0-9a-f])", stable("mk"), text)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "<time>", text)
    # Parquet file sizes depend on the pyarrow version (footer metadata).
    text = re.sub(r"(on disk +)\d+( bytes in)", r"\1<n>\2", text)
    return text


def assert_golden(name: str, actual: str) -> None:
    """Compare with tests/cli/golden/<name>.txt (TEESPARK_UPDATE_GOLDEN=1 rewrites it)."""
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("TEESPARK_UPDATE_GOLDEN") == "1" or not path.exists():
        if not path.exists() and os.environ.get("TEESPARK_UPDATE_GOLDEN") != "1":
            pytest.fail(f"golden file {path} is missing; run with TEESPARK_UPDATE_GOLDEN=1 "
                        "to create it, then review it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
        return
    expected = path.read_text()
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                            f"golden/{name}.txt", "actual"))
        pytest.fail(f"CLI output differs from golden/{name}.txt "
                    f"(TEESPARK_UPDATE_GOLDEN=1 rewrites it):\n{diff}")


def write_master_key(path: Path, key: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, key.hex().encode() + b"\n")
    os.close(fd)
    return path


PEOPLE_CSV = (
    "id,name,city,balance,opened\n"
    "1,Ann Lee,Lyon,1250.50,2021-03-04\n"
    "2,Bo Chen,Paris,-20.00,2019-11-30\n"
    "3,Chloé Martin,\"Aix, Provence\",0.00,\n"
    "4,Dev Patel,,99999.99,2024-02-29\n"
)
PEOPLE_SCHEMA = ("id:int64 not null, name:string(16), city:string(16), "
                 "balance:decimal(12,2), opened:date")

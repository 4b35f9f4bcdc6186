"""Owner-side crypto benchmarks (``make bench-crypto``).

Runs, in one process on one machine, single-threaded:
- ``openssl speed -evp aes-256-gcm`` (encrypt and decrypt, ``-mr``, the +F
  line) at 16 KiB and 1 MiB: the ceiling for AES-GCM on this CPU;
- sealing throughput of ``teespark.crypto.block_seal.seal_block`` /
  ``open_block`` at 1 MiB blocks (MB/s of plaintext), and of the reusable
  ``BlockSealer`` that ``write_table`` / ``read_table`` use;
- end to end: ``write_table`` of an in-memory pyarrow table of about 200 MB
  of plaintext rows (row codec + sealing + Parquet write + fsync) and
  ``read_table`` of it back (Parquet read + opening + row decoding), in MB/s
  of plaintext rows.

Targets: sealing >= 40% of openssl speed (1 MiB, encrypt); end-to-end
encrypt >= 200 MB/s. Prints a table and writes bench/results/crypto.json and
crypto.md. Runs in well under 2 minutes (``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "python"))

SEAL_TARGET = 0.40          # sealing (BlockSealer, as write_table uses it) >= 40% of openssl, 1 MiB blocks
E2E_TARGET_MB_S = 200.0     # write_table >= 200 MB/s of plaintext rows
MIB = 1 << 20


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _cryptography_openssl() -> str:
    """The OpenSSL that the `cryptography` wheel (hence BlockSealer) links."""
    try:
        from cryptography.hazmat.backends.openssl.backend import backend
        return backend.openssl_version_text()
    except Exception:  # noqa: BLE001 - informational only
        return "?"


def openssl_speed(nbytes: int, decrypt: bool, seconds: int) -> float:
    """Bytes/s from the +F line of ``openssl speed -mr -evp aes-256-gcm -bytes N``."""
    cmd = ["openssl", "speed", "-mr", "-evp", "aes-256-gcm", "-bytes", str(nbytes),
           "-seconds", str(seconds)]
    if decrypt:
        cmd.insert(2, "-decrypt")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    match = re.search(r"^\+F:\d+:[^:]+:([0-9.]+)", out, re.MULTILINE)
    if not match:
        raise RuntimeError(f"cannot parse openssl speed output: {out!r}")
    return float(match.group(1))  # -mr +F reports bytes per second


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_sealing(total_mib: int, repeat: int) -> dict:
    """seal_block / open_block (and BlockSealer) on 1 MiB blocks."""
    from teespark.crypto.block_seal import (BlockHeader, BlockSealer, open_block,
                                            seal_block, sealed_size)

    key = os.urandom(32)
    plain = os.urandom(MIB)
    row_size = 64
    header = BlockHeader(b"bench-table-0001", 1, 0, 1, MIB // row_size, row_size, bytes(32))
    sealed = seal_block(key, header, plain)
    assert open_block(key, sealed)[1] == plain
    n = total_mib

    seal_s = _best(lambda: [seal_block(key, header, plain) for _ in range(n)], repeat)
    open_s = _best(lambda: [open_block(key, sealed) for _ in range(n)], repeat)
    sealer = BlockSealer(key)
    out = bytearray(sealed_size(MIB))
    scratch = bytearray(MIB)
    into_s = _best(lambda: [sealer.seal_into(header, plain, out) for _ in range(n)], repeat)
    open_into_s = _best(lambda: [sealer.open(sealed, out=scratch) for _ in range(n)], repeat)
    mb = n * MIB / 1e6
    return {"block_bytes": MIB, "blocks": n,
            "seal_block_mb_s": mb / seal_s, "open_block_mb_s": mb / open_s,
            "sealer_seal_into_mb_s": mb / into_s, "sealer_open_into_mb_s": mb / open_into_s}


def make_table(target_bytes: int):
    """An in-memory table of ~target_bytes plaintext rows, built without Python loops."""
    import numpy as np
    import pyarrow as pa

    from teespark.format.schema import Schema

    schema = Schema.from_spec("id:int64 not null, amount:decimal(12,2), qty:int32, "
                              "day:date, rate:float64, flag:bool, name:string(24), "
                              "code:string(8)")
    n = target_bytes // schema.row_size
    rng = np.random.default_rng(7)

    def strings(max_len: int, min_len: int) -> pa.Array:
        lengths = rng.integers(min_len, max_len + 1, n, dtype=np.int32)
        offsets = np.zeros(n + 1, np.int32)
        np.cumsum(lengths, out=offsets[1:])
        data = rng.integers(97, 123, int(offsets[-1]), dtype=np.uint8)
        return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))

    def decimal_cents(cents: np.ndarray) -> pa.Array:
        # decimal128 stores 16-byte little-endian unscaled integers: (low, sign) words.
        words = np.empty((n, 2), np.int64)
        words[:, 0] = cents
        words[:, 1] = np.where(cents < 0, -1, 0)
        return pa.Array.from_buffers(pa.decimal128(12, 2), n, [None, pa.py_buffer(words)])

    valid = rng.random(n) > 0.05  # 5% NULLs in the nullable columns
    cents = rng.integers(-10**9, 10**9, n)
    table = pa.table({
        "id": pa.array(np.arange(n, dtype=np.int64)),
        "amount": decimal_cents(cents),
        "qty": pa.array(rng.integers(0, 1000, n, dtype=np.int32), mask=~valid),
        "day": pa.array(rng.integers(0, 20000, n, dtype=np.int32)).cast(pa.date32()),
        "rate": pa.array(rng.random(n)),
        "flag": pa.array(rng.random(n) > 0.5),
        "name": strings(24, 4),
        "code": strings(8, 8),
    })
    return table, schema


def bench_end_to_end(target_bytes: int, repeat: int) -> dict:
    from teespark.format.table_files import read_table, write_table

    t0 = time.perf_counter()
    table, schema = make_table(target_bytes)
    built_s = time.perf_counter() - t0
    key, key_id = os.urandom(32), os.urandom(16)
    plain_bytes = table.num_rows * schema.row_size
    workdir = Path(tempfile.mkdtemp(prefix="teespark-bench-"))
    try:
        path = workdir / "t"

        def encrypt() -> None:
            write_table(table, path, data_key=key, key_id=key_id, table_name="bench",
                        schema=schema, overwrite=True)

        enc_s = _best(encrypt, repeat)
        sealed_bytes = sum(f.stat().st_size for f in path.iterdir())
        back = None

        def decrypt() -> None:
            nonlocal back
            back = read_table(path, data_key=key)

        dec_s = _best(decrypt, repeat)
        assert back.num_rows == table.num_rows
        assert back.column("id").equals(table.column("id"))  # cheap sanity check
        assert back.column("name").equals(table.column("name"))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {"rows": table.num_rows, "row_size": schema.row_size, "columns": len(schema),
            "schema": schema.to_spec(), "plaintext_bytes": plain_bytes,
            "on_disk_bytes": sealed_bytes, "table_build_s": built_s,
            "encrypt_s": enc_s, "decrypt_s": dec_s,
            "encrypt_mb_s": plain_bytes / enc_s / 1e6, "decrypt_mb_s": plain_bytes / dec_s / 1e6}


def render(r: dict) -> str:
    o = {x["bytes"]: x for x in r["openssl_speed"]}
    s = r["sealing"]
    e = r["end_to_end"]
    t = r["targets"]
    lines = [
        "# Owner-side crypto benchmarks",
        "",
        f"{r['date']}, {r['machine']['cpu']}, {r['machine']['cores']} cores, "
        f"Python {r['machine']['python']}, OpenSSL {r['machine']['openssl']}. "
        "Single-threaded; every figure is MB/s of plaintext (10^6 bytes/s), best of "
        f"{r['repeat']} runs, measured in the same run. Load average before the run: "
        f"{r['load_average_before']:.2f} (other work on the machine lowers every figure).",
        "",
        "## AES-256-GCM: openssl speed vs block sealing",
        "",
        "| what | block | encrypt / seal (MB/s) | decrypt / open (MB/s) |",
        "|---|---|---|---|",
    ]
    for n, row in sorted(o.items()):
        lines.append(f"| `openssl speed -evp aes-256-gcm` | {n // 1024} KiB | "
                     f"{row['encrypt'] / 1e6:.0f} | {row['decrypt'] / 1e6:.0f} |")
    lines += [
        f"| `seal_block` / `open_block` | 1024 KiB | {s['seal_block_mb_s']:.0f} | "
        f"{s['open_block_mb_s']:.0f} |",
        f"| `BlockSealer.seal_into` / `open(out=)` (what write/read_table use) | 1024 KiB | "
        f"{s['sealer_seal_into_mb_s']:.0f} | {s['sealer_open_into_mb_s']:.0f} |",
        "",
        f"The sealing rows run in-process through `cryptography` "
        f"({r['machine']['cryptography_openssl']}), which may be a newer OpenSSL than the "
        "`openssl` command's, hence ratios above 1. "
        "`seal_block` / `open_block` build a sealer and allocate fresh output buffers on "
        "every call (page faults on 1 MiB of new memory, plus a copy); `BlockSealer` reuses "
        "its key schedule and the caller's buffers.",
        "",
        "## End to end (pyarrow table in memory <-> encrypted table on disk)",
        "",
        f"{e['rows']} rows x {e['row_size']} bytes = {e['plaintext_bytes'] / 1e6:.0f} MB of "
        f"plaintext rows, schema `{e['schema']}`; {e['on_disk_bytes'] / 1e6:.0f} MB on disk. "
        "Encrypt = row codec + sealing + Parquet write + fsync; decrypt = Parquet read + "
        "opening + row decoding into Arrow.",
        "",
        "| step | seconds | MB/s |",
        "|---|---|---|",
        f"| encrypt (`write_table`) | {e['encrypt_s']:.2f} | {e['encrypt_mb_s']:.0f} |",
        f"| decrypt (`read_table`) | {e['decrypt_s']:.2f} | {e['decrypt_mb_s']:.0f} |",
        "",
        "## Targets",
        "",
        "| target | measured | result |",
        "|---|---|---|",
        f"| sealing >= {SEAL_TARGET:.0%} of openssl (1 MiB, encrypt) | "
        f"{t['seal_ratio']:.2f} of openssl | {'met' if t['seal_met'] else 'missed'} |",
        f"| end-to-end encrypt >= {E2E_TARGET_MB_S:.0f} MB/s | {e['encrypt_mb_s']:.0f} MB/s | "
        f"{'met' if t['e2e_met'] else 'missed'} |",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="small sizes, one repetition (a smoke test; results not written)")
    args = ap.parse_args(argv)
    seconds, total_mib, table_bytes, repeat = (1, 16, 16 * MIB, 1) if args.quick else \
        (2, 128, 200 * 10**6, 2)

    started = time.perf_counter()
    openssl_version = subprocess.run(["openssl", "version"], capture_output=True,
                                     text=True).stdout.strip()
    results: dict = {
        "machine": {"platform": platform.platform(), "cpu": _cpu_model(),
                    "cores": os.cpu_count(), "python": platform.python_version(),
                    "openssl": openssl_version.split()[1] if openssl_version else "?",
                    "cryptography_openssl": _cryptography_openssl()},
        "date": time.strftime("%Y-%m-%d %H:%M:%S"), "repeat": repeat,
        "load_average_before": os.getloadavg()[0],
    }
    print("running openssl speed -evp aes-256-gcm (16 KiB, 1 MiB) ...", flush=True)
    results["openssl_speed"] = [
        {"bytes": n, "encrypt": openssl_speed(n, False, seconds),
         "decrypt": openssl_speed(n, True, seconds)} for n in (16 * 1024, MIB)]
    print("running seal_block / open_block at 1 MiB ...", flush=True)
    results["sealing"] = bench_sealing(total_mib, repeat)
    print(f"running write_table / read_table on ~{table_bytes / 1e6:.0f} MB ...", flush=True)
    results["end_to_end"] = bench_end_to_end(table_bytes, repeat)

    openssl_1m = next(x for x in results["openssl_speed"] if x["bytes"] == MIB)
    seal_ratio = results["sealing"]["sealer_seal_into_mb_s"] * 1e6 / openssl_1m["encrypt"]
    results["targets"] = {
        "seal_ratio": seal_ratio, "seal_target": SEAL_TARGET, "seal_met": seal_ratio >= SEAL_TARGET,
        "e2e_encrypt_mb_s": results["end_to_end"]["encrypt_mb_s"],
        "e2e_target_mb_s": E2E_TARGET_MB_S,
        "e2e_met": results["end_to_end"]["encrypt_mb_s"] >= E2E_TARGET_MB_S,
    }
    results["runtime_s"] = time.perf_counter() - started
    md = render(results)
    print()
    print(md)
    print(f"(benchmark ran in {results['runtime_s']:.0f} s)")
    if not args.quick:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "crypto.json").write_text(json.dumps(results, indent=2) + "\n")
        (RESULTS / "crypto.md").write_text(md)
        print(f"wrote {RESULTS / 'crypto.json'} and {RESULTS / 'crypto.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

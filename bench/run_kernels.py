"""Kernel and TA benchmarks (``make bench-kernels``).

Runs, in one process tree on one machine:
- enclave/build/bench/bench_sort: oblivious bitonic sort vs glibc qsort on the
  same data (2^16 and 2^20 records of 16 and 64 bytes), and compaction;
- enclave/build/bench/bench_gp_aes_gcm: AES-256-GCM seal/open through the GP
  TEE Internal Core API as the TA calls it, vs OpenSSL EVP in the same process;
- `openssl speed -evp aes-256-gcm` (encrypt and decrypt) at the same sizes;
- enclave/build/bench/bench_ta_commands: the RESEAL_BLOCKS and SORT_BLOCKS
  commands run in-process against the TA code;
- SORT_BLOCKS end to end through the simulator (separate TA process, shared
  memory) from Python.

Prints a table and writes bench/results/kernels.json and kernels.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_BIN = ROOT / "enclave" / "build" / "bench"
RESULTS = ROOT / "bench" / "results"

AES_TARGET = 0.85     # TA AES-GCM at >= 85% of openssl speed
SORT_TARGET = 2.0     # bitonic 2^20 x 16 B within 2x of qsort


def json_lines(cmd: list[str]) -> list[dict]:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    text = out.strip()
    try:  # a single (possibly multi-line) JSON document
        doc = json.loads(text)
        return doc if isinstance(doc, list) else [doc]
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip().startswith("{")]


def openssl_speed(nbytes: int, decrypt: bool, seconds: int = 2) -> float:
    """Bytes/s of `openssl speed -evp aes-256-gcm` for one buffer size."""
    cmd = ["openssl", "speed", "-mr", "-evp", "aes-256-gcm", "-bytes", str(nbytes),
           "-seconds", str(seconds)]
    if decrypt:
        cmd.insert(2, "-decrypt")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    match = re.search(r"^\+F:\d+:[^:]+:([0-9.]+)", out, re.MULTILINE)
    if not match:
        raise RuntimeError(f"cannot parse openssl speed output: {out!r}")
    return float(match.group(1))


def sort_through_simulator(rows: int = 1 << 20, row_size: int = 16) -> dict:
    """SORT_BLOCKS end to end from Python: TA in its own process, data in shm."""
    import numpy as np

    from teespark.crypto.block_seal import BlockHeader, seal_block
    from teespark.tee.descriptor import build_table_descriptor
    from teespark.tee.teespark_ta import SortKey, TeesparkTA, pack_sort_request

    rng = np.random.default_rng(1)
    raw = rng.integers(0, 2**63, size=rows * row_size // 8, dtype=np.uint64).tobytes()
    key = os.urandom(32)
    schema = hashlib.sha256(b"bench").digest()
    per_block = (1 << 20) // row_size
    count = -(-rows // per_block)
    blocks = []
    for i in range(count):
        lo, hi = i * per_block, min(rows, (i + 1) * per_block)
        header = BlockHeader(b"bench-table-0001", 1, i, count, hi - lo, row_size, schema)
        blocks.append(seal_block(key, header, raw[lo * row_size:hi * row_size]))
    sealed = b"".join(blocks)
    request = pack_sort_request(keys=[SortKey("uint", 0, 8)], rows_per_block=per_block,
                                in_key_slot=0, out_key_slot=0,
                                out_table_id=b"bench-sorted-001", out_table_version=1,
                                schema_hash=schema)
    descriptor = build_table_descriptor(key, table_id=b"bench-table-0001", table_version=1,
                                        row_count=rows, row_size=row_size,
                                        rows_per_block=per_block, schema_hash=schema)
    with TeesparkTA() as ta:
        ta.install_dev_key(0, key)
        ta.register_table(descriptor, 0)  # block commands take registered tables
        ta.sort_blocks(sealed, request)  # warm-up (page faults, TA start)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            ta.sort_blocks(sealed, request)
            best = min(best, time.perf_counter() - t0)
    return {"bench": "sim_sort_blocks", "rows": rows, "row_size": row_size,
            "seconds": best, "mb_per_s": rows * row_size / best / 1e6,
            "rows_per_s": rows / best}


def main() -> int:
    RESULTS.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT / "python"))
    results: dict = {"machine": {"platform": platform.platform(),
                                 "cpu": _cpu_model(), "cores": os.cpu_count()},
                     "date": time.strftime("%Y-%m-%d %H:%M:%S")}

    print("running bench_sort ...", flush=True)
    results["sort"] = json_lines([str(BENCH_BIN / "bench_sort")])
    print("running bench_gp_aes_gcm ...", flush=True)
    results["gp_aes_gcm"] = json_lines([str(BENCH_BIN / "bench_gp_aes_gcm")])[0]
    print("running openssl speed ...", flush=True)
    sizes = [p["bytes"] for p in results["gp_aes_gcm"]["results"]]
    results["openssl_speed"] = [
        {"bytes": n, "encrypt": openssl_speed(n, False), "decrypt": openssl_speed(n, True)}
        for n in sizes]
    print("running bench_ta_commands ...", flush=True)
    results["ta_commands"] = json_lines([str(BENCH_BIN / "bench_ta_commands")])
    print("running SORT_BLOCKS through the simulator ...", flush=True)
    results["sim_sort"] = sort_through_simulator()

    md = render(results)
    (RESULTS / "kernels.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "kernels.md").write_text(md)
    print()
    print(md)
    return 0


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def render(r: dict) -> str:
    lines = ["# Kernel and TA benchmarks", "",
             f"{r['date']}, {r['machine']['cpu']}, {r['machine']['cores']} cores. "
             "Single-threaded. Ratios are measured in the same run on the same data.", "",
             "## Oblivious sort vs glibc qsort", "",
             "| kernel | n | record bytes | oblivious (s) | qsort (s) | ratio | target |",
             "|---|---|---|---|---|---|---|"]
    for p in r["sort"]:
        if p.get("kernel") == "sort_bitonic":
            target = (f"<= {SORT_TARGET}x " + ("met" if p["ratio"] <= SORT_TARGET else "MISSED")
                      if p["n"] == 1 << 20 and p["record_bytes"] == 16 else "")
            lines.append(f"| bitonic | 2^{p['n'].bit_length() - 1} | {p['record_bytes']} | "
                         f"{p['bitonic_s']:.4f} | {p['qsort_s']:.4f} | {p['ratio']:.2f} | "
                         f"{target} |")
    for p in r["sort"]:
        if p.get("kernel") == "compact_or":
            secs = p.get("seconds", p.get("compact_s", 0.0))
            lines.append(f"| compaction | 2^{p['n'].bit_length() - 1} | {p['record_bytes']} | "
                         f"{secs:.4f} | | | |")
    lines += ["", "## AES-256-GCM inside the TA vs openssl speed", "",
              "GP API = the simulator's GP TEE Internal Core API, as the TA calls it. "
              "`openssl speed -evp aes-256-gcm` ran in the same run.", "",
              "| bytes | GP seal (MB/s) | openssl enc (MB/s) | seal ratio | GP open (MB/s) | "
              "openssl dec (MB/s) | open ratio | target |",
              "|---|---|---|---|---|---|---|---|"]
    speed = {s["bytes"]: s for s in r["openssl_speed"]}
    for p in r["gp_aes_gcm"]["results"]:
        s = speed[p["bytes"]]
        seal_ratio = p["seal_gp"] / s["encrypt"]
        open_ratio = p["open_gp"] / s["decrypt"]
        ok = "met" if min(seal_ratio, open_ratio) >= AES_TARGET else "MISSED"
        lines.append(f"| {p['bytes']} | {p['seal_gp'] / 1e6:.0f} | {s['encrypt'] / 1e6:.0f} | "
                     f"{seal_ratio:.2f} | {p['open_gp'] / 1e6:.0f} | {s['decrypt'] / 1e6:.0f} | "
                     f"{open_ratio:.2f} | >= {AES_TARGET} {ok} |")
    lines += ["", "## TA commands", "",
              "| command | where | data | throughput |", "|---|---|---|---|"]
    for p in r["ta_commands"]:
        if p["bench"] == "ta_reseal_blocks":
            lines.append(f"| RESEAL_BLOCKS (open + seal) | in-process | "
                         f"{p['plaintext_bytes'] >> 20} MiB in {p['block_bytes'] >> 10} KiB "
                         f"blocks | {p['mb_per_s']:.0f} MB/s ({p['vs_openssl']:.2f}x an "
                         f"OpenSSL open+seal loop) |")
        elif p["bench"] == "ta_sort_blocks":
            lines.append(f"| SORT_BLOCKS | in-process | {p['rows']} rows x {p['row_size']} B | "
                         f"{p['mb_per_s']:.1f} MB/s, {p['rows_per_s'] / 1e6:.2f} M rows/s |")
    s = r["sim_sort"]
    lines.append(f"| SORT_BLOCKS | simulator (TA process, shared memory) | {s['rows']} rows x "
                 f"{s['row_size']} B | {s['mb_per_s']:.1f} MB/s, "
                 f"{s['rows_per_s'] / 1e6:.2f} M rows/s |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())

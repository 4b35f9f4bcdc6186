"""Relational operator benchmarks (``make bench-operators``).

Runs, in one process on one machine, single-threaded, against the real
teespark TA in the host simulator (separate TA process, shared memory):
filter, sort, aggregate (GROUP BY a key with ~1000 groups: SUM, COUNT(*),
AVG) and a PK-FK inner join, each at 10^5 and 10^6 rows (join: 10^5 FK x
10^4 PK and 10^6 FK x 10^5 PK rows), in both RUN_OPERATOR modes
(``oblivious`` and ``encrypted``), through :class:`teespark.exec.LocalDriver`;
and DuckDB running the same operation on the same plaintext with one thread
(``SET threads=1``), in the same run. A projection that copies every column
(each through a projection program) is measured too, for reference
(no target). Every time is the best of 3 runs (the whole benchmark
takes well under a minute).

Timed:
- TA call: ``TeesparkTA.run_operator`` alone (shared-memory transfer of the
  sealed inputs, opening, the operator, sealing the output);
- driver: ``LocalDriver.collect`` end to end (request planning, the TA call,
  opening and decoding the result into pandas);
- DuckDB: ``CREATE OR REPLACE TEMP TABLE r AS <query>`` over tables already
  loaded into DuckDB (the result materialized, as the TA materializes a
  sealed table).
Encrypting the inputs (``LocalDriver.load``) is not timed.

Every TA result is checked against DuckDB's (row count and the full result
columns: exact for integers, 1e-9 relative for AVG) before its time counts,
so a broken operator cannot produce a fast number.

Targets (the issue): oblivious sort and aggregate within 5x of encrypted
mode; oblivious PK-FK join of 10^6 x 10^5 rows within 8x of encrypted mode;
encrypted mode within 3x of single-threaded DuckDB (TA-call time).

The simulator's TA heap is raised to 512 MiB (``TEESPARK_TA_DATA_SIZE``,
read when the session opens) so every operator runs in-heap at 10^6 rows.

Prints a table and writes bench/results/operators.json and operators.md
(``--quick``: 10^4 rows only, one repetition, nothing written).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "python"))

TA_HEAP_BYTES = 512 << 20        # in-heap operation at 10^6 rows
ROWS_PER_BLOCK = 4096            # driver block capacity (inputs and outputs)
GROUPS = 1000                    # GROUP BY key cardinality
FILTER_SELECTIVITY = 0.10        # fraction of rows passing the filter
FK_MATCH = 1 / 1.1               # fraction of FK rows with a PK partner

OBL_TARGET = {"sort": 5.0, "aggregate": 5.0, "join": 8.0}   # oblivious / encrypted
OBL_TARGET_ROWS = {"sort": None, "aggregate": None, "join": 10**6}  # None: every size
DUCKDB_TARGET = 3.0              # encrypted TA call / DuckDB (1 thread)

# "project" copies every column through projection programs: a reference
# row (transfer, opening, one program per column per row, sealing n rows).
OPS = ("project", "filter", "sort", "aggregate", "join")
REPEAT = 3
MODES = ("encrypted", "oblivious")

FACT_SPEC = "id:int64 not null, k:int32 not null, v:int64 not null, fk:int64 not null"
PK_SPEC = "pk:int64 not null, w:int64 not null"


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def make_data(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A fact table of n rows and a PK table of n/10 rows.

    fact.v is unique (so the sort order is total), fact.k has GROUPS values,
    fact.fk hits a PK row for ~FK_MATCH of the rows; pk.pk is unique."""
    rng = np.random.default_rng(seed)
    n_pk = n // 10
    fact = pd.DataFrame({
        "id": np.arange(n, dtype=np.int64),
        "k": rng.integers(0, GROUPS, n).astype(np.int32),
        "v": rng.permutation(n).astype(np.int64) * 1000 + rng.integers(0, 1000, n),
        "fk": rng.integers(0, int(n_pk / FK_MATCH), n).astype(np.int64),
    })
    pk = pd.DataFrame({"pk": rng.permutation(n_pk).astype(np.int64),
                       "w": rng.integers(-10**6, 10**6, n_pk).astype(np.int64)})
    return fact, pk


def filter_threshold(n: int) -> int:
    return int(n * 1000 * FILTER_SELECTIVITY)


# --------------------------------------------------------------------------
# The same operation three ways: plan tree, DuckDB SQL, result check
# --------------------------------------------------------------------------


def plan(op: str, fact_t: Any, pk_t: Any, n: int) -> Any:
    from teespark.exec import Aggregate, Filter, Join, Project, Scan, Sort
    from teespark.ir import col

    if op == "project":
        return Project(Scan(fact_t), [(c, col(c)) for c in ("id", "k", "v", "fk")])
    if op == "filter":
        return Filter(Scan(fact_t), col("v") < filter_threshold(n))
    if op == "sort":
        return Sort(Scan(fact_t), [("v", True)])
    if op == "aggregate":
        return Aggregate(Scan(fact_t), ["k"], [("sv", "sum", "v"), ("cnt", "count_star", None),
                                               ("av", "avg", "v")])
    if op == "join":
        return Join(Scan(fact_t), Scan(pk_t), "inner", [("fk", "pk")], pk_side="right")
    raise ValueError(op)


def sql(op: str, n: int) -> str:
    if op == "project":
        return "SELECT id, k, v, fk FROM fact"
    if op == "filter":
        return f"SELECT * FROM fact WHERE v < {filter_threshold(n)}"
    if op == "sort":
        return "SELECT * FROM fact ORDER BY v"
    if op == "aggregate":
        return "SELECT k, sum(v) AS sv, count(*) AS cnt, avg(v) AS av FROM fact GROUP BY k"
    if op == "join":
        return "SELECT f.*, p.* FROM fact f JOIN pk p ON f.fk = p.pk"
    raise ValueError(op)


def check(op: str, got: pd.DataFrame, want: dict[str, np.ndarray]) -> dict:
    """Compare a TA result with DuckDB's; raise on any difference.

    Returns the row count and a checksum of the compared columns."""
    n_want = len(next(iter(want.values())))
    if len(got) != n_want:
        raise AssertionError(f"{op}: TA returned {len(got)} rows, DuckDB {n_want}")
    by = {"project": None, "filter": "id", "sort": None, "aggregate": "k", "join": "id"}[op]
    g = {c: np.asarray(got[c].to_numpy()) for c in want}
    w = {c: np.asarray(v) for c, v in want.items()}
    if by is not None:  # order-insensitive: compare sorted by a unique column
        gi, wi = np.argsort(g[by], kind="stable"), np.argsort(w[by], kind="stable")
        g = {c: v[gi] for c, v in g.items()}
        w = {c: v[wi] for c, v in w.items()}
    checksum = 0
    for c in want:
        if c == "av":
            if not np.allclose(g[c].astype(np.float64), w[c].astype(np.float64),
                               rtol=1e-9, atol=0):
                raise AssertionError(f"{op}: column {c} differs from DuckDB")
            checksum ^= int(np.round(g[c].astype(np.float64)).astype(np.int64).sum())
        else:
            if not np.array_equal(g[c].astype(np.int64), w[c].astype(np.int64)):
                raise AssertionError(f"{op}: column {c} differs from DuckDB")
            # position-weighted, so an order change in sort shows
            idx = np.arange(1, len(g[c]) + 1, dtype=np.int64)
            checksum ^= int((g[c].astype(np.int64) * idx).sum(dtype=np.int64))
    return {"out_rows": int(n_want), "checksum": f"{checksum & (2**64 - 1):016x}"}


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------


class TimedTA:
    """Delegates to a TeesparkTA, timing each run_operator call."""

    def __init__(self, ta: Any) -> None:
        self._ta = ta
        self.calls: list[float] = []

    def run_operator(self, *args: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return self._ta.run_operator(*args, **kw)
        finally:
            self.calls.append(time.perf_counter() - t0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ta, name)


def repeats_for(quick: bool) -> int:
    # The whole run takes well under a minute on a 2-core Xeon, so best of
    # REPEAT everywhere (the TA process is warm after the first call).
    return 1 if quick else REPEAT


def run_ta(sizes: list[int], data: dict[int, tuple[pd.DataFrame, pd.DataFrame]],
           duck_results: dict, quick: bool) -> list[dict]:
    from teespark.exec import LocalDriver
    from teespark.format.schema import Schema
    from teespark.tee import TeesparkTA

    fact_schema, pk_schema = Schema.from_spec(FACT_SPEC), Schema.from_spec(PK_SPEC)
    key_fact, key_pk = os.urandom(32), os.urandom(32)
    out = []
    os.environ["TEESPARK_TA_DATA_SIZE"] = str(TA_HEAP_BYTES)  # before the session opens
    for mode in MODES:
        # One session per mode: a driver numbers its tables from 1, so two
        # drivers must not share a session.
        with TeesparkTA() as raw_ta:
            ta = TimedTA(raw_ta)
            drv = LocalDriver(ta, mode=mode, rows_per_block=ROWS_PER_BLOCK)
            for n in sizes:
                fact, pk = data[n]
                t0 = time.perf_counter()
                fact_t = drv.load(fact, fact_schema, slot=0, key=key_fact)
                pk_t = drv.load(pk, pk_schema, slot=1, key=key_pk)
                load_s = time.perf_counter() - t0
                print(f"  {mode:9s} n={n:>8d}: loaded (encrypted) inputs in {load_s:.1f} s",
                      flush=True)
                for op in OPS:
                    node = plan(op, fact_t, pk_t, n)
                    reps = repeats_for(quick)
                    ta_s, drv_s, verified = float("inf"), float("inf"), None
                    for _ in range(reps):
                        ta.calls.clear()
                        t0 = time.perf_counter()
                        got = drv.collect(node)
                        d = time.perf_counter() - t0
                        if len(ta.calls) != 1:
                            raise AssertionError(f"{op}: expected one TA call, "
                                                 f"saw {len(ta.calls)}")
                        verified = check(op, got, duck_results[n][op]["result"])
                        ta_s, drv_s = min(ta_s, ta.calls[0]), min(drv_s, d)
                        del got
                    out.append({"op": op, "mode": mode, "rows": n,
                                "pk_rows": len(pk) if op == "join" else None,
                                "ta_call_s": ta_s, "driver_s": drv_s, "repeat": reps,
                                **verified})
                    print(f"  {mode:9s} n={n:>8d} {op:9s}: TA call {ta_s:8.3f} s, "
                          f"driver {drv_s:8.3f} s ({verified['out_rows']} rows, verified)",
                          flush=True)
    return out


def run_duckdb(sizes: list[int], data: dict, quick: bool) -> dict:
    import duckdb

    res: dict = {}
    con = duckdb.connect()

    def run(q: str) -> Any:  # every statement's result is consumed (DuckDB >= 2)
        return con.execute(q).fetchall()

    run("SET threads=1")
    threads = run("SELECT current_setting('threads')")[0][0]
    if int(threads) != 1:
        raise AssertionError(f"DuckDB threads={threads}, wanted 1")
    cols = {"project": ["id", "k", "v", "fk"], "filter": ["id", "k", "v", "fk"], "sort": ["id", "k", "v", "fk"],
            "aggregate": ["k", "sv", "cnt", "av"], "join": ["id", "k", "v", "fk", "pk", "w"]}
    for n in sizes:
        fact, pk = data[n]
        con.register("fact_df", fact)
        con.register("pk_df", pk)
        run("CREATE OR REPLACE TABLE fact AS SELECT * FROM fact_df")
        run("CREATE OR REPLACE TABLE pk AS SELECT * FROM pk_df")
        con.unregister("fact_df")
        con.unregister("pk_df")
        res[n] = {}
        for op in OPS:
            q = f"CREATE OR REPLACE TEMP TABLE r AS {sql(op, n)}"
            best = float("inf")
            for _ in range(repeats_for(quick)):
                t0 = time.perf_counter()
                run(q)
                best = min(best, time.perf_counter() - t0)
            result = con.execute(f"SELECT {', '.join(cols[op])} FROM r").fetchnumpy()
            res[n][op] = {"seconds": best, "rows": len(result[cols[op][0]]),
                          "result": {c: np.asarray(result[c]) for c in cols[op]}}
            print(f"  duckdb    n={n:>8d} {op:9s}: {best:8.3f} s "
                  f"({res[n][op]['rows']} rows)", flush=True)
    con.close()
    return res


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def summarize(ta_rows: list[dict], duck: dict) -> tuple[list[dict], list[dict]]:
    by = {(r["op"], r["mode"], r["rows"]): r for r in ta_rows}
    table, targets = [], []
    for n in sorted({r["rows"] for r in ta_rows}):
        for op in OPS:
            e, o = by[(op, "encrypted", n)], by[(op, "oblivious", n)]
            d = duck[n][op]["seconds"]
            row = {"op": op, "rows": n, "pk_rows": e["pk_rows"], "out_rows": e["out_rows"],
                   "checksum": e["checksum"],
                   "encrypted_ta_s": e["ta_call_s"], "encrypted_driver_s": e["driver_s"],
                   "oblivious_ta_s": o["ta_call_s"], "oblivious_driver_s": o["driver_s"],
                   "duckdb_s": d,
                   "obl_vs_enc": o["ta_call_s"] / e["ta_call_s"],
                   "enc_vs_duckdb": e["ta_call_s"] / d}
            table.append(row)
            if op in OBL_TARGET and (OBL_TARGET_ROWS[op] in (None, n)):
                lim = OBL_TARGET[op]
                targets.append({"target": f"oblivious {op} <= {lim:g}x encrypted", "op": op,
                                "rows": n, "measured": row["obl_vs_enc"], "limit": lim,
                                "met": row["obl_vs_enc"] <= lim})
            if op == "project":
                continue  # reference row, no target
            targets.append({"target": f"encrypted {op} <= {DUCKDB_TARGET:g}x DuckDB (1 thread)",
                            "op": op, "rows": n, "measured": row["enc_vs_duckdb"],
                            "limit": DUCKDB_TARGET, "met": row["enc_vs_duckdb"] <= DUCKDB_TARGET})
    return table, targets


def _size(n: int) -> str:
    e = int(round(np.log10(n)))
    return f"10^{e}" if 10**e == n else str(n)


def render(r: dict) -> str:
    m = r["machine"]
    lines = [
        "# Relational operator benchmarks",
        "",
        f"{r['date']}, {m['cpu']}, {m['cores']} cores, Python {m['python']}, "
        f"DuckDB {m['duckdb']}. Load average before the run: {r['load_average_before']:.2f}.",
        "",
        "RUN_OPERATOR through the real teespark TA in the host simulator (TA in its own "
        "process, inputs in shared memory), via `LocalDriver`, single-threaded, "
        f"{r['rows_per_block']} rows per block, TA heap {r['ta_heap_bytes'] >> 20} MiB "
        "(`TEESPARK_TA_DATA_SIZE`, every operator in-heap). DuckDB ran the same operation "
        "on the same plaintext in the same run with `SET threads=1`, timed as "
        "`CREATE TEMP TABLE r AS <query>` over tables already in DuckDB. "
        "TA call = `run_operator` alone (shared-memory transfer, opening the inputs, the "
        "operator, sealing the output); driver = `LocalDriver.collect` end to end (plus "
        "decrypting and decoding the result into pandas). Encrypting the inputs is not "
        f"timed. Every time is the best of {r['repeat']} runs. Project copies the 4 columns, "
        "each through a projection program, for reference (no target); the 10^6 filter, "
        "which reads every row but seals only 10%, bounds the fixed cost of a call from above. Every TA result was checked against DuckDB's (row count and every "
        "result column) before its time was kept.",
        "",
        f"Data: fact(`{FACT_SPEC}`), pk(`{PK_SPEC}`), pk rows = fact rows / 10. "
        f"Filter `v < ...` keeps {FILTER_SELECTIVITY:.0%}; sort by `v` (unique int64); "
        f"aggregate `GROUP BY k` ({GROUPS} groups) with SUM(v), COUNT(*), AVG(v); "
        f"join fact.fk = pk.pk (inner, PK on the right), ~{FK_MATCH:.0%} of fact rows match.",
        "",
        "| operator | rows | out rows | encrypted TA (s) | encrypted driver (s) | "
        "oblivious TA (s) | oblivious driver (s) | DuckDB (s) | obl / enc | enc / DuckDB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t in r["table"]:
        rows = _size(t["rows"]) + (f" x {_size(t['pk_rows'])}" if t["pk_rows"] else "")
        lines.append(
            f"| {'project (copy, reference)' if t['op'] == 'project' else t['op']} | {rows} | {t['out_rows']} | {t['encrypted_ta_s']:.3f} | "
            f"{t['encrypted_driver_s']:.3f} | {t['oblivious_ta_s']:.3f} | "
            f"{t['oblivious_driver_s']:.3f} | {t['duckdb_s']:.4f} | {t['obl_vs_enc']:.2f} | "
            f"{t['enc_vs_duckdb']:.1f} |")
    lines += ["", "Ratios use TA-call times.", "", "## Targets", "",
              "| target | rows | measured | result |", "|---|---|---|---|"]
    for t in r["targets"]:
        lines.append(f"| {t['target']} | {_size(t['rows'])} | {t['measured']:.2f}x | "
                     f"{'met' if t['met'] else 'missed'} |")
    met = sum(t["met"] for t in r["targets"])
    lines += ["", f"{met} of {len(r['targets'])} targets met.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="10^4 rows, one repetition (a smoke test; results not written)")
    args = ap.parse_args(argv)
    sizes = [10**4] if args.quick else [10**5, 10**6]

    import duckdb

    started = time.perf_counter()
    results: dict = {
        "machine": {"platform": platform.platform(), "cpu": _cpu_model(),
                    "cores": os.cpu_count(), "python": platform.python_version(),
                    "duckdb": duckdb.__version__},
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "load_average_before": os.getloadavg()[0],
        "ta_heap_bytes": TA_HEAP_BYTES, "rows_per_block": ROWS_PER_BLOCK,
        "duckdb_threads": 1, "repeat": repeats_for(args.quick),
    }
    data = {n: make_data(n, seed=n) for n in sizes}
    print("running DuckDB (threads=1) ...", flush=True)
    duck = run_duckdb(sizes, data, args.quick)
    print(f"running RUN_OPERATOR through the simulator (TA heap {TA_HEAP_BYTES >> 20} MiB) ...",
          flush=True)
    ta_rows = run_ta(sizes, data, duck, args.quick)
    results["ta"] = ta_rows
    results["duckdb"] = [{"op": op, "rows": n, "seconds": duck[n][op]["seconds"],
                          "out_rows": duck[n][op]["rows"]} for n in sizes for op in OPS]
    results["table"], results["targets"] = summarize(ta_rows, duck)
    results["runtime_s"] = time.perf_counter() - started
    md = render(results)
    print()
    print(md)
    print(f"(benchmark ran in {results['runtime_s']:.0f} s)")
    if not args.quick:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "operators.json").write_text(json.dumps(results, indent=2) + "\n")
        (RESULTS / "operators.md").write_text(md)
        print(f"wrote {RESULTS / 'operators.json'} and {RESULTS / 'operators.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

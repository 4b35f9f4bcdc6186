"""External sort (XSORT_* commands, teespark.exec.external_sort) on the simulator.

Inputs are sealed and outputs opened here with the ``cryptography`` package
(independent of the TA); results are compared with numpy's sort. The big
test sorts > 80 MiB of rows through a TA whose heap is 8 MiB
(TEESPARK_TA_DATA_SIZE, read by the simulator when the session opens).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from teespark.errors import (
    BlockAuthenticationError,
    BlockSequenceError,
    EnclaveError,
    EnclaveOutOfMemoryError,
)
from teespark.exec.external_sort import (
    external_sort,
    merge_schedule,
    plan_external_sort,
)
from teespark.tee import SortKey, TeesparkTA, pack_sort_request
from teespark.tee import constants as c
from teespark.tee.descriptor import build_table_descriptor, verify_table_descriptor
from teespark.tee.external_sort_ta import (
    xsort_chunk,
    xsort_emit,
    xsort_merge_split,
    xsort_start,
)
from teespark.tee.wire import BlockHeader, iter_block_headers

KEY_IN = bytes(range(32))
KEY_OUT = bytes(range(64, 96))
SCHEMA = bytes(range(100, 132))
OUT_ID = b"xsort-output-tbl"

# Row layout (64 bytes): int64 key with ties | float64 key | 8-byte bytes key |
# uint64 row id | 32 payload bytes.
ROW = np.dtype([("k_int", "<i8"), ("k_f64", "<f8"), ("k_bytes", "S8"), ("rid", "<u8"),
                ("pay", "V32")])
KEYS = [SortKey("int", 0, 8), SortKey("float64", 8, 8, descending=True),
        SortKey("bytes", 16, 8)]


def make_rows(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = np.zeros(n, dtype=ROW)
    rows["k_int"] = rng.integers(-20, 20, n)                      # many ties
    rows["k_f64"] = np.round(rng.normal(0, 3, n), 1)              # ties, negatives
    rows["k_bytes"] = rng.integers(0, 4, (n, 8), dtype=np.uint8).view("S8")[:, 0]
    rows["rid"] = np.arange(n, dtype=np.uint64)
    rows["pay"] = rng.integers(0, 256, (n, 32), dtype=np.uint8).view("V32")[:, 0]
    return rows


def numpy_order(rows: np.ndarray) -> np.ndarray:
    """Reference order: k_int asc, k_f64 desc, k_bytes asc (lexicographic)."""
    kb = np.frombuffer(rows.tobytes(), np.uint8).reshape(-1, ROW.itemsize)[:, 16:24]
    be = np.zeros(len(rows), dtype=np.uint64)
    for i in range(8):  # big-endian integer = lexicographic byte order
        be = (be << np.uint64(8)) | kb[:, i].astype(np.uint64)
    return np.lexsort((be, -rows["k_f64"], rows["k_int"]))


def seal_table(rows: np.ndarray, rows_per_block: int, table_id: bytes,
               version: int = 1) -> tuple[bytes, bytes]:
    raw = rows.tobytes()
    row_size = rows.dtype.itemsize
    n = len(rows)
    count = max(1, -(-n // rows_per_block))
    aead = AESGCM(KEY_IN)
    out = []
    for i in range(count):
        chunk = raw[i * rows_per_block * row_size:(i + 1) * rows_per_block * row_size]
        nonce = os.urandom(c.TS_NONCE_SIZE)
        hdr = BlockHeader(c.TS_BLOCK_MAGIC, c.TS_FORMAT_VERSION, c.TS_BLOCK_HEADER_SIZE,
                          table_id, version, i, count, len(chunk) // row_size, row_size,
                          SCHEMA, nonce, len(chunk)).pack()
        out.append(hdr + aead.encrypt(nonce, chunk, hdr))
    desc = build_table_descriptor(KEY_IN, table_id=table_id, table_version=version,
                                  row_count=n, row_size=row_size,
                                  rows_per_block=rows_per_block, schema_hash=SCHEMA)
    return b"".join(out), desc


def open_table(data: bytes) -> bytes:
    aead, parts, end = AESGCM(KEY_OUT), [], 0
    for off, h in iter_block_headers(data):
        end = off + c.TS_SEALED_BLOCK_SIZE(h.ciphertext_size)
        parts.append(aead.decrypt(h.nonce, data[off + c.TS_BLOCK_HEADER_SIZE:end],
                                  data[off:off + c.TS_BLOCK_HEADER_SIZE]))
    assert end == len(data)
    return b"".join(parts)


def check_sorted(rows: np.ndarray, out_desc: bytes, out_blocks: bytes) -> None:
    d = verify_table_descriptor(KEY_OUT, out_desc)
    assert d.row_count == len(rows) and d.table_id == OUT_ID
    got = np.frombuffer(open_table(out_blocks), dtype=ROW)
    want = rows[numpy_order(rows)]
    # Keys in numpy's order (the sort is not stable: ties may permute) ...
    for col in ("k_int", "k_f64", "k_bytes"):
        assert np.array_equal(got[col], want[col]), col
    # ... and the same rows.
    assert np.array_equal(np.sort(got["rid"]), np.arange(len(rows), dtype=np.uint64))
    back = got[np.argsort(got["rid"])]
    assert back.tobytes() == rows.tobytes()


@pytest.fixture
def heap_8mib() -> Iterator[None]:
    saved = os.environ.get("TEESPARK_TA_DATA_SIZE")
    os.environ["TEESPARK_TA_DATA_SIZE"] = str(8 << 20)
    yield
    if saved is None:
        os.environ.pop("TEESPARK_TA_DATA_SIZE", None)
    else:
        os.environ["TEESPARK_TA_DATA_SIZE"] = saved


@pytest.fixture
def xta(exec_sim_env: None) -> Iterator[TeesparkTA]:
    with TeesparkTA() as t:
        t.install_dev_key(0, KEY_IN)
        t.install_dev_key(1, KEY_OUT)
        yield t


def run_sort(ta: TeesparkTA, rows: np.ndarray, rows_per_block: int, *,
             run_rows: int | None = None, table_id: bytes = b"xsort-input-tbl!",
             out_rpb: int | None = None) -> object:
    blocks, desc = seal_table(rows, rows_per_block, table_id)
    ta.register_table(desc, 0)
    return external_sort(ta, blocks, desc, KEYS, in_key_slot=0, out_key_slot=1,
                         out_table_id=OUT_ID, out_table_version=3,
                         rows_per_block=out_rpb, run_rows=run_rows)


# --------------------------------------------------------------- schedule


def test_merge_schedule_sorts_every_01_input() -> None:
    for k in range(1, 11):
        pairs = list(merge_schedule(k))
        assert all(0 <= lo < hi < k for lo, hi in pairs)
        for x in range(1 << k):
            v = [(x >> i) & 1 for i in range(k)]
            for lo, hi in pairs:
                if v[lo] > v[hi]:
                    v[lo], v[hi] = v[hi], v[lo]
            assert v == sorted(v), (k, x)


def test_merge_schedule_is_a_function_of_the_run_count() -> None:
    assert list(merge_schedule(1)) == []
    assert list(merge_schedule(2)) == [(0, 1)]
    assert list(merge_schedule(3)) == [(0, 1), (1, 2), (0, 1)]
    assert len(list(merge_schedule(64))) == 64 // 4 * 6 * 7


# ------------------------------------------------------------ correctness


@pytest.mark.parametrize("n,rpb,run_rows,out_rpb", [
    (5000, 100, 256, None),       # 25 runs (not a power of two), ties
    (4097, 64, 128, 1000),        # last chunk short; output re-blocked
    (300, 300, None, 7),          # one run: no merge step
    (1, 1, None, None),
    (0, 10, None, None),
])
def test_external_sort_matches_numpy(xta: TeesparkTA, n: int, rpb: int,
                                     run_rows: int | None, out_rpb: int | None) -> None:
    rows = make_rows(n, seed=n)
    out = run_sort(xta, rows, rpb, run_rows=run_rows, out_rpb=out_rpb)
    check_sorted(rows, out.descriptor, out.blocks)
    assert out.rows == n
    if run_rows:
        blocks = -(-n // rpb)
        assert out.plan.runs == -(-blocks // (run_rows // rpb))


def test_other_key_types_uint_and_descending_int(xta: TeesparkTA) -> None:
    rng = np.random.default_rng(7)
    n, rs = 3001, 16
    raw = rng.integers(0, 256, (n, rs), dtype=np.uint8)
    raw[:, 0:4] = rng.integers(0, 5, (n, 1), dtype=np.uint32).view(np.uint8)  # uint32 ties
    raw[:, 8:16] = np.arange(n, dtype=np.int64)[:, None].view(np.uint8)
    blocks, desc = seal_table(np.frombuffer(raw.tobytes(), dtype=f"V{rs}"), 50,
                              b"xsort-uint-table")
    xta.register_table(desc, 0)
    keys = [SortKey("uint", 0, 4), SortKey("int", 8, 8, descending=True)]
    out = external_sort(xta, blocks, desc, keys, in_key_slot=0, out_key_slot=1,
                        out_table_id=OUT_ID, out_table_version=1, run_rows=64)
    got = np.frombuffer(open_table(out.blocks), dtype=np.uint8).reshape(n, rs)
    u = raw[:, 0:4].copy().view("<u4")[:, 0]
    i = raw[:, 8:16].copy().view("<i8")[:, 0]
    want = raw[np.lexsort((-i, u))]
    assert np.array_equal(got, want)  # (uint, int) is unique: one right order


# ----------------------------------------------------- bounded memory (big)


@pytest.mark.slow
def test_sort_80mib_through_8mib_heap(heap_8mib: None, exec_sim_env: None) -> None:
    n = (80 << 20) // ROW.itemsize + 4321          # > 80 MiB, not a multiple of a run
    rows = make_rows(n, seed=80)
    with TeesparkTA() as ta:
        ta.install_dev_key(0, KEY_IN)
        ta.install_dev_key(1, KEY_OUT)
        assert ta.get_info().heap_bytes == 8 << 20
        blocks, desc = seal_table(rows, 4096, b"xsort-80mib-tbl!")
        ta.register_table(desc, 0)
        assert len(blocks) > 10 * (8 << 20)
        # The in-heap sort cannot hold this table ...
        req = pack_sort_request(keys=KEYS, rows_per_block=4096, in_key_slot=0,
                                out_key_slot=1, out_table_id=OUT_ID, out_table_version=1,
                                schema_hash=SCHEMA)
        with pytest.raises(EnclaveOutOfMemoryError):
            ta.sort_blocks(blocks, req)
        # ... the external sort can.
        t0 = time.monotonic()
        out = external_sort(ta, blocks, desc, KEYS, in_key_slot=0, out_key_slot=1,
                            out_table_id=OUT_ID, out_table_version=2)
        elapsed = time.monotonic() - t0
    print(f"\nexternal sort: {n} rows, {len(blocks) / 2**20:.1f} MiB sealed, "
          f"{out.plan.runs} runs of {out.plan.run_rows} records, {out.plan.steps} "
          f"merge steps, 8 MiB heap: {elapsed:.1f} s")
    check_sorted(rows, out.descriptor, out.blocks)


# ---------------------------------------------------------- trace equality


def traced_sort(ta: TeesparkTA, rows: np.ndarray) -> list[tuple]:
    calls: list[tuple] = []
    real = ta.session.invoke

    def record(cmd: int, params=()):  # type: ignore[no-untyped-def]
        try:
            real(cmd, params)
        finally:
            shape = []
            for p in params:
                if p is None:
                    shape.append(None)
                elif hasattr(p, "a"):
                    shape.append(("value", p.a, p.b))
                else:
                    shape.append((type(p).__name__, p.size))
            calls.append((cmd, tuple(shape)))

    ta.session.invoke = record  # type: ignore[method-assign]
    try:
        out = run_sort(ta, rows, 100, run_rows=256, table_id=b"xsort-trace-tbl!")
    finally:
        del ta.session.invoke
    check_sorted(rows, out.descriptor, out.blocks)
    return calls


def test_ta_call_trace_independent_of_data(xta: TeesparkTA) -> None:
    n = 3333
    a = make_rows(n, seed=1)
    b = make_rows(n, seed=2)
    b["k_int"] = 5                                      # all equal first key
    s = a[numpy_order(a)].copy()
    s["rid"] = np.arange(n, dtype=np.uint64)            # already sorted input
    r = s[::-1].copy()
    r["rid"] = np.arange(n, dtype=np.uint64)            # reverse sorted
    traces = [traced_sort(xta, x) for x in (a, b, s, r)]
    merges = [t for t in traces[0] if t[0] == c.TA_TEESPARK_CMD_XSORT_MERGE_SPLIT]
    blocks = -(-n // 100)
    runs = -(-blocks // (256 // 100))                   # 17
    assert len(merges) == len(list(merge_schedule(runs))) > 0
    for t in traces[1:]:
        assert t == traces[0]
    # The trace does depend on the public shape (a check that can fail).
    assert traced_sort(xta, make_rows(n + 1000, seed=3)) != traces[0]


# -------------------------------------------------------------- integrity


def start_job(ta: TeesparkTA, rows: np.ndarray, rpb: int, run_rows: int) -> tuple:
    blocks, desc = seal_table(rows, rpb, b"xsort-attack-tb!")
    ta.register_table(desc, 0)
    plan = plan_external_sort(row_size=ROW.itemsize, rows_per_block=rpb,
                              block_count=-(-len(rows) // rpb), keys=KEYS,
                              heap_bytes=ta.get_info().heap_bytes, run_rows=run_rows)
    req = pack_sort_request(keys=KEYS, rows_per_block=rpb, in_key_slot=0, out_key_slot=1,
                            out_table_id=OUT_ID, out_table_version=1, schema_hash=SCHEMA)
    runs, steps = xsort_start(ta, req, b"xsort-attack-tb!",
                              blocks_per_chunk=plan.blocks_per_chunk, run_rows=run_rows)
    assert (runs, steps) == (plan.runs, plan.steps)
    offs = [o for o, _ in iter_block_headers(blocks)] + [len(blocks)]
    sealed = []
    for j in range(runs):
        lo, hi = j * plan.blocks_per_chunk, min((j + 1) * plan.blocks_per_chunk,
                                                  len(offs) - 1)
        sealed.append(xsort_chunk(ta, j, [blocks[offs[lo]:offs[hi]]], plan.run_size)[0])
    return plan, sealed


def test_stale_swapped_and_tampered_runs_are_refused(xta: TeesparkTA) -> None:
    rows = make_rows(800, seed=9)
    plan, runs = start_job(xta, rows, 100, 128)         # 8 runs
    sched = list(merge_schedule(plan.runs))
    lo, hi = sched[0]
    with pytest.raises(EnclaveError) as off_schedule:
        xsort_merge_split(xta, hi, lo, runs[hi], runs[lo])
    assert off_schedule.value.code == c.TEEC_ERROR_BAD_STATE
    with pytest.raises(BlockSequenceError):             # swapped
        xsort_merge_split(xta, lo, hi, runs[hi], runs[lo])
    bad = bytearray(runs[hi])
    bad[c.TS_BLOCK_HEADER_SIZE + 3] ^= 0x40
    with pytest.raises(BlockAuthenticationError):
        xsort_merge_split(xta, lo, hi, runs[lo], bytes(bad))
    stale = {lo: runs[lo]}
    runs[lo], runs[hi], _ = xsort_merge_split(xta, lo, hi, runs[lo], runs[hi])
    with pytest.raises(EnclaveError) as replay:         # the same step again
        xsort_merge_split(xta, lo, hi, runs[lo], runs[hi])
    assert replay.value.code == c.TEEC_ERROR_BAD_STATE
    for a, b in sched[1:]:
        if lo in (a, b) and stale:                      # an older epoch of run lo
            with pytest.raises(BlockSequenceError):
                xsort_merge_split(xta, a, b, stale.get(a, runs[a]), stale.get(b, runs[b]))
            stale.clear()
        runs[a], runs[b], _ = xsort_merge_split(xta, a, b, runs[a], runs[b])
    assert not stale
    n_out = -(-len(rows) // 100)
    size = c.TS_TABLE_DESCRIPTOR_SIZE + n_out * 112 + len(rows) * ROW.itemsize
    with pytest.raises(BlockSequenceError):             # a dropped run
        xsort_emit(xta, runs[:-1], size)
    desc, blocks, n, _count = xsort_emit(xta, runs, size)
    assert n == len(rows)
    check_sorted(rows, desc, blocks)

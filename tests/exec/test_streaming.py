"""Streaming GROUP BY and PK-FK join (STREAM command + external sort,
teespark.exec.streaming) on the simulator, with an 8 MiB TA heap.

Inputs are sealed and outputs opened here with the ``cryptography`` package
(independent of the TA); results are compared with pandas. The slow tests
run > 80 MiB of input rows through the 8 MiB heap.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from teespark.errors import EnclaveError, EnclaveOutOfMemoryError
from teespark.exec.streaming import (
    FLAG_WORD,
    StreamAgg,
    StreamKey,
    agg_out_row_size,
    aggregate_large,
    join_pkfk_large,
)
from teespark.tee import SortKey, TeesparkTA, pack_sort_request
from teespark.tee import constants as c
from teespark.tee.descriptor import build_table_descriptor, verify_table_descriptor
from teespark.tee.wire import BlockHeader, iter_block_headers

KEY_IN = bytes(range(32))
KEY_WORK = bytes(range(32, 64))
KEY_OUT = bytes(range(64, 96))
OUT_ID = b"stream-output-tb"

# Aggregate input (64 bytes): group key | int value | float value | uint32 |
# null byte (bit 0: f is NULL, bit 1: v is NULL) | padding.
AROW = np.dtype([("g", "<i8"), ("v", "<i8"), ("f", "<f8"), ("u", "<u4"), ("nb", "u1"),
                 ("pad", "V35")])
AGGS = [StreamAgg(c.TS_AGG_COUNT_STAR),
        StreamAgg(c.TS_AGG_SUM, "int", 8, 8, nullable=True, null_offset=28, null_bit=1),
        StreamAgg(c.TS_AGG_MIN, "int", 8, 8, nullable=True, null_offset=28, null_bit=1),
        StreamAgg(c.TS_AGG_MAX, "float64", 16, 8, nullable=True, null_offset=28, null_bit=0),
        StreamAgg(c.TS_AGG_AVG, "int", 8, 8, nullable=True, null_offset=28, null_bit=1),
        StreamAgg(c.TS_AGG_COUNT, "float64", 16, 8, nullable=True, null_offset=28,
                  null_bit=0),
        StreamAgg(c.TS_AGG_MAX, "uint", 24, 4)]
GKEYS = [StreamKey("int", 0, 8)]

# Join inputs: PK (32 bytes) id | name | pad; FK (40 bytes) fk | amount | rid | pad.
PROW = np.dtype([("id", "<i8"), ("name", "S8"), ("pad", "V16")])
FROW = np.dtype([("fk", "<i8"), ("amount", "<i8"), ("rid", "<u8"), ("pad", "V16")])


def seal(rows: np.ndarray, rpb: int, table_id: bytes, key: bytes = KEY_IN,
         schema: bytes = b"S" * 32) -> tuple[bytes, bytes]:
    raw = rows.tobytes()
    rs, n = rows.dtype.itemsize, len(rows)
    count = max(1, -(-n // rpb))
    aead, out = AESGCM(key), []
    for i in range(count):
        chunk = raw[i * rpb * rs:(i + 1) * rpb * rs]
        nonce = os.urandom(c.TS_NONCE_SIZE)
        hdr = BlockHeader(c.TS_BLOCK_MAGIC, c.TS_FORMAT_VERSION, c.TS_BLOCK_HEADER_SIZE,
                          table_id, 1, i, count, len(chunk) // rs, rs, schema, nonce,
                          len(chunk)).pack()
        out.append(hdr + aead.encrypt(nonce, chunk, hdr))
    desc = build_table_descriptor(key, table_id=table_id, table_version=1, row_count=n,
                                  row_size=rs, rows_per_block=rpb, schema_hash=schema)
    return b"".join(out), desc


def open_blocks(data: bytes, key: bytes = KEY_OUT) -> bytes:
    aead, parts, end = AESGCM(key), [], 0
    for off, h in iter_block_headers(data):
        end = off + c.TS_SEALED_BLOCK_SIZE(h.ciphertext_size)
        parts.append(aead.decrypt(h.nonce, data[off + c.TS_BLOCK_HEADER_SIZE:end],
                                  data[off:off + c.TS_BLOCK_HEADER_SIZE]))
    assert end == len(data)
    return b"".join(parts)


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
def sta(heap_8mib: None, exec_sim_env: None) -> Iterator[TeesparkTA]:
    with TeesparkTA() as t:
        assert t.get_info().heap_bytes == 8 << 20
        t.install_dev_key(0, KEY_IN)
        t.install_dev_key(1, KEY_WORK)
        t.install_dev_key(2, KEY_OUT)
        yield t


# -------------------------------------------------------------- aggregate


def make_agg_rows(n: int, groups: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r = np.zeros(n, dtype=AROW)
    r["g"] = rng.integers(-groups // 2, groups - groups // 2, n)
    r["v"] = rng.integers(-1000, 1000, n)
    r["f"] = np.round(rng.normal(0, 100, n), 2)
    r["u"] = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
    r["nb"] = rng.integers(0, 4, n) * (rng.random(n) < 0.2)
    return r


def pandas_aggregate(rows: np.ndarray) -> pd.DataFrame:
    df = pd.DataFrame({"g": rows["g"], "u": rows["u"].astype(np.int64),
                       "v": pd.Series(rows["v"]).astype("Int64"),
                       "f": rows["f"].copy()})
    df.loc[(rows["nb"] & 2) != 0, "v"] = pd.NA
    df.loc[(rows["nb"] & 1) != 0, "f"] = np.nan
    out = df.groupby("g").agg(cnt=("g", "size"), sum_v=("v", "sum"), min_v=("v", "min"),
                              max_f=("f", "max"), avg_v=("v", "mean"), cnt_f=("f", "count"),
                              max_u=("u", "max"))
    nv = df.groupby("g")["v"].count()
    out.loc[nv == 0, ["sum_v", "min_v", "avg_v"]] = pd.NA
    return out.sort_index()


def decode_agg(raw: bytes, row_size: int) -> pd.DataFrame:
    orow = agg_out_row_size(row_size, len(AGGS))
    a = np.frombuffer(raw, np.uint8).reshape(-1, orow)
    rs8 = (row_size + 7) & ~7
    vals = a[:, rs8:rs8 + 8 * len(AGGS)].copy().view("<i8")
    nulls = a[:, rs8 + 8 * len(AGGS):rs8 + 9 * len(AGGS)]
    g = a[:, 0:8].copy().view("<i8")[:, 0]
    f64 = vals.view("<f8")
    df = pd.DataFrame({"g": g, "cnt": vals[:, 0],
                       "sum_v": pd.array(np.where(nulls[:, 1], 0, vals[:, 1]), "Int64"),
                       "min_v": pd.array(vals[:, 2], "Int64"),
                       "max_f": np.where(nulls[:, 3], np.nan, f64[:, 3]),
                       "avg_v": np.where(nulls[:, 4], np.nan, f64[:, 4]),
                       "cnt_f": vals[:, 5], "max_u": vals[:, 6]})
    for col, j in (("sum_v", 1), ("min_v", 2)):
        df.loc[nulls[:, j] != 0, col] = pd.NA
    return df.set_index("g")


def check_agg(rows: np.ndarray, raw: bytes) -> None:
    got = decode_agg(raw, AROW.itemsize)
    assert list(got.index) == sorted(got.index)          # groups in key order
    want = pandas_aggregate(rows)
    assert list(got.index) == list(want.index)
    for col in ("cnt", "cnt_f", "max_u"):
        assert np.array_equal(got[col].to_numpy(), want[col].to_numpy(np.int64)), col
    for col in ("sum_v", "min_v"):
        assert got[col].equals(want[col].astype("Int64")), col
    for col in ("max_f", "avg_v"):
        np.testing.assert_allclose(got[col].to_numpy(float),
                                   want[col].astype(float).to_numpy(), rtol=1e-12,
                                   equal_nan=True)


def run_agg(ta: TeesparkTA, rows: np.ndarray, rpb: int, **kw: object) -> object:
    blocks, desc = seal(rows, rpb, b"stream-agg-input")
    ta.register_table(desc, 0)
    return aggregate_large(ta, blocks, desc, GKEYS, AGGS, in_key_slot=0, work_key_slot=1,
                           out_key_slot=2, out_table_id=OUT_ID, **kw)


@pytest.mark.parametrize("n,groups,rpb", [(20000, 700, 512), (5000, 1, 100), (1, 3, 4),
                                          (3001, 5000, 64)])
def test_aggregate_large_matches_pandas(sta: TeesparkTA, n: int, groups: int,
                                        rpb: int) -> None:
    rows = make_agg_rows(n, groups, seed=n)
    out = run_agg(sta, rows, rpb)
    d = verify_table_descriptor(KEY_OUT, out.descriptor)
    assert d.row_count == out.rows == out.real_rows == len(np.unique(rows["g"]))
    check_agg(rows, open_blocks(out.blocks))


def test_aggregate_large_padded(sta: TeesparkTA) -> None:
    rows = make_agg_rows(4000, 300, seed=4)
    out = run_agg(sta, rows, 256, reveal=False)
    assert out.real_rows is None and out.rows == len(rows)
    a = np.frombuffer(open_blocks(out.blocks), np.uint8).reshape(len(rows), out.row_size)
    flags = a[:, 0]
    m = int(flags.sum())
    assert m == len(np.unique(rows["g"]))
    assert np.all(flags[:m] == 1) and not a[m:].any()    # real first, dummies all zero
    check_agg(rows, a[:m, FLAG_WORD:].tobytes())


# ------------------------------------------------------------------- join


def make_join_rows(n_pk: int, n_fk: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pk = np.zeros(n_pk, dtype=PROW)
    pk["id"] = rng.permutation(np.arange(-n_pk, n_pk * 2, dtype=np.int64))[:n_pk]
    pk["name"] = rng.integers(0, 256, (n_pk, 8), dtype=np.uint8).view("S8")[:, 0]
    pk["pad"] = rng.integers(0, 256, (n_pk, 16), dtype=np.uint8).view("V16")[:, 0]
    fk = np.zeros(n_fk, dtype=FROW)
    fk["fk"] = rng.integers(-n_pk, max(1, n_pk * 2), n_fk)       # about 1/3 match
    fk["amount"] = rng.integers(-10**9, 10**9, n_fk)
    fk["rid"] = np.arange(n_fk, dtype=np.uint64)
    return pk, fk


def check_join(pk: np.ndarray, fk: np.ndarray, raw: bytes) -> None:
    jt = np.dtype([("p", PROW), ("f", FROW)])
    got = np.frombuffer(raw, jt)
    m = pd.merge(pd.DataFrame({"id": pk["id"], "i": np.arange(len(pk))}),
                 pd.DataFrame({"fk": fk["fk"], "rid": fk["rid"]}),
                 left_on="id", right_on="fk")
    assert len(got) == len(m)
    order = np.argsort(got["f"]["rid"])
    got = got[order]
    m = m.sort_values("rid")
    assert np.array_equal(got["f"]["rid"], m["rid"].to_numpy(np.uint64))
    assert got["f"].tobytes() == fk[m["rid"].to_numpy()].tobytes()
    assert got["p"].tobytes() == pk[m["i"].to_numpy()].tobytes()


def run_join(ta: TeesparkTA, pk: np.ndarray, fk: np.ndarray, rpb: int,
             **kw: object) -> object:
    pb, pdsc = seal(pk, rpb, b"stream-pk-table!", schema=b"P" * 32)
    fb, fdsc = seal(fk, rpb, b"stream-fk-table!", schema=b"F" * 32)
    ta.register_table(pdsc, 0)
    ta.register_table(fdsc, 0)
    return join_pkfk_large(ta, pb, pdsc, fb, fdsc, [SortKey("int", 0, 8)],
                           [SortKey("int", 0, 8)], pk_key_slot=0, fk_key_slot=0,
                           work_key_slot=1, out_key_slot=2, out_table_id=OUT_ID, **kw)


@pytest.mark.parametrize("n_pk,n_fk,rpb", [(3000, 20000, 500), (1, 50, 7), (400, 0, 64),
                                           (0, 30, 10)])
def test_join_pkfk_large_matches_pandas(sta: TeesparkTA, n_pk: int, n_fk: int,
                                        rpb: int) -> None:
    pk, fk = make_join_rows(n_pk, n_fk, seed=n_pk + n_fk)
    out = run_join(sta, pk, fk, rpb)
    d = verify_table_descriptor(KEY_OUT, out.descriptor)
    assert d.row_count == out.rows == out.real_rows
    check_join(pk, fk, open_blocks(out.blocks))


def test_join_pkfk_large_duplicate_pk_fails(sta: TeesparkTA) -> None:
    pk, fk = make_join_rows(100, 300, seed=5)
    pk["id"][7] = pk["id"][50]
    with pytest.raises(EnclaveError) as e:
        run_join(sta, pk, fk, 32)
    assert e.value.code == c.TS_ERROR_PK_DUPLICATE


# ------------------------------------------------------ trace equality


def traced(ta: TeesparkTA, fn, *args, **kw) -> list[tuple]:  # type: ignore[no-untyped-def]
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
        fn(ta, *args, **kw)
    finally:
        del ta.session.invoke
    return calls


def test_call_trace_independent_of_data(sta: TeesparkTA) -> None:
    n = 3000
    a = make_agg_rows(n, 400, seed=1)
    b = make_agg_rows(n, 1, seed=2)                     # one group
    s = make_agg_rows(n, 10**6, seed=3)                 # (almost) all distinct
    ta_ = [traced(sta, run_agg, x, 100, reveal=False) for x in (a, b, s)]
    assert any(t[0] == c.TA_TEESPARK_CMD_STREAM for t in ta_[0])
    assert ta_[1] == ta_[0] and ta_[2] == ta_[0]
    assert traced(sta, run_agg, make_agg_rows(n + 500, 400, seed=4), 100,
                  reveal=False) != ta_[0]               # the shape shows (can fail)
    pk1, fk1 = make_join_rows(500, 2000, seed=6)
    pk2, fk2 = make_join_rows(500, 2000, seed=7)
    fk2["fk"] = pk2["id"][0]                            # every FK row matches one PK
    t1 = traced(sta, run_join, pk1, fk1, 100, reveal=False)
    t2 = traced(sta, run_join, pk2, fk2, 100, reveal=False)
    assert t1 == t2
    assert traced(sta, run_join, pk1, fk1[:1000], 100, reveal=False) != t1


# -------------------------------------------------------- request checks


def test_stream_rejects_bad_requests(sta: TeesparkTA) -> None:
    from teespark.tee.streaming_ta import StreamRequest, pack_stream_request, stream

    rows = make_agg_rows(100, 5, seed=8)
    blocks, desc = seal(rows, 10, b"stream-bad-input")
    sta.register_table(desc, 0)
    base: dict[str, object] = {
        "mode": c.TS_STREAM_AGGREGATE, "out_table_id": OUT_ID, "out_table_version": 1,
        "out_schema_hash": b"x" * 32, "in0_key_slot": 0, "out_key_slot": 2, "keys": GKEYS,
        "aggs": AGGS}
    bad: list[dict[str, object]] = [
        {"aggs": [StreamAgg(c.TS_AGG_COUNT_DISTINCT, "int", 8, 8),   # two columns
                  StreamAgg(c.TS_AGG_COUNT_DISTINCT, "int", 0, 8)]},
        {"variant": 1},                                      # AGGREGATE has none
        {"keys": [StreamKey("int", 60, 8)]},                 # outside the row
        {"rows_per_block": 10},                              # fixed by the input
        {"mode": 9}]
    for b in bad:
        req = pack_stream_request(StreamRequest(**{**base, **b}))  # type: ignore[arg-type]
        with pytest.raises(EnclaveError):
            stream(sta, req, [blocks], 1 << 20)
    # The good request works (the checks above can pass only by rejection).
    req = pack_stream_request(StreamRequest(**base))  # type: ignore[arg-type]
    _d, _b, n, m = stream(sta, req, [blocks], 1 << 20)
    assert n == 100 and m == 0


# ---------------------------------------------------------- 80 MiB (slow)


@pytest.mark.slow
def test_aggregate_80mib_through_8mib_heap(sta: TeesparkTA) -> None:
    n = (80 << 20) // AROW.itemsize + 777
    rows = make_agg_rows(n, 50000, seed=80)
    blocks, desc = seal(rows, 4096, b"stream-agg-80mib")
    sta.register_table(desc, 0)
    assert len(blocks) > 80 << 20
    req = pack_sort_request(keys=[SortKey("int", 0, 8)], rows_per_block=4096, in_key_slot=0,
                            out_key_slot=1, out_table_id=OUT_ID, out_table_version=1,
                            schema_hash=b"S" * 32)
    with pytest.raises(EnclaveOutOfMemoryError):             # does not fit in the heap
        sta.sort_blocks(blocks, req)
    t0 = time.monotonic()
    out = aggregate_large(sta, blocks, desc, GKEYS, AGGS, in_key_slot=0, work_key_slot=1,
                          out_key_slot=2, out_table_id=OUT_ID)
    print(f"\nstreaming aggregate: {n} rows, {len(blocks) / 2**20:.1f} MiB sealed, "
          f"{out.real_rows} groups, 8 MiB heap: {time.monotonic() - t0:.1f} s")
    check_agg(rows, open_blocks(out.blocks))


@pytest.mark.slow
def test_join_80mib_through_8mib_heap(sta: TeesparkTA) -> None:
    n_pk = (8 << 20) // PROW.itemsize
    n_fk = (72 << 20) // FROW.itemsize + 555
    pk, fk = make_join_rows(n_pk, n_fk, seed=81)
    assert pk.nbytes + fk.nbytes >= 80 << 20
    t0 = time.monotonic()
    out = run_join(sta, pk, fk, 4096)
    print(f"\nstreaming PK-FK join: {n_pk} + {n_fk} rows "
          f"({(pk.nbytes + fk.nbytes) / 2**20:.1f} MiB), {out.real_rows} results, "
          f"8 MiB heap: {time.monotonic() - t0:.1f} s")
    check_join(pk, fk, open_blocks(out.blocks))


def test_struct_layout_of_agg_output() -> None:
    assert agg_out_row_size(64, 7) == 64 + 56 + 8
    assert struct.calcsize("<q") == 8
